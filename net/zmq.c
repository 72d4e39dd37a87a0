/* ZeroMQ transport: CurveZMQ sockets, the ZAP handler, link events and polling. */
#include "net/zmq.h"
#include "crdt/error.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* libzmq before 4.3.3 has known CURVE and ZAP defects (CVE-2020-15166 among them). */
#define TVZ_ZMQ_VERSION_MIN ZMQ_MAKE_VERSION(4, 3, 3)
/* RFC 27: the endpoint where a context's ZAP handler must be bound. */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
/* RFC 27 request: version, request id, domain, address, identity, mechanism, credentials. */
#define ZAP_REQUEST_FRAMES 7
#define ZAP_KEY_BYTES 32
/* Messages one recv call may drop before it lets the caller's loop run again. */
#define RECV_SKIP_MAX 64
/* Monitor events read in one go; libzmq produces few (one or two per handshake). */
#define EVENTS_PUMP_MAX 256
/* Monitor endpoints are "inproc://tvz.monitor.<n>". */
#define MONITOR_ENDPOINT_MAX 48
#define CONN_EVENTS                                                                                \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |    \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                  \
     ZMQ_EVENT_CONNECT_RETRIED)

_Static_assert(TVZ_RID_BYTES_MAX <= UINT8_MAX, "tvz_rid.len is one byte");
_Static_assert(TVZ_EVENTS_QUEUED_MAX > 0, "the event ring needs room");
_Static_assert(crypto_scalarmult_curve25519_BYTES == ZAP_KEY_BYTES, "CURVE keys are X25519");

typedef struct allow_entry {
    uint8_t x[ZAP_KEY_BYTES]; /* X25519 key, the sort key */
    uint8_t ed[TV_NODE_ID_BYTES];
} allow_entry;

struct tvz_ctx {
    void *zctx;
    void *zap; /* REP socket; belongs to the ZAP thread once it runs */
    pthread_t zap_thread;
    atomic_bool zap_running;
    pthread_mutex_t lock; /* guards allow, admit, admit_arg, stats */
    allow_entry *allow;   /* sorted by x */
    size_t allow_len, allow_cap;
    tvz_admit_fn admit;
    void *admit_arg;
    tvz_zap_stats stats;
    tvz_config cfg;
    uint8_t x_pk[ZAP_KEY_BYTES], x_sk[ZAP_KEY_BYTES];
    unsigned monitor_seq;
    size_t open; /* listeners and connections not yet freed */
};

typedef struct route {
    uint8_t pk[TV_NODE_ID_BYTES];
    tvz_rid rid;
    uint64_t used; /* route_clock value of its last message, for eviction */
} route;

struct tvz_listener {
    tvz_ctx *ctx;
    void *sock;
    char endpoint[TVZ_ENDPOINT_MAX];
    zmq_msg_t cur; /* backs the last tvz_msg handed out */
    bool cur_live;
    route *routes;
    size_t routes_len;
    uint64_t route_clock;
    tvz_listener_stats stats;
};

struct tvz_conn {
    tvz_ctx *ctx;
    void *sock; /* NULL after a failed reset */
    void *mon;
    char endpoint[TVZ_ENDPOINT_MAX];
    uint8_t server_ed[TV_NODE_ID_BYTES];
    uint8_t server_x[ZAP_KEY_BYTES];
    zmq_msg_t cur;
    bool cur_live;
    tvz_event ring[TVZ_EVENTS_QUEUED_MAX];
    size_t ring_head, ring_len;
    tvz_conn_status st;
};

/* Maps the errno of a failed ZeroMQ call (see net/zmq.h). */
static int err_from_zmq(void)
{
    int e = zmq_errno();
    switch (e) {
    case EAGAIN:
    case EINTR:
        return TV_EBUSY;
    case EHOSTUNREACH:
        return TV_ENOTFOUND;
    case ENOMEM:
        return TV_ENOMEM;
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENOCOMPATPROTO:
        return TV_EINVAL;
    default:
        errno = e;
        return TV_EIO;
    }
}

void tvz_config_default(tvz_config *cfg)
{
    *cfg = (tvz_config){
        .msg_bytes_max = TVZ_MSG_BYTES_MAX,
        .heartbeat_ivl_ms = TVZ_HEARTBEAT_IVL_MS,
        .heartbeat_timeout_ms = TVZ_HEARTBEAT_TIMEOUT_MS,
        .heartbeat_ttl_ms = TVZ_HEARTBEAT_TTL_MS,
        .reconnect_ivl_ms = TVZ_RECONNECT_IVL_MS,
        .reconnect_ivl_max_ms = TVZ_RECONNECT_IVL_MAX_MS,
        .handshake_ms = TVZ_HANDSHAKE_MS,
        .linger_ms = TVZ_LINGER_MS,
        .queue_msgs = TVZ_QUEUE_MSGS,
    };
}

