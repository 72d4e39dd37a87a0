/* Tests of retention in the store (store/retention.c): only the root sets the period,
 * only a health node places holds, the purge removes old scans, person records and audit
 * rows but a held person's and the daily figures, and a compaction takes deleted bytes
 * out of the data file. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/sealed.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/fixture/certtree.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#define DAY_MS INT64_C(86400000)
static const int64_t T0 = 1633482000000LL; /* 2021-10-06 08:00 Vietnam */

typedef struct apply_ctx {
    const uint8_t *buf;
    size_t len;
    store_apply_result r;
    int rc;
} apply_ctx;

static int apply_fn(store_txn *t, void *arg)
{
    apply_ctx *c = arg;
    c->rc = store_apply_batch(t, c->buf, c->len, T0 + 60 * DAY_MS, &c->r);
    return c->rc == TV_ESTORE || c->rc == TV_ENOMEM ? c->rc : 0;
}

/* The root (the province, health flag) and a commune of 22333 under it. */
static crdt_identity root, commune;

/* Makes root the root of trust of s, and commune a commune of 22333 under it. */
static void trust(store *s)
{
    const crdt_identity *communes[] = {&commune};
    assert_int_equal(fx_trust_communes(s, &root, communes, 1, "22333"), 0);
}

/* The health audience's key of these tests (a province's pseudonym key, K_p). */
static const uint8_t health_key[CRDT_SEALED_KEY_BYTES] = {0x5a, 0x5a, 0x5a, 1, 2, 3};

static store *open_trusted(char **dir)
{
    test_identity(&root, 0xee);
    test_identity(&commune, 3);
    *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, *dir, NULL), 0);
    trust(s);
    store_sealed_key_set(s, health_key); /* the store of a health node */
    return s;
}

/* One origin's log, a batch per call of log_end. */
typedef struct one_log {
    store *s;
    const crdt_identity *id;
    uint64_t seq, hlc;
    uint8_t prev[TV_HASH_BYTES];
    crdt_batch_builder b;
    const char *rule;
    uint8_t *last; /* the last batch sealed (freed by the next, or by the test) */
    size_t last_len;
} one_log;

/* Applies buf to s: 0 or why it was refused (*r: what became of it). */
static int apply_to(store *s, const uint8_t *buf, size_t len, store_apply_result *r)
{
    apply_ctx c = {.buf = buf, .len = len};
    assert_int_equal(store_write(s, apply_fn, &c), 0);
    if (r) *r = c.r;
    return c.rc;
}

static void log_begin(one_log *l, int64_t ms)
{
    crdt_batch_builder_init(&l->b);
    uint64_t h = crdt_hlc_make((uint64_t)ms, 0);
    l->hlc = h > l->hlc ? h : l->hlc + 1;
}

/* The HLC of the batch's next event (noted in the batch). */
static uint64_t log_next_hlc(one_log *l)
{
    if (l->b.count) l->hlc++;
    crdt_batch_builder_note(&l->b, l->hlc);
    return l->hlc;
}

/* Seals and applies the batch: 0 or why it was refused. */
static int log_end(one_log *l)
{
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    assert_int_equal(
        crdt_batch_seal(&l->b, l->id, l->seq + 1, l->seq ? l->prev : NULL, &buf, &len, h), 0);
    uint32_t count = l->b.count;
    crdt_batch_builder_release(&l->b);
    apply_ctx c = {.buf = buf, .len = len};
    assert_int_equal(store_write(l->s, apply_fn, &c), 0);
    free(l->last);
    l->last = buf; /* kept, to apply elsewhere */
    l->last_len = len;
    l->rule = c.r.rule;
    if (c.rc == 0) {
        memcpy(l->prev, h, sizeof h);
        l->seq += count;
    }
    return c.rc;
}

static int log_retention(one_log *l, uint32_t days)
{
    log_begin(l, T0);
    crdt_retention r = {.days = days};
    assert_int_equal(crdt_event_pack_retention(&l->b.pk, log_next_hlc(l), &r), 0);
    return log_end(l);
}

/* Packs a reveal or a hold into the batch, sealed for the health audience (PROTOCOL.md
 * §2.7, §2.13); plain: in clear, as they travelled before. */
static void pack_health(one_log *l, uint32_t type, const void *ev, int plain)
{
    const uint64_t hlc = log_next_hlc(l);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_packer *to = plain ? &l->b.pk : &pk;
    assert_int_equal(type == CRDT_EV_HOLD ? crdt_event_pack_hold(to, hlc, ev)
                                          : crdt_event_pack_reveal(to, hlc, ev),
                     0);
    if (!plain) {
        uint8_t nonce[CRDT_SEALED_NONCE_BYTES] = {(uint8_t)l->seq, (uint8_t)hlc, 7};
        uint8_t box[CRDT_SEALED_BOX_BYTES_MAX];
        crdt_sealed_event se;
        assert_int_equal(crdt_sealed_seal(&se, box, (const uint8_t *)sb.data, sb.size, health_key,
                                          l->id->pk, nonce),
                         0);
        assert_int_equal(crdt_event_pack_sealed(&l->b.pk, hlc, &se), 0);
    }
    msgpack_sbuffer_destroy(&sb);
}

static int log_hold_as(one_log *l, const uint8_t *person, uint8_t action, int64_t ms, int plain)
{
    log_begin(l, ms);
    crdt_hold h = {.reason = {"điều tra ca F0", 16}, .action = action};
    memcpy(h.person, person, TV_PERSON_REF_BYTES);
    pack_health(l, CRDT_EV_HOLD, &h, plain);
    return log_end(l);
}

static int log_hold(one_log *l, const uint8_t *person, uint8_t action, int64_t ms)
{
    return log_hold_as(l, person, action, ms, 0);
}

static int log_reveal_as(one_log *l, const uint8_t *person, int64_t ms, int plain)
{
    log_begin(l, ms);
    crdt_reveal rv = {.reason = {"F1", 2}};
    memcpy(rv.person, person, TV_PERSON_REF_BYTES);
    pack_health(l, CRDT_EV_REVEAL, &rv, plain);
    return log_end(l);
}

/* A sealed case status under key (health_key: the health audience's; another: a commune's
 * notice). */
static int log_status(one_log *l, const uint8_t *person, uint8_t status, int64_t ms,
                      const uint8_t *key)
{
    log_begin(l, ms);
    const uint64_t hlc = log_next_hlc(l);
    crdt_case c = {.unit = {"22333", 5},
                   .status = status,
                   .onset_ms = status == CRDT_CASE_F0 ? ms - DAY_MS : CRDT_TIME_NONE,
                   .sampled_ms = CRDT_TIME_NONE,
                   .at_ms = CRDT_TIME_NONE};
    memcpy(c.person, person, TV_PERSON_REF_BYTES);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(crdt_event_pack_case(&pk, hlc, &c), 0);
    uint8_t nonce[CRDT_SEALED_NONCE_BYTES] = {(uint8_t)l->seq, (uint8_t)hlc, 9};
    uint8_t box[CRDT_SEALED_BOX_BYTES_MAX];
    crdt_sealed_event se;
    assert_int_equal(
        crdt_sealed_seal(&se, box, (const uint8_t *)sb.data, sb.size, key, l->id->pk, nonce), 0);
    assert_int_equal(crdt_event_pack_sealed(&l->b.pk, hlc, &se), 0);
    msgpack_sbuffer_destroy(&sb);
    return log_end(l);
}

