#!/usr/bin/env bash
# Insider attack 8 of issue 14: control characters in text fields. A clerk, a hostile
# CSV file, a forged card or a node whose key was taken puts terminal escapes (ESC [2J
# clears the screen, ESC ]0; retitles the window, BEL, DEL, the C1 CSI U+009B) into a
# venue's name, a card's display, a note... and whoever later runs `station`, `venue
# visits` or `venue list` gets a terminal that obeys them.
#
# What must hold (PROTOCOL.md section 2; node/format/text.h):
#   (a) at the source, every command refuses such text with a message naming the field and
#       the character, and records nothing;
#   (b) a received batch carrying such an event is malformed: `bundle import` refuses it,
#       naming its origin and seq, and nothing of it is stored;
#   (c) text already stored raw (a store written before the rule) reaches the terminal
#       escaped (\xNN): no output holds a control byte.
#
# The helper insider_forge_text (tests/insider/forge_text.c, built next to truyvet) signs
# batches with the commune's key and writes a store record directly, as an attacker or an
# old version would.
#
# Usage: bash tests/insider/08_control_chars.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

WPID=""
cleanup() {
    if [[ -n $WPID ]]; then kill -9 "$WPID" 2>/dev/null || true; fi
    if [[ -n $WPID ]]; then wait "$WPID" 2>/dev/null || true; fi
    rm -rf "$W"
}

FORGE=$(dirname "$TV")/insider_forge_text
[[ -x $FORGE ]] || fail "the helper $FORGE is not built (cmake --build builds it)"

P=$W/tinh-56 # the province: root of trust and health authority
C=$W/xa-22333 # a commune enrolled under it

ESC_CLEAR=$'Quán\e[2J\e]0;owned\a' # ESC: clear the screen, retitle the window, BEL
BEL=$'Tổ\a5'
DEL=$'ghi chú\x7f'
C1=$'Chợ\xc2\x9b2J' # U+009B, the one-byte CSI of C1, as UTF-8

# no_control WHAT FILE...: the files hold no control byte a terminal would obey: nothing
# below 0x20 but tab and line feed, no DEL, no C1 character (C2 80..C2 9F).
no_control() {
    local what=$1
    shift
    python3 - "$@" <<'EOF' || fail "$what: a raw control byte reaches the terminal"
import re, sys
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    m = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", data)
    if m:
        print(f"{path}: byte(s) {m.group().hex()} at offset {m.start()}", file=sys.stderr)
        sys.exit(1)
EOF
}

# snapshot DIR: what the node holds, to compare before and after a refusal.
snapshot() {
    "$TV" -d "$1" log --json || fail "log --json of $1"
    "$TV" -d "$1" status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(json.dumps([j["events"], j["frontier"]], sort_keys=True))'
}

# refused_at_source NODE FIELD CODEPOINT CMD...: CMD at NODE exits 2 with exactly
# "the FIELD holds a control character (U+CODEPOINT)." and NODE's store is unchanged.
refused_at_source() {
    local node=$1 field=$2 cp=$3
    shift 3
    snapshot "$node" >"$W/before"
    run "$TV" -d "$node" "$@"
    expect_refused 2 "$*"
    expect_err_has "truyvet: the $field holds a control character (U+$cp)." "$*"
    no_control "the refusal of $*" "$W/err"
    snapshot "$node" >"$W/after"
    cmp -s "$W/before" "$W/after" || fail "$*: the store changed although it was refused"
}

check "a province (root, health) and a commune enrolled under it, with a venue and a scan"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" --health 2>/dev/null
VENUE=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
"$TV" -d "$C" scan --venue "$VENUE" --person 0912345678 >/dev/null 2>&1 || fail "a first scan"
C_ID=$(status_get "$C" node_id)

# --- (a) refused at the source ---------------------------------------------------------

