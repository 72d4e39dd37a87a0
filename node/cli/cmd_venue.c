/* `truyvet venue ...`: the commune's venue registry, the staff phones authorised to scan
 * for each venue, and the reminders (3 with no scan since suspend a venue) that enforce
 * check-in. Each command parses its options, calls node/logic/venue.h, writes the result
 * with node/render/venue.h and turns errors into messages and exit statuses. */
#include "crdt/error.h"
#include "node/logic/category.h"
#include "node/cli/cli.h"
#include "node/render/json.h"
#include "node/format/payload.h"
#include "node/logic/person.h"
#include "node/format/timefmt.h"
#include "node/logic/units.h"
#include "node/logic/venue.h"
#include "node/render/venue.h"
#include "crdt/mp.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define DAYS_DEFAULT 7
#define DAYS_MAX 3650
#define MS_PER_DAY INT64_C(86400000)

static const char help[] =
    "Usage: truyvet [-d DIR] venue COMMAND ...\n"
    "\n"
    "The venues registered at this commune node, the staff phones that may scan for\n"
    "them, and the reminders to venues that do not record check-ins.\n"
    "\n"
    "  venue add --name NAME --category CATEGORY [--village VILLAGE] [--owner-phone PHONE]\n"
    "            [--closes HH:MM] [--force]\n"
    "      Register a venue; prints only its id (16 hex digits) once it is on disk.\n"
    "  venue list [--unit CODE] [--json]\n"
    "      One line per venue: id, short code, registered, category, name (and its\n"
    "      commune at a district or province node). JSON Lines with --json.\n"
    "  venue list --noncompliant [--days N] [--json]\n"
    "      Suspended venues and those with no scan in the last N days (default 7),\n"
    "      most reminded first.\n"
    "  venue show ID [--json]\n"
    "      One venue's details, short code, controllers, reminders and suspension.\n"
    "  venue edit ID [--name NAME] [--category CATEGORY] [--village VILLAGE]\n"
    "             [--owner-phone PHONE] [--closes HH:MM|none]\n"
    "      Change the given fields; the others stay as they are.\n"
    "  venue controller add|remove ID PHONE\n"
    "  venue controller list ID [--json]\n"
    "      The staff phones authorised to scan on the venue's behalf.\n"
    "  venue remind ID [--note TEXT]\n"
    "      Record a reminder to a venue; 3 with no scan since suspend it.\n"
    "  venue reinstate ID [--note TEXT]\n"
    "      Lift a venue's suspension.\n"
    "  venue payload ID\n"
    "      The signed text of the venue's poster QR code, and its short code.\n"
    "  venue visits ID [--date DATE] [--json]\n"
    "      Who was at the venue that day, from when to when (check-outs inferred).\n"
    "  venue categories [--json] | --set CATEGORY=MINUTES | --reset CATEGORY\n"
    "      The categories, with their codes and default stays (changeable here).\n"
    "\n"
    "ID is the venue's id (16 hex digits), a unique prefix of at least 4 of them, or\n"
    "its short code (XXXX-XXXX-C, as on its poster). CATEGORY is a name from\n"
    "'truyvet venue categories' (e.g. restaurant, market, school), its Vietnamese name\n"
    "or a part of it (\"Nhà hàng\", \"cho\"), or its number.\n"
    "'truyvet venue COMMAND --help' explains each command and its options.\n";

static const char add_help[] =
    "Usage: truyvet [-d DIR] venue add --name NAME --category CATEGORY [--village VILLAGE]\n"
    "                                  [--owner-phone PHONE] [--closes HH:MM] [--force]\n"
    "\n"
    "Register a venue of this commune and print its id (16 hex digits), once it is on\n"
    "disk. Only a commune node registers venues; the registration is signed by it and\n"
    "syncs up the tree. 'truyvet venue show ID' then shows its short code, and\n"
    "'truyvet qr venue ID' prints its poster.\n"
    "\n"
    "  --name NAME          the venue's name as people know it (required)\n"
    "  --category CATEGORY  a name or number from 'truyvet venue categories', its\n"
    "                       Vietnamese name or a part of it (\"Nhà hàng\", \"cho\")\n"
    "                       (required)\n"
    "  --village VILLAGE    the village or residential group (thôn, tổ dân phố)\n"
    "  --owner-phone PHONE  the owner's phone (10 digits starting with 0, or +84...)\n"
    "  --closes HH:MM       closing time, Vietnam time (e.g. 22:00): a visit with no\n"
    "                       check-out ends then at the latest\n"
    "  --force              register it even when this commune has a venue of the same\n"
    "                       name, village and category (case, marks and spaces aside);\n"
    "                       without it that is refused (exit status 1, the existing\n"
    "                       venue named)\n";

