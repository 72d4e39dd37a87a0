/* Checking what a health officer types (see health_input.h). */
#include "node/logic/health_input.h"
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/logic/health.h"
#include "node/logic/idcard.h"
#include "node/logic/record.h"
#include "node/logic/units.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tv_when_check(const char *name, const char *name_vi, const char *v, int64_t now_ms, int64_t *ms,
                  tv_why *why)
{
    if (tv_when_parse(v, now_ms, ms) == 0 && crdt_time_valid(*ms)) return 0;
    tv_why_set(why, "time_invalid",
               "%s%.0s takes 'today', a date or a time with its offset (before 2200), not '%s'.",
               "%.0s%s phải là 'today' (hôm nay), một ngày như 2021-10-06 hoặc một thời điểm "
               "kèm múi giờ như 2021-10-06T08:00:00+07:00 (trước năm 2200), không phải '%s'.",
               name, name_vi, tv_text_esc(v));
    return TV_EINVAL;
}

/* The times of a case status, as typed, into cs. Returns 0 or TV_EINVAL with why set. */
static int case_times(const tv_case_input *in, int64_t now_ms, crdt_case *cs, tv_why *why)
{
    int rc = 0;
    if (in->onset)
        rc = tv_when_check("--onset", "Ngày khởi phát (hoặc phơi nhiễm)", in->onset, now_ms,
                           &cs->onset_ms, why);
    if (rc == 0 && in->sampled)
        rc = tv_when_check("--sampled", "Ngày lấy mẫu dương tính", in->sampled, now_ms,
                           &cs->sampled_ms, why);
    if (rc == 0 && in->at)
        rc = tv_when_check("--at", "Thời điểm có hiệu lực", in->at, now_ms, &cs->at_ms, why);
    return rc;
}

int tv_case_input_parse(const tv_case_input *in, int64_t now_ms, crdt_case *cs, tv_why *why)
{
    if (!in->person == !in->ref) {
        tv_why_set(why, "person_missing", "give the person: --payload or --ref.",
                   "Hãy nhập số CCCD, số điện thoại hoặc quét mã của người bệnh (hoặc mã định "
                   "danh ẩn danh), chỉ một trong hai.");
        return TV_EINVAL;
    }
    if (!in->status) {
        tv_why_set(why, "status_missing", "give the status: --status F0|F1|F2|cleared.",
                   "Hãy chọn tình trạng: F0, F1, F2 hoặc đã khỏi.");
        return TV_EINVAL;
    }
    int st = tv_case_status_parse(in->status);
    if (st < 0) {
        tv_why_set(why, "status_invalid", "--status is F0, F1, F2 or cleared, not '%s'.",
                   "Tình trạng là F0, F1, F2 hoặc đã khỏi (cleared), không phải '%s'.", in->status);
        return TV_EINVAL;
    }
    *cs = (crdt_case){.status = (uint8_t)st,
                      .onset_ms = CRDT_TIME_NONE,
                      .sampled_ms = CRDT_TIME_NONE,
                      .at_ms = CRDT_TIME_NONE};
    int rc = case_times(in, now_ms, cs, why);
    if (rc) return rc;
    if (st == CRDT_CASE_F0 && !in->onset && !in->sampled) {
        tv_why_set(why, "onset_missing",
                   "an F0 needs --onset (symptoms) or --sampled (the positive sample): the "
                   "infectious window starts from it.",
                   "Ca F0 cần ngày khởi phát triệu chứng hoặc ngày lấy mẫu dương tính: thời gian "
                   "lây nhiễm được tính từ ngày đó.");
        return TV_EINVAL;
    }
    if (in->unit && !crdt_unit_code_valid(in->unit, strlen(in->unit))) {
        tv_why_set(why, "unit_invalid", "'%s' is not a unit code.",
                   "'%s' không phải là mã đơn vị hợp lệ.", in->unit);
        return TV_EINVAL;
    }
    return 0;
}

