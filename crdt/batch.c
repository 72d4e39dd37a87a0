/* Sealing and verifying signed, hash-chained batches (layout in batch.h and PROTOCOL.md). */
#include "crdt/batch.h"
#include "crdt/assert.h"
#include "crdt/error.h"
#include "crdt/mp.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_FIELDS 8

void crdt_batch_builder_init(crdt_batch_builder *b)
{
    memset(b, 0, sizeof *b);
    msgpack_sbuffer_init(&b->events);
    msgpack_packer_init(&b->pk, &b->events, msgpack_sbuffer_write);
}

void crdt_batch_builder_release(crdt_batch_builder *b)
{
    msgpack_sbuffer_destroy(&b->events);
    memset(b, 0, sizeof *b);
}

void crdt_batch_builder_reset(crdt_batch_builder *b)
{
    msgpack_sbuffer_clear(&b->events);
    b->count = 0;
    b->hlc_min = b->hlc_max = 0;
}

void crdt_batch_builder_note(crdt_batch_builder *b, uint64_t hlc)
{
    TV_ASSERT(b->count == 0 || hlc > b->hlc_max);
    if (b->count == 0) b->hlc_min = hlc;
    b->hlc_max = hlc;
    b->count++;
}

static void hash_bytes(uint8_t out[TV_HASH_BYTES], const uint8_t *p, size_t n)
{
    crypto_generichash(out, TV_HASH_BYTES, p, n, NULL, 0);
}

/* crdt_verify of a batch header, through the memo m when there is one. */
static int verify_header(crdt_sig_memo *m, const uint8_t *sig, const uint8_t *header,
                         size_t header_len, const uint8_t *origin)
{
    return crdt_verify_memo(m, sig, CRDT_BATCH_SIGN_CONTEXT, header, header_len, origin);
}

static int pack_header(msgpack_packer *pk, const crdt_batch_header *h)
{
    return msgpack_pack_array(pk, HEADER_FIELDS) | msgpack_pack_uint32(pk, h->version) |
           msgpack_pack_bin_with_body(pk, h->origin, TV_NODE_ID_BYTES) |
           msgpack_pack_uint64(pk, h->first_seq) | msgpack_pack_uint32(pk, h->count) |
           msgpack_pack_bin_with_body(pk, h->prev_hash, TV_HASH_BYTES) |
           msgpack_pack_bin_with_body(pk, h->body_hash, TV_HASH_BYTES) |
           msgpack_pack_uint64(pk, h->hlc_min) | msgpack_pack_uint64(pk, h->hlc_max);
}

static int pack_array_header(uint8_t *out, uint32_t n)
{
    if (n < 16) {
        out[0] = (uint8_t)(0x90 | n);
        return 1;
    }
    if (n <= 0xffff) {
        out[0] = 0xdc;
        out[1] = (uint8_t)(n >> 8);
        out[2] = (uint8_t)n;
        return 3;
    }
    out[0] = 0xdd;
    for (int i = 0; i < 4; i++)
        out[1 + i] = (uint8_t)(n >> (24 - 8 * i));
    return 5;
}

/* The hash of a batch's body: the array header ah, then the builder's events. */
static void body_hash(uint8_t out[TV_HASH_BYTES], const uint8_t *ah, size_t ah_len,
                      const crdt_batch_builder *b)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, TV_HASH_BYTES);
    crypto_generichash_update(&st, ah, ah_len);
    crypto_generichash_update(&st, (const uint8_t *)b->events.data, b->events.size);
    crypto_generichash_final(&st, out, TV_HASH_BYTES);
}

#if TV_ASSERT_ON
/* The sealed bytes read back as the batch sealed (header h): its place, events and body. */
static void seal_check(const uint8_t *out, size_t out_len, const crdt_batch_header *h,
                       const uint8_t *hash_out)
{
    crdt_batch chk;
    TV_ASSERT(crdt_batch_peek(&chk, out, out_len) == TV_OK);
    TV_ASSERT(chk.h.first_seq == h->first_seq && chk.h.count == h->count);
    TV_ASSERT(chk.h.hlc_min == h->hlc_min && chk.h.hlc_max == h->hlc_max);
    TV_ASSERT(memcmp(chk.h.body_hash, h->body_hash, TV_HASH_BYTES) == 0);
    TV_ASSERT(!hash_out || memcmp(chk.hash, hash_out, TV_HASH_BYTES) == 0);
}
#endif

