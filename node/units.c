/* The official unit list, parsed from the CSV embedded by the build. */
#include "node/units.h"
#include "node/csv.h"

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
