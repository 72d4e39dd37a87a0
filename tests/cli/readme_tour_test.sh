#!/usr/bin/env bash
# The README's five-minute tour, run exactly as written, so that it cannot drift from
# what the program does. The commands are extracted from README.md: the ```sh blocks
# between the line starting "<!-- tour:" and the line "<!-- end of tour -->", in order,
# run as one bash script with errexit (as a reader pasting them into one shell would,
# stopping at the first command that fails). Any command that exits non-zero fails the
# test, with its README line number.
#
# What the test provides, and nothing else is substituted:
# - the tour's first line puts "$PWD/build" on PATH: the test runs it from a directory
#   whose build/truyvet is a symbolic link to the binary under test, with PATH otherwise
#   /usr/bin:/bin (so that no installed truyvet answers instead);
# - TMPDIR is the test's own directory, so that the tour's `mktemp -d` (where its nodes
#   and files go) is removed with it;
# - tests/lib.sh's environment: the nodes' passphrase as a systemd credential, the
#   cheapest key derivation, a keyring of each process's own (no terminal prompts);
# - standard input is /dev/null (the station in the tour reads from its own pipe).
#
# Usage: bash tests/cli/readme_tour_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

README=$(dirname "${BASH_SOURCE[0]}")/../../README.md

check "the tour's commands are extracted from README.md"
# The script keeps the README's line numbers: every line outside the tour's sh blocks
# becomes an empty line, so that bash's LINENO is the README's line.
python3 - "$README" "$W/tour.sh" <<'EOF'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
starts = [i for i, l in enumerate(lines) if l.startswith("<!-- tour:")]
ends = [i for i, l in enumerate(lines) if l.strip() == "<!-- end of tour -->"]
if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
    sys.exit("README.md must hold one '<!-- tour:' line and, after it, one "
             "'<!-- end of tour -->' line (found %d and %d)" % (len(starts), len(ends)))
out, inside, blocks = [""] * len(lines), False, 0
for i in range(starts[0] + 1, ends[0]):
    l = lines[i]
    if not inside and l.strip() == "```sh":
        inside, blocks = True, blocks + 1
    elif inside and l.strip() == "```":
        inside = False
    elif inside:
        out[i] = l
    elif l.startswith("```"):
        sys.exit("README.md:%d: a code block in the tour that is not ```sh" % (i + 1))
if inside:
    sys.exit("README.md: the tour's last ```sh block is not closed")
if blocks < 3:
    sys.exit("README.md: only %d ```sh blocks in the tour" % blocks)
# line 1 (the README's title) carries the prelude; the tour starts well after it
assert starts[0] > 1
out[0] = ("set -e; trap 'echo \"README.md:$LINENO: exit status $? from: $BASH_COMMAND\" >&2' ERR")
out.append('echo "the tour ran to its end"')
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
print(blocks)
EOF

check "every command of the tour succeeds, as written"
mkdir -p "$W/src/build" "$W/tmp"
ln -s "$TV" "$W/src/build/truyvet"
RC=0
(cd "$W/src" && TMPDIR=$W/tmp PATH=/usr/bin:/bin bash "$W/tour.sh" </dev/null >"$W/out" 2>"$W/err") ||
    RC=$?
LAST="the README tour"
if [[ $RC -ne 0 ]] || [[ $(tail -n 1 "$W/out") != "the tour ran to its end" ]]; then
    fail "the tour stopped: $(grep '^README.md:' "$W/err" | tail -n 1)"
fi

# What the tour says it does, seen in the files it left.
TOUR=$(echo "$W"/tmp/tmp.*)
[[ -d $TOUR ]] || fail "the tour made no directory of its own under TMPDIR"

check "the tour's personal cards: two people, two cards, on one A4 page"
[[ $(pdfinfo "$TOUR/cards.pdf" | sed -n 's/^Pages: *//p') == 1 ]] ||
    fail "cards.pdf has not 1 page: $(pdfinfo "$TOUR/cards.pdf" 2>&1 | grep Pages)"
[[ $(grep -c '^TV1:' "$W/out") == 2 ]] ||
    fail "the tour's person card printed $(grep -c '^TV1:' "$W/out") codes, not 2"

check "the tour's province lists the commune's venues with the commune's code and name"
grep -qE '^[0-9a-f]{16}  [0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]  .*  22333 Phường Bắc Nha Trang  Chợ Vĩnh Hải' \
    "$W/out" || fail "no line of the market with its commune in the tour's output"

echo "PASS"
