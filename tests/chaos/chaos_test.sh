#!/usr/bin/env bash
# Chaos test: real `truyvet serve` processes, each in its own network namespace, on a
# network that loses packets, splits, slows down and loses its servers, while the communes
# record scans. After everything is healed, every scan a commune acknowledged must be at
# the province exactly once, and every node's store must verify.
#
# Topology (all inside namespaces this test creates; nothing is routed anywhere else):
#
#     province p  10.213.0.1
#     ├── district d1 10.213.0.11 ── communes c11 10.213.0.21, c12 10.213.0.22
#     └── district d2 10.213.0.12 ── communes c21 10.213.0.23, c22 10.213.0.24
#
# Each node's namespace has one veth ("eth0") whose other end is a port of a bridge in a
# "hub" namespace. Every node runs `truyvet serve`; a commune's parents are its district,
# then the province. Faults, drawn from bash's $RANDOM seeded with SEED:
#   - packet loss on a link or a node (nftables: `numgen random mod 100 lt N drop`),
#   - partitions: a link, or a whole node, dropping everything for a while (nftables),
#   - bandwidth limits (tc tbf on both ends of a node's veth),
#   - SIGKILL of a district or commune server, restarted later,
#   - SIGSTOP of any server for a few seconds, then SIGCONT,
#   - a commune whose clock is forty minutes ahead for the whole run (libfaketime), within
#     the hour a receiver takes before it parks a batch (PROTOCOL.md 3.2, C1), skipped with
#     a message when libfaketime is missing or does not take on this binary.
# Faults are drawn in the same order for a given SEED; their timing is real time, so a
# run is reproducible only roughly.
#
# Usage: bash tests/chaos/chaos_test.sh /path/to/truyvet
# Environment: SEED (default 20211006), ROUNDS (default 8), HEAL_BOUND (seconds to wait for
# the province after healing, default 120), KEEP=1 keeps the node directories and logs.
# Needs root (network namespaces, nftables, tc): run as another user it prints SKIP and
# exits 77, which ctest reports as skipped (SKIP_RETURN_CODE), never as passed.
set -euo pipefail

