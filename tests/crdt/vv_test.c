/* Tests for crdt/vv.c: advance, merge and delta semantics, and the msgpack form against
 * golden, truncated, tampered and hostile bytes. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "crdt/assert.h"
#include "crdt/error.h"
#include "crdt/vv.h"
#include "tests/fixture/rng.h"

/* Origin number k: big-endian k up front, so origins sort as their numbers do. */
static void origin_k(uint8_t o[TV_NODE_ID_BYTES], uint32_t k)
{
    memset(o, 0x5a, TV_NODE_ID_BYTES);
    o[0] = (uint8_t)(k >> 24);
    o[1] = (uint8_t)(k >> 16);
    o[2] = (uint8_t)(k >> 8);
    o[3] = (uint8_t)k;
}

/* A hash that depends on (origin, seq) only, as a real batch hash does: two vectors that
 * agree on a seq agree on its hash. */
static void hash_of(uint8_t h[TV_HASH_BYTES], const uint8_t o[TV_NODE_ID_BYTES], uint64_t seq)
{
    for (int i = 0; i < TV_HASH_BYTES; i++)
        h[i] = (uint8_t)(o[i] * 31u + (uint8_t)(seq >> (8 * (i % 8))) + (unsigned)i);
}

static void advance_k(crdt_vv *v, uint32_t k, uint64_t seq)
{
    uint8_t o[TV_NODE_ID_BYTES], h[TV_HASH_BYTES];
    origin_k(o, k);
    hash_of(h, o, seq);
    assert_int_equal(crdt_vv_advance(v, o, seq, h), 0);
}

/* Returns origin k's seq in v, 0 when absent. */
static uint64_t seq_k(const crdt_vv *v, uint32_t k)
{
    uint8_t o[TV_NODE_ID_BYTES];
    origin_k(o, k);
    const crdt_vv_entry *e = crdt_vv_get(v, o);
    return e ? e->seq : 0;
}

static void random_vv(crdt_vv *v, uint64_t *seed, size_t n, uint32_t origins)
{
    for (size_t i = 0; i < n; i++) {
        /* Drawn in separate statements: argument evaluation order is unspecified. */
        uint32_t k = (uint32_t)(fx_splitmix64(seed) % origins);
        uint64_t seq = 1 + fx_splitmix64(seed) % 1000;
        advance_k(v, k, seq);
    }
}

static void assert_valid(const crdt_vv *v)
{
    assert_true(v->len <= v->cap);
    assert_true(v->len <= CRDT_VV_ORIGINS_MAX);
    for (size_t i = 0; i < v->len; i++) {
        assert_true(v->entries[i].seq > 0);
        if (i > 0)
            assert_true(memcmp(v->entries[i - 1].origin, v->entries[i].origin, TV_NODE_ID_BYTES) <
                        0);
    }
}

static void assert_vv_equal(const crdt_vv *a, const crdt_vv *b)
{
    assert_int_equal(a->len, b->len);
    for (size_t i = 0; i < a->len; i++) {
        assert_memory_equal(a->entries[i].origin, b->entries[i].origin, TV_NODE_ID_BYTES);
        assert_int_equal(a->entries[i].seq, b->entries[i].seq);
        assert_memory_equal(a->entries[i].hash, b->entries[i].hash, TV_HASH_BYTES);
    }
}

static void assert_empty(const crdt_vv *v)
{
    assert_int_equal(v->len, 0);
    assert_null(v->entries);
}

static void copy_vv(crdt_vv *dst, const crdt_vv *src)
{
    crdt_vv_init(dst);
    assert_int_equal(crdt_vv_merge(dst, src), 0);
}

/* Decodes from an exact-size heap copy, so the sanitizer sees any read past len. */
static int decode_exact(crdt_vv *v, const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) memcpy(copy, buf, len);
    int rc = crdt_vv_decode(v, copy, len);
    free(copy);
    return rc;
}

/* Decoding must fail with code want and leave a previously filled vector empty. */
static void assert_decode_fails(const uint8_t *buf, size_t len, int want)
{
    crdt_vv v;
    crdt_vv_init(&v);
    advance_k(&v, 1, 1);
    assert_int_equal(decode_exact(&v, buf, len), want);
    assert_empty(&v);
}

/* A hand-written msgpack writer for the hostile cases, independent of msgpack-c. */
typedef struct bytes {
    uint8_t *b;
    size_t n, cap;
} bytes;

static void put(bytes *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2;
        w->b = realloc(w->b, w->cap);
        assert_non_null(w->b);
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}

static void put1(bytes *w, uint8_t c)
{
    put(w, &c, 1);
}

static void put_bin(bytes *w, uint8_t fill, size_t n)
{
    uint8_t data[64];
    assert_true(n <= sizeof(data));
    memset(data, fill, n);
    put1(w, 0xc4);
    put1(w, (uint8_t)n);
    put(w, data, n);
}

/* An entry [bin origin, uint seq, bin hash] with one-byte-pattern origin and hash. */
static void put_entry(bytes *w, uint8_t origin, uint8_t seq, uint8_t hash)
{
    put1(w, 0x93);
    put_bin(w, origin, TV_NODE_ID_BYTES);
    assert_true(seq < 0x80);
    put1(w, seq);
    put_bin(w, hash, TV_HASH_BYTES);
}

