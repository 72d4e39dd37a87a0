/* Tests of bundle files: the format round trip, and what the reader makes of damage. */
#include "crdt/error.h"
#include "node/format/bundle.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/node.h"
#include "test_util.h"

#include <fcntl.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <unistd.h>

#define RECS_MAX 64

/* Static: the reader is large, and living outside the heap shows it needs no allocation. */
static tv_bundle_reader reader;

typedef struct bundle_bytes {
    uint8_t *p;
    size_t n;
    size_t offs[RECS_MAX + 1]; /* offs[i]: start of record i+1; offs[count]: the end record */
    size_t count;
} bundle_bytes;

/* Random payloads of the given lengths; every third one holds a stray marker, so that a
 * reader scanning through it after damage meets markers that start no intact header. */
static uint8_t **make_payloads(const size_t *lens, size_t n, uint64_t seed)
{
    fx_rng rng = {seed};
    uint8_t **p = calloc(n, sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) {
        p[i] = malloc(lens[i]);
        assert_non_null(p[i]);
        fx_rng_bytes(&rng, p[i], lens[i]);
        if (i % 3 == 2 && lens[i] > TV_BUNDLE_MARKER_BYTES + 4)
            memcpy(p[i] + 2, TV_BUNDLE_MARKER, TV_BUNDLE_MARKER_BYTES);
    }
    return p;
}

static void free_payloads(uint8_t **p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(p[i]);
    free(p);
}

static uint8_t *file_bytes(FILE *fp, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    rewind(fp);
    assert_int_equal(fread(p, 1, n, fp), n);
    return p;
}

static bundle_bytes make_bundle(uint8_t *const *payloads, const size_t *lens, size_t n)
{
    assert_true(n <= RECS_MAX);
    bundle_bytes b = {.count = n};
    FILE *fp = tmpfile();
    assert_non_null(fp);
    tv_bundle_writer w;
    assert_int_equal(tv_bundle_write_begin(&w, fp), 0);
    for (size_t i = 0; i < n; i++) {
        b.offs[i] = (size_t)w.bytes;
        assert_int_equal(tv_bundle_write_batch(&w, payloads[i], lens[i]), 0);
    }
    b.offs[n] = (size_t)w.bytes;
    assert_int_equal(tv_bundle_write_end(&w), 0);
    b.n = (size_t)w.bytes;
    assert_int_equal(ftell(fp), (long)b.n);
    b.p = file_bytes(fp, b.n);
    fclose(fp);
    return b;
}

/* What the reader returned, with copies of the batch bytes. */
typedef struct reading {
    int init_rc, rc;
    tv_bundle_rec r[4 * RECS_MAX];
    uint8_t *data[4 * RECS_MAX];
    size_t n;
} reading;

static reading *read_bytes(const uint8_t *p, size_t n)
{
    reading *out = calloc(1, sizeof *out);
    assert_non_null(out);
    FILE *fp = tmpfile();
    assert_non_null(fp);
    if (n) assert_int_equal(fwrite(p, 1, n, fp), n);
    rewind(fp);
    out->init_rc = tv_bundle_reader_init(&reader, fp);
    if (out->init_rc == 0) {
        while ((out->rc = tv_bundle_next(&reader, &out->r[out->n])) == 1) {
            assert_true(out->n + 1 < sizeof out->r / sizeof out->r[0]);
            tv_bundle_rec *r = &out->r[out->n];
            if (r->what == TV_BUNDLE_BATCH) {
                out->data[out->n] = malloc(r->len);
                assert_non_null(out->data[out->n]);
                memcpy(out->data[out->n], r->data, r->len);
                r->data = out->data[out->n];
            }
            out->n++;
        }
        assert_int_equal(out->rc, 0);
        /* the end stays the end */
        tv_bundle_rec again;
        assert_int_equal(tv_bundle_next(&reader, &again), 0);
    }
    fclose(fp);
    return out;
}

static void free_reading(reading *g)
{
    for (size_t i = 0; i < g->n; i++)
        free(g->data[i]);
    free(g);
}

/* Index in g of the batch record numbered `number`, or -1. */
static long find_batch(const reading *g, uint32_t number)
{
    for (size_t i = 0; i < g->n; i++)
        if (g->r[i].what == TV_BUNDLE_BATCH && g->r[i].number == number) return (long)i;
    return -1;
}

static size_t count_what(const reading *g, tv_bundle_what what)
{
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++)
        k += g->r[i].what == what;
    return k;
}

/* Checks that g holds batch records number..number+k-1 of b intact, in order. */
static void expect_batches(const reading *g, const bundle_bytes *b, uint8_t *const *payloads,
                           const size_t *lens, const uint32_t *numbers, size_t k)
{
    long prev = -1;
    for (size_t i = 0; i < k; i++) {
        uint32_t num = numbers[i];
        long at = find_batch(g, num);
        if (at < 0) fail_msg("record %u was not returned", num);
        assert_true(at > prev);
        prev = at;
        const tv_bundle_rec *r = &g->r[at];
        assert_int_equal(r->len, lens[num - 1]);
        assert_memory_equal(r->data, payloads[num - 1], lens[num - 1]);
        assert_int_equal(r->offset, b->offs[num - 1]);
    }
}

/* --- tests -------------------------------------------------------------------------- */

static void test_crc32(void **state)
{
    (void)state;
    assert_int_equal(tv_bundle_crc32((const uint8_t *)"123456789", 9), 0xCBF43926u);
    assert_int_equal(tv_bundle_crc32(NULL, 0), 0);
    assert_int_equal(tv_bundle_crc32((const uint8_t *)"a", 1), 0xE8B7BE43u);
}

