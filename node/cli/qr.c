/* `truyvet qr`: a venue's printable poster, personal cards (also `truyvet person card`),
 * the enrolment request as a QR code, and checking a poster's payload with no network. */
#include "crdt/error.h"
#include "node/logic/category.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/enroll.h"
#include "node/render/json.h"
#include "node/format/payload.h"
#include "node/logic/card_issue.h"
#include "node/print/poster.h"
#include "node/logic/record.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int qr_venue(tv_cli *cli, int argc, char **argv);

static const tv_opt qr_venue_opts[] = {
    {"ID", 0, NULL,
     "the venue's id, a unique prefix of at least 4 digits, or its short\n"
     "code",
     TV_OPT_ARG, 0},
    {.id = TV_O_OUT,
     .help = ".pdf (print-ready), .png (300 dpi) or .svg (sized in cm), by its\n"
             "extension"},
    {0}};

static const tv_command qr_venue_cmd = {
    .name = "venue",
    .summary = "Write the venue's check-in poster: A4, its QR code 15.2 x 15.2 cm, the venue's\n"
               "name, category and commune, its short code and instructions in Vietnamese.\n"
               "The format is the file's extension: .pdf (print-ready), .png (300 dpi) or\n"
               ".svg (sized in cm).",
    .usage = "qr venue ID --out FILE",
    .about = "Write the check-in poster of a venue this commune registered: A4, its QR code\n"
             "15.2 x 15.2 cm holding the venue's payload signed by this node ('truyvet venue\n"
             "payload'), the venue's name, category and commune, its short code (XXXX-XXXX-C, to\n"
             "type when a camera fails) and instructions in Vietnamese.\n",
    .opts = qr_venue_opts,
    .more = NULL,
    .fn = qr_venue,
    .col = 10,
};

static int qr_node(tv_cli *cli, int argc, char **argv);

static const tv_opt qr_node_opts[] = {
    {.id = TV_O_OUT, .help = ".pdf, .png (300 dpi) or .svg, by its extension"}, {0}};

static const tv_command qr_node_cmd = {
    .name = "node",
    .summary = "This node's enrolment request as a QR code, for the node above to scan into\n"
               "'truyvet enroll issue -'; at the province, its root key.",
    .usage = "qr node --out FILE",
    .about = "Write this node's enrolment request ('truyvet enroll request') as a QR code on a\n"
             "page, for the operator of the node above to scan into 'truyvet enroll issue - --out\n"
             "FILE'. At the province, the root of trust, the code holds its public key instead,\n"
             "which the nodes below compare with when they accept their certificates.\n",
    .opts = qr_node_opts,
    .more = NULL,
    .fn = qr_node,
    .col = 10,
};

static int qr_verify(tv_cli *cli, int argc, char **argv);

static const tv_opt qr_verify_opts[] = {{.id = TV_O_JSON, .help = "one JSON object"}, {0}};

static const tv_command qr_verify_cmd = {
    .name = "verify",
    .summary = "Check a venue payload (what a poster's QR code holds) with what this node\n"
               "knows, no network needed. Exit status: 0 genuine; 3 forged (damaged, or a\n"
               "signature that does not verify, or a signer that may not register venues in\n"
               "that unit); 4 unknown signer (no certificate of it here: enrol, or sync\n"
               "first); 5 revoked signer; 2 for a usage error, 1 when the node cannot be read.",
    .usage = "qr verify PAYLOAD [--json]",
    .about = "Check a venue payload (what a poster's QR code holds, TV1V:<unit>:...) with what\n"
             "this node knows, no network needed, and say whose venue it is.\n"
             "\n"
             "Exit status: 0 genuine; 3 forged (damaged, or a signature that does not verify, or\n"
             "a signer that may not register venues in that unit); 4 unknown signer (no\n"
             "certificate of it here: enrol, or sync first); 5 revoked signer; 2 for a usage\n"
             "error, 1 when the node cannot be read.\n",
    .opts = qr_verify_opts,
    .more = NULL,
    .fn = qr_verify,
    .col = 6,
};

