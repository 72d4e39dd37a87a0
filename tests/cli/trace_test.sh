#!/usr/bin/env bash
# `truyvet trace` on a hand-built day with known answers: overlaps exactly at the minimum
# and one minute short, touching visits, an inferred check-out, a repeat scan, F2 found
# through an F1 after its exposure only and never listing the case or an F1; then the
# same answer at the province once the commune's log has reached it.
#
# Usage: bash tests/cli/trace_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

P=$W/province-56
C=$W/commune-22333
D=2021-10-06

"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
A=$("$TV" -d "$C" venue add --name "Quán cà phê Biển" --category cafe 2>/dev/null) # 60 min stay
B=$("$TV" -d "$C" venue add --name "Chợ Đầm" --category market 2>/dev/null)

# visit PHONE VENUE IN [OUT] [DAY]: a check-in, and a check-out when OUT is given.
visit() {
    local day=${5:-$D}
    "$TV" -d "$C" scan --venue "$2" --person "$1" --at "${day}T$3:00+07:00" >/dev/null 2>&1 ||
        fail "scan $1 at $3"
    if [[ -n ${4:-} ]]; then
        "$TV" -d "$C" scan --venue "$2" --person "$1" --out --at "${day}T$4:00+07:00" \
            >/dev/null 2>&1 || fail "scan out $1 at $4"
    fi
}

check "a day at a café and a market"
visit 0901000000 "$A" 08:00 09:00 # the case
visit 0901000001 "$A" 08:30 09:30 # X: 30 minutes with the case
visit 0901000001 "$A" 08:31       # X again within 5 minutes: the same visit
visit 0901000002 "$A" 08:50 09:10 # 10 minutes
visit 0901000003 "$A" 09:00 10:00 # touching: nothing shared
visit 0901000004 "$A" 08:45 09:00 # exactly 15 minutes
visit 0901000005 "$A" 08:46 09:00 # one minute short
visit 0901000006 "$A" 07:30       # no check-out: the café's 60 minutes, to 08:30
visit 0901000001 "$B" 10:00 11:00 # X at the market after the exposure
visit 0901000007 "$B" 10:15 10:45 # W with X: an F2
visit 0901000000 "$B" 10:40 10:50 # the case too, 5 minutes with W: not enough for F1
visit 0901000004 "$B" 10:00 10:30 # E, an F1, with X: not listed again as an F2
visit 0901000008 "$B" 10:00 11:00 2021-10-05 # V with X the day before: before the exposure
visit 0901000001 "$B" 10:00 11:00 2021-10-05

# contacts DIR ARGS...: "LEVEL PERSON MINUTES" lines of `trace --json`, in order.
contacts() {
    local dir=$1
    shift
    "$TV" -d "$dir" trace --person 0901000000 --from "$D" --to 2021-10-07 --json "$@" \
        >"$W/trace.json" || fail "trace $* failed"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
for c in r["contacts"]:
    print(c["level"], c["person"], c["shared_minutes"])
' "$W/trace.json"
}

check "F1 at 15 minutes: X and I (30 each, by pseudonym), then E (exactly 15)"
got=$(contacts "$C")
top=$(head -n2 <<<"$got" | sort)
[[ $top == $'F1 09******01 30\nF1 09******06 30' ]] || fail "the first two F1 are: $got"
[[ $(sed -n 3p <<<"$got") == "F1 09******04 15" && $(wc -l <<<"$got") -eq 3 ]] ||
    fail "F1 at 15 minutes: $got"

check "--min-overlap 10m adds the 10-minute visit; touching visits never count"
got=$(contacts "$C" --min-overlap 10m)
grep -qx "F1 09\*\*\*\*\*\*02 10" <<<"$got" || fail "with 10 minutes: $got"
grep -q "09\*\*\*\*\*\*03" <<<"$got" && fail "a touching visit counted: $got"
got=$(contacts "$C" --min-overlap 1m)
grep -q "09\*\*\*\*\*\*03" <<<"$got" && fail "a touching visit counted at 1 minute: $got"
grep -qx "F1 09\*\*\*\*\*\*05 14" <<<"$got" || fail "the 14-minute visit at 1 minute: $got"

