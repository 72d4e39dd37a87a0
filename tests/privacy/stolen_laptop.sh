#!/usr/bin/env bash
# A commune laptop stolen while switched off: the thief copies the node's directory and
# tries every command that could confirm who visited. Without the passphrase none of them
# can (each stops with exit status 4 and the message naming 'truyvet unlock'), no file of
# the copy holds the node's Ed25519 seed or a pseudonym key in clear (every 32-byte window
# of every file is tried as the seed, as the key, and as the key of the visitors' known
# pseudonyms), and reading commands that need no secret still work. With the passphrase
# the copy works again.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
own_keyring
KEYS=$(dirname "$TV")/privacy_keys
[[ -x $KEYS ]] || fail "the helper $KEYS is not built"

P=$W/province-56
C=$W/commune-22333
DAY=2021-10-06
VISITORS=(0901000001 0901000002 0901000003 079201001234)

"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1
"$TV" -d "$C" init --role commune --unit 22333 --name "UBND Phường Bắc Nha Trang" >/dev/null 2>&1
enrol "$C" "$P" 2>/dev/null
A=$("$TV" -d "$C" venue add --name "Quán cà phê Biển" --category cafe 2>/dev/null)
for v in "${VISITORS[@]}"; do
    "$TV" -d "$C" scan --venue "$A" --person "$v" --at "${DAY}T08:00:00+07:00" >/dev/null 2>&1 ||
        fail "scan of $v"
done
printf '0901000004\n0901000005\n' |
    "$TV" -d "$C" station --venue "$A" >/dev/null 2>&1 || fail "the station's scans"
"$TV" -d "$C" person card --person 0901000006 --out "$W/card.pdf" >/dev/null 2>&1 ||
    fail "a personal card"

# what the owner knows: each visitor's pseudonym, the node's keys
refs=()
for v in "${VISITORS[@]}"; do
    refs+=("$("$TV" -d "$C" trace --person "$v" --from "$DAY" --json 2>/dev/null | json_get case ref)")
