#!/usr/bin/env bash
# Insider attack 4 (issue 14): the province revokes a district (its key was stolen). A commune
# that district certified goes on recording and syncing: the province refuses it (T7: a
# revoked issuer in its chain), over the network and on a stick, until the province
# re-certifies the commune directly; then everything the commune recorded, also in between,
# is accepted. The revoked district itself stays refused.
#
# Usage: bash tests/insider/04_revocation_cascade.sh /path/to/truyvet [/path/to/forge]
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=$W/tinh-56
D=$W/huyen-568
A=$W/xa-22333

check "a province, a district and its commune, which records and syncs"
init "$P" province 56 "Sở Y tế Khánh Hòa"
init "$D" district 568 "TTYT Nha Trang"
init "$A" commune 22333 "UBND Phường Bắc Nha Trang"
enrol "$D" "$P" --scope 22333,22334 2>/dev/null
enrol "$A" "$D" 2>/dev/null
IDP=$(node_id "$P")
IDD=$(node_id "$D")
IDA=$(node_id "$A")
serve_province "$P"
VA=$("$TV" -d "$A" venue add --name "Chợ Vĩnh Hải" --category market)
"$TV" -d "$A" scan --venue "$VA" --person 0912000001 >/dev/null 2>&1
for n in "$D" "$A"; do sync_p "$n"; done
NA=$(held "$A" "$IDA")
[[ $(held "$P" "$IDA") -eq $NA ]] || fail "the province lacks the commune's first events"

check "the province revokes the district"
run "$TV" -d "$P" revoke "$IDD" --reason "máy bị đánh cắp"
expect_ok "revoke of the district at the province"

check "the commune records more; the province refuses it over the network"
"$TV" -d "$A" scan --venue "$VA" --person 0912000002 >/dev/null 2>&1 || fail "scan at the commune"
"$TV" -d "$A" scan --venue "$VA" --person 0912000003 >/dev/null 2>&1 || fail "scan at the commune"
NA2=$(held "$A" "$IDA") # a person and a scan event for each new person: NA+1..NA+2 is the first batch
run "$TV" -d "$A" sync --once --peer "$P_LINK" --timeout 3
expect_rc 1 "sync of the revoked district's commune"
province_alive "the revoked district's commune tried to sync"
[[ $(held "$P" "$IDA") -eq $NA ]] || fail "the province took the revoked district's commune's events"

check "... and on a stick, naming the origin, seq and rule"
bundle "$A" "$P"
[[ $IMPORT_RC -eq 1 ]] || fail "the province imported the revoked district's commune's events"
[[ $(held "$P" "$IDA") -eq $NA ]] || fail "the province took them from a stick"
refusal_named "$W/import.err" "$IDA" "$((NA + 1))-$((NA + 2))" "T7:" "the province, commune of a revoked district"

check "the revoked district itself is refused"
run "$TV" -d "$D" unit add 568 --name "Trung tâm Y tế Nha Trang" --parent 56
expect_ok "unit add at the revoked district"
bundle "$D" "$P"
[[ $IMPORT_RC -eq 1 ]] || fail "the province took the revoked district's new event"
refusal_named "$W/import.err" "$IDD" "$(held "$D" "$IDD")-$(held "$D" "$IDD")" "T7:" "the province, revoked district"

check "the province re-certifies the commune directly; the commune accepts it"
run "$TV" -d "$A" enroll request --out "$W/a.req"
expect_ok "enroll request at the commune"
run "$TV" -d "$P" enroll issue "$W/a.req" --out "$W/a.cert"
expect_ok "enroll issue of the commune at the province"
run "$TV" -d "$A" enroll accept "$W/a.cert" --json
expect_ok "enroll accept of the province's certificate"
[[ $(status_get "$A" cert issuer) == "$IDP" ]] || fail "the commune's certificate is not the province's"
[[ $(status_get "$P" revoked) == false ]] || fail "the province is revoked"

check "the commune's batches, those recorded in between too, are accepted"
"$TV" -d "$A" scan --venue "$VA" --person 0912000004 >/dev/null 2>&1 || fail "scan at the commune"
NA3=$(held "$A" "$IDA")
sync_p "$A"
province_alive "the re-certified commune synced"
[[ $(held "$P" "$IDA") -eq $NA3 ]] || fail "the province holds $(held "$P" "$IDA") of the commune's $NA3 events"
"$TV" -d "$P" venue visits "$VA" --json 2>/dev/null >"$W/visits.json"
[[ $(grep -c '"person"' "$W/visits.json") -eq 4 ]] ||
    fail "the province does not show the 4 visits: $(cat "$W/visits.json")"
[[ $NA3 -gt $NA2 && $NA2 -gt $NA ]] || fail "the commune's seqs: $NA $NA2 $NA3"

check "the revoked district stays refused after its commune was re-certified"
run "$TV" -d "$D" sync --once --peer "$P_LINK" --timeout 3
expect_rc 1 "sync of the revoked district"
province_alive "the revoked district tried to sync"
[[ $(held "$P" "$IDD") -lt $(held "$D" "$IDD") ]] || fail "the province took the revoked district's log"

finish insider_04_revocation_cascade
