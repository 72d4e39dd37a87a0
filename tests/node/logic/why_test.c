/* Tests of the refusals of what people type (node/logic/why.c, venue_input.c,
 * scan_input.c), over real nodes: for each code, its return value and the exact English
 * (as the command line prints it) and Vietnamese sentences, and that nothing was written
 * to the store when a registration or a change was refused. */
#include "crdt/error.h"
#include "node/format/payload.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/logic/record.h"
#include "node/logic/scan_input.h"
#include "node/logic/venue.h"
#include "node/logic/venue_input.h"
#include "node/logic/why.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

typedef test_node fixture;

static int district_setup(void **state)
{
    return test_node_setup(state, TV_ROLE_DISTRICT, "223", "huyen");
}

/* Checks a refusal: its return value, code and both sentences. */
static void refused(int rc, int want, const tv_why *w, const char *code, const char *en,
                    const char *vi)
{
    assert_int_equal(rc, want);
    assert_string_equal(w->code, code);
    assert_string_equal(w->en, en);
    assert_string_equal(w->vi, vi);
}

/* What the store holds: events and batches. */
static uint64_t held(tv_node *n)
{
    store_counts c = test_counts(n);
    assert_true(c.events != UINT64_MAX);
    return c.events * 1000003 + c.batches;
}

/* A registration as the command line and the console make it: the fields, this node, a
 * venue registered already, then the record. Returns 0 with the id in id, or the refusal. */
static int add(tv_node *n, const tv_venue_input *given, uint8_t id[TV_VENUE_ID_BYTES], tv_why *why)
{
    tv_venue_input in = *given;
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    store_venue found;
    int rc;
    if ((rc = tv_venue_input_new(&in, &v, phone, why)) == 0 &&
        (rc = tv_venue_require_commune(n, why)) == 0 &&
        (rc = tv_venue_duplicate_check(n, &v, &found, why)) == 0 &&
        (rc = tv_venue_register(n, &v)) == 0)
        memcpy(id, v.venue, TV_VENUE_ID_BYTES);
    tv_venue_input_free(&in);
    return rc;
}

/* A registration refused with code, en and vi, the store unchanged. */
static void add_refused(tv_node *n, const tv_venue_input *in, int want, const char *code,
                        const char *en, const char *vi)
{
    uint64_t before = held(n);
    uint8_t id[TV_VENUE_ID_BYTES];
    tv_why why;
    refused(add(n, in, id, &why), want, &why, code, en, vi);
    assert_true(held(n) == before);
}

