#!/usr/bin/env bash
# Integration test of the venue registry as a commune clerk keeps it: closing times, the
# staff phones authorised to scan for a venue (controllers), reminders to venues that do
# not record check-ins, suspension after 3 of them (the gate station refuses the venue's
# scans), reinstatement, a scan lifting a suspension, and the list of venues with no
# recent scan. It drives the real binary; no step waits on the clock.
#
# Usage: bash tests/cli/venue_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NODE=$W/xa-22333

# tv ARGS...: runs truyvet on the commune node.
tv() { run "$TV" -d "$NODE" "$@"; }

events() { status_get "$NODE" events "${1:-total}"; } # events [TYPE]

# show_get VENUE KEY...: a field of `venue show VENUE --json`.
show_get() {
    local v=$1 json
    shift
    json=$("$TV" -d "$NODE" venue show "$v" --json) || fail "venue show $v --json failed"
    printf '%s' "$json" | json_get "$@"
}

# station VENUE PAYLOAD: one line through the gate station of VENUE; its answer in OUT.
station() {
    LAST="printf '$2\\n' | truyvet station --venue $1"
    RC=0
    printf '%s\n' "$2" | "$TV" -d "$NODE" station --venue "$1" >"$W/out" 2>"$W/err" || RC=$?
    OUT=$(cat "$W/out")
    ERR=$(cat "$W/err")
}

# noncompliant_ids [OPTIONS...]: the ids `venue list --noncompliant --json` lists, in order.
noncompliant_ids() {
    "$TV" -d "$NODE" venue list --noncompliant --json "$@" >"$W/nc.jsonl" ||
        fail "venue list --noncompliant --json $* failed"
    python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    print(json.loads(line)["id"])
' "$W/nc.jsonl"
}

# noncompliant_get VENUE KEY: a field of VENUE's line in the last noncompliant_ids listing.
noncompliant_get() {
    python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    o = json.loads(line)
    if o["id"] == sys.argv[2]:
        v = o[sys.argv[3]]
        print(v if isinstance(v, str) else json.dumps(v))
        sys.exit(0)
sys.exit(1)
' "$W/nc.jsonl" "$1" "$2" || fail "venue $1 is not in the noncompliant listing"
}

"$TV" -d "$NODE" init --role commune --unit 22333 --name "UBND Xã Vĩnh Lương" >/dev/null ||
    fail "init failed"

# --- closing time ---------------------------------------------------------------------

check "venue add --closes keeps the closing time; show and list show it"
tv venue add --name "Quán cà phê Hương Sen" --category cafe --closes 22:00
expect_ok "venue add --closes"
V1=$OUT
[[ $V1 =~ ^[0-9a-f]{16}$ ]] || fail "venue add printed '$V1', not a venue id"
[[ $(show_get "$V1" closes) == 22:00 ]] || fail "venue show --json closes is not 22:00"
tv venue show "$V1"
expect_ok "venue show"
grep -qE '^closes: +22:00$' "$W/out" || fail "venue show does not show 'closes: 22:00'"
tv venue list --json
expect_ok "venue list --json"
[[ $(json_get closes <"$W/out") == 22:00 ]] || fail "venue list --json closes is not 22:00"

check "venue edit --closes changes it, --closes none clears it"
tv venue edit "$V1" --closes 7:30
expect_ok "venue edit --closes 7:30"
[[ $(show_get "$V1" closes) == 07:30 ]] || fail "closes is not 07:30 after the edit"
tv venue edit "$V1" --closes 00:00
expect_ok "venue edit --closes 00:00"
[[ $(show_get "$V1" closes) == 00:00 ]] || fail "closes is not 00:00 after the edit"
tv venue edit "$V1" --closes none
expect_ok "venue edit --closes none"
[[ $(show_get "$V1" closes) == null ]] || fail "closes is not null after --closes none"
tv venue show "$V1"
grep -qE '^closes: +none$' "$W/out" || fail "venue show does not show 'closes: none'"
[[ $(show_get "$V1" name) == "Quán cà phê Hương Sen" ]] || fail "editing closes changed the name"

check "a bad closing time exits 2 with a message and records nothing"
n0=$(events)
for bad in 25:00 24:00 12:60 12:5 1200 abc "" " 22:00"; do
    tv venue edit "$V1" --closes "$bad"
    expect_refused 2 "venue edit --closes '$bad'"
    expect_err_has "closing time" "venue edit --closes '$bad'"
