/* The console's dispatcher (node/web/route.c) over a real node, without a socket: who may
 * call what. Each check of route.h is shown refusing, with its exact answer:
 *   no session (401 for the API, 303 to /login for a page), a role not listed (403
 *   forbidden), a controller and a venue not its own (403), a health call on a node
 *   without the health key or a commune's call on another node (403), a body larger than a
 *   form on a route that takes no file (413), a change without the session's CSRF token, with
 *   another's, from another origin or another site (403 csrf); and let through when all
 *   is right. */
#include "web_util.h"

typedef struct fixture {
    web_node *x;
    char mine[2 * TV_VENUE_ID_BYTES + 1], other[2 * TV_VENUE_ID_BYTES + 1];
} fixture;

/* Two markets, the first with its controller; accounts of each role, the health
 * officer's written as it is (a commune node may not make one), to show that the health
 * route's own check holds even then. */
static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->x = web_commune_new();
    web_market(f->x, "Chợ Vĩnh Hải", f->mine);
    web_market(f->x, "Chợ Xóm Mới", f->other);
    uint8_t id[TV_VENUE_ID_BYTES];
    assert_int_equal(tv_hex_decode(id, sizeof id, f->mine), 0);
    assert_int_equal(tv_venue_controller_add(f->x->n, id, "0912345678"), 0);
    web_account(f->x, "lan", TV_ACCOUNT_CLERK);
    web_account(f->x, "bao", TV_ACCOUNT_GUARD);
    web_account(f->x, "0912345678", TV_ACCOUNT_CONTROLLER);
    web_account_raw(f->x, "mai", TV_ACCOUNT_HEALTH);
    *state = f;
    return 0;
}

/* method path as user of role (NULL: no session) is refused with status and code. */
static void refused(fixture *f, const char *method, const char *path, const char *user,
                    const char *role, int status, const char *code)
{
    tv_req q;
    web_request(f->x, &q, method, path, user, role);
    web_refused(f->x, &q, status, code, NULL);
}

static void test_no_session(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    refused(f, "GET", "/api/venues", NULL, NULL, 401, "login_required");
    web_request(f->x, &q, "GET", "/venues", NULL, NULL);
    assert_int_equal(web_answer(f->x, &q, &r), 303);
    assert_string_equal(r.hdr[0].name, "Location");
    assert_string_equal(r.hdr[0].value, "/login?next=/venues");
    tv_resp_free(&r);
}

static void test_role(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    refused(f, "GET", "/api/report", "bao", "guard", 403, "forbidden");
    web_request(f->x, &q, "GET", "/api/report", "lan", "clerk");
    assert_int_equal(web_answer(f->x, &q, &r), 200);
    tv_resp_free(&r);
}

static void test_controller_venue(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    char path[80];
    snprintf(path, sizeof path, "/api/venues/%s", f->other);
    web_request(f->x, &q, "GET", path, "0912345678", "controller");
    web_refused(f->x, &q, 403, "forbidden", NULL);
    snprintf(path, sizeof path, "/venues/%s", f->other); /* the page too */
    web_request(f->x, &q, "GET", path, "0912345678", "controller");
    assert_int_equal(web_answer(f->x, &q, &r), 403);
    assert_non_null(strstr((const char *)r.static_body, "Không có quyền truy cập"));
    tv_resp_free(&r);
    snprintf(path, sizeof path, "/api/venues/%s", f->mine);
    web_request(f->x, &q, "GET", path, "0912345678", "controller");
    web_answer(f->x, &q, &r);
    web_assert_status(&r, 200);
    assert_non_null(strstr(r.body, "Chợ Vĩnh Hải"));
    tv_resp_free(&r);
    /* the list shows a controller its own venues only */
    web_request(f->x, &q, "GET", "/api/venues", "0912345678", "controller");
    assert_int_equal(web_answer(f->x, &q, &r), 200);
    assert_non_null(strstr(r.body, f->mine));
    assert_null(strstr(r.body, f->other));
    tv_resp_free(&r);
}

