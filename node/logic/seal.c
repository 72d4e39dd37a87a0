/* Sealing a person's details to the health nodes (see seal.h). */
#include "node/logic/seal.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/mp.h"

#include <msgpack.h>
#include <stddef.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(TV_SEALED_BOX_MAX == CRDT_SEALED_BYTES_MAX, "a box fits the event");

/* Map keys of the sealed plaintext (never renumber). */
enum { DK_NAME = 1, DK_CCCD, DK_CMND, DK_BHYT, DK_PHONE, DK_BIRTH, DK_SEX, DK_ADDRESS };
#define DK_COUNT 8
#define DK_REF 9 /* bin 16: the person ref the details are sealed for */

typedef struct recip_ctx {
    store_txn *t;
    const char *unit;
    uint8_t (*to)[TV_NODE_ID_BYTES];
    uint32_t n;
    crdt_cert *c;
} recip_ctx;

static int recip_one(const uint8_t *raw, size_t len, void *arg)
{
    recip_ctx *r = arg;
    if (crdt_cert_decode(r->c, raw, len)) return TV_OK; /* installed: verified then */
    if (!(r->c->flags & CRDT_CERT_F_HEALTH) || !crdt_cert_covers(r->c, r->unit, strlen(r->unit)))
        return TV_OK;
    int rv = store_revoked(r->t, r->c->subject);
    if (rv < 0) return rv;
    if (rv || r->n == CRDT_SEALED_MAX) return TV_OK;
    memcpy(r->to[r->n++], r->c->subject, TV_NODE_ID_BYTES); /* subject order: sorted */
    return TV_OK;
}

int tv_seal_recipients(store_txn *t, const char *unit, uint8_t to[][TV_NODE_ID_BYTES], uint32_t *n)
{
    *n = 0;
    recip_ctx r = {.t = t, .unit = unit, .to = to, .c = malloc(sizeof(crdt_cert))};
    if (!r.c) return TV_ENOMEM;
    int rc = store_cert_foreach(t, recip_one, &r);
    free(r.c);
    if (rc) return rc;
    *n = r.n;
    return r.n ? TV_OK : TV_ENOTFOUND;
}

/* Where each key's text lives in tv_details. */
static const struct {
    size_t off, cap;
} fields[DK_COUNT + 1] = {
#define F(k, m) [k] = {offsetof(tv_details, m), sizeof(((tv_details *)0)->m)}
    F(DK_NAME, name),   F(DK_CCCD, cccd),   F(DK_CMND, cmnd), F(DK_BHYT, bhyt),
    F(DK_PHONE, phone), F(DK_BIRTH, birth), F(DK_SEX, sex),   F(DK_ADDRESS, address),
#undef F
};

static const char *field(const tv_details *d, int k)
{
    return (const char *)d + fields[k].off;
}

static size_t field_cap(int k)
{
    return fields[k].cap;
}

#define BOX_VERSION 1
#define BOX_HEAD (1 + crypto_box_PUBLICKEYBYTES + crypto_box_NONCEBYTES)

int tv_sealer_begin(tv_sealer *s, const uint8_t to[][TV_NODE_ID_BYTES], uint32_t n)
{
    memset(s, 0, sizeof *s);
    if (n == 0 || n > CRDT_SEALED_MAX) return TV_EINVAL;
    uint8_t esk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(s->epk, esk);
    int rc = TV_OK;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        uint8_t xpk[crypto_box_PUBLICKEYBYTES];
        if (crypto_sign_ed25519_pk_to_curve25519(xpk, to[i]) ||
            crypto_box_beforenm(s->shared[i], xpk, esk))
            rc = TV_EINVAL;
        memcpy(s->to[i], to[i], TV_NODE_ID_BYTES);
    }
    sodium_memzero(esk, sizeof esk);
    if (rc) {
        tv_sealer_end(s);
        return rc;
    }
    s->n = n;
    return TV_OK;
}

void tv_sealer_end(tv_sealer *s)
{
    sodium_memzero(s, sizeof *s);
}

