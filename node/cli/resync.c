/* `truyvet resync`: whether a restored or copied node waits for a sync, and the operator's
 * override of that (resync.h). */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/logic/resync.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <string.h>

static const char help[] =
    "Usage: truyvet [-d DIR] resync [--override --reason TEXT]\n"
    "\n"
    "A node whose store was restored from a backup or copied refuses to record (exit\n"
    "status 3) until it has synced once with a parent ('truyvet sync --once', or the\n"
    "server in step with one): its parents may hold events of its log written after the\n"
    "copy was made, and recording on the copy would write other events at the same\n"
    "places -- a fork, which freezes the node at every node that sees both branches.\n"
    "\n"
    "Without options, says whether this node waits for such a sync, and lists\n"
    "DIR/" TV_RESYNC_LOG ": when the restore was seen, and how the wait ended.\n"
    "\n"
    "  --override     let the node record now, without a sync: only when no parent can\n"
    "                 hold anything newer of its log (the province has no parent; or the\n"
    "                 copy is known to be the latest). The override, its reason and the\n"
    "                 node's own seq are appended to DIR/" TV_RESYNC_LOG " before it takes\n"
    "                 effect; 'truyvet status' shows them.\n"
    "  --reason TEXT  why (1 to 200 bytes, no control characters)\n";

static int show_line(const char *when, const char *kind, const char *detail, void *arg)
{
    (void)arg;
    printf("%s  %s: %s\n", when, kind, detail);
    return 0;
}

/* Prints whether the node waits for a sync, and its resync log. */
static int show(tv_cli *cli)
{
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    store_txn *t;
    int64_t since = 0;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = tv_resync_required(t, &since);
        store_read_end(t);
    }
    tv_node_close(&n);
    if (rc < 0) return tv_cli_fail(cli, rc, "cannot read the node's state");
    if (rc) {
        char when[40];
        tv_time_format_vn(when, sizeof when, since);
        printf("this node's store was restored or copied (seen %s): it records nothing until "
               "it has synced once with a parent\n",
               when);
    } else {
        printf("this node may record\n");
    }
    rc = tv_resync_log_foreach(cli->dir, show_line, NULL);
    return rc ? tv_cli_fail(cli, rc, "cannot read " TV_RESYNC_LOG) : TV_EXIT_OK;
}

int tv_cmd_resync(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"override", no_argument, 0, 'o'},
                                         {"reason", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *reason = NULL;
    int override = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'o')
            override = 1;
        else if (c == 'r')
            reason = optarg;
        else if (c == 'h') {
            fputs(help, stdout);
            return TV_EXIT_OK;
        } else
            return tv_cli_bad_option("resync", c, argv);
    }
    if (optind < argc) return tv_cli_usage("resync", "unexpected argument '%s'.", argv[optind]);
    if (!override && reason) return tv_cli_usage("resync", "--reason goes with --override.");
    if (!override) return show(cli);
    if (!reason || tv_resync_reason_check(reason))
        return tv_cli_usage("resync",
                            "--override needs --reason TEXT: 1 to %d bytes, no control "
                            "characters.",
                            TV_RESYNC_REASON_MAX);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    rc = tv_resync_override(&n, reason);
    tv_node_close(&n);
    if (rc == TV_ENOTFOUND) {
        tv_cli_error("this node is not waiting for a sync (its store was not restored or "
                     "copied since it last synced): nothing to override.");
        return TV_EXIT_FAIL;
    }
    if (rc) return tv_cli_fail(cli, rc, "the override was NOT recorded");
    printf("override logged in %s/%s: this node records again, after its own log as it "
           "holds it\n",
           cli->dir, TV_RESYNC_LOG);
    return TV_EXIT_OK;
}