static bool config_valid(const tvz_config *c)
{
    return c->msg_bytes_max > 0 && c->msg_bytes_max <= TVZ_MSG_BYTES_MAX &&
           c->heartbeat_ivl_ms > 0 && c->heartbeat_timeout_ms > c->heartbeat_ivl_ms &&
           c->heartbeat_ttl_ms >= 0 && c->heartbeat_ttl_ms % 100 == 0 &&
           c->heartbeat_ttl_ms <= TVZ_HEARTBEAT_TTL_MS_MAX && c->reconnect_ivl_ms > 0 &&
           c->reconnect_ivl_max_ms >= c->reconnect_ivl_ms && c->handshake_ms > 0 &&
           c->linger_ms >= 0 && c->linger_ms <= TVZ_LINGER_MS_MAX && c->queue_msgs > 0 &&
           c->queue_msgs <= TVZ_QUEUE_MSGS_MAX;
}

/* ---- allow table (callers hold ctx->lock) ---- */

/* Index of the first entry whose x is >= key. */
static size_t allow_lower_bound(const tvz_ctx *ctx, const uint8_t x[ZAP_KEY_BYTES])
{
    size_t lo = 0, hi = ctx->allow_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(ctx->allow[mid].x, x, ZAP_KEY_BYTES) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const allow_entry *allow_find(const tvz_ctx *ctx, const uint8_t x[ZAP_KEY_BYTES])
{
    size_t i = allow_lower_bound(ctx, x);
    if (i < ctx->allow_len && memcmp(ctx->allow[i].x, x, ZAP_KEY_BYTES) == 0) return &ctx->allow[i];
    return NULL;
}

int tvz_allow(tvz_ctx *ctx, const uint8_t ed25519_pk[TV_NODE_ID_BYTES])
{
    allow_entry e;
    memcpy(e.ed, ed25519_pk, TV_NODE_ID_BYTES);
    if (crypto_sign_ed25519_pk_to_curve25519(e.x, ed25519_pk) != 0) return TV_EINVAL;

    int rc = TV_OK;
    pthread_mutex_lock(&ctx->lock);
    size_t i = allow_lower_bound(ctx, e.x);
    if (i < ctx->allow_len && memcmp(ctx->allow[i].x, e.x, ZAP_KEY_BYTES) == 0) {
        /* Ed25519 keys A and -A share one X25519 key; the latest registration wins, and
         * only the holder of that X25519 secret can complete the handshake either way. */
        ctx->allow[i] = e;
        goto out;
    }
    if (ctx->allow_len == TVZ_ALLOW_MAX) {
        rc = TV_ELIMIT;
        goto out;
    }
    if (ctx->allow_len == ctx->allow_cap) {
        size_t cap = ctx->allow_cap ? ctx->allow_cap * 2 : 64;
        if (cap > TVZ_ALLOW_MAX) cap = TVZ_ALLOW_MAX;
        allow_entry *grown = realloc(ctx->allow, cap * sizeof *grown);
        if (!grown) {
            rc = TV_ENOMEM;
            goto out;
        }
        ctx->allow = grown;
        ctx->allow_cap = cap;
    }
    memmove(&ctx->allow[i + 1], &ctx->allow[i], (ctx->allow_len - i) * sizeof e);
    ctx->allow[i] = e;
    ctx->allow_len++;
out:
    pthread_mutex_unlock(&ctx->lock);
    return rc;
}

int tvz_deny(tvz_ctx *ctx, const uint8_t ed25519_pk[TV_NODE_ID_BYTES])
{
    uint8_t x[ZAP_KEY_BYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(x, ed25519_pk) != 0) return TV_ENOTFOUND;

    int rc = TV_ENOTFOUND;
    pthread_mutex_lock(&ctx->lock);
    size_t i = allow_lower_bound(ctx, x);
    if (i < ctx->allow_len && memcmp(ctx->allow[i].x, x, ZAP_KEY_BYTES) == 0 &&
        memcmp(ctx->allow[i].ed, ed25519_pk, TV_NODE_ID_BYTES) == 0) {
        memmove(&ctx->allow[i], &ctx->allow[i + 1], (ctx->allow_len - i - 1) * sizeof *ctx->allow);
        ctx->allow_len--;
        rc = TV_OK;
    }
    pthread_mutex_unlock(&ctx->lock);
    return rc;
}

/* Whether messages from Ed25519 key pk may still be delivered. */
static bool ctx_allows(tvz_ctx *ctx, const uint8_t pk[TV_NODE_ID_BYTES])
{
    uint8_t x[ZAP_KEY_BYTES];
    if (crypto_sign_ed25519_pk_to_curve25519(x, pk) != 0) return false;
    pthread_mutex_lock(&ctx->lock);
    const allow_entry *e = allow_find(ctx, x);
    bool ok = e && memcmp(e->ed, pk, TV_NODE_ID_BYTES) == 0;
    pthread_mutex_unlock(&ctx->lock);
    return ok;
}

void tvz_admit_set(tvz_ctx *ctx, tvz_admit_fn fn, void *arg)
{
    pthread_mutex_lock(&ctx->lock);
    ctx->admit = fn;
    ctx->admit_arg = arg;
    pthread_mutex_unlock(&ctx->lock);
}

void tvz_ctx_stats(tvz_ctx *ctx, tvz_zap_stats *out)
{
    pthread_mutex_lock(&ctx->lock);
    *out = ctx->stats;
    pthread_mutex_unlock(&ctx->lock);
}

/* ---- ZAP handler ---- */

static bool frame_is(zmq_msg_t *m, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

/* Decides one request. Fails closed: anything but an allowed key that the callback (if
 * any) accepts is refused with 400. */
static int zap_decide(tvz_ctx *ctx, zmq_msg_t *f, size_t n, uint8_t ed[TV_NODE_ID_BYTES],
                      const char **text)
{
    if (n != ZAP_REQUEST_FRAMES || !frame_is(&f[0], "1.0") || !frame_is(&f[5], "CURVE") ||
        zmq_msg_size(&f[6]) != ZAP_KEY_BYTES) {
        *text = "malformed request";
        return 400;
    }
    if (!frame_is(&f[2], TVZ_ZAP_DOMAIN)) {
        *text = "unknown domain";
        return 400;
    }
    pthread_mutex_lock(&ctx->lock);
    const allow_entry *e = allow_find(ctx, zmq_msg_data(&f[6]));
    if (e) memcpy(ed, e->ed, TV_NODE_ID_BYTES);
    tvz_admit_fn fn = ctx->admit;
    void *arg = ctx->admit_arg;
    pthread_mutex_unlock(&ctx->lock);
    if (!e) {
        *text = "unknown key";
        return 400;
    }
    /* Outside the lock: the callback may call tvz_allow or tvz_deny. */
    if (fn && !fn(ed, arg)) {
        *text = "not admitted";
        return 400;
    }
    *text = "OK";
    return 200;
}

/* Receives one frame, retrying when a signal interrupts. Returns 0 or -1 (errno set). */
static int zap_recv_frame(void *sock, zmq_msg_t *m)
{
    for (;;) {
        if (zmq_msg_recv(m, sock, 0) >= 0) return 0;
        if (zmq_errno() != EINTR) return -1;
    }
}

static int zap_send_frame(void *sock, const void *buf, size_t len, int more)
{
    for (;;) {
        if (zmq_send(sock, buf, len, more ? ZMQ_SNDMORE : 0) >= 0) return 0;
        if (zmq_errno() != EINTR) return -1;
    }
}

/* Serves RFC 27 requests until the context shuts down. On any other failure it stops
 * without closing its socket: pending and later handshakes then get no reply and time out
 * (handshake_ms), so a broken handler refuses rather than admits. */
static void *zap_main(void *arg)
{
    tvz_ctx *ctx = arg;
    zmq_msg_t f[ZAP_REQUEST_FRAMES];
    for (;;) {
        size_t n = 0; /* frames received; only the first ZAP_REQUEST_FRAMES are kept */
        bool more = true, failed = false;
        while (more) {
            zmq_msg_t extra;
            zmq_msg_t *m = n < ZAP_REQUEST_FRAMES ? &f[n] : &extra;
            zmq_msg_init(m);
            if (zap_recv_frame(ctx->zap, m) != 0) {
                zmq_msg_close(m);
                failed = true;
                break;
            }
            more = zmq_msg_more(m);
            if (m == &extra) zmq_msg_close(m);
            n++;
        }
        if (failed) {
            for (size_t i = 0; i < n && i < ZAP_REQUEST_FRAMES; i++)
                zmq_msg_close(&f[i]);
            break;
        }

        uint8_t ed[TV_NODE_ID_BYTES];
        const char *text;
        int status = zap_decide(ctx, f, n, ed, &text);
        char code[4], user[2 * TV_NODE_ID_BYTES + 1] = "";
        snprintf(code, sizeof code, "%d", status);
        if (status == 200) tv_hex_encode(user, ed, TV_NODE_ID_BYTES);

        pthread_mutex_lock(&ctx->lock);
        if (status == 200)
            ctx->stats.admitted++;
        else
            ctx->stats.refused++;
        pthread_mutex_unlock(&ctx->lock);

        const void *rid = n > 1 ? zmq_msg_data(&f[1]) : NULL;
        size_t rid_len = n > 1 ? zmq_msg_size(&f[1]) : 0;
        int rc = zap_send_frame(ctx->zap, "1.0", 3, 1);
        if (rc == 0) rc = zap_send_frame(ctx->zap, rid, rid_len, 1);
        if (rc == 0) rc = zap_send_frame(ctx->zap, code, 3, 1);
        if (rc == 0) rc = zap_send_frame(ctx->zap, text, strlen(text), 1);
        if (rc == 0) rc = zap_send_frame(ctx->zap, user, strlen(user), 1);
        if (rc == 0) rc = zap_send_frame(ctx->zap, "", 0, 0);
        for (size_t i = 0; i < n && i < ZAP_REQUEST_FRAMES; i++)
            zmq_msg_close(&f[i]);
        if (rc != 0) break;
    }
    atomic_store(&ctx->zap_running, false);
    return NULL;
}

/* ---- context ---- */

int tvz_ctx_new(const crdt_identity *id, const tvz_config *cfg, tvz_ctx **out)
{
    *out = NULL;
    int major, minor, patch;
    zmq_version(&major, &minor, &patch);
    if (ZMQ_MAKE_VERSION(major, minor, patch) < TVZ_ZMQ_VERSION_MIN || !zmq_has("curve"))
        return TV_EVERSION;
    if (sodium_init() < 0) return TV_EIO;
    tvz_config c;
    if (cfg)
        c = *cfg;
    else
        tvz_config_default(&c);
    if (!config_valid(&c)) return TV_EINVAL;

    tvz_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return TV_ENOMEM;
    ctx->cfg = c;
    if (crypto_sign_ed25519_pk_to_curve25519(ctx->x_pk, id->pk) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(ctx->x_sk, id->sk) != 0) {
        sodium_memzero(ctx, sizeof *ctx);
        free(ctx);
        return TV_EINVAL;
    }
    if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
        sodium_memzero(ctx, sizeof *ctx);
        free(ctx);
        return TV_ENOMEM;
    }

    int rc = TV_EIO;
    ctx->zctx = zmq_ctx_new();
    if (!ctx->zctx) goto fail;
    /* Sockets left with unsent messages must never make zmq_ctx_term wait forever. */
    zmq_ctx_set(ctx->zctx, ZMQ_BLOCKY, 0);

    /* The handler is bound before any other socket of this context exists: libzmq 4.3
     * admits every CURVE client when nothing is bound at ZAP_ENDPOINT. */
    ctx->zap = zmq_socket(ctx->zctx, ZMQ_REP);
    if (!ctx->zap) {
        rc = err_from_zmq();
        goto fail;
    }
    int zero = 0;
    if (zmq_setsockopt(ctx->zap, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_bind(ctx->zap, ZAP_ENDPOINT) != 0) {
        rc = err_from_zmq();
        goto fail;
    }
    atomic_store(&ctx->zap_running, true);
    if (pthread_create(&ctx->zap_thread, NULL, zap_main, ctx) != 0) {
        atomic_store(&ctx->zap_running, false);
        rc = TV_ENOMEM;
        goto fail;
    }
    *out = ctx;
    return TV_OK;

fail:;
    int saved = errno; /* the cause, not what the cleanup leaves */
    if (ctx->zap) zmq_close(ctx->zap);
    if (ctx->zctx) zmq_ctx_term(ctx->zctx);
    pthread_mutex_destroy(&ctx->lock);
    sodium_memzero(ctx, sizeof *ctx);
    free(ctx);
    errno = saved;
    return rc == TV_EBUSY ? TV_EIO : rc;
}

void tvz_ctx_free(tvz_ctx *ctx)
{
    if (!ctx) return;
    assert(ctx->open == 0 && "free every listener and connection before the context");
    /* Shutdown wakes the ZAP thread's blocking recv with ETERM; only then is its socket
     * ours to close. */
    zmq_ctx_shutdown(ctx->zctx);
    pthread_join(ctx->zap_thread, NULL);
    zmq_close(ctx->zap);
    zmq_ctx_term(ctx->zctx);
    pthread_mutex_destroy(&ctx->lock);
    free(ctx->allow);
    sodium_memzero(ctx, sizeof *ctx);
    free(ctx);
}

/* ---- sockets ---- */

static int set_int(void *s, int opt, int v)
{
    return zmq_setsockopt(s, opt, &v, sizeof v);
}

/* Options every node socket shares: bounded queues, sizes and linger, heartbeats, and the
 * node's CURVE key pair. */
static int sock_setup(tvz_ctx *ctx, void *s)
{
    const tvz_config *c = &ctx->cfg;
    int64_t wire_max = (int64_t)c->msg_bytes_max + TVZ_CURVE_OVERHEAD_BYTES;
    if (set_int(s, ZMQ_LINGER, c->linger_ms) != 0 || set_int(s, ZMQ_SNDHWM, c->queue_msgs) != 0 ||
        set_int(s, ZMQ_RCVHWM, c->queue_msgs) != 0 ||
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &wire_max, sizeof wire_max) != 0 ||
        set_int(s, ZMQ_HEARTBEAT_IVL, c->heartbeat_ivl_ms) != 0 ||
        set_int(s, ZMQ_HEARTBEAT_TIMEOUT, c->heartbeat_timeout_ms) != 0 ||
        set_int(s, ZMQ_HEARTBEAT_TTL, c->heartbeat_ttl_ms) != 0 ||
        set_int(s, ZMQ_HANDSHAKE_IVL, c->handshake_ms) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, ctx->x_pk, ZAP_KEY_BYTES) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, ctx->x_sk, ZAP_KEY_BYTES) != 0)
        return err_from_zmq();
    return TV_OK;
}

