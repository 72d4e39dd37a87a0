/* Tests of a node's status as the CLI and a web console read it (node/logic/status.c),
 * over a real commune node, and of its JSON (node/render/status.c). */
#include "crdt/error.h"
#include "node/logic/node.h"
#include "node/logic/resync.h"
#include "node/logic/status.h"
#include "node/logic/venue.h"
#include "node/render/status.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

typedef test_node fixture;

static void add(tv_node *n, const char *name)
{
    assert_int_equal(test_market_add(n, name), 0);
}

static void test_fresh_node(void **state)
{
    fixture *f = *state;
    tv_status s;
    assert_int_equal(tv_status_get(&f->n, f->dir, &s), 0);
    assert_false(s.have_root);
    assert_null(s.cert);
    assert_false(s.revoked);
    assert_int_equal(s.counts.events, 0);
    assert_int_equal(s.counts.batches, 0);
    assert_false(s.have_own);
    assert_int_equal(s.own.seq, 0);
    assert_int_equal(s.n_frontier, 0);
    assert_int_equal(s.n_forks + s.n_fork_origins + s.n_parked + s.n_ckpt_waiting, 0);
    assert_false(s.resync_required);
    assert_int_equal(s.n_resync_log, 0);
    assert_false(s.retention.set);
    assert_true(s.retention.days > 0);
    assert_int_equal(s.purged_ms, 0);
    assert_true(s.size.file_bytes > 0);
    tv_status_free(&s);
    tv_status_free(&s); /* a released status may be released again */
}

static void test_held_and_log(void **state)
{
    fixture *f = *state;
    add(&f->n, "Chợ Vĩnh Hòa");
    add(&f->n, "Quán cà phê");
    assert_int_equal(tv_resync_log(f->dir, 1633496400000LL, "override", "a test reason"), 0);
    tv_status s;
    assert_int_equal(tv_status_get(&f->n, f->dir, &s), 0);
    assert_int_equal(s.counts.events, 2);
    assert_int_equal(s.counts.by_type[CRDT_EV_VENUE_UPSERT], 2);
    assert_int_equal(s.counts.origins, 1);
    assert_true(s.have_own);
    assert_int_equal(s.own.seq, 2);
    assert_int_equal(s.n_frontier, 1);
    assert_memory_equal(s.frontier[0].origin, f->n.id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(s.frontier[0].f.seq, 2);
    assert_int_equal(s.n_resync_log, 1);
    assert_string_equal(s.resync_log[0].kind, "override");
    assert_string_equal(s.resync_log[0].detail, "a test reason");
    assert_string_equal(s.resync_log[0].at, "2021-10-06T12:00:00+07:00");

    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_non_null(m);
    assert_int_equal(tv_render_status_json(m, &f->n, f->dir, &s), 0);
    fclose(m);
    assert_non_null(strstr(buf, "\"own_seq\":2,"));
    assert_non_null(strstr(buf, "\"root\":null,\"cert\":null,\"revoked\":false"));
    assert_non_null(strstr(buf, "\"kind\":\"override\",\"detail\":\"a test reason\""));
    assert_int_equal(buf[len - 1], '\n');
    free(buf);
    tv_status_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_node, test_commune_setup, test_node_teardown),
        cmocka_unit_test_setup_teardown(test_held_and_log, test_commune_setup, test_node_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
