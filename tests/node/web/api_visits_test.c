/* A venue's visits of a day through the console (GET /api/venues/{id}/visits) over a real
 * commune node with real scans: the same visits as `venue visits --json` (repeats
 * collapsed, check-outs inferred), a malformed day refused with the command's sentence, an
 * unknown venue, and who may ask: the venue's controller, not another venue's, nor a
 * guard. */
#include "crdt/ids.h"
#include "node/format/timefmt.h"
#include "node/logic/idcard.h"
#include "node/logic/record.h"
#include "node/logic/venue.h"
#include "web_util.h"

typedef struct fixture {
    web_node *c;
    store_venue cafe, market;
    char cafe_hex[2 * TV_VENUE_ID_BYTES + 1], market_hex[2 * TV_VENUE_ID_BYTES + 1];
    char path[96];
} fixture;

static void venue_new(tv_node *n, const char *name, const char *category, store_venue *sv,
                      char hex[2 * TV_VENUE_ID_BYTES + 1])
{
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){name, (uint32_t)strlen(name)};
    v.category = tv_venue_category_parse(category)->code;
    assert_int_equal(tv_venue_register(n, &v), 0);
    tv_hex_encode(hex, v.venue, TV_VENUE_ID_BYTES);
    store_txn *t;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    assert_int_equal(store_venue_get(t, v.venue, sv), 0);
    store_read_end(t);
}

/* A scan of phone at venue on 2021-10-06 at hh:mm, Vietnam time. */
static void scan_at(tv_node *n, const char *phone, const store_venue *v, int hh, int mm, int out)
{
    int32_t day;
    assert_int_equal(tv_date_parse("2021-10-06", &day), 0);
    int64_t at = tv_date_start_ms(day, TV_TIME_VN_OFFSET_MIN) + (hh * 60 + mm) * INT64_C(60000);
    tv_card card;
    const char *why;
    assert_int_equal(tv_card_parse(phone, strlen(phone), &card, &why), 0);
    tv_recorder rec;
    assert_int_equal(tv_recorder_init(&rec, n), 0);
    tv_scan_in in = {.venue = v, .card = &card, .out = out, .at_ms = at};
    tv_scan_done done;
    assert_int_equal(tv_recorder_add(&rec, &in, &done), 0);
    uint64_t seq;
    assert_int_equal(tv_node_commit(n, &seq), 0);
    assert_int_equal(tv_recorder_committed(&rec), 0);
    tv_recorder_free(&rec);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->c = web_commune_new();
    venue_new(f->c->n, "Quán cà phê Biển", "cafe", &f->cafe, f->cafe_hex);
    venue_new(f->c->n, "Chợ Đầm", "market", &f->market, f->market_hex);
    scan_at(f->c->n, "0901000001", &f->cafe, 8, 0, 0);
    scan_at(f->c->n, "0901000001", &f->cafe, 8, 2, 0);    /* a repeat: the same check-in */
    scan_at(f->c->n, "0901000001", &f->market, 8, 30, 0); /* ends the café visit */
    scan_at(f->c->n, "0901000002", &f->cafe, 9, 0, 0);
    scan_at(f->c->n, "0901000002", &f->cafe, 9, 20, 1);
    scan_at(f->c->n, "0901000003", &f->cafe, 10, 0, 0); /* the café's default stay */
    assert_int_equal(tv_venue_controller_add(f->c->n, f->market.id, "0912345678"), 0);
    web_account(f->c, "lan", TV_ACCOUNT_CLERK);
    web_account(f->c, "bao", TV_ACCOUNT_GUARD);
    web_account(f->c, "0912345678", TV_ACCOUNT_CONTROLLER);
    *state = f;
    return 0;
}

/* GET the visits of venue hex as user/role, with day (NULL: none). */
static int visits(fixture *f, tv_req *q, tv_resp *r, const char *hex, const char *day,
                  const char *user, const char *role)
{
    snprintf(f->path, sizeof f->path, "/api/venues/%s/visits", hex);
    web_request(f->c, q, "GET", f->path, user, role);
    if (day) web_arg(q, 1, "day", day);
    return web_answer(f->c, q, r);
}

static void test_visits(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    visits(f, &q, &r, f->cafe_hex, "2021-10-06", "lan", "clerk");
    web_assert_status(&r, 200);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"venue\":\"%s\",\"day\":\"2021-10-06\",\"visits\":["
             "{\"person\":\"09******01\",\"from\":\"2021-10-06T08:00:00+07:00\","
             "\"to\":\"2021-10-06T08:30:00+07:00\",\"end\":\"next check-in\",\"scans\":2},"
             "{\"person\":\"09******02\",\"from\":\"2021-10-06T09:00:00+07:00\","
             "\"to\":\"2021-10-06T09:20:00+07:00\",\"end\":\"check-out\",\"scans\":2},"
             "{\"person\":\"09******03\",\"from\":\"2021-10-06T10:00:00+07:00\","
             "\"to\":\"2021-10-06T11:00:00+07:00\",\"end\":\"default stay\",\"scans\":1}],"
             "\"people\":3,\"as_of\":",
             f->cafe_hex);
    if (strncmp(r.body, want, strlen(want)) != 0) print_error("%s\n", r.body);
    assert_memory_equal(r.body, want, strlen(want));
    tv_resp_free(&r);
    /* the day by default is today: nobody yet */
    visits(f, &q, &r, f->cafe_hex, NULL, "lan", "clerk");
    web_assert_status(&r, 200);
    assert_non_null(strstr(r.body, "\"visits\":[],\"people\":0,"));
    tv_resp_free(&r);
}

static void test_refusals(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    visits(f, &q, &r, f->cafe_hex, "2021-13-01", "lan", "clerk");
    web_assert_error(&r, 400, "day_invalid",
                     "--date takes YYYY-MM-DD or 'today', not '2021-13-01'.");
    visits(f, &q, &r, f->cafe_hex, "06/10/2021", "lan", "clerk");
    web_assert_error(&r, 400, "day_invalid",
                     "--date takes YYYY-MM-DD or 'today', not '06/10/2021'.");
    visits(f, &q, &r, "00112233445566ff", "2021-10-06", "lan", "clerk");
    web_assert_error(&r, 404, "venue_unknown",
                     "no venue 00112233445566ff on this node. 'truyvet venue list' shows the "
                     "venues, their ids and short codes.");
}

static void test_who(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    /* the market's controller: its own venue, not the café */
    visits(f, &q, &r, f->market_hex, "2021-10-06", "0912345678", "controller");
    web_assert_status(&r, 200);
    assert_non_null(
        strstr(r.body, "\"person\":\"09******01\",\"from\":\"2021-10-06T08:30:00+07:00\""));
    tv_resp_free(&r);
    visits(f, &q, &r, f->cafe_hex, "2021-10-06", "0912345678", "controller");
    web_assert_error(&r, 403, "forbidden", "this venue is not one of yours.");
    visits(f, &q, &r, f->cafe_hex, "2021-10-06", "bao", "guard");
    web_assert_error(&r, 403, "forbidden", "this account's role may not do this.");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_visits, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, web_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_who, setup, web_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
