#!/usr/bin/env bash
# Crash test: nothing `truyvet import` has acknowledged is lost when it is killed with
# SIGKILL. `import --ids` prints "LINE<TAB>EVENT-ID" for each row only after the group of
# rows holding it is committed (one LMDB write transaction, fsynced), so every id in its
# output must be in the log after a kill, whenever the kill lands: while rows are parsed
# and signed, during a commit, or while the ids of a commit are being printed.
#
# Usage: bash tests/cli/crash_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

IMPORT_PID=""
cleanup() { # lib.sh's, but it stops the import first
    # An import still running after a failed check is ours: stop it before removing its files.
    if [[ -n $IMPORT_PID ]] && kill -0 "$IMPORT_PID" 2>/dev/null; then
        kill -9 "$IMPORT_PID" 2>/dev/null || true
        wait "$IMPORT_PID" 2>/dev/null || true
    fi
    rm -rf "$W"
}

NODE=$W/node
ROWS=400000        # rows in the CSV file: far more than are read before the kill
COMMIT_ROWS=16384  # rows per commit in `truyvet import` (IMPORT_COMMIT_ROWS)
POLL_LIMIT=6000    # polls of 0.05 s: a bound on the wait (5 minutes), not a timing check

# status_scans: the number of scan events the node holds (status --json).
status_scans() {
    "$TV" -d "$NODE" status --json |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["events"]["scan"])'
}

# --- a node, a venue, and a large register ---------------------------------------------

check "setting up a commune node with one venue"
"$TV" -d "$NODE" init --role commune --unit 22333 --name "UBND Xã Phước Đồng" >/dev/null 2>"$W/err" ||
    fail "init failed: $(cat "$W/err")"
VENUE=$("$TV" -d "$NODE" venue add --name "Chợ Phước Đồng" --category market 2>"$W/err") ||
    fail "venue add failed: $(cat "$W/err")"
[[ $VENUE =~ ^[0-9a-f]{16}$ ]] || fail "venue add printed '$VENUE', not a venue id"

# Row i (on line i+2) is person 09<i, 8 digits>, in for even i, out for odd i, so each
# recorded event can be matched to the row it came from.
check "generating a CSV file of $ROWS rows"
CSV=$W/big.csv
awk -v venue="$VENUE" -v rows="$ROWS" 'BEGIN {
    print "venue,person,direction,time"
    for (i = 0; i < rows; i++)
        printf "%s,09%08d,%s,2021-10-%02dT%02d:%02d:%02d+07:00\n", venue, i,
               (i % 2 ? "out" : "in"), 1 + i % 28, i % 24, i % 60, (i * 7) % 60
}' >"$CSV"
[[ $(wc -l <"$CSV") -eq $((ROWS + 1)) ]] || fail "the CSV file does not have $ROWS rows"

# check_acked ACKED LOG: every complete "LINE<TAB>ID" line of ACKED names an event of LOG
# (log --json) that is the scan of that CSV line. A kill can cut the last line short (the
# ids of a commit are printed in several writes); a line without its newline was not
# fully printed, so it is not counted as acknowledged. Prints the number acknowledged.
check_acked() {
    python3 - "$1" "$2" "$CSV" <<'EOF'
import json, re, sys
acked_path, log_path, csv_path = sys.argv[1:]
raw = open(acked_path, "rb").read()
lines = raw.split(b"\n")[:-1]  # the part after the last newline is unfinished
acked = []
for l in lines:
    m = re.fullmatch(rb"(\d+)\t([0-9a-f]{16}-\d+)", l)
    if not m:
        sys.exit(f"malformed acknowledgement line {l!r}")
    acked.append((int(m.group(1)), m.group(2).decode()))
# Rows are read in order and all are good, so the acknowledged lines are 2, 3, 4, ...
if [n for n, _ in acked] != list(range(2, 2 + len(acked))):
    sys.exit("the acknowledged line numbers are not the rows in file order")
rows = open(csv_path, encoding="utf-8").read().split("\n")
logged, shown = {}, {}
for l in open(log_path, encoding="utf-8"):
    ev = json.loads(l)
    logged[ev["id"]] = ev
    if ev["type"] == "person":  # a person new to the node: the display is there
        shown[ev["fields"]["person"]] = ev["fields"]["id_masked"]
missing = [i for _, i in acked if i not in logged]
if missing:
    sys.exit(f"{len(missing)} acknowledged events are not in the log, e.g. {missing[:5]}")
for n, i in acked:
    ev = logged[i]
    venue, person, direction, _ = rows[n - 1].split(",")
    f = ev["fields"]
    if ev["type"] != "scan" or f["venue"] != venue or f["direction"] != direction \
            or (f["masked"] or shown.get(f["person"])) != person[:2] + "******" + person[-2:]:
        sys.exit(f"event {i} acknowledged for line {n} is not that row's scan: {ev}")
print(len(acked))
EOF
}

