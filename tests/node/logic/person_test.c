/* Tests of typed phone and ID numbers: normalisation, masking, pseudonyms. */
#include "crdt/error.h"
#include "node/logic/person.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

static void expect(const char *text, tv_id_kind kind, const char *norm, const char *masked)
{
    tv_person_id id;
    const char *why = NULL;
    int rc = tv_person_parse_typed(text, &id, &why);
    if (rc) fail_msg("'%s' refused: %s", text, why);
    assert_int_equal(id.kind, kind);
    assert_string_equal(id.norm, norm);
    assert_string_equal(id.masked, masked);
}

static void refuse(const char *text)
{
    tv_person_id id;
    const char *why = NULL;
    assert_int_equal(tv_person_parse_typed(text, &id, &why), TV_EINVAL);
    assert_non_null(why);
}

static void test_phones(void **state)
{
    (void)state;
    expect("0912345678", TV_ID_PHONE, "0912345678", "09******78");
    expect("0912 345 678", TV_ID_PHONE, "0912345678", "09******78");
    expect("+84912345678", TV_ID_PHONE, "0912345678", "09******78");
    expect("+84 912-345-678", TV_ID_PHONE, "0912345678", "09******78");
    expect("84912345678", TV_ID_PHONE, "0912345678", "09******78");
    expect("02583123456", TV_ID_PHONE, "02583123456", "02*******56"); /* a landline */
}

static void test_id_numbers(void **state)
{
    (void)state;
    expect("001099012345", TV_ID_CCCD, "001099012345", "**********45");
    expect("123456789", TV_ID_CMND, "123456789", "*******89");
}

static void narrowed(const char *in, const char *want)
{
    char s[64];
    strcpy(s, in);
    tv_masked_narrow(s);
    assert_string_equal(s, want);
}

/* Masks written under the older rules show under the current ones; anything else stays. */
static void test_narrow(void **state)
{
    (void)state;
    narrowed("09****5678", "09******78");
    narrowed("02*****3456", "02*******56");
    narrowed("001*******45", "**********45");
    narrowed("12*****89", "*******89");
    narrowed("HS***********89", "*************89");
    narrowed("Nguyễn V** A · 001*******45", "Nguyễn V** A · **********45");
    narrowed("Trần T** B** N · HS***********89", "Trần T** B** N · *************89");
    narrowed("Nguyễn V** A · 09****5678", "Nguyễn V** A · 09******78");
    /* already narrow, not a masked number, or too short or long to be one */
    narrowed("09******78", "09******78");
    narrowed("**********45", "**********45");
    narrowed("Nguyễn V** A", "Nguyễn V** A");
    narrowed("0912345678", "0912345678");
    narrowed("A**", "A**");
    narrowed("12****89", "12****89");
    narrowed("HS4**********6789", "HS4**********6789");
    narrowed("09 ****5678", "09 ****5678");
    narrowed("", "");
}

static void test_refused(void **state)
{
    (void)state;
    refuse("");
    refuse("abc");
    refuse("12345");
    refuse("0912345678901234567890");
    refuse("+1 202 555 0100");
    refuse("9912345678"); /* 10 digits not starting with 0 */
    refuse("09123x5678");
}

static void test_ref_keyed_and_stable(void **state)
{
    (void)state;
    uint8_t k1[TV_TRACING_KEY_BYTES], k2[TV_TRACING_KEY_BYTES];
    memset(k1, 1, sizeof k1);
    memset(k2, 2, sizeof k2);
    tv_person_id a, b, c;
    const char *why;
    assert_int_equal(tv_person_parse_typed("0912345678", &a, &why), 0);
    assert_int_equal(tv_person_parse_typed("+84 912 345 678", &b, &why), 0);
    assert_int_equal(tv_person_parse_typed("0912345679", &c, &why), 0);
    uint8_t ra[TV_PERSON_REF_BYTES], rb[TV_PERSON_REF_BYTES], rc_[TV_PERSON_REF_BYTES],
        rk[TV_PERSON_REF_BYTES];
    tv_person_ref(&a, k1, ra);
    tv_person_ref(&b, k1, rb);
    tv_person_ref(&c, k1, rc_);
    tv_person_ref(&a, k2, rk);
    assert_memory_equal(ra, rb, sizeof ra);      /* same person, typed two ways */
    assert_memory_not_equal(ra, rc_, sizeof ra); /* another person */
    assert_memory_not_equal(ra, rk, sizeof ra);  /* another key */
    /* a phone and an ID number with the same digits are different identities */
    tv_person_id cmnd, phone;
    assert_int_equal(tv_person_parse_typed("012345678", &cmnd, &why), 0);
    assert_int_equal(cmnd.kind, TV_ID_CMND);
    assert_int_equal(tv_person_parse_typed("0123456789", &phone, &why), 0);
    assert_int_equal(phone.kind, TV_ID_PHONE);
}

/* A commune's key is keyed BLAKE2b-256 of the context, a NUL and the unit code under the
 * province key (PROTOCOL.md §1): one key per unit, none without the province key. */
static void test_commune_key(void **state)
{
    (void)state;
    uint8_t kp[TV_TRACING_KEY_BYTES], a[TV_TRACING_KEY_BYTES], b[TV_TRACING_KEY_BYTES],
        want[TV_TRACING_KEY_BYTES];
    for (size_t i = 0; i < sizeof kp; i++)
        kp[i] = (uint8_t)(3 * i + 1);
    tv_commune_key_derive(kp, "22333", a);
    static const char msg[] = "truyvet/commune-key/v1\0"
                              "22333";
    crypto_generichash(want, sizeof want, (const uint8_t *)msg, sizeof msg - 1, kp, sizeof kp);
    assert_memory_equal(a, want, sizeof a);
    tv_commune_key_derive(kp, "22334", b);
    assert_memory_not_equal(a, b, sizeof a);
    kp[0] ^= 1;
    tv_commune_key_derive(kp, "22333", b);
    assert_memory_not_equal(a, b, sizeof a);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phones),      cmocka_unit_test(test_id_numbers),
        cmocka_unit_test(test_refused),     cmocka_unit_test(test_ref_keyed_and_stable),
        cmocka_unit_test(test_commune_key), cmocka_unit_test(test_narrow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
