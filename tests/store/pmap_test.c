/* Tests of the store over a real LMDB environment: key grants and the pseudonym map of a health
 * node (store/pmap.c). */
#include "store_util.h"

static int log_grant(one_log *l, const uint8_t *subject, const char *unit)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    uint8_t box[CRDT_GRANT_BOX_BYTES];
    memset(box, 0x5c, sizeof box);
    crdt_key_grant g = {.unit = {unit, (uint32_t)strlen(unit)}, .box = box};
    memcpy(g.subject, subject, TV_NODE_ID_BYTES);
    assert_int_equal(crdt_event_pack_grant(&b.pk, l->hlc, &g), 0);
    return log_try_end(l, &b);
}

static int grant_count(const store_grant *g, void *arg)
{
    (void)g;
    ++*(int *)arg;
    return 0;
}

static int grants_to(store *s, const uint8_t *subject)
{
    store_txn *t;
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_grants_of(t, subject, grant_count, &n), 0);
    store_read_end(t);
    return n;
}

/* A key grant is taken from a health node whose scope covers its unit only: a commune
 * (no health flag) and a health district granting outside its scope are refused (S1). */
static void test_key_grant_authors(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity commune, root, district;
    test_identity(&commune, 3);
    test_identity(&root, 0xee);
    test_identity(&district, 0x44);
    const crdt_identity *ids[] = {&commune};
    trust(s, ids, 1);
    assert_int_equal(store_write(s, health_node_fn, &district), 0); /* health, 22333-22334 */
    one_log lc = {.s = s, .id = &commune}, lp = {.s = s, .id = &root},
            ld = {.s = s, .id = &district};
    assert_int_equal(log_grant(&lc, commune.pk, "22333"), TV_ESCOPE);
    assert_string_equal(lc.rule, STORE_RULE_S1);
    assert_int_equal(log_grant(&ld, commune.pk, "22335"), TV_ESCOPE);
    assert_string_equal(ld.rule, STORE_RULE_S1);
    assert_int_equal(grants_to(s, commune.pk), 0);
    assert_int_equal(frontier(s, commune.pk).seq, 0);
    assert_int_equal(frontier(s, district.pk).seq, 0);
    assert_int_equal(log_grant(&ld, commune.pk, "22333"), 0);
    assert_int_equal(log_grant(&lp, commune.pk, "22333"), 0);
    assert_int_equal(grants_to(s, commune.pk), 2);
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_grant_held(t, commune.pk, root.pk), 1);
    assert_int_equal(store_grant_held(t, root.pk, commune.pk), 0);
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
}

typedef struct pmap_put_ctx {
    const uint8_t *ref, *pref;
    const char *unit;
    uint64_t hlc;
    int rc;
} pmap_put_ctx;

static int pmap_put_fn(store_txn *t, void *arg)
{
    pmap_put_ctx *c = arg;
    c->rc = store_pmap_put(t, c->ref, c->pref, c->unit, c->hlc);
    return c->rc == TV_EEXIST ? 0 : c->rc;
}

typedef struct ref_count {
    int n;
} ref_count;

static int count_ref(const store_scan_ref *r, void *arg)
{
    (void)r;
    ((ref_count *)arg)->n++;
    return 0;
}

static ref_count scans_by_ref(store *s, const uint8_t *ref)
{
    store_txn *t;
    ref_count c = {0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_scans_by_person(t, ref, 0, CRDT_TIME_MS_MAX, count_ref, &c), 0);
    store_read_end(t);
    return c;
}

static int venue_person(const store_scan_ref *r, void *arg)
{
    const uint8_t *want = arg;
    assert_memory_equal(r->person, want, TV_PERSON_REF_BYTES);
    return 0;
}

/* A mapped commune ref: its scans indexed before and after the mapping are found under the
 * province ref only, in both indexes; an unmappable mark leaves them as they are; the
 * daily figures keep the ref the scans carry. */
static void test_pseudonym_map(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity commune;
    test_identity(&commune, 3);
    const crdt_identity *ids[] = {&commune};
    trust(s, ids, 1);
    one_log lc = {.s = s, .id = &commune};
    uint8_t venue[TV_VENUE_ID_BYTES];
    log_register(&lc, 11, venue);
    crdt_scan sc = test_scan(1, 0);
    uint8_t ref[TV_PERSON_REF_BYTES], pref[TV_PERSON_REF_BYTES];
    memcpy(ref, sc.person, sizeof ref);
    memset(pref, 0xab, sizeof pref);
    log_scan(&lc, venue);
    log_scan(&lc, venue);
    int32_t day = crdt_day_vn(1633482000000LL);
    store_agg before = agg_of(s, "22333", day);
    assert_int_equal(scans_by_ref(s, ref).n, 2);

    /* examined, unmappable: nothing moves */
    pmap_put_ctx c = {.ref = ref, .pref = NULL, .unit = "22333", .hlc = 5};
    assert_int_equal(store_write(s, pmap_put_fn, &c), 0);
    assert_int_equal(scans_by_ref(s, ref).n, 2);
    store_txn *t;
    uint64_t hlc = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_pmap_get(t, ref, NULL, NULL, &hlc), 0);
    store_read_end(t);
    assert_int_equal(hlc, 5);

    c = (pmap_put_ctx){.ref = ref, .pref = pref, .unit = "22333", .hlc = 6};
    assert_int_equal(store_write(s, pmap_put_fn, &c), 0);
    assert_int_equal(scans_by_ref(s, pref).n, 2);
    assert_int_equal(scans_by_ref(s, ref).n, 2); /* the commune's ref finds them too */
    log_scan(&lc, venue); /* after the mapping: straight under the province ref */
    assert_int_equal(scans_by_ref(s, pref).n, 3);
    assert_int_equal(scans_by_ref(s, ref).n, 3);
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_scans_by_venue(t, venue, 0, CRDT_TIME_MS_MAX, venue_person, pref), 0);
    char unit[TV_UNIT_CODE_MAX + 1];
    uint8_t got[TV_PERSON_REF_BYTES];
    assert_int_equal(store_pmap_get(t, ref, got, unit, &hlc), 1);
    assert_memory_equal(got, pref, sizeof got);
    assert_string_equal(unit, "22333");
    store_read_end(t);
    /* mapped once: a second mapping is refused */
    uint8_t other[TV_PERSON_REF_BYTES];
    memset(other, 0xcd, sizeof other);
    c = (pmap_put_ctx){.ref = ref, .pref = other, .unit = "22333", .hlc = 7};
    assert_int_equal(store_write(s, pmap_put_fn, &c), 0);
    assert_int_equal(c.rc, TV_EEXIST);
    assert_int_equal(scans_by_ref(s, pref).n, 3);
    /* the figures count the scans' own refs, mapped or not */
    store_agg after = agg_of(s, "22333", day);
    assert_int_equal(after.scans_in + after.scans_out, before.scans_in + before.scans_out + 1);
    assert_memory_equal(after.visitors, before.visitors, sizeof before.visitors);
    store_close(s);
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_grant_authors),
        cmocka_unit_test(test_pseudonym_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
