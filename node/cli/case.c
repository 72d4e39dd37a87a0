/* `truyvet case`: confirmed cases and contacts, as the health authority sets them. */
#include "crdt/error.h"
#include "crdt/event.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/case.h"
#include "node/logic/health.h"
#include "node/logic/health_input.h"
#include "node/logic/node.h"
#include "node/render/case.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int case_add(tv_cli *cli, int argc, char **argv);
static int case_list(tv_cli *cli, int argc, char **argv);

static const tv_opt case_add_opts[] = {
    {.id = TV_O_PERSON,
     .help = "what the person's card QR holds, or a phone or ID number\n"
             "(--person is the same)"},
    {.name = "person", .id = TV_O_PERSON, .flags = TV_OPT_HIDDEN},
    {.id = TV_O_REF},
    {"status", 's', "STATUS", "F0 (confirmed), F1, F2 (contacts) or cleared", 0, 0},
    {"onset", 'o', "DATE",
     "symptom onset (F0) or exposure (F1, F2): a date or a time with\n"
     "its offset. An F0 needs --onset or --sampled: its infectious\n"
     "window starts two days before the onset (else the sample)",
     0, 0},
    {"sampled", 'S', "DATE", "the positive sample", 0, 0},
    {"at", 'a', "DATE",
     "when the status took effect, if not now (a clearing: the day the\n"
     "person was released; it closes the infectious window)",
     0, 0},
    {"unit", 'u', "CODE",
     "the unit the case counts under (its F0/F1 figures). Default:\n"
     "the commune where the person was recorded (of several, the\n"
     "latest record's), else this node's own unit",
     0, 0},
    {0}};

static const tv_command case_add_cmd = {
    .name = "add",
    .summary = "Set a person's status (a health node).",
    .usage = "case add (--payload TEXT | --ref HEX) --status STATUS\n"
             "                                 [--onset DATE] [--sampled DATE] [--at DATE]\n"
             "                                 [--unit CODE]",
    .opts = case_add_opts,
    .fn = case_add,
    .col = 15,
};

static const tv_opt case_list_opts[] = {
    {"status", 's', "STATUS", "only the people of this status: F0, F1, F2 or cleared", 0, 0},
    {.id = TV_O_JSON},
    {0}};

static const tv_command case_list_cmd = {
    .name = "list",
    .summary = "The people with a status, and their infectious windows.",
    .usage = "case list [--status STATUS] [--json]",
    .opts = case_list_opts,
    .fn = case_list,
    .col = 15,
};

const tv_command tv_command_case = {
    .name = "case",
    .summary = "confirmed cases and contacts (health nodes add them)",
    .about = "Confirmed cases and contacts, as the health authority sets them. Only a node whose\n"
             "certificate carries the health flag (the province's) may add a status. It travels\n"
             "sealed: health nodes read it; each commune that recorded the person gets the status\n"
             "(its gate shows the colour), and each commune the windows the case spent at its\n"
             "venues (`truyvet alerts`), nothing else. A person's status is the last one set.\n",
    .subs = (const tv_command *const[]){&case_add_cmd, &case_list_cmd, NULL},
};

/* --- case add / list -------------------------------------------------------------------- */

static int case_add(tv_cli *cli, int argc, char **argv)
{
    tv_case_input in = {0};
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 's':
            in.status = optarg;
            break;
        case 'o':
            in.onset = optarg;
            break;
        case 'S':
            in.sampled = optarg;
            break;
        case 'u':
            in.unit = optarg;
            break;
        case 'a':
            in.at = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    in.person = ta.o.person;
    in.ref = ta.o.ref;
    if (optind < argc) return tv_cli_usage("case", "unexpected argument '%s'.", argv[optind]);
    crdt_case cs;
    tv_why why;
    if (tv_case_input_parse(&in, tv_wall_ms(), &cs, &why))
        return tv_cli_usage("case", "%s", why.en);
    const char *unit = in.unit;
    int rc;

    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    tv_case_unit u = {.why = TV_CASE_UNIT_GIVEN};
    if (unit) snprintf(u.code, sizeof u.code, "%s", unit);
    rc = tv_cli_person_ref("case", &n, in.person, in.ref, cs.person);
    if (!rc && !unit && (rc = tv_case_default_unit(&n, cs.person, &u)))
        rc = tv_cli_fail(cli, rc, "the person's record could not be read");
    if (rc) {
        tv_node_close(&n);
        return rc;
    }
    cs.unit = (crdt_text){u.code, (uint32_t)strlen(u.code)};
    int recorded;
    if ((rc = tv_case_add(&n, &cs, tv_wall_ms(), &recorded)) && !recorded) {
        rc = tv_cli_health_refused(cli, rc, "case statuses", u.code);
    } else if (rc) {
        rc = tv_cli_fail(cli, rc,
                         "the status was recorded, but what the communes need of it "
                         "was not (the next 'serve' or import sends it)");
    } else {
        tv_case_added added;
        tv_case_added_read(&n, &cs, &added);
        tv_render_case_added_text(stdout, &added, &u);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

static int case_list(tv_cli *cli, int argc, char **argv)
{
    int filter = -1;
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 's':
            if ((filter = tv_case_status_parse(optarg)) < 0)
                return tv_cli_usage("case", "--status is F0, F1, F2 or cleared, not '%s'.", optarg);
            break;
        }
    }
    if (c < 0) return ta.status;
    int json = ta.o.json;
    if (optind < argc) return tv_cli_usage("case", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    tv_case_list l;
    rc = tv_case_list_run(&n, filter, &l);
    tv_node_close(&n);
    if (rc) {
        tv_case_list_free(&l);
        return tv_cli_fail(cli, rc, "the cases could not be read");
    }
    for (size_t i = 0; i < l.n; i++) {
        if (json)
            (void)tv_render_case_json(stdout, &l.rows[i]);
        else
            tv_render_case_text(stdout, &l.rows[i]);
    }
    if (!json && l.n == 0) fprintf(stderr, "this node holds no case status.\n");
    tv_case_list_free(&l);
    return TV_EXIT_OK;
}
