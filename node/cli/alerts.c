/* `truyvet alerts`: when confirmed cases were at this commune's venues. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/downflow.h"
#include "node/logic/health.h"
#include "node/render/json.h"
#include "node/logic/record.h"
#include "node/logic/reveal.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/logic/units.h"
#include "node/logic/visits.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_alerts(tv_cli *cli, int argc, char **argv);

static const tv_opt alerts_opts[] = {
    {"all", 'a', NULL, "every venue this node holds, not only its own unit's", 0, 0},
    {.id = TV_O_JSON},
    {0}};

const tv_command tv_command_alerts = {
    .name = "alerts",
    .summary = "when confirmed cases were at this commune's venues",
    .usage = "alerts [--all] [--json]",
    .about = "For each confirmed case (F0) this node holds, the windows during which the case was\n"
             "at this node's own venues within the infectious window: what to tell venue owners\n"
             "and the people who were there. The case's identity is not shown. A commune holds no\n"
             "case list: it lists the windows the health authority sealed for its venues.\n",
    .opts = alerts_opts,
    .fn = cmd_alerts,
    .col = 6,
};

/* --- alerts ----------------------------------------------------------------------------- */

typedef struct alert_ctx {
    tv_node *n;
    store_txn *t;
    int all, json;
    int64_t now_ms;
    uint64_t cases, windows;
} alert_ctx;

static void alert_print(alert_ctx *a, uint64_t case_no, const tv_case *cs, const store_venue *v,
                        int64_t from, int64_t to)
{
    char f[TV_TIME_STR_BYTES], t[TV_TIME_STR_BYTES], vid[2 * TV_VENUE_ID_BYTES + 1];
    tv_time_format_vn(f, sizeof f, from);
    tv_time_format_vn(t, sizeof t, to);
    sodium_bin2hex(vid, sizeof vid, v->id, TV_VENUE_ID_BYTES);
    if (a->json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        if (cs) { /* a health node knows the case; a commune only the window */
            tv_json_key(&j, "case");
            tv_json_u64(&j, case_no);
            tv_json_key(&j, "declared");
            char d[TV_TIME_STR_BYTES];
            tv_time_format_vn(d, sizeof d, cs->declared_ms);
            tv_json_string(&j, d);
        }
        tv_json_key(&j, "venue");
        tv_json_string(&j, vid);
        tv_json_key(&j, "venue_name");
        tv_json_string(&j, v->name);
        tv_json_key(&j, "unit");
        tv_json_string(&j, v->unit);
        tv_json_key(&j, "village");
        tv_json_string(&j, v->village);
        tv_json_key(&j, "owner_phone");
        tv_json_string(&j, v->owner_phone);
        tv_json_key(&j, "from");
        tv_json_string(&j, f);
        tv_json_key(&j, "to");
        tv_json_string(&j, t);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
        return;
    }
    printf("  %.10s %.5s-%.5s  %s%s%s  (%s, owner %s)\n", f, f + 11, t + 11, tv_text_esc(v->name),
           v->village[0] ? ", " : "", tv_text_esc(v->village), vid,
           v->owner_phone[0] ? tv_text_esc(v->owner_phone) : "-");
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
    uint64_t case_no = ++a->cases, shown = 0;
    for (size_t i = 0; i < np; i++) {
        int64_t from = p[i].from_ms > cs.window_from ? p[i].from_ms : cs.window_from;
        int64_t end = p[i].to_ms < to ? p[i].to_ms : to;
        if (end <= from) continue;
        store_venue v;
        if (store_venue_get(a->t, p[i].venue, &v)) continue; /* not a venue held here */
        if (!a->all && strcmp(v.unit, a->n->unit) != 0) continue;
        if (shown++ == 0 && !a->json) {
            char d[TV_TIME_STR_BYTES], wf[TV_TIME_STR_BYTES], wt[TV_TIME_STR_BYTES] = "now";
            tv_time_format_vn(d, sizeof d, cs.declared_ms);
            tv_time_format_vn(wf, sizeof wf, cs.window_from);
            if (cs.window_to != TV_WINDOW_OPEN) tv_time_format_vn(wt, sizeof wt, cs.window_to);
            printf("case %" PRIu64 " (declared %.16s; infectious %.16s .. %.16s):\n", case_no, d,
                   wf, wt);
        }
        alert_print(a, case_no, &cs, &v, from, end);
        a->windows++;
    }
    free(p);
    return TV_OK;
}

/* A commune: the exposure windows sealed for it, at its venues (or, with --all, at any
 * venue it holds); a window sealed again with a later end counts once, with that end. */
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
        if (a->windows == 0 && !a->json)
            printf("a confirmed case was at these venues in its infectious window:\n");
        alert_print(a, 0, NULL, &v, x->from_ms, x->to_ms);
        a->windows++;
    }
    return TV_OK;
}

static int cmd_alerts(tv_cli *cli, int argc, char **argv)
{
    alert_ctx a = {.now_ms = tv_wall_ms()};
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'a':
            a.all = 1;
            break;
        }
    }
    if (c < 0) return ta.status;
    a.json = ta.o.json;
    if (optind < argc) return tv_cli_usage("alerts", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    a.n = &n;
    tv_opened o = {0};
    if ((rc = store_read_begin(n.st, &a.t)) == 0) {
        if (tv_node_opens_health(&n))
            rc = tv_cases_each_person(a.t, alert_person, &a);
        else if ((rc = tv_opened_load(&n, a.t, &o)) == 0)
            rc = alert_exposures(&a, &o);
        store_read_end(a.t);
    }
    tv_opened_release(&o);
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "the alerts could not be worked out");
    if (!a.json && a.windows == 0)
        fprintf(stderr,
                "no confirmed case was at %s in its infectious window (as far as this "
                "node holds).\n",
                a.all ? "a venue held here" : "this unit's venues");
    return TV_EXIT_OK;
}