static void test_empty(void **state)
{
    (void)state;
    crdt_vv v;
    crdt_vv_init(&v);
    uint8_t o[TV_NODE_ID_BYTES];
    origin_k(o, 1);
    assert_null(crdt_vv_get(&v, o));

    uint8_t *enc;
    size_t len;
    assert_int_equal(crdt_vv_encode(&v, &enc, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(enc[0], 0x90);
    assert_int_equal(decode_exact(&v, enc, len), 0);
    assert_int_equal(v.len, 0);
    free(enc);
    crdt_vv_release(&v);
    crdt_vv_release(&v); /* releasing twice is harmless */
}

static void test_advance(void **state)
{
    (void)state;
    crdt_vv v;
    crdt_vv_init(&v);
    uint8_t o[TV_NODE_ID_BYTES], h1[TV_HASH_BYTES], h2[TV_HASH_BYTES];
    origin_k(o, 42);
    memset(h1, 0x11, sizeof(h1));
    memset(h2, 0x22, sizeof(h2));

    /* Seq 0 is what an absent origin already holds: nothing is stored. */
    assert_int_equal(crdt_vv_advance(&v, o, 0, h1), 0);
    assert_int_equal(v.len, 0);
    assert_null(crdt_vv_get(&v, o));

    assert_int_equal(crdt_vv_advance(&v, o, 5, h1), 0);
    const crdt_vv_entry *e = crdt_vv_get(&v, o);
    assert_non_null(e);
    assert_int_equal(e->seq, 5);
    assert_memory_equal(e->hash, h1, TV_HASH_BYTES);

    /* Equal and lower seqs change nothing, not even the hash. */
    assert_int_equal(crdt_vv_advance(&v, o, 5, h2), 0);
    assert_int_equal(crdt_vv_advance(&v, o, 3, h2), 0);
    assert_int_equal(crdt_vv_advance(&v, o, 0, h2), 0);
    e = crdt_vv_get(&v, o);
    assert_int_equal(e->seq, 5);
    assert_memory_equal(e->hash, h1, TV_HASH_BYTES);

    assert_int_equal(crdt_vv_advance(&v, o, 6, h2), 0);
    e = crdt_vv_get(&v, o);
    assert_int_equal(e->seq, 6);
    assert_memory_equal(e->hash, h2, TV_HASH_BYTES);
    assert_int_equal(crdt_vv_advance(&v, o, UINT64_MAX, h1), 0);
    assert_int_equal(crdt_vv_get(&v, o)->seq, UINT64_MAX);
    assert_int_equal(v.len, 1);

    /* Neighbours on both sides of the one entry. */
    advance_k(&v, 41, 1);
    advance_k(&v, 43, 1);
    advance_k(&v, 0, 9);
    assert_int_equal(v.len, 4);
    assert_valid(&v);
    assert_int_equal(seq_k(&v, 0), 9);
    assert_int_equal(seq_k(&v, 41), 1);
    assert_int_equal(seq_k(&v, 42), UINT64_MAX);
    assert_int_equal(seq_k(&v, 43), 1);
    assert_int_equal(seq_k(&v, 44), 0);
    crdt_vv_release(&v);
    assert_empty(&v);
}

/* Random origins in random order, checked against a plain table after every step. */
static void test_advance_random_against_model(void **state)
{
    (void)state;
    enum { ORIGINS = 300 };
    static uint64_t model[ORIGINS];
    memset(model, 0, sizeof(model));
    crdt_vv v;
    crdt_vv_init(&v);
    uint64_t seed = 99;
    for (int step = 0; step < 5000; step++) {
        uint32_t k = (uint32_t)(fx_splitmix64(&seed) % ORIGINS);
        uint64_t seq = fx_splitmix64(&seed) % 100;
        advance_k(&v, k, seq);
        if (seq > model[k]) model[k] = seq;
        if (step % 97 == 0) {
            assert_valid(&v);
            size_t present = 0;
            for (uint32_t i = 0; i < ORIGINS; i++) {
                assert_int_equal(seq_k(&v, i), model[i]);
                present += model[i] > 0;
            }
            assert_int_equal(v.len, present);
        }
    }
    /* The stored hash is the one given with the winning seq. */
    for (size_t i = 0; i < v.len; i++) {
        uint8_t h[TV_HASH_BYTES];
        hash_of(h, v.entries[i].origin, v.entries[i].seq);
        assert_memory_equal(v.entries[i].hash, h, TV_HASH_BYTES);
    }
    crdt_vv_release(&v);
}

/* Advancing by a batch of entries in any order (repeated origins, zero seqs, lower seqs)
 * gives the same vector as advancing by each in turn; past the limit it fails and leaves
 * the vector as it was. */
static void test_advance_all(void **state)
{
    (void)state;
    enum { ORIGINS = 500, ROUNDS = 40, PER = 300 };
    crdt_vv one, all;
    crdt_vv_init(&one);
    crdt_vv_init(&all);
    static crdt_vv_entry batch[PER];
    uint64_t seed = 7;
    for (int r = 0; r < ROUNDS; r++) {
        size_t n = (size_t)(fx_splitmix64(&seed) % PER);
        for (size_t i = 0; i < n; i++) {
            uint32_t k = (uint32_t)(fx_splitmix64(&seed) % ORIGINS);
            uint64_t seq = fx_splitmix64(&seed) % 50;
            origin_k(batch[i].origin, k);
            batch[i].seq = seq;
            hash_of(batch[i].hash, batch[i].origin, seq);
            assert_int_equal(crdt_vv_advance(&one, batch[i].origin, seq, batch[i].hash), 0);
        }
        assert_int_equal(crdt_vv_advance_all(&all, batch, n), 0);
        assert_valid(&all);
        assert_int_equal(all.len, one.len);
        assert_memory_equal(all.entries, one.entries, one.len * sizeof(crdt_vv_entry));
    }
    assert_int_equal(crdt_vv_advance_all(&all, NULL, 0), 0);
    crdt_vv_release(&one);
    crdt_vv_release(&all);

    /* one new origin too many: refused whole */
    crdt_vv full;
    crdt_vv_init(&full);
    static crdt_vv_entry many[CRDT_VV_ORIGINS_MAX];
    for (uint32_t k = 0; k < CRDT_VV_ORIGINS_MAX; k++) {
        origin_k(many[k].origin, CRDT_VV_ORIGINS_MAX - k); /* descending: the worst order */
        many[k].seq = 1;
        hash_of(many[k].hash, many[k].origin, 1);
    }
    assert_int_equal(crdt_vv_advance_all(&full, many, CRDT_VV_ORIGINS_MAX), 0);
    assert_int_equal(full.len, CRDT_VV_ORIGINS_MAX);
    assert_valid(&full);
    crdt_vv_entry extra[2];
    origin_k(extra[0].origin, 1);
    extra[0].seq = 9;
    origin_k(extra[1].origin, 0);
    extra[1].seq = 1;
    assert_int_equal(crdt_vv_advance_all(&full, extra, 2), TV_ELIMIT);
    assert_int_equal(full.len, CRDT_VV_ORIGINS_MAX);
    assert_int_equal(seq_k(&full, 1), 1);
    crdt_vv_release(&full);
}

static void fill_full(crdt_vv *v)
{
    crdt_vv_init(v);
    /* Ascending origins append at the end, which keeps this fast. */
    for (uint32_t k = 0; k < CRDT_VV_ORIGINS_MAX; k++)
        advance_k(v, 2 * k, 1 + k);
    assert_int_equal(v->len, CRDT_VV_ORIGINS_MAX);
}

static void test_origins_limit(void **state)
{
    (void)state;
    crdt_vv v;
    fill_full(&v);
    uint8_t o[TV_NODE_ID_BYTES], h[TV_HASH_BYTES];
    memset(h, 0x33, sizeof(h));

    origin_k(o, 1); /* new, and would go near the front */
    assert_int_equal(crdt_vv_advance(&v, o, 1, h), TV_ELIMIT);
    assert_int_equal(v.len, CRDT_VV_ORIGINS_MAX);
    assert_null(crdt_vv_get(&v, o));
    assert_int_equal(seq_k(&v, 0), 1);
    assert_int_equal(seq_k(&v, 2), 2);
    /* A zero seq for a new origin is a no-op, not a limit error. */
    assert_int_equal(crdt_vv_advance(&v, o, 0, h), 0);
    /* Origins already held still advance. */
    origin_k(o, 2);
    assert_int_equal(crdt_vv_advance(&v, o, 1000000, h), 0);
    assert_int_equal(seq_k(&v, 2), 1000000);
    assert_valid(&v);
    crdt_vv_release(&v);
}

static void test_merge(void **state)
{
    (void)state;
    crdt_vv a, b;
    crdt_vv_init(&a);
    crdt_vv_init(&b);
    advance_k(&a, 1, 3);
    advance_k(&a, 2, 5);
    advance_k(&a, 9, 4);
    advance_k(&b, 2, 7);
    advance_k(&b, 3, 1);
    advance_k(&b, 1, 2);
    advance_k(&b, 0, 8);

    assert_int_equal(crdt_vv_merge(&a, &b), 0);
    assert_valid(&a);
    assert_int_equal(a.len, 5);
    assert_int_equal(seq_k(&a, 0), 8);
    assert_int_equal(seq_k(&a, 1), 3);
    assert_int_equal(seq_k(&a, 2), 7);
    assert_int_equal(seq_k(&a, 3), 1);
    assert_int_equal(seq_k(&a, 9), 4);
    /* Hashes travel with the winning seq. */
    for (size_t i = 0; i < a.len; i++) {
        uint8_t h[TV_HASH_BYTES];
        hash_of(h, a.entries[i].origin, a.entries[i].seq);
        assert_memory_equal(a.entries[i].hash, h, TV_HASH_BYTES);
    }
    /* src is untouched. */
    assert_int_equal(b.len, 4);
    assert_int_equal(seq_k(&b, 1), 2);

    /* Merging into an empty vector copies; merging an empty one changes nothing. */
    crdt_vv c, empty;
    crdt_vv_init(&empty);
    copy_vv(&c, &a);
    assert_vv_equal(&c, &a);
    assert_int_equal(crdt_vv_merge(&c, &empty), 0);
    assert_vv_equal(&c, &a);
    /* With itself. */
    assert_int_equal(crdt_vv_merge(&c, &c), 0);
    assert_vv_equal(&c, &a);

    crdt_vv_release(&a);
    crdt_vv_release(&b);
    crdt_vv_release(&c);
}

/* Commutative, associative, idempotent, and an upper bound of both inputs. */
static void test_merge_laws(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        crdt_vv x, y, z;
        crdt_vv_init(&x);
        crdt_vv_init(&y);
        crdt_vv_init(&z);
        uint32_t origins = 1 + (uint32_t)(fx_splitmix64(&seed) % 64);
        random_vv(&x, &seed, fx_splitmix64(&seed) % 40, origins);
        random_vv(&y, &seed, fx_splitmix64(&seed) % 40, origins);
        random_vv(&z, &seed, fx_splitmix64(&seed) % 40, origins);

        crdt_vv xy, yx, xy_z, yz, x_yz, xx;
        copy_vv(&xy, &x);
        assert_int_equal(crdt_vv_merge(&xy, &y), 0);
        copy_vv(&yx, &y);
        assert_int_equal(crdt_vv_merge(&yx, &x), 0);
        assert_vv_equal(&xy, &yx);

        copy_vv(&xy_z, &xy);
        assert_int_equal(crdt_vv_merge(&xy_z, &z), 0);
        copy_vv(&yz, &y);
        assert_int_equal(crdt_vv_merge(&yz, &z), 0);
        copy_vv(&x_yz, &x);
        assert_int_equal(crdt_vv_merge(&x_yz, &yz), 0);
        assert_vv_equal(&xy_z, &x_yz);

        copy_vv(&xx, &x);
        assert_int_equal(crdt_vv_merge(&xx, &x), 0);
        assert_vv_equal(&xx, &x);

        assert_valid(&xy);
        for (uint32_t k = 0; k < origins; k++) {
            uint64_t want = seq_k(&x, k) > seq_k(&y, k) ? seq_k(&x, k) : seq_k(&y, k);
            assert_int_equal(seq_k(&xy, k), want);
        }

        crdt_vv *all[] = {&x, &y, &z, &xy, &yx, &xy_z, &yz, &x_yz, &xx};
        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
            crdt_vv_release(all[i]);
    }
}

static void test_merge_limit(void **state)
{
    (void)state;
    crdt_vv full, src, before;
    fill_full(&full);
    copy_vv(&before, &full);
    crdt_vv_init(&src);
    advance_k(&src, 0, 99999); /* held already */
    advance_k(&src, 7, 1);     /* new: one too many */

    assert_int_equal(crdt_vv_merge(&full, &src), TV_ELIMIT);
    assert_vv_equal(&full, &before); /* all or nothing */

    /* Without the new origin the merge fits. */
    crdt_vv_release(&src);
    advance_k(&src, 0, 99999);
    advance_k(&src, 2 * (CRDT_VV_ORIGINS_MAX - 1), 1);
    assert_int_equal(crdt_vv_merge(&full, &src), 0);
    assert_int_equal(full.len, CRDT_VV_ORIGINS_MAX);
    assert_int_equal(seq_k(&full, 0), 99999);
    assert_int_equal(seq_k(&full, 2 * (CRDT_VV_ORIGINS_MAX - 1)), CRDT_VV_ORIGINS_MAX);

    crdt_vv_release(&full);
    crdt_vv_release(&src);
    crdt_vv_release(&before);
}

static void test_delta(void **state)
{
    (void)state;
    crdt_vv cur, base, out;
    crdt_vv_init(&cur);
    crdt_vv_init(&base);
    crdt_vv_init(&out);
    advance_k(&cur, 1, 3);
    advance_k(&cur, 2, 5);
    advance_k(&cur, 3, 2);
    advance_k(&cur, 6, 1);
    advance_k(&base, 1, 3); /* same: not sent */
    advance_k(&base, 2, 4); /* behind: sent */
    advance_k(&base, 4, 9); /* only in base: not sent */
    advance_k(&base, 6, 8); /* ahead of cur: not sent */
    advance_k(&out, 77, 7); /* stale content is dropped */

    assert_int_equal(crdt_vv_delta(&out, &cur, &base), 0);
    assert_valid(&out);
    assert_int_equal(out.len, 2);
    assert_int_equal(seq_k(&out, 2), 5);
    assert_int_equal(seq_k(&out, 3), 2);
    assert_int_equal(seq_k(&out, 77), 0);
    uint8_t h[TV_HASH_BYTES];
    hash_of(h, out.entries[0].origin, 5);
    assert_memory_equal(out.entries[0].hash, h, TV_HASH_BYTES);

    /* Against itself nothing changed; against nothing, everything did. */
    assert_int_equal(crdt_vv_delta(&out, &cur, &cur), 0);
    assert_int_equal(out.len, 0);
    crdt_vv empty;
    crdt_vv_init(&empty);
    assert_int_equal(crdt_vv_delta(&out, &cur, &empty), 0);
    assert_vv_equal(&out, &cur);
    assert_int_equal(crdt_vv_delta(&out, &empty, &cur), 0);
    assert_int_equal(out.len, 0);

    crdt_vv_release(&cur);
    crdt_vv_release(&base);
    crdt_vv_release(&out);
}

/* A peer that held base and merges the delta reaches cur everywhere cur is ahead. */
static void test_delta_laws(void **state)
{
    (void)state;
    uint64_t seed = 777;
    for (int round = 0; round < 200; round++) {
        crdt_vv cur, base, d, healed;
        crdt_vv_init(&cur);
        crdt_vv_init(&base);
        crdt_vv_init(&d);
        uint32_t origins = 1 + (uint32_t)(fx_splitmix64(&seed) % 50);
        random_vv(&cur, &seed, fx_splitmix64(&seed) % 60, origins);
        random_vv(&base, &seed, fx_splitmix64(&seed) % 60, origins);

        assert_int_equal(crdt_vv_delta(&d, &cur, &base), 0);
        assert_valid(&d);
        copy_vv(&healed, &base);
        assert_int_equal(crdt_vv_merge(&healed, &d), 0);
        for (uint32_t k = 0; k < origins; k++) {
            uint64_t c = seq_k(&cur, k), b = seq_k(&base, k);
            /* Exactly the origins where cur is ahead, at cur's seq. */
            assert_int_equal(seq_k(&d, k), c > b ? c : 0);
            assert_int_equal(seq_k(&healed, k), c > b ? c : b);
        }
        crdt_vv_release(&cur);
        crdt_vv_release(&base);
        crdt_vv_release(&d);
        crdt_vv_release(&healed);
    }
}

static void test_encode_golden(void **state)
{
    (void)state;
    crdt_vv v;
    crdt_vv_init(&v);
    uint8_t o1[TV_NODE_ID_BYTES], o2[TV_NODE_ID_BYTES], h1[TV_HASH_BYTES], h2[TV_HASH_BYTES];
    memset(o1, 0x11, sizeof(o1));
    memset(o2, 0x22, sizeof(o2));
    memset(h1, 0xaa, sizeof(h1));
    memset(h2, 0xbb, sizeof(h2));
    /* Inserted out of order: the encoding is sorted. */
    assert_int_equal(crdt_vv_advance(&v, o2, UINT64_C(0x100000000), h2), 0);
    assert_int_equal(crdt_vv_advance(&v, o1, 5, h1), 0);

    uint8_t want[1 + 70 + 78]; /* header, entry with fixint seq, entry with uint64 seq */
    size_t n = 0;
    want[n++] = 0x92;
    want[n++] = 0x93;
    want[n++] = 0xc4;
    want[n++] = 0x20;
    memset(want + n, 0x11, 32);
    n += 32;
    want[n++] = 0x05;
    want[n++] = 0xc4;
    want[n++] = 0x20;
    memset(want + n, 0xaa, 32);
    n += 32;
    want[n++] = 0x93;
    want[n++] = 0xc4;
    want[n++] = 0x20;
    memset(want + n, 0x22, 32);
    n += 32;
    const uint8_t seq2[] = {0xcf, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
    memcpy(want + n, seq2, sizeof(seq2));
    n += sizeof(seq2);
    want[n++] = 0xc4;
    want[n++] = 0x20;
    memset(want + n, 0xbb, 32);
    n += 32;
    assert_int_equal(n, sizeof(want));

    uint8_t *enc;
    size_t len;
    assert_int_equal(crdt_vv_encode(&v, &enc, &len), 0);
    assert_int_equal(len, n);
    assert_memory_equal(enc, want, n);

    crdt_vv back;
    crdt_vv_init(&back);
    assert_int_equal(decode_exact(&back, want, n), 0);
    assert_vv_equal(&back, &v);

    free(enc);
    crdt_vv_release(&v);
    crdt_vv_release(&back);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint64_t seed = 4242;
    const size_t sizes[] = {0, 1, 2, 3, 17, 300, 2000};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        crdt_vv v, back;
        crdt_vv_init(&v);
        crdt_vv_init(&back);
        /* Full-width random origins and seqs of every encoded width. */
        while (v.len < sizes[s]) {
            uint8_t o[TV_NODE_ID_BYTES], h[TV_HASH_BYTES];
            for (int i = 0; i < TV_NODE_ID_BYTES; i += 8) {
                uint64_t r = fx_splitmix64(&seed);
                memcpy(o + i, &r, 8);
            }
            uint64_t seq = fx_splitmix64(&seed);
            seq >>= fx_splitmix64(&seed) % 64;
            hash_of(h, o, seq);
            assert_int_equal(crdt_vv_advance(&v, o, seq ? seq : 1, h), 0);
        }
        uint8_t *enc;
        size_t len;
        assert_int_equal(crdt_vv_encode(&v, &enc, &len), 0);
        assert_int_equal(decode_exact(&back, enc, len), 0);
        assert_vv_equal(&back, &v);

        /* Decoding into a vector that already holds entries replaces them. */
        advance_k(&back, 0xfffffff0u, 3);
        assert_int_equal(decode_exact(&back, enc, len), 0);
        assert_vv_equal(&back, &v);

        free(enc);
        crdt_vv_release(&v);
        crdt_vv_release(&back);
    }
}

static void test_full_vector_round_trip(void **state)
{
    (void)state;
    crdt_vv v, back;
    fill_full(&v);
    crdt_vv_init(&back);
    uint8_t *enc;
    size_t len;
    assert_int_equal(crdt_vv_encode(&v, &enc, &len), 0);
    assert_int_equal(decode_exact(&back, enc, len), 0);
    assert_vv_equal(&back, &v);
    free(enc);
    crdt_vv_release(&v);
    crdt_vv_release(&back);
}

static void test_decode_every_truncation(void **state)
{
    (void)state;
    uint64_t seed = 31337;
    crdt_vv v;
    crdt_vv_init(&v);
    random_vv(&v, &seed, 20, 1000);
    advance_k(&v, 5000, UINT64_MAX); /* a nine-byte seq in the mix */
    uint8_t *enc;
    size_t len;
    assert_int_equal(crdt_vv_encode(&v, &enc, &len), 0);
    for (size_t cut = 0; cut < len; cut++)
        assert_decode_fails(enc, cut, TV_EDECODE);
    assert_decode_fails(NULL, 0, TV_EDECODE);
    free(enc);
    crdt_vv_release(&v);
}

static void test_decode_trailing_bytes(void **state)
{
    (void)state;
    bytes w = {0};
    put1(&w, 0x91);
    put_entry(&w, 0x11, 5, 0xaa);
    size_t one = w.n;
    crdt_vv v;
    crdt_vv_init(&v);
    assert_int_equal(decode_exact(&v, w.b, w.n), 0);
    assert_int_equal(v.len, 1);
    crdt_vv_release(&v);

    put1(&w, 0x00);
    assert_decode_fails(w.b, w.n, TV_EDECODE);
    /* Two whole vectors back to back. */
    uint8_t *copy = malloc(one);
    assert_non_null(copy);
    memcpy(copy, w.b, one);
    w.n = one;
    put(&w, copy, one);
    free(copy);
    assert_decode_fails(w.b, w.n, TV_EDECODE);
    free(w.b);
}

static void test_decode_order(void **state)
{
    (void)state;
    bytes w = {0};
    put1(&w, 0x92);
    put_entry(&w, 0x11, 5, 0xaa);
    put_entry(&w, 0x22, 6, 0xbb);
    crdt_vv v;
    crdt_vv_init(&v);
    assert_int_equal(decode_exact(&v, w.b, w.n), 0);
    crdt_vv_release(&v);

    w.n = 0; /* unsorted */
    put1(&w, 0x92);
    put_entry(&w, 0x22, 6, 0xbb);
    put_entry(&w, 0x11, 5, 0xaa);
    assert_decode_fails(w.b, w.n, TV_EDECODE);

    w.n = 0; /* the same origin twice */
    put1(&w, 0x92);
    put_entry(&w, 0x11, 5, 0xaa);
    put_entry(&w, 0x11, 6, 0xbb);
    assert_decode_fails(w.b, w.n, TV_EDECODE);

    /* Sorted at the front, out of order in the last byte of the third origin. */
    w.n = 0;
    put1(&w, 0x93);
    put_entry(&w, 0x11, 1, 0xaa);
    put_entry(&w, 0x22, 1, 0xaa);
    size_t third = w.n;
    put_entry(&w, 0x22, 1, 0xaa);
    w.b[third + 3 + 31] = 0x21;
    assert_decode_fails(w.b, w.n, TV_EDECODE);
    w.b[third + 3 + 31] = 0x23;
    assert_int_equal(decode_exact(&v, w.b, w.n), 0);
    assert_int_equal(v.len, 3);
    crdt_vv_release(&v);
    free(w.b);
}

static void test_decode_malformed_entries(void **state)
{
    (void)state;
    bytes w = {0};

    w.n = 0; /* seq 0 */
    put1(&w, 0x91);
    put_entry(&w, 0x11, 0, 0xaa);
    assert_decode_fails(w.b, w.n, TV_EDECODE);

    const size_t bad_sizes[] = {0, 1, 31, 33, 64};
    for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
        w.n = 0; /* origin of the wrong size */
        put1(&w, 0x91);
        put1(&w, 0x93);
        put_bin(&w, 0x11, bad_sizes[i]);
        put1(&w, 0x05);
        put_bin(&w, 0xaa, TV_HASH_BYTES);
        assert_decode_fails(w.b, w.n, TV_EDECODE);

        w.n = 0; /* hash of the wrong size */
        put1(&w, 0x91);
        put1(&w, 0x93);
        put_bin(&w, 0x11, TV_NODE_ID_BYTES);
        put1(&w, 0x05);
        put_bin(&w, 0xaa, bad_sizes[i]);
        assert_decode_fails(w.b, w.n, TV_EDECODE);
    }

    /* Origin as a 32-byte str instead of bin. */
    w.n = 0;
    put1(&w, 0x91);
    put1(&w, 0x93);
    put1(&w, 0xd9);
    put1(&w, 0x20);
    for (int i = 0; i < 32; i++)
        put1(&w, 'a');
    put1(&w, 0x05);
    put_bin(&w, 0xaa, TV_HASH_BYTES);
    assert_decode_fails(w.b, w.n, TV_EDECODE);

    /* Seqs that are not unsigned integers: -1, -2^63, nil, true, 1.0, a bin. */
    const uint8_t bad_seqs[][10] = {
        {1, 0xff}, {9, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0},    {1, 0xc0},
        {1, 0xc3}, {9, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}, {3, 0xc4, 0x01, 0x05},
    };
    for (size_t i = 0; i < sizeof(bad_seqs) / sizeof(bad_seqs[0]); i++) {
        w.n = 0;
        put1(&w, 0x91);
        put1(&w, 0x93);
        put_bin(&w, 0x11, TV_NODE_ID_BYTES);
        put(&w, bad_seqs[i] + 1, bad_seqs[i][0]);
        put_bin(&w, 0xaa, TV_HASH_BYTES);
        assert_decode_fails(w.b, w.n, TV_EDECODE);
    }

    /* Entries with two and four fields. */
    w.n = 0;
    put1(&w, 0x91);
    put1(&w, 0x92);
    put_bin(&w, 0x11, TV_NODE_ID_BYTES);
    put1(&w, 0x05);
    assert_decode_fails(w.b, w.n, TV_EDECODE);
    w.n = 0;
    put1(&w, 0x91);
    put1(&w, 0x94);
    put_bin(&w, 0x11, TV_NODE_ID_BYTES);
    put1(&w, 0x05);
    put_bin(&w, 0xaa, TV_HASH_BYTES);
    put1(&w, 0xc0);
    assert_decode_fails(w.b, w.n, TV_EDECODE);

    /* An entry that is a map with the right three values. */
    w.n = 0;
    put1(&w, 0x91);
    put1(&w, 0x83);
    put1(&w, 0x00);
    put_bin(&w, 0x11, TV_NODE_ID_BYTES);
    put1(&w, 0x01);
    put1(&w, 0x05);
    put1(&w, 0x02);
    put_bin(&w, 0xaa, TV_HASH_BYTES);
    assert_decode_fails(w.b, w.n, TV_EDECODE);

    /* An entry that is not a container at all. */
    const uint8_t scalar_entry[] = {0x91, 0x05};
    assert_decode_fails(scalar_entry, sizeof(scalar_entry), TV_EDECODE);
    free(w.b);
}

