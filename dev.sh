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
          chromium clang libclang-rt-14-dev)

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
DEMO_PIDS=()
demo_stop() {
    local p
    for p in "${DEMO_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${DEMO_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    DEMO_PIDS=()
}

run_demo() {
    build build
    local tv root
    tv=$(pwd)/build/truyvet
    root=$(pwd)/build/demo
    demo_stop
    pkill -f -- "-d $root/" 2>/dev/null || true # servers left by an interrupted run
    rm -rf "$root"
    mkdir -p "$root"
    trap demo_stop EXIT
    # every demo node's passphrase comes as a service's credential would, at the cheapest
    # Argon2id cost (for a demo only; see README, "Secrets at rest")
    mkdir -m 700 "$root/credentials"
    printf 'demo passphrase\n' >"$root/credentials/passphrase"
    export CREDENTIALS_DIRECTORY=$root/credentials TRUYVET_KDF=min TRUYVET_KEYRING=process
    local port_p=17400 port_nt=17401 port_cr=17402
    say() { printf '\n== %s ==\n' "$*"; }
    t() { "$tv" -d "$root/$1" "${@:2}"; }
    held() { # held NODE ORIGIN-NODE: events NODE holds of ORIGIN-NODE's log
        local id
        id=$(t "$2" status --json | sed -n 's/.*"node_id":"\([0-9a-f]*\)".*/\1/p')
        local seq
        seq=$(t "$1" status --json | tr '{' '\n' |
            sed -n "s/.*\"origin\":\"$id\",\"seq\":\([0-9]*\).*/\1/p")
        echo "${seq:-0}"
    }
    enrol() { # enrol CHILD PARENT [issue options]
        t "$1" enroll request --out "$root/$1.req" 2>/dev/null
        t "$2" enroll issue "$root/$1.req" --out "$root/$1.cert" "${@:3}" 2>/dev/null
        t "$1" enroll accept "$root/$1.cert" 2>/dev/null
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
    local name
    for name in province nha-trang cam-ranh; do
        "$tv" -d "$root/$name" serve 2>"$root/$name.log" &
        DEMO_PIDS+=($!)
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
        t $c import --csv "$root/$c.csv" 2>/dev/null
        n=$((n + 1))
        echo "$c: $(held $c $c) events"
    done

    say "each commune syncs when its link is up (sync --once, as from cron)"
    for c in bac-nha-trang nam-nha-trang bac-cam-ranh; do t $c sync --once --timeout 30; done
    echo "(cam-ranh-p is offline today and keeps recording)"
    t cam-ranh-p scan --venue "$(t cam-ranh-p venue list | head -1 | cut -d' ' -f1)" \
        --person 0912000999 >/dev/null 2>&1

    say "the province converges on what it has been sent"

    for _ in $(seq 1 100); do
        [ "$(held province bac-cam-ranh)" = "$(held bac-cam-ranh bac-cam-ranh)" ] && break
        sleep 0.1
    done
    for c in bac-nha-trang nam-nha-trang bac-cam-ranh cam-ranh-p; do
        echo "province holds $(held province $c) of $c's $(held $c $c) events"
    done

    say "the Cam Ranh centre goes down; the cut-off commune comes back and reaches the province"
    kill -9 "${DEMO_PIDS[2]}"
    wait "${DEMO_PIDS[2]}" 2>/dev/null || true
    t cam-ranh-p sync --once --timeout 40
    echo "province holds $(held province cam-ranh-p) of cam-ranh-p's $(held cam-ranh-p cam-ranh-p) events"

    say "the centre restarts and catches up from the province"
    "$tv" -d "$root/cam-ranh" serve 2>>"$root/cam-ranh.log" &
    DEMO_PIDS[2]=$!
    for _ in $(seq 1 200); do
        [ "$(held cam-ranh cam-ranh-p)" = "$(held cam-ranh-p cam-ranh-p)" ] && break
        sleep 0.1
    done
    echo "cam-ranh holds $(held cam-ranh cam-ranh-p) of cam-ranh-p's events"

    say "the gate: a QR reader types into 'truyvet station'; the owner follows in 'watch'"
    local gate cccd bhyt
    gate=$(t bac-nha-trang venue list | head -1 | cut -d' ' -f1)
    t bac-nha-trang venue edit "$gate" --closes 18:00 >/dev/null 2>&1
    t bac-nha-trang venue controller add "$gate" 0905111222
    t bac-nha-trang watch --venue "$gate" >"$root/watch.out" 2>/dev/null &
    local watch_pid=$!
    DEMO_PIDS+=("$watch_pid")
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
    t bac-nha-trang venue visits "$gate" 2>/dev/null

    say "posters: each venue's QR code on A4 (PDF to print, PNG at 300 dpi), verified offline"
    mkdir -p "$root/posters"
    local v
    for c in bac-nha-trang nam-nha-trang bac-cam-ranh cam-ranh-p; do
        for v in $(t $c venue list | cut -d' ' -f1); do
            t $c qr venue "$v" --out "$root/posters/$c-$v.pdf" 2>/dev/null
            t $c qr venue "$v" --out "$root/posters/$c-$v.png" 2>/dev/null
        done
    done
    ls "$root/posters" | sed -n '1,4p'
    echo "... $(ls "$root/posters" | wc -l) files in $root/posters"
    t province qr verify "$(t bac-nha-trang venue payload "$gate" 2>/dev/null)"
    echo "-- personal cards for people without a phone, nine to an A4 sheet:"
    t bac-nha-trang person card --person "$cccd" --phone 0905000111 --name "Lê Thị Hoa" \
        --phone 0905000222 --out "$root/posters/cards.pdf" --sheet | cut -c1-60
    echo "-- a card read at the gate, and a self check-in relayed from a phone:"
    t bac-nha-trang person card --phone 0905000333 --name "Phạm Văn Đức" \
        --out "$root/posters/card.png" >"$root/card.txt" 2>/dev/null
    echo "$(t bac-nha-trang venue payload "$gate" 2>/dev/null) 0905000444" >>"$root/card.txt"
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
        >/dev/null 2>&1
    t nam-nha-trang scan --venue "$school" --person 0900000002 --out \
        --at 2021-10-06T11:00:00+07:00 >/dev/null 2>&1
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
    t province trace --payload 0900000002 --depth 2 2>/dev/null | sed -n '/^completeness/,$p'
    echo "-- the case flows down; the commune traces on its own data, and says so:"
    for _ in $(seq 1 50); do # through its district, which pulls from the province
        t bac-nha-trang sync --once --timeout 30 >/dev/null 2>&1 || true
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
    t province report --depth 2 --format csv --out "$root/report-week.csv" 2>/dev/null
    t province report --depth 2 --format html --out "$root/report-week.html" 2>/dev/null
    echo "(the rows for Excel: $root/report-week.csv;"
    echo " the page to send, with its charts, for a phone or A4: $root/report-week.html)"
    if command -v chromium >/dev/null; then
        chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
            --disable-background-networking --disable-component-update --disable-sync \
            --hide-scrollbars --user-data-dir="$root/chromium" --window-size=1100,1500 \
            --screenshot="$root/report-week.png" "file://$root/report-week.html" \
            >/dev/null 2>&1 && echo "(as it looks: $root/report-week.png)"
    fi

    say "the province"
    t province status
    t province verify
    demo_stop
    trap - EXIT
    echo
    echo "the demo network is in $root (logs: $root/*.log)"
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
demo) install_missing && run_demo ;;
test) install_missing && run_tests ;;
build) install_missing && build build ;;
bench) install_missing && run_bench ;;
fuzz) install_missing && run_fuzz "${2:-600}" ;;
*)
    echo "usage: ./dev.sh demo|test|build|bench|fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
