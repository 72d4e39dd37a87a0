#!/usr/bin/env bash
# The node's secrets at rest: node.secret's format, unlock / lock / --for in the kernel
# keyring, a wrong passphrase, passwd, the systemd credential, a changed header, and the
# clear key files of an earlier version.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
own_keyring
KEYS=$(dirname "$TV")/privacy_keys
[[ -x $KEYS ]] || fail "the helper $KEYS is not built"
unset CREDENTIALS_DIRECTORY # no credential: the passphrase comes from files here

C=$W/commune
printf 'first passphrase\n' >"$W/pass1"
printf 'second passphrase\n' >"$W/pass2"
LOCKED="the node's secrets are locked; run 'truyvet unlock' first"

# keyline ID: the node's line of /proc/keys (what this process may see of its key), not
# counting a key invalidated, revoked or dead that the kernel has not collected yet
keyline() { grep -F "truyvet:$1" /proc/keys | awk '$2 !~ /[iRD]/' || true; }

check "init without a passphrase source and without a terminal refuses"
run setsid -w "$TV" -d "$C" init --role commune --unit 22333 --name "Xã"
expect_refused 2 "init without a passphrase"
expect_err_has "no terminal to ask for the passphrase: give it with --passphrase-file" "init"
[[ ! -e $C/node.secret && ! -e $C/store ]] || fail "a refused init left files"

check "init --passphrase-file: node.secret only, and the node is left unlocked"
run "$TV" -d "$C" init --role commune --unit 22333 --name "Xã" --passphrase-file "$W/pass1"
expect_ok "init"
ID=$OUT
[[ $(stat -c %a "$C/node.secret") == 600 && $(stat -c %s "$C/node.secret") == 197 ]] ||
    fail "node.secret: mode $(stat -c %a "$C/node.secret"), $(stat -c %s "$C/node.secret") bytes"
[[ ! -e $C/node.key && ! -e $C/tracing.key ]] || fail "init left a clear key file"
run "$TV" -d "$C" venue add --name "Chợ" --category market
expect_ok "venue add right after init"
A=$OUT
[[ $(keyline "$ID") == *" perm 3f3f0000 "* ]] || fail "the kept key: $(keyline "$ID")"

check "the header is exact: magic, version, algorithms, limits, salt, nonce, node id"
python3 - "$C/node.secret" "$ID" <<'EOF' || fail "the header of node.secret"
import sys
b = open(sys.argv[1], "rb").read()
assert len(b) == 197, len(b)
assert b[0:8] == b"TVSECRET" and b[8:12] == bytes([1, 1, 1, 0]), b[:12]
ops, mem = int.from_bytes(b[12:20], "big"), int.from_bytes(b[20:28], "big")
assert (ops, mem) == (1, 8192), (ops, mem)  # TRUYVET_KDF=min, as tests/lib.sh sets
assert b[68:100].hex() == sys.argv[2], "the node id is not readable in clear"
EOF
python3 - "$C/node.secret" "$("$TV" -d "$C" status --json | json_get node_id)" <<'EOF' ||
import sys
b = open(sys.argv[1], "rb").read()
assert b[68:100].hex() == sys.argv[2]
EOF
    fail "the header's node id is not status's"

check "lock: commands that need a secret stop with exit status 4; reading ones work"
run "$TV" -d "$C" lock
expect_ok "lock"
[[ $ERR == "locked" ]] || fail "lock says: $ERR"
[[ -z $(keyline "$ID") ]] || fail "lock left the key: $(keyline "$ID")"
run "$TV" -d "$C" scan --venue "$A" --person 0901000001
expect_refused 4 "scan while locked"
[[ $ERR == "truyvet: cannot open the node: $LOCKED (it asks for the passphrase)." ]] ||
    fail "the locked message: $ERR"
run "$TV" -d "$C" status
expect_ok "status while locked"
run "$TV" -d "$C" lock
expect_ok "lock twice"
[[ $ERR == "the node was not unlocked" ]] || fail "lock twice says: $ERR"
"$TV" --help | grep -q "4 when\$" || fail "--help does not list exit status 4"
"$TV" --help | grep -q "run 'truyvet unlock'" || fail "--help does not name truyvet unlock"

