#!/usr/bin/env bash
# `truyvet report` on hand-built weeks with figures worked out by hand: at a commune, and at
# the province after the communes' logs reached it; a commune that has not synced in the
# week listed first as STALE, not counted as zero; ISO week boundaries in Vietnam time
# (Sunday 23:30 and Monday 00:10); CSV with a byte order mark that parses back to the same
# figures; a terminal table aligned by display width, not bytes.
#
# Usage: bash tests/report_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=$W/province-56
C=$W/commune-22333
C2=$W/commune-22402

"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$C2" init --role commune --unit 22402 --name "Phường Nam Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
enrol "$C2" "$P" 2>/dev/null
A=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
B=$("$TV" -d "$C" venue add --name "Trường Tiểu học Vĩnh Phước" --category school 2>/dev/null)
K=$("$TV" -d "$C" venue add --name "Karaoke Biển Đêm" --category karaoke 2>/dev/null)
M=$("$TV" -d "$C2" venue add --name "Chợ Xóm Mới" --category market 2>/dev/null)

scan() { # scan DIR VENUE PHONE TIME [--out]
    "$TV" -d "$1" scan --venue "$2" --person "$3" --at "$4" "${@:5}" >/dev/null 2>&1 ||
        fail "scan at $4"
}

# ISO week 2021-W40 is Monday 4 to Sunday 10 October 2021.
for p in 0901000001 0901000002 0901000003; do scan "$C" "$A" $p 2021-10-04T08:00:00+07:00; done
for p in 0901000001 0901000002; do scan "$C" "$A" $p 2021-10-04T09:00:00+07:00 --out; done
scan "$C" "$B" 0901000004 2021-10-10T23:30:00+07:00 # Sunday night: still W40
scan "$C" "$B" 0901000005 2021-10-11T00:10:00+07:00 # Monday just after midnight: W41
for i in 1 2 3; do "$TV" -d "$C" venue remind "$K" --note "lần $i" >/dev/null 2>&1; done
# Nam Nha Trang synced once, on 30 September, and not since
scan "$C2" "$M" 0902000001 2021-09-30T10:00:00+07:00
ship "$C2" "$P"
ship "$C" "$P"

# row DIR ARGS: the JSON line of unit $UNIT in `report --format json ARGS`
row() {
    local dir=$1
    shift
    "$TV" -d "$dir" report --format json "$@" >"$W/rep.json" 2>"$W/rep.err" ||
        fail "report $*: $(cat "$W/rep.err")"
    grep "\"unit\":\"$UNIT\"" "$W/rep.json" || fail "no row of $UNIT: $(cat "$W/rep.json")"
}
fig() { json_get "$@" <<<"$ROW"; }

check "the commune's week: 3 venues, 2 scanned, 4 check-ins (Sunday 23:30 in), 2 out, 1 suspended"
UNIT=22333
ROW=$(row "$C" --week 2021-W40)
[[ "$(fig venues) $(fig venues_scanned) $(fig check_ins) $(fig check_outs) $(fig suspended)" == \
    "3 2 4 2 1" ]] || fail "W40 at the commune: $ROW"
[[ $(fig stale) == false && $(fig last_scan_day) == 2021-10-11 ]] || fail "freshness: $ROW"
[[ $(fig name) == "Phường Bắc Nha Trang" ]] || fail "the official name: $ROW"
[[ $(wc -l <"$W/rep.json") -eq 2 ]] || fail "a commune's report has its row and the total"

check "the next week: Monday 00:10 counts there"
ROW=$(row "$C" --week 2021-W41)
[[ "$(fig venues_scanned) $(fig check_ins) $(fig check_outs)" == "1 1 0" ]] || fail "W41: $ROW"
ROW=$(row "$C" --from 2021-10-04 --to 2021-10-11)
[[ $(fig check_ins) == 5 ]] || fail "--from/--to both included: $ROW"

check "at the province: the same figures, and a commune not synced in the week is STALE, first"
ROW=$(row "$P" --week 2021-W40)
[[ "$(fig venues) $(fig venues_scanned) $(fig check_ins) $(fig check_outs) $(fig suspended)" == \
    "3 2 4 2 1" ]] || fail "22333 at the province: $ROW"
UNIT=22402
ROW=$(row "$P" --week 2021-W40)
[[ $(fig stale) == true && $(fig last_scan_day) == 2021-09-30 && $(fig venues) == 1 ]] ||
    fail "22402 should be stale: $ROW"
[[ $(wc -l <"$W/rep.json") -eq 66 ]] || fail "Khánh Hòa has 65 communes: $(wc -l <"$W/rep.json")"
python3 - "$W/rep.json" <<'EOF' || fail "order and total: $(head -3 "$W/rep.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
body, total = rows[:-1], rows[-1]
stale = [r["stale"] for r in body]
assert stale == sorted(stale, reverse=True), "stale rows first"
assert body[-1]["unit"] == "22333", body[-1]
assert total["unit"] == "total" and total["check_ins"] == 4 and total["venues"] == 4, total
assert total["stale"] == 64, total
EOF
grep -q "64 of 65 communes have no scan held here" "$W/rep.err" || fail "no warning: $(cat "$W/rep.err")"

check "csv: a byte order mark, and the same figures read back"
"$TV" -d "$P" report --week 2021-W40 --format csv --out "$W/rep.csv" 2>/dev/null || fail "csv"
[[ $(head -c 3 "$W/rep.csv" | od -An -tx1 | tr -d ' ') == efbbbf ]] || fail "no BOM"
python3 - "$W/rep.csv" <<'EOF' || fail "csv figures"
import csv, sys
rows = {r["unit"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""))}
r = rows["22333"]
assert (r["venues"], r["venues_scanned"], r["check_ins"], r["check_outs"], r["suspended"]) == (
    "3", "2", "4", "2", "1"), r
assert r["name"] == "Phường Bắc Nha Trang" and r["compliance"] == "66.7", r
assert rows["22402"]["stale"] == "1" and rows["total"]["check_ins"] == "4", rows["total"]
EOF

check "the table is aligned by display width (Vietnamese names of different byte lengths)"
run "$TV" -d "$P" report --week 2021-W40
expect_ok "report (table)"
python3 - "$W/out" <<'EOF' || fail "misaligned: $OUT"
import re, sys, unicodedata
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines()[2:] if l]
cols = set()
for l in lines:
    m = re.search(r"\d{4}-\d{2}-\d{2}|never|\d+ stale", l)
    prefix = l[: m.start()]
    cols.add(sum(1 for ch in unicodedata.normalize("NFC", prefix) if not unicodedata.combining(ch)))
assert len(cols) == 1, cols
EOF
grep -q "^22402 .*STALE" "$W/out" || fail "the table marks 22402"

check "bad use"
for bad in "--week 2021-W54" "--week 2021-W53" "--week 2021-40" "--from 2021-10-04" \
    "--week 2021-W40 --from 2021-10-04 --to 2021-10-05" "--format xml" "--unit a/b" \
    "--from 2021-10-05 --to 2021-10-04"; do
    # shellcheck disable=SC2086 # the options' words
    run "$TV" -d "$P" report $bad
    expect_refused 2 "report $bad"
done
run "$TV" -d "$P" report --week 2020-W53 --format json
expect_ok "2020 has a week 53"
run "$TV" report --help
expect_ok "report --help"

echo "report_test: all checks passed"
