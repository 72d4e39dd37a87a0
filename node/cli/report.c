/* `truyvet report`: each unit's figures for a period, with how fresh they are. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/format/csv.h"
#include "node/format/fileio.h"
#include "node/logic/fresh.h"
#include "node/render/json.h"
#include "node/format/timefmt.h"
#include "node/logic/report.h"
#include "node/logic/units.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_report(tv_cli *cli, int argc, char **argv);

static const tv_opt report_opts[] = {
    {"unit", 'u', "CODE",
     "a province (its communes), a commune, or this node's unit (default);\n"
     "a district's node reports the communes of its certificate",
     0, 0},
    {"week", 'w', "YYYY-Www", "an ISO week, Monday to Sunday, Vietnam time (default: this week)", 0,
     0},
    {"--from, --to", 0, NULL, "the first and last day instead (dates, both included)", TV_OPT_ARG,
     0},
    {"from", 'f', "DATE", NULL, TV_OPT_HIDDEN, 0},
    {"to", 't', "DATE", NULL, TV_OPT_HIDDEN, 0},
    {"by", 'b', "day|week", "one report for each day (each ISO week) of the period", 0, 0},
    {"depth", 'D', "N",
     "levels of the unit tree listed: 0 the unit alone, 1 the units under\n"
     "it (default), 2 theirs..., up to 8. A row adds up the rows under it. The\n"
     "tree is the official one and what `truyvet unit add` put in it\n"
     "(villages, districts); a commune is its own row",
     0, 0},
    {"min-compliance", 'm', "PCT",
     "units below this share of venues with scans are listed as not\n"
     "compliant in the HTML page (default 80)",
     0, 0},
    {.id = TV_O_FORMAT,
     .arg = "F",
     .help = "table (default); csv (UTF-8 with a byte order mark, for Excel);\n"
             "json (one object per row); html (the weekly page: one file, charts\n"
             "drawn in it, for a phone or an A4 printout)"},
    {.id = TV_O_OUT, .help = "write there (replaced whole) instead of standard output"},
    {0}};

const tv_command tv_command_report = {
    .name = "report",
    .summary = "each commune's figures for a week or a period, and how fresh they are",
    .usage = "report [--unit CODE] [--week YYYY-Www | --from DATE --to DATE]\n"
             "                               [--by day|week] [--depth N] [--min-compliance PCT]\n"
             "                               [--format table|csv|json|html] [--out FILE]",
    .about =
        "The figures of each unit under a unit for a period, and of the unit in all, from\n"
        "the daily figures this node keeps as it applies events: venues registered (each has\n"
        "its QR code), venues with at least one scan in the period, compliance (the share of\n"
        "venues with scans), check-ins and check-outs, distinct people checked in (an estimate,\n"
        "about 9 % error), reminders sent, people first recorded F0 and F1, venues suspended\n"
        "now, and the risk level in force. Each row says how fresh it is: the last day with a\n"
        "scan held here and when that commune's log last reached this node. The communes\n"
        "expected to report are those with a node certified for them or a scan held here; one\n"
        "with no scan held here since the period began (in it or its villages) is STALE: its\n"
        "figures are missing, not zero. A district (any row above communes) is STALE when any\n"
        "of its communes expected to report is, as its sums miss that commune; a commune with\n"
        "no node and no scan reports zeros and is never STALE. STALE rows come first, and a\n"
        "warning on standard error names the stale communes, whatever --depth shows. With\n"
        "--by, each day (week) is judged from its own start. The period before, of the same\n"
        "length, gives the trend.\n",
    .opts = report_opts,
    .fn = cmd_report,
    .col = 13,
};

/* --- output ------------------------------------------------------------------------- */

/* Columns on a terminal: UTF-8 code points, combining marks taking none. */
static size_t display_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp = *p;
        int len = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
        if (len == 2 && p[1]) cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
        if (len == 3 && p[1] && p[2])
            cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
        if (!(cp >= 0x300 && cp < 0x370)) w++;
        for (int i = 0; i < len && *p; i++)
            p++;
    }
    return w;
}

