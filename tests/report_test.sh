#!/usr/bin/env bash
# `truyvet report` on hand-built weeks with figures worked out by hand: at a commune, and at
# the province after the communes' logs reached it; a commune that has not synced in the
# week listed first as STALE, not counted as zero; ISO week boundaries in Vietnam time
# (Sunday 23:30 and Monday 00:10); the trend against the week before; reminders, F0/F1 and
# the venues with no scan in this week; --by day and --depth; CSV with a byte order mark
# that parses back to the same figures; a terminal table aligned by display width, not
# bytes; the HTML page opened in headless Chromium, its figures read back from the DOM and
# its screenshot not blank.
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

# The venues were registered today, the scans entered with their past times: in 2021-W40 the
# karaoke (registered today, never scanned) did not exist yet; the other two did, as they
# had scans then.
check "the commune's week: 2 venues, 2 scanned, 4 check-ins (Sunday 23:30 in), 2 out, 1 suspended"
UNIT=22333
ROW=$(row "$C" --week 2021-W40)
[[ "$(fig venues) $(fig venues_scanned) $(fig check_ins) $(fig check_outs) $(fig suspended)" == \
    "2 2 4 2 1" ]] || fail "W40 at the commune: $ROW"
# Four people: the sketch's estimate (128 registers, keyed by pseudonyms made with the
# province's random tracing key) is 4, or 3 about one run in twenty, when two of them share
# a register; crdt_hll_test checks the sketch on fixed inputs.
[[ $(fig visitors_estimate) == 4 || $(fig visitors_estimate) == 3 ]] ||
    fail "4 people checked in: $ROW"
[[ $(fig stale) == false && $(fig last_scan_day) == 2021-10-11 ]] || fail "freshness: $ROW"
[[ $(fig name) == "Phường Bắc Nha Trang" ]] || fail "the official name: $ROW"
[[ $(wc -l <"$W/rep.json") -eq 2 ]] || fail "a commune's report has its row and the total"

check "the next week: Monday 00:10 counts there"
ROW=$(row "$C" --week 2021-W41)
[[ "$(fig venues_scanned) $(fig check_ins) $(fig check_outs)" == "1 1 0" ]] || fail "W41: $ROW"
ROW=$(row "$C" --from 2021-10-04 --to 2021-10-11)
[[ $(fig check_ins) == 5 ]] || fail "--from/--to both included: $ROW"

check "this week: 3 venues registered, none scanned, the 3 reminders sent today"
ROW=$(row "$C")
[[ "$(fig venues) $(fig venues_scanned) $(fig check_ins) $(fig reminders)" == "3 0 0 3" ]] ||
    fail "this week at the commune: $ROW"

check "the trend: 2021-W41 against W40"
ROW=$(row "$C" --week 2021-W41)
python3 -c 'import json,sys; r=json.loads(sys.argv[1]); p=r["previous"]
assert (p["venues"], p["venues_scanned"], p["check_ins"], p["check_outs"]) == (2, 2, 4, 2), r
assert r["venues"] == 2 and r["venues_scanned"] == 1, r' "$ROW" || fail "trend: $ROW"

check "at the province: the same figures, and a commune not synced in the week is STALE, first"
ROW=$(row "$P" --week 2021-W40)
[[ "$(fig venues) $(fig venues_scanned) $(fig check_ins) $(fig check_outs) $(fig suspended)" == \
    "2 2 4 2 1" ]] || fail "22333 at the province: $ROW"
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
assert total["unit"] == "total" and total["check_ins"] == 4 and total["venues"] == 3, total
assert total["stale"] == 64, total
EOF
grep -q "64 of 65 units have no scan held here" "$W/rep.err" || fail "no warning: $(cat "$W/rep.err")"

check "csv: a byte order mark, and the same figures read back"
"$TV" -d "$P" report --week 2021-W40 --format csv --out "$W/rep.csv" 2>/dev/null || fail "csv"
[[ $(head -c 3 "$W/rep.csv" | od -An -tx1 | tr -d ' ') == efbbbf ]] || fail "no BOM"
python3 - "$W/rep.csv" <<'EOF' || fail "csv figures"
import csv, sys
rows = {r["unit"]: r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""))}
r = rows["22333"]
assert (r["venues"], r["venues_scanned"], r["check_ins"], r["check_outs"], r["suspended"]) == (
    "2", "2", "4", "2", "1"), r
assert r["name"] == "Phường Bắc Nha Trang" and r["compliance"] == "100.0", r
assert r["period"] == "2021-W40" and r["visitors_estimate"] in ("3", "4"), r
assert rows["22402"]["stale"] == "1" and rows["total"]["check_ins"] == "4", rows["total"]
assert rows["22402"]["prev_check_ins"] == "1", rows["22402"]  # 30 September was in W39
EOF

