/* `truyvet serve`, `truyvet sync`, `truyvet peer` and `truyvet peers`: the network. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/daemon/daemon.h"
#include "node/render/json.h"
#include "node/daemon/netconf.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    stop_flag = sig; /* which one: a SIGINT is passed on (tv_cli_signal_exit) */
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static const char serve_help[] =
    "Usage: truyvet [-d DIR] serve [--verbose]\n"
    "\n"
    "Run the node on the network until stopped (SIGTERM or Ctrl-C): listen on the\n"
    "configured endpoint for children and peers, connect to the first reachable parent\n"
    "(the district, else the province), and keep every link in step: what this node\n"
    "holds and a peer should hold is sent as soon as the link allows, and the other way\n"
    "round. Only enrolled, unrevoked nodes get in (CurveZMQ with the node keys). Logs go\n"
    "to stderr; the state of each session is written to DIR/peers.json ('truyvet peers').\n"
    "\n"
    "Configure with 'truyvet peer listen ENDPOINT' and 'truyvet peer add ENDPOINT\n"
    "--parent'. Scans can be recorded while the server runs.\n";

static const char sync_help[] =
    "Usage: truyvet [-d DIR] sync --once [--peer [NODEID@]ENDPOINT] [--timeout S]\n"
    "\n"
    "One full exchange with a parent, then exit: with the configured parents in order\n"
    "(falling back to the next when one is unreachable), or with --peer. Exit status 0\n"
    "when both sides are in step (each holds everything of the other's that it should),\n"
    "1 otherwise (unreachable, refused, timed out, or some batches refused), 2 for usage.\n"
    "For cron jobs: 'truyvet sync --once --timeout 600'.\n"
    "\n"
    "  --timeout S  give up after S seconds (default 120)\n";

static const char peer_help[] =
    "Usage: truyvet [-d DIR] peer COMMAND ...\n"
    "\n"
    "  peer listen ENDPOINT           listen there, e.g. tcp://0.0.0.0:7400 ('-' for none)\n"
    "  peer add [NODEID@]ENDPOINT [--parent]\n"
    "                                 a parent (in the order added: nearest first) or a\n"
    "                                 neighbouring peer; without NODEID a parent's key is\n"
    "                                 taken from this node's certificate chain\n"
    "  peer remove ENDPOINT           forget a parent or peer\n"
    "  peer list [--json]             the configuration\n";

static const char peers_help[] =
    "Usage: truyvet [-d DIR] peers [--json]\n"
    "\n"
    "The sessions of the running server (from DIR/peers.json): per peer its state, last\n"
    "contact, bytes and events each way, and how far behind each side is.\n";

int tv_cmd_serve(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int verbose = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'v')
            verbose = 1;
        else if (c == 'h') {
            fputs(serve_help, stdout);
            return TV_EXIT_OK;
        } else
            return tv_cli_bad_option("serve", c, argv);
    }
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
    install_signals();
    tv_daemon_opts o = {.listen = 1, .verbose = verbose, .stop = &stop_flag};
    tv_daemon_result r;
    rc = tv_daemon_run(&n, &o, &r);
    tv_node_close(&n);
    tv_cli_signal_exit(stop_flag);
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

