/* Health data flows down only where it is needed: the health node's pass, and a commune's
 * opening of what was sealed for it (see downflow.h). */
#include "node/logic/downflow.h"
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/sealed.h"
#include "node/logic/presence.h"
#include "node/logic/visits.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- which communes hold a person ---------------------------------------------------- */

typedef struct units_ctx {
    store_txn *t;
    char unit[TV_DOWNFLOW_COMMUNES_MAX][TV_UNIT_CODE_MAX + 1];
    size_t n;
} units_ctx;

static void unit_add(units_ctx *u, const char *p, size_t len)
{
    if (len == 0 || len > TV_UNIT_CODE_MAX) return;
    for (size_t i = 0; i < u->n; i++)
        if (strlen(u->unit[i]) == len && memcmp(u->unit[i], p, len) == 0) return;
    if (u->n == TV_DOWNFLOW_COMMUNES_MAX) return;
    memcpy(u->unit[u->n], p, len);
    u->unit[u->n++][len] = '\0';
}

static int scan_unit(const store_scan_ref *s, void *arg)
{
    units_ctx *u = arg;
    store_venue v;
    int rc = store_venue_get(u->t, s->venue, &v);
    if (rc == TV_ENOTFOUND) return TV_OK;
    if (rc) return rc;
    unit_add(u, v.unit, strlen(v.unit));
    return TV_OK;
}

#define MAPPED_MAX 32 /* refs of one person followed (one per commune that recorded them) */

typedef struct mapped_ctx {
    units_ctx *u;
    uint8_t ref[MAPPED_MAX][TV_PERSON_REF_BYTES];
    char unit[MAPPED_MAX][TV_UNIT_CODE_MAX + 1];
    size_t n;
} mapped_ctx;

static int mapped_add(const uint8_t ref[TV_PERSON_REF_BYTES], const char *unit, void *arg)
{
    mapped_ctx *m = arg;
    if (m->n == MAPPED_MAX) return TV_OK;
    memcpy(m->ref[m->n], ref, TV_PERSON_REF_BYTES);
    snprintf(m->unit[m->n], sizeof m->unit[m->n], "%s", unit);
    unit_add(m->u, unit, strlen(unit));
    m->n++;
    return TV_OK;
}

int tv_person_communes(store_txn *t, const uint8_t province_ref[TV_PERSON_REF_BYTES],
                       int64_t from_ms, int64_t to_ms, tv_commune_ref_fn fn, void *ctx)
{
    units_ctx *u = calloc(1, sizeof *u);
    mapped_ctx *m = calloc(1, sizeof *m);
    if (!u || !m) {
        free(u);
        free(m);
        return TV_ENOMEM;
    }
    u->t = t;
    m->u = u;
    /* at a health node the scans of every mapped ref are indexed under the province ref */
    int rc = store_scans_by_person(t, province_ref, from_ms, to_ms, scan_unit, u);
    if (rc == TV_OK) rc = store_pmap_refs_of(t, province_ref, mapped_add, m);
    store_person sp;
    if (rc == TV_OK && (rc = store_person_get(t, province_ref, &sp)) == TV_OK) {
        msgpack_unpacked scratch;
        msgpack_unpacked_init(&scratch);
        crdt_event ev;
        if (crdt_event_decode(&ev, &scratch, sp.raw, sp.raw_len) == TV_OK &&
            ev.type == CRDT_EV_PERSON)
            unit_add(u, ev.u.person.unit.p, ev.u.person.unit.n);
        msgpack_unpacked_destroy(&scratch);
    }
    if (rc == TV_ENOTFOUND) rc = TV_OK;
    for (size_t i = 0; rc == TV_OK && i < u->n; i++) {
        int own = 0;
        for (size_t j = 0; rc == TV_OK && j < m->n; j++)
            if (strcmp(m->unit[j], u->unit[i]) == 0) {
                own = 1;
                rc = fn(u->unit[i], m->ref[j], ctx);
            }
        if (own || rc) continue;
        if (m->n == 0) /* nothing mapped: the ref is the province's own */
            rc = fn(u->unit[i], province_ref, ctx);
        for (size_t j = 0; rc == TV_OK && j < m->n; j++) /* known by another's card */
            rc = fn(u->unit[i], m->ref[j], ctx);
    }
    sodium_memzero(m, sizeof *m);
    free(m);
    free(u);
    return rc;
}

