#!/usr/bin/env python3
"""The web console's JSON API without a browser (issue 18), over a real province and commune.

Bad input through the API is refused with the CLI's own sentence for the same input
(unknown venue, malformed time, duplicate venue, control characters), as a 4xx JSON error,
and nothing is written (the store's counts of `status --json` unchanged); a
state-changing call without this session's CSRF token is refused (403 csrf), the login too
when it lacks the tv_csrf cookie it must echo; roles are the server's (a guard registers no
venue: 403 forbidden; no session: 401 login_required); and every answer carries the
security headers, the Content-Security-Policy exactly.

Usage: python3 tests/web/api_test.py /path/to/truyvet
"""

import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402
from console import CSP, http, login  # noqa: E402

# Scenarios waiting for a piece of the console not on main yet: name -> the piece. A listed
# scenario that fails is reported XFAIL; one that passes fails the test until taken off.
EXPECTED_FAIL = {}

TV = console.usage_tv()

CLERK = ("thuky", "mat-khau-thu-ky")
GUARD = ("baove", "mat-khau-bao-ve")
LOCKED = ("khoa", "mat-khau-dung-1")  # the lockout's own account
CONTROLLER = ("0912000001", "246810")  # controls V1, not V2
UNKNOWN = "0123456789abcdef"  # no venue has this id
CSRF_EN = ("the request was refused: it does not carry this session's CSRF token or comes "
           "from another site.")

fx = console.Console(TV)
C = fx.C
SETUP_ERRORS = []
V1 = V2 = None


def setup():
    """Two venues of the commune, a controller of the first, and the accounts."""
    global V1, V2
    V1 = C.tv("venue", "add", "--name", "Quán cà phê Biển", "--category", "cafe", "--village",
              "Tổ dân phố 3").stdout.strip()
    V2 = C.tv("venue", "add", "--name", "Chợ Đầm", "--category", "market").stdout.strip()
    C.tv("venue", "controller", "add", V1, CONTROLLER[0])
    for name, pw, role in (CLERK + ("clerk",), GUARD + ("guard",), LOCKED + ("clerk",),
                           CONTROLLER + ("controller",)):
        try:
            C.user_add(name, role, pw)
        except AssertionError as e:  # each scenario that logs in then fails, naming it
            SETUP_ERRORS.append(str(e))


def session(who):
    assert not SETUP_ERRORS, f"the accounts were not made: {SETUP_ERRORS[0]}"
    return login(C.url, *who)


def cli_sentence(*args):
    """The sentence the CLI prints for a refusal: its first line on stderr, without the
    program's name; the command must have failed and printed nothing on stdout."""
    p = C.tv(*args, check=False)
    assert p.returncode != 0 and p.stdout == "", f"{args}: {p.returncode} {p.stdout!r}"
    first = p.stderr.splitlines()[0]
    assert first.startswith("truyvet: "), first
    return first[len("truyvet: "):]


def refused(r, status, code, sentence):
    """r is a JSON error with that status and code, its message the CLI's sentence, and a
    Vietnamese one for the page."""
    assert r.status == status, f"status {r.status}, not {status}: {r}"
    assert r.headers["Content-Type"] == "application/json; charset=utf-8", r.headers
    j = r.json
    assert j["error"] == code, j
    assert j["message"] == sentence, f"message {j['message']!r}, not the CLI's {sentence!r}"
    assert j["message_vi"] and j["message_vi"] != j["message"], j


def venue_form(**kw):
    form = {"name": "Quán cà phê Biển", "category": "cafe", "village": "Tổ dân phố 3"}
    form.update(kw)
    return form


# --- bad input: the CLI's sentence, nothing written -----------------------------------------


def unknown_venue():
    """an unknown venue (shown, edited, scanned at): 404 venue_unknown with the CLI's
    sentence, nothing written"""
    s, g = session(CLERK), session(GUARD)
    before = C.counts()
    answers = [
        (http("GET", f"/api/venues/{UNKNOWN}", session=s), ("venue", "show", UNKNOWN)),
        (http("POST", f"/api/venues/{UNKNOWN}", {"name": "Quán mới"}, session=s),
         ("venue", "edit", UNKNOWN, "--name", "Quán mới")),
        (http("POST", f"/api/venues/{UNKNOWN}/controllers", {"phone": "0912000003"}, session=s),
         ("venue", "controller", "add", UNKNOWN, "0912000003")),
        (http("POST", "/api/scan", {"venue": UNKNOWN, "line": "0912345678"}, session=g),
         ("scan", "--venue", UNKNOWN, "--person", "0912345678")),
        (http("GET", f"/api/venues/{UNKNOWN}/poster.png", session=s),
         ("qr", "venue", UNKNOWN, "--out", os.path.join(fx.w, "poster.png"))),
        (http("GET", f"/api/venues/{UNKNOWN}/live", session=s),
         ("watch", "--venue", UNKNOWN)),
    ]
    wrong = []
    for r, args in answers:
        try:
            refused(r, 404, "venue_unknown", cli_sentence(*args))
        except AssertionError as e:
            wrong.append(f"{' '.join(args[:2])}: {str(e)[:120]}")
    assert not wrong, "; ".join(wrong)
    assert C.counts() == before, "a refused request wrote"


