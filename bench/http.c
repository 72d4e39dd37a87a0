/* HTTP benchmark: check-ins through the web console's API, as a gate's browser sends them
 * (POST /api/scan, answered only once the scan is on disk: node/web/gate.c commits the
 * check-ins of every waiting request together), from 1, 8 and 64 clients at once, each on
 * its own keep-alive connection; then the size and load time of the console's pages and
 * files. The server is the real `truyvet serve --http`, on a commune node with one venue
 * and a guard's account, logged in over HTTP as a browser does. */
#define BENCH_NAME "http"
#define BENCH_PROGRESS_BREAK "\n"
#include "bench_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>

#define PARAMS_FORMAT 1 /* bump when the generated node changes: older ones are not reused */
#define UNIT "22333"
#define GUARD "guard"
#define GUARD_PASS "bench guard password" /* the bench's own account: not a secret */
#define TIMEOUT_S 30                      /* no answer for this long is a stall: an error */
#define RUNS 3
static const unsigned run_clients[RUNS] = {1, 8, 64};

enum { SUB_STORE = BENCH_KEPT_STORE, SUB_PARAMS = BENCH_KEPT_PARAMS, SUB_CRED, SUB_PASS };

static const char usage[] =
    "Usage: http [--truyvet PATH] [--seconds N | --requests N] [--repeat PCT] [--gets N]\n"
    "            [--quick] [--dir PATH] [--keep] [--reuse] [--seed N]\n"
    "\n"
    "Web console benchmark. Makes a commune node with one venue and a guard's account\n"
    "(`truyvet init`, `venue add`, `user add --role guard`), starts `truyvet serve --http\n"
    "127.0.0.1:0` on it and logs in over HTTP as a browser does (GET /api/session for the\n"
    "tv_csrf cookie, POST /api/login with it). Then, for 1, 8 and 64 clients at once\n"
    "(threads, each with its own HTTP/1.1 keep-alive connection, all on the guard's\n"
    "session), it posts check-ins to POST /api/scan: each a chip ID card (CCCD) line as a\n"
    "QR reader types it, of a new person, or (--repeat percent of them) of a person\n"
    "already scanned. Each request is timed from its first byte sent to the last byte of\n"
    "its answer; every answer must be 200 with result ok or already (anything else, a\n"
    "closed connection or no answer within 30 s is an error). After the runs it fetches\n"
    "each page and file (/, /login, /gate, /static/app.js, /static/app.css,\n"
    "/api/openapi.json) --gets times on one connection and gives its size and mean load\n"
    "time. At the end the server is stopped (SIGTERM) and must exit 0, and the store must\n"
    "hold one scan more for each check-in answered: the answers were durable.\n"
    "\n"
    "  --truyvet PATH  the truyvet binary (default: ../truyvet next to this program)\n"
    "  --seconds N     each client count posts for N seconds (default 10)\n"
    "  --requests N    instead, N check-ins (64 or more) per client count, shared among\n"
    "                  its clients\n"
    "  --repeat PCT    percent of the check-ins that repeat a person (default 10)\n"
    "  --gets N        GETs of each page or file (default 100)\n"
    "  --quick         a smoke run: --requests 192 --gets 3 unless given\n"
    "  --dir PATH      working directory (created if absent); default: a new directory\n"
    "                  under $TMPDIR or /tmp. The node (commune/) and http.params are\n"
    "                  removed at the end unless --keep.\n"
    "  --keep          keep the node and http.params\n"
    "  --reuse         if --dir holds a node made by this benchmark, serve it without\n"
    "                  making one (its earlier check-ins stay); else make one there and\n"
    "                  keep it (needs --dir; implies --keep)\n"
    "  --seed N        seed of the people's choice (default 1)\n"
    "  --help          show this text\n"
    "\n"
    "The last line of output holds the figures as key=value pairs: for each client count\n"
    "C, cC_rps (check-ins answered per second), cC_p50_ms and cC_p99_ms (latency), cC_n\n"
    "(check-ins) and cC_commits (the batches the node signed meanwhile: one a commit, so\n"
    "cC_n / cC_commits is how many check-ins shared each fsync); for each page or file P,\n"
    "page_P_bytes (its body) and page_P_ms (mean load time); scans: the scans the store\n"
    "gained; fs: the file system of the node; gen_s: the seconds making the node took\n"
    "in this run, or with a reused node gen_s_reused, read back from http.params.\n"
    "Exit status: 0; 1 when a step fails, an answer is not a check-in or the server does\n"
    "not stop cleanly; 2 for a usage error.\n";

typedef struct opts {
    uint64_t seconds, requests, repeat, gets, seed;
    const char *dir, *tv;
    int keep, reuse, quick;
} opts;

static char tv_path[PATH_MAX];

/* --- the server ----------------------------------------------------------------------- */

static pid_t server_pid;          /* the running `truyvet serve`, or 0 */
static int server_err = -1;       /* our end of its stderr */
static pthread_t server_drain_th; /* keeps reading its stderr */
static int server_drain_on;
static pthread_mutex_t server_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char server_log[4096]; /* the end of its stderr, for messages */
static size_t server_log_len;

