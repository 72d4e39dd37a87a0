/* Tests of the acknowledgement of scans (node/logic/intake.h) on a node attached to a real
 * store (tv_node_attach), with the store's crash point (store_opts.fault) cutting the
 * commit before and after it lands. */
#include "crdt/error.h"
#include "node/logic/idcard.h"
#include "node/logic/intake.h"
#include "node/logic/node.h"
#include "node/logic/record.h"
#include "test_util.h"
#include "tests/fixture/certtree.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define UNIT "22333"

typedef struct fixture {
    char *dir;
    store *st;
    int cut; /* STORE_FAULT_* at which the next write is cut, 0: none */
    tv_node n;
    tv_recorder rec;
    tv_intake in;
    /* what was acknowledged, in order */
    uint64_t tags[8], seqs[8];
    int rcs[8];
    size_t nacks;
} fixture;

static int fault(void *arg, int where)
{
    fixture *f = arg;
    if (f->cut != where) return 0;
    f->cut = 0;
    return 1;
}

static void ack(void *arg, uint64_t tag, int rc, uint64_t seq)
{
    fixture *f = arg;
    assert_true(f->nacks < 8);
    f->tags[f->nacks] = tag;
    f->rcs[f->nacks] = rc;
    f->seqs[f->nacks++] = seq;
}

static int node_id_fn(store_txn *t, void *arg)
{
    return store_meta_put(t, "node_id", arg, TV_NODE_ID_BYTES);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dir = test_tmpdir();
    store_opts so = {.fault = fault, .fault_arg = f};
    assert_int_equal(store_open(&f->st, f->dir, &so), 0);
    uint8_t seed[TV_SEED_BYTES], key[TV_TRACING_KEY_BYTES];
    memset(seed, 7, sizeof seed);
    memset(key, 9, sizeof key);
    crdt_identity id;
    assert_int_equal(crdt_identity_from_seed(&id, seed), 0);
    assert_int_equal(store_write(f->st, node_id_fn, id.pk), 0); /* as tv_node_create writes */
    assert_int_equal(
        tv_node_attach(&f->n, f->st, &id, TV_ROLE_COMMUNE, UNIT, TV_KEY_COMMUNE, key, NULL, NULL),
        0);
    assert_int_equal(tv_recorder_init(&f->rec, &f->n), 0);
    assert_int_equal(tv_intake_init(&f->in, &f->rec), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tv_intake_free(&f->in);
    tv_recorder_free(&f->rec);
    tv_node_detach(&f->n);
    store_close(f->st);
    test_rmdir(f->dir);
    free(f);
    return 0;
}

/* Queues a check-in of phone number 09000000<k> at a venue, tagged tag; *done as the
 * recorder said. */
static void queue_done(fixture *f, int k, uint64_t tag, tv_scan_done *done)
{
    char phone[16];
    snprintf(phone, sizeof phone, "090000000%d", k);
    tv_card card;
    const char *why;
    assert_int_equal(tv_card_parse(phone, strlen(phone), &card, &why), 0);
    store_venue v;
    memset(&v, 0, sizeof v);
    memset(v.id, 0xab, sizeof v.id);
    tv_scan_in in = {.venue = &v, .card = &card, .at_ms = tv_wall_ms()};
    assert_int_equal(tv_intake_add(&f->in, &in, tag, done), 0);
}

static void queue(fixture *f, int k, uint64_t tag)
{
    tv_scan_done done;
    queue_done(f, k, tag, &done);
}

static uint64_t frontier(fixture *f)
{
    store_txn *t;
    store_frontier fr = {0};
    assert_int_equal(store_read_begin(f->st, &t), 0);
    int rc = store_frontier_get(t, f->n.id.pk, &fr);
    store_read_end(t);
    assert_true(rc == 0 || rc == TV_ENOTFOUND);
    return fr.seq;
}

/* Each queued scan is acknowledged once, in order, with its tag and the seq it got: a
 * new person's event comes before the scan. */
static void test_settle_acknowledges_in_order(void **state)
{
    fixture *f = *state;
    queue(f, 1, 10);
    queue(f, 2, 20);
    queue(f, 1, 30); /* the same person again: no second person event */
    assert_int_equal(tv_intake_queued(&f->in), 3);
    assert_int_equal(tv_intake_settle(&f->in, ack, f), 0);
    assert_int_equal(f->nacks, 3);
    assert_int_equal(f->tags[0], 10);
    assert_int_equal(f->tags[1], 20);
    assert_int_equal(f->tags[2], 30);
    for (int i = 0; i < 3; i++)
        assert_int_equal(f->rcs[i], 0);
    assert_int_equal(f->seqs[0], 2);
    assert_int_equal(f->seqs[1], 4);
    assert_int_equal(f->seqs[2], 5);
    assert_int_equal(frontier(f), 5);
    assert_int_equal(tv_intake_queued(&f->in), 0);
    assert_int_equal(tv_node_pending(&f->n), 0);
    /* nothing queued: nothing committed, nothing acknowledged */
    assert_int_equal(tv_intake_settle(&f->in, ack, f), 0);
    assert_int_equal(f->nacks, 3);
}

/* A crash before the commit lands: every scan of the group is acknowledged as NOT
 * recorded (never as recorded), and the store holds none of it. */
static void test_cut_before_commit(void **state)
{
    fixture *f = *state;
    queue(f, 1, 1);
    queue(f, 2, 2);
    f->cut = STORE_FAULT_BEFORE_COMMIT;
    assert_int_equal(tv_intake_settle(&f->in, ack, f), TV_EIO);
    assert_int_equal(f->nacks, 2);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f->rcs[i], TV_EIO);
        assert_int_equal(f->seqs[i], 0);
    }
    assert_int_equal(frontier(f), 0);
    assert_int_equal(tv_node_pending(&f->n), 0);
    /* the next group is recorded from the start of the log */
    queue(f, 3, 3);
    assert_int_equal(tv_intake_settle(&f->in, ack, f), 0);
    assert_int_equal(f->nacks, 3);
    assert_int_equal(f->rcs[2], 0);
    assert_int_equal(f->seqs[2], 2);
    assert_int_equal(frontier(f), 2);
}

