/* Checkpoints (PROTOCOL.md §3.4): an origin's log truncated behind a base. A receiver that
 * applies a base drops what it holds of the log up to it -- the batches and the scan
 * index rows they made -- and keeps (upto, hash) as where the log starts again, so that
 * the log's hash chain, its frontier, sync and bundles go on from there. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "store/internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define BASE_BYTES (8 + TV_HASH_BYTES)

int store_base_get(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], uint64_t *upto,
                   uint8_t hash[TV_HASH_BYTES])
{
    *upto = 0;
    if (hash) memset(hash, 0, TV_HASH_BYTES);
    MDB_val v;
    int rc = store_get_(t, T_BASES, origin, TV_NODE_ID_BYTES, &v);
    if (rc) return rc;
    if (v.mv_size != BASE_BYTES) return TV_ECORRUPT;
    *upto = store_get64_(v.mv_data);
    if (hash) memcpy(hash, (const uint8_t *)v.mv_data + 8, TV_HASH_BYTES);
    return TV_OK;
}

/* Deletes the scan index rows that the events of one stored batch made -- its scans at
 * their own seq, and the scans its checkpoint copies carry at the seq they name -- and
 * takes the batch out of the counters of what is held. */
static int unindex_batch(store_txn *t, uint32_t origin_no, const uint8_t *buf, size_t len)
{
    uint64_t by_type[STORE_EVENT_TYPES_MAX] = {0};
    crdt_batch b;
    if (crdt_batch_peek(&b, buf, len)) return TV_ECORRUPT;
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    crdt_event ev, inner;
    msgpack_unpacked scratch;
    msgpack_unpacked_init(&scratch);
    int rc;
    for (uint64_t seq = b.h.first_seq; (rc = crdt_batch_iter_next(&it, &ev)) == 1; seq++) {
        by_type[ev.type < STORE_EVENT_TYPES_MAX ? ev.type : 0]++;
        const crdt_event *e = &ev;
        uint64_t at = seq;
        if (ev.known && ev.type == CRDT_EV_CHECKPOINT && ev.u.checkpoint.copy) {
            if (crdt_event_copy_open(&ev, &inner, &scratch)) continue; /* verified when stored */
            e = &inner;
            at = ev.u.checkpoint.seq;
        }
        if (e->known && e->type == CRDT_EV_SCAN &&
            (rc = store_scan_unindex_(t, &e->u.scan, origin_no, at)))
            break;
        /* a sealed event's row names where it lies (store_sealed_apply_) */
        if (e->known && e->type == CRDT_EV_SEALED &&
            (rc = store_sealed_unindex_(t, e, origin_no, seq)))
            break;
    }
    msgpack_unpacked_destroy(&scratch);
    crdt_batch_iter_release(&it);
    if (rc < 0) return store_fatal_(rc) ? rc : TV_ECORRUPT;
    /* counters are added modulo 2^64: adding the complement takes away */
    if ((rc = store_count_add_(t, COUNT_EVENTS, -(uint64_t)b.h.count)) ||
        (rc = store_count_add_(t, COUNT_BATCHES, UINT64_MAX)))
        return rc;
    for (uint32_t i = 0; i < STORE_EVENT_TYPES_MAX; i++)
        if (by_type[i] && (rc = store_count_add_(t, COUNT_TYPE_BASE + i, -by_type[i]))) return rc;
    return TV_OK;
}

int store_checkpoint_drop_(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], uint32_t origin_no,
                           uint64_t upto, const uint8_t hash[TV_HASH_BYTES])
{
    int rc = TV_OK;
    if (origin_no) {
        MDB_cursor *cur;
        if ((rc = mdb_cursor_open(t->txn, t->s->dbi[T_BATCHES], &cur))) return store_err_(t, rc);
        uint8_t key[12];
        store_be32_(key, origin_no);
        store_be64_(key + 4, 0);
        MDB_val k = {sizeof key, key}, v;
        uint8_t *copy = NULL;
        int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        while (mrc == 0 && rc == 0) {
            if (k.mv_size != 12 || store_get32_(k.mv_data) != origin_no ||
                store_get64_((const uint8_t *)k.mv_data + 4) > upto)
                break;
            /* the batch's bytes outlive the index writes below */
            uint8_t *c = realloc(copy, v.mv_size);
            if (!c) {
                rc = TV_ENOMEM;
                break;
            }
            copy = c;
            memcpy(copy, v.mv_data, v.mv_size);
            memcpy(key, k.mv_data, sizeof key);
            if ((rc = unindex_batch(t, origin_no, copy, v.mv_size))) break;
            MDB_val at = {sizeof key, key};
            if ((mrc = mdb_cursor_get(cur, &at, &v, MDB_SET)) == 0 &&
                (mrc = mdb_cursor_del(cur, 0)) == 0) {
                k = at;
                mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
            }
        }
        free(copy);
        mdb_cursor_close(cur);
        if (rc == 0 && mrc && mrc != MDB_NOTFOUND) rc = store_err_(t, mrc);
        if (rc) return rc;
    }
    uint8_t v[BASE_BYTES];
    store_be64_(v, upto);
    memcpy(v + 8, hash, TV_HASH_BYTES);
    return store_put_(t, T_BASES, origin, TV_NODE_ID_BYTES, v, sizeof v);
}