int tv_health_person_ref(const tv_node *n, const char *person, const char *refhex,
                         uint8_t ref[TV_PERSON_REF_BYTES], tv_why *why)
{
    if (refhex) {
        if (strlen(refhex) == 2 * TV_PERSON_REF_BYTES &&
            tv_hex_decode(ref, TV_PERSON_REF_BYTES, refhex) == 0)
            return 0;
        tv_why_set(why, "ref_invalid", "'%s' is not a pseudonym (32 hex digits).",
                   "'%s' không phải là mã định danh ẩn danh (32 ký tự hex).", refhex);
        return TV_EINVAL;
    }
    tv_card card;
    const char *w;
    if (tv_card_parse(person, strlen(person), &card, &w)) {
        tv_why_set(why, "person_invalid", "'%s' cannot be read as a person: %s.%.0s",
                   "Không đọc được '%s' là thông tin của một người: %.0s%s.", person, w,
                   tv_card_why_vi(w));
        return TV_EINVAL;
    }
    int rc = 0;
    uint8_t key[TV_TRACING_KEY_BYTES];
    if (!n->unlocked) {
        tv_why_set(why, "locked", "cannot compute the person's pseudonym",
                   "không tính được mã định danh ẩn danh của người này");
        rc = TV_ELOCKED;
    } else if (card.kind != TV_CARD_TRUYVET && tv_node_province_key(n, key) &&
               tv_node_ref_key(n, key)) {
        /* a health node names people by the province-wide pseudonym (its map's) */
        tv_why_set(why, "no_pseudonym_key",
                   "this node holds no pseudonym key, so it cannot compute anyone's pseudonym: a "
                   "district without the health flag can neither resolve --person nor issue "
                   "personal cards (the health authority can). Give --ref HEX to name a "
                   "pseudonym.",
                   "Máy này không giữ khoá tạo mã định danh ẩn danh nên không tính được mã của "
                   "ai; hãy nhập mã định danh ẩn danh (32 ký tự hex).");
        rc = TV_EPERM;
    } else {
        tv_card_ref(&card, key, ref);
    }
    sodium_memzero(&card, sizeof card);
    sodium_memzero(key, sizeof key);
    return rc;
}

int tv_risk_input_parse(const tv_risk_input *in, int64_t now_ms, crdt_risk *r, tv_why *why)
{
    const char *level = in->level;
    if (!in->unit || !level || !in->from) {
        tv_why_set(why, "field_missing", "give --unit, --level and --from.",
                   "Hãy nhập đơn vị, mức nguy cơ và ngày bắt đầu áp dụng.");
        return TV_EINVAL;
    }
    if (!crdt_unit_code_valid(in->unit, strlen(in->unit))) {
        tv_why_set(why, "unit_invalid",
                   "'%s' is not a unit code (a village is <commune>.<village>).",
                   "'%s' không phải là mã đơn vị hợp lệ (thôn, tổ dân phố ghi là <mã xã>.<mã "
                   "thôn>).",
                   in->unit);
        return TV_EINVAL;
    }
    if (strlen(level) != 1 || level[0] < '1' || level[0] > '0' + CRDT_RISK_LEVEL_MAX) {
        tv_why_set(why, "level_invalid", "--level is 1, 2, 3 or 4, not '%s'.",
                   "Mức nguy cơ là 1, 2, 3 hoặc 4, không phải '%s'.", level);
        return TV_EINVAL;
    }
    int rc;
    if (in->note && (rc = tv_why_text("note", in->note, CRDT_TEXT_BYTES_MAX, why))) return rc;
    *r = (crdt_risk){.unit = {in->unit, (uint32_t)strlen(in->unit)},
                     .level = (uint8_t)(level[0] - '0'),
                     .note = {in->note, in->note ? (uint32_t)strlen(in->note) : 0}};
    return tv_when_check("--from", "Ngày bắt đầu áp dụng", in->from, now_ms, &r->from_ms, why);
}

