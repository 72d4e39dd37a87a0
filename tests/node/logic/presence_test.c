/* Tests for presence intervals in node/logic/presence.c. Every expected interval is worked out
 * by hand from the rules in node/logic/presence.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crdt/error.h"
#include "node/logic/presence.h"
#include "node/format/timefmt.h"
#include "test_util.h"

/* 2021-10-06T00:00:00+07:00, which is 2021-10-05T17:00:00Z: midnight in Vietnam is 17:00
 * UTC the day before. */
#define D0 INT64_C(1633453200000)
#define DAY INT64_C(86400000)
#define MINS(m) ((int64_t)(m)*INT64_C(60000))
#define HM(h, m) (D0 + MINS((h)*60 + (m))) /* local time on 2021-10-06 */
#define CLOSES(h, m) ((uint32_t)((h)*60 + (m) + 1))
#define W ((int64_t)TV_DEDUPE_WINDOW_MS_DEFAULT)
#define NEVER INT64_MAX /* a now after every inferred end */
#define IN 0
#define OUT 1

/* Rules by the last byte of the venue id; the callback records its calls. */
static tv_venue_rules rule_tab[256];
static int rule_fail_venue = -1; /* venue whose lookup fails, or -1 */
static int rule_calls[64];
static size_t nrule_calls;

static void rules_reset(void)
{
    memset(rule_tab, 0, sizeof rule_tab);
    rule_fail_venue = -1;
    nrule_calls = 0;
}

static int rules_cb(const uint8_t venue[TV_VENUE_ID_BYTES], tv_venue_rules *out, void *ctx)
{
    assert_ptr_equal(ctx, rule_tab);
    /* the callback gets a zeroed struct */
    assert_int_equal(out->stay_ms, 0);
    assert_int_equal(out->closes, 0);
    if (nrule_calls < sizeof rule_calls / sizeof rule_calls[0])
        rule_calls[nrule_calls] = venue[TV_VENUE_ID_BYTES - 1];
    nrule_calls++;
    if (venue[TV_VENUE_ID_BYTES - 1] == rule_fail_venue) return TV_ENOTFOUND;
    *out = rule_tab[venue[TV_VENUE_ID_BYTES - 1]];
    return 0;
}

static tv_pscan scan(int venue, int64_t at, int out)
{
    tv_pscan s;
    memset(&s, 0, sizeof s);
    s.venue[TV_VENUE_ID_BYTES - 1] = (uint8_t)venue;
    s.at_ms = at;
    s.out = (uint8_t)out;
    return s;
}

/* The day's end of instant t: the next Vietnam midnight. */
static int64_t next_midnight(int64_t t)
{
    const int64_t off = INT64_C(7) * 3600 * 1000;
    return ((t + off) / DAY + 1) * DAY - off;
}

typedef struct want {
    int venue;
    int64_t from, to;
    tv_end_reason end;
    uint32_t scans;
} want;

static void expect_same(const tv_presence *a, size_t na, const tv_presence *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++) {
        assert_memory_equal(a[i].venue, b[i].venue, TV_VENUE_ID_BYTES);
        assert_int_equal(a[i].from_ms, b[i].from_ms);
        assert_int_equal(a[i].to_ms, b[i].to_ms);
        assert_int_equal(a[i].end, b[i].end);
        assert_int_equal(a[i].scans, b[i].scans);
    }
}

static tv_presence *build_ok(const tv_pscan *s, size_t n, int64_t window, int64_t now, size_t *np)
{
    tv_presence *p = NULL;
    assert_int_equal(tv_presence_build(s, n, window, now, rules_cb, rule_tab, &p, np), TV_OK);
    return p;
}

/* Builds the n scans (ties 1..n in the order given) and compares with the intervals
 * expected; then builds them again reversed, which must give the same result. */
static void check_w(const tv_pscan *in, size_t n, int64_t window, int64_t now, const want *w,
                    size_t nw)
{
    tv_pscan s[64], r[64];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        s[i] = in[i];
        s[i].tie = i + 1;
        r[n - 1 - i] = s[i];
    }
    size_t np = 0;
    tv_presence *p = build_ok(s, n, window, now, &np);
    uint64_t total = 0;
    for (size_t i = 0; i < np; i++)
        total += p[i].scans;
    assert_int_equal(total, n);
    if (np != nw) fail_msg("got %zu intervals, want %zu", np, nw);
    for (size_t i = 0; i < nw; i++) {
        uint8_t v[TV_VENUE_ID_BYTES] = {0};
        v[TV_VENUE_ID_BYTES - 1] = (uint8_t)w[i].venue;
        if (memcmp(p[i].venue, v, sizeof v) || p[i].from_ms != w[i].from || p[i].to_ms != w[i].to ||
            p[i].end != w[i].end || p[i].scans != w[i].scans)
            fail_msg("interval %zu: got venue %d [%lld, %lld) %s scans %u, want venue %d "
                     "[%lld, %lld) %s scans %u",
                     i, p[i].venue[TV_VENUE_ID_BYTES - 1], (long long)(p[i].from_ms - D0),
                     (long long)(p[i].to_ms - D0), tv_end_reason_name(p[i].end), p[i].scans,
                     w[i].venue, (long long)(w[i].from - D0), (long long)(w[i].to - D0),
                     tv_end_reason_name(w[i].end), w[i].scans);
    }
    size_t nq = 0;
    tv_presence *q = build_ok(r, n, window, now, &nq);
    expect_same(p, np, q, nq);
    free(p);
    free(q);
}

