/* `truyvet trace`: who shared a venue with a person, and where that person was. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/downflow.h"
#include "node/format/csv.h"
#include "node/logic/fresh.h"
#include "node/logic/health.h"
#include "node/render/json.h"
#include "node/logic/record.h"
#include "node/logic/reveal.h"
#include "node/format/timefmt.h"
#include "node/format/text.h"
#include "node/logic/trace.h"
#include "node/logic/units.h"

#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int cmd_trace(tv_cli *cli, int argc, char **argv);

static const tv_opt trace_opts[] = {
    {.id = TV_O_PERSON,
     .help = "what the case's card QR holds, or a phone or ID number\n"
             "(--person is the same)"},
    {.id = TV_O_REF, .help = "the case's pseudonym (32 hex digits)"},
    {"--from, --to TIME", 0, NULL,
     "the infectious window: 'today', a date (2021-10-06, from its\n"
     "midnight, Vietnam time) or a time with its offset. Default:\n"
     "from the case's status ('truyvet case add'), two days before\n"
     "the onset (else the sample) until it was cleared, or now",
     TV_OPT_ARG, 0},
    {"depth", 'd', "1|2", "F1 only, or F1 and F2 (default 1)", 0, 0},
    {"min-overlap", 'm', "DUR",
     "the shortest shared time that counts (default 15m; 90s, 15m,\n"
     "2h)",
     0, 0},
    {"margin", 'M', "DUR", "widen the case's visits by this much on both sides (default 0)", 0, 0},
    {.id = TV_O_FORMAT,
     .help = "table (default), json (one object; --json is the same) or csv\n"
             "(the contact list for a spreadsheet: UTF-8 with a byte order\n"
             "mark, Vietnamese headers, one row per visit of the case and\n"
             "per shared visit; with --reveal also name, ID numbers, date\n"
             "of birth, address and phone)"},
    {.id = TV_O_REVEAL,
     .help = "show the case and every contact in full (name, phone, ID\n"
             "numbers, date of birth, address): only on a node of the\n"
             "health authority. Each full view is recorded in the log\n"
             "before anything is shown ('truyvet audit')"},
    {.id = TV_O_REASON, .help = "why (required with --reveal)"},
    {.name = "person", .id = TV_O_PERSON, .flags = TV_OPT_HIDDEN},
    {"from", 'f', "TIME", NULL, TV_OPT_HIDDEN, 0},
    {"to", 't', "TIME", NULL, TV_OPT_HIDDEN, 0},
    {.id = TV_O_JSON, .flags = TV_OPT_HIDDEN},
    {0}};

const tv_command tv_command_trace = {
    .name = "trace",
    .summary = "who shared a venue with a case (F1, F2), and where they were",
    .usage = "trace (--payload TEXT | --ref HEX) [--from TIME] [--to TIME]\n"
             "                              [--depth 1|2] [--min-overlap DURATION]\n"
             "                              [--margin DURATION] [--format table|json|csv]\n"
             "                              [--reveal --reason TEXT]",
    .about =
        "Trace a case on what this node holds: the venues they visited in the window (where\n"
        "to zone), everyone whose visit overlapped theirs at the same venue by at least\n"
        "--min-overlap (F1), ranked by the time shared, and with --depth 2 everyone who\n"
        "shared a venue with an F1 after that F1's first exposure (F2). Visits are the 'venue\n"
        "visits' view: repeat scans collapsed, missing check-outs inferred. People are shown\n"
        "masked. Then, for each commune the result touches, how fresh this node's copy of its\n"
        "log is, with a warning when it has not synced since the window began: contacts there\n"
        "after that are not seen.\n",
    .opts = trace_opts,
    .more = "Exit status: 0 when the trace ran (also when it found no visit in the window), 1\n"
            "when this node holds no record of the person at all (no person, scan or case\n"
            "status: a mistyped number, or a node below that has not synced) or the trace\n"
            "failed, 2 for a usage error.\n",
    .fn = cmd_trace,
    .col = 19,
};

/* "15m", "90s", "2h", or minutes alone. Returns ms, or -1. */
static int64_t duration_ms(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 0 || v > 24L * 60 * 60) return -1;
    if (*end == '\0' || strcmp(end, "m") == 0) return (int64_t)v * 60000;
    if (strcmp(end, "s") == 0) return (int64_t)v * 1000;
    if (strcmp(end, "h") == 0) return (int64_t)v * 3600000;
    return -1;
}

