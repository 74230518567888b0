# Link dependencies of lib/print beyond libxml2 and libuv, the built-in templates compiled in,
# and libdelivery_print_extra.so. Included from the top CMakeLists.txt right after
# dlv_module(print ...).
#
# The A4 PDF renderer (cairo, pango) and the cups: backend (libcups) live in a module of their
# own, lib/print/extra/, loaded with dlopen on first use (lib/print/extra.c): neither the library
# nor the plugin links them, so a host loads some 20 shared libraries instead of some 80.
# lib/print/extra/ is not in dlv_print's glob (it is one folder down).
target_link_libraries(dlv_print PUBLIC ${CMAKE_DL_LIBS})
# The last place looked in: where it is installed (for programs linking libdelivery.a).
target_compile_definitions(dlv_print PRIVATE
    DLV_PRINT_EXTRA_INSTALL_DIR="${CMAKE_INSTALL_FULL_LIBDIR}/delivery")
pkg_check_modules(PANGOCAIRO REQUIRED IMPORTED_TARGET pangocairo cairo-pdf)
find_package(Cups REQUIRED)
file(GLOB _dlv_extra_srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/extra/*.c)
add_library(delivery_print_extra MODULE ${_dlv_extra_srcs})
# Only headers from the library's modules (linking dlv_print would link its objects in): the
# module gets the library's functions through a table at load (lib/print/extra.h).
target_include_directories(delivery_print_extra PRIVATE ${DLV_MODULE_INCLUDE_ROOT}/print
    ${DLV_MODULE_INCLUDE_ROOT}/order ${DLV_MODULE_INCLUDE_ROOT}/common
    $<TARGET_PROPERTY:PkgConfig::CJSON,INTERFACE_INCLUDE_DIRECTORIES>
    $<TARGET_PROPERTY:PkgConfig::LIBXML2,INTERFACE_INCLUDE_DIRECTORIES>)
target_link_libraries(delivery_print_extra PRIVATE dlv_build_flags PkgConfig::PANGOCAIRO
    Cups::Cups PkgConfig::LIBUV)
set_target_properties(delivery_print_extra PROPERTIES PREFIX "lib"
    OUTPUT_NAME delivery_print_extra C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR})
if(NOT DLV_SANITIZE)
    target_link_options(delivery_print_extra PRIVATE -Wl,--no-undefined)
endif()
# The build tree mirrors the installed layout: the module next to libdelivery.so, and a copy
# next to the plugin (build/plugin/), each finding it in its own folder.
add_custom_command(TARGET delivery_print_extra POST_BUILD
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/plugin
    COMMAND ${CMAKE_COMMAND} -E copy_if_different $<TARGET_FILE:delivery_print_extra>
        ${PROJECT_BINARY_DIR}/plugin/)
# Installed in the plugin's private folder; libdelivery.so looks in delivery/ beside itself.
install(TARGETS delivery_print_extra LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/delivery)

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
add_dependencies(dlv_print delivery_print_extra)
