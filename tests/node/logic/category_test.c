/* Tests for the venue category table in node/logic/category.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/logic/category.h"

/* The wire codes, written out literally: a renumbering must fail here, not in the field. */
static const struct {
    unsigned code;
    const char *slug;
} wire[] = {
    {1, "office"},
    {2, "industrial"},
    {3, "business"},
    {4, "restaurant"},
    {5, "cafe"},
    {6, "bar"},
    {7, "club"},
    {8, "karaoke"},
    {9, "massage_beauty"},
    {10, "gym"},
    {11, "meeting"},
    {12, "hospital"},
    {13, "apartment"},
    {14, "school"},
    {15, "station_port"},
    {16, "public_transport"},
    {17, "mall_supermarket"},
    {18, "market"},
    {19, "essential_shop"},
    {20, "funeral"},
    {21, "wedding"},
    {22, "tourism"},
    {23, "religious"},
    {24, "hotel"},
    {25, "other"},
};

static void test_codes_are_stable(void **state)
{
    (void)state;
    assert_int_equal(sizeof wire / sizeof wire[0], TV_CATEGORY_COUNT);
    for (size_t i = 0; i < sizeof wire / sizeof wire[0]; i++) {
        const tv_category *c = tv_category_by_code(wire[i].code);
        assert_non_null(c);
        assert_int_equal(c->code, wire[i].code);
        assert_string_equal(c->slug, wire[i].slug);
        const tv_category *s = tv_category_by_slug(wire[i].slug);
        assert_ptr_equal(s, c);
    }
    assert_int_equal(TV_CATEGORY_OFFICE, 1);
    assert_int_equal(TV_CATEGORY_RESTAURANT, 4);
    assert_int_equal(TV_CATEGORY_KARAOKE, 8);
    assert_int_equal(TV_CATEGORY_HOSPITAL, 12);
    assert_int_equal(TV_CATEGORY_MARKET, 18);
    assert_int_equal(TV_CATEGORY_HOTEL, 24);
    assert_int_equal(TV_CATEGORY_OTHER, 25);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(tv_category_by_code(1)->name_vi, "Cơ quan, công sở");
    assert_string_equal(tv_category_by_code(2)->name_vi, "Khu công nghiệp, nhà máy");
    assert_string_equal(tv_category_by_code(4)->name_vi, "Nhà hàng, quán ăn");
    assert_string_equal(tv_category_by_code(5)->name_vi, "Quán cà phê");
    assert_string_equal(tv_category_by_code(8)->name_vi, "Karaoke");
    assert_string_equal(tv_category_by_code(18)->name_vi, "Chợ");
    assert_string_equal(tv_category_by_code(24)->name_vi, "Khách sạn, nhà nghỉ");
    assert_string_equal(tv_category_by_code(4)->name_en, "Restaurants and eateries");
    assert_string_equal(tv_category_by_code(12)->name_en, "Hospitals and clinics");
    /* Precomposed (NFC) letters, as Vietnamese keyboards and the CCCD produce: "ợ" is
     * U+1EE3, three bytes, not "o" with two combining marks. */
    assert_memory_equal(tv_category_by_code(18)->name_vi, "Ch\xE1\xBB\xA3", 6);
}

static void test_default_stays(void **state)
{
    (void)state;
    assert_int_equal(tv_category_by_code(TV_CATEGORY_RESTAURANT)->stay_min, 90);
    assert_int_equal(tv_category_by_code(TV_CATEGORY_CAFE)->stay_min, 60);
    assert_int_equal(tv_category_by_code(TV_CATEGORY_MARKET)->stay_min, 60);
    assert_int_equal(tv_category_by_code(TV_CATEGORY_OFFICE)->stay_min, 540);
    assert_int_equal(tv_category_by_code(TV_CATEGORY_HOSPITAL)->stay_min, 240);
    assert_int_equal(tv_category_by_code(TV_CATEGORY_HOTEL)->stay_min, 720);
    assert_int_equal(tv_category_by_code(TV_CATEGORY_SCHOOL)->stay_min, 480);
    assert_int_equal(tv_category_by_code(TV_CATEGORY_PUBLIC_TRANSPORT)->stay_min, 60);
}

/* Returns 1 when s is well-formed UTF-8 (no overlongs, surrogates or values past
 * U+10FFFF), else 0. */