static void person_of(store_txn *t, const uint8_t *ref, char *out, size_t cap)
{
    if (tv_person_display_get(t, ref, (crdt_text){0}, out, cap)) snprintf(out, cap, "?");
}

static int count_scan(const store_scan_ref *s, void *ctx)
{
    (void)s;
    ++*(uint64_t *)ctx;
    return 0;
}

/* Does t hold anything of this person: a person event, a scan or a case status? Returns
 * 1, 0, or a store error. */
static int person_known(tv_node *n, store_txn *t, const uint8_t *ref)
{
    store_person sp;
    int rc = store_person_get(t, ref, &sp);
    if (rc != TV_ENOTFOUND) return rc ? rc : 1;
    uint64_t scans = 0;
    if ((rc = store_scans_by_person(t, ref, INT64_MIN, INT64_MAX, count_scan, &scans))) return rc;
    if (scans) return 1;
    tv_case cs;
    tv_opened op = {0};
    rc = tv_case_lookup(n, t, &op, ref, &cs);
    tv_opened_release(&op);
    return rc == TV_ENOTFOUND ? 0 : rc ? rc : 1;
}

static void hm(char *out, size_t cap, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, ms);
    snprintf(out, cap, "%.10s %.5s", w, w + 11);
}

static void visit_json(tv_json *j, store_txn *t, const uint8_t *venue, int64_t from, int64_t to)
{
    char when[TV_TIME_STR_BYTES];
    store_venue v;
    int known = store_venue_get(t, venue, &v) == 0;
    tv_json_object_begin(j);
    tv_json_key(j, "venue");
    tv_json_hex(j, venue, TV_VENUE_ID_BYTES);
    tv_json_key(j, "venue_name");
    if (known)
        tv_json_string(j, v.name);
    else
        tv_json_null(j);
    tv_json_key(j, "unit");
    if (known)
        tv_json_string(j, v.unit);
    else
        tv_json_null(j);
    tv_json_key(j, "village");
    tv_json_string(j, known ? v.village : "");
    tv_json_key(j, "from");
    tv_time_format_vn(when, sizeof when, from);
    tv_json_string(j, when);
    tv_json_key(j, "to");
    tv_time_format_vn(when, sizeof when, to);
    tv_json_string(j, when);
    tv_json_key(j, "minutes");
    tv_json_u64(j, (uint64_t)((to - from) / 60000));
    tv_json_object_end(j);
}

/* The details revealed (--reveal): index 0 the case, i + 1 contact i. */
typedef struct revealed {
    tv_details *d;
    uint8_t *ok;
} revealed;

static const tv_details *details_of(const revealed *rv, size_t idx)
{
    return rv && rv->ok[idx] ? &rv->d[idx] : NULL;
}

/* Prints the revealed details of person idx under their line, when there are any. */
static void details_text(const revealed *rv, size_t idx, const char *indent)
{
    const tv_details *d = details_of(rv, idx);
    if (!d) return;
    char line[sizeof(tv_details) + 64]; /* every field and its label */
    tv_details_line(line, sizeof line, d);
    printf("%s%s\n", indent, tv_text_esc(line));
    sodium_memzero(line, sizeof line);
}

typedef struct units units;
static void time_json(tv_json *j, const char *key, int64_t ms);
static void completeness_json(tv_json *j, const tv_node *n, const units *u);