check "a wrong passphrase: the exact message, and the node stays locked"
run "$TV" -d "$C" unlock --passphrase-file "$W/pass2"
expect_refused 1 "unlock with a wrong passphrase"
[[ $ERR == "truyvet: wrong passphrase: the node's secrets stay locked." ]] ||
    fail "the message: $ERR"
[[ -z $(keyline "$ID") ]] || fail "a wrong passphrase left a key"
run "$TV" -d "$C" scan --venue "$A" --person 0901000001
expect_refused 4 "scan after a wrong passphrase"

check "unlock --for 30m: the kept key expires in the kernel (checked, not waited for)"
run "$TV" -d "$C" unlock --for 30m --passphrase-file "$W/pass1"
expect_ok "unlock --for 30m"
line=$(keyline "$ID")
timeout=$(awk '{print $4}' <<<"$line") # the key's time left, as the kernel shows it
[[ $timeout == 29m || $timeout == 30m ]] || fail "no 30-minute timeout: $line"
run "$TV" -d "$C" scan --venue "$A" --person 0901000001
expect_ok "scan while unlocked"
run "$TV" -d "$C" unlock --for 30x --passphrase-file "$W/pass1"
expect_refused 2 "unlock --for 30x"
expect_err_has "'30x' is not a duration like 30m, 8h or 2d." "unlock --for 30x"
run "$TV" -d "$C" unlock --passphrase-file "$W/pass1"
expect_ok "unlock without --for"
[[ $(keyline "$ID") == *" perm 3f3f0000 "* ]] || fail "unlock without --for: $(keyline "$ID")"

check "passwd: the old passphrase is asked, the new one replaces it, the node stays unlocked"
SEED_BEFORE=$(CREDENTIALS_DIRECTORY= "$KEYS" "$C" | sort)
run bash -c "printf 'nope\nsecond passphrase\n' | '$TV' -d '$C' passwd --passphrase-file - --new-passphrase-file -"
expect_refused 1 "passwd with a wrong old passphrase"
[[ $ERR == "truyvet: wrong passphrase: the node's secrets stay locked." ]] || fail "passwd: $ERR"
run bash -c "printf 'first passphrase\nsecond passphrase\n' | '$TV' -d '$C' passwd --passphrase-file - --new-passphrase-file - --kdf interactive"
expect_ok "passwd"
python3 - "$C/node.secret" <<'EOF' || fail "passwd --kdf interactive: the header's limits"
import sys
b = open(sys.argv[1], "rb").read()
assert (int.from_bytes(b[12:20], "big"), int.from_bytes(b[20:28], "big")) == (2, 64 << 20)
EOF
run "$TV" -d "$C" scan --venue "$A" --person 0901000002
expect_ok "scan after passwd (kept unlocked)"
"$TV" -d "$C" lock 2>/dev/null
run "$TV" -d "$C" unlock --passphrase-file "$W/pass1"
expect_refused 1 "unlock with the old passphrase"
run "$TV" -d "$C" unlock --passphrase-file "$W/pass2"
expect_ok "unlock with the new passphrase"
mkdir -m 700 "$W/cred2"
cp "$W/pass2" "$W/cred2/passphrase"
[[ $(CREDENTIALS_DIRECTORY=$W/cred2 "$KEYS" "$C" | sort) == "$SEED_BEFORE" ]] ||
    fail "passwd changed the keys"

check "the systemd credential: a locked node unlocks from \$CREDENTIALS_DIRECTORY/passphrase"
"$TV" -d "$C" lock 2>/dev/null
mkdir -m 700 "$W/cred"
cp "$W/pass2" "$W/cred/passphrase"
run env CREDENTIALS_DIRECTORY="$W/cred" "$TV" -d "$C" scan --venue "$A" --person 0901000003
expect_ok "scan with the credential"
[[ -z $(keyline "$ID") ]] || fail "the credential left a key in the keyring"
cp "$W/pass1" "$W/cred/passphrase"
run env CREDENTIALS_DIRECTORY="$W/cred" "$TV" -d "$C" scan --venue "$A" --person 0901000003
expect_refused 4 "scan with a wrong credential"
expect_err_has "the passphrase in \$CREDENTIALS_DIRECTORY/passphrase does not open the node's secrets." \
    "a wrong credential"

