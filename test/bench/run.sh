#!/usr/bin/env bash
# Runs every benchmark of test/bench/ and prints one table (Markdown), with the machine and the
# versions it ran on. Each figure is set beside a limit of the same machine measured in the same
# run (loopback round trip, wrk, raw cJSON_Parse, fdatasync); verdicts compare ratios.
#
#   test/bench/run.sh BUILD_DIR
#
# BUILD_DIR is configured (RelWithDebInfo) if it does not exist yet; the benchmark targets are
# built in it. Environment:
#   DLV_BENCH_QUICK=1           a short run (about a minute): fewer orders, commands, terminals,
#                               15 s idle
#   DLV_BENCH_ONLY="idle print" run only these (propagation commands ingest idle startup print
#                               chain snapshot)
#   DLV_BENCH_IDLE_SECONDS, DLV_BENCH_ORDERS, DLV_BENCH_COMMANDS, DLV_BENCH_SNAPSHOT,
#   DLV_BENCH_CHAIN_TERMINALS, DLV_BENCH_CHAIN_PROCS, DLV_BENCH_CHAIN_ROUNDS, DLV_BENCH_CHAIN_RATE,
#   DLV_BENCH_CHAIN_SOLO_ORDERS, DLV_BENCH_CHAIN_IDLE_SECONDS, DLV_BENCH_WRK_SECONDS,
#   DLV_BENCH_CALLGRIND=0 (skip valgrind)       see each bench_*.c
# The table also goes to BUILD_DIR/bench/results.md, each benchmark's log to BUILD_DIR/bench/.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 BUILD_DIR" >&2
    exit 2
fi
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
out=$build/bench
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=$build/bench
mkdir -p "$out"

# wrk is the reference for command throughput: install it when missing and we may.
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing wrk ..." >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >"$out/apt.log" 2>&1 ||
            { apt-get update >>"$out/apt.log" 2>&1 &&
              DEBIAN_FRONTEND=noninteractive apt-get install -y wrk >>"$out/apt.log" 2>&1; }
    fi
    command -v wrk >/dev/null 2>&1 || echo "wrk is missing: the throughput reference is skipped" >&2
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$out/configure.log" 2>&1 ||
        { echo "configure failed: $out/configure.log" >&2; exit 1; }
fi
if ! cmake --build "$build" --target dlv_benchmarks delivery_plugin delivery_print_extra -j"$(nproc)" \
        >"$out/build.log" 2>&1; then
    echo "build failed (see $out/build.log); running what was built" >&2
fi

# PDF rendering and CUPS live in a module loaded on first use (docs/printers.md); the benchmark
# programs are not next to it, so name it.
export DLV_PRINT_EXTRA=${DLV_PRINT_EXTRA:-$build/libdelivery_print_extra.so}

if [ "${DLV_BENCH_QUICK:-0}" = 1 ]; then
    export DLV_BENCH_ORDERS=${DLV_BENCH_ORDERS:-300} DLV_BENCH_RTTS=${DLV_BENCH_RTTS:-300}
    export DLV_BENCH_COMMANDS=${DLV_BENCH_COMMANDS:-2000}
    export DLV_BENCH_WRK_SECONDS=${DLV_BENCH_WRK_SECONDS:-2}
    export DLV_BENCH_SNAPSHOT=${DLV_BENCH_SNAPSHOT:-2000}
    export DLV_BENCH_SNAPSHOT_ORDERS=${DLV_BENCH_SNAPSHOT_ORDERS:-10000}
    export DLV_BENCH_IDLE_SECONDS=${DLV_BENCH_IDLE_SECONDS:-15}
    export DLV_BENCH_IDLE_FRESH_SECONDS=${DLV_BENCH_IDLE_FRESH_SECONDS:-3}
    export DLV_BENCH_CHAIN_TERMINALS=${DLV_BENCH_CHAIN_TERMINALS:-100}
    export DLV_BENCH_CHAIN_SOLO_ORDERS=${DLV_BENCH_CHAIN_SOLO_ORDERS:-200}
    export DLV_BENCH_CHAIN_PROCS=${DLV_BENCH_CHAIN_PROCS:-2}
    export DLV_BENCH_STARTS=${DLV_BENCH_STARTS:-5}
    export DLV_BENCH_PRINT_MS=${DLV_BENCH_PRINT_MS:-1000}
