/* `truyvet venue ...`: the commune's venue registry, the staff phones authorised to scan
 * for each venue, and the reminders (3 with no scan since suspend a venue) that enforce
 * check-in. Each command parses its options, calls node/logic/venue.h (venue_input.h checks
 * what was typed), writes the result with node/render/venue.h and turns errors into
 * messages and exit statuses. */
#include "crdt/error.h"
#include "node/logic/category.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/render/json.h"
#include "node/format/payload.h"
#include "node/logic/person.h"
#include "node/logic/record.h"
#include "node/format/timefmt.h"
#include "node/logic/units.h"
#include "node/logic/venue.h"
#include "node/logic/venue_input.h"
#include "node/render/venue.h"
#include "node/render/visits.h"
#include "node/logic/visits.h"
#include "crdt/mp.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define DAYS_DEFAULT 7
#define DAYS_MAX 3650
#define MS_PER_DAY INT64_C(86400000)

/* Option letters. */
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

static int venue_add(tv_cli *cli, int argc, char **argv);

static const tv_opt add_opts[] = {
    {"name", O_NAME, "NAME", "the venue's name as people know it (required)", 0, 0},
    {"category", O_CATEGORY, "CATEGORY",
     "a name or number from 'truyvet venue categories', its\n"
     "Vietnamese name or a part of it (\"Nhà hàng\", \"cho\")\n"
     "(required)",
     0, 0},
    {"village", O_VILLAGE, "VILLAGE", "the village or residential group (thôn, tổ dân phố)", 0, 0},
    {"owner-phone", O_OWNER_PHONE, "PHONE",
     "the owner's phone (10 digits starting with 0, or +84...)", 0, 0},
    {"closes", O_CLOSES, "HH:MM",
     "closing time, Vietnam time (e.g. 22:00): a visit with no\n"
     "check-out ends then at the latest",
     0, 0},
    {"force", O_FORCE, NULL,
     "register it even when this commune has a venue of the same\n"
     "name, village and category (case, marks and spaces aside);\n"
     "without it that is refused (exit status 1, the existing\n"
     "venue named)",
     0, 0},
    {0}};

static const tv_command venue_add_cmd = {
    .name = "add",
    .summary = "Register a venue; prints only its id (16 hex digits) once it is on disk.",
    .usage = "venue add --name NAME --category CATEGORY [--village VILLAGE]\n"
             "                                  [--owner-phone PHONE] [--closes HH:MM] [--force]",
    .about = "Register a venue of this commune and print its id (16 hex digits), once it is on\n"
             "disk. Only a commune node registers venues; the registration is signed by it and\n"
             "syncs up the tree. 'truyvet venue show ID' then shows its short code, and\n"
             "'truyvet qr venue ID' prints its poster.\n",
    .opts = add_opts,
    .more = NULL,
    .fn = venue_add,
    .col = 19,
};

static int venue_show(tv_cli *cli, int argc, char **argv);

static const tv_opt show_opts[] = {
    {"ID", 0, NULL,
     "the venue's id, a unique prefix of at least 4 of its hex digits, or its\n"
     "short code (XXXX-XXXX-C, as on its poster; case does not matter)",
     TV_OPT_ARG, 0},
    {.id = TV_O_JSON,
     .help = "one JSON object: the fields of 'venue list --json', controllers,\n"
             "reminders, reminders_active, suspended, last_scan, last_reminder,\n"
             "reinstated and reminder_history"},
    {0}};

static const tv_command venue_show_cmd = {
    .name = "show",
    .summary = "One venue's details, short code, controllers, reminders and suspension.",
    .usage = "venue show ID [--json]",
    .about = "One venue's details: id, short code, name, category, unit, village, owner phone,\n"
             "closing time, when it was registered and last changed, its controllers, last scan,\n"
             "reminders and whether it is suspended.\n",
    .opts = show_opts,
    .more = NULL,
    .fn = venue_show,
    .col = 6,
};

static int venue_edit(tv_cli *cli, int argc, char **argv);

