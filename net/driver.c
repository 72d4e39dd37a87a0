/* The one loop that drives the replication protocol (see driver.h). */
#include "net/driver.h"
#include "crdt/error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct tv_driver {
    tv_driver_config cfg;
    tv_driver_ops ops;
    tv_driver_session *sess;
    uint32_t nsess;
    tv_driver_link links[TV_DRIVER_LINKS_MAX];
    uint32_t nlinks;
    int active_parent;  /* index into links of the parent being tried; -1 none */
    uint32_t fallbacks; /* parents given up on so far */
    int gave_up;
    int notified;                /* tv_driver_notify since the last look */
    uint64_t store_events;       /* events held at the last look: a change means new data */
    crdt_vv vv_last, vv_changed; /* the store's vector at the last look, what it gained */
    uint8_t *buf;
};

static uint64_t store_events(store *st)
{
    store_txn *t;
    store_counts c = {0};
    if (store_read_begin(st, &t) == 0) {
        (void)store_counts_get(t, &c);
        store_read_end(t);
    }
    return c.events;
}

int tv_driver_new(tv_driver **out, const tv_driver_config *cfg, const tv_driver_ops *ops)
{
    *out = NULL;
    if (!cfg->st || !cfg->self || !cfg->sessions_max || !ops->send || !ops->now_ms)
        return TV_EINVAL;
    tv_driver *d = calloc(1, sizeof *d);
    if (!d) return TV_ENOMEM;
    d->cfg = *cfg;
    d->ops = *ops;
    d->active_parent = -1;
    crdt_vv_init(&d->vv_last);
    crdt_vv_init(&d->vv_changed);
    d->sess = calloc(cfg->sessions_max, sizeof *d->sess);
    d->buf = malloc(SYNC_MSG_BYTES_MAX);
    int rc = d->sess && d->buf ? TV_OK : TV_ENOMEM;
    if (rc == 0) {
        d->store_events = store_events(cfg->st);
        rc = sync_store_changes(cfg->st, &d->vv_last, &d->vv_changed);
    }
    if (rc) {
        tv_driver_free(d);
        return rc;
    }
    *out = d;
    return TV_OK;
}

void tv_driver_free(tv_driver *d)
{
    if (!d) return;
    for (uint32_t i = 0; i < d->nsess; i++) {
        sync_peer_free(d->sess[i].s);
        free(d->sess[i].hold);
    }
    free(d->sess);
    crdt_vv_release(&d->vv_last);
    crdt_vv_release(&d->vv_changed);
    free(d->buf);
    free(d);
}

/* --- sessions -------------------------------------------------------------------- */

tv_driver_session *tv_driver_find(tv_driver *d, const uint8_t pk[TV_NODE_ID_BYTES])
{
    for (uint32_t i = 0; i < d->nsess; i++)
        if (memcmp(d->sess[i].pk, pk, TV_NODE_ID_BYTES) == 0) return &d->sess[i];
    return NULL;
}

tv_driver_session *tv_driver_sessions(tv_driver *d, uint32_t *n)
{
    *n = d->nsess;
    return d->sess;
}

int tv_driver_restart(tv_driver *d, tv_driver_session *s)
{
    sync_config cfg = {.st = d->cfg.st, .self = d->cfg.self};
    memcpy(cfg.epoch, d->cfg.epoch, SYNC_EPOCH_BYTES);
    if (s->s) sync_peer_free(s->s);
    s->s = NULL;
    free(s->hold);
    s->hold = NULL;
    s->hold_len = 0;
    s->closed_ms = 0;
    s->reported = 0;
    return sync_peer_new(&s->s, &cfg, s->pk, d->ops.now_ms(d->ops.arg));
}

tv_driver_session *tv_driver_open(tv_driver *d, const uint8_t pk[TV_NODE_ID_BYTES], int link)
{
    tv_driver_session *s = tv_driver_find(d, pk);
    if (s) return s;
    if (d->nsess == d->cfg.sessions_max) return NULL;
    s = &d->sess[d->nsess++];
    memset(s, 0, sizeof *s);
    memcpy(s->pk, pk, TV_NODE_ID_BYTES);
    s->link = link;
    if (tv_driver_restart(d, s)) {
        d->nsess--;
        return NULL;
    }
    return s;
}

void tv_driver_drop(tv_driver *d, const uint8_t pk[TV_NODE_ID_BYTES])
{
    tv_driver_session *s = tv_driver_find(d, pk);
    if (!s) return;
    sync_peer_free(s->s);
    free(s->hold);
    *s = d->sess[--d->nsess];
}