static void test_venue_fields(void **state)
{
    fixture *f = *state;
    char long_name[CRDT_TEXT_BYTES_MAX + 2];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';

    add_refused(&f->n, &(tv_venue_input){.name = "Quán"}, TV_EINVAL, "field_missing",
                "venue add needs at least --name and --category.",
                "Địa điểm mới cần có tên và loại địa điểm; hãy điền cả hai.");
    add_refused(&f->n, &(tv_venue_input){.category = "market"}, TV_EINVAL, "field_missing",
                "venue add needs at least --name and --category.",
                "Địa điểm mới cần có tên và loại địa điểm; hãy điền cả hai.");
    add_refused(&f->n, &(tv_venue_input){.name = "", .category = "market"}, TV_EINVAL, "text_empty",
                "the venue name is empty.", "Tên địa điểm đang để trống; hãy nhập tên địa điểm.");
    add_refused(&f->n, &(tv_venue_input){.name = "Ch\x1b[2Jợ", .category = "market"}, TV_EINVAL,
                "text_control", "the venue name holds a control character (U+001B).",
                "Tên địa điểm chứa một ký tự điều khiển (U+001B), không in ra được; hãy xoá ký "
                "tự đó rồi nhập lại.");
    add_refused(&f->n, &(tv_venue_input){.name = "Ch\xc2\x9bợ", .category = "market"}, TV_EINVAL,
                "text_control", "the venue name holds a control character (U+009B).",
                "Tên địa điểm chứa một ký tự điều khiển (U+009B), không in ra được; hãy xoá ký "
                "tự đó rồi nhập lại.");
    add_refused(&f->n, &(tv_venue_input){.name = long_name, .category = "market"}, TV_EINVAL,
                "text_too_long", "the venue name is too long (at most 255 bytes).",
                "Tên địa điểm quá dài (tối đa 255 byte); hãy viết ngắn lại.");
    add_refused(&f->n,
                &(tv_venue_input){.name = "ab\xff"
                                          "cd",
                                  .category = "market"},
                TV_EINVAL, "text_utf8", "the venue name is not valid UTF-8 text.",
                "Tên địa điểm không phải là văn bản UTF-8 hợp lệ; hãy gõ lại bằng bàn phím "
                "tiếng Việt.");
    add_refused(&f->n, &(tv_venue_input){.name = "Quán", .category = "nosuch"}, TV_EINVAL,
                "category_unknown",
                "'nosuch' is not a venue category; 'truyvet venue categories' lists them.",
                "'nosuch' không phải là một loại địa điểm; hãy chọn một loại trong danh sách.");
    add_refused(&f->n, &(tv_venue_input){.name = "Quán", .category = "market", .village = "Tổ\t3"},
                TV_EINVAL, "text_control", "the village holds a control character (U+0009).",
                "Thôn, tổ dân phố chứa một ký tự điều khiển (U+0009), không in ra được; hãy xoá "
                "ký tự đó rồi nhập lại.");
    add_refused(
        &f->n, &(tv_venue_input){.name = "Quán", .category = "market", .owner_phone = "12345"},
        TV_EINVAL, "phone_invalid", "'12345' is not a phone number (10 digits starting with 0).",
        "'12345' không phải là số điện thoại (10 chữ số, bắt đầu bằng 0).");
    add_refused(
        &f->n,
        &(tv_venue_input){.name = "Quán", .category = "market", .owner_phone = "012345678901"},
        TV_EINVAL, "phone_invalid",
        "'012345678901' is not a phone number (10 digits starting with 0).",
        "'012345678901' không phải là số điện thoại (10 chữ số, bắt đầu bằng 0).");
    add_refused(&f->n, &(tv_venue_input){.name = "Quán", .category = "market", .closes = "25:00"},
                TV_EINVAL, "closes_invalid",
                "'25:00' is not a closing time: give HH:MM from 00:00 to 23:59 (e.g. 22:00), or "
                "none.",
                "'25:00' không phải là giờ đóng cửa: hãy ghi giờ:phút từ 00:00 đến 23:59 (ví dụ "
                "22:00), hoặc bỏ trống nếu địa điểm không có giờ đóng cửa.");
    tv_venue_list l;
    assert_int_equal(tv_venue_list_get(&f->n, NULL, &l), 0);
    assert_int_equal(l.n, 0);
    tv_venue_list_free(&l);
}

/* Text typed with combining marks (NFD) is stored composed (NFC), as typed composed; the
 * phone is stored in its normal form; the category found by its Vietnamese name. */
