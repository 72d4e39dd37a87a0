/* Tests of the store over a real LMDB environment: views independent of the order of arrival, scan
 * indexes and daily aggregates, a venue's registration and its registrar (store/views.c). */
#include "store_util.h"

#define ORIGINS 3

#define BATCHES_PER_ORIGIN 4

#define VENUES 3

_Static_assert(VENUES == ORIGINS, "each origin registers one venue");

typedef struct log_set {
    uint8_t *buf[ORIGINS][BATCHES_PER_ORIGIN];
    size_t len[ORIGINS][BATCHES_PER_ORIGIN];
    uint64_t last_seq[ORIGINS][BATCHES_PER_ORIGIN];
    uint8_t venue[VENUES][TV_VENUE_ID_BYTES]; /* venue v is registered by origin v */
} log_set;

/* Three origins each write a few batches of venue upserts (random fields, colliding HLCs
 * across origins on purpose) and scans. Origin v registers venue v as the first event of
 * its log and writes only about it in its first batch (an origin writes about another's
 * venue once it holds the registration); from its second batch on, it writes about any
 * of the three. */
static void make_logs(log_set *ls, fx_rng *rng)
{
    static const char *const names[] = {"Chợ Vĩnh Hải", "Quán Bà Tư", "Trường Tiểu học",
                                        "Nhà văn hoá", "Cà phê Sóng"};
    static const char *const villages[] = {"Tổ 1", "Tổ 2", "Thôn Đông", ""};
    for (int v = 0; v < VENUES; v++) {
        crdt_identity id;
        test_identity(&id, (uint8_t)(20 + v));
        test_venue_id(ls->venue[v], id.pk, 0x10 + (uint64_t)v, NULL);
    }
    for (int o = 0; o < ORIGINS; o++) {
        crdt_identity id;
        test_identity(&id, (uint8_t)(20 + o));
        uint8_t tag[VENUES][3][CRDT_TAG_BYTES];
        int added[VENUES][3] = {{0}};
        uint8_t prev[TV_HASH_BYTES];
        uint64_t seq = 1, hlc = 1000;
        for (int bi = 0; bi < BATCHES_PER_ORIGIN; bi++) {
            crdt_batch_builder b;
            crdt_batch_builder_init(&b);
            uint32_t n = 1 + (uint32_t)fx_rng_below(rng, 6);
            for (uint32_t e = 0; e < n; e++) {
                hlc += 1 + fx_rng_below(rng, 3); /* small steps: HLCs collide across origins */
                uint64_t kind = fx_rng_below(rng, 6);
                int venue = bi == 0 ? o : (int)fx_rng_below(rng, VENUES);
                if (bi == 0 && e == 0) kind = 6; /* the registration */
                static const char *const phones[] = {"0911000001", "0911000002", "0911000003"};
                if (kind == 3) {
                    /* a controller added, or the adds of one phone this origin saw removed */
                    int v = venue, ph = (int)fx_rng_below(rng, 3);
                    crdt_controller c = {.unit = {"22333", 5}, .phone = {phones[ph], 10}};
                    memcpy(c.venue, ls->venue[v], TV_VENUE_ID_BYTES);
                    uint32_t type = CRDT_EV_CONTROLLER_ADD;
                    if (fx_rng_below(rng, 2) && added[v][ph]) {
                        type = CRDT_EV_CONTROLLER_REMOVE;
                        c.tags = tag[v][ph];
                        c.ntags = 1;
                    } else {
                        memcpy(tag[v][ph], id.pk, TV_NODE_ID_BYTES);
                        test_be64(tag[v][ph] + TV_NODE_ID_BYTES, seq + e);
                        added[v][ph] = 1;
                    }
                    assert_int_equal(crdt_event_pack_controller(&b.pk, type, hlc, &c), 0);
                } else if (kind == 4) {
                    crdt_reminder r = {.unit = {"22333", 5},
                                       .note = {"chưa quét", fx_rng_below(rng, 2) ? 10 : 0},
                                       .action = fx_rng_below(rng, 4) == 0 ? CRDT_REINSTATE
                                                                           : CRDT_REMIND};
                    memcpy(r.venue, ls->venue[venue], TV_VENUE_ID_BYTES);
                    assert_int_equal(crdt_event_pack_reminder(&b.pk, hlc, &r), 0);
                } else if (kind == 5) {
                    static const uint8_t box[60] = {1, 2, 3};
                    crdt_person pe = {.unit = {"22333", 5},
                                      .name_masked = {"Nguyễn V** A", 14},
                                      .id_masked = {"09******78", 10},
                                      .birth_year = 1990 + (uint32_t)fx_rng_below(rng, 3),
                                      .nsealed = 1};
                    memset(pe.person, (int)fx_rng_below(rng, 4), TV_PERSON_REF_BYTES);
                    pe.sealed[0] = (crdt_sealed){.box = box, .len = sizeof box};
                    assert_int_equal(crdt_event_pack_person(&b.pk, hlc, &pe), 0);
                } else if (kind == 0) {
                    crdt_scan sc =
                        test_scan((uint32_t)fx_rng_next(rng),
                                  1633482000000LL + (int64_t)fx_rng_below(rng, 3) * 86400000LL);
                    memcpy(sc.venue, ls->venue[venue], TV_VENUE_ID_BYTES);
                    assert_int_equal(crdt_event_pack_scan(&b.pk, hlc, &sc), 0);
                } else {
                    /* random fields; every upsert names the registered unit (V2) */
                    crdt_venue_upsert u = {
                        .fields = 1 + (uint32_t)fx_rng_below(rng, (1u << CRDT_VENUE_FIELDS) - 1)};
                    u.fields |= CRDT_VENUE_F_UNIT;
                    if (kind == 6) {
                        test_venue_register(&u, id.pk, 0x10 + (uint64_t)o, "22333", "");
                        u.fields = CRDT_VENUE_F_UNIT | (uint32_t)fx_rng_below(rng, 64);
                    }
                    const char *name = names[fx_rng_below(rng, 5)];
                    const char *village = villages[fx_rng_below(rng, 4)];
                    memcpy(u.venue, ls->venue[venue], TV_VENUE_ID_BYTES);
                    u.unit = (crdt_text){"22333", 5};
                    u.name = (crdt_text){name, (uint32_t)strlen(name)};
                    u.village = (crdt_text){village, (uint32_t)strlen(village)};
                    u.owner_phone = (crdt_text){"0912345678", 10};
                    u.category = 1 + (uint32_t)fx_rng_below(rng, 25);
                    assert_int_equal(crdt_event_pack_venue(&b.pk, hlc, &u), 0);
                }
                crdt_batch_builder_note(&b, hlc);
            }
            uint8_t h[TV_HASH_BYTES];
            assert_int_equal(crdt_batch_seal(&b, &id, seq, seq == 1 ? NULL : prev, &ls->buf[o][bi],
                                             &ls->len[o][bi], h),
                             0);
            memcpy(prev, h, sizeof h);
            seq += n;
            ls->last_seq[o][bi] = seq - 1;
            crdt_batch_builder_release(&b);
        }
    }
}

