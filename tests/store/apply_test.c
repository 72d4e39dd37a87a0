/* Tests of the store over a real LMDB environment: the apply path: chains, idempotence, reopening,
 * the memo of verified signatures, faults refused, group commit (store/apply.c). */
#include "store_util.h"

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

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chain_apply_reopen),
        cmocka_unit_test(test_sig_memo_per_opener),
        cmocka_unit_test(test_chain_faults_rejected),
        cmocka_unit_test(test_group_commit_isolates_bad_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
