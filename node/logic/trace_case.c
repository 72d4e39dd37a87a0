/* A case traced, with what a reader needs beside the pseudonyms (trace_case.h). */
#include "node/logic/trace_case.h"

#include "crdt/error.h"
#include "node/logic/downflow.h"
#include "node/logic/health.h"
#include "node/logic/record.h"
#include "node/logic/reveal.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int count_scan(const store_scan_ref *s, void *ctx)
{
    (void)s;
    ++*(uint64_t *)ctx;
    return 0;
}

int tv_trace_person_known(tv_node *n, store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES])
{
    store_person sp;
    int rc = store_person_get(t, ref, &sp);
    if (rc != TV_ENOTFOUND) return rc ? rc : 1;
    uint64_t scans = 0;
    if ((rc = store_scans_by_person(t, ref, INT64_MIN, INT64_MAX, count_scan, &scans))) return rc;
    if (scans) return 1;
    tv_case cs;
    tv_opened op = {0};
    rc = tv_case_lookup(n, t, &op, ref, &cs);
    tv_opened_release(&op);
    return rc == TV_ENOTFOUND ? 0 : rc ? rc : 1;
}

int tv_trace_case_window(tv_node *n, store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES],
                         int64_t *from_ms, int64_t *to_ms)
{
    tv_case cs;
    tv_opened op = {0}; /* a commune: the statuses sealed for it, in memory */
    int rc = tv_case_lookup(n, t, &op, ref, &cs);
    tv_opened_release(&op);
    if (rc) return rc;
    if (!cs.has_window) return TV_ENOTFOUND;
    *from_ms = cs.window_from;
    *to_ms = cs.window_to;
    return 0;
}

/* --- venues --------------------------------------------------------------------------- */

static int venue_cmp(const void *a, const void *b)
{
    return memcmp(((const tv_trace_venue *)a)->id, ((const tv_trace_venue *)b)->id,
                  TV_VENUE_ID_BYTES);
}

const tv_trace_venue *tv_trace_case_venue(const tv_trace_case *c,
                                          const uint8_t id[TV_VENUE_ID_BYTES])
{
    tv_trace_venue key;
    memcpy(key.id, id, TV_VENUE_ID_BYTES);
    return bsearch(&key, c->venues, c->nvenues, sizeof *c->venues, venue_cmp);
}

/* The venues of c's result, each once, by id, read from t. */
static int venues_gather(store_txn *t, tv_trace_case *c)
{
    const tv_trace_result *r = &c->r;
    size_t cap = r->nvisits;
    for (size_t i = 0; i < r->ncontacts; i++)
        cap += r->contacts[i].nshared;
    c->venues = calloc(cap ? cap : 1, sizeof *c->venues);
    if (!c->venues) return TV_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < r->nvisits; i++)
        memcpy(c->venues[n++].id, r->visits[i].venue, TV_VENUE_ID_BYTES);
    for (size_t i = 0; i < r->ncontacts; i++)
        for (size_t k = 0; k < r->contacts[i].nshared; k++)
            memcpy(c->venues[n++].id, r->contacts[i].shared[k].venue, TV_VENUE_ID_BYTES);
    if (n > 1) qsort(c->venues, n, sizeof *c->venues, venue_cmp);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || memcmp(c->venues[u - 1].id, c->venues[i].id, TV_VENUE_ID_BYTES) != 0)
            c->venues[u++] = c->venues[i];
    c->nvenues = u;
    for (size_t i = 0; i < u; i++) /* an unreadable registration is shown as not held */
        c->venues[i].known = store_venue_get(t, c->venues[i].id, &c->venues[i].v) == 0;
    return 0;
}

/* --- people --------------------------------------------------------------------------- */

static void person_of(store_txn *t, const uint8_t *ref, char *out, size_t cap)
{
    if (tv_person_display_get(t, ref, (crdt_text){0}, out, cap)) snprintf(out, cap, "?");
}

static int people_gather(store_txn *t, tv_trace_case *c)
{
    c->disp = calloc(c->r.ncontacts + 1, sizeof *c->disp);
    if (!c->disp) return TV_ENOMEM;
    person_of(t, c->ref, c->disp[0], sizeof c->disp[0]);
    for (size_t i = 0; i < c->r.ncontacts; i++)
        person_of(t, c->r.contacts[i].ref, c->disp[i + 1], sizeof c->disp[0]);
    return 0;
}

/* --- completeness: what this node holds of each commune the result touches ------------ */

typedef struct units_ctx {
    tv_trace_units *u;
    store_txn *t;
    int64_t from_ms;
} units_ctx;

static int unit_known(const tv_trace_units *u, const char *code)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->code[i], code) == 0) return 1;
    return 0;
}

/* Adds a unit once; a touched unit gets its full freshness, another only its last scan
 * day (its nodes' logs would cost a pass over every certificate, for each commune). */