typedef struct view_buf {
    uint8_t *out;
    size_t *n, cap;
} view_buf;

static int controller_out(const char *phone, uint64_t hlc, void *arg)
{
    (void)hlc; /* which live add is reported depends on key order, not on arrival */
    view_buf *b = arg;
    size_t len = strlen(phone) + 1;
    assert_true(*b->n + len <= b->cap);
    memcpy(b->out + *b->n, phone, len);
    *b->n += len;
    return 0;
}

/* Applies every batch in a random interleaving that keeps each origin's own order, at a
 * receiver whose certificate covers the venues' unit (so a batch about a venue whose
 * registration has not arrived yet is parked, and let through when it arrives), and
 * returns the venue views, venue statuses and controllers, person records and the
 * aggregates as one byte string. Counts the batches parked into *parked. */
static size_t apply_shuffled(const log_set *ls, fx_rng *rng, uint8_t *out, size_t cap, int *parked)
{
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity who[ORIGINS + 1];
    const crdt_identity *ids[ORIGINS + 1];
    for (int i = 0; i <= ORIGINS; i++) {
        test_identity(&who[i], (uint8_t)(20 + i)); /* who[ORIGINS]: the receiver */
        ids[i] = &who[i];
    }
    trust(s, ids, ORIGINS + 1);
    be_node(s, &who[ORIGINS]);
    int next[ORIGINS] = {0}; /* each origin's first batch not held yet */
    for (int rounds = 0;; rounds++) {
        int o, left = 0;
        for (o = 0; o < ORIGINS; o++)
            left += next[o] < BATCHES_PER_ORIGIN;
        if (!left) break;
        if (rounds > 100 * ORIGINS * BATCHES_PER_ORIGIN) fail_msg("parked batches never released");
        do
            o = (int)fx_rng_below(rng, ORIGINS);
        while (next[o] == BATCHES_PER_ORIGIN);
        /* a sender offers its next batch not yet held, again if it was parked */
        store_apply_result r;
        int rc = apply(s, ls->buf[o][next[o]], ls->len[o][next[o]], &r);
        if (rc == TV_EPARKED) {
            assert_string_equal(r.rule, STORE_RULE_V3);
            (*parked)++;
        } else if (rc) {
            fail_msg("origin %d batch %d: %s (%s)", o, next[o], tv_strerror(rc),
                     r.rule ? r.rule : "-");
        }
        /* what was applied, or released from the park by it, is held */
        for (int i = 0; i < ORIGINS; i++) {
            uint64_t held = frontier(s, who[i].pk).seq;
            while (next[i] < BATCHES_PER_ORIGIN && ls->last_seq[i][next[i]] <= held)
                next[i]++;
        }
    }
    assert_int_equal(parked_now(s), 0);
    size_t n = 0;
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    for (int v = 0; v < VENUES; v++) {
        const uint8_t *raw;
        size_t len;
        if (store_venue_raw(t, ls->venue[v], &raw, &len) != 0) continue;
        assert_true(n + len <= cap);
        memcpy(out + n, raw, len);
        n += len;
    }
    for (int v = 0; v < VENUES; v++) {
        store_venue_status st;
        assert_int_equal(store_venue_status_get(t, ls->venue[v], &st), 0);
        assert_true(n + sizeof st <= cap);
        memcpy(out + n, &st, sizeof st);
        n += sizeof st;
        view_buf vb = {out, &n, cap};
        assert_int_equal(store_controllers_foreach(t, ls->venue[v], controller_out, &vb), 0);
    }
    for (int p = 0; p < 4; p++) {
        uint8_t ref[TV_PERSON_REF_BYTES];
        memset(ref, p, sizeof ref);
        store_person pr;
        if (store_person_get(t, ref, &pr) != 0) continue;
        assert_true(n + pr.raw_len + 8 <= cap);
        memcpy(out + n, pr.raw, pr.raw_len);
        n += pr.raw_len;
        memcpy(out + n, &pr.seq, 8);
        n += 8;
    }
    for (int32_t day = 18905; day <= 18909; day++) {
        store_agg a;
        assert_int_equal(store_agg_get(t, "22333", day, &a), 0);
        assert_true(n + sizeof a <= cap);
        memcpy(out + n, &a, sizeof a);
        n += sizeof a;
    }
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
    return n;
}

