# shellcheck shell=bash
# Helpers shared by the integration tests that drive the real `truyvet` binary.
#
# A test script, run as `bash tests/cli/X_test.sh /path/to/truyvet`, sources this file right
# after `set -euo pipefail`:
#
#     source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#
# It checks the script's one argument, sets TV to the binary's absolute path and W to a new
# directory that `cleanup` removes on exit, after killing the background processes a script
# adds to PIDS (a script that must stop them otherwise redefines `cleanup`, and still
# removes "$W"). The name of this file does not end in
# _test.sh, so it is not run as a test of its own.

if [[ $# -lt 1 || ! -x $1 ]]; then
    echo "usage: $0 /path/to/truyvet" >&2
    exit 2
fi
TV=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")

# Under LeakSanitizer, the font libraries' caches kept to the exit are not leaks of ours
# (tests/lsan.supp says why); a caller's own LSAN_OPTIONS win.
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lsan.supp}

W=$(mktemp -d)
# The processes a test starts in the background (`PIDS+=($!)`): killed and reaped at exit.
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT

# The nodes a test makes have their secrets encrypted under TEST_PASSPHRASE, which every
# command finds as a systemd service would ($CREDENTIALS_DIRECTORY/passphrase), derived
# at the cheapest Argon2id cost (min: for tests only), and kept unlocked in each process's
# own keyring only, so that nothing outlives the test. Tests of locking itself unset
# CREDENTIALS_DIRECTORY and choose a keyring (tests/privacy/stolen_laptop.sh).
TEST_PASSPHRASE='correct horse battery staple'
mkdir -m 700 "$W/credentials"
printf '%s\n' "$TEST_PASSPHRASE" >"$W/credentials/passphrase"
export CREDENTIALS_DIRECTORY=$W/credentials TRUYVET_KDF=min TRUYVET_KEYRING=process

# own_keyring: called right after sourcing this file, runs the test again in a new session
# keyring of its own and sets TRUYVET_KEYRING=session, so that what `truyvet unlock` keeps
# lasts across the test's commands and vanishes with it. Exits 77 (skipped) when the
# kernel (or a container's seccomp filter) gives no keyring.
own_keyring() {
    if [[ -z ${TV_OWN_KEYRING-} ]]; then
        rm -rf "$W"
        export TV_OWN_KEYRING=1
        exec python3 -c '
import ctypes, os, platform, sys
nr = {"x86_64": 250, "aarch64": 219, "armv7l": 311, "i686": 288}.get(platform.machine())
libc = ctypes.CDLL(None, use_errno=True)
if nr is None or libc.syscall(nr, 1, None) < 0:  # KEYCTL_JOIN_SESSION_KEYRING, anonymous
    print("SKIP: no kernel keyring here", file=sys.stderr)
    sys.exit(77)
os.execvp(sys.argv[1], sys.argv[1:])
' "$BASH" "$0" "$TV"
    fi
    export TRUYVET_KEYRING=session
}

# check WHAT: announces the next check.
check() { printf 'check: %s\n' "$*"; }

# fail WHAT: reports a failed check, with the last `run` command, its exit status and the
# start of its output when there was one, and ends the test.
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    if [[ -n ${RC-} ]]; then
        printf '  last command: %s\n  exit status: %s\n' "$LAST" "$RC" >&2
        printf '  stdout: %s\n' "$(head -c 2000 "$W/out")" >&2
        printf '  stderr: %s\n' "$(head -c 3000 "$W/err")" >&2
    fi
    exit 1
}

# run CMD...: runs a command, keeping its exit status in RC and its output in OUT/ERR
# (and in $W/out, $W/err) without stopping the script when it fails.
run() {
    LAST="$*"
    RC=0
    "$@" >"$W/out" 2>"$W/err" || RC=$?
    OUT=$(cat "$W/out")
    ERR=$(cat "$W/err")
}

expect_rc() { # expect_rc WANT WHAT
    [[ $RC -eq $1 ]] || fail "$2: expected exit status $1"
}

expect_ok() { expect_rc 0 "$1"; } # expect_ok WHAT

# expect_refused WANT WHAT: the command failed with exit status WANT, said why on stderr
# and printed nothing on stdout (data goes to stdout only when something was done).
expect_refused() {
    expect_rc "$1" "$2"
    [[ -z $OUT ]] || fail "$2: printed something on stdout although it failed"
    [[ -n $ERR ]] || fail "$2: failed without a message on stderr"
}

expect_err_has() { # expect_err_has TEXT WHAT
    grep -qF -- "$1" "$W/err" || fail "$2: stderr does not mention '$1'"
}

