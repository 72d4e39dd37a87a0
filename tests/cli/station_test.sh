#!/usr/bin/env bash
# The gate: `truyvet station` fed like a USB QR reader (one payload per line), its
# answers, the privacy of what it stores, and that a line it answered survives kill -9.
# Then a health node reveals an identity, and the reveal is audited: sealed to the health
# nodes, so that the commune, which holds the province's log, reads none of it.
#
# Usage: bash tests/cli/station_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

STATION_PID=""
cleanup() {
    if [[ -n $STATION_PID ]] && kill -0 "$STATION_PID" 2>/dev/null; then
        kill -9 "$STATION_PID" 2>/dev/null || true
        wait "$STATION_PID" 2>/dev/null || true
    fi
    rm -rf "$W"
}

P=$W/province-56
C=$W/commune-22333
CCCD='001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021'
CCCD_SHORT='001099012345||Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021'
# BHYT 2018 layout: name "Trần Thị Bích Ngọc" and address "Thôn Đông" in hex
BHYT='HS4010123456789|5472e1baa76e205468e1bb8b2042c3ad6368204e67e1bb8d63|15/03/2010|2|5468c3b46e20c490c3b46e67|01 - 001|01/01/2021|31/12/2021|01/01/2021|56|4e677579e1bb856e2056c4836e20426f|4|01/01/2026|ab12|$'

# scans_of DIR: the node's scan events
scans_of() { status_get "$1" events scan; }

check "a province (the health authority) and a commune enrolled under it, with a venue"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
VENUE=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
OTHER=$("$TV" -d "$C" venue add --name "Quán Bà Tư" --category restaurant 2>/dev/null)

