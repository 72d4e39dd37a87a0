/* Reports from the daily aggregates (see report.h). */
#include "node/report.h"
#include "crdt/error.h"
#include "node/timefmt.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int row_cmp(const void *a, const void *b)
{
    return strcmp(((const tv_report_row *)a)->code, ((const tv_report_row *)b)->code);
}

/* Stale rows first, then by code. */
static int out_cmp(const void *pa, const void *pb)
{
    const tv_report_row *a = pa, *b = pb;
    if (a->stale != b->stale) return a->stale ? -1 : 1;
    return strcmp(a->code, b->code);
}

int tv_report_add(tv_report *r, const char *unit)
{
    if ((r->n & (r->n - 1)) == 0) { /* the capacity is the next power of two */
        size_t c = r->n ? 2 * r->n : 1;
        tv_report_row *p = realloc(r->rows, c * sizeof *p);
        if (!p) return TV_ENOMEM;
        r->rows = p;
    }
    tv_report_row *w = &r->rows[r->n++];
    memset(w, 0, sizeof *w);
    snprintf(w->code, sizeof w->code, "%s", unit);
    const tv_unit *u = tv_unit_find(unit);
    snprintf(w->name, sizeof w->name, "%s", u ? u->name : "");
    return TV_OK;
}

int tv_report_units(tv_node *n, store_txn *t, const char *unit, tv_report *r)
{
    size_t nc;
    int rc = TV_OK;
    const tv_unit *const *kids = tv_unit_children(unit, &nc);
    if (kids) {
        for (size_t i = 0; i < nc && rc == 0; i++)
            rc = tv_report_add(r, kids[i]->code);
        return rc;
    }
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    if (strcmp(unit, n->unit) == 0 && store_cert_get(t, n->id.pk, c, NULL, NULL) == 0 &&
        c->scope_len > 1) {
        for (uint32_t i = 0; i < c->scope_len && rc == 0; i++)
            rc = tv_report_add(r, c->scope[i]);
    } else {
        rc = tv_report_add(r, unit);
    }
    free(c);
    return rc;
}

typedef struct venue_ctx {
    store_txn *t;
    tv_report *r;
} venue_ctx;

static int venue_row(const store_venue *v, void *arg)
{
    venue_ctx *x = arg;
    tv_report_row key;
    snprintf(key.code, sizeof key.code, "%s", v->unit);
    tv_report_row *w = bsearch(&key, x->r->rows, x->r->n, sizeof *x->r->rows, row_cmp);
    if (!w) return 0;
    w->venues++;
    int a = store_venue_active(x->t, v->id, x->r->from_day, x->r->to_day);
    if (a < 0) return a;
    w->active += (uint64_t)a;
    store_venue_status st;
    int rc = store_venue_status_get(x->t, v->id, &st);
    if (rc) return rc;
    w->suspended += st.suspended != 0;
    return 0;
}

int tv_report_figures(store_txn *t, tv_report *r, int64_t now_ms)
{
    qsort(r->rows, r->n, sizeof *r->rows, row_cmp);
    venue_ctx x = {t, r};
    int rc = store_venue_foreach(t, venue_row, &x);
    /* freshness of every row in one pass over the certificates */
    const char **codes = malloc((r->n ? r->n : 1) * sizeof *codes);
    tv_fresh *f = malloc((r->n ? r->n : 1) * sizeof *f);
    if (rc == 0 && (!codes || !f)) rc = TV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        codes[i] = r->rows[i].code;
    if (rc == 0) rc = tv_fresh_many(t, codes, r->n, f);
    int64_t from_ms = tv_date_start_ms(r->from_day, TV_TIME_VN_OFFSET_MIN);
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        tv_report_row *w = &r->rows[i];
        store_agg a;
        if ((rc = store_agg_sum(t, w->code, r->from_day, r->to_day, &a))) break;
        w->in = a.scans_in;
        w->out = a.scans_out;
        store_risk k;
        int kr = store_risk_at(t, w->code, now_ms, &k);
        if (kr && kr != TV_ENOTFOUND) rc = kr;
        w->risk = kr == 0 ? k.level : 0;
        w->f = f[i];
        w->stale = tv_fresh_stale(&w->f, from_ms);
        r->total.venues += w->venues;
        r->total.active += w->active;
        r->total.in += w->in;
        r->total.out += w->out;
        r->total.suspended += w->suspended;
        r->total.stale += w->stale;
    }
    free(codes);
    free(f);
    qsort(r->rows, r->n, sizeof *r->rows, out_cmp);
    return rc;
}

void tv_report_free(tv_report *r)
{
    free(r->rows);
    r->rows = NULL;
    r->n = 0;
}

int tv_iso_weekday(int32_t day)
{
    return (int)(((day + 3) % 7 + 7) % 7) + 1; /* 1970-01-01 was a Thursday */
}

int tv_iso_week_parse(const char *s, int32_t *monday)
{
    int year, week;
    char tail;
    if (sscanf(s, "%4d-W%2d%c", &year, &week, &tail) != 2 || strlen(s) != 8 || week < 1 ||
        week > 53)
        return -1;
    char jan4[16];
    snprintf(jan4, sizeof jan4, "%04d-01-04", year);
    int32_t d;
    if (tv_date_parse(jan4, &d)) return -1;
    int32_t first = d - (tv_iso_weekday(d) - 1); /* week 1 holds 4 January */
    *monday = first + 7 * (week - 1);
    /* week 53 exists only in years whose 28 December is in it */
    char dec28[16];
    snprintf(dec28, sizeof dec28, "%04d-12-28", year);
    int32_t last;
    if (tv_date_parse(dec28, &last)) return -1;
    return *monday <= last ? 0 : -1;
}
