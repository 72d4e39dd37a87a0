/* `truyvet risk`: risk levels of units, set by a health node, in force at every node. */
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

static const char *const level_names[] = {"", "1 low (green)", "2 medium (yellow)",
                                          "3 high (orange)", "4 very high (red)"};

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
    if (!unit || !level || !from) return tv_cli_usage("risk", "give --unit, --level and --from.");
    if (!crdt_unit_code_valid(unit, strlen(unit)))
        return tv_cli_usage("risk", "'%s' is not a unit code (a village is <commune>.<village>).",
                            unit);
    if (strlen(level) != 1 || level[0] < '1' || level[0] > '0' + CRDT_RISK_LEVEL_MAX)
        return tv_cli_usage("risk", "--level is 1, 2, 3 or 4, not '%s'.", level);
    int rc;
    if (note && (rc = tv_cli_text("risk", "note", note, CRDT_TEXT_BYTES_MAX))) return rc;
    crdt_risk r = {.unit = {unit, (uint32_t)strlen(unit)},
                   .level = (uint8_t)(level[0] - '0'),
                   .note = {note, note ? (uint32_t)strlen(note) : 0}};
    rc = tv_cli_when_opt("risk", "--from", from, &r.from_ms);
    if (rc) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    /* a level spreads to every node: a mistyped code must not */
    if (!unlisted && (rc = tv_cli_unit_known("risk", &n, unit))) {
        tv_node_close(&n);
        return rc;
    }
    uint64_t seq;
    if ((rc = tv_node_add_risk(&n, &r, NULL)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        rc = tv_cli_health_refused(cli, rc, "risk levels", unit);
    } else {
        char w[TV_TIME_STR_BYTES];
        tv_time_format_vn(w, sizeof w, r.from_ms);
        printf("recorded: unit %s level %s from %s\n", unit, level_names[r.level], w);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

typedef struct show_ctx {
    store_txn *t;
    int64_t at_ms;
    int json;
    char unit[TV_UNIT_CODE_MAX + 1]; /* the unit being gathered */
    uint64_t shown;
} show_ctx;

static void risk_print(const show_ctx *s, const char *unit, const store_risk *r, const char *what)
{
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, r->from_ms);
    if (s->json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "unit");
        tv_json_string(&j, unit);
        char name[TV_CLI_UNIT_LABEL_BYTES];
        tv_cli_unit_name(s->t, unit, name, sizeof name);
        tv_json_key(&j, "unit_name");
        tv_json_string(&j, name);
        tv_json_key(&j, "state");
        tv_json_string(&j, what);
        tv_json_key(&j, "level");
        tv_json_u64(&j, r->level);
        tv_json_key(&j, "from");
        tv_json_string(&j, w);
        tv_json_key(&j, "set_for");
        tv_json_string(&j, r->unit);
        tv_json_key(&j, "note");
        tv_json_string(&j, r->note);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
        return;
    }
    char label[TV_CLI_UNIT_LABEL_BYTES];
    tv_cli_unit_label(s->t, unit, label, sizeof label);
    tv_cli_print_padded(label, 34);
    printf("  %-9s  level %-18s from %.16s%s%s%s%s\n", what, level_names[r->level], w,
           strcmp(r->unit, unit) ? "  (its commune's)" : "", r->note[0] ? "  \"" : "",
           tv_text_esc(r->note), r->note[0] ? "\"" : "");
}

/* The level in force for one unit, then the changes set for later. */
static int show_unit(show_ctx *s, const char *unit);

static int later_row(const store_risk *r, void *arg)
{
    show_ctx *s = arg;
    if (r->from_ms > s->at_ms) risk_print(s, s->unit, r, "from then");
    return TV_OK;
}

static int show_unit(show_ctx *s, const char *unit)
{
    store_risk r;
    int rc = store_risk_at(s->t, unit, s->at_ms, &r);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (rc == 0) risk_print(s, unit, &r, "in force");
    snprintf(s->unit, sizeof s->unit, "%s", unit);
    s->shown++;
    return store_risks_foreach(s->t, unit, later_row, s);
}

static int unit_row(const store_risk *r, void *arg)
{
    show_ctx *s = arg;
    if (strcmp(r->unit, s->unit) == 0) return TV_OK; /* shown with its first row */
    return show_unit(s, r->unit);
}

static int risk_show(tv_cli *cli, int argc, char **argv)
{
    const char *unit = NULL, *at = NULL;
    show_ctx s = {.at_ms = tv_wall_ms()};
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
    s.json = ta.o.json;
    if (optind < argc) return tv_cli_usage("risk", "unexpected argument '%s'.", argv[optind]);
    if (unit && !crdt_unit_code_valid(unit, strlen(unit)))
        return tv_cli_usage("risk", "'%s' is not a unit code.", unit);
    int rc;
    if (at && (rc = tv_cli_when_opt("risk", "--at", at, &s.at_ms))) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    if ((rc = store_read_begin(n.st, &s.t)) == 0) {
        if (unit) {
            rc = show_unit(&s, unit);
        } else {
            /* every unit with a level, each once (rows come by unit, then from) */
            rc = store_risks_foreach(s.t, NULL, unit_row, &s);
        }
        store_read_end(s.t);
    }
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "the risk levels could not be read");
    if (!s.json && s.shown == 0) fprintf(stderr, "this node holds no risk level.\n");
    return TV_EXIT_OK;
}
