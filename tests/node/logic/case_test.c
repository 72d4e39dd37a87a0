/* Tests of case statuses as `case list` and a web console see them (node/logic/case.c) over
 * a real health node, and of their JSON (node/render/case.c). */
#include "crdt/error.h"
#include "node/logic/case.h"
#include "node/logic/enroll.h"
#include "node/logic/node.h"
#include "node/logic/units.h"
#include "node/render/case.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define DAY (24 * 60 * 60 * 1000LL)
#define T0 1633482000000LL /* 2021-10-06 08:00 Vietnam time */

static void status_add(tv_node *n, uint8_t who, uint8_t status, int64_t onset)
{
    crdt_case c = {.status = status,
                   .unit = {"56", 2},
                   .onset_ms = onset,
                   .sampled_ms = CRDT_TIME_NONE,
                   .at_ms = CRDT_TIME_NONE};
    memset(c.person, who, sizeof c.person);
    int recorded = -1;
    assert_int_equal(tv_case_add(n, &c, T0 + DAY, &recorded), 0);
    assert_int_equal(recorded, 1);
}

static void test_case_list(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_PROVINCE, "56", "Sở Y tế", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    assert_int_equal(tv_enroll_make_root(&n, 1, NULL), 0);
    tv_node_close(&n); /* reopened with its health certificate: it opens the health audience */
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    assert_int_equal(tv_node_opens_health(&n), 1);

    tv_case_list l;
    assert_int_equal(tv_case_list_run(&n, -1, &l), 0);
    assert_int_equal(l.n, 0);
    tv_case_list_free(&l);

    status_add(&n, 'B', CRDT_CASE_F1, CRDT_TIME_NONE);
    status_add(&n, 'A', CRDT_CASE_F0, T0);
    assert_int_equal(tv_case_list_run(&n, -1, &l), 0);
    assert_int_equal(l.n, 2);
    uint8_t a[TV_PERSON_REF_BYTES], b[TV_PERSON_REF_BYTES];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    assert_memory_equal(l.rows[0].ref, a, sizeof a); /* in pseudonym order */
    assert_memory_equal(l.rows[1].ref, b, sizeof b);
    assert_int_equal(l.rows[0].cs.current.status, CRDT_CASE_F0);
    assert_string_equal(l.rows[0].cs.current.unit, "56");
    assert_int_equal(l.rows[0].cs.current.onset_ms, T0);
    assert_int_equal(l.rows[0].cs.has_window, 1);
    assert_int_equal(l.rows[0].cs.window_from, T0 - 2 * DAY);
    assert_true(l.rows[0].cs.window_to == TV_WINDOW_OPEN);
    assert_string_equal(l.rows[0].disp, "?"); /* no person event, no masked text held */
    const tv_unit *u = tv_unit_find("56");
    assert_string_equal(l.rows[0].unit_name, u ? u->name : "");
    assert_int_equal(l.rows[1].cs.current.status, CRDT_CASE_F1);
    assert_int_equal(l.rows[1].cs.has_window, 0);

    char path[4300];
    snprintf(path, sizeof path, "%s/out.json", dir);
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    assert_int_equal(tv_render_case_json(f, &l.rows[1]), 0);
    rewind(f);
    char line[1024] = {0};
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "\"status\":\"F1\""));
    assert_non_null(strstr(line, "\"person\":\"?\""));
    assert_non_null(strstr(line, "\"window_from\":null,\"window_to\":null}"));
    tv_case_list_free(&l);

    /* the filter */
    assert_int_equal(tv_case_list_run(&n, CRDT_CASE_F1, &l), 0);
    assert_int_equal(l.n, 1);
    assert_memory_equal(l.rows[0].ref, b, sizeof b);
    tv_case_list_free(&l);
    assert_int_equal(tv_case_list_run(&n, CRDT_CASE_F2, &l), 0);
    assert_int_equal(l.n, 0);
    assert_null(l.rows);
    tv_case_list_free(&l);

    tv_node_close(&n);
    test_rmdir(dir);
}

/* case add: the default unit of a person not recorded here, a status set and what is told
 * of it; a node that is not a health node records nothing. */
static void test_case_add(void **state)
{
    (void)state;
    char *dir = test_tmpdir(), sub[4300];
    uint8_t id[TV_NODE_ID_BYTES];
    snprintf(sub, sizeof sub, "%s/p", dir);
    assert_int_equal(tv_node_create(sub, TV_ROLE_PROVINCE, "56", "Sở Y tế", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, sub, TV_NODE_WRITE), 0);
    assert_int_equal(tv_enroll_make_root(&n, 1, NULL), 0);
    tv_node_close(&n);
    assert_int_equal(tv_node_open(&n, sub, TV_NODE_WRITE), 0);

    uint8_t z[TV_PERSON_REF_BYTES];
    memset(z, 'Z', sizeof z);
    tv_case_unit u;
    memset(&u, 0xff, sizeof u);
    assert_int_equal(tv_case_default_unit(&n, z, &u), 0);
    assert_string_equal(u.code, "56");
    assert_int_equal(u.why, TV_CASE_UNIT_UNRECORDED);

    status_add(&n, 'Z', CRDT_CASE_F2, CRDT_TIME_NONE);
    crdt_case c = {.status = CRDT_CASE_F2, .unit = {"56", 2}};
    memcpy(c.person, z, sizeof z);
    tv_case_added a;
    tv_case_added_read(&n, &c, &a);
    assert_int_equal(a.status, CRDT_CASE_F2);
    assert_memory_equal(a.ref, z, sizeof z);
    assert_string_equal(a.unit, "56");
    assert_string_equal(a.disp, "?");
    const tv_unit *pu = tv_unit_find("56");
    assert_string_equal(a.unit_name, pu ? pu->name : "");
    tv_case_list l;
    assert_int_equal(tv_case_list_run(&n, -1, &l), 0);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.rows[0].cs.current.status, CRDT_CASE_F2);
    tv_case_list_free(&l);
    tv_node_close(&n);

    /* a commune: refused, nothing recorded */
    snprintf(sub, sizeof sub, "%s/c", dir);
    assert_int_equal(tv_node_create(sub, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    assert_int_equal(tv_node_open(&n, sub, TV_NODE_WRITE), 0);
    int recorded = -1;
    assert_int_equal(tv_case_add(&n, &c, T0, &recorded), TV_EPERM);
    assert_int_equal(recorded, 0);
    assert_int_equal(tv_case_list_run(&n, -1, &l), 0);
    assert_int_equal(l.n, 0);
    tv_case_list_free(&l);
    tv_node_close(&n);
    test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_case_list),
                                       cmocka_unit_test(test_case_add)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
