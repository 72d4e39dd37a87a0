#!/usr/bin/env bash
# Integration test of the `truyvet` command as a commune clerk uses it: creating a node,
# registering venues, recording scans one by one and from a CSV file, reading the log
# back, and the refusals and messages for wrong input. It drives the real binary.
#
# Usage: bash tests/cli/cli_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NODE=$W/xa-22333 # the commune node most checks use

# --- helpers --------------------------------------------------------------------------
# (These add to the helpers of lib.sh: check, fail, run, expect_*, json_get, status_get.)

# tv ARGS...: runs truyvet on the commune node.
tv() { run "$TV" -d "$NODE" "$@"; }

events_total() { status_get "$NODE" events total; }

# expect_logged ID TYPE [KEY=VALUE...]: `log --json` holds event ID, of TYPE, whose
# fields have the given values.
expect_logged() {
    "$TV" -d "$NODE" log --json >"$W/log.jsonl" || fail "log --json failed"
    python3 - "$W/log.jsonl" "$@" <<'EOF' || fail "log --json does not hold event $1 as expected"
import json, sys
path, want_id, want_type, *pairs = sys.argv[1:]
for line in open(path, encoding="utf-8"):
    ev = json.loads(line)
    if ev["id"] != want_id:
        continue
    if ev["type"] != want_type:
        sys.exit(f"event {want_id} has type {ev['type']}, expected {want_type}")
    for p in pairs:
        k, v = p.split("=", 1)
        got = ev["fields"].get(k)
        if got != v:
            sys.exit(f"event {want_id}: field {k} is {got!r}, expected {v!r}")
    sys.exit(0)
sys.exit(f"event {want_id} is not in the log")
EOF
}

# expect_scan_shown ID DIR MASKED: scan ID of direction DIR shows its person as MASKED: in
# the scan itself, or, when the scan carries none, in the person event of its pseudonym
# (written the first time the node meets the person, details sealed, PROTOCOL.md §2.6).
expect_scan_shown() {
    "$TV" -d "$NODE" log --json >"$W/log.jsonl" || fail "log --json failed"
    python3 - "$W/log.jsonl" "$@" <<'EOF' || fail "log --json does not show scan $1 as expected"
import json, sys
path, want_id, want_dir, want_masked = sys.argv[1:]
evs = [json.loads(l) for l in open(path, encoding="utf-8")]
scan = next((e for e in evs if e["id"] == want_id), None)
assert scan and scan["type"] == "scan", f"no scan {want_id}"
f = scan["fields"]
assert f["direction"] == want_dir, f
shown = f["masked"] or next(e["fields"]["id_masked"] for e in evs
                            if e["type"] == "person" and e["fields"]["person"] == f["person"])
assert shown == want_masked, (shown, want_masked)
EOF
}

is_hex() { [[ $1 =~ ^[0-9a-f]{$2}$ ]]; }