/* A crash just after the commit returned: recorded, but nobody learnt so, so nothing is
 * acknowledged as recorded. */
static void test_cut_after_commit(void **state)
{
    fixture *f = *state;
    queue(f, 1, 1);
    f->cut = STORE_FAULT_AFTER_COMMIT;
    assert_int_equal(tv_intake_settle(&f->in, ack, f), TV_EIO);
    assert_int_equal(f->nacks, 1);
    assert_int_equal(f->rcs[0], TV_EIO);
    assert_int_equal(frontier(f), 2);
}

/* Records a check-in of phone number 09000000<k> in a group of its own and returns the
 * node ids its person event's details are sealed to (*n of them, at most 4). */
static void sealed_to(fixture *f, int k, uint8_t to[4][TV_NODE_ID_BYTES], uint32_t *n)
{
    tv_scan_done done;
    queue_done(f, k, (uint64_t)k, &done);
    assert_true(done.new_person);
    assert_int_equal(tv_intake_settle(&f->in, ack, f), 0);
    store_txn *t;
    store_person p;
    assert_int_equal(store_read_begin(f->st, &t), 0);
    assert_int_equal(store_person_get(t, done.ref, &p), 0);
    crdt_event ev;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    assert_int_equal(crdt_event_decode(&ev, &up, p.raw, p.raw_len), 0);
    assert_int_equal(ev.type, CRDT_EV_PERSON);
    assert_true(ev.u.person.nsealed <= 4);
    *n = ev.u.person.nsealed;
    for (uint32_t i = 0; i < *n; i++)
        memcpy(to[i], ev.u.person.sealed[i].to, TV_NODE_ID_BYTES);
    msgpack_unpacked_destroy(&up);
    store_read_end(t);
}

/* The health nodes new people's details are sealed to are found again once certificates
 * come in: before enrolment to the node itself, after it to the province (which has the
 * health flag), from the next commit group on. */
static void test_recipients_follow_certificates(void **state)
{
    fixture *f = *state;
    uint8_t to[4][TV_NODE_ID_BYTES];
    uint32_t n;
    sealed_to(f, 1, to, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(to[0], f->n.id.pk, TV_NODE_ID_BYTES);
    sealed_to(f, 2, to, &n); /* nothing came in: still to itself */
    assert_int_equal(n, 1);
    assert_memory_equal(to[0], f->n.id.pk, TV_NODE_ID_BYTES);

    crdt_identity province;
    assert_int_equal(fx_identity(&province, 'P', 1), 0);
    fx_tree tree;
    fx_tree_init(&tree, 0);
    int p = fx_tree_add(&tree, &province, CRDT_ROLE_PROVINCE, -1, "56");
    int c = fx_tree_add(&tree, &f->n.id, CRDT_ROLE_COMMUNE, p, UNIT);
    assert_true(p >= 0 && c >= 0);
    assert_int_equal(fx_tree_sign(&tree), 0);
    assert_int_equal(fx_tree_install(&tree, f->st, c), 0);
    fx_tree_free(&tree);

    sealed_to(f, 3, to, &n);
    assert_int_equal(n, 1);
    assert_memory_equal(to[0], province.pk, TV_NODE_ID_BYTES);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_settle_acknowledges_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_before_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cut_after_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recipients_follow_certificates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
