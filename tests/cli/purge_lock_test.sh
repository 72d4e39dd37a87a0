#!/usr/bin/env bash
# The server's daily purge rewrites the store's data file (store_compact) only when no other
# program is recording: a station (or an import) holding the writer lock keeps committing to
# the file it opened, and a rename over it would drop what it acknowledged. With a station
# running, `serve` defers the purge (and says so), the data file stays the same file, and
# every scan the station answered is in the store as a new process reads it. A purge by hand
# does not rewrite the file a running server writes to. And a command that records waits
# for the server's chore rather than failing. Every wait is on a line written into a FIFO,
# with a deadline.
#
# Usage: bash tests/cli/purge_lock_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

DEADLINE=30 # seconds a line may take before the test gives up (a hang, not a timing)
P=$W/province-56
C=$W/commune-22333

check "a commune enrolled under its province, a venue, a parent it cannot reach"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
V=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
"$TV" -d "$C" peer add tcp://127.0.0.1:1 --parent >/dev/null 2>&1

check "a station records a scan (it holds the writer lock)"
mkfifo "$W/gate" "$W/answers" "$W/serve"
"$TV" -d "$C" station --venue "$V" <"$W/gate" >"$W/answers" 2>"$W/gate.err" &
SPID=$!
PIDS+=("$SPID")
exec 4>"$W/gate" 5<"$W/answers"
printf '0912345678\n' >&4
IFS= read -r -t "$DEADLINE" -u 5 LINE || fail "the station did not answer"
[[ $LINE == "OK  09******78  đã vào "* ]] || fail "the station answered '$LINE'"
INODE=$(stat -c %i "$C/store/data.mdb")

check "serve, started beside it, defers its purge and says so"
"$TV" -d "$C" serve --http off 2>"$W/serve" 4>&- 5<&- &
VPID=$!
PIDS+=("$VPID")
exec 6<"$W/serve"
found=0
end=$((SECONDS + DEADLINE)) # a server that never says it: the test fails then
while ((SECONDS < end)) && IFS= read -r -t "$DEADLINE" -u 6 LINE; do
    [[ $LINE == *"truyvet: purge deferred: another program is recording" ]] && found=1 && break
done
[[ $found -eq 1 ]] || fail "serve did not defer its purge"

check "the station goes on recording; the data file is the same file"
printf '0912345679\n' >&4
IFS= read -r -t "$DEADLINE" -u 5 LINE || fail "the station did not answer the second scan"
[[ $LINE == "OK  09******79  đã vào "* ]] || fail "the station answered '$LINE'"
exec 4>&- 5<&-
wait "$SPID" || fail "the station ended with an error: $(cat "$W/gate.err")"
[[ $(stat -c %i "$C/store/data.mdb") == "$INODE" ]] ||
    fail "the data file was replaced while the station recorded"

check "a purge by hand beside the server removes but does not rewrite the file"
rc=0
"$TV" -d "$C" purge --no-checkpoint >/dev/null 2>"$W/purge.err" || rc=$?
[[ $rc -eq 1 ]] || fail "purge beside the server exited $rc, not 1"
[[ $(cat "$W/purge.err") == "truyvet: the purge removed what is older than the retention period, but did not rewrite the store file: another truyvet program has the node in $C open to write (the server, or a command that writes). Stop it, then run 'truyvet purge' again." ]] ||
    fail "purge said '$(cat "$W/purge.err")'"
[[ $(stat -c %i "$C/store/data.mdb") == "$INODE" ]] ||
    fail "the data file was replaced while the server had it open"

check "both scans the station answered are in the store"
kill -TERM "$VPID"
rc=0
wait "$VPID" || rc=$?
exec 6<&-
[[ $rc -eq 0 ]] || fail "serve ended with exit status $rc after SIGTERM"
n=$("$TV" -d "$C" log --json | grep -c '"type":"scan"') || true
[[ $n -eq 2 ]] || fail "the store holds $n scans, not the 2 the station answered"

# The other way round: while the server holds the lock for a chore (its purge, a console's
# commit), a command that records waits for it instead of failing; a station or another
# command holding it is not waited for. The holder here is flock(1) on node.lock, writing
# the note a holder writes (PROTOCOL.md §5).
hold() { # hold KIND: holds the writer lock with that note until fd 7 is closed
    mkfifo "$W/hold.in.$1" "$W/hold.out.$1"
    # shellcheck disable=SC2016 # the inner script's own arguments
    flock -x -n "$C/node.lock" bash -c 'printf "%s 1\n" "$1" >"$2"; echo held; read -r _ || true' \
        _ "$1" "$C/node.lock" <"$W/hold.in.$1" >"$W/hold.out.$1" &
    HPID=$!
    PIDS+=("$HPID")
    exec 7>"$W/hold.in.$1" 8<"$W/hold.out.$1"
    IFS= read -r -t "$DEADLINE" -u 8 LINE || fail "flock did not take the writer lock"
    [[ $LINE == held ]] || fail "flock said '$LINE'"
}

check "a command waits while the server holds the lock for a chore, then records"
hold brief
mkfifo "$W/add.err"
"$TV" -d "$C" venue add --name "Quán Cà Phê Biển" --category 2 >"$W/add.out" 2>"$W/add.err" 7>&- 8<&- &
APID=$!
PIDS+=("$APID")
exec 9<"$W/add.err"
IFS= read -r -t "$DEADLINE" -u 9 LINE || fail "venue add did not say it waits"
[[ $LINE == "truyvet: waiting for another truyvet program on the node in $C to finish a short task (a server's purge or commit)..." ]] ||
    fail "venue add said '$LINE'"
exec 7>&- 8<&-
wait "$HPID" || fail "flock ended with an error"
rc=0
wait "$APID" || rc=$?
exec 9<&-
[[ $rc -eq 0 ]] || fail "venue add ended with exit status $rc after the chore: $(cat "$W/add.err")"
"$TV" -d "$C" venue list | grep -q "Quán Cà Phê Biển" || fail "the venue added after the wait is not listed"

check "a command does not wait for another program that records"
hold hold
rc=0
timeout "$DEADLINE" "$TV" -d "$C" venue add --name "Tiệm Vàng" --category 3 >/dev/null 2>"$W/add2.err" 7>&- 8<&- || rc=$?
exec 7>&- 8<&-
wait "$HPID" || fail "flock ended with an error"
[[ $rc -eq 1 ]] || fail "venue add beside a recording program exited $rc, not 1"
[[ $(cat "$W/add2.err") == "truyvet: cannot open the node: another truyvet program is recording on the node in $C (a station, an import or another command). Wait for it to finish, then try again." ]] ||
    fail "venue add said '$(cat "$W/add2.err")'"
echo "purge_lock_test: passed"
