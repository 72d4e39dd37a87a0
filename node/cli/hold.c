/* `truyvet hold`: keep a person's records past retention (health nodes). */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/downflow.h"
#include "node/logic/retention.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int hold_add(tv_cli *cli, int argc, char **argv);
static int hold_remove(tv_cli *cli, int argc, char **argv);
static int hold_list(tv_cli *cli, int argc, char **argv);

static const tv_opt set_opts[] = {{.id = TV_O_PERSON,
                                   .help =
                                       "what the person's card QR holds, or a phone or ID number\n"
                                       "(--person is the same)"},
                                  {.name = "person", .id = TV_O_PERSON, .flags = TV_OPT_HIDDEN},
                                  {.id = TV_O_REF},
                                  {.id = TV_O_REASON, .help = "why (required)"},
                                  {0}};

static const tv_command hold_add_cmd = {
    .name = "add",
    .summary = "Place a hold on a person (a health node).",
    .usage = "hold add (--payload TEXT | --ref HEX) --reason TEXT",
    .opts = set_opts,
    .fn = hold_add,
    .col = 14,
};

static const tv_command hold_remove_cmd = {
    .name = "remove",
    .summary = "Lift it.",
    .usage = "hold remove (--payload TEXT | --ref HEX) --reason TEXT",
    .opts = set_opts,
    .fn = hold_remove,
    .col = 14,
};

static const tv_command hold_list_cmd = {
    .name = "list",
    .summary = "The people held (at a commune: those it was told of).",
    .usage = "hold list [--json]",
    .opts = (const tv_opt[]){{.id = TV_O_JSON}, {0}},
    .fn = hold_list,
};

const tv_command tv_command_hold = {
    .name = "hold",
    .summary = "keep a person's records past retention (health nodes)",
    .about =
        "Keeps a person's records past the retention period while a case is investigated.\n"
        "Only a node whose certificate carries the health flag may place or lift a hold; each\n"
        "is an event of its log (who, when, why) sealed so that only health nodes read it.\n"
        "Each commune that recorded the person is told, sealed to it alone and in its own\n"
        "pseudonyms, that they are held (not why), so that its purge keeps their records;\n"
        "`hold list` at a commune lists what it was told.\n",
    .subs = (const tv_command *const[]){&hold_add_cmd, &hold_remove_cmd, &hold_list_cmd, NULL},
};

/* --- hold add / remove / list ----------------------------------------------------------- */

static int hold_set(tv_cli *cli, int argc, char **argv, uint8_t action)
{
    const char *person = NULL, *refhex = NULL, *reason = NULL;
    int c, rc;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        }
    }
    if (c < 0) return ta.status;
    person = ta.o.person;
    refhex = ta.o.ref;
    reason = ta.o.reason;
    if (optind < argc) return tv_cli_usage("hold", "unexpected argument '%s'.", argv[optind]);
    if (!person == !refhex) return tv_cli_usage("hold", "give the person: --payload or --ref.");
    if (!reason || !*reason) return tv_cli_usage("hold", "give the reason: --reason TEXT.");
    if ((rc = tv_cli_text("hold", "reason", reason, CRDT_TEXT_BYTES_MAX))) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    crdt_hold h = {.action = action, .reason = {reason, (uint32_t)strlen(reason)}};
    if ((rc = tv_cli_person_ref("hold", &n, person, refhex, h.person))) {
        tv_node_close(&n);
        return rc;
    }
    uint64_t seq;
    if ((rc = tv_node_add_hold(&n, &h, NULL)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        if (rc == TV_EPERM) {
            tv_cli_error("this node cannot place or lift holds: only a node whose certificate "
                         "carries the health flag may, and peers would refuse it.");
            rc = TV_EXIT_FAIL;
        } else {
            rc = tv_cli_fail(cli, rc, "nothing was recorded");
        }
    } else if ((rc = tv_downflow_run(&n, tv_wall_ms(), NULL))) {
        /* the hold stands at the health nodes; the communes are told at the next pass */
        rc = tv_cli_fail(cli, rc, "the hold is recorded, but its notices to the communes are not");
    } else {
        char ref[2 * TV_PERSON_REF_BYTES + 1];
        sodium_bin2hex(ref, sizeof ref, h.person, TV_PERSON_REF_BYTES);
        printf("%s: %s\n", action == CRDT_HOLD_PLACE ? "held" : "hold lifted", ref);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

static int hold_add(tv_cli *cli, int argc, char **argv)
{
    return hold_set(cli, argc, argv, CRDT_HOLD_PLACE);
}

static int hold_remove(tv_cli *cli, int argc, char **argv)
{
    return hold_set(cli, argc, argv, CRDT_HOLD_LIFT);
}

static int hold_row(const store_hold *h, void *arg)
{
    tv_json *j = arg;
    char ref[2 * TV_PERSON_REF_BYTES + 1], when[TV_TIME_STR_BYTES], origin[17];
    sodium_bin2hex(ref, sizeof ref, h->person, TV_PERSON_REF_BYTES);
    tv_cli_hlc_time(when, sizeof when, h->hlc);
    sodium_bin2hex(origin, sizeof origin, h->origin, 8);
    if (!j) {
        printf("%s  %-6s  %s  by %s  %s\n", ref, h->held ? "held" : "lifted", when, origin,
               tv_text_esc(h->reason));
        return 0;
    }
    tv_json_object_begin(j);
    tv_json_key(j, "person");
    tv_json_string(j, ref);
    tv_json_key(j, "held");
    tv_json_bool(j, h->held);
    tv_json_key(j, "time");
    tv_json_string(j, when);
    tv_json_key(j, "by");
    tv_json_hex(j, h->origin, TV_NODE_ID_BYTES);
    tv_json_key(j, "reason");
    tv_json_string(j, h->reason);
    tv_json_object_end(j);
    return tv_json_line_end(j);
}

static int hold_list(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_only(cli, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_txn *t;
    tv_json j;
    tv_json_init(&j, stdout);
    tv_opened o = {0};
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        if (tv_node_opens_health(&n)) {
            rc = store_holds_foreach(t, hold_row, json ? &j : NULL);
        } else if ((rc = tv_opened_load(&n, t, &o)) == 0) {
            /* a commune's hold notices, opened in memory: the latest of each person's */
            for (size_t i = 0; rc == 0 && i < o.nholds; i++) {
                const tv_hold_notice *x = &o.holds[i];
                if (i + 1 < o.nholds &&
                    memcmp(x->person, o.holds[i + 1].person, TV_PERSON_REF_BYTES) == 0)
                    continue;
                store_hold h = {.hlc = x->hlc, .held = x->held};
                memcpy(h.person, x->person, TV_PERSON_REF_BYTES);
                memcpy(h.origin, x->origin, TV_NODE_ID_BYTES);
                rc = hold_row(&h, json ? &j : NULL);
                sodium_memzero(&h, sizeof h);
            }
        }
        store_read_end(t);
    }
    tv_opened_release(&o);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot read the holds") : TV_EXIT_OK;
}
