dlv_unit_test(test_net SOURCES unit/test_net.c MODULES common order net LIBS dlv_testnet
    PkgConfig::LIBUV PkgConfig::CURL TIMEOUT 120)
dlv_unit_test(test_tls SOURCES unit/test_tls.c MODULES common order net LIBS dlv_testnet
    PkgConfig::LIBUV PkgConfig::CURL TIMEOUT 120)
# Hardening (issue 9): no header injection, unsendable session tokens refused, TLS verified.
dlv_unit_test(test_net_hardening SOURCES unit/test_net_hardening.c
    MODULES common order net LIBS dlv_testhostile PkgConfig::LIBUV PkgConfig::CURL TIMEOUT 120)
# iikoCloud backend (issue 19): the mapping of orders, times, dictionaries and commands.
dlv_unit_test(test_net_iiko SOURCES unit/test_net_iiko.c MODULES common order net
    LIBS PkgConfig::LIBUV PkgConfig::CURL TIMEOUT 60)
