#!/usr/bin/env bash
# The accounts of the node's console through `truyvet user` and `init --operator`: each
# refusal with its exact message and exit status, and nothing written by it; a health
# officer only at a node with the health flag; a controller only for a phone that controls
# one of the node's venues, with a 6-digit PIN; passwords never in the store's file; every
# change in the console log (`user log`); accounts and their log stay on their node (a
# bundle to the province carries none).
#
# Usage: bash tests/cli/user_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

P=$W/province-56
C=$W/commune-22333
printf 'clerk password 1\n' >"$W/clerk.pw"
printf 'short\n' >"$W/short.pw"
printf '123456\n' >"$W/pin"
printf '12345\n' >"$W/badpin"

# expect_err TEXT WHAT: stderr is exactly TEXT.
expect_err() {
    [[ $ERR == "$1" ]] || fail "$2: stderr is '$ERR', not '$1'"
}

# accounts DIR: the accounts of DIR as "name role" lines.
accounts() {
    "$TV" -d "$1" user list --json | python3 -c '
import json, sys
for line in sys.stdin:
    a = json.loads(line)
    print(a["name"], a["role"])
'
}

check "init --operator refuses a bad name or password before creating anything"
run "$TV" -d "$W/x" init --role commune --unit 22333 --name X --operator Admin \
    --operator-password-file "$W/clerk.pw"
expect_refused 2 "init --operator Admin"
expect_err "truyvet: cannot add the operator 'Admin': a login name has 1 to 32 characters, small letters a-z, digits, '.', '_' or '-', and starts with a letter.
Try 'truyvet init --help'." "init --operator Admin"
run "$TV" -d "$W/x" init --role commune --unit 22333 --name X --operator admin \
    --operator-password-file "$W/short.pw"
expect_refused 2 "init with a short operator password"
expect_err "truyvet: a password has 8 to 128 bytes; nothing was created.
Try 'truyvet init --help'." "init with a short operator password"
run "$TV" -d "$W/x" init --role commune --unit 22333 --name X --operator-password-file "$W/pin"
expect_refused 2 "init --operator-password-file alone"
expect_err_has "--operator-password-file goes with --operator NAME." "password file alone"
[[ ! -e $W/x/store ]] || fail "a refused init left a node behind"

check "init --operator creates the operator account; the passphrase and password both from stdin"
run "$TV" -d "$C" init --role commune --unit 22333 --name "Phường Bắc Nha Trang" \
    --passphrase-file - --operator admin --operator-password-file - \
    <<<"$TEST_PASSPHRASE"$'\n'"operator password"
expect_ok "init --operator"
[[ $(accounts "$C") == "admin operator" ]] || fail "accounts after init: $(accounts "$C")"
run "$TV" -d "$C" user log --json
[[ $(json_get kind <<<"$OUT") == account_added && $(json_get actor <<<"$OUT") == cli &&
    $(json_get subject <<<"$OUT") == admin && $(json_get detail <<<"$OUT") == "role operator" ]] ||
    fail "console log after init: $OUT"

check "init without --operator is as before: no account"
"$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa" >/dev/null 2>&1 ||
    fail "init of the province"
run "$TV" -d "$P" user list
expect_ok "user list with no account"
[[ -z $OUT ]] || fail "user list printed accounts: $OUT"
expect_err "no accounts yet; add one with 'truyvet user add NAME --role operator'" "empty list"

check "user add: a clerk, then each refusal with its message, nothing written by it"
run "$TV" -d "$C" user add lan --role clerk --password-file "$W/clerk.pw"
expect_ok "user add lan"
[[ $OUT == "added: lan (clerk)" ]] || fail "user add lan: $OUT"
run "$TV" -d "$C" user add lan --role guard --password-file "$W/clerk.pw"
expect_refused 1 "user add lan again"
expect_err "truyvet: an account named 'lan' exists already; nothing was changed." "duplicate"
run "$TV" -d "$C" user add 1an --role clerk --password-file "$W/clerk.pw"
expect_refused 2 "user add 1an"
expect_err "truyvet: cannot add '1an': a login name has 1 to 32 characters, small letters a-z, digits, '.', '_' or '-', and starts with a letter.
Try 'truyvet user add --help'." "user add 1an"
run "$TV" -d "$C" user add vu --role admin --password-file "$W/clerk.pw"
expect_refused 2 "user add --role admin"
expect_err_has "role 'admin' is not one of operator, clerk, health, guard, controller." "role"
run "$TV" -d "$C" user add vu --role guard --password-file "$W/short.pw"
expect_refused 2 "user add with a short password"
expect_err_has "truyvet: a password has 8 to 128 bytes." "short password"
run "$TV" -d "$C" user add --role guard --password-file "$W/clerk.pw"
expect_refused 2 "user add without NAME"
expect_err_has "give the account's NAME and --role ROLE." "user add without NAME"
# without a terminal (setsid) and a file: refused, although the node's passphrase is there
# as a credential ($CREDENTIALS_DIRECTORY/passphrase, tests/lib.sh): it is never a password
if command -v setsid >/dev/null; then
    run setsid -w "$TV" -d "$C" user add vu --role guard </dev/null
    expect_refused 2 "user add without a terminal or a file"
    expect_err "truyvet: no terminal to ask for the password: give it with --password-file FILE ('-' for standard input)." \
        "no terminal"
