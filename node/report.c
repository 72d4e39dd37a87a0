/* Reports from the daily aggregates (see report.h). */
#include "node/report.h"
#include "crdt/error.h"
#include "crdt/hlc.h"
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
    snprintf(r->unit, sizeof r->unit, "%s", unit);
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
    int32_t prev_from, prev_to;
    int rc;
} venue_ctx;

static tv_report_row *row_find(tv_report *r, const char *code)
{
    tv_report_row key;
    snprintf(key.code, sizeof key.code, "%s", code);
    return bsearch(&key, r->rows, r->n, sizeof *r->rows, row_cmp);
}

static int32_t hlc_day(uint64_t hlc)
{
    return crdt_day_vn((int64_t)crdt_hlc_ms(hlc));
}

/* Keeps an idle venue in the list (the first TV_REPORT_IDLE_MAX in unit order, then
 * by id). */
static int idle_add(tv_report *r, const store_venue *v, const store_venue_status *st)
{
    r->idle_total++;
    if (r->idle_n == TV_REPORT_IDLE_MAX) return TV_OK;
    if ((r->idle_n & (r->idle_n - 1)) == 0) {
        size_t c = r->idle_n ? 2 * r->idle_n : 16;
        tv_report_venue *p = realloc(r->idle, c * sizeof *p);
        if (!p) return TV_ENOMEM;
        r->idle = p;
    }
    tv_report_venue *w = &r->idle[r->idle_n++];
    memcpy(w->id, v->id, TV_VENUE_ID_BYTES);
    snprintf(w->unit, sizeof w->unit, "%s", v->unit);
    snprintf(w->name, sizeof w->name, "%s", v->name);
    w->last_scan_day = st->last_scan_ms == INT64_MIN ? INT32_MIN : crdt_day_vn(st->last_scan_ms);
    w->reminders = st->reminders_active;
    w->suspended = st->suspended;
    return TV_OK;
}

/* Whether venue v was registered by the end of day: its first upsert, or failing that a
 * scan (a register may be entered after the fact). Returns 1, 0 or a store error. */
static int registered_by(store_txn *t, const store_venue *v, int32_t day)
{
    if (hlc_day(v->created_hlc) <= day) return 1;
    return store_venue_active(t, v->id, INT32_MIN + 1, day);
}

static int venue_row(const store_venue *v, void *arg)
{
    venue_ctx *x = arg;
    tv_report_row *w = row_find(x->r, v->unit);
    if (!w) return 0;
    store_venue_status st;
    int rc = store_venue_status_get(x->t, v->id, &st);
    if (rc) return rc;
    w->suspended += st.suspended != 0;
    int reg = registered_by(x->t, v, x->prev_to);
    if (reg < 0) return reg;
    if (reg) {
        w->prev.venues++;
        int a = store_venue_active(x->t, v->id, x->prev_from, x->prev_to);
        if (a < 0) return a;
        w->prev.active += (uint64_t)a;
    }
    int a = store_venue_active(x->t, v->id, x->r->from_day, x->r->to_day);
    if (a < 0) return a;
    if (!reg && !a && (reg = registered_by(x->t, v, x->r->to_day)) <= 0) return reg;
    w->now.venues++;
    w->now.active += (uint64_t)a;
    /* a venue of a stale unit may have scans not held here: not listed as idle */
    if (!a && !w->stale) rc = idle_add(x->r, v, &st);
    return rc;
}

typedef struct day_ctx {
    tv_report *r;
    tv_report_row *w;
} day_ctx;

static void fig_add(tv_report_fig *f, const store_agg *a)
{
    f->in += a->scans_in;
    f->out += a->scans_out;
    f->reminders += a->reminders;
    f->f0 += a->f0;
    f->f1 += a->f1;
}

static int agg_day(int32_t day, const store_agg *a, void *arg)
{
    day_ctx *x = arg;
    if (day < x->r->from_day) {
        fig_add(&x->w->prev, a);
        return 0;
    }
    fig_add(&x->w->now, a);
    crdt_hll_merge(x->w->sketch_, a->visitors);
    x->r->day_in[day - x->r->from_day] += a->scans_in;
    x->r->day_out[day - x->r->from_day] += a->scans_out;
    return 0;
}