static uint32_t retention_days(store *s, int *set)
{
    store_txn *t;
    store_retention r;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_retention_get(t, &r), 0);
    store_read_end(t);
    if (set) *set = r.set;
    return r.days;
}

typedef struct pmap_ctx {
    const uint8_t *ref, *pref;
} pmap_ctx;

static int pmap_fn(store_txn *t, void *arg)
{
    const pmap_ctx *m = arg;
    return store_pmap_put(t, m->ref, m->pref, "22333", 1);
}

static int held(store *s, const uint8_t *person)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    int h = store_held(t, person);
    store_read_end(t);
    return h;
}

/* R1: the period is the root's; a commune's retention event is refused, and leaves the
 * default in force. A hold comes from a health node only (S1). */
static void test_only_root_sets_retention(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir);
    one_log lc = {.s = s, .id = &commune}, lr = {.s = s, .id = &root};
    int set;
    assert_int_equal(retention_days(s, &set), CRDT_RETENTION_DAYS_DEFAULT);
    assert_int_equal(set, 0);

    assert_int_equal(log_retention(&lc, 3), TV_ESCOPE);
    assert_string_equal(lc.rule, STORE_RULE_R1);
    assert_int_equal(lc.seq, 0);
    assert_int_equal(retention_days(s, NULL), CRDT_RETENTION_DAYS_DEFAULT);

    assert_int_equal(log_retention(&lr, 14), 0);
    assert_int_equal(retention_days(s, &set), 14);
    assert_int_equal(set, 1);
    assert_int_equal(log_retention(&lr, 60), 0); /* later: it stands */
    assert_int_equal(retention_days(s, NULL), 60);

    const uint8_t person[TV_PERSON_REF_BYTES] = {9, 9, 9};
    assert_int_equal(log_hold(&lc, person, CRDT_HOLD_PLACE, T0), TV_ESCOPE);
    assert_string_equal(lc.rule, STORE_RULE_S2); /* only a health node seals */
    assert_int_equal(held(s, person), 0);
    assert_int_equal(log_hold(&lr, person, CRDT_HOLD_PLACE, T0), 0);
    assert_int_equal(held(s, person), 1);
    assert_int_equal(log_hold(&lr, person, CRDT_HOLD_LIFT, T0 + DAY_MS), 0);
    assert_int_equal(held(s, person), 0);
    free(lc.last);
    free(lr.last);
    store_close(s);
    test_rmdir(dir);
}

static int reveals(store *s);

/* S2: a reveal or a hold in clear names the person to every node that holds the log; it is
 * refused, even from the root, and leaves no trace. Sealed for the health audience, the
 * health node indexes them as before, and a commune's ref mapped to the province ref is
 * held with it. */
static void test_reveal_hold_sealed(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir);
    one_log lr = {.s = s, .id = &root};
    const uint8_t person[TV_PERSON_REF_BYTES] = {4, 4, 4}, local[TV_PERSON_REF_BYTES] = {5, 5};

    assert_int_equal(log_hold_as(&lr, person, CRDT_HOLD_PLACE, T0, 1), TV_ESCOPE);
    assert_string_equal(lr.rule, STORE_RULE_S2);
    assert_int_equal(log_reveal_as(&lr, person, T0, 1), TV_ESCOPE);
    assert_string_equal(lr.rule, STORE_RULE_S2);
    assert_int_equal(lr.seq, 0);
    assert_int_equal(held(s, person), 0);
    assert_int_equal(reveals(s), 0);

    assert_int_equal(log_hold(&lr, person, CRDT_HOLD_PLACE, T0), 0);
    assert_int_equal(log_reveal_as(&lr, person, T0 + 1, 0), 0);
    assert_int_equal(lr.seq, 2);
    assert_int_equal(held(s, person), 1);
    assert_int_equal(held(s, local), 0);
    assert_int_equal(reveals(s), 1);
    /* a commune's ref of the person, mapped to the province ref: held too */
    pmap_ctx m = {.ref = local, .pref = person};
    assert_int_equal(store_write(s, pmap_fn, &m), 0);
    assert_int_equal(held(s, local), 1);
    /* a commune's own notices, opened in memory: held while they are set */
    const uint8_t other[1][TV_PERSON_REF_BYTES] = {{6, 6}};
    assert_int_equal(held(s, other[0]), 0);
    assert_int_equal(store_held_extra_set(s, other, 1), 0);
    assert_int_equal(held(s, other[0]), 1);
    assert_int_equal(store_held_extra_set(s, NULL, 0), 0);
    assert_int_equal(held(s, other[0]), 0);
    free(lr.last);
    store_close(s);
    test_rmdir(dir);
}

typedef struct plan_ctx {
    const uint8_t *self;
    int64_t cutoff;
    store_checkpoint_plan p;
} plan_ctx;

static int plan_fn(store_txn *t, void *arg)
{
    plan_ctx *c = arg;
    return store_checkpoint_plan_make(t, c->self, c->cutoff, &c->p);
}

/* A health node's checkpoint judges its sealed reveals and holds as the events they carry:
 * a reveal older than the cutoff goes unless its person is held; an old hold stays while
 * it is the standing one and holds. */
static void test_checkpoint_sealed_reveal_hold(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir);
    one_log lr = {.s = s, .id = &root};
    const uint8_t kept[TV_PERSON_REF_BYTES] = {3, 3}, gone[TV_PERSON_REF_BYTES] = {1, 1};
    assert_int_equal(log_reveal_as(&lr, gone, T0, 0), 0);               /* 1: goes */
    assert_int_equal(log_reveal_as(&lr, kept, T0 + 1, 0), 0);           /* 2: held */
    assert_int_equal(log_hold(&lr, kept, CRDT_HOLD_PLACE, T0 + 2), 0);  /* 3: holds */
    assert_int_equal(log_hold(&lr, gone, CRDT_HOLD_PLACE, T0 + 3), 0);  /* 4: lifted */
    assert_int_equal(log_hold(&lr, gone, CRDT_HOLD_LIFT, T0 + 4), 0);   /* 5: old */
    assert_int_equal(log_reveal_as(&lr, gone, T0 + 30 * DAY_MS, 0), 0); /* 6: recent */
    plan_ctx c = {.self = root.pk, .cutoff = T0 + 28 * DAY_MS};
    assert_int_equal(store_write(s, plan_fn, &c), 0);
    assert_int_equal(c.p.upto, 6);
    assert_int_equal(c.p.n, 3);
    assert_int_equal(c.p.copies[0].seq, 2);
    assert_int_equal(c.p.copies[1].seq, 3);
    assert_int_equal(c.p.copies[2].seq, 6);
    store_checkpoint_plan_release(&c.p);
    free(lr.last);
    store_close(s);
    test_rmdir(dir);
}

