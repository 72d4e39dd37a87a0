/* A node restored from a backup, or copied, records nothing until it has synced once.
 *
 * A copy of a node's store holds its log only up to the moment it was made; its parents
 * may hold more of that log, written by the original since. Recording on the copy would
 * write other events at seqs they already hold: a fork, which freezes the node everywhere.
 * So when tv_node_open sees a store file that is not the one it last opened (another
 * device, inode or birth time: a restore or a copy, see epoch_check in node.c; a restore
 * that writes the old bytes into the same file is not seen), it marks the store (meta key
 * "resync"), and tv_node_commit refuses to record (TV_ERESTORED) while the mark is there.
 * The mark is cleared when a sync session with a parent ends in step with nothing refused
 * either way: that session brought back the node's own log as far as the parent holds it,
 * and the next event follows on from there. An operator may lift the mark without a sync
 * (the parents are known to hold nothing newer, or the node is the root); the override
 * names a reason.
 *
 * Every step is appended to DIR/resync.log, one line each, for the operator's audit:
 *   TIME<TAB>restored<TAB>DETAIL     the mark was set
 *   TIME<TAB>synced<TAB>DETAIL       a sync with a parent cleared it
 *   TIME<TAB>override<TAB>REASON (own log at seq N)   an operator cleared it
 * TIME is Vietnam local time (2021-10-06T08:00:00+07:00). `truyvet status` shows the mark
 * and the log. */
#ifndef TV_NODE_RESYNC_H
#define TV_NODE_RESYNC_H

#include "node/logic/node.h"

#include <stddef.h>
#include <stdint.h>

#define TV_RESYNC_META "resync"
#define TV_RESYNC_LOG "resync.log"
#define TV_RESYNC_REASON_MAX 200 /* bytes of an override's reason */

/* The identity of the store's data file: device, inode and birth time (statx; zero where
 * the file system keeps none). A copy, or a restore that makes the file anew, has another
 * one, even where the file system hands the old inode number to the new file. Returns 0
 * or TV_EIO. */
#define TV_STORE_FILE_ID_BYTES 32
int tv_store_file_id(const char *path, uint8_t out[TV_STORE_FILE_ID_BYTES]);

/* Whether the store is marked: 1 (*since_ms, may be NULL, gets when the mark was set), 0,
 * or a store error. */
int tv_resync_required(store_txn *t, int64_t *since_ms);

/* Sets the mark in t (inside a write transaction). */
int tv_resync_mark(store_txn *t, int64_t now_ms);

/* Appends one line to DIR/resync.log (kind and detail as above; detail must hold no tab,
 * line end or control character) and syncs it. Returns 0, TV_EINVAL or TV_EIO. */
int tv_resync_log(const char *dir, int64_t now_ms, const char *kind, const char *detail);

/* A sync with a parent ended in step: clears the mark, if set, and logs it with detail
 * (e.g. the parent's endpoint). Returns 1 when a mark was cleared, 0 when there was none,
 * or an error. */
int tv_resync_synced(tv_node *n, const char *detail);

/* Clears the mark on the operator's word, logging reason (checked: 1 to
 * TV_RESYNC_REASON_MAX bytes of UTF-8, no control character) before the mark goes.
 * Returns 0, TV_ENOTFOUND (no mark: nothing to override), TV_EINVAL (bad reason), TV_EIO
 * or a store error. */
int tv_resync_override(tv_node *n, const char *reason);

/* Checks an override's reason as tv_resync_override does: 0 or TV_EINVAL. */
int tv_resync_reason_check(const char *reason);

/* Calls fn for each line of DIR/resync.log, oldest first (fields as written, without the
 * line end). A missing log has no lines. Stops at fn's first non-zero result. Returns it,
 * 0, or TV_EIO. */
typedef int (*tv_resync_line_fn)(const char *time, const char *kind, const char *detail, void *ctx);
int tv_resync_log_foreach(const char *dir, tv_resync_line_fn fn, void *ctx);

#endif
