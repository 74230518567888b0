#!/usr/bin/env bash
# The main job: installs missing packages, builds, then runs a shift on the reference host against
# the bundled call-center emulator on loopback (examples/demo/run-demo.sh): orders flow, statuses
# reach the call-center, documents are printed to files and previewed.
# --iiko: the same shift with <backend>iikoCloud</backend> against the bundled iikoCloud sandbox
# (examples/demo/run-demo-iiko.sh, docs/iikocloud.md).
# --screen: the emulator generates an order every few seconds and the host serves the delivery
# screen (examples/demo/run-demo-screen.sh, docs/screen.md); it prints the address to open.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
build=${DLV_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)"
if [ "${1:-}" = "--screen" ]; then
    exec bash examples/demo/run-demo-screen.sh "$build"
fi
if [ "${1:-}" = "--iiko" ]; then
    exec bash examples/demo/run-demo-iiko.sh "$build"
fi
exec bash examples/demo/run-demo.sh "$build"
