/* Case statuses as a node may read them (case.h). */
#include "node/logic/case.h"

#include "crdt/cert.h"
#include "crdt/error.h"
#include "node/logic/downflow.h"
#include "node/logic/record.h"
#include "node/logic/reveal.h"
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
    tv_unit_name_get(l->t, cs.current.unit, r->unit_name, sizeof r->unit_name);
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

/* --- case add ------------------------------------------------------------------------- */

/* Whether this node's certificate lets it set a case status under unit. */
static int health_covers(tv_node *n, const char *unit)
{
    store_txn *t;
    crdt_cert *own = malloc(sizeof *own);
    int out = 0;
    if (own && store_read_begin(n->st, &t) == 0) {
        out = store_cert_get(t, n->id.pk, own, NULL, NULL) == 0 &&
              crdt_cert_health_covers(own, unit, strlen(unit));
        store_read_end(t);
    }
    free(own);
    return out;
}

int tv_case_default_unit(tv_node *n, const uint8_t person[TV_PERSON_REF_BYTES], tv_case_unit *u)
{
    tv_person_rec *pr = malloc(sizeof *pr);
    int lrc = pr ? tv_person_rec_load(n, person, pr) : TV_ENOMEM;
    if (lrc == 0 && pr->p.unit.n > 0 && pr->p.unit.n <= TV_UNIT_CODE_MAX &&
        crdt_unit_code_valid(pr->p.unit.p, pr->p.unit.n)) {
        snprintf(u->recorded, sizeof u->recorded, "%.*s", (int)pr->p.unit.n, pr->p.unit.p);
        if (health_covers(n, u->recorded)) {
            snprintf(u->code, sizeof u->code, "%s", u->recorded);
            u->why = TV_CASE_UNIT_RECORDED;
        } else { /* peers would refuse the status under that unit */
            snprintf(u->code, sizeof u->code, "%s", n->unit);
            u->why = TV_CASE_UNIT_OUTSIDE;
        }
        lrc = 0;
    } else if (lrc == 0 || lrc == TV_ENOTFOUND) {
        snprintf(u->code, sizeof u->code, "%s", n->unit);
        u->why = TV_CASE_UNIT_UNRECORDED;
        lrc = 0;
    }
    free(pr);
    return lrc;
}

int tv_case_add(tv_node *n, const crdt_case *cs, int64_t now_ms, int *recorded)
{
    uint64_t hlc, seq, sent = 0;
    int rc = 0;
    *recorded = 0;
    if (!tv_node_opens_health(n)) rc = TV_EPERM; /* a health node holding the province key */
    if (rc || (rc = tv_downflow_status(n, cs, &hlc)) || (rc = tv_node_commit(n, &seq))) {
        tv_node_discard(n);
        return rc;
    }
    *recorded = 1;
    return tv_downflow_run(n, now_ms, &sent);
}

void tv_case_added_read(tv_node *n, const crdt_case *cs, tv_case_added *out)
{
    out->status = cs->status;
    memcpy(out->ref, cs->person, TV_PERSON_REF_BYTES);
    snprintf(out->unit, sizeof out->unit, "%.*s", (int)cs->unit.n, cs->unit.p);
    store_txn *t;
    if (store_read_begin(n->st, &t) == 0) {
        if (tv_person_display_get(t, cs->person, (crdt_text){0}, out->disp, sizeof out->disp))
            snprintf(out->disp, sizeof out->disp, "(not recorded here)");
        tv_unit_name_get(t, out->unit, out->unit_name, sizeof out->unit_name);
        store_read_end(t);
    } else {
        snprintf(out->disp, sizeof out->disp, "?");
        tv_unit_name_get(NULL, out->unit, out->unit_name, sizeof out->unit_name);
    }
}
