/* Views of the events about people and venue compliance: person records, a venue's
 * controllers (an observed-remove set), reminders and suspension, and the audit of full
 * views of a person.
 *
 * Like the venue view, each is a function of the set of events applied, whatever their
 * order: a person's record is the event with the largest (hlc, origin); a controller is
 * present while one of its adds is not named by any remove; reminders are kept one row
 * each, and suspension is worked out when read. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "store/internal.h"

#include <string.h>

#define PHONE_KEY_BYTES 16
#define PERSON_HEAD_BYTES (8 + TV_NODE_ID_BYTES + 8)

static void phone_key(uint8_t out[PHONE_KEY_BYTES], crdt_text phone)
{
    memset(out, 0, PHONE_KEY_BYTES);
    memcpy(out, phone.p, phone.n < PHONE_KEY_BYTES ? phone.n : PHONE_KEY_BYTES - 1);
}

static int apply_person(store_txn *t, const crdt_event *ev, const uint8_t *origin, uint64_t seq)
{
    const uint8_t *ref = ev->u.person.person;
    MDB_val cur;
    int rc = store_get_(t, T_PERSONS, ref, TV_PERSON_REF_BYTES, &cur);
    if (rc == TV_OK) {
        if (cur.mv_size < PERSON_HEAD_BYTES) return TV_ECORRUPT;
        const uint8_t *h = cur.mv_data;
        uint64_t hlc = store_get64_(h);
        int c = hlc != ev->hlc ? (ev->hlc > hlc ? 1 : -1) : memcmp(origin, h + 8, TV_NODE_ID_BYTES);
        if (c < 0 || (c == 0 && seq <= store_get64_(h + 8 + TV_NODE_ID_BYTES))) return TV_OK;
    } else if (rc != TV_ENOTFOUND) {
        return rc;
    }
    uint8_t v[PERSON_HEAD_BYTES + CRDT_EVENT_BYTES_MAX];
    if (ev->raw_len > CRDT_EVENT_BYTES_MAX) return TV_ELIMIT;
    store_be64_(v, ev->hlc);
    memcpy(v + 8, origin, TV_NODE_ID_BYTES);
    store_be64_(v + 8 + TV_NODE_ID_BYTES, seq);
    memcpy(v + PERSON_HEAD_BYTES, ev->raw, ev->raw_len);
    return store_put_(t, T_PERSONS, ref, TV_PERSON_REF_BYTES, v, PERSON_HEAD_BYTES + ev->raw_len);
}

static int apply_controller(store_txn *t, const crdt_event *ev, const uint8_t *origin, uint64_t seq)
{
    const crdt_controller *c = &ev->u.controller;
    if (ev->type == CRDT_EV_CONTROLLER_REMOVE) {
        static const uint8_t none = 0;
        for (uint32_t i = 0; i < c->ntags; i++) {
            int rc = store_put_(t, T_CTRL_GONE, c->tags + (size_t)i * CRDT_TAG_BYTES,
                                CRDT_TAG_BYTES, &none, 1);
            if (rc) return rc;
        }
        return TV_OK;
    }
    uint8_t k[TV_VENUE_ID_BYTES + PHONE_KEY_BYTES + CRDT_TAG_BYTES], v[8];
    memcpy(k, c->venue, TV_VENUE_ID_BYTES);
    phone_key(k + TV_VENUE_ID_BYTES, c->phone);
    memcpy(k + TV_VENUE_ID_BYTES + PHONE_KEY_BYTES, origin, TV_NODE_ID_BYTES);
    store_be64_(k + TV_VENUE_ID_BYTES + PHONE_KEY_BYTES + TV_NODE_ID_BYTES, seq);
    store_be64_(v, ev->hlc);
    return store_put_(t, T_CTRL_ADDS, k, sizeof k, v, sizeof v);
}

static int apply_reminder(store_txn *t, const crdt_event *ev, const uint8_t *origin, int copy)
{
    const crdt_reminder *r = &ev->u.reminder;
    uint8_t k[TV_VENUE_ID_BYTES + 8 + TV_NODE_ID_BYTES], v[1 + CRDT_TEXT_BYTES_MAX];
    memcpy(k, r->venue, TV_VENUE_ID_BYTES);
    store_be64_(k + TV_VENUE_ID_BYTES, ev->hlc);
    memcpy(k + TV_VENUE_ID_BYTES + 8, origin, TV_NODE_ID_BYTES);
    v[0] = r->action;
    if (r->note.n) memcpy(v + 1, r->note.p, r->note.n);
    MDB_val held;
    int rc = copy ? store_get_(t, T_REMINDERS, k, sizeof k, &held) : TV_ENOTFOUND;
    if (rc != TV_ENOTFOUND) return rc; /* a checkpoint's copy of a reminder held */
    rc = store_put_(t, T_REMINDERS, k, sizeof k, v, 1 + (size_t)r->note.n);
    /* a copy is never counted, not even where the reminder was not held before */
    if (rc || r->action != CRDT_REMIND || copy) return rc;
    /* each event is applied once: the day's count is exact in any order of arrival */
    store_agg d = {.reminders = 1};
    return store_agg_add_(t, r->unit.p, r->unit.n, crdt_day_vn((int64_t)crdt_hlc_ms(ev->hlc)), &d);
}