static void print_json(store_txn *t, const uint8_t *ref, const tv_trace_result *r, const tv_node *n,
                       const units *u, const tv_trace_opts *o, const revealed *rv)
{
    char disp[2 * CRDT_MASKED_BYTES_MAX + 8];
    tv_json j;
    tv_json_init(&j, stdout);
    tv_json_object_begin(&j);
    tv_json_key(&j, "case");
    tv_json_object_begin(&j);
    tv_json_key(&j, "ref");
    tv_json_hex(&j, ref, TV_PERSON_REF_BYTES);
    person_of(t, ref, disp, sizeof disp);
    tv_json_key(&j, "person");
    tv_json_string(&j, disp);
    if (details_of(rv, 0)) tv_details_json(&j, details_of(rv, 0));
    tv_json_object_end(&j);
    time_json(&j, "from", o->from_ms);
    time_json(&j, "to", o->to_ms);
    tv_json_key(&j, "visits");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < r->nvisits; i++)
        visit_json(&j, t, r->visits[i].venue, r->visits[i].from_ms, r->visits[i].to_ms);
    tv_json_array_end(&j);
    tv_json_key(&j, "contacts");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < r->ncontacts; i++) {
        const tv_contact *c = &r->contacts[i];
        tv_json_object_begin(&j);
        tv_json_key(&j, "level");
        tv_json_string(&j, c->level == 1 ? "F1" : "F2");
        tv_json_key(&j, "ref");
        tv_json_hex(&j, c->ref, TV_PERSON_REF_BYTES);
        person_of(t, c->ref, disp, sizeof disp);
        tv_json_key(&j, "person");
        tv_json_string(&j, disp);
        if (details_of(rv, i + 1)) tv_details_json(&j, details_of(rv, i + 1));
        tv_json_key(&j, "via");
        tv_json_hex(&j, c->via, TV_PERSON_REF_BYTES);
        tv_json_key(&j, "shared_minutes");
        tv_json_u64(&j, (uint64_t)(c->total_ms / 60000));
        tv_json_key(&j, "shared");
        tv_json_array_begin(&j);
        for (size_t k = 0; k < c->nshared; k++)
            visit_json(&j, t, c->shared[k].venue, c->shared[k].from_ms, c->shared[k].to_ms);
        tv_json_array_end(&j);
        tv_json_object_end(&j);
    }
    tv_json_array_end(&j);
    completeness_json(&j, n, u);
    tv_json_object_end(&j);
    tv_json_line_end(&j);
}

static void print_text(store_txn *t, const uint8_t *ref, const tv_trace_result *r,
                       const revealed *rv)
{
    char disp[2 * CRDT_MASKED_BYTES_MAX + 8], a[32], b[32];
    person_of(t, ref, disp, sizeof disp);
    printf("case  %s\n", tv_text_esc(disp));
    details_text(rv, 0, "      ");
    printf("visits (where to zone): %zu\n", r->nvisits);
    for (size_t i = 0; i < r->nvisits; i++) {
        store_venue v;
        int known = store_venue_get(t, r->visits[i].venue, &v) == 0;
        hm(a, sizeof a, r->visits[i].from_ms);
        hm(b, sizeof b, r->visits[i].to_ms);
        printf("  %s-%s  %s%s%s (unit %s)\n", a, b + 11,
               known ? tv_text_esc(v.name) : "(a venue not held here)",
               known && v.village[0] ? ", " : "", known ? tv_text_esc(v.village) : "",
               known ? v.unit : "?");
    }
    for (int level = 1; level <= 2; level++) {
        size_t count = 0;
        for (size_t i = 0; i < r->ncontacts; i++)
            count += r->contacts[i].level == level;
        if (level == 2 && count == 0) continue;
        printf("F%d: %zu\n", level, count);
        for (size_t i = 0, rank = 0; i < r->ncontacts; i++) {
            const tv_contact *c = &r->contacts[i];
            if (c->level != level) continue;
            person_of(t, c->ref, disp, sizeof disp);
            printf("  %2zu  %-40s  %4lld min\n", ++rank, tv_text_esc(disp),
                   (long long)(c->total_ms / 60000));
            details_text(rv, i + 1, "        ");
            for (size_t k = 0; k < c->nshared; k++) {
                store_venue v;
                int known = store_venue_get(t, c->shared[k].venue, &v) == 0;
                hm(a, sizeof a, c->shared[k].from_ms);
                hm(b, sizeof b, c->shared[k].to_ms);
                printf("        %s-%s  %s\n", a, b + 11,
                       known ? tv_text_esc(v.name) : "(a venue not held here)");
            }
        }
    }
}

/* --- completeness: what this node holds of each commune the result touches ------------ */

#define UNITS_MAX 4096     /* more communes than a province has */
#define STALE_SHOWN_MAX 20 /* other stale communes named in the text forms */

struct units {
    char code[UNITS_MAX][TV_UNIT_CODE_MAX + 1];
    tv_fresh f[UNITS_MAX];
    size_t n, touched; /* code[0..touched) the result touches; then other stale communes */
    int more;          /* some were left out (over UNITS_MAX) */
    store_txn *t;
    int64_t from_ms;
};

