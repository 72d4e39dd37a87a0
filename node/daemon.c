/* The network loop over ZeroMQ: one sync session per authenticated peer (see daemon.h). */
#include "node/daemon.h"
#include "node/downflow.h"
#include "node/retention.h"
#include "node/pmap.h"
#include "crdt/error.h"
#include "net/sync.h"
#include "net/zmq.h"
#include "node/json.h"
#include "node/resync.h"
#include "node/timefmt.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RECREATE_MS 3000           /* a closed session with a parent is started again after this */
#define REFUSED_RETRY_MS 2000      /* a parent that refused our key is asked again after this, */
#define REFUSED_RETRY_MS_MAX 60000 /* doubled at each refusal up to this */
#define LINK_RESET_MS 60000        /* a link down this long gets a new socket */

typedef struct session {
    uint8_t pk[TV_NODE_ID_BYTES];
    sync_peer *s;
    int link;      /* index of the outbound link, or -1 for an inbound peer */
    uint8_t *hold; /* a message the transport could not take yet */
    size_t hold_len;
    int64_t closed_ms; /* when it was seen closed or dead, 0 if alive */
    sync_state reported;
    uint32_t refusals_logged; /* the session's refusals already written to the log */
} session;

typedef struct out_link {
    tv_net_link cfg;
    uint8_t key[TV_NODE_ID_BYTES];
    int has_key;
    tvz_conn *conn;
    int64_t since;        /* when we started trying it */
    int64_t refused_ms;   /* when it last refused our key, 0 if it has not */
    int64_t refused_wait; /* how long until it is asked again (0: REFUSED_RETRY_MS) */
    int64_t up_ms;        /* when it was last seen up */
    int ever_up;
} out_link;

typedef struct tvd {
    tv_node *n;
    const tv_daemon_opts *o;
    tv_daemon_result *r;
    tvz_ctx *ctx;
    tvz_listener *lis;
    tv_netconf conf;
    out_link links[TV_NET_LINKS_MAX];
    uint32_t nlinks;
    int active_parent;  /* index into links of the parent being tried; -1 none */
    uint32_t fallbacks; /* parents given up on so far */
    session sess[TV_DAEMON_SESSIONS_MAX];
    uint32_t nsess;
    uint8_t epoch[SYNC_EPOCH_BYTES];
    uint64_t store_events;       /* events held at the last look: a change means new data */
    crdt_vv vv_last, vv_changed; /* the store's vector at the last look, what it gained */
    int64_t status_ms;
    int64_t park_ms;  /* when parked batches were last offered their time (C1) */
    int64_t purge_ms; /* when the node last purged (retention.h); 0: not yet in this run */
    int status_dirty;
    int resync; /* the store was restored or copied: waits for a parent in step */
    uint8_t *buf;
} tvd;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
    char when[40];
    tv_time_format_vn(when, sizeof when, tv_wall_ms());
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s truyvet: ", when);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static const char *short_id(const uint8_t *pk, char out[17])
{
    tv_hex_encode(out, pk, 8);
    return out;
}

/* Applies the parked batches whose time has come (PROTOCOL.md §3.3, C1). */
static int park_release_fn(store_txn *t, void *arg)
{
    uint32_t released;
    return store_parked_release(t, *(int64_t *)arg, &released);
}

/* Allows every node whose whole chain holds (T7: every certificate up to the root held
 * and unrevoked); denies the others, a revoked district's communes among them. */
typedef struct allow_ctx {
    tvd *d;
    store_txn *t;
} allow_ctx;

static int allow_one(const uint8_t *raw, size_t len, void *arg)
{
    allow_ctx *a = arg;
    static crdt_cert c;
    if (crdt_cert_decode(&c, raw, len)) return 0; /* installed: verified then */
    if (store_chain_check(a->t, c.subject, tv_wall_ms(), NULL) != TV_OK)
        (void)tvz_deny(a->d->ctx, c.subject);
    else
        (void)tvz_allow(a->d->ctx, c.subject);
    return 0;
}

