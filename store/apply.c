/* The one apply path: verify, check the chain, store verbatim, update indexes and views. */
#include "crdt/assert.h"
#include "crdt/error.h"
#include "store/internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Per-batch accumulators, so that a batch of scans touches each aggregate key once. */
#define ACC_SLOTS (2 * CRDT_BATCH_EVENTS_MAX)
_Static_assert((ACC_SLOTS & (ACC_SLOTS - 1)) == 0, "ACC_SLOTS must be a power of two");

typedef struct acc_entry {
    uint8_t used;
    uint8_t key[UNIT_KEY_BYTES + 4]; /* agg: unit + day; venue_day: venue + day */
    char unit[UNIT_KEY_BYTES];       /* venue_day only: the venue's unit */
    int32_t day;
    uint64_t in, out, active;   /* agg: scans in, out, venues newly active that day */
    int64_t last_ms;            /* venue_day only: the latest scan time */
    uint8_t hll[CRDT_HLL_REGS]; /* agg only: the people scanned in */
} acc_entry;

typedef struct acc {
    acc_entry slot[ACC_SLOTS];
    uint32_t order[ACC_SLOTS]; /* used slots, in first-use order */
    uint32_t n;
} acc;

static acc_entry *acc_find(acc *a, const uint8_t *key, size_t klen)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < klen; i++)
        h = (h ^ key[i]) * 16777619u;
    for (uint32_t i = h & (ACC_SLOTS - 1);; i = (i + 1) & (ACC_SLOTS - 1)) {
        acc_entry *e = &a->slot[i];
        if (!e->used) {
            e->used = 1;
            memcpy(e->key, key, klen);
            a->order[a->n++] = i;
            return e;
        }
        if (memcmp(e->key, key, klen) == 0) return e;
    }
}

static void acc_clear(acc *a)
{
    for (uint32_t i = 0; i < a->n; i++)
        memset(&a->slot[a->order[i]], 0, sizeof(acc_entry));
    a->n = 0;
}

int store_count_add_(store_txn *t, uint32_t id, uint64_t delta)
{
    uint8_t k[4], v[8];
    store_be32_(k, id);
    MDB_val cur;
    int rc = store_get_(t, T_COUNTS, k, 4, &cur);
    uint64_t n = 0;
    if (rc == TV_OK && cur.mv_size == 8)
        n = store_get64_(cur.mv_data);
    else if (rc != TV_ENOTFOUND && rc != TV_OK)
        return rc;
    /* delta is two's complement (a decrement is -k): a count never goes below zero */
    TV_ASSERT(delta >> 63 ? n >= -delta : n + delta >= n);
    store_be64_(v, n + delta);
    return store_put_(t, T_COUNTS, k, 4, v, 8);
}

static void frontier_decode(store_frontier *f, uint32_t *origin_no, const uint8_t *p)
{
    f->seq = store_get64_(p);
    memcpy(f->hash, p + 8, TV_HASH_BYTES);
    f->hlc_max = store_get64_(p + 8 + TV_HASH_BYTES);
    f->received_ms = (int64_t)store_get64_(p + 16 + TV_HASH_BYTES);
    if (origin_no) *origin_no = store_get32_(p + 24 + TV_HASH_BYTES);
}

static void frontier_encode(uint8_t *p, const store_frontier *f, uint32_t origin_no)
{
    store_be64_(p, f->seq);
    memcpy(p + 8, f->hash, TV_HASH_BYTES);
    store_be64_(p + 8 + TV_HASH_BYTES, f->hlc_max);
    store_be64_(p + 16 + TV_HASH_BYTES, (uint64_t)f->received_ms);
    store_be32_(p + 24 + TV_HASH_BYTES, origin_no);
#if TV_ASSERT_ON
    store_frontier back; /* what is written reads back as it was */
    uint32_t no;
    frontier_decode(&back, &no, p);
    TV_ASSERT(back.seq == f->seq && back.hlc_max == f->hlc_max &&
              back.received_ms == f->received_ms && no == origin_no &&
              memcmp(back.hash, f->hash, TV_HASH_BYTES) == 0);
#endif
}

