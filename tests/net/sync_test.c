/* Tests of the sync state machine: two or three nodes over real LMDB stores, messages
 * carried by the test (lost, when it says so) with a virtual clock. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "net/driver.h"
#include "net/sync.h"
#include "test_util.h"
#include "tests/fixture/certtree.h"
#include "tests/fixture/memnet.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

/* The time the nodes' clocks start at; the sessions' virtual clocks run from it (a batch
 * written over an hour ahead of the receiver's clock would wait, rule C1). */
#define T0_MS 1633482000000LL

/* Venues a commune registers before it records scans at them (test_scan's k % 7). */
#define VENUES 7

typedef struct tnode {
    char *dir;
    store *st;
    crdt_identity id;
    crdt_batch_builder b; /* own events waiting to be sealed */
    uint64_t hlc;
    uint8_t venue[VENUES][TV_VENUE_ID_BYTES]; /* the venues it registered */
} tnode;

static int meta_fn(store_txn *t, void *arg)
{
    tnode *n = arg;
    return store_meta_put(t, "node_id", n->id.pk, TV_NODE_ID_BYTES);
}

static void node_init(tnode *n, uint8_t seed)
{
    memset(n, 0, sizeof *n);
    n->dir = test_tmpdir();
    assert_int_equal(store_open(&n->st, n->dir, NULL), 0);
    test_identity(&n->id, seed);
    assert_int_equal(store_write(n->st, meta_fn, n), 0);
    crdt_batch_builder_init(&n->b);
    n->hlc = (uint64_t)T0_MS << 16;
}

static void node_free(tnode *n)
{
    store_close(n->st);
    crdt_batch_builder_release(&n->b);
    test_rmdir(n->dir);
}

typedef struct seal_ctx {
    tnode *n;
} seal_ctx;

static int seal_fn(store_txn *t, void *arg)
{
    tnode *n = ((seal_ctx *)arg)->n;
    store_frontier f;
    int rc = store_frontier_get(t, n->id.pk, &f);
    if (rc && rc != TV_ENOTFOUND) return rc;
    uint8_t *buf;
    size_t len;
    if ((rc = crdt_batch_seal(&n->b, &n->id, f.seq + 1, f.seq ? f.hash : NULL, &buf, &len, NULL)))
        return rc;
    store_apply_result r;
    rc = store_apply_batch(t, buf, len, 0, &r);
    free(buf);
    return rc;
}

/* Seals the node's pending events as one batch of its own log. */
static void commit(tnode *n)
{
    seal_ctx c = {n};
    int rc = store_write(n->st, seal_fn, &c);
    if (rc) fail_msg("commit: %s", tv_strerror(rc));
    crdt_batch_builder_reset(&n->b);
}

/* The node registers VENUES venues of unit, in one batch of its log. */
static void add_venues(tnode *n, const char *unit)
{
    for (int i = 0; i < VENUES; i++) {
        crdt_venue_upsert v;
        test_venue_register(&v, n->id.pk, 100 + (uint64_t)i, unit, "Chợ Diên An");
        memcpy(n->venue[i], v.venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_venue(&n->b.pk, ++n->hlc, &v), 0);
        crdt_batch_builder_note(&n->b, n->hlc);
    }
    commit(n);
}

/* Scans at the node's registered venues, naming unit. */
static void add_scans(tnode *n, const char *unit, int count)
{
    for (int i = 0; i < count; i++) {
        crdt_scan s = test_scan((uint32_t)i, 1633482000000LL + i * 1000);
        s.unit = (crdt_text){unit, (uint32_t)strlen(unit)};
        memcpy(s.venue, n->venue[i % VENUES], TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_scan(&n->b.pk, ++n->hlc, &s), 0);
        crdt_batch_builder_note(&n->b, n->hlc);
        if (n->b.count == CRDT_BATCH_EVENTS_MAX) commit(n);
    }
    if (n->b.count) commit(n);
}

static void add_cert_event(tnode *n, const uint8_t *raw, size_t len)
{
    crdt_cert_event ce = {.cert = raw, .len = len};
    assert_int_equal(crdt_event_pack_cert(&n->b.pk, ++n->hlc, &ce), 0);
    crdt_batch_builder_note(&n->b, n->hlc);
    commit(n);
}

static uint64_t events_of(tnode *n, const tnode *origin)
{
    store_txn *t;
    store_frontier f;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    int rc = store_frontier_get(t, origin->id.pk, &f);
    store_read_end(t);
    return rc ? 0 : f.seq;
}

/* A session between two nodes, each run by its own driver (net/driver.h) over an
 * in-memory transport that hands every message straight to the other driver, losing the
 * ones the test says to lose, and the test's virtual clock. */
static uint8_t msgbuf[SYNC_MSG_BYTES_MAX];

typedef fx_memnet link;

/* Opens a session `after` ms past T0_MS on the virtual clock. */
static void link_open(link *l, tnode *a, tnode *b, int64_t after)
{
    int rc = fx_memnet_open(l, a->st, &a->id, b->st, &b->id, T0_MS + after);
    if (rc) fail_msg("opening the link: %s", tv_strerror(rc));
}

static void link_close(link *l)
{
    fx_memnet_close(l);
}

/* One turn of the sending side's loop: everything it has to say reaches the other side
 * (whose next turn makes it durable). Returns how many messages were sent. */
