#!/usr/bin/env bash
# truyvet developer entry point.
#   ./dev.sh demo    install what is missing, build, run the demo network
#   ./dev.sh test    install what is missing, build, run every test (plain, then ASan+UBSan,
#                    then the fuzz harnesses of tests/fuzz for a fixed number of inputs)
#   ./dev.sh fuzz [SECONDS]  run each fuzz harness for SECONDS (default 600)
#   ./dev.sh build   install what is missing and build (build/)
#   ./dev.sh bench   build and run the benchmarks (bench/), printing their figures
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config libzmq3-dev liblmdb-dev libmsgpack-dev
          libsodium-dev libqrencode-dev libcairo2-dev libpango1.0-dev fonts-dejavu-core
          libcmocka-dev python3 iproute2 nftables faketime zbar-tools poppler-utils
          chromium chromium-driver python3-selenium libmicrohttpd-dev clang libclang-rt-14-dev
          nginx openssl)

install_missing() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "dev.sh: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

# build DIR [cmake options...]
build() {
    local dir=$1
    shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTV_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)"
}

run_tests() {
    build build
    echo "== tests (release build) =="
    ctest --test-dir build --output-on-failure -j"$(nproc)"
    build build-asan -DTV_SANITIZE=ON
    echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer) =="
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        LSAN_OPTIONS=suppressions=$(pwd)/tests/lsan.supp \
        ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
    echo "== fuzz harnesses (clang, libFuzzer + ASan + UBSan; tests/fuzz) =="
    tests/fuzz/run.sh build/truyvet test
}

run_fuzz() {
    build build
    tests/fuzz/run.sh build/truyvet fuzz "${1:-600}"
}