static void test_venue_fields_taken(void **state)
{
    fixture *f = *state;
    const char *nfd = "Cho\xcc\x9b\xcc\xa3 Vi\xcc\x83nh Ha\xcc\x89i", *nfc = "Chợ Vĩnh Hải";
    tv_venue_input in = {.name = nfd,
                         .category = "Nha\xcc\x80 ha\xcc\x80ng", /* Nhà hàng, NFD */
                         .village = "To\xcc\x82\xcc\x89 3",
                         .owner_phone = "+84912345678",
                         .closes = "22:00"};
    crdt_venue_upsert v = {0};
    char phone[TV_PERSON_NORM_MAX];
    tv_why why;
    assert_int_equal(tv_venue_input_parse(&in, &v, phone, &why), 0);
    assert_int_equal(v.fields, CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY | CRDT_VENUE_F_VILLAGE |
                                   CRDT_VENUE_F_OWNER_PHONE | CRDT_VENUE_F_CLOSES);
    assert_int_equal(v.name.n, strlen(nfc));
    assert_memory_equal(v.name.p, nfc, strlen(nfc));
    assert_int_equal(v.village.n, strlen("Tổ 3"));
    assert_memory_equal(v.village.p, "Tổ 3", strlen("Tổ 3"));
    assert_int_equal(v.category, tv_venue_category_parse("restaurant")->code);
    assert_int_equal(v.owner_phone.n, 10);
    assert_memory_equal(v.owner_phone.p, "0912345678", 10);
    assert_int_equal(v.closes, 22 * 60 + 1);
    assert_int_equal(tv_venue_register(&f->n, &v), 0);
    tv_venue_input_free(&in);
    assert_null(in.kept[0]);

    /* a change names at least one field; "none" removes the closing time */
    crdt_venue_upsert e = {0};
    tv_venue_input none = {0};
    refused(tv_venue_input_edit(&none, &e, phone, &why), TV_EINVAL, &why, "field_missing",
            "say what to change: --name, --category, --village, --owner-phone or --closes.",
            "Hãy nhập ít nhất một thông tin cần thay đổi: tên, loại địa điểm, thôn, tổ dân phố, "
            "số điện thoại chủ địa điểm hoặc giờ đóng cửa.");
    none.closes = "none";
    assert_int_equal(tv_venue_input_edit(&none, &e, phone, &why), 0);
    assert_int_equal(e.fields, CRDT_VENUE_F_CLOSES);
    assert_int_equal(e.closes, CRDT_CLOSES_NONE);
    /* a new venue has no closing time to remove: "none" is no field */
    crdt_venue_upsert n = {0};
    tv_venue_input fresh = {.name = "Quán", .category = "cafe", .closes = "none"};
    assert_int_equal(tv_venue_input_new(&fresh, &n, phone, &why), 0);
    assert_int_equal(n.fields, CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY);
    tv_venue_input_free(&fresh);
    store_venue sv;
    char hex[2 * TV_VENUE_ID_BYTES + 1];
    tv_hex_encode(hex, v.venue, sizeof v.venue);
    assert_int_equal(tv_venue_find(&f->n, hex, &sv, &why), 0);
    assert_string_equal(sv.name, nfc);
}

static void test_venue_duplicate(void **state)
{
    fixture *f = *state;
    uint8_t id[TV_VENUE_ID_BYTES];
    tv_why why;
    assert_int_equal(
        add(&f->n,
            &(tv_venue_input){.name = "Chợ Vĩnh Hải", .category = "market", .village = "Tổ 3"}, id,
            &why),
        0);
    char hex[2 * TV_VENUE_ID_BYTES + 1], code[TV_SHORT_CODE_STR], en[512], vi[512];
    tv_hex_encode(hex, id, sizeof id);
    tv_short_code(code, id);
    snprintf(en, sizeof en,
             "địa điểm này đã được đăng ký: %s (mã %s) \"Chợ Vĩnh Hải\", Tổ 3, Chợ. Không đăng "
             "ký lại. Nếu đây là một địa điểm khác, thêm --force để vẫn đăng ký.",
             hex, code);
    snprintf(vi, sizeof vi,
             "Địa điểm này đã được đăng ký: %s (mã %s) \"Chợ Vĩnh Hải\", Tổ 3, Chợ. Không đăng "
             "ký lại. Nếu đây là một địa điểm khác, chọn 'vẫn đăng ký'.",
             hex, code);
    /* case, marks and spaces aside; the NFD spelling too */
    add_refused(&f->n,
                &(tv_venue_input){.name = "  CHO vinh hai ", .category = "cho", .village = "TO  3"},
                TV_EEXIST, "venue_duplicate", en, vi);
    add_refused(&f->n,
                &(tv_venue_input){.name = "Cho\xcc\x9b\xcc\xa3 Vi\xcc\x83nh Ha\xcc\x89i",
                                  .category = "market",
                                  .village = "Tổ 3"},
                TV_EEXIST, "venue_duplicate", en, vi);
    /* another village is another venue */
    assert_int_equal(
        add(&f->n,
            &(tv_venue_input){.name = "Chợ Vĩnh Hải", .category = "market", .village = "Tổ 4"}, id,
            &why),
        0);
}

