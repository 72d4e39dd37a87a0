/* Forks: batches that contradict an origin's log as held here are kept as evidence, and
 * are tracing data; the origin that wrote them is frozen.
 *
 * An origin forks when two copies of its key write different events at the same seq (a
 * laptop restored from a backup that records on). The first branch to reach a node is its
 * log there; a validly signed batch of another branch is kept as evidence, its scans go
 * into the scan indexes and its person records into the person view, so that `trace`,
 * `visits` and a reveal find the visits of both branches. Nothing else of it is applied:
 * venues, certificates, health events, reminders, counters and the daily figures stay a
 * function of the accepted log alone. A frozen origin's later batches that continue a
 * branch held as evidence (their prev_hash is an evidence batch's hash, its last seq just
 * before theirs) are kept and indexed the same way, up to STORE_FORK_EVIDENCE_MAX per
 * origin; everything else of a frozen origin is refused (TV_EFROZEN).
 *
 * Rows of T_FORKS (keys sort an origin's summary before its evidence):
 *   origin(32)                        -> frozen(1): the origin forked (1: frozen; 0: its
 *                                        issuer certified it again since)
 *   origin(32) first_seq(8) hash(32)  -> no(4) last_seq(8): one evidence batch, whose
 *                                        bytes are in T_BATCHES under the local number
 *                                        STORE_FORK_NO_BASE | no, the number its scans
 *                                        carry in the scan indexes
 *   origin(32) first_seq(8)           -> the batch, verbatim: evidence kept by the first
 *                                        layout (not indexed; dropped when the freeze is
 *                                        lifted, as it was then) */
#include "crdt/error.h"
#include "store/internal.h"

#include <sodium.h>
#include <string.h>

#define SUMMARY_KEY_BYTES TV_NODE_ID_BYTES
#define LEGACY_KEY_BYTES (TV_NODE_ID_BYTES + 8)
#define EVIDENCE_KEY_BYTES (TV_NODE_ID_BYTES + 8 + TV_HASH_BYTES)
#define EVIDENCE_VAL_BYTES (4 + 8)

static int is_evidence_key(const MDB_val *k)
{
    return k->mv_size == EVIDENCE_KEY_BYTES || k->mv_size == LEGACY_KEY_BYTES;
}

int store_frozen(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES])
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_FORKS], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k = {TV_NODE_ID_BYTES, (void *)origin}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    int frozen = 0;
    if (rc == 0 && k.mv_size >= TV_NODE_ID_BYTES &&
        memcmp(k.mv_data, origin, TV_NODE_ID_BYTES) == 0) {
        if (k.mv_size == SUMMARY_KEY_BYTES)
            frozen = v.mv_size == 1 ? ((const uint8_t *)v.mv_data)[0] != 0 : TV_ECORRUPT;
        else
            frozen = 1; /* evidence of the first layout, without a summary */
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND) return store_err_(t, rc);
    return frozen;
}

static int summary_put(store_txn *t, const uint8_t *origin, uint8_t frozen)
{
    return store_put_(t, T_FORKS, origin, SUMMARY_KEY_BYTES, &frozen, 1);
}

/* --- an origin's evidence ---------------------------------------------------------- */

typedef struct held_ctx {
    const crdt_batch *b;
    uint32_t count; /* evidence batches of the origin */
    int extends;    /* b continues one of them */
} held_ctx;

static int held_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    held_ctx *c = arg;
    if (!is_evidence_key(k)) return TV_OK;
    c->count++;
    if (k->mv_size != EVIDENCE_KEY_BYTES) return TV_OK;
    if (v->mv_size != EVIDENCE_VAL_BYTES) return TV_ECORRUPT;
    const uint8_t *key = k->mv_data;
    uint64_t last = store_get64_((const uint8_t *)v->mv_data + 4);
    if (last + 1 == c->b->h.first_seq &&
        sodium_memcmp(key + TV_NODE_ID_BYTES + 8, c->b->h.prev_hash, TV_HASH_BYTES) == 0)
        c->extends = 1;
    return TV_OK;
}

static int next_no(store_txn *t, uint32_t *no)
{
    uint8_t k[4];
    store_be32_(k, COUNT_FORK_NOS);
    MDB_val v;
    int rc = store_get_(t, T_COUNTS, k, 4, &v);
    uint64_t n = 0;
    if (rc == TV_OK && v.mv_size == 8)
        n = store_get64_(v.mv_data);
    else if (rc != TV_ENOTFOUND)
        return rc ? rc : TV_ECORRUPT;
    if (n + 1 >= STORE_FORK_NO_BASE) return TV_ELIMIT;
    *no = (uint32_t)(n + 1);
    return store_count_add_(t, COUNT_FORK_NOS, 1);
}

/* Makes the events of evidence batch b (stored under local number no) tracing data: its
 * scans into the scan indexes, its person records into the person view. */
static int index_evidence(store_txn *t, const crdt_batch *b, const crdt_event *evs,
                          const uint8_t *inert, uint32_t n, uint32_t no)
{
    int rc = TV_OK;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        const crdt_event *ev = &evs[i];
        if (!ev->known || inert[i]) continue; /* kept as bytes only (trust.c, V3) */
        if (ev->type == CRDT_EV_SCAN)
            rc = store_scan_index_(t, &ev->u.scan, STORE_FORK_NO_BASE | no, b->h.first_seq + i);
        else if (ev->type == CRDT_EV_PERSON)
            rc = store_people_apply_(t, ev, b->h.origin, b->h.first_seq + i, 0);
    }
    return rc;
}

