/* Tests of the store over a real LMDB environment: forks: evidence kept as tracing data and
 * bounded, tampered batches at an origin's next seq (store/forks.c). */
#include "store_util.h"

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

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fork_evidence_is_tracing_data),
        cmocka_unit_test(test_fork_evidence_bounded),
        cmocka_unit_test(test_tampered_at_next_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
