/* Tests for net/zmq.c over real CurveZMQ sockets on loopback: admission by Ed25519 key,
 * sender attribution, size limits, revocation, wrong server keys, and reconnects.
 *
 * Every listener binds "tcp://127.0.0.1:*", so parallel runs never share a port. Nothing
 * waits on a clock: each wait is a bounded loop of tvz_poll calls, and a test fails when the
 * bound runs out rather than when something is slow. */
#include "crdt/error.h"
#include "net/zmq.h"
#include "test_util.h"

#include <errno.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <unistd.h>
#include <cmocka.h>

/* One wait polls at most WAIT_POLLS_MAX times for WAIT_POLL_MS each: ten seconds before a
 * test gives up, far beyond what loopback needs. */
#define WAIT_POLL_MS 100
#define WAIT_POLLS_MAX 100
#define ANY "tcp://127.0.0.1:*"

typedef struct node {
    crdt_identity id;
    tvz_ctx *ctx;
} node;

/* Short reconnect intervals keep the reconnect tests quick; linger 0 keeps teardown quick. */
static tvz_config fast_config(void)
{
    tvz_config c;
    tvz_config_default(&c);
    c.reconnect_ivl_ms = 20;
    c.reconnect_ivl_max_ms = 100;
    c.linger_ms = 0;
    return c;
}

static void node_init(node *n, uint8_t seed, const tvz_config *cfg)
{
    test_identity(&n->id, seed);
    assert_int_equal(tvz_ctx_new(&n->id, cfg, &n->ctx), TV_OK);
}

static void node_release(node *n)
{
    tvz_ctx_free(n->ctx);
    crdt_identity_wipe(&n->id);
}

static tvz_listener *listen_any(node *n)
{
    tvz_listener *l;
    assert_int_equal(tvz_listener_new(n->ctx, ANY, &l), TV_OK);
    return l;
}

static tvz_conn *connect_to(node *from, const tvz_listener *l, const uint8_t server_pk[32])
{
    tvz_conn *c;
    assert_int_equal(tvz_conn_new(from->ctx, tvz_listener_endpoint(l), server_pk, &c), TV_OK);
    return c;
}

/* Receives the next message on l, waiting within the bound. */
static void listener_wait(tvz_listener *l, tvz_msg *m)
{
    for (int i = 0; i < WAIT_POLLS_MAX; i++) {
        int rc = tvz_listener_recv(l, m);
        if (rc == TV_OK) return;
        assert_int_equal(rc, TV_EBUSY);
        tvz_poll_item it = {.listener = l};
        assert_true(tvz_poll(&it, 1, WAIT_POLL_MS) >= 0);
    }
    fail_msg("no message reached the listener");
}

static void conn_wait_msg(tvz_conn *c, tvz_msg *m)
{
    for (int i = 0; i < WAIT_POLLS_MAX; i++) {
        int rc = tvz_conn_recv(c, m);
        if (rc == TV_OK) return;
        assert_int_equal(rc, TV_EBUSY);
        tvz_event ev;
        while (tvz_conn_event_next(c, &ev) == TV_OK) {
        }
        tvz_poll_item it = {.conn = c};
        assert_true(tvz_poll(&it, 1, WAIT_POLL_MS) >= 0);
    }
    fail_msg("no message reached the connection");
}

static uint64_t status_count(const tvz_conn_status *st, tvz_event_kind kind)
{
    switch (kind) {
    case TVZ_EVENT_UP:
        return st->ups;
    case TVZ_EVENT_DOWN:
        return st->downs;
    case TVZ_EVENT_REFUSED:
        return st->refused;
    case TVZ_EVENT_FAILED:
        return st->failed;
    }
    return 0;
}

/* Waits until c has seen more than `seen` events of `kind` in all; returns its status. */
static tvz_conn_status conn_wait_more(tvz_conn *c, tvz_event_kind kind, uint64_t seen)
{
    tvz_conn_status st;
    for (int i = 0; i < WAIT_POLLS_MAX; i++) {
        tvz_event ev;
        while (tvz_conn_event_next(c, &ev) == TV_OK) {
        }
        tvz_conn_status_get(c, &st);
        if (status_count(&st, kind) > seen) return st;
        tvz_poll_item it = {.conn = c};
        assert_true(tvz_poll(&it, 1, WAIT_POLL_MS) >= 0);
    }
    fail_msg("connection never reported event %d", (int)kind);
    return st;
}

