#!/usr/bin/env bash
# Input a newcomer types or brings, refused or accepted as it should be: unit codes that
# are not in the official list, scans dated in the future or before 2020, a venue
# registered twice, text typed in decomposed Unicode (NFD), a CSV saved by a spreadsheet
# in a Vietnamese locale (semicolons, BOM, CRLF, dd/mm/yyyy times, categories in
# Vietnamese), --out to a directory that does not exist, a trace of a person the node has
# never seen, and a request issued twice.
#
# Usage: bash tests/cli/input_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

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
before=$(status_get "$P" events total)
run "$TV" -d "$P" risk set --unit 99999 --level 3 --from 2021-10-06
expect_refused 2 "risk set --unit 99999"
expect_err_has "unit 99999 is not in the official list of units nor among the units this node knows." "risk set 99999"
run "$TV" -d "$P" risk set --unit 22339.03 --level 3 --from 2021-10-06
expect_refused 2 "risk set --unit 22339.03"
expect_err_has "unit 22339.03 is not in the official list" "risk set 22339.03"
[[ $(status_get "$P" events total) == "$before" ]] || fail "a refused risk level was recorded"
run "$TV" -d "$P" risk set --unit 22333.03 --level 4 --from 2021-10-07
expect_ok "risk set of a village of 22333"
run "$TV" -d "$P" unit add 568 --name "Trung tâm Y tế Nha Trang" --parent 56
expect_ok "unit add 568"
run "$TV" -d "$P" risk set --unit 568 --level 2 --from 2021-10-07
expect_ok "risk set of a unit the node knows from unit add"

# --- when a scan happened -------------------------------------------------------------

V=$("$TV" -d "$C" venue add --name "Quán cà phê Biển" --category cafe 2>/dev/null)

check "scan --at an hour ahead of the node's clock, or in 2031: refused, nothing recorded"
before=$(status_get "$C" events total)
AHEAD=$(date -d '+1 hour' +%Y-%m-%dT%H:%M:%S%:z)
run "$TV" -d "$C" scan --venue "$V" --person 0912345678 --at "$AHEAD"
expect_refused 2 "scan an hour ahead"
expect_err_has "truyvet: --at $AHEAD is in the future: this node's clock says" "scan ahead"
expect_err_has "A scan may be at most 10 minutes ahead of it" "scan ahead"
run "$TV" -d "$C" scan --venue "$V" --person 0912345678 --at 2031-10-06T08:00:00+07:00
expect_refused 2 "scan in 2031"
run "$TV" -d "$C" scan --venue "$V" --person 0912345678 --at 2019-12-31T23:59:00+07:00
expect_refused 2 "scan in 2019"
expect_err_has "truyvet: --at 2019-12-31T23:59:00+07:00 is before 2020; check the date." "scan 2019"
[[ $(status_get "$C" events total) == "$before" ]] || fail "a refused scan was recorded"

check "scan --at 5 minutes ahead (a gate's clock a little fast) and on 1 January 2020: kept"
run "$TV" -d "$C" scan --venue "$V" --person 0912345678 --at "$(date -d '+5 minutes' +%Y-%m-%dT%H:%M:%S%:z)"
expect_ok "scan 5 minutes ahead"
run "$TV" -d "$C" scan --venue "$V" --person 0912345678 --at 2020-01-01T00:00:00+07:00
expect_ok "scan on 1 January 2020"

check "import: a row dated 2031 and one dated 2019 are refused with their lines, the others kept"
printf 'venue,person,direction,time\n%s,0912000001,in,2021-10-06T08:00:00+07:00\n%s,0912000002,in,2031-10-06T08:00:00+07:00\n%s,0912000003,in,2019-06-01T08:00:00+07:00\n' \
    "$V" "$V" "$V" >"$W/future.csv"
run "$TV" -d "$C" import --csv "$W/future.csv"
expect_rc 1 "import with a row in 2031"
expect_err_has "truyvet: line 3: the time '2031-10-06T08:00:00+07:00' is in the future (more than 10 minutes after this node's clock)" "import 2031"
expect_err_has "truyvet: line 4: the time '2019-06-01T08:00:00+07:00' is before 2020" "import 2019"
expect_err_has "recorded 1 scan from $W/future.csv; 2 rows rejected" "import 2031"

# --- trace of a person the node has never seen ------------------------------------------

check "trace of a person never seen here: a clear message and exit 1, nothing on stdout"
run "$TV" -d "$C" trace --payload 0999999999 --from 2021-10-01
expect_refused 1 "trace of an unknown person"
expect_err_has "truyvet: no record of this person (pseudonym " "trace unknown"
expect_err_has ") at this node: no check-in, no person record and no case status. Check the number, or sync with the nodes below first. Nothing was traced." "trace unknown"
run "$TV" -d "$C" trace --payload 0912345678 --from 2021-10-01
expect_ok "trace of a person scanned here"

# --- --out to a directory that does not exist ---------------------------------------------