check "venue add/edit, remind, reinstate refuse control characters in every text field"
refused_at_source "$C" "venue name" 001B venue add --name "$ESC_CLEAR" --category restaurant
refused_at_source "$C" "venue name" 009B venue edit "$VENUE" --name "$C1"
refused_at_source "$C" village 0007 venue edit "$VENUE" --village "$BEL"
refused_at_source "$C" village 007F venue add --name "Quán" --category cafe --village "$DEL"
refused_at_source "$C" note 007F venue remind "$VENUE" --note "$DEL"
refused_at_source "$C" note 001B venue reinstate "$VENUE" --note "$ESC_CLEAR"

check "unit add, scan --device, station --device, person card --name refuse them"
refused_at_source "$C" "unit name" 009B unit add 22333.t9 --name "$C1"
refused_at_source "$C" "device label" 001B scan --venue "$VENUE" --person 0912345678 \
    --device "$ESC_CLEAR"
refused_at_source "$C" "device label" 0007 station --venue "$VENUE" --device "$BEL"
refused_at_source "$C" name 001B person card --phone 0912345679 --name "$ESC_CLEAR" \
    --out "$W/card.svg"
[[ ! -e $W/card.svg ]] || fail "person card wrote a card although it was refused"

check "the health node's notes and reasons refuse them"
refused_at_source "$P" note 001B risk set --unit 22333 --level 2 --from today --note "$ESC_CLEAR"
refused_at_source "$P" reason 009B trace --person 0912345678 --reveal --reason "$C1"
refused_at_source "$P" reason 007F person show --person 0912345678 --reveal --reason "$DEL"
refused_at_source "$P" reason 0007 revoke "$C_ID" --reason "$BEL"

check "init refuses a node name with a control character and creates nothing"
run "$TV" -d "$W/new" init --role commune --unit 22334 --unlisted --name "$ESC_CLEAR"
expect_refused 2 "init --name with ESC"
expect_err_has "truyvet: the name holds a control character (U+001B)." "init --name"
[[ ! -e $W/new ]] || fail "init left a directory behind although it was refused"

check "the station reads cards whose name or address carries control characters by their number"
# The 12-digit number is intact, so the card is recorded by it; the faulty field is left
# out (never stored, never echoed) and the answer says what was wrong.
before=$(status_get "$C" events scan)
CCCD_OK=$'\t001099012347 | | Lê Văn Cường |15031999|Nam|Số 1 Trần Phú|20042021\r'
{
    printf '%s\n' "001099012345||Nguyễn ${ESC_CLEAR}Văn An|15031999|Nam|Số 1|20042021"
    printf '%s\n' "001099012346||Trần ${C1} Bình|15031999|Nam|Số 1|20042021"
    printf '%s\n' "001099012348||Phạm Dũng|15031999|Nam|Số 1 ${DEL}|20042021"
    printf '%s\n' "$CCCD_OK"
} >"$W/lines"
run "$TV" -d "$C" station --venue "$VENUE" <"$W/lines"
expect_ok "station"
[[ $(sed -n 1p "$W/out") == "OK  **********45  đã vào "*"  (cảnh báo: họ tên trên CCCD có ký tự điều khiển)" ]] ||
    fail "station line 1 (ESC in the name): $(sed -n 1p "$W/out")"
[[ $(sed -n 2p "$W/out") == "OK  **********46  đã vào "*"  (cảnh báo: họ tên trên CCCD có ký tự điều khiển)" ]] ||
    fail "station line 2 (C1 in the name): $(sed -n 2p "$W/out")"
[[ $(sed -n 3p "$W/out") == "OK  Phạm D · **********48  đã vào "*"  (cảnh báo: địa chỉ trên CCCD có ký tự điều khiển)" ]] ||
    fail "station line 3 (DEL in the address): $(sed -n 3p "$W/out")"
[[ $(sed -n 4p "$W/out") == "OK  Lê V** C · **********47  đã vào "* ]] ||
    fail "station line 4 (a normal card, tab- and CR-padded): $(sed -n 4p "$W/out")"
