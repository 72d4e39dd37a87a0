/* Tests of signed, hash-chained batches: sealing, verification, tampering of any bit. */
#define _GNU_SOURCE /* memmem */
#include "crdt/batch.h"
#include "crdt/error.h"
#include "test_util.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void test_seal_open_iterate(void **state)
{
    (void)state;
    crdt_identity id;
    test_identity(&id, 1);
    uint8_t *buf, hash[TV_HASH_BYTES];
    size_t len;
    test_seal_scans(&id, 1, NULL, 20, 1000, &buf, &len, hash);

    crdt_batch b;
    assert_int_equal(crdt_batch_open(&b, buf, len), 0);
    assert_int_equal(b.h.version, CRDT_BATCH_VERSION);
    assert_memory_equal(b.h.origin, id.pk, TV_NODE_ID_BYTES);
    assert_int_equal(b.h.first_seq, 1);
    assert_int_equal(b.h.count, 20);
    assert_int_equal(b.h.hlc_min, 1000);
    assert_int_equal(b.h.hlc_max, 1019);
    assert_memory_equal(b.hash, hash, TV_HASH_BYTES);
    assert_true(sodium_is_zero(b.h.prev_hash, TV_HASH_BYTES));

    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    crdt_event ev;
    uint32_t n = 0;
    int rc;
    while ((rc = crdt_batch_iter_next(&it, &ev)) == 1) {
        assert_int_equal(ev.type, CRDT_EV_SCAN);
        assert_int_equal(ev.hlc, 1000 + n);
        assert_int_equal(ev.u.scan.at_ms, 1633482000000LL + (int64_t)n * 60000);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 20);
    crdt_batch_iter_release(&it);
    assert_int_equal(crdt_batch_check_events(&b), 0);

    /* the next batch names this one */
    uint8_t *buf2, hash2[TV_HASH_BYTES];
    size_t len2;
    test_seal_scans(&id, 21, hash, 5, 2000, &buf2, &len2, hash2);
    crdt_batch b2;
    assert_int_equal(crdt_batch_open(&b2, buf2, len2), 0);
    assert_memory_equal(b2.h.prev_hash, hash, TV_HASH_BYTES);
    assert_memory_not_equal(hash2, hash, TV_HASH_BYTES);
    free(buf);
    free(buf2);
}

/* Sealing the same events twice gives the same bytes: Ed25519 is deterministic, which
 * lets a write transaction be re-run after the map grows. */