/* Loads origin's frontier and local number; *known = 0 when the origin is new. */
static int frontier_load(store_txn *t, const uint8_t *origin, store_frontier *f,
                         uint32_t *origin_no, int *known)
{
    memset(f, 0, sizeof *f);
    *origin_no = 0;
    *known = 0;
    MDB_val v;
    int rc = store_get_(t, T_FRONTIER, origin, TV_NODE_ID_BYTES, &v);
    if (rc == TV_ENOTFOUND) return TV_OK;
    if (rc) return rc;
    if (v.mv_size != FRONTIER_BYTES) return TV_ECORRUPT;
    frontier_decode(f, origin_no, v.mv_data);
    *known = 1;
    return TV_OK;
}

int store_frontier_get(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], store_frontier *f)
{
    uint32_t no;
    int known;
    int rc = frontier_load(t, origin, f, &no, &known);
    if (rc) return rc;
    return known ? TV_OK : TV_ENOTFOUND;
}

int store_frontier_foreach(store_txn *t, store_frontier_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_FRONTIER], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k, v;
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != TV_NODE_ID_BYTES || v.mv_size != FRONTIER_BYTES) {
            out = TV_ECORRUPT;
            break;
        }
        store_frontier f;
        frontier_decode(&f, NULL, v.mv_data);
        if ((out = fn(k.mv_data, &f, ctx))) break;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

static void batch_key(uint8_t k[12], uint32_t origin_no, uint64_t first_seq)
{
    store_be32_(k, origin_no);
    store_be64_(k + 4, first_seq);
}

/* A batch whose range we already hold: the same bytes (duplicate) or evidence of a fork. */
static int check_held(store_txn *t, uint32_t origin_no, const crdt_batch *b, store_apply_result *r)
{
    uint8_t k[12];
    batch_key(k, origin_no, b->h.first_seq);
    MDB_val v;
    int rc = store_get_(t, T_BATCHES, k, sizeof k, &v);
    if (rc == TV_ENOTFOUND) return TV_EFORK; /* batch boundaries differ: not ours */
    if (rc) return rc;
    crdt_batch held;
    if (crdt_batch_open_memo(&held, v.mv_data, v.mv_size, t->s->sig_memo)) return TV_ECORRUPT;
    if (held.h.count != b->h.count || sodium_memcmp(held.hash, b->hash, TV_HASH_BYTES) != 0)
        return TV_EFORK;
    r->duplicate = 1;
    return TV_OK;
}

int store_scan_index_(store_txn *t, const crdt_scan *s, uint32_t origin_no, uint64_t seq)
{
    /* Keys start with the day: scans arrive roughly in time order, so one commit touches
     * the pages of the current day only, not a page per venue or per person. */
    uint8_t k[4 + TV_PERSON_REF_BYTES + 20], v[TV_PERSON_REF_BYTES + 1];
    uint64_t at = store_bias64_(s->at_ms);
    int32_t day = crdt_day_vn(s->at_ms);
    store_be32_(k, store_bias32_(day));

    /* at a health node, a commune's pseudonym is indexed under the province-wide one it
     * is mapped to (pmap.c); the daily figures keep the event's own */
    uint8_t person[TV_PERSON_REF_BYTES];
    int rc = store_pmap_lookup_(t, s->person, person);
    if (rc == TV_ENOTFOUND)
        memcpy(person, s->person, TV_PERSON_REF_BYTES);
    else if (rc)
        return rc;
    memcpy(k + 4, s->venue, TV_VENUE_ID_BYTES);
    store_be64_(k + 12, at);
    store_be32_(k + 20, origin_no);
    store_be64_(k + 24, seq);
    memcpy(v, person, TV_PERSON_REF_BYTES);
    v[TV_PERSON_REF_BYTES] = s->direction;
    rc = store_put_(t, T_SCAN_VENUE, k, 32, v, TV_PERSON_REF_BYTES + 1);
    if (rc) return rc;

    memcpy(k + 4, person, TV_PERSON_REF_BYTES);
    store_be64_(k + 20, at);
    store_be32_(k + 28, origin_no);
    store_be64_(k + 32, seq);
    memcpy(v, s->venue, TV_VENUE_ID_BYTES);
    v[TV_VENUE_ID_BYTES] = s->direction;
    return store_put_(t, T_SCAN_PERSON, k, 40, v, TV_VENUE_ID_BYTES + 1);
}

