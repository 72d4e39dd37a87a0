/* `truyvet venue ...`: the commune's venue registry, the staff phones authorised to scan
 * for each venue, and the reminders (3 with no scan since suspend a venue) that enforce
 * check-in. */
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
#include "node/logic/visits.h"
#include "crdt/mp.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define DAYS_DEFAULT 7
#define DAYS_MAX 3650
#define MS_PER_DAY INT64_C(86400000)
/* Live add tags of one phone a removal reads; more than one remove event is written when
 * they exceed CRDT_TAGS_MAX. Only concurrent adds of the same phone make more than one. */
#define REMOVE_TAGS_MAX (CRDT_TAGS_MAX * 8)
_Static_assert(REMOVE_TAGS_MAX / CRDT_TAGS_MAX <= TV_NODE_PENDING_BATCHES_MAX,
               "the remove events of one phone must fit one pending group");

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
    a->name = tv_cli_nfc(a->name); /* NFD as typed on some keyboards: stored as NFC */
    a->village = tv_cli_nfc(a->village);
    a->category = tv_cli_nfc(a->category);
    a->note = tv_cli_nfc(a->note);
    return 0;
}

static const tv_category *category_parse(const char *s)
{
    const tv_category *c = tv_category_find(s);
    if (c) return c;
    char *end;
    long code = strtol(s, &end, 10);
    if (*s && *end == '\0' && code > 0 && code < 256) return tv_category_by_code((unsigned)code);
    return NULL;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Parses a closing time "HH:MM" (or "H:MM", "22h00", "22h") into the encoding of
 * venue_upsert: minutes after midnight + 1; "none" gives CRDT_CLOSES_NONE. Returns 0 or
 * TV_EINVAL. */
static int closes_parse(const char *s, uint32_t *closes)
{
    if (strcmp(s, "none") == 0) {
        *closes = CRDT_CLOSES_NONE;
        return 0;
    }
    unsigned h = 0, m = 0;
    size_t i = 0;
    while (is_digit(s[i]) && i < 2)
        h = h * 10 + (unsigned)(s[i++] - '0');
    if (i == 0 || (s[i] != ':' && s[i] != 'h' && s[i] != 'H')) return TV_EINVAL;
    int colon = s[i++] == ':';
    if (s[i] == '\0' && !colon) {
        m = 0; /* "22h" */
    } else {
        if (!is_digit(s[i]) || !is_digit(s[i + 1]) || s[i + 2] != '\0') return TV_EINVAL;
        m = (unsigned)(s[i] - '0') * 10 + (unsigned)(s[i + 1] - '0');
    }
    if (h > 23 || m > 59) return TV_EINVAL;
    *closes = h * 60 + m + 1;
    return 0;
}

/* Writes a closing time (not CRDT_CLOSES_NONE) as "HH:MM". */
static void closes_format(char out[8], uint32_t closes)
{
    uint32_t min = closes - 1;
    snprintf(out, 8, "%02u:%02u", (min / 60) % 24, min % 60);
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
        if (closes_parse(a->closes, &v->closes))
            return tv_cli_usage("venue",
                                "'%s' is not a closing time: give HH:MM from 00:00 to 23:59 "
                                "(e.g. 22:00), or none.",
                                a->closes);
        v->fields |= CRDT_VENUE_F_CLOSES;
    }
    return 0;
}

/* Commits the pending events durably; returns 0 or TV_EXIT_FAIL after a message. */
static int commit(tv_cli *cli, tv_node *n, const char *what)
{
    uint64_t seq;
    int rc = tv_node_commit(n, &seq);
    if (rc) return tv_cli_fail(cli, rc, what);
    return TV_EXIT_OK;
}

