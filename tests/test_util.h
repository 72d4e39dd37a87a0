/* Helpers shared by the cmocka tests: temporary directories and builders of signed
 * batches (the seeded generator is tests/fixture/rng.h's, included here). */
#ifndef TV_TESTS_TEST_UTIL_H
#define TV_TESTS_TEST_UTIL_H

#include "crdt/batch.h"
#include "crdt/event.h"
#include "crdt/identity.h"
#include "crdt/ids.h"
#include "node/logic/node.h"
#include "node/logic/secret.h"
#include "node/logic/venue.h"
#include "tests/fixture/rng.h"

/* tv_node_create's passphrase and Argon2id cost in tests (min: tests only). */
#define TV_TEST_PASS_TEXT "test passphrase"
#define TV_TEST_PASS TV_TEST_PASS_TEXT, sizeof TV_TEST_PASS_TEXT - 1, TV_KDF_MIN

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A node identity from a one-byte seed, so tests are reproducible. */
static inline void test_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static inline void test_identity(crdt_identity *id, uint8_t seed_byte)
{
    uint8_t seed[TV_SEED_BYTES];
    memset(seed, seed_byte, sizeof seed);
    if (crdt_identity_from_seed(id, seed) != 0) abort();
}

/* A scan with fixed test values; venue and person vary with `k`. */
static inline crdt_scan test_scan(uint32_t k, int64_t at_ms)
{
    crdt_scan s = {.unit = {"22333", 5},
                   .masked = {"09******78", 10},
                   .direction = (uint8_t)(k & 1),
                   .method = CRDT_METHOD_STAFF,
                   .at_ms = at_ms};
    memset(s.venue, (int)(k % 7), sizeof s.venue);
    memset(s.person, (int)(k % 13), sizeof s.person);
    s.person[0] = (uint8_t)k;
    return s;
}

/* The id of the venue that `registrar` registers with the nonce drawn from `seed`
 * (deterministic), and that nonce (may be NULL). */
static inline void test_venue_id(uint8_t venue[TV_VENUE_ID_BYTES],
                                 const uint8_t registrar[TV_NODE_ID_BYTES], uint64_t seed,
                                 uint8_t nonce[TV_VENUE_NONCE_BYTES])
{
    uint8_t n[TV_VENUE_NONCE_BYTES];
    fx_rng r = {seed};
    fx_rng_bytes(&r, n, sizeof n);
    tv_venue_id_derive(venue, registrar, n);
    if (nonce) memcpy(nonce, n, sizeof n);
}

/* Fills *v as the registration of a venue by `registrar` in `unit`, named `name` (unit and
 * name are borrowed): the id derived from registrar's key and a nonce drawn from `seed`,
 * as `venue add` does with a random nonce. */
static inline void test_venue_register(crdt_venue_upsert *v,
                                       const uint8_t registrar[TV_NODE_ID_BYTES], uint64_t seed,
                                       const char *unit, const char *name)
{
    memset(v, 0, sizeof *v);
    test_venue_id(v->venue, registrar, seed, v->nonce);
    v->registers = 1;
    v->fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME;
    v->unit = (crdt_text){unit, (uint32_t)strlen(unit)};
    v->name = (crdt_text){name, (uint32_t)strlen(name)};
}

/* Seals `count` scans (test_scan(0..count-1), HLCs hlc0, hlc0+1, ...) as the batch of id's
 * log starting at first_seq, all at `venue` (NULL: each at test_scan's venue). The caller
 * frees *out. A store whose scope covers unit 22333, or that has no certificate of its own,
 * indexes scans only at a registered venue (PROTOCOL.md §3.3, V3): register one first with
 * test_seal_registration. The batch's origin is id->pk and its signature is made with
 * id->sk: a forger's identity names one origin and signs with another's key. */
