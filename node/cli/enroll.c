/* `truyvet enroll request|show|issue|accept`: joining a province's tree of trust. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/enroll.h"
#include "node/format/fileio.h"
#include "node/render/json.h"
#include "node/print/qr.h"
#include "node/format/timefmt.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define READ_BYTES_MAX (TV_ENROLL_CERT_FILE_BYTES_MAX + 4096) /* CRLF line ends included */

static int enroll_request(tv_cli *cli, int argc, char **argv);

static const tv_opt request_opts[] = {
    {.id = TV_O_OUT, .help = "where to write the request ('-' for standard output)"},
    {"qr", 'q', NULL,
     "also show the request as a QR code on the terminal (standard error),\n"
     "for a QR reader at the parent that types it into\n"
     "'truyvet enroll issue - --out FILE'",
     0, 0},
    {0}};

static const tv_command enroll_request_cmd = {
    .name = "request",
    .summary = "At the new node: write its enrolment request (its id, role, unit and name,\n"
               "signed with its key) to FILE, or to standard output. Take it to the operator\n"
               "of the node above; --qr also shows it as a QR code on the terminal, and\n"
               "'truyvet qr node --out FILE' prints it as one.",
    .usage = "enroll request [--out FILE] [--qr]",
    .about = "Write this node's enrolment request to FILE (replaced if it exists), or to standard\n"
             "output when FILE is '-' or --out is not given. The request is a short text file:\n"
             "the node's id, role, unit, name and creation time, signed with the node's key to\n"
             "prove that whoever wrote it holds that key. It holds no secret.\n"
             "\n"
             "Take it (USB stick, e-mail) to the operator of the node above, who runs 'truyvet\n"
             "enroll issue' with it.\n",
    .opts = request_opts,
    .more = NULL,
    .fn = enroll_request,
    .col = 10,
};

static int enroll_show(tv_cli *cli, int argc, char **argv);

static const tv_command enroll_show_cmd = {
    .name = "show",
    .summary = "Print a request or certificate file and check its signatures.",
    .usage = "enroll show FILE [--json]",
    .about =
        "Print an enrolment request or a certificate file (FILE '-' reads standard input) and\n"
        "check its signatures: exit status 1 when it was altered or is not such a file. No\n"
        "node is needed.\n",
    .opts = (const tv_opt[]){{.id = TV_O_JSON}, {0}},
    .fn = enroll_show,
};

static int enroll_issue(tv_cli *cli, int argc, char **argv);

static const tv_opt issue_opts[] = {
    {.id = TV_O_OUT, .help = "where to write the certificate file (mode 0644; replaced)"},
    {"scope", 's', "CODES",
     "units the new node may record for besides its own, comma-\n"
     "separated or repeated: a district's communes, e.g.\n"
     "--scope 22333,22334. Default: its own unit only",
     0, 0},
    {"days", 'D', "N",
     "valid for N days from now (default: as long as this node's own\n"
     "certificate, i.e. with no expiry when issued by the province)",
     0, 0},
    {"health", 'H', NULL,
     "grant the health flag (risk levels, case statuses); this node\n"
     "must hold it",
     0, 0},
    {"reissue", 'I', NULL,
     "record a new certificate although this node issued one to that\n"
     "node that still holds: another scope, --health or --days",
     0, 0},
    {0}};

static const tv_command enroll_issue_cmd = {
    .name = "issue",
    .summary = "At the node above: check REQUEST, record the new node's certificate in this\n"
               "node's log and write the certificate file to take back to it.",
    .usage = "enroll issue REQUEST --out FILE [--scope CODE[,CODE...]]\n"
             "                                    [--days N] [--health] [--reissue]",
    .about = "At the node above the requester (the province for a district, the district or the\n"
             "province for a commune): check the request file REQUEST ('-' for standard input),\n"
             "record a certificate for the requesting node in this node's log (so that it reaches\n"
             "every node as they sync), and write the certificate file FILE ('-' for standard\n"
             "output) to take back to the new node for 'truyvet enroll accept'.\n",
    .opts = issue_opts,
    .more = "The same request issued again with the same scope and flag (a lost file, a repeated\n"
            "command) records nothing: the file is written again around the certificate already\n"
            "issued, validity unchanged. A different scope or flag is refused (exit status 1)\n"
            "unless --reissue is given; the new certificate then replaces the old everywhere.\n"
            "\n"
            "Refused when this node is not enrolled or is a commune, when the requester's level\n"
            "is not below this node's, or when a unit is outside this node's own scope.\n",
    .fn = enroll_issue,
    .col = 14,
};

