#!/usr/bin/env bash
# Insider attack 6 of issue 14: a fork hides data. A commune's laptop is restored from a
# backup and records on: the same seqs now hold other events. The province holds the
# original branch first; the restored branch reaches it as fork evidence. Its visits must
# still be traced: the case's visit recorded only on the restored branch finds the contact
# recorded only on the original one. And a restored node refuses to record until it has
# synced with a parent (exit status 3, an exact message), unless the operator overrides
# it, which is logged; one that syncs first continues after its parents' seq, no fork.
#
# Through the real CLI, stores and ZeroMQ sync: a province and a district serving on
# loopback, two communes syncing with `sync --once`.
#
# Usage: bash tests/insider/06_fork.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PIDS=()
cleanup() { # lib.sh's, but it stops the servers first
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}

RESTORED="this node's store was restored or copied: sync once with a parent (truyvet sync --once) before recording, or override with 'truyvet resync --override --reason TEXT'."

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
json_eval() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
node_id() { "$TV" -d "$1" status --json | json_eval "j['node_id']"; }
# held NODE ORIGIN: the last seq NODE holds of ORIGIN's log (0 if none)
held() {
    "$TV" -d "$1" status --json |
        json_eval "next((f['seq'] for f in j['frontier'] if f['origin']=='$2'), 0)"
}
# wait_held NODE ORIGIN SEQ: polls (bounded) until NODE holds ORIGIN up to SEQ; the servers
# are working towards it
wait_held() {
    local i
    for ((i = 0; i < 600; i++)); do
        [[ $(held "$1" "$2") -ge $3 ]] && return 0
        sleep 0.1
    done
    fail "$1 does not hold $2 up to $3 (holds $(held "$1" "$2"))"
}
serve() { # serve NAME NODE
    "$TV" -d "$2" serve --verbose >"$W/$1.log" 2>&1 &
    PIDS+=($!)
}
# visits DIR FILE VENUE "PHONE DAY IN OUT"...: records the visits with one import (one
# batch of the node's log: the new people's records, then the scans)
visits() {
    local dir=$1 file=$W/$2 venue=$3 v
    shift 3
    echo "venue,person,direction,time" >"$file"
    for v in "$@"; do
        read -r phone day t_in t_out <<<"$v"
        echo "$venue,$phone,in,${day}T$t_in:00+07:00" >>"$file"
        echo "$venue,$phone,out,${day}T$t_out:00+07:00" >>"$file"
    done
    run "$TV" -d "$dir" import --csv "$file"
}
# f1 [ARGS]: the F1 people the province finds for the case, sorted
f1() {
    "$TV" -d "$P" trace --payload "$CASE" --json "$@" >"$W/trace.json" 2>"$W/trace.err" ||
        fail "trace at the province: $(cat "$W/trace.err")"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
print(" ".join(sorted(c["person"] for c in r["contacts"] if c["level"] == "F1")))
' "$W/trace.json"
}

P=$W/province-56
D=$W/district-568
C=$W/commune-22333
C2=$W/commune-22334
PP=$(free_port)
PD=$(free_port)
CASE=0901000000 # recorded only on the restored branch
X=0901000001    # the contact: recorded only on the original branch
Q=0901000002    # with the case again, later, on the restored branch

check "a province, a district and two communes, enrolled and syncing up the tree"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$D" init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$C2" init --role commune --unit 22334 --unlisted --name "UBND Phường Nam Nha Trang" >/dev/null 2>&1
# a district health centre (TTYT): with the health flag it holds the province key and
# gives the communes their pseudonym keys at enrolment
enrol "$D" "$P" --scope 22333,22334 --health 2>/dev/null
enrol "$C" "$D" 2>/dev/null
enrol "$C2" "$D" 2>/dev/null
IDP=$(node_id "$P")
IDC=$(node_id "$C")
IDC2=$(node_id "$C2")
"$TV" -d "$P" peer listen "tcp://127.0.0.1:$PP"
"$TV" -d "$D" peer listen "tcp://127.0.0.1:$PD"
"$TV" -d "$D" peer add "tcp://127.0.0.1:$PP" --parent
for c in "$C" "$C2"; do
    "$TV" -d "$c" peer add "tcp://127.0.0.1:$PD" --parent
    "$TV" -d "$c" peer add "tcp://127.0.0.1:$PP" --parent
