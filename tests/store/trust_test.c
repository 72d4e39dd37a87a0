/* Tests of the store over a real LMDB environment: trust: the cache of decoded certificates, venue
 * events judged by the registered unit, consent, revocation and reinstatement (store/trust.c). */
#include "store_util.h"

static uint32_t scope_len_now(store *s, const uint8_t *subject)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    uint32_t n = scope_len_of(t, subject);
    store_read_end(t);
    return n;
}

/* A certificate read back comes from the cache while no certificate was written; one
 * written shows at once in its own transaction, never after that transaction aborted, and
 * everywhere once committed. */
static void test_cert_cache(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity node, root;
    test_identity(&node, 3);
    test_identity(&root, 0xee);
    const crdt_identity *ids[] = {&node};
    trust(s, ids, 1);
    assert_int_equal(scope_len_now(s, node.pk), 1); /* fills the cache */
    assert_int_equal(scope_len_now(s, node.pk), 1); /* from it */
    recert_ctx x = {.root = &root, .node = &node, .abort = 1};
    assert_int_equal(store_write(s, recert_fn, &x), TV_EINVAL);
    assert_int_equal(x.in_txn, 2);
    assert_int_equal(scope_len_now(s, node.pk), 1); /* the aborted write left nothing */
    x.abort = 0;
    assert_int_equal(store_write(s, recert_fn, &x), 0);
    assert_int_equal(x.in_txn, 2);
    assert_int_equal(scope_len_now(s, node.pk), 2);
    store_close(s);
    /* and another handle (another process) sees the same */
    assert_int_equal(store_open(&s, dir, NULL), 0);
    assert_int_equal(scope_len_now(s, node.pk), 2);
    store_close(s);
    test_rmdir(dir);
}

/* V2: an event about a venue names its registered unit, from an origin whose scope covers
 * it: commune A (22333) writes nothing about commune B's venue (22402), whatever unit it
 * names; a district covering both may, but only naming 22402. */
static void test_venue_events_judged_by_registered_unit(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity a, b, d;
    test_identity(&a, 42);
    test_identity(&b, 43);
    test_identity(&d, 44);
    const crdt_identity *ids[] = {&a};
    trust(s, ids, 1);
    certify(s, &b, CRDT_ROLE_COMMUNE, "22402", "22402", NULL);
    certify(s, &d, CRDT_ROLE_DISTRICT, "568", "22333", "22402");
    one_log la = {.s = s, .id = &a}, lb = {.s = s, .id = &b}, ld = {.s = s, .id = &d};
    crdt_venue_upsert reg;
    test_venue_register(&reg, b.pk, 1, "22402", "Chợ Ninh Hòa");
    assert_int_equal(log_registration(&lb, &reg), 0);
    store_txn *t;
    const uint8_t *raw;
    size_t len;
    uint8_t before[512];
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_venue_raw(t, reg.venue, &raw, &len), 0);
    assert_true(len <= sizeof before);
    memcpy(before, raw, len);
    store_read_end(t);

    static const char *const units[] = {"22333", "22402"};
    for (int kind = ABOUT_UPSERT; kind <= ABOUT_REMINDER; kind++)
        for (int u = 0; u < 2; u++) {
            assert_int_equal(log_about(&la, kind, reg.venue, units[u], "Chợ của xã khác"),
                             TV_ESCOPE);
            assert_non_null(la.rule);
            assert_string_equal(la.rule, STORE_RULE_V2);
        }
    /* an upsert naming no unit is refused: every event about a venue names its unit */
    assert_int_equal(log_about(&la, ABOUT_UPSERT, reg.venue, NULL, "Chợ của xã khác"), TV_ESCOPE);
    assert_string_equal(la.rule, STORE_RULE_V2);
    assert_int_equal(frontier(s, a.pk).seq, 0);
    /* the district's scan must name the venue's unit, though its scope covers both */
    assert_int_equal(log_about(&ld, ABOUT_SCAN, reg.venue, "22333", NULL), TV_ESCOPE);
    assert_string_equal(ld.rule, STORE_RULE_V2);
    assert_int_equal(scans_at(s, reg.venue), 0);
    assert_int_equal(log_about(&ld, ABOUT_SCAN, reg.venue, "22402", NULL), 0);
    assert_int_equal(scans_at(s, reg.venue), 1);

    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(store_venue_raw(t, reg.venue, &raw, &len), 0);
    assert_memory_equal(raw, before, len);
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
}

/* d's next batch: a certificate d issues to k for unit (scope the unit), from not_before
 * nb, with k's consent signed by signer (NULL: none). Returns what log_try_end returns. */
static int log_cert(one_log *l, const crdt_identity *k, const char *unit, int64_t nb,
                    const crdt_identity *signer)
{
    static crdt_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, k->pk, TV_NODE_ID_BYTES);
    memcpy(c.issuer, l->id->pk, TV_NODE_ID_BYTES);
    c.role = CRDT_ROLE_COMMUNE;
    strcpy(c.unit, unit);
    c.scope_len = 1;
    strcpy(c.scope[0], unit);
    c.not_before_ms = nb;
    uint8_t *raw, sig[TV_SIG_BYTES];
    size_t len;
    assert_int_equal(crdt_cert_sign(&c, l->id, &raw, &len), 0);
    /* the request as its subject signs it (PROTOCOL.md 8.1), written out independently */
    char hex[2 * TV_NODE_ID_BYTES + 1], text[512];
    tv_hex_encode(hex, k->pk, TV_NODE_ID_BYTES);
    int n = snprintf(text, sizeof text,
                     "truyvet-enroll-request-v1\nnode: %s\nrole: commune\nunit: %s\nname: "
                     "UBND Xã Cam Lợi\ncreated: 1633000000000\n",
                     hex, unit);
    if (signer)
        assert_int_equal(crdt_sign(sig, "truyvet/enroll-request/v1", (const uint8_t *)text,
                                   (size_t)n, signer->sk),
                         0);
    crdt_cert_event ev = {.cert = raw,
                          .len = len,
                          .consent = signer != NULL,
                          .consent_name = {"UBND Xã Cam Lợi", (uint32_t)strlen("UBND Xã Cam Lợi")},
                          .consent_created_ms = 1633000000000LL,
                          .consent_sig = sig};
    crdt_batch_builder b;
    log_begin(l, &b);
    assert_int_equal(crdt_event_pack_cert(&b.pk, l->hlc, &ev), 0);
    free(raw);
    return log_try_end(l, &b);
}

