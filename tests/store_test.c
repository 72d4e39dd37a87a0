/* Tests of the store over a real LMDB environment: the apply path, chains, idempotence,
 * reopening, map growth, order-independent views, indexes and aggregates. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/fixture/certtree.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

typedef struct apply_ctx {
    const uint8_t *buf;
    size_t len;
    store_apply_result r;
    int64_t now;
    int rc;
} apply_ctx;

/* As a node applies a received batch: a refused batch does not abort the transaction
 * (fork evidence, for one, must be kept). */
static int apply_fn(store_txn *t, void *arg)
{
    apply_ctx *c = arg;
    c->rc = store_apply_batch(t, c->buf, c->len, c->now, &c->r);
    return c->rc == TV_ESTORE || c->rc == TV_ENOMEM ? c->rc : 0;
}

static int apply(store *s, const uint8_t *buf, size_t len, store_apply_result *r)
{
    apply_ctx c = {.buf = buf, .len = len, .now = 1700000000000LL};
    int rc = store_write(s, apply_fn, &c);
    if (r) *r = c.r;
    return rc ? rc : c.rc;
}

/* Makes `root` the root of trust of s and enrols each of `ids` as a commune node of unit
 * 22333, as enrolment would (tests/fixture/certtree.h). */
static void trust(store *s, const crdt_identity *const *ids, int n)
{
    static crdt_identity root;
    test_identity(&root, 0xee);
    int rc = fx_trust_communes(s, &root, ids, n, "22333");
    if (rc) fail_msg("trust setup: %s", tv_strerror(rc));
}

static int self_root_fn(store_txn *t, void *arg)
{
    const crdt_identity *id = arg;
    return store_root_set(t, id->pk);
}

static int self_fn(store_txn *t, void *arg)
{
    const crdt_identity *id = arg;
    return store_meta_put(t, "node_id", id->pk, TV_NODE_ID_BYTES);
}

/* Makes s the store of node id (its own batches are not judged; its certificate decides
 * what waits for a venue's registration). */
static void be_node(store *s, const crdt_identity *id)
{
    assert_int_equal(store_write(s, self_fn, (void *)id), 0);
}

/* Makes s the store of a commune of unit 22402, whose scope does not cover the test
 * scans' unit 22333: their venues' events are kept as bytes only (V3), so tests of batch
 * mechanics need no venue registrations. */
static void be_outsider(store *s);

static store_counts counts(store *s)
{
    store_txn *t;
    store_counts c;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);
    return c;
}

static store_frontier frontier(store *s, const uint8_t *origin)
{
    store_txn *t;
    store_frontier f;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_frontier_get(t, origin, &f);
    assert_true(rc == 0 || rc == TV_ENOTFOUND);
    store_read_end(t);
    return f;
}

static void test_chain_apply_reopen(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity id;
    test_identity(&id, 1);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    be_outsider(s);
    uint8_t *b1, *b2, h1[TV_HASH_BYTES], h2[TV_HASH_BYTES];
    size_t l1, l2;
    test_seal_scans(&id, 1, NULL, 10, 100, &b1, &l1, h1);
    test_seal_scans(&id, 11, h1, 5, 200, &b2, &l2, h2);
    store_apply_result r;
    assert_int_equal(apply(s, b1, l1, &r), 0);
    assert_int_equal(r.applied, 10);
    assert_int_equal(apply(s, b2, l2, &r), 0);
    assert_int_equal(r.applied, 5);

    /* a replayed batch changes nothing */
    assert_int_equal(apply(s, b1, l1, &r), 0);
    assert_true(r.duplicate);
    assert_int_equal(r.applied, 0);
    store_counts c = counts(s);
    assert_int_equal(c.events, 15);
    assert_int_equal(c.batches, 2);
    assert_int_equal(c.origins, 1);
    assert_int_equal(c.by_type[CRDT_EV_SCAN], 15);
    store_close(s);

    /* everything is still there after reopening */
    assert_int_equal(store_open(&s, dir, NULL), 0);
    c = counts(s);
    assert_int_equal(c.events, 15);
    store_frontier f = frontier(s, id.pk);
    assert_int_equal(f.seq, 15);
    assert_memory_equal(f.hash, h2, TV_HASH_BYTES);
    assert_int_equal(f.hlc_max, 204);
    store_close(s);
    free(b1);
    free(b2);
    test_rmdir(dir);
}

/* The occupied slots of a memo of verified signatures. */
static size_t memo_used(const crdt_sig_memo *m)
{
    static const uint8_t zero[CRDT_SIG_MEMO_KEY_BYTES];
    size_t n = 0;
    for (size_t i = 0; i <= m->mask; i++)
        n += memcmp(m->slot[i], zero, sizeof zero) != 0;
    return n;
}

/* A store verifies through the memo its opener gives it, and stores given the same memo (the
 * simulator's nodes) verify a signature once between them. */
static void test_sig_memo_per_opener(void **state)
{
    (void)state;
    crdt_sig_memo m;
    assert_int_equal(crdt_sig_memo_init(&m, 10), 0);
    store_opts o = {.sig_memo = &m};
    char *da = test_tmpdir(), *db = test_tmpdir();
    store *a, *b;
    assert_int_equal(store_open(&a, da, &o), 0);
    assert_int_equal(store_open(&b, db, &o), 0);
    crdt_identity id;
    test_identity(&id, 1);
    const crdt_identity *ids[] = {&id};
    trust(a, ids, 1);
    be_outsider(a);
    trust(b, ids, 1);
    be_outsider(b);
    size_t certs = memo_used(&m);
    assert_true(certs > 0); /* the certificates installed were verified through it */
    uint8_t *b1, h1[TV_HASH_BYTES];
    size_t l1;
    test_seal_scans(&id, 1, NULL, 10, 100, &b1, &l1, h1);
    store_apply_result r;
    assert_int_equal(apply(a, b1, l1, &r), 0);
    assert_int_equal(r.applied, 10);
    assert_int_equal(memo_used(&m), certs + 1); /* the batch's signature, noted */
    assert_int_equal(apply(b, b1, l1, &r), 0);
    assert_int_equal(r.applied, 10);
    assert_int_equal(memo_used(&m), certs + 1); /* known already: nothing new */
    store_close(a);
    store_close(b);
    crdt_sig_memo_release(&m);
    free(b1);
    test_rmdir(da);
    test_rmdir(db);
}

static void test_chain_faults_rejected(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity id;
    test_identity(&id, 2);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    be_outsider(s);
    uint8_t *b1, *b2, *bad, *gap, *fork, *late, h1[TV_HASH_BYTES], h[TV_HASH_BYTES];
    uint8_t wrong[TV_HASH_BYTES];
    size_t l1, l2, lbad, lgap, lfork, llate;
    memset(wrong, 0xaa, sizeof wrong);
    test_seal_scans(&id, 1, NULL, 4, 100, &b1, &l1, h1);
    test_seal_scans(&id, 5, h1, 4, 200, &b2, &l2, h);
    test_seal_scans(&id, 5, wrong, 4, 200, &bad, &lbad, h);  /* wrong predecessor */
    test_seal_scans(&id, 9, h1, 4, 300, &gap, &lgap, h);     /* skips seq 5..8 */
    test_seal_scans(&id, 1, NULL, 4, 101, &fork, &lfork, h); /* other events at seq 1 */
    test_seal_scans(&id, 5, h1, 4, 50, &late, &llate, h);    /* HLC goes backwards */

    assert_int_equal(apply(s, b2, l2, NULL), TV_EGAP); /* before its predecessor */
    assert_int_equal(apply(s, b1, l1, NULL), 0);
    assert_int_equal(apply(s, gap, lgap, NULL), TV_EGAP);
    assert_int_equal(apply(s, late, llate, NULL), TV_ECHAIN);
    store_counts c = counts(s);
    assert_int_equal(c.events, 4); /* none of the faulty batches left a trace */
    assert_int_equal(c.batches, 1);
    assert_int_equal(frontier(s, id.pk).seq, 4);
    assert_int_equal(apply(s, b2, l2, NULL), 0); /* the right successor still applies */
    assert_int_equal(frontier(s, id.pk).seq, 8);

    /* a validly signed batch at a place the log already fills differently is a fork: it
     * is kept as evidence and the origin is frozen */
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_frozen(t, id.pk), 0);
    store_read_end(t);
    assert_int_equal(apply(s, fork, lfork, NULL), TV_EFORK);
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_frozen(t, id.pk), 1);
    store_read_end(t);
    assert_int_equal(apply(s, bad, lbad, NULL), TV_EFROZEN);
    assert_int_equal(counts(s).events, 8);

    /* a tampered batch is refused by the apply path itself */
    b1[l1 - 3] ^= 1;
    assert_int_not_equal(apply(s, b1, l1, NULL), 0);
    store_close(s);
    free(b1);
    free(b2);
    free(bad);
    free(gap);
    free(fork);
    free(late);
    test_rmdir(dir);
}

/* A map far too small for the data grows by itself; nothing is lost on the way. */
static void test_map_grows(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    store_opts o = {.map_bytes = 64 * 1024};
    assert_int_equal(store_open(&s, dir, &o), 0);
    crdt_identity id;
    test_identity(&id, 3);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    be_outsider(s);
    uint8_t prev[TV_HASH_BYTES];
    uint64_t seq = 1, hlc = 1;
    for (int i = 0; i < 40; i++) {
        uint8_t *b, h[TV_HASH_BYTES];
        size_t l;
        test_seal_scans(&id, seq, seq == 1 ? NULL : prev, 500, hlc, &b, &l, h);
        assert_int_equal(apply(s, b, l, NULL), 0);
        memcpy(prev, h, sizeof h);
        seq += 500;
        hlc += 1000;
        free(b);
    }
    store_size sz;
    assert_int_equal(store_size_get(s, &sz), 0);
    assert_true(sz.map_bytes > 64 * 1024);
    assert_int_equal(counts(s).events, 20000);
    store_close(s);
    test_rmdir(dir);
}

/* --- order independence of views -------------------------------------------------- */

#define ORIGINS 3
#define BATCHES_PER_ORIGIN 4
#define VENUES 3

_Static_assert(VENUES == ORIGINS, "each origin registers one venue");

typedef struct log_set {
    uint8_t *buf[ORIGINS][BATCHES_PER_ORIGIN];
    size_t len[ORIGINS][BATCHES_PER_ORIGIN];
    uint64_t last_seq[ORIGINS][BATCHES_PER_ORIGIN];
    uint8_t venue[VENUES][TV_VENUE_ID_BYTES]; /* venue v is registered by origin v */
} log_set;

/* Three origins each write a few batches of venue upserts (random fields, colliding HLCs
 * across origins on purpose) and scans. Origin v registers venue v as the first event of
 * its log and writes only about it in its first batch (an origin writes about another's
 * venue once it holds the registration); from its second batch on, it writes about any
 * of the three. */
