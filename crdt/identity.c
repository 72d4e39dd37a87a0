/* Ed25519 node identities. */
#include "crdt/identity.h"
#include "crdt/error.h"

#include <sodium.h>
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