no_control "station answers" "$W/out" "$W/err"
[[ $(status_get "$C" events scan) -eq $((before + 4)) ]] ||
    fail "the station did not record the four cards by their numbers"

check "a personal code whose display carries a control character is unreadable at the gate"
run "$TV" -d "$C" person card --phone 0912345670 --name "Mai An" --out "$W/card.svg"
expect_ok "person card"
CODE=$OUT
printf '%s\n' "${CODE%:*}:Mai A${ESC_CLEAR}" >"$W/lines"
snapshot "$C" >"$W/before"
run "$TV" -d "$C" station --venue "$VENUE" <"$W/lines"
expect_ok "station with a doctored personal code"
[[ $OUT == "KHÔNG ĐỌC ĐƯỢC MÃ (tên trong mã cá nhân bị thiếu, quá dài, lỗi dấu hoặc có ký tự điều khiển)" ]] ||
    fail "station answered '$OUT' to a personal code with ESC in its display"
no_control "station answer" "$W/out" "$W/err"
snapshot "$C" >"$W/after"
cmp -s "$W/before" "$W/after" || fail "the station recorded a doctored personal code"

check "import reads a card with control characters by its number, rejects the rest, echoes no raw byte"
{
    printf 'venue,person,direction,time\n'
    printf '%s,"%s",in,2021-10-06T08:30:00+07:00\n' "$VENUE" \
        "001099012349||Võ ${ESC_CLEAR} Em|15031999|Nam|Số 1|20042021"
    printf '%s,0912345671,%s,2021-10-06T08:30:00+07:00\n' "$VENUE" "$ESC_CLEAR"
} >"$W/rows.csv"
run "$TV" -d "$C" import --csv "$W/rows.csv"
expect_rc 1 "import of hostile rows"
expect_err_has "line 2: the card is read by its number alone: CCCD name contains a control character" \
    "import"
expect_err_has "recorded 1 scan from $W/rows.csv; 1 row rejected" "import"
expect_err_has "line 3: direction 'Quán\\x1b[2J\\x1b]0;owned\\x07' is neither in nor out" "import"
no_control "import's messages" "$W/out" "$W/err"
"$TV" -d "$C" log --json | grep -q 'owned' && fail "import recorded the hostile direction"
"$TV" -d "$C" person show --person 001099012349 2>&1 | grep -q $'\x1b' && fail "a control character stored"

# --- (b) a received event carrying them is malformed -------------------------------------