/* --- what a checkpoint of this node's own log carries over --------------------------- */

typedef struct walk_ctx {
    store_txn *t;
    const uint8_t *self;
    int64_t cutoff;
    store_checkpoint_plan *p;
    size_t cap;
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
    store_person sp;
    store_hold h;
    int rc;
    switch (ev->type) {
    case CRDT_EV_CHECKPOINT: /* a base: the new one replaces it */
        return 0;
    case CRDT_EV_PERSON: /* the standing record, left by the purge to people in force */
        rc = store_person_get(w->t, ev->u.person.person, &sp);
        if (rc) return rc == TV_ENOTFOUND ? 0 : rc;
        return memcmp(sp.origin, w->self, TV_NODE_ID_BYTES) == 0 && sp.seq == seq;
    case CRDT_EV_SCAN: /* a scan within the period, or of a held person */
        return ev->u.scan.at_ms >= w->cutoff ? 1 : store_held(w->t, ev->u.scan.person);
    case CRDT_EV_CASE_STATUS:
        return recent(w, ev->hlc) ? 1 : store_held(w->t, ev->u.cstatus.person);
    case CRDT_EV_REVEAL:
        return recent(w, ev->hlc) ? 1 : store_held(w->t, ev->u.reveal.person);
    case CRDT_EV_HOLD: /* its own audit: kept for the period, and while it holds */
        if (recent(w, ev->hlc)) return 1;
        rc = store_hold_get(w->t, ev->u.hold.person, &h);
        if (rc) return rc == TV_ENOTFOUND ? 0 : rc;
        return h.held && h.hlc == ev->hlc && memcmp(h.origin, w->self, TV_NODE_ID_BYTES) == 0;
    case CRDT_EV_SEALED: { /* the health audience's reveal or hold: as that event; the
                            * rest (statuses, notices, exposures): kept */
        uint8_t inner[CRDT_SEALED_INNER_BYTES_MAX];
        msgpack_unpacked scratch;
        msgpack_unpacked_init(&scratch);
        crdt_event in;
        rc = 1;
        if (store_sealed_open_health_(w->t, ev, w->self, &in, &scratch, inner) &&
            (in.type == CRDT_EV_REVEAL || in.type == CRDT_EV_HOLD))
            rc = in_force(w, &in, seq);
        msgpack_unpacked_destroy(&scratch);
        sodium_memzero(inner, sizeof inner);
        return rc;
    }
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
            if (!(e->known && e->type == CRDT_EV_CHECKPOINT)) w->p->dropped++;
            continue;
        }
        store_checkpoint_plan *p = w->p;
        if (p->n == w->cap) {
            size_t cap = w->cap ? 2 * w->cap : 64;
            store_copy *c = realloc(p->copies, cap * sizeof *c);
            if (!c) {
                rc = TV_ENOMEM;
                break;
            }
            p->copies = c;
            w->cap = cap;
        }
        store_copy *c = &p->copies[p->n];
        if (!(c->raw = malloc(e->raw_len))) {
            rc = TV_ENOMEM;
            break;
        }
        memcpy(c->raw, e->raw, e->raw_len);
        c->len = e->raw_len;
        c->seq = at;
        p->n++;
    }
    crdt_batch_iter_release(&it);
    return rc < 0 ? rc : TV_OK;
}

int store_checkpoint_plan_make(store_txn *t, const uint8_t self[TV_NODE_ID_BYTES],
                               int64_t cutoff_ms, store_checkpoint_plan *p)
{
    memset(p, 0, sizeof *p);
    walk_ctx w = {.t = t, .self = self, .cutoff = cutoff_ms, .p = p};
    store_frontier f;
    uint64_t base = 0;
    int rc = store_frontier_get(t, self, &f);
    if (rc == TV_ENOTFOUND) return TV_OK; /* an empty log */
    if (rc == 0) rc = store_base_get(t, self, &base, NULL);
    if (rc == TV_ENOTFOUND) rc = TV_OK;
    p->upto = f.seq;
    memcpy(p->hash, f.hash, TV_HASH_BYTES);
    msgpack_unpacked_init(&w.scratch);
    /* the log since its last base, batch by batch */
    for (uint64_t seq = base + 1; rc == 0 && seq <= f.seq;) {
        const uint8_t *buf;
        size_t len;
        crdt_batch b;
        if ((rc = store_batch_at(t, self, seq, &buf, &len))) break;
        if ((rc = crdt_batch_peek(&b, buf, len))) break;
        if ((rc = walk_batch(&w, buf, len))) break;
        seq = b.h.first_seq + b.h.count;
    }
    msgpack_unpacked_destroy(&w.scratch);
    if (rc) store_checkpoint_plan_release(p);
    return rc;
}

void store_checkpoint_plan_release(store_checkpoint_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->copies[i].raw);
    free(p->copies);
    memset(p, 0, sizeof *p);
}