static int unit_known(const units *u, const char *code)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->code[i], code) == 0) return 1;
    return 0;
}

/* Adds a unit once; a touched unit gets its full freshness, another only its last scan
 * day (its nodes' logs would cost a pass over every certificate, for each commune). */
static int unit_add(units *u, const char *code)
{
    if (unit_known(u, code)) return 0;
    if (u->n == UNITS_MAX) {
        u->more = 1;
        return 0;
    }
    size_t i = u->n++;
    snprintf(u->code[i], sizeof u->code[0], "%s", code);
    u->f[i] = (tv_fresh){.last_event = -1, .received = -1, .last_scan_day = INT32_MIN};
    int rc = store_agg_last_day(u->t, code, &u->f[i].last_scan_day);
    return rc == TV_ENOTFOUND ? 0 : rc;
}

static int code_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static int unit_of_venue(units *u, const uint8_t *venue)
{
    store_venue v;
    return store_venue_get(u->t, venue, &v) ? 0 : unit_add(u, v.unit);
}

/* Another commune in this node's scope with nothing since the window began. */
static int other_commune(const char *code, void *arg)
{
    units *u = arg;
    if (unit_known(u, code)) return 0;
    int32_t day = INT32_MIN;
    int rc = store_agg_last_day(u->t, code, &day);
    if (rc && rc != TV_ENOTFOUND) return rc;
    return day >= crdt_day_vn(u->from_ms) ? 0 : unit_add(u, code);
}

static int units_gather(store_txn *t, const tv_trace_result *r, const tv_node *n, int64_t from_ms,
                        units *u)
{
    u->n = u->touched = 0;
    u->more = 0;
    u->t = t;
    u->from_ms = from_ms;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < r->nvisits; i++)
        rc = unit_of_venue(u, r->visits[i].venue);
    for (size_t i = 0; rc == 0 && i < r->ncontacts; i++)
        for (size_t k = 0; rc == 0 && k < r->contacts[i].nshared; k++)
            rc = unit_of_venue(u, r->contacts[i].shared[k].venue);
    u->touched = u->n;
    /* the touched communes' logs, in code order, in one pass over the certificates */
    qsort(u->code, u->touched, sizeof u->code[0], code_cmp);
    const char *codes[UNITS_MAX];
    for (size_t i = 0; i < u->touched; i++)
        codes[i] = u->code[i];
    if (rc == 0) rc = tv_fresh_many(t, codes, u->touched, u->f);
    /* a commune node holds no other commune's scans: its note says so instead */
    if (rc == 0 && n->role != TV_ROLE_COMMUNE) rc = tv_communes_foreach(t, other_commune, u);
    return rc;
}

static void fresh_time(char *out, size_t cap, int64_t ms)
{
    if (ms < 0) {
        snprintf(out, cap, "never");
        return;
    }
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, ms);
    snprintf(out, cap, "%.10s %.5s", w, w + 11);
}

static void fresh_day(char *out, size_t cap, int32_t day)
{
    if (day == INT32_MIN)
        snprintf(out, cap, "none");
    else
        tv_date_format(out, cap, day);
}

static const char commune_note[] =
    "this is a commune node: it holds the scans of its own venues only, so visits at other "
    "communes' venues are not seen here; trace at the district or the province for them.";

/* Warnings on stderr, whatever the format: a stale commune hides contacts. */
static void completeness_warn(const tv_node *n, const units *u)
{
    char a[32], b[32];
    size_t others = 0;
    for (size_t i = 0; i < u->n; i++) {
        if (!tv_fresh_stale(&u->f[i], u->from_ms)) continue;
        if (i >= u->touched) {
            others++;
            continue;
        }
        fresh_day(a, sizeof a, u->f[i].last_scan_day);
        fresh_time(b, sizeof b, u->f[i].received);
        fprintf(stderr,
                "warning: commune %s has not synced since the window began: the last scan held "
                "from it is of %s (its log last reached this node %s); visits there after that "
                "are missing.\n",
                u->code[i], a, b);
    }
    if (others) {
        fprintf(stderr,
                "warning: %zu other commune%s of this node's scope ha%s no scan held since the "
                "window began (not synced, or nothing recorded); visits there are not seen:",
                others, others == 1 ? "" : "s", others == 1 ? "s" : "ve");
        for (size_t i = u->touched; i < u->n && i < u->touched + STALE_SHOWN_MAX; i++)
            fprintf(stderr, " %s", u->code[i]);
        fprintf(stderr, others > STALE_SHOWN_MAX ? " ...\n" : ".\n");
    }
    if (u->more) fprintf(stderr, "warning: over %d communes; the rest not checked.\n", UNITS_MAX);
    if (n->role == TV_ROLE_COMMUNE) fprintf(stderr, "note: %s\n", commune_note);
}

