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

/* Unindexes and deletes the held batch of the log numbered origin_no at first_seq. */
static int drop_batch(store_txn *t, uint32_t origin_no, uint64_t first_seq)
{
    uint8_t key[12];
    store_be32_(key, origin_no);
    store_be64_(key + 4, first_seq);
    MDB_val v;
    int rc = store_get_(t, T_BATCHES, key, sizeof key, &v);
    if (rc) return rc == TV_ENOTFOUND ? TV_ECORRUPT : rc;
    /* the batch's bytes outlive the index writes below */
    uint8_t *copy = malloc(v.mv_size);
    if (!copy) return TV_ENOMEM;
    memcpy(copy, v.mv_data, v.mv_size);
    rc = unindex_batch(t, origin_no, copy, v.mv_size);
    free(copy);
    if (rc) return rc;
    MDB_val k = {sizeof key, key};
    rc = mdb_del(t->txn, t->s->dbi[T_BATCHES], &k, NULL);
    return rc ? store_err_(t, rc) : TV_OK;
}

int store_checkpoint_drop_(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], uint32_t origin_no,
                           const store_r2 *r, int base, uint64_t upto,
                           const uint8_t hash[TV_HASH_BYTES])
{
    int rc = TV_OK;
    for (size_t i = 0; origin_no && r && i < r->n && rc == 0; i++)
        rc = drop_batch(t, origin_no, r->drop[i]);
    if (rc || !base) return rc;
    uint8_t v[BASE_BYTES];
    store_be64_(v, upto);
    memcpy(v + 8, hash, TV_HASH_BYTES);
    return store_put_(t, T_BASES, origin, TV_NODE_ID_BYTES, v, sizeof v);
}

/* --- R2: what a receiver holds of a dropped prefix, the checkpoint must carry ---------- */

typedef struct r2_copy {
    uint64_t seq;
    const uint8_t *ev;
    size_t len;
} r2_copy;

typedef struct r2_copies {
    r2_copy *c;
    size_t n, cap;
    uint64_t max_seq; /* the last seq copied so far */
} r2_copies;

static int copies_add(r2_copies *cs, const crdt_event *ev)
{
    if (!(ev->known && ev->type == CRDT_EV_CHECKPOINT && ev->u.checkpoint.copy)) return 0;
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? 2 * cs->cap : 256;
        r2_copy *c = realloc(cs->c, cap * sizeof *c);
        if (!c) return TV_ENOMEM;
        cs->c = c;
        cs->cap = cap;
    }
    cs->c[cs->n++] =
        (r2_copy){ev->u.checkpoint.seq, ev->u.checkpoint.event, ev->u.checkpoint.event_len};
    if (ev->u.checkpoint.seq > cs->max_seq) cs->max_seq = ev->u.checkpoint.seq;
    return 0;
}

static int copy_cmp(const void *a, const void *b)
{
    const r2_copy *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Could the writer's next event have gone into b? A writer opens a new batch only when the
 * one it fills has CRDT_BATCH_EVENTS_MAX events or no room for the largest copy
 * (node/logic/node.c open_builder), so a checkpoint's copies go on past a batch only when it is
 * full; the body's array header only makes this say "full" more often. */
static int batch_full(const crdt_batch *b)
{
    const size_t room = CRDT_BATCH_BYTES_MAX - CRDT_BATCH_HEADER_BYTES_MAX - 256;
    return b->h.count >= CRDT_BATCH_EVENTS_MAX ||
           b->body_len + CRDT_EVENT_BYTES_MAX + CRDT_COPY_OVERHEAD_MAX > room;
}

/* The copies of the checkpoint's batches held already: the log from upto + 1 on. */
static int copies_held(store_txn *t, uint32_t origin_no, uint64_t upto, uint64_t frontier,
                       r2_copies *cs, int *ended_out)
{
    int rc = TV_OK;
    for (uint64_t seq = upto + 1; seq <= frontier && rc == 0;) {
        uint8_t key[12];
        store_be32_(key, origin_no);
        store_be64_(key + 4, seq);
        MDB_val v;
        if ((rc = store_get_(t, T_BATCHES, key, sizeof key, &v))) break;
        crdt_batch b;
        if (crdt_batch_peek(&b, v.mv_data, v.mv_size)) return TV_ECORRUPT;
        crdt_batch_iter it;
        crdt_batch_iter_init(&it, &b);
        crdt_event ev;
        int more, ended = 0;
        for (uint32_t i = 0; (more = crdt_batch_iter_next(&it, &ev)) == 1 && rc == 0; i++) {
            if (ev.known && ev.type == CRDT_EV_CHECKPOINT && ev.u.checkpoint.copy)
                rc = copies_add(cs, &ev);
            else if (!(i == 0 && seq == upto + 1)) /* the copies ended: none follows */
                ended = 1;
        }
        crdt_batch_iter_release(&it);
        if (more < 0) return TV_ECORRUPT;
        if (ended || !batch_full(&b)) {
            *ended_out = 1; /* b is the checkpoint's last batch */
            break;
        }
        seq = b.h.first_seq + b.h.count;
    }
    return rc == TV_ENOTFOUND ? TV_OK : rc;
}

static int r2_keep(store_r2 *r, uint64_t first_seq)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        uint64_t *d = realloc(r->drop, cap * sizeof *d);
        if (!d) return TV_ENOMEM;
        r->drop = d;
        r->cap = cap;
    }
    r->drop[r->n++] = first_seq;
    return TV_OK;
}

