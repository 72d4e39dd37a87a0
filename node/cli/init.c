/* `truyvet init`: create a node directory. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/account.h"
#include "node/logic/enroll.h"
#include "node/render/json.h"
#include "node/daemon/netconf.h"

#include <getopt.h>
#include <string.h>

static int cmd_init(tv_cli *cli, int argc, char **argv);

static const tv_opt init_opts[] = {
    {"role", 'r', "ROLE", "commune, district or province", 0, 0},
    {"unit", 'u', "CODE",
     "the official code of the unit the node serves: 5 digits for a\n"
     "commune (xã/phường), 3 for a district, 2 for a province. A\n"
     "commune's or province's code must be in the official list built\n"
     "into truyvet ('truyvet unit list --under 56' shows a province's)",
     0, 0},
    {"unlisted", 'U', NULL,
     "take a commune or province code that is not in that list (a\n"
     "unit created after it, or a test network)",
     0, 0},
    {"name", 'n', "NAME", "a name people recognise, e.g. \"UBND Phường Bắc Nha Trang\"", 0, 0},
    {"health", 'H', NULL,
     "(province only; the default) the root holds the health flag: it\n"
     "may record risk levels and case statuses and grant that right",
     0, 0},
    {"no-health", 'N', NULL, "(province only) a root without the health flag", 0, 0},
    {"listen", 'l', "ENDPOINT", "where 'truyvet serve' listens, e.g. tcp://0.0.0.0:7400", 0, 0},
    {"parent", 'p', "[NODEID@]ENDPOINT",
     "a parent to sync with, nearest first (the district,\n"
     "then the province as a fallback); repeat for each. Without NODEID,\n"
     "the parent's key comes from this node's certificate chain after\n"
     "enrolment. Change later with 'truyvet peer'.",
     0, 0},
    {.id = TV_O_JSON,
     .help = "print {\"node_id\", \"role\", \"unit\", \"name\", \"dir\"} instead,\n"
             "and \"root\" for a province"},
    {.id = TV_O_PASSFILE},
    {.id = TV_O_KDF},
    {"operator", 'o', "NAME",
     "also create the operator account NAME of the node's console\n"
     "(its password is asked twice on the terminal)",
     0, 0},
    {"operator-password-file", 'O', "FILE",
     "its password: the first line of FILE\n"
     "('-': stdin; its second line when the passphrase\n"
     "is read from stdin too)",
     0, 0},
    {0}};

const tv_command tv_command_init = {
    .name = "init",
    .summary = "create a node (its keys and store)",
    .usage = "init --role ROLE --unit CODE --name NAME [--unlisted]\n"
             "                            [--health | --no-health] [--listen ENDPOINT]\n"
             "                            [--parent [NODEID@]ENDPOINT]... [--json]\n"
             "                            [--passphrase-file FILE] [--kdf LEVEL]\n"
             "                            [--operator NAME [--operator-password-file FILE]]",
    .about = "Create a new node in DIR: its key pair and tracing key, encrypted under a\n"
             "passphrase in DIR/node.secret, and its store. Prints the node id (the public key,\n"
             "64 hex digits). The passphrase is asked twice on the terminal, unless given with\n"
             "--passphrase-file or a systemd credential ($CREDENTIALS_DIRECTORY/passphrase); the\n"
             "new node is left unlocked, as 'truyvet unlock' leaves it. Keep the passphrase: a\n"
             "forgotten one cannot be recovered (see README, 'Secrets at rest').\n"
             "\n"
             "A province node is the root of trust of its tree: init records its own certificate\n"
             "(signed by itself) in its log. A district or commune node must then be enrolled by\n"
             "the node above it: see 'truyvet enroll --help'.\n",
    .opts = init_opts,
    .more = "DIR is -d DIR, else $TRUYVET_DIR, else ~/.local/share/truyvet.\n",
    .fn = cmd_init,
    .col = 12,
};

/* Makes the new province node its own root. The node exists by now; if this fails, the
 * operator is told how to start again rather than left with a root-less province. */
static int make_root(tv_cli *cli, int health, const tv_pass *pass)
{
    tv_node n;
    int rc = tv_node_open(&n, cli->dir, TV_NODE_WRITE);
    if (rc == TV_OK && !n.unlocked) rc = tv_node_unlock(&n, pass->p, pass->len);
    if (rc == TV_OK) {
        rc = tv_enroll_make_root(&n, health, NULL);
        tv_node_close(&n);
    }
    if (rc == TV_OK) return TV_EXIT_OK;
    tv_cli_fail(cli, rc, "cannot record the province's root certificate");
    tv_cli_error("the node in %s was created without its root certificate; remove that "
                 "directory and run init again.",
                 cli->dir);
    return TV_EXIT_FAIL;
}

static int netconf_fn(store_txn *t, void *arg)
{
    return tv_netconf_put(t, arg);
}

