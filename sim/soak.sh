#!/usr/bin/env bash
# A soak: runs the simulator on seed after seed (larger networks, longer runs) until
# stopped or until COUNT seeds have run, and lists every seed that broke an invariant.
#
# Usage: bash sim/soak.sh /path/to/truyvet-sim [COUNT] [FIRST] [-- simulator options]
#   e.g. bash sim/soak.sh build/truyvet-sim 1000 5000 -- --communes 40 --districts 4 --days 10
set -uo pipefail
if [[ $# -lt 1 || ! -x $1 ]]; then
    echo "usage: $0 /path/to/truyvet-sim [COUNT] [FIRST] [-- options]" >&2
    exit 2
fi
SIM=$1
COUNT=${2:-0} # 0: until stopped
FIRST=${3:-$((RANDOM * 32768 + RANDOM))}
shift $(($# >= 3 ? 3 : $#))
[[ ${1-} == -- ]] && shift
failed=()
trap 'echo; echo "stopped: ${#failed[@]} failing seed(s): ${failed[*]}"; exit ${#failed[@]}' INT TERM
seed=$FIRST
ran=0
while ((COUNT == 0 || ran < COUNT)); do
    if ! last=$("$SIM" --seed "$seed" "$@" 2>&1 | tail -n 1); then
        failed+=("$seed")
        echo "seed $seed FAILED: replay with $SIM --seed $seed $*"
    fi
    ran=$((ran + 1))
    ((ran % 50 == 0)) && echo "$ran seeds run, ${#failed[@]} failed; last: $last"
    seed=$((seed + 1))
done
echo "$ran seeds from $FIRST: ${#failed[@]} failed ${failed[*]}"
exit $((${#failed[@]} > 0))