/* Starts a monitor on sock for `events` and connects a reader to it at once: libzmq's
 * I/O thread blocks on a monitor that nobody has connected to or that is full, so the
 * reader's queue is unbounded (RCVHWM 0) and it exists before sock does any I/O. */
static int monitor_start(tvz_ctx *ctx, void *sock, int events, void **reader)
{
    char ep[MONITOR_ENDPOINT_MAX];
    snprintf(ep, sizeof ep, "inproc://tvz.monitor.%u", ++ctx->monitor_seq);
    if (zmq_socket_monitor(sock, ep, events) != 0) return err_from_zmq();
    void *r = zmq_socket(ctx->zctx, ZMQ_PAIR);
    if (!r || set_int(r, ZMQ_LINGER, 0) != 0 || set_int(r, ZMQ_RCVHWM, 0) != 0 ||
        zmq_connect(r, ep) != 0) {
        int rc = err_from_zmq();
        if (r) zmq_close(r);
        zmq_socket_monitor(sock, NULL, 0);
        return rc;
    }
    *reader = r;
    return TV_OK;
}

/* Stops the monitor before closing its reader, the order libzmq needs to not block. */
static void monitor_stop(void *sock, void *reader)
{
    zmq_socket_monitor(sock, NULL, 0);
    zmq_close(reader);
}