static void test_decode_hostile_headers(void **state)
{
    (void)state;
    /* An array claiming 2^32-1 entries must fail on the header, before any allocation
     * sized by the claim. */
    const uint8_t huge[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    assert_decode_fails(huge, sizeof(huge), TV_EDECODE);
    const uint8_t huge16[] = {0xdc, 0xff, 0xff};
    assert_decode_fails(huge16, sizeof(huge16), TV_EDECODE);
    const uint8_t other_huge[] = {0xdd, 0xcd, 0xdd, 0xcd, 0x24};
    assert_decode_fails(other_huge, sizeof(other_huge), TV_EDECODE);

    /* The same claim followed by real entries: still far more than the bytes hold. */
    bytes w = {0};
    put(&w, huge, sizeof(huge));
    for (uint8_t i = 1; i <= 50; i++)
        put_entry(&w, i, 1, 0xaa);
    assert_decode_fails(w.b, w.n, TV_EDECODE);

    /* An entry claiming a 4 GiB origin. */
    w.n = 0;
    put1(&w, 0x91);
    put1(&w, 0x93);
    const uint8_t bin32[] = {0xc6, 0xff, 0xff, 0xff, 0xff};
    put(&w, bin32, sizeof(bin32));
    for (int i = 0; i < 40; i++)
        put1(&w, 0);
    assert_decode_fails(w.b, w.n, TV_EDECODE);

    /* Roots of the wrong shape. */
    const uint8_t nil[] = {0xc0};
    const uint8_t map[] = {0x80};
    const uint8_t fixint[] = {0x01};
    const uint8_t reserved[] = {0xc1};
    const uint8_t bin0[] = {0xc4, 0x00};
    assert_decode_fails(nil, sizeof(nil), TV_EDECODE);
    assert_decode_fails(map, sizeof(map), TV_EDECODE);
    assert_decode_fails(fixint, sizeof(fixint), TV_EDECODE);
    assert_decode_fails(reserved, sizeof(reserved), TV_EDECODE);
    assert_decode_fails(bin0, sizeof(bin0), TV_EDECODE);

    /* Nesting far deeper than any vector needs. */
    uint8_t deep[200];
    memset(deep, 0x91, sizeof(deep));
    deep[sizeof(deep) - 1] = 0x90;
    assert_decode_fails(deep, sizeof(deep), TV_EDECODE);
    free(w.b);
}

static void test_decode_too_many_origins(void **state)
{
    (void)state;
    /* One entry more than the limit, otherwise well formed and sorted. */
    uint32_t n = CRDT_VV_ORIGINS_MAX + 1;
    bytes w = {0};
    put1(&w, 0xdd);
    put1(&w, (uint8_t)(n >> 24));
    put1(&w, (uint8_t)(n >> 16));
    put1(&w, (uint8_t)(n >> 8));
    put1(&w, (uint8_t)n);
    for (uint32_t k = 0; k < n; k++) {
        uint8_t o[TV_NODE_ID_BYTES];
        origin_k(o, k);
        put1(&w, 0x93);
        put1(&w, 0xc4);
        put1(&w, TV_NODE_ID_BYTES);
        put(&w, o, sizeof(o));
        put1(&w, 0x01);
        put_bin(&w, 0xaa, TV_HASH_BYTES);
    }
    assert_decode_fails(w.b, w.n, TV_ELIMIT);
    free(w.b);
}

/* Random damage to a valid encoding: every outcome is either an error with the vector
 * left empty, or a vector that keeps every invariant. The sanitizers watch the reads. */
static void test_decode_random_damage(void **state)
{
    (void)state;
    uint64_t seed = 2718281828;
    crdt_vv v;
    crdt_vv_init(&v);
    random_vv(&v, &seed, 12, 40);
    uint8_t *enc;
    size_t len;
    assert_int_equal(crdt_vv_encode(&v, &enc, &len), 0);
    uint8_t *buf = malloc(len + 8);
    assert_non_null(buf);

    int accepted = 0;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, enc, len);
        size_t n = len;
        int flips = 1 + (int)(fx_splitmix64(&seed) % 3);
        for (int f = 0; f < flips; f++) {
            uint64_t r = fx_splitmix64(&seed);
            /* Favour the headers, where damage is most interesting. */
            size_t at = (r & 1) ? (size_t)(r >> 8) % 8 : (size_t)(r >> 8) % len;
            if (r & 2)
                buf[at] = (uint8_t)(r >> 40);
            else
                buf[at] ^= (uint8_t)(1u << ((r >> 4) % 8));
        }
        if (fx_splitmix64(&seed) % 4 == 0) n = (size_t)(fx_splitmix64(&seed) % (len + 8));
        crdt_vv out;
        crdt_vv_init(&out);
        advance_k(&out, 1, 1);
        int rc = decode_exact(&out, buf, n);
        if (rc) {
            assert_true(rc == TV_EDECODE || rc == TV_ELIMIT);
            assert_empty(&out);
        } else {
            assert_valid(&out);
            accepted++;
        }
        crdt_vv_release(&out);
    }
    /* Damage inside origins and hashes often stays well formed; the run must have seen
     * both outcomes to mean anything. */
    assert_true(accepted > 0 && accepted < 20000);
    free(buf);
    free(enc);
    crdt_vv_release(&v);
}