/* Sealed statuses older than the period: the health audience's status still in force (an
 * F0 not cleared) is carried over, a status a clearing replaced and the clearing are not,
 * nor any notice to a commune (only its audience can open it); within the period
 * everything is carried. */
static void test_checkpoint_sealed_statuses(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir);
    one_log lr = {.s = s, .id = &root};
    const uint8_t open_case[TV_PERSON_REF_BYTES] = {5, 5}, done[TV_PERSON_REF_BYTES] = {6, 6};
    uint8_t commune_key[CRDT_SEALED_KEY_BYTES];
    memset(commune_key, 0x77, sizeof commune_key);
    assert_int_equal(log_status(&lr, open_case, CRDT_CASE_F0, T0, health_key), 0); /* 1 */
    assert_int_equal(log_status(&lr, done, CRDT_CASE_F0, T0 + 1, health_key), 0);  /* 2 */
    assert_int_equal(log_status(&lr, done, CRDT_CASE_CLEARED, T0 + 2, health_key), 0);
    assert_int_equal(log_status(&lr, open_case, CRDT_CASE_F0, T0 + 3, commune_key), 0); /* 4 */
    assert_int_equal(log_status(&lr, done, CRDT_CASE_F0, T0 + 30 * DAY_MS, commune_key), 0);
    plan_ctx c = {.self = root.pk, .cutoff = T0 + 28 * DAY_MS};
    assert_int_equal(store_write(s, plan_fn, &c), 0);
    assert_int_equal(c.p.upto, 5);
    assert_int_equal(c.p.n, 2);
    assert_int_equal(c.p.copies[0].seq, 1);
    assert_int_equal(c.p.copies[1].seq, 5);
    store_checkpoint_plan_release(&c.p);
    free(lr.last);
    store_close(s);
    test_rmdir(dir);
}

/* Values outside 1..3650 days are malformed, whoever writes them. */
static void test_retention_range(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    crdt_retention r = {.days = 0};
    assert_int_equal(crdt_event_pack_retention(&pk, 1, &r), TV_EINVAL);
    r.days = CRDT_RETENTION_DAYS_MAX + 1;
    assert_int_equal(crdt_event_pack_retention(&pk, 1, &r), TV_EINVAL);
    /* [15, 1, {1: 0}] */
    const uint8_t zero[] = {0x93, 0x0f, 0x01, 0x81, 0x01, 0x00};
    crdt_event ev;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    assert_int_equal(crdt_event_decode(&ev, &u, zero, sizeof zero), TV_EDECODE);
    const uint8_t ok[] = {0x93, 0x0f, 0x01, 0x81, 0x01, 0x0e};
    assert_int_equal(crdt_event_decode(&ev, &u, ok, sizeof ok), 0);
    assert_int_equal(ev.u.retention.days, 14);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

static int count_row(const store_scan_ref *r, void *arg)
{
    (void)r;
    (*(int *)arg)++;
    return 0;
}

static int scans_of(store *s, const uint8_t *person)
{
    store_txn *t;
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_scans_by_person(t, person, 0, INT64_MAX, count_row, &n), 0);
    store_read_end(t);
    return n;
}

static int scans_at(store *s, const uint8_t *venue)
{
    store_txn *t;
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_scans_by_venue(t, venue, 0, INT64_MAX, count_row, &n), 0);
    store_read_end(t);
    return n;
}

static int has_person(store *s, const uint8_t *person)
{
    store_txn *t;
    store_person p;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_person_get(t, person, &p);
    store_read_end(t);
    assert_true(rc == 0 || rc == TV_ENOTFOUND);
    return rc == 0;
}

static int reveal_row(uint64_t hlc, const uint8_t *origin, const uint8_t *person,
                      const char *reason, size_t len, void *arg)
{
    (void)hlc, (void)origin, (void)person, (void)reason, (void)len;
    (*(int *)arg)++;
    return 0;
}

static int reveals(store *s)
{
    store_txn *t;
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_reveals_foreach(t, reveal_row, &n), 0);
    store_read_end(t);
    return n;
}

static store_agg agg(store *s, int32_t day)
{
    store_txn *t;
    store_agg a;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_agg_get(t, "22333", day, &a), 0);
    store_read_end(t);
    return a;
}

typedef struct purge_ctx {
    int64_t cutoff;
    store_purge_stats st;
} purge_ctx;

static int purge_fn(store_txn *t, void *arg)
{
    purge_ctx *c = arg;
    return store_purge(t, c->cutoff, &c->st);
}

/* A commune's scan of person k at `at` (its person record in the same batch when first). */
static void commune_scan(one_log *l, const uint8_t *venue, const uint8_t *person, int64_t at,
                         int record)
{
    log_begin(l, at);
    crdt_scan sc = test_scan(0, at);
    memcpy(sc.venue, venue, TV_VENUE_ID_BYTES);
    memcpy(sc.person, person, TV_PERSON_REF_BYTES);
    if (record) {
        uint8_t box[80] = {1};
        crdt_person p = {.unit = {"22333", 5}, .id_masked = {"09****5678", 10}, .nsealed = 1};
        memcpy(p.person, person, TV_PERSON_REF_BYTES);
        memcpy(p.sealed[0].to, root.pk, TV_NODE_ID_BYTES);
        p.sealed[0].box = box;
        p.sealed[0].len = sizeof box;
        assert_int_equal(crdt_event_pack_person(&l->b.pk, log_next_hlc(l), &p), 0);
    }
    assert_int_equal(crdt_event_pack_scan(&l->b.pk, log_next_hlc(l), &sc), 0);
    assert_int_equal(log_end(l), 0);
}

/* Old scans leave the indexes, and the records of people not seen since; a person seen
 * since keeps theirs, a held person keeps everything; the daily figures stay; the reveal
 * audit goes with what it audits unless the person is held. */
