#!/usr/bin/env bash
# Runs the simulator over a range of seeds (each a different mix of faults) and fails on
# the first seed that breaks an invariant, printing how to replay it.
#
# Usage: bash sim/seeds.sh /path/to/truyvet-sim COUNT [FIRST] [-- extra simulator options]
set -euo pipefail
if [[ $# -lt 2 || ! -x $1 ]]; then
    echo "usage: $0 /path/to/truyvet-sim COUNT [FIRST] [-- options]" >&2
    exit 2
fi
SIM=$1
COUNT=$2
FIRST=${3:-1}
shift $(($# >= 3 ? 3 : 2))
[[ ${1-} == -- ]] && shift
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((seed = FIRST; seed < FIRST + COUNT; seed++)); do
    if ! "$SIM" --seed "$seed" "$@" >"$out" 2>&1; then
        cat "$out"
        echo "FAIL: seed $seed breaks an invariant; replay with: $SIM --seed $seed $*" >&2
        exit 1
    fi
done
echo "$COUNT seeds from $FIRST: all invariants hold"
echo "$COUNT passed, 0 failed"