static int enroll_accept(tv_cli *cli, int argc, char **argv);

static const tv_command enroll_accept_cmd = {
    .name = "accept",
    .summary = "At the new node: check the certificate file and install it, with the\n"
               "pseudonym key it carries for this node.",
    .usage = "enroll accept FILE [--json]",
    .about = "Check the certificate file FILE ('-' for standard input) that the node above issued\n"
             "for this node, and install it: the root of trust (the province's key), the chain of\n"
             "certificates from the root down to this node's, and the key of person pseudonyms\n"
             "the file carries for it: the province's key for a health node, the commune's own\n"
             "key for a commune (or none: a health node sends it later), none for a district\n"
             "without the health flag. Prints what was installed.\n"
             "\n"
             "Persons recorded on this node before the tracing key changes keep their old\n"
             "pseudonyms: their visits do not match the ones recorded after. Enrol a node before\n"
             "it records scans.\n"
             "\n"
             "Refused when the file is for another node, was altered, does not chain to a root,\n"
             "or when this node already belongs to another province's tree. Accepting the same\n"
             "file twice changes nothing.\n",
    .opts =
        (const tv_opt[]){{.id = TV_O_JSON, .help = "print what was installed as one JSON object"},
                         {0}},
    .more = NULL,
    .fn = enroll_accept,
    .col = 0,
};

const tv_command tv_command_enroll = {
    .name = "enroll",
    .summary = "join the province's tree of trust: request, issue, accept certificates",
    .about = "Enrolment gives a node its certificate: proof, signed down from the province (the\n"
             "root of trust), of its role, its unit and the units it may record for. Other nodes\n"
             "take a node's data only once its certificate has reached them.\n",
    .more = "The province enrols its districts, a district its communes. 'truyvet revoke'\n"
            "withdraws a node's certificate.\n",
    .subs = (const tv_command *const[]){&enroll_request_cmd, &enroll_show_cmd, &enroll_issue_cmd,
                                        &enroll_accept_cmd, NULL},
};

/* Reads a request or certificate file, printing why it cannot. Returns 0 or an exit. */
static int read_input(const char *path, char **buf, size_t *len)
{
    int rc = tv_file_read(path, READ_BYTES_MAX, buf, len);
    if (rc == TV_OK) return TV_EXIT_OK;
    if (rc == TV_ENOTFOUND)
        tv_cli_error("cannot read %s: there is no such file.", path);
    else if (rc == TV_ELIMIT)
        tv_cli_error("%s is too large to be an enrolment request or certificate file.", path);
    else if (rc == TV_EIO)
        tv_cli_error("cannot read %s: %s.", path, strerror(errno));
    else
        tv_cli_error("cannot read %s: %s.", path, tv_strerror(rc));
    return TV_EXIT_FAIL;
}

/* Writes data to path ("-": standard output) atomically with the given mode. */
static int write_output(const char *path, const char *data, size_t len, mode_t mode)
{
    if (strcmp(path, "-") == 0) return fwrite(data, 1, len, stdout) == len ? TV_OK : TV_EIO;
    return tv_file_write_atomic(path, data, len, mode);
}

static const char *write_error(int rc)
{
    return rc == TV_ENOSPC ? "the disk is full" : rc == TV_EIO ? strerror(errno) : tv_strerror(rc);
}

static void short_id(char out[17], const uint8_t id[TV_NODE_ID_BYTES])
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, id, TV_NODE_ID_BYTES);
    memcpy(out, hex, 16);
    out[16] = '\0';
}

/* The options of the enroll subcommands, as parse() reads them by the descriptor of the
 * one running: returns -1 after printing help, 0 to go on, else an exit. Leaves optind at
 * the first positional argument. */
typedef struct enroll_args {
    const char *out;
    const char *scope[CRDT_CERT_SCOPE_MAX];
    uint32_t scope_len;
    uint32_t days;
    int health, json, qr, reissue;
    const char *reason;
} enroll_args;

