/* Reports as `truyvet report` and a web console ask for them: the period (this week, an
 * ISO week, dates), cut into days or ISO weeks with --by, each period's report
 * (report.h) made in its own read transaction, and what the stale units of the periods
 * add up to (whom to call). Nothing here prints: node/render/report.h writes a report as
 * a table, CSV or JSON, and the staleness warning.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_REPORT_RUN_H
#define TV_NODE_LOGIC_REPORT_RUN_H

#include "node/logic/report.h"

#define TV_REPORT_LABEL_BYTES 48 /* "2021-10-01..2021-10-07" */
#define TV_REPORT_STALE_SHOWN 20 /* stale units named, at most */

/* The days a report covers, and how it is cut. */
typedef struct tv_report_span {
    int32_t first, last; /* Vietnam calendar days, both included */
    int weekly;          /* first is an ISO week's Monday, last its Sunday (--week) */
    int step;            /* days per report: 0 one report of first..last, 1 each day, 7 each
                          * ISO week */
} tv_report_span;

/* The ISO week (Monday to Sunday, Vietnam time) that now_ms falls in. */
void tv_report_span_this_week(tv_report_span *s, int64_t now_ms);

/* With step 7, widens s to whole ISO weeks (first back to a Monday, last on to a
 * Sunday); else leaves it. */
void tv_report_span_align(tv_report_span *s);

/* The label of the period from..to of s: its ISO week ("2021-W40") when s is weekly or cut
 * in weeks, the day alone, or "2021-10-01..2021-10-07". */
void tv_report_period_label(char out[TV_REPORT_LABEL_BYTES], const tv_report_span *s, int32_t from,
                            int32_t to);

/* Makes the report of unit (NULL: n's own unit) for from..to in one read transaction:
 * its rows (tv_report_units) and figures (tv_report_figures). Returns 0 (free r with
 * tv_report_free), TV_ENOMEM or a store error (r freed). */
int tv_report_make(tv_node *n, const char *unit, int32_t from, int32_t to, int64_t now_ms,
                   tv_report *r);

/* A stale unit expected to report, as the warning names it. */
typedef struct tv_report_stale_unit {
    char code[TV_UNIT_CODE_MAX + 1];
    char name[CRDT_TEXT_BYTES_MAX + 1]; /* its row's name, else the official one, else "" */
} tv_report_stale_unit;

/* What the stale units of the periods add up to. A unit stale on a day is on every later
 * day, so the periods with stale units are the last ones. */
typedef struct tv_report_stale {
    size_t periods, periods_stale;
    char first_stale[TV_REPORT_LABEL_BYTES]; /* the label of the first period with any */
    uint64_t stale_last;                     /* of the last stale period: how many units */
    size_t expected_last;                    /* and how many were expected to report */
    tv_report_stale_unit units[TV_REPORT_STALE_SHOWN]; /* its first stale units */
    size_t nunits, more;                               /* named, and left out */
} tv_report_stale;

/* Adds period r (labelled label) to s, which starts zeroed. */
void tv_report_stale_add(tv_report_stale *s, const tv_report *r, const char *label);

/* Called with each period's report of tv_report_run, in order; first is 1 for the first.
 * A non-zero result stops the run and is returned. */
typedef int (*tv_report_fn)(const tv_report *r, const char *label, int first, void *ctx);

/* Makes the report of unit (NULL: n's own) for each period of s, in order, and calls fn
 * with it; adds each to *stale (zeroed here). Returns 0, fn's first non-zero result, or
 * what tv_report_make returns. */
int tv_report_run(tv_node *n, const char *unit, const tv_report_span *s, int64_t now_ms,
                  tv_report_fn fn, void *ctx, tv_report_stale *stale);

#endif