static void make_logs(log_set *ls, fx_rng *rng)
{
    static const char *const names[] = {"Chợ Vĩnh Hải", "Quán Bà Tư", "Trường Tiểu học",
                                        "Nhà văn hoá", "Cà phê Sóng"};
    static const char *const villages[] = {"Tổ 1", "Tổ 2", "Thôn Đông", ""};
    for (int v = 0; v < VENUES; v++) {
        crdt_identity id;
        test_identity(&id, (uint8_t)(20 + v));
        test_venue_id(ls->venue[v], id.pk, 0x10 + (uint64_t)v, NULL);
    }
    for (int o = 0; o < ORIGINS; o++) {
        crdt_identity id;
        test_identity(&id, (uint8_t)(20 + o));
        uint8_t tag[VENUES][3][CRDT_TAG_BYTES];
        int added[VENUES][3] = {{0}};
        uint8_t prev[TV_HASH_BYTES];
        uint64_t seq = 1, hlc = 1000;
        for (int bi = 0; bi < BATCHES_PER_ORIGIN; bi++) {
            crdt_batch_builder b;
            crdt_batch_builder_init(&b);
            uint32_t n = 1 + (uint32_t)fx_rng_below(rng, 6);
            for (uint32_t e = 0; e < n; e++) {
                hlc += 1 + fx_rng_below(rng, 3); /* small steps: HLCs collide across origins */
                uint64_t kind = fx_rng_below(rng, 6);
                int venue = bi == 0 ? o : (int)fx_rng_below(rng, VENUES);
                if (bi == 0 && e == 0) kind = 6; /* the registration */
                static const char *const phones[] = {"0911000001", "0911000002", "0911000003"};
                if (kind == 3) {
                    /* a controller added, or the adds of one phone this origin saw removed */
                    int v = venue, ph = (int)fx_rng_below(rng, 3);
                    crdt_controller c = {.unit = {"22333", 5}, .phone = {phones[ph], 10}};
                    memcpy(c.venue, ls->venue[v], TV_VENUE_ID_BYTES);
                    uint32_t type = CRDT_EV_CONTROLLER_ADD;
                    if (fx_rng_below(rng, 2) && added[v][ph]) {
                        type = CRDT_EV_CONTROLLER_REMOVE;
                        c.tags = tag[v][ph];
                        c.ntags = 1;
                    } else {
                        memcpy(tag[v][ph], id.pk, TV_NODE_ID_BYTES);
                        test_be64(tag[v][ph] + TV_NODE_ID_BYTES, seq + e);
                        added[v][ph] = 1;
                    }
                    assert_int_equal(crdt_event_pack_controller(&b.pk, type, hlc, &c), 0);
                } else if (kind == 4) {
                    crdt_reminder r = {.unit = {"22333", 5},
                                       .note = {"chưa quét", fx_rng_below(rng, 2) ? 10 : 0},
                                       .action = fx_rng_below(rng, 4) == 0 ? CRDT_REINSTATE
                                                                           : CRDT_REMIND};
                    memcpy(r.venue, ls->venue[venue], TV_VENUE_ID_BYTES);
                    assert_int_equal(crdt_event_pack_reminder(&b.pk, hlc, &r), 0);
                } else if (kind == 5) {
                    static const uint8_t box[60] = {1, 2, 3};
                    crdt_person pe = {.unit = {"22333", 5},
                                      .name_masked = {"Nguyễn V** A", 14},
                                      .id_masked = {"09******78", 10},
                                      .birth_year = 1990 + (uint32_t)fx_rng_below(rng, 3),
                                      .nsealed = 1};
                    memset(pe.person, (int)fx_rng_below(rng, 4), TV_PERSON_REF_BYTES);
                    pe.sealed[0] = (crdt_sealed){.box = box, .len = sizeof box};
                    assert_int_equal(crdt_event_pack_person(&b.pk, hlc, &pe), 0);
                } else if (kind == 0) {
                    crdt_scan sc =
                        test_scan((uint32_t)fx_rng_next(rng),
                                  1633482000000LL + (int64_t)fx_rng_below(rng, 3) * 86400000LL);
                    memcpy(sc.venue, ls->venue[venue], TV_VENUE_ID_BYTES);
                    assert_int_equal(crdt_event_pack_scan(&b.pk, hlc, &sc), 0);
                } else {
                    /* random fields; every upsert names the registered unit (V2) */
                    crdt_venue_upsert u = {
                        .fields = 1 + (uint32_t)fx_rng_below(rng, (1u << CRDT_VENUE_FIELDS) - 1)};
                    u.fields |= CRDT_VENUE_F_UNIT;
                    if (kind == 6) {
                        test_venue_register(&u, id.pk, 0x10 + (uint64_t)o, "22333", "");
                        u.fields = CRDT_VENUE_F_UNIT | (uint32_t)fx_rng_below(rng, 64);
                    }
                    const char *name = names[fx_rng_below(rng, 5)];
                    const char *village = villages[fx_rng_below(rng, 4)];
                    memcpy(u.venue, ls->venue[venue], TV_VENUE_ID_BYTES);
                    u.unit = (crdt_text){"22333", 5};
                    u.name = (crdt_text){name, (uint32_t)strlen(name)};
                    u.village = (crdt_text){village, (uint32_t)strlen(village)};
                    u.owner_phone = (crdt_text){"0912345678", 10};
                    u.category = 1 + (uint32_t)fx_rng_below(rng, 25);
                    assert_int_equal(crdt_event_pack_venue(&b.pk, hlc, &u), 0);
                }
                crdt_batch_builder_note(&b, hlc);
            }
            uint8_t h[TV_HASH_BYTES];
            assert_int_equal(crdt_batch_seal(&b, &id, seq, seq == 1 ? NULL : prev, &ls->buf[o][bi],
                                             &ls->len[o][bi], h),
                             0);
            memcpy(prev, h, sizeof h);
            seq += n;
            ls->last_seq[o][bi] = seq - 1;
            crdt_batch_builder_release(&b);
        }
    }
}

typedef struct view_buf {
    uint8_t *out;
    size_t *n, cap;
} view_buf;

static int controller_out(const char *phone, uint64_t hlc, void *arg)
{
    (void)hlc; /* which live add is reported depends on key order, not on arrival */
    view_buf *b = arg;
    size_t len = strlen(phone) + 1;
    assert_true(*b->n + len <= b->cap);
    memcpy(b->out + *b->n, phone, len);
    *b->n += len;
    return 0;
}

static int parked_count_fn(const store_parked *p, void *arg)
{
    (void)p;
    (*(int *)arg)++;
    return 0;
}

static int parked_now(store *s)
{
    store_txn *t;
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_parked_foreach(t, parked_count_fn, &n), 0);
    store_read_end(t);
    return n;
}

/* Applies every batch in a random interleaving that keeps each origin's own order, at a
 * receiver whose certificate covers the venues' unit (so a batch about a venue whose
 * registration has not arrived yet is parked, and let through when it arrives), and
 * returns the venue views, venue statuses and controllers, person records and the
 * aggregates as one byte string. Counts the batches parked into *parked. */
static size_t apply_shuffled(const log_set *ls, fx_rng *rng, uint8_t *out, size_t cap, int *parked)
{
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity who[ORIGINS + 1];
    const crdt_identity *ids[ORIGINS + 1];
    for (int i = 0; i <= ORIGINS; i++) {
        test_identity(&who[i], (uint8_t)(20 + i)); /* who[ORIGINS]: the receiver */
        ids[i] = &who[i];
    }
    trust(s, ids, ORIGINS + 1);
    be_node(s, &who[ORIGINS]);
    int next[ORIGINS] = {0}; /* each origin's first batch not held yet */
    for (int rounds = 0;; rounds++) {
        int o, left = 0;
        for (o = 0; o < ORIGINS; o++)
            left += next[o] < BATCHES_PER_ORIGIN;
        if (!left) break;
        if (rounds > 100 * ORIGINS * BATCHES_PER_ORIGIN) fail_msg("parked batches never released");
        do
            o = (int)fx_rng_below(rng, ORIGINS);
        while (next[o] == BATCHES_PER_ORIGIN);
        /* a sender offers its next batch not yet held, again if it was parked */
        store_apply_result r;
        int rc = apply(s, ls->buf[o][next[o]], ls->len[o][next[o]], &r);
        if (rc == TV_EPARKED) {
            assert_string_equal(r.rule, STORE_RULE_V3);
            (*parked)++;
        } else if (rc) {
            fail_msg("origin %d batch %d: %s (%s)", o, next[o], tv_strerror(rc),
                     r.rule ? r.rule : "-");
        }
        /* what was applied, or released from the park by it, is held */
        for (int i = 0; i < ORIGINS; i++) {
            uint64_t held = frontier(s, who[i].pk).seq;
            while (next[i] < BATCHES_PER_ORIGIN && ls->last_seq[i][next[i]] <= held)
                next[i]++;
        }
    }
    assert_int_equal(parked_now(s), 0);
    size_t n = 0;
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    for (int v = 0; v < VENUES; v++) {
        const uint8_t *raw;
        size_t len;
        if (store_venue_raw(t, ls->venue[v], &raw, &len) != 0) continue;
        assert_true(n + len <= cap);
        memcpy(out + n, raw, len);
        n += len;
    }
    for (int v = 0; v < VENUES; v++) {
        store_venue_status st;
        assert_int_equal(store_venue_status_get(t, ls->venue[v], &st), 0);
        assert_true(n + sizeof st <= cap);
        memcpy(out + n, &st, sizeof st);
        n += sizeof st;
        view_buf vb = {out, &n, cap};
        assert_int_equal(store_controllers_foreach(t, ls->venue[v], controller_out, &vb), 0);
    }
    for (int p = 0; p < 4; p++) {
        uint8_t ref[TV_PERSON_REF_BYTES];
        memset(ref, p, sizeof ref);
        store_person pr;
        if (store_person_get(t, ref, &pr) != 0) continue;
        assert_true(n + pr.raw_len + 8 <= cap);
        memcpy(out + n, pr.raw, pr.raw_len);
        n += pr.raw_len;
        memcpy(out + n, &pr.seq, 8);
        n += 8;
    }
    for (int32_t day = 18905; day <= 18909; day++) {
        store_agg a;
        assert_int_equal(store_agg_get(t, "22333", day, &a), 0);
        assert_true(n + sizeof a <= cap);
        memcpy(out + n, &a, sizeof a);
        n += sizeof a;
    }
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
    return n;
}

static void test_views_independent_of_order(void **state)
{
    (void)state;
    int parked = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        fx_rng rng = {seed};
        log_set ls;
        make_logs(&ls, &rng);
        static uint8_t first[65536], again[65536];
        size_t n1 = apply_shuffled(&ls, &rng, first, sizeof first, &parked);
        assert_true(n1 > 0);
        for (int perm = 0; perm < 6; perm++) {
            size_t n2 = apply_shuffled(&ls, &rng, again, sizeof again, &parked);
            assert_int_equal(n1, n2);
            if (memcmp(first, again, n1) != 0)
                fail_msg("seed %llu permutation %d: views differ", (unsigned long long)seed, perm);
        }
        for (int o = 0; o < ORIGINS; o++)
            for (int b = 0; b < BATCHES_PER_ORIGIN; b++)
                free(ls.buf[o][b]);
    }
    assert_true(parked > 0); /* some orders did make batches wait for a registration */
}

/* --- indexes and aggregates -------------------------------------------------------- */

typedef struct collect {
    store_scan_ref s[64];
    int n;
} collect;

static int collect_fn(const store_scan_ref *s, void *arg)
{
    collect *c = arg;
    if (c->n < 64) c->s[c->n] = *s;
    c->n++;
    return 0;
}

static void test_indexes_and_aggregates(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity id;
    test_identity(&id, 9);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    const int64_t day0 = 1633453200000LL; /* 2021-10-06T00:00:00+07:00 */
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    /* the origin registers venues A and B first (seq 1 and 2) */
    uint8_t venues[2][TV_VENUE_ID_BYTES];
    for (int i = 0; i < 2; i++) {
        crdt_venue_upsert reg;
        test_venue_register(&reg, id.pk, 0xA + (uint64_t)i, "22333", i ? "Quán B" : "Chợ A");
        memcpy(venues[i], reg.venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_venue(&b.pk, 8 + (uint64_t)i, &reg), 0);
        crdt_batch_builder_note(&b, 8 + (uint64_t)i);
    }
    /* venue A: person P in at 08:00 and out at 09:00 on day 0, in at 23:59 (day 0);
     * venue B: person Q in at 00:00 on day 1 (a new Vietnamese day) */
    struct {
        int venue, person, dir;
        int64_t at;
    } rows[] = {{0, 1, CRDT_DIR_IN, day0 + 8 * 3600000LL},
                {0, 1, CRDT_DIR_OUT, day0 + 9 * 3600000LL},
                {0, 2, CRDT_DIR_IN, day0 + 86400000LL - 60000},
                {1, 2, CRDT_DIR_IN, day0 + 86400000LL}};
    for (int i = 0; i < 4; i++) {
        crdt_scan sc = test_scan(0, rows[i].at);
        memcpy(sc.venue, venues[rows[i].venue], TV_VENUE_ID_BYTES);
        memset(sc.person, rows[i].person, TV_PERSON_REF_BYTES);
        sc.direction = (uint8_t)rows[i].dir;
        assert_int_equal(crdt_event_pack_scan(&b.pk, 10 + (uint64_t)i, &sc), 0);
        crdt_batch_builder_note(&b, 10 + (uint64_t)i);
    }
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    assert_int_equal(crdt_batch_seal(&b, &id, 1, NULL, &buf, &len, h), 0);
    crdt_batch_builder_release(&b);
    assert_int_equal(apply(s, buf, len, NULL), 0);
    free(buf);
    /* a second batch with one more check-in at venue A on day 0: still one active venue */
    crdt_batch_builder_init(&b);
    crdt_scan more = test_scan(0, day0 + 12 * 3600000LL);
    memcpy(more.venue, venues[0], TV_VENUE_ID_BYTES);
    more.direction = CRDT_DIR_IN;
    assert_int_equal(crdt_event_pack_scan(&b.pk, 20, &more), 0);
    crdt_batch_builder_note(&b, 20);
    assert_int_equal(crdt_batch_seal(&b, &id, 7, h, &buf, &len, h), 0);
    crdt_batch_builder_release(&b);
    assert_int_equal(apply(s, buf, len, NULL), 0);

    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    const uint8_t *va = venues[0];
    uint8_t p2[TV_PERSON_REF_BYTES];
    memset(p2, 2, sizeof p2);
    collect c = {0};
    assert_int_equal(store_scans_by_venue(t, va, day0, day0 + 86400000LL, collect_fn, &c), 0);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.s[0].at_ms, day0 + 8 * 3600000LL);
    assert_int_equal(c.s[1].direction, CRDT_DIR_OUT);
    assert_int_equal(c.s[2].seq, 7); /* 12:00, recorded last, sorts by time */
    assert_int_equal(c.s[3].seq, 5);
    c.n = 0; /* a wide range over days with and without data */
    assert_int_equal(
        store_scans_by_venue(t, va, day0 - 40 * 86400000LL, day0 + 40 * 86400000LL, collect_fn, &c),
        0);
    assert_int_equal(c.n, 4);
    c.n = 0; /* the end of the range is exclusive */
    assert_int_equal(store_scans_by_venue(t, va, day0, day0 + 9 * 3600000LL, collect_fn, &c), 0);
    assert_int_equal(c.n, 1);
    c.n = 0;
    assert_int_equal(store_scans_by_person(t, p2, 0, INT64_MAX, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.s[0].venue, venues[0], TV_VENUE_ID_BYTES);
    assert_memory_equal(c.s[1].venue, venues[1], TV_VENUE_ID_BYTES);

    store_agg a;
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(day0), &a), 0);
    assert_int_equal(a.scans_in, 3);
    assert_int_equal(a.scans_out, 1);
    assert_int_equal(a.venues_active, 1);
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(day0) + 1, &a), 0);
    assert_int_equal(a.scans_in, 1);
    assert_int_equal(a.venues_active, 1);
    assert_int_equal(crdt_hll_estimate(a.visitors), 1);
    assert_int_equal(store_agg_get(t, "99999", crdt_day_vn(day0), &a), 0);
    assert_int_equal(a.scans_in, 0);
    /* distinct visitors: P0, P1, P2 in on day 0 (P1's check-out is no visit), P2 again on
     * day 1 -- three people over the two days, not four */
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(day0), &a), 0);
    assert_int_equal(crdt_hll_estimate(a.visitors), 3);
    assert_int_equal(store_agg_sum(t, "22333", crdt_day_vn(day0), crdt_day_vn(day0) + 1, &a), 0);
    assert_int_equal(a.scans_in, 4);
    assert_int_equal(a.venues_active, 2);
    assert_int_equal(crdt_hll_estimate(a.visitors), 3);
    store_read_end(t);
    store_close(s);
    free(buf);
    test_rmdir(dir);
}