check "the table is aligned by display width (Vietnamese names of different byte lengths)"
run "$TV" -d "$P" report --week 2021-W40
expect_ok "report (table)"
python3 - "$W/out" <<'EOF' || fail "misaligned: $OUT"
import re, sys, unicodedata
lines = [l for l in open(sys.argv[1], encoding="utf-8").read().splitlines()[2:]
         if l and not l.startswith("trend:")]
cols = set()
for l in lines:
    m = re.search(r"\d{4}-\d{2}-\d{2}|never|\d+ stale", l)
    prefix = l[: m.start()]
    cols.add(sum(1 for ch in unicodedata.normalize("NFC", prefix) if not unicodedata.combining(ch)))
assert len(cols) == 1, cols
EOF
grep -q "^22402 .*STALE" "$W/out" || fail "the table marks 22402"

check "F0 and F1 recorded this week count at their unit; --depth 0 gives the province alone"
"$TV" -d "$P" case add --payload 0901000001 --status F0 --onset 2021-10-08 --unit 22333 \
    >/dev/null 2>&1 || fail "case add F0"
"$TV" -d "$P" case add --payload 0901000002 --status F1 --onset 2021-10-08 --unit 22402 \
    >/dev/null 2>&1 || fail "case add F1"
"$TV" -d "$P" case add --payload 0901000001 --status F0 --onset 2021-10-07 --unit 22333 \
    >/dev/null 2>&1 || fail "case add F0 again" # a correction: still one person
"$TV" -d "$P" case add --payload 0901000003 --status F0 --onset 2021-10-08 --unit 56 \
    >/dev/null 2>&1 ||
    fail "case add F0 at the province's own unit" # in the province's total, in no commune
UNIT=22333
ROW=$(row "$P")
[[ "$(fig f0) $(fig f1)" == "1 0" ]] || fail "F0 at 22333: $ROW"
UNIT=56
ROW=$(row "$P" --depth 0)
[[ $(wc -l <"$W/rep.json") -eq 1 && "$(fig f0) $(fig f1) $(fig venues)" == "2 1 4" ]] ||
    fail "the province alone: $(cat "$W/rep.json")"

check "--by day: one report a day, Monday 00:10 on its own day"
"$TV" -d "$C" report --from 2021-10-09 --to 2021-10-11 --by day --format csv \
    --out "$W/days.csv" 2>/dev/null || fail "--by day"
python3 - "$W/days.csv" <<'EOF' || fail "by day: $(cat "$W/days.csv")"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline=""))
        if r["unit"] == "22333"]
assert [(r["period"], r["check_ins"]) for r in rows] == [
    ("2021-10-09", "0"), ("2021-10-10", "1"), ("2021-10-11", "1")], rows
EOF

check "the HTML page in headless Chromium: figures in the DOM, charts drawn, not blank"
"$TV" -d "$P" report --week 2021-W40 --format html --out "$W/week.html" 2>/dev/null ||
    fail "html"
if grep -q '<script\|src="http\|href="http\|@import' "$W/week.html"; then
    fail "the page refers to other files"
fi
html_check "$W/week.html" <<'EOF' || fail "the page in Chromium"
rows = {e.get("data-unit"): e for e in dom.iter("tr") if e.get("data-unit")}
r = rows["22333"]
cells = {td.get("data-k"): "".join(td.itertext()) for td in r.iter("td") if td.get("data-k")}
assert (cells["venues"], cells["venues_scanned"], cells["check_ins"], cells["check_outs"]) == (
    "2", "2", "4", "2"), cells
assert "stale" in rows["22402"].get("class", ""), "22402 is marked stale"
rects = list(dom.iter("rect"))
bars = {b.get("data-unit"): b for b in rects if b.get("data-unit")}
assert bars["22333"].get("data-value") == "100.0", bars["22333"].attrib
assert float(bars["22333"].get("width")) > 300, "a full bar for 100 %"
assert bars["22402"].get("data-stale") == "1", "the stale unit is drawn as such"
days = [(d.get("data-day"), d.get("data-in")) for d in rects if d.get("data-day")]
assert days[0] == ("2021-10-04", "3") and days[6] == ("2021-10-10", "1"), days
assert "Báo cáo tuần 2021-W40" in "".join(dom.find(".//h1").itertext())
EOF

check "bad use"
for bad in "--week 2021-W54" "--week 2021-W53" "--week 2021-40" "--from 2021-10-04" \
    "--week 2021-W40 --from 2021-10-04 --to 2021-10-05" "--format xml" "--unit a/b" \
    "--from 2021-10-05 --to 2021-10-04" "--by month" "--depth -1" "--depth x" \
    "--min-compliance 120" "--format html --by day"; do
    # shellcheck disable=SC2086 # the options' words
    run "$TV" -d "$P" report $bad
    expect_refused 2 "report $bad"
done
run "$TV" -d "$P" report --week 2020-W53 --format json
expect_ok "2020 has a week 53"
run "$TV" report --help
expect_ok "report --help"

echo "report_test: all checks passed"