/* Keeps b as evidence and indexes it, and freezes its origin. A batch held as evidence
 * already changes nothing. With extend, b must continue a branch held as evidence (else
 * TV_EFROZEN, nothing written). Beyond STORE_FORK_EVIDENCE_MAX batches of the origin, b is
 * not kept: the origin is frozen all the same, and an extension is refused as frozen.
 * Returns TV_EFORK (kept, or held already), TV_EFROZEN, or a store error. */
static int keep(store_txn *t, const crdt_batch *b, const uint8_t *buf, size_t len,
                const crdt_event *evs, const uint8_t *inert, uint32_t n, int extend)
{
    uint8_t k[EVIDENCE_KEY_BYTES];
    memcpy(k, b->h.origin, TV_NODE_ID_BYTES);
    store_be64_(k + TV_NODE_ID_BYTES, b->h.first_seq);
    memcpy(k + TV_NODE_ID_BYTES + 8, b->hash, TV_HASH_BYTES);
    MDB_val v;
    int rc = store_get_(t, T_FORKS, k, sizeof k, &v);
    if (rc == TV_OK) return TV_EFORK; /* held already: idempotent */
    if (rc != TV_ENOTFOUND) return rc;

    held_ctx c = {.b = b};
    if ((rc = store_prefix_foreach_(t, T_FORKS, b->h.origin, TV_NODE_ID_BYTES, held_row, &c)))
        return rc;
    if (extend && !c.extends) return TV_EFROZEN;
    if (c.count >= STORE_FORK_EVIDENCE_MAX) {
        if (extend) return TV_EFROZEN;
        return (rc = summary_put(t, b->h.origin, 1)) ? rc : TV_EFORK;
    }
    uint32_t no;
    if ((rc = next_no(t, &no))) return rc;
    uint8_t bk[12], val[EVIDENCE_VAL_BYTES];
    store_be32_(bk, STORE_FORK_NO_BASE | no);
    store_be64_(bk + 4, b->h.first_seq);
    store_be32_(val, no);
    store_be64_(val + 4, b->h.first_seq + b->h.count - 1);
    if ((rc = store_put_(t, T_BATCHES, bk, sizeof bk, buf, len)) ||
        (rc = store_put_(t, T_FORKS, k, sizeof k, val, sizeof val)) ||
        (rc = summary_put(t, b->h.origin, 1)) || (rc = index_evidence(t, b, evs, inert, n, no)))
        return rc;
    return TV_EFORK;
}

int store_fork_record_(store_txn *t, const crdt_batch *b, const uint8_t *buf, size_t len,
                       const crdt_event *evs, const uint8_t *inert, uint32_t n)
{
    return keep(t, b, buf, len, evs, inert, n, 0);
}

int store_fork_frozen_(store_txn *t, const crdt_batch *b, const uint8_t *buf, size_t len,
                       const crdt_event *evs, const uint8_t *inert, uint32_t n)
{
    return keep(t, b, buf, len, evs, inert, n, 1);
}

int store_fork_lift_(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES])
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_FORKS], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k = {TV_NODE_ID_BYTES, (void *)subject}, v;
    int summary = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0 && k.mv_size >= TV_NODE_ID_BYTES &&
         memcmp(k.mv_data, subject, TV_NODE_ID_BYTES) == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size == SUMMARY_KEY_BYTES) summary = 1;
        /* evidence of the first layout is not indexed: dropped, as it was then */
        if (k.mv_size == LEGACY_KEY_BYTES && (rc = mdb_cursor_del(cur, 0))) break;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND) return store_err_(t, rc);
    /* the evidence stays (it is tracing data); the origin is no longer frozen */
    return summary ? summary_put(t, subject, 0) : TV_OK;
}

/* --- reads ---------------------------------------------------------------------------- */

int store_forks_foreach(store_txn *t, store_fork_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_FORKS], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k, v;
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (!is_evidence_key(&k)) continue;
        const uint8_t *p = k.mv_data;
        uint64_t first = store_get64_(p + TV_NODE_ID_BYTES);
        if (k.mv_size == LEGACY_KEY_BYTES) {
            out = fn(p, first, v.mv_data, v.mv_size, ctx);
        } else {
            if (v.mv_size != EVIDENCE_VAL_BYTES) {
                out = TV_ECORRUPT;
                break;
            }
            uint8_t bk[12];
            store_be32_(bk, STORE_FORK_NO_BASE | store_get32_(v.mv_data));
            store_be64_(bk + 4, first);
            MDB_val b;
            out = store_get_(t, T_BATCHES, bk, sizeof bk, &b);
            if (out == TV_ENOTFOUND) out = TV_ECORRUPT;
            if (out == TV_OK) out = fn(p, first, b.mv_data, b.mv_size, ctx);
        }
        if (out) break;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

int store_fork_origins_foreach(store_txn *t, store_fork_origin_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_FORKS], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k, v;
    int out = TV_OK, have = 0, frozen = 0;
    uint8_t origin[TV_NODE_ID_BYTES];
    uint32_t count = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int next = rc == 0 && k.mv_size >= TV_NODE_ID_BYTES;
        if (have && (!next || memcmp(k.mv_data, origin, TV_NODE_ID_BYTES) != 0)) {
            if ((out = fn(origin, count, frozen, ctx))) break;
            have = 0;
        }
        if (rc) break;
        if (!next) continue;
        if (!have) {
            memcpy(origin, k.mv_data, TV_NODE_ID_BYTES);
            have = 1;
            count = 0;
            frozen = 1; /* evidence of the first layout has no summary: frozen */
        }
        if (k.mv_size == SUMMARY_KEY_BYTES)
            frozen = v.mv_size == 1 && ((const uint8_t *)v.mv_data)[0] != 0;
        else if (is_evidence_key(&k))
            count++;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}