check "--out /nonexistent/...: the message names the output path and the reason, nothing is recorded"
before=$(status_get "$C" events total)
for cmd in "qr venue $V --out /nonexistent/c.pdf" "qr node --out /nonexistent/c.pdf" \
    "person card --person 0912000009 --out /nonexistent/c.pdf" \
    "report --out /nonexistent/r.html --format html"; do
    # shellcheck disable=SC2086 # the command's words
    run "$TV" -d "$C" $cmd
    expect_refused 1 "$cmd"
    out=${cmd#*--out }
    out=${out%% *}
    expect_err_has "truyvet: cannot write $out: No such file or directory; nothing was done." "$cmd"
    ! grep -qF "cannot read or write the files in" "$W/err" || fail "$cmd blames the node directory"
done
[[ $(status_get "$C" events total) == "$before" ]] || fail "person card recorded although it wrote no card"

# --- enroll issue twice ---------------------------------------------------------------

check "enroll issue twice for the same request: the same certificate, nothing recorded twice"
D=$W/district-568
"$TV" -d "$D" init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null 2>&1
"$TV" -d "$D" enroll request --out "$W/d.req" >/dev/null 2>&1
run "$TV" -d "$P" enroll issue "$W/d.req" --out "$W/d1.cert" --scope 22333
expect_ok "first issue"
before=$(status_get "$P" events total)
run "$TV" -d "$P" enroll issue "$W/d.req" --out "$W/d2.cert" --scope 22333
expect_ok "second issue"
expect_err_has "already issued by this node: nothing new was recorded, the file holds that certificate again" "second issue"
[[ $(status_get "$P" events total) == "$before" ]] || fail "the second issue recorded another certificate"
c1=$("$TV" enroll show "$W/d1.cert" --json | json_get chain 1)
c2=$("$TV" enroll show "$W/d2.cert" --json | json_get chain 1)
[[ -n $c1 && $c1 == "$c2" ]] || fail "the two files hold different certificates: $c1 / $c2"

check "enroll issue again with another scope: refused unless --reissue"
run "$TV" -d "$P" enroll issue "$W/d.req" --out "$W/d3.cert" --scope 22333,22402
expect_refused 1 "issue with another scope"
expect_err_has "that node already holds a certificate from this node (district 568, scope 568,22333); give --reissue to record a new one (district 568, scope 568,22333,22402) in its place." "issue with another scope"
[[ ! -e $W/d3.cert ]] || fail "a refused issue wrote a certificate file"
[[ $(status_get "$P" events total) == "$before" ]] || fail "a refused issue recorded"
run "$TV" -d "$P" enroll issue "$W/d.req" --out "$W/d3.cert" --scope 22333,22402 --reissue
expect_ok "issue --reissue"
expect_err_has "recorded in this node's log" "issue --reissue"
[[ $(status_get "$P" events total) -gt "$before" ]] || fail "--reissue recorded nothing"

# --- text in NFC, the same venue twice, categories in Vietnamese -----------------------------

nfd() { python3 -c 'import sys, unicodedata; print(unicodedata.normalize("NFD", sys.argv[1]))' "$1"; }

check "a venue named in decomposed Unicode (NFD), category typed in Vietnamese: stored as NFC"
NAME_NFD=$(nfd "Nhà hàng Phở Hà")
VILLAGE_NFD=$(nfd "Tổ dân phố 5")
[[ $NAME_NFD != "Nhà hàng Phở Hà" ]] || fail "python did not decompose the name"
run "$TV" -d "$C" venue add --name "$NAME_NFD" --category "Nhà hàng" --village "$VILLAGE_NFD"
expect_ok "venue add with an NFD name and a Vietnamese category"
PHO=$OUT
run "$TV" -d "$C" venue show "$PHO" --json
expect_ok "venue show"
[[ $(json_get name <"$W/out") == "Nhà hàng Phở Hà" ]] || fail "the name is not stored as NFC"
[[ $(json_get village <"$W/out") == "Tổ dân phố 5" ]] || fail "the village is not stored as NFC"
[[ $(json_get category <"$W/out") == restaurant ]] || fail "'Nhà hàng' is not the restaurant category"

check "categories typed in Vietnamese, any case, with or without marks"
for cat in "Chợ:market" "cho:market" "TRƯỜNG HỌC:school" "truong hoc:school" \
    "$(nfd "Quán ăn"):restaurant" "siêu thị:mall_supermarket"; do
    k=$((${k:-0} + 1))
    run "$TV" -d "$C" venue add --name "Địa điểm $k" --category "${cat%:*}"
    expect_ok "venue add --category ${cat%:*}"
    [[ $("$TV" -d "$C" venue show "$OUT" --json | json_get category) == "${cat#*:}" ]] ||
        fail "--category '${cat%:*}' is not ${cat#*:}"
done
run "$TV" -d "$C" venue add --name "Nơi lạ" --category "Sân bay"
expect_refused 2 "an unknown category"
expect_err_has "'Sân bay' is not a venue category" "an unknown category"

check "the same venue registered again (case, marks, spaces, NFD aside): refused in Vietnamese, naming it"
before=$(status_get "$C" events total)
run "$TV" -d "$C" venue add --name "  nhà HÀNG  phở hà " --category restaurant --village "Tổ dân phố 5"
expect_refused 1 "the same venue again"
expect_err_has "truyvet: địa điểm này đã được đăng ký: $PHO (mã " "the same venue again"
expect_err_has "\"Nhà hàng Phở Hà\", Tổ dân phố 5, Nhà hàng, quán ăn. Không đăng ký lại. Nếu đây là một địa điểm khác, thêm --force để vẫn đăng ký." "the same venue again"
[[ $(status_get "$C" events total) == "$before" ]] || fail "the refused venue was recorded"
run "$TV" -d "$C" venue add --name "Nhà hàng Phở Hà" --category restaurant --village "Tổ dân phố 6"
expect_ok "the same name in another village"
run "$TV" -d "$C" venue add --name "Nhà hàng Phở Hà" --category cafe --village "Tổ dân phố 5"
expect_ok "the same name and village, another category"
run "$TV" -d "$C" venue add --name "Nhà hàng Phở Hà" --category restaurant --village "Tổ dân phố 5" --force
expect_ok "--force registers it anyway"
[[ $OUT != "$PHO" ]] || fail "--force gave the existing id"

check "unit and node names typed in NFD are stored as NFC"
run "$TV" -d "$C" unit add 22333.07 --name "$(nfd "Tổ dân phố 7")"
expect_ok "unit add with an NFD name"
"$TV" -d "$C" unit list --json | grep -qF '"name":"Tổ dân phố 7"' || fail "the unit name is not stored as NFC"
run "$TV" -d "$W/nfd" init --role commune --unit 22402 --name "$(nfd "UBND Phường Nam Nha Trang")"
expect_ok "init with an NFD name"
[[ $(status_get "$W/nfd" name) == "UBND Phường Nam Nha Trang" ]] || fail "the node name is not stored as NFC"

# --- a CSV saved by a spreadsheet in a Vietnamese locale -----------------------------------

check "import of a spreadsheet's CSV: BOM, semicolons, CRLF, dd/mm/yyyy times in Vietnam time"
printf '\xef\xbb\xbfvenue;person;direction;time\r\n%s;0913000001;in;07/10/2021 08:00\r\n%s;0913000001;out;7/10/2021 9:30\r\n%s;"0913000002";vào;07/10/2021 08:15:30\r\n%s;0913000003;in;31/02/2021 08:00\r\n' \
    "$V" "$V" "$V" "$V" >"$W/excel.csv"
run "$TV" -d "$C" import --csv "$W/excel.csv"
expect_rc 1 "import of the spreadsheet's CSV (one bad date)"
expect_err_has "truyvet: line 5: '31/02/2021 08:00' is not a time such as 2021-10-06T08:30:00+07:00 or 06/10/2021 08:30 (day/month/year, Vietnam time)" "bad date"
expect_err_has "recorded 3 scans from $W/excel.csv; 1 row rejected" "import of the spreadsheet's CSV"
run "$TV" -d "$C" venue visits "$V" --date 2021-10-07 --json
expect_ok "venue visits on 7 October"
for t in 2021-10-07T08:00:00+07:00 2021-10-07T09:30:00+07:00 2021-10-07T08:15:30+07:00; do
    grep -qF "$t" "$W/out" || fail "no imported visit at $t: $(cat "$W/out")"
done

check "import: a chip card's text with its name decomposed (NFD) gives the NFC masked name"
CCCD_NFD=$(nfd '001099012345|123456789|Đặng Văn Ước|15031999|Nam|Số 1 Phố X, Hà Nội|20042021')
printf 'venue;person;direction;time\r\n%s;"%s";in;09/10/2021 08:00\r\n' "$V" "$CCCD_NFD" >"$W/nfd.csv"
run "$TV" -d "$C" import --csv "$W/nfd.csv"
expect_ok "import of a card text in NFD"
run "$TV" -d "$C" person show --person 001099012345 --json
expect_ok "person show"
grep -qF '"person":"Đặng V** Ư · ' "$W/out" || fail "the masked name is not the NFC 'Đặng V** Ư': $(cat "$W/out")"

check "scan --at in day/month/year, Vietnam time"
run "$TV" -d "$C" scan --venue "$V" --person 0913000009 --at "08/10/2021 10:00" --json
expect_ok "scan --at 08/10/2021 10:00"
[[ $(json_get at <"$W/out") == 2021-10-08T10:00:00+07:00 ]] || fail "08/10/2021 10:00 is not 8 October, 10:00 +07:00"
run "$TV" -d "$C" scan --venue "$V" --person 0913000009 --at "10/13/2021 10:00"
expect_refused 2 "scan --at month first"

echo "input_test: all checks passed"