static int apply_reveal(store_txn *t, const crdt_event *ev, const uint8_t *origin)
{
    const crdt_reveal *r = &ev->u.reveal;
    uint8_t k[8 + TV_NODE_ID_BYTES], v[TV_PERSON_REF_BYTES + CRDT_TEXT_BYTES_MAX];
    store_be64_(k, ev->hlc);
    memcpy(k + 8, origin, TV_NODE_ID_BYTES);
    memcpy(v, r->person, TV_PERSON_REF_BYTES);
    if (r->reason.n) memcpy(v + TV_PERSON_REF_BYTES, r->reason.p, r->reason.n);
    return store_put_(t, T_REVEALS, k, sizeof k, v, TV_PERSON_REF_BYTES + (size_t)r->reason.n);
}

int store_people_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES],
                        uint64_t seq, int copy)
{
    switch (ev->type) {
    case CRDT_EV_PERSON:
        return apply_person(t, ev, origin, seq);
    case CRDT_EV_CONTROLLER_ADD:
    case CRDT_EV_CONTROLLER_REMOVE:
        return apply_controller(t, ev, origin, seq);
    case CRDT_EV_VENUE_REMINDER:
        return apply_reminder(t, ev, origin, copy);
    case CRDT_EV_REVEAL:
        return apply_reveal(t, ev, origin);
    }
    return TV_OK;
}

/* --- reads --------------------------------------------------------------------------- */

static int person_own(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], store_person *p);

typedef struct mapped_ctx {
    store_txn *t;
    store_person *best;
    int found;
} mapped_ctx;

static int mapped_one(const uint8_t ref[TV_PERSON_REF_BYTES], const char *unit, void *arg)
{
    (void)unit;
    mapped_ctx *c = arg;
    store_person p;
    int rc = person_own(c->t, ref, &p);
    if (rc == TV_ENOTFOUND) return 0;
    if (rc) return rc;
    int c_ = !c->found               ? 1
             : p.hlc != c->best->hlc ? (p.hlc > c->best->hlc ? 1 : -1)
                                     : memcmp(p.origin, c->best->origin, TV_NODE_ID_BYTES);
    if (c_ > 0) *c->best = p;
    c->found = 1;
    return 0;
}

int store_person_get(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], store_person *p)
{
    int rc = person_own(t, ref, p);
    if (rc != TV_ENOTFOUND) return rc;
    /* a province ref at a health node: the records of the commune refs mapped to it */
    mapped_ctx c = {.t = t, .best = p};
    if ((rc = store_pmap_refs_of(t, ref, mapped_one, &c))) return rc;
    return c.found ? TV_OK : TV_ENOTFOUND;
}

static int person_own(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], store_person *p)
{
    memset(p, 0, sizeof *p);
    MDB_val v;
    int rc = store_get_(t, T_PERSONS, ref, TV_PERSON_REF_BYTES, &v);
    if (rc) return rc;
    if (v.mv_size <= PERSON_HEAD_BYTES) return TV_ECORRUPT;
    const uint8_t *h = v.mv_data;
    p->hlc = store_get64_(h);
    memcpy(p->origin, h + 8, TV_NODE_ID_BYTES);
    p->seq = store_get64_(h + 8 + TV_NODE_ID_BYTES);
    p->raw = h + PERSON_HEAD_BYTES;
    p->raw_len = v.mv_size - PERSON_HEAD_BYTES;
    return TV_OK;
}

typedef struct persons_ctx {
    store_person_fn fn;
    void *ctx;
} persons_ctx;

