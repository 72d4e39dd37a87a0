/* Views of the health events: case statuses and risk levels.
 *
 * Both are functions of the set of events applied, whatever their order. Every case_status
 * event is kept, keyed by person then (hlc, origin), so a person's status is their last row
 * and their history (when an F0 was declared, when cleared) stays readable. Risk levels are
 * kept one row per (unit, from): the event with the largest (hlc, origin) stands. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "store/internal.h"

#include <stdio.h>
#include <string.h>

#define CASE_KEY_BYTES (TV_PERSON_REF_BYTES + 8 + TV_NODE_ID_BYTES)
#define CASE_VAL_BYTES (1 + 8 + 8 + 8) /* then the unit */
#define RISK_KEY_BYTES (UNIT_KEY_BYTES + 8)
#define RISK_VAL_BYTES (8 + TV_NODE_ID_BYTES + 1) /* then the note */

/* The first (smallest key) case row of a person with one status. */
typedef struct first_ctx {
    uint8_t status;
    int found;
    uint8_t key[CASE_KEY_BYTES];
    char unit[TV_UNIT_CODE_MAX + 1];
} first_ctx;

static int first_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    first_ctx *c = arg;
    const uint8_t *p = v->mv_data;
    if (k->mv_size != CASE_KEY_BYTES || v->mv_size < CASE_VAL_BYTES ||
        v->mv_size > CASE_VAL_BYTES + TV_UNIT_CODE_MAX)
        return TV_ECORRUPT;
    if (p[0] != c->status) return 0;
    c->found = 1;
    memcpy(c->key, k->mv_data, CASE_KEY_BYTES);
    memcpy(c->unit, p + CASE_VAL_BYTES, v->mv_size - CASE_VAL_BYTES);
    c->unit[v->mv_size - CASE_VAL_BYTES] = '\0';
    return 1; /* rows are in (hlc, origin) order: the first is the one */
}

static int32_t hlc_day(uint64_t hlc)
{
    return crdt_day_vn((int64_t)crdt_hlc_ms(hlc));
}

/* The daily F0 and F1 counts: a person counts once per status, on the day and in the unit
 * of their earliest event with it. An earlier event arriving late moves the count. Called
 * before the event with key k is stored. */
static int count_first(store_txn *t, const crdt_case *c, uint64_t hlc, const uint8_t *k)
{
    if (c->status != CRDT_CASE_F0 && c->status != CRDT_CASE_F1) return TV_OK;
    first_ctx f = {.status = c->status};
    int rc = store_prefix_foreach_(t, T_CASES, c->person, TV_PERSON_REF_BYTES, first_row, &f);
    if (rc < 0) return rc;
    if (f.found && memcmp(f.key, k, CASE_KEY_BYTES) < 0) return TV_OK; /* not the first */
    store_agg d = {0};
    uint64_t *n = c->status == CRDT_CASE_F0 ? &d.f0 : &d.f1;
    if (f.found) {       /* the count moves from the old first */
        *n = UINT64_MAX; /* minus one, modulo 2^64 */
        rc = store_agg_add_(t, f.unit, strlen(f.unit),
                            hlc_day(store_get64_(f.key + TV_PERSON_REF_BYTES)), &d);
        if (rc) return rc;
    }
    *n = 1;
    return store_agg_add_(t, c->unit.p, c->unit.n, hlc_day(hlc), &d);
}

static int apply_case(store_txn *t, const crdt_event *ev, const uint8_t *origin, int copy)
{
    const crdt_case *c = &ev->u.cstatus;
    uint8_t k[CASE_KEY_BYTES], v[CASE_VAL_BYTES + TV_UNIT_CODE_MAX];
    memcpy(k, c->person, TV_PERSON_REF_BYTES);
    store_be64_(k + TV_PERSON_REF_BYTES, ev->hlc);
    memcpy(k + TV_PERSON_REF_BYTES + 8, origin, TV_NODE_ID_BYTES);
    v[0] = c->status;
    store_be64_(v + 1, store_bias64_(c->onset_ms));
    store_be64_(v + 9, store_bias64_(c->sampled_ms));
    store_be64_(v + 17, store_bias64_(c->at_ms));
    memcpy(v + CASE_VAL_BYTES, c->unit.p, c->unit.n);
    int rc;
    if (copy) { /* a checkpoint's copy: the same row, never counted again (or at all) */
        MDB_val held;
        rc = store_get_(t, T_CASES, k, sizeof k, &held);
        if (rc != TV_ENOTFOUND) return rc;
    } else if ((rc = count_first(t, c, ev->hlc, k))) {
        return rc;
    }
    return store_put_(t, T_CASES, k, sizeof k, v, CASE_VAL_BYTES + (size_t)c->unit.n);
}

/* (hlc, origin) of a stored risk row is before the event's: the event wins. */
static int risk_older(const MDB_val *v, uint64_t hlc, const uint8_t *origin)
{
    const uint8_t *p = v->mv_data;
    uint64_t held = store_get64_(p);
    if (held != hlc) return held < hlc;
    return memcmp(p + 8, origin, TV_NODE_ID_BYTES) < 0;
}

