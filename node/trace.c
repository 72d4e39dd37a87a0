/* Contact tracing over a node's store (see trace.h). */
#include "node/trace.h"
#include "crdt/error.h"
#include "node/timefmt.h"
#include "node/visits.h"

#include <stdlib.h>
#include <string.h>

int64_t tv_overlap_ms(int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t margin)
{
    int64_t lo = a0 - margin > b0 ? a0 - margin : b0;
    int64_t hi = a1 + margin < b1 ? a1 + margin : b1;
    return hi > lo ? hi - lo : 0;
}

/* A person's presences over the whole window, computed once. */
typedef struct cached {
    uint8_t ref[TV_PERSON_REF_BYTES];
    tv_presence *p;
    size_t n;
} cached;

typedef struct tracer {
    store_txn *t;
    const tv_trace_opts *o;
    cached *cache;
    size_t ncache, capcache;
    tv_contact *c;
    size_t n, cap;
    /* scratch: the people scanned at one venue in one span */
    uint8_t (*seen)[TV_PERSON_REF_BYTES];
    size_t nseen, capseen;
} tracer;

static int64_t day_start(int64_t ms)
{
    return tv_date_start_ms(crdt_day_vn(ms), TV_TIME_VN_OFFSET_MIN);
}

static int presences_of(tracer *x, const uint8_t *ref, const cached **out)
{
    for (size_t i = 0; i < x->ncache; i++)
        if (memcmp(x->cache[i].ref, ref, TV_PERSON_REF_BYTES) == 0) {
            *out = &x->cache[i];
            return 0;
        }
    if (x->ncache == x->capcache) {
        size_t cap = x->capcache ? 2 * x->capcache : 64;
        cached *c = realloc(x->cache, cap * sizeof *c);
        if (!c) return TV_ENOMEM;
        x->cache = c;
        x->capcache = cap;
    }
    cached *c = &x->cache[x->ncache];
    memcpy(c->ref, ref, TV_PERSON_REF_BYTES);
    const tv_trace_opts *o = x->o;
    int rc = tv_person_presence(x->t, ref, o->from_ms - o->margin_ms, o->to_ms + o->margin_ms,
                                TV_DEDUPE_WINDOW_MS_DEFAULT, o->now_ms, &c->p, &c->n);
    if (rc) return rc;
    x->ncache++;
    *out = c;
    return 0;
}

static int collect_person(const store_scan_ref *s, void *arg)
{
    tracer *x = arg;
    for (size_t i = 0; i < x->nseen; i++)
        if (memcmp(x->seen[i], s->person, TV_PERSON_REF_BYTES) == 0) return 0;
    if (x->nseen == x->capseen) {
        size_t cap = x->capseen ? 2 * x->capseen : 64;
        void *p = realloc(x->seen, cap * sizeof *x->seen);
        if (!p) return TV_ENOMEM;
        x->seen = p;
        x->capseen = cap;
    }
    memcpy(x->seen[x->nseen++], s->person, TV_PERSON_REF_BYTES);
    return 0;
}

static tv_contact *contact_of(tracer *x, const uint8_t *ref)
{
    for (size_t i = 0; i < x->n; i++)
        if (memcmp(x->c[i].ref, ref, TV_PERSON_REF_BYTES) == 0) return &x->c[i];
    return NULL;
}

/* Adds one shared visit of ref (found from `via`, at `level`). */
static int add_shared(tracer *x, const uint8_t *ref, const uint8_t *via, int level,
                      const uint8_t *venue, int64_t from, int64_t to)
{
    tv_contact *c = contact_of(x, ref);
    if (!c) {
        if (x->n == x->cap) {
            size_t cap = x->cap ? 2 * x->cap : 32;
            tv_contact *p = realloc(x->c, cap * sizeof *p);
            if (!p) return TV_ENOMEM;
            x->c = p;
            x->cap = cap;
        }
        c = &x->c[x->n++];
        memset(c, 0, sizeof *c);
        memcpy(c->ref, ref, TV_PERSON_REF_BYTES);
        memcpy(c->via, via, TV_PERSON_REF_BYTES);
        c->level = level;
        c->first_ms = from;
    }
    tv_shared *s = realloc(c->shared, (c->nshared + 1) * sizeof *s);
    if (!s) return TV_ENOMEM;
    c->shared = s;
    memcpy(s[c->nshared].venue, venue, TV_VENUE_ID_BYTES);
    s[c->nshared].from_ms = from;
    s[c->nshared].to_ms = to;
    c->nshared++;
    c->total_ms += to - from;
    if (from < c->first_ms) c->first_ms = from;
    return 0;
}

/* Is ref the source, or already a contact of a lower level (never listed again)? */
static int excluded(tracer *x, const uint8_t *ref, const uint8_t *case_ref, int level)
{
    if (memcmp(ref, case_ref, TV_PERSON_REF_BYTES) == 0) return 1;
    tv_contact *c = contact_of(x, ref);
    return c && c->level < level;
}