int store_scan_unindex_(store_txn *t, const crdt_scan *s, uint32_t origin_no, uint64_t seq)
{
    uint8_t k[4 + TV_PERSON_REF_BYTES + 20];
    uint64_t at = store_bias64_(s->at_ms);
    store_be32_(k, store_bias32_(crdt_day_vn(s->at_ms)));
    memcpy(k + 4, s->venue, TV_VENUE_ID_BYTES);
    store_be64_(k + 12, at);
    store_be32_(k + 20, origin_no);
    store_be64_(k + 24, seq);
    MDB_val key = {32, k};
    int rc = mdb_del(t->txn, t->s->dbi[T_SCAN_VENUE], &key, NULL);
    if (rc && rc != MDB_NOTFOUND) return store_err_(t, rc);
    memcpy(k + 4, s->person, TV_PERSON_REF_BYTES);
    store_be64_(k + 20, at);
    store_be32_(k + 28, origin_no);
    store_be64_(k + 32, seq);
    key = (MDB_val){40, k};
    rc = mdb_del(t->txn, t->s->dbi[T_SCAN_PERSON], &key, NULL);
    return rc && rc != MDB_NOTFOUND ? store_err_(t, rc) : TV_OK;
}

static int index_scan(store_txn *t, const crdt_scan *s, uint32_t origin_no, uint64_t seq, acc *agg,
                      acc *vday)
{
    int rc = store_scan_index_(t, s, origin_no, seq);
    if (rc) return rc;
    int32_t day = crdt_day_vn(s->at_ms);
    uint8_t ak[UNIT_KEY_BYTES + 4];
    store_unit_key_(ak, s->unit.p, s->unit.n);
    store_be32_(ak + UNIT_KEY_BYTES, store_bias32_(day));
    acc_entry *e = acc_find(agg, ak, sizeof ak);
    e->day = day;
    if (s->direction == CRDT_DIR_IN) {
        e->in++;
        crdt_hll_add(e->hll, s->person);
    } else {
        e->out++;
    }

    uint8_t vk[TV_VENUE_ID_BYTES + 4];
    memcpy(vk, s->venue, TV_VENUE_ID_BYTES);
    store_be32_(vk + TV_VENUE_ID_BYTES, store_bias32_(day));
    e = acc_find(vday, vk, sizeof vk);
    memcpy(e->unit, ak, UNIT_KEY_BYTES);
    if (e->in == 0 || s->at_ms > e->last_ms) e->last_ms = s->at_ms;
    e->day = day;
    e->in++;
    return TV_OK;
}

/* Writes the accumulated venue-day counts, and counts venues active for the first time
 * that day into the unit's aggregate. */
static int flush_venue_days(store_txn *t, acc *vday, acc *agg)
{
    for (uint32_t i = 0; i < vday->n; i++) {
        acc_entry *e = &vday->slot[vday->order[i]];
        MDB_val cur;
        uint64_t n = 0;
        int64_t last = e->last_ms;
        int rc = store_get_(t, T_VENUE_DAY, e->key, TV_VENUE_ID_BYTES + 4, &cur);
        if (rc == TV_OK && cur.mv_size == VENUE_DAY_BYTES) {
            n = store_get64_(cur.mv_data);
            int64_t had = (int64_t)(store_get64_((uint8_t *)cur.mv_data + 8) ^ (1ULL << 63));
            if (had > last) last = had;
        } else if (rc != TV_ENOTFOUND) {
            return rc ? rc : TV_ECORRUPT;
        }
        if (n == 0) {
            uint8_t ak[UNIT_KEY_BYTES + 4];
            memcpy(ak, e->unit, UNIT_KEY_BYTES);
            store_be32_(ak + UNIT_KEY_BYTES, store_bias32_(e->day));
            acc_entry *a = acc_find(agg, ak, sizeof ak);
            a->day = e->day;
            a->active++;
        }
        uint8_t v[VENUE_DAY_BYTES];
        store_be64_(v, n + e->in);
        store_be64_(v + 8, store_bias64_(last));
        if ((rc = store_put_(t, T_VENUE_DAY, e->key, TV_VENUE_ID_BYTES + 4, v, sizeof v)))
            return rc;
    }
    return TV_OK;
}

