#!/usr/bin/env bash
# Health data flows down only where it is needed (issue 15, item 3). The province records
# cases for people who never visited commune A, and for one who did, and the nodes sync.
# A curious clerk or a thief with A's whole directory looks for what A learnt of the
# others: no file of A -- raw bytes, or their hex in either case -- holds their province-wide
# pseudonym or their pseudonym in A's space, nor their masked number, and A's commands
# list no status of them. A still learns what it needs: `alerts` lists the window the case
# who visited spent at A's venue (and nothing at the other commune's), and A's gate shows
# that case red. The province then shows one of the others in full and holds her, one
# more and A's visitor: those reveals and holds travel sealed to the health nodes, so A's files
# hold nothing of them either, and A is told only of its visitor's hold, in its own
# pseudonym.
#
# Usage: bash tests/privacy/cases_stay_home.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

P=$W/province-56
A=$W/commune-22333
B=$W/commune-22334
VISITOR=0901000000              # a case who visited A's café
AWAY=(0901000071 0901000072)    # cases who only ever visited B's market
NEVER=0901000073                # a case the province records, scanned nowhere

"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$A" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$B" init --role commune --unit 22334 --unlisted --name "Phường Nha Trang" >/dev/null 2>&1
enrol "$A" "$P" 2>/dev/null
enrol "$B" "$P" 2>/dev/null
CAFE=$("$TV" -d "$A" venue add --name "Quán cà phê Biển" --category cafe 2>/dev/null)
MARKET=$("$TV" -d "$B" venue add --name "Chợ Xóm Mới" --category market 2>/dev/null)

visit() { # visit DIR PHONE VENUE DAY IN OUT
    "$TV" -d "$1" scan --venue "$3" --person "$2" --at "$4T$5:00+07:00" >/dev/null 2>&1 ||
        fail "scan $2 at $4 $5"
    "$TV" -d "$1" scan --venue "$3" --person "$2" --out --at "$4T$6:00+07:00" >/dev/null 2>&1 ||
        fail "scan out $2 at $4 $6"
}
visit "$A" "$VISITOR" "$CAFE" 2021-10-06 08:00 09:00
visit "$A" 0901000001 "$CAFE" 2021-10-06 08:30 09:30
visit "$B" "$VISITOR" "$MARKET" 2021-10-07 10:00 11:00
visit "$B" "${AWAY[0]}" "$MARKET" 2021-10-07 10:15 10:45
visit "$B" "${AWAY[1]}" "$MARKET" 2021-10-08 14:00 15:00
ship "$A" "$P"
ship "$B" "$P"

check "the province records the cases"
for who in "$VISITOR" "${AWAY[@]}" "$NEVER"; do
    run "$TV" -d "$P" case add --payload "$who" --status F0 --onset 2021-10-08
    expect_ok "case add $who"
done
run "$TV" -d "$P" case add --payload "${AWAY[1]}" --status cleared --at 2021-10-12
expect_ok "a clearing"
[[ $("$TV" -d "$P" case list --json | grep -c .) -eq 4 ]] || fail "the province's case list"
ship "$P" "$A"
ship "$P" "$B"
ship "$A" "$P" # and back: nothing of A's log changes what A was sent
ship "$P" "$A"