static int record(tv_cli *cli, tv_node *n, const crdt_venue_upsert *v, const char *what)
{
    int rc = tv_node_add_venue(n, v, NULL);
    if (rc) {
        tv_node_discard(n);
        return tv_cli_fail(cli, rc, what);
    }
    return commit(cli, n, what);
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

/* A venue of this unit registered already under the same name, village and category,
 * compared by tv_text_fold. */
typedef struct dup_ctx {
    const char *unit;
    char name[TV_TEXT_FOLD_BYTES], village[TV_TEXT_FOLD_BYTES];
    uint32_t category;
    int found;
    store_venue v;
} dup_ctx;

static int dup_find(const store_venue *v, void *arg)
{
    dup_ctx *d = arg;
    char name[TV_TEXT_FOLD_BYTES], village[TV_TEXT_FOLD_BYTES];
    if (v->category != d->category || strcmp(v->unit, d->unit) != 0) return 0;
    if (tv_text_fold(v->name, name, sizeof name) || strcmp(name, d->name) != 0) return 0;
    if (tv_text_fold(v->village, village, sizeof village) || strcmp(village, d->village) != 0)
        return 0;
    d->found = 1;
    d->v = *v;
    return 1; /* stop */
}

/* Refuses, in Vietnamese for the clerk, a venue that looks registered already. Returns 0,
 * TV_EXIT_FAIL after the message, or an exit status after a store error. */
static int venue_duplicate(tv_cli *cli, tv_node *n, const crdt_venue_upsert *v)
{
    dup_ctx *d = calloc(1, sizeof *d);
    if (!d) return tv_cli_fail(cli, TV_ENOMEM, "cannot register the venue");
    d->unit = n->unit;
    d->category = v->category;
    char name[CRDT_TEXT_BYTES_MAX + 1], village[CRDT_TEXT_BYTES_MAX + 1];
    snprintf(name, sizeof name, "%.*s", (int)v->name.n, v->name.n ? v->name.p : "");
    snprintf(village, sizeof village, "%.*s", (int)v->village.n, v->village.n ? v->village.p : "");
    (void)tv_text_fold(name, d->name, sizeof d->name);
    (void)tv_text_fold(village, d->village, sizeof d->village);
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc == 0) {
        rc = store_venue_foreach(t, dup_find, d);
        store_read_end(t);
        if (rc > 0) rc = 0;
    }
    if (rc) {
        free(d);
        return tv_cli_fail(cli, rc, "cannot register the venue");
    }
    if (d->found) {
        char hex[2 * TV_VENUE_ID_BYTES + 1], code[TV_SHORT_CODE_STR];
        tv_hex_encode(hex, d->v.id, sizeof d->v.id);
        tv_short_code(code, d->v.id);
        const tv_category *c = tv_category_by_code(d->v.category);
        tv_cli_error("địa điểm này đã được đăng ký: %s (mã %s) \"%s\"%s%s, %s. Không đăng ký "
                     "lại. Nếu đây là một địa điểm khác, thêm --force để vẫn đăng ký.",
                     hex, code, tv_text_esc(d->v.name), d->v.village[0] ? ", " : "",
                     tv_text_esc(d->v.village), c ? c->name_vi : "?");
        rc = TV_EXIT_FAIL;
    }
    free(d);
    return rc;
}

static int venue_add(tv_cli *cli, int argc, char **argv)
{
    venue_args a;
    int rc = parse(cli, argc, argv, &a);
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
    /* the id is derived from this node's key: no other node can write its registration */
    randombytes_buf(v.nonce, sizeof v.nonce);
    tv_venue_id_derive(v.venue, n.id.pk, v.nonce);
    v.registers = 1;
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
    int rc = parse(cli, argc, argv, &a);
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
    memcpy(v.venue, sv.id, sizeof v.venue);
    v.fields |= CRDT_VENUE_F_UNIT; /* every upsert names its unit: peers judge it by that */
    v.unit = (crdt_text){n.unit, (uint32_t)strlen(n.unit)};
    if ((rc = record(cli, &n, &v, "cannot change the venue"))) goto out;
    fprintf(stderr, "venue updated\n");
out:
    tv_node_close(&n);
    return rc;
}

/* --- reading --------------------------------------------------------------------------- */

/* Writes ms as Vietnam time, or null for INT64_MIN (never). */
static void time_or_null(tv_json *j, int64_t ms)
{
    if (ms == INT64_MIN) {
        tv_json_null(j);
        return;
    }
    char when[TV_TIME_STR_BYTES];
    tv_time_format_vn(when, sizeof when, ms);
    tv_json_string(j, when);
}

/* Writes the venue's fields into the open object. */
static void venue_fields_json(tv_json *j, const store_venue *v)
{
    const tv_category *c = tv_category_by_code(v->category);
    char when[40];
    const tv_unit *u = tv_unit_find(v->unit);
    char code[TV_SHORT_CODE_STR];
    tv_short_code(code, v->id);
    tv_json_key(j, "id");
    tv_json_hex(j, v->id, sizeof v->id);
    tv_json_key(j, "short_code");
    tv_json_string(j, code);
    tv_json_key(j, "unit");
    tv_json_string(j, v->unit);
    tv_json_key(j, "unit_name");
    tv_json_string(j, u ? u->name : "");
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
    tv_json_key(j, "closes");
    if (v->closes != CRDT_CLOSES_NONE) {
        char hm[8];
        closes_format(hm, v->closes);
        tv_json_string(j, hm);
    } else {
        tv_json_null(j);
    }
    tv_cli_hlc_time(when, sizeof when, v->created_hlc);
    tv_json_key(j, "registered");
    tv_json_string(j, when);
    tv_cli_hlc_time(when, sizeof when, v->updated_hlc);
    tv_json_key(j, "updated");
    tv_json_string(j, when);
}