/* Reads one monitor event (two frames). Returns 0, or TV_EBUSY when none is waiting. */
static int monitor_read(void *reader, int flags, uint16_t *event, uint32_t *value)
{
    zmq_msg_t head, addr;
    zmq_msg_init(&head);
    if (zmq_msg_recv(&head, reader, flags) < 0) {
        zmq_msg_close(&head);
        return err_from_zmq();
    }
    bool more = zmq_msg_more(&head);
    bool ok = zmq_msg_size(&head) == sizeof *event + sizeof *value;
    if (ok) {
        memcpy(event, zmq_msg_data(&head), sizeof *event);
        memcpy(value, (const uint8_t *)zmq_msg_data(&head) + sizeof *event, sizeof *value);
    }
    zmq_msg_close(&head);
    /* The endpoint frame follows at once: a multipart message arrives whole. */
    while (more) {
        zmq_msg_init(&addr);
        if (zmq_msg_recv(&addr, reader, 0) < 0) {
            zmq_msg_close(&addr);
            break;
        }
        more = zmq_msg_more(&addr);
        zmq_msg_close(&addr);
    }
    if (!ok) *event = 0;
    return TV_OK;
}

static void msg_release(zmq_msg_t *m, bool *live)
{
    if (*live) zmq_msg_close(m);
    *live = false;
}

