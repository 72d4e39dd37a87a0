/* Tests of the store over a real LMDB environment: venue compliance: reminders and suspension, a
 * venue's controllers (store/people.c). */
#include "store_util.h"

static void log_reminder(one_log *l, const uint8_t *venue, uint8_t action)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_reminder r = {.unit = {"22333", 5}, .action = action};
    memcpy(r.venue, venue, TV_VENUE_ID_BYTES);
    assert_int_equal(crdt_event_pack_reminder(&b.pk, l->hlc, &r), 0);
    log_end(l, &b);
}

static store_venue_status venue_status(store *s, const uint8_t *venue)
{
    store_txn *t;
    store_venue_status st;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_venue_status_get(t, venue, &st), 0);
    store_read_end(t);
    return st;
}

/* Three reminders suspend a venue; a scan recorded after them, or a reinstatement, lifts
 * the suspension; reminders before a scan do not count towards the next one. */
static void test_reminders_suspend(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity id;
    test_identity(&id, 3);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    one_log l = {.s = s, .id = &id};
    uint8_t venue[TV_VENUE_ID_BYTES];
    log_register(&l, 9, venue);

    log_reminder(&l, venue, CRDT_REMIND);
    log_reminder(&l, venue, CRDT_REMIND);
    store_venue_status st = venue_status(s, venue);
    assert_int_equal(st.reminders, 2);
    assert_false(st.suspended);
    assert_true(st.last_scan_ms == INT64_MIN);
    log_reminder(&l, venue, CRDT_REMIND);
    st = venue_status(s, venue);
    assert_int_equal(st.reminders_active, 3);
    assert_true(st.suspended);

    log_scan(&l, venue); /* the venue records a scan: back in order */
    st = venue_status(s, venue);
    assert_false(st.suspended);
    assert_int_equal(st.reminders_active, 0);
    assert_int_equal(st.reminders, 3);
    assert_true(st.last_scan_ms == (int64_t)crdt_hlc_ms(l.hlc));

    for (int i = 0; i < 3; i++)
        log_reminder(&l, venue, CRDT_REMIND);
    assert_true(venue_status(s, venue).suspended);
    log_reminder(&l, venue, CRDT_REINSTATE);
    st = venue_status(s, venue);
    assert_false(st.suspended);
    assert_int_equal(st.reminders, 6);
    /* the day's figures count the six reminders, not the reinstatement */
    store_txn *t;
    store_agg a;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(1633482000000LL), &a), 0);
    store_read_end(t);
    assert_int_equal(a.reminders, 6);
    assert_int_equal(a.scans_in + a.scans_out, 1);
    log_reminder(&l, venue, CRDT_REMIND);
    log_reminder(&l, venue, CRDT_REMIND);
    assert_false(venue_status(s, venue).suspended);
    log_reminder(&l, venue, CRDT_REMIND);
    assert_true(venue_status(s, venue).suspended);
    store_close(s);
    test_rmdir(dir);
}

typedef struct phones {
    char list[8][16];
    int n;
} phones;

static int collect_phone(const char *phone, uint64_t hlc, void *arg)
{
    (void)hlc;
    phones *p = arg;
    assert_true(p->n < 8);
    strcpy(p->list[p->n++], phone);
    return 0;
}

static phones controllers(store *s, const uint8_t *venue)
{
    store_txn *t;
    phones p = {.n = 0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_controllers_foreach(t, venue, collect_phone, &p), 0);
    store_read_end(t);
    return p;
}

static uint64_t log_controller(one_log *l, const uint8_t *venue, const char *phone,
                               const uint8_t *tags, uint32_t ntags)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_controller c = {.unit = {"22333", 5},
                         .phone = {phone, (uint32_t)strlen(phone)},
                         .tags = tags,
                         .ntags = ntags};
    memcpy(c.venue, venue, TV_VENUE_ID_BYTES);
    uint32_t type = ntags ? CRDT_EV_CONTROLLER_REMOVE : CRDT_EV_CONTROLLER_ADD;
    assert_int_equal(crdt_event_pack_controller(&b.pk, type, l->hlc, &c), 0);
    return log_end(l, &b);
}

/* Controllers are an observed-remove set: a remove takes away the adds it names, and an
 * add made concurrently elsewhere (not named) survives it. */
static void test_controllers_or_set(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a, b;
    test_identity(&a, 4);
    test_identity(&b, 5);
    const crdt_identity *ids[] = {&a, &b};
    trust(s, ids, 2);
    one_log la = {.s = s, .id = &a}, lb = {.s = s, .id = &b};
    uint8_t venue[TV_VENUE_ID_BYTES];
    log_register(&la, 7, venue); /* a's venue: b, of the same commune, writes about it too */

    uint64_t add1 = log_controller(&la, venue, "0911000001", NULL, 0);
    log_controller(&la, venue, "0911000002", NULL, 0);
    log_controller(&lb, venue, "0911000001", NULL, 0); /* b adds the same phone too */
    phones p = controllers(s, venue);
    assert_int_equal(p.n, 2);
    assert_string_equal(p.list[0], "0911000001");
    assert_string_equal(p.list[1], "0911000002");

    /* a removes the phone as it saw it (its own add only): b's add survives */
    uint8_t tag[CRDT_TAG_BYTES];
    memcpy(tag, a.pk, TV_NODE_ID_BYTES);
    test_be64(tag + TV_NODE_ID_BYTES, add1);
    log_controller(&la, venue, "0911000001", tag, 1);
    p = controllers(s, venue);
    assert_int_equal(p.n, 2);

    /* a remove naming every live add takes the phone away */
    store_txn *t;
    uint8_t tags[4 * CRDT_TAG_BYTES];
    uint32_t n;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_controller_tags(t, venue, "0911000001", tags, 4, &n), 0);
    store_read_end(t);
    assert_int_equal(n, 1);
    log_controller(&la, venue, "0911000001", tags, n);
    p = controllers(s, venue);
    assert_int_equal(p.n, 1);
    assert_string_equal(p.list[0], "0911000002");
    /* and adding it again brings it back */
    log_controller(&lb, venue, "0911000001", NULL, 0);
    assert_int_equal(controllers(s, venue).n, 2);
    store_close(s);
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reminders_suspend),
        cmocka_unit_test(test_controllers_or_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