/* T4 with consent: a district that certified another district's new commune's key first
 * keeps it only until that commune's own district certifies it with the commune's signed
 * request; a consent signed by anyone else is a forgery; without consent, a certificate
 * from outside the installed one's chain is refused. */
static void test_consent_outranks(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity d1, d2, k;
    test_identity(&d1, 61);
    test_identity(&d2, 62);
    test_identity(&k, 63);
    trust(s, NULL, 0);
    certify(s, &d1, CRDT_ROLE_DISTRICT, "568", "22333", NULL);
    certify(s, &d2, CRDT_ROLE_DISTRICT, "569", "22402", NULL);
    one_log l1 = {.s = s, .id = &d1}, l2 = {.s = s, .id = &d2};

    /* D1 pre-empts k's key, for a commune of its own scope, without k's consent */
    assert_int_equal(log_cert(&l1, &k, "22333", 1633100000000LL, NULL), 0);
    assert_true(installed_issuer_is(s, &k, &d1));
    /* D2 with a consent its own key signed: a forgery, refused */
    assert_int_equal(log_cert(&l2, &k, "22402", 1633200000000LL, &d2), TV_ESCOPE);
    assert_string_equal(l2.rule, STORE_RULE_T4);
    assert_true(installed_issuer_is(s, &k, &d1));
    /* D2 with k's own signed request: it replaces D1's */
    assert_int_equal(log_cert(&l2, &k, "22402", 1633200000000LL, &k), 0);
    assert_true(installed_issuer_is(s, &k, &d2));
    /* D1 again, without consent, from outside D2's chain: refused (T4) */
    assert_int_equal(log_cert(&l1, &k, "22333", 1633210000000LL, NULL), TV_ESCOPE);
    assert_string_equal(l1.rule, STORE_RULE_T4);
    assert_true(installed_issuer_is(s, &k, &d2));
    /* the root re-certifies k (as after revoking D2), with the same not_before and no
     * consent: from above D2, it replaces D2's (T4) */
    crdt_identity root;
    test_identity(&root, 0xee);
    one_log lr = {.s = s, .id = &root};
    assert_int_equal(log_cert(&lr, &k, "22402", 1633200000000LL, NULL), 0);
    assert_true(installed_issuer_is(s, &k, &root));
    /* D2 again, below the root now: lawful, never replaces */
    assert_int_equal(log_cert(&l2, &k, "22402", 1633250000000LL, &k), 0);
    assert_true(installed_issuer_is(s, &k, &root));
    /* D1 again, later, without consent: below the root too, lawful, never replaces */
    assert_int_equal(log_cert(&l1, &k, "22333", 1633300000000LL, NULL), 0);
    assert_true(installed_issuer_is(s, &k, &root));
    store_close(s);
    test_rmdir(dir);
}

static int revoked_now(store *s, const crdt_identity *k)
{
    store_txn *t;
    assert_int_equal(store_read_begin(s, &t), 0);
    int rc = store_revoked(t, k->pk);
    store_read_end(t);
    return rc;
}

/* T6: a revoked key is reinstated by a certificate the root issues it after the
 * revocation (by not_before against the revocation's HLC time); an older one does not. */
static void test_root_reinstates(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity root, k;
    test_identity(&root, 0xee);
    test_identity(&k, 64);
    trust(s, NULL, 0);
    one_log lr = {.s = s, .id = &root};
    assert_int_equal(log_cert(&lr, &k, "22402", 1633100000000LL, NULL), 0);
    assert_int_equal(revoked_now(s, &k), 0);
    /* the root revokes k (at HLC time 1633482060000, its log's second event) */
    crdt_batch_builder b;
    log_begin(&lr, &b);
    crdt_revoke rv = {.reason = {"mất máy", (uint32_t)strlen("mất máy")}};
    memcpy(rv.subject, k.pk, TV_NODE_ID_BYTES);
    assert_int_equal(crdt_event_pack_revoke(&b.pk, lr.hlc, &rv), 0);
    assert_int_equal(log_try_end(&lr, &b), 0);
    assert_int_equal(revoked_now(s, &k), 1);
    /* a certificate from before the revocation does not reinstate */
    assert_int_equal(log_cert(&lr, &k, "22402", 1633200000000LL, NULL), 0);
    assert_int_equal(revoked_now(s, &k), 1);
    /* one from after it does */
    assert_int_equal(log_cert(&lr, &k, "22402", 1633500000000LL, NULL), 0);
    assert_int_equal(revoked_now(s, &k), 0);
    store_close(s);
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_cache),
        cmocka_unit_test(test_venue_events_judged_by_registered_unit),
        cmocka_unit_test(test_consent_outranks),
        cmocka_unit_test(test_root_reinstates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
