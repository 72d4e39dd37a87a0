/* The console's enrolment and revocation, an operator's work: the node's request file to
 * download, a child's request uploaded and its certificate file downloaded, a certificate
 * file uploaded and accepted, a node's certificate withdrawn. The same functions as
 * `truyvet enroll` and `truyvet revoke` (node/logic/enroll.h) do the work and refuse with
 * the same sentences; uploads are the raw file (application/octet-stream). */
#include "node/web/api.h"

#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/logic/enroll.h"
#include "node/logic/why.h"
#include "node/render/cert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The status and code of an enrolment refusal rc that came with a sentence. */
static void enroll_refused(tv_resp *r, int rc, const char *what_en, const char *what_vi,
                           const char *why)
{
    int status = rc == TV_EPERM || rc == TV_EREVOKED ? 403 : rc == TV_EEXIST ? 409 : 400;
    const char *code = rc == TV_EPERM      ? "enroll_refused"
                       : rc == TV_EREVOKED ? "revoked"
                       : rc == TV_EEXIST   ? "enroll_exists"
                       : rc == TV_ESIG     ? "signature_invalid"
                       : rc == TV_EINVAL   ? "input_invalid"
                                           : "file_invalid";
    char en[TV_ENROLL_WHY_MAX + 200], vi[TV_ENROLL_WHY_MAX + 200];
    snprintf(en, sizeof en, "%s: %s.", what_en, why);
    snprintf(vi, sizeof vi, "%s: %s.", what_vi, why);
    if (vi[0] >= 'a' && vi[0] <= 'z') vi[0] = (char)(vi[0] - 'a' + 'A'); /* "Không ..." */
    tv_resp_error(r, status, code, en, vi);
}

/* Answers a refusal of the enrolment functions: with its sentence when they gave one, else
 * as the store's error (the CLI's tv_cli_enroll_fail). */
static void enroll_fail(tv_resp *r, int rc, const char *what_en, const char *what_vi,
                        const char *why)
{
    if (why[0])
        enroll_refused(r, rc, what_en, what_vi, why);
    else
        tv_resp_fail(r, rc, what_en, what_vi);
}

/* The uploaded file of q: 0, else 1 after answering 400 (a form, or nothing). */
static int upload(const tv_req *q, tv_resp *r)
{
    if (q->content_type && strncmp(q->content_type, "application/x-www-form-urlencoded", 33) == 0) {
        tv_resp_error(r, 400, "upload_type", "send the file itself, as application/octet-stream.",
                      "Hãy gửi chính tệp (application/octet-stream), không phải biểu mẫu.");
        return 1;
    }
    if (q->body_len == 0) {
        tv_resp_error(r, 400, "file_missing", "the file is empty: choose the file to send.",
                      "Tệp trống: hãy chọn tệp cần gửi.");
        return 1;
    }
    return 0;
}

/* Answers file (malloc'd, taken) as a download named name. */
static void download(tv_resp *r, char *file, size_t len, const char *name)
{
    r->status = 200;
    r->kind = TV_RESP_BUFFER;
    r->body = file;
    r->len = len;
    snprintf(r->type, sizeof r->type, "%s", "text/plain; charset=utf-8");
    tv_resp_attachment(r, name);
}

int tv_api_enroll_request(tv_web *w, tv_req *q, tv_resp *r)
{
    (void)q;
    if (w->n->role == TV_ROLE_PROVINCE) {
        tv_resp_error(r, 409, "enroll_root",
                      "a province node is the root of trust and is not enrolled by anyone; it "
                      "enrols its districts with 'truyvet enroll issue'.",
                      "Nút cấp tỉnh là gốc tin cậy, không cần ai cấp chứng chỉ; nút này cấp "
                      "chứng chỉ cho các nút cấp dưới.");
        return 0;
    }
    tv_enroll_request rq;
    char *text = malloc(TV_ENROLL_REQUEST_BYTES_MAX);
    int len = 0, rc = text ? tv_enroll_request_make(w->n, &rq) : TV_ENOMEM;
    if (rc == 0 && (len = tv_enroll_request_format(&rq, text, TV_ENROLL_REQUEST_BYTES_MAX)) < 0)
        rc = len;
    if (rc) {
        free(text);
        tv_resp_fail(r, rc, "cannot make the enrolment request",
                     "không tạo được yêu cầu cấp chứng chỉ");
        return 0;
    }
    char name[64];
    snprintf(name, sizeof name, "yeu-cau-%s-%s.txt", tv_role_name(rq.role), rq.unit);
    download(r, text, (size_t)len, name);
    return 0;
}