#define CHECK(now, scans_, wants_)                                                                 \
    check_w(scans_, sizeof scans_ / sizeof scans_[0], W, now, wants_,                              \
            sizeof wants_ / sizeof wants_[0])
#define CHECK_W(window, now, scans_, wants_)                                                       \
    check_w(scans_, sizeof scans_ / sizeof scans_[0], window, now, wants_,                         \
            sizeof wants_ / sizeof wants_[0])

static int setup(void **state)
{
    (void)state;
    rules_reset();
    return 0;
}

static void test_no_scans(void **state)
{
    (void)state;
    tv_presence *p = (tv_presence *)&p; /* not NULL, to see it cleared */
    size_t np = 99;
    assert_int_equal(tv_presence_build(NULL, 0, W, NEVER, rules_cb, rule_tab, &p, &np), 0);
    assert_null(p);
    assert_int_equal(np, 0);
    tv_pscan s = scan(1, HM(8, 0), IN);
    np = 99;
    assert_int_equal(tv_presence_build(&s, 0, W, NEVER, rules_cb, rule_tab, &p, &np), 0);
    assert_null(p);
    assert_int_equal(np, 0);
    assert_int_equal(nrule_calls, 0);
}

static void test_invalid(void **state)
{
    (void)state;
    tv_pscan s = scan(1, HM(8, 0), IN);
    tv_presence *p = NULL;
    size_t np = 0;
    assert_int_equal(tv_presence_build(&s, 1, W, NEVER, NULL, NULL, NULL, &np), TV_EINVAL);
    assert_int_equal(tv_presence_build(&s, 1, W, NEVER, NULL, NULL, &p, NULL), TV_EINVAL);
    assert_int_equal(tv_presence_build(NULL, 1, W, NEVER, NULL, NULL, &p, &np), TV_EINVAL);
    assert_int_equal(tv_presence_build(&s, 1, -1, NEVER, NULL, NULL, &p, &np), TV_EINVAL);

    const int64_t bad_at[] = {-1, TV_TIME_MS_MAX + 1, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof bad_at / sizeof bad_at[0]; i++) {
        tv_pscan two[2] = {scan(1, HM(8, 0), IN), scan(2, bad_at[i], OUT)};
        p = (tv_presence *)&p;
        np = 99;
        assert_int_equal(tv_presence_build(two, 2, W, NEVER, NULL, NULL, &p, &np), TV_EINVAL);
        assert_null(p);
        assert_int_equal(np, 0);
    }
    s.out = 2;
    assert_int_equal(tv_presence_build(&s, 1, W, NEVER, NULL, NULL, &p, &np), TV_EINVAL);

    /* rules out of range */
    s.out = IN;
    rule_tab[1].stay_ms = -1;
    assert_int_equal(tv_presence_build(&s, 1, W, NEVER, rules_cb, rule_tab, &p, &np), TV_EINVAL);
    assert_null(p);
    rule_tab[1].stay_ms = 0;
    rule_tab[1].closes = TV_CLOSES_MAX + 1;
    assert_int_equal(tv_presence_build(&s, 1, W, NEVER, rules_cb, rule_tab, &p, &np), TV_EINVAL);
    assert_null(p);

    /* the ends of the accepted range */
    rule_tab[1].closes = TV_CLOSES_MAX;
    tv_pscan ends[2] = {scan(1, 0, IN), scan(2, TV_TIME_MS_MAX, OUT)};
    p = build_ok(ends, 2, W, NEVER, &np);
    assert_int_equal(np, 2);
    /* 1970-01-01T00:00Z is 07:00 in Vietnam; it closes at 23:59 local, 16:59Z */
    assert_int_equal(p[0].to_ms, MINS(16 * 60 + 59));
    assert_int_equal(p[0].end, TV_END_CLOSING);
    assert_int_equal(p[1].from_ms, TV_TIME_MS_MAX);
    free(p);
}

static void test_reason_names(void **state)
{
    (void)state;
    assert_string_equal(tv_end_reason_name(TV_END_CHECKOUT), "check-out");
    assert_string_equal(tv_end_reason_name(TV_END_NEXT_CHECKIN), "next check-in");
    assert_string_equal(tv_end_reason_name(TV_END_STAY), "default stay");
    assert_string_equal(tv_end_reason_name(TV_END_CLOSING), "closing time");
    assert_string_equal(tv_end_reason_name(TV_END_DAY), "end of day");
    assert_string_equal(tv_end_reason_name(TV_END_OPEN), "open");
    assert_null(tv_end_reason_name((tv_end_reason)0));
    assert_null(tv_end_reason_name((tv_end_reason)7));
}

