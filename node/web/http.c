/* Requests and responses of the console (http.h). */
#include "node/web/http.h"

#include "crdt/error.h"
#include "node/render/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *kv_get(const tv_kv *kv, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, name) == 0) return kv[i].val;
    return NULL;
}

const char *tv_req_arg(const tv_req *q, const char *name)
{
    const char *v = kv_get(q->form, q->nform, name);
    return v ? v : kv_get(q->query, q->nquery, name);
}

const char *tv_req_query(const tv_req *q, const char *name)
{
    return kv_get(q->query, q->nquery, name);
}

FILE *tv_resp_open(tv_resp *r, int status, const char *type)
{
    if (r->f) fclose(r->f);
    free(r->body);
    r->body = NULL;
    r->len = 0;
    r->kind = TV_RESP_BUFFER;
    r->status = status;
    snprintf(r->type, sizeof r->type, "%s", type);
    r->f = open_memstream(&r->body, &r->len);
    if (!r->f) r->status = 500;
    return r->f;
}

FILE *tv_resp_json(tv_resp *r, int status)
{
    return tv_resp_open(r, status, "application/json; charset=utf-8");
}

void tv_resp_header(tv_resp *r, const char *name, const char *value)
{
    if (r->nhdr == TV_RESP_HEADERS_MAX) return;
    snprintf(r->hdr[r->nhdr].name, sizeof r->hdr[r->nhdr].name, "%s", name);
    snprintf(r->hdr[r->nhdr].value, sizeof r->hdr[r->nhdr].value, "%s", value);
    r->nhdr++;
}

void tv_resp_error(tv_resp *r, int status, const char *code, const char *en, const char *vi)
{
    FILE *f = tv_resp_json(r, status);
    if (!f) return;
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "error");
    tv_json_string(&j, code);
    tv_json_key(&j, "message");
    tv_json_string(&j, en);
    tv_json_key(&j, "message_vi");
    tv_json_string(&j, vi);
    tv_json_object_end(&j);
    tv_json_line_end(&j);
}

void tv_resp_fail(tv_resp *r, int rc, const char *what_en, const char *what_vi)
{
    char en[512], vi[512];
    int status = 500;
    const char *code = "internal";
    switch (rc) {
    case TV_EBUSY:
        status = 409;
        code = "busy";
        snprintf(en, sizeof en,
                 "%s: another truyvet program is recording on the node (an import or the "
                 "station). Wait for it to finish, then try again.",
                 what_en);
        snprintf(vi, sizeof vi,
                 "%s: một chương trình truyvet khác đang ghi vào nút (nhập tệp hoặc trạm "
                 "quét). Chờ nó xong rồi thử lại.",
                 what_vi);
        break;
    case TV_ENOSPC:
        status = 507;
        code = "disk_full";
        snprintf(en, sizeof en,
                 "%s: the disk is full, so nothing was recorded. Free some disk space and try "
                 "again.",
                 what_en);
        snprintf(vi, sizeof vi,
                 "%s: ổ đĩa đã đầy nên chưa ghi được gì. Giải phóng dung lượng rồi thử lại.",
                 what_vi);
        break;
    case TV_ELOCKED:
        status = 503;
        code = "node_locked";
        snprintf(en, sizeof en,
                 "%s: the node's secrets are locked; the operator unlocks it with 'truyvet "
                 "unlock'.",
                 what_en);
        snprintf(vi, sizeof vi,
                 "%s: khóa bí mật của nút đang khóa; người quản trị cần mở khóa nút.", what_vi);
        break;
    default:
        snprintf(en, sizeof en, "%s: %s.", what_en, tv_strerror(rc));
        snprintf(vi, sizeof vi, "%s: lỗi của nút (%s).", what_vi, tv_strerror(rc));
        break;
    }
    tv_resp_error(r, status, code, en, vi);
}

void tv_resp_attachment(tv_resp *r, const char *filename)
{
    char v[200];
    snprintf(v, sizeof v, "attachment; filename=\"%s\"", filename);
    tv_resp_header(r, "Content-Disposition", v);
}

int tv_resp_finish(tv_resp *r)
{
    if (!r->f) return TV_OK;
    int bad = ferror(r->f);
    int rc = fclose(r->f);
    r->f = NULL;
    if (bad || rc) {
        free(r->body);
        r->body = NULL;
        r->len = 0;
        return TV_ENOMEM;
    }
    return TV_OK;
}

void tv_resp_free(tv_resp *r)
{
    if (r->f) fclose(r->f);
    r->f = NULL;
    free(r->body);
    r->body = NULL;
    if (r->stream_free && r->stream_arg) r->stream_free(r->stream_arg);
    r->stream_arg = NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s in place; returns 0 or -1 (bad escape, NUL). */
static int url_decode(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p == '+') {
            *o++ = ' ';
        } else if (*p == '%') {
            int h = hexval(p[1]), l = h < 0 ? -1 : hexval(p[2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0)) return -1;
            *o++ = (char)(h * 16 + l);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return 0;
}

int tv_form_parse(char *s, tv_kv *kv, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *pair = strtok_r(s, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        if (n == max) return -1;
        char *eq = strchr(pair, '=');
        if (eq) *eq = '\0';
        kv[n].key = pair;
        kv[n].val = eq ? eq + 1 : pair + strlen(pair);
        if (url_decode(kv[n].key) || url_decode(kv[n].val)) return -1;
        n++;
    }
    return (int)n;
}