done
tv venue add --name "Quán mới" --category cafe --closes 25:00
expect_refused 2 "venue add --closes 25:00"
[[ $(events) == "$n0" ]] || fail "a refused closing time recorded an event"

# --- controllers ----------------------------------------------------------------------

check "controller add records a normalised phone; list shows it"
tv venue controller add "$V1" "0912 345 678"
expect_ok "controller add"
expect_err_has "0912345678" "controller add"
tv venue controller add "${V1:0:6}" +84987654321
expect_ok "controller add by venue prefix, +84 phone"
tv venue controller list "$V1"
expect_ok "controller list"
[[ $(cut -d' ' -f1 <"$W/out" | tr '\n' ' ') == "0912345678 0987654321 " ]] ||
    fail "controller list shows '$OUT'"
tv venue controller list "$V1" --json
expect_ok "controller list --json"
[[ $(wc -l <"$W/out") -eq 2 ]] || fail "controller list --json has $(wc -l <"$W/out") lines"
[[ $(head -n1 "$W/out" | json_get phone) == 0912345678 ]] || fail "controller list --json phone"
[[ $(show_get "$V1" controllers 1 phone) == 0987654321 ]] ||
    fail "venue show --json does not list the controllers"
[[ $(events controller_add) == 2 ]] || fail "expected 2 controller_add events"

check "adding a phone that is already a controller says so, exits 0 and records nothing"
n0=$(events)
tv venue controller add "$V1" 0912345678
expect_ok "controller add again"
expect_err_has "already a controller" "controller add again"
[[ $(events) == "$n0" ]] || fail "adding a controller again recorded an event"

check "controller remove withdraws one phone; the other stays"
tv venue controller remove "$V1" "+84 912 345 678"
expect_ok "controller remove"
tv venue controller list "$V1"
expect_ok "controller list after remove"
[[ $OUT == 0987654321* && $(wc -l <"$W/out") -eq 1 ]] || fail "after remove, the list is '$OUT'"
[[ $(events controller_remove) == 1 ]] || fail "expected 1 controller_remove event"
"$TV" -d "$NODE" log --json | grep '"controller_remove"' | grep -q '0912345678' ||
    fail "the log holds no controller_remove of 0912345678"

check "removing a phone that is not a controller fails with a message and records nothing"
n0=$(events)
tv venue controller remove "$V1" 0912345678
expect_refused 1 "controller remove of a removed phone"
expect_err_has "not a controller" "controller remove of a removed phone"
tv venue controller remove "$V1" 0911111111
expect_refused 1 "controller remove of a stranger"
[[ $(events) == "$n0" ]] || fail "a refused removal recorded an event"

check "a removed phone can be added again"
tv venue controller add "$V1" 0912345678
expect_ok "controller re-add"
tv venue controller list "$V1"
[[ $(cut -d' ' -f1 <"$W/out" | tr '\n' ' ') == "0912345678 0987654321 " ]] ||
    fail "after re-adding, controller list shows '$OUT'"

check "controller commands refuse an ID number, a non-number, an unknown venue, bad arguments"
n0=$(events)
tv venue controller add "$V1" 001203004005
expect_refused 2 "controller add of a CCCD number"
expect_err_has "not a phone number" "controller add of a CCCD number"
tv venue controller add "$V1" abc
expect_refused 2 "controller add of 'abc'"
tv venue controller add ffffffffffffffff 0912345678
expect_refused 1 "controller add at an unknown venue"
expect_err_has "no venue" "controller add at an unknown venue"
tv venue controller add "$V1"
expect_refused 2 "controller add without a phone"
tv venue controller frobnicate "$V1" 0912345678
expect_refused 2 "an unknown controller command"
tv venue controller add "$V1" 0913000000 --json
expect_refused 2 "controller add --json"
tv venue controller list ffffffffffffffff
expect_refused 1 "controller list at an unknown venue"
[[ $(events) == "$n0" ]] || fail "a refused controller command recorded an event"

# --- reminders and suspension ---------------------------------------------------------

tv venue add --name "Karaoke Hoa Biển" --category karaoke --village "Thôn Tân Đảo"
expect_ok "venue add V2"
V2=$OUT