static void completeness_text(const tv_node *n, const units *u)
{
    char a[32], b[32], c[32];
    printf("completeness (this node's copy of each commune touched):\n");
    for (size_t i = 0; i < u->touched; i++) {
        fresh_day(a, sizeof a, u->f[i].last_scan_day);
        fresh_time(b, sizeof b, u->f[i].last_event);
        fresh_time(c, sizeof c, u->f[i].received);
        printf("  %-8s last scan %s, last event %s, received %s%s\n", u->code[i], a, b, c,
               tv_fresh_stale(&u->f[i], u->from_ms) ? "  NOT SYNCED SINCE THE WINDOW BEGAN" : "");
    }
    if (u->n > u->touched) {
        printf("not synced since the window began (no scan held since then):");
        for (size_t i = u->touched; i < u->n && i < u->touched + STALE_SHOWN_MAX; i++) {
            fresh_day(a, sizeof a, u->f[i].last_scan_day);
            printf(" %s (last scan %s)", u->code[i], a);
        }
        if (u->n - u->touched > STALE_SHOWN_MAX)
            printf(" and %zu more", u->n - u->touched - STALE_SHOWN_MAX);
        putchar('\n');
    }
    if (n->role == TV_ROLE_COMMUNE) printf("  (%s)\n", commune_note);
}

static void time_json(tv_json *j, const char *key, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    tv_json_key(j, key);
    if (ms < 0) {
        tv_json_null(j);
        return;
    }
    tv_time_format_vn(w, sizeof w, ms);
    tv_json_string(j, w);
}

static void completeness_json(tv_json *j, const tv_node *n, const units *u)
{
    char d[16];
    tv_json_key(j, "completeness");
    tv_json_array_begin(j);
    for (size_t i = 0; i < u->n; i++) {
        tv_json_object_begin(j);
        tv_json_key(j, "unit");
        tv_json_string(j, u->code[i]);
        tv_json_key(j, "touched");
        tv_json_bool(j, i < u->touched);
        tv_json_key(j, "last_scan_day");
        if (u->f[i].last_scan_day == INT32_MIN) {
            tv_json_null(j);
        } else {
            tv_date_format(d, sizeof d, u->f[i].last_scan_day);
            tv_json_string(j, d);
        }
        if (i < u->touched) { /* the logs of its nodes: only for the communes touched */
            tv_json_key(j, "nodes");
            tv_json_u64(j, (uint64_t)u->f[i].nodes);
            tv_json_key(j, "held");
            tv_json_u64(j, (uint64_t)u->f[i].held);
            time_json(j, "last_event", u->f[i].last_event);
            time_json(j, "received", u->f[i].received);
        }
        tv_json_key(j, "stale");
        tv_json_bool(j, tv_fresh_stale(&u->f[i], u->from_ms));
        tv_json_object_end(j);
    }
    tv_json_array_end(j);
    tv_json_key(j, "commune_only");
    tv_json_bool(j, n->role == TV_ROLE_COMMUNE);
}

/* --- csv ------------------------------------------------------------------------------ */

/* The contact list an epidemiologist opens in a spreadsheet: a byte order mark (Excel then
 * reads UTF-8), Vietnamese headers, one row per visit of the case (F0) and per shared visit
 * of a contact. Without --reveal the person columns (name to phone) are left out and the
 * person is only the masked display. */
