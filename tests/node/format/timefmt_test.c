/* Tests for ISO 8601 time and date parsing and printing in node/format/timefmt.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "crdt/error.h"
#include "node/format/timefmt.h"

static int64_t parse_ok(const char *s)
{
    int64_t ms = -1;
    int rc = tv_time_parse(s, &ms);
    if (rc != 0) fail_msg("rejected \"%s\"", s);
    return ms;
}

static void expect_time(const char *s, int64_t want)
{
    int64_t got = parse_ok(s);
    if (got != want) fail_msg("\"%s\": got %lld, want %lld", s, (long long)got, (long long)want);
}

static void expect_bad_time(const char *s)
{
    int64_t ms = 12345;
    if (tv_time_parse(s, &ms) != TV_EINVAL) fail_msg("accepted \"%s\"", s);
    assert_int_equal(ms, 0);
}

static void test_parse_offsets(void **state)
{
    (void)state;
    const int64_t t = 1633482000000; /* 2021-10-06 08:00 in Vietnam */
    expect_time("2021-10-06T08:00:00+07:00", t);
    expect_time("2021-10-06T08:00:00+0700", t);
    expect_time("2021-10-06T08:00:00+07", t);
    expect_time("2021-10-06T01:00:00Z", t);
    expect_time("2021-10-06T01:00:00z", t);
    expect_time("2021-10-06t01:00:00Z", t);
    expect_time("2021-10-06 08:00:00+07:00", t);
    expect_time("2021-10-06T08:00+07:00", t); /* seconds are optional */
    expect_time("2021-10-06 08:00+07", t);
    expect_time("2021-10-06T01:00:00+00:00", t);
    expect_time("2021-10-06T01:00:00-00:00", t);
    expect_time("2021-10-05T20:00:00-05:00", t);
    expect_time("2021-10-06T08:00:00-0500", 1633525200000);
    expect_time("2021-10-06T08:00:00+05:45", 1633486500000); /* Nepal */
}

static void test_parse_values(void **state)
{
    (void)state;
    expect_time("1970-01-01T00:00:00Z", 0);
    expect_time("1970-01-01T07:00:00+07:00", 0);
    expect_time("2000-02-29T00:00:00Z", 951782400000);
    expect_time("2024-02-29T12:00:00+07:00", 1709182800000);
    expect_time("9999-12-31T23:59:59.999Z", TV_TIME_MS_MAX);
    expect_time("2021-10-06T08:00:00.5+07:00", 1633482000500);
    expect_time("2021-10-06T08:00:00.05+07:00", 1633482000050);
    expect_time("2021-10-06T08:00:00.123+07:00", 1633482000123);
    expect_time("2021-10-06T08:00:00.123999999+07:00", 1633482000123); /* truncated */
    expect_time("2021-10-06T08:00:59+07:00", 1633482059000);
    expect_time("2021-10-06T23:59:00+07:00", 1633539540000);
    /* Leap seconds: only at 23:59 UTC, read as the minute's last millisecond. */
    expect_time("2016-12-31T23:59:60Z", 1483228799999);
    expect_time("2016-12-31T23:59:60.5Z", 1483228799999);
    expect_time("2017-01-01T06:59:60+07:00", 1483228799999);
}