/* Writes a venue's compliance status into the open object. */
static void status_fields_json(tv_json *j, const store_venue_status *st)
{
    tv_json_key(j, "reminders");
    tv_json_u64(j, st->reminders);
    tv_json_key(j, "reminders_active");
    tv_json_u64(j, st->reminders_active);
    tv_json_key(j, "suspended");
    tv_json_bool(j, st->suspended != 0);
    tv_json_key(j, "last_scan");
    time_or_null(j, st->last_scan_ms);
    tv_json_key(j, "last_reminder");
    time_or_null(j, st->last_reminder_ms);
    tv_json_key(j, "reinstated");
    time_or_null(j, st->reinstated_ms);
}

/* What `venue list` prints: the venues of one unit and the units under it (all when
 * `under` is NULL), with their commune at a node that holds many. */
typedef struct list_ctx {
    const tv_tree *tr;
    const char *under;
    int json, with_unit;
} list_ctx;

/* Is unit code `under`, or below it in the tree? */
static int unit_within(const tv_tree *tr, const char *unit, const char *under)
{
    char code[TV_UNIT_CODE_MAX + 1];
    snprintf(code, sizeof code, "%s", unit);
    for (int depth = 0; depth < 64 && code[0]; depth++) { /* a bound: the tree may loop */
        if (strcmp(code, under) == 0) return 1;
        const tv_tree_unit *u = tv_tree_find(tr, code);
        char up[TV_UNIT_CODE_MAX + 1];
        if (u)
            snprintf(up, sizeof up, "%s", u->parent);
        else
            tv_unit_parent(code, up);
        memcpy(code, up, sizeof code);
    }
    return 0;
}

static int list_one(const store_venue *v, void *arg)
{
    const list_ctx *x = arg;
    if (x->under && !unit_within(x->tr, v->unit, x->under)) return 0;
    if (x->json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        venue_fields_json(&j, v);
        tv_json_object_end(&j);
        return tv_json_line_end(&j);
    }
    char hex[2 * TV_VENUE_ID_BYTES + 1], when[40], code[TV_SHORT_CODE_STR];
    const tv_category *c = tv_category_by_code(v->category);
    tv_hex_encode(hex, v->id, sizeof v->id);
    tv_short_code(code, v->id);
    tv_cli_hlc_time(when, sizeof when, v->created_hlc);
    when[10] = '\0';
    printf("%s  %s  %s  %-16s  ", hex, code, when, c ? c->slug : "?");
    if (x->with_unit) {
        const tv_unit *u = tv_unit_find(v->unit);
        printf("%s %s  ", v->unit, u ? u->name : "?");
    }
    printf("%s%s%s\n", tv_text_esc(v->name), v->village[0] ? " — " : "", tv_text_esc(v->village));
    return 0;
}

/* A venue with no recent scan, and its status. */
typedef struct nc_row {
    store_venue v;
    store_venue_status st;
} nc_row;

typedef struct nc_ctx {
    store_txn *t;
    const char *unit;  /* only venues of this unit; NULL for all */
    const tv_tree *tr; /* with under: only venues of that unit or below it */
    const char *under;
    int64_t since_ms; /* listed: no scan at or after this */
    nc_row *rows;
    size_t n, cap;
} nc_ctx;

static int nc_collect(const store_venue *v, void *arg)
{
    nc_ctx *c = arg;
    if (c->unit && strcmp(v->unit, c->unit) != 0) return 0;
    if (c->under && !unit_within(c->tr, v->unit, c->under)) return 0;
    store_venue_status st;
    int rc = store_venue_status_get(c->t, v->id, &st);
    if (rc) return rc;
    if (!st.suspended && st.last_scan_ms != INT64_MIN && st.last_scan_ms >= c->since_ms) return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        nc_row *rows = realloc(c->rows, cap * sizeof *rows);
        if (!rows) return TV_ENOMEM;
        c->rows = rows;
        c->cap = cap;
    }
    c->rows[c->n++] = (nc_row){*v, st};
    return 0;
}

/* Most reminders first, then the oldest last scan (never scanned first), then by id. */
static int nc_cmp(const void *pa, const void *pb)
{
    const nc_row *a = pa, *b = pb;
    if (a->st.reminders != b->st.reminders) return a->st.reminders > b->st.reminders ? -1 : 1;
    if (a->st.last_scan_ms != b->st.last_scan_ms)
        return a->st.last_scan_ms < b->st.last_scan_ms ? -1 : 1;
    return memcmp(a->v.id, b->v.id, TV_VENUE_ID_BYTES);
}

