/* `truyvet audit`: every full view of a person's details this node knows of. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/render/json.h"
#include "node/logic/record.h"
#include "node/logic/reveal.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int cmd_audit(tv_cli *cli, int argc, char **argv);

const tv_command tv_command_audit = {
    .name = "audit",
    .summary = "every full view of a person's details, who and why",
    .usage = "audit [--json]",
    .about = "List every full view of a person's details this node knows of (its own and those\n"
             "synced from other health nodes): when, which node, whose pseudonym, and why.\n",
    .opts = (const tv_opt[]){{.id = TV_O_JSON}, {0}},
    .fn = cmd_audit,
};

typedef struct audit_ctx {
    tv_node *n;
    store_txn *t;
    int json;
    tv_json *j;
    uint64_t count;
} audit_ctx;

static int audit_row(uint64_t hlc, const uint8_t *origin, const uint8_t *person, const char *reason,
                     size_t reason_len, void *arg)
{
    audit_ctx *a = arg;
    char when[40], who[17], whose[2 * TV_PERSON_REF_BYTES + 1], why[CRDT_TEXT_BYTES_MAX + 1];
    tv_cli_hlc_time(when, sizeof when, hlc);
    sodium_bin2hex(who, sizeof who, origin, 8);
    sodium_bin2hex(whose, sizeof whose, person, TV_PERSON_REF_BYTES);
    size_t n = reason_len < CRDT_TEXT_BYTES_MAX ? reason_len : CRDT_TEXT_BYTES_MAX;
    memcpy(why, reason, n);
    why[n] = '\0';
    char unit[TV_UNIT_CODE_MAX + 1] = "";
    crdt_cert *c = malloc(sizeof *c);
    if (c && store_cert_get(a->t, origin, c, NULL, NULL) == 0)
        snprintf(unit, sizeof unit, "%s", c->unit);
    free(c);
    a->count++;
    if (a->json) {
        tv_json_object_begin(a->j);
        tv_json_key(a->j, "at");
        tv_json_string(a->j, when);
        tv_json_key(a->j, "node");
        tv_json_hex(a->j, origin, TV_NODE_ID_BYTES);
        tv_json_key(a->j, "unit");
        tv_json_string(a->j, unit);
        tv_json_key(a->j, "ref");
        tv_json_string(a->j, whose);
        tv_json_key(a->j, "reason");
        tv_json_string(a->j, why);
        tv_json_object_end(a->j);
        tv_json_line_end(a->j);
    } else {
        printf("%s  node %s (unit %s)  person %s  reason: %s\n", when, who, *unit ? unit : "?",
               whose, tv_text_esc(why));
    }
    return 0;
}

static int cmd_audit(tv_cli *cli, int argc, char **argv)
{
    tv_args ta;
    if (tv_args_only(&ta, cli, argc, argv)) return ta.status;
    int json = ta.o.json, rc;
    if (optind < argc) return tv_cli_usage("audit", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    tv_json j;
    tv_json_init(&j, stdout);
    audit_ctx a = {.n = &n, .json = json, .j = &j};
    if ((rc = store_read_begin(n.st, &a.t)) == 0) {
        rc = store_reveals_foreach(a.t, audit_row, &a);
        store_read_end(a.t);
    }
    if (rc)
        rc = tv_cli_fail(cli, rc, "the audit could not be read");
    else if (!json && a.count == 0)
        fprintf(stderr, "no reveal recorded\n");
    tv_node_close(&n);
    return rc;
}