static void test_purge(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir);
    one_log lc = {.s = s, .id = &commune}, lr = {.s = s, .id = &root};
    uint8_t venue[TV_VENUE_ID_BYTES];
    {
        crdt_venue_upsert v;
        test_venue_register(&v, commune.pk, 1, "22333", "Chợ Vĩnh Hải");
        memcpy(venue, v.venue, sizeof venue);
        log_begin(&lc, T0 - DAY_MS);
        assert_int_equal(crdt_event_pack_venue(&lc.b.pk, log_next_hlc(&lc), &v), 0);
        assert_int_equal(log_end(&lc), 0);
    }
    const uint8_t gone[TV_PERSON_REF_BYTES] = {1, 1}, back[TV_PERSON_REF_BYTES] = {2, 2},
                  kept[TV_PERSON_REF_BYTES] = {3, 3};
    commune_scan(&lc, venue, gone, T0, 1);
    commune_scan(&lc, venue, back, T0 + 1000, 1);
    commune_scan(&lc, venue, kept, T0 + 2000, 1);
    commune_scan(&lc, venue, back, T0 + 40 * DAY_MS, 0); /* seen again, 40 days later */
    /* the root shows two people in full (T0 + 1 day), and holds one */
    for (int i = 0; i < 2; i++)
        assert_int_equal(log_reveal_as(&lr, i ? kept : gone, T0 + DAY_MS + i, 0), 0);
    assert_int_equal(log_hold(&lr, kept, CRDT_HOLD_PLACE, T0 + 2 * DAY_MS), 0);
    const int32_t day0 = crdt_day_vn(T0);
    store_agg before = agg(s, day0);
    assert_int_equal(before.scans_in + before.scans_out, 3);
    assert_int_equal(scans_at(s, venue), 4);

    purge_ctx c = {.cutoff = T0 + 28 * DAY_MS};
    assert_int_equal(store_write(s, purge_fn, &c), 0);
    assert_int_equal(c.st.scans, 2); /* gone's and back's first: kept's is held */
    assert_int_equal(c.st.persons, 1);
    assert_int_equal(c.st.reveals, 1);
    assert_int_equal(scans_of(s, gone), 0);
    assert_int_equal(scans_of(s, back), 1);
    assert_int_equal(scans_of(s, kept), 1);
    assert_int_equal(scans_at(s, venue), 2);
    assert_false(has_person(s, gone));
    assert_true(has_person(s, back));
    assert_true(has_person(s, kept));
    assert_int_equal(reveals(s), 1);
    store_agg after = agg(s, day0);
    assert_memory_equal(&before, &after, sizeof before);

    /* lifted: the next purge takes the held person's old records too */
    assert_int_equal(log_hold(&lr, kept, CRDT_HOLD_LIFT, T0 + 3 * DAY_MS), 0);
    assert_int_equal(store_write(s, purge_fn, &c), 0);
    assert_int_equal(c.st.scans, 1);
    assert_int_equal(c.st.persons, 1);
    assert_int_equal(c.st.reveals, 1);
    assert_int_equal(scans_of(s, kept), 0);
    assert_false(has_person(s, kept));
    assert_int_equal(c.st.holds, 1); /* the lifted hold goes with them */
    {
        store_txn *t;
        store_hold h;
        assert_int_equal(store_read_begin(s, &t), 0);
        assert_int_equal(store_hold_get(t, kept, &h), TV_ENOTFOUND);
        store_read_end(t);
    }
    /* a purge with nothing older removes nothing */
    assert_int_equal(store_write(s, purge_fn, &c), 0);
    assert_int_equal(c.st.scans + c.st.persons + c.st.reveals, 0);
    free(lc.last);
    free(lr.last);
    store_close(s);
    test_rmdir(dir);
}

static int pmap_count(const uint8_t *ref, const char *unit, void *arg)
{
    (void)ref, (void)unit;
    (*(int *)arg)++;
    return 0;
}

static int mapped(store *s, const uint8_t *ref)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_pmap_get(t, ref, NULL, NULL, NULL);
    store_read_end(t);
    assert_true(rc == 0 || rc == 1 || rc == TV_ENOTFOUND);
    return rc != TV_ENOTFOUND;
}

/* At a health node a commune's person record keeps the commune's ref, while its scans are
 * indexed under the province ref it maps to (§2.6). A person seen since the cutoff, or
 * held under the province ref, keeps their record there; one not seen since loses the
 * record and the map's rows (commune ref and province ref) with it. */
static void test_purge_mapped(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir);
    one_log lc = {.s = s, .id = &commune}, lr = {.s = s, .id = &root};
    uint8_t venue[TV_VENUE_ID_BYTES];
    {
        crdt_venue_upsert v;
        test_venue_register(&v, commune.pk, 1, "22333", "Chợ Vĩnh Hải");
        memcpy(venue, v.venue, sizeof venue);
        log_begin(&lc, T0 - DAY_MS);
        assert_int_equal(crdt_event_pack_venue(&lc.b.pk, log_next_hlc(&lc), &v), 0);
        assert_int_equal(log_end(&lc), 0);
    }
    const uint8_t gone[TV_PERSON_REF_BYTES] = {1, 1}, back[TV_PERSON_REF_BYTES] = {2, 2},
                  kept[TV_PERSON_REF_BYTES] = {3, 3}, pgone[TV_PERSON_REF_BYTES] = {9, 1},
                  pback[TV_PERSON_REF_BYTES] = {9, 2}, pkept[TV_PERSON_REF_BYTES] = {9, 3};
    const uint8_t *refs[] = {gone, back, kept}, *prefs[] = {pgone, pback, pkept};
    for (int i = 0; i < 3; i++) {
        commune_scan(&lc, venue, refs[i], T0 + i * 1000, 1);
        pmap_ctx m = {refs[i], prefs[i]};
        assert_int_equal(store_write(s, pmap_fn, &m), 0);
    }
    commune_scan(&lc, venue, back, T0 + 40 * DAY_MS, 0); /* seen again, 40 days later */
    assert_int_equal(log_hold(&lr, pkept, CRDT_HOLD_PLACE, T0 + 2 * DAY_MS), 0);
    assert_int_equal(scans_of(s, pback), 2);

    purge_ctx c = {.cutoff = T0 + 28 * DAY_MS};
    assert_int_equal(store_write(s, purge_fn, &c), 0);
    assert_int_equal(c.st.scans, 2);
    assert_int_equal(c.st.persons, 1);
    assert_int_equal(scans_of(s, pback), 1);
    assert_int_equal(scans_of(s, pkept), 1);
    assert_true(has_person(s, back));
    assert_true(has_person(s, kept));
    assert_false(has_person(s, gone));
    assert_true(mapped(s, back));
    assert_true(mapped(s, kept));
    assert_false(mapped(s, gone));
    int n = 0;
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_pmap_refs_of(t, pgone, pmap_count, &n), 0);
    store_read_end(t);
    assert_int_equal(n, 0);
    free(lc.last);
    free(lr.last);
    store_close(s);
    test_rmdir(dir);
}

static const char marker[] = "retention-marker-0123456789abcdef";

static int put_marker(store_txn *t, void *arg)
{
    (void)arg;
    return store_meta_put(t, "marker", marker, sizeof marker - 1);
}

static int del_marker(store_txn *t, void *arg)
{
    (void)arg;
    return store_meta_del(t, "marker");
}