static int nc_print(const nc_row *r, int json, int with_unit)
{
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        venue_fields_json(&j, &r->v);
        status_fields_json(&j, &r->st);
        tv_json_object_end(&j);
        return tv_json_line_end(&j);
    }
    char hex[2 * TV_VENUE_ID_BYTES + 1], last[TV_TIME_STR_BYTES] = "never";
    tv_hex_encode(hex, r->v.id, sizeof r->v.id);
    if (r->st.last_scan_ms != INT64_MIN) {
        tv_time_format_vn(last, sizeof last, r->st.last_scan_ms);
        last[10] = '\0';
    }
    printf("%s  reminders %3llu (%llu active)  %-9s  last scan %-10s  ", hex,
           (unsigned long long)r->st.reminders, (unsigned long long)r->st.reminders_active,
           r->st.suspended ? "SUSPENDED" : "-", last);
    if (with_unit) {
        const tv_unit *u = tv_unit_find(r->v.unit);
        printf("%s %s  ", r->v.unit, u ? u->name : "?");
    }
    printf("%s%s%s\n", tv_text_esc(r->v.name), r->v.village[0] ? " — " : "",
           tv_text_esc(r->v.village));
    return 0;
}

static int venue_noncompliant(tv_cli *cli, tv_node *nn, const tv_tree *tr, const venue_args *a)
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
    tv_node *n = nn;
    int rc;
    nc_ctx c = {.unit = n->role == TV_ROLE_COMMUNE ? n->unit : NULL,
                .tr = tr,
                .under = a->unit,
                .since_ms = tv_wall_ms() - days * MS_PER_DAY};
    if ((rc = store_read_begin(n->st, &c.t)) == 0) {
        rc = store_venue_foreach(c.t, nc_collect, &c);
        store_read_end(c.t);
    }
    if (rc == 0) {
        if (c.n > 1) qsort(c.rows, c.n, sizeof *c.rows, nc_cmp);
        for (size_t i = 0; i < c.n && rc == 0; i++)
            rc = nc_print(&c.rows[i], a->json, n->role != TV_ROLE_COMMUNE);
        if (rc == 0 && c.n == 0 && !a->json)
            fprintf(stderr, "every venue%s%s has a scan in the last %ld day%s.\n",
                    c.unit ? " of unit " : "", c.unit ? c.unit : "", days, days == 1 ? "" : "s");
    }
    free(c.rows);
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
    tv_tree tr = {0};
    int have_tree = 0;
    store_txn *t;
    if (a.unit) {
        if ((rc = store_read_begin(n.st, &t)) == 0) {
            rc = tv_tree_load(t, &tr);
            store_read_end(t);
            have_tree = rc == 0;
        }
        if (rc) {
            tv_node_close(&n);
            return tv_cli_fail(cli, rc, "cannot read the unit tree");
        }
        if (!tv_tree_find(&tr, a.unit)) {
            tv_cli_error("unit %s is neither in the official list nor added on this node; "
                         "'truyvet unit list' shows the units.",
                         a.unit);
            rc = TV_EXIT_FAIL;
            goto out;
        }
    }
    if (a.noncompliant) {
        rc = venue_noncompliant(cli, &n, &tr, &a);
        goto out;
    }
    list_ctx x = {
        .tr = &tr, .under = a.unit, .json = a.json, .with_unit = n.role != TV_ROLE_COMMUNE};
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = store_venue_foreach(t, list_one, &x);
        store_read_end(t);
    }
    if (rc) rc = tv_cli_fail(cli, rc, "cannot list the venues");
out:
    if (have_tree) tv_tree_free(&tr);
    tv_node_close(&n);
    return rc;
}

#define SHOW_ITEMS_MAX 4096 /* controllers or reminders shown, at most */

typedef struct ctrl_item {
    char phone[CRDT_PHONE_BYTES_MAX + 1];
    uint64_t hlc;
} ctrl_item;

typedef struct rem_item {
    uint64_t hlc;
    uint8_t action;
    char note[CRDT_TEXT_BYTES_MAX + 1];
} rem_item;

/* What `venue show` and `controller list` print besides the venue itself. */
typedef struct venue_more {
    store_venue_status st;
    ctrl_item *ctrl;
    size_t nctrl, capctrl;
    rem_item *rem;
    size_t nrem, caprem;
} venue_more;

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap) return 0;
    if (n >= SHOW_ITEMS_MAX) return TV_ELIMIT;
    size_t c = *cap ? 2 * *cap : 16;
    void *q = realloc(*p, c * size);
    if (!q) return TV_ENOMEM;
    *p = q;
    *cap = c;
    return 0;
}

static int more_ctrl(const char *phone, uint64_t hlc, void *arg)
{
    venue_more *m = arg;
    int rc = grow((void **)&m->ctrl, &m->capctrl, m->nctrl, sizeof *m->ctrl);
    if (rc) return rc;
    ctrl_item *c = &m->ctrl[m->nctrl++];
    snprintf(c->phone, sizeof c->phone, "%s", phone);
    c->hlc = hlc;
    return 0;
}

