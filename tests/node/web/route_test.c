/* The console's dispatcher (node/web/route.c) over a real node, without a socket: who may
 * call what. Each check of route.h is shown refusing, with its exact answer:
 *   no session (401 for the API, 303 to /login for a page), a role not listed (403
 *   forbidden), a controller and a venue not its own (403), a health call on a node
 *   without the health key (403), a change without the session's CSRF token, with
 *   another's, from another origin or another site (403 csrf); and let through when all
 *   is right. */
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/logic/account.h"
#include "node/logic/venue.h"
#include "node/web/http.h"
#include "node/web/route.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

typedef struct fixture {
    test_node *tn;
    tv_web w;
    pthread_mutex_t mu;
    char mine[2 * TV_VENUE_ID_BYTES + 1], other[2 * TV_VENUE_ID_BYTES + 1];
} fixture;

static void venue_add(tv_node *n, const char *name, char hex[2 * TV_VENUE_ID_BYTES + 1])
{
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){name, (uint32_t)strlen(name)};
    v.category = tv_venue_category_parse("market")->code;
    assert_int_equal(tv_venue_register(n, &v), 0);
    tv_hex_encode(hex, v.venue, TV_VENUE_ID_BYTES);
}

static int put_account(store_txn *t, void *ctx)
{
    return store_account_put(t, ctx);
}

/* Accounts of each role; the health officer's is written as it is (a commune node may not
 * make one), to show that the health route's own check holds even then. */
static void accounts_add(tv_node *n)
{
    const char *why;
    assert_int_equal(tv_account_add(n, &TV_ACCOUNT_CLI, "lan", TV_ACCOUNT_CLERK, "mat-khau-1", 10,
                                    tv_wall_ms(), &why),
                     0);
    assert_int_equal(tv_account_add(n, &TV_ACCOUNT_CLI, "bao", TV_ACCOUNT_GUARD, "mat-khau-2", 10,
                                    tv_wall_ms(), &why),
                     0);
    assert_int_equal(tv_account_add(n, &TV_ACCOUNT_CLI, "0912345678", TV_ACCOUNT_CONTROLLER,
                                    "123456", 6, tv_wall_ms(), &why),
                     0);
    store_account a = {.name = "mai", .role = TV_ACCOUNT_HEALTH, .hash = "x"};
    assert_int_equal(store_write(n->st, put_account, &a), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    void *tn;
    if (!f || test_commune_setup(&tn)) return -1;
    f->tn = tn;
    pthread_mutex_init(&f->mu, NULL);
    f->w.n = &f->tn->n;
    f->w.mu = &f->mu;
    if (tv_session_table_init(&f->w.sessions)) return -1;
    venue_add(&f->tn->n, "Chợ Vĩnh Hải", f->mine);
    venue_add(&f->tn->n, "Chợ Xóm Mới", f->other);
    uint8_t id[TV_VENUE_ID_BYTES];
    assert_int_equal(tv_hex_decode(id, sizeof id, f->mine), 0);
    assert_int_equal(tv_venue_controller_add(&f->tn->n, id, "0912345678"), 0);
    accounts_add(&f->tn->n);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tv_session_table_free(&f->w.sessions);
    pthread_mutex_destroy(&f->mu);
    void *tn = f->tn;
    test_node_teardown(&tn);
    free(f);
    return 0;
}

/* A request as the server would make it; role NULL: no session. */
static void request(fixture *f, tv_req *q, const char *method, const char *path, const char *user,
                    const char *role)
{
    memset(q, 0, sizeof *q);
    q->method = method;
    q->path = path;
    q->host = "127.0.0.1:8080";
    if (role) {
        char token[TV_TOKEN_STR];
        assert_int_equal(tv_session_new(&f->w.sessions, user, role, tv_wall_ms(), token, &q->who),
                         0);
    }
}

/* Dispatches q; returns the status, with the body in *body (the caller frees r). */
static int answer(fixture *f, tv_req *q, tv_resp *r)
{
    memset(r, 0, sizeof *r);
    tv_web_dispatch(&f->w, q, r);
    assert_int_equal(tv_resp_finish(r), 0);
    return r->status;
}

static void assert_error(tv_resp *r, int status, const char *code)
{
    assert_int_equal(r->status, status);
    char want[64];
    snprintf(want, sizeof want, "{\"error\":\"%s\",", code);
    assert_non_null(r->body);
    assert_memory_equal(r->body, want, strlen(want));
    tv_resp_free(r);
}

static void test_no_session(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    request(f, &q, "GET", "/api/venues", NULL, NULL);
    answer(f, &q, &r);
    assert_error(&r, 401, "login_required");
    request(f, &q, "GET", "/venues", NULL, NULL);
    assert_int_equal(answer(f, &q, &r), 303);
    assert_string_equal(r.hdr[0].name, "Location");
    assert_string_equal(r.hdr[0].value, "/login?next=/venues");
    tv_resp_free(&r);
}

static void test_role(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    request(f, &q, "GET", "/api/report", "bao", "guard");
    answer(f, &q, &r);
    assert_error(&r, 403, "forbidden");
    request(f, &q, "GET", "/api/report", "lan", "clerk");
    assert_int_equal(answer(f, &q, &r), 200);
    tv_resp_free(&r);
}

static void test_controller_venue(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    char path[80];
    snprintf(path, sizeof path, "/api/venues/%s", f->other);
    request(f, &q, "GET", path, "0912345678", "controller");
    answer(f, &q, &r);
    assert_error(&r, 403, "forbidden");
    snprintf(path, sizeof path, "/venues/%s", f->other); /* the page too */
    request(f, &q, "GET", path, "0912345678", "controller");
    assert_int_equal(answer(f, &q, &r), 403);
    assert_non_null(strstr((const char *)r.static_body, "Không có quyền truy cập"));
    tv_resp_free(&r);
    snprintf(path, sizeof path, "/api/venues/%s", f->mine);
    request(f, &q, "GET", path, "0912345678", "controller");
    answer(f, &q, &r);
    if (r.status != 200) fprintf(stderr, "%s\n", r.body);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "Chợ Vĩnh Hải"));
    tv_resp_free(&r);
    /* the list shows a controller its own venues only */
    request(f, &q, "GET", "/api/venues", "0912345678", "controller");
    assert_int_equal(answer(f, &q, &r), 200);
    assert_non_null(strstr(r.body, f->mine));
    assert_null(strstr(r.body, f->other));
    tv_resp_free(&r);
}

