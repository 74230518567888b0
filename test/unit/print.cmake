# Printing (lib/print): templates and renderers with golden files, printers against an ESC/POS
# emulator, a pty and files, and A4 through a real cupsd with the cups-pdf printer.
add_library(dlv_testprint STATIC ${PROJECT_SOURCE_DIR}/test/common/printer_emulator.c)
target_link_libraries(dlv_testprint PUBLIC dlv_testlib Threads::Threads)
target_include_directories(dlv_testprint PUBLIC ${PROJECT_SOURCE_DIR}/test/common)

# The suites release fontconfig's process-wide caches at exit, so they call it directly.
pkg_check_modules(FONTCONFIG REQUIRED IMPORTED_TARGET fontconfig)
dlv_unit_test(test_print_render SOURCES unit/test_print_render.c
    MODULES common order print LIBS PkgConfig::LIBUV PkgConfig::FONTCONFIG PkgConfig::PANGOCAIRO
    TIMEOUT 60)
dlv_unit_test(test_print_printer SOURCES unit/test_print_printer.c
    MODULES common order print LIBS dlv_testprint PkgConfig::LIBUV TIMEOUT 60)
# Starts a private cupsd as root with the cups-pdf printer; fails (never skips) when it cannot.
dlv_unit_test(test_print_cups SOURCES unit/test_print_cups.c
    MODULES common order print LIBS dlv_testprint PkgConfig::LIBUV PkgConfig::FONTCONFIG
    PkgConfig::PANGOCAIRO TIMEOUT 90)
set_tests_properties(test_print_cups PROPERTIES LABELS "unit;cups")
# Hardening (issue 9): allocation failure swept through the document templates (alloc_sweep.h),
# hostile XML refused in templates. The libFuzzer targets live in test/fuzz/.
dlv_unit_test(test_print_alloc SOURCES unit/test_print_alloc.c unit/alloc_sweep.c
    MODULES common order print LIBS PkgConfig::LIBUV TIMEOUT 600)
dlv_unit_test(test_print_hardening SOURCES unit/test_print_hardening.c
    MODULES common order print LIBS dlv_testhostile PkgConfig::LIBUV TIMEOUT 120)
# The PDF and CUPS module absent (lib/print/extra.c): the later DLV_PRINT_EXTRA wins.
dlv_unit_test(test_print_extra SOURCES unit/test_print_extra.c
    MODULES common order print LIBS PkgConfig::LIBUV TIMEOUT 60)
set_property(TEST test_print_extra APPEND PROPERTY ENVIRONMENT
    "DLV_PRINT_EXTRA=${PROJECT_BINARY_DIR}/no-such-folder/libdelivery_print_extra.so")