static int parse(tv_cli *cli, int argc, char **argv, enroll_args *a)
{
    const char *cmd = cli->path;
    memset(a, 0, sizeof *a);
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 's':
            for (char *tok = optarg, *next; tok; tok = next) {
                next = strchr(tok, ',');
                if (next) *next++ = '\0';
                if (!*tok)
                    return tv_cli_usage(cmd, "--scope takes unit codes separated by commas, "
                                             "with no empty one.");
                if (a->scope_len == CRDT_CERT_SCOPE_MAX)
                    return tv_cli_usage(cmd, "a scope holds at most %d units.",
                                        CRDT_CERT_SCOPE_MAX);
                a->scope[a->scope_len++] = tok;
            }
            break;
        case 'D': {
            char *end;
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < 1 || v > TV_ENROLL_DAYS_MAX)
                return tv_cli_usage(cmd, "--days takes a whole number of days from 1 to %d.",
                                    TV_ENROLL_DAYS_MAX);
            a->days = (uint32_t)v;
            break;
        }
        case 'H':
            a->health = 1;
            break;
        case 'q':
            a->qr = 1;
            break;
        case 'I':
            a->reissue = 1;
            break;
        }
    }
    if (c < 0) return ta.status == TV_EXIT_OK ? -1 : ta.status;
    a->out = ta.o.out;
    a->json = ta.o.json;
    a->reason = ta.o.reason;
    return 0;
}

/* --- request ------------------------------------------------------------------------ */

static int enroll_request(tv_cli *cli, int argc, char **argv)
{
    enroll_args a;
    int rc = parse(cli, argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("enroll", "unexpected argument '%s'.", argv[optind]);
    const char *out = a.out ? a.out : "-";
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_SECRET))) return rc; /* signed */
    tv_enroll_request r;
    char text[TV_ENROLL_REQUEST_BYTES_MAX];
    int len = 0;
    if (n.role == TV_ROLE_PROVINCE) {
        tv_node_close(&n);
        tv_cli_error("a province node is the root of trust and is not enrolled by anyone; it "
                     "enrols its districts with 'truyvet enroll issue'.");
        return TV_EXIT_FAIL;
    }
    if ((rc = tv_enroll_request_make(&n, &r)) == TV_OK &&
        (len = tv_enroll_request_format(&r, text, sizeof text)) < 0)
        rc = len;
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "cannot make the enrolment request");
    if ((rc = write_output(out, text, (size_t)len, 0644))) {
        tv_cli_error("cannot write the request to %s: %s.", out, write_error(rc));
        return TV_EXIT_FAIL;
    }
    if (strcmp(out, "-") != 0)
        fprintf(stderr,
                "wrote the enrolment request of this %s (unit %s) to %s; take it to the "
                "operator of the node above, who runs 'truyvet enroll issue'\n",
                tv_role_name(r.role), r.unit, out);
    if (a.qr) {
        text[len] = '\0';
        if ((rc = tv_qr_print(stderr, text))) {
            tv_cli_error("cannot show the request as a QR code: %s.", tv_strerror(rc));
            return TV_EXIT_FAIL;
        }
    }
    return TV_EXIT_OK;
}

/* --- show --------------------------------------------------------------------------- */

static int show_request(const tv_enroll_request *r, int json)
{
    char hex[2 * TV_NODE_ID_BYTES + 1], when[40];
    tv_hex_encode(hex, r->node_id, TV_NODE_ID_BYTES);
    tv_time_format_vn(when, sizeof when, r->created_ms);
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "kind");
        tv_json_string(&j, "request");
        tv_json_key(&j, "node_id");
        tv_json_string(&j, hex);
        tv_json_key(&j, "role");
        tv_json_string(&j, tv_role_name(r->role));
        tv_json_key(&j, "unit");
        tv_json_string(&j, r->unit);
        tv_json_key(&j, "name");
        tv_json_string(&j, r->name);
        tv_json_key(&j, "created");
        tv_json_string(&j, when);
        tv_json_key(&j, "signature_valid");
        tv_json_bool(&j, true);
        tv_json_object_end(&j);
        return tv_json_line_end(&j) ? TV_EXIT_FAIL : TV_EXIT_OK;
    }
    printf("enrolment request (signature valid)\nnode      %s\nrole      %s\nunit      %s\n"
           "name      %s\ncreated   %s\n",
           hex, tv_role_name(r->role), r->unit, tv_text_esc(r->name), when);
    return TV_EXIT_OK;
}