/* Adds d to the figures held under key (unit + day). */
static int agg_add_key(store_txn *t, const uint8_t key[UNIT_KEY_BYTES + 4], const store_agg *d)
{
    MDB_val cur;
    store_agg a = {0};
    int rc = store_get_(t, T_AGG, key, UNIT_KEY_BYTES + 4, &cur);
    if (rc == TV_OK) rc = store_agg_decode_(&cur, &a);
    if (rc && rc != TV_ENOTFOUND) return rc;
    store_agg_merge_(&a, d);
    uint8_t v[AGG_BYTES];
    store_agg_encode_(v, &a);
    return store_put_(t, T_AGG, key, UNIT_KEY_BYTES + 4, v, AGG_BYTES);
}

int store_agg_add_(store_txn *t, const char *unit, size_t unit_len, int32_t day, const store_agg *d)
{
    uint8_t k[UNIT_KEY_BYTES + 4];
    store_unit_key_(k, unit, unit_len);
    store_be32_(k + UNIT_KEY_BYTES, store_bias32_(day));
    return agg_add_key(t, k, d);
}

static int flush_agg(store_txn *t, acc *agg)
{
    for (uint32_t i = 0; i < agg->n; i++) {
        acc_entry *e = &agg->slot[agg->order[i]];
        store_agg d = {.scans_in = e->in, .scans_out = e->out, .venues_active = e->active};
        memcpy(d.visitors, e->hll, CRDT_HLL_REGS);
        int rc = agg_add_key(t, e->key, &d);
        if (rc) return rc;
    }
    return TV_OK;
}

/* Is exactly this batch (the same bytes) stored already? */
static int held_verbatim(store_txn *t, const crdt_batch *b, const uint8_t *buf, size_t len)
{
    store_frontier f;
    uint32_t origin_no;
    int known;
    if (frontier_load(t, b->h.origin, &f, &origin_no, &known) || !known ||
        b->h.first_seq + b->h.count - 1 > f.seq)
        return 0;
    uint8_t k[12];
    batch_key(k, origin_no, b->h.first_seq);
    MDB_val v;
    return store_get_(t, T_BATCHES, k, sizeof k, &v) == TV_OK && v.mv_size == len &&
           memcmp(v.mv_data, buf, len) == 0;
}

/* Fills s->eff, s->seq and s->copied from the n events of b: each event as itself at its
 * seq, a checkpoint's copy as the event it carries at the seq it names. Returns 0,
 * TV_EDECODE (a copy that carries no valid event: the batch is malformed) or TV_ENOMEM. */
static int effective_events(store *s, const crdt_batch *b, const crdt_event *evs, uint32_t n)
{
    if (!s->eff && !(s->eff = malloc((CRDT_BATCH_EVENTS_MAX + 1) * sizeof *s->eff)))
        return TV_ENOMEM;
    if (!s->seq && !(s->seq = malloc((CRDT_BATCH_EVENTS_MAX + 1) * sizeof *s->seq)))
        return TV_ENOMEM;
    msgpack_unpacked scratch;
    msgpack_unpacked_init(&scratch);
    int rc = TV_OK;
    for (uint32_t i = 0; i < n && rc == TV_OK; i++) {
        s->copied[i] =
            evs[i].known && evs[i].type == CRDT_EV_CHECKPOINT && evs[i].u.checkpoint.copy;
        s->seq[i] = s->copied[i] ? evs[i].u.checkpoint.seq : b->h.first_seq + i;
        if (s->copied[i])
            rc = crdt_event_copy_open(&evs[i], &s->eff[i], &scratch);
        else
            s->eff[i] = evs[i];
    }
    msgpack_unpacked_destroy(&scratch);
    return rc;
}

