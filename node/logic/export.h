/* Which batches a bundle carries: every batch this node holds, or those of some origins
 * (given by a prefix of their ids), and with a recipient named only those of its
 * partition that it was not known to hold at its last sync. `truyvet bundle export` and a
 * web console choose them here and write them with node/format/bundle.h.
 *
 * Everything is read in the caller's one read transaction: a consistent set of chains,
 * whatever is being recorded meanwhile.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_EXPORT_H
#define TV_NODE_LOGIC_EXPORT_H

#include "crdt/vv.h"
#include "node/format/bundle.h"
#include "store/store.h"

/* An origin asked for by a prefix of its id. */
typedef struct tv_export_origin {
    const char *text;                   /* as typed, for messages (borrowed) */
    char hex[2 * TV_NODE_ID_BYTES + 1]; /* the prefix, lowercase hex */
    size_t len;                         /* its length */
    uint8_t id[TV_NODE_ID_BYTES];       /* set by tv_export_resolve: the first origin */
    int matches;                        /* and how many origins the prefix matches */
} tv_export_origin;

/* An export: the selection (set by the caller), what was written, and the state of the
 * walk (private). Zero it, set the selection, then call the functions below in order;
 * release with tv_export_release. */
typedef struct tv_export {
    tv_export_origin *sel; /* only these origins (borrowed); none: every origin */
    size_t nsel;
    int for_peer; /* only what node `peer` lacks (tv_export_for) */
    uint8_t peer[TV_NODE_ID_BYTES];
    /* what was written */
    tv_bundle_writer w;
    uint64_t batches, events, origins;
    int file_rc; /* the bundle file, not the node, failed: this error */
    int err;     /* and errno then */
    /* private */
    uint8_t last_origin[TV_NODE_ID_BYTES];
    crdt_vv known;
    int known_init;
    store_txn *t;
    uint8_t judged[TV_NODE_ID_BYTES];
    int judged_ok, holds;
} tv_export;

/* Whether t holds the certificate of node peer (without it, what peer should hold cannot
 * be told). */
int tv_export_peer_certified(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES]);

/* Reads what x->peer was known to hold at its last session with this node (nothing when
 * there was none). Returns 0 or a store error. */
int tv_export_for(tv_export *x, store_txn *t);

/* Sets each selected origin's matches and id from the origins t holds. Returns 0 or a
 * store error; the caller refuses a prefix that matches none or more than one. */
int tv_export_resolve(tv_export *x, store_txn *t);

/* Writes the selected batches of t to fp as a whole bundle (magic, batches in store
 * order, end record), counting batches, events, origins and bytes. Returns 0, TV_ECORRUPT
 * (a stored batch does not open: damage), a store error, or the bundle writer's error with
 * x->file_rc and x->err (errno) set when the file failed. */
int tv_export_write(tv_export *x, store_txn *t, FILE *fp);

void tv_export_release(tv_export *x);

#endif
