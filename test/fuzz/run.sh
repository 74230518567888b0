#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time; fails when any of them finds a crash, a leak,
# a timeout or an out-of-memory input.
#
#   test/fuzz/run.sh [BUILD_DIR] [SECONDS_PER_TARGET] [TARGET...]
#
# BUILD_DIR (default build-fuzz) is configured here with clang and -DDLV_FUZZ=ON, so the script
# works from a clean checkout. Each target starts from the committed seeds in
# test/fuzz/corpus/<target>/ (read only) and keeps what it learns in BUILD_DIR/fuzz/corpus/<target>/,
# so a later run goes on from there; a crashing input is written to BUILD_DIR/fuzz/artifacts/ and
# its log to BUILD_DIR/fuzz/logs/. A crash becomes a regression test
# (test/unit/test_<module>_hardening.c).
# Environment: DLV_FUZZ_TIMEOUT (seconds per input, 10), DLV_FUZZ_RSS_MB (2048),
# DLV_FUZZ_JOBS (targets run at once, 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build-fuzz}
seconds=${2:-60}
shift $(($# > 2 ? 2 : $#))
case $build in /*) ;; *) build=$root/$build ;; esac
all_targets=(config front_config order settings orders_response commands_response
    register_response notify_template print_template printer_status)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
per_input=${DLV_FUZZ_TIMEOUT:-10}
rss=${DLV_FUZZ_RSS_MB:-2048}
jobs=${DLV_FUZZ_JOBS:-1}

dict_for() {
    case $1 in
    config | front_config) echo config ;;
    order | settings | *_response) echo json ;;
    notify_template | print_template) echo "$1" ;;
    *) echo "" ;;
    esac
}

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
    -DDLV_FUZZ=ON -DDLV_SANITIZE= >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

out=$build/fuzz
mkdir -p "$out/logs" "$out/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() {
    local t=$1 dict
    mkdir -p "$out/corpus/$t"
    local args=(-max_total_time="$seconds" -timeout="$per_input" -rss_limit_mb="$rss"
        -artifact_prefix="$out/artifacts/$t-" -print_final_stats=1)
    dict=$(dict_for "$t")
    [ -z "$dict" ] || args+=(-dict="$here/dict/$dict.dict")
    if "$build/test/fuzz/fuzz_$t" "${args[@]}" "$out/corpus/$t" "$here/corpus/$t" \
        >"$out/logs/$t.log" 2>&1; then
        local runs cov
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/logs/$t.log")
        cov=$(grep -o 'cov: [0-9]*' "$out/logs/$t.log" | tail -n 1)
        echo "ok    $t: ${runs:-?} inputs in ${seconds} s, ${cov:-cov: ?}"
    else
        echo "FAIL  $t: see $out/logs/$t.log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|invariant broken|.*runtime error)' "$out/logs/$t.log" |
            head -n 5 | sed 's/^/      /'
        ls "$out/artifacts/$t-"* 2>/dev/null | sed 's/^/      input: /'
        return 1
    fi
}

failed=0
running=0
declare -a pids=()
for t in "${targets[@]}"; do
    if [ "$jobs" -le 1 ]; then
        run_one "$t" || failed=1
    else
        run_one "$t" &
        pids+=($!)
        running=$((running + 1))
        if [ "$running" -ge "$jobs" ]; then
            wait "${pids[0]}" || failed=1
            pids=("${pids[@]:1}")
            running=$((running - 1))
        fi
    fi
done
for p in "${pids[@]}"; do
    wait "$p" || failed=1
done
if [ "$failed" -ne 0 ]; then
    echo "fuzzing found problems: inputs in $out/artifacts/" >&2
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${seconds} s each, nothing found"
