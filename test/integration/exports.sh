#!/usr/bin/env bash
# libdelivery.so exports the public dlv_ API and nothing else.
set -euo pipefail
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
bad=$(echo "$syms" | grep -v '^dlv_[a-z]' | grep -v '^$' || true)
internal=$(echo "$syms" | grep '^dlv__' || true)
if [ -n "$bad$internal" ]; then
    echo "libdelivery.so exports symbols outside the dlv_ API:" >&2
    echo "$bad$internal" >&2
    exit 1
fi
n=$(echo "$syms" | grep -c '^dlv_')
[ "$n" -gt 10 ] || { echo "only $n dlv_ symbols exported" >&2; exit 1; }
echo "exports: $n dlv_ symbols, nothing else"
