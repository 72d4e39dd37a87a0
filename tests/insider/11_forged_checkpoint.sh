#!/usr/bin/env bash
# Insider attack: a forged checkpoint. A thief holds a copy of a commune's directory, key
# and all, and writes a checkpoint of the commune's log that starts it again far past what
# anyone holds and carries none of its scans -- among them scans of today, well within the
# retention period. Were it taken, every receiver would drop the commune's batches, and
# take the commune's later batches as already held.
#
# Rule R2 (PROTOCOL.md §3.2, §3.4): a district that holds scans in force of the dropped
# prefix refuses the checkpoint, by bundle and over ZeroMQ sync, keeps it as evidence of a
# fork (the commune is frozen, `status` shows it) and keeps the commune's scans. A node that
# holds nothing of the prefix cannot tell and takes it (the README's threat model says so).
# The real commune's own checkpoint, written later, is still taken by a district that lags
# behind it and by a node enrolled afterwards.
#
# Usage: bash tests/insider/11_forged_checkpoint.sh /path/to/truyvet [/path/to/forge]
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v python3 >/dev/null || { echo "SKIP: python3 is needed"; exit 77; }

P=$W/province-56
D=$W/district-568 # holds the commune's log, gets the forgery by bundle
L=$W/district-569 # lags behind, gets the forgery over sync from the province
M=$W/district-570 # lags behind, gets only the commune's own checkpoint
N=$W/district-571 # holds nothing of the commune's log until its checkpoint
C=$W/commune-22333
T=$W/thief

check "a province, four districts of 22333 under it, a commune"
init "$P" province 56 "Sở Y tế Khánh Hòa"
init "$D" district 568 "UBND TP Nha Trang"
init "$L" district 569 "UBND Huyện Cam Lâm"
init "$M" district 570 "UBND Huyện Diên Khánh"
init "$N" district 571 "UBND Huyện Khánh Vĩnh"
init "$C" commune 22333 "UBND Phường Bắc Nha Trang"
for d in "$D" "$L" "$M" "$N"; do enrol "$d" "$P" --scope 22333 2>/dev/null; done
enrol "$C" "$D" 2>/dev/null
IDC=$(node_id "$C")
IDD=$(node_id "$D")
serve_province "$P"

day() { python3 -c 'import datetime as d,sys; t=d.datetime.now(d.timezone(d.timedelta(hours=7)))-d.timedelta(days=int(sys.argv[1])); print(t.replace(microsecond=0).isoformat())' "$1"; }
OLD=$(day 40)
TODAY=$(day 0)
V=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
scan() { "$TV" -d "$C" scan --venue "$V" --person "$1" --at "$2" >/dev/null 2>&1 || fail "scan $1 at $2"; }
# today_at NODE: the visits of today at the market that NODE shows
today_at() { "$TV" -d "$1" venue visits "$V" --date "${TODAY:0:10}" --json 2>/dev/null | grep -c '^{' || true; }
# carry FROM TO: FROM's logs by USB stick (FROM knows no certificate of a sibling district,
# so it exports everything; what TO holds already is skipped, what is
# not its to hold refused). The checks below look at what TO then holds.
carry() {
    "$TV" -d "$1" bundle export --out "$W/stick" >/dev/null 2>&1 || fail "bundle export from $1"
    "$TV" -d "$2" bundle import "$W/stick" >"$W/carry.out" 2>&1 || true
}
frozen_at() { # frozen_at NODE: whether NODE holds evidence of a fork of the commune, frozen
    "$TV" -d "$1" status --json |
        json_eval "any(f['origin']=='$IDC' and f['frozen'] and f['evidence']>0 for f in j['fork_origins'])"
}

check "every node holds the certificates (the province's and the district's logs)"
carry "$D" "$P"
for d in "$L" "$M" "$N"; do
    carry "$P" "$d"
    carry "$D" "$d"
    [[ $(held "$d" "$IDD") == $(held "$D" "$IDD") ]] || fail "$d does not hold the district's log"
done

check "the commune records a scan 40 days ago and two today; the districts get its log"
scan 0901000001 "$OLD"
scan 0901000002 "$TODAY"
for d in "$L" "$M"; do carry "$C" "$d"; done # they lag: one scan of today
scan 0901000003 "$TODAY"
carry "$C" "$D"
CSEQ=$(held "$C" "$IDC")
[[ $(held "$D" "$IDC") == "$CSEQ" && $(today_at "$D") == 2 && $(today_at "$L") == 1 ]] ||
    fail "the districts' copies of the commune's log: D $(held "$D" "$IDC"), L $(held "$L" "$IDC")"

check "the thief forges a checkpoint 1000 seqs past the commune's log, without its scans"
cp -a "$C" "$T"
FSEQ=$(forge "$T" checkpoint --skip 1000 --out-file "$W/forged")
[[ $FSEQ == $((CSEQ + 1001)) ]] || fail "the forged checkpoint's batch is at $FSEQ"
grep -q "3 scans left out" "$W/forge.err" || fail "the forgery: $(cat "$W/forge.err")"
FEND=$((FSEQ + $(sed -n 's/.*: \([0-9]*\) copies.*/\1/p' "$W/forge.err")))

