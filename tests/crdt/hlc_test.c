/* Tests for crdt/hlc.c: monotonicity under skewed wall clocks, overflow, merge and restart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "crdt/error.h"
#include "crdt/hlc.h"
#include "tests/fixture/rng.h"

/* 2023-11-14T22:13:20Z: a plausible wall clock, so failures print readable numbers. */
#define T0 UINT64_C(1700000000000)
#define HOUR_MS UINT64_C(3600000)
#define YEAR_MS (UINT64_C(365) * 24 * HOUR_MS)
#define MS_MAX UINT64_C(0xFFFFFFFFFFFF) /* the largest 48-bit millisecond value */

static void test_layout(void **state)
{
    (void)state;
    assert_int_equal(crdt_hlc_make(1, 2), 0x10002);
    assert_int_equal(crdt_hlc_make(T0, 0xFFFF), (T0 << 16) | 0xFFFF);
    assert_int_equal(crdt_hlc_ms(crdt_hlc_make(T0, 7)), T0);
    assert_int_equal(crdt_hlc_logical(crdt_hlc_make(T0, 7)), 7);
    assert_int_equal(crdt_hlc_make(MS_MAX, 0xFFFF), UINT64_MAX);
    /* Later milliseconds compare greater whatever the counters hold. */
    assert_true(crdt_hlc_make(T0 + 1, 0) > crdt_hlc_make(T0, 0xFFFF));
}

static void test_now_follows_wall_clock(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 0));
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 1));
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 2));
    /* A new millisecond restarts the counter. */
    assert_int_equal(crdt_hlc_now(&c, T0 + 1), crdt_hlc_make(T0 + 1, 0));
    assert_int_equal(crdt_hlc_now(&c, T0 + 250), crdt_hlc_make(T0 + 250, 0));
    assert_int_equal(c.last, crdt_hlc_make(T0 + 250, 0));
}

static void test_now_from_zero(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    /* A wall clock at the epoch must still issue something above the initial 0. */
    assert_int_equal(crdt_hlc_now(&c, 0), 1);
    assert_int_equal(crdt_hlc_now(&c, 0), 2);
}

static void test_wall_clock_jumps_back_an_hour(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    uint64_t prev = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t t = crdt_hlc_now(&c, T0);
        assert_true(t > prev);
        prev = t;
    }
    assert_int_equal(prev, crdt_hlc_make(T0, 4));

    /* NTP steps the clock back an hour: the ms part stays put and the counter runs on. */
    for (uint64_t i = 0; i < 1000; i++) {
        uint64_t t = crdt_hlc_now(&c, T0 - HOUR_MS + i);
        assert_true(t > prev);
        assert_int_equal(crdt_hlc_ms(t), T0);
        prev = t;
    }
    assert_int_equal(prev, crdt_hlc_make(T0, 1004));

    /* Once the wall clock catches up, timestamps follow it again. */
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 1005));
    assert_int_equal(crdt_hlc_now(&c, T0 + 1), crdt_hlc_make(T0 + 1, 0));
}

static void test_wall_clock_stuck_at_zero_after_real_time(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 0));
    /* A device whose RTC battery died reports the epoch. */
    assert_int_equal(crdt_hlc_now(&c, 0), crdt_hlc_make(T0, 1));
    assert_int_equal(crdt_hlc_now(&c, 1), crdt_hlc_make(T0, 2));
}

static void test_logical_overflow_carries_into_ms(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    uint64_t prev = 0, t = 0;
    for (uint32_t i = 0; i < 70000; i++) {
        t = crdt_hlc_now(&c, T0);
        assert_true(t > prev);
        if (i == 65535) assert_int_equal(t, crdt_hlc_make(T0, 0xFFFF));
        if (i == 65536) assert_int_equal(t, crdt_hlc_make(T0 + 1, 0));
        prev = t;
    }
    assert_int_equal(t, crdt_hlc_make(T0 + 1, 70000 - 65536 - 1));
    /* The wall clock reaching the borrowed millisecond does not reissue it. */
    assert_int_equal(crdt_hlc_now(&c, T0 + 1), crdt_hlc_make(T0 + 1, 70000 - 65536));
    assert_int_equal(crdt_hlc_now(&c, T0 + 2), crdt_hlc_make(T0 + 2, 0));
}

static void test_observe_then_now_is_greater(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 0));

    /* A peer ten minutes ahead, well within the default drift. */
    uint64_t remote = crdt_hlc_make(T0 + 600000, 41);
    assert_int_equal(crdt_hlc_observe(&c, remote, T0 + 5, CRDT_HLC_DRIFT_MAX_MS), 0);
    uint64_t t = crdt_hlc_now(&c, T0 + 6);
    assert_true(t > remote);
    assert_int_equal(t, crdt_hlc_make(T0 + 600000, 42));
    assert_int_equal(crdt_hlc_now(&c, T0 + 600001), crdt_hlc_make(T0 + 600001, 0));
}

