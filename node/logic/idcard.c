/* Identity cards read by a QR reader or typed: CCCD, BHYT, plain numbers (see idcard.h). */
#include "node/logic/idcard.h"
#include "crdt/mp.h"
#include "crdt/error.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

/* Fields whose spans are kept: a CCCD has at most 11, a BHYT card 15. More are counted. */
#define FIELDS_KEPT 16
/* Field counts the sentences below name exactly; above, they say "more than". */
#define COUNT_NAMED_MAX 32
#define YEAR_MIN 1900 /* an earlier date on a card is a misread */

_Static_assert(TV_CARD_TEXT_MAX >= 2953, "a QR code holds up to 2953 bytes");
_Static_assert(FIELDS_KEPT >= 15, "a BHYT card has 15 parts");
_Static_assert(COUNT_NAMED_MAX == 32, "COUNTS and the \"more than 32\" sentences name 32");
_Static_assert(TV_PERSON_NORM_MAX > 15 && TV_PERSON_MASKED_MAX > 15, "a BHYT card number fits");

/* One "| n fields" sentence per count, so that *why stays a static string. */
#define COUNTS(X)                                                                                  \
    X(2), X(3), X(4), X(5), X(6), X(7), X(8), X(9), X(10), X(11), X(12), X(13), X(14), X(15),      \
        X(16), X(17), X(18), X(19), X(20), X(21), X(22), X(23), X(24), X(25), X(26), X(27), X(28), \
        X(29), X(30), X(31), X(32)

#define UNKNOWN_WHY(n) [n] = "unknown QR layout: " #n " fields separated by |"
static const char *const unknown_count_why[COUNT_NAMED_MAX + 1] = {COUNTS(UNKNOWN_WHY)};
#undef UNKNOWN_WHY
#define CCCD_WHY(n) [n] = "CCCD QR has " #n " fields separated by |; it should have 7 or 11"
static const char *const cccd_count_why[COUNT_NAMED_MAX + 1] = {COUNTS(CCCD_WHY)};
#undef CCCD_WHY
#define BHYT_WHY(n)                                                                                \
    [n] = "BHYT payload has " #n " parts separated by |; it should have 15 (2018 card) or 12 "     \
          "(older card)"
static const char *const bhyt_count_why[COUNT_NAMED_MAX + 1] = {COUNTS(BHYT_WHY)};
#undef BHYT_WHY
/* The same sentences in Vietnamese, for the gate (tv_card_why_vi). */
#define UNKNOWN_VI(n) [n] = "không rõ loại mã: " #n " trường ngăn bởi |"
static const char *const unknown_count_vi[COUNT_NAMED_MAX + 1] = {COUNTS(UNKNOWN_VI)};
#undef UNKNOWN_VI
#define CCCD_VI(n) [n] = "mã CCCD có " #n " trường ngăn bởi |, phải có 7 hoặc 11"
static const char *const cccd_count_vi[COUNT_NAMED_MAX + 1] = {COUNTS(CCCD_VI)};
#undef CCCD_VI
#define BHYT_VI(n) [n] = "mã thẻ BHYT có " #n " phần ngăn bởi |, phải có 15 (thẻ 2018) hoặc 12"
static const char *const bhyt_count_vi[COUNT_NAMED_MAX + 1] = {COUNTS(BHYT_VI)};
#undef BHYT_VI

typedef struct span {
    const char *p;
    size_t n;
} span;

typedef struct fields {
    span f[FIELDS_KEPT]; /* the first FIELDS_KEPT fields, trimmed */
    size_t count;        /* every field, kept or not */
    span last;           /* the last field, trimmed */
} fields;

/* The sentences for one text field of a layout; empty is NULL where a field may be empty.
 * hex and odd serve BHYT fields only. */
typedef struct text_why {
    const char *empty, *too_long, *control, *utf8, *hex, *odd;
} text_why;

