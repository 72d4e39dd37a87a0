/* Reports written out (node/logic/report.h, report_run.h): the table a clerk reads on a
 * terminal, CSV for a spreadsheet, JSON Lines for a program or a web console, and the
 * warning that names the stale units. (The HTML page is tv_report_html, report_html.c.)
 *
 * Unit names come from unit events of any node: they reach a terminal or a spreadsheet
 * only escaped. Write errors are the caller's to check on f (ferror, fflush). */
#ifndef TV_NODE_RENDER_REPORT_H
#define TV_NODE_RENDER_REPORT_H

#include "node/logic/report_run.h"

#include <stdio.h>

/* What a written report shows besides its rows. */
typedef struct tv_report_view {
    const char *unit;   /* the unit reported */
    const char *period; /* its label (tv_report_period_label) */
    int depth;          /* levels of rows shown: 0 the unit alone */
    int first;          /* the first period of a --by run: headers, the legend */
} tv_report_view;

/* The table: a title line, a header, a line per row down to v->depth and the total, each
 * with its compliance, trends, figures, risk, last scan and STALE; the legend after the
 * first period. */
void tv_render_report_table(FILE *f, const tv_report *r, const tv_report_view *v);

/* CSV: a byte order mark and the header before the first period, then a row per row shown
 * and the total (period, unit, name, level, parent, figures, previous figures). */
void tv_render_report_csv(FILE *f, const tv_report *r, const tv_report_view *v);

/* JSON Lines: an object per row shown (period, unit, name, level, parent, figures,
 * suspended, previous, stale, risk_level, last_scan_day, last_received) and for the total
 * (stale: how many units, expected_units). */
void tv_render_report_json(FILE *f, const tv_report *r, const tv_report_view *v);

/* The formats a run of reports is written in. */
enum { TV_REPORT_TABLE, TV_REPORT_CSV, TV_REPORT_JSON, TV_REPORT_HTML };

/* How each period's report of a run is written: tv_report_run's fn is tv_render_report_write
 * with this as its ctx (`truyvet report` and the console's report alike). */
typedef struct tv_report_out {
    FILE *f;
    int fmt; /* TV_REPORT_... */
    const char *unit;
    int depth;
    double min_compliance; /* the HTML page lists units below it */
    int weekly;
    const char *node_unit;
    int64_t now_ms;
} tv_report_out;

/* Writes one period's report r (labelled label, first of its run or not) as ctx (a
 * tv_report_out) says. Returns 0 or what tv_report_html returns. */
int tv_render_report_write(const tv_report *r, const char *label, int first, void *ctx);

/* The warning for s when a period had stale units, with the step of the run (0, 1 day,
 * 7 a week), then the stale units of the last such period, a line each; nothing when no
 * period had any. */
void tv_render_report_stale(FILE *f, const tv_report_stale *s, int step);

#endif
