/* Whether a node's store is intact, as `truyvet verify` and a web console check it: every
 * stored batch opened again (its origin's signature, its body hash, its events), each
 * origin's batches one unbroken hash chain (from its checkpoint's base, if any) with a
 * clock that only goes forward, ending at the recorded frontier, and the event counters
 * matching the batches. Nothing here prints or parses options: node/render/verify.h
 * writes the faults and the summary as text or JSON.
 *
 * Memory: a tv_verify is the caller's, filled by tv_verify_store and released by
 * tv_verify_free, which may be called on a zeroed or failed result. The faults' sentences
 * are static.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); a fault found is not an error. */
#ifndef TV_NODE_LOGIC_VERIFY_H
#define TV_NODE_LOGIC_VERIFY_H

#include "node/logic/node.h"

#include <stddef.h>
#include <stdint.h>

/* A fault: the origin (all zero when a batch's bytes cannot name it; this node's own id
 * for the counters), the seq of the batch, and what is wrong. */
typedef struct tv_verify_fault {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t seq;
    const char *what;
} tv_verify_fault;

typedef struct tv_verify {
    uint64_t batches, events, origins; /* walked */
    tv_verify_fault *faults;           /* in the order found */
    size_t n_faults, cap;
} tv_verify;

/* Checks the store of node n in one read transaction, filling *out. Returns 0 (whether or
 * not faults were found), TV_ENOMEM or a store error. */
int tv_verify_store(tv_node *n, tv_verify *out);
void tv_verify_free(tv_verify *v);

#endif
