/* Ed25519 node identities. */
#include "crdt/identity.h"
#include "crdt/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int crdt_identity_from_seed(crdt_identity *id, const uint8_t seed[TV_SEED_BYTES])
{
    if (crypto_sign_seed_keypair(id->pk, id->sk, seed) != 0) {
        crdt_identity_wipe(id);
        return TV_EINVAL;
    }
    return TV_OK;
}

int crdt_identity_from_secret(crdt_identity *id, const uint8_t sk[TV_SECRET_KEY_BYTES])
{
    crdt_identity check;
    if (crdt_identity_from_seed(&check, sk) != 0 ||
        sodium_memcmp(check.sk, sk, TV_SECRET_KEY_BYTES) != 0) {
        crdt_identity_wipe(&check);
        crdt_identity_wipe(id);
        return TV_ECORRUPT;
    }
    *id = check;
    crdt_identity_wipe(&check);
    return TV_OK;
}

void crdt_identity_wipe(crdt_identity *id)
{
    sodium_memzero(id, sizeof *id);
}

#define SIGN_STACK_BYTES 512 /* messages up to this size are assembled without malloc */

/* Assembles context || msg in buf (or on the heap when it does not fit); NULL on ENOMEM. */
static uint8_t *context_message(uint8_t *buf, const char *context, const uint8_t *msg, size_t len,
                                size_t *out_len)
{
    size_t cl = strlen(context);
    uint8_t *m = cl + len <= SIGN_STACK_BYTES ? buf : malloc(cl + len);
    if (!m) return NULL;
    memcpy(m, context, cl);
    if (len) memcpy(m + cl, msg, len);
    *out_len = cl + len;
    return m;
}

int crdt_sign(uint8_t sig[TV_SIG_BYTES], const char *context, const uint8_t *msg, size_t len,
              const uint8_t sk[TV_SECRET_KEY_BYTES])
{
    uint8_t buf[SIGN_STACK_BYTES];
    size_t n;
    uint8_t *m = context_message(buf, context, msg, len, &n);
    if (!m) return TV_ENOMEM;
    crypto_sign_detached(sig, NULL, m, n, sk);
    if (m != buf) free(m);
    return TV_OK;
}

int crdt_verify(const uint8_t sig[TV_SIG_BYTES], const char *context, const uint8_t *msg,
                size_t len, const uint8_t pk[TV_NODE_ID_BYTES])
{
    uint8_t buf[SIGN_STACK_BYTES];
    size_t n;
    uint8_t *m = context_message(buf, context, msg, len, &n);
    if (!m) return TV_ENOMEM;
    int ok = crypto_sign_verify_detached(sig, m, n, pk) == 0;
    if (m != buf) free(m);
    return ok ? TV_OK : TV_ESIG;
}