enum { EXIT_FORGED = 3, EXIT_UNKNOWN = 4, EXIT_REVOKED = 5 };

/* Parses the options of a qr command that takes --out FILE: returns 0, -1 after --help,
 * or an exit status. */
static int out_option(tv_cli *cli, int argc, char **argv, const char **out)
{
    tv_args ta;
    *out = NULL;
    if (tv_args_only(&ta, cli, argc, argv) != 0) return ta.status == TV_EXIT_OK ? -1 : ta.status;
    *out = ta.o.out;
    return 0;
}

static int qr_venue(tv_cli *cli, int argc, char **argv)
{
    const char *out;
    int rc = out_option(cli, argc, argv, &out);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage("qr venue", "qr venue takes one venue ID.");
    if (!out) return tv_cli_usage("qr venue", "say where to write the poster: --out FILE.");
    if (!tv_format_of(out))
        return tv_cli_usage("qr venue", "'%s': the file name must end in .pdf, .png or .svg.", out);
    if ((rc = tv_cli_out_check(out))) return rc;
    tv_node n;
    rc = tv_cli_open(cli, &n, TV_NODE_SECRET); /* the payload is signed */
    if (rc) return rc;
    store_venue v;
    tv_venue_payload p;
    if ((rc = tv_cli_own_payload(&n, argv[optind], &v, &p)) == 0) {
        char text[TV_VENUE_PAYLOAD_MAX], lines[TV_POSTER_TEXT_BYTES];
        tv_venue_payload_format(text, &p);
        tv_poster po;
        tv_poster_of_venue(&po, &v, n.name, text, lines);
        if ((rc = tv_poster_write(out, &po)))
            rc = tv_cli_fail_out(cli, rc, "the poster was not written", out);
        else
            fprintf(stderr, "wrote the poster of %s to %s\n", tv_text_esc(v.name), out);
    }
    tv_node_close(&n);
    return rc;
}

static int verdict(int json, const char *result, const char *why, const tv_venue_payload *p,
                   const crdt_cert *signer, const store_venue *v)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "result");
        tv_json_string(&j, result);
        tv_json_key(&j, "reason");
        tv_json_string(&j, why);
        if (p) {
            tv_json_key(&j, "venue");
            tv_json_hex(&j, p->venue, TV_VENUE_ID_BYTES);
            tv_json_key(&j, "unit");
            tv_json_string(&j, p->unit);
        }
        tv_json_key(&j, "signer");
        if (signer)
            tv_json_hex(&j, signer->subject, TV_NODE_ID_BYTES);
        else
            tv_json_null(&j);
        tv_json_key(&j, "venue_name");
        if (v)
            tv_json_string(&j, v->name);
        else
            tv_json_null(&j);
        tv_json_object_end(&j);
        return tv_json_line_end(&j);
    }
    printf("%s: %s\n", result, why);
    if (p) {
        tv_hex_encode(hex, p->venue, TV_VENUE_ID_BYTES);
        printf("  venue  %s%s%s (unit %s)\n", hex, v ? "  " : "", v ? tv_text_esc(v->name) : "",
               p->unit);
    }
    if (signer) {
        tv_hex_encode(hex, signer->subject, TV_NODE_ID_BYTES);
        printf("  signer %.16s (%s %s)\n", hex, tv_role_name((tv_role)signer->role), signer->unit);
    }
    return 0;
}

