/* `truyvet person show` and `truyvet audit`: what a node holds of a person, masked; in
 * full only on a health node, and only after the reveal is recorded in the log. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/render/json.h"
#include "node/logic/record.h"
#include "node/logic/reveal.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char person_help[] =
    "Usage: truyvet [-d DIR] person show (--person TEXT | --ref HEX)\n"
    "                                    [--reveal --reason TEXT] [--json]\n"
    "       truyvet [-d DIR] person card --person TEXT... --out FILE [--sheet]\n"
    "                                    (see 'truyvet person card --help')\n"
    "\n"
    "Show what this node holds of a person: the masked display staff may see (Nguyễn V**\n"
    "A · 09******78) and which node recorded them.\n"
    "\n"
    "  --person TEXT   what a card's QR holds, or a phone or ID number\n"
    "  --ref HEX       the person's pseudonym (32 hex digits), as trace and log print it\n"
    "  --reveal        show the details in full (name, ID numbers, phone, date of birth,\n"
    "                  address). Only a node of the health authority can: the details\n"
    "                  are sealed to its key. Each reveal is recorded in this node's log\n"
    "                  (who, when, whose, why) before anything is shown, and travels\n"
    "                  sealed so that only health nodes read it: see 'truyvet audit'.\n"
    "  --reason TEXT   why the details are needed (required with --reveal)\n"
    "  --json          print one JSON object\n";

static const char audit_help[] =
    "Usage: truyvet [-d DIR] audit [--json]\n"
    "\n"
    "List every full view of a person's details this node knows of (its own and those\n"
    "synced from other health nodes): when, which node, whose pseudonym, and why.\n";

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

static int person_show(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"person", required_argument, 0, 'p'},
                                         {"ref", required_argument, 0, 'r'},
                                         {"reveal", no_argument, 0, 'R'},
                                         {"reason", required_argument, 0, 'w'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *person = NULL, *refhex = NULL, *reason = NULL;
    int reveal = 0, json = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            person = tv_cli_nfc(optarg);
            break;
        case 'r':
            refhex = optarg;
            break;
        case 'R':
            reveal = 1;
            break;
        case 'w':
            reason = tv_cli_nfc(optarg);
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(person_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("person show", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("person", "unexpected argument '%s'.", argv[optind]);
    if (!person == !refhex) return tv_cli_usage("person", "give either --person or --ref.");
    if (reveal && (!reason || !*reason))
        return tv_cli_usage("person", "--reveal needs --reason: say why the details are needed.");
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
    if (reveal) {
        if (!tv_node_is_health(&n)) {
            tv_cli_error("this node cannot reveal identities: the details are sealed to the "
                         "health authority's nodes, and this node's certificate does not carry "
                         "the health flag.");
            rc = TV_EXIT_FAIL;
            goto done;
        }
        d = malloc(sizeof *d);
        if (!d) {
            rc = tv_cli_fail(cli, TV_ENOMEM, "nothing shown");
            goto done;
        }
        rc = tv_unseal_details(&s->p, &n.id, d);
        if (rc == TV_ENOTFOUND) {
            tv_cli_error("this person's details were sealed to other health nodes, not to this "
                         "one; ask a node they were sealed to.");
            rc = TV_EXIT_FAIL;
            goto done;
        }
        if (rc) {
            rc = tv_cli_fail(cli, rc, "the sealed details do not open");
            goto done;
        }
        /* the audit first: nothing is shown unless the reveal is on disk */
        crdt_reveal x = {.reason = {reason, (uint32_t)strlen(reason)}};
        memcpy(x.person, ref, sizeof ref);
        uint64_t seq;
        if ((rc = tv_node_add_reveal(&n, &x, NULL)) || (rc = tv_node_commit(&n, &seq))) {
            tv_node_discard(&n);
            rc = tv_cli_fail(cli, rc, "the reveal could not be recorded, so nothing is shown");
            goto done;
        }
    }
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

int tv_cmd_person(tv_cli *cli, int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(person_help, stdout);
        return TV_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "show") == 0) return person_show(cli, argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "card") == 0)
        return tv_person_card_cmd(cli, argc - 1, argv + 1);
    return tv_cli_usage("person", "use 'person show' or 'person card'.");
}

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

int tv_cmd_audit(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_opts("audit", audit_help, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
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
