#!/usr/bin/env bash
# Insider attack 2 (issue 14): commune A, whose key was stolen, writes about commune B's venue
# (its id is on the poster, and in `venue list --json`): renames and re-homes it, suspends it
# with three reminders, adds a controller, claims its registration and injects a scan that
# would make an innocent person an F1. At the district and the province B's venue must keep
# its name, unit and owner, stay unsuspended, hold no fabricated visit, and `trace` must find
# only the real contact; each forged batch is refused under rule V2 (V1 for the claimed
# registration). An event about a venue not yet seen registered waits (V3), listed by
# `status`, and is judged when the registration arrives.
#
# Usage: bash tests/insider/02_venue_hijack.sh /path/to/truyvet [/path/to/forge]
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=$W/tinh-56
D=$W/huyen-568
A=$W/xa-22333
B=$W/xa-22334
CASE=079201001234   # the F0, at B's market
REAL=0912000002     # who really was there with them
INNOCENT=0912000099 # a person of A's, never at B's market
DAY=$(TZ=Asia/Ho_Chi_Minh date -d yesterday +%F)

check "a province, a district, communes A and B; B's market with a case and a contact"
init "$P" province 56 "Sở Y tế Khánh Hòa"
init "$D" district 568 "TTYT Nha Trang"
init "$A" commune 22333 "UBND Phường Bắc Nha Trang"
init "$B" commune 22334 "UBND Phường Vĩnh Hải"
# a district health centre (TTYT): with the health flag it holds the province key, so it
# gives the communes their pseudonym keys at enrolment and traces with the province
enrol "$D" "$P" --scope 22333,22334 --health 2>/dev/null
enrol "$A" "$D" 2>/dev/null
enrol "$B" "$D" 2>/dev/null
IDA=$(node_id "$A")
serve_province "$P"
VB=$("$TV" -d "$B" venue add --name "Chợ Đầm" --category market --owner-phone 0905111222)
"$TV" -d "$B" scan --venue "$VB" --person "$CASE" --at "${DAY}T08:00:00+07:00" >/dev/null 2>&1
"$TV" -d "$B" scan --venue "$VB" --person "$REAL" --at "${DAY}T08:10:00+07:00" >/dev/null 2>&1
"$TV" -d "$A" venue add --name "Quán cà phê Bắc" --category cafe >/dev/null 2>&1
for n in "$D" "$A" "$B" "$D"; do sync_p "$n"; done
"$TV" -d "$A" venue list --json >"$W/a-venues.json" # B's venue is not listed at A...
grep -q "$VB" "$W/a-venues.json" && fail "commune A lists commune B's venue"
"$TV" -d "$D" venue list --json | grep -q "\"id\":\"$VB\"" || fail "the district lacks B's venue"
# the health district sealed each commune's key into its certificate file: the province
# owes them no key_grant (PROTOCOL.md §2.14)
! "$TV" -d "$P" log --json | grep -q '"type":"key_grant"' || fail "the province granted keys again"
SEQ=$(($(held "$A" "$IDA") + 1)) # ...but its id is on the poster at the market's gate
cp -a "$A" "$W/a-before"

# attack NAME FORGE-ARGS...: the insider forges one batch on a copy of A as it was before
# the attack and brings it on a stick to the province and to the district; the imports'
# messages are in $W/NAME-P.err and $W/NAME-D.err.
attack() {
    local name=$1 seq
    shift
    cp -a "$A" "$W/$name-a"
    seq=$(forge "$W/$name-a" "$@")
    [[ $seq -eq $SEQ ]] || fail "$name: forged at seq $seq, not $SEQ"
    bundle "$W/$name-a" "$P"
    cp "$W/import.err" "$W/$name-P.err"
    [[ $IMPORT_RC -eq 1 ]] || later_fail "$name: the province took A's forged batch"
    bundle "$W/$name-a" "$D"
    cp "$W/import.err" "$W/$name-D.err"
    [[ $IMPORT_RC -eq 1 ]] || later_fail "$name: the district took A's forged batch"
}

check "A renames and re-homes B's venue, suspends it, adds a controller, injects a scan"
attack rename venue --venue "$VB" --unit 22333 --name "Quán Giả Mạo"
attack name venue --venue "$VB" --name "Quán Giả Mạo" --owner-phone 0999999999
attack suspend reminder --venue "$VB" --unit 22333 --count 3 --note "không quét mã"
attack suspendb reminder --venue "$VB" --unit 22334 --count 3
attack controller controller --venue "$VB" --unit 22333 --phone 0988777666
attack scan scan --venue "$VB" --unit 22333 --person "$INNOCENT" --at "${DAY}T08:05:00+07:00"
attack scanb scan --venue "$VB" --unit 22334 --person "$INNOCENT" --at "${DAY}T08:05:00+07:00"
attack register venue --venue "$VB" --unit 22333 --name "Quán Giả Mạo" --registers