static int more_rem(uint64_t hlc, const uint8_t origin[TV_NODE_ID_BYTES], uint8_t action,
                    const char *note, size_t note_len, void *arg)
{
    (void)origin;
    venue_more *m = arg;
    int rc = grow((void **)&m->rem, &m->caprem, m->nrem, sizeof *m->rem);
    if (rc) return rc;
    rem_item *r = &m->rem[m->nrem++];
    r->hlc = hlc;
    r->action = action;
    if (note_len > CRDT_TEXT_BYTES_MAX) note_len = CRDT_TEXT_BYTES_MAX;
    memcpy(r->note, note, note_len);
    r->note[note_len] = '\0';
    return 0;
}

static void more_free(venue_more *m)
{
    free(m->ctrl);
    free(m->rem);
}

/* Reads a venue's controllers, and with `all` its reminders and status too. */
static int more_get(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], int all, venue_more *m)
{
    memset(m, 0, sizeof *m);
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_controllers_foreach(t, id, more_ctrl, m);
    if (rc == 0 && all) rc = store_reminders_foreach(t, id, more_rem, m);
    if (rc == 0 && all) rc = store_venue_status_get(t, id, &m->st);
    store_read_end(t);
    return rc;
}

static void ctrl_json(tv_json *j, const ctrl_item *c)
{
    char when[40];
    tv_json_object_begin(j);
    tv_json_key(j, "phone");
    tv_json_string(j, c->phone);
    tv_cli_hlc_time(when, sizeof when, c->hlc);
    tv_json_key(j, "added");
    tv_json_string(j, when);
    tv_json_object_end(j);
}

static void show_json(const store_venue *v, const venue_more *m)
{
    char when[40];
    tv_json j;
    tv_json_init(&j, stdout);
    tv_json_object_begin(&j);
    venue_fields_json(&j, v);
    tv_json_key(&j, "controllers");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < m->nctrl; i++)
        ctrl_json(&j, &m->ctrl[i]);
    tv_json_array_end(&j);
    status_fields_json(&j, &m->st);
    tv_json_key(&j, "reminder_history");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < m->nrem; i++) {
        tv_json_object_begin(&j);
        tv_cli_hlc_time(when, sizeof when, m->rem[i].hlc);
        tv_json_key(&j, "time");
        tv_json_string(&j, when);
        tv_json_key(&j, "action");
        tv_json_string(&j, m->rem[i].action == CRDT_REINSTATE ? "reinstate" : "remind");
        tv_json_key(&j, "note");
        tv_json_string(&j, m->rem[i].note);
        tv_json_object_end(&j);
    }
    tv_json_array_end(&j);
    tv_json_object_end(&j);
    tv_json_line_end(&j);
}

static void show_text(const store_venue *v, const venue_more *m)
{
    char hex[2 * TV_VENUE_ID_BYTES + 1], reg[40], upd[40], closes[8] = "none", last[40] = "never";
    const tv_category *c = tv_category_by_code(v->category);
    tv_hex_encode(hex, v->id, sizeof v->id);
    tv_cli_hlc_time(reg, sizeof reg, v->created_hlc);
    tv_cli_hlc_time(upd, sizeof upd, v->updated_hlc);
    if (v->closes != CRDT_CLOSES_NONE) closes_format(closes, v->closes);
    if (m->st.last_scan_ms != INT64_MIN) tv_time_format_vn(last, sizeof last, m->st.last_scan_ms);
    char code[TV_SHORT_CODE_STR];
    const tv_unit *u = tv_unit_find(v->unit);
    tv_short_code(code, v->id);
    printf("id:          %s\nshort code:  %s\nname:        %s\ncategory:    %s (%s)\n"
           "unit:        %s%s%s\nvillage:     %s\nowner phone: %s\ncloses:      %s\n"
           "registered:  %s\nupdated:     %s\n",
           hex, code, tv_text_esc(v->name), c ? c->slug : "unknown", c ? c->name_vi : "?", v->unit,
           u ? " " : "", u ? u->name : "", tv_text_esc(v->village), tv_text_esc(v->owner_phone),
           closes, reg, upd);
    printf("controllers:");
    if (m->nctrl == 0) printf(" none");
    for (size_t i = 0; i < m->nctrl; i++)
        printf("%s %s", i ? "," : "", m->ctrl[i].phone);
    printf("\nlast scan:   %s\n", last);
    printf("reminders:   %llu (%llu since the last scan or reinstatement)\n",
           (unsigned long long)m->st.reminders, (unsigned long long)m->st.reminders_active);
    for (size_t i = 0; i < m->nrem; i++) {
        char when[40];
        tv_cli_hlc_time(when, sizeof when, m->rem[i].hlc);
        printf("  %s  %s%s%s\n", when,
               m->rem[i].action == CRDT_REINSTATE ? "reinstated" : "reminder",
               m->rem[i].note[0] ? ": " : "", tv_text_esc(m->rem[i].note));
    }
    if (m->st.suspended)
        printf("suspended:   yes: the station refuses its scans until a scan is recorded another "
               "way or 'truyvet venue reinstate %s'\n",
               hex);
    else
        printf("suspended:   no\n");
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
    venue_more m = {0};
    if ((rc = tv_cli_venue_find(&n, argv[optind], &v)) == 0 &&
        (rc = more_get(&n, v.id, 1, &m)) != 0)
        rc = tv_cli_fail(cli, rc, "cannot read the venue");
    tv_node_close(&n);
    if (rc == 0) {
        if (a.json)
            show_json(&v, &m);
        else
            show_text(&v, &m);
    }
    more_free(&m);
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

/* The live add tags of phone at the venue. Returns 0 or a store error. */
static int controller_tags(tv_node *n, const uint8_t venue[TV_VENUE_ID_BYTES], const char *phone,
                           uint8_t *tags, uint32_t cap, uint32_t *ntags)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_controller_tags(t, venue, phone, tags, cap, ntags);
    store_read_end(t);
    return rc;
}

