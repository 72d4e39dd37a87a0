/* The console's logins and accounts: the session, login and logout, and the operator's
 * (and for controllers and guards, the clerk's) accounts page, over node/logic/account.h.
 * Logins and account changes go to the node's console log (`truyvet user log`); the
 * session lives in memory only (session.h). */
#include "node/web/api.h"

#include "crdt/error.h"
#include "node/format/timefmt.h"
#include "node/logic/account.h"
#include "node/render/account.h"
#include "node/web/route.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define COOKIE_ATTRS "; Path=/; HttpOnly; SameSite=Strict"

/* Sets cookie name=value (Secure when the browser came through a TLS proxy). */
static void set_cookie(const tv_req *q, tv_resp *r, const char *name, const char *value, int clear)
{
    char v[200];
    int tls = q->forwarded_proto && strcmp(q->forwarded_proto, "https") == 0;
    snprintf(v, sizeof v, "%s=%s" COOKIE_ATTRS "%s%s", name, value, tls ? "; Secure" : "",
             clear ? "; Max-Age=0" : "");
    tv_resp_header(r, "Set-Cookie", v);
}

/* The node, as the pages say who they work for. */
static void node_json(tv_web *w, tv_json *j)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, w->n->id.pk, TV_NODE_ID_BYTES);
    tv_json_key(j, "node");
    tv_json_object_begin(j);
    tv_json_key(j, "id");
    tv_json_string(j, hex);
    tv_json_key(j, "role");
    tv_json_string(j, tv_role_name(w->n->role));
    tv_json_key(j, "unit");
    tv_json_string(j, w->n->unit);
    tv_json_key(j, "name");
    tv_json_string(j, w->n->name);
    tv_json_key(j, "health");
    tv_json_bool(j, tv_web_health_node(w));
    tv_json_key(j, "unlocked");
    tv_json_bool(j, w->n->unlocked);
    tv_json_object_end(j);
}

static int venue_id_json(const store_venue *v, void *ctx)
{
    char hex[2 * TV_VENUE_ID_BYTES + 1];
    tv_hex_encode(hex, v->id, TV_VENUE_ID_BYTES);
    tv_json_string(ctx, hex);
    return 0;
}

/* Who is logged in: the keys user, role and csrf of a session. */
static void who_keys(tv_json *j, const tv_session_view *v)
{
    tv_json_key(j, "user");
    tv_json_string(j, v->user);
    tv_json_key(j, "role");
    tv_json_string(j, v->role);
    tv_json_key(j, "csrf");
    tv_json_string(j, v->csrf);
}

int tv_api_session(tv_web *w, tv_req *q, tv_resp *r)
{
    FILE *f = tv_resp_json(r, 200);
    if (!f) return 0;
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    if (q->who.user[0]) {
        who_keys(&j, &q->who);
        if (strcmp(q->who.role, "controller") == 0) {
            tv_json_key(&j, "venues");
            tv_json_array_begin(&j);
            (void)tv_account_controller_venues(w->n, q->who.user, venue_id_json, &j);
            tv_json_array_end(&j);
        }
    } else {
        /* before login: the double-submit token of the login form */
        char token[TV_TOKEN_STR];
        if (q->cookie_csrf && strlen(q->cookie_csrf) == TV_TOKEN_STR - 1)
            snprintf(token, sizeof token, "%s", q->cookie_csrf);
        else
            tv_token_new(token);
        set_cookie(q, r, "tv_csrf", token, 0);
        tv_json_key(&j, "user");
        tv_json_null(&j);
        tv_json_key(&j, "csrf");
        tv_json_string(&j, token);
    }
    node_json(w, &j);
    tv_api_as_of(w, &j); /* how fresh what this node holds is: every page says it */
    tv_json_object_end(&j);
    tv_json_line_end(&j);
    return 0;
}

