/* Tests of the node-local tables of the console (store/accounts.c): records round-trip,
 * what does not decode is refused, the log keeps its order, and a store made before the
 * tables existed gains them. */
#include "store_util.h"

#include <lmdb.h>

static store_account account(const char *name)
{
    store_account a = {.role = 2,
                       .failures = 3,
                       .locked_until_ms = -5,
                       .created_ms = 1,
                       .changed_ms = 1700000000000LL};
    snprintf(a.name, sizeof a.name, "%s", name);
    snprintf(a.hash, sizeof a.hash, "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA");
    return a;
}

typedef struct put_ctx {
    store_account a;
    store_console_entry e[3];
    int n;
} put_ctx;

static int put_fn(store_txn *t, void *arg)
{
    put_ctx *c = arg;
    int rc = store_account_put(t, &c->a);
    for (int i = 0; rc == 0 && i < c->n; i++)
        rc = store_console_append(t, &c->e[i]);
    return rc;
}

static int log_row(const store_console_entry *e, void *arg)
{
    char *out = arg;
    size_t at = strlen(out);
    snprintf(out + at, 400 - at, "%lld/%u/%u/%s/%s/%s/%s;", (long long)e->at_ms, e->seq, e->kind,
             e->actor, e->subject, e->remote, e->detail);
    return 0;
}

static void test_roundtrip(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    put_ctx c = {.a = account("lan"), .n = 3};
    c.e[0] = (store_console_entry){.at_ms = 20, .kind = 1, .actor = "lan", .subject = "lan"};
    c.e[1] = (store_console_entry){.at_ms = 10, .kind = 5, .actor = "cli", .detail = "role x"};
    c.e[2] = (store_console_entry){.at_ms = 20, .kind = 2, .remote = "::1"};
    assert_int_equal(store_write(s, put_fn, &c), 0);
    assert_int_equal(c.e[0].seq, 0);
    assert_int_equal(c.e[2].seq, 1); /* the same millisecond: after it */
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    store_account a;
    assert_int_equal(store_account_get(t, "lan", &a), 0);
    assert_memory_equal(&a, &c.a, sizeof a);
    assert_int_equal(store_account_get(t, "lam", &a), TV_ENOTFOUND);
    char out[400] = "";
    assert_int_equal(store_console_foreach(t, 0, log_row, out), 0);
    assert_string_equal(out, "10/0/5/cli///role x;20/0/1/lan/lan//;20/1/2///::1/;");
    out[0] = '\0';
    assert_int_equal(store_console_foreach(t, 11, log_row, out), 0);
    assert_string_equal(out, "20/0/1/lan/lan//;20/1/2///::1/;");
    store_read_end(t);

    /* bounds: no name, a hash that is no string */
    c.n = 0;
    c.a = account("");
    assert_int_equal(store_write(s, put_fn, &c), TV_EINVAL);
    c.a = account("lan");
    c.a.hash[0] = '\0';
    assert_int_equal(store_write(s, put_fn, &c), TV_EINVAL);
    store_close(s);
    test_rmdir(dir);
}

/* A new store in a new directory, closed, then opened with LMDB itself in a write
 * transaction: to write what the store would not. */
static char *raw_store(MDB_env **env, MDB_txn **txn)
{
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    store_close(s);
    assert_int_equal(mdb_env_create(env), 0);
    assert_int_equal(mdb_env_set_maxdbs(*env, 64), 0);
    assert_int_equal(mdb_env_open(*env, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
    return dir;
}

/* Rows written by hand into the tables: what does not decode is refused, not half-read. */
static void test_corrupt(void **state)
{
    (void)state;
    MDB_env *env;
    MDB_txn *txn;
    char *dir = raw_store(&env, &txn);
    store *s;
    MDB_dbi acc, con;
    assert_int_equal(mdb_dbi_open(txn, "accounts", 0, &acc), 0);
    assert_int_equal(mdb_dbi_open(txn, "console_log", 0, &con), 0);
    uint8_t junk[40] = {1, 2};
    uint8_t key[12] = {0x80};
    MDB_val k = {3, "bad"}, v = {sizeof junk, junk}, ck = {sizeof key, key}, cv = {3, junk};
    assert_int_equal(mdb_put(txn, acc, &k, &v, 0), 0);
    junk[0] = 9; /* a version this build does not know */
    assert_int_equal(mdb_put(txn, con, &ck, &cv, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    mdb_env_close(env);

    assert_int_equal(store_open(&s, dir, NULL), 0);
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    store_account a;
    assert_int_equal(store_account_get(t, "bad", &a), TV_ECORRUPT);
    char out[400] = "";
    assert_int_equal(store_console_foreach(t, INT64_MIN, log_row, out), TV_ECORRUPT);
    assert_string_equal(out, "");
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
}

static int count_account(const store_account *a, void *arg)
{
    (void)a;
    ++*(int *)arg;
    return 0;
}

/* A store made before the tables: the new tables dropped from a fresh one, its other data
 * kept. Read-only it opens with them empty; opened for writing it gains them. */
static void test_older_store(void **state)
{
    (void)state;
    MDB_env *env;
    MDB_txn *txn;
    char *dir = raw_store(&env, &txn);
    store *s;
    MDB_dbi dbi;
    assert_int_equal(mdb_dbi_open(txn, "accounts", 0, &dbi), 0);
    assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    assert_int_equal(mdb_dbi_open(txn, "console_log", 0, &dbi), 0);
    assert_int_equal(mdb_drop(txn, dbi, 1), 0);
    assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    MDB_val k = {6, "format"}, v = {1, "1"};
    assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
    assert_int_equal(mdb_txn_commit(txn), 0);
    assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
    assert_int_equal(mdb_dbi_open(txn, "accounts", 0, &dbi), MDB_NOTFOUND);
    mdb_txn_abort(txn);
    mdb_env_close(env);

    store_opts ro = {.read_only = 1};
    assert_int_equal(store_open(&s, dir, &ro), 0);
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    store_account a;
    assert_int_equal(store_account_get(t, "lan", &a), TV_ENOTFOUND);
    int n = 0;
    assert_int_equal(store_accounts_foreach(t, count_account, &n), 0);
    char out[400] = "";
    assert_int_equal(store_console_foreach(t, 0, log_row, out), 0);
    assert_int_equal(n, 0);
    store_read_end(t);
    store_close(s);

    assert_int_equal(store_open(&s, dir, NULL), 0);
    put_ctx c = {.a = account("lan"), .n = 1};
    c.e[0] = (store_console_entry){.at_ms = 1, .kind = 5, .actor = "cli", .subject = "lan"};
    assert_int_equal(store_write(s, put_fn, &c), 0);
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_account_get(t, "lan", &a), 0);
    char fmt[4];
    size_t len;
    assert_int_equal(store_meta_get(t, "format", fmt, sizeof fmt, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(store_console_foreach(t, 0, log_row, out), 0);
    assert_string_equal(out, "1/0/5/cli/lan//;");
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_corrupt),
        cmocka_unit_test(test_older_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