static int carry(link *l, sync_peer *from, sync_peer *to)
{
    (void)to;
    int moved = fx_memnet_turn(l, from == l->pa);
    if (moved < 0) fail_msg("turn: %s", tv_strerror(moved));
    return moved;
}

/* Runs the session until both sides are in step, closed, or quiet; advances the clock to
 * the next timer when quiet. Returns the number of rounds. */
static int run(link *l, int rounds_max)
{
    int rounds = fx_memnet_run(l, rounds_max);
    if (rounds < 0) fail_msg("run: %s", tv_strerror(rounds));
    return rounds;
}

/* The three-level tree: province P (root), district D (unit 568, communes 22333 and
 * 22334) certified by P, commune C (22333) certified by D. P knows only D's certificate;
 * C's is in D's log, as a district issues it. C's log starts with the registration of its
 * VENUES venues (one batch), where its scans are recorded. */
typedef struct tree {
    tnode p, d, c;
    fx_tree ft; /* P (0), D (1) and C (2), and the communes a test adds */
} tree;

/* Adds n as a commune of unit under D to t's certificate tree and signs its certificate.
 * Returns its index in the tree. */
static int tree_add_commune(tree *t, tnode *n, const char *unit)
{
    int i = fx_tree_add(&t->ft, &n->id, CRDT_ROLE_COMMUNE, 1, unit);
    if (i < 0) fail_msg("adding a commune: %s", tv_strerror(i));
    int rc = fx_tree_sign(&t->ft);
    if (rc) fail_msg("signing: %s", tv_strerror(rc));
    return i;
}

static void tree_init(tree *t)
{
    node_init(&t->p, 0x50);
    node_init(&t->d, 0x44);
    node_init(&t->c, 0x43);
    fx_tree_init(&t->ft, 0);
    assert_int_equal(fx_tree_add(&t->ft, &t->p.id, CRDT_ROLE_PROVINCE, -1, "56"), 0);
    assert_int_equal(fx_tree_add(&t->ft, &t->d.id, CRDT_ROLE_DISTRICT, 0, "568"), 1);
    assert_int_equal(fx_tree_add(&t->ft, &t->c.id, CRDT_ROLE_COMMUNE, 1, "22333"), 2);
    assert_int_equal(fx_tree_scope_add(&t->ft, 1, "22334"), 0);
    assert_int_equal(fx_tree_sign(&t->ft), 0);
    assert_int_equal(fx_tree_install(&t->ft, t->p.st, 1), 0); /* P's and D's */
    assert_int_equal(fx_tree_install(&t->ft, t->d.st, -1), 0);
    assert_int_equal(fx_tree_install(&t->ft, t->c.st, 2), 0);
    const fx_tree_node *n = t->ft.nodes;
    add_cert_event(&t->p, n[0].raw, n[0].len); /* the root's log carries its certificates */
    add_cert_event(&t->p, n[1].raw, n[1].len);
    add_cert_event(&t->d, n[2].raw, n[2].len); /* the district's log carries C's */
    add_venues(&t->c, "22333");
}

static void tree_free(tree *t)
{
    node_free(&t->p);
    node_free(&t->d);
    node_free(&t->c);
    fx_tree_free(&t->ft);
}

static void test_up_and_down_the_tree(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    add_scans(&t.c, "22333", 3000);

    /* P and D first: D takes P's log (certificates), P takes D's */
    link l;
    link_open(&l, &t.d, &t.p, 1000);
    run(&l, 100);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);
    assert_int_equal(events_of(&t.d, &t.p), 2);
    assert_int_equal(events_of(&t.p, &t.d), 1);
    link_close(&l);

    /* C and D: C's scans go up, D's and P's logs come down */
    link_open(&l, &t.c, &t.d, 2000);
    run(&l, 200);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);
    assert_int_equal(sync_peer_state(l.pb), SYNC_IN_STEP);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 3000);
    assert_int_equal(events_of(&t.c, &t.d), 1);
    assert_int_equal(events_of(&t.c, &t.p), 2);
    sync_stats st;
    sync_peer_stats(l.pb, &st);
    assert_int_equal(st.events_in, VENUES + 3000);
    assert_int_equal(st.refused_in, 0);
    link_close(&l);

    /* D and P again: C's log reaches P, which learns C's certificate from D's log, which
     * the district serves first */
    link_open(&l, &t.d, &t.p, 3000);
    run(&l, 200);
    assert_int_equal(sync_peer_state(l.pb), SYNC_IN_STEP);
    assert_int_equal(events_of(&t.p, &t.c), VENUES + 3000);
    link_close(&l);
    tree_free(&t);
}

/* Batches lost on the way are sent again from the store after the timeout; nothing is
 * applied twice. */
static void test_lost_batches_resent(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    add_scans(&t.c, "22333", 20 * CRDT_BATCH_EVENTS_MAX);
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    l.drop_one_in = 3;
    l.rng.s = 42;
    run(&l, 1000);
    assert_true(l.dropped > 0);
    assert_int_equal(sync_peer_state(l.pb), SYNC_IN_STEP);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 20 * CRDT_BATCH_EVENTS_MAX);
    sync_stats sc, sd;
    sync_peer_stats(l.pa, &sc);
    sync_peer_stats(l.pb, &sd);
    /* each loss was repaired: by a gap refusal, or by the timeout for the last ones */
    assert_true(sc.resends > 0 || sd.refused_in > 0);
    store_txn *tx;
    store_counts counts;
    assert_int_equal(store_read_begin(t.d.st, &tx), 0);
    assert_int_equal(store_counts_get(tx, &counts), 0);
    store_read_end(tx);
    assert_int_equal(counts.by_type[CRDT_EV_SCAN], 20 * CRDT_BATCH_EVENTS_MAX);
    link_close(&l);
    tree_free(&t);
}