/* One batch on its way through apply_one: what each step learns, for the next. */
typedef struct apply_ctx {
    store_txn *t;
    crdt_batch b;
    const uint8_t *buf;
    size_t len;
    crdt_event *evs; /* the effective events (effective_events), n of them */
    uint32_t n;
    uint8_t *inert; /* inert[i]: event i is kept as bytes only */
    int own;        /* the node's own batch */
    store_frontier f;
    uint32_t origin_no;
    int known;     /* the origin has a frontier here */
    int base;      /* the batch is a checkpoint's base (PROTOCOL.md §3.4) */
    int skip;      /* ... past what is held: the batches before it are dropped */
    uint64_t upto; /* R2: the end of the dropped prefix */
    store_apply_result *r;
} apply_ctx;

/* Decodes the verified batch's events into the store's buffer (the views borrow from the
 * batch's bytes), then their effective events (s->eff). */
static int apply_decode(store_txn *t, const crdt_batch *b, uint32_t *n)
{
    store *s = t->s;
    /* one more slot than events: the call that finds the end writes to it too */
    if (!s->events && !(s->events = malloc((CRDT_BATCH_EVENTS_MAX + 1) * sizeof *s->events)))
        return TV_ENOMEM;
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, b);
    int rc;
    *n = 0;
    while ((rc = crdt_batch_iter_next(&it, &s->events[*n])) == 1)
        (*n)++;
    crdt_batch_iter_release(&it);
    if (rc) return rc;
    return effective_events(s, b, s->events, *n);
}

/* A batch at or below the origin's frontier: dropped here by a checkpoint (never taken
 * again, unless the checkpoint's copies have not all come yet: it waits, R2), the same
 * bytes as held (a duplicate), or a validly signed contradiction: proof of a fork. */
static int apply_held(apply_ctx *a)
{
    store_txn *t = a->t;
    uint64_t dropped;
    int rc = store_base_get(t, a->b.h.origin, &dropped, NULL);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (a->b.h.first_seq <= dropped) {
        if (!a->own && (rc = store_r2_pending_(t, a->origin_no, dropped)) != 0) {
            if (rc < 0) return rc;
            a->r->rule = STORE_RULE_R2;
            return TV_EGAP;
        }
        a->r->duplicate = 1;
        return TV_OK;
    }
    rc = check_held(t, a->origin_no, &a->b, a->r);
    if (rc == TV_EFORK && !a->own)
        return store_fork_record_(t, &a->b, a->buf, a->len, a->evs, a->inert, a->n);
    return rc;
}

/* Is a batch past the frontier next in its origin's log? 0 when it is; else the refusal,
 * or TV_EFORK once it is kept as evidence of a fork. */
static int apply_place(apply_ctx *a)
{
    const crdt_batch *b = &a->b;
    /* a base past what we hold needs none of it: the batches before it are dropped */
    a->skip = a->base && b->h.first_seq > a->f.seq + 1;
    if (b->h.first_seq > a->f.seq + 1 && !a->skip) return TV_EGAP;
    if (!a->skip && (b->h.first_seq != a->f.seq + 1 ||
                     sodium_memcmp(b->h.prev_hash, a->f.hash, TV_HASH_BYTES) != 0))
        return a->own ? TV_ECHAIN
                      : store_fork_record_(a->t, b, a->buf, a->len, a->evs, a->inert, a->n);
    /* a node takes a checkpoint of its own log past what it holds only while it is brought
     * back from a parent after a restore (resync.h): it wrote none that it does not hold */
    if (a->own && a->skip && !store_restored_(a->t)) {
        a->r->rule = STORE_RULE_R2;
        return TV_ECHAIN;
    }
    if (a->f.seq && b->h.hlc_min <= a->f.hlc_max) return TV_ECHAIN; /* an origin's HLC only rises */
    return TV_OK;
}

