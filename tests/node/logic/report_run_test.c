/* Tests of reports as the CLI and a web console ask for them (node/logic/report_run.c):
 * periods, their labels, a commune's report over a real node, a run cut by day, and the
 * staleness the warning names; and the report's JSON (node/render/report.c). */
#include "crdt/error.h"
#include "node/format/timefmt.h"
#include "node/logic/node.h"
#include "node/logic/report_run.h"
#include "node/logic/venue.h"
#include "node/render/report.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static int32_t day_of(const char *s)
{
    int32_t d;
    assert_int_equal(tv_date_parse(s, &d), 0);
    return d;
}

static void test_span_and_labels(void **state)
{
    (void)state;
    /* 2021-10-06 12:00 Vietnam time, a Wednesday of 2021-W40 */
    tv_report_span s = {0};
    tv_report_span_this_week(&s, 1633496400000LL);
    assert_int_equal(s.first, day_of("2021-10-04"));
    assert_int_equal(s.last, day_of("2021-10-10"));
    assert_true(s.weekly);
    char label[TV_REPORT_LABEL_BYTES];
    tv_report_period_label(label, &s, s.first, s.last);
    assert_string_equal(label, "2021-W40");

    tv_report_span d = {.first = day_of("2021-10-06"), .last = day_of("2021-10-12"), .step = 7};
    tv_report_span_align(&d);
    assert_int_equal(d.first, day_of("2021-10-04"));
    assert_int_equal(d.last, day_of("2021-10-17"));
    tv_report_period_label(label, &d, d.first + 7, d.first + 13);
    assert_string_equal(label, "2021-W41");

    tv_report_span p = {.first = day_of("2021-10-01"), .last = day_of("2021-10-07"), .step = 0};
    tv_report_span_align(&p); /* not by week: unchanged */
    assert_int_equal(p.first, day_of("2021-10-01"));
    tv_report_period_label(label, &p, p.first, p.last);
    assert_string_equal(label, "2021-10-01..2021-10-07");
    tv_report_period_label(label, &p, p.first, p.first);
    assert_string_equal(label, "2021-10-01");
}

typedef struct seen {
    char label[8][TV_REPORT_LABEL_BYTES];
    int first[8];
    uint64_t in[8];
    size_t n;
} seen;

static int collect(const tv_report *r, const char *label, int first, void *arg)
{
    seen *s = arg;
    snprintf(s->label[s->n], sizeof s->label[0], "%s", label);
    s->first[s->n] = first;
    s->in[s->n] = r->total.now.in;
    s->n++;
    return 0;
}