static int person_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    const persons_ctx *c = arg;
    if (k->mv_size != TV_PERSON_REF_BYTES || v->mv_size <= PERSON_HEAD_BYTES) return TV_ECORRUPT;
    const uint8_t *h = v->mv_data;
    store_person p = {.hlc = store_get64_(h),
                      .seq = store_get64_(h + 8 + TV_NODE_ID_BYTES),
                      .raw = h + PERSON_HEAD_BYTES,
                      .raw_len = v->mv_size - PERSON_HEAD_BYTES};
    memcpy(p.origin, h + 8, TV_NODE_ID_BYTES);
    return c->fn(k->mv_data, &p, c->ctx);
}

int store_persons_foreach(store_txn *t, store_person_fn fn, void *ctx)
{
    persons_ctx c = {.fn = fn, .ctx = ctx};
    return store_prefix_foreach_(t, T_PERSONS, NULL, 0, person_row, &c);
}

int store_prefix_foreach_(store_txn *t, int table, const uint8_t *prefix, size_t plen,
                          store_prefix_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[table], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k = {plen, (void *)prefix}, v;
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)) break;
        if ((out = fn(&k, &v, ctx))) break;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == 0 || rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

typedef struct ctrl_ctx {
    store_txn *t;
    store_controller_fn fn;
    void *ctx;
    char last[PHONE_KEY_BYTES]; /* the phone last reported: one call per phone */
} ctrl_ctx;

static int ctrl_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    ctrl_ctx *c = arg;
    if (k->mv_size != TV_VENUE_ID_BYTES + PHONE_KEY_BYTES + CRDT_TAG_BYTES || v->mv_size != 8)
        return TV_ECORRUPT;
    const uint8_t *p = k->mv_data;
    const uint8_t *tag = p + TV_VENUE_ID_BYTES + PHONE_KEY_BYTES;
    MDB_val gone;
    int rc = store_get_(c->t, T_CTRL_GONE, tag, CRDT_TAG_BYTES, &gone);
    if (rc == TV_OK) return TV_OK; /* this add was seen by a remove */
    if (rc != TV_ENOTFOUND) return rc;
    char phone[PHONE_KEY_BYTES];
    memcpy(phone, p + TV_VENUE_ID_BYTES, PHONE_KEY_BYTES);
    phone[PHONE_KEY_BYTES - 1] = '\0';
    if (strcmp(phone, c->last) == 0) return TV_OK;
    memcpy(c->last, phone, sizeof phone);
    return c->fn(phone, store_get64_(v->mv_data), c->ctx);
}

int store_controllers_foreach(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES],
                              store_controller_fn fn, void *ctx)
{
    ctrl_ctx c = {.t = t, .fn = fn, .ctx = ctx};
    return store_prefix_foreach_(t, T_CTRL_ADDS, venue, TV_VENUE_ID_BYTES, ctrl_row, &c);
}

typedef struct tags_ctx {
    store_txn *t;
    uint8_t *tags;
    uint32_t n, cap;
} tags_ctx;

static int tag_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)v;
    tags_ctx *c = arg;
    if (k->mv_size != TV_VENUE_ID_BYTES + PHONE_KEY_BYTES + CRDT_TAG_BYTES) return TV_ECORRUPT;
    const uint8_t *tag = (const uint8_t *)k->mv_data + TV_VENUE_ID_BYTES + PHONE_KEY_BYTES;
    MDB_val gone;
    int rc = store_get_(c->t, T_CTRL_GONE, tag, CRDT_TAG_BYTES, &gone);
    if (rc == TV_OK) return TV_OK;
    if (rc != TV_ENOTFOUND) return rc;
    if (c->n == c->cap) return TV_ELIMIT;
    memcpy(c->tags + (size_t)c->n++ * CRDT_TAG_BYTES, tag, CRDT_TAG_BYTES);
    return TV_OK;
}

int store_controller_tags(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], const char *phone,
                          uint8_t *tags, uint32_t cap, uint32_t *n)
{
    uint8_t prefix[TV_VENUE_ID_BYTES + PHONE_KEY_BYTES];
    memcpy(prefix, venue, TV_VENUE_ID_BYTES);
    phone_key(prefix + TV_VENUE_ID_BYTES, (crdt_text){phone, (uint32_t)strlen(phone)});
    tags_ctx c = {.t = t, .tags = tags, .cap = cap};
    int rc = store_prefix_foreach_(t, T_CTRL_ADDS, prefix, sizeof prefix, tag_row, &c);
    *n = c.n;
    return rc;
}

typedef struct rem_ctx {
    store_reminder_fn fn;
    void *ctx;
} rem_ctx;

