/* The console's health officer calls that change the node (node/web/api_health.c), over a
 * real province node holding the health key, through the dispatcher as the server calls
 * it: POST /api/cases records a status (then listed by GET /api/cases), POST /api/risk a
 * level (then shown by GET /api/risk); bad input (a malformed time, a bad status or level,
 * a control character in the note, an unknown unit, an F0 without onset) is refused with
 * 400 and the command line's sentence, nothing written; a clerk is refused (403); a case
 * at a commune node is refused (403). */
#include "web_util.h"

typedef struct fixture {
    web_node *x;
} fixture;

/* Node x in a fixture, with a clerk "lan" and a health officer "mai" (written as it is
 * when raw: a commune may not make one, and the route's own check must hold even then). */
static int fixture_make(void **state, web_node *x, int raw)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->x = x;
    web_account(x, "lan", TV_ACCOUNT_CLERK);
    if (raw)
        web_account_raw(x, "mai", TV_ACCOUNT_HEALTH);
    else
        web_account(x, "mai", TV_ACCOUNT_HEALTH);
    *state = f;
    return 0;
}

/* A health node: the province, root of its tree with the health flag. */
static int setup(void **state)
{
    return fixture_make(state, web_health_new(), 0);
}

static int commune_setup(void **state)
{
    return fixture_make(state, web_commune_new(), 1);
}

/* Dispatches method path as user of role with the fields of kv (as web_call takes them);
 * returns the status, the body in r. */
static int call(fixture *f, const char *method, const char *path, const char *user,
                const char *role, const char *const *kv, tv_resp *r)
{
    return web_call(f->x, r, method, path, user, role, kv);
}

/* What the store holds: events and batches. */
static uint64_t held(fixture *f)
{
    store_counts c = test_counts(f->x->n);
    assert_true(c.events != UINT64_MAX);
    return c.events * 1000003 + c.batches;
}

/* POSTs kv to path as the health officer; checks the refusal: status 400, the code and the
 * CLI's sentence, and that nothing was written. */
static void refused(fixture *f, const char *path, const char *const *kv, const char *code,
                    const char *en)
{
    uint64_t before = held(f);
    tv_resp r;
    call(f, "POST", path, "mai", "health", kv, &r);
    web_assert_error_then(&r, 400, code, en, ",\"message_vi\":\"");
    assert_true(held(f) == before);
}

static void test_case_recorded(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = held(f);
    const char *kv[] = {"person",     "0901000000", "status", "F0", "onset",
                        "2021-10-06", "at",         "",       NULL};
    assert_int_equal(call(f, "POST", "/api/cases", "mai", "health", kv, &r), 201);
    assert_non_null(strstr(r.body, "\"status\":\"F0\""));
    assert_non_null(strstr(r.body, "\"onset\":\"2021-10-06T00:00:00+07:00\""));
    char ref[2 * TV_PERSON_REF_BYTES + 1];
    const char *p = strstr(r.body, "{\"ref\":\"");
    assert_true(p == r.body);
    memcpy(ref, p + 8, 2 * TV_PERSON_REF_BYTES);
    ref[2 * TV_PERSON_REF_BYTES] = 0;
    tv_resp_free(&r);
    assert_true(held(f) != before);
    /* listed, by the pseudonym the answer gave */
    assert_int_equal(call(f, "GET", "/api/cases", "mai", "health", NULL, &r), 200);
    assert_memory_equal(r.body, "{\"cases\":[{", 11);
    assert_non_null(strstr(r.body, ref));
    assert_non_null(strstr(r.body, "\"status\":\"F0\""));
    tv_resp_free(&r);
    /* cleared by its pseudonym */
    const char *clear[] = {"ref", ref, "status", "cleared", "at", "2021-10-20", NULL};
    assert_int_equal(call(f, "POST", "/api/cases", "mai", "health", clear, &r), 201);
    assert_non_null(strstr(r.body, "\"status\":\"cleared\""));
    tv_resp_free(&r);
    const char *f0[] = {"status", "F0", NULL};
    assert_int_equal(call(f, "GET", "/api/cases", "mai", "health", f0, &r), 200);
    assert_string_equal(r.body, "{\"cases\":[]}\n");
    tv_resp_free(&r);
}

static void test_risk_set(void **state)
{
    fixture *f = *state;
    tv_resp r;
    const char *kv[] = {"unit",       "56",   "level",     "3", "from",
                        "2021-10-06", "note", "Giãn cách", NULL};
    assert_int_equal(call(f, "POST", "/api/risk", "mai", "health", kv, &r), 201);
    assert_memory_equal(r.body, "{\"risk\":[{\"unit\":\"56\"", 21);
    assert_non_null(strstr(r.body, "\"level\":3,\"from\":\"2021-10-06T00:00:00+07:00\""));
    assert_non_null(strstr(r.body, "\"note\":\"Giãn cách\""));
    tv_resp_free(&r);
    /* shown as in force */
    const char *q[] = {"unit", "56", NULL};
    assert_int_equal(call(f, "GET", "/api/risk", "mai", "health", q, &r), 200);
    assert_non_null(strstr(r.body, "\"unit\":\"56\""));
    assert_non_null(strstr(r.body, "\"level\":3"));
    assert_non_null(strstr(r.body, "\"note\":\"Giãn cách\""));
    tv_resp_free(&r);
    /* a village's own level; a code no unit has, when asked for */
    const char *village[] = {"unit", "22333.03", "level", "4", "from", "today", NULL};
    assert_int_equal(call(f, "POST", "/api/risk", "mai", "health", village, &r), 201);
    assert_non_null(strstr(r.body, "\"level\":4"));
    tv_resp_free(&r);
    const char *unlisted[] = {"unit",  "99999",    "level", "2", "from",
                              "today", "unlisted", "1",     NULL};
    assert_int_equal(call(f, "POST", "/api/risk", "mai", "health", unlisted, &r), 201);
    tv_resp_free(&r);
}