static int controller_add(tv_cli *cli, tv_node *n, const store_venue *sv, const char *id,
                          const char *phone)
{
    uint8_t tag[CRDT_TAG_BYTES];
    uint32_t have = 0;
    int rc = controller_tags(n, sv->id, phone, tag, 1, &have);
    if (rc && rc != TV_ELIMIT) return tv_cli_fail(cli, rc, "cannot read the venue's controllers");
    if (have > 0 || rc == TV_ELIMIT) {
        fprintf(stderr, "%s is already a controller of venue %s (%s); nothing recorded.\n", phone,
                id, tv_text_esc(sv->name));
        return TV_EXIT_OK;
    }
    crdt_controller c = {.unit = {n->unit, (uint32_t)strlen(n->unit)},
                         .phone = {phone, (uint32_t)strlen(phone)}};
    memcpy(c.venue, sv->id, sizeof c.venue);
    if ((rc = tv_node_add_controller(n, CRDT_EV_CONTROLLER_ADD, &c, NULL))) {
        tv_node_discard(n);
        return tv_cli_fail(cli, rc, "cannot add the controller");
    }
    if ((rc = commit(cli, n, "cannot add the controller"))) return rc;
    fprintf(stderr, "%s may now scan for venue %s (%s).\n", phone, id, tv_text_esc(sv->name));
    return TV_EXIT_OK;
}

static int controller_remove(tv_cli *cli, tv_node *n, const store_venue *sv, const char *id,
                             const char *phone)
{
    uint8_t *tags = malloc((size_t)REMOVE_TAGS_MAX * CRDT_TAG_BYTES);
    if (!tags) return tv_cli_fail(cli, TV_ENOMEM, "cannot remove the controller");
    uint32_t ntags = 0;
    int rc = controller_tags(n, sv->id, phone, tags, REMOVE_TAGS_MAX, &ntags);
    if (rc) {
        rc = tv_cli_fail(cli, rc, "cannot read the venue's controllers");
        goto out;
    }
    if (ntags == 0) {
        tv_cli_error("%s is not a controller of venue %s (%s); 'truyvet venue controller list %s' "
                     "shows them.",
                     phone, id, sv->name, id);
        rc = TV_EXIT_FAIL;
        goto out;
    }
    for (uint32_t i = 0; i < ntags && rc == 0; i += CRDT_TAGS_MAX) {
        uint32_t k = ntags - i < CRDT_TAGS_MAX ? ntags - i : CRDT_TAGS_MAX;
        crdt_controller c = {.unit = {n->unit, (uint32_t)strlen(n->unit)},
                             .phone = {phone, (uint32_t)strlen(phone)},
                             .tags = tags + (size_t)i * CRDT_TAG_BYTES,
                             .ntags = k};
        memcpy(c.venue, sv->id, sizeof c.venue);
        rc = tv_node_add_controller(n, CRDT_EV_CONTROLLER_REMOVE, &c, NULL);
    }
    if (rc) {
        tv_node_discard(n);
        rc = tv_cli_fail(cli, rc, "cannot remove the controller");
        goto out;
    }
    if ((rc = commit(cli, n, "cannot remove the controller"))) goto out;
    fprintf(stderr, "%s may no longer scan for venue %s (%s).\n", phone, id, tv_text_esc(sv->name));
out:
    free(tags);
    return rc;
}

