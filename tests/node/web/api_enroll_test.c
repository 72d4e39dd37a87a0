/* Enrolment by file and revocation through the console (node/web/api_enroll.c) over real
 * nodes: a commune's request downloaded, the province issuing its certificate for the
 * uploaded request, the commune accepting it; each refusal with the command's sentence
 * and nothing written; a clerk refused (only the operator enrols and revokes). */
#include "crdt/ids.h"
#include "node/logic/enroll.h"
#include "web_util.h"

typedef struct fixture {
    web_pair x; /* first: web_pair_teardown frees the fixture */
    char p_hex[2 * TV_NODE_ID_BYTES + 1], c_hex[2 * TV_NODE_ID_BYTES + 1];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    web_pair_make(&f->x);
    web_account(f->x.p, "op", TV_ACCOUNT_OPERATOR);
    web_account(f->x.p, "lan", TV_ACCOUNT_CLERK);
    web_account(f->x.c, "op", TV_ACCOUNT_OPERATOR);
    tv_hex_encode(f->p_hex, f->x.p->n->id.pk, TV_NODE_ID_BYTES);
    tv_hex_encode(f->c_hex, f->x.c->n->id.pk, TV_NODE_ID_BYTES);
    *state = f;
    return 0;
}

/* The value of the answer's header name, or NULL. */
static const char *header(const tv_resp *r, const char *name)
{
    for (size_t i = 0; i < r->nhdr; i++)
        if (strcmp(r->hdr[i].name, name) == 0) return r->hdr[i].value;
    return NULL;
}

/* A request file of node x, as the console downloads it (caller frees). */
static char *request_file(web_node *x, size_t *len)
{
    tv_req q;
    tv_resp r;
    web_request(x, &q, "GET", "/api/enroll/request", "op", "operator");
    web_answer(x, &q, &r);
    web_assert_status(&r, 200);
    char *file = r.body;
    *len = r.len;
    r.body = NULL;
    tv_resp_free(&r);
    return file;
}

/* POSTs body to path at x as its operator; the answer in *r. */
static int post_file(web_node *x, tv_req *q, tv_resp *r, const char *path, const char *body,
                     size_t len)
{
    web_request(x, q, "POST", path, "op", "operator");
    web_upload(q, body, len);
    return web_answer(x, q, r);
}

/* The certificate file the province issues for x's request through the console. */
static char *issue_file(fixture *f, web_node *x, size_t *len, const char *issued)
{
    size_t rlen;
    char *rq = request_file(x, &rlen);
    tv_req q;
    tv_resp r;
    post_file(f->x.p, &q, &r, "/api/enroll/issue", rq, rlen);
    free(rq);
    web_assert_status(&r, 200);
    assert_string_equal(header(&r, "X-Truyvet-Issued"), issued);
    char *file = r.body;
    *len = r.len;
    r.body = NULL;
    tv_resp_free(&r);
    return file;
}

static void test_issue_accept(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    web_request(f->x.c, &q, "GET", "/api/enroll/request", "op", "operator");
    web_answer(f->x.c, &q, &r);
    web_assert_status(&r, 200);
    assert_string_equal(header(&r, "Content-Disposition"),
                        "attachment; filename=\"yeu-cau-commune-22333.txt\"");
    assert_memory_equal(r.body, TV_ENROLL_REQUEST_MAGIC, strlen(TV_ENROLL_REQUEST_MAGIC));
    tv_resp_free(&r);

    store_counts before = test_counts(f->x.p->n);
    size_t len;
    char *cert = issue_file(f, f->x.c, &len, "new");
    assert_memory_equal(cert, TV_ENROLL_CERT_MAGIC, strlen(TV_ENROLL_CERT_MAGIC));
    store_counts after = test_counts(f->x.p->n);
    assert_int_equal(after.events, before.events + 1); /* the cert event */
    /* again: the same certificate, nothing more recorded */
    size_t len2;
    char *again = issue_file(f, f->x.c, &len2, "again");
    web_assert_unchanged(f->x.p->n, &after);
    free(again);

    post_file(f->x.c, &q, &r, "/api/enroll/accept", cert, len);
    web_assert_status(&r, 200);
    char want[200];
    snprintf(want, sizeof want, "{\"root\":\"%s\",\"cert\":{\"subject\":\"%s\"", f->p_hex,
             f->c_hex);
    assert_memory_equal(r.body, want, strlen(want));
    tv_resp_free(&r);
    crdt_cert *own = malloc(sizeof *own);
    store_txn *t;
    assert_int_equal(store_read_begin(f->x.c->n->st, &t), 0);
    assert_int_equal(store_cert_get(t, f->x.c->n->id.pk, own, NULL, NULL), 0);
    store_read_end(t);
    assert_memory_equal(own->issuer, f->x.p->n->id.pk, TV_NODE_ID_BYTES);
    free(own);
    /* accepting the same file again changes nothing */
    store_counts c_before = test_counts(f->x.c->n);
    post_file(f->x.c, &q, &r, "/api/enroll/accept", cert, len);
    web_assert_status(&r, 200);
    tv_resp_free(&r);
    web_assert_unchanged(f->x.c->n, &c_before);
    free(cert);
}

