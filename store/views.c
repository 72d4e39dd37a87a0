/* Materialised views (venues), scan indexes and daily aggregates: reads and view merges.
 *
 * A venue's view record is the msgpack array [created_hlc, updated_hlc, f1 .. f6], one
 * element per CRDT_VENUE_F_* field in bit order, each nil or [value, hlc, origin]. Every
 * field keeps the value of the upsert with the largest (hlc, origin), and the HLC bounds
 * are min and max, so the record is a function of the set of upserts applied: nodes that
 * hold the same events hold byte-identical records, whatever the order of arrival. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "store/internal.h"

#include <string.h>

typedef struct vfield {
    int set;
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
    char str[CRDT_TEXT_BYTES_MAX + 1];
    uint32_t n;
    uint32_t num;
} vfield;

typedef struct vrec {
    uint64_t created, updated;
    vfield f[CRDT_VENUE_FIELDS];
} vrec;

#define F_CATEGORY_INDEX 2 /* the numeric fields: bit 1u << 2 is CRDT_VENUE_F_CATEGORY */
#define F_CLOSES_INDEX 5   /* and 1u << 5 CRDT_VENUE_F_CLOSES */
_Static_assert(CRDT_VENUE_F_CATEGORY == 1u << F_CATEGORY_INDEX, "category bit");
_Static_assert(CRDT_VENUE_F_CLOSES == 1u << F_CLOSES_INDEX, "closes bit");
#define FIELDS_V1 5 /* records written before the closing time was a field */

static int numeric(int i)
{
    return i == F_CATEGORY_INDEX || i == F_CLOSES_INDEX;
}

static int vrec_decode(vrec *r, const uint8_t *buf, size_t len)
{
    memset(r, 0, sizeof *r);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = crdt_mp_unpack_exact(&u, buf, len);
    if (rc) goto done;
    rc = TV_ECORRUPT;
    const msgpack_object *o = &u.data;
    if (o->type != MSGPACK_OBJECT_ARRAY ||
        (o->via.array.size != 2 + CRDT_VENUE_FIELDS && o->via.array.size != 2 + FIELDS_V1))
        goto done;
    const msgpack_object *a = o->via.array.ptr;
    if (crdt_mp_u64(&a[0], &r->created) || crdt_mp_u64(&a[1], &r->updated)) goto done;
    for (int i = 0; i < (int)o->via.array.size - 2; i++) {
        const msgpack_object *e = &a[2 + i];
        if (e->type == MSGPACK_OBJECT_NIL) continue;
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 3) goto done;
        vfield *f = &r->f[i];
        const uint8_t *origin;
        if (crdt_mp_u64(&e->via.array.ptr[1], &f->hlc) ||
            crdt_mp_bin_n(&e->via.array.ptr[2], TV_NODE_ID_BYTES, &origin))
            goto done;
        memcpy(f->origin, origin, TV_NODE_ID_BYTES);
        if (numeric(i)) {
            uint64_t x;
            if (crdt_mp_u64(&e->via.array.ptr[0], &x) || x > UINT32_MAX) goto done;
            f->num = (uint32_t)x;
        } else {
            const char *p;
            size_t n;
            if (crdt_mp_str(&e->via.array.ptr[0], CRDT_TEXT_BYTES_MAX, &p, &n)) goto done;
            memcpy(f->str, p, n);
            f->str[n] = '\0';
            f->n = (uint32_t)n;
        }
        f->set = 1;
    }
    rc = TV_OK;
done:
    msgpack_unpacked_destroy(&u);
    return rc == TV_EDECODE ? TV_ECORRUPT : rc;
}

static int vrec_encode(const vrec *r, msgpack_sbuffer *sb)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    int e = msgpack_pack_array(&pk, 2 + CRDT_VENUE_FIELDS) | msgpack_pack_uint64(&pk, r->created) |
            msgpack_pack_uint64(&pk, r->updated);
    for (int i = 0; i < CRDT_VENUE_FIELDS; i++) {
        const vfield *f = &r->f[i];
        if (!f->set) {
            e |= msgpack_pack_nil(&pk);
            continue;
        }
        e |= msgpack_pack_array(&pk, 3);
        if (numeric(i))
            e |= msgpack_pack_uint32(&pk, f->num);
        else
            e |= msgpack_pack_str_with_body(&pk, f->str, f->n);
        e |= msgpack_pack_uint64(&pk, f->hlc) |
             msgpack_pack_bin_with_body(&pk, f->origin, TV_NODE_ID_BYTES);
    }
    return e ? TV_ENOMEM : TV_OK;
}