int crdt_batch_seal(const crdt_batch_builder *b, const crdt_identity *id, uint64_t first_seq,
                    const uint8_t *prev_hash, uint8_t **out, size_t *out_len, uint8_t *hash_out)
{
    static const uint8_t zero[TV_HASH_BYTES];
    *out = NULL;
    *out_len = 0;
    if (b->count == 0 || first_seq == 0 || (first_seq == 1) != (prev_hash == NULL))
        return TV_EINVAL;
    if (b->count > CRDT_BATCH_EVENTS_MAX || first_seq > UINT64_MAX - b->count) return TV_ELIMIT;
    if (b->events.size + 5 + CRDT_BATCH_HEADER_BYTES_MAX + TV_SIG_BYTES + 16 > CRDT_BATCH_BYTES_MAX)
        return TV_ELIMIT;

    crdt_batch_header h = {.version = CRDT_BATCH_VERSION,
                           .first_seq = first_seq,
                           .count = b->count,
                           .hlc_min = b->hlc_min,
                           .hlc_max = b->hlc_max};
    memcpy(h.origin, id->pk, TV_NODE_ID_BYTES);
    memcpy(h.prev_hash, prev_hash ? prev_hash : zero, TV_HASH_BYTES);

    /* body = array header + the events, hashed in two parts to avoid a copy */
    uint8_t ah[5];
    int ah_len = pack_array_header(ah, b->count);
    body_hash(h.body_hash, ah, (size_t)ah_len, b);

    msgpack_sbuffer hb;
    msgpack_sbuffer_init(&hb);
    msgpack_packer hp;
    msgpack_packer_init(&hp, &hb, msgpack_sbuffer_write);
    uint8_t sig[TV_SIG_BYTES];
    int rc = TV_ENOMEM;
    if (pack_header(&hp, &h)) goto done;
    rc = TV_ELIMIT;
    if (hb.size > CRDT_BATCH_HEADER_BYTES_MAX) goto done;
    if ((rc = crdt_sign(sig, CRDT_BATCH_SIGN_CONTEXT, (const uint8_t *)hb.data, hb.size, id->sk)))
        goto done;

    size_t body_len = (size_t)ah_len + b->events.size;
    msgpack_sbuffer ob;
    msgpack_sbuffer_init(&ob);
    msgpack_packer op;
    msgpack_packer_init(&op, &ob, msgpack_sbuffer_write);
    int e = msgpack_pack_array(&op, 3) | msgpack_pack_bin_with_body(&op, hb.data, hb.size) |
            msgpack_pack_bin_with_body(&op, sig, TV_SIG_BYTES) | msgpack_pack_bin(&op, body_len) |
            msgpack_pack_bin_body(&op, ah, (size_t)ah_len) |
            msgpack_pack_bin_body(&op, b->events.data, b->events.size);
    if (e) {
        msgpack_sbuffer_destroy(&ob);
        rc = TV_ENOMEM;
        goto done;
    }
    if (hash_out) hash_bytes(hash_out, (const uint8_t *)hb.data, hb.size);
    *out_len = ob.size;
    *out = (uint8_t *)msgpack_sbuffer_release(&ob);
    rc = TV_OK;
#if TV_ASSERT_ON
    seal_check(*out, *out_len, &h, hash_out);
#endif
done:
    msgpack_sbuffer_destroy(&hb);
    return rc;
}

static int decode_header(crdt_batch_header *h, const uint8_t *buf, size_t len)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = crdt_mp_unpack_exact(&u, buf, len);
    if (rc) goto done;
    rc = TV_EDECODE;
    const msgpack_object *o = &u.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1) goto done;
    const msgpack_object *f = o->via.array.ptr;
    uint64_t version, first_seq, count;
    const uint8_t *origin, *prev, *body;
    if (crdt_mp_u64(&f[0], &version)) goto done;
    if (version != CRDT_BATCH_VERSION) {
        rc = TV_EVERSION;
        goto done;
    }
    if (o->via.array.size != HEADER_FIELDS || crdt_mp_bin_n(&f[1], TV_NODE_ID_BYTES, &origin) ||
        crdt_mp_u64(&f[2], &first_seq) || crdt_mp_u64(&f[3], &count) ||
        crdt_mp_bin_n(&f[4], TV_HASH_BYTES, &prev) || crdt_mp_bin_n(&f[5], TV_HASH_BYTES, &body) ||
        crdt_mp_u64(&f[6], &h->hlc_min) || crdt_mp_u64(&f[7], &h->hlc_max))
        goto done;
    if (first_seq == 0 || count == 0 || h->hlc_min > h->hlc_max) goto done;
    if (count > CRDT_BATCH_EVENTS_MAX || first_seq > UINT64_MAX - count) {
        rc = TV_ELIMIT;
        goto done;
    }
    h->version = (uint32_t)version;
    h->first_seq = first_seq;
    h->count = (uint32_t)count;
    memcpy(h->origin, origin, TV_NODE_ID_BYTES);
    memcpy(h->prev_hash, prev, TV_HASH_BYTES);
    memcpy(h->body_hash, body, TV_HASH_BYTES);
    if (first_seq == 1 && !sodium_is_zero(h->prev_hash, TV_HASH_BYTES)) goto done;
    rc = TV_OK;
done:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Parses batch bytes and its header; verifies the signature (through memo m, if any) and
 * the body hash when `verify`. */
