#!/usr/bin/env bash
# Insider attack 1 (issue 14): a district whose key was stolen certifies the province's root
# key, a sibling district's key and that district's commune, and revokes the root. The
# province must keep its certificate and health flag and go on setting risk levels and
# cases; every node that receives the district's log refuses the forged batch, naming
# origin, seq and rule, and still takes the province's later events.
#
# Usage: bash tests/insider/01_cert_seizure.sh /path/to/truyvet [/path/to/forge]
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=$W/tinh-56
D1=$W/huyen-568
D2=$W/huyen-569
A=$W/xa-22333
C2=$W/xa-22411
C3=$W/xa-22412

check "a province, two districts and a commune under each, enrolled and in step"
init "$P" province 56 "Sở Y tế Khánh Hòa"
init "$D1" district 568 "TTYT Nha Trang"
init "$D2" district 569 "TTYT Cam Ranh"
init "$A" commune 22333 "UBND Phường Bắc Nha Trang"
init "$C2" commune 22411 "UBND Phường Bắc Cam Ranh"
init "$C3" commune 22412 "UBND Phường Cam Lợi"
enrol "$D1" "$P" --scope 22333,22334 2>/dev/null
enrol "$D2" "$P" --scope 22411,22412 2>/dev/null
enrol "$A" "$D1" 2>/dev/null
enrol "$C2" "$D2" 2>/dev/null
IDP=$(node_id "$P")
IDD1=$(node_id "$D1")
IDD2=$(node_id "$D2")
IDC2=$(node_id "$C2")
IDC3=$(node_id "$C3") # a commune D2 is about to enrol: its request, and so its key, is out
serve_province "$P"
for n in "$D1" "$D2" "$A" "$C2" "$D1" "$A"; do sync_p "$n"; done
[[ $(held "$P" "$IDC2") -eq 0 && $(held "$P" "$IDD2") -eq 1 ]] || fail "the province lacks D2's log"
# the province's log: its root and the two districts' certificates, and the key grants to
# the two communes the districts (without the health flag) enrolled without their keys
[[ $(held "$A" "$IDD1") -eq $(held "$D1" "$IDD1") && $(held "$A" "$IDP") -eq 5 ]] || fail "the commune lacks its chain: D1 $(held "$A" "$IDD1"), P $(held "$A" "$IDP")"
SEQ=$(($(held "$D1" "$IDD1") + 1)) # the forged batches' place in the district's log

# province_intact WHERE: the province keeps its own certificate and health flag.
province_intact() {
    [[ $(status_get "$P" cert issuer) == "$IDP" ]] || fail "$1: the root's certificate was replaced"
    [[ $(status_get "$P" cert root) == true ]] || fail "$1: the root is no longer the root"
    [[ $(status_get "$P" cert health) == true ]] || fail "$1: the root lost its health flag"
    [[ $(status_get "$P" revoked) == false ]] || fail "$1: the root is revoked"
}

# attack NAME FORGE-ARGS...: the insider forges one batch on a copy of the district as it
# was before the attack, and brings it on a stick to the province and to a copy of the
# commune under that district. The imports' messages are in $W/NAME-P.err, $W/NAME-A.err.
attack() {
    local name=$1 seq
    shift
    cp -a "$D1" "$W/$name-d1"
    seq=$(forge "$W/$name-d1" "$@")
    [[ $seq -eq $SEQ ]] || fail "$name: forged at seq $seq, not $SEQ"
    bundle "$W/$name-d1" "$P"
    cp "$W/import.err" "$W/$name-P.err"
    P_RC=$IMPORT_RC
    cp -a "$A" "$W/$name-a"
    bundle "$W/$name-d1" "$W/$name-a"
    cp "$W/import.err" "$W/$name-A.err"
    A_RC=$IMPORT_RC
}