/* --- the health node's pass ------------------------------------------------------------ */

int tv_downflow_status(tv_node *n, const crdt_case *c, uint64_t *hlc_out)
{
    uint8_t kp[TV_TRACING_KEY_BYTES];
    int rc = tv_node_province_key(n, kp);
    if (rc == TV_OK) rc = tv_node_add_sealed(n, kp, CRDT_EV_CASE_STATUS, c, 0, hlc_out);
    sodium_memzero(kp, sizeof kp);
    return rc;
}

/* One sealed event to write. */
typedef struct item {
    uint8_t key[TV_TRACING_KEY_BYTES]; /* the audience's */
    uint8_t digest[STORE_SENT_DIGEST_BYTES];
    uint32_t type;
    uint64_t inner_hlc; /* 0: the sealed event's */
    crdt_case cs;       /* unit points into unit[] */
    char unit[TV_UNIT_CODE_MAX + 1];
    crdt_exposure x;
    crdt_hold h; /* a hold notice: its reason is HOLD_NOTICE_REASON */
} item;

/* A commune is told that a person is held, not why: the reason stays with the health
 * audience's hold. */
#define HOLD_NOTICE_REASON "hold"

/* A hold in force, or lifted, looked at by the pass. */
typedef struct hold_at {
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
    uint8_t action;
} hold_at;

typedef struct pass {
    tv_node *n;
    store_txn *t;
    int64_t now_ms;
    item *items;
    size_t nitems;
    int full;
    tv_case cs;   /* the person being looked at */
    hold_at hold; /* the hold being told */
} pass;

/* What was sent to an audience, as the sent table names it. */
static void digest_of(uint8_t out[STORE_SENT_DIGEST_BYTES], uint8_t kind, const uint8_t *key,
                      const uint8_t *what, size_t len)
{
    uint8_t tag[CRDT_SEALED_TAG_BYTES];
    crdt_sealed_tag(tag, key);
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, STORE_SENT_DIGEST_BYTES);
    crypto_generichash_update(&h, &kind, 1);
    crypto_generichash_update(&h, tag, sizeof tag);
    crypto_generichash_update(&h, what, len);
    crypto_generichash_final(&h, out, STORE_SENT_DIGEST_BYTES);
}

/* Adds it unless it was sent before, or is already in this pass. */
static int item_add(pass *p, const item *it)
{
    int rc = store_sealed_sent(p->t, it->digest);
    if (rc) return rc < 0 ? rc : TV_OK;
    for (size_t i = 0; i < p->nitems; i++)
        if (memcmp(p->items[i].digest, it->digest, STORE_SENT_DIGEST_BYTES) == 0) return TV_OK;
    if (p->nitems == TV_DOWNFLOW_ITEMS_MAX) {
        p->full = 1;
        return TV_OK;
    }
    p->items[p->nitems] = *it;
    p->items[p->nitems].cs.unit.p = p->items[p->nitems].unit;
    p->nitems++;
    return TV_OK;
}

/* The person's status, in commune unit's pseudonym space. */
static int commune_status(const char *unit, const uint8_t ref[TV_PERSON_REF_BYTES], void *arg)
{
    pass *p = arg;
    const store_case *c = &p->cs.current;
    item it;
    memset(&it, 0, sizeof it);
    int rc = tv_node_commune_key(p->n, unit, it.key);
    if (rc) return rc == TV_ENOTFOUND ? TV_OK : rc;
    it.type = CRDT_EV_CASE_STATUS;
    it.inner_hlc = c->hlc; /* when the status was set: the commune orders statuses by it */
    memcpy(it.cs.person, ref, TV_PERSON_REF_BYTES);
    snprintf(it.unit, sizeof it.unit, "%s", c->unit);
    it.cs.unit.n = (uint32_t)strlen(it.unit);
    it.cs.status = c->status;
    it.cs.onset_ms = c->onset_ms;
    it.cs.sampled_ms = c->sampled_ms;
    it.cs.at_ms = c->at_ms;
    uint8_t what[TV_PERSON_REF_BYTES + 8 + TV_NODE_ID_BYTES];
    memcpy(what, ref, TV_PERSON_REF_BYTES);
    for (int i = 0; i < 8; i++)
        what[TV_PERSON_REF_BYTES + i] = (uint8_t)(c->hlc >> (56 - 8 * i));
    memcpy(what + TV_PERSON_REF_BYTES + 8, c->origin, TV_NODE_ID_BYTES);
    digest_of(it.digest, 1, it.key, what, sizeof what);
    rc = item_add(p, &it);
    sodium_memzero(it.key, sizeof it.key);
    return rc;
}