check "a changed header (the Argon2id limits) makes the file fail to open"
cp "$C/node.secret" "$W/secret.good"
python3 - "$C/node.secret" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[19] ^= 1  # opslimit 2 -> 3: the header is the AEAD's associated data
open(sys.argv[1], "wb").write(bytes(b))
EOF
run "$TV" -d "$C" unlock --passphrase-file "$W/pass2"
expect_refused 1 "unlock with a changed header"
[[ $ERR == "truyvet: wrong passphrase: the node's secrets stay locked." ]] || fail "changed header: $ERR"
cp "$W/secret.good" "$C/node.secret"

check "clear key files of an earlier version: refused until passwd encrypts them"
O=$W/old
"$TV" -d "$O" init --role commune --unit 22334 --unlisted --name "Cũ" --passphrase-file "$W/pass1" >/dev/null 2>&1
# a person it holds a record of (trace refuses one it has never seen)
OV=$("$TV" -d "$O" venue add --name "Chợ cũ" --category market 2>/dev/null)
"$TV" -d "$O" scan --venue "$OV" --person 0901000009 --at 2021-10-02T08:00:00+07:00 >/dev/null 2>&1 ||
    fail "scan at the old node"
REF=$("$TV" -d "$O" trace --person 0901000009 --from 2021-10-01 --json 2>/dev/null | json_get case ref)
OID=$("$TV" -d "$O" status --json | json_get node_id)
cp "$W/pass1" "$W/cred2/passphrase"
CREDENTIALS_DIRECTORY=$W/cred2 "$KEYS" "$O" >"$W/old.keys"
"$TV" -d "$O" lock 2>/dev/null
python3 - "$O" "$W/old.keys" "$OID" <<'EOF'
import os, sys
d, keys, pk = sys.argv[1], dict(l.split(" ", 1) for l in open(sys.argv[2]).read().splitlines()), sys.argv[3]
open(os.path.join(d, "node.key"), "w").write("truyvet-node-key-v1\n" + keys["seed"] + pk + "\n")
open(os.path.join(d, "tracing.key"), "w").write("truyvet-tracing-key-v1\n" + keys["tracing"] + "\n")
os.chmod(os.path.join(d, "node.key"), 0o600)
os.chmod(os.path.join(d, "tracing.key"), 0o600)
os.remove(os.path.join(d, "node.secret"))
EOF
run "$TV" -d "$O" status
expect_refused 1 "status on a node with clear key files"
expect_err_has "are stored in clear files (node.key, tracing.key) by an earlier truyvet. Run 'truyvet passwd' to encrypt them under a passphrase." \
    "clear key files"
run "$TV" -d "$O" passwd --new-passphrase-file "$W/pass2"
expect_ok "passwd on clear key files"
[[ ! -e $O/node.key && ! -e $O/tracing.key && -f $O/node.secret ]] ||
    fail "passwd left clear files or made no node.secret"
[[ $("$TV" -d "$O" status --json | json_get node_id) == "$OID" ]] || fail "the node id changed"
got=$("$TV" -d "$O" trace --person 0901000009 --from 2021-10-01 --json 2>/dev/null | json_get case ref)
[[ $got == "$REF" ]] || fail "the converted node's pseudonyms differ: $got, not $REF"
"$TV" -d "$O" lock 2>/dev/null
run "$TV" -d "$O" unlock --passphrase-file "$W/pass2"
expect_ok "unlock the converted node with the new passphrase"
"$TV" -d "$O" lock 2>/dev/null
"$TV" -d "$C" lock 2>/dev/null
echo "PASS"
