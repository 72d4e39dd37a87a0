# shellcheck shell=bash
# Helpers shared by the integration tests that drive the real `truyvet` binary.
#
# A test script, run as `bash tests/X_test.sh /path/to/truyvet`, sources this file right
# after `set -euo pipefail`:
#
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# It checks the script's one argument, sets TV to the binary's absolute path and W to a new
# directory that `cleanup` removes on exit. A script that starts processes redefines
# `cleanup` to stop them too (and still remove "$W"). The name of this file does not end in
# _test.sh, so it is not run as a test of its own.

if [[ $# -ne 1 || ! -x $1 ]]; then
    echo "usage: $0 /path/to/truyvet" >&2
    exit 2
fi
TV=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

W=$(mktemp -d)
cleanup() { rm -rf "$W"; }
trap cleanup EXIT

# check WHAT: announces the next check.
check() { printf 'check: %s\n' "$*"; }

# fail WHAT: reports a failed check, with the last `run` command, its exit status and the
# start of its output when there was one, and ends the test.
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    if [[ -n ${RC-} ]]; then
        printf '  last command: %s\n  exit status: %s\n' "$LAST" "$RC" >&2
        printf '  stdout: %s\n' "$(head -c 2000 "$W/out")" >&2
        printf '  stderr: %s\n' "$(head -c 3000 "$W/err")" >&2
    fi
    exit 1
}

# run CMD...: runs a command, keeping its exit status in RC and its output in OUT/ERR
# (and in $W/out, $W/err) without stopping the script when it fails.
run() {
    LAST="$*"
    RC=0
    "$@" >"$W/out" 2>"$W/err" || RC=$?
    OUT=$(cat "$W/out")
    ERR=$(cat "$W/err")
}

expect_rc() { # expect_rc WANT WHAT
    [[ $RC -eq $1 ]] || fail "$2: expected exit status $1"
}

expect_ok() { expect_rc 0 "$1"; } # expect_ok WHAT

# expect_refused WANT WHAT: the command failed with exit status WANT, said why on stderr
# and printed nothing on stdout (data goes to stdout only when something was done).
expect_refused() {
    expect_rc "$1" "$2"
    [[ -z $OUT ]] || fail "$2: printed something on stdout although it failed"
    [[ -n $ERR ]] || fail "$2: failed without a message on stderr"
}

expect_err_has() { # expect_err_has TEXT WHAT
    grep -qF -- "$1" "$W/err" || fail "$2: stderr does not mention '$1'"
}

# json_get KEY...: reads one JSON value on stdin and prints the value at the key path
# (list items by their index; strings as their UTF-8 bytes, null as "null", anything else
# as JSON).
json_get() {
    python3 -c '
import json, sys
v = json.loads(sys.stdin.buffer.read())
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
s = v if isinstance(v, str) else json.dumps(v)
sys.stdout.buffer.write(s.encode() + b"\n")
' "$@"
}

# status_get DIR KEY...: a field of `status --json` of the node in DIR.
status_get() {
    local dir=$1 json
    shift
    json=$("$TV" -d "$dir" status --json) || fail "status --json failed on $dir"
    printf '%s' "$json" | json_get "$@"
}

# enrol CHILD PARENT [issue options...]: enrols the node in CHILD under the node in PARENT
# with request and certificate files, as operators do.
enrol() {
    local child=$1 parent=$2
    shift 2
    "$TV" -d "$child" enroll request --out "$W/req" >/dev/null
    "$TV" -d "$parent" enroll issue "$W/req" --out "$W/cert" "$@" >/dev/null
    "$TV" -d "$child" enroll accept "$W/cert" >/dev/null
}

# ship FROM TO: carries what node TO should hold of what node FROM holds (its partition)
# over by bundle, as a USB stick would.
ship() {
    local to
    to=$("$TV" -d "$2" status --json | json_get node_id)
    "$TV" -d "$1" bundle export --out "$W/ship" --for "$to" >/dev/null 2>&1 ||
        fail "bundle export from $1"
    "$TV" -d "$2" bundle import "$W/ship" >/dev/null 2>&1 || fail "bundle import at $2"
}
