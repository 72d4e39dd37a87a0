#!/usr/bin/env bash
# Local units end to end: a commune names its village, a district names itself and places
# its communes in it (`unit add`); a node outside the unit's scope is refused, by itself and
# by peers; the province, after the logs reached it, reports the district at level 1 with
# its communes and the village below (--depth), each row adding up the rows under it (a
# case recorded at the village counts in the commune, the district and the total), and a
# district with a commune that has not synced shows as stale; the district's own report
# lists its communes; a loop of placements is
# broken without losing a unit; the latest name of a unit stands.
#
# Usage: bash tests/cli/units_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

P=$W/province-56
D=$W/district-568
C=$W/commune-22333
C2=$W/commune-22402

"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$D" init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$C2" init --role commune --unit 22402 --name "Phường Nam Nha Trang" >/dev/null 2>&1
enrol "$D" "$P" --scope 22333,22402 2>/dev/null
enrol "$C" "$D" 2>/dev/null
enrol "$C2" "$D" 2>/dev/null

check "a commune names its village; units outside a node's scope are refused at the source"
run "$TV" -d "$C" unit add 22333.03 --name "Tổ dân phố 3"
expect_ok "unit add 22333.03"
[[ $OUT == *'recorded: unit 22333.03 "Tổ dân phố 3" under 22333'* ]] || fail "default parent: $OUT"
for bad in "22402.01 --name x" "56.c1 --name x --parent 56" "568 --name x --parent 56"; do
    # shellcheck disable=SC2086 # the options' words
    run "$TV" -d "$C" unit add $bad
    expect_refused 1 "unit add $bad at the commune"
    expect_err_has "outside this node's scope" "unit add $bad"
done
for bad in "22333.04" "'a b' --name x" "22333.04 --name x --parent 22333.04" "56 --name x"; do
    eval run "$TV" -d "$C" unit add "$bad"
    expect_refused 2 "unit add $bad"
done

check "the district names itself and places its communes in it"
"$TV" -d "$D" unit add 568 --name "Trung tâm Y tế Nha Trang (cũ)" --parent 56 >/dev/null ||
    fail "unit add 568"
"$TV" -d "$D" unit add 568 --name "Cụm Nha Trang" --parent 56 >/dev/null || fail "rename 568"
for c in 22333 22402; do
    "$TV" -d "$D" unit add $c --name "ignored: official" --parent 568 >/dev/null ||
        fail "place $c in 568"
done

check "data: this week's scans at 22333; 22402 recorded nothing since last year"
V=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
V2=$("$TV" -d "$C2" venue add --name "Chợ Xóm Mới" --category market 2>/dev/null)
for p in 0901000001 0901000002; do
    "$TV" -d "$C" scan --venue "$V" --person $p >/dev/null 2>&1 || fail "scan"
done
"$TV" -d "$C2" scan --venue "$V2" --person 0901000003 --at 2021-10-04T08:00:00+07:00 \
    >/dev/null 2>&1 || fail "scan at 22402"
ship "$C" "$D"
ship "$C2" "$D"
ship "$D" "$P"
"$TV" -d "$P" case add --payload 0901000009 --status F0 --onset 2021-10-08 --unit 22333.03 \
    >/dev/null 2>&1 || fail "case at the village"

check "unit list at the province: the district, its communes, the village"
run "$TV" -d "$P" unit list --under 56
expect_ok "unit list"
grep -q "^  568 *Cụm Nha Trang  (local)$" "$W/out" || fail "568, renamed: $OUT"
grep -q "^    22333 *Phường Bắc Nha Trang$" "$W/out" || fail "22333 under 568: $OUT"
grep -q "^      22333.03 *Tổ dân phố 3  (local)$" "$W/out" || fail "the village: $OUT"

# rows DIR ARGS: report --format json ARGS into $W/rep.json
rows() {
    "$TV" -d "$1" report --format json "${@:2}" >"$W/rep.json" 2>"$W/rep.err" ||
        fail "report ${*:2}: $(cat "$W/rep.err")"
}

check "the province's report: the district at level 1, its communes and village below, added up"
rows "$P" --depth 3
python3 - "$W/rep.json" <<'EOF' || fail "the tree: $(head -c 3000 "$W/rep.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
by = {r["unit"]: r for r in rows}
d, c, c2, v, tot = by["568"], by["22333"], by["22402"], by["22333.03"], by["total"]
assert (d["level"], d["parent"], d["name"]) == (1, "56", "Cụm Nha Trang"), d
assert (c["level"], c["parent"], c["name"]) == (2, "568", "Phường Bắc Nha Trang"), c
assert (c2["level"], c2["parent"]) == (2, "568"), c2
assert (v["level"], v["parent"]) == (3, "22333"), v
assert all(r["level"] == 1 for r in rows[:-1] if r["unit"] not in ("22333", "22402", "22333.03"))
assert "22333" not in [r["unit"] for r in rows if r.get("level") == 1], "placed in 568"
assert (v["f0"], c["f0"], d["f0"], tot["f0"]) == (1, 1, 1, 1), (v, c, d, tot)
assert (c["check_ins"], d["check_ins"], tot["check_ins"]) == (2, 2, 2), (c, d, tot)
assert (c["venues"], c2["venues"], d["venues"]) == (1, 1, 2), (c, c2, d)
assert c2["stale"] and d["stale"] and not c["stale"] and not v["stale"], (c2, d, c, v)
# depth first: the district, then its rows, stale 22402 before 22333
order = [r["unit"] for r in rows]
i = order.index("568")
assert order[i:i + 4] == ["568", "22402", "22333", "22333.03"], order[i:i + 4]
assert len(rows) == 1 + 63 + 1 + 2 + 1, len(rows)
EOF
rows "$P"
grep -q '"unit":"22333"' "$W/rep.json" && fail "--depth 1 lists level 1 only"
grep -q '"unit":"568"' "$W/rep.json" || fail "568 at level 1"

check "the district's own report: its two communes, as its node holds them"
rows "$D"
python3 - "$W/rep.json" <<'EOF' || fail "at the district: $(cat "$W/rep.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [r["unit"] for r in rows] == ["22402", "22333", "total"], rows
by = {r["unit"]: r for r in rows}
assert by["22333"]["check_ins"] == 2 and by["22402"]["stale"] and not by["22333"]["stale"], rows
assert by["total"]["check_ins"] == 2 and by["total"]["venues"] == 2, by["total"]
EOF

check "a loop of placements is broken; no unit is lost"
"$TV" -d "$D" unit add 568 --name "Cụm Nha Trang" --parent 22333 >/dev/null || fail "loop"
ship "$D" "$P"
rows "$P" --depth 3
python3 - "$W/rep.json" <<'EOF' || fail "the loop: $(head -c 2000 "$W/rep.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
by = {r["unit"]: r for r in rows}
assert {"568", "22333", "22402", "22333.03"} <= set(by), sorted(by)[:5]
assert by["total"]["check_ins"] == 2 and by["total"]["f0"] == 1, by["total"]
EOF

check "log shows the unit events"
run "$TV" -d "$P" log
grep -q 'unit 22333.03 "Tổ dân phố 3" under 22333' "$W/out" || fail "log: $OUT"

echo "units_test: all checks passed"
