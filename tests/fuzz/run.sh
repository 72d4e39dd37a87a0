#!/usr/bin/env bash
# Builds the fuzz harnesses with clang (build-fuzz/) and runs them; used by ./dev.sh.
#   run.sh TRUYVET test          each harness: its regression inputs, then a fixed number
#                                of fuzzed inputs (about a minute in all)
#   run.sh TRUYVET fuzz SECONDS  each harness: its regression inputs, then SECONDS of fuzzing
# TRUYVET is a built truyvet (for the seed corpora, tests/fuzz/make_corpus.sh). Inputs the
# fuzzers find interesting are kept in build-fuzz/found/HARNESS/ and reused by later runs;
# a crash is written to build-fuzz/crashes/HARNESS-crash-... and fails the run (add it to
# tests/fuzz/regressions/HARNESS/ once fixed: see README.md, "Fuzzing").
set -euo pipefail
tv=$(realpath "$1")
mode=$2
seconds=${3:-600}
cd "$(dirname "$0")/../.."
src=$(pwd)/tests/fuzz
b=$(pwd)/build-fuzz

cmake -S . -B "$b" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTV_WERROR=ON \
    -DTV_FUZZ=ON >/dev/null
cmake --build "$b" -j"$(nproc)" >/dev/null
"$src/make_corpus.sh" "$tv" "$b/fuzz" "$b/corpus" >/dev/null
mkdir -p "$b/crashes"

# Inputs per harness in the test pass: about four seconds each on a 2-core machine
# (the slow ones open a store or a CSV reader per input).
runs_for() {
    case $1 in
    sync_session) echo 4000 ;;
    csv) echo 10000 ;;
    apply_signed | bundle) echo 40000 ;;
    apply_raw | crdt_batch) echo 100000 ;;
    *) echo 200000 ;;
    esac
}

fail=0
total=0
passed=0
ran=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
for exe in "$b"/fuzz/*; do
    h=$(basename "$exe")
    [ -x "$exe" ] || continue
    ran=$((ran + 1))
    if [ -d "$src/regressions/$h" ] && [ -n "$(ls -A "$src/regressions/$h")" ]; then
        if ! "$exe" "$src/regressions/$h"/* >"$b/crashes/$h.regressions.log" 2>&1; then
            echo "FAIL $h: a regression input fails (see $b/crashes/$h.regressions.log)"
            fail=1
            continue
        fi
    fi
    mkdir -p "$b/found/$h"
    if [ "$mode" = test ]; then
        limit=(-runs="$(runs_for "$h")")
    else
        limit=(-max_total_time="$seconds")
    fi
    log=$b/crashes/$h.log
    if "$exe" "${limit[@]}" -timeout=20 -print_final_stats=1 \
        -artifact_prefix="$b/crashes/$h-" "$b/found/$h" "$b/corpus/$h" >"$log" 2>&1; then
        n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        s=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log")
        printf 'ok   %-18s %9s inputs in %ss\n' "$h" "$n" "${s:-?}"
        total=$((total + ${n:-0}))
        passed=$((passed + 1))
    else
        echo "FAIL $h: see $log"
        grep -E 'ERROR|SUMMARY|check failed|unexpected|Test unit written' "$log" | head -5
        fail=1
    fi
done
echo "fuzz: $total inputs in all"
# the closing line a test report is read by: harnesses passed and failed
echo "$passed passed, $((ran - passed)) failed"
exit $fail
