/* Tests of the check of a node's store as the CLI and a web console run it
 * (node/logic/verify.c), over a real commune node whose store is then tampered with
 * underneath, and of its lines (node/render/verify.c). */
#include "crdt/error.h"
#include "node/logic/node.h"
#include "node/logic/venue.h"
#include "node/logic/verify.h"
#include "node/render/verify.h"
#include "store/internal.h"
#include "test_util.h"

#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

typedef test_node fixture;

static void add(tv_node *n, const char *name)
{
    assert_int_equal(test_market_add(n, name), 0);
}

/* Adds one to the store's event counter. */
static int bump_events(store_txn *t, void *arg)
{
    (void)arg;
    uint8_t k[4] = {0, 0, 0, COUNT_EVENTS}, v[8];
    MDB_val key = {sizeof k, k}, val;
    if (mdb_get(t->txn, t->s->dbi[T_COUNTS], &key, &val) || val.mv_size != 8) return TV_ESTORE;
    memcpy(v, val.mv_data, 8);
    v[7]++;
    val = (MDB_val){sizeof v, v};
    return mdb_put(t->txn, t->s->dbi[T_COUNTS], &key, &val, 0) ? TV_ESTORE : 0;
}

/* Flips a bit of the last byte of the first stored batch. */
static int flip_first_batch(store_txn *t, void *arg)
{
    (void)arg;
    MDB_cursor *c;
    MDB_val key, val;
    if (mdb_cursor_open(t->txn, t->s->dbi[T_BATCHES], &c)) return TV_ESTORE;
    int rc = mdb_cursor_get(c, &key, &val, MDB_FIRST);
    uint8_t buf[4096];
    if (rc || val.mv_size > sizeof buf) rc = TV_ESTORE;
    if (!rc) {
        memcpy(buf, val.mv_data, val.mv_size);
        buf[val.mv_size - 1] ^= 1;
        val.mv_data = buf;
        rc = mdb_cursor_put(c, &key, &val, MDB_CURRENT) ? TV_ESTORE : 0;
    }
    mdb_cursor_close(c);
    return rc;
}

static char *text(const tv_verify *v)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    for (size_t i = 0; i < v->n_faults; i++)
        tv_render_verify_fault_text(m, &v->faults[i]);
    tv_render_verify_summary_text(m, v);
    assert_int_equal(tv_render_verify_summary_json(m, v), 0);
    fclose(m);
    return buf;
}

static void test_verify(void **state)
{
    fixture *f = *state;
    add(&f->n, "Chợ Vĩnh Hòa");
    add(&f->n, "Quán cà phê");
    tv_verify v;
    assert_int_equal(tv_verify_store(&f->n, &v), 0);
    assert_int_equal(v.batches, 2);
    assert_int_equal(v.events, 2);
    assert_int_equal(v.origins, 1);
    assert_int_equal(v.n_faults, 0);
    char *s = text(&v);
    assert_string_equal(s, "verified 2 batches, 2 events from 1 origin: no fault\n"
                           "{\"batches\":2,\"events\":2,\"origins\":1,\"faults\":0}\n");
    free(s);
    tv_verify_free(&v);

    /* the counters no longer match the batches */
    assert_int_equal(store_write(f->n.st, bump_events, NULL), 0);
    assert_int_equal(tv_verify_store(&f->n, &v), 0);
    assert_int_equal(v.n_faults, 1);
    assert_memory_equal(v.faults[0].origin, f->n.id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(v.faults[0].seq, 0);
    assert_string_equal(v.faults[0].what, "the event counters do not match the stored batches");
    tv_verify_free(&v);

    /* the first batch no longer opens: it names no origin, and the chain has a gap */
    assert_int_equal(store_write(f->n.st, flip_first_batch, NULL), 0);
    assert_int_equal(tv_verify_store(&f->n, &v), 0);
    assert_int_equal(v.batches, 1);
    assert_int_equal(v.events, 1);
    assert_int_equal(v.n_faults, 3);
    static const uint8_t zero[TV_NODE_ID_BYTES];
    assert_memory_equal(v.faults[0].origin, zero, TV_NODE_ID_BYTES);
    assert_int_equal(v.faults[0].seq, 1);
    assert_memory_equal(v.faults[1].origin, f->n.id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(v.faults[1].seq, 2);
    assert_string_equal(v.faults[1].what, "a gap or overlap in the log's seq numbers");
    s = text(&v);
    assert_non_null(strstr(s, "FAULT origin 0000000000000000000000000000000000000000000000000000"
                              "000000000000 batch at seq 1: "));
    assert_non_null(strstr(s, "verified 1 batches, 1 events from 1 origin: FAULTS FOUND\n"
                              "{\"batches\":1,\"events\":1,\"origins\":1,\"faults\":3}\n"));
    free(s);
    tv_verify_free(&v);
    tv_verify_free(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify, test_commune_setup, test_node_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