enum {
    CSV_LEVEL,
    CSV_PERSON,
    CSV_NAME,
    CSV_CCCD,
    CSV_CMND,
    CSV_BIRTH,
    CSV_ADDRESS,
    CSV_PHONE,
    CSV_VENUE,
    CSV_VILLAGE,
    CSV_UNIT,
    CSV_FROM,
    CSV_TO,
    CSV_MINUTES,
    CSV_VENUE_ID,
    CSV_REF,
    CSV_VIA,
    CSV_COLS
};
static const char *const csv_head[CSV_COLS] = {"Mức (F0/F1/F2)",
                                               "Người (che)",
                                               "Họ và tên",
                                               "Số CCCD",
                                               "Số CMND",
                                               "Ngày sinh",
                                               "Địa chỉ",
                                               "Số điện thoại",
                                               "Nơi tiếp xúc",
                                               "Thôn/tổ dân phố",
                                               "Đơn vị",
                                               "Thời gian từ",
                                               "Thời gian đến",
                                               "Số phút",
                                               "Mã địa điểm",
                                               "Mã người",
                                               "Tiếp xúc qua (mã người)"};

static int csv_revealed_col(int i)
{
    return i >= CSV_NAME && i <= CSV_PHONE;
}

/* A cell of stored text: escaped (a CSV on standard output may reach a terminal), and
 * one that a spreadsheet would take for a formula (=, +, -, @ first) gets a leading
 * apostrophe, so that a name or a venue typed as a formula stays text. */
static void csv_text(char *out, size_t cap, const char *s)
{
    size_t off = 0;
    if (s[0] && strchr("=+-@", s[0])) {
        out[0] = '\'';
        off = 1;
    }
    tv_text_escape(out + off, cap - off, s, strlen(s));
}

static void csv_time(char *out, size_t cap, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, ms);
    snprintf(out, cap, "%.10s %.5s", w, w + 11); /* Vietnam time, as a spreadsheet reads it */
}

static void csv_row(store_txn *t, const char *level, const uint8_t *ref, const uint8_t *via,
                    const uint8_t *venue, int64_t from, int64_t to, const revealed *rv, size_t idx)
{
    char cell[CSV_COLS][TV_TEXT_ESC_BYTES];
    char disp[2 * CRDT_MASKED_BYTES_MAX + 8];
    for (int i = 0; i < CSV_COLS; i++)
        cell[i][0] = '\0';
    snprintf(cell[CSV_LEVEL], sizeof cell[0], "%s", level);
    person_of(t, ref, disp, sizeof disp);
    csv_text(cell[CSV_PERSON], sizeof cell[0], disp);
    const tv_details *d = details_of(rv, idx);
    if (d) {
        csv_text(cell[CSV_NAME], sizeof cell[0], d->name);
        csv_text(cell[CSV_CCCD], sizeof cell[0], d->cccd);
        csv_text(cell[CSV_CMND], sizeof cell[0], d->cmnd);
        csv_text(cell[CSV_BIRTH], sizeof cell[0], d->birth);
        csv_text(cell[CSV_ADDRESS], sizeof cell[0], d->address);
        csv_text(cell[CSV_PHONE], sizeof cell[0], d->phone);
    }
    store_venue v;
    if (store_venue_get(t, venue, &v) == 0) {
        csv_text(cell[CSV_VENUE], sizeof cell[0], v.name);
        csv_text(cell[CSV_VILLAGE], sizeof cell[0], v.village);
        const tv_unit *u = tv_unit_find(v.unit);
        snprintf(cell[CSV_UNIT], sizeof cell[0], "%s%s%s", v.unit, u ? " " : "", u ? u->name : "");
    } else {
        snprintf(cell[CSV_VENUE], sizeof cell[0], "(địa điểm không có ở nút này)");
    }
    csv_time(cell[CSV_FROM], sizeof cell[0], from);
    csv_time(cell[CSV_TO], sizeof cell[0], to);
    snprintf(cell[CSV_MINUTES], sizeof cell[0], "%lld", (long long)((to - from) / 60000));
    sodium_bin2hex(cell[CSV_VENUE_ID], sizeof cell[0], venue, TV_VENUE_ID_BYTES);
    sodium_bin2hex(cell[CSV_REF], sizeof cell[0], ref, TV_PERSON_REF_BYTES);
    if (via) sodium_bin2hex(cell[CSV_VIA], sizeof cell[0], via, TV_PERSON_REF_BYTES);
    const char *cells[CSV_COLS];
    size_t n = 0;
    for (int i = 0; i < CSV_COLS; i++)
        if (rv || !csv_revealed_col(i)) cells[n++] = cell[i];
    tv_csv_write_row(stdout, cells, n);
    sodium_memzero(cell, sizeof cell);
}