/* Discards the rest of a multipart message. */
static void drain_more(void *sock, zmq_msg_t *last)
{
    bool more = zmq_msg_more(last);
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
}

/* ---- listener ---- */

int tvz_listener_new(tvz_ctx *ctx, const char *endpoint, tvz_listener **out)
{
    *out = NULL;
    if (strlen(endpoint) >= TVZ_ENDPOINT_MAX) return TV_EINVAL;
    if (!atomic_load(&ctx->zap_running)) {
        errno = ENOTCONN;
        return TV_EIO;
    }
    tvz_listener *l = calloc(1, sizeof *l);
    if (!l) return TV_ENOMEM;
    l->routes = calloc(TVZ_ROUTES_MAX, sizeof *l->routes);
    if (!l->routes) {
        free(l);
        return TV_ENOMEM;
    }
    l->ctx = ctx;
    int rc;
    l->sock = zmq_socket(ctx->zctx, ZMQ_ROUTER);
    if (!l->sock) {
        rc = err_from_zmq();
        goto fail;
    }
    rc = sock_setup(ctx, l->sock);
    if (rc != 0) goto fail;
    if (set_int(l->sock, ZMQ_CURVE_SERVER, 1) != 0 ||
        zmq_setsockopt(l->sock, ZMQ_ZAP_DOMAIN, TVZ_ZAP_DOMAIN, strlen(TVZ_ZAP_DOMAIN)) != 0 ||
        set_int(l->sock, ZMQ_ROUTER_MANDATORY, 1) != 0 || zmq_bind(l->sock, endpoint) != 0) {
        rc = err_from_zmq();
        goto fail;
    }
    size_t len = sizeof l->endpoint;
    if (zmq_getsockopt(l->sock, ZMQ_LAST_ENDPOINT, l->endpoint, &len) != 0) {
        rc = err_from_zmq();
        goto fail;
    }
    ctx->open++;
    *out = l;
    return TV_OK;

fail:;
    int saved = errno;
    if (rc == TV_EBUSY) rc = TV_EIO;
    if (l->sock) {
        set_int(l->sock, ZMQ_LINGER, 0);
        zmq_close(l->sock);
    }
    free(l->routes);
    free(l);
    errno = saved;
    return rc;
}

const char *tvz_listener_endpoint(const tvz_listener *l)
{
    return l->endpoint;
}

void tvz_listener_free(tvz_listener *l)
{
    if (!l) return;
    msg_release(&l->cur, &l->cur_live);
    /* zmq_unbind only asks the I/O thread to close the port; wait for its CLOSED event
     * so that the caller may bind the same endpoint again straight away. */
    void *reader = NULL;
    bool watching =
        monitor_start(l->ctx, l->sock, ZMQ_EVENT_CLOSED | ZMQ_EVENT_CLOSE_FAILED, &reader) == 0;
    if (zmq_unbind(l->sock, l->endpoint) == 0 && watching) {
        zmq_pollitem_t it = {reader, 0, ZMQ_POLLIN, 0};
        uint16_t ev;
        uint32_t val;
        if (zmq_poll(&it, 1, TVZ_UNBIND_WAIT_MS) > 0) monitor_read(reader, ZMQ_DONTWAIT, &ev, &val);
    }
    if (watching) monitor_stop(l->sock, reader);
    zmq_close(l->sock);
    l->ctx->open--;
    free(l->routes);
    free(l);
}

