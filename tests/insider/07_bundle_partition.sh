#!/usr/bin/env bash
# Insider attack 7: a district's whole store carried to a sibling district on a USB stick.
# `bundle import` obeys the partition rule of sync (PROTOCOL.md 6.5, 7): the sibling keeps
# nothing of the other district's communes' logs, and the import names each refused batch
# by origin and seq with the rule; a node that lacks an origin's certificate refuses it as
# untrusted and takes it at a later import, as sync asks again; the province, which covers
# both districts, accepts the same bundle whole.
#
# Usage: bash tests/insider/07_bundle_partition.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

P=$W/province-56
DA=$W/district-568
DB=$W/district-569
DC=$W/district-570
C1=$W/commune-22333
C2=$W/commune-22334

"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$DA" init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null 2>&1
"$TV" -d "$DB" init --role district --unit 569 --name "TTYT Cam Ranh" >/dev/null 2>&1
"$TV" -d "$DC" init --role district --unit 570 --name "TTYT Ninh Hòa" >/dev/null 2>&1
"$TV" -d "$C1" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$C2" init --role commune --unit 22334 --unlisted --name "Phường Nam Nha Trang" >/dev/null 2>&1
enrol "$DA" "$P" --scope 22333,22334 2>/dev/null
enrol "$DB" "$P" --scope 22400 2>/dev/null
enrol "$C1" "$DA" 2>/dev/null
enrol "$C2" "$DA" 2>/dev/null
id() { "$TV" -d "$1" status --json | json_get node_id; }
P_ID=$(id "$P")
DA_ID=$(id "$DA")
C1_ID=$(id "$C1")
C2_ID=$(id "$C2")

# held DIR ORIGIN: the last seq DIR holds of ORIGIN's log (0 if none), from its frontier
held() {
    "$TV" -d "$1" status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(next((f["seq"] for f in j["frontier"] if f["origin"] == sys.argv[1]), 0))' "$2"
}

check "district A holds its communes' logs, and the province's"
for c in "$C1" "$C2"; do
    V=$("$TV" -d "$c" venue add --name "Chợ" --category market 2>/dev/null)
    for p in 0901000001 0901000002 0901000003; do # one batch per scan
        "$TV" -d "$c" scan --venue "$V" --person "$p" >/dev/null 2>&1 || fail "scan at $c"
    done
    ship "$c" "$DA"
done
ship "$P" "$DA"
N1=$(held "$C1" "$C1_ID")
N2=$(held "$C2" "$C2_ID")
[[ $N1 -gt 0 && $(held "$DA" "$C1_ID") -eq $N1 && $(held "$DA" "$C2_ID") -eq $N2 ]] ||
    fail "district A does not hold its communes' logs"
ship "$P" "$DB" # B holds the province's log: it knows A's certificate
run "$TV" -d "$DA" bundle export --out "$W/a.bundle"
expect_ok "export of district A's whole store"

# refusals FILE ORIGIN_ID: the import's refusal lines of ORIGIN, in file order
refusals() { grep -F "(origin ${2:0:16}, seq " "$1" || true; }
# seqs DIR ORIGIN: "first-last" of each batch of ORIGIN's log held in DIR, in order
seqs() {
    "$TV" -d "$1" bundle export --out "$W/one.bundle" --origin "$2" >/dev/null 2>&1 ||
        fail "export of $2 from $1"
    python3 - "$W/one.bundle" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
pos = 8
while pos + 28 <= len(d):
    kind, n = d[pos + 8], int.from_bytes(d[pos + 16:pos + 20], "big")
    if kind == 2:
        break
    b = d[pos + 28:pos + 28 + n]
    # [header bin, sig, body]: header = [1, origin, first_seq, count, ...]
    i = 1
    t = b[i]
    i += 2 if t == 0xc4 else 3  # bin8 / bin16 length prefix
    h = b[i:]
    j = 1 + 1 + 2 + 32  # array, version, bin8 origin
    def uint(k):
        c = h[k]
        if c < 0x80: return c, k + 1
        size = {0xcc: 1, 0xcd: 2, 0xce: 4, 0xcf: 8}[c]
        return int.from_bytes(h[k + 1:k + 1 + size], "big"), k + 1 + size
    first, j = uint(j)
    count, j = uint(j)
    print(f"{first}-{first + count - 1}")
    pos += 28 + n
PY
}
RULE="not this node's to hold: a node keeps only the logs of its partition (its own subtree's and those of the nodes above commune), as sync does."

