#!/usr/bin/env bash
# A commune's server started before the commune is enrolled serves the console alone (its
# operator enrols it there), and purges what is older than the retention period as any
# server does; once a certificate is accepted, the same server starts to sync with its
# parent, without a restart. Every wait is on a line the server writes into a
# FIFO, or on the province holding what the commune records, with a deadline.
#
# Usage: bash tests/cli/serve_enrol_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DEADLINE=30 # seconds a line may take before the test gives up (a hang, not a timing)
P=$W/province-56
C=$W/commune-22333

# until_line PATTERN WHAT: reads the commune server's lines until one matches PATTERN
until_line() {
    local end=$((SECONDS + DEADLINE))
    while ((SECONDS < end)) && IFS= read -r -t "$DEADLINE" -u 6 LINE; do
        printf '%s\n' "$LINE" >>"$W/c.seen"
        # shellcheck disable=SC2053 # PATTERN is a glob
        [[ $LINE == $1 ]] && return 0
    done
    fail "the commune's server did not say $2: $(cat "$W/c.seen" 2>/dev/null)"
}

check "a province serving on its endpoint; a commune, not enrolled, with it as parent"
PP=$(free_port)
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$P" peer listen "tcp://127.0.0.1:$PP" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
"$TV" -d "$C" peer add "tcp://127.0.0.1:$PP" --parent >/dev/null 2>&1
"$TV" -d "$P" serve --http off 2>"$W/p.log" &
PIDS+=($!)
# recorded before it syncs: a venue, and a scan older than the retention period (28 days)
V=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category 1 2>/dev/null)
OLD=$(python3 -c 'import datetime as d; print((d.datetime.now(d.timezone(d.timedelta(hours=7))) - d.timedelta(days=40)).replace(microsecond=0).isoformat())')
"$TV" -d "$C" scan --venue "$V" --person 0912345678 --at "$OLD" >/dev/null 2>&1

check "the commune's server serves the console alone, purges, and says so"
mkfifo "$W/c.log"
"$TV" -d "$C" serve --http 127.0.0.1:0 2>"$W/c.log" &
CPID=$!
PIDS+=("$CPID")
exec 6<"$W/c.log"
until_line "* truyvet: purged what is older than 28 days: 1 scans, 1 person records, 0 audit rows" \
    "that it purged the scan of 40 days ago"
until_line "truyvet: not enrolled yet, so no sync; serving the console only (the sync starts once there is)" \
    "that it serves the console alone"
[[ -s $C/console.url ]] || fail "the console is not served (no console.url)"

check "the commune is enrolled while its server runs; the server starts to sync"
"$TV" -d "$C" enroll request --out "$W/req" >/dev/null 2>&1
"$TV" -d "$P" enroll issue "$W/req" --out "$W/cert" >/dev/null 2>&1
"$TV" -d "$C" enroll accept "$W/cert" >/dev/null 2>&1
PID_P=$(node_id "$P")
PID_P=${PID_P:0:16}
until_line "* truyvet: in step with $PID_P: *" "that it is in step with the province"

check "what the commune records reaches the province"
"$TV" -d "$C" scan --venue "$V" --person 0912345679 >/dev/null 2>&1
CID=$(node_id "$C")
SEQ=$(held "$C" "$CID")
[[ $SEQ -ge 1 ]] || fail "the commune's own log holds nothing"
end=$((SECONDS + DEADLINE))
while (($(held "$P" "$CID") < SEQ)); do # the server's work, polled with a deadline
    ((SECONDS < end)) || fail "the province holds the commune up to $(held "$P" "$CID"), not $SEQ"
    sleep 0.1
done

check "the server stops cleanly"
kill -TERM "$CPID"
rc=0
wait "$CPID" || rc=$?
exec 6<&-
[[ $rc -eq 0 ]] || fail "the commune's server ended with exit status $rc after SIGTERM"

# A second commune whose own endpoint is taken (the province listens there): once it is
# enrolled its sync cannot start, and the console its operator is using stays up.
check "a sync that fails after the enrolment leaves the console serving"
C2=$W/commune-22366
"$TV" -d "$C2" init --role commune --unit 22366 --name "Phường Nha Trang" >/dev/null 2>&1
"$TV" -d "$C2" peer listen "tcp://127.0.0.1:$PP" >/dev/null 2>&1
: >"$W/c.seen"
mkfifo "$W/c2.log"
"$TV" -d "$C2" serve --http 127.0.0.1:0 2>"$W/c2.log" &
CPID=$!
PIDS+=("$CPID")
exec 6<"$W/c2.log"
until_line "truyvet: not enrolled yet, so no sync; serving the console only (the sync starts once there is)" \
    "that it serves the console alone"
"$TV" -d "$C2" enroll request --out "$W/req2" >/dev/null 2>&1
"$TV" -d "$P" enroll issue "$W/req2" --out "$W/cert2" >/dev/null 2>&1
"$TV" -d "$C2" enroll accept "$W/cert2" >/dev/null 2>&1
until_line "truyvet: the sync stopped (*); serving the console only, trying again every 2 s" \
    "that its sync stopped and the console stays"
URL=$(cat "$C2/console.url")
python3 -c 'import sys, urllib.request; sys.exit(urllib.request.urlopen(sys.argv[1] + "login", timeout=30).status != 200)' "$URL" ||
    fail "the console does not answer after the sync stopped"
kill -TERM "$CPID"
rc=0
wait "$CPID" || rc=$?
exec 6<&-
[[ $rc -eq 0 ]] || fail "the second commune's server ended with exit status $rc after SIGTERM"
echo "serve_enrol_test: passed"