static int unit_add(units_ctx *x, const char *code)
{
    tv_trace_units *u = x->u;
    if (unit_known(u, code)) return 0;
    if (u->n == TV_TRACE_UNITS_MAX) {
        u->more = 1;
        return 0;
    }
    size_t i = u->n++;
    snprintf(u->code[i], sizeof u->code[0], "%s", code);
    u->f[i] = (tv_fresh){.last_event = -1, .received = -1, .last_scan_day = INT32_MIN};
    int rc = store_agg_last_day(x->t, code, &u->f[i].last_scan_day);
    return rc == TV_ENOTFOUND ? 0 : rc;
}

static int unit_of_venue(units_ctx *x, const tv_trace_case *c, const uint8_t *venue)
{
    const tv_trace_venue *v = tv_trace_case_venue(c, venue);
    return v && v->known ? unit_add(x, v->v.unit) : 0;
}

/* Another commune in this node's scope with nothing since the window began. */
static int other_commune(const char *code, void *arg)
{
    units_ctx *x = arg;
    if (unit_known(x->u, code)) return 0;
    int32_t day = INT32_MIN;
    int rc = store_agg_last_day(x->t, code, &day);
    if (rc && rc != TV_ENOTFOUND) return rc;
    return day >= crdt_day_vn(x->from_ms) ? 0 : unit_add(x, code);
}

static int code_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int units_gather(store_txn *t, tv_trace_case *c, const tv_node *n)
{
    tv_trace_units *u = c->units = calloc(1, sizeof *c->units);
    if (!u) return TV_ENOMEM;
    units_ctx x = {u, t, c->from_ms};
    const tv_trace_result *r = &c->r;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->nvisits; i++)
        rc = unit_of_venue(&x, c, r->visits[i].venue);
    for (size_t i = 0; rc == 0 && i < r->ncontacts; i++)
        for (size_t k = 0; rc == 0 && k < r->contacts[i].nshared; k++)
            rc = unit_of_venue(&x, c, r->contacts[i].shared[k].venue);
    u->touched = u->n;
    /* the touched communes' logs, in code order, in one pass over the certificates */
    qsort(u->code, u->touched, sizeof u->code[0], code_cmp);
    const char **codes = malloc((u->touched ? u->touched : 1) * sizeof *codes);
    if (!codes) return TV_ENOMEM;
    for (size_t i = 0; i < u->touched; i++)
        codes[i] = u->code[i];
    if (rc == 0) rc = tv_fresh_many(t, codes, u->touched, u->f);
    free(codes);
    /* a commune node holds no other commune's scans: its note says so instead */
    if (rc == 0 && n->role != TV_ROLE_COMMUNE) rc = tv_communes_foreach(t, other_commune, &x);
    return rc;
}

/* --- the trace ------------------------------------------------------------------------ */

int tv_trace_case_run(tv_node *n, store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES],
                      const tv_trace_opts *o, tv_trace_case *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->ref, ref, TV_PERSON_REF_BYTES);
    c->from_ms = o->from_ms;
    c->to_ms = o->to_ms;
    c->commune_only = n->role == TV_ROLE_COMMUNE;
    int rc = tv_trace(t, ref, o, &c->r);
    if (rc) {
        memset(&c->r, 0, sizeof c->r);
        return rc;
    }
    if ((rc = venues_gather(t, c)) == 0 && (rc = people_gather(t, c)) == 0)
        rc = units_gather(t, c, n);
    return rc;
}

int tv_trace_case_reveal(tv_node *n, tv_trace_case *c, const char *reason)
{
    size_t count = c->r.ncontacts + 1;
    uint8_t *refs = malloc(count * TV_PERSON_REF_BYTES);
    c->details = calloc(count, sizeof *c->details);
    c->ok = calloc(count, 1);
    int rc = refs && c->details && c->ok ? TV_OK : TV_ENOMEM;
    if (rc == 0) {
        memcpy(refs, c->ref, TV_PERSON_REF_BYTES);
        for (size_t i = 0; i < c->r.ncontacts; i++)
            memcpy(refs + (i + 1) * TV_PERSON_REF_BYTES, c->r.contacts[i].ref, TV_PERSON_REF_BYTES);
        rc = tv_reveal_many(n, refs, count, reason, c->details, c->ok);
    }
    free(refs);
    c->reveal = 1;
    c->unrevealed = 0;
    for (size_t i = 0; rc == 0 && i < count; i++)
        c->unrevealed += !c->ok[i];
    return rc;
}

const tv_details *tv_trace_case_details(const tv_trace_case *c, size_t idx)
{
    return c->reveal && c->ok && c->ok[idx] ? &c->details[idx] : NULL;
}

void tv_trace_case_free(tv_trace_case *c)
{
    if (c->details) {
        sodium_memzero(c->details, (c->r.ncontacts + 1) * sizeof *c->details);
        free(c->details);
    }
    free(c->ok);
    free(c->units);
    free(c->venues);
    free(c->disp);
    if (c->r.visits || c->r.contacts) tv_trace_free(&c->r);
    memset(c, 0, sizeof *c);
}
