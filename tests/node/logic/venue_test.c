/* Tests of the venue logic (node/logic/venue.c) a command and a web console call, over a
 * real commune node, and of its JSON (node/render/venue.c). */
#include "crdt/error.h"
#include "node/logic/node.h"
#include "node/logic/venue.h"
#include "node/render/venue.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

typedef test_node fixture;

/* Registers a venue of the node's commune; its id into id. */
static void add(tv_node *n, const char *name, const char *village, const char *category,
                uint8_t id[TV_VENUE_ID_BYTES])
{
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){name, (uint32_t)strlen(name)};
    v.category = tv_venue_category_parse(category)->code;
    if (village) {
        v.fields |= CRDT_VENUE_F_VILLAGE;
        v.village = (crdt_text){village, (uint32_t)strlen(village)};
    }
    assert_int_equal(tv_venue_register(n, &v), 0);
    memcpy(id, v.venue, TV_VENUE_ID_BYTES);
}

static const store_venue *find(const tv_venue_list *l, const uint8_t id[TV_VENUE_ID_BYTES])
{
    for (size_t i = 0; i < l->n; i++)
        if (memcmp(l->v[i].id, id, TV_VENUE_ID_BYTES) == 0) return &l->v[i];
    return NULL;
}

static int count_until(const store_venue *v, void *arg)
{
    (void)v;
    int *left = arg;
    return --*left == 0 ? 7 : 0; /* stop at the given count */
}

static void test_values(void **state)
{
    (void)state;
    uint32_t c = 0;
    char hm[8];
    assert_int_equal(tv_venue_closes_parse("22:00", &c), 0);
    assert_int_equal(c, 22 * 60 + 1);
    tv_venue_closes_format(hm, c);
    assert_string_equal(hm, "22:00");
    assert_int_equal(tv_venue_closes_parse("7h", &c), 0);
    assert_int_equal(c, 7 * 60 + 1);
    assert_int_equal(tv_venue_closes_parse("9:05", &c), 0);
    tv_venue_closes_format(hm, c);
    assert_string_equal(hm, "09:05");
    assert_int_equal(tv_venue_closes_parse("none", &c), 0);
    assert_int_equal(c, CRDT_CLOSES_NONE);
    c = 42;
    assert_int_equal(tv_venue_closes_parse("24:00", &c), TV_EINVAL);
    assert_int_equal(tv_venue_closes_parse("22:0", &c), TV_EINVAL);
    assert_int_equal(tv_venue_closes_parse("", &c), TV_EINVAL);
    assert_int_equal(c, 42);
    assert_string_equal(tv_venue_category_parse("restaurant")->slug, "restaurant");
    assert_ptr_equal(tv_venue_category_parse("restaurant"),
                     tv_venue_category_parse(tv_venue_category_parse("restaurant")->name_vi));
    assert_null(tv_venue_category_parse("0"));
    assert_null(tv_venue_category_parse("no such kind"));
}

static void test_list_and_scope(void **state)
{
    fixture *f = *state;
    uint8_t a[TV_VENUE_ID_BYTES], b[TV_VENUE_ID_BYTES];
    add(&f->n, "Chợ Vĩnh Hải", "Tổ 3", "market", a);
    add(&f->n, "Quán Cơm Bà Ba", NULL, "restaurant", b);

    tv_venue_list l;
    assert_int_equal(tv_venue_list_get(&f->n, NULL, &l), 0);
    assert_int_equal(l.n, 2);
    const store_venue *va = find(&l, a), *vb = find(&l, b);
    assert_non_null(va);
    assert_non_null(vb);
    assert_string_equal(va->name, "Chợ Vĩnh Hải");
    assert_string_equal(va->village, "Tổ 3");
    assert_string_equal(va->unit, "22333");
    assert_int_equal(vb->category, tv_venue_category_parse("restaurant")->code);
    tv_venue_list_free(&l);
    int left = 5;
    assert_int_equal(tv_venue_each(&f->n, NULL, count_until, &left), 0);
    assert_int_equal(left, 3); /* both venues seen */
    left = 1;
    assert_int_equal(tv_venue_each(&f->n, NULL, count_until, &left), 7); /* stopped */

    /* the commune itself and its province hold both; another commune neither */
    tv_venue_scope s;
    assert_int_equal(tv_venue_scope_init(&f->n, "22333", &s), 0);
    assert_int_equal(tv_venue_list_get(&f->n, &s, &l), 0);
    assert_int_equal(l.n, 2);
    tv_venue_list_free(&l);
    tv_venue_scope_release(&s);
    assert_int_equal(tv_venue_scope_init(&f->n, "56", &s), 0);
    assert_true(tv_venue_scope_has(&s, "22333"));
    tv_venue_scope_release(&s);
    assert_int_equal(tv_venue_scope_init(&f->n, "22366", &s), 0);
    assert_false(tv_venue_scope_has(&s, "22333"));
    assert_int_equal(tv_venue_list_get(&f->n, &s, &l), 0);
    assert_int_equal(l.n, 0);
    tv_venue_list_free(&l);
    tv_venue_scope_release(&s);
    assert_int_equal(tv_venue_scope_init(&f->n, "99999", &s), TV_ENOTFOUND);
}