/* Several batches in one transaction (group commit): one bad batch among them is refused
 * without taking the good ones with it. */
typedef struct group_ctx {
    uint8_t *buf[3];
    size_t len[3];
    int rc[3];
} group_ctx;

static int group_fn(store_txn *t, void *arg)
{
    group_ctx *g = arg;
    for (int i = 0; i < 3; i++) {
        store_apply_result r;
        g->rc[i] = store_apply_batch(t, g->buf[i], g->len[i], 0, &r);
    }
    return 0;
}

static void test_group_commit_isolates_bad_batch(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a, b;
    test_identity(&a, 30);
    test_identity(&b, 31);
    const crdt_identity *ids[] = {&a, &b};
    trust(s, ids, 2);
    be_outsider(s);
    group_ctx g;
    uint8_t h[TV_HASH_BYTES];
    test_seal_scans(&a, 1, NULL, 3, 10, &g.buf[0], &g.len[0], h);
    test_seal_scans(&b, 1, NULL, 3, 10, &g.buf[1], &g.len[1], h);
    test_seal_scans(&a, 4, h, 3, 20, &g.buf[2], &g.len[2], h); /* b's hash: broken chain */
    g.buf[1][g.len[1] / 2] ^= 0x40;                            /* and b's batch is tampered */
    assert_int_equal(store_write(s, group_fn, &g), 0);
    assert_int_equal(g.rc[0], 0);
    assert_int_not_equal(g.rc[1], 0);
    assert_int_equal(g.rc[2], TV_EFORK); /* names a predecessor a never wrote: a fork */
    store_counts c = counts(s);
    assert_int_equal(c.events, 3);
    assert_int_equal(c.origins, 1);
    assert_int_equal(frontier(s, b.pk).seq, 0);
    store_close(s);
    for (int i = 0; i < 3; i++)
        free(g.buf[i]);
    test_rmdir(dir);
}

/* --- people and venue compliance ------------------------------------------------------ */

/* One origin's log built event by event, each event its own batch. */
typedef struct one_log {
    store *s;
    const crdt_identity *id;
    uint64_t seq, hlc;
    uint8_t prev[TV_HASH_BYTES];
    int64_t next_ms;   /* when set, the next event's HLC time (then cleared) */
    const char *rule;  /* log_try_end: the rule of the last refusal or parking */
    uint32_t released; /* log_try_end: parked batches the last batch let through */
} one_log;

static void log_begin(one_log *l, crdt_batch_builder *b)
{
    crdt_batch_builder_init(b);
    l->hlc =
        crdt_hlc_make(l->next_ms ? (uint64_t)l->next_ms : 1633482000000ULL + l->seq * 60000, 0);
    l->next_ms = 0;
}

static uint64_t log_end(one_log *l, crdt_batch_builder *b)
{
    crdt_batch_builder_note(b, l->hlc);
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    uint64_t seq = l->seq + 1;
    assert_int_equal(crdt_batch_seal(b, l->id, seq, l->seq ? l->prev : NULL, &buf, &len, h), 0);
    assert_int_equal(apply(l->s, buf, len, NULL), 0);
    memcpy(l->prev, h, sizeof h);
    l->seq = seq;
    free(buf);
    crdt_batch_builder_release(b);
    return seq;
}

/* l's origin registers a venue in unit 22333 (nonce from seed); its id into venue. */
static void log_register(one_log *l, uint64_t seed, uint8_t venue[TV_VENUE_ID_BYTES])
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_venue_upsert v;
    test_venue_register(&v, l->id->pk, seed, "22333", "Chợ Vĩnh Hải");
    memcpy(venue, v.venue, TV_VENUE_ID_BYTES);
    assert_int_equal(crdt_event_pack_venue(&b.pk, l->hlc, &v), 0);
    log_end(l, &b);
}

static void log_reminder(one_log *l, const uint8_t *venue, uint8_t action)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_reminder r = {.unit = {"22333", 5}, .action = action};
    memcpy(r.venue, venue, TV_VENUE_ID_BYTES);
    assert_int_equal(crdt_event_pack_reminder(&b.pk, l->hlc, &r), 0);
    log_end(l, &b);
}

static void log_scan(one_log *l, const uint8_t *venue)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_scan sc = test_scan(1, (int64_t)crdt_hlc_ms(l->hlc));
    memcpy(sc.venue, venue, TV_VENUE_ID_BYTES);
    assert_int_equal(crdt_event_pack_scan(&b.pk, l->hlc, &sc), 0);
    log_end(l, &b);
}

static store_venue_status venue_status(store *s, const uint8_t *venue)
{
    store_txn *t;
    store_venue_status st;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_venue_status_get(t, venue, &st), 0);
    store_read_end(t);
    return st;
}

/* Three reminders suspend a venue; a scan recorded after them, or a reinstatement, lifts
 * the suspension; reminders before a scan do not count towards the next one. */
static void test_reminders_suspend(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity id;
    test_identity(&id, 3);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    one_log l = {.s = s, .id = &id};
    uint8_t venue[TV_VENUE_ID_BYTES];
    log_register(&l, 9, venue);

    log_reminder(&l, venue, CRDT_REMIND);
    log_reminder(&l, venue, CRDT_REMIND);
    store_venue_status st = venue_status(s, venue);
    assert_int_equal(st.reminders, 2);
    assert_false(st.suspended);
    assert_true(st.last_scan_ms == INT64_MIN);
    log_reminder(&l, venue, CRDT_REMIND);
    st = venue_status(s, venue);
    assert_int_equal(st.reminders_active, 3);
    assert_true(st.suspended);

    log_scan(&l, venue); /* the venue records a scan: back in order */
    st = venue_status(s, venue);
    assert_false(st.suspended);
    assert_int_equal(st.reminders_active, 0);
    assert_int_equal(st.reminders, 3);
    assert_true(st.last_scan_ms == (int64_t)crdt_hlc_ms(l.hlc));

    for (int i = 0; i < 3; i++)
        log_reminder(&l, venue, CRDT_REMIND);
    assert_true(venue_status(s, venue).suspended);
    log_reminder(&l, venue, CRDT_REINSTATE);
    st = venue_status(s, venue);
    assert_false(st.suspended);
    assert_int_equal(st.reminders, 6);
    /* the day's figures count the six reminders, not the reinstatement */
    store_txn *t;
    store_agg a;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(1633482000000LL), &a), 0);
    store_read_end(t);
    assert_int_equal(a.reminders, 6);
    assert_int_equal(a.scans_in + a.scans_out, 1);
    log_reminder(&l, venue, CRDT_REMIND);
    log_reminder(&l, venue, CRDT_REMIND);
    assert_false(venue_status(s, venue).suspended);
    log_reminder(&l, venue, CRDT_REMIND);
    assert_true(venue_status(s, venue).suspended);
    store_close(s);
    test_rmdir(dir);
}

typedef struct phones {
    char list[8][16];
    int n;
} phones;

static int collect_phone(const char *phone, uint64_t hlc, void *arg)
{
    (void)hlc;
    phones *p = arg;
    assert_true(p->n < 8);
    strcpy(p->list[p->n++], phone);
    return 0;
}

static phones controllers(store *s, const uint8_t *venue)
{
    store_txn *t;
    phones p = {.n = 0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_controllers_foreach(t, venue, collect_phone, &p), 0);
    store_read_end(t);
    return p;
}

static uint64_t log_controller(one_log *l, const uint8_t *venue, const char *phone,
                               const uint8_t *tags, uint32_t ntags)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_controller c = {.unit = {"22333", 5},
                         .phone = {phone, (uint32_t)strlen(phone)},
                         .tags = tags,
                         .ntags = ntags};
    memcpy(c.venue, venue, TV_VENUE_ID_BYTES);
    uint32_t type = ntags ? CRDT_EV_CONTROLLER_REMOVE : CRDT_EV_CONTROLLER_ADD;
    assert_int_equal(crdt_event_pack_controller(&b.pk, type, l->hlc, &c), 0);
    return log_end(l, &b);
}

/* --- the cache of decoded certificates ------------------------------------------------ */

typedef struct recert_ctx {
    const crdt_identity *root, *node;
    int abort;       /* fail the transaction after checking what it reads */
    uint32_t in_txn; /* scope entries read back inside the transaction */
} recert_ctx;

static uint32_t scope_len_of(store_txn *t, const uint8_t *subject)
{
    static crdt_cert c;
    assert_int_equal(store_cert_get(t, subject, &c, NULL, NULL), 0);
    return c.scope_len;
}

static int recert_fn(store_txn *t, void *arg)
{
    recert_ctx *x = arg;
    static const char *const scope[] = {"22333", "22334"};
    fx_cert_spec c = {.subject = x->node->pk,
                      .role = CRDT_ROLE_COMMUNE,
                      .unit = "22333",
                      .scope = scope,
                      .scope_len = 2,
                      .not_before_ms = 1000}; /* later than the first: it replaces it */
    int rc = fx_cert_install(t, x->root, &c);
    if (rc) return rc;
    x->in_txn = scope_len_of(t, x->node->pk);
    return x->abort ? TV_EINVAL : 0;
}

static uint32_t scope_len_now(store *s, const uint8_t *subject)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    uint32_t n = scope_len_of(t, subject);
    store_read_end(t);
    return n;
}

/* A certificate read back comes from the cache while no certificate was written; one
 * written shows at once in its own transaction, never after that transaction aborted, and
 * everywhere once committed. */
static void test_cert_cache(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity node, root;
    test_identity(&node, 3);
    test_identity(&root, 0xee);
    const crdt_identity *ids[] = {&node};
    trust(s, ids, 1);
    assert_int_equal(scope_len_now(s, node.pk), 1); /* fills the cache */
    assert_int_equal(scope_len_now(s, node.pk), 1); /* from it */
    recert_ctx x = {.root = &root, .node = &node, .abort = 1};
    assert_int_equal(store_write(s, recert_fn, &x), TV_EINVAL);
    assert_int_equal(x.in_txn, 2);
    assert_int_equal(scope_len_now(s, node.pk), 1); /* the aborted write left nothing */
    x.abort = 0;
    assert_int_equal(store_write(s, recert_fn, &x), 0);
    assert_int_equal(x.in_txn, 2);
    assert_int_equal(scope_len_now(s, node.pk), 2);
    store_close(s);
    /* and another handle (another process) sees the same */
    assert_int_equal(store_open(&s, dir, NULL), 0);
    assert_int_equal(scope_len_now(s, node.pk), 2);
    store_close(s);
    test_rmdir(dir);
}

/* Counts the scans of a person the indexes hold on 2021-10-06, by the kind of log: the
 * accepted one, or fork evidence. */
typedef struct scan_count {
    int accepted, evidence;
} scan_count;

static int count_scan(const store_scan_ref *r, void *arg)
{
    scan_count *c = arg;
    if (r->origin_no >= 0x80000000u)
        c->evidence++;
    else
        c->accepted++;
    return 0;
}

