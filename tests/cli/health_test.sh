#!/usr/bin/env bash
# Cases and risk levels end to end: only the province (a health node) may set them, and
# only within its scope; `trace` takes the infectious window from the case; a contact in
# another commune is found at the province only once that commune has synced, and until
# then the commune is flagged as not synced since the window began; a commune traces on
# its own data and says what it cannot see; `alerts` at a commune lists the windows at its
# venues without the case's identity; a clearing closes the window; the gate shows the
# person's colour.
#
# Usage: bash tests/cli/health_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

P=$W/province-56
C=$W/commune-22333
C2=$W/commune-22334
CASE=0901000000

"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$C2" init --role commune --unit 22334 --unlisted --name "Phường Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
enrol "$C2" "$P" 2>/dev/null
A=$("$TV" -d "$C" venue add --name "Quán cà phê Biển" --category cafe 2>/dev/null)
M=$("$TV" -d "$C2" venue add --name "Chợ Xóm Mới" --category market 2>/dev/null)

# visit DIR PHONE VENUE DAY IN OUT
visit() {
    "$TV" -d "$1" scan --venue "$3" --person "$2" --at "$4T$5:00+07:00" >/dev/null 2>&1 ||
        fail "scan $2 at $4 $5"
    "$TV" -d "$1" scan --venue "$3" --person "$2" --out --at "$4T$6:00+07:00" >/dev/null 2>&1 ||
        fail "scan out $2 at $4 $6"
}

# 22334 synced on 4 October, then recorded the case at its market on the 7th
visit "$C2" 0901000009 "$M" 2021-10-04 09:00 09:30
ship "$C2" "$P"
visit "$C2" "$CASE" "$M" 2021-10-07 10:00 11:00
visit "$C2" 0901000002 "$M" 2021-10-07 10:15 10:45 # Y: 30 minutes with the case
# 22333: the case at the café on the 6th, X with them; V there on the 3rd, before the window
visit "$C" "$CASE" "$A" 2021-10-06 08:00 09:00
visit "$C" 0901000001 "$A" 2021-10-06 08:30 09:30
visit "$C" 0901000003 "$A" 2021-10-03 08:00 09:00
visit "$C" "$CASE" "$A" 2021-10-03 08:00 09:00
ship "$C" "$P"

check "a commune is not a health node: its case and risk level are refused, nothing recorded"
before=$("$TV" -d "$C" status --json | json_get events)
run "$TV" -d "$C" case add --payload "$CASE" --status F0 --onset 2021-10-08
expect_refused 1 "case add at a commune"
expect_err_has "health flag" "case add at a commune"
run "$TV" -d "$C" risk set --unit 22333 --level 3 --from 2021-10-06
expect_refused 1 "risk set at a commune"
[[ $("$TV" -d "$C" status --json | json_get events) == "$before" ]] || fail "the commune recorded"

check "bad use of case add and risk set"
for bad in "--status F0" "--payload $CASE --status F9 --onset 2021-10-08" \
    "--payload $CASE --status F0" "--payload $CASE --status F0 --onset tomorrowish" \
    "--payload $CASE --ref 00 --status F1" "--payload $CASE --status F1 --unit 'x y'"; do
    # shellcheck disable=SC2086 # the options' words
    eval run "$TV" -d "$P" case add $bad
    expect_refused 2 "case add $bad"
done
for bad in "--unit 22333 --level 5 --from 2021-10-06" "--unit 22333 --level 3" \
    "--level 3 --from 2021-10-06" "--unit 'a b' --level 1 --from 2021-10-06"; do
    # shellcheck disable=SC2086 # the options' words
    eval run "$TV" -d "$P" risk set $bad
    expect_refused 2 "risk set $bad"
done

check "the province adds the F0: onset on the 8th, infectious from the 6th"
run "$TV" -d "$P" case add --payload "$CASE" --status F0 --onset 2021-10-08
expect_ok "case add F0"
"$TV" -d "$P" case list --json >"$W/cases" || fail "case list"
[[ $(wc -l <"$W/cases") -eq 1 ]] || fail "case list: $(cat "$W/cases")"
[[ $(json_get status <"$W/cases") == F0 ]] || fail "case list status"
CASE_REF=$(json_get ref <"$W/cases")
# by default under the commune that recorded the person (the latest of 22334 and 22333),
# so that the case counts in that commune's figures, with its name beside the code
[[ $OUT == "recorded: F0 $CASE_REF  09******00, under unit 22333 Phường Bắc Nha Trang (where the person was recorded)" ]] ||
    fail "case add said: $OUT"
[[ $(json_get unit <"$W/cases") == 22333 && $(json_get unit_name <"$W/cases") == \
    "Phường Bắc Nha Trang" ]] || fail "the case's unit: $(cat "$W/cases")"
SET=$(json_get set_at <"$W/cases")
[[ $("$TV" -d "$P" case list) == "F0       $CASE_REF  09******00                    unit 22333 Phường Bắc Nha Trang      onset 2021-10-08  sampled -  set ${SET:0:16}  infectious 2021-10-06..now" ]] ||
    fail "case list: $("$TV" -d "$P" case list)"
