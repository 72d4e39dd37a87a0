/* The weekly report as one HTML page, for a phone and for A4 (node/render/report_html.c).
 * The figures come from node/logic/report.h; this file only writes them. */
#ifndef TV_NODE_RENDER_REPORT_HTML_H
#define TV_NODE_RENDER_REPORT_HTML_H

#include "node/logic/report.h"

#include <stdio.h>

/* What the HTML page says besides the figures. */
typedef struct tv_report_page {
    const char *unit;      /* the unit reported */
    const char *period;    /* its label: "2021-W40", or dates */
    int weekly;            /* an ISO week: the trend is against the week before */
    int depth;             /* 0: the unit alone, no rows */
    double min_compliance; /* units below it (percent) are listed as not compliant */
    const char *node_unit; /* the node that made it */
    int64_t now_ms;
} tv_report_page;

/* Writes r as one self-contained HTML page (no external file; charts as inline SVG):
 * the figures, the trend, compliance per unit and scans per day, units below
 * p->min_compliance, stale units and the idle venues. Returns 0 or TV_EIO. */
int tv_report_html(FILE *f, const tv_report *r, const tv_report_page *p);

#endif
