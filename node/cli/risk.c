/* `truyvet risk`: risk levels of units, set by a health node, in force at every node. */
#include "crdt/error.h"
#include "crdt/event.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/health_input.h"
#include "node/logic/node.h"
#include "node/logic/risk.h"
#include "node/render/risk.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int risk_set(tv_cli *cli, int argc, char **argv);
static int risk_show(tv_cli *cli, int argc, char **argv);

static const tv_opt risk_set_opts[] = {
    {"unit", 'u', "CODE",
     "the unit (a commune, the province, or a village): an official\n"
     "unit, one this node knows from 'unit add', or a village of one",
     0, 0},
    {"unlisted", 'U', NULL, "take a code that is none of these", 0, 0},
    {"level", 'l', "N", "1..4", 0, 0},
    {"from", 'f', "DATE", "when it takes effect: 'today', a date, or a time with its offset", 0, 0},
    {"note", 'n', "TEXT", "why (shown with the level)", TV_OPT_TEXT, 0},
    {0}};

static const tv_command risk_set_cmd = {
    .name = "set",
    .summary = "Set a unit's level from a date (a health node).",
    .usage = "risk set --unit CODE --level 1..4 --from DATE [--note TEXT]\n"
             "                                 [--unlisted]",
    .opts = risk_set_opts,
    .fn = risk_set,
    .col = 12,
};

static const tv_opt risk_show_opts[] = {
    {"unit", 'u', "CODE", "only this unit (a commune, the province, or a village)", 0, 0},
    {"at", 'a', "DATE", "show the levels in force then (default: now)", 0, 0},
    {.id = TV_O_JSON},
    {0}};

static const tv_command risk_show_cmd = {
    .name = "show",
    .summary = "The levels in force, and those announced.",
    .usage = "risk show [--unit CODE] [--at DATE] [--json]",
    .opts = risk_show_opts,
    .fn = risk_show,
    .col = 12,
};

const tv_command tv_command_risk = {
    .name = "risk",
    .summary = "risk levels of units (health nodes set them)",
    .about = "Risk levels of units (Resolution 128/NQ-CP: 1 low/green, 2 medium/yellow, 3 high/\n"
             "orange, 4 very high/red). Only a health node may set them; a level takes effect at\n"
             "--from as given (announce a raise 48 hours ahead) and flows down to every node. A\n"
             "village is a local unit written <commune code>.<village> (22333.03); one without a\n"
             "level of its own has its commune's.\n",
    .subs = (const tv_command *const[]){&risk_set_cmd, &risk_show_cmd, NULL},
};

/* --- risk set / show -------------------------------------------------------------------- */

static int risk_set(tv_cli *cli, int argc, char **argv)
{
    const char *unit = NULL, *level = NULL, *from = NULL, *note = NULL;
    int c, unlisted = 0;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'u':
            unit = optarg;
            break;
        case 'l':
            level = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 'n':
            note = optarg;
            break;
        case 'U':
            unlisted = 1;
            break;
        }
    }
    if (c < 0) return ta.status;
    if (optind < argc) return tv_cli_usage("risk", "unexpected argument '%s'.", argv[optind]);
    tv_risk_input in = {.unit = unit, .level = level, .from = from, .note = note};
    crdt_risk r;
    tv_why why;
    if (tv_risk_input_parse(&in, tv_wall_ms(), &r, &why)) return tv_cli_usage("risk", "%s", why.en);
    int rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    /* a level spreads to every node: a mistyped code must not */
    if (!unlisted && (rc = tv_cli_unit_known("risk", &n, unit))) {
        tv_node_close(&n);
        return rc;
    }
    if ((rc = tv_risk_set(&n, &r))) {
        rc = tv_cli_health_refused(cli, rc, "risk levels", unit);
    } else {
        tv_render_risk_set_text(stdout, &r);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

static int risk_show(tv_cli *cli, int argc, char **argv)
{
    const char *unit = NULL, *at = NULL;
    int64_t at_ms = tv_wall_ms();
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'u':
            unit = optarg;
            break;
        case 'a':
            at = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    int json = ta.o.json;
    if (optind < argc) return tv_cli_usage("risk", "unexpected argument '%s'.", argv[optind]);
    if (unit && !crdt_unit_code_valid(unit, strlen(unit)))
        return tv_cli_usage("risk", "'%s' is not a unit code.", unit);
    int rc;
    if (at && (rc = tv_cli_when_opt("risk", "--at", at, &at_ms))) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    tv_risk_view v;
    rc = tv_risk_view_run(&n, unit, at_ms, &v);
    tv_node_close(&n);
    if (rc) {
        tv_risk_view_free(&v);
        return tv_cli_fail(cli, rc, "the risk levels could not be read");
    }
    for (size_t i = 0; i < v.n; i++) {
        if (json)
            (void)tv_render_risk_json(stdout, &v.rows[i]);
        else
            tv_render_risk_text(stdout, &v.rows[i]);
    }
    if (!json && v.units == 0) fprintf(stderr, "this node holds no risk level.\n");
    tv_risk_view_free(&v);
    return TV_EXIT_OK;
}