static void test_views_independent_of_order(void **state)
{
    (void)state;
    int parked = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        fx_rng rng = {seed};
        log_set ls;
        make_logs(&ls, &rng);
        static uint8_t first[65536], again[65536];
        size_t n1 = apply_shuffled(&ls, &rng, first, sizeof first, &parked);
        assert_true(n1 > 0);
        for (int perm = 0; perm < 6; perm++) {
            size_t n2 = apply_shuffled(&ls, &rng, again, sizeof again, &parked);
            assert_int_equal(n1, n2);
            if (memcmp(first, again, n1) != 0)
                fail_msg("seed %llu permutation %d: views differ", (unsigned long long)seed, perm);
        }
        for (int o = 0; o < ORIGINS; o++)
            for (int b = 0; b < BATCHES_PER_ORIGIN; b++)
                free(ls.buf[o][b]);
    }
    assert_true(parked > 0); /* some orders did make batches wait for a registration */
}

static void test_indexes_and_aggregates(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity id;
    test_identity(&id, 9);
    const crdt_identity *ids[] = {&id};
    trust(s, ids, 1);
    const int64_t day0 = 1633453200000LL; /* 2021-10-06T00:00:00+07:00 */
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    /* the origin registers venues A and B first (seq 1 and 2) */
    uint8_t venues[2][TV_VENUE_ID_BYTES];
    for (int i = 0; i < 2; i++) {
        crdt_venue_upsert reg;
        test_venue_register(&reg, id.pk, 0xA + (uint64_t)i, "22333", i ? "Quán B" : "Chợ A");
        memcpy(venues[i], reg.venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_venue(&b.pk, 8 + (uint64_t)i, &reg), 0);
        crdt_batch_builder_note(&b, 8 + (uint64_t)i);
    }
    /* venue A: person P in at 08:00 and out at 09:00 on day 0, in at 23:59 (day 0);
     * venue B: person Q in at 00:00 on day 1 (a new Vietnamese day) */
    struct {
        int venue, person, dir;
        int64_t at;
    } rows[] = {{0, 1, CRDT_DIR_IN, day0 + 8 * 3600000LL},
                {0, 1, CRDT_DIR_OUT, day0 + 9 * 3600000LL},
                {0, 2, CRDT_DIR_IN, day0 + 86400000LL - 60000},
                {1, 2, CRDT_DIR_IN, day0 + 86400000LL}};
    for (int i = 0; i < 4; i++) {
        crdt_scan sc = test_scan(0, rows[i].at);
        memcpy(sc.venue, venues[rows[i].venue], TV_VENUE_ID_BYTES);
        memset(sc.person, rows[i].person, TV_PERSON_REF_BYTES);
        sc.direction = (uint8_t)rows[i].dir;
        assert_int_equal(crdt_event_pack_scan(&b.pk, 10 + (uint64_t)i, &sc), 0);
        crdt_batch_builder_note(&b, 10 + (uint64_t)i);
    }
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    assert_int_equal(crdt_batch_seal(&b, &id, 1, NULL, &buf, &len, h), 0);
    crdt_batch_builder_release(&b);
    assert_int_equal(apply(s, buf, len, NULL), 0);
    free(buf);
    /* a second batch with one more check-in at venue A on day 0: still one active venue */
    crdt_batch_builder_init(&b);
    crdt_scan more = test_scan(0, day0 + 12 * 3600000LL);
    memcpy(more.venue, venues[0], TV_VENUE_ID_BYTES);
    more.direction = CRDT_DIR_IN;
    assert_int_equal(crdt_event_pack_scan(&b.pk, 20, &more), 0);
    crdt_batch_builder_note(&b, 20);
    assert_int_equal(crdt_batch_seal(&b, &id, 7, h, &buf, &len, h), 0);
    crdt_batch_builder_release(&b);
    assert_int_equal(apply(s, buf, len, NULL), 0);

    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    const uint8_t *va = venues[0];
    uint8_t p2[TV_PERSON_REF_BYTES];
    memset(p2, 2, sizeof p2);
    collect c = {0};
    assert_int_equal(store_scans_by_venue(t, va, day0, day0 + 86400000LL, collect_fn, &c), 0);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.s[0].at_ms, day0 + 8 * 3600000LL);
    assert_int_equal(c.s[1].direction, CRDT_DIR_OUT);
    assert_int_equal(c.s[2].seq, 7); /* 12:00, recorded last, sorts by time */
    assert_int_equal(c.s[3].seq, 5);
    c.n = 0; /* a wide range over days with and without data */
    assert_int_equal(
        store_scans_by_venue(t, va, day0 - 40 * 86400000LL, day0 + 40 * 86400000LL, collect_fn, &c),
        0);
    assert_int_equal(c.n, 4);
    c.n = 0; /* the end of the range is exclusive */
    assert_int_equal(store_scans_by_venue(t, va, day0, day0 + 9 * 3600000LL, collect_fn, &c), 0);
    assert_int_equal(c.n, 1);
    c.n = 0;
    assert_int_equal(store_scans_by_person(t, p2, 0, INT64_MAX, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_memory_equal(c.s[0].venue, venues[0], TV_VENUE_ID_BYTES);
    assert_memory_equal(c.s[1].venue, venues[1], TV_VENUE_ID_BYTES);

    store_agg a;
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(day0), &a), 0);
    assert_int_equal(a.scans_in, 3);
    assert_int_equal(a.scans_out, 1);
    assert_int_equal(a.venues_active, 1);
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(day0) + 1, &a), 0);
    assert_int_equal(a.scans_in, 1);
    assert_int_equal(a.venues_active, 1);
    assert_int_equal(crdt_hll_estimate(a.visitors), 1);
    assert_int_equal(store_agg_get(t, "99999", crdt_day_vn(day0), &a), 0);
    assert_int_equal(a.scans_in, 0);
    /* distinct visitors: P0, P1, P2 in on day 0 (P1's check-out is no visit), P2 again on
     * day 1 -- three people over the two days, not four */
    assert_int_equal(store_agg_get(t, "22333", crdt_day_vn(day0), &a), 0);
    assert_int_equal(crdt_hll_estimate(a.visitors), 3);
    assert_int_equal(store_agg_sum(t, "22333", crdt_day_vn(day0), crdt_day_vn(day0) + 1, &a), 0);
    assert_int_equal(a.scans_in, 4);
    assert_int_equal(a.venues_active, 2);
    assert_int_equal(crdt_hll_estimate(a.visitors), 3);
    store_read_end(t);
    store_close(s);
    free(buf);
    test_rmdir(dir);
}