check "--margin 5m widens the case's visits"
got=$(contacts "$C" --min-overlap 5m --margin 5m)
grep -qx "F1 09\*\*\*\*\*\*03 5" <<<"$got" || fail "with a 5-minute margin: $got"

# From X (exposed from 08:30): Z at the café 09:00-09:30 (30) and Y 08:50-09:10 (20), W at
# the market (30); from E (exposed from 08:45): W again at the market (15).
check "--depth 2: through the F1s after their exposure; not V, not the case, not an F1"
got=$(contacts "$C" --depth 2)
[[ $(grep '^F2' <<<"$got") == $'F2 09******07 45\nF2 09******03 30\nF2 09******02 20' ]] ||
    fail "F2: $got"
grep -q "09\*\*\*\*\*\*08\|F2 09\*\*\*\*\*\*00\|F2 09\*\*\*\*\*\*01\|F2 09\*\*\*\*\*\*04" <<<"$got" &&
    fail "F2 lists someone it must not: $got"
python3 - "$W/trace.json" <<'EOF' || fail "the F2's via is not X"
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
by = {c["person"]: c for c in r["contacts"]}
assert by["09******07"]["via"] == by["09******01"]["ref"]
assert r["case"]["person"] == "09******00"
assert [v["venue_name"] for v in r["visits"]] == ["Quán cà phê Biển", "Chợ Đầm"], r["visits"]
EOF

check "the text form names the visits to zone and the contacts"
run "$TV" -d "$C" trace --person 0901000000 --from "$D" --to 2021-10-07 --depth 2
expect_ok "trace (text)"
grep -q "^visits (where to zone): 2" "$W/out" || fail "trace text: $OUT"
grep -q "^F1: 3" "$W/out" && grep -q "^F2: 3" "$W/out" || fail "trace text counts: $OUT"

check "the same answer at the province once the commune's log reached it"
"$TV" -d "$C" bundle export --out "$W/b" >/dev/null 2>&1
"$TV" -d "$P" bundle import "$W/b" >/dev/null 2>&1
# contacts with the same minutes are listed by pseudonym, and the province's pseudonyms are
# not the commune's (PROTOCOL.md §2.6): the same lines, maybe in another order
[[ $(contacts "$P" --depth 2 | sort) == $(contacts "$C" --depth 2 | sort) ]] ||
    fail "the province differs"

