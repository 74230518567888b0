#!/usr/bin/env bash
# The whole test suite: installs missing packages, builds everything with -Werror, runs ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${DLV_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDLV_WERROR=ON ${DLV_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" ${DLV_CTEST_ARGS:-}
