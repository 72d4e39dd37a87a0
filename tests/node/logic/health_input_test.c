/* Tests of the checks of a case status and a risk level as typed (node/logic/health_input.c)
 * (and tv_when_check): for each code, its return value and the
 * exact English (as `truyvet case add` and `truyvet risk set` print it) and Vietnamese
 * sentences. */
#include "crdt/error.h"
#include "node/format/timefmt.h"
#include "node/logic/enroll.h"
#include "node/logic/health_input.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define T0 1633482000000LL   /* 2021-10-06 08:00 Vietnam time */
#define DAY0 1633453200000LL /* 2021-10-06 00:00 Vietnam time */

/* Checks a refusal: its return value, code and both sentences. */
static void refused(int rc, int want, const tv_why *w, const char *code, const char *en,
                    const char *vi)
{
    assert_int_equal(rc, want);
    assert_string_equal(w->code, code);
    assert_string_equal(w->en, en);
    assert_string_equal(w->vi, vi);
}

/* tv_when_parse itself: tests/node/format/timefmt_test.c. */
static void test_when(void **state)
{
    (void)state;
    int64_t ms = -1;
    tv_why w;
    assert_int_equal(tv_when_check("--at", "Thời điểm", "2021-10-06", 0, &ms, &w), 0);
    assert_true(ms == DAY0);
    refused(tv_when_check("--onset", "Ngày khởi phát", "2300-01-01", 0, &ms, &w), TV_EINVAL, &w,
            "time_invalid",
            "--onset takes 'today', a date or a time with its offset (before 2200), not "
            "'2300-01-01'.",
            "Ngày khởi phát phải là 'today' (hôm nay), một ngày như 2021-10-06 hoặc một thời điểm "
            "kèm múi giờ như 2021-10-06T08:00:00+07:00 (trước năm 2200), không phải '2300-01-01'.");
    refused(tv_when_check("--at", "Thời điểm", "x\x1b[2J", 0, &ms, &w), TV_EINVAL, &w,
            "time_invalid",
            "--at takes 'today', a date or a time with its offset (before 2200), not "
            "'x\\x1b[2J'.",
            "Thời điểm phải là 'today' (hôm nay), một ngày như 2021-10-06 hoặc một thời điểm kèm "
            "múi giờ như 2021-10-06T08:00:00+07:00 (trước năm 2200), không phải 'x\\x1b[2J'.");
}

static int case_parse(tv_case_input in, crdt_case *cs, tv_why *w)
{
    return tv_case_input_parse(&in, T0, cs, w);
}

