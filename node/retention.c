/* Retention at a node: purge, then rewrite the data file (see retention.h). */
#include "node/retention.h"

#include "crdt/error.h"
#include "node/resync.h"
#include "crdt/hlc.h"

#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct purge_ctx {
    int64_t now;
    tv_purge_result *out;
} purge_ctx;

static int purge_fn(store_txn *t, void *arg)
{
    purge_ctx *c = arg;
    store_retention r;
    int rc = store_retention_get(t, &r);
    if (rc) return rc;
    c->out->days = r.days;
    if ((rc = store_purge(t, store_retention_cutoff(&r, c->now), &c->out->st))) return rc;
    uint8_t v[8];
    for (int i = 7, x = 0; i >= 0; i--, x += 8)
        v[i] = (uint8_t)((uint64_t)c->now >> x);
    return store_meta_put(t, "purged", v, sizeof v);
}

typedef struct file_ctx {
    const char *path;
} file_ctx;

/* The rewritten file's identity, recorded in it before it replaces the old one, so that
 * the next open does not take it for a restore (node.c epoch_check). */
static int file_id_fn(store_txn *t, void *arg)
{
    const file_ctx *c = arg;
    uint8_t id[TV_STORE_FILE_ID_BYTES];
    int rc = tv_store_file_id(c->path, id);
    return rc ? rc : store_meta_put(t, "store_file", id, sizeof id);
}

/* --- checkpoint --------------------------------------------------------------------- */

typedef struct copy_entry {
    uint8_t *raw;
    size_t len;
    uint64_t seq;
} copy_entry;

typedef struct walk_ctx {
    store_txn *t;
    const uint8_t *self;
    int64_t cutoff;
    copy_entry *c;
    size_t n, cap;
    uint64_t dropped;
    msgpack_unpacked scratch;
} walk_ctx;

static int recent(const walk_ctx *w, uint64_t hlc)
{
    return (int64_t)crdt_hlc_ms(hlc) >= w->cutoff;
}

/* 1 when the event (of this node's log, at seq) is in force: copied into a checkpoint. */
static int in_force(walk_ctx *w, const crdt_event *ev, uint64_t seq)
{
    if (!ev->known) return 1; /* a newer node's type: kept as it is */
    store_person p;
    store_hold h;
    int rc;
    switch (ev->type) {
    case CRDT_EV_CHECKPOINT: /* a base: the new one replaces it */
        return 0;
    case CRDT_EV_PERSON: /* the standing record, left by the purge to people in force */
        rc = store_person_get(w->t, ev->u.person.person, &p);
        if (rc) return rc == TV_ENOTFOUND ? 0 : rc;
        return memcmp(p.origin, w->self, TV_NODE_ID_BYTES) == 0 && p.seq == seq;
    case CRDT_EV_SCAN: /* a scan within the period, or of a held person */
        return ev->u.scan.at_ms >= w->cutoff ? 1 : store_held(w->t, ev->u.scan.person);
    case CRDT_EV_CASE_STATUS:
        return recent(w, ev->hlc) ? 1 : store_held(w->t, ev->u.cstatus.person);
    case CRDT_EV_REVEAL:
        return recent(w, ev->hlc) ? 1 : store_held(w->t, ev->u.reveal.person);
    case CRDT_EV_HOLD:
        rc = store_hold_get(w->t, ev->u.hold.person, &h);
        if (rc) return rc == TV_ENOTFOUND ? 0 : rc;
        return h.held && h.hlc == ev->hlc && memcmp(h.origin, w->self, TV_NODE_ID_BYTES) == 0;
    default: /* venues, controllers, reminders, certificates, revocations, units, risks,
              * retention: few, small, and the state every node needs */
        return 1;
    }
}

static int walk_batch(walk_ctx *w, const uint8_t *buf, size_t len)
{
    crdt_batch b;
    if (crdt_batch_peek(&b, buf, len)) return TV_ECORRUPT;
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    crdt_event ev, inner;
    int rc;
    for (uint64_t seq = b.h.first_seq; (rc = crdt_batch_iter_next(&it, &ev)) == 1; seq++) {
        const crdt_event *e = &ev;
        uint64_t at = seq;
        if (ev.known && ev.type == CRDT_EV_CHECKPOINT && ev.u.checkpoint.copy) {
            if ((rc = crdt_event_copy_open(&ev, &inner, &w->scratch))) break;
            e = &inner; /* judged again, and carried on under the seq it names */
            at = ev.u.checkpoint.seq;
        }
        int keep = in_force(w, e, at);
        if (keep < 0) {
            rc = keep;
            break;
        }
        if (!keep) {
            if (!(e->known && e->type == CRDT_EV_CHECKPOINT)) w->dropped++;
            continue;
        }
        if (w->n == w->cap) {
            size_t cap = w->cap ? 2 * w->cap : 64;
            copy_entry *c = realloc(w->c, cap * sizeof *c);
            if (!c) {
                rc = TV_ENOMEM;
                break;
            }
            w->c = c;
            w->cap = cap;
        }
        copy_entry *c = &w->c[w->n];
        if (!(c->raw = malloc(e->raw_len))) {
            rc = TV_ENOMEM;
            break;
        }
        memcpy(c->raw, e->raw, e->raw_len);
        c->len = e->raw_len;
        c->seq = at;
        w->n++;
    }
    crdt_batch_iter_release(&it);
    return rc < 0 ? rc : TV_OK;
}

