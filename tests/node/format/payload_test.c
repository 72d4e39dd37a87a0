/* Tests of venue payloads (signed, verified offline) and short codes (typed by people). */
#include "crdt/error.h"
#include "node/format/payload.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static const uint8_t venue[TV_VENUE_ID_BYTES] = {0x3f, 0x2a, 0x9c, 0x0d, 0x11, 0xe4, 0xb7, 0xa8};

static void make(char text[TV_VENUE_PAYLOAD_MAX], crdt_identity *id)
{
    test_identity(id, 7);
    tv_venue_payload p;
    assert_int_equal(tv_venue_payload_sign(&p, venue, "22333", id), 0);
    tv_venue_payload_format(text, &p);
}

static void test_round_trip(void **state)
{
    (void)state;
    crdt_identity id;
    char text[TV_VENUE_PAYLOAD_MAX];
    make(text, &id);
    assert_int_equal(strncmp(text, "TV1V:22333:", 11), 0);
    assert_int_equal(strlen(text), 11 + 128);
    for (const char *c = text; *c; c++) /* QR alphanumeric mode */
        assert_non_null(strchr("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:", *c));
    tv_venue_payload p;
    const char *why = NULL;
    assert_int_equal(tv_venue_payload_parse(text, strlen(text), &p, &why), 0);
    assert_memory_equal(p.venue, venue, sizeof venue);
    assert_string_equal(p.unit, "22333");
    assert_memory_equal(p.key_id, id.pk, TV_KEY_ID_BYTES);
    assert_int_equal(tv_venue_payload_verify(&p, id.pk), 0);

    crdt_identity other;
    test_identity(&other, 8);
    assert_int_equal(tv_venue_payload_verify(&p, other.pk), TV_ESIG);
    tv_venue_payload bad;
    assert_int_equal(tv_venue_payload_sign(&bad, venue, "2", &id), TV_EINVAL);
    assert_int_equal(tv_venue_payload_sign(&bad, venue, "223334", &id), TV_EINVAL);
    assert_int_equal(tv_venue_payload_sign(&bad, venue, "22a33", &id), TV_EINVAL);
}

/* Any one character changed, to any other of the alphabet: refused on reading, or the
 * signature fails. */
static void test_every_change_caught(void **state)
{
    (void)state;
    crdt_identity id;
    char text[TV_VENUE_PAYLOAD_MAX], copy[TV_VENUE_PAYLOAD_MAX];
    make(text, &id);
    const char *alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ:";
    size_t n = strlen(text), tried = 0;
    for (size_t i = 0; i < n; i++)
        for (const char *a = alphabet; *a; a++) {
            if (*a == text[i]) continue;
            memcpy(copy, text, n + 1);
            copy[i] = *a;
            tv_venue_payload p;
            const char *why;
            int rc = tv_venue_payload_parse(copy, n, &p, &why);
            if (rc == 0) rc = tv_venue_payload_verify(&p, id.pk);
            if (rc == 0) fail_msg("changing character %zu to %c was not caught", i, *a);
            tried++;
        }
    assert_true(tried > 5000);
}

static void test_malformed(void **state)
{
    (void)state;
    crdt_identity id;
    char text[TV_VENUE_PAYLOAD_MAX];
    make(text, &id);
    tv_venue_payload p;
    const char *why = NULL;
    size_t n = strlen(text);
    assert_int_equal(tv_venue_payload_parse(text, n - 1, &p, &why), TV_EINVAL);
    assert_string_equal(why, "the venue code is cut short or too long");
    assert_int_equal(tv_venue_payload_parse("TV1V:22333", 10, &p, &why), TV_EINVAL);
    assert_int_equal(tv_venue_payload_parse("0912345678", 10, &p, &why), TV_EINVAL);
    assert_string_equal(why, "not a truyvet venue code (it should start with TV1V:)");
    text[20] = 'a'; /* lower case is not the alphabet */
    assert_int_equal(tv_venue_payload_parse(text, n, &p, &why), TV_EINVAL);
    assert_string_equal(why, "the venue code holds a character that is not in its alphabet");
}