static void test_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "2023-02-29T08:00:00+07:00", /* not a leap year */
        "2100-02-29T08:00:00+07:00", /* divisible by 100, not by 400 */
        "2024-13-01T08:00:00+07:00",
        "2024-00-10T08:00:00+07:00",
        "2024-04-31T08:00:00+07:00",
        "2024-01-32T08:00:00+07:00",
        "2024-01-00T08:00:00+07:00",
        "2021-10-06T08:00:00", /* no offset */
        "2021-10-06T08:00",
        "2021-10-06",
        "2021-10-06T24:00:00+07:00",
        "2021-10-06T08:60:00+07:00",
        "2021-10-06T08:00:61+07:00",
        "2021-10-06T08:00:60+07:00", /* 01:00 UTC: no leap second there */
        "2021-10-06T08:00:00+24:00",
        "2021-10-06T08:00:00+07:60",
        "2021-10-06T08:00:00+7",
        "2021-10-06T08:00:00+07:0",
        "2021-10-06T08:00:00+070",
        "2021-10-06T08:00:00+07:00:00",
        "2021-10-06T08:00:00 +07:00",
        "2021-10-06T08:00:00+07:00 ",
        " 2021-10-06T08:00:00+07:00",
        "2021-10-06T08:00:00+07:00x",
        "2021-10-06T08:00:00.+07:00",
        "2021-10-06T08:00:00.1234567890+07:00", /* ten fraction digits */
        "2021-10-06T08:00.5+07:00",             /* a fraction needs seconds */
        "2021-10-06T08:00:00,5+07:00",
        "2021-10-06T8:00:00+07:00",
        "2021-10-6T08:00:00+07:00",
        "21-10-06T08:00:00+07:00",
        "2021/10/06 08:00:00+07:00",
        "2021-10-06_08:00:00+07:00",
        "2021-10-06T08-00-00+07:00",
        "1969-12-31T23:59:59Z",
        "1970-01-01T00:00:00+07:00", /* before the epoch in UTC */
        "0000-01-01T00:00:00Z",
        "10000-01-01T00:00:00Z",
        "+2021-10-06T08:00:00+07:00",
        "２０２１-10-06T08:00:00+07:00", /* full-width digits */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_bad_time(bad[i]);
}

static void expect_format(int64_t ms, int offset_min, const char *want)
{
    char out[TV_TIME_STR_BYTES];
    memset(out, 'x', sizeof out);
    tv_time_format(out, sizeof out, ms, offset_min);
    assert_string_equal(out, want);
}

static void test_format(void **state)
{
    (void)state;
    expect_format(1633482000000, 420, "2021-10-06T08:00:00+07:00");
    expect_format(1633482000000, 0, "2021-10-06T01:00:00Z");
    expect_format(1633482000000, -150, "2021-10-05T22:30:00-02:30");
    expect_format(1633482000000, 345, "2021-10-06T06:45:00+05:45");
    expect_format(1633482000999, 420, "2021-10-06T08:00:00+07:00"); /* ms dropped */
    expect_format(0, 0, "1970-01-01T00:00:00Z");
    expect_format(0, 420, "1970-01-01T07:00:00+07:00");
    expect_format(-1, 0, "1969-12-31T23:59:59Z"); /* rounded towards the past */
    expect_format(-86399999, -TV_TIME_OFFSET_MIN_MAX, "1969-12-30T00:01:00-23:59");
    expect_format(1709182800000, 420, "2024-02-29T12:00:00+07:00");
    expect_format(TV_TIME_MS_MAX, 0, "9999-12-31T23:59:59Z");
    expect_format(1633539540000, 420, "2021-10-06T23:59:00+07:00");
    expect_format(1633539600000, 420, "2021-10-07T00:00:00+07:00");

    char out[TV_TIME_STR_BYTES];
    tv_time_format_vn(out, sizeof out, 1633482000000);
    assert_string_equal(out, "2021-10-06T08:00:00+07:00");

    /* Any int64_t fits the documented size, and a short buffer is cut, not overrun. */
    tv_time_format(out, sizeof out, INT64_MIN, -TV_TIME_OFFSET_MIN_MAX);
    assert_true(strlen(out) < sizeof out);
    tv_time_format(out, sizeof out, INT64_MAX, TV_TIME_OFFSET_MIN_MAX);
    assert_true(strlen(out) < sizeof out);
    char small[11];
    memset(small, 'x', sizeof small);
    tv_time_format(small, sizeof small, 1633482000000, 420);
    assert_string_equal(small, "2021-10-06");
}

