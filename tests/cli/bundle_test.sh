#!/usr/bin/env bash
# Integration test of `truyvet bundle`: a commune's log carried on a (sometimes damaged)
# USB stick. It drives the real binary and reads the bundle file itself, following
# PROTOCOL.md, to know where each record lies.
#
# Receiving nodes: a node applies batches of another origin only when that origin's
# certificate chains to its root. Right after the commune's `init`, before it records
# anything, a province (the root), a district enrolled under it for the commune's unit,
# and the commune enrolled under that district are set up with `enroll request/issue/
# accept`. The district's directory, copied once it has issued the commune's certificate,
# is the template of every receiver: a real district that trusts the commune and already
# holds an event of its own (that certificate). So only the commune's origin is compared
# between sender and receiver, and counts are taken as after minus before. A district
# that is not enrolled, and so does not trust the commune, must refuse every batch and
# say why.
#
# Usage: bash tests/cli/bundle_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

NODE=$W/xa-22333 # the commune
PROV=$W/tinh-56 # the province, the root of trust
DIST=$W/huyen-568 # the district above the commune
TEMPLATE=$W/huyen-568-template # the district as it was once it enrolled the commune
mkdir -p "$W/stick"
BUNDLE=$W/stick/xa-22333.bundle

# --- helpers --------------------------------------------------------------------------
# (These add to the helpers of lib.sh: check, fail, run, expect_*, json_get, status_get.)

# expect_json KEY WANT WHAT: the --json summary on stdout has KEY = WANT.
expect_json() {
    local got
    got=$(json_get "$1" <"$W/out")
    [[ $got == "$2" ]] || fail "$3: $1 is $got, expected $2"
}

# held DIR: the last seq DIR holds of the commune's log (0 if none), from its frontier.
held() {
    "$TV" -d "$1" status --json | python3 -c '
import json, sys
j = json.load(sys.stdin)
print(next((f["seq"] for f in j["frontier"] if f["origin"] == sys.argv[1]), 0))
' "$A_ID"
}

# enrol CHILD PARENT [issue options...]: enrols CHILD under PARENT with request and
# certificate files.
enrol() {
    local child=$1 parent=$2 name
    shift 2
    name=$(basename "$child")
    run "$TV" -d "$child" enroll request --out "$W/$name.req"
    expect_rc 0 "enroll request of $name"
    run "$TV" -d "$parent" enroll issue "$W/$name.req" --out "$W/$name.cert" "$@"
    expect_rc 0 "enroll issue for $name"
    run "$TV" -d "$child" enroll accept "$W/$name.cert"
    expect_rc 0 "enroll accept of $name"
}

# receiver NAME: a fresh copy of the district that enrolled the commune: it trusts the
# commune and holds its own certificate event, but none of the commune's events.
receiver() {
    rm -rf "${W:?}/$1"
    cp -a "$TEMPLATE" "$W/$1"
    printf '%s' "$W/$1"
}

# log_is_prefix DIR SEQ: of the commune's origin, the node in DIR holds exactly the
# commune's events with seq <= SEQ (SEQ = all: every event), field for field; of every
# other origin, exactly what the receivers' template held.
log_is_prefix() {
    "$TV" -d "$NODE" log --json >"$W/want" || fail "log --json of the commune failed"
    "$TV" -d "$1" log --json >"$W/got" || fail "log --json of $1 failed"
    python3 - "$W/want" "$W/got" "$2" "$A_ID" "$W/template.log" <<'EOF' ||
import json, sys
want_path, got_path, upto, origin, template_path = sys.argv[1:]
def read(path):
    return [json.loads(l) for l in open(path, encoding="utf-8")]
want = [e for e in read(want_path) if e["origin"] == origin]
got_all = read(got_path)
got = [e for e in got_all if e["origin"] == origin]
others = [e for e in got_all if e["origin"] != origin]
if others != read(template_path):
    sys.exit(f"{len(others)} events of other origins, not the {len(read(template_path))} "
             "the receiver started with")
if not want:
    sys.exit("the commune's log holds nothing of its own origin")
if upto != "all":
    want = [e for e in want if e["seq"] <= int(upto)]
if [e["id"] for e in got] != [e["id"] for e in want]:
    sys.exit(f"holds {len(got)} events, expected {len(want)}; "
             f"first difference near {next((a['id'] for a, b in zip(want, got) if a != b), '-')}")
if got != want:
    sys.exit("the same ids, but different fields")
EOF
        fail "$1: not the commune's events up to $2"
}

