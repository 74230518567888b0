dlv_unit_test(test_config SOURCES unit/test_config.c MODULES common config)