static int batch_parse(crdt_batch *b, const uint8_t *buf, size_t len, int verify, crdt_sig_memo *m)
{
    memset(b, 0, sizeof *b);
    if (len > CRDT_BATCH_BYTES_MAX) return TV_ELIMIT;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_batch out = {0};
    int rc = crdt_mp_unpack_exact(&u, buf, len);
    if (rc) goto done;
    rc = TV_EDECODE;
    const msgpack_object *o = &u.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3) goto done;
    const uint8_t *header, *sig, *body;
    size_t header_len, body_len;
    if (crdt_mp_bin(&o->via.array.ptr[0], CRDT_BATCH_HEADER_BYTES_MAX, &header, &header_len) ||
        crdt_mp_bin_n(&o->via.array.ptr[1], TV_SIG_BYTES, &sig) ||
        crdt_mp_bin(&o->via.array.ptr[2], CRDT_BATCH_BYTES_MAX, &body, &body_len))
        goto done;
    if ((rc = decode_header(&out.h, header, header_len))) goto done;
    if (verify) {
        if ((rc = verify_header(m, sig, header, header_len, out.h.origin))) goto done;
        uint8_t body_hash[TV_HASH_BYTES];
        hash_bytes(body_hash, body, body_len);
        if (sodium_memcmp(body_hash, out.h.body_hash, TV_HASH_BYTES) != 0) {
            rc = TV_EHASH;
            goto done;
        }
    }
    hash_bytes(out.hash, header, header_len);
    out.body = body;
    out.body_len = body_len;
    *b = out;
    rc = TV_OK;
done:
    msgpack_unpacked_destroy(&u);
    return rc;
}

int crdt_batch_open(crdt_batch *b, const uint8_t *buf, size_t len)
{
    return batch_parse(b, buf, len, 1, NULL);
}

int crdt_batch_open_memo(crdt_batch *b, const uint8_t *buf, size_t len, crdt_sig_memo *m)
{
    return batch_parse(b, buf, len, 1, m);
}

int crdt_batch_peek(crdt_batch *b, const uint8_t *buf, size_t len)
{
    return batch_parse(b, buf, len, 0, NULL);
}

void crdt_batch_iter_init(crdt_batch_iter *it, const crdt_batch *b)
{
    memset(it, 0, sizeof *it);
    it->b = b;
    msgpack_unpacked_init(&it->scratch);
}

void crdt_batch_iter_release(crdt_batch_iter *it)
{
    msgpack_unpacked_destroy(&it->scratch);
}

/* Reads the body's array header; returns its size in bytes, or 0 if it is not an array
 * header of exactly `count` elements. */
static size_t body_array_header(const uint8_t *p, size_t len, uint32_t count)
{
    if (len < 1) return 0;
    uint64_t n;
    size_t used;
    if ((p[0] & 0xf0) == 0x90) {
        n = p[0] & 0x0f;
        used = 1;
    } else if (p[0] == 0xdc && len >= 3) {
        n = (uint64_t)p[1] << 8 | p[2];
        used = 3;
    } else if (p[0] == 0xdd && len >= 5) {
        n = (uint64_t)p[1] << 24 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 8 | p[4];
        used = 5;
    } else {
        return 0;
    }
    return n == count ? used : 0;
}

int crdt_batch_iter_next(crdt_batch_iter *it, crdt_event *ev)
{
    const crdt_batch *b = it->b;
    memset(ev, 0, sizeof *ev);
    if (it->index == 0 && it->pos == 0) {
        it->pos = body_array_header(b->body, b->body_len, b->h.count);
        if (it->pos == 0) return TV_EDECODE;
    }
    if (it->index == b->h.count) return it->pos == b->body_len ? 0 : TV_EDECODE;
    size_t size;
    if (crdt_mp_check(b->body + it->pos, b->body_len - it->pos, &size)) return TV_EDECODE;
    int rc = crdt_event_decode(ev, &it->scratch, b->body + it->pos, size);
    if (rc) return rc;
    int first = it->index == 0, last = it->index + 1 == b->h.count;
    /* a checkpoint's base opens its batch, and names the place the batch takes in the log */
    int base = ev->known && ev->type == CRDT_EV_CHECKPOINT && !ev->u.checkpoint.copy;
    if (base && (!first || ev->u.checkpoint.upto + 1 != b->h.first_seq ||
                 memcmp(ev->u.checkpoint.hash, b->h.prev_hash, TV_HASH_BYTES) != 0))
        rc = TV_EDECODE;
    /* a copy carries an event of the log before its batch */
    if (ev->known && ev->type == CRDT_EV_CHECKPOINT && ev->u.checkpoint.copy &&
        ev->u.checkpoint.seq >= b->h.first_seq)
        rc = TV_EDECODE;
    if (rc || (first && ev->hlc != b->h.hlc_min) || (!first && ev->hlc <= it->prev_hlc) ||
        (last && ev->hlc != b->h.hlc_max) || ev->hlc > b->h.hlc_max) {
        memset(ev, 0, sizeof *ev);
        return TV_EDECODE;
    }
    it->prev_hlc = ev->hlc;
    it->pos += size;
    it->index++;
    return 1;
}

int crdt_batch_check_events(const crdt_batch *b)
{
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, b);
    crdt_event ev;
    int rc;
    while ((rc = crdt_batch_iter_next(&it, &ev)) == 1) {
    }
    crdt_batch_iter_release(&it);
    return rc;
}