/* A second session between up-to-date peers costs a handshake proportional to what
 * changed, not to what they hold. */
static void test_second_session_is_small(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    add_scans(&t.c, "22333", 100);
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    run(&l, 100);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);
    link_close(&l);

    link_open(&l, &t.c, &t.d, 5000);
    run(&l, 100);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);
    sync_stats sc;
    sync_peer_stats(l.pa, &sc);
    assert_int_equal(sc.batches_out, 0);
    assert_true(sc.bytes_out < 2048);
    link_close(&l);

    /* new scans since: only they travel */
    add_scans(&t.c, "22333", 10);
    link_open(&l, &t.c, &t.d, 9000);
    run(&l, 100);
    sync_peer_stats(l.pa, &sc);
    assert_int_equal(sc.events_out, 10);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 110);
    link_close(&l);
    tree_free(&t);
}

/* In a live session, an announcement of new events lost on the way (ZeroMQ drops messages
 * across reconnects) is made good: the peer does not confirm it, so the whole vector is
 * announced again and the new events still travel. */
static void test_lost_announcement_repaired(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    add_scans(&t.c, "22333", 50);
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    run(&l, 100);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);
    add_scans(&t.c, "22333", 20); /* recorded while the session is live */
    assert_int_equal(sync_peer_notify(l.pa, l.now), 0);
    l.drop_type = 11; /* every HAVE is lost */
    carry(&l, l.pa, l.pb);
    assert_true(l.dropped > 0);
    l.drop_type = 0;
    assert_int_not_equal(sync_peer_state(l.pa), SYNC_IN_STEP); /* waits for a DONE */
    run(&l, 200);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 70);
    link_close(&l);
    tree_free(&t);
}

/* A node with many sessions works out once what its store gained and announces only
 * that: the new events travel, and a round with nothing new for the peer announces nothing. */
static void test_announce_changes(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    add_scans(&t.c, "22333", 30);
    crdt_vv last, changed;
    crdt_vv_init(&last);
    crdt_vv_init(&changed);
    assert_int_equal(sync_store_changes(t.c.st, &last, &changed), 0);
    assert_int_equal(changed.len, 1); /* from nothing: C's own log */
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    run(&l, 100);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);

    /* what C gained in the session came from D: no news for D */
    assert_int_equal(sync_store_changes(t.c.st, &last, &changed), 0);
    assert_null(crdt_vv_get(&changed, t.c.id.pk));
    sync_stats before, after;
    sync_peer_stats(l.pa, &before);
    assert_int_equal(sync_peer_announce(l.pa, &changed, l.now), 0);
    sync_peer_stats(l.pa, &after);
    assert_int_equal(after.msgs_out, before.msgs_out);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);

    add_scans(&t.c, "22333", 12);
    assert_int_equal(sync_store_changes(t.c.st, &last, &changed), 0);
    assert_int_equal(changed.len, 1);
    assert_memory_equal(changed.entries[0].origin, t.c.id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(sync_peer_announce(l.pa, &changed, l.now), 0);
    assert_int_not_equal(sync_peer_state(l.pa), SYNC_IN_STEP);
    run(&l, 200);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 42);
    /* the same round given again is already announced */
    sync_peer_stats(l.pa, &before);
    assert_int_equal(sync_peer_announce(l.pa, &changed, l.now), 0);
    sync_peer_stats(l.pa, &after);
    assert_int_equal(after.msgs_out, before.msgs_out);
    link_close(&l);
    crdt_vv_release(&last);
    crdt_vv_release(&changed);
    tree_free(&t);
}

/* A commune's scan for a unit outside its certificate (at its own venue, registered in
 * 22333) is refused, and the session says it is not complete. */
static void test_out_of_scope_refused(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    add_scans(&t.c, "22333", 5);
    add_scans(&t.c, "22334", 5); /* not C's commune */
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    run(&l, 100);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 5);
    sync_stats sd;
    sync_peer_stats(l.pb, &sd);
    assert_int_equal(sd.refused_in, 1);
    assert_int_equal(sd.refusals[0].code, TV_ESCOPE);
    assert_non_null(sd.refusals[0].rule);
    assert_string_equal(sd.refusals[0].rule, STORE_RULE_V2); /* not the venue's unit */
    link_close(&l);
    tree_free(&t);
}

/* Delivers `batch` to the session `to` as a BATCH message from its peer, and makes it
 * durable (or refused) as the end of a group would. */
static void deliver_batch(link *l, sync_peer *to, const uint8_t *batch, size_t len)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(msgpack_pack_array(&pk, 2), 0);
    assert_int_equal(msgpack_pack_uint8(&pk, 7 /* BATCH */), 0);
    assert_int_equal(msgpack_pack_bin_with_body(&pk, batch, len), 0);
    assert_int_equal(sync_peer_recv(to, (const uint8_t *)sb.data, sb.size, l->now), 0);
    assert_int_equal(sync_peer_flush(to, l->now), 0);
    msgpack_sbuffer_destroy(&sb);
}

