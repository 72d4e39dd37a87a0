/* The console's printouts over a real commune node: personal cards (POST /api/cards) as a
 * PDF, each person recorded once, refusals with the CLI's sentences and nothing written;
 * the venue's poster as PDF and PNG. */
#include "web_util.h"

typedef web_market_fixture fixture;

/* A market and a clerk "lan". */
static int setup(void **state)
{
    *state = web_market_fixture_new("lan", TV_ACCOUNT_CLERK);
    return 0;
}

/* A clerk's request with the form fields of kv (as web_args takes them). */
static int call(fixture *f, const char *method, const char *path, const char *const *kv, tv_resp *r)
{
    return web_call(f->x, r, method, path, "lan", "clerk", kv);
}

static void test_cards(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = web_own_events(f->x);
    const char *kv[] = {"person", "0905000111", "name", "Lê Thị Hoa", "person", "0905000222", NULL};
    assert_int_equal(call(f, "POST", "/api/cards", kv, &r), 200);
    assert_string_equal(r.type, "application/pdf");
    assert_true(r.len > 1000);
    assert_memory_equal(r.body, "%PDF", 4);
    assert_string_equal(r.hdr[0].value, "attachment; filename=\"the-ca-nhan.pdf\"");
    tv_resp_free(&r);
    assert_int_equal(web_own_events(f->x), before + 2); /* two people recorded */
}

static void test_cards_refused(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = web_own_events(f->x);
    const char *bad[] = {"person", "0905000111", "person", "xin chào", NULL};
    assert_int_equal(call(f, "POST", "/api/cards", bad, &r), 400);
    /* the CLI's sentence (`truyvet person card --person 'xin chào'`) */
    assert_non_null(strstr(r.body,
                           "\"error\":\"person_invalid\",\"message\":\"'xin chào' cannot be "
                           "read as a person: "));
    tv_resp_free(&r);
    const char *named[] = {"person", "0905000111", "name", "Lê\x1b[2JHoa", NULL};
    assert_int_equal(call(f, "POST", "/api/cards", named, &r), 400);
    assert_non_null(strstr(r.body, "\"error\":\"text_control\""));
    tv_resp_free(&r);
    assert_int_equal(call(f, "POST", "/api/cards", NULL, &r), 400);
    assert_non_null(strstr(r.body, "\"error\":\"person_missing\""));
    tv_resp_free(&r);
    assert_int_equal(web_own_events(f->x), before); /* nothing written */
}

static void test_poster(void **state)
{
    fixture *f = *state;
    tv_resp r;
    char path[96];
    snprintf(path, sizeof path, "/api/venues/%s/poster.png", f->venue);
    assert_int_equal(call(f, "GET", path, NULL, &r), 200);
    assert_string_equal(r.type, "image/png");
    assert_memory_equal(r.body, "\x89PNG", 4);
    tv_resp_free(&r);
    snprintf(path, sizeof path, "/api/venues/%s/poster.pdf", f->venue);
    assert_int_equal(call(f, "GET", path, NULL, &r), 200);
    assert_memory_equal(r.body, "%PDF", 4);
    tv_resp_free(&r);
    assert_int_equal(call(f, "GET", "/api/venues/0011223344556677/poster.pdf", NULL, &r), 404);
    assert_non_null(strstr(r.body, "\"error\":\"venue_unknown\""));
    tv_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cards, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_cards_refused, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_poster, setup, web_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