/* Whether the file at path holds the marker's bytes. */
static int file_has_marker(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    int found = 0;
    for (long i = 0; i + (long)sizeof marker - 1 <= n && !found; i++)
        found = memcmp(buf + i, marker, sizeof marker - 1) == 0;
    free(buf);
    return found;
}

static int compact_seen;
static int compact_fn(store_txn *t, void *arg)
{
    (void)arg;
    compact_seen++;
    return store_meta_put(t, "compacted", "1", 1);
}

/* LMDB keeps a deleted row's bytes in the file; a compaction takes them out, keeps every
 * row, runs the caller's last write in the new file, and leaves the store usable. */
static void test_compact_removes_deleted_bytes(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    assert_int_equal(store_write(s, put_marker, NULL), 0);
    assert_int_equal(store_write(s, del_marker, NULL), 0);
    assert_true(file_has_marker(path)); /* why a purge must rewrite the file */
    uint8_t r[TV_NODE_ID_BYTES];

    assert_int_equal(store_compact(s, dir, compact_fn, NULL), 0);
    assert_int_equal(compact_seen, 1);
    assert_false(file_has_marker(path));
    store_txn *t;
    char v[4];
    size_t len;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_root_get(t, r), 0);
    assert_memory_equal(r, root.pk, TV_NODE_ID_BYTES);
    assert_int_equal(store_meta_get(t, "compacted", v, sizeof v, &len), 0);
    assert_int_equal(store_meta_get(t, "marker", v, sizeof v, &len), TV_ENOTFOUND);
    store_read_end(t);
    /* still a store: it takes a batch, and reopens */
    one_log lr = {.s = s, .id = &root};
    assert_int_equal(log_retention(&lr, 20), 0);
    free(lr.last);
    store_close(s);
    assert_int_equal(store_open(&s, dir, NULL), 0);
    assert_int_equal(retention_days(s, NULL), 20);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s/" STORE_COMPACT_FILE, dir);
    assert_int_equal(access(tmp, F_OK), -1); /* nothing left behind */
    store_close(s);
    test_rmdir(dir);
}

/* A compaction replaces the data file only when no other process has the store open to
 * write: one that had would go on committing to the file the rename drops. Another open
 * (its own open file, as another process has) stands for that process here. */
static void test_compact_waits_for_writers(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir), *other, *reader;
    char path[4200];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    assert_int_equal(store_open(&other, dir, NULL), 0);
    assert_int_equal(store_write(other, put_marker, NULL), 0); /* a writer from now on */
    compact_seen = 0;
    assert_int_equal(store_compact(s, dir, compact_fn, NULL), TV_EBUSY);
    assert_int_equal(compact_seen, 0);
    assert_int_equal(stat(path, &after), 0);
    assert_true(before.st_ino == after.st_ino); /* the same file: nothing was replaced */
    /* both still write to it, and each sees the other's rows */
    store_txn *t;
    char v[64];
    size_t len;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_meta_get(t, "marker", v, sizeof v, &len), 0);
    store_read_end(t);
    assert_int_equal(store_write(s, del_marker, NULL), 0);
    store_close(other);
    /* a reader does not hold it back, nor a store opened to write that has not written */
    store_opts ro = {.read_only = 1};
    assert_int_equal(store_open(&reader, dir, &ro), 0);
    assert_int_equal(store_open(&other, dir, NULL), 0);
    assert_int_equal(store_compact(s, dir, compact_fn, NULL), 0);
    assert_int_equal(compact_seen, 1);
    assert_int_equal(stat(path, &after), 0);
    assert_true(before.st_ino != after.st_ino);
    store_close(reader);
    /* that one writes to the new file, where s sees it */
    assert_int_equal(store_write(other, put_marker, NULL), 0);
    assert_int_equal(store_read_begin(other, &t), 0);
    assert_int_equal(store_meta_get(t, "compacted", v, sizeof v, &len), 0);
    store_read_end(t);
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_meta_get(t, "marker", v, sizeof v, &len), 0);
    store_read_end(t);
    store_close(other);
    store_close(s);
    test_rmdir(dir);
}

/* The commune's log of test_checkpoint: a venue (seq 1), person a and their scan 40 days
 * ago (2, 3), person b and their scan today (4, 5). Every batch is kept in out[]. */
typedef struct batches {
    uint8_t *buf[8];
    size_t len[8];
    uint32_t n;
} batches;

static void keep(batches *bs, one_log *l)
{
    bs->buf[bs->n] = l->last;
    bs->len[bs->n++] = l->last_len;
    l->last = NULL;
}

static uint64_t counter(store *s, int events)
{
    store_txn *t;
    store_counts c;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);
    return events ? c.events : c.batches;
}

/* A checkpoint's batch: a base, then copies of the events given (seq and bytes). */
static void log_checkpoint(one_log *l, int64_t ms, const uint64_t *seqs, const crdt_event *evs,
                           int n, uint64_t upto_delta)
{
    log_begin(l, ms);
    crdt_checkpoint base = {.upto = l->seq + upto_delta};
    memcpy(base.hash, l->prev, TV_HASH_BYTES);
    assert_int_equal(crdt_event_pack_checkpoint(&l->b.pk, log_next_hlc(l), &base), 0);
    for (int i = 0; i < n; i++) {
        crdt_checkpoint c = {
            .copy = 1, .event = evs[i].raw, .event_len = evs[i].raw_len, .seq = seqs[i]};
        assert_int_equal(crdt_event_pack_checkpoint(&l->b.pk, log_next_hlc(l), &c), 0);
    }
}

/* The events of a batch, decoded (borrowing from buf). */
static void events_of(const uint8_t *buf, size_t len, crdt_event *evs, uint32_t *n)
{
    crdt_batch b;
    assert_int_equal(crdt_batch_open(&b, buf, len), 0);
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    *n = 0;
    while (crdt_batch_iter_next(&it, &evs[*n]) == 1)
        (*n)++;
    crdt_batch_iter_release(&it);
}

/* A receiver of a checkpoint drops the log before it and the scans it indexed, keeps what
 * the copies carry without counting it again, takes the dropped batches as held (never as
 * a fork) and serves the log from the checkpoint; a node that held nothing of the log
 * takes it from the checkpoint. A base that does not name the batch's place, and a copy
 * of a later event, are malformed. */
