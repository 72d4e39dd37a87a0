/* Tests of enrolment and revocation over real stores: a province, a district and a commune
 * in temporary directories, enrolled through the node/enroll API, exchanging their logs. */
#include "crdt/error.h"
#include "node/logic/enroll.h"
#include "node/logic/node.h"
#include "node/logic/person.h"
#include "test_util.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#define BATCHES_MAX 64

/* Three nodes of one tree: province 56, district 568 (communes 22333 and 22334), commune
 * 22333. Only the province is enrolled (it is the root) when a test starts. */
typedef struct tree {
    char *tmp;
    char dir[3][4200];
    tv_node *p, *d, *c;
} tree;

static tv_node *node_new(const char *dir, tv_role role, const char *unit, const char *name)
{
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, role, unit, name, TV_TEST_PASS, id), 0);
    tv_node *n = malloc(sizeof *n);
    assert_non_null(n);
    assert_int_equal(tv_node_open(n, dir, TV_NODE_WRITE), 0);
    return n;
}

static void tree_make(tree *t)
{
    t->tmp = test_tmpdir();
    static const char *const names[3] = {"p", "d", "c"};
    for (int i = 0; i < 3; i++)
        snprintf(t->dir[i], sizeof t->dir[i], "%s/%s", t->tmp, names[i]);
    /* created in this order, each after the root exists, as in the field */
    t->p = node_new(t->dir[0], TV_ROLE_PROVINCE, "56", "Sở Y tế Khánh Hòa");
    assert_int_equal(tv_enroll_make_root(t->p, 1, NULL), 0);
    t->d = node_new(t->dir[1], TV_ROLE_DISTRICT, "568", "Huyện Diên Khánh");
    t->c = node_new(t->dir[2], TV_ROLE_COMMUNE, "22333", "UBND Xã Diên An");
}

static void tree_free(tree *t)
{
    tv_node *nodes[3] = {t->p, t->d, t->c};
    for (int i = 0; i < 3; i++) {
        tv_node_close(nodes[i]);
        free(nodes[i]);
    }
    test_rmdir(t->tmp);
}