static const char show_help[] =
    "Usage: truyvet [-d DIR] venue show ID [--json]\n"
    "\n"
    "One venue's details: id, short code, name, category, unit, village, owner phone,\n"
    "closing time, when it was registered and last changed, its controllers, last scan,\n"
    "reminders and whether it is suspended.\n"
    "\n"
    "  ID      the venue's id, a unique prefix of at least 4 of its hex digits, or its\n"
    "          short code (XXXX-XXXX-C, as on its poster; case does not matter)\n"
    "  --json  one JSON object: the fields of 'venue list --json', controllers,\n"
    "          reminders, reminders_active, suspended, last_scan, last_reminder,\n"
    "          reinstated and reminder_history\n";

static const char edit_help[] =
    "Usage: truyvet [-d DIR] venue edit ID [--name NAME] [--category CATEGORY]\n"
    "                                   [--village VILLAGE] [--owner-phone PHONE]\n"
    "                                   [--closes HH:MM|none]\n"
    "\n"
    "Change the given fields of a venue of this commune; the others stay as they are.\n"
    "Only the commune node that registered the venue may change it.\n"
    "\n"
    "  ID                   the venue's id, a unique prefix of at least 4 digits, or its\n"
    "                       short code\n"
    "  --name NAME          its name\n"
    "  --category CATEGORY  a name or number from 'truyvet venue categories'\n"
    "  --village VILLAGE    its village or residential group\n"
    "  --owner-phone PHONE  the owner's phone\n"
    "  --closes HH:MM|none  its closing time, Vietnam time; 'none' removes it\n";

static const char list_help[] =
    "Usage: truyvet [-d DIR] venue list [--unit CODE] [--json]\n"
    "       truyvet [-d DIR] venue list --noncompliant [--days N] [--unit CODE] [--json]\n"
    "\n"
    "One line per venue: its id, short code (XXXX-XXXX-C, as on its poster), the date\n"
    "it was registered, its category and name (and village). At a district or province\n"
    "node, which holds the venues of many communes, each line also shows the venue's\n"
    "commune (code and name).\n"
    "\n"
    "With --noncompliant, only the venues of this commune that are suspended or have no\n"
    "scan recorded in the last N days (venues never scanned included), most reminders\n"
    "first, then the longest without a scan. Each line shows the reminders in all, those\n"
    "since the last scan or reinstatement (3 suspend the venue), whether it is SUSPENDED,\n"
    "and the last scan's date. A district or province node lists every venue it holds.\n"
    "\n"
    "  --noncompliant  only venues suspended or with no recent scan\n"
    "  --days N        what 'recent' means, in days (1 to 3650; default 7)\n"
    "  --unit CODE     only the venues of unit CODE and of the units under it (a\n"
    "                  district's communes, a commune's villages)\n"
    "  --json          JSON Lines: id, short_code, unit, unit_name, name, category,\n"
    "                  category_name, village, owner_phone, closes, registered, updated;\n"
    "                  with --noncompliant also reminders, reminders_active, suspended,\n"
    "                  last_scan (null when never), last_reminder, reinstated\n";

static const char controller_help[] =
    "Usage: truyvet [-d DIR] venue controller add ID PHONE\n"
    "       truyvet [-d DIR] venue controller remove ID PHONE\n"
    "       truyvet [-d DIR] venue controller list ID [--json]\n"
    "\n"
    "The venue's controllers: the staff phones (receptionist, guard) the owner\n"
    "authorises to scan on the venue's behalf.\n"
    "\n"
    "  add     authorise PHONE (0912345678, +84912345678); nothing is recorded when it\n"
    "          is already a controller\n"
    "  remove  withdraw PHONE's authorisation\n"
    "  list    one phone per line, with when it was added (JSON Lines with --json:\n"
    "          phone, added)\n"
    "\n"
    "ID is the venue id, or a unique prefix of at least 4 digits. Only the commune that\n"
    "registered the venue may change its controllers.\n";