static tvz_conn_status conn_status(tvz_conn *c)
{
    tvz_conn_status st;
    tvz_conn_status_get(c, &st);
    return st;
}

static void send_str(tvz_conn *c, const char *s)
{
    assert_int_equal(tvz_conn_send(c, (const uint8_t *)s, strlen(s)), TV_OK);
}

static void assert_msg(const tvz_msg *m, const uint8_t from[32], const char *s)
{
    assert_memory_equal(m->from, from, 32);
    assert_int_equal(m->len, strlen(s));
    assert_memory_equal(m->data, s, m->len);
}

/* A 256 KiB message, a message of exactly the limit and small ones travel both ways, each
 * carrying its authenticated sender; replies reach the client by routing id and by key. */
static void test_roundtrip_and_limits(void **state)
{
    node s, a;
    node_init(&s, 1, NULL);
    node_init(&a, 2, NULL);
    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK);
    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK); /* idempotent */
    tvz_listener *l = listen_any(&s);
    assert_true(strncmp(tvz_listener_endpoint(l), "tcp://127.0.0.1:", 16) == 0);
    assert_string_not_equal(tvz_listener_endpoint(l), ANY);
    tvz_conn *c = connect_to(&a, l, s.id.pk);
    assert_memory_equal(tvz_conn_server_pk(c), s.id.pk, 32);
    tvz_conn_status st = conn_wait_more(c, TVZ_EVENT_UP, 0);
    assert_int_equal(st.up, 1);

    tvz_msg m;
    send_str(c, "hello");
    listener_wait(l, &m);
    assert_msg(&m, a.id.pk, "hello");
    tvz_rid rid = m.rid;
    assert_true(rid.len > 0);

    assert_int_equal(tvz_listener_send(l, &rid, (const uint8_t *)"by rid", 6), TV_OK);
    conn_wait_msg(c, &m);
    assert_msg(&m, s.id.pk, "by rid");
    assert_int_equal(m.rid.len, 0);
    assert_int_equal(tvz_listener_send_to(l, a.id.pk, (const uint8_t *)"by key", 6), TV_OK);
    conn_wait_msg(c, &m);
    assert_msg(&m, s.id.pk, "by key");

    fx_rng rng = {42};
    uint8_t *big = malloc(TVZ_MSG_BYTES_MAX + 1);
    assert_non_null(big);
    fx_rng_bytes(&rng, big, TVZ_MSG_BYTES_MAX + 1);
    const size_t sizes[] = {256 * 1024, TVZ_MSG_BYTES_MAX, 0};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        assert_int_equal(tvz_conn_send(c, big, sizes[i]), TV_OK);
        listener_wait(l, &m);
        assert_memory_equal(m.from, a.id.pk, 32);
        assert_int_equal(m.len, sizes[i]);
        if (sizes[i]) assert_memory_equal(m.data, big, sizes[i]);
        assert_int_equal(tvz_listener_send_to(l, a.id.pk, big + 1, sizes[i]), TV_OK);
        conn_wait_msg(c, &m);
        assert_int_equal(m.len, sizes[i]);
        if (sizes[i]) assert_memory_equal(m.data, big + 1, sizes[i]);
    }
    /* One byte over is refused before it reaches a socket. */
    assert_int_equal(tvz_conn_send(c, big, TVZ_MSG_BYTES_MAX + 1), TV_ELIMIT);
    assert_int_equal(tvz_listener_send_to(l, a.id.pk, big, TVZ_MSG_BYTES_MAX + 1), TV_ELIMIT);
    assert_int_equal(tvz_listener_send(l, &rid, big, TVZ_MSG_BYTES_MAX + 1), TV_ELIMIT);
    free(big);

    assert_int_equal(tvz_listener_recv(l, &m), TV_EBUSY);
    assert_int_equal(tvz_conn_recv(c, &m), TV_EBUSY);
    tvz_zap_stats zs;
    tvz_ctx_stats(s.ctx, &zs);
    assert_int_equal(zs.admitted, 1);
    assert_int_equal(zs.refused, 0);
    tvz_listener_stats ls;
    tvz_listener_stats_get(l, &ls);
    assert_int_equal(ls.delivered, 4);
    assert_int_equal(ls.dropped_malformed + ls.dropped_revoked + ls.dropped_unauthenticated, 0);

    tvz_conn_free(c);
    tvz_listener_free(l);
    node_release(&a);
    node_release(&s);
}

