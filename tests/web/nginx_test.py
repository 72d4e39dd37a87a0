#!/usr/bin/env python3
"""The console behind Debian's nginx, as the README puts it there (issue 18).

Runs the real nginx with node/web/nginx-truyvet.conf itself -- only its addresses, its
certificate (a self-signed one made here) and, as its own comment says for a port other
than 443, the Host line changed -- in front of a commune's `truyvet serve`, and checks what
the file is for: plain HTTP sends the browser to HTTPS; over HTTPS a browser's login (with
the Origin a browser sends) is taken, its cookies are Secure; the console log records the
browser's address beside the proxy's; a venue's live list passes each check-in on as it
commits (no buffering in between).

Usage: python3 tests/web/nginx_test.py /path/to/truyvet
"""

import functools
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http import cookiejar

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402

TV = console.usage_tv()
NGINX = "/usr/sbin/nginx"
OPENSSL = shutil.which("openssl")
if not os.access(NGINX, os.X_OK):
    console.skip(f"{NGINX} is missing (./dev.sh installs nginx)")
if not OPENSSL:
    console.skip("openssl is missing (./dev.sh installs it)")

HERE = os.path.dirname(os.path.abspath(__file__))
SITE = os.path.join(HERE, "..", "..", "node", "web", "nginx-truyvet.conf")
CLERK = ("thuky", "mat-khau-thu-ky")
TIMEOUT = console.TIMEOUT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def replace(text, old, new):
    """text with old replaced; old must be in it (the site file changed: this test must too)."""
    assert old in text, f"nginx-truyvet.conf no longer has {old!r}"
    return text.replace(old, new)


class Proxy:
    """nginx with the site file, in front of the console at upstream (HOST:PORT)."""

    def __init__(self, w, upstream):
        self.w = os.path.join(w, "nginx")
        os.mkdir(self.w)
        self.http, self.https = free_port(), free_port()
        crt, key = os.path.join(self.w, "cert.pem"), os.path.join(self.w, "key.pem")
        subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", crt, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                        "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        self.ctx = ssl.create_default_context(cafile=crt)
        with open(SITE, encoding="utf-8") as fh:
            site = fh.read()
        site = replace(site, "    listen 80;\n", f"    listen 127.0.0.1:{self.http};\n")
        site = replace(site, "    listen [::]:80;\n", "")
        site = replace(site, "    listen 443 ssl http2;\n",
                       f"    listen 127.0.0.1:{self.https} ssl http2;\n")
        site = replace(site, "    listen [::]:443 ssl http2;\n", "")
        site = replace(site, "/etc/ssl/certs/ssl-cert-snakeoil.pem", crt)
        site = replace(site, "/etc/ssl/private/ssl-cert-snakeoil.key", key)
        site = replace(site, "proxy_pass http://127.0.0.1:8080;", f"proxy_pass http://{upstream};")
        site = replace(site, "proxy_set_header Host $host;",
                       "proxy_set_header Host $host:$server_port;")
        with open(os.path.join(self.w, "site.conf"), "w", encoding="utf-8") as fh:
            fh.write(site)
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            os.mkdir(os.path.join(self.w, d))
        main = f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {self.w}/nginx.pid;
error_log {self.w}/error.log;
events {{ }}
http {{
    access_log {self.w}/access.log;
    client_body_temp_path {self.w}/body;
    proxy_temp_path {self.w}/proxy;
    fastcgi_temp_path {self.w}/fastcgi;
    uwsgi_temp_path {self.w}/uwsgi;
    scgi_temp_path {self.w}/scgi;
    include {self.w}/site.conf;
}}
"""
        conf = os.path.join(self.w, "nginx.conf")
        with open(conf, "w", encoding="utf-8") as fh:
            fh.write(main)
        self.proc = subprocess.Popen([NGINX, "-p", self.w, "-c", conf, "-g", "daemon off;"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.w, "stderr"), "wb"))
        deadline = time.monotonic() + TIMEOUT
        while True:  # until it accepts on both ports (or has exited)
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited {self.proc.returncode}: {self.log()}")
            try:
                for p in (self.http, self.https):
                    socket.create_connection(("127.0.0.1", p), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"nginx does not listen: {self.log()}")
                try:  # its end is what this waits on, a moment at a time
                    self.proc.wait(timeout=0.05)
                except subprocess.TimeoutExpired:
                    pass

    @property
    def base(self):
        return f"https://127.0.0.1:{self.https}"

    def log(self):
        out = ""
        for f in ("stderr", "error.log"):
            try:
                with open(os.path.join(self.w, f), encoding="utf-8", errors="replace") as fh:
                    out += fh.read()[-1500:]
            except OSError:
                pass
        return out

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


BROWSER_ADDR = "127.0.0.2"  # not the proxy's own address, so that the log tells them apart


class FromAddress(urllib.request.HTTPSHandler):
    """HTTPS from BROWSER_ADDR."""

    def https_open(self, req):
        return self.do_open(functools.partial(http.client.HTTPSConnection,
                                              source_address=(BROWSER_ADDR, 0)),
                            req, context=self._context)


class Browser:
    """An HTTPS client of the proxy as a browser is: cookies kept, its Origin on a POST."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.jar = cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            FromAddress(context=proxy.ctx),
            urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        self.csrf = None

    def cookie(self, name):
        return next((c for c in self.jar if c.name == name), None)

    def open(self, method, path, form=None, stream=False):
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        hdrs = {"Accept": "application/json"}
        if body is not None:
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
            hdrs["Origin"] = self.proxy.base
            hdrs["Sec-Fetch-Site"] = "same-origin"
            if self.csrf:
                hdrs["X-CSRF-Token"] = self.csrf
        req = urllib.request.Request(self.proxy.base + path, data=body, method=method,
                                     headers=hdrs)
        try:
            r = self.opener.open(req, timeout=TIMEOUT)
        except urllib.error.HTTPError as e:
            with e:
                return console.Resp(e.code, e.headers, e.read())
        if stream:
            return r
        with r:
            return console.Resp(r.status, r.headers, r.read())


