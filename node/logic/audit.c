/* The audit of full views of people's details (audit.h). */
#include "node/logic/audit.h"

#include "crdt/error.h"

#include <stdlib.h>
#include <string.h>

typedef struct audit_fill {
    store_txn *t;
    crdt_cert *cert; /* scratch: a certificate's scope table is large */
    tv_audit *a;
} audit_fill;

static int audit_row(uint64_t hlc, const uint8_t *origin, const uint8_t *person, const char *reason,
                     size_t reason_len, void *arg)
{
    audit_fill *x = arg;
    tv_audit *a = x->a;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        tv_audit_row *r = realloc(a->rows, cap * sizeof *r);
        if (!r) return TV_ENOMEM;
        a->rows = r;
        a->cap = cap;
    }
    tv_audit_row *r = &a->rows[a->n++];
    memset(r, 0, sizeof *r);
    r->hlc = hlc;
    memcpy(r->origin, origin, TV_NODE_ID_BYTES);
    memcpy(r->person, person, TV_PERSON_REF_BYTES);
    size_t n = reason_len < CRDT_TEXT_BYTES_MAX ? reason_len : CRDT_TEXT_BYTES_MAX;
    memcpy(r->reason, reason, n);
    r->reason[n] = '\0';
    if (store_cert_get(x->t, origin, x->cert, NULL, NULL) == 0)
        snprintf(r->unit, sizeof r->unit, "%s", x->cert->unit);
    return 0;
}

int tv_audit_get(tv_node *n, tv_audit *out)
{
    memset(out, 0, sizeof *out);
    audit_fill x = {.a = out, .cert = malloc(sizeof *x.cert)};
    if (!x.cert) return TV_ENOMEM;
    int rc = store_read_begin(n->st, &x.t);
    if (rc == 0) {
        rc = store_reveals_foreach(x.t, audit_row, &x);
        store_read_end(x.t);
    }
    free(x.cert);
    return rc;
}

void tv_audit_free(tv_audit *a)
{
    free(a->rows);
    memset(a, 0, sizeof *a);
}
