/* The console's dispatcher (route.h). */
#include "node/web/route.h"

#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/text.h"
#include "node/logic/venue.h"
#include "node/web/api.h"
#include "node/web/asset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned tv_web_role_bit(const char *role)
{
    static const char *const names[] = {"operator", "clerk", "health", "guard", "controller"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(role, names[i]) == 0) return 1u << i;
    return 0;
}

int tv_web_health_node(tv_web *w)
{
    store_txn *t;
    if (store_read_begin(w->n->st, &t)) return 0;
    crdt_cert *c = malloc(sizeof *c);
    int health =
        c && store_cert_get(t, w->n->id.pk, c, NULL, NULL) == 0 && (c->flags & CRDT_CERT_F_HEALTH);
    free(c);
    store_read_end(t);
    return health;
}

/* Does path match pattern? Fills q->cap with the {} segments (pointers into caps, which
 * holds their copies). */
static int match(const char *pattern, const char *path, tv_req *q, char *caps, size_t capsz)
{
    size_t ncap = 0, used = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (p[0] == '{' && p[1] == '}') {
            size_t len = strcspn(s, "/");
            if (len == 0 || ncap == TV_REQ_CAPTURES_MAX || used + len + 1 > capsz) return 0;
            memcpy(caps + used, s, len);
            caps[used + len] = '\0';
            q->cap[ncap++] = caps + used;
            used += len + 1;
            s += len;
            p += 2;
        } else if (*p++ != *s++) {
            return 0;
        }
    }
    if (*p || *s) return 0;
    q->ncap = ncap;
    return 1;
}

/* The 403 and 404 pages: the static page of that name, with its status. */
static void page_status(tv_resp *r, int status, const char *name)
{
    const tv_asset *a = tv_asset_find(name);
    r->status = status;
    snprintf(r->type, sizeof r->type, "text/html; charset=utf-8");
    if (a) {
        r->kind = TV_RESP_STATIC;
        r->static_body = a->data;
        r->len = a->len;
    } else {
        FILE *f = tv_resp_open(r, status, "text/plain; charset=utf-8");
        if (f) fprintf(f, "%d\n", status);
    }
}

static void forbidden(const tv_route *rt, tv_resp *r, const char *en, const char *vi)
{
    if (rt->flags & TV_RF_PAGE)
        page_status(r, 403, "forbidden.html");
    else
        tv_resp_error(r, 403, "forbidden", en, vi);
}

/* Does the controller logged in on q control venue cap[0]? 1, 0 or a store error. */
static int controls(tv_web *w, const tv_req *q)
{
    uint8_t id[TV_VENUE_ID_BYTES];
    if (q->ncap < 1 || strlen(q->cap[0]) != 2 * TV_VENUE_ID_BYTES ||
        tv_hex_decode(id, sizeof id, q->cap[0]) != 0)
        return 0;
    uint8_t tag[CRDT_TAG_BYTES]; /* one is enough to know */
    uint32_t ntags = 0;
    int rc = tv_venue_controller_tags(w->n, id, q->who.user, tag, 1, &ntags);
    if (rc == TV_ELIMIT) return 1;
    return rc ? rc : ntags > 0;
}

/* Check 2 of route.h: the request comes from this server's own pages. */
static int same_origin(const tv_req *q)
{
    if (q->sec_fetch_site && strcmp(q->sec_fetch_site, "same-origin") != 0 &&
        strcmp(q->sec_fetch_site, "none") != 0)
        return 0;
    if (!q->origin) return 1; /* not a browser's cross-origin request (they send Origin) */
    if (!q->host) return 0;
    const char *o = q->origin;
    if (strncmp(o, "http://", 7) == 0)
        o += 7;
    else if (strncmp(o, "https://", 8) == 0)
        o += 8;
    else
        return 0;
    return strcmp(o, q->host) == 0;
}

static int csrf_ok(const tv_req *q)
{
    if (!same_origin(q)) return 0;
    const char *want = q->who.user[0] ? q->who.csrf : q->cookie_csrf;
    return tv_token_equal(q->csrf, want);
}