/* Every payload comes back byte for byte, numbered, in order, and the end is found; the
 * largest payloads make the reader move its buffer. */
static void test_round_trip(void **state)
{
    (void)state;
    const size_t lens[] = {1,      100, TV_BUNDLE_PAYLOAD_MAX, 3000, 57, TV_BUNDLE_PAYLOAD_MAX - 1,
                           200000, 5,   TV_BUNDLE_PAYLOAD_MAX};
    const size_t n = sizeof lens / sizeof lens[0];
    uint8_t **p = make_payloads(lens, n, 1);
    bundle_bytes b = make_bundle(p, lens, n);
    assert_memory_equal(b.p, "TVBUNDL1", 8);
    reading *g = read_bytes(b.p, b.n);
    assert_int_equal(g->init_rc, 0);
    assert_int_equal(g->n, n + 1);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(g->r[i].what, TV_BUNDLE_BATCH);
        assert_int_equal(g->r[i].number, i + 1);
        assert_int_equal(g->r[i].missing, 0);
        assert_int_equal(g->r[i].offset, b.offs[i]);
        assert_int_equal(g->r[i].len, lens[i]);
        assert_memory_equal(g->r[i].data, p[i], lens[i]);
    }
    assert_int_equal(g->r[n].what, TV_BUNDLE_END);
    assert_int_equal(g->r[n].number, n);
    assert_int_equal(g->r[n].missing, 0);
    free_reading(g);

    /* the writer refuses what the format cannot carry */
    FILE *fp = tmpfile();
    tv_bundle_writer w;
    assert_int_equal(tv_bundle_write_begin(&w, fp), 0);
    assert_int_equal(tv_bundle_write_batch(&w, p[0], 0), TV_EINVAL);
    uint8_t *big = calloc(1, TV_BUNDLE_PAYLOAD_MAX + 1);
    assert_int_equal(tv_bundle_write_batch(&w, big, TV_BUNDLE_PAYLOAD_MAX + 1), TV_ELIMIT);
    assert_int_equal(w.records, 0);
    free(big);
    fclose(fp);

    /* an empty bundle: the magic and the end record, as PROTOCOL.md shows it */
    static const uint8_t empty[36] = {0x54, 0x56, 0x42, 0x55, 0x4e, 0x44, 0x4c, 0x31, 0x89,
                                      0x54, 0x56, 0x52, 0x45, 0x43, 0x0d, 0x0a, 0x02, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x45, 0x36, 0x1a, 0x03};
    bundle_bytes e = make_bundle(NULL, NULL, 0);
    assert_int_equal(e.n, sizeof empty);
    assert_memory_equal(e.p, empty, sizeof empty);
    g = read_bytes(e.p, e.n);
    assert_int_equal(g->n, 1);
    assert_int_equal(g->r[0].what, TV_BUNDLE_END);
    assert_int_equal(g->r[0].number, 0);
    free_reading(g);
    free(e.p);
    free(b.p);
    free_payloads(p, n);
}

static const size_t small_lens[] = {40, 1, 120, 77, 200, 64, 9};
#define SMALL_N (sizeof small_lens / sizeof small_lens[0])

/* A file cut at any byte yields exactly the records that end before the cut, then says
 * it was cut short. */
static void test_truncated(void **state)
{
    (void)state;
    uint8_t **p = make_payloads(small_lens, SMALL_N, 2);
    bundle_bytes b = make_bundle(p, small_lens, SMALL_N);
    uint32_t all[SMALL_N];
    for (uint32_t i = 0; i < SMALL_N; i++)
        all[i] = i + 1;
    for (size_t cut = 0; cut <= b.n; cut++) {
        reading *g = read_bytes(b.p, cut);
        if (cut < TV_BUNDLE_MAGIC_BYTES) {
            assert_int_equal(g->init_rc, TV_EDECODE);
            free_reading(g);
            continue;
        }
        assert_int_equal(g->init_rc, 0);
        size_t whole = 0; /* records wholly before the cut */
        while (whole < SMALL_N && b.offs[whole + 1] <= cut)
            whole++;
        assert_int_equal(count_what(g, TV_BUNDLE_BATCH), whole);
        expect_batches(g, &b, p, small_lens, all, whole);
        if (cut == b.n) {
            assert_int_equal(g->n, SMALL_N + 1);
            assert_int_equal(g->r[SMALL_N].what, TV_BUNDLE_END);
        } else {
            assert_int_equal(count_what(g, TV_BUNDLE_END), 0);
            const tv_bundle_rec *last = &g->r[g->n - 1];
            assert_int_equal(last->what, TV_BUNDLE_DAMAGED);
            assert_int_equal(last->damage, TV_BUNDLE_DMG_NO_END);
            assert_int_equal(last->number, whole);
            size_t boundary = b.offs[whole];
            if (cut == boundary) {
                assert_int_equal(g->n, whole + 1);
            } else {
                /* the part of the cut record: one stretch, from its start to the cut */
                assert_int_equal(g->n, whole + 2);
                const tv_bundle_rec *d = &g->r[whole];
                assert_int_equal(d->what, TV_BUNDLE_DAMAGED);
                assert_int_equal(d->damage, TV_BUNDLE_DMG_TRUNCATED);
                assert_int_equal(d->offset, boundary);
                assert_int_equal(d->skipped, cut - boundary);
                if (cut - boundary >= TV_BUNDLE_HEADER_BYTES)
                    assert_int_equal(d->number, whole + 1);
            }
        }
        free_reading(g);
    }
    free(b.p);
    free_payloads(p, SMALL_N);
}

