/* `truyvet serve`: run on the network: listen, connect to parents, stay in step. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/daemon/daemon.h"
#include "node/render/json.h"
#include "node/daemon/netconf.h"
#include "node/web/web.h"

#include <pthread.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* how often a server with nothing to sync yet looks again (serve_run) */
#define TV_SERVE_RETRY_S 2

static int cmd_serve(tv_cli *cli, int argc, char **argv);

static const tv_opt serve_opts[] = {
    {"verbose", 'v', NULL, "log each session's steps (and each request to the console)", 0, 0},
    {"http", 'H', "ADDR",
     "serve the web console on ADDR (HOST:PORT; default " TV_WEB_ADDR_DEFAULT ",\n"
     "this machine only; 0.0.0.0:8080 for the office LAN; port 0: any\n"
     "free port); 'off': no console",
     0, 0},
    {0}};

const tv_command tv_command_serve = {
    .name = "serve",
    .summary = "run on the network: listen, connect to parents, stay in step",
    .usage = "serve [--http ADDR|off] [--verbose]",
    .about =
        "Run the node on the network until stopped (SIGTERM or Ctrl-C): listen on the\n"
        "configured endpoint for children and peers, connect to the first reachable parent\n"
        "(the district, else the province), and keep every link in step: what this node\n"
        "holds and a peer should hold is sent as soon as the link allows, and the other way\n"
        "round. Only enrolled, unrevoked nodes get in (CurveZMQ with the node keys). Logs go\n"
        "to stderr; the state of each session is written to DIR/peers.json ('truyvet peers').\n"
        "\n"
        "It also serves the node's web console, in Vietnamese, for the people who work in a\n"
        "browser (clerks, guards, venue owners, health officers): on this machine only\n"
        "unless --http says otherwise. Its address is written to DIR/console.url. Accounts\n"
        "are made with 'truyvet user add'. A node with nothing to sync with yet (no peer,\n"
        "not enrolled) serves the console alone, and starts to sync once it has (a\n"
        "certificate accepted in the console, a peer added) without a restart.\n",
    .opts = serve_opts,
    .more = "Configure with 'truyvet peer listen ENDPOINT' and 'truyvet peer add ENDPOINT\n"
            "--parent'. Scans can be recorded while the server runs.\n",
    .fn = cmd_serve,
};

/* Runs the network loop (and the console beside it) until stopped. Returns 0 or the loop's
 * error. A loop with nothing to do yet (not enrolled; no endpoint, parent or peer) leaves
 * the console serving and is tried again every TV_SERVE_RETRY_S seconds, so that a
 * certificate accepted meanwhile (in the console or with `enroll accept`), or a peer
 * added, starts the sync without a restart. */
static int serve_run(tv_node *n, tv_web *web, pthread_mutex_t *mu, int verbose)
{
    tv_purge_chore purge = {0}; /* the daemon's and, while it cannot run, this loop's */
    tv_daemon_opts o = {
        .listen = 1, .verbose = verbose, .stop = &tv_cli_stop, .mu = mu, .purge = &purge};
    tv_daemon_result r;
    int said = 0;
    for (;;) {
        int rc = tv_daemon_run(n, &o, &r);
        int idle = rc == TV_EUNTRUSTED || rc == TV_EINVAL;
        /* a sync that fails as it starts stops the server, as it always has; once the
         * console has served alone (an operator enrolling the node there), it stays */
        if (!web || rc == 0 || (!idle && !said)) return rc;
        if (tv_cli_stop) return 0; /* stopped meanwhile: the console served to the end */
        pthread_mutex_lock(mu);    /* what a node records before it syncs is purged too */
        tv_daemon_purge_chore(n, &purge, tv_wall_ms());
        pthread_mutex_unlock(mu);
        if (said != rc && idle) {
            fprintf(stderr,
                    "truyvet: %s; serving the console only (the sync starts once there is)\n",
                    rc == TV_EUNTRUSTED ? "not enrolled yet, so no sync"
                                        : "no endpoint to listen on and no parent or peer");
        } else if (said != rc) {
            fprintf(stderr,
                    "truyvet: the sync stopped (%s); serving the console only, trying "
                    "again every %d s\n",
                    tv_strerror(rc), TV_SERVE_RETRY_S);
        }
        said = rc;
        sigset_t block, old;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        pthread_sigmask(SIG_BLOCK, &block, &old);
        /* a signal that came before is seen here; one that comes after ends the wait */
        if (!tv_cli_stop) {
            struct timespec ts = {TV_SERVE_RETRY_S, 0};
            int sig = sigtimedwait(&block, NULL, &ts);
            if (sig > 0) tv_cli_stop = sig;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (tv_cli_stop) return 0;
    }
}

/* Unlocks n when neither the keyring nor a credential did: asks once, at start. Returns 0
 * or an exit status after a message. */
static int serve_unlock(tv_cli *cli, tv_node *n)
{
    if (n->unlocked) return 0;
    tv_pass p;
    int rc = tv_cli_pass_get(NULL, 0, "Passphrase of the node: ", 0, &p);
    if (rc == TV_OK) {
        rc = tv_node_unlock(n, p.p, p.len);
        tv_cli_pass_free(&p);
        if (rc == TV_EPASSPHRASE)
            rc = tv_cli_wrong_passphrase();
        else if (rc)
            rc = tv_cli_fail(cli, rc, "cannot open the node's secrets");
    } else if (rc == TV_EXIT_USAGE) {
        rc = tv_cli_fail(cli, TV_ELOCKED, "cannot serve"); /* no terminal to ask */
    }
    return rc;
}

/* Starts the console on addr (NULL: the default, which may be taken: then none). Returns 0
 * with *web (NULL: no console), or an exit status after a message. */
static int serve_web(tv_node *n, const char *addr, pthread_mutex_t *mu, int verbose, tv_web **web)
{
    *web = NULL;
    if (addr && strcmp(addr, "off") == 0) return 0;
    tv_web_opts wo = {.addr = addr ? addr : TV_WEB_ADDR_DEFAULT, .mu = mu, .verbose = verbose};
    /* the console's threads inherit a mask without SIGTERM and SIGINT: they reach this one */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    int rc = tv_web_start(n, &wo, web);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == TV_EINVAL)
        return tv_cli_usage("serve",
                            "--http takes HOST:PORT (127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080) "
                            "or off, not '%s'.",
                            addr);
    if (rc && !addr) {
        fprintf(stderr, "truyvet: no web console: cannot listen on %s (%s)\n", TV_WEB_ADDR_DEFAULT,
                strerror(errno));
        return 0;
    }
    if (rc) {
        tv_cli_error("cannot serve the console on %s (%s).", addr, strerror(errno));
        return TV_EXIT_FAIL;
    }
    fprintf(stderr, "truyvet: console on %s\n", tv_web_url(*web));
    return 0;
}

static int cmd_serve(tv_cli *cli, int argc, char **argv)
{
    int verbose = 0, c;
    const char *http = NULL;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        if (c == 'v') verbose = 1;
        if (c == 'H') http = optarg;
    }
    if (c < 0) return ta.status;
    if (optind < argc) return tv_cli_usage("serve", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    if ((rc = serve_unlock(cli, &n))) {
        tv_node_close(&n);
        return rc;
    }
    tv_cli_stop_on_signals();
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    tv_web *web;
    if ((rc = serve_web(&n, http, &mu, verbose, &web))) {
        tv_node_close(&n);
        return rc;
    }
    rc = serve_run(&n, web, &mu, verbose);
    tv_web_stop(web);
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