static int qr_verify(tv_cli *cli, int argc, char **argv)
{
    tv_args ta;
    if (tv_args_only(&ta, cli, argc, argv) != 0) return ta.status;
    int json = ta.o.json, rc;
    if (optind + 1 != argc) return tv_cli_usage("qr verify", "qr verify takes one payload.");
    const char *text = argv[optind], *why;
    size_t len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    tv_venue_payload p;
    if (tv_venue_payload_parse(text, len, &p, &why)) {
        verdict(json, "forged", why, NULL, NULL, NULL);
        return EXIT_FORGED;
    }
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    crdt_cert *cert = calloc(1, sizeof *cert);
    store_txn *t = NULL;
    if (!cert || (rc = store_read_begin(n.st, &t))) {
        free(cert);
        tv_node_close(&n);
        return tv_cli_fail(cli, rc ? rc : TV_ENOMEM, "cannot verify");
    }
    tv_code_verdict v;
    if ((rc = tv_venue_code_check(t, &n, &p, cert, &v))) {
        store_read_end(t);
        free(cert);
        tv_node_close(&n);
        return tv_cli_fail(cli, rc, "cannot verify");
    }
    store_venue venue;
    const store_venue *vp = store_venue_get(t, p.venue, &venue) == 0 ? &venue : NULL;
    static const struct {
        const char *result, *why;
        int exit;
    } says[] = {
        [TV_CODE_GENUINE] = {"genuine", "signed by the commune node that registered it", 0},
        [TV_CODE_OWN] = {"genuine", "signed by this node", 0},
        [TV_CODE_FORGED] = {"forged", "the signature does not verify", EXIT_FORGED},
        [TV_CODE_UNKNOWN] = {"unknown signer",
                             "no certificate of the signing node here (enrol this node, or sync)",
                             EXIT_UNKNOWN},
        [TV_CODE_REVOKED] = {"revoked signer", "the node that signed it has been revoked",
                             EXIT_REVOKED},
        [TV_CODE_OUT_OF_SCOPE] = {"forged",
                                  "signed by a node that does not register venues in this unit",
                                  EXIT_FORGED},
    };
    int with_cert = v == TV_CODE_GENUINE || v == TV_CODE_REVOKED || v == TV_CODE_OUT_OF_SCOPE;
    verdict(json, says[v].result, says[v].why, &p, with_cert ? cert : NULL, vp);
    int out = says[v].exit;
    store_read_end(t);
    free(cert);
    tv_node_close(&n);
    return out;
}

static int person_card(tv_cli *cli, int argc, char **argv);

static const tv_opt card_opts[] = {
    {"person", 'p', "TEXT",
     "what the person's chip ID card (CCCD) or health-insurance card\n"
     "(BHYT) QR holds, or a phone or ID number (--cccd and --bhyt are\n"
     "the same option, by name)",
     0, 0},
    {"phone", 'P', "PHONE", "a phone number; --name NAME (after it) adds the person's name", 0, 0},
    {.id = TV_O_OUT, .help = ".pdf, .png (300 dpi) or .svg (in cm); one card per page"},
    {"sheet", 's', NULL, "nine cards to an A4 page, with cut lines (for several people)", 0, 0},
    {"cccd", 'p', "TEXT", NULL, TV_OPT_HIDDEN, 0},
    {"bhyt", 'p', "TEXT", NULL, TV_OPT_HIDDEN, 0},
    {"name", 'n', "NAME", NULL, TV_OPT_HIDDEN, 0},
    {0}};

const tv_command tv_command_person_card = {
    .name = "card",
    .summary = "A personal QR card for someone without a phone.",
    .usage = "person card (--person TEXT | --cccd TEXT | --bhyt TEXT |\n"
             "                                     --phone PHONE [--name NAME])... --out FILE\n"
             "                                     [--sheet]",
    .about = "Issue a personal QR code for someone without a phone, printed on a 6 x 9 cm card\n"
             "(the code 5 x 5 cm): it carries the person's pseudonym and masked name and number,\n"
             "signed by this node; nothing personal in clear. Scanning it at a gate\n"
             "('truyvet station') works like scanning their ID card. The first time this node\n"
             "meets the person, their details are sealed to the health authority, as at a gate.\n",
    .opts = card_opts,
    .more = "Each --person, --cccd, --bhyt or --phone is one person and adds one card: give one\n"
            "of them per person (the ID card's QR when there is one, else a phone with its\n"
            "--name), and several people's on one A4 page with --sheet. The codes are printed on\n"
            "standard output, one per line, once the cards are written.\n",
    .fn = person_card,
    .col = 13,
};