static scan_count scans_of(store *s, uint32_t k)
{
    crdt_scan sc = test_scan(k, 0);
    store_txn *t;
    scan_count c = {0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(
        store_scans_by_person(t, sc.person, 1633453200000LL, 1633539600000LL, count_scan, &c), 0);
    store_read_end(t);
    return c;
}

typedef struct fork_origin {
    uint32_t evidence;
    int frozen, origins;
} fork_origin;

static int fork_origin_fn(const uint8_t *origin, uint32_t evidence, int frozen, void *arg)
{
    (void)origin;
    fork_origin *f = arg;
    f->evidence = evidence;
    f->frozen = frozen;
    f->origins++;
    return 0;
}

static fork_origin fork_state(store *s)
{
    store_txn *t;
    fork_origin f = {0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_fork_origins_foreach(t, fork_origin_fn, &f), 0);
    store_read_end(t);
    return f;
}

static int first_evidence_batch(const store_scan_ref *r, void *arg)
{
    if (r->origin_no < 0x80000000u) return 0;
    *(store_scan_ref *)arg = *r;
    return 1;
}

/* Both branches of a fork are tracing data: the evidence batch's scans are in the scan
 * indexes under a key of their own (the same seq, venue, person and time as an accepted
 * scan), idempotently; what continues the evidence branch is kept too, bounded; nothing
 * of it counts in the figures; a new certificate lifts the freeze, the evidence stays.
 * The origin's log starts with the registration of the venue of its scans (seq 1), so
 * that they are indexed (V3); the branches diverge after it. */
static void test_fork_evidence_is_tracing_data(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity id;
    test_identity(&id, 3);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    uint8_t *reg, *a, *f1, *f2, *ext, *acc2, venue[TV_VENUE_ID_BYTES], hR[TV_HASH_BYTES];
    uint8_t hA[TV_HASH_BYTES], hF[TV_HASH_BYTES], h[TV_HASH_BYTES];
    size_t lreg, la, lf1, lf2, lext, lacc2;
    test_seal_registration(&id, 1, 1, NULL, 50, venue, &reg, &lreg, hR);
    test_seal_scans_at(&id, venue, 2, hR, 4, 100, &a, &la, hA);
    /* the same scans at the same seqs, other HLCs: other batches (two more branches) */
    test_seal_scans_at(&id, venue, 2, hR, 4, 101, &f1, &lf1, hF);
    test_seal_scans_at(&id, venue, 2, hR, 4, (uint64_t)3000 << CRDT_HLC_LOGICAL_BITS, &f2, &lf2, h);
    test_seal_scans_at(&id, venue, 6, hF, 2, 200, &ext, &lext, h);   /* continues branch f1 */
    test_seal_scans_at(&id, venue, 6, hA, 2, 200, &acc2, &lacc2, h); /* continues the log */
    assert_int_equal(apply(s, reg, lreg, NULL), 0);
    assert_int_equal(apply(s, a, la, NULL), 0);
    assert_int_equal(scans_of(s, 0).accepted, 1); /* indexed: the venue is registered */
    store_counts before = counts(s);
    store_txn *t;
    store_agg agg0, agg;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(1633482000000LL), &agg0), 0);
    store_read_end(t);

    assert_int_equal(apply(s, f1, lf1, NULL), TV_EFORK);
    scan_count c = scans_of(s, 0);
    assert_int_equal(c.accepted, 1);
    assert_int_equal(c.evidence, 1); /* same seq, venue, person, time: a key of its own */
    assert_int_equal(apply(s, f1, lf1, NULL), TV_EFORK); /* again: nothing changes */
    c = scans_of(s, 0);
    assert_int_equal(c.evidence, 1);
    fork_origin fo = fork_state(s);
    assert_int_equal(fo.origins, 1);
    assert_int_equal(fo.evidence, 1);
    assert_true(fo.frozen);
    /* frozen: a third branch does not continue the evidence, nor does the accepted log */
    assert_int_equal(apply(s, f2, lf2, NULL), TV_EFROZEN);
    assert_int_equal(apply(s, acc2, lacc2, NULL), TV_EFROZEN);
    c = scans_of(s, 0);
    assert_int_equal(c.accepted, 1);
    assert_int_equal(c.evidence, 1);

    /* the evidence branch goes on: kept and indexed */
    assert_int_equal(apply(s, ext, lext, NULL), TV_EFORK);
    assert_int_equal(apply(s, ext, lext, NULL), TV_EFORK);
    assert_int_equal(fork_state(s).evidence, 2);
    c = scans_of(s, 1); /* k = 1: in a, f1 and ext */
    assert_int_equal(c.accepted, 1);
    assert_int_equal(c.evidence, 2);

    /* an evidence scan leads to its own batch, verbatim */
    store_scan_ref r = {0};
    const uint8_t *buf;
    size_t len;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(
        store_scans_by_venue(t, venue, 1633453200000LL, 1633539600000LL, first_evidence_batch, &r),
        1);
    assert_int_equal(store_scan_batch(t, &r, &buf, &len), 0);
    assert_int_equal(len, lf1);
    assert_memory_equal(buf, f1, lf1);
    /* not a log of its own, and not in the figures or the counters */
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(1633482000000LL), &agg), 0);
    assert_memory_equal(&agg, &agg0, sizeof agg);
    store_read_end(t);
    store_counts after = counts(s);
    assert_int_equal(after.events, before.events);
    assert_int_equal(after.batches, before.batches);
    assert_int_equal(after.origins, before.origins);

    /* a new certificate lifts the freeze; the evidence stays tracing data */
    uint8_t *idle;
    test_seal_scans_at(&id, venue, 6, hA, 2, (uint64_t)2000 << CRDT_HLC_LOGICAL_BITS, &idle, &len,
                       h);
    crdt_identity root;
    test_identity(&root, 0xee);
    recert_ctx x = {.root = &root, .node = &id};
    assert_int_equal(store_write(s, recert_fn, &x), 0);
    fo = fork_state(s);
    assert_false(fo.frozen);
    assert_int_equal(fo.evidence, 2);
    assert_int_equal(scans_of(s, 1).evidence, 2);
    assert_int_equal(apply(s, idle, len, NULL), 0); /* the accepted log goes on */
    free(idle);
    /* another branch at seq 2, now: evidence of its own, the origin frozen again */
    assert_int_equal(apply(s, f2, lf2, NULL), TV_EFORK);
    fo = fork_state(s);
    assert_true(fo.frozen);
    assert_int_equal(fo.evidence, 3);
    c = scans_of(s, 0);
    assert_int_equal(c.accepted, 2); /* a and the batch after the lift */
    assert_int_equal(c.evidence, 3);
    store_close(s);
    free(reg);
    free(a);
    free(f1);
    free(f2);
    free(ext);
    free(acc2);
    test_rmdir(dir);
}

/* Evidence is bounded: beyond STORE_FORK_EVIDENCE_MAX batches of an origin, what
 * continues its branch is refused as frozen, with nothing written. (The log starts with
 * the registration of its scans' venue; the branches diverge at seq 2.) */
static void test_fork_evidence_bounded(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity id;
    test_identity(&id, 4);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    uint8_t *b, h[TV_HASH_BYTES], prev[TV_HASH_BYTES], hR[TV_HASH_BYTES];
    uint8_t venue[TV_VENUE_ID_BYTES];
    size_t len;
    test_seal_registration(&id, 1, 1, NULL, 50, venue, &b, &len, hR);
    assert_int_equal(apply(s, b, len, NULL), 0);
    free(b);
    test_seal_scans_at(&id, venue, 2, hR, 1, 100, &b, &len, h);
    assert_int_equal(apply(s, b, len, NULL), 0);
    free(b);
    test_seal_scans_at(&id, venue, 2, hR, 1, 101, &b, &len, h);
    assert_int_equal(apply(s, b, len, NULL), TV_EFORK);
    free(b);
    /* the n-th evidence batch is at seq n + 1 */
    for (uint64_t n = 2; n <= STORE_FORK_EVIDENCE_MAX + 1; n++) {
        memcpy(prev, h, sizeof prev);
        test_seal_scans_at(&id, venue, n + 1, prev, 1, 100 + n, &b, &len, h);
        int rc = apply(s, b, len, NULL);
        free(b);
        assert_int_equal(rc, n <= STORE_FORK_EVIDENCE_MAX ? TV_EFORK : TV_EFROZEN);
    }
    assert_int_equal(fork_state(s).evidence, STORE_FORK_EVIDENCE_MAX);
    assert_int_equal(scans_of(s, 0).evidence, STORE_FORK_EVIDENCE_MAX); /* all indexed */
    store_close(s);
    test_rmdir(dir);
}

/* --- tampered batches at an origin's next seq ------------------------------------------ */

typedef struct fork_list {
    const uint8_t *origin, *buf; /* the expected evidence batch */
    size_t len;
    uint64_t first_seq;
    int n, same; /* evidence batches; those that are the expected one, verbatim */
} fork_list;

static int fork_list_fn(const uint8_t *origin, uint64_t first_seq, const uint8_t *buf, size_t len,
                        void *arg)
{
    fork_list *l = arg;
    l->n++;
    if (memcmp(origin, l->origin, TV_NODE_ID_BYTES) == 0 && first_seq == l->first_seq &&
        len == l->len && memcmp(buf, l->buf, len) == 0)
        l->same++;
    return 0;
}

static fork_list forks_of(store *s, const uint8_t *origin, uint64_t first_seq, const uint8_t *buf,
                          size_t len)
{
    fork_list l = {.origin = origin, .buf = buf, .len = len, .first_seq = first_seq};
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_forks_foreach(t, fork_list_fn, &l), 0);
    store_read_end(t);
    return l;
}

/* Nothing of a refused batch is in s: the counters, origin's frontier, the parked batches
 * and the fork evidence are as they were. */
static void nothing_stored(store *s, const uint8_t *origin, const store_counts *c0,
                           const store_frontier *f0)
{
    store_counts c = counts(s);
    assert_memory_equal(&c, c0, sizeof c);
    store_frontier f = frontier(s, origin);
    assert_int_equal(f.seq, f0->seq);
    assert_memory_equal(f.hash, f0->hash, TV_HASH_BYTES);
    assert_int_equal(f.hlc_max, f0->hlc_max);
    assert_int_equal(parked_now(s), 0);
    assert_int_equal(fork_state(s).origins, 0);
    assert_int_equal(forks_of(s, origin, 0, NULL, 0).n, 0);
}

/* Well-formed batches at the next seq of A's log, each wrong in one way only, are refused
 * with their exact error: one whose header names A but which B's key signed (TV_ESIG; B is
 * trusted too: the signature refuses it, not the signer's standing) and one whose HLC does
 * not rise above A's log (TV_ECHAIN) leave nothing; one signed by A whose prev_hash is not
 * the hash of A's last batch contradicts the log (TV_EFORK): it is kept as evidence, A is
 * frozen, the log does not move. */
static void test_tampered_at_next_seq(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a, b;
    test_identity(&a, 50);
    test_identity(&b, 51);
    const crdt_identity *ids[] = {&a, &b};
    trust(s, ids, 2);
    uint8_t *reg, *scans, *forged, *late, *genuine, *bad, venue[TV_VENUE_ID_BYTES];
    uint8_t hR[TV_HASH_BYTES], hA[TV_HASH_BYTES], hG[TV_HASH_BYTES], h[TV_HASH_BYTES];
    size_t lreg, lscans, lforged, llate, lgenuine, lbad;
    test_seal_registration(&a, 1, 1, NULL, 50, venue, &reg, &lreg, hR);
    test_seal_scans_at(&a, venue, 2, hR, 4, 100, &scans, &lscans, hA); /* seq 2-5, HLC 100-103 */
    assert_int_equal(apply(s, reg, lreg, NULL), 0);
    assert_int_equal(apply(s, scans, lscans, NULL), 0);
    store_counts c0 = counts(s);
    store_frontier f0 = frontier(s, a.pk);
    assert_int_equal(f0.seq, 5);
    assert_memory_equal(f0.hash, hA, TV_HASH_BYTES);
    assert_int_equal(f0.hlc_max, 103);

    /* B's key signs A's next batch: the header is the genuine one's, byte for byte */
    crdt_identity forger = a;
    memcpy(forger.sk, b.sk, sizeof forger.sk);
    test_seal_scans_at(&forger, venue, 6, hA, 2, 200, &forged, &lforged, h);
    test_seal_scans_at(&a, venue, 6, hA, 2, 200, &genuine, &lgenuine, hG);
    assert_memory_equal(h, hG, TV_HASH_BYTES); /* the batch hash is the header's */
    assert_int_equal(lforged, lgenuine);
    assert_memory_not_equal(forged, genuine, lforged); /* the signature differs */
    store_apply_result r;
    assert_int_equal(apply(s, forged, lforged, &r), TV_ESIG);
    assert_int_equal(r.applied, 0);
    nothing_stored(s, a.pk, &c0, &f0);
    assert_int_equal(scans_of(s, 0).accepted, 1);

    /* signed by A, chained right, but its first HLC is not above A's last (103) */
    test_seal_scans_at(&a, venue, 6, hA, 2, 103, &late, &llate, h);
    assert_int_equal(apply(s, late, llate, NULL), TV_ECHAIN);
    nothing_stored(s, a.pk, &c0, &f0);

    /* the genuine batch still applies */
    assert_int_equal(apply(s, genuine, lgenuine, &r), 0);
    assert_int_equal(r.applied, 2);
    store_counts c1 = counts(s);
    store_frontier f1 = frontier(s, a.pk);
    assert_int_equal(f1.seq, 7);
    assert_memory_equal(f1.hash, hG, TV_HASH_BYTES);

    /* signed by A at the next seq (8), its HLC rising, but naming as its predecessor an
     * earlier batch of A's log (seq 2-5), not the last one (seq 6-7) */
    test_seal_scans_at(&a, venue, 8, hA, 2, 300, &bad, &lbad, h);
    assert_int_equal(apply(s, bad, lbad, NULL), TV_EFORK);
    store_frontier f = frontier(s, a.pk);
    assert_int_equal(f.seq, 7);
    assert_memory_equal(f.hash, hG, TV_HASH_BYTES);
    store_counts c = counts(s);
    assert_int_equal(c.events, c1.events);
    assert_int_equal(c.batches, c1.batches);
    fork_list fl = forks_of(s, a.pk, 8, bad, lbad);
    assert_int_equal(fl.n, 1);
    assert_int_equal(fl.same, 1); /* kept verbatim, as A's evidence at seq 8 */
    fork_origin fo = fork_state(s);
    assert_int_equal(fo.origins, 1);
    assert_int_equal(fo.evidence, 1);
    assert_true(fo.frozen);
    store_close(s);
    free(reg);
    free(scans);
    free(forged);
    free(late);
    free(genuine);
    free(bad);
    test_rmdir(dir);
}

/* --- health: case statuses and risk levels ------------------------------------------- */

/* Seals the one event of b as l's next batch and applies it: 0, or why it was refused
 * (then l is unchanged). */
static int log_try_end(one_log *l, crdt_batch_builder *b)
{
    crdt_batch_builder_note(b, l->hlc);
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    assert_int_equal(crdt_batch_seal(b, l->id, l->seq + 1, l->seq ? l->prev : NULL, &buf, &len, h),
                     0);
    crdt_batch_builder_release(b);
    store_apply_result r;
    int rc = apply(l->s, buf, len, &r);
    l->rule = r.rule;
    l->released = r.released;
    free(buf);
    if (rc == 0) {
        memcpy(l->prev, h, sizeof h);
        l->seq++;
    }
    return rc;
}

/* The health audience's key of these tests (a province's pseudonym key). */
static const uint8_t health_key[32] = {0x5a, 0x5a, 0x5a, 1, 2, 3};

