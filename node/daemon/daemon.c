/* The network loop over ZeroMQ: the driver (net/driver.h) with the ZeroMQ transport, the
 * wall clock and the node's chores (see daemon.h). */
#include "node/daemon/daemon.h"
#include "node/logic/downflow.h"
#include "node/logic/retention.h"
#include "node/logic/pmap.h"
#include "crdt/error.h"
#include "net/driver.h"
#include "net/sync.h"
#include "net/zmq.h"
#include "node/render/json.h"
#include "node/logic/resync.h"
#include "node/format/timefmt.h"

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
_Static_assert(TV_NET_LINKS_MAX <= TV_DRIVER_LINKS_MAX, "the driver holds every configured link");

/* The ZeroMQ side of an outbound link (the driver keeps its key and progress). */
typedef struct out_link {
    tv_net_link cfg;
    tvz_conn *conn;
    int64_t refused_ms;   /* when it last refused our key, 0 if it has not */
    int64_t refused_wait; /* how long until it is asked again (0: REFUSED_RETRY_MS) */
    int64_t up_ms;        /* when it was last seen up */
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
    tv_driver *drv; /* the sessions and the protocol loop */
    uint8_t epoch[SYNC_EPOCH_BYTES];
    int64_t status_ms;
    int64_t park_ms;      /* when parked batches were last offered their time (C1) */
    tv_purge_chore purge; /* retention (tv_daemon_purge_chore) in this run */
    int status_dirty;
    int resync;         /* the store was restored or copied: waits for a parent in step */
    uint32_t recv_link; /* the outbound link being drained */
    int events_read;    /* its events were read in this drain */
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
static void log_refusals(tv_driver_session *s)
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

static void session_report(tvd *d, tv_driver_session *s)
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
static int resync_check(tvd *d, tv_driver_session *s)
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

static int link_connect(void *arg, int i)
{
    tvd *d = arg;
    out_link *l = &d->links[i];
    const tv_driver_link *dl = tv_driver_link_get(d->drv, i);
    if (!dl->has_key) {
        logf_("cannot connect to %s: its node id is unknown (enrol first, or write "
              "NODEID@ENDPOINT)",
              l->cfg.endpoint);
        return TV_ENOTFOUND;
    }
    int rc = tvz_conn_new(d->ctx, l->cfg.endpoint, dl->key, &l->conn);
    if (rc) {
        logf_("cannot connect to %s: %s", l->cfg.endpoint, tv_strerror(rc));
        return rc;
    }
    if (d->o->verbose) logf_("connecting to %s", l->cfg.endpoint);
    return TV_OK;
}

static void link_drop(void *arg, int i)
{
    tvd *d = arg;
    tvz_conn_free(d->links[i].conn);
    d->links[i].conn = NULL;
}

static void link_unreachable(void *arg, int i)
{
    tvd *d = arg;
    logf_("%s is unreachable", d->links[i].cfg.endpoint);
}

static void link_trying(void *arg, int i)
{
    tvd *d = arg;
    logf_("trying %s instead", d->links[i].cfg.endpoint);
}

static int setup_links(tvd *d)
{
    store_txn *t;
    int rc = store_read_begin(d->n->st, &t);
    if (rc) return rc;
    if ((rc = tv_netconf_get(t, &d->conf))) {
        store_read_end(t);
        return rc;
    }
    d->nlinks = 0;
    uint8_t key[TV_NODE_ID_BYTES];
    if (d->o->peer) {
        out_link *l = &d->links[d->nlinks];
        memset(l, 0, sizeof *l);
        if (tv_net_link_parse(d->o->peer, &l->cfg)) {
            store_read_end(t);
            return TV_EINVAL;
        }
        l->cfg.parent = 1;
        /* a bare endpoint: the key of the configured parent or peer listening there */
        int has_key = 0;
        if (l->cfg.has_key) {
            memcpy(key, l->cfg.key, TV_NODE_ID_BYTES);
            has_key = 1;
        } else {
            for (uint32_t i = 0; i < d->conf.len; i++)
                if (strcmp(d->conf.links[i].endpoint, l->cfg.endpoint) == 0 &&
                    tv_netconf_link_key(t, &d->conf, i, d->n->id.pk, key) == 0)
                    has_key = 1;
        }
        (void)tv_driver_link_add(d->drv, key, has_key, 1);
        d->nlinks = 1;
    } else {
        for (uint32_t i = 0; i < d->conf.len; i++) {
            if (!d->o->listen && !d->conf.links[i].parent && d->o->once) continue;
            out_link *l = &d->links[d->nlinks++];
            memset(l, 0, sizeof *l);
            l->cfg = d->conf.links[i];
            int has_key = tv_netconf_link_key(t, &d->conf, i, d->n->id.pk, key) == 0;
            (void)tv_driver_link_add(d->drv, key, has_key, l->cfg.parent);
        }
    }
    store_read_end(t);
    tv_driver_links_start(d->drv);
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
    uint32_t nsess;
    tv_driver_session *sess = tv_driver_sessions(d->drv, &nsess);
    for (uint32_t i = 0; i < nsess; i++) {
        tv_driver_session *s = &sess[i];
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

/* --- the transport and the hooks the driver calls ---------------------------------- */

static int64_t wall_now(void *arg)
{
    (void)arg;
    return tv_wall_ms();
}

static int zsend(void *arg, const tv_driver_session *s, const uint8_t *buf, size_t len)
{
    tvd *d = arg;
    if (s->link >= 0) {
        tvz_conn *c = d->links[s->link].conn;
        return c ? tvz_conn_send(c, buf, len) : TV_EBUSY;
    }
    return d->lis ? tvz_listener_send_to(d->lis, s->pk, buf, len) : TV_EBUSY;
}

/* Reads an outbound link's events: up, down, refused; asks a refused parent again after a
 * while, and gives a link that stays down a new socket. */
static void link_events(tvd *d, int i, int64_t now)
{
    out_link *l = &d->links[i];
    tvz_event ev;
    while (tvz_conn_event_next(l->conn, &ev) == 0) {
        if (ev.kind == TVZ_EVENT_UP) {
            l->refused_wait = 0;
            if (d->o->verbose) logf_("link to %s up", l->cfg.endpoint);
            (void)tv_driver_link_up(d->drv, i);
            d->status_dirty = 1;
        } else if (ev.kind == TVZ_EVENT_DOWN) {
            if (d->o->verbose) logf_("link to %s down", l->cfg.endpoint);
        } else if (ev.kind == TVZ_EVENT_REFUSED) {
            logf_("%s refused our key (status %u): is this node enrolled there, and "
                  "not revoked?",
                  l->cfg.endpoint, ev.value);
            l->refused_ms = now;
            /* the first retry comes soon (a re-certification may be on its way to the
             * parent's allow list), later ones back off */
            l->refused_wait = !l->refused_wait                             ? REFUSED_RETRY_MS
                              : 2 * l->refused_wait > REFUSED_RETRY_MS_MAX ? REFUSED_RETRY_MS_MAX
                                                                           : 2 * l->refused_wait;
        } else if (ev.kind == TVZ_EVENT_FAILED && d->o->verbose) {
            logf_("handshake with %s failed", l->cfg.endpoint);
        }
    }
    /* libzmq never retries a refused handshake: the node may be enrolled there by now (its
     * certificate travels up with its district's log), so ask again */
    if (l->refused_ms && now - l->refused_ms >= l->refused_wait) {
        l->refused_ms = 0;
        if (tvz_conn_reset(l->conn) == 0 && d->o->verbose)
            logf_("asking %s again", l->cfg.endpoint);
    }
    /* libzmq reconnects by itself, but a link that stays down gets a new socket */
    tvz_conn_status cs;
    tvz_conn_status_get(l->conn, &cs);
    if (cs.up || !l->up_ms)
        l->up_ms = now;
    else if (now - l->up_ms >= LINK_RESET_MS) {
        l->up_ms = now;
        if (tvz_conn_reset(l->conn) == 0 && d->o->verbose)
            logf_("new socket for %s", l->cfg.endpoint);
    }
}

/* Drains the listener, then each outbound link (its events first). */
static int zrecv(void *arg, tv_driver *drv, tv_driver_msg *out)
{
    tvd *d = arg;
    (void)drv;
    tvz_msg m;
    int rc = TV_EBUSY;
    if (d->lis && (rc = tvz_listener_recv(d->lis, &m)) == 0) {
        memcpy(out->from, m.from, TV_NODE_ID_BYTES);
        out->link = -1;
        out->data = m.data;
        out->len = m.len;
        return TV_OK;
    }
    if (rc != TV_EBUSY) return rc;
    int64_t now = tv_wall_ms();
    for (; d->recv_link < d->nlinks; d->recv_link++) {
        out_link *l = &d->links[d->recv_link];
        if (!l->conn) continue;
        if (!d->events_read) {
            link_events(d, (int)d->recv_link, now);
            d->events_read = 1;
        }
        if ((rc = tvz_conn_recv(l->conn, &m)) == 0) {
            memcpy(out->from, m.from, TV_NODE_ID_BYTES);
            out->link = (int)d->recv_link;
            out->data = m.data;
            out->len = m.len;
            return TV_OK;
        }
        d->events_read = 0;
        if (rc != TV_EBUSY) {
            d->recv_link++;
            return rc;
        }
    }
    d->recv_link = 0;
    return TV_EBUSY;
}

/* pseudonym keys: a health node maps and grants, a commune installs its key (fork evidence
 * counts as no new event, so after every flush; cheap when nothing is new) */
static int after_flush(void *arg)
{
    tvd *d = arg;
    (void)tv_keys_after_receive(d->n);
    return TV_OK;
}

/* a health node seals what the communes need of what arrived (its own events count as new
 * too: they are announced after this) */
static int store_changed(void *arg)
{
    tvd *d = arg;
    uint64_t sent = 0;
    int drc = tv_downflow_run(d->n, tv_wall_ms(), &sent);
    if (drc)
        logf_("the cases' notices to the communes could not be sealed: %s", tv_strerror(drc));
    else if (sent && d->o->verbose)
        logf_("sealed %" PRIu64 " notices for the communes", sent);
    (void)refresh_allow(d); /* new certificates or revocations */
    d->status_dirty = 1;
    return TV_OK;
}

static int session_done(void *arg, tv_driver_session *s)
{
    tvd *d = arg;
    log_refusals(s);
    session_report(d, s);
    return d->resync ? resync_check(d, s) : TV_OK;
}

/* --- the loop -------------------------------------------------------------------- */

/* With --once: whether the session with the parent has ended, and how. */
static int once_done(tvd *d, tv_daemon_result *r)
{
    int ap = tv_driver_active_parent(d->drv);
    tv_driver_session *s =
        ap >= 0 ? tv_driver_find(d->drv, tv_driver_link_get(d->drv, ap)->key) : NULL;
    if (!s) return 0;
    sync_stats st;
    if (sync_peer_state(s->s) == SYNC_IN_STEP && !s->hold) {
        /* the last messages (DONE) have left: done, in step only if nothing was refused
         * either way */
        sync_peer_stats(s->s, &st);
        r->in_step = st.complete;
        if (!st.complete) r->error = st.refusals_len ? st.refusals[0].code : TV_EPERM;
        return 1;
    }
    if (sync_peer_state(s->s) == SYNC_CLOSED) {
        sync_peer_stats(s->s, &st);
        r->error = st.error ? st.error : st.peer_error ? st.peer_error : TV_EPERM;
        return 1;
    }
    return 0;
}

/* Retention (retention.h), at the first call and then once a day. No read transaction is
 * open here, so the data file may be replaced. Replacing it while another process writes
 * would leave that process committing to the old file, which the rename drops: what it
 * acknowledged would be lost. So the purge waits for the writer lock (an import, a
 * station), and its rewrite for every other process that has the store open to write
 * (store_compact: a command, `sync --once`), trying again a minute later. */
void tv_daemon_purge_chore(tv_node *n, tv_purge_chore *c, int64_t now)
{
    if (c->last_ms && now - c->last_ms < TV_PURGE_INTERVAL_MS) return;
    int took = tv_node_lock_try(n);
    if (took < 0 && took != TV_EBUSY) {
        logf_("purge failed: %s", tv_strerror(took));
        c->last_ms = now - TV_PURGE_INTERVAL_MS + TV_DAEMON_PURGE_RETRY_MS;
        return;
    }
    if (took < 0) {
        if (!c->deferred) logf_("purge deferred: another program is recording");
        c->deferred = 1;
        c->last_ms = now - TV_PURGE_INTERVAL_MS + TV_DAEMON_PURGE_RETRY_MS;
        return;
    }
    int was_deferred = c->deferred;
    c->deferred = 0;
    c->last_ms = now;
    tv_purge_result pr;
    int prc = tv_node_purge(n, now, 1, 1, &pr);
    if (took == 1) tv_node_lock_release(n);
    if (prc && prc != TV_EBUSY) {
        logf_("purge failed: %s", tv_strerror(prc));
        return;
    }
    if (pr.st.scans || pr.st.persons || pr.st.reveals)
        logf_("purged what is older than %u days: %" PRIu64 " scans, %" PRIu64
              " person records, %" PRIu64 " audit rows",
              pr.days, pr.st.scans, pr.st.persons, pr.st.reveals);
    if (prc == TV_EBUSY) { /* what it removed is removed; the rewrite comes again */
        if (!was_deferred) logf_("purge deferred: another program has the store open to write");
        c->deferred = 1;
        c->last_ms = now - TV_PURGE_INTERVAL_MS + TV_DAEMON_PURGE_RETRY_MS;
    }
}

/* The node's own chores between turns: status file, parked batches, retention. */
static void chores(tvd *d, int64_t now)
{
    if (d->status_dirty && now - d->status_ms >= TV_DAEMON_STATUS_MS) write_status(d, now);
    if (now - d->park_ms >= TV_DAEMON_PARK_MS) {
        d->park_ms = now;
        (void)store_write(d->n->st, park_release_fn, &now);
    }
    if (!d->o->once) /* serve, not sync --once */
        tv_daemon_purge_chore(d->n, d->o->purge ? d->o->purge : &d->purge, now);
}

/* Waits for traffic, or until a session's timer or our own look-around is due. */
static int wait_traffic(tvd *d, int64_t now)
{
    int64_t wake = tv_driver_wake(d->drv, now, now + TV_DAEMON_LOOP_MS_MAX);
    tvz_poll_item items[TVZ_POLL_ITEMS_MAX];
    size_t ni = 0;
    if (d->lis) items[ni++] = (tvz_poll_item){.listener = d->lis};
    for (uint32_t i = 0; i < d->nlinks && ni < TVZ_POLL_ITEMS_MAX; i++)
        if (d->links[i].conn) items[ni++] = (tvz_poll_item){.conn = d->links[i].conn};
    long wait = wake > now ? (long)(wake - now) : 0;
    return tvz_poll(items, ni, wait) < 0 ? TV_EIO : TV_OK;
}

static int daemon_start(tvd *d)
{
    tv_node *n = d->n;
    store_txn *t;
    int rc;
    if ((rc = store_read_begin(n->st, &t))) return rc;
    size_t elen;
    rc = store_meta_get(t, "epoch", d->epoch, sizeof d->epoch, &elen);
    d->resync = tv_resync_required(t, NULL) == 1;
    crdt_cert *mine = malloc(sizeof *mine);
    int enrolled = mine && store_cert_get(t, n->id.pk, mine, NULL, NULL) == 0;
    free(mine);
    store_read_end(t);
    if (rc) return rc;
    if (!enrolled) return TV_EUNTRUSTED;
    if ((rc = tvz_ctx_new(&n->id, NULL, &d->ctx))) return rc;
    if ((rc = refresh_allow(d))) return rc;
    tv_driver_config cfg = {.st = n->st,
                            .self = &n->id,
                            .sessions_max = TV_DAEMON_SESSIONS_MAX,
                            .restart_ms = RECREATE_MS,
                            .fallback_ms = TV_DAEMON_FALLBACK_MS,
                            .poll_store = 1,
                            .hello_restarts = 1,
                            .once = d->o->once};
    memcpy(cfg.epoch, d->epoch, SYNC_EPOCH_BYTES);
    tv_driver_ops ops = {.arg = d,
                         .now_ms = wall_now,
                         .send = zsend,
                         .recv = zrecv,
                         .connect = link_connect,
                         .disconnect = link_drop,
                         .flushed = after_flush,
                         .changed = store_changed,
                         .session = session_done,
                         .unreachable = link_unreachable,
                         .trying = link_trying};
    if ((rc = tv_driver_new(&d->drv, &cfg, &ops))) return rc;
    if ((rc = setup_links(d))) return rc;
    if (d->o->listen && d->conf.listen[0]) {
        if ((rc = tvz_listener_new(d->ctx, d->conf.listen, &d->lis))) {
            logf_("cannot listen on %s: %s", d->conf.listen, tv_strerror(rc));
            return rc;
        }
        logf_("listening on %s", tvz_listener_endpoint(d->lis));
    }
    if (!d->lis && d->nlinks == 0) return TV_EINVAL;
    if (d->o->once && tv_driver_active_parent(d->drv) < 0) return TV_ENOTFOUND;
    return TV_OK;
}

static void node_lock(const tv_daemon_opts *o)
{
    if (o->mu) pthread_mutex_lock(o->mu);
}

static void node_unlock(const tv_daemon_opts *o)
{
    if (o->mu) pthread_mutex_unlock(o->mu);
}

int tv_daemon_run(tv_node *n, const tv_daemon_opts *o, tv_daemon_result *r)
{
    memset(r, 0, sizeof *r);
    tvd *d = calloc(1, sizeof *d);
    if (!d) return TV_ENOMEM;
    d->n = n;
    d->o = o;
    d->r = r;
    int64_t now = tv_wall_ms(), started = now;
    node_lock(o);
    int rc = daemon_start(d);
    if (rc) goto out;
    while (!(o->stop && *o->stop)) {
        now = tv_wall_ms();
        if (o->once && o->timeout_ms && now - started >= o->timeout_ms) {
            r->error = TV_EBUSY;
            break;
        }
        node_unlock(o);
        rc = wait_traffic(d, now);
        node_lock(o);
        if (rc || (rc = tv_driver_turn(d->drv))) break;
        if (o->once && once_done(d, r)) break;
        if (tv_driver_gave_up(d->drv)) {
            r->error = TV_EBUSY;
            break;
        }
        chores(d, tv_wall_ms());
    }
    uint32_t nsess;
    tv_driver_session *sess = tv_driver_sessions(d->drv, &nsess);
    if (!rc) {
        /* say goodbye, give the transport a moment to carry it */
        tv_driver_close_all(d->drv);
        write_status(d, tv_wall_ms());
    }
    for (uint32_t i = 0; i < nsess; i++) {
        sync_stats st;
        sync_peer_stats(sess[i].s, &st);
        r->events_in += st.events_in;
        r->events_out += st.events_out;
        r->refused += st.refused_in;
    }
    int ap = tv_driver_active_parent(d->drv);
    if (ap >= 0)
        snprintf(r->peer_endpoint, sizeof r->peer_endpoint, "%s", d->links[ap].cfg.endpoint);
out:
    for (uint32_t i = 0; i < d->nlinks; i++)
        tvz_conn_free(d->links[i].conn);
    tv_driver_free(d->drv);
    tvz_listener_free(d->lis);
    tvz_ctx_free(d->ctx);
    free(d);
    node_unlock(o);
    return rc;
}
