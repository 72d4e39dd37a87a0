/* `truyvet sync`: one exchange with a parent (sync --once), then exit. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/daemon/daemon.h"
#include "node/render/json.h"
#include "node/daemon/netconf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_sync(tv_cli *cli, int argc, char **argv);

static const tv_opt sync_opts[] = {
    {"once", 'o', NULL, "one exchange, then exit (required)", 0, 0},
    {"peer", 'p', "[NODEID@]ENDPOINT", "this parent, not the configured ones", 0, 0},
    {"timeout", 't', "S", "give up after S seconds (default 120)", 0, 0},
    {"verbose", 'v', NULL, "log the session's steps", 0, 0},
    {0}};

const tv_command tv_command_sync = {
    .name = "sync",
    .summary = "one exchange with a parent (sync --once), then exit",
    .usage = "sync --once [--peer [NODEID@]ENDPOINT] [--timeout S] [--verbose]",
    .about =
        "One full exchange with a parent, then exit: with the configured parents in order\n"
        "(falling back to the next when one is unreachable), or with --peer. Exit status 0\n"
        "when both sides are in step (each holds everything of the other's that it should),\n"
        "1 otherwise (unreachable, refused, timed out, or some batches refused), 2 for usage.\n"
        "For cron jobs: 'truyvet sync --once --timeout 600'.\n",
    .opts = sync_opts,
    .fn = cmd_sync,
    .col = 10,
};

/* Says how the exchange ended (rc and r from tv_daemon_run) and returns the exit status:
 * 0 when both sides are in step. */
static int sync_outcome(tv_cli *cli, int rc, const tv_daemon_result *r)
{
    if (rc == TV_EUNTRUSTED) {
        tv_cli_error("this node is not enrolled yet: it cannot prove who it is to a parent.");
        return TV_EXIT_FAIL;
    }
    if (rc == TV_ENOTFOUND || rc == TV_EINVAL) {
        tv_cli_error("no parent to sync with: add one with 'truyvet peer add ENDPOINT "
                     "--parent', or give --peer NODEID@ENDPOINT.");
        return TV_EXIT_FAIL;
    }
    if (rc) return tv_cli_fail(cli, rc, "the sync stopped");
    if (r->in_step) {
        printf("in step with %s: %llu events received, %llu sent%s\n", r->peer_endpoint,
               (unsigned long long)r->events_in, (unsigned long long)r->events_out,
               r->refused ? " (some batches refused)" : "");
        return TV_EXIT_OK;
    }
    tv_cli_error("not in step with %s: %s (%llu events received, %llu sent).",
                 r->peer_endpoint[0] ? r->peer_endpoint : "any parent",
                 r->error == TV_EBUSY ? "unreachable or timed out" : tv_strerror(r->error),
                 (unsigned long long)r->events_in, (unsigned long long)r->events_out);
    return TV_EXIT_FAIL;
}

static int cmd_sync(tv_cli *cli, int argc, char **argv)
{
    int once = 0, verbose = 0, c;
    const char *peer = NULL;
    long timeout = 120;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'o':
            once = 1;
            break;
        case 'p':
            peer = optarg;
            break;
        case 'v':
            verbose = 1;
            break;
        case 't': {
            char *end;
            timeout = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || timeout <= 0 || timeout > 86400)
                return tv_cli_usage("sync", "--timeout takes seconds, 1 to 86400.");
            break;
        }
        }
    }
    if (c < 0) return ta.status;
    if (optind < argc) return tv_cli_usage("sync", "unexpected argument '%s'.", argv[optind]);
    if (!once)
        return tv_cli_usage("sync", "say --once (for a continuous sync, run 'truyvet serve').");
    tv_net_link check;
    if (peer && tv_net_link_parse(peer, &check))
        return tv_cli_usage("sync",
                            "'%s' is not an endpoint like tcp://HOST:PORT (optionally "
                            "NODEID@tcp://HOST:PORT).",
                            peer);
    tv_node n;
    int rc = tv_cli_open(cli, &n, TV_NODE_SECRET); /* the transport key */
    if (rc) return rc;
    tv_cli_stop_on_signals();
    tv_daemon_opts o = {.once = 1,
                        .peer = peer,
                        .timeout_ms = timeout * 1000,
                        .verbose = verbose,
                        .stop = &tv_cli_stop};
    tv_daemon_result r;
    rc = tv_daemon_run(&n, &o, &r);
    tv_node_close(&n);
    tv_cli_signal_exit(tv_cli_stop);
    return sync_outcome(cli, rc, &r);
}
