# The pure domain core (lib/order): codec, status machine, decisions, numbers, notifications.
foreach(suite codec hostile machine rules notify)
    dlv_unit_test(test_order_${suite} SOURCES unit/test_order_${suite}.c
        MODULES common order TIMEOUT 120)
    set_tests_properties(test_order_${suite} PROPERTIES LABELS unit)
endforeach()
# Hardening (issue 9): allocation failure swept through the call-center JSON decoders and the
# notification templates (alloc_sweep.h).
dlv_unit_test(test_order_alloc SOURCES unit/test_order_alloc.c unit/alloc_sweep.c
    MODULES common order TIMEOUT 600)