expect_verified() { # expect_verified DIR
    run "$TV" -d "$1" verify
    expect_rc 0 "verify of $1"
}

# layout FILE: checks the bundle byte for byte against PROTOCOL.md (magic, marker, both
# CRC-32s, numbering, end record) and prints one line per batch record:
# NUMBER START END FIRST_SEQ LAST_SEQ ORIGIN (START/END: the record's byte range).
layout() {
    python3 - "$1" <<'EOF'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"TVBUNDL1", "no magic"
MARKER = b"\x89TVREC\r\n"

def uint(p, i):  # a msgpack unsigned integer
    t = p[i]
    if t < 0x80:
        return t, i + 1
    n = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[t]
    return int.from_bytes(p[i + 1:i + 1 + n], "big"), i + 1 + n

def binary(p, i):  # a msgpack bin
    n = {0xC4: 1, 0xC5: 2, 0xC6: 4}[p[i]]
    size = int.from_bytes(p[i + 1:i + 1 + n], "big")
    return p[i + 1 + n:i + 1 + n + size], i + 1 + n + size

pos, number = 8, 0
while True:
    h = b[pos:pos + 28]
    assert h[:8] == MARKER, f"no marker at {pos}"
    kind, reserved, num, length, crc, hcrc = struct.unpack(">B3sIIII", h[8:])
    assert reserved == b"\0\0\0" and hcrc == zlib.crc32(h[:24]), f"bad header at {pos}"
    payload = b[pos + 28:pos + 28 + length]
    assert len(payload) == length and crc == zlib.crc32(payload), f"bad payload at {pos}"
    if kind == 2:
        assert num == number and length == 0 and pos + 28 == len(b), "bad end record"
        break
    assert kind == 1 and num == number + 1, f"bad kind or number at {pos}"
    number = num
    assert payload[0] == 0x93, "a batch is a 3-element array"
    header, _ = binary(payload, 1)
    assert header[0] == 0x98 and header[1] == 1, "a version-1 header of 8 fields"
    origin, i = binary(header, 2)
    first, i = uint(header, i)
    count, i = uint(header, i)
    print(num, pos, pos + 28 + length, first, first + count - 1, origin.hex())
    pos += 28 + length
EOF
}

# --- a commune enrolled under a district and a province -------------------------------

check "a commune, then a province, a district enrolled under it for unit 22333," \
    "and the commune enrolled under the district"
run "$TV" -d "$NODE" init --role commune --unit 22333 --name "UBND Phường Vĩnh Hòa"
expect_rc 0 "init"
A_ID=$(cat "$W/out")
run "$TV" -d "$PROV" init --role province --unit 56 --name "Sở Y tế Khánh Hòa"
expect_rc 0 "init of the province"
P_ID=$(cat "$W/out")
run "$TV" -d "$DIST" init --role district --unit 568 --name "TTYT Nha Trang"
expect_rc 0 "init of the district"
D_ID=$(cat "$W/out")
enrol "$DIST" "$PROV" --scope 22333
enrol "$NODE" "$DIST"
[[ $(status_get "$NODE" root) == "$P_ID" ]] || fail "the commune does not trust the province"
[[ $(status_get "$NODE" cert issuer) == "$D_ID" ]] ||
    fail "the district did not issue the commune's certificate"
[[ $(status_get "$NODE" events total) -eq 0 ]] || fail "the commune holds events before recording"
[[ $(status_get "$DIST" root) == "$P_ID" ]] || fail "the district does not trust the province"
cp -a "$DIST" "$TEMPLATE"
"$TV" -d "$TEMPLATE" log --json >"$W/template.log" || fail "log --json of the district failed"
python3 - "$W/template.log" "$A_ID" <<'EOF' ||
import json, sys
events = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert any(e["type"] == "cert" and e["fields"]["subject"] == sys.argv[2] for e in events)
assert all(e["origin"] != sys.argv[2] for e in events)
EOF
    fail "the district's log does not hold the commune's certificate"
[[ $(held "$TEMPLATE") -eq 0 ]] || fail "the district already holds events of the commune"

# --- a commune with venues and a few thousand scans ---------------------------------------

check "the commune records venues and 3,500 scans (several batches)"
VENUES=()
for name in "Chợ Vĩnh Hải" "Trường THCS Âu Cơ" "Quán cà phê Hương Sen"; do
    run "$TV" -d "$NODE" venue add --name "$name" --category market
    expect_rc 0 "venue add $name"
    VENUES+=("$(cat "$W/out")")