/* A peer that sends more than the listener's limit is cut off by libzmq: the message is
 * never delivered, the client sees its link drop, reconnects, and later messages arrive.
 * A payload of exactly the limit passes, so the CURVE overhead is accounted exactly. */
static void test_oversize_disconnects(void **state)
{
    enum { LIMIT = 64 * 1024 };
    tvz_config small = fast_config(), fast = fast_config();
    small.msg_bytes_max = LIMIT;
    node s, a;
    node_init(&s, 1, &small);
    node_init(&a, 2, &fast);
    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK);
    tvz_listener *l = listen_any(&s);
    tvz_conn *c = connect_to(&a, l, s.id.pk);
    conn_wait_more(c, TVZ_EVENT_UP, 0);

    uint8_t *buf = calloc(1, LIMIT + 1);
    assert_non_null(buf);
    memset(buf, 0xa5, LIMIT + 1);
    tvz_msg m;
    assert_int_equal(tvz_conn_send(c, buf, LIMIT), TV_OK);
    listener_wait(l, &m);
    assert_int_equal(m.len, LIMIT);

    assert_int_equal(tvz_conn_send(c, buf, LIMIT + 1), TV_OK);
    tvz_conn_status st = conn_wait_more(c, TVZ_EVENT_DOWN, 0);
    assert_int_equal(st.downs, 1);
    conn_wait_more(c, TVZ_EVENT_UP, 1);
    send_str(c, "after");
    listener_wait(l, &m);
    assert_msg(&m, a.id.pk, "after");
    assert_int_equal(tvz_listener_recv(l, &m), TV_EBUSY);

    tvz_listener_stats ls;
    tvz_listener_stats_get(l, &ls);
    assert_int_equal(ls.delivered, 2);
    assert_int_equal(ls.dropped_malformed, 0); /* libzmq dropped it, not the recv filter */
    free(buf);
    tvz_conn_free(c);
    tvz_listener_free(l);
    node_release(&a);
    node_release(&s);
}

/* A key nobody allowed is refused with status 400 at the handshake; with ZMQ_IMMEDIATE its
 * client cannot even queue a message, and an admitted client's marker arrives alone. */
static void test_unknown_key_refused(void **state)
{
    tvz_config fast = fast_config();
    node s, a, u;
    node_init(&s, 1, &fast);
    node_init(&a, 2, &fast);
    node_init(&u, 3, &fast);
    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK);
    tvz_listener *l = listen_any(&s);
    tvz_conn *cu = connect_to(&u, l, s.id.pk);
    tvz_conn_status st = conn_wait_more(cu, TVZ_EVENT_REFUSED, 0);
    assert_int_equal(st.last_refusal, 400);
    assert_int_equal(st.up, 0);
    assert_int_equal(st.ups, 0);
    assert_int_equal(tvz_conn_send(cu, (const uint8_t *)"intruder", 8), TV_EBUSY);

    tvz_conn *ca = connect_to(&a, l, s.id.pk);
    conn_wait_more(ca, TVZ_EVENT_UP, 0);
    send_str(ca, "marker");
    tvz_msg m;
    listener_wait(l, &m);
    assert_msg(&m, a.id.pk, "marker");
    assert_int_equal(tvz_listener_recv(l, &m), TV_EBUSY);

    tvz_zap_stats zs;
    tvz_ctx_stats(s.ctx, &zs);
    assert_true(zs.refused >= 1);
    assert_int_equal(zs.admitted, 1);
    st = conn_status(cu);
    assert_int_equal(st.ups, 0);
    assert_int_equal(st.stalled, 1);

    /* libzmq does not retry a refused client; once allowed, a reset gets it in. */
    assert_int_equal(tvz_allow(s.ctx, u.id.pk), TV_OK);
    assert_int_equal(tvz_conn_reset(cu), TV_OK);
    st = conn_wait_more(cu, TVZ_EVENT_UP, 0);
    assert_int_equal(st.stalled, 0);
    send_str(cu, "welcome");
    listener_wait(l, &m);
    assert_msg(&m, u.id.pk, "welcome");

    tvz_conn_free(ca);
    tvz_conn_free(cu);
    tvz_listener_free(l);
    node_release(&u);
    node_release(&a);
    node_release(&s);
}

/* Revoking a key drops its messages at once on the connection it already has, stops
 * replies to it, and refuses its next handshake. */
