/* The official unit list, parsed from the CSV embedded by the build. */
#include "node/logic/units.h"
#include "node/format/csv.h"
#include "crdt/error.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const unsigned char tv_units_csv[];
extern const size_t tv_units_csv_len;

static tv_unit *units; /* provinces then communes, sorted by code */
static size_t nunits;
static const tv_unit **children; /* communes grouped by province, in code order */
static int loaded;

static int by_code(const void *a, const void *b)
{
    return strcmp(((const tv_unit *)a)->code, ((const tv_unit *)b)->code);
}

static int add(size_t *cap, const char *code, const char *name, const char *parent)
{
    if (strlen(code) > TV_UNIT_CODE_MAX) return -1;
    /* a province repeats on each of its communes' rows, which come together */
    static char last_province[TV_UNIT_CODE_MAX + 1];
    if (parent[0] == '\0' && strcmp(last_province, code) == 0) return 0;
    if (parent[0] == '\0') snprintf(last_province, sizeof last_province, "%s", code);
    if (nunits == *cap) {
        size_t c = *cap ? 2 * *cap : 4096;
        tv_unit *u = realloc(units, c * sizeof *u);
        if (!u) return -1;
        units = u;
        *cap = c;
    }
    tv_unit *u = &units[nunits++];
    snprintf(u->code, sizeof u->code, "%s", code);
    snprintf(u->name, sizeof u->name, "%s", name);
    snprintf(u->parent, sizeof u->parent, "%s", parent);
    return 0;
}

static void load(void)
{
    if (loaded) return;
    loaded = 1;
    FILE *f = fmemopen((void *)tv_units_csv, tv_units_csv_len, "r");
    tv_csv *c = NULL;
    if (!f || tv_csv_open(&c, f)) {
        if (f) fclose(f);
        return;
    }
    size_t cap = 0;
    const char *const *row;
    size_t n;
    uint64_t line;
    int rc, ok = 1;
    /* province_code, province_full_name, ward_code, ward_full_name, ... */
    while (ok && (rc = tv_csv_next(c, &row, &n, &line)) != 0) {
        if (rc < 0 || n < 4) continue;
        if (line == 1) continue; /* the header */
        ok = add(&cap, row[0], row[1], "") == 0 && add(&cap, row[2], row[3], row[0]) == 0;
    }
    tv_csv_free(c);
    fclose(f);
    if (!ok) {
        free(units);
        units = NULL;
        nunits = 0;
        return;
    }
    qsort(units, nunits, sizeof *units, by_code);
    /* children: communes ordered by (parent, code) */
    children = malloc(nunits * sizeof *children);
    if (!children) return;
    size_t k = 0;
    for (size_t i = 0; i < nunits; i++)
        if (units[i].parent[0] == '\0')
            for (size_t j = 0; j < nunits; j++)
                if (strcmp(units[j].parent, units[i].code) == 0) children[k++] = &units[j];
}

const tv_unit *tv_unit_find(const char *code)
{
    load();
    tv_unit key;
    snprintf(key.code, sizeof key.code, "%s", code);
    return nunits ? bsearch(&key, units, nunits, sizeof *units, by_code) : NULL;
}

const tv_unit *const *tv_unit_children(const char *code, size_t *n)
{
    load();
    *n = 0;
    if (!children) return NULL;
    size_t first = 0, count = 0;
    for (size_t i = 0; i < nunits; i++) /* children[] holds the communes only */
        if (units[i].parent[0]) count++;
    while (first < count && strcmp(children[first]->parent, code) != 0)
        first++;
    while (first + *n < count && strcmp(children[first + *n]->parent, code) == 0)
        (*n)++;
    return *n ? &children[first] : NULL;
}

void tv_unit_parent(const char *code, char out[TV_UNIT_CODE_MAX + 1])
{
    out[0] = '\0';
    const char *dot = strchr(code, '.');
    if (dot && dot != code) {
        snprintf(out, TV_UNIT_CODE_MAX + 1, "%.*s", (int)(dot - code), code);
        return;
    }
    const tv_unit *u = tv_unit_find(code);
    if (u) snprintf(out, TV_UNIT_CODE_MAX + 1, "%s", u->parent);
}

size_t tv_units_count(void)
{
    load();
    return nunits;
}

const tv_unit *tv_unit_at(size_t i)
{
    load();
    return i < nunits ? &units[i] : NULL;
}

/* --- the tree with the local units ------------------------------------------------------ */

static int tree_by_code(const void *a, const void *b)
{
    return strcmp(((const tv_tree_unit *)a)->code, ((const tv_tree_unit *)b)->code);
}

static int tree_by_parent(const void *pa, const void *pb)
{
    const tv_tree_unit *a = *(tv_tree_unit *const *)pa, *b = *(tv_tree_unit *const *)pb;
    int c = strcmp(a->parent, b->parent);
    return c ? c : strcmp(a->code, b->code);
}

typedef struct tree_ctx {
    tv_tree *tr;
    size_t cap, official;
} tree_ctx;

