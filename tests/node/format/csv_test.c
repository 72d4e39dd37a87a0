/* Tests for the streaming CSV reader in node/format/csv.c. */
#define _GNU_SOURCE /* fopencookie, to inject a failing read */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crdt/error.h"
#include "node/format/csv.h"

/* Returns a temporary file holding len bytes of s, positioned at its start. */
static FILE *file_of(const char *s, size_t len)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(fwrite(s, 1, len, f), len);
    rewind(f);
    return f;
}

static tv_csv *open_str(FILE **f, const char *s, size_t len)
{
    tv_csv *c = NULL;
    *f = file_of(s, len);
    assert_int_equal(tv_csv_open(&c, *f), TV_OK);
    assert_non_null(c);
    return c;
}

/* Expects the next row to start on want_line and hold the fields given, ended by NULL. */
static void expect_row(tv_csv *c, uint64_t want_line, ...)
{
    const char *const *fields = NULL;
    size_t n = 0;
    uint64_t line = 0;
    assert_int_equal(tv_csv_next(c, &fields, &n, &line), 1);
    assert_int_equal(line, want_line);
    assert_non_null(fields);
    va_list ap;
    va_start(ap, want_line);
    size_t i = 0;
    for (const char *want = va_arg(ap, const char *); want; want = va_arg(ap, const char *)) {
        assert_true(i < n);
        assert_string_equal(fields[i], want);
        i++;
    }
    va_end(ap);
    assert_int_equal(n, i);
}

static void expect_error(tv_csv *c, int want_err, uint64_t want_line)
{
    const char *const *fields = (const char *const *)1;
    size_t n = 99;
    uint64_t line = 0;
    assert_int_equal(tv_csv_next(c, &fields, &n, &line), want_err);
    assert_int_equal(line, want_line);
    assert_null(fields);
    assert_int_equal(n, 0);
}

static void expect_eof(tv_csv *c)
{
    const char *const *fields;
    size_t n;
    uint64_t line;
    assert_int_equal(tv_csv_next(c, &fields, &n, &line), 0);
    assert_int_equal(tv_csv_next(c, &fields, &n, &line), 0);
}

#define OPEN(s) open_str(&f, (s), sizeof(s) - 1)
#define CLOSE()                                                                                    \
    do {                                                                                           \
        tv_csv_free(c);                                                                            \
        fclose(f);                                                                                 \
    } while (0)

/* What the writer writes, the reader reads back the same: commas, quotes, line ends,
 * Vietnamese, empty cells. */
static void test_write_round_trip(void **state)
{
    (void)state;
    const char *row1[] = {"F1", "Nguyễn V** A", "a,b", "say \"hi\"", "two\nlines", ""};
    const char *row2[] = {"plain", "x"};
    FILE *f = tmpfile();
    assert_non_null(f);
    tv_csv_write_row(f, row1, 6);
    tv_csv_write_row(f, row2, 2);
    rewind(f);
    tv_csv *c = NULL;
    assert_int_equal(tv_csv_open(&c, f), TV_OK);
    expect_row(c, 1, "F1", "Nguyễn V** A", "a,b", "say \"hi\"", "two\nlines", "", NULL);
    expect_row(c, 3, "plain", "x", NULL);
    expect_eof(c);
    tv_csv_free(c);
    fclose(f);
}

/* A row of one empty cell is written as "" and read back as that row, not skipped as a
 * blank line; between rows, and as a row of its own at the end of the file. */