# --- kill the import at several points ------------------------------------------------

# Thresholds in acknowledged lines: the first kill comes after two commits, the next ones
# after one, three and five. Where exactly the kill lands in the import's work is not
# controlled; over the rounds it falls at different points.
THRESHOLDS=($((2 * COMMIT_ROWS)) $((COMMIT_ROWS)) $((3 * COMMIT_ROWS)) $((5 * COMMIT_ROWS)))
acked_total=0
round=0
for threshold in "${THRESHOLDS[@]}"; do
    round=$((round + 1))
    check "round $round: kill -9 the import once $threshold rows are acknowledged"
    ACKED=$W/acked.$round.txt
    "$TV" -d "$NODE" import --csv "$CSV" --ids >"$ACKED" 2>"$W/import.err" &
    IMPORT_PID=$!
    polls=0
    # Wait until the import has printed enough ids; the file only grows after commits.
    while [[ $(wc -l <"$ACKED") -lt $threshold ]]; do
        kill -0 "$IMPORT_PID" 2>/dev/null ||
            fail "round $round: the import ended before $threshold rows were acknowledged: $(cat "$W/import.err")"
        polls=$((polls + 1))
        ((polls <= POLL_LIMIT)) || fail "round $round: the import acknowledged too few rows in $POLL_LIMIT polls"
        sleep 0.05
    done
    kill -9 "$IMPORT_PID" 2>/dev/null || true
    rc=0
    # (stderr of wait is bash's own "Killed" notice, expected here)
    { wait "$IMPORT_PID"; } 2>/dev/null || rc=$?
    IMPORT_PID=""
    # 128 + 9: the import was still running when the kill came. Anything else means it had
    # finished, and nothing was tested: the file must then be made bigger.
    [[ $rc -eq 137 ]] ||
        fail "round $round: the import exited with status $rc before the kill (make ROWS bigger)"
    [[ $(wc -l <"$ACKED") -lt $ROWS ]] ||
        fail "round $round: every row was acknowledged before the kill (make ROWS bigger)"

    check "round $round: verify passes after the kill"
    "$TV" -d "$NODE" verify >"$W/verify.out" 2>&1 ||
        fail "round $round: verify failed after the kill: $(cat "$W/verify.out")"

    check "round $round: the log holds every acknowledged event"
    "$TV" -d "$NODE" log --json >"$W/log.jsonl" 2>"$W/err" ||
        fail "round $round: log --json failed: $(cat "$W/err")"
    n=$(check_acked "$ACKED" "$W/log.jsonl") || fail "round $round: acknowledged events were lost"
    ((n >= threshold)) || fail "round $round: only $n complete acknowledgement lines"
    acked_total=$((acked_total + n))
    printf '  %d rows acknowledged this round, %d in all\n' "$n" "$acked_total"

    check "round $round: status counts at least the $acked_total acknowledged scans"
    scans=$(status_scans) || fail "round $round: status --json failed"
    ((scans >= acked_total)) || fail "round $round: status counts $scans scans, $acked_total were acknowledged"
    logged=$(grep -c '"type":"scan"' "$W/log.jsonl" || true)
    ((logged == scans)) || fail "round $round: the log holds $logged scans, status counts $scans"
done

# --- the node still records after the crashes -----------------------------------------

# A killed process holds no lock any more: flock locks go with the process.
check "a scan after the crashes is recorded (the writer lock was released)"
id=$("$TV" -d "$NODE" scan --venue "$VENUE" --person 0912345678 2>"$W/err") ||
    fail "scan after the crashes failed: $(cat "$W/err")"
[[ $id =~ ^[0-9a-f]{16}-[0-9]+$ ]] || fail "scan printed '$id', not an event id"
"$TV" -d "$NODE" log --json | grep -qF "\"id\":\"$id\"" || fail "the new scan $id is not in the log"
"$TV" -d "$NODE" verify >"$W/verify.out" 2>&1 || fail "verify failed at the end: $(cat "$W/verify.out")"

echo "crash_test: all checks passed"