fx = console.Console(TV)
C = fx.C
proxy = None
V = None


def setup():
    global proxy, V
    V = C.tv("venue", "add", "--name", "Chợ Vĩnh Hải", "--category", "market").stdout.strip()
    C.user_add(CLERK[0], "clerk", CLERK[1])
    C.serve()
    proxy = Proxy(fx.w, C.url.split("//", 1)[1].rstrip("/"))


def plain_http_goes_to_https():
    """plain HTTP answers 301 to the same path over HTTPS"""
    r = urllib.request.build_opener(NoRedirect())
    try:
        r.open(f"http://127.0.0.1:{proxy.http}/gate", timeout=TIMEOUT)
        raise AssertionError("plain HTTP was answered, not sent to HTTPS")
    except urllib.error.HTTPError as e:
        with e:
            assert e.code == 301, e.code
            assert e.headers["Location"] == "https://127.0.0.1/gate", e.headers["Location"]


B = None


def login_over_https():
    """over HTTPS a browser's login is taken (its Origin matches the Host passed on) and
    its cookies are Secure; HSTS is sent"""
    global B
    B = Browser(proxy)
    r = B.open("GET", "/api/session")
    assert r.status == 200, r
    assert r.headers["Strict-Transport-Security"] == "max-age=31536000", r.headers
    B.csrf = r.json["csrf"]
    assert B.cookie("tv_csrf").secure, "tv_csrf is not Secure behind TLS"
    r = B.open("POST", "/api/login", {"name": CLERK[0], "password": CLERK[1]})
    assert r.status == 200 and r.json["role"] == "clerk", r
    B.csrf = r.json["csrf"]
    c = B.cookie("tv_session")
    assert c is not None and c.secure, "tv_session is not Secure behind TLS"
    r = B.open("GET", "/api/session")
    assert r.json["user"] == CLERK[0], r


def logins():
    log = [json.loads(line) for line in C.tv("user", "log", "--json").stdout.splitlines()]
    return [e for e in log if e["kind"] == "login" and e["subject"] == CLERK[0]]


def login_logged_with_browser_address():
    """the console log records the browser's address beside the proxy's; a header that is
    not an address is not believed"""
    got = logins()
    assert got and got[-1]["remote"] == f"{BROWSER_ADDR} via 127.0.0.1", got
    s = console.Session(C.url)  # straight to the console, with a header of its own
    r = console.http("GET", "/api/session", session=s)
    s.csrf = r.json["csrf"]
    r = console.http("POST", "/api/login", {"name": CLERK[0], "password": CLERK[1]}, session=s,
                     headers={"X-Real-IP": "203.0.113.7, 198.51.100.1"})
    assert r.status == 200, r
    got = logins()
    assert got[-1]["remote"] == "127.0.0.1", got


def live_list_streams_through():
    """a venue's live list passes a check-in on through nginx as it commits"""
    live = B.open("GET", f"/api/venues/{V}/live", stream=True)
    assert live.status == 200 and live.headers["Content-Type"].startswith(
        "text/event-stream"), live.headers
    with live:
        r = B.open("POST", "/api/scan", {"venue": V, "line": "0912345678"})
        assert r.status == 200 and r.json["result"] == "ok", r
        while True:  # the socket's timeout is the deadline: a buffered event never comes
            line = live.readline().decode("utf-8")
            assert line, "the live list ended"
            if line.startswith("data:"):
                break
        assert "09******78" in line, line


SCENARIOS = [plain_http_goes_to_https, login_over_https, login_logged_with_browser_address,
             live_list_streams_through]

rc = 1
try:
    setup()
    rc = console.run_scenarios(SCENARIOS, {})
finally:
    if proxy:
        proxy.stop()
    bad = fx.close()
    if bad:
        print("FAIL: servers did not stop cleanly: " + "; ".join(bad), file=sys.stderr)
        rc = 1
sys.exit(rc)