static void test_write_one_empty_cell(void **state)
{
    (void)state;
    const char *empty[] = {""}, *null[] = {NULL}, *x[] = {"x"}, *two[] = {"", ""};
    FILE *f = tmpfile();
    assert_non_null(f);
    tv_csv_write_row(f, x, 1);
    tv_csv_write_row(f, empty, 1);
    tv_csv_write_row(f, two, 2);
    tv_csv_write_row(f, null, 1);
    long size = ftell(f);
    rewind(f);
    char bytes[64] = {0};
    assert_int_equal(fread(bytes, 1, sizeof bytes - 1, f), (size_t)size);
    assert_string_equal(bytes, "x\r\n\"\"\r\n,\r\n\"\"\r\n");
    rewind(f);
    tv_csv *c = NULL;
    assert_int_equal(tv_csv_open(&c, f), TV_OK);
    expect_row(c, 1, "x", NULL);
    expect_row(c, 2, "", NULL);
    expect_row(c, 3, "", "", NULL);
    expect_row(c, 4, "", NULL);
    expect_eof(c);
    tv_csv_free(c);
    fclose(f);
}

/* A first cell that starts with a byte order mark is quoted: bare, at the start of a file,
 * the reader would take the mark for the file's and drop it (found by tests/fuzz/csv.c). */
/* A spreadsheet in a Vietnamese locale saves "CSV" with semicolons: detected from the first
 * unquoted separator, then held for the whole input; a reader that did not ask keeps ','. */
static void test_semicolons(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("\xEF\xBB\xBFvenue;person;time\r\n"
                     "a1;\"x;y\";07/10/2021 08:00\r\nb,2;c;d\r\n");
    tv_csv_detect_separator(c);
    assert_int_equal(tv_csv_separator(c), 0);
    expect_row(c, 1, "venue", "person", "time", NULL);
    assert_int_equal(tv_csv_separator(c), ';');
    expect_row(c, 2, "a1", "x;y", "07/10/2021 08:00", NULL);
    expect_row(c, 3, "b,2", "c", "d", NULL); /* a comma is then text */
    expect_eof(c);
    CLOSE();

    c = OPEN("venue,person\na;b,c\n"); /* commas first: semicolons are text */
    tv_csv_detect_separator(c);
    expect_row(c, 1, "venue", "person", NULL);
    expect_row(c, 2, "a;b", "c", NULL);
    expect_eof(c);
    CLOSE();

    c = OPEN("venue;person\n"); /* not asked: one field */
    expect_row(c, 1, "venue;person", NULL);
    expect_eof(c);
    CLOSE();
}

static void test_write_bom_cell(void **state)
{
    (void)state;
    const char *row[] = {"\xef\xbb\xbf"
                         "a",
                         "b"};
    FILE *f = tmpfile();
    assert_non_null(f);
    tv_csv_write_row(f, row, 2);
    long size = ftell(f);
    rewind(f);
    char bytes[64] = {0};
    assert_int_equal(fread(bytes, 1, sizeof bytes - 1, f), (size_t)size);
    assert_string_equal(bytes, "\"\xef\xbb\xbf"
                               "a\",b\r\n");
    rewind(f);
    tv_csv *c = NULL;
    assert_int_equal(tv_csv_open(&c, f), TV_OK);
    expect_row(c, 1,
               "\xef\xbb\xbf"
               "a",
               "b", NULL);
    expect_eof(c);
    tv_csv_free(c);
    fclose(f);
}

static void test_plain_rows(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("venue,name,when\nv1,Chợ Đầm,2021-10-06\nv2,Nhà hàng A,2021-10-07");
    expect_row(c, 1, "venue", "name", "when", NULL);
    expect_row(c, 2, "v1", "Chợ Đầm", "2021-10-06", NULL);
    expect_row(c, 3, "v2", "Nhà hàng A", "2021-10-07", NULL); /* no final line end */
    expect_eof(c);
    CLOSE();
}

static void test_empty_fields(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("a,,b,\n,\n\"\"\nx\n");
    expect_row(c, 1, "a", "", "b", "", NULL);
    expect_row(c, 2, "", "", NULL);
    expect_row(c, 3, "", NULL); /* "" is a row of one empty field, not a blank line */
    expect_row(c, 4, "x", NULL);
    expect_eof(c);
    CLOSE();
}