static int controller_list(tv_cli *cli, const char *id, int json)
{
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    store_venue sv;
    venue_more m = {0};
    if ((rc = tv_cli_venue_find(&n, id, &sv)) == 0 && (rc = more_get(&n, sv.id, 0, &m)) != 0)
        rc = tv_cli_fail(cli, rc, "cannot read the venue's controllers");
    tv_node_close(&n);
    for (size_t i = 0; rc == 0 && i < m.nctrl; i++) {
        if (json) {
            tv_json j;
            tv_json_init(&j, stdout);
            ctrl_json(&j, &m.ctrl[i]);
            tv_json_line_end(&j);
        } else {
            char when[40];
            tv_cli_hlc_time(when, sizeof when, m.ctrl[i].hlc);
            printf("%s  added %s\n", m.ctrl[i].phone, when);
        }
    }
    if (rc == 0 && m.nctrl == 0 && !json)
        fprintf(stderr, "venue %s (%s) has no controllers.\n", id, tv_text_esc(sv.name));
    more_free(&m);
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

static int status_read(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], store_venue_status *st)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_venue_status_get(t, id, st);
    store_read_end(t);
    return rc;
}

static void status_print_json(const store_venue *sv, const store_venue_status *st)
{
    tv_json j;
    tv_json_init(&j, stdout);
    tv_json_object_begin(&j);
    tv_json_key(&j, "venue");
    tv_json_hex(&j, sv->id, sizeof sv->id);
    status_fields_json(&j, st);
    tv_json_object_end(&j);
    tv_json_line_end(&j);
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
    store_venue_status before, st;
    if ((rc = own_venue(&n, id, &sv))) goto out;
    if ((rc = status_read(&n, sv.id, &before))) {
        rc = tv_cli_fail(cli, rc, "cannot read the venue's reminders");
        goto out;
    }
    if (action == CRDT_REINSTATE && !before.suspended) {
        tv_cli_error("venue %s (%s) is not suspended (%llu reminder%s since its last scan or "
                     "reinstatement); there is nothing to reinstate.",
                     id, sv.name, (unsigned long long)before.reminders_active,
                     before.reminders_active == 1 ? "" : "s");
        rc = TV_EXIT_FAIL;
        goto out;
    }
    crdt_reminder r = {.unit = {n.unit, (uint32_t)strlen(n.unit)}, .action = action};
    if (a.note) r.note = (crdt_text){a.note, (uint32_t)strlen(a.note)};
    memcpy(r.venue, sv.id, sizeof r.venue);
    const char *what =
        action == CRDT_REMIND ? "cannot record the reminder" : "cannot reinstate the venue";
    if ((rc = tv_node_add_reminder(&n, &r, NULL))) {
        tv_node_discard(&n);
        rc = tv_cli_fail(cli, rc, what);
        goto out;
    }
    if ((rc = commit(cli, &n, what))) goto out;
    if ((rc = status_read(&n, sv.id, &st))) {
        /* recorded; only the report is missing */
        tv_cli_error("recorded, but cannot read the venue's status back: %s.", tv_strerror(rc));
        rc = TV_EXIT_OK;
        goto out;
    }
    if (a.json) {
        status_print_json(&sv, &st);
    } else if (action == CRDT_REINSTATE) {
        printf("venue %s (%s) is reinstated: its station records scans again.\n", id,
               tv_text_esc(sv.name));
    } else {
        printf("reminder recorded for venue %s (%s): %llu reminder%s in all, %llu since its last "
               "scan or reinstatement.\n",
               id, tv_text_esc(sv.name), (unsigned long long)st.reminders,
               st.reminders == 1 ? "" : "s", (unsigned long long)st.reminders_active);
        if (st.suspended) {
            printf("The venue is %s SUSPENDED: its station refuses scans until a scan is "
                   "recorded another way ('truyvet scan', an import) or the commune reinstates "
                   "it ('truyvet venue reinstate %s').\n",
                   before.suspended ? "still" : "now", id);
        } else {
            uint64_t left = STORE_SUSPEND_REMINDERS - st.reminders_active;
            printf("%llu more reminder%s with no scan suspend%s it.\n", (unsigned long long)left,
                   left == 1 ? "" : "s", left == 1 ? "s" : "");
        }
    }
out:
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

typedef struct visit_row {
    tv_presence p;
    char person[2 * CRDT_MASKED_BYTES_MAX + 8];
} visit_row;

typedef struct visits_ctx {
    store_txn *t;
    uint8_t venue[TV_VENUE_ID_BYTES];
    int64_t from_ms, to_ms, now_ms;
    store_scan_ref *people; /* a scan of each person at the venue that day */
    size_t npeople, cap;
    visit_row *rows;
    size_t nrows, rcap;
} visits_ctx;

static int person_add(const store_scan_ref *s, void *arg)
{
    visits_ctx *c = arg;
    if (c->npeople == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 64;
        void *p = realloc(c->people, cap * sizeof *c->people);
        if (!p) return TV_ENOMEM;
        c->people = p;
        c->cap = cap;
    }
    c->people[c->npeople++] = *s;
    return 0;
}

static int ref_cmp(const void *a, const void *b)
{
    const store_scan_ref *x = a, *y = b;
    return memcmp(x->person, y->person, TV_PERSON_REF_BYTES);
}

static int row_cmp(const void *pa, const void *pb)
{
    const visit_row *a = pa, *b = pb;
    if (a->p.from_ms != b->p.from_ms) return a->p.from_ms < b->p.from_ms ? -1 : 1;
    return strcmp(a->person, b->person);
}

/* Adds the visits of one person (s: one of their scans) at the venue that begin on the
 * day. */
static int person_visits(visits_ctx *c, const store_scan_ref *s)
{
    const uint8_t *ref = s->person;
    tv_presence *p;
    size_t n;
    int rc = tv_person_presence(c->t, ref, c->from_ms, c->to_ms, TV_DEDUPE_WINDOW_MS_DEFAULT,
                                c->now_ms, &p, &n);
    if (rc) return rc;
    char person[sizeof c->rows->person] = "";
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (memcmp(p[i].venue, c->venue, TV_VENUE_ID_BYTES) != 0 || p[i].from_ms < c->from_ms ||
            p[i].from_ms >= c->to_ms)
            continue;
        if (!person[0] && (rc = tv_scan_display(c->t, s, person, sizeof person))) break;
        if (c->nrows == c->rcap) {
            size_t cap = c->rcap ? 2 * c->rcap : 64;
            visit_row *r = realloc(c->rows, cap * sizeof *r);
            if (!r) {
                rc = TV_ENOMEM;
                break;
            }
            c->rows = r;
            c->rcap = cap;
        }
        visit_row *r = &c->rows[c->nrows++];
        r->p = p[i];
        memcpy(r->person, person, sizeof person);
    }
    free(p);
    return rc;
}

