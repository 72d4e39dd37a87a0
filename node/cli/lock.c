/* `truyvet lock`: forget the key 'truyvet unlock' kept. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/secret.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int cmd_lock(tv_cli *cli, int argc, char **argv);

const tv_command tv_command_lock = {
    .name = "lock",
    .summary = "forget them: commands that need them stop until 'truyvet unlock'",
    .usage = "lock",
    .about = "Forget the key 'truyvet unlock' kept: the node's later commands that need its\n"
             "secrets stop with exit status 4 until it is unlocked again. A server already\n"
             "running keeps its secrets until it stops.\n",
    .opts = (const tv_opt[]){{.id = TV_O_JSON,
                              .help = "accepted for scripts: lock prints nothing on standard\n"
                                      "output"},
                             {0}},
    .more = NULL,
    .fn = cmd_lock,
    .col = 0,
};

static int cmd_lock(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_only(cli, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_node_open(&n, cli->dir, 0))) return tv_cli_fail(cli, rc, "cannot open the node");
    rc = tv_node_forget_unlocked(&n);
    tv_node_close(&n);
    if (rc == TV_EIO) {
        tv_cli_error("cannot lock the node: the kernel keyring refused (%s).", strerror(errno));
        return TV_EXIT_FAIL;
    }
    fprintf(stderr, rc == TV_ENOTFOUND ? "the node was not unlocked\n" : "locked\n");
    return TV_EXIT_OK;
}