done
python3 - "$W/scans1.csv" "$W/scans2.csv" "${VENUES[@]}" <<'EOF'
import sys
out1, out2, *venues = sys.argv[1:]
for path, n, day in ((out1, 2500, 6), (out2, 1000, 7)):
    with open(path, "w") as f:
        f.write("venue,person,direction,time\n")
        for i in range(n):
            f.write(f"{venues[i % 3]},09{12000000 + i:08d},{'in' if i % 2 == 0 else 'out'},"
                    f"2021-10-{day:02d}T{7 + i // 300:02d}:{i % 60:02d}:00+07:00\n")
EOF
for f in scans1 scans2; do
    run "$TV" -d "$NODE" import --csv "$W/$f.csv"
    expect_rc 0 "import --csv $f"
done
# a venue edited (closing time), a controller and a reminder: every kind of venue event
# must travel, or the commune's log would stop at the first one a peer refuses
for cmd in "edit ${VENUES[0]} --closes 18:00" "controller add ${VENUES[1]} 0905111222" \
    "remind ${VENUES[2]} --note Nhắc"; do
    # shellcheck disable=SC2086 # the command's words
    run "$TV" -d "$NODE" venue $cmd
    expect_rc 0 "venue $cmd"
done
EVENTS=$(status_get "$NODE" events total)
BATCHES=$(status_get "$NODE" batches)
# 3 venues, 3,500 scans, a person record for each of the 2,500 people (the second file's
# people are all in the first), and the 3 venue events above
[[ $EVENTS -eq 6006 ]] || fail "the commune holds $EVENTS events, expected 6006"
[[ $(status_get "$NODE" events person) -eq 2500 ]] || fail "the commune holds no 2,500 people"
[[ $(held "$NODE") -eq $EVENTS ]] || fail "the commune's events are not all of its own origin"
[[ $BATCHES -ge 7 ]] || fail "the commune holds only $BATCHES batches"

# --- export ---------------------------------------------------------------------------

check "bundle export writes every batch, atomically, and summarises it"
run "$TV" -d "$NODE" bundle export --out "$BUNDLE" --json
expect_rc 0 "bundle export"
expect_json batches "$BATCHES" "export --json"
expect_json events "$EVENTS" "export --json"
expect_json origins 1 "export --json"
expect_json bytes "$(stat -c %s "$BUNDLE")" "export --json (the file's size)"
expect_err_has "exported $BATCHES batches" "bundle export"
[[ ! -e $BUNDLE.tmp ]] || fail "export left $BUNDLE.tmp behind"
layout "$BUNDLE" >"$W/layout" || fail "the bundle does not follow PROTOCOL.md"
[[ $(wc -l <"$W/layout") -eq $BATCHES ]] ||
    fail "the bundle holds $(wc -l <"$W/layout") batch records, not $BATCHES"
python3 - "$W/layout" "$A_ID" <<'EOF' || fail "the bundle's batches are not the log in order"
import sys
rows = [l.split() for l in open(sys.argv[1])]
seq = 0
for num, start, end, first, last, origin in rows:
    assert origin == sys.argv[2] and int(first) == seq + 1, (num, first, seq)
    seq = int(last)
EOF
N=$(wc -l <"$W/layout")

check "export --origin with the commune's id prefix writes the same bundle"
run "$TV" -d "$NODE" bundle export --out "$W/stick/by-origin.bundle" --origin "${A_ID:0:16}"
expect_rc 0 "bundle export --origin"
cmp -s "$BUNDLE" "$W/stick/by-origin.bundle" || fail "export --origin differs from the full export"
echo stale >"$W/stick/by-origin.bundle"
run "$TV" -d "$NODE" bundle export --out "$W/stick/by-origin.bundle" --origin "$A_ID"
expect_rc 0 "bundle export over an existing file"
cmp -s "$BUNDLE" "$W/stick/by-origin.bundle" || fail "export did not replace the existing file"

# --- import ---------------------------------------------------------------------------

check "a district node that does not trust the commune refuses every batch and says why"
OTHER=$W/huyen-569 # a district never enrolled: it trusts no root
run "$TV" -d "$OTHER" init --role district --unit 569 --name "Huyện Cam Lâm"
expect_rc 0 "init of the unenrolled district"
run "$TV" -d "$OTHER" bundle import "$BUNDLE" --json
expect_rc 1 "import into an untrusting district"
expect_json refused "$N" "import into an untrusting district"
for ((i = 1; i <= N; i++)); do
    expect_err_has "record $i (origin ${A_ID:0:16}, seq" "import into the district"