/* No rules: a check-in lasts until Vietnam midnight. */
static void test_end_of_day(void **state)
{
    (void)state;
    /* 23:59 local is 16:59 UTC; the day ends at 17:00 UTC */
    const tv_pscan a[] = {scan(1, INT64_C(1633539540000), IN)};
    const want wa[] = {{1, INT64_C(1633539540000), INT64_C(1633539600000), TV_END_DAY, 1}};
    CHECK(NEVER, a, wa);
    assert_int_equal(INT64_C(1633539600000), D0 + DAY);

    /* the day's first and last milliseconds, and the first of the next day */
    const tv_pscan b[] = {scan(1, D0, IN)};
    const want wb[] = {{1, D0, D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, b, wb);
    const tv_pscan c[] = {scan(1, D0 + DAY - 1, IN)};
    const want wc[] = {{1, D0 + DAY - 1, D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, c, wc);
    const tv_pscan d[] = {scan(1, D0 + DAY, IN)};
    const want wd[] = {{1, D0 + DAY, D0 + 2 * DAY, TV_END_DAY, 1}};
    CHECK(NEVER, d, wd);

    /* rules NULL means no stay and no closing time */
    size_t np = 0;
    tv_presence *p = NULL;
    assert_int_equal(tv_presence_build(b, 1, W, NEVER, NULL, NULL, &p, &np), 0);
    assert_int_equal(np, 1);
    assert_int_equal(p[0].to_ms, D0 + DAY);
    free(p);
}

/* Two check-ins at one venue: window_ms - 1 apart they are one check-in, window_ms apart
 * two (the second extends the presence and restarts its stay). */
static void test_window_checkins(void **state)
{
    (void)state;
    rule_tab[1].stay_ms = MINS(60);
    const tv_pscan a[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 0) + W - 1, IN)};
    const want wa[] = {{1, HM(8, 0), HM(9, 0), TV_END_STAY, 2}};
    CHECK(NEVER, a, wa);
    const tv_pscan b[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 0) + W, IN)};
    const want wb[] = {{1, HM(8, 0), HM(9, 5), TV_END_STAY, 2}};
    CHECK(NEVER, b, wb);

    /* the window is measured from the run's first scan, not the previous one */
    const tv_pscan c[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 3), IN), scan(1, HM(8, 6), IN)};
    const want wc[] = {{1, HM(8, 0), HM(9, 6), TV_END_STAY, 3}};
    CHECK(NEVER, c, wc);

    /* closing a minute after the first scan: a collapsed scan after it moves nothing; one
     * window_ms after it is a check-in at a closed venue, which lasts until midnight */
    rule_tab[1].stay_ms = 0;
    rule_tab[1].closes = CLOSES(8, 1);
    const want wa2[] = {{1, HM(8, 0), HM(8, 1), TV_END_CLOSING, 2}};
    CHECK(NEVER, a, wa2);
    const want wb2[] = {{1, HM(8, 0), HM(8, 1), TV_END_CLOSING, 1},
                        {1, HM(8, 5), D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, b, wb2);

    /* a smaller window, and none */
    const want wb3[] = {{1, HM(8, 0), HM(8, 1), TV_END_CLOSING, 2}};
    CHECK_W(W + 1, NEVER, b, wb3);
    const tv_pscan e[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 0), IN)};
    const want we[] = {{1, HM(8, 0), HM(8, 1), TV_END_CLOSING, 2}}; /* extended */
    CHECK_W(0, NEVER, e, we);
    const tv_pscan f[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 1), IN)};
    const want wf[] = {{1, HM(8, 0), HM(8, 1), TV_END_CLOSING, 1},
                       {1, HM(8, 1), D0 + DAY, TV_END_DAY, 1}};
    CHECK_W(0, NEVER, f, wf);
}

/* A double scan just before midnight and just after: one check-in, which ends at midnight. */
static void test_window_across_midnight(void **state)
{
    (void)state;
    const tv_pscan a[] = {scan(1, HM(23, 58), IN), scan(1, HM(23, 58) + W - 1, IN)};
    const want wa[] = {{1, HM(23, 58), D0 + DAY, TV_END_DAY, 2}};
    CHECK(NEVER, a, wa);
    const tv_pscan b[] = {scan(1, HM(23, 58), IN), scan(1, HM(23, 58) + W, IN)};
    const want wb[] = {{1, HM(23, 58), D0 + DAY, TV_END_DAY, 1},
                       {1, HM(23, 58) + W, D0 + 2 * DAY, TV_END_DAY, 1}};
    CHECK(NEVER, b, wb);
}

/* Check-outs collapse like check-ins; the first is the end. */
static void test_window_checkouts(void **state)
{
    (void)state;
    const tv_pscan a[] = {scan(1, HM(8, 0), IN), scan(1, HM(9, 0), OUT),
                          scan(1, HM(9, 0) + W - 1, OUT)};
    const want wa[] = {{1, HM(8, 0), HM(9, 0), TV_END_CHECKOUT, 3}};
    CHECK(NEVER, a, wa);
    const tv_pscan b[] = {scan(1, HM(8, 0), IN), scan(1, HM(9, 0), OUT),
                          scan(1, HM(9, 0) + W, OUT)};
    const want wb[] = {{1, HM(8, 0), HM(9, 0), TV_END_CHECKOUT, 2},
                       {1, HM(9, 0) + W, HM(9, 0) + W, TV_END_CHECKOUT, 1}};
    CHECK(NEVER, b, wb);
    /* lone check-outs collapse too */
    const tv_pscan c[] = {scan(1, HM(9, 0), OUT), scan(1, HM(9, 4), OUT), scan(1, HM(9, 5), OUT)};
    const want wc[] = {{1, HM(9, 0), HM(9, 0), TV_END_CHECKOUT, 2},
                       {1, HM(9, 5), HM(9, 5), TV_END_CHECKOUT, 1}};
    CHECK(NEVER, c, wc);
}

/* Any scan in between ends a run: A, B, A within a minute is three check-ins, and a
 * check-in after a check-out at the same venue is a new one. */
static void test_run_broken(void **state)
{
    (void)state;
    const tv_pscan a[] = {scan(1, HM(8, 0), IN), scan(2, HM(8, 1), IN), scan(1, HM(8, 2), IN)};
    const want wa[] = {{1, HM(8, 0), HM(8, 1), TV_END_NEXT_CHECKIN, 1},
                       {2, HM(8, 1), HM(8, 2), TV_END_NEXT_CHECKIN, 1},
                       {1, HM(8, 2), D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, a, wa);
    const tv_pscan b[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 1), OUT), scan(1, HM(8, 2), IN)};
    const want wb[] = {{1, HM(8, 0), HM(8, 1), TV_END_CHECKOUT, 2},
                       {1, HM(8, 2), D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, b, wb);
}