check "a pipe of good, repeated, damaged and empty lines: one answer per line, in order"
{
    printf '%s\n' "$CCCD"
    printf '%s\r\n' "$CCCD_SHORT" # the same person again, CRLF as some readers send
    printf 'hello|world\n'
    printf '\n'                               # an empty line: nothing scanned, no answer
    printf '%s\n' "${BHYT/5472e1/5472z1}"     # a name that is not hex
    printf '%s\n' "$BHYT"
    printf '0912 345 678\n'
    head -c 10000 /dev/zero | tr '\0' '7'     # far longer than any QR code
    printf '\n0987654321\n'
} >"$W/lines"
run "$TV" -d "$C" station --venue "$VENUE" <"$W/lines"
expect_ok "station over a pipe"
mapfile -t A <"$W/out"
((${#A[@]} == 8)) || fail "8 answers expected, got ${#A[@]}: $OUT"
HMS='[0-2][0-9]:[0-5][0-9]:[0-5][0-9]' # a time of day, as a glob
[[ ${A[0]} == "OK  Nguyễn V** A · **********45  đã vào "$HMS ]] || fail "line 1: ${A[0]}"
[[ ${A[1]} == "ĐÃ VÀO RỒI  Nguyễn V** A · **********45" ]] || fail "line 2: ${A[1]}"
[[ ${A[2]} == "KHÔNG ĐỌC ĐƯỢC MÃ (không rõ loại mã: 2 trường ngăn bởi |)" ]] ||
    fail "line 3: ${A[2]}"
[[ ${A[3]} == "KHÔNG ĐỌC ĐƯỢC MÃ (họ tên trên thẻ BHYT không phải dạng hex)" ]] ||
    fail "line 5: ${A[3]}"
[[ ${A[4]} == "OK  Trần T** B** N · *************89  đã vào "$HMS ]] || fail "line 6: ${A[4]}"
[[ ${A[5]} == "OK  09******78  đã vào "$HMS ]] || fail "line 7: ${A[5]}"
[[ ${A[6]} == "KHÔNG ĐỌC ĐƯỢC MÃ (dòng quét dài hơn mọi mã QR)" ]] || fail "line 8: ${A[6]}"
[[ ${A[7]} == "OK  09******21  đã vào "$HMS ]] || fail "line 9: ${A[7]}"
(($(scans_of "$C") == 5)) || fail "5 scans recorded expected, the node holds $(scans_of "$C")"
(($(status_get "$C" events person) == 4)) || fail "one person event per person (4) expected"

check "--json: one object per line with the line number, and the event ids are in the log"
printf '%s\n' "$CCCD" "garbage" "0912345678" | "$TV" -d "$C" station --venue "$OTHER" --json \
    >"$W/answers.jsonl"
python3 - "$W/answers.jsonl" <<'EOF' || fail "station --json answers are wrong"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [r["line"] for r in rows] == [1, 2, 3], rows
assert [r["result"] for r in rows] == ["ok", "unreadable", "ok"], rows
assert rows[0]["person"] == "Nguyễn V** A · **********45" and rows[0]["direction"] == "in"
assert rows[1]["reason"] == "chỉ được có chữ số (số điện thoại hoặc số giấy tờ)", rows[1]
assert all("id" in r for r in rows if r["result"] == "ok")
assert [r.get("stop") for r in rows] == [False, None, False], rows
assert [r.get("warning", "-") for r in rows] == [None, "-", None], rows
EOF
"$TV" -d "$C" log --json >"$W/log.jsonl"
for id in $(python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in open(sys.argv[1]) if "id" in json.loads(l)]' "$W/answers.jsonl"); do
    grep -qF "\"id\":\"$id\"" "$W/log.jsonl" || fail "answered event $id is not in the log"
done
(($(status_get "$C" events person) == 4)) || fail "a person already known got a second person event"

check "chip cards with a mangled name or a mistyped birth date: recorded by the number, with why"
before=$(scans_of "$C")
{
    printf '001099012399||Nguy\xe1\xbbn V\xe3n B\xecnh|15031999|Nam|Số 2 Phố Y|20042021\n'
    printf '001099012398||Lê Thị Cúc|31021999|Nữ|Số 3 Phố Z|20042021\n'
    printf '001099012397||Lê Văn Đức|3102199|Nam|Số 4 Phố Z|20042021\n'
    printf '00109901239||Lê Văn Đức|01021999|Nam|Số 4 Phố Z|20042021\n' # the number itself
} >"$W/damaged"
run "$TV" -d "$C" station --venue "$VENUE" <"$W/damaged"
expect_ok "station over damaged chip cards"
mapfile -t A <"$W/out"
[[ ${A[0]} == "OK  **********99  đã vào "$HMS"  (cảnh báo: họ tên trên CCCD bị lỗi dấu (không phải UTF-8, đầu đọc đang ở chế độ bàn phím?))" ]] ||
    fail "a mangled name: ${A[0]}"
[[ ${A[1]} == "OK  Lê T** C · **********98  đã vào "$HMS"  (cảnh báo: ngày sinh trên CCCD không có thật)" ]] ||
    fail "a birth date that is no date: ${A[1]}"
[[ ${A[2]} == "OK  Lê V** Đ · **********97  đã vào "$HMS"  (cảnh báo: ngày sinh trên CCCD không đúng dạng ddmmyyyy)" ]] ||
    fail "a birth date cut short: ${A[2]}"
[[ ${A[3]} == "KHÔNG ĐỌC ĐƯỢC MÃ (số CCCD phải có 12 chữ số)" ]] || fail "a broken number: ${A[3]}"
(($(scans_of "$C") == before + 3)) || fail "3 scans expected, $(($(scans_of "$C") - before)) recorded"
printf '001099012398||Lê Thị Cúc|31021999|Nữ|Số 3 Phố Z|20042021\n' |
    "$TV" -d "$C" station --venue "$OTHER" --json >"$W/damaged.json"
[[ $(json_get warning <"$W/damaged.json") == "ngày sinh trên CCCD không có thật" ]] ||
    fail "--json warning: $(cat "$W/damaged.json")"
run "$TV" -d "$C" scan --venue "$OTHER" --person '001099012398||Lê Thị Cúc|31021999|Nữ|Số 3|20042021'
expect_ok "scan of a card with a typo"
expect_err_has "cảnh báo: ngày sinh trên CCCD không có thật" "scan of a card with a typo"

check "a return after a check-out is a new check-in, a second check-in a repeat (the views' rule)"
AGO=$(date -d '2 hours ago' +%s)
at() { date -d "@$((AGO + $1))" +%Y-%m-%dT%H:%M:%S%:z; }
"$TV" -d "$C" scan --venue "$VENUE" --person 0933000001 --at "$(at 0)" >/dev/null 2>&1
"$TV" -d "$C" scan --venue "$VENUE" --person 0933000001 --at "$(at 5)" --out >/dev/null 2>&1
"$TV" -d "$C" scan --venue "$VENUE" --person 0933000002 --at "$(at 0)" >/dev/null 2>&1
# a window of a day covers the two hours: only the scans in between decide
printf '0933000001\n0933000002\n0933000001\n' >"$W/returns"
run "$TV" -d "$C" station --venue "$VENUE" --window 1440 <"$W/returns"
expect_ok "station over returns"
mapfile -t A <"$W/out"
[[ ${A[0]} == "OK  09******01  đã vào "$HMS ]] || fail "a return after a check-out: ${A[0]}"
[[ ${A[1]} == "ĐÃ VÀO RỒI  09******02" ]] || fail "a second check-in: ${A[1]}"
[[ ${A[2]} == "ĐÃ VÀO RỒI  09******01" ]] || fail "the return scanned twice: ${A[2]}"
printf '0933000001\n0933000001\n' >"$W/outs"
run "$TV" -d "$C" station --venue "$VENUE" --window 1440 --out <"$W/outs"
expect_ok "station --out"
mapfile -t A <"$W/out"
[[ ${A[0]} == "OK  09******01  đã ra "$HMS ]] || fail "a check-out: ${A[0]}"
[[ ${A[1]} == "ĐÃ RA RỒI  09******01" ]] || fail "a second check-out: ${A[1]}"

check "nothing personal is stored in clear: names, numbers and addresses are sealed"
for secret in "Nguyễn Văn An" "001099012345" "123456789" "0912345678" "Phường Ba Đình" \
    "Trần Thị Bích Ngọc" "4010123456789"; do
    if grep -rqaF -- "$secret" "$C"; then fail "'$secret' is stored in clear in the commune's files"; fi
done

check "bad use: no venue, an unknown venue, a province node"
run "$TV" -d "$C" station </dev/null
expect_refused 2 "station without --venue"
run "$TV" -d "$C" station --venue ffffffffffffffff </dev/null
expect_rc 1 "station at an unknown venue"
run "$TV" -d "$P" station --venue "$VENUE" </dev/null
expect_refused 1 "station on a province node"
expect_err_has "commune" "station on a province node"

check "kill -9 in the middle of a stream: every answered line is in the log"
python3 -c '
for i in range(200000):
    print("09%08d" % i)' >"$W/many"
mkfifo "$W/fifo"
"$TV" -d "$C" station --venue "$VENUE" --json <"$W/fifo" >"$W/kill.jsonl" 2>"$W/kill.err" &
STATION_PID=$!
exec 7>"$W/fifo"
# write in the background; the station answers as it goes
(cat "$W/many" >&7 2>/dev/null || true) &
WRITER=$!
for ((i = 0; i < 6000; i++)); do # a bound on the wait, not a timing check
    (($(wc -l <"$W/kill.jsonl") >= 2000)) && break
    kill -0 "$STATION_PID" 2>/dev/null || fail "the station died: $(cat "$W/kill.err")"
    sleep 0.05
done
kill -9 "$STATION_PID"
wait "$STATION_PID" 2>/dev/null || true
STATION_PID=""
exec 7>&-
kill "$WRITER" 2>/dev/null || true
wait "$WRITER" 2>/dev/null || true
answered=$(python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1], encoding="utf-8"):
    if not line.endswith("\n"):
        break  # cut by the kill: not a whole answer
    r = json.loads(line)
    assert r["result"] == "ok", r
    print(r["id"])
' "$W/kill.jsonl" | tee "$W/kill.ids" | wc -l)
((answered >= 2000)) || fail "the station answered only $answered lines before the kill"
"$TV" -d "$C" log --json | python3 -c '
import json, sys
have = {json.loads(l).get("id") for l in sys.stdin}
missing = [i.strip() for i in open(sys.argv[1]) if i.strip() not in have]
if missing:
    sys.exit("answered but not in the log: %d, e.g. %s" % (len(missing), missing[0]))
' "$W/kill.ids" || fail "an answered line was lost"
run "$TV" -d "$C" verify
expect_ok "verify after the kill"

# SIGTERM (a service's stop) ends the station cleanly, exit 0; SIGINT (Ctrl-C) too, but it
# then dies of SIGINT, so that a script running it stops as well (exit 130 in the shell).
for sig in TERM INT; do
    num=0911111111
    [[ $sig == INT ]] && num=0911111112
    check "SIG$sig ends the station after answering what it read"
    rm -f "$W/fifo" "$W/term.out"
    mkfifo "$W/fifo"
    "$TV" -d "$C" station --venue "$OTHER" <"$W/fifo" >"$W/term.out" 2>"$W/term.err" &
    STATION_PID=$!
    exec 7>"$W/fifo"
    printf '%s\n' "$num" >&7
    for ((i = 0; i < 6000; i++)); do
        [[ -s $W/term.out ]] && break
        sleep 0.05
    done
    [[ $(cat "$W/term.out") == "OK  09******${num: -2}  đã vào "$HMS ]] ||
        fail "no answer before SIG$sig: $(cat "$W/term.out")"
    kill -$sig "$STATION_PID"
    rc=0
    wait "$STATION_PID" || rc=$?
    STATION_PID=""
    exec 7>&-
    want=0
    [[ $sig == INT ]] && want=130
    ((rc == want)) || fail "station exited $rc on SIG$sig, not $want: $(cat "$W/term.err")"
done

check "the health authority reveals an identity; the reveal is recorded and travels"
"$TV" -d "$C" bundle export --out "$W/c.bundle" >/dev/null 2>&1
"$TV" -d "$P" bundle import "$W/c.bundle" >/dev/null 2>&1
run "$TV" -d "$P" person show --person "$CCCD" --json
expect_ok "person show at the province"
[[ $(json_get person <"$W/out") == "Nguyễn V** A · **********45" ]] || fail "masked display wrong"
grep -qF "Nguyễn Văn An" "$W/out" && fail "person show without --reveal shows the name"
run "$TV" -d "$P" person show --person "$CCCD" --reveal
expect_refused 2 "--reveal without --reason"
run "$TV" -d "$P" person show --person "$CCCD" --reveal --reason "truy vết F1 ca 123" --json
expect_ok "reveal at the province"
[[ $(json_get details name <"$W/out") == "Nguyễn Văn An" ]] || fail "revealed name wrong"
[[ $(json_get details address <"$W/out") == "Số 1 Phố X, Phường Ba Đình, Hà Nội" ]] ||
    fail "revealed address wrong"
[[ $(json_get details cmnd <"$W/out") == "123456789" ]] || fail "revealed CMND wrong"
run "$TV" -d "$P" person show --person "$BHYT" --reveal --reason "kiểm tra" --json
expect_ok "reveal of a BHYT card's holder"
[[ $(json_get details name <"$W/out") == "Trần Thị Bích Ngọc" ]] || fail "BHYT name wrong"
[[ $(json_get details sex <"$W/out") == "Nữ" ]] || fail "BHYT sex wrong"
run "$TV" -d "$P" audit --json
expect_ok "audit at the province"
(($(wc -l <"$W/out") == 2)) || fail "two reveals expected in the audit: $OUT"
[[ $(head -n 1 "$W/out" | json_get reason) == "truy vết F1 ca 123" ]] || fail "audit reason wrong"
[[ $(head -n 1 "$W/out" | json_get unit) == "56" ]] || fail "audit node unit wrong"

check "a commune cannot reveal, and says why"
run "$TV" -d "$C" person show --person "$CCCD" --reveal --reason "tò mò"
expect_refused 1 "reveal at a commune"
expect_err_has "health" "reveal at a commune"
"$TV" -d "$C" audit --json >"$W/c-audit"
[[ ! -s $W/c-audit ]] || fail "a refused reveal left an audit event"

check "the audit travels down with the province's log, sealed: the commune reads none of it"
"$TV" -d "$P" bundle export --out "$W/p.bundle" >/dev/null 2>&1
"$TV" -d "$C" bundle import "$W/p.bundle" >/dev/null 2>&1 || true
NSEALED=$("$TV" -d "$P" log --json | grep -c '"type":"sealed"')
(($(("$TV" -d "$C" log --json || true) | grep -c '"type":"sealed"') >= NSEALED)) ||
    fail "the province's sealed events did not reach the commune"
run "$TV" -d "$C" audit --json
expect_ok "audit at the commune"
[[ -z $OUT ]] || fail "the commune reads the province's reveals: $OUT"
grep -rlaF -- "truy vết F1 ca 123" "$C" >/dev/null && fail "the commune's files hold a reveal's reason"
check "a case is a stop at the gate, and recorded; F2 is let in with its colour"
"$TV" -d "$P" case add --payload "$CCCD" --status F0 --onset 2021-10-08 >/dev/null 2>&1 ||
    fail "case add F0"
"$TV" -d "$P" case add --payload "$BHYT" --status F1 --onset 2021-10-08 >/dev/null 2>&1 ||
    fail "case add F1"
"$TV" -d "$P" case add --payload 0912345678 --status F2 --onset 2021-10-08 >/dev/null 2>&1 ||
    fail "case add F2"
"$TV" -d "$P" hold add --payload 0987654321 --reason "điều tra ca F0" >/dev/null 2>&1 ||
    fail "hold add"
ship "$P" "$C"
before=$(scans_of "$C")
printf '%s\n' "$CCCD" "$BHYT" 0912345678 0987654321 0911111111 >"$W/cases"
run "$TV" -d "$C" station --venue "$OTHER" --window 0 <"$W/cases"
expect_ok "station with cases"
mapfile -t A <"$W/out"
[[ ${A[0]} == "DỪNG — KHÔNG VÀO  Nguyễn V** A · **********45  ĐỎ — F0: ca bệnh, liên hệ trạm y tế  (đã ghi: vào "$HMS")" ]] ||
    fail "an F0: ${A[0]}"
[[ ${A[1]} == "DỪNG — KHÔNG VÀO  Trần T** B** N · *************89  CAM — F1: tiếp xúc gần ca bệnh, phải cách ly, liên hệ trạm y tế  (đã ghi: vào "$HMS")" ]] ||
    fail "an F1: ${A[1]}"
[[ ${A[2]} == "OK  09******78  đã vào "$HMS"  VÀNG — F2: tiếp xúc với F1, theo dõi sức khỏe" ]] ||
    fail "an F2: ${A[2]}"
[[ ${A[3]} == "DỪNG — KHÔNG VÀO  09******21  đang trong diện truy vết của cơ quan y tế, liên hệ trạm y tế  (đã ghi: vào "$HMS")" ]] ||
    fail "a person under a hold: ${A[3]}"
[[ ${A[4]} == "OK  09******11  đã vào "$HMS ]] || fail "nobody's case: ${A[4]}"
(($(scans_of "$C") == before + 5)) || fail "a stopped person's scan was not recorded"
printf '%s\n' "$CCCD" 0911111111 | "$TV" -d "$C" station --venue "$OTHER" --window 0 --json \
    >"$W/cases.json"
python3 - "$W/cases.json" <<'PY' || fail "--json of a stop: $(cat "$W/cases.json")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [(r["result"], r["status"], r["stop"]) for r in rows] == [
    ("ok", "F0", True), ("ok", None, False)], rows
PY
run "$TV" -d "$C" scan --venue "$OTHER" --person "$CCCD"
expect_ok "scan of an F0"
expect_err_has "DỪNG — KHÔNG VÀO  Nguyễn V** A · **********45  ĐỎ — F0: ca bệnh" "scan of an F0"

check "a store that cannot grow: the guard reads why in Vietnamese only, nothing half-recorded"
# The store's file may not grow beyond its size (a file size limit, SIGXFSZ ignored: each
# write past it fails), so the commit of the lines fails.
before=$(scans_of "$C")
blocks=$(($(stat -c %s "$C/store/data.mdb") / 1024))
seq -f '09%08.0f' 20000 20299 >"$W/many"
run bash -c 'trap "" XFSZ; ulimit -f "$1"; exec "$2" -d "$3" station --venue "$4" --window 0' \
    _ "$blocks" "$TV" "$C" "$OTHER" <"$W/many"
# (an input/output error stops the station, exit 1; an error of the database goes on, 0)
[[ $RC == 0 || $RC == 1 ]] || fail "station on a store that cannot grow: exit status $RC"
failed=$(grep -c '^CHƯA GHI ĐƯỢC' "$W/out" || true)
((failed > 0)) || fail "no line answered CHƯA GHI ĐƯỢC: $(head -n 3 "$W/out")"
(($(grep -cxF 'CHƯA GHI ĐƯỢC (lỗi ghi dữ liệu; quét lại)' "$W/out") == failed)) ||
    fail "a failed line not answered in Vietnamese only: $(grep -m1 '^CHƯA GHI' "$W/out")"
ok=$(grep -c '^OK  ' "$W/out" || true)
((ok + failed == $(wc -l <"$W/out"))) || fail "answers other than OK or CHƯA GHI ĐƯỢC: $OUT"
(($(scans_of "$C") == before + ok)) || fail "scans recorded are not the lines answered OK"
# the operator's message gives the system's own reason, not a stale one
if grep -q "cannot read or write the files" "$W/err"; then
    grep -q "(File too large)" "$W/err" || fail "the reason of the failed write: $(cat "$W/err")"
fi
run "$TV" -d "$C" verify
expect_ok "verify after the failed commit"

echo "station test passed"