# The pseudonyms of each person: province-wide (keyed BLAKE2b-128 of the identity under the
# province key, PROTOCOL.md §1) and in A's space (under A's commune key, derived from the
# province key and the unit). The province key is read from the province's node.secret
# with its passphrase (tests/privacy/keys.c): only a health node holds it.
PKEY=$("$(dirname "$TV")/privacy_keys" "$P" | awk '$1 == "tracing" {print $2}')
[[ ${#PKEY} -eq 64 ]] || fail "reading the province's key"
refs() { # refs PHONE: "province-ref commune-A-ref"
    python3 - "$PKEY" "$1" <<'EOF'
import hashlib, sys
kp = bytes.fromhex(sys.argv[1])
ka = hashlib.blake2b(b"truyvet/commune-key/v1\0" + b"22333", digest_size=32, key=kp).digest()
msg = ("phone:" + sys.argv[2]).encode()
print(hashlib.blake2b(msg, digest_size=16, key=kp).hexdigest(),
      hashlib.blake2b(msg, digest_size=16, key=ka).hexdigest())
EOF
}

check "the pseudonyms computed here are the ones the nodes use"
read -r pv _ < <(refs "$VISITOR")
"$TV" -d "$P" case list --json >"$W/pcases"
grep -q "\"ref\":\"$pv\"" "$W/pcases" || fail "the province's ref of the visitor is not $pv"

# holds DIR HEX: whether any file under DIR holds the 16 bytes HEX, or HEX in lower or upper
# case (a thief reads every file whole, however the store lays it out)
holds() {
    python3 - "$1" "$2" <<'EOF'
import os, sys
root, h = sys.argv[1], sys.argv[2]
needles = [bytes.fromhex(h), h.lower().encode(), h.upper().encode()]
for d, _, files in os.walk(root):
    for f in files:
        data = open(os.path.join(d, f), "rb").read()
        if any(n in data for n in needles):
            print(os.path.join(d, f))
            sys.exit(0)
sys.exit(1)
EOF
}

check "the search finds what A does hold: its visitor's pseudonym"
# (the pseudonym A records its visitors under: the province-wide one until the commune
# scoped pseudonyms are in use, then the one in A's space)
read -r pv av < <(refs "$VISITOR")
holds "$A" "$pv" >/dev/null || holds "$A" "$av" >/dev/null ||
    fail "A's files hold neither pseudonym of its own visitor"

check "A's files hold no pseudonym, masked number or status of the cases who never came"
for who in "${AWAY[@]}" "$NEVER"; do
    read -r pw aw < <(refs "$who")
    if f=$(holds "$A" "$pw"); then fail "$f holds the province-wide pseudonym of $who"; fi
    if f=$(holds "$A" "$aw"); then fail "$f holds A's pseudonym of $who"; fi
    masked="09****${who: -4}"
    if grep -rlaF -- "$masked" "$A" >/dev/null; then fail "A holds the masked $masked"; fi
done
"$TV" -d "$A" case list --json >"$W/acases" 2>/dev/null || fail "case list at A"
[[ $(grep -c . "$W/acases") -eq 1 ]] || fail "A lists other statuses: $(cat "$W/acases")"
aref=$(json_get ref <"$W/acases")
[[ ($aref == "$av" || $aref == "$pv") && $(json_get status <"$W/acases") == F0 ]] ||
    fail "A's one status is not its visitor's F0: $(cat "$W/acases")"
"$TV" -d "$A" log --json >"$W/alog" || fail "log at A"
grep -q '"type":"case_status"' "$W/alog" && fail "A's log holds a plain case status"
for who in "${AWAY[@]}" "$NEVER"; do
    read -r pw aw < <(refs "$who")
    grep -q "$pw\|$aw" "$W/alog" && fail "A's log names $who"
done

check "A's alerts list the window at its café, nothing at B's market, and not who"
run "$TV" -d "$A" alerts
expect_ok "alerts at A"
grep -q "2021-10-06 08:00-09:00  Quán cà phê Biển" "$W/out" || fail "alerts at A: $OUT"
grep -q "Chợ" "$W/out" && fail "A lists B's market: $OUT"
grep -q "$VISITOR\|0000\|$pv\|$av" "$W/out" && fail "alerts name the case: $OUT"
run "$TV" -d "$A" alerts --all --json
expect_ok "alerts --all at A"
[[ $(grep -c . "$W/out") -eq 1 && $(json_get venue_name <"$W/out") == "Quán cà phê Biển" ]] ||
    fail "alerts --all at A: $OUT"

check "B's alerts list the windows at its market: the visitor's and the cases who stayed away"
run "$TV" -d "$B" alerts --json
expect_ok "alerts at B"
[[ $(grep -c . "$W/out") -eq 3 ]] || fail "alerts at B: $OUT"

check "A's gate shows its visitor red, and nobody else a colour"
printf '%s\n' "$VISITOR" 0901000001 "${AWAY[0]}" | "$TV" -d "$A" station --venue "$CAFE" \
    >"$W/gate" 2>/dev/null || fail "station"
[[ $(sed -n 1p "$W/gate") == "DỪNG — KHÔNG VÀO  "*"  ĐỎ — F0: ca bệnh, liên hệ trạm y tế  (đã ghi: vào "*")" ]] || fail "the visitor's line: $(cat "$W/gate")"
[[ $(sed -n 2p "$W/gate") != *"("* ]] || fail "a colour for a contact: $(cat "$W/gate")"
[[ $(sed -n 3p "$W/gate") != *"("* ]] || fail "a colour for a case from away: $(cat "$W/gate")"

check "the province reveals and holds people who never came to A, and holds A's visitor"
run "$TV" -d "$P" person show --person "${AWAY[1]}" --reveal --reason "điều tra ca F0 số 7"
expect_ok "a reveal at the province"
for who in "${AWAY[1]}" "$NEVER" "$VISITOR"; do
    run "$TV" -d "$P" hold add --payload "$who" --reason "điều tra ổ dịch chợ Xóm Mới"
    expect_ok "hold add $who"
done
run "$TV" -d "$P" audit --json
read -r p0 _ < <(refs "${AWAY[1]}")
grep -q "$p0" "$W/out" || fail "the province's audit does not show the reveal: $OUT"
run "$TV" -d "$P" hold list --json
[[ $(grep -c '"held":true' "$W/out") -eq 3 ]] || fail "the province's holds: $OUT"
ship "$P" "$A"
ship "$P" "$B"
ship "$A" "$P"
ship "$P" "$A"

check "A's files hold no pseudonym of the people revealed or held elsewhere, nor why"
for who in "${AWAY[1]}" "$NEVER"; do # (the gate has just scanned AWAY[0] at A)
    read -r pw aw < <(refs "$who")
    if f=$(holds "$A" "$pw"); then fail "$f holds the province-wide pseudonym of $who"; fi
    if f=$(holds "$A" "$aw"); then fail "$f holds A's pseudonym of $who"; fi
done
for why in "điều tra ca F0 số 7" "điều tra ổ dịch chợ Xóm Mới"; do
    if grep -rlaF -- "$why" "$A" >/dev/null; then fail "A's files hold the reason '$why'"; fi
done
"$TV" -d "$A" log --json >"$W/alog" || fail "log at A"
grep -q '"type":"reveal"\|"type":"hold"' "$W/alog" && fail "A's log holds a plain reveal or hold"
run "$TV" -d "$A" audit --json
expect_ok "audit at A"
[[ -z $OUT ]] || fail "A lists reveals: $OUT"

check "A is told, in its own pseudonyms, that its visitor is held, and no one else"
run "$TV" -d "$A" hold list --json
expect_ok "hold list at A"
[[ $(grep -c . "$W/out") -eq 1 && $(json_get person <"$W/out") == "$av" &&
    $(json_get held <"$W/out") == true && $(json_get reason <"$W/out") == "" ]] ||
    fail "A's holds: $OUT"
run "$TV" -d "$B" hold list --json
expect_ok "hold list at B"
[[ $(grep -c '"held":true' "$W/out") -eq 2 ]] || fail "B's holds (its visitor and a case from its market): $OUT"

echo "privacy_cases_stay_home: all checks passed"