[[ $(json_get window_from <"$W/cases") == 2021-10-06T00:00:00+07:00 ]] ||
    fail "window from: $(cat "$W/cases")"
[[ $(json_get window_to <"$W/cases") == null ]] || fail "window open: $(cat "$W/cases")"

# f1 DIR [ARGS]: the F1 people of `trace --json` with the case's own window, sorted
f1() {
    local dir=$1
    shift
    "$TV" -d "$dir" trace --payload "$CASE" --json "$@" >"$W/trace.json" 2>"$W/trace.err" ||
        fail "trace at $dir: $(cat "$W/trace.err")"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
print(" ".join(sorted(c["person"] for c in r["contacts"] if c["level"] == "F1")))
' "$W/trace.json"
}
stale() { # stale UNIT: whether the last trace flagged UNIT as not synced since the window
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
u = [c for c in r["completeness"] if c["unit"] == sys.argv[2]]
print("yes" if u and u[0]["stale"] else "no")
' "$W/trace.json" "$1"
}

check "trace at the province: the window from the case; 22334 flagged as not synced"
[[ $(f1 "$P") == "09******01" ]] || fail "F1 at the province before 22334 synced: $(f1 "$P")"
[[ $(json_get from <"$W/trace.json") == 2021-10-06T00:00:00+07:00 ]] || fail "window"
[[ $(stale 22334) == yes ]] || fail "22334 not flagged: $(cat "$W/trace.json")"
[[ $(stale 22333) == no ]] || fail "22333 flagged"
grep -q "22334" "$W/trace.err" || fail "no warning about 22334: $(cat "$W/trace.err")"
run "$TV" -d "$P" trace --payload "$CASE"
expect_ok "trace (table)"
grep -q "not synced since the window began.*22334 (last scan 2021-10-04)" "$W/out" ||
    fail "the table does not flag 22334: $OUT"

check "once 22334 has synced, the contact at its market is found there, and no flag"
ship "$C2" "$P"
[[ $(f1 "$P") == "09******01 09******02" ]] || fail "F1 after 22334 synced: $(f1 "$P")"
[[ $(stale 22334) == no ]] || fail "22334 still flagged"
python3 - "$W/trace.json" <<'EOF' || fail "the visits to zone: $(cat "$W/trace.json")"
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert [(v["venue_name"], v["unit"]) for v in r["visits"]] == [
    ("Quán cà phê Biển", "22333"), ("Chợ Xóm Mới", "22334")], r["visits"]
EOF

check "csv: one row per visit of the case and per shared visit"
"$TV" -d "$P" trace --payload "$CASE" --format csv >"$W/trace.csv" 2>/dev/null || fail "csv"
python3 - "$W/trace.csv" <<'EOF' || fail "csv: $(cat "$W/trace.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
kinds = sorted((r["Mức (F0/F1/F2)"], r["Người (che)"], r["Số phút"]) for r in rows)
assert kinds == [("F0", "09******00", "60"), ("F0", "09******00", "60"),
                 ("F1", "09******01", "30"), ("F1", "09******02", "30")], kinds
EOF

check "--reveal: only on the health node, each full view audited before it is shown"
run "$TV" -d "$P" trace --payload "$CASE" --reveal
expect_refused 2 "--reveal without a reason"
run "$TV" -d "$C" trace --payload "$CASE" --from 2021-10-06 --reveal --reason "truy vết"
expect_refused 1 "--reveal at a commune"
expect_err_has "health flag" "--reveal at a commune"
audits=$("$TV" -d "$P" audit --json | grep -c . || true)
run "$TV" -d "$P" trace --payload "$CASE" --reveal --reason "truy vết ca F0" --format csv
expect_ok "trace --reveal"
python3 - "$W/out" <<'EOF' || fail "the revealed csv: $OUT"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
got = sorted({(r["Mức (F0/F1/F2)"], r["Số điện thoại"]) for r in rows})
assert got == [("F0", "0901000000"), ("F1", "0901000001"), ("F1", "0901000002")], got
EOF
[[ $("$TV" -d "$P" audit --json | grep -c .) -eq $((audits + 3)) ]] ||
    fail "the three reveals are not in the audit"

check "a commune traces on its own data and says what it cannot see"
ship "$P" "$C"
[[ $(f1 "$C") == "09******01" ]] || fail "F1 at the commune: $(f1 "$C")"
grep -q "commune node" "$W/trace.err" || fail "no note at the commune: $(cat "$W/trace.err")"
[[ $(json_get commune_only <"$W/trace.json") == true ]] || fail "commune_only"

