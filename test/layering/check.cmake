# cmake -DBUILD_DIR= -DCONFIG= -DMODULE= -DMODULE_DIR= -DOK_TARGET= -DBAD_TARGETS= -DBAD_HEADERS=
#       -P check.cmake
# One module's layering test (test/layering/CMakeLists.txt): the allowed headers compile, each
# forbidden one fails with "No such file" for that very header.
set(failures 0)

function(probe target out_rc out_text)
    set(cfg "")
    if(CONFIG)
        set(cfg --config ${CONFIG})
    endif()
    execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} ${cfg} --target ${target}
        RESULT_VARIABLE rc OUTPUT_VARIABLE text ERROR_VARIABLE text)
    set(${out_rc} ${rc} PARENT_SCOPE)
    set(${out_text} "${text}" PARENT_SCOPE)
endfunction()

probe(${OK_TARGET} rc text)
if(NOT rc EQUAL 0)
    message("FAIL: lib/${MODULE} cannot include the headers of the modules it uses:\n${text}")
    math(EXPR failures "${failures} + 1")
else()
    message("ok: lib/${MODULE} includes its own headers and those of the modules it uses")
endif()

foreach(target header IN ZIP_LISTS BAD_TARGETS BAD_HEADERS)
    probe(${target} rc text)
    # gcc: "net/http.h: No such file or directory"; clang: "'net/http.h' file not found".
    string(FIND "${text}" "${header}: No such file" gcc_at)
    string(FIND "${text}" "'${header}' file not found" clang_at)
    if(rc EQUAL 0)
        message("FAIL: lib/${MODULE} can include \"${header}\", which it does not use")
        math(EXPR failures "${failures} + 1")
    elseif(gcc_at EQUAL -1 AND clang_at EQUAL -1)
        message("FAIL: including \"${header}\" from lib/${MODULE} failed, but not because the "
            "header was out of reach:\n${text}")
        math(EXPR failures "${failures} + 1")
    else()
        message("ok: lib/${MODULE} cannot include \"${header}\"")
    endif()
endforeach()

# A quoted include is also looked up beside the including file: "../net/http.h" would get
# around the include directories.
file(GLOB sources ${MODULE_DIR}/*.c ${MODULE_DIR}/*.h)
foreach(f ${sources})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<][^\">]*\\.\\./")
    if(lines)
        message("FAIL: ${f} includes through a relative path: ${lines}")
        math(EXPR failures "${failures} + 1")
    endif()
endforeach()

if(failures GREATER 0)
    message(FATAL_ERROR "lib/${MODULE}: ${failures} layering check(s) failed")
endif()