/* R2: what is held here of a dropped prefix and in force comes back in the copies (into
 * r2, which the caller releases when this returns 0). */
static int apply_r2(apply_ctx *a, store_r2 *r2)
{
    store_txn *t = a->t;
    int rc;
    a->upto = a->base ? a->evs[0].u.checkpoint.upto : 0;
    if (!a->base && a->known && (rc = store_base_get(t, a->b.h.origin, &a->upto, NULL)) &&
        rc != TV_ENOTFOUND)
        return rc;
    rc = store_r2_check_(t, &a->b, a->known ? a->origin_no : 0, a->f.seq, a->upto, a->base,
                         t->s->events, a->n, r2);
    if (rc == TV_EFORK) {
        a->r->rule = STORE_RULE_R2;
        return a->own ? TV_ECHAIN
                      : store_fork_record_(t, &a->b, a->buf, a->len, a->evs, a->inert, a->n);
    }
    return rc;
}

/* Keeps the batch: numbers a new origin, drops what a checkpoint's base or copies replace,
 * stores the bytes. Only store errors fail from here on, and they abort the transaction. */
static int apply_keep(apply_ctx *a, store_r2 *r2)
{
    store_txn *t = a->t;
    int rc = TV_OK;
    if (!a->known) {
        store_counts c;
        if ((rc = store_counts_get(t, &c)) == 0) {
            a->origin_no = (uint32_t)c.origins + 1;
            rc = store_count_add_(t, COUNT_ORIGINS, 1);
        }
    }
    if (rc == 0 && (a->base || r2->n))
        rc = store_checkpoint_drop_(t, a->b.h.origin, a->known ? a->origin_no : 0, r2, a->base,
                                    a->upto, a->evs[0].u.checkpoint.hash);
    store_r2_release(r2);
    if (rc) return rc;
    uint8_t k[12];
    batch_key(k, a->origin_no, a->b.h.first_seq);
    return store_put_(t, T_BATCHES, k, sizeof k, a->buf, a->len);
}

/* Applies one kept event to the indexes and views, by its type (seq: its place in the
 * origin's log; copy: a checkpoint's copy of an event held before, never counted again). */
static int apply_event(apply_ctx *a, uint32_t i, uint64_t seq, int copy, acc *agg, acc *vday)
{
    store_txn *t = a->t;
    const crdt_event *ev = &a->evs[i];
    const uint8_t *origin = a->b.h.origin;
    if (!ev->known) return TV_OK;
    switch (ev->type) {
    case CRDT_EV_SCAN:
        if (copy) return store_scan_index_(t, &ev->u.scan, a->origin_no, seq);
        return index_scan(t, &ev->u.scan, a->origin_no, seq, agg, vday);
    case CRDT_EV_VENUE_UPSERT:
        return store_venue_apply_(t, &ev->u.venue, ev->hlc, origin);
    case CRDT_EV_CERT:
    case CRDT_EV_REVOKE:
        return store_trust_apply_(t, ev, origin);
    case CRDT_EV_CASE_STATUS:
    case CRDT_EV_RISK_LEVEL:
        return store_health_apply_(t, ev, origin, copy);
    case CRDT_EV_UNIT:
        return store_unit_apply_(t, ev, origin);
    case CRDT_EV_SEALED:
        /* indexed where it lies: a copy's row names its checkpoint batch */
        return store_sealed_apply_(t, ev, origin, a->origin_no, a->b.h.first_seq + i, a->own, copy);
    case CRDT_EV_RETENTION:
    case CRDT_EV_HOLD:
        return store_retention_apply_(t, ev, origin);
    case CRDT_EV_KEY_GRANT:
        return store_grant_apply_(t, ev, origin);
    default:
        return store_people_apply_(t, ev, origin, seq, copy);
    }
}

