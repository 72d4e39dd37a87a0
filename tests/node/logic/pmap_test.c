/* Tests of the health node's mapping of a commune's pseudonym to the province-wide one
 * (node/logic/pmap.c, PROTOCOL.md §2.6): only an identifier whose pseudonym under the recording
 * commune's key is the record's own gives a province ref. */
#include "crdt/error.h"
#include "node/logic/pmap.h"
#include "node/logic/person.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

static uint8_t kp[TV_TRACING_KEY_BYTES];

static void ref_of(tv_id_kind kind, const char *norm, const uint8_t key[TV_TRACING_KEY_BYTES],
                   uint8_t ref[TV_PERSON_REF_BYTES])
{
    tv_person_id id = {.kind = kind};
    snprintf(id.norm, sizeof id.norm, "%s", norm);
    tv_person_ref(&id, key, ref);
}

/* A person record of unit whose ref is ref. */
static crdt_person record(const char *unit, const uint8_t ref[TV_PERSON_REF_BYTES])
{
    crdt_person p = {.unit = {unit, (uint32_t)strlen(unit)}};
    memcpy(p.person, ref, TV_PERSON_REF_BYTES);
    return p;
}

/* Each kind of identifier maps, the commune's ref to the province's of the same identity. */
static void test_maps_each_identifier(void **state)
{
    (void)state;
    uint8_t kc[TV_TRACING_KEY_BYTES], ref[TV_PERSON_REF_BYTES], want[TV_PERSON_REF_BYTES],
        got[TV_PERSON_REF_BYTES];
    tv_commune_key_derive(kp, "22333", kc);
    const struct {
        tv_id_kind kind;
        const char *norm;
        tv_details d;
    } cases[] = {
        {TV_ID_PHONE, "0901000000", {.phone = "0901000000"}},
        {TV_ID_CCCD, "056099001234", {.cccd = "056099001234", .phone = "0901000009"}},
        {TV_ID_CMND, "123456789", {.cmnd = "123456789"}},
        {TV_ID_BHYT, "7912345678", {.bhyt = "HS4797912345678"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ref_of(cases[i].kind, cases[i].norm, kc, ref);
        ref_of(cases[i].kind, cases[i].norm, kp, want);
        crdt_person p = record("22333", ref);
        assert_int_equal(tv_pmap_province_ref(&p, &cases[i].d, kp, got), 0);
        assert_memory_equal(got, want, sizeof got);
    }
}

/* A record whose details are another person's, whose ref is another commune's pseudonym
 * (a commune claiming a neighbour's), or made with another key (before enrolment), is not
 * mapped; a health node's own record (a province ref already) needs no mapping. */
static void test_refuses_what_does_not_match(void **state)
{
    (void)state;
    uint8_t kc[TV_TRACING_KEY_BYTES], kc2[TV_TRACING_KEY_BYTES], local[TV_TRACING_KEY_BYTES];
    uint8_t ref[TV_PERSON_REF_BYTES], got[TV_PERSON_REF_BYTES];
    tv_commune_key_derive(kp, "22333", kc);
    tv_commune_key_derive(kp, "22334", kc2);
    randombytes_buf(local, sizeof local);
    const tv_details mine = {.phone = "0901000000"}, other = {.phone = "0901000001"};

    ref_of(TV_ID_PHONE, "0901000000", kc, ref);
    crdt_person p = record("22333", ref);
    assert_int_equal(tv_pmap_province_ref(&p, &other, kp, got), TV_ENOTFOUND);
    const uint8_t zero[TV_PERSON_REF_BYTES] = {0};
    assert_memory_equal(got, zero, sizeof got);

    ref_of(TV_ID_PHONE, "0901000000", kc2, ref); /* 22334's pseudonym, claimed by 22333 */
    p = record("22333", ref);
    assert_int_equal(tv_pmap_province_ref(&p, &mine, kp, got), TV_ENOTFOUND);

    ref_of(TV_ID_PHONE, "0901000000", local, ref);
    p = record("22333", ref);
    assert_int_equal(tv_pmap_province_ref(&p, &mine, kp, got), TV_ENOTFOUND);

    ref_of(TV_ID_PHONE, "0901000000", kp, ref);
    p = record("56", ref);
    assert_int_equal(tv_pmap_province_ref(&p, &mine, kp, got), TV_EEXIST);

    const tv_details empty = {0};
    ref_of(TV_ID_PHONE, "0901000000", kc, ref);
    p = record("22333", ref);
    assert_int_equal(tv_pmap_province_ref(&p, &empty, kp, got), TV_ENOTFOUND);
}

/* Details bound to their record's ref (key 9) map whatever key made the ref — a commune's
 * local key before its K_c arrived — by the first identifier; bound to another ref (a box
 * copied onto this record), they map nothing. */
static void test_bound_details(void **state)
{
    (void)state;
    uint8_t local[TV_TRACING_KEY_BYTES], ref[TV_PERSON_REF_BYTES], want[TV_PERSON_REF_BYTES],
        got[TV_PERSON_REF_BYTES];
    randombytes_buf(local, sizeof local);
    ref_of(TV_ID_PHONE, "0901000000", local, ref);
    ref_of(TV_ID_PHONE, "0901000000", kp, want);
    crdt_person p = record("22333", ref);
    tv_details d = {.phone = "0901000000", .has_ref = 1};
    memcpy(d.ref, ref, sizeof d.ref);
    assert_int_equal(tv_pmap_province_ref(&p, &d, kp, got), 0);
    assert_memory_equal(got, want, sizeof got);

    uint8_t forged[TV_PERSON_REF_BYTES];
    randombytes_buf(forged, sizeof forged);
    p = record("22333", forged); /* the same box, on a record of another ref */
    assert_int_equal(tv_pmap_province_ref(&p, &d, kp, got), TV_ENOTFOUND);
    const uint8_t zero[TV_PERSON_REF_BYTES] = {0};
    assert_memory_equal(got, zero, sizeof got);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    randombytes_buf(kp, sizeof kp);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_maps_each_identifier),
        cmocka_unit_test(test_refuses_what_does_not_match),
        cmocka_unit_test(test_bound_details),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