static void test_issue_refusals(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    size_t len;
    char *rq = request_file(f->x.c, &len), why[TV_ENROLL_WHY_MAX] = "", en[600];
    store_counts before = test_counts(f->x.p->n);
    web_request(f->x.p, &q, "POST", "/api/enroll/issue", "op", "operator");
    web_arg(&q, 0, "file", rq);
    web_answer(f->x.p, &q, &r);
    web_assert_error(&r, 400, "upload_type", "send the file itself, as application/octet-stream.");
    post_file(f->x.p, &q, &r, "/api/enroll/issue", "", 0);
    web_assert_error(&r, 400, "file_missing", "the file is empty: choose the file to send.");
    tv_enroll_request parsed;
    assert_int_not_equal(tv_enroll_request_parse(&parsed, "hello\n", 6, why), 0);
    snprintf(en, sizeof en,
             "cannot issue a certificate: the file is not a valid enrolment request: %s.", why);
    post_file(f->x.p, &q, &r, "/api/enroll/issue", "hello\n", 6);
    web_assert_error(&r, 400, "request_invalid", en);
    /* altered: a name changed after signing */
    char *bad = strstr(rq, "Phường");
    assert_non_null(bad);
    bad[1] = 'X';
    assert_int_not_equal(tv_enroll_request_parse(&parsed, rq, len, why), 0);
    snprintf(en, sizeof en,
             "cannot issue a certificate: the file is not a valid enrolment request: %s.", why);
    post_file(f->x.p, &q, &r, "/api/enroll/issue", rq, len);
    web_assert_error(&r, 400, "request_invalid", en);
    bad[1] = 'h';
    /* options */
    web_request(f->x.p, &q, "POST", "/api/enroll/issue", "op", "operator");
    web_upload(&q, rq, len);
    web_arg(&q, 1, "scope", "22333,,22334");
    web_answer(f->x.p, &q, &r);
    web_assert_error(&r, 400, "scope_invalid",
                     "--scope takes unit codes separated by commas, with no empty one.");
    char many[201 * 6 + 1] = "";
    for (int i = 0; i < 201; i++)
        strcat(many, i ? ",22333" : "22333");
    web_request(f->x.p, &q, "POST", "/api/enroll/issue", "op", "operator");
    web_upload(&q, rq, len);
    web_arg(&q, 1, "scope", many);
    web_answer(f->x.p, &q, &r);
    web_assert_error(&r, 400, "scope_invalid", "a scope holds at most 200 units.");
    web_request(f->x.p, &q, "POST", "/api/enroll/issue", "op", "operator");
    web_upload(&q, rq, len);
    web_arg(&q, 1, "days", "0");
    web_answer(f->x.p, &q, &r);
    web_assert_error(&r, 400, "days_invalid",
                     "--days takes a whole number of days from 1 to 36500.");
    web_assert_unchanged(f->x.p->n, &before);
    /* a commune enrols nobody */
    web_node *d = web_node_new(TV_ROLE_COMMUNE, "22334", "Xã khác");
    web_account(d, "op", TV_ACCOUNT_OPERATOR);
    store_counts c_before = test_counts(f->x.c->n);
    size_t dlen;
    char *drq = request_file(d, &dlen);
    post_file(f->x.c, &q, &r, "/api/enroll/issue", drq, dlen);
    web_assert_error(&r, 403, "enroll_refused",
                     "cannot issue a certificate: a commune node cannot enrol other nodes; its "
                     "district or province does.");
    web_assert_unchanged(f->x.c->n, &c_before);
    /* the province is the root: no request to download */
    web_request(f->x.p, &q, "GET", "/api/enroll/request", "op", "operator");
    web_answer(f->x.p, &q, &r);
    web_assert_error(&r, 409, "enroll_root",
                     "a province node is the root of trust and is not enrolled by anyone; it "
                     "enrols its districts with 'truyvet enroll issue'.");
    free(drq);
    web_node_free(d);
    free(rq);
}

