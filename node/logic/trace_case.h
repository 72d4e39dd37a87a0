/* A case traced as `truyvet trace` and a web console show it: the trace itself (trace.h),
 * with what a reader needs beside the pseudonyms -- each person's masked display, each
 * venue's registration, how fresh this node's copy of each commune touched is (and, at a
 * district or province, of the other communes with nothing since the window began), and
 * on a health node each person's details, opened and recorded in the log first.
 *
 * Nothing here prints: node/render/trace.h writes a tv_trace_case as a table, JSON or CSV,
 * and the warnings a stale commune calls for.
 *
 * Memory: a tv_trace_case is the caller's; tv_trace_case_run fills it and
 * tv_trace_case_free releases it (wiping revealed details), also after a failed run or on
 * a zeroed struct. Nothing in it borrows from the transaction.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_TRACE_CASE_H
#define TV_NODE_LOGIC_TRACE_CASE_H

#include "node/logic/fresh.h"
#include "node/logic/node.h"
#include "node/logic/seal.h"
#include "node/logic/trace.h"
#include "node/logic/units.h"

#define TV_TRACE_UNITS_MAX 4096 /* communes checked for freshness: more than a province has */
#define TV_TRACE_DISP_BYTES (2 * CRDT_MASKED_BYTES_MAX + 8) /* a person's masked display */

/* A venue the trace names, as this node holds it. */
typedef struct tv_trace_venue {
    uint8_t id[TV_VENUE_ID_BYTES];
    int known; /* 0: its registration is not held here (v is zero) */
    store_venue v;
} tv_trace_venue;

/* The communes a trace touches and how fresh their data is here. */
typedef struct tv_trace_units {
    char code[TV_TRACE_UNITS_MAX][TV_UNIT_CODE_MAX + 1];
    tv_fresh f[TV_TRACE_UNITS_MAX];
    size_t n;       /* code[0..n) */
    size_t touched; /* code[0..touched), in code order, hold a visit of the result (their
                     * freshness whole); code[touched..n) are other communes of the node's
                     * scope with no scan since the window began (last_scan_day only) */
    int more;       /* over TV_TRACE_UNITS_MAX: the rest not checked */
} tv_trace_units;

typedef struct tv_trace_case {
    uint8_t ref[TV_PERSON_REF_BYTES]; /* the case */
    int64_t from_ms, to_ms;           /* the window traced */
    tv_trace_result r;
    char (*disp)[TV_TRACE_DISP_BYTES]; /* [0] the case, [i + 1] contact i */
    tv_trace_venue *venues;            /* every venue of r, by id (tv_trace_case_venue) */
    size_t nvenues;
    tv_trace_units *units;
    int commune_only;    /* traced at a commune node: other communes' venues not seen */
    int reveal;          /* tv_trace_case_reveal ran: details are shown where open */
    tv_details *details; /* with reveal: [0] the case, [i + 1] contact i, where ok */
    uint8_t *ok;
    size_t unrevealed; /* people whose details could not be opened here */
} tv_trace_case;

/* Does t hold anything of person ref: a person event, a scan or a case status? Returns
 * 1, 0, or a store error. */
int tv_trace_person_known(tv_node *n, store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES]);

/* The infectious window of ref's F0 status as this node knows it: *from_ms its start, and
 * *to_ms its end, or TV_WINDOW_OPEN when it is not closed. Returns 0, TV_ENOTFOUND when
 * the node holds no F0 status of ref with a window, or an error. */
int tv_trace_case_window(tv_node *n, store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES],
                         int64_t *from_ms, int64_t *to_ms);

/* Traces ref with options o on what t holds (tv_trace), and gathers the displays, venues
 * and freshness of c. Returns 0, TV_EINVAL (bad options), TV_ENOMEM or a store error. */
int tv_trace_case_run(tv_node *n, store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES],
                      const tv_trace_opts *o, tv_trace_case *c) __attribute__((warn_unused_result));

/* Opens the details of the case and every contact on a health node, each full view
 * recorded in the log and committed before this returns (tv_reveal_many); sets reveal,
 * details, ok and unrevealed. Returns 0 (also when nobody could be opened), TV_EPERM (not a
 * health node), TV_ENOMEM or an error; then nothing may be shown. */
int tv_trace_case_reveal(tv_node *n, tv_trace_case *c, const char *reason)
    __attribute__((warn_unused_result));

/* The venue of id as c holds it (never NULL for a venue of c's result). */
const tv_trace_venue *tv_trace_case_venue(const tv_trace_case *c,
                                          const uint8_t id[TV_VENUE_ID_BYTES]);

/* The opened details of person idx (0 the case, i + 1 contact i), or NULL. */
const tv_details *tv_trace_case_details(const tv_trace_case *c, size_t idx);

void tv_trace_case_free(tv_trace_case *c);

#endif
