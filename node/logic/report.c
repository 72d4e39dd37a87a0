/* Reports from the daily aggregates (see report.h). */
#include "node/logic/report.h"
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "node/format/timefmt.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Adds a row under row parent (-1: level 1). name: the unit's, or NULL to look it up in
 * the official list. */
static int add_row(tv_report *r, const char *unit, const char *name, int parent)
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
    snprintf(w->name, sizeof w->name, "%s", name ? name : u ? u->name : "");
    w->parent = parent;
    w->level = parent < 0 ? 1 : r->rows[parent].level + 1;
    w->expect = u && u->parent[0]; /* an official commune */
    return TV_OK;
}

int tv_report_add(tv_report *r, const char *unit)
{
    return add_row(r, unit, NULL, -1);
}

/* Adds the units under code as rows under row parent, and theirs, depth first. */
static int add_under(tv_report *r, const tv_tree *tr, const char *code, int parent)
{
    size_t nk;
    tv_tree_unit *const *kids = tv_tree_children(tr, code, &nk);
    int level = parent < 0 ? 1 : r->rows[parent].level + 1;
    for (size_t i = 0; i < nk && level <= TV_REPORT_LEVELS_MAX; i++) {
        int on_path = strcmp(kids[i]->code, r->unit) == 0; /* a cycle of unit events */
        for (int p = parent; p >= 0 && !on_path; p = r->rows[p].parent)
            on_path = strcmp(r->rows[p].code, kids[i]->code) == 0;
        if (on_path) continue;
        int rc = add_row(r, kids[i]->code, kids[i]->name, parent);
        if (rc == 0) rc = add_under(r, tr, kids[i]->code, (int)r->n - 1);
        if (rc) return rc;
    }
    return TV_OK;
}

int tv_report_units(tv_node *n, store_txn *t, const char *unit, tv_report *r)
{
    snprintf(r->unit, sizeof r->unit, "%s", unit);
    tv_tree tr;
    int rc = tv_tree_load(t, &tr);
    if (rc) return rc;
    const tv_tree_unit *self = tv_tree_find(&tr, unit);
    size_t nk;
    tv_tree_children(&tr, unit, &nk);
    const tv_unit *official = tv_unit_find(unit);
    if ((official && official->parent[0]) || (!nk && strcmp(unit, n->unit) != 0)) {
        /* a commune, or a unit with nothing under it: its own row */
        rc = add_row(r, unit, self ? self->name : NULL, -1);
        if (rc == 0) r->rows[0].expect = 2;
        if (rc == 0) rc = add_under(r, &tr, unit, 0);
    } else if (nk) {
        rc = add_under(r, &tr, unit, -1);
    } else { /* this node's own unit with nothing under it: its certificate's scope */
        crdt_cert *c = malloc(sizeof *c);
        if (!c) rc = TV_ENOMEM;
        int scope = rc == 0 && store_cert_get(t, n->id.pk, c, NULL, NULL) == 0 &&
                    c->scope_len > 1 && strcmp(c->scope[0], CRDT_SCOPE_ALL) != 0;
        for (uint32_t i = 0; scope && i < c->scope_len && rc == 0; i++) {
            const tv_tree_unit *u = tv_tree_find(&tr, c->scope[i]);
            rc = add_row(r, c->scope[i], u ? u->name : NULL, -1);
            if (rc == 0 && !r->rows[r->n - 1].expect) r->rows[r->n - 1].expect = 1;
            if (rc == 0) rc = add_under(r, &tr, c->scope[i], (int)r->n - 1);
        }
        if (rc == 0 && !scope) {
            rc = add_row(r, unit, self ? self->name : NULL, -1);
            if (rc == 0) r->rows[0].expect = 2;
        }
        free(c);
    }
    tv_tree_free(&tr);
    return rc;
}

typedef struct venue_ctx {
    store_txn *t;
    tv_report *r;
    tv_report_row **by_code; /* the rows in code order */
    int32_t prev_from, prev_to;
} venue_ctx;

static int ptr_code_cmp(const void *a, const void *b)
{
    return strcmp((*(tv_report_row *const *)a)->code, (*(tv_report_row *const *)b)->code);
}

static tv_report_row *row_find(tv_report_row *const *by_code, size_t n, const char *code)
{
    tv_report_row key, *k = &key;
    snprintf(key.code, sizeof key.code, "%s", code);
    tv_report_row *const *p = bsearch(&k, by_code, n, sizeof *by_code, ptr_code_cmp);
    return p ? *p : NULL;
}