check "two reminders: counted, not suspended"
tv venue remind "$V2" --note "Lần 1: chưa dán mã QR ở cửa"
expect_ok "remind 1"
[[ $OUT == *"1 reminder in all"* ]] || fail "remind 1 printed '$OUT'"
tv venue remind "$V2"
expect_ok "remind 2"
[[ $OUT == *"2 reminders in all"* && $OUT != *SUSPENDED* ]] || fail "remind 2 printed '$OUT'"
[[ $(show_get "$V2" reminders) == 2 ]] || fail "venue show --json reminders is not 2"
[[ $(show_get "$V2" reminders_active) == 2 ]] || fail "reminders_active is not 2"
[[ $(show_get "$V2" suspended) == false ]] || fail "suspended after 2 reminders"
[[ $(show_get "$V2" reminder_history 0 note) == "Lần 1: chưa dán mã QR ở cửa" ]] ||
    fail "venue show --json does not keep the note exactly"
station "$V2" 0912345678
[[ $OUT == OK* ]] || fail "the station answered '$OUT' after 2 reminders"

# The station's scan above cleared those two; three more suspend the venue.
check "three reminders with no scan since suspend the venue"
tv venue remind "$V2" --note "Lần 2"
tv venue remind "$V2" --note "Lần 3"
[[ $OUT != *SUSPENDED* ]] || fail "suspended after 2 reminders since the last scan"
tv venue remind "$V2" --note "Lần 4"
expect_ok "remind 5"
[[ $OUT == *"now SUSPENDED"* ]] || fail "the third reminder since the scan printed '$OUT'"
[[ $(show_get "$V2" suspended) == true ]] || fail "venue show --json: not suspended"
[[ $(show_get "$V2" reminders) == 5 ]] || fail "venue show --json reminders is not 5"
[[ $(show_get "$V2" reminders_active) == 3 ]] || fail "reminders_active is not 3"
tv venue show "$V2"
grep -qE '^suspended: +yes' "$W/out" || fail "venue show does not say 'suspended: yes'"
# scanned today, yet listed: a suspended venue is not compliant whatever its last scan
[[ $(noncompliant_ids --days 1 | head -n1) == "$V2" ]] ||
    fail "venue list --noncompliant does not list the suspended venue first"
[[ $(noncompliant_get "$V2" suspended) == true ]] ||
    fail "venue list --noncompliant --json does not show the suspension"

check "the station refuses a suspended venue's scans and records nothing"
n0=$(events)
scans0=$(events scan)
station "$V2" 0912345678
expect_ok "station at a suspended venue"
[[ $OUT == "ĐIỂM ĐÃ BỊ TẠM DỪNG ("* ]] || fail "the station answered '$OUT'"
[[ $(events) == "$n0" && $(events scan) == "$scans0" ]] || fail "the station recorded a scan"

check "reinstate lifts the suspension; the station records again"
tv venue reinstate "$V2" --note "Chủ quán đã dán mã"
expect_ok "reinstate"
[[ $(show_get "$V2" suspended) == false ]] || fail "still suspended after reinstate"
[[ $(show_get "$V2" reminders_active) == 0 ]] || fail "reminders_active is not 0 after reinstate"
[[ $(show_get "$V2" reminder_history 5 action) == reinstate ]] ||
    fail "the reinstatement is not in the reminder history"
station "$V2" 0912000001 # someone new: a repeat within 5 minutes would be ĐÃ VÀO RỒI
[[ $OUT == OK* ]] || fail "after reinstate, the station answered '$OUT'"
[[ $(events scan) == $((scans0 + 1)) ]] || fail "the station's scan was not recorded"

check "reinstating a venue that is not suspended fails and records nothing"
n0=$(events)
tv venue reinstate "$V2"
expect_refused 1 "reinstate when not suspended"
expect_err_has "not suspended" "reinstate when not suspended"
tv venue reinstate "$V1"
expect_refused 1 "reinstate of a venue never reminded"
[[ $(events) == "$n0" ]] || fail "a refused reinstatement recorded an event"

check "three more reminders suspend it again; a recorded scan lifts the suspension"
for i in 1 2 3; do
    tv venue remind "$V2" --note "Nhắc lại $i"
    expect_ok "remind again $i"
