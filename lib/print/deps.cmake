# Link dependencies of lib/print beyond libxml2 and libuv, and the built-in templates compiled
# in. Included from the top CMakeLists.txt right after dlv_module(print ...).
pkg_check_modules(PANGOCAIRO REQUIRED IMPORTED_TARGET pangocairo cairo-pdf)
find_package(Cups REQUIRED)
target_link_libraries(dlv_print PUBLIC PkgConfig::PANGOCAIRO Cups::Cups)

# lib/print/templates/*.xml become byte arrays in a generated header, so the built-in layouts
# work without any file on disk; a file of the same name in the config folder replaces one.
set(_dlv_tpl_dir ${CMAKE_CURRENT_LIST_DIR}/templates)
set(_dlv_tpl_out ${CMAKE_CURRENT_BINARY_DIR}/lib/print/generated/print_templates.h)
file(GLOB _dlv_tpl_files CONFIGURE_DEPENDS ${_dlv_tpl_dir}/*.xml)
add_custom_command(OUTPUT ${_dlv_tpl_out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${_dlv_tpl_out} -DDIR=${_dlv_tpl_dir}
        -P ${CMAKE_CURRENT_LIST_DIR}/embed.cmake
    DEPENDS ${_dlv_tpl_files} ${CMAKE_CURRENT_LIST_DIR}/embed.cmake
    COMMENT "Embedding the built-in print templates")
target_sources(dlv_print PRIVATE ${_dlv_tpl_out})
target_include_directories(dlv_print PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/lib/print/generated)
