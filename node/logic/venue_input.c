/* Checking what is typed about a venue (see venue_input.h). */
#include "node/logic/venue_input.h"
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/text.h"
#include "node/logic/category.h"
#include "node/logic/idcard.h"
#include "node/logic/venue.h"

#include <stdlib.h>
#include <string.h>

/* The NFC form of *s, kept in *kept when it differs (see tv_cli_nfc before it). */
static void nfc(const char **s, char **kept)
{
    if (!*s) return;
    char *c = tv_text_nfc(*s);
    if (!c) return; /* not UTF-8: the text check says so */
    if (strcmp(c, *s) == 0) {
        free(c);
        return;
    }
    *kept = c;
    *s = c;
}

void tv_venue_input_free(tv_venue_input *in)
{
    for (size_t i = 0; i < sizeof in->kept / sizeof in->kept[0]; i++) {
        free(in->kept[i]);
        in->kept[i] = NULL;
    }
}

/* The name, checked into v. */
static int name_check(const tv_venue_input *in, crdt_venue_upsert *v, tv_why *why)
{
    int rc;
    if (in->name) {
        if (in->name[0] == '\0') {
            tv_why_set(why, "text_empty", "the venue name is empty.",
                       "Tên địa điểm đang để trống; hãy nhập tên địa điểm.");
            return TV_EINVAL;
        }
        if ((rc = tv_why_text("venue name", in->name, CRDT_TEXT_BYTES_MAX, why))) return rc;
        v->fields |= CRDT_VENUE_F_NAME;
        v->name = (crdt_text){in->name, (uint32_t)strlen(in->name)};
    }
    return 0;
}

int tv_venue_input_parse(tv_venue_input *in, crdt_venue_upsert *v, char phone[TV_PERSON_NORM_MAX],
                         tv_why *why)
{
    int rc;
    nfc(&in->name, &in->kept[0]);
    nfc(&in->category, &in->kept[1]);
    nfc(&in->village, &in->kept[2]);
    if ((rc = name_check(in, v, why))) return rc;
    if (in->category) {
        const tv_category *c = tv_venue_category_parse(in->category);
        if (!c) {
            tv_why_set(why, "category_unknown",
                       "'%s' is not a venue category; 'truyvet venue categories' lists them.",
                       "'%s' không phải là một loại địa điểm; hãy chọn một loại trong danh "
                       "sách.",
                       in->category);
            return TV_EINVAL;
        }
        v->fields |= CRDT_VENUE_F_CATEGORY;
        v->category = c->code;
    }
    if (in->village) {
        if ((rc = tv_why_text("village", in->village, CRDT_TEXT_BYTES_MAX, why))) return rc;
        v->fields |= CRDT_VENUE_F_VILLAGE;
        v->village = (crdt_text){in->village, (uint32_t)strlen(in->village)};
    }
    if (in->owner_phone) {
        tv_person_id pid;
        const char *ignored;
        if (tv_person_parse_typed(in->owner_phone, &pid, &ignored) || pid.kind != TV_ID_PHONE) {
            tv_why_set(
                why, "phone_invalid", "'%s' is not a phone number (10 digits starting with 0).",
                "'%s' không phải là số điện thoại (10 chữ số, bắt đầu bằng 0).", in->owner_phone);
            return TV_EINVAL;
        }
        strcpy(phone, pid.norm);
        v->fields |= CRDT_VENUE_F_OWNER_PHONE;
        v->owner_phone = (crdt_text){phone, (uint32_t)strlen(phone)};
    }
    if (in->closes) {
        if (tv_venue_closes_parse(in->closes, &v->closes)) {
            tv_why_set(why, "closes_invalid",
                       "'%s' is not a closing time: give HH:MM from 00:00 to 23:59 (e.g. "
                       "22:00), or none.",
                       "'%s' không phải là giờ đóng cửa: hãy ghi giờ:phút từ 00:00 đến 23:59 "
                       "(ví dụ 22:00), hoặc bỏ trống nếu địa điểm không có giờ đóng cửa.",
                       in->closes);
            return TV_EINVAL;
        }
        v->fields |= CRDT_VENUE_F_CLOSES;
    }
    return 0;
}