/* Seeded xorshift so that a failure replays. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void test_round_trip(void **state)
{
    (void)state;
    static const int offsets[] = {0, 420, -300, 345, -720, 840, TV_TIME_OFFSET_MIN_MAX};
    uint64_t seed = 0x2021100608000000u;
    for (int i = 0; i < 100000; i++) {
        /* Whole seconds, kept a day inside the range so every offset prints a valid year. */
        int64_t ms = (int64_t)(rng_next(&seed) % (uint64_t)(TV_TIME_MS_MAX / 1000 - 2 * 86400));
        ms = (ms + 86400) * 1000;
        int off = offsets[i % 7];
        char text[TV_TIME_STR_BYTES];
        tv_time_format(text, sizeof text, ms, off);
        int64_t back = -1;
        assert_int_equal(tv_time_parse(text, &back), 0);
        if (back != ms) fail_msg("%s: got %lld, want %lld", text, (long long)back, (long long)ms);
    }

    static const char *const canonical[] = {
        "2021-10-06T08:00:00+07:00", "2024-02-29T23:59:59+07:00", "2021-12-31T17:00:00Z",
        "1999-12-31T23:59:59-12:00", "2038-01-19T03:14:08Z",
    };
    static const int canonical_off[] = {420, 420, 0, -720, 0};
    for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
        char text[TV_TIME_STR_BYTES];
        tv_time_format(text, sizeof text, parse_ok(canonical[i]), canonical_off[i]);
        assert_string_equal(text, canonical[i]);
    }
}

static void test_parse_vn_dmy(void **state)
{
    (void)state;
    int64_t ms, want;
    assert_int_equal(tv_time_parse("2021-10-07T08:00:00+07:00", &want), 0);
    assert_int_equal(tv_time_parse_vn_dmy("07/10/2021 08:00", &ms), 0);
    assert_int_equal(ms, want); /* day first, Vietnam time */
    assert_int_equal(tv_time_parse_vn_dmy("7/10/2021 8:00", &ms), 0);
    assert_int_equal(ms, want);
    assert_int_equal(tv_time_parse_vn_dmy("07/10/2021 08:00:30", &ms), 0);
    assert_int_equal(ms, want + 30000);
    assert_int_equal(tv_time_parse_vn_dmy("29/02/2024 23:59", &ms), 0);
    static const char *const bad[] = {"31/02/2021 08:00",  "10/13/2021 08:00", "07/10/21 08:00",
                                      "07/10/2021",        "07/10/2021 24:00", "07/10/2021 08:60",
                                      "07/10/2021 08:0",   "07/10/2021T08:00", "07/10/2021 08:00 ",
                                      "007/10/2021 08:00", "07-10-2021 08:00", "",
                                      "29/02/2021 08:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ms = 1;
        assert_int_equal(tv_time_parse_vn_dmy(bad[i], &ms), TV_EINVAL);
        assert_int_equal(ms, 0);
    }
}

static void test_date_parse(void **state)
{
    (void)state;
    int32_t day = -1;
    assert_int_equal(tv_date_parse("1970-01-01", &day), 0);
    assert_int_equal(day, 0);
    assert_int_equal(tv_date_parse("2021-10-06", &day), 0);
    assert_int_equal(day, 18906);
    assert_int_equal(tv_date_parse("2024-02-29", &day), 0);
    assert_int_equal(day, 19782);
    assert_int_equal(tv_date_parse("9999-12-31", &day), 0);
    assert_int_equal(day, 2932896);

    static const char *const bad[] = {
        "2023-02-29",           "2024-13-01",  "2024-02-30", "1969-12-31", "2021-10-6",
        "2021-10-06T00:00:00Z", "2021-10-06 ", "06/10/2021", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        day = 77;
        if (tv_date_parse(bad[i], &day) != TV_EINVAL) fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(day, 0);
    }
}

/* Checks days of 1970..9999 against the C library's timegm, an independent
 * implementation, and that each date prints back as it was read: every day of the first
 * 400-year cycle (which holds every leap-year case), then every 13th day to 9999. */
