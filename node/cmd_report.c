/* `truyvet report`: each unit's figures for a period, with how fresh they are. */
#include "crdt/error.h"
#include "node/cli.h"
#include "node/csv.h"
#include "node/fileio.h"
#include "node/fresh.h"
#include "node/json.h"
#include "node/timefmt.h"
#include "node/report.h"
#include "node/units.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char report_help[] =
    "Usage: truyvet [-d DIR] report [--unit CODE] [--week YYYY-Www | --from DATE --to DATE]\n"
    "                               [--format table|csv|json] [--out FILE]\n"
    "\n"
    "The figures of each commune under a unit for a period, and of the unit in all, from\n"
    "the daily figures this node keeps as it applies events: venues registered (each has\n"
    "its QR code), venues with at least one scan in the period, compliance (the share of\n"
    "venues with scans), check-ins and check-outs, venues suspended now, and the risk\n"
    "level in force. Each row says how fresh it is: the last day with a scan held here and\n"
    "when that commune's log last reached this node. Communes with no scan held since the\n"
    "period began come first, marked STALE: their figures are missing, not zero.\n"
    "\n"
    "  --unit CODE     a province (its communes), a commune, or this node's unit (default);\n"
    "                  a district's node reports the communes of its certificate\n"
    "  --week YYYY-Www an ISO week, Monday to Sunday, Vietnam time (default: this week)\n"
    "  --from, --to    the first and last day instead (dates, both included)\n"
    "  --format F      table (default), csv (UTF-8 with a byte order mark, for Excel) or\n"
    "                  json (one object per row)\n"
    "  --out FILE      write there (replaced whole) instead of standard output\n";

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

static void pad(FILE *f, const char *s, size_t width)
{
    fputs(s, f);
    for (size_t w = display_width(s); w < width; w++)
        fputc(' ', f);
}

static void pct(char *out, size_t cap, uint64_t part, uint64_t whole)
{
    if (whole == 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.0f%%", 100.0 * (double)part / (double)whole);
}

static void day_str(char *out, size_t cap, int32_t day)
{
    if (day == INT32_MIN)
        snprintf(out, cap, "never");
    else
        tv_date_format(out, cap, day);
}

static void print_table(FILE *f, const tv_report *r, const char *unit)
{
    char a[16], b[16];
    tv_date_format(a, sizeof a, r->from_day);
    tv_date_format(b, sizeof b, r->to_day);
    const tv_unit *u = tv_unit_find(unit);
    fprintf(f, "report of %s%s%s, %s to %s (Vietnam time)\n", unit, u ? " " : "", u ? u->name : "",
            a, b);
    size_t namew = 4;
    for (size_t i = 0; i < r->n; i++) {
        size_t w = display_width(r->rows[i].name);
        if (w > namew) namew = w;
    }
    pad(f, "unit", 8);
    pad(f, "name", namew + 2);
    fprintf(f, "%7s %7s %6s %9s %9s %5s %4s  %-10s\n", "venues", "scanned", "compl", "check-in",
            "check-out", "susp", "risk", "last scan");
    for (size_t i = 0; i < r->n + 1; i++) {
        const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
        char c[16], d[16];
        pct(c, sizeof c, w->active, w->venues);
        if (i < r->n) {
            day_str(d, sizeof d, w->f.last_scan_day);
            pad(f, w->code, 8);
            pad(f, w->name[0] ? w->name : "(not in the official list)", namew + 2);
        } else {
            snprintf(d, sizeof d, "%" PRIu64 " stale", (uint64_t)w->stale);
            pad(f, "total", 8);
            pad(f, "", namew + 2);
        }
        fprintf(f, "%7" PRIu64 " %7" PRIu64 " %6s %9" PRIu64 " %9" PRIu64 " %5" PRIu64, w->venues,
                w->active, c, w->in, w->out, w->suspended);
        if (i < r->n && w->risk)
            fprintf(f, " %4d", w->risk);
        else
            fprintf(f, " %4s", "-");
        fprintf(f, "  %s%s\n", d, i < r->n && w->stale ? "  STALE" : "");
    }
}

static void print_csv(FILE *f, const tv_report *r)
{
    fputs("\xEF\xBB\xBF", f); /* a byte order mark: Excel then reads UTF-8 */
    const char *head[] = {"unit",       "name",          "venues",        "venues_scanned",
                          "compliance", "check_ins",     "check_outs",    "suspended",
                          "risk_level", "last_scan_day", "last_received", "stale"};
    tv_csv_write_row(f, head, sizeof head / sizeof head[0]);
    for (size_t i = 0; i < r->n + 1; i++) {
        const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
        char v[6][24], c[16], d[16], rec[TV_TIME_STR_BYTES] = "", risk[8] = "";
        snprintf(v[0], sizeof v[0], "%" PRIu64, w->venues);
        snprintf(v[1], sizeof v[1], "%" PRIu64, w->active);
        snprintf(v[2], sizeof v[2], "%" PRIu64, w->in);
        snprintf(v[3], sizeof v[3], "%" PRIu64, w->out);
        snprintf(v[4], sizeof v[4], "%" PRIu64, w->suspended);
        snprintf(v[5], sizeof v[5], "%d", i < r->n ? w->stale : (int)w->stale);
        if (w->venues)
            snprintf(c, sizeof c, "%.1f", 100.0 * (double)w->active / (double)w->venues);
        else
            c[0] = '\0';
        d[0] = '\0';
        if (i < r->n && w->f.last_scan_day != INT32_MIN)
            tv_date_format(d, sizeof d, w->f.last_scan_day);
        if (i < r->n && w->f.received >= 0) tv_time_format_vn(rec, sizeof rec, w->f.received);
        if (i < r->n && w->risk) snprintf(risk, sizeof risk, "%d", w->risk);
        const char *cells[] = {i < r->n ? w->code : "total",
                               i < r->n ? w->name : "",
                               v[0],
                               v[1],
                               c,
                               v[2],
                               v[3],
                               v[4],
                               risk,
                               d,
                               rec,
                               v[5]};
        tv_csv_write_row(f, cells, sizeof cells / sizeof cells[0]);
    }
}

static void print_json(FILE *f, const tv_report *r)
{
    for (size_t i = 0; i < r->n + 1; i++) {
        const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
        char d[16], rec[TV_TIME_STR_BYTES];
        tv_json j;
        tv_json_init(&j, f);
        tv_json_object_begin(&j);
        tv_json_key(&j, "unit");
        tv_json_string(&j, i < r->n ? w->code : "total");
        tv_json_key(&j, "name");
        tv_json_string(&j, i < r->n ? w->name : "");
        tv_json_key(&j, "venues");
        tv_json_u64(&j, w->venues);
        tv_json_key(&j, "venues_scanned");
        tv_json_u64(&j, w->active);
        tv_json_key(&j, "check_ins");
        tv_json_u64(&j, w->in);
        tv_json_key(&j, "check_outs");
        tv_json_u64(&j, w->out);
        tv_json_key(&j, "suspended");
        tv_json_u64(&j, w->suspended);
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
            tv_json_u64(&j, (uint64_t)w->stale); /* the total: how many rows are stale */
        }
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    }
}

