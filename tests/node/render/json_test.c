/* Tests for the streaming JSON writer in node/render/json.c. */
#define _GNU_SOURCE /* fopencookie, to inject a failing write */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "crdt/error.h"
#include "node/render/json.h"

/* Output captured in memory; test_begin opens it, expect_output closes and compares. */
static char *out_buf;
static size_t out_len;
static FILE *out_f;

static void test_begin(tv_json *j)
{
    out_f = open_memstream(&out_buf, &out_len);
    assert_non_null(out_f);
    tv_json_init(j, out_f);
}

static void expect_output(const tv_json *j, const char *want)
{
    assert_int_equal(tv_json_status(j), 0);
    assert_int_equal(fclose(out_f), 0);
    assert_string_equal(out_buf, want);
    assert_int_equal(out_len, strlen(want));
    free(out_buf);
    out_buf = NULL;
}

/* Writes s as one top-level string and expects want (with its quotes). */
static void expect_string_n(const char *s, size_t len, const char *want)
{
    tv_json j;
    test_begin(&j);
    tv_json_string_n(&j, s, len);
    expect_output(&j, want);
}

#define EXPECT_STRING(lit, want) expect_string_n((lit), sizeof(lit) - 1, (want))

static void test_structure(void **state)
{
    (void)state;
    tv_json j;
    test_begin(&j);
    tv_json_object_begin(&j);
    tv_json_key(&j, "a");
    tv_json_i64(&j, 1);
    tv_json_key(&j, "b");
    tv_json_array_begin(&j);
    tv_json_u64(&j, 1);
    tv_json_u64(&j, 2);
    tv_json_object_begin(&j);
    tv_json_key(&j, "c");
    tv_json_null(&j);
    tv_json_object_end(&j);
    tv_json_array_begin(&j);
    tv_json_array_end(&j);
    tv_json_array_end(&j);
    tv_json_key(&j, "d");
    tv_json_bool(&j, true);
    tv_json_key(&j, "e");
    tv_json_bool(&j, false);
    tv_json_key(&j, "f");
    tv_json_object_begin(&j);
    tv_json_object_end(&j);
    tv_json_key(&j, "g");
    tv_json_string(&j, "x");
    tv_json_object_end(&j);
    expect_output(&j, "{\"a\":1,\"b\":[1,2,{\"c\":null},[]],\"d\":true,\"e\":false,\"f\":{},"
                      "\"g\":\"x\"}");
}

static void test_json_lines(void **state)
{
    (void)state;
    tv_json j;
    test_begin(&j);
    for (int64_t i = 0; i < 3; i++) {
        tv_json_object_begin(&j);
        tv_json_key(&j, "seq");
        tv_json_i64(&j, i);
        tv_json_object_end(&j);
        assert_int_equal(tv_json_line_end(&j), 0);
    }
    tv_json_array_begin(&j);
    tv_json_array_end(&j);
    assert_int_equal(tv_json_line_end(&j), 0);
    tv_json_null(&j);
    assert_int_equal(tv_json_line_end(&j), 0);
    expect_output(&j, "{\"seq\":0}\n{\"seq\":1}\n{\"seq\":2}\n[]\nnull\n");
}

static void test_integers(void **state)
{
    (void)state;
    tv_json j;
    test_begin(&j);
    tv_json_array_begin(&j);
    tv_json_i64(&j, INT64_MIN);
    tv_json_i64(&j, INT64_MAX);
    tv_json_i64(&j, -1);
    tv_json_i64(&j, 0);
    tv_json_u64(&j, UINT64_MAX);
    tv_json_u64(&j, 1633482000000u);
    tv_json_array_end(&j);
    expect_output(&j, "[-9223372036854775808,9223372036854775807,-1,0,18446744073709551615,"
                      "1633482000000]");
}