static void test_quoted(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("\"Số 1, Phố X\",\"say \"\"hi\"\"\",\"\"\"\"\n"
                     "\"two\nlines\",b\n"
                     "\"crlf\r\ninside\",\"lone\rcr\"\n"
                     "after,\"a\"\n"
                     "Quán \"Bà Ba\",x\n");
    expect_row(c, 1, "Số 1, Phố X", "say \"hi\"", "\"", NULL);
    expect_row(c, 2, "two\nlines", "b", NULL);
    expect_row(c, 4, "crlf\r\ninside", "lone\rcr", NULL);
    expect_row(c, 7, "after", "a", NULL);          /* CRLF is one line end, a lone CR is another */
    expect_row(c, 8, "Quán \"Bà Ba\"", "x", NULL); /* quotes inside an unquoted field */
    expect_eof(c);
    CLOSE();
}

static void test_line_ends(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("a,b\r\nc,d\r\n\r\ne,f\rg,h\n\n\ni,\"j\"\r\n\r\n");
    expect_row(c, 1, "a", "b", NULL);
    expect_row(c, 2, "c", "d", NULL);
    expect_row(c, 4, "e", "f", NULL);
    expect_row(c, 5, "g", "h", NULL);
    expect_row(c, 8, "i", "j", NULL);
    expect_eof(c);
    CLOSE();
}

static void test_bom(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("\xEF\xBB\xBF"
                     "ma,ten\n\xEF\xBB\xBFx,y\n");
    expect_row(c, 1, "ma", "ten", NULL);
    expect_row(c, 2, "\xEF\xBB\xBFx", "y", NULL); /* only a leading mark is skipped */
    expect_eof(c);
    CLOSE();

    c = OPEN("\xEF\xBB\xBF\"q\",1");
    expect_row(c, 1, "q", "1", NULL);
    expect_eof(c);
    CLOSE();

    c = OPEN("\xEF\xBB\xBF");
    expect_eof(c);
    CLOSE();

    c = OPEN("\xEF\xBB"); /* a truncated mark is data */
    expect_row(c, 1, "\xEF\xBB", NULL);
    expect_eof(c);
    CLOSE();
}

static void test_empty_inputs(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("");
    expect_eof(c);
    CLOSE();
    c = OPEN("\n\r\n\r\n");
    expect_eof(c);
    CLOSE();
}

/* Builds a field of len copies of ch. */
static char *repeat(char ch, size_t len)
{
    char *s = malloc(len + 1);
    assert_non_null(s);
    memset(s, ch, len);
    s[len] = '\0';
    return s;
}

static void test_field_too_long(void **state)
{
    (void)state;
    char *max = repeat('a', TV_CSV_FIELD_BYTES_MAX);
    char *over = repeat('b', TV_CSV_FIELD_BYTES_MAX + 1);
    size_t cap = 4 * TV_CSV_FIELD_BYTES_MAX + 256;
    char *in = malloc(cap);
    assert_non_null(in);
    int len = snprintf(in, cap, "ok,%s\nbad,%s,z\n\"bad\n%s\"\nlast,1\n", max, over, over);
    assert_true(len > 0 && (size_t)len < cap);

    FILE *f;
    tv_csv *c = open_str(&f, in, (size_t)len);
    expect_row(c, 1, "ok", max, NULL);
    expect_error(c, TV_ELIMIT, 2);
    expect_error(c, TV_ELIMIT, 3); /* quoted, spanning lines 3-4 */
    expect_row(c, 5, "last", "1", NULL);
    expect_eof(c);
    CLOSE();
    free(in);
    free(over);
    free(max);
}

/* Writes a row of nf fields "0", "1", ... into out. */
static size_t numbered_row(char *out, size_t cap, size_t nf)
{
    size_t len = 0;
    for (size_t i = 0; i < nf; i++) {
        int k = snprintf(out + len, cap - len, i ? ",%zu" : "%zu", i);
        assert_true(k > 0 && (size_t)k < cap - len);
        len += (size_t)k;
    }
    return len;
}