# snapshot DIR: every file of DIR with its mode and checksum, to see whether anything changed.
snapshot() {
    (cd "$1" && find . -type f -print0 | sort -z | xargs -0 stat -c '%n %a %s' &&
        find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

# --- init -----------------------------------------------------------------------------

NAME='UBND Phường Vĩnh Hòa, Nha Trang'

check "init creates a commune node and prints its 64-hex id"
tv init --role commune --unit 22333 --name "$NAME"
expect_ok "init"
is_hex "$OUT" 64 || fail "init printed '$OUT', not a 64-hex node id"
NODE_ID=$OUT
[[ -f $NODE/node.secret ]] || fail "init left no node.secret"
[[ $(stat -c %a "$NODE/node.secret") == 600 ]] ||
    fail "node.secret has mode $(stat -c %a "$NODE/node.secret"), expected 600"
[[ ! -e $NODE/node.key && ! -e $NODE/tracing.key ]] || fail "init left a clear key file"

check "status shows the Vietnamese name exactly, and the id init printed"
[[ $(status_get "$NODE" name) == "$NAME" ]] || fail "status --json name differs from '$NAME'"
[[ $(status_get "$NODE" node_id) == "$NODE_ID" ]] || fail "status --json node_id differs"
[[ $(status_get "$NODE" unit) == 22333 ]] || fail "status --json unit is not 22333"
[[ $(events_total) == 0 ]] || fail "a new node holds events"

check "\$TRUYVET_DIR names the node when -d is not given"
LAST="TRUYVET_DIR=... status --json"
RC=0
TRUYVET_DIR=$NODE "$TV" status --json >"$W/out" 2>"$W/err" || RC=$?
expect_ok "status with \$TRUYVET_DIR"
[[ $(json_get node_id <"$W/out") == "$NODE_ID" ]] || fail "\$TRUYVET_DIR was not used"

check "init again in the same directory fails with a message and changes nothing"
before=$(snapshot "$NODE")
tv init --role commune --unit 22333 --name "Xã khác"
expect_refused 1 "second init"
expect_err_has "already holds a node" "second init"
[[ $(snapshot "$NODE") == "$before" ]] || fail "a refused init changed files in the node"

check "init with wrong arguments exits 2 with a message and creates nothing"
bad_init() { # bad_init WHAT ARGS...
    local what=$1
    shift
    rm -rf "$W/bad"
    run "$TV" -d "$W/bad" init "$@"
    expect_refused 2 "init $what"
    [[ ! -e $W/bad ]] || fail "init $what created $W/bad"
}
bad_init "with role 'mayor'" --role mayor --unit 22333 --name "Xã A"
bad_init "with a 3-digit unit for a commune" --role commune --unit 223 --name "Xã A"
bad_init "with a 6-digit unit for a commune" --role commune --unit 223333 --name "Xã A"
bad_init "with a non-digit unit" --role commune --unit 22a33 --name "Xã A"
bad_init "without --name" --role commune --unit 22333
bad_init "with an empty name" --role commune --unit 22333 --name ""
bad_init "with a name that is not UTF-8" --role commune --unit 22333 --name $'X\xff\xfe'
bad_init "without --role" --unit 22333 --name "Xã A"

# --- venues ---------------------------------------------------------------------------

V1_NAME='Chợ Đầm – khu Bắc, "cổng số 2"'
V1_VILLAGE='Tổ dân phố Ngọc Hiệp'
V2_NAME='Quán cà phê Hương Sen'
VENUE_EVENTS=0

check "venue add prints only a 16-hex venue id"
tv venue add --name "$V1_NAME" --category market --village "$V1_VILLAGE" --owner-phone "0912 345 678"
expect_ok "venue add"
is_hex "$OUT" 16 || fail "venue add printed '$OUT', not just a 16-hex id"
V1=$OUT
VENUE_EVENTS=$((VENUE_EVENTS + 1))
tv venue add --name "$V2_NAME" --category 5
expect_ok "venue add with a category number"
is_hex "$OUT" 16 || fail "venue add printed '$OUT', not just a 16-hex id"
V2=$OUT
VENUE_EVENTS=$((VENUE_EVENTS + 1))
[[ $V1 != "$V2" ]] || fail "two venues got the same id"

check "venue list shows both venues with their names exactly"
tv venue list
expect_ok "venue list"
grep -F -- "$V1" "$W/out" | grep -qF -- "$V1_NAME" || fail "venue list: no line with $V1 and its name"
grep -F -- "$V2" "$W/out" | grep -qF -- "$V2_NAME" || fail "venue list: no line with $V2 and its name"
[[ $(wc -l <"$W/out") -eq 2 ]] || fail "venue list shows $(wc -l <"$W/out") lines for 2 venues"

check "venue list --json gives one JSON object per venue with the exact fields"
tv venue list --json
expect_ok "venue list --json"
python3 - "$W/out" "$V1" "$V1_NAME" "$V1_VILLAGE" "$V2" "$V2_NAME" <<'EOF' || fail "venue list --json is wrong"
import json, sys
path, v1, n1, vil1, v2, n2 = sys.argv[1:]
rows = {}
for line in open(path, encoding="utf-8"):
    o = json.loads(line)
    rows[o["id"]] = o
assert set(rows) == {v1, v2}, f"ids {sorted(rows)}"
a, b = rows[v1], rows[v2]
assert a["name"] == n1, a["name"]
assert a["village"] == vil1, a["village"]
assert a["category"] == "market", a["category"]
assert a["owner_phone"] == "0912345678", a["owner_phone"]
assert a["unit"] == "22333", a["unit"]
assert b["name"] == n2 and b["category"] == "cafe", b
EOF

check "venue show (text, --json, and by a 6-digit prefix) shows the name exactly"
tv venue show "$V1"
expect_ok "venue show"
grep -qF -- "$V1_NAME" "$W/out" || fail "venue show does not show the name exactly"
grep -qF -- "$V1_VILLAGE" "$W/out" || fail "venue show does not show the village"
tv venue show "$V1" --json
expect_ok "venue show --json"
[[ $(json_get name <"$W/out") == "$V1_NAME" ]] || fail "venue show --json name differs"
cp "$W/out" "$W/v1_before.json"
tv venue show "${V1:0:6}"
expect_ok "venue show by prefix"
grep -qF -- "$V1" "$W/out" || fail "venue show by prefix shows another venue"

check "venue edit changes one field and keeps the others"
NEW_VILLAGE='Thôn Phước Hải'
tv venue edit "$V1" --village "$NEW_VILLAGE"
expect_ok "venue edit"
VENUE_EVENTS=$((VENUE_EVENTS + 1))
tv venue show "$V1" --json
expect_ok "venue show after edit"
python3 - "$W/v1_before.json" "$W/out" "$NEW_VILLAGE" <<'EOF' || fail "venue edit changed more or less than the village"
import json, sys
before = json.load(open(sys.argv[1], encoding="utf-8"))
after = json.load(open(sys.argv[2], encoding="utf-8"))
assert after["village"] == sys.argv[3], after["village"]
for k in ("id", "unit", "name", "category", "owner_phone", "registered"):
    assert after[k] == before[k], f"{k}: {before[k]!r} -> {after[k]!r}"
EOF

check "venue add/edit with wrong input exits 2 with a message and records nothing"
n0=$(events_total)
tv venue add --name "Quán mới" --category spaceport
expect_refused 2 "venue add with an unknown category"
expect_err_has "spaceport" "venue add with an unknown category"
tv venue add --name "Quán mới" --category market --owner-phone 12345
expect_refused 2 "venue add with a bad phone"
expect_err_has "12345" "venue add with a bad phone"
tv venue add --category market
expect_refused 2 "venue add without --name"
tv venue add --name "" --category market
expect_refused 2 "venue add with an empty name"
tv venue add --name "Quán mới"
expect_refused 2 "venue add without --category"
tv venue edit "$V1" --category spaceport
expect_refused 2 "venue edit with an unknown category"
tv venue edit "$V1"
expect_refused 2 "venue edit with nothing to change"
tv venue edit ffffffffffffffff --name "X"
expect_refused 1 "venue edit of an unknown venue"
tv venue show ffffffffffffffff
expect_refused 1 "venue show of an unknown venue"
[[ $(events_total) == "$n0" ]] || fail "a refused venue command recorded an event"
[[ $(status_get "$NODE" events venue_upsert) == "$VENUE_EVENTS" ]] ||
    fail "status counts $(status_get "$NODE" events venue_upsert) venue events, expected $VENUE_EVENTS"

# --- scan -----------------------------------------------------------------------------

# Scans recorded, as "ID DIRECTION MASKED": checked against the log below.
SCANNED=()

check "scan prints only an event id <16 hex>-<seq>"
tv scan --venue "$V1" --person 0912345678 --at 2021-10-06T08:30:00+07:00
expect_ok "scan"
[[ $OUT =~ ^[0-9a-f]{16}-[0-9]+$ ]] || fail "scan printed '$OUT', not an event id"
[[ ${OUT%-*} == "${NODE_ID:0:16}" ]] || fail "event id $OUT does not start with the node id"
SCANNED+=("$OUT in 09******78")
tv scan --venue "${V2:0:5}" --person 001203004005 --out --device "cổng chính"
expect_ok "scan --out by venue prefix"
[[ $OUT =~ ^[0-9a-f]{16}-[0-9]+$ ]] || fail "scan --out printed '$OUT', not an event id"
SCANNED+=("$OUT out **********05")
tv scan --venue "$V1" --person "+84 912 345 679" --out --json
expect_ok "scan --json"
id=$(json_get id <"$W/out")
[[ $id =~ ^[0-9a-f]{16}-[0-9]+$ ]] || fail "scan --json id '$id' is not an event id"
[[ $(json_get direction <"$W/out") == out ]] || fail "scan --json direction is not out"
[[ $(json_get person <"$W/out") == "09******79" ]] || fail "scan --json person is not masked"
SCANNED+=("$id out 09******79")

check "scan with wrong input exits non-zero, prints nothing and records nothing"
n0=$(events_total)
bad_scan() { # bad_scan WANT WHAT ARGS...
    local want=$1 what=$2
    shift 2
    tv scan "$@"
    expect_refused "$want" "scan $what"
}
bad_scan 1 "with an unknown venue" --venue ffffffffffffffff --person 0912345678
bad_scan 2 "with a venue id that is not hex" --venue zzzz0000 --person 0912345678
bad_scan 2 "with person 'abc'" --venue "$V1" --person abc
bad_scan 2 "with person '12345'" --venue "$V1" --person 12345
bad_scan 2 "with an empty person" --venue "$V1" --person ""
bad_scan 2 "with --at yesterday" --venue "$V1" --person 0912345678 --at yesterday
bad_scan 2 "with --at 30 February" --venue "$V1" --person 0912345678 --at 2021-02-30T10:00:00+07:00
bad_scan 2 "with --at without an offset" --venue "$V1" --person 0912345678 --at 2021-10-06T08:30:00
bad_scan 2 "without --person" --venue "$V1"
bad_scan 2 "with a stray argument" --venue "$V1" --person 0912345678 extra
[[ $(events_total) == "$n0" ]] || fail "a refused scan recorded an event"

# --- import ---------------------------------------------------------------------------

# A clerk's export: columns in another order with extra ones, CRLF line ends, quoted
# fields holding commas and a line end, a blank line, and bad rows in the middle. The
# expected line numbers are physical lines (the quoted line end makes row 3 span 3-4).
CSV=$W/register.csv
{
    printf 'time,note,direction,person,venue,gate\r\n'
    printf '2021-10-06T09:00:00+07:00,"ghi chú, có dấu phẩy",in,0912345678,%s,"cổng 1, phía Bắc"\r\n' "$V1"
    printf '2021-10-06T09:01:00+07:00,"dòng 1\r\ndòng 2",out,+84 912 345 679,%s,g\r\n' "$V1"
    printf '2021-10-06T09:02:00+07:00,x,in,12345,%s,g\r\n' "$V1"                             # 5 bad phone
    printf '2021-10-06T09:03:00+07:00,x,vao,001203004005,%s,g\r\n' "$V2"                    # 6 good
    printf '2021-10-06T09:04:00+07:00,x,in,0912345678,ffffffffffffffff,g\r\n'               # 7 unknown venue
    printf '2021-10-06T09:05:00+07:00,x,sideways,0912345678,%s,g\r\n' "$V1"                 # 8 bad direction
    printf '2021-02-30T09:06:00+07:00,x,in,0912345678,%s,g\r\n' "$V1"                       # 9 no such day
    printf '2021-10-06T09:07:00,x,in,0912345678,%s,g\r\n' "$V1"                             # 10 no offset
    printf '2021-10-06T09:08:00+07:00,x,in,"0912,345678",%s,g\r\n' "$V1"                    # 11 comma in person
    printf '2021-10-06T09:09:00+07:00,"ab"c,in,0912345678,%s,g\r\n' "$V1"                   # 12 broken quoting
    printf '2021-10-06T09:10:00+07:00,x,in,"",%s,g\r\n' "$V1"                               # 13 empty person
    printf '2021-10-06T09:11:00+07:00,x,ra,123456789,%s,g\r\n' "$V2"                        # 14 good
    printf '2021-10-06T09:12:00+07:00,x,out,0987654321,%s,g,thêm,cột\r\n' "$V2"             # 15 good
    printf '2021-10-06T09:13:00+07:00,x,in\r\n'                                             # 16 short row
    printf '\r\n'                                                                           # 17 blank
    printf '2021-10-06T09:14:00+07:00,x,IN,0911222333,%s,g\r\n' "$V1"                       # 18 good
} >"$CSV"
GOOD_LINES="2 3 6 14 15 18"
BAD_LINES="5 7 8 9 10 11 12 13 16"
declare -A WANT_DIR=([2]=in [3]=out [6]=in [14]=out [15]=out [18]=in)
declare -A WANT_MASK=([2]=09******78 [3]=09******79 [6]=**********05 [14]=*******89
    [15]=09******21 [18]=09******33)

check "import of a CSV with bad rows: exit 1, each bad row reported with its line number"
n0=$(events_total)
s0=$(status_get "$NODE" events scan)
tv import --csv "$CSV" --ids
expect_rc 1 "import with rejected rows"
for l in $BAD_LINES; do
    grep -q "line $l:" "$W/err" || fail "import did not report bad line $l on stderr"
done
for l in $GOOD_LINES; do
    if grep -q "line $l:" "$W/err"; then fail "import reported good line $l as bad"; fi
done
cp "$W/out" "$W/ids.txt"

check "import --ids prints LINE<TAB>ID for exactly the good rows, and they are recorded"
got_lines=$(cut -f1 "$W/ids.txt" | tr '\n' ' ')
[[ $got_lines == "$GOOD_LINES " ]] || fail "import --ids listed lines '$got_lines', expected '$GOOD_LINES'"
while IFS=$'\t' read -r l id; do
    [[ $id =~ ^[0-9a-f]{16}-[0-9]+$ ]] || fail "import --ids line $l: '$id' is not an event id"
    SCANNED+=("$id ${WANT_DIR[$l]} ${WANT_MASK[$l]}")
done <"$W/ids.txt"
n_good=$(wc -w <<<"$GOOD_LINES")
[[ $(status_get "$NODE" events scan) -eq $((s0 + n_good)) ]] ||
    fail "import recorded $(($(status_get "$NODE" events scan) - s0)) scans, expected the $n_good good rows"
# and a person event for each of the three people new here
[[ $(events_total) -eq $((n0 + n_good + 3)) ]] ||
    fail "import recorded $(($(events_total) - n0)) events, expected $n_good scans and 3 people"

check "import with a missing header column fails clearly and records nothing"
printf 'venue,person,when,direction\n%s,0912345678,2021-10-06T09:00:00+07:00,in\n' "$V1" >"$W/nohdr.csv"
n0=$(events_total)
tv import --csv "$W/nohdr.csv" --ids
expect_refused 1 "import without a time column"
expect_err_has "'time'" "import without a time column"
[[ $(events_total) == "$n0" ]] || fail "import without a time column recorded events"

check "import of a file that does not exist fails with a message"
tv import --csv "$W/no-such-file.csv"
expect_refused 1 "import of a missing file"
expect_err_has "no-such-file.csv" "import of a missing file"
tv import
expect_refused 2 "import without --csv"
[[ $(events_total) == "$n0" ]] || fail "a failed import recorded events"

check "import of a clean file (UTF-8 byte order mark, LF ends) exits 0"
printf '\xef\xbb\xbfvenue,person,direction,time\n%s,0912345678,vào,2021-10-07T07:00:00+07:00\n%s,0912345678,out,2021-10-07T08:00:00+07:00\n' \
    "$V2" "$V2" >"$W/clean.csv"
tv import --csv "$W/clean.csv" --ids
expect_ok "import of a clean file"
[[ $(wc -l <"$W/out") -eq 2 ]] || fail "import --ids printed $(wc -l <"$W/out") lines for 2 rows"
while IFS=$'\t' read -r l id; do
    case $l in
    2) SCANNED+=("$id in 09******78") ;;
    3) SCANNED+=("$id out 09******78") ;;
    *) fail "import --ids printed line number $l for a 2-row file" ;;
    esac