def malformed_time():
    """a malformed time (a venue's closing time, a scan's time): 400 with the CLI's sentence,
    nothing written"""
    s, g = session(CLERK), session(GUARD)
    before = C.counts()
    for bad in ("25:99", "24:00", "22:00:00", "ab"):
        refused(http("POST", "/api/venues", venue_form(name="Quán Mới", closes=bad), session=s),
                400, "closes_invalid",
                cli_sentence("venue", "add", "--name", "Quán Mới", "--category", "cafe",
                             "--closes", bad))
    for bad, code in (("yesterday", "time_invalid"), ("32/10/2021 08:30", "time_invalid"),
                      ("2019-12-31T08:00:00+07:00", "time_too_early")):
        refused(http("POST", "/api/scan", {"venue": V1, "line": "0912345678", "at": bad},
                     session=g), 400, code,
                cli_sentence("scan", "--venue", V1, "--person", "0912345678", "--at", bad))
    assert C.counts() == before, "a refused registration or scan wrote"


def duplicate_venue():
    """the same venue again: 409 venue_duplicate with the CLI's sentence, nothing written"""
    s = session(CLERK)
    before = C.counts()
    refused(http("POST", "/api/venues", venue_form(), session=s), 409, "venue_duplicate",
            cli_sentence("venue", "add", "--name", "Quán cà phê Biển", "--category", "cafe",
                         "--village", "Tổ dân phố 3"))
    assert C.counts() == before, "a refused registration wrote"


def control_characters():
    """control characters in a name or village: 400 text_control with the CLI's sentence"""
    s = session(CLERK)
    before = C.counts()
    for field, text in (("name", "Quán\x07 Biển"), ("name", "Quán\x1b[31m"),
                        ("village", "Tổ\x00 3"), ("village", "Tổ\u0085 3")):
        if "\x00" in text:  # no program takes a NUL in an argument: the form is refused
            r = http("POST", "/api/venues", venue_form(**{field: text}), session=s)
            assert r.status == 400 and r.json["error"] == "bad_request", r
            continue
        refused(http("POST", "/api/venues", venue_form(**{field: text}), session=s), 400,
                "text_control",
                cli_sentence("venue", "add", "--category", "cafe",
                             *(("--name", text) if field == "name" else
                               ("--name", "Quán khác", "--village", text))))
    assert C.counts() == before, "a refused registration wrote"


# --- CSRF -----------------------------------------------------------------------------------


def csrf_refused_without_session():
    """a POST without X-CSRF-Token, before any login: 403 csrf, before anything else"""
    before = C.counts()
    for data in ({"venue": V1, "line": "0912345678"}, None):
        r = http("POST", "/api/scan", data, base=C.url)
        assert r.status == 403 and r.json["error"] == "csrf", r
        assert r.json["message"] == CSRF_EN, r.json
    assert C.counts() == before, "a refused scan wrote"


def csrf_refused_in_session():
    """a logged-in clerk's POST without the token, with a wrong one, another session's, or
    from another site: 403 csrf, nothing written; the same POST with it is taken"""
    s = session(CLERK)
    before = C.counts()
    form = {"venue": V1, "line": "0912345670", "direction": "in"}
    other = login(C.url, *CLERK)  # another session's token is not this one's
    for headers, csrf in (({}, False), ({"X-CSRF-Token": "x" * 43}, False),
                          ({"X-CSRF-Token": other.csrf}, False),
                          ({"Origin": "http://evil.example"}, True),
                          ({"Origin": "null"}, True),
                          ({"Sec-Fetch-Site": "cross-site"}, True),
                          ({"Sec-Fetch-Site": "same-site"}, True)):
        r = http("POST", "/api/scan", form, session=s, headers=headers, csrf=csrf)
        assert r.status == 403 and r.json["error"] == "csrf", (headers, r)
        assert r.json["message"] == CSRF_EN, r.json
    assert C.counts() == before, "a refused scan wrote"
    r = http("POST", "/api/scan", form, session=s,
             headers={"Origin": C.origin, "Sec-Fetch-Site": "same-origin"})
    assert r.status == 200 and r.json["result"] == "ok", r
    assert C.counts()["events"]["scan"] == before["events"]["scan"] + 1