static const char remind_help[] =
    "Usage: truyvet [-d DIR] venue remind ID [--note TEXT] [--json]\n"
    "\n"
    "Record a reminder to a venue that does not record check-ins, and print how many it\n"
    "has. After 3 reminders with no scan recorded since, the venue is SUSPENDED: its\n"
    "gate station refuses scans until a scan is recorded another way ('truyvet scan',\n"
    "an import) or the commune reinstates it ('truyvet venue reinstate').\n"
    "\n"
    "  --note TEXT  why, or what was said (up to 255 bytes); recommended\n"
    "  --json       print the venue's status: venue, reminders, reminders_active,\n"
    "               suspended, last_scan, last_reminder, reinstated\n";

static const char reinstate_help[] =
    "Usage: truyvet [-d DIR] venue reinstate ID [--note TEXT] [--json]\n"
    "\n"
    "Lift the suspension of a venue (3 reminders with no scan since): its station\n"
    "records scans again, and reminders before now no longer count towards the next\n"
    "suspension. Refused when the venue is not suspended.\n"
    "\n"
    "  --note TEXT  why (up to 255 bytes)\n"
    "  --json       print the venue's status, as 'venue remind --json' does\n";

/* Option letters, for the list each subcommand accepts. */
enum {
    O_NAME = 'n',
    O_CATEGORY = 'c',
    O_VILLAGE = 'v',
    O_OWNER_PHONE = 'p',
    O_CLOSES = 'C',
    O_NOTE = 'N',
    O_DAYS = 'D',
    O_NONCOMPLIANT = 'X',
    O_JSON = 'j',
    O_UNIT = 'u',
    O_FORCE = 'F',
};

typedef struct venue_args {
    const char *name, *category, *village, *owner_phone, *closes, *note, *days, *unit;
    int json, noncompliant, force;
} venue_args;

/* Parses the options of subcommand cmd (e.g. "venue remind"), of which it accepts those
 * whose letters are in `allowed`; --help prints text. Returns 0, -1 after --help, or an
 * exit status. Leaves optind at the first positional argument. */