/* Siblings together, stale ones first, then by code. */
static int tree_cmp(const void *pa, const void *pb)
{
    const tv_report_row *a = *(tv_report_row *const *)pa, *b = *(tv_report_row *const *)pb;
    if (a->parent != b->parent) return a->parent < b->parent ? -1 : 1;
    if (a->stale != b->stale) return a->stale ? -1 : 1;
    return strcmp(a->code, b->code);
}

/* Appends to out, depth first, the rows under row parent (-1: level 1) in ord, which is
 * sorted by tree_cmp (children of one parent together); first[p + 1] is where the
 * children of row p start in ord. map: old row index -> new. */
static void emit(const tv_report *r, tv_report_row *const *ord, const size_t *first, int parent,
                 tv_report_row *out, size_t *m, int *map)
{
    for (size_t k = first[parent + 1]; k < r->n && ord[k]->parent == parent; k++) {
        int old = (int)(ord[k] - r->rows);
        map[old] = (int)*m;
        out[*m] = *ord[k];
        out[*m].parent = parent < 0 ? -1 : map[parent];
        (*m)++;
        emit(r, ord, first, old, out, m, map); /* as deep as the rows: TV_REPORT_LEVELS_MAX */
    }
}

/* Puts the rows of r in depth-first order with siblings as tree_cmp orders them. */
static int reorder(tv_report *r)
{
    size_t n = r->n, m = 0;
    tv_report_row **ord = malloc((n ? n : 1) * sizeof *ord);
    tv_report_row *out = malloc((n ? n : 1) * sizeof *out);
    size_t *first = malloc((n + 1) * sizeof *first);
    int *map = malloc((n ? n : 1) * sizeof *map);
    int rc = ord && out && first && map ? TV_OK : TV_ENOMEM;
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            ord[i] = &r->rows[i];
            first[i] = n; /* no children */
        }
        first[n] = n;
        qsort(ord, n, sizeof *ord, tree_cmp);
        for (size_t i = n; i-- > 0;)
            first[ord[i]->parent + 1] = i;
        emit(r, ord, first, -1, out, &m, map);
        memcpy(r->rows, out, m * sizeof *out);
        r->n = m; /* every row: each one's parent comes before it */
    }
    free(ord);
    free(out);
    free(first);
    free(map);
    return rc;
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
    tv_report_row *w = row_find(x->by_code, x->r->n, v->unit);
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

/* The distinct people behind check_ins check-ins, from their sketch: never more than the
 * check-ins (each visitor checked in at least once), nor fewer than one when there is a
 * check-in. The sketch's error can give either for small counts. */
static uint64_t visitors(const uint8_t sketch[CRDT_HLL_REGS], uint64_t check_ins)
{
    uint64_t e = crdt_hll_estimate(sketch);
    if (e > check_ins) e = check_ins;
    if (e == 0 && check_ins) e = 1;
    return e;
}

/* t += f, but visitors: they are estimated from merged sketches, not summed. */
static void total_add(tv_report_fig *t, const tv_report_fig *f)
{
    t->venues += f->venues;
    t->active += f->active;
    t->in += f->in;
    t->out += f->out;
    t->reminders += f->reminders;
    t->f0 += f->f0;
    t->f1 += f->f1;
}

/* Each row's own figures: its freshness (in one pass over the certificates), its days of
 * this period and the one before, its risk level now. */
static int rows_own_figures(venue_ctx *x, int64_t now_ms)
{
    store_txn *t = x->t;
    tv_report *r = x->r;
    const char **codes = malloc((r->n ? r->n : 1) * sizeof *codes);
    tv_fresh *f = malloc((r->n ? r->n : 1) * sizeof *f);
    int rc = codes && f ? TV_OK : TV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        codes[i] = x->by_code[i]->code;
    if (rc == 0) rc = tv_fresh_many(t, codes, r->n, f);
    for (size_t i = 0; i < r->n && rc == 0; i++) {
        tv_report_row *w = x->by_code[i];
        day_ctx d = {r, w};
        if ((rc = store_agg_days(t, w->code, x->prev_from, r->to_day, agg_day, &d))) break;
        crdt_hll_merge(r->total.sketch_, w->sketch_);
        store_risk k;
        int kr = store_risk_at(t, w->code, now_ms, &k);
        if (kr && kr != TV_ENOTFOUND) rc = kr;
        w->risk = kr == 0 ? k.level : 0;
        w->f = f[i];
    }
    free(codes);
    free(f);
    return rc;
}

/* The freshest data under a row is its own: a commune's villages hold its scans. Rows come
 * after the row above them, depth first. */
