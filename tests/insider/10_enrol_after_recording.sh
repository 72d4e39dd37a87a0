#!/usr/bin/env bash
# Insider suite, item 10: a node that records before it is enrolled. A commune installs
# truyvet and records check-ins for days (ID cards read at the gate, so there are personal
# details) while its certificate travels; its district is created and enrolled only after
# that. Once both are enrolled, the commune syncs through its district to the province:
#   - the district and the province hold every event of the commune's log, the days before
#     enrolment included (its certificate starts after them: it vouches for the whole log);
#   - the people recorded before enrolment were sealed to the commune itself, and
#     re-sealed to the health authority when the certificate arrived, so the province
#     reveals them in full (`person show --reveal`, `trace --reveal`);
#   - expiry still bounds a certificate: what a commune records after its certificate
#     expired is refused.
# The days go by under libfaketime (Debian package faketime); without it the test is
# skipped.
#
# Usage: bash tests/insider/10_enrol_after_recording.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PIDS=()
cleanup() { # lib.sh's, but it stops the servers first
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$W"
}

# --- time travel: libfaketime, with an ASan runtime first when the binary has one -------

FAKETIME_LIB=""
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 \
    /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
    [[ -r $f ]] && { FAKETIME_LIB=$f; break; }
done
if [[ -z $FAKETIME_LIB ]]; then
    echo "SKIP: libfaketime is not installed (Debian package faketime; ./dev.sh installs it)"
    exit 77
fi
PRELOAD=$FAKETIME_LIB
ASAN_RT=$(ldd "$TV" 2>/dev/null | awk '/libasan/ {print $3}')
[[ -n $ASAN_RT ]] && PRELOAD="$ASAN_RT $FAKETIME_LIB"

# ago DAYS CMD...: runs CMD with the clock DAYS days behind
ago() {
    local days=$1
    shift
    env LD_PRELOAD="$PRELOAD" FAKETIME="-${days}d" FAKETIME_DONT_RESET=1 "$@"
}
# day DAYS: the calendar date (Vietnam time) DAYS days ago
day() { TZ=Asia/Ho_Chi_Minh date -d "-$1 days" +%F; }

json_eval() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
node_id() { "$TV" -d "$1" status --json | json_eval "j['node_id']"; }
# held NODE ORIGIN: the last seq NODE holds of ORIGIN's log (0 if none)
held() {
    "$TV" -d "$1" status --json |
        json_eval "next((f['seq'] for f in j['frontier'] if f['origin']=='$2'), 0)"
}
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

P=$W/tinh-56
D=$W/huyen-568
C=$W/xa-22333
C2=$W/xa-22334
AN='001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021'
BINH='079188004321||Trần Thị Bình|02021988|Nữ|Số 9 Đường Y, Diên An, Diên Khánh|01012022'

check "libfaketime moves this binary's clock"
{ ago 6 "$TV" -d "$W/probe" init --role commune --unit 22333 --name probe &&
    ago 6 "$TV" -d "$W/probe" venue add --name probe --category market; } >/dev/null 2>&1 ||
    { echo "SKIP: this binary does not run under libfaketime"; exit 77; }
when=$("$TV" -d "$W/probe" log --json | head -n 1 | json_eval "j['time']")
[[ $when == "$(day 6)"* ]] ||
    { echo "SKIP: libfaketime did not move this binary's clock (an event of $when)"; exit 77; }
rm -rf "$W/probe"

# --- the days before enrolment -----------------------------------------------------------

check "the province exists; the commune is installed and records for days, not enrolled"
ago 10 "$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
ago 6 "$TV" -d "$C" init --role commune --unit 22333 --name "UBND Xã Diên An" >/dev/null 2>&1
V=$(ago 6 "$TV" -d "$C" venue add --name "Chợ Diên An" --category market 2>/dev/null)
# An and Bình at the market together a week ago; An again, and a phone-only visitor, later
scan() { # scan DAYS-AGO PERSON AT [--out]
    ago "$1" "$TV" -d "$C" scan --venue "$V" --person "$2" --at "$3" "${@:4}" >/dev/null 2>&1 ||
        fail "scan of $2 at $3, $1 days ago"
}
scan 6 "$AN" "$(day 7)T08:00:00+07:00"
scan 6 "$BINH" "$(day 7)T08:10:00+07:00"
scan 6 "$AN" "$(day 7)T09:00:00+07:00" --out
scan 6 "$BINH" "$(day 7)T09:00:00+07:00" --out
scan 4 "$AN" "$(day 5)T07:30:00+07:00" # recorded a day later: never ahead of the clock
scan 3 0912345678 "$(day 4)T10:00:00+07:00"
[[ $("$TV" -d "$C" status --json | json_eval "j['cert']") == None ]] ||
    fail "the commune is enrolled already"