static int tree_add(const store_unit *su, void *arg)
{
    tree_ctx *x = arg;
    tv_tree *tr = x->tr;
    tv_tree_unit key;
    snprintf(key.code, sizeof key.code, "%s", su->code);
    tv_tree_unit *o = bsearch(&key, tr->u, x->official, sizeof *tr->u, tree_by_code);
    if (o) { /* an official unit placed elsewhere */
        snprintf(o->parent, sizeof o->parent, "%s", su->parent);
        return 0;
    }
    if (tr->n == x->cap) {
        size_t c = 2 * x->cap;
        tv_tree_unit *u = realloc(tr->u, c * sizeof *u);
        if (!u) return TV_ENOMEM;
        tr->u = u;
        x->cap = c;
    }
    tv_tree_unit *w = &tr->u[tr->n++];
    snprintf(w->code, sizeof w->code, "%s", su->code);
    snprintf(w->name, sizeof w->name, "%s", su->name);
    snprintf(w->parent, sizeof w->parent, "%s", su->parent);
    w->official = 0;
    return 0;
}

/* The parent a unit has without events: its official one, or a local unit's owner. */
static void default_parent(const tv_tree_unit *u, char out[TV_UNIT_CODE_MAX + 1])
{
    const tv_unit *o = tv_unit_find(u->code);
    if (o)
        snprintf(out, TV_UNIT_CODE_MAX + 1, "%s", o->parent);
    else
        tv_unit_parent(u->code, out);
}

/* Unit events may place units in a loop (a district under its own commune). Each loop is
 * broken where its smallest code is, by giving that unit its default parent back, so that
 * every unit stays in the tree and in the figures of the units above it. */
static void break_cycles(tv_tree *tr)
{
    for (size_t i = 0; i < tr->n; i++) {
        for (size_t round = 0; round < tr->n; round++) {
            /* walk up from u: a loop shows as a walk longer than the tree can be */
            const tv_tree_unit *u = &tr->u[i], *w = u;
            size_t steps = 0;
            while (w && w->parent[0] && steps <= tr->n) {
                w = tv_tree_find(tr, w->parent);
                steps++;
                if (w == u) break;
            }
            if (w != u) break; /* no loop through u */
            tv_tree_unit *least = &tr->u[i];
            for (w = tv_tree_find(tr, u->parent); w && w != u; w = tv_tree_find(tr, w->parent))
                if (strcmp(w->code, least->code) < 0) least = &tr->u[w - tr->u];
            char d[TV_UNIT_CODE_MAX + 1];
            default_parent(least, d);
            snprintf(least->parent, sizeof least->parent, "%s", strcmp(d, least->code) ? d : "");
        }
    }
}

int tv_tree_load(struct store_txn *t, tv_tree *tr)
{
    memset(tr, 0, sizeof *tr);
    size_t n = tv_units_count();
    tree_ctx x = {tr, n + 64, n};
    if (!(tr->u = malloc(x.cap * sizeof *tr->u))) return TV_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const tv_unit *o = tv_unit_at(i);
        tv_tree_unit *w = &tr->u[i];
        snprintf(w->code, sizeof w->code, "%s", o->code);
        snprintf(w->name, sizeof w->name, "%s", o->name);
        snprintf(w->parent, sizeof w->parent, "%s", o->parent);
        w->official = 1;
    }
    tr->n = n;
    int rc = store_units_foreach(t, tree_add, &x);
    if (rc == 0) {
        qsort(tr->u, tr->n, sizeof *tr->u, tree_by_code);
        if (!(tr->kids = malloc((tr->n ? tr->n : 1) * sizeof *tr->kids))) rc = TV_ENOMEM;
    }
    if (rc) {
        tv_tree_free(tr);
        return rc;
    }
    break_cycles(tr);
    for (size_t i = 0; i < tr->n; i++)
        tr->kids[i] = &tr->u[i];
    qsort(tr->kids, tr->n, sizeof *tr->kids, tree_by_parent);
    return 0;
}

void tv_tree_free(tv_tree *tr)
{
    free(tr->u);
    free(tr->kids);
    memset(tr, 0, sizeof *tr);
}

const tv_tree_unit *tv_tree_find(const tv_tree *tr, const char *code)
{
    tv_tree_unit key;
    snprintf(key.code, sizeof key.code, "%s", code);
    return tr->n ? bsearch(&key, tr->u, tr->n, sizeof *tr->u, tree_by_code) : NULL;
}

tv_tree_unit *const *tv_tree_children(const tv_tree *tr, const char *code, size_t *n)
{
    *n = 0;
    size_t lo = 0, hi = tr->n; /* the first with parent >= code */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(tr->kids[mid]->parent, code) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    while (lo + *n < tr->n && strcmp(tr->kids[lo + *n]->parent, code) == 0)
        (*n)++;
    return *n ? &tr->kids[lo] : NULL;
}

void tv_unit_name_get(struct store_txn *t, const char *code, char *out, size_t cap)
{
    const tv_unit *u = tv_unit_find(code);
    store_unit su;
    snprintf(out, cap, "%s", u ? u->name : t && store_unit_get(t, code, &su) == 0 ? su.name : "");
}
