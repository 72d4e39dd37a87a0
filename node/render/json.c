/* Small streaming JSON writer (see json.h for the escaping rules and the error model). */
#include "node/render/json.h"
#include "crdt/error.h"

#include <assert.h>
#include <inttypes.h>
#include <string.h>

static void json_put(tv_json *j, const void *p, size_t n)
{
    if (j->err || n == 0) return;
    if (fwrite(p, 1, n, j->f) != n) j->err = TV_EIO;
}

static void json_putc(tv_json *j, char ch)
{
    if (j->err) return;
    if (putc(ch, j->f) == EOF) j->err = TV_EIO;
}

void tv_json_init(tv_json *j, FILE *f)
{
    assert(j && f);
    j->f = f;
    j->depth = 0;
    j->err = 0;
    j->key_done = false;
    for (int i = 0; i < TV_JSON_DEPTH_MAX; i++)
        j->is_object[i] = false;
    for (int i = 0; i <= TV_JSON_DEPTH_MAX; i++)
        j->has_items[i] = false;
}

/* Writes what must precede a value: nothing at the top level (records are separated by
 * line ends), nothing after a key (the key wrote its comma), else a comma unless the
 * value is the first of its array. */
static void json_before_value(tv_json *j)
{
    if (j->depth == 0) return;
    if (j->is_object[j->depth - 1]) {
        assert(j->key_done && "a value in an object needs a key first");
        j->key_done = false;
        return;
    }
    if (j->has_items[j->depth]) json_putc(j, ',');
    j->has_items[j->depth] = true;
}

static void json_open(tv_json *j, bool object)
{
    json_before_value(j);
    assert(j->depth < TV_JSON_DEPTH_MAX && "JSON nesting deeper than TV_JSON_DEPTH_MAX");
    if (j->depth >= TV_JSON_DEPTH_MAX) { /* without assertions: stay inside the stack */
        if (!j->err) j->err = TV_EINVAL;
        return;
    }
    j->is_object[j->depth] = object;
    j->depth++;
    j->has_items[j->depth] = false;
    json_putc(j, object ? '{' : '[');
}

static void json_close(tv_json *j, bool object)
{
    assert(j->depth > 0 && "closing a container that is not open");
    assert(j->is_object[j->depth - 1] == object && "closing the wrong kind of container");
    assert(!j->key_done && "a key without a value");
    if (j->depth == 0) { /* without assertions: stay inside the stack */
        if (!j->err) j->err = TV_EINVAL;
        return;
    }
    j->depth--;
    json_putc(j, object ? '}' : ']');
}

void tv_json_object_begin(tv_json *j)
{
    json_open(j, true);
}
void tv_json_object_end(tv_json *j)
{
    json_close(j, true);
}
void tv_json_array_begin(tv_json *j)
{
    json_open(j, false);
}
void tv_json_array_end(tv_json *j)
{
    json_close(j, false);
}

/* Returns the length (1..4) of the well-formed UTF-8 sequence at s[0..len), or 0 with the
 * length of its maximal ill-formed prefix in *bad (Unicode 15, table 3-7, and the
 * "substitution of maximal subparts" practice of section 3.9). */
static size_t json_utf8_seq(const unsigned char *s, size_t len, size_t *bad)
{
    unsigned char b = s[0];
    unsigned char lo = 0x80, hi = 0xBF; /* the range allowed for the second byte */
    size_t more;
    if (b < 0x80) return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        more = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
        more = 2;
    } else if (b >= 0xF0 && b <= 0xF4) {
        more = 3;
    } else {
        *bad = 1; /* a continuation byte, C0, C1 or F5..FF */
        return 0;
    }
    if (b == 0xE0)
        lo = 0xA0; /* below is an overlong form */
    else if (b == 0xED)
        hi = 0x9F; /* above are the UTF-16 surrogates */
    else if (b == 0xF0)
        lo = 0x90; /* below is an overlong form */
    else if (b == 0xF4)
        hi = 0x8F; /* above is beyond U+10FFFF */
    size_t i = 1;
    while (i <= more && i < len && s[i] >= lo && s[i] <= hi) {
        lo = 0x80;
        hi = 0xBF;
        i++;
    }
    if (i == more + 1) return i;
    *bad = i;
    return 0;
}