/* How far ahead of its sealed event the next sealed case status's own HLC is (0: the same). */
static uint64_t inner_ahead;

/* Writes a risk level, or a case status sealed for the health audience (PROTOCOL.md
 * §2.11); plain: the case status in clear, as it travelled before. */
static int log_health_as(one_log *l, int risk, const char *unit, uint8_t v, int64_t at_ms,
                         int plain)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    const uint8_t person[TV_PERSON_REF_BYTES] = {7, 7, 7};
    if (risk) {
        crdt_risk r = {.unit = {unit, (uint32_t)strlen(unit)}, .level = v, .from_ms = at_ms};
        assert_int_equal(crdt_event_pack_risk(&b.pk, l->hlc, &r), 0);
    } else {
        crdt_case c = {.unit = {unit, (uint32_t)strlen(unit)},
                       .status = v,
                       .onset_ms = at_ms,
                       .sampled_ms = CRDT_TIME_NONE,
                       .at_ms = CRDT_TIME_NONE};
        memcpy(c.person, person, sizeof person);
        if (plain) {
            assert_int_equal(crdt_event_pack_case(&b.pk, l->hlc, &c), 0);
        } else {
            msgpack_sbuffer sb;
            msgpack_packer pk;
            msgpack_sbuffer_init(&sb);
            msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
            assert_int_equal(crdt_event_pack_case(&pk, l->hlc + inner_ahead, &c), 0);
            uint8_t nonce[CRDT_SEALED_NONCE_BYTES] = {(uint8_t)l->seq, 9};
            uint8_t box[CRDT_SEALED_BOX_BYTES_MAX];
            crdt_sealed_event se;
            assert_int_equal(crdt_sealed_seal(&se, box, (const uint8_t *)sb.data, sb.size,
                                              health_key, l->id->pk, nonce),
                             0);
            assert_int_equal(crdt_event_pack_sealed(&b.pk, l->hlc, &se), 0);
            msgpack_sbuffer_destroy(&sb);
        }
    }
    return log_try_end(l, &b);
}

static int log_health(one_log *l, int risk, const char *unit, uint8_t v, int64_t at_ms)
{
    return log_health_as(l, risk, unit, v, at_ms, 0);
}

static int count_sealed(const store_sealed *x, void *arg)
{
    (void)x;
    (*(int *)arg)++;
    return 0;
}

static int risk_level_at(store *s, const char *unit, int64_t at_ms)
{
    store_txn *t;
    store_risk r;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_risk_at(t, unit, at_ms, &r);
    store_read_end(t);
    assert_true(rc == 0 || rc == TV_ENOTFOUND);
    return rc ? 0 : r.level;
}

static int case_row(const store_case *c, void *arg)
{
    uint8_t *statuses = arg;
    assert_true(statuses[0] < 8);
    statuses[1 + statuses[0]++] = c->status;
    return 0;
}

/* Only a health node may set cases and risk levels, and only within its scope; the risk in
 * force is the latest entry not after the time (the last written for one time), a village
 * without its own takes its commune's; a person's case history is kept in order. */
static void test_health_views(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity commune, root;
    test_identity(&commune, 3);
    test_identity(&root, 0xee); /* trust()'s root: the province, with the health flag */
    const crdt_identity *ids[] = {&commune};
    trust(s, ids, 1);
    store_sealed_key_set(s, health_key); /* this store is a health node's */
    one_log lc = {.s = s, .id = &commune}, lp = {.s = s, .id = &root};
    const int64_t d1 = 1633021200000, day = 86400000;

    /* a commune is no health node: its sealed status is refused, and nothing of it held */
    assert_int_equal(log_health(&lc, 0, "22333", CRDT_CASE_F0, d1), TV_ESCOPE);
    assert_string_equal(lc.rule, STORE_RULE_S2);
    assert_int_equal(log_health(&lc, 1, "22333", 2, d1), TV_ESCOPE);
    assert_int_equal(frontier(s, commune.pk).seq, 0);
    /* and a case status in clear is refused from anyone, a health node too (S2) */
    assert_int_equal(log_health_as(&lp, 0, "22333", CRDT_CASE_F0, d1, 1), TV_ESCOPE);
    assert_string_equal(lp.rule, STORE_RULE_S2);
    assert_int_equal(frontier(s, root.pk).seq, 0);

    assert_int_equal(log_health(&lp, 1, "22333", 2, d1), 0);
    assert_int_equal(log_health(&lp, 1, "22333", 3, d1), 0); /* later: it stands */
    assert_int_equal(log_health(&lp, 1, "22333", 1, d1 + 2 * day), 0);
    assert_int_equal(log_health(&lp, 1, "22333.03", 4, d1 + day), 0);
    assert_int_equal(risk_level_at(s, "22333", d1 - 1), 0);
    assert_int_equal(risk_level_at(s, "22333", d1), 3);
    assert_int_equal(risk_level_at(s, "22333", d1 + day), 3);
    assert_int_equal(risk_level_at(s, "22333", d1 + 2 * day), 1);
    assert_int_equal(risk_level_at(s, "22333.03", d1 + day), 4);
    assert_int_equal(risk_level_at(s, "22333.03", d1), 3);       /* before its own: the commune's */
    assert_int_equal(risk_level_at(s, "22333.07", d1 + day), 3); /* none of its own */
    assert_int_equal(risk_level_at(s, "22334", d1 + day), 0);

    assert_int_equal(log_health(&lp, 0, "22333", CRDT_CASE_F0, d1), 0);
    assert_int_equal(log_health(&lp, 0, "22333", CRDT_CASE_CLEARED, CRDT_TIME_NONE), 0);
    uint8_t statuses[9] = {0};
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_cases_foreach(t, NULL, case_row, statuses), 0);
    store_read_end(t);
    assert_int_equal(statuses[0], 2);
    assert_int_equal(statuses[1], CRDT_CASE_F0);
    assert_int_equal(statuses[2], CRDT_CASE_CLEARED);
    /* a status dated after the event that carries it (past the clock's bound, C1) would
     * outrank every later one for good: it is not applied */
    inner_ahead = crdt_hlc_make(365 * (uint64_t)day, 0);
    assert_int_equal(log_health(&lp, 0, "22333", CRDT_CASE_F1, d1), 0);
    inner_ahead = 0;
    memset(statuses, 0, sizeof statuses);
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_cases_foreach(t, NULL, case_row, statuses), 0);
    store_read_end(t);
    assert_int_equal(statuses[0], 2);
    store_close(s);

    /* the same log at a node without the health audience's key: indexed by tag only */
    assert_int_equal(store_open(&s, dir, NULL), 0);
    uint8_t tag[CRDT_SEALED_TAG_BYTES];
    crdt_sealed_tag(tag, health_key);
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_sealed_foreach(t, tag, count_sealed, &n), 0);
    store_read_end(t);
    assert_int_equal(n, 3); /* the misdated one too: indexed, never opened */
    store_close(s);
    test_rmdir(dir);
}

/* A second health node (a district health centre) certified by trust()'s root. */
static int health_node_fn(store_txn *t, void *arg)
{
    const crdt_identity *h = arg;
    static crdt_identity root;
    static const char *const scope[] = {"22333", "22334"};
    test_identity(&root, 0xee);
    fx_cert_spec cert = {.subject = h->pk,
                         .role = CRDT_ROLE_DISTRICT,
                         .unit = "22333",
                         .scope = scope,
                         .scope_len = 2,
                         .flags = CRDT_CERT_F_HEALTH};
    return fx_cert_install(t, &root, &cert);
}

static store_agg agg_of(store *s, const char *unit, int32_t day)
{
    store_txn *t;
    store_agg a;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_agg_get(t, unit, day, &a), 0);
    store_read_end(t);
    return a;
}

/* A person counts once as F0 (and once as F1), on the day and in the unit of their
 * earliest record with that status, whatever order the records arrive in: the district
 * records F0 in 22334 on day 1, the province in 22333 on day 2, then again on day 3. */
static void test_case_counts_first_record(void **state)
{
    (void)state;
    const int64_t day_ms = 86400000, d1 = 1633482000000LL; /* 2021-10-06 08:00 */
    const int32_t day1 = crdt_day_vn(d1);
    for (int order = 0; order < 2; order++) {
        char *dir = test_tmpdir();
        store *s;
        assert_int_equal(store_open(&s, dir, NULL), 0);
        crdt_identity root, district;
        test_identity(&root, 0xee);
        test_identity(&district, 0x44);
        trust(s, NULL, 0);
        store_sealed_key_set(s, health_key);
        assert_int_equal(store_write(s, health_node_fn, &district), 0);
        one_log lp = {.s = s, .id = &root}, ld = {.s = s, .id = &district};
        if (order == 0) { /* the district's record first */
            ld.next_ms = d1;
            assert_int_equal(log_health(&ld, 0, "22334", CRDT_CASE_F0, d1 - day_ms), 0);
        }
        lp.next_ms = d1 + day_ms;
        assert_int_equal(log_health(&lp, 0, "22333", CRDT_CASE_F0, d1 - day_ms), 0);
        lp.next_ms = d1 + 2 * day_ms;
        assert_int_equal(log_health(&lp, 0, "22333", CRDT_CASE_F0, d1 - day_ms), 0);
        lp.next_ms = d1 + 2 * day_ms + 60000;
        assert_int_equal(log_health(&lp, 0, "22333", CRDT_CASE_F1, d1 - day_ms), 0);
        if (order == 1) {
            assert_int_equal(agg_of(s, "22333", day1 + 1).f0, 1); /* the first, for now */
            ld.next_ms = d1;
            assert_int_equal(log_health(&ld, 0, "22334", CRDT_CASE_F0, d1 - day_ms), 0);
        }
        assert_int_equal(agg_of(s, "22334", day1).f0, 1);
        assert_int_equal(agg_of(s, "22333", day1 + 1).f0, 0);
        assert_int_equal(agg_of(s, "22333", day1 + 2).f0, 0);
        assert_int_equal(agg_of(s, "22333", day1 + 2).f1, 1);
        store_txn *t;
        store_agg a;
        assert_int_equal(store_read_begin(s, &t), 0);
        assert_int_equal(store_agg_sum(t, "22333", day1, day1 + 6, &a), 0);
        store_read_end(t);
        assert_int_equal(a.f0, 0);
        assert_int_equal(a.f1, 1);
        store_close(s);
        test_rmdir(dir);
    }
}

/* --- key grants and the pseudonym map ---------------------------------------------- */

static int log_grant(one_log *l, const uint8_t *subject, const char *unit)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    uint8_t box[CRDT_GRANT_BOX_BYTES];
    memset(box, 0x5c, sizeof box);
    crdt_key_grant g = {.unit = {unit, (uint32_t)strlen(unit)}, .box = box};
    memcpy(g.subject, subject, TV_NODE_ID_BYTES);
    assert_int_equal(crdt_event_pack_grant(&b.pk, l->hlc, &g), 0);
    return log_try_end(l, &b);
}

static int grant_count(const store_grant *g, void *arg)
{
    (void)g;
    ++*(int *)arg;
    return 0;
}

static int grants_to(store *s, const uint8_t *subject)
{
    store_txn *t;
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_grants_of(t, subject, grant_count, &n), 0);
    store_read_end(t);
    return n;
}

/* A key grant is taken from a health node whose scope covers its unit only: a commune
 * (no health flag) and a health district granting outside its scope are refused (S1). */
static void test_key_grant_authors(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity commune, root, district;
    test_identity(&commune, 3);
    test_identity(&root, 0xee);
    test_identity(&district, 0x44);
    const crdt_identity *ids[] = {&commune};
    trust(s, ids, 1);
    assert_int_equal(store_write(s, health_node_fn, &district), 0); /* health, 22333-22334 */
    one_log lc = {.s = s, .id = &commune}, lp = {.s = s, .id = &root},
            ld = {.s = s, .id = &district};
    assert_int_equal(log_grant(&lc, commune.pk, "22333"), TV_ESCOPE);
    assert_string_equal(lc.rule, STORE_RULE_S1);
    assert_int_equal(log_grant(&ld, commune.pk, "22335"), TV_ESCOPE);
    assert_string_equal(ld.rule, STORE_RULE_S1);
    assert_int_equal(grants_to(s, commune.pk), 0);
    assert_int_equal(frontier(s, commune.pk).seq, 0);
    assert_int_equal(frontier(s, district.pk).seq, 0);
    assert_int_equal(log_grant(&ld, commune.pk, "22333"), 0);
    assert_int_equal(log_grant(&lp, commune.pk, "22333"), 0);
    assert_int_equal(grants_to(s, commune.pk), 2);
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_grant_held(t, commune.pk, root.pk), 1);
    assert_int_equal(store_grant_held(t, root.pk, commune.pk), 0);
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
}

typedef struct pmap_put_ctx {
    const uint8_t *ref, *pref;
    const char *unit;
    uint64_t hlc;
    int rc;
} pmap_put_ctx;

static int pmap_put_fn(store_txn *t, void *arg)
{
    pmap_put_ctx *c = arg;
    c->rc = store_pmap_put(t, c->ref, c->pref, c->unit, c->hlc);
    return c->rc == TV_EEXIST ? 0 : c->rc;
}

typedef struct ref_count {
    int n;
} ref_count;

static int count_ref(const store_scan_ref *r, void *arg)
{
    (void)r;
    ((ref_count *)arg)->n++;
    return 0;
}

static ref_count scans_by_ref(store *s, const uint8_t *ref)
{
    store_txn *t;
    ref_count c = {0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_scans_by_person(t, ref, 0, CRDT_TIME_MS_MAX, count_ref, &c), 0);
    store_read_end(t);
    return c;
}