static int refresh_allow(tvd *d)
{
    allow_ctx a = {.d = d};
    int rc = store_read_begin(d->n->st, &a.t);
    if (rc) return rc;
    rc = store_cert_foreach(a.t, allow_one, &a);
    store_read_end(a.t);
    return rc;
}

/* Writes each refusal of a session once: who, which batch, why, and the rule broken. */
static void log_refusals(session *s)
{
    sync_stats st;
    sync_peer_stats(s->s, &st);
    for (; s->refusals_logged < st.refusals_len; s->refusals_logged++) {
        const sync_refusal *r = &st.refusals[s->refusals_logged];
        char peer[17], origin[17];
        if (r->ours)
            logf_("refused a batch from peer %s: origin %s seq %" PRIu64 ": %s%s%s",
                  short_id(s->pk, peer), short_id(r->origin, origin), r->seq, tv_strerror(r->code),
                  r->rule ? "; rule " : "", r->rule ? r->rule : "");
        else
            logf_("peer %s refused our batch of origin %s seq %" PRIu64 ": %s",
                  short_id(s->pk, peer), short_id(r->origin, origin), r->seq, tv_strerror(r->code));
    }
}

static session *session_find(tvd *d, const uint8_t *pk)
{
    for (uint32_t i = 0; i < d->nsess; i++)
        if (memcmp(d->sess[i].pk, pk, TV_NODE_ID_BYTES) == 0) return &d->sess[i];
    return NULL;
}

static int session_start(tvd *d, session *s, int64_t now)
{
    sync_config cfg = {.st = d->n->st, .self = &d->n->id};
    memcpy(cfg.epoch, d->epoch, SYNC_EPOCH_BYTES);
    if (s->s) sync_peer_free(s->s);
    s->s = NULL;
    free(s->hold);
    s->hold = NULL;
    s->hold_len = 0;
    s->closed_ms = 0;
    s->reported = 0;
    return sync_peer_new(&s->s, &cfg, s->pk, now);
}

static session *session_get(tvd *d, const uint8_t *pk, int link, int64_t now)
{
    session *s = session_find(d, pk);
    if (!s) {
        if (d->nsess == TV_DAEMON_SESSIONS_MAX) return NULL;
        s = &d->sess[d->nsess++];
        memset(s, 0, sizeof *s);
        memcpy(s->pk, pk, TV_NODE_ID_BYTES);
        s->link = link;
        if (session_start(d, s, now)) {
            d->nsess--;
            return NULL;
        }
        d->status_dirty = 1;
    }
    return s;
}

/* Sends what the session has to say, as far as the transport takes it. */
static int session_pump(tvd *d, session *s, int64_t now)
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
        int rc;
        if (s->link >= 0) {
            tvz_conn *c = d->links[s->link].conn;
            rc = c ? tvz_conn_send(c, s->hold, s->hold_len) : TV_EBUSY;
        } else {
            rc = d->lis ? tvz_listener_send_to(d->lis, s->pk, s->hold, s->hold_len) : TV_EBUSY;
        }
        if (rc == TV_EBUSY) return TV_OK;           /* try again on the next turn */
        if (rc == TV_ENOTFOUND || rc == TV_EPERM) { /* gone, or no longer admitted */
            free(s->hold);
            s->hold = NULL;
            /* a key denied since (revoked, or a key above it revoked: T7): its session
             * ends, the server goes on */
            if (rc == TV_EPERM) sync_peer_close(s->s, TV_EREVOKED);
            return TV_OK;
        }
        free(s->hold);
        s->hold = NULL;
        if (rc) return rc;
    }
}