static store_frontier frontier_at(tnode *n, const tnode *origin)
{
    store_txn *t;
    store_frontier f;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    assert_int_equal(store_frontier_get(t, origin->id.pk, &f), 0);
    store_read_end(t);
    return f;
}

/* A well-formed batch that names C as its origin, at the next seq of C's log as D holds
 * it and chained to its last batch, but signed with another key (D's own, which D trusts)
 * reaches D in a session with C: D refuses it for its signature (-6) and C's log at D does
 * not move. The same batch signed by C, delivered the same way, is applied. */
static void test_forged_batch_refused(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    add_scans(&t.c, "22333", 10);
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    run(&l, 100);
    assert_int_equal(sync_peer_state(l.pb), SYNC_IN_STEP);
    store_frontier f0 = frontier_at(&t.d, &t.c);
    assert_int_equal(f0.seq, VENUES + 10);
    sync_stats sd;
    sync_peer_stats(l.pb, &sd);
    assert_int_equal(sd.refused_in, 0);
    uint64_t events_in = sd.events_in, batches_in = sd.batches_in;

    crdt_identity forger = t.c.id; /* names C, signs with D's key */
    memcpy(forger.sk, t.d.id.sk, sizeof forger.sk);
    uint8_t *forged, *genuine, h[TV_HASH_BYTES], hg[TV_HASH_BYTES];
    size_t lforged, lgenuine;
    test_seal_scans_at(&forger, t.c.venue[0], f0.seq + 1, f0.hash, 3, t.c.hlc + 1, &forged,
                       &lforged, h);
    test_seal_scans_at(&t.c.id, t.c.venue[0], f0.seq + 1, f0.hash, 3, t.c.hlc + 1, &genuine,
                       &lgenuine, hg);
    assert_memory_equal(h, hg, TV_HASH_BYTES); /* the same header: only the signature differs */

    deliver_batch(&l, l.pb, forged, lforged);
    sync_peer_stats(l.pb, &sd);
    assert_int_equal(sd.batches_in, batches_in + 1); /* received, then refused */
    assert_int_equal(sd.refused_in, 1);
    assert_int_equal(sd.refusals_len, 1);
    assert_int_equal(sd.refusals[0].code, TV_ESIG);
    assert_int_equal(sd.refusals[0].ours, 1);
    assert_int_equal(sd.events_in, events_in);
    store_frontier f = frontier_at(&t.d, &t.c);
    assert_int_equal(f.seq, f0.seq);
    assert_memory_equal(f.hash, f0.hash, TV_HASH_BYTES);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 10);

    deliver_batch(&l, l.pb, genuine, lgenuine);
    sync_peer_stats(l.pb, &sd);
    assert_int_equal(sd.refused_in, 1);
    assert_int_equal(sd.events_in, events_in + 3);
    f = frontier_at(&t.d, &t.c);
    assert_int_equal(f.seq, f0.seq + 3);
    assert_memory_equal(f.hash, hg, TV_HASH_BYTES);
    free(forged);
    free(genuine);
    link_close(&l);
    tree_free(&t);
}

/* A batch of a log outside the receiver's partition is refused on receipt (-19), asked for
 * or not: a peer cannot push a sibling commune's log into a commune (PROTOCOL.md 6.5). */
static void test_foreign_log_refused(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    tnode s2; /* a sibling commune of the same district, whose log C should not hold */
    node_init(&s2, 0x45);
    const fx_tree_node *sn = &t.ft.nodes[tree_add_commune(&t, &s2, "22334")];
    /* C knows the sibling's certificate */
    assert_int_equal(fx_certs_install_store(t.c.st, t.p.id.pk, &sn->raw, &sn->len, 1), 0);
    add_scans(&t.c, "22333", 5);
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    run(&l, 100);
    assert_int_equal(sync_peer_state(l.pa), SYNC_IN_STEP);

    uint8_t *batch, h[TV_HASH_BYTES], venue[TV_VENUE_ID_BYTES];
    size_t blen;
    test_seal_registration(&s2.id, 7, 1, NULL, crdt_hlc_make(1633482000000ULL, 0), venue, &batch,
                           &blen, h);
    sync_stats sc;
    sync_peer_stats(l.pa, &sc);
    uint32_t refusals = sc.refusals_len;
    deliver_batch(&l, l.pa, batch, blen);
    sync_peer_stats(l.pa, &sc);
    assert_int_equal(sc.refusals_len, refusals + 1);
    assert_int_equal(sc.refusals[refusals].code, TV_EPERM);
    assert_int_equal(sc.refusals[refusals].ours, 1);
    assert_memory_equal(sc.refusals[refusals].origin, s2.id.pk, TV_NODE_ID_BYTES);
    store_txn *tx;
    store_frontier f;
    assert_int_equal(store_read_begin(t.c.st, &tx), 0);
    assert_int_equal(store_frontier_get(tx, s2.id.pk, &f), TV_ENOTFOUND);
    store_read_end(tx);
    free(batch);
    link_close(&l);
    node_free(&s2);
    tree_free(&t);
}