int tv_driver_deliver(tv_driver *d, const uint8_t from[TV_NODE_ID_BYTES], int link,
                      const uint8_t *msg, size_t len)
{
    tv_driver_session *s = tv_driver_find(d, from);
    /* a HELLO on a session that already had one: the peer started afresh */
    int hello = len >= 2 && msg[0] >= 0x90 && msg[0] <= 0x9f && msg[1] == 1;
    if (s && hello && d->cfg.hello_restarts) {
        sync_stats st;
        sync_peer_stats(s->s, &st);
        if (st.msgs_in > 0 || st.state == SYNC_CLOSED || st.state == SYNC_DEAD) {
            int rc = tv_driver_restart(d, s);
            if (rc) return rc;
        }
    }
    if (!s && !(s = tv_driver_open(d, from, link))) return TV_OK; /* full: ignored */
    int rc = sync_peer_recv(s->s, msg, len, d->ops.now_ms(d->ops.arg));
    if (rc && rc != TV_EDECODE && rc != TV_EVERSION && rc != TV_EPERM && rc != TV_EUNTRUSTED &&
        rc != TV_EREVOKED && rc != TV_ELIMIT)
        return rc;
    return TV_OK;
}

void tv_driver_notify(tv_driver *d)
{
    d->notified = 1;
}

/* Sends what the session has to say, as far as the transport takes it. */
static int pump(tv_driver *d, tv_driver_session *s, int64_t now)
{
    for (;;) {
        if (!s->hold) {
            size_t len;
            int rc = sync_peer_send(s->s, d->buf, SYNC_MSG_BYTES_MAX, &len, now);
            if (rc) return rc;
            if (len == 0) return TV_OK;
            if (!(s->hold = malloc(len))) return TV_ENOMEM;
            memcpy(s->hold, d->buf, len);
            s->hold_len = len;
        }
        int rc = d->ops.send(d->ops.arg, s, s->hold, s->hold_len);
        if (rc == TV_EBUSY) return TV_OK;           /* try again on the next turn */
        if (rc == TV_ENOTFOUND || rc == TV_EPERM) { /* gone, or no longer admitted */
            free(s->hold);
            s->hold = NULL;
            /* a key denied since (revoked, or a key above it revoked: T7): its session
             * ends, the node goes on */
            if (rc == TV_EPERM) sync_peer_close(s->s, TV_EREVOKED);
            return TV_OK;
        }
        free(s->hold);
        s->hold = NULL;
        if (rc) return rc;
    }
}

void tv_driver_close_all(tv_driver *d)
{
    for (uint32_t i = 0; i < d->nsess; i++) {
        sync_peer_close(d->sess[i].s, 0);
        (void)pump(d, &d->sess[i], d->ops.now_ms(d->ops.arg));
    }
}

int64_t tv_driver_wake(const tv_driver *d, int64_t now, int64_t latest)
{
    int64_t wake = latest;
    for (uint32_t i = 0; i < d->nsess; i++) {
        int64_t e = sync_peer_expiry(d->sess[i].s);
        if (e < wake) wake = e;
        if (d->sess[i].hold && now + TV_DRIVER_HOLD_WAIT_MS < wake)
            wake = now + TV_DRIVER_HOLD_WAIT_MS; /* a message waits for the transport */
    }
    return wake;
}

/* --- links ----------------------------------------------------------------------- */

int tv_driver_link_add(tv_driver *d, const uint8_t key[TV_NODE_ID_BYTES], int has_key, int parent)
{
    if (d->nlinks == TV_DRIVER_LINKS_MAX) return TV_ELIMIT;
    tv_driver_link *l = &d->links[d->nlinks];
    memset(l, 0, sizeof *l);
    if (has_key) memcpy(l->key, key, TV_NODE_ID_BYTES);
    l->has_key = has_key;
    l->parent = parent;
    return (int)d->nlinks++;
}

static int link_connect(tv_driver *d, int i)
{
    int rc = d->ops.connect ? d->ops.connect(d->ops.arg, i) : TV_EINVAL;
    if (rc) return rc;
    d->links[i].connected = 1;
    d->links[i].since = d->ops.now_ms(d->ops.arg);
    return TV_OK;
}

static void link_drop(tv_driver *d, int i)
{
    tv_driver_link *l = &d->links[i];
    if (d->ops.disconnect) d->ops.disconnect(d->ops.arg, i);
    l->connected = 0;
    tv_driver_session *s = tv_driver_find(d, l->key);
    if (s && s->link == i) tv_driver_drop(d, l->key);
}

void tv_driver_links_start(tv_driver *d)
{
    d->active_parent = -1;
    for (uint32_t i = 0; i < d->nlinks; i++) {
        if (d->links[i].parent) {
            if (d->active_parent < 0 && d->links[i].has_key) {
                d->active_parent = (int)i;
                (void)link_connect(d, (int)i);
            }
        } else {
            (void)link_connect(d, (int)i); /* peers: always */
        }
    }
}

int tv_driver_link_up(tv_driver *d, int link)
{
    tv_driver_link *l = &d->links[link];
    l->ever_up = 1;
    int existed = tv_driver_find(d, l->key) != NULL;
    tv_driver_session *s = tv_driver_open(d, l->key, link);
    /* a link that comes back may have lost messages on the way (ZeroMQ drops them across
     * reconnects): start the session afresh */
    if (s && existed) (void)tv_driver_restart(d, s);
    return TV_OK;
}

