/* `truyvet venue visits` and `truyvet venue categories`: the presence view of a venue's
 * day, and the default stays that close visits nobody checked out of. */
#include "crdt/error.h"
#include "node/logic/category.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/render/json.h"
#include "node/logic/record.h"
#include "node/format/timefmt.h"
#include "node/logic/visits.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

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