static void test_explicit_checkout(void **state)
{
    (void)state;
    rule_tab[1].stay_ms = MINS(60);
    const tv_pscan a[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 30), OUT)};
    const want wa[] = {{1, HM(8, 0), HM(8, 30), TV_END_CHECKOUT, 2}};
    CHECK(NEVER, a, wa);
    /* believed after the default stay */
    const tv_pscan b[] = {scan(1, HM(8, 0), IN), scan(1, HM(10, 0), OUT)};
    const want wb[] = {{1, HM(8, 0), HM(10, 0), TV_END_CHECKOUT, 2}};
    CHECK(NEVER, b, wb);
    /* and after the closing time */
    rule_tab[1].closes = CLOSES(9, 0);
    const tv_pscan c[] = {scan(1, HM(8, 0), IN), scan(1, HM(23, 0), OUT)};
    const want wc[] = {{1, HM(8, 0), HM(23, 0), TV_END_CHECKOUT, 2}};
    CHECK(NEVER, c, wc);
    /* up to the day's last millisecond */
    const tv_pscan d[] = {scan(1, HM(8, 0), IN), scan(1, D0 + DAY - 1, OUT)};
    const want wd[] = {{1, HM(8, 0), D0 + DAY - 1, TV_END_CHECKOUT, 2}};
    CHECK(NEVER, d, wd);
    /* not at midnight or after: the presence ended by its inferred end, the check-out is
     * alone */
    const tv_pscan e[] = {scan(1, HM(8, 0), IN), scan(1, D0 + DAY, OUT)};
    const want we[] = {{1, HM(8, 0), HM(9, 0), TV_END_CLOSING, 1},
                       {1, D0 + DAY, D0 + DAY, TV_END_CHECKOUT, 1}};
    CHECK(NEVER, e, we);
    rule_tab[1].stay_ms = 0;
    rule_tab[1].closes = 0;
    const tv_pscan f[] = {scan(1, HM(23, 0), IN), scan(1, D0 + DAY + MINS(30), OUT)};
    const want wf[] = {{1, HM(23, 0), D0 + DAY, TV_END_DAY, 1},
                       {1, D0 + DAY + MINS(30), D0 + DAY + MINS(30), TV_END_CHECKOUT, 1}};
    CHECK(NEVER, f, wf);
    /* a check-out at the check-in's own millisecond, after it by tie */
    const tv_pscan g[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 0), OUT)};
    const want wg[] = {{1, HM(8, 0), HM(8, 0), TV_END_CHECKOUT, 2}};
    CHECK(NEVER, g, wg);
}

/* A check-out with no check-in before it is the instant [at, at]. */
static void test_lone_checkout(void **state)
{
    (void)state;
    const tv_pscan a[] = {scan(3, HM(8, 0), OUT)};
    const want wa[] = {{3, HM(8, 0), HM(8, 0), TV_END_CHECKOUT, 1}};
    CHECK(NEVER, a, wa);
    assert_int_equal(nrule_calls, 0); /* a venue with only check-outs is not asked about */

    /* it does not close a presence elsewhere */
    const tv_pscan b[] = {scan(1, HM(8, 0), IN), scan(2, HM(8, 30), OUT)};
    const want wb[] = {{1, HM(8, 0), D0 + DAY, TV_END_DAY, 1},
                       {2, HM(8, 30), HM(8, 30), TV_END_CHECKOUT, 1}};
    CHECK(NEVER, b, wb);
    /* which stays open through it: a repeat check-in after it extends the presence */
    rule_tab[1].stay_ms = MINS(60);
    const tv_pscan c[] = {scan(1, HM(8, 0), IN), scan(2, HM(8, 30), OUT), scan(1, HM(8, 50), IN)};
    const want wc[] = {{1, HM(8, 0), HM(9, 50), TV_END_STAY, 2},
                       {2, HM(8, 30), HM(8, 30), TV_END_CHECKOUT, 1}};
    CHECK(NEVER, c, wc);

    /* a check-out before the check-in at the same millisecond (by tie) is alone, and the
     * two intervals at one venue and one instant keep the scans' order */
    rule_tab[1].stay_ms = 0;
    const tv_pscan d[] = {scan(1, HM(8, 0), OUT), scan(1, HM(8, 0), IN)};
    const want wd[] = {{1, HM(8, 0), HM(8, 0), TV_END_CHECKOUT, 1},
                       {1, HM(8, 0), D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, d, wd);
}

static void test_next_checkin(void **state)
{
    (void)state;
    rule_tab[1].stay_ms = MINS(60);
    rule_tab[2].stay_ms = MINS(30);
    const tv_pscan a[] = {scan(1, HM(8, 0), IN), scan(2, HM(8, 20), IN), scan(1, HM(8, 40), IN)};
    const want wa[] = {{1, HM(8, 0), HM(8, 20), TV_END_NEXT_CHECKIN, 1},
                       {2, HM(8, 20), HM(8, 40), TV_END_NEXT_CHECKIN, 1},
                       {1, HM(8, 40), HM(9, 40), TV_END_STAY, 1}};
    CHECK(NEVER, a, wa);
    /* two check-ins at one millisecond: the first lasts no time */
    const tv_pscan b[] = {scan(2, HM(8, 0), IN), scan(1, HM(8, 0), IN)};
    const want wb[] = {{1, HM(8, 0), HM(9, 0), TV_END_STAY, 1},
                       {2, HM(8, 0), HM(8, 0), TV_END_NEXT_CHECKIN, 1}};
    CHECK(NEVER, b, wb);
}

/* A repeat check-in while present extends the presence; once its end has passed it starts
 * a new one. */
static void test_repeat_checkin(void **state)
{
    (void)state;
    rule_tab[1].stay_ms = MINS(60);
    const tv_pscan a[] = {scan(1, HM(8, 0), IN), scan(1, HM(9, 0) - 1, IN)};
    const want wa[] = {{1, HM(8, 0), HM(10, 0) - 1, TV_END_STAY, 2}};
    CHECK(NEVER, a, wa);
    const tv_pscan b[] = {scan(1, HM(8, 0), IN), scan(1, HM(9, 0), IN)};
    const want wb[] = {{1, HM(8, 0), HM(9, 0), TV_END_STAY, 1},
                       {1, HM(9, 0), HM(10, 0), TV_END_STAY, 1}};
    CHECK(NEVER, b, wb);
    const tv_pscan c[] = {scan(1, HM(8, 0), IN), scan(1, HM(9, 30), IN)};
    const want wc[] = {{1, HM(8, 0), HM(9, 0), TV_END_STAY, 1},
                       {1, HM(9, 30), HM(10, 30), TV_END_STAY, 1}};
    CHECK(NEVER, c, wc);
    /* the extension restarts the stay, not the closing time */
    rule_tab[1].closes = CLOSES(10, 0);
    const tv_pscan d[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 50), IN), scan(1, HM(9, 40), IN)};
    const want wd[] = {{1, HM(8, 0), HM(10, 0), TV_END_CLOSING, 3}};
    CHECK(NEVER, d, wd);
}