/* A HELLO that names another node than the transport authenticated ends the session. */
static void test_impostor_refused(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    sync_peer *pd, *pc;
    sync_config cd = {.st = t.d.st, .self = &t.d.id}, cc = {.st = t.c.st, .self = &t.c.id};
    /* D believes it talks to P, but C is on the other end */
    assert_int_equal(sync_peer_new(&pd, &cd, t.p.id.pk, 0), 0);
    assert_int_equal(sync_peer_new(&pc, &cc, t.d.id.pk, 0), 0);
    size_t len;
    assert_int_equal(sync_peer_send(pc, msgbuf, sizeof msgbuf, &len, 0), 0);
    assert_int_equal(sync_peer_recv(pd, msgbuf, len, 0), TV_EPERM);
    assert_int_equal(sync_peer_state(pd), SYNC_CLOSED);
    /* and garbage is refused, not a crash */
    sync_peer *pd2;
    assert_int_equal(sync_peer_new(&pd2, &cd, t.c.id.pk, 0), 0);
    static const uint8_t junk[] = {0x93, 0x01, 0xdd, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(sync_peer_recv(pd2, junk, sizeof junk, 0), TV_EDECODE);
    assert_int_equal(sync_peer_state(pd2), SYNC_CLOSED);
    sync_peer_free(pd);
    sync_peer_free(pd2);
    sync_peer_free(pc);
    tree_free(&t);
}

/* A node that is not enrolled cannot start a session. */
static void test_unenrolled_cannot_sync(void **state)
{
    (void)state;
    tnode n;
    node_init(&n, 0x77);
    sync_peer *p;
    sync_config c = {.st = n.st, .self = &n.id};
    uint8_t other[TV_NODE_ID_BYTES] = {1};
    assert_int_equal(sync_peer_new(&p, &c, other, 0), TV_EUNTRUSTED);
    node_free(&n);
}

/* --- hostile peers ------------------------------------------------------------------ */

/* A commune H (22334) certified by D, whose messages the test writes by hand. D knows its
 * certificate; hello is H's genuine HELLO to D. */
typedef struct hostile {
    tnode h;
    uint8_t hello[4096];
    size_t hello_len;
    sync_config cd;
} hostile;

static void hostile_init(hostile *x, tree *t)
{
    node_init(&x->h, 0x48);
    int h = tree_add_commune(t, &x->h, "22334");
    const fx_tree_node *hn = &t->ft.nodes[h];
    assert_int_equal(fx_tree_install(&t->ft, x->h.st, h), 0);
    assert_int_equal(fx_certs_install_store(t->d.st, t->p.id.pk, &hn->raw, &hn->len, 1), 0);
    sync_config ch = {.st = x->h.st, .self = &x->h.id};
    sync_peer *ph;
    assert_int_equal(sync_peer_new(&ph, &ch, t->d.id.pk, T0_MS), 0);
    assert_int_equal(sync_peer_send(ph, msgbuf, sizeof msgbuf, &x->hello_len, T0_MS), 0);
    assert_true(x->hello_len > 0 && x->hello_len <= sizeof x->hello && msgbuf[1] == 1);
    memcpy(x->hello, msgbuf, x->hello_len);
    sync_peer_free(ph);
    x->cd = (sync_config){.st = t->d.st, .self = &t->d.id};
    memset(x->cd.epoch, 2, SYNC_EPOCH_BYTES);
}

/* D's session with H, after H's HELLO (and, if handshake, an empty vector). */
static sync_peer *hostile_session(hostile *x, tree *t, int64_t now, int handshake);

typedef struct mbuf {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} mbuf;

static void mb_begin(mbuf *m, int type, uint32_t fields)
{
    msgpack_sbuffer_init(&m->sb);
    msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
    msgpack_pack_array(&m->pk, 1 + fields);
    msgpack_pack_uint8(&m->pk, (uint8_t)type);
}

/* Gives D's session the message; returns recv's code. */
static int mb_send(mbuf *m, sync_peer *to, int64_t now)
{
    int rc = sync_peer_recv(to, (const uint8_t *)m->sb.data, m->sb.size, now);
    msgpack_sbuffer_destroy(&m->sb);
    return rc;
}

static void empty_vector(sync_peer *to, int64_t now)
{
    crdt_vv none = {0};
    uint8_t d[CRDT_VV_DIGEST_BYTES];
    crdt_vv_digest(&none, d);
    mbuf m;
    mb_begin(&m, 2 /* VV_BEGIN */, 1);
    msgpack_pack_bin_with_body(&m.pk, d, sizeof d);
    assert_int_equal(mb_send(&m, to, now), 0);
    mb_begin(&m, 4 /* VV_END */, 1);
    msgpack_pack_bin_with_body(&m.pk, d, sizeof d);
    assert_int_equal(mb_send(&m, to, now), 0);
}

static sync_peer *hostile_session(hostile *x, tree *t, int64_t now, int handshake)
{
    sync_peer *s;
    assert_int_equal(sync_peer_new(&s, &x->cd, x->h.id.pk, now), 0);
    assert_int_equal(sync_peer_recv(s, x->hello, x->hello_len, now), 0);
    if (handshake) empty_vector(s, now);
    (void)t;
    return s;
}

/* A VV (3) or HAVE (11) message of n random origins at seq 1. */
static void random_entries(mbuf *m, int type, fx_rng *r, size_t n)
{
    mb_begin(m, type, 1);
    msgpack_pack_array(&m->pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        uint8_t o[TV_NODE_ID_BYTES], h[TV_HASH_BYTES];
        fx_rng_bytes(r, o, sizeof o);
        fx_rng_bytes(r, h, sizeof h);
        msgpack_pack_array(&m->pk, 3);
        msgpack_pack_bin_with_body(&m->pk, o, sizeof o);
        msgpack_pack_uint64(&m->pk, 1);
        msgpack_pack_bin_with_body(&m->pk, h, sizeof h);
    }
}

/* Takes every message D queued for H (H never reads otherwise); returns how many, and
 * the BYE's code in *bye (0 if none). */
static size_t drain(sync_peer *s, int64_t now, int64_t *bye)
{
    size_t n = 0, len;
    *bye = 0;
    for (;;) {
        assert_int_equal(sync_peer_send(s, msgbuf, sizeof msgbuf, &len, now), 0);
        if (!len) return n;
        n++;
        if (msgbuf[1] == 14) { /* BYE: [14, code, text]; code a negative fixint or int8 */
            *bye = msgbuf[2] >= 0xe0   ? (int8_t)msgbuf[2]
                   : msgbuf[2] == 0xd0 ? (int8_t)msgbuf[3]
                                       : msgbuf[2];
        }
    }
}

/* A child announces a 65,536-origin vector (as VV, or as a stream of HAVE) while a second
 * child syncs with the same parent. The parent cuts the first off once it names more than
 * SYNC_PEER_FOREIGN_MAX origins outside its partition, and the second finishes. */
static void hostile_vector(int have)
{
    tree t;
    tree_init(&t);
    hostile x;
    hostile_init(&x, &t);
    add_scans(&t.c, "22333", 2000);
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    sync_peer *ph = hostile_session(&x, &t, l.now, have);
    if (!have) {
        crdt_vv none = {0};
        uint8_t d[CRDT_VV_DIGEST_BYTES];
        crdt_vv_digest(&none, d);
        mbuf m;
        mb_begin(&m, 2 /* VV_BEGIN */, 1);
        msgpack_pack_bin_with_body(&m.pk, d, sizeof d);
        assert_int_equal(mb_send(&m, ph, l.now), 0);
    }
    fx_rng r = {77};
    size_t sent = 0;
    int rounds = 0;
    while (sent < CRDT_VV_ORIGINS_MAX || rounds < 400) {
        if (sent < CRDT_VV_ORIGINS_MAX) { /* a chunk, then a stream of one-entry HAVEs */
            mbuf m;
            random_entries(&m, have ? 11 : 3, &r, SYNC_VV_CHUNK_MAX);
            int rc = mb_send(&m, ph, l.now);
            assert_true(rc == 0 || rc == TV_ELIMIT);
            sent += SYNC_VV_CHUNK_MAX;
        } else {
            mbuf m;
            random_entries(&m, 11, &r, 1);
            (void)mb_send(&m, ph, l.now);
        }
        int64_t bye;
        drain(ph, l.now, &bye);
        if (rounds++ < 400) run(&l, 1);
        if (sync_peer_state(l.pa) == SYNC_IN_STEP && sync_peer_state(l.pb) == SYNC_IN_STEP &&
            sent >= CRDT_VV_ORIGINS_MAX)
            break;
    }
    run(&l, 100);
    /* the well-behaved child is in step, all its data applied */
    assert_int_equal(sync_peer_state(l.pb), SYNC_IN_STEP);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 2000);
    /* the hostile one was cut off for what it named */
    sync_stats sh;
    sync_peer_stats(ph, &sh);
    assert_int_equal(sh.state, SYNC_CLOSED);
    assert_int_equal(sh.error, TV_ELIMIT);
    assert_non_null(sh.error_text);
    assert_string_equal(sh.error_text, SYNC_FOREIGN_TEXT);
    sync_peer_free(ph);
    link_close(&l);
    node_free(&x.h);
    tree_free(&t);
}