int tv_cmd_sync(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"once", no_argument, 0, 'o'},          {"peer", required_argument, 0, 'p'},
        {"timeout", required_argument, 0, 't'}, {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    int once = 0, verbose = 0, c;
    const char *peer = NULL;
    long timeout = 120;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
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
        case 'h':
            fputs(sync_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("sync", c, argv);
        }
    }
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
    install_signals();
    tv_daemon_opts o = {.once = 1,
                        .peer = peer,
                        .timeout_ms = timeout * 1000,
                        .verbose = verbose,
                        .stop = &stop_flag};
    tv_daemon_result r;
    rc = tv_daemon_run(&n, &o, &r);
    tv_node_close(&n);
    tv_cli_signal_exit(stop_flag);
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
    if (r.in_step) {
        printf("in step with %s: %llu events received, %llu sent%s\n", r.peer_endpoint,
               (unsigned long long)r.events_in, (unsigned long long)r.events_out,
               r.refused ? " (some batches refused)" : "");
        return TV_EXIT_OK;
    }
    tv_cli_error("not in step with %s: %s (%llu events received, %llu sent).",
                 r.peer_endpoint[0] ? r.peer_endpoint : "any parent",
                 r.error == TV_EBUSY ? "unreachable or timed out" : tv_strerror(r.error),
                 (unsigned long long)r.events_in, (unsigned long long)r.events_out);
    return TV_EXIT_FAIL;
}

typedef struct peer_ctx {
    int op; /* 'l' listen, 'a' add, 'r' remove */
    const char *arg;
    int parent;
    int result; /* TV_ENOTFOUND when removing what is not there, TV_EEXIST, TV_ELIMIT */
} peer_ctx;

static int peer_fn(store_txn *t, void *arg)
{
    peer_ctx *p = arg;
    tv_netconf c;
    int rc = tv_netconf_get(t, &c);
    if (rc) return rc;
    p->result = TV_OK;
    if (p->op == 'l') {
        if (strcmp(p->arg, "-") == 0)
            c.listen[0] = '\0';
        else
            snprintf(c.listen, sizeof c.listen, "%s", p->arg);
    } else {
        tv_net_link l;
        if (tv_net_link_parse(p->arg, &l)) return TV_EINVAL;
        uint32_t found = c.len;
        for (uint32_t i = 0; i < c.len; i++)
            if (strcmp(c.links[i].endpoint, l.endpoint) == 0) found = i;
        if (p->op == 'r') {
            if (found == c.len) {
                p->result = TV_ENOTFOUND;
                return TV_OK;
            }
            memmove(&c.links[found], &c.links[found + 1], (c.len - found - 1) * sizeof l);
            c.len--;
        } else {
            if (found != c.len) {
                p->result = TV_EEXIST;
                return TV_OK;
            }
            if (c.len == TV_NET_LINKS_MAX) {
                p->result = TV_ELIMIT;
                return TV_OK;
            }
            l.parent = p->parent;
            c.links[c.len++] = l;
        }
    }
    return tv_netconf_put(t, &c);
}

static int peer_list(tv_cli *cli, int json)
{
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    store_txn *t;
    tv_netconf c;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = tv_netconf_get(t, &c);
        store_read_end(t);
    }
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "cannot read the network configuration");
    tv_json j;
    if (json) {
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "listen");
        tv_json_string(&j, c.listen);
        tv_json_key(&j, "links");
        tv_json_array_begin(&j);
    } else {
        printf("listen  %s\n", c.listen[0] ? c.listen : "(none)");
    }
    for (uint32_t i = 0; i < c.len; i++) {
        char text[TV_NET_ENDPOINT_MAX + 2 * TV_NODE_ID_BYTES + 2];
        tv_net_link_format(&c.links[i], text, sizeof text);
        if (json) {
            tv_json_object_begin(&j);
            tv_json_key(&j, "endpoint");
            tv_json_string(&j, c.links[i].endpoint);
            tv_json_key(&j, "role");
            tv_json_string(&j, c.links[i].parent ? "parent" : "peer");
            tv_json_key(&j, "node_id");
            if (c.links[i].has_key)
                tv_json_hex(&j, c.links[i].key, TV_NODE_ID_BYTES);
            else
                tv_json_null(&j);
            tv_json_object_end(&j);
        } else {
            printf("%-7s %s\n", c.links[i].parent ? "parent" : "peer", text);
        }
    }
    if (json) {
        tv_json_array_end(&j);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    }
    return TV_EXIT_OK;
}