static void test_closing_time(void **state)
{
    (void)state;
    rule_tab[1].closes = CLOSES(22, 0);
    const tv_pscan a[] = {scan(1, HM(20, 0), IN)};
    const want wa[] = {{1, HM(20, 0), HM(22, 0), TV_END_CLOSING, 1}};
    CHECK(NEVER, a, wa);
    const tv_pscan b[] = {scan(1, HM(22, 0) - 1, IN)};
    const want wb[] = {{1, HM(22, 0) - 1, HM(22, 0), TV_END_CLOSING, 1}};
    CHECK(NEVER, b, wb);
    /* at or after closing: the venue is open late, only midnight applies */
    const tv_pscan c[] = {scan(1, HM(22, 0), IN)};
    const want wc[] = {{1, HM(22, 0), D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, c, wc);
    const tv_pscan d[] = {scan(1, HM(22, 30), IN)};
    const want wd[] = {{1, HM(22, 30), D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, d, wd);
    /* the closing time of the check-in's own day: 01:00 the next day closes at 22:00 */
    const tv_pscan e[] = {scan(1, D0 + DAY + MINS(60), IN)};
    const want we[] = {{1, D0 + DAY + MINS(60), D0 + DAY + MINS(22 * 60), TV_END_CLOSING, 1}};
    CHECK(NEVER, e, we);
    /* 00:00 (closes = 1) is never after a check-in; 23:59 (closes = 1440) is */
    rule_tab[1].closes = 1;
    const tv_pscan f[] = {scan(1, D0, IN)};
    const want wf[] = {{1, D0, D0 + DAY, TV_END_DAY, 1}};
    CHECK(NEVER, f, wf);
    rule_tab[1].closes = TV_CLOSES_MAX;
    const tv_pscan g[] = {scan(1, HM(23, 0), IN)};
    const want wg[] = {{1, HM(23, 0), HM(23, 59), TV_END_CLOSING, 1}};
    CHECK(NEVER, g, wg);
}

/* The earliest inferred end wins, for every pair of rules, both ways round and tied. */
static void test_earliest_end(void **state)
{
    (void)state;
    static const struct {
        int64_t stay;
        uint32_t closes;
        int64_t at, next; /* check-in at venue 1; check-in at venue 2, or 0 */
        int64_t to;
        tv_end_reason end;
    } rows[] = {
        /* stay and closing */
        {MINS(60), CLOSES(10, 0), HM(8, 0), 0, HM(9, 0), TV_END_STAY},
        {MINS(180), CLOSES(10, 0), HM(8, 0), 0, HM(10, 0), TV_END_CLOSING},
        {MINS(120), CLOSES(10, 0), HM(8, 0), 0, HM(10, 0), TV_END_CLOSING}, /* tie */
        /* stay and end of day */
        {MINS(20), 0, HM(23, 30), 0, HM(23, 50), TV_END_STAY},
        {MINS(60), 0, HM(23, 30), 0, D0 + DAY, TV_END_DAY},
        {MINS(30), 0, HM(23, 30), 0, D0 + DAY, TV_END_STAY}, /* tie */
        {MINS(720), 0, HM(20, 0), 0, D0 + DAY, TV_END_DAY},  /* a hotel night */
        /* closing and end of day: closing is always before midnight when it applies */
        {0, CLOSES(23, 30), HM(23, 0), 0, HM(23, 30), TV_END_CLOSING},
        {0, CLOSES(23, 30), HM(23, 45), 0, D0 + DAY, TV_END_DAY},
        /* next check-in and stay */
        {MINS(60), 0, HM(8, 0), HM(8, 30), HM(8, 30), TV_END_NEXT_CHECKIN},
        {MINS(60), 0, HM(8, 0), HM(9, 30), HM(9, 0), TV_END_STAY},
        {MINS(60), 0, HM(8, 0), HM(9, 0), HM(9, 0), TV_END_NEXT_CHECKIN}, /* tie */
        /* next check-in and closing */
        {0, CLOSES(10, 0), HM(8, 0), HM(9, 0), HM(9, 0), TV_END_NEXT_CHECKIN},
        {0, CLOSES(10, 0), HM(8, 0), HM(11, 0), HM(10, 0), TV_END_CLOSING},
        {0, CLOSES(10, 0), HM(8, 0), HM(10, 0), HM(10, 0), TV_END_NEXT_CHECKIN}, /* tie */
        /* next check-in and end of day */
        {0, 0, HM(22, 0), HM(23, 0), HM(23, 0), TV_END_NEXT_CHECKIN},
        {0, 0, HM(22, 0), D0 + DAY + MINS(60), D0 + DAY, TV_END_DAY},
        {0, 0, HM(22, 0), D0 + DAY, D0 + DAY, TV_END_NEXT_CHECKIN}, /* tie */
        /* all three inferred ends, each the earliest in turn */
        {MINS(30), CLOSES(23, 0), HM(22, 0), 0, HM(22, 30), TV_END_STAY},
        {MINS(90), CLOSES(23, 0), HM(22, 0), 0, HM(23, 0), TV_END_CLOSING},
        {MINS(90), CLOSES(21, 0), HM(23, 0), 0, D0 + DAY, TV_END_DAY},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rules_reset();
        rule_tab[1].stay_ms = rows[i].stay;
        rule_tab[1].closes = rows[i].closes;
        const tv_pscan s[] = {scan(1, rows[i].at, IN), scan(2, rows[i].next, IN)};
        /* venue 2 has no rules: it lasts until midnight */
        const want w[] = {{1, rows[i].at, rows[i].to, rows[i].end, 1},
                          {2, rows[i].next, next_midnight(rows[i].next), TV_END_DAY, 1}};
        const size_t n = rows[i].next ? 2 : 1;
        check_w(s, n, W, NEVER, w, n);
    }
}

/* Inferred ends after now are not known yet: the presence is open until now. */
static void test_now(void **state)
{
    (void)state;
    rule_tab[1].stay_ms = MINS(60);
    const tv_pscan a[] = {scan(1, HM(8, 0), IN)};
    const want open_half[] = {{1, HM(8, 0), HM(8, 30), TV_END_OPEN, 1}};
    CHECK(HM(8, 30), a, open_half);
    const want open_last[] = {{1, HM(8, 0), HM(9, 0) - 1, TV_END_OPEN, 1}};
    CHECK(HM(9, 0) - 1, a, open_last);
    const want ended[] = {{1, HM(8, 0), HM(9, 0), TV_END_STAY, 1}};
    CHECK(HM(9, 0), a, ended);
    /* a device clock ahead of now: the open interval is the instant of its check-in */
    const want ahead[] = {{1, HM(8, 0), HM(8, 0), TV_END_OPEN, 1}};
    CHECK(HM(7, 0), a, ahead);
    CHECK(INT64_MIN, a, ahead);

    /* only the presence still open after the last scan: the others were closed by scans,
     * even scans after now */
    const tv_pscan b[] = {scan(1, HM(8, 0), IN), scan(2, HM(10, 0), IN)};
    const want wb[] = {{1, HM(8, 0), HM(9, 0), TV_END_STAY, 1},
                       {2, HM(10, 0), HM(10, 0), TV_END_OPEN, 1}};
    CHECK(HM(8, 30), b, wb);
    const tv_pscan c[] = {scan(1, HM(8, 0), IN), scan(2, HM(8, 20), IN)};
    const want wc[] = {{1, HM(8, 0), HM(8, 20), TV_END_NEXT_CHECKIN, 1},
                       {2, HM(8, 20), HM(8, 45), TV_END_OPEN, 1}};
    CHECK(HM(8, 45), c, wc);
    /* check-outs are never open; a presence open behind a lone check-out still is */
    const tv_pscan d[] = {scan(1, HM(8, 0), IN), scan(2, HM(8, 10), OUT)};
    const want wd[] = {{1, HM(8, 0), HM(8, 15), TV_END_OPEN, 1},
                       {2, HM(8, 10), HM(8, 10), TV_END_CHECKOUT, 1}};
    CHECK(HM(8, 15), d, wd);
    const tv_pscan e[] = {scan(1, HM(8, 0), IN), scan(1, HM(8, 10), OUT)};
    const want we[] = {{1, HM(8, 0), HM(8, 10), TV_END_CHECKOUT, 2}};
    CHECK(HM(8, 5), e, we);
}

/* The same scans in any order, and with duplicated ties, give the same intervals. */
static void test_any_order(void **state)
{
    (void)state;
    rule_tab[1].stay_ms = MINS(45);
    rule_tab[2].closes = CLOSES(12, 0);
    rule_tab[3].stay_ms = MINS(30);
    tv_pscan s[24];
    size_t n = 0;
    const int64_t t0 = HM(7, 0);
    for (int i = 0; i < 12; i++) {
        s[n] = scan(1 + i % 3, t0 + MINS(17 * i), i % 4 == 3 ? OUT : IN);
        s[n].tie = (uint64_t)n;
        n++;
        s[n] = scan(1 + (i + 1) % 3, t0 + MINS(17 * i + (i % 5)), i % 2 ? OUT : IN);
        s[n].tie = (uint64_t)(i % 3); /* ties repeat: venue and direction then decide */
        n++;
    }
    size_t np = 0;
    tv_presence *p = build_ok(s, n, W, HM(10, 0), &np);
    fx_rng rng = {42};
    for (int round = 0; round < 200; round++) {
        tv_pscan t[24];
        memcpy(t, s, sizeof t);
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)fx_rng_below(&rng, i + 1);
            tv_pscan x = t[i];
            t[i] = t[j];
            t[j] = x;
        }
        size_t nq = 0;
        tv_presence *q = build_ok(t, n, W, HM(10, 0), &nq);
        expect_same(p, np, q, nq);
        free(q);
    }
    free(p);
}