static void test_health_node(void **state)
{
    fixture *f = *state;
    refused(f, "GET", "/api/trace", "mai", "health", 403, "forbidden");
}

/* The commune's calls and pages on a province: refused by the route, before any handler
 * (whose own refusal would be another code), and a body beyond a form's size refused
 * unless the route takes a file. */
static void test_commune_node(void **state)
{
    (void)state;
    web_node *p = web_health_new();
    web_account(p, "lan", TV_ACCOUNT_CLERK);
    tv_req q;
    tv_resp r;
    web_request(p, &q, "POST", "/api/venues", "lan", "clerk");
    web_args(&q, 0, (const char *const[]){"name", "Chợ Đầm", "category", "market", NULL});
    web_refused(p, &q, 403, "forbidden", "only a commune node does this.");
    web_request(p, &q, "GET", "/gate", "lan", "clerk");
    assert_int_equal(web_answer(p, &q, &r), 403);
    assert_non_null(strstr((const char *)r.static_body, "Không có quyền truy cập"));
    tv_resp_free(&r);
    static char big[TV_REQ_FORM_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    web_request(p, &q, "POST", "/api/logout", "lan", "clerk");
    web_upload(&q, big, sizeof big - 1);
    web_refused(p, &q, 413, "too_large", "the request is too large.");
    web_node_free(p);
}

/* A health officer's reveal (a change: it needs the CSRF token), not yet dispatched. */
static void reveal(fixture *f, tv_req *q)
{
    web_request(f->x, q, "POST", "/api/reveal", "mai", "health");
}

static void test_csrf(void **state)
{
    fixture *f = *state;
    tv_req q;
    /* no token */
    reveal(f, &q);
    q.csrf = NULL;
    web_refused(f->x, &q, 403, "csrf", NULL);
    /* another session's token */
    tv_req other;
    web_request(f->x, &other, "GET", "/", "lan", "clerk");
    reveal(f, &q);
    q.csrf = other.who.csrf;
    web_refused(f->x, &q, 403, "csrf", NULL);
    /* the right token, from another origin */
    reveal(f, &q);
    q.csrf = q.who.csrf;
    q.origin = "http://evil.example";
    web_refused(f->x, &q, 403, "csrf", NULL);
    /* the right token, from another site (Sec-Fetch-Site) */
    reveal(f, &q);
    q.csrf = q.who.csrf;
    q.sec_fetch_site = "cross-site";
    web_refused(f->x, &q, 403, "csrf", NULL);
    /* all right: the next check (a health call on a commune node) answers */
    reveal(f, &q);
    q.csrf = q.who.csrf;
    q.origin = "http://127.0.0.1:8080";
    q.sec_fetch_site = "same-origin";
    web_refused(f->x, &q, 403, "forbidden", NULL);
}

/* An account removed (or disabled, or whose role changed) loses its sessions at once. */
static void test_account_gone(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    web_request(f->x, &q, "GET", "/api/venues", "lan", "clerk");
    tv_session_view who = q.who;
    assert_int_equal(web_answer(f->x, &q, &r), 200);
    tv_resp_free(&r);
    assert_int_equal(tv_account_remove(f->x->n, &TV_ACCOUNT_CLI, "lan", tv_wall_ms()), 0);
    web_request(f->x, &q, "GET", "/api/venues", NULL, NULL);
    q.who = who;
    web_refused(f->x, &q, 401, "login_required", NULL);
    /* a session claiming another role than its account's is no session */
    refused(f, "GET", "/api/report", "bao", "clerk", 401, "login_required");
}

static void test_not_found(void **state)
{
    fixture *f = *state;
    refused(f, "GET", "/api/nothing", "lan", "clerk", 404, "not_found");
    refused(f, "DELETE", "/api/venues", "lan", "clerk", 405, "method");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_session, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_role, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_controller_venue, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_health_node, setup, web_fixture_teardown),
        cmocka_unit_test(test_commune_node),
        cmocka_unit_test_setup_teardown(test_csrf, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_account_gone, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, web_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