done
serve P "$P"
serve D "$D"
V=$("$TV" -d "$C" venue add --name "Quán cà phê Biển" --category cafe 2>/dev/null)
visits "$C" z.csv "$V" "0901000009 2021-10-03 08:00 09:00"
expect_ok "the first visits"
"$TV" -d "$C" sync --once --timeout 60 >/dev/null 2>"$W/sync1.err" || fail "sync: $(cat "$W/sync1.err")"
N0=$(held "$C" "$IDC")
wait_held "$P" "$IDC" "$N0"

check "the operator backs the commune up while it is stopped; it records on and syncs"
cp -a "$C" "$W/backup"
visits "$C" x.csv "$V" "$X 2021-10-06 08:30 09:30"
expect_ok "X's visit"
N1=$(held "$C" "$IDC")
[[ $N1 -eq $((N0 + 3)) ]] || fail "X's visit is $((N1 - N0)) events, not 3"
"$TV" -d "$C" sync --once --timeout 60 >/dev/null 2>"$W/sync2.err" || fail "sync: $(cat "$W/sync2.err")"
wait_held "$P" "$IDC" "$N1"
run "$TV" -d "$P" case add --payload "$CASE" --status F0 --onset 2021-10-08
expect_ok "case add F0"
[[ $(f1) == "" ]] || fail "the province found contacts before the case's visit reached it"

check "the backup is restored: it refuses to record, with the exact message and status 3"
rm -rf "$C"
cp -a "$W/backup" "$C"
run "$TV" -d "$C" scan --venue "$V" --person "$CASE" --at 2021-10-06T08:00:00+07:00
expect_refused 3 "a scan on the restored node"
[[ $ERR == "truyvet: the scan was NOT recorded: $RESTORED" ]] || fail "the message: $ERR"
visits "$C" refused.csv "$V" "$CASE 2021-10-06 08:00 09:00"
expect_rc 3 "an import on the restored node"
expect_err_has "$RESTORED" "an import on the restored node"
run "$TV" -d "$C" venue add --name "Chợ" --category market
expect_refused 3 "a venue on the restored node"
expect_err_has "$RESTORED" "a venue on the restored node"
[[ $(held "$C" "$IDC") -eq $N0 ]] || fail "the restored node recorded"
[[ $(status_get "$C" resync required) == true ]] || fail "status does not say it waits"
"$TV" -d "$C" status | grep -q "^RESYNC " || fail "status (text) does not say it waits"
run "$TV" -d "$C" resync
expect_ok "resync"
grep -q "^this node's store was restored or copied" "$W/out" || fail "resync says: $OUT"

check "the override needs a reason, is logged, and lets it record"
run "$TV" -d "$C" resync --override
expect_refused 2 "an override without a reason"
run "$TV" -d "$C" resync --override --reason "$(printf 'a\033[2Jb')"
expect_refused 2 "an override whose reason holds a control character"
run "$TV" -d "$C" resync --override --reason "máy được khôi phục từ bản sao lưu"
expect_ok "the override"
[[ $(status_get "$C" resync required) == false ]] || fail "still waiting after the override"
"$TV" -d "$C" status --json | json_eval "[l['kind']+': '+l['detail'] for l in j['resync']['log']]" \
    >"$W/resync.log.seen"
grep -qF "override: máy được khôi phục từ bản sao lưu (own log at seq $N0)" "$W/resync.log.seen" ||
    fail "the override is not in the log: $(cat "$W/resync.log.seen")"
grep -qF "'restored: " "$W/resync.log.seen" || fail "the restore is not in the log"
run "$TV" -d "$C" resync --override --reason "again"
expect_refused 1 "an override with nothing to override"

check "the restored node records the case's visit at the seqs the province holds X's at"
visits "$C" case.csv "$V" "$CASE 2021-10-06 08:00 09:00"
expect_ok "the case's visit"
[[ $(held "$C" "$IDC") -eq $N1 ]] || fail "the case's visit does not end at seq $N1"

check "the province holds the branch without the case; the other arrives as fork evidence"
if "$TV" -d "$C" sync --once --peer "$IDP@tcp://127.0.0.1:$PP" --timeout 60 >/dev/null \
    2>"$W/sync3.err"; then
    fail "the forked branch synced in step"
fi
"$TV" -d "$P" status --json >"$W/pstatus.json"
python3 - "$W/pstatus.json" "$IDC" "$N0" <<'EOF' || fail "fork at the province: $(cat "$W/pstatus.json")"
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
origin, n0 = sys.argv[2], int(sys.argv[3])
assert [(f["origin"], f["seq"]) for f in j["forks"]] == [(origin, n0 + 1)], j["forks"]
assert j["fork_origins"] == [{"origin": origin, "evidence": 1, "frozen": True}], j["fork_origins"]
EOF
"$TV" -d "$P" status | grep -q "^FORKED .*1 evidence batch kept, frozen" ||
    fail "status (text) does not list the forked origin"