/* Rules are asked once per venue with a check-in, in venue order; an error aborts. */
static void test_rules_calls(void **state)
{
    (void)state;
    const tv_pscan s[] = {scan(5, HM(8, 0), IN), scan(3, HM(9, 0), IN), scan(5, HM(10, 0), IN),
                          scan(9, HM(11, 0), OUT), scan(7, HM(12, 0), IN)};
    size_t np = 0;
    tv_presence *p = build_ok(s, 5, W, NEVER, &np);
    free(p);
    assert_int_equal(nrule_calls, 3);
    assert_int_equal(rule_calls[0], 3);
    assert_int_equal(rule_calls[1], 5);
    assert_int_equal(rule_calls[2], 7);

    nrule_calls = 0;
    rule_fail_venue = 5;
    p = (tv_presence *)&p;
    np = 99;
    assert_int_equal(tv_presence_build(s, 5, W, NEVER, rules_cb, rule_tab, &p, &np), TV_ENOTFOUND);
    assert_null(p);
    assert_int_equal(np, 0);
    assert_int_equal(nrule_calls, 2); /* 3, then 5, which failed */
}

static int cmp_by_venue(const void *a, const void *b)
{
    const tv_presence *x = a, *y = b;
    int c = memcmp(x->venue, y->venue, TV_VENUE_ID_BYTES);
    if (c) return c;
    if (x->from_ms != y->from_ms) return x->from_ms < y->from_ms ? -1 : 1;
    return x->to_ms < y->to_ms ? -1 : x->to_ms > y->to_ms;
}