check "alerts: each commune lists the case's windows at its own venues, not who"
ship "$P" "$C2"
run "$TV" -d "$C2" alerts
expect_ok "alerts at 22334"
grep -q "2021-10-07 10:00-11:00  Chợ Xóm Mới" "$W/out" || fail "alerts at 22334: $OUT"
grep -q "Biển" "$W/out" && fail "22334 lists another commune's venue: $OUT"
grep -q "09\*\*\*\*\*\*00\|$CASE" "$W/out" && fail "alerts show the case: $OUT"
run "$TV" -d "$C" alerts --json
expect_ok "alerts at 22333"
[[ $(json_get venue_name <"$W/out") == "Quán cà phê Biển" && $(json_get from <"$W/out") == \
    2021-10-06T08:00:00+07:00 && $(wc -l <"$W/out") -eq 1 ]] || fail "alerts at 22333: $OUT"

check "the gate shows the person's colour"
printf '%s\n' "$CASE" 0901000005 | "$TV" -d "$C" station --venue "$A" >"$W/gate" 2>/dev/null ||
    fail "station"
[[ $(sed -n 1p "$W/gate") == "DỪNG — KHÔNG VÀO  09******00  ĐỎ — F0: ca bệnh, liên hệ trạm y tế  (đã ghi: vào "* ]] ||
    fail "the case's line: $(cat "$W/gate")"
[[ $(sed -n 2p "$W/gate") != *"("* ]] || fail "a colour for nobody: $(cat "$W/gate")"

check "a clearing closes the window: the market visit on the 7th is after it"
run "$TV" -d "$P" case add --payload "$CASE" --status cleared --at 2021-10-07T00:00:00+07:00
expect_ok "case add cleared"
[[ $(f1 "$P") == "09******01" ]] || fail "F1 after the clearing: $(f1 "$P")"
[[ $(json_get to <"$W/trace.json") == 2021-10-07T00:00:00+07:00 ]] || fail "window end"
[[ $("$TV" -d "$P" case list --json | json_get status) == cleared ]] || fail "status"
run "$TV" -d "$P" trace --payload 0901000001
expect_refused 2 "trace of a person with no case and no --from"

check "risk levels: set at the province, in force from their date, a village takes its commune's"
run "$TV" -d "$P" risk set --unit 22333 --level 3 --from 2021-10-06 --note "ổ dịch quán cà phê"
expect_ok "risk set 22333"
run "$TV" -d "$P" risk set --unit 22333.03 --level 4 --from 2021-10-07
expect_ok "risk set a village"
run "$TV" -d "$P" risk set --unit 22333 --level 2 --from 2021-10-20
expect_ok "risk set later"
ship "$P" "$C"
at=2021-10-08T12:00:00+07:00
[[ $("$TV" -d "$C" risk show --unit 22333 --at "$at" --json | head -n1 | json_get level) == 3 ]] ||
    fail "22333 at the commune"
[[ $("$TV" -d "$C" risk show --unit 22333.03 --at "$at" --json | head -n1 | json_get level) == 4 ]] ||
    fail "the village"
[[ $("$TV" -d "$C" risk show --unit 22333.07 --at "$at" --json | head -n1 | json_get level) == 3 ]] ||
    fail "a village without its own"
[[ $("$TV" -d "$C" risk show --unit 22333 --at 2021-10-05 --json | head -n1 | json_get state) == \
    "from then" ]] || fail "before any level: only what is set for later"
run "$TV" -d "$C" risk show --at "$at"
expect_ok "risk show"
grep -qxF '22333 Phường Bắc Nha Trang          in force   level 3 high (orange)    from 2021-10-06T00:00  "ổ dịch quán cà phê"' \
    "$W/out" || fail "risk show: $OUT"
grep -q "^22333 .*from then.*2 medium" "$W/out" || fail "the later change: $OUT"

check "the log shows the risk levels' fields; case statuses travel sealed, shown by tag only"
"$TV" -d "$C" log --json >"$W/log" || fail "log"
python3 - "$W/log" <<'EOF' || fail "log: $(grep -c . "$W/log") lines"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert not [e for e in evs if e["type"] == "case_status"], "a plain case status"
sealed = [e["fields"] for e in evs if e["type"] == "sealed"]
assert len(sealed) >= 2 and all(sorted(f) == ["box_bytes", "tag"] for f in sealed), sealed
risks = [e["fields"] for e in evs if e["type"] == "risk_level"]
assert sorted((r["unit"], r["level"]) for r in risks) == [
    ("22333", 2), ("22333", 3), ("22333.03", 4)], risks
EOF

check "case add: a person not recorded here is under this node's unit; --unit as given"
run "$TV" -d "$P" case add --payload 0901000077 --status F1 --onset 2021-10-06
expect_ok "case add of a person not recorded here"
[[ $OUT == *", under unit 56 Tỉnh Khánh Hoà (this node's own: the person has no record here)" ]] ||
    fail "case add of a person not recorded here said: $OUT"
run "$TV" -d "$P" case add --payload 0901000077 --status cleared --unit 22333
expect_ok "case add --unit"
[[ $OUT == *", under unit 22333 Phường Bắc Nha Trang (as given)" ]] || fail "case add --unit: $OUT"

check "help"
for cmd in "case --help" "risk --help" "alerts --help" "trace --help"; do
    # shellcheck disable=SC2086
    run "$TV" $cmd
    expect_ok "$cmd"
done

echo "health_test: all checks passed"