static void test_escapes(void **state)
{
    (void)state;
    EXPECT_STRING("say \"hi\"", "\"say \\\"hi\\\"\"");
    EXPECT_STRING("C:\\dir\\", "\"C:\\\\dir\\\\\"");
    EXPECT_STRING("\b\f\n\r\t", "\"\\b\\f\\n\\r\\t\"");
    /* DEL and C1 need no escape in JSON, but a terminal showing the output would obey them */
    EXPECT_STRING("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    EXPECT_STRING("\x1b[2J\xc2\x9b"
                  "2J\xc2\x80\xc2\x9f\xc2\xa0",
                  "\"\\u001b[2J\\u009b2J\\u0080\\u009f\xc2\xa0\"");
    EXPECT_STRING("a\0b", "\"a\\u0000b\"");
    EXPECT_STRING("a/b", "\"a/b\"");
    EXPECT_STRING("", "\"\"");
    expect_string_n(NULL, 0, "\"\"");

    tv_json j; /* keys are escaped like strings */
    test_begin(&j);
    tv_json_object_begin(&j);
    tv_json_key(&j, "k\"\n");
    tv_json_string(&j, "v");
    tv_json_object_end(&j);
    expect_output(&j, "{\"k\\\"\\n\":\"v\"}");
}

static void test_utf8_passes(void **state)
{
    (void)state;
    EXPECT_STRING("Nguyễn Văn An", "\"Nguyễn Văn An\"");
    EXPECT_STRING("Phường Bắc Nha Trang, Khánh Hòa", "\"Phường Bắc Nha Trang, Khánh Hòa\"");
    EXPECT_STRING("Đ đ Ữ ữ ặ", "\"Đ đ Ữ ữ ặ\"");
    EXPECT_STRING("\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\""); /* U+1F600, four bytes */
    EXPECT_STRING("\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\""); /* U+10FFFF, the last */
    EXPECT_STRING("\xEF\xBF\xBF", "\"\xEF\xBF\xBF\"");         /* U+FFFF is well-formed */
    EXPECT_STRING("\xED\x9F\xBF", "\"\xED\x9F\xBF\"");         /* U+D7FF, below surrogates */
}

#define FFFD "\xEF\xBF\xBD"

static void test_utf8_invalid(void **state)
{
    (void)state;
    EXPECT_STRING("\x80", "\"" FFFD "\""); /* stray continuation byte */
    EXPECT_STRING("\xFF", "\"" FFFD "\"");
    EXPECT_STRING("a\xC3", "\"a" FFFD "\""); /* truncated at the end */
    EXPECT_STRING("\xC3(", "\"" FFFD "(\""); /* truncated by ASCII */
    EXPECT_STRING("\xE1\xBB"
                  "x",
                  "\"" FFFD "x\""); /* one U+FFFD per maximal subpart */
    EXPECT_STRING("\xF0\x9F\x98"
                  "a",
                  "\"" FFFD "a\"");
    EXPECT_STRING("\xC0\xAF", "\"" FFFD FFFD "\"");                   /* overlong '/' */
    EXPECT_STRING("\xE0\x80\x80", "\"" FFFD FFFD FFFD "\"");          /* overlong NUL */
    EXPECT_STRING("\xED\xA0\x80", "\"" FFFD FFFD FFFD "\"");          /* surrogate U+D800 */
    EXPECT_STRING("\xF4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\""); /* above U+10FFFF */
    /* Latin-1 "Hòa" from an old export: the bad byte goes, the rest stays. */
    EXPECT_STRING("H\xF2"
                  "a \"q\"",
                  "\"H" FFFD "a \\\"q\\\"\"");
    EXPECT_STRING("\xC3\xA0\xC3", "\"\xC3\xA0" FFFD "\"");
}

static void test_hex(void **state)
{
    (void)state;
    static const uint8_t id[] = {0x00, 0x01, 0xab, 0xff};
    uint8_t big[100];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    tv_json j;
    test_begin(&j);
    tv_json_array_begin(&j);
    tv_json_hex(&j, id, sizeof id);
    tv_json_hex(&j, NULL, 0);
    tv_json_hex(&j, big, sizeof big); /* longer than one internal chunk */
    tv_json_array_end(&j);
    char want[512] = "[\"0001abff\",\"\",\"";
    for (size_t i = 0; i < sizeof big; i++) {
        char two[3];
        snprintf(two, sizeof two, "%02x", big[i]);
        strcat(want, two);
    }
    strcat(want, "\"]");
    expect_output(&j, want);
}

static void test_max_depth(void **state)
{
    (void)state;
    tv_json j;
    test_begin(&j);
    char want[4 * TV_JSON_DEPTH_MAX + 1] = "";
    for (int i = 0; i < TV_JSON_DEPTH_MAX; i++) {
        tv_json_array_begin(&j);
        strcat(want, "[");
    }
    tv_json_i64(&j, 7);
    strcat(want, "7");
    for (int i = 0; i < TV_JSON_DEPTH_MAX; i++) {
        tv_json_array_end(&j);
        strcat(want, "]");
    }
    expect_output(&j, want);
}

static ssize_t failing_write(void *cookie, const char *buf, size_t size)
{
    (void)cookie;
    (void)buf;
    (void)size;
    return -1;
}

static void test_write_error(void **state)
{
    (void)state;
    cookie_io_functions_t io = {.write = failing_write};
    FILE *f = fopencookie(NULL, "w", io);
    assert_non_null(f);
    assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0); /* surface the error at once */
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "a");
    tv_json_string(&j, "b");
    tv_json_object_end(&j);
    assert_int_equal(tv_json_status(&j), TV_EIO);
    assert_int_equal(tv_json_line_end(&j), TV_EIO);
    fclose(f);
}

