/* Visits: the presence view over the store (see visits.h). */
#include "node/logic/visits.h"
#include "crdt/error.h"
#include "crdt/batch.h"
#include "node/logic/category.h"
#include "node/logic/record.h"
#include "node/format/timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Meta key of a category's stay setting: "stay/<code>", value 4 bytes big-endian. */
static void stay_key(char *k, size_t cap, unsigned code)
{
    snprintf(k, cap, "stay/%u", code);
}

int tv_stay_get(store_txn *t, unsigned code, uint32_t *minutes, int *is_set)
{
    char k[24];
    uint8_t v[4];
    size_t len;
    stay_key(k, sizeof k, code);
    int rc = store_meta_get(t, k, v, sizeof v, &len);
    if (rc == TV_OK && len == sizeof v) {
        *minutes = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
        if (is_set) *is_set = 1;
        return TV_OK;
    }
    if (rc == TV_OK) return TV_ECORRUPT;
    if (rc != TV_ENOTFOUND) return rc;
    const tv_category *c = tv_category_by_code(code);
    *minutes = c ? c->stay_min : 0;
    if (is_set) *is_set = 0;
    return TV_OK;
}

int tv_stay_set(store_txn *t, unsigned code, int32_t minutes)
{
    char k[24];
    stay_key(k, sizeof k, code);
    if (minutes < 0) return store_meta_del(t, k);
    if (minutes < 1 || minutes > TV_STAY_MIN_MAX) return TV_EINVAL;
    uint8_t v[4] = {(uint8_t)(minutes >> 24), (uint8_t)(minutes >> 16), (uint8_t)(minutes >> 8),
                    (uint8_t)minutes};
    return store_meta_put(t, k, v, sizeof v);
}

int tv_venue_rules_get(const uint8_t venue[TV_VENUE_ID_BYTES], tv_venue_rules *out, void *ctx)
{
    store_txn *t = ctx;
    store_venue v;
    int rc = store_venue_get(t, venue, &v);
    if (rc == TV_ENOTFOUND) return TV_OK;
    if (rc) return rc;
    uint32_t minutes;
    if ((rc = tv_stay_get(t, v.category, &minutes, NULL))) return rc;
    out->stay_ms = (int64_t)minutes * 60 * 1000;
    out->closes = v.closes <= TV_CLOSES_MAX ? v.closes : 0;
    return TV_OK;
}

typedef struct collect {
    tv_pscan *s;
    size_t n, cap;
} collect;

static int collect_one(const store_scan_ref *r, void *arg)
{
    collect *c = arg;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        tv_pscan *s = realloc(c->s, cap * sizeof *s);
        if (!s) return TV_ENOMEM;
        c->s = s;
        c->cap = cap;
    }
    tv_pscan *p = &c->s[c->n++];
    memcpy(p->venue, r->venue, TV_VENUE_ID_BYTES);
    p->at_ms = r->at_ms;
    p->out = r->direction == CRDT_DIR_OUT;
    p->tie = (uint64_t)r->origin_no << 40 | (r->seq & ((1ULL << 40) - 1));
    return 0;
}

int tv_person_presence(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES], int64_t from_ms,
                       int64_t to_ms, int64_t window_ms, int64_t now_ms, tv_presence **out,
                       size_t *nout)
{
    return tv_person_presence_rules(t, person, from_ms, to_ms, window_ms, now_ms,
                                    tv_venue_rules_get, t, out, nout);
}

int tv_person_presence_rules(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES],
                             int64_t from_ms, int64_t to_ms, int64_t window_ms, int64_t now_ms,
                             tv_rules_fn rules, void *ctx, tv_presence **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (from_ms >= to_ms) return TV_OK;
    int64_t start = tv_date_start_ms(crdt_day_vn(from_ms), TV_TIME_VN_OFFSET_MIN);
    collect c = {0};
    int rc = store_scans_by_person(t, person, start, to_ms, collect_one, &c);
    if (rc == TV_OK) rc = tv_presence_build(c.s, c.n, window_ms, now_ms, rules, ctx, out, nout);
    free(c.s);
    return rc;
}