/* Reads what one --person (or --phone) gave, with its --name if any, into card. Returns 0
 * or an exit status after a usage message. */
static int card_read(const char *text, const char *name, tv_card *card)
{
    tv_why why;
    if (tv_card_input(text, name, card, &why)) return tv_cli_usage("person card", "%s", why.en);
    return 0;
}

/* Checks the file the n cards go to (out, maybe NULL): its kind, and one page unless a PDF.
 * Returns 0 or an exit status after a message. */
static int cards_out_check(const char *out, size_t n, int sheet)
{
    if (!out) return tv_cli_usage("person card", "say where to write the cards: --out FILE.");
    tv_format f = tv_format_of(out);
    if (!f)
        return tv_cli_usage("person card", "'%s': the file name must end in .pdf, .png or .svg.",
                            out);
    if (f != TV_FMT_PDF && n > (sheet ? 9u : 1u))
        return tv_cli_usage("person card", "a %s file holds one page: %s; write a .pdf.",
                            f == TV_FMT_PNG ? "PNG" : "SVG",
                            sheet ? "at most 9 cards" : "one card, or use --sheet");
    return tv_cli_out_check(out) ? TV_EXIT_FAIL : 0;
}

/* Issues the n cards through nd (card_issue.h), writes them to out (one a page, or nine an
 * A4 sheet with sheet) and prints the codes. After a failure nothing is committed. Returns
 * 0 or an exit status after a message. */
static int cards_issue(tv_cli *cli, tv_node *nd, const tv_card *cards, size_t n, const char *out,
                       int sheet)
{
    tv_card_issued *is = calloc(n, sizeof *is);
    char(*line2)[sizeof nd->name + 32] = calloc(n, sizeof *line2);
    tv_card_face *faces = calloc(n, sizeof *faces);
    int rc = is && line2 && faces ? tv_cards_issue(nd, cards, n, is) : TV_ENOMEM;
    if (rc == TV_EPERM) {
        tv_cli_error("this node holds no pseudonym key: a district without the health flag "
                     "cannot issue personal cards; the commune or the health authority does.");
        rc = TV_EXIT_FAIL;
    }
    for (size_t i = 0; i < n && rc == 0; i++) {
        snprintf(line2[i], sizeof line2[i], "%s", nd->name);
        faces[i] = (tv_card_face){is[i].code, is[i].pc.display, line2[i]};
    }
    if (rc == 0) rc = tv_cards_write(out, faces, n, sheet);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            puts(is[i].code);
        fprintf(stderr, "wrote %zu card%s to %s\n", n, n == 1 ? "" : "s", out);
    } else if (rc < 0) {
        rc = tv_cli_fail_out(cli, rc, "the cards were not written", out);
    }
    free(is);
    free(line2);
    free(faces);
    return rc;
}

static int person_card(tv_cli *cli, int argc, char **argv)
{
    const char *texts[TV_CARDS_MAX], *names[TV_CARDS_MAX] = {0}, *out = NULL;
    size_t n = 0;
    int sheet = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'p':
        case 'P':
            if (n == TV_CARDS_MAX)
                return tv_cli_usage("person card", "at most %d cards at a time.", TV_CARDS_MAX);
            texts[n++] = tv_cli_nfc(optarg);
            break;
        case 'n':
            if (n == 0 || names[n - 1])
                return tv_cli_usage("person card", "--name goes after the --phone it names.");
            names[n - 1] = tv_cli_nfc(optarg);
            break;
        case 's':
            sheet = 1;
            break;
        }
    }
    if (c < 0) return ta.status;
    out = ta.o.out;
    if (optind < argc)
        return tv_cli_usage("person card", "unexpected argument '%s'.", argv[optind]);
    if (n == 0) return tv_cli_usage("person card", "whose card? Give --person TEXT.");
    int rc = cards_out_check(out, n, sheet);
    if (rc) return rc;

    tv_card *cards = calloc(n, sizeof *cards);
    if (!cards) return tv_cli_fail(cli, TV_ENOMEM, "no card was issued");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = card_read(texts[i], names[i], &cards[i]);
    tv_node nd;
    if (rc || (rc = tv_cli_open(cli, &nd, TV_NODE_WRITE))) {
        sodium_memzero(cards, n * sizeof *cards);
        free(cards);
        return rc;
    }
    rc = cards_issue(cli, &nd, cards, n, out, sheet);
    sodium_memzero(cards, n * sizeof *cards);
    tv_node_close(&nd);
    free(cards);
    return rc;
}