/* The options of an issue from the query (as `enroll issue --scope --days --health
 * --reissue`); scope points into buf. Returns 0, else 1 after answering 400. */
static int issue_opts(const tv_req *q, char *buf, size_t cap, const char **scope,
                      tv_enroll_issue_opts *o, tv_resp *r)
{
    const char *s = tv_req_query(q, "scope"), *days = tv_req_query(q, "days");
    const char *health = tv_req_query(q, "health"), *reissue = tv_req_query(q, "reissue");
    o->scope = scope;
    o->health = health && strcmp(health, "1") == 0;
    o->reissue = reissue && strcmp(reissue, "1") == 0;
    int cut = snprintf(buf, cap, "%s", s ? s : "") >= (int)cap; /* too many units anyway */
    for (char *tok = s && s[0] ? buf : NULL, *next; tok; tok = next) {
        next = strchr(tok, ',');
        if (next) *next++ = '\0';
        if (!*tok || o->scope_len == CRDT_CERT_SCOPE_MAX || (cut && !next)) {
            char en[100], vi[100];
            snprintf(en, sizeof en, "a scope holds at most %d units.", CRDT_CERT_SCOPE_MAX);
            snprintf(vi, sizeof vi, "Phạm vi có nhiều nhất %d đơn vị.", CRDT_CERT_SCOPE_MAX);
            if (*tok)
                tv_resp_error(r, 400, "scope_invalid", en, vi);
            else
                tv_resp_error(
                    r, 400, "scope_invalid",
                    "--scope takes unit codes separated by commas, with no empty one.",
                    "Phạm vi là các mã đơn vị cách nhau bởi dấu phẩy, không có mã trống.");
            return 1;
        }
        scope[o->scope_len++] = tok;
    }
    if (days && days[0]) {
        char *end;
        errno = 0;
        long v = strtol(days, &end, 10);
        if (errno || *end || end == days || v < 1 || v > TV_ENROLL_DAYS_MAX) {
            char en[100], vi[100];
            snprintf(en, sizeof en, "--days takes a whole number of days from 1 to %d.",
                     TV_ENROLL_DAYS_MAX);
            snprintf(vi, sizeof vi, "Số ngày hiệu lực phải là số nguyên từ 1 đến %d.",
                     TV_ENROLL_DAYS_MAX);
            tv_resp_error(r, 400, "days_invalid", en, vi);
            return 1;
        }
        o->days = (uint32_t)v;
    }
    return 0;
}

/* Issues the certificate of request rq with o, answering the file. */
static void issue(tv_web *w, const tv_enroll_request *rq, tv_enroll_issue_opts *o, tv_resp *r)
{
    char why[TV_ENROLL_WHY_MAX] = "", *file = NULL;
    size_t len = 0;
    int same = 0;
    o->same = &same;
    int took = tv_api_write_begin(w, r);
    if (took < 0) return;
    int rc = tv_enroll_issue(w->n, rq, o, &file, &len, NULL, why);
    tv_api_write_end(w, took);
    if (rc) {
        enroll_fail(r, rc, "cannot issue a certificate", "không cấp được chứng chỉ", why);
        return;
    }
    char name[64];
    snprintf(name, sizeof name, "chung-chi-%s-%s.txt", tv_role_name(rq->role), rq->unit);
    download(r, file, len, name);
    tv_resp_header(r, "X-Truyvet-Issued", same ? "again" : "new");
}