/* Registers the market "Chợ" of the node's commune: its id into id, in hex into hex. */
static void market(tv_node *n, uint8_t id[TV_VENUE_ID_BYTES], char hex[2 * TV_VENUE_ID_BYTES + 1])
{
    tv_why why;
    assert_int_equal(add(n, &(tv_venue_input){.name = "Chợ", .category = "market"}, id, &why), 0);
    tv_hex_encode(hex, id, TV_VENUE_ID_BYTES);
}

/* Reinstating a venue that is not suspended, removing a phone that is no controller. */
static void test_venue_state(void **state)
{
    fixture *f = *state;
    uint8_t id[TV_VENUE_ID_BYTES];
    tv_why why;
    char hex[2 * TV_VENUE_ID_BYTES + 1], en[512], vi[512];
    market(&f->n, id, hex);
    store_venue sv;
    store_venue_status st;
    assert_int_equal(tv_venue_own(&f->n, hex, &sv, &why), 0);
    assert_int_equal(tv_venue_remind(&f->n, id, CRDT_REMIND, NULL), 0);
    assert_int_equal(tv_venue_status_get(&f->n, id, &st), 0);
    snprintf(en, sizeof en,
             "venue %s (Chợ) is not suspended (1 reminder since its last scan or reinstatement); "
             "there is nothing to reinstate.",
             hex);
    snprintf(vi, sizeof vi,
             "Địa điểm %s (Chợ) không bị tạm dừng (1 lần nhắc nhở kể từ lần quét hay lần cho hoạt "
             "động lại gần nhất); không có gì để cho hoạt động lại.",
             hex);
    refused(tv_venue_reinstate_check(&sv, hex, &st, &why), TV_EEXIST, &why, "venue_not_suspended",
            en, vi);
    assert_int_equal(tv_venue_remind(&f->n, id, CRDT_REMIND, NULL), 0);
    assert_int_equal(tv_venue_remind(&f->n, id, CRDT_REMIND, NULL), 0);
    assert_int_equal(tv_venue_status_get(&f->n, id, &st), 0);
    assert_int_equal(tv_venue_reinstate_check(&sv, hex, &st, &why), 0); /* suspended now */

    uint8_t tag[CRDT_TAG_BYTES];
    uint32_t ntags = 7;
    assert_int_equal(tv_venue_controller_tags(&f->n, id, "0912345678", tag, 1, &ntags), 0);
    snprintf(en, sizeof en,
             "0912345678 is not a controller of venue %s (Chợ); 'truyvet venue controller list "
             "%s' shows them.",
             hex, hex);
    snprintf(vi, sizeof vi,
             "0912345678 không phải là người quét của địa điểm %s (Chợ); danh sách người quét "
             "của địa điểm cho biết những số đã được ghi.",
             hex);
    refused(tv_venue_controller_held(&sv, hex, "0912345678", ntags, &why), TV_ENOTFOUND, &why,
            "controller_unknown", en, vi);
    assert_int_equal(tv_venue_controller_add(&f->n, id, "0912345678"), 0);
    assert_int_equal(tv_venue_controller_tags(&f->n, id, "0912345678", tag, 1, &ntags), 0);
    assert_int_equal(tv_venue_controller_held(&sv, hex, "0912345678", ntags, &why), 0);
}

