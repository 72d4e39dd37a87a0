/* Version vectors: for each origin, the last seq held and the hash of the batch that
 * ends there.
 *
 * A vector is a sorted array of entries (by origin bytes), bounded by CRDT_VV_ORIGINS_MAX.
 * The caller owns the struct; crdt_vv_release frees its entries. Pure: no I/O. */
#ifndef TV_CRDT_VV_H
#define TV_CRDT_VV_H

#include "crdt/ids.h"

#include <stddef.h>
#include <stdint.h>

#define CRDT_VV_ORIGINS_MAX 65536

typedef struct crdt_vv_entry {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t seq;                /* last seq held; entries with seq 0 are not stored */
    uint8_t hash[TV_HASH_BYTES]; /* hash of the batch header that ends at seq */
} crdt_vv_entry;

typedef struct crdt_vv {
    crdt_vv_entry *entries; /* sorted by origin, no duplicates */
    size_t len, cap;
} crdt_vv;

void crdt_vv_init(crdt_vv *v);
void crdt_vv_release(crdt_vv *v);

/* Returns the entry for origin, or NULL. The pointer lives until the next change to v. */
const crdt_vv_entry *crdt_vv_get(const crdt_vv *v, const uint8_t origin[TV_NODE_ID_BYTES]);

/* Raises origin's entry to (seq, hash) if seq is greater than what v holds; a lower or
 * equal seq leaves v unchanged. Returns 0, TV_ENOMEM, or TV_ELIMIT (too many origins). */
int crdt_vv_advance(crdt_vv *v, const uint8_t origin[TV_NODE_ID_BYTES], uint64_t seq,
                    const uint8_t hash[TV_HASH_BYTES]);

/* Raises v by n entries in any order, as crdt_vv_advance would one by one (an origin
 * given twice counts with its greatest seq; seq 0 is ignored), in one sort and one merge:
 * O(n log n + v->len), where advancing entry by entry costs a move of the tail per new
 * origin. Reorders e (the caller's scratch). Returns 0, TV_ENOMEM or TV_ELIMIT (v
 * unchanged on failure). */
int crdt_vv_advance_all(crdt_vv *v, crdt_vv_entry *e, size_t n);

/* Merges src into dst (entry-wise maximum by seq). Returns 0, TV_ENOMEM or TV_ELIMIT. */
int crdt_vv_merge(crdt_vv *dst, const crdt_vv *src);

/* Fills out (initialised by the caller, emptied first) with the entries of cur that are
 * absent from base or have a greater seq there: what changed since base. Returns 0 or
 * TV_ENOMEM. */
int crdt_vv_delta(crdt_vv *out, const crdt_vv *cur, const crdt_vv *base);

#define CRDT_VV_DIGEST_BYTES 16
/* A short fingerprint of the whole vector (BLAKE2b-128 over its entries in order): two
 * nodes compare digests to check that a delta rebuilt the same vector. */
void crdt_vv_digest(const crdt_vv *v, uint8_t out[CRDT_VV_DIGEST_BYTES]);

/* Encodes v as msgpack: an array of [origin bin32, seq uint, hash bin32]. *out is
 * malloc'd (caller frees). Returns 0 or TV_ENOMEM. */
int crdt_vv_encode(const crdt_vv *v, uint8_t **out, size_t *out_len);

/* Decodes bytes produced by crdt_vv_encode into v (emptied first). Untrusted input:
 * checks every count against the bytes that remain, rejects unsorted or duplicate
 * origins, zero seqs and trailing bytes. Returns 0, TV_EDECODE, TV_ELIMIT or TV_ENOMEM;
 * on failure v is left empty. */
int crdt_vv_decode(crdt_vv *v, const uint8_t *buf, size_t len) __attribute__((warn_unused_result));

#endif