/* The windows a confirmed case was at each commune's venues. */
static int exposures(pass *p, const uint8_t ref[TV_PERSON_REF_BYTES])
{
    const tv_case *cs = &p->cs;
    int64_t to = cs->window_to == TV_WINDOW_OPEN ? p->now_ms : cs->window_to;
    if (to <= cs->window_from) return TV_OK;
    tv_presence *pr = NULL;
    size_t np = 0;
    int rc = tv_person_presence(p->t, ref, cs->window_from, to, TV_DEDUPE_WINDOW_MS_DEFAULT,
                                p->now_ms, &pr, &np);
    for (size_t i = 0; rc == TV_OK && i < np; i++) {
        item it;
        memset(&it, 0, sizeof it);
        it.x.from_ms = pr[i].from_ms > cs->window_from ? pr[i].from_ms : cs->window_from;
        it.x.to_ms = pr[i].to_ms < to ? pr[i].to_ms : to;
        if (it.x.to_ms <= it.x.from_ms || !crdt_time_valid(it.x.from_ms)) continue;
        store_venue v;
        int vrc = store_venue_get(p->t, pr[i].venue, &v);
        if (vrc == TV_ENOTFOUND) continue;
        if ((rc = vrc)) break;
        if ((rc = tv_node_commune_key(p->n, v.unit, it.key))) {
            if (rc == TV_ENOTFOUND) rc = TV_OK;
            continue;
        }
        it.type = CRDT_EV_EXPOSURE;
        memcpy(it.x.venue, pr[i].venue, TV_VENUE_ID_BYTES);
        uint8_t what[TV_VENUE_ID_BYTES + 16];
        memcpy(what, it.x.venue, TV_VENUE_ID_BYTES);
        for (int b = 0; b < 8; b++) {
            what[TV_VENUE_ID_BYTES + b] = (uint8_t)((uint64_t)it.x.from_ms >> (56 - 8 * b));
            what[TV_VENUE_ID_BYTES + 8 + b] = (uint8_t)((uint64_t)it.x.to_ms >> (56 - 8 * b));
        }
        digest_of(it.digest, 2, it.key, what, sizeof what);
        rc = item_add(p, &it);
        sodium_memzero(it.key, sizeof it.key);
    }
    free(pr);
    return rc;
}

static int pass_person(const uint8_t *ref, void *arg)
{
    pass *p = arg;
    if (p->full) return TV_OK;
    int rc = tv_case_get(p->t, ref, &p->cs);
    if (rc) return rc == TV_ENOTFOUND ? TV_OK : rc;
    /* each health node sends what it set; another's status in force is that one's to send */
    if (memcmp(p->cs.current.origin, p->n->id.pk, TV_NODE_ID_BYTES) != 0) return TV_OK;
    const store_case *c = &p->cs.current;
    int64_t since = p->cs.has_window   ? p->cs.window_from
                    : c->onset_ms >= 0 ? c->onset_ms
                                       : (int64_t)crdt_hlc_ms(c->hlc);
    if (since > p->now_ms) since = p->now_ms;
    since -= TV_DOWNFLOW_LOOKBACK_MS;
    if (since < 0) since = 0;
    rc = tv_person_communes(p->t, ref, since, p->now_ms + 86400000, commune_status, p);
    if (rc) return rc;
    return p->cs.has_window ? exposures(p, ref) : TV_OK;
}

