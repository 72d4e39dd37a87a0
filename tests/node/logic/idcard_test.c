/* Tests of identity-card parsing in node/logic/idcard.c: CCCD and BHYT QR payloads in each
 * layout, typed numbers, masked names, refusals with their exact sentence, and random or
 * damaged input, which must be refused without a crash. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/logic/idcard.h"
#include "test_util.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define ADDRESS_HN "Số 1 Phố X, Phường Ba Đình, Hà Nội"
#define CCCD_7 "001099012345|123456789|Nguyễn Văn An|15031999|Nam|" ADDRESS_HN "|20042021"
#define CCCD_7_NO_CMND "001099012345||Nguyễn Văn An|15031999|Nam|" ADDRESS_HN "|20042021"
#define CCCD_11                                                                                              \
    "079304001234||Đặng Thị Bích Ngọc|29022004|Nữ|Phường Bến Nghé, Quận 1, TP. Hồ Chí " \
    "Minh|10072024|Đặng Văn Bố|Trần Thị Mẹ||X9"

/* Hex of UTF-8 text, lowercase; the result lives until the fourth call after. */
static const char *hx(const char *s)
{
    static char bufs[4][2048];
    static int next;
    char *out = bufs[next++ % 4];
    size_t n = strlen(s);
    assert_true(2 * n < sizeof bufs[0]);
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", (unsigned char)s[i]);
    out[2 * n] = '\0';
    return out;
}

/* A 2018 card (15 parts); name, addr and parents are given already encoded. */
static const char *bhyt15(const char *card, const char *name, const char *dob, const char *sex,
                          const char *addr, const char *parents)
{
    static char out[4096];
    snprintf(out, sizeof out,
             "%s|%s|%s|%s|%s|01 - 001|01/01/2021|31/12/2021|01/01/2021|QL0123|%s|4|01/01/2025|"
             "a1b2|$",
             card, name, dob, sex, addr, parents);
    return out;
}

/* An older card (12 parts). */
static const char *bhyt12(const char *card, const char *name, const char *dob, const char *sex,
                          const char *addr)
{
    static char out[4096];
    snprintf(out, sizeof out, "%s|%s|%s|%s|%s|79 - 012|01/01/2017|31/12/2017|01/01/2017|QL9|c0de|$",
             card, name, dob, sex, addr);
    return out;
}

/* A CCCD line of 7 fields. */
static const char *cccd(const char *num, const char *cmnd, const char *name, const char *dob,
                        const char *sex, const char *addr, const char *issued)
{
    static char out[4096];
    snprintf(out, sizeof out, "%s|%s|%s|%s|%s|%s|%s", num, cmnd, name, dob, sex, addr, issued);
    return out;
}

static tv_card parse_ok(const char *text)
{
    tv_card c;
    const char *why = "unset";
    int rc = tv_card_parse(text, strlen(text), &c, &why);
    if (rc) fail_msg("'%s' refused: %s", text, why ? why : "(null)");
    assert_null(why);
    assert_null(c.warning);
    return c;
}

/* A CCCD whose number is intact but another field is faulty: read by its number, the
 * first defect in c.warning, the faulty field left empty. */
static tv_card warned(const char *text, const char *want)
{
    tv_card c;
    const char *why = "unset";
    int rc = tv_card_parse(text, strlen(text), &c, &why);
    if (rc) fail_msg("'%s' refused: %s", text, why ? why : "(null)");
    assert_null(why);
    if (!c.warning || strcmp(c.warning, want) != 0)
        fail_msg("'%s':\n  warning '%s'\n  want    '%s'", text, c.warning ? c.warning : "(null)",
                 want);
    assert_int_equal(c.kind, TV_CARD_CCCD);
    assert_int_equal(c.id.kind, TV_ID_CCCD);
    assert_string_equal(c.id.norm, "001099012345");
    /* the gate says it in Vietnamese */
    assert_string_not_equal(tv_card_why_vi(want), want);
    return c;
}

static void refuse_n(const char *text, size_t len, tv_card_kind kind, const char *want)
{
    tv_card c;
    memset(&c, 0x5a, sizeof c);
    const char *why = NULL;
    int rc = tv_card_parse(text, len, &c, &why);
    if (rc != TV_EINVAL) fail_msg("'%.*s' accepted", (int)len, text);
    if (!why || strcmp(why, want) != 0)
        fail_msg("'%.*s':\n  why  '%s'\n  want '%s'", (int)len, text, why ? why : "(null)", want);
    assert_int_equal(c.kind, kind);
    /* everything but the kind is cleared */
    tv_card zero;
    memset(&zero, 0, sizeof zero);
    zero.kind = kind;
    assert_memory_equal(&c, &zero, sizeof c);
}

static void refuse(const char *text, tv_card_kind kind, const char *want)
{
    refuse_n(text, strlen(text), kind, want);
}

/* --- masking ----------------------------------------------------------------------------- */

static void expect_mask(const char *name, const char *want)
{
    char out[TV_CARD_NAME_MASKED_BYTES];
    tv_name_mask(name, out, sizeof out);
    if (strcmp(out, want) != 0)
        fail_msg("'%s' masked as '%s', want '%s'", name ? name : "(null)", out, want);
}

static void test_mask_rule(void **state)
{
    (void)state;
    expect_mask("Nguyễn Văn An", "Nguyễn V** A");
    expect_mask("Trần Thị Bích Ngọc", "Trần T** B** N");
    expect_mask("Lê An", "Lê A");
    expect_mask("Lê A", "Lê A");
    expect_mask("An", "A**");
    expect_mask("Ánh", "Á**");
    expect_mask("Đặng Ứng Ưng", "Đặng Ứ** Ư");
    expect_mask("Nguyễn Đặng Ổi", "Nguyễn Đ** Ổ");
    expect_mask("  Nguyễn \t Văn   An  ", "Nguyễn V** A");
    expect_mask("", "");
    expect_mask("   ", "");
    expect_mask(NULL, "");
    /* decomposed: the combining marks stay with their letter */
    expect_mask("Nguye\xcc\x82\xcc\x83n A\xcc\x81nh", "Nguye\xcc\x82\xcc\x83n A\xcc\x81");
    expect_mask("A\xcc\x81nh", "A\xcc\x81**");
    expect_mask("Lê \xc6\xaf\xcc\x80ng Anh", "Lê \xc6\xaf\xcc\x80** A");
    /* bytes that are not UTF-8 become '?' */
    expect_mask("\xff\xfe", "?**");
    expect_mask("Ng\xe1\xbb uy \xc3", "Ng?? u** ?");
    expect_mask("\xf0\x9f\x98\x80 \xed\xa0\x80x", "\xf0\x9f\x98\x80 ?"); /* a surrogate */
}