static void test_hostile_vector(void **state)
{
    (void)state;
    hostile_vector(0);
}

static void test_hostile_have_stream(void **state)
{
    (void)state;
    hostile_vector(1);
}

/* Random and truncated messages before and after the handshake, floods of WANT and
 * NEED_FULL, and a peer that never reads: each ends (or is absorbed by) D's session with
 * H, within its bounds, while D keeps serving C. */
static void test_hostile_peer(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    hostile x;
    hostile_init(&x, &t);
    add_scans(&t.c, "22333", 1000);
    link l;
    link_open(&l, &t.c, &t.d, 1000);
    fx_rng r = {99};
    int64_t bye;

    /* random bytes, and every truncation of HELLO, before the handshake */
    for (int i = 0; i < 200; i++) {
        sync_peer *s;
        assert_int_equal(sync_peer_new(&s, &x.cd, x.h.id.pk, l.now), 0);
        uint8_t junk[256];
        size_t n = 1 + (size_t)fx_rng_below(&r, sizeof junk);
        fx_rng_bytes(&r, junk, n);
        if (i % 2) junk[0] = 0x92; /* an array, to get past the first check */
        (void)sync_peer_recv(s, junk, n, l.now);
        size_t cut = 1 + (size_t)fx_rng_below(&r, x.hello_len - 1);
        assert_int_equal(sync_peer_recv(s, x.hello, cut, l.now),
                         sync_peer_state(s) == SYNC_CLOSED ? 0 : TV_EDECODE);
        assert_int_equal(sync_peer_state(s), SYNC_CLOSED);
        sync_peer_free(s);
        run(&l, 1);
    }
    /* random and truncated messages after it */
    for (int i = 0; i < 200; i++) {
        sync_peer *s = hostile_session(&x, &t, l.now, i % 2);
        uint8_t junk[512];
        size_t n = 1 + (size_t)fx_rng_below(&r, sizeof junk);
        fx_rng_bytes(&r, junk, n);
        junk[0] = 0x92;
        junk[1] = (uint8_t)(1 + fx_rng_below(&r, 14));
        (void)sync_peer_recv(s, junk, n, l.now);
        mbuf m;
        random_entries(&m, 3, &r, 4);
        size_t cut = 1 + (size_t)fx_rng_below(&r, m.sb.size - 1);
        (void)sync_peer_recv(s, (const uint8_t *)m.sb.data, cut, l.now);
        msgpack_sbuffer_destroy(&m.sb);
        assert_int_equal(sync_peer_state(s), SYNC_CLOSED);
        drain(s, l.now, &bye);
        assert_true(bye < 0);
        sync_peer_free(s);
        run(&l, 1);
    }

    /* a WANT flood of logs H may hold (C's is not: refused), read by H */
    sync_peer *s = hostile_session(&x, &t, l.now, 1);
    for (int i = 0; i < 300; i++) {
        mbuf m;
        mb_begin(&m, 6 /* WANT */, 2);
        msgpack_pack_uint32(&m.pk, UINT32_MAX);
        msgpack_pack_array(&m.pk, SYNC_WANT_CHUNK_MAX);
        for (int k = 0; k < SYNC_WANT_CHUNK_MAX; k++) {
            msgpack_pack_array(&m.pk, 2);
            const tnode *o = k % 3 == 0 ? &t.p : k % 3 == 1 ? &t.d : &t.c;
            msgpack_pack_bin_with_body(&m.pk, o->id.pk, TV_NODE_ID_BYTES);
            msgpack_pack_uint64(&m.pk, 1 + fx_rng_below(&r, 3));
        }
        assert_int_equal(mb_send(&m, s, l.now), 0);
        drain(s, l.now, &bye);
        run(&l, 1);
    }
    assert_int_not_equal(sync_peer_state(s), SYNC_CLOSED);
    /* one more origin than a WANT may name ends it */
    {
        mbuf m;
        mb_begin(&m, 6 /* WANT */, 2);
        msgpack_pack_uint32(&m.pk, 1 << 20);
        msgpack_pack_array(&m.pk, SYNC_WANT_CHUNK_MAX + 1);
        for (int k = 0; k <= SYNC_WANT_CHUNK_MAX; k++) {
            msgpack_pack_array(&m.pk, 2);
            msgpack_pack_bin_with_body(&m.pk, t.p.id.pk, TV_NODE_ID_BYTES);
            msgpack_pack_uint64(&m.pk, 1);
        }
        assert_int_equal(mb_send(&m, s, l.now), TV_ELIMIT);
        drain(s, l.now, &bye);
        assert_int_equal(bye, TV_ELIMIT);
    }
    sync_peer_free(s);

    /* NEED_FULL and PING floods from a peer that never reads: the queue fills to its
     * bound and the session ends */
    for (int kind = 0; kind < 2; kind++) {
        s = hostile_session(&x, &t, l.now, 1);
        mbuf m;
        /* and a WANT of D's log, whose batches are never taken */
        mb_begin(&m, 6 /* WANT */, 2);
        msgpack_pack_uint32(&m.pk, 1 << 20);
        msgpack_pack_array(&m.pk, 1);
        msgpack_pack_array(&m.pk, 2);
        msgpack_pack_bin_with_body(&m.pk, t.d.id.pk, TV_NODE_ID_BYTES);
        msgpack_pack_uint64(&m.pk, 1);
        assert_int_equal(mb_send(&m, s, l.now), 0);
        int i;
        for (i = 0; i < 4 * SYNC_OUT_QUEUE_MAX && sync_peer_state(s) != SYNC_CLOSED; i++) {
            mb_begin(&m, kind ? 12 /* PING */ : 5 /* NEED_FULL */, 0);
            int rc = mb_send(&m, s, l.now);
            assert_true(rc == 0 || rc == TV_ELIMIT);
            if (i % 64 == 0) run(&l, 1);
        }
        sync_stats ss;
        sync_peer_stats(s, &ss);
        assert_int_equal(ss.state, SYNC_CLOSED);
        assert_int_equal(ss.error, TV_ELIMIT);
        assert_string_equal(ss.error_text, "the peer does not read what it is sent");
        /* what it held: the bounded queue, nothing more */
        assert_true(drain(s, l.now, &bye) <= SYNC_OUT_QUEUE_MAX);
        sync_peer_free(s);
    }

    run(&l, 200);
    assert_int_equal(sync_peer_state(l.pb), SYNC_IN_STEP);
    assert_int_equal(events_of(&t.d, &t.c), VENUES + 1000);
    link_close(&l);
    node_free(&x.h);
    tree_free(&t);
}

