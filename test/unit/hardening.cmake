# Hardening (issue 9): allocation failure swept through every reader of outside input, and the
# security properties (no XML entities, no header injection, no secrets or personal data in
# the logs). The libFuzzer targets live in test/fuzz/ (-DDLV_FUZZ=ON, test/fuzz/run.sh).
dlv_unit_test(test_hardening_alloc SOURCES unit/test_hardening_alloc.c
    MODULES common config order print store net doctor runtime
    LIBS PkgConfig::LIBUV PkgConfig::CURL PkgConfig::SQLITE3 TIMEOUT 600)
dlv_unit_test(test_hardening_security SOURCES unit/test_hardening_security.c
    MODULES common config order print net
    LIBS dlv_testnet PkgConfig::LIBUV PkgConfig::CURL TIMEOUT 120)
dlv_unit_test(test_hardening_regress SOURCES unit/test_hardening_regress.c
    MODULES common config TIMEOUT 60)
# A whole session against the call-center emulator at debug log level: no personal data, token
# or terminalId in any log line. Links the shared library like the runtime tests; labelled
# integration (not run under valgrind by the unit memcheck stage).
if(TARGET delivery-callcenter)
    dlv_unit_test(test_hardening_logs SOURCES unit/test_hardening_logs.c
        LIBS dlv_testnet delivery PkgConfig::SQLITE3 PkgConfig::CJSON Threads::Threads
        TIMEOUT 180)
    set_tests_properties(test_hardening_logs PROPERTIES LABELS integration)
endif()
