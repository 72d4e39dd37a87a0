/* `truyvet peer`: where to listen, the parents and neighbouring peers. */
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

static int peer_listen(tv_cli *cli, int argc, char **argv);
static int peer_add(tv_cli *cli, int argc, char **argv);
static int peer_remove(tv_cli *cli, int argc, char **argv);
static int peer_list_cmd(tv_cli *cli, int argc, char **argv);

static const tv_command peer_listen_cmd = {
    .name = "listen",
    .summary = "Listen there, e.g. tcp://0.0.0.0:7400 ('-' for none).",
    .usage = "peer listen ENDPOINT",
    .fn = peer_listen,
};

static const tv_command peer_add_cmd = {
    .name = "add",
    .summary = "A parent (in the order added: nearest first) or a neighbouring peer;\n"
               "without NODEID a parent's key is taken from this node's certificate chain.",
    .usage = "peer add [NODEID@]ENDPOINT [--parent]",
    .opts = (const tv_opt[]){{"parent", 'p', NULL, "a parent, not a neighbouring peer", 0, 0}, {0}},
    .fn = peer_add,
};

static const tv_command peer_remove_cmd = {
    .name = "remove",
    .summary = "Forget a parent or peer.",
    .usage = "peer remove ENDPOINT",
    .fn = peer_remove,
};

static const tv_command peer_list_cmd_desc = {
    .name = "list",
    .summary = "The configuration.",
    .usage = "peer list [--json]",
    .opts = (const tv_opt[]){{.id = TV_O_JSON, .help = "one JSON object"}, {0}},
    .fn = peer_list_cmd,
};

const tv_command tv_command_peer = {
    .name = "peer",
    .summary = "where to listen, the parents and neighbouring peers",
    .subs = (const tv_command *const[]){&peer_listen_cmd, &peer_add_cmd, &peer_remove_cmd,
                                        &peer_list_cmd_desc, NULL},
};

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

static int peer_list_cmd(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_only(cli, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    return peer_list(cli, json);
}

/* peer listen, add or remove (op 'l', 'a', 'r'): argv[0] is its name. */
static int peer_set(tv_cli *cli, int argc, char **argv, int op)
{
    const char *sub = argv[0];
    peer_ctx p = {.op = op};
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0)
        if (c == 'p') p.parent = 1;
    if (c < 0) return ta.status;
    int rest = argc - optind;
    char **args = argv + optind;
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

static int peer_listen(tv_cli *cli, int argc, char **argv)
{
    return peer_set(cli, argc, argv, 'l');
}

static int peer_add(tv_cli *cli, int argc, char **argv)
{
    return peer_set(cli, argc, argv, 'a');
}

static int peer_remove(tv_cli *cli, int argc, char **argv)
{
    return peer_set(cli, argc, argv, 'r');
}