int tv_cmd_report(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"unit", required_argument, 0, 'u'},   {"week", required_argument, 0, 'w'},
        {"from", required_argument, 0, 'f'},   {"to", required_argument, 0, 't'},
        {"format", required_argument, 0, 'F'}, {"out", required_argument, 0, 'o'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *unit = NULL, *week = NULL, *from = NULL, *to = NULL, *format = "table";
    const char *out = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
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
        case 'F':
            format = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'h':
            fputs(report_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("report", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("report", "unexpected argument '%s'.", argv[optind]);
    int fmt = strcmp(format, "table") == 0  ? 0
              : strcmp(format, "csv") == 0  ? 1
              : strcmp(format, "json") == 0 ? 2
                                            : -1;
    if (fmt < 0) return tv_cli_usage("report", "--format is table, csv or json, not '%s'.", format);
    if (week && (from || to))
        return tv_cli_usage("report", "give --week or --from/--to, not both.");
    if (!from != !to) return tv_cli_usage("report", "give both --from and --to.");
    if (unit && !crdt_unit_code_valid(unit, strlen(unit)))
        return tv_cli_usage("report", "'%s' is not a unit code.", unit);
    tv_report r = {0};
    int64_t now = tv_wall_ms();
    if (week) {
        if (tv_iso_week_parse(week, &r.from_day))
            return tv_cli_usage("report", "--week takes an ISO week such as 2021-W40, not '%s'.",
                                week);
        r.to_day = r.from_day + 6;
    } else if (from) {
        if (tv_date_parse(from, &r.from_day) || tv_date_parse(to, &r.to_day))
            return tv_cli_usage("report", "--from and --to take dates such as 2021-10-06.");
        if (r.to_day < r.from_day) return tv_cli_usage("report", "--to is before --from.");
        if (r.to_day - r.from_day > 3660)
            return tv_cli_usage("report", "a period of at most ten years, please.");
    } else {
        int32_t today = crdt_day_vn(now);
        r.from_day = today - (tv_iso_weekday(today) - 1);
        r.to_day = r.from_day + 6;
    }
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    if (!unit) unit = n.unit;
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        if ((rc = tv_report_units(&n, t, unit, &r)) == 0) rc = tv_report_figures(t, &r, now);
        store_read_end(t);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = rc ? NULL : out ? open_memstream(&buf, &len) : stdout;
    if (rc == 0 && !f) rc = TV_ENOMEM;
    if (rc == 0) {
        if (fmt == 0)
            print_table(f, &r, unit);
        else if (fmt == 1)
            print_csv(f, &r);
        else
            print_json(f, &r);
        if (out) {
            fclose(f);
            rc = tv_file_write_atomic(out, buf, len, 0644);
        }
    }
    free(buf);
    size_t nrows = r.n;
    tv_report_free(&r);
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, out ? "the report was not written" : "no report");
    if (r.total.stale)
        fprintf(stderr,
                "warning: %" PRIu64 " of %zu communes have no scan held here since the "
                "period began (not synced, or nothing recorded): their figures are "
                "missing, not zero.\n",
                (uint64_t)r.total.stale, nrows);
    return TV_EXIT_OK;
}