static int venue_of(store *s, const uint8_t *id, store_venue *v)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_venue_get(t, id, v);
    store_read_end(t);
    return rc;
}

/* V1: a registration is accepted only from the origin its venue id derives from: claiming
 * another node's id, or a nonce that does not give the id, is refused with nothing kept. */
static void test_registration_by_its_registrar(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a, b;
    test_identity(&a, 40);
    test_identity(&b, 41);
    const crdt_identity *ids[] = {&a, &b};
    trust(s, ids, 2);
    one_log la = {.s = s, .id = &a}, lb = {.s = s, .id = &b};
    store_venue *sv = malloc(sizeof *sv);

    /* a registers the id b's nonce derives under b's key */
    crdt_venue_upsert theirs, bad;
    test_venue_register(&theirs, b.pk, 1, "22333", "Chợ Vĩnh Hải");
    assert_int_equal(log_registration(&la, &theirs), TV_ESCOPE);
    assert_non_null(la.rule);
    assert_string_equal(la.rule, STORE_RULE_V1);
    /* a's own id with another nonce */
    test_venue_register(&bad, a.pk, 2, "22333", "Quán Bà Tư");
    bad.nonce[0] ^= 1;
    assert_int_equal(log_registration(&la, &bad), TV_ESCOPE);
    assert_string_equal(la.rule, STORE_RULE_V1);
    assert_int_equal(frontier(s, a.pk).seq, 0);
    assert_int_equal(counts(s).events, 0);
    assert_int_equal(venue_of(s, theirs.venue, sv), TV_ENOTFOUND);
    assert_int_equal(venue_of(s, bad.venue, sv), TV_ENOTFOUND);

    /* each registers its own */
    assert_int_equal(log_registration(&lb, &theirs), 0);
    bad.nonce[0] ^= 1;
    assert_int_equal(log_registration(&la, &bad), 0);
    assert_int_equal(venue_of(s, theirs.venue, sv), 0);
    assert_string_equal(sv->name, "Chợ Vĩnh Hải");
    assert_int_equal(venue_of(s, bad.venue, sv), 0);
    assert_string_equal(sv->name, "Quán Bà Tư");
    free(sv);
    store_close(s);
    test_rmdir(dir);
}

