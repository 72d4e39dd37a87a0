#!/usr/bin/env bash
# PDF output, many times over: every `qr venue ID --out X.pdf` and every
# `person card ... --sheet --out X.pdf` exits 0 and writes a valid PDF. Each run is a fresh
# process, so what happens to the font caches between drawing and exit is exercised every
# time: freeing fontconfig's, pango's and cairo's caches while a font is still referenced
# made cairo abort (cairo-hash.c: _cairo_hash_table_destroy, exit 134, nothing written)
# in about 5 runs out of a hundred (qr venue) and 1 in a hundred (a sheet of cards), so
# the loop below caught it in most runs but not all; the first check is the deterministic
# one: the program does not call those teardown functions at all.
#
# Usage: bash tests/cli/pdf_repeat_test.sh /path/to/truyvet
# Environment: VENUE_RUNS (default 400), SHEET_RUNS (default 60).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

command -v pdfinfo >/dev/null || {
    echo "SKIP: pdfinfo is missing (Debian: poppler-utils)"
    exit 77
}
VENUE_RUNS=${VENUE_RUNS:-400}
SHEET_RUNS=${SHEET_RUNS:-60}

check "the program never frees the font caches (FcFini, cairo_debug_reset_static_data, ...)"
if command -v nm >/dev/null; then
    teardown=$(nm -D --undefined-only "$TV" |
        grep -owE 'FcFini|cairo_debug_reset_static_data|pango_cairo_font_map_set_default' || true)
    [[ -z $teardown ]] || fail "truyvet calls $(echo $teardown): cairo asserts on a live font"
else
    echo "  (nm is missing: only the loops below check it)"
fi

C=$W/commune-22333
"$TV" -d "$C" init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
V=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải — Quầy rau sạch Bà Tư" --category market \
    --village "Tổ dân phố 5" 2>/dev/null)
CCCD='001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021'

# pdf_ok FILE WHAT: FILE is a PDF that pdfinfo reads, of the given number of A4 pages.
pdf_ok() {
    local info
    info=$(pdfinfo "$1" 2>&1) || fail "$2: pdfinfo cannot read $1: $info"
    [[ $info == *"Page size:"*"(A4)"* ]] || fail "$2: $1 is not A4: $info"
    [[ $(sed -n 's/^Pages: *//p' <<<"$info") == 1 ]] || fail "$2: $1 has not 1 page: $info"
}

check "qr venue --out X.pdf, $VENUE_RUNS times: each exits 0 and writes a valid A4 PDF"
for ((i = 1; i <= VENUE_RUNS; i++)); do
    run "$TV" -d "$C" qr venue "$V" --out "$W/poster-$i.pdf"
    expect_ok "qr venue --out poster-$i.pdf (run $i of $VENUE_RUNS)"
    pdf_ok "$W/poster-$i.pdf" "run $i"
    rm -f "$W/poster-$i.pdf"
done

check "person card --sheet --out X.pdf, $SHEET_RUNS times: each exits 0 and writes a valid PDF"
for ((i = 1; i <= SHEET_RUNS; i++)); do
    run "$TV" -d "$C" person card --person "$CCCD" --phone 0912345678 \
        --name "Trần Thị Bích Ngọc" --phone 0987654321 --out "$W/sheet-$i.pdf" --sheet
    expect_ok "person card --sheet --out sheet-$i.pdf (run $i of $SHEET_RUNS)"
    pdf_ok "$W/sheet-$i.pdf" "run $i"
    rm -f "$W/sheet-$i.pdf"
done

echo "pdf_repeat_test: all checks passed"