static int show_cert_file(const tv_enroll_cert_file *f, int json)
{
    crdt_cert *c = malloc(sizeof *c);
    if (!c) {
        tv_cli_error("out of memory.");
        return TV_EXIT_FAIL;
    }
    char node[2 * TV_NODE_ID_BYTES + 1], root[2 * TV_NODE_ID_BYTES + 1],
        issuer[2 * TV_NODE_ID_BYTES + 1], when[40];
    tv_hex_encode(node, f->node_id, TV_NODE_ID_BYTES);
    tv_hex_encode(root, f->root, TV_NODE_ID_BYTES);
    tv_hex_encode(issuer, f->issuer, TV_NODE_ID_BYTES);
    tv_time_format_vn(when, sizeof when, f->issued_ms);
    int rc = TV_EXIT_OK;
    tv_json j;
    if (json) {
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "kind");
        tv_json_string(&j, "certificate");
        tv_json_key(&j, "node_id");
        tv_json_string(&j, node);
        tv_json_key(&j, "root");
        tv_json_string(&j, root);
        tv_json_key(&j, "issuer");
        tv_json_string(&j, issuer);
        tv_json_key(&j, "issued");
        tv_json_string(&j, when);
        tv_json_key(&j, "endpoints");
        tv_json_string(&j, f->endpoints);
        tv_json_key(&j, "signature_valid");
        tv_json_bool(&j, true);
        tv_json_key(&j, "chain");
        tv_json_array_begin(&j);
    } else {
        printf("certificate file (signature and chain valid)\nfor node  %s\nroot      %s\n"
               "issuer    %s\nissued    %s\nendpoints %s\nchain\n",
               node, root, issuer, when, f->endpoints[0] ? tv_text_esc(f->endpoints) : "(none)");
    }
    for (uint32_t i = 0; i < f->chain_len; i++) {
        /* the chain was checked by the parse, so every certificate opens */
        if (crdt_cert_open(c, f->cert[i], f->cert_len[i])) {
            rc = TV_EXIT_FAIL;
            break;
        }
        if (json) {
            tv_render_cert_json(&j, c);
        } else {
            char subject[2 * TV_NODE_ID_BYTES + 1];
            tv_hex_encode(subject, c->subject, TV_NODE_ID_BYTES);
            printf("  %u. %s: ", i + 1, subject);
            tv_render_cert_text(stdout, c);
            putchar('\n');
        }
    }
    if (json) {
        tv_json_array_end(&j);
        tv_json_object_end(&j);
        if (tv_json_line_end(&j)) rc = TV_EXIT_FAIL;
    }
    free(c);
    return rc;
}

