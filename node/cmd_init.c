/* `truyvet init`: create a node directory. */
#include "crdt/error.h"
#include "node/cli.h"
#include "node/json.h"

#include <getopt.h>
#include <string.h>

static const char help[] =
    "Usage: truyvet [-d DIR] init --role ROLE --unit CODE --name NAME [--json]\n"
    "\n"
    "Create a new node in DIR: its key pair (node.key, readable only by you), its\n"
    "tracing key and its store. Prints the node id (the public key, 64 hex digits).\n"
    "\n"
    "  --role ROLE   commune, district or province\n"
    "  --unit CODE   the official code of the unit the node serves: 5 digits for a\n"
    "                commune (xa/phuong), 3 for a district, 2 for a province\n"
    "  --name NAME   a name people recognise, e.g. \"UBND Phuong Bac Nha Trang\"\n"
    "  --json        print {\"node_id\", \"role\", \"unit\", \"name\", \"dir\"} instead\n"
    "\n"
    "DIR is -d DIR, else $TRUYVET_DIR, else ~/.local/share/truyvet.\n";

int tv_cmd_init(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"role", required_argument, 0, 'r'}, {"unit", required_argument, 0, 'u'},
        {"name", required_argument, 0, 'n'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},       {0, 0, 0, 0}};
    const char *role_s = NULL, *unit = NULL, *name = NULL;
    int json = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            role_s = optarg;
            break;
        case 'u':
            unit = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("init", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("init", "unexpected argument '%s'.", argv[optind]);
    if (!role_s || !unit || !name)
        return tv_cli_usage("init", "init needs --role, --unit and --name.");
    tv_role role = tv_role_parse(role_s);
    if (!role)
        return tv_cli_usage("init", "role '%s' is not one of commune, district, province.", role_s);
    size_t want = role == TV_ROLE_PROVINCE ? 2 : role == TV_ROLE_DISTRICT ? 3 : 5;
    if (strlen(unit) != want || strspn(unit, "0123456789") != want)
        return tv_cli_usage("init", "a %s's unit code has %zu digits; '%s' does not.",
                            tv_role_name(role), want, unit);
    if (name[0] == '\0' || strlen(name) > TV_NODE_NAME_MAX)
        return tv_cli_usage("init", "the name must have 1 to %d bytes.", TV_NODE_NAME_MAX);

    uint8_t id[TV_NODE_ID_BYTES];
    int rc = tv_node_create(cli->dir, role, unit, name, id);
    if (rc == TV_EEXIST) {
        tv_cli_error("%s already holds a node; nothing was changed. Use another directory "
                     "with -d DIR.",
                     cli->dir);
        return TV_EXIT_FAIL;
    }
    if (rc == TV_EINVAL) return tv_cli_usage("init", "the name is not valid UTF-8 text.");
    if (rc) return tv_cli_fail(cli, rc, "cannot create the node");
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "node_id");
        tv_json_hex(&j, id, sizeof id);
        tv_json_key(&j, "role");
        tv_json_string(&j, tv_role_name(role));
        tv_json_key(&j, "unit");
        tv_json_string(&j, unit);
        tv_json_key(&j, "name");
        tv_json_string(&j, name);
        tv_json_key(&j, "dir");
        tv_json_string(&j, cli->dir);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    } else {
        char hex[2 * TV_NODE_ID_BYTES + 1];
        tv_hex_encode(hex, id, sizeof id);
        puts(hex);
    }
    fprintf(stderr, "created %s node for unit %s in %s\n", tv_role_name(role), unit, cli->dir);
    return TV_EXIT_OK;
}
