/* Tests for node/logic/units.c: the official list embedded in the program, read as a tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/logic/units.h"

static void test_official_list(void **state)
{
    (void)state;
    assert_int_equal(tv_units_count(), 34 + 3321); /* after the reform of 1 July 2025 */
    const tv_unit *u = tv_unit_find("22333");
    assert_non_null(u);
    assert_string_equal(u->name, "Phường Bắc Nha Trang");
    assert_string_equal(u->parent, "56");
    u = tv_unit_find("56");
    assert_non_null(u);
    assert_string_equal(u->name, "Tỉnh Khánh Hoà");
    assert_string_equal(u->parent, "");
    assert_null(tv_unit_find("22334"));
    assert_null(tv_unit_find(""));
}

static void test_children_and_parents(void **state)
{
    (void)state;
    size_t n;
    const tv_unit *const *c = tv_unit_children("56", &n);
    assert_int_equal(n, 65);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(c[i]->parent, "56");
        if (i) assert_true(strcmp(c[i - 1]->code, c[i]->code) < 0);
    }
    c = tv_unit_children("01", &n); /* Hà Nội */
    assert_non_null(c);
    assert_true(n > 100);
    assert_null(tv_unit_children("22333", &n)); /* a commune has no official children */
    assert_int_equal(n, 0);
    char p[16];
    tv_unit_parent("22333.03", p); /* a village */
    assert_string_equal(p, "22333");
    tv_unit_parent("22333", p);
    assert_string_equal(p, "56");
    tv_unit_parent("56", p);
    assert_string_equal(p, "");
    tv_unit_parent("99999", p);
    assert_string_equal(p, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_list),
        cmocka_unit_test(test_children_and_parents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
