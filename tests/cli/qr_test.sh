#!/usr/bin/env bash
# Venue posters and their codes: the signed payload, the poster as PDF, PNG and SVG (each
# decoded back with zbarimg, its physical size checked), offline verification (genuine,
# forged, unknown signer, revoked signer), and the short code typed instead of an id.
#
# Usage: bash tests/cli/qr_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

for tool in zbarimg pdftoppm pdfinfo pdftotext; do
    command -v "$tool" >/dev/null || fail "$tool is missing (Debian: zbar-tools, poppler-utils)"
done
GEOMETRY=$(dirname "${BASH_SOURCE[0]}")/qr_geometry.py

P=$W/province-56
C=$W/commune-22333
C2=$W/commune-22334
LONE=$W/lone-22335
NAME="Chợ Vĩnh Hải — Quầy rau sạch Bà Tư"

# decoded FILE: what zbarimg reads in an image, exactly.
decoded() { zbarimg -q --raw "$1" 2>/dev/null | sed '$!b;/^$/d'; }

# verify_at DIR PAYLOAD: `qr verify` at the node in DIR; RC, OUT, ERR as `run`.
verify_at() { run "$TV" -d "$1" qr verify "$2"; }

# field KEY...: a field of `qr verify --json` output in $W/out.
field() { json_get "$@" <"$W/out"; }

check "a province, two communes enrolled under it, and a commune not enrolled"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$C2" init --role commune --unit 22334 --unlisted --name "UBND Phường Vĩnh Hải" >/dev/null 2>&1
"$TV" -d "$LONE" init --role commune --unit 22335 --unlisted --name "UBND Xã lẻ" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
enrol "$C2" "$P" 2>/dev/null
V=$("$TV" -d "$C" venue add --name "$NAME" --category market --village "Tổ dân phố 5" 2>/dev/null)
V2=$("$TV" -d "$C2" venue add --name "Quán Bà Năm" --category restaurant 2>/dev/null)

check "venue payload: TV1V:<unit>:<128 base32 characters>, and the short code on stderr"
run "$TV" -d "$C" venue payload "$V"
expect_ok "venue payload"
PAYLOAD=$OUT
[[ $PAYLOAD =~ ^TV1V:22333:[A-Z2-7]{128}$ ]] || fail "the payload is '$PAYLOAD'"
[[ $ERR =~ short\ code:\ ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]) ]] || fail "no short code: $ERR"
CODE=${BASH_REMATCH[1]}
run "$TV" -d "$C" venue payload "$V"
[[ $OUT == "$PAYLOAD" ]] || fail "the payload is not the same twice"

check "the PNG poster decodes to the payload; 300 dpi in pHYs, A4, QR at least 15 cm"
run "$TV" -d "$C" qr venue "$V" --out "$W/poster.png"
expect_ok "qr venue --out poster.png"
[[ $(decoded "$W/poster.png") == "$PAYLOAD" ]] || fail "the PNG decodes to '$(decoded "$W/poster.png")'"
geo=$(python3 "$GEOMETRY" "$W/poster.png")
python3 - "$geo" <<'EOF' || fail "the PNG's geometry is wrong: $geo"
import sys
g = dict(kv.split("=") for kv in sys.argv[1].split())
assert g["dpi"] == "300"
assert abs(float(g["width_mm"]) - 210) < 0.2 and abs(float(g["height_mm"]) - 297) < 0.2
assert 150 <= float(g["qr_mm"]) <= 170
EOF

check "qr --help and the README give the side the poster's QR code measures"
help_cm=$("$TV" qr --help | sed -n 's/.*its QR code \([0-9.]*\) x \1 cm.*/\1/p')
venue_help_cm=$("$TV" qr venue --help | tr '\n' ' ' | sed -n 's/.*its QR code \([0-9.]*\) x \1 cm.*/\1/p')
readme_cm=$(sed -n 's/.*poster: its QR code \([0-9.]*\) cm wide.*/\1/p' \
    "$(dirname "${BASH_SOURCE[0]}")/../../README.md")