static void test_controller_phone(void **state)
{
    (void)state;
    tv_person_id pid;
    tv_why why;
    assert_int_equal(tv_venue_controller_phone("+84 912 345 678", &pid, &why), 0);
    assert_string_equal(pid.norm, "0912345678");
    refused(tv_venue_controller_phone("09ab", &pid, &why), TV_EINVAL, &why, "phone_invalid",
            "'09ab' is not a phone number: it should contain only digits (a phone number or an "
            "ID number)",
            "'09ab' không phải là số điện thoại: chỉ được có chữ số (số điện thoại hoặc số giấy "
            "tờ).");
    refused(tv_venue_controller_phone("123456789012", &pid, &why), TV_EINVAL, &why, "phone_is_id",
            "'123456789012' is an ID number, not a phone number; a controller is a staff "
            "member's phone (10 digits starting with 0).",
            "'123456789012' là số giấy tờ tùy thân, không phải số điện thoại; người quét thay "
            "địa điểm được ghi bằng số điện thoại của nhân viên (10 chữ số, bắt đầu bằng 0).");
}

/* Registers venues until two share the first 4 digits of their ids; that prefix into p. */
static void two_alike(tv_node *n, char p[5])
{
    char seen[2000][5];
    for (int i = 0; i < 2000; i++) {
        char name[32], hex[2 * TV_VENUE_ID_BYTES + 1];
        snprintf(name, sizeof name, "Quán %d", i);
        uint8_t id[TV_VENUE_ID_BYTES];
        tv_why why;
        assert_int_equal(add(n, &(tv_venue_input){.name = name, .category = "cafe"}, id, &why), 0);
        tv_hex_encode(hex, id, sizeof id);
        snprintf(seen[i], 5, "%.4s", hex);
        for (int k = 0; k < i; k++)
            if (strcmp(seen[k], seen[i]) == 0) {
                memcpy(p, seen[i], 5);
                return;
            }
    }
    fail_msg("no two of 2000 venue ids share their first 4 digits");
}

static void test_venue_find(void **state)
{
    fixture *f = *state;
    uint8_t id[TV_VENUE_ID_BYTES];
    tv_why why;
    store_venue sv;
    char hex[2 * TV_VENUE_ID_BYTES + 1], code[TV_SHORT_CODE_STR];
    market(&f->n, id, hex);
    tv_short_code(code, id);
    assert_int_equal(tv_venue_find(&f->n, hex, &sv, &why), 0);
    assert_int_equal(tv_venue_find(&f->n, code, &sv, &why), 0);
    assert_memory_equal(sv.id, id, sizeof id);

    refused(tv_venue_find(&f->n, "nosuch", &sv, &why), TV_EINVAL, &why, "venue_malformed",
            "'nosuch' is not a venue id: it should contain only the digits 0-9 and letters a-f. "
            "'truyvet venue list' shows the ids.",
            "'nosuch' không phải là mã địa điểm: mã chỉ gồm các chữ số 0-9 và các chữ cái a-f. "
            "Danh sách địa điểm cho biết mã của từng nơi.");
    refused(tv_venue_find(&f->n, "abc", &sv, &why), TV_EINVAL, &why, "venue_malformed",
            "'abc' is not a venue id: a venue id has 16 hex digits (at least the first 4 are "
            "needed). 'truyvet venue list' shows them.",
            "'abc' không phải là mã địa điểm: mã địa điểm có 16 chữ số hệ 16 (cần ít nhất 4 chữ "
            "số đầu). Danh sách địa điểm cho biết mã của từng nơi.");
    refused(tv_venue_find(&f->n, "ABCD-EFGH", &sv, &why), TV_EINVAL, &why, "venue_malformed",
            "'ABCD-EFGH' is not a venue's short code: a short code has 9 characters.",
            "'ABCD-EFGH' không phải là mã ngắn của một địa điểm: mã ngắn có 9 ký tự.");
    refused(tv_venue_find(&f->n, "ABCD-EFGH-J", &sv, &why), TV_EINVAL, &why, "venue_malformed",
            "'ABCD-EFGH-J' is not a venue's short code: the check character does not match: a "
            "character is mistyped.",
            "'ABCD-EFGH-J' không phải là mã ngắn của một địa điểm: ký tự kiểm tra không khớp: có "
            "một ký tự bị gõ sai.");
    char other[2 * TV_VENUE_ID_BYTES + 1], en[256], vi[256];
    snprintf(other, sizeof other, "%s", hex);
    other[0] = other[0] == '0' ? '1' : '0'; /* the one venue held starts otherwise */
    snprintf(en, sizeof en,
             "no venue %s on this node. 'truyvet venue list' shows the venues, their ids and "
             "short codes.",
             other);
    snprintf(vi, sizeof vi,
             "Không có địa điểm %s trên máy này. Danh sách địa điểm cho biết mã và mã ngắn của "
             "từng nơi.",
             other);
    refused(tv_venue_find(&f->n, other, &sv, &why), TV_ENOTFOUND, &why, "venue_unknown", en, vi);

    char p[5];
    two_alike(&f->n, p);
    snprintf(en, sizeof en, "2 venues match %s; give more digits of the id.", p);
    snprintf(vi, sizeof vi, "Có 2 địa điểm khớp với %s; hãy nhập thêm chữ số của mã.", p);
    refused(tv_venue_find(&f->n, p, &sv, &why), TV_EINVAL, &why, "venue_ambiguous", en, vi);
}

