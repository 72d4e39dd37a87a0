#!/usr/bin/env bash
# Integration test of sync over real processes and real ZeroMQ on TCP loopback: a province,
# a district and two communes, enrolled with the CLI; scans travel commune -> district ->
# province; the province's certificates travel down; a commune falls back to the province
# when its district is killed, and the district catches up later without duplicates; keys
# that are not enrolled under the root, or revoked, are refused.
#
# Usage: bash tests/cli/sync_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PIDS=()
cleanup() { # lib.sh's, but it stops the servers first
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}
[[ -n ${KEEP-} ]] && trap - EXIT

# fail WHAT: reports a failed check with the end of every server's log, and ends the test.
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    for f in "$W"/*.log; do
        [[ -f $f ]] && { printf -- '--- %s\n' "$f" >&2; tail -n 30 "$f" >&2; }
    done
    exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# json_eval PYEXPR: prints a Python expression evaluated on `j`, the JSON read from stdin
json_eval() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

# held NODE ORIGIN: the last seq NODE holds of ORIGIN's log (0 if none)
held() {
    "$TV" -d "$1" status --json | json_eval "next((f['seq'] for f in j['frontier'] if f['origin']=='$2'), 0)"
}

# wait_held NODE ORIGIN SEQ: waits (bounded) until NODE holds ORIGIN up to SEQ. Polling a
# condition the servers are working towards, not sleeping in place of synchronisation.
wait_held() {
    local i
    for ((i = 0; i < 600; i++)); do
        [[ $(held "$1" "$2") -ge $3 ]] && return 0
        sleep 0.1
    done
    fail "$1 does not hold $2 up to $3 (holds $(held "$1" "$2"))"
}

node_id() { "$TV" -d "$1" status --json | json_eval "j['node_id']"; }

serve() { # serve NAME NODE: starts a server in the background
    "$TV" -d "$2" serve --verbose >"$W/$1.log" 2>&1 &
    PIDS+=($!)
    eval "PID_$1=$!"
}

PP=$(free_port)
PD=$(free_port)
P=$W/province-56
D=$W/district-568
C=$W/commune-22333
C2=$W/commune-22334

check "a province, a district and two communes, enrolled down the tree"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$D" init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$C2" init --role commune --unit 22334 --unlisted --name "UBND Phường Nam Nha Trang" >/dev/null 2>&1
enrol "$D" "$P" --scope 22333,22334
enrol "$C" "$D"
enrol "$C2" "$D"
IDP=$(node_id "$P")
IDD=$(node_id "$D")
IDC=$(node_id "$C")
IDC2=$(node_id "$C2")
"$TV" -d "$P" peer listen "tcp://127.0.0.1:$PP"
"$TV" -d "$D" peer listen "tcp://127.0.0.1:$PD"
"$TV" -d "$D" peer add "tcp://127.0.0.1:$PP" --parent
for c in "$C" "$C2"; do
    "$TV" -d "$c" peer add "tcp://127.0.0.1:$PD" --parent
    "$TV" -d "$c" peer add "tcp://127.0.0.1:$PP" --parent
done

check "scans at the communes"
csv() { # csv VENUE FIRST COUNT
    echo "venue,person,direction,time"
    for ((i = $2; i < $2 + $3; i++)); do
        printf '%s,09%08d,in,2021-10-06T%02d:%02d:00+07:00\n' "$1" "$i" $((7 + i % 12)) $((i % 60))
    done
}
V=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market)
csv "$V" 0 2000 >"$W/c.csv"
"$TV" -d "$C" import --csv "$W/c.csv" >/dev/null 2>&1
V2=$("$TV" -d "$C2" venue add --name "Chợ Xóm Mới" --category market)
csv "$V2" 0 300 >"$W/c2.csv"
"$TV" -d "$C2" import --csv "$W/c2.csv" >/dev/null 2>&1
NC=$(held "$C" "$IDC")
NC2=$(held "$C2" "$IDC2")
# a venue, and a person record and a scan for each person
[[ $NC -eq 4001 && $NC2 -eq 601 ]] || fail "communes hold $NC and $NC2 events"

serve P "$P"
serve D "$D"

check "commune -> district -> province"
"$TV" -d "$C" sync --once --timeout 60 >"$W/sync1.out" 2>"$W/sync1.log" ||
    fail "sync --once of the commune did not reach in step"
grep -q "in step" "$W/sync1.out" || fail "sync --once does not say it is in step"
[[ $(held "$D" "$IDC") -eq $NC ]] || fail "the district does not hold the commune's log"
wait_held "$P" "$IDC" "$NC"
"$TV" -d "$C2" sync --once --timeout 60 >/dev/null 2>"$W/sync2.log" || fail "commune 2 sync failed"
wait_held "$P" "$IDC2" "$NC2"

check "down the tree: the root's and the district's logs reach the commune, other communes' do not"
wait_held "$D" "$IDP" 2 # the district has the province's log by now: a second sync brings it
"$TV" -d "$C" sync --once --timeout 60 >/dev/null 2>"$W/sync1b.log" || fail "second sync of the commune failed"
[[ $(held "$C" "$IDP") -ge 2 ]] || fail "the commune lacks the province's log"
[[ $(held "$C" "$IDD") -ge 2 ]] || fail "the commune lacks the district's log"
[[ $(held "$C" "$IDC2") -eq 0 ]] || fail "the commune holds another commune's scans"

check "an event the province writes later reaches the commune"
NP=$(held "$P" "$IDP")
X=$W/outsider
"$TV" -d "$X" init --role district --unit 569 --name "TTYT Cam Ranh" >/dev/null 2>&1
enrol "$X" "$P" --scope 22500
NP2=$(held "$P" "$IDP")
[[ $NP2 -gt $NP ]] || fail "issuing a certificate did not add to the province's log"
wait_held "$D" "$IDP" "$NP2"
"$TV" -d "$C" sync --once --timeout 60 >/dev/null 2>"$W/sync3.log" || fail "sync after the new certificate failed"
[[ $(held "$C" "$IDP") -eq $NP2 ]] || fail "the province's new event did not reach the commune"

check "the district dies mid-way: the commune falls back to the province"
kill -9 "$PID_D"
wait "$PID_D" 2>/dev/null || true
csv "$V" 5000 500 >"$W/c3.csv"
"$TV" -d "$C" import --csv "$W/c3.csv" >/dev/null 2>&1
NC=$(held "$C" "$IDC")
"$TV" -d "$C" sync --once --timeout 90 >"$W/sync4.out" 2>"$W/sync4.log" ||
    fail "the commune did not reach the province without its district"
grep -q "127.0.0.1:$PP" "$W/sync4.out" || fail "the fallback sync was not with the province"
[[ $(held "$P" "$IDC") -eq $NC ]] || fail "the province lacks the scans sent in the fallback"

check "the district comes back and catches up from the province, without duplicates"
serve D "$D"
wait_held "$D" "$IDC" "$NC"
"$TV" -d "$D" verify >/dev/null || fail "verify fails at the district"
SCANS=$("$TV" -d "$D" status --json | json_eval "j['events']['scan']")
[[ $SCANS -eq $((2000 + 500 + 300)) ]] || fail "the district counts $SCANS scans"

check "a copy of a commune that records on its own is caught as a fork, and frozen"
cp -a "$C" "$W/clone"
rm -f "$W/clone/peers.json"
# a copy refuses to record before it has synced; its operator overrides that
"$TV" -d "$W/clone" resync --override --reason "a copy that records on its own" >/dev/null ||
    fail "the override on the copy failed"
"$TV" -d "$C" scan --venue "$V" --person 0912000001 >/dev/null 2>&1
"$TV" -d "$C" sync --once --peer "$IDD@tcp://127.0.0.1:$PD" --timeout 30 >/dev/null 2>"$W/sync7.log" ||
    fail "the commune's sync before the fork failed"
"$TV" -d "$W/clone" scan --venue "$V" --person 0912000002 >/dev/null 2>&1
if "$TV" -d "$W/clone" sync --once --peer "$IDD@tcp://127.0.0.1:$PD" --timeout 30 >/dev/null 2>"$W/sync8.log"; then
    fail "the copy's conflicting batch was accepted"
fi
FORKS=$("$TV" -d "$D" status --json | json_eval "[f['origin'] for f in j['forks']]")
[[ $FORKS == *"$IDC"* ]] || fail "the district does not report the fork (forks: $FORKS)"
"$TV" -d "$D" status | grep -q "^FORK" || fail "status does not show the fork"
NCF=$(held "$D" "$IDC")
"$TV" -d "$C" scan --venue "$V" --person 0912000003 >/dev/null 2>&1
if "$TV" -d "$C" sync --once --peer "$IDD@tcp://127.0.0.1:$PD" --timeout 30 >/dev/null 2>"$W/sync9.log"; then
    fail "a frozen commune's sync reached in step"
fi
[[ $(held "$D" "$IDC") -eq $NCF ]] || fail "the district took a frozen commune's new events"

check "a node enrolled under another root is refused"
R2=$W/other-province
O=$W/other-commune
"$TV" -d "$R2" init --role province --unit 79 --name "Sở Y tế TP.HCM" >/dev/null 2>&1
"$TV" -d "$O" init --role commune --unit 26734 --unlisted --name "Phường X" >/dev/null 2>&1
enrol "$O" "$R2" --scope 26734 2>/dev/null || enrol "$O" "$R2"
V3=$("$TV" -d "$O" venue add --name "Quán" --category cafe)
"$TV" -d "$O" scan --venue "$V3" --person 0912345678 >/dev/null 2>&1
IDO=$(node_id "$O")
if "$TV" -d "$O" sync --once --peer "$IDP@tcp://127.0.0.1:$PP" --timeout 10 >/dev/null 2>"$W/sync5.log"; then
    fail "a stranger's sync succeeded"
fi
[[ $(held "$P" "$IDO") -eq 0 ]] || fail "the province accepted a stranger's events"

check "a revoked commune is refused"
"$TV" -d "$D" revoke "$IDC2" --reason "laptop stolen" >/dev/null
NDR=$(held "$D" "$IDD")
wait_held "$P" "$IDD" "$NDR"
"$TV" -d "$C2" scan --venue "$V2" --person 0912345678 >/dev/null 2>&1
if "$TV" -d "$C2" sync --once --peer "$IDP@tcp://127.0.0.1:$PP" --timeout 10 >/dev/null 2>"$W/sync6.log"; then
    fail "a revoked commune's sync succeeded"
fi
[[ $(held "$P" "$IDC2") -eq $NC2 ]] || fail "the province accepted a revoked commune's new events"

check "servers stop cleanly on SIGTERM"
kill -TERM "$PID_P" "$PID_D"
wait "$PID_P" || fail "the province's server did not exit 0 on SIGTERM"
wait "$PID_D" || fail "the district's server did not exit 0 on SIGTERM"
PIDS=()
"$TV" -d "$P" verify >/dev/null || fail "verify fails at the province"

check "bundle export --for: what the recipient should hold, on a stick, applies cleanly"
"$TV" -d "$D" bundle export --out "$W/for-c.bundle" --for "$IDC" --json >"$W/for.json" 2>/dev/null ||
    fail "bundle export --for failed"
"$TV" -d "$C" bundle import "$W/for-c.bundle" >/dev/null 2>"$W/for-import.log" ||
    fail "the commune refused part of a bundle made for it"
[[ $(held "$C" "$IDC2") -eq 0 ]] || fail "a bundle made for the commune carried another commune's log"
[[ $(held "$C" "$IDD") -eq $(held "$D" "$IDD") ]] || fail "the bundle lacked the district's log"
echo "sync_test: all checks passed"