static void print_csv(store_txn *t, const uint8_t *ref, const tv_trace_result *r,
                      const revealed *rv)
{
    const char *head[CSV_COLS];
    size_t n = 0;
    for (int i = 0; i < CSV_COLS; i++)
        if (rv || !csv_revealed_col(i)) head[n++] = csv_head[i];
    fputs("\xEF\xBB\xBF", stdout); /* a byte order mark: Excel then reads UTF-8 */
    tv_csv_write_row(stdout, head, n);
    for (size_t i = 0; i < r->nvisits; i++)
        csv_row(t, "F0", ref, NULL, r->visits[i].venue, r->visits[i].from_ms, r->visits[i].to_ms,
                rv, 0);
    for (size_t i = 0; i < r->ncontacts; i++) {
        const tv_contact *c = &r->contacts[i];
        for (size_t k = 0; k < c->nshared; k++)
            csv_row(t, c->level == 1 ? "F1" : "F2", c->ref, c->via, c->shared[k].venue,
                    c->shared[k].from_ms, c->shared[k].to_ms, rv, i + 1);
    }
}

/* Opens the details of the case and every contact, each full view recorded in the log
 * (committed) before anything is shown. */
static int reveal_all(tv_node *n, const uint8_t *ref, const tv_trace_result *r, const char *reason,
                      revealed *rv)
{
    size_t count = r->ncontacts + 1;
    uint8_t *refs = malloc(count * TV_PERSON_REF_BYTES);
    rv->d = calloc(count, sizeof *rv->d);
    rv->ok = calloc(count, 1);
    int rc = refs && rv->d && rv->ok ? TV_OK : TV_ENOMEM;
    if (rc == 0) {
        memcpy(refs, ref, TV_PERSON_REF_BYTES);
        for (size_t i = 0; i < r->ncontacts; i++)
            memcpy(refs + (i + 1) * TV_PERSON_REF_BYTES, r->contacts[i].ref, TV_PERSON_REF_BYTES);
        rc = tv_reveal_many(n, refs, count, reason, rv->d, rv->ok);
    }
    free(refs);
    size_t shut = 0;
    for (size_t i = 0; rc == 0 && i < count; i++)
        shut += !rv->ok[i];
    if (shut)
        fprintf(stderr,
                "note: %zu of the %zu people could not be revealed here (no record, or "
                "sealed to other health nodes); they are shown masked.\n",
                shut, count);
    return rc;
}