static void test_revoked_key(void **state)
{
    tvz_config fast = fast_config();
    node s, a, b;
    node_init(&s, 1, &fast);
    node_init(&a, 2, &fast);
    node_init(&b, 4, &fast);
    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK);
    assert_int_equal(tvz_allow(s.ctx, b.id.pk), TV_OK);
    tvz_listener *l = listen_any(&s);
    tvz_conn *ca = connect_to(&a, l, s.id.pk);
    tvz_conn *cb = connect_to(&b, l, s.id.pk);
    conn_wait_more(ca, TVZ_EVENT_UP, 0);
    conn_wait_more(cb, TVZ_EVENT_UP, 0);
    tvz_msg m;
    send_str(ca, "before");
    listener_wait(l, &m);
    assert_msg(&m, a.id.pk, "before");

    assert_int_equal(tvz_deny(s.ctx, a.id.pk), TV_OK);
    assert_int_equal(tvz_deny(s.ctx, a.id.pk), TV_ENOTFOUND);
    /* ZAP does not see established links: this one is still up, its traffic is dropped. */
    send_str(ca, "after revocation");
    tvz_listener_stats ls = {0};
    for (int i = 0; i < WAIT_POLLS_MAX && ls.dropped_revoked == 0; i++) {
        assert_int_equal(tvz_listener_recv(l, &m), TV_EBUSY);
        tvz_listener_stats_get(l, &ls);
        tvz_poll_item it = {.listener = l};
        assert_true(tvz_poll(&it, 1, WAIT_POLL_MS) >= 0);
    }
    assert_int_equal(ls.dropped_revoked, 1);
    assert_int_equal(tvz_listener_send_to(l, a.id.pk, (const uint8_t *)"x", 1), TV_EPERM);

    /* A new connection by the revoked key is refused. */
    uint64_t refused = conn_status(ca).refused;
    assert_int_equal(tvz_conn_reset(ca), TV_OK);
    tvz_conn_status st = conn_wait_more(ca, TVZ_EVENT_REFUSED, refused);
    assert_int_equal(st.last_refusal, 400);
    assert_int_equal(st.up, 0);
    assert_int_equal(st.ups, 1);
    assert_int_equal(st.resets, 1);

    send_str(cb, "marker");
    listener_wait(l, &m);
    assert_msg(&m, b.id.pk, "marker");
    assert_int_equal(tvz_listener_recv(l, &m), TV_EBUSY);

    tvz_conn_free(cb);
    tvz_conn_free(ca);
    tvz_listener_free(l);
    node_release(&b);
    node_release(&a);
    node_release(&s);
}

/* A client that expects another server key never completes a handshake, so it can send
 * nothing; the same client with the right key gets through. */
static void test_wrong_server_key(void **state)
{
    tvz_config fast = fast_config();
    node s, a, x;
    node_init(&s, 1, &fast);
    node_init(&a, 2, &fast);
    test_identity(&x.id, 9);
    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK);
    tvz_listener *l = listen_any(&s);
    tvz_conn *cw = connect_to(&a, l, x.id.pk);
    tvz_conn_status st = conn_wait_more(cw, TVZ_EVENT_FAILED, 0);
    assert_int_equal(st.up, 0);
    assert_int_equal(st.ups, 0);
    assert_int_equal(tvz_conn_send(cw, (const uint8_t *)"lost", 4), TV_EBUSY);

    tvz_conn *ca = connect_to(&a, l, s.id.pk);
    conn_wait_more(ca, TVZ_EVENT_UP, 0);
    send_str(ca, "marker");
    tvz_msg m;
    listener_wait(l, &m);
    assert_msg(&m, a.id.pk, "marker");
    assert_int_equal(tvz_listener_recv(l, &m), TV_EBUSY);
    assert_int_equal(conn_status(cw).ups, 0);
    /* The server could not open the client's hello, so ZAP was never asked. */
    tvz_zap_stats zs;
    tvz_ctx_stats(s.ctx, &zs);
    assert_int_equal(zs.admitted, 1);
    assert_int_equal(zs.refused, 0);

    tvz_conn_free(ca);
    tvz_conn_free(cw);
    tvz_listener_free(l);
    crdt_identity_wipe(&x.id);
    node_release(&a);
    node_release(&s);
}

typedef struct admit_rule {
    int verdict; /* -1: admit only `only`; otherwise the answer for everyone */
    uint8_t only[32];
    atomic_int calls;
} admit_rule;

