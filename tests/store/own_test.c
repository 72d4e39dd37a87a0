/* Tests of the store over a real LMDB environment: the checks of the node's own batches: their
 * certificates and revocations judged as anyone's (store/own.c). */
#include "store_util.h"

static int self_root_fn(store_txn *t, void *arg)
{
    const crdt_identity *id = arg;
    return store_root_set(t, id->pk);
}

/* l's next batch: one cert event carrying raw. Returns what log_try_end returns. */
static int log_raw_cert(one_log *l, const uint8_t *raw, size_t len)
{
    crdt_batch_builder b;
    log_begin(l, &b);
    crdt_cert_event ev = {.cert = raw, .len = len};
    assert_int_equal(crdt_event_pack_cert(&b.pk, l->hlc, &ev), 0);
    return log_try_end(l, &b);
}

/* l's next batch: a certificate of subject (role, unit, scope `scope`) that signer signs as
 * issued by issuer. */
static int log_signed_cert(one_log *l, const crdt_identity *signer, const uint8_t *issuer,
                           const uint8_t *subject, uint32_t role, const char *unit,
                           const char *scope)
{
    static crdt_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, subject, TV_NODE_ID_BYTES);
    memcpy(c.issuer, issuer, TV_NODE_ID_BYTES);
    c.role = role;
    strcpy(c.unit, unit);
    c.scope_len = 1;
    strcpy(c.scope[0], scope);
    uint8_t *raw;
    size_t len;
    assert_int_equal(crdt_cert_sign(&c, signer, &raw, &len), 0);
    int rc = log_raw_cert(l, raw, len);
    free(raw);
    return rc;
}

/* l's next batch: one scan at test_scan's venue (unit 22333). Returns what apply does. */
static int log_one_scan(one_log *l)
{
    uint8_t *buf, h[TV_HASH_BYTES];
    size_t len;
    test_seal_scans(l->id, l->seq + 1, l->seq ? l->prev : NULL, 1, l->hlc + 1, &buf, &len, h);
    store_apply_result r;
    int rc = apply(l->s, buf, len, &r);
    l->rule = r.rule;
    free(buf);
    if (rc == 0) {
        memcpy(l->prev, h, sizeof h);
        l->seq++;
        l->hlc += 1000;
    }
    return rc;
}

/* As a node applies a group of received batches (node.c apply_fn): a refused batch is
 * skipped, a failure of the store aborts the whole group. */
typedef struct group2_ctx {
    uint8_t *buf[2];
    size_t len[2];
    int rc[2];
    const char *rule[2];
} group2_ctx;

static int group2_fn(store_txn *t, void *arg)
{
    group2_ctx *g = arg;
    for (int i = 0; i < 2; i++) {
        store_apply_result r;
        g->rc[i] = store_apply_batch(t, g->buf[i], g->len[i], 0, &r);
        g->rule[i] = r.rule;
        if (g->rc[i] == TV_ESTORE || g->rc[i] == TV_ENOMEM || g->rc[i] == TV_ENOSPC ||
            g->rc[i] == TV_ECORRUPT || g->rc[i] == TV_EIO)
            return g->rc[i];
    }
    return 0;
}

/* A batch of the node's own log whose certificate does not open (one byte) is refused as
 * a peer's would be (T2), not as a failure of the store: the group it came in is applied
 * without it. */
static void test_own_batch_bad_certificate(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity me, a;
    test_identity(&me, 70);
    test_identity(&a, 71);
    const crdt_identity *ids[] = {&a};
    trust(s, ids, 1);
    be_outsider(s); /* test_scan's unit is not ours: a's scans need no registration */
    certify(s, &me, CRDT_ROLE_COMMUNE, "22402", "22402", NULL);
    be_node(s, &me);
    store_counts c0 = counts(s);

    static const uint8_t one_byte[1] = {0xc0};
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    uint64_t hlc = crdt_hlc_make(1633482000000ULL, 0);
    crdt_cert_event ev = {.cert = one_byte, .len = 1};
    assert_int_equal(crdt_event_pack_cert(&b.pk, hlc, &ev), 0);
    crdt_batch_builder_note(&b, hlc);
    group2_ctx g;
    uint8_t h[TV_HASH_BYTES];
    assert_int_equal(crdt_batch_seal(&b, &me, 1, NULL, &g.buf[0], &g.len[0], h), 0);
    crdt_batch_builder_release(&b);
    /* a peer's batch in the same group */
    test_seal_scans(&a, 1, NULL, 3, 10, &g.buf[1], &g.len[1], h);

    assert_int_equal(store_write(s, group2_fn, &g), 0);
    assert_int_equal(g.rc[0], TV_ESCOPE);
    assert_string_equal(g.rule[0], STORE_RULE_T2);
    assert_int_equal(g.rc[1], 0);
    assert_int_equal(frontier(s, me.pk).seq, 0);
    assert_int_equal(frontier(s, a.pk).seq, 3);
    store_counts c = counts(s);
    assert_int_equal(c.events, c0.events + 3);
    assert_int_equal(c.batches, c0.batches + 1);
    for (int i = 0; i < 2; i++)
        free(g.buf[i]);
    store_close(s);
    test_rmdir(dir);
}