/* The digest as PROTOCOL.md §6 defines it, entry by entry: BLAKE2b-128 keyed with
 * "truyvet/vv/v1" over origin (32), seq (8, big-endian), hash (32) of each entry. Peers
 * compare digests, so a change of the implementation must not change a single bit. */
static void digest_reference(const crdt_vv *v, uint8_t out[CRDT_VV_DIGEST_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, (const uint8_t *)"truyvet/vv/v1", 13, CRDT_VV_DIGEST_BYTES);
    for (size_t i = 0; i < v->len; i++) {
        uint8_t seq[8];
        for (int k = 0; k < 8; k++)
            seq[k] = (uint8_t)(v->entries[i].seq >> (56 - 8 * k));
        crypto_generichash_update(&st, v->entries[i].origin, TV_NODE_ID_BYTES);
        crypto_generichash_update(&st, seq, sizeof seq);
        crypto_generichash_update(&st, v->entries[i].hash, TV_HASH_BYTES);
    }
    crypto_generichash_final(&st, out, CRDT_VV_DIGEST_BYTES);
}

static void test_digest(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    /* the empty vector, pinned: it is the base every full vector is sent against */
    crdt_vv v;
    crdt_vv_init(&v);
    uint8_t d[CRDT_VV_DIGEST_BYTES], ref[CRDT_VV_DIGEST_BYTES], prev[CRDT_VV_DIGEST_BYTES];
    crdt_vv_digest(&v, d);
    digest_reference(&v, ref);
    assert_memory_equal(d, ref, sizeof d);
    /* every size up to past three blocks of entries, each adding one entry */
    uint64_t seed = 7;
    for (uint32_t n = 1; n <= 200; n++) {
        uint8_t o[TV_NODE_ID_BYTES], h[TV_HASH_BYTES];
        origin_k(o, n * 7919u % 65521u); /* distinct, in no particular order */
        uint64_t seq = 1 + fx_splitmix64(&seed) % 1000000;
        hash_of(h, o, seq);
        memcpy(prev, d, sizeof d);
        assert_int_equal(crdt_vv_advance(&v, o, seq, h), 0);
        crdt_vv_digest(&v, d);
        digest_reference(&v, ref);
        assert_memory_equal(d, ref, sizeof d);
        assert_memory_not_equal(d, prev, sizeof d);
    }
    crdt_vv_release(&v);
}

