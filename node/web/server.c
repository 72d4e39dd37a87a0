/* The console's HTTP server: libmicrohttpd, one thread per connection (a live list holds
 * its connection open and blocks in its own thread; a check-in waits for its group
 * commit in its own thread). This is the only file that includes microhttpd.h: it turns
 * libmicrohttpd's calls into a tv_req, runs the dispatcher (route.c) and sends the
 * tv_resp with the headers every answer carries (the Content-Security-Policy above
 * all). */
#include "node/web/web.h"

#include "crdt/error.h"
#include "node/format/fileio.h"
#include "node/web/gate.h"
#include "node/web/http.h"
#include "node/web/live.h"
#include "node/web/route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* No script but the console's own file, nothing from another origin, no inline style or
 * script: what a page may load and where it may send. */
#define CSP                                                                                        \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "        \
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-src 'self'; "                  \
    "frame-ancestors 'self'; base-uri 'none'"

#define CONNECTIONS_MAX 512
#define CONNECTION_TIMEOUT_S 120 /* a live list sends a comment every TV_LIVE_BEAT_MS */

/* One request's state across libmicrohttpd's calls. */
typedef struct conn {
    char *body;
    size_t len, cap;
    int too_large;
} conn;

int tv_web_addr_parse(const char *addr, struct sockaddr_storage *out, unsigned *len)
{
    char host[64];
    const char *colon;
    memset(out, 0, sizeof *out);
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':' || (size_t)(end - addr - 1) >= sizeof host) return TV_EINVAL;
        memcpy(host, addr + 1, (size_t)(end - addr - 1));
        host[end - addr - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= sizeof host) return TV_EINVAL;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
    }
    char *end;
    if (colon[1] < '0' || colon[1] > '9') return TV_EINVAL;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || port > 65535) return TV_EINVAL;
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
    } else {
        return TV_EINVAL;
    }
    return TV_OK;
}

static enum MHD_Result add_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    (void)kind;
    tv_req *q = cls;
    if (q->nquery == TV_REQ_PARAMS_MAX) return MHD_NO;
    q->query[q->nquery].key = (char *)key;
    q->query[q->nquery].val = (char *)(value ? value : "");
    q->nquery++;
    return MHD_YES;
}

static void client_address(struct MHD_Connection *c, char *out, size_t max)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    out[0] = '\0';
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)max);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)max);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* Behind a proxy on this machine (nginx-truyvet.conf sets X-Real-IP), the address the
 * console log records is the proxy's client's, with the proxy's own beside it: "CLIENT via
 * PEER". A header from anywhere else, or not an address, is left aside: the peer stands. */
static void proxied_address(struct MHD_Connection *c, char *remote, size_t max)
{
    const char *real = header(c, "X-Real-IP");
    struct in_addr a4;
    struct in6_addr a6;
    int loopback = strncmp(remote, "127.", 4) == 0 || strncmp(remote, "::ffff:127.", 11) == 0 ||
                   strcmp(remote, "::1") == 0;
    if (!real || !loopback) return;
    char client[INET6_ADDRSTRLEN], both[2 * INET6_ADDRSTRLEN + 8];
    if (inet_pton(AF_INET, real, &a4) == 1)
        inet_ntop(AF_INET, &a4, client, sizeof client);
    else if (inet_pton(AF_INET6, real, &a6) == 1)
        inet_ntop(AF_INET6, &a6, client, sizeof client);
    else
        return;
    int n = snprintf(both, sizeof both, "%s via %.*s", client, INET6_ADDRSTRLEN, remote);
    if (n > 0 && (size_t)n < max) memcpy(remote, both, (size_t)n + 1); /* else the peer alone */
}