int tv_venue_input_new(tv_venue_input *in, crdt_venue_upsert *v, char phone[TV_PERSON_NORM_MAX],
                       tv_why *why)
{
    if (!in->name || !in->category) {
        tv_why_set(why, "field_missing", "venue add needs at least --name and --category.",
                   "Địa điểm mới cần có tên và loại địa điểm; hãy điền cả hai.");
        return TV_EINVAL;
    }
    int rc = tv_venue_input_parse(in, v, phone, why);
    if (rc == 0 && (v->fields & CRDT_VENUE_F_CLOSES) && v->closes == CRDT_CLOSES_NONE)
        v->fields &= ~(uint32_t)CRDT_VENUE_F_CLOSES; /* a new venue has none anyway */
    return rc;
}

int tv_venue_input_edit(tv_venue_input *in, crdt_venue_upsert *v, char phone[TV_PERSON_NORM_MAX],
                        tv_why *why)
{
    int rc = tv_venue_input_parse(in, v, phone, why);
    if (rc == 0 && v->fields == 0) {
        tv_why_set(why, "field_missing",
                   "say what to change: --name, --category, --village, --owner-phone or "
                   "--closes.",
                   "Hãy nhập ít nhất một thông tin cần thay đổi: tên, loại địa điểm, thôn, tổ "
                   "dân phố, số điện thoại chủ địa điểm hoặc giờ đóng cửa.");
        return TV_EINVAL;
    }
    return rc;
}

int tv_venue_reinstate_check(const store_venue *sv, const char *text, const store_venue_status *st,
                             tv_why *why)
{
    if (st->suspended) return 0;
    tv_why_set(why, "venue_not_suspended",
               "venue %s (%s) is not suspended (%llu reminder%s since its last scan or "
               "reinstatement); there is nothing to reinstate.",
               "Địa điểm %s (%s) không bị tạm dừng (%llu lần nhắc nhở%.0s kể từ lần quét hay lần "
               "cho hoạt động lại gần nhất); không có gì để cho hoạt động lại.",
               text, sv->name, (unsigned long long)st->reminders_active,
               st->reminders_active == 1 ? "" : "s");
    return TV_EEXIST;
}

int tv_venue_controller_held(const store_venue *sv, const char *text, const char *phone,
                             uint32_t ntags, tv_why *why)
{
    if (ntags > 0) return 0;
    tv_why_set(why, "controller_unknown",
               "%s is not a controller of venue %s (%s); 'truyvet venue controller list %s' "
               "shows them.",
               "%s không phải là người quét của địa điểm %s (%s); danh sách người quét của địa "
               "điểm cho biết những số đã được ghi.%.0s",
               phone, text, sv->name, text);
    return TV_ENOTFOUND;
}

int tv_venue_controller_phone(const char *text, tv_person_id *pid, tv_why *why)
{
    const char *w;
    if (tv_person_parse_typed(text, pid, &w)) {
        tv_why_set(why, "phone_invalid", "'%s' is not a phone number: %s%.0s",
                   "'%s' không phải là số điện thoại: %.0s%s.", text, w, tv_card_why_vi(w));
        return TV_EINVAL;
    }
    if (pid->kind != TV_ID_PHONE) {
        tv_why_set(why, "phone_is_id",
                   "'%s' is an ID number, not a phone number; a controller is a staff member's "
                   "phone (10 digits starting with 0).",
                   "'%s' là số giấy tờ tùy thân, không phải số điện thoại; người quét thay địa "
                   "điểm được ghi bằng số điện thoại của nhân viên (10 chữ số, bắt đầu bằng 0).",
                   text);
        return TV_EINVAL;
    }
    return 0;
}

/* --- finding a venue ------------------------------------------------------------------- */

/* The Vietnamese of tv_short_code_parse's sentences. */
static const char *short_code_why_vi(const char *why)
{
    static const char *const vi[][2] = {
        {"a short code has only digits and the letters A-Z but I, L, O and U",
         "mã ngắn chỉ gồm chữ số và các chữ cái A-Z, trừ I, L, O và U"},
        {"a short code has 9 characters", "mã ngắn có 9 ký tự"},
        {"the check character does not match: a character is mistyped",
         "ký tự kiểm tra không khớp: có một ký tự bị gõ sai"},
    };
    for (size_t i = 0; i < sizeof vi / sizeof vi[0]; i++)
        if (strcmp(why, vi[i][0]) == 0) return vi[i][1];
    return why;
}

