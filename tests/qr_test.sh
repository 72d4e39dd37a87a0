#!/usr/bin/env bash
# Venue posters and their codes: the signed payload, the poster as PDF, PNG and SVG (each
# decoded back with zbarimg, its physical size checked), offline verification (genuine,
# forged, unknown signer, revoked signer), and the short code typed instead of an id.
#
# Usage: bash tests/qr_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

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
"$TV" -d "$C2" init --role commune --unit 22334 --name "UBND Phường Vĩnh Hải" >/dev/null 2>&1
"$TV" -d "$LONE" init --role commune --unit 22335 --name "UBND Xã lẻ" >/dev/null 2>&1
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
for cmd in qr "qr venue" "qr verify" "venue payload"; do
    # shellcheck disable=SC2086 # the command's words
    run "$TV" $cmd --help
    expect_ok "$cmd --help"
    [[ $OUT == Usage:* ]] || fail "$cmd --help does not print a usage"
done

echo "qr_test: all checks passed"
