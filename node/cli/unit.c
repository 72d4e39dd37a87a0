/* `truyvet unit`: the units that are not in the official list -- villages, districts,
 * clusters -- named by the node that owns them, and where units sit in the tree the
 * reports add up. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/render/json.h"
#include "node/logic/units.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char unit_help[] =
    "Usage: truyvet [-d DIR] unit add CODE [--name NAME] [--parent CODE]\n"
    "       truyvet [-d DIR] unit list [--under CODE] [--json]\n"
    "\n"
    "The unit tree is the official list (provinces and communes) and the units nodes add:\n"
    "villages (<commune code>.<local code>, 22333.03), and districts or clusters used to\n"
    "add communes up. `unit add` names a unit and places it under its parent; it flows to\n"
    "every node and reports follow it. A node may add units under its scope (a village\n"
    "of its commune; a commune of its scope placed in a district) and its own unit (a\n"
    "district names itself). An official unit keeps its official name; placing it under\n"
    "another unit (--parent) changes only where reports add it up. The latest `unit add`\n"
    "of a code stands.\n"
    "\n"
    "  --name NAME     the unit's name (required, but for an official unit)\n"
    "  --parent CODE   the unit above it (default: for a village, its commune; else\n"
    "                  the official parent)\n"
    "  --under CODE    list the units under CODE, at every depth (default: this node's\n"
    "                  unit)\n"
    "  --json          one JSON object per line\n";

static int unit_add(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, 0, 'n'},
                                         {"parent", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *name = NULL, *parent = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            name = tv_cli_nfc(optarg);
            break;
        case 'p':
            parent = optarg;
            break;
        case 'h':
            fputs(unit_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("unit", c, argv);
        }
    }
    if (optind + 1 != argc) return tv_cli_usage("unit", "give one unit code to add.");
    const char *code = argv[optind];
    if (!crdt_unit_code_valid(code, strlen(code)))
        return tv_cli_usage("unit", "'%s' is not a unit code (a village is <commune>.<local>).",
                            code);
    const tv_unit *official = tv_unit_find(code);
    if (!name && official) name = official->name; /* it keeps that name anyway */
    if (!name || !*name)
        return tv_cli_usage("unit", "give --name, text of 1 to %d bytes.", CRDT_TEXT_BYTES_MAX);
    int rc = tv_cli_text("unit", "unit name", name, CRDT_TEXT_BYTES_MAX);
    if (rc) return rc;
    char dflt[TV_UNIT_CODE_MAX + 1];
    if (!parent) {
        tv_unit_parent(code, dflt);
        if (!dflt[0])
            return tv_cli_usage("unit", "'%s' has no parent to default to: give --parent.", code);
        parent = dflt;
    }
    if (!crdt_unit_code_valid(parent, strlen(parent)) || strcmp(parent, code) == 0)
        return tv_cli_usage("unit", "--parent takes another unit's code, not '%s'.", parent);
    crdt_unit u = {.code = {code, (uint32_t)strlen(code)},
                   .name = {name, (uint32_t)strlen(name)},
                   .parent = {parent, (uint32_t)strlen(parent)}};
    tv_node n;
    rc = tv_cli_open(cli, &n, TV_NODE_WRITE);
    if (rc) return rc;
    uint64_t seq;
    if ((rc = tv_node_add_unit(&n, &u, NULL)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        if (rc == TV_EPERM)
            tv_cli_error("this node is not enrolled: peers would refuse its units.");
        else if (rc == TV_ESCOPE)
            tv_cli_error("unit %s is outside this node's scope: peers would refuse it.", code);
        rc = rc == TV_EPERM || rc == TV_ESCOPE ? TV_EXIT_FAIL
                                               : tv_cli_fail(cli, rc, "nothing was recorded");
    } else {
        printf("recorded: unit %s \"%s\" under %s\n", code, name, parent);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

typedef struct list_ctx {
    const tv_tree *tr;
    int json;
    int depth;
} list_ctx;

static void list_under(list_ctx *x, const char *code, int depth)
{
    size_t nk;
    tv_tree_unit *const *kids = tv_tree_children(x->tr, code, &nk);
    for (size_t i = 0; i < nk && depth < 8; i++) {
        const tv_tree_unit *u = kids[i];
        if (x->json) {
            tv_json j;
            tv_json_init(&j, stdout);
            tv_json_object_begin(&j);
            tv_json_key(&j, "code");
            tv_json_string(&j, u->code);
            tv_json_key(&j, "name");
            tv_json_string(&j, u->name);
            tv_json_key(&j, "parent");
            tv_json_string(&j, u->parent);
            tv_json_key(&j, "official");
            tv_json_bool(&j, u->official);
            tv_json_object_end(&j);
            tv_json_line_end(&j);
        } else {
            printf("%*s%-10s %s%s\n", 2 * depth, "", u->code, tv_text_esc(u->name),
                   u->official ? "" : "  (local)");
        }
        list_under(x, u->code, depth + 1);
    }
}

static int unit_list(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"under", required_argument, 0, 'u'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *under = NULL;
    int json = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            under = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(unit_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("unit", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("unit", "unexpected argument '%s'.", argv[optind]);
    if (under && !crdt_unit_code_valid(under, strlen(under)))
        return tv_cli_usage("unit", "'%s' is not a unit code.", under);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    if (!under) under = n.unit;
    store_txn *t;
    tv_tree tr;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = tv_tree_load(t, &tr);
        store_read_end(t);
    }
    if (rc == 0) {
        list_ctx x = {&tr, json, 0};
        const tv_tree_unit *self = tv_tree_find(&tr, under);
        if (!json) printf("%s %s\n", under, self ? tv_text_esc(self->name) : "");
        list_under(&x, under, json ? 0 : 1);
        tv_tree_free(&tr);
    }
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "no list") : TV_EXIT_OK;
}

int tv_cmd_unit(tv_cli *cli, int argc, char **argv)
{
    static const tv_subcmd subs[] = {{"add", unit_add}, {"list", unit_list}};
    return tv_cli_dispatch(cli, "unit", unit_help, subs, 2, argc, argv);
}