/* One changed byte anywhere costs the record it falls in, and only that record: its damage
 * is reported where the record starts, and the reader finds every record after it. */
static void test_flipped_byte(void **state)
{
    (void)state;
    uint8_t **p = make_payloads(small_lens, SMALL_N, 3);
    bundle_bytes b = make_bundle(p, small_lens, SMALL_N);
    for (size_t at = 0; at < b.n; at++) {
        uint8_t *c = malloc(b.n);
        memcpy(c, b.p, b.n);
        c[at] ^= (uint8_t)(1u << (at % 8));
        reading *g = read_bytes(c, b.n);
        assert_int_equal(g->init_rc, 0);
        size_t k = 0; /* the record hit, 1-based; 0: the magic; SMALL_N + 1: the end */
        while (k <= SMALL_N && b.offs[k] <= at)
            k++;
        uint32_t kept[SMALL_N];
        size_t nkept = 0;
        for (uint32_t i = 1; i <= SMALL_N; i++)
            if (i != k) kept[nkept++] = i;
        expect_batches(g, &b, p, small_lens, kept, nkept);
        assert_int_equal(count_what(g, TV_BUNDLE_BATCH), nkept);
        size_t di = 0;
        while (di < g->n && g->r[di].what != TV_BUNDLE_DAMAGED)
            di++;
        assert_true(di < g->n);
        const tv_bundle_rec *d = &g->r[di];
        if (k == 0) {
            /* the magic: 8 damaged bytes, and everything else intact */
            assert_int_equal(di, 0);
            assert_int_equal(d->damage, TV_BUNDLE_DMG_GARBAGE);
            assert_int_equal(d->offset, 0);
            assert_int_equal(d->skipped, TV_BUNDLE_MAGIC_BYTES);
            assert_int_equal(g->r[g->n - 1].what, TV_BUNDLE_END);
            assert_int_equal(count_what(g, TV_BUNDLE_DAMAGED), 1);
        } else if (k <= SMALL_N) {
            assert_int_equal(di, k - 1);
            assert_int_equal(d->offset, b.offs[k - 1]);
            assert_int_equal(d->skipped, b.offs[k] - b.offs[k - 1]);
            if (at - b.offs[k - 1] >= TV_BUNDLE_HEADER_BYTES) {
                assert_int_equal(d->damage, TV_BUNDLE_DMG_CHECKSUM);
                assert_int_equal(d->number, k);
            } else {
                assert_int_equal(d->damage, TV_BUNDLE_DMG_GARBAGE);
            }
            assert_int_equal(count_what(g, TV_BUNDLE_DAMAGED), 1);
            /* the next intact record counts the one lost */
            assert_int_equal(g->r[di + 1].missing, 1);
            assert_int_equal(g->r[g->n - 1].what, TV_BUNDLE_END);
        } else {
            /* the end record: its bytes are skipped, and the end is missing */
            assert_int_equal(d->damage, TV_BUNDLE_DMG_GARBAGE);
            assert_int_equal(d->offset, b.offs[SMALL_N]);
            assert_int_equal(g->r[g->n - 1].damage, TV_BUNDLE_DMG_NO_END);
        }
        free_reading(g);
        free(c);
    }
    free(b.p);
    free_payloads(p, SMALL_N);
}

/* A flipped byte inside a full-size record: the resync scans through the damaged record
 * and finds the next one, with the buffer moving underneath. */
static void test_flipped_byte_large(void **state)
{
    (void)state;
    const size_t lens[] = {TV_BUNDLE_PAYLOAD_MAX, TV_BUNDLE_PAYLOAD_MAX, 1000,
                           TV_BUNDLE_PAYLOAD_MAX};
    const size_t n = sizeof lens / sizeof lens[0];
    uint8_t **p = make_payloads(lens, n, 4);
    bundle_bytes b = make_bundle(p, lens, n);
    for (size_t hit = 1; hit <= n; hit++) {
        size_t at = b.offs[hit - 1] + TV_BUNDLE_HEADER_BYTES + lens[hit - 1] / 2;
        b.p[at] ^= 0x40;
        reading *g = read_bytes(b.p, b.n);
        b.p[at] ^= 0x40;
        uint32_t kept[8];
        size_t nkept = 0;
        for (uint32_t i = 1; i <= n; i++)
            if (i != hit) kept[nkept++] = i;
        expect_batches(g, &b, p, lens, kept, nkept);
        assert_int_equal(count_what(g, TV_BUNDLE_DAMAGED), 1);
        assert_int_equal(g->r[hit - 1].what, TV_BUNDLE_DAMAGED);
        assert_int_equal(g->r[hit - 1].damage, TV_BUNDLE_DMG_CHECKSUM);
        assert_int_equal(g->r[hit - 1].number, hit);
        assert_int_equal(g->r[hit].missing, 1);
        assert_int_equal(g->r[g->n - 1].what, TV_BUNDLE_END);
        free_reading(g);
    }
    free(b.p);
    free_payloads(p, n);
}

