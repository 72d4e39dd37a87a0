#!/usr/bin/env bash
# Insider attack 3 (issue 14): a district whose key was stolen writes an edit of commune B's
# venue dated 2099, which under plain last-writer-wins would beat every later edit for ever.
# Receivers park it until its time (C1: more than an hour ahead of their clock), `status`
# lists it, and B's later honest `venue edit` is what everyone shows -- also once 2099 has
# come and the parked batch is applied (the registrar's edits win over others', V2).
#
# Usage: bash tests/insider/03_future_time.sh /path/to/truyvet [/path/to/forge]
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v faketime >/dev/null || {
    echo "faketime is not installed (./dev.sh installs it): skipped" >&2
    exit 77
}

P=$W/tinh-56
D=$W/huyen-568
B=$W/xa-22334
Y2099=4070908800000 # 2099-01-01T00:00:00Z

check "a province, a district and commune B with its market, in step"
init "$P" province 56 "Sở Y tế Khánh Hòa"
init "$D" district 568 "TTYT Nha Trang"
init "$B" commune 22334 "UBND Phường Vĩnh Hải"
enrol "$D" "$P" --scope 22333,22334 2>/dev/null
enrol "$B" "$D" 2>/dev/null
IDD=$(node_id "$D")
serve_province "$P"
VB=$("$TV" -d "$B" venue add --name "Chợ Đầm" --category market --owner-phone 0905111222)
for n in "$D" "$B" "$D"; do sync_p "$n"; done
ND=$(held "$D" "$IDD")

check "the district writes B's venue's name and owner dated 2099; the province parks it"
S=$(forge "$D" venue --venue "$VB" --unit 22334 --name "Chợ Đầm (2099)" --owner-phone 0999000111 \
    --hlc-ms "$Y2099")
[[ $S -eq $((ND + 1)) ]] || fail "forged at seq $S"
run "$TV" -d "$D" sync --once --peer "$P_LINK" --timeout 60
[[ $RC -eq 0 ]] || expect_err_has "batch parked" "the district's sync"
[[ $(held "$P" "$IDD") -eq $ND ]] || fail "the province applied the 2099 batch"
"$TV" -d "$P" status --json >"$W/status.json"
json_eval "[(p['origin'], p['seq'], p['waits_for']) for p in j['parked']]" <"$W/status.json" >"$W/parked"
[[ $(cat "$W/parked") == "[('$IDD', $S, 'time')]" ]] ||
    fail "the province's status does not list the 2099 batch as parked: $(cat "$W/parked")"
"$TV" -d "$P" status >"$W/status.txt"
grep -i "parked" "$W/status.txt" | grep -q "${IDD:0:16}" ||
    fail "status text does not list the parked batch: $(cat "$W/status.txt")"

check "commune B gets the district's log on a stick: the 2099 batch waits there too"
bundle "$D" "$B"
[[ $(held "$B" "$IDD") -eq $ND ]] || fail "commune B applied the 2099 batch"
[[ $(status_get "$B" parked 0 origin) == "$IDD" ]] || fail "commune B does not list it as parked"

check "B's later honest edit is what B, the province and the district show"
run "$TV" -d "$B" venue edit "$VB" --name "Chợ Đầm mới"
expect_ok "venue edit at B"
sync_p "$B"
run "$TV" -d "$D" sync --once --peer "$P_LINK" --timeout 60
[[ $RC -eq 0 ]] || expect_err_has "batch parked" "the district's sync"
[[ $(held "$D" "$(node_id "$B")") -eq $(held "$B" "$(node_id "$B")") ]] || fail "the district lacks B's edit"
for n in "$B" "$P" "$D"; do
    [[ $("$TV" -d "$n" venue show "$VB" --json | json_get name) == "Chợ Đầm mới" ]] ||
        fail "$n does not show B's edit"
    [[ $("$TV" -d "$n" venue show "$VB" --json | json_get owner_phone) == 0905111222 ]] ||
        fail "$n shows another owner"
done

check "in 2099 the parked batch is applied, and B's edit still wins"
"$TV" -d "$B" venue edit "$VB" --village "Tổ dân phố 1" >/dev/null 2>&1 || fail "venue edit at B"
"$TV" -d "$B" bundle export --out "$W/b.stick" --for "$(node_id "$P")" >/dev/null 2>&1
# the province's clock in 2099 (time runs on from there): applying B's new batch lets due
# parked batches through. (faketime preloads itself: a sanitizer build must allow that.)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 faketime -f '@2099-01-01 02:00:00' "$TV" -d "$P" bundle import "$W/b.stick" >/dev/null 2>"$W/import.err" ||
    fail "import in 2099: $(cat "$W/import.err")"
[[ $(held "$P" "$IDD") -eq $S ]] || fail "the 2099 batch was not applied in 2099 ($(held "$P" "$IDD"))"
[[ $(status_get "$P" parked) == "[]" ]] || fail "the 2099 batch is still parked in 2099"
"$TV" -d "$P" venue show "$VB" --json >"$W/venue.json"
[[ $(json_get name <"$W/venue.json") == "Chợ Đầm mới" ]] ||
    fail "in 2099 the district's name beats B's edit: $(json_get name <"$W/venue.json")"
[[ $(json_get owner_phone <"$W/venue.json") == 0905111222 ]] ||
    fail "in 2099 the district's owner phone beats B's registration"

finish insider_03_future_time