static void server_log_add(const char *p, size_t n)
{
    pthread_mutex_lock(&server_log_mu);
    if (n >= sizeof server_log) {
        p += n - (sizeof server_log - 1);
        n = sizeof server_log - 1;
    }
    if (server_log_len + n >= sizeof server_log) {
        size_t drop = server_log_len + n - (sizeof server_log - 1);
        memmove(server_log, server_log + drop, server_log_len - drop);
        server_log_len -= drop;
    }
    memcpy(server_log + server_log_len, p, n);
    server_log_len += n;
    server_log[server_log_len] = '\0';
    pthread_mutex_unlock(&server_log_mu);
}

/* Sends SIGTERM to the server and waits for it to end; after TIMEOUT_S it is killed
 * (SIGKILL) and -1 returned: a server that does not stop is a failure. */
static int server_end(int *st)
{
    kill(server_pid, SIGTERM);
    double t0 = bench_now_s();
    pid_t got;
    while ((got = waitpid(server_pid, st, WNOHANG)) == 0 && bench_now_s() - t0 < TIMEOUT_S) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (got == 0) {
        kill(server_pid, SIGKILL);
        waitpid(server_pid, st, 0);
    }
    server_pid = 0;
    return got == 0 ? -1 : 0;
}

/* Stops the server, if running, without looking at how it ends: for a failure's path. */
static void server_kill(void)
{
    int st;
    if (server_pid > 0) (void)server_end(&st);
}

/* Like bench_die, after stopping the server; the end of its stderr follows the message. */
static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list ap;
    server_kill();
    fputs(BENCH_NAME ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    pthread_mutex_lock(&server_log_mu);
    if (server_log_len) fprintf(stderr, "the server's stderr ended with:\n%s", server_log);
    pthread_mutex_unlock(&server_log_mu);
    bench_cleanup();
    exit(1);
}

/* After SIGINT or SIGTERM: stops the server, then as bench_check_interrupt. */
static void interrupt_check(void)
{
    if (bench_interrupted) server_kill();
    bench_check_interrupt();
}

