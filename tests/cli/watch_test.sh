#!/usr/bin/env bash
# The live view: `truyvet watch` beside a running gate station, what it shows (masked,
# repeats collapsed, check-outs), --from with --all and --json, scans that arrive from
# another node, a clean end on SIGTERM, and bad use. Every wait is on a line the watcher
# writes into a FIFO, with a deadline; nothing waits on the clock.
#
# Usage: bash tests/cli/watch_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"


P=$W/province-56
C=$W/commune-22333
CCCD='001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021'
BHYT='HS4010123456789|5472e1baa76e205468e1bb8b2042c3ad6368204e67e1bb8d63|15/03/2010|2|5468c3b46e20c490c3b46e67|01 - 001|01/01/2021|31/12/2021|01/01/2021|56|4e677579e1bb856e2056c4836e20426f|4|01/01/2026|ab12|$'
DEADLINE=60 # seconds a line may take before the test gives up (a hang, not a timing)

# watch_start NAME DIR ARGS...: starts `truyvet -d DIR watch ARGS` writing stdout and
# stderr into the FIFO $W/NAME, opened for reading on fd 3 (one watcher at a time).
watch_start() {
    local name=$1 dir=$2
    shift 2
    rm -f "$W/$name"
    mkfifo "$W/$name"
    "$TV" -d "$dir" watch "$@" >"$W/$name" 2>&1 4>&- &
    WPID=$!
    PIDS+=("$WPID")
    exec 3<"$W/$name"
}

# next_line WHAT: reads the watcher's next line into LINE, or fails.
next_line() {
    LINE=""
    IFS= read -r -t "$DEADLINE" -u 3 LINE || fail "no line from watch ($1)"
    printf '%s\n' "$LINE" >>"$W/seen"
}

# expect_line WHAT GLOB: the next line matches GLOB.
expect_line() {
    next_line "$1"
    # shellcheck disable=SC2053 # $2 is a glob on purpose
    [[ $LINE == $2 ]] || fail "$1: watch printed '$LINE'"
}

# watch_stop: SIGTERM ends the watcher with exit status 0.
watch_stop() {
    kill -TERM "$WPID"
    local rc=0
    wait "$WPID" || rc=$?
    exec 3<&-
    [[ $rc -eq 0 ]] || fail "watch ended with exit status $rc after SIGTERM"
}

check "a province (the health authority) and a commune enrolled under it, with two venues"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
VA=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
VB=$("$TV" -d "$C" venue add --name "Quán Bà Tư" --category restaurant 2>/dev/null)

START=$(date -d '1 minute ago' +%Y-%m-%dT%H:%M:%S%:z) # before every scan of the test

check "watch starts beside a running station (it takes no writer lock)"
mkfifo "$W/gate"
"$TV" -d "$C" station --venue "$VA" <"$W/gate" >"$W/gate.out" 2>"$W/gate.err" &
SPID=$!
PIDS+=("$SPID")
exec 4>"$W/gate" # the station's QR reader
watch_start w1 "$C" --venue "${VA:0:6}"
expect_line "the start" "watching Chợ Vĩnh Hải (*"

check "scans at the gate appear masked, in order; a repeat does not"
printf '%s\n%s\n%s\n' "$CCCD" "$CCCD" "$BHYT" >&4
printf '0912 345 678\n' >&4
expect_line "a CCCD scan" "????-??-?? ??:??:??  vào  Nguyễn V** A · **********45  Chợ Vĩnh Hải"
expect_line "a BHYT scan" "*  vào  Trần T** B** N · *************89  Chợ Vĩnh Hải"
expect_line "a phone typed" "*  vào  09******78  Chợ Vĩnh Hải"
exec 4>&- # the reader is unplugged: the station ends
wait "$SPID" || fail "the station ended with an error: $(cat "$W/gate.err")"
[[ $(wc -l <"$W/gate.out") -eq 4 ]] || fail "the station answered $(wc -l <"$W/gate.out") lines"

check "a scan at another venue does not appear; a check-out does, as 'ra'"
"$TV" -d "$C" scan --venue "$VB" --person 0911111111 >/dev/null 2>&1
"$TV" -d "$C" scan --venue "$VA" --person 0912345678 --out >/dev/null 2>&1
expect_line "a check-out" "*  ra   09******78  Chợ Vĩnh Hải"


