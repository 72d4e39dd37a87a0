/* `truyvet serve`: run on the network: listen, connect to parents, stay in step. */
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

static int cmd_serve(tv_cli *cli, int argc, char **argv);

static const tv_opt serve_opts[] = {{"verbose", 'v', NULL, "log each session's steps", 0, 0}, {0}};

const tv_command tv_command_serve = {
    .name = "serve",
    .summary = "run on the network: listen, connect to parents, stay in step",
    .usage = "serve [--verbose]",
    .about =
        "Run the node on the network until stopped (SIGTERM or Ctrl-C): listen on the\n"
        "configured endpoint for children and peers, connect to the first reachable parent\n"
        "(the district, else the province), and keep every link in step: what this node\n"
        "holds and a peer should hold is sent as soon as the link allows, and the other way\n"
        "round. Only enrolled, unrevoked nodes get in (CurveZMQ with the node keys). Logs go\n"
        "to stderr; the state of each session is written to DIR/peers.json ('truyvet peers').\n",
    .opts = serve_opts,
    .more = "Configure with 'truyvet peer listen ENDPOINT' and 'truyvet peer add ENDPOINT\n"
            "--parent'. Scans can be recorded while the server runs.\n",
    .fn = cmd_serve,
};

static int cmd_serve(tv_cli *cli, int argc, char **argv)
{
    int verbose = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        if (c == 'v') verbose = 1;
    }
    if (c < 0) return ta.status;
    if (optind < argc) return tv_cli_usage("serve", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    if (!n.unlocked) {
        /* neither the keyring nor a credential: ask once, at start */
        tv_pass p;
        rc = tv_cli_pass_get(NULL, 0, "Passphrase of the node: ", 0, &p);
        if (rc == TV_OK) {
            rc = tv_node_unlock(&n, p.p, p.len);
            tv_cli_pass_free(&p);
            if (rc == TV_EPASSPHRASE)
                rc = tv_cli_wrong_passphrase();
            else if (rc)
                rc = tv_cli_fail(cli, rc, "cannot open the node's secrets");
        } else if (rc == TV_EXIT_USAGE) {
            rc = tv_cli_fail(cli, TV_ELOCKED, "cannot serve"); /* no terminal to ask */
        }
        if (rc) {
            tv_node_close(&n);
            return rc;
        }
    }
    tv_cli_stop_on_signals();
    tv_daemon_opts o = {.listen = 1, .verbose = verbose, .stop = &tv_cli_stop};
    tv_daemon_result r;
    rc = tv_daemon_run(&n, &o, &r);
    tv_node_close(&n);
    tv_cli_signal_exit(tv_cli_stop);
    if (rc == TV_EUNTRUSTED) {
        tv_cli_error("this node is not enrolled yet: ask the parent's operator for a "
                     "certificate ('truyvet enroll request'), then 'truyvet enroll accept'.");
        return TV_EXIT_FAIL;
    }
    if (rc == TV_EINVAL) {
        tv_cli_error("nothing to do: no endpoint to listen on and no parent or peer. See "
                     "'truyvet peer --help'.");
        return TV_EXIT_FAIL;
    }
    if (rc) return tv_cli_fail(cli, rc, "the server stopped");
    fprintf(stderr, "truyvet: stopped\n");
    return TV_EXIT_OK;
}
