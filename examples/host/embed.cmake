# cmake -DDIR=<examples/host/screen> -DOUT=<header> -P embed.cmake
# Writes every file of the delivery screen as a NUL-terminated byte array with a table of
# {name, data, size}, as lib/print/embed.cmake does for the document templates.
file(GLOB files ${DIR}/*)
list(SORT files)
set(body "/* Generated from examples/host/screen by embed.cmake; do not edit. */\n")
set(table "")
set(i 0)
foreach(f ${files})
    get_filename_component(name ${f} NAME)
    file(READ ${f} hex HEX)
    string(LENGTH "${hex}" n)
    math(EXPR size "${n} / 2")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(REGEX REPLACE "((0x..,){16})" "\\1\n    " hex "${hex}")
    string(APPEND body "static const unsigned char screen_asset_${i}[] = {\n    ${hex}0x00};\n")
    string(APPEND table "    {\"${name}\", (const char *)screen_asset_${i}, ${size}},\n")
    math(EXPR i "${i} + 1")
endforeach()
string(APPEND body "static const struct {\n    const char *name;\n    const char *data;\n"
    "    size_t size;\n} screen_assets[] = {\n${table}};\n")
file(WRITE ${OUT}.tmp "${body}")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