C_ID=$(node_id "$C")

check "before enrolment, each person's details are sealed to the commune itself"
"$TV" -d "$C" log --json >"$W/c.log"
# the pseudonyms of An and Bình: the people of the first two scans
read -r AN_REF BINH_REF < <(python3 -c '
import json, sys
scans = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
print(*[e["fields"]["person"] for e in scans if e["type"] == "scan"][:2])
' "$W/c.log")
[[ -n $AN_REF && -n $BINH_REF ]] || fail "no scans of An and Bình at the commune"
python3 - "$W/c.log" "$C_ID" "$AN_REF" "$BINH_REF" <<'EOF' ||
import json, sys
log, me, an, binh = sys.argv[1:]
evs = [json.loads(l) for l in open(log, encoding="utf-8")]
people = {e["fields"]["person"]: e["fields"] for e in evs if e["type"] == "person"}
assert len(people) == 3, people
assert all(p["sealed_to"] == [me] for p in people.values()), people
assert people[an]["name_masked"] == "Nguyễn V** A", people
assert people[binh]["name_masked"] == "Trần T** B", people
EOF
    fail "the commune's person events before enrolment"

# --- enrolment, after the district itself was created ------------------------------------

check "the district is created three days ago and enrolled today, then the commune"
ago 3 "$TV" -d "$D" init --role district --unit 568 --name "TTYT Diên Khánh" >/dev/null 2>&1
enrol "$D" "$P" --scope 22333,22334 2>/dev/null
"$TV" -d "$C" enroll request --out "$W/c.req" >/dev/null 2>&1
"$TV" -d "$D" enroll issue "$W/c.req" --out "$W/c.cert" >/dev/null 2>&1 || fail "issue to the commune"
run "$TV" -d "$C" enroll accept "$W/c.cert" --json
expect_ok "enroll accept at the commune"
[[ $(json_eval "j['resealed']" <"$W/out") == 3 ]] || fail "accept re-sealed $(cat "$W/out")"
not_before=$(json_eval "j['cert']['not_before']" <"$W/out")
[[ $not_before > "$(day 5)" ]] || fail "the certificate starts $not_before: not after the first scans"
P_ID=$(node_id "$P")
"$TV" -d "$C" log --json >"$W/c.log"
python3 - "$W/c.log" "$P_ID" "$AN_REF" <<'EOF' || fail "the re-sealed person events"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
people = [e["fields"] for e in evs if e["type"] == "person"]
assert len(people) == 6, people
resealed = people[3:]
assert all(p["sealed_to"] == [sys.argv[2]] for p in resealed), resealed
an = [p for p in resealed if p["person"] == sys.argv[3]]
assert len(an) == 1 and an[0]["name_masked"] == "Nguyễn V** A", an
assert an[0]["id_masked"] == "**********45" and "birth_year" not in an[0], an
EOF
"$TV" -d "$C" scan --venue "$V" --person 0987654321 >/dev/null 2>&1 || fail "a scan after enrolment"
run "$TV" -d "$C" enroll accept "$W/c.cert" --json
expect_ok "accepting the file again"
[[ $(json_eval "j['resealed']" <"$W/out") == 0 ]] || fail "a second accept re-sealed again"
NC=$(held "$C" "$C_ID")

# --- sync: commune -> district -> province -----------------------------------------------

check "the commune syncs through its district; both hold its whole log"
PP=$(free_port)
PD=$(free_port)
"$TV" -d "$P" peer listen "tcp://127.0.0.1:$PP"
"$TV" -d "$D" peer listen "tcp://127.0.0.1:$PD"
"$TV" -d "$D" peer add "tcp://127.0.0.1:$PP" --parent
"$TV" -d "$C" peer add "tcp://127.0.0.1:$PD" --parent
"$TV" -d "$P" serve >"$W/p.log" 2>&1 &
PIDS+=($!)
"$TV" -d "$D" serve >"$W/d.log" 2>&1 &
PIDS+=($!)
run "$TV" -d "$C" sync --once --timeout 60
expect_ok "sync --once of the commune"
[[ $OUT == "in step with tcp://127.0.0.1:$PD: "*", $NC sent" ]] || fail "the commune's sync: $OUT"
[[ $(held "$D" "$C_ID") -eq $NC ]] ||
    fail "the district holds $(held "$D" "$C_ID") of the commune's $NC events: $(tail -5 "$W/d.log")"
# the district passes it on by itself: wait (bounded) until the province holds it all
for ((i = 0; i < 600; i++)); do
    [[ $(held "$P" "$C_ID") -ge $NC ]] && break
    sleep 0.1
done
[[ $(held "$P" "$C_ID") -eq $NC ]] ||
    fail "the province holds $(held "$P" "$C_ID") of the commune's $NC events: $(tail -5 "$W/p.log")"
grep -qE "[1-9][0-9]* refused" "$W/d.log" "$W/p.log" &&
    fail "batches were refused: $(grep -E "[1-9][0-9]* refused" "$W"/*.log)"
[[ $("$TV" -d "$P" status --json | json_eval "j['events']['scan']") -eq 7 ]] ||
    fail "the province does not count the commune's 7 scans"

# --- the province reveals the people recorded before enrolment ---------------------------

check "the province reveals An, recorded before the commune was enrolled"
run "$TV" -d "$P" person show --ref "$AN_REF" --reveal --reason "truy vết ca F0 số 12" --json
expect_ok "person show --reveal at the province"
[[ $(json_get details name <"$W/out") == "Nguyễn Văn An" ]] || fail "revealed name: $OUT"
[[ $(json_get details cccd <"$W/out") == "001099012345" ]] || fail "revealed CCCD: $OUT"
[[ $(json_get details address <"$W/out") == "Số 1 Phố X, Phường Ba Đình, Hà Nội" ]] ||
    fail "revealed address: $OUT"
[[ $(json_get recorded_by <"$W/out") == "$C_ID" ]] || fail "recorded_by: $OUT"

check "the province traces An and reveals Bình, the contact recorded with them"
run "$TV" -d "$P" trace --ref "$AN_REF" --from "$(day 8)" --reveal --reason "truy vết F1" \
    --format csv
expect_ok "trace --reveal at the province"
python3 - "$W/out" <<'EOF' || fail "the revealed trace: $OUT"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8-sig", newline="")))
got = sorted({(r["Mức (F0/F1/F2)"], r["Họ và tên"], r["Số CCCD"]) for r in rows})
assert got == [("F0", "Nguyễn Văn An", "001099012345"),
               ("F1", "Trần Thị Bình", "079188004321")], got
EOF

# --- expiry still bounds a certificate ---------------------------------------------------

check "what a commune records after its certificate expired is refused"
ago 3 "$TV" -d "$C2" init --role commune --unit 22334 --unlisted --name "UBND Xã Diên Toàn" >/dev/null 2>&1
ago 2 "$TV" -d "$C2" enroll request --out "$W/c2.req" >/dev/null 2>&1
ago 2 "$TV" -d "$D" enroll issue "$W/c2.req" --out "$W/c2.cert" --days 1 >/dev/null 2>&1 ||
    fail "issue to the second commune"
ago 2 "$TV" -d "$C2" enroll accept "$W/c2.cert" >/dev/null 2>&1 || fail "accept at the second commune"
V2=$(ago 2 "$TV" -d "$C2" venue add --name "Chợ Diên Toàn" --category market 2>/dev/null)
ago 2 "$TV" -d "$C2" scan --venue "$V2" --person 0911000001 >/dev/null 2>&1 || fail "scan at C2"
C2_ID=$(node_id "$C2")
N_VALID=$(held "$C2" "$C2_ID")
# today: a new person (its person event) and the scan, a day after the certificate expired
"$TV" -d "$C2" scan --venue "$V2" --person 0911000002 >/dev/null 2>&1 || fail "scan at C2 today"
"$TV" -d "$C2" bundle export --out "$W/c2.bundle" --for "$(node_id "$D")" >/dev/null 2>&1
run "$TV" -d "$D" bundle import "$W/c2.bundle"
expect_rc 1 "import of the second commune's log at the district"
expect_err_has "(origin ${C2_ID:0:16}, seq $((N_VALID + 1))-$((N_VALID + 2))) refused: origin not enrolled under our root" \
    "the batch after expiry"
[[ $(held "$D" "$C2_ID") -eq $N_VALID ]] ||
    fail "the district holds $(held "$D" "$C2_ID") of the second commune's events, not $N_VALID"

echo "PASS"
