/* The console's health officer calls that change the node (node/web/api_health.c), over a
 * real province node holding the health key, through the dispatcher as the server calls
 * it: POST /api/cases records a status (then listed by GET /api/cases), POST /api/risk a
 * level (then shown by GET /api/risk); bad input (a malformed time, a bad status or level,
 * a control character in the note, an unknown unit, an F0 without onset) is refused with
 * 400 and the command line's sentence, nothing written; a clerk is refused (403); a case
 * at a commune node is refused (403). */
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/logic/account.h"
#include "node/logic/enroll.h"
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
} fixture;

/* A web server's view of node tn, with a health officer "mai" and a clerk "lan". */
static int web_setup(fixture *f, void *tn)
{
    const char *why;
    f->tn = tn;
    pthread_mutex_init(&f->mu, NULL);
    f->w.n = &f->tn->n;
    f->w.mu = &f->mu;
    if (tv_session_table_init(&f->w.sessions)) return -1;
    if (tv_account_add(&f->tn->n, &TV_ACCOUNT_CLI, "lan", TV_ACCOUNT_CLERK, "mat-khau-1", 10,
                       tv_wall_ms(), &why))
        return -1;
    return 0;
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    void *tn;
    const char *why;
    if (!f || test_province_setup(&tn)) return -1;
    test_node *t = tn;
    /* the root of its tree, with the health flag; reopened with its health certificate */
    if (tv_enroll_make_root(&t->n, 1, NULL)) return -1;
    tv_node_close(&t->n);
    if (tv_node_open(&t->n, t->dir, TV_NODE_WRITE)) return -1;
    if (web_setup(f, tn)) return -1;
    if (tv_account_add(&t->n, &TV_ACCOUNT_CLI, "mai", TV_ACCOUNT_HEALTH, "mat-khau-3", 10,
                       tv_wall_ms(), &why))
        return -1;
    *state = f;
    return 0;
}

static int put_account(store_txn *t, void *ctx)
{
    return store_account_put(t, ctx);
}

/* A commune node, its health officer's account written as it is (a commune may not make
 * one), to show that the route's own check holds. */
static int commune_setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    void *tn;
    if (!f || test_commune_setup(&tn) || web_setup(f, tn)) return -1;
    store_account a = {.name = "mai", .role = TV_ACCOUNT_HEALTH, .hash = "x"};
    if (store_write(f->tn->n.st, put_account, &a)) return -1;
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

/* Dispatches method path as user of role (logged in, with the session's CSRF token), with
 * the form fields of kv (name, value, ..., NULL); returns the status, the body in r. */
static int call(fixture *f, const char *method, const char *path, const char *user,
                const char *role, const char *const *kv, tv_resp *r)
{
    tv_req q;
    memset(&q, 0, sizeof q);
    q.method = method;
    q.path = path;
    q.host = "127.0.0.1:8080";
    q.origin = "http://127.0.0.1:8080";
    char token[TV_TOKEN_STR];
    assert_int_equal(tv_session_new(&f->w.sessions, user, role, tv_wall_ms(), token, &q.who), 0);
    q.csrf = q.who.csrf;
    for (size_t i = 0; kv && kv[i]; i += 2) {
        tv_kv *d = strcmp(method, "GET") ? &q.form[q.nform++] : &q.query[q.nquery++];
        *d = (tv_kv){(char *)kv[i], (char *)kv[i + 1]};
    }
    memset(r, 0, sizeof *r);
    tv_web_dispatch(&f->w, &q, r);
    assert_int_equal(tv_resp_finish(r), 0);
    return r->status;
}

/* What the store holds: events and batches. */
static uint64_t held(fixture *f)
{
    store_counts c = test_counts(&f->tn->n);
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
    if (r.status != 400) fprintf(stderr, "%s\n", r.body ? r.body : "");
    assert_int_equal(r.status, 400);
    char want[600];
    snprintf(want, sizeof want, "{\"error\":\"%s\",\"message\":\"%s\",\"message_vi\":\"", code, en);
    assert_non_null(r.body);
    if (strncmp(r.body, want, strlen(want))) fprintf(stderr, "%s\n", r.body);
    assert_memory_equal(r.body, want, strlen(want));
    tv_resp_free(&r);
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
    assert_int_equal(call(f, "POST", path, user, role, kv, &r), 403);
    assert_memory_equal(r.body, "{\"error\":\"forbidden\",", 21);
    tv_resp_free(&r);
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
        cmocka_unit_test_setup_teardown(test_case_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_risk_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_risk_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clerk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commune, commune_setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
