#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds a consumer program against it twice:
# with pkg-config and with find_package(delivery CONFIG).
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(find "$work/prefix" -name 'libdelivery.so' -printf '%h\n' | head -1)
test -f "$work/prefix/include/delivery/delivery.h"
test -f "$libdir/pkgconfig/delivery.pc"
test -f "$libdir/libdelivery.a"

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -Wall -Werror "$src/test/integration/consumer/main.c" \
    $(pkg-config --cflags --libs delivery) -o "$work/consumer-pc"
LD_LIBRARY_PATH="$libdir" "$work/consumer-pc"

cmake -S "$src/test/integration/consumer" -B "$work/cb" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/cb" >/dev/null
LD_LIBRARY_PATH="$libdir" "$work/cb/consumer"
echo "install consumer: pkg-config and find_package builds ran"