static int venue_person(const store_scan_ref *r, void *arg)
{
    const uint8_t *want = arg;
    assert_memory_equal(r->person, want, TV_PERSON_REF_BYTES);
    return 0;
}

/* A mapped commune ref: its scans indexed before and after the mapping are found under the
 * province ref only, in both indexes; an unmappable mark leaves them as they are; the
 * daily figures keep the ref the scans carry. */
static void test_pseudonym_map(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity commune;
    test_identity(&commune, 3);
    const crdt_identity *ids[] = {&commune};
    trust(s, ids, 1);
    one_log lc = {.s = s, .id = &commune};
    uint8_t venue[TV_VENUE_ID_BYTES];
    log_register(&lc, 11, venue);
    crdt_scan sc = test_scan(1, 0);
    uint8_t ref[TV_PERSON_REF_BYTES], pref[TV_PERSON_REF_BYTES];
    memcpy(ref, sc.person, sizeof ref);
    memset(pref, 0xab, sizeof pref);
    log_scan(&lc, venue);
    log_scan(&lc, venue);
    int32_t day = crdt_day_vn(1633482000000LL);
    store_agg before = agg_of(s, "22333", day);
    assert_int_equal(scans_by_ref(s, ref).n, 2);

    /* examined, unmappable: nothing moves */
    pmap_put_ctx c = {.ref = ref, .pref = NULL, .unit = "22333", .hlc = 5};
    assert_int_equal(store_write(s, pmap_put_fn, &c), 0);
    assert_int_equal(scans_by_ref(s, ref).n, 2);
    store_txn *t;
    uint64_t hlc = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_pmap_get(t, ref, NULL, NULL, &hlc), 0);
    store_read_end(t);
    assert_int_equal(hlc, 5);

    c = (pmap_put_ctx){.ref = ref, .pref = pref, .unit = "22333", .hlc = 6};
    assert_int_equal(store_write(s, pmap_put_fn, &c), 0);
    assert_int_equal(scans_by_ref(s, pref).n, 2);
    assert_int_equal(scans_by_ref(s, ref).n, 2); /* the commune's ref finds them too */
    log_scan(&lc, venue); /* after the mapping: straight under the province ref */
    assert_int_equal(scans_by_ref(s, pref).n, 3);
    assert_int_equal(scans_by_ref(s, ref).n, 3);
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_scans_by_venue(t, venue, 0, CRDT_TIME_MS_MAX, venue_person, pref), 0);
    char unit[TV_UNIT_CODE_MAX + 1];
    uint8_t got[TV_PERSON_REF_BYTES];
    assert_int_equal(store_pmap_get(t, ref, got, unit, &hlc), 1);
    assert_memory_equal(got, pref, sizeof got);
    assert_string_equal(unit, "22333");
    store_read_end(t);
    /* mapped once: a second mapping is refused */
    uint8_t other[TV_PERSON_REF_BYTES];
    memset(other, 0xcd, sizeof other);
    c = (pmap_put_ctx){.ref = ref, .pref = other, .unit = "22333", .hlc = 7};
    assert_int_equal(store_write(s, pmap_put_fn, &c), 0);
    assert_int_equal(c.rc, TV_EEXIST);
    assert_int_equal(scans_by_ref(s, pref).n, 3);
    /* the figures count the scans' own refs, mapped or not */
    store_agg after = agg_of(s, "22333", day);
    assert_int_equal(after.scans_in + after.scans_out, before.scans_in + before.scans_out + 1);
    assert_memory_equal(after.visitors, before.visitors, sizeof before.visitors);
    store_close(s);
    test_rmdir(dir);
}

static int log_unit(one_log *l, const char *code, const char *name, const char *parent,
                    int64_t at_ms)
{
    crdt_batch_builder b;
    l->next_ms = at_ms;
    log_begin(l, &b);
    crdt_unit u = {.code = {code, (uint32_t)strlen(code)},
                   .name = {name, (uint32_t)strlen(name)},
                   .parent = {parent, (uint32_t)strlen(parent)}};
    assert_int_equal(crdt_event_pack_unit(&b.pk, l->hlc, &u), 0);
    return log_try_end(l, &b);
}

/* A unit event is accepted from a node whose scope covers the unit's commune, refused from
 * another; the latest event of a code stands whatever the order of arrival. */
static void test_units_view(void **state)
{
    (void)state;
    const int64_t t0 = 1633482000000LL;
    for (int order = 0; order < 2; order++) {
        char *dir = test_tmpdir();
        store *s;
        assert_int_equal(store_open(&s, dir, NULL), 0);
        crdt_identity commune, root;
        test_identity(&commune, 3);
        test_identity(&root, 0xee);
        const crdt_identity *ids[] = {&commune};
        trust(s, ids, 1);
        one_log lc = {.s = s, .id = &commune}, lp = {.s = s, .id = &root};
        assert_int_equal(log_unit(&lc, "22402.01", "Thôn 1", "22402", t0), TV_ESCOPE);
        assert_int_equal(log_unit(&lc, "56.c1", "Cụm 1", "56", t0), TV_ESCOPE);
        if (order == 0) assert_int_equal(log_unit(&lc, "22333.03", "Tổ 3", "22333", t0), 0);
        assert_int_equal(log_unit(&lp, "22333.03", "Tổ dân phố 3", "22333", t0 + 60000), 0);
        if (order == 1) assert_int_equal(log_unit(&lc, "22333.03", "Tổ 3", "22333", t0), 0);
        store_txn *t;
        store_unit u;
        assert_int_equal(store_read_begin(s, &t), 0);
        assert_int_equal(store_unit_get(t, "22333.03", &u), 0);
        assert_string_equal(u.name, "Tổ dân phố 3");
        assert_string_equal(u.parent, "22333");
        assert_memory_equal(u.origin, root.pk, TV_NODE_ID_BYTES);
        assert_int_equal(store_unit_get(t, "22402.01", &u), TV_ENOTFOUND);
        store_read_end(t);
        store_close(s);
        test_rmdir(dir);
    }
}

/* Controllers are an observed-remove set: a remove takes away the adds it names, and an
 * add made concurrently elsewhere (not named) survives it. */
static void test_controllers_or_set(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a, b;
    test_identity(&a, 4);
    test_identity(&b, 5);
    const crdt_identity *ids[] = {&a, &b};
    trust(s, ids, 2);
    one_log la = {.s = s, .id = &a}, lb = {.s = s, .id = &b};
    uint8_t venue[TV_VENUE_ID_BYTES];
    log_register(&la, 7, venue); /* a's venue: b, of the same commune, writes about it too */

    uint64_t add1 = log_controller(&la, venue, "0911000001", NULL, 0);
    log_controller(&la, venue, "0911000002", NULL, 0);
    log_controller(&lb, venue, "0911000001", NULL, 0); /* b adds the same phone too */
    phones p = controllers(s, venue);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.list[0], "0911000001");
    assert_string_equal(p.list[1], "0911000002");

    /* a removes the phone as it saw it (its own add only): b's add survives */
    uint8_t tag[CRDT_TAG_BYTES];
    memcpy(tag, a.pk, TV_NODE_ID_BYTES);
    test_be64(tag + TV_NODE_ID_BYTES, add1);
    log_controller(&la, venue, "0911000001", tag, 1);
    p = controllers(s, venue);
    assert_int_equal(p.n, 2);

    /* a remove naming every live add takes the phone away */
    store_txn *t;
    uint8_t tags[4 * CRDT_TAG_BYTES];
    uint32_t n;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_controller_tags(t, venue, "0911000001", tags, 4, &n), 0);
    store_read_end(t);
    assert_int_equal(n, 1);
    log_controller(&la, venue, "0911000001", tags, n);
    p = controllers(s, venue);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.list[0], "0911000002");
    /* and adding it again brings it back */
    log_controller(&lb, venue, "0911000001", NULL, 0);
    assert_int_equal(controllers(s, venue).n, 2);
    store_close(s);
    test_rmdir(dir);
}

/* --- venues: registration, registered unit, parking (PROTOCOL.md §2.2, §3.2, §3.3) ---- */

/* Certifies id at s as a node of `role` for `unit`, covering scope0 (and scope1), issued
 * by trust()'s root. */
typedef struct cert_req {
    const crdt_identity *id;
    uint32_t role;
    const char *unit, *scope[2];
} cert_req;

static int certify_fn(store_txn *t, void *arg)
{
    const cert_req *q = arg;
    static crdt_identity root;
    test_identity(&root, 0xee);
    fx_cert_spec cert = {.subject = q->id->pk, .role = q->role, .unit = q->unit, .scope = q->scope};
    cert.scope_len = q->scope[1] ? 2 : q->scope[0] ? 1 : 0;
    return fx_cert_install(t, &root, &cert);
}

static void certify(store *s, const crdt_identity *id, uint32_t role, const char *unit,
                    const char *scope0, const char *scope1);

static void be_outsider(store *s)
{
    static crdt_identity me;
    test_identity(&me, 0x77);
    certify(s, &me, CRDT_ROLE_COMMUNE, "22402", "22402", NULL);
    be_node(s, &me);
}

static void certify(store *s, const crdt_identity *id, uint32_t role, const char *unit,
                    const char *scope0, const char *scope1)
{
    cert_req q = {.id = id, .role = role, .unit = unit, .scope = {scope0, scope1}};
    assert_int_equal(store_write(s, certify_fn, &q), 0);
}

enum { ABOUT_UPSERT, ABOUT_SCAN, ABOUT_REMINDER };

/* l's next batch: one event about venue naming unit (NULL: an upsert naming none); an
 * upsert sets the name. Returns what log_try_end returns. */
static int log_about(one_log *l, int kind, const uint8_t *venue, const char *unit, const char *name)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_text u = {unit, unit ? (uint32_t)strlen(unit) : 0};
    if (kind == ABOUT_UPSERT) {
        crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | (unit ? CRDT_VENUE_F_UNIT : 0),
                               .unit = u,
                               .name = {name, (uint32_t)strlen(name)}};
        memcpy(v.venue, venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_venue(&b.pk, l->hlc, &v), 0);
    } else if (kind == ABOUT_SCAN) {
        crdt_scan sc = test_scan(1, (int64_t)crdt_hlc_ms(l->hlc));
        sc.unit = u;
        memcpy(sc.venue, venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_scan(&b.pk, l->hlc, &sc), 0);
    } else {
        crdt_reminder r = {.unit = u, .action = CRDT_REMIND};
        memcpy(r.venue, venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_reminder(&b.pk, l->hlc, &r), 0);
    }
    return log_try_end(l, &b);
}

/* l's next batch: the registration of v. */
static int log_registration(one_log *l, const crdt_venue_upsert *v)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    assert_int_equal(crdt_event_pack_venue(&b.pk, l->hlc, v), 0);
    return log_try_end(l, &b);
}

/* Takes up l's log where the store holds it (after a parked batch was let through). */
static void log_resync(one_log *l)
{
    store_frontier f = frontier(l->s, l->id->pk);
    l->seq = f.seq;
    memcpy(l->prev, f.hash, TV_HASH_BYTES);
}

static int scans_at(store *s, const uint8_t *venue)
{
    store_txn *t;
    collect c = {.n = 0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_scans_by_venue(t, venue, INT64_MIN, INT64_MAX, collect_fn, &c), 0);
    store_read_end(t);
    return c.n;
}

static int venue_of(store *s, const uint8_t *id, store_venue *v)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_venue_get(t, id, v);
    store_read_end(t);
    return rc;
}

typedef struct parked_list {
    store_parked p[4];
    int n;
} parked_list;

static int parked_fn(const store_parked *p, void *arg)
{
    parked_list *l = arg;
    assert_true(l->n < 4);
    l->p[l->n++] = *p;
    return 0;
}

static parked_list parked_of(store *s)
{
    store_txn *t;
    parked_list l = {.n = 0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_parked_foreach(t, parked_fn, &l), 0);
    store_read_end(t);
    return l;
}

/* V1: a registration is accepted only from the origin its venue id derives from: claiming
 * another node's id, or a nonce that does not give the id, is refused with nothing kept. */
static void test_registration_by_its_registrar(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a, b;
    test_identity(&a, 40);
    test_identity(&b, 41);
    const crdt_identity *ids[] = {&a, &b};
    trust(s, ids, 2);
    one_log la = {.s = s, .id = &a}, lb = {.s = s, .id = &b};
    store_venue *sv = malloc(sizeof *sv);

    /* a registers the id b's nonce derives under b's key */
    crdt_venue_upsert theirs, bad;
    test_venue_register(&theirs, b.pk, 1, "22333", "Chợ Vĩnh Hải");
    assert_int_equal(log_registration(&la, &theirs), TV_ESCOPE);
    assert_non_null(la.rule);
    assert_string_equal(la.rule, STORE_RULE_V1);
    /* a's own id with another nonce */
    test_venue_register(&bad, a.pk, 2, "22333", "Quán Bà Tư");
    bad.nonce[0] ^= 1;
    assert_int_equal(log_registration(&la, &bad), TV_ESCOPE);
    assert_string_equal(la.rule, STORE_RULE_V1);
    assert_int_equal(frontier(s, a.pk).seq, 0);
    assert_int_equal(counts(s).events, 0);
    assert_int_equal(venue_of(s, theirs.venue, sv), TV_ENOTFOUND);
    assert_int_equal(venue_of(s, bad.venue, sv), TV_ENOTFOUND);

    /* each registers its own */
    assert_int_equal(log_registration(&lb, &theirs), 0);
    bad.nonce[0] ^= 1;
    assert_int_equal(log_registration(&la, &bad), 0);
    assert_int_equal(venue_of(s, theirs.venue, sv), 0);
    assert_string_equal(sv->name, "Chợ Vĩnh Hải");
    assert_int_equal(venue_of(s, bad.venue, sv), 0);
    assert_string_equal(sv->name, "Quán Bà Tư");
    free(sv);
    store_close(s);
    test_rmdir(dir);
}