static int cmd_trace(tv_cli *cli, int argc, char **argv)
{
    const char *person = NULL, *refhex = NULL, *from = NULL, *to = NULL, *reason = NULL;
    const char *depth = "1", *minov = "15m", *margin = "0", *format = "table";
    int c, reveal = 0;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'd':
            depth = optarg;
            break;
        case 'm':
            minov = optarg;
            break;
        case 'M':
            margin = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    person = ta.o.person;
    refhex = ta.o.ref;
    reveal = ta.o.reveal; /* with its --reason (command.c) */
    reason = ta.o.reason;
    if (ta.o.json)
        format = "json"; /* --format json (the later of the two stands) */
    else if (ta.o.format)
        format = ta.o.format;
    if (optind < argc) return tv_cli_usage("trace", "unexpected argument '%s'.", argv[optind]);
    if (!person == !refhex) return tv_cli_usage("trace", "give the case: --payload or --ref.");
    int fmt = strcmp(format, "table") == 0  ? 0
              : strcmp(format, "json") == 0 ? 1
              : strcmp(format, "csv") == 0  ? 2
                                            : -1;
    if (fmt < 0) return tv_cli_usage("trace", "--format is table, json or csv, not '%s'.", format);
    tv_trace_opts o = {.now_ms = tv_wall_ms()};
    if (from && tv_cli_when(from, &o.from_ms))
        return tv_cli_usage(
            "trace", "--from takes 'today', a date or a time with its offset, not '%s'.", from);
    o.to_ms = o.now_ms;
    if (to && tv_cli_when(to, &o.to_ms))
        return tv_cli_usage("trace",
                            "--to takes 'today', a date or a time with its offset, not '%s'.", to);
    if (strcmp(depth, "1") && strcmp(depth, "2"))
        return tv_cli_usage("trace", "--depth is 1 (F1) or 2 (F1 and F2), not '%s'.", depth);
    o.depth = depth[0] - '0';
    if ((o.min_overlap_ms = duration_ms(minov)) <= 0)
        return tv_cli_usage("trace", "--min-overlap takes a duration such as 15m, not '%s'.",
                            minov);
    if ((o.margin_ms = duration_ms(margin)) < 0)
        return tv_cli_usage("trace", "--margin takes a duration such as 5m, not '%s'.", margin);

    if (!reveal && reason) return tv_cli_usage("trace", "--reason goes with --reveal.");
    int rc;
    if (reason && (rc = tv_cli_text("trace", "reason", reason, CRDT_TEXT_BYTES_MAX))) return rc;

    tv_node n;
    rc = tv_cli_open(cli, &n, reveal ? TV_NODE_WRITE : 0);
    if (rc) return rc;
    if (reveal && !tv_node_is_health(&n)) {
        tv_node_close(&n);
        tv_cli_error("this node cannot reveal identities: the details are sealed to the health "
                     "authority's nodes, and this node's certificate does not carry the health "
                     "flag. Nothing was traced.");
        return TV_EXIT_FAIL;
    }
    uint8_t ref[TV_PERSON_REF_BYTES];
    if ((rc = tv_cli_person_ref("trace", &n, person, refhex, ref))) {
        tv_node_close(&n);
        return rc;
    }
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t))) {
        tv_node_close(&n);
        return tv_cli_fail(cli, rc, "the trace failed");
    }
    int known = person_known(&n, t, ref);
    if (known <= 0) {
        store_read_end(t);
        tv_node_close(&n);
        if (known < 0) return tv_cli_fail(cli, known, "the trace failed");
        char hex[2 * TV_PERSON_REF_BYTES + 1];
        tv_hex_encode(hex, ref, TV_PERSON_REF_BYTES);
        tv_cli_error("no record of this person (pseudonym %s) at this node: no check-in, no "
                     "person record and no case status. Check the number, or sync with the "
                     "nodes below first. Nothing was traced.",
                     hex);
        return TV_EXIT_FAIL;
    }
    /* the window: as given, else the case's infectious window */
    if (!from) {
        tv_case cs;
        tv_opened op = {0}; /* a commune: the statuses sealed for it, in memory */
        int crc = tv_case_lookup(&n, t, &op, ref, &cs);
        tv_opened_release(&op);
        if (crc && crc != TV_ENOTFOUND) rc = crc;
        if (rc == 0 && (crc || !cs.has_window)) {
            store_read_end(t);
            tv_node_close(&n);
            return tv_cli_usage("trace", "this node holds no F0 status of this person to take the "
                                         "infectious window from: give --from, or add the case "
                                         "('truyvet case add').");
        }
        if (rc == 0) {
            o.from_ms = cs.window_from;
            if (!to && cs.window_to != TV_WINDOW_OPEN) o.to_ms = cs.window_to;
        }
    }
    tv_trace_result r;
    units *u = NULL;
    if (rc == 0 && o.to_ms <= o.from_ms) {
        store_read_end(t);
        tv_node_close(&n);
        return tv_cli_usage("trace", "--to must come after --from.");
    }
    if (rc == 0 && !(u = malloc(sizeof *u))) rc = TV_ENOMEM;
    revealed rv = {0};
    if (rc == 0 && (rc = tv_trace(t, ref, &o, &r)) == 0) {
        rc = units_gather(t, &r, &n, o.from_ms, u);
        if (rc == 0 && reveal) rc = reveal_all(&n, ref, &r, reason, &rv);
        if (rc == 0) {
            const revealed *shown = reveal ? &rv : NULL;
            if (fmt == 1) {
                print_json(t, ref, &r, &n, u, &o, shown);
            } else if (fmt == 2) {
                print_csv(t, ref, &r, shown);
            } else {
                print_text(t, ref, &r, shown);
                completeness_text(&n, u);
            }
            completeness_warn(&n, u);
            if (r.nvisits == 0)
                fprintf(stderr, "this node holds no visit of this person in the window: a "
                                "node below may not have synced yet, or the person was not "
                                "scanned here.\n");
        }
        tv_trace_free(&r);
    }
    if (rv.d) {
        sodium_memzero(rv.d, (r.ncontacts + 1) * sizeof *rv.d);
        free(rv.d);
    }
    free(rv.ok);
    free(u);
    store_read_end(t);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "the trace failed") : TV_EXIT_OK;
}