/* Inserts `ins` bytes at offset `at` of b; returns the new bytes. */
static uint8_t *insert(const bundle_bytes *b, size_t at, const uint8_t *ins, size_t n)
{
    uint8_t *c = malloc(b->n + n);
    assert_non_null(c);
    memcpy(c, b->p, at);
    memcpy(c + at, ins, n);
    memcpy(c + at + n, b->p + at, b->n - at);
    return c;
}

/* Zeroed sectors, random bytes, stray markers and a lone header between records are
 * skipped as one stretch; no record is lost. */
static void test_garbage_between(void **state)
{
    (void)state;
    uint8_t **p = make_payloads(small_lens, SMALL_N, 5);
    bundle_bytes b = make_bundle(p, small_lens, SMALL_N);
    uint32_t all[SMALL_N];
    for (uint32_t i = 0; i < SMALL_N; i++)
        all[i] = i + 1;

    enum { JUNK = 4096 };
    uint8_t *junk = malloc(JUNK + 64);
    fx_rng rng = {6};
    for (int kind = 0; kind < 4; kind++) {
        size_t n = JUNK;
        if (kind == 0) {
            memset(junk, 0, n); /* a zeroed sector */
        } else if (kind == 1) {
            fx_rng_bytes(&rng, junk, n); /* a foreign sector */
        } else if (kind == 2) {
            for (size_t i = 0; i < n; i++) /* markers everywhere, none with an intact header */
                junk[i] = (uint8_t)TV_BUNDLE_MARKER[i % TV_BUNDLE_MARKER_BYTES];
        } else {
            /* the first 20 bytes of another record's header: a marker, then a cut */
            memcpy(junk, b.p + b.offs[2], 20);
            n = 20;
        }
        for (size_t r = 0; r <= SMALL_N; r++) {
            uint8_t *c = insert(&b, b.offs[r], junk, n);
            reading *g = read_bytes(c, b.n + n);
            assert_int_equal(g->init_rc, 0);
            expect_batches(g, &b, p, small_lens, all, r); /* offsets before the junk hold */
            assert_int_equal(count_what(g, TV_BUNDLE_BATCH), SMALL_N);
            assert_int_equal(count_what(g, TV_BUNDLE_DAMAGED), 1);
            assert_int_equal(g->r[r].what, TV_BUNDLE_DAMAGED);
            assert_int_equal(g->r[r].damage, TV_BUNDLE_DMG_GARBAGE);
            assert_int_equal(g->r[r].offset, b.offs[r]);
            assert_int_equal(g->r[r].skipped, n);
            for (size_t i = 0; i < g->n; i++)
                assert_int_equal(g->r[i].missing, 0);
            for (size_t i = r + 1; i < SMALL_N + 1; i++) {
                assert_int_equal(g->r[i].number, i);
                assert_memory_equal(g->r[i].data, p[i - 1], small_lens[i - 1]);
                assert_int_equal(g->r[i].offset, b.offs[i - 1] + n);
            }
            assert_int_equal(g->r[g->n - 1].what, TV_BUNDLE_END);
            free_reading(g);
            free(c);
        }
    }

    /* a record overwritten by zeros is lost, and counted as missing */
    uint8_t *c = malloc(b.n);
    memcpy(c, b.p, b.n);
    memset(c + b.offs[3], 0, b.offs[4] - b.offs[3]);
    reading *g = read_bytes(c, b.n);
    assert_int_equal(find_batch(g, 4), -1);
    assert_int_equal(count_what(g, TV_BUNDLE_BATCH), SMALL_N - 1);
    assert_int_equal(g->r[find_batch(g, 5)].missing, 1);
    free_reading(g);
    free(c);
    free(junk);
    free(b.p);
    free_payloads(p, SMALL_N);
}

/* Bytes lost from inside a record (not changed: gone) leave its claimed length reaching
 * into the next record; the reader must scan inside the claimed length to find it. */
static void test_bytes_lost(void **state)
{
    (void)state;
    uint8_t **p = make_payloads(small_lens, SMALL_N, 9);
    bundle_bytes b = make_bundle(p, small_lens, SMALL_N);
    for (size_t lost = 1; lost <= 60; lost += 7) {
        size_t at = b.offs[4] + TV_BUNDLE_HEADER_BYTES + 100; /* inside record 5 (200 bytes) */
        uint8_t *c = malloc(b.n);
        memcpy(c, b.p, at);
        memcpy(c + at, b.p + at + lost, b.n - at - lost);
        reading *g = read_bytes(c, b.n - lost);
        const uint32_t kept[] = {1, 2, 3, 4};
        expect_batches(g, &b, p, small_lens, kept, 4);
        assert_int_equal(g->r[4].what, TV_BUNDLE_DAMAGED);
        assert_int_equal(g->r[4].number, 5);
        assert_int_equal(g->r[4].skipped, b.offs[5] - b.offs[4] - lost);
        for (uint32_t i = 6; i <= SMALL_N; i++) {
            long k = find_batch(g, i);
            assert_true(k > 0);
            assert_memory_equal(g->r[k].data, p[i - 1], small_lens[i - 1]);
        }
        assert_int_equal(g->r[5].missing, 1);
        assert_int_equal(g->r[g->n - 1].what, TV_BUNDLE_END);
        free_reading(g);
        free(c);
    }
    free(b.p);
    free_payloads(p, SMALL_N);
}