static void test_duplicate_and_edit(void **state)
{
    fixture *f = *state;
    uint8_t a[TV_VENUE_ID_BYTES];
    add(&f->n, "Chợ Vĩnh Hải", "Tổ 3", "market", a);
    crdt_venue_upsert v = {.category = tv_venue_category_parse("market")->code};
    v.name = (crdt_text){"CHO  vinh hai", 13}; /* case, marks and spaces aside */
    v.village = (crdt_text){"to 3", 4};
    store_venue found;
    assert_int_equal(tv_venue_duplicate(&f->n, &v, &found), 1);
    assert_memory_equal(found.id, a, TV_VENUE_ID_BYTES);
    v.category = tv_venue_category_parse("restaurant")->code;
    assert_int_equal(tv_venue_duplicate(&f->n, &v, &found), 0);

    crdt_venue_upsert e = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CLOSES};
    e.name = (crdt_text){"Chợ mới", (uint32_t)strlen("Chợ mới")};
    assert_int_equal(tv_venue_closes_parse("21:30", &e.closes), 0);
    assert_int_equal(tv_venue_edit(&f->n, a, &e), 0);
    tv_venue_list l;
    assert_int_equal(tv_venue_list_get(&f->n, NULL, &l), 0);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.v[0].name, "Chợ mới");
    assert_string_equal(l.v[0].village, "Tổ 3"); /* not given: unchanged */
    assert_int_equal(l.v[0].closes, 21 * 60 + 30 + 1);
    tv_venue_list_free(&l);
}