static const tv_route *find(tv_req *q, char *caps, size_t capsz, int *wrong_method)
{
    *wrong_method = 0;
    for (const tv_route *rt = tv_routes; rt->method; rt++) {
        if (!match(rt->pattern, q->path, q, caps, capsz)) continue;
        int get_ok = strcmp(q->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0;
        if (strcmp(rt->method, q->method) == 0 || get_ok) return rt;
        *wrong_method = 1;
    }
    return NULL;
}

/* "/login?next=PATH", PATH percent-encoded (the login page goes back there); "/login" when
 * it does not fit. */
static void login_location(char *out, size_t cap, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = (size_t)snprintf(out, cap, "/login?next=");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                    (*p >= '0' && *p <= '9') || strchr("/-._~", *p);
        if (n + 4 > cap) {
            snprintf(out, cap, "/login");
            return;
        }
        if (plain) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    out[n] = '\0';
}

/* Checks 4 and 5 of route.h; returns 0 when the request may go on, else 1 with r filled. */
static int refuse_who(tv_web *w, const tv_route *rt, tv_req *q, tv_resp *r)
{
    if (rt->roles & TV_R_PUBLIC) return 0;
    if (!q->who.user[0]) {
        if (rt->flags & TV_RF_PAGE) {
            char to[256];
            login_location(to, sizeof to, q->path);
            r->status = 303;
            tv_resp_header(r, "Location", to);
            tv_resp_open(r, 303, "text/plain; charset=utf-8");
        } else {
            tv_resp_error(r, 401, "login_required", "log in first.", "Hãy đăng nhập trước.");
        }
        return 1;
    }
    if (!(rt->roles & tv_web_role_bit(q->who.role))) {
        forbidden(rt, r, "this account's role may not do this.",
                  "Tài khoản này không có quyền làm việc này.");
        return 1;
    }
    if ((rt->flags & TV_RF_COMMUNE) && w->n->role != TV_ROLE_COMMUNE) {
        forbidden(rt, r, "only a commune node does this.", "Chỉ nút cấp xã làm việc này.");
        return 1;
    }
    if ((rt->flags & TV_RF_HEALTH) && !tv_web_health_node(w)) {
        forbidden(rt, r, "only a health node (holding the health key) does this.",
                  "Chỉ nút của cơ quan y tế làm việc này.");
        return 1;
    }
    if ((rt->flags & TV_RF_VENUE) && strcmp(q->who.role, "controller") == 0) {
        int c = controls(w, q);
        if (c != 1) {
            forbidden(rt, r, "this venue is not one of yours.",
                      "Địa điểm này không thuộc quyền quản lý của bạn.");
            return 1;
        }
    }
    return 0;
}

void tv_web_dispatch(tv_web *w, tv_req *q, tv_resp *r)
{
    char caps[512];
    int wrong_method;
    const tv_route *rt = find(q, caps, sizeof caps, &wrong_method);
    if (!rt) {
        if (wrong_method)
            tv_resp_error(r, 405, "method", "this method is not allowed here.",
                          "Phương thức này không dùng được ở đây.");
        else if (strncmp(q->path, "/api/", 5) == 0)
            tv_resp_error(r, 404, "not_found", "no such API call.", "Không có lệnh API này.");
        else
            page_status(r, 404, "notfound.html");
        return;
    }
    int safe = strcmp(q->method, "GET") == 0 || strcmp(q->method, "HEAD") == 0;
    if (!safe && !csrf_ok(q)) {
        /* before anything else: a forged request learns nothing, not even the session's */
        tv_resp_error(r, 403, "csrf",
                      "the request was refused: it does not carry this session's CSRF token "
                      "or comes from another site.",
                      "Yêu cầu bị từ chối: thiếu mã chống giả mạo (CSRF) của phiên này hoặc "
                      "đến từ trang khác. Tải lại trang rồi thử lại.");
        return;
    }
    if (!(rt->flags & TV_RF_UPLOAD) && q->body_len > TV_REQ_FORM_MAX) {
        tv_resp_error(r, 413, "too_large", "the request is too large.", "Yêu cầu quá lớn.");
        return;
    }
    /* a request for a group's writer does not wait here for the commit under way */
    int lock = !(rt->flags & TV_RF_GROUP) || (rt->flags & (TV_RF_HEALTH | TV_RF_VENUE));
    if (lock) pthread_mutex_lock(w->mu);
    if (lock) tv_web_account_current(w, q);
    int refused = refuse_who(w, rt, q, r);
    if (!refused && !(rt->flags & TV_RF_NOLOCK)) rt->fn(w, q, r);
    if (lock) pthread_mutex_unlock(w->mu);
    if (!refused && (rt->flags & TV_RF_NOLOCK)) rt->fn(w, q, r); /* it locks what it reads */
}