/* A header with a valid CRC; `len` is whatever it claims. */
static void forge_header(uint8_t h[TV_BUNDLE_HEADER_BYTES], uint8_t kind, uint32_t number,
                         uint32_t len)
{
    memset(h, 0, TV_BUNDLE_HEADER_BYTES);
    memcpy(h, TV_BUNDLE_MARKER, TV_BUNDLE_MARKER_BYTES);
    h[8] = kind;
    const uint32_t v[2] = {number, len};
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < 4; i++)
            h[12 + 4 * f + i] = (uint8_t)(v[f] >> (24 - 8 * i));
    uint32_t crc = tv_bundle_crc32(h, 24);
    for (int i = 0; i < 4; i++)
        h[24 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

/* Lengths the format forbids are never believed: the reader reports them and goes on to
 * the next record at once, without reading (or holding) what they claim. */
static void test_length_claims(void **state)
{
    (void)state;
    assert_true(sizeof(tv_bundle_reader) < 2 * (TV_BUNDLE_HEADER_BYTES + TV_BUNDLE_PAYLOAD_MAX));
    uint8_t **p = make_payloads(small_lens, SMALL_N, 7);
    bundle_bytes b = make_bundle(p, small_lens, SMALL_N);
    const struct {
        uint8_t kind;
        uint32_t len;
    } claims[] = {{TV_BUNDLE_KIND_BATCH, UINT32_MAX},
                  {TV_BUNDLE_KIND_BATCH, 0x80000000u},
                  {TV_BUNDLE_KIND_BATCH, TV_BUNDLE_PAYLOAD_MAX + 1},
                  {TV_BUNDLE_KIND_BATCH, 0},
                  {TV_BUNDLE_KIND_END, 5},
                  {9, UINT32_MAX}};
    for (size_t k = 0; k < sizeof claims / sizeof claims[0]; k++) {
        uint8_t h[TV_BUNDLE_HEADER_BYTES];
        forge_header(h, claims[k].kind, 3, claims[k].len);
        uint8_t *c = insert(&b, b.offs[2], h, sizeof h);
        reading *g = read_bytes(c, b.n + sizeof h);
        assert_int_equal(count_what(g, TV_BUNDLE_BATCH), SMALL_N);
        assert_int_equal(g->r[2].what, TV_BUNDLE_DAMAGED);
        assert_int_equal(g->r[2].damage, TV_BUNDLE_DMG_LENGTH);
        assert_int_equal(g->r[2].claimed, claims[k].len);
        assert_int_equal(g->r[2].number, 3);
        assert_int_equal(g->r[2].skipped, sizeof h);
        assert_int_equal(g->r[3].what, TV_BUNDLE_BATCH);
        assert_int_equal(g->r[3].number, 3);
        free_reading(g);
        free(c);
    }
    /* the same 4 GiB claim in a header whose own CRC fails is just bytes */
    uint8_t h[TV_BUNDLE_HEADER_BYTES];
    forge_header(h, TV_BUNDLE_KIND_BATCH, 3, UINT32_MAX);
    h[27] ^= 1;
    uint8_t *c = insert(&b, b.offs[2], h, sizeof h);
    reading *g = read_bytes(c, b.n + sizeof h);
    assert_int_equal(count_what(g, TV_BUNDLE_BATCH), SMALL_N);
    assert_int_equal(g->r[2].damage, TV_BUNDLE_DMG_GARBAGE);
    assert_int_equal(g->r[2].skipped, sizeof h);
    free_reading(g);
    free(c);
    free(b.p);
    free_payloads(p, SMALL_N);
}

static void test_not_a_bundle(void **state)
{
    (void)state;
    reading *g = read_bytes(NULL, 0);
    assert_int_equal(g->init_rc, TV_EDECODE);
    free_reading(g);
    const char *csv = "venue,person,direction,time\n3f2a9c0d11e4b7a8,0912345678,in,x\n";
    g = read_bytes((const uint8_t *)csv, strlen(csv));
    assert_int_equal(g->init_rc, TV_EDECODE);
    free_reading(g);
    uint8_t v2[64] = "TVBUNDL2";
    g = read_bytes(v2, sizeof v2);
    assert_int_equal(g->init_rc, TV_EVERSION);
    free_reading(g);
}

/* Concatenated bundles read as one; a record of an unknown kind is skipped in its place. */
static void test_concatenated_and_unknown(void **state)
{
    (void)state;
    uint8_t **p = make_payloads(small_lens, SMALL_N, 8);
    bundle_bytes a = make_bundle(p, small_lens, 3);
    bundle_bytes b = make_bundle(p + 3, small_lens + 3, SMALL_N - 3);
    uint8_t *c = malloc(a.n + b.n);
    memcpy(c, a.p, a.n);
    memcpy(c + a.n, b.p, b.n);
    reading *g = read_bytes(c, a.n + b.n);
    assert_int_equal(g->n, SMALL_N + 2);
    assert_int_equal(count_what(g, TV_BUNDLE_END), 2);
    assert_int_equal(count_what(g, TV_BUNDLE_DAMAGED), 0);
    for (size_t i = 0, k = 0; i < g->n; i++) {
        if (g->r[i].what != TV_BUNDLE_BATCH) continue;
        assert_memory_equal(g->r[i].data, p[k], small_lens[k]);
        assert_int_equal(g->r[i].missing, 0);
        k++;
    }
    free_reading(g);
    free(c);

    /* a kind-7 record numbered 2 between records 1 and 2 (renumbered 3...): skipped */
    uint8_t rec[TV_BUNDLE_HEADER_BYTES + 4] = {0};
    forge_header(rec, 7, 2, 4);
    memcpy(rec + TV_BUNDLE_HEADER_BYTES, "\x01\x02\x03\x04", 4);
    uint32_t crc = tv_bundle_crc32(rec + TV_BUNDLE_HEADER_BYTES, 4);
    for (int i = 0; i < 4; i++)
        rec[20 + i] = (uint8_t)(crc >> (24 - 8 * i));
    uint32_t hcrc = tv_bundle_crc32(rec, 24);
    for (int i = 0; i < 4; i++)
        rec[24 + i] = (uint8_t)(hcrc >> (24 - 8 * i));
    c = insert(&a, a.offs[1], rec, sizeof rec);
    g = read_bytes(c, a.n + sizeof rec);
    assert_int_equal(g->r[1].what, TV_BUNDLE_UNKNOWN);
    assert_int_equal(g->r[1].kind, 7);
    assert_int_equal(count_what(g, TV_BUNDLE_BATCH), 3);
    assert_int_equal(count_what(g, TV_BUNDLE_DAMAGED), 0);
    free_reading(g);
    free(c);
    free(a.p);
    free(b.p);
    free_payloads(p, SMALL_N);
}

/* --- between two nodes ---------------------------------------------------------------- */

typedef struct trust_ctx {
    const uint8_t *origin;
} trust_ctx;

/* Makes a fixed key the root of trust and enrols `origin` as the commune node of 22333,
 * as enrolment would. */
static int trust_fn(store_txn *t, void *arg)
{
    trust_ctx *c = arg;
    static crdt_identity root;
    static crdt_cert cert;
    test_identity(&root, 0xee);
    int rc = store_root_set(t, root.pk);
    if (rc) return rc;
    memset(&cert, 0, sizeof cert);
    memcpy(cert.subject, root.pk, TV_NODE_ID_BYTES);
    memcpy(cert.issuer, root.pk, TV_NODE_ID_BYTES);
    cert.role = CRDT_ROLE_PROVINCE;
    strcpy(cert.unit, "56");
    cert.scope_len = 1;
    strcpy(cert.scope[0], CRDT_SCOPE_ALL);
    for (int i = 0; i < 2; i++) {
        if (i == 1) {
            memcpy(cert.subject, c->origin, TV_NODE_ID_BYTES);
            cert.role = CRDT_ROLE_COMMUNE;
            strcpy(cert.unit, "22333");
            strcpy(cert.scope[0], "22333");
        }
        uint8_t *raw;
        size_t len;
        if ((rc = crdt_cert_sign(&cert, &root, &raw, &len))) return rc;
        rc = store_cert_install(t, raw, len);
        free(raw);
        if (rc) return rc;
    }
    return 0;
}

static int export_one(const uint8_t *buf, size_t len, void *arg)
{
    return tv_bundle_write_batch(arg, buf, len);
}

/* Opens a fresh district node in dir that trusts `origin`. */
static void district(tv_node *n, const char *dir, const uint8_t *origin)
{
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_DISTRICT, "568", "huyen", TV_TEST_PASS, id), 0);
    assert_int_equal(tv_node_open(n, dir, TV_NODE_WRITE), 0);
    trust_ctx c = {origin};
    assert_int_equal(store_write(n->st, trust_fn, &c), 0);
}