check "--reveal at the province: address and phone in the text and in the CSV contact list"
CCCD='001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021'
F=$("$TV" -d "$C" venue add --name "=1+2 Karaoke" --category karaoke 2>/dev/null) # a formula?
D8=2021-10-08
visit 0901000000 "$A" 08:00 09:00 "$D8" # the case
visit "$CCCD" "$A" 08:10 08:40 "$D8"    # An, by their chip ID card: 30 minutes
visit 0901000000 "$F" 20:00 21:00 "$D8"
visit 0901000001 "$F" 20:00 21:00 "$D8" # X by phone: 60 minutes
ship "$C" "$P"
tr8() { "$TV" -d "$P" trace --person 0901000000 --from "$D8" --to 2021-10-09 "$@"; }
tr8 --json >"$W/t8.json" 2>/dev/null || fail "trace --json on the 8th"
read -r CASE_REF AN_REF X_REF VA VF < <(python3 -c '
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
by = {c["person"]: c["ref"] for c in r["contacts"]}
v = {x["venue_name"]: x["venue"] for x in r["visits"]}
print(r["case"]["ref"], by["Nguyễn V** A · **********45"], by["09******01"],
      v["Quán cà phê Biển"], v["=1+2 Karaoke"])
' "$W/t8.json")
run tr8 --reveal --reason "truy vết ca F0 ngày 08/10"
expect_ok "trace --reveal (text)"
grep -qxF "        Nguyễn Văn An, CCCD 001099012345, CMND 123456789, born 1999-03-15, address Số 1 Phố X, Phường Ba Đình, Hà Nội" \
    "$W/out" || fail "An's details in the text: $OUT"
grep -qxF "        phone 0901000001" "$W/out" || fail "X's phone in the text: $OUT"
run tr8 --reveal --reason "truy vết ca F0 ngày 08/10" --format csv
expect_ok "trace --reveal --format csv"
head -c3 "$W/out" | od -An -tx1 | grep -q "ef bb bf" || fail "no byte order mark: $OUT"
HEAD="Mức (F0/F1/F2),Người (che),Họ và tên,Số CCCD,Số CMND,Ngày sinh,Địa chỉ,Số điện thoại,Nơi tiếp xúc,Thôn/tổ dân phố,Đơn vị,Thời gian từ,Thời gian đến,Số phút,Mã địa điểm,Mã người,Tiếp xúc qua (mã người)"
[[ $(head -n1 "$W/out" | tail -c +4 | tr -d '\r') == "$HEAD" ]] ||
    fail "the CSV header: $(head -n1 "$W/out")"
AN_ROW="F1,Nguyễn V** A · **********45,Nguyễn Văn An,001099012345,123456789,1999-03-15,\"Số 1 Phố X, Phường Ba Đình, Hà Nội\",,Quán cà phê Biển,,22333 Phường Bắc Nha Trang,2021-10-08 08:10,2021-10-08 08:40,30,$VA,$AN_REF,$CASE_REF"
grep -qxF "$AN_ROW"$'\r' "$W/out" || fail "An's row: $OUT"
# a venue named like a formula stays text in a spreadsheet: a leading apostrophe
X_ROW="F1,09******01,,,,,,0901000001,'=1+2 Karaoke,,22333 Phường Bắc Nha Trang,2021-10-08 20:00,2021-10-08 21:00,60,$VF,$X_REF,$CASE_REF"
grep -qxF "$X_ROW"$'\r' "$W/out" || fail "X's row: $OUT"
[[ $(wc -l <"$W/out") -eq 5 ]] || fail "two visits of the case and two shared: $OUT"

check "without --reveal the CSV is masked: no details, no audit"
audits=$("$TV" -d "$P" audit --json | grep -c . || true)
run tr8 --format csv
expect_ok "trace --format csv"
[[ $(head -n1 "$W/out" | tail -c +4 | tr -d '\r') == "Mức (F0/F1/F2),Người (che),Nơi tiếp xúc,Thôn/tổ dân phố,Đơn vị,Thời gian từ,Thời gian đến,Số phút,Mã địa điểm,Mã người,Tiếp xúc qua (mã người)" ]] ||
    fail "the masked CSV header: $(head -n1 "$W/out")"
grep -qxF "F1,Nguyễn V** A · **********45,Quán cà phê Biển,,22333 Phường Bắc Nha Trang,2021-10-08 08:10,2021-10-08 08:40,30,$VA,$AN_REF,$CASE_REF"$'\r' \
    "$W/out" || fail "An's masked row: $OUT"
grep -q "Nguyễn Văn An\|001099012345\|0901000001\|Phố X" "$W/out" && fail "details unmasked: $OUT"
[[ $("$TV" -d "$P" audit --json | grep -c . || true) -eq $audits ]] || fail "a masked CSV audited"

check "bad use"
for bad in "--from $D --depth 3" "--from $D --min-overlap 0" "--from $D --min-overlap x" \
    "--from yesterday" "--from $D --to 2021-10-05" "--from $D --margin -1"; do
    # shellcheck disable=SC2086 # the options' words
    run "$TV" -d "$C" trace --person 0901000000 $bad
    expect_refused 2 "trace $bad"
done
run "$TV" -d "$C" trace --from "$D"
expect_refused 2 "trace without a person"
run "$TV" -d "$C" trace --person 0901000000
expect_refused 2 "trace without --from"
run "$TV" -d "$C" trace --ref abc --from "$D"
expect_refused 2 "trace --ref abc"
run "$TV" trace --help
expect_ok "trace --help"

echo "trace_test: all checks passed"
