/* Node identity: an Ed25519 key pair (libsodium crypto_sign).
 *
 * The public key is the node id and, converted to X25519, its transport key. Pure: the
 * seed comes from the caller (who reads randomness), so tests can use fixed seeds.
 * libsodium must have been initialised (sodium_init) by the program. */
#ifndef TV_CRDT_IDENTITY_H
#define TV_CRDT_IDENTITY_H

#include "crdt/ids.h"

#include <stddef.h>
#include <stdint.h>

typedef struct crdt_identity {
    uint8_t pk[TV_NODE_ID_BYTES];
    uint8_t sk[TV_SECRET_KEY_BYTES];
} crdt_identity;

/* Derives the key pair from a 32-byte seed. Returns 0 or TV_EINVAL. */
int crdt_identity_from_seed(crdt_identity *id, const uint8_t seed[TV_SEED_BYTES]);

/* Loads a key pair from its 64-byte secret key, checking that the public half matches the
 * seed half. Returns 0 or TV_ECORRUPT (id zeroed). */
int crdt_identity_from_secret(crdt_identity *id, const uint8_t sk[TV_SECRET_KEY_BYTES])
    __attribute__((warn_unused_result));

/* Signs context || msg with Ed25519 (context: a NUL-terminated ASCII string naming the
 * purpose, e.g. "truyvet/batch/v1"), so that a signature made for one purpose never passes
 * for another. Returns 0 or TV_ENOMEM. */
int crdt_sign(uint8_t sig[TV_SIG_BYTES], const char *context, const uint8_t *msg, size_t len,
              const uint8_t sk[TV_SECRET_KEY_BYTES]);

/* Verifies a signature made by crdt_sign under pk. Returns 0, TV_ESIG or TV_ENOMEM. */
int crdt_verify(const uint8_t sig[TV_SIG_BYTES], const char *context, const uint8_t *msg,
                size_t len, const uint8_t pk[TV_NODE_ID_BYTES]) __attribute__((warn_unused_result));

/* Overwrites the secret key in memory. */
void crdt_identity_wipe(crdt_identity *id);

#endif