static void check_invariants(const tv_presence *p, size_t np, size_t n)
{
    uint64_t total = 0;
    size_t open = 0;
    int64_t busy_until = INT64_MIN; /* the latest end of a non-empty interval so far */
    for (size_t i = 0; i < np; i++) {
        total += p[i].scans;
        assert_true(p[i].scans >= 1);
        assert_true(p[i].from_ms <= p[i].to_ms);
        assert_true(p[i].to_ms <= next_midnight(p[i].from_ms));
        assert_non_null(tv_end_reason_name(p[i].end));
        if (p[i].end == TV_END_OPEN) open++;
        if (i > 0) {
            int c = p[i - 1].from_ms < p[i].from_ms ? -1 : p[i - 1].from_ms > p[i].from_ms;
            if (c == 0) c = memcmp(p[i - 1].venue, p[i].venue, TV_VENUE_ID_BYTES);
            assert_true(c <= 0);
        }
        /* one place at a time: non-empty intervals are disjoint */
        if (p[i].from_ms < p[i].to_ms) {
            assert_true(busy_until <= p[i].from_ms);
            busy_until = p[i].to_ms;
        }
    }
    assert_int_equal(total, n);
    assert_true(open <= 1);

    /* no two intervals of one venue overlap */
    tv_presence *v = malloc(np * sizeof *v);
    assert_non_null(v);
    memcpy(v, p, np * sizeof *v);
    qsort(v, np, sizeof *v, cmp_by_venue);
    for (size_t i = 1; i < np; i++)
        if (memcmp(v[i - 1].venue, v[i].venue, TV_VENUE_ID_BYTES) == 0)
            assert_true(v[i - 1].to_ms <= v[i].from_ms);
    free(v);
}

/* 10,000 scans of one person across 20 venues over about a year. */
static void test_many_scans(void **state)
{
    (void)state;
    enum { N = 10000, VENUES = 20 };
    for (int v = 1; v <= VENUES; v++) {
        rule_tab[v].stay_ms = MINS(30 * (v % 4));
        rule_tab[v].closes = v % 3 ? (uint32_t)((v * 677) % TV_CLOSES_MAX + 1) : 0;
    }
    fx_rng rng = {7};
    tv_pscan *s = malloc(N * sizeof *s);
    tv_pscan *t = malloc(N * sizeof *t);
    assert_non_null(s);
    assert_non_null(t);
    int64_t at = HM(6, 0);
    int venue = 1;
    for (size_t i = 0; i < N; i++) {
        uint64_t r = fx_rng_below(&rng, 100);
        if (r < 10) {
            /* the same millisecond */
        } else if (r < 45) {
            at += (int64_t)fx_rng_below(&rng, (uint64_t)(2 * W)); /* around the window */
        } else if (r < 95) {
            at += (int64_t)fx_rng_below(&rng, (uint64_t)MINS(90));
        } else {
            at += (int64_t)fx_rng_below(&rng, (uint64_t)DAY);
        }
        if (fx_rng_below(&rng, 2)) venue = 1 + (int)fx_rng_below(&rng, VENUES);
        s[i] = scan(venue, at, fx_rng_below(&rng, 10) < 3 ? OUT : IN);
        s[i].tie = fx_rng_below(&rng, 4); /* repeated ties, on purpose */
    }
    const int64_t nows[] = {NEVER, at, at - MINS(10), HM(12, 0)};
    const int64_t windows[] = {W, 0, MINS(30)};
    for (size_t k = 0; k < sizeof nows / sizeof nows[0]; k++) {
        for (size_t m = 0; m < sizeof windows / sizeof windows[0]; m++) {
            size_t np = 0;
            tv_presence *p = build_ok(s, N, windows[m], nows[k], &np);
            assert_true(np >= 1 && np <= N);
            check_invariants(p, np, N);

            memcpy(t, s, N * sizeof *t);
            for (size_t i = N - 1; i > 0; i--) {
                size_t j = (size_t)fx_rng_below(&rng, i + 1);
                tv_pscan x = t[i];
                t[i] = t[j];
                t[j] = x;
            }
            size_t nq = 0;
            tv_presence *q = build_ok(t, N, windows[m], nows[k], &nq);
            expect_same(p, np, q, nq);
            free(q);
            free(p);
        }
    }
    free(t);
    free(s);
}

