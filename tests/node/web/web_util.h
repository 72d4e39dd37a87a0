/* What the console's API tests share: a real node in a temporary directory with the
 * console's server state around it (no socket: requests go to tv_web_dispatch as the
 * server would make them), its accounts, requests with a session and its CSRF token, and
 * exact checks of the answers. */
#ifndef TV_TESTS_NODE_WEB_UTIL_H
#define TV_TESTS_NODE_WEB_UTIL_H

#include "crdt/error.h"
#include "node/logic/account.h"
#include "node/logic/enroll.h"
#include "node/render/json.h"
#include "node/web/http.h"
#include "node/web/route.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

typedef struct web_node {
    test_node *tn;
    tv_node *n;
    tv_web w;
    pthread_mutex_t mu;
} web_node;

static inline web_node *web_node_new(tv_role role, const char *unit, const char *name)
{
    web_node *x = calloc(1, sizeof *x);
    void *tn = NULL;
    assert_non_null(x);
    assert_int_equal(test_node_setup(&tn, role, unit, name), 0);
    x->tn = tn;
    x->n = &x->tn->n;
    pthread_mutex_init(&x->mu, NULL);
    x->w.n = x->n;
    x->w.mu = &x->mu;
    assert_int_equal(tv_session_table_init(&x->w.sessions), 0);
    return x;
}

static inline void web_node_free(web_node *x)
{
    if (!x) return;
    tv_session_table_free(&x->w.sessions);
    pthread_mutex_destroy(&x->mu);
    void *tn = x->tn;
    test_node_teardown(&tn);
    free(x);
}

/* A province (56, the root of trust, holding the health key) and a commune (22333) not
 * yet enrolled under it: the two nodes of the enrolment and units tests. */
typedef struct web_pair {
    web_node *p, *c;
} web_pair;

static inline void web_pair_make(web_pair *x)
{
    x->p = web_node_new(TV_ROLE_PROVINCE, "56", "Sở Y tế Khánh Hòa");
    assert_int_equal(tv_enroll_make_root(x->p->n, 1, NULL), 0);
    x->c = web_node_new(TV_ROLE_COMMUNE, "22333", "Phường Bắc Nha Trang");
}

/* A cmocka teardown of a fixture that starts with a web_pair. */
static inline int web_pair_teardown(void **state)
{
    web_pair *x = *state;
    web_node_free(x->p);
    web_node_free(x->c);
    free(x);
    return 0;
}

/* An account of the node's console (a controller's PIN: 6 digits). */
static inline void web_account(web_node *x, const char *name, tv_account_role role)
{
    const char *why, *pass = role == TV_ACCOUNT_CONTROLLER ? "123456" : "mat-khau-dai";
    assert_int_equal(
        tv_account_add(x->n, &TV_ACCOUNT_CLI, name, role, pass, strlen(pass), tv_wall_ms(), &why),
        0);
}

/* A request by user (logged in with role; NULL: none) carrying its CSRF token. */
static inline void web_request(web_node *x, tv_req *q, const char *method, const char *path,
                               const char *user, const char *role)
{
    memset(q, 0, sizeof *q);
    q->method = method;
    q->path = path;
    q->host = "127.0.0.1:8080";
    q->origin = "http://127.0.0.1:8080";
    q->body = (char *)"";
    if (role) {
        char token[TV_TOKEN_STR];
        assert_int_equal(tv_session_new(&x->w.sessions, user, role, tv_wall_ms(), token, &q->who),
                         0);
        q->csrf = q->who.csrf;
    }
}

/* Adds a form field (or with query, a query parameter). */
static inline void web_arg(tv_req *q, int query, const char *key, const char *val)
{
    tv_kv *kv = query ? &q->query[q->nquery++] : &q->form[q->nform++];
    kv->key = (char *)key;
    kv->val = (char *)val;
    if (!query) q->content_type = "application/x-www-form-urlencoded";
}

/* The body of an upload. */
static inline void web_upload(tv_req *q, const char *body, size_t len)
{
    q->content_type = "application/octet-stream";
    q->body = (char *)body;
    q->body_len = len;
}

/* Dispatches q; returns the status (the caller frees r). */
static inline int web_answer(web_node *x, tv_req *q, tv_resp *r)
{
    memset(r, 0, sizeof *r);
    tv_web_dispatch(&x->w, q, r);
    assert_int_equal(tv_resp_finish(r), 0);
    return r->status;
}

/* s as a JSON string, quotes included (malloc'd). */
static inline char *web_json_string(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_string(&j, s);
    fclose(f);
    return buf;
}

/* Asserts an error answer: its status, code and (when en is not NULL) English sentence;
 * frees r. */
static inline void web_assert_error(tv_resp *r, int status, const char *code, const char *en)
{
    if (r->status != status) print_error("answer %d: %.*s\n", r->status, (int)r->len, r->body);
    assert_int_equal(r->status, status);
    char want[96];
    snprintf(want, sizeof want, "{\"error\":\"%s\",\"message\":", code);
    assert_non_null(r->body);
    assert_memory_equal(r->body, want, strlen(want));
    if (en) {
        char *m = web_json_string(en);
        if (strncmp(r->body + strlen(want), m, strlen(m)) != 0)
            print_error("message %s, expected %s\n", r->body + strlen(want), m);
        assert_memory_equal(r->body + strlen(want), m, strlen(m));
        free(m);
    }
    tv_resp_free(r);
}

/* Asserts the answer's status, printing its body when it differs. */
static inline void web_assert_status(const tv_resp *r, int status)
{
    if (r->status != status) print_error("answer %d: %.*s\n", r->status, (int)r->len, r->body);
    assert_int_equal(r->status, status);
}

/* Asserts that n's store holds what *before says (nothing was written). */
static inline void web_assert_unchanged(tv_node *n, const store_counts *before)
{
    store_counts now = test_counts(n);
    assert_memory_equal(&now, before, sizeof now);
}

#endif
