/* The console's sessions (node/web/session.c): a token finds its session until logout, its
 * idle time, its lifetime, or its account's end; a full table ends the session idle
 * longest; tokens compare whole. Times are given, so no test waits. */
#include "crdt/error.h"
#include "node/web/session.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#define T0 INT64_C(1633478400000) /* 2021-10-06 */

static void test_find_and_end(void **state)
{
    (void)state;
    tv_session_table t;
    assert_int_equal(tv_session_table_init(&t), 0);
    char tok[TV_TOKEN_STR], tok2[TV_TOKEN_STR];
    tv_session_view v, got;
    assert_int_equal(tv_session_new(&t, "lan", "clerk", T0, tok, &v), 0);
    assert_int_equal(strlen(tok), TV_TOKEN_STR - 1);
    assert_int_equal(strlen(v.csrf), TV_TOKEN_STR - 1);
    assert_string_not_equal(tok, v.csrf);
    assert_int_equal(tv_session_find(&t, tok, T0 + 1000, &got), 0);
    assert_string_equal(got.user, "lan");
    assert_string_equal(got.role, "clerk");
    assert_string_equal(got.csrf, v.csrf);
    /* another token, a cut one, none */
    assert_int_equal(tv_session_new(&t, "bao", "guard", T0, tok2, &v), 0);
    assert_int_equal(tv_session_find(&t, tok2, T0, &got), 0);
    assert_string_equal(got.user, "bao");
    char cut[TV_TOKEN_STR];
    memcpy(cut, tok, sizeof cut);
    cut[5] = cut[5] == 'A' ? 'B' : 'A';
    assert_int_equal(tv_session_find(&t, cut, T0, &got), TV_ENOTFOUND);
    assert_int_equal(tv_session_find(&t, "", T0, &got), TV_ENOTFOUND);
    assert_int_equal(tv_session_find(&t, NULL, T0, &got), TV_ENOTFOUND);
    tv_session_end(&t, tok);
    assert_int_equal(tv_session_find(&t, tok, T0, &got), TV_ENOTFOUND);
    assert_int_equal(tv_session_find(&t, tok2, T0, &got), 0);
    assert_int_equal(tv_session_end_user(&t, "bao"), 1);
    assert_int_equal(tv_session_find(&t, tok2, T0, &got), TV_ENOTFOUND);
    tv_session_table_free(&t);
}

static void test_expiry(void **state)
{
    (void)state;
    tv_session_table t;
    assert_int_equal(tv_session_table_init(&t), 0);
    char tok[TV_TOKEN_STR];
    tv_session_view v;
    assert_int_equal(tv_session_new(&t, "lan", "clerk", T0, tok, &v), 0);
    /* idle: each use moves it on */
    int64_t now = T0;
    for (int i = 0; i < 10; i++) {
        now += TV_SESSION_IDLE_MS - 1;
        assert_int_equal(tv_session_find(&t, tok, now, &v), 0);
    }
    assert_int_equal(tv_session_find(&t, tok, now + TV_SESSION_IDLE_MS, &v), TV_ENOTFOUND);
    /* lifetime: even when used all along */
    assert_int_equal(tv_session_new(&t, "lan", "clerk", T0, tok, &v), 0);
    for (now = T0; now < T0 + TV_SESSION_LIFE_MS - 3600000; now += 3600000)
        assert_int_equal(tv_session_find(&t, tok, now, &v), 0);
    assert_int_equal(tv_session_find(&t, tok, T0 + TV_SESSION_LIFE_MS, &v), TV_ENOTFOUND);
    tv_session_table_free(&t);
}

static void test_full_table(void **state)
{
    (void)state;
    tv_session_table t;
    assert_int_equal(tv_session_table_init(&t), 0);
    char first[TV_TOKEN_STR], tok[TV_TOKEN_STR];
    tv_session_view v;
    assert_int_equal(tv_session_new(&t, "u0", "clerk", T0, first, &v), 0);
    char second[TV_TOKEN_STR];
    assert_int_equal(tv_session_new(&t, "u1", "clerk", T0 + 1, second, &v), 0);
    for (int i = 2; i < TV_SESSION_MAX; i++)
        assert_int_equal(tv_session_new(&t, "u", "clerk", T0 + i, tok, &v), 0);
    assert_int_equal(tv_session_find(&t, second, T0 + TV_SESSION_MAX, &v), 0); /* used now */
    assert_int_equal(tv_session_new(&t, "new", "clerk", T0 + TV_SESSION_MAX + 1, tok, &v), 0);
    assert_int_equal(tv_session_find(&t, first, T0 + TV_SESSION_MAX + 1, &v), TV_ENOTFOUND);
    assert_int_equal(tv_session_find(&t, second, T0 + TV_SESSION_MAX + 1, &v), 0);
    assert_int_equal(tv_session_find(&t, tok, T0 + TV_SESSION_MAX + 1, &v), 0);
    assert_string_equal(v.user, "new");
    tv_session_table_free(&t);
}

static void test_token_equal(void **state)
{
    (void)state;
    assert_int_equal(tv_token_equal("abc", "abc"), 1);
    assert_int_equal(tv_token_equal("abc", "abd"), 0);
    assert_int_equal(tv_token_equal("abc", "abcd"), 0);
    assert_int_equal(tv_token_equal("", ""), 0); /* an empty token never matches */
    assert_int_equal(tv_token_equal(NULL, "abc"), 0);
    assert_int_equal(tv_token_equal("abc", NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_and_end),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_full_table),
        cmocka_unit_test(test_token_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
