/* Helpers shared by the store tests (tests/store/: one file per store module): applying batches as
 * a node does, the root of trust and certificates, one origin's log written event by event, and
 * reads of counters, frontiers and views. */
#ifndef TV_TESTS_STORE_STORE_UTIL_H
#define TV_TESTS_STORE_STORE_UTIL_H

#include "crdt/error.h"
#include "crdt/hlc.h"
#include "store/store.h"
#include "test_util.h"
#include "tests/fixture/certtree.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

typedef struct apply_ctx {
    const uint8_t *buf;
    size_t len;
    store_apply_result r;
    int64_t now;
    int rc;
} apply_ctx;

/* As a node applies a received batch: a refused batch does not abort the transaction
 * (fork evidence, for one, must be kept). */
static inline int apply_fn(store_txn *t, void *arg)
{
    apply_ctx *c = arg;
    c->rc = store_apply_batch(t, c->buf, c->len, c->now, &c->r);
    return c->rc == TV_ESTORE || c->rc == TV_ENOMEM ? c->rc : 0;
}

static inline int apply(store *s, const uint8_t *buf, size_t len, store_apply_result *r)
{
    apply_ctx c = {.buf = buf, .len = len, .now = 1700000000000LL};
    int rc = store_write(s, apply_fn, &c);
    if (r) *r = c.r;
    return rc ? rc : c.rc;
}

/* Makes `root` the root of trust of s and enrols each of `ids` as a commune node of unit
 * 22333, as enrolment would (tests/fixture/certtree.h). */
static inline void trust(store *s, const crdt_identity *const *ids, int n)
{
    static crdt_identity root;
    test_identity(&root, 0xee);
    int rc = fx_trust_communes(s, &root, ids, n, "22333");
    if (rc) fail_msg("trust setup: %s", tv_strerror(rc));
}

static inline int self_fn(store_txn *t, void *arg)
{
    const crdt_identity *id = arg;
    return store_meta_put(t, "node_id", id->pk, TV_NODE_ID_BYTES);
}

/* Makes s the store of node id (its own batches are not judged; its certificate decides
 * what waits for a venue's registration). */
static inline void be_node(store *s, const crdt_identity *id)
{
    assert_int_equal(store_write(s, self_fn, (void *)id), 0);
}

/* Makes s the store of a commune of unit 22402, whose scope does not cover the test
 * scans' unit 22333: their venues' events are kept as bytes only (V3), so tests of batch
 * mechanics need no venue registrations. */
static inline void be_outsider(store *s);

static inline store_counts counts(store *s)
{
    store_txn *t;
    store_counts c;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);
    return c;
}

static inline store_frontier frontier(store *s, const uint8_t *origin)
{
    store_txn *t;
    store_frontier f;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_frontier_get(t, origin, &f);
    assert_true(rc == 0 || rc == TV_ENOTFOUND);
    store_read_end(t);
    return f;
}

static inline int parked_count_fn(const store_parked *p, void *arg)
{
    (void)p;
    (*(int *)arg)++;
    return 0;
}

static inline int parked_now(store *s)
{
    store_txn *t;
    int n = 0;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_parked_foreach(t, parked_count_fn, &n), 0);
    store_read_end(t);
    return n;
}

typedef struct collect {
    store_scan_ref s[64];
    int n;
} collect;

static inline int collect_fn(const store_scan_ref *s, void *arg)
{
    collect *c = arg;
    if (c->n < 64) c->s[c->n] = *s;
    c->n++;
    return 0;
}

/* One origin's log built event by event, each event its own batch. */
typedef struct one_log {
    store *s;
    const crdt_identity *id;
    uint64_t seq, hlc;
    uint8_t prev[TV_HASH_BYTES];
    int64_t next_ms;   /* when set, the next event's HLC time (then cleared) */
    const char *rule;  /* log_try_end: the rule of the last refusal or parking */
    uint32_t released; /* log_try_end: parked batches the last batch let through */
} one_log;

