/* When confirmed cases were at a node's venues, as `truyvet alerts` and a web console see
 * it. A health node works it out from the cases it holds: for each person with an F0, their
 * presences at venues held here within the infectious window. A commune holds no case list:
 * it has the windows the health authority sealed for its venues. The case's identity is
 * never in the result. Nothing here prints or parses options: node/render/alerts.h writes
 * the result as text or JSON.
 *
 * Memory: a tv_alerts is the caller's; tv_alerts_run fills it and tv_alerts_free releases
 * it, also after a failed run or on a zeroed struct. Rows are copies: they outlive the read
 * transaction and the node.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_ALERTS_H
#define TV_NODE_LOGIC_ALERTS_H

#include "node/logic/health.h"
#include "node/logic/node.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* A window during which a confirmed case was at a venue. */
typedef struct tv_alert {
    uint64_t case_no;    /* a health node: the case's number here (1, 2, ... in pseudonym order,
                          * counting every F0 with a window); a commune: 0, the case unknown */
    int64_t declared_ms; /* with case_no: when the F0 was declared */
    int64_t case_from, case_to; /* with case_no: its infectious window (TV_WINDOW_OPEN) */
    store_venue v;              /* the venue, as held here */
    int64_t from_ms, to_ms;     /* the window at the venue */
} tv_alert;

typedef struct tv_alerts {
    tv_alert *rows; /* a health node: by case, then in time; a commune: by venue, then time */
    size_t n, cap;
} tv_alerts;

/* The windows of confirmed cases at node n's venues (all: at every venue it holds, not only
 * its own unit's); an open infectious window ends at now_ms. Returns 0, TV_ELOCKED (a
 * commune holding sealed events, locked), TV_ENOMEM or a store error. */
int tv_alerts_run(tv_node *n, int all, int64_t now_ms, tv_alerts *out)
    __attribute__((warn_unused_result));
void tv_alerts_free(tv_alerts *a);

#endif