static int admit_by_rule(const uint8_t pk[32], void *arg)
{
    admit_rule *r = arg;
    atomic_fetch_add(&r->calls, 1);
    if (r->verdict >= 0) return r->verdict;
    return memcmp(pk, r->only, 32) == 0;
}

/* Reset c and wait until the new socket is refused; returns the ZAP status code. */
static uint32_t reset_until_refused(tvz_conn *c)
{
    uint64_t refused = conn_status(c).refused;
    assert_int_equal(tvz_conn_reset(c), TV_OK);
    return conn_wait_more(c, TVZ_EVENT_REFUSED, refused).last_refusal;
}

/* With no allowed keys nobody gets in, whatever the callback says; an allowed key needs
 * the callback's consent too. */
static void test_fail_closed(void **state)
{
    tvz_config fast = fast_config();
    node s, a;
    node_init(&s, 1, &fast);
    node_init(&a, 2, &fast);
    tvz_listener *l = listen_any(&s);
    tvz_conn *c = connect_to(&a, l, s.id.pk);
    assert_int_equal(conn_wait_more(c, TVZ_EVENT_REFUSED, 0).last_refusal, 400);

    static admit_rule rule; /* read by the ZAP thread until the context is freed */
    rule.verdict = 1;
    atomic_store(&rule.calls, 0);
    tvz_admit_set(s.ctx, admit_by_rule, &rule);
    assert_int_equal(reset_until_refused(c), 400);
    assert_int_equal(atomic_load(&rule.calls), 0); /* unknown keys never reach it */

    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK);
    rule.verdict = 0;
    assert_int_equal(reset_until_refused(c), 400);
    assert_true(atomic_load(&rule.calls) >= 1);

    rule.verdict = -1;
    memcpy(rule.only, a.id.pk, 32);
    uint64_t ups = conn_status(c).ups;
    assert_int_equal(tvz_conn_reset(c), TV_OK);
    conn_wait_more(c, TVZ_EVENT_UP, ups);
    send_str(c, "in");
    tvz_msg m;
    listener_wait(l, &m);
    assert_msg(&m, a.id.pk, "in");

    tvz_conn_free(c);
    tvz_listener_free(l);
    node_release(&a);
    node_release(&s);
}

/* The listener closes and a new one binds the same endpoint at once; the client's link
 * comes back on its own and its next messages arrive. */
static void test_reconnect_after_listener_restart(void **state)
{
    tvz_config fast = fast_config();
    node s, a;
    node_init(&s, 1, &fast);
    node_init(&a, 2, &fast);
    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK);
    tvz_listener *l = listen_any(&s);
    char ep[TVZ_ENDPOINT_MAX];
    snprintf(ep, sizeof ep, "%s", tvz_listener_endpoint(l));
    tvz_conn *c = connect_to(&a, l, s.id.pk);
    conn_wait_more(c, TVZ_EVENT_UP, 0);
    tvz_msg m;
    send_str(c, "one");
    listener_wait(l, &m);
    assert_msg(&m, a.id.pk, "one");

    tvz_listener_free(l);
    /* libzmq reports DOWN before it detaches the link, so a send right now could still be
     * accepted, and lost: nothing is sent until the link is back. */
    conn_wait_more(c, TVZ_EVENT_DOWN, 0);
    assert_int_equal(tvz_listener_new(s.ctx, ep, &l), TV_OK);
    assert_string_equal(tvz_listener_endpoint(l), ep);
    conn_wait_more(c, TVZ_EVENT_UP, 1);
    send_str(c, "two");
    listener_wait(l, &m);
    assert_msg(&m, a.id.pk, "two");
    tvz_zap_stats zs;
    tvz_ctx_stats(s.ctx, &zs);
    assert_int_equal(zs.admitted, 2);

    /* The port is taken while the listener lives. */
    tvz_listener *dup;
    assert_int_equal(tvz_listener_new(s.ctx, ep, &dup), TV_EIO);
    assert_int_equal(errno, EADDRINUSE);
    assert_null(dup);

    tvz_conn_free(c);
    tvz_listener_free(l);
    node_release(&a);
    node_release(&s);
}

/* Sending to a peer that has gone fails with TV_ENOTFOUND once libzmq has seen the link
 * close, and never blocks. */