static void test_observe_same_ms_higher_counter(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, crdt_hlc_make(T0, 3));
    assert_int_equal(crdt_hlc_observe(&c, crdt_hlc_make(T0, 900), T0, 0), 0);
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 901));
}

static void test_observe_remote_at_counter_max(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    uint64_t remote = crdt_hlc_make(T0, 0xFFFF);
    assert_int_equal(crdt_hlc_observe(&c, remote, T0, CRDT_HLC_DRIFT_MAX_MS), 0);
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0 + 1, 0));
}

static void test_observe_older_remote_changes_nothing(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, crdt_hlc_make(T0, 9));
    assert_int_equal(crdt_hlc_observe(&c, crdt_hlc_make(T0 - HOUR_MS, 500), T0, 0), 0);
    assert_int_equal(crdt_hlc_observe(&c, crdt_hlc_make(T0, 9), T0, 0), 0);
    assert_int_equal(c.last, crdt_hlc_make(T0, 9));
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 10));
}

static void test_observe_refuses_a_year_ahead(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 0));

    uint64_t remote = crdt_hlc_make(T0 + YEAR_MS, 0);
    assert_int_equal(crdt_hlc_observe(&c, remote, T0, CRDT_HLC_DRIFT_MAX_MS), TV_ECLOCK);
    assert_int_equal(c.last, crdt_hlc_make(T0, 0));
    /* The refused timestamp drags nothing: the next one is on our own wall clock. */
    assert_int_equal(crdt_hlc_now(&c, T0 + 1), crdt_hlc_make(T0 + 1, 0));

    /* Same with a wall clock that was stepped back an hour under a clock already ahead. */
    assert_int_equal(crdt_hlc_observe(&c, remote, T0 - HOUR_MS, CRDT_HLC_DRIFT_MAX_MS), TV_ECLOCK);
    assert_int_equal(c.last, crdt_hlc_make(T0 + 1, 0));
}

static void test_observe_drift_boundary(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    /* Exactly drift_max_ms ahead is allowed; one millisecond more is not, whatever the
     * counter holds. */
    uint64_t at_limit = crdt_hlc_make(T0 + CRDT_HLC_DRIFT_MAX_MS, 0xFFFF);
    uint64_t past_limit = crdt_hlc_make(T0 + CRDT_HLC_DRIFT_MAX_MS + 1, 0);
    assert_int_equal(crdt_hlc_observe(&c, past_limit, T0, CRDT_HLC_DRIFT_MAX_MS), TV_ECLOCK);
    assert_int_equal(c.last, 0);
    assert_int_equal(crdt_hlc_observe(&c, at_limit, T0, CRDT_HLC_DRIFT_MAX_MS), 0);
    assert_int_equal(c.last, at_limit);

    /* A zero allowance accepts the current millisecond only. */
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_observe(&c, crdt_hlc_make(T0 + 1, 0), T0, 0), TV_ECLOCK);
    assert_int_equal(crdt_hlc_observe(&c, crdt_hlc_make(T0, 77), T0, 0), 0);
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 78));
}

static void test_restart_never_reissues(void **state)
{
    (void)state;
    crdt_hlc c;
    uint64_t last = crdt_hlc_make(T0, 7);
    /* Restarted with a wall clock five seconds behind what the log holds. */
    crdt_hlc_init(&c, last);
    assert_int_equal(crdt_hlc_now(&c, T0 - 5000), crdt_hlc_make(T0, 8));
    assert_int_equal(crdt_hlc_now(&c, T0), crdt_hlc_make(T0, 9));

    /* A run of restarts at random wall clocks: each restart passes the largest
     * timestamp seen so far, and nothing at or below it comes out again. */
    uint64_t seed = 20240101, max = 0;
    for (int run = 0; run < 200; run++) {
        crdt_hlc_init(&c, max);
        int events = (int)(fx_splitmix64(&seed) % 50);
        for (int i = 0; i < events; i++) {
            uint64_t wall = T0 + fx_splitmix64(&seed) % 2000 - 1000;
            uint64_t t = crdt_hlc_now(&c, wall);
            assert_true(t > max);
            max = t;
        }
    }
}

