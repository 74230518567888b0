# The durable store (lib/store): outbox, order cache, ledgers, numbers; migrations, corruption,
# disk full; SIGKILL crash tests against a child process.
dlv_unit_test(test_store SOURCES unit/test_store.c MODULES common store TIMEOUT 60)
dlv_unit_test(test_store_recovery SOURCES unit/test_store_recovery.c MODULES common store
    TIMEOUT 60)

# The crash test kills this child again and again; it is not a test by itself.
add_executable(store_crash_child unit/store_crash_child.c)
target_link_libraries(store_crash_child PRIVATE dlv_common dlv_store)
dlv_unit_test(test_store_crash SOURCES unit/test_store_crash.c MODULES common store TIMEOUT 120)
add_dependencies(test_store_crash store_crash_child)
target_compile_definitions(test_store_crash PRIVATE
    STORE_CRASH_CHILD="$<TARGET_FILE:store_crash_child>")