static int save_netconf(tv_cli *cli, tv_netconf *net)
{
    tv_node n;
    int rc = tv_node_open(&n, cli->dir, 0);
    if (rc == TV_OK) {
        rc = store_write(n.st, netconf_fn, net);
        tv_node_close(&n);
    }
    if (rc == TV_OK) return TV_EXIT_OK;
    tv_cli_fail(cli, rc, "cannot record the network configuration");
    tv_cli_error("the node was created; set its network with 'truyvet peer'.");
    return TV_EXIT_FAIL;
}

/* What init was told: the node's role, unit and name, the health flag, the network, and
 * the console's operator account. */
typedef struct init_args {
    const char *role_s, *unit, *name;
    const char *op, *op_file; /* --operator, --operator-password-file */
    int health, unlisted;     /* health -1: not given */
    tv_netconf net;
} init_args;

/* Takes one of init's own options into a; returns 0 or TV_EXIT_USAGE after a message. */
static int init_option(int c, init_args *a)
{
    switch (c) {
    case 'r':
        a->role_s = optarg;
        break;
    case 'u':
        a->unit = optarg;
        break;
    case 'n':
        a->name = tv_cli_nfc(optarg);
        break;
    case 'U':
        a->unlisted = 1;
        break;
    case 'o':
        a->op = optarg;
        break;
    case 'O':
        a->op_file = optarg;
        break;
    case 'H':
    case 'N':
        if (a->health >= 0 && a->health != (c == 'H'))
            return tv_cli_usage("init", "give either --health or --no-health, not both.");
        a->health = c == 'H';
        break;
    case 'l': {
        tv_net_link l;
        if (tv_net_link_parse(optarg, &l) || l.has_key)
            return tv_cli_usage("init", "'%s' is not an endpoint like tcp://0.0.0.0:7400.", optarg);
        strcpy(a->net.listen, l.endpoint);
        break;
    }
    case 'p':
        if (a->net.len == TV_NET_LINKS_MAX)
            return tv_cli_usage("init", "at most %d parents.", TV_NET_LINKS_MAX);
        if (tv_net_link_parse(optarg, &a->net.links[a->net.len]))
            return tv_cli_usage("init",
                                "'%s' is not an endpoint like tcp://HOST:PORT (optionally "
                                "NODEID@tcp://HOST:PORT).",
                                optarg);
        a->net.links[a->net.len++].parent = 1;
        break;
    }
    return 0;
}

/* Checks the role, the unit's code, the name and the health flag; returns 0 with *role
 * set, or TV_EXIT_USAGE after a message. */
static int init_check(const init_args *a, tv_role *role)
{
    int rc;
    if (!a->role_s || !a->unit || !a->name)
        return tv_cli_usage("init", "init needs --role, --unit and --name.");
    *role = tv_role_parse(a->role_s);
    if (!*role)
        return tv_cli_usage("init", "role '%s' is not one of commune, district, province.",
                            a->role_s);
    size_t want = *role == TV_ROLE_PROVINCE ? 2 : *role == TV_ROLE_DISTRICT ? 3 : 5;
    if (strlen(a->unit) != want || strspn(a->unit, "0123456789") != want)
        return tv_cli_usage("init", "a %s's unit code has %zu digits; '%s' does not.",
                            tv_role_name(*role), want, a->unit);
    /* there is no official list of districts since 2025: a district's code is its own */
    if (*role != TV_ROLE_DISTRICT && !a->unlisted &&
        (rc = tv_cli_unit_known("init", NULL, a->unit)))
        return rc;
    if (a->name[0] == '\0' || strlen(a->name) > TV_NODE_NAME_MAX)
        return tv_cli_usage("init", "the name must have 1 to %d bytes.", TV_NODE_NAME_MAX);
    rc = tv_cli_text("init", "name", a->name, TV_NODE_NAME_MAX);
    if (rc) return rc;
    char op[TV_ACCOUNT_NAME_MAX + 1];
    const char *why;
    if (a->op_file && !a->op)
        return tv_cli_usage("init", "--operator-password-file goes with --operator NAME.");
    if (a->op && tv_account_name_norm(TV_ACCOUNT_OPERATOR, a->op, op, &why))
        return tv_cli_usage("init", "cannot add the operator '%s': %s.", a->op, why);
    if (a->health >= 0 && *role != TV_ROLE_PROVINCE)
        return tv_cli_usage("init",
                            "--health and --no-health are for a province (the root); a %s "
                            "gets the health flag, if at all, in the certificate its parent "
                            "issues ('enroll issue --health').",
                            tv_role_name(*role));
    return 0;
}

/* Reads the operator's password (after the node's passphrase, read from pass_file: from
 * standard input both, it is the second line) and checks it. Returns 0, or an exit status
 * after a message. */
static int operator_password(const init_args *a, const char *pass_file, tv_pass *p)
{
    int line =
        a->op_file && pass_file && strcmp(a->op_file, "-") == 0 && strcmp(pass_file, "-") == 0;
    char prompt[80];
    snprintf(prompt, sizeof prompt, "Password for the operator %s: ", a->op);
    int rc = tv_cli_password_get(a->op_file, line, prompt, 1, p);
    const char *why;
    if (rc == 0 && tv_account_pass_check(TV_ACCOUNT_OPERATOR, p->p, p->len, &why)) {
        tv_cli_pass_free(p);
        rc = tv_cli_usage("init", "%s; nothing was created.", why);
    }
    return rc;
}

