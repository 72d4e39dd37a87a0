# shellcheck shell=bash
# Helpers of the insider-attack tests. A test, run as
#     bash tests/insider/NN_name.sh /path/to/truyvet [/path/to/forge]
# sources this file right after `set -euo pipefail`. It takes tests/lib.sh's helpers (TV, W,
# check, fail, run, expect_*, json_get, status_get, enrol, ship), sets FORGE, and adds a
# network: a province that serves on loopback ZeroMQ, and the one-shot syncs and bundles by
# which the other nodes exchange their logs with it and with each other.

# The forge is the second argument, or insider_forge next to truyvet (where CMakeLists.txt
# builds tests/insider/forge.c).
if [[ $# -lt 1 || $# -gt 2 || ! -x $1 ]]; then
    echo "usage: $0 /path/to/truyvet [/path/to/forge]" >&2
    exit 2
fi
FORGE=${2:-$(dirname "$1")/insider_forge}
[[ -x $FORGE ]] || {
    echo "$0: no forge program at $FORGE (build the insider_forge target)" >&2
    exit 2
}
FORGE=$(cd "$(dirname "$FORGE")" && pwd)/$(basename "$FORGE")
# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh" "$1"

PIDS=()
cleanup() { # lib.sh's, but it stops the servers first
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do # disowned: wait for them by hand (bounded)
        for _ in {1..50}; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    done
    rm -rf "$W"
}
[[ -n ${KEEP-} ]] && trap - EXIT && echo "keeping $W" >&2

# fail WHAT: lib.sh's report, then the end of every server's log.
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    if [[ -n ${RC-} ]]; then
        printf '  last command: %s\n  exit status: %s\n' "$LAST" "$RC" >&2
        printf '  stdout: %s\n' "$(head -c 2000 "$W/out")" >&2
        printf '  stderr: %s\n' "$(head -c 3000 "$W/err")" >&2
    fi
    local f
    for f in "$W"/*.log; do
        [[ -f $f ]] && { printf -- '--- %s\n' "$f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

# free_port, json_eval, node_id and held: tests/lib.sh's.

# init DIR ROLE UNIT NAME: a new node.
init() { "$TV" -d "$1" init --role "$2" --unit "$3" --unlisted --name "$4" >/dev/null 2>&1 || fail "init $1"; }

# serve_province DIR: the province serves on a free loopback port; P_LINK is how to reach it.
serve_province() {
    local port
    port=$(free_port)
    "$TV" -d "$1" peer listen "tcp://127.0.0.1:$port" || fail "peer listen"
    "$TV" -d "$1" serve --verbose >"$W/province.log" 2>&1 &
    PIDS+=($!)
    P_PID=$!
    disown "$P_PID" # no job notice when cleanup stops it
    P_DIR=$1
    P_LINK="$(node_id "$1")@tcp://127.0.0.1:$port"
}

# province_alive WHAT: the province's server is still running after WHAT; if it stopped, the
# check fails (at the end) and the server is started again, so that the test goes on.
province_alive() {
    local state
    state=$(ps -o stat= -p "$P_PID" 2>/dev/null || true)
    [[ -n $state && $state != Z* ]] && return 0
    later_fail "the province's server stopped after $1: $(tail -n 1 "$W/province.log")"
    "$TV" -d "$P_DIR" serve --verbose >>"$W/province.log" 2>&1 &
    PIDS+=($!)
    P_PID=$!
    disown "$P_PID"
}

# sync_p DIR: one exchange of DIR with the province, which returns once both are in step
# (what either refused aside). Its output is in $W/sync.out and $W/sync.err.
sync_p() {
    "$TV" -d "$1" sync --once --peer "$P_LINK" --timeout 60 >"$W/sync.out" 2>"$W/sync.err" ||
        fail "sync of $1 with the province: $(cat "$W/sync.err")"
}

# bundle FROM TO: carries what TO should hold of FROM's store over by USB stick; the import's
# messages are in $W/import.err and its exit status in IMPORT_RC.
bundle() {
    local to
    to=$(node_id "$2")
    "$TV" -d "$1" bundle export --out "$W/stick" --for "$to" >/dev/null 2>&1 ||
        fail "bundle export from $1"
    IMPORT_RC=0
    # shellcheck disable=SC2034 # IMPORT_RC is read by the tests
    "$TV" -d "$2" bundle import "$W/stick" >/dev/null 2>"$W/import.err" || IMPORT_RC=$?
}

# forge DIR ARGS...: the insider appends one batch to DIR's log; prints its seq.
forge() { "$FORGE" "$@" 2>"$W/forge.err" || fail "forge $*: $(cat "$W/forge.err")"; }

# later_fail WHAT: a failed check that does not stop the test, so that the checks after it
# still run; `finish` then fails the test with all of them.
LATER=()
later_fail() {
    printf 'FAIL (reported at the end): %s\n' "$*" >&2
    LATER+=("$*")
}

# finish NAME: ends the test, failing it if any later_fail was noted.
finish() {
    if [[ ${#LATER[@]} -gt 0 ]]; then
        printf 'FAIL: %d checks failed (see above)\n' "${#LATER[@]}" >&2
        exit 1
    fi
    echo "$1: all checks passed"
}

# refusal_named FILE ORIGIN SEQS RULE WHAT: FILE (an import's messages) names the refusal of
# ORIGIN's batch at SEQS (first-last) and the rule it breaks (later_fail if not).
refusal_named() {
    grep -F "origin ${2:0:16}, seq $3)" "$1" | grep -qF -- "$4" ||
        later_fail "$5: no refusal of origin ${2:0:16} at seq $3 naming '$4' in: $(head -1 "$1")"
}