static void session_report(tvd *d, session *s)
{
    sync_stats st;
    sync_peer_stats(s->s, &st);
    if (st.state == s->reported) return;
    s->reported = st.state;
    d->status_dirty = 1;
    char id[17];
    short_id(s->pk, id);
    if (st.state == SYNC_IN_STEP)
        logf_("in step with %s: %llu events received, %llu sent, %llu refused", id,
              (unsigned long long)st.events_in, (unsigned long long)st.events_out,
              (unsigned long long)st.refused_in);
    else if (st.state == SYNC_CLOSED)
        logf_("session with %s closed: %s%s%s%s", id,
              st.error        ? tv_strerror(st.error)
              : st.peer_error ? "the peer said: "
                              : "bye",
              !st.error && st.peer_error ? tv_strerror(st.peer_error) : "",
              st.error && st.error_text ? ": " : "",
              st.error && st.error_text ? st.error_text : "");
    else if (st.state == SYNC_DEAD)
        logf_("no word from %s for %d s: taken for gone", id, SYNC_DEAD_MS / 1000);
    else if (d->o->verbose)
        logf_("session with %s: %s", id, sync_state_name(st.state));
}

/* Is peer above this node in the tree (its certificate covers our unit, at a higher
 * role)? */
static int is_parent(tvd *d, const uint8_t *peer)
{
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return 0;
    store_txn *t;
    int yes = 0;
    if (store_read_begin(d->n->st, &t) == 0) {
        yes = store_cert_get(t, peer, c, NULL, NULL) == 0 && (int)c->role > (int)d->n->role &&
              crdt_cert_covers(c, d->n->unit, strlen(d->n->unit));
        store_read_end(t);
    }
    free(c);
    return yes;
}

/* A restored or copied store records again once a session with a parent is in step with
 * nothing refused either way: it holds its own log as far as that parent does, and its
 * next event follows on from there (resync.h). */
static int resync_check(tvd *d, session *s)
{
    if (sync_peer_state(s->s) != SYNC_IN_STEP) return TV_OK;
    sync_stats st;
    sync_peer_stats(s->s, &st);
    if (!st.complete || !is_parent(d, s->pk)) return TV_OK;
    char id[17], detail[TV_NET_ENDPOINT_MAX + 64];
    short_id(s->pk, id);
    snprintf(detail, sizeof detail, "parent %s%s%s", id, s->link >= 0 ? " at " : "",
             s->link >= 0 ? d->links[s->link].cfg.endpoint : "");
    int rc = tv_resync_synced(d->n, detail);
    if (rc < 0) return rc;
    d->resync = 0;
    if (rc) logf_("in step with %s: this restored node may record again", detail);
    return TV_OK;
}

/* --- outbound links -------------------------------------------------------------- */

static int link_connect(tvd *d, int i, int64_t now)
{
    out_link *l = &d->links[i];
    if (!l->has_key) {
        logf_("cannot connect to %s: its node id is unknown (enrol first, or write "
              "NODEID@ENDPOINT)",
              l->cfg.endpoint);
        return TV_ENOTFOUND;
    }
    int rc = tvz_conn_new(d->ctx, l->cfg.endpoint, l->key, &l->conn);
    if (rc) {
        logf_("cannot connect to %s: %s", l->cfg.endpoint, tv_strerror(rc));
        return rc;
    }
    l->since = now;
    if (d->o->verbose) logf_("connecting to %s", l->cfg.endpoint);
    return TV_OK;
}

static void link_drop(tvd *d, int i)
{
    out_link *l = &d->links[i];
    tvz_conn_free(l->conn);
    l->conn = NULL;
    session *s = session_find(d, l->key);
    if (s && s->link == i) {
        sync_peer_free(s->s);
        free(s->hold);
        *s = d->sess[--d->nsess];
    }
}

/* Moves to the next parent when the current one has not answered in time. */
static int next_parent(tvd *d, int64_t now)
{
    int n = (int)d->nlinks, start = d->active_parent;
    for (int k = 1; k <= n; k++) {
        int i = (start + k) % n;
        if (!d->links[i].cfg.parent || !d->links[i].has_key) continue;
        if (i == start && !d->o->once) return TV_OK;
        link_drop(d, start);
        d->active_parent = i;
        if (i != start) logf_("trying %s instead", d->links[i].cfg.endpoint);
        return link_connect(d, i, now);
    }
    return TV_ENOTFOUND;
}