static int apply_risk(store_txn *t, const crdt_event *ev, const uint8_t *origin)
{
    const crdt_risk *r = &ev->u.risk;
    uint8_t k[RISK_KEY_BYTES], v[RISK_VAL_BYTES + CRDT_TEXT_BYTES_MAX];
    store_unit_key_(k, r->unit.p, r->unit.n);
    store_be64_(k + UNIT_KEY_BYTES, store_bias64_(r->from_ms));
    MDB_val held;
    int rc = store_get_(t, T_RISKS, k, sizeof k, &held);
    if (rc == TV_OK && held.mv_size >= RISK_VAL_BYTES && !risk_older(&held, ev->hlc, origin))
        return TV_OK;
    if (rc && rc != TV_ENOTFOUND) return rc;
    store_be64_(v, ev->hlc);
    memcpy(v + 8, origin, TV_NODE_ID_BYTES);
    v[8 + TV_NODE_ID_BYTES] = r->level;
    if (r->note.n) memcpy(v + RISK_VAL_BYTES, r->note.p, r->note.n);
    return store_put_(t, T_RISKS, k, sizeof k, v, RISK_VAL_BYTES + (size_t)r->note.n);
}

int store_health_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES],
                        int copy)
{
    switch (ev->type) {
    case CRDT_EV_CASE_STATUS:
        return apply_case(t, ev, origin, copy);
    case CRDT_EV_RISK_LEVEL:
        return apply_risk(t, ev, origin);
    }
    return TV_OK;
}

/* --- reads --------------------------------------------------------------------------- */

typedef struct case_ctx {
    store_case_fn fn;
    void *ctx;
} case_ctx;

static int case_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    case_ctx *c = arg;
    if (k->mv_size != CASE_KEY_BYTES || v->mv_size <= CASE_VAL_BYTES ||
        v->mv_size > CASE_VAL_BYTES + TV_UNIT_CODE_MAX)
        return TV_ECORRUPT;
    const uint8_t *kp = k->mv_data, *vp = v->mv_data;
    store_case sc;
    memset(&sc, 0, sizeof sc);
    memcpy(sc.person, kp, TV_PERSON_REF_BYTES);
    sc.hlc = store_get64_(kp + TV_PERSON_REF_BYTES);
    memcpy(sc.origin, kp + TV_PERSON_REF_BYTES + 8, TV_NODE_ID_BYTES);
    sc.status = vp[0];
    sc.onset_ms = (int64_t)store_bias64_((int64_t)store_get64_(vp + 1));
    sc.sampled_ms = (int64_t)store_bias64_((int64_t)store_get64_(vp + 9));
    sc.at_ms = (int64_t)store_bias64_((int64_t)store_get64_(vp + 17));
    memcpy(sc.unit, vp + CASE_VAL_BYTES, v->mv_size - CASE_VAL_BYTES);
    return c->fn(&sc, c->ctx);
}

int store_cases_foreach(store_txn *t, const uint8_t *person, store_case_fn fn, void *ctx)
{
    case_ctx c = {fn, ctx};
    return store_prefix_foreach_(t, T_CASES, person, person ? TV_PERSON_REF_BYTES : 0, case_row,
                                 &c);
}

static int risk_decode(const MDB_val *k, const MDB_val *v, store_risk *r)
{
    if (k->mv_size != RISK_KEY_BYTES || v->mv_size < RISK_VAL_BYTES ||
        v->mv_size > RISK_VAL_BYTES + CRDT_TEXT_BYTES_MAX)
        return TV_ECORRUPT;
    const uint8_t *kp = k->mv_data, *vp = v->mv_data;
    memset(r, 0, sizeof *r);
    memcpy(r->unit, kp, TV_UNIT_CODE_MAX);
    r->from_ms = (int64_t)store_bias64_((int64_t)store_get64_(kp + UNIT_KEY_BYTES));
    r->hlc = store_get64_(vp);
    memcpy(r->origin, vp + 8, TV_NODE_ID_BYTES);
    r->level = vp[8 + TV_NODE_ID_BYTES];
    memcpy(r->note, vp + RISK_VAL_BYTES, v->mv_size - RISK_VAL_BYTES);
    return TV_OK;
}

typedef struct risk_ctx {
    store_risk_fn fn;
    void *ctx;
} risk_ctx;

static int risk_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    risk_ctx *c = arg;
    store_risk r;
    int rc = risk_decode(k, v, &r);
    return rc ? rc : c->fn(&r, c->ctx);
}

int store_risks_foreach(store_txn *t, const char *unit, store_risk_fn fn, void *ctx)
{
    risk_ctx c = {fn, ctx};
    uint8_t prefix[UNIT_KEY_BYTES];
    if (unit) store_unit_key_(prefix, unit, strlen(unit));
    return store_prefix_foreach_(t, T_RISKS, unit ? prefix : NULL, unit ? sizeof prefix : 0,
                                 risk_row, &c);
}

/* The row of unit (n bytes) with the latest from not after at_ms. */
static int risk_at(store_txn *t, const char *unit, size_t n, int64_t at_ms, store_risk *out)
{
    uint8_t k[RISK_KEY_BYTES];
    store_unit_key_(k, unit, n);
    store_be64_(k + UNIT_KEY_BYTES, store_bias64_(at_ms));
    MDB_val key, val;
    int rc = store_last_at_most_(t, T_RISKS, k, sizeof k, UNIT_KEY_BYTES, &key, &val);
    return rc ? rc : risk_decode(&key, &val, out);
}

int store_risk_at(store_txn *t, const char *unit, int64_t at_ms, store_risk *out)
{
    size_t n = strlen(unit);
    int rc = risk_at(t, unit, n, at_ms, out);
    size_t owner = crdt_unit_owner_len(unit, n);
    if (rc == TV_ENOTFOUND && owner < n) rc = risk_at(t, unit, owner, at_ms, out);
    return rc;
}
