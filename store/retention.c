/* Retention: the province's retention period (the root's retention events), holds on
 * people (health nodes' hold events), and the purge of personal data older than the
 * period from the indexes and views (PROTOCOL.md §2.12, §2.13, §4.1).
 *
 * The period and each person's hold are last-writer-wins by (HLC, origin), so both are a
 * function of the set of events applied. What a purge removes is chosen by the period in
 * force and the time it is given: the daily figures (agg_daily, venue_day) are never
 * touched, so a report of an old week reads the same after a purge. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "store/internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define RETENTION_VAL_BYTES (8 + TV_NODE_ID_BYTES + 4)
#define HOLD_HEAD_BYTES (8 + TV_NODE_ID_BYTES + 1)
#define DAY_MS INT64_C(86400000)

/* c > 0 when (hlc, origin) ranks above (hlc2, origin2). */
static int rank(uint64_t hlc, const uint8_t *origin, uint64_t hlc2, const uint8_t *origin2)
{
    if (hlc != hlc2) return hlc > hlc2 ? 1 : -1;
    return memcmp(origin, origin2, TV_NODE_ID_BYTES);
}

static int apply_retention(store_txn *t, const crdt_event *ev, const uint8_t *origin)
{
    uint8_t v[RETENTION_VAL_BYTES];
    size_t len;
    int rc = store_meta_get(t, "retention", v, sizeof v, &len);
    if (rc == TV_OK && len == sizeof v && rank(ev->hlc, origin, store_get64_(v), v + 8) <= 0)
        return TV_OK;
    if (rc && rc != TV_ENOTFOUND) return rc;
    store_be64_(v, ev->hlc);
    memcpy(v + 8, origin, TV_NODE_ID_BYTES);
    store_be32_(v + 8 + TV_NODE_ID_BYTES, ev->u.retention.days);
    return store_meta_put(t, "retention", v, sizeof v);
}

static int apply_hold(store_txn *t, const crdt_event *ev, const uint8_t *origin)
{
    const crdt_hold *h = &ev->u.hold;
    MDB_val cur;
    int rc = store_get_(t, T_HOLDS, h->person, TV_PERSON_REF_BYTES, &cur);
    if (rc == TV_OK) {
        if (cur.mv_size < HOLD_HEAD_BYTES) return TV_ECORRUPT;
        const uint8_t *p = cur.mv_data;
        if (rank(ev->hlc, origin, store_get64_(p), p + 8) <= 0) return TV_OK;
    } else if (rc != TV_ENOTFOUND) {
        return rc;
    }
    uint8_t v[HOLD_HEAD_BYTES + CRDT_TEXT_BYTES_MAX];
    store_be64_(v, ev->hlc);
    memcpy(v + 8, origin, TV_NODE_ID_BYTES);
    v[8 + TV_NODE_ID_BYTES] = h->action;
    memcpy(v + HOLD_HEAD_BYTES, h->reason.p, h->reason.n);
    return store_put_(t, T_HOLDS, h->person, TV_PERSON_REF_BYTES, v,
                      HOLD_HEAD_BYTES + (size_t)h->reason.n);
}

int store_retention_apply_(store_txn *t, const crdt_event *ev,
                           const uint8_t origin[TV_NODE_ID_BYTES])
{
    if (ev->type == CRDT_EV_RETENTION) return apply_retention(t, ev, origin);
    if (ev->type == CRDT_EV_HOLD) return apply_hold(t, ev, origin);
    return TV_OK;
}

int store_retention_get(store_txn *t, store_retention *r)
{
    memset(r, 0, sizeof *r);
    r->days = CRDT_RETENTION_DAYS_DEFAULT;
    uint8_t v[RETENTION_VAL_BYTES];
    size_t len;
    int rc = store_meta_get(t, "retention", v, sizeof v, &len);
    if (rc == TV_ENOTFOUND) return TV_OK;
    if (rc) return rc;
    if (len != sizeof v) return TV_ECORRUPT;
    r->set = 1;
    r->hlc = store_get64_(v);
    memcpy(r->origin, v + 8, TV_NODE_ID_BYTES);
    r->days = store_get32_(v + 8 + TV_NODE_ID_BYTES);
    return TV_OK;
}