static void test_date_every_day(void **state)
{
    (void)state;
    struct tm tm = {.tm_year = 70, .tm_mon = 0, .tm_mday = 1, .tm_hour = 12};
    int32_t step = 1;
    for (int32_t want = 0; want <= 2932896; want += step) {
        if (want >= 146097) step = 13;
        char text[48]; /* room for any int, to keep the compiler's range check content */
        snprintf(text, sizeof text, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        int32_t day = -1;
        if (tv_date_parse(text, &day) != 0 || day != want)
            fail_msg("%s: got %d, want %d", text, (int)day, (int)want);
        time_t t = timegm(&tm);
        assert_int_equal((int64_t)t / 86400, want);

        char back[TV_DATE_STR_BYTES];
        tv_date_format(back, sizeof back, day);
        assert_string_equal(back, text);

        tm.tm_mday += step;
        timegm(&tm); /* normalises to a calendar date */
    }
    assert_int_equal(tm.tm_year + 1900, 10000);
}

static void test_days_and_instants(void **state)
{
    (void)state;
    int32_t oct6 = 0, oct5 = 0;
    assert_int_equal(tv_date_parse("2021-10-06", &oct6), 0);
    assert_int_equal(tv_date_parse("2021-10-05", &oct5), 0);
    /* 20:00 UTC on the 5th is already the 6th in Vietnam. */
    assert_int_equal(tv_time_day(parse_ok("2021-10-05T20:00:00Z"), TV_TIME_VN_OFFSET_MIN), oct6);
    assert_int_equal(tv_time_day(parse_ok("2021-10-05T20:00:00Z"), 0), oct5);
    assert_int_equal(tv_time_day(parse_ok("2021-10-06T00:00:00+07:00"), 420), oct6);
    assert_int_equal(tv_time_day(parse_ok("2021-10-06T00:00:00+07:00") - 1, 420), oct5);
    assert_int_equal(tv_time_day(-1, 0), -1);
    assert_int_equal(tv_time_day(-86399999, -TV_TIME_OFFSET_MIN_MAX), -2);
    assert_int_equal(tv_time_day(-1, TV_TIME_OFFSET_MIN_MAX), 0);
    assert_int_equal(tv_time_day(INT64_MAX, 0), INT32_MAX);
    assert_int_equal(tv_time_day(INT64_MIN, 0), INT32_MIN);

    assert_int_equal(tv_date_start_ms(oct6, 420), parse_ok("2021-10-06T00:00:00+07:00"));
    assert_int_equal(tv_date_start_ms(oct6 + 1, 420), parse_ok("2021-10-07T00:00:00+07:00"));
    assert_int_equal(tv_date_start_ms(oct6, 0), parse_ok("2021-10-06T00:00:00Z"));
    assert_int_equal(tv_date_start_ms(0, 0), 0);

    char text[TV_DATE_STR_BYTES];
    tv_date_format(text, sizeof text, -1);
    assert_string_equal(text, "1969-12-31");
    tv_date_format(text, sizeof text, INT32_MIN);
    assert_true(strlen(text) < sizeof text);
    tv_date_format(text, sizeof text, INT32_MAX);
    assert_true(strlen(text) < sizeof text);
}

/* tv_when_parse: 'today' (the day of now in Vietnam), a date (its midnight in Vietnam), or a
 * time with its offset; nothing else. */
static void test_when_parse(void **state)
{
    (void)state;
    const int64_t day0 = 1633453200000LL; /* 2021-10-06 00:00 Vietnam time */
    const int64_t t0 = day0 + 8 * 3600 * 1000LL;
    int64_t ms = -1;
    assert_int_equal(tv_when_parse("today", t0, &ms), 0);
    assert_true(ms == day0);
    assert_int_equal(tv_when_parse("today", day0 - 1, &ms), 0); /* 23:59:59.999 the day before */
    assert_true(ms == day0 - 24 * 3600 * 1000LL);
    assert_int_equal(tv_when_parse("2021-10-06", 0, &ms), 0);
    assert_true(ms == day0);
    assert_int_equal(tv_when_parse("2021-10-06T08:00:00+07:00", 0, &ms), 0);
    assert_true(ms == t0);
    assert_int_equal(tv_when_parse("2021-10-06T08:00", 0, &ms), TV_EINVAL); /* no offset */
    assert_int_equal(tv_when_parse("06/10/2021", 0, &ms), TV_EINVAL);
    assert_int_equal(tv_when_parse("Today", 0, &ms), TV_EINVAL);
    assert_int_equal(tv_when_parse("2021-02-30", 0, &ms), TV_EINVAL);
    assert_int_equal(tv_when_parse("", 0, &ms), TV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_offsets),  cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_parse_rejects),  cmocka_unit_test(test_format),
        cmocka_unit_test(test_round_trip),     cmocka_unit_test(test_date_parse),
        cmocka_unit_test(test_date_every_day), cmocka_unit_test(test_days_and_instants),
        cmocka_unit_test(test_parse_vn_dmy),   cmocka_unit_test(test_when_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