check "the province holds the commune's log"
ship "$C" "$P"
[[ $(status_get "$P" events scan) -eq 6 ]] || fail "the province does not hold the 6 scans"
SEQ=$(( $("$TV" -d "$C" status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(next(f["seq"] for f in j["frontier"] if f["origin"] == j["node_id"]))') + 1 ))

# import_refused BUNDLE WHAT: the province refuses the one batch of BUNDLE as malformed,
# naming the commune and the seq, and holds nothing more.
import_refused() {
    snapshot "$P" >"$W/before"
    run "$TV" -d "$P" bundle import "$1"
    expect_rc 1 "bundle import of $2"
    expect_err_has "(origin ${C_ID:0:16}, seq $SEQ-$SEQ) refused: malformed message" "$2"
    expect_err_has "0 batches accepted (0 events), 0 already held, 1 refused" "$2"
    no_control "bundle import of $2" "$W/out" "$W/err"
    snapshot "$P" >"$W/after"
    cmp -s "$W/before" "$W/after" || fail "$2: the province stored part of a refused batch"
}

check "a signed batch whose venue name carries ESC is refused as malformed"
[[ $("$FORGE" "$C" bundle "$W/esc.bundle" venue-name "$ESC_CLEAR") == "$SEQ" ]] ||
    fail "the helper did not forge the batch at seq $SEQ"
import_refused "$W/esc.bundle" "a venue name with ESC"

check "... and so is one whose scan device carries a C1 character, or a unit name DEL"
VENUE=$VENUE "$FORGE" "$C" bundle "$W/c1.bundle" scan-device "gate$C1" >/dev/null
import_refused "$W/c1.bundle" "a scan device with U+009B"
"$FORGE" "$C" bundle "$W/del.bundle" unit-name "Thôn$DEL" >/dev/null
import_refused "$W/del.bundle" "a unit name with DEL"

check "the same forged batch with plain text is accepted (the refusals were for the text)"
"$FORGE" "$C" bundle "$W/plain.bundle" venue-name "Quán mới" >/dev/null
run "$TV" -d "$P" bundle import "$W/plain.bundle"
expect_ok "bundle import of a plain venue name"
expect_err_has "1 batch accepted (1 events)" "bundle import of a plain venue name"

# --- (c) text stored raw before the rule is printed escaped ------------------------------

check "a venue name stored raw (before the rule) is printed escaped, never raw"
RAW=$'Chợ\e[2J\e]0;owned\a\x7f\xc2\x9b31m'
"$FORGE" "$C" store-venue "$VENUE" "$RAW" || fail "writing the raw venue name"
WANT='Chợ\x1b[2J\x1b]0;owned\x07\x7f\xc2\x9b31m'
"$TV" -d "$C" venue list >"$W/list" 2>&1 || fail "venue list"
"$TV" -d "$C" venue list --noncompliant >"$W/nc" 2>&1 || fail "venue list --noncompliant"
"$TV" -d "$C" venue show "$VENUE" >"$W/show" 2>&1 || fail "venue show"
"$TV" -d "$C" venue visits "$VENUE" >"$W/visits" 2>&1 || fail "venue visits"
"$TV" -d "$C" venue remind "$VENUE" --note "một lần" >"$W/remind" 2>&1 || fail "venue remind"
# watch: the scans held, then "watching <venue name> ..." once it follows; then stopped
mkfifo "$W/wfifo"
"$TV" -d "$C" watch --venue "$VENUE" --from 2020-01-01 >"$W/wfifo" 2>&1 &
WPID=$!
exec 3<"$W/wfifo"
: >"$W/watch"
while IFS= read -r -t 60 -u 3 LINE || fail "watch printed no 'watching' line"; do
    printf '%s\n' "$LINE" >>"$W/watch"
    [[ $LINE != watching* ]] || break
done
kill -TERM "$WPID"
wait "$WPID" || fail "watch did not end cleanly on SIGTERM"
WPID=""
exec 3<&-
"$TV" -d "$C" venue list --json >"$W/json" 2>&1 || fail "venue list --json"
"$TV" -d "$C" station --venue "$VENUE" <<<"0912345672" >"$W/station" 2>&1 || fail "station"
no_control "venue list, show, visits, remind, watch, station and --json" "$W/list" "$W/nc" \
    "$W/show" "$W/visits" "$W/remind" "$W/watch" "$W/json" "$W/station"
grep -qF -- "$WANT" "$W/list" || fail "venue list does not show the name escaped as $WANT"
grep -qF -- "name:        $WANT" "$W/show" || fail "venue show does not show the name escaped"
grep -qF -- "$WANT" "$W/visits" || fail "venue visits does not name the venue escaped"
grep -qF -- "$WANT" "$W/remind" || fail "venue remind does not name the venue escaped"
grep -qF -- "watching $WANT" "$W/watch" || fail "watch does not name the venue escaped"
[[ $(json_get name <"$W/json") == "$RAW" ]] ||
    fail "venue list --json does not carry the stored bytes (escaped as JSON)"
grep -qF -- '\u001b[2J\u001b]0;owned\u0007\u007f\u009b31m' "$W/json" ||
    fail "venue list --json does not escape the control characters as \\u00XX"

echo "PASS"
