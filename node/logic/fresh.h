/* How fresh a node's copy of a unit's data is. A figure or a trace is only as good as
 * this: a commune whose node has not synced since a date says nothing of what happened
 * there after it.
 *
 * Two measures: the last day with a scan recorded at the unit's venues (in the scans' own
 * time, so it compares with a tracing window), and the logs of the nodes certified for the
 * unit: their newest event and when they last reached this node (this node's clock). */
#ifndef TV_NODE_FRESH_H
#define TV_NODE_FRESH_H

#include "store/store.h"

typedef struct tv_fresh {
    int nodes;             /* nodes certified for the unit */
    int held;              /* of them, those whose log this node holds at all */
    int64_t last_event;    /* the newest event's time among those logs (HLC), or -1 */
    int64_t received;      /* the last time any of them reached this node, or -1 */
    int32_t last_scan_day; /* the last day with a scan there (crdt_day_vn), or INT32_MIN */
} tv_fresh;

/* The freshness of unit's data at this node. Returns 0 or a store error. */
int tv_fresh_get(store_txn *t, const char *unit, tv_fresh *out);

/* The same for n units at once, units sorted by strcmp (one pass over the certificates
 * whatever n is). Returns 0 or a store error. */
int tv_fresh_many(store_txn *t, const char *const *units, size_t n, tv_fresh *out);

/* Whether the node holds no scan of unit since the day from_ms falls on: the unit has not
 * synced since then, or recorded nothing. */
int tv_fresh_stale(const tv_fresh *f, int64_t from_ms);

/* Calls fn for the unit of each commune node certified in this store (each unit once, in
 * no particular order). Returns 0, fn's first non-zero result, or a store error. */
typedef int (*tv_unit_fn)(const char *unit, void *ctx);
int tv_communes_foreach(store_txn *t, tv_unit_fn fn, void *ctx);

#endif
