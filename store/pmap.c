/* The pseudonym map of a health node: commune refs to province refs, and the re-keying
 * of the scan indexes that follows (see store.h, "the pseudonym map"). */
#include "crdt/error.h"
#include "store/internal.h"

#include <string.h>

#define REF TV_PERSON_REF_BYTES
#define PMAP_BYTES (REF + UNIT_KEY_BYTES + 8) /* province ref, unit, hlc */
#define SCAN_PERSON_KEY (4 + REF + 20)
#define SCAN_VENUE_KEY (4 + TV_VENUE_ID_BYTES + 20)

static const uint8_t unmapped[REF]; /* a province ref of zeros: examined, unmappable */

int store_pmap_lookup_(store_txn *t, const uint8_t ref[REF], uint8_t pref[REF])
{
    MDB_val v;
    int rc = store_get_(t, T_PMAP, ref, REF, &v);
    if (rc) return rc;
    if (v.mv_size != PMAP_BYTES) return TV_ECORRUPT;
    if (memcmp(v.mv_data, unmapped, REF) == 0) return TV_ENOTFOUND;
    memcpy(pref, v.mv_data, REF);
    return TV_OK;
}

int store_pmap_get(store_txn *t, const uint8_t ref[REF], uint8_t pref[REF], char *unit,
                   uint64_t *hlc)
{
    MDB_val v;
    int rc = store_get_(t, T_PMAP, ref, REF, &v);
    if (rc) return rc;
    if (v.mv_size != PMAP_BYTES) return TV_ECORRUPT;
    const uint8_t *p = v.mv_data;
    if (hlc) *hlc = store_get64_(p + REF + UNIT_KEY_BYTES);
    if (memcmp(p, unmapped, REF) == 0) return 0;
    if (pref) memcpy(pref, p, REF);
    if (unit) {
        memcpy(unit, p + REF, UNIT_KEY_BYTES);
        unit[TV_UNIT_CODE_MAX] = '\0';
    }
    return 1;
}

/* Moves the scans indexed under ref to pref: each scans_by_person row (day, ref, at,
 * origin_no, seq) becomes (day, pref, ...), and the scans_by_venue row of the same scan
 * names pref. Seeks day by day, so the cost is the rows moved plus the days held. */
static int rekey(store_txn *t, const uint8_t ref[REF], const uint8_t pref[REF])
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_SCAN_PERSON], &cur);
    if (rc) return store_err_(t, rc);
    uint32_t day = 0; /* biased, as in the keys */
    int out = TV_OK;
    for (;;) {
        uint8_t k[SCAN_PERSON_KEY], nk[SCAN_PERSON_KEY], vk[SCAN_VENUE_KEY], vv[REF + 1];
        store_be32_(k, day);
        memcpy(k + 4, ref, REF);
        MDB_val key = {4 + REF, k}, val;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc == MDB_NOTFOUND) break;
        if (rc) {
            out = store_err_(t, rc);
            break;
        }
        if (key.mv_size != SCAN_PERSON_KEY || val.mv_size != TV_VENUE_ID_BYTES + 1) {
            out = TV_ECORRUPT;
            break;
        }
        const uint8_t *p = key.mv_data;
        uint32_t kday = store_get32_(p);
        if (kday != day || memcmp(p + 4, ref, REF) != 0) {
            /* no (more) rows of ref that day: the next day with data */
            if (kday == day && day == UINT32_MAX) break;
            day = kday == day ? day + 1 : kday;
            continue;
        }
        memcpy(nk, p, SCAN_PERSON_KEY);
        memcpy(nk + 4, pref, REF);
        const uint8_t *v = val.mv_data;
        memcpy(vk, p, 4);
        memcpy(vk + 4, v, TV_VENUE_ID_BYTES);
        memcpy(vk + 12, p + 4 + REF, 20); /* at, origin_no, seq */
        memcpy(vv, pref, REF);
        vv[REF] = v[TV_VENUE_ID_BYTES];
        uint8_t row[TV_VENUE_ID_BYTES + 1];
        memcpy(row, v, sizeof row);
        if ((rc = mdb_cursor_del(cur, 0))) {
            out = store_err_(t, rc);
            break;
        }
        if ((out = store_put_(t, T_SCAN_PERSON, nk, sizeof nk, row, sizeof row)) ||
            (out = store_put_(t, T_SCAN_VENUE, vk, sizeof vk, vv, sizeof vv)))
            break;
    }
    mdb_cursor_close(cur);
    return out;
}

int store_pmap_put(store_txn *t, const uint8_t ref[REF], const uint8_t *pref, const char *unit,
                   uint64_t hlc)
{
    size_t ul = strlen(unit);
    if (ul == 0 || ul > TV_UNIT_CODE_MAX || (pref && memcmp(ref, pref, REF) == 0) ||
        (pref && memcmp(pref, unmapped, REF) == 0))
        return TV_EINVAL;
    uint8_t had[REF];
    int rc = store_pmap_lookup_(t, ref, had);
    if (rc == TV_OK) return TV_EEXIST;
    if (rc != TV_ENOTFOUND) return rc;
    uint8_t v[PMAP_BYTES];
    memcpy(v, pref ? pref : unmapped, REF);
    store_unit_key_(v + REF, unit, ul);
    store_be64_(v + REF + UNIT_KEY_BYTES, hlc);
    if ((rc = store_put_(t, T_PMAP, ref, REF, v, sizeof v)) || !pref) return rc;
    uint8_t k[2 * REF];
    memcpy(k, pref, REF);
    memcpy(k + REF, ref, REF);
    if ((rc = store_put_(t, T_PMAP_BY, k, sizeof k, v + REF, UNIT_KEY_BYTES))) return rc;
    return rekey(t, ref, pref);
}

