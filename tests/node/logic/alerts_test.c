/* Tests of the windows of confirmed cases at a node's venues (node/logic/alerts.c) over a
 * real health node, and of their JSON (node/render/alerts.c). */
#include "crdt/error.h"
#include "node/logic/alerts.h"
#include "node/logic/case.h"
#include "node/logic/enroll.h"
#include "node/logic/node.h"
#include "node/logic/venue.h"
#include "node/render/alerts.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define MIN (60 * 1000LL)
#define DAY (24 * 60 * MIN)
#define T0 1633482000000LL /* 2021-10-06 08:00 Vietnam time */

static void scan(tv_node *n, const uint8_t *venue, uint8_t who, uint8_t dir, int64_t at)
{
    crdt_scan s = {.unit = {"56", 2}, .direction = dir, .method = CRDT_METHOD_STAFF};
    memcpy(s.venue, venue, TV_VENUE_ID_BYTES);
    memset(s.person, who, sizeof s.person);
    s.at_ms = at;
    assert_int_equal(tv_node_add_scan(n, &s, NULL), 0);
}

static void test_alerts(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_PROVINCE, "56", "Sở Y tế", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    assert_int_equal(tv_enroll_make_root(&n, 1, NULL), 0);
    tv_node_close(&n);
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);

    tv_alerts a;
    assert_int_equal(tv_alerts_run(&n, 1, T0 + DAY, &a), 0);
    assert_int_equal(a.n, 0);
    tv_alerts_free(&a);

    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){"Chợ Vĩnh Hải", (uint32_t)strlen("Chợ Vĩnh Hải")};
    v.category = tv_venue_category_parse("market")->code;
    assert_int_equal(tv_venue_register(&n, &v), 0);
    scan(&n, v.venue, 'A', CRDT_DIR_IN, T0);
    scan(&n, v.venue, 'A', CRDT_DIR_OUT, T0 + 60 * MIN);
    scan(&n, v.venue, 'B', CRDT_DIR_IN, T0);
    uint64_t seq;
    assert_int_equal(tv_node_commit(&n, &seq), 0);
    /* A confirmed with symptoms the next day: infectious from two days before */
    crdt_case c = {.status = CRDT_CASE_F0,
                   .unit = {"56", 2},
                   .onset_ms = T0 + DAY,
                   .sampled_ms = CRDT_TIME_NONE,
                   .at_ms = CRDT_TIME_NONE};
    memset(c.person, 'A', sizeof c.person);
    int recorded;
    assert_int_equal(tv_case_add(&n, &c, T0 + DAY, &recorded), 0);

    assert_int_equal(tv_alerts_run(&n, 1, T0 + 2 * DAY, &a), 0);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.rows[0].case_no, 1);
    assert_int_equal(a.rows[0].from_ms, T0);
    assert_int_equal(a.rows[0].to_ms, T0 + 60 * MIN);
    assert_int_equal(a.rows[0].case_from, T0 - DAY);
    assert_true(a.rows[0].case_to == TV_WINDOW_OPEN);
    assert_memory_equal(a.rows[0].v.id, v.venue, TV_VENUE_ID_BYTES);
    assert_string_equal(a.rows[0].v.name, "Chợ Vĩnh Hải");

    char path[4300];
    snprintf(path, sizeof path, "%s/out.json", dir);
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    assert_int_equal(tv_render_alerts_json(f, &a), 0);
    rewind(f);
    char line[2048] = {0};
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "{\"case\":1,\"declared\":"));
    assert_non_null(strstr(line, "\"from\":\"2021-10-06T08:00:00+07:00\","
                                 "\"to\":\"2021-10-06T09:00:00+07:00\"}"));
    tv_alerts_free(&a);

    tv_node_close(&n);
    test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_alerts)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