static inline void test_seal_scans_at(const crdt_identity *id, const uint8_t *venue,
                                      uint64_t first_seq, const uint8_t *prev, uint32_t count,
                                      uint64_t hlc0, uint8_t **out, size_t *len,
                                      uint8_t hash[TV_HASH_BYTES])
{
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    for (uint32_t i = 0; i < count; i++) {
        crdt_scan s = test_scan(i, 1633482000000LL + (int64_t)i * 60000);
        if (venue) memcpy(s.venue, venue, TV_VENUE_ID_BYTES);
        if (crdt_event_pack_scan(&b.pk, hlc0 + i, &s) != 0) abort();
        crdt_batch_builder_note(&b, hlc0 + i);
    }
    if (crdt_batch_seal(&b, id, first_seq, prev, out, len, hash) != 0) abort();
    crdt_batch_builder_release(&b);
}

/* Seals `count` scans at test_scan's venues (unregistered: see test_seal_scans_at). */
static inline void test_seal_scans(const crdt_identity *id, uint64_t first_seq, const uint8_t *prev,
                                   uint32_t count, uint64_t hlc0, uint8_t **out, size_t *len,
                                   uint8_t hash[TV_HASH_BYTES])
{
    test_seal_scans_at(id, NULL, first_seq, prev, count, hlc0, out, len, hash);
}

/* Seals id's registration of a venue of unit 22333 (nonce from `seed`, see
 * test_venue_register) as the one-event batch of id's log at first_seq, HLC hlc; the
 * venue's id into venue. The caller frees *out. */
static inline void test_seal_registration(const crdt_identity *id, uint64_t seed,
                                          uint64_t first_seq, const uint8_t *prev, uint64_t hlc,
                                          uint8_t venue[TV_VENUE_ID_BYTES], uint8_t **out,
                                          size_t *len, uint8_t hash[TV_HASH_BYTES])
{
    crdt_venue_upsert v;
    test_venue_register(&v, id->pk, seed, "22333", "Chợ Vĩnh Hải");
    memcpy(venue, v.venue, TV_VENUE_ID_BYTES);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    if (crdt_event_pack_venue(&b.pk, hlc, &v) != 0) abort();
    crdt_batch_builder_note(&b, hlc);
    if (crdt_batch_seal(&b, id, first_seq, prev, out, len, hash) != 0) abort();
    crdt_batch_builder_release(&b);
}

/* Creates a fresh temporary directory; the caller removes it with test_rmdir. */
static inline char *test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = malloc(4096);
    snprintf(path, 4096, "%s/truyvet-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(path)) abort();
    return path;
}

static inline void test_rmdir(char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) abort();
    free(path);
}

/* --- a node in a temporary directory, as a cmocka setup and teardown ------------------ */

/* *state of test_node_setup: the node, open for writing (and unlocked: tv_node_create
 * leaves its key in the process's keyring), and its directory. */
typedef struct test_node {
    char *dir;
    tv_node n;
} test_node;

static inline int test_node_setup(void **state, tv_role role, const char *unit, const char *name)
{
    test_node *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    if (tv_node_create(f->dir, role, unit, name, TV_TEST_PASS, id)) return -1;
    if (tv_node_open(&f->n, f->dir, TV_NODE_WRITE)) return -1;
    *state = f;
    return 0;
}

/* A commune node of unit 22333. */
static inline int test_commune_setup(void **state)
{
    return test_node_setup(state, TV_ROLE_COMMUNE, "22333", "xa");
}

/* A province node of unit 56. */
static inline int test_province_setup(void **state)
{
    return test_node_setup(state, TV_ROLE_PROVINCE, "56", "tinh");
}

/* What n's store holds (events, batches...); all ones when it cannot be read. */
static inline store_counts test_counts(tv_node *n)
{
    store_txn *t;
    store_counts c;
    memset(&c, 0xff, sizeof c);
    if (store_read_begin(n->st, &t) == 0) {
        if (store_counts_get(t, &c)) memset(&c, 0xff, sizeof c);
        store_read_end(t);
    }
    return c;
}

static inline int test_node_teardown(void **state)
{
    test_node *f = *state;
    (void)tv_node_forget_unlocked(&f->n);
    tv_node_close(&f->n);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

/* Registers a market named name at n's commune (tv_venue_register); returns its result. */
static inline int test_market_add(tv_node *n, const char *name)
{
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){name, (uint32_t)strlen(name)};
    v.category = tv_venue_category_parse("market")->code;
    return tv_venue_register(n, &v);
}

#endif