/* Is code official, or named by a unit event held in n? */
static int unit_in_tree(tv_node *n, const char *code)
{
    if (tv_unit_find(code)) return 1;
    if (!n) return 0;
    store_txn *t;
    tv_tree tr;
    int found = 0;
    if (store_read_begin(n->st, &t) == 0) {
        if (tv_tree_load(t, &tr) == 0) {
            found = tv_tree_find(&tr, code) != NULL;
            tv_tree_free(&tr);
        }
        store_read_end(t);
    }
    return found;
}

/* The official units whose codes, of len digits, are numerically nearest head's. */
static void units_nearest(const char *head, size_t len, const tv_unit *near[3])
{
    unsigned long long dist[3] = {0}, want = strtoull(head, NULL, 10);
    for (size_t i = 0; i < tv_units_count(); i++) {
        const tv_unit *u = tv_unit_at(i);
        if (strlen(u->code) != len) continue;
        unsigned long long v = strtoull(u->code, NULL, 10), d = v > want ? v - want : want - v;
        for (int k = 0; k < 3; k++)
            if (!near[k] || d < dist[k]) {
                for (int m = 2; m > k; m--) {
                    near[m] = near[m - 1];
                    dist[m] = dist[m - 1];
                }
                near[k] = u;
                dist[k] = d;
                break;
            }
    }
}

int tv_unit_known_check(tv_node *n, const char *code, tv_why *why)
{
    char head[TV_UNIT_CODE_MAX + 1];
    size_t len = strcspn(code, ".");
    snprintf(head, sizeof head, "%.*s", (int)len, code);
    if (unit_in_tree(n, code) || (code[len] == '.' && unit_in_tree(n, head))) return 0;
    const tv_unit *near[3] = {0};
    units_nearest(head, len, near);
    char hint[3 * (TV_UNIT_CODE_MAX + TV_UNIT_NAME_MAX + 8) + 32] = "";
    char hint_vi[sizeof hint] = "";
    for (int k = 0; k < 3 && near[k]; k++) {
        snprintf(hint + strlen(hint), sizeof hint - strlen(hint), "%s%s %s",
                 k ? ", " : " The nearest codes are ", near[k]->code, near[k]->name);
        snprintf(hint_vi + strlen(hint_vi), sizeof hint_vi - strlen(hint_vi), "%s%s %s",
                 k ? ", " : " Các mã gần nhất: ", near[k]->code, near[k]->name);
    }
    if (hint[0]) {
        snprintf(hint + strlen(hint), sizeof hint - strlen(hint), ".");
        snprintf(hint_vi + strlen(hint_vi), sizeof hint_vi - strlen(hint_vi), ".");
    }
    tv_why_set(why, "unit_unknown", "unit %s is not in the official list of units%s.%s%.0s",
               "Mã đơn vị %s không có trong danh mục đơn vị hành chính%.0s, và máy này cũng "
               "không biết đơn vị nào mang mã đó.%.0s%s",
               tv_text_esc(code), n ? " nor among the units this node knows" : "", hint, hint_vi);
    return TV_EINVAL;
}

int tv_health_refused(int rc, const char *what, const char *what_vi, const char *unit, tv_why *why)
{
    if (rc == TV_EPERM) {
        tv_why_set(why, "not_health",
                   "this node cannot set %s%.0s: only a node whose certificate carries the health "
                   "flag (the province's) may, and peers would refuse it.",
                   "%.0sMáy này không được đặt %s: chỉ máy có chứng chỉ mang cờ y tế (của tỉnh) "
                   "mới được đặt, các máy khác sẽ từ chối.",
                   what, what_vi);
        return TV_EPERM;
    }
    if (rc == TV_ESCOPE) {
        tv_why_set(why, "unit_out_of_scope",
                   "unit %s is outside this node's scope: peers would refuse %s%.0s for it.",
                   "Đơn vị %s nằm ngoài phạm vi của máy này: các máy khác sẽ từ chối %.0s%s của "
                   "đơn vị đó.",
                   unit, what, what_vi);
        return TV_EPERM;
    }
    return tv_why_store(why, rc, "nothing was recorded", "chưa ghi được gì");
}