static const tv_opt edit_opts[] = {
    {"ID", 0, NULL,
     "the venue's id, a unique prefix of at least 4 digits, or its\n"
     "short code",
     TV_OPT_ARG, 0},
    {"name", O_NAME, "NAME", "its name", 0, 0},
    {"category", O_CATEGORY, "CATEGORY", "a name or number from 'truyvet venue categories'", 0, 0},
    {"village", O_VILLAGE, "VILLAGE", "its village or residential group", 0, 0},
    {"owner-phone", O_OWNER_PHONE, "PHONE", "the owner's phone", 0, 0},
    {"closes", O_CLOSES, "HH:MM|none", "its closing time, Vietnam time; 'none' removes it", 0, 0},
    {0}};

static const tv_command venue_edit_cmd = {
    .name = "edit",
    .summary = "Change the given fields; the others stay as they are.",
    .usage = "venue edit ID [--name NAME] [--category CATEGORY]\n"
             "                                   [--village VILLAGE] [--owner-phone PHONE]\n"
             "                                   [--closes HH:MM|none]",
    .about = "Change the given fields of a venue of this commune; the others stay as they are.\n"
             "Only the commune node that registered the venue may change it.\n",
    .opts = edit_opts,
    .more = NULL,
    .fn = venue_edit,
    .col = 19,
};

static int venue_list(tv_cli *cli, int argc, char **argv);

static const tv_opt list_opts[] = {
    {"noncompliant", O_NONCOMPLIANT, NULL, "only venues suspended or with no recent scan", 0, 0},
    {"days", O_DAYS, "N", "what 'recent' means, in days (1 to 3650; default 7)", 0, 0},
    {"unit", O_UNIT, "CODE",
     "only the venues of unit CODE and of the units under it (a\n"
     "district's communes, a commune's villages)",
     0, 0},
    {.id = TV_O_JSON,
     .help = "JSON Lines: id, short_code, unit, unit_name, name, category,\n"
             "category_name, village, owner_phone, closes, registered, updated;\n"
             "with --noncompliant also reminders, reminders_active, suspended,\n"
             "last_scan (null when never), last_reminder, reinstated"},
    {0}};

static const tv_command venue_list_cmd = {
    .name = "list",
    .summary = "One line per venue: id, short code, registered, category, name (and its\n"
               "commune at a district or province node). JSON Lines with --json.\n"
               "With --noncompliant: suspended venues and those with no scan in the last N\n"
               "days (default 7), most reminded first.",
    .usage = "venue list [--unit CODE] [--json]\n"
             "venue list --noncompliant [--days N] [--unit CODE] [--json]",
    .about =
        "One line per venue: its id, short code (XXXX-XXXX-C, as on its poster), the date\n"
        "it was registered, its category and name (and village). At a district or province\n"
        "node, which holds the venues of many communes, each line also shows the venue's\n"
        "commune (code and name).\n"
        "\n"
        "With --noncompliant, only the venues of this commune that are suspended or have no\n"
        "scan recorded in the last N days (venues never scanned included), most reminders\n"
        "first, then the longest without a scan. Each line shows the reminders in all, those\n"
        "since the last scan or reinstatement (3 suspend the venue), whether it is SUSPENDED,\n"
        "and the last scan's date. A district or province node lists every venue it holds.\n",
    .opts = list_opts,
    .more = NULL,
    .fn = venue_list,
    .col = 14,
};

static int venue_controller(tv_cli *cli, int argc, char **argv);

static const tv_command controller_add_cmd = {
    .name = "add",
    .summary = "Authorise PHONE (0912345678, +84912345678); nothing is recorded when it\n"
               "is already a controller.",
    .usage = "venue controller add ID PHONE",
    .fn = venue_controller,
};

static const tv_command controller_remove_cmd = {
    .name = "remove",
    .summary = "Withdraw PHONE's authorisation.",
    .usage = "venue controller remove ID PHONE",
    .fn = venue_controller,
};

