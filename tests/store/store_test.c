/* Tests of the store over a real LMDB environment: the environment: map growth (store/store.c). */
#include "store_util.h"

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

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