done
[[ $(show_get "$V2" suspended) == true ]] || fail "not suspended after 3 more reminders"
station "$V2" 0912345678
[[ $OUT == "ĐIỂM ĐÃ BỊ TẠM DỪNG ("* ]] || fail "the station answered '$OUT'"
tv scan --venue "$V2" --person 0912345678
expect_ok "scan at a suspended venue"
[[ $(show_get "$V2" suspended) == false ]] || fail "still suspended after a recorded scan"
[[ $(show_get "$V2" reminders_active) == 0 ]] || fail "reminders_active is not 0 after a scan"
[[ $(show_get "$V2" last_scan) != null ]] || fail "venue show --json has no last_scan"
station "$V2" 0912000002
[[ $OUT == OK* ]] || fail "after the scan, the station answered '$OUT'"

# --- venues with no recent scan -------------------------------------------------------

check "--noncompliant lists never-scanned and long-unscanned venues, most reminded first"
tv venue add --name "Chợ Vĩnh Lương" --category market
expect_ok "venue add V3"
V3=$OUT # never scanned, no reminder
tv venue add --name "Nhà hàng Biển Xanh" --category restaurant
expect_ok "venue add V4"
V4=$OUT # scanned 10 days ago
tv venue add --name "Tiệm tóc Thu" --category massage_beauty
expect_ok "venue add V5"
V5=$OUT # never scanned, one reminder
tv scan --venue "$V4" --person 0912345678 --at "$(date -d '10 days ago' +%Y-%m-%dT%H:%M:%S%:z)"
expect_ok "scan 10 days ago"
tv scan --venue "$V1" --person 0912345678
expect_ok "scan today at V1"
tv venue remind "$V5"
expect_ok "remind V5"
[[ $(noncompliant_ids | tr '\n' ' ') == "$V5 $V3 $V4 " ]] ||
    fail "venue list --noncompliant lists '$(noncompliant_ids | tr '\n' ' ')', expected V5 V3 V4"
[[ $(noncompliant_get "$V5" reminders) == 1 && $(noncompliant_get "$V5" suspended) == false ]] ||
    fail "V5's reminders or suspension are wrong in the listing"
[[ $(noncompliant_get "$V3" last_scan) == null ]] || fail "V3's last_scan is not null"
[[ $(noncompliant_get "$V4" last_scan) != null ]] || fail "V4's last_scan is null"

check "--days changes what counts as recent"
[[ $(noncompliant_ids --days 30 | tr '\n' ' ') == "$V5 $V3 " ]] ||
    fail "with --days 30 the listing is '$(noncompliant_ids --days 30 | tr '\n' ' ')'"
[[ $(noncompliant_ids --days 9 | tr '\n' ' ') == "$V5 $V3 $V4 " ]] ||
    fail "with --days 9 the listing is '$(noncompliant_ids --days 9 | tr '\n' ' ')'"

check "--noncompliant in text: one line per venue, with its reminders and last scan"
tv venue list --noncompliant
expect_ok "venue list --noncompliant"
[[ $(wc -l <"$W/out") -eq 3 ]] || fail "the text listing has $(wc -l <"$W/out") lines"
grep -F -- "$V3" "$W/out" | grep -q 'last scan never' || fail "V3's line does not say 'never'"
grep -F -- "$V4" "$W/out" | grep -qF -- "$(TZ=Asia/Ho_Chi_Minh date -d '10 days ago' +%Y-%m-%d)" ||
    fail "V4's line does not show the date of its last scan"
grep -F -- "$V5" "$W/out" | grep -qF 'Tiệm tóc Thu' || fail "V5's line does not show its name"

check "--days refuses what is not a number of days"
for bad in 0 -1 abc 3651 7x; do
    tv venue list --noncompliant --days "$bad"
    expect_refused 2 "--days '$bad'"
done
tv venue list --days 7
expect_refused 2 "--days without --noncompliant"

# --- wrong input ----------------------------------------------------------------------

check "remind and reinstate refuse an unknown venue, a bad id, a bad note, extra arguments"
n0=$(events)
tv venue remind ffffffffffffffff --note "x"
expect_refused 1 "remind of an unknown venue"
expect_err_has "no venue" "remind of an unknown venue"
tv venue reinstate ffffffffffffffff
expect_refused 1 "reinstate of an unknown venue"
tv venue remind zz12 --note "x"
expect_refused 2 "remind with a venue id that is not hex"
tv venue remind "$V3" --note "$(printf 'a%.0s' {1..256})"
expect_refused 2 "remind with a 256-byte note"
expect_err_has "too long" "remind with a 256-byte note"
tv venue remind "$V3" --note $'Nh\xe1\xba'
expect_refused 2 "remind with a note that is not UTF-8"
tv venue remind
expect_refused 2 "remind without a venue"
tv venue remind "$V3" "$V4"
expect_refused 2 "remind with two venues"
tv venue remind "$V3" --name X
expect_refused 2 "remind --name"
expect_err_has "--name" "remind --name"
tv venue remind "$V3" --note
expect_refused 2 "remind --note without a value"
[[ $(events) == "$n0" ]] || fail "a refused reminder recorded an event"

