# The terminal context (lib/runtime) at the level of its internals; the runtime against the
# call-center emulator through the public API is test/integration/test_runtime.c.

# Hardening (issue 9): allocation failure swept through dlv_ctx_create's start-up: config,
# templates and cached orders (alloc_sweep.h).
dlv_unit_test(test_runtime_alloc SOURCES unit/test_runtime_alloc.c unit/alloc_sweep.c
    MODULES common config order print store net doctor runtime
    LIBS PkgConfig::LIBUV PkgConfig::CURL PkgConfig::SQLITE3 TIMEOUT 600)
# A whole session against the call-center emulator at debug log level: no personal data, token
# or terminalId in any log line. Links the shared library like the runtime tests; labelled
# integration (not run under valgrind by the unit memcheck stage).
if(TARGET delivery-callcenter)
    dlv_unit_test(test_runtime_logs SOURCES unit/test_runtime_logs.c
        LIBS dlv_testnet delivery PkgConfig::SQLITE3 PkgConfig::CJSON Threads::Threads
        TIMEOUT 180)
    set_tests_properties(test_runtime_logs PROPERTIES LABELS integration)
endif()

# The runtime's sync driven through a fake call-center backend (test/common/fakebackend.c): no
# emulator process, every answer scripted.
dlv_unit_test(test_runtime_sync SOURCES unit/test_runtime_sync.c common/fakebackend.c
    MODULES common config order print store net doctor runtime
    LIBS PkgConfig::LIBUV PkgConfig::CURL PkgConfig::SQLITE3 TIMEOUT 120)