check "T1: the district certifies the root's key: refused, and the root keeps its certificate"
attack t1 cert --subject "$IDP" --role commune --unit 22333
[[ $P_RC -eq 1 && $A_RC -eq 1 ]] || fail "a certificate of the root from a district was taken"
[[ $(held "$P" "$IDD1") -eq $((SEQ - 1)) ]] || fail "the province holds the forged certificate"
[[ $(held "$W/t1-a" "$IDD1") -eq $((SEQ - 1)) ]] || fail "the commune holds the forged certificate"
province_intact "after the forged root certificate"

check "T4: the district certifies the sibling district's commune: refused"
attack t4 cert --subject "$IDC2" --role commune --unit 22334
[[ $P_RC -eq 1 ]] || fail "the province took a certificate of D2's commune from D1"
[[ $(held "$P" "$IDD1") -eq $((SEQ - 1)) ]] || fail "the province holds the forged certificate"

check "T5: the district revokes the root: refused by the province and by the commune below"
attack t5 revoke "$IDP" --reason "chiếm quyền"
[[ $P_RC -eq 1 && $A_RC -eq 1 ]] || fail "a revocation of the root by a district was taken"
province_intact "after the forged revocation"
[[ $(status_get "$W/t5-a" revoked) == false ]] || fail "the commune's own key is revoked"

check "T5: the district revokes its sibling district: refused, the sibling still writes"
attack t5s revoke "$IDD2" --reason "chiếm quyền"
[[ $P_RC -eq 1 ]] || fail "a revocation of a sibling district by a district was taken"
[[ $(held "$P" "$IDD1") -eq $((SEQ - 1)) ]] || fail "the province holds the forged revocation"

check "the revocation changed nothing at the commune: it still takes the province's events"
run "$TV" -d "$P" risk set --unit 22333 --level 3 --from 2026-01-01
expect_ok "risk set at the province after the forged revocation"
NP=$(held "$P" "$IDP")
"$TV" -d "$W/t5-a" sync --once --peer "$P_LINK" --timeout 60 >/dev/null 2>"$W/sync.err" ||
    fail "the commune that saw the forged revocation cannot sync: $(cat "$W/sync.err")"
[[ $(held "$W/t5-a" "$IDP") -eq $NP ]] || fail "the commune refused the province's later event"
"$TV" -d "$W/t5-a" risk show --unit 22333 --json | grep -q '"level":3' ||
    fail "the commune does not show the province's risk level"

check "over the network: lawful certificates from D1, then the forgeries"
# first a certificate of the commune D2 is about to enrol, before D2 does (lawful: nothing
# certifies that key yet), then one of D2's own key (lawful: D1 is below D2's issuer, so it
# never replaces D2's certificate), then the forgeries
S0=$(forge "$D1" cert --subject "$IDC3" --role commune --unit 22334)
S1=$(forge "$D1" cert --subject "$IDD2" --role commune --unit 22334)
forge "$D1" cert --subject "$IDP" --role commune --unit 22333 --health >/dev/null
forge "$D1" cert --subject "$IDC2" --role commune --unit 22334 >/dev/null
"$TV" -d "$D1" sync --once --peer "$P_LINK" --timeout 60 >"$W/d1-sync.out" 2>"$W/d1-sync.err" || true
[[ $(held "$P" "$IDD1") -eq $S1 ]] || fail "the province holds D1 up to $(held "$P" "$IDD1"), not $S1"
province_intact "after the district's sync"

check "D2 and its commune still write at the province (their certificates stand)"
run "$TV" -d "$D2" unit add 569 --name "Trung tâm Y tế Cam Ranh" --parent 56
expect_ok "unit add at D2"
sync_p "$D2"
[[ $(held "$P" "$IDD2") -eq $(held "$D2" "$IDD2") ]] || fail "the province refused D2's later event"
run "$TV" -d "$C2" venue add --name "Chợ Cam Ranh" --category market
expect_ok "venue add at D2's commune"
sync_p "$C2"
[[ $(held "$P" "$IDC2") -eq $(held "$C2" "$IDC2") ]] || fail "the province refused C2's later event"