/* Judges the events of one held batch of the prefix: 0 (each in force is carried), 1 (one
 * is not carried yet but may be), TV_EFORK (one is not carried), or an error. */
static int held_batch_r2(const uint8_t *buf, size_t len, uint64_t upto, int64_t cut,
                         const r2_copies *cs, int ended)
{
    crdt_batch b;
    if (crdt_batch_peek(&b, buf, len)) return TV_ECORRUPT;
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    crdt_event ev, inner;
    msgpack_unpacked scratch;
    msgpack_unpacked_init(&scratch);
    int rc, out = 0;
    for (uint64_t seq = b.h.first_seq; (rc = crdt_batch_iter_next(&it, &ev)) == 1; seq++) {
        const crdt_event *e = &ev;
        const uint8_t *raw = ev.raw;
        size_t raw_len = ev.raw_len;
        uint64_t at = seq;
        if (ev.known && ev.type == CRDT_EV_CHECKPOINT && ev.u.checkpoint.copy) {
            if (crdt_event_copy_open(&ev, &inner, &scratch)) continue; /* verified when stored */
            e = &inner;
            raw = ev.u.checkpoint.event;
            raw_len = ev.u.checkpoint.event_len;
            at = ev.u.checkpoint.seq;
        }
        if (at > upto || !e->known || e->type != CRDT_EV_SCAN || e->u.scan.at_ms < cut) continue;
        r2_copy key = {.seq = at};
        const r2_copy *c = cs->n ? bsearch(&key, cs->c, cs->n, sizeof key, copy_cmp) : NULL;
        if (c && (c->len != raw_len || memcmp(c->ev, raw, raw_len) != 0)) {
            out = TV_EFORK; /* another event at its seq */
            break;
        }
        if (!c && (ended || at < cs->max_seq)) {
            out = TV_EFORK; /* left out */
            break;
        }
        if (!c) out = 1;
    }
    msgpack_unpacked_destroy(&scratch);
    crdt_batch_iter_release(&it);
    return rc < 0 ? TV_ECORRUPT : out;
}

/* Is a batch held of the log numbered origin_no at or below upto? (*cur is left on it) */
static int held_below(store_txn *t, uint32_t origin_no, uint64_t upto, MDB_cursor **cur, MDB_val *k,
                      MDB_val *v)
{
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_BATCHES], cur);
    if (rc) return store_err_(t, rc);
    uint8_t key[12];
    store_be32_(key, origin_no);
    store_be64_(key + 4, 0);
    k->mv_size = sizeof key;
    k->mv_data = key;
    rc = mdb_cursor_get(*cur, k, v, MDB_SET_RANGE);
    if (rc == 0 && k->mv_size == 12 && store_get32_(k->mv_data) == origin_no &&
        store_get64_((const uint8_t *)k->mv_data + 4) <= upto)
        return 1;
    mdb_cursor_close(*cur);
    *cur = NULL;
    return rc && rc != MDB_NOTFOUND ? store_err_(t, rc) : 0;
}

int store_r2_pending_(store_txn *t, uint32_t origin_no, uint64_t upto)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = held_below(t, origin_no, upto, &cur, &k, &v);
    if (cur) mdb_cursor_close(cur);
    return rc;
}