/* Does (hlc, origin) win over the field's current writer? Authority ranks before time
 * (V2, PROTOCOL.md §2.2): what the venue's registrar wrote wins over what a node above it
 * wrote, whatever the times; between writers of the same rank, the larger (hlc, origin). */
static int wins(const vfield *f, uint64_t hlc, const uint8_t *origin, const uint8_t *registrar)
{
    if (!f->set) return 1;
    if (registrar) {
        int mine = memcmp(origin, registrar, TV_NODE_ID_BYTES) == 0;
        int theirs = memcmp(f->origin, registrar, TV_NODE_ID_BYTES) == 0;
        if (mine != theirs) return mine;
    }
    if (hlc != f->hlc) return hlc > f->hlc;
    return memcmp(origin, f->origin, TV_NODE_ID_BYTES) > 0;
}

int store_venue_apply_(store_txn *t, const crdt_venue_upsert *v, uint64_t hlc,
                       const uint8_t origin[TV_NODE_ID_BYTES])
{
    MDB_val key = {TV_VENUE_ID_BYTES, (void *)v->venue}, val;
    vrec r;
    int rc = store_err_(t, mdb_get(t->txn, t->s->dbi[T_VENUES], &key, &val));
    if (rc == TV_OK) {
        if ((rc = vrec_decode(&r, val.mv_data, val.mv_size))) return rc;
        if (hlc < r.created) r.created = hlc;
        if (hlc > r.updated) r.updated = hlc;
    } else if (rc == TV_ENOTFOUND) {
        memset(&r, 0, sizeof r);
        r.created = r.updated = hlc;
    } else {
        return rc;
    }
    uint8_t registrar[TV_NODE_ID_BYTES];
    int reg = store_venue_reg_get_(t, v->venue, registrar, NULL);
    if (reg && reg != TV_ENOTFOUND) return reg;
    const crdt_text *texts[CRDT_VENUE_FIELDS] = {&v->unit,    &v->name,        NULL,
                                                 &v->village, &v->owner_phone, NULL};
    for (int i = 0; i < CRDT_VENUE_FIELDS; i++) {
        vfield *f = &r.f[i];
        if (!(v->fields & (1u << i)) || !wins(f, hlc, origin, reg == TV_OK ? registrar : NULL))
            continue;
        f->set = 1;
        f->hlc = hlc;
        memcpy(f->origin, origin, TV_NODE_ID_BYTES);
        if (numeric(i)) {
            f->num = i == F_CATEGORY_INDEX ? v->category : v->closes;
        } else {
            memcpy(f->str, texts[i]->p, texts[i]->n);
            f->str[texts[i]->n] = '\0';
            f->n = texts[i]->n;
        }
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    rc = vrec_encode(&r, &sb);
    if (rc == TV_OK) {
        val.mv_size = sb.size;
        val.mv_data = sb.data;
        rc = store_err_(t, mdb_put(t->txn, t->s->dbi[T_VENUES], &key, &val, 0));
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static void venue_fill(store_venue *out, const uint8_t *id, const vrec *r)
{
    memset(out, 0, sizeof *out);
    memcpy(out->id, id, TV_VENUE_ID_BYTES);
    out->created_hlc = r->created;
    out->updated_hlc = r->updated;
    char *strs[CRDT_VENUE_FIELDS] = {out->unit,    out->name,        NULL,
                                     out->village, out->owner_phone, NULL};
    size_t caps[CRDT_VENUE_FIELDS] = {sizeof out->unit,    sizeof out->name,        0,
                                      sizeof out->village, sizeof out->owner_phone, 0};
    for (int i = 0; i < CRDT_VENUE_FIELDS; i++) {
        if (!r->f[i].set) continue;
        out->fields |= 1u << i;
        if (i == F_CATEGORY_INDEX)
            out->category = r->f[i].num;
        else if (i == F_CLOSES_INDEX)
            out->closes = r->f[i].num;
        else if (r->f[i].n < caps[i])
            memcpy(strs[i], r->f[i].str, r->f[i].n + 1);
    }
}

int store_venue_get(store_txn *t, const uint8_t id[TV_VENUE_ID_BYTES], store_venue *v)
{
    memset(v, 0, sizeof *v);
    MDB_val key = {TV_VENUE_ID_BYTES, (void *)id}, val;
    int rc = store_err_(t, mdb_get(t->txn, t->s->dbi[T_VENUES], &key, &val));
    if (rc) return rc;
    vrec r;
    if ((rc = vrec_decode(&r, val.mv_data, val.mv_size))) return rc;
    venue_fill(v, id, &r);
    return TV_OK;
}

int store_venue_raw(store_txn *t, const uint8_t id[TV_VENUE_ID_BYTES], const uint8_t **buf,
                    size_t *len)
{
    MDB_val key = {TV_VENUE_ID_BYTES, (void *)id}, val;
    int rc = store_err_(t, mdb_get(t->txn, t->s->dbi[T_VENUES], &key, &val));
    *buf = rc ? NULL : val.mv_data;
    *len = rc ? 0 : val.mv_size;
    return rc;
}

int store_venue_foreach(store_txn *t, store_venue_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_VENUES], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k, v;
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        vrec r;
        store_venue sv;
        if (k.mv_size != TV_VENUE_ID_BYTES) {
            out = TV_ECORRUPT;
            break;
        }
        if ((out = vrec_decode(&r, v.mv_data, v.mv_size))) break;
        venue_fill(&sv, k.mv_data, &r);
        if ((out = fn(&sv, ctx))) break;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

/* The latest time an index is asked about: 10000-01-01, far beyond any scan, and small
 * enough that day arithmetic cannot overflow. */
#define SCAN_TIME_MS_MAX 253402300800000LL

/* Walks an index whose keys are day(4) prefix(plen) at(8) origin_no(4) seq(8). Days that
 * hold nothing for the prefix are skipped by seeking, so a wide range costs one seek per
 * day that has data at all, not per calendar day. */
static int scan_range(store_txn *t, int table, const uint8_t *prefix, size_t plen, int64_t from_ms,
                      int64_t to_ms, store_scan_fn fn, void *ctx)
{
    if (from_ms < 0) from_ms = 0;
    if (to_ms > SCAN_TIME_MS_MAX) to_ms = SCAN_TIME_MS_MAX;
    if (from_ms >= to_ms) return TV_OK;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[table], &cur);
    if (rc) return store_err_(t, rc);
    const size_t klen = 4 + plen + 20;
    const int32_t last = crdt_day_vn(to_ms - 1);
    int out = TV_OK;
    int32_t day = crdt_day_vn(from_ms);
    while (day <= last && !out) {
        uint8_t k[4 + TV_PERSON_REF_BYTES + 20];
        store_be32_(k, store_bias32_(day));
        memcpy(k + 4, prefix, plen);
        store_be64_(k + 4 + plen, store_bias64_(from_ms));
        memset(k + 12 + plen, 0, 12);
        MDB_val key = {klen, k}, val;
        rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
        if (rc) break;
        if (key.mv_size != klen) {
            out = TV_ECORRUPT;
            break;
        }
        int32_t kday = (int32_t)(store_get32_(key.mv_data) ^ (1U << 31));
        if (kday != day) { /* nothing for us on `day`: go to the next day with data */
            day = kday > day ? kday : day + 1;
            continue;
        }
        for (; rc == 0; rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
            const uint8_t *p = key.mv_data;
            if (key.mv_size != klen || memcmp(p, k, 4 + plen) != 0) break;
            int64_t at = (int64_t)(store_get64_(p + 4 + plen) ^ (1ULL << 63));
            if (at >= to_ms) break;
            store_scan_ref s = {.at_ms = at,
                                .origin_no = store_get32_(p + 12 + plen),
                                .seq = store_get64_(p + 16 + plen)};
            const uint8_t *v = val.mv_data;
            if (table == T_SCAN_VENUE) {
                if (val.mv_size != TV_PERSON_REF_BYTES + 1) {
                    out = TV_ECORRUPT;
                    break;
                }
                memcpy(s.venue, prefix, TV_VENUE_ID_BYTES);
                memcpy(s.person, v, TV_PERSON_REF_BYTES);
                s.direction = v[TV_PERSON_REF_BYTES];
            } else {
                if (val.mv_size != TV_VENUE_ID_BYTES + 1) {
                    out = TV_ECORRUPT;
                    break;
                }
                memcpy(s.person, prefix, TV_PERSON_REF_BYTES);
                memcpy(s.venue, v, TV_VENUE_ID_BYTES);
                s.direction = v[TV_VENUE_ID_BYTES];
            }
            if ((out = fn(&s, ctx))) break;
        }
        if (rc != 0 && rc != MDB_NOTFOUND) break;
        rc = 0;
        day++;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == 0 || rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

int store_scans_by_venue(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], int64_t from_ms,
                         int64_t to_ms, store_scan_fn fn, void *ctx)
{
    return scan_range(t, T_SCAN_VENUE, venue, TV_VENUE_ID_BYTES, from_ms, to_ms, fn, ctx);
}

int store_scans_by_person(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES], int64_t from_ms,
                          int64_t to_ms, store_scan_fn fn, void *ctx)
{
    /* a mapped ref's scans are indexed under its province ref (pmap.c) */
    uint8_t pref[TV_PERSON_REF_BYTES];
    int rc = store_pmap_lookup_(t, person, pref);
    if (rc && rc != TV_ENOTFOUND) return rc;
    return scan_range(t, T_SCAN_PERSON, rc ? person : pref, TV_PERSON_REF_BYTES, from_ms, to_ms, fn,
                      ctx);
}

int store_agg_decode_(const MDB_val *v, store_agg *a)
{
    memset(a, 0, sizeof *a);
    const uint8_t *p = v->mv_data;
    if (v->mv_size != AGG_BYTES && v->mv_size != AGG_BYTES_V1) return TV_ECORRUPT;
    a->scans_in = store_get64_(p);
    a->scans_out = store_get64_(p + 8);
    a->venues_active = store_get64_(p + 16);
    if (v->mv_size == AGG_BYTES_V1) return TV_OK;
    a->reminders = store_get64_(p + 24);
    a->f0 = store_get64_(p + 32);
    a->f1 = store_get64_(p + 40);
    memcpy(a->visitors, p + 48, CRDT_HLL_REGS);
    return TV_OK;
}

void store_agg_encode_(uint8_t out[AGG_BYTES], const store_agg *a)
{
    store_be64_(out, a->scans_in);
    store_be64_(out + 8, a->scans_out);
    store_be64_(out + 16, a->venues_active);
    store_be64_(out + 24, a->reminders);
    store_be64_(out + 32, a->f0);
    store_be64_(out + 40, a->f1);
    memcpy(out + 48, a->visitors, CRDT_HLL_REGS);
}

int store_agg_get(store_txn *t, const char *unit, int32_t day, store_agg *a)
{
    memset(a, 0, sizeof *a);
    uint8_t k[UNIT_KEY_BYTES + 4];
    store_unit_key_(k, unit, strlen(unit));
    store_be32_(k + UNIT_KEY_BYTES, store_bias32_(day));
    MDB_val key = {sizeof k, k}, val;
    int rc = store_err_(t, mdb_get(t->txn, t->s->dbi[T_AGG], &key, &val));
    if (rc == TV_ENOTFOUND) return TV_OK;
    if (rc) return rc;
    return store_agg_decode_(&val, a);
}

int store_last_at_most_(store_txn *t, int table, const uint8_t *key, size_t klen, size_t plen,
                        MDB_val *k, MDB_val *v)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[table], &cur);
    if (rc) return store_err_(t, rc);
    *k = (MDB_val){klen, (void *)key};
    rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
    /* the first key at or after key: itself when equal, else one back */
    if (rc == 0 && (k->mv_size != klen || memcmp(k->mv_data, key, klen) != 0))
        rc = mdb_cursor_get(cur, k, v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, k, v, MDB_LAST);
    int out = TV_ENOTFOUND;
    if (rc == 0 && k->mv_size >= plen && memcmp(k->mv_data, key, plen) == 0)
        out = TV_OK;
    else if (rc && rc != MDB_NOTFOUND)
        out = store_err_(t, rc);
    mdb_cursor_close(cur);
    return out;
}