check "SIGTERM ends the watch with exit status 0"
watch_stop

check "the station's rule: after a check-in and a check-out, a return 11 s later is a new check-in"
# the sequence the station test feeds the gate, here with explicit times
T=2021-10-06T08:00
for s in "00 in đã" "05 out đã" "16 in đã" "20 in ĐÃ"; do
    set -- $s
    "$TV" -d "$C" scan --venue "$VA" --person 0955000001 --at "$T:$1+07:00" \
        $([[ $2 == out ]] && echo --out) >/dev/null 2>"$W/scan.err" || fail "scan at $T:$1"
    # the clerk's scan answers by the same rule: only the last is a repeat
    want="đã vào  09******01  tại Chợ Vĩnh Hải, 2021-10-06T$1"
    [[ $2 == out ]] && want="đã ra  09******01  tại Chợ Vĩnh Hải, 2021-10-06T$1"
    [[ $3 == ĐÃ ]] && want="ĐÃ VÀO RỒI (lặp lại, tính một lượt)  09******01  tại Chợ Vĩnh Hải, 2021-10-06T$1"
    [[ $(cat "$W/scan.err") == "${want/T$1/T08:00:$1}"* ]] || fail "scan at $T:$1 said: $(cat "$W/scan.err")"
done
watch_start w6 "$C" --venue "${VA:0:6}" --from "$T:00+07:00" --all
# the scans of the test so far come first (the watch reads in log order), then these
while next_line "the return's sequence"; [[ $LINE != *09******01* ]]; do :; done
[[ $LINE == "2021-10-06 08:00:00  vào  09******01  Chợ Vĩnh Hải" ]] || fail "the first: '$LINE'"
for want in "2021-10-06 08:00:05  ra   09******01  Chợ Vĩnh Hải" \
    "2021-10-06 08:00:16  vào  09******01  Chợ Vĩnh Hải" \
    "2021-10-06 08:00:20  vào  lặp lại  09******01  Chợ Vĩnh Hải"; do
    expect_line "the return's sequence" "$want"
done
watch_stop

check "nothing shown in clear: no full name, ID number, phone or address"
for clear in "Nguyễn Văn An" "001099012345" "0912345678" "0911111111" "Ba Đình" "Bích Ngọc"; do
    ! grep -qF -- "$clear" "$W/seen" || fail "watch showed '$clear'"
done

check "--from TIME --all --json: what is held, repeats marked, ids in the log, then follows"
: >"$W/seen"
watch_start w2 "$C" --from "$START" --all --json
n=0
while next_line "--from $START"; [[ $LINE != watching* ]]; do
    n=$((n + 1))
done
((n == 6)) || fail "--from $START --all showed $n scans, expected 6"
python3 - "$W/seen" <<'EOF' || fail "the JSON lines are not as expected"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.startswith("{")]
rows = [r for r in rows if r["person"] != "09******01"]  # the 2021 sequence above
assert [r["repeat"] for r in rows] == [False, True, False, False, False, False], rows
assert [r["direction"] for r in rows] == ["in"] * 5 + ["out"], rows
assert all(r["status"] is None and r["stop"] is False for r in rows), rows
assert rows[0]["person"] == "Nguyễn V** A · **********45", rows[0]
assert rows[2]["person"] == "Trần T** B** N · *************89", rows[2]
assert rows[3]["person"] == "09******78", rows[3]
assert rows[4]["venue_name"] == "Quán Bà Tư", rows[4]
assert all(r["method"] for r in rows), rows
EOF
"$TV" -d "$C" log --json >"$W/log"
python3 - "$W/seen" "$W/log" <<'EOF' || fail "a watched id is not a scan event of the log"
import json, sys
log = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[2], encoding="utf-8")}
for l in open(sys.argv[1], encoding="utf-8"):
    if l.startswith("{"):
        r = json.loads(l)
        assert log[r["id"]]["type"] == "scan", r
        assert log[r["id"]]["fields"]["venue"] == r["venue"], r
EOF
"$TV" -d "$C" scan --venue "$VB" --person 0933333333 >/dev/null 2>&1
next_line "a new scan after the catch-up"
[[ $(printf '%s' "$LINE" | json_get person) == "09******33" ]] || fail "followed: '$LINE'"
watch_stop

