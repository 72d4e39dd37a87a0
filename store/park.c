/* Parked batches: lawful batches that cannot apply yet (PROTOCOL.md §3.3). An event about
 * a venue this node holds no registration of waits for the registration (V3), never
 * applied on its own word; a batch written more than CRDT_HLC_AHEAD_MAX_MS ahead of the
 * receiver's clock waits for its time (C1). One batch per origin is kept (the next of its
 * log: the ones after it are refused as gaps and offered again by their senders), at most
 * STORE_PARKED_MAX in all; `status` lists them. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "store/internal.h"

#include <stdlib.h>
#include <string.h>

enum { PARK_VENUE = 1, PARK_TIME = 2 };
#define PARK_HEAD 17 /* reason(1) due_ms(8, biased) venue(8): what it waits for */

static size_t parked_count(store_txn *t)
{
    MDB_stat st;
    return mdb_stat(t->txn, t->s->dbi[T_PARKED], &st) == 0 ? st.ms_entries : 0;
}

int store_park_(store_txn *t, const crdt_batch *b, const uint8_t *buf, size_t len, const char *rule,
                const uint8_t wait_venue[TV_VENUE_ID_BYTES])
{
    MDB_val v;
    int rc = store_get_(t, T_PARKED, b->h.origin, TV_NODE_ID_BYTES, &v);
    if (rc == TV_OK) return TV_EPARKED; /* this origin has its batch waiting already */
    if (rc != TV_ENOTFOUND) return rc;
    if (parked_count(t) >= STORE_PARKED_MAX) return TV_EPARKED;
    int time = rule && strcmp(rule, STORE_RULE_C1) == 0;
    int64_t due = time ? (int64_t)crdt_hlc_ms(b->h.hlc_max) - (int64_t)CRDT_HLC_AHEAD_MAX_MS : 0;
    uint8_t *val = malloc(PARK_HEAD + len);
    if (!val) return TV_ENOMEM;
    val[0] = time ? PARK_TIME : PARK_VENUE;
    store_be64_(val + 1, store_bias64_(due));
    memcpy(val + 9, wait_venue, TV_VENUE_ID_BYTES);
    memcpy(val + PARK_HEAD, buf, len);
    rc = store_put_(t, T_PARKED, b->h.origin, TV_NODE_ID_BYTES, val, PARK_HEAD + len);
    free(val);
    return rc ? rc : TV_EPARKED;
}

typedef struct due_list {
    store_txn *t;
    size_t n;
    uint8_t origin[STORE_PARKED_MAX][TV_NODE_ID_BYTES];
    int64_t now;
    int woke;
} due_list;

static int collect(const MDB_val *k, const MDB_val *v, void *arg)
{
    due_list *d = arg;
    if (k->mv_size != TV_NODE_ID_BYTES || v->mv_size <= PARK_HEAD) return TV_ECORRUPT;
    const uint8_t *p = v->mv_data;
    int64_t due = (int64_t)(store_get64_(p + 1) ^ (1ULL << 63));
    /* a batch waiting for a venue is judged again (its signatures, its certificates) only
     * once that venue is registered, not after every registration */
    int ready = p[0] == PARK_TIME
                    ? due <= d->now
                    : d->woke && store_venue_reg_get_(d->t, p + 9, NULL, NULL) == TV_OK;
    if (ready && d->n < STORE_PARKED_MAX) memcpy(d->origin[d->n++], k->mv_data, TV_NODE_ID_BYTES);
    return TV_OK;
}

int store_park_release_(store_txn *t, int64_t now_ms, int woke, store_apply_one_fn apply,
                        uint32_t *released)
{
    *released = 0;
    if (parked_count(t) == 0) return TV_OK;
    due_list *d = malloc(sizeof *d);
    if (!d) return TV_ENOMEM;
    int rc = TV_OK;
    /* a batch let through may register what another waits for: go round until none moves */
    for (int progress = 1; progress && rc == TV_OK;) {
        progress = 0;
        d->n = 0;
        d->t = t;
        d->now = now_ms;
        d->woke = woke;
        if ((rc = store_prefix_foreach_(t, T_PARKED, NULL, 0, collect, d))) break;
        for (size_t i = 0; i < d->n && rc == TV_OK; i++) {
            MDB_val v;
            if ((rc = store_get_(t, T_PARKED, d->origin[i], TV_NODE_ID_BYTES, &v))) break;
            size_t len = v.mv_size - PARK_HEAD;
            uint8_t *buf = malloc(len);
            if (!buf) {
                rc = TV_ENOMEM;
                break;
            }
            memcpy(buf, (const uint8_t *)v.mv_data + PARK_HEAD, len);
            MDB_val key = {TV_NODE_ID_BYTES, d->origin[i]};
            if ((rc = store_err_(t, mdb_del(t->txn, t->s->dbi[T_PARKED], &key, NULL)))) {
                free(buf);
                break;
            }
            store_apply_result r;
            int w = 0;
            int a = apply(t, buf, len, now_ms, &r, &w);
            free(buf);
            if (a == TV_OK && r.applied) {
                (*released)++;
                progress = 1;
                woke |= w;
                rc = store_count_add_(t, COUNT_PARK_RELEASED, 1);
            } else if (store_fatal_(a)) {
                rc = a;
            }
            /* TV_EPARKED: parked again; any other refusal: the batch is dropped, as it
             * would have been on arrival (its sender offers it again if it may) */
        }
    }
    free(d);
    return rc;
}

typedef struct parked_ctx {
    store_parked_fn fn;
    void *ctx;
} parked_ctx;

static int parked_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    parked_ctx *c = arg;
    if (k->mv_size != TV_NODE_ID_BYTES || v->mv_size <= PARK_HEAD) return TV_ECORRUPT;
    const uint8_t *p = v->mv_data;
    crdt_batch b;
    if (crdt_batch_peek(&b, p + PARK_HEAD, v->mv_size - PARK_HEAD)) return TV_ECORRUPT;
    store_parked info = {.first_seq = b.h.first_seq,
                         .count = b.h.count,
                         .hlc_max = b.h.hlc_max,
                         .waits_for_time = p[0] == PARK_TIME,
                         .due_ms = (int64_t)(store_get64_(p + 1) ^ (1ULL << 63))};
    memcpy(info.origin, k->mv_data, TV_NODE_ID_BYTES);
    return c->fn(&info, c->ctx);
}

int store_parked_foreach(store_txn *t, store_parked_fn fn, void *ctx)
{
    parked_ctx c = {fn, ctx};
    return store_prefix_foreach_(t, T_PARKED, NULL, 0, parked_row, &c);
}