[[ $(held "$P" "$IDC") -eq $N1 ]] || fail "the province's log of the commune changed"

check "the province traces the case and finds the contact from the other branch"
[[ $(f1) == "09******01" ]] || fail "F1 at the province: '$(f1)' ($(cat "$W/trace.json"))"
python3 - "$W/trace.json" <<'EOF' || fail "the case's visits: $(cat "$W/trace.json")"
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert [(v["venue_name"], v["unit"]) for v in r["visits"]] == [("Quán cà phê Biển", "22333")]
EOF
run "$TV" -d "$P" trace --payload "$CASE" --reveal --reason "truy vết ca F0" --format csv
expect_ok "trace --reveal"
python3 - "$W/out" <<'EOF' || fail "the revealed trace: $OUT"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
got = sorted({(r["Mức (F0/F1/F2)"], r["Số điện thoại"]) for r in rows})
assert got == [("F0", "0901000000"), ("F1", "0901000001")], got
EOF

check "what the forked branch records next is kept and traced too"
visits "$C" q.csv "$V" "$CASE 2021-10-07 10:00 11:00" "$Q 2021-10-07 10:15 10:45"
expect_ok "the next visits on the restored branch"
"$TV" -d "$C" sync --once --peer "$IDP@tcp://127.0.0.1:$PP" --timeout 60 >/dev/null \
    2>"$W/sync4.err" && fail "the forked branch synced in step"
[[ $(status_get "$P" fork_origins 0 evidence) -eq 2 ]] || fail "the continuation is not kept"
[[ $(f1) == "09******01 09******02" ]] || fail "F1 after the continuation: '$(f1)'"
[[ $(held "$P" "$IDC") -eq $N1 ]] || fail "the province's log of the commune changed"
"$TV" -d "$P" verify >/dev/null || fail "verify fails at the province"

check "a restored node that syncs first gets its own log back and continues after it"
V2=$("$TV" -d "$C2" venue add --name "Chợ Xóm Mới" --category market 2>/dev/null)
visits "$C2" c2a.csv "$V2" "0901000011 2021-10-06 07:00 07:30"
"$TV" -d "$C2" sync --once --timeout 60 >/dev/null 2>"$W/sync5.err" || fail "sync: $(cat "$W/sync5.err")"
cp -a "$C2" "$W/backup2"
visits "$C2" c2b.csv "$V2" "0901000012 2021-10-06 07:10 07:40"
M=$(held "$C2" "$IDC2")
"$TV" -d "$C2" sync --once --timeout 60 >/dev/null 2>"$W/sync6.err" || fail "sync: $(cat "$W/sync6.err")"
wait_held "$P" "$IDC2" "$M"
rm -rf "$C2"
cp -a "$W/backup2" "$C2"
[[ $(held "$C2" "$IDC2") -lt $M ]] || fail "the backup holds the whole log"
run "$TV" -d "$C2" scan --venue "$V2" --person 0901000013
expect_refused 3 "a scan on the restored node before its sync"
run "$TV" -d "$C2" sync --once --timeout 60
expect_ok "the restored node's sync"
[[ $(held "$C2" "$IDC2") -eq $M ]] || fail "the sync did not bring back the node's own log"
[[ $(status_get "$C2" resync required) == false ]] || fail "still waiting after the sync"
"$TV" -d "$C2" status --json | json_eval "[l['kind'] for l in j['resync']['log']]" |
    grep -q "'synced'" || fail "the sync is not in the node's resync log"
run "$TV" -d "$C2" scan --venue "$V2" --person 0901000013 --json
expect_ok "a scan after the sync"
[[ $(json_get id <"$W/out") == "${IDC2:0:16}-$((M + 2))" ]] ||
    fail "the scan is not after the parents' seq $M: $OUT"
run "$TV" -d "$C2" sync --once --timeout 60
expect_ok "the next sync"
wait_held "$P" "$IDC2" $((M + 2))
[[ $(status_get "$P" fork_origins) == "[{\"origin\": \"$IDC\", \"evidence\": 2, \"frozen\": true}]" ]] ||
    fail "the province: $(status_get "$P" fork_origins)"
[[ $(status_get "$D" forks) == "[]" ]] || fail "the district holds fork evidence"
echo "PASS"