static void test_show_controllers_reminders(void **state)
{
    fixture *f = *state;
    uint8_t a[TV_VENUE_ID_BYTES];
    add(&f->n, "Quán Cơm Bà Ba", NULL, "restaurant", a);
    assert_int_equal(tv_venue_controller_add(&f->n, a, "0912345678"), 0);
    assert_int_equal(tv_venue_controller_add(&f->n, a, "0987654321"), 0);
    uint8_t tags[4 * CRDT_TAG_BYTES];
    uint32_t ntags = 0;
    assert_int_equal(tv_venue_controller_tags(&f->n, a, "0987654321", tags, 4, &ntags), 0);
    assert_int_equal(ntags, 1);
    assert_int_equal(tv_venue_controller_remove(&f->n, a, "0987654321", tags, ntags), 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(tv_venue_remind(&f->n, a, CRDT_REMIND, i == 0 ? "gọi điện" : NULL), 0);

    tv_venue_detail d;
    assert_int_equal(tv_venue_detail_get(&f->n, a, 1, &d), 0);
    assert_int_equal(d.nctrl, 1);
    assert_string_equal(d.ctrl[0].phone, "0912345678");
    assert_int_equal(d.nrem, 3);
    assert_int_equal(d.rem[0].action, CRDT_REMIND);
    assert_string_equal(d.rem[0].note, "gọi điện");
    assert_string_equal(d.rem[1].note, "");
    assert_int_equal(d.st.reminders, 3);
    assert_int_equal(d.st.reminders_active, 3);
    assert_true(d.st.suspended);
    assert_int_equal(d.st.last_scan_ms, INT64_MIN);

    /* the JSON a web console shows */
    store_venue v;
    store_txn *t;
    assert_int_equal(store_read_begin(f->n.st, &t), 0);
    assert_int_equal(store_venue_get(t, a, &v), 0);
    store_read_end(t);
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(tv_render_venue_show_json(m, &v, &d), 0);
    fclose(m);
    assert_non_null(strstr(buf, "\"name\":\"Quán Cơm Bà Ba\",\"category\":\"restaurant\""));
    assert_non_null(strstr(buf, "\"controllers\":[{\"phone\":\"0912345678\",\"added\":\""));
    assert_non_null(strstr(buf, "\"reminders\":3,\"reminders_active\":3,\"suspended\":true,"
                                "\"last_scan\":null"));
    assert_non_null(strstr(buf, "{\"time\":\""));
    assert_non_null(strstr(buf, "\",\"action\":\"remind\",\"note\":\"gọi điện\"}"));
    assert_int_equal(buf[len - 1], '\n');
    free(buf);

    /* without `all`, the controllers only */
    tv_venue_detail_free(&d);
    assert_int_equal(tv_venue_detail_get(&f->n, a, 0, &d), 0);
    assert_int_equal(d.nctrl, 1);
    assert_int_equal(d.nrem, 0);
    assert_int_equal(d.st.reminders, 0);
    tv_venue_detail_free(&d);

    assert_int_equal(tv_venue_remind(&f->n, a, CRDT_REINSTATE, "đã cam kết"), 0);
    store_venue_status st;
    assert_int_equal(tv_venue_status_get(&f->n, a, &st), 0);
    assert_false(st.suspended);
    assert_int_equal(st.reminders, 3);
    assert_int_equal(st.reminders_active, 0);
}

static void test_noncompliant(void **state)
{
    fixture *f = *state;
    uint8_t a[TV_VENUE_ID_BYTES], b[TV_VENUE_ID_BYTES], c[TV_VENUE_ID_BYTES];
    add(&f->n, "Chợ Vĩnh Hải", NULL, "market", a);
    add(&f->n, "Quán Cơm Bà Ba", NULL, "restaurant", b);
    add(&f->n, "Trường Tiểu học", NULL, "school", c);
    int64_t now = tv_wall_ms();
    crdt_scan s = test_scan(1, now - 60000);
    memcpy(s.venue, a, sizeof s.venue);
    assert_int_equal(tv_node_add_scan(&f->n, &s, NULL), 0);
    uint64_t seq;
    assert_int_equal(tv_node_commit(&f->n, &seq), 0);
    assert_int_equal(tv_venue_remind(&f->n, c, CRDT_REMIND, NULL), 0);

    /* a scanned in the last day; b and c never, c reminded first */
    tv_venue_nc nc;
    assert_int_equal(tv_venue_noncompliant(&f->n, NULL, now - 86400000, &nc), 0);
    assert_string_equal(nc.unit, "22333");
    assert_int_equal(nc.n, 2);
    assert_memory_equal(nc.rows[0].v.id, c, TV_VENUE_ID_BYTES);
    assert_int_equal(nc.rows[0].st.reminders, 1);
    assert_memory_equal(nc.rows[1].v.id, b, TV_VENUE_ID_BYTES);
    assert_int_equal(nc.rows[1].st.last_scan_ms, INT64_MIN);
    tv_venue_nc_free(&nc);

    /* asked for "since a minute from now", a's scan is old too */
    assert_int_equal(tv_venue_noncompliant(&f->n, NULL, now + 60000, &nc), 0);
    assert_int_equal(nc.n, 3);
    assert_memory_equal(nc.rows[2].v.id, a, TV_VENUE_ID_BYTES);
    assert_int_equal(nc.rows[2].st.last_scan_ms, now - 60000);
    tv_venue_nc_free(&nc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test_setup_teardown(test_list_and_scope, test_commune_setup,
                                        test_node_teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_and_edit, test_commune_setup,
                                        test_node_teardown),
        cmocka_unit_test_setup_teardown(test_show_controllers_reminders, test_commune_setup,
                                        test_node_teardown),
        cmocka_unit_test_setup_teardown(test_noncompliant, test_commune_setup, test_node_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
