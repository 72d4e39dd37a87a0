#!/usr/bin/env bash
# Privacy, masks: what a commune stores and shows of a person's number is what a guard needs
# to tell two people apart and no more — a phone's first and last two digits, an ID
# number's last two, no birth year beside it — so that whoever holds the commune's files
# and pseudonym key has 10^6 to 10^8 numbers to try per person, not 10^4 (bench/masks).
#
# A commune records people at its gate (CCCD, BHYT, CMND, a phone, personal cards), with
# records an older version wrote among them (wider masks, a birth year; forged with the
# node's own key by tests/insider/forge.c). Then, as a thief with a copy of its directory:
# every file's bytes hold no wider mask and no birth year of anyone the gate recorded; as a
# clerk: the gate, `venue visits` and `person show` show only the narrow forms, the older
# records' too; and once the commune is enrolled, the re-sealed records carry the narrow
# mask and no birth year.
#
# Usage: bash tests/privacy/masks.sh /path/to/truyvet   (insider_forge built next to it)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
FORGE=$(dirname "$TV")/insider_forge
if [[ ! -x $FORGE ]]; then
    echo "SKIP: no insider_forge next to $TV (build the insider_forge target)"
    exit 77
fi

P=$W/tinh-56
C=$W/xa-22333
UNIT=22333
DAY=2021-10-06
# born 1999, 1985 and 1988: their years as a person event's key 5 (msgpack 05 cd yyyy)
AN='001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021'
BHYT='HS4010123456789|5472e1baa76e205468e1bb8b2042c3ad6368204e67e1bb8d63|15/03/1985|2|5468c3b46e20c490c3b46e67|01 - 001|01/01/2021|31/12/2021|01/01/2021|56|4e677579e1bb856e2056c4836e20426f|4|01/01/2026|ab12|$'
BINH='079188004321||Trần Thị Bình|02021988|Nữ|Số 9 Đường Y, Diên An, Diên Khánh|01012022'
# recorded by an older version: masked 056*******46 with birth year 1970
CUONG='056070001246||Lê Văn Cường|01011970|Nam|Thôn 1, Diên An|01012022'

check "a province, and a commune not enrolled yet (it seals to itself) with a venue"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit "$UNIT" --name "Xã Diên An" >/dev/null 2>&1
V=$("$TV" -d "$C" venue add --name "Chợ Diên An" --category market 2>/dev/null)
[[ -n $V ]] || fail "venue add"

check "records an older version wrote: wider masks, a birth year, a personal card"
run "$FORGE" "$C" person --unit "$UNIT" --person 056070001246 --masked '056*******46' \
    --name 'Lê V** C' --birth-year 1970
expect_ok "forge an old person event"
run "$FORGE" "$C" scan --venue "$V" --unit "$UNIT" --person 056070001246 --at "${DAY}T08:00:00+07:00"
expect_ok "forge a scan of that person"
run "$FORGE" "$C" scan --venue "$V" --unit "$UNIT" --person 0912345678 --masked '09****5678' \
    --at "${DAY}T09:00:00+07:00"
expect_ok "forge a scan carrying an old mask"
run "$FORGE" "$C" card --person 0933334444 --display 'Phạm V** D · 09****4444' --birth-year 1960
expect_ok "forge an old personal card"
OLD_CARD=$OUT

check "a personal card issued now carries birth year 0 and the narrow display"
run "$TV" -d "$C" person card --person "$BINH" --out "$W/card.svg"
expect_ok "person card"
CARD=$OUT
[[ $CARD == *":Trần T** B · **********21" ]] || fail "the card's display: $CARD"
python3 - "$CARD" <<'EOF' || fail "the card's code holds a birth year"
import base64, sys
body = base64.b32decode(sys.argv[1].split(":")[1])
assert len(body) == 90 and body[16:18] == b"\0\0", body[16:18]
EOF