static void test_case_input(void **state)
{
    (void)state;
    crdt_case cs;
    tv_why w;
    const char *p = "0901000000";
    const char *need = "Hãy nhập số CCCD, số điện thoại hoặc quét mã của người bệnh (hoặc mã định "
                       "danh ẩn danh), chỉ một trong hai.";
    refused(case_parse((tv_case_input){.status = "F1"}, &cs, &w), TV_EINVAL, &w, "person_missing",
            "give the person: --payload or --ref.", need);
    refused(case_parse((tv_case_input){.person = p, .ref = "00", .status = "F1"}, &cs, &w),
            TV_EINVAL, &w, "person_missing", "give the person: --payload or --ref.", need);
    refused(case_parse((tv_case_input){.person = p}, &cs, &w), TV_EINVAL, &w, "status_missing",
            "give the status: --status F0|F1|F2|cleared.",
            "Hãy chọn tình trạng: F0, F1, F2 hoặc đã khỏi.");
    refused(case_parse((tv_case_input){.person = p, .status = "F9"}, &cs, &w), TV_EINVAL, &w,
            "status_invalid", "--status is F0, F1, F2 or cleared, not 'F9'.",
            "Tình trạng là F0, F1, F2 hoặc đã khỏi (cleared), không phải 'F9'.");
    refused(case_parse((tv_case_input){.person = p, .status = "F0", .onset = "hôm qua"}, &cs, &w),
            TV_EINVAL, &w, "time_invalid",
            "--onset takes 'today', a date or a time with its offset (before 2200), not 'hôm "
            "qua'.",
            "Ngày khởi phát (hoặc phơi nhiễm) phải là 'today' (hôm nay), một ngày như 2021-10-06 "
            "hoặc một thời điểm kèm múi giờ như 2021-10-06T08:00:00+07:00 (trước năm 2200), "
            "không phải 'hôm qua'.");
    refused(case_parse((tv_case_input){.person = p, .status = "F0", .sampled = "2021-10-06T08:00"},
                       &cs, &w),
            TV_EINVAL, &w, "time_invalid",
            "--sampled takes 'today', a date or a time with its offset (before 2200), not "
            "'2021-10-06T08:00'.",
            "Ngày lấy mẫu dương tính phải là 'today' (hôm nay), một ngày như 2021-10-06 hoặc một "
            "thời điểm kèm múi giờ như 2021-10-06T08:00:00+07:00 (trước năm 2200), không phải "
            "'2021-10-06T08:00'.");
    refused(
        case_parse((tv_case_input){.person = p, .status = "cleared", .at = "2021-02-30"}, &cs, &w),
        TV_EINVAL, &w, "time_invalid",
        "--at takes 'today', a date or a time with its offset (before 2200), not "
        "'2021-02-30'.",
        "Thời điểm có hiệu lực phải là 'today' (hôm nay), một ngày như 2021-10-06 hoặc một "
        "thời điểm kèm múi giờ như 2021-10-06T08:00:00+07:00 (trước năm 2200), không phải "
        "'2021-02-30'.");
    refused(case_parse((tv_case_input){.person = p, .status = "F0", .at = "today"}, &cs, &w),
            TV_EINVAL, &w, "onset_missing",
            "an F0 needs --onset (symptoms) or --sampled (the positive sample): the infectious "
            "window starts from it.",
            "Ca F0 cần ngày khởi phát triệu chứng hoặc ngày lấy mẫu dương tính: thời gian lây "
            "nhiễm được tính từ ngày đó.");
    refused(case_parse((tv_case_input){.person = p, .status = "F1", .unit = "5 6"}, &cs, &w),
            TV_EINVAL, &w, "unit_invalid", "'5 6' is not a unit code.",
            "'5 6' không phải là mã đơn vị hợp lệ.");

    assert_int_equal(
        case_parse(
            (tv_case_input){
                .ref = "00", .status = "F0", .onset = "2021-10-06", .at = "today", .unit = "56"},
            &cs, &w),
        0);
    assert_int_equal(cs.status, CRDT_CASE_F0);
    assert_true(cs.onset_ms == DAY0);
    assert_true(cs.sampled_ms == CRDT_TIME_NONE);
    assert_true(cs.at_ms == DAY0);
    assert_int_equal(case_parse((tv_case_input){.person = p, .status = "cleared"}, &cs, &w), 0);
    assert_int_equal(cs.status, CRDT_CASE_CLEARED);
    assert_true(cs.onset_ms == CRDT_TIME_NONE && cs.at_ms == CRDT_TIME_NONE);
}

/* A province node made the root of its tree, with the health flag (holding the health key)
 * or without it (then it holds no pseudonym key, as a district enrolled without it);
 * reopened with its certificate. */
static int root_setup(void **state, int health)
{
    if (test_province_setup(state)) return -1;
    test_node *f = *state;
    if (tv_enroll_make_root(&f->n, health, NULL)) return -1;
    tv_node_close(&f->n);
    return tv_node_open(&f->n, f->dir, TV_NODE_WRITE) ? -1 : 0;
}

static int health_setup(void **state)
{
    return root_setup(state, 1);
}

static int plain_root_setup(void **state)
{
    return root_setup(state, 0);
}

static void test_person_ref(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    uint8_t a[TV_PERSON_REF_BYTES], b[TV_PERSON_REF_BYTES];
    tv_why w;
    assert_int_equal(tv_health_person_ref(n, NULL, "00112233445566778899AABBCCDDEEFF", a, &w), 0);
    assert_int_equal(a[0], 0x00);
    assert_int_equal(a[15], 0xff);
    refused(tv_health_person_ref(n, NULL, "0011", a, &w), TV_EINVAL, &w, "ref_invalid",
            "'0011' is not a pseudonym (32 hex digits).",
            "'0011' không phải là mã định danh ẩn danh (32 ký tự hex).");
    refused(
        tv_health_person_ref(n, NULL, "zz112233445566778899aabbccddeeff", a, &w), TV_EINVAL, &w,
        "ref_invalid", "'zz112233445566778899aabbccddeeff' is not a pseudonym (32 hex digits).",
        "'zz112233445566778899aabbccddeeff' không phải là mã định danh ẩn danh (32 ký tự hex).");
    refused(tv_health_person_ref(n, "abc", NULL, a, &w), TV_EINVAL, &w, "person_invalid",
            "'abc' cannot be read as a person: it should contain only digits (a phone number or "
            "an ID number).",
            "Không đọc được 'abc' là thông tin của một người: chỉ được có chữ số (số điện thoại "
            "hoặc số giấy tờ).");
    /* a number: the same person twice, another person otherwise */
    assert_int_equal(tv_health_person_ref(n, "0901000000", NULL, a, &w), 0);
    assert_int_equal(tv_health_person_ref(n, "0901000000", NULL, b, &w), 0);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(tv_health_person_ref(n, "0901000001", NULL, b, &w), 0);
    assert_memory_not_equal(a, b, sizeof a);
    /* a locked node cannot compute it */
    n->unlocked = 0;
    refused(tv_health_person_ref(n, "0901000000", NULL, b, &w), TV_ELOCKED, &w, "locked",
            "cannot compute the person's pseudonym",
            "không tính được mã định danh ẩn danh của người này");
    n->unlocked = 1;
}