/* Fills q from the connection; returns 0, or an HTTP status to answer with. */
static int read_request(struct MHD_Connection *c, const char *url, const char *method, conn *cs,
                        tv_req *q)
{
    q->method = method;
    q->path = url;
    if (MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_kv, q) < 0 ||
        q->nquery == TV_REQ_PARAMS_MAX)
        return 400;
    q->content_type = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    q->host = header(c, MHD_HTTP_HEADER_HOST);
    q->origin = header(c, "Origin");
    q->sec_fetch_site = header(c, "Sec-Fetch-Site");
    q->csrf = header(c, "X-CSRF-Token");
    q->forwarded_proto = header(c, "X-Forwarded-Proto");
    q->last_event_id = header(c, "Last-Event-ID");
    q->cookie_session = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "tv_session");
    q->cookie_csrf = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "tv_csrf");
    client_address(c, q->remote, sizeof q->remote);
    proxied_address(c, q->remote, sizeof q->remote);
    if (cs->too_large) return 413;
    q->body = cs->body ? cs->body : (char *)"";
    q->body_len = cs->len;
    if (q->content_type && strncmp(q->content_type, "application/x-www-form-urlencoded", 33) == 0) {
        if (cs->len > TV_REQ_FORM_MAX) return 413;
        if (memchr(q->body, '\0', cs->len)) return 400;
        int n = tv_form_parse(q->body, q->form, TV_REQ_PARAMS_MAX);
        if (n < 0) return 400;
        q->nform = (size_t)n;
    }
    return 0;
}

static ssize_t stream_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    tv_resp *r = cls;
    long n = r->stream(r->stream_arg, buf, max);
    return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void stream_free(void *cls)
{
    tv_resp *r = cls;
    tv_resp_free(r);
    free(r);
}

static struct MHD_Response *make_response(tv_resp *r)
{
    struct MHD_Response *m;
    if (r->kind == TV_RESP_STREAM) {
        tv_resp *own = malloc(sizeof *own);
        if (!own) return NULL;
        *own = *r;
        memset(r, 0, sizeof *r); /* the stream's state now belongs to the response */
        m = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_cb, own, stream_free);
        if (!m) stream_free(own);
        if (m) {
            MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, own->type);
            for (size_t i = 0; i < own->nhdr; i++)
                MHD_add_response_header(m, own->hdr[i].name, own->hdr[i].value);
        }
        return m;
    }
    if (r->kind == TV_RESP_STATIC) {
        m = MHD_create_response_from_buffer(r->len, (void *)r->static_body, MHD_RESPMEM_PERSISTENT);
    } else {
        m = MHD_create_response_from_buffer(r->len, r->body ? r->body : (void *)"",
                                            r->body ? MHD_RESPMEM_MUST_FREE
                                                    : MHD_RESPMEM_PERSISTENT);
        if (m) r->body = NULL;
    }
    if (!m) return NULL;
    if (r->type[0]) MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, r->type);
    for (size_t i = 0; i < r->nhdr; i++)
        MHD_add_response_header(m, r->hdr[i].name, r->hdr[i].value);
    return m;
}

static enum MHD_Result send_response(struct MHD_Connection *c, tv_resp *r)
{
    int status = r->status ? r->status : 500;
    const char *csp = r->csp; /* make_response may hand r's contents on */
    struct MHD_Response *m = make_response(r);
    if (!m) return MHD_NO;
    MHD_add_response_header(m, "Content-Security-Policy", csp ? csp : CSP);
    MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(m, "X-Frame-Options", "SAMEORIGIN");
    MHD_add_response_header(m, "Cache-Control", r->cacheable ? "private, max-age=300" : "no-store");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, m);
    MHD_destroy_response(m);
    return ok;
}