static void test_health_node(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    request(f, &q, "GET", "/api/trace", "mai", "health");
    answer(f, &q, &r);
    assert_error(&r, 403, "forbidden");
}

static void test_csrf(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    /* no token */
    request(f, &q, "POST", "/api/reveal", "mai", "health");
    answer(f, &q, &r);
    assert_error(&r, 403, "csrf");
    /* another session's token */
    tv_req other;
    request(f, &other, "GET", "/", "lan", "clerk");
    request(f, &q, "POST", "/api/reveal", "mai", "health");
    q.csrf = other.who.csrf;
    answer(f, &q, &r);
    assert_error(&r, 403, "csrf");
    /* the right token, from another origin */
    request(f, &q, "POST", "/api/reveal", "mai", "health");
    q.csrf = q.who.csrf;
    q.origin = "http://evil.example";
    answer(f, &q, &r);
    assert_error(&r, 403, "csrf");
    /* the right token, from another site (Sec-Fetch-Site) */
    request(f, &q, "POST", "/api/reveal", "mai", "health");
    q.csrf = q.who.csrf;
    q.sec_fetch_site = "cross-site";
    answer(f, &q, &r);
    assert_error(&r, 403, "csrf");
    /* all right: the next check (a health call on a commune node) answers */
    request(f, &q, "POST", "/api/reveal", "mai", "health");
    q.csrf = q.who.csrf;
    q.origin = "http://127.0.0.1:8080";
    q.sec_fetch_site = "same-origin";
    answer(f, &q, &r);
    assert_error(&r, 403, "forbidden");
}

/* An account removed (or disabled, or whose role changed) loses its sessions at once. */
static void test_account_gone(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    request(f, &q, "GET", "/api/venues", "lan", "clerk");
    tv_session_view who = q.who;
    assert_int_equal(answer(f, &q, &r), 200);
    tv_resp_free(&r);
    assert_int_equal(tv_account_remove(&f->tn->n, &TV_ACCOUNT_CLI, "lan", tv_wall_ms()), 0);
    request(f, &q, "GET", "/api/venues", NULL, NULL);
    q.who = who;
    answer(f, &q, &r);
    assert_error(&r, 401, "login_required");
    /* a session claiming another role than its account's is no session */
    request(f, &q, "GET", "/api/report", "bao", "clerk");
    answer(f, &q, &r);
    assert_error(&r, 401, "login_required");
}

static void test_not_found(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    request(f, &q, "GET", "/api/nothing", "lan", "clerk");
    answer(f, &q, &r);
    assert_error(&r, 404, "not_found");
    request(f, &q, "DELETE", "/api/venues", "lan", "clerk");
    q.csrf = q.who.csrf;
    answer(f, &q, &r);
    assert_error(&r, 405, "method");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_controller_venue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_gone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
