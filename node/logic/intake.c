/* The acknowledgement of scans (see intake.h). */
#include "node/logic/intake.h"
#include "crdt/assert.h"
#include "crdt/error.h"

#include <stdlib.h>
#include <string.h>

int tv_intake_init(tv_intake *in, tv_recorder *rec)
{
    memset(in, 0, sizeof *in);
    in->rec = rec;
    TV_ASSERT(rec->n && tv_node_pending(rec->n) == 0);
    return TV_OK;
}

void tv_intake_free(tv_intake *in)
{
    free(in->q);
    memset(in, 0, sizeof *in);
}

int tv_intake_add(tv_intake *in, const tv_scan_in *s, uint64_t tag, tv_scan_done *done)
{
    if (in->count == in->cap) {
        size_t cap = in->cap ? 2 * in->cap : 256;
        void *q = realloc(in->q, cap * sizeof *in->q);
        if (!q) return TV_ENOMEM;
        in->q = q;
        in->cap = cap;
    }
    tv_node *n = in->rec->n;
    uint64_t before = tv_node_pending(n);
    int rc = tv_recorder_add(in->rec, s, done);
    if (rc) {
        TV_ASSERT(tv_node_pending(n) == before); /* nothing of a refused scan pending */
        return rc;
    }
    /* the scan is the last event added (a person event, when new, comes before it) */
    TV_ASSERT(tv_node_pending(n) == before + 1 + (uint64_t)done->new_person);
    in->q[in->count].tag = tag;
    in->q[in->count].event = (uint32_t)(tv_node_pending(n) - 1);
    in->count++;
    return TV_OK;
}

int tv_intake_settle(tv_intake *in, tv_intake_ack_fn ack, void *arg)
{
    tv_node *n = in->rec->n;
    if (in->count == 0) {
        TV_ASSERT(tv_node_pending(n) == 0); /* only queued scans are pending here */
        return TV_OK;
    }
    uint64_t pending = tv_node_pending(n), first = 0;
    /* the queue and the pending group agree: each scan in it, in order */
    TV_ASSERT(in->q[in->count - 1].event < pending);
    int rc = tv_node_commit(n, &first);
    int committed = rc == TV_OK;
    if (committed)
        (void)tv_recorder_committed(in->rec);
    else
        (void)tv_recorder_discarded(in->rec); /* the pending group was emptied */
    TV_ASSERT(tv_node_pending(n) == 0);
#if TV_ASSERT_ON
    store_txn *t;
    if (committed && store_read_begin(n->st, &t) == TV_OK) {
        /* the store holds the whole group before any of it is acknowledged */
        store_frontier f = {0};
        int got = store_frontier_get(t, n->id.pk, &f);
        store_read_end(t);
        TV_ASSERT(got == TV_OK && f.seq >= first + pending - 1);
    }
#endif
    size_t acked = 0;
    for (size_t i = 0; i < in->count; i++) {
        TV_ASSERT(i == 0 || in->q[i].event > in->q[i - 1].event);
        /* nothing is acknowledged as recorded that the commit did not make durable */
        TV_ASSERT(rc != TV_OK || committed);
        ack(arg, in->q[i].tag, rc, committed ? first + in->q[i].event : 0);
        acked++;
    }
    TV_ASSERT(acked == in->count);
    in->count = 0;
    return rc;
}
