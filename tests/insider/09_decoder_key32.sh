#!/usr/bin/env bash
# Insider attack 9 of issue 14: a signed batch whose scan carries map key 32 twice. The
# decoders tracked duplicate keys with `1u << key`, undefined for key 32: a sanitizer
# build aborted, and platforms could disagree on whether the batch is well-formed, so one
# origin's log could stall on some nodes only. Now a duplicated key is malformed on every
# platform, and a key a newer writer adds (32, once) is ignored as before.
#
# Usage: bash tests/insider/09_decoder_key32.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

FORGE=$(dirname "$TV")/insider_forge_text
[[ -x $FORGE ]] || fail "the helper $FORGE is not built (cmake --build builds it)"

P=$W/tinh-56
C=$W/xa-22333

check "a province and a commune enrolled under it, with a venue the province holds"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" --health 2>/dev/null
VENUE=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
"$TV" -d "$C" bundle export --out "$W/c.bundle" >/dev/null 2>&1 || fail "bundle export"
"$TV" -d "$P" bundle import "$W/c.bundle" >/dev/null 2>&1 || fail "bundle import of the venue"
C_ID=$(status_get "$C" node_id)
SEQ=$(($(status_get "$C" own_seq) + 1))

check "key 32 twice: refused as malformed, naming origin and seq; nothing stored"
before=$("$TV" -d "$P" status --json)
export VENUE
[[ $("$FORGE" "$C" bundle "$W/twice.bundle" scan-key32 twice) -eq $SEQ ]] ||
    fail "the forged batch is not at seq $SEQ"
run "$TV" -d "$P" bundle import "$W/twice.bundle"
expect_refused 1 "import of a scan with key 32 twice"
expect_err_has "record 1 (origin ${C_ID:0:16}, seq $SEQ-$SEQ) refused: malformed message: the batch, or an event in it, breaks the format" \
    "the refusal names origin and seq"
[[ $("$TV" -d "$P" status --json) == "$before" ]] || fail "the province's store changed"

check "key 32 once: a newer writer's field, ignored; the scan is taken"
[[ $("$FORGE" "$C" bundle "$W/once.bundle" scan-key32 once) -eq $SEQ ]] ||
    fail "the second forged batch is not at seq $SEQ"
run "$TV" -d "$P" bundle import "$W/once.bundle"
expect_ok "import of a scan with key 32 once"
[[ $(status_get "$P" events scan) -eq 1 ]] || fail "the province does not hold the scan"

echo PASS
