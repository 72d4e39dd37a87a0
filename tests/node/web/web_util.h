/* What the console's API tests share: a real node in a temporary directory with the
 * console's server state around it (no socket: requests go to tv_web_dispatch as the
 * server would make them), its accounts, requests with a session and its CSRF token, and
 * exact checks of the answers. */
#ifndef TV_TESTS_NODE_WEB_UTIL_H
#define TV_TESTS_NODE_WEB_UTIL_H

#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/logic/account.h"
#include "node/logic/enroll.h"
#include "node/logic/venue.h"
#include "node/render/json.h"
#include "node/web/gate.h"
#include "node/web/http.h"
#include "node/web/live.h"
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
    tv_web_gate_free(x->w.gate);
    tv_web_live_free(x->w.live);
    tv_session_table_free(&x->w.sessions);
    pthread_mutex_destroy(&x->mu);
    void *tn = x->tn;
    test_node_teardown(&tn);
    free(x);
}

/* A commune node (22333). */
static inline web_node *web_commune_new(void)
{
    return web_node_new(TV_ROLE_COMMUNE, "22333", "Phường Bắc Nha Trang");
}

/* A province node (56), the root of its tree with the health flag, reopened so that it
 * holds its health certificate: a health node. */
static inline web_node *web_health_new(void)
{
    web_node *x = web_node_new(TV_ROLE_PROVINCE, "56", "Sở Y tế Khánh Hòa");
    assert_int_equal(tv_enroll_make_root(x->n, 1, NULL), 0);
    tv_node_close(x->n);
    assert_int_equal(tv_node_open(x->n, x->tn->dir, TV_NODE_WRITE), 0);
    return x;
}

/* A cmocka teardown of a fixture whose first member is its web_node *. */
static inline int web_fixture_teardown(void **state)
{
    web_node **x = *state;
    web_node_free(*x);
    free(x);
    return 0;
}

/* The console takes the node's writer lock for each change it makes: the test lets go of
 * the one the node was opened with. */
static inline void web_unlock(web_node *x)
{
    tv_node_lock_release(x->n);
}

/* The guard's gate and the live lists, started (after web_unlock: the gate's writer takes
 * the lock for each group). */
static inline void web_gate_start(web_node *x)
{
    assert_int_equal(tv_web_live_new(&x->w, &x->w.live), 0);
    assert_int_equal(tv_web_gate_new(&x->w, &x->w.gate), 0);
}

/* Registers a market named name at x's commune (the node's writer lock held); its ID in
 * hex. */
static inline void web_market(web_node *x, const char *name, char hex[2 * TV_VENUE_ID_BYTES + 1])
{
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY};
    v.name = (crdt_text){name, (uint32_t)strlen(name)};
    v.category = tv_venue_category_parse("market")->code;
    assert_int_equal(tv_venue_register(x->n, &v), 0);
    tv_hex_encode(hex, v.venue, TV_VENUE_ID_BYTES);
}

/* How many events x has recorded itself (its own origin's sequence). */
static inline uint64_t web_own_events(web_node *x)
{
    store_txn *t;
    store_frontier fr = {0};
    assert_int_equal(store_read_begin(x->n->st, &t), 0);
    int rc = store_frontier_get(t, x->n->id.pk, &fr);
    store_read_end(t);
    assert_true(rc == 0 || rc == TV_ENOTFOUND);
    return fr.seq;
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

static inline int web_account_put(store_txn *t, void *ctx)
{
    return store_account_put(t, ctx);
}

/* An account written to the store as it is, past tv_account_add's checks (a health
 * officer's on a commune node, which may not make one): to show that a route's own check
 * holds even then. */
static inline void web_account_raw(web_node *x, const char *name, tv_account_role role)
{
    store_account a = {.role = (uint8_t)role, .hash = "x"};
    snprintf(a.name, sizeof a.name, "%s", name);
    assert_int_equal(store_write(x->n->st, web_account_put, &a), 0);
}

/* A commune with a market "Chợ Vĩnh Hải" and the account user of role, the node's writer
 * lock let go (web_unlock): the fixture of the gate's and the printouts' tests. */
typedef struct web_market_fixture {
    web_node *x;
    char venue[2 * TV_VENUE_ID_BYTES + 1];
} web_market_fixture;

static inline web_market_fixture *web_market_fixture_new(const char *user, tv_account_role role)
{
    web_market_fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->x = web_commune_new();
    web_market(f->x, "Chợ Vĩnh Hải", f->venue);
    web_unlock(f->x);
    web_account(f->x, user, role);
    return f;
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

/* Adds the fields of kv (name, value, ..., NULL; kv NULL: none), or with query, the query
 * parameters. */
static inline void web_args(tv_req *q, int query, const char *const *kv)
{
    for (size_t i = 0; kv && kv[i]; i += 2)
        web_arg(q, query, kv[i], kv[i + 1]);
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

/* Dispatches method path as user of role (logged in, with the session's CSRF token), with
 * kv as web_args adds them (a GET's as its query); returns the status, the answer in r. */
static inline int web_call(web_node *x, tv_resp *r, const char *method, const char *path,
                           const char *user, const char *role, const char *const *kv)
{
    tv_req q;
    web_request(x, &q, method, path, user, role);
    web_args(&q, strcmp(method, "GET") == 0, kv);
    return web_answer(x, &q, r);
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

/* Asserts an error answer: its status, code and (when en is not NULL) English sentence,
 * followed by tail; frees r. */
static inline void web_assert_error_then(tv_resp *r, int status, const char *code, const char *en,
                                         const char *tail)
{
    if (r->status != status) print_error("answer %d: %.*s\n", r->status, (int)r->len, r->body);
    assert_int_equal(r->status, status);
    char want[96];
    snprintf(want, sizeof want, "{\"error\":\"%s\",\"message\":", code);
    assert_non_null(r->body);
    assert_memory_equal(r->body, want, strlen(want));
    if (en) {
        char *m = web_json_string(en);
        const char *at = r->body + strlen(want);
        if (strncmp(at, m, strlen(m)) != 0) print_error("message %s, expected %s\n", at, m);
        assert_memory_equal(at, m, strlen(m));
        at += strlen(m);
        if (strncmp(at, tail, strlen(tail)) != 0) print_error("after the message: %s\n", at);
        assert_memory_equal(at, tail, strlen(tail));
        free(m);
    }
    tv_resp_free(r);
}

/* Asserts an error answer: its status, code and (when en is not NULL) English sentence;
 * frees r. */
static inline void web_assert_error(tv_resp *r, int status, const char *code, const char *en)
{
    web_assert_error_then(r, status, code, en, "");
}

/* Dispatches q and asserts the error answer as web_assert_error does. */
static inline void web_refused(web_node *x, tv_req *q, int status, const char *code, const char *en)
{
    tv_resp r;
    web_answer(x, q, &r);
    web_assert_error(&r, status, code, en);
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