said="qr --help: '$help_cm' cm; qr venue --help: '$venue_help_cm' cm; README: '$readme_cm' cm"
python3 - "$geo" "$help_cm" "$venue_help_cm" "$readme_cm" <<'EOF' || fail "measured $geo; $said"
import sys
g = dict(kv.split("=") for kv in sys.argv[1].split())
measured = float(g["qr_mm"])
for said in sys.argv[2:]:
    assert said and abs(10 * float(said) - measured) <= 0.5, (said, measured)
EOF

check "the PDF poster: A4, its page rendered decodes to the payload, QR at least 15 cm"
run "$TV" -d "$C" qr venue "${V:0:6}" --out "$W/poster.pdf"
expect_ok "qr venue --out poster.pdf"
pdfinfo "$W/poster.pdf" | grep -q "Page size:.*(A4)" || fail "the PDF page is not A4"
[[ $(pdfinfo "$W/poster.pdf" | sed -n 's/^Pages: *//p') == 1 ]] || fail "the PDF has not 1 page"
pdftoppm -r 150 -png "$W/poster.pdf" "$W/page" 2>/dev/null
[[ $(decoded "$W/page-1.png") == "$PAYLOAD" ]] || fail "the PDF page decodes to '$(decoded "$W/page-1.png")'"
pdftoppm -r 100 -gray "$W/poster.pdf" "$W/gray" 2>/dev/null
geo=$(python3 "$GEOMETRY" "$W/gray-1.pgm" 100)
python3 - "$geo" <<'EOF' || fail "the PDF's QR is not 15-17 cm: $geo"
import sys
g = dict(kv.split("=") for kv in sys.argv[1].split())
assert 150 <= float(g["qr_mm"]) <= 170
EOF

check "the poster's text: the venue's name with its diacritics, category, commune, short code"
pdftotext "$W/poster.pdf" - | tr '\n' ' ' >"$W/text"
for want in "$NAME" "Chợ" "Tổ dân phố 5" "UBND Phường Bắc Nha Trang" "22333" "Mã địa điểm: $CODE" \
    "QUÉT MÃ QR ĐỂ KHAI BÁO Y TẾ" "CCCD"; do
    grep -qF -- "$want" "$W/text" || fail "the PDF does not say '$want': $(cat "$W/text")"
done

check "the SVG poster: sized in cm, well-formed"
run "$TV" -d "$C" qr venue "$V" --out "$W/poster.SVG"
expect_ok "qr venue --out poster.SVG"
python3 - "$W/poster.SVG" <<'EOF' || fail "the SVG is not as expected"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.get("width") == "21cm" and root.get("height") == "29.7cm", root.attrib
EOF

check "qr verify: genuine at the province (it holds the commune's certificate) and at the commune"
verify_at "$P" "$PAYLOAD"
expect_ok "qr verify at the province"
[[ $OUT == genuine:* ]] || fail "the province says '$OUT'"
verify_at "$C" "$PAYLOAD"
expect_ok "qr verify at the commune"
run "$TV" -d "$P" qr verify "$PAYLOAD" --json
[[ $(field result) == genuine && $(field unit) == 22333 && $(field venue) == "$V" ]] ||
    fail "qr verify --json says '$OUT'"
run "$TV" -d "$C2" venue payload "$V2"
verify_at "$P" "$OUT"
expect_ok "the other commune's payload at the province"

check "any character changed: forged (exit 3); the unit changed: forged"
n=0
for i in 11 40 75 100 138; do
    c=${PAYLOAD:i:1}
    [[ $c == A ]] && r=B || r=A
    verify_at "$P" "${PAYLOAD:0:i}$r${PAYLOAD:i+1}"
    expect_rc 3 "qr verify of a payload changed at $i"
    [[ $OUT == forged:* ]] || fail "a changed payload is '$OUT'"
    n=$((n + 1))
done
verify_at "$P" "${PAYLOAD/TV1V:22333:/TV1V:22334:}"
expect_rc 3 "qr verify with another unit"
for bad in hello "TV1V:22333:ABC" "${PAYLOAD,,}" "${PAYLOAD:0:138}"; do
    verify_at "$P" "$bad"
    expect_rc 3 "qr verify '$bad'"
done