/* The contacts of src through its presences pv (those ending after since_ms). */
static int contacts_from(tracer *x, const uint8_t *src, const uint8_t *case_ref,
                         const tv_presence *pv, size_t npv, int64_t since_ms, int level)
{
    const tv_trace_opts *o = x->o;
    for (size_t i = 0; i < npv; i++) {
        const tv_presence *p = &pv[i];
        if (p->to_ms + o->margin_ms <= since_ms || p->from_ms - o->margin_ms >= o->to_ms) continue;
        int64_t lo = p->from_ms - o->margin_ms, hi = p->to_ms + o->margin_ms;
        x->nseen = 0;
        int rc = store_scans_by_venue(x->t, p->venue, day_start(lo), hi + 1, collect_person, x);
        for (size_t k = 0; k < x->nseen && rc == 0; k++) {
            uint8_t q[TV_PERSON_REF_BYTES];
            memcpy(q, x->seen[k], sizeof q);
            if (memcmp(q, src, sizeof q) == 0 || excluded(x, q, case_ref, level)) continue;
            const cached *qc;
            if ((rc = presences_of(x, q, &qc))) break;
            for (size_t j = 0; j < qc->n && rc == 0; j++) {
                const tv_presence *b = &qc->p[j];
                if (memcmp(b->venue, p->venue, TV_VENUE_ID_BYTES) != 0) continue;
                int64_t ov =
                    tv_overlap_ms(p->from_ms, p->to_ms, b->from_ms, b->to_ms, o->margin_ms);
                if (ov < o->min_overlap_ms) continue;
                int64_t from = lo > b->from_ms ? lo : b->from_ms, to = from + ov;
                if (from < since_ms) from = since_ms; /* only from the exposure on */
                if (to - from < o->min_overlap_ms) continue;
                rc = add_shared(x, q, src, level, p->venue, from, to);
            }
        }
        if (rc) return rc;
    }
    return 0;
}

static int shared_cmp(const void *pa, const void *pb)
{
    const tv_shared *a = pa, *b = pb;
    if (a->from_ms != b->from_ms) return a->from_ms < b->from_ms ? -1 : 1;
    return memcmp(a->venue, b->venue, TV_VENUE_ID_BYTES);
}

static int contact_cmp(const void *pa, const void *pb)
{
    const tv_contact *a = pa, *b = pb;
    if (a->level != b->level) return a->level < b->level ? -1 : 1;
    if (a->total_ms != b->total_ms) return a->total_ms > b->total_ms ? -1 : 1;
    return memcmp(a->ref, b->ref, TV_PERSON_REF_BYTES);
}

int tv_trace(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], const tv_trace_opts *o,
             tv_trace_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->from_ms >= o->to_ms || o->min_overlap_ms <= 0 || o->margin_ms < 0 || o->depth < 1 ||
        o->depth > 2)
        return TV_EINVAL;
    tracer x = {.t = t, .o = o};
    const cached *self;
    int rc = presences_of(&x, ref, &self);
    /* the cache moves as it grows: keep the case's own presences by value */
    const tv_presence *mine = rc == 0 ? self->p : NULL;
    size_t nmine = rc == 0 ? self->n : 0, nf1 = 0;
    if (rc == 0) rc = contacts_from(&x, ref, ref, mine, nmine, o->from_ms, 1);
    if (rc == 0) {
        nf1 = x.n;
        if (nf1 > 1) qsort(x.c, nf1, sizeof *x.c, contact_cmp);
    }
    for (size_t i = 0; rc == 0 && o->depth == 2 && i < nf1; i++) {
        uint8_t f1[TV_PERSON_REF_BYTES];
        memcpy(f1, x.c[i].ref, sizeof f1);
        int64_t first = x.c[i].first_ms;
        const cached *pc;
        if ((rc = presences_of(&x, f1, &pc)) == 0)
            rc = contacts_from(&x, f1, ref, pc->p, pc->n, first, 2);
    }
    if (rc == 0) {
        if (x.n > nf1) qsort(x.c + nf1, x.n - nf1, sizeof *x.c, contact_cmp);
        for (size_t i = 0; i < x.n; i++)
            qsort(x.c[i].shared, x.c[i].nshared, sizeof *x.c[i].shared, shared_cmp);
        /* the case's own visits in the window: what to zone */
        for (size_t i = 0; i < nmine; i++)
            if (mine[i].to_ms > o->from_ms && mine[i].from_ms < o->to_ms) r->nvisits++;
        if (r->nvisits && !(r->visits = malloc(r->nvisits * sizeof *r->visits))) rc = TV_ENOMEM;
        for (size_t i = 0, k = 0; rc == 0 && i < nmine; i++)
            if (mine[i].to_ms > o->from_ms && mine[i].from_ms < o->to_ms) r->visits[k++] = mine[i];
    }
    for (size_t i = 0; i < x.ncache; i++)
        free(x.cache[i].p);
    free(x.cache);
    free(x.seen);
    if (rc) {
        for (size_t i = 0; i < x.n; i++)
            free(x.c[i].shared);
        free(x.c);
        free(r->visits);
        memset(r, 0, sizeof *r);
        return rc;
    }
    r->contacts = x.c;
    r->ncontacts = x.n;
    r->nf1 = nf1;
    return 0;
}

void tv_trace_free(tv_trace_result *r)
{
    for (size_t i = 0; i < r->ncontacts; i++)
        free(r->contacts[i].shared);
    free(r->contacts);
    free(r->visits);
    memset(r, 0, sizeof *r);
}
