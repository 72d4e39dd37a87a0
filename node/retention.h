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

#include "node/node.h"

/* `serve` purges once a day. */
#define TV_PURGE_INTERVAL_MS (24 * 3600 * 1000LL)

typedef struct tv_purge_result {
    store_purge_stats st;
    uint32_t days;                      /* the retention period in force */
    uint64_t bytes_before, bytes_after; /* the data file's size */
} tv_purge_result;

/* Purges what is older than the retention period at now_ms and, when compact, rewrites
 * the data file. n must be opened with TV_NODE_WRITE (the writer lock keeps other writers
 * out while the file is replaced). Returns 0, or a store error (TV_EIO, TV_ENOSPC, ...):
 * a failed rewrite leaves the purged old file in place. */
int tv_node_purge(tv_node *n, int64_t now_ms, int compact, tv_purge_result *out);

#endif