check "a signer this node has no certificate of: unknown signer (exit 4)"
verify_at "$C2" "$PAYLOAD" # a sibling commune: it holds only its own chain
expect_rc 4 "qr verify at a sibling commune"
[[ $OUT == "unknown signer:"* ]] || fail "the sibling says '$OUT'"
LV=$("$TV" -d "$LONE" venue add --name "Quán lẻ" --category cafe 2>/dev/null)
run "$TV" -d "$LONE" venue payload "$LV"
verify_at "$P" "$OUT"
expect_rc 4 "a payload of a node the province never enrolled"

check "after the province revokes the commune: revoked signer (exit 5)"
C_ID=$(status_get "$C" node_id)
"$TV" -d "$P" revoke "$C_ID" --reason "Máy bị mất" >/dev/null 2>&1
verify_at "$P" "$PAYLOAD"
expect_rc 5 "qr verify of a revoked signer's payload"
[[ $OUT == "revoked signer:"* ]] || fail "after the revocation: '$OUT'"

check "the short code finds the venue; a typo is caught"
run "$TV" -d "$C" venue show "$CODE"
expect_ok "venue show by short code"
grep -qF "$NAME" "$W/out" || fail "venue show by short code shows '$OUT'"
run "$TV" -d "$C" venue show "${CODE,,}"
expect_ok "venue show by the short code in lower case"
typo=${CODE:0:1}$([[ ${CODE:1:1} == 7 ]] && echo 8 || echo 7)${CODE:2}
run "$TV" -d "$C" venue show "$typo"
expect_refused 2 "venue show by a mistyped short code"
expect_err_has "mistyped" "a mistyped short code"

# --- personal cards -------------------------------------------------------------------

CCCD='001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021'
C3=$W/commune-22336
"$TV" -d "$C3" init --role commune --unit 22336 --unlisted --name "UBND Phường Phước Long" >/dev/null 2>&1
enrol "$C3" "$P" 2>/dev/null
G=$("$TV" -d "$C3" venue add --name "Chợ Phước Long" --category market 2>/dev/null)

check "person card: a 6 x 9 cm card whose 5 cm code decodes to the personal code printed"
run "$TV" -d "$C3" person card --person "$CCCD" --out "$W/card.png"
expect_ok "person card --out card.png"
CARD=$OUT
[[ $CARD =~ ^TV1:[A-Z2-7]{144}:Nguyễn\ V\*\*\ A\ ·\ \*{10}45$ ]] || fail "the code is '$CARD'"
[[ $(decoded "$W/card.png") == "$CARD" ]] || fail "the card decodes to '$(decoded "$W/card.png")'"
geo=$(python3 "$GEOMETRY" "$W/card.png")
python3 - "$geo" <<'EOF2' || fail "the card's geometry is wrong: $geo"
import sys
g = dict(kv.split("=") for kv in sys.argv[1].split())
assert g["dpi"] == "300" and g["width_mm"] == "60.0" and g["height_mm"] == "90.0"
assert 50 <= float(g["qr_mm"]) <= 55
EOF2
for clear in "Nguyễn Văn An" 001099012345 123456789 "Ba Đình" 1503; do
    [[ $CARD != *"$clear"* ]] || fail "the personal code holds '$clear' in clear"
done
[[ $(status_get "$C3" events person) == 1 ]] || fail "issuing the card recorded no person"

check "a sheet: several people's cards on A4, every code readable"
run "$TV" -d "$C3" person card --person "$CCCD" --phone 0912345678 --name "Trần Thị Bích Ngọc" \
    --phone 0987654321 --out "$W/sheet.pdf" --sheet
