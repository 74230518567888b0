dlv_unit_test(test_common SOURCES unit/test_common.c MODULES common)
# Security: the log masking helpers never return what they mask.
dlv_unit_test(test_common_hardening SOURCES unit/test_common_hardening.c MODULES common)