def login_csrf():
    """the login needs the tv_csrf cookie echoed in X-CSRF-Token: without either, 403 csrf"""
    assert not SETUP_ERRORS, f"the accounts were not made: {SETUP_ERRORS[0]}"
    form = {"name": CLERK[0], "password": CLERK[1]}
    s = console.Session(C.url)
    r = http("GET", "/api/session", session=s)
    assert r.status == 200 and r.json["user"] is None, r
    token = r.json["csrf"]
    cookie = s.cookie("tv_csrf")
    assert cookie is not None and cookie.value == token, "GET /api/session set no tv_csrf"
    fresh = console.Session(C.url)  # no cookie, the header alone
    fresh.csrf = token
    r = http("POST", "/api/login", form, session=fresh)
    assert r.status == 403 and r.json["error"] == "csrf", r
    for t in (None, "x" * len(token)):  # the cookie, and no header or another token
        s.csrf = t
        r = http("POST", "/api/login", form, session=s)
        assert r.status == 403 and r.json["error"] == "csrf", (t, r)
    s.csrf = token
    r = http("POST", "/api/login", form, session=s)
    assert r.status == 200 and r.json["role"] == "clerk", r
    c = s.cookie("tv_session")
    assert c is not None and c.has_nonstandard_attr("HttpOnly"), "tv_session is not HttpOnly"
    assert c.get_nonstandard_attr("SameSite") == "Strict", "tv_session is not SameSite=Strict"


# --- lockout --------------------------------------------------------------------------------


def before_login():
    """A session holding the tv_csrf cookie and its token, as the login page does."""
    s = console.Session(C.url)
    s.csrf = http("GET", "/api/session", session=s).json["csrf"]
    return s


def lockout_over_api():
    """five wrong passwords lock the account (423, even with the right one), each try in
    the console log; the operator's unlock lets it in again"""
    assert not SETUP_ERRORS, f"the accounts were not made: {SETUP_ERRORS[0]}"
    name, right = LOCKED
    for i in range(5):
        r = http("POST", "/api/login", {"name": name, "password": f"sai-mat-khau-{i}"},
                 session=before_login())
        if i < 4 or r.status == 401:
            assert r.status == 401 and r.json == {
                "error": "login_failed", "message": "wrong name or password.",
                "message_vi": "Sai tên đăng nhập hoặc mật khẩu."}, (i, r)
    r = http("POST", "/api/login", {"name": name, "password": right}, session=before_login())
    assert r.status == 423 and r.json["error"] == "account_locked", r
    assert r.json["message"].startswith("the account is locked after 5 failed logins, until "), \
        r.json
    assert r.json["message_vi"].startswith("Tài khoản bị khóa vì đăng nhập sai 5 lần liên tiếp"), \
        r.json
    assert http("GET", "/api/venues", session=r_session(r)).status == 401
    C.tv("user", "unlock", name)
    s = login(C.url, name, right)
    assert http("GET", "/api/venues", session=s).status == 200
    kinds = [e["kind"] for e in
             (json.loads(line) for line in C.tv("user", "log", "--json").stdout.splitlines())
             if e["subject"] == name]
    assert kinds == ["account_added"] + ["login_failed"] * 4 + ["login_locked"] * 2 + [
        "account_unlocked", "login"], kinds


def r_session(r):
    """A session with no cookie of the refused login's (there must be none)."""
    assert "tv_session=" not in (r.headers.get("Set-Cookie") or ""), r.headers
    return console.Session(C.url)


def locked_answer_says_until():
    """the 423 of a locked account says until when, as an ISO time ("until")"""
    assert not SETUP_ERRORS, f"the accounts were not made: {SETUP_ERRORS[0]}"
    name = "khoa2"
    C.user_add(name, "clerk", "mat-khau-dung-2")
    for i in range(6):
        r = http("POST", "/api/login", {"name": name, "password": f"sai-{i}-mat-khau"},
                 session=before_login())
    assert r.status == 423, r
    until = r.json.get("until") or ""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00", until), r.json
    assert until[11:16] in r.json["message"], r.json


# --- roles ----------------------------------------------------------------------------------


