#!/usr/bin/env bash
# truyvet developer entry point.
#   ./dev.sh demo    install what is missing, build, run the demo network
#   ./dev.sh test    install what is missing, build, run every test (plain, then ASan+UBSan)
#   ./dev.sh build   install what is missing and build (build/)
#   ./dev.sh bench   build and run the benchmarks (bench/), printing their figures
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config libzmq3-dev liblmdb-dev libmsgpack-dev
          libsodium-dev libqrencode-dev libcmocka-dev)

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
        ctest --test-dir build-asan --output-on-failure -j"$(nproc)"
}

# A commune node of Phường Bắc Nha Trang (Khánh Hòa, unit 22333) registering venues
# and recording check-ins, then showing what it holds and checking it.
run_demo() {
    build build
    local tv=build/truyvet root=build/demo
    rm -rf "$root"
    mkdir -p "$root"
    export TRUYVET_DIR=$root/commune-22333
    echo "== a commune node =="
    $tv init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang"
    echo "== venues =="
    local market school cafe
    market=$($tv venue add --name "Chợ Vĩnh Hải" --category market --village "Tổ dân phố 5" \
        --owner-phone 0912345678)
    school=$($tv venue add --name "Trường THCS Vĩnh Hải" --category school \
        --village "Tổ dân phố 2" --owner-phone 0987654321)
    cafe=$($tv venue add --name "Cà phê Hòn Chồng" --category cafe --village "Tổ dân phố 7")
    $tv venue list
    echo "== check-ins at the gate =="
    $tv scan --venue "$market" --person 0912000001 --at 2021-10-06T07:05:00+07:00
    $tv scan --venue "$market" --person 079199012345 --at 2021-10-06T07:12:00+07:00
    $tv scan --venue "$market" --person 0912000001 --out --at 2021-10-06T07:48:00+07:00
    echo "== a day of check-ins from a file =="
    local csv=$root/checkins.csv
    {
        echo "venue,person,direction,time"
        for i in $(seq 1 200); do
            printf '%s,09120%05d,in,2021-10-06T%02d:%02d:00+07:00\n' \
                "$([ $((i % 3)) -eq 0 ] && echo "$school" || echo "$cafe")" "$i" \
                $((7 + i % 12)) $((i % 60))
        done
        echo "$cafe,not-a-phone,in,2021-10-06T09:00:00+07:00"
    } >"$csv"
    $tv import --csv "$csv" || echo "(the import reported the bad row above and kept the rest)"
    echo "== status =="
    $tv status
    echo "== verify =="
    $tv verify
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
*)
    echo "usage: ./dev.sh demo|test|build|bench" >&2
    exit 2
    ;;
esac
