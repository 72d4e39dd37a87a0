/* `truyvet audit`: every full view of a person's details this node knows of. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/audit.h"
#include "node/render/audit.h"

#include <getopt.h>
#include <stdio.h>

static int cmd_audit(tv_cli *cli, int argc, char **argv);

const tv_command tv_command_audit = {
    .name = "audit",
    .summary = "every full view of a person's details, who and why",
    .usage = "audit [--json]",
    .about = "List every full view of a person's details this node knows of (its own and those\n"
             "synced from other health nodes): when, which node, whose pseudonym, and why.\n",
    .opts = (const tv_opt[]){{.id = TV_O_JSON}, {0}},
    .fn = cmd_audit,
};

static int cmd_audit(tv_cli *cli, int argc, char **argv)
{
    tv_args ta;
    if (tv_args_only(&ta, cli, argc, argv)) return ta.status;
    int json = ta.o.json, rc;
    if (optind < argc) return tv_cli_usage("audit", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    tv_audit a;
    rc = tv_audit_get(&n, &a);
    for (size_t i = 0; !rc && i < a.n; i++) {
        if (json)
            (void)tv_render_audit_row_json(stdout, &a.rows[i]);
        else
            tv_render_audit_row_text(stdout, &a.rows[i]);
    }
    if (rc)
        rc = tv_cli_fail(cli, rc, "the audit could not be read");
    else if (!json && a.n == 0)
        fprintf(stderr, "no reveal recorded\n");
    tv_audit_free(&a);
    tv_node_close(&n);
    return rc;
}
