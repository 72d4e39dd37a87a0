/* Tests of crdt/sealed.c: a sealed event opens only for its audience and its author, its
 * bytes round-trip through the event codec, and an altered box does not open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crdt/error.h"
#include "crdt/sealed.h"

static const uint8_t k_health[32] = {1, 2, 3}, k_commune[32] = {4, 5, 6};
static const uint8_t author[TV_NODE_ID_BYTES] = {0xa0}, other[TV_NODE_ID_BYTES] = {0xb0};

/* An exposure sealed for the commune, encoded as a sealed event into sb. */
static void seal_exposure(msgpack_sbuffer *sb, uint8_t *box, crdt_sealed_event *se)
{
    msgpack_sbuffer inner;
    msgpack_packer pk;
    msgpack_sbuffer_init(&inner);
    msgpack_packer_init(&pk, &inner, msgpack_sbuffer_write);
    crdt_exposure x = {.venue = {9, 9}, .from_ms = 1633482000000, .to_ms = 1633485600000};
    assert_int_equal(crdt_event_pack_exposure(&pk, 77, &x), 0);
    const uint8_t nonce[CRDT_SEALED_NONCE_BYTES] = {1};
    assert_int_equal(crdt_sealed_seal(se, box, (const uint8_t *)inner.data, inner.size, k_commune,
                                      author, nonce),
                     0);
    msgpack_sbuffer_destroy(&inner);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    assert_int_equal(crdt_event_pack_sealed(&pk, 78, se), 0);
}

static void test_open_for_audience_only(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    uint8_t box[CRDT_SEALED_BOX_BYTES_MAX], inner[CRDT_SEALED_INNER_BYTES_MAX];
    crdt_sealed_event se;
    seal_exposure(&sb, box, &se);

    msgpack_unpacked u, u2;
    msgpack_unpacked_init(&u);
    msgpack_unpacked_init(&u2);
    crdt_event ev, in;
    assert_int_equal(crdt_event_decode(&ev, &u, (const uint8_t *)sb.data, sb.size), 0);
    assert_true(ev.known);
    assert_int_equal(ev.type, CRDT_EV_SEALED);
    uint8_t tag[CRDT_SEALED_TAG_BYTES];
    crdt_sealed_tag(tag, k_commune);
    assert_memory_equal(ev.u.sealed.tag, tag, sizeof tag);

    assert_int_equal(crdt_sealed_open_event(&in, &u2, inner, &ev.u.sealed, k_commune, author), 0);
    assert_int_equal(in.type, CRDT_EV_EXPOSURE);
    assert_int_equal(in.hlc, 77);
    assert_int_equal(in.u.exposure.to_ms, 1633485600000);
    /* another audience's key, another author (the AD), an altered box: nothing opens */
    assert_int_equal(crdt_sealed_open_event(&in, &u2, inner, &ev.u.sealed, k_health, author),
                     TV_EINVAL);
    assert_int_equal(crdt_sealed_open_event(&in, &u2, inner, &ev.u.sealed, k_commune, other),
                     TV_ESIG);
    crdt_sealed_event bad = ev.u.sealed;
    uint8_t copy[CRDT_SEALED_BOX_BYTES_MAX];
    memcpy(copy, bad.box, bad.len);
    copy[3] ^= 1;
    bad.box = copy;
    assert_int_equal(crdt_sealed_open_event(&in, &u2, inner, &bad, k_commune, author), TV_ESIG);
    msgpack_unpacked_destroy(&u);
    msgpack_unpacked_destroy(&u2);
    msgpack_sbuffer_destroy(&sb);
}

/* An exposure must end after it starts; a sealed event needs a box longer than its MAC. */
static void test_invalid_fields(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    crdt_exposure x = {.from_ms = 5, .to_ms = 5};
    assert_int_equal(crdt_event_pack_exposure(&pk, 1, &x), TV_EINVAL);
    uint8_t box[16] = {0};
    crdt_sealed_event se = {.box = box, .len = sizeof box};
    assert_int_equal(crdt_event_pack_sealed(&pk, 1, &se), TV_EINVAL);
    msgpack_sbuffer_destroy(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_for_audience_only),
        cmocka_unit_test(test_invalid_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
