/* `truyvet venue add|list|show|edit`: the commune's venue registry. */
#include "crdt/error.h"
#include "node/category.h"
#include "node/cli.h"
#include "node/json.h"
#include "node/person.h"
#include "crdt/mp.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char help[] =
    "Usage: truyvet [-d DIR] venue COMMAND ...\n"
    "\n"
    "The venues registered at this commune node.\n"
    "\n"
    "  venue add --name NAME --category CATEGORY [--village VILLAGE] [--owner-phone PHONE]\n"
    "      Register a venue; prints only its id (16 hex digits) once it is on disk.\n"
    "  venue list [--json]\n"
    "      One line per venue (JSON Lines with --json).\n"
    "  venue show ID [--json]\n"
    "      One venue's details. ID may be a unique prefix of at least 4 digits.\n"
    "  venue edit ID [--name NAME] [--category CATEGORY] [--village VILLAGE]\n"
    "             [--owner-phone PHONE]\n"
    "      Change the given fields; the others stay as they are.\n"
    "  venue categories [--json]\n"
    "      The categories, with their codes and default stays.\n"
    "\n"
    "CATEGORY is a name from 'truyvet venue categories' (e.g. restaurant, market,\n"
    "school) or its number.\n";

typedef struct venue_args {
    const char *name, *category, *village, *owner_phone;
    int json;
} venue_args;

/* Parses the shared options; returns 0, or an exit status. Leaves optind at the first
 * positional argument. */
static int parse(const char *cmd, int argc, char **argv, venue_args *a)
{
    static const struct option opts[] = {{"name", required_argument, 0, 'n'},
                                         {"category", required_argument, 0, 'c'},
                                         {"village", required_argument, 0, 'v'},
                                         {"owner-phone", required_argument, 0, 'p'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    optind = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            a->name = optarg;
            break;
        case 'c':
            a->category = optarg;
            break;
        case 'v':
            a->village = optarg;
            break;
        case 'p':
            a->owner_phone = optarg;
            break;
        case 'j':
            a->json = 1;
            break;
        case 'h':
            fputs(help, stdout);
            return -1;
        default:
            return tv_cli_bad_option(cmd, c, argv);
        }
    }
    return 0;
}

static const tv_category *category_parse(const char *s)
{
    const tv_category *c = tv_category_by_slug(s);
    if (c) return c;
    char *end;
    long code = strtol(s, &end, 10);
    if (*s && *end == '\0' && code > 0 && code < 256) return tv_category_by_code((unsigned)code);
    return NULL;
}

static int text_ok(const char *what, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) return tv_cli_usage("venue", "the %s is too long (at most %zu bytes).", what, max);
    if (!crdt_utf8_valid(s, n))
        return tv_cli_usage("venue", "the %s is not valid UTF-8 text.", what);
    return 0;
}

/* Fills an upsert from the options given; returns 0 or an exit status. */
static int fill_upsert(const venue_args *a, crdt_venue_upsert *v, char phone[TV_PERSON_NORM_MAX])
{
    int rc;
    if (a->name) {
        if (a->name[0] == '\0') return tv_cli_usage("venue", "the venue name is empty.");
        if ((rc = text_ok("name", a->name, CRDT_TEXT_BYTES_MAX))) return rc;
        v->fields |= CRDT_VENUE_F_NAME;
        v->name = (crdt_text){a->name, (uint32_t)strlen(a->name)};
    }
    if (a->category) {
        const tv_category *c = category_parse(a->category);
        if (!c)
            return tv_cli_usage("venue",
                                "'%s' is not a venue category; 'truyvet venue categories' "
                                "lists them.",
                                a->category);
        v->fields |= CRDT_VENUE_F_CATEGORY;
        v->category = c->code;
    }
    if (a->village) {
        if ((rc = text_ok("village", a->village, CRDT_TEXT_BYTES_MAX))) return rc;
        v->fields |= CRDT_VENUE_F_VILLAGE;
        v->village = (crdt_text){a->village, (uint32_t)strlen(a->village)};
    }
    if (a->owner_phone) {
        tv_person_id pid;
        const char *why;
        if (tv_person_parse_typed(a->owner_phone, &pid, &why) || pid.kind != TV_ID_PHONE)
            return tv_cli_usage("venue",
                                "'%s' is not a phone number (10 digits starting "
                                "with 0).",
                                a->owner_phone);
        strcpy(phone, pid.norm);
        v->fields |= CRDT_VENUE_F_OWNER_PHONE;
        v->owner_phone = (crdt_text){phone, (uint32_t)strlen(phone)};
    }
    return 0;
}