static void test_short_code(void **state)
{
    (void)state;
    char code[TV_SHORT_CODE_STR];
    tv_short_code(code, venue);
    assert_int_equal(strlen(code), 11);
    assert_int_equal(code[4], '-');
    assert_int_equal(code[9], '-');
    uint8_t prefix[TV_SHORT_CODE_PREFIX_BYTES];
    const char *why = NULL;
    assert_int_equal(tv_short_code_parse(code, prefix, &why), 0);
    assert_memory_equal(prefix, venue, sizeof prefix);

    /* typed loosely: lower case, no dashes, spaces */
    char loose[32];
    snprintf(loose, sizeof loose, "%.4s %.4s%c", code, code + 5, code[10]);
    for (char *c = loose; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    assert_int_equal(tv_short_code_parse(loose, prefix, &why), 0);
    assert_memory_equal(prefix, venue, sizeof prefix);

    /* every single-character substitution is caught */
    const char *alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    for (size_t i = 0; i < 11; i++) {
        if (i == 4 || i == 9) continue;
        for (const char *a = alphabet; *a; a++) {
            if (*a == code[i]) continue;
            char typo[TV_SHORT_CODE_STR];
            memcpy(typo, code, sizeof typo);
            typo[i] = *a;
            if (tv_short_code_parse(typo, prefix, &why) == 0)
                fail_msg("the typo %s of %s was not caught", typo, code);
            assert_string_equal(why, "the check character does not match: a character is mistyped");
        }
    }
    assert_int_equal(tv_short_code_parse("ABCD-EFGH", prefix, &why), TV_EINVAL);
    assert_string_equal(why, "a short code has 9 characters");
    assert_int_equal(tv_short_code_parse("ABCD-EFGH-KK", prefix, &why), TV_EINVAL);
    assert_int_equal(tv_short_code_parse("ABCD-EFGH-U", prefix, &why), TV_EINVAL);

    /* many random ids round-trip */
    fx_rng r = {42};
    for (int k = 0; k < 1000; k++) {
        uint8_t v[TV_VENUE_ID_BYTES];
        fx_rng_bytes(&r, v, sizeof v);
        tv_short_code(code, v);
        assert_int_equal(tv_short_code_parse(code, prefix, &why), 0);
        assert_memory_equal(prefix, v, sizeof prefix);
    }
}

static void test_person_card(void **state)
{
    (void)state;
    crdt_identity id, other;
    test_identity(&id, 11);
    test_identity(&other, 12);
    uint8_t ref[TV_PERSON_REF_BYTES];
    for (size_t i = 0; i < sizeof ref; i++)
        ref[i] = (uint8_t)(i * 17);
    tv_person_card c, back;
    const char *display = "Nguyễn V** A · **********45";
    assert_int_equal(tv_person_card_sign(&c, ref, 1999, display, &id), 0);
    char text[TV_PERSON_CARD_MAX];
    tv_person_card_format(text, &c);
    assert_int_equal(strncmp(text, "TV1:", 4), 0);
    assert_int_equal(strlen(text), 4 + 144 + 1 + strlen(display));
    assert_string_equal(text + 4 + 144 + 1, display);
    const char *why = NULL;
    assert_int_equal(tv_person_card_parse(text, strlen(text), &back, &why), 0);
    assert_memory_equal(back.ref, ref, sizeof ref);
    assert_int_equal(back.birth_year, 1999);
    assert_string_equal(back.display, display);
    assert_int_equal(tv_person_card_verify(&back, id.pk), 0);
    assert_int_equal(tv_person_card_verify(&back, other.pk), TV_ESIG);

    /* every one-byte change of the text is refused or fails the signature */
    size_t n = strlen(text);
    char copy[TV_PERSON_CARD_MAX];
    for (size_t i = 0; i < n; i++) {
        memcpy(copy, text, n + 1);
        copy[i] = copy[i] == 'A' ? 'B' : 'A';
        int rc = tv_person_card_parse(copy, n, &back, &why);
        if (rc == 0) rc = tv_person_card_verify(&back, id.pk);
        if (rc == 0 && i >= 4) fail_msg("changing byte %zu of the card was not caught", i);
    }
    assert_int_equal(tv_person_card_parse(text, 100, &back, &why), TV_EINVAL);
    assert_string_equal(why, "the personal code is cut short or too long");
    assert_int_equal(tv_person_card_parse(text, 4 + 145, &back, &why), TV_EINVAL);
    assert_int_equal(tv_person_card_sign(&c, ref, 1999, "", &id), TV_EINVAL);
    char longname[80];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(tv_person_card_sign(&c, ref, 1999, longname, &id), TV_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_every_change_caught),
        cmocka_unit_test(test_malformed),   cmocka_unit_test(test_short_code),
        cmocka_unit_test(test_person_card),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
