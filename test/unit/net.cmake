dlv_unit_test(test_net SOURCES unit/test_net.c MODULES common order net LIBS dlv_testnet
    PkgConfig::LIBUV PkgConfig::CURL TIMEOUT 120)
dlv_unit_test(test_tls SOURCES unit/test_tls.c MODULES common order net LIBS dlv_testnet
    PkgConfig::LIBUV PkgConfig::CURL TIMEOUT 120)
