#!/usr/bin/env bash
# Privacy: personal data older than the retention period leaves every node's files.
#
# What a thief of a commune's or a district's disk would do after the period has passed:
# search every byte of every file of the node's directory for the pseudonyms of people
# scanned 40 days ago (the province's period is the default, 28 days). After the purge and
# the commune's checkpoint, the pseudonyms of people seen only then are in no file of the
# commune nor of its district; a person the health authority holds, and a person seen
# again since, are still there. The weekly report of that old week reads the same; the
# commune and its district still sync over ZeroMQ and `verify`; a node enrolled afterwards
# that syncs from scratch gets the commune's log from its checkpoint, and none of the old
# scans. Only the root may set the period; only a health node may place a hold. The hold
# is sealed: the commune is told, in its own pseudonym, and keeps the person's records
# through its purge; the district learns nothing of it, and holds the person's old records
# only in the commune's log, whose checkpoint carries them over.
#
# Usage: bash tests/privacy/retention.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PIDS=()
cleanup() { # lib.sh's, but it stops the servers first
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}

fail() {
    printf 'FAIL: %s\n' "$*" >&2
    if [[ -n ${RC-} ]]; then
        printf '  last command: %s\n  exit status: %s\n' "$LAST" "$RC" >&2
        printf '  stdout: %s\n  stderr: %s\n' "$(head -c 2000 "$W/out")" "$(head -c 2000 "$W/err")" >&2
    fi
    for f in "$W"/*.log; do
        [[ -f $f ]] && { printf -- '--- %s\n' "$f" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

command -v python3 >/dev/null || { echo "SKIP: python3 is needed"; exit 77; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
json_eval() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
node_id() { "$TV" -d "$1" status --json | json_eval "j['node_id']"; }
held() { # held NODE ORIGIN: the last seq NODE holds of ORIGIN's log (0 if none)
    "$TV" -d "$1" status --json | json_eval "next((f['seq'] for f in j['frontier'] if f['origin']=='$2'), 0)"
}
wait_held() { # wait_held NODE ORIGIN SEQ: polls (bounded) what the servers work towards
    local i
    for ((i = 0; i < 600; i++)); do
        [[ $(held "$1" "$2") -ge $3 ]] && return 0
        sleep 0.1
    done
    fail "$1 does not hold $2 up to $3 (holds $(held "$1" "$2"))"
}
serve() { # serve NAME NODE: starts a server in the background
    "$TV" -d "$2" serve --verbose >>"$W/$1.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$1=$!"
}
stop() { # stop NAME: stops the server started as NAME, and waits for it
    local pid
    pid=$(eval "echo \$PID_$1")
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}
sync_once() { # sync_once NODE: one exchange with its parent, in step
    run "$TV" -d "$1" sync --once --timeout 60
    expect_ok "sync --once of $1"
    grep -q "in step" "$W/out" || fail "sync --once of $1 is not in step"
}

# in_files DIR HEX: whether any file under DIR holds the bytes HEX, raw or as hex text
in_files() {
    python3 - "$1" "$2" <<'PY'
import os, sys
root, needle = sys.argv[1], bytes.fromhex(sys.argv[2])
hexes = (sys.argv[2].lower().encode(), sys.argv[2].upper().encode())
for d, _, files in os.walk(root):
    for f in files:
        data = open(os.path.join(d, f), 'rb').read()
        if needle in data or any(h in data for h in hexes):
            print(os.path.join(d, f))
            sys.exit(0)
sys.exit(1)
PY
}

PP=$(free_port)
PD=$(free_port)
P=$W/province-56
D=$W/district-568
C=$W/commune-22333
N=$W/district-569

check "a province (root, health), a district without the health flag, a commune under it"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$D" init --role district --unit 568 --name "UBND TP Nha Trang" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$D" "$P" --scope 22333 2>/dev/null
enrol "$C" "$D" 2>/dev/null
IDP=$(node_id "$P")
IDD=$(node_id "$D")
IDC=$(node_id "$C")
"$TV" -d "$P" peer listen "tcp://127.0.0.1:$PP" >/dev/null
"$TV" -d "$D" peer listen "tcp://127.0.0.1:$PD" >/dev/null
"$TV" -d "$D" peer add "$IDP@tcp://127.0.0.1:$PP" --parent >/dev/null
"$TV" -d "$C" peer add "$IDD@tcp://127.0.0.1:$PD" --parent >/dev/null

check "only the root sets the retention period"
run "$TV" -d "$C" retention set 7
expect_refused 1 "a commune setting the period"
expect_err_has "only the root (the province's node) sets the retention period" "a commune setting the period"
run "$TV" -d "$D" retention set 7
expect_refused 1 "a district setting the period"
run "$TV" -d "$C" retention show --json
[[ $(json_get days <<<"$OUT") == 28 && $(json_get set <<<"$OUT") == null ]] ||
    fail "the default period: $OUT"

# Forty days ago (a Tuesday at 09:00 in Vietnam) and today: the old week is its ISO week.
OLD=$(python3 -c 'import datetime as d; t=d.datetime.now(d.timezone(d.timedelta(hours=7)))-d.timedelta(days=40); print(t.replace(hour=9,minute=0,second=0,microsecond=0).isoformat())')
WEEK=$(python3 -c 'import datetime as d,sys; t=d.datetime.fromisoformat(sys.argv[1]); y,w,_=t.isocalendar(); print(f"{y}-W{w:02d}")' "$OLD")
NOW=$(python3 -c 'import datetime as d; print(d.datetime.now(d.timezone(d.timedelta(hours=7))).replace(microsecond=0).isoformat())')
V=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
scan() { "$TV" -d "$C" scan --venue "$V" --person "$1" --at "$2" "${@:3}" >/dev/null 2>&1 || fail "scan $1 at $2"; }
check "the commune records: three people forty days ago, one of them again today"
scan 0901000001 "$OLD"            # GONE: seen only then
scan 0901000001 "$OLD" --out
scan 0901000002 "$OLD"            # HELD: the health authority will hold them
scan 0901000003 "$OLD"            # BACK: seen again today
scan 0901000003 "$NOW"
# their pseudonyms, from the person records in the commune's log, in the order recorded
mapfile -t REFS < <("$TV" -d "$C" log --json | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["type"] == "person": print(e["fields"]["person"])')
[[ ${#REFS[@]} -eq 3 ]] || fail "three person records: ${REFS[*]}"
GONE=${REFS[0]} HELD=${REFS[1]} BACK=${REFS[2]}
in_files "$C" "$GONE" >/dev/null || fail "the search finds nothing even before the purge"

serve province "$P"
serve district "$D"
sync_once "$C"
CSEQ=$(held "$C" "$IDC")
wait_held "$P" "$IDC" "$CSEQ"
visits_then() { # visits_then NODE: the visits at the market 40 days ago NODE shows
    "$TV" -d "$1" venue visits "$V" --date "${OLD:0:10}" --json 2>/dev/null | grep -c '^{' || true
}
report_row() { # report_row NODE: the figures of 22333 in the old week
    "$TV" -d "$1" report --week "$WEEK" --format json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    if r["unit"] == "22333":
        print(r["venues_scanned"], r["check_ins"], r["check_outs"], r["visitors_estimate"], r["f0"], r["f1"])'
}
REPORT_D=$(report_row "$D")
REPORT_C=$(report_row "$C")
[[ $REPORT_C == "1 3 1 "* ]] || fail "the old week at the commune: $REPORT_C"
[[ $REPORT_D == "$REPORT_C" ]] || fail "the old week at the district: $REPORT_D, not $REPORT_C"
[[ $(visits_then "$D") == 3 ]] || fail "the district shows $(visits_then "$D") visits of 40 days ago, not 3"

check "only a health node places a hold; the province holds one person"
run "$TV" -d "$D" hold add --ref "$HELD" --reason "điều tra ca F0"
expect_refused 1 "a district placing a hold"
expect_err_has "only a node whose certificate carries the health flag may" "a district placing a hold"
run "$TV" -d "$P" hold add --ref "$HELD" --reason "điều tra ca F0 số 12"
expect_ok "the province placing a hold"
PSEQ=$(held "$P" "$IDP")
wait_held "$D" "$IDP" "$PSEQ"
sync_once "$C"
[[ $(held "$C" "$IDP") -ge $PSEQ ]] || fail "the hold did not reach the commune"
run "$TV" -d "$C" hold list --json
[[ $(json_get person <<<"$OUT") == "$HELD" && $(json_get held <<<"$OUT") == true ]] ||
    fail "the commune's holds: $OUT"
# the hold is sealed: the commune learns it in its own pseudonym, not why, and the district
# (no key) learns nothing of it
for n in "$C" "$D"; do
    "$TV" -d "$n" log --json >"$W/log" 2>/dev/null || fail "log at $n"
    grep -q '"type":"hold"' "$W/log" && fail "$n holds a plain hold"
    grep -rlaF -- "điều tra ca F0 số 12" "$n" >/dev/null && fail "$n's files hold the hold's reason"
done
run "$TV" -d "$D" hold list --json
[[ -z $OUT ]] || fail "the district lists holds: $OUT"

check "the commune purges and truncates its log behind a checkpoint"
run "$TV" -d "$C" purge --json
expect_ok "purge at the commune"
[[ $(json_get scans <<<"$OUT") == 3 && $(json_get persons <<<"$OUT") == 1 ]] ||
    fail "the commune's purge: $OUT"
[[ $(json_get checkpoint upto <<<"$OUT") == "$CSEQ" ]] || fail "the checkpoint's base: $OUT"
in_files "$C" "$GONE" && fail "the commune's files still hold the pseudonym of a person seen only 40 days ago"
in_files "$C" "$HELD" >/dev/null || fail "the held person's records left the commune"
in_files "$C" "$BACK" >/dev/null || fail "the records of a person seen today left the commune"
run "$TV" -d "$C" verify
expect_ok "verify at the commune after its checkpoint"

check "the district takes the checkpoint over ZeroMQ; its server purges as it starts"
sync_once "$C"
CSEQ2=$(held "$C" "$IDC")
[[ $(held "$D" "$IDC") -ge $CSEQ2 ]] || fail "the district does not hold the checkpoint"
purged() { "$TV" -d "$1" status --json 2>/dev/null | json_eval "j['retention']['purged']" 2>/dev/null || true; }
WAS=$(purged "$D")
stop district
serve district "$D"
for ((i = 0; i < 600; i++)); do # polls what the server works towards: its purge done
    NOWP=$(purged "$D")
    [[ -n $NOWP && $NOWP != "$WAS" ]] && break
    sleep 0.1
done
[[ -n $NOWP && $NOWP != "$WAS" ]] || fail "the district's server did not purge as it started"
in_files "$D" "$GONE" && fail "the district's files still hold the pseudonym of a person seen only 40 days ago"
in_files "$D" "$HELD" >/dev/null || fail "the held person's records left the district"
in_files "$D" "$BACK" >/dev/null || fail "the records of a person seen today left the district"
run "$TV" -d "$D" verify
expect_ok "verify at the district"
[[ $(report_row "$D") == "$REPORT_D" ]] || fail "the old week changed at the district: $(report_row "$D")"
[[ $(report_row "$C") == "$REPORT_C" ]] || fail "the old week changed at the commune: $(report_row "$C")"
# the district cannot tell who is held (the hold is sealed): its indexes forget the held
# person's old visit too, while the bytes stay in the commune's log (above)
[[ $(visits_then "$D") == 0 ]] || fail "the district shows $(visits_then "$D") visits of 40 days ago"
[[ $(visits_then "$C") == 1 ]] || fail "the commune shows $(visits_then "$C") visits of 40 days ago, not the held person's alone"

check "the commune and its district still sync, and verify"
scan 0901000004 "$(python3 -c 'import datetime as d; print(d.datetime.now(d.timezone(d.timedelta(hours=7))).replace(microsecond=0).isoformat())')"
sync_once "$C"
[[ $(held "$D" "$IDC") -eq $(held "$C" "$IDC") ]] || fail "the district is behind the commune"
for n in "$C" "$D"; do
    run "$TV" -d "$n" verify
    expect_ok "verify at $n after the sync"
done
in_files "$D" "$GONE" && fail "the old pseudonym came back to the district"

check "a node enrolled afterwards syncs from scratch and gets the log from the checkpoint"
wait_held "$P" "$IDC" "$(held "$C" "$IDC")"
"$TV" -d "$N" init --role district --unit 569 --name "UBND Huyện Cam Lâm" >/dev/null 2>&1
enrol "$N" "$P" --scope 22333 2>/dev/null
"$TV" -d "$N" peer add "$IDP@tcp://127.0.0.1:$PP" --parent >/dev/null
sync_once "$N"
[[ $(held "$N" "$IDC") -eq $(held "$C" "$IDC") ]] || fail "the new node does not hold the commune's log"
run "$TV" -d "$N" verify
expect_ok "verify at the new node"
run "$TV" -d "$N" log --json
grep -q "\"upto\":$CSEQ" "$W/out" || fail "the new node's copy of the log does not start at the checkpoint"
in_files "$N" "$GONE" && fail "the new node got the pseudonym of a person seen only 40 days ago"
in_files "$N" "$HELD" >/dev/null || fail "the held person's records did not reach the new node"
in_files "$N" "$BACK" >/dev/null || fail "the records of a person seen today did not reach the new node"
echo "PASS"