typedef struct find_ctx {
    const char *prefix;
    size_t len;
    int matches;
    store_venue *out;
} find_ctx;

static int find_prefix(const store_venue *v, void *arg)
{
    find_ctx *c = arg;
    char hex[2 * TV_VENUE_ID_BYTES + 1];
    tv_hex_encode(hex, v->id, TV_VENUE_ID_BYTES);
    if (strncmp(hex, c->prefix, c->len) == 0) {
        if (c->matches++ == 0) *c->out = *v;
    }
    return 0;
}

/* Reads text, an id, a prefix of one or a short code, into lower[] (lower-case hex) and
 * *len. Returns 0 or TV_EINVAL with why set. */
static int find_key(const char *text, char lower[2 * TV_VENUE_ID_BYTES + 1], size_t *len,
                    tv_why *why)
{
    char hexpart[2 * TV_SHORT_CODE_PREFIX_BYTES + 1];
    size_t n = strlen(text);
    if (strchr(text, '-') || (n == 9 && strspn(text, "0123456789abcdefABCDEF") != 9)) {
        /* a poster's short code, XXXX-XXXX-C: the first 40 bits of the id */
        uint8_t prefix[TV_SHORT_CODE_PREFIX_BYTES];
        const char *w;
        if (tv_short_code_parse(text, prefix, &w)) {
            tv_why_set(why, "venue_malformed", "'%s' is not a venue's short code: %s.%.0s",
                       "'%s' không phải là mã ngắn của một địa điểm: %.0s%s.", text, w,
                       short_code_why_vi(w));
            return TV_EINVAL;
        }
        tv_hex_encode(hexpart, prefix, sizeof prefix);
        text = hexpart;
        n = strlen(text);
    }
    if (n < 4 || n > 2 * TV_VENUE_ID_BYTES) {
        tv_why_set(why, "venue_malformed",
                   "'%s' is not a venue id: a venue id has 16 hex digits (at least the first 4 "
                   "are needed). 'truyvet venue list' shows them.",
                   "'%s' không phải là mã địa điểm: mã địa điểm có 16 chữ số hệ 16 (cần ít nhất "
                   "4 chữ số đầu). Danh sách địa điểm cho biết mã của từng nơi.",
                   text);
        return TV_EINVAL;
    }
    for (size_t i = 0; i <= n; i++) {
        char ch = text[i];
        if (ch >= 'A' && ch <= 'F') ch = (char)(ch - 'A' + 'a');
        if (i < n && !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) {
            tv_why_set(why, "venue_malformed",
                       "'%s' is not a venue id: it should contain only the digits 0-9 and "
                       "letters a-f. 'truyvet venue list' shows the ids.",
                       "'%s' không phải là mã địa điểm: mã chỉ gồm các chữ số 0-9 và các chữ "
                       "cái a-f. Danh sách địa điểm cho biết mã của từng nơi.",
                       text);
            return TV_EINVAL;
        }
        lower[i] = ch;
    }
    *len = n;
    return 0;
}

int tv_venue_find(tv_node *n, const char *text, store_venue *out, tv_why *why)
{
    char lower[2 * TV_VENUE_ID_BYTES + 1];
    size_t len;
    int rc = find_key(text, lower, &len, why);
    if (rc) return rc;
    store_txn *t;
    if ((rc = store_read_begin(n->st, &t)))
        return tv_why_store(why, rc, "cannot read the venues", "Không đọc được các địa điểm");
    find_ctx c = {.prefix = lower, .len = len, .out = out};
    if (len == 2 * TV_VENUE_ID_BYTES) {
        uint8_t id[TV_VENUE_ID_BYTES];
        (void)tv_hex_decode(id, sizeof id, lower);
        rc = store_venue_get(t, id, out);
        c.matches = rc == TV_OK;
        if (rc == TV_ENOTFOUND) rc = TV_OK;
    } else {
        rc = store_venue_foreach(t, find_prefix, &c);
    }
    store_read_end(t);
    if (rc) return tv_why_store(why, rc, "cannot read the venues", "Không đọc được các địa điểm");
    if (c.matches == 0) {
        tv_why_set(why, "venue_unknown",
                   "no venue %s on this node. 'truyvet venue list' shows the venues, their ids "
                   "and short codes.",
                   "Không có địa điểm %s trên máy này. Danh sách địa điểm cho biết mã và mã "
                   "ngắn của từng nơi.",
                   text);
        return TV_ENOTFOUND;
    }
    if (c.matches > 1) {
        tv_why_set(why, "venue_ambiguous", "%d venues match %s; give more digits of the id.",
                   "Có %d địa điểm khớp với %s; hãy nhập thêm chữ số của mã.", c.matches, text);
        return TV_EINVAL;
    }
    return 0;
}