/* Reads the bundle and applies its batches in one group; returns the items (rc per batch,
 * in file order) and their number in *count. */
static tv_apply_item *import(tv_node *n, const uint8_t *p, size_t len, size_t *count)
{
    reading *g = read_bytes(p, len);
    assert_int_equal(g->init_rc, 0);
    tv_apply_item *items = calloc(g->n + 1, sizeof *items);
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (g->r[i].what != TV_BUNDLE_BATCH) continue;
        items[k].len = g->r[i].len;
        items[k].buf = g->data[i];
        g->data[i] = NULL; /* now the items' */
        k++;
    }
    free_reading(g);
    assert_int_equal(tv_node_apply(n, items, k), 0);
    *count = k;
    return items;
}

static void free_items(tv_apply_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)items[i].buf);
    free(items);
}

static store_frontier frontier_of(tv_node *n, const uint8_t *origin)
{
    store_txn *t;
    store_frontier f;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    int rc = store_frontier_get(t, origin, &f);
    assert_true(rc == 0 || rc == TV_ENOTFOUND);
    store_read_end(t);
    return f;
}

/* A commune's log crosses to a district node that trusts it through a bundle, as it would
 * through the network: all accepted, then all duplicates; from a damaged bundle, the
 * batches before the damage are kept and the ones after it are refused as a gap. The
 * log's first event registers the venue of its scans (the receiver keeps scans at a venue
 * it holds no registration of waiting for one, PROTOCOL.md §3.3). */