check "a 255-byte note is accepted"
tv venue remind "$V3" --note "$(printf 'a%.0s' {1..255})"
expect_ok "remind with a 255-byte note"

check "every new subcommand has --help"
for cmd in "controller add" "controller remove" "controller list" "controller" remind reinstate \
    list; do
    # shellcheck disable=SC2086 # the subcommand is two words
    tv venue $cmd --help
    expect_ok "venue $cmd --help"
    [[ $OUT == Usage:* ]] || fail "venue $cmd --help does not print a usage"
done
tv venue --help
grep -q 'venue remind' "$W/out" || fail "venue --help does not list 'venue remind'"
grep -q 'venue controller' "$W/out" || fail "venue --help does not list 'venue controller'"
grep -q -- '--noncompliant' "$W/out" || fail "venue --help does not list --noncompliant"

check "a district node refuses venue changes"
DISTRICT=$W/huyen-223
"$TV" -d "$DISTRICT" init --role district --unit 223 --name "Huyện" >/dev/null
run "$TV" -d "$DISTRICT" venue remind "$V1"
expect_refused 1 "remind at a district node"
expect_err_has "commune nodes" "remind at a district node"
run "$TV" -d "$DISTRICT" venue controller add "$V1" 0912345678
expect_refused 1 "controller add at a district node"

# --- short codes, help of each subcommand, venues at the province ---------------------

check "venue list and show give each venue's short code (text and JSON); the code finds it"
code=$(show_get "$V1" short_code)
[[ $code =~ ^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]$ ]] || fail "venue show --json short_code: '$code'"
"$TV" -d "$NODE" venue payload "$V1" >/dev/null 2>"$W/payload.err" || fail "venue payload failed"
grep -qF "short code: $code (" "$W/payload.err" ||
    fail "the poster's short code is not $code: $(cat "$W/payload.err")"
tv venue show "$V1"
grep -qxE "short code: +$code" "$W/out" || fail "venue show has no line 'short code: $code'"
tv venue list
grep -qE "^$V1  $code  [0-9]{4}-[0-9]{2}-[0-9]{2}  cafe " "$W/out" ||
    fail "venue list does not show $V1 with its short code: $OUT"
tv venue list --json
python3 - "$W/out" <<'EOF' || fail "venue list --json: a line without its short code"
import json, re, sys
for line in open(sys.argv[1], encoding="utf-8"):
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]", json.loads(line)["short_code"]), line
EOF
tv venue show "${code,,}" --json
expect_ok "venue show by the short code"
[[ $(json_get id <"$W/out") == "$V1" ]] || fail "the short code $code found another venue"

check "a venue that is not there is named as typed: the short code or the id"
OTHER=$W/xa-22366
"$TV" -d "$OTHER" init --role commune --unit 22366 --name "UBND Phường Nha Trang" >/dev/null 2>&1
OV=$("$TV" -d "$OTHER" venue add --name "Chợ Xóm Mới" --category market 2>/dev/null)
"$TV" -d "$OTHER" venue payload "$OV" >/dev/null 2>"$W/payload.err"
ocode=$(sed -n 's/^short code: \([^ ]*\) .*/\1/p' "$W/payload.err") # as its poster shows it
tv venue show "$ocode"
expect_refused 1 "venue show of another node's short code"
[[ $ERR == "truyvet: no venue $ocode on this node. 'truyvet venue list' shows the venues, their ids and short codes." ]] ||
    fail "venue show $ocode says: $ERR"
tv venue show "$OV"
expect_refused 1 "venue show of another node's id"
expect_err_has "no venue $OV on this node" "venue show of another node's id"

check "venue add, show and edit have a help of their own, with their options"
tv venue add --help
expect_ok "venue add --help"
[[ $OUT == "Usage: truyvet [-d DIR] venue add --name NAME --category CATEGORY"* ]] ||
    fail "venue add --help: $(head -n 1 "$W/out")"