static void test_no_pseudonym_key(void **state)
{
    test_node *f = *state;
    uint8_t a[TV_PERSON_REF_BYTES];
    tv_why w;
    refused(tv_health_person_ref(&f->n, "0901000000", NULL, a, &w), TV_EPERM, &w,
            "no_pseudonym_key",
            "this node holds no pseudonym key, so it cannot compute anyone's pseudonym: a "
            "district without the health flag can neither resolve --person nor issue personal "
            "cards (the health authority can). Give --ref HEX to name a pseudonym.",
            "Máy này không giữ khoá tạo mã định danh ẩn danh nên không tính được mã của ai; hãy "
            "nhập mã định danh ẩn danh (32 ký tự hex).");
    assert_int_equal(tv_health_person_ref(&f->n, NULL, "00112233445566778899aabbccddeeff", a, &w),
                     0);
}

static int risk_parse(tv_risk_input in, crdt_risk *r, tv_why *w)
{
    return tv_risk_input_parse(&in, T0, r, w);
}

static void test_risk_input(void **state)
{
    (void)state;
    crdt_risk r;
    tv_why w;
    const char *missing_vi = "Hãy nhập đơn vị, mức nguy cơ và ngày bắt đầu áp dụng.";
    refused(risk_parse((tv_risk_input){.unit = "56", .level = "2"}, &r, &w), TV_EINVAL, &w,
            "field_missing", "give --unit, --level and --from.", missing_vi);
    refused(risk_parse((tv_risk_input){.level = "2", .from = "today"}, &r, &w), TV_EINVAL, &w,
            "field_missing", "give --unit, --level and --from.", missing_vi);
    refused(risk_parse((tv_risk_input){.unit = "56", .from = "today"}, &r, &w), TV_EINVAL, &w,
            "field_missing", "give --unit, --level and --from.", missing_vi);
    refused(risk_parse((tv_risk_input){.unit = "5/6", .level = "2", .from = "today"}, &r, &w),
            TV_EINVAL, &w, "unit_invalid",
            "'5/6' is not a unit code (a village is <commune>.<village>).",
            "'5/6' không phải là mã đơn vị hợp lệ (thôn, tổ dân phố ghi là <mã xã>.<mã thôn>).");
    refused(risk_parse((tv_risk_input){.unit = "56", .level = "5", .from = "today"}, &r, &w),
            TV_EINVAL, &w, "level_invalid", "--level is 1, 2, 3 or 4, not '5'.",
            "Mức nguy cơ là 1, 2, 3 hoặc 4, không phải '5'.");
    refused(risk_parse((tv_risk_input){.unit = "56", .level = "22", .from = "today"}, &r, &w),
            TV_EINVAL, &w, "level_invalid", "--level is 1, 2, 3 or 4, not '22'.",
            "Mức nguy cơ là 1, 2, 3 hoặc 4, không phải '22'.");
    refused(risk_parse((tv_risk_input){.unit = "56", .level = "0", .from = "today"}, &r, &w),
            TV_EINVAL, &w, "level_invalid", "--level is 1, 2, 3 or 4, not '0'.",
            "Mức nguy cơ là 1, 2, 3 hoặc 4, không phải '0'.");
    refused(risk_parse(
                (tv_risk_input){.unit = "56", .level = "2", .from = "today", .note = "a\x1b[2Jb"},
                &r, &w),
            TV_EINVAL, &w, "text_control", "the note holds a control character (U+001B).",
            "Ghi chú chứa một ký tự điều khiển (U+001B), không in ra được; hãy xoá ký tự đó rồi "
            "nhập lại.");
    refused(
        risk_parse((tv_risk_input){.unit = "56", .level = "2", .from = "today", .note = "\xff\xfe"},
                   &r, &w),
        TV_EINVAL, &w, "text_utf8", "the note is not valid UTF-8 text.",
        "Ghi chú không phải là văn bản UTF-8 hợp lệ; hãy gõ lại bằng bàn phím tiếng Việt.");
    refused(
        risk_parse((tv_risk_input){.unit = "56", .level = "2", .from = "2021-10-06 08:00"}, &r, &w),
        TV_EINVAL, &w, "time_invalid",
        "--from takes 'today', a date or a time with its offset (before 2200), not "
        "'2021-10-06 08:00'.",
        "Ngày bắt đầu áp dụng phải là 'today' (hôm nay), một ngày như 2021-10-06 hoặc một "
        "thời điểm kèm múi giờ như 2021-10-06T08:00:00+07:00 (trước năm 2200), không phải "
        "'2021-10-06 08:00'.");

    assert_int_equal(risk_parse((tv_risk_input){.unit = "22333.03",
                                                .level = "4",
                                                .from = "2021-10-06",
                                                .note = "Giãn cách"},
                                &r, &w),
                     0);
    assert_int_equal(r.level, 4);
    assert_true(r.from_ms == DAY0);
    assert_int_equal(r.unit.n, 8);
    assert_memory_equal(r.unit.p, "22333.03", 8);
    assert_int_equal(r.note.n, strlen("Giãn cách"));
    assert_int_equal(
        risk_parse((tv_risk_input){.unit = "56", .level = "1", .from = "today"}, &r, &w), 0);
    assert_int_equal(r.note.n, 0);
}