done <"$W/out"

# --- log, status, verify --------------------------------------------------------------

check "log --json holds every event id printed above, with its type and direction"
for s in "${SCANNED[@]}"; do
    read -r id dir masked <<<"$s"
    expect_scan_shown "$id" "$dir" "$masked"
done
"$TV" -d "$NODE" log --json >"$W/log.jsonl" || fail "log --json failed"
python3 - "$W/log.jsonl" "$V1" "$V1_NAME" <<'EOF' || fail "log --json lacks the venue registration"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert any(e["type"] == "venue_upsert" and e["fields"].get("venue") == sys.argv[2]
           and e["fields"].get("name") == sys.argv[3] for e in evs)
EOF

check "status --json counts match what was recorded"
n_scans=${#SCANNED[@]}
[[ $(status_get "$NODE" events scan) -eq $n_scans ]] ||
    fail "status counts $(status_get "$NODE" events scan) scans, $n_scans were printed"
[[ $(status_get "$NODE" events venue_upsert) -eq $VENUE_EVENTS ]] ||
    fail "status counts $(status_get "$NODE" events venue_upsert) venue events, expected $VENUE_EVENTS"
total=$(events_total)
n_people=$(status_get "$NODE" events person)
[[ $total -eq $((n_scans + VENUE_EVENTS + n_people)) ]] ||
    fail "status total $total != $n_scans + $VENUE_EVENTS + $n_people"
[[ $(wc -l <"$W/log.jsonl") -eq $total ]] || fail "log --json has $(wc -l <"$W/log.jsonl") events, status $total"
[[ $(status_get "$NODE" own_seq) -eq $total ]] || fail "own_seq is not the number of own events"

check "verify finds no fault"
tv verify
expect_ok "verify"
tv verify --json
expect_ok "verify --json"
[[ $(json_get faults <"$W/out") == 0 ]] || fail "verify --json reports faults"
[[ $(json_get events <"$W/out") == "$total" ]] || fail "verify --json checked a different number of events"

# --- a district node ------------------------------------------------------------------

check "a district node refuses venue add, scan and import with a message"
DIST=$W/huyen-223
run "$TV" -d "$DIST" init --role district --unit 223 --name "Huyện Diên Khánh"
expect_ok "init of a district node"
run "$TV" -d "$DIST" venue add --name "Chợ huyện" --category market
expect_refused 1 "venue add at a district node"
expect_err_has "commune" "venue add at a district node"
run "$TV" -d "$DIST" scan --venue "$V1" --person 0912345678
expect_refused 1 "scan at a district node"
expect_err_has "commune node" "scan at a district node"
run "$TV" -d "$DIST" import --csv "$W/clean.csv"
expect_refused 1 "import at a district node"
expect_err_has "commune" "import at a district node"
[[ $(status_get "$DIST" events total) == 0 ]] || fail "the district node recorded events"

check "commands on a directory without a node fail with a message"
run "$TV" -d "$W/nothing-here" status
expect_refused 1 "status without a node"
expect_err_has "no truyvet node" "status without a node"
[[ ! -e $W/nothing-here ]] || fail "status created a directory"

# --- help and usage errors ------------------------------------------------------------

check "every command's --help exits 0 and prints Usage:"
for cmd in "" init venue "venue add" "venue list" "venue show" "venue edit" \
    "venue categories" scan import status log verify; do
    # shellcheck disable=SC2086 # split "venue add" into its two words on purpose
    run "$TV" $cmd --help
    expect_ok "truyvet $cmd --help"
    grep -q "Usage:" "$W/out" || fail "truyvet $cmd --help does not print Usage: on stdout"
done

check "every option a command's --help describes is in its Usage: lines too"
# The Usage: lines run to the first empty line; an option described below them (a line
# that starts with spaces then --name) must be in them.
for cmd in init venue "venue add" "venue list" "venue show" "venue edit" "venue remind" \
    "venue reinstate" "venue visits" "venue categories" scan station watch "person show" \
    "person card" trace "case add" "case list" "risk set" "risk show" report "unit add" \
    "unit list" "qr venue" import status log verify serve sync "bundle export" \
    "bundle import" "enroll request" "enroll issue" "enroll accept"; do
    # shellcheck disable=SC2086 # split "venue add" into its two words on purpose
    run "$TV" $cmd --help
    missing=$(python3 -c '
import re, sys
usage, _, body = sys.stdin.read().partition("\n\n")
described = set(re.findall(r"^\s+(--[a-z][a-z0-9-]+)", body, re.M)) - {"--help", "--json"}
print(" ".join(sorted(o for o in described if o not in usage)))' <"$W/out")
    [[ -z $missing ]] || fail "truyvet $cmd --help: $missing described but not in its Usage: lines"
done

check "an unknown command or option exits 2 with a message"
usage_error() { # usage_error ARGS...
    run "$TV" -d "$NODE" "$@"
    expect_refused 2 "truyvet $*"
}
usage_error frobnicate
usage_error --frobnicate status
usage_error venue frobnicate
usage_error venue
usage_error scan --frobnicate
usage_error import --csv "$CSV" --frobnicate
usage_error status --frobnicate
usage_error log --frobnicate
usage_error verify --frobnicate
usage_error init --frobnicate
run "$TV"
expect_refused 2 "truyvet without a command"

# --- verify detects tampering ---------------------------------------------------------

# LMDB keeps no checksums, so a flipped byte inside a stored value reaches truyvet as is,
# and every batch is signed and hashed. The venue name from the log occurs in data.mdb in
# the live batch that registered it, and possibly also in the venue table and in stale
# copy-on-write pages, which no reader follows. Each occurrence is tried on a fresh copy of
# the node: a flip in the live batch must make verify exit 1 naming a fault (and stop log
# from showing the altered batch); the other copies must still be handled without a crash.
check "verify detects one flipped byte inside a stored batch"
"$TV" -d "$NODE" log --json >"$W/log.jsonl" || fail "log --json failed"
python3 - "$TV" "$NODE" "$W/tamper" "$W/log.jsonl" "$V1" <<'EOF' || fail "verify did not detect a flipped byte"
import json, shutil, subprocess, sys
tv, node, work, log, venue = sys.argv[1:]
name = None
for line in open(log, encoding="utf-8"):
    ev = json.loads(line)
    if ev["type"] == "venue_upsert" and ev["fields"].get("venue") == venue and "name" in ev["fields"]:
        name = ev["fields"]["name"].encode()
        break
if name is None:
    sys.exit(f"the log holds no registration of venue {venue}")
data = open(f"{node}/store/data.mdb", "rb").read()
offsets, i = [], data.find(name)
while i >= 0:
    offsets.append(i)
    i = data.find(name, i + 1)
if not offsets:
    sys.exit(f"the venue name {name!r} does not occur in data.mdb")
detected = 0
for off in offsets:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(node, work)
    path = f"{work}/store/data.mdb"
    b = bytearray(open(path, "rb").read())
    b[off + len(name) // 2] ^= 0x20
    open(path, "wb").write(bytes(b))
    v = subprocess.run([tv, "-d", work, "verify"], capture_output=True, text=True)
    if v.returncode not in (0, 1):
        sys.exit(f"verify exited {v.returncode} on a copy flipped at offset {off}:\n{v.stderr}")
    if v.returncode == 1:
        if "FAULT" not in v.stdout or "fault" not in v.stderr:
            sys.exit(f"verify exited 1 without naming the fault:\n{v.stdout}\n{v.stderr}")
        lg = subprocess.run([tv, "-d", work, "log", "--json"], capture_output=True)
        if lg.returncode != 1:
            sys.exit(f"log exited {lg.returncode} on a store verify found damaged")
        print(f"  flip at offset {off}: {v.stdout.splitlines()[0]}")
        detected += 1
    else:
        print(f"  flip at offset {off}: not in a live batch (verify passes)")
shutil.rmtree(work, ignore_errors=True)
if detected == 0:
    sys.exit(f"no flip of the {len(offsets)} occurrences of the name made verify fail")
EOF
run "$TV" -d "$NODE" verify
expect_ok "verify of the untouched node after the tampering checks"

echo "cli_test: all checks passed"
