"""What the web console's tests share (not a test of its own: its name does not end in _test).

A test runs as `python3 tests/web/X_test.py /path/to/truyvet` and builds a `Console`: a real
province (the health node, the root of trust) and a real commune enrolled under it, made
with the real binary as tests/lib.sh makes nodes (secrets under a passphrase found as a
systemd credential, the cheapest Argon2id cost, each process's own keyring), kept in step
by bundles as `ship` in tests/lib.sh does, each serving its console on a free port
(`serve --http ADDR:0`, its URL read from DIR/console.url). Accounts are made with
`truyvet user add`. `Browser` drives Debian's chromium headless through chromium-driver
and python3-selenium. A test that cannot run (no browser, no driver, no selenium) exits 77
after "SKIP: ...", which ctest reports as skipped.

The province serves on 127.0.0.2 and the commune on 127.0.0.1: a browser keeps cookies by
host, not by port, so two consoles on one host would log each other out.

Each scenario of a test is a function; `run_scenarios` runs them in order, names the ones
that fail, and knows the ones expected to fail for now (a piece of the console not built
yet): those are reported XFAIL, and one that passes while listed there fails the test
(XPASS), so that the list is kept honest.
"""

import datetime
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from http import cookiejar

SKIP = 77
TIMEOUT = 30  # seconds: a hang guard for waits on conditions, never a synchronisation

PASSPHRASE = "correct horse battery staple"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; frame-src 'self'; "
       "frame-ancestors 'self'; base-uri 'none'")
VN = datetime.timezone(datetime.timedelta(hours=7))

# Chip ID cards (CCCD) as a QR reader types them: number|old ID|name|birth|sex|address|issued
CCCD_OK = "001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Phường Ba Đình, Hà Nội|20042021"
CCCD_F0 = "056188004321|225123456|Trần Thị Bình|02071988|Nữ|Số 5 Trần Phú, Lộc Thọ, Nha Trang|11052021"


def skip(why):
    print("SKIP: " + why, file=sys.stderr)
    sys.exit(SKIP)


def usage_tv():
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        print(f"usage: {sys.argv[0]} /path/to/truyvet", file=sys.stderr)
        sys.exit(2)
    return os.path.abspath(sys.argv[1])


def need_browser():
    """Skips (77) unless chromium, chromedriver and selenium are here. Debian's
    python3-selenium is in the system's python3: a test started by another python3 (a
    virtual environment, pyenv) without selenium runs itself again under /usr/bin/python3."""
    for prog in ("/usr/bin/chromium", "/usr/bin/chromedriver"):
        if not os.access(prog, os.X_OK):
            skip(f"{prog} is missing (./dev.sh installs chromium and chromium-driver)")
    import importlib.util
    if importlib.util.find_spec("selenium") is None:
        system = "/usr/bin/python3"
        if (os.environ.get("TV_WEB_REEXEC") != "1" and os.access(system, os.X_OK)
                and os.path.realpath(sys.executable) != os.path.realpath(system)):
            os.environ["TV_WEB_REEXEC"] = "1"
            os.execv(system, [system] + sys.argv)
        skip("python3-selenium is missing (./dev.sh installs it)")


# --- HTTP without a browser -----------------------------------------------------------------


class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    @property
    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 303 is an answer to check, not to follow


class Session:
    """One client of a console: its cookies, and the CSRF token it sends."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.jar = cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar),
                                                  _NoRedirect())
        self.csrf = None

    def cookie(self, name):
        for c in self.jar:
            if c.name == name:
                return c
        return None


def http(method, path, data=None, session=None, headers=None, csrf=True, base=None):
    """One request with urllib; returns a Resp whatever its status. data: a dict sent
    form-urlencoded (or bytes as they are). The session's cookies are kept; its CSRF token
    goes in X-CSRF-Token on a state-changing call unless csrf is False."""
    s = session or Session(base)
    body = None
    hdrs = {"Accept": "application/json"}
    if data is not None:
        if isinstance(data, dict):
            body = urllib.parse.urlencode(data).encode("utf-8")
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = data
            hdrs["Content-Type"] = "application/octet-stream"
    if csrf and method not in ("GET", "HEAD") and s.csrf:
        hdrs["X-CSRF-Token"] = s.csrf
    hdrs.update(headers or {})
    req = urllib.request.Request(s.base + path, data=body, method=method, headers=hdrs)
    try:
        with s.opener.open(req, timeout=TIMEOUT) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Resp(e.code, e.headers, e.read())


def login(base, name, password):
    """A session logged in as name (asserts it worked); its csrf is the session's token."""
    s = Session(base)
    r = http("GET", "/api/session", session=s)
    assert r.status == 200, f"GET /api/session: {r}"
    s.csrf = r.json["csrf"]
    r = http("POST", "/api/login", {"name": name, "password": password}, session=s)
    assert r.status == 200, f"login of {name}: {r}"
    s.csrf = r.json["csrf"]
    return s