static int parse(const char *cmd, const char *text, const char *allowed, int argc, char **argv,
                 venue_args *a)
{
    static const struct option opts[] = {{"name", required_argument, 0, O_NAME},
                                         {"category", required_argument, 0, O_CATEGORY},
                                         {"village", required_argument, 0, O_VILLAGE},
                                         {"owner-phone", required_argument, 0, O_OWNER_PHONE},
                                         {"closes", required_argument, 0, O_CLOSES},
                                         {"note", required_argument, 0, O_NOTE},
                                         {"days", required_argument, 0, O_DAYS},
                                         {"noncompliant", no_argument, 0, O_NONCOMPLIANT},
                                         {"json", no_argument, 0, O_JSON},
                                         {"unit", required_argument, 0, O_UNIT},
                                         {"force", no_argument, 0, O_FORCE},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    memset(a, 0, sizeof *a);
    optind = 0;
    int c, li = -1;
    while ((c = getopt_long(argc, argv, ":h", opts, &li)) != -1) {
        if (c != 'h' && c != ':' && c != '?' && !strchr(allowed, c))
            return tv_cli_usage(cmd, "--%s is not an option of %s.", opts[li].name, cmd);
        switch (c) {
        case O_NAME:
            a->name = optarg;
            break;
        case O_CATEGORY:
            a->category = optarg;
            break;
        case O_VILLAGE:
            a->village = optarg;
            break;
        case O_OWNER_PHONE:
            a->owner_phone = optarg;
            break;
        case O_CLOSES:
            a->closes = optarg;
            break;
        case O_NOTE:
            a->note = optarg;
            break;
        case O_DAYS:
            a->days = optarg;
            break;
        case O_NONCOMPLIANT:
            a->noncompliant = 1;
            break;
        case O_JSON:
            a->json = 1;
            break;
        case O_UNIT:
            a->unit = optarg;
            break;
        case O_FORCE:
            a->force = 1;
            break;
        case 'h':
            fputs(text, stdout);
            return -1;
        default:
            return tv_cli_bad_option(cmd, c, argv);
        }
        li = -1;
    }
    a->name = tv_cli_nfc(a->name); /* NFD as typed on some keyboards: stored as NFC */
    a->village = tv_cli_nfc(a->village);
    a->category = tv_cli_nfc(a->category);
    a->note = tv_cli_nfc(a->note);
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Fills an upsert from the options given; returns 0 or an exit status. */
static int fill_upsert(const venue_args *a, crdt_venue_upsert *v, char phone[TV_PERSON_NORM_MAX])
{
    int rc;
    if (a->name) {
        if (a->name[0] == '\0') return tv_cli_usage("venue", "the venue name is empty.");
        if ((rc = tv_cli_text("venue", "venue name", a->name, CRDT_TEXT_BYTES_MAX))) return rc;
        v->fields |= CRDT_VENUE_F_NAME;
        v->name = (crdt_text){a->name, (uint32_t)strlen(a->name)};
    }
    if (a->category) {
        const tv_category *c = tv_venue_category_parse(a->category);
        if (!c)
            return tv_cli_usage("venue",
                                "'%s' is not a venue category; 'truyvet venue categories' "
                                "lists them.",
                                a->category);
        v->fields |= CRDT_VENUE_F_CATEGORY;
        v->category = c->code;
    }
    if (a->village) {
        if ((rc = tv_cli_text("venue", "village", a->village, CRDT_TEXT_BYTES_MAX))) return rc;
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
    if (a->closes) {
        if (tv_venue_closes_parse(a->closes, &v->closes))
            return tv_cli_usage("venue",
                                "'%s' is not a closing time: give HH:MM from 00:00 to 23:59 "
                                "(e.g. 22:00), or none.",
                                a->closes);
        v->fields |= CRDT_VENUE_F_CLOSES;
    }
    return 0;
}

static int require_commune(const tv_node *n)
{
    if (n->role == TV_ROLE_COMMUNE) return 0;
    tv_cli_error("venues are registered at commune nodes; this is a %s node (unit %s).",
                 tv_role_name(n->role), n->unit);
    return TV_EXIT_FAIL;
}

/* Finds the venue named by text for a change: this must be a commune node, and the venue
 * one of its unit's. Returns 0 or an exit status after a message. */
static int own_venue(tv_node *n, const char *text, store_venue *sv)
{
    int rc;
    if ((rc = require_commune(n)) || (rc = tv_cli_venue_find(n, text, sv))) return rc;
    if (strcmp(sv->unit, n->unit) != 0) {
        tv_cli_error("venue %s belongs to unit %s; only that commune's node may change it.", text,
                     sv->unit);
        return TV_EXIT_FAIL;
    }
    return 0;
}

/* Refuses, in Vietnamese for the clerk, a venue that looks registered already. Returns 0,
 * TV_EXIT_FAIL after the message, or an exit status after a store error. */
static int venue_duplicate(tv_cli *cli, tv_node *n, const crdt_venue_upsert *v)
{
    store_venue d;
    int rc = tv_venue_duplicate(n, v, &d);
    if (rc < 0) return tv_cli_fail(cli, rc, "cannot register the venue");
    if (rc == 0) return 0;
    char hex[2 * TV_VENUE_ID_BYTES + 1], code[TV_SHORT_CODE_STR];
    tv_hex_encode(hex, d.id, sizeof d.id);
    tv_short_code(code, d.id);
    const tv_category *c = tv_category_by_code(d.category);
    tv_cli_error("địa điểm này đã được đăng ký: %s (mã %s) \"%s\"%s%s, %s. Không đăng ký "
                 "lại. Nếu đây là một địa điểm khác, thêm --force để vẫn đăng ký.",
                 hex, code, tv_text_esc(d.name), d.village[0] ? ", " : "", tv_text_esc(d.village),
                 c ? c->name_vi : "?");
    return TV_EXIT_FAIL;
}

static int venue_add(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse("venue add", add_help, "ncvpCF", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("venue", "unexpected argument '%s'.", argv[optind]);
    if (!a.name || !a.category)
        return tv_cli_usage("venue", "venue add needs at least --name and --category.");
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    if ((rc = fill_upsert(&a, &v, phone))) return rc;
    if ((v.fields & CRDT_VENUE_F_CLOSES) && v.closes == CRDT_CLOSES_NONE)
        v.fields &= ~(uint32_t)CRDT_VENUE_F_CLOSES; /* a new venue has none anyway */

    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    if ((rc = require_commune(&n))) goto out;
    if (!a.force && (rc = venue_duplicate(cli, &n, &v))) goto out;
    if ((rc = tv_venue_register(&n, &v))) {
        rc = tv_cli_fail(cli, rc, "cannot register the venue");
        goto out;
    }
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
    int rc = parse("venue edit", edit_help, "ncvpC", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage("venue", "venue edit needs exactly one venue ID.");
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    if ((rc = fill_upsert(&a, &v, phone))) return rc;
    if (v.fields == 0)
        return tv_cli_usage("venue", "say what to change: --name, --category, --village, "
                                     "--owner-phone or --closes.");
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    store_venue sv;
    if ((rc = own_venue(&n, argv[optind], &sv))) goto out;
    if ((rc = tv_venue_edit(&n, sv.id, &v))) {
        rc = tv_cli_fail(cli, rc, "cannot change the venue");
        goto out;
    }
    fprintf(stderr, "venue updated\n");
out:
    tv_node_close(&n);
    return rc;
}

/* --- reading --------------------------------------------------------------------------- */

static int venue_noncompliant(tv_cli *cli, tv_node *n, const tv_venue_scope *s, const venue_args *a)
{
    long days = DAYS_DEFAULT;
    if (a->days) {
        char *end;
        days = strtol(a->days, &end, 10);
        if (!is_digit(a->days[0]) || *end != '\0' || days < 1 || days > DAYS_MAX)
            return tv_cli_usage("venue list",
                                "--days takes a whole number of days from 1 to %d, not '%s'.",
                                DAYS_MAX, a->days);
    }
    tv_venue_nc c;
    int rc = tv_venue_noncompliant(n, s, tv_wall_ms() - days * MS_PER_DAY, &c);
    int with_unit = n->role != TV_ROLE_COMMUNE;
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        if (a->json)
            rc = tv_render_venue_nc_json(stdout, &c.rows[i]);
        else
            tv_render_venue_nc_text(stdout, &c.rows[i], with_unit);
    }
    if (rc == 0 && c.n == 0 && !a->json)
        fprintf(stderr, "every venue%s%s has a scan in the last %ld day%s.\n",
                c.unit ? " of unit " : "", c.unit ? c.unit : "", days, days == 1 ? "" : "s");
    tv_venue_nc_free(&c);
    return rc ? tv_cli_fail(cli, rc, "cannot list the venues") : TV_EXIT_OK;
}

typedef struct list_out {
    int json, with_unit;
} list_out;

static int list_line(const store_venue *v, void *arg)
{
    const list_out *o = arg;
    if (o->json) return tv_render_venue_line_json(stdout, v);
    tv_render_venue_line_text(stdout, v, o->with_unit);
    return 0;
}

/* The venues of the scope, a line each, as they are read. */
static int venue_list_all(tv_cli *cli, tv_node *n, const tv_venue_scope *s, int json)
{
    list_out o = {json, n->role != TV_ROLE_COMMUNE};
    int rc = tv_venue_each(n, s, list_line, &o);
    return rc ? tv_cli_fail(cli, rc, "cannot list the venues") : TV_EXIT_OK;
}

static int venue_list(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse("venue list", list_help, "jXDu", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("venue list", "unexpected argument '%s'.", argv[optind]);
    if (a.days && !a.noncompliant)
        return tv_cli_usage("venue list", "--days goes with --noncompliant.");
    if (a.unit && !crdt_unit_code_valid(a.unit, strlen(a.unit)))
        return tv_cli_usage("venue list",
                            "'%s' is not a unit code; 'truyvet unit list' shows them.", a.unit);
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    tv_venue_scope s;
    if ((rc = tv_venue_scope_init(&n, a.unit, &s)) == TV_ENOTFOUND) {
        tv_cli_error("unit %s is neither in the official list nor added on this node; "
                     "'truyvet unit list' shows the units.",
                     a.unit);
        rc = TV_EXIT_FAIL;
    } else if (rc) {
        rc = tv_cli_fail(cli, rc, "cannot read the unit tree");
    } else {
        rc = a.noncompliant ? venue_noncompliant(cli, &n, &s, &a)
                            : venue_list_all(cli, &n, &s, a.json);
        tv_venue_scope_release(&s);
    }
    tv_node_close(&n);
    return rc;
}

static int venue_show(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse("venue show", show_help, "j", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage("venue", "venue show needs exactly one venue ID.");
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_venue v;
    tv_venue_detail d = {0};
    if ((rc = tv_cli_venue_find(&n, argv[optind], &v)) == 0 &&
        (rc = tv_venue_detail_get(&n, v.id, 1, &d)) != 0)
        rc = tv_cli_fail(cli, rc, "cannot read the venue");
    tv_node_close(&n);
    if (rc == 0) {
        if (a.json)
            tv_render_venue_show_json(stdout, &v, &d);
        else
            tv_render_venue_show_text(stdout, &v, &d);
    }
    tv_venue_detail_free(&d);
    return rc;
}

/* --- controllers ------------------------------------------------------------------------ */

/* Normalises a controller's phone; returns 0 or an exit status after a message. */
static int controller_phone(const char *text, tv_person_id *pid)
{
    const char *why;
    if (tv_person_parse_typed(text, pid, &why))
        return tv_cli_usage("venue controller", "'%s' is not a phone number: %s", text, why);
    if (pid->kind != TV_ID_PHONE)
        return tv_cli_usage("venue controller",
                            "'%s' is an ID number, not a phone number; a controller is a "
                            "staff member's phone (10 digits starting with 0).",
                            text);
    return 0;
}

static int controller_add(tv_cli *cli, tv_node *n, const store_venue *sv, const char *id,
                          const char *phone)
{
    uint8_t tag[CRDT_TAG_BYTES];
    uint32_t have = 0;
    int rc = tv_venue_controller_tags(n, sv->id, phone, tag, 1, &have);
    if (rc && rc != TV_ELIMIT) return tv_cli_fail(cli, rc, "cannot read the venue's controllers");
    if (have > 0 || rc == TV_ELIMIT) {
        fprintf(stderr, "%s is already a controller of venue %s (%s); nothing recorded.\n", phone,
                id, tv_text_esc(sv->name));
        return TV_EXIT_OK;
    }
    if ((rc = tv_venue_controller_add(n, sv->id, phone)))
        return tv_cli_fail(cli, rc, "cannot add the controller");
    fprintf(stderr, "%s may now scan for venue %s (%s).\n", phone, id, tv_text_esc(sv->name));
    return TV_EXIT_OK;
}

static int controller_remove(tv_cli *cli, tv_node *n, const store_venue *sv, const char *id,
                             const char *phone)
{
    uint8_t *tags = malloc((size_t)TV_VENUE_REMOVE_TAGS_MAX * CRDT_TAG_BYTES);
    if (!tags) return tv_cli_fail(cli, TV_ENOMEM, "cannot remove the controller");
    uint32_t ntags = 0;
    int rc = tv_venue_controller_tags(n, sv->id, phone, tags, TV_VENUE_REMOVE_TAGS_MAX, &ntags);
    if (rc) {
        rc = tv_cli_fail(cli, rc, "cannot read the venue's controllers");
    } else if (ntags == 0) {
        tv_cli_error("%s is not a controller of venue %s (%s); 'truyvet venue controller list %s' "
                     "shows them.",
                     phone, id, sv->name, id);
        rc = TV_EXIT_FAIL;
    } else if ((rc = tv_venue_controller_remove(n, sv->id, phone, tags, ntags))) {
        rc = tv_cli_fail(cli, rc, "cannot remove the controller");
    } else {
        fprintf(stderr, "%s may no longer scan for venue %s (%s).\n", phone, id,
                tv_text_esc(sv->name));
    }
    free(tags);
    return rc;
}

static int controller_list(tv_cli *cli, const char *id, int json)
{
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    store_venue sv;
    tv_venue_detail d = {0};
    if ((rc = tv_cli_venue_find(&n, id, &sv)) == 0 &&
        (rc = tv_venue_detail_get(&n, sv.id, 0, &d)) != 0)
        rc = tv_cli_fail(cli, rc, "cannot read the venue's controllers");
    tv_node_close(&n);
    for (size_t i = 0; rc == 0 && i < d.nctrl; i++) {
        if (json)
            tv_render_venue_ctrl_json(stdout, &d.ctrl[i]);
        else
            tv_render_venue_ctrl_text(stdout, &d.ctrl[i]);
    }
    if (rc == 0 && d.nctrl == 0 && !json)
        fprintf(stderr, "venue %s (%s) has no controllers.\n", id, tv_text_esc(sv.name));
    tv_venue_detail_free(&d);
    return rc;
}

static int venue_controller(tv_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(controller_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? TV_EXIT_USAGE : TV_EXIT_OK;
    }
    const char *sub = argv[1];
    int is_add = strcmp(sub, "add") == 0, is_remove = strcmp(sub, "remove") == 0;
    int is_list = strcmp(sub, "list") == 0;
    if (!is_add && !is_remove && !is_list)
        return tv_cli_usage("venue controller",
                            "unknown controller command '%s' (add, remove or list).", sub);
    venue_args a;
    int rc = parse("venue controller", controller_help, is_list ? "j" : "", argc - 1, argv + 1, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    int npos = argc - 1 - optind;
    char **pos = argv + 1 + optind;
    if (is_list) {
        if (npos != 1)
            return tv_cli_usage("venue controller", "controller list needs exactly one venue ID.");
        return controller_list(cli, pos[0], a.json);
    }
    if (npos != 2)
        return tv_cli_usage("venue controller",
                            "controller %s needs a venue ID and a phone number.", sub);
    tv_person_id pid;
    if ((rc = controller_phone(pos[1], &pid))) return rc;

    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    store_venue sv;
    if ((rc = own_venue(&n, pos[0], &sv)) == 0)
        rc = is_add ? controller_add(cli, &n, &sv, pos[0], pid.norm)
                    : controller_remove(cli, &n, &sv, pos[0], pid.norm);
    tv_node_close(&n);
    return rc;
}

/* --- reminders ------------------------------------------------------------------------- */

/* Records the reminder (or reinstatement) of venue sv, named id by the clerk, and says
 * what it did. Returns 0 or an exit status after a message. */
static int reminder_record(tv_cli *cli, tv_node *n, const char *id, const store_venue *sv,
                           uint8_t action, const venue_args *a)
{
    store_venue_status before, st;
    int rc = tv_venue_status_get(n, sv->id, &before);
    if (rc) return tv_cli_fail(cli, rc, "cannot read the venue's reminders");
    if (action == CRDT_REINSTATE && !before.suspended) {
        tv_cli_error("venue %s (%s) is not suspended (%llu reminder%s since its last scan or "
                     "reinstatement); there is nothing to reinstate.",
                     id, sv->name, (unsigned long long)before.reminders_active,
                     before.reminders_active == 1 ? "" : "s");
        return TV_EXIT_FAIL;
    }
    if ((rc = tv_venue_remind(n, sv->id, action, a->note)))
        return tv_cli_fail(cli, rc,
                           action == CRDT_REMIND ? "cannot record the reminder"
                                                 : "cannot reinstate the venue");
    if ((rc = tv_venue_status_get(n, sv->id, &st))) {
        /* recorded; only the report is missing */
        tv_cli_error("recorded, but cannot read the venue's status back: %s.", tv_strerror(rc));
        return TV_EXIT_OK;
    }
    if (a->json)
        tv_render_venue_status_line_json(stdout, sv, &st);
    else if (action == CRDT_REINSTATE)
        printf("venue %s (%s) is reinstated: its station records scans again.\n", id,
               tv_text_esc(sv->name));
    else
        tv_render_venue_reminded_text(stdout, id, sv, &st, before.suspended);
    return TV_EXIT_OK;
}

/* `venue remind` (action CRDT_REMIND) and `venue reinstate` (CRDT_REINSTATE). */
static int venue_reminder(tv_cli *cli, int argc, char **argv, uint8_t action)
{
    const char *cmd = action == CRDT_REMIND ? "venue remind" : "venue reinstate";
    venue_args a;
    int rc = parse(cmd, action == CRDT_REMIND ? remind_help : reinstate_help, "Nj", argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage(cmd, "%s needs exactly one venue ID.", cmd);
    if (a.note && (rc = tv_cli_text(cmd, "note", a.note, CRDT_TEXT_BYTES_MAX))) return rc;
    const char *id = argv[optind];

    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    store_venue sv;
    if ((rc = own_venue(&n, id, &sv)) == 0) rc = reminder_record(cli, &n, id, &sv, action, &a);
    tv_node_close(&n);
    return rc;
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
    if (strcmp(sub, "controller") == 0) return venue_controller(cli, argc, argv);
    if (strcmp(sub, "remind") == 0) return venue_reminder(cli, argc, argv, CRDT_REMIND);
    if (strcmp(sub, "reinstate") == 0) return venue_reminder(cli, argc, argv, CRDT_REINSTATE);
    if (strcmp(sub, "visits") == 0) return tv_venue_visits(cli, argc, argv);
    if (strcmp(sub, "payload") == 0) return tv_venue_payload_cmd(cli, argc, argv);
    if (strcmp(sub, "categories") == 0) return tv_venue_categories(cli, argc, argv);
    return tv_cli_usage("venue", "unknown venue command '%s'.", sub);
}
