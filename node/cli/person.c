/* `truyvet person show` and `truyvet person card` (qr.c): what a node holds of a person,
 * masked; in full only on a health node, and only after the reveal is recorded in the log
 * (`truyvet audit`). */
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

static int person_show(tv_cli *cli, int argc, char **argv);

static const tv_opt show_opts[] = {
    {.name = "person",
     .id = TV_O_PERSON,
     .help = "what a card's QR holds, or a phone or ID number"},
    {.id = TV_O_REF, .help = "the person's pseudonym (32 hex digits), as trace and log print it"},
    {.id = TV_O_REVEAL,
     .help = "show the details in full (name, ID numbers, phone, date of birth,\n"
             "address). Only a node of the health authority can: the details\n"
             "are sealed to its key. Each reveal is recorded in this node's log\n"
             "(who, when, whose, why) before anything is shown, and travels\n"
             "sealed so that only health nodes read it: see 'truyvet audit'."},
    {.id = TV_O_REASON, .help = "why the details are needed (required with --reveal)"},
    {.id = TV_O_JSON, .help = "print one JSON object"},
    {0}};

static const tv_command person_show_cmd = {
    .name = "show",
    .summary = "What this node holds of a person, masked; in full on a health node, audited.",
    .usage = "person show (--person TEXT | --ref HEX)\n"
             "                                    [--reveal --reason TEXT] [--json]",
    .about = "Show what this node holds of a person: the masked display staff may see (Nguyễn V**\n"
             "A · 09******78) and which node recorded them.\n",
    .opts = show_opts,
    .fn = person_show,
    .col = 14,
};

extern const tv_command tv_command_person_card; /* qr.c */

const tv_command tv_command_person = {
    .name = "person",
    .summary = "what the node holds of a person; in full on a health node, audited",
    .subs = (const tv_command *const[]){&person_show_cmd, &tv_command_person_card, NULL},
};

static void detail_line(const char *label, const char *v)
{
    if (*v) printf("  %-9s %s\n", label, tv_text_esc(v));
}

static void print_person(const tv_person_rec *s, const uint8_t *ref, const tv_details *d, int json)
{
    char when[40], disp[160];
    tv_cli_hlc_time(when, sizeof when, s->hlc);
    tv_person_display(disp, sizeof disp, s->name_masked, s->id_masked);
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "ref");
        tv_json_hex(&j, ref, TV_PERSON_REF_BYTES);
        tv_json_key(&j, "person");
        tv_json_string(&j, disp);
        tv_json_key(&j, "recorded_by");
        tv_json_hex(&j, s->origin, TV_NODE_ID_BYTES);
        tv_json_key(&j, "recorded_at");
        tv_json_string(&j, when);
        tv_json_key(&j, "sealed_to");
        tv_json_u64(&j, s->p.nsealed);
        if (d) tv_details_json(&j, d);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
        return;
    }
    char refhex[2 * TV_PERSON_REF_BYTES + 1];
    sodium_bin2hex(refhex, sizeof refhex, ref, TV_PERSON_REF_BYTES);
    printf("person    %s\nref       %s\n", tv_text_esc(disp), refhex);
    char origin[17];
    sodium_bin2hex(origin, sizeof origin, s->origin, 8);
    printf("recorded  by node %s, %s\n", origin, when);
    if (d) {
        printf("details   (revealed; this view is recorded in the log)\n");
        detail_line("name", d->name);
        detail_line("CCCD", d->cccd);
        detail_line("CMND", d->cmnd);
        detail_line("BHYT", d->bhyt);
        detail_line("phone", d->phone);
        detail_line("born", d->birth);
        detail_line("sex", d->sex);
        detail_line("address", d->address);
    }
}

/* Opens the sealed details of the person s (pseudonym ref) into *d (allocated: the caller
 * wipes and frees it, also after a failure), after recording the reveal and its reason in
 * the log: nothing is shown unless the reveal is on disk. Returns 0 or an exit status after
 * a message. */
static int reveal_details(tv_cli *cli, tv_node *n, const tv_person_rec *s, const uint8_t *ref,
                          const char *reason, tv_details **d)
{
    if (!tv_node_is_health(n)) {
        tv_cli_error("this node cannot reveal identities: the details are sealed to the "
                     "health authority's nodes, and this node's certificate does not carry "
                     "the health flag.");
        return TV_EXIT_FAIL;
    }
    *d = malloc(sizeof **d);
    if (!*d) return tv_cli_fail(cli, TV_ENOMEM, "nothing shown");
    int rc = tv_unseal_details(&s->p, &n->id, *d);
    if (rc == TV_ENOTFOUND) {
        tv_cli_error("this person's details were sealed to other health nodes, not to this "
                     "one; ask a node they were sealed to.");
        return TV_EXIT_FAIL;
    }
    if (rc) return tv_cli_fail(cli, rc, "the sealed details do not open");
    /* the audit first: nothing is shown unless the reveal is on disk */
    crdt_reveal x = {.reason = {reason, (uint32_t)strlen(reason)}};
    memcpy(x.person, ref, TV_PERSON_REF_BYTES);
    uint64_t seq;
    if ((rc = tv_node_add_reveal(n, &x, NULL)) || (rc = tv_node_commit(n, &seq))) {
        tv_node_discard(n);
        return tv_cli_fail(cli, rc, "the reveal could not be recorded, so nothing is shown");
    }
    return 0;
}

static int person_show(tv_cli *cli, int argc, char **argv)
{
    const char *person = NULL, *refhex = NULL, *reason = NULL;
    tv_args ta;
    if (tv_args_only(&ta, cli, argc, argv)) return ta.status;
    person = ta.o.person;
    refhex = ta.o.ref;
    int reveal = ta.o.reveal, json = ta.o.json; /* --reveal with its --reason (command.c) */
    reason = ta.o.reason;
    if (optind < argc) return tv_cli_usage("person", "unexpected argument '%s'.", argv[optind]);
    if (!person == !refhex) return tv_cli_usage("person", "give either --person or --ref.");
    if (!reveal && reason) return tv_cli_usage("person", "--reason goes with --reveal.");
    int rc;
    if (reason && (rc = tv_cli_text("person", "reason", reason, CRDT_TEXT_BYTES_MAX))) return rc;
    tv_node n;
    rc = tv_cli_open(cli, &n, reveal ? TV_NODE_WRITE : 0);
    if (rc) return rc;
    uint8_t ref[TV_PERSON_REF_BYTES];
    if ((rc = tv_cli_person_ref("person", &n, person, refhex, ref))) {
        tv_node_close(&n);
        return rc;
    }
    tv_person_rec *s = malloc(sizeof *s);
    tv_details *d = NULL;
    if (!s) {
        rc = tv_cli_fail(cli, TV_ENOMEM, "nothing shown");
        goto done;
    }
    if ((rc = tv_person_rec_load(&n, ref, s))) {
        if (rc == TV_ENOTFOUND) {
            tv_cli_error("this node holds no record of that person.");
            rc = TV_EXIT_FAIL;
        } else {
            rc = tv_cli_fail(cli, rc, "nothing shown");
        }
        goto done;
    }
    if (reveal && (rc = reveal_details(cli, &n, s, ref, reason, &d))) goto done;
    print_person(s, ref, d, json);
    rc = TV_EXIT_OK;
done:
    if (d) {
        sodium_memzero(d, sizeof *d);
        free(d);
    }
    free(s);
    tv_node_close(&n);
    return rc;
}
