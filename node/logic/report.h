/* Reports: each unit's figures for a period, from the daily aggregates the store keeps as
 * it applies events (never from the events themselves), with how fresh each unit's data
 * is, the same figures for the period before (the trend), the figures of each day, and
 * the venues with no scan in the period. */
#ifndef TV_NODE_REPORT_H
#define TV_NODE_REPORT_H

#include "crdt/hll.h"
#include <stdio.h>
#include "node/logic/fresh.h"
#include "node/logic/node.h"
#include "node/logic/units.h"

/* The levels of the unit tree a report goes down. */
#define TV_REPORT_LEVELS_MAX 8
/* The venues with no scan listed at most (the count is always whole). */
#define TV_REPORT_IDLE_MAX 500

typedef struct tv_report_fig {
    uint64_t venues;    /* registered by the end of the period (each has its QR code) */
    uint64_t active;    /* of them, with at least one scan in the period */
    uint64_t in, out;   /* check-ins, check-outs */
    uint64_t visitors;  /* distinct people checked in: an estimate, about 9 % error, at
                         * most the check-ins and at least 1 when there is one */
    uint64_t reminders; /* reminders sent to venues */
    uint64_t f0, f1;    /* people first recorded F0 (F1) in the period, by unit of record */
} tv_report_fig;

typedef struct tv_report_row {
    char code[TV_UNIT_CODE_MAX + 1];
    char name[CRDT_TEXT_BYTES_MAX + 1]; /* the official name, a local unit's, or "" */
    int level;  /* 1: directly under the unit reported; 2: under a level 1 row; ... */
    int parent; /* the row above it (index in rows), -1 at level 1 */
    int expect; /* a unit expected to report (set by tv_report_figures): an official commune
                 * with a node certified for it or a scan held here, or the unit asked
                 * for when it is its own row (2 before tv_report_figures: whatever it
                 * holds). Only such a unit is stale by itself; a row above one is stale
                 * when any unit expected to report under it is */
    tv_report_fig now, prev; /* prev: the period of the same length just before */
    uint64_t suspended;      /* venues suspended now */
    int risk;                /* the level in force now; 0: none set */
    tv_fresh f;
    int stale; /* expected to report and no scan held since the period began (in it or
                * its villages), or above such a unit: figures missing, not zero */
    uint8_t sketch_[CRDT_HLL_REGS]; /* the visitors' sketch (internal) */
} tv_report_row;

/* A venue with no scan in the period. */
typedef struct tv_report_venue {
    uint8_t id[TV_VENUE_ID_BYTES];
    char unit[TV_UNIT_CODE_MAX + 1];
    char name[CRDT_TEXT_BYTES_MAX + 1];
    int32_t last_scan_day; /* INT32_MIN: never */
    uint64_t reminders;    /* reminders since its last scan or reinstatement */
    int suspended;
} tv_report_venue;

typedef struct tv_report {
    int32_t from_day, to_day;        /* set by the caller: the period, both days included */
    char unit[TV_UNIT_CODE_MAX + 1]; /* the unit reported; its own figures (a case recorded
                                      * at the province) count in the total */
    tv_report_row *rows; /* a tree in depth-first order: each row's figures include those of
                          * the rows under it; siblings stale first, then by code */
    size_t n;
    tv_report_row total;        /* of the level 1 rows; now.visitors: of everyone (a person in two
                                 * units counts once); stale: how many units expected to
                                 * report are stale (not rows above them) */
    size_t expected;            /* the units expected to report, at any level (see expect) */
    uint64_t *day_in, *day_out; /* check-ins and check-outs of all rows, day by day */
    tv_report_venue *idle;      /* venues with no scan, stale units' left out, by unit */
    size_t idle_n, idle_total;  /* listed (at most TV_REPORT_IDLE_MAX), and in all */
} tv_report;

/* The units a report of unit covers, from the unit tree (tv_tree_load): an official
 * commune is its own row, with the local units under it below; another unit's rows are
 * the units under it (a province's communes, or its districts if unit events placed
 * communes in them); node n's own unit, when nothing is under it, has the units of its
 * certificate's scope; a unit with nothing under it is its own row. Every level is
 * added, down to 8 (a report shows the levels it wants), figures zero. Sets r->unit.
 * Returns 0 or an error. */
int tv_report_units(tv_node *n, store_txn *t, const char *unit, tv_report *r);

/* Adds a level 1 row for unit to r. Returns 0 or TV_ENOMEM. */
int tv_report_add(tv_report *r, const char *unit);

/* Fills the rows' figures for r->from_day..r->to_day and for the period before, the
 * total, the days and the idle venues, and orders the rows. Returns 0 or an error. */
int tv_report_figures(store_txn *t, tv_report *r, int64_t now_ms);

void tv_report_free(tv_report *r);

/* How many level 1 rows r has. */
size_t tv_report_top(const tv_report *r);

/* Compliance of f in percent, or -1 when no venue is registered. */
double tv_report_compliance(const tv_report_fig *f);

/* ISO 8601 weekday of a day number, Monday 1 .. Sunday 7. */
int tv_iso_weekday(int32_t day);
/* The Monday of ISO week "YYYY-Www" (Vietnam calendar days). Returns 0 or -1. */
int tv_iso_week_parse(const char *s, int32_t *monday);
/* The ISO week of a day, "YYYY-Www". */
void tv_iso_week_format(char *out, size_t cap, int32_t day);

#endif