static const tv_opt controller_list_opts[] = {{.id = TV_O_JSON, .help = "JSON Lines: phone, added"},
                                              {0}};

static const tv_command controller_list_cmd = {
    .name = "list",
    .summary = "One phone per line, with when it was added (JSON Lines with --json:\n"
               "phone, added).",
    .usage = "venue controller list ID [--json]",
    .opts = controller_list_opts,
    .fn = venue_controller,
};

static const tv_command venue_controller_cmd = {
    .name = "controller",
    .summary = "The staff phones authorised to scan on the venue's behalf.",
    .usage = "venue controller add|remove ID PHONE\n"
             "venue controller list ID [--json]",
    .about = "The venue's controllers: the staff phones (receptionist, guard) the owner\n"
             "authorises to scan on the venue's behalf.\n",
    .more = "ID is the venue id, or a unique prefix of at least 4 digits. Only the commune that\n"
            "registered the venue may change its controllers.\n",
    .subs = (const tv_command *const[]){&controller_add_cmd, &controller_remove_cmd,
                                        &controller_list_cmd, NULL},
};

static int venue_remind(tv_cli *cli, int argc, char **argv);

static const tv_opt remind_opts[] = {
    {"note", O_NOTE, "TEXT", "why, or what was said (up to 255 bytes); recommended", 0, 0},
    {.id = TV_O_JSON,
     .help = "print the venue's status: venue, reminders, reminders_active,\n"
             "suspended, last_scan, last_reminder, reinstated"},
    {0}};

static const tv_command venue_remind_cmd = {
    .name = "remind",
    .summary = "Record a reminder to a venue; 3 with no scan since suspend it.",
    .usage = "venue remind ID [--note TEXT] [--json]",
    .about = "Record a reminder to a venue that does not record check-ins, and print how many it\n"
             "has. After 3 reminders with no scan recorded since, the venue is SUSPENDED: its\n"
             "gate station refuses scans until a scan is recorded another way ('truyvet scan',\n"
             "an import) or the commune reinstates it ('truyvet venue reinstate').\n",
    .opts = remind_opts,
    .more = NULL,
    .fn = venue_remind,
    .col = 11,
};

static int venue_reinstate(tv_cli *cli, int argc, char **argv);

static const tv_opt reinstate_opts[] = {
    {"note", O_NOTE, "TEXT", "why (up to 255 bytes)", 0, 0},
    {.id = TV_O_JSON, .help = "print the venue's status, as 'venue remind --json' does"},
    {0}};

static const tv_command venue_reinstate_cmd = {
    .name = "reinstate",
    .summary = "Lift a venue's suspension.",
    .usage = "venue reinstate ID [--note TEXT] [--json]",
    .about = "Lift the suspension of a venue (3 reminders with no scan since): its station\n"
             "records scans again, and reminders before now no longer count towards the next\n"
             "suspension. Refused when the venue is not suspended.\n",
    .opts = reinstate_opts,
    .more = NULL,
    .fn = venue_reinstate,
    .col = 11,
};

/* venue payload, venue visits and venue categories (at the end of this file) */
extern const tv_command tv_command_venue_payload, tv_command_venue_visits,
    tv_command_venue_categories;

const tv_command tv_command_venue = {
    .name = "venue",
    .summary = "register, list, show and edit venues",
    .about = "The venues registered at this commune node, the staff phones that may scan for\n"
             "them, and the reminders to venues that do not record check-ins.\n",
    .more = "ID is the venue's id (16 hex digits), a unique prefix of at least 4 of them, or\n"
            "its short code (XXXX-XXXX-C, as on its poster). CATEGORY is a name from\n"
            "'truyvet venue categories' (e.g. restaurant, market, school), its Vietnamese name\n"
            "or a part of it (\"Nhà hàng\", \"cho\"), or its number.\n",
    .subs =
        (const tv_command *const[]){&venue_add_cmd, &venue_list_cmd, &venue_show_cmd,
                                    &venue_edit_cmd, &venue_controller_cmd, &venue_remind_cmd,
                                    &venue_reinstate_cmd, &tv_command_venue_payload,
                                    &tv_command_venue_visits, &tv_command_venue_categories, NULL},
};