done
expect_err_has "not enrolled" "import into the district"
[[ $(status_get "$OTHER" events total) -eq 0 ]] || fail "the district kept refused events"

check "import into the district that enrolled the commune: everything, exactly, exit 0"
R1=$(receiver r1)
[[ $(held "$R1") -eq 0 ]] || fail "the receiver already holds events of the commune"
total_before=$(status_get "$R1" events total)
scans_before=$(status_get "$R1" events scan)
run "$TV" -d "$R1" bundle import "$BUNDLE" --json
expect_rc 0 "bundle import"
expect_json accepted "$N" "bundle import"
expect_json events "$EVENTS" "bundle import"
expect_json complete true "bundle import"
log_is_prefix "$R1" all
[[ $(held "$R1") -eq $EVENTS ]] || fail "the receiver holds the commune up to seq $(held "$R1")"
(($(status_get "$R1" events total) - total_before == EVENTS)) ||
    fail "the receiver counts $(($(status_get "$R1" events total) - total_before)) new events"
(($(status_get "$R1" events scan) - scans_before == 3500)) ||
    fail "the receiver counts $(($(status_get "$R1" events scan) - scans_before)) new scans"
expect_verified "$R1"

check "importing the same bundle again: all already held, nothing changes, exit 0"
"$TV" -d "$R1" status --json >"$W/status-before"
"$TV" -d "$R1" log --json >"$W/log-before"
run "$TV" -d "$R1" bundle import "$BUNDLE" --json
expect_rc 0 "second import"
expect_json duplicates "$N" "second import"
expect_json accepted 0 "second import"
"$TV" -d "$R1" status --json | cmp -s - "$W/status-before" ||
    fail "the second import changed status"
"$TV" -d "$R1" log --json | cmp -s - "$W/log-before" || fail "the second import changed the log"
run "$TV" -d "$NODE" bundle import "$BUNDLE"
expect_rc 0 "import into the node that wrote it"
expect_err_has "0 batches accepted" "import into the node that wrote it"

check "import reads a bundle from standard input"
R2=$(receiver r2)
LAST="bundle import - <BUNDLE"
RC=0
"$TV" -d "$R2" bundle import - <"$BUNDLE" >"$W/out" 2>"$W/err" || RC=$?
expect_rc 0 "import from standard input"
log_is_prefix "$R2" all

# --- damage ---------------------------------------------------------------------------

# batch_row K: the layout line of record K.
batch_row() { sed -n "${1}p" "$W/layout"; }

check "a bundle cut in the middle of a record: exit 1, every record before the cut kept"
total=$(stat -c %s "$BUNDLE")
read -r _ start end _ _ _ < <(batch_row $((N / 2 + 1)))
cut=$(((start + end) / 2))
head -c "$cut" "$BUNDLE" >"$W/stick/cut.bundle"
K=$((N / 2 + 1)) # the record cut in two
read -r _ _ _ _ kept_seq _ < <(batch_row $((K - 1)))
R3=$(receiver r3)
run "$TV" -d "$R3" bundle import "$W/stick/cut.bundle" --json
expect_rc 1 "import of a cut bundle"
expect_err_has "ends inside record $K" "import of a cut bundle"
expect_err_has "cut short" "import of a cut bundle"
expect_json accepted $((K - 1)) "import of a cut bundle (the whole records before the cut)"
expect_json complete false "import of a cut bundle"
log_is_prefix "$R3" "$kept_seq"
expect_verified "$R3"
(( cut < total )) || fail "the cut did not shorten the file"

check "a bundle with one byte flipped in the middle: exit 1, the damaged record named," \
    "the rest of the chain refused as a gap"
mid=$((total / 2))
K=0
while read -r num start end _ _ _; do
    if ((mid >= start && mid < end)); then
        K=$num
        ((mid >= start + 28)) || mid=$((start + 28 + 100)) # the batch bytes, not the header
    fi