/* tv_presence_repeat, the rule behind the gate's "đã vào rồi" and watch's repeat mark,
 * agrees with tv_presence_build's collapse on the same scans. */
static int build_collapses_last(const tv_pscan *s, size_t n)
{
    tv_presence *p = NULL;
    size_t np = 0;
    assert_int_equal(tv_presence_build(s, n, W, NEVER, NULL, NULL, &p, &np), 0);
    tv_presence *q = NULL;
    size_t nq = 0;
    assert_int_equal(tv_presence_build(s, n - 1, W, NEVER, NULL, NULL, &q, &nq), 0);
    /* collapsed: the last scan made no interval and moved no boundary */
    int same = np == nq;
    for (size_t i = 0; same && i < np; i++)
        same = p[i].from_ms == q[i].from_ms && p[i].to_ms == q[i].to_ms && p[i].end == q[i].end;
    free(p);
    free(q);
    return same;
}

static void test_repeat_rule(void **state)
{
    (void)state;
    const int64_t t = HM(8, 0), S = 1000;
    int64_t first = 0;
    /* the sequence: in, out 5 s later, back 11 s after the check-out */
    tv_pscan a[] = {scan(1, t, IN), scan(1, t + 5 * S, OUT), scan(1, t + 16 * S, IN)};
    for (size_t i = 0; i < 3; i++)
        a[i].tie = i;
    assert_int_equal(tv_presence_repeat(a, 3, W, &first), 0);
    assert_int_equal(first, t + 16 * S);
    assert_int_equal(build_collapses_last(a, 3), 0);
    /* the same person scanned twice at the gate */
    tv_pscan b[] = {scan(1, t, IN), scan(1, t + 16 * S, IN)};
    b[1].tie = 1;
    assert_int_equal(tv_presence_repeat(b, 2, W, &first), 1);
    assert_int_equal(first, t);
    assert_int_equal(build_collapses_last(b, 2), 1);
    /* a run is measured from its first scan: 0, 4 and 8 minutes make two check-ins */
    tv_pscan c[] = {scan(1, t, IN), scan(1, t + MINS(4), IN), scan(1, t + MINS(8), IN)};
    for (size_t i = 0; i < 3; i++)
        c[i].tie = i;
    assert_int_equal(tv_presence_repeat(c, 2, W, NULL), 1);
    assert_int_equal(tv_presence_repeat(c, 3, W, &first), 0);
    assert_int_equal(first, t + MINS(8));
    /* window - 1 ms is a repeat, window is not */
    tv_pscan d[] = {scan(1, t, IN), scan(1, t + W - 1, IN)};
    assert_int_equal(tv_presence_repeat(d, 2, W, NULL), 1);
    d[1].at_ms = t + W;
    assert_int_equal(tv_presence_repeat(d, 2, W, NULL), 0);
    /* another venue in between ends the run; two check-outs repeat */
    tv_pscan e[] = {scan(1, t, IN), scan(2, t + S, IN), scan(1, t + 2 * S, IN)};
    assert_int_equal(tv_presence_repeat(e, 3, W, NULL), 0);
    tv_pscan f[] = {scan(1, t, OUT), scan(1, t + S, OUT)};
    assert_int_equal(tv_presence_repeat(f, 2, W, NULL), 1);
    /* no window, one scan, none */
    assert_int_equal(tv_presence_repeat(b, 2, 0, NULL), 0);
    assert_int_equal(tv_presence_repeat(b, 1, W, &first), 0);
    assert_int_equal(first, t);
    assert_int_equal(tv_presence_repeat(NULL, 0, W, NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_no_scans, setup),
        cmocka_unit_test_setup(test_invalid, setup),
        cmocka_unit_test_setup(test_reason_names, setup),
        cmocka_unit_test_setup(test_end_of_day, setup),
        cmocka_unit_test_setup(test_window_checkins, setup),
        cmocka_unit_test_setup(test_window_across_midnight, setup),
        cmocka_unit_test_setup(test_window_checkouts, setup),
        cmocka_unit_test_setup(test_run_broken, setup),
        cmocka_unit_test_setup(test_explicit_checkout, setup),
        cmocka_unit_test_setup(test_lone_checkout, setup),
        cmocka_unit_test_setup(test_next_checkin, setup),
        cmocka_unit_test_setup(test_repeat_checkin, setup),
        cmocka_unit_test_setup(test_closing_time, setup),
        cmocka_unit_test_setup(test_earliest_end, setup),
        cmocka_unit_test_setup(test_now, setup),
        cmocka_unit_test_setup(test_any_order, setup),
        cmocka_unit_test_setup(test_rules_calls, setup),
        cmocka_unit_test_setup(test_many_scans, setup),
        cmocka_unit_test(test_repeat_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