if [[ $# -ne 1 || ! -x $1 ]]; then
    echo "usage: $0 /path/to/truyvet" >&2
    exit 2
fi
TV=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

SEED=${SEED:-20211006}
ROUNDS=${ROUNDS:-8}
HEAL_BOUND=${HEAL_BOUND:-120}
echo "chaos_test: SEED=$SEED ROUNDS=$ROUNDS"
RANDOM=$SEED

T0=$SECONDS
exec 3>&2 # the test's own stderr, for failures reported while a command's output is redirected
NS=tvchaos$$ # namespaces: $NS-hub and $NS-NODE
HUB=$NS-hub
NODES=(p d1 d2 c11 c12 c21 c22)
DISTRICTS=(d1 d2)
COMMUNES=(c11 c12 c21 c22)
declare -A ADDR=([p]=10.213.0.1 [d1]=10.213.0.11 [d2]=10.213.0.12
    [c11]=10.213.0.21 [c12]=10.213.0.22 [c21]=10.213.0.23 [c22]=10.213.0.24)
declare -A PARENT=([d1]=p [d2]=p [c11]=d1 [c12]=d1 [c21]=d2 [c22]=d2)
declare -A UNIT=([p]=56 [d1]=568 [d2]=569 [c11]=22333 [c12]=22334 [c21]=22411 [c22]=22420)
declare -A PID=()     # the server of each node, while it runs
declare -A STOPPED=() # servers under SIGSTOP
declare -A FAULTY=()  # nodes with nftables rules or qdiscs
declare -A ID=()      # node ids
declare -A IMPORT=()  # the running import of each commune
MADE_NS=()
W=""

log() { printf '[%4ds] %s\n' $((SECONDS - T0)) "$*"; }

cleanup() {
    local p n
    trap - INT TERM
    for n in "${!IMPORT[@]}"; do
        kill -9 "${IMPORT[$n]}" 2>/dev/null || true
        wait "${IMPORT[$n]}" 2>/dev/null || true
    done
    for n in "${!PID[@]}"; do
        kill -9 "${PID[$n]}" 2>/dev/null || true
        wait "${PID[$n]}" 2>/dev/null || true
    done
    # anything else still running in our namespaces was started by this test too
    for n in "${MADE_NS[@]}"; do
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    done
    wait 2>/dev/null || true
    # deleting a namespace deletes its veth, its qdiscs and its nftables tables
    for n in "${MADE_NS[@]}"; do ip netns del "$n" 2>/dev/null || true; done
    if [[ -n $W ]]; then
        if [[ -n ${KEEP-} ]]; then echo "chaos_test: kept $W" >&3; else rm -rf "$W"; fi
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    local f
    {
        printf 'FAIL: %s\n' "$*"
        printf 'FAIL: reproduce with SEED=%s ROUNDS=%s bash %s %s\n' "$SEED" "$ROUNDS" "$0" "$TV"
        for f in "$W"/*.log; do
            [[ -f $f ]] && { printf -- '--- %s (last lines)\n' "$f"; tail -n 25 "$f"; }
        done
    } >&3
    exit 1
}

# A command that fails unexpectedly ends the test with its line, the seed and the logs.
set -o errtrace
on_error() {
    local rc=$? line=$1 cmd=$2
    [[ $BASH_SUBSHELL -eq 0 ]] || exit "$rc"
    trap - ERR
    local i where=""
    for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
        where+=", in ${FUNCNAME[i]} called at line ${BASH_LINENO[i]}"
    done
    fail "line $line$where: '$cmd' failed (exit status $rc)"
}
trap 'on_error "$LINENO" "$BASH_COMMAND"' ERR

# --- can this run here? ---------------------------------------------------------------

if ! command -v ip >/dev/null || ! ip netns add "$HUB" 2>/dev/null; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "chaos_test: SKIP: network namespaces need root ('ip netns add' is not permitted)"
        exit 77
    fi
    echo "FAIL: 'ip netns add' failed although running as root (is iproute2 installed?)" >&2
    exit 1
fi
MADE_NS+=("$HUB")
# Namespaces of an earlier run that was killed outright (SIGKILL, a ctest timeout), so that
# it could not clean up: that run is over, and whatever still runs in them it started.
for n in $(ip netns list | awk '{print $1}' | grep -E '^tvchaos[0-9]+-(hub|p|d[12]|c[12][12])$' ||
    true); do
    owner=${n#tvchaos}
    [[ -d /proc/${owner%%-*} ]] && continue
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del "$n" 2>/dev/null || true
    echo "chaos_test: removed $n, left by an earlier run"
done
for tool in nft tc python3; do
    command -v "$tool" >/dev/null || fail "$tool is missing (./dev.sh installs it)"
done
W=$(mktemp -d)
# the nodes' passphrase, as tests/lib.sh gives it (a credential, the cheapest Argon2id)
mkdir -m 700 "$W/credentials"
printf 'chaos passphrase\n' >"$W/credentials/passphrase"
export CREDENTIALS_DIRECTORY=$W/credentials TRUYVET_KDF=min TRUYVET_KEYRING=process

# --- helpers --------------------------------------------------------------------------

# rnd N: sets R to a number in [0, N) from the seeded generator. Only ever called in the
# main shell (never in $(...)), so the draws follow from SEED alone.
R=0
rnd() { R=$((RANDOM % $1)); }
pick() { # pick WORD...: sets R to one of the words
    rnd $#
    local a=("$@")
    R=${a[$R]}
}

SKEWED=""   # the commune whose clock runs forty minutes ahead, if libfaketime works here
SKEW_ENV=() # what its commands run under

# node_cmd NODE: sets CMD to the command line that runs truyvet on NODE's directory, under
# its skewed clock if it has one (env execs the program: a background job's $! is its pid).
CMD=()
node_cmd() {
    CMD=("$TV" -d "$W/$1")
    [[ $1 == "$SKEWED" ]] && CMD=(env "${SKEW_ENV[@]}" "${CMD[@]}")
    return 0
}

tvn() { # tvn NODE ARGS...: runs truyvet on NODE
    node_cmd "$1"
    "${CMD[@]}" "${@:2}"
}

nsx() { ip netns exec "$NS-$1" "${@:2}"; } # nsx NODE CMD...: runs CMD in NODE's namespace

start_server() { # start_server NODE: runs NODE's server in its namespace, in the background
    node_cmd "$1"
    ip netns exec "$NS-$1" "${CMD[@]}" serve --verbose >>"$W/$1.log" 2>&1 &
    PID[$1]=$!
}

# alive PID: the process exists and has not exited (a zombie has exited)
alive() {
    local st
    [[ -r /proc/$1/stat ]] || return 1
    st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [[ -n $st && $st != Z ]]
}

check_servers() { # every server we did not kill is still running
    local n rc
    for n in "${NODES[@]}"; do
        [[ -n ${PID[$n]-} ]] || continue
        if ! alive "${PID[$n]}"; then
            rc=0
            wait "${PID[$n]}" 2>/dev/null || rc=$?
            fail "the server of $n (pid ${PID[$n]}) died by itself, exit status $rc"
        fi
    done
}

# json_py EXPR: evaluates a Python expression on the JSON on stdin (as `j`)
json_py() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

own_seq() { tvn "$1" status --json | json_py "j['own_seq']"; }

# --- network --------------------------------------------------------------------------

log "network: namespaces, veths, a bridge in $HUB"
ip -n "$HUB" link set lo up
ip -n "$HUB" link add br0 type bridge
ip -n "$HUB" link set br0 up
for n in "${NODES[@]}"; do
    ip netns add "$NS-$n"
    MADE_NS+=("$NS-$n")
    ip -n "$NS-$n" link set lo up
    ip -n "$NS-$n" link add eth0 type veth peer name "v-$n" netns "$HUB"
    ip -n "$HUB" link set "v-$n" master br0
    ip -n "$HUB" link set "v-$n" up
    ip -n "$NS-$n" addr add "${ADDR[$n]}/24" dev eth0
    ip -n "$NS-$n" link set eth0 up
    nsx "$n" nft -f - <<'EOF' || fail "nftables does not work in a network namespace here"
table inet tvchaos {
    chain input { type filter hook input priority 0; policy accept; }
    chain output { type filter hook output priority 0; policy accept; }
}
EOF
done
{ tc -n "$HUB" qdisc replace dev v-p root tbf rate 1mbit burst 4kb latency 300ms &&
    tc -n "$HUB" qdisc del dev v-p root; } || fail "tc tbf does not work here"

# --- the clock skew fault: does libfaketime take on this binary? ----------------------

FAKETIME_LIB=""
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 \
    /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
    [[ -r $f ]] && { FAKETIME_LIB=$f; break; }
done
SKEW_NOTE=""
if [[ -z $FAKETIME_LIB ]]; then
    SKEW_NOTE="libfaketime is not installed (Debian package faketime)"
else
    # An ASan build must have its runtime first in the list of preloaded libraries.
    preload=$FAKETIME_LIB
    asan=$(ldd "$TV" 2>/dev/null | awk '/libasan/ {print $3}')
    [[ -n $asan ]] && preload="$asan $FAKETIME_LIB"
    SKEW_ENV=("LD_PRELOAD=$preload" "FAKETIME=+40m" "FAKETIME_DONT_RESET=1")
    # probe: a scratch node records one scan; its time must be about forty minutes ahead
    probe_ok=0
    if timeout 30 env "${SKEW_ENV[@]}" "$TV" -d "$W/probe" init --role commune --unit 22333 \
        --name probe >/dev/null 2>&1 &&
        v=$(timeout 30 env "${SKEW_ENV[@]}" "$TV" -d "$W/probe" venue add --name v \
            --category market 2>/dev/null) &&
        timeout 30 env "${SKEW_ENV[@]}" "$TV" -d "$W/probe" scan --venue "$v" \
            --person 0912345678 >/dev/null 2>&1; then
        ahead=$("$TV" -d "$W/probe" log --json | tail -n 1 | python3 -c '
import datetime, json, sys
t = datetime.datetime.fromisoformat(json.loads(sys.stdin.readline())["time"])
now = datetime.datetime.now(datetime.timezone.utc)
print(int(t.timestamp() - now.timestamp()))')
        [[ $ahead -gt 1800 && $ahead -lt 3000 ]] && probe_ok=1 ||
            SKEW_NOTE="libfaketime did not move this binary's clock (it is ${ahead}s off)"
    else
        SKEW_NOTE="this binary does not run under libfaketime (preload: $preload)"
    fi
    SKEWED=""
    rm -rf "$W/probe"
    if [[ $probe_ok -eq 1 ]]; then
        pick "${COMMUNES[@]}"
        SKEWED=$R
    fi
fi
if [[ -n $SKEWED ]]; then
    log "clock skew: $SKEWED runs forty minutes ahead (libfaketime)"
else
    log "clock skew fault skipped: $SKEW_NOTE"
fi

# --- nodes, enrolment, configuration --------------------------------------------------

log "nodes: a province, two districts, four communes, enrolled down the tree"
tvn p init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
tvn d1 init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null 2>&1
tvn d2 init --role district --unit 569 --name "TTYT Cam Ranh" >/dev/null 2>&1
for c in "${COMMUNES[@]}"; do
    tvn "$c" init --role commune --unit "${UNIT[$c]}" --unlisted --name "UBND Phường ${UNIT[$c]}" \
        >/dev/null 2>&1
done
enrol() { # enrol CHILD PARENT [issue options...]
    local child=$1 parent=$2
    shift 2
    tvn "$child" enroll request --out "$W/$child.req" >/dev/null 2>&1
    tvn "$parent" enroll issue "$W/$child.req" --out "$W/$child.cert" "$@" >/dev/null 2>&1
    tvn "$child" enroll accept "$W/$child.cert" >/dev/null 2>&1
}
enrol d1 p --scope "${UNIT[c11]},${UNIT[c12]}"
enrol d2 p --scope "${UNIT[c21]},${UNIT[c22]}"
for c in "${COMMUNES[@]}"; do enrol "$c" "${PARENT[$c]}"; done
for n in "${NODES[@]}"; do
    ID[$n]=$(tvn "$n" status --json | json_py "j['node_id']")
    tvn "$n" peer listen "tcp://${ADDR[$n]}:7400"
done
for d in "${DISTRICTS[@]}"; do tvn "$d" peer add "tcp://${ADDR[p]}:7400" --parent; done
declare -A VENUE=()
for c in "${COMMUNES[@]}"; do
    tvn "$c" peer add "tcp://${ADDR[${PARENT[$c]}]}:7400" --parent
    tvn "$c" peer add "tcp://${ADDR[p]}:7400" --parent
    VENUE[$c]=$(tvn "$c" venue add --name "Chợ ${UNIT[$c]}" --category market 2>/dev/null)
done

for n in "${NODES[@]}"; do start_server "$n"; done
log "servers started: $(for n in "${NODES[@]}"; do printf '%s=%s ' "$n" "${PID[$n]}"; done)"

# --- faults ---------------------------------------------------------------------------

nft_rule() { nsx "$1" nft add rule inet tvchaos "${@:2}"; } # nft_rule NODE CHAIN RULE...

fault_loss() { # fault_loss NODE PEER|all PCT
    local n=$1 peer=$2 pct=$3
    if [[ $peer == all ]]; then
        nft_rule "$n" input iifname eth0 numgen random mod 100 lt "$pct" drop
        nft_rule "$n" output oifname eth0 numgen random mod 100 lt "$pct" drop
    else
        nft_rule "$n" input ip saddr "${ADDR[$peer]}" numgen random mod 100 lt "$pct" drop
        nft_rule "$n" output ip daddr "${ADDR[$peer]}" numgen random mod 100 lt "$pct" drop
    fi
    FAULTY[$n]=1
}

fault_partition() { # fault_partition NODE PEER|all
    local n=$1 peer=$2
    if [[ $peer == all ]]; then
        nft_rule "$n" input iifname eth0 drop
        nft_rule "$n" output oifname eth0 drop
    else
        nft_rule "$n" input ip saddr "${ADDR[$peer]}" drop
        nft_rule "$n" output ip daddr "${ADDR[$peer]}" drop
    fi
    FAULTY[$n]=1
}

fault_rate() { # fault_rate NODE KBIT: both ends of the node's veth
    local n=$1 kbit=$2
    tc -n "$NS-$n" qdisc replace dev eth0 root tbf rate "${kbit}kbit" burst 4kb latency 300ms
    tc -n "$HUB" qdisc replace dev "v-$n" root tbf rate "${kbit}kbit" burst 4kb latency 300ms
    FAULTY[$n]=1
}

heal_net() { # heal_net NODE: no more rules or qdiscs on the node's link
    local n=$1
    nsx "$n" nft flush table inet tvchaos
    tc -n "$NS-$n" qdisc del dev eth0 root 2>/dev/null || true
    tc -n "$HUB" qdisc del dev "v-$n" root 2>/dev/null || true
    unset "FAULTY[$n]"
}

kill_server() { # kill_server NODE: SIGKILL, reaped; restarted by restart_servers
    local n=$1
    kill -9 "${PID[$n]}" 2>/dev/null || true
    wait "${PID[$n]}" 2>/dev/null || true
    unset "PID[$n]" "STOPPED[$n]"
    echo "--- SIGKILL at $((SECONDS - T0))s of the test" >>"$W/$n.log"
}

stop_server() { # stop_server NODE: SIGSTOP until resume_servers
    kill -STOP "${PID[$1]}" 2>/dev/null || check_servers
    STOPPED[$1]=1
}

resume_servers() {
    local n
    for n in "${!STOPPED[@]}"; do kill -CONT "${PID[$n]}" 2>/dev/null || true; done
    STOPPED=()
}

restart_servers() {
    local n
    for n in "${NODES[@]}"; do
        if [[ -z ${PID[$n]-} ]]; then
            start_server "$n"
            log "  $n: server restarted (pid ${PID[$n]})"
        fi
    done
}

# draw_net_fault: one network fault, drawn and applied
draw_net_fault() {
    local kind n peer pct kbit
    pick d1 d2 c11 c12 c21 c22
    n=$R
    # the link: to its first parent, or (a commune) to the province
    peer=${PARENT[$n]}
    if [[ $n == c* ]]; then
        rnd 3
        [[ $R -eq 0 ]] && peer=p
    fi
    rnd 10
    kind=$R
    if ((kind < 3)); then
        rnd 35
        pct=$((5 + R))
        fault_loss "$n" "$peer" "$pct"
        log "  loss: $pct% of packets between $n and $peer"
    elif ((kind < 4)); then
        rnd 25
        pct=$((5 + R))
        pick p d1 d2 c11 c12 c21 c22
        n=$R
        fault_loss "$n" all "$pct"
        log "  loss: $pct% of every packet of $n"
    elif ((kind < 6)); then
        fault_partition "$n" "$peer"
        log "  partition: $n <-/-> $peer"
    elif ((kind < 7)); then
        pick p d1 d2 c11 c12 c21 c22
        n=$R
        fault_partition "$n" all
        log "  partition: $n cut off from everyone"
    else
        pick 64 128 256 512 1024
        kbit=$R
        pick p d1 d2 c11 c12 c21 c22
        n=$R
        fault_rate "$n" "$kbit"
        log "  bandwidth: $n limited to ${kbit} kbit/s each way"
    fi
}

# --- scans ------------------------------------------------------------------------------

declare -A NEXT_PERSON=([c11]=0 [c12]=0 [c21]=0 [c22]=0)
declare -A BASE=([c11]=1 [c12]=2 [c21]=3 [c22]=4)
# scans fall on twenty days ending six days ago: inside the retention period (28 days by
# default), so that no server's purge takes them out of the logs before they are counted
DAYS=()
for ((j = 0; j < 20; j++)); do DAYS+=("$(date -d "-$((25 - j)) days" +%F)"); done

make_csv() { # make_csv COMMUNE ROWS FILE: rows with people never used before
    local c=$1 rows=$2 i k dir
    {
        echo "venue,person,direction,time"
        for ((i = 0; i < rows; i++)); do
            k=$((NEXT_PERSON[$c] + i))
            dir=in
            ((k % 3 == 2)) && dir=out
            printf '%s,09%d%07d,%s,%sT%02d:%02d:%02d+07:00\n' "${VENUE[$c]}" \
                "${BASE[$c]}" "$k" "$dir" "${DAYS[$((k / 40000 % 20))]}" $((6 + k / 3600 % 12)) \
                $((k / 60 % 60)) $((k % 60))
        done
    } >"$3"
    NEXT_PERSON[$c]=$((NEXT_PERSON[$c] + rows))
}

start_imports() { # start_imports ROUND: each commune imports a batch of rows, in the background
    local r=$1 c rows
    for c in "${COMMUNES[@]}"; do
        rnd 301
        rows=$((100 + R))
        make_csv "$c" "$rows" "$W/$c-$r.csv"
        node_cmd "$c"
        "${CMD[@]}" import --csv "$W/$c-$r.csv" --ids >"$W/ack-$c-$r.tsv" 2>"$W/import-$c-$r.err" &
        IMPORT[$c]=$!
    done
}

wait_imports() { # wait_imports ROUND
    local r=$1 c rc
    for c in "${COMMUNES[@]}"; do
        rc=0
        wait "${IMPORT[$c]}" || rc=$?
        unset "IMPORT[$c]"
        [[ $rc -eq 0 ]] ||
            fail "import at $c in round $r exited with $rc: $(head -c 2000 "$W/import-$c-$r.err")"
    done
}

# --- the rounds -------------------------------------------------------------------------

for ((round = 1; round <= ROUNDS; round++)); do
    log "round $round"
    # earlier network faults: each goes away, or stays for this round too
    for n in "${NODES[@]}"; do
        [[ -n ${FAULTY[$n]-} ]] || continue
        rnd 2
        if [[ $R -eq 0 ]]; then
            heal_net "$n"
            log "  $n: network healed"
        fi
    done
    rnd 3
    faults=$((R + 1))
    for ((k = 0; k < faults; k++)); do draw_net_fault; done

    start_imports "$round"
    rnd 5
    length=$((4 + R)) # seconds this round's process faults last
    rnd 1500
    first=$((500 + R)) # ms before they hit
    sleep "$((first / 1000)).$(printf '%03d' $((first % 1000)))"
    rnd 3
    if [[ $R -gt 0 ]]; then
        pick d1 d2 c11 c12 c21 c22
        victim=$R
        kill_server "$victim"
        log "  SIGKILL: server of $victim"
    fi
    rnd 2
    if [[ $R -eq 0 ]]; then
        pick p d1 d2 c11 c12 c21 c22
        if [[ -n ${PID[$R]-} ]]; then
            stop_server "$R"
            log "  SIGSTOP: server of $R"
        fi
    fi
    sleep "$length" # the faults last this long: not a wait for anything
    resume_servers
    check_servers
    restart_servers
    wait_imports "$round"
    acks=0
    for c in "${COMMUNES[@]}"; do acks=$((acks + $(wc -l <"$W/ack-$c-$round.tsv"))); done
    log "  $acks scans acknowledged by the communes in round $round"
done

# --- heal, then wait for the province ---------------------------------------------------

log "healing: no more rules or qdiscs, every server running"
for n in "${NODES[@]}"; do heal_net "$n"; done
resume_servers
check_servers
restart_servers

declare -A OWN=()
for c in "${COMMUNES[@]}"; do OWN[$c]=$(own_seq "$c"); done

# missing: events of the communes' own logs the province does not hold yet
missing() {
    local args=() c
    for c in "${COMMUNES[@]}"; do args+=("${ID[$c]}=${OWN[$c]}"); done
    tvn p status --json | python3 -c '
import json, sys
held = {f["origin"]: f["seq"] for f in json.load(sys.stdin)["frontier"]}
want = dict(a.split("=") for a in sys.argv[1:])
print(sum(max(0, int(s) - held.get(o, 0)) for o, s in want.items()))' "${args[@]}"
}

heal_start=$SECONDS
left=$(missing)
while [[ $left -gt 0 ]]; do
    ((SECONDS - heal_start < HEAL_BOUND)) ||
        fail "the province still lacks $left events of the communes $HEAL_BOUND s after healing"
    check_servers
    sleep 0.5
    left=$(missing)
done
log "the province holds every commune's log, $((SECONDS - heal_start)) s after healing"

# --- the checker ------------------------------------------------------------------------

check_servers
log "servers: SIGTERM, each must stop cleanly"
for n in "${NODES[@]}"; do kill -TERM "${PID[$n]}"; done
for n in "${NODES[@]}"; do
    rc=0
    wait "${PID[$n]}" || rc=$?
    unset "PID[$n]"
    [[ $rc -eq 0 ]] || fail "the server of $n exited with $rc on SIGTERM"
done
reports=$(grep -l -E "ERROR: AddressSanitizer|runtime error:|LeakSanitizer" "$W"/*.log || true)
[[ -z $reports ]] || fail "sanitizer reports in: $reports"

for n in "${NODES[@]}"; do
    tvn "$n" verify >"$W/verify-$n.out" 2>&1 ||
        fail "verify fails at $n: $(head -c 2000 "$W/verify-$n.out")"
done
log "verify: every node's store checks out"

if [[ -n $SKEWED ]]; then
    ahead=$("$TV" -d "$W/$SKEWED" log --json | python3 -c '
import datetime, json, sys
last = [e for e in map(json.loads, sys.stdin) if e["origin"] == sys.argv[1]][-1]
t = datetime.datetime.fromisoformat(last["time"])
now = datetime.datetime.now(datetime.timezone.utc)
print(int(t.timestamp() - now.timestamp()))' "${ID[$SKEWED]}")
    [[ $ahead -gt 1800 ]] || fail "the skewed commune's last event is only ${ahead}s ahead"
    log "clock skew: $SKEWED's log runs ${ahead}s ahead of the others"
fi

tvn p log --json >"$W/province.jsonl"
cat "$W"/ack-*.tsv >"$W/acks.tsv"
origins=()
for c in "${COMMUNES[@]}"; do origins+=("${ID[$c]}"); done
verdict=0
python3 - "$W/acks.tsv" "$W/province.jsonl" "${origins[@]}" <<'EOF' || verdict=$?
import collections, json, sys

acks_path, log_path, origins = sys.argv[1], sys.argv[2], set(sys.argv[3:])
acked = [line.rstrip("\n").split("\t")[1] for line in open(acks_path) if line.strip()]
ids = collections.Counter()
rows = collections.Counter()  # the same scan recorded twice under different ids
for line in open(log_path):
    e = json.loads(line)
    ids[e["id"]] += 1
    if e["type"] == "scan" and e["origin"] in origins:
        f = e["fields"]
        rows[(e["origin"], f["venue"], f["person"], f["direction"], f["at"])] += 1
acked_set = set(acked)
lost = sorted(i for i in acked_set if ids[i] == 0)
dup = sorted(i for i in ids if ids[i] > 1)
dup_rows = [k for k, v in rows.items() if v > 1]
twice_acked = len(acked) - len(acked_set)
at_province = sum(1 for i in acked_set if ids[i] > 0)
unacked_scans = sum(rows.values()) - at_province
print(f"acknowledged={len(acked)} at_province={at_province} lost={len(lost)} "
      f"duplicated={len(dup) + len(dup_rows) + twice_acked}")
if lost:
    print("lost ids (first 20):", " ".join(lost[:20]), file=sys.stderr)
if dup or dup_rows or twice_acked:
    print(f"duplicated ids: {dup[:20]}; same scan under several ids: {dup_rows[:5]}; "
          f"ids acknowledged twice: {twice_acked}", file=sys.stderr)
if unacked_scans:
    print(f"{unacked_scans} scans of the communes at the province were never acknowledged",
          file=sys.stderr)
sys.exit(1 if lost or dup or dup_rows or twice_acked or unacked_scans else 0)
EOF
[[ $verdict -eq 0 ]] || fail "scans lost or duplicated at the province"
log "chaos_test: passed (SEED=$SEED, $((SECONDS - T0)) s)"