static route *route_find(tvz_listener *l, const uint8_t pk[TV_NODE_ID_BYTES])
{
    for (size_t i = 0; i < l->routes_len; i++)
        if (memcmp(l->routes[i].pk, pk, TV_NODE_ID_BYTES) == 0) return &l->routes[i];
    return NULL;
}

/* Remembers that pk last spoke on rid; when the table is full the least recently heard
 * peer is forgotten (it is found again by its next message). */
static void route_note(tvz_listener *l, const uint8_t pk[TV_NODE_ID_BYTES], const tvz_rid *rid)
{
    route *r = route_find(l, pk);
    if (!r && l->routes_len < TVZ_ROUTES_MAX) r = &l->routes[l->routes_len++];
    if (!r) {
        r = &l->routes[0];
        for (size_t i = 1; i < l->routes_len; i++)
            if (l->routes[i].used < r->used) r = &l->routes[i];
    }
    memcpy(r->pk, pk, TV_NODE_ID_BYTES);
    r->rid = *rid;
    r->used = ++l->route_clock;
}

static void route_forget(tvz_listener *l, route *r)
{
    *r = l->routes[--l->routes_len];
}

int tvz_listener_recv(tvz_listener *l, tvz_msg *msg)
{
    msg_release(&l->cur, &l->cur_live);
    for (int skipped = 0; skipped < RECV_SKIP_MAX; skipped++) {
        zmq_msg_t rid;
        zmq_msg_init(&rid);
        if (zmq_msg_recv(&rid, l->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            return err_from_zmq();
        }
        /* A ROUTER always yields the routing frame and then the payload. */
        if (!zmq_msg_more(&rid)) {
            zmq_msg_close(&rid);
            l->stats.dropped_malformed++;
            continue;
        }
        bool bad_shape = zmq_msg_size(&rid) == 0 || zmq_msg_size(&rid) > TVZ_RID_BYTES_MAX;
        zmq_msg_init(&l->cur);
        if (zmq_msg_recv(&l->cur, l->sock, ZMQ_DONTWAIT) < 0) {
            int rc = err_from_zmq();
            zmq_msg_close(&l->cur);
            zmq_msg_close(&rid);
            return rc == TV_EBUSY ? TV_EIO : rc;
        }
        l->cur_live = true;
        if (zmq_msg_more(&l->cur)) {
            drain_more(l->sock, &l->cur);
            bad_shape = true;
        }
        if (bad_shape || zmq_msg_size(&l->cur) > l->ctx->cfg.msg_bytes_max) {
            l->stats.dropped_malformed++;
            goto drop;
        }
        /* The ZAP handler put the sender's Ed25519 key, in hex, in User-Id. */
        const char *user = zmq_msg_gets(&l->cur, "User-Id");
        uint8_t pk[TV_NODE_ID_BYTES];
        if (!user || tv_hex_decode(pk, sizeof pk, user) != 0) {
            l->stats.dropped_unauthenticated++;
            goto drop;
        }
        if (!ctx_allows(l->ctx, pk)) {
            l->stats.dropped_revoked++;
            goto drop;
        }
        memcpy(msg->from, pk, sizeof pk);
        msg->rid.len = (uint8_t)zmq_msg_size(&rid);
        memcpy(msg->rid.bytes, zmq_msg_data(&rid), msg->rid.len);
        msg->data = zmq_msg_data(&l->cur);
        msg->len = zmq_msg_size(&l->cur);
        zmq_msg_close(&rid);
        route_note(l, pk, &msg->rid);
        l->stats.delivered++;
        return TV_OK;
    drop:
        zmq_msg_close(&rid);
        msg_release(&l->cur, &l->cur_live);
    }
    return TV_EBUSY;
}

int tvz_listener_send(tvz_listener *l, const tvz_rid *rid, const uint8_t *buf, size_t len)
{
    if (len > l->ctx->cfg.msg_bytes_max) return TV_ELIMIT;
    if (rid->len == 0) return TV_EINVAL;
    /* With ZMQ_ROUTER_MANDATORY the routing frame fails at once (EHOSTUNREACH, or EAGAIN
     * when the peer's queue is full) instead of the message vanishing. */
    if (zmq_send(l->sock, rid->bytes, rid->len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return err_from_zmq();
    if (zmq_send(l->sock, buf, len, ZMQ_DONTWAIT) < 0) return err_from_zmq();
    return TV_OK;
}

int tvz_listener_send_to(tvz_listener *l, const uint8_t pk[TV_NODE_ID_BYTES], const uint8_t *buf,
                         size_t len)
{
    if (len > l->ctx->cfg.msg_bytes_max) return TV_ELIMIT;
    if (!ctx_allows(l->ctx, pk)) return TV_EPERM;
    route *r = route_find(l, pk);
    if (!r) return TV_ENOTFOUND;
    int rc = tvz_listener_send(l, &r->rid, buf, len);
    if (rc == TV_ENOTFOUND) route_forget(l, r);
    return rc;
}

void tvz_listener_stats_get(const tvz_listener *l, tvz_listener_stats *out)
{
    *out = l->stats;
}

/* ---- connections ---- */

static void conn_event_push(tvz_conn *c, tvz_event_kind kind, uint32_t value)
{
    if (c->ring_len == TVZ_EVENTS_QUEUED_MAX) {
        c->ring_head = (c->ring_head + 1) % TVZ_EVENTS_QUEUED_MAX;
        c->ring_len--;
        c->st.events_dropped++;
    }
    c->ring[(c->ring_head + c->ring_len) % TVZ_EVENTS_QUEUED_MAX] =
        (tvz_event){.kind = kind, .value = value};
    c->ring_len++;
}

/* Reads pending monitor events into the status and the event ring. */
static void conn_events_pump(tvz_conn *c)
{
    if (!c->mon) return;
    for (int i = 0; i < EVENTS_PUMP_MAX; i++) {
        uint16_t ev;
        uint32_t val;
        if (monitor_read(c->mon, ZMQ_DONTWAIT, &ev, &val) != 0) return;
        switch (ev) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            c->st.up = 1;
            c->st.ups++;
            conn_event_push(c, TVZ_EVENT_UP, 0);
            break;
        case ZMQ_EVENT_DISCONNECTED:
            /* Also follows every failed handshake; only a link that was up goes down. */
            if (c->st.up) {
                c->st.up = 0;
                c->st.downs++;
                conn_event_push(c, TVZ_EVENT_DOWN, 0);
            }
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            c->st.refused++;
            c->st.last_refusal = val;
            c->st.stalled = 1;
            conn_event_push(c, TVZ_EVENT_REFUSED, val);
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
            c->st.failed++;
            conn_event_push(c, TVZ_EVENT_FAILED, val);
            break;
        case ZMQ_EVENT_CONNECT_RETRIED:
            c->st.retries++;
            break;
        default:
            break;
        }
    }
}

/* Creates, configures and connects c's DEALER and its monitor. */
static int conn_open(tvz_conn *c)
{
    tvz_ctx *ctx = c->ctx;
    const tvz_config *cfg = &ctx->cfg;
    void *s = zmq_socket(ctx->zctx, ZMQ_DEALER);
    if (!s) return err_from_zmq();
    int rc = sock_setup(ctx, s);
    if (rc == 0 && (zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, c->server_x, ZAP_KEY_BYTES) != 0 ||
                    set_int(s, ZMQ_IMMEDIATE, 1) != 0 ||
                    set_int(s, ZMQ_RECONNECT_IVL, cfg->reconnect_ivl_ms) != 0 ||
                    set_int(s, ZMQ_RECONNECT_IVL_MAX, cfg->reconnect_ivl_max_ms) != 0))
        rc = err_from_zmq();
    void *mon = NULL;
    if (rc == 0) rc = monitor_start(ctx, s, CONN_EVENTS, &mon);
    if (rc == 0 && zmq_connect(s, c->endpoint) != 0) {
        rc = err_from_zmq();
        int saved = errno;
        monitor_stop(s, mon);
        errno = saved;
    }
    if (rc != 0) {
        int saved = errno;
        set_int(s, ZMQ_LINGER, 0);
        zmq_close(s);
        errno = saved;
        return rc == TV_EBUSY ? TV_EIO : rc;
    }
    c->sock = s;
    c->mon = mon;
    return TV_OK;
}

static void conn_close(tvz_conn *c)
{
    if (!c->sock) return;
    monitor_stop(c->sock, c->mon);
    zmq_close(c->sock);
    c->sock = NULL;
    c->mon = NULL;
}

int tvz_conn_new(tvz_ctx *ctx, const char *endpoint, const uint8_t server_pk[TV_NODE_ID_BYTES],
                 tvz_conn **out)
{
    *out = NULL;
    if (strlen(endpoint) >= TVZ_ENDPOINT_MAX) return TV_EINVAL;
    tvz_conn *c = calloc(1, sizeof *c);
    if (!c) return TV_ENOMEM;
    c->ctx = ctx;
    memcpy(c->endpoint, endpoint, strlen(endpoint) + 1);
    memcpy(c->server_ed, server_pk, TV_NODE_ID_BYTES);
    if (crypto_sign_ed25519_pk_to_curve25519(c->server_x, server_pk) != 0) {
        free(c);
        return TV_EINVAL;
    }
    int rc = conn_open(c);
    if (rc != 0) {
        free(c);
        return rc;
    }
    ctx->open++;
    *out = c;
    return TV_OK;
}

void tvz_conn_free(tvz_conn *c)
{
    if (!c) return;
    msg_release(&c->cur, &c->cur_live);
    conn_close(c);
    c->ctx->open--;
    free(c);
}

int tvz_conn_reset(tvz_conn *c)
{
    conn_events_pump(c);
    conn_close(c);
    if (c->st.up) {
        c->st.up = 0;
        c->st.downs++;
        conn_event_push(c, TVZ_EVENT_DOWN, 0);
    }
    c->st.resets++;
    c->st.stalled = 0;
    return conn_open(c);
}

int tvz_conn_recv(tvz_conn *c, tvz_msg *msg)
{
    msg_release(&c->cur, &c->cur_live);
    if (!c->sock) return TV_EIO;
    for (int skipped = 0; skipped < RECV_SKIP_MAX; skipped++) {
        zmq_msg_init(&c->cur);
        if (zmq_msg_recv(&c->cur, c->sock, ZMQ_DONTWAIT) < 0) {
            int rc = err_from_zmq();
            zmq_msg_close(&c->cur);
            return rc;
        }
        c->cur_live = true;
        if (zmq_msg_more(&c->cur) || zmq_msg_size(&c->cur) > c->ctx->cfg.msg_bytes_max) {
            drain_more(c->sock, &c->cur);
            msg_release(&c->cur, &c->cur_live);
            continue;
        }
        /* CURVE proved the server holds the key we configured. */
        memcpy(msg->from, c->server_ed, TV_NODE_ID_BYTES);
        memset(&msg->rid, 0, sizeof msg->rid);
        msg->data = zmq_msg_data(&c->cur);
        msg->len = zmq_msg_size(&c->cur);
        return TV_OK;
    }
    return TV_EBUSY;
}

int tvz_conn_send(tvz_conn *c, const uint8_t *buf, size_t len)
{
    if (len > c->ctx->cfg.msg_bytes_max) return TV_ELIMIT;
    if (!c->sock) return TV_EIO;
    if (zmq_send(c->sock, buf, len, ZMQ_DONTWAIT) >= 0) return TV_OK;
    if (zmq_errno() != EAGAIN) return err_from_zmq();
    /* zmq_send throttles the processing of libzmq's internal commands, so a link whose UP
     * event was already read may not be attached yet; reading ZMQ_EVENTS processes them. */
    int events;
    size_t size = sizeof events;
    zmq_getsockopt(c->sock, ZMQ_EVENTS, &events, &size);
    if (zmq_send(c->sock, buf, len, ZMQ_DONTWAIT) < 0) return err_from_zmq();
    return TV_OK;
}

int tvz_conn_event_next(tvz_conn *c, tvz_event *ev)
{
    conn_events_pump(c);
    if (c->ring_len == 0) return TV_EBUSY;
    *ev = c->ring[c->ring_head];
    c->ring_head = (c->ring_head + 1) % TVZ_EVENTS_QUEUED_MAX;
    c->ring_len--;
    return TV_OK;
}

void tvz_conn_status_get(tvz_conn *c, tvz_conn_status *out)
{
    conn_events_pump(c);
    *out = c->st;
}

const uint8_t *tvz_conn_server_pk(const tvz_conn *c)
{
    return c->server_ed;
}

/* ---- polling ---- */

int tvz_poll(tvz_poll_item *items, size_t n, long timeout_ms)
{
    if (n > TVZ_POLL_ITEMS_MAX) return TV_EINVAL;
    zmq_pollitem_t zi[2 * TVZ_POLL_ITEMS_MAX];
    size_t owner[2 * TVZ_POLL_ITEMS_MAX]; /* index into items of each zi entry */
    size_t k = 0;
    bool pending = false;
    for (size_t i = 0; i < n; i++) {
        tvz_poll_item *it = &items[i];
        it->ready = 0;
        if (it->listener) {
            zi[k] = (zmq_pollitem_t){it->listener->sock, 0, ZMQ_POLLIN, 0};
            owner[k++] = i;
        } else if (it->conn) {
            conn_events_pump(it->conn);
            pending |= it->conn->ring_len > 0;
            if (!it->conn->sock) continue;
            zi[k] = (zmq_pollitem_t){it->conn->sock, 0, ZMQ_POLLIN, 0};
            owner[k++] = i;
            zi[k] = (zmq_pollitem_t){it->conn->mon, 0, ZMQ_POLLIN, 0};
            owner[k++] = i;
        } else {
            zi[k] = (zmq_pollitem_t){NULL, it->fd, ZMQ_POLLIN, 0};
            owner[k++] = i;
        }
    }
    /* Events already read from libzmq make their connection ready now. */
    if (pending) timeout_ms = 0;
    if (zmq_poll(zi, (int)k, timeout_ms) < 0) {
        if (zmq_errno() != EINTR) {
            int rc = err_from_zmq();
            return rc == TV_ENOMEM ? rc : TV_EIO;
        }
        for (size_t j = 0; j < k; j++)
            zi[j].revents = 0;
    }
    for (size_t j = 0; j < k; j++) {
        tvz_poll_item *it = &items[owner[j]];
        if (!(zi[j].revents & ZMQ_POLLIN)) continue;
        if (it->listener)
            it->ready |= TVZ_READY_MSG;
        else if (!it->conn)
            it->ready |= TVZ_READY_FD;
        else if (zi[j].socket == it->conn->sock)
            it->ready |= TVZ_READY_MSG;
    }
    int ready = 0;
    for (size_t i = 0; i < n; i++) {
        tvz_poll_item *it = &items[i];
        if (it->conn && !it->listener) {
            conn_events_pump(it->conn);
            if (it->conn->ring_len > 0) it->ready |= TVZ_READY_EVENT;
        }
        if (it->ready) ready++;
    }
    return ready;
}