/* A request of child, through its text form and back. */
static void request_of(tv_node *child, tv_enroll_request *r)
{
    tv_enroll_request made;
    char text[TV_ENROLL_REQUEST_BYTES_MAX], why[TV_ENROLL_WHY_MAX] = "";
    assert_int_equal(tv_enroll_request_make(child, &made), 0);
    int len = tv_enroll_request_format(&made, text, sizeof text);
    assert_true(len > 0);
    assert_int_equal(tv_enroll_request_parse(r, text, (size_t)len, why), 0);
    assert_memory_equal(r->node_id, child->id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(r->role, child->role);
    assert_string_equal(r->unit, child->unit);
    assert_string_equal(r->name, child->name);
    assert_int_equal(r->created_ms, made.created_ms);
}

/* Issues child's certificate at parent; returns the file (caller frees). */
static char *issue(tv_node *parent, tv_node *child, const tv_enroll_issue_opts *o, size_t *len,
                   int want)
{
    tv_enroll_request r;
    request_of(child, &r);
    char *file = NULL, why[TV_ENROLL_WHY_MAX] = "";
    int rc = tv_enroll_issue(parent, &r, o, &file, len, NULL, why);
    if (rc != want) print_error("issue: %d (%s), expected %d\n", rc, why, want);
    assert_int_equal(rc, want);
    if (want) {
        assert_null(file);
        assert_true(why[0] != '\0'); /* a refusal says why */
    }
    return file;
}

static int accept_file(tv_node *n, const char *file, size_t len, tv_enroll_accepted *out)
{
    char why[TV_ENROLL_WHY_MAX] = "";
    int rc = tv_enroll_accept(n, file, len, out, why);
    if (rc) assert_true(why[0] != '\0');
    return rc;
}

static void enrol(tv_node *parent, tv_node *child, const tv_enroll_issue_opts *o)
{
    size_t len;
    char *file = issue(parent, child, o, &len, 0);
    tv_enroll_accepted *acc = malloc(sizeof *acc);
    assert_int_equal(accept_file(child, file, len, acc), 0);
    assert_memory_equal(acc->cert.subject, child->id.pk, TV_NODE_ID_BYTES);
    assert_memory_equal(acc->cert.issuer, parent->id.pk, TV_NODE_ID_BYTES);
    free(acc);
    free(file);
}

static const char *const district_scope[] = {"22333", "22334"};
static const tv_enroll_issue_opts district_opts = {.scope = district_scope, .scope_len = 2};
static const tv_enroll_issue_opts commune_opts = {0};

/* --- batches between nodes ---------------------------------------------------------- */

typedef struct batches {
    const uint8_t *origin; /* only this origin's batches */
    uint8_t *buf[BATCHES_MAX];
    size_t len[BATCHES_MAX];
    size_t n;
} batches;

static int collect_fn(const uint8_t *buf, size_t len, void *arg)
{
    batches *b = arg;
    crdt_batch bt;
    if (crdt_batch_open(&bt, buf, len)) return TV_ECORRUPT;
    if (memcmp(bt.h.origin, b->origin, TV_NODE_ID_BYTES) != 0) return 0;
    assert_true(b->n < BATCHES_MAX);
    b->buf[b->n] = malloc(len);
    memcpy(b->buf[b->n], buf, len);
    b->len[b->n++] = len;
    return 0;
}

/* Copies the batches of `origin`'s log that `from` holds, in seq order. */
static void collect(tv_node *from, const uint8_t *origin, batches *b)
{
    memset(b, 0, sizeof *b);
    b->origin = origin;
    store_txn *t;
    assert_int_equal(store_read_begin(from->st, &t), 0);
    assert_int_equal(store_batches_foreach(t, collect_fn, b), 0);
    store_read_end(t);
    assert_true(b->n > 0);
}

static void batches_free(batches *b)
{
    for (size_t i = 0; i < b->n; i++)
        free(b->buf[i]);
    b->n = 0;
}

/* Applies batches [first, b->n) at n in one transaction; returns the first refusal (every
 * later batch of the same log is refused after it), or 0 when all were accepted. */
static int apply_from(tv_node *n, const batches *b, size_t first)
{
    tv_apply_item items[BATCHES_MAX];
    size_t count = 0;
    for (size_t i = first; i < b->n; i++)
        items[count++] = (tv_apply_item){.buf = b->buf[i], .len = b->len[i]};
    assert_int_equal(tv_node_apply(n, items, count), 0);
    for (size_t i = 0; i < count; i++)
        if (items[i].rc) return items[i].rc;
    return 0;
}

static int apply_all(tv_node *n, const batches *b)
{
    return apply_from(n, b, 0);
}

/* Ships origin's whole log from `from` to `to` and expects it accepted. */
static void ship(tv_node *from, const uint8_t *origin, tv_node *to)
{
    batches b;
    collect(from, origin, &b);
    assert_int_equal(apply_all(to, &b), 0);
    batches_free(&b);
}

/* n registers a venue of its unit (nonce from seed), as `venue add` does; its id into
 * venue. */
static void register_venue(tv_node *n, uint64_t seed, uint8_t venue[TV_VENUE_ID_BYTES])
{
    crdt_venue_upsert v;
    test_venue_register(&v, n->id.pk, seed, n->unit, "Chợ Diên An");
    v.fields |= CRDT_VENUE_F_CATEGORY;
    v.category = 1;
    memcpy(venue, v.venue, TV_VENUE_ID_BYTES);
    uint64_t seq;
    assert_int_equal(tv_node_add_venue(n, &v, NULL), 0);
    assert_int_equal(tv_node_commit(n, &seq), 0);
}

static void record_scan(tv_node *n, const uint8_t *venue, const char *unit, uint32_t k)
{
    crdt_scan s = test_scan(k, tv_wall_ms());
    s.unit = (crdt_text){unit, (uint32_t)strlen(unit)};
    memcpy(s.venue, venue, TV_VENUE_ID_BYTES);
    uint64_t seq;
    assert_int_equal(tv_node_add_scan(n, &s, NULL), 0);
    assert_int_equal(tv_node_commit(n, &seq), 0);
}

static uint64_t events_of(tv_node *n, uint32_t type)
{
    store_txn *t;
    store_counts c;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);
    return type ? c.by_type[type] : c.events;
}

static int root_of(tv_node *n, uint8_t root[TV_NODE_ID_BYTES])
{
    store_txn *t;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    int rc = store_root_get(t, root);
    store_read_end(t);
    return rc;
}

/* n's installed certificate of subject, into *c. */
static int cert_of(tv_node *n, const uint8_t *subject, crdt_cert *c)
{
    store_txn *t;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    int rc = store_cert_get(t, subject, c, NULL, NULL);
    store_read_end(t);
    return rc;
}

static int revoked_at(tv_node *n, const uint8_t *subject)
{
    store_txn *t;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    int rc = store_revoked(t, subject);
    store_read_end(t);
    return rc;
}

/* --- tests -------------------------------------------------------------------------- */

/* A province is its own root: the root is set, its self-signed certificate is installed
 * and recorded as the first event of its log. */