static inline void log_begin(one_log *l, crdt_batch_builder *b)
{
    crdt_batch_builder_init(b);
    l->hlc =
        crdt_hlc_make(l->next_ms ? (uint64_t)l->next_ms : 1633482000000ULL + l->seq * 60000, 0);
    l->next_ms = 0;
}

static inline uint64_t log_end(one_log *l, crdt_batch_builder *b)
{
    crdt_batch_builder_note(b, l->hlc);
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    uint64_t seq = l->seq + 1;
    assert_int_equal(crdt_batch_seal(b, l->id, seq, l->seq ? l->prev : NULL, &buf, &len, h), 0);
    assert_int_equal(apply(l->s, buf, len, NULL), 0);
    memcpy(l->prev, h, sizeof h);
    l->seq = seq;
    free(buf);
    crdt_batch_builder_release(b);
    return seq;
}

/* l's origin registers a venue in unit 22333 (nonce from seed); its id into venue. */
static inline void log_register(one_log *l, uint64_t seed, uint8_t venue[TV_VENUE_ID_BYTES])
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_venue_upsert v;
    test_venue_register(&v, l->id->pk, seed, "22333", "Chợ Vĩnh Hải");
    memcpy(venue, v.venue, TV_VENUE_ID_BYTES);
    assert_int_equal(crdt_event_pack_venue(&b.pk, l->hlc, &v), 0);
    log_end(l, &b);
}

static inline void log_scan(one_log *l, const uint8_t *venue)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_scan sc = test_scan(1, (int64_t)crdt_hlc_ms(l->hlc));
    memcpy(sc.venue, venue, TV_VENUE_ID_BYTES);
    assert_int_equal(crdt_event_pack_scan(&b.pk, l->hlc, &sc), 0);
    log_end(l, &b);
}

typedef struct recert_ctx {
    const crdt_identity *root, *node;
    int abort;       /* fail the transaction after checking what it reads */
    uint32_t in_txn; /* scope entries read back inside the transaction */
} recert_ctx;

static inline uint32_t scope_len_of(store_txn *t, const uint8_t *subject)
{
    static crdt_cert c;
    assert_int_equal(store_cert_get(t, subject, &c, NULL, NULL), 0);
    return c.scope_len;
}

static inline int recert_fn(store_txn *t, void *arg)
{
    recert_ctx *x = arg;
    static const char *const scope[] = {"22333", "22334"};
    fx_cert_spec c = {.subject = x->node->pk,
                      .role = CRDT_ROLE_COMMUNE,
                      .unit = "22333",
                      .scope = scope,
                      .scope_len = 2,
                      .not_before_ms = 1000}; /* later than the first: it replaces it */
    int rc = fx_cert_install(t, x->root, &c);
    if (rc) return rc;
    x->in_txn = scope_len_of(t, x->node->pk);
    return x->abort ? TV_EINVAL : 0;
}

/* Seals the one event of b as l's next batch and applies it: 0, or why it was refused
 * (then l is unchanged). */
static inline int log_try_end(one_log *l, crdt_batch_builder *b)
{
    crdt_batch_builder_note(b, l->hlc);
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    assert_int_equal(crdt_batch_seal(b, l->id, l->seq + 1, l->seq ? l->prev : NULL, &buf, &len, h),
                     0);
    crdt_batch_builder_release(b);
    store_apply_result r;
    int rc = apply(l->s, buf, len, &r);
    l->rule = r.rule;
    l->released = r.released;
    free(buf);
    if (rc == 0) {
        memcpy(l->prev, h, sizeof h);
        l->seq++;
    }
    return rc;
}

/* A second health node (a district health centre) certified by trust()'s root. */
static inline int health_node_fn(store_txn *t, void *arg)
{
    const crdt_identity *h = arg;
    static crdt_identity root;
    static const char *const scope[] = {"22333", "22334"};
    test_identity(&root, 0xee);
    fx_cert_spec cert = {.subject = h->pk,
                         .role = CRDT_ROLE_DISTRICT,
                         .unit = "22333",
                         .scope = scope,
                         .scope_len = 2,
                         .flags = CRDT_CERT_F_HEALTH};
    return fx_cert_install(t, &root, &cert);
}