static int is_utf8(const char *s)
{
    return crdt_utf8_valid(s, strlen(s));
}

static void test_mask_cut_short(void **state)
{
    (void)state;
    const char *names[] = {"Nguyễn Văn An", "Đặng Thị Bích Ngọc", "Ánh", "Lê \xff An",
                           "Nguye\xcc\x82\xcc\x83n A\xcc\x81nh Ba"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        char full[TV_CARD_NAME_MASKED_BYTES];
        tv_name_mask(names[k], full, sizeof full);
        for (size_t cap = 1; cap <= strlen(full) + 1; cap++) {
            char out[TV_CARD_NAME_MASKED_BYTES + 8];
            memset(out, 'x', sizeof out);
            tv_name_mask(names[k], out, cap);
            size_t n = strlen(out);
            assert_true(n < cap);
            assert_memory_equal(out, full, n); /* a prefix of the whole */
            assert_true(is_utf8(out));
            assert_int_equal(out[cap], 'x'); /* nothing written beyond cap */
            if (cap == strlen(full) + 1) assert_string_equal(out, full);
        }
    }
    char out[16];
    tv_name_mask("Nguyễn Văn An", out, 7);
    assert_string_equal(out, "Nguy"); /* "ễ" takes 3 bytes: never part of it */
    tv_name_mask("Nguyễn Văn An", out, 8);
    assert_string_equal(out, "Nguyễ");
    tv_name_mask("Nguyễn Văn An", out, 10);
    assert_string_equal(out, "Nguyễn ");
    tv_name_mask("Nguyễn Văn An", out, 11);
    assert_string_equal(out, "Nguyễn V"); /* "**" does not fit: nothing more is written */
    memset(out, 'x', sizeof out);
    tv_name_mask("Nguyễn Văn An", out, 0);
    assert_int_equal(out[0], 'x');
    /* a long first word is cut at a character */
    char name[TV_CARD_NAME_MAX + 1] = "";
    for (int i = 0; i < 60; i++)
        strcat(name, "ễ");
    strcat(name, " An");
    char m[TV_CARD_NAME_MASKED_BYTES];
    tv_name_mask(name, m, sizeof m);
    assert_int_equal(strlen(m), 93);
    assert_true(is_utf8(m));
}

/* --- CCCD -------------------------------------------------------------------------------- */

static void test_cccd_seven_fields(void **state)
{
    (void)state;
    tv_card c = parse_ok(CCCD_7);
    assert_int_equal(c.kind, TV_CARD_CCCD);
    assert_int_equal(c.id.kind, TV_ID_CCCD);
    assert_string_equal(c.id.norm, "001099012345");
    assert_string_equal(c.id.masked, "**********45");
    assert_string_equal(c.cmnd, "123456789");
    assert_string_equal(c.name, "Nguyễn Văn An");
    assert_string_equal(c.name_masked, "Nguyễn V** A");
    assert_string_equal(c.birth, "1999-03-15");
    assert_int_equal(c.birth_year, 1999);
    assert_int_equal(c.sex, 'M');
    assert_string_equal(c.address, ADDRESS_HN);
    assert_string_equal(c.phone, "");
    assert_string_equal(c.bhyt_card, "");

    c = parse_ok(CCCD_7_NO_CMND);
    assert_int_equal(c.kind, TV_CARD_CCCD);
    assert_string_equal(c.id.norm, "001099012345");
    assert_string_equal(c.cmnd, "");
    assert_string_equal(c.name_masked, "Nguyễn V** A");

    /* as a reader types it: a line end, and a reader that adds spaces */
    c = parse_ok(CCCD_7 "\r\n");
    assert_string_equal(c.address, ADDRESS_HN);
    c = parse_ok("  001099012345 | 123456789 |  Nguyễn Văn An |15031999| Nam|" ADDRESS_HN
                 " |20042021 \n");
    assert_string_equal(c.name, "Nguyễn Văn An");
    assert_string_equal(c.cmnd, "123456789");
    /* an empty address is tolerated */
    c = parse_ok(cccd("001099012345", "", "Lê An", "01012000", "Nam", "", "20042021"));
    assert_string_equal(c.address, "");
    assert_string_equal(c.name_masked, "Lê A");
    /* the length is what counts, not a NUL */
    const char *tail = CCCD_7 "|junk|after|the|end";
    tv_card whole, cut;
    const char *why;
    assert_int_equal(tv_card_parse(CCCD_7, strlen(CCCD_7), &whole, &why), 0);
    assert_int_equal(tv_card_parse(tail, strlen(CCCD_7), &cut, &why), 0);
    assert_memory_equal(&whole, &cut, sizeof whole);
}

static void test_cccd_eleven_fields(void **state)
{
    (void)state;
    tv_card c = parse_ok(CCCD_11);
    assert_int_equal(c.kind, TV_CARD_CCCD);
    assert_string_equal(c.id.norm, "079304001234");
    assert_string_equal(c.name, "Đặng Thị Bích Ngọc");
    assert_string_equal(c.name_masked, "Đặng T** B** N");
    assert_string_equal(c.birth, "2004-02-29"); /* 2004 is a leap year */
    assert_int_equal(c.birth_year, 2004);
    assert_int_equal(c.sex, 'F');
    assert_string_equal(c.address, "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh");
    assert_string_equal(c.cmnd, "");
    /* fields 7..10 hold anything */
    c = parse_ok(CCCD_7 "|\xff\xfe|\x01||");
    assert_string_equal(c.name, "Nguyễn Văn An");
    c = parse_ok(CCCD_7 "||||");
    assert_int_equal(c.kind, TV_CARD_CCCD);
}