static void test_send_to_gone_peer(void **state)
{
    tvz_config fast = fast_config();
    node s, a;
    node_init(&s, 1, &fast);
    node_init(&a, 2, &fast);
    assert_int_equal(tvz_allow(s.ctx, a.id.pk), TV_OK);
    tvz_listener *l = listen_any(&s);
    tvz_conn *c = connect_to(&a, l, s.id.pk);
    conn_wait_more(c, TVZ_EVENT_UP, 0);
    tvz_msg m;
    send_str(c, "hi");
    listener_wait(l, &m);
    tvz_rid rid = m.rid;
    tvz_conn_free(c);

    int rc = TV_OK;
    for (int i = 0; i < WAIT_POLLS_MAX && rc == TV_OK; i++) {
        rc = tvz_listener_send(l, &rid, (const uint8_t *)"x", 1);
        tvz_poll_item it = {.listener = l};
        assert_true(tvz_poll(&it, 1, WAIT_POLL_MS) >= 0);
    }
    assert_int_equal(rc, TV_ENOTFOUND);
    assert_int_equal(tvz_listener_send_to(l, a.id.pk, (const uint8_t *)"x", 1), TV_ENOTFOUND);
    assert_int_equal(tvz_listener_send_to(l, a.id.pk, (const uint8_t *)"x", 1), TV_ENOTFOUND);
    tvz_rid unknown = {.len = 3, .bytes = "abc"}, empty = {0};
    assert_int_equal(tvz_listener_send(l, &unknown, (const uint8_t *)"x", 1), TV_ENOTFOUND);
    assert_int_equal(tvz_listener_send(l, &empty, (const uint8_t *)"x", 1), TV_EINVAL);

    tvz_listener_free(l);
    node_release(&a);
    node_release(&s);
}

/* Configuration, keys, endpoints and poll arguments are checked; a plain descriptor can
 * wake tvz_poll. */
static void test_arguments_and_fd_poll(void **state)
{
    crdt_identity id;
    test_identity(&id, 5);
    tvz_ctx *ctx = NULL;
    tvz_config cfg;
    tvz_config_default(&cfg);
    cfg.msg_bytes_max = TVZ_MSG_BYTES_MAX + 1;
    assert_int_equal(tvz_ctx_new(&id, &cfg, &ctx), TV_EINVAL);
    assert_null(ctx);
    tvz_config_default(&cfg);
    cfg.heartbeat_ttl_ms = 150;
    assert_int_equal(tvz_ctx_new(&id, &cfg, &ctx), TV_EINVAL);
    tvz_config_default(&cfg);
    cfg.heartbeat_timeout_ms = cfg.heartbeat_ivl_ms;
    assert_int_equal(tvz_ctx_new(&id, &cfg, &ctx), TV_EINVAL);
    assert_int_equal(tvz_ctx_new(&id, NULL, &ctx), TV_OK);

    uint8_t bad[32] = {0};
    assert_int_equal(tvz_allow(ctx, bad), TV_EINVAL);
    assert_int_equal(tvz_deny(ctx, id.pk), TV_ENOTFOUND);
    tvz_conn *c = NULL;
    assert_int_equal(tvz_conn_new(ctx, "tcp://127.0.0.1:1", bad, &c), TV_EINVAL);
    assert_null(c);
    tvz_listener *l = NULL;
    assert_int_equal(tvz_listener_new(ctx, "no-scheme", &l), TV_EINVAL);
    assert_null(l);

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    tvz_poll_item it[2] = {{.fd = fds[0]}, {.fd = fds[0]}};
    assert_int_equal(tvz_poll(it, 1, 0), 0);
    assert_int_equal(it[0].ready, 0);
    assert_int_equal(write(fds[1], "!", 1), 1);
    assert_int_equal(tvz_poll(it, 2, -1), 2);
    assert_int_equal(it[0].ready, TVZ_READY_FD);
    assert_int_equal(tvz_poll(NULL, 0, 0), 0);
    assert_int_equal(tvz_poll(it, TVZ_POLL_ITEMS_MAX + 1, 0), TV_EINVAL);
    close(fds[0]);
    close(fds[1]);

    tvz_ctx_free(ctx);
    tvz_ctx_free(NULL);
    crdt_identity_wipe(&id);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_and_limits),
        cmocka_unit_test(test_oversize_disconnects),
        cmocka_unit_test(test_unknown_key_refused),
        cmocka_unit_test(test_revoked_key),
        cmocka_unit_test(test_wrong_server_key),
        cmocka_unit_test(test_fail_closed),
        cmocka_unit_test(test_reconnect_after_listener_restart),
        cmocka_unit_test(test_send_to_gone_peer),
        cmocka_unit_test(test_arguments_and_fd_poll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