# --- nodes ------------------------------------------------------------------------------------


class Node:
    def __init__(self, fx, name, host):
        self.fx, self.name, self.host = fx, name, host
        self.dir = os.path.join(fx.w, name)
        self.proc = None
        self.url = None
        self.log = os.path.join(fx.w, name + ".serve.log")

    def tv(self, *args, check=True, input=None):
        """Runs truyvet on this node; returns the CompletedProcess (text)."""
        p = subprocess.run([self.fx.tv, "-d", self.dir, *args], env=self.fx.env, input=input,
                           capture_output=True, text=True, encoding="utf-8", timeout=300)
        if check and p.returncode != 0:
            raise AssertionError(f"truyvet -d {self.name} {' '.join(args)} exited "
                                 f"{p.returncode}: {p.stderr.strip()}")
        return p

    def status(self):
        return json.loads(self.tv("status", "--json").stdout)

    def counts(self):
        """What a refused request must leave unchanged: the store's event counts and log."""
        s = self.status()
        return {"events": s["events"], "own_seq": s["own_seq"], "batches": s["batches"]}

    def node_id(self):
        return self.status()["node_id"]

    def user_add(self, name, role, password):
        f = os.path.join(self.fx.w, "password")
        with open(f, "w", encoding="utf-8") as fh:
            fh.write(password + "\n")
        try:
            self.tv("user", "add", name, "--role", role, "--password-file", f)
        finally:
            os.unlink(f)

    @property
    def origin(self):
        u = urllib.parse.urlsplit(self.url)
        return f"{u.scheme}://{u.netloc}"

    def serve(self):
        """Starts `serve --http HOST:0`; returns once its console answers."""
        url_file = os.path.join(self.dir, "console.url")
        if os.path.exists(url_file):
            os.unlink(url_file)
        log = open(self.log, "wb")
        self.proc = subprocess.Popen([self.fx.tv, "-d", self.dir, "serve", "--http",
                                      self.host + ":0"], env=self.fx.env,
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + TIMEOUT
        while not os.path.exists(url_file):
            try:
                rc = self.proc.wait(timeout=0.05)  # the process's end is what this waits on
                raise AssertionError(f"serve on {self.name} exited {rc}: {self.tail()}")
            except subprocess.TimeoutExpired:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve on {self.name} wrote no console.url: {self.tail()}")
        with open(url_file, encoding="utf-8") as fh:
            self.url = fh.read().strip()
        assert self.url.startswith(f"http://{self.host}:"), self.url
        r = http("GET", "/login", base=self.url)  # the first answer: it serves
        assert r.status == 200, f"GET /login on {self.name}: {r}"

    def stop(self):
        """SIGTERM, then the exit status (0 expected)."""
        if not self.proc:
            return 0
        p, self.proc = self.proc, None
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return -9

    def tail(self, n=2000):
        try:
            with open(self.log, "rb") as fh:
                return fh.read()[-n:].decode("utf-8", "replace")
        except OSError:
            return ""


class Console:
    """A province (unit 56, health) and a commune (22333) enrolled under it."""

    def __init__(self, tv):
        self.tv = tv
        self.w = tempfile.mkdtemp(prefix="tv-web-")
        creds = os.path.join(self.w, "credentials")
        os.mkdir(creds, 0o700)
        with open(os.path.join(creds, "passphrase"), "w", encoding="utf-8") as fh:
            fh.write(PASSPHRASE + "\n")
        here = os.path.dirname(os.path.abspath(__file__))
        self.env = dict(os.environ, CREDENTIALS_DIRECTORY=creds, TRUYVET_KDF="min",
                        TRUYVET_KEYRING="process")
        self.env.setdefault("LSAN_OPTIONS",
                            "suppressions=" + os.path.join(here, "..", "lsan.supp"))
        self.P = Node(self, "province-56", "127.0.0.2")
        self.C = Node(self, "commune-22333", "127.0.0.1")
        try:
            self.P.tv("init", "--role", "province", "--unit", "56", "--name",
                      "Sở Y tế Khánh Hòa")
            self.C.tv("init", "--role", "commune", "--unit", "22333", "--name",
                      "UBND Phường Bắc Nha Trang")
            self.enrol(self.C, self.P)
        except BaseException:
            shutil.rmtree(self.w, ignore_errors=True)
            raise

    def enrol(self, child, parent):
        req, cert = os.path.join(self.w, "req"), os.path.join(self.w, "cert")
        child.tv("enroll", "request", "--out", req)
        parent.tv("enroll", "issue", req, "--out", cert)
        child.tv("enroll", "accept", cert)

    def ship(self, src, dst):
        """What dst should hold of what src holds, carried by bundle (a USB stick)."""
        f = os.path.join(self.w, "ship")
        src.tv("bundle", "export", "--out", f, "--for", dst.node_id())
        dst.tv("bundle", "import", f)

    def scan(self, venue, person, at, out=False):
        """A scan recorded at the commune by the CLI at time `at` (a datetime)."""
        args = ["scan", "--venue", venue, "--person", person, "--at", at.isoformat()]
        self.C.tv(*args, *(["--out"] if out else []))

    def start(self):
        self.P.serve()
        self.C.serve()

    def close(self):
        """Stops the servers; returns the names of those that did not exit 0."""
        bad = []
        for n in (self.C, self.P):
            rc = n.stop()
            if rc != 0:
                bad.append(f"{n.name} (exit {rc}): {n.tail()}")
        if os.environ.get("TV_WEB_KEEP") != "1":
            shutil.rmtree(self.w, ignore_errors=True)
        return bad


def vn_now():
    return datetime.datetime.now(VN).replace(microsecond=0)


# --- the browser ---------------------------------------------------------------------------


class Browser:
    """Headless chromium through chromedriver, with the performance log of every request."""

    SIZES = ((1280, 800), (390, 844))

    def __init__(self, fx, shots):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.fx = fx
        self.profile = os.path.join(fx.w, "chromium-profile")
        self.downloads = os.path.join(fx.w, "downloads")
        os.makedirs(self.downloads)
        self.shots = shots
        os.makedirs(shots, exist_ok=True)
        o = webdriver.ChromeOptions()
        o.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  f"--user-data-dir={self.profile}", "--window-size=1280,800", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--disable-default-apps", "--disable-extensions",
                  "--lang=vi", "--force-device-scale-factor=1"):
            o.add_argument(a)
        o.add_experimental_option("prefs", {
            "download.default_directory": self.downloads,
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        })
        o.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        self.d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
        self.d.set_page_load_timeout(TIMEOUT)
        self.d.execute_cdp_cmd("Browser.setDownloadBehavior",
                               {"behavior": "allow", "downloadPath": self.downloads})
        # the browser's own start page is not the console's: left, and its requests dropped
        self.d.get("about:blank")
        self.wait(lambda: self.d.execute_script("return document.readyState") == "complete",
                  "about:blank")
        self.d.get_log("performance")
        self.requests = []  # every URL the browser asked for since, from the performance log

    def close(self):
        try:
            self.drain()
        finally:
            self.d.quit()

    def drain(self):
        """Moves what the performance log holds into self.requests."""
        for entry in self.d.get_log("performance"):
            m = json.loads(entry["message"])["message"]
            if m.get("method") == "Network.requestWillBeSent":
                self.requests.append(m["params"]["request"]["url"])
            elif m.get("method") == "Network.webSocketCreated":
                self.requests.append(m["params"]["url"])

    # waiting on conditions

    def wait(self, cond, what):
        from selenium.webdriver.support.ui import WebDriverWait
        from selenium.common.exceptions import (NoSuchElementException,
                                                StaleElementReferenceException,
                                                TimeoutException)
        try:
            # a page drawn again while it is read: read it again
            return WebDriverWait(self.d, TIMEOUT, ignored_exceptions=(
                NoSuchElementException, StaleElementReferenceException)).until(lambda d: cond())
        except TimeoutException:
            raise AssertionError(f"waited in vain for {what} on {self.d.current_url}; "
                                 f"#error says {self.text('error')!r}; page: "
                                 f"{self.body()[:600]!r}") from None

    def el(self, id_):
        from selenium.common.exceptions import NoSuchElementException
        try:
            return self.d.find_element("id", id_)
        except NoSuchElementException:
            return None

    def css(self, sel, root=None):
        return (root or self.d).find_elements("css selector", sel)

    def text(self, id_):
        e = self.el(id_)
        return e.text if e else None

    def body(self):
        try:
            return self.d.find_element("tag name", "body").text
        except Exception:  # noqa: BLE001 - a page between two loads
            return ""

    def ready(self, id_):
        """Waits for the element to be on the page and shown; returns it."""
        return self.wait(lambda: (e := self.el(id_)) is not None and e.is_displayed() and e,
                         f"#{id_}")

    def open(self, node, path):
        self.d.get(node.url.rstrip("/") + path)

    def type(self, id_, text):
        """Types text into the field (what it held first cleared), the field found again
        when the page is drawn anew meanwhile."""
        def typed():
            e = self.ready(id_)
            e.clear()
            e.send_keys(text)
            return e.get_attribute("value") == text and e
        return self.wait(typed, f"{text!r} typed into #{id_}")

    def click(self, id_):
        self.wait(lambda: self.ready(id_).click() or True, f"a click on #{id_}")

    def login(self, node, name, password):
        """Logs in through the page; returns once the page left /login."""
        self.logout(node)
        self.open(node, "/login")
        self.type("login-name", name)
        self.type("login-password", password)
        self.click("login-submit")
        self.wait(lambda: urllib.parse.urlsplit(self.d.current_url).path != "/login",
                  f"the login of {name} to leave /login")

    def logout(self, node):
        """Forgets this browser's session on that console (its cookies)."""
        self.open(node, "/static/app.css")  # an origin's page, to reach its cookies
        self.d.delete_all_cookies()

    def fetch(self, method, path, body=None, headers=None):
        """fetch() from the page, with its cookies: (status, JSON or text)."""
        return self.d.execute_async_script("""
            const [method, path, body, headers, done] = arguments;
            const init = {method, credentials: 'same-origin', headers: headers || {}};
            if (body !== null) {
              init.body = new URLSearchParams(body).toString();
              init.headers['Content-Type'] = 'application/x-www-form-urlencoded';
            }
            fetch(path, init).then(async r => {
              const t = await r.text();
              let j = null;
              try { j = JSON.parse(t); } catch (e) { j = t; }
              done([r.status, j]);
            }, e => done([0, String(e)]));
        """, method, path, body, headers)

    def shot(self, name):
        """Screenshots of the page as a desktop (1280x800) and a phone (390x844) show it,
        for the README."""
        for w, h in self.SIZES:
            self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": w, "height": h, "deviceScaleFactor": 1, "mobile": w < 600})
            self.d.save_screenshot(os.path.join(self.shots, f"{name}-{w}x{h}.png"))
        self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def shot_dir(fx):
    return os.environ.get("TV_SHOT_DIR") or os.path.join(fx.w, "screenshots")


# --- running the scenarios --------------------------------------------------------------------


def run_scenarios(scenarios, expected_fail):
    """Runs each scenario function in order. Returns the exit status: 0 when every one
    passed or failed as expected, 1 otherwise."""
    bad = 0
    for fn in scenarios:
        name = fn.__name__
        print(f"check: {name}: {(fn.__doc__ or '').strip().splitlines()[0]}", flush=True)
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported with its scenario
            if name in expected_fail:
                print(f"XFAIL: {name} (waits for {expected_fail[name]}): "
                      f"{type(e).__name__}: {str(e)[:300]}", flush=True)
            else:
                bad += 1
                print(f"FAIL: {name}: {type(e).__name__}: {str(e)[:3000]}", file=sys.stderr,
                      flush=True)
                tb = traceback.extract_tb(e.__traceback__)
                print("  at " + " <- ".join(f"{os.path.basename(f.filename)}:{f.lineno}"
                                            for f in reversed(tb[1:])), file=sys.stderr)
            continue
        if name in expected_fail:
            bad += 1
            print(f"XPASS: {name} passes: take it off the expected failures", file=sys.stderr,
                  flush=True)
        else:
            print(f"ok: {name}", flush=True)
    return 1 if bad else 0
