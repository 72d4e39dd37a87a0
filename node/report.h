/* Reports: each unit's figures for a period, from the daily aggregates the store keeps as
 * it applies events, with how fresh each unit's data is. */
#ifndef TV_NODE_REPORT_H
#define TV_NODE_REPORT_H

#include "node/fresh.h"
#include "node/node.h"
#include "node/units.h"

typedef struct tv_report_row {
    char code[TV_UNIT_CODE_MAX + 1];
    char name[TV_UNIT_NAME_MAX]; /* the official name, "" for another unit */
    uint64_t venues;             /* registered (each has its QR code) */
    uint64_t active;             /* with at least one scan in the period */
    uint64_t in, out;            /* check-ins, check-outs in the period */
    uint64_t suspended;          /* venues suspended now */
    int risk;                    /* the level in force now; 0: none set */
    tv_fresh f;
    int stale; /* no scan held since the period began: figures missing, not zero */
} tv_report_row;

typedef struct tv_report {
    tv_report_row *rows; /* stale rows first, then by code */
    size_t n;
    tv_report_row total; /* its stale: how many rows are stale */
    int32_t from_day, to_day;
} tv_report;

/* The units a report of unit covers: a province's official communes; for node n's own
 * unit, the units of its certificate's scope when they are more than itself; else unit
 * alone. Adds rows (figures zero) to r. Returns 0 or an error. */
int tv_report_units(tv_node *n, store_txn *t, const char *unit, tv_report *r);

/* Adds a row for unit to r. Returns 0 or TV_ENOMEM. */
int tv_report_add(tv_report *r, const char *unit);

/* Fills the rows' figures for r->from_day..r->to_day (both included) and the total, and
 * orders the rows. Returns 0 or a store error. */
int tv_report_figures(store_txn *t, tv_report *r, int64_t now_ms);

void tv_report_free(tv_report *r);

/* ISO 8601 weekday of a day number, Monday 1 .. Sunday 7. */
int tv_iso_weekday(int32_t day);
/* The Monday of ISO week "YYYY-Www" (Vietnam calendar days). Returns 0 or -1. */
int tv_iso_week_parse(const char *s, int32_t *monday);

#endif
