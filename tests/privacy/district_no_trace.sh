#!/usr/bin/env bash
# Issue 15, pseudonyms scoped to the commune: a district without the health flag that holds
# three communes' records cannot link them, and holds no key that reproduces any
# pseudonym; the province (a health node) traces the same person across communes.
#
# The tree: province 56 (the root, health flag), district 568 without it, its communes
# 22333, 22334 and 22335, each enrolled by the district, so each gets its pseudonym key
# from the province in a key_grant once the district's log has reached the province. X
# visits a café in 22333 (with Y) and a market in 22334 (with Z); W is at 22335. Every log
# travels by bundle, as on a USB stick.
#
# Q has a personal card issued at 22333 and shows it at 22334's market with X: the scan
# there carries 22333's pseudonym, and the province links it through 22333's person record.
#
# What the district, or a thief of its disk, tries:
#   - `trace --person` (it cannot compute anyone's pseudonym: refused, exact message);
#   - `trace --ref` with X's pseudonym in 22333: it finds Y only, never Z at 22334, since
#     X is another pseudonym there;
#   - every 32-byte window of every file of its directory, raw or as 64 hex digits, tried
#     as a key: none gives X's or W's pseudonym of any commune, nor X's province-wide one.
#     The same search finds the commune's and the province's keys as the key reader
#     prints them, so the search itself works (their own files hold them encrypted only).
#
# Usage: bash tests/privacy/district_no_trace.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v python3 >/dev/null || {
    echo "python3 is needed to search the files" >&2
    exit 77
}

P=$W/tinh-56
D=$W/huyen-568
A=$W/xa-22333
B=$W/xa-22334
C=$W/xa-22335
DAY=2021-10-06
X=0901000000 # visits 22333 and 22334
Y=0901000001 # with X at 22333
Z=0901000002 # with X at 22334
V=0901000003 # at 22335
Q=0901000004 # a card from 22333, shown at 22334 with X

KEYS="$(dirname "$TV")/privacy_keys" # prints a node's secrets (tests/privacy/keys.c)
[[ -x $KEYS ]] || {
    echo "no key reader at $KEYS (build the privacy_keys target)" >&2
    exit 77
}
# keyof DIR FIELD: one of the node's secrets (kind, tracing, unit, seed)
keyof() { "$KEYS" "$1" | awk -v f="$2" '$1 == f {print $2}'; }

check "a health province, a district without the health flag, three communes it enrols"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$D" init --role district --unit 568 --name "UBND Thành phố Nha Trang" >/dev/null 2>&1
for c in "$A:22333" "$B:22334" "$C:22335"; do
    "$TV" -d "${c%%:*}" init --role commune --unit "${c##*:}" --unlisted --name "Xã ${c##*:}" >/dev/null 2>&1
done
enrol "$D" "$P" --scope 22333,22334,22335,22336
for c in "$A" "$B" "$C"; do enrol "$c" "$D" 2>/dev/null; done
for c in "$D" "$A" "$B" "$C"; do
    [[ $(keyof "$c" kind) != 3 ]] || fail "$c holds the province key"
done
[[ $(keyof "$D" kind) == 0 ]] || fail "the district holds a key: $("$KEYS" "$D")"
[[ $(status_get "$D" pseudonym_key) == none ]] || fail "status: the district's pseudonym key"
[[ $(status_get "$A" pseudonym_key) == local ]] || fail "status: a commune waiting for its key"

# The district's own try at a key: it grants commune 22333 a key it knows (its key stolen
# and its node patched, as tests/insider/forge.c does), before the province's grant
# arrives. The commune refuses the batch (S1: a key_grant comes from a health node covering
# the unit) and keeps its own local key; an out-of-scope health node is refused alike
# (store_pmap_test). The forged log is a copy's, so the district's real log goes on.
check "a key grant from the district is refused: the commune keeps its own key"
FORGE=$(dirname "$TV")/insider_forge
[[ -x $FORGE ]] || {
    echo "no forge program at $FORGE (build the insider_forge target)" >&2
    exit 77
}
KNOWN=$(printf '42%.0s' {1..32})
cp -a "$D" "$W/d-forged"
"$FORGE" "$W/d-forged" grant --subject "$(status_get "$A" node_id)" --unit 22333 --key "$KNOWN"     >/dev/null 2>"$W/forge.err" || fail "forge: $(cat "$W/forge.err")"
before=$(keyof "$A" tracing)
"$TV" -d "$W/d-forged" bundle export --out "$W/forged.bundle"     --for "$(status_get "$A" node_id)" >/dev/null 2>&1 || fail "export of the forged log"
run "$TV" -d "$A" bundle import "$W/forged.bundle"
expect_err_has "S1: every event lies within its origin's scope" "import of the forged grant"
[[ $(keyof "$A" tracing) == "$before" ]] || fail "the commune took the district's key"
"$KEYS" "$A" | grep -q "$KNOWN" && fail "the commune holds the district's key"
[[ $(status_get "$A" pseudonym_key) == local ]] || fail "the commune's key after the forged grant"