/* A hold notice to commune unit, in its pseudonym space: the hold's action and its time. */
static int commune_hold(const char *unit, const uint8_t ref[TV_PERSON_REF_BYTES], void *arg)
{
    pass *p = arg;
    item it;
    memset(&it, 0, sizeof it);
    int rc = tv_node_commune_key(p->n, unit, it.key);
    if (rc) return rc == TV_ENOTFOUND ? TV_OK : rc;
    it.type = CRDT_EV_HOLD;
    it.inner_hlc = p->hold.hlc; /* the commune orders a person's holds by it */
    memcpy(it.h.person, ref, TV_PERSON_REF_BYTES);
    it.h.reason.p = HOLD_NOTICE_REASON;
    it.h.reason.n = (uint32_t)strlen(HOLD_NOTICE_REASON);
    it.h.action = p->hold.action;
    uint8_t what[TV_PERSON_REF_BYTES + 8 + TV_NODE_ID_BYTES + 1];
    memcpy(what, ref, TV_PERSON_REF_BYTES);
    for (int i = 0; i < 8; i++)
        what[TV_PERSON_REF_BYTES + i] = (uint8_t)(p->hold.hlc >> (56 - 8 * i));
    memcpy(what + TV_PERSON_REF_BYTES + 8, p->hold.origin, TV_NODE_ID_BYTES);
    what[sizeof what - 1] = p->hold.action;
    digest_of(it.digest, 3, it.key, what, sizeof what);
    rc = item_add(p, &it);
    sodium_memzero(it.key, sizeof it.key);
    return rc;
}

/* Each hold this node placed or lifted, told to the communes that recorded the person
 * (any time: a held person's records are kept however old). */
static int pass_hold(const store_hold *h, void *arg)
{
    pass *p = arg;
    if (p->full || memcmp(h->origin, p->n->id.pk, TV_NODE_ID_BYTES) != 0) return TV_OK;
    p->hold.hlc = h->hlc;
    memcpy(p->hold.origin, h->origin, TV_NODE_ID_BYTES);
    p->hold.action = h->held ? CRDT_HOLD_PLACE : CRDT_HOLD_LIFT;
    return tv_person_communes(p->t, h->person, 0, p->now_ms + 86400000, commune_hold, p);
}

static int sent_put(store_txn *t, void *arg)
{
    pass *p = arg;
    int rc = TV_OK;
    for (size_t i = 0; rc == TV_OK && i < p->nitems; i++)
        rc = store_sealed_sent_put(t, p->items[i].digest);
    return rc;
}

int tv_downflow_run(tv_node *n, int64_t now_ms, uint64_t *sent)
{
    if (sent) *sent = 0;
    if (!tv_node_opens_health(n)) return TV_OK;
    pass p = {.n = n, .now_ms = now_ms};
    if (!(p.items = malloc(TV_DOWNFLOW_ITEMS_MAX * sizeof *p.items))) return TV_ENOMEM;
    int rc;
    do {
        p.nitems = 0;
        p.full = 0;
        if ((rc = store_read_begin(n->st, &p.t))) break;
        rc = tv_cases_each_person(p.t, pass_person, &p);
        if (rc == TV_OK) rc = store_holds_foreach(p.t, pass_hold, &p);
        store_read_end(p.t);
        for (size_t i = 0; rc == TV_OK && i < p.nitems; i++) {
            const item *it = &p.items[i];
            const void *inner = it->type == CRDT_EV_CASE_STATUS ? (const void *)&it->cs
                                : it->type == CRDT_EV_HOLD      ? (const void *)&it->h
                                                                : (const void *)&it->x;
            rc = tv_node_add_sealed(n, it->key, it->type, inner, it->inner_hlc, NULL);
        }
        uint64_t seq;
        if (rc == TV_OK && p.nitems) rc = tv_node_commit_with(n, sent_put, &p, &seq);
        if (rc) tv_node_discard(n);
        if (rc == TV_OK && sent) *sent += p.nitems;
    } while (rc == TV_OK && p.full);
    sodium_memzero(p.items, TV_DOWNFLOW_ITEMS_MAX * sizeof *p.items);
    free(p.items);
    return rc;
}

