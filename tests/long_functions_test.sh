#!/usr/bin/env bash
# No product function over 70 lines without a reason written beside it.
#
# Reads every .c and .h under node/, store/, net/, crdt/ and sim/ (the product, and the
# simulator that runs it) and lists each function whose body, from its opening brace to its
# closing brace, is longer than 70 lines and whose signature is not preceded, just before
# it, by a comment that starts with "long:" (on one line or more), such as
#
#     /* long: one case per option, beside the option table: clearer whole */
#     static void parse_args(...)
#
# A long function is split by meaning (a named step, a table instead of a switch), not cut
# at line 70; the comment is for the function that reads better whole.
#
# The code is formatted by the repo's .clang-format (Linux braces): a function's opening
# and closing braces are alone at the start of a line, and its signature starts at the
# start of a line. Run as `bash tests/long_functions_test.sh [ignored]` (ctest passes the
# binary, as to every shell test), or with `--files F...` to check only the files given.
set -euo pipefail

LIMIT=70
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

files=()
if [[ ${1:-} == --files ]]; then
    shift
    files=("$@")
else
    cd "$ROOT"
    while IFS= read -r f; do
        files+=("$f")
    done < <(find node store net crdt sim -type f \( -name '*.c' -o -name '*.h' \) | sort)
fi
if [[ ${#files[@]} -eq 0 ]]; then
    echo "no source files found under $ROOT" >&2
    exit 77
fi

# Prints "LINES FILE:LINE NAME" for each function over the limit without its reason.
long=$(awk -v limit="$LIMIT" '
FNR == 1 { sig = ""; inb = 0; incomment = 0; cfirst = ""; cend = 0; before = "" }
{
    # the comment that ends on the line just before a signature: its first line
    if ($0 ~ /^[ \t]*\/\*/ || $0 ~ /^[ \t]*\/\//) { if (incomment == 0) cfirst = $0; incomment = 1 }
    if (incomment && ($0 ~ /\*\/[ \t]*$/ || $0 ~ /^[ \t]*\/\//)) { incomment = 0; cend = FNR }
    if (!inb) {
        if ($0 ~ /^[A-Za-z_]/ && $0 !~ /;[ \t]*$/ && $0 ~ /\(/) {
            sig = $0; sigline = FNR; before = (cend == FNR - 1) ? cfirst : ""
        } else if ($0 ~ /^[A-Za-z_]/ && $0 ~ /;[ \t]*$/) {
            sig = ""
        }
        if ($0 ~ /^\{/ && sig != "") { inb = 1; start = FNR }
    } else if ($0 ~ /^\}/) {
        inb = 0
        n = FNR - start + 1
        if (n > limit && before !~ /^[ \t]*(\/\*|\/\/)[ \t]*long: *[^ *]/) {
            name = sig; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
            print n, FILENAME ":" sigline, name
        }
        sig = ""
    }
}' "${files[@]}")

if [[ -n $long ]]; then
    echo "functions over $LIMIT lines with no /* long: reason */ just before them:" >&2
    echo "$long" | sort -rn >&2
    echo "split them by meaning (a named step, a table), or say beside them why they read better whole" >&2
    exit 1
fi
echo "no function over $LIMIT lines without a reason (${#files[@]} files)"