static void total_add(tv_report_fig *t, const tv_report_fig *f)
{
    t->venues += f->venues;
    t->active += f->active;
    t->in += f->in;
    t->out += f->out;
    t->visitors += f->visitors;
    t->reminders += f->reminders;
    t->f0 += f->f0;
    t->f1 += f->f1;
}

int tv_report_figures(store_txn *t, tv_report *r, int64_t now_ms)
{
    qsort(r->rows, r->n, sizeof *r->rows, row_cmp);
    int32_t len = r->to_day - r->from_day + 1;
    venue_ctx x = {t, r, r->from_day - len, r->from_day - 1, 0};
    free(r->day_in);
    free(r->day_out);
    r->day_in = calloc((size_t)len, sizeof *r->day_in);
    r->day_out = calloc((size_t)len, sizeof *r->day_out);
    /* freshness of every row in one pass over the certificates */
    const char **codes = malloc((r->n ? r->n : 1) * sizeof *codes);
    tv_fresh *f = malloc((r->n ? r->n : 1) * sizeof *f);
    int rc = codes && f && r->day_in && r->day_out ? TV_OK : TV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        codes[i] = r->rows[i].code;
    if (rc == 0) rc = tv_fresh_many(t, codes, r->n, f);
    int64_t from_ms = tv_date_start_ms(r->from_day, TV_TIME_VN_OFFSET_MIN);
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        tv_report_row *w = &r->rows[i];
        day_ctx d = {r, w};
        if ((rc = store_agg_days(t, w->code, x.prev_from, r->to_day, agg_day, &d))) break;
        w->now.visitors = crdt_hll_estimate(w->sketch_);
        crdt_hll_merge(r->total.sketch_, w->sketch_);
        store_risk k;
        int kr = store_risk_at(t, w->code, now_ms, &k);
        if (kr && kr != TV_ENOTFOUND) rc = kr;
        w->risk = kr == 0 ? k.level : 0;
        w->f = f[i];
        w->stale = tv_fresh_stale(&w->f, from_ms);
        r->total.stale += w->stale;
    }
    free(codes);
    free(f);
    /* the venues last: they need to know which rows are stale */
    if (rc == 0) rc = store_venue_foreach(t, venue_row, &x);
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        total_add(&r->total.now, &r->rows[i].now);
        total_add(&r->total.prev, &r->rows[i].prev);
        r->total.suspended += r->rows[i].suspended;
    }
    /* the reported unit's own figures, when it is not one of the rows */
    if (rc == 0 && r->unit[0] && !row_find(r, r->unit)) {
        tv_report_row own = {0};
        day_ctx d = {r, &own};
        rc = store_agg_days(t, r->unit, x.prev_from, r->to_day, agg_day, &d);
        total_add(&r->total.now, &own.now);
        total_add(&r->total.prev, &own.prev);
        crdt_hll_merge(r->total.sketch_, own.sketch_);
    }
    r->total.now.visitors = crdt_hll_estimate(r->total.sketch_);
    qsort(r->rows, r->n, sizeof *r->rows, out_cmp);
    return rc;
}

double tv_report_compliance(const tv_report_fig *f)
{
    return f->venues ? 100.0 * (double)f->active / (double)f->venues : -1;
}

void tv_report_free(tv_report *r)
{
    free(r->rows);
    free(r->day_in);
    free(r->day_out);
    free(r->idle);
    r->rows = NULL;
    r->day_in = r->day_out = NULL;
    r->idle = NULL;
    r->n = r->idle_n = r->idle_total = 0;
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

void tv_iso_week_format(char *out, size_t cap, int32_t day)
{
    int32_t thursday = day - (tv_iso_weekday(day) - 1) + 3; /* its year is the week's */
    char d[16];
    tv_date_format(d, sizeof d, thursday);
    int year = atoi(d);
    char jan1[16];
    snprintf(jan1, sizeof jan1, "%04d-01-01", year);
    int32_t first;
    if (tv_date_parse(jan1, &first)) first = thursday;
    snprintf(out, cap, "%04d-W%02d", year, (thursday - first) / 7 + 1);
}