static inline store_agg agg_of(store *s, const char *unit, int32_t day)
{
    store_txn *t;
    store_agg a;
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_agg_get(t, unit, day, &a), 0);
    store_read_end(t);
    return a;
}

/* Certifies id at s as a node of `role` for `unit`, covering scope0 (and scope1), issued
 * by trust()'s root. */
typedef struct cert_req {
    const crdt_identity *id;
    uint32_t role;
    const char *unit, *scope[2];
} cert_req;

static inline int certify_fn(store_txn *t, void *arg)
{
    const cert_req *q = arg;
    static crdt_identity root;
    test_identity(&root, 0xee);
    fx_cert_spec cert = {.subject = q->id->pk, .role = q->role, .unit = q->unit, .scope = q->scope};
    cert.scope_len = q->scope[1] ? 2 : q->scope[0] ? 1 : 0;
    return fx_cert_install(t, &root, &cert);
}

static inline void certify(store *s, const crdt_identity *id, uint32_t role, const char *unit,
                           const char *scope0, const char *scope1);

static inline void be_outsider(store *s)
{
    static crdt_identity me;
    test_identity(&me, 0x77);
    certify(s, &me, CRDT_ROLE_COMMUNE, "22402", "22402", NULL);
    be_node(s, &me);
}

static inline void certify(store *s, const crdt_identity *id, uint32_t role, const char *unit,
                           const char *scope0, const char *scope1)
{
    cert_req q = {.id = id, .role = role, .unit = unit, .scope = {scope0, scope1}};
    assert_int_equal(store_write(s, certify_fn, &q), 0);
}

enum { ABOUT_UPSERT, ABOUT_SCAN, ABOUT_REMINDER };

/* l's next batch: one event about venue naming unit (NULL: an upsert naming none); an
 * upsert sets the name. Returns what log_try_end returns. */
static inline int log_about(one_log *l, int kind, const uint8_t *venue, const char *unit,
                            const char *name)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_text u = {unit, unit ? (uint32_t)strlen(unit) : 0};
    if (kind == ABOUT_UPSERT) {
        crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | (unit ? CRDT_VENUE_F_UNIT : 0),
                               .unit = u,
                               .name = {name, (uint32_t)strlen(name)}};
        memcpy(v.venue, venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_venue(&b.pk, l->hlc, &v), 0);
    } else if (kind == ABOUT_SCAN) {
        crdt_scan sc = test_scan(1, (int64_t)crdt_hlc_ms(l->hlc));
        sc.unit = u;
        memcpy(sc.venue, venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_scan(&b.pk, l->hlc, &sc), 0);
    } else {
        crdt_reminder r = {.unit = u, .action = CRDT_REMIND};
        memcpy(r.venue, venue, TV_VENUE_ID_BYTES);
        assert_int_equal(crdt_event_pack_reminder(&b.pk, l->hlc, &r), 0);
    }
    return log_try_end(l, &b);
}

/* l's next batch: the registration of v. */
static inline int log_registration(one_log *l, const crdt_venue_upsert *v)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    assert_int_equal(crdt_event_pack_venue(&b.pk, l->hlc, v), 0);
    return log_try_end(l, &b);
}

static inline int scans_at(store *s, const uint8_t *venue)
{
    store_txn *t;
    collect c = {.n = 0};
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_scans_by_venue(t, venue, INT64_MIN, INT64_MAX, collect_fn, &c), 0);
    store_read_end(t);
    return c.n;
}

static inline int installed_issuer_is(store *s, const crdt_identity *k, const crdt_identity *issuer)
{
    store_txn *t;
    static crdt_cert c;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_cert_get(t, k->pk, &c, NULL, NULL);
    store_read_end(t);
    return rc == 0 && memcmp(c.issuer, issuer->pk, TV_NODE_ID_BYTES) == 0;
}

#endif