int tv_node_checkpoint(tv_node *n, int64_t now_ms, int eager, tv_checkpoint_result *out)
{
    memset(out, 0, sizeof *out);
    int rc = tv_node_may_record(n);
    if (rc) return rc;
    walk_ctx w = {.self = n->id.pk};
    msgpack_unpacked_init(&w.scratch);
    store_frontier f;
    store_retention r;
    uint64_t base = 0;
    if ((rc = store_read_begin(n->st, &w.t))) goto out;
    rc = store_retention_get(w.t, &r);
    w.cutoff = store_retention_cutoff(&r, now_ms);
    if (rc == 0) rc = store_frontier_get(w.t, n->id.pk, &f);
    if (rc == 0) rc = store_base_get(w.t, n->id.pk, &base, NULL);
    if (rc == TV_ENOTFOUND) rc = TV_OK;
    /* the log since its last base, batch by batch */
    for (uint64_t seq = base + 1; rc == 0 && seq <= f.seq;) {
        const uint8_t *buf;
        size_t len;
        crdt_batch b;
        if ((rc = store_batch_at(w.t, n->id.pk, seq, &buf, &len))) break;
        if ((rc = crdt_batch_peek(&b, buf, len))) break;
        if ((rc = walk_batch(&w, buf, len))) break;
        seq = b.h.first_seq + b.h.count;
    }
    store_read_end(w.t);
    /* nothing to leave behind; or, unless asked, too little for what it would resend */
    if (rc || w.dropped == 0 || (!eager && w.dropped < w.n)) goto out;
    crdt_checkpoint cp = {.upto = f.seq};
    memcpy(cp.hash, f.hash, TV_HASH_BYTES);
    rc = tv_node_add_checkpoint(n, &cp);
    for (size_t i = 0; i < w.n && rc == 0; i++) {
        crdt_checkpoint c = {
            .copy = 1, .event = w.c[i].raw, .event_len = w.c[i].len, .seq = w.c[i].seq};
        rc = tv_node_add_checkpoint(n, &c);
    }
    uint64_t first;
    if (rc == 0) rc = tv_node_commit(n, &first);
    if (rc) {
        tv_node_discard(n);
        goto out;
    }
    out->written = 1;
    out->upto = f.seq;
    out->copies = w.n;
    out->dropped = w.dropped;
out:
    for (size_t i = 0; i < w.n; i++)
        free(w.c[i].raw);
    free(w.c);
    msgpack_unpacked_destroy(&w.scratch);
    return rc;
}

/* --- purge ----------------------------------------------------------------------------- */

int tv_node_purge(tv_node *n, int64_t now_ms, int checkpoint, int compact, tv_purge_result *out)
{
    memset(out, 0, sizeof *out);
    purge_ctx c = {.now = now_ms, .out = out};
    store_size sz;
    int rc = store_size_get(n->st, &sz);
    if (rc) return rc;
    out->bytes_before = out->bytes_after = sz.file_bytes;
    if ((rc = store_write(n->st, purge_fn, &c))) return rc;
    if (checkpoint && (rc = tv_node_checkpoint(n, now_ms, checkpoint > 1, &out->cp)) &&
        rc != TV_ERESTORED)
        return rc;
    if (!compact) return TV_OK;
    char dir[PATH_MAX], file[PATH_MAX + 32];
    if ((size_t)snprintf(dir, sizeof dir, "%s/store", n->dir) >= sizeof dir) return TV_EINVAL;
    snprintf(file, sizeof file, "%s/" STORE_COMPACT_FILE, dir);
    file_ctx f = {file};
    if ((rc = store_compact(n->st, dir, file_id_fn, &f))) return rc;
    if ((rc = store_size_get(n->st, &sz))) return rc;
    out->bytes_after = sz.file_bytes;
    return TV_OK;
}
