/* The console's health officer calls (a health node only): trace a case and reveal a
 * person with a stated reason, as `truyvet trace` and `truyvet trace --reveal` do
 * (node/logic/trace_case.h, node/logic/reveal.h). A reveal is recorded in the log (and so
 * in `truyvet audit`) and committed before anything is shown; its reason carries the
 * console account that asked. */
#include "node/web/api.h"

#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/text.h"
#include "node/logic/health.h"
#include "node/logic/idcard.h"
#include "node/logic/record.h"
#include "node/logic/reveal.h"
#include "node/logic/alerts.h"
#include "node/logic/case.h"
#include "node/logic/risk.h"
#include "node/logic/trace_case.h"
#include "node/render/alerts.h"
#include "node/render/case.h"
#include "node/render/risk.h"
#include "node/render/trace.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define MIN_OVERLAP_MS (15 * 60 * 1000) /* as `truyvet trace`'s default */

/* The pseudonym of the person the request names (ref: 32 hex digits, or person: what a
 * card's QR or a typed number gives). Returns 0, else 1 after answering r. */
static int person_ref(tv_web *w, const tv_req *q, uint8_t ref[TV_PERSON_REF_BYTES], tv_resp *r)
{
    const char *hex = tv_req_arg(q, "ref"), *person = tv_req_arg(q, "person");
    char en[400];
    if (hex && hex[0]) {
        if (strlen(hex) == 2 * TV_PERSON_REF_BYTES &&
            tv_hex_decode(ref, TV_PERSON_REF_BYTES, hex) == 0)
            return 0;
        snprintf(en, sizeof en, "'%s' is not a pseudonym (32 hex digits).", tv_text_esc(hex));
        tv_resp_error(r, 400, "ref_invalid", en, "Mã định danh ẩn danh phải gồm 32 ký tự hex.");
        return 1;
    }
    if (!person || !person[0]) {
        tv_resp_error(r, 400, "person_missing", "give the case: --payload or --ref.",
                      "Hãy nhập số CCCD, số điện thoại hoặc quét mã của người cần truy vết.");
        return 1;
    }
    tv_card card;
    const char *why;
    if (tv_card_parse(person, strlen(person), &card, &why)) {
        snprintf(en, sizeof en, "'%s' cannot be read as a person: %s.", tv_text_esc(person), why);
        char vi[300];
        snprintf(vi, sizeof vi, "Không đọc được thông tin người: %s.", tv_card_why_vi(why));
        tv_resp_error(r, 400, "person_invalid", en, vi);
        return 1;
    }
    uint8_t key[TV_TRACING_KEY_BYTES];
    int rc = card.kind == TV_CARD_TRUYVET ? 0 : tv_node_province_key(w->n, key);
    if (rc == 0) tv_card_ref(&card, key, ref);
    sodium_memzero(&card, sizeof card);
    sodium_memzero(key, sizeof key);
    if (rc)
        tv_resp_fail(r, rc, "cannot compute the person's pseudonym",
                     "không tính được mã định danh ẩn danh");
    return rc != 0;
}

/* The trace's options from the request: depth 1 or 2; the window is the case's. Returns
 * 0, else 1 after answering r. */
static int trace_opts(const tv_req *q, tv_trace_opts *o, tv_resp *r)
{
    const char *depth = tv_req_query(q, "depth");
    memset(o, 0, sizeof *o);
    o->now_ms = tv_wall_ms();
    o->to_ms = o->now_ms;
    o->min_overlap_ms = MIN_OVERLAP_MS;
    o->depth = 1;
    if (depth && depth[0]) {
        if (strcmp(depth, "1") && strcmp(depth, "2")) {
            char en[120];
            snprintf(en, sizeof en, "--depth is 1 (F1) or 2 (F1 and F2), not '%s'.",
                     tv_text_esc(depth));
            tv_resp_error(r, 400, "depth_invalid", en, "Mức truy vết là 1 (F1) hoặc 2 (F1 và F2).");
            return 1;
        }
        o->depth = depth[0] - '0';
    }
    return 0;
}

/* Checks that t knows the case and takes its infectious window. Returns 0, else 1 after
 * answering r. */