/* --- a commune's own sealed events, opened in memory ------------------------------------ */

typedef struct open_ctx {
    const uint8_t *key;
    tv_opened *o;
    size_t cap_cases, cap_exp, cap_holds;
} open_ctx;

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return TV_OK;
    size_t nc = *cap ? *cap * 2 : 64;
    void *q = sodium_allocarray(nc, size); /* guarded, wiped when freed */
    if (!q) return TV_ENOMEM;
    if (*p) {
        memcpy(q, *p, n * size);
        sodium_free(*p);
    }
    *p = q;
    *cap = nc;
    return TV_OK;
}

static int open_row(const store_sealed *s, void *arg)
{
    open_ctx *c = arg;
    tv_opened *o = c->o;
    uint8_t inner[CRDT_SEALED_INNER_BYTES_MAX];
    msgpack_unpacked scratch;
    msgpack_unpacked_init(&scratch);
    crdt_event ev;
    int rc = crdt_sealed_open_event(&ev, &scratch, inner, &s->ev, c->key, s->origin);
    /* dated after the event that carries it (past C1's bound): it would outrank every
     * later status for good */
    if (rc == TV_OK && ev.hlc > s->hlc) {
        sodium_memzero(inner, sizeof inner);
        rc = TV_EINVAL;
    }
    if (rc) { /* not ours after all, damaged or misdated: skipped */
        msgpack_unpacked_destroy(&scratch);
        return TV_OK;
    }
    if (ev.type == CRDT_EV_CASE_STATUS) {
        rc = grow((void **)&o->cases, &c->cap_cases, o->ncases, sizeof *o->cases);
        if (rc == TV_OK) {
            store_case *sc = &o->cases[o->ncases++];
            memset(sc, 0, sizeof *sc);
            memcpy(sc->person, ev.u.cstatus.person, TV_PERSON_REF_BYTES);
            sc->hlc = ev.hlc;
            memcpy(sc->origin, s->origin, TV_NODE_ID_BYTES);
            sc->status = ev.u.cstatus.status;
            sc->onset_ms = ev.u.cstatus.onset_ms;
            sc->sampled_ms = ev.u.cstatus.sampled_ms;
            sc->at_ms = ev.u.cstatus.at_ms;
            memcpy(sc->unit, ev.u.cstatus.unit.p, ev.u.cstatus.unit.n);
        }
    } else if (ev.type == CRDT_EV_HOLD) {
        rc = grow((void **)&o->holds, &c->cap_holds, o->nholds, sizeof *o->holds);
        if (rc == TV_OK) {
            tv_hold_notice *h = &o->holds[o->nholds++];
            memcpy(h->person, ev.u.hold.person, TV_PERSON_REF_BYTES);
            h->hlc = ev.hlc;
            memcpy(h->origin, s->origin, TV_NODE_ID_BYTES);
            h->held = ev.u.hold.action == CRDT_HOLD_PLACE;
        }
    } else if (ev.type == CRDT_EV_EXPOSURE) {
        rc = grow((void **)&o->exposures, &c->cap_exp, o->nexposures, sizeof *o->exposures);
        if (rc == TV_OK) {
            tv_exposure *x = &o->exposures[o->nexposures++];
            memcpy(x->venue, ev.u.exposure.venue, TV_VENUE_ID_BYTES);
            x->from_ms = ev.u.exposure.from_ms;
            x->to_ms = ev.u.exposure.to_ms;
            x->hlc = s->hlc;
        }
    }
    msgpack_unpacked_destroy(&scratch);
    sodium_memzero(inner, sizeof inner);
    memset(&ev, 0, sizeof ev);
    return rc;
}

static int case_cmp(const void *a, const void *b)
{
    const store_case *x = a, *y = b;
    int c = memcmp(x->person, y->person, TV_PERSON_REF_BYTES);
    if (c) return c;
    if (x->hlc != y->hlc) return x->hlc < y->hlc ? -1 : 1;
    return memcmp(x->origin, y->origin, TV_NODE_ID_BYTES);
}

