/* Tests of the overlap rule of contact tracing (the store-backed part is in trace_test.sh). */
#include "node/logic/trace.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define MIN (60 * 1000LL)

static void test_overlap(void **state)
{
    (void)state;
    /* partial, contained, containing, touching, apart */
    assert_int_equal(tv_overlap_ms(0, 60 * MIN, 30 * MIN, 90 * MIN, 0), 30 * MIN);
    assert_int_equal(tv_overlap_ms(0, 60 * MIN, 10 * MIN, 20 * MIN, 0), 10 * MIN);
    assert_int_equal(tv_overlap_ms(10 * MIN, 20 * MIN, 0, 60 * MIN, 0), 10 * MIN);
    assert_int_equal(tv_overlap_ms(0, 60 * MIN, 60 * MIN, 90 * MIN, 0), 0);
    assert_int_equal(tv_overlap_ms(60 * MIN, 90 * MIN, 0, 60 * MIN, 0), 0);
    assert_int_equal(tv_overlap_ms(0, 10 * MIN, 20 * MIN, 30 * MIN, 0), 0);
    /* the margin widens the first interval on both sides, not the second */
    assert_int_equal(tv_overlap_ms(0, 60 * MIN, 60 * MIN, 90 * MIN, 5 * MIN), 5 * MIN);
    assert_int_equal(tv_overlap_ms(30 * MIN, 40 * MIN, 0, 60 * MIN, 5 * MIN), 20 * MIN);
    assert_int_equal(tv_overlap_ms(0, 10 * MIN, 20 * MIN, 30 * MIN, 10 * MIN), 0);
    /* an instant (a lone check-out) shares nothing without a margin */
    assert_int_equal(tv_overlap_ms(5 * MIN, 5 * MIN, 0, 10 * MIN, 0), 0);
    assert_int_equal(tv_overlap_ms(5 * MIN, 5 * MIN, 0, 10 * MIN, 2 * MIN), 4 * MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_overlap)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