static void test_commune_report(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){"Chợ", (uint32_t)strlen("Chợ")};
    v.category = tv_venue_category_parse("market")->code;
    assert_int_equal(tv_venue_register(&n, &v), 0);
    crdt_venue_upsert idle = v;
    assert_int_equal(tv_venue_register(&n, &idle), 0);
    int64_t now = tv_wall_ms();
    int32_t today = crdt_day_vn(now);
    for (uint8_t who = 1; who <= 3; who++) { /* three check-ins today, one check-out */
        crdt_scan s = {.unit = {"22333", 5}, .method = CRDT_METHOD_STAFF, .at_ms = now - 60000};
        memcpy(s.venue, v.venue, sizeof s.venue);
        memset(s.person, who, sizeof s.person);
        assert_int_equal(tv_node_add_scan(&n, &s, NULL), 0);
        if (who == 1) {
            s.direction = CRDT_DIR_OUT;
            s.at_ms = now - 30000;
            assert_int_equal(tv_node_add_scan(&n, &s, NULL), 0);
        }
    }
    uint64_t seq;
    assert_int_equal(tv_node_commit(&n, &seq), 0);

    tv_report r;
    assert_int_equal(tv_report_make(&n, NULL, today, today, now, &r), 0);
    assert_string_equal(r.unit, "22333");
    assert_int_equal(r.n, 1); /* an official commune is its own row */
    assert_string_equal(r.rows[0].code, "22333");
    assert_int_equal(r.total.now.venues, 2);
    assert_int_equal(r.total.now.active, 1);
    assert_int_equal(r.total.now.in, 3);
    assert_int_equal(r.total.now.out, 1);
    assert_int_equal(r.total.now.visitors, 3);
    assert_int_equal(r.total.stale, 0);
    assert_int_equal(r.idle_total, 1); /* the venue with no scan */
    assert_memory_equal(r.idle[0].id, idle.venue, TV_VENUE_ID_BYTES);

    /* the JSON Lines a web console reads: the row, then the total */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    tv_render_report_json(m, &r, &(tv_report_view){"22333", "today", 1, 1});
    fclose(m);
    assert_non_null(strstr(buf, "{\"period\":\"today\",\"unit\":\"22333\",\"name\":\"Phường Bắc "
                                "Nha Trang\",\"level\":1,\"parent\":\"22333\",\"venues\":2,"
                                "\"venues_scanned\":1,\"check_ins\":3,\"check_outs\":1,"
                                "\"visitors_estimate\":3,"));
    assert_non_null(strstr(buf, "\n{\"period\":\"today\",\"unit\":\"total\","));
    assert_non_null(strstr(buf, "\"stale\":0,\"expected_units\":1}\n"));
    free(buf);
    tv_report_free(&r);

    /* by day over the three days to today: only today has scans, and none is stale */
    tv_report_span s = {.first = today - 2, .last = today, .step = 1};
    seen got = {0};
    tv_report_stale st;
    assert_int_equal(tv_report_run(&n, "22333", &s, now, collect, &got, &st), 0);
    assert_int_equal(got.n, 3);
    char label[TV_REPORT_LABEL_BYTES];
    tv_date_format(label, sizeof label, today);
    assert_string_equal(got.label[2], label);
    assert_int_equal(got.first[0], 1);
    assert_int_equal(got.first[1], 0);
    assert_int_equal(got.in[0], 0);
    assert_int_equal(got.in[2], 3);
    assert_int_equal(st.periods, 3);
    assert_int_equal(st.periods_stale, 0);

    (void)tv_node_forget_unlocked(&n);
    tv_node_close(&n);
    test_rmdir(dir);
}

static void test_stale_sum(void **state)
{
    (void)state;
    tv_report_row rows[3] = {0};
    snprintf(rows[0].code, sizeof rows[0].code, "22333");
    rows[0].stale = rows[0].expect = 1; /* stale, official name */
    snprintf(rows[1].code, sizeof rows[1].code, "22366");
    rows[1].stale = 1; /* not expected to report: not named */
    snprintf(rows[2].code, sizeof rows[2].code, "2233301");
    snprintf(rows[2].name, sizeof rows[2].name, "Tổ 3");
    rows[2].stale = rows[2].expect = 1;
    tv_report r = {.rows = rows, .n = 3, .expected = 5};
    tv_report_stale s = {0};
    r.total.stale = 0;
    tv_report_stale_add(&s, &r, "2021-10-04");
    r.total.stale = 2;
    tv_report_stale_add(&s, &r, "2021-10-05");
    tv_report_stale_add(&s, &r, "2021-10-06");
    assert_int_equal(s.periods, 3);
    assert_int_equal(s.periods_stale, 2);
    assert_string_equal(s.first_stale, "2021-10-05");
    assert_int_equal(s.stale_last, 2);
    assert_int_equal(s.expected_last, 5);
    assert_int_equal(s.nunits, 2);
    assert_string_equal(s.units[0].code, "22333");
    assert_string_equal(s.units[0].name, "Phường Bắc Nha Trang");
    assert_string_equal(s.units[1].name, "Tổ 3");
    assert_int_equal(s.more, 0);

    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    tv_render_report_stale(m, &s, 1);
    fclose(m);
    assert_non_null(strstr(buf, "warning: from 2021-10-05 on (2 of 3 days), 2 of 5 units"));
    assert_non_null(strstr(buf, ".\n  22333 Phường Bắc Nha Trang\n  2233301 Tổ 3\n"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_span_and_labels),
        cmocka_unit_test(test_commune_report),
        cmocka_unit_test(test_stale_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
