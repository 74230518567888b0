dlv_unit_test(test_common SOURCES unit/test_common.c MODULES common)