static void test_cccd_sex_spellings(void **state)
{
    (void)state;
    static const struct {
        const char *word;
        char sex;
    } cases[] = {
        {"Nam", 'M'},
        {"nam", 'M'},
        {"NAM", 'M'},
        {"Nữ", 'F'},
        {"nữ", 'F'},
        {"NỮ", 'F'},
        {"nỮ", 'F'},
        {"Nu", 'F'},
        {"NU", 'F'},
        {"nu", 'F'},
        {"Nu\xcc\x9b\xcc\x83", 'F'}, /* decomposed: u, horn, tilde */
        {"N\xc6\xb0\xcc\x83", 'F'},  /* ư, tilde */
        {"N\xc6\xaf\xcc\x83", 'F'},  /* Ư, tilde */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tv_card c =
            parse_ok(cccd("001099012345", "", "Lê An", "01012000", cases[i].word, "x", "20042021"));
        if (c.sex != cases[i].sex) fail_msg("'%s' read as %c", cases[i].word, c.sex);
    }
    const char *bad[] = {"", "Male", "F", "1", "Namm", "N", "Nư", "Nu\xcc\x83", "Nữa"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        warned(cccd("001099012345", "", "Lê An", "01012000", bad[i], "x", "20042021"),
               "CCCD sex is neither Nam nor Nữ");
}

static void test_cccd_dates(void **state)
{
    (void)state;
    static const struct {
        const char *date;
        const char *birth; /* NULL: refused */
    } cases[] = {
        {"29022000", "2000-02-29"}, /* divisible by 400: leap */
        {"29022004", "2004-02-29"}, {"31122099", "2099-12-31"},
        {"01011900", "1900-01-01"}, {"31012000", "2000-01-31"},
        {"30042000", "2000-04-30"}, {"31022000", NULL},
        {"30022000", NULL},         {"29022001", NULL},
        {"29021900", NULL}, /* divisible by 100, not by 400: not leap */
        {"31042000", NULL},         {"00012000", NULL},
        {"32012000", NULL},         {"15001999", NULL},
        {"15131999", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *text = cccd("001099012345", "", "Lê An", cases[i].date, "Nam", "x", "20042021");
        if (cases[i].birth) {
            tv_card c = parse_ok(text);
            assert_string_equal(c.birth, cases[i].birth);
        } else {
            warned(text, "CCCD date of birth is not a calendar date");
            /* the issue date is checked the same way */
            warned(cccd("001099012345", "", "Lê An", "01012000", "Nam", "x", cases[i].date),
                   "CCCD issue date is not a calendar date");
        }
    }
    const char *shapes[] = {"",     "1503199",  "150319999", "15-03-1999", "15/03/1999",
                            "1999", "15O31999", "+5031999",  "１5031999",  "1503 1999"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        warned(cccd("001099012345", "", "Lê An", shapes[i], "Nam", "x", "20042021"),
               "CCCD date of birth is not ddmmyyyy");
        warned(cccd("001099012345", "", "Lê An", "01012000", "Nam", "x", shapes[i]),
               "CCCD issue date is not ddmmyyyy");
    }
    warned(cccd("001099012345", "", "Lê An", "15031899", "Nam", "x", "20042021"),
           "CCCD date of birth is before 1900");
    warned(cccd("001099012345", "", "Lê An", "15031999", "Nam", "x", "20041899"),
           "CCCD issue date is before 1900");
}

static void test_cccd_refused(void **state)
{
    (void)state;
    refuse(CCCD_7 "|x|y", TV_CARD_CCCD,
           "CCCD QR has 9 fields separated by |; it should have 7 or 11");
    refuse(CCCD_7 "|", TV_CARD_CCCD, "CCCD QR has 8 fields separated by |; it should have 7 or 11");
    refuse("001099012345|123456789|Nguyễn Văn An|15031999|Nam|x", TV_CARD_CCCD,
           "CCCD QR has 6 fields separated by |; it should have 7 or 11");
    refuse("001099012345|", TV_CARD_CCCD,
           "CCCD QR has 2 fields separated by |; it should have 7 or 11");
    refuse(CCCD_11 "|", TV_CARD_CCCD,
           "CCCD QR has 12 fields separated by |; it should have 7 or 11");
    char many[512] = "001099012345";
    for (int i = 0; i < 40; i++)
        strcat(many, "|a");
    refuse(many, TV_CARD_CCCD,
           "CCCD QR has more than 32 fields separated by |; it should have 7 or 11");

    refuse(cccd("00109901234", "", "Lê An", "01012000", "Nam", "x", "20042021"), TV_CARD_CCCD,
           "CCCD number must be 12 digits");
    refuse(cccd("0010990123456", "", "Lê An", "01012000", "Nam", "x", "20042021"), TV_CARD_CCCD,
           "CCCD number must be 12 digits");
    warned(cccd("001099012345", "12345678", "Lê An", "01012000", "Nam", "x", "20042021"),
           "old CMND number in a CCCD QR must be empty or 9 digits");
    warned(cccd("001099012345", "12345678X", "Lê An", "01012000", "Nam", "x", "20042021"),
           "old CMND number in a CCCD QR must be empty or 9 digits");
    warned(cccd("001099012345", "123456789", "", "01012000", "Nam", "x", "20042021"),
           "CCCD name is empty");
    warned(cccd("001099012345", "123456789", "  ", "01012000", "Nam", "x", "20042021"),
           "CCCD name is empty");
    warned(cccd("001099012345", "", "Nguy\xe1\xbbn", "01012000", "Nam", "x", "20042021"),
           "CCCD name is not valid UTF-8");
    warned(cccd("001099012345", "", "L\xc3\xaa \xc0\xa0", "01012000", "Nam", "x", "20042021"),
           "CCCD name is not valid UTF-8"); /* overlong */
    warned(cccd("001099012345", "", "Lê\x01An", "01012000", "Nam", "x", "20042021"),
           "CCCD name contains a control character");
    warned(cccd("001099012345", "", "Lê\tAn", "01012000", "Nam", "x", "20042021"),
           "CCCD name contains a control character");
    char name[300];
    memset(name, 'a', 256);
    name[256] = '\0';
    warned(cccd("001099012345", "", name, "01012000", "Nam", "x", "20042021"),
           "CCCD name is longer than 255 bytes");
    name[255] = '\0';
    tv_card c = parse_ok(cccd("001099012345", "", name, "01012000", "Nam", "x", "20042021"));
    assert_int_equal(strlen(c.name), 255);
    assert_string_equal(c.name_masked, "a**");
    warned(cccd("001099012345", "", "Lê An", "01012000", "Nam", "Phố \xe1", "20042021"),
           "CCCD address is not valid UTF-8");
    warned(cccd("001099012345", "", "Lê An", "01012000", "Nam", "Phố\x7f", "20042021"),
           "CCCD address contains a control character");
    char addr[600];
    memset(addr, 'b', 512);
    addr[512] = '\0';
    warned(cccd("001099012345", "", "Lê An", "01012000", "Nam", addr, "20042021"),
           "CCCD address is longer than 511 bytes");
    addr[511] = '\0';
    c = parse_ok(cccd("001099012345", "", "Lê An", "01012000", "Nam", addr, "20042021"));
    assert_int_equal(strlen(c.address), 511);
}

/* --- BHYT -------------------------------------------------------------------------------- */

static void test_bhyt_hex_of_the_domain_example(void **state)
{
    (void)state;
    assert_string_equal(hx("Nguyễn Văn An"), "4e677579e1bb856e2056c4836e20416e");
}

static void test_bhyt_2018(void **state)
{
    (void)state;
    const char *text = bhyt15("HS4010123456789", "4e677579e1bb856e2056c4836e20416e", "15/03/2010",
                              "1", hx("Số 1 Phố X, Hà Nội"), hx("Nguyễn Văn Bố"));
    tv_card c = parse_ok(text);
    assert_int_equal(c.kind, TV_CARD_BHYT);
    assert_int_equal(c.id.kind, TV_ID_BHYT);
    assert_string_equal(c.id.norm, "0123456789"); /* the social-insurance number */
    assert_string_equal(c.id.masked, "*************89");
    assert_string_equal(c.bhyt_card, "HS4010123456789");
    assert_string_equal(c.name, "Nguyễn Văn An");
    assert_string_equal(c.name_masked, "Nguyễn V** A");
    assert_string_equal(c.birth, "2010-03-15");
    assert_int_equal(c.birth_year, 2010);
    assert_int_equal(c.sex, 'M');
    assert_string_equal(c.address, "Số 1 Phố X, Hà Nội");
    assert_string_equal(c.cmnd, "");
    assert_string_equal(c.phone, "");

    /* a child with a parent's name; a woman; empty address and parents */
    c = parse_ok(bhyt15("TE1790123456789", hx("Đặng Thị Bích Ngọc"), "29/02/2020", "2", "", ""));
    assert_string_equal(c.name_masked, "Đặng T** B** N");
    assert_string_equal(c.birth, "2020-02-29");
    assert_int_equal(c.sex, 'F');
    assert_string_equal(c.address, "");

    /* uppercase hex, lowercase card (Caps Lock on the reader's host), line ends */
    char upper[64];
    strcpy(upper, "4E677579E1BB856E2056C4836E20416E");
    char buf[8192];
    snprintf(buf, sizeof buf, "%s\r\n",
             bhyt15("hs4010123456789", upper, "15/03/2010", "1", "", "") /* */);
    c = parse_ok(buf);
    assert_string_equal(c.name, "Nguyễn Văn An");
    assert_string_equal(c.bhyt_card, "HS4010123456789");
    assert_string_equal(c.id.norm, "0123456789");
    snprintf(buf, sizeof buf, "%s \n", bhyt15("DN5010123456789", upper, "2010", "1", "", ""));
    c = parse_ok(buf);
    assert_string_equal(c.birth, "2010");
    /* a new card after a new job: the same person, the same pseudonym */
    assert_string_equal(c.id.norm, "0123456789");
    assert_string_equal(c.bhyt_card, "DN5010123456789");
    /* a name padded with spaces inside the hex is trimmed */
    c = parse_ok(bhyt15("DN5010123456789", hx("  Lê An "), "2010", "1", "", ""));
    assert_string_equal(c.name, "Lê An");
}

static void test_bhyt_older(void **state)
{
    (void)state;
    tv_card c = parse_ok(bhyt12("DN4790123456789", hx("Đặng Thị Bích Ngọc"), "1985", "2",
                                hx("Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh")));
    assert_int_equal(c.kind, TV_CARD_BHYT);
    assert_int_equal(c.id.kind, TV_ID_BHYT);
    assert_string_equal(c.bhyt_card, "DN4790123456789");
    assert_string_equal(c.name, "Đặng Thị Bích Ngọc");
    assert_string_equal(c.name_masked, "Đặng T** B** N");
    assert_string_equal(c.birth, "1985");
    assert_int_equal(c.birth_year, 1985);
    assert_int_equal(c.sex, 'F');
    assert_string_equal(c.address, "Phường Bến Nghé, Quận 1, TP. Hồ Chí Minh");
    c = parse_ok(bhyt12("CH3010000000001", hx("Trần Thị Bích Ngọc"), "01/01/1960", "2", ""));
    assert_string_equal(c.birth, "1960-01-01");
    assert_string_equal(c.name_masked, "Trần T** B** N");
}

static void test_bhyt_refused(void **state)
{
    (void)state;
    const char *name = hx("Nguyễn Văn An");
    char buf[8192];
    /* the end */
    snprintf(buf, sizeof buf, "%s", bhyt15("HS4010123456789", name, "2010", "1", "", ""));
    buf[strlen(buf) - 2] = '\0'; /* drop "|$" */
    refuse(buf, TV_CARD_BHYT, "BHYT payload does not end with |$");
    snprintf(buf, sizeof buf, "%sx", bhyt15("HS4010123456789", name, "2010", "1", "", ""));
    refuse(buf, TV_CARD_BHYT, "BHYT payload does not end with |$");
    snprintf(buf, sizeof buf, "%s|", bhyt15("HS4010123456789", name, "2010", "1", "", ""));
    refuse(buf, TV_CARD_BHYT, "BHYT payload does not end with |$");
    refuse("HS4010123456789|abc", TV_CARD_BHYT, "BHYT payload does not end with |$");
    /* the number of parts */
    snprintf(buf, sizeof buf, "x|%s", bhyt15("HS4010123456789", name, "2010", "1", "", ""));
    refuse(buf, TV_CARD_BHYT,
           "BHYT payload has 16 parts separated by |; it should have 15 (2018 card) or 12 "
           "(older card)");
    refuse("HS4010123456789|$", TV_CARD_BHYT,
           "BHYT payload has 2 parts separated by |; it should have 15 (2018 card) or 12 "
           "(older card)");
    refuse("|$", TV_CARD_BHYT,
           "BHYT payload has 2 parts separated by |; it should have 15 (2018 card) or 12 "
           "(older card)");
    refuse("HS4010123456789|a|b|c|d|e|f|g|h|i|j|k|$", TV_CARD_BHYT,
           "BHYT payload has 13 parts separated by |; it should have 15 (2018 card) or 12 "
           "(older card)");
    char many[512] = "";
    for (int i = 0; i < 40; i++)
        strcat(many, "a|");
    strcat(many, "$");
    refuse(many, TV_CARD_BHYT,
           "BHYT payload has more than 32 parts separated by |; it should have 15 (2018 card) "
           "or 12 (older card)");
    /* the card number */
    static const struct {
        const char *card, *why;
    } cards[] = {
        {"HS401012345678", "BHYT card number must be 15 characters"},
        {"HS40101234567890", "BHYT card number must be 15 characters"},
        {"", "BHYT card number must be 15 characters"},
        {"H54010123456789", "BHYT card number must start with 2 letters"},
        {"4S4010123456789", "BHYT card number must start with 2 letters"},
        {"ĐS401012345678", "BHYT card number must start with 2 letters"}, /* 15 bytes */
        {"HS6010123456789", "BHYT card number must have a benefit level 1 to 5 after its letters"},
        {"HS0010123456789", "BHYT card number must have a benefit level 1 to 5 after its letters"},
        {"HSX010123456789", "BHYT card number must have a benefit level 1 to 5 after its letters"},
        {"HS40101234567X9", "BHYT card number must end with 12 digits"},
        {"HS4O10123456789", "BHYT card number must end with 12 digits"},
        {"HS401012345678 9", "BHYT card number must be 15 characters"},
    };
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
        refuse(bhyt15(cards[i].card, name, "2010", "1", "", ""), TV_CARD_BHYT, cards[i].why);
        refuse(bhyt12(cards[i].card, name, "2010", "1", ""), TV_CARD_BHYT, cards[i].why);
    }
    /* hex fields */
    static const struct {
        const char *hex, *what;
    } hexes[] = {
        {"zz", "is not hex"},
        {"4e6x", "is not hex"},
        {"4e 67", "is not hex"},
        {"0x4e", "is not hex"},
        {"4e6", "has an odd number of hex digits"},
        {"4", "has an odd number of hex digits"},
        {"ff", "is not valid UTF-8 once decoded"},
        {"c0af", "is not valid UTF-8 once decoded"},       /* overlong '/' */
        {"eda080", "is not valid UTF-8 once decoded"},     /* a surrogate */
        {"e1bb", "is not valid UTF-8 once decoded"},       /* cut short */
        {"4e677579e1", "is not valid UTF-8 once decoded"}, /* cut short at the end */
        {"4e00", "contains a control character once decoded"},
        {"4e0a41", "contains a control character once decoded"},
    };
    for (size_t i = 0; i < sizeof hexes / sizeof hexes[0]; i++) {
        char want[128];
        snprintf(want, sizeof want, "BHYT name field %s", hexes[i].what);
        refuse(bhyt15("HS4010123456789", hexes[i].hex, "2010", "1", "", ""), TV_CARD_BHYT, want);
        refuse(bhyt12("HS4010123456789", hexes[i].hex, "2010", "1", ""), TV_CARD_BHYT, want);
        snprintf(want, sizeof want, "BHYT address field %s", hexes[i].what);
        refuse(bhyt15("HS4010123456789", name, "2010", "1", hexes[i].hex, ""), TV_CARD_BHYT, want);
        refuse(bhyt12("HS4010123456789", name, "2010", "1", hexes[i].hex), TV_CARD_BHYT, want);
        snprintf(want, sizeof want, "BHYT parents' name field %s", hexes[i].what);
        refuse(bhyt15("HS4010123456789", name, "2010", "1", "", hexes[i].hex), TV_CARD_BHYT, want);
    }
    refuse(bhyt15("HS4010123456789", "", "2010", "1", "", ""), TV_CARD_BHYT,
           "BHYT name field is empty");
    refuse(bhyt15("HS4010123456789", "2020", "2010", "1", "", ""), TV_CARD_BHYT,
           "BHYT name field is empty");
    char big[1200];
    memset(big, 'a', 600);
    big[600] = '\0';
    const char *long_name = hx(big); /* 600 bytes */
    refuse(bhyt15("HS4010123456789", long_name, "2010", "1", "", ""), TV_CARD_BHYT,
           "BHYT name field is longer than 255 bytes once decoded");
    refuse(bhyt15("HS4010123456789", name, "2010", "1", long_name, ""), TV_CARD_BHYT,
           "BHYT address field is longer than 511 bytes once decoded");
    refuse(bhyt15("HS4010123456789", name, "2010", "1", "", long_name), TV_CARD_BHYT,
           "BHYT parents' name field is longer than 255 bytes once decoded");
    big[255] = '\0';
    tv_card c = parse_ok(bhyt15("HS4010123456789", hx(big), "2010", "1", "", ""));
    assert_int_equal(strlen(c.name), 255);
    /* date of birth */
    const char *dates[] = {"31/02/2000", "29/02/2001", "29/02/1900", "00/01/2000",
                           "01/13/2000", "31/04/2000", "32/01/2000"};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++)
        refuse(bhyt15("HS4010123456789", name, dates[i], "1", "", ""), TV_CARD_BHYT,
               "BHYT date of birth is not a calendar date");
    const char *shapes[] = {"",         "2000-01-01", "15/3/2010", "15031999",   "15.03.2010",
                            "15/03/10", "201",        "20100",     "15/03/2010x"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        refuse(bhyt15("HS4010123456789", name, shapes[i], "1", "", ""), TV_CARD_BHYT,
               "BHYT date of birth is not dd/mm/yyyy or yyyy");
    refuse(bhyt15("HS4010123456789", name, "1899", "1", "", ""), TV_CARD_BHYT,
           "BHYT date of birth is before 1900");
    refuse(bhyt12("HS4010123456789", name, "31/12/1899", "1", ""), TV_CARD_BHYT,
           "BHYT date of birth is before 1900");
    /* sex */
    const char *sexes[] = {"", "0", "3", "12", "Nam", "M"};
    for (size_t i = 0; i < sizeof sexes / sizeof sexes[0]; i++)
        refuse(bhyt15("HS4010123456789", name, "2010", sexes[i], "", ""), TV_CARD_BHYT,
               "BHYT sex is neither 1 (Nam) nor 2 (Nữ)");
    /* the card number makes it BHYT even without the final "$" */
    refuse("HS4010123456789|4e|2010|1", TV_CARD_BHYT, "BHYT payload does not end with |$");
}

/* --- other layouts ------------------------------------------------------------------------- */

static void test_typed(void **state)
{
    (void)state;
    tv_card c = parse_ok("0912345678\r\n");
    assert_int_equal(c.kind, TV_CARD_TYPED);
    assert_int_equal(c.id.kind, TV_ID_PHONE);
    assert_string_equal(c.id.norm, "0912345678");
    assert_string_equal(c.id.masked, "09******78");
    assert_string_equal(c.phone, "0912345678");
    assert_string_equal(c.name, "");
    assert_string_equal(c.name_masked, "");
    c = parse_ok("  +84 912 345 678 ");
    assert_string_equal(c.phone, "0912345678");
    c = parse_ok("001099012345");
    assert_int_equal(c.kind, TV_CARD_TYPED);
    assert_int_equal(c.id.kind, TV_ID_CCCD);
    assert_string_equal(c.phone, "");
    c = parse_ok("123456789\n");
    assert_int_equal(c.id.kind, TV_ID_CMND);
    assert_string_equal(c.cmnd, "123456789");
    /* the typed parser's own sentences */
    refuse("", TV_CARD_TYPED, "it is empty");
    refuse(" \r\n\t", TV_CARD_TYPED, "it is empty");
    refuse("abc", TV_CARD_TYPED, "it should contain only digits (a phone number or an ID number)");
    refuse("https://example.org/", TV_CARD_TYPED,
           "it should contain only digits (a phone number or an ID number)");
    refuse("12345", TV_CARD_TYPED,
           "a phone number has 10 digits starting with 0, a CCCD number 12 digits, a CMND "
           "number 9 digits");
    refuse("HS4010123456789", TV_CARD_TYPED,
           "it should contain only digits (a phone number or an ID number)");
    /* only len bytes are read */
    tv_card d;
    const char *why;
    assert_int_equal(tv_card_parse("0912345678999", 10, &d, &why), 0);
    assert_string_equal(d.phone, "0912345678");
    assert_int_equal(tv_card_parse(NULL, 0, &d, NULL), TV_EINVAL);
    assert_int_equal(d.kind, TV_CARD_TYPED);
}

static void test_truyvet_hook(void **state)
{
    (void)state;
    const char *cut = "the personal code is cut short or too long";
    const char *other = "a truyvet personal code of another version: this node reads version 1 "
                        "(TV1:)";
    refuse(TV_CARD_TRUYVET_PREFIX "AAAA", TV_CARD_TRUYVET, cut);
    refuse("tv1:AAAA", TV_CARD_TRUYVET, cut);
    refuse("TV2:", TV_CARD_TRUYVET, other);
    refuse("  TV12:a|b|$\r\n", TV_CARD_TRUYVET, other);
    refuse("TV:AAAA", TV_CARD_TYPED,
           "it should contain only digits (a phone number or an ID number)");
    refuse("TV1", TV_CARD_TYPED, "it should contain only digits (a phone number or an ID number)");
}

static void test_unknown_and_limits(void **state)
{
    (void)state;
    refuse("x|x|x|x|x|x|x|x|x", 0, "unknown QR layout: 9 fields separated by |");
    refuse("a|b", 0, "unknown QR layout: 2 fields separated by |");
    refuse("|", 0, "unknown QR layout: 2 fields separated by |");
    refuse("0912345678|", 0, "unknown QR layout: 2 fields separated by |");
    refuse("x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x", 0,
           "unknown QR layout: 32 fields separated by |");
    refuse("x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x|x", 0,
           "unknown QR layout: more than 32 fields separated by |");
    /* 7 fields, first all digits but not 12: read as a CCCD to say what is wrong */
    refuse("1|2|3|4|5|6|7", TV_CARD_CCCD, "CCCD number must be 12 digits");
    refuse("1|2|3|4|5|6|7|8", 0, "unknown QR layout: 8 fields separated by |");

    char *big = malloc(TV_CARD_TEXT_MAX + 10);
    assert_non_null(big);
    memset(big, '|', TV_CARD_TEXT_MAX + 10);
    refuse_n(big, TV_CARD_TEXT_MAX, 0, "unknown QR layout: more than 32 fields separated by |");
    refuse_n(big, TV_CARD_TEXT_MAX + 1, 0, "the text is longer than any QR code can hold");
    memset(big, ' ', TV_CARD_TEXT_MAX + 10);
    memcpy(big + 2000, "0912345678", 10); /* blanks around do not count */
    tv_card c;
    const char *why;
    assert_int_equal(tv_card_parse(big, TV_CARD_TEXT_MAX + 10, &c, &why), 0);
    assert_string_equal(c.phone, "0912345678");
    memset(big, '7', TV_CARD_TEXT_MAX + 10);
    refuse_n(big, TV_CARD_TEXT_MAX, TV_CARD_TYPED,
             "it is too long for a phone number or an ID number");
    free(big);
    /* a huge line is refused before it is read */
    size_t huge = (size_t)16 << 20;
    big = malloc(huge);
    assert_non_null(big);
    memset(big, '1', huge);
    refuse_n(big, huge, 0, "the text is longer than any QR code can hold");
    free(big);
    refuse_n("0912345678\0", 11, 0, "the text contains a NUL byte");
    static const char nul[] = "001099012345|\0|Lê An|01012000|Nam|x|20042021";
    refuse_n(nul, sizeof nul - 1, 0, "the text contains a NUL byte");
}

static void test_person_refs(void **state)
{
    (void)state;
    uint8_t key[TV_TRACING_KEY_BYTES];
    memset(key, 7, sizeof key);
    uint8_t qr[TV_PERSON_REF_BYTES], typed[TV_PERSON_REF_BYTES], bhyt[TV_PERSON_REF_BYTES],
        bhyt_lower[TV_PERSON_REF_BYTES];
    tv_card a = parse_ok(CCCD_7), b = parse_ok("001 099 012 345");
    tv_person_ref(&a.id, key, qr);
    tv_person_ref(&b.id, key, typed);
    assert_memory_equal(qr, typed, sizeof qr); /* the card read or its number typed */
    const char *name = hx("Nguyễn Văn An");
    tv_card h = parse_ok(bhyt15("HS4010123456789", name, "2010", "1", "", ""));
    tv_person_ref(&h.id, key, bhyt);
    h = parse_ok(bhyt12("hs4010123456789", name, "2010", "1", ""));
    tv_person_ref(&h.id, key, bhyt_lower);
    assert_memory_equal(bhyt, bhyt_lower, sizeof bhyt);
    assert_memory_not_equal(bhyt, qr, sizeof bhyt);
}

/* A keyboard-mode reader mangles the diacritics; a typo in a date: the 12-digit number is
 * intact, so the card is read by it, with what was wrong. */
static void test_cccd_read_by_number(void **state)
{
    (void)state;
    /* "Nguyễn" typed byte by byte through a US keyboard layout: not UTF-8 */
    tv_card c = warned(cccd("001099012345", "123456789", "Nguy\xe1\xbbn V\xe3n An", "15031999",
                            "Nam", "Phố X", "20042021"),
                       "CCCD name is not valid UTF-8");
    assert_string_equal(c.name, "");
    assert_string_equal(c.name_masked, "");
    assert_string_equal(c.birth, "1999-03-15");
    assert_string_equal(c.cmnd, "123456789");
    assert_string_equal(c.address, "Phố X");
    assert_int_equal(c.sex, 'M');
    assert_string_equal(tv_card_why_vi(c.warning),
                        "họ tên trên CCCD bị lỗi dấu (không phải UTF-8, đầu đọc đang ở chế độ bàn "
                        "phím?)");

    c = warned(cccd("001099012345", "", "Lê An", "31021999", "Nữ", "Phố X", "20042021"),
               "CCCD date of birth is not a calendar date");
    assert_string_equal(c.name, "Lê An");
    assert_string_equal(c.name_masked, "Lê A");
    assert_string_equal(c.birth, "");
    assert_int_equal(c.birth_year, 0);
    assert_int_equal(c.sex, 'F');
    assert_string_equal(tv_card_why_vi(c.warning), "ngày sinh trên CCCD không có thật");

    /* two defects: the first is said, both fields are left empty */
    c = warned(cccd("001099012345", "", "L\xea An", "1503199", "Nam", "x", "20042021"),
               "CCCD name is not valid UTF-8");
    assert_string_equal(c.name, "");
    assert_string_equal(c.birth, "");

    /* the same person as the intact card: the pseudonym is the number's */
    uint8_t key[TV_TRACING_KEY_BYTES], whole[TV_PERSON_REF_BYTES], part[TV_PERSON_REF_BYTES];
    memset(key, 7, sizeof key);
    tv_card a = parse_ok(CCCD_7);
    tv_person_ref(&a.id, key, whole);
    tv_person_ref(&c.id, key, part);
    assert_memory_equal(whole, part, sizeof whole);

    /* the number itself, and the layout, still refuse */
    refuse(cccd("00109901234", "", "L\xea An", "01012000", "Nam", "x", "20042021"), TV_CARD_CCCD,
           "CCCD number must be 12 digits");
}

/* The gate's Vietnamese for tv_card_parse's sentences. */
static void test_why_vi(void **state)
{
    (void)state;
    assert_string_equal(tv_card_why_vi("CCCD number must be 12 digits"),
                        "số CCCD phải có 12 chữ số");
    assert_string_equal(tv_card_why_vi("unknown QR layout: 2 fields separated by |"),
                        "không rõ loại mã: 2 trường ngăn bởi |");
    assert_string_equal(
        tv_card_why_vi("CCCD QR has 9 fields separated by |; it should have 7 or 11"),
        "mã CCCD có 9 trường ngăn bởi |, phải có 7 hoặc 11");
    assert_string_equal(tv_card_why_vi("BHYT name field is not hex"),
                        "họ tên trên thẻ BHYT không phải dạng hex");
    assert_string_equal(
        tv_card_why_vi("it should contain only digits (a phone number or an ID number)"),
        "chỉ được có chữ số (số điện thoại hoặc số giấy tờ)");
    assert_string_equal(tv_card_why_vi("no such sentence"), "no such sentence");
    assert_null(tv_card_why_vi(NULL));
    /* every sentence the parser gives on a sample of bad lines has its Vietnamese */
    static const char *const bad[] = {
        "hello|world", "001099012345|", "HS4010123456789|zz|2010|1||$", "TV2:abc", "12ab", "",
        "+1 555 0100", "09123",         "0912345678901234567890",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tv_card c;
        const char *why = NULL;
        assert_int_equal(tv_card_parse(bad[i], strlen(bad[i]), &c, &why), TV_EINVAL);
        if (strcmp(tv_card_why_vi(why), why) == 0)
            fail_msg("'%s': no Vietnamese for '%s'", bad[i], why);
    }
}

/* --- random and damaged input ---------------------------------------------------------------- */

/* Parses a copy of text[0..len) held in a buffer of exactly len bytes, so that a read past
 * the end is caught by the address sanitizer, and checks what any answer must satisfy. */
static int parse_any(const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    if (len) memcpy(copy, text, len);
    tv_card c;
    const char *why = NULL;
    int rc = tv_card_parse(copy, len, &c, &why);
    free(copy);
    if (rc == TV_EINVAL) {
        assert_non_null(why);
        assert_true((int)c.kind >= 0 && (int)c.kind <= TV_CARD_TRUYVET);
        return rc;
    }
    assert_int_equal(rc, 0);
    assert_null(why);
    assert_true((int)c.kind >= TV_CARD_TYPED && (int)c.kind <= TV_CARD_BHYT);
    assert_true((int)c.id.kind >= TV_ID_PHONE && (int)c.id.kind <= TV_ID_BHYT);
    assert_true(strlen(c.id.norm) < sizeof c.id.norm && strlen(c.id.norm) > 0);
    assert_true(strlen(c.name) < sizeof c.name && is_utf8(c.name));
    assert_true(strlen(c.name_masked) < sizeof c.name_masked && is_utf8(c.name_masked));
    assert_true(strlen(c.address) < sizeof c.address && is_utf8(c.address));
    assert_true(strlen(c.birth) < sizeof c.birth);
    assert_true(strlen(c.phone) < sizeof c.phone);
    assert_true(strlen(c.cmnd) < sizeof c.cmnd);
    assert_true(strlen(c.bhyt_card) < sizeof c.bhyt_card);
    assert_true(c.sex == 0 || c.sex == 'M' || c.sex == 'F');
    if (c.kind != TV_CARD_TYPED && !c.warning) assert_true(c.name[0] && c.name_masked[0] && c.sex);
    if (c.warning) assert_int_equal(c.kind, TV_CARD_CCCD);
    return rc;
}

static void test_damaged_payloads(void **state)
{
    (void)state;
    char payloads[8][8192];
    size_t n = 0;
    strcpy(payloads[n++], CCCD_7);
    strcpy(payloads[n++], CCCD_7_NO_CMND);
    strcpy(payloads[n++], CCCD_11);
    strcpy(payloads[n++], bhyt15("HS4010123456789", hx("Nguyễn Văn An"), "15/03/2010", "1",
                                 hx("Số 1 Phố X, Hà Nội"), hx("Nguyễn Văn Bố")));
    strcpy(payloads[n++],
           bhyt12("DN4790123456789", hx("Đặng Thị Bích Ngọc"), "1985", "2", hx(ADDRESS_HN)));
    strcpy(payloads[n++], "+84 912 345 678");
    strcpy(payloads[n++], "TV1:AAAA");
    fx_rng rng = {.s = 20211006};
    static const char bytes[] = {'|', '$',    '0',    '9',    'a',    'F', ' ', '\r', '\0',
                                 '/', '\xe1', '\xbb', '\x80', '\xff', 'T', 'V', ':',  'N'};
    for (size_t k = 0; k < n; k++) {
        const char *p = payloads[k];
        size_t len = strlen(p);
        assert_int_equal(parse_any(p, len), k == n - 1 ? TV_EINVAL : 0); /* TV1: refused */
        for (size_t cut = 0; cut < len; cut++) {
            parse_any(p, cut);             /* cut short */
            parse_any(p + cut, len - cut); /* its start lost */
        }
        char m[8192];
        for (size_t at = 0; at < len; at++)
            for (int t = 0; t < 12; t++) {
                memcpy(m, p, len);
                m[at] = t < 6 ? bytes[fx_rng_below(&rng, sizeof bytes)] : (char)fx_rng_next(&rng);
                parse_any(m, len);
                /* and a byte dropped */
                memmove(m + at, m + at + 1, len - at - 1);
                parse_any(m, len - 1);
            }
    }
}

static void test_random_bytes(void **state)
{
    (void)state;
    fx_rng rng = {.s = 1};
    static const char *const tokens[] = {"|",
                                         "|",
                                         "|",
                                         "$",
                                         "001099012345",
                                         "123456789",
                                         "HS4010123456789",
                                         "4e677579e1bb856e",
                                         "e1bb",
                                         "Nam",
                                         "Nữ",
                                         "15031999",
                                         "29/02/2000",
                                         "1985",
                                         "1",
                                         "2",
                                         " ",
                                         "\r\n",
                                         "TV1:",
                                         "\xff",
                                         "c0af",
                                         "00",
                                         "0912345678"};
    char buf[3000];
    for (int iter = 0; iter < 200000; iter++) {
        size_t len = 0;
        if (iter % 2) {
            len = (size_t)fx_rng_below(&rng, 600);
            fx_rng_bytes(&rng, (uint8_t *)buf, len);
            for (size_t i = 0; i < len; i++) /* plenty of separators */
                if (fx_rng_below(&rng, 8) == 0) buf[i] = '|';
        } else {
            size_t parts = (size_t)fx_rng_below(&rng, 40);
            for (size_t i = 0; i < parts; i++) {
                const char *t = tokens[fx_rng_below(&rng, sizeof tokens / sizeof tokens[0])];
                size_t tn = strlen(t);
                if (len + tn > sizeof buf) break;
                memcpy(buf + len, t, tn);
                len += tn;
            }
        }
        parse_any(buf, len);
    }
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mask_rule),
        cmocka_unit_test(test_mask_cut_short),
        cmocka_unit_test(test_cccd_seven_fields),
        cmocka_unit_test(test_cccd_eleven_fields),
        cmocka_unit_test(test_cccd_sex_spellings),
        cmocka_unit_test(test_cccd_dates),
        cmocka_unit_test(test_cccd_refused),
        cmocka_unit_test(test_cccd_read_by_number),
        cmocka_unit_test(test_why_vi),
        cmocka_unit_test(test_bhyt_hex_of_the_domain_example),
        cmocka_unit_test(test_bhyt_2018),
        cmocka_unit_test(test_bhyt_older),
        cmocka_unit_test(test_bhyt_refused),
        cmocka_unit_test(test_typed),
        cmocka_unit_test(test_truyvet_hook),
        cmocka_unit_test(test_unknown_and_limits),
        cmocka_unit_test(test_person_refs),
        cmocka_unit_test(test_damaged_payloads),
        cmocka_unit_test(test_random_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
