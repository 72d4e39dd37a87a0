/* The console's gate (node/web/gate.c) over a real node: POST /api/scan answers a chip ID
 * card's line in the guard's words only once its scan is on disk, a repeat in amber, and
 * refuses what it must with the exact answer; many requests at once share commits and
 * each gets its own answer. */
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/logic/account.h"
#include "node/logic/venue.h"
#include "node/web/gate.h"
#include "node/web/http.h"
#include "node/web/live.h"
#include "node/web/route.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define CCCD "001099012345|123456789|Nguyễn Văn An|15031999|Nam|Số 1 Phố X, Hà Nội|20042021"

typedef struct fixture {
    test_node *tn;
    tv_web w;
    pthread_mutex_t mu;
    char venue[2 * TV_VENUE_ID_BYTES + 1];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    void *tn;
    if (!f || test_commune_setup(&tn)) return -1;
    f->tn = tn;
    pthread_mutex_init(&f->mu, NULL);
    f->w.n = &f->tn->n;
    f->w.mu = &f->mu;
    /* the console records through the writer lock it takes for each group */
    tv_node_lock_release(&f->tn->n);
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){"Chợ Vĩnh Hải", (uint32_t)strlen("Chợ Vĩnh Hải")};
    v.category = tv_venue_category_parse("market")->code;
    assert_int_equal(tv_node_lock_try(&f->tn->n), 1);
    assert_int_equal(tv_venue_register(&f->tn->n, &v), 0);
    tv_node_lock_release(&f->tn->n);
    tv_hex_encode(f->venue, v.venue, TV_VENUE_ID_BYTES);
    const char *why;
    assert_int_equal(tv_account_add(&f->tn->n, &TV_ACCOUNT_CLI, "bao", TV_ACCOUNT_GUARD,
                                    "mat-khau-2", 10, tv_wall_ms(), &why),
                     0);
    if (tv_session_table_init(&f->w.sessions) || tv_web_live_new(&f->w, &f->w.live) ||
        tv_web_gate_new(&f->w, &f->w.gate))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tv_web_gate_free(f->w.gate);
    tv_web_live_free(f->w.live);
    tv_session_table_free(&f->w.sessions);
    pthread_mutex_destroy(&f->mu);
    void *tn = f->tn;
    test_node_teardown(&tn);
    free(f);
    return 0;
}

/* POSTs a scan as a logged-in guard (at: its time, or NULL); returns the status, the
 * body in r. */
static int scan_at(fixture *f, const char *venue, const char *line, const char *dir, const char *at,
                   tv_resp *r)
{
    tv_req q;
    memset(&q, 0, sizeof q);
    q.method = "POST";
    q.path = "/api/scan";
    q.host = "127.0.0.1:8080";
    char token[TV_TOKEN_STR];
    assert_int_equal(tv_session_new(&f->w.sessions, "bao", "guard", tv_wall_ms(), token, &q.who),
                     0);
    q.csrf = q.who.csrf;
    char b0[32], b1[4200], b2[32];
    snprintf(b0, sizeof b0, "venue");
    snprintf(b1, sizeof b1, "%s", line);
    snprintf(b2, sizeof b2, "%s", dir);
    q.form[0] = (tv_kv){b0, (char *)venue};
    q.form[1] = (tv_kv){(char *)"line", b1};
    q.form[2] = (tv_kv){(char *)"direction", b2};
    q.nform = 3;
    if (at) q.form[q.nform++] = (tv_kv){(char *)"at", (char *)at};
    memset(r, 0, sizeof *r);
    tv_web_dispatch(&f->w, &q, r);
    assert_int_equal(tv_resp_finish(r), 0);
    return r->status;
}

static int scan(fixture *f, const char *venue, const char *line, const char *dir, tv_resp *r)
{
    return scan_at(f, venue, line, dir, NULL, r);
}

static uint64_t own_events(fixture *f)
{
    store_txn *t;
    store_frontier fr = {0};
    assert_int_equal(store_read_begin(f->tn->n.st, &t), 0);
    int rc = store_frontier_get(t, f->tn->n.id.pk, &fr);
    store_read_end(t);
    assert_true(rc == 0 || rc == TV_ENOTFOUND);
    return fr.seq;
}

static void test_green_then_amber(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = own_events(f);
    assert_int_equal(scan(f, f->venue, CCCD, "in", &r), 200);
    assert_non_null(strstr(r.body, "\"result\":\"ok\",\"color\":\"green\",\"text\":\"ĐÃ VÀO\""));
    assert_non_null(strstr(r.body, "\"person\":\"Nguyễn V** A"));
    tv_resp_free(&r);
    /* on disk before the answer: the person and the scan */
    assert_int_equal(own_events(f), before + 2);
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
    uint64_t before = own_events(f);
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
    assert_int_equal(own_events(f), before); /* nothing written */
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
    uint64_t before = own_events(f);
    assert_int_equal(tv_account_remove(&f->tn->n, &TV_ACCOUNT_CLI, "bao", tv_wall_ms()), 0);
    assert_int_equal(scan(f, f->venue, CCCD, "in", &r), 401);
    assert_non_null(strstr(r.body, "\"error\":\"login_required\""));
    tv_resp_free(&r);
    assert_int_equal(own_events(f), before);
}

static void test_busy(void **state)
{
    fixture *f = *state;
    tv_node other;
    assert_int_equal(tv_node_open(&other, f->tn->dir, TV_NODE_WRITE), 0);
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
    uint64_t before = own_events(f);
    for (int i = 0; i < N; i++) {
        m[i] = (many){.f = f, .i = i};
        assert_int_equal(pthread_create(&th[i], NULL, one, &m[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(m[i].status, 200);
        assert_true(m[i].ok);
    }
    assert_int_equal(own_events(f), before + 2 * N); /* each a new person and a scan */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_green_then_amber, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
