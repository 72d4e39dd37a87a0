/* `truyvet status`: what the node is and holds. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/status.h"
#include "node/render/status.h"

static int cmd_status(tv_cli *cli, int argc, char **argv);

static const tv_opt status_opts[] = {{.id = TV_O_JSON}, {0}};

const tv_command tv_command_status = {
    .name = "status",
    .summary = "what the node is and holds",
    .usage = "status [--json]",
    .about =
        "The node's identity, its enrolment (the root of trust it follows and its own\n"
        "certificate), what it holds (events by type, batches, origins), the last event held\n"
        "from each origin (the frontier), and the size of its store.\n"
        "\n"
        "With --json, \"root\" is the root's node id or null (not enrolled), \"cert\" this node's\n"
        "certificate or null, \"revoked\" whether this node's key has been revoked.\n"
        "\"forks\" lists each batch kept as evidence of a fork (an origin that wrote two\n"
        "different events at one seq; its scans are tracing data all the same), \"fork_origins\"\n"
        "each such origin with its evidence batches and whether it is frozen. \"resync\" says\n"
        "whether this node's store was restored or copied and waits for a sync before it may\n"
        "record (\"required\", \"since\"), with the lines of DIR/resync.log (\"log\").\n"
        "\"checkpoints_waiting\" lists each origin whose checkpoint (up to \"upto\") has not yet\n"
        "carried the events held here from \"held_seq\" on (rule R2): they are kept meanwhile.\n"
        "\"pseudonym_key\" is the kind of key the node computes person pseudonyms with: \"local\"\n"
        "(not enrolled, or a commune waiting for its key), \"commune\", \"province\" (a health\n"
        "node) or \"none\" (a district without the health flag).\n",
    .opts = status_opts,
    .more = NULL,
    .fn = cmd_status,
    .col = 0,
};

/* --- status ------------------------------------------------------------------------- */

static int cmd_status(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_only(cli, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    tv_status s;
    rc = tv_status_get(&n, cli->dir, &s);
    if (!rc) {
        if (json)
            rc = tv_render_status_json(stdout, &n, cli->dir, &s);
        else
            tv_render_status_text(stdout, &n, cli->dir, &s);
    }
    tv_status_free(&s);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot read the node's status") : TV_EXIT_OK;
}
