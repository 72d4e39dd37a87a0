#!/usr/bin/env bash
# Makes the seed corpora of the fuzz harnesses from real outputs of the truyvet binary:
#   make_corpus.sh TRUYVET FUZZDIR OUTDIR
# TRUYVET is a built truyvet (build/truyvet), FUZZDIR the built harnesses (build-fuzz/fuzz),
# OUTDIR receives one directory of seeds per harness (emptied first). A province, a district
# and a commune are created and enrolled down the tree; the commune registers venues, records
# scans (one by one and from a CSV file) and exports a bundle; tests/fuzz/slice.py slices the
# bundle into batches, events, bodies and a version vector and the certificate files into
# certificates. The sync_session harness writes its own seed from a real session, and
# apply_signed adds bodies of events that fit the certificate tree of its store.
set -euo pipefail
tv=$1
fuzzdir=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/truyvet-corpus-XXXXXX")
mkdir -m 700 "$work/credentials" # the nodes' passphrase (see tests/lib.sh)
printf 'corpus passphrase\n' >"$work/credentials/passphrase"
export CREDENTIALS_DIRECTORY=$work/credentials TRUYVET_KDF=min TRUYVET_KEYRING=process
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out"
seed() { # seed HARNESS NAME < bytes
    mkdir -p "$out/$1"
    cat >"$out/$1/$2"
}
t() { "$tv" -d "$work/$1" "${@:2}"; }

t p init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
t d init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null 2>&1
t c init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
t d enroll request --out "$work/d.req" 2>/dev/null
t p enroll issue "$work/d.req" --out "$work/d.cert" --scope 22333,22402 2>/dev/null
t d enroll accept "$work/d.cert" 2>/dev/null
t c enroll request --out "$work/c.req" 2>/dev/null
t d enroll issue "$work/c.req" --out "$work/c.cert" 2>/dev/null
t c enroll accept "$work/c.cert" 2>/dev/null
for f in d c; do
    seed enroll_request "$f.req" <"$work/$f.req"
    seed enroll_cert_file "$f.cert" <"$work/$f.cert"
    python3 "$here/slice.py" certs "$work/$f.cert" "$out"
done

v1=$(t c venue add --name "Chợ Bắc Nha Trang" --category market --village "Tổ dân phố 1")
v2=$(t c venue add --name "Trường Tiểu học Vĩnh Hải" --category school)
t c venue payload "$v1" >"$work/payload.txt" 2>"$work/short.txt"
head -1 "$work/payload.txt" | tr -d '\n' | seed payload venue
sed -n 's/^short code: \([^ ]*\).*/\1/p' "$work/short.txt" | tr -d '\n' | seed payload short-code
t c person card --phone 0905000333 --name "Phạm Văn Đức" --out "$work/card.png" >"$work/card.txt" \
    2>/dev/null
head -1 "$work/card.txt" | tr -d '\n' | seed payload personal-code
head -1 "$work/card.txt" | tr -d '\n' | seed idcard personal-code
printf '%s' '056099012345|123456789|Nguyễn Văn An|15031999|Nam|Tổ 3, Phường Vĩnh Hải, Nha Trang|20042021' |
    seed idcard cccd
printf '%s' 'HS4010123456789|5472e1baa76e205468e1bb8b2042c3ad6368204e67e1bb8d63|15/03/2010|2|5468c3b46e20c490c3b46e67|01 - 001|01/01/2021|31/12/2021|01/01/2021|56|4e677579e1bb856e2056c4836e20426f|4|01/01/2026|ab12|$' |
    seed idcard bhyt
printf '0912 345 678' | seed idcard phone
printf '2021-10-06T08:00:00+07:00' | seed timefmt offset
printf '2021-10-06T01:00:00Z' | seed timefmt utc
printf '2021-10-06 08:00' | seed timefmt local
printf '2021-10-06' | seed timefmt date
printf 'name=Ch%%E1%%BB%%A3+V%%C4%%A9nh+H%%E1%%BA%%A3i&category=market&force=1' | seed web_form venue
printf 'venue=0123456789abcdef&line=001099012345%%7C123456789%%7CNguy%%E1%%BB%%85n&direction=in' |
    seed web_form scan
printf '127.0.0.1:8080' | seed web_form addr4
printf '[::1]:0' | seed web_form addr6

{
    echo "venue,person,direction,time"
    for i in $(seq 1 20); do
        printf '%s,09%08d,%s,2021-10-06T%02d:%02d:00+07:00\n' \
            "$([ $((i % 2)) -eq 0 ] && echo "$v1" || echo "$v2")" "$i" \
            "$([ $((i % 3)) -eq 0 ] && echo out || echo in)" $((7 + i % 12)) $((i % 60))
    done
} >"$work/scans.csv"
seed csv import <"$work/scans.csv"
printf 'a,"b ""quoted"", and, commas",c\r\n"line\nend",,""\r\n' | seed csv quoted
t c import --csv "$work/scans.csv" >/dev/null 2>&1
t c scan --venue "$v1" --person 0912000999 --at 2021-10-06T10:00:00+07:00 >/dev/null 2>&1
t c scan --venue "$v1" --person 0912000999 --out --at 2021-10-06T11:00:00+07:00 >/dev/null 2>&1
t c report --format csv --out "$work/report.csv" >/dev/null 2>&1 &&
    seed csv report <"$work/report.csv"

t c bundle export --out "$work/c.bundle" >/dev/null 2>&1
seed bundle c.bundle <"$work/c.bundle"
python3 "$here/slice.py" bundle "$work/c.bundle" "$out"

mkdir -p "$out/sync_session"
TV_FUZZ_SEED_OUT="$out/apply_signed" "$fuzzdir/apply_signed" -runs=1 >/dev/null 2>&1
TV_FUZZ_SEED_OUT="$out/sync_session/session" "$fuzzdir/sync_session" -runs=1 >/dev/null 2>&1
for h in "$out"/*; do echo "$(basename "$h"): $(ls "$h" | wc -l) seeds"; done