/* --- the driver's own rules: parent fallback, restarting a dead session ------------- */

/* A transport that connects nowhere: it records what the driver asks of it. */
typedef struct fake_net {
    int64_t now;
    int connects[4], disconnects[4];
    int last_connect;
    uint64_t sent;
} fake_net;

static int64_t fake_clock(void *arg)
{
    return ((fake_net *)arg)->now;
}
static int fake_send(void *arg, const tv_driver_session *s, const uint8_t *buf, size_t len)
{
    (void)s;
    (void)buf;
    (void)len;
    ((fake_net *)arg)->sent++;
    return 0; /* taken, and lost: nothing ever answers */
}
static int fake_connect(void *arg, int i)
{
    fake_net *f = arg;
    f->connects[i]++;
    f->last_connect = i;
    return 0;
}
static void fake_disconnect(void *arg, int i)
{
    ((fake_net *)arg)->disconnects[i]++;
}

static tv_driver *fake_driver(fake_net *f, tnode *n, int once)
{
    tv_driver_config cfg = {.st = n->st,
                            .self = &n->id,
                            .sessions_max = 4,
                            .restart_ms = 3000,
                            .fallback_ms = 8000,
                            .once = once};
    tv_driver_ops ops = {.arg = f,
                         .now_ms = fake_clock,
                         .send = fake_send,
                         .connect = fake_connect,
                         .disconnect = fake_disconnect};
    tv_driver *d;
    assert_int_equal(tv_driver_new(&d, &cfg, &ops), 0);
    return d;
}