check "the province grants each commune its key once the district's log reaches it"
ship "$D" "$P"
"$TV" -d "$P" log --json >"$W/province.log"
grants=$(grep -c '"type":"key_grant"' "$W/province.log") || true
[[ $grants -eq 3 ]] || fail "the province wrote $grants key grants, not 3"
ship "$P" "$D"
for c in "$A" "$B" "$C"; do
    ship "$D" "$c"
    [[ $(keyof "$c" kind) == 2 ]] || fail "$c has no commune key: $("$KEYS" "$c")"
done
[[ $(keyof "$A" tracing) == $(keyof "$B" tracing) ]] && fail "two communes share a key"
[[ $(status_get "$A" pseudonym_key) == commune ]] || fail "status: the commune's pseudonym key"
"$TV" -d "$A" status | grep -qx "pseudonyms commune key of 22333" || fail "status (text) of the key"

# visit DIR VENUE PHONE IN OUT: a check-in and a check-out on $DAY
visit() {
    "$TV" -d "$1" scan --venue "$2" --person "$3" --at "${DAY}T$4:00+07:00" >/dev/null 2>&1 ||
        fail "scan $3 at $1"
    "$TV" -d "$1" scan --venue "$2" --person "$3" --out --at "${DAY}T$5:00+07:00" >/dev/null 2>&1 ||
        fail "scan out $3 at $1"
}
VA=$("$TV" -d "$A" venue add --name "Quán cà phê Biển" --category cafe 2>/dev/null)
VB=$("$TV" -d "$B" venue add --name "Chợ Đầm" --category market 2>/dev/null)
VC=$("$TV" -d "$C" venue add --name "Nhà văn hóa" --category other 2>/dev/null)
visit "$A" "$VA" "$X" 08:00 09:00
visit "$A" "$VA" "$Y" 08:00 09:00
visit "$B" "$VB" "$X" 10:00 11:00
visit "$B" "$VB" "$Z" 10:00 11:00
visit "$C" "$VC" "$V" 10:00 11:00
# Q has a personal card from 22333 (its pseudonym there) and shows it at 22334's market
CARD=$("$TV" -d "$A" person card --person "$Q" --out "$W/card.png" 2>/dev/null) || fail "person card"
ship "$A" "$D"
ship "$D" "$B" # the card's issuer's certificate, for the gate to verify it
visit "$B" "$VB" "$CARD" 10:00 11:00
for c in "$A" "$B" "$C"; do ship "$c" "$D"; done
ship "$D" "$P"

# ref_of DIR PHONE: the pseudonym DIR computes for PHONE (the case ref of its trace)
ref_of() {
    "$TV" -d "$1" trace --person "$2" --from "$DAY" --json 2>/dev/null | json_get case ref ||
        fail "trace at $1"
}
XA=$(ref_of "$A" "$X")
XB=$(ref_of "$B" "$X")
XP=$(ref_of "$P" "$X")
VCREF=$(ref_of "$C" "$V")
[[ $XA != "$XB" && $XA != "$XP" && $XB != "$XP" ]] || fail "X has one pseudonym in two spaces"
"$TV" -d "$D" log --json >"$W/district.log"
for r in "$XA" "$XB" "$VCREF"; do
    grep -q "\"person\":\"$r\"" "$W/district.log" || fail "the district lacks the scans of $r"
done

# contacts DIR ARGS...: "LEVEL PERSON" of `trace --json`, sorted
contacts() {
    local dir=$1
    shift
    "$TV" -d "$dir" trace --from "$DAY" --json "$@" >"$W/trace.json" 2>/dev/null ||
        fail "trace at $dir $*"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
print(" ".join(sorted(c["level"] + ":" + c["person"] for c in r["contacts"])))
' "$W/trace.json"
}

check "the province traces X across both communes, and links Q's card from 22333 at 22334"
[[ $(contacts "$P" --person "$X") == "F1:09******01 F1:09******02 F1:09******04" ]] ||
    fail "the province's contacts of X: $(contacts "$P" --person "$X")"
python3 - "$W/trace.json" <<'EOF' || fail "the province's visits of X: $(cat "$W/trace.json")"
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert sorted(v["unit"] for v in r["visits"]) == ["22333", "22334"], r["visits"]
EOF