typedef struct venue_args {
    const char *name, *category, *village, *owner_phone, *closes, *note, *days, *unit;
    int json, noncompliant, force;
} venue_args;

/* Parses the options of the subcommand cli runs (its descriptor says which it takes).
 * Returns 0, -1 after --help, or an exit status. Leaves optind at the first positional
 * argument. */
static int parse(tv_cli *cli, int argc, char **argv, venue_args *a)
{
    memset(a, 0, sizeof *a);
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    int c;
    while ((c = tv_args_next(&ta)) > 0) {
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
        case O_UNIT:
            a->unit = optarg;
            break;
        case O_FORCE:
            a->force = 1;
            break;
        }
    }
    if (c < 0) return ta.status == TV_EXIT_OK ? -1 : ta.status;
    a->json = ta.o.json;
    a->note = tv_cli_nfc(a->note); /* NFD as typed on some keyboards: stored as NFC */
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Fills an upsert from the options given, for a new venue or a change (tv_venue_input_new,
 * tv_venue_input_edit; in keeps its NFC text until tv_venue_input_free). Returns 0 or an
 * exit status after a message, in released then. */
static int fill_upsert(const venue_args *a, int is_new, tv_venue_input *in, crdt_venue_upsert *v,
                       char phone[TV_PERSON_NORM_MAX])
{
    *in = (tv_venue_input){.name = a->name,
                           .category = a->category,
                           .village = a->village,
                           .owner_phone = a->owner_phone,
                           .closes = a->closes};
    tv_why why;
    if ((is_new ? tv_venue_input_new : tv_venue_input_edit)(in, v, phone, &why) == 0) return 0;
    tv_venue_input_free(in);
    return tv_cli_usage("venue", "%s", why.en);
}

/* Finds the venue named by text for a change (tv_venue_own). Returns 0 or an exit status
 * after a message. */
static int own_venue(tv_node *n, const char *text, store_venue *sv)
{
    tv_why why;
    int rc = tv_venue_own(n, text, sv, &why);
    return rc ? tv_cli_why(rc, &why) : 0;
}

/* Refuses, in Vietnamese for the clerk, a venue that looks registered already. Returns 0,
 * TV_EXIT_FAIL after the message, or an exit status after a store error. */
static int venue_duplicate(tv_cli *cli, tv_node *n, const crdt_venue_upsert *v)
{
    store_venue d;
    tv_why why;
    int rc = tv_venue_duplicate_check(n, v, &d, &why);
    if (rc == TV_EEXIST) return tv_cli_why(rc, &why);
    return rc ? tv_cli_fail(cli, rc, "cannot register the venue") : 0;
}

static int venue_add(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse(cli, argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("venue", "unexpected argument '%s'.", argv[optind]);
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    tv_venue_input in;
    if ((rc = fill_upsert(&a, 1, &in, &v, phone))) return rc;

    tv_node n;
    tv_why why;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) {
        tv_venue_input_free(&in);
        return rc;
    }
    if ((rc = tv_venue_require_commune(&n, &why))) {
        rc = tv_cli_why(rc, &why);
        goto out;
    }
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
    tv_venue_input_free(&in);
    return rc;
}

static int venue_edit(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse(cli, argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind + 1 != argc) return tv_cli_usage("venue", "venue edit needs exactly one venue ID.");
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    tv_venue_input in;
    if ((rc = fill_upsert(&a, 0, &in, &v, phone))) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) {
        tv_venue_input_free(&in);
        return rc;
    }
    store_venue sv;
    if ((rc = own_venue(&n, argv[optind], &sv))) goto out;
    if ((rc = tv_venue_edit(&n, sv.id, &v))) {
        rc = tv_cli_fail(cli, rc, "cannot change the venue");
        goto out;
    }
    fprintf(stderr, "venue updated\n");