static const char *status_en(int status)
{
    return status == 413 ? "the request is too large." : "the request is malformed.";
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    tv_web *w = cls;
    conn *cs = *con_cls;
    if (!cs) {
        if (!(cs = calloc(1, sizeof *cs))) return MHD_NO;
        *con_cls = cs;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (cs->too_large || cs->len + n > TV_REQ_FILE_MAX) {
            cs->too_large = 1;
            return MHD_YES;
        }
        if (cs->len + n + 1 > cs->cap) {
            size_t cap = (cs->len + n + 1) * 2;
            char *b = realloc(cs->body, cap);
            if (!b) return MHD_NO;
            cs->body = b;
            cs->cap = cap;
        }
        memcpy(cs->body + cs->len, upload_data, n);
        cs->len += n;
        cs->body[cs->len] = '\0';
        return MHD_YES;
    }
    tv_req *q = calloc(1, sizeof *q);
    tv_resp r = {0};
    if (!q) return MHD_NO;
    int bad = read_request(c, url, method, cs, q);
    if (bad) {
        tv_resp_error(&r, bad, bad == 413 ? "too_large" : "bad_request", status_en(bad),
                      bad == 413 ? "Yêu cầu quá lớn." : "Yêu cầu không đúng dạng.");
    } else {
        if (q->cookie_session)
            (void)tv_session_find(&w->sessions, q->cookie_session, tv_wall_ms(), &q->who);
        tv_web_dispatch(w, q, &r);
    }
    enum MHD_Result ok = MHD_NO;
    if (tv_resp_finish(&r) == TV_OK) {
        if (w->verbose)
            fprintf(stderr, "truyvet: http %s %s %s -> %d\n", q->remote, method, url, r.status);
        ok = send_response(c, &r);
    }
    tv_resp_free(&r);
    free(q);
    return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn *cs = *con_cls;
    if (!cs) return;
    free(cs->body);
    free(cs);
    *con_cls = NULL;
}

/* Writes the console's URL to DIR/console.url. */
static void write_url(tv_web *w)
{
    char path[PATH_MAX + 16], line[TV_WEB_URL_MAX + 2];
    snprintf(path, sizeof path, "%s/console.url", w->n->dir);
    int len = snprintf(line, sizeof line, "%s\n", w->url);
    if (tv_file_write_atomic(path, line, (size_t)len, 0644))
        fprintf(stderr, "truyvet: cannot write %s (%s)\n", path, strerror(errno));
}

static void web_free(tv_web *w)
{
    tv_web_live_free(w->live);
    tv_web_gate_free(w->gate);
    tv_session_table_free(&w->sessions);
    free(w);
}

int tv_web_start(tv_node *n, const tv_web_opts *o, tv_web **out)
{
    struct sockaddr_storage sa;
    unsigned salen;
    *out = NULL;
    if (tv_web_addr_parse(o->addr, &sa, &salen)) return TV_EINVAL;
    tv_web *w = calloc(1, sizeof *w);
    if (!w) return TV_ENOMEM;
    w->n = n;
    w->mu = o->mu;
    w->verbose = o->verbose;
    int rc;
    if ((rc = tv_session_table_init(&w->sessions)) || (rc = tv_web_gate_new(w, &w->gate)) ||
        (rc = tv_web_live_new(w, &w->live))) {
        web_free(w);
        return rc;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG | (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, w,
        MHD_OPTION_END);
    if (!d) {
        int err = errno;
        web_free(w);
        errno = err;
        return TV_EIO;
    }
    w->daemon = d;
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    char host[INET6_ADDRSTRLEN] = "";
    if (sa.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, host, sizeof host);
    else
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, host, sizeof host);
    snprintf(w->url, sizeof w->url, sa.ss_family == AF_INET ? "http://%s:%u/" : "http://[%s]:%u/",
             host, di ? (unsigned)di->port : 0u);
    write_url(w);
    *out = w;
    return TV_OK;
}

const char *tv_web_url(const tv_web *w)
{
    return w->url;
}

void tv_web_stop(tv_web *w)
{
    if (!w) return;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/console.url", w->n->dir);
    unlink(path);              /* the console is gone: nobody should be sent there */
    tv_web_live_stop(w->live); /* live lists end, so their threads can be joined */
    MHD_stop_daemon(w->daemon);
    web_free(w);
}
