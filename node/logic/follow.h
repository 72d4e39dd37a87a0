/* Following the scans of a log as they are recorded: what `truyvet watch` prints and what
 * the web console's live list (node/web/live.c) sends. A follower remembers the last seq it
 * read of an origin and reads what the origin's log gained since, in log order; each scan
 * comes out as a row the renderers write (node/render/scan.h). */
#ifndef TV_NODE_LOGIC_FOLLOW_H
#define TV_NODE_LOGIC_FOLLOW_H

#include "crdt/event.h"
#include "node/format/timefmt.h"
#include "node/logic/downflow.h"
#include "node/logic/node.h"
#include "node/logic/record.h"
#include "store/store.h"

#include <stdint.h>

/* One scan as a venue owner sees it. */
typedef struct tv_scan_row {
    char id[TV_EVENT_ID_STR_MAX];               /* the event's id */
    char venue[2 * TV_VENUE_ID_BYTES + 1];      /* hex */
    char venue_name[CRDT_TEXT_BYTES_MAX + 1];   /* "" when the venue is not held */
    int out;                                    /* a check-out */
    int64_t at_ms;                              /* when it was scanned */
    char person[2 * CRDT_MASKED_BYTES_MAX + 8]; /* masked (tv_person_display_get) */
    uint8_t method;
    int repeat;        /* a repeat of the person's previous scan there (tv_scan_repeat) */
    tv_gate_mark mark; /* the person's colour as the gate shows it */
} tv_scan_row;

/* Calls fn(arg, origin, seq, scan) for each scan of origin's log after *seq, up to seq
 * upto, in log order, advancing *seq as it reads; fn returns 0 or an error. Returns 0, fn's
 * first error, TV_ECORRUPT (the log is not as stored) or a store error. */
typedef int (*tv_follow_fn)(void *arg, const uint8_t *origin, uint64_t seq, const crdt_scan *s);
int tv_follow_origin(store_txn *t, const uint8_t *origin, uint64_t *seq, uint64_t upto,
                     tv_follow_fn fn, void *arg);

/* Fills row for scan s, event seq of origin, read in t (o: the commune's sealed statuses,
 * for the colour). Returns 0 or a store error. */
int tv_scan_row_fill(tv_node *n, store_txn *t, tv_opened *o, const uint8_t *origin, uint64_t seq,
                     const crdt_scan *s, tv_scan_row *row);

#endif