static int rem_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    rem_ctx *c = arg;
    if (k->mv_size != TV_VENUE_ID_BYTES + 8 + TV_NODE_ID_BYTES || v->mv_size < 1)
        return TV_ECORRUPT;
    const uint8_t *p = k->mv_data, *val = v->mv_data;
    return c->fn(store_get64_(p + TV_VENUE_ID_BYTES), p + TV_VENUE_ID_BYTES + 8, val[0],
                 (const char *)val + 1, v->mv_size - 1, c->ctx);
}

int store_reminders_foreach(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES],
                            store_reminder_fn fn, void *ctx)
{
    rem_ctx c = {fn, ctx};
    return store_prefix_foreach_(t, T_REMINDERS, venue, TV_VENUE_ID_BYTES, rem_row, &c);
}

/* The latest scan time at a venue: the venue's last venue-day row holds it. */
static int last_scan(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], int64_t *last_ms)
{
    *last_ms = INT64_MIN;
    uint8_t key[TV_VENUE_ID_BYTES + 4];
    memcpy(key, venue, TV_VENUE_ID_BYTES);
    memset(key + TV_VENUE_ID_BYTES, 0xff, 4);
    MDB_val k, v;
    int rc = store_last_at_most_(t, T_VENUE_DAY, key, sizeof key, TV_VENUE_ID_BYTES, &k, &v);
    if (rc == TV_ENOTFOUND) return TV_OK;
    if (rc) return rc;
    if (k.mv_size != sizeof key || v.mv_size != VENUE_DAY_BYTES) return TV_ECORRUPT;
    *last_ms = (int64_t)(store_get64_((uint8_t *)v.mv_data + 8) ^ (1ULL << 63));
    return TV_OK;
}

typedef struct status_ctx {
    store_venue_status *st;
    int64_t clear_ms;
} status_ctx;

static int status_row(uint64_t hlc, const uint8_t *origin, uint8_t action, const char *note,
                      size_t note_len, void *arg)
{
    (void)origin, (void)note, (void)note_len;
    status_ctx *c = arg;
    int64_t ms = (int64_t)crdt_hlc_ms(hlc);
    if (action == CRDT_REINSTATE) {
        if (ms > c->st->reinstated_ms) c->st->reinstated_ms = ms;
        return TV_OK;
    }
    c->st->reminders++;
    if (ms > c->st->last_reminder_ms) c->st->last_reminder_ms = ms;
    return TV_OK;
}

static int active_row(uint64_t hlc, const uint8_t *origin, uint8_t action, const char *note,
                      size_t note_len, void *arg)
{
    (void)origin, (void)note, (void)note_len;
    status_ctx *c = arg;
    if (action == CRDT_REMIND && (int64_t)crdt_hlc_ms(hlc) > c->clear_ms) c->st->reminders_active++;
    return TV_OK;
}

int store_venue_status_get(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES],
                           store_venue_status *st)
{
    memset(st, 0, sizeof *st);
    st->reinstated_ms = st->last_reminder_ms = INT64_MIN;
    int rc = last_scan(t, venue, &st->last_scan_ms);
    status_ctx c = {.st = st};
    if (rc == 0) rc = store_reminders_foreach(t, venue, status_row, &c);
    /* a scan recorded or a reinstatement after a reminder clears it */
    c.clear_ms = st->last_scan_ms > st->reinstated_ms ? st->last_scan_ms : st->reinstated_ms;
    if (rc == 0 && st->reminders) rc = store_reminders_foreach(t, venue, active_row, &c);
    st->suspended = st->reminders_active >= STORE_SUSPEND_REMINDERS;
    return rc;
}

typedef struct rev_ctx {
    store_reveal_fn fn;
    void *ctx;
} rev_ctx;

static int rev_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    rev_ctx *c = arg;
    if (k->mv_size != 8 + TV_NODE_ID_BYTES || v->mv_size < TV_PERSON_REF_BYTES) return TV_ECORRUPT;
    const uint8_t *p = k->mv_data, *val = v->mv_data;
    return c->fn(store_get64_(p), p + 8, val, (const char *)val + TV_PERSON_REF_BYTES,
                 v->mv_size - TV_PERSON_REF_BYTES, c->ctx);
}

int store_reveals_foreach(store_txn *t, store_reveal_fn fn, void *ctx)
{
    rev_ctx c = {fn, ctx};
    return store_prefix_foreach_(t, T_REVEALS, NULL, 0, rev_row, &c);
}
