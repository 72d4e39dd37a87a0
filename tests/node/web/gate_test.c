/* The console's gate (node/web/gate.c) over a real node: POST /api/scan answers a chip ID
 * card's line in the guard's words only once its scan is on disk, a repeat in amber, and
 * refuses what it must with the exact answer; many requests at once share commits and
 * each gets its own answer. */
#include "web_util.h"

#define CCCD "001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Hà Nội|20042021"

typedef web_market_fixture fixture;

/* A market, a guard "bao", the gate started. */
static int setup(void **state)
{
    fixture *f = web_market_fixture_new("bao", TV_ACCOUNT_GUARD);
    web_gate_start(f->x);
    *state = f;
    return 0;
}

/* POSTs a scan as a logged-in guard (at: its time, or NULL); returns the status, the
 * body in r. */
static int scan_at(fixture *f, const char *venue, const char *line, const char *dir, const char *at,
                   tv_resp *r)
{
    const char *kv[] = {"venue", venue, "line", line, "direction", dir, at ? "at" : NULL, at, NULL};
    return web_call(f->x, r, "POST", "/api/scan", "bao", "guard", kv);
}

static int scan(fixture *f, const char *venue, const char *line, const char *dir, tv_resp *r)
{
    return scan_at(f, venue, line, dir, NULL, r);
}

static void test_green_then_amber(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = web_own_events(f->x);
    assert_int_equal(scan(f, f->venue, CCCD, "in", &r), 200);
    assert_non_null(strstr(r.body, "\"result\":\"ok\",\"color\":\"green\",\"text\":\"ĐÃ VÀO\""));
    assert_non_null(strstr(r.body, "\"person\":\"Nguyễn V** A"));
    tv_resp_free(&r);
    /* on disk before the answer: the person and the scan */
    assert_int_equal(web_own_events(f->x), before + 2);
    assert_int_equal(scan(f, f->venue, CCCD, "in", &r), 200);
    assert_non_null(
        strstr(r.body, "\"result\":\"already\",\"color\":\"amber\",\"text\":\"ĐÃ VÀO RỒI\""));
    tv_resp_free(&r);
    assert_int_equal(scan(f, f->venue, CCCD, "out", &r), 200);
    assert_non_null(strstr(r.body, "\"result\":\"ok\",\"color\":\"green\",\"text\":\"ĐÃ RA\""));
    tv_resp_free(&r);
}

static void test_refused(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = web_own_events(f->x);
    assert_int_equal(scan(f, f->venue, "xin chào", "in", &r), 200);
    assert_non_null(strstr(r.body, "\"result\":\"unreadable\",\"color\":\"grey\""));
    tv_resp_free(&r);
    assert_int_equal(scan(f, "0011223344556677", CCCD, "in", &r), 404);
    assert_non_null(strstr(r.body, "{\"error\":\"venue_unknown\","));
    tv_resp_free(&r);
    assert_int_equal(scan(f, "0g", CCCD, "in", &r), 400);
    assert_non_null(strstr(r.body, "{\"error\":\"venue_malformed\","));
    tv_resp_free(&r);
    assert_int_equal(scan(f, "", CCCD, "in", &r), 400);
    assert_non_null(strstr(r.body, "{\"error\":\"venue_invalid\","));
    tv_resp_free(&r);
    /* a time given is checked as `truyvet scan --at` checks it, with its sentence */
    assert_int_equal(scan_at(f, f->venue, CCCD, "in", "hôm qua", &r), 400);
    assert_non_null(
        strstr(r.body, "{\"error\":\"time_invalid\",\"message\":\"'hôm qua' is not a time"));
    tv_resp_free(&r);
    assert_int_equal(scan_at(f, f->venue, CCCD, "in", "2019-10-06T08:00:00+07:00", &r), 400);
    assert_non_null(strstr(r.body, "{\"error\":\"time_too_early\","));
    tv_resp_free(&r);
    assert_int_equal(scan(f, f->venue, CCCD, "sideways", &r), 400);
    assert_non_null(strstr(r.body, "{\"error\":\"direction_invalid\","));
    tv_resp_free(&r);
    assert_int_equal(scan(f, f->venue, "", "in", &r), 400);
    assert_non_null(strstr(r.body, "{\"error\":\"line_empty\","));
    tv_resp_free(&r);
    assert_int_equal(web_own_events(f->x), before); /* nothing written */
}

/* Another program records on the node: the console says so and records nothing. */
/* A guard whose account was removed since the session began (or disabled, locked, or
 * given another role) is answered as one without a session and nothing is recorded: the
 * group's writer checks the account, since the dispatcher lets a check-in through without
 * the node's mutex so that it does not wait for the commit under way. */
static void test_account_gone(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = web_own_events(f->x);
    assert_int_equal(tv_account_remove(f->x->n, &TV_ACCOUNT_CLI, "bao", tv_wall_ms()), 0);
    assert_int_equal(scan(f, f->venue, CCCD, "in", &r), 401);
    assert_non_null(strstr(r.body, "\"error\":\"login_required\""));
    tv_resp_free(&r);
    assert_int_equal(web_own_events(f->x), before);
}

static void test_busy(void **state)
{
    fixture *f = *state;
    tv_node other;
    assert_int_equal(tv_node_open(&other, f->x->tn->dir, TV_NODE_WRITE), 0);
    tv_resp r;
    assert_int_equal(scan(f, f->venue, CCCD, "in", &r), 409);
    assert_non_null(strstr(r.body, "{\"error\":\"busy\","));
    tv_resp_free(&r);
    tv_node_close(&other);
    assert_int_equal(scan(f, f->venue, CCCD, "in", &r), 200);
    tv_resp_free(&r);
}

typedef struct many {
    fixture *f;
    int i, status, ok;
} many;

static void *one(void *arg)
{
    many *m = arg;
    char line[200];
    snprintf(line, sizeof line, "0010990%05d|123456789|Trần Thị Bình|15031999|Nữ|Hà Nội|20042021",
             m->i);
    tv_resp r;
    m->status = scan(m->f, m->f->venue, line, "in", &r);
    m->ok = r.body && strstr(r.body, "\"result\":\"ok\"") != NULL;
    tv_resp_free(&r);
    return NULL;
}

static void test_many_at_once(void **state)
{
    fixture *f = *state;
    enum { N = 32 };
    pthread_t th[N];
    many m[N];
    uint64_t before = web_own_events(f->x);
    for (int i = 0; i < N; i++) {
        m[i] = (many){.f = f, .i = i};
        assert_int_equal(pthread_create(&th[i], NULL, one, &m[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(m[i].status, 200);
        assert_true(m[i].ok);
    }
    assert_int_equal(web_own_events(f->x), before + 2 * N); /* each a new person and a scan */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_green_then_amber, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_account_gone, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_many_at_once, setup, web_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
