/* Tests of node directories and group commit over a real store. */
#include "crdt/error.h"
#include "node/node.h"
#include "test_util.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

static void test_create_open(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/node", dir);
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(path, TV_ROLE_COMMUNE, "22333", "UBND Phường Bắc Nha Trang",
                                    TV_TEST_PASS, id),
                     0);
    assert_int_equal(tv_node_create(path, TV_ROLE_COMMUNE, "22333", "again", TV_TEST_PASS, id),
                     TV_EEXIST);
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "2233", "short code", TV_TEST_PASS, id),
                     TV_EINVAL);
    assert_int_equal(tv_node_create(dir, TV_ROLE_PROVINCE, "56", "", TV_TEST_PASS, id), TV_EINVAL);

    char key[4300];
    snprintf(key, sizeof key, "%s/" TV_SECRET_FILE, path);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    tv_node n;
    assert_int_equal(tv_node_open(&n, path, 0), 0);
    assert_memory_equal(n.id.pk, id, TV_NODE_ID_BYTES);
    assert_int_equal(n.role, TV_ROLE_COMMUNE);
    assert_string_equal(n.unit, "22333");
    assert_string_equal(n.name, "UBND Phường Bắc Nha Trang");
    tv_node_close(&n);
    assert_int_equal(tv_node_open(&n, dir, 0), TV_ENOTFOUND);
    test_rmdir(dir);
}

/* Own events committed in groups get consecutive seqs across commits and restarts, and
 * the clock never goes back. */
static void test_group_commit_and_restart(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    /* more than one batch's worth in one commit */
    uint64_t last_hlc = 0, hlc, seq;
    for (uint32_t i = 0; i < CRDT_BATCH_EVENTS_MAX + 10; i++) {
        crdt_scan s = test_scan(i, 1633482000000LL + i);
        assert_int_equal(tv_node_add_scan(&n, &s, &hlc), 0);
        assert_true(hlc > last_hlc);
        last_hlc = hlc;
    }
    assert_int_equal(tv_node_pending(&n), CRDT_BATCH_EVENTS_MAX + 10);
    assert_int_equal(tv_node_commit(&n, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(tv_node_pending(&n), 0);
    crdt_scan s = test_scan(1, 5);
    assert_int_equal(tv_node_add_scan(&n, &s, NULL), 0);
    assert_int_equal(tv_node_commit(&n, &seq), 0);
    assert_int_equal(seq, CRDT_BATCH_EVENTS_MAX + 11);

    /* a second writer is refused while the first holds the node */
    tv_node other;
    assert_int_equal(tv_node_open(&other, dir, TV_NODE_WRITE), TV_EBUSY);
    tv_node_close(&n);

    /* after a restart the log continues, and the clock resumes above the last event */
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    assert_true(n.clock.last >= last_hlc);
    assert_int_equal(tv_node_add_scan(&n, &s, &hlc), 0);
    assert_true(hlc > last_hlc);
    assert_int_equal(tv_node_commit(&n, &seq), 0);
    assert_int_equal(seq, CRDT_BATCH_EVENTS_MAX + 12);

    /* an invalid event is refused before it reaches the pending group */
    s.direction = 7;
    assert_int_equal(tv_node_add_scan(&n, &s, NULL), TV_EINVAL);
    assert_int_equal(tv_node_pending(&n), 0);
    store_txn *t;
    store_counts c;
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);
    assert_int_equal(c.events, CRDT_BATCH_EVENTS_MAX + 12);
    assert_int_equal(c.batches, 4);

    /* locked (the kept key forgotten), the node records nothing: no key to sign with */
    assert_int_equal(tv_node_forget_unlocked(&n), 0);
    tv_node_close(&n);
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    assert_false(n.unlocked);
    s.direction = 1;
    assert_int_equal(tv_node_add_scan(&n, &s, NULL), 0);
    assert_int_equal(tv_node_commit(&n, &seq), TV_ELOCKED);
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);
    assert_int_equal(c.events, CRDT_BATCH_EVENTS_MAX + 12);
    tv_node_close(&n);
    test_rmdir(dir);
}

static void epoch_of(const char *dir, uint8_t out[16])
{
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, 0), 0);
    store_txn *t;
    size_t len;
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(store_meta_get(t, "epoch", out, 16, &len), 0);
    store_read_end(t);
    assert_int_equal(len, 16);
    tv_node_close(&n);
}

/* A copied (or restored) store gets a new epoch; reopening the same store does not. */
static void test_copy_gets_new_epoch(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char a[4200], b[4200], cmd[8500];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    uint8_t id[TV_NODE_ID_BYTES], e1[16], e2[16], e3[16];
    assert_int_equal(tv_node_create(a, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    epoch_of(a, e1);
    epoch_of(a, e2);
    assert_memory_equal(e1, e2, 16);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", a, b);
    assert_int_equal(system(cmd), 0);
    epoch_of(b, e3);
    assert_memory_not_equal(e1, e3, 16);
    epoch_of(a, e2);
    assert_memory_equal(e1, e2, 16); /* the original keeps its epoch */
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_open),
        cmocka_unit_test(test_group_commit_and_restart),
        cmocka_unit_test(test_copy_gets_new_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