static void test_too_many_fields(void **state)
{
    (void)state;
    char in[1024];
    size_t len = numbered_row(in, sizeof in, TV_CSV_FIELDS_MAX);
    in[len++] = '\n';
    len += numbered_row(in + len, sizeof in - len, TV_CSV_FIELDS_MAX + 1);
    memcpy(in + len, "\nx,y\n", 5);
    len += 5;

    FILE *f;
    tv_csv *c = open_str(&f, in, len);
    const char *const *fields;
    size_t n;
    uint64_t line;
    assert_int_equal(tv_csv_next(c, &fields, &n, &line), 1);
    assert_int_equal(n, TV_CSV_FIELDS_MAX);
    assert_int_equal(line, 1);
    assert_string_equal(fields[TV_CSV_FIELDS_MAX - 1], "63");
    expect_error(c, TV_ELIMIT, 2);
    expect_row(c, 3, "x", "y", NULL);
    expect_eof(c);
    CLOSE();
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("a,b\nc,\"open\nd,e\nf,g\n");
    expect_row(c, 1, "a", "b", NULL);
    expect_error(c, TV_EDECODE, 2); /* the line where the quote opens */
    expect_eof(c);
    CLOSE();

    c = OPEN("\"x\"\"");
    expect_error(c, TV_EDECODE, 1);
    expect_eof(c);
    CLOSE();
}

static void test_text_after_quote(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("\"ab\"c,d\n\"x\" ,y\nok,1\n");
    expect_error(c, TV_EDECODE, 1);
    expect_error(c, TV_EDECODE, 2);
    expect_row(c, 3, "ok", "1", NULL);
    expect_eof(c);
    CLOSE();
}

static void test_nul_byte(void **state)
{
    (void)state;
    FILE *f;
    tv_csv *c = OPEN("a\0b,c\n\"q\0\",d\ne,f");
    expect_error(c, TV_EDECODE, 1);
    expect_error(c, TV_EDECODE, 2);
    expect_row(c, 3, "e", "f", NULL);
    expect_eof(c);
    CLOSE();
}

static void test_offset(void **state)
{
    (void)state;
    FILE *f;
    static const char in[] = "\xEF\xBB\xBF"
                             "a,b\r\n\n\"c\nd\",e\r\nf";
    tv_csv *c = OPEN(in);
    assert_int_equal(tv_csv_offset(c), 0);
    expect_row(c, 1, "a", "b", NULL);
    assert_int_equal(tv_csv_offset(c), 3 + 5);
    expect_row(c, 3, "c\nd", "e", NULL);
    assert_int_equal(tv_csv_offset(c), 3 + 5 + 1 + 9);
    expect_row(c, 5, "f", NULL);
    assert_int_equal(tv_csv_offset(c), sizeof in - 1);
    expect_eof(c);
    assert_int_equal(tv_csv_offset(c), sizeof in - 1);
    CLOSE();
}

/* A stream that yields its bytes and then fails, as a disk read error would. */
struct failing {
    const char *data;
    size_t len, pos;
};

static ssize_t failing_read(void *cookie, char *buf, size_t size)
{
    struct failing *s = cookie;
    if (s->pos == s->len) return -1;
    size_t k = s->len - s->pos < size ? s->len - s->pos : size;
    memcpy(buf, s->data + s->pos, k);
    s->pos += k;
    return (ssize_t)k;
}

static void test_read_error(void **state)
{
    (void)state;
    struct failing s = {"a,b\nc,d", 7, 0};
    cookie_io_functions_t io = {.read = failing_read};
    FILE *f = fopencookie(&s, "r", io);
    assert_non_null(f);
    tv_csv *c;
    assert_int_equal(tv_csv_open(&c, f), TV_OK);
    const char *const *fields;
    size_t n;
    uint64_t line;
    /* The whole input arrives before the error, yet the last row is not known to be
     * complete, so it is not returned. */
    expect_row(c, 1, "a", "b", NULL);
    assert_int_equal(tv_csv_next(c, &fields, &n, &line), TV_EIO);
    assert_null(fields);
    assert_int_equal(tv_csv_next(c, &fields, &n, &line), TV_EIO);
    CLOSE();
}

