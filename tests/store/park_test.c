/* Tests of the store over a real LMDB environment: parked batches: waiting for a venue's
 * registration, batches dated ahead (store/park.c). */
#include "store_util.h"

/* Takes up l's log where the store holds it (after a parked batch was let through). */
static void log_resync(one_log *l)
{
    store_frontier f = frontier(l->s, l->id->pk);
    l->seq = f.seq;
    memcpy(l->prev, f.hash, TV_HASH_BYTES);
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

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parked_until_registered),
        cmocka_unit_test(test_future_batch_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