static void test_checkpoint(void **state)
{
    (void)state;
    char *dir, *dir2;
    store *s = open_trusted(&dir);
    one_log lc = {.s = s, .id = &commune};
    batches bs = {0};
    uint8_t venue[TV_VENUE_ID_BYTES];
    crdt_venue_upsert v;
    test_venue_register(&v, commune.pk, 1, "22333", "Chợ Vĩnh Hải");
    memcpy(venue, v.venue, sizeof venue);
    const int64_t now = T0 + 40 * DAY_MS;
    log_begin(&lc, T0 - DAY_MS);
    assert_int_equal(crdt_event_pack_venue(&lc.b.pk, log_next_hlc(&lc), &v), 0);
    assert_int_equal(log_end(&lc), 0);
    keep(&bs, &lc);
    const uint8_t a[TV_PERSON_REF_BYTES] = {0xa}, b[TV_PERSON_REF_BYTES] = {0xb};
    commune_scan(&lc, venue, a, T0, 1);
    keep(&bs, &lc);
    commune_scan(&lc, venue, b, now, 1);
    keep(&bs, &lc);
    assert_int_equal(lc.seq, 5);
    const int32_t day_a = crdt_day_vn(T0), day_b = crdt_day_vn(now);
    store_agg agg_a = agg(s, day_a), agg_b = agg(s, day_b);

    /* the copies: the venue (seq 1), b's record and scan (4, 5) */
    crdt_event e1[4], e3[4];
    uint32_t n1, n3;
    events_of(bs.buf[0], bs.len[0], e1, &n1);
    events_of(bs.buf[2], bs.len[2], e3, &n3);
    const crdt_event copies[3] = {e1[0], e3[0], e3[1]};
    const uint64_t seqs[3] = {1, 4, 5};

    /* malformed: a base that does not name the batch's place */
    one_log bad = lc;
    log_checkpoint(&bad, now + 1000, seqs, copies, 3, 1);
    assert_int_equal(log_end(&bad), TV_EDECODE);
    free(bad.last);
    /* malformed: a copy of an event of its own batch's place or later */
    bad = lc;
    const uint64_t late[1] = {6};
    log_checkpoint(&bad, now + 1000, late, copies, 1, 0);
    assert_int_equal(log_end(&bad), TV_EDECODE);
    free(bad.last);
    assert_int_equal(lc.seq, 5);

    log_checkpoint(&lc, now + 1000, seqs, copies, 3, 0);
    assert_int_equal(log_end(&lc), 0);
    keep(&bs, &lc);
    assert_int_equal(lc.seq, 9);
    assert_int_equal(scans_of(s, a), 0); /* dropped with its batch */
    assert_int_equal(scans_of(s, b), 1); /* dropped, and carried back by its copy */
    assert_int_equal(scans_at(s, venue), 1);
    store_agg after_a = agg(s, day_a), after_b = agg(s, day_b);
    assert_memory_equal(&agg_a, &after_a, sizeof agg_a); /* the figures stay, */
    assert_memory_equal(&agg_b, &after_b, sizeof agg_b); /* the copy is not counted again */
    assert_int_equal(after_b.scans_in + after_b.scans_out, 1);
    assert_true(has_person(s, b));
    assert_int_equal(counter(s, 1), 4); /* what is held: the checkpoint's batch */
    assert_int_equal(counter(s, 0), 1);
    store_txn *t;
    uint64_t upto;
    const uint8_t *buf;
    size_t len;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_base_get(t, commune.pk, &upto, NULL), 0);
    assert_int_equal(upto, 5);
    assert_int_equal(store_batch_at(t, commune.pk, 2, &buf, &len), 0); /* served from the base */
    assert_int_equal(len, bs.len[3]);
    assert_memory_equal(buf, bs.buf[3], len);
    store_read_end(t);
    /* a dropped batch offered again is held, not evidence of a fork: nothing changes */
    store_apply_result r;
    assert_int_equal(apply_to(s, bs.buf[1], bs.len[1], &r), 0);
    assert_true(r.duplicate);
    assert_int_equal(scans_of(s, a), 0);

    /* a node that held nothing of the log takes it from the checkpoint */
    store *s2;
    dir2 = test_tmpdir();
    assert_int_equal(store_open(&s2, dir2, NULL), 0);
    trust(s2);
    assert_int_equal(apply_to(s2, bs.buf[1], bs.len[1], NULL), TV_EGAP); /* not a base */
    assert_int_equal(apply_to(s2, bs.buf[3], bs.len[3], NULL), 0);
    assert_int_equal(scans_of(s2, b), 1);
    assert_int_equal(scans_at(s2, venue), 1); /* the venue's registration came with it */
    assert_true(has_person(s2, b));
    assert_false(has_person(s2, a));
    /* what it never held counts once: the copied scan of today, not the dropped one */
    store_agg fresh = agg(s2, day_b);
    assert_memory_equal(&fresh, &agg_b, sizeof fresh);
    fresh = agg(s2, day_a);
    assert_int_equal(fresh.scans_in + fresh.scans_out, 0);
    /* and goes on with the log after it */
    one_log l2 = lc;
    l2.s = s2;
    l2.last = NULL;
    commune_scan(&l2, venue, b, now + 2000, 0);
    free(l2.last);
    assert_int_equal(scans_of(s2, b), 2);
    store_close(s2);
    test_rmdir(dir2);

    /* a node that held the log's start takes the checkpoint past it, and counts the copies
     * of what it never held, not of what it did */
    dir2 = test_tmpdir();
    assert_int_equal(store_open(&s2, dir2, NULL), 0);
    trust(s2);
    assert_int_equal(apply_to(s2, bs.buf[0], bs.len[0], NULL), 0); /* the venue, seq 1 */
    assert_int_equal(apply_to(s2, bs.buf[1], bs.len[1], NULL), 0); /* a and their scan */
    assert_int_equal(apply_to(s2, bs.buf[3], bs.len[3], NULL), 0); /* past 4 and 5 */
    assert_int_equal(scans_of(s2, a), 0);
    assert_int_equal(scans_of(s2, b), 1);
    fresh = agg(s2, day_a); /* held before: its figures stay */
    assert_memory_equal(&fresh, &agg_a, sizeof fresh);
    fresh = agg(s2, day_b); /* never held: counted once, from the copy */
    assert_memory_equal(&fresh, &agg_b, sizeof fresh);
    assert_int_equal(counter(s2, 1), 4);
    assert_int_equal(apply_to(s2, bs.buf[2], bs.len[2], &r), 0); /* 4-5 now: dropped, held */
    assert_true(r.duplicate);
    fresh = agg(s2, day_b);
    assert_memory_equal(&fresh, &agg_b, sizeof fresh);
    store_close(s2);
    test_rmdir(dir2);

    for (uint32_t i = 0; i < bs.n; i++)
        free(bs.buf[i]);
    free(lc.last);
    store_close(s);
    test_rmdir(dir);
}

static int frozen(store *s, const uint8_t *origin)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    int f = store_frozen(t, origin);
    store_read_end(t);
    return f;
}

static int has_base(store *s, const uint8_t *origin)
{
    store_txn *t;
    uint64_t upto;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_base_get(t, origin, &upto, NULL);
    store_read_end(t);
    return rc == 0;
}

static int count_wait(const uint8_t *origin, uint64_t upto, uint64_t held_seq, void *arg)
{
    (void)origin, (void)upto, (void)held_seq;
    ++*(int *)arg;
    return 0;
}