static void test_case_refused(void **state)
{
    fixture *f = *state;
    refused(
        f, "/api/cases",
        (const char *const[]){"person", "0901000000", "status", "F0", "onset", "2021-13-01", NULL},
        "time_invalid",
        "--onset takes 'today', a date or a time with its offset (before 2200), not "
        "'2021-13-01'.");
    refused(f, "/api/cases",
            (const char *const[]){"person", "0901000000", "status", "F0", "sampled",
                                  "2021-10-06T08:00", NULL},
            "time_invalid",
            "--sampled takes 'today', a date or a time with its offset (before 2200), not "
            "'2021-10-06T08:00'.");
    refused(f, "/api/cases", (const char *const[]){"person", "0901000000", "status", "F9", NULL},
            "status_invalid", "--status is F0, F1, F2 or cleared, not 'F9'.");
    refused(f, "/api/cases", (const char *const[]){"person", "0901000000", "status", "", NULL},
            "status_missing", "give the status: --status F0|F1|F2|cleared.");
    refused(f, "/api/cases", (const char *const[]){"person", "0901000000", "status", "F0", NULL},
            "onset_missing",
            "an F0 needs --onset (symptoms) or --sampled (the positive sample): the infectious "
            "window starts from it.");
    refused(f, "/api/cases", (const char *const[]){"status", "F1", NULL}, "person_missing",
            "give the person: --payload or --ref.");
    refused(f, "/api/cases", (const char *const[]){"person", "abc", "status", "F1", NULL},
            "person_invalid",
            "'abc' cannot be read as a person: it should contain only digits (a phone number or "
            "an ID number).");
    refused(f, "/api/cases", (const char *const[]){"ref", "0011", "status", "F1", NULL},
            "ref_invalid", "'0011' is not a pseudonym (32 hex digits).");
    refused(f, "/api/cases",
            (const char *const[]){"person", "0901000000", "status", "F1", "unit", "5/6", NULL},
            "unit_invalid", "'5/6' is not a unit code.");
}

static void test_risk_refused(void **state)
{
    fixture *f = *state;
    refused(f, "/api/risk",
            (const char *const[]){"unit", "56", "level", "5", "from", "today", NULL},
            "level_invalid", "--level is 1, 2, 3 or 4, not '5'.");
    refused(f, "/api/risk",
            (const char *const[]){"unit", "56", "level", "2", "from", "today", "note",
                                  "Giãn\x1b[2Jcách", NULL},
            "text_control", "the note holds a control character (U+001B).");
    refused(f, "/api/risk",
            (const char *const[]){"unit", "56", "level", "2", "from", "06/10/2021", NULL},
            "time_invalid",
            "--from takes 'today', a date or a time with its offset (before 2200), not "
            "'06/10/2021'.");
    refused(f, "/api/risk", (const char *const[]){"unit", "56", "level", "2", NULL},
            "field_missing", "give --unit, --level and --from.");
    refused(f, "/api/risk",
            (const char *const[]){"unit", "99999", "level", "2", "from", "today", NULL},
            "unit_unknown",
            "unit 99999 is not in the official list of units nor among the units this node "
            "knows. The nearest codes are 32248 Xã Đất Mũi, 32244 Xã Phan Ngọc Hiển, 32236 Xã "
            "Tân Ân.");
    refused(f, "/api/risk",
            (const char *const[]){"unit", "5/6", "level", "2", "from", "today", NULL},
            "unit_invalid", "'5/6' is not a unit code (a village is <commune>.<village>).");
}

/* Only the health officer, only at a health node. */
static void assert_forbidden(fixture *f, const char *path, const char *user, const char *role,
                             const char *const *kv)
{
    uint64_t before = held(f);
    tv_resp r;
    call(f, "POST", path, user, role, kv, &r);
    web_assert_error(&r, 403, "forbidden", NULL);
    assert_true(held(f) == before);
}

/* Neither a case nor a level (of unit) from user of role. */
static void assert_forbidden_both(fixture *f, const char *user, const char *role, const char *unit)
{
    assert_forbidden(f, "/api/cases", user, role,
                     (const char *const[]){"person", "0901000000", "status", "F1", NULL});
    assert_forbidden(f, "/api/risk", user, role,
                     (const char *const[]){"unit", unit, "level", "2", "from", "today", NULL});
}

static void test_clerk(void **state)
{
    assert_forbidden_both(*state, "lan", "clerk", "56");
}

static void test_commune(void **state)
{
    assert_forbidden_both(*state, "mai", "health", "22333");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_case_recorded, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_risk_set, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_case_refused, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_risk_refused, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_clerk, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_commune, commune_setup, web_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
