/* A memo of signatures known to be valid, owned by its caller (crdt/ holds no globals).
 *
 * The outcome of a signature's verification is a function of its bytes alone (key, context,
 * signature, message), so a memo of those that verified changes no result, only the cost:
 * one that a caller passes to crdt_batch_open_memo and crdt_cert_open_memo verifies a
 * signature it has verified before only once. A store verifies through the memo its opener
 * gives it (store_opts.sig_memo); the simulator, where one process holds every node, gives
 * the same memo to all of its stores, so each batch (applied at its commune, its district
 * and the province) and each certificate (walked by every node) is verified once per
 * process. Signatures crdt_batch_seal makes are not taken on trust: a caller may seal with
 * a key that is not the origin's, as a forger would. Not thread-safe: one thread at a time. */
#ifndef TV_CRDT_SIGMEMO_H
#define TV_CRDT_SIGMEMO_H

#include <stddef.h>
#include <stdint.h>

#define CRDT_SIG_MEMO_KEY_BYTES 32

typedef struct crdt_sig_memo {
    uint8_t (*slot)[CRDT_SIG_MEMO_KEY_BYTES]; /* 2^bits slots, direct-mapped */
    size_t mask;
} crdt_sig_memo;

/* Makes an empty memo of 2^bits slots (4..24; 32 bytes each). Returns 0, TV_EINVAL or
 * TV_ENOMEM (then *m is empty: crdt_sig_memo_release is still safe). */
int crdt_sig_memo_init(crdt_sig_memo *m, unsigned bits);

/* Frees the memo's slots; *m is empty after. */
void crdt_sig_memo_release(crdt_sig_memo *m);

/* crdt_verify through the memo m; without it (m NULL, or empty) crdt_verify itself. */
int crdt_verify_memo(crdt_sig_memo *m, const uint8_t *sig, const char *context, const uint8_t *msg,
                     size_t len, const uint8_t *pk) __attribute__((warn_unused_result));

#endif