expect_ok "person card --sheet"
mapfile -t CODES <"$W/out"
((${#CODES[@]} == 3)) || fail "3 codes expected, got ${#CODES[@]}"
[[ ${CODES[0]} == "$CARD" ]] || fail "the same person's card is not the same code"
[[ ${CODES[1]} == *":Trần T** B** N · 09******78" ]] || fail "the named phone's card: ${CODES[1]}"
pdfinfo "$W/sheet.pdf" | grep -q "Page size:.*(A4)" || fail "the sheet is not A4"
pdftoppm -r 200 -png "$W/sheet.pdf" "$W/sheet" 2>/dev/null
zbarimg -q --raw "$W/sheet-1.png" 2>/dev/null | sort >"$W/sheet.codes"
printf '%s\n' "${CODES[@]}" | sort | cmp -s - "$W/sheet.codes" ||
    fail "the sheet decodes to: $(cat "$W/sheet.codes")"

check "one card per person: an ID card's QR and a named phone are two people, two cards"
run "$TV" -d "$C3" person card --person "$CCCD" --phone 0912345678 --name "Trần Thị Bích Ngọc" \
    --out "$W/two.pdf"
expect_ok "person card of two people without --sheet"
[[ $(wc -l <"$W/out") == 2 ]] || fail "2 codes expected, got: $OUT"
[[ $(pdfinfo "$W/two.pdf" | sed -n 's/^Pages: *//p') == 2 ]] || fail "two.pdf has not 2 pages, one card each"
[[ $ERR == *"wrote 2 cards to $W/two.pdf"* ]] || fail "person card says: $ERR"
run "$TV" -d "$C3" person card --person "$CCCD" --phone 0912345678 --name "Trần Thị Bích Ngọc" \
    --out "$W/two-sheet.pdf" --sheet
expect_ok "person card of two people with --sheet"
[[ $(wc -l <"$W/out") == 2 ]] || fail "2 codes expected on the sheet, got: $OUT"
[[ $(pdfinfo "$W/two-sheet.pdf" | sed -n 's/^Pages: *//p') == 1 ]] || fail "the sheet has not 1 page"

check "the card at a gate: OK with the masked name; a forged one is refused"
printf '%s\n' "$CARD" | "$TV" -d "$C3" station --venue "$G" >"$W/gate" 2>/dev/null
[[ $(cat "$W/gate") == "OK  Nguyễn V** A · **********45  đã vào "* ]] || fail "the gate: $(cat "$W/gate")"
forged=${CARD:0:120}$([[ ${CARD:120:1} == A ]] && echo B || echo A)${CARD:121}
printf '%s\n' "$forged" | "$TV" -d "$C3" station --venue "$G" >"$W/gate" 2>/dev/null
[[ $(cat "$W/gate") == "KHÔNG ĐỌC ĐƯỢC MÃ (chữ ký thẻ không hợp lệ: thẻ giả hoặc đã bị sửa)" ]] ||
    fail "a forged card at the gate: $(cat "$W/gate")"
printf '%s\n' "${CARD/Nguyễn V/Nguyễn X}" | "$TV" -d "$C3" station --venue "$G" >"$W/gate" 2>/dev/null
[[ $(cat "$W/gate") == "KHÔNG ĐỌC ĐƯỢC MÃ ("* ]] || fail "a card with its name changed: $(cat "$W/gate")"

check "a self check-in relayed to the gate: the venue's code, a space, the person's"
GP=$("$TV" -d "$C3" venue payload "$G" 2>/dev/null)
OTHERV=$("$TV" -d "$C3" venue add --name "Quán khác" --category cafe 2>/dev/null)
OP=$("$TV" -d "$C3" venue payload "$OTHERV" 2>/dev/null)
scans0=$(status_get "$C3" events scan)
{
    printf '%s 0933000001\n' "$GP"
    printf '%s %s\n' "$GP" "$CARD"
    printf '%s\n' "$GP"
    printf '%s 0933000002\n' "$OP"
    printf '%s 0933000003\n' "${GP:0:60}$([[ ${GP:60:1} == A ]] && echo B || echo A)${GP:61}"
} | "$TV" -d "$C3" station --venue "$G" --out >"$W/gate" 2>/dev/null
mapfile -t A <"$W/gate"
[[ ${A[0]} == "OK  09******01  đã ra "* ]] || fail "self check-in with a phone: ${A[0]}"
[[ ${A[1]} == "OK  Nguyễn V** A · **********45  đã ra "* ]] || fail "with a card: ${A[1]}"
[[ ${A[2]} == "KHÔNG ĐỌC ĐƯỢC MÃ (chỉ có mã của điểm: phải kèm mã hoặc số của người)" ]] ||
    fail "a venue code alone: ${A[2]}"
[[ ${A[3]} == "KHÔNG ĐỌC ĐƯỢC MÃ (mã của điểm khác)" ]] || fail "another venue's code: ${A[3]}"
[[ ${A[4]} == "KHÔNG ĐỌC ĐƯỢC MÃ (mã điểm giả: chữ ký không hợp lệ)" ]] ||
    fail "a forged venue code: ${A[4]}"
[[ $(status_get "$C3" events scan) == $((scans0 + 2)) ]] || fail "not exactly 2 scans recorded"
"$TV" -d "$C3" log --json | tail -n 2 | grep -c '"method":"self"' | grep -qx 2 ||
    fail "the relayed scans are not marked as self check-ins"

check "person card: bad use"
run "$TV" -d "$C3" person card --person "$CCCD"
expect_refused 2 "person card without --out"
run "$TV" -d "$C3" person card --person 0912345678 --person 0987654321 --out "$W/two.png"
expect_refused 2 "two cards in one PNG without --sheet"
run "$TV" -d "$C3" person card --person "hello|world" --out "$W/x.pdf"
expect_refused 2 "person card of garbage"
run "$TV" -d "$C3" person card --name "An" --out "$W/x.pdf"
expect_refused 2 "--name before any --phone"
run "$TV" -d "$C3" person card --person "$CARD" --out "$W/x.pdf"
expect_refused 2 "a card of a card"
[[ ! -e $W/x.pdf && ! -e $W/two.png ]] || fail "a refused card left a file"

check "qr node: a commune is enrolled from its QR code alone; the province shows its root key"
C4=$W/commune-22337
"$TV" -d "$C4" init --role commune --unit 22337 --unlisted --name "UBND Xã Vĩnh Lương" >/dev/null 2>&1
run "$TV" -d "$C4" qr node --out "$W/node.png"
expect_ok "qr node at a commune"
decoded "$W/node.png" >"$W/request.txt"
run "$TV" -d "$P" enroll issue - --out "$W/c4.cert" <"$W/request.txt"
expect_ok "enroll issue from the decoded QR code"
run "$TV" -d "$C4" enroll accept "$W/c4.cert"
expect_ok "enroll accept"
run "$TV" -d "$P" qr node --out "$W/root.pdf"
expect_ok "qr node at the province"
pdftoppm -r 100 -png "$W/root.pdf" "$W/root" 2>/dev/null
[[ $(decoded "$W/root-1.png") == "$(status_get "$P" node_id)" ]] || fail "the root key QR differs"
run "$TV" -d "$P" qr node
expect_refused 2 "qr node without --out"

check "bad use: no --out, an unknown format, an unknown venue, another unit's venue"
run "$TV" -d "$C" qr venue "$V"
expect_refused 2 "qr venue without --out"
run "$TV" -d "$C" qr venue "$V" --out "$W/poster.jpg"
expect_refused 2 "qr venue --out poster.jpg"
[[ ! -e $W/poster.jpg ]] || fail "a refused poster left a file"
run "$TV" -d "$C" qr venue ffffffffffffffff --out "$W/x.png"
expect_refused 1 "qr venue of an unknown venue"
run "$TV" -d "$C" qr venue "$V" --out "$W/no/such/dir/x.png"
expect_refused 1 "qr venue into a missing directory"
run "$TV" -d "$C" qr verify
expect_refused 2 "qr verify without a payload"
run "$TV" -d "$C" qr frobnicate
expect_refused 2 "an unknown qr command"
run "$TV" -d "$C" venue payload
expect_refused 2 "venue payload without a venue"
for cmd in qr "qr venue" "qr verify" "qr person" "qr node" "venue payload" "person card"; do
    # shellcheck disable=SC2086 # the command's words
    run "$TV" $cmd --help
    expect_ok "$cmd --help"
    [[ $OUT == Usage:* ]] || fail "$cmd --help does not print a usage"
done

check "qr venue, qr node and qr verify each have a help of their own"
for cmd in "qr venue" "qr node" "qr verify"; do
    # shellcheck disable=SC2086 # the subcommand is two words
    run "$TV" $cmd --help
    expect_ok "$cmd --help"
    [[ $(head -n 1 "$W/out") == "Usage: truyvet [-d DIR] $cmd "* ]] ||
        fail "$cmd --help begins: $(head -n 1 "$W/out")"
    [[ $(grep -c '^Usage:\|^       truyvet' "$W/out") == 1 ]] || fail "$cmd --help prints several usages"
done

echo "qr_test: all checks passed"
