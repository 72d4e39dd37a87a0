/* `truyvet report`: each unit's figures for a period, with how fresh they are. The command
 * parses its options, makes the reports with node/logic/report_run.h, writes them with
 * node/render/report.h (or the HTML page) and turns errors into messages. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/format/fileio.h"
#include "node/format/timefmt.h"
#include "node/logic/report_run.h"
#include "node/render/report.h"
#include "node/render/report_html.h"

#include <getopt.h>
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

/* Makes and writes the reports of span s to standard output or, with out, to that file
 * (replaced whole), then warns of the stale units. Returns 0 or an exit status after a
 * message. */
static int report_run(tv_cli *cli, const tv_report_span *s, tv_report_out *o, const char *unit,
                      const char *out)
{
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    o->unit = unit ? unit : n.unit;
    o->node_unit = n.unit;
    char *buf = NULL;
    size_t len = 0;
    o->f = out ? open_memstream(&buf, &len) : stdout;
    tv_report_stale st = {0};
    rc =
        o->f ? tv_report_run(&n, o->unit, s, o->now_ms, tv_render_report_write, o, &st) : TV_ENOMEM;
    if (out && o->f) {
        if (fclose(o->f) && rc == 0) rc = TV_ENOMEM;
        if (rc == 0) rc = tv_file_write_atomic(out, buf, len, 0644);
    }
    free(buf);
    tv_node_close(&n);
    if (rc && out) return tv_cli_fail_out(cli, rc, "the report was not written", out);
    if (rc) return tv_cli_fail(cli, rc, "no report");
    fflush(stdout); /* the warning after the report, not inside it */
    tv_render_report_stale(stderr, &st, s->step);
    return TV_EXIT_OK;
}

/* The days of the report: --week, --from and --to, else this week; then whole ISO weeks
 * with --by week. Returns 0 or an exit status after a usage message. */
static int report_span(const char *week, const char *from, const char *to, int64_t now,
                       tv_report_span *s)
{
    if (week) {
        if (tv_iso_week_parse(week, &s->first))
            return tv_cli_usage("report", "--week takes an ISO week such as 2021-W40, not '%s'.",
                                week);
        s->last = s->first + 6;
        s->weekly = 1;
    } else if (from) {
        if (tv_date_parse(from, &s->first) || tv_date_parse(to, &s->last))
            return tv_cli_usage("report", "--from and --to take dates such as 2021-10-06.");
        if (s->last < s->first) return tv_cli_usage("report", "--to is before --from.");
        if (s->last - s->first > 3660)
            return tv_cli_usage("report", "a period of at most ten years, please.");
    } else {
        tv_report_span_this_week(s, now);
    }
    tv_report_span_align(s); /* --by week: whole ISO weeks */
    return 0;
}

/* The --format of a report (FMT_...), or -1 when it names none. */
static int report_format(const char *format)
{
    static const char *const names[] = {[TV_REPORT_TABLE] = "table",
                                        [TV_REPORT_CSV] = "csv",
                                        [TV_REPORT_JSON] = "json",
                                        [TV_REPORT_HTML] = "html"};
    for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
        if (strcmp(format, names[i]) == 0) return i;
    return -1;
}

/* Reads --depth and --min-compliance. Returns 0 or an exit status after a usage message. */
static int report_numbers(const char *depth_s, const char *minc_s, long *depth, double *minc)
{
    char *end;
    *depth = strtol(depth_s, &end, 10);
    if (*end || end == depth_s || *depth < 0 || *depth > TV_REPORT_LEVELS_MAX)
        return tv_cli_usage("report", "--depth takes a number of levels, 0 to %d, not '%s'.",
                            TV_REPORT_LEVELS_MAX, depth_s);
    *minc = strtod(minc_s, &end);
    if (*end || end == minc_s || !(*minc >= 0 && *minc <= 100))
        return tv_cli_usage("report", "--min-compliance takes a percentage, 0 to 100, not '%s'.",
                            minc_s);
    return 0;
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
    int fmt = report_format(format);
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
    if (step && fmt == TV_REPORT_HTML)
        return tv_cli_usage("report", "the HTML page is of one period: leave out --by.");
    long depth = 0;
    double minc = 0;
    int rc = report_numbers(depth_s, minc_s, &depth, &minc);
    if (rc) return rc;
    if (out && tv_cli_out_check(out)) return TV_EXIT_FAIL;
    tv_report_span s = {.step = step};
    int64_t now = tv_wall_ms();
    if ((rc = report_span(week, from, to, now, &s))) return rc;
    tv_report_out o = {
        .fmt = fmt, .depth = (int)depth, .min_compliance = minc, .weekly = s.weekly, .now_ms = now};
    return report_run(cli, &s, &o, unit, out);
}