/* Applies the kept batch's events, counting them by type into by_type; *woke when one
 * registers a venue. */
static int apply_events(apply_ctx *a, uint64_t by_type[STORE_EVENT_TYPES_MAX], int *woke)
{
    store_txn *t = a->t;
    store *s = t->s;
    if (!s->apply_scratch && !(s->apply_scratch = calloc(2, sizeof(acc)))) return TV_ENOMEM;
    acc *agg = s->apply_scratch, *vday = agg + 1;
    int rc = TV_OK;
    for (uint32_t i = 0; i < a->n && rc == 0; i++) {
        const uint32_t type = s->events[i].type; /* a copy counts as a checkpoint event */
        by_type[type < STORE_EVENT_TYPES_MAX ? type : 0]++;
        const crdt_event *ev = &a->evs[i];
        const uint64_t seq = s->seq[i];
        /* a copy of an event held before (at or below our frontier) is not counted again;
         * one of an event never held here counts as that event */
        const int copy = s->copied[i] && seq <= a->f.seq;
        if (!a->own && a->inert[i]) continue; /* about a venue of a unit not ours: bytes only */
        if (ev->known && ev->type == CRDT_EV_VENUE_UPSERT && ev->u.venue.registers) {
            if ((rc = store_venue_reg_put_(t, &ev->u.venue, a->b.h.origin))) break;
            *woke = 1;
        }
        rc = apply_event(a, i, seq, copy, agg, vday);
    }
    if (rc == 0) rc = flush_venue_days(t, vday, agg);
    if (rc == 0) rc = flush_agg(t, agg);
    acc_clear(agg);
    acc_clear(vday);
    return rc;
}

/* The new frontier: past the old one (never backwards), the batch contiguous with it unless
 * a checkpoint's base starts the log again, its clock rising, every event held; and the
 * counts. */
static int apply_advance(apply_ctx *a, const uint64_t by_type[STORE_EVENT_TYPES_MAX],
                         int64_t now_ms)
{
    store_txn *t = a->t;
    const crdt_batch *b = &a->b;
    const uint64_t last = b->h.first_seq + b->h.count - 1;
    TV_ASSERT(last > a->f.seq && last >= b->h.first_seq);
    TV_ASSERT(a->skip || b->h.first_seq == a->f.seq + 1);
    TV_ASSERT(b->h.count == a->n && b->h.hlc_min <= b->h.hlc_max);
    TV_ASSERT(a->f.seq == 0 || b->h.hlc_min > a->f.hlc_max);
    TV_ASSERT(a->known || a->origin_no > 0);
    store_frontier nf = {.seq = last, .hlc_max = b->h.hlc_max, .received_ms = now_ms};
    memcpy(nf.hash, b->hash, TV_HASH_BYTES);
    uint8_t fv[FRONTIER_BYTES];
    frontier_encode(fv, &nf, a->origin_no);
    int rc;
    if ((rc = store_put_(t, T_FRONTIER, b->h.origin, TV_NODE_ID_BYTES, fv, sizeof fv))) return rc;
    if ((rc = store_count_add_(t, COUNT_EVENTS, b->h.count)) ||
        (rc = store_count_add_(t, COUNT_BATCHES, 1)))
        return rc;
    for (uint32_t i = 0; i < STORE_EVENT_TYPES_MAX; i++)
        if (by_type[i] && (rc = store_count_add_(t, COUNT_TYPE_BASE + i, by_type[i]))) return rc;
    return TV_OK;
}

/* Applies one batch; *woke is set when it may let parked batches through (it registered
 * a venue or wrote a certificate). */
