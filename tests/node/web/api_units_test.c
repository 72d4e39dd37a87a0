/* The console's units over real nodes (node/web/api_units.c): the unit tree under the
 * node as `unit list --json` gives it, a village added as `unit add` adds it, and each
 * refusal with the command's code and sentence, nothing written; a guard refused. */
#include "node/logic/enroll.h"
#include "web_util.h"

typedef struct fixture {
    web_pair x; /* first: web_pair_teardown frees the fixture */
} fixture;

/* Enrols child under parent through the enrolment functions. */
static void enrol(tv_node *parent, tv_node *child)
{
    tv_enroll_request rq;
    char text[TV_ENROLL_REQUEST_BYTES_MAX], why[TV_ENROLL_WHY_MAX] = "", *file = NULL;
    size_t len;
    assert_int_equal(tv_enroll_request_make(child, &rq), 0);
    int n = tv_enroll_request_format(&rq, text, sizeof text);
    assert_true(n > 0);
    assert_int_equal(tv_enroll_request_parse(&rq, text, (size_t)n, why), 0);
    tv_enroll_issue_opts o = {0};
    assert_int_equal(tv_enroll_issue(parent, &rq, &o, &file, &len, NULL, why), 0);
    tv_enroll_accepted *acc = malloc(sizeof *acc);
    assert_int_equal(tv_enroll_accept(child, file, len, acc, why), 0);
    free(acc);
    free(file);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    web_pair_make(&f->x);
    enrol(f->x.p->n, f->x.c->n);
    web_account(f->x.c, "lan", TV_ACCOUNT_CLERK);
    web_account(f->x.c, "bao", TV_ACCOUNT_GUARD);
    *state = f;
    return 0;
}

/* POST /api/units as the clerk with the given fields (NULL: not sent). */
static int unit_post(web_node *x, tv_req *q, tv_resp *r, const char *code, const char *name,
                     const char *parent)
{
    web_request(x, q, "POST", "/api/units", "lan", "clerk");
    if (code) web_arg(q, 0, "code", code);
    if (name) web_arg(q, 0, "name", name);
    if (parent) web_arg(q, 0, "parent", parent);
    return web_answer(x, q, r);
}

static void test_add_and_list(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    web_request(f->x.c, &q, "GET", "/api/units", "lan", "clerk");
    web_answer(f->x.c, &q, &r);
    web_assert_status(&r, 200);
    assert_non_null(
        strstr(r.body, "\"under\":\"22333\",\"name\":\"Phường Bắc Nha Trang\",\"units\":[]"));
    tv_resp_free(&r);

    unit_post(f->x.c, &q, &r, "22333.03", "Tổ dân phố 3", NULL);
    web_assert_status(&r, 201);
    assert_string_equal(r.body,
                        "{\"code\":\"22333.03\",\"name\":\"Tổ dân phố 3\",\"parent\":\"22333\"}");
    tv_resp_free(&r);

    web_request(f->x.c, &q, "GET", "/api/units", "lan", "clerk");
    web_answer(f->x.c, &q, &r);
    web_assert_status(&r, 200);
    assert_non_null(strstr(r.body, "\"units\":[{\"code\":\"22333.03\",\"name\":\"Tổ dân phố 3\","
                                   "\"parent\":\"22333\",\"official\":false}]"));
    tv_resp_free(&r);

    /* under another unit: the province's tree holds the commune */
    web_request(f->x.c, &q, "GET", "/api/units", "lan", "clerk");
    web_arg(&q, 1, "under", "56");
    web_answer(f->x.c, &q, &r);
    web_assert_status(&r, 200);
    assert_non_null(strstr(r.body, "{\"code\":\"22333\",\"name\":\"Phường Bắc Nha Trang\""));
    tv_resp_free(&r);
    web_request(f->x.c, &q, "GET", "/api/units", "lan", "clerk");
    web_arg(&q, 1, "under", "56;x");
    web_answer(f->x.c, &q, &r);
    web_assert_error(&r, 400, "unit_invalid", "'56;x' is not a unit code.");
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    store_counts before = test_counts(f->x.c->n);
    unit_post(f->x.c, &q, &r, "22333/03", "Thôn 3", NULL);
    web_assert_error(&r, 400, "unit_invalid",
                     "'22333/03' is not a unit code (a village is <commune>.<local>).");
    unit_post(f->x.c, &q, &r, "22333-03", "Thôn 3", NULL);
    web_assert_error(&r, 400, "parent_missing",
                     "'22333-03' has no parent to default to: give --parent.");
    unit_post(f->x.c, &q, &r, NULL, "Thôn 3", NULL);
    web_assert_error(&r, 400, "unit_invalid",
                     "'' is not a unit code (a village is <commune>.<local>).");
    unit_post(f->x.c, &q, &r, "22333.03", NULL, NULL);
    web_assert_error(&r, 400, "name_missing", "give --name, text of 1 to 255 bytes.");
    unit_post(f->x.c, &q, &r, "22333.03", "Thôn\x1b[2J", NULL);
    web_assert_error(&r, 400, "text_control", "the unit name holds a control character (U+001B).");
    unit_post(f->x.c, &q, &r, "22333.03", "Thôn 3", "22333.03");
    web_assert_error(&r, 400, "parent_invalid",
                     "--parent takes another unit's code, not '22333.03'.");
    unit_post(f->x.c, &q, &r, "22334.01", "Thôn 1", NULL);
    web_assert_error(&r, 403, "unit_scope",
                     "unit 22334.01 is outside this node's scope: peers would refuse it.");
    web_assert_unchanged(f->x.c->n, &before);
    /* a guard may not */
    web_request(f->x.c, &q, "POST", "/api/units", "bao", "guard");
    web_arg(&q, 0, "code", "22333.04");
    web_arg(&q, 0, "name", "Thôn 4");
    web_answer(f->x.c, &q, &r);
    web_assert_error(&r, 403, "forbidden", NULL);
    web_request(f->x.c, &q, "GET", "/api/units", "bao", "guard");
    web_answer(f->x.c, &q, &r);
    web_assert_error(&r, 403, "forbidden", NULL);
    web_assert_unchanged(f->x.c->n, &before);
}

/* A node that is not enrolled: its units would be refused by its peers. */
static void test_not_enrolled(void **state)
{
    (void)state;
    web_node *x = web_node_new(TV_ROLE_COMMUNE, "22333", "xa");
    web_account(x, "lan", TV_ACCOUNT_CLERK);
    store_counts before = test_counts(x->n);
    tv_req q;
    tv_resp r;
    unit_post(x, &q, &r, "22333.03", "Thôn 3", NULL);
    web_assert_error(&r, 403, "not_enrolled",
                     "this node is not enrolled: peers would refuse its units.");
    web_assert_unchanged(x->n, &before);
    web_node_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_and_list, setup, web_pair_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, web_pair_teardown),
        cmocka_unit_test(test_not_enrolled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
