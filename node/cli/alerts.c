/* `truyvet alerts`: when confirmed cases were at this commune's venues. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/alerts.h"
#include "node/logic/node.h"
#include "node/render/alerts.h"

#include <getopt.h>
#include <stdio.h>

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

static int cmd_alerts(tv_cli *cli, int argc, char **argv)
{
    int all = 0;
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'a':
            all = 1;
            break;
        }
    }
    if (c < 0) return ta.status;
    int json = ta.o.json;
    if (optind < argc) return tv_cli_usage("alerts", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    tv_alerts a;
    rc = tv_alerts_run(&n, all, tv_wall_ms(), &a);
    tv_node_close(&n);
    if (rc) {
        tv_alerts_free(&a);
        return tv_cli_fail(cli, rc, "the alerts could not be worked out");
    }
    if (json)
        (void)tv_render_alerts_json(stdout, &a);
    else
        tv_render_alerts_text(stdout, &a);
    if (!json && a.n == 0)
        fprintf(stderr,
                "no confirmed case was at %s in its infectious window (as far as this "
                "node holds).\n",
                all ? "a venue held here" : "this unit's venues");
    tv_alerts_free(&a);
    return TV_EXIT_OK;
}