static void fresh_roll_up(tv_report *r)
{
    for (size_t i = r->n; i-- > 0;) {
        const tv_report_row *w = &r->rows[i];
        if (w->parent < 0) continue;
        tv_fresh *pf = &r->rows[w->parent].f;
        if (w->f.last_scan_day > pf->last_scan_day) pf->last_scan_day = w->f.last_scan_day;
        if (w->f.received > pf->received) pf->received = w->f.received;
        if (w->f.last_event > pf->last_event) pf->last_event = w->f.last_event;
    }
}

/* The units expected to report: a commune of the official list with a node certified for it
 * or a scan held here (in it or its villages), and the unit asked for when it is its own
 * row. Such a unit is stale when no scan of it is held here since the period began. An
 * official commune with no node and no scan has nothing to report (zeros, not missing), and
 * a district or province (whose own node records no scans) is not expected to report by
 * itself. A row above a unit expected to report is stale when any of them is: its sums miss
 * that unit's figures. */
static void mark_stale(tv_report *r)
{
    int64_t from_ms = tv_date_start_ms(r->from_day, TV_TIME_VN_OFFSET_MIN);
    for (size_t i = 0; i < r->n; i++) {
        tv_report_row *w = &r->rows[i];
        if (w->expect == 1 && !w->f.nodes && w->f.last_scan_day == INT32_MIN) w->expect = 0;
        w->stale = w->expect && tv_fresh_stale(&w->f, from_ms);
        r->expected += w->expect != 0;
        r->total.stale += w->stale;
    }
    for (size_t i = r->n; i-- > 0;)
        if (r->rows[i].stale && r->rows[i].parent >= 0) r->rows[r->rows[i].parent].stale = 1;
}

/* The rows under a row add up into it (they come after it, depth first), and the top rows
 * into the total. */
static void sums_roll_up(tv_report *r)
{
    for (size_t i = r->n; i-- > 0;) {
        tv_report_row *w = &r->rows[i];
        w->now.visitors = visitors(w->sketch_, w->now.in);
        if (w->parent < 0) continue;
        tv_report_row *p = &r->rows[w->parent];
        total_add(&p->now, &w->now);
        total_add(&p->prev, &w->prev);
        p->suspended += w->suspended;
        crdt_hll_merge(p->sketch_, w->sketch_);
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->rows[i].level != 1) continue;
        total_add(&r->total.now, &r->rows[i].now);
        total_add(&r->total.prev, &r->rows[i].prev);
        r->total.suspended += r->rows[i].suspended;
    }
}

/* The reported unit's own figures, when it is not one of the rows. */
static int unit_own_figures(venue_ctx *x)
{
    tv_report *r = x->r;
    if (!r->unit[0] || row_find(x->by_code, r->n, r->unit)) return 0;
    tv_report_row own = {0};
    day_ctx d = {r, &own};
    int rc = store_agg_days(x->t, r->unit, x->prev_from, r->to_day, agg_day, &d);
    total_add(&r->total.now, &own.now);
    total_add(&r->total.prev, &own.prev);
    crdt_hll_merge(r->total.sketch_, own.sketch_);
    return rc;
}

int tv_report_figures(store_txn *t, tv_report *r, int64_t now_ms)
{
    int32_t len = r->to_day - r->from_day + 1;
    venue_ctx x = {t, r, NULL, r->from_day - len, r->from_day - 1};
    free(r->day_in);
    free(r->day_out);
    r->day_in = calloc((size_t)len, sizeof *r->day_in);
    r->day_out = calloc((size_t)len, sizeof *r->day_out);
    x.by_code = malloc((r->n ? r->n : 1) * sizeof *x.by_code);
    int rc = x.by_code && r->day_in && r->day_out ? TV_OK : TV_ENOMEM;
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        x.by_code[i] = &r->rows[i];
    if (rc == 0) qsort(x.by_code, r->n, sizeof *x.by_code, ptr_code_cmp);
    if (rc == 0) rc = rows_own_figures(&x, now_ms);
    if (rc == 0) {
        fresh_roll_up(r);
        mark_stale(r);
    }
    /* the venues last: they need to know which rows are stale */
    if (rc == 0) rc = store_venue_foreach(t, venue_row, &x);
    if (rc == 0) sums_roll_up(r);
    if (rc == 0) rc = unit_own_figures(&x);
    r->total.now.visitors = visitors(r->total.sketch_, r->total.now.in);
    free(x.by_code);
    if (rc == 0) rc = reorder(r);
    return rc;
}

size_t tv_report_top(const tv_report *r)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        k += r->rows[i].level == 1;
    return k;
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
