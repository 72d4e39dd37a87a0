/* Tests of typed-text checks and of the escaping of stored text for a terminal. */
#include "crdt/error.h"
#include "crdt/event.h"
#include "node/format/text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void check_ok(const char *s)
{
    char why[TV_TEXT_WHY_BYTES] = "";
    assert_int_equal(tv_text_check(s, strlen(s), why), 0);
}

static void check_bad(const char *s, size_t n, const char *want)
{
    char why[TV_TEXT_WHY_BYTES] = "";
    assert_int_equal(tv_text_check(s, n, why), TV_EINVAL);
    assert_string_equal(why, want);
}

static void test_check(void **state)
{
    (void)state;
    check_ok("");
    check_ok("Quán phở Hòa — Tổ 5");
    check_ok("\xc2\xa0nbsp and \xe2\x80\x8b zero width"); /* not control characters */
    check_bad("Quán\x1b[2J", strlen("Quán\x1b[2J"), "holds a control character (U+001B)");
    check_bad("bell\x07", 5, "holds a control character (U+0007)");
    check_bad("tab\there", 8, "holds a control character (U+0009)");
    check_bad("two\nlines", 9, "holds a control character (U+000A)");
    check_bad("del\x7f", 4, "holds a control character (U+007F)");
    check_bad("csi\xc2\x9b"
              "2J",
              7, "holds a control character (U+009B)");
    check_bad("c1\xc2\x80", 4, "holds a control character (U+0080)");
    check_bad("a\0b", 3, "holds a control character (U+0000)");
    check_bad("\xc0\xaf", 2, "is not valid UTF-8 text");
    check_bad("cut \xe1\xbb", 6, "is not valid UTF-8 text");
    /* the first fault is named */
    check_bad("\x1b\xff", 2, "holds a control character (U+001B)");
    /* the node's check and the events' rule agree on every two-byte string */
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++) {
            const char s[2] = {(char)a, (char)b};
            char why[TV_TEXT_WHY_BYTES];
            assert_int_equal(tv_text_check(s, 2, why) == 0, crdt_text_valid(s, 2));
        }
}

static void expect_escape(const char *s, size_t n, size_t cap, const char *want)
{
    char out[256];
    assert_true(cap <= sizeof out);
    size_t len = tv_text_escape(out, cap, s, n);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void test_nfc_and_fold(void **state)
{
    (void)state;
    /* "Phở Đà" decomposed: o, combining horn, combining hook above; D-stroke, a, grave */
    const char *nfd = "Pho\xcc\x9b\xcc\x89 \xc4\x90"
                      "a\xcc\x80";
    char *c = tv_text_nfc(nfd);
    assert_non_null(c);
    assert_string_equal(c, "Ph\xe1\xbb\x9f \xc4\x90\xc3\xa0"); /* Phở Đà */
    free(c);
    assert_null(tv_text_nfc("\xff"));
    char key[TV_TEXT_FOLD_BYTES];
    assert_int_equal(tv_text_fold(nfd, key, sizeof key), 0);
    assert_string_equal(key, "pho da");
    assert_int_equal(tv_text_fold("  CH\xe1\xbb\xa2   \t X\xc3\xb3m  ", key, sizeof key), 0);
    assert_string_equal(key, "cho xom"); /* "  CHỢ   \t Xóm  " */
    assert_int_equal(tv_text_fold("\xc3\x28", key, sizeof key), TV_EINVAL);
    assert_string_equal(key, "");
    assert_int_equal(tv_text_fold("abcdef", key, 4), 0);
    assert_string_equal(key, "abc");
}

static void test_escape(void **state)
{
    (void)state;
    expect_escape("Chợ Đầm", strlen("Chợ Đầm"), 64, "Chợ Đầm");
    expect_escape("a\x1b[2Jb", 6, 64, "a\\x1b[2Jb");
    expect_escape("\x07\x7f", 2, 64, "\\x07\\x7f");
    expect_escape("x\xc2\x9b"
                  "31m",
                  6, 64, "x\\xc2\\x9b31m");
    expect_escape("\xff\xc0\xaf", 3, 64, "\\xff\\xc0\\xaf"); /* not UTF-8: byte by byte */
    expect_escape("a\0b", 3, 64, "a\\x00b");
    expect_escape("tab\tnl\n", 7, 64, "tab\\x09nl\\x0a");
    /* a cut is marked, and never splits a character or an escape */
    expect_escape("abcdef", 6, 7, "abcdef");
    expect_escape("abcdefg", 7, 7, "abc...");
    expect_escape("ab\x1b"
                  "cdef",
                  7, 8, "ab...");
    expect_escape("ờờờờ", strlen("ờờờờ"), 10, "ờờ...");
    expect_escape("abc", 3, 1, "");
    char out[4] = "zzz";
    assert_int_equal(tv_text_escape(out, 0, "abc", 3), 0);
    assert_string_equal(out, "zzz");
    /* whatever the input, the output is text: no control byte reaches the terminal */
    char all[256], big[4 * 256 + 1];
    for (int i = 0; i < 256; i++)
        all[i] = (char)i;
    size_t len = tv_text_escape(big, sizeof big, all, sizeof all);
    assert_int_equal(len, strlen(big));
    assert_true(crdt_text_valid(big, len));
}

static void test_esc(void **state)
{
    (void)state;
    const char *clean = "Nhà văn hóa thôn 3";
    assert_ptr_equal(tv_text_esc(clean), clean); /* nothing to escape: no copy */
    assert_string_equal(tv_text_esc(NULL), "");
    assert_string_equal(tv_text_esc_n("ab\x1b", 2), "ab");
    assert_string_equal(tv_text_esc_n(NULL, 0), "");
    /* several in one printf: each keeps its own buffer */
    const char *e[TV_TEXT_ESC_SLOTS];
    char in[TV_TEXT_ESC_SLOTS][8];
    for (int i = 0; i < TV_TEXT_ESC_SLOTS; i++) {
        snprintf(in[i], sizeof in[i], "%d\x1b", i);
        e[i] = tv_text_esc(in[i]);
    }
    for (int i = 0; i < TV_TEXT_ESC_SLOTS; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d\\x1b", i);
        assert_string_equal(e[i], want);
    }
    /* long stored text is cut, marked, and still holds no control byte */
    char longer[TV_TEXT_ESC_BYTES];
    memset(longer, '\x1b', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    const char *x = tv_text_esc(longer);
    assert_true(strlen(x) < TV_TEXT_ESC_BYTES);
    assert_true(strlen(x) > 3 && strcmp(x + strlen(x) - 3, "...") == 0);
    assert_true(crdt_text_valid(x, strlen(x)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_nfc_and_fold),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_esc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