out:
    tv_node_close(&n);
    tv_venue_input_free(&in);
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
    int rc = parse(cli, argc, argv, &a);
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
    int rc = parse(cli, argc, argv, &a);
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
    tv_why why;
    if (tv_venue_controller_phone(text, pid, &why))
        return tv_cli_usage("venue controller", "%s", why.en);
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
    tv_why why;
    int rc = tv_venue_controller_tags(n, sv->id, phone, tags, TV_VENUE_REMOVE_TAGS_MAX, &ntags);
    if (rc) {
        rc = tv_cli_fail(cli, rc, "cannot read the venue's controllers");
    } else if ((rc = tv_venue_controller_held(sv, id, phone, ntags, &why))) {
        rc = tv_cli_why(rc, &why);
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
    const char *sub = argv[0]; /* add, remove or list: the descriptors dispatch */
    int is_add = strcmp(sub, "add") == 0, is_list = strcmp(sub, "list") == 0;
    venue_args a;
    int rc = parse(cli, argc, argv, &a);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    int npos = argc - optind;
    char **pos = argv + optind;
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
    tv_why why;
    if (action == CRDT_REINSTATE && (rc = tv_venue_reinstate_check(sv, id, &before, &why)))
        return tv_cli_why(rc, &why);
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
    int rc = parse(cli, argc, argv, &a);
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

static int venue_remind(tv_cli *cli, int argc, char **argv)
{
    return venue_reminder(cli, argc, argv, CRDT_REMIND);
}

static int venue_reinstate(tv_cli *cli, int argc, char **argv)
{
    return venue_reminder(cli, argc, argv, CRDT_REINSTATE);
}

/* --- venue payload ---------------------------------------------------------------------- */

static int venue_payload(tv_cli *cli, int argc, char **argv);

const tv_command tv_command_venue_payload = {
    .name = "payload",
    .summary = "The signed text of the venue's poster QR code, and its short code.",
    .usage = "venue payload ID",
    .about =
        "Print the venue's QR payload: the text its poster's QR code holds (TV1V:<unit>:...),\n"
        "signed by this node, which registered the venue; any node that trusts this one can\n"
        "verify it offline ('truyvet qr verify'). Then, on standard error, the venue's short\n"
        "code (XXXX-XXXX-C), printed on the poster for when a camera fails.\n",
    .opts = NULL,
    .more = NULL,
    .fn = venue_payload,
    .col = 0,
};

static int venue_payload(tv_cli *cli, int argc, char **argv)
{
    tv_args ta;
    if (tv_args_only(&ta, cli, argc, argv) != 0) return ta.status;
    if (argc != 2) return tv_cli_usage("venue payload", "venue payload takes one venue ID.");
    tv_node n;
    int rc = tv_cli_open(cli, &n, TV_NODE_SECRET); /* the payload is signed */
    if (rc) return rc;
    store_venue v;
    tv_venue_payload p;
    if ((rc = tv_cli_own_payload(&n, argv[1], &v, &p)) == 0) {
        char text[TV_VENUE_PAYLOAD_MAX], code[TV_SHORT_CODE_STR];
        tv_venue_payload_format(text, &p);
        tv_short_code(code, v.id);
        puts(text);
        fprintf(stderr, "short code: %s (%s)\n", code, tv_text_esc(v.name));
    }
    tv_node_close(&n);
    return rc;
}

/* --- venue visits and venue categories: the presence view of a venue's day, and the default
 * stays that close visits nobody checked out of ------------------------------------------ */

static int venue_visits(tv_cli *cli, int argc, char **argv);

static const tv_opt visits_opts[] = {
    {"date", 'D', "DATE", "the day, Vietnam time: YYYY-MM-DD or 'today' (the default)", 0, 0},
    {.id = TV_O_JSON, .help = "JSON Lines: person, from, to (null while open), end, scans"},
    {0}};

const tv_command tv_command_venue_visits = {
    .name = "visits",
    .summary = "Who was at the venue that day, from when to when (check-outs inferred).",
    .usage = "venue visits ID [--date DATE] [--json]",
    .about = "Who was at a venue on one day, and from when to when: each visit once, with the\n"
             "person masked. Scans of one person repeated within 5 minutes are one check-in. A\n"
             "visit with no check-out ends at the earliest of the person's next check-in\n"
             "elsewhere, the category's default stay (see 'venue categories'), the venue's\n"
             "closing time, and midnight; the END column says which. A visit still under way\n"
             "ends 'now' (open).\n",
    .opts = visits_opts,
    .more = NULL,
    .fn = venue_visits,
    .col = 11,
};

static int venue_categories(tv_cli *cli, int argc, char **argv);

static const tv_opt categories_opts[] = {
    {"set", 's', "CATEGORY=MINUTES",
     "change the category's default stay on this node (1 to\n"
     "1440 minutes)",
     0, 0},
    {"reset", 'r', "CATEGORY", "restore the category's built-in stay", 0, 0},
    {.id = TV_O_JSON, .help = NULL},
    {0}};

const tv_command tv_command_venue_categories = {
    .name = "categories",
    .summary = "The categories, with their codes and default stays (changeable here).",
    .usage = "venue categories [--json]\n"
             "venue categories --set CATEGORY=MINUTES\n"
             "venue categories --reset CATEGORY",
    .about = "The venue categories, with their codes and default stays: how long a visit with no\n"
             "check-out is taken to last (unless the person checks in elsewhere, the venue\n"
             "closes or the day ends first). The built-in stays can be changed on this node with\n"
             "--set (1 to 1440 minutes) and restored with --reset; a changed stay is marked '*'.\n"
             "The setting belongs to this node: set it where visits are read and traced.\n",
    .opts = categories_opts,
    .fn = venue_categories,
};

static int venue_visits(tv_cli *cli, int argc, char **argv)
{
    const char *date = "today";
    int json = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0)
        if (c == 'D') date = optarg;
    if (c < 0) return ta.status;
    json = ta.o.json;
    if (optind >= argc) return tv_cli_usage("venue visits", "which venue? Give its id.");
    if (optind + 1 < argc)
        return tv_cli_usage("venue visits", "unexpected argument '%s'.", argv[optind + 1]);
    int64_t now_ms = tv_wall_ms();
    int32_t day;
    if (strcmp(date, "today") == 0)
        day = crdt_day_vn(now_ms);
    else if (tv_date_parse(date, &day))
        return tv_cli_usage("venue visits", "--date takes YYYY-MM-DD or 'today', not '%s'.", date);

    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    store_venue v;
    if ((rc = tv_cli_venue_find(&n, argv[optind], &v))) {
        tv_node_close(&n);
        return rc;
    }
    tv_venue_day d = {0};
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = tv_venue_day_get(t, v.id, day, now_ms, &d);
        store_read_end(t);
    }
    if (rc == 0) {
        for (size_t i = 0; i < d.nrows; i++)
            if (json)
                (void)tv_render_visit_line_json(stdout, &d.rows[i]);
            else
                tv_render_visit_text(stdout, &d.rows[i]);
        char ds[TV_DATE_STR_BYTES];
        tv_date_format(ds, sizeof ds, day);
        fprintf(stderr, "%zu visit%s by %zu %s at %s on %s\n", d.nrows, d.nrows == 1 ? "" : "s",
                d.people, d.people == 1 ? "person" : "people", tv_text_esc(v.name), ds);
    }
    tv_venue_day_free(&d);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot read the venue's visits") : TV_EXIT_OK;
}