/* Adds the operator account to the new node. Returns the exit status. */
static int operator_add(tv_cli *cli, const init_args *a, const tv_pass *p)
{
    tv_node n;
    const char *why = NULL;
    int rc = tv_node_open(&n, cli->dir, 0);
    if (rc == TV_OK) {
        rc = tv_account_add(&n, &TV_ACCOUNT_CLI, a->op, TV_ACCOUNT_OPERATOR, p->p, p->len,
                            tv_wall_ms(), &why);
        tv_node_close(&n);
    }
    if (rc == TV_OK) return TV_EXIT_OK;
    tv_cli_account_add_fail(cli, rc, a->op, TV_ACCOUNT_OPERATOR, why);
    tv_cli_error("the node was created without its operator account; add it with 'truyvet "
                 "user add %s --role operator'.",
                 a->op);
    return TV_EXIT_FAIL;
}

/* Prints the new node's id (or --json's object), then on stderr what was created and
 * what to do next. */
static void init_print(const tv_cli *cli, const init_args *a, tv_role role,
                       const uint8_t id[TV_NODE_ID_BYTES], int json)
{
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "node_id");
        tv_json_hex(&j, id, TV_NODE_ID_BYTES);
        tv_json_key(&j, "role");
        tv_json_string(&j, tv_role_name(role));
        tv_json_key(&j, "unit");
        tv_json_string(&j, a->unit);
        tv_json_key(&j, "name");
        tv_json_string(&j, a->name);
        tv_json_key(&j, "dir");
        tv_json_string(&j, cli->dir);
        if (role == TV_ROLE_PROVINCE) {
            tv_json_key(&j, "root");
            tv_json_hex(&j, id, TV_NODE_ID_BYTES);
        }
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    } else {
        char hex[2 * TV_NODE_ID_BYTES + 1];
        tv_hex_encode(hex, id, TV_NODE_ID_BYTES);
        puts(hex);
    }
    fprintf(stderr, "created %s node for unit %s in %s\n", tv_role_name(role), a->unit, cli->dir);
    {
        tv_node n;
        if (tv_node_open(&n, cli->dir, 0) == TV_OK) {
            if (!n.unlocked)
                fprintf(stderr, "the kernel keyring could not keep the node unlocked: run "
                                "'truyvet unlock' before commands that need its secrets\n");
            tv_node_close(&n);
        }
    }
    if (role == TV_ROLE_PROVINCE)
        fprintf(stderr,
                "this node is the root of trust of its tree%s; enrol districts with "
                "'truyvet enroll issue'\n",
                a->health != 0 ? " and holds the health flag" : "");
    else
        fprintf(stderr, "next: 'truyvet enroll request' and take the request to the node "
                        "above this one\n");
}

static int cmd_init(tv_cli *cli, int argc, char **argv)
{
    init_args a;
    memset(&a, 0, sizeof a);
    a.health = -1;
    int c, rc;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0)
        if ((rc = init_option(c, &a))) return rc;
    if (c < 0) return ta.status;
    int json = ta.o.json;
    const char *pass_file = ta.o.passphrase_file;
    const char *kdf_s = ta.o.kdf;
    if (optind < argc) return tv_cli_usage("init", "unexpected argument '%s'.", argv[optind]);
    tv_role role = 0;
    if ((rc = init_check(&a, &role))) return rc;

    tv_kdf_level kdf;
    if ((rc = tv_cli_kdf_option("init", kdf_s, &kdf))) return rc;
    tv_pass pass;
    if ((rc = tv_cli_pass_get(pass_file, 0, "Passphrase for the node's secrets: ", 1, &pass)))
        return rc;
    tv_pass op = {0};
    if (a.op && (rc = operator_password(&a, pass_file, &op))) {
        tv_cli_pass_free(&pass);
        return rc;
    }
    uint8_t id[TV_NODE_ID_BYTES];
    rc = tv_node_create(cli->dir, role, a.unit, a.name, pass.p, pass.len, kdf, id);
    if (rc == TV_OK && role == TV_ROLE_PROVINCE) rc = make_root(cli, a.health != 0, &pass) ? 1 : 0;
    if (rc == TV_OK && a.op) rc = operator_add(cli, &a, &op) ? 1 : 0;
    tv_cli_pass_free(&pass);
    tv_cli_pass_free(&op);
    if (rc == 1) return TV_EXIT_FAIL;
    if (rc == TV_EEXIST) {
        tv_cli_error("%s already holds a node; nothing was changed. Use another directory "
                     "with -d DIR.",
                     cli->dir);
        return TV_EXIT_FAIL;
    }
    if (rc == TV_EINVAL) return tv_cli_usage("init", "the name is not valid UTF-8 text.");
    if (rc) return tv_cli_fail(cli, rc, "cannot create the node");
    if ((a.net.listen[0] || a.net.len) && (rc = save_netconf(cli, &a.net))) return rc;
    init_print(cli, &a, role, id, json);
    return TV_EXIT_OK;
}
