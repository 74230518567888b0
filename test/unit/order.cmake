# The pure domain core (lib/order): codec, status machine, decisions, numbers, notifications.
foreach(suite codec hostile machine rules notify)
    dlv_unit_test(test_order_${suite} SOURCES unit/test_order_${suite}.c
        MODULES common order TIMEOUT 120)
    set_tests_properties(test_order_${suite} PROPERTIES LABELS unit)
endforeach()