static void test_between_nodes(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char pa[4200], pb[4200], pc[4200];
    snprintf(pa, sizeof pa, "%s/a", dir);
    snprintf(pb, sizeof pb, "%s/b", dir);
    snprintf(pc, sizeof pc, "%s/c", dir);
    uint8_t ida[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(pa, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, ida), 0);
    tv_node a;
    assert_int_equal(tv_node_open(&a, pa, TV_NODE_WRITE), 0);
    uint64_t seq;
    crdt_venue_upsert v;
    test_venue_register(&v, ida, 1, "22333", "Chợ Đầm");
    assert_int_equal(tv_node_add_venue(&a, &v, NULL), 0);
    for (uint32_t round = 0; round < 2; round++) {
        uint32_t scans = round == 0 ? 2 * CRDT_BATCH_EVENTS_MAX + 100 : 10;
        for (uint32_t i = 0; i < scans; i++) {
            crdt_scan s = test_scan(i, 1633482000000LL + i * 1000LL);
            memcpy(s.venue, v.venue, TV_VENUE_ID_BYTES);
            assert_int_equal(tv_node_add_scan(&a, &s, NULL), 0);
        }
        assert_int_equal(tv_node_commit(&a, &seq), 0);
    }
    store_frontier fa = frontier_of(&a, ida);
    assert_int_equal(fa.seq, 1 + 2 * CRDT_BATCH_EVENTS_MAX + 110);

    /* export as `bundle export` does: the store's order */
    FILE *fp = tmpfile();
    tv_bundle_writer w;
    store_txn *t;
    assert_int_equal(tv_bundle_write_begin(&w, fp), 0);
    assert_int_equal(store_read_begin(a.st, &t), 0);
    assert_int_equal(store_batches_foreach(t, export_one, &w), 0);
    store_read_end(t);
    assert_int_equal(tv_bundle_write_end(&w), 0);
    assert_int_equal(w.records, 4);
    size_t n = (size_t)w.bytes;
    uint8_t *bytes = file_bytes(fp, n);
    fclose(fp);

    tv_node b;
    district(&b, pb, ida);
    size_t k;
    tv_apply_item *items = import(&b, bytes, n, &k);
    assert_int_equal(k, 4);
    for (size_t i = 0; i < k; i++) {
        assert_int_equal(items[i].rc, 0);
        assert_false(items[i].r.duplicate);
    }
    free_items(items, k);
    store_frontier fb = frontier_of(&b, ida);
    assert_int_equal(fb.seq, fa.seq);
    assert_memory_equal(fb.hash, fa.hash, TV_HASH_BYTES);
    items = import(&b, bytes, n, &k);
    for (size_t i = 0; i < k; i++) {
        assert_int_equal(items[i].rc, 0);
        assert_true(items[i].r.duplicate);
    }
    free_items(items, k);
    tv_node_close(&b);

    /* damage in the second record: the first is kept, the third and fourth are gaps */
    bundle_bytes layout = {0};
    reading *g = read_bytes(bytes, n);
    for (size_t i = 0; i < 4; i++)
        layout.offs[i] = (size_t)g->r[i].offset;
    uint64_t first_last_seq = 0;
    {
        crdt_batch cb;
        assert_int_equal(crdt_batch_open(&cb, g->r[0].data, g->r[0].len), 0);
        first_last_seq = cb.h.first_seq + cb.h.count - 1;
    }
    free_reading(g);
    bytes[layout.offs[1] + TV_BUNDLE_HEADER_BYTES + 1000] ^= 0x10;
    tv_node c;
    district(&c, pc, ida);
    items = import(&c, bytes, n, &k);
    assert_int_equal(k, 3);
    assert_int_equal(items[0].rc, 0);
    assert_int_equal(items[1].rc, TV_EGAP);
    assert_int_equal(items[2].rc, TV_EGAP);
    free_items(items, k);
    store_frontier fc = frontier_of(&c, ida);
    assert_int_equal(fc.seq, first_last_seq);
    tv_node_close(&c);

    tv_node_close(&a);
    free(bytes);
    test_rmdir(dir);
}

/* Writes the one batch as the bundle file path. */
static void write_bundle_file(const char *path, const uint8_t *batch, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    tv_bundle_writer w;
    assert_int_equal(tv_bundle_write_begin(&w, fp), 0);
    assert_int_equal(tv_bundle_write_batch(&w, batch, len), 0);
    assert_int_equal(tv_bundle_write_end(&w), 0);
    assert_int_equal(fclose(fp), 0);
}

/* Runs `truyvet -d dir bundle import path` in this process, as the program does; returns
 * its exit status and what it wrote to stderr in err (NUL-terminated). */
static int cli_import(const char *dir, const char *path, char *err, size_t cap)
{
    char errpath[4200];
    snprintf(errpath, sizeof errpath, "%s.err", path);
    int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fd, STDERR_FILENO) >= 0);
    close(fd);
    tv_cli cli = {.dir = dir, .prog = "truyvet"};
    char a0[] = "bundle", a1[] = "import", a2[4200];
    snprintf(a2, sizeof a2, "%s", path);
    char *argv[] = {a0, a1, a2, NULL};
    extern const tv_command tv_command_bundle; /* node/cli/bundle.c */
    int rc =
        tv_command_run(&cli, (const tv_command *const[]){&tv_command_bundle, NULL}, "", 3, argv);
    fflush(stderr);
    assert_true(dup2(saved, STDERR_FILENO) >= 0);
    close(saved);
    FILE *fp = fopen(errpath, "rb");
    assert_non_null(fp);
    size_t n = fread(err, 1, cap - 1, fp);
    err[n] = '\0';
    fclose(fp);
    return rc;
}

static store_counts counts_of(tv_node *n)
{
    store_counts c = test_counts(n);
    assert_true(c.events != UINT64_MAX);
    return c;
}

/* A well-formed batch whose header names commune A, at the next seq of A's log as the
 * district holds it and chained to its last batch, but signed with another key, arrives
 * in a bundle: `bundle import` refuses it, naming the origin and seqs the batch claims and
 * the reason, exits 1, and stores nothing. The same batch signed by A is accepted. */