static void test_unit_known(void **state)
{
    test_node *f = *state;
    tv_why w;
    assert_int_equal(tv_unit_known_check(&f->n, "56", &w), 0);
    assert_int_equal(tv_unit_known_check(&f->n, "22333", &w), 0);
    assert_int_equal(tv_unit_known_check(&f->n, "22333.03", &w), 0); /* a village of a commune */
    assert_int_equal(tv_unit_known_check(NULL, "22333", &w), 0);
    refused(tv_unit_known_check(&f->n, "99999", &w), TV_EINVAL, &w, "unit_unknown",
            "unit 99999 is not in the official list of units nor among the units this node "
            "knows. The nearest codes are 32248 Xã Đất Mũi, 32244 Xã Phan Ngọc Hiển, 32236 Xã "
            "Tân Ân.",
            "Mã đơn vị 99999 không có trong danh mục đơn vị hành chính, và máy này cũng không biết "
            "đơn vị nào mang mã đó. Các mã gần nhất: 32248 Xã Đất Mũi, 32244 Xã Phan Ngọc Hiển, "
            "32236 Xã Tân Ân.");
    refused(tv_unit_known_check(NULL, "99999.1", &w), TV_EINVAL, &w, "unit_unknown",
            "unit 99999.1 is not in the official list of units. The nearest codes are 32248 Xã "
            "Đất Mũi, 32244 Xã Phan Ngọc Hiển, 32236 Xã Tân Ân.",
            "Mã đơn vị 99999.1 không có trong danh mục đơn vị hành chính, và máy này cũng không "
            "biết đơn vị nào mang mã đó. Các mã gần nhất: 32248 Xã Đất Mũi, 32244 Xã Phan Ngọc "
            "Hiển, 32236 Xã Tân Ân.");
}

static void test_refused(void **state)
{
    (void)state;
    tv_why w;
    refused(tv_health_refused(TV_EPERM, "risk levels", "mức nguy cơ", "56", &w), TV_EPERM, &w,
            "not_health",
            "this node cannot set risk levels: only a node whose certificate carries the health "
            "flag (the province's) may, and peers would refuse it.",
            "Máy này không được đặt mức nguy cơ: chỉ máy có chứng chỉ mang cờ y tế (của tỉnh) mới "
            "được đặt, các máy khác sẽ từ chối.");
    refused(tv_health_refused(TV_ESCOPE, "case statuses", "tình trạng ca bệnh", "79", &w), TV_EPERM,
            &w, "unit_out_of_scope",
            "unit 79 is outside this node's scope: peers would refuse case statuses for it.",
            "Đơn vị 79 nằm ngoài phạm vi của máy này: các máy khác sẽ từ chối tình trạng ca bệnh "
            "của đơn vị đó.");
    assert_int_equal(tv_health_refused(TV_ENOSPC, "risk levels", "mức nguy cơ", "56", &w),
                     TV_ENOSPC);
    assert_string_equal(w.code, "store");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_when),
        cmocka_unit_test(test_case_input),
        cmocka_unit_test_setup_teardown(test_person_ref, health_setup, test_node_teardown),
        cmocka_unit_test_setup_teardown(test_no_pseudonym_key, plain_root_setup,
                                        test_node_teardown),
        cmocka_unit_test(test_risk_input),
        cmocka_unit_test_setup_teardown(test_unit_known, test_commune_setup, test_node_teardown),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
