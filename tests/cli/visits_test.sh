#!/usr/bin/env bash
# The presence view of a venue's day (`venue visits`) over real scans: repeats collapsed,
# and each way a visit with no check-out ends -- the next check-in elsewhere, the
# category's default stay, the venue's closing time, midnight -- with the default stays
# changed and restored by `venue categories --set/--reset`. Times are fixed in the past,
# so nothing depends on when the test runs (but the one check of an open visit).
#
# Usage: bash tests/cli/visits_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

P=$W/province-56
C=$W/commune-22333
D=2021-10-06 # a day of the 2021 wave

tv() { run "$TV" -d "$C" "$@"; }

# at PERSON VENUE HH:MM [--out]: a scan on day D at HH:MM, Vietnam time.
at() {
    local person=$1 venue=$2 hm=$3
    shift 3
    tv scan --venue "$venue" --person "$person" --at "${D}T$hm:00+07:00" "$@"
    expect_ok "scan $person at $hm"
}

# visits_rows: `venue visits VA --date D --json` as "from-to end scans person" lines.
visits_rows() {
    tv venue visits "$VA" --date "$D" --json
    expect_ok "venue visits --json"
    python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    r = json.loads(line)
    to = r["to"][11:16] if r["to"] else "now"
    print("%s-%s %s %d %s" % (r["from"][11:16], to, r["end"], r["scans"], r["person"]))
' "$W/out"
}

check "a province and a commune enrolled under it; a café closing at 22:00 and a market"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
tv venue add --name "Quán cà phê Biển" --category cafe --closes 22:00
expect_ok "venue add café"
VA=$OUT
tv venue add --name "Chợ Đầm" --category market
expect_ok "venue add market"
VB=$OUT

at 0901000001 "$VA" 08:00
at 0901000001 "$VA" 08:02 # a repeat within 5 minutes: the same check-in
at 0901000001 "$VB" 08:30 # checks in elsewhere: the café visit ends then
at 0901000002 "$VA" 09:00
at 0901000002 "$VA" 09:20 --out # checks out
at 0901000003 "$VA" 10:00       # no check-out: the café's default stay (60 minutes)
at 0901000004 "$VA" 21:30       # no check-out: the café closes at 22:00
at 0901000005 "$VA" 23:30       # no check-out, after closing: midnight comes first
at 0901000006 "$VA" 12:00 --out # a check-out alone still shows the person was there

check "each visit once, with the rule that ended it"
expected="08:00-08:30 next check-in 2 09******01
09:00-09:20 check-out 2 09******02
10:00-11:00 default stay 1 09******03
12:00-12:00 check-out 1 09******06
21:30-22:00 closing time 1 09******04
23:30-00:00 end of day 1 09******05"
got=$(visits_rows)
[[ $got == "$expected" ]] || fail "venue visits gave:
$got
expected:
$expected"
grep -qF "6 visits by 6 people at Quán cà phê Biển on $D" "$W/err" ||
    fail "venue visits does not sum up on stderr: $(cat "$W/err")"

check "the text listing shows the same visits"
tv venue visits "${VA:0:6}" --date "$D"
expect_ok "venue visits (text)"
[[ $(wc -l <"$W/out") -eq 6 ]] || fail "the text listing has $(wc -l <"$W/out") lines"
grep -qE '^10:00-11:00  default stay +1 scan +09\*\*\*\*\*\*03$' "$W/out" ||
    fail "the text listing lacks the default-stay visit: $OUT"

check "another day, and the market: only their own visits"
tv venue visits "$VA" --date 2021-10-07
expect_ok "venue visits the next day"
[[ -z $OUT ]] || fail "the next day lists '$OUT'"
tv venue visits "$VB" --date "$D" --json
[[ $(wc -l <"$W/out") -eq 1 && $(json_get end <"$W/out") == "default stay" ]] ||
    fail "the market's visits are '$OUT'"

check "venue categories --set changes the default stay the view uses; --reset restores it"
tv venue categories --set cafe=20
expect_ok "categories --set cafe=20"
tv venue categories --json
[[ $(grep '"slug":"cafe"' "$W/out" | json_get stay_min) == 20 ]] || fail "cafe's stay is not 20"
[[ $(grep '"slug":"cafe"' "$W/out" | json_get stay_set_here) == true ]] ||
    fail "cafe's stay is not marked as set here"
[[ $(grep '"slug":"bar"' "$W/out" | json_get stay_set_here) == false ]] ||
    fail "bar's stay is marked as set here"
tv venue categories
grep -qE '^ 5  cafe +20 min\* ' "$W/out" || fail "the text listing does not mark cafe's stay"
got=$(visits_rows)
[[ $got == *"10:00-10:20 default stay 1 09******03"* ]] || fail "with 20 minutes: $got"
[[ $got == *"21:30-21:50 default stay 1 09******04"* ]] || fail "with 20 minutes: $got"
[[ $got == *"23:30-23:50 default stay 1 09******05"* ]] || fail "with 20 minutes: $got"
tv venue categories --reset Cafe
expect_ok "categories --reset"
[[ $(visits_rows) == "$expected" ]] || fail "after --reset the visits are not as before"

check "bad use: a bad date, an unknown venue, bad --set and --reset"
for bad in 2021-13-01 yesterday 06/10/2021 ""; do
    tv venue visits "$VA" --date "$bad"
    expect_refused 2 "venue visits --date '$bad'"
done
tv venue visits ffffffffffffffff
expect_refused 1 "venue visits of an unknown venue"
tv venue visits
expect_refused 2 "venue visits without a venue"
for bad in cafe cafe= cafe=0 cafe=1441 cafe=-5 cafe=20m tea=30 =30; do
    tv venue categories --set "$bad"
    expect_refused 2 "categories --set '$bad'"
done
tv venue categories --reset tea
expect_refused 2 "categories --reset of an unknown category"
tv venue categories --set cafe=30 --json
expect_refused 2 "categories --set with --json"
tv venue categories --json
[[ $(grep '"slug":"cafe"' "$W/out" | json_get stay_min) == 60 ]] ||
    fail "a refused --set changed the stay"

check "a node that cannot seal (not enrolled) shows the masked number its scans carry"
LONE=$W/lone-22334
"$TV" -d "$LONE" init --role commune --unit 22334 --unlisted --name "Xã lẻ" >/dev/null 2>&1
V=$("$TV" -d "$LONE" venue add --name "Quán lẻ" --category cafe 2>/dev/null)
"$TV" -d "$LONE" scan --venue "$V" --person 0987654321 --at "${D}T08:00:00+07:00" >/dev/null 2>&1
run "$TV" -d "$LONE" venue visits "$V" --date "$D" --json
expect_ok "venue visits on a lone node"
[[ $(json_get person <"$W/out") == "09******21" ]] || fail "the lone node shows '$OUT'"

check "a visit under way is open: to is null (hotel: 12-hour stay, no closing time)"
if (($(TZ=Asia/Ho_Chi_Minh date +%H) < 23)); then
    tv venue add --name "Nhà nghỉ Hoa" --category hotel
    VH=$OUT
    tv scan --venue "$VH" --person 0901000009
    expect_ok "scan now"
    tv venue visits "$VH" --json
    expect_ok "venue visits today"
    [[ $(json_get end <"$W/out") == open && $(json_get to <"$W/out") == null ]] ||
        fail "the visit under way is '$OUT'"
else
    echo "  (skipped: within an hour of midnight, Vietnam time, the visit may end at 00:00)"
fi

echo "visits_test: all checks passed"