int store_agg_last_day(store_txn *t, const char *unit, int32_t *day)
{
    uint8_t k[UNIT_KEY_BYTES + 4];
    store_unit_key_(k, unit, strlen(unit));
    store_be32_(k + UNIT_KEY_BYTES, UINT32_MAX); /* after every day of the unit */
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_AGG], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val key = {sizeof k, k}, val;
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &key, &val, MDB_LAST)
         : rc               ? rc
                            : mdb_cursor_get(cur, &key, &val, MDB_PREV);
    /* back over the unit's days to the last with a scan: a day may hold only reminders
     * or cases */
    int out = TV_ENOTFOUND;
    for (; rc == 0 && key.mv_size == sizeof k && memcmp(key.mv_data, k, UNIT_KEY_BYTES) == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_PREV)) {
        store_agg a;
        if (store_agg_decode_(&val, &a)) {
            out = TV_ECORRUPT;
            break;
        }
        if (a.scans_in + a.scans_out == 0) continue;
        *day = (int32_t)(store_get32_((const uint8_t *)key.mv_data + UNIT_KEY_BYTES) ^ (1U << 31));
        out = TV_OK;
        break;
    }
    if (rc && rc != MDB_NOTFOUND) out = store_err_(t, rc);
    mdb_cursor_close(cur);
    return out;
}

