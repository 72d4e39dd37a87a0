/* Risk levels of units (risk.h). */
#include "node/logic/risk.h"

#include "crdt/error.h"
#include "node/logic/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tv_risk_set(tv_node *n, const crdt_risk *r)
{
    uint64_t seq;
    int rc;
    if ((rc = tv_node_add_risk(n, r, NULL)) || (rc = tv_node_commit(n, &seq))) tv_node_discard(n);
    return rc;
}

typedef struct view_ctx {
    store_txn *t;
    int64_t at_ms;
    char unit[TV_UNIT_CODE_MAX + 1]; /* the unit being gathered */
    char name[TV_RISK_UNIT_NAME_BYTES];
    tv_risk_view *out;
} view_ctx;

static int row_add(view_ctx *s, const store_risk *r, int in_force)
{
    tv_risk_view *out = s->out;
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        tv_risk_row *rows = realloc(out->rows, cap * sizeof *rows);
        if (!rows) return TV_ENOMEM;
        out->rows = rows;
        out->cap = cap;
    }
    tv_risk_row *row = &out->rows[out->n++];
    memcpy(row->unit, s->unit, sizeof row->unit);
    memcpy(row->unit_name, s->name, sizeof row->unit_name);
    row->in_force = in_force;
    row->r = *r;
    return TV_OK;
}

static int later_row(const store_risk *r, void *arg)
{
    view_ctx *s = arg;
    return r->from_ms > s->at_ms ? row_add(s, r, 0) : TV_OK;
}

/* The level in force for one unit, then the changes set for later. */
static int view_unit(view_ctx *s, const char *unit)
{
    snprintf(s->unit, sizeof s->unit, "%s", unit);
    tv_unit_name_get(s->t, unit, s->name, sizeof s->name);
    store_risk r;
    int rc = store_risk_at(s->t, unit, s->at_ms, &r);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (rc == 0 && (rc = row_add(s, &r, 1))) return rc;
    s->out->units++;
    return store_risks_foreach(s->t, unit, later_row, s);
}

static int unit_row(const store_risk *r, void *arg)
{
    view_ctx *s = arg;
    if (strcmp(r->unit, s->unit) == 0) return TV_OK; /* shown with its first row */
    return view_unit(s, r->unit);
}

int tv_risk_view_run(tv_node *n, const char *unit, int64_t at_ms, tv_risk_view *out)
{
    *out = (tv_risk_view){0};
    view_ctx s = {.at_ms = at_ms, .out = out};
    int rc = store_read_begin(n->st, &s.t);
    if (rc) return rc;
    if (unit)
        rc = view_unit(&s, unit);
    else /* every unit with a level, each once (rows come by unit, then from) */
        rc = store_risks_foreach(s.t, NULL, unit_row, &s);
    store_read_end(s.t);
    return rc;
}

void tv_risk_view_free(tv_risk_view *v)
{
    free(v->rows);
    *v = (tv_risk_view){0};
}