/* A venue of another unit: this node's unit is set to another commune's for the check
 * (the venue's registration names unit 22333), then set back. */
static void test_venue_not_own(void **state)
{
    fixture *f = *state;
    uint8_t id[TV_VENUE_ID_BYTES];
    tv_why why;
    char hex[2 * TV_VENUE_ID_BYTES + 1], en[256], vi[256];
    market(&f->n, id, hex);
    store_venue sv;
    assert_int_equal(tv_venue_own(&f->n, hex, &sv, &why), 0);
    tv_venue_payload p;
    assert_int_equal(tv_venue_payload_own(&f->n, hex, &sv, &p, &why), 0);

    uint64_t before = held(&f->n);
    strcpy(f->n.unit, "22366");
    snprintf(en, sizeof en,
             "venue %s belongs to unit 22333; only that commune's node may change it.", hex);
    snprintf(vi, sizeof vi,
             "Địa điểm %s thuộc đơn vị 22333; chỉ máy của xã đó mới được thay đổi địa điểm này.",
             hex);
    refused(tv_venue_own(&f->n, hex, &sv, &why), TV_EPERM, &why, "venue_not_own", en, vi);
    snprintf(en, sizeof en,
             "venue %s is registered in unit 22333; only that commune's node signs its code.", hex);
    snprintf(vi, sizeof vi,
             "Địa điểm %s được đăng ký tại đơn vị 22333; chỉ máy của xã đó mới ký được mã QR của "
             "địa điểm.",
             hex);
    refused(tv_venue_payload_own(&f->n, hex, &sv, &p, &why), TV_EPERM, &why, "venue_not_own", en,
            vi);
    snprintf(en, sizeof en, "venue %s is in unit 22333, not in this node's unit 22366.", hex);
    snprintf(vi, sizeof vi, "Địa điểm %s thuộc đơn vị 22333, không thuộc đơn vị 22366 của máy này.",
             hex);
    refused(tv_scan_venue_check(&f->n, &sv, hex, &why), TV_EPERM, &why, "venue_not_own", en, vi);
    strcpy(f->n.unit, "22333");
    assert_true(held(&f->n) == before);
    assert_int_equal(tv_scan_venue_check(&f->n, &sv, hex, &why), 0);
}