check "sibling district B imports it: the communes' batches are refused by origin and seq, none kept"
before=$(status_get "$DB" events total)
run "$TV" -d "$DB" bundle import "$W/a.bundle"
expect_rc 1 "import of A's bundle at B"
for c in "$C1_ID" "$C2_ID"; do
    [[ $(held "$DB" "$c") -eq 0 ]] || fail "district B holds commune ${c:0:16}'s log"
    mapfile -t got < <(refusals "$W/err" "$c")
    mapfile -t want < <(seqs "$DA" "$c")
    [[ ${#got[@]} -eq ${#want[@]} && ${#want[@]} -ge 3 ]] ||
        fail "B's refusals of ${c:0:16}: ${got[*]-} (its batches: ${want[*]})"
    for k in "${!want[@]}"; do
        [[ ${got[k]} == "truyvet: $W/a.bundle: record "*" (origin ${c:0:16}, seq ${want[k]}) refused: $RULE" ]] ||
            fail "B's refusal of ${c:0:16} seq ${want[k]}: '${got[k]}'"
    done
done
[[ $(held "$DB" "$DA_ID") -eq $(held "$DA" "$DA_ID") ]] ||
    fail "district B did not take district A's own log (above commune: in its partition)"
NREF=$(grep -c " refused: " "$W/err")
[[ $NREF -eq $(($(refusals "$W/err" "$C1_ID" | wc -l) + $(refusals "$W/err" "$C2_ID" | wc -l))) ]] ||
    fail "B refused something else than the communes' batches: $ERR"
grep -qF "$NREF refused (0 after a gap)" "$W/err" || fail "B's summary: $ERR"
run "$TV" -d "$DB" log --json
grep -qF "\"origin\":\"$C1_ID\"" "$W/out" && fail "B's log shows commune 1's events"
grep -qF "\"origin\":\"$C2_ID\"" "$W/out" && fail "B's log shows commune 2's events"
[[ $(status_get "$DB" events total) -eq $((before + $(held "$DA" "$DA_ID"))) ]] ||
    fail "B's event count is not what it held plus A's own log"

check "a district without the province's log refuses A's log as untrusted, then takes it later"
enrol "$DC" "$P" --scope 22500 2>/dev/null
run "$TV" -d "$DC" bundle import "$W/a.bundle"
expect_rc 1 "import of A's bundle at C before it holds the province's log"
refusals "$W/err" "$DA_ID" | head -n 1 | grep -qF "refused: origin not enrolled under our root (certificate unknown): its certificate is not here yet (it comes in its issuer's log); import the bundle again once that log has arrived; rule T7: every certificate from the origin up to the root is held, unrevoked, unexpired." ||
    fail "C's refusal of A's log: $ERR"
[[ $(held "$DC" "$DA_ID") -eq 0 && $(held "$DC" "$P_ID") -eq $(held "$DA" "$P_ID") ]] ||
    fail "C holds A's log, or not the province's"
run "$TV" -d "$DC" bundle import "$W/a.bundle"
expect_rc 1 "second import at C"
[[ $(held "$DC" "$DA_ID") -eq $(held "$DA" "$DA_ID") ]] || fail "C did not take A's log the second time"
[[ $(held "$DC" "$C1_ID") -eq 0 && $(held "$DC" "$C2_ID") -eq 0 ]] || fail "C holds A's communes"
[[ $(refusals "$W/err" "$C1_ID" | head -n 1) == *" refused: $RULE" ]] ||
    fail "C's second import: $ERR"

check "the province, which covers both districts, accepts the same bundle"
run "$TV" -d "$P" bundle import "$W/a.bundle"
expect_ok "import of A's bundle at the province"
grep -q " refused: " "$W/err" && fail "the province refused something: $ERR"
[[ $(held "$P" "$C1_ID") -eq $N1 && $(held "$P" "$C2_ID") -eq $N2 &&
    $(held "$P" "$DA_ID") -eq $(held "$DA" "$DA_ID") ]] || fail "the province lacks A's logs"
echo "PASS"