/* Answers a refused login. */
static void login_refused(tv_resp *r, int rc, const tv_account *a)
{
    if (rc == TV_EPASSPHRASE) {
        tv_resp_error(r, 401, "login_failed", "wrong name or password.",
                      "Sai tên đăng nhập hoặc mật khẩu.");
    } else if (rc == TV_EACCLOCKED) {
        char when[TV_TIME_STR_BYTES], en[200], vi[300];
        tv_time_format_vn(when, sizeof when, a->locked_until_ms);
        when[16] = '\0'; /* 2021-10-06T08:15 */
        snprintf(en, sizeof en,
                 "the account is locked after %d failed logins, until %s (Vietnam time); the "
                 "operator can unlock it sooner.",
                 TV_ACCOUNT_FAILURES_MAX, when + 11);
        snprintf(vi, sizeof vi,
                 "Tài khoản bị khóa vì đăng nhập sai %d lần liên tiếp, đến %s. Người quản trị "
                 "có thể mở khóa sớm hơn.",
                 TV_ACCOUNT_FAILURES_MAX, when + 11);
        FILE *f = tv_resp_json(r, 423);
        if (!f) return;
        tv_json j;
        tv_json_init(&j, f);
        tv_json_object_begin(&j);
        tv_json_key(&j, "error");
        tv_json_string(&j, "account_locked");
        tv_json_key(&j, "message");
        tv_json_string(&j, en);
        tv_json_key(&j, "message_vi");
        tv_json_string(&j, vi);
        tv_json_key(&j, "until");
        tv_time_format_vn(when, sizeof when, a->locked_until_ms); /* the whole time again */
        tv_json_string(&j, when);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    } else if (rc == TV_EPERM) {
        tv_resp_error(r, 403, "account_disabled", "this account is disabled.",
                      "Tài khoản này đã bị tạm khóa bởi người quản trị.");
    } else if (rc == TV_ESCOPE) {
        tv_resp_error(r, 403, "controller_no_venue",
                      "this phone no longer controls a venue recorded on this node.",
                      "Số điện thoại này không còn quản lý địa điểm nào. Hãy hỏi cán bộ xã.");
    } else {
        tv_resp_fail(r, rc, "cannot log in", "không đăng nhập được");
    }
}

int tv_api_login(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *name = tv_req_arg(q, "name"), *pass = tv_req_arg(q, "password");
    if (!name || !name[0] || !pass || !pass[0]) {
        tv_resp_error(r, 400, "login_missing", "give the name and the password.",
                      "Hãy nhập tên đăng nhập (hoặc số điện thoại) và mật khẩu (hoặc mã PIN).");
        return 0;
    }
    tv_account a = {0};
    tv_login l;
    pthread_mutex_lock(w->mu);
    int rc = tv_account_login_begin(w->n, name, &l);
    pthread_mutex_unlock(w->mu);
    if (rc == 0) {
        tv_account_login_check(&l, pass, strlen(pass)); /* Argon2id: the node stays free */
        pthread_mutex_lock(w->mu);
        rc = tv_account_login_end(w->n, &l, q->remote, tv_wall_ms(), &a);
        pthread_mutex_unlock(w->mu);
    }
    sodium_memzero(&l, sizeof l);
    sodium_memzero((char *)pass, strlen(pass));
    if (rc) {
        login_refused(r, rc, &a);
        return 0;
    }
    char token[TV_TOKEN_STR];
    tv_session_view v;
    tv_session_new(&w->sessions, a.name, tv_account_role_name(a.role), tv_wall_ms(), token, &v);
    set_cookie(q, r, "tv_session", token, 0);
    sodium_memzero(token, sizeof token);
    FILE *f = tv_resp_json(r, 200);
    if (!f) return 0;
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    who_keys(&j, &v);
    tv_json_object_end(&j);
    tv_json_line_end(&j);
    return 0;
}

int tv_api_logout(tv_web *w, tv_req *q, tv_resp *r)
{
    tv_session_end(&w->sessions, q->cookie_session);
    (void)tv_account_logout(w->n, q->remote, q->who.user, tv_wall_ms());
    set_cookie(q, r, "tv_session", "", 1);
    FILE *f = tv_resp_json(r, 200);
    if (f) fputs("{}\n", f);
    return 0;
}

/* --- accounts ----------------------------------------------------------------------- */

typedef struct list_ctx {
    FILE *f;
    int n;
    int64_t now_ms;
} list_ctx;

static int list_one(const tv_account *a, void *arg)
{
    list_ctx *c = arg;
    if (c->n++) fputc(',', c->f);
    return tv_render_account_json(c->f, a, c->now_ms);
}

int tv_api_users(tv_web *w, tv_req *q, tv_resp *r)
{
    (void)q;
    FILE *f = tv_resp_json(r, 200);
    if (!f) return 0;
    list_ctx c = {f, 0, tv_wall_ms()};
    fputs("{\"users\":[", f);
    int rc = tv_account_list(w->n, list_one, &c);
    fputs("]}\n", f);
    if (rc) tv_resp_fail(r, rc, "cannot list the accounts", "không liệt kê được tài khoản");
    return 0;
}

/* Answers an account change's refusal (why: the logic's sentence, for a bad name or
 * password). */
