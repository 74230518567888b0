dlv_unit_test(test_config SOURCES unit/test_config.c MODULES common config)
# Hardening (issue 9): allocation failure swept through every config reader (alloc_sweep.h),
# hostile XML refused (entities, DTDs, XInclude, bombs), and the inputs the fuzzers found.
dlv_unit_test(test_config_alloc SOURCES unit/test_config_alloc.c unit/alloc_sweep.c
    MODULES common config TIMEOUT 600)
dlv_unit_test(test_config_hardening SOURCES unit/test_config_hardening.c
    MODULES common config LIBS dlv_testhostile TIMEOUT 120)