check "--from today and --from DATE are understood (what they show depends on the hour)"
for from in today "$(date +%F)"; do
    watch_start w4 "$C" --from "$from" --json
    while next_line "--from $from"; [[ $LINE != watching* ]]; do
        [[ $(printf '%s' "$LINE" | json_get direction) == in || $LINE == *'"out"'* ]] ||
            fail "--from $from printed '$LINE'"
    done
    watch_stop
done

check "scans that arrive from a commune (a bundle) appear at the province, masked"
watch_start w3 "$P"
expect_line "the start at the province" "watching every venue of node Sở Y tế Khánh Hòa*"
"$TV" -d "$C" bundle export --out "$W/b" >/dev/null 2>&1
"$TV" -d "$P" bundle import "$W/b" >/dev/null 2>&1
expect_line "an imported scan" "*  vào  Nguyễn V** A · **********45  Chợ Vĩnh Hải"
# 5 more of the gate, 3 of the 2021 sequence (its repeat hidden), then the last
for i in 2 3 4 5 6 7 8 9; do next_line "imported scan $i"; done
[[ $LINE == *"09******33  Quán Bà Tư" ]] || fail "the last imported scan is '$LINE'"
watch_stop

check "each line shows the person's colour as the gate does; a case is marked DỪNG"
"$TV" -d "$P" case add --payload "$CCCD" --status F0 --onset 2021-10-08 >/dev/null 2>&1 ||
    fail "case add F0"
"$TV" -d "$P" case add --payload 0912345678 --status F2 --onset 2021-10-08 >/dev/null 2>&1 ||
    fail "case add F2"
ship "$P" "$C"
: >"$W/seen"
watch_start w7 "$C" --venue "${VA:0:6}" --from "$START"
expect_line "an F0" "*  vào  Nguyễn V** A · **********45  Chợ Vĩnh Hải  DỪNG: ĐỎ — F0: ca bệnh, liên hệ trạm y tế"
expect_line "a BHYT card, no case" "*  vào  Trần T** B** N · *************89  Chợ Vĩnh Hải"
expect_line "an F2" "*  vào  09******78  Chợ Vĩnh Hải  VÀNG — F2: tiếp xúc với F1, theo dõi sức khỏe"
expect_line "an F2 leaving" "*  ra   09******78  Chợ Vĩnh Hải  VÀNG — F2: tiếp xúc với F1, theo dõi sức khỏe"
watch_stop
watch_start w8 "$C" --venue "${VA:0:6}" --from "$START" --json
next_line "an F0 as JSON"
[[ $(printf '%s' "$LINE" | json_get status) == F0 && $(printf '%s' "$LINE" | json_get stop) == true ]] ||
    fail "an F0 as JSON: $LINE"
watch_stop

check "a purge rewrites the store's file (it compacts): the watch follows the new file"
watch_start w5 "$C" --venue "${VA:0:6}"
expect_line "the start" "watching Chợ Vĩnh Hải (*"
ino=$(stat -c %i "$C/store/data.mdb")
"$TV" -d "$C" purge >"$W/purge.out" 2>"$W/purge.err" || fail "purge: $(cat "$W/purge.err")"
[[ $(stat -c %i "$C/store/data.mdb") != "$ino" ]] || fail "the purge did not rewrite the file"
"$TV" -d "$C" scan --venue "$VA" --person 0914444444 >/dev/null 2>&1
expect_line "a scan after the purge" "*  vào  09******44  Chợ Vĩnh Hải"
watch_stop

check "bad use: an unknown venue, a bad --from, an extra argument, no node"
run "$TV" -d "$C" watch --venue ffffffffffffffff
expect_refused 1 "watch --venue unknown"
for bad in yesterday 2021-13-01 "2021-10-06T08:00:00" 12:00; do
    run "$TV" -d "$C" watch --from "$bad"
    expect_refused 2 "watch --from '$bad'"
    expect_err_has "--from" "watch --from '$bad'"
done
run "$TV" -d "$C" watch extra
expect_refused 2 "watch with an extra argument"
run "$TV" -d "$W/nowhere" watch
expect_refused 1 "watch without a node"
run "$TV" watch --help
expect_ok "watch --help"
[[ $OUT == Usage:* ]] || fail "watch --help does not print a usage"

echo "watch_test: all checks passed"