/* How many checkpoints wait for their copies (R2) at s. */
static int waiting(store *s)
{
    store_txn *t;
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_checkpoints_waiting(t, count_wait, &n), 0);
    store_read_end(t);
    return n;
}

static int self_fn(store_txn *t, void *arg)
{
    return store_meta_put(t, "node_id", arg, TV_NODE_ID_BYTES);
}

static int resync_fn(store_txn *t, void *arg)
{
    (void)arg;
    uint8_t v[8] = {0};
    return store_meta_put(t, "resync", v, sizeof v);
}

/* A receiver that holds the commune's log 1-5 (test_checkpoint's) in a fresh store. */
static store *holding(char **dir, const batches *bs, uint32_t upto_batch)
{
    *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, *dir, NULL), 0);
    trust(s);
    for (uint32_t i = 0; i < upto_batch; i++)
        assert_int_equal(apply_to(s, bs->buf[i], bs->len[i], NULL), 0);
    return s;
}

typedef struct sealed_seen {
    uint64_t seq[4];
    int n;
} sealed_seen;

static int sealed_one(const store_sealed *x, void *arg)
{
    sealed_seen *c = arg;
    if (c->n < 4) c->seq[c->n] = x->seq;
    c->n++;
    return 0;
}

/* A commune reads its sealed notices from where they lie: after the health node's
 * checkpoint drops the batches that held them, their copies in the checkpoint are found,
 * under the seq each names, and nothing of the dropped batches is left in the index. */
static void test_checkpoint_sealed_index(void **state)
{
    (void)state;
    char *dir;
    store *s = open_trusted(&dir);
    one_log lr = {.s = s, .id = &root};
    batches bs = {0};
    uint8_t commune_key[CRDT_SEALED_KEY_BYTES], tag[CRDT_SEALED_TAG_BYTES];
    memset(commune_key, 0x77, sizeof commune_key);
    crdt_sealed_tag(tag, commune_key);
    const uint8_t who[TV_PERSON_REF_BYTES] = {7, 7};
    const int64_t now = T0 + 10 * DAY_MS;
    assert_int_equal(log_status(&lr, who, CRDT_CASE_F0, T0, commune_key), 0); /* seq 1 */
    keep(&bs, &lr);
    assert_int_equal(log_status(&lr, who, CRDT_CASE_F1, T0 + 1, commune_key), 0); /* 2 */
    keep(&bs, &lr);
    crdt_event e1[2], e2[2];
    uint32_t n1, n2;
    events_of(bs.buf[0], bs.len[0], e1, &n1);
    events_of(bs.buf[1], bs.len[1], e2, &n2);
    const crdt_event copies[2] = {e1[0], e2[0]};
    const uint64_t seqs[2] = {1, 2};
    log_checkpoint(&lr, now, seqs, copies, 2, 0); /* seq 3: the base, 4 and 5: the copies */
    assert_int_equal(log_end(&lr), 0);
    keep(&bs, &lr);
    store_txn *t;
    sealed_seen seen = {.n = 0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_sealed_foreach(t, tag, sealed_one, &seen), 0);
    store_read_end(t);
    assert_int_equal(seen.n, 2);
    assert_int_equal(seen.seq[0], 1);
    assert_int_equal(seen.seq[1], 2);
    for (uint32_t i = 0; i < bs.n; i++)
        free(bs.buf[i]);
    store_close(s);
    test_rmdir(dir);
}

/* R2: a checkpoint that leaves out a scan still in force that the receiver holds -- signed
 * with the origin's key, far past what the receiver holds or at its place -- drops
 * nothing: it is kept as evidence of a fork and the origin is frozen. One that carries it
 * is taken, also over two batches; a node takes no checkpoint of its own log past what it
 * holds unless it is being brought back after a restore. */
