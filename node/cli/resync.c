/* `truyvet resync`: whether a restored or copied node waits for a sync, and the operator's
 * override of that (resync.h). */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/resync.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <string.h>

static int cmd_resync(tv_cli *cli, int argc, char **argv);

static const tv_opt resync_opts[] = {
    {"override", 'o', NULL,
     "let the node record now, without a sync: only when no parent can\n"
     "hold anything newer of its log (the province has no parent; or the\n"
     "copy is known to be the latest). The override, its reason and the\n"
     "node's own seq are appended to DIR/" TV_RESYNC_LOG " before it takes\n"
     "effect; 'truyvet status' shows them.",
     0, 0},
    {.id = TV_O_REASON, .help = "why (1 to 200 bytes, no control characters)"},
    {0}};

const tv_command tv_command_resync = {
    .name = "resync",
    .summary = "whether a restored or copied node waits for a sync; override that",
    .usage = "resync [--override --reason TEXT]",
    .about = "A node whose store was restored from a backup or copied refuses to record (exit\n"
             "status 3) until it has synced once with a parent ('truyvet sync --once', or the\n"
             "server in step with one): its parents may hold events of its log written after the\n"
             "copy was made, and recording on the copy would write other events at the same\n"
             "places -- a fork, which freezes the node at every node that sees both branches.\n"
             "\n"
             "Without options, says whether this node waits for such a sync, and lists\n"
             "DIR/" TV_RESYNC_LOG ": when the restore was seen, and how the wait ended.\n",
    .opts = resync_opts,
    .more = NULL,
    .fn = cmd_resync,
    .col = 13,
};

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

static int cmd_resync(tv_cli *cli, int argc, char **argv)
{
    const char *reason = NULL;
    int override = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        if (c == 'o') override = 1;
    }
    if (c < 0) return ta.status;
    reason = ta.o.reason;
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