fi
run "$TV" -d "$C" user add vu --role guard --password-file "$W/missing"
expect_refused 1 "user add with a missing password file"
expect_err "truyvet: cannot read the password: $W/missing does not exist." "missing file"
[[ $(accounts "$C") == "admin operator"$'\n'"lan clerk" ]] || fail "accounts: $(accounts "$C")"

check "a health officer only at a node whose certificate carries the health flag"
run "$TV" -d "$C" user add bs.an --role health --password-file "$W/clerk.pw"
expect_refused 1 "health officer at a commune"
expect_err "truyvet: this node cannot have health officers: its certificate does not carry the health flag." \
    "health officer at a commune"
run "$TV" -d "$P" user add bs.an --role health --password-file "$W/clerk.pw"
expect_ok "health officer at the province"
[[ $OUT == "added: bs.an (health)" ]] || fail "health officer: $OUT"

check "a controller: a phone that controls one of the node's venues, and a 6-digit PIN"
run "$TV" -d "$C" user add "0912 345 678" --role controller --password-file "$W/pin"
expect_refused 1 "controller of no venue"
expect_err "truyvet: 0912345678 is not a controller of any venue this node holds; add it first with 'truyvet venue controller add ID PHONE'." \
    "controller of no venue"
V=$("$TV" -d "$C" venue add --name "Chợ Vĩnh Hải" --category market 2>/dev/null)
"$TV" -d "$C" venue controller add "$V" 0912345678 2>/dev/null || fail "controller add"
run "$TV" -d "$C" user add "0912 345 678" --role controller --password-file "$W/badpin"
expect_refused 2 "controller with a 5-digit PIN"
expect_err_has "truyvet: a controller's PIN is exactly 6 digits." "5-digit PIN"
run "$TV" -d "$C" user add 001234567890 --role controller --password-file "$W/pin"
expect_refused 2 "controller with an ID number"
run "$TV" -d "$C" user add "+84 912 345 678" --role controller --password-file "$W/pin"
expect_ok "controller"
[[ $OUT == "added: 0912345678 (controller)" ]] || fail "controller: $OUT"

check "user passwd, unlock, disable, enable, remove"
run "$TV" -d "$C" user passwd lan --password-file "$W/short.pw"
expect_refused 2 "passwd with a short password"
expect_err_has "truyvet: a password has 8 to 128 bytes; nothing was changed." "passwd short"
printf 'another password\n' >"$W/new.pw"
run "$TV" -d "$C" user passwd lan --password-file "$W/new.pw"
expect_ok "passwd lan"
[[ $OUT == "password changed: lan" ]] || fail "passwd: $OUT"
run "$TV" -d "$C" user passwd 0912.345.678 --password-file "$W/pin"
[[ $OUT == "PIN changed: 0912345678" ]] || fail "passwd of a controller: $OUT"
for verb in unlock disable enable; do
    run "$TV" -d "$C" user $verb lan
    expect_ok "user $verb lan"
done
[[ $OUT == "enabled: lan (clerk)" ]] || fail "enable: $OUT"
run "$TV" -d "$C" user remove nobody
expect_refused 1 "remove nobody"
expect_err "truyvet: there is no account named 'nobody'; 'truyvet user list' shows them." \
    "remove nobody"
run "$TV" -d "$C" user remove lan
[[ $OUT == "removed: lan (clerk)" ]] || fail "remove: $OUT"
[[ $(accounts "$C") == "0912345678 controller"$'\n'"admin operator" ]] ||
    fail "accounts: $(accounts "$C")"

check "user log: every change, oldest first, never a password"
run "$TV" -d "$C" user log --json
expect_ok "user log --json"
kinds=$(python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    print(e["kind"], e["subject"], e["detail"])
' <<<"$OUT")
want="account_added admin role operator
account_added lan role clerk
account_added 0912345678 role controller
password_changed lan role clerk
password_changed 0912345678 role controller
account_unlocked lan role clerk
account_disabled lan role clerk
account_enabled lan role clerk
account_removed lan role clerk"
[[ $kinds == "$want" ]] || fail "console log: $kinds"
run "$TV" -d "$C" user log
[[ $(wc -l <<<"$OUT") -eq 9 && $OUT == *"  account_removed   cli "* ]] || fail "user log: $OUT"
run "$TV" -d "$C" user log --since tomorrow
expect_refused 2 "user log --since tomorrow"
run "$TV" -d "$C" user log --since 2099-01-01
[[ -z $OUT ]] || fail "user log --since 2099-01-01: $OUT"
for pw in "clerk password 1" "another password" "operator password"; do
    ! grep -qaF "$pw" "$C/store/data.mdb" || fail "'$pw' is in the store's file"
done

check "accounts and their log stay on their node"
enrol "$C" "$P" 2>/dev/null
ship "$C" "$P"
[[ $(accounts "$P") == "bs.an health" ]] || fail "the province's accounts: $(accounts "$P")"
run "$TV" -d "$P" user log --json
[[ $OUT != *admin* && $OUT != *0912345678* ]] || fail "the commune's log reached the province"

echo "user_test: all checks passed"
