/* `truyvet revoke`: withdraw a node's certificate. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/enroll.h"

#include <stdio.h>

static int cmd_revoke(tv_cli *cli, int argc, char **argv);

const tv_command tv_command_revoke = {
    .name = "revoke",
    .summary = "withdraw a node's certificate",
    .usage = "revoke NODEID [--reason TEXT]",
    .about =
        "Withdraw the certificate of node NODEID (its 64 hex digits, as 'truyvet status' or\n"
        "'truyvet log' show them), e.g. for a stolen laptop: a `revoke` event is recorded in\n"
        "this node's log, and every node that receives it refuses NODEID's data from then on.\n"
        "Only the province (the root) or the node that issued NODEID's certificate may do\n"
        "this. A revoked key is never trusted again: the node must be set up anew.\n",
    .opts = (const tv_opt[]){{.id = TV_O_REASON, .help = "why, for the record (at most 255 bytes)"},
                             {0}},
    .more = "Prints the revocation's event id.\n",
    .fn = cmd_revoke,
    .col = 13,
};

static int cmd_revoke(tv_cli *cli, int argc, char **argv)
{
    tv_args a;
    if (tv_args_only(&a, cli, argc, argv)) return a.status;
    int rc;
    if (optind + 1 != argc) return tv_cli_usage("revoke", "revoke needs exactly one NODEID.");
    uint8_t subject[TV_NODE_ID_BYTES];
    if (tv_hex_decode(subject, sizeof subject, argv[optind]))
        return tv_cli_usage("revoke", "'%s' is not a node id: a node id has 64 hex digits.",
                            argv[optind]);
    if (a.o.reason && (rc = tv_cli_text("revoke", "reason", a.o.reason, CRDT_TEXT_BYTES_MAX)))
        return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    char why[TV_ENROLL_WHY_MAX] = "";
    uint64_t seq;
    rc = tv_enroll_revoke(&n, subject, a.o.reason, &seq, why);
    char id[TV_EVENT_ID_STR_MAX];
    tv_event_id_format(id, n.id.pk, seq);
    tv_node_close(&n);
    if (rc == TV_EEXIST) {
        tv_cli_error("%s; nothing was recorded.", why);
        return TV_EXIT_OK;
    }
    if (rc) return tv_cli_enroll_fail(cli, rc, "cannot revoke", why);
    puts(id);
    fprintf(stderr,
            "revoked node %.16s...; other nodes refuse its data once this revocation "
            "reaches them\n",
            argv[optind]);
    return TV_EXIT_OK;
}