static void test_accept_refusals(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    char why[TV_ENROLL_WHY_MAX] = "", en[600];
    web_node *d = web_node_new(TV_ROLE_COMMUNE, "22334", "Xã khác");
    web_account(d, "op", TV_ACCOUNT_OPERATOR);
    size_t len;
    char *cert = issue_file(f, d, &len, "new"); /* d's, not c's */
    store_counts before = test_counts(f->x.c->n);
    tv_enroll_cert_file *parsed = malloc(sizeof *parsed);
    assert_int_not_equal(tv_enroll_cert_file_parse(parsed, "hello\n", 6, why), 0);
    snprintf(en, sizeof en, "cannot accept the file: %s.", why);
    post_file(f->x.c, &q, &r, "/api/enroll/accept", "hello\n", 6);
    web_assert_error(&r, 400, "file_invalid", en);
    char d8[17], c8[17];
    tv_hex_encode(d8, d->n->id.pk, 8);
    memcpy(c8, f->c_hex, 16);
    c8[16] = '\0';
    snprintf(en, sizeof en,
             "cannot accept the file: the certificate is for node %s..., not for this node "
             "(%s...).",
             d8, c8);
    post_file(f->x.c, &q, &r, "/api/enroll/accept", cert, len);
    web_assert_error(&r, 403, "enroll_refused", en);
    /* altered: a byte of the last line (the issuer's signature) changed */
    char *sig = cert + len - 3;
    *sig = *sig == '0' ? '1' : '0';
    assert_int_equal(tv_enroll_cert_file_parse(parsed, cert, len, why), TV_ESIG);
    snprintf(en, sizeof en, "cannot accept the file: %s.", why);
    post_file(f->x.c, &q, &r, "/api/enroll/accept", cert, len);
    web_assert_error(&r, 400, "signature_invalid", en);
    web_assert_unchanged(f->x.c->n, &before);
    free(parsed);
    free(cert);
    web_node_free(d);
}

/* POST /api/revoke at the province as user/role with the fields given (NULL: none). */
static int revoke(fixture *f, tv_req *q, tv_resp *r, const char *user, const char *role,
                  const char *node, const char *reason)
{
    web_request(f->x.p, q, "POST", "/api/revoke", user, role);
    if (node) web_arg(q, 0, "node", node);
    if (reason) web_arg(q, 0, "reason", reason);
    return web_answer(f->x.p, q, r);
}

static void test_revoke(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    size_t len;
    free(issue_file(f, f->x.c, &len, "new"));
    store_counts before = test_counts(f->x.p->n);
    revoke(f, &q, &r, "op", "operator", NULL, "lost");
    web_assert_error(&r, 400, "node_missing", "revoke needs exactly one NODEID.");
    revoke(f, &q, &r, "op", "operator", "abc", "lost");
    web_assert_error(&r, 400, "node_invalid",
                     "'abc' is not a node id: a node id has 64 hex digits.");
    revoke(f, &q, &r, "op", "operator", f->c_hex, "lost\a");
    web_assert_error(&r, 400, "text_control", "the reason holds a control character (U+0007).");
    revoke(f, &q, &r, "op", "operator", f->p_hex, "lost");
    web_assert_error(&r, 400, "input_invalid",
                     "cannot revoke: a node cannot revoke its own key; the node that enrolled "
                     "it can.");
    revoke(f, &q, &r, "lan", "clerk", f->c_hex, "lost");
    web_assert_error(&r, 403, "forbidden", "this account's role may not do this.");
    web_assert_unchanged(f->x.p->n, &before);

    revoke(f, &q, &r, "op", "operator", f->c_hex, "máy bị mất");
    web_assert_status(&r, 200);
    char want[200];
    snprintf(want, sizeof want, "\",\"node\":\"%s\"}\n", f->c_hex);
    assert_non_null(strstr(r.body, want));
    tv_resp_free(&r);
    store_counts after = test_counts(f->x.p->n);
    assert_int_equal(after.events, before.events + 1);
    char en[200];
    snprintf(en, sizeof en, "node %.16s... is already revoked; nothing was recorded.", f->c_hex);
    revoke(f, &q, &r, "op", "operator", f->c_hex, NULL);
    web_assert_error(&r, 409, "revoked_already", en);
    web_assert_unchanged(f->x.p->n, &after);
}

/* Only the operator enrols: a clerk of the same node is refused each call. */
static void test_clerk_refused(void **state)
{
    fixture *f = *state;
    tv_req q;
    tv_resp r;
    size_t len;
    char *rq = request_file(f->x.c, &len);
    store_counts before = test_counts(f->x.p->n);
    static const char *const paths[] = {"/api/enroll/issue", "/api/enroll/accept"};
    for (int i = 0; i < 2; i++) {
        web_request(f->x.p, &q, "POST", paths[i], "lan", "clerk");
        web_upload(&q, rq, len);
        web_answer(f->x.p, &q, &r);
        web_assert_error(&r, 403, "forbidden", "this account's role may not do this.");
    }
    web_request(f->x.p, &q, "GET", "/api/enroll/request", "lan", "clerk");
    web_answer(f->x.p, &q, &r);
    web_assert_error(&r, 403, "forbidden", "this account's role may not do this.");
    web_assert_unchanged(f->x.p->n, &before);
    free(rq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue_accept, setup, web_pair_teardown),
        cmocka_unit_test_setup_teardown(test_issue_refusals, setup, web_pair_teardown),
        cmocka_unit_test_setup_teardown(test_accept_refusals, setup, web_pair_teardown),
        cmocka_unit_test_setup_teardown(test_revoke, setup, web_pair_teardown),
        cmocka_unit_test_setup_teardown(test_clerk_refused, setup, web_pair_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
