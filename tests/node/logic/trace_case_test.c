/* Tests of a case traced as the CLI and a web console see it (node/logic/trace_case.c)
 * over a real commune node, and of its JSON (node/render/trace.c). */
#include "crdt/error.h"
#include "node/logic/node.h"
#include "node/logic/trace_case.h"
#include "node/logic/venue.h"
#include "node/render/trace.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define MIN (60 * 1000LL)
#define T0 1633482000000LL /* 2021-10-06 08:00 Vietnam time */

static void scan(tv_node *n, const uint8_t *venue, uint8_t who, uint8_t dir, int64_t at)
{
    crdt_scan s = {.unit = {"22333", 5}, .direction = dir, .method = CRDT_METHOD_STAFF};
    memcpy(s.venue, venue, TV_VENUE_ID_BYTES);
    memset(s.person, who, sizeof s.person);
    s.at_ms = at;
    assert_int_equal(tv_node_add_scan(n, &s, NULL), 0);
}

static void test_trace_case(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){"Chợ Vĩnh Hải", (uint32_t)strlen("Chợ Vĩnh Hải")};
    v.category = tv_venue_category_parse("market")->code;
    assert_int_equal(tv_venue_register(&n, &v), 0);
    /* the case 'A' 08:00-09:00; 'B' 08:10-08:40 (30 min shared); 'C' 08:50-08:55 (5) */
    scan(&n, v.venue, 'A', CRDT_DIR_IN, T0);
    scan(&n, v.venue, 'A', CRDT_DIR_OUT, T0 + 60 * MIN);
    scan(&n, v.venue, 'B', CRDT_DIR_IN, T0 + 10 * MIN);
    scan(&n, v.venue, 'B', CRDT_DIR_OUT, T0 + 40 * MIN);
    scan(&n, v.venue, 'C', CRDT_DIR_IN, T0 + 50 * MIN);
    scan(&n, v.venue, 'C', CRDT_DIR_OUT, T0 + 55 * MIN);
    uint64_t seq;
    assert_int_equal(tv_node_commit(&n, &seq), 0);

    uint8_t a[TV_PERSON_REF_BYTES], b[TV_PERSON_REF_BYTES], z[TV_PERSON_REF_BYTES];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    memset(z, 'Z', sizeof z);
    store_txn *t;
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(tv_trace_person_known(&n, t, a), 1);
    assert_int_equal(tv_trace_person_known(&n, t, z), 0);
    int64_t from = 1, to = 2;
    assert_int_equal(tv_trace_case_window(&n, t, a, &from, &to), TV_ENOTFOUND);
    assert_int_equal(from, 1); /* untouched */

    tv_trace_opts o = {.from_ms = T0 - 60 * MIN,
                       .to_ms = T0 + 120 * MIN,
                       .min_overlap_ms = 15 * MIN,
                       .now_ms = T0 + 24 * 60 * MIN,
                       .depth = 1};
    tv_trace_case c;
    assert_int_equal(tv_trace_case_run(&n, t, a, &o, &c), 0);
    assert_memory_equal(c.ref, a, sizeof a);
    assert_int_equal(c.from_ms, o.from_ms);
    assert_int_equal(c.to_ms, o.to_ms);
    assert_int_equal(c.r.nvisits, 1);
    assert_int_equal(c.r.visits[0].from_ms, T0);
    assert_int_equal(c.r.visits[0].to_ms, T0 + 60 * MIN);
    assert_int_equal(c.r.ncontacts, 1); /* C's 5 minutes are under --min-overlap */
    assert_memory_equal(c.r.contacts[0].ref, b, sizeof b);
    assert_memory_equal(c.r.contacts[0].via, a, sizeof a);
    assert_int_equal(c.r.contacts[0].level, 1);
    assert_int_equal(c.r.contacts[0].total_ms, 30 * MIN);
    assert_string_equal(c.disp[0], "?"); /* no person event, no masked text in the scans */
    assert_int_equal(c.nvenues, 1);
    const tv_trace_venue *tv = tv_trace_case_venue(&c, v.venue);
    assert_non_null(tv);
    assert_true(tv->known);
    assert_string_equal(tv->v.name, "Chợ Vĩnh Hải");
    assert_true(c.commune_only);
    assert_int_equal(c.units->touched, 1);
    assert_int_equal(c.units->n, 1);
    assert_string_equal(c.units->code[0], "22333");
    assert_int_equal(c.units->f[0].last_scan_day, crdt_day_vn(T0));
    assert_false(c.reveal);
    assert_null(tv_trace_case_details(&c, 0));

    /* the JSON a web console shows */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(tv_render_trace_json(m, &c), 0);
    fclose(m);
    assert_non_null(strstr(buf, "\"from\":\"2021-10-06T07:00:00+07:00\","
                                "\"to\":\"2021-10-06T10:00:00+07:00\""));
    assert_non_null(strstr(buf, "\"venue_name\":\"Chợ Vĩnh Hải\",\"unit\":\"22333\",\"village\":"
                                "\"\",\"from\":\"2021-10-06T08:00:00+07:00\",\"to\":"
                                "\"2021-10-06T09:00:00+07:00\",\"minutes\":60}"));
    assert_non_null(strstr(buf, "\"level\":\"F1\",\"ref\":\"42424242"));
    assert_non_null(strstr(buf, "\"shared_minutes\":30,"));
    assert_non_null(strstr(buf, "\"completeness\":[{\"unit\":\"22333\",\"touched\":true,"
                                "\"last_scan_day\":\"2021-10-06\""));
    assert_non_null(strstr(buf, "\"commune_only\":true}\n"));
    free(buf);
    tv_trace_case_free(&c);

    /* a window with nothing in it */
    o.from_ms = T0 + 180 * MIN;
    o.to_ms = T0 + 240 * MIN;
    assert_int_equal(tv_trace_case_run(&n, t, a, &o, &c), 0);
    assert_int_equal(c.r.nvisits, 0);
    assert_int_equal(c.r.ncontacts, 0);
    assert_int_equal(c.units->touched, 0);
    tv_trace_case_free(&c);

    store_read_end(t);
    (void)tv_node_forget_unlocked(&n);
    tv_node_close(&n);
    test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_trace_case)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
