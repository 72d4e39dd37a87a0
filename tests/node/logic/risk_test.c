/* Tests of risk levels set and seen as `risk` and a web console do (node/logic/risk.c) over
 * a real health node, and of their JSON (node/render/risk.c). */
#include "crdt/error.h"
#include "node/logic/enroll.h"
#include "node/logic/node.h"
#include "node/logic/risk.h"
#include "node/logic/units.h"
#include "node/render/risk.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define DAY (24 * 60 * 60 * 1000LL)
#define T0 1633482000000LL /* 2021-10-06 08:00 Vietnam time */

static int level_set(tv_node *n, const char *unit, uint8_t level, int64_t from, const char *note)
{
    crdt_risk r = {.unit = {unit, (uint32_t)strlen(unit)},
                   .level = level,
                   .from_ms = from,
                   .note = {note, (uint32_t)strlen(note)}};
    return tv_risk_set(n, &r);
}

static void test_risk(void **state)
{
    (void)state;
    char *dir = test_tmpdir(), sub[4300];
    uint8_t id[TV_NODE_ID_BYTES];
    snprintf(sub, sizeof sub, "%s/p", dir);
    assert_int_equal(tv_node_create(sub, TV_ROLE_PROVINCE, "56", "Sở Y tế", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, sub, TV_NODE_WRITE), 0);
    assert_int_equal(tv_enroll_make_root(&n, 1, NULL), 0);

    tv_risk_view v;
    assert_int_equal(tv_risk_view_run(&n, NULL, T0, &v), 0);
    assert_int_equal(v.n, 0);
    assert_int_equal(v.units, 0);
    tv_risk_view_free(&v);

    assert_int_equal(level_set(&n, "56", 3, T0, "ổ dịch"), 0);
    assert_int_equal(level_set(&n, "56", 2, T0 + 10 * DAY, ""), 0);
    assert_int_equal(level_set(&n, "22333", 4, T0, ""), 0);

    /* one unit: in force, then announced */
    assert_int_equal(tv_risk_view_run(&n, "56", T0 + DAY, &v), 0);
    assert_int_equal(v.units, 1);
    assert_int_equal(v.n, 2);
    assert_string_equal(v.rows[0].unit, "56");
    assert_int_equal(v.rows[0].in_force, 1);
    assert_int_equal(v.rows[0].r.level, 3);
    assert_string_equal(v.rows[0].r.note, "ổ dịch");
    assert_int_equal(v.rows[1].in_force, 0);
    assert_int_equal(v.rows[1].r.level, 2);
    assert_int_equal(v.rows[1].r.from_ms, T0 + 10 * DAY);
    const tv_unit *u = tv_unit_find("56");
    assert_string_equal(v.rows[0].unit_name, u ? u->name : "");

    char path[4400];
    snprintf(path, sizeof path, "%s/out.json", dir);
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    assert_int_equal(tv_render_risk_json(f, &v.rows[1]), 0);
    rewind(f);
    char line[1024] = {0};
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_non_null(strstr(line, "\"state\":\"from then\",\"level\":2,"
                                 "\"from\":\"2021-10-16T08:00:00+07:00\",\"set_for\":\"56\""));
    tv_risk_view_free(&v);

    /* a village without a level of its own has its commune's */
    assert_int_equal(tv_risk_view_run(&n, "22333.03", T0 + DAY, &v), 0);
    assert_int_equal(v.units, 1);
    assert_int_equal(v.n, 1);
    assert_string_equal(v.rows[0].unit, "22333.03");
    assert_string_equal(v.rows[0].r.unit, "22333");
    assert_int_equal(v.rows[0].r.level, 4);
    tv_risk_view_free(&v);

    /* every unit, each once, in code order; before any level: nothing in force */
    assert_int_equal(tv_risk_view_run(&n, NULL, T0 - DAY, &v), 0);
    assert_int_equal(v.units, 2);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.rows[0].unit, "22333");
    assert_int_equal(v.rows[0].in_force, 0);
    assert_string_equal(v.rows[1].unit, "56");
    assert_string_equal(v.rows[2].unit, "56");
    tv_risk_view_free(&v);
    tv_node_close(&n);

    /* a commune is refused, nothing recorded */
    snprintf(sub, sizeof sub, "%s/c", dir);
    assert_int_equal(tv_node_create(sub, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    assert_int_equal(tv_node_open(&n, sub, TV_NODE_WRITE), 0);
    assert_int_equal(level_set(&n, "22333", 4, T0, ""), TV_EPERM);
    assert_int_equal(tv_risk_view_run(&n, NULL, T0, &v), 0);
    assert_int_equal(v.units, 0);
    tv_risk_view_free(&v);
    tv_node_close(&n);
    test_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_risk)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
