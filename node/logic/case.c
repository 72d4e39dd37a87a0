/* Case statuses as a node may read them (case.h). */
#include "node/logic/case.h"

#include "crdt/error.h"
#include "node/logic/downflow.h"
#include "node/logic/record.h"
#include "node/logic/units.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct list_ctx {
    tv_node *n;
    tv_opened *o; /* a commune's own sealed statuses */
    store_txn *t;
    int filter; /* a status, or -1 */
    tv_case_list *out;
} list_ctx;

/* The official name of code, else its unit event's, else "". */
static void unit_name(store_txn *t, const char *code, char *out, size_t cap)
{
    const tv_unit *u = tv_unit_find(code);
    store_unit su;
    snprintf(out, cap, "%s", u ? u->name : store_unit_get(t, code, &su) == 0 ? su.name : "");
}

/* Adds one person's case to the list, when it passes the filter. */
static int list_person(const uint8_t *ref, void *arg)
{
    list_ctx *l = arg;
    tv_case cs;
    int rc = tv_case_lookup(l->n, l->t, l->o, ref, &cs);
    if (rc) return rc;
    if (l->filter >= 0 && cs.current.status != l->filter) return TV_OK;
    tv_case_list *out = l->out;
    if (out->n == out->cap) {
        size_t cap = out->cap ? out->cap * 2 : 16;
        tv_case_row *rows = realloc(out->rows, cap * sizeof *rows);
        if (!rows) return TV_ENOMEM;
        out->rows = rows;
        out->cap = cap;
    }
    tv_case_row *r = &out->rows[out->n++];
    memcpy(r->ref, ref, TV_PERSON_REF_BYTES);
    if (tv_person_display_get(l->t, ref, (crdt_text){0}, r->disp, sizeof r->disp))
        snprintf(r->disp, sizeof r->disp, "(not recorded here)");
    r->cs = cs;
    unit_name(l->t, cs.current.unit, r->unit_name, sizeof r->unit_name);
    return TV_OK;
}

int tv_case_list_run(tv_node *n, int filter, tv_case_list *out)
{
    *out = (tv_case_list){0};
    tv_opened o = {0};
    list_ctx l = {.n = n, .o = &o, .filter = filter, .out = out};
    int rc = store_read_begin(n->st, &l.t);
    if (rc == 0) {
        if (tv_node_opens_health(n)) {
            rc = tv_cases_each_person(l.t, list_person, &l);
        } else if ((rc = tv_opened_load(n, l.t, &o)) == 0) {
            /* a commune: the statuses sealed for it, of people it recorded */
            for (size_t i = 0; rc == 0 && i < o.ncases; i++)
                if (i + 1 == o.ncases ||
                    memcmp(o.cases[i].person, o.cases[i + 1].person, TV_PERSON_REF_BYTES) != 0)
                    rc = list_person(o.cases[i].person, &l);
        }
        store_read_end(l.t);
    }
    tv_opened_release(&o);
    return rc;
}

void tv_case_list_free(tv_case_list *l)
{
    free(l->rows);
    *l = (tv_case_list){0};
}
