# The runtime's sync driven through a fake call-center backend (test/common/fakebackend.c): no
# emulator process, every answer scripted.
dlv_unit_test(test_runtime_sync SOURCES unit/test_runtime_sync.c common/fakebackend.c
    MODULES common config order print store net doctor runtime
    LIBS PkgConfig::LIBUV PkgConfig::CURL PkgConfig::SQLITE3 TIMEOUT 120)