/* V2: an event about a venue names its registered unit, from an origin whose scope covers
 * it: commune A (22333) writes nothing about commune B's venue (22402), whatever unit it
 * names; a district covering both may, but only naming 22402. */
static void test_venue_events_judged_by_registered_unit(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a, b, d;
    test_identity(&a, 42);
    test_identity(&b, 43);
    test_identity(&d, 44);
    const crdt_identity *ids[] = {&a};
    trust(s, ids, 1);
    certify(s, &b, CRDT_ROLE_COMMUNE, "22402", "22402", NULL);
    certify(s, &d, CRDT_ROLE_DISTRICT, "568", "22333", "22402");
    one_log la = {.s = s, .id = &a}, lb = {.s = s, .id = &b}, ld = {.s = s, .id = &d};
    crdt_venue_upsert reg;
    test_venue_register(&reg, b.pk, 1, "22402", "Chợ Ninh Hòa");
    assert_int_equal(log_registration(&lb, &reg), 0);
    store_txn *t;
    const uint8_t *raw;
    size_t len;
    uint8_t before[512];
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_venue_raw(t, reg.venue, &raw, &len), 0);
    assert_true(len <= sizeof before);
    memcpy(before, raw, len);
    store_read_end(t);

    static const char *const units[] = {"22333", "22402"};
    for (int kind = ABOUT_UPSERT; kind <= ABOUT_REMINDER; kind++)
        for (int u = 0; u < 2; u++) {
            assert_int_equal(log_about(&la, kind, reg.venue, units[u], "Chợ của xã khác"),
                             TV_ESCOPE);
            assert_non_null(la.rule);
            assert_string_equal(la.rule, STORE_RULE_V2);
        }
    /* an upsert naming no unit is refused: every event about a venue names its unit */
    assert_int_equal(log_about(&la, ABOUT_UPSERT, reg.venue, NULL, "Chợ của xã khác"), TV_ESCOPE);
    assert_string_equal(la.rule, STORE_RULE_V2);
    assert_int_equal(frontier(s, a.pk).seq, 0);
    /* the district's scan must name the venue's unit, though its scope covers both */
    assert_int_equal(log_about(&ld, ABOUT_SCAN, reg.venue, "22333", NULL), TV_ESCOPE);
    assert_string_equal(ld.rule, STORE_RULE_V2);
    assert_int_equal(scans_at(s, reg.venue), 0);
    assert_int_equal(log_about(&ld, ABOUT_SCAN, reg.venue, "22402", NULL), 0);
    assert_int_equal(scans_at(s, reg.venue), 1);

    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_venue_raw(t, reg.venue, &raw, &len), 0);
    assert_memory_equal(raw, before, len);
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
}

/* V3: at a node whose scope covers the unit, an event about a venue whose registration has
 * not arrived waits for it (parked, listed), and is applied when it arrives. */
static void test_parked_until_registered(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity c, d, self;
    test_identity(&c, 45);
    test_identity(&d, 46);
    test_identity(&self, 47);
    const crdt_identity *ids[] = {&c, &self};
    trust(s, ids, 2);
    certify(s, &d, CRDT_ROLE_DISTRICT, "568", "22333", NULL);
    be_node(s, &self); /* a commune of 22333 too */
    one_log lc = {.s = s, .id = &c}, ld = {.s = s, .id = &d};
    crdt_venue_upsert reg;
    test_venue_register(&reg, c.pk, 1, "22333", "Chợ Vĩnh Hải");

    /* the district's scan at C's venue arrives before C's log */
    ld.next_ms = 1633482000000LL + 3600000;
    assert_int_equal(log_about(&ld, ABOUT_SCAN, reg.venue, "22333", NULL), TV_EPARKED);
    assert_non_null(ld.rule);
    assert_string_equal(ld.rule, STORE_RULE_V3);
    parked_list pl = parked_of(s);
    assert_int_equal(pl.n, 1);
    assert_memory_equal(pl.p[0].origin, d.pk, TV_NODE_ID_BYTES);
    assert_int_equal(pl.p[0].first_seq, 1);
    assert_int_equal(pl.p[0].count, 1);
    assert_false(pl.p[0].waits_for_time);
    assert_int_equal(scans_at(s, reg.venue), 0);
    assert_int_equal(frontier(s, d.pk).seq, 0);
    assert_int_equal(counts(s).events, 0);

    /* the registration arrives: the scan is applied with it */
    assert_int_equal(log_registration(&lc, &reg), 0);
    assert_int_equal(lc.released, 1);
    assert_int_equal(parked_of(s).n, 0);
    assert_int_equal(scans_at(s, reg.venue), 1);
    assert_int_equal(frontier(s, d.pk).seq, 1);
    log_resync(&ld); /* and the district's log goes on from it */
    ld.next_ms = 1633482000000LL + 2 * 3600000;
    assert_int_equal(log_about(&ld, ABOUT_SCAN, reg.venue, "22333", NULL), 0);
    assert_int_equal(scans_at(s, reg.venue), 2);
    store_close(s);
    test_rmdir(dir);
}

typedef struct release_ctx {
    int64_t now;
    uint32_t released;
} release_ctx;

static int release_fn(store_txn *t, void *arg)
{
    release_ctx *r = arg;
    return store_parked_release(t, r->now, &r->released);
}

static uint32_t release_at(store *s, int64_t now)
{
    release_ctx r = {.now = now};
    assert_int_equal(store_write(s, release_fn, &r), 0);
    return r.released;
}

/* C1: a batch written more than CRDT_HLC_AHEAD_MAX_MS ahead of the receiver's clock waits
 * until that time has come. */
static void test_future_batch_waits(void **state)
{
    (void)state;
    const int64_t now = 1700000000000LL; /* apply()'s clock */
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a;
    test_identity(&a, 48);
    const crdt_identity *ids[] = {&a};
    trust(s, ids, 1);
    one_log la = {.s = s, .id = &a};
    crdt_venue_upsert reg;
    test_venue_register(&reg, a.pk, 1, "22333", "Chợ Vĩnh Hải");
    la.next_ms = now - 60000;
    assert_int_equal(log_registration(&la, &reg), 0);
    /* a clock set two hours ahead */
    const int64_t ahead = now + 2 * 3600000LL;
    la.next_ms = ahead;
    assert_int_equal(log_about(&la, ABOUT_SCAN, reg.venue, "22333", NULL), TV_EPARKED);
    assert_non_null(la.rule);
    assert_string_equal(la.rule, STORE_RULE_C1);
    parked_list pl = parked_of(s);
    assert_int_equal(pl.n, 1);
    assert_true(pl.p[0].waits_for_time);
    assert_int_equal(pl.p[0].due_ms, ahead - (int64_t)CRDT_HLC_AHEAD_MAX_MS);
    assert_int_equal(scans_at(s, reg.venue), 0);
    assert_int_equal(frontier(s, a.pk).seq, 1);

    /* not yet within the hour */
    assert_int_equal(release_at(s, now + 30 * 60000LL), 0);
    assert_int_equal(parked_of(s).n, 1);
    assert_int_equal(scans_at(s, reg.venue), 0);
    /* its time has come */
    assert_int_equal(release_at(s, ahead - (int64_t)CRDT_HLC_AHEAD_MAX_MS), 1);
    assert_int_equal(parked_of(s).n, 0);
    assert_int_equal(scans_at(s, reg.venue), 1);
    assert_int_equal(frontier(s, a.pk).seq, 2);
    store_close(s);
    test_rmdir(dir);
}

/* Authority before time: the registrar's upserts outrank a district's, whatever their HLCs,
 * in either order of arrival; a field the registrar never set takes the district's. */
static void test_registrar_outranks_time(void **state)
{
    (void)state;
    const int64_t t0 = 1633482000000LL;
    for (int order = 0; order < 2; order++) {
        char *dir = test_tmpdir();
        store *s;
        assert_int_equal(store_open(&s, dir, NULL), 0);
        crdt_identity c, d;
        test_identity(&c, 49);
        test_identity(&d, 50);
        const crdt_identity *ids[] = {&c};
        trust(s, ids, 1);
        certify(s, &d, CRDT_ROLE_DISTRICT, "568", "22333", NULL);
        one_log lc = {.s = s, .id = &c}, ld = {.s = s, .id = &d};
        crdt_venue_upsert reg;
        test_venue_register(&reg, c.pk, 1, "22333", "Chợ A");
        lc.next_ms = t0;
        assert_int_equal(log_registration(&lc, &reg), 0);
        store_venue *v = malloc(sizeof *v);

        /* the district renames it later (by HLC) and names its village */
        crdt_batch_builder b;
        ld.next_ms = t0 + 10 * 60000;
        log_begin(&ld, &b);
        crdt_venue_upsert up = {.fields =
                                    CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME | CRDT_VENUE_F_VILLAGE,
                                .unit = {"22333", 5},
                                .name = {"Chợ B", (uint32_t)strlen("Chợ B")},
                                .village = {"Tổ 1", (uint32_t)strlen("Tổ 1")}};
        memcpy(up.venue, reg.venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_venue(&b.pk, ld.hlc, &up), 0);
        if (order == 0) {
            assert_int_equal(log_try_end(&ld, &b), 0);
            assert_int_equal(venue_of(s, reg.venue, v), 0);
            assert_string_equal(v->name, "Chợ A"); /* the registrar's stands */
            assert_string_equal(v->village, "Tổ 1");
        }
        /* the registrar renames it, with a smaller HLC than the district's */
        lc.next_ms = t0 + 5 * 60000;
        assert_int_equal(log_about(&lc, ABOUT_UPSERT, reg.venue, "22333", "Chợ C"), 0);
        if (order == 1) assert_int_equal(log_try_end(&ld, &b), 0);
        assert_int_equal(venue_of(s, reg.venue, v), 0);
        assert_string_equal(v->name, "Chợ C");
        assert_string_equal(v->village, "Tổ 1");
        assert_string_equal(v->unit, "22333");
        free(v);
        store_close(s);
        test_rmdir(dir);
    }
}

/* d's next batch: a certificate d issues to k for unit (scope the unit), from not_before
 * nb, with k's consent signed by signer (NULL: none). Returns what log_try_end returns. */
static int log_cert(one_log *l, const crdt_identity *k, const char *unit, int64_t nb,
                    const crdt_identity *signer)
{
    static crdt_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, k->pk, TV_NODE_ID_BYTES);
    memcpy(c.issuer, l->id->pk, TV_NODE_ID_BYTES);
    c.role = CRDT_ROLE_COMMUNE;
    strcpy(c.unit, unit);
    c.scope_len = 1;
    strcpy(c.scope[0], unit);
    c.not_before_ms = nb;
    uint8_t *raw, sig[TV_SIG_BYTES];
    size_t len;
    assert_int_equal(crdt_cert_sign(&c, l->id, &raw, &len), 0);
    /* the request as its subject signs it (PROTOCOL.md 8.1), written out independently */
    char hex[2 * TV_NODE_ID_BYTES + 1], text[512];
    tv_hex_encode(hex, k->pk, TV_NODE_ID_BYTES);
    int n = snprintf(text, sizeof text,
                     "truyvet-enroll-request-v1\nnode: %s\nrole: commune\nunit: %s\nname: "
                     "UBND Xã Cam Lợi\ncreated: 1633000000000\n",
                     hex, unit);
    if (signer)
        assert_int_equal(crdt_sign(sig, "truyvet/enroll-request/v1", (const uint8_t *)text,
                                   (size_t)n, signer->sk),
                         0);
    crdt_cert_event ev = {.cert = raw,
                          .len = len,
                          .consent = signer != NULL,
                          .consent_name = {"UBND Xã Cam Lợi", (uint32_t)strlen("UBND Xã Cam Lợi")},
                          .consent_created_ms = 1633000000000LL,
                          .consent_sig = sig};
    crdt_batch_builder b;
    log_begin(l, &b);
    assert_int_equal(crdt_event_pack_cert(&b.pk, l->hlc, &ev), 0);
    free(raw);
    return log_try_end(l, &b);
}

static int installed_issuer_is(store *s, const crdt_identity *k, const crdt_identity *issuer)
{
    store_txn *t;
    static crdt_cert c;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_cert_get(t, k->pk, &c, NULL, NULL);
    store_read_end(t);
    return rc == 0 && memcmp(c.issuer, issuer->pk, TV_NODE_ID_BYTES) == 0;
}

/* T4 with consent: a district that certified another district's new commune's key first
 * keeps it only until that commune's own district certifies it with the commune's signed
 * request; a consent signed by anyone else is a forgery; without consent, a certificate
 * from outside the installed one's chain is refused. */