static void test_huge_wall_clock_does_not_wrap(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_now(&c, MS_MAX), crdt_hlc_make(MS_MAX, 0));
    assert_int_equal(crdt_hlc_now(&c, MS_MAX), crdt_hlc_make(MS_MAX, 1));

    /* Beyond 48 bits the wall clock is clamped rather than shifted out. */
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_now(&c, UINT64_MAX), crdt_hlc_make(MS_MAX, 0));
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_now(&c, MS_MAX + 1), crdt_hlc_make(MS_MAX, 0));

    /* At the very end of the range the clock saturates instead of wrapping to zero. */
    crdt_hlc_init(&c, crdt_hlc_make(MS_MAX, 0xFFFE));
    assert_int_equal(crdt_hlc_now(&c, T0), UINT64_MAX);
    assert_int_equal(crdt_hlc_now(&c, T0), UINT64_MAX);
    assert_int_equal(crdt_hlc_now(&c, UINT64_MAX), UINT64_MAX);
}

static void test_observe_no_overflow(void **state)
{
    (void)state;
    crdt_hlc c;
    /* wall_ms + drift_max_ms would overflow 64 bits here. */
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_observe(&c, UINT64_MAX, UINT64_MAX, UINT64_MAX), 0);
    assert_int_equal(c.last, UINT64_MAX);
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_observe(&c, UINT64_MAX, MS_MAX, CRDT_HLC_DRIFT_MAX_MS), 0);
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_observe(&c, UINT64_MAX, T0, UINT64_MAX - 1), 0);
    /* A wall clock at zero and the largest remote: refused, not wrapped into range. */
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_observe(&c, UINT64_MAX, 0, CRDT_HLC_DRIFT_MAX_MS), TV_ECLOCK);
    assert_int_equal(crdt_hlc_observe(&c, UINT64_MAX, 0, MS_MAX - 1), TV_ECLOCK);
    assert_int_equal(crdt_hlc_observe(&c, UINT64_MAX, 0, MS_MAX), 0);

    /* A remote at the last millisecond with a full counter is the end of time: the clock
     * holds it and saturates there. */
    crdt_hlc_init(&c, 0);
    assert_int_equal(crdt_hlc_observe(&c, crdt_hlc_make(MS_MAX, 0xFFFE), MS_MAX, 0), 0);
    assert_int_equal(crdt_hlc_now(&c, MS_MAX), UINT64_MAX);
}

/* Random mix of local events and remote timestamps against a wall clock that wanders by
 * hours in both directions; checks the clock's two promises at every step. */
static void test_random_skew(void **state)
{
    (void)state;
    crdt_hlc c;
    crdt_hlc_init(&c, 0);
    uint64_t seed = 7, issued_max = 0, accepted_max = 0;
    for (int i = 0; i < 100000; i++) {
        uint64_t r = fx_splitmix64(&seed);
        uint64_t wall = T0 + (r >> 8) % (6 * HOUR_MS) - 3 * HOUR_MS;
        if ((r & 3) == 0) {
            /* Remotes from three days behind to three days ahead of this wall clock. */
            uint64_t ms = wall + fx_splitmix64(&seed) % (6 * 24 * HOUR_MS) - 3 * 24 * HOUR_MS;
            uint64_t remote = crdt_hlc_make(ms, (uint32_t)(r >> 2) & 0xFFFF);
            uint64_t before = c.last;
            int rc = crdt_hlc_observe(&c, remote, wall, CRDT_HLC_DRIFT_MAX_MS);
            if (ms > wall + CRDT_HLC_DRIFT_MAX_MS) {
                assert_int_equal(rc, TV_ECLOCK);
                assert_int_equal(c.last, before);
            } else {
                assert_int_equal(rc, 0);
                if (remote > accepted_max) accepted_max = remote;
            }
        } else {
            uint64_t t = crdt_hlc_now(&c, wall);
            assert_true(t > issued_max);
            assert_true(t > accepted_max);
            /* Never behind the wall clock it was given. */
            assert_true(crdt_hlc_ms(t) >= wall);
            issued_max = t;
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_now_follows_wall_clock),
        cmocka_unit_test(test_now_from_zero),
        cmocka_unit_test(test_wall_clock_jumps_back_an_hour),
        cmocka_unit_test(test_wall_clock_stuck_at_zero_after_real_time),
        cmocka_unit_test(test_logical_overflow_carries_into_ms),
        cmocka_unit_test(test_observe_then_now_is_greater),
        cmocka_unit_test(test_observe_same_ms_higher_counter),
        cmocka_unit_test(test_observe_remote_at_counter_max),
        cmocka_unit_test(test_observe_older_remote_changes_nothing),
        cmocka_unit_test(test_observe_refuses_a_year_ahead),
        cmocka_unit_test(test_observe_drift_boundary),
        cmocka_unit_test(test_restart_never_reissues),
        cmocka_unit_test(test_huge_wall_clock_does_not_wrap),
        cmocka_unit_test(test_observe_no_overflow),
        cmocka_unit_test(test_random_skew),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