int store_pmap_forget_(store_txn *t, const uint8_t ref[REF])
{
    MDB_val v;
    int rc = store_get_(t, T_PMAP, ref, REF, &v);
    if (rc) return rc == TV_ENOTFOUND ? TV_OK : rc;
    if (v.mv_size != PMAP_BYTES) return TV_ECORRUPT;
    uint8_t k[2 * REF];
    memcpy(k, v.mv_data, REF);
    memcpy(k + REF, ref, REF);
    MDB_val key = {REF, (void *)ref};
    if ((rc = mdb_del(t->txn, t->s->dbi[T_PMAP], &key, NULL))) return store_err_(t, rc);
    if (memcmp(k, unmapped, REF) == 0) return TV_OK;
    key.mv_size = sizeof k;
    key.mv_data = k;
    rc = mdb_del(t->txn, t->s->dbi[T_PMAP_BY], &key, NULL);
    return rc == 0 || rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

typedef struct by_ctx {
    store_pmap_fn fn;
    void *ctx;
} by_ctx;

static int by_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    by_ctx *c = arg;
    if (k->mv_size != 2 * REF || v->mv_size != UNIT_KEY_BYTES) return TV_ECORRUPT;
    char unit[UNIT_KEY_BYTES + 1];
    memcpy(unit, v->mv_data, UNIT_KEY_BYTES);
    unit[UNIT_KEY_BYTES] = '\0';
    return c->fn((const uint8_t *)k->mv_data + REF, unit, c->ctx);
}

int store_pmap_refs_of(store_txn *t, const uint8_t pref[REF], store_pmap_fn fn, void *ctx)
{
    by_ctx c = {.fn = fn, .ctx = ctx};
    return store_prefix_foreach_(t, T_PMAP_BY, pref, REF, by_row, &c);
}

/* --- key grants ------------------------------------------------------------------------ */

#define GRANT_BYTES (8 + UNIT_KEY_BYTES + CRDT_GRANT_BOX_BYTES)

int store_grant_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES])
{
    const crdt_key_grant *g = &ev->u.grant;
    uint8_t k[2 * TV_NODE_ID_BYTES], v[GRANT_BYTES];
    memcpy(k, g->subject, TV_NODE_ID_BYTES);
    memcpy(k + TV_NODE_ID_BYTES, origin, TV_NODE_ID_BYTES);
    MDB_val cur;
    int rc = store_get_(t, T_GRANTS, k, sizeof k, &cur);
    if (rc == TV_OK && (cur.mv_size != GRANT_BYTES || store_get64_(cur.mv_data) >= ev->hlc))
        return cur.mv_size == GRANT_BYTES ? TV_OK : TV_ECORRUPT;
    if (rc && rc != TV_ENOTFOUND) return rc;
    store_be64_(v, ev->hlc);
    store_unit_key_(v + 8, g->unit.p, g->unit.n);
    memcpy(v + 8 + UNIT_KEY_BYTES, g->box, CRDT_GRANT_BOX_BYTES);
    return store_put_(t, T_GRANTS, k, sizeof k, v, sizeof v);
}

typedef struct grants_ctx {
    store_grant_fn fn;
    void *ctx;
} grants_ctx;

static int grant_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    grants_ctx *c = arg;
    if (k->mv_size != 2 * TV_NODE_ID_BYTES || v->mv_size != GRANT_BYTES) return TV_ECORRUPT;
    store_grant g;
    const uint8_t *p = v->mv_data;
    memcpy(g.subject, k->mv_data, TV_NODE_ID_BYTES);
    memcpy(g.origin, (const uint8_t *)k->mv_data + TV_NODE_ID_BYTES, TV_NODE_ID_BYTES);
    g.hlc = store_get64_(p);
    memcpy(g.unit, p + 8, TV_UNIT_CODE_MAX);
    g.unit[TV_UNIT_CODE_MAX] = '\0';
    memcpy(g.box, p + 8 + UNIT_KEY_BYTES, CRDT_GRANT_BOX_BYTES);
    return c->fn(&g, c->ctx);
}

int store_grants_of(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES], store_grant_fn fn,
                    void *ctx)
{
    grants_ctx c = {.fn = fn, .ctx = ctx};
    return store_prefix_foreach_(t, T_GRANTS, subject, TV_NODE_ID_BYTES, grant_row, &c);
}

int store_grant_held(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES],
                     const uint8_t origin[TV_NODE_ID_BYTES])
{
    uint8_t k[2 * TV_NODE_ID_BYTES];
    memcpy(k, subject, TV_NODE_ID_BYTES);
    memcpy(k + TV_NODE_ID_BYTES, origin, TV_NODE_ID_BYTES);
    MDB_val v;
    int rc = store_get_(t, T_GRANTS, k, sizeof k, &v);
    return rc == TV_OK ? 1 : rc == TV_ENOTFOUND ? 0 : rc;
}