int tv_driver_active_parent(const tv_driver *d)
{
    return d->active_parent;
}
const tv_driver_link *tv_driver_link_get(const tv_driver *d, int link)
{
    return &d->links[link];
}
uint32_t tv_driver_nlinks(const tv_driver *d)
{
    return d->nlinks;
}
int tv_driver_gave_up(const tv_driver *d)
{
    return d->gave_up;
}

/* Moves to the next parent when the current one has not answered in time. */
static int next_parent(tv_driver *d)
{
    int n = (int)d->nlinks, start = d->active_parent;
    for (int k = 1; k <= n; k++) {
        int i = (start + k) % n;
        if (!d->links[i].parent || !d->links[i].has_key) continue;
        if (i == start && !d->cfg.once) return TV_OK;
        link_drop(d, start);
        d->active_parent = i;
        if (i != start && d->ops.trying) d->ops.trying(d->ops.arg, i);
        return link_connect(d, i);
    }
    return TV_ENOTFOUND;
}

/* A parent that does not answer: the next one. */
static void parent_fallback(tv_driver *d, int64_t now)
{
    if (d->active_parent < 0 || d->gave_up) return;
    tv_driver_link *l = &d->links[d->active_parent];
    tv_driver_session *s = tv_driver_find(d, l->key);
    int stuck = d->cfg.fallback_ms && !l->ever_up && now - l->since >= d->cfg.fallback_ms;
    int dead = s && sync_peer_state(s->s) == SYNC_DEAD;
    if (!stuck && !dead) return;
    if (d->ops.unreachable) d->ops.unreachable(d->ops.arg, d->active_parent);
    int cur = d->active_parent;
    uint32_t parents = 0;
    for (uint32_t i = 0; i < d->nlinks; i++)
        parents += d->links[i].parent;
    /* once: each parent gets one chance */
    if (d->cfg.once && ++d->fallbacks >= parents) {
        d->gave_up = 1;
        return;
    }
    if (next_parent(d) || (d->cfg.once && d->active_parent == cur)) d->gave_up = 1;
}

/* --- the loop -------------------------------------------------------------------- */

/* The default restart rule (driver.h, ops.restart). */
static int restart_due(tv_driver *d, const tv_driver_session *s, int64_t now)
{
    return s->link >= 0 && (uint32_t)s->link < d->nlinks && !d->cfg.once &&
           now - s->closed_ms >= d->cfg.restart_ms && d->links[s->link].connected;
}

/* Makes what arrived durable, then tells every session what is new. */
static int flush_announce(tv_driver *d, int64_t now)
{
    int rc = TV_OK, flushed = 0;
    for (uint32_t i = 0; i < d->nsess && rc == 0; i++)
        if (sync_peer_pending(d->sess[i].s)) {
            rc = sync_peer_flush(d->sess[i].s, now);
            flushed = 1;
        }
    if (rc) return rc;
    if (flushed && d->ops.flushed && (rc = d->ops.flushed(d->ops.arg))) return rc;
    if (!flushed && !d->notified && !d->cfg.poll_store) return TV_OK;
    d->notified = 0;
    uint64_t ev = store_events(d->cfg.st);
    if (ev == d->store_events) return TV_OK;
    if (d->ops.changed && (rc = d->ops.changed(d->ops.arg))) return rc;
    d->store_events = store_events(d->cfg.st);
    /* what changed is worked out once, not once per session */
    rc = sync_store_changes(d->cfg.st, &d->vv_last, &d->vv_changed);
    for (uint32_t i = 0; i < d->nsess && rc == 0; i++)
        rc = sync_peer_announce(d->sess[i].s, &d->vv_changed, now);
    return rc;
}

int tv_driver_turn(tv_driver *d)
{
    int64_t now = d->ops.now_ms(d->ops.arg);
    int rc;
    if (d->ops.recv) {
        tv_driver_msg m;
        while ((rc = d->ops.recv(d->ops.arg, d, &m)) == 0)
            if ((rc = tv_driver_deliver(d, m.from, m.link, m.data, m.len))) return rc;
        if (rc != TV_EBUSY) return rc;
    }
    if ((rc = flush_announce(d, now))) return rc;
    for (uint32_t i = 0; i < d->nsess; i++) {
        tv_driver_session *s = &d->sess[i];
        assert(s->s);
        if (sync_peer_expiry(s->s) <= now && (rc = sync_peer_tick(s->s, now))) return rc;
        if ((rc = pump(d, s, now))) return rc;
        if (d->ops.session && (rc = d->ops.session(d->ops.arg, s))) return rc;
        sync_state st = sync_peer_state(s->s);
        if ((st == SYNC_CLOSED || st == SYNC_DEAD) && !s->closed_ms) s->closed_ms = now;
        if (!s->closed_ms) continue;
        int again = d->ops.restart ? d->ops.restart(d->ops.arg, s) : restart_due(d, s, now);
        if (again < 0) return again;
        if (again && (rc = tv_driver_restart(d, s))) return rc;
    }
    parent_fallback(d, now);
    return TV_OK;
}