grep -qF -- "--owner-phone PHONE  the owner's phone" "$W/out" || fail "venue add --help: no --owner-phone"
tv venue show --help
expect_ok "venue show --help"
[[ $OUT == "Usage: truyvet [-d DIR] venue show ID [--json]"* ]] ||
    fail "venue show --help: $(head -n 1 "$W/out")"
grep -qF "short code (XXXX-XXXX-C" "$W/out" || fail "venue show --help does not say a short code finds it"
tv venue edit --help
expect_ok "venue edit --help"
[[ $OUT == "Usage: truyvet [-d DIR] venue edit ID [--name NAME] [--category CATEGORY]"* ]] ||
    fail "venue edit --help: $(head -n 1 "$W/out")"
grep -qF -- "--closes HH:MM|none  its closing time" "$W/out" || fail "venue edit --help: no --closes"

check "at the province: each venue with its commune; --unit keeps a unit's and those below it"
P=$W/tinh-56
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
A=$W/xa-a-22333
"$TV" -d "$A" init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$A" "$P" 2>/dev/null
enrol "$OTHER" "$P" 2>/dev/null
AV=$("$TV" -d "$A" venue add --name "Quán Bún Cá" --category restaurant 2>/dev/null)
ship "$A" "$P"
ship "$OTHER" "$P"
run "$TV" -d "$P" venue list
expect_ok "venue list at the province"
grep -qE "^$AV  [0-9A-Z-]{11}  [0-9-]{10}  restaurant +22333 Phường Bắc Nha Trang  Quán Bún Cá$" \
    "$W/out" || fail "the province's venue list does not show 22333 and its name: $OUT"
grep -qE "^$OV  .*  22366 Phường Nha Trang  Chợ Xóm Mới$" "$W/out" ||
    fail "the province's venue list does not show 22366 and its name: $OUT"
venue_ids() { # venue_ids ARGS...: the ids `venue list ARGS --json` lists at the province
    "$TV" -d "$P" venue list --json "$@" | python3 -c '
import json, sys
print(" ".join(sorted(json.loads(l)["id"] for l in sys.stdin)))'
}
[[ $(venue_ids --unit 22333) == "$AV" ]] || fail "--unit 22333 lists: $(venue_ids --unit 22333)"
[[ $(venue_ids --unit 22366) == "$OV" ]] || fail "--unit 22366 lists: $(venue_ids --unit 22366)"
both=$(printf '%s\n' "$AV" "$OV" | sort | tr '\n' ' ')
[[ "$(venue_ids --unit 56) " == "$both" ]] || fail "--unit 56 lists: $(venue_ids --unit 56)"
"$TV" -d "$P" unit add 568 --name "Trung tâm Y tế Nha Trang" --parent 56 >/dev/null 2>&1
"$TV" -d "$P" unit add 22333 --parent 568 >/dev/null 2>&1
[[ $(venue_ids --unit 568) == "$AV" ]] || fail "--unit 568 (a district of 22333) lists: $(venue_ids --unit 568)"
[[ $("$TV" -d "$P" venue list --json --unit 568 | json_get unit_name) == "Phường Bắc Nha Trang" ]] ||
    fail "venue list --json has no unit_name"
run "$TV" -d "$P" venue list --noncompliant --unit 22366
expect_ok "venue list --noncompliant --unit 22366"
[[ $OUT == "$OV  reminders "*"22366 Phường Nha Trang  Chợ Xóm Mới" ]] ||
    fail "--noncompliant --unit 22366: $OUT"
run "$TV" -d "$P" venue list --unit 22333.99
expect_refused 1 "venue list --unit of a unit the node does not know"
[[ $ERR == "truyvet: unit 22333.99 is neither in the official list nor added on this node; 'truyvet unit list' shows the units." ]] ||
    fail "venue list --unit 22333.99 says: $ERR"
run "$TV" -d "$P" venue list --unit "Nha Trang"
expect_refused 2 "venue list --unit of a name"
expect_err_has "'Nha Trang' is not a unit code" "venue list --unit 'Nha Trang'"
run "$TV" -d "$A" venue list
[[ $OUT != *"22333 Phường"* ]] || fail "a commune's own list repeats its commune on every line: $OUT"

echo "venue_test: all checks passed"