def guard_cannot_register_venue():
    """a guard registers no venue: 403 forbidden, nothing written"""
    g = session(GUARD)
    before = C.counts()
    r = http("POST", "/api/venues", venue_form(name="Quán của bảo vệ"), session=g)
    assert r.status == 403 and r.json["error"] == "forbidden", r
    assert r.json["message"] == "this account's role may not do this.", r.json
    assert r.json["message_vi"] == "Tài khoản này không có quyền làm việc này.", r.json
    for p in ("/api/users", "/api/trace?person=0912345678"):
        r = http("GET", p, session=g)
        assert r.status == 403 and r.json["error"] == "forbidden", (p, r)
    assert C.counts() == before, "a refused registration wrote"


def controller_sees_only_its_venue():
    """a controller opens its venue's page, API, live list and poster, and gets 403 for
    another venue's (the page too), which its list does not show"""
    s = session(CONTROLLER)
    r = http("GET", "/api/session", session=s)
    assert (r.json["user"], r.json["role"], r.json["venues"]) == (
        CONTROLLER[0], "controller", [V1]), r
    for p in (f"/api/venues/{V2}", f"/api/venues/{V2}/live", f"/api/venues/{V2}/poster.png",
              f"/api/venues/{V2}/poster.pdf"):
        r = http("GET", p, session=s)
        assert r.status == 403 and r.json == {
            "error": "forbidden", "message": "this venue is not one of yours.",
            "message_vi": "Địa điểm này không thuộc quyền quản lý của bạn."}, (p, r)
    for p in (f"/venues/{V2}", f"/venues/{V2}/live"):
        r = http("GET", p, session=s, headers={"Accept": "text/html"})
        assert r.status == 403 and "Không có quyền truy cập" in r.body.decode("utf-8"), (p, r)
    for p in (f"/api/venues/{V1}", f"/api/venues/{V1}/poster.png"):
        r = http("GET", p, session=s)
        assert r.status == 200, (p, r)
    r = http("GET", f"/venues/{V1}/live", session=s, headers={"Accept": "text/html"})
    assert r.status == 200, r
    r = http("GET", "/api/venues", session=s)
    assert [v["id"] for v in r.json["venues"]] == [V1], r
    r = http("POST", "/api/scan", {"venue": V1, "line": "0912345671"}, session=s)
    assert r.status == 403 and r.json["error"] == "forbidden", r  # it watches, never scans


def controller_removed_logs_in_no_more():
    """a phone removed from its venue: its open session sees the venue no more (read again
    at each request) and a new login with the right PIN is refused, saying why"""
    s = session(CONTROLLER)
    C.tv("venue", "controller", "remove", V1, CONTROLLER[0])
    try:
        r = http("GET", "/api/venues", session=s)
        assert r.status == 200 and r.json["venues"] == [], r
        r = http("GET", f"/api/venues/{V1}", session=s)
        assert r.status == 403 and r.json["error"] == "forbidden", r
        fresh = console.Session(C.url)
        r = http("GET", "/api/session", session=fresh)
        fresh.csrf = r.json["csrf"]
        r = http("POST", "/api/login", {"name": CONTROLLER[0], "password": CONTROLLER[1]},
                 session=fresh)
        assert r.status == 403 and r.json == {
            "error": "controller_no_venue",
            "message": "this phone no longer controls a venue recorded on this node.",
            "message_vi": "Số điện thoại này không còn quản lý địa điểm nào. Hãy hỏi cán bộ xã."
        }, r
        assert fresh.cookie("tv_session") is None, "a refused login set a session"
        log = C.tv("user", "log", "--json").stdout
        assert "refused: controls no venue" in log, log
    finally:
        C.tv("venue", "controller", "add", V1, CONTROLLER[0])
    session(CONTROLLER)  # back at its venue, it logs in again


def live_list_resumes():
    """a live list reopened with Last-Event-ID (a browser reconnecting) first gets the
    check-ins it missed; opened without it, only what comes after"""
    s = session(CLERK)

    def scan(line):
        r = http("POST", "/api/scan", {"venue": V1, "line": line}, session=s)
        assert r.status == 200 and r.json["result"] == "ok", r
        return r.json["id"]

    def first_event(headers):
        req = urllib.request.Request(C.url.rstrip("/") + f"/api/venues/{V1}/live",
                                     headers=headers)
        live = s.opener.open(req, timeout=console.TIMEOUT)  # its timeout is the deadline
        return live, next_id(live)

    def next_id(live):
        deadline = time.monotonic() + console.TIMEOUT  # a hang guard: comments keep it open
        for raw in live:
            line = raw.decode("utf-8")
            if line.startswith("id: "):
                return line[4:].strip()
            if time.monotonic() > deadline:
                raise AssertionError("no check-in came on the live list")
        raise AssertionError("the live list ended")

    seen = scan("0912000101")
    missed = scan("0912000102")  # while the browser was away
    live, got = first_event({"Last-Event-ID": seen})
    with live:
        assert got == missed, (got, missed)
    req = urllib.request.Request(C.url.rstrip("/") + f"/api/venues/{V1}/live")
    with s.opener.open(req, timeout=console.TIMEOUT) as live:
        for raw in live:  # the list is open once its first comment is in
            if raw.startswith(b":"):
                break
        new = scan("0912000103")
        got = next_id(live)
        assert got == new, (got, new)  # not the earlier ones again


