/* Contact tracing over a node's store (see trace.h). */
#include "node/logic/trace.h"
#include "crdt/error.h"
#include "node/format/timefmt.h"
#include "node/logic/visits.h"

#include <stdlib.h>
#include <string.h>

int64_t tv_overlap_ms(int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t margin)
{
    int64_t lo = a0 - margin > b0 ? a0 - margin : b0;
    int64_t hi = a1 + margin < b1 ? a1 + margin : b1;
    return hi > lo ? hi - lo : 0;
}

/* --- a small open-addressing map from fixed-size keys to indexes ---------------------- */

/* Keys are pseudonyms or venue ids (uniformly random bytes), optionally with a day: FNV-1a
 * over them spreads well. Clearing is a new generation, not a pass over the table. */
#define KEY_MAX (TV_PERSON_REF_BYTES + 4)

typedef struct kmap {
    uint8_t (*keys)[KEY_MAX];
    size_t *vals;
    uint32_t *gen; /* an entry is in use when its gen is the map's */
    uint32_t cur;
    size_t cap, n, klen;
} kmap;

static uint64_t kmap_hash(const uint8_t *k, size_t klen)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < klen; i++)
        h = (h ^ k[i]) * 0x100000001b3ULL;
    return h;
}

/* The slot of k: where it is, or the free slot where it would go. */
static size_t kmap_slot(const kmap *m, const uint8_t *k)
{
    size_t i = (size_t)kmap_hash(k, m->klen) & (m->cap - 1);
    while (m->gen[i] == m->cur && memcmp(m->keys[i], k, m->klen) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int kmap_get(const kmap *m, const uint8_t *k, size_t *v)
{
    if (!m->cap) return 0;
    size_t i = kmap_slot(m, k);
    if (m->gen[i] != m->cur) return 0;
    *v = m->vals[i];
    return 1;
}

static int kmap_grow(kmap *m)
{
    kmap g = {.cap = m->cap ? 2 * m->cap : 256, .klen = m->klen, .cur = 1};
    g.keys = malloc(g.cap * sizeof *g.keys);
    g.vals = malloc(g.cap * sizeof *g.vals);
    g.gen = calloc(g.cap, sizeof *g.gen);
    if (!g.keys || !g.vals || !g.gen) {
        free(g.keys);
        free(g.vals);
        free(g.gen);
        return TV_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->gen[i] == m->cur) {
            size_t k = kmap_slot(&g, m->keys[i]);
            memcpy(g.keys[k], m->keys[i], m->klen);
            g.vals[k] = m->vals[i];
            g.gen[k] = g.cur;
            g.n++;
        }
    free(m->keys);
    free(m->vals);
    free(m->gen);
    *m = g;
    return TV_OK;
}

/* Sets k to v (replacing). */
static int kmap_put(kmap *m, const uint8_t *k, size_t v)
{
    if (2 * (m->n + 1) > m->cap) {
        int rc = kmap_grow(m);
        if (rc) return rc;
    }
    size_t i = kmap_slot(m, k);
    if (m->gen[i] != m->cur) {
        memcpy(m->keys[i], k, m->klen);
        m->gen[i] = m->cur;
        m->n++;
    }
    m->vals[i] = v;
    return TV_OK;
}

static void kmap_clear(kmap *m)
{
    m->n = 0;
    if (++m->cur == 0) { /* wrapped: really clear */
        if (m->gen) memset(m->gen, 0, m->cap * sizeof *m->gen);
        m->cur = 1;
    }
}

static void kmap_free(kmap *m)
{
    free(m->keys);
    free(m->vals);
    free(m->gen);
}

/* --- the tracer ------------------------------------------------------------------------ */

/* One candidate's presences on one day (every presence ends by midnight, so a day's
 * presences depend on that day's scans only). */
typedef struct dayp {
    tv_presence *p;
    size_t n;
} dayp;

typedef struct tracer {
    store_txn *t;
    const tv_trace_opts *o;
    dayp *days; /* by (person, day) through dmap */
    size_t ndays, capdays;
    kmap dmap;
    tv_contact *c;
    size_t n, cap;
    kmap cmap; /* contact ref -> index in c */
    /* scratch: the people scanned at one venue in one span */
    uint8_t (*seen)[TV_PERSON_REF_BYTES];
    size_t nseen, capseen;
    kmap smap;
    /* venue rules, read once per trace */
    tv_venue_rules *rules;
    size_t nrules, caprules;
    kmap rmap;
} tracer;

static int64_t day_start(int64_t ms)
{
    return tv_date_start_ms(crdt_day_vn(ms), TV_TIME_VN_OFFSET_MIN);
}

/* tv_rules_fn over the trace's cache of venue rules. */
static int cached_rules(const uint8_t venue[TV_VENUE_ID_BYTES], tv_venue_rules *out, void *ctx)
{
    tracer *x = ctx;
    size_t i;
    if (kmap_get(&x->rmap, venue, &i)) {
        *out = x->rules[i];
        return TV_OK;
    }
    tv_venue_rules r = {0};
    int rc = tv_venue_rules_get(venue, &r, x->t);
    if (rc) return rc;
    if (x->nrules == x->caprules) {
        size_t cap = x->caprules ? 2 * x->caprules : 64;
        tv_venue_rules *p = realloc(x->rules, cap * sizeof *p);
        if (!p) return TV_ENOMEM;
        x->rules = p;
        x->caprules = cap;
    }
    x->rules[x->nrules] = r;
    if ((rc = kmap_put(&x->rmap, venue, x->nrules++))) return rc;
    *out = r;
    return TV_OK;
}

/* A source's presences (the case, an F1) from from_ms to the window's end: the caller
 * frees *out. */
static int presences_from(tracer *x, const uint8_t *ref, int64_t from_ms, tv_presence **out,
                          size_t *n)
{
    const tv_trace_opts *o = x->o;
    return tv_person_presence_rules(x->t, ref, from_ms - o->margin_ms, o->to_ms + o->margin_ms,
                                    TV_DEDUPE_WINDOW_MS_DEFAULT, o->now_ms, cached_rules, x, out,
                                    n);
}

/* A candidate's presences on day (cached). */
static int presences_on(tracer *x, const uint8_t *ref, int32_t day, const dayp **out)
{
    uint8_t key[KEY_MAX];
    memcpy(key, ref, TV_PERSON_REF_BYTES);
    memcpy(key + TV_PERSON_REF_BYTES, &day, sizeof day);
    size_t i;
    if (kmap_get(&x->dmap, key, &i)) {
        *out = &x->days[i];
        return 0;
    }
    if (x->ndays == x->capdays) {
        size_t cap = x->capdays ? 2 * x->capdays : 256;
        dayp *d = realloc(x->days, cap * sizeof *d);
        if (!d) return TV_ENOMEM;
        x->days = d;
        x->capdays = cap;
    }
    dayp *d = &x->days[x->ndays];
    int rc = tv_person_presence_rules(x->t, ref, tv_date_start_ms(day, TV_TIME_VN_OFFSET_MIN),
                                      tv_date_start_ms(day + 1, TV_TIME_VN_OFFSET_MIN),
                                      TV_DEDUPE_WINDOW_MS_DEFAULT, x->o->now_ms, cached_rules, x,
                                      &d->p, &d->n);
    if (rc) return rc;
    if ((rc = kmap_put(&x->dmap, key, x->ndays))) {
        free(d->p);
        return rc;
    }
    *out = &x->days[x->ndays++];
    return 0;
}

static int collect_person(const store_scan_ref *s, void *arg)
{
    tracer *x = arg;
    size_t i;
    if (kmap_get(&x->smap, s->person, &i)) return 0;
    if (x->nseen == x->capseen) {
        size_t cap = x->capseen ? 2 * x->capseen : 64;
        void *p = realloc(x->seen, cap * sizeof *x->seen);
        if (!p) return TV_ENOMEM;
        x->seen = p;
        x->capseen = cap;
    }
    memcpy(x->seen[x->nseen], s->person, TV_PERSON_REF_BYTES);
    return kmap_put(&x->smap, s->person, x->nseen++);
}

static tv_contact *contact_of(tracer *x, const uint8_t *ref)
{
    size_t i;
    return kmap_get(&x->cmap, ref, &i) ? &x->c[i] : NULL;
}

/* The contacts' index anew (after they were sorted). */
static int contacts_reindex(tracer *x)
{
    kmap_clear(&x->cmap);
    for (size_t i = 0; i < x->n; i++) {
        int rc = kmap_put(&x->cmap, x->c[i].ref, i);
        if (rc) return rc;
    }
    return 0;
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
        c = &x->c[x->n];
        memset(c, 0, sizeof *c);
        memcpy(c->ref, ref, TV_PERSON_REF_BYTES);
        memcpy(c->via, via, TV_PERSON_REF_BYTES);
        c->level = level;
        c->first_ms = from;
        int rc = kmap_put(&x->cmap, ref, x->n++);
        if (rc) return rc;
    }
    /* shared visits grow by doubling: the capacity is the next power of two */
    if ((c->nshared & (c->nshared - 1)) == 0) {
        size_t cap = c->nshared ? 2 * c->nshared : 1;
        tv_shared *s = realloc(c->shared, cap * sizeof *s);
        if (!s) return TV_ENOMEM;
        c->shared = s;
    }
    tv_shared *s = c->shared;
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
        kmap_clear(&x->smap);
        int rc = store_scans_by_venue(x->t, p->venue, day_start(lo), hi + 1, collect_person, x);
        for (size_t k = 0; k < x->nseen && rc == 0; k++) {
            uint8_t q[TV_PERSON_REF_BYTES];
            memcpy(q, x->seen[k], sizeof q);
            if (memcmp(q, src, sizeof q) == 0 || excluded(x, q, case_ref, level)) continue;
            /* the candidate's presences on the days the widened presence touches */
            for (int32_t day = crdt_day_vn(lo); day <= crdt_day_vn(hi) && rc == 0; day++) {
                const dayp *qd;
                if ((rc = presences_on(x, q, day, &qd))) break;
                for (size_t j = 0; j < qd->n && rc == 0; j++) {
                    const tv_presence *b = &qd->p[j];
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

/* The second degree: the contacts of each first-degree contact from the day they first met
 * the case (x->c[0..nf1) are the first degree, sorted). */
static int trace_second_degree(tracer *x, const uint8_t ref[TV_PERSON_REF_BYTES], size_t nf1)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nf1; i++) {
        uint8_t f1[TV_PERSON_REF_BYTES];
        memcpy(f1, x->c[i].ref, sizeof f1);
        int64_t first = x->c[i].first_ms;
        tv_presence *pf = NULL;
        size_t npf = 0;
        if ((rc = presences_from(x, f1, first, &pf, &npf)) == 0)
            rc = contacts_from(x, f1, ref, pf, npf, first, 2);
        free(pf);
    }
    return rc;
}

/* Sorts the second degree and each contact's shared visits, and copies into r the case's
 * own visits in the window (what to zone). */
static int trace_finish(tracer *x, size_t nf1, const tv_presence *mine, size_t nmine,
                        tv_trace_result *r)
{
    const tv_trace_opts *o = x->o;
    if (x->n > nf1) qsort(x->c + nf1, x->n - nf1, sizeof *x->c, contact_cmp);
    for (size_t i = 0; i < x->n; i++)
        qsort(x->c[i].shared, x->c[i].nshared, sizeof *x->c[i].shared, shared_cmp);
    for (size_t i = 0; i < nmine; i++)
        if (mine[i].to_ms > o->from_ms && mine[i].from_ms < o->to_ms) r->nvisits++;
    if (r->nvisits && !(r->visits = malloc(r->nvisits * sizeof *r->visits))) return TV_ENOMEM;
    for (size_t i = 0, k = 0; i < nmine; i++)
        if (mine[i].to_ms > o->from_ms && mine[i].from_ms < o->to_ms) r->visits[k++] = mine[i];
    return 0;
}

/* Frees the tracer's scratch (not its contacts, which become the result). */
static void tracer_release(tracer *x)
{
    for (size_t i = 0; i < x->ndays; i++)
        free(x->days[i].p);
    free(x->days);
    free(x->seen);
    free(x->rules);
    kmap_free(&x->dmap);
    kmap_free(&x->cmap);
    kmap_free(&x->smap);
    kmap_free(&x->rmap);
}

int tv_trace(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], const tv_trace_opts *o,
             tv_trace_result *r)
{
    memset(r, 0, sizeof *r);
    if (o->from_ms >= o->to_ms || o->min_overlap_ms <= 0 || o->margin_ms < 0 || o->depth < 1 ||
        o->depth > 2)
        return TV_EINVAL;
    tracer x = {.t = t,
                .o = o,
                .dmap = {.klen = TV_PERSON_REF_BYTES + 4, .cur = 1},
                .cmap = {.klen = TV_PERSON_REF_BYTES, .cur = 1},
                .smap = {.klen = TV_PERSON_REF_BYTES, .cur = 1},
                .rmap = {.klen = TV_VENUE_ID_BYTES, .cur = 1}};
    tv_presence *mine = NULL;
    size_t nmine = 0, nf1 = 0;
    /* at a health node a commune's ref that is mapped traces as its province ref: its
     * scans are indexed under that one, and so it is what the case must not meet */
    uint8_t pref[TV_PERSON_REF_BYTES];
    int rc = store_pmap_get(t, ref, pref, NULL, NULL);
    if (rc == 1)
        ref = pref;
    else if (rc < 0 && rc != TV_ENOTFOUND)
        return rc;
    rc = presences_from(&x, ref, o->from_ms, &mine, &nmine);
    if (rc == 0) rc = contacts_from(&x, ref, ref, mine, nmine, o->from_ms, 1);
    if (rc == 0) {
        nf1 = x.n;
        if (nf1 > 1) qsort(x.c, nf1, sizeof *x.c, contact_cmp);
        rc = contacts_reindex(&x);
    }
    if (rc == 0 && o->depth == 2) rc = trace_second_degree(&x, ref, nf1);
    if (rc == 0) rc = trace_finish(&x, nf1, mine, nmine, r);
    free(mine);
    tracer_release(&x);
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