/* --set CATEGORY=MINUTES / --reset CATEGORY */
typedef struct stay_change {
    unsigned code;
    int32_t minutes; /* < 0: reset */
} stay_change;

static int stay_write(store_txn *t, void *arg)
{
    const stay_change *s = arg;
    return tv_stay_set(t, s->code, s->minutes);
}

static const tv_category *category_arg(const char *s, size_t n)
{
    char slug[TV_CATEGORY_SLUG_MAX + 1];
    if (n == 0 || n > TV_CATEGORY_SLUG_MAX) return NULL;
    memcpy(slug, s, n);
    slug[n] = '\0';
    return tv_category_by_slug(slug);
}

static int stay_change_parse(const char *set, const char *reset, stay_change *out)
{
    const char *arg = set ? set : reset;
    const char *eq = set ? strchr(set, '=') : NULL;
    const tv_category *c = category_arg(arg, eq ? (size_t)(eq - arg) : strlen(arg));
    if (set && !eq)
        return tv_cli_usage("venue categories", "--set takes CATEGORY=MINUTES, not '%s'.", set);
    if (!c)
        return tv_cli_usage("venue categories",
                            "no category '%.*s'; 'truyvet venue categories' lists them.",
                            (int)(eq ? eq - arg : (long)strlen(arg)), arg);
    out->code = c->code;
    out->minutes = -1;
    if (set) {
        char *end;
        long m = strtol(eq + 1, &end, 10);
        if (eq[1] < '0' || eq[1] > '9' || *end || m < 1 || m > TV_STAY_MIN_MAX)
            return tv_cli_usage("venue categories", "a default stay is 1 to %d minutes, not '%s'.",
                                TV_STAY_MIN_MAX, eq + 1);
        out->minutes = (int32_t)m;
    }
    return 0;
}