check "the same over the network: A's forged log reaches the province, then the district"
forge "$A" venue --venue "$VB" --unit 22333 --name "Quán Giả Mạo" >/dev/null
forge "$A" reminder --venue "$VB" --unit 22333 --count 3 >/dev/null
forge "$A" scan --venue "$VB" --unit 22333 --person "$INNOCENT" --at "${DAY}T08:05:00+07:00" >/dev/null
"$TV" -d "$A" sync --once --peer "$P_LINK" --timeout 60 >/dev/null 2>&1 || true
sync_p "$D"
[[ $(held "$P" "$IDA") -eq $((SEQ - 1)) ]] || fail "the province holds A's forged log"
[[ $(held "$D" "$IDA") -eq $((SEQ - 1)) ]] || fail "the district holds A's forged log"

# venue_intact NODE: B's venue as B registered it, not suspended, with only the real visits.
venue_intact() {
    local where=$1 json
    json=$("$TV" -d "$1" venue show "$VB" --json) || fail "venue show at $where"
    [[ $(json_get name <<<"$json") == "Chợ Đầm" ]] || fail "$where: B's venue was renamed"
    [[ $(json_get unit <<<"$json") == 22334 ]] || fail "$where: B's venue was moved to another unit"
    [[ $(json_get owner_phone <<<"$json") == 0905111222 ]] || fail "$where: B's venue changed owner"
    [[ $(json_get suspended <<<"$json") == false ]] || fail "$where: B's venue is suspended"
    [[ $(json_get reminders <<<"$json") == 0 ]] || fail "$where: B's venue has reminders"
    [[ $(json_get controllers <<<"$json") == "[]" ]] || fail "$where: B's venue has a controller"
    "$TV" -d "$1" venue visits "$VB" --date "$DAY" --json >"$W/visits.json" 2>/dev/null ||
        fail "venue visits at $where"
    grep -q '"person":"09\*\*\*\*\*\*99"' "$W/visits.json" && fail "$where: a fabricated visit"
    [[ $(grep -c '"person"' "$W/visits.json") -eq 2 ]] ||
        fail "$where: B's venue does not show its 2 real visits: $(cat "$W/visits.json")"
    "$TV" -d "$1" venue list --noncompliant --json | grep -q "\"id\":\"$VB\".*\"suspended\":true" &&
        fail "$where: B's venue is listed as suspended"
    return 0
}

check "at the province and the district, B's venue is as B registered it"
venue_intact "$P"
venue_intact "$D"

check "the province's trace of the case finds the real contact, and no innocent F1"
run "$TV" -d "$P" case add --payload "$CASE" --status F0 --onset "$DAY"
expect_ok "case add at the province"
sync_p "$D"
for n in "$P" "$D"; do
    run "$TV" -d "$n" trace --payload "$CASE" --from "$DAY" --to today --format json
    expect_ok "trace at $n"
    json_eval "[c['person'] for c in j['contacts']]" <"$W/out" >"$W/contacts"
    [[ $(cat "$W/contacts") == "['09******02']" ]] ||
        fail "trace at $n: the contacts are $(cat "$W/contacts"), not the real one alone"
    json_eval "sorted({v['unit'] for v in j['visits']})" <"$W/out" >"$W/units"
    [[ $(cat "$W/units") == "['22334']" ]] || fail "trace at $n zones $(cat "$W/units")"
done

check "V3: an event about a venue not yet registered here waits, then is judged"
VB2=$("$TV" -d "$B" venue add --name "Trường Tiểu học Vĩnh Hải" --category school)
cp -a "$W/a-before" "$W/v3-a" # the forged batches were refused: this is A's next seq again
forge "$W/v3-a" scan --venue "$VB2" --unit 22333 --person "$INNOCENT" >/dev/null
bundle "$W/v3-a" "$P"
cp "$W/import.err" "$W/v3-P.err"
[[ $(held "$P" "$IDA") -eq $((SEQ - 1)) ]] || fail "the province applied A's event on its own word"
[[ $(status_get "$P" parked 0 origin) == "$IDA" ]] || fail "the province's status lists no parked batch of A"
"$TV" -d "$P" status | grep -qi "parked" || fail "status text does not list the parked batch"
sync_p "$B" # the registration arrives: A's event is judged against it
[[ $(held "$P" "$IDA") -eq $((SEQ - 1)) ]] || fail "the province took A's scan at B's new venue"
[[ $(status_get "$P" parked) == "[]" ]] || fail "A's batch is still parked after the registration"
"$TV" -d "$P" venue visits "$VB2" --date today --json >"$W/visits2.json" 2>/dev/null
grep -q '"person"' "$W/visits2.json" && fail "a fabricated visit at B's new venue"

check "each refusal names the origin, the seq and the rule"
for x in rename name suspend suspendb controller scan scanb; do
    refusal_named "$W/$x-P.err" "$IDA" "$SEQ-$((SEQ + $([[ $x == suspend* ]] && echo 2 || echo 0)))" "V2:" "the province, $x"
    refusal_named "$W/$x-D.err" "$IDA" "$SEQ-$((SEQ + $([[ $x == suspend* ]] && echo 2 || echo 0)))" "V2:" "the district, $x"
done
refusal_named "$W/register-P.err" "$IDA" "$SEQ-$SEQ" "V1:" "the province, claimed registration"

finish insider_02_venue_hijack