# json_get KEY...: reads one JSON value on stdin and prints the value at the key path
# (list items by their index; strings as their UTF-8 bytes, null as "null", anything else
# as JSON).
json_get() {
    python3 -c '
import json, sys
v = json.loads(sys.stdin.buffer.read())
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
s = v if isinstance(v, str) else json.dumps(v)
sys.stdout.buffer.write(s.encode() + b"\n")
' "$@"
}

# status_get DIR KEY...: a field of `status --json` of the node in DIR.
status_get() {
    local dir=$1 json
    shift
    json=$("$TV" -d "$dir" status --json) || fail "status --json failed on $dir"
    printf '%s' "$json" | json_get "$@"
}

# free_port: a TCP port free on 127.0.0.1 now.
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# json_eval PYEXPR: a Python expression evaluated on `j`, the JSON read from stdin.
json_eval() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }

node_id() { "$TV" -d "$1" status --json | json_eval "j['node_id']"; }

# held NODE ORIGIN: the last seq NODE holds of ORIGIN's log (0 if none).
held() {
    "$TV" -d "$1" status --json | json_eval "next((f['seq'] for f in j['frontier'] if f['origin']=='$2'), 0)"
}

# enrol CHILD PARENT [issue options...]: enrols the node in CHILD under the node in PARENT
# with request and certificate files, as operators do.
enrol() {
    local child=$1 parent=$2
    shift 2
    "$TV" -d "$child" enroll request --out "$W/req" >/dev/null
    "$TV" -d "$parent" enroll issue "$W/req" --out "$W/cert" "$@" >/dev/null
    "$TV" -d "$child" enroll accept "$W/cert" >/dev/null
}

# ship FROM TO: carries what node TO should hold of what node FROM holds (its partition)
# over by bundle, as a USB stick would.
ship() {
    local to
    to=$("$TV" -d "$2" status --json | json_get node_id)
    "$TV" -d "$1" bundle export --out "$W/ship" --for "$to" >/dev/null 2>&1 ||
        fail "bundle export from $1"
    "$TV" -d "$2" bundle import "$W/ship" >/dev/null 2>&1 || fail "bundle import at $2"
}

# html_check FILE [PNG]: opens FILE in headless Chromium (Debian's chromium), as a reader
# would, and runs the Python assertions on stdin against what it made of the page: `dom`,
# the parsed document after Chromium (an ElementTree element, tags in lower case, SVG ones
# too). The page must also render: its screenshot (kept as PNG when given) has ink on at
# least 2 % of its pixels, in at least 8 colours.
html_check() {
    local file=$1 png=${2:-$W/page.png} profile=$W/chromium-profile
    local flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
        --disable-background-networking --disable-component-update --disable-sync
        --hide-scrollbars --user-data-dir="$profile")
    command -v chromium >/dev/null || fail "chromium is not installed (./dev.sh installs it)"
    rm -rf "$profile" "$png"
    # a hang guard only: Chromium ends by itself once the page is loaded
    timeout 120 chromium "${flags[@]}" --dump-dom "file://$file" >"$W/page.dom" 2>"$W/chromium.err" ||
        fail "chromium --dump-dom: $(tail -3 "$W/chromium.err")"
    rm -rf "$profile"
    timeout 120 chromium "${flags[@]}" --window-size=1100,1400 --screenshot="$png" \
        "file://$file" >/dev/null 2>>"$W/chromium.err" ||
        fail "chromium --screenshot: $(tail -3 "$W/chromium.err")"
    [[ -s $png ]] || fail "chromium made no screenshot: $(tail -3 "$W/chromium.err")"
    python3 -c '
import struct, sys, zlib
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}

class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = ET.Element("document")
        self.stack = [self.root]
    def handle_starttag(self, tag, attrs):
        e = ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})
        if tag not in VOID:
            self.stack.append(e)
    def handle_startendtag(self, tag, attrs):
        ET.SubElement(self.stack[-1], tag, {k: v or "" for k, v in attrs})
    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                break
    def handle_data(self, data):
        e = self.stack[-1]
        if len(e):
            e[-1].tail = (e[-1].tail or "") + data
        else:
            e.text = (e.text or "") + data

def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour, _, _, lace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and lace == 0, (depth, colour, lace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows

t = Tree()
t.feed(open(sys.argv[1], encoding="utf-8").read())
dom = t.root
w, h, bpp, rows = png_pixels(sys.argv[2])
ink, colours = 0, set()
for line in rows[::4]:
    for x in range(0, w * bpp, 4 * bpp):
        px = bytes(line[x:x + 3])
        colours.add(px)
        ink += px != b"\xff\xff\xff"
sampled = len(rows[::4]) * len(range(0, w * bpp, 4 * bpp))
assert ink >= 0.02 * sampled and len(colours) >= 8, ("a blank page", ink, sampled, len(colours))
exec(sys.stdin.read())
' "$W/page.dom" "$png"
}