/* Authority before time: the registrar's upserts outrank a district's, whatever their HLCs,
 * in either order of arrival; a field the registrar never set takes the district's. */
static void test_registrar_outranks_time(void **state)
{
    (void)state;
    const int64_t t0 = 1633482000000LL;
    for (int order = 0; order < 2; order++) {
        char *dir = test_tmpdir();
        store *s;
        assert_int_equal(store_open(&s, dir, NULL), 0);
        crdt_identity c, d;
        test_identity(&c, 49);
        test_identity(&d, 50);
        const crdt_identity *ids[] = {&c};
        trust(s, ids, 1);
        certify(s, &d, CRDT_ROLE_DISTRICT, "568", "22333", NULL);
        one_log lc = {.s = s, .id = &c}, ld = {.s = s, .id = &d};
        crdt_venue_upsert reg;
        test_venue_register(&reg, c.pk, 1, "22333", "Chợ A");
        lc.next_ms = t0;
        assert_int_equal(log_registration(&lc, &reg), 0);
        store_venue *v = malloc(sizeof *v);

        /* the district renames it later (by HLC) and names its village */
        crdt_batch_builder b;
        ld.next_ms = t0 + 10 * 60000;
        log_begin(&ld, &b);
        crdt_venue_upsert up = {.fields =
                                    CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME | CRDT_VENUE_F_VILLAGE,
                                .unit = {"22333", 5},
                                .name = {"Chợ B", (uint32_t)strlen("Chợ B")},
                                .village = {"Tổ 1", (uint32_t)strlen("Tổ 1")}};
        memcpy(up.venue, reg.venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_venue(&b.pk, ld.hlc, &up), 0);
        if (order == 0) {
            assert_int_equal(log_try_end(&ld, &b), 0);
            assert_int_equal(venue_of(s, reg.venue, v), 0);
            assert_string_equal(v->name, "Chợ A"); /* the registrar's stands */
            assert_string_equal(v->village, "Tổ 1");
        }
        /* the registrar renames it, with a smaller HLC than the district's */
        lc.next_ms = t0 + 5 * 60000;
        assert_int_equal(log_about(&lc, ABOUT_UPSERT, reg.venue, "22333", "Chợ C"), 0);
        if (order == 1) assert_int_equal(log_try_end(&ld, &b), 0);
        assert_int_equal(venue_of(s, reg.venue, v), 0);
        assert_string_equal(v->name, "Chợ C");
        assert_string_equal(v->village, "Tổ 1");
        assert_string_equal(v->unit, "22333");
        free(v);
        store_close(s);
        test_rmdir(dir);
    }
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_views_independent_of_order),
        cmocka_unit_test(test_indexes_and_aggregates),
        cmocka_unit_test(test_registration_by_its_registrar),
        cmocka_unit_test(test_registrar_outranks_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