check "the gate answers with the narrow forms, for old records and old cards too"
printf '%s\n' "$AN" "$BHYT" 123456789 0987654321 "$CARD" "$CUONG" "$OLD_CARD" >"$W/lines"
run "$TV" -d "$C" station --venue "$V" <"$W/lines"
expect_ok "station"
mapfile -t A <"$W/out"
((${#A[@]} == 7)) || fail "7 answers expected: $OUT"
[[ ${A[0]} == "OK  Nguyễn V** A · **********45  đã vào "* ]] || fail "CCCD: ${A[0]}"
[[ ${A[1]} == "OK  Trần T** B** N · *************89  đã vào "* ]] || fail "BHYT: ${A[1]}"
[[ ${A[2]} == "OK  *******89  đã vào "* ]] || fail "CMND: ${A[2]}"
[[ ${A[3]} == "OK  09******21  đã vào "* ]] || fail "phone: ${A[3]}"
[[ ${A[4]} == "OK  Trần T** B · **********21  đã vào "* ]] || fail "card: ${A[4]}"
[[ ${A[5]} == "OK  Lê V** C · **********46  đã vào "* ]] || fail "old record: ${A[5]}"
[[ ${A[6]} == "OK  Phạm V** D · 09******44  đã vào "* ]] || fail "old card: ${A[6]}"

check "venue visits and person show narrow what older versions stored; no birth year"
run "$TV" -d "$C" venue visits "$V" --date "$DAY" --json
expect_ok "venue visits"
python3 - "$W/out" <<'EOF' || fail "venue visits shows: $OUT"
import json, sys
got = sorted(json.loads(l)["person"] for l in open(sys.argv[1], encoding="utf-8"))
assert got == ["09******78", "Lê V** C · **********46"], got
EOF
run "$TV" -d "$C" person show --person 056070001246
expect_ok "person show"
grep -qx "person    Lê V\*\* C · \*\{10\}46" "$W/out" || fail "person show: $OUT"
grep -q "^born" "$W/out" && fail "person show gives a birth year: $OUT"
run "$TV" -d "$C" person show --person 056070001246 --json
expect_ok "person show --json"
python3 - "$W/out" <<'EOF' || fail "person show --json: $OUT"
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
assert j["person"] == "Lê V** C · **********46" and "birth_year" not in j, j
EOF

# thief_scan DIR: every file's bytes under DIR, as a thief with a copy would read them:
# no wider mask and no birth year of anyone the gate recorded; the older version's own
# record is found (the search sees what is there).
thief_scan() {
    python3 - "$1" <<'EOF'
import os, sys
data = {}
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        p = os.path.join(root, f)
        data[p] = open(p, "rb").read()
def where(needle):
    return [p for p, b in data.items() if needle in b]
year = lambda y: b"\x05\xcd" + y.to_bytes(2, "big")  # person key 5, msgpack uint16
wide = ["001*******45", "HS***********89", "12*****89", "09****4321", "079*******21",
        "09****4444", "*345", "*789", "*321", "*4444"]
bad = [(w, where(w.encode())) for w in wide] + \
      [(y, where(year(y))) for y in (1999, 1985, 1988, 1960)]
bad = [(w, ps) for w, ps in bad if ps]
assert not bad, "found in the files: %r" % bad
for sure in (b"056*******46", year(1970), "Nguyễn V** A".encode(), b"**********45",
             b"*************89", b"*******89", b"09******21", "Phạm V** D · 09******44".encode()):
    assert where(sure), "the search does not see %r" % sure
EOF
}

check "a copy of the commune's directory: no wider mask and no birth year in any file"
thief_scan "$C" || fail "the commune's files"
"$TV" -d "$C" log --json >"$W/c.log"
python3 - "$W/c.log" <<'EOF' || fail "the log's person events"
import json, sys
people = [json.loads(l)["fields"] for l in open(sys.argv[1], encoding="utf-8")]
people = [p for p in people if "id_masked" in p]
with_year = [p for p in people if "birth_year" in p]
assert len(people) == 6, people  # Cường (old), An, the BHYT card, CMND, phone, Bình
assert [p["id_masked"] for p in with_year] == ["056*******46"], with_year
EOF

check "enrolled, the commune re-seals: the new records carry the narrow mask, no birth year"
"$TV" -d "$C" enroll request --out "$W/c.req" >/dev/null 2>&1
"$TV" -d "$P" enroll issue "$W/c.req" --out "$W/c.cert" >/dev/null 2>&1 || fail "enroll issue"
run "$TV" -d "$C" enroll accept "$W/c.cert" --json
expect_ok "enroll accept"
[[ $(json_get resealed <"$W/out") == 6 ]] || fail "re-sealed: $OUT"
"$TV" -d "$C" log --json >"$W/c.log"
python3 - "$W/c.log" <<'EOF' || fail "the re-sealed person events"
import json, sys
people = [json.loads(l)["fields"] for l in open(sys.argv[1], encoding="utf-8")]
people = [p for p in people if "id_masked" in p]
resealed = people[6:]
assert len(resealed) == 6, people
import re
assert all("birth_year" not in p and re.fullmatch(r"(0[0-9])?\*+[0-9]{2}", p["id_masked"])
           for p in resealed), resealed
cuong = [p for p in resealed if p.get("name_masked") == "Lê V** C"]
assert len(cuong) == 1 and cuong[0]["id_masked"] == "**********46", cuong
EOF
thief_scan "$C" || fail "the commune's files after re-sealing"

echo "PASS"