/* Seeded xorshift so that a failure replays. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

#define RT_ROWS 20000
#define RT_FIELDS 5
#define RT_FIELD_LEN 12

/* Encodes random rows (commas, quotes, line ends, multi-byte UTF-8 inside fields; random
 * line ends between rows) into a file larger than the reader's buffer, so that every kind
 * of token straddles a buffer boundary somewhere, and checks that they decode to the same
 * fields on the same lines. */
static void test_round_trip(void **state)
{
    (void)state;
    static const char *const pieces[] = {"a", "Z", ",", "\"", "\n", "\r\n", "\r", " ", "ệ", "9"};
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    static char want[RT_ROWS][RT_FIELDS][RT_FIELD_LEN * 3 + 1];
    static size_t want_n[RT_ROWS];
    static uint64_t want_line[RT_ROWS];
    uint64_t seed = 0x9E3779B97F4A7C15u;
    FILE *f = tmpfile();
    assert_non_null(f);
    uint64_t line = 1;

    for (size_t r = 0; r < RT_ROWS; r++) {
        want_line[r] = line;
        want_n[r] = 1 + rng_next(&seed) % RT_FIELDS;
        for (size_t i = 0; i < want_n[r]; i++) {
            char *w = want[r][i];
            size_t len = rng_next(&seed) % (RT_FIELD_LEN + 1);
            w[0] = '\0';
            for (size_t k = 0; k < len; k++)
                strcat(w, pieces[rng_next(&seed) % npieces]);
            /* A lone empty field would be a blank line; quote it. */
            int quote = strpbrk(w, ",\"\r\n") != NULL || (want_n[r] == 1 && !*w) ||
                        rng_next(&seed) % 4 == 0;
            if (i) fputc(',', f);
            if (quote) fputc('"', f);
            for (const char *p = w; *p; p++) {
                if (*p == '"' && quote) fputc('"', f);
                fputc(*p, f);
                if (*p == '\n' || (*p == '\r' && p[1] != '\n')) line++;
            }
            if (quote) fputc('"', f);
            /* Unquoted fields must not look like the start of a quoted one or hold
             * line ends; the generator only leaves them unquoted when safe. */
            assert_true(quote || (w[0] != '"' && !strpbrk(w, "\r\n,")));
        }
        fputs(ends[rng_next(&seed) % 3], f);
        line++;
    }
    long size = ftell(f);
    assert_true(size > 3 * 64 * 1024);
    rewind(f);

    tv_csv *c;
    assert_int_equal(tv_csv_open(&c, f), TV_OK);
    for (size_t r = 0; r < RT_ROWS; r++) {
        const char *const *fields;
        size_t n;
        uint64_t got_line;
        assert_int_equal(tv_csv_next(c, &fields, &n, &got_line), 1);
        assert_int_equal(got_line, want_line[r]);
        assert_int_equal(n, want_n[r]);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(fields[i], want[r][i]);
    }
    expect_eof(c);
    assert_int_equal(tv_csv_offset(c), (uint64_t)size);
    CLOSE();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_rows),       cmocka_unit_test(test_write_round_trip),
        cmocka_unit_test(test_empty_fields),     cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_line_ends),        cmocka_unit_test(test_bom),
        cmocka_unit_test(test_semicolons),       cmocka_unit_test(test_write_bom_cell),
        cmocka_unit_test(test_empty_inputs),     cmocka_unit_test(test_field_too_long),
        cmocka_unit_test(test_too_many_fields),  cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_text_after_quote), cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_offset),           cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_write_one_empty_cell),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
