/* `truyvet unit`: the units that are not in the official list -- villages, districts,
 * clusters -- named by the node that owns them, and where units sit in the tree the
 * reports add up. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/render/json.h"
#include "node/render/units.h"
#include "node/logic/unit_input.h"
#include "node/logic/units.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_add(tv_cli *cli, int argc, char **argv);
static int unit_list(tv_cli *cli, int argc, char **argv);

static const tv_opt add_opts[] = {
    {"name", 'n', "NAME", "the unit's name (required, but for an official unit)", TV_OPT_TEXT, 0},
    {"parent", 'p', "CODE",
     "the unit above it (default: for a village, its commune; else\n"
     "the official parent)",
     0, 0},
    {0}};

static const tv_command unit_add_cmd = {
    .name = "add",
    .summary = "name a unit and place it under its parent",
    .usage = "unit add CODE [--name NAME] [--parent CODE]",
    .opts = add_opts,
    .fn = unit_add,
    .col = 13,
};

static const tv_opt list_opts[] = {
    {"under", 'u', "CODE",
     "list the units under CODE, at every depth (default: this node's\n"
     "unit)",
     0, 0},
    {.id = TV_O_JSON},
    {0}};

static const tv_command unit_list_cmd = {
    .name = "list",
    .summary = "the units under a unit, as a tree",
    .usage = "unit list [--under CODE] [--json]",
    .opts = list_opts,
    .fn = unit_list,
    .col = 13,
};

const tv_command tv_command_unit = {
    .name = "unit",
    .summary = "villages, districts and clusters: the unit tree the reports add up",
    .about =
        "The unit tree is the official list (provinces and communes) and the units nodes add:\n"
        "villages (<commune code>.<local code>, 22333.03), and districts or clusters used to\n"
        "add communes up. `unit add` names a unit and places it under its parent; it flows to\n"
        "every node and reports follow it. A node may add units under its scope (a village\n"
        "of its commune; a commune of its scope placed in a district) and its own unit (a\n"
        "district names itself). An official unit keeps its official name; placing it under\n"
        "another unit (--parent) changes only where reports add it up. The latest `unit add`\n"
        "of a code stands.\n",
    .subs = (const tv_command *const[]){&unit_add_cmd, &unit_list_cmd, NULL},
};

static int unit_add(tv_cli *cli, int argc, char **argv)
{
    const char *name = NULL, *parent = NULL;
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case 'p':
            parent = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    if (optind + 1 != argc) return tv_cli_usage("unit", "give one unit code to add.");
    const char *code = argv[optind];
    char pbuf[TV_UNIT_CODE_MAX + 1];
    crdt_unit u;
    tv_why why;
    if (tv_unit_input(code, name, parent, pbuf, &u, &why))
        return tv_cli_usage("unit", "%s", why.en);
    tv_node n;
    int rc = tv_cli_open(cli, &n, TV_NODE_WRITE);
    if (rc) return rc;
    if ((rc = tv_unit_record(&n, &u, &why))) {
        if (rc == TV_EPERM || rc == TV_ESCOPE) tv_cli_error("%s", why.en);
        rc = rc == TV_EPERM || rc == TV_ESCOPE ? TV_EXIT_FAIL
                                               : tv_cli_fail(cli, rc, "nothing was recorded");
    } else {
        printf("recorded: unit %s \"%.*s\" under %s\n", code, (int)u.name.n, u.name.p, pbuf);
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
            tv_render_unit_json(&j, u);
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
    const char *under = NULL;
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'u':
            under = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    int json = ta.o.json;
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
