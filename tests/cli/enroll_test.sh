#!/usr/bin/env bash
# Integration test of enrolment and revocation with the real `truyvet` binary: a province
# (the root), a district and a commune enrolled with request and certificate files, what
# `status` and `log` show of it, and the refusals an operator meets.
#
# Usage: bash tests/cli/enroll_test.sh /path/to/truyvet
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

P=$W/tinh-56
D=$W/huyen-568
C=$W/xa-22333

# --- helpers --------------------------------------------------------------------------
# (These add to the helpers of lib.sh: check, fail, run, expect_*, json_get, status_get.)

# logged DIR TYPE KEY=VALUE...: `log --json` of DIR holds an event of TYPE whose fields
# have the given values (lists compared as comma-joined strings).
logged() {
    local dir=$1
    shift
    "$TV" -d "$dir" log --json >"$W/log.jsonl" || fail "log --json failed on $dir"
    python3 - "$W/log.jsonl" "$@" <<'EOF'
import json, sys
path, want_type, *pairs = sys.argv[1:]
want = dict(p.split("=", 1) for p in pairs)
def text(v):
    if isinstance(v, list):
        return ",".join(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return "null" if v is None else str(v)
for line in open(path, encoding="utf-8"):
    ev = json.loads(line)
    if ev["type"] == want_type and all(text(ev["fields"].get(k)) == v for k, v in want.items()):
        sys.exit(0)
sys.exit(1)
EOF
}

# --- nodes ----------------------------------------------------------------------------

# pseud DIR: the pseudonym the node in DIR gives one fixed person (its tracing key, seen
# through the CLI: the key itself is encrypted in node.secret).
pseud() {
    # (the node has never seen that person: trace names the pseudonym in its refusal)
    { "$TV" -d "$1" trace --person 0909000111 --from 2021-10-01 2>&1 >/dev/null || true; } |
        sed -n 's/.*no record of this person (pseudonym \([0-9a-f]\{32\}\)).*/\1/p'
}

check "a province's init makes it the root, with the health flag by default"
run "$TV" -d "$P" init --role province --unit 56 --name "Sở Y tế Khánh Hòa"
expect_ok "init of the province"
P_ID=$OUT
[[ $(status_get "$P" root) == "$P_ID" ]] || fail "the province's root is not its own id"
[[ $(status_get "$P" cert root) == true ]] || fail "the province's certificate is not self-issued"
[[ $(status_get "$P" cert scope 0) == "*" ]] || fail "the root's scope is not *"
[[ $(status_get "$P" cert health) == true ]] || fail "the root lacks the health flag"
[[ $(status_get "$P" cert not_after) == null ]] || fail "the root's certificate expires"
[[ $(status_get "$P" events cert) == 1 ]] || fail "the root certificate is not an event of its log"
logged "$P" cert "subject=$P_ID" "issuer=$P_ID" role=province unit=56 "scope=*" health=true ||
    fail "log --json does not show the root certificate's fields"
"$TV" -d "$P" status | grep -q "^root .*$P_ID (this node)" || fail "status does not show the root"

check "--no-health makes a root without the health flag; --health is for provinces only"
run "$TV" -d "$W/p2" init --role province --unit 57 --unlisted --name "Tỉnh khác" --no-health --json
expect_ok "init --no-health"
[[ $(json_get root <"$W/out") == "$(json_get node_id <"$W/out")" ]] || fail "init --json lacks root"
[[ $(status_get "$W/p2" cert health) == false ]] || fail "--no-health gave the health flag"
run "$TV" -d "$W/d-health" init --role district --unit 569 --name "Huyện" --health
expect_refused 2 "init --health of a district"
[[ ! -e $W/d-health ]] || fail "a refused init created its directory"

run "$TV" -d "$D" init --role district --unit 568 --name "Huyện Diên Khánh"
expect_ok "init of the district"
D_ID=$OUT
run "$TV" -d "$C" init --role commune --unit 22333 --name "UBND Xã Diên An"
expect_ok "init of the commune"
C_ID=$OUT

check "a new node is not enrolled"
[[ $(status_get "$D" root) == null ]] || fail "a new district has a root"
[[ $(status_get "$D" cert) == null ]] || fail "a new district has a certificate"
"$TV" -d "$D" status | grep -q "not enrolled" || fail "status text does not say 'not enrolled'"

# --- province -> district -------------------------------------------------------------

check "enroll request writes a signed request that enroll show reads"
run "$TV" -d "$D" enroll request --out "$W/d.req"
expect_ok "enroll request --out"
[[ $(head -n 1 "$W/d.req") == truyvet-enroll-request-v1 ]] || fail "the request has no version line"
grep -q "^node: $D_ID$" "$W/d.req" || fail "the request does not name the node"
run "$TV" enroll show "$W/d.req" --json
expect_ok "enroll show of a request"
[[ $(json_get node_id <"$W/out") == "$D_ID" && $(json_get unit <"$W/out") == 568 ]] ||
    fail "enroll show --json does not show the request's node and unit"
[[ $(json_get name <"$W/out") == "Huyện Diên Khánh" ]] || fail "the name did not survive"

check "the province issues the district's certificate, recorded in its log"
run "$TV" -d "$P" enroll issue "$W/d.req" --out "$W/d.cert" --scope 22333,22334
expect_ok "enroll issue at the province"
[[ -z $OUT ]] || fail "enroll issue --out FILE printed on stdout"
[[ $(stat -c %a "$W/d.cert") == 644 ]] || fail "the certificate file is not mode 644"
[[ $(head -n 1 "$W/d.cert") == truyvet-enroll-cert-v1 ]] || fail "the file has no version line"
logged "$P" cert "subject=$D_ID" "issuer=$P_ID" role=district unit=568 scope=568,22333,22334 \
    health=false not_after=null || fail "the province's log lacks the district's certificate"
run "$TV" enroll show "$W/d.cert"
expect_ok "enroll show of a certificate file"
grep -q "signature and chain valid" "$W/out" || fail "enroll show does not vouch for the file"

check "the district accepts it: root, certificate, and no pseudonym key (no health flag)"
run "$TV" -d "$D" enroll accept "$W/d.cert"
expect_ok "enroll accept at the district"
grep -q "^root *$P_ID$" "$W/out" || fail "accept does not print the root"
grep -q "^scope *568,22333,22334$" "$W/out" || fail "accept does not print the scope"
expect_err_has "pseudonyms" "accept, about the tracing key"
[[ $(status_get "$D" root) == "$P_ID" ]] || fail "the district's root is not the province"
[[ $(status_get "$D" cert role) == district ]] || fail "the district's certificate role"
[[ $(status_get "$D" cert issuer) == "$P_ID" ]] || fail "the district's certificate issuer"
[[ $(status_get "$D" cert scope 2) == 22334 ]] || fail "the district's certificate scope"
grep -q "^tracing-key: [0-9a-f]\{160\}$" "$W/d.cert" && fail "a key was sealed to a district without the health flag"
grep -qx "tracing-key:" "$W/d.cert" || fail "the district's certificate file has no empty tracing-key line"
[[ $(status_get "$D" pseudonym_key) == none ]] || fail "the district holds a pseudonym key: $(status_get "$D" pseudonym_key)"
[[ $(stat -c %a "$D/node.secret") == 600 ]] || fail "the new node.secret is not mode 600"
run "$TV" -d "$D" enroll accept "$W/d.cert"
expect_ok "accepting the same file again"

# --- district -> commune, through standard input and output ---------------------------

check "the district enrols the commune through pipes"
"$TV" -d "$C" enroll request >"$W/c.req" 2>/dev/null || fail "enroll request to stdout failed"
"$TV" -d "$D" enroll issue - --out - --days 30 <"$W/c.req" >"$W/c.cert" 2>"$W/err" ||
    fail "enroll issue - --out - failed: $(cat "$W/err")"
run "$TV" -d "$C" enroll accept "$W/c.cert" --json
expect_ok "enroll accept --json at the commune"
[[ $(json_get root <"$W/out") == "$P_ID" ]] || fail "accept --json root"
[[ $(json_get cert issuer <"$W/out") == "$D_ID" ]] || fail "accept --json issuer"
# the district holds no K_p, so it could seal no key: the commune keeps its local one until
# a health node grants its K_c (key_grant)
[[ $(json_get tracing_key_changed <"$W/out") == false ]] || fail "accept --json tracing_key_changed"
[[ $(json_get tracing_key_kind <"$W/out") == local ]] || fail "accept --json tracing_key_kind"
[[ $(status_get "$C" cert unit) == 22333 ]] || fail "the commune's certificate unit"
[[ $(status_get "$C" cert scope) == '["22333"]' ]] || fail "the commune's scope is not its unit"
[[ $(status_get "$C" cert not_after) != null ]] || fail "--days 30 gave no expiry"
[[ $(status_get "$C" revoked) == false ]] || fail "the commune is revoked"
[[ $(status_get "$C" pseudonym_key) != province ]] || fail "the commune holds the province's key"
[[ $(pseud "$C") != $(pseud "$P") ]] || fail "the commune's pseudonyms are the province's"
logged "$D" cert "subject=$C_ID" "issuer=$D_ID" role=commune unit=22333 ||
    fail "the district's log lacks the commune's certificate"
"$TV" -d "$D" log | grep -q "cert .*node ${C_ID:0:16}: commune 22333" ||
    fail "log text does not show the commune's certificate"

# --- refusals -------------------------------------------------------------------------

check "a commune cannot issue certificates"
run "$TV" -d "$C" enroll issue "$W/d.req" --out "$W/x.cert"
expect_refused 1 "enroll issue at a commune"
expect_err_has "commune" "enroll issue at a commune"
[[ ! -e $W/x.cert ]] || fail "a refused issue wrote a file"

check "a certificate for another node is refused"
run "$TV" -d "$C" enroll accept "$W/d.cert"
expect_refused 1 "accepting the district's file at the commune"
expect_err_has "not for this node" "accepting another node's file"

check "a request with a bad signature is refused"
sed 's/^unit: 568$/unit: 569/' "$W/d.req" >"$W/bad.req"
run "$TV" -d "$P" enroll issue "$W/bad.req" --out "$W/x.cert"
expect_refused 1 "issue of an altered request"
expect_err_has "signature" "issue of an altered request"
run "$TV" enroll show "$W/bad.req"
expect_refused 1 "show of an altered request"
[[ ! -e $W/x.cert ]] || fail "a refused issue wrote a file"

check "an altered certificate file is refused, and changes nothing"
python3 - "$W/c.cert" "$W/bad.cert" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(b"\nissued: ") + 12
b[i] = ord("0") if b[i] != ord("0") else ord("1")
open(sys.argv[2], "wb").write(bytes(b))
EOF
BEFORE=$(pseud "$C")
run "$TV" -d "$C" enroll accept "$W/bad.cert"
expect_refused 1 "accept of an altered file"
expect_err_has "changed or damaged" "accept of an altered file"
[[ $(pseud "$C") == "$BEFORE" ]] || fail "a refused accept changed the tracing key"

check "missing and foreign files are refused with a message"
run "$TV" -d "$P" enroll issue "$W/nothing.req" --out "$W/x.cert"
expect_refused 1 "issue of a missing request"
expect_err_has "no such file" "issue of a missing request"
run "$TV" -d "$D" enroll accept "$W/nothing.cert"
expect_refused 1 "accept of a missing file"
expect_err_has "no such file" "accept of a missing file"
run "$TV" enroll show "$0"
expect_refused 1 "show of a file that is neither"

check "a scope wider than the issuer's is refused"
"$TV" -d "$W/c2" init --role commune --unit 22999 --unlisted --name "Xã ngoài huyện" >/dev/null 2>&1
"$TV" -d "$W/c2" enroll request --out "$W/c2.req" 2>/dev/null
run "$TV" -d "$D" enroll issue "$W/c2.req" --out "$W/x.cert"
expect_refused 1 "issue for a commune outside the district"
expect_err_has "not within" "issue for a commune outside the district"
run "$TV" -d "$P" enroll issue "$W/d.req" --out "$W/x.cert" --days 10 --scope 22333,
expect_refused 2 "--scope with an empty code"

check "a province is not enrolled, and a node in another tree refuses a second root"
run "$TV" -d "$P" enroll request
expect_refused 1 "enroll request at a province"
"$TV" -d "$W/p2" enroll issue "$W/d.req" --out "$W/p2-d.cert" 2>/dev/null ||
    fail "the other province could not issue"
run "$TV" -d "$D" enroll accept "$W/p2-d.cert"
expect_refused 1 "accepting a certificate of another root"
expect_err_has "another root" "accepting a certificate of another root"
[[ $(status_get "$D" root) == "$P_ID" ]] || fail "a refused accept changed the root"

# --- revoke ---------------------------------------------------------------------------

check "revoke is refused at a node that is neither the issuer nor the root"
run "$TV" -d "$C" revoke "$D_ID"
expect_refused 1 "revoke of the district at the commune"
expect_err_has "only that node or the province" "revoke at a non-issuer"
run "$TV" -d "$D" revoke "$P_ID"
expect_refused 1 "revoke of the root at the district"
run "$TV" -d "$D" revoke "$D_ID"
expect_refused 1 "revoke of its own key"
run "$TV" -d "$D" revoke 12345
expect_refused 2 "revoke of a malformed id"
[[ $(status_get "$D" events revoke) == 0 ]] || fail "a refused revoke recorded an event"

check "the issuer revokes the commune; the event is in its log"
run "$TV" -d "$D" revoke "$C_ID" --reason "Máy bị mất"
expect_ok "revoke at the issuer"
[[ $OUT =~ ^${D_ID:0:16}-[0-9]+$ ]] || fail "revoke did not print the event id"
logged "$D" revoke "subject=$C_ID" "reason=Máy bị mất" || fail "the log lacks the revocation"
"$TV" -d "$D" log | grep -q "revoke .*$C_ID  Máy bị mất" || fail "log text lacks the revocation"
run "$TV" -d "$D" revoke "$C_ID"
expect_ok "revoking twice"
expect_err_has "already revoked" "revoking twice"
[[ $(status_get "$D" events revoke) == 1 ]] || fail "revoking twice recorded twice"
run "$TV" -d "$P" revoke "$D_ID"
expect_ok "revoke at the root"

# --- help and usage -------------------------------------------------------------------

check "every enrolment command's --help prints Usage:"
for cmd in enroll "enroll request" "enroll show" "enroll issue" "enroll accept" revoke; do
    # shellcheck disable=SC2086 # split "enroll issue" into its two words on purpose
    run "$TV" $cmd --help
    expect_ok "truyvet $cmd --help"
    grep -q "Usage:" "$W/out" || fail "truyvet $cmd --help does not print Usage:"
done
grep -q "QR" < <("$TV" enroll request --help) || fail "enroll request --help does not mention QR"
for args in "enroll" "enroll frobnicate" "enroll issue $W/d.req" "enroll accept" "revoke" \
    "enroll show" "enroll request --frobnicate" "revoke $C_ID --frobnicate"; do
    # shellcheck disable=SC2086 # the words of each case on purpose
    run "$TV" -d "$D" $args
    expect_refused 2 "truyvet $args"
done

echo "enroll_test: all checks passed"
