/* Tests of the store over a real LMDB environment: health views: case statuses and risk levels,
 * case counts (store/health.c). */
#include "store_util.h"

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

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_health_views),
        cmocka_unit_test(test_case_counts_first_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