static void test_import_refuses_other_key(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char pa[4200], pd[4200], forged_path[4200], genuine_path[4200];
    snprintf(pa, sizeof pa, "%s/a", dir);
    snprintf(pd, sizeof pd, "%s/d", dir);
    snprintf(forged_path, sizeof forged_path, "%s/forged.tvb", dir);
    snprintf(genuine_path, sizeof genuine_path, "%s/genuine.tvb", dir);
    uint8_t ida[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(pa, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, ida), 0);
    tv_node a;
    assert_int_equal(tv_node_open(&a, pa, TV_NODE_WRITE), 0);
    crdt_venue_upsert v;
    test_venue_register(&v, ida, 1, "22333", "Chợ Đầm");
    assert_int_equal(tv_node_add_venue(&a, &v, NULL), 0);
    for (uint32_t i = 0; i < 5; i++) {
        crdt_scan s = test_scan(i, 1633482000000LL + i * 1000LL);
        memcpy(s.venue, v.venue, TV_VENUE_ID_BYTES);
        assert_int_equal(tv_node_add_scan(&a, &s, NULL), 0);
    }
    uint64_t seq;
    assert_int_equal(tv_node_commit(&a, &seq), 0);
    store_frontier fa = frontier_of(&a, ida);
    assert_int_equal(fa.seq, 6);

    /* the district holds A's log */
    FILE *fp = tmpfile();
    tv_bundle_writer w;
    store_txn *t;
    assert_int_equal(tv_bundle_write_begin(&w, fp), 0);
    assert_int_equal(store_read_begin(a.st, &t), 0);
    assert_int_equal(store_batches_foreach(t, export_one, &w), 0);
    store_read_end(t);
    assert_int_equal(tv_bundle_write_end(&w), 0);
    size_t n = (size_t)w.bytes;
    uint8_t *bytes = file_bytes(fp, n);
    fclose(fp);
    tv_node d;
    district(&d, pd, ida);
    size_t k;
    tv_apply_item *items = import(&d, bytes, n, &k);
    assert_int_equal(k, 1);
    assert_int_equal(items[0].rc, 0);
    free_items(items, k);
    free(bytes);
    store_frontier f0 = frontier_of(&d, ida);
    assert_int_equal(f0.seq, fa.seq);
    store_counts c0 = counts_of(&d);
    tv_node_close(&d);

    /* A's next batch, signed with another node's key; and signed by A */
    crdt_identity other, forger;
    test_identity(&other, 0x61);
    forger = a.id;
    memcpy(forger.sk, other.sk, sizeof forger.sk);
    uint8_t *forged, *genuine, h[TV_HASH_BYTES], hg[TV_HASH_BYTES];
    size_t lforged, lgenuine;
    test_seal_scans_at(&forger, v.venue, fa.seq + 1, fa.hash, 2, fa.hlc_max + 1, &forged, &lforged,
                       h);
    test_seal_scans_at(&a.id, v.venue, fa.seq + 1, fa.hash, 2, fa.hlc_max + 1, &genuine, &lgenuine,
                       hg);
    assert_memory_equal(h, hg, TV_HASH_BYTES); /* the same header: only the signature differs */
    tv_node_close(&a);
    write_bundle_file(forged_path, forged, lforged);
    write_bundle_file(genuine_path, genuine, lgenuine);

    static char err[16384], want[16384];
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, ida, TV_NODE_ID_BYTES);
    hex[TV_EVENT_ID_ORIGIN_HEX] = '\0';
    assert_int_equal(cli_import(pd, forged_path, err, sizeof err), TV_EXIT_FAIL);
    snprintf(want, sizeof want,
             "truyvet: %s: record 1 (claims origin %s, seq %llu-%llu) refused: signature does "
             "not verify: the batch is not authentic or was altered.\n"
             "%s: 0 batches accepted (0 events), 0 already held, 1 refused (0 after a gap); 0 "
             "damaged parts of the file skipped, 0 records unread\n",
             forged_path, hex, (unsigned long long)(fa.seq + 1), (unsigned long long)(fa.seq + 2),
             forged_path);
    assert_string_equal(err, want);
    assert_int_equal(tv_node_open(&d, pd, TV_NODE_WRITE), 0);
    store_frontier f = frontier_of(&d, ida);
    assert_int_equal(f.seq, f0.seq);
    assert_memory_equal(f.hash, f0.hash, TV_HASH_BYTES);
    store_counts c = counts_of(&d);
    assert_memory_equal(&c, &c0, sizeof c);
    tv_node_close(&d);

    assert_int_equal(cli_import(pd, genuine_path, err, sizeof err), TV_EXIT_OK);
    snprintf(want, sizeof want,
             "%s: 1 batch accepted (2 events), 0 already held, 0 refused (0 after a gap); 0 "
             "damaged parts of the file skipped, 0 records unread\n",
             genuine_path);
    assert_string_equal(err, want);
    assert_int_equal(tv_node_open(&d, pd, TV_NODE_WRITE), 0);
    f = frontier_of(&d, ida);
    assert_int_equal(f.seq, f0.seq + 2);
    assert_memory_equal(f.hash, hg, TV_HASH_BYTES);
    tv_node_close(&d);
    free(forged);
    free(genuine);
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_flipped_byte),
        cmocka_unit_test(test_flipped_byte_large),
        cmocka_unit_test(test_garbage_between),
        cmocka_unit_test(test_bytes_lost),
        cmocka_unit_test(test_length_claims),
        cmocka_unit_test(test_not_a_bundle),
        cmocka_unit_test(test_concatenated_and_unknown),
        cmocka_unit_test(test_between_nodes),
        cmocka_unit_test(test_import_refuses_other_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
