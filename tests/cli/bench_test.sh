#!/usr/bin/env bash
# The benchmarks' figures say what they are, checked on tiny runs (not timings): bench/sync
# counts the bytes on the socket, ZeroMQ's own greeting and CurveZMQ handshake included,
# not protocol bytes plus a fixed overhead per message; bench/trace and bench/report print
# the generation time read back from an earlier run as gen_s_reused, not as gen_s; bench/http
# (--quick) drives the real console over HTTP, every check-in answered and on disk, and
# gives the figures it names.
#
# Usage: bash tests/cli/bench_test.sh /path/to/truyvet (the benchmarks are in its bench/)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

B=$(dirname "$TV")/bench
for b in sync trace report http; do
    if [[ ! -x $B/$b ]]; then
        echo "SKIP: $B/$b is not built" >&2
        exit 77
    fi
done

# key LINE KEY: the value of KEY in a key=value line, or nothing
key() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

check "sync: the wire figures are the bytes on the socket"
"$B/sync" --events 2000 --origins 20 --dir "$W/sync" >"$W/sync.out" 2>"$W/sync.err" ||
    fail "bench/sync: $(cat "$W/sync.err")"
last=$(tail -n1 "$W/sync.out")
[[ $last == bench=sync\ * ]] || fail "the last line: $last"
proto=$(key "$last" proto_bytes) msgs=$(key "$last" msgs) wire=$(key "$last" wire_bytes)
hs=$(key "$last" handshake_bytes) hs_msgs=$(key "$last" handshake_msgs)
hs_wire=$(key "$last" handshake_wire_bytes)
[[ -n $proto && -n $msgs && -n $wire && -n $hs && -n $hs_msgs && -n $hs_wire ]] ||
    fail "figures missing: $last"
# On the socket, beyond the 33 bytes of each CurveZMQ MESSAGE: the two ZMTP greetings
# (64 bytes each) and the CurveZMQ handshake (HELLO 200, WELCOME 168, INITIATE 257 and
# READY 30 bytes at the least, before their metadata), 783 bytes or more per connection.
((wire >= proto + 33 * msgs + 783)) ||
    fail "wire_bytes $wire is not what the socket carries ($proto + 33 x $msgs + 783 at least)"
((hs_wire >= hs + 33 * hs_msgs + 783)) ||
    fail "handshake_wire_bytes $hs_wire is not what the socket carries ($hs + 33 x $hs_msgs + 783 at least)"
grep -q "^second session: $hs protocol bytes in $hs_msgs messages, 0 batches, until both in step; $hs_wire bytes on the socket" \
    "$W/sync.out" || fail "the second session: $(cat "$W/sync.out")"

# reused BENCH ARGS...: runs BENCH twice on one directory, generating then reusing
reused() {
    local b=$1
    shift
    "$B/$b" "$@" --dir "$W/$b" --keep >"$W/$b.1" 2>"$W/$b.err" || fail "bench/$b: $(cat "$W/$b.err")"
    "$B/$b" "$@" --dir "$W/$b" --reuse >"$W/$b.2" 2>"$W/$b.err" ||
        fail "bench/$b --reuse: $(cat "$W/$b.err")"
    local first second
    first=$(tail -n1 "$W/$b.1")
    second=$(tail -n1 "$W/$b.2")
    [[ $(key "$first" reused) == 0 && -n $(key "$first" gen_s) && -z $(key "$first" gen_s_reused) ]] ||
        fail "bench/$b generating: $first"
    [[ $(key "$second" reused) == 1 && -z $(key "$second" gen_s) ]] ||
        fail "bench/$b --reuse prints gen_s, which it did not measure: $second"
    [[ $(key "$second" gen_s_reused) == "$(key "$first" gen_s)" ]] ||
        fail "bench/$b --reuse: gen_s_reused is not the earlier run's gen_s: $second"
}

check "trace --reuse: the generation time read back is gen_s_reused"
reused trace --scans 2000 --persons 200 --venues 40 --days 3 --cases 3

check "report --reuse: the generation time read back is gen_s_reused"
reused report --days 12 --venues-per-commune 1 --scans-per-day 1 --runs 1

check "http --quick: each check-in answered ok and on disk, each page's size, the node reused"
reused http --quick
for out in "$W/http.1" "$W/http.2"; do
    last=$(tail -n1 "$out")
    [[ $last == bench=http\ * ]] || fail "bench/http: the last line: $last"
    # 192 check-ins for each client count, shared among its clients, and every one of them
    # a scan more in the store once the server has stopped
    for c in 1 8 64; do
        [[ $(key "$last" "c${c}_n") == 192 && -n $(key "$last" "c${c}_rps") &&
            -n $(key "$last" "c${c}_p50_ms") && -n $(key "$last" "c${c}_p99_ms") ]] ||
            fail "bench/http: the figures of $c clients: $last"
        commits=$(key "$last" "c${c}_commits")
        if ! [[ $commits =~ ^[0-9]+$ ]] || ((commits < 1 || commits > 192)); then
            fail "bench/http: '$commits' commits for 192 check-ins: $last"
        fi
    done
    [[ $(key "$last" scans) == 576 ]] || fail "bench/http: the store's scans: $last"
    grep -q '^durable: the store holds 576 scans more, one for each check-in answered$' "$out" ||
        fail "bench/http: $(cat "$out")"
    # one check-in at a time: one commit each
    [[ $(key "$last" c1_commits) == 192 ]] || fail "bench/http: one client, not a commit each: $last"
    for p in root login gate app_js app_css openapi_json; do
        bytes=$(key "$last" "page_${p}_bytes")
        if ! [[ $bytes =~ ^[1-9][0-9]*$ && -n $(key "$last" "page_${p}_ms") ]]; then
            fail "bench/http: page $p: $last"
        fi
    done
done
# the shell of every page is one file: /, /login and /gate are the same bytes
last=$(tail -n1 "$W/http.1")
[[ $(key "$last" page_root_bytes) == "$(key "$last" page_login_bytes)" &&
    $(key "$last" page_root_bytes) == "$(key "$last" page_gate_bytes)" ]] ||
    fail "bench/http: the pages' shell differs: $last"

echo "bench_test: all checks passed"
