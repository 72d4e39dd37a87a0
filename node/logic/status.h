/* What a node is and holds, as `truyvet status` and a web console's node page show it:
 * its enrolment, what it holds (events by type, batches, origins), the last event held
 * from each origin, forks, whether it waits for a sync, parked batches, checkpoints still
 * waiting, the retention in force and the size of its store. Nothing here prints or
 * parses options: node/render/status.h writes the result as text or JSON.
 *
 * Memory: a tv_status is the caller's, filled by tv_status_get (all read in one read
 * transaction) and released by tv_status_free, which may be called on a zeroed or failed
 * result. Everything in it is a copy: it outlives the transaction and the node.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_STATUS_H
#define TV_NODE_LOGIC_STATUS_H

#include "node/logic/node.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* The last event held from one origin. */
typedef struct tv_status_frontier {
    uint8_t origin[TV_NODE_ID_BYTES];
    store_frontier f;
} tv_status_frontier;

/* An evidence batch of a fork: its origin, first seq and size. */
typedef struct tv_status_fork {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t first_seq;
    uint64_t bytes;
} tv_status_fork;

/* An origin that forked: its evidence batches held, whether it is frozen. */
typedef struct tv_status_fork_origin {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint32_t evidence;
    int frozen;
} tv_status_fork_origin;

/* A line of DIR/resync.log (fields as written; owned by the tv_status). */
typedef struct tv_status_resync_line {
    char *at, *kind, *detail;
} tv_status_resync_line;

/* An origin whose checkpoint (up to upto) has not carried the events held from held_seq. */
typedef struct tv_status_ckpt {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t upto, held_seq;
} tv_status_ckpt;

typedef struct tv_status {
    /* enrolment */
    int have_root, revoked;
    uint8_t root[TV_NODE_ID_BYTES];
    crdt_cert *cert; /* this node's certificate (heap: its scope table is large), or NULL */
    /* what is held */
    store_counts counts;
    store_size size;
    int have_own;       /* this node has written events: own is its frontier */
    store_frontier own; /* zeroed when have_own is 0 */
    store_retention retention;
    int64_t purged_ms; /* when this node last purged; 0: never */
    int resync_required;
    int64_t resync_since_ms; /* when the store was marked, if resync_required */
    /* lists, in store order */
    tv_status_frontier *frontier;
    size_t n_frontier;
    tv_status_fork *forks;
    size_t n_forks;
    tv_status_fork_origin *fork_origins;
    size_t n_fork_origins;
    tv_status_resync_line *resync_log;
    size_t n_resync_log;
    store_parked *parked;
    size_t n_parked;
    tv_status_ckpt *ckpt_waiting;
    size_t n_ckpt_waiting;
} tv_status;

/* Fills *out with the status of node n, whose directory is dir (for its resync.log).
 * Returns 0, TV_ENOMEM, TV_EIO (the resync log) or a store error; *out is then to be
 * released all the same. */
int tv_status_get(tv_node *n, const char *dir, tv_status *out);
void tv_status_free(tv_status *s);

#endif