static void test_not_commune(void **state)
{
    fixture *f = *state;
    uint64_t before = held(&f->n);
    tv_why why;
    add_refused(&f->n, &(tv_venue_input){.name = "Chợ", .category = "market"}, TV_EPERM,
                "not_commune",
                "venues are registered at commune nodes; this is a district node (unit 223).",
                "Địa điểm chỉ được đăng ký và thay đổi tại máy của xã; máy này là máy của đơn vị "
                "223 (cấp huyện).");
    store_venue sv = {0};
    refused(tv_venue_own(&f->n, "abcd", &sv, &why), TV_EPERM, &why, "not_commune",
            "venues are registered at commune nodes; this is a district node (unit 223).",
            "Địa điểm chỉ được đăng ký và thay đổi tại máy của xã; máy này là máy của đơn vị 223 "
            "(cấp huyện).");
    refused(tv_scan_node_check(&f->n, &why), TV_EPERM, &why, "not_commune",
            "scans are recorded at commune nodes; this is a district node.",
            "Lượt quét chỉ được ghi tại máy của xã; máy này là máy cấp huyện.");
    refused(tv_scan_venue_check(&f->n, &sv, "abcd", &why), TV_EPERM, &why, "not_commune",
            "scans are recorded at commune nodes; this is a district node.",
            "Lượt quét chỉ được ghi tại máy của xã; máy này là máy cấp huyện.");
    assert_true(held(&f->n) == before);
}

static int is_zero(const void *p, size_t n)
{
    const unsigned char *u = p;
    for (size_t i = 0; i < n; i++)
        if (u[i]) return 0;
    return 1;
}

static void test_scan_input(void **state)
{
    fixture *f = *state;
    uint64_t before = held(&f->n);
    int64_t now, at;
    assert_int_equal(tv_time_parse("2021-10-06T08:00:00+07:00", &now), 0);
    tv_card card;
    tv_why why;

    assert_int_equal(tv_scan_input_parse("0912345678", NULL, NULL, now, &card, &at, &why), 0);
    assert_int_equal(at, 0);
    assert_int_equal(
        tv_scan_input_parse("0912345678", "06/10/2021 08:10", "Cổng 1", now, &card, &at, &why), 0);
    assert_int_equal(at, now + TV_SCAN_FUTURE_SKEW_MS); /* the last time allowed */

    refused(tv_scan_input_parse("", NULL, NULL, now, &card, &at, &why), TV_EINVAL, &why,
            "person_invalid", "không đọc được mã '' (dòng trống).",
            "Không đọc được mã '' (dòng trống).");
    refused(tv_scan_input_parse("Ch\x1b[2Jợ", NULL, NULL, now, &card, &at, &why), TV_EINVAL, &why,
            "person_invalid",
            "không đọc được mã 'Ch\\x1b[2Jợ' (chỉ được có chữ số (số điện thoại hoặc số giấy "
            "tờ)).",
            "Không đọc được mã 'Ch\\x1b[2Jợ' (chỉ được có chữ số (số điện thoại hoặc số giấy "
            "tờ)).");
    refused(tv_scan_input_parse("0912345678", "notatime", NULL, now, &card, &at, &why), TV_EINVAL,
            &why, "time_invalid",
            "'notatime' is not a time before 2200; write it like 2021-10-06T08:30:00+07:00 or "
            "06/10/2021 08:30 (Vietnam time).",
            "'notatime' không phải là một thời điểm hợp lệ (trước năm 2200); hãy ghi như "
            "06/10/2021 08:30 (giờ Việt Nam) hoặc 2021-10-06T08:30:00+07:00.");
    assert_true(is_zero(&card, sizeof card)); /* the person read is not left behind */
    refused(
        tv_scan_input_parse("0912345678", "2021-10-06T08:10:01+07:00", NULL, now, &card, &at, &why),
        TV_EINVAL, &why, "time_future",
        "--at 2021-10-06T08:10:01+07:00 is in the future: this node's clock says "
        "2021-10-06T08:00:00+07:00. A scan may be at most 10 minutes ahead of it; check the "
        "date, or the clock.",
        "Thời điểm 2021-10-06T08:10:01+07:00 nằm ở tương lai: đồng hồ của máy này đang là "
        "2021-10-06T08:00:00+07:00. Lượt quét chỉ được sớm hơn đồng hồ của máy tối đa 10 "
        "phút; hãy kiểm tra lại ngày giờ đã nhập, hoặc đồng hồ của máy.");
    refused(tv_scan_input_parse("0912345678", "31/12/2019 23:59", NULL, now, &card, &at, &why),
            TV_EINVAL, &why, "time_too_early",
            "--at 31/12/2019 23:59 is before 2020; check the date.",
            "Thời điểm 31/12/2019 23:59 là trước năm 2020; hãy kiểm tra lại ngày đã nhập.");
    refused(tv_scan_input_parse("0912345678", NULL, "Cổng\x1b", now, &card, &at, &why), TV_EINVAL,
            &why, "text_control", "the device label holds a control character (U+001B).",
            "Tên thiết bị quét chứa một ký tự điều khiển (U+001B), không in ra được; hãy xoá ký "
            "tự đó rồi nhập lại.");
    assert_true(is_zero(&card, sizeof card));
    refused(tv_scan_input_parse("0912345678", NULL,
                                "0123456789012345678901234567890123456789012345678901234567890123",
                                now, &card, &at, &why),
            TV_EINVAL, &why, "text_too_long", "the device label is too long (at most 63 bytes).",
            "Tên thiết bị quét quá dài (tối đa 63 byte); hãy viết ngắn lại.");

    int out = -1;
    assert_int_equal(tv_scan_direction_parse("out", &out, &why), 0);
    assert_int_equal(out, 1);
    assert_int_equal(tv_scan_direction_parse("vào", &out, &why), 0);
    assert_int_equal(out, 0);
    refused(tv_scan_direction_parse("up", &out, &why), TV_EINVAL, &why, "direction_invalid",
            "'up' is not a direction: in or out.",
            "'up' không phải là chiều quét: chọn vào hoặc ra.");
    assert_true(held(&f->n) == before);
}