# The demo network of Khánh Hòa on loopback, as real processes: the province (Sở Y tế,
# the root of trust), two district health centres and four communes, enrolled down the
# tree with certificate files; scans recorded at the communes travel up, one commune is
# cut off and comes back, a district dies and its communes fall back to the province.
# Every process the demo starts in the background is recorded in $DEMO_ROOT/pids and
# stopped when the demo ends, however it ends (done, a failed step, Ctrl-C); a run that was
# killed outright leaves its pid file, and the next run stops what it lists. Only a pid
# that is still a truyvet of a node under $DEMO_ROOT is signalled.
DEMO_ROOT=""
demo_is_ours() { # demo_is_ours PID
    local args=()
    [ -r "/proc/$1/cmdline" ] || return 1
    mapfile -d '' args <"/proc/$1/cmdline" 2>/dev/null || return 1
    [[ ${#args[@]} -ge 3 && ${args[0]##*/} == truyvet && ${args[1]} == -d &&
        ${args[2]} == "$DEMO_ROOT/"* ]]
}

demo_stop() {
    local f=$DEMO_ROOT/pids p i live
    [ -n "$DEMO_ROOT" ] && [ -f "$f" ] || return 0
    local pids=()
    while read -r p; do demo_is_ours "$p" && pids+=("$p"); done <"$f"
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done # the demo's own children
    for i in $(seq 1 100); do # those of an earlier run are not children: until they are gone
        live=()
        for p in "${pids[@]}"; do demo_is_ours "$p" && live+=("$p"); done
        [ ${#live[@]} -eq 0 ] && break
        [ "$i" -eq 100 ] && kill -KILL "${live[@]}" 2>/dev/null
        sleep 0.05
    done
    : >"$f"
}

# Environment (for tests): TRUYVET_DEMO_BUILD=DIR uses the truyvet already built in DIR
# (nothing installed or built), TRUYVET_DEMO_ROOT=DIR puts the nodes there (default
# build/demo), TRUYVET_DEMO_PORT=N listens on ports N to N+2 (default 17400),
# TRUYVET_DEMO_SCREENSHOT=0 skips the report's screenshot.
run_demo() {
    local bdir=${TRUYVET_DEMO_BUILD:-build}
    [ -n "${TRUYVET_DEMO_BUILD:-}" ] || build build
    local tv root errlog
    tv=$(cd "$bdir" && pwd)/truyvet
    [ -x "$tv" ] || { echo "dev.sh demo: no truyvet in $bdir" >&2; return 1; }
    root=${TRUYVET_DEMO_ROOT:-$(pwd)/build/demo}
    mkdir -p "$root"
    root=$(cd "$root" && pwd)
    DEMO_ROOT=$root
    demo_stop # what a run killed outright left running
    rm -rf "$root"
    mkdir -p "$root"
    : >"$root/pids"
    # what the steps print on stderr goes to demo.err (shown when a step fails); a step that
    # fails or crashes ends the demo, with what it said; so does Ctrl-C; the servers stop
    errlog=$root/demo.err
    exec 3>&2
    trap demo_stop EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 1' USR1 # a step crashed (see t)
    trap 'demo_failed "$?" "$LINENO" "$BASH_COMMAND"' ERR
    set -E
    demo_failed() {
        trap - ERR
        [ "$1" -eq 130 ] && exit 130 # a step that died of Ctrl-C (t), in a substitution
        echo "dev.sh demo: FAILED at line $2: $3" >&3
        [ -s "$errlog" ] && tail -n 5 "$errlog" | sed 's/^/  /' >&3
        exit 1
    }
    # every demo node's passphrase comes as a service's credential would, at the cheapest
    # Argon2id cost (for a demo only; see README, "Secrets at rest")
    mkdir -m 700 "$root/credentials"
    printf 'demo passphrase\n' >"$root/credentials/passphrase"
    export CREDENTIALS_DIRECTORY=$root/credentials TRUYVET_KDF=min TRUYVET_KEYRING=process
    local port=${TRUYVET_DEMO_PORT:-17400}
    local port_p=$port port_nt=$((port + 1)) port_cr=$((port + 2))
    say() { printf '\n== %s ==\n' "$*"; }
    # t NODE ARGS...: truyvet at a node; a crash (killed by a signal) ends the demo from
    # wherever it happens, a command substitution too
    t() {
        local rc=0
        "$tv" -d "$root/$1" "${@:2}" || rc=$?
        [ "$rc" -eq 130 ] && exit 130 # interrupted (Ctrl-C): the step died of SIGINT
        if [ "$rc" -ge 128 ] && [ "$rc" -ne 141 ]; then # 141: SIGPIPE, a reader done early
            echo "dev.sh demo: 'truyvet -d $root/$1 ${*:2}' crashed (signal $((rc - 128)))" >&3
            [ -s "$errlog" ] && tail -n 3 "$errlog" | sed 's/^/  /' >&3
            kill -USR1 $$
            exit 1
        fi
        return "$rc"
    }
    # bg OUT NODE ARGS...: truyvet at a node in the background, its stdout to OUT and its
    # stderr to NODE.log, its pid recorded (in BG_PID and the pid file)
    bg() {
        "$tv" -d "$root/$2" "${@:3}" >"$1" 2>>"$root/$2.log" &
        BG_PID=$!
        echo "$BG_PID" >>"$root/pids"
    }
    held() { # held NODE ORIGIN-NODE: events NODE holds of ORIGIN-NODE's log
        local id
        id=$(t "$2" status --json | sed -n 's/.*"node_id":"\([0-9a-f]*\)".*/\1/p')
        local seq
        seq=$(t "$1" status --json | tr '{' '\n' |
            sed -n "s/.*\"origin\":\"$id\",\"seq\":\([0-9]*\).*/\1/p")
        echo "${seq:-0}"
    }
    enrol() { # enrol CHILD PARENT [issue options]
        t "$1" enroll request --out "$root/$1.req" 2>>"$errlog"
        t "$2" enroll issue "$root/$1.req" --out "$root/$1.cert" "${@:3}" 2>>"$errlog"
        t "$1" enroll accept "$root/$1.cert" 2>>"$errlog"
    }

    say "nodes: the province, two districts, four communes"
    t province init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null
    t nha-trang init --role district --unit 568 --name "TTYT Nha Trang" >/dev/null
    t cam-ranh init --role district --unit 569 --name "TTYT Cam Ranh" >/dev/null
    t bac-nha-trang init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null
    t nam-nha-trang init --role commune --unit 22402 --name "UBND Phường Nam Nha Trang" >/dev/null
    t bac-cam-ranh init --role commune --unit 22411 --name "UBND Phường Bắc Cam Ranh" >/dev/null
    t cam-ranh-p init --role commune --unit 22420 --name "UBND Phường Cam Ranh" >/dev/null

    say "enrolment: request -> issue (at the parent) -> accept"
    enrol nha-trang province --scope 22333,22402 --health
    enrol cam-ranh province --scope 22411,22420 --health
    enrol bac-nha-trang nha-trang
    enrol nam-nha-trang nha-trang
    enrol bac-cam-ranh cam-ranh
    enrol cam-ranh-p cam-ranh
    t bac-nha-trang status | sed -n '1,3p'

    say "units: each district names itself and places its communes in it; a village named"
    t nha-trang unit add 568 --name "Trung tâm Y tế Nha Trang" --parent 56
    t nha-trang unit add 22333 --parent 568
    t nha-trang unit add 22402 --parent 568
    t cam-ranh unit add 569 --name "Trung tâm Y tế Cam Ranh" --parent 56
    t cam-ranh unit add 22411 --parent 569
    t cam-ranh unit add 22420 --parent 569
    t bac-nha-trang unit add 22333.03 --name "Tổ dân phố 3"

    say "network: each commune's parents are its district, then the province"
    t province peer listen "tcp://127.0.0.1:$port_p"
    t nha-trang peer listen "tcp://127.0.0.1:$port_nt"
    t cam-ranh peer listen "tcp://127.0.0.1:$port_cr"
    t nha-trang peer add "tcp://127.0.0.1:$port_p" --parent
    t cam-ranh peer add "tcp://127.0.0.1:$port_p" --parent
    local c
    for c in bac-nha-trang nam-nha-trang; do
        t $c peer add "tcp://127.0.0.1:$port_nt" --parent
        t $c peer add "tcp://127.0.0.1:$port_p" --parent
    done
    for c in bac-cam-ranh cam-ranh-p; do
        t $c peer add "tcp://127.0.0.1:$port_cr" --parent
        t $c peer add "tcp://127.0.0.1:$port_p" --parent
    done
    t bac-nha-trang peer list
    local name serve_pids=()
    for name in province nha-trang cam-ranh; do
        bg /dev/null "$name" serve --http off # the relays; the console is shown below
        serve_pids+=("$BG_PID")
    done

    say "check-ins at the communes (venues, and a day of scans from a file)"
    local n=0
    for c in bac-nha-trang nam-nha-trang bac-cam-ranh cam-ranh-p; do
        local v1 v2
        v1=$(t $c venue add --name "Chợ $c" --category market --village "Tổ dân phố 1")
        v2=$(t $c venue add --name "Trường Tiểu học $c" --category school --village "Tổ dân phố 2")
        {
            echo "venue,person,direction,time"
            for i in $(seq 1 300); do
                printf '%s,09%02d%06d,in,2021-10-06T%02d:%02d:00+07:00\n' \
                    "$([ $((i % 2)) -eq 0 ] && echo "$v1" || echo "$v2")" "$n" "$i" \
                    $((7 + i % 12)) $((i % 60))
            done
        } >"$root/$c.csv"
        t $c import --csv "$root/$c.csv" 2>>"$errlog"
        n=$((n + 1))
        echo "$c: $(held $c $c) events"
    done

    say "each commune syncs when its link is up (sync --once, as from cron)"
    for c in bac-nha-trang nam-nha-trang bac-cam-ranh; do t $c sync --once --timeout 30; done
    echo "(cam-ranh-p is offline today and keeps recording)"
    t cam-ranh-p scan --venue "$(t cam-ranh-p venue list | head -1 | cut -d' ' -f1)" \
        --person 0912000999 >/dev/null 2>>"$errlog"

    say "the province converges on what it has been sent"

    for _ in $(seq 1 100); do
        [ "$(held province bac-cam-ranh)" = "$(held bac-cam-ranh bac-cam-ranh)" ] && break
        sleep 0.1
    done
    for c in bac-nha-trang nam-nha-trang bac-cam-ranh cam-ranh-p; do
        echo "province holds $(held province $c) of $c's $(held $c $c) events"
    done

    say "the Cam Ranh centre goes down; the cut-off commune comes back and reaches the province"
    kill -9 "${serve_pids[2]}"
    wait "${serve_pids[2]}" 2>/dev/null || true
    t cam-ranh-p sync --once --timeout 40
    echo "province holds $(held province cam-ranh-p) of cam-ranh-p's $(held cam-ranh-p cam-ranh-p) events"

    say "the centre restarts and catches up from the province"
    bg /dev/null cam-ranh serve --http off
    serve_pids[2]=$BG_PID
    for _ in $(seq 1 200); do
        [ "$(held cam-ranh cam-ranh-p)" = "$(held cam-ranh-p cam-ranh-p)" ] && break
        sleep 0.1
    done
    echo "cam-ranh holds $(held cam-ranh cam-ranh-p) of cam-ranh-p's events"

    say "the gate: a QR reader types into 'truyvet station'; the owner follows in 'watch'"
    local gate cccd bhyt
    gate=$(t bac-nha-trang venue list | head -1 | cut -d' ' -f1)
    t bac-nha-trang venue edit "$gate" --closes 18:00 >/dev/null 2>>"$errlog"
    t bac-nha-trang venue controller add "$gate" 0905111222
    bg "$root/watch.out" bac-nha-trang watch --venue "$gate"
    cccd='056099012345|123456789|Nguyễn Văn An|15031999|Nam|Tổ 3, Phường Vĩnh Hải, Nha Trang|20042021'
    bhyt='HS4010123456789|5472e1baa76e205468e1bb8b2042c3ad6368204e67e1bb8d63|15/03/2010|2|5468c3b46e20c490c3b46e67|01 - 001|01/01/2021|31/12/2021|01/01/2021|56|4e677579e1bb856e2056c4836e20426f|4|01/01/2026|ab12|$'
    printf '%s\n%s\n%s\nnot a card\n0912 345 678\n' "$cccd" "$cccd" "$bhyt" |
        t bac-nha-trang station --venue "$gate"
    for _ in $(seq 1 50); do
        [ "$(wc -l <"$root/watch.out")" -ge 3 ] && break
        sleep 0.1
    done
    echo "-- what the owner's 'truyvet watch' showed (masked; the repeat is one check-in):"
    cat "$root/watch.out"
    echo "-- today's visits at the gate, with inferred check-outs:"
    t bac-nha-trang venue visits "$gate" 2>>"$errlog"

    say "posters: each venue's QR code on A4 to print (PDF; the gate's also as a PNG at 300 dpi), verified offline"
    mkdir -p "$root/posters"
    local v
    for c in bac-nha-trang nam-nha-trang bac-cam-ranh cam-ranh-p; do
        for v in $(t $c venue list | cut -d' ' -f1); do
            t $c qr venue "$v" --out "$root/posters/$c-$v.pdf" 2>>"$errlog"
        done
    done
    t bac-nha-trang qr venue "$gate" --out "$root/posters/bac-nha-trang-$gate.png" 2>>"$errlog"
    ls "$root/posters" | sed -n '1,4p'
    echo "... $(ls "$root/posters" | wc -l) files in $root/posters"
    t province qr verify "$(t bac-nha-trang venue payload "$gate" 2>>"$errlog")"
    echo "-- personal cards for people without a phone, nine to an A4 sheet:"
    t bac-nha-trang person card --person "$cccd" --phone 0905000111 --name "Lê Thị Hoa" \
        --phone 0905000222 --out "$root/posters/cards.pdf" --sheet | cut -c1-60
    echo "-- a card read at the gate, and a self check-in relayed from a phone:"
    t bac-nha-trang person card --phone 0905000333 --name "Phạm Văn Đức" \
        --out "$root/posters/card.png" >"$root/card.txt" 2>>"$errlog"
    echo "$(t bac-nha-trang venue payload "$gate" 2>>"$errlog") 0905000444" >>"$root/card.txt"
    t bac-nha-trang station --venue "$gate" <"$root/card.txt"

    say "venue compliance: three reminders suspend a venue that records nothing"
    local quiet
    quiet=$(t bac-nha-trang venue add --name "Quán Karaoke Biển Đêm" --category karaoke)
    for i in 1 2 3; do
        t bac-nha-trang venue remind "$quiet" --note "Nhắc lần $i: chưa quét mã QR"
    done
    t bac-nha-trang venue list --noncompliant --days 7
    echo "not a card" | t bac-nha-trang station --venue "$quiet" >/dev/null
    echo 0912345678 | t bac-nha-trang station --venue "$quiet"

    say "the health authority reveals one identity, for a reason; the reveal is audited"
    t bac-nha-trang sync --once --timeout 30
    for _ in $(seq 1 100); do
        [ "$(held province bac-nha-trang)" = "$(held bac-nha-trang bac-nha-trang)" ] && break
        sleep 0.1
    done
    t bac-nha-trang person show --person "$cccd" 2>&1 || true
    t bac-nha-trang person show --person "$cccd" --reveal --reason "demo" 2>&1 || true
    t province person show --person "$cccd" --reveal --reason "F1 của ca F0 ngày 06/10"
    t province audit

    say "a confirmed case: the province adds the F0; tracing across communes"
    # the case also spent an hour at a school in Nam Nha Trang, which syncs it up
    local school
    school=$(t nam-nha-trang venue list | sed -n 2p | cut -d' ' -f1)
    t nam-nha-trang scan --venue "$school" --person 0900000002 --at 2021-10-06T10:00:00+07:00 \
        >/dev/null 2>>"$errlog"
    t nam-nha-trang scan --venue "$school" --person 0900000002 --out \
        --at 2021-10-06T11:00:00+07:00 >/dev/null 2>>"$errlog"
    t nam-nha-trang sync --once --timeout 30
    for _ in $(seq 1 100); do
        [ "$(held province nam-nha-trang)" = "$(held nam-nha-trang nam-nha-trang)" ] && break
        sleep 0.1
    done
    t province case add --payload 0900000002 --status F0 --onset 2021-10-08 --unit 22333
    t province risk set --unit 22333 --level 3 --from 2021-10-08 --note "ca F0 chợ"
    echo "-- trace at the province (window from the case: 6 October on):"
    t province trace --payload 0900000002 --depth 2 2>&1 | sed -n '1,12p'
    echo "..."
    t province trace --payload 0900000002 --depth 2 2>>"$errlog" | sed -n '/^completeness/,$p'
    echo "-- the case flows down; the commune traces on its own data, and says so:"
    for _ in $(seq 1 50); do # through its district, which pulls from the province
        t bac-nha-trang sync --once --timeout 30 >/dev/null 2>>"$errlog" || true
        [ "$(held bac-nha-trang province)" = "$(held province province)" ] && break
        sleep 0.2
    done
    t bac-nha-trang trace --payload 0900000002 2>&1 | sed -n '1,4p;/^completeness/,$p'
    echo "-- alerts at the commune: when the case was at its venues (not who):"
    t bac-nha-trang alerts
    t bac-nha-trang risk show

    say "the weekly report at the province: this ISO week, districts, their communes, the total"
    t province report --depth 2 2>&1 |
        sed -n '1,2p;/^56[89] \|^22333 \|^22402 \|^22411 \|^22420 /p;/^total/p;/^trend/p;/^warning/p'
    t province report --depth 2 --format csv --out "$root/report-week.csv" 2>>"$errlog"
    t province report --depth 2 --format html --out "$root/report-week.html" 2>>"$errlog"
    echo "(the rows for Excel: $root/report-week.csv;"
    echo " the page to send, with its charts, for a phone or A4: $root/report-week.html)"
    if [ "${TRUYVET_DEMO_SCREENSHOT:-1}" != 0 ] && command -v chromium >/dev/null; then
        chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --hide-scrollbars --user-data-dir="$root/chromium" --window-size=1100,1500 \
            --screenshot="$root/report-week.png" "file://$root/report-week.html" \
            >/dev/null 2>&1 && echo "(as it looks: $root/report-week.png)"
    fi

    say "the web console: every node serves one; the commune's clerk and guard work in a browser"
    printf 'mat-khau-can-bo\n' >"$root/clerk.pw"
    printf 'mat-khau-bao-ve\n' >"$root/guard.pw"
    t bac-nha-trang user add lan --role clerk --password-file "$root/clerk.pw"
    t bac-nha-trang user add bao --role guard --password-file "$root/guard.pw"
    rm -f "$root/bac-nha-trang/console.url"
    bg /dev/null bac-nha-trang serve --http 127.0.0.1:0
    local url=""
    for _ in $(seq 1 100); do
        [ -s "$root/bac-nha-trang/console.url" ] && url=$(cat "$root/bac-nha-trang/console.url") && break
        sleep 0.1
    done
    [ -n "$url" ] || { echo "dev.sh demo: the console did not start" >&3; exit 1; }
    echo "the commune's console: $url (clerk: lan / mat-khau-can-bo; guard: bao / mat-khau-bao-ve)"
    echo "-- the guard's page, as the browser calls it: log in, then a chip ID card at the gate"
    python3 - "$url" "$gate" "$cccd" <<'PY'
import http.cookiejar, json, sys, urllib.parse, urllib.request
url, gate, line = sys.argv[1:4]
jar = http.cookiejar.CookieJar()
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
def call(path, data=None, token=None):
    req = urllib.request.Request(url + path.lstrip("/"),
        data=urllib.parse.urlencode(data).encode() if data is not None else None,
        headers={"X-CSRF-Token": token} if token else {})
    return json.load(web.open(req))
token = call("/api/session")["csrf"]
token = call("/api/login", {"name": "bao", "password": "mat-khau-bao-ve"}, token)["csrf"]
a = call("/api/scan", {"venue": gate, "line": line, "direction": "out"}, token)
print("  %s  %s  %s" % (a["text"], a.get("person", ""), a["reason"]))
PY
    t bac-nha-trang user log | tail -n 3

    say "the province"
    t province status
    t province verify
    demo_stop
    trap - EXIT INT TERM USR1 ERR
    set +E
    exec 3>&-
    echo
    echo "the demo network is in $root (logs: $root/*.log)"
    echo "to type 'truyvet' rather than $bdir/truyvet, from this directory:"
    if [ "$bdir" = build ]; then
        echo '    export PATH="$PWD/build:$PATH"'
    else
        echo "    export PATH=\"$(dirname "$tv"):\$PATH\""
    fi
}

run_bench() {
    build build
    local b
    for b in build/bench/*; do
        [ -x "$b" ] || continue
        echo "== $b =="
        "$b"
    done
}

cmd=${1:-}
case "$cmd" in
demo) { [ -n "${TRUYVET_DEMO_BUILD:-}" ] || install_missing; } && run_demo ;;
test) install_missing && run_tests ;;
build) install_missing && build build ;;
bench) install_missing && run_bench ;;
fuzz) install_missing && run_fuzz "${2:-600}" ;;
*)
    echo "usage: ./dev.sh demo|test|build|bench|fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