int tv_cmd_peer(tv_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(peer_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? TV_EXIT_USAGE : TV_EXIT_OK;
    }
    const char *sub = argv[1];
    static const struct option opts[] = {{"parent", no_argument, 0, 'p'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    peer_ctx p = {0};
    int json = 0, c;
    optind = 0;
    while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
        if (c == 'p')
            p.parent = 1;
        else if (c == 'j')
            json = 1;
        else if (c == 'h') {
            fputs(peer_help, stdout);
            return TV_EXIT_OK;
        } else
            return tv_cli_bad_option("peer", c, argv + 1);
    }
    int rest = argc - 1 - optind;
    char **args = argv + 1 + optind;
    if (strcmp(sub, "list") == 0) {
        if (rest) return tv_cli_usage("peer", "peer list takes no argument.");
        return peer_list(cli, json);
    }
    if (strcmp(sub, "listen") == 0)
        p.op = 'l';
    else if (strcmp(sub, "add") == 0)
        p.op = 'a';
    else if (strcmp(sub, "remove") == 0)
        p.op = 'r';
    else
        return tv_cli_usage("peer", "unknown peer command '%s'.", sub);
    if (rest != 1) return tv_cli_usage("peer", "peer %s needs exactly one ENDPOINT.", sub);
    p.arg = args[0];
    tv_net_link l;
    if (!(p.op == 'l' && strcmp(p.arg, "-") == 0) && tv_net_link_parse(p.arg, &l))
        return tv_cli_usage("peer",
                            "'%s' is not an endpoint like tcp://HOST:PORT (a parent or peer "
                            "may be written NODEID@tcp://HOST:PORT).",
                            p.arg);
    if (p.op == 'l' && l.has_key)
        return tv_cli_usage("peer", "the listen endpoint has no NODEID part.");
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    rc = store_write(n.st, peer_fn, &p);
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "cannot change the network configuration");
    if (p.result == TV_ENOTFOUND) {
        tv_cli_error("%s is not configured.", p.arg);
        return TV_EXIT_FAIL;
    }
    if (p.result == TV_EEXIST) {
        tv_cli_error("%s is already configured; remove it first to change it.", p.arg);
        return TV_EXIT_FAIL;
    }
    if (p.result == TV_ELIMIT) {
        tv_cli_error("at most %d parents and peers can be configured.", TV_NET_LINKS_MAX);
        return TV_EXIT_FAIL;
    }
    return TV_EXIT_OK;
}

int tv_cmd_peers(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int json = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'h') {
            fputs(peers_help, stdout);
            return TV_EXIT_OK;
        } else
            return tv_cli_bad_option("peers", c, argv);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/peers.json", cli->dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        tv_cli_error("no session state in %s: is 'truyvet serve' running (or has it ever "
                     "run) on this node?",
                     cli->dir);
        return TV_EXIT_FAIL;
    }
    char buf[65536];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    if (json) {
        fputs(buf, stdout);
        return TV_EXIT_OK;
    }
    /* a plain listing: one line per peer from the JSON written by the server */
    const char *p = buf;
    int count = 0;
    while ((p = strstr(p, "\"node_id\":\""))) {
        char id[17] = {0}, state[16] = {0}, contact[40] = {0};
        sscanf(p, "\"node_id\":\"%16[0-9a-f]", id);
        const char *s = strstr(p, "\"state\":\"");
        const char *l = strstr(p, "\"last_contact\":\"");
        if (s) sscanf(s, "\"state\":\"%15[a-z-]", state);
        if (l) sscanf(l, "\"last_contact\":\"%39[^\"]", contact);
        printf("%s  %-10s last contact %s\n", id, state, contact);
        count++;
        p++;
    }
    if (!count) printf("no sessions\n");
    const char *forks = strstr(buf, "\"forks\":[{");
    if (forks)
        printf("FORKS: some origins wrote conflicting logs and are frozen; see "
               "'truyvet status'\n");
    return TV_EXIT_OK;
}