static int trace_window(tv_web *w, store_txn *t, const uint8_t *ref, tv_trace_opts *o, tv_resp *r)
{
    char en[400], hex[2 * TV_PERSON_REF_BYTES + 1];
    int known = tv_trace_person_known(w->n, t, ref);
    if (known == 0) {
        tv_hex_encode(hex, ref, TV_PERSON_REF_BYTES);
        snprintf(en, sizeof en,
                 "no record of this person (pseudonym %s) at this node: no check-in, no person "
                 "record and no case status. Check the number, or sync with the nodes below "
                 "first. Nothing was traced.",
                 hex);
        tv_resp_error(r, 404, "person_unknown", en,
                      "Nút này không có dữ liệu nào của người này (không có lượt quét, hồ sơ hay "
                      "tình trạng ca bệnh). Kiểm tra lại số, hoặc đồng bộ với các nút cấp dưới "
                      "trước.");
        return 1;
    }
    int64_t from, to;
    int rc = known < 0 ? known : tv_trace_case_window(w->n, t, ref, &from, &to);
    if (rc == TV_ENOTFOUND) {
        tv_resp_error(r, 400, "window_unknown",
                      "this node holds no F0 status of this person to take the infectious window "
                      "from: give --from, or add the case ('truyvet case add').",
                      "Nút này chưa có tình trạng F0 của người này nên không biết thời gian lây "
                      "nhiễm: hãy ghi nhận ca bệnh trước.");
        return 1;
    }
    if (rc) {
        tv_resp_fail(r, rc, "the trace failed", "truy vết không thành công");
        return 1;
    }
    o->from_ms = from;
    if (to != TV_WINDOW_OPEN) o->to_ms = to;
    return 0;
}

int tv_api_trace(tv_web *w, tv_req *q, tv_resp *r)
{
    uint8_t ref[TV_PERSON_REF_BYTES];
    tv_trace_opts o;
    if (trace_opts(q, &o, r) || person_ref(w, q, ref, r)) return 0;
    store_txn *t;
    int rc = store_read_begin(w->n->st, &t);
    if (rc) {
        tv_resp_fail(r, rc, "the trace failed", "truy vết không thành công");
        return 0;
    }
    if (trace_window(w, t, ref, &o, r) == 0) {
        tv_trace_case c;
        rc = tv_trace_case_run(w->n, t, ref, &o, &c);
        FILE *f = rc ? NULL : tv_resp_json(r, 200);
        if (f) rc = tv_render_trace_json(f, &c);
        if (rc) tv_resp_fail(r, rc, "the trace failed", "truy vết không thành công");
        tv_trace_case_free(&c);
    }
    store_read_end(t);
    return 0;
}

/* The reason as recorded: what the officer wrote, and the account that asked. */
static int reveal_reason(const tv_req *q, char *out, size_t cap, tv_resp *r)
{
    const char *reason = tv_req_arg(q, "reason");
    if (!reason || !reason[0]) {
        tv_resp_error(r, 400, "reason_missing",
                      "--reveal needs --reason: say why the details are needed.",
                      "Phải ghi lý do xem danh tính.");
        return 1;
    }
    tv_why why;
    if (tv_why_text("reason", reason, CRDT_TEXT_BYTES_MAX, &why)) {
        tv_resp_why(r, TV_EINVAL, &why);
        return 1;
    }
    int n = snprintf(out, cap, "%s (tài khoản %s)", reason, q->who.user);
    if (n < 0 || (size_t)n >= cap) {
        tv_resp_error(r, 400, "reason_invalid", "the reason is too long.", "Lý do quá dài.");
        return 1;
    }
    return 0;
}