int store_r2_check_(store_txn *t, const crdt_batch *b, uint32_t origin_no, uint64_t frontier,
                    uint64_t upto, int base, const crdt_event *evs, uint32_t n, store_r2 *out)
{
    memset(out, 0, sizeof *out);
    if (!origin_no || !upto) return TV_OK;
    /* anything held of the prefix? (a log taken from its base holds nothing of it) */
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = held_below(t, origin_no, upto, &cur, &k, &v);
    if (rc <= 0) return rc;
    int mrc = 0;

    store_retention ret;
    if ((rc = store_retention_get(t, &ret))) {
        mdb_cursor_close(cur);
        return rc;
    }
    /* in force as of the checkpoint's own time, with a day to spare (clocks, a change of the
     * period on its way) */
    const int64_t cut =
        store_retention_cutoff(&ret, (int64_t)crdt_hlc_ms(b->h.hlc_min)) + INT64_C(86400000);
    r2_copies cs = {0};
    int ended = !batch_full(b); /* else the copies may go on in the next batch */
    if (!base) rc = copies_held(t, origin_no, upto, frontier, &cs, &ended);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        if (evs[i].known && evs[i].type == CRDT_EV_CHECKPOINT && evs[i].u.checkpoint.copy)
            rc = copies_add(&cs, &evs[i]);
        else if (!(base && i == 0))
            ended = 1; /* the checkpoint's copies end in this batch */
    }
    if (rc == 0 && cs.n) qsort(cs.c, cs.n, sizeof *cs.c, copy_cmp);
    /* the held batches of the prefix, judged before anything is written */
    for (; rc == 0 && mrc == 0; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 12 || store_get32_(k.mv_data) != origin_no) break;
        const uint64_t first = store_get64_((const uint8_t *)k.mv_data + 4);
        if (first > upto) break;
        int judged = held_batch_r2(v.mv_data, v.mv_size, upto, cut, &cs, ended);
        if (judged < 0)
            rc = judged;
        else if (judged == 0)
            rc = r2_keep(out, first);
    }
    mdb_cursor_close(cur);
    free(cs.c);
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND) rc = store_err_(t, mrc);
    if (rc) store_r2_release(out);
    return rc;
}

int store_checkpoints_waiting(store_txn *t, store_ckpt_wait_fn fn, void *ctx)
{
    MDB_cursor *bases;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_BASES], &bases);
    if (rc) return store_err_(t, rc);
    MDB_val k, v;
    int out = TV_OK;
    for (rc = mdb_cursor_get(bases, &k, &v, MDB_FIRST); rc == 0 && out == 0;
         rc = mdb_cursor_get(bases, &k, &v, MDB_NEXT)) {
        if (k.mv_size != TV_NODE_ID_BYTES || v.mv_size != BASE_BYTES) {
            out = TV_ECORRUPT;
            break;
        }
        const uint64_t upto = store_get64_(v.mv_data);
        MDB_val fv;
        if ((out = store_get_(t, T_FRONTIER, k.mv_data, TV_NODE_ID_BYTES, &fv))) break;
        if (fv.mv_size != FRONTIER_BYTES) {
            out = TV_ECORRUPT;
            break;
        }
        const uint32_t no = store_get32_((const uint8_t *)fv.mv_data + 24 + TV_HASH_BYTES);
        MDB_cursor *cur;
        MDB_val bk, bv;
        int held = held_below(t, no, upto, &cur, &bk, &bv);
        if (held < 0) {
            out = held;
            break;
        }
        if (!held) continue;
        const uint64_t first = store_get64_((const uint8_t *)bk.mv_data + 4);
        mdb_cursor_close(cur);
        out = fn(k.mv_data, upto, first, ctx);
    }
    mdb_cursor_close(bases);
    if (out) return out == TV_ENOTFOUND ? TV_ECORRUPT : out;
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

int store_restored_(store_txn *t)
{
    uint8_t v[8];
    size_t len;
    int rc = store_meta_get(t, "resync", v, sizeof v, &len);
    return rc == TV_OK || rc == TV_ELIMIT;
}

void store_r2_release(store_r2 *r)
{
    free(r->drop);
    memset(r, 0, sizeof *r);
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

typedef struct latest_ctx {
    store_case last;
    int found;
} latest_ctx;

static int latest_case(const store_case *c, void *arg)
{
    latest_ctx *l = arg;
    l->last = *c;
    l->found = 1;
    return 0;
}

/* 1 when a health audience's case status (opened) older than the period is still the
 * person's status in force and not a clearing, or the person is held: a case followed
 * longer than the period keeps its status; else 0. */
static int status_in_force(walk_ctx *w, const crdt_event *in)
{
    int rc = store_held(w->t, in->u.cstatus.person);
    if (rc) return rc;
    latest_ctx l = {.found = 0};
    if ((rc = store_cases_foreach(w->t, in->u.cstatus.person, latest_case, &l))) return rc;
    return l.found && l.last.hlc == in->hlc &&
           memcmp(l.last.origin, w->self, TV_NODE_ID_BYTES) == 0 &&
           l.last.status != CRDT_CASE_CLEARED;
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
    case CRDT_EV_SEALED: { /* the health audience's reveal, hold or status: as that
                            * event; a commune's notice or exposure: for the period */
        if (recent(w, ev->hlc)) return 1;
        uint8_t inner[CRDT_SEALED_INNER_BYTES_MAX];
        msgpack_unpacked scratch;
        msgpack_unpacked_init(&scratch);
        crdt_event in;
        rc = 0;
        if (store_sealed_open_health_(w->t, ev, w->self, &in, &scratch, inner)) {
            if (in.type == CRDT_EV_REVEAL || in.type == CRDT_EV_HOLD)
                rc = in_force(w, &in, seq);
            else if (in.type == CRDT_EV_CASE_STATUS)
                rc = status_in_force(w, &in);
        }
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
