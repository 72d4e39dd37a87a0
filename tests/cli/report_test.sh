#!/usr/bin/env bash
# `truyvet report` on hand-built weeks with figures worked out by hand: at a commune, and at
# the province after the communes' logs reached it; a commune that has not synced in the
# week listed first as STALE, not counted as zero; ISO week boundaries in Vietnam time
# (Sunday 23:30 and Monday 00:10); the trend against the week before; reminders, F0/F1 and
# the venues with no scan in this week; --by day and --depth; CSV with a byte order mark
# that parses back to the same figures; a terminal table aligned by display width, not
# bytes; the HTML page opened in headless Chromium, its figures read back from the DOM and
# its screenshot not blank. Staleness: only communes expected to report (a node or a scan
# held) count, a district is stale only through its communes, each day of --by day on its
# own; visitors never above check-ins; the page printed to PDF by Chromium keeps every
# column, and at 1200 px nothing overflows and no chart label is cut (exit 77 without
# chromium or pdftotext, after the other checks).
#
# Usage: bash tests/cli/report_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

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
assert body[0]["unit"] == "22402", body[0]
assert [r["unit"] for r in body[1:]] == sorted(r["unit"] for r in body[1:]), "then by code"
assert total["unit"] == "total" and total["check_ins"] == 4 and total["venues"] == 3, total
# the 63 other communes of Khánh Hòa have no node and no scan: zeros, not missing figures
assert [r["unit"] for r in body if r["stale"]] == ["22402"], "only 22402 is stale"
assert total["stale"] == 1 and total["expected_units"] == 2, total
EOF
[[ $(cat "$W/rep.err") == "warning: 1 of 2 units expected to report have no scan held here since \
the period began (not synced, or nothing recorded): their figures, and those of the units above \
them, are missing, not zero.
  22402 Phường Nam Nha Trang" ]] || fail "the warning, with the unit to chase: $(cat "$W/rep.err")"

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
# without Chromium the checks that need none still run; the test then ends as skipped
if command -v chromium >/dev/null; then
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
# the units not synced, by code and name
stale = [("".join(li.itertext()), li.get("data-unit")) for li in dom.iter("li")
         if li.get("data-unit") == "22402"]
assert stale == [("22402 Phường Nam Nha Trang", "22402")], stale
warn = "".join(next(e for e in dom.iter("p") if e.get("id") == "stale-warning").itertext())
assert warn.startswith("1/2 đơn vị chưa đồng bộ"), warn
EOF
fi

check "--by day: each day judged from its own start, and the warning says which days"
run "$TV" -d "$C" report --from 2021-10-09 --to 2021-10-13 --by day
expect_ok "report --by day"
[[ "$(grep -o '[0-9]* stale$' "$W/out" | tr '\n' ' ')" == "0 stale 0 stale 0 stale 1 stale 1 stale " ]] ||
    fail "the days' stale counts: $OUT"
[[ $ERR == "warning: from 2021-10-12 on (2 of 5 days), 1 of 1 units expected to report have no \
scan held here since the day began (not synced, or nothing recorded): their figures, and those \
of the units above them, are missing, not zero.
  22333 Phường Bắc Nha Trang" ]] || fail "the warning of --by day, with its unit: $ERR"

check "visitors: never more than the check-ins, on every row; 300 people within the sketch's error"
{
    echo venue,person,direction,time
    for d in $(seq 1 20); do # 20 days of 40 people each, every one checked in once
        for i in $(seq 1 40); do
            printf '%s,09%02d%06d,in,2021-11-%02dT08:00:00+07:00\n' "$A" "$d" "$i" "$d"
        done
    done
    for i in $(seq 1 300); do printf '%s,0903%06d,in,2021-12-07T09:00:00+07:00\n' "$A" "$i"; done
} >"$W/people.csv"
"$TV" -d "$C" import --csv "$W/people.csv" >/dev/null 2>&1 || fail "import of the people"
"$TV" -d "$C" report --from 2021-11-01 --to 2021-11-20 --by day --format json >"$W/days.json" \
    2>/dev/null || fail "report --by day"
"$TV" -d "$C" report --week 2021-W49 --format json >"$W/w49.json" 2>/dev/null || fail "W49"
python3 - "$W/days.json" "$W/w49.json" <<'EOF' || fail "visitors: $(head -4 "$W/days.json")"
import json, sys
days = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(days) == 40, len(days)
for r in days:
    assert r["check_ins"] == 40, r
    assert 1 <= r["visitors_estimate"] <= r["check_ins"], r
w49 = {r["unit"]: r for r in map(json.loads, open(sys.argv[2], encoding="utf-8"))}
for r in w49.values():
    assert r["check_ins"] == 300 and r["visitors_estimate"] <= 300, r
    # 3.5 standard errors of 128 registers (1.04 / sqrt(128) each) below 300
    assert r["visitors_estimate"] >= 300 * (1 - 3.5 * 1.04 / 128**0.5), r
EOF

check "districts: stale only through their communes, not through their own node"
D=$W/district-568
"$TV" -d "$D" init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null 2>&1
enrol "$D" "$P" --scope 22333 --health 2>/dev/null
for u in "568 --name NhaTrang --parent 56" "22333 --parent 568" "569 --name CamRanh --parent 56" \
    "22402 --parent 569"; do
    # shellcheck disable=SC2086 # the options' words
    "$TV" -d "$P" unit add $u >/dev/null 2>&1 || fail "unit add $u"
done
"$TV" -d "$P" report --week 2021-W40 --depth 2 --format json >"$W/rep.json" 2>"$W/rep.err" ||
    fail "report --depth 2: $(cat "$W/rep.err")"
python3 - "$W/rep.json" <<'EOF' || fail "districts: $(cat "$W/rep.json")"
import json, sys
rows = {r["unit"]: r for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
# 568's own node records no scan; its commune 22333 is fresh: not stale
assert rows["568"]["stale"] is False and rows["568"]["check_ins"] == 4, rows["568"]
assert rows["569"]["stale"] is True and rows["22402"]["stale"] is True, rows["569"]
assert rows["22333"]["stale"] is False and rows["22366"]["stale"] is False, rows["22366"]
assert rows["total"]["stale"] == 1 and rows["total"]["expected_units"] == 2, rows["total"]
EOF
grep -q "^warning: 1 of 2 units expected to report" "$W/rep.err" || fail "$(cat "$W/rep.err")"
# a commune with a node and nothing recorded: its district misses its figures
C3=$W/commune-22411
"$TV" -d "$C3" init --role commune --unit 22411 --name "Phường Bắc Cam Ranh" >/dev/null 2>&1
enrol "$C3" "$P" 2>/dev/null
"$TV" -d "$P" unit add 22411 --parent 568 >/dev/null 2>&1 || fail "unit add 22411"
"$TV" -d "$P" report --week 2021-W40 --depth 2 --format json >"$W/rep.json" 2>"$W/rep.err" ||
    fail "report --depth 2: $(cat "$W/rep.err")"
python3 - "$W/rep.json" <<'EOF' || fail "any stale commune: $(cat "$W/rep.json")"
import json, sys
rows = {r["unit"]: r for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))}
assert rows["568"]["stale"] is True and rows["22411"]["stale"] is True, rows["568"]
assert rows["22333"]["stale"] is False, rows["22333"]
assert rows["total"]["stale"] == 2 and rows["total"]["expected_units"] == 3, rows["total"]
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

check "the page printed on A4 by Chromium keeps every column; at 1200 px nothing is cut"
"$TV" -d "$P" report --week 2021-W40 --depth 1 --format html --out "$W/districts.html" \
    2>/dev/null || fail "html"
grep -q '100 % (thiếu số liệu)</text>' "$W/districts.html" || fail "no 568 at 100 %, stale"
if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null; then
    echo "report_test: SKIP: chromium or pdftotext is not installed (./dev.sh installs them):" \
        "the pages were not checked in a browser" >&2
    exit 77
fi
chromium_flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --hide-scrollbars)
timeout 120 chromium "${chromium_flags[@]}" --user-data-dir="$W/chromium-pdf" \
    --no-pdf-header-footer --print-to-pdf="$W/districts.pdf" "file://$W/districts.html" \
    >/dev/null 2>"$W/chromium.err" || fail "chromium --print-to-pdf: $(tail -3 "$W/chromium.err")"
pdftotext -layout "$W/districts.pdf" "$W/districts.txt" || fail "pdftotext"
python3 - "$W/districts.txt" "$W/districts.html" <<'EOF' || fail "the printed table"
import re, sys
pages = open(sys.argv[1], encoding="utf-8").read().split("\f")
page = next(p for p in pages if "Số liệu theo đơn vị" in p)
table = page[page.index("Số liệu theo đơn vị"):]
html = open(sys.argv[2], encoding="utf-8").read()
heads = re.findall(r"<th[^>]*>([^<]*)</th>", html[html.index('id="units"'):])[:17]
assert heads[-1] == "Nhận dữ liệu lúc", heads
words = set(table.split())
for h in heads:  # every header, wrapped or not, on the page of the table
    missing = [w for w in h.split() if w not in words]
    assert not missing, (h, missing)
# and the last columns of the rows: 568's last scan day
line = next(l for l in table.splitlines() if l.startswith("568 "))
assert "11/10/2021" in line, line
EOF
# the page at 1200 px, measured in Chromium by a probe added to a copy of the page (the page
# itself has no script): what overflows its box, and chart labels cut or over the bars
python3 - "$W/districts.html" "$W/probe.html" <<'EOF'
import sys
page = open(sys.argv[1], encoding="utf-8").read()
probe = """<script>
var m = {width: document.scrollingElement.scrollWidth, overflow: [], clipped: [], overlap: []};
for (const e of document.querySelectorAll('.scroll, th, td, .card, figcaption, h1, h2, p'))
    if (e.scrollWidth > e.clientWidth + 1) m.overflow.push(e.textContent.slice(0, 40));
for (const svg of document.querySelectorAll('svg')) {
    const vb = svg.viewBox.baseVal, bars = [...svg.querySelectorAll('rect.bar')];
    const barx = bars.length ? Math.min(...bars.map(b => b.x.baseVal.value)) : Infinity;
    for (const t of svg.querySelectorAll('text')) {
        const b = t.getBBox();
        if (b.x < -0.5 || b.y < -0.5 || b.x + b.width > vb.width + 0.5 ||
            b.y + b.height > vb.height + 0.5)
            m.clipped.push(t.textContent);
        if (t.getAttribute('x') === '0' && b.x + b.width > barx) m.overlap.push(t.textContent);
    }
}
document.body.setAttribute('data-layout', JSON.stringify(m));
</script>"""
open(sys.argv[2], "w", encoding="utf-8").write(page.replace("</body>", probe + "</body>"))
EOF
timeout 120 chromium "${chromium_flags[@]}" --user-data-dir="$W/chromium-layout" \
    --window-size=1200,1000 --dump-dom "file://$W/probe.html" >"$W/probe.dom" \
    2>"$W/chromium.err" || fail "chromium --dump-dom: $(tail -3 "$W/chromium.err")"
python3 - "$W/probe.dom" <<'EOF' || fail "the page at 1200 px"
import html, json, re, sys
d = open(sys.argv[1], encoding="utf-8").read()
m = json.loads(html.unescape(re.search(r'data-layout="([^"]*)"', d)[1]))
assert m["width"] <= 1200, m
assert not m["overflow"], m["overflow"]
assert not m["clipped"], m["clipped"]
assert not m["overlap"], m["overlap"]
EOF

echo "report_test: all checks passed"