int tv_api_reveal(tv_web *w, tv_req *q, tv_resp *r)
{
    uint8_t ref[TV_PERSON_REF_BYTES];
    char reason[CRDT_TEXT_BYTES_MAX + 1];
    if (person_ref(w, q, ref, r) || reveal_reason(q, reason, sizeof reason, r)) return 0;
    int took = tv_node_lock_try(w->n);
    if (took < 0) {
        tv_resp_fail(r, took, "nothing was revealed", "chưa xem được danh tính");
        return 0;
    }
    tv_details d;
    uint8_t ok = 0;
    int rc = tv_reveal_many(w->n, ref, 1, reason, &d, &ok);
    if (took == 1) tv_node_lock_release(w->n);
    if (rc == 0 && !ok) {
        tv_resp_error(r, 404, "details_unknown",
                      "this person's details are not held here, or are sealed to other health "
                      "nodes.",
                      "Nút này không có thông tin của người này, hoặc thông tin được niêm phong "
                      "cho cơ quan y tế khác.");
    } else if (rc) {
        tv_resp_fail(r, rc, "nothing was revealed", "chưa xem được danh tính");
    } else {
        FILE *f = tv_resp_json(r, 200);
        if (f) {
            char hex[2 * TV_PERSON_REF_BYTES + 1];
            tv_hex_encode(hex, ref, TV_PERSON_REF_BYTES);
            tv_json j;
            tv_json_init(&j, f);
            tv_json_object_begin(&j);
            tv_json_key(&j, "person");
            tv_json_string(&j, hex);
            tv_details_json(&j, &d);
            tv_json_key(&j, "recorded");
            tv_json_bool(&j, 1);
            tv_json_object_end(&j);
            tv_json_line_end(&j);
        }
    }
    sodium_memzero(&d, sizeof d);
    return 0;
}

/* Writes rows as a JSON array under key in an object, each row by its renderer (which ends
 * it with a line end: whitespace between the array's items). */
#define ROWS_JSON(f, key, rows, n, render)                                                         \
    do {                                                                                           \
        fprintf(f, "{\"%s\":[", key);                                                              \
        for (size_t i_ = 0; i_ < (n); i_++) {                                                      \
            if (i_) fputc(',', f);                                                                 \
            (void)render(f, &(rows)[i_]);                                                          \
        }                                                                                          \
        fputs("]}\n", f);                                                                          \
    } while (0)

int tv_api_cases(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *status = tv_req_query(q, "status");
    int filter = -1;
    if (status && status[0] && (filter = tv_case_status_parse(status)) < 0) {
        char en[120];
        snprintf(en, sizeof en, "--status is F0, F1, F2 or cleared, not '%s'.",
                 tv_text_esc(status));
        tv_resp_error(r, 400, "status_invalid", en, "Tình trạng là F0, F1, F2 hoặc đã khỏi.");
        return 0;
    }
    tv_case_list l;
    int rc = tv_case_list_run(w->n, filter, &l);
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (f)
        ROWS_JSON(f, "cases", l.rows, l.n, tv_render_case_json);
    else
        tv_resp_fail(r, rc, "the cases could not be read", "không đọc được danh sách ca bệnh");
    tv_case_list_free(&l);
    return 0;
}

int tv_api_risk(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *unit = tv_req_query(q, "unit");
    if (unit && !unit[0]) unit = NULL;
    if (unit && !crdt_unit_code_valid(unit, strlen(unit))) {
        char en[120];
        snprintf(en, sizeof en, "'%s' is not a unit code.", tv_text_esc(unit));
        tv_resp_error(r, 400, "unit_invalid", en, "Mã đơn vị không hợp lệ.");
        return 0;
    }
    tv_risk_view v;
    int rc = tv_risk_view_run(w->n, unit, tv_wall_ms(), &v);
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (f)
        ROWS_JSON(f, "risk", v.rows, v.n, tv_render_risk_json);
    else
        tv_resp_fail(r, rc, "the risk levels could not be read", "không đọc được mức nguy cơ");
    tv_risk_view_free(&v);
    return 0;
}

int tv_api_alerts(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *all = tv_req_query(q, "all");
    tv_alerts a;
    int rc = tv_alerts_run(w->n, all && strcmp(all, "1") == 0, tv_wall_ms(), &a);
    char *lines = NULL;
    size_t len = 0;
    FILE *m = rc ? NULL : open_memstream(&lines, &len);
    if (!rc && !m) rc = TV_ENOMEM;
    if (m) {
        rc = tv_render_alerts_json(m, &a); /* JSON Lines, as `alerts --json` */
        if (fclose(m) && rc == 0) rc = TV_ENOMEM;
    }
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (f) { /* one array of the records: a line end (never inside a record) between two */
        fputs("{\"alerts\":[", f);
        for (size_t i = 0; i < len; i++)
            fputc(lines[i] == '\n' && i + 1 < len ? ',' : lines[i], f);
        fputs("]}\n", f);
    } else {
        tv_resp_fail(r, rc, "the alerts could not be read", "không đọc được các cảnh báo");
    }
    free(lines);
    tv_alerts_free(&a);
    return 0;
}