static void test_consent_outranks(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity d1, d2, k;
    test_identity(&d1, 61);
    test_identity(&d2, 62);
    test_identity(&k, 63);
    trust(s, NULL, 0);
    certify(s, &d1, CRDT_ROLE_DISTRICT, "568", "22333", NULL);
    certify(s, &d2, CRDT_ROLE_DISTRICT, "569", "22402", NULL);
    one_log l1 = {.s = s, .id = &d1}, l2 = {.s = s, .id = &d2};

    /* D1 pre-empts k's key, for a commune of its own scope, without k's consent */
    assert_int_equal(log_cert(&l1, &k, "22333", 1633100000000LL, NULL), 0);
    assert_true(installed_issuer_is(s, &k, &d1));
    /* D2 with a consent its own key signed: a forgery, refused */
    assert_int_equal(log_cert(&l2, &k, "22402", 1633200000000LL, &d2), TV_ESCOPE);
    assert_string_equal(l2.rule, STORE_RULE_T4);
    assert_true(installed_issuer_is(s, &k, &d1));
    /* D2 with k's own signed request: it replaces D1's */
    assert_int_equal(log_cert(&l2, &k, "22402", 1633200000000LL, &k), 0);
    assert_true(installed_issuer_is(s, &k, &d2));
    /* D1 again, without consent, from outside D2's chain: refused (T4) */
    assert_int_equal(log_cert(&l1, &k, "22333", 1633210000000LL, NULL), TV_ESCOPE);
    assert_string_equal(l1.rule, STORE_RULE_T4);
    assert_true(installed_issuer_is(s, &k, &d2));
    /* the root re-certifies k (as after revoking D2), with the same not_before and no
     * consent: from above D2, it replaces D2's (T4) */
    crdt_identity root;
    test_identity(&root, 0xee);
    one_log lr = {.s = s, .id = &root};
    assert_int_equal(log_cert(&lr, &k, "22402", 1633200000000LL, NULL), 0);
    assert_true(installed_issuer_is(s, &k, &root));
    /* D2 again, below the root now: lawful, never replaces */
    assert_int_equal(log_cert(&l2, &k, "22402", 1633250000000LL, &k), 0);
    assert_true(installed_issuer_is(s, &k, &root));
    /* D1 again, later, without consent: below the root too, lawful, never replaces */
    assert_int_equal(log_cert(&l1, &k, "22333", 1633300000000LL, NULL), 0);
    assert_true(installed_issuer_is(s, &k, &root));
    store_close(s);
    test_rmdir(dir);
}

/* --- the node's own batches: their certificates and revocations judged as anyone's ---- */

/* l's next batch: one cert event carrying raw. Returns what log_try_end returns. */
static int log_raw_cert(one_log *l, const uint8_t *raw, size_t len)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_cert_event ev = {.cert = raw, .len = len};
    assert_int_equal(crdt_event_pack_cert(&b.pk, l->hlc, &ev), 0);
    return log_try_end(l, &b);
}

/* l's next batch: a certificate of subject (role, unit, scope `scope`) that signer signs as
 * issued by issuer. */
static int log_signed_cert(one_log *l, const crdt_identity *signer, const uint8_t *issuer,
                           const uint8_t *subject, uint32_t role, const char *unit,
                           const char *scope)
{
    static crdt_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, subject, TV_NODE_ID_BYTES);
    memcpy(c.issuer, issuer, TV_NODE_ID_BYTES);
    c.role = role;
    strcpy(c.unit, unit);
    c.scope_len = 1;
    strcpy(c.scope[0], scope);
    uint8_t *raw;
    size_t len;
    assert_int_equal(crdt_cert_sign(&c, signer, &raw, &len), 0);
    int rc = log_raw_cert(l, raw, len);
    free(raw);
    return rc;
}

/* l's next batch: one scan at test_scan's venue (unit 22333). Returns what apply does. */
static int log_one_scan(one_log *l)
{
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    test_seal_scans(l->id, l->seq + 1, l->seq ? l->prev : NULL, 1, l->hlc + 1, &buf, &len, h);
    store_apply_result r;
    int rc = apply(l->s, buf, len, &r);
    l->rule = r.rule;
    free(buf);
    if (rc == 0) {
        memcpy(l->prev, h, sizeof h);
        l->seq++;
        l->hlc += 1000;
    }
    return rc;
}

/* As a node applies a group of received batches (node.c apply_fn): a refused batch is
 * skipped, a failure of the store aborts the whole group. */
typedef struct group2_ctx {
    uint8_t *buf[2];
    size_t len[2];
    int rc[2];
    const char *rule[2];
} group2_ctx;

static int group2_fn(store_txn *t, void *arg)
{
    group2_ctx *g = arg;
    for (int i = 0; i < 2; i++) {
        store_apply_result r;
        g->rc[i] = store_apply_batch(t, g->buf[i], g->len[i], 0, &r);
        g->rule[i] = r.rule;
        if (g->rc[i] == TV_ESTORE || g->rc[i] == TV_ENOMEM || g->rc[i] == TV_ENOSPC ||
            g->rc[i] == TV_ECORRUPT || g->rc[i] == TV_EIO)
            return g->rc[i];
    }
    return 0;
}

/* A batch of the node's own log whose certificate does not open (one byte) is refused as
 * a peer's would be (T2), not as a failure of the store: the group it came in is applied
 * without it. */
static void test_own_batch_bad_certificate(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity me, a;
    test_identity(&me, 70);
    test_identity(&a, 71);
    const crdt_identity *ids[] = {&a};
    trust(s, ids, 1);
    be_outsider(s); /* test_scan's unit is not ours: a's scans need no registration */
    certify(s, &me, CRDT_ROLE_COMMUNE, "22402", "22402", NULL);
    be_node(s, &me);
    store_counts c0 = counts(s);

    static const uint8_t one_byte[1] = {0xc0};
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    uint64_t hlc = crdt_hlc_make(1633482000000ULL, 0);
    crdt_cert_event ev = {.cert = one_byte, .len = 1};
    assert_int_equal(crdt_event_pack_cert(&b.pk, hlc, &ev), 0);
    crdt_batch_builder_note(&b, hlc);
    group2_ctx g;
    uint8_t h[TV_HASH_BYTES];
    assert_int_equal(crdt_batch_seal(&b, &me, 1, NULL, &g.buf[0], &g.len[0], h), 0);
    crdt_batch_builder_release(&b);
    /* a peer's batch in the same group */
    test_seal_scans(&a, 1, NULL, 3, 10, &g.buf[1], &g.len[1], h);

    assert_int_equal(store_write(s, group2_fn, &g), 0);
    assert_int_equal(g.rc[0], TV_ESCOPE);
    assert_string_equal(g.rule[0], STORE_RULE_T2);
    assert_int_equal(g.rc[1], 0);
    assert_int_equal(frontier(s, me.pk).seq, 0);
    assert_int_equal(frontier(s, a.pk).seq, 3);
    store_counts c = counts(s);
    assert_int_equal(c.events, c0.events + 3);
    assert_int_equal(c.batches, c0.batches + 1);
    for (int i = 0; i < 2; i++)
        free(g.buf[i]);
    store_close(s);
    test_rmdir(dir);
}

/* A batch of the node's own log is judged by the rules of the tree: a certificate the node
 * issues that does not narrow its own (scope *) is refused (T2) and the key it names stays
 * untrusted; a certificate of its own key issued by itself is refused (T1); a revocation of
 * a node outside its chain is refused (T5); a lawful certificate goes in. */
static void test_own_batch_judged(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity me, a, k, k2, root;
    test_identity(&me, 72);
    test_identity(&a, 73);
    test_identity(&k, 74);
    test_identity(&k2, 75);
    test_identity(&root, 0xee);
    const crdt_identity *ids[] = {&a};
    trust(s, ids, 1);
    /* scope 22402: test_scan's venues (unit 22333) are not shown here, need no registration */
    certify(s, &me, CRDT_ROLE_DISTRICT, "569", "22402", NULL);
    be_node(s, &me);
    one_log lme = {.s = s, .id = &me}, lk = {.s = s, .id = &k}, la = {.s = s, .id = &a};

    /* the node signs k a province's certificate, scope *: refused, nothing stored */
    assert_int_equal(
        log_signed_cert(&lme, &me, me.pk, k.pk, CRDT_ROLE_PROVINCE, "56", CRDT_SCOPE_ALL),
        TV_ESCOPE);
    assert_string_equal(lme.rule, STORE_RULE_T2);
    assert_int_equal(frontier(s, me.pk).seq, 0);
    /* and k is trusted with nothing: its batch is refused, untrusted */
    assert_int_equal(log_one_scan(&lk), TV_EUNTRUSTED);
    assert_string_equal(lk.rule, STORE_RULE_T7);

    /* a certificate of its own key that it issues itself, scope *: not the root (T1) */
    assert_int_equal(
        log_signed_cert(&lme, &me, me.pk, me.pk, CRDT_ROLE_PROVINCE, "56", CRDT_SCOPE_ALL),
        TV_ESCOPE);
    assert_string_equal(lme.rule, STORE_RULE_T1);
    assert_true(installed_issuer_is(s, &me, &root));

    /* a revocation of a, which the root certified: not in a's chain (T5) */
    crdt_batch_builder b;
    log_begin(&lme, &b);
    crdt_revoke rv = {0};
    memcpy(rv.subject, a.pk, TV_NODE_ID_BYTES);
    assert_int_equal(crdt_event_pack_revoke(&b.pk, lme.hlc, &rv), 0);
    assert_int_equal(log_try_end(&lme, &b), TV_ESCOPE);
    assert_string_equal(lme.rule, STORE_RULE_T5);
    assert_int_equal(log_one_scan(&la), 0); /* a is not revoked */
    assert_int_equal(frontier(s, me.pk).seq, 0);

    /* a lawful certificate: a commune of its scope */
    assert_int_equal(log_signed_cert(&lme, &me, me.pk, k2.pk, CRDT_ROLE_COMMUNE, "22402", "22402"),
                     0);
    assert_true(installed_issuer_is(s, &k2, &me));
    assert_int_equal(frontier(s, me.pk).seq, 1);
    store_close(s);
    test_rmdir(dir);
}

/* A node not enrolled (no root) records its own events, but no certificate in its log fits
 * a tree it does not have (T1); once its root is set (as the province sets its own before
 * writing its certificate), its root certificate goes in. */
static void test_own_batch_before_root(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity me;
    test_identity(&me, 76);
    be_node(s, &me);
    one_log l = {.s = s, .id = &me};
    assert_int_equal(log_one_scan(&l), 0); /* its own scans, before any root */
    assert_int_equal(
        log_signed_cert(&l, &me, me.pk, me.pk, CRDT_ROLE_PROVINCE, "56", CRDT_SCOPE_ALL),
        TV_ESCOPE);
    assert_string_equal(l.rule, STORE_RULE_T1);
    assert_int_equal(store_write(s, self_root_fn, &me), 0);
    assert_int_equal(
        log_signed_cert(&l, &me, me.pk, me.pk, CRDT_ROLE_PROVINCE, "56", CRDT_SCOPE_ALL), 0);
    assert_true(installed_issuer_is(s, &me, &me));
    assert_int_equal(frontier(s, me.pk).seq, 2);
    store_close(s);
    test_rmdir(dir);
}

static int revoked_now(store *s, const crdt_identity *k)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_revoked(t, k->pk);
    store_read_end(t);
    return rc;
}

/* T6: a revoked key is reinstated by a certificate the root issues it after the
 * revocation (by not_before against the revocation's HLC time); an older one does not. */
static void test_root_reinstates(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity root, k;
    test_identity(&root, 0xee);
    test_identity(&k, 64);
    trust(s, NULL, 0);
    one_log lr = {.s = s, .id = &root};
    assert_int_equal(log_cert(&lr, &k, "22402", 1633100000000LL, NULL), 0);
    assert_int_equal(revoked_now(s, &k), 0);
    /* the root revokes k (at HLC time 1633482060000, its log's second event) */
    crdt_batch_builder b;
    log_begin(&lr, &b);
    crdt_revoke rv = {.reason = {"mất máy", (uint32_t)strlen("mất máy")}};
    memcpy(rv.subject, k.pk, TV_NODE_ID_BYTES);
    assert_int_equal(crdt_event_pack_revoke(&b.pk, lr.hlc, &rv), 0);
    assert_int_equal(log_try_end(&lr, &b), 0);
    assert_int_equal(revoked_now(s, &k), 1);
    /* a certificate from before the revocation does not reinstate */
    assert_int_equal(log_cert(&lr, &k, "22402", 1633200000000LL, NULL), 0);
    assert_int_equal(revoked_now(s, &k), 1);
    /* one from after it does */
    assert_int_equal(log_cert(&lr, &k, "22402", 1633500000000LL, NULL), 0);
    assert_int_equal(revoked_now(s, &k), 0);
    store_close(s);
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_apply_reopen),
        cmocka_unit_test(test_sig_memo_per_opener),
        cmocka_unit_test(test_chain_faults_rejected),
        cmocka_unit_test(test_fork_evidence_is_tracing_data),
        cmocka_unit_test(test_fork_evidence_bounded),
        cmocka_unit_test(test_tampered_at_next_seq),
        cmocka_unit_test(test_map_grows),
        cmocka_unit_test(test_views_independent_of_order),
        cmocka_unit_test(test_indexes_and_aggregates),
        cmocka_unit_test(test_group_commit_isolates_bad_batch),
        cmocka_unit_test(test_reminders_suspend),
        cmocka_unit_test(test_controllers_or_set),
        cmocka_unit_test(test_health_views),
        cmocka_unit_test(test_case_counts_first_record),
        cmocka_unit_test(test_key_grant_authors),
        cmocka_unit_test(test_pseudonym_map),
        cmocka_unit_test(test_units_view),
        cmocka_unit_test(test_cert_cache),
        cmocka_unit_test(test_registration_by_its_registrar),
        cmocka_unit_test(test_venue_events_judged_by_registered_unit),
        cmocka_unit_test(test_parked_until_registered),
        cmocka_unit_test(test_consent_outranks),
        cmocka_unit_test(test_root_reinstates),
        cmocka_unit_test(test_own_batch_bad_certificate),
        cmocka_unit_test(test_own_batch_judged),
        cmocka_unit_test(test_own_batch_before_root),
        cmocka_unit_test(test_future_batch_waits),
        cmocka_unit_test(test_registrar_outranks_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