static int setup_links(tvd *d, int64_t now)
{
    store_txn *t;
    int rc = store_read_begin(d->n->st, &t);
    if (rc) return rc;
    if ((rc = tv_netconf_get(t, &d->conf))) {
        store_read_end(t);
        return rc;
    }
    d->nlinks = 0;
    if (d->o->peer) {
        out_link *l = &d->links[d->nlinks];
        memset(l, 0, sizeof *l);
        if (tv_net_link_parse(d->o->peer, &l->cfg)) {
            store_read_end(t);
            return TV_EINVAL;
        }
        l->cfg.parent = 1;
        /* a bare endpoint: the key of the configured parent or peer listening there */
        if (l->cfg.has_key) {
            memcpy(l->key, l->cfg.key, TV_NODE_ID_BYTES);
            l->has_key = 1;
        } else {
            for (uint32_t i = 0; i < d->conf.len; i++)
                if (strcmp(d->conf.links[i].endpoint, l->cfg.endpoint) == 0 &&
                    tv_netconf_link_key(t, &d->conf, i, d->n->id.pk, l->key) == 0)
                    l->has_key = 1;
        }
        d->nlinks = 1;
    } else {
        for (uint32_t i = 0; i < d->conf.len; i++) {
            if (!d->o->listen && !d->conf.links[i].parent && d->o->once) continue;
            out_link *l = &d->links[d->nlinks++];
            memset(l, 0, sizeof *l);
            l->cfg = d->conf.links[i];
            l->has_key = tv_netconf_link_key(t, &d->conf, i, d->n->id.pk, l->key) == 0;
        }
    }
    store_read_end(t);
    d->active_parent = -1;
    for (uint32_t i = 0; i < d->nlinks; i++) {
        if (d->links[i].cfg.parent) {
            if (d->active_parent < 0 && d->links[i].has_key) {
                d->active_parent = (int)i;
                (void)link_connect(d, (int)i, now);
            }
        } else {
            (void)link_connect(d, (int)i, now); /* peers: always */
        }
    }
    return TV_OK;
}

/* --- status file ----------------------------------------------------------------- */

static int status_fork(const uint8_t *origin, uint64_t first_seq, const uint8_t *buf, size_t len,
                       void *arg)
{
    tv_json *j = arg;
    (void)buf;
    (void)len;
    tv_json_object_begin(j);
    tv_json_key(j, "origin");
    tv_json_hex(j, origin, TV_NODE_ID_BYTES);
    tv_json_key(j, "seq");
    tv_json_u64(j, first_seq);
    tv_json_object_end(j);
    return 0;
}

