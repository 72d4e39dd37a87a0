/* The acknowledgement of scans: the one path by which `station`, `import` and the
 * simulator's communes tell a scan was recorded.
 *
 * Scans are queued through the recorder (record.h) into the node's pending group; settling
 * makes the group durable with one tv_node_commit, tells the recorder
 * (tv_recorder_committed or tv_recorder_discarded) and only then acknowledges each queued
 * scan, in the order queued, through the caller's function: with 0 and the scan's event
 * seq when the commit is on disk, else with the commit's error (nothing of the group was
 * recorded). A scan is never acknowledged as recorded before the commit that holds it has
 * returned 0. Nothing here prints or parses options: what an acknowledgement shows is the
 * caller's (a gate's line, an import's ids).
 *
 * The caller's tag (a line number, an answer's index) comes back with each
 * acknowledgement. Only scans queued here may be pending on the node when it settles:
 * other own events go through their own commit. */
#ifndef TV_NODE_LOGIC_INTAKE_H
#define TV_NODE_LOGIC_INTAKE_H

#include "node/logic/record.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tv_intake {
    tv_recorder *rec; /* borrowed; its node is rec->n */
    struct {
        uint64_t tag;   /* the caller's */
        uint32_t event; /* the scan's place in the pending group */
    } * q;
    size_t count, cap;
} tv_intake;

/* Starts an intake over recorder rec (initialised by the caller, on a node with nothing
 * pending). Returns 0. */
int tv_intake_init(tv_intake *in, tv_recorder *rec);
void tv_intake_free(tv_intake *in);

/* Scans queued since the last settle. */
static inline size_t tv_intake_queued(const tv_intake *in)
{
    return in->count;
}

/* Queues a scan (tv_recorder_add: the person event too when the person is new here), to
 * be acknowledged with tag. Returns 0, or what tv_recorder_add returns, or TV_ENOMEM; on
 * error nothing of this scan is pending or queued. */
int tv_intake_add(tv_intake *in, const tv_scan_in *s, uint64_t tag, tv_scan_done *done);

/* An acknowledgement: rc 0, the scan queued with tag is on disk as event seq of the node's
 * log; else the commit's error and seq 0 (the scan is not recorded). */
typedef void (*tv_intake_ack_fn)(void *arg, uint64_t tag, int rc, uint64_t seq);

/* Commits the pending group (nothing to commit: nothing queued, no call), then
 * acknowledges every queued scan, in order, through ack(arg, ...), and empties the queue.
 * Returns 0 or the commit's error (every scan of the group acknowledged with it). */
int tv_intake_settle(tv_intake *in, tv_intake_ack_fn ack, void *arg);

#endif
