dlv_unit_test(test_common SOURCES unit/test_common.c MODULES common)
# Security: the log masking helpers never return what they mask.
dlv_unit_test(test_common_hardening SOURCES unit/test_common_hardening.c MODULES common)
# Time zones from the system's database: DST across the table and the footer rule, refusals.
dlv_unit_test(test_common_tz SOURCES unit/test_common_tz.c MODULES common)