#ifndef NDEBUG
/* Runs fn in a child and expects it to abort on an assertion. */
static void expect_abort(void (*fn)(tv_json *))
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) dup2(fileno(devnull), STDERR_FILENO); /* keep the report quiet */
        tv_json j;
        tv_json_init(&j, devnull ? devnull : stdout);
        fn(&j);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void misuse_value_without_key(tv_json *j)
{
    tv_json_object_begin(j);
    tv_json_i64(j, 1);
}

static void misuse_key_in_array(tv_json *j)
{
    tv_json_array_begin(j);
    tv_json_key(j, "k");
}

static void misuse_wrong_close(tv_json *j)
{
    tv_json_object_begin(j);
    tv_json_array_end(j);
}

static void misuse_too_deep(tv_json *j)
{
    for (int i = 0; i <= TV_JSON_DEPTH_MAX; i++)
        tv_json_array_begin(j);
}

static void misuse_open_at_line_end(tv_json *j)
{
    tv_json_object_begin(j);
    (void)tv_json_line_end(j);
}

static void misuse_dangling_key(tv_json *j)
{
    tv_json_object_begin(j);
    tv_json_key(j, "k");
    tv_json_object_end(j);
}

/* Misuse is a bug in the caller: it must stop the program where it happens. */
static void test_misuse(void **state)
{
    (void)state;
    expect_abort(misuse_value_without_key);
    expect_abort(misuse_key_in_array);
    expect_abort(misuse_wrong_close);
    expect_abort(misuse_too_deep);
    expect_abort(misuse_open_at_line_end);
    expect_abort(misuse_dangling_key);
}
#else
/* Where assertions are compiled out, misuse must still stay inside the writer's stack
 * and be reported. */
static void test_misuse(void **state)
{
    (void)state;
    tv_json j;
    test_begin(&j);
    for (int i = 0; i <= TV_JSON_DEPTH_MAX; i++)
        tv_json_array_begin(&j);
    assert_int_equal(tv_json_status(&j), TV_EINVAL);
    fclose(out_f);
    free(out_buf);

    test_begin(&j);
    tv_json_array_end(&j);
    assert_int_equal(tv_json_status(&j), TV_EINVAL);
    fclose(out_f);
    free(out_buf);

    test_begin(&j);
    tv_json_key(&j, "k");
    assert_int_equal(tv_json_line_end(&j), TV_EINVAL);
    fclose(out_f);
    free(out_buf);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structure),   cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_integers),    cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_utf8_passes), cmocka_unit_test(test_utf8_invalid),
        cmocka_unit_test(test_hex),         cmocka_unit_test(test_max_depth),
        cmocka_unit_test(test_write_error), cmocka_unit_test(test_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