/* Runs truyvet -d node args...; its stdout into out (cap bytes) when out is not NULL. */
static void tv_run(char *out, size_t cap, const char *node, const char *const *args)
{
    int p[2], e[2];
    if (pipe(p) || pipe(e)) fail("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) fail("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        dup2(e[1], STDERR_FILENO);
        close(p[0]);
        close(e[0]);
        const char *argv[32] = {tv_path, "-d", node};
        for (int i = 0; args[i] && i < 28; i++)
            argv[i + 3] = args[i];
        execv(tv_path, (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    close(e[1]);
    size_t n = 0;
    char sink[4096], err[1024];
    for (;;) {
        ssize_t r = read(p[0], out ? out + n : sink, out ? cap - 1 - n : sizeof sink);
        if (r <= 0) break;
        if (out) n += (size_t)r;
        if (out && n + 1 >= cap) break;
    }
    ssize_t ne = read(e[0], err, sizeof err - 1);
    err[ne > 0 ? ne : 0] = '\0';
    close(p[0]);
    close(e[0]);
    if (out) out[n] = '\0';
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("truyvet %s %s failed: %s", args[0], args[1] ? args[1] : "", err);
}

static void *server_drain(void *arg)
{
    (void)arg;
    char buf[1024];
    ssize_t r;
    while ((r = read(server_err, buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0) server_log_add(buf, (size_t)r);
    return NULL;
}

/* Starts `truyvet serve --http 127.0.0.1:0` on node and waits for its "console on" line;
 * url gets what it wrote to node/console.url (checked to be the same). */
static void server_start(const char *node, char *url, size_t cap)
{
    int e[2];
    if (pipe(e)) fail("pipe: %s", strerror(errno));
    server_pid = fork();
    if (server_pid < 0) fail("fork: %s", strerror(errno));
    if (server_pid == 0) {
        dup2(e[1], STDERR_FILENO);
        close(e[0]);
        int null = open("/dev/null", O_RDWR);
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        execl(tv_path, tv_path, "-d", node, "serve", "--http", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(e[1]);
    server_err = e[0];
    static const char mark[] = "truyvet: console on ";
    char *at = NULL;
    while (!at) {
        struct pollfd pf = {server_err, POLLIN, 0};
        int k = poll(&pf, 1, TIMEOUT_S * 1000);
        if (k == 0) fail("the server did not say where it listens within %d s", TIMEOUT_S);
        if (k < 0 && errno == EINTR) {
            interrupt_check();
            continue;
        }
        char buf[512];
        ssize_t r = read(server_err, buf, sizeof buf);
        if (r <= 0) fail("the server ended before it listened");
        server_log_add(buf, (size_t)r);
        pthread_mutex_lock(&server_log_mu);
        at = strstr(server_log, mark);
        if (at && !strchr(at, '\n')) at = NULL; /* the line is not whole yet */
        if (at)
            snprintf(url, cap, "%.*s", (int)strcspn(at + strlen(mark), "\n"), at + strlen(mark));
        pthread_mutex_unlock(&server_log_mu);
    }
    if (pthread_create(&server_drain_th, NULL, server_drain, NULL)) fail("pthread_create");
    server_drain_on = 1;
    char path[PATH_MAX + 16], file[128] = "";
    snprintf(path, sizeof path, "%s/console.url", node);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(file, sizeof file, f)) fail("cannot read %s", path);
    fclose(f);
    file[strcspn(file, "\n")] = '\0';
    if (strcmp(file, url) != 0) fail("%s says %s, the server's log %s", path, file, url);
}

/* Stops the server with SIGTERM; it must exit 0. */
static void server_stop(void)
{
    int st;
    if (server_end(&st)) fail("the server did not stop within %d s of SIGTERM", TIMEOUT_S);
    if (server_drain_on) pthread_join(server_drain_th, NULL);
    server_drain_on = 0;
    close(server_err);
    if (WIFSIGNALED(st)) fail("the server died of signal %d after SIGTERM", WTERMSIG(st));
    if (WEXITSTATUS(st) != 0) fail("the server exited %d after SIGTERM", WEXITSTATUS(st));
}

/* --- a minimal HTTP/1.1 client ------------------------------------------------------- */

static struct sockaddr_in server_addr;
static char server_host[64]; /* the Host header: 127.0.0.1:PORT */

typedef struct hconn {
    int fd;
    char in[16384]; /* what was read and not used yet: in[off, have) */
    size_t off, have;
} hconn;

typedef struct hresp {
    int status, close;
    char *body; /* its bytes and a NUL */
    size_t len, cap;
    char session[128], csrf_cookie[128]; /* Set-Cookie values seen, or "" */
} hresp;

/* Connects; returns 0 or an errno. */
static int hconn_open(hconn *c)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return errno;
    int one = 1;
    struct timeval tv = {TIMEOUT_S, 0};
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(c->fd, (struct sockaddr *)&server_addr, sizeof server_addr)) {
        int e = errno;
        close(c->fd);
        c->fd = -1;
        return e;
    }
    return 0;
}

static void hconn_close(hconn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

/* Sends a whole request; returns 0 or an errno. */
static int hconn_send(hconn *c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return w < 0 ? errno : EPIPE;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads more into c->in; returns the bytes read, 0 at the end, or -errno. */
static ssize_t hconn_fill(hconn *c)
{
    if (c->off == c->have) c->off = c->have = 0;
    if (c->have == sizeof c->in) {
        memmove(c->in, c->in + c->off, c->have - c->off);
        c->have -= c->off;
        c->off = 0;
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->in + c->have, sizeof c->in - c->have, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
        c->have += (size_t)r;
        return r;
    }
}

/* The value of cookie name in a Set-Cookie header's value, into out (or nothing). */
static void cookie_take(const char *v, size_t n, const char *name, char *out, size_t cap)
{
    size_t k = strlen(name);
    if (n > k && memcmp(v, name, k) == 0 && v[k] == '=') {
        size_t len = strcspn(v + k + 1, ";\r");
        if (len > n - k - 1) len = n - k - 1;
        if (len < cap) {
            memcpy(out, v + k + 1, len);
            out[len] = '\0';
        }
    }
}

/* Reads one header line at line (len bytes, no CRLF) into r; *clen gets Content-Length. */
static int header_take(hresp *r, const char *line, size_t len, long long *clen)
{
    const char *colon = memchr(line, ':', len);
    if (!colon) return -1;
    size_t nk = (size_t)(colon - line);
    const char *v = colon + 1;
    while (v < line + len && *v == ' ')
        v++;
    size_t nv = (size_t)(line + len - v);
    if (nk == 14 && strncasecmp(line, "Content-Length", 14) == 0) *clen = atoll(v);
    if (nk == 10 && strncasecmp(line, "Connection", 10) == 0 && nv >= 5 &&
        strncasecmp(v, "close", 5) == 0)
        r->close = 1;
    if (nk == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0) return -1; /* chunked */
    if (nk == 10 && strncasecmp(line, "Set-Cookie", 10) == 0) {
        cookie_take(v, nv, "tv_session", r->session, sizeof r->session);
        cookie_take(v, nv, "tv_csrf", r->csrf_cookie, sizeof r->csrf_cookie);
    }
    return 0;
}

/* The first CRLF CRLF in p[0, n), or NULL. */
static char *head_end(char *p, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (p[i] == '\r' && memcmp(p + i, "\r\n\r\n", 4) == 0) return p + i;
    return NULL;
}

/* Reads the head of an answer (status line and headers) into r. Returns 0, or a
 * message's text. */
static const char *head_read(hconn *c, hresp *r, long long *clen)
{
    char *end;
    while (!(end = head_end(c->in + c->off, c->have - c->off))) {
        if (c->off == 0 && c->have == sizeof c->in) return "an answer's headers are too long";
        ssize_t k = hconn_fill(c);
        if (k == -ETIMEDOUT) return "no answer within the time allowed (a stall)";
        if (k <= 0) return k == 0 ? "the server closed the connection" : "reading the answer";
    }
    char *p = c->in + c->off, *stop = end + 2;
    r->close = 0;
    r->session[0] = r->csrf_cookie[0] = '\0';
    *clen = -1;
    if (strncmp(p, "HTTP/1.1 ", 9) != 0 || sscanf(p + 9, "%3d", &r->status) != 1)
        return "an answer that is not HTTP/1.1";
    p = memchr(p, '\n', (size_t)(stop - p)) + 1;
    while (p < stop) {
        char *nl = memchr(p, '\n', (size_t)(stop - p));
        if (header_take(r, p, (size_t)(nl - p - 1), clen)) return "an answer without a length";
        p = nl + 1;
    }
    if (*clen < 0 || *clen > 64 * 1024 * 1024) return "an answer without a length";
    c->off = (size_t)(end + 4 - c->in);
    return NULL;
}

/* Reads one whole answer into r. Returns 0, or a message's text. */
static const char *hresp_read(hconn *c, hresp *r)
{
    long long clen;
    const char *bad = head_read(c, r, &clen);
    if (bad) return bad;
    size_t want = (size_t)clen;
    if (want + 1 > r->cap) {
        char *b = realloc(r->body, want + 1);
        if (!b) return "out of memory";
        r->body = b;
        r->cap = want + 1;
    }
    r->len = 0;
    while (r->len < want) {
        if (c->off == c->have) {
            ssize_t k = hconn_fill(c);
            if (k == -ETIMEDOUT) return "no answer within the time allowed (a stall)";
            if (k <= 0) return "the server closed the connection within an answer";
        }
        size_t n = c->have - c->off < want - r->len ? c->have - c->off : want - r->len;
        memcpy(r->body + r->len, c->in + c->off, n);
        r->len += n;
        c->off += n;
    }
    r->body[r->len] = '\0';
    return NULL;
}

/* Sends a request and reads its answer. Returns 0, or a message's text. */
static const char *http_call(hconn *c, const char *req, size_t n, hresp *r)
{
    int e = hconn_send(c, req, n);
    if (e) return e == EAGAIN || e == EWOULDBLOCK ? "sending stalled" : "sending the request";
    return hresp_read(c, r);
}

/* Writes "METHOD path" with the headers every request carries, cookie (or none) and
 * X-CSRF-Token (or none), and a form body (or none), into buf. Returns its length. */
static size_t request_make(char *buf, size_t cap, const char *method, const char *path,
                           const char *cookie, const char *csrf, const char *form)
{
    int n = snprintf(buf, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, server_host);
    if (cookie && *cookie) n += snprintf(buf + n, cap - (size_t)n, "Cookie: %s\r\n", cookie);
    if (csrf && *csrf) n += snprintf(buf + n, cap - (size_t)n, "X-CSRF-Token: %s\r\n", csrf);
    if (form)
        n += snprintf(buf + n, cap - (size_t)n,
                      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                      "%zu\r\n\r\n%s",
                      strlen(form), form);
    else
        n += snprintf(buf + n, cap - (size_t)n, "\r\n");
    if (n < 0 || (size_t)n >= cap) fail("a request too long for its buffer");
    return (size_t)n;
}

/* Percent-encodes s into out (form encoding: everything but unreserved characters). */
static void url_encode(char *out, size_t cap, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s && n + 4 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~') {
            out[n++] = (char)ch;
        } else {
            out[n++] = '%';
            out[n++] = hex[ch >> 4];
            out[n++] = hex[ch & 15];
        }
    }
    out[n] = '\0';
}

/* The JSON string at "key":"..." in body (no escapes in it), into out; 0 or -1. */
static int json_str(const char *body, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = strstr(body, pat);
    if (!p) return -1;
    p += strlen(pat);
    size_t n = strcspn(p, "\"\\");
    if (p[n] != '"' || n >= cap) return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

/* --- the session ---------------------------------------------------------------------- */

static char session_cookie[160]; /* "tv_session=..." */
static char session_csrf[128];   /* the session's X-CSRF-Token */

/* Logs in as the guard, as the login page does: the tv_csrf cookie from GET /api/session,
 * carried back in the X-CSRF-Token header with the name and password. */
static void login(void)
{
    hconn c;
    hresp r = {0};
    char req[1024], cookie[160], form[256];
    const char *bad;
    int e = hconn_open(&c);
    if (e) fail("cannot connect to %s: %s", server_host, strerror(e));
    size_t n = request_make(req, sizeof req, "GET", "/api/session", NULL, NULL, NULL);
    if ((bad = http_call(&c, req, n, &r))) fail("GET /api/session: %s", bad);
    if (r.status != 200 || !r.csrf_cookie[0])
        fail("GET /api/session answered %d without a tv_csrf cookie: %s", r.status, r.body);
    snprintf(cookie, sizeof cookie, "tv_csrf=%s", r.csrf_cookie);
    char csrf[128];
    snprintf(csrf, sizeof csrf, "%s", r.csrf_cookie);
    snprintf(form, sizeof form, "name=" GUARD "&password=");
    url_encode(form + strlen(form), sizeof form - strlen(form), GUARD_PASS);
    n = request_make(req, sizeof req, "POST", "/api/login", cookie, csrf, form);
    if ((bad = http_call(&c, req, n, &r))) fail("POST /api/login: %s", bad);
    if (r.status != 200 || !r.session[0] ||
        json_str(r.body, "csrf", session_csrf, sizeof session_csrf))
        fail("POST /api/login answered %d without a session: %s", r.status, r.body);
    snprintf(session_cookie, sizeof session_cookie, "tv_session=%s", r.session);
    hconn_close(&c);
    free(r.body);
}

/* --- the check-ins -------------------------------------------------------------------- */

static char venue_id[32];
static uint64_t people_seed;          /* offsets the people's ID numbers */
static uint64_t people_next;          /* people scanned so far (atomic) */
static volatile int run_stop;         /* the run is over (time, or a client's error) */
static pthread_barrier_t run_barrier; /* the clients and main start together */

/* The chip ID card line of person i, as the reader types it (tests/cli/station_test.sh):
 * ID number||name|birth|sex|address|issued. */
static void card_line(char *out, size_t cap, uint64_t i)
{
    static const char *const family[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ"};
    static const char *const middle[] = {"Văn", "Thị", "Đức", "Ngọc", "Minh"};
    static const char *const given[] = {"An", "Bình", "Chi", "Dũng", "Hà", "Khánh", "Lan"};
    uint64_t p = people_seed + i;
    snprintf(out, cap,
             "%03u%09" PRIu64 "||%s %s %s|%02u%02u19%02u|%s|Thôn %u, Xã Phước Đồng|01012022",
             (unsigned)(p / 1000000000 % 96 + 1), p % 1000000000, family[p % 6], middle[p / 6 % 5],
             given[p / 30 % 7], (unsigned)(p % 28 + 1), (unsigned)(p % 12 + 1),
             (unsigned)(p % 80 + 20), p % 2 ? "Nam" : "Nữ", (unsigned)(p % 9 + 1));
}

typedef struct client {
    pthread_t th;
    uint64_t quota; /* check-ins to post; 0: until run_stop */
    uint64_t repeat_pct, rng;
    double *lat_ms; /* each check-in's latency */
    size_t n, cap;
    uint64_t ok, already;
    char err[1024]; /* the first failure, or "" */
} client;

static void client_fail(client *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void client_fail(client *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->err, sizeof k->err, fmt, ap);
    va_end(ap);
    run_stop = 1;
}

/* Checks one answer to POST /api/scan: 200 and result ok or already. */
static int answer_check(client *k, const hresp *r)
{
    char result[32] = "";
    if (r->status == 200 && json_str(r->body, "result", result, sizeof result) == 0) {
        if (strcmp(result, "ok") == 0) {
            k->ok++;
            return 0;
        }
        if (strcmp(result, "already") == 0) {
            k->already++;
            return 0;
        }
    }
    client_fail(k, "POST /api/scan answered %d: %.600s", r->status, r->body);
    return -1;
}

/* One check-in's request: a new person, or one scanned before. */
static size_t scan_request(client *k, char *req, size_t cap)
{
    uint64_t seen = __atomic_load_n(&people_next, __ATOMIC_RELAXED), who;
    if (seen && fx_splitmix64(&k->rng) % 100 < k->repeat_pct)
        who = fx_splitmix64(&k->rng) % seen;
    else
        who = __atomic_fetch_add(&people_next, 1, __ATOMIC_RELAXED);
    char line[512], enc[1536], form[1700];
    card_line(line, sizeof line, who);
    url_encode(enc, sizeof enc, line);
    snprintf(form, sizeof form, "venue=%s&direction=in&line=%s", venue_id, enc);
    return request_make(req, cap, "POST", "/api/scan", session_cookie, session_csrf, form);
}

static void *client_run(void *arg)
{
    client *k = arg;
    hconn c;
    hresp r = {0};
    char req[4096];
    int e = hconn_open(&c);
    if (e) client_fail(k, "cannot connect to %s: %s", server_host, strerror(e));
    pthread_barrier_wait(&run_barrier);
    while (!e && !run_stop && !bench_interrupted && (!k->quota || k->n < k->quota)) {
        size_t n = scan_request(k, req, sizeof req);
        double t0 = bench_now_s();
        const char *bad = http_call(&c, req, n, &r);
        double ms = (bench_now_s() - t0) * 1000.0;
        if (bad) {
            client_fail(k, "POST /api/scan: %s", bad);
            break;
        }
        if (answer_check(k, &r)) break;
        if (r.close) {
            client_fail(k, "POST /api/scan: the server closes the connection after an answer");
            break;
        }
        if (k->n == k->cap) {
            k->cap = k->cap ? 2 * k->cap : 4096;
            double *l = realloc(k->lat_ms, k->cap * sizeof *l);
            if (!l) {
                client_fail(k, "out of memory");
                break;
            }
            k->lat_ms = l;
        }
        k->lat_ms[k->n++] = ms;
    }
    hconn_close(&c);
    free(r.body);
    return NULL;
}

typedef struct run_result {
    unsigned clients;
    uint64_t n, ok, already, commits;
    double secs, rps, p50, p90, p99, max;
} run_result;

/* Posts check-ins from `clients` clients at once, for o->seconds or o->requests. */
static run_result run(const opts *o, unsigned clients)
{
    client *ks = calloc(clients, sizeof *ks);
    if (!ks) fail("out of memory");
    run_stop = 0;
    pthread_barrier_init(&run_barrier, NULL, clients + 1);
    for (unsigned i = 0; i < clients; i++) {
        ks[i].quota = o->requests ? o->requests / clients + (i < o->requests % clients) : 0;
        ks[i].repeat_pct = o->repeat;
        ks[i].rng = bench_mix(o->seed, clients * 1000u + i);
        if (pthread_create(&ks[i].th, NULL, client_run, &ks[i])) fail("pthread_create");
    }
    pthread_barrier_wait(&run_barrier);
    double t0 = bench_now_s();
    if (!o->requests) {
        while (!run_stop && !bench_interrupted && bench_now_s() - t0 < (double)o->seconds) {
            struct timespec ts = {0, 50 * 1000 * 1000};
            nanosleep(&ts, NULL); /* the clock of a timed run, not a synchronisation */
        }
        run_stop = 1;
    }
    run_result rr = {.clients = clients};
    for (unsigned i = 0; i < clients; i++)
        pthread_join(ks[i].th, NULL);
    rr.secs = bench_now_s() - t0;
    pthread_barrier_destroy(&run_barrier);
    interrupt_check();
    for (unsigned i = 0; i < clients; i++)
        if (ks[i].err[0]) fail("%u clients, client %u: %s", clients, i + 1, ks[i].err);
    double *all = NULL;
    for (unsigned i = 0; i < clients; i++) {
        double *a = realloc(all, (rr.n + ks[i].n + 1) * sizeof *a);
        if (!a) fail("out of memory");
        all = a;
        memcpy(all + rr.n, ks[i].lat_ms, ks[i].n * sizeof *all);
        rr.n += ks[i].n;
        rr.ok += ks[i].ok;
        rr.already += ks[i].already;
        free(ks[i].lat_ms);
    }
    free(ks);
    if (rr.n == 0) fail("%u clients: no check-in answered", clients);
    qsort(all, rr.n, sizeof *all, bench_cmp_double);
    rr.rps = (double)rr.n / rr.secs;
    rr.p50 = bench_percentile(all, rr.n, 50);
    rr.p90 = bench_percentile(all, rr.n, 90);
    rr.p99 = bench_percentile(all, rr.n, 99);
    rr.max = all[rr.n - 1];
    free(all);
    return rr;
}

/* --- the pages ------------------------------------------------------------------------ */

typedef struct page {
    const char *path, *key;
    size_t bytes;
    double ms;
} page;

static page pages[] = {{"/", "root", 0, 0},
                       {"/login", "login", 0, 0},
                       {"/gate", "gate", 0, 0},
                       {"/static/app.js", "app_js", 0, 0},
                       {"/static/app.css", "app_css", 0, 0},
                       {"/api/openapi.json", "openapi_json", 0, 0}};
#define NPAGES (sizeof pages / sizeof pages[0])

/* Fetches each page gets times (after one untimed GET) on one connection, as the guard. */
static void pages_load(uint64_t gets)
{
    hconn c;
    hresp r = {0};
    char req[1024];
    int e = hconn_open(&c);
    if (e) fail("cannot connect to %s: %s", server_host, strerror(e));
    for (size_t i = 0; i < NPAGES; i++) {
        page *pg = &pages[i];
        size_t n = request_make(req, sizeof req, "GET", pg->path, session_cookie, NULL, NULL);
        double sum = 0;
        for (uint64_t k = 0; k <= gets; k++) {
            double t0 = bench_now_s();
            const char *bad = http_call(&c, req, n, &r);
            double ms = (bench_now_s() - t0) * 1000.0;
            if (bad) fail("GET %s: %s", pg->path, bad);
            if (r.status != 200) fail("GET %s answered %d: %.300s", pg->path, r.status, r.body);
            if (r.close) fail("GET %s: the server closes the connection after it", pg->path);
            if (k > 0) sum += ms;
            pg->bytes = r.len;
        }
        pg->ms = sum / (double)gets;
        interrupt_check();
    }
    hconn_close(&c);
    free(r.body);
}

/* --- the node ------------------------------------------------------------------------- */

/* What the node's store holds (`status --json`, which reads beside the server): its
 * scans (events.scan) and its batches (one for each commit of the node's own). */
typedef struct counts {
    uint64_t scans, batches;
} counts;

static counts store_counts(const char *node)
{
    static char out[1 << 16];
    tv_run(out, sizeof out, node, (const char *const[]){"status", "--json", NULL});
    const char *ev = strstr(out, "\"events\":{"), *s = ev ? strstr(ev, "\"scan\":") : NULL;
    const char *b = strstr(out, "\"batches\":");
    if (!s || !b) fail("status --json without events.scan or batches");
    return (counts){strtoull(s + 7, NULL, 10), strtoull(b + 10, NULL, 10)};
}

/* Makes the commune node, its venue (venue_id) and the guard's account. */
static void node_make(const char *node)
{
    tv_run(NULL, 0, node,
           (const char *const[]){"init", "--role", "commune", "--unit", UNIT, "--name",
                                 "Xã Phước Đồng", NULL});
    tv_run(venue_id, sizeof venue_id, node,
           (const char *const[]){"venue", "add", "--name", "Chợ Phước Đồng", "--category", "market",
                                 NULL});
    venue_id[strcspn(venue_id, "\n")] = '\0';
    tv_run(NULL, 0, node,
           (const char *const[]){"user", "add", GUARD, "--role", "guard", "--password-file",
                                 bench_sub_dir[SUB_PASS], NULL});
}

/* The venue of a node made by an earlier run: the first of `venue list --json`. */
static void node_venue(const char *node)
{
    static char out[1 << 16];
    tv_run(out, sizeof out, node, (const char *const[]){"venue", "list", "--json", NULL});
    if (json_str(out, "id", venue_id, sizeof venue_id)) fail("the kept node holds no venue");
}

/* Writes a file of one line, mode 0600. */
static void file_put(const char *path, const char *line)
{
    FILE *f = fopen(path, "w");
    if (!f || fputs(line, f) == EOF || fclose(f)) fail("cannot write %s", path);
}

/* What a kept node was made from (the first line of http.params). */
static const char *params_line(void)
{
    static char line[BENCH_PARAMS_MAX];
    snprintf(line, sizeof line, "format=%d unit=" UNIT " venues=1 account=" GUARD "\n",
             PARAMS_FORMAT);
    return line;
}

/* The working directory, the node's passphrase where a systemd service finds it
 * ($CREDENTIALS_DIRECTORY) and the guard's password file. Returns 1 when a kept node is
 * reused (*gen_s: the seconds making it took). */
static int dirs_make(const opts *o, double *gen_s)
{
    int reused =
        bench_kept_dirs(o->dir, "commune", "http.params", o->reuse, params_line(), 0, gen_s);
    static const char *const names[] = {"credentials", "guard.password"};
    for (int i = SUB_CRED; i <= SUB_PASS; i++) {
        snprintf(bench_sub_dir[i], sizeof bench_sub_dir[i], "%.*s/%s", PATH_MAX - 32,
                 bench_work_dir, names[i - SUB_CRED]);
        bench_rm_tree(bench_sub_dir[i]); /* left by an interrupted run */
    }
    bench_sub_dir_make(SUB_CRED);
    char pass[PATH_MAX + 16];
    snprintf(pass, sizeof pass, "%s/passphrase", bench_sub_dir[SUB_CRED]);
    file_put(pass, BENCH_PASS_TEXT "\n");
    bench_sub_made[SUB_PASS] = 1;
    file_put(bench_sub_dir[SUB_PASS], GUARD_PASS "\n");
    if (setenv("CREDENTIALS_DIRECTORY", bench_sub_dir[SUB_CRED], 1) ||
        setenv("TRUYVET_KDF", "min", 1) || setenv("TRUYVET_KEYRING", "process", 1))
        fail("setenv");
    return reused;
}

static void opts_parse(int argc, char **argv, opts *o)
{
    *o = (opts){.seconds = 10, .repeat = 10, .gets = UINT64_MAX, .seed = 1};
    const bench_opt table[] = {{"truyvet", BENCH_OPT_PATH, &o->tv, 0, 0},
                               {"seconds", BENCH_OPT_U64, &o->seconds, 1, 3600},
                               {"requests", BENCH_OPT_U64, &o->requests, 64, 100000000},
                               {"repeat", BENCH_OPT_U64, &o->repeat, 0, 100},
                               {"gets", BENCH_OPT_U64, &o->gets, 1, 1000000},
                               {"quick", BENCH_OPT_FLAG, &o->quick, 0, 0},
                               BENCH_OPT_DIR(&o->dir),
                               BENCH_OPT_KEEP(&o->keep),
                               BENCH_OPT_REUSE(&o->reuse),
                               BENCH_OPT_SEED(&o->seed),
                               {0}};
    bench_parse_opts(argc, argv, table, usage);
    bench_reuse_check(o->dir, o->reuse, &o->keep);
    if (o->quick && !o->requests) o->requests = 192;
    if (o->gets == UINT64_MAX) o->gets = o->quick ? 3 : 100;
    bench_truyvet_path(o->tv, tv_path);
}

/* Where the server listens, from its URL http://127.0.0.1:PORT/. */
static void server_addr_set(const char *url)
{
    unsigned port;
    if (sscanf(url, "http://127.0.0.1:%u/", &port) != 1 || port == 0 || port > 65535)
        fail("the server listens at %s, not on 127.0.0.1", url);
    server_addr.sin_family = AF_INET;
    server_addr.sin_port = htons((uint16_t)port);
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    snprintf(server_host, sizeof server_host, "127.0.0.1:%u", port);
}

static void run_print(const run_result *r)
{
    printf("%u client%s: %" PRIu64 " check-ins in %.2f s, %.0f/s, %.1f per commit; latency ms "
           "p50 %.3f p90 %.3f p99 %.3f max %.3f; ok %" PRIu64 ", already %" PRIu64 "\n",
           r->clients, r->clients > 1 ? "s" : "", r->n, r->secs, r->rps,
           r->commits ? (double)r->n / (double)r->commits : 0.0, r->p50, r->p90, r->p99, r->max,
           r->ok, r->already);
    fflush(stdout);
}

static void print_figures(const opts *o, const run_result *rr, int reused, double gen_s,
                          uint64_t scans)
{
    for (size_t i = 0; i < NPAGES; i++)
        printf("page %s: %zu bytes, %.3f ms (mean of %" PRIu64 " GETs)\n", pages[i].path,
               pages[i].bytes, pages[i].ms, o->gets);
    printf("durable: the store holds %" PRIu64 " scans more, one for each check-in answered\n",
           scans);
    if (o->quick)
        printf("targets: not judged on a --quick run\n");
    else
        printf("targets: 64 clients >= 20000 check-ins/s: %s; 1 client p99 <= 10 ms: %s\n",
               rr[2].rps >= 20000 ? "met" : "missed", rr[0].p99 <= 10 ? "met" : "missed");
    printf("bench=http");
    if (o->requests)
        printf(" requests=%" PRIu64, o->requests);
    else
        printf(" seconds=%" PRIu64, o->seconds);
    printf(" repeat=%" PRIu64, o->repeat);
    for (int i = 0; i < RUNS; i++)
        printf(" c%u_rps=%.0f c%u_p50_ms=%.3f c%u_p99_ms=%.3f c%u_n=%" PRIu64
               " c%u_commits=%" PRIu64,
               rr[i].clients, rr[i].rps, rr[i].clients, rr[i].p50, rr[i].clients, rr[i].p99,
               rr[i].clients, rr[i].n, rr[i].clients, rr[i].commits);
    for (size_t i = 0; i < NPAGES; i++)
        printf(" page_%s_bytes=%zu page_%s_ms=%.3f", pages[i].key, pages[i].bytes, pages[i].key,
               pages[i].ms);
    printf(" gets=%" PRIu64 " scans=%" PRIu64 " fs=%s %s=%.3f seed=%" PRIu64 " reused=%d\n",
           o->gets, scans, bench_fs_name(bench_sub_dir[SUB_STORE]),
           reused ? "gen_s_reused" : "gen_s", gen_s, o->seed, reused);
}

int main(int argc, char **argv)
{
    opts o;
    opts_parse(argc, argv, &o);
    bench_start();
    double gen_s = 0;
    int reused = dirs_make(&o, &gen_s);
    const char *node = bench_sub_dir[SUB_STORE];
    if (reused) {
        node_venue(node);
        printf("node: reused %s (%s; made by an earlier run in %.2f s), venue %s\n", node,
               bench_fs_name(node), gen_s, venue_id);
    } else {
        double t0 = bench_now_s();
        node_make(node);
        gen_s = bench_now_s() - t0;
        bench_params_write(params_line(), gen_s);
        printf("node: commune " UNIT " in %s (%s), venue %s, account '" GUARD "' (%.2f s)\n", node,
               bench_fs_name(node), venue_id, gen_s);
        if (o.keep) bench_sub_made[SUB_STORE] = bench_sub_made[SUB_PARAMS] = bench_work_made = 0;
    }
    uint64_t scans0 = store_counts(node).scans;
    people_seed = bench_mix(o.seed, scans0) % 100000000000ULL;
    char url[128];
    server_start(node, url, sizeof url);
    server_addr_set(url);
    printf("server: %s (pid %ld)\n", url, (long)server_pid);
    fflush(stdout);
    login();
    run_result rr[RUNS];
    for (int i = 0; i < RUNS; i++) {
        counts before = store_counts(node);
        rr[i] = run(&o, run_clients[i]);
        rr[i].commits = store_counts(node).batches - before.batches;
        run_print(&rr[i]);
    }
    pages_load(o.gets);
    server_stop();
    uint64_t answered = rr[0].n + rr[1].n + rr[2].n, scans = store_counts(node).scans - scans0;
    if (scans != answered)
        fail("the store holds %" PRIu64 " scans more, but %" PRIu64 " check-ins were answered",
             scans, answered);
    if (o.keep)
        printf("kept: %s (run again with --dir %s --reuse)\n", bench_work_dir, bench_work_dir);
    print_figures(&o, rr, reused, gen_s, scans);
    bench_cleanup();
    return 0;
}