int store_venue_active(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], int32_t from_day,
                       int32_t to_day)
{
    uint8_t k[TV_VENUE_ID_BYTES + 4];
    memcpy(k, venue, TV_VENUE_ID_BYTES);
    store_be32_(k + TV_VENUE_ID_BYTES, store_bias32_(to_day));
    MDB_val key, val;
    int rc = store_last_at_most_(t, T_VENUE_DAY, k, sizeof k, TV_VENUE_ID_BYTES, &key, &val);
    if (rc == TV_ENOTFOUND) return 0;
    if (rc) return rc;
    if (key.mv_size != sizeof k) return TV_ECORRUPT;
    int32_t day =
        (int32_t)(store_get32_((const uint8_t *)key.mv_data + TV_VENUE_ID_BYTES) ^ (1U << 31));
    return day >= from_day;
}

int store_agg_days(store_txn *t, const char *unit, int32_t from_day, int32_t to_day,
                   store_agg_day_fn fn, void *ctx)
{
    uint8_t k[UNIT_KEY_BYTES + 4];
    store_unit_key_(k, unit, strlen(unit));
    store_be32_(k + UNIT_KEY_BYTES, store_bias32_(from_day));
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_AGG], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val key = {sizeof k, k}, val;
    uint32_t last = store_bias32_(to_day);
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        const uint8_t *p = key.mv_data;
        if (key.mv_size != sizeof k || memcmp(p, k, UNIT_KEY_BYTES) != 0 ||
            store_get32_(p + UNIT_KEY_BYTES) > last)
            break;
        store_agg d;
        if (store_agg_decode_(&val, &d)) {
            out = TV_ECORRUPT;
            break;
        }
        if ((out = fn((int32_t)(store_get32_(p + UNIT_KEY_BYTES) ^ (1U << 31)), &d, ctx))) break;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == 0 || rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

void store_agg_merge_(store_agg *a, const store_agg *d)
{
    a->scans_in += d->scans_in;
    a->scans_out += d->scans_out;
    a->venues_active += d->venues_active;
    a->reminders += d->reminders;
    a->f0 += d->f0;
    a->f1 += d->f1;
    crdt_hll_merge(a->visitors, d->visitors);
}

static int sum_day(int32_t day, const store_agg *d, void *arg)
{
    (void)day;
    store_agg_merge_(arg, d);
    return 0;
}

int store_agg_sum(store_txn *t, const char *unit, int32_t from_day, int32_t to_day, store_agg *a)
{
    memset(a, 0, sizeof *a);
    return store_agg_days(t, unit, from_day, to_day, sum_day, a);
}