fi
export DLV_CALLCENTER=$build/examples/callcenter/delivery-callcenter
DLV_BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/dlvbench.XXXXXX")
export DLV_BENCH_TMP
trap 'rm -rf "$DLV_BENCH_TMP"' EXIT

rows=$out/rows.tsv
: >"$rows"
bin=$build/test/bench
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)

# run NAME TIMEOUT_S COMMAND...: its ROW lines go to the table; a failure becomes a row.
run() {
    local name=$1 limit=$2
    shift 2
    case " ${DLV_BENCH_ONLY:-$name} " in *" $name "*) ;; *) return ;; esac
    if [ ! -x "$1" ]; then
        printf 'ROW\t%s\tnot built\t-\t-\t-\tSKIPPED\n' "$name" >>"$rows"
        return
    fi
    echo "running $name ..." >&2
    local t0=$SECONDS
    timeout --kill-after=10 "$limit" "$@" >"$out/$name.out" 2>"$out/$name.log"
    local rc=$?
    grep '^ROW' "$out/$name.out" >>"$rows"
    if [ $rc -ne 0 ] || ! grep -q '^ROW' "$out/$name.out"; then
        printf 'ROW\t%s\tthe benchmark failed (exit %s%s)\t-\t-\tsee %s\tFAILED\n' "$name" "$rc" \
            "$([ $rc = 124 ] && echo ', timed out')" "$out/$name.log" >>"$rows"
    fi
    echo "  $name: $((SECONDS - t0)) s" >&2
}

run propagation 120 "$bin/bench_propagation"
run commands 300 "$bin/bench_commands"
run ingest 300 "$bin/bench_ingest"
run idle $(( ${DLV_BENCH_IDLE_SECONDS:-60} + ${DLV_BENCH_IDLE_FRESH_SECONDS:-5} + 60 )) \
    "$bin/bench_idle"
run startup 120 "$bin/bench_startup" "$build/plugin/libdelivery_plugin.so"
run print 120 "$bin/bench_print"
run chain 240 "$bin/bench_chain"
run snapshot 600 "$bin/bench_snapshot"

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
ver() { "$@" 2>&1 | head -1; }
pc() { pkg-config --modversion "$1" 2>/dev/null || echo "?"; }
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
ram=$(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo)
version=$(awk '/#define DLV_VERSION_(MAJOR|MINOR|PATCH) / {v = v sep $3; sep = "."} END {print v}' \
    "$src/include/delivery/version.h")
commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo '?')
git -C "$src" diff --quiet HEAD -- lib include 2>/dev/null ||
    commit="$commit, lib/ or include/ modified"
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt")
wrk_version=$(command -v wrk >/dev/null && ver wrk --version | cut -d' ' -f1-2 || echo 'no wrk')
vg_version=$(command -v valgrind >/dev/null && ver valgrind --version || echo 'no valgrind')
{
    echo "## Results $(date -u +'%Y-%m-%d %H:%M UTC'), $(($(date +%s) - started)) s"
    echo
    echo "- Machine: $(nproc) CPUs, $cpu, $ram, $(uname -sr);" \
        "load average before $load_before, after $load_after"
    echo "- libdelivery $version ($commit), build $build_type, $(ver "${CC:-cc}" --version)"
    echo "- libuv $(pc libuv), libcurl $(pc libcurl), cJSON $(pc libcjson), SQLite $(pc sqlite3)," \
        "libmicrohttpd $(pc libmicrohttpd), $wrk_version, $vg_version"
    echo
    echo "| # | measure | value | beside (same run) | goal | verdict |"
    echo "|---|---|---|---|---|---|"
    sed 's/|/\\|/g' "$rows" |
        awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s |\n", $2, $3, $4, $5, $6, $7}'
} | tee "$out/results.md"