/* --- what this node may change --------------------------------------------------------- */

int tv_venue_require_commune(const tv_node *n, tv_why *why)
{
    if (n->role == TV_ROLE_COMMUNE) return 0;
    tv_why_set(why, "not_commune",
               "venues are registered at commune nodes; this is a %s node (unit %s).%.0s",
               "Địa điểm chỉ được đăng ký và thay đổi tại máy của xã; máy này là máy của "
               "đơn vị %.0s%s (cấp %s).",
               tv_role_name(n->role), n->unit, tv_role_name_vi(n->role));
    return TV_EPERM;
}

int tv_venue_own(tv_node *n, const char *text, store_venue *sv, tv_why *why)
{
    int rc;
    if ((rc = tv_venue_require_commune(n, why)) || (rc = tv_venue_find(n, text, sv, why)))
        return rc;
    if (strcmp(sv->unit, n->unit) != 0) {
        tv_why_set(why, "venue_not_own",
                   "venue %s belongs to unit %s; only that commune's node may change it.",
                   "Địa điểm %s thuộc đơn vị %s; chỉ máy của xã đó mới được thay đổi địa điểm "
                   "này.",
                   text, sv->unit);
        return TV_EPERM;
    }
    return 0;
}

int tv_venue_duplicate_check(tv_node *n, const crdt_venue_upsert *v, store_venue *found,
                             tv_why *why)
{
    int rc = tv_venue_duplicate(n, v, found);
    if (rc < 0)
        return tv_why_store(why, rc, "cannot register the venue", "Không đăng ký được địa điểm");
    if (rc == 0) return 0;
    char hex[2 * TV_VENUE_ID_BYTES + 1], code[TV_SHORT_CODE_STR];
    tv_hex_encode(hex, found->id, sizeof found->id);
    tv_short_code(code, found->id);
    const tv_category *c = tv_category_by_code(found->category);
    tv_why_set(why, "venue_duplicate",
               "địa điểm này đã được đăng ký: %s (mã %s) \"%s\"%s%s, %s. Không đăng ký lại. Nếu "
               "đây là một địa điểm khác, thêm --force để vẫn đăng ký.",
               "Địa điểm này đã được đăng ký: %s (mã %s) \"%s\"%s%s, %s. Không đăng ký lại. Nếu "
               "đây là một địa điểm khác, chọn 'vẫn đăng ký'.",
               hex, code, tv_text_esc(found->name), found->village[0] ? ", " : "",
               tv_text_esc(found->village), c ? c->name_vi : "?");
    return TV_EEXIST;
}

int tv_venue_payload_own(tv_node *n, const char *text, store_venue *v, tv_venue_payload *p,
                         tv_why *why)
{
    int rc = tv_venue_find(n, text, v, why);
    if (rc) return rc;
    if (strcmp(v->unit, n->unit) != 0 || n->role != TV_ROLE_COMMUNE) {
        tv_why_set(why, "venue_not_own",
                   "venue %s is registered in unit %s; only that commune's node signs its code.",
                   "Địa điểm %s được đăng ký tại đơn vị %s; chỉ máy của xã đó mới ký được mã QR "
                   "của địa điểm.",
                   text, v->unit);
        return TV_EPERM;
    }
    if ((rc = tv_venue_payload_sign(p, v->id, v->unit, &n->id))) {
        tv_why_set(why, "sign", "cannot sign the venue's code: %s.",
                   "Không ký được mã của địa điểm: %s.", tv_strerror(rc));
        return rc;
    }
    return 0;
}