def unauthenticated_login_required():
    """without a session: 401 login_required from the API, 303 to /login from a page"""
    for p in ("/api/venues", f"/api/venues/{V1}", f"/api/venues/{V1}/live", "/api/categories"):
        r = http("GET", p, base=C.url)
        assert r.status == 401, (p, r)
        assert r.json == {"error": "login_required", "message": "log in first.",
                          "message_vi": "Hãy đăng nhập trước."}, (p, r.json)
    for p in ("/", "/venues", f"/venues/{V1}/live", "/gate", "/health/trace", "/report"):
        r = http("GET", p, base=C.url, headers={"Accept": "text/html"})
        want = "/login?next=" + urllib.parse.quote(p, safe="/")  # back there once logged in
        assert r.status == 303 and r.headers["Location"] == want, (p, r, r.headers["Location"])


# --- headers on every answer ----------------------------------------------------------------


def security_headers_everywhere():
    """every answer (page, file, API, error, redirect) carries the CSP exactly and the rest"""
    answers = [("GET", "/login", None), ("GET", "/", None), ("GET", "/static/app.js", None),
               ("GET", "/static/app.css", None), ("GET", "/static/nothing.js", None),
               ("GET", "/api/openapi.json", None), ("GET", "/api/session", None),
               ("GET", "/api/venues", None), ("GET", "/nowhere", None),
               ("GET", "/api/nowhere", None), ("POST", "/api/scan", {"venue": V1}),
               ("PUT", "/api/venues", None), ("HEAD", "/login", None)]
    seen = set()
    for method, p, data in answers:
        r = http(method, p, data, base=C.url)
        seen.add(r.status)
        h = r.headers
        assert h["Content-Security-Policy"] == CSP, (method, p, h["Content-Security-Policy"])
        assert h["X-Content-Type-Options"] == "nosniff", (method, p)
        assert h["Referrer-Policy"] == "no-referrer", (method, p)
        want = "private, max-age=300" if (p.startswith("/static/") and r.status == 200) \
            else "no-store"
        assert h["Cache-Control"] == want, (method, p, h["Cache-Control"])
        assert "Access-Control-Allow-Origin" not in h, (method, p)
    assert {200, 303, 401, 403, 404, 405} <= seen, seen
    if not SETUP_ERRORS:  # and once logged in
        s = login(C.url, *CLERK)
        for p in ("/api/session", "/api/venues", f"/api/venues/{V1}",
                  f"/api/venues/{V1}/poster.png"):
            r = http("GET", p, session=s)
            assert r.status == 200, (p, r)
            assert r.headers["Content-Security-Policy"] == CSP, p
            assert r.headers["Cache-Control"] == "no-store", p
    page = http("GET", "/login", base=C.url).body.decode("utf-8")
    inline = re.findall(r"<script(?![^>]*\ssrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=|javascript:",
                        page, re.I)
    assert not inline, f"inline script or style in the shell: {inline}"


def sessions_end_at_logout():
    """after logout the session's cookie opens nothing (401)"""
    s = session(CLERK)
    assert http("GET", "/api/venues", session=s).status == 200
    r = http("POST", "/api/logout", {}, session=s)
    assert r.status == 200, r
    r = http("GET", "/api/venues", session=s)
    assert r.status == 401 and r.json["error"] == "login_required", r


SCENARIOS = [
    security_headers_everywhere,
    unauthenticated_login_required,
    csrf_refused_without_session,
    login_csrf,
    csrf_refused_in_session,
    lockout_over_api,
    locked_answer_says_until,
    guard_cannot_register_venue,
    controller_sees_only_its_venue,
    controller_removed_logs_in_no_more,
    live_list_resumes,
    unknown_venue,
    malformed_time,
    duplicate_venue,
    control_characters,
    sessions_end_at_logout,
]

rc = 1
try:
    setup()
    fx.start()
    rc = console.run_scenarios(SCENARIOS, EXPECTED_FAIL)
finally:
    bad = fx.close()
    if bad:
        print("FAIL: servers did not stop cleanly: " + "; ".join(bad), file=sys.stderr)
        rc = 1
sys.exit(rc)