static int venue_categories(tv_cli *cli, int argc, char **argv)
{
    const char *set = NULL, *reset = NULL;
    int json = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        if (c == 's')
            set = optarg;
        else if (c == 'r')
            reset = optarg;
    }
    if (c < 0) return ta.status;
    json = ta.o.json;
    if (optind < argc)
        return tv_cli_usage("venue categories", "unexpected argument '%s'.", argv[optind]);
    if ((set || reset) && (json || (set && reset)))
        return tv_cli_usage("venue categories", "--set and --reset go alone.");
    stay_change ch;
    int rc;
    if ((set || reset) && (rc = stay_change_parse(set, reset, &ch))) return rc;

    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    if (set || reset) {
        rc = store_write(n.st, stay_write, &ch);
        const tv_category *cat = tv_category_by_code(ch.code);
        if (rc == 0 && set)
            fprintf(stderr, "visits to a %s with no check-out now last at most %d minutes.\n",
                    cat->slug, ch.minutes);
        else if (rc == 0)
            fprintf(stderr, "the default stay of %s is the built-in %u minutes again.\n", cat->slug,
                    cat->stay_min);
        tv_node_close(&n);
        return rc ? tv_cli_fail(cli, rc, "the default stay was not changed") : TV_EXIT_OK;
    }
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        const tv_category *cat;
        for (size_t i = 0; (cat = tv_category_at(i)) && rc == 0; i++) {
            uint32_t minutes;
            int is_set;
            if ((rc = tv_stay_get(t, cat->code, &minutes, &is_set))) break;
            if (json) {
                tv_json j;
                tv_json_init(&j, stdout);
                tv_json_object_begin(&j);
                tv_json_key(&j, "code");
                tv_json_u64(&j, cat->code);
                tv_json_key(&j, "slug");
                tv_json_string(&j, cat->slug);
                tv_json_key(&j, "name_vi");
                tv_json_string(&j, cat->name_vi);
                tv_json_key(&j, "name_en");
                tv_json_string(&j, cat->name_en);
                tv_json_key(&j, "stay_min");
                tv_json_u64(&j, minutes);
                tv_json_key(&j, "stay_set_here");
                tv_json_bool(&j, is_set);
                tv_json_object_end(&j);
                rc = tv_json_line_end(&j);
            } else {
                printf("%2u  %-17s %4u min%s %s\n", cat->code, cat->slug, minutes,
                       is_set ? "*" : " ", cat->name_vi);
            }
        }
        store_read_end(t);
    }
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot list the categories") : TV_EXIT_OK;
}