static int utf8_ok(const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    while (*s) {
        unsigned char b = *s;
        int more = b < 0x80                 ? 0
                   : b >= 0xC2 && b <= 0xDF ? 1
                   : b >= 0xE0 && b <= 0xEF ? 2
                   : b >= 0xF0 && b <= 0xF4 ? 3
                                            : -1;
        if (more < 0) return 0;
        unsigned char lo = b == 0xE0 ? 0xA0 : b == 0xF0 ? 0x90 : 0x80;
        unsigned char hi = b == 0xED ? 0x9F : b == 0xF4 ? 0x8F : 0xBF;
        s++;
        for (int i = 0; i < more; i++, s++) {
            if (*s < lo || *s > hi) return 0;
            lo = 0x80;
            hi = 0xBF;
        }
    }
    return 1;
}

static void test_table_is_consistent(void **state)
{
    (void)state;
    size_t n = 0;
    const tv_category *c;
    for (size_t i = 0; (c = tv_category_at(i)); i++, n++) {
        assert_int_equal(c->code, i + 1); /* listed in code order, no gaps */
        assert_ptr_equal(tv_category_by_code(c->code), c);
        size_t len = strlen(c->slug);
        assert_true(len >= 2 && len <= TV_CATEGORY_SLUG_MAX);
        for (const char *p = c->slug; *p; p++)
            assert_true((*p >= 'a' && *p <= 'z') || *p == '_');
        assert_true(utf8_ok(c->name_vi) && strlen(c->name_vi) > 0);
        assert_true(utf8_ok(c->name_en) && strlen(c->name_en) > 0);
        assert_true(c->stay_min >= 15 && c->stay_min <= 24 * 60);
        for (size_t k = 0; k < i; k++) {
            const tv_category *o = tv_category_at(k);
            assert_int_not_equal(o->code, c->code);
            assert_string_not_equal(o->slug, c->slug);
            assert_string_not_equal(o->name_vi, c->name_vi);
            assert_string_not_equal(o->name_en, c->name_en);
        }
    }
    assert_int_equal(n, TV_CATEGORY_COUNT);
}

static void test_slug_lookup(void **state)
{
    (void)state;
    assert_int_equal(tv_category_by_slug("KARAOKE")->code, 8);
    assert_int_equal(tv_category_by_slug("Massage_Beauty")->code, 9);
    assert_int_equal(tv_category_by_slug("massage-beauty")->code, 9);
    assert_int_equal(tv_category_by_slug("Public-Transport")->code, 16);
    static const char *const unknown[] = {
        "",        "offic",          "offices",  "xoffice", "office ",
        " office", "massage beauty", "nhà hàng", "4",       "cafe\xCC\x81",
    };
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_null(tv_category_by_slug(unknown[i]));
}

static void test_code_lookup_bounds(void **state)
{
    (void)state;
    assert_null(tv_category_by_code(0));
    assert_null(tv_category_by_code(TV_CATEGORY_COUNT + 1));
    assert_null(tv_category_by_code(255));
    assert_null(tv_category_by_code(~0u));
    assert_null(tv_category_at(TV_CATEGORY_COUNT));
    assert_non_null(tv_category_at(TV_CATEGORY_COUNT - 1));
}

static void test_find_by_vietnamese_name(void **state)
{
    (void)state;
    static const struct {
        const char *typed;
        unsigned code;
    } ok[] = {
        {"Nh\xc3\xa0 h\xc3\xa0ng", 4},                        /* Nhà hàng: a part of the name */
        {"nha hang", 4},                                      /* without marks */
        {"NH\xc3\x80 H\xc3\x80NG, QU\xc3\x81N \xc4\x82N", 4}, /* NHÀ HÀNG, QUÁN ĂN: whole */
        {"Ch\xe1\xbb\xa3", 18},                               /* Chợ */
        {"Cho\xcc\x9b\xcc\xa3", 18},                          /* Chợ, decomposed */
        {"Trường học", 14},
        {"  truong   hoc ", 14},
        {"market", 18},                  /* the slug still */
        {"Restaurants and eateries", 4}, /* the English name */
        {"đam cuoi", 21},                /* Đám cưới */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const tv_category *c = tv_category_find(ok[i].typed);
        assert_non_null(c);
        assert_int_equal(c->code, ok[i].code);
    }
    assert_null(tv_category_find("S\xc3\xa2n bay")); /* Sân bay */
    assert_null(tv_category_find(""));
    assert_null(tv_category_find("nha"));
    assert_null(tv_category_find("\xff"));
    /* every part of every Vietnamese name finds its own category: no two fold alike */
    for (size_t i = 0; i < TV_CATEGORY_COUNT; i++)
        assert_ptr_equal(tv_category_find(tv_category_at(i)->name_vi), tv_category_at(i));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codes_are_stable),   cmocka_unit_test(test_names),
        cmocka_unit_test(test_default_stays),      cmocka_unit_test(test_table_is_consistent),
        cmocka_unit_test(test_slug_lookup),        cmocka_unit_test(test_find_by_vietnamese_name),
        cmocka_unit_test(test_code_lookup_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