static void print_row(const visit_row *r, int json)
{
    char from[TV_TIME_STR_BYTES], to[TV_TIME_STR_BYTES];
    tv_time_format_vn(from, sizeof from, r->p.from_ms);
    tv_time_format_vn(to, sizeof to, r->p.to_ms);
    int open = r->p.end == TV_END_OPEN;
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "person");
        tv_json_string(&j, r->person);
        tv_json_key(&j, "from");
        tv_json_string(&j, from);
        tv_json_key(&j, "to");
        if (open)
            tv_json_null(&j);
        else
            tv_json_string(&j, to);
        tv_json_key(&j, "end");
        tv_json_string(&j, tv_end_reason_name(r->p.end));
        tv_json_key(&j, "scans");
        tv_json_u64(&j, r->p.scans);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
        return;
    }
    /* 08:00-09:30: the hours and minutes of the two times */
    printf("%.5s-%.5s  %-13s %3u scan%s  %s\n", from + 11, open ? "now  " : to + 11,
           tv_end_reason_name(r->p.end), r->p.scans, r->p.scans == 1 ? " " : "s",
           tv_text_esc(r->person));
}

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
    visits_ctx x = {.now_ms = tv_wall_ms()};
    int32_t day;
    if (strcmp(date, "today") == 0)
        day = crdt_day_vn(x.now_ms);
    else if (tv_date_parse(date, &day))
        return tv_cli_usage("venue visits", "--date takes YYYY-MM-DD or 'today', not '%s'.", date);
    x.from_ms = tv_date_start_ms(day, TV_TIME_VN_OFFSET_MIN);
    x.to_ms = tv_date_start_ms(day + 1, TV_TIME_VN_OFFSET_MIN);

    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    store_venue v;
    if ((rc = tv_cli_venue_find(&n, argv[optind], &v))) {
        tv_node_close(&n);
        return rc;
    }
    memcpy(x.venue, v.id, TV_VENUE_ID_BYTES);
    if ((rc = store_read_begin(n.st, &x.t)) == 0) {
        rc = store_scans_by_venue(x.t, x.venue, x.from_ms, x.to_ms, person_add, &x);
        if (rc == 0 && x.npeople > 1) qsort(x.people, x.npeople, sizeof *x.people, ref_cmp);
        for (size_t i = 0; i < x.npeople && rc == 0; i++)
            if (i == 0 || ref_cmp(&x.people[i], &x.people[i - 1]) != 0)
                rc = person_visits(&x, &x.people[i]);
        store_read_end(x.t);
    }
    if (rc == 0) {
        if (x.nrows > 1) qsort(x.rows, x.nrows, sizeof *x.rows, row_cmp);
        size_t people = 0;
        for (size_t i = 0; i < x.npeople; i++)
            people += i == 0 || ref_cmp(&x.people[i], &x.people[i - 1]) != 0;
        for (size_t i = 0; i < x.nrows; i++)
            print_row(&x.rows[i], json);
        char d[TV_DATE_STR_BYTES];
        tv_date_format(d, sizeof d, day);
        fprintf(stderr, "%zu visit%s by %zu %s at %s on %s\n", x.nrows, x.nrows == 1 ? "" : "s",
                people, people == 1 ? "person" : "people", tv_text_esc(v.name), d);
    }
    free(x.people);
    free(x.rows);
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
