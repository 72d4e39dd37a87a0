/* The console's printouts over a real commune node: personal cards (POST /api/cards) as a
 * PDF, each person recorded once, refusals with the CLI's sentences and nothing written;
 * the venue's poster as PDF and PNG. */
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
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){"Chợ Vĩnh Hải", (uint32_t)strlen("Chợ Vĩnh Hải")};
    v.category = tv_venue_category_parse("market")->code;
    assert_int_equal(tv_venue_register(&f->tn->n, &v), 0);
    tv_node_lock_release(&f->tn->n); /* the console takes it for each change */
    tv_hex_encode(f->venue, v.venue, TV_VENUE_ID_BYTES);
    const char *why;
    assert_int_equal(tv_account_add(&f->tn->n, &TV_ACCOUNT_CLI, "lan", TV_ACCOUNT_CLERK,
                                    "mat-khau-1", 10, tv_wall_ms(), &why),
                     0);
    if (tv_session_table_init(&f->w.sessions)) return -1;
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

/* A clerk's request with form fields kv[0..n). */
static int call(fixture *f, const char *method, const char *path, tv_kv *kv, size_t n, tv_resp *r)
{
    tv_req q;
    memset(&q, 0, sizeof q);
    q.method = method;
    q.path = path;
    q.host = "127.0.0.1:8080";
    char token[TV_TOKEN_STR];
    assert_int_equal(tv_session_new(&f->w.sessions, "lan", "clerk", tv_wall_ms(), token, &q.who),
                     0);
    q.csrf = q.who.csrf;
    for (size_t i = 0; i < n; i++)
        q.form[i] = kv[i];
    q.nform = n;
    memset(r, 0, sizeof *r);
    tv_web_dispatch(&f->w, &q, r);
    assert_int_equal(tv_resp_finish(r), 0);
    return r->status;
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

static void test_cards(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = own_events(f);
    tv_kv kv[] = {{(char *)"person", (char *)"0905000111"},
                  {(char *)"name", (char *)"Lê Thị Hoa"},
                  {(char *)"person", (char *)"0905000222"}};
    assert_int_equal(call(f, "POST", "/api/cards", kv, 3, &r), 200);
    assert_string_equal(r.type, "application/pdf");
    assert_true(r.len > 1000);
    assert_memory_equal(r.body, "%PDF", 4);
    assert_string_equal(r.hdr[0].value, "attachment; filename=\"the-ca-nhan.pdf\"");
    tv_resp_free(&r);
    assert_int_equal(own_events(f), before + 2); /* two people recorded */
}

static void test_cards_refused(void **state)
{
    fixture *f = *state;
    tv_resp r;
    uint64_t before = own_events(f);
    tv_kv bad[] = {{(char *)"person", (char *)"0905000111"},
                   {(char *)"person", (char *)"xin chào"}};
    assert_int_equal(call(f, "POST", "/api/cards", bad, 2, &r), 400);
    /* the CLI's sentence (`truyvet person card --person 'xin chào'`) */
    assert_non_null(strstr(r.body,
                           "\"error\":\"person_invalid\",\"message\":\"'xin chào' cannot be "
                           "read as a person: "));
    tv_resp_free(&r);
    tv_kv named[] = {{(char *)"person", (char *)"0905000111"},
                     {(char *)"name", (char *)"Lê\x1b[2JHoa"}};
    assert_int_equal(call(f, "POST", "/api/cards", named, 2, &r), 400);
    assert_non_null(strstr(r.body, "\"error\":\"text_control\""));
    tv_resp_free(&r);
    assert_int_equal(call(f, "POST", "/api/cards", NULL, 0, &r), 400);
    assert_non_null(strstr(r.body, "\"error\":\"person_missing\""));
    tv_resp_free(&r);
    assert_int_equal(own_events(f), before); /* nothing written */
}

static void test_poster(void **state)
{
    fixture *f = *state;
    tv_resp r;
    char path[96];
    snprintf(path, sizeof path, "/api/venues/%s/poster.png", f->venue);
    assert_int_equal(call(f, "GET", path, NULL, 0, &r), 200);
    assert_string_equal(r.type, "image/png");
    assert_memory_equal(r.body, "\x89PNG", 4);
    tv_resp_free(&r);
    snprintf(path, sizeof path, "/api/venues/%s/poster.pdf", f->venue);
    assert_int_equal(call(f, "GET", path, NULL, 0, &r), 200);
    assert_memory_equal(r.body, "%PDF", 4);
    tv_resp_free(&r);
    assert_int_equal(call(f, "GET", "/api/venues/0011223344556677/poster.pdf", NULL, 0, &r), 404);
    assert_non_null(strstr(r.body, "\"error\":\"venue_unknown\""));
    tv_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cards, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cards_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poster, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