/* `qr node --out FILE`: what the node above needs to enrol this one, as a QR code. */
static int qr_node(tv_cli *cli, int argc, char **argv)
{
    const char *out;
    int rc = out_option(cli, argc, argv, &out);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("qr node", "unexpected argument '%s'.", argv[optind]);
    if (!out || !tv_format_of(out))
        return tv_cli_usage("qr node", "say where to write it: --out FILE.pdf, .png or .svg.");
    if ((rc = tv_cli_out_check(out))) return rc;
    tv_node n;
    rc = tv_cli_open(cli, &n, TV_NODE_SECRET); /* a signed request */
    if (rc) return rc;
    char text[TV_ENROLL_REQUEST_BYTES_MAX + 1], hex[2 * TV_NODE_ID_BYTES + 1], line[64];
    char what[64 + TV_UNIT_CODE_MAX];
    tv_hex_encode(hex, n.id.pk, TV_NODE_ID_BYTES);
    const char *header, *how;
    if (n.role == TV_ROLE_PROVINCE) {
        /* the root of trust: its key, which the nodes below compare with on enrolment */
        snprintf(text, sizeof text, "%s", hex);
        header = "KHÓA GỐC CỦA TỈNH";
        how = "Khóa công khai của nút tỉnh, gốc tin cậy: các nút cấp dưới đối chiếu khi nhận "
              "chứng chỉ ('truyvet enroll accept').";
    } else {
        tv_enroll_request r;
        int len = 0;
        if ((rc = tv_enroll_request_make(&n, &r)) == TV_OK &&
            (len = tv_enroll_request_format(&r, text, sizeof text - 1)) < 0)
            rc = len;
        if (rc) {
            tv_node_close(&n);
            return tv_cli_fail(cli, rc, "cannot make the enrolment request");
        }
        text[len] = '\0';
        header = "YÊU CẦU ĐĂNG KÝ NÚT";
        how = "Người quản trị nút cấp trên quét mã này vào 'truyvet enroll issue -' để cấp "
              "chứng chỉ cho nút.";
    }
    snprintf(line, sizeof line, "Nút %.16s", hex);
    snprintf(what, sizeof what, "%s %s", tv_role_name(n.role), n.unit);
    tv_poster po = {.payload = text,
                    .header = header,
                    .title = n.name,
                    .category = what,
                    .place = "",
                    .code_line = line,
                    .instructions = how};
    if ((rc = tv_poster_write(out, &po)))
        rc = tv_cli_fail_out(cli, rc, "the code was not written", out);
    else
        fprintf(stderr, "wrote the %s of this node to %s\n",
                n.role == TV_ROLE_PROVINCE ? "root key" : "enrolment request", out);
    tv_node_close(&n);
    return rc;
}

/* `qr person`: `person card` under the name the qr commands give it */
static const tv_command qr_person_cmd = {
    .name = "person",
    .summary = "Personal cards for people without a phone: see 'truyvet person card --help'.",
    .usage = "qr person --person TEXT... --out FILE [--sheet]",
    .about = "Personal QR cards for people without a phone, as 'truyvet person card' issues\n"
             "them.\n",
    .opts = card_opts,
    .fn = person_card,
    .col = 13,
};

const tv_command tv_command_qr = {
    .name = "qr",
    .summary = "venue posters, personal cards, the enrolment request as a QR code,\n"
               "and checking a poster's code offline",
    .subs = (const tv_command *const[]){&qr_venue_cmd, &qr_person_cmd, &qr_node_cmd, &qr_verify_cmd,
                                        NULL},
};