/* A batch of the node's own log is judged by the rules of the tree: a certificate the node
 * issues that does not narrow its own (scope *) is refused (T2) and the key it names stays
 * untrusted; a certificate of its own key issued by itself is refused (T1); a revocation of
 * a node outside its chain is refused (T5); a lawful certificate goes in. */
static void test_own_batch_judged(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity me, a, k, k2, root;
    test_identity(&me, 72);
    test_identity(&a, 73);
    test_identity(&k, 74);
    test_identity(&k2, 75);
    test_identity(&root, 0xee);
    const crdt_identity *ids[] = {&a};
    trust(s, ids, 1);
    /* scope 22402: test_scan's venues (unit 22333) are not shown here, need no registration */
    certify(s, &me, CRDT_ROLE_DISTRICT, "569", "22402", NULL);
    be_node(s, &me);
    one_log lme = {.s = s, .id = &me}, lk = {.s = s, .id = &k}, la = {.s = s, .id = &a};

    /* the node signs k a province's certificate, scope *: refused, nothing stored */
    assert_int_equal(
        log_signed_cert(&lme, &me, me.pk, k.pk, CRDT_ROLE_PROVINCE, "56", CRDT_SCOPE_ALL),
        TV_ESCOPE);
    assert_string_equal(lme.rule, STORE_RULE_T2);
    assert_int_equal(frontier(s, me.pk).seq, 0);
    /* and k is trusted with nothing: its batch is refused, untrusted */
    assert_int_equal(log_one_scan(&lk), TV_EUNTRUSTED);
    assert_string_equal(lk.rule, STORE_RULE_T7);

    /* a certificate of its own key that it issues itself, scope *: not the root (T1) */
    assert_int_equal(
        log_signed_cert(&lme, &me, me.pk, me.pk, CRDT_ROLE_PROVINCE, "56", CRDT_SCOPE_ALL),
        TV_ESCOPE);
    assert_string_equal(lme.rule, STORE_RULE_T1);
    assert_true(installed_issuer_is(s, &me, &root));

    /* a revocation of a, which the root certified: not in a's chain (T5) */
    crdt_batch_builder b;
    log_begin(&lme, &b);
    crdt_revoke rv = {0};
    memcpy(rv.subject, a.pk, TV_NODE_ID_BYTES);
    assert_int_equal(crdt_event_pack_revoke(&b.pk, lme.hlc, &rv), 0);
    assert_int_equal(log_try_end(&lme, &b), TV_ESCOPE);
    assert_string_equal(lme.rule, STORE_RULE_T5);
    assert_int_equal(log_one_scan(&la), 0); /* a is not revoked */
    assert_int_equal(frontier(s, me.pk).seq, 0);

    /* a lawful certificate: a commune of its scope */
    assert_int_equal(log_signed_cert(&lme, &me, me.pk, k2.pk, CRDT_ROLE_COMMUNE, "22402", "22402"),
                     0);
    assert_true(installed_issuer_is(s, &k2, &me));
    assert_int_equal(frontier(s, me.pk).seq, 1);
    store_close(s);
    test_rmdir(dir);
}

/* A node not enrolled (no root) records its own events, but no certificate in its log fits
 * a tree it does not have (T1); once its root is set (as the province sets its own before
 * writing its certificate), its root certificate goes in. */
static void test_own_batch_before_root(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity me;
    test_identity(&me, 76);
    be_node(s, &me);
    one_log l = {.s = s, .id = &me};
    assert_int_equal(log_one_scan(&l), 0); /* its own scans, before any root */
    assert_int_equal(
        log_signed_cert(&l, &me, me.pk, me.pk, CRDT_ROLE_PROVINCE, "56", CRDT_SCOPE_ALL),
        TV_ESCOPE);
    assert_string_equal(l.rule, STORE_RULE_T1);
    assert_int_equal(store_write(s, self_root_fn, &me), 0);
    assert_int_equal(
        log_signed_cert(&l, &me, me.pk, me.pk, CRDT_ROLE_PROVINCE, "56", CRDT_SCOPE_ALL), 0);
    assert_true(installed_issuer_is(s, &me, &me));
    assert_int_equal(frontier(s, me.pk).seq, 2);
    store_close(s);
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_batch_bad_certificate),
        cmocka_unit_test(test_own_batch_judged),
        cmocka_unit_test(test_own_batch_before_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