/* Sentences longer than their room are cut at a whole character; a store error's code. */
static void test_why_set(void **state)
{
    (void)state;
    tv_why why;
    static char big[3 * TV_WHY_TEXT_BYTES];
    size_t n = 0;
    while (n + 3 < sizeof big - 1) { /* "ợ" is 3 bytes: 2047 is not a multiple of it */
        memcpy(big + n, "ợ", 3);
        n += 3;
    }
    big[n] = '\0';
    tv_why_set(&why, "x", "a%s", "%s", big);
    assert_int_equal(strlen(why.en), 1 + 3 * ((TV_WHY_TEXT_BYTES - 2) / 3));
    assert_int_equal(strlen(why.vi), 3 * ((TV_WHY_TEXT_BYTES - 1) / 3));
    assert_int_equal(tv_text_fault(why.en, strlen(why.en), &(uint32_t){0}), 0);
    assert_int_equal(tv_text_fault(why.vi, strlen(why.vi), &(uint32_t){0}), 0);
    assert_int_equal(
        tv_why_store(&why, TV_ENOSPC, "cannot read the venues", "Không đọc được các địa điểm"),
        TV_ENOSPC);
    assert_string_equal(why.code, "store");
    assert_string_equal(tv_why_field_vi("reason"), "Lý do");
    assert_string_equal(tv_why_field_vi("no such field"), "no such field");
    tv_why_set(NULL, "x", "%s", "%s", "nothing kept");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_venue_fields, test_commune_setup, test_node_teardown),
        cmocka_unit_test_setup_teardown(test_venue_fields_taken, test_commune_setup,
                                        test_node_teardown),
        cmocka_unit_test_setup_teardown(test_venue_duplicate, test_commune_setup,
                                        test_node_teardown),
        cmocka_unit_test_setup_teardown(test_venue_find, test_commune_setup, test_node_teardown),
        cmocka_unit_test_setup_teardown(test_venue_not_own, test_commune_setup, test_node_teardown),
        cmocka_unit_test_setup_teardown(test_not_commune, district_setup, test_node_teardown),
        cmocka_unit_test_setup_teardown(test_scan_input, test_commune_setup, test_node_teardown),
        cmocka_unit_test_setup_teardown(test_venue_state, test_commune_setup, test_node_teardown),
        cmocka_unit_test(test_controller_phone),
        cmocka_unit_test(test_why_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