/* A parent that never comes up is given up after fallback_ms for the next one; with once,
 * each parent has one chance and then the driver gives up. */
static void test_driver_parent_fallback(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    fake_net f = {.now = T0_MS};
    tv_driver *d = fake_driver(&f, &t.c, 1);
    assert_int_equal(tv_driver_link_add(d, t.d.id.pk, 1, 1), 0);
    assert_int_equal(tv_driver_link_add(d, t.p.id.pk, 1, 1), 1);
    tv_driver_links_start(d);
    assert_int_equal(tv_driver_active_parent(d), 0);
    assert_int_equal(f.connects[0], 1);
    assert_int_equal(f.connects[1], 0); /* one parent at a time */
    f.now += 7999;
    assert_int_equal(tv_driver_turn(d), 0);
    assert_int_equal(tv_driver_active_parent(d), 0);
    f.now += 1;
    assert_int_equal(tv_driver_turn(d), 0);
    assert_int_equal(tv_driver_active_parent(d), 1);
    assert_int_equal(f.disconnects[0], 1);
    assert_int_equal(f.connects[1], 1);
    assert_false(tv_driver_gave_up(d));
    f.now += 8000;
    assert_int_equal(tv_driver_turn(d), 0);
    assert_true(tv_driver_gave_up(d));
    tv_driver_free(d);
    tree_free(&t);
}

/* A session with a parent that falls silent is taken for dead: the driver moves to the
 * next parent; a dead session with a peer link is started again after restart_ms. */
static void test_driver_dead_session(void **state)
{
    (void)state;
    tree t;
    tree_init(&t);
    fake_net f = {.now = T0_MS};
    tv_driver *d = fake_driver(&f, &t.c, 0);
    assert_int_equal(tv_driver_link_add(d, t.d.id.pk, 1, 1), 0);
    assert_int_equal(tv_driver_link_add(d, t.p.id.pk, 1, 0), 1); /* a peer, not a parent */
    tv_driver_links_start(d);
    assert_int_equal(f.connects[0] + f.connects[1], 2);
    assert_int_equal(tv_driver_link_up(d, 0), 0);
    assert_int_equal(tv_driver_link_up(d, 1), 0);
    assert_int_equal(tv_driver_turn(d), 0);
    assert_true(f.sent >= 2); /* both HELLOs left */
    tv_driver_session *peer = tv_driver_find(d, t.p.id.pk);
    assert_non_null(peer);
    /* nothing heard for SYNC_DEAD_MS: both die; the parent is left for the next one (here
     * the same, the only parent: it stays), the peer waits restart_ms */
    f.now += SYNC_DEAD_MS;
    assert_int_equal(tv_driver_turn(d), 0);
    peer = tv_driver_find(d, t.p.id.pk);
    assert_int_equal(sync_peer_state(peer->s), SYNC_DEAD);
    assert_int_equal(peer->closed_ms, f.now);
    f.now += 2999;
    assert_int_equal(tv_driver_turn(d), 0);
    assert_int_equal(sync_peer_state(peer->s), SYNC_DEAD);
    f.now += 1;
    assert_int_equal(tv_driver_turn(d), 0);
    peer = tv_driver_find(d, t.p.id.pk);
    assert_int_equal(sync_peer_state(peer->s), SYNC_HANDSHAKE);
    assert_int_equal(peer->closed_ms, 0);
    tv_driver_free(d);
    tree_free(&t);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_up_and_down_the_tree),
        cmocka_unit_test(test_lost_batches_resent),
        cmocka_unit_test(test_second_session_is_small),
        cmocka_unit_test(test_lost_announcement_repaired),
        cmocka_unit_test(test_announce_changes),
        cmocka_unit_test(test_out_of_scope_refused),
        cmocka_unit_test(test_forged_batch_refused),
        cmocka_unit_test(test_foreign_log_refused),
        cmocka_unit_test(test_impostor_refused),
        cmocka_unit_test(test_unenrolled_cannot_sync),
        cmocka_unit_test(test_hostile_vector),
        cmocka_unit_test(test_hostile_have_stream),
        cmocka_unit_test(test_hostile_peer),
        cmocka_unit_test(test_driver_parent_fallback),
        cmocka_unit_test(test_driver_dead_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
