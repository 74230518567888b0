#!/usr/bin/env bash
# A project that add_subdirectory()s this tree gets the libraries without tests, examples or
# -Werror, and needs neither CUnit nor libmicrohttpd: pkg-config is shown every .pc file of the
# system except theirs, so looking either up would fail the configure. Then the consumer builds
# and runs.  subproject_consumer.sh SOURCE_DIR C_COMPILER
set -euo pipefail
src=$1 cc=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

pcdir="$work/pkgconfig"
mkdir -p "$pcdir"
IFS=: read -r -a dirs <<<"$(pkg-config --variable pc_path pkg-config)"
for d in "${dirs[@]}" ${PKG_CONFIG_PATH:+${PKG_CONFIG_PATH//:/ }}; do
    for pc in "$d"/*.pc; do
        [ -e "$pc" ] || continue
        case $(basename "$pc") in cunit.pc | libmicrohttpd.pc) continue ;; esac
        [ -e "$pcdir/$(basename "$pc")" ] || ln -s "$pc" "$pcdir/"
    done
done
export PKG_CONFIG_LIBDIR="$pcdir"
unset PKG_CONFIG_PATH
if pkg-config --exists cunit || pkg-config --exists libmicrohttpd; then
    echo "subproject consumer: could not hide cunit.pc and libmicrohttpd.pc" >&2
    exit 1
fi

cmake -S "$src/test/integration/subproject" -B "$work/b" -DDLV_SOURCE_DIR="$src" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log" 2>&1 || {
    cat "$work/configure.log" >&2
    exit 1
}
cache="$work/b/CMakeCache.txt"
for option in DLV_BUILD_TESTS DLV_BUILD_EXAMPLES DLV_WERROR; do
    if ! grep -qx "$option:BOOL=OFF" "$cache"; then
        echo "subproject consumer: $option is not OFF in a subproject" >&2
        exit 1
    fi
done
if grep -Eq '^(CUNIT|MHD|FONTCONFIG)_' "$cache"; then
    echo "subproject consumer: a test or example dependency was looked up:" >&2
    grep -E '^(CUNIT|MHD|FONTCONFIG)_' "$cache" >&2
    exit 1
fi
cmake --build "$work/b" -j2 --target consumer >"$work/build.log" 2>&1 || {
    cat "$work/build.log" >&2
    exit 1
}
"$work/b/consumer"
echo "subproject consumer: add_subdirectory build ran without CUnit or libmicrohttpd"