static int enroll_show(tv_cli *cli, int argc, char **argv)
{
    enroll_args a;
    int rc = parse(cli, argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage("enroll", "enroll show needs exactly one FILE.");
    const char *path = argv[optind];
    char *buf, why[TV_ENROLL_WHY_MAX] = "";
    size_t len;
    if ((rc = read_input(path, &buf, &len))) return rc;
    if (strncmp(buf, "truyvet-enroll-request", 22) == 0) {
        tv_enroll_request r;
        rc = tv_enroll_request_parse(&r, buf, len, why);
        free(buf);
        if (rc) {
            tv_cli_error("%s is not a valid enrolment request: %s.", path, why);
            return TV_EXIT_FAIL;
        }
        return show_request(&r, a.json);
    }
    tv_enroll_cert_file *f = malloc(sizeof *f);
    if (!f) {
        free(buf);
        tv_cli_error("cannot read %s: out of memory.", path);
        return TV_EXIT_FAIL;
    }
    rc = tv_enroll_cert_file_parse(f, buf, len, why);
    free(buf);
    if (rc == TV_OK) {
        rc = show_cert_file(f, a.json);
    } else {
        tv_cli_error("%s is not a valid enrolment request or certificate file: %s.", path, why);
        rc = TV_EXIT_FAIL;
    }
    free(f);
    return rc;
}

/* --- issue -------------------------------------------------------------------------- */

static int enroll_issue(tv_cli *cli, int argc, char **argv)
{
    enroll_args a;
    int rc = parse(cli, argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc)
        return tv_cli_usage("enroll", "enroll issue needs exactly one REQUEST file.");
    if (!a.out) return tv_cli_usage("enroll", "enroll issue needs --out FILE.");
    const char *path = argv[optind];
    char *buf, why[TV_ENROLL_WHY_MAX] = "";
    size_t len;
    if ((rc = read_input(path, &buf, &len))) return rc;
    tv_enroll_request r;
    rc = tv_enroll_request_parse(&r, buf, len, why);
    free(buf);
    if (rc) {
        tv_cli_error("cannot issue a certificate: %s is not a valid enrolment request: %s.", path,
                     why);
        return TV_EXIT_FAIL;
    }
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    int same = 0;
    tv_enroll_issue_opts o = {.scope = a.scope,
                              .scope_len = a.scope_len,
                              .days = a.days,
                              .health = a.health,
                              .reissue = a.reissue,
                              .same = &same};
    char *file;
    size_t file_len;
    crdt_cert *c = malloc(sizeof *c);
    rc = c ? tv_enroll_issue(&n, &r, &o, &file, &file_len, c, why) : TV_ENOMEM;
    tv_node_close(&n);
    if (rc) {
        free(c);
        return tv_cli_enroll_fail(cli, rc, "cannot issue a certificate", why);
    }
    char id[17];
    short_id(id, r.node_id);
    if ((rc = write_output(a.out, file, file_len, 0644))) {
        tv_cli_error("the certificate for node %s... was recorded in this node's log, but %s "
                     "could not be written (%s); run the same command again to write it (the "
                     "same certificate: nothing more is recorded).",
                     id, a.out, write_error(rc));
        rc = TV_EXIT_FAIL;
    } else {
        fprintf(stderr, "issued to %s \"%s\" (node %s...): ", tv_role_name(r.role),
                tv_text_esc(r.name), id);
        tv_render_cert_text(stderr, c);
        fprintf(stderr,
                "\n%s; take the certificate file (%s) to that node for 'truyvet enroll "
                "accept'\n",
                same ? "already issued by this node: nothing new was recorded, the file holds "
                       "that certificate again"
                     : "recorded in this node's log",
                strcmp(a.out, "-") ? a.out : "written to standard output");
        rc = TV_EXIT_OK;
    }
    free(file);
    free(c);
    return rc;
}

/* --- accept ------------------------------------------------------------------------- */

/* Prints the certificate a node accepted (root and node in hex): one JSON object with json,
 * else one line per field. Returns the exit status. */
static int accepted_print(const tv_enroll_accepted *out, const char *root, const char *node,
                          int json)
{
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_render_enroll_accepted_json(&j, out);
        return tv_json_line_end(&j) ? TV_EXIT_FAIL : TV_EXIT_OK;
    }
    char scope[CRDT_CERT_SCOPE_MAX * (TV_UNIT_CODE_MAX + 1) + 1], from[40], until[48];
    char issuer[2 * TV_NODE_ID_BYTES + 1];
    tv_enroll_scope_format(scope, sizeof scope, &out->cert);
    tv_hex_encode(issuer, out->cert.issuer, TV_NODE_ID_BYTES);
    tv_time_format_vn(from, sizeof from, out->cert.not_before_ms);
    if (out->cert.not_after_ms) {
        strcpy(until, " until ");
        tv_time_format_vn(until + 7, sizeof until - 7, out->cert.not_after_ms);
    } else {
        strcpy(until, ", no expiry");
    }
    printf("root      %s\nnode      %s\nrole      %s\nunit      %s\nscope     %s\n"
           "health    %s\nissuer    %s\nvalid     from %s%s\n",
           root, node, tv_role_name((tv_role)out->cert.role), out->cert.unit, scope,
           out->cert.flags & CRDT_CERT_F_HEALTH ? "yes" : "no", issuer, from, until);
    return TV_EXIT_OK;
}

static int enroll_accept(tv_cli *cli, int argc, char **argv)
{
    enroll_args a;
    int rc = parse(cli, argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage("enroll", "enroll accept needs exactly one FILE.");
    const char *path = argv[optind];
    char *buf, why[TV_ENROLL_WHY_MAX] = "";
    size_t len;
    if ((rc = read_input(path, &buf, &len))) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) {
        free(buf);
        return rc;
    }
    tv_enroll_accepted *out = malloc(sizeof *out);
    rc = out ? tv_enroll_accept(&n, buf, len, out, why) : TV_ENOMEM;
    free(buf);
    tv_node_close(&n);
    if (rc) {
        free(out);
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "cannot accept %s", path);
        return tv_cli_enroll_fail(cli, rc, what, why);
    }
    char root[2 * TV_NODE_ID_BYTES + 1], node[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(root, out->root, TV_NODE_ID_BYTES);
    tv_hex_encode(node, out->cert.subject, TV_NODE_ID_BYTES);
    rc = accepted_print(out, root, node, a.json);
    fprintf(stderr, "enrolled: this node now trusts root %.16s... and holds its certificate\n",
            root);
    if (out->key_changed)
        fprintf(stderr,
                "the pseudonym key is now %s; persons recorded on this node before now "
                "keep their old pseudonyms and do not match their later visits\n",
                out->key_kind == TV_KEY_PROVINCE  ? "the province's"
                : out->key_kind == TV_KEY_COMMUNE ? "the commune's"
                                                  : "none (this node holds no pseudonym key)");
    if (out->resealed)
        fprintf(stderr,
                "the details of %" PRIu64 " people recorded before enrolment, sealed to this "
                "node until now, are re-sealed to the health authority\n",
                out->resealed);
    free(out);
    return rc;
}