check "by bundle: the district refuses it (R2), keeps it as evidence, keeps today's scans"
run "$TV" -d "$D" bundle import "$W/forged"
expect_refused 1 "the forged checkpoint at the district"
refusal_named "$W/err" "$IDC" "$FSEQ-$FEND" "R2: a checkpoint carries every event of the dropped log that is in force" "the district's refusal"
[[ $(frozen_at "$D") == True ]] || later_fail "the district holds no evidence of the fork"
[[ $(today_at "$D") == 2 ]] || later_fail "the district shows $(today_at "$D") visits of today, not 2"
[[ $(held "$D" "$IDC") == "$CSEQ" ]] || later_fail "the district's frontier moved: $(held "$D" "$IDC")"
run "$TV" -d "$D" verify
expect_ok "verify at the district"

check "a node that holds nothing of the log takes it: the province (it cannot tell)"
run "$TV" -d "$P" bundle import "$W/forged"
expect_ok "the forged checkpoint at the province"
[[ $(held "$P" "$IDC") == "$FEND" ]] || fail "the province does not hold the forgery"

check "over ZeroMQ sync: a lagging district refuses it from the province, and keeps its scan"
run "$TV" -d "$L" sync --once --peer "$P_LINK" --timeout 60
expect_refused 1 "the lagging district's sync"
expect_err_has "origin ${IDC:0:16} seq $FSEQ: conflicting batch for the same place in a log (fork); rule R2: a checkpoint carries every event of the dropped log that is in force" "the lagging district's sync"
province_alive "the sync"
[[ $(frozen_at "$L") == True ]] || later_fail "the lagging district holds no evidence of the fork"
[[ $(today_at "$L") == 1 ]] || later_fail "the lagging district shows $(today_at "$L") visits of today, not 1"
[[ $(held "$L" "$IDC") -lt $FSEQ ]] || later_fail "the lagging district took the forgery"
"$TV" -d "$L" status >"$W/status.out" 2>&1 || fail "status at the lagging district"
grep -qF "FORK      origin $IDC" "$W/status.out" || later_fail "status does not show the fork"

check "the commune's own store takes no checkpoint of its log that it did not write (even one carrying every scan)"
run "$TV" -d "$C" bundle import "$W/forged"
expect_refused 1 "the forged checkpoint at the commune"
refusal_named "$W/err" "$IDC" "$FSEQ-$FEND" "R2:" "the commune's refusal"
[[ $(today_at "$C") == 2 ]] || later_fail "the commune shows $(today_at "$C") visits of today, not 2"
GSEQ=$(forge "$T" checkpoint --skip 500 --drop-since 2099-01-01T00:00:00+07:00 --out-file "$W/forged2")
grep -q " 0 scans left out" "$W/forge.err" || fail "the second forgery: $(cat "$W/forge.err")"
GEND=$((GSEQ + $(sed -n 's/.*: \([0-9]*\) copies.*/\1/p' "$W/forge.err")))
run "$TV" -d "$C" bundle import "$W/forged2"
expect_refused 1 "a forged checkpoint carrying every scan, at the commune"
refusal_named "$W/err" "$IDC" "$GSEQ-$GEND" "R2:" "the commune's refusal of the second forgery"
[[ $(held "$C" "$IDC") == "$CSEQ" ]] || later_fail "the commune's log moved: $(held "$C" "$IDC")"

check "the commune's own checkpoint: a lagging district and a new node take it"
run "$TV" -d "$C" purge --json
expect_ok "purge at the commune"
[[ $(json_get checkpoint upto <<<"$OUT") == "$CSEQ" ]] || fail "the commune's checkpoint: $OUT"
carry "$C" "$M"
[[ $(held "$M" "$IDC") == $(held "$C" "$IDC") ]] ||
    later_fail "the lagging district did not take the commune's checkpoint: $(held "$M" "$IDC")"
[[ $(frozen_at "$M") == False ]] || later_fail "the lagging district took the honest checkpoint for a fork"
[[ $(today_at "$M") == 2 ]] || later_fail "the lagging district shows $(today_at "$M") visits of today, not 2"
run "$TV" -d "$M" verify
expect_ok "verify at the lagging district"
[[ $(held "$N" "$IDC") == 0 ]] || fail "the new node holds some of the commune's log already"
carry "$C" "$N"
[[ $(held "$N" "$IDC") == $(held "$C" "$IDC") ]] ||
    later_fail "the new node did not take the commune's log from its checkpoint"
[[ $(today_at "$N") == 2 ]] || later_fail "the new node shows $(today_at "$N") visits of today, not 2"

finish "11_forged_checkpoint"