check "the province still sets risk levels and cases"
run "$TV" -d "$P" risk set --unit 22333 --level 4 --from 2026-02-01 --note "ổ dịch"
expect_ok "risk set at the province"
run "$TV" -d "$P" case add --payload 0912345678 --status F0 --onset 2026-02-01 --unit 22333
expect_ok "case add at the province"

check "the commune gets the district's forged log on a stick, and the province's later events"
bundle "$D1" "$A"
cp "$W/import.err" "$W/line-A.err"
[[ $IMPORT_RC -eq 1 ]] || fail "the commune took all of the district's forged log"
[[ $(held "$A" "$IDD1") -eq $S1 ]] || fail "the commune holds D1 up to $(held "$A" "$IDD1"), not $S1"
sync_p "$A"
[[ $(held "$A" "$IDP") -eq $(held "$P" "$IDP") ]] || fail "the commune lacks the province's later events"
"$TV" -d "$A" risk show --unit 22333 --json | grep -q '"level":4' ||
    fail "the commune does not show the province's latest risk level"

check "each refusal names the origin, the seq and the rule"
refusal_named "$W/t1-P.err" "$IDD1" "$SEQ-$SEQ" "T1:" "the province, root certificate"
refusal_named "$W/t1-A.err" "$IDD1" "$SEQ-$SEQ" "T1:" "the commune, root certificate"
refusal_named "$W/t4-P.err" "$IDD1" "$SEQ-$SEQ" "T4:" "the province, certificate of D2's commune"
refusal_named "$W/t5-P.err" "$IDD1" "$SEQ-$SEQ" "T5:" "the province, revocation of the root"
refusal_named "$W/t5-A.err" "$IDD1" "$SEQ-$SEQ" "T5:" "the commune, revocation of the root"
refusal_named "$W/t5s-P.err" "$IDD1" "$SEQ-$SEQ" "T5:" "the province, revocation of a sibling"
refusal_named "$W/line-A.err" "$IDD1" "$((S1 + 1))-$((S1 + 1))" "T1:" "the commune, forged log"

check "D2 enrols its commune after D1 certified that key: D2's log and the commune still pass"
[[ $S0 -eq $SEQ ]] || fail "the pre-emptive certificate is at seq $S0"
"$TV" -d "$C3" enroll request --out "$W/c3.req" 2>/dev/null
if ! "$TV" -d "$D2" enroll issue "$W/c3.req" --out "$W/c3.cert" 2>"$W/issue.err"; then
    later_fail "D2 cannot enrol its own new commune, whose key D1 certified first: $(cat "$W/issue.err")"
else
    "$TV" -d "$C3" enroll accept "$W/c3.cert" >/dev/null 2>&1 || fail "enroll accept at C3"
    "$TV" -d "$D2" sync --once --peer "$P_LINK" --timeout 60 >/dev/null 2>"$W/d2-sync.err" ||
        later_fail "D2's sync after enrolling C3: $(cat "$W/d2-sync.err")"
    [[ $(held "$P" "$IDD2") -eq $(held "$D2" "$IDD2") ]] ||
        later_fail "the province refuses D2's certificate of its own new commune (D1 certified that key first): it holds D2 up to $(held "$P" "$IDD2") of $(held "$D2" "$IDD2")"
    run "$TV" -d "$C3" venue add --name "Chợ Cam Lợi" --category market
    expect_ok "venue add at D2's new commune"
    "$TV" -d "$C3" sync --once --peer "$P_LINK" --timeout 60 >/dev/null 2>"$W/c3-sync.err" || true
    [[ $(held "$P" "$IDC3") -eq $(held "$C3" "$IDC3") ]] ||
        later_fail "the province refuses D2's new commune's events: it holds $(held "$P" "$IDC3") of $(held "$C3" "$IDC3")"
fi

finish insider_01_cert_seizure