int64_t store_retention_cutoff(const store_retention *r, int64_t now_ms)
{
    return now_ms - (int64_t)r->days * DAY_MS;
}

static int hold_decode(const MDB_val *k, const MDB_val *v, store_hold *h)
{
    if (k->mv_size != TV_PERSON_REF_BYTES || v->mv_size < HOLD_HEAD_BYTES ||
        v->mv_size > HOLD_HEAD_BYTES + CRDT_TEXT_BYTES_MAX)
        return TV_ECORRUPT;
    const uint8_t *p = v->mv_data;
    memcpy(h->person, k->mv_data, TV_PERSON_REF_BYTES);
    h->hlc = store_get64_(p);
    memcpy(h->origin, p + 8, TV_NODE_ID_BYTES);
    h->held = p[8 + TV_NODE_ID_BYTES] == CRDT_HOLD_PLACE;
    size_t n = v->mv_size - HOLD_HEAD_BYTES;
    memcpy(h->reason, p + HOLD_HEAD_BYTES, n);
    h->reason[n] = '\0';
    return TV_OK;
}

int store_hold_get(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES], store_hold *h)
{
    memset(h, 0, sizeof *h);
    MDB_val k = {TV_PERSON_REF_BYTES, (void *)person}, v;
    int rc = store_get_(t, T_HOLDS, person, TV_PERSON_REF_BYTES, &v);
    return rc ? rc : hold_decode(&k, &v, h);
}

static int ref_cmp(const void *a, const void *b);

int store_held_extra_set(store *s, const uint8_t (*refs)[TV_PERSON_REF_BYTES], size_t n)
{
    if (s->held_extra) sodium_free(s->held_extra); /* wipes it */
    s->held_extra = NULL;
    s->nheld_extra = 0;
    if (n == 0) return TV_OK;
    if (!(s->held_extra = sodium_allocarray(n, TV_PERSON_REF_BYTES))) return TV_ENOMEM;
    memcpy(s->held_extra, refs, n * TV_PERSON_REF_BYTES);
    qsort(s->held_extra, n, TV_PERSON_REF_BYTES, ref_cmp);
    s->nheld_extra = n;
    return TV_OK;
}

static int held_here(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES])
{
    store_hold h;
    int rc = store_hold_get(t, person, &h);
    if (rc == TV_ENOTFOUND) return 0;
    return rc ? rc : h.held;
}

int store_held(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES])
{
    const store *s = t->s;
    if (s->nheld_extra &&
        bsearch(person, s->held_extra, s->nheld_extra, TV_PERSON_REF_BYTES, ref_cmp))
        return 1;
    int rc = held_here(t, person);
    if (rc) return rc;
    /* a commune's ref (a person record, its scans in a log) held under its province ref */
    uint8_t pref[TV_PERSON_REF_BYTES];
    rc = store_pmap_get(t, person, pref, NULL, NULL);
    if (rc == 1) return held_here(t, pref);
    return rc == TV_ENOTFOUND ? 0 : rc;
}

typedef struct hold_each {
    store_hold_fn fn;
    void *ctx;
} hold_each;

static int hold_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    hold_each *c = arg;
    store_hold h;
    int rc = hold_decode(k, v, &h);
    return rc ? rc : c->fn(&h, c->ctx);
}

int store_holds_foreach(store_txn *t, store_hold_fn fn, void *ctx)
{
    hold_each c = {fn, ctx};
    return store_prefix_foreach_(t, T_HOLDS, NULL, 0, hold_row, &c);
}

/* --- purge ----------------------------------------------------------------------------- */