static void write_status(tvd *d, int64_t now)
{
    char path[PATH_MAX + 16], tmp[PATH_MAX + 24];
    snprintf(path, sizeof path, "%s/peers.json", d->n->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return;
    tv_json j;
    tv_json_init(&j, f);
    char when[40];
    tv_json_object_begin(&j);
    tv_time_format_vn(when, sizeof when, now);
    tv_json_key(&j, "written");
    tv_json_string(&j, when);
    tv_json_key(&j, "pid");
    tv_json_i64(&j, getpid());
    tv_json_key(&j, "peers");
    tv_json_array_begin(&j);
    for (uint32_t i = 0; i < d->nsess; i++) {
        session *s = &d->sess[i];
        sync_stats st;
        sync_peer_stats(s->s, &st);
        tv_json_object_begin(&j);
        tv_json_key(&j, "node_id");
        tv_json_hex(&j, s->pk, TV_NODE_ID_BYTES);
        tv_json_key(&j, "direction");
        tv_json_string(&j, s->link >= 0 ? "outbound" : "inbound");
        tv_json_key(&j, "endpoint");
        tv_json_string(&j, s->link >= 0 ? d->links[s->link].cfg.endpoint : "");
        tv_json_key(&j, "state");
        tv_json_string(&j, sync_state_name(st.state));
        tv_time_format_vn(when, sizeof when, st.last_recv_ms);
        tv_json_key(&j, "last_contact");
        tv_json_string(&j, when);
        tv_json_key(&j, "bytes_in");
        tv_json_u64(&j, st.bytes_in);
        tv_json_key(&j, "bytes_out");
        tv_json_u64(&j, st.bytes_out);
        tv_json_key(&j, "events_in");
        tv_json_u64(&j, st.events_in);
        tv_json_key(&j, "events_out");
        tv_json_u64(&j, st.events_out);
        tv_json_key(&j, "we_lack");
        tv_json_u64(&j, st.me_behind);
        tv_json_key(&j, "peer_lacks");
        tv_json_u64(&j, st.peer_behind);
        tv_json_key(&j, "refused");
        tv_json_u64(&j, st.refused_in);
        tv_json_key(&j, "error");
        tv_json_string(&j, st.error ? tv_strerror(st.error) : "");
        tv_json_object_end(&j);
    }
    tv_json_array_end(&j);
    tv_json_key(&j, "forks");
    tv_json_array_begin(&j);
    store_txn *t;
    if (store_read_begin(d->n->st, &t) == 0) {
        (void)store_forks_foreach(t, status_fork, &j);
        store_read_end(t);
    }
    tv_json_array_end(&j);
    tv_json_object_end(&j);
    int bad = tv_json_line_end(&j);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) bad = 1;
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) unlink(tmp);
    d->status_ms = now;
    d->status_dirty = 0;
}

/* --- the loop -------------------------------------------------------------------- */

static int handle_msg(tvd *d, const tvz_msg *m, int link, int64_t now)
{
    session *s = session_find(d, m->from);
    /* a HELLO on a session that already had one: the peer started afresh */
    int hello = m->len >= 2 && m->data[0] >= 0x90 && m->data[0] <= 0x9f && m->data[1] == 1;
    if (s && hello) {
        sync_stats st;
        sync_peer_stats(s->s, &st);
        if (st.msgs_in > 0 || st.state == SYNC_CLOSED || st.state == SYNC_DEAD) {
            int rc = session_start(d, s, now);
            if (rc) return rc;
        }
    }
    if (!s) {
        if (!(s = session_get(d, m->from, link, now))) return TV_OK; /* full: ignored */
    }
    int rc = sync_peer_recv(s->s, m->data, m->len, now);
    if (rc && rc != TV_EDECODE && rc != TV_EVERSION && rc != TV_EPERM && rc != TV_EUNTRUSTED &&
        rc != TV_EREVOKED && rc != TV_ELIMIT)
        return rc;
    return TV_OK;
}

static uint64_t store_events(tvd *d)
{
    store_txn *t;
    store_counts c = {0};
    if (store_read_begin(d->n->st, &t) == 0) {
        (void)store_counts_get(t, &c);
        store_read_end(t);
    }
    return c.events;
}