static int exposure_cmp(const void *a, const void *b)
{
    const tv_exposure *x = a, *y = b;
    int c = memcmp(x->venue, y->venue, TV_VENUE_ID_BYTES);
    if (c) return c;
    if (x->from_ms != y->from_ms) return x->from_ms < y->from_ms ? -1 : 1;
    return x->to_ms < y->to_ms ? -1 : x->to_ms > y->to_ms;
}

static int hold_cmp(const void *a, const void *b)
{
    const tv_hold_notice *x = a, *y = b;
    int c = memcmp(x->person, y->person, TV_PERSON_REF_BYTES);
    if (c) return c;
    if (x->hlc != y->hlc) return x->hlc < y->hlc ? -1 : 1;
    return memcmp(x->origin, y->origin, TV_NODE_ID_BYTES);
}

size_t tv_opened_held(const tv_opened *o, uint8_t (*out)[TV_PERSON_REF_BYTES])
{
    size_t k = 0;
    for (size_t i = 0; i < o->nholds; i++) {
        /* the last of a person's notices, by (hlc, origin), is the one in force */
        if (i + 1 < o->nholds &&
            memcmp(o->holds[i].person, o->holds[i + 1].person, TV_PERSON_REF_BYTES) == 0)
            continue;
        if (o->holds[i].held) memcpy(out[k++], o->holds[i].person, TV_PERSON_REF_BYTES);
    }
    return k;
}

void tv_opened_release(tv_opened *o)
{
    if (o->cases) sodium_free(o->cases);
    if (o->exposures) sodium_free(o->exposures);
    if (o->holds) sodium_free(o->holds);
    memset(o, 0, sizeof *o);
}

int tv_opened_load(tv_node *n, store_txn *t, tv_opened *o)
{
    store_counts counts;
    int rc = store_counts_get(t, &counts);
    if (rc) return rc;
    uint64_t held = counts.by_type[CRDT_EV_SEALED];
    if (o->loaded && o->sealed_seen == held) return TV_OK;
    tv_opened_release(o);
    uint8_t key[TV_TRACING_KEY_BYTES], tag[CRDT_SEALED_TAG_BYTES];
    rc = tv_node_commune_key(n, n->unit, key);
    /* sealed events held and no key to open them: say so rather than show no status */
    if (rc == TV_ELOCKED && held) return TV_ELOCKED;
    rc = TV_OK;
    if (tv_node_commune_key(n, n->unit, key) == TV_OK) {
        open_ctx c = {.key = key, .o = o};
        crdt_sealed_tag(tag, key);
        rc = store_sealed_foreach(t, tag, open_row, &c);
    }
    sodium_memzero(key, sizeof key);
    if (rc) {
        tv_opened_release(o);
        return rc;
    }
    if (o->ncases) qsort(o->cases, o->ncases, sizeof *o->cases, case_cmp);
    if (o->nexposures) qsort(o->exposures, o->nexposures, sizeof *o->exposures, exposure_cmp);
    if (o->nholds) qsort(o->holds, o->nholds, sizeof *o->holds, hold_cmp);
    o->sealed_seen = held;
    o->loaded = 1;
    return TV_OK;
}

int tv_opened_case(const tv_opened *o, const uint8_t ref[TV_PERSON_REF_BYTES], tv_case *out)
{
    size_t lo = 0, hi = o->ncases;
    while (lo < hi) { /* the first row of ref */
        size_t mid = lo + (hi - lo) / 2;
        if (memcmp(o->cases[mid].person, ref, TV_PERSON_REF_BYTES) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t end = lo;
    while (end < o->ncases && memcmp(o->cases[end].person, ref, TV_PERSON_REF_BYTES) == 0)
        end++;
    return tv_case_from_rows(o->cases + lo, end - lo, out);
}

int tv_case_lookup(tv_node *n, store_txn *t, tv_opened *o, const uint8_t ref[TV_PERSON_REF_BYTES],
                   tv_case *out)
{
    if (tv_node_opens_health(n)) return tv_case_get(t, ref, out);
    int rc = tv_opened_load(n, t, o);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return tv_opened_case(o, ref, out);
}