check "the district cannot compute a pseudonym: trace --person is refused"
run "$TV" -d "$D" trace --person "$X" --from "$DAY"
expect_refused 1 "trace --person at the district"
[[ $ERR == "truyvet: trace: this node holds no pseudonym key, so it cannot compute anyone's pseudonym: a district without the health flag can neither resolve --person nor issue personal cards (the health authority can). Give --ref HEX to name a pseudonym." ]] ||
    fail "the message: $ERR"
run "$TV" -d "$D" person card --person "$X" --out "$W/card.png"
expect_refused 1 "person card at the district"
expect_err_has "cannot issue personal cards" "person card at the district"

check "with X's pseudonym in 22333 the district finds 22333's contact only"
[[ $(contacts "$D" --ref "$XA") == "F1:09******01" ]] ||
    fail "the district's contacts of X at 22333: $(contacts "$D" --ref "$XA")"
[[ $(contacts "$D" --ref "$XB") == "F1:09******02 F1:09******04" ]] ||
    fail "the district's contacts of X at 22334: $(contacts "$D" --ref "$XB")"
[[ $(contacts "$D" --ref "$XP") == "" ]] || fail "the district links the province-wide pseudonym"

# keys_in DIR: the keys found in DIR's files (every 32-byte window, raw or as 64 hex digits)
# that give one of the pseudonyms of X or V, as "FILE OFFSET WHICH" lines
keys_in() {
    python3 - "$1" "$X" "$V" "$XA" "$XB" "$XP" "$VCREF" <<'EOF'
import hashlib, os, re, sys
root, x, v = sys.argv[1:4]
refs = {bytes.fromhex(r): r for r in sys.argv[4:]}
ids = [("phone:" + x).encode(), ("phone:" + v).encode()]
hexwin = re.compile(rb"(?=([0-9a-f]{64}))")
for dirpath, _, files in os.walk(root):
    for name in files:
        path = os.path.join(dirpath, name)
        data = open(path, "rb").read()
        keys = {}
        for i in range(0, max(0, len(data) - 31)):
            keys.setdefault(data[i:i + 32], i)
        for m in hexwin.finditer(data):
            keys.setdefault(bytes.fromhex(m.group(1).decode()), m.start())
        for k, off in keys.items():
            for m in ids:
                r = hashlib.blake2b(m, digest_size=16, key=k).digest()
                if r in refs:
                    print(os.path.relpath(path, root), off, refs[r])
EOF
}

check "the search finds the key where it is (the keys as the key reader prints them); the
commune's and the province's own files hold them encrypted only"
mkdir -p "$W/control"
"$KEYS" "$A" >"$W/control/commune.keys" && "$KEYS" "$P" >"$W/control/province.keys" ||
    fail "reading the keys"
grep -q "$XA" <<<"$(keys_in "$W/control")" || fail "the commune's key is not found as reproducing X's ref"
grep -q "$XP" <<<"$(keys_in "$W/control")" || fail "the province key is not found"
[[ -z $(keys_in "$A") ]] || fail "the commune's files hold its key in clear: $(keys_in "$A")"
[[ -z $(keys_in "$P") ]] || fail "the province's files hold its key in clear: $(keys_in "$P")"

check "no file of the district holds a key that reproduces any pseudonym"
found=$(keys_in "$D")
[[ -z $found ]] || fail "the district holds pseudonym keys: $found"

check "a visit recorded before the commune's key arrived is linked at the province (the sealed
details are bound to their record's ref, so the province maps a ref of the commune's local key)"
E=$W/xa-22336
"$TV" -d "$E" init --role commune --unit 22336 --unlisted --name "Xã 22336" >/dev/null 2>&1
enrol "$E" "$D" 2>/dev/null
[[ $(keyof "$E" kind) == 1 ]] || fail "the new commune has a key already: $("$KEYS" "$E")"
VE=$("$TV" -d "$E" venue add --name "Trạm y tế" --category other 2>/dev/null)
visit "$E" "$VE" "$X" 13:00 14:00
ship "$E" "$D"
ship "$D" "$P"
contacts "$P" --person "$X" >/dev/null
python3 - "$W/trace.json" <<'EOF' || fail "the province's visits of X: $(cat "$W/trace.json")"
import json, sys
r = json.load(open(sys.argv[1], encoding="utf-8"))
assert sorted(v["unit"] for v in r["visits"]) == ["22333", "22334", "22336"], r["visits"]
EOF

echo "privacy_district_no_trace: all checks passed"
