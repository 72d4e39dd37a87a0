/* Tests of sealed personal details: only the health node they were sealed to opens them,
 * damage is detected, and recipients are the certified health nodes covering the commune. */
#include "crdt/error.h"
#include "node/logic/seal.h"
#include "test_util.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0) return 1;
    return 0;
}

static void details(tv_details *d)
{
    memset(d, 0, sizeof *d);
    strcpy(d->name, "Nguyễn Văn An");
    strcpy(d->cccd, "001099012345");
    strcpy(d->phone, "0912345678");
    strcpy(d->birth, "1999-03-15");
    strcpy(d->sex, "Nam");
    strcpy(d->address, "Số 1 Phố X, Phường Ba Đình, Hà Nội");
}

static void test_seal_open(void **state)
{
    (void)state;
    crdt_identity health, other;
    test_identity(&health, 0x51);
    test_identity(&other, 0x52);
    uint8_t to[2][TV_NODE_ID_BYTES];
    memcpy(to[0], health.pk, TV_NODE_ID_BYTES);
    memcpy(to[1], other.pk, TV_NODE_ID_BYTES);
    tv_details d, back;
    details(&d);
    crdt_person p = {.nsealed = 0, .person = {0xab, 0xcd, 7}};
    static uint8_t buf[2 * TV_SEALED_BOX_MAX];
    tv_sealer s1, s2;
    assert_int_equal(tv_sealer_begin(&s1, to, 1), 0);
    assert_int_equal(tv_seal_details(&s1, &d, &p, buf), 0);
    assert_int_equal(p.nsealed, 1);
    /* the clear text appears nowhere in the box */
    assert_false(contains(p.sealed[0].box, p.sealed[0].len, "Nguy"));
    assert_false(contains(p.sealed[0].box, p.sealed[0].len, "0912345678"));

    assert_int_equal(tv_unseal_details(&p, &health, &back), 0);
    assert_string_equal(back.name, d.name);
    assert_string_equal(back.cccd, d.cccd);
    assert_string_equal(back.phone, d.phone);
    assert_string_equal(back.birth, d.birth);
    assert_string_equal(back.sex, d.sex);
    assert_string_equal(back.address, d.address);
    assert_string_equal(back.bhyt, "");
    /* bound to the record's ref (key 9) */
    assert_true(back.has_ref);
    assert_memory_equal(back.ref, p.person, TV_PERSON_REF_BYTES);
    /* not sealed to this node */
    assert_int_equal(tv_unseal_details(&p, &other, &back), TV_ENOTFOUND);
    assert_string_equal(back.name, "");

    /* the sealer cannot open what it sealed: its ephemeral secret is gone once it ends */
    tv_sealer_end(&s1);
    assert_int_equal(s1.n, 0);

    /* two recipients: each opens its own box; two people sealed by one sealer get
     * different nonces, and each box opens alone */
    assert_int_equal(tv_sealer_begin(&s2, to, 2), 0);
    crdt_person q = {.nsealed = 0};
    static uint8_t qbuf[2 * TV_SEALED_BOX_MAX];
    tv_details e = d;
    strcpy(e.name, "Trần Thị Bích Ngọc");
    assert_int_equal(tv_seal_details(&s2, &e, &q, qbuf), 0);
    assert_int_equal(tv_seal_details(&s2, &d, &p, buf), 0);
    assert_memory_not_equal(q.sealed[0].box + 33, p.sealed[0].box + 33, 24);
    assert_int_equal(tv_unseal_details(&q, &health, &back), 0);
    assert_string_equal(back.name, "Trần Thị Bích Ngọc");
    tv_sealer_end(&s2);
    assert_int_equal(tv_unseal_details(&p, &other, &back), 0);
    assert_string_equal(back.address, d.address);

    /* a box addressed to us but damaged, or made for another key, does not open */
    for (uint32_t i = 1; i < p.sealed[0].len; i += 7) {
        buf[i] ^= 0x10;
        assert_int_equal(tv_unseal_details(&p, &health, &back), TV_ESIG);
        buf[i] ^= 0x10;
    }
    memcpy(p.sealed[0].to, other.pk, TV_NODE_ID_BYTES); /* box 0 relabelled for `other` */
    memcpy(p.sealed[1].to, health.pk, TV_NODE_ID_BYTES);
    assert_int_equal(tv_unseal_details(&p, &other, &back), TV_ESIG);
}

typedef struct certs_ctx {
    const crdt_identity *root, *district, *commune, *gone;
} certs_ctx;

static int install(store_txn *t, const crdt_identity *issuer, const crdt_identity *subject,
                   uint32_t role, const char *unit, uint32_t flags)
{
    static crdt_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, subject->pk, TV_NODE_ID_BYTES);
    memcpy(c.issuer, issuer->pk, TV_NODE_ID_BYTES);
    c.role = role;
    strcpy(c.unit, unit);
    c.scope_len = 1;
    strcpy(c.scope[0], role == CRDT_ROLE_PROVINCE ? CRDT_SCOPE_ALL : unit);
    c.flags = flags;
    uint8_t *raw;
    size_t len;
    int rc = crdt_cert_sign(&c, issuer, &raw, &len);
    if (rc == 0) rc = store_cert_install(t, raw, len);
    free(raw);
    return rc;
}

static int certs_fn(store_txn *t, void *arg)
{
    certs_ctx *c = arg;
    int rc = store_root_set(t, c->root->pk);
    if (!rc) rc = install(t, c->root, c->root, CRDT_ROLE_PROVINCE, "56", CRDT_CERT_F_HEALTH);
    /* a district health office for 568, another one for 569, a commune without the flag */
    if (!rc) rc = install(t, c->root, c->district, CRDT_ROLE_DISTRICT, "568", CRDT_CERT_F_HEALTH);
    if (!rc) rc = install(t, c->root, c->gone, CRDT_ROLE_DISTRICT, "569", CRDT_CERT_F_HEALTH);
    if (!rc) rc = install(t, c->root, c->commune, CRDT_ROLE_COMMUNE, "22333", 0);
    return rc;
}

static void test_recipients(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    store *s;
    assert_int_equal(store_open(&s, dir, NULL), 0);
    crdt_identity root, district, commune, gone;
    test_identity(&root, 0x61);
    test_identity(&district, 0x62);
    test_identity(&commune, 0x63);
    test_identity(&gone, 0x64);
    certs_ctx c = {&root, &district, &commune, &gone};
    assert_int_equal(store_write(s, certs_fn, &c), 0);

    store_txn *t;
    uint8_t to[CRDT_SEALED_MAX][TV_NODE_ID_BYTES];
    uint32_t n;
    assert_int_equal(store_read_begin(s, &t), 0);
    /* commune 22333 is not in district 568's scope: the root alone */
    assert_int_equal(tv_seal_recipients(t, "22333", to, &n), 0);
    assert_int_equal(n, 1);
    assert_memory_equal(to[0], root.pk, TV_NODE_ID_BYTES);
    /* unit 568 itself: the root and the district office, in id order */
    assert_int_equal(tv_seal_recipients(t, "568", to, &n), 0);
    assert_int_equal(n, 2);
    assert_true(memcmp(to[0], to[1], TV_NODE_ID_BYTES) < 0);
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);

    /* a store that knows no health node cannot seal */
    dir = test_tmpdir();
    assert_int_equal(store_open(&s, dir, NULL), 0);
    assert_int_equal(store_read_begin(s, &t), 0);
    assert_int_equal(tv_seal_recipients(t, "22333", to, &n), TV_ENOTFOUND);
    store_read_end(t);
    store_close(s);
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_open),
        cmocka_unit_test(test_recipients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