int tv_daemon_run(tv_node *n, const tv_daemon_opts *o, tv_daemon_result *r)
{
    memset(r, 0, sizeof *r);
    tvd *d = calloc(1, sizeof *d);
    if (!d) return TV_ENOMEM;
    d->n = n;
    d->o = o;
    d->r = r;
    int rc = TV_ENOMEM;
    if (!(d->buf = malloc(SYNC_MSG_BYTES_MAX))) goto out;
    int64_t now = tv_wall_ms(), started = now;
    store_txn *t;
    if ((rc = store_read_begin(n->st, &t))) goto out;
    size_t elen;
    rc = store_meta_get(t, "epoch", d->epoch, sizeof d->epoch, &elen);
    d->resync = tv_resync_required(t, NULL) == 1;
    crdt_cert *mine = malloc(sizeof *mine);
    int enrolled = mine && store_cert_get(t, n->id.pk, mine, NULL, NULL) == 0;
    free(mine);
    store_read_end(t);
    if (rc) goto out;
    if (!enrolled) {
        rc = TV_EUNTRUSTED;
        goto out;
    }
    if ((rc = tvz_ctx_new(&n->id, NULL, &d->ctx))) goto out;
    if ((rc = refresh_allow(d))) goto out;
    d->store_events = store_events(d);
    crdt_vv_init(&d->vv_last);
    crdt_vv_init(&d->vv_changed);
    if ((rc = sync_store_changes(n->st, &d->vv_last, &d->vv_changed))) goto out;
    if ((rc = setup_links(d, now))) goto out;
    if (o->listen && d->conf.listen[0]) {
        if ((rc = tvz_listener_new(d->ctx, d->conf.listen, &d->lis))) {
            logf_("cannot listen on %s: %s", d->conf.listen, tv_strerror(rc));
            goto out;
        }
        logf_("listening on %s", tvz_listener_endpoint(d->lis));
    }
    if (!d->lis && d->nlinks == 0) {
        rc = TV_EINVAL;
        goto out;
    }
    if (o->once && d->active_parent < 0) {
        rc = TV_ENOTFOUND;
        goto out;
    }

    rc = TV_OK;
    while (!(o->stop && *o->stop)) {
        now = tv_wall_ms();
        if (o->once && o->timeout_ms && now - started >= o->timeout_ms) {
            r->error = TV_EBUSY;
            break;
        }
        /* wait for traffic, or until a session's timer or our own look-around is due */
        int64_t wake = now + TV_DAEMON_LOOP_MS_MAX;
        for (uint32_t i = 0; i < d->nsess; i++) {
            int64_t e = sync_peer_expiry(d->sess[i].s);
            if (e < wake) wake = e;
            if (d->sess[i].hold) wake = now + 100; /* a message waits for the transport */
        }
        tvz_poll_item items[TVZ_POLL_ITEMS_MAX];
        size_t ni = 0;
        if (d->lis) items[ni++] = (tvz_poll_item){.listener = d->lis};
        for (uint32_t i = 0; i < d->nlinks && ni < TVZ_POLL_ITEMS_MAX; i++)
            if (d->links[i].conn) items[ni++] = (tvz_poll_item){.conn = d->links[i].conn};
        long wait = wake > now ? (long)(wake - now) : 0;
        if (tvz_poll(items, ni, wait) < 0) {
            rc = TV_EIO;
            break;
        }
        now = tv_wall_ms();

        tvz_msg m;
        while (d->lis && (rc = tvz_listener_recv(d->lis, &m)) == 0)
            if ((rc = handle_msg(d, &m, -1, now))) break;
        if (rc && rc != TV_EBUSY) break;
        for (uint32_t i = 0; i < d->nlinks; i++) {
            out_link *l = &d->links[i];
            if (!l->conn) continue;
            tvz_event ev;
            while (tvz_conn_event_next(l->conn, &ev) == 0) {
                if (ev.kind == TVZ_EVENT_UP) {
                    l->ever_up = 1;
                    l->refused_wait = 0;
                    if (o->verbose) logf_("link to %s up", l->cfg.endpoint);
                    int existed = session_find(d, l->key) != NULL;
                    session *s = session_get(d, l->key, (int)i, now);
                    /* a link that comes back may have lost messages on the way (ZeroMQ
                     * drops them across reconnects): start the session afresh */
                    if (s && existed) (void)session_start(d, s, now);
                } else if (ev.kind == TVZ_EVENT_DOWN) {
                    if (o->verbose) logf_("link to %s down", l->cfg.endpoint);
                } else if (ev.kind == TVZ_EVENT_REFUSED) {
                    logf_("%s refused our key (status %u): is this node enrolled there, and "
                          "not revoked?",
                          l->cfg.endpoint, ev.value);
                    l->refused_ms = now;
                    /* the first retry comes soon (a re-certification may be on its way to
                     * the parent's allow list), later ones back off */
                    l->refused_wait = !l->refused_wait ? REFUSED_RETRY_MS
                                      : 2 * l->refused_wait > REFUSED_RETRY_MS_MAX
                                          ? REFUSED_RETRY_MS_MAX
                                          : 2 * l->refused_wait;
                } else if (ev.kind == TVZ_EVENT_FAILED && o->verbose) {
                    logf_("handshake with %s failed", l->cfg.endpoint);
                }
            }
            /* libzmq never retries a refused handshake: the node may be enrolled there by
             * now (its certificate travels up with its district's log), so ask again */
            if (l->refused_ms && now - l->refused_ms >= l->refused_wait) {
                l->refused_ms = 0;
                if (tvz_conn_reset(l->conn) == 0 && o->verbose)
                    logf_("asking %s again", l->cfg.endpoint);
            }
            /* libzmq reconnects by itself, but a link that stays down gets a new socket */
            tvz_conn_status cs;
            tvz_conn_status_get(l->conn, &cs);
            if (cs.up || !l->up_ms)
                l->up_ms = now;
            else if (now - l->up_ms >= LINK_RESET_MS) {
                l->up_ms = now;
                if (tvz_conn_reset(l->conn) == 0 && o->verbose)
                    logf_("new socket for %s", l->cfg.endpoint);
            }
            while ((rc = tvz_conn_recv(l->conn, &m)) == 0)
                if ((rc = handle_msg(d, &m, (int)i, now))) break;
            if (rc && rc != TV_EBUSY) break;
            rc = TV_OK;
        }
        if (rc && rc != TV_EBUSY) break;
        rc = TV_OK;

        /* make what arrived durable, then tell everyone what is new */
        int flushed = 0;
        for (uint32_t i = 0; i < d->nsess && rc == 0; i++)
            if (sync_peer_pending(d->sess[i].s)) {
                rc = sync_peer_flush(d->sess[i].s, now);
                flushed = 1;
            }
        if (rc) break;
        /* pseudonym keys: a health node maps and grants, a commune installs its key (fork
         * evidence counts as no new event, so after every flush; cheap when nothing is new) */
        if (flushed) (void)tv_keys_after_receive(d->n);
        for (uint32_t i = 0; i < d->nsess; i++)
            log_refusals(&d->sess[i]);
        uint64_t ev = store_events(d);
        if (ev != d->store_events) {
            /* a health node seals what the communes need of what arrived (its own events
             * count as new too: they are announced below) */
            uint64_t sent = 0;
            int drc = tv_downflow_run(d->n, now, &sent);
            if (drc)
                logf_("the cases' notices to the communes could not be sealed: %s",
                      tv_strerror(drc));
            else if (sent && o->verbose)
                logf_("sealed %" PRIu64 " notices for the communes", sent);
            ev = store_events(d);
            d->store_events = ev;
            (void)refresh_allow(d); /* new certificates or revocations */
            /* what changed is worked out once, not once per session */
            rc = sync_store_changes(d->n->st, &d->vv_last, &d->vv_changed);
            for (uint32_t i = 0; i < d->nsess && rc == 0; i++)
                rc = sync_peer_announce(d->sess[i].s, &d->vv_changed, now);
            d->status_dirty = 1;
        }
        for (uint32_t i = 0; i < d->nsess && rc == 0; i++) {
            session *s = &d->sess[i];
            if ((rc = sync_peer_tick(s->s, now))) break;
            rc = session_pump(d, s, now);
            session_report(d, s);
            if (rc == 0 && d->resync) rc = resync_check(d, s);
            sync_state st = sync_peer_state(s->s);
            if ((st == SYNC_CLOSED || st == SYNC_DEAD) && !s->closed_ms) s->closed_ms = now;
            /* a parent or peer link: start again after a pause; an inbound one waits for
             * the peer's next HELLO */
            if (s->closed_ms && s->link >= 0 && !o->once && now - s->closed_ms >= RECREATE_MS &&
                d->links[s->link].conn)
                rc = session_start(d, s, now);
        }
        if (rc) break;

        if (o->once) {
            session *s =
                d->active_parent >= 0 ? session_find(d, d->links[d->active_parent].key) : NULL;
            if (s && sync_peer_state(s->s) == SYNC_IN_STEP && !s->hold) {
                /* the last messages (DONE) have left: done, in step only if nothing was
                 * refused either way */
                sync_stats st;
                sync_peer_stats(s->s, &st);
                r->in_step = st.complete;
                if (!st.complete) r->error = st.refusals_len ? st.refusals[0].code : TV_EPERM;
                break;
            }
            if (s && sync_peer_state(s->s) == SYNC_CLOSED) {
                sync_stats st;
                sync_peer_stats(s->s, &st);
                r->error = st.error ? st.error : st.peer_error ? st.peer_error : TV_EPERM;
                break;
            }
        }
        /* a parent that does not answer: the next one */
        if (d->active_parent >= 0) {
            out_link *l = &d->links[d->active_parent];
            session *s = session_find(d, l->key);
            int stuck = !l->ever_up && now - l->since >= TV_DAEMON_FALLBACK_MS;
            int dead = s && sync_peer_state(s->s) == SYNC_DEAD;
            if (stuck || dead) {
                logf_("%s is unreachable", l->cfg.endpoint);
                int cur = d->active_parent;
                uint32_t parents = 0;
                for (uint32_t i = 0; i < d->nlinks; i++)
                    parents += d->links[i].cfg.parent;
                /* once: each parent gets one chance */
                if (o->once && ++d->fallbacks >= parents) {
                    r->error = TV_EBUSY;
                    break;
                }
                if (next_parent(d, now) || (o->once && d->active_parent == cur)) {
                    r->error = TV_EBUSY;
                    break;
                }
            }
        }
        if (d->status_dirty && now - d->status_ms >= TV_DAEMON_STATUS_MS) write_status(d, now);
        if (now - d->park_ms >= TV_DAEMON_PARK_MS) {
            d->park_ms = now;
            (void)store_write(d->n->st, park_release_fn, &now);
        }
        /* retention (serve, not sync --once): at start, then once a day (no read transaction is
         * open here, so the data file may be replaced) */
        if (!o->once && (!d->purge_ms || now - d->purge_ms >= TV_PURGE_INTERVAL_MS)) {
            d->purge_ms = now;
            tv_purge_result pr;
            int prc = tv_node_purge(d->n, now, 1, 1, &pr);
            if (prc)
                logf_("purge failed: %s", tv_strerror(prc));
            else if (pr.st.scans || pr.st.persons || pr.st.reveals)
                logf_("purged what is older than %u days: %" PRIu64 " scans, %" PRIu64
                      " person records, %" PRIu64 " audit rows",
                      pr.days, pr.st.scans, pr.st.persons, pr.st.reveals);
        }
    }
    if (!rc) {
        /* say goodbye, give the transport a moment to carry it */
        for (uint32_t i = 0; i < d->nsess; i++) {
            sync_peer_close(d->sess[i].s, 0);
            (void)session_pump(d, &d->sess[i], tv_wall_ms());
        }
        write_status(d, tv_wall_ms());
    }
    for (uint32_t i = 0; i < d->nsess; i++) {
        sync_stats st;
        sync_peer_stats(d->sess[i].s, &st);
        r->events_in += st.events_in;
        r->events_out += st.events_out;
        r->refused += st.refused_in;
    }
    if (d->active_parent >= 0)
        snprintf(r->peer_endpoint, sizeof r->peer_endpoint, "%s",
                 d->links[d->active_parent].cfg.endpoint);
out:
    if (d) {
        for (uint32_t i = 0; i < d->nsess; i++) {
            sync_peer_free(d->sess[i].s);
            free(d->sess[i].hold);
        }
        for (uint32_t i = 0; i < d->nlinks; i++)
            tvz_conn_free(d->links[i].conn);
        tvz_listener_free(d->lis);
        tvz_ctx_free(d->ctx);
        crdt_vv_release(&d->vv_last);
        crdt_vv_release(&d->vv_changed);
        free(d->buf);
        free(d);
    }
    return rc;
}