static const text_why cccd_name_why = {
    .empty = "CCCD name is empty",
    .too_long = "CCCD name is longer than 255 bytes",
    .control = "CCCD name contains a control character",
    .utf8 = "CCCD name is not valid UTF-8",
};
static const text_why cccd_address_why = {
    .too_long = "CCCD address is longer than 511 bytes",
    .control = "CCCD address contains a control character",
    .utf8 = "CCCD address is not valid UTF-8",
};
static const text_why bhyt_name_why = {
    .empty = "BHYT name field is empty",
    .too_long = "BHYT name field is longer than 255 bytes once decoded",
    .control = "BHYT name field contains a control character once decoded",
    .utf8 = "BHYT name field is not valid UTF-8 once decoded",
    .hex = "BHYT name field is not hex",
    .odd = "BHYT name field has an odd number of hex digits",
};
static const text_why bhyt_address_why = {
    .too_long = "BHYT address field is longer than 511 bytes once decoded",
    .control = "BHYT address field contains a control character once decoded",
    .utf8 = "BHYT address field is not valid UTF-8 once decoded",
    .hex = "BHYT address field is not hex",
    .odd = "BHYT address field has an odd number of hex digits",
};
static const text_why bhyt_parents_why = {
    .too_long = "BHYT parents' name field is longer than 255 bytes once decoded",
    .control = "BHYT parents' name field contains a control character once decoded",
    .utf8 = "BHYT parents' name field is not valid UTF-8 once decoded",
    .hex = "BHYT parents' name field is not hex",
    .odd = "BHYT parents' name field has an odd number of hex digits",
};

/* The sentences for one date field. */
typedef struct date_why {
    const char *shape, *calendar, *early;
} date_why;

static const date_why cccd_birth_why = {"CCCD date of birth is not ddmmyyyy",
                                        "CCCD date of birth is not a calendar date",
                                        "CCCD date of birth is before 1900"};
static const date_why cccd_issue_why = {"CCCD issue date is not ddmmyyyy",
                                        "CCCD issue date is not a calendar date",
                                        "CCCD issue date is before 1900"};
static const date_why bhyt_birth_why = {"BHYT date of birth is not dd/mm/yyyy or yyyy",
                                        "BHYT date of birth is not a calendar date",
                                        "BHYT date of birth is before 1900"};

/* --- UTF-8 --------------------------------------------------------------------------- */

/* Combining marks (the blocks Vietnamese and its neighbours use when decomposed). */
static int is_combining(uint32_t cp)
{
    return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) ||
           (cp >= 0x1dc0 && cp <= 0x1dff) || (cp >= 0x20d0 && cp <= 0x20ff) ||
           (cp >= 0xfe20 && cp <= 0xfe2f);
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* NULL when s[0..n) is UTF-8 without control characters (C0, DEL, C1), else the sentence
 * of w. */
static const char *text_check(const char *s, size_t n, const text_why *w)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++)
        if (is_control(u[i])) return w->control;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = crdt_utf8_next(u + i, n - i, &cp);
        if (!k) return w->utf8;
        if (cp >= 0x80 && cp <= 0x9f) return w->control; /* C1, as crdt_text_valid */
        i += k;
    }
    return NULL;
}

/* --- spans ----------------------------------------------------------------------------- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static span trim(span s)
{
    while (s.n && is_blank(s.p[0])) {
        s.p++;
        s.n--;
    }
    while (s.n && is_blank(s.p[s.n - 1]))
        s.n--;
    return s;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_letter(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static char upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* 1 when s is exactly n ASCII digits (n == 0: at least one). */
static int all_digits(span s, size_t n)
{
    if (n ? s.n != n : s.n == 0) return 0;
    for (size_t i = 0; i < s.n; i++)
        if (!is_digit(s.p[i])) return 0;
    return 1;
}