static void test_seal_deterministic(void **state)
{
    (void)state;
    crdt_identity id;
    test_identity(&id, 2);
    uint8_t *a, *b, ha[TV_HASH_BYTES], hb[TV_HASH_BYTES];
    size_t la, lb;
    test_seal_scans(&id, 1, NULL, 3, 50, &a, &la, ha);
    test_seal_scans(&id, 1, NULL, 3, 50, &b, &lb, hb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
}

/* Every single-bit flip anywhere in a signed batch is rejected. */
static void test_every_bit_flip_rejected(void **state)
{
    (void)state;
    crdt_identity id;
    test_identity(&id, 3);
    uint8_t *buf, hash[TV_HASH_BYTES];
    size_t len;
    test_seal_scans(&id, 1, NULL, 4, 77, &buf, &len, hash);
    uint8_t *copy = malloc(len);
    for (size_t bit = 0; bit < len * 8; bit++) {
        memcpy(copy, buf, len);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        crdt_batch b;
        int rc = crdt_batch_open(&b, copy, len);
        if (rc == 0) rc = crdt_batch_check_events(&b);
        if (rc == 0) fail_msg("flipping bit %zu of %zu was not detected", bit, len * 8);
    }
    free(copy);
    free(buf);
}

/* With the memo of verified signatures on, a batch sealed or verified once opens without
 * a second check, and every bit flip is still caught: the memo holds the signature with
 * the header, so the same header under a damaged signature is verified, and refused. */
static void test_memo_changes_no_outcome(void **state)
{
    (void)state;
    crdt_sig_memo m;
    assert_int_equal(crdt_sig_memo_init(&m, 3), TV_EINVAL);
    assert_int_equal(crdt_sig_memo_init(&m, 25), TV_EINVAL);
    assert_int_equal(crdt_sig_memo_init(&m, 10), 0);
    crdt_identity id;
    test_identity(&id, 9);
    uint8_t *buf, hash[TV_HASH_BYTES];
    size_t len;
    test_seal_scans(&id, 1, NULL, 4, 77, &buf, &len, hash);
    crdt_batch b;
    assert_int_equal(crdt_batch_open_memo(&b, buf, len, &m), 0); /* verified, and noted */
    assert_int_equal(crdt_batch_open_memo(&b, buf, len, &m), 0); /* from the memo */
    uint8_t *copy = malloc(len);
    for (size_t bit = 0; bit < len * 8; bit++) {
        memcpy(copy, buf, len);
        copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        int rc = crdt_batch_open_memo(&b, copy, len, &m);
        if (rc == 0) rc = crdt_batch_check_events(&b);
        if (rc == 0) fail_msg("with the memo, flipping bit %zu was not detected", bit);
        assert_int_equal(crdt_batch_open_memo(&b, buf, len, &m),
                         0); /* the intact one still opens */
    }
    free(copy);
    free(buf);
    crdt_sig_memo_release(&m);
}

static void test_truncated_and_extended_rejected(void **state)
{
    (void)state;
    crdt_identity id;
    test_identity(&id, 4);
    uint8_t *buf, hash[TV_HASH_BYTES];
    size_t len;
    test_seal_scans(&id, 1, NULL, 2, 77, &buf, &len, hash);
    crdt_batch b;
    for (size_t n = 0; n < len; n++)
        assert_int_not_equal(crdt_batch_open(&b, buf, n), 0);
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    assert_int_equal(crdt_batch_open(&b, longer, len + 1), TV_EDECODE);
    free(longer);
    free(buf);
}

/* A batch re-signed by another key claiming the same origin fails; a batch whose header
 * claims another origin fails. */
static void test_wrong_signer(void **state)
{
    (void)state;
    crdt_identity alice, mallory;
    test_identity(&alice, 5);
    test_identity(&mallory, 6);
    /* mallory seals a batch, then we swap the origin in the header for alice's: the header
     * bytes change, so the signature (by mallory over her own header) no longer verifies
     * under alice's key. */
    uint8_t *buf, hash[TV_HASH_BYTES];
    size_t len;
    test_seal_scans(&mallory, 1, NULL, 1, 9, &buf, &len, hash);
    uint8_t *p = memmem(buf, len, mallory.pk, TV_NODE_ID_BYTES);
    assert_non_null(p);
    memcpy(p, alice.pk, TV_NODE_ID_BYTES);
    crdt_batch b;
    assert_int_equal(crdt_batch_open(&b, buf, len), TV_ESIG);
    free(buf);
}

static void test_builder_limits(void **state)
{
    (void)state;
    crdt_identity id;
    test_identity(&id, 7);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    uint8_t *out;
    size_t len;
    /* empty, seq 0, a first batch with a predecessor, a later batch without one */
    assert_int_equal(crdt_batch_seal(&b, &id, 1, NULL, &out, &len, NULL), TV_EINVAL);
    crdt_scan s = test_scan(1, 5);
    assert_int_equal(crdt_event_pack_scan(&b.pk, 1, &s), 0);
    crdt_batch_builder_note(&b, 1);
    uint8_t prev[TV_HASH_BYTES] = {1};
    assert_int_equal(crdt_batch_seal(&b, &id, 0, NULL, &out, &len, NULL), TV_EINVAL);
    assert_int_equal(crdt_batch_seal(&b, &id, 1, prev, &out, &len, NULL), TV_EINVAL);
    assert_int_equal(crdt_batch_seal(&b, &id, 2, NULL, &out, &len, NULL), TV_EINVAL);
    assert_null(out);
    for (uint32_t i = 1; i <= CRDT_BATCH_EVENTS_MAX; i++) {
        assert_int_equal(crdt_event_pack_scan(&b.pk, 1 + i, &s), 0);
        crdt_batch_builder_note(&b, 1 + i);
    }
    assert_int_equal(crdt_batch_seal(&b, &id, 1, NULL, &out, &len, NULL), TV_ELIMIT);
    crdt_batch_builder_release(&b);
}

/* A batch whose events' HLCs do not rise, or fall outside the header's range, is refused
 * even though it is correctly signed. */
static void test_event_order_checked(void **state)
{
    (void)state;
    crdt_identity id;
    test_identity(&id, 8);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    crdt_scan s = test_scan(1, 5);
    /* pack two events with equal HLCs, bypassing the builder's assertion */
    assert_int_equal(crdt_event_pack_scan(&b.pk, 10, &s), 0);
    assert_int_equal(crdt_event_pack_scan(&b.pk, 10, &s), 0);
    b.count = 2;
    b.hlc_min = 10;
    b.hlc_max = 10;
    uint8_t *out;
    size_t len;
    assert_int_equal(crdt_batch_seal(&b, &id, 1, NULL, &out, &len, NULL), 0);
    crdt_batch cb;
    assert_int_equal(crdt_batch_open(&cb, out, len), 0);
    assert_int_equal(crdt_batch_check_events(&cb), TV_EDECODE);
    free(out);
    /* a count that does not match the events */
    crdt_batch_builder_reset(&b);
    assert_int_equal(crdt_event_pack_scan(&b.pk, 10, &s), 0);
    b.count = 2;
    b.hlc_min = 10;
    b.hlc_max = 11;
    assert_int_equal(crdt_batch_seal(&b, &id, 1, NULL, &out, &len, NULL), 0);
    assert_int_equal(crdt_batch_open(&cb, out, len), 0);
    assert_int_equal(crdt_batch_check_events(&cb), TV_EDECODE);
    free(out);
    crdt_batch_builder_release(&b);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_open_iterate),
        cmocka_unit_test(test_seal_deterministic),
        cmocka_unit_test(test_every_bit_flip_rejected),
        cmocka_unit_test(test_memo_changes_no_outcome),
        cmocka_unit_test(test_truncated_and_extended_rejected),
        cmocka_unit_test(test_wrong_signer),
        cmocka_unit_test(test_builder_limits),
        cmocka_unit_test(test_event_order_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
