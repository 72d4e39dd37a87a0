/* Whether a node's store is intact (verify.h). */
#include "node/logic/verify.h"

#include "crdt/batch.h"
#include "crdt/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct verify_ctx {
    store_txn *t;
    tv_verify *v;
    int oom;                          /* a fault could not be kept */
    uint8_t origin[TV_NODE_ID_BYTES]; /* the origin whose chain is being walked */
    int have_origin;
    uint64_t seq;                /* last seq of that chain so far */
    uint8_t hash[TV_HASH_BYTES]; /* and its last batch hash */
    uint64_t hlc_max;
} verify_ctx;

static void fault(verify_ctx *c, const uint8_t *origin, uint64_t seq, const char *what)
{
    tv_verify *v = c->v;
    if (v->n_faults == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        tv_verify_fault *f = realloc(v->faults, cap * sizeof *f);
        if (!f) {
            c->oom = 1;
            return;
        }
        v->faults = f;
        v->cap = cap;
    }
    tv_verify_fault *f = &v->faults[v->n_faults++];
    memcpy(f->origin, origin, TV_NODE_ID_BYTES);
    f->seq = seq;
    f->what = what;
}

/* Checks that the chain just walked ends where the frontier says. */
static void verify_chain_end(verify_ctx *c)
{
    if (!c->have_origin) return;
    store_frontier f;
    int rc = store_frontier_get(c->t, c->origin, &f);
    if (rc)
        fault(c, c->origin, c->seq, "the origin has batches but no frontier");
    else if (f.seq != c->seq || memcmp(f.hash, c->hash, TV_HASH_BYTES) != 0)
        fault(c, c->origin, c->seq, "the chain does not end at the recorded frontier");
}

/* The first batch of an origin: the chain of the one before ends, this one starts at the
 * origin's base (a log truncated by a checkpoint starts again there, PROTOCOL.md §3.4). */
static void verify_origin_start(verify_ctx *c, const crdt_batch *b)
{
    verify_chain_end(c);
    memcpy(c->origin, b->h.origin, TV_NODE_ID_BYTES);
    c->have_origin = 1;
    c->seq = 0;
    c->hlc_max = 0;
    memset(c->hash, 0, sizeof c->hash);
    c->v->origins++;
    int rc = store_base_get(c->t, c->origin, &c->seq, c->hash);
    if (rc && rc != TV_ENOTFOUND) fault(c, b->h.origin, b->h.first_seq, tv_strerror(rc));
}

static int verify_batch(const uint8_t *buf, size_t len, void *arg)
{
    verify_ctx *c = arg;
    crdt_batch b;
    int rc = crdt_batch_open(&b, buf, len);
    if (rc) {
        /* the bytes cannot be trusted to name their origin: report against the current */
        static const uint8_t unknown[TV_NODE_ID_BYTES];
        fault(c, c->have_origin ? c->origin : unknown, c->seq + 1, tv_strerror(rc));
        return 0;
    }
    if (!c->have_origin || memcmp(b.h.origin, c->origin, TV_NODE_ID_BYTES) != 0)
        verify_origin_start(c, &b);
    c->v->batches++;
    if ((rc = crdt_batch_check_events(&b))) fault(c, b.h.origin, b.h.first_seq, tv_strerror(rc));
    if (b.h.first_seq != c->seq + 1)
        fault(c, b.h.origin, b.h.first_seq, "a gap or overlap in the log's seq numbers");
    else if (memcmp(b.h.prev_hash, c->hash, TV_HASH_BYTES) != 0)
        fault(c, b.h.origin, b.h.first_seq, "does not continue the hash chain");
    else if (c->seq && b.h.hlc_min <= c->hlc_max)
        fault(c, b.h.origin, b.h.first_seq, "its clock goes backwards from the previous batch");
    c->seq = b.h.first_seq + b.h.count - 1;
    c->hlc_max = b.h.hlc_max;
    memcpy(c->hash, b.hash, TV_HASH_BYTES);
    c->v->events += b.h.count;
    return 0;
}

int tv_verify_store(tv_node *n, tv_verify *out)
{
    memset(out, 0, sizeof *out);
    verify_ctx c = {.v = out};
    store_counts counts;
    int rc = store_read_begin(n->st, &c.t);
    if (rc) return rc;
    rc = store_batches_foreach(c.t, verify_batch, &c);
    if (rc == 0) verify_chain_end(&c);
    if (rc == 0 && (rc = store_counts_get(c.t, &counts)) == 0 &&
        (counts.events != out->events || counts.batches != out->batches))
        fault(&c, n->id.pk, 0, "the event counters do not match the stored batches");
    store_read_end(c.t);
    return rc ? rc : c.oom ? TV_ENOMEM : TV_OK;
}

void tv_verify_free(tv_verify *v)
{
    free(v->faults);
    memset(v, 0, sizeof *v);
}