int tv_seal_details(tv_sealer *s, const tv_details *d, crdt_person *p, uint8_t *buf)
{
    if (s->n == 0) return TV_EINVAL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    uint32_t count = 0;
    for (int k = 1; k <= DK_COUNT; k++)
        count += field(d, k)[0] != '\0';
    int e = msgpack_pack_map(&pk, count + 1);
    for (int k = 1; k <= DK_COUNT; k++) {
        const char *v = field(d, k);
        size_t len = strnlen(v, field_cap(k));
        if (len) e |= msgpack_pack_uint8(&pk, (uint8_t)k) | msgpack_pack_str_with_body(&pk, v, len);
    }
    /* bound to the record's ref: a box copied onto another ref no longer matches it */
    e |= msgpack_pack_uint8(&pk, DK_REF) |
         msgpack_pack_bin_with_body(&pk, p->person, TV_PERSON_REF_BYTES);
    int rc = e ? TV_ENOMEM : TV_OK;
    if (rc == 0 && BOX_HEAD + sb.size + crypto_box_MACBYTES > TV_SEALED_BOX_MAX) rc = TV_ELIMIT;
    for (uint32_t i = 0; rc == 0 && i < s->n; i++) {
        uint8_t *box = buf + (size_t)i * TV_SEALED_BOX_MAX;
        box[0] = BOX_VERSION;
        memcpy(box + 1, s->epk, crypto_box_PUBLICKEYBYTES);
        uint8_t *nonce = box + 1 + crypto_box_PUBLICKEYBYTES;
        randombytes_buf(nonce, crypto_box_NONCEBYTES);
        crypto_box_easy_afternm(box + BOX_HEAD, (const uint8_t *)sb.data, sb.size, nonce,
                                s->shared[i]);
        memcpy(p->sealed[i].to, s->to[i], TV_NODE_ID_BYTES);
        p->sealed[i].box = box;
        p->sealed[i].len = (uint32_t)(BOX_HEAD + sb.size + crypto_box_MACBYTES);
    }
    if (rc == 0) p->nsealed = s->n;
    sodium_memzero(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int unpack_details(const uint8_t *m, size_t len, tv_details *d)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = crdt_mp_unpack_exact(&u, m, len);
    if (rc == 0 && u.data.type != MSGPACK_OBJECT_MAP) rc = TV_EDECODE;
    for (uint32_t i = 0; rc == 0 && i < u.data.via.map.size; i++) {
        uint64_t k;
        const char *s;
        size_t n;
        if (crdt_mp_u64(&u.data.via.map.ptr[i].key, &k)) {
            rc = TV_EDECODE;
            break;
        }
        if (k == DK_REF) {
            const uint8_t *b;
            if (crdt_mp_bin_n(&u.data.via.map.ptr[i].val, TV_PERSON_REF_BYTES, &b)) {
                rc = TV_EDECODE;
                break;
            }
            memcpy(d->ref, b, TV_PERSON_REF_BYTES);
            d->has_ref = 1;
            continue;
        }
        if (k < 1 || k > DK_COUNT) continue; /* a newer writer's field */
        if (crdt_mp_str(&u.data.via.map.ptr[i].val, field_cap((int)k) - 1, &s, &n)) {
            rc = TV_EDECODE;
            break;
        }
        char *dst = (char *)field(d, (int)k);
        memcpy(dst, s, n);
        dst[n] = '\0';
    }
    msgpack_unpacked_destroy(&u);
    return rc;
}

int tv_unseal_details(const crdt_person *p, const crdt_identity *self, tv_details *d)
{
    memset(d, 0, sizeof *d);
    const crdt_sealed *mine = NULL;
    for (uint32_t i = 0; i < p->nsealed; i++)
        if (memcmp(p->sealed[i].to, self->pk, TV_NODE_ID_BYTES) == 0) mine = &p->sealed[i];
    if (!mine) return TV_ENOTFOUND;
    if (mine->len <= BOX_HEAD + crypto_box_MACBYTES || mine->box[0] != BOX_VERSION) return TV_ESIG;
    uint8_t xsk[crypto_box_SECRETKEYBYTES], shared[crypto_box_BEFORENMBYTES];
    uint8_t plain[TV_SEALED_BOX_MAX];
    size_t len = mine->len - BOX_HEAD - crypto_box_MACBYTES;
    const uint8_t *epk = mine->box + 1, *nonce = mine->box + 1 + crypto_box_PUBLICKEYBYTES;
    int rc = TV_OK;
    if (crypto_sign_ed25519_sk_to_curve25519(xsk, self->sk) ||
        crypto_box_beforenm(shared, epk, xsk) ||
        crypto_box_open_easy_afternm(plain, mine->box + BOX_HEAD, mine->len - BOX_HEAD, nonce,
                                     shared))
        rc = TV_ESIG;
    sodium_memzero(shared, sizeof shared);
    if (rc == 0) rc = unpack_details(plain, len, d);
    sodium_memzero(xsk, sizeof xsk);
    sodium_memzero(plain, sizeof plain);
    if (rc) sodium_memzero(d, sizeof *d);
    return rc;
}