/* Assertions are on in this build (TV_ASSERTIONS, crdt/assert.h): a vector whose origins
 * are out of order, handed to the encoder, aborts with the failed condition and where it
 * is, instead of being written. The breaking happens in a child process. */
static void test_assertion_fires(void **state)
{
    (void)state;
    assert_int_equal(TV_ASSERT_ON, 1);
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDERR_FILENO);
        signal(SIGABRT, SIG_DFL);
        crdt_vv_entry e[2];
        memset(e, 0, sizeof e);
        origin_k(e[0].origin, 2); /* 2 before 1: out of order, which no vector may be */
        origin_k(e[1].origin, 1);
        e[0].seq = e[1].seq = 1;
        crdt_vv v = {e, 2, 2};
        uint8_t *out = NULL;
        size_t n = 0;
        crdt_vv_encode(&v, &out, &n);
        _exit(0); /* not reached when the assertion fires */
    }
    close(fd[1]);
    char buf[1024];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)r;
    buf[got] = 0;
    close(fd[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
    assert_non_null(strstr(buf, "crdt/vv.c:"));
    assert_non_null(strstr(buf, ": crdt_vv_encode: assertion failed: vv_valid(v)\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_advance),
        cmocka_unit_test(test_advance_random_against_model),
        cmocka_unit_test(test_origins_limit),
        cmocka_unit_test(test_advance_all),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_merge_laws),
        cmocka_unit_test(test_merge_limit),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_delta_laws),
        cmocka_unit_test(test_encode_golden),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_full_vector_round_trip),
        cmocka_unit_test(test_decode_every_truncation),
        cmocka_unit_test(test_decode_trailing_bytes),
        cmocka_unit_test(test_decode_order),
        cmocka_unit_test(test_decode_malformed_entries),
        cmocka_unit_test(test_decode_hostile_headers),
        cmocka_unit_test(test_decode_too_many_origins),
        cmocka_unit_test(test_decode_random_damage),
        cmocka_unit_test(test_digest),
        cmocka_unit_test(test_assertion_fires),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