/* Prints s escaped (unit names come from unit events of any node), padded to width. */
static void pad(FILE *f, const char *s, size_t width)
{
    s = tv_text_esc(s);
    fputs(s, f);
    for (size_t w = display_width(s); w < width; w++)
        fputc(' ', f);
}

static void pct(char *out, size_t cap, const tv_report_fig *f)
{
    double c = tv_report_compliance(f);
    if (c < 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.0f%%", c);
}

/* The change of compliance against the period before, in percentage points. */
static void trend_pt(char *out, size_t cap, const tv_report_row *w)
{
    double a = tv_report_compliance(&w->now), b = tv_report_compliance(&w->prev);
    if (a < 0 || b < 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%+.0f", a - b);
}

/* The change of a count against the period before, in percent. */
static void trend_pct(char *out, size_t cap, uint64_t now, uint64_t prev)
{
    if (prev == 0)
        snprintf(out, cap, now ? "new" : "-");
    else
        snprintf(out, cap, "%+.0f%%", 100.0 * ((double)now - (double)prev) / (double)prev);
}

static void day_str(char *out, size_t cap, int32_t day)
{
    if (day == INT32_MIN)
        snprintf(out, cap, "never");
    else
        tv_date_format(out, cap, day);
}

/* What the output shows besides the rows. */
typedef struct out_ctx {
    const char *unit;
    const char *period; /* "2021-W40", "2021-10-04", or "2021-10-01..2021-10-07" */
    int depth;
    int first; /* the first period of --by: headers */
} out_ctx;

static void print_table(FILE *f, const tv_report *r, const out_ctx *o)
{
    char a[16], b[16];
    tv_date_format(a, sizeof a, r->from_day);
    tv_date_format(b, sizeof b, r->to_day);
    const tv_unit *u = tv_unit_find(o->unit);
    fprintf(f, "%sreport of %s%s%s, %s to %s (Vietnam time)\n", o->first ? "" : "\n", o->unit,
            u ? " " : "", u ? u->name : "", a, b);
    size_t namew = 4;
    for (size_t i = 0; o->depth > 0 && i < r->n; i++) {
        size_t w = display_width(tv_text_esc(r->rows[i].name)) + 2 * (size_t)(r->rows[i].level - 1);
        if (r->rows[i].level <= o->depth && w > namew) namew = w;
    }
    size_t codew = 8;
    for (size_t i = 0; o->depth > 0 && i < r->n; i++)
        if (r->rows[i].level <= o->depth && strlen(r->rows[i].code) + 1 > codew)
            codew = strlen(r->rows[i].code) + 1;
    pad(f, "unit", codew);
    pad(f, "name", namew + 2);
    fprintf(f, "%7s %7s %6s %5s %9s %6s %9s %9s %6s %4s %4s %4s %4s  %-10s\n", "venues", "scanned",
            "compl", "trend", "check-in", "trend", "check-out", "visitors", "remind", "susp", "F0",
            "F1", "risk", "last scan");
    for (size_t i = o->depth > 0 ? 0 : r->n; i < r->n + 1; i++) {
        if (i < r->n && r->rows[i].level > o->depth) continue;
        const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
        char c[16], d[16], tp[16], ti[16];
        pct(c, sizeof c, &w->now);
        trend_pt(tp, sizeof tp, w);
        trend_pct(ti, sizeof ti, w->now.in, w->prev.in);
        if (i < r->n) {
            day_str(d, sizeof d, w->f.last_scan_day);
            char name[sizeof w->name + 2 * 8];
            snprintf(name, sizeof name, "%*s%s", 2 * (w->level - 1), "",
                     w->name[0] ? w->name : "(not in the official list)");
            pad(f, w->code, codew);
            pad(f, name, namew + 2);
        } else {
            snprintf(d, sizeof d, "%" PRIu64 " stale", (uint64_t)w->stale);
            pad(f, o->depth > 0 ? "total" : o->unit, codew);
            pad(f, o->depth > 0 || !u ? "" : u->name, namew + 2);
        }
        fprintf(f,
                "%7" PRIu64 " %7" PRIu64 " %6s %5s %9" PRIu64 " %6s %9" PRIu64 " %8" PRIu64
                "~ %6" PRIu64 " %4" PRIu64 " %4" PRIu64 " %4" PRIu64,
                w->now.venues, w->now.active, c, tp, w->now.in, ti, w->now.out, w->now.visitors,
                w->now.reminders, w->suspended, w->now.f0, w->now.f1);
        if (i < r->n && w->risk)
            fprintf(f, " %4d", w->risk);
        else
            fprintf(f, " %4s", "-");
        fprintf(f, "  %s%s\n", d, i < r->n && w->stale ? "  STALE" : "");
    }
    if (o->first)
        fputs("trend: against the period before, of the same length; visitors: distinct people "
              "checked in, an estimate (~9 %)\n",
              f);
}

static void u64s(char *out, size_t cap, uint64_t v)
{
    snprintf(out, cap, "%" PRIu64, v);
}

static void print_csv(FILE *f, const tv_report *r, const out_ctx *o)
{
    if (o->first) {
        fputs("\xEF\xBB\xBF", f); /* a byte order mark: Excel then reads UTF-8 */
        const char *head[] = {"period",
                              "unit",
                              "name",
                              "level",
                              "parent",
                              "venues",
                              "venues_scanned",
                              "compliance",
                              "check_ins",
                              "check_outs",
                              "visitors_estimate",
                              "reminders",
                              "f0",
                              "f1",
                              "suspended",
                              "risk_level",
                              "last_scan_day",
                              "last_received",
                              "stale",
                              "prev_venues_scanned",
                              "prev_compliance",
                              "prev_check_ins",
                              "prev_check_outs"};
        tv_csv_write_row(f, head, sizeof head / sizeof head[0]);
    }
    for (size_t i = o->depth > 0 ? 0 : r->n; i < r->n + 1; i++) {
        if (i < r->n && r->rows[i].level > o->depth) continue;
        const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
        char v[13][24], c[16] = "", pc[16] = "", d[16] = "", rec[TV_TIME_STR_BYTES] = "";
        char risk[8] = "";
        const uint64_t nums[13] = {w->now.venues,   w->now.active,      w->now.in,      w->now.out,
                                   w->now.visitors, w->now.reminders,   w->now.f0,      w->now.f1,
                                   w->suspended,    (uint64_t)w->stale, w->prev.active, w->prev.in,
                                   w->prev.out};
        for (int k = 0; k < 13; k++)
            u64s(v[k], sizeof v[k], nums[k]);
        if (w->now.venues) snprintf(c, sizeof c, "%.1f", tv_report_compliance(&w->now));
        if (w->prev.venues) snprintf(pc, sizeof pc, "%.1f", tv_report_compliance(&w->prev));
        if (i < r->n && w->f.last_scan_day != INT32_MIN)
            tv_date_format(d, sizeof d, w->f.last_scan_day);
        if (i < r->n && w->f.received >= 0) tv_time_format_vn(rec, sizeof rec, w->f.received);
        if (i < r->n && w->risk) snprintf(risk, sizeof risk, "%d", w->risk);
        const tv_unit *u = tv_unit_find(o->unit);
        char lv[8] = "0";
        if (i < r->n) snprintf(lv, sizeof lv, "%d", w->level);
        const char *parent = i >= r->n ? "" : w->parent >= 0 ? r->rows[w->parent].code : o->unit;
        const char *cells[] = {o->period,
                               i < r->n       ? w->code
                               : o->depth > 0 ? "total"
                                              : o->unit,
                               i < r->n             ? tv_text_esc(w->name)
                               : o->depth > 0 || !u ? ""
                                                    : u->name,
                               lv,
                               parent,
                               v[0],
                               v[1],
                               c,
                               v[2],
                               v[3],
                               v[4],
                               v[5],
                               v[6],
                               v[7],
                               v[8],
                               risk,
                               d,
                               rec,
                               v[9],
                               v[10],
                               pc,
                               v[11],
                               v[12]};
        tv_csv_write_row(f, cells, sizeof cells / sizeof cells[0]);
    }
}

static void json_fig(tv_json *j, const tv_report_fig *g, int prev)
{
    tv_json_key(j, "venues");
    tv_json_u64(j, g->venues);
    tv_json_key(j, "venues_scanned");
    tv_json_u64(j, g->active);
    tv_json_key(j, "check_ins");
    tv_json_u64(j, g->in);
    tv_json_key(j, "check_outs");
    tv_json_u64(j, g->out);
    if (!prev) {
        tv_json_key(j, "visitors_estimate");
        tv_json_u64(j, g->visitors);
    }
    tv_json_key(j, "reminders");
    tv_json_u64(j, g->reminders);
    tv_json_key(j, "f0");
    tv_json_u64(j, g->f0);
    tv_json_key(j, "f1");
    tv_json_u64(j, g->f1);
}

static void print_json(FILE *f, const tv_report *r, const out_ctx *o)
{
    for (size_t i = o->depth > 0 ? 0 : r->n; i < r->n + 1; i++) {
        if (i < r->n && r->rows[i].level > o->depth) continue;
        const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
        char d[16], rec[TV_TIME_STR_BYTES];
        tv_json j;
        tv_json_init(&j, f);
        tv_json_object_begin(&j);
        tv_json_key(&j, "period");
        tv_json_string(&j, o->period);
        tv_json_key(&j, "unit");
        tv_json_string(&j, i < r->n ? w->code : o->depth > 0 ? "total" : o->unit);
        tv_json_key(&j, "name");
        const tv_unit *u = tv_unit_find(o->unit);
        tv_json_string(&j, i < r->n ? w->name : o->depth > 0 || !u ? "" : u->name);
        if (i < r->n) {
            tv_json_key(&j, "level");
            tv_json_u64(&j, (uint64_t)w->level);
            tv_json_key(&j, "parent");
            tv_json_string(&j, w->parent >= 0 ? r->rows[w->parent].code : o->unit);
        }
        json_fig(&j, &w->now, 0);
        tv_json_key(&j, "suspended");
        tv_json_u64(&j, w->suspended);
        tv_json_key(&j, "previous");
        tv_json_object_begin(&j);
        json_fig(&j, &w->prev, 1);
        tv_json_object_end(&j);
        tv_json_key(&j, "stale");
        if (i < r->n) {
            tv_json_bool(&j, w->stale);
            tv_json_key(&j, "risk_level");
            if (w->risk)
                tv_json_u64(&j, (uint64_t)w->risk);
            else
                tv_json_null(&j);
            tv_json_key(&j, "last_scan_day");
            if (w->f.last_scan_day == INT32_MIN) {
                tv_json_null(&j);
            } else {
                tv_date_format(d, sizeof d, w->f.last_scan_day);
                tv_json_string(&j, d);
            }
            tv_json_key(&j, "last_received");
            if (w->f.received < 0) {
                tv_json_null(&j);
            } else {
                tv_time_format_vn(rec, sizeof rec, w->f.received);
                tv_json_string(&j, rec);
            }
        } else {
            tv_json_u64(&j, (uint64_t)w->stale); /* the total: how many units are stale */
            tv_json_key(&j, "expected_units");
            tv_json_u64(&j, (uint64_t)r->expected);
        }
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    }
}

/* The period's label. */
static void period_label(char *out, size_t cap, int32_t from, int32_t to, int weekly)
{
    if (weekly) {
        tv_iso_week_format(out, cap, from);
    } else if (from == to) {
        tv_date_format(out, cap, from);
    } else {
        char a[16], b[16];
        tv_date_format(a, sizeof a, from);
        tv_date_format(b, sizeof b, to);
        snprintf(out, cap, "%s..%s", a, b);
    }
}

enum { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_HTML };

/* The units expected to report that are stale in r, one line each ("  CODE NAME"), at
 * most 20 and then how many more, into buf: whom to call, whatever the depth shown. */
static void stale_list(char *buf, size_t cap, const tv_report *r)
{
    size_t shown = 0, more = 0, len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        const tv_report_row *w = &r->rows[i];
        if (!w->stale || !w->expect) continue;
        if (shown == 20) {
            more++;
            continue;
        }
        const tv_unit *u = tv_unit_find(w->code);
        const char *name = w->name[0] ? w->name : u ? u->name : "";
        int k = snprintf(buf + len, cap - len, "  %s%s%s\n", w->code, name[0] ? " " : "",
                         tv_text_esc(name));
        if (k < 0 || (size_t)k >= cap - len) break;
        len += (size_t)k;
        shown++;
    }
    if (more && len < cap) snprintf(buf + len, cap - len, "  and %zu more\n", more);
}

static int cmd_report(tv_cli *cli, int argc, char **argv)
{
    const char *unit = NULL, *week = NULL, *from = NULL, *to = NULL, *format = "table";
    const char *out = NULL, *by = NULL, *depth_s = "1", *minc_s = "80";
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'u':
            unit = optarg;
            break;
        case 'w':
            week = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'b':
            by = optarg;
            break;
        case 'D':
            depth_s = optarg;
            break;
        case 'm':
            minc_s = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    if (ta.o.format) format = ta.o.format;
    out = ta.o.out;
    if (optind < argc) return tv_cli_usage("report", "unexpected argument '%s'.", argv[optind]);
    int fmt = strcmp(format, "table") == 0  ? FMT_TABLE
              : strcmp(format, "csv") == 0  ? FMT_CSV
              : strcmp(format, "json") == 0 ? FMT_JSON
              : strcmp(format, "html") == 0 ? FMT_HTML
                                            : -1;
    if (fmt < 0)
        return tv_cli_usage("report", "--format is table, csv, json or html, not '%s'.", format);
    if (week && (from || to))
        return tv_cli_usage("report", "give --week or --from/--to, not both.");
    if (!from != !to) return tv_cli_usage("report", "give both --from and --to.");
    if (unit && !crdt_unit_code_valid(unit, strlen(unit)))
        return tv_cli_usage("report", "'%s' is not a unit code.", unit);
    int step = 0; /* --by: days per report */
    if (by && strcmp(by, "day") == 0)
        step = 1;
    else if (by && strcmp(by, "week") == 0)
        step = 7;
    else if (by)
        return tv_cli_usage("report", "--by is day or week, not '%s'.", by);
    if (step && fmt == FMT_HTML)
        return tv_cli_usage("report", "the HTML page is of one period: leave out --by.");
    char *end;
    long depth = strtol(depth_s, &end, 10);
    if (*end || end == depth_s || depth < 0 || depth > TV_REPORT_LEVELS_MAX)
        return tv_cli_usage("report", "--depth takes a number of levels, 0 to %d, not '%s'.",
                            TV_REPORT_LEVELS_MAX, depth_s);
    double minc = strtod(minc_s, &end);
    if (*end || end == minc_s || !(minc >= 0 && minc <= 100))
        return tv_cli_usage("report", "--min-compliance takes a percentage, 0 to 100, not '%s'.",
                            minc_s);
    if (out && tv_cli_out_check(out)) return TV_EXIT_FAIL;
    int32_t first, last;
    int64_t now = tv_wall_ms();
    int weekly = 0;
    if (week) {
        if (tv_iso_week_parse(week, &first))
            return tv_cli_usage("report", "--week takes an ISO week such as 2021-W40, not '%s'.",
                                week);
        last = first + 6;
        weekly = 1;
    } else if (from) {
        if (tv_date_parse(from, &first) || tv_date_parse(to, &last))
            return tv_cli_usage("report", "--from and --to take dates such as 2021-10-06.");
        if (last < first) return tv_cli_usage("report", "--to is before --from.");
        if (last - first > 3660)
            return tv_cli_usage("report", "a period of at most ten years, please.");
    } else {
        int32_t today = crdt_day_vn(now);
        first = today - (tv_iso_weekday(today) - 1);
        last = first + 6;
        weekly = 1;
    }
    if (step == 7) { /* whole ISO weeks */
        first -= tv_iso_weekday(first) - 1;
        last += 7 - tv_iso_weekday(last);
    }
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    if (!unit) unit = n.unit;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = out ? open_memstream(&buf, &len) : stdout;
    if (!f) rc = TV_ENOMEM;
    /* the staleness of the periods: a unit stale on a day is on every later day, so the
     * periods with stale units are the last ones */
    uint64_t stale_last = 0;
    size_t expected_last = 0, periods = 0, periods_stale = 0;
    char first_stale[48] = "";
    char stale_units[2048] = ""; /* of the last period: a line each, code and name */
    for (int32_t d = first; rc == 0 && d <= last; d += step ? step : last - first + 1) {
        tv_report r = {.from_day = d, .to_day = step ? d + step - 1 : last};
        char label[48];
        period_label(label, sizeof label, r.from_day, r.to_day, weekly || step == 7);
        out_ctx o = {unit, label, (int)depth, d == first};
        store_txn *t;
        if ((rc = store_read_begin(n.st, &t)) == 0) {
            if ((rc = tv_report_units(&n, t, unit, &r)) == 0) rc = tv_report_figures(t, &r, now);
            store_read_end(t);
        }
        if (rc == 0) {
            if (fmt == FMT_TABLE)
                print_table(f, &r, &o);
            else if (fmt == FMT_CSV)
                print_csv(f, &r, &o);
            else if (fmt == FMT_JSON)
                print_json(f, &r, &o);
            else
                rc = tv_report_html(f, &r,
                                    &(tv_report_page){.unit = unit,
                                                      .period = label,
                                                      .weekly = weekly,
                                                      .depth = (int)depth,
                                                      .min_compliance = minc,
                                                      .node_unit = n.unit,
                                                      .now_ms = now});
        }
        periods++;
        if (rc == 0 && r.total.stale) {
            if (!periods_stale++) snprintf(first_stale, sizeof first_stale, "%s", label);
            stale_last = (uint64_t)r.total.stale;
            expected_last = r.expected;
            stale_list(stale_units, sizeof stale_units, &r);
        }
        tv_report_free(&r);
    }
    if (out && f) {
        if (fclose(f) && rc == 0) rc = TV_ENOMEM;
        if (rc == 0) rc = tv_file_write_atomic(out, buf, len, 0644);
    }
    free(buf);
    tv_node_close(&n);
    if (rc && out) return tv_cli_fail_out(cli, rc, "the report was not written", out);
    if (rc) return tv_cli_fail(cli, rc, "no report");
    fflush(stdout); /* the warning after the report, not inside it */
    if (periods_stale && !step)
        fprintf(stderr,
                "warning: %" PRIu64 " of %zu units expected to report have no scan held here "
                "since the period began (not synced, or nothing recorded): their figures, and "
                "those of the units above them, are missing, not zero.\n",
                stale_last, expected_last);
    else if (periods_stale)
        fprintf(stderr,
                "warning: from %s on (%zu of %zu %s), %" PRIu64 " of %zu units expected to "
                "report have no scan held here since the %s began (not synced, or nothing "
                "recorded): their figures, and those of the units above them, are missing, "
                "not zero.\n",
                first_stale, periods_stale, periods, step == 1 ? "days" : "weeks", stale_last,
                expected_last, step == 1 ? "day" : "week");
    if (periods_stale) fputs(stale_units, stderr);
    return TV_EXIT_OK;
}
