/* Contact tracing over a node's store: from one person (the case, F0) to the people who
 * shared a venue with them long enough (F1), and to those who shared one with an F1 after
 * that F1's first exposure (F2).
 *
 * Presences are the visits view (visits.h): scans collapsed, missing check-outs inferred.
 * A shared visit is the overlap, at one venue, of the case's presence widened by `margin`
 * on both sides with the other person's presence; it counts when it lasts at least
 * `min_overlap` (so touching visits, 08:00-09:00 and 09:00-10:00, share nothing at margin
 * 0). Contacts are ranked by their total shared time, longest first, then by pseudonym, so
 * the result is the same on every node that holds the same data. Nothing here reveals
 * anyone: pseudonyms in, pseudonyms out. */
#ifndef TV_NODE_TRACE_H
#define TV_NODE_TRACE_H

#include "node/logic/presence.h"
#include "store/store.h"

/* The overlap of [a0, a1) widened by margin on both sides with [b0, b1), in ms (0 when
 * they do not overlap). */
int64_t tv_overlap_ms(int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t margin);

typedef struct tv_trace_opts {
    int64_t from_ms, to_ms; /* the case's infectious window */
    int64_t min_overlap_ms; /* > 0 */
    int64_t margin_ms;      /* >= 0 */
    int64_t now_ms;         /* for presences still open */
    int depth;              /* 1 (F1) or 2 (F1 and F2) */
} tv_trace_opts;

typedef struct tv_shared {
    uint8_t venue[TV_VENUE_ID_BYTES];
    int64_t from_ms, to_ms; /* the overlap itself */
} tv_shared;

typedef struct tv_contact {
    uint8_t ref[TV_PERSON_REF_BYTES];
    int level;                        /* 1: F1, 2: F2 */
    uint8_t via[TV_PERSON_REF_BYTES]; /* the case for an F1; the F1 for an F2 */
    int64_t total_ms, first_ms;       /* shared time in all; the first shared visit's start */
    tv_shared *shared;                /* the shared visits, in time order */
    size_t nshared;
} tv_contact;

typedef struct tv_trace_result {
    tv_presence *visits; /* the case's own presences in the window (zoning) */
    size_t nvisits;
    tv_contact *contacts; /* F1s ranked, then F2s ranked */
    size_t ncontacts, nf1;
} tv_trace_result;

/* Traces person ref over o->from_ms..o->to_ms on what t holds (at a health node, a
 * commune's ref that its pseudonym map maps is traced as its province ref). Returns 0 (free the
 * result with tv_trace_free), TV_EINVAL (bad options), TV_ENOMEM or a store error. */
int tv_trace(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], const tv_trace_opts *o,
             tv_trace_result *r) __attribute__((warn_unused_result));
void tv_trace_free(tv_trace_result *r);

#endif
