#!/usr/bin/env bash
# The main job: installs missing packages, builds, and runs what the library offers end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${DLV_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
if [ -x "$build/examples/demo/run-demo.sh" ] || [ -f examples/demo/run-demo.sh ]; then
    exec bash examples/demo/run-demo.sh "$build"
fi
echo "libdelivery $(grep -E 'define DLV_VERSION_(MAJOR|MINOR|PATCH)' include/delivery/version.h | awk '{print $3}' | paste -sd.) built in $build"
