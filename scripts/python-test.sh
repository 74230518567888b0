#!/usr/bin/env bash
# The Python binding's tests (bindings/python/tests, Python's unittest):
#   scripts/python-test.sh              against the build tree (DLV_BUILD_DIR, default build),
#                                       building the library and the emulator when needed;
#   scripts/python-test.sh --installed  against the installed packages (libdelivery1 and
#                                       delivery-tools), as scripts/packages.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD/bindings/python${PYTHONPATH:+:$PYTHONPATH}
if [ "${1:-}" = "--installed" ]; then
    unset DELIVERY_LIBRARY
    export DELIVERY_CALLCENTER=/usr/bin/delivery-callcenter
    where="the installed packages"
else
    build=${DLV_BUILD_DIR:-build}
    if [ ! -f "$build/CMakeCache.txt" ]; then
        scripts/deps.sh
        cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    fi
    cmake --build "$build" -j2 --target delivery delivery-callcenter >/dev/null
    export DELIVERY_LIBRARY=$PWD/$build/libdelivery.so.1
    export DELIVERY_CALLCENTER=$PWD/$build/examples/callcenter/delivery-callcenter
    where="the build tree $build"
fi
echo "Python binding tests against $where"
python3 -m unittest discover -s bindings/python/tests -t bindings/python/tests -v