int tv_api_enroll_issue(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *scope[CRDT_CERT_SCOPE_MAX];
    char buf[CRDT_CERT_SCOPE_MAX * (TV_UNIT_CODE_MAX + 2) + 2];
    tv_enroll_issue_opts o = {0};
    if (upload(q, r) || issue_opts(q, buf, sizeof buf, scope, &o, r)) return 0;
    char why[TV_ENROLL_WHY_MAX] = "";
    tv_enroll_request rq;
    if (tv_enroll_request_parse(&rq, q->body, q->body_len, why)) {
        char en[TV_ENROLL_WHY_MAX + 100], vi[TV_ENROLL_WHY_MAX + 100];
        snprintf(en, sizeof en,
                 "cannot issue a certificate: the file is not a valid enrolment request: %s.", why);
        snprintf(vi, sizeof vi, "Không cấp được chứng chỉ: tệp không phải yêu cầu hợp lệ: %s.",
                 why);
        tv_resp_error(r, 400, "request_invalid", en, vi);
        return 0;
    }
    issue(w, &rq, &o, r);
    return 0;
}

int tv_api_enroll_accept(tv_web *w, tv_req *q, tv_resp *r)
{
    if (upload(q, r)) return 0;
    char why[TV_ENROLL_WHY_MAX] = "";
    tv_enroll_accepted *out = malloc(sizeof *out);
    if (!out) {
        tv_resp_fail(r, TV_ENOMEM, "cannot accept the file", "không nhận được tệp chứng chỉ");
        return 0;
    }
    int took = tv_api_write_begin(w, r), rc = took;
    if (took >= 0) {
        rc = tv_enroll_accept(w->n, q->body, q->body_len, out, why);
        tv_api_write_end(w, took);
        if (rc) enroll_fail(r, rc, "cannot accept the file", "không nhận được tệp chứng chỉ", why);
    }
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (f) {
        tv_json j;
        tv_json_init(&j, f);
        tv_render_enroll_accepted_json(&j, out);
    }
    free(out);
    return 0;
}

/* POST /api/revoke node=HEX reason=TEXT */
int tv_api_revoke(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *node = tv_req_arg(q, "node"), *reason = tv_req_arg(q, "reason");
    if (reason && !reason[0]) reason = NULL;
    uint8_t subject[TV_NODE_ID_BYTES];
    tv_why wy = {0};
    char why[TV_ENROLL_WHY_MAX] = "";
    if (!node || !node[0]) {
        tv_resp_error(r, 400, "node_missing", "revoke needs exactly one NODEID.",
                      "Hãy nhập mã của nút cần thu hồi chứng chỉ.");
        return 0;
    }
    if (tv_hex_decode(subject, sizeof subject, node)) {
        tv_why_set(&wy, "node_invalid", "'%s' is not a node id: a node id has 64 hex digits.",
                   "'%s' không phải mã nút: mã nút gồm 64 chữ số hệ 16.", node);
        tv_resp_why(r, TV_EINVAL, &wy);
        return 0;
    }
    if (reason && tv_why_text("reason", reason, CRDT_TEXT_BYTES_MAX, &wy)) {
        tv_resp_why(r, TV_EINVAL, &wy);
        return 0;
    }
    int took = tv_api_write_begin(w, r);
    if (took < 0) return 0;
    uint64_t seq = 0;
    int rc = tv_enroll_revoke(w->n, subject, reason, &seq, why);
    tv_api_write_end(w, took);
    if (rc == TV_EEXIST) {
        char en[TV_ENROLL_WHY_MAX + 40];
        snprintf(en, sizeof en, "%s; nothing was recorded.", why);
        tv_resp_error(r, 409, "revoked_already", en,
                      "Chứng chỉ của nút này đã bị thu hồi; không ghi thêm gì.");
        return 0;
    }
    if (rc) {
        enroll_fail(r, rc, "cannot revoke", "không thu hồi được chứng chỉ", why);
        return 0;
    }
    char id[TV_EVENT_ID_STR_MAX], hex[2 * TV_NODE_ID_BYTES + 1];
    tv_event_id_format(id, w->n->id.pk, seq);
    tv_hex_encode(hex, subject, TV_NODE_ID_BYTES);
    FILE *f = tv_resp_json(r, 200);
    if (f) fprintf(f, "{\"id\":\"%s\",\"node\":\"%s\"}\n", id, hex);
    return 0;
}