static void account_refused(tv_resp *r, int rc, const char *why, const char *name)
{
    char en[300];
    switch (rc) {
    case TV_EINVAL:
        snprintf(en, sizeof en, "%s.", why ? why : "invalid name or password");
        tv_resp_error(r, 400, "account_invalid", en,
                      "Tên hoặc mật khẩu không hợp lệ: tên gồm chữ thường không dấu, số, dấu "
                      "chấm, gạch; mật khẩu 8 đến 128 ký tự; mã PIN đúng 6 chữ số.");
        break;
    case TV_EEXIST:
        snprintf(en, sizeof en, "an account named %s exists already.", name);
        tv_resp_error(r, 409, "account_exists", en, "Tên tài khoản này đã có.");
        break;
    case TV_ENOTFOUND:
        snprintf(en, sizeof en,
                 "no account named %s, or (a controller) the phone controls no venue here.", name);
        tv_resp_error(r, 404, "account_unknown", en,
                      "Không có tài khoản này, hoặc số điện thoại chưa được phép quét cho địa "
                      "điểm nào.");
        break;
    case TV_EPERM:
        tv_resp_error(r, 403, "forbidden",
                      "this account may not do this (a health officer needs a health node; a "
                      "clerk manages only controllers and guards; nobody removes their own "
                      "account).",
                      "Tài khoản này không có quyền làm việc này.");
        break;
    default:
        tv_resp_fail(r, rc, "the account was not changed", "chưa thay đổi được tài khoản");
    }
}

static tv_account_actor actor_of(const tv_req *q)
{
    tv_account_role role = 0;
    (void)tv_account_role_parse(q->who.role, &role);
    return (tv_account_actor){.name = q->who.user, .role = (int)role, .remote = q->remote};
}

static void ok_json(tv_resp *r, int status)
{
    FILE *f = tv_resp_json(r, status);
    if (f) fputs("{}\n", f);
}

int tv_api_user_add(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *name = tv_req_arg(q, "name"), *role_s = tv_req_arg(q, "role");
    const char *pass = tv_req_arg(q, "password");
    tv_account_role role;
    if (!role_s || tv_account_role_parse(role_s, &role)) {
        tv_resp_error(r, 400, "role_invalid",
                      "the role is operator, clerk, health, guard or controller.",
                      "Vai trò là quản trị, cán bộ, y tế, bảo vệ hoặc người quét của địa điểm.");
        return 0;
    }
    const char *why = NULL;
    tv_account_actor by = actor_of(q);
    int rc = tv_account_add(w->n, &by, name ? name : "", role, pass ? pass : "",
                            pass ? strlen(pass) : 0, tv_wall_ms(), &why);
    if (pass) sodium_memzero((char *)pass, strlen(pass));
    if (rc)
        account_refused(r, rc, why, name ? name : "");
    else
        ok_json(r, 201);
    return 0;
}

/* POST /api/users/{name}/(password|unlock|remove). */
int tv_api_user_change(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *name = q->cap[0], *what = strrchr(q->path, '/') + 1;
    tv_account_actor by = actor_of(q);
    const char *why = NULL;
    int rc, end_sessions = 1;
    int64_t now = tv_wall_ms();
    if (strcmp(what, "password") == 0) {
        const char *pass = tv_req_arg(q, "password");
        rc = tv_account_passwd(w->n, &by, name, pass ? pass : "", pass ? strlen(pass) : 0, now,
                               &why);
        if (pass) sodium_memzero((char *)pass, strlen(pass));
    } else if (strcmp(what, "unlock") == 0) {
        rc = tv_account_unlock(w->n, &by, name, now);
        end_sessions = 0;
    } else {
        rc = tv_account_remove(w->n, &by, name, now);
    }
    if (rc) {
        account_refused(r, rc, why, name);
        return 0;
    }
    if (end_sessions) tv_session_end_user(&w->sessions, name);
    ok_json(r, 200);
    return 0;
}

int tv_web_account_current(tv_web *w, tv_req *q)
{
    if (!q->who.user[0]) return 0;
    tv_account a;
    int rc = tv_account_get(w->n, q->who.user, &a);
    int64_t now = tv_wall_ms();
    if (rc == 0 && !a.disabled && a.locked_until_ms <= now &&
        strcmp(tv_account_role_name(a.role), q->who.role) == 0)
        return 0;
    /* removed, disabled, locked or changed role: the session ends */
    tv_session_end_user(&w->sessions, q->who.user);
    memset(&q->who, 0, sizeof q->who);
    return 1;
}
