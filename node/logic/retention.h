/* Retention at a node: the purge of personal data older than the province's retention
 * period, from the indexes and views and then from the data file itself.
 *
 * The period is the root's (store_retention_get). A purge removes what store_purge
 * removes and rewrites the store file (store_compact), so that the removed bytes leave
 * the disk, not only the indexes; the rewritten file is a new file (new inode), so its
 * identity is recorded in it (meta store_file) before it takes the old one's place, or
 * the node would take it for a restore. What a log's batches carry leaves the store only
 * when the log's origin writes a checkpoint (PROTOCOL.md §3.4). */
#ifndef TV_NODE_RETENTION_H
#define TV_NODE_RETENTION_H

#include "node/logic/node.h"

/* `serve` purges once a day. */
#define TV_PURGE_INTERVAL_MS (24 * 3600 * 1000LL)

/* What tv_node_checkpoint did. */
typedef struct tv_checkpoint_result {
    int written;      /* 0: nothing to drop, no checkpoint written */
    uint64_t upto;    /* the last seq of the dropped prefix */
    uint64_t copies;  /* events of it carried into the checkpoint */
    uint64_t dropped; /* events of it left behind */
} tv_checkpoint_result;

/* Truncates this node's own log (PROTOCOL.md §3.4): when its log since the last base holds
 * events no longer in force at now_ms -- at least as many as those in force, unless eager
 * -- writes a checkpoint of the whole log: a base, then a copy of each event still in
 * force: venues, controllers, reminders, certificates, revocations, units, risk levels,
 * retention, events of types this build does not know, standing person records (after a
 * purge: of people seen since the cutoff or held), holds since the cutoff or standing,
 * scans, case statuses and reveals since the cutoff or of held people. Returns 0,
 * TV_ERESTORED (the node may not record), TV_ELIMIT (what is in force does not fit one commit
 * group: TV_NODE_PENDING_BATCHES_MAX batches) or a store error. */
int tv_node_checkpoint(tv_node *n, int64_t now_ms, int eager, tv_checkpoint_result *out);

typedef struct tv_purge_result {
    store_purge_stats st;
    tv_checkpoint_result cp;            /* the node's own log's checkpoint (checkpoint set) */
    uint32_t days;                      /* the retention period in force */
    uint64_t bytes_before, bytes_after; /* the data file's size */
} tv_purge_result;

/* Purges what is older than the retention period at now_ms, then (checkpoint: 1, or 2 for
 * an eager one) truncates the node's own log with tv_node_checkpoint (skipped while the
 * node may not record), and
 * (compact) rewrites the data file. n must be opened with TV_NODE_WRITE (the writer lock keeps
 * other writers out while the file is replaced). Returns 0, or a store error (TV_EIO, TV_ENOSPC,
 * ...): a failed rewrite leaves the purged old file in place. */
int tv_node_purge(tv_node *n, int64_t now_ms, int checkpoint, int compact, tv_purge_result *out);

#endif
