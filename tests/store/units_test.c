/* Tests of the store over a real LMDB environment: the view of unit events (store/units.c). */
#include "store_util.h"

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

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_units_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