done <"$W/layout"
((K > 1 && K < N)) || fail "the middle byte is not inside a middle record (record $K of $N)"
cp "$BUNDLE" "$W/stick/flipped.bundle"
python3 - "$W/stick/flipped.bundle" "$mid" <<'EOF'
import sys
path, at = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, "rb").read())
b[at] ^= 0x04
open(path, "wb").write(b)
EOF
read -r _ _ _ _ kept_seq _ < <(batch_row $((K - 1)))
R4=$(receiver r4)
run "$TV" -d "$R4" bundle import "$W/stick/flipped.bundle" --json
expect_rc 1 "import of a damaged bundle"
expect_err_has "record $K is damaged (its checksum does not match)" "import of a damaged bundle"
for ((i = K + 1; i <= N; i++)); do
    read -r _ _ _ first last _ < <(batch_row "$i")
    expect_err_has \
        "record $i (origin ${A_ID:0:16}, seq $first-$last) refused: batch starts after a gap" \
        "import of a damaged bundle"
done
expect_json accepted $((K - 1)) "import of a damaged bundle (the records before the damage)"
expect_json gaps $((N - K)) "import of a damaged bundle (the records after the damage)"
expect_json damaged 1 "import of a damaged bundle"
expect_json missing_records 1 "import of a damaged bundle"
log_is_prefix "$R4" "$kept_seq"
expect_verified "$R4"

check "an intact bundle afterwards fills the gap"
run "$TV" -d "$R4" bundle import "$BUNDLE" --json
expect_rc 0 "import of the intact bundle after the damaged one"
expect_json accepted $((N - K + 1)) "import of the intact bundle (filling the gap)"
expect_json duplicates $((K - 1)) "import of the intact bundle (what was held)"
log_is_prefix "$R4" all
expect_verified "$R4"

check "zeroed bytes between records are skipped, and every batch still arrives"
python3 - "$BUNDLE" "$W/stick/zeros.bundle" "$(batch_row 2 | cut -d' ' -f2)" <<'EOF'
import sys
src, dst, at = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = open(src, "rb").read()
open(dst, "wb").write(b[:at] + bytes(4096) + b[at:])
EOF
R5=$(receiver r5)
run "$TV" -d "$R5" bundle import "$W/stick/zeros.bundle" --json
expect_rc 1 "import of a bundle with zeroed bytes"
expect_err_has "(4096 bytes) are not part of any intact record" "import with zeroed bytes"
expect_json accepted "$N" "import of a bundle with zeroed bytes"
log_is_prefix "$R5" all

# --- usage ----------------------------------------------------------------------------

check "bundle --help, export --help, import --help print Usage: and exit 0"
for args in "bundle --help" "bundle export --help" "bundle import --help"; do
    # shellcheck disable=SC2086 # split the words on purpose
    run "$TV" $args
    expect_rc 0 "truyvet $args"
    grep -q "Usage:" "$W/out" || fail "truyvet $args does not print Usage: on stdout"
done
run "$TV" bundle export --help
grep -qF -- "--for NODEID" "$W/out" || fail "export --help does not explain --for"

check "wrong use exits 2, failures exit 1, with a message and no output"
refused() { # refused WANT ARGS...
    local want=$1
    shift
    run "$TV" -d "$R1" "$@"
    expect_rc "$want" "truyvet $*"
    [[ ! -s $W/out ]] || fail "truyvet $*: printed on stdout although it failed"
    [[ -s $W/err ]] || fail "truyvet $*: failed without a message"
}
refused 2 bundle
refused 2 bundle frobnicate
refused 2 bundle export
refused 2 bundle export --out "$W/x.bundle" --frobnicate
refused 2 bundle export --out "$W/x.bundle" --origin zz
refused 2 bundle export --out "$W/x.bundle" --for "${A_ID:0:20}"
expect_err_has "64 hex digits" "export --for with a short id"
refused 1 bundle export --out "$W/x.bundle" --for "$(printf 'cd%.0s' {1..32})"
expect_err_has "no certificate of node" "export --for an unknown node"
refused 2 bundle export --out "$W/stick"
refused 1 bundle export --out "$W/x.bundle" --origin "$(printf 'ab%.0s' {1..32})"
expect_err_has "holds nothing from origin" "export --origin of an unknown node"
refused 1 bundle export --out "$W/no-such-dir/x.bundle"
[[ ! -e $W/x.bundle ]] || fail "a refused export wrote a file"
refused 2 bundle import
refused 2 bundle import "$BUNDLE" extra
refused 2 bundle import "$BUNDLE" --frobnicate
refused 1 bundle import "$W/no-such.bundle"
expect_err_has "no-such.bundle" "import of a missing file"
refused 1 bundle import "$W/scans1.csv"
expect_err_has "not a truyvet bundle" "import of a CSV file"

echo "bundle_test: all checks passed"