done
[[ ${#refs[0]} -eq 32 ]] || fail "no pseudonym of ${VISITORS[0]}"
"$KEYS" "$C" >"$W/keys" || fail "reading the commune's keys"
SEED=$(awk '$1 == "seed" {print $2}' "$W/keys")
TRACING=$(awk '$1 == "tracing" {print $2}' "$W/keys")
[[ $(awk '$1 == "kind" {print $2}' "$W/keys") == 2 ]] || fail "enrolment did not install the commune's key"

check "the laptop, switched off, is copied"
S=$W/stolen
cp -a "$C" "$S"
# the thief's machine: no credential, no key kept in any keyring (a fresh boot)
unset CREDENTIALS_DIRECTORY
export TRUYVET_KEYRING=process
run "$TV" -d "$S" lock
expect_ok "lock on the copy"

LOCKED="the node's secrets are locked; run 'truyvet unlock' first"
locked() { # locked WHAT CMD...: the command stops, locked, and prints nothing
    local what=$1
    shift
    run "$@"
    expect_refused 4 "$what"
    expect_err_has "$LOCKED" "$what"
}

check "no command confirms an identity on the copy"
for v in "${VISITORS[@]}"; do
    locked "trace --person $v" "$TV" -d "$S" trace --person "$v" --from "$DAY"
    locked "person show --person $v" "$TV" -d "$S" person show --person "$v"
done
locked "person card" "$TV" -d "$S" person card --person 0901000001 --out "$W/thief.pdf"
[[ ! -e $W/thief.pdf ]] || fail "a locked node wrote a personal card"
locked "scan" "$TV" -d "$S" scan --venue "$A" --person 0901000001
run bash -c "printf '0901000001\n' | '$TV' -d '$S' station --venue '$A'"
expect_rc 4 "station"
expect_err_has "$LOCKED" "station"
locked "person show --reveal" "$TV" -d "$S" person show --ref "${refs[0]}" --reveal --reason "xem"
locked "trace --reveal" "$TV" -d "$S" trace --ref "${refs[0]}" --from "$DAY" --reveal --reason "xem"
locked "venue add" "$TV" -d "$S" venue add --name "Giả" --category cafe
locked "qr venue" "$TV" -d "$S" qr venue "$A" --out "$W/thief-poster.pdf"
locked "venue payload" "$TV" -d "$S" venue payload "$A"
locked "enroll request" "$TV" -d "$S" enroll request --out "$W/thief.req"
locked "sync --once" "$TV" -d "$S" sync --once --peer tcp://127.0.0.1:9
run setsid -w "$TV" -d "$S" serve
expect_rc 4 "serve without a terminal"
expect_err_has "$LOCKED" "serve"

check "reading commands that need no secret still work on the copy"
for c in status log verify report "venue list"; do
    # shellcheck disable=SC2086
    run "$TV" -d "$S" $c
    expect_ok "$c on the locked copy"
done
run "$TV" -d "$S" venue visits "$A" --date "$DAY"
expect_ok "venue visits on the locked copy"
run "$TV" -d "$S" bundle export --out "$W/thief.bundle"
expect_ok "bundle export on the locked copy"
run "$TV" -d "$S" trace --ref "${refs[0]}" --from "$DAY" --json
expect_ok "trace --ref on the locked copy"

check "no file of the copy holds the seed or a pseudonym key in clear"
# every 32-byte window of every file, as the seed, as the pseudonym key, and as the key
# of each visitor's pseudonym (keyed BLAKE2b-128 of "phone:NUMBER" or "cccd:NUMBER")
search() { # search DIR: prints what it found, one a line
    python3 - "$1" "$SEED" "$TRACING" "${VISITORS[@]}" -- "${refs[@]}" <<'EOF'
import hashlib, os, sys
root, seed, tracing = sys.argv[1], bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
rest = sys.argv[4:]
cut = rest.index("--")
msgs = [(b"cccd:" if len(v) == 12 else b"phone:") + v.encode() for v in rest[:cut]]
refs = {bytes.fromhex(r) for r in rest[cut + 1:]}
assert len(refs) == len(msgs)
found = 0
for d, _, files in os.walk(root):
    for f in files:
        path = os.path.join(d, f)
        data = open(path, "rb").read()
        for needle, what in ((seed, "the Ed25519 seed"), (tracing, "the pseudonym key")):
            if needle in data:
                print(f"{path}: {what} in clear"); found += 1
            if needle.hex().encode() in data.lower():
                print(f"{path}: {what} in hex"); found += 1
        for i in range(0, max(0, len(data) - 31)):
            w = data[i:i + 32]
            for m in msgs:
                if hashlib.blake2b(m, digest_size=16, key=w).digest() in refs:
                    print(f"{path}: offset {i} reproduces a visitor's pseudonym"); found += 1
                    break
sys.exit(0)
EOF
}
# the search is not blind: a planted key is found
mkdir "$W/plant"
head -c 100 /dev/urandom >"$W/plant/f"
printf '%s' "$TRACING" | xxd -r -p >>"$W/plant/f"
[[ $(search "$W/plant") == *"reproduces a visitor's pseudonym"* ]] || fail "the search misses a planted key"
found=$(search "$S")
[[ -z $found ]] || fail "the copy holds a key: $found"

check "a wrong passphrase leaves the copy locked"
run bash -c "printf 'not the passphrase\n' | '$TV' -d '$S' unlock --passphrase-file -"
expect_rc 1 "unlock with a wrong passphrase"
[[ $ERR == "truyvet: wrong passphrase: the node's secrets stay locked." ]] ||
    fail "the message of a wrong passphrase: $ERR"
locked "trace --person after a wrong passphrase" "$TV" -d "$S" trace --person 0901000001 --from "$DAY"

check "with the passphrase, the copy works"
export TRUYVET_KEYRING=session
run bash -c "printf '%s\n' '$TEST_PASSPHRASE' | '$TV' -d '$S' unlock --passphrase-file -"
expect_ok "unlock with the passphrase"
got=$("$TV" -d "$S" trace --person "${VISITORS[0]}" --from "$DAY" --json | json_get case ref)
[[ $got == "${refs[0]}" ]] || fail "the unlocked copy gives the pseudonym $got, not ${refs[0]}"
run "$TV" -d "$S" person show --person "${VISITORS[1]}"
expect_ok "person show on the unlocked copy"
run "$TV" -d "$S" lock
expect_ok "lock"
[[ $ERR == "locked" ]] || fail "lock says: $ERR"
locked "trace --person after lock" "$TV" -d "$S" trace --person 0901000001 --from "$DAY"
echo "PASS"