static void test_checkpoint_r2(void **state)
{
    (void)state;
    char *dir, *dir2;
    store *s = open_trusted(&dir);
    one_log lc = {.s = s, .id = &commune};
    batches bs = {0};
    crdt_venue_upsert v;
    test_venue_register(&v, commune.pk, 1, "22333", "Chợ Vĩnh Hải");
    const int64_t now = T0 + 40 * DAY_MS;
    log_begin(&lc, T0 - DAY_MS);
    assert_int_equal(crdt_event_pack_venue(&lc.b.pk, log_next_hlc(&lc), &v), 0);
    assert_int_equal(log_end(&lc), 0);
    keep(&bs, &lc);
    const uint8_t a[TV_PERSON_REF_BYTES] = {0xa}, b[TV_PERSON_REF_BYTES] = {0xb};
    commune_scan(&lc, v.venue, a, T0, 1);
    keep(&bs, &lc);
    commune_scan(&lc, v.venue, b, now, 1); /* seq 4, 5: b's scan is in force */
    keep(&bs, &lc);
    crdt_event e1[4], e3[4];
    uint32_t n1, n3;
    events_of(bs.buf[0], bs.len[0], e1, &n1);
    events_of(bs.buf[2], bs.len[2], e3, &n3);
    const crdt_event copies[3] = {e1[0], e3[0], e3[1]};
    const uint64_t seqs[3] = {1, 4, 5};

    /* a thief's checkpoint far past what is held, with the venue and b's record only */
    one_log thief = lc;
    thief.last = NULL;
    thief.seq = 500;
    memset(thief.prev, 0x5a, sizeof thief.prev);
    log_checkpoint(&thief, now + 1000, seqs, copies, 2, 0);
    assert_int_equal(log_end(&thief), TV_EFORK);
    assert_string_equal(thief.rule, STORE_RULE_R2);
    assert_int_equal(scans_of(s, b), 1); /* the held scan stays */
    assert_int_equal(scans_of(s, a), 1);
    assert_false(has_base(s, commune.pk));
    assert_int_equal(frozen(s, commune.pk), 1);
    /* the commune's next batch is refused as frozen, not taken as held */
    one_log real = lc;
    real.last = NULL;
    log_begin(&real, now + 2000);
    crdt_scan sc = test_scan(0, now + 2000);
    memcpy(sc.venue, v.venue, TV_VENUE_ID_BYTES);
    memcpy(sc.person, b, TV_PERSON_REF_BYTES);
    assert_int_equal(crdt_event_pack_scan(&real.b.pk, log_next_hlc(&real), &sc), 0);
    assert_int_equal(log_end(&real), TV_EFROZEN);
    free(real.last);
    free(thief.last);
    store_close(s);
    test_rmdir(dir);

    /* at the receiver's place: b's scan carried with other bytes (a's scan's) */
    s = holding(&dir, &bs, 3);
    thief = lc;
    thief.s = s;
    thief.last = NULL;
    const crdt_event swapped[3] = {e1[0], e3[0], e1[0]};
    log_checkpoint(&thief, now + 1000, seqs, swapped, 3, 0);
    assert_int_equal(log_end(&thief), TV_EFORK);
    assert_string_equal(thief.rule, STORE_RULE_R2);
    assert_int_equal(scans_of(s, b), 1);
    assert_int_equal(frozen(s, commune.pk), 1);
    free(thief.last);
    store_close(s);
    test_rmdir(dir);

    /* over two batches: a full first one (1,024 events) may be followed by more copies, so
     * the batch holding b's scan, not carried yet, waits; a dropped batch not held waits
     * too; then the copies end without b's scan */
    static crdt_event pad[CRDT_BATCH_EVENTS_MAX];
    static uint64_t pad_seqs[CRDT_BATCH_EVENTS_MAX];
    for (int i = 0; i < CRDT_BATCH_EVENTS_MAX; i++) {
        pad[i] = e1[0];
        pad_seqs[i] = 1;
    }
    s = holding(&dir, &bs, 3);
    thief = lc;
    thief.s = s;
    thief.last = NULL;
    thief.seq = 500;
    memset(thief.prev, 0x5a, sizeof thief.prev);
    log_checkpoint(&thief, now + 1000, pad_seqs, pad, CRDT_BATCH_EVENTS_MAX - 1, 0);
    assert_int_equal(log_end(&thief), 0);
    assert_int_equal(scans_of(s, a), 0); /* its batch is dropped: nothing in force in it */
    assert_int_equal(scans_of(s, b), 1); /* kept while the copies may go on */
    real = lc;
    real.s = s;
    real.last = NULL;
    log_begin(&real, now + 2000);
    assert_int_equal(crdt_event_pack_scan(&real.b.pk, log_next_hlc(&real), &sc), 0);
    assert_int_equal(log_end(&real), TV_EGAP); /* not taken as held */
    assert_string_equal(real.rule, STORE_RULE_R2);
    free(real.last);
    log_begin(&thief, now + 3000);
    sc.at_ms = now + 3000;
    assert_int_equal(crdt_event_pack_scan(&thief.b.pk, log_next_hlc(&thief), &sc), 0);
    assert_int_equal(log_end(&thief), TV_EFORK);
    assert_string_equal(thief.rule, STORE_RULE_R2);
    assert_int_equal(scans_of(s, b), 2); /* the held scan, and the evidence batch's */
    assert_int_equal(frozen(s, commune.pk), 1);
    free(thief.last);
    store_close(s);
    test_rmdir(dir);
    /* the same, when the next batch carries b's scan on: the batch holding it goes then; at
     * a receiver, and in the commune's own store (its own checkpoint over two batches) */
    pad[CRDT_BATCH_EVENTS_MAX - 2] = copies[1]; /* b's record, seq 4 */
    pad_seqs[CRDT_BATCH_EVENTS_MAX - 2] = 4;
    for (int own = 0; own < 2; own++) {
        s = holding(&dir, &bs, 3);
        if (own) assert_int_equal(store_write(s, self_fn, commune.pk), 0);
        one_log hon = lc;
        hon.s = s;
        hon.last = NULL;
        log_checkpoint(&hon, now + 1000, pad_seqs, pad, CRDT_BATCH_EVENTS_MAX - 1, 0);
        assert_int_equal(log_end(&hon), 0);
        assert_int_equal(scans_of(s, b), 1);
        assert_int_equal(counter(s, 0), 2); /* the checkpoint's batch, and the one waiting */
        assert_int_equal(waiting(s), 1);
        log_begin(&hon, now + 1000);
        crdt_checkpoint c5 = {
            .copy = 1, .event = copies[2].raw, .event_len = copies[2].raw_len, .seq = seqs[2]};
        assert_int_equal(crdt_event_pack_checkpoint(&hon.b.pk, log_next_hlc(&hon), &c5), 0);
        assert_int_equal(log_end(&hon), 0);
        assert_int_equal(scans_of(s, b), 1); /* now from its copy */
        assert_int_equal(counter(s, 0), 2);  /* the two batches of the checkpoint, nothing else */
        assert_int_equal(waiting(s), 0);
        assert_int_equal(frozen(s, commune.pk), 0);
        free(hon.last);
        store_close(s);
        test_rmdir(dir);
    }

    /* the commune's own store takes no checkpoint of its log past what it holds */
    dir2 = test_tmpdir();
    assert_int_equal(store_open(&s, dir2, NULL), 0);
    trust(s);
    assert_int_equal(store_write(s, self_fn, commune.pk), 0);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(apply_to(s, bs.buf[i], bs.len[i], NULL), 0);
    thief = lc;
    thief.s = s;
    thief.last = NULL;
    thief.seq = 500;
    memset(thief.prev, 0x5a, sizeof thief.prev);
    log_checkpoint(&thief, now + 1000, seqs, copies, 3, 0); /* even carrying all */
    assert_int_equal(log_end(&thief), TV_ECHAIN);
    assert_string_equal(thief.rule, STORE_RULE_R2);
    assert_false(has_base(s, commune.pk));
    assert_int_equal(scans_of(s, b), 1);
    /* at its place, leaving b's scan out */
    free(thief.last);
    thief = lc;
    thief.s = s;
    thief.last = NULL;
    log_checkpoint(&thief, now + 1000, seqs, copies, 2, 0);
    assert_int_equal(log_end(&thief), TV_ECHAIN);
    assert_string_equal(thief.rule, STORE_RULE_R2);
    assert_int_equal(scans_of(s, b), 1);
    free(thief.last);
    store_close(s);
    test_rmdir(dir2);

    /* brought back after a restore, it takes its own checkpoint from a parent */
    one_log hon;
    dir2 = test_tmpdir();
    assert_int_equal(store_open(&s, dir2, NULL), 0);
    trust(s);
    assert_int_equal(store_write(s, self_fn, commune.pk), 0);
    assert_int_equal(store_write(s, resync_fn, NULL), 0);
    assert_int_equal(apply_to(s, bs.buf[0], bs.len[0], NULL), 0);
    hon = lc;
    hon.s = s;
    hon.last = NULL;
    log_checkpoint(&hon, now + 1000, seqs, copies, 3, 0);
    assert_int_equal(log_end(&hon), 0);
    assert_true(has_base(s, commune.pk));
    assert_int_equal(scans_of(s, b), 1);
    free(hon.last);
    store_close(s);
    test_rmdir(dir2);

    for (uint32_t i = 0; i < bs.n; i++)
        free(bs.buf[i]);
    free(lc.last);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_root_sets_retention),
        cmocka_unit_test(test_retention_range),
        cmocka_unit_test(test_reveal_hold_sealed),
        cmocka_unit_test(test_checkpoint_sealed_reveal_hold),
        cmocka_unit_test(test_checkpoint_sealed_statuses),
        cmocka_unit_test(test_purge),
        cmocka_unit_test(test_purge_mapped),
        cmocka_unit_test(test_compact_removes_deleted_bytes),
        cmocka_unit_test(test_compact_waits_for_writers),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_checkpoint_r2),
        cmocka_unit_test(test_checkpoint_sealed_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