static int record(tv_cli *cli, tv_node *n, const crdt_venue_upsert *v, const char *what)
{
    uint64_t seq;
    int rc = tv_node_add_venue(n, v, NULL);
    if (rc == 0) rc = tv_node_commit(n, &seq);
    if (rc) return tv_cli_fail(cli, rc, what);
    return TV_EXIT_OK;
}

static int require_commune(const tv_node *n)
{
    if (n->role == TV_ROLE_COMMUNE) return 0;
    tv_cli_error("venues are registered at commune nodes; this is a %s node (unit %s).",
                 tv_role_name(n->role), n->unit);
    return TV_EXIT_FAIL;
}

static int venue_add(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse("venue", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("venue", "unexpected argument '%s'.", argv[optind]);
    if (!a.name || !a.category)
        return tv_cli_usage("venue", "venue add needs at least --name and --category.");
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    if ((rc = fill_upsert(&a, &v, phone))) return rc;

    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    if ((rc = require_commune(&n))) goto out;
    randombytes_buf(v.venue, sizeof v.venue);
    v.fields |= CRDT_VENUE_F_UNIT;
    v.unit = (crdt_text){n.unit, (uint32_t)strlen(n.unit)};
    if ((rc = record(cli, &n, &v, "cannot register the venue"))) goto out;
    char hex[2 * TV_VENUE_ID_BYTES + 1];
    tv_hex_encode(hex, v.venue, sizeof v.venue);
    puts(hex);
out:
    tv_node_close(&n);
    return rc;
}

static int venue_edit(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse("venue", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage("venue", "venue edit needs exactly one venue ID.");
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    if ((rc = fill_upsert(&a, &v, phone))) return rc;
    if (v.fields == 0)
        return tv_cli_usage("venue", "say what to change: --name, --category, --village or "
                                     "--owner-phone.");
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    store_venue sv;
    if ((rc = require_commune(&n)) || (rc = tv_cli_venue_find(&n, argv[optind], &sv))) goto out;
    if (strcmp(sv.unit, n.unit) != 0) {
        tv_cli_error("venue %s belongs to unit %s; only that commune's node may change it.",
                     argv[optind], sv.unit);
        rc = TV_EXIT_FAIL;
        goto out;
    }
    memcpy(v.venue, sv.id, sizeof v.venue);
    if ((rc = record(cli, &n, &v, "cannot change the venue"))) goto out;
    fprintf(stderr, "venue updated\n");
out:
    tv_node_close(&n);
    return rc;
}

static void venue_json(tv_json *j, const store_venue *v)
{
    const tv_category *c = tv_category_by_code(v->category);
    char when[40];
    tv_json_object_begin(j);
    tv_json_key(j, "id");
    tv_json_hex(j, v->id, sizeof v->id);
    tv_json_key(j, "unit");
    tv_json_string(j, v->unit);
    tv_json_key(j, "name");
    tv_json_string(j, v->name);
    tv_json_key(j, "category");
    if (c)
        tv_json_string(j, c->slug);
    else
        tv_json_u64(j, v->category);
    tv_json_key(j, "category_name");
    tv_json_string(j, c ? c->name_vi : "");
    tv_json_key(j, "village");
    tv_json_string(j, v->village);
    tv_json_key(j, "owner_phone");
    tv_json_string(j, v->owner_phone);
    tv_cli_hlc_time(when, sizeof when, v->created_hlc);
    tv_json_key(j, "registered");
    tv_json_string(j, when);
    tv_cli_hlc_time(when, sizeof when, v->updated_hlc);
    tv_json_key(j, "updated");
    tv_json_string(j, when);
    tv_json_object_end(j);
}

static int list_one(const store_venue *v, void *arg)
{
    int json = *(int *)arg;
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        venue_json(&j, v);
        return tv_json_line_end(&j);
    }
    char hex[2 * TV_VENUE_ID_BYTES + 1], when[40];
    const tv_category *c = tv_category_by_code(v->category);
    tv_hex_encode(hex, v->id, sizeof v->id);
    tv_cli_hlc_time(when, sizeof when, v->created_hlc);
    when[10] = '\0';
    printf("%s  %s  %-16s  %s%s%s\n", hex, when, c ? c->slug : "?", v->name,
           v->village[0] ? " — " : "", v->village);
    return 0;
}

static int venue_list(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse("venue", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("venue", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = store_venue_foreach(t, list_one, &a.json);
        store_read_end(t);
    }
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot list the venues") : TV_EXIT_OK;
}

static int venue_show(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse("venue", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage("venue", "venue show needs exactly one venue ID.");
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_venue v;
    rc = tv_cli_venue_find(&n, argv[optind], &v);
    tv_node_close(&n);
    if (rc) return rc;
    if (a.json) {
        tv_json j;
        tv_json_init(&j, stdout);
        venue_json(&j, &v);
        tv_json_line_end(&j);
        return TV_EXIT_OK;
    }
    char hex[2 * TV_VENUE_ID_BYTES + 1], reg[40], upd[40];
    const tv_category *c = tv_category_by_code(v.category);
    tv_hex_encode(hex, v.id, sizeof v.id);
    tv_cli_hlc_time(reg, sizeof reg, v.created_hlc);
    tv_cli_hlc_time(upd, sizeof upd, v.updated_hlc);
    printf("id:          %s\nname:        %s\ncategory:    %s (%s)\nunit:        %s\n"
           "village:     %s\nowner phone: %s\nregistered:  %s\nupdated:     %s\n",
           hex, v.name, c ? c->slug : "unknown", c ? c->name_vi : "?", v.unit, v.village,
           v.owner_phone, reg, upd);
    return TV_EXIT_OK;
}

static int venue_categories(int argc, char **argv)
{
    venue_args a;
    int rc = parse("venue", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    const tv_category *c;
    for (size_t i = 0; (c = tv_category_at(i)); i++) {
        if (a.json) {
            tv_json j;
            tv_json_init(&j, stdout);
            tv_json_object_begin(&j);
            tv_json_key(&j, "code");
            tv_json_u64(&j, c->code);
            tv_json_key(&j, "slug");
            tv_json_string(&j, c->slug);
            tv_json_key(&j, "name_vi");
            tv_json_string(&j, c->name_vi);
            tv_json_key(&j, "name_en");
            tv_json_string(&j, c->name_en);
            tv_json_key(&j, "stay_min");
            tv_json_u64(&j, c->stay_min);
            tv_json_object_end(&j);
            tv_json_line_end(&j);
        } else {
            printf("%2u  %-17s %4u min  %s\n", c->code, c->slug, c->stay_min, c->name_vi);
        }
    }
    return TV_EXIT_OK;
}

int tv_cmd_venue(tv_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? TV_EXIT_USAGE : TV_EXIT_OK;
    }
    const char *sub = argv[1];
    argc--;
    argv++;
    if (strcmp(sub, "add") == 0) return venue_add(cli, argc, argv);
    if (strcmp(sub, "list") == 0) return venue_list(cli, argc, argv);
    if (strcmp(sub, "show") == 0) return venue_show(cli, argc, argv);
    if (strcmp(sub, "edit") == 0) return venue_edit(cli, argc, argv);
    if (strcmp(sub, "categories") == 0) return venue_categories(argc, argv);
    return tv_cli_usage("venue", "unknown venue command '%s'.", sub);
}
