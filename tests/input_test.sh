#!/usr/bin/env bash
# Input a newcomer types or brings, refused or accepted as it should be: unit codes that
# are not in the official list, scans dated in the future or before 2020, a venue
# registered twice, text typed in decomposed Unicode (NFD), a CSV saved by a spreadsheet
# in a Vietnamese locale (semicolons, BOM, CRLF, dd/mm/yyyy times, categories in
# Vietnamese), --out to a directory that does not exist, a trace of a person the node has
# never seen, and a request issued twice.
#
# Usage: bash tests/input_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=$W/province-56
C=$W/commune-22333

"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null

# --- unit codes ---------------------------------------------------------------------------

check "init --unit 99999: refused, naming the code and the nearest official units"
run "$TV" -d "$W/bad" init --role commune --unit 99999 --name "Xã A"
expect_refused 2 "init --unit 99999"
expect_err_has "truyvet: unit 99999 is not in the official list of units. The nearest codes are 32248 Xã Đất Mũi" "init --unit 99999"
[[ ! -e $W/bad ]] || fail "a refused init created the node directory"
run "$TV" -d "$W/bad" init --role province --unit 99 --name "Tỉnh A"
expect_refused 2 "init --unit 99"
expect_err_has "unit 99 is not in the official list of units." "init --unit 99"

check "init --unit 99999 --unlisted: the documented escape"
run "$TV" -d "$W/unlisted" init --role commune --unit 99999 --unlisted --name "Xã thử"
expect_ok "init --unlisted"

check "risk set --unit 99999: refused, nothing recorded; a village of an official commune is kept"
before=$(status_get "$P" events)
run "$TV" -d "$P" risk set --unit 99999 --level 3 --from 2021-10-06
expect_refused 2 "risk set --unit 99999"
expect_err_has "unit 99999 is not in the official list of units nor among the units this node knows." "risk set 99999"
run "$TV" -d "$P" risk set --unit 22339.03 --level 3 --from 2021-10-06
expect_refused 2 "risk set --unit 22339.03"
expect_err_has "unit 22339.03 is not in the official list" "risk set 22339.03"
[[ $(status_get "$P" events) == "$before" ]] || fail "a refused risk level was recorded"
run "$TV" -d "$P" risk set --unit 22333.03 --level 4 --from 2021-10-07
expect_ok "risk set of a village of 22333"
run "$TV" -d "$P" unit add 568 --name "Trung tâm Y tế Nha Trang" --parent 56
expect_ok "unit add 568"
run "$TV" -d "$P" risk set --unit 568 --level 2 --from 2021-10-07
expect_ok "risk set of a unit the node knows from unit add"

echo "input_test: all checks passed"
