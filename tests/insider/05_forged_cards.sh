#!/usr/bin/env bash
# Insider attack 5: forged personal cards at a gate. A card is taken only when it verifies
# under a certificate the gate holds whose chain up to the root is installed and unrevoked
# (PROTOCOL.md 9.3); every node holds the certificates of its whole province (6.5), so a
# genuine card from a commune under another district is taken once the gate has synced.
# Refused, with the gate's exact answer and nothing recorded: a card signed by a key that
# was never enrolled (carrying a confirmed case's pseudonym, which must not show in red),
# a card from a commune under another root, a card whose display text was altered, and a
# card whose issuer's district was revoked.
#
# Usage: bash tests/insider/05_forged_cards.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PIDS=()
cleanup() { # lib.sh's, but it stops the servers this test started first
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
id() { "$TV" -d "$1" status --json | json_get node_id; }
# held DIR ORIGIN: the last seq DIR holds of ORIGIN's log (0 if none), from its frontier
held() {
    "$TV" -d "$1" status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(next((f["seq"] for f in j["frontier"] if f["origin"] == sys.argv[1]), 0))' "$2"
}
init() { "$TV" -d "$1" init --role "$2" --unit "$3" --unlisted --name "$4" >/dev/null 2>&1 || fail "init $1"; }

P=$W/province-56
D1=$W/district-568
D2=$W/district-569
C1=$W/commune-22333 # the gate
C2=$W/commune-22400 # under the other district
FP=$W/province-57   # another province's tree
FC=$W/commune-23000
R=$W/never-enrolled
init "$P" province 56 "Sở Y tế Khánh Hòa"
init "$D1" district 568 "TTYT Nha Trang"
init "$D2" district 569 "TTYT Cam Ranh"
init "$C1" commune 22333 "Phường Bắc Nha Trang"
init "$C2" commune 22400 "Phường Cam Lộc"
init "$FP" province 57 "Sở Y tế Ninh Thuận"
init "$FC" commune 23000 "Phường Phủ Hà"
init "$R" commune 22333 "Phường Bắc Nha Trang"
enrol "$D1" "$P" --scope 22333 2>/dev/null
enrol "$D2" "$P" --scope 22400 2>/dev/null
enrol "$C1" "$D1" 2>/dev/null
enrol "$C2" "$D2" 2>/dev/null
enrol "$FC" "$FP" 2>/dev/null
D2_ID=$(id "$D2")
C2_ID=$(id "$C2")

CASE=0901000000
run "$TV" -d "$P" case add --payload "$CASE" --status F0 --onset 2021-10-08
expect_ok "the province records a confirmed case"

# card DIR PHONE: the personal code DIR issues for PHONE
card() {
    "$TV" -d "$1" person card --person "$2" --out "$W/card.png" 2>/dev/null || fail "person card at $1"
}
GENUINE_CASE=$(card "$C2" "$CASE")
GENUINE=$(card "$C2" 0901000002)
FOREIGN=$(card "$FC" 0901000003)
# an insider with the issuing commune's pseudonym key and a key of their own: the case's pseudonym
# on a card signed by a node no one certified
"$(dirname "$TV")/insider_copy_tracing" "$C2" "$R" || fail "copying the tracing key"
FORGED_CASE=$(card "$R" "$CASE")
[[ ${FORGED_CASE:4:26} == "${GENUINE_CASE:4:26}" ]] || fail "the forged card does not carry the case's pseudonym"
ALTERED=${GENUINE%:*}:09******99 # the display changed, the signature kept
[[ $ALTERED != "$GENUINE" && $GENUINE == *":09******02" ]] || fail "the genuine card: $GENUINE"

G=$("$TV" -d "$C1" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
UNKNOWN="KHÔNG ĐỌC ĐƯỢC MÃ (thẻ không rõ nơi cấp: nút này chưa có chứng chỉ của nơi cấp thẻ)"
BADSIG="KHÔNG ĐỌC ĐƯỢC MÃ (chữ ký thẻ không hợp lệ: thẻ giả hoặc đã bị sửa)"
REVOKED="KHÔNG ĐỌC ĐƯỢC MÃ (nơi cấp thẻ đã bị thu hồi khóa)"

# gate_refuses LINE...: scans the lines at the gate of C1 (answers in A) and checks that
# nothing was recorded: the same counts, log and visits as before
gate_refuses() {
    local scans events log visits
    scans=$(status_get "$C1" events scan)
    events=$(status_get "$C1" events total)
    log=$("$TV" -d "$C1" log --json)
    visits=$("$TV" -d "$C1" venue visits "$G" 2>&1)
    printf '%s\n' "$@" | "$TV" -d "$C1" station --venue "$G" >"$W/gate" 2>"$W/gate.err" ||
        fail "station: $(cat "$W/gate.err")"
    mapfile -t A <"$W/gate"
    [[ $(status_get "$C1" events scan) == "$scans" && $(status_get "$C1" events total) == "$events" ]] ||
        fail "the gate recorded a refused card: $(cat "$W/gate")"
    [[ $("$TV" -d "$C1" log --json) == "$log" ]] || fail "the gate's log changed"
    [[ $("$TV" -d "$C1" venue visits "$G" 2>&1) == "$visits" ]] || fail "the venue's visits changed"
}

check "before the gate has synced: a genuine card from another district's commune is not known yet"
gate_refuses "$GENUINE"
[[ ${A[0]} == "$UNKNOWN" ]] || fail "the card of a commune not yet known: ${A[0]}"
"$TV" -d "$C1" log --json | grep -q '"type":"scan"' && fail "the gate's log shows a scan"
[[ $(held "$C1" "$D2_ID") -eq 0 ]] || fail "the gate holds the other district's log already"

check "the gate syncs with its parents: the district with the province, the commune with the district"
PP=$(free_port)
PD=$(free_port)
"$TV" -d "$P" peer listen "tcp://127.0.0.1:$PP"
"$TV" -d "$D1" peer listen "tcp://127.0.0.1:$PD"
for n in "$D1" "$D2"; do "$TV" -d "$n" peer add "tcp://127.0.0.1:$PP" --parent; done
"$TV" -d "$C1" peer add "tcp://127.0.0.1:$PD" --parent
"$TV" -d "$P" serve >"$W/p.log" 2>&1 &
PIDS+=($!)
"$TV" -d "$D2" sync --once --timeout 60 >/dev/null 2>"$W/d2.log" || fail "district 2's sync: $(tail -3 "$W/d2.log")"
"$TV" -d "$D1" sync --once --timeout 60 >/dev/null 2>"$W/d1.log" || fail "district 1's sync: $(tail -3 "$W/d1.log")"
"$TV" -d "$D1" serve >"$W/d1s.log" 2>&1 &
PIDS+=($!)
"$TV" -d "$C1" sync --once --timeout 60 >/dev/null 2>"$W/c1.log" || fail "the gate's sync: $(tail -3 "$W/c1.log")"
[[ $(held "$C1" "$D2_ID") -eq $(held "$D2" "$D2_ID") && $(held "$C1" "$D2_ID") -gt 0 ]] ||
    fail "the gate does not hold the other district's log (its certificates)"
[[ $(held "$C1" "$C2_ID") -eq 0 ]] || fail "the gate holds another commune's log"

check "forged cards are refused with the exact answer, nothing recorded, the case not shown in red"
gate_refuses "$FORGED_CASE" "$FOREIGN" "$ALTERED"
[[ ${A[0]} == "$UNKNOWN" ]] || fail "a card signed by a key never enrolled, with the case's pseudonym: ${A[0]}"
[[ ${A[1]} == "$UNKNOWN" ]] || fail "a card from a commune under another root: ${A[1]}"
[[ ${A[2]} == "$BADSIG" ]] || fail "a card whose display was altered: ${A[2]}"
[[ $(wc -l <"$W/gate") -eq 3 ]] || fail "the gate answered: $(cat "$W/gate")"
grep -q "ĐỎ" "$W/gate" && fail "a forged card shown in red"

check "genuine cards from another district's commune are taken"
scans=$(status_get "$C1" events scan)
printf '%s\n' "$GENUINE_CASE" "$GENUINE" | "$TV" -d "$C1" station --venue "$G" >"$W/gate" 2>/dev/null ||
    fail "station"
mapfile -t A <"$W/gate"
# no colour: the gate's commune had not recorded the case, and a commune learns the status
# only of people it has recorded (PROTOCOL.md 2.11)
[[ ${A[0]} == "OK  09******00  đã vào "* && ${A[0]} != *"("* ]] ||
    fail "the case's genuine card: ${A[0]}"
[[ ${A[1]} == "OK  09******02  đã vào "* && ${A[1]} != *"("* ]] || fail "a genuine card: ${A[1]}"
[[ $(status_get "$C1" events scan) -eq $((scans + 2)) ]] || fail "not exactly two scans recorded"

check "the province revokes the issuer's district: the commune's cards are refused up the chain"
"$TV" -d "$P" revoke "$D2_ID" --reason "khóa bị lộ" >/dev/null 2>&1 || fail "revoke"
for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
wait 2>/dev/null || true
PIDS=()
ship "$P" "$C1"
gate_refuses "$GENUINE"
[[ ${A[0]} == "$REVOKED" ]] || fail "a card of a revoked district's commune: ${A[0]}"
echo "PASS"