int tv_scan_display(store_txn *t, const store_scan_ref *s, char *out, size_t cap)
{
    store_person sp;
    int rc = store_person_get(t, s->person, &sp);
    if (rc != TV_ENOTFOUND)
        return rc ? rc : tv_person_display_get(t, s->person, (crdt_text){0}, out, cap);
    const uint8_t *buf;
    size_t len;
    crdt_batch b;
    /* a scan carried by a checkpoint's copy is in no batch of its seq: no masked form */
    if ((rc = store_scan_batch(t, s, &buf, &len)))
        return rc == TV_ENOTFOUND ? tv_person_display_get(t, s->person, (crdt_text){0}, out, cap)
                                  : rc;
    /* the store verified the batch on apply: its header is enough here */
    if ((rc = crdt_batch_peek(&b, buf, len))) return TV_ECORRUPT;
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    crdt_event ev;
    uint64_t seq = b.h.first_seq;
    crdt_text masked = {0};
    while ((rc = crdt_batch_iter_next(&it, &ev)) == 1 && seq < s->seq)
        seq++;
    if (rc == 1 && seq == s->seq && ev.known && ev.type == CRDT_EV_SCAN) masked = ev.u.scan.masked;
    rc = rc < 0 ? TV_ECORRUPT : tv_person_display_get(t, s->person, masked, out, cap);
    crdt_batch_iter_release(&it);
    return rc;
}

/* --- a venue's day ---------------------------------------------------------------- */

typedef struct day_ctx {
    store_txn *t;
    const uint8_t *venue;
    int64_t from_ms, to_ms, now_ms;
    store_scan_ref *people; /* a scan of each person at the venue that day */
    size_t npeople, cap;
    tv_venue_day *out;
    size_t rcap;
} day_ctx;

static int person_add(const store_scan_ref *s, void *arg)
{
    day_ctx *c = arg;
    if (c->npeople == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        void *p = realloc(c->people, cap * sizeof *c->people);
        if (!p) return TV_ENOMEM;
        c->people = p;
        c->cap = cap;
    }
    c->people[c->npeople++] = *s;
    return 0;
}

static int ref_cmp(const void *a, const void *b)
{
    const store_scan_ref *x = a, *y = b;
    return memcmp(x->person, y->person, TV_PERSON_REF_BYTES);
}

static int visit_cmp(const void *pa, const void *pb)
{
    const tv_visit *a = pa, *b = pb;
    if (a->p.from_ms != b->p.from_ms) return a->p.from_ms < b->p.from_ms ? -1 : 1;
    return strcmp(a->person, b->person);
}

/* Adds a row to the day; NULL when out of memory. */
static tv_visit *visit_new(day_ctx *c)
{
    tv_venue_day *d = c->out;
    if (d->nrows == c->rcap) {
        size_t cap = c->rcap ? 2 * c->rcap : 64;
        tv_visit *r = realloc(d->rows, cap * sizeof *r);
        if (!r) return NULL;
        d->rows = r;
        c->rcap = cap;
    }
    return &d->rows[d->nrows++];
}

/* Adds the visits of one person (s: one of their scans) at the venue that begin on the
 * day. */
static int person_visits(day_ctx *c, const store_scan_ref *s)
{
    tv_presence *p;
    size_t n;
    int rc = tv_person_presence(c->t, s->person, c->from_ms, c->to_ms, TV_DEDUPE_WINDOW_MS_DEFAULT,
                                c->now_ms, &p, &n);
    if (rc) return rc;
    char person[sizeof c->out->rows->person] = "";
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (memcmp(p[i].venue, c->venue, TV_VENUE_ID_BYTES) != 0 || p[i].from_ms < c->from_ms ||
            p[i].from_ms >= c->to_ms)
            continue;
        if (!person[0] && (rc = tv_scan_display(c->t, s, person, sizeof person))) break;
        tv_visit *r = visit_new(c);
        if (!r) {
            rc = TV_ENOMEM;
            break;
        }
        r->p = p[i];
        memcpy(r->person, person, sizeof person);
    }
    free(p);
    return rc;
}

int tv_venue_day_get(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], int32_t day,
                     int64_t now_ms, tv_venue_day *out)
{
    memset(out, 0, sizeof *out);
    day_ctx c = {.t = t,
                 .venue = venue,
                 .from_ms = tv_date_start_ms(day, TV_TIME_VN_OFFSET_MIN),
                 .to_ms = tv_date_start_ms(day + 1, TV_TIME_VN_OFFSET_MIN),
                 .now_ms = now_ms,
                 .out = out};
    int rc = store_scans_by_venue(t, venue, c.from_ms, c.to_ms, person_add, &c);
    if (rc == 0 && c.npeople > 1) qsort(c.people, c.npeople, sizeof *c.people, ref_cmp);
    for (size_t i = 0; i < c.npeople && rc == 0; i++) {
        if (i > 0 && ref_cmp(&c.people[i], &c.people[i - 1]) == 0) continue;
        out->people++;
        rc = person_visits(&c, &c.people[i]);
    }
    free(c.people);
    if (rc == 0 && out->nrows > 1) qsort(out->rows, out->nrows, sizeof *out->rows, visit_cmp);
    return rc;
}

void tv_venue_day_free(tv_venue_day *d)
{
    free(d->rows);
    memset(d, 0, sizeof *d);
}