/* The escape of ASCII byte b (a quote, a backslash or a control character) into esc: its
 * short form (\n) where JSON has one, else \u00XX. Returns its length. */
static size_t json_escape_ascii(char esc[6], unsigned char b)
{
    static const char hex[] = "0123456789abcdef";
    esc[0] = '\\';
    switch (b) {
    case '"':
        esc[1] = '"';
        return 2;
    case '\\':
        esc[1] = '\\';
        return 2;
    case '\b':
        esc[1] = 'b';
        return 2;
    case '\f':
        esc[1] = 'f';
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hex[b >> 4];
        esc[5] = hex[b & 15];
        return 6;
    }
}

static void json_write_string(tv_json *j, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t run = 0; /* start of the bytes not yet written, all of which need no escape */
    size_t i = 0;
    json_putc(j, '"');
    while (i < len) {
        unsigned char b = s[i];
        if (b >= 0x20 && b != '"' && b != '\\' && b < 0x7f) {
            i++;
            continue;
        }
        if (b >= 0x80) {
            size_t bad = 0, k = json_utf8_seq(s + i, len - i, &bad);
            if (k == 2 && b == 0xC2 && s[i + 1] < 0xA0) { /* C1 U+0080..U+009F: escaped */
                char esc[6] = {'\\', 'u', '0', '0', hex[s[i + 1] >> 4], hex[s[i + 1] & 15]};
                json_put(j, s + run, i - run);
                json_put(j, esc, sizeof esc);
                i += 2;
                run = i;
                continue;
            }
            if (k) {
                i += k;
                continue;
            }
            json_put(j, s + run, i - run);
            json_put(j, "\xEF\xBF\xBD", 3); /* U+FFFD REPLACEMENT CHARACTER */
            i += bad;
            run = i;
            continue;
        }
        json_put(j, s + run, i - run);
        char esc[6];
        size_t n = json_escape_ascii(esc, b);
        json_put(j, esc, n);
        i++;
        run = i;
    }
    json_put(j, s + run, i - run);
    json_putc(j, '"');
}

void tv_json_key(tv_json *j, const char *key)
{
    assert(key);
    assert(j->depth > 0 && j->is_object[j->depth - 1] && "a key outside an object");
    assert(!j->key_done && "two keys in a row");
    if (j->depth == 0) { /* without assertions: stay inside the stack */
        if (!j->err) j->err = TV_EINVAL;
        return;
    }
    if (j->has_items[j->depth]) json_putc(j, ',');
    j->has_items[j->depth] = true;
    json_write_string(j, key, strlen(key));
    json_putc(j, ':');
    j->key_done = true;
}

void tv_json_string(tv_json *j, const char *s)
{
    assert(s);
    tv_json_string_n(j, s, strlen(s));
}

void tv_json_string_n(tv_json *j, const char *s, size_t len)
{
    assert(s || len == 0);
    if (len == 0) s = ""; /* NULL + 0 is undefined behaviour in C */
    json_before_value(j);
    json_write_string(j, s, len);
}

void tv_json_i64(tv_json *j, int64_t v)
{
    json_before_value(j);
    if (!j->err && fprintf(j->f, "%" PRId64, v) < 0) j->err = TV_EIO;
}

void tv_json_u64(tv_json *j, uint64_t v)
{
    json_before_value(j);
    if (!j->err && fprintf(j->f, "%" PRIu64, v) < 0) j->err = TV_EIO;
}

void tv_json_bool(tv_json *j, bool v)
{
    json_before_value(j);
    if (v)
        json_put(j, "true", 4);
    else
        json_put(j, "false", 5);
}

void tv_json_null(tv_json *j)
{
    json_before_value(j);
    json_put(j, "null", 4);
}

void tv_json_hex(tv_json *j, const uint8_t *b, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    assert(b || len == 0);
    json_before_value(j);
    json_putc(j, '"');
    char chunk[128];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        chunk[n++] = hex[b[i] >> 4];
        chunk[n++] = hex[b[i] & 15];
        if (n == sizeof chunk) {
            json_put(j, chunk, n);
            n = 0;
        }
    }
    json_put(j, chunk, n);
    json_putc(j, '"');
}

int tv_json_line_end(tv_json *j)
{
    assert(j->depth == 0 && "a record ends with a container still open");
    json_putc(j, '\n');
    return j->err;
}

int tv_json_status(const tv_json *j)
{
    return j->err;
}