static int apply_one(store_txn *t, const uint8_t *buf, size_t len, int64_t now_ms,
                     store_apply_result *r, int *woke)
{
    *woke = 0;
    memset(r, 0, sizeof *r);
    apply_ctx a = {.t = t, .buf = buf, .len = len, .r = r};
    crdt_batch *b = &a.b;
    /* a batch already held, byte for byte, changes nothing: recognise it before paying for
     * the signature check (resends after a lost acknowledgement are common) */
    int rc = crdt_batch_peek(b, buf, len);
    if (rc) return rc;
    if (held_verbatim(t, b, buf, len)) {
        r->header = b->h;
        memcpy(r->hash, b->hash, TV_HASH_BYTES);
        r->duplicate = 1;
        return TV_OK;
    }
    if ((rc = crdt_batch_open_memo(b, buf, len, t->s->sig_memo))) return rc;
    r->header = b->h;
    memcpy(r->hash, b->hash, TV_HASH_BYTES);
    /* every event well-formed (decoded once, here), its origin trusted, every event within
     * the origin's scope; judged, indexed as evidence and applied as the events they stand
     * for */
    if ((rc = apply_decode(t, b, &a.n))) return rc;
    a.evs = t->s->eff;
    a.inert = t->s->inert;
    uint8_t wait_venue[TV_VENUE_ID_BYTES];
    int trust = store_trust_check_(t, b, a.evs, a.n, now_ms, &a.own, a.inert, &r->rule, wait_venue);
    if (trust && trust != TV_EPARKED) return trust;
    const char *park_rule = r->rule; /* a refusal below is not for this rule */
    r->rule = NULL;
    /* a batch that waits indexes nothing, not even as evidence of a fork */
    if (trust == TV_EPARKED) memset(a.inert, 1, a.n);
    /* a forked origin: only what continues a branch held as evidence is kept (forks.c) */
    if (!a.own && (rc = store_frozen(t, b->h.origin)) != 0)
        return rc < 0 ? rc : store_fork_frozen_(t, b, buf, len, a.evs, a.inert, a.n);
    if ((rc = frontier_load(t, b->h.origin, &a.f, &a.origin_no, &a.known))) return rc;
    a.base =
        a.n && a.evs[0].known && a.evs[0].type == CRDT_EV_CHECKPOINT && !a.evs[0].u.checkpoint.copy;
    if (b->h.first_seq + b->h.count - 1 <= a.f.seq) return apply_held(&a);
    if ((rc = apply_place(&a))) return rc;
    store_r2 r2;
    if ((rc = apply_r2(&a, &r2))) return rc;
    /* lawful and next in its log, but it waits (§3.3) */
    if (trust == TV_EPARKED) {
        store_r2_release(&r2);
        r->rule = park_rule;
        return store_park_(t, b, buf, len, park_rule, wait_venue);
    }
    if ((rc = apply_keep(&a, &r2))) return rc;
    uint64_t by_type[STORE_EVENT_TYPES_MAX] = {0};
    if ((rc = apply_events(&a, by_type, woke))) return rc < 0 ? rc : TV_ECORRUPT;
    if ((rc = apply_advance(&a, by_type, now_ms))) return rc;
    r->applied = b->h.count;
    if (t->certs_written) *woke = 1;
    return TV_OK;
}

int store_apply_batch(store_txn *t, const uint8_t *buf, size_t len, int64_t now_ms,
                      store_apply_result *r)
{
    int woke;
    int rc = apply_one(t, buf, len, now_ms, r, &woke);
    if (rc || r->duplicate) return rc;
    store_apply_result saved = *r;
    uint32_t released = 0;
    rc = store_park_release_(t, now_ms, woke, apply_one, &released);
    *r = saved;
    r->released = released;
    return rc;
}

int store_parked_release(store_txn *t, int64_t now_ms, uint32_t *released)
{
    return store_park_release_(t, now_ms, 0, apply_one, released);
}

int store_batches_foreach(store_txn *t, store_batch_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_BATCHES], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k, v;
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        /* evidence of forks is numbered after every origin: not a log */
        if (k.mv_size >= 4 && (store_get32_(k.mv_data) & STORE_FORK_NO_BASE)) break;
        if ((out = fn(v.mv_data, v.mv_size, ctx))) break;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}