static int span_is(span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static void split(span line, fields *fs)
{
    memset(fs, 0, sizeof *fs);
    const char *start = line.p, *end = line.p + line.n;
    for (const char *q = line.p;; q++) {
        if (q != end && *q != '|') continue;
        span f = trim((span){start, (size_t)(q - start)});
        if (fs->count < FIELDS_KEPT) fs->f[fs->count] = f;
        fs->count++;
        fs->last = f;
        if (q == end) break;
        start = q + 1;
    }
}

static const char *count_why(const char *const table[], size_t count, const char *more)
{
    assert(count >= 2);
    return count <= COUNT_NAMED_MAX ? table[count] : more;
}

/* Copies s (NUL-free) into out with a NUL; out holds at least s.n + 1 bytes. */
static void copy_span(char *out, span s)
{
    if (s.n) memcpy(out, s.p, s.n);
    out[s.n] = '\0';
}

/* Checks a text field and copies it into out (max bytes and a NUL). */
static const char *take_text(span s, char *out, size_t max, const text_why *w)
{
    if (s.n > max) return w->too_long;
    const char *why = text_check(s.p, s.n, w);
    if (why) return why;
    if (s.n == 0 && w->empty) return w->empty;
    copy_span(out, s);
    return NULL;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes a hex-encoded UTF-8 field into out (max bytes and a NUL), checked and trimmed. */
static const char *take_hex_text(span s, char *out, size_t max, const text_why *w)
{
    for (size_t i = 0; i < s.n; i++)
        if (hex_value(s.p[i]) < 0) return w->hex;
    if (s.n % 2) return w->odd;
    if (s.n / 2 > max) return w->too_long;
    size_t n = s.n / 2;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(hex_value(s.p[2 * i]) << 4 | hex_value(s.p[2 * i + 1]));
    span d = trim((span){out, n});
    memmove(out, d.p, d.n);
    out[d.n] = '\0';
    const char *why = text_check(out, d.n, w);
    if (why) return why;
    if (d.n == 0 && w->empty) return w->empty;
    return NULL;
}

/* --- dates ------------------------------------------------------------------------------ */

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

static int number(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* Reads "ddmmyyyy" (sep 0) or "dd/mm/yyyy" (sep '/'); with year_only, "yyyy" too. Writes
 * birth as "yyyy-mm-dd" or "yyyy" when birth is not NULL. */
static const char *take_date(span s, char sep, int year_only, const date_why *w, int *year,
                             char birth[11])
{
    if (year_only && all_digits(s, 4)) {
        int y = number(s.p, 4);
        if (y < YEAR_MIN) return w->early;
        *year = y;
        if (birth) copy_span(birth, s);
        return NULL;
    }
    const size_t len = sep ? 10 : 8;
    const size_t mo = sep ? 3 : 2, yo = sep ? 6 : 4;
    if (s.n != len) return w->shape;
    for (size_t i = 0; i < len; i++) {
        int at_sep = sep && (i == 2 || i == 5);
        if (at_sep ? s.p[i] != sep : !is_digit(s.p[i])) return w->shape;
    }
    int d = number(s.p, 2), m = number(s.p + mo, 2), y = number(s.p + yo, 4);
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) return w->calendar;
    if (y < YEAR_MIN) return w->early;
    *year = y;
    if (birth) {
        memcpy(birth, s.p + yo, 4);
        birth[4] = '-';
        memcpy(birth + 5, s.p + mo, 2);
        birth[7] = '-';
        memcpy(birth + 8, s.p, 2);
        birth[10] = '\0';
    }
    return NULL;
}

/* --- layouts ------------------------------------------------------------------------------ */

/* "TV", a version number, ':' (any letter case). */
static int truyvet_prefix(span s)
{
    if (s.n < 4 || upper(s.p[0]) != 'T' || upper(s.p[1]) != 'V') return 0;
    size_t i = 2;
    while (i < s.n && is_digit(s.p[i]))
        i++;
    return i > 2 && i < s.n && s.p[i] == ':';
}

/* Two letters then a digit: the start of a BHYT card number. */
static int bhyt_like(span s)
{
    return s.n >= 3 && is_letter(s.p[0]) && is_letter(s.p[1]) && is_digit(s.p[2]);
}

/* 'M' for Nam, 'F' for Nữ (composed or not, any case, or without diacritics), else 0. */
static char cccd_sex(span s)
{
    static const char *const female[] = {
        "nu",
        "n\xe1\xbb\xaf",      /* nữ, U+1EEF */
        "n\xe1\xbb\xae",      /* nỮ, U+1EEE */
        "nu\xcc\x9b\xcc\x83", /* u, combining horn, combining tilde */
        "n\xc6\xb0\xcc\x83",  /* ư, combining tilde */
        "n\xc6\xaf\xcc\x83",  /* Ư, combining tilde */
    };
    char low[16];
    if (s.n >= sizeof low) return 0;
    for (size_t i = 0; i < s.n; i++)
        low[i] = (s.p[i] >= 'A' && s.p[i] <= 'Z') ? (char)(s.p[i] - 'A' + 'a') : s.p[i];
    span l = {low, s.n};
    if (span_is(l, "nam")) return 'M';
    for (size_t i = 0; i < sizeof female / sizeof female[0]; i++)
        if (span_is(l, female[i])) return 'F';
    return 0;
}

/* Notes the first defect of a field of a CCCD whose number is intact (the card is still
 * read, by its number; the field is left empty). */
static void cccd_defect(tv_card *out, const char *why)
{
    if (!out->warning) out->warning = why;
}

static const char *parse_cccd(const fields *fs, tv_card *out)
{
    if (fs->count != 7 && fs->count != 11)
        return count_why(cccd_count_why, fs->count,
                         "CCCD QR has more than 32 fields separated by |; it should have 7 or 11");
    if (!all_digits(fs->f[0], 12)) return "CCCD number must be 12 digits";
    /* The number is intact: whatever else is wrong (a keyboard-mode reader mangles the
     * diacritics of the name and address, a typo in a date), the card is read by its
     * number, the faulty field left empty and the first defect kept as a warning. */
    const char *why;
    if (fs->f[1].n && !all_digits(fs->f[1], 9))
        cccd_defect(out, "old CMND number in a CCCD QR must be empty or 9 digits");
    else
        copy_span(out->cmnd, fs->f[1]);
    if ((why = take_text(fs->f[2], out->name, TV_CARD_NAME_MAX, &cccd_name_why))) {
        out->name[0] = '\0';
        cccd_defect(out, why);
    }
    if ((why = take_date(fs->f[3], 0, 0, &cccd_birth_why, &out->birth_year, out->birth))) {
        out->birth_year = 0;
        out->birth[0] = '\0';
        cccd_defect(out, why);
    }
    if (!(out->sex = cccd_sex(fs->f[4]))) cccd_defect(out, "CCCD sex is neither Nam nor Nữ");
    int issued;
    if ((why = take_text(fs->f[5], out->address, TV_CARD_ADDRESS_MAX, &cccd_address_why))) {
        out->address[0] = '\0';
        cccd_defect(out, why);
    }
    if ((why = take_date(fs->f[6], 0, 0, &cccd_issue_why, &issued, NULL))) cccd_defect(out, why);

    char num[13];
    copy_span(num, fs->f[0]);
    const char *typed_why;
    int rc = tv_person_parse_typed(num, &out->id, &typed_why);
    assert(rc == 0 && out->id.kind == TV_ID_CCCD);
    (void)rc;
    return NULL;
}

static const char *parse_bhyt(const fields *fs, tv_card *out)
{
    if (!span_is(fs->last, "$")) return "BHYT payload does not end with |$";
    if (fs->count != 15 && fs->count != 12)
        return count_why(bhyt_count_why, fs->count,
                         "BHYT payload has more than 32 parts separated by |; it should have 15 "
                         "(2018 card) or 12 (older card)");
    span c = fs->f[0];
    if (c.n != 15) return "BHYT card number must be 15 characters";
    char card[16];
    for (size_t i = 0; i < 15; i++)
        card[i] = upper(c.p[i]);
    card[15] = '\0';
    if (!is_letter(card[0]) || !is_letter(card[1]))
        return "BHYT card number must start with 2 letters";
    if (card[2] < '1' || card[2] > '5')
        return "BHYT card number must have a benefit level 1 to 5 after its letters";
    if (!all_digits((span){card + 3, 12}, 12)) return "BHYT card number must end with 12 digits";

    const char *why;
    if ((why = take_hex_text(fs->f[1], out->name, TV_CARD_NAME_MAX, &bhyt_name_why)) ||
        (why = take_date(fs->f[2], '/', 1, &bhyt_birth_why, &out->birth_year, out->birth)))
        return why;
    if (span_is(fs->f[3], "1"))
        out->sex = 'M';
    else if (span_is(fs->f[3], "2"))
        out->sex = 'F';
    else
        return "BHYT sex is neither 1 (Nam) nor 2 (Nữ)";
    if ((why = take_hex_text(fs->f[4], out->address, TV_CARD_ADDRESS_MAX, &bhyt_address_why)))
        return why;
    if (fs->count == 15) {
        char parents[TV_CARD_NAME_MAX + 1]; /* checked, not kept: tv_card has no place */
        if ((why = take_hex_text(fs->f[10], parents, TV_CARD_NAME_MAX, &bhyt_parents_why)))
            return why;
    }

    memcpy(out->bhyt_card, card, sizeof card);
    out->id.kind = TV_ID_BHYT;
    /* the pseudonym follows the person, not the card: the last ten digits are the lifelong
     * social-insurance number, while the object type, benefit level and province change
     * with a new job or a move */
    memcpy(out->id.norm, card + 5, 10);
    out->id.norm[10] = '\0';
    /* like a CMND: the last two digits show; not the object type, which says more about
     * the holder (a child, a pensioner, a poor household) than a guard needs */
    for (size_t i = 0; i < 15; i++)
        out->id.masked[i] = i >= 13 ? card[i] : '*';
    out->id.masked[15] = '\0';
    return NULL;
}

static const char *parse_typed(span line, tv_card *out)
{
    char text[TV_CARD_TEXT_MAX + 1];
    assert(line.n <= TV_CARD_TEXT_MAX);
    copy_span(text, line);
    const char *why;
    if (tv_person_parse_typed(text, &out->id, &why)) return why;
    if (out->id.kind == TV_ID_PHONE) {
        assert(strlen(out->id.norm) < sizeof out->phone); /* 10 or 11 digits */
        strcpy(out->phone, out->id.norm);
    } else if (out->id.kind == TV_ID_CMND) {
        assert(strlen(out->id.norm) == 9);
        memcpy(out->cmnd, out->id.norm, 10);
    }
    return NULL;
}

int tv_card_parse(const char *text, size_t len, tv_card *out, const char **why)
{
    assert(out && (text || len == 0));
    const char *unused;
    if (!why) why = &unused;
    *why = NULL;
    memset(out, 0, sizeof *out);

    span line = trim((span){text ? text : "", len});
    const char *w;
    tv_card_kind kind = 0;
    fields fs;
    if (line.n > TV_CARD_TEXT_MAX) {
        w = "the text is longer than any QR code can hold";
    } else if (memchr(line.p, '\0', line.n)) {
        w = "the text contains a NUL byte";
    } else if (truyvet_prefix(line)) {
        kind = TV_CARD_TRUYVET;
        w = NULL;
        if (line.n < 4 || (line.p[2] != '1' || line.p[3] != ':'))
            w = "a truyvet personal code of another version: this node reads version 1 (TV1:)";
        else if (tv_person_card_parse(line.p, line.n, &out->pcard, &w) == TV_OK)
            out->birth_year = out->pcard.birth_year;
    } else if (!memchr(line.p, '|', line.n)) {
        kind = TV_CARD_TYPED;
        w = parse_typed(line, out);
    } else {
        split(line, &fs);
        span first = fs.f[0];
        if (all_digits(first, 12) ||
            ((fs.count == 7 || fs.count == 11) && all_digits(first, 0) && !span_is(fs.last, "$")))
            kind = TV_CARD_CCCD;
        else if (span_is(fs.last, "$") || bhyt_like(first))
            kind = TV_CARD_BHYT;
        if (kind == TV_CARD_CCCD)
            w = parse_cccd(&fs, out);
        else if (kind == TV_CARD_BHYT)
            w = parse_bhyt(&fs, out);
        else
            w = count_why(unknown_count_why, fs.count,
                          "unknown QR layout: more than 32 fields separated by |");
    }
    if (w) {
        memset(out, 0, sizeof *out);
        out->kind = kind;
        *why = w;
        return TV_EINVAL;
    }
    out->kind = kind;
    if (out->name[0]) tv_name_mask(out->name, out->name_masked, sizeof out->name_masked);
    return TV_OK;
}

/* --- the gate's words ------------------------------------------------------------------- */

/* The sentences of tv_card_parse (and of tv_person_parse_typed and tv_person_card_parse,
 * which it passes on, and tv_venue_payload_parse's, which the gate meets in a relayed
 * self check-in), in the Vietnamese a guard reads. */
static const char *const why_vi[][2] = {
    {"CCCD number must be 12 digits", "số CCCD phải có 12 chữ số"},
    {"old CMND number in a CCCD QR must be empty or 9 digits",
     "số CMND cũ trong mã CCCD phải để trống hoặc có 9 chữ số"},
    {"CCCD name is empty", "họ tên trên CCCD bị trống"},
    {"CCCD name is longer than 255 bytes", "họ tên trên CCCD dài quá 255 byte"},
    {"CCCD name contains a control character", "họ tên trên CCCD có ký tự điều khiển"},
    {"CCCD name is not valid UTF-8",
     "họ tên trên CCCD bị lỗi dấu (không phải UTF-8, đầu đọc đang ở chế độ bàn phím?)"},
    {"CCCD address is longer than 511 bytes", "địa chỉ trên CCCD dài quá 511 byte"},
    {"CCCD address contains a control character", "địa chỉ trên CCCD có ký tự điều khiển"},
    {"CCCD address is not valid UTF-8",
     "địa chỉ trên CCCD bị lỗi dấu (không phải UTF-8, đầu đọc đang ở chế độ bàn phím?)"},
    {"CCCD date of birth is not ddmmyyyy", "ngày sinh trên CCCD không đúng dạng ddmmyyyy"},
    {"CCCD date of birth is not a calendar date", "ngày sinh trên CCCD không có thật"},
    {"CCCD date of birth is before 1900", "ngày sinh trên CCCD trước năm 1900"},
    {"CCCD issue date is not ddmmyyyy", "ngày cấp CCCD không đúng dạng ddmmyyyy"},
    {"CCCD issue date is not a calendar date", "ngày cấp CCCD không có thật"},
    {"CCCD issue date is before 1900", "ngày cấp CCCD trước năm 1900"},
    {"CCCD sex is neither Nam nor Nữ", "giới tính trên CCCD không phải Nam hay Nữ"},
    {"CCCD QR has more than 32 fields separated by |; it should have 7 or 11",
     "mã CCCD có hơn 32 trường ngăn bởi |, phải có 7 hoặc 11"},
    {"BHYT payload does not end with |$", "mã thẻ BHYT không kết thúc bằng |$"},
    {"BHYT payload has more than 32 parts separated by |; it should have 15 (2018 card) or 12 "
     "(older card)",
     "mã thẻ BHYT có hơn 32 phần ngăn bởi |, phải có 15 (thẻ 2018) hoặc 12"},
    {"BHYT card number must be 15 characters", "số thẻ BHYT phải có 15 ký tự"},
    {"BHYT card number must start with 2 letters", "số thẻ BHYT phải bắt đầu bằng 2 chữ cái"},
    {"BHYT card number must have a benefit level 1 to 5 after its letters",
     "số thẻ BHYT phải có mức hưởng 1 đến 5 sau 2 chữ cái"},
    {"BHYT card number must end with 12 digits", "số thẻ BHYT phải kết thúc bằng 12 chữ số"},
    {"BHYT sex is neither 1 (Nam) nor 2 (Nữ)",
     "giới tính trên thẻ BHYT không phải 1 (Nam) hay 2 (Nữ)"},
    {"BHYT date of birth is not dd/mm/yyyy or yyyy",
     "ngày sinh trên thẻ BHYT không đúng dạng dd/mm/yyyy hay yyyy"},
    {"BHYT date of birth is not a calendar date", "ngày sinh trên thẻ BHYT không có thật"},
    {"BHYT date of birth is before 1900", "ngày sinh trên thẻ BHYT trước năm 1900"},
    {"BHYT name field is empty", "họ tên trên thẻ BHYT bị trống"},
    {"BHYT name field is longer than 255 bytes once decoded",
     "họ tên trên thẻ BHYT dài quá 255 byte"},
    {"BHYT name field contains a control character once decoded",
     "họ tên trên thẻ BHYT có ký tự điều khiển"},
    {"BHYT name field is not valid UTF-8 once decoded",
     "họ tên trên thẻ BHYT bị lỗi dấu (không phải UTF-8)"},
    {"BHYT name field is not hex", "họ tên trên thẻ BHYT không phải dạng hex"},
    {"BHYT name field has an odd number of hex digits", "họ tên trên thẻ BHYT có số chữ số hex lẻ"},
    {"BHYT address field is empty", "địa chỉ trên thẻ BHYT bị trống"},
    {"BHYT address field is longer than 511 bytes once decoded",
     "địa chỉ trên thẻ BHYT dài quá 511 byte"},
    {"BHYT address field contains a control character once decoded",
     "địa chỉ trên thẻ BHYT có ký tự điều khiển"},
    {"BHYT address field is not valid UTF-8 once decoded",
     "địa chỉ trên thẻ BHYT bị lỗi dấu (không phải UTF-8)"},
    {"BHYT address field is not hex", "địa chỉ trên thẻ BHYT không phải dạng hex"},
    {"BHYT address field has an odd number of hex digits",
     "địa chỉ trên thẻ BHYT có số chữ số hex lẻ"},
    {"BHYT parents' name field is empty", "tên cha mẹ trên thẻ BHYT bị trống"},
    {"BHYT parents' name field is longer than 255 bytes once decoded",
     "tên cha mẹ trên thẻ BHYT dài quá 255 byte"},
    {"BHYT parents' name field contains a control character once decoded",
     "tên cha mẹ trên thẻ BHYT có ký tự điều khiển"},
    {"BHYT parents' name field is not valid UTF-8 once decoded",
     "tên cha mẹ trên thẻ BHYT bị lỗi dấu (không phải UTF-8)"},
    {"BHYT parents' name field is not hex", "tên cha mẹ trên thẻ BHYT không phải dạng hex"},
    {"BHYT parents' name field has an odd number of hex digits",
     "tên cha mẹ trên thẻ BHYT có số chữ số hex lẻ"},
    {"unknown QR layout: more than 32 fields separated by |",
     "không rõ loại mã: hơn 32 trường ngăn bởi |"},
    {"the text is longer than any QR code can hold", "dòng quét dài hơn mọi mã QR"},
    {"the text contains a NUL byte", "dòng quét có byte NUL"},
    {"a truyvet personal code of another version: this node reads version 1 (TV1:)",
     "mã cá nhân truyvet phiên bản khác: nút này đọc phiên bản 1 (TV1:)"},
    {"it should contain only digits (a phone number or an ID number)",
     "chỉ được có chữ số (số điện thoại hoặc số giấy tờ)"},
    {"it is too long for a phone number or an ID number",
     "quá dài cho một số điện thoại hay số giấy tờ"},
    {"it is empty", "dòng trống"},
    {"only Vietnamese phone numbers (+84) are accepted", "chỉ nhận số điện thoại Việt Nam (+84)"},
    {"a phone number has 10 digits starting with 0, a CCCD number 12 digits, a CMND number 9 "
     "digits",
     "số điện thoại có 10 chữ số bắt đầu bằng 0, số CCCD 12 chữ số, số CMND 9 chữ số"},
    {"not a truyvet personal code of version 1 (it should start with TV1:)",
     "không phải mã cá nhân truyvet phiên bản 1 (phải bắt đầu bằng TV1:)"},
    {"the personal code is cut short or too long", "mã cá nhân bị cụt hoặc quá dài"},
    {"the personal code holds a character that is not in its alphabet", "mã cá nhân có ký tự lạ"},
    {"the personal code's name is missing, too long, not UTF-8 or holds a control character",
     "tên trong mã cá nhân bị thiếu, quá dài, lỗi dấu hoặc có ký tự điều khiển"},
    {"the venue code's unit is not 2 to 5 digits followed by ':'",
     "mã điểm có mã đơn vị không phải 2 đến 5 chữ số và dấu ':'"},
    {"the venue code is cut short or too long", "mã điểm bị cụt hoặc quá dài"},
    {"the venue code holds a character that is not in its alphabet", "mã điểm có ký tự lạ"},
};

static const char *count_vi(const char *why, const char *const en[], const char *const vi[])
{
    for (size_t i = 2; i <= COUNT_NAMED_MAX; i++)
        if (strcmp(why, en[i]) == 0) return vi[i];
    return NULL;
}

const char *tv_card_why_vi(const char *why)
{
    if (!why) return NULL;
    const char *v;
    if ((v = count_vi(why, unknown_count_why, unknown_count_vi)) ||
        (v = count_vi(why, cccd_count_why, cccd_count_vi)) ||
        (v = count_vi(why, bhyt_count_why, bhyt_count_vi)))
        return v;
    for (size_t i = 0; i < sizeof why_vi / sizeof why_vi[0]; i++)
        if (strcmp(why, why_vi[i][0]) == 0) return why_vi[i][1];
    return why;
}

/* --- masking ------------------------------------------------------------------------------ */

typedef struct outbuf {
    char *p;
    size_t cap, len;
    int full; /* something did not fit: append nothing more */
} outbuf;

/* Appends s[0..n) whole, or nothing and stops the output. */
static void put(outbuf *b, const char *s, size_t n)
{
    if (b->full) return;
    if (b->len + n + 1 > b->cap) {
        b->full = 1;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Appends the character at s[0..n) (n >= 1) with the combining marks after it, or '?' for
 * a byte that is not UTF-8; returns the bytes consumed. */
static size_t put_char(outbuf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    size_t k = crdt_utf8_next(u, n, &cp);
    if (!k) {
        put(b, "?", 1);
        return 1;
    }
    size_t m;
    while (k < n && (m = crdt_utf8_next(u + k, n - k, &cp)) && is_combining(cp))
        k += m;
    put(b, s, k);
    return k;
}

static int is_word_gap(char c)
{
    return c == ' ' || c == '\t';
}

void tv_name_mask(const char *name, char *out, size_t cap)
{
    if (cap == 0) return;
    out[0] = '\0';
    if (!name) return;
    outbuf b = {out, cap, 0, 0};
    size_t n = strlen(name), words = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_word_gap(name[i]) && (i == 0 || is_word_gap(name[i - 1]))) words++;
    size_t word = 0;
    for (size_t i = 0; i < n && !b.full;) {
        if (is_word_gap(name[i])) {
            i++;
            continue;
        }
        size_t end = i;
        while (end < n && !is_word_gap(name[end]))
            end++;
        if (word > 0) put(&b, " ", 1);
        if (word == 0 && words > 1) {
            for (size_t j = i; j < end;)
                j += put_char(&b, name + j, end - j);
        } else {
            put_char(&b, name + i, end - i);
            if (word + 1 < words || words == 1) put(&b, "**", 2);
        }
        word++;
        i = end;
    }
}
