/* Freshness of a unit's data: its daily aggregates, its nodes' certificates and frontiers. */
#include "node/logic/fresh.h"
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/ids.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct fresh_ctx {
    store_txn *t;
    const char *const *units; /* sorted */
    size_t n;
    tv_fresh *out;
    crdt_cert *c; /* scratch: certificates are large */
} fresh_ctx;

static int unit_cmp(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

static int cert_row(const uint8_t *raw, size_t len, void *arg)
{
    fresh_ctx *x = arg;
    if (crdt_cert_decode(x->c, raw, len)) return 0;
    const char *const *u = bsearch(x->c->unit, x->units, x->n, sizeof *x->units, unit_cmp);
    if (!u) return 0;
    tv_fresh *f = &x->out[u - x->units];
    f->nodes++;
    store_frontier fr;
    int rc = store_frontier_get(x->t, x->c->subject, &fr);
    if (rc == TV_ENOTFOUND) return 0;
    if (rc) return rc;
    f->held++;
    int64_t last = (int64_t)crdt_hlc_ms(fr.hlc_max);
    if (last > f->last_event) f->last_event = last;
    if (fr.received_ms > f->received) f->received = fr.received_ms;
    return 0;
}

int tv_fresh_many(store_txn *t, const char *const *units, size_t n, tv_fresh *out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = (tv_fresh){.last_event = -1, .received = -1, .last_scan_day = INT32_MIN};
        int rc = store_agg_last_day(t, units[i], &out[i].last_scan_day);
        if (rc && rc != TV_ENOTFOUND) return rc;
    }
    fresh_ctx x = {t, units, n, out, malloc(sizeof(crdt_cert))};
    if (!x.c) return TV_ENOMEM;
    int rc = store_cert_foreach(t, cert_row, &x);
    free(x.c);
    return rc;
}

int tv_fresh_get(store_txn *t, const char *unit, tv_fresh *out)
{
    return tv_fresh_many(t, &unit, 1, out);
}

int tv_fresh_stale(const tv_fresh *f, int64_t from_ms)
{
    return f->last_scan_day < crdt_day_vn(from_ms);
}

typedef struct communes_ctx {
    crdt_cert *c;
    char (*seen)[TV_UNIT_CODE_MAX + 1];
    size_t n, cap;
    tv_unit_fn fn;
    void *ctx;
} communes_ctx;

static int commune_row(const uint8_t *raw, size_t len, void *arg)
{
    communes_ctx *x = arg;
    if (crdt_cert_decode(x->c, raw, len) || x->c->role != CRDT_ROLE_COMMUNE) return 0;
    for (size_t i = 0; i < x->n; i++)
        if (strcmp(x->seen[i], x->c->unit) == 0) return 0;
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 64;
        void *p = realloc(x->seen, cap * sizeof *x->seen);
        if (!p) return TV_ENOMEM;
        x->seen = p;
        x->cap = cap;
    }
    memcpy(x->seen[x->n++], x->c->unit, sizeof x->seen[0]);
    return x->fn(x->c->unit, x->ctx);
}

int tv_communes_foreach(store_txn *t, tv_unit_fn fn, void *ctx)
{
    communes_ctx x = {.c = malloc(sizeof(crdt_cert)), .fn = fn, .ctx = ctx};
    if (!x.c) return TV_ENOMEM;
    int rc = store_cert_foreach(t, commune_row, &x);
    free(x.c);
    free(x.seen);
    return rc;
}
