/* Sealed health events: tags, keys, boxes (layout in PROTOCOL.md §2.11). */
#include "crdt/sealed.h"
#include "crdt/error.h"

#include <sodium.h>
#include <string.h>

#define AD_BYTES (TV_NODE_ID_BYTES + CRDT_SEALED_TAG_BYTES)

_Static_assert(CRDT_SEALED_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "the nonce is XChaCha20's");
_Static_assert(CRDT_SEALED_BOX_BYTES_MAX ==
                   CRDT_SEALED_INNER_BYTES_MAX + crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "a box is its inner event and the MAC");
_Static_assert(CRDT_SEALED_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
               "the derived key is XChaCha20's");

/* Keyed BLAKE2b-256 of the ASCII context (without a NUL) under k. */
static void derive(uint8_t out[32], const char *context, const uint8_t k[CRDT_SEALED_KEY_BYTES])
{
    crypto_generichash(out, 32, (const uint8_t *)context, strlen(context), k,
                       CRDT_SEALED_KEY_BYTES);
}

void crdt_sealed_tag(uint8_t tag[CRDT_SEALED_TAG_BYTES], const uint8_t k[CRDT_SEALED_KEY_BYTES])
{
    uint8_t h[32];
    derive(h, "truyvet/sealed-tag/v1", k);
    memcpy(tag, h, CRDT_SEALED_TAG_BYTES);
}

static void ad_of(uint8_t ad[AD_BYTES], const uint8_t *author, const uint8_t *tag)
{
    memcpy(ad, author, TV_NODE_ID_BYTES);
    memcpy(ad + TV_NODE_ID_BYTES, tag, CRDT_SEALED_TAG_BYTES);
}

int crdt_sealed_seal(crdt_sealed_event *out, uint8_t *box_buf, const uint8_t *inner, size_t len,
                     const uint8_t k[CRDT_SEALED_KEY_BYTES], const uint8_t author[TV_NODE_ID_BYTES],
                     const uint8_t nonce[CRDT_SEALED_NONCE_BYTES])
{
    memset(out, 0, sizeof *out);
    if (len == 0 || len > CRDT_SEALED_INNER_BYTES_MAX) return TV_EINVAL;
    uint8_t key[32], ad[AD_BYTES];
    crdt_sealed_tag(out->tag, k);
    derive(key, "truyvet/sealed-key/v1", k);
    ad_of(ad, author, out->tag);
    memcpy(out->nonce, nonce, CRDT_SEALED_NONCE_BYTES);
    unsigned long long n = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(box_buf, &n, inner, len, ad, sizeof ad, NULL, nonce,
                                               key);
    sodium_memzero(key, sizeof key);
    out->box = box_buf;
    out->len = (uint32_t)n;
    return TV_OK;
}

int crdt_sealed_open(uint8_t *inner, size_t *len, const crdt_sealed_event *s,
                     const uint8_t k[CRDT_SEALED_KEY_BYTES], const uint8_t author[TV_NODE_ID_BYTES])
{
    *len = 0;
    uint8_t tag[CRDT_SEALED_TAG_BYTES], key[32], ad[AD_BYTES];
    crdt_sealed_tag(tag, k);
    if (sodium_memcmp(tag, s->tag, sizeof tag) != 0) return TV_EINVAL;
    if (s->len <= crypto_aead_xchacha20poly1305_ietf_ABYTES || s->len > CRDT_SEALED_BOX_BYTES_MAX)
        return TV_ESIG;
    derive(key, "truyvet/sealed-key/v1", k);
    ad_of(ad, author, tag);
    unsigned long long n = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(inner, &n, NULL, s->box, s->len, ad,
                                                        sizeof ad, s->nonce, key);
    sodium_memzero(key, sizeof key);
    if (rc != 0) {
        sodium_memzero(inner, CRDT_SEALED_INNER_BYTES_MAX);
        return TV_ESIG;
    }
    *len = (size_t)n;
    return TV_OK;
}

int crdt_sealed_open_event(crdt_event *ev, msgpack_unpacked *scratch, uint8_t *inner,
                           const crdt_sealed_event *s, const uint8_t k[CRDT_SEALED_KEY_BYTES],
                           const uint8_t author[TV_NODE_ID_BYTES])
{
    memset(ev, 0, sizeof *ev);
    size_t len;
    int rc = crdt_sealed_open(inner, &len, s, k, author);
    if (rc) return rc;
    rc = crdt_event_decode(ev, scratch, inner, len);
    if (rc == TV_OK &&
        !(ev->known && (ev->type == CRDT_EV_CASE_STATUS || ev->type == CRDT_EV_EXPOSURE ||
                        ev->type == CRDT_EV_REVEAL || ev->type == CRDT_EV_HOLD)))
        rc = TV_EDECODE;
    if (rc) {
        memset(ev, 0, sizeof *ev);
        sodium_memzero(inner, CRDT_SEALED_INNER_BYTES_MAX);
        return TV_EDECODE;
    }
    return TV_OK;
}