static void test_root(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    uint8_t root[TV_NODE_ID_BYTES];
    assert_int_equal(root_of(t.p, root), 0);
    assert_memory_equal(root, t.p->id.pk, TV_NODE_ID_BYTES);
    crdt_cert *c = malloc(sizeof *c);
    assert_int_equal(cert_of(t.p, t.p->id.pk, c), 0);
    assert_true(crdt_cert_is_root(c));
    assert_int_equal(c->role, CRDT_ROLE_PROVINCE);
    assert_string_equal(c->unit, "56");
    assert_int_equal(c->scope_len, 1);
    assert_string_equal(c->scope[0], CRDT_SCOPE_ALL);
    assert_int_equal(c->flags, CRDT_CERT_F_HEALTH);
    assert_int_equal(c->not_after_ms, 0);
    assert_true(c->not_before_ms <= tv_wall_ms());
    assert_int_equal(events_of(t.p, CRDT_EV_CERT), 1);
    assert_int_equal(events_of(t.p, 0), 1);

    /* once only, and only for a province */
    assert_int_equal(tv_enroll_make_root(t.p, 1, NULL), TV_EEXIST);
    assert_int_equal(tv_enroll_make_root(t.d, 1, NULL), TV_EPERM);
    assert_int_equal(root_of(t.d, root), TV_ENOTFOUND);
    assert_int_equal(events_of(t.p, 0), 1);

    /* a root without the health flag */
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/p2", t.tmp);
    tv_node *p2 = node_new(dir, TV_ROLE_PROVINCE, "57", "Tỉnh khác");
    uint64_t seq;
    assert_int_equal(tv_enroll_make_root(p2, 0, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(cert_of(p2, p2->id.pk, c), 0);
    assert_int_equal(c->flags, 0);
    tv_node_close(p2);
    free(p2);
    free(c);
    tree_free(&t);
}

/* Province -> district -> commune, then each log travels and is judged by the others. */
static void test_round_trip(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    uint8_t old_key[TV_TRACING_KEY_BYTES];
    memcpy(old_key, t.c->tracing_key, sizeof old_key);
    assert_memory_not_equal(old_key, t.p->tracing_key, sizeof old_key);

    /* the commune registers a venue before it is enrolled: its log must still be taken */
    uint8_t venue[TV_VENUE_ID_BYTES];
    register_venue(t.c, 0x5a, venue);

    enrol(t.p, t.d, &district_opts);
    enrol(t.d, t.c, &commune_opts);

    /* what each holds */
    uint8_t root[TV_NODE_ID_BYTES];
    crdt_cert *c = malloc(sizeof *c);
    assert_int_equal(root_of(t.d, root), 0);
    assert_memory_equal(root, t.p->id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(root_of(t.c, root), 0);
    assert_memory_equal(root, t.p->id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(cert_of(t.d, t.d->id.pk, c), 0);
    assert_int_equal(c->role, CRDT_ROLE_DISTRICT);
    assert_int_equal(c->scope_len, 3);
    assert_string_equal(c->scope[0], "568");
    assert_string_equal(c->scope[1], "22333");
    assert_string_equal(c->scope[2], "22334");
    assert_int_equal(c->flags, 0);
    assert_int_equal(cert_of(t.c, t.c->id.pk, c), 0);
    assert_int_equal(c->role, CRDT_ROLE_COMMUNE);
    assert_int_equal(c->scope_len, 1);
    assert_string_equal(c->scope[0], "22333");
    assert_memory_equal(c->issuer, t.d->id.pk, TV_NODE_ID_BYTES);
    /* the whole chain is installed at the commune */
    assert_int_equal(cert_of(t.c, t.p->id.pk, c), 0);
    assert_true(crdt_cert_is_root(c));
    assert_int_equal(cert_of(t.c, t.d->id.pk, c), 0);
    /* the issuers recorded the certificates in their logs */
    assert_int_equal(events_of(t.p, CRDT_EV_CERT), 2);
    assert_int_equal(events_of(t.d, CRDT_EV_CERT), 1);

    /* pseudonym keys (PROTOCOL.md §8.2): the health root holds K_p; the district without
     * the health flag holds none and could give none, so the commune it enrolled keeps
     * its local key (a key_grant brings its K_c later) */
    uint8_t kp[TV_TRACING_KEY_BYTES], kc[TV_TRACING_KEY_BYTES], k[TV_TRACING_KEY_BYTES];
    assert_int_equal(t.p->tracing_kind, TV_KEY_PROVINCE);
    assert_int_equal(tv_node_province_key(t.p, kp), 0);
    assert_int_equal(t.d->tracing_kind, TV_KEY_NONE);
    assert_int_equal(tv_node_province_key(t.d, k), TV_ENOTFOUND);
    assert_int_equal(tv_node_commune_key(t.d, "22333", k), TV_ENOTFOUND);
    assert_int_equal(tv_node_ref_key(t.d, k), TV_ENOTFOUND);
    assert_int_equal(t.c->tracing_kind, TV_KEY_LOCAL);
    assert_int_equal(tv_node_ref_key(t.c, k), 0);
    assert_memory_equal(k, old_key, sizeof k);
    assert_int_equal(tv_node_province_key(t.c, k), TV_ENOTFOUND);
    /* a commune the province enrols itself, as it holds K_p, gets its own K_c, in memory
     * and on disk, and nothing that derives another commune's */
    char c2dir[4300];
    snprintf(c2dir, sizeof c2dir, "%s/c2", t.tmp);
    tv_node *c2 = node_new(c2dir, TV_ROLE_COMMUNE, "22334", "UBND Xã Diên Toàn");
    enrol(t.p, c2, &commune_opts);
    tv_commune_key_derive(kp, "22334", kc);
    assert_int_equal(c2->tracing_kind, TV_KEY_COMMUNE);
    assert_int_equal(tv_node_ref_key(c2, k), 0);
    assert_memory_equal(k, kc, sizeof k);
    assert_int_equal(tv_node_commune_key(c2, "22333", k), TV_ENOTFOUND);
    assert_int_equal(tv_node_province_key(c2, k), TV_ENOTFOUND);
    tv_node_close(c2);
    assert_int_equal(tv_node_open(c2, c2dir, TV_NODE_WRITE), 0);
    assert_int_equal(c2->tracing_kind, TV_KEY_COMMUNE);
    assert_string_equal(c2->tracing_unit, "22334");
    assert_int_equal(tv_node_ref_key(c2, k), 0);
    assert_memory_equal(k, kc, sizeof k);
    assert_int_equal(tv_node_commune_key(t.p, "22334", k), 0);
    assert_memory_equal(k, kc, sizeof k);
    tv_node_close(c2);
    free(c2);
    struct stat st;
    char key_path[4300];
    snprintf(key_path, sizeof key_path, "%s/" TV_SECRET_FILE, t.dir[2]);
    assert_int_equal(stat(key_path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* locked (no kept key), the node opens without its secrets */
    assert_int_equal(tv_node_forget_unlocked(t.c), 0);
    tv_node_close(t.c);
    assert_int_equal(tv_node_open(t.c, t.dir[2], TV_NODE_WRITE | TV_NODE_SECRET), TV_ELOCKED);
    assert_int_equal(tv_node_open(t.c, t.dir[2], TV_NODE_WRITE), 0);
    assert_false(t.c->unlocked);
    uint8_t zero[TV_TRACING_KEY_BYTES] = {0};
    assert_memory_equal(t.c->tracing_key, zero, sizeof zero);
    assert_int_equal(tv_node_ref_key(t.c, k), TV_ELOCKED);
    assert_int_equal(tv_node_unlock(t.c, "wrong", 5), TV_EPASSPHRASE);
    assert_int_equal(tv_node_unlock(t.c, TV_TEST_PASS_TEXT, strlen(TV_TEST_PASS_TEXT)), 0);
    assert_int_equal(tv_node_ref_key(t.c, k), 0);
    assert_memory_equal(k, old_key, sizeof k);
    assert_int_equal(tv_node_keep_unlocked(t.c, 0), 0);

    /* down the tree: the province's log (its root certificate and the district's) and the
     * district's (the commune's certificate) are accepted at the commune */
    ship(t.p, t.p->id.pk, t.c);
    ship(t.d, t.d->id.pk, t.c);

    /* up the tree: the commune's log is refused at the province until the district's
     * log, which holds the commune's certificate, has arrived there */
    record_scan(t.c, venue, "22333", 1);
    batches cb;
    collect(t.c, t.c->id.pk, &cb);
    assert_int_equal(cb.n, 2);
    assert_int_equal(apply_all(t.p, &cb), TV_EUNTRUSTED);
    assert_int_equal(events_of(t.p, CRDT_EV_SCAN), 0);
    ship(t.d, t.d->id.pk, t.p);
    assert_int_equal(apply_all(t.p, &cb), 0);
    assert_int_equal(events_of(t.p, CRDT_EV_SCAN), 1);
    assert_int_equal(events_of(t.p, CRDT_EV_VENUE_UPSERT), 1);
    store_txn *tx;
    store_venue *sv = malloc(sizeof *sv);
    assert_int_equal(store_read_begin(t.p->st, &tx), 0);
    assert_int_equal(store_venue_get(tx, venue, sv), 0);
    store_read_end(tx);
    assert_string_equal(sv->unit, "22333");
    assert_string_equal(sv->name, "Chợ Diên An");
    free(sv);
    /* and at the district, which issued the commune's certificate */
    assert_int_equal(apply_all(t.d, &cb), 0);
    assert_int_equal(events_of(t.d, CRDT_EV_SCAN), 1);
    batches_free(&cb);

    free(c);
    tree_free(&t);
}

/* A batch the commune signs with a scan of a unit outside its certificate (but inside the
 * district's) is refused at the district, and leaves no trace there: at the commune's own
 * venue, registered in 22333 (V2), or at a venue the district has not seen registered (S1:
 * refused, not parked). */
static void test_out_of_scope(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    enrol(t.p, t.d, &district_opts);
    enrol(t.d, t.c, &commune_opts);
    uint8_t venue[TV_VENUE_ID_BYTES], unknown[TV_VENUE_ID_BYTES];
    register_venue(t.c, 1, venue);
    test_venue_id(unknown, t.c->id.pk, 2, NULL);
    record_scan(t.c, venue, "22333", 1);
    ship(t.c, t.c->id.pk, t.d);

    store_txn *tx;
    store_frontier f;
    assert_int_equal(store_read_begin(t.c->st, &tx), 0);
    assert_int_equal(store_frontier_get(tx, t.c->id.pk, &f), 0);
    store_read_end(tx);
    for (int i = 0; i < 2; i++) {
        crdt_batch_builder b;
        crdt_batch_builder_init(&b);
        crdt_scan s = test_scan(2, tv_wall_ms());
        s.unit = (crdt_text){"22334", 5};
        memcpy(s.venue, i ? unknown : venue, TV_VENUE_ID_BYTES);
        crdt_hlc clock = t.c->clock;
        uint64_t hlc = crdt_hlc_now(&clock, (uint64_t)tv_wall_ms());
        assert_true(hlc > f.hlc_max);
        assert_int_equal(crdt_event_pack_scan(&b.pk, hlc, &s), 0);
        crdt_batch_builder_note(&b, hlc);
        uint8_t *buf;
        size_t len;
        assert_int_equal(crdt_batch_seal(&b, &t.c->id, f.seq + 1, f.hash, &buf, &len, NULL), 0);
        crdt_batch_builder_release(&b);
        uint64_t before = events_of(t.d, 0);
        tv_apply_item it = {.buf = buf, .len = len};
        assert_int_equal(tv_node_apply(t.d, &it, 1), 0);
        assert_int_equal(it.rc, TV_ESCOPE);
        assert_non_null(it.r.rule);
        assert_string_equal(it.r.rule, i ? STORE_RULE_S1 : STORE_RULE_V2);
        assert_int_equal(events_of(t.d, 0), before);
        free(buf);
    }

    /* the commune's next real batch, in scope, still continues its log there */
    record_scan(t.c, venue, "22333", 3);
    batches cb;
    collect(t.c, t.c->id.pk, &cb);
    assert_int_equal(apply_from(t.d, &cb, cb.n - 1), 0);
    batches_free(&cb);
    tree_free(&t);
}

/* The district revokes the commune: its later batches are refused wherever the revocation
 * has been applied; only the root or the issuer may revoke. */
static void test_revoke(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    enrol(t.p, t.d, &district_opts);
    enrol(t.d, t.c, &commune_opts);
    ship(t.d, t.d->id.pk, t.p);
    uint8_t venue[TV_VENUE_ID_BYTES];
    register_venue(t.c, 1, venue);
    record_scan(t.c, venue, "22333", 1);
    ship(t.c, t.c->id.pk, t.d);
    ship(t.c, t.c->id.pk, t.p);

    char why[TV_ENROLL_WHY_MAX] = "";
    uint64_t seq;
    /* not the issuer of the district's certificate, nor the root */
    assert_int_equal(tv_enroll_revoke(t.c, t.d->id.pk, NULL, &seq, why), TV_EPERM);
    assert_true(why[0] != '\0');
    assert_int_equal(tv_enroll_revoke(t.d, t.p->id.pk, NULL, &seq, why), TV_EPERM);
    assert_int_equal(tv_enroll_revoke(t.d, t.d->id.pk, NULL, &seq, why), TV_EINVAL);
    crdt_revoke r = {.reason = {"", 0}};
    memcpy(r.subject, t.d->id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(tv_node_add_revoke(t.c, &r, NULL), TV_EPERM);
    assert_int_equal(tv_node_pending(t.c), 0);
    assert_int_equal(events_of(t.d, CRDT_EV_REVOKE), 0);

    /* the issuer may */
    assert_int_equal(tv_enroll_revoke(t.d, t.c->id.pk, "máy bị mất", &seq, why), 0);
    assert_true(seq > 0);
    assert_int_equal(revoked_at(t.d, t.c->id.pk), 1);
    assert_int_equal(tv_enroll_revoke(t.d, t.c->id.pk, NULL, &seq, why), TV_EEXIST);

    record_scan(t.c, venue, "22333", 2);
    batches cb;
    collect(t.c, t.c->id.pk, &cb);
    assert_int_equal(apply_from(t.d, &cb, cb.n - 1), TV_EREVOKED);
    /* the province refuses it once the revocation has arrived there */
    assert_int_equal(revoked_at(t.p, t.c->id.pk), 0);
    ship(t.d, t.d->id.pk, t.p);
    assert_int_equal(revoked_at(t.p, t.c->id.pk), 1);
    assert_int_equal(apply_from(t.p, &cb, cb.n - 1), TV_EREVOKED);
    assert_int_equal(events_of(t.p, CRDT_EV_SCAN), 1);
    batches_free(&cb);

    /* a revoked node is not enrolled again by its issuer */
    size_t len;
    free(issue(t.d, t.c, &commune_opts, &len, TV_EPERM));
    /* the root may revoke any node, and only the root certifies a revoked key again,
     * which reinstates it (T6) */
    assert_int_equal(tv_enroll_revoke(t.p, t.d->id.pk, "thay máy", &seq, why), 0);
    free(issue(t.p, t.d, &district_opts, &len, 0));
    tree_free(&t);
}

/* Issuing is refused, with nothing recorded, for every reason the parent's own certificate
 * gives. */
static void test_issue_refusals(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    size_t len;
    /* the district is not enrolled yet, and a commune never issues */
    free(issue(t.d, t.c, &commune_opts, &len, TV_EPERM));
    free(issue(t.c, t.d, &commune_opts, &len, TV_EPERM));

    /* a district valid for 30 days only, without the health flag */
    tv_enroll_issue_opts o = district_opts;
    o.days = 30;
    enrol(t.p, t.d, &o);
    uint64_t before = events_of(t.d, 0);

    /* a scope wider than the district's own */
    static const char *const wide[] = {"22335"};
    tv_enroll_issue_opts w = {.scope = wide, .scope_len = 1};
    free(issue(t.d, t.c, &w, &len, TV_EPERM));
    static const char *const all[] = {CRDT_SCOPE_ALL};
    w.scope = all;
    free(issue(t.d, t.c, &w, &len, TV_EPERM));
    static const char *const junk[] = {"22 333"};
    w.scope = junk;
    free(issue(t.d, t.c, &w, &len, TV_EINVAL));
    /* the health flag from a district that lacks it */
    tv_enroll_issue_opts h = {.health = 1};
    free(issue(t.d, t.c, &h, &len, TV_EPERM));
    /* longer than the district's own certificate */
    tv_enroll_issue_opts long_days = {.days = 60};
    free(issue(t.d, t.c, &long_days, &len, TV_EPERM));
    /* a commune of another unit, and a district asking a district */
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/c2", t.tmp);
    tv_node *c2 = node_new(dir, TV_ROLE_COMMUNE, "22999", "Xã ngoài huyện");
    free(issue(t.d, c2, &commune_opts, &len, TV_EPERM));
    snprintf(dir, sizeof dir, "%s/d2", t.tmp);
    tv_node *d2 = node_new(dir, TV_ROLE_DISTRICT, "569", "Huyện khác");
    free(issue(t.d, d2, &commune_opts, &len, TV_EPERM));
    assert_int_equal(events_of(t.d, 0), before);

    /* a certificate this node could not issue is refused before it reaches the log */
    crdt_cert *c = calloc(1, sizeof *c);
    memcpy(c->subject, c2->id.pk, TV_NODE_ID_BYTES);
    memcpy(c->issuer, t.d->id.pk, TV_NODE_ID_BYTES);
    c->role = CRDT_ROLE_COMMUNE;
    strcpy(c->unit, "22999");
    c->scope_len = 1;
    strcpy(c->scope[0], "22999");
    c->not_before_ms = tv_wall_ms();
    c->not_after_ms = c->not_before_ms + 1000;
    uint8_t *raw;
    size_t raw_len;
    assert_int_equal(crdt_cert_sign(c, &t.d->id, &raw, &raw_len), 0);
    crdt_cert_event ev = {.cert = raw, .len = raw_len};
    assert_int_equal(tv_node_add_cert(t.d, &ev, NULL), TV_EPERM);
    raw[raw_len - 1] ^= 1;
    assert_int_equal(tv_node_add_cert(t.d, &ev, NULL), TV_EINVAL);
    assert_int_equal(tv_node_pending(t.d), 0);
    free(raw);
    free(c);

    /* what the district may give: its own expiry when no --days */
    char *file = issue(t.d, t.c, &commune_opts, &len, 0);
    tv_enroll_accepted *acc = malloc(sizeof *acc);
    assert_int_equal(accept_file(t.c, file, len, acc), 0);
    crdt_cert *dc = malloc(sizeof *dc);
    assert_int_equal(cert_of(t.d, t.d->id.pk, dc), 0);
    assert_true(dc->not_after_ms > 0);
    assert_int_equal(acc->cert.not_after_ms, dc->not_after_ms);
    /* the province, which holds the health flag, may grant it */
    tv_enroll_issue_opts ph = {.health = 1};
    free(issue(t.p, d2, &ph, &len, 0));
    assert_int_equal(cert_of(t.p, d2->id.pk, dc), 0);
    assert_int_equal(dc->flags, CRDT_CERT_F_HEALTH);
    free(dc);
    free(acc);
    free(file);
    tv_node_close(c2);
    free(c2);
    tv_node_close(d2);
    free(d2);
    tree_free(&t);
}

/* A request whose text was altered is refused by its signature. */
static void test_request_tampered(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    tv_enroll_request r;
    char text[TV_ENROLL_REQUEST_BYTES_MAX], why[TV_ENROLL_WHY_MAX] = "";
    assert_int_equal(tv_enroll_request_make(t.c, &r), 0);
    int len = tv_enroll_request_format(&r, text, sizeof text);
    assert_true(len > 0);
    for (int i = 0; i < len; i++) {
        text[i] ^= 1;
        assert_int_not_equal(tv_enroll_request_parse(&r, text, (size_t)len, why), 0);
        text[i] ^= 1;
    }
    /* a changed unit (still a valid code) fails on the signature */
    char *unit = strstr(text, "unit: 22333");
    assert_non_null(unit);
    unit[10] = '4';
    assert_int_equal(tv_enroll_request_parse(&r, text, (size_t)len, why), TV_ESIG);
    unit[10] = '3';
    /* another version is named as such */
    text[24] = '2';
    assert_int_equal(tv_enroll_request_parse(&r, text, (size_t)len, why), TV_EVERSION);
    text[24] = '1';
    assert_int_equal(tv_enroll_request_parse(&r, text, (size_t)len, why), 0);
    tree_free(&t);
}

/* A request whose node id is an Ed25519 key with a small-order part (A + T, T of order 8):
 * its signature can be made to verify (one try in eight, on the creation time), but no
 * key can be sealed to it. Refused before anything is issued or recorded. */
static void test_request_key_unusable(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    static const uint8_t t8[32] = {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
                                   0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
                                   0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a};
    uint8_t seed[32], pk[32], sk[64];
    memset(seed, 0x5a, sizeof seed);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
    tv_enroll_request r = {.role = TV_ROLE_DISTRICT, .unit = "568", .name = "Huyện giả"};
    assert_int_equal(crypto_core_ed25519_add(r.node_id, pk, t8), 0);
    memcpy(sk + 32, r.node_id, 32); /* signs as A + T */
    char text[TV_ENROLL_REQUEST_BYTES_MAX], why[TV_ENROLL_WHY_MAX] = "";
    int verified = 0;
    for (r.created_ms = 1700000000000; !verified && r.created_ms < 1700000000064; r.created_ms++) {
        memset(r.sig, 0, sizeof r.sig);
        int len = tv_enroll_request_format(&r, text, sizeof text);
        assert_true(len > 0);
        const char *sig = strstr(text, "signature:");
        assert_non_null(sig);
        assert_int_equal(crdt_sign(r.sig, TV_ENROLL_REQUEST_SIGN_CONTEXT, (const uint8_t *)text,
                                   (size_t)(sig - text), sk),
                         0);
        len = tv_enroll_request_format(&r, text, sizeof text);
        tv_enroll_request back;
        verified = tv_enroll_request_parse(&back, text, (size_t)len, why) == 0;
    }
    assert_true(verified); /* the signature holds... */
    uint8_t xpk[32];
    assert_int_not_equal(crypto_sign_ed25519_pk_to_curve25519(xpk, r.node_id),
                         0); /* ...not the key */
    r.created_ms--;
    char *file = NULL;
    size_t len = 0;
    static const char *const scope[] = {"22333"};
    tv_enroll_issue_opts o = {.scope = scope, .scope_len = 1};
    assert_int_equal(tv_enroll_issue(t.p, &r, &o, &file, &len, NULL, why), TV_EINVAL);
    assert_null(file);
    assert_non_null(strstr(why, "not a usable public key"));
    store_txn *tx;
    crdt_cert c;
    assert_int_equal(store_read_begin(t.p->st, &tx), 0);
    assert_int_equal(store_cert_get(tx, r.node_id, &c, NULL, NULL), TV_ENOTFOUND);
    store_read_end(tx);
    tree_free(&t);
}

/* Every single flipped byte of a certificate file is refused at accept, with nothing
 * installed; the file with CRLF line ends is taken; another node's file and another
 * root's file are refused. */
static void test_cert_file_tampered(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    size_t len;
    char *file = issue(t.p, t.d, &district_opts, &len, 0);
    tv_enroll_accepted *acc = malloc(sizeof *acc);
    uint8_t root[TV_NODE_ID_BYTES], key[TV_TRACING_KEY_BYTES];
    memcpy(key, t.d->tracing_key, sizeof key);
    for (size_t i = 0; i < len; i++) {
        file[i] ^= 1;
        assert_int_not_equal(accept_file(t.d, file, len, acc), 0);
        file[i] ^= 1;
    }
    /* cut short */
    assert_int_not_equal(accept_file(t.d, file, len / 2, acc), 0);
    assert_int_equal(root_of(t.d, root), TV_ENOTFOUND);
    assert_memory_equal(t.d->tracing_key, key, sizeof key);

    /* the file is for the district, not the commune */
    assert_int_equal(accept_file(t.c, file, len, acc), TV_EPERM);
    assert_int_equal(root_of(t.c, root), TV_ENOTFOUND);

    /* CRLF line ends, as a file mailed through another system may come back */
    char *crlf = malloc(2 * len);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (file[i] == '\n') crlf[n++] = '\r';
        crlf[n++] = file[i];
    }
    assert_int_equal(accept_file(t.d, crlf, n, acc), 0);
    assert_true(acc->key_changed);
    assert_int_equal(root_of(t.d, root), 0);
    /* again: nothing changes */
    assert_int_equal(accept_file(t.d, file, len, acc), 0);
    assert_false(acc->key_changed);
    free(crlf);

    /* another province's tree */
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/p2", t.tmp);
    tv_node *p2 = node_new(dir, TV_ROLE_PROVINCE, "57", "Tỉnh khác");
    assert_int_equal(tv_enroll_make_root(p2, 1, NULL), 0);
    size_t len2;
    char *other = issue(p2, t.d, &commune_opts, &len2, 0);
    assert_int_equal(accept_file(t.d, other, len2, acc), TV_EPERM);
    assert_int_equal(root_of(t.d, root), 0);
    assert_memory_equal(root, t.p->id.pk, TV_NODE_ID_BYTES);
    free(other);
    tv_node_close(p2);
    free(p2);
    free(acc);
    free(file);
    tree_free(&t);
}

/* Issuing again replaces the certificate everywhere: the new one starts later. */
static void test_reissue(void **state)
{
    (void)state;
    tree t;
    tree_make(&t);
    enrol(t.p, t.d, &district_opts);
    crdt_cert *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    assert_int_equal(cert_of(t.p, t.d->id.pk, a), 0);
    static const char *const more[] = {"22333", "22334", "22335"};
    int same = -1;
    size_t len;
    /* the same again: the same certificate, nothing recorded */
    tv_enroll_issue_opts again = district_opts;
    again.same = &same;
    free(issue(t.p, t.d, &again, &len, 0));
    assert_int_equal(same, 1);
    assert_int_equal(cert_of(t.p, t.d->id.pk, b), 0);
    assert_int_equal(b->not_before_ms, a->not_before_ms);
    /* a wider scope: refused unless asked for */
    tv_enroll_issue_opts o = {.scope = more, .scope_len = 3, .same = &same};
    assert_null(issue(t.p, t.d, &o, &len, TV_EEXIST));
    o.reissue = 1;
    enrol(t.p, t.d, &o);
    assert_int_equal(same, 0);
    assert_int_equal(cert_of(t.p, t.d->id.pk, b), 0);
    assert_true(b->not_before_ms > a->not_before_ms);
    assert_int_equal(b->scope_len, 4);
    assert_int_equal(cert_of(t.d, t.d->id.pk, b), 0);
    assert_int_equal(b->scope_len, 4);
    free(a);
    free(b);
    tree_free(&t);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_out_of_scope),
        cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_issue_refusals),
        cmocka_unit_test(test_request_tampered),
        cmocka_unit_test(test_request_key_unusable),
        cmocka_unit_test(test_cert_file_tampered),
        cmocka_unit_test(test_reissue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
