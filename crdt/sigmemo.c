/* The memo of verified signatures (sigmemo.h). */
#include "crdt/sigmemo.h"
#include "crdt/error.h"
#include "crdt/identity.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int crdt_sig_memo_init(crdt_sig_memo *m, unsigned bits)
{
    memset(m, 0, sizeof *m);
    if (bits < 4 || bits > 24) return TV_EINVAL;
    m->slot = calloc((size_t)1 << bits, CRDT_SIG_MEMO_KEY_BYTES);
    if (!m->slot) return TV_ENOMEM;
    m->mask = ((size_t)1 << bits) - 1;
    return TV_OK;
}

void crdt_sig_memo_release(crdt_sig_memo *m)
{
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* The memo's key of a signature: a hash of the key, the context, the signature and the
 * message together, so that the same message with another signature, key or context is
 * not taken for verified. */
static void memo_key(uint8_t key[CRDT_SIG_MEMO_KEY_BYTES], const uint8_t *pk, const char *context,
                     const uint8_t *sig, const uint8_t *msg, size_t len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, CRDT_SIG_MEMO_KEY_BYTES);
    crypto_generichash_update(&st, pk, TV_NODE_ID_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)context, strlen(context) + 1);
    crypto_generichash_update(&st, sig, TV_SIG_BYTES);
    crypto_generichash_update(&st, msg, len);
    crypto_generichash_final(&st, key, CRDT_SIG_MEMO_KEY_BYTES);
}

int crdt_verify_memo(crdt_sig_memo *m, const uint8_t *sig, const char *context, const uint8_t *msg,
                     size_t len, const uint8_t *pk)
{
    if (!m || !m->slot) return crdt_verify(sig, context, msg, len, pk);
    uint8_t key[CRDT_SIG_MEMO_KEY_BYTES];
    memo_key(key, pk, context, sig, msg, len);
    uint64_t h;
    memcpy(&h, key, sizeof h);
    uint8_t *slot = m->slot[h & m->mask];
    if (memcmp(slot, key, CRDT_SIG_MEMO_KEY_BYTES) == 0) return TV_OK;
    int rc = crdt_verify(sig, context, msg, len, pk);
    if (rc == TV_OK) memcpy(slot, key, CRDT_SIG_MEMO_KEY_BYTES);
    return rc;
}