/* The people scanned at or after the cutoff: a sorted array of refs, for bsearch. */
typedef struct ref_set {
    uint8_t (*ref)[TV_PERSON_REF_BYTES];
    size_t n, cap;
} ref_set;

static int ref_cmp(const void *a, const void *b)
{
    return memcmp(a, b, TV_PERSON_REF_BYTES);
}

static int ref_add(ref_set *s, const uint8_t *ref)
{
    if (s->n && memcmp(s->ref[s->n - 1], ref, TV_PERSON_REF_BYTES) == 0) return TV_OK;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        void *p = realloc(s->ref, cap * TV_PERSON_REF_BYTES);
        if (!p) return TV_ENOMEM;
        s->ref = p;
        s->cap = cap;
    }
    memcpy(s->ref[s->n++], ref, TV_PERSON_REF_BYTES);
    return TV_OK;
}

static int ref_has(const ref_set *s, const uint8_t *ref)
{
    return s->n && bsearch(ref, s->ref, s->n, TV_PERSON_REF_BYTES, ref_cmp) != NULL;
}

/* Deletes the row the cursor stands on and moves to the next one (the first key after the
 * deleted one): 0, MDB_NOTFOUND at the end, or an LMDB error. */
static int del_next(MDB_cursor *cur, MDB_val *k, MDB_val *v)
{
    uint8_t key[64];
    if (k->mv_size > sizeof key) return MDB_BAD_VALSIZE;
    memcpy(key, k->mv_data, k->mv_size);
    MDB_val at = {k->mv_size, key};
    int rc = mdb_cursor_del(cur, 0);
    if (rc) return rc;
    *k = at;
    return mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
}

/* Deletes the rows of a scan index whose scan is older than cutoff, but those of held
 * people. person_in_key: the person
 * index (the ref follows the day in the key), else the venue index (the ref starts the value).
 * recent (person index only) collects the people with a scan kept, in key order within each day. */
static int purge_scans(store_txn *t, int table, int64_t cutoff, int person_in_key,
                       uint64_t *removed, ref_set *recent)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[table], &cur);
    if (rc) return store_err_(t, rc);
    const size_t at_off = person_in_key ? 4 + TV_PERSON_REF_BYTES : 4 + TV_VENUE_ID_BYTES;
    const uint32_t cut_day = store_bias32_(crdt_day_vn(cutoff));
    const uint64_t cut_at = store_bias64_(cutoff);
    MDB_val k, v;
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;) {
        if (k.mv_size < at_off + 8 || v.mv_size < 1) {
            out = TV_ECORRUPT;
            break;
        }
        const uint8_t *kp = k.mv_data;
        const uint8_t *person = person_in_key ? kp + 4 : v.mv_data;
        if (store_get32_(kp) > cut_day || store_get64_(kp + at_off) >= cut_at) {
            /* in force; keys start with the day, so the rows of the cutoff's day mix both.
             * Only the person index is read on, to know who was seen since. */
            if (!recent && store_get32_(kp) > cut_day) break;
            if (recent && (out = ref_add(recent, person))) break;
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        int held = store_held(t, person);
        if (held < 0) {
            out = held;
            break;
        }
        if (held) {
            if (recent && (out = ref_add(recent, person))) break;
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        (*removed)++;
        rc = del_next(cur, &k, &v);
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == MDB_NOTFOUND || rc == 0 ? TV_OK : store_err_(t, rc);
}

#define PERSON_HEAD_BYTES (8 + TV_NODE_ID_BYTES + 8)

/* Person records: gone with the person's last scan kept (recent: the people with a scan
 * kept, sorted), unless the person is held (a card issued and never used in the period goes
 * too: the card itself carries the ref and the display, and a gate records the person again
 * at the next scan). */
static int purge_persons(store_txn *t, const ref_set *recent, store_purge_stats *st)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_PERSONS], &cur);
    if (rc) return store_err_(t, rc);
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && mrc == 0) {
        if (k.mv_size != TV_PERSON_REF_BYTES || v.mv_size < PERSON_HEAD_BYTES) {
            rc = TV_ECORRUPT;
            break;
        }
        int keep = ref_has(recent, k.mv_data);
        if (!keep && (keep = store_held(t, k.mv_data)) < 0) rc = keep;
        /* at a health node a mapped ref's scans, and its hold, are the province ref's */
        uint8_t pref[TV_PERSON_REF_BYTES];
        int prc = keep || rc ? TV_ENOTFOUND : store_pmap_lookup_(t, k.mv_data, pref);
        if (prc == TV_OK && !(keep = ref_has(recent, pref)) && (keep = store_held(t, pref)) < 0)
            rc = keep;
        else if (prc != TV_OK && prc != TV_ENOTFOUND)
            rc = prc;
        if (rc) break;
        if (keep) {
            mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        st->persons++;
        /* the map's rows of a record gone name its pseudonyms: they go with it */
        uint8_t ref[TV_PERSON_REF_BYTES];
        memcpy(ref, k.mv_data, sizeof ref);
        if ((rc = store_pmap_forget_(t, ref))) break;
        k.mv_size = sizeof ref; /* the cursor's row read again after that write */
        k.mv_data = ref;
        if ((mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY)) == 0) mrc = del_next(cur, &k, &v);
    }
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND) rc = store_err_(t, mrc);
    mdb_cursor_close(cur);
    return rc;
}

