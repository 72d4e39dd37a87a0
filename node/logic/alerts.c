/* When confirmed cases were at a node's venues (alerts.h). */
#include "node/logic/alerts.h"

#include "crdt/error.h"
#include "node/logic/downflow.h"
#include "node/logic/presence.h"
#include "node/logic/visits.h"

#include <stdlib.h>
#include <string.h>

typedef struct alert_ctx {
    tv_node *n;
    store_txn *t;
    int all;
    int64_t now_ms;
    uint64_t cases;
    tv_alerts *out;
} alert_ctx;

/* Appends a row to out, or returns NULL (no memory). */
static tv_alert *alert_add(tv_alerts *out)
{
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        tv_alert *rows = realloc(out->rows, cap * sizeof *rows);
        if (!rows) return NULL;
        out->rows = rows;
        out->cap = cap;
    }
    tv_alert *a = &out->rows[out->n++];
    memset(a, 0, sizeof *a);
    return a;
}

/* Adds the window of a presence p of the case cs (numbered case_no) at a venue held here,
 * clipped to [cs->window_from, to). */
static int alert_presence(alert_ctx *a, uint64_t case_no, const tv_case *cs, const tv_presence *p,
                          int64_t to)
{
    int64_t from = p->from_ms > cs->window_from ? p->from_ms : cs->window_from;
    int64_t end = p->to_ms < to ? p->to_ms : to;
    if (end <= from) return TV_OK;
    store_venue v;
    if (store_venue_get(a->t, p->venue, &v)) return TV_OK; /* not a venue held here */
    if (!a->all && strcmp(v.unit, a->n->unit) != 0) return TV_OK;
    tv_alert *r = alert_add(a->out);
    if (!r) return TV_ENOMEM;
    *r = (tv_alert){.case_no = case_no,
                    .declared_ms = cs->declared_ms,
                    .case_from = cs->window_from,
                    .case_to = cs->window_to,
                    .v = v,
                    .from_ms = from,
                    .to_ms = end};
    return TV_OK;
}

/* One person: if an F0 was declared, their presences at our venues in the window. */
static int alert_person(const uint8_t *ref, void *arg)
{
    alert_ctx *a = arg;
    tv_case cs;
    int rc = tv_case_get(a->t, ref, &cs);
    if (rc || !cs.has_window) return rc;
    int64_t to = cs.window_to == TV_WINDOW_OPEN ? a->now_ms : cs.window_to;
    tv_presence *p = NULL;
    size_t np = 0;
    rc = tv_person_presence(a->t, ref, cs.window_from, to, TV_DEDUPE_WINDOW_MS_DEFAULT, a->now_ms,
                            &p, &np);
    if (rc) return rc;
    uint64_t case_no = ++a->cases;
    for (size_t i = 0; rc == 0 && i < np; i++)
        rc = alert_presence(a, case_no, &cs, &p[i], to);
    free(p);
    return rc;
}

/* A commune: the exposure windows sealed for it, at its venues (or, with all, at any venue
 * it holds); a window sealed again with a later end counts once, with that end. */
static int alert_exposures(alert_ctx *a, const tv_opened *o)
{
    for (size_t i = 0; i < o->nexposures; i++) {
        const tv_exposure *x = &o->exposures[i];
        if (i + 1 < o->nexposures &&
            memcmp(x->venue, o->exposures[i + 1].venue, TV_VENUE_ID_BYTES) == 0 &&
            x->from_ms == o->exposures[i + 1].from_ms)
            continue; /* the same window, sealed again later with a later end */
        store_venue v;
        int rc = store_venue_get(a->t, x->venue, &v);
        if (rc == TV_ENOTFOUND) continue;
        if (rc) return rc;
        if (!a->all && strcmp(v.unit, a->n->unit) != 0) continue;
        tv_alert *r = alert_add(a->out);
        if (!r) return TV_ENOMEM;
        r->v = v;
        r->from_ms = x->from_ms;
        r->to_ms = x->to_ms;
    }
    return TV_OK;
}

int tv_alerts_run(tv_node *n, int all, int64_t now_ms, tv_alerts *out)
{
    *out = (tv_alerts){0};
    alert_ctx a = {.n = n, .all = all, .now_ms = now_ms, .out = out};
    tv_opened o = {0};
    int rc = store_read_begin(n->st, &a.t);
    if (rc == 0) {
        if (tv_node_opens_health(n))
            rc = tv_cases_each_person(a.t, alert_person, &a);
        else if ((rc = tv_opened_load(n, a.t, &o)) == 0)
            rc = alert_exposures(&a, &o);
        store_read_end(a.t);
    }
    tv_opened_release(&o);
    return rc;
}

void tv_alerts_free(tv_alerts *a)
{
    free(a->rows);
    *a = (tv_alerts){0};
}