/* The audit of full views: a row names a person and why they were looked up; it goes with
 * the records it audits (before cut_hlc), unless the person is held. */
static int purge_reveals(store_txn *t, uint64_t cut_hlc, store_purge_stats *st)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_REVEALS], &cur);
    if (rc) return store_err_(t, rc);
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && mrc == 0) {
        if (k.mv_size != 8 + TV_NODE_ID_BYTES || v.mv_size < TV_PERSON_REF_BYTES) {
            rc = TV_ECORRUPT;
            break;
        }
        if (store_get64_(k.mv_data) >= cut_hlc) break; /* in hlc order: the rest is newer */
        int held = store_held(t, v.mv_data);
        if (held < 0) {
            rc = held;
            break;
        }
        if (held) {
            mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        st->reveals++;
        mrc = del_next(cur, &k, &v);
    }
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND) rc = store_err_(t, mrc);
    mdb_cursor_close(cur);
    return rc;
}

/* Holds lifted before cut_hlc: the pseudonym and the reason go too. */
static int purge_holds(store_txn *t, uint64_t cut_hlc, store_purge_stats *st)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_HOLDS], &cur);
    if (rc) return store_err_(t, rc);
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && mrc == 0) {
        store_hold h;
        if ((rc = hold_decode(&k, &v, &h))) break;
        if (h.held || h.hlc >= cut_hlc) {
            mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        st->holds++;
        mrc = del_next(cur, &k, &v);
    }
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND) rc = store_err_(t, mrc);
    mdb_cursor_close(cur);
    return rc;
}

int store_purge(store_txn *t, int64_t cutoff_ms, store_purge_stats *st)
{
    memset(st, 0, sizeof *st);
    st->cutoff_ms = cutoff_ms;
    ref_set recent = {0};
    int rc = purge_scans(t, T_SCAN_VENUE, cutoff_ms, 0, &st->scans, NULL);
    uint64_t by_person = 0;
    if (rc == 0) rc = purge_scans(t, T_SCAN_PERSON, cutoff_ms, 1, &by_person, &recent);
    if (rc == 0 && recent.n) qsort(recent.ref, recent.n, TV_PERSON_REF_BYTES, ref_cmp);
    const uint64_t cut_hlc = crdt_hlc_make((uint64_t)cutoff_ms, 0);
    if (rc == 0) rc = purge_persons(t, &recent, st);
    if (rc == 0) rc = purge_reveals(t, cut_hlc, st);
    if (rc == 0) rc = purge_holds(t, cut_hlc, st);
    free(recent.ref);
    return rc;
}
