/* Trust: the root, certificates, revocations, and the checks every batch from another
 * origin passes before it is applied (a forked origin's freeze: forks.c). */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "store/internal.h"

#include <sodium.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static int meta_id(store_txn *t, const char *name, uint8_t out[TV_NODE_ID_BYTES])
{
    size_t len;
    int rc = store_meta_get(t, name, out, TV_NODE_ID_BYTES, &len);
    if (rc) return rc == TV_ELIMIT ? TV_ECORRUPT : rc;
    return len == TV_NODE_ID_BYTES ? TV_OK : TV_ECORRUPT;
}

int store_root_get(store_txn *t, uint8_t root[TV_NODE_ID_BYTES])
{
    return meta_id(t, "root", root);
}

int store_root_set(store_txn *t, const uint8_t root[TV_NODE_ID_BYTES])
{
    return store_meta_put(t, "root", root, TV_NODE_ID_BYTES);
}

/* --- decoded certificates, cached ----------------------------------------------------
 *
 * Every batch applied, every session started and every partition judged reads the
 * certificates of the nodes involved; decoding one clears and fills a 3 KB structure.
 * A store handle keeps what it decoded, keyed by subject, for as long as the counter of
 * certificates written (COUNT_CERT_WRITES, raised in the same transaction as each write)
 * stays the same: read in the caller's transaction, so a snapshot older or newer than the
 * cache, another process's write, or this transaction's own write all miss it. Nothing is
 * cached from a transaction that wrote a certificate (it may still be aborted). A store
 * handle is used by one thread at a time. */

/* A decoded certificate, compact: a commune's takes a hundred bytes, not the 3 KB of a
 * crdt_cert with its room for 200 scope entries. */
struct cert_memo {
    uint8_t subject[TV_NODE_ID_BYTES], issuer[TV_NODE_ID_BYTES];
    uint32_t role, flags, scope_len;
    char unit[TV_UNIT_CODE_MAX + 1];
    int64_t not_before_ms, not_after_ms;
    char scope[][TV_UNIT_CODE_MAX + 1];
};

static uint64_t cert_writes(store_txn *t)
{
    uint8_t k[4];
    store_be32_(k, COUNT_CERT_WRITES);
    MDB_val v;
    return store_get_(t, T_COUNTS, k, 4, &v) == TV_OK && v.mv_size == 8 ? store_get64_(v.mv_data)
                                                                        : 0;
}

void store_cert_memo_free_(store *s)
{
    for (size_t i = 0; i < s->cmemo_cap; i++)
        free(s->cmemo[i]);
    free(s->cmemo);
    s->cmemo = NULL;
    s->cmemo_cap = s->cmemo_n = 0;
}

static size_t memo_index(const store *s, const uint8_t *subject)
{
    uint64_t h;
    memcpy(&h, subject, sizeof h); /* node ids are public keys: uniformly spread */
    size_t i = (size_t)h & (s->cmemo_cap - 1);
    while (s->cmemo[i] && memcmp(s->cmemo[i]->subject, subject, TV_NODE_ID_BYTES) != 0)
        i = (i + 1) & (s->cmemo_cap - 1);
    return i;
}

/* Copies a cached certificate into c, as crdt_cert_decode would have filled it. */
static int memo_get(store_txn *t, const uint8_t *subject, uint64_t gen, crdt_cert *c)
{
    store *s = t->s;
    if (t->certs_written || !s->cmemo_cap || s->cmemo_gen != gen) return 0;
    const cert_memo *m = s->cmemo[memo_index(s, subject)];
    if (!m) return 0;
    memset(c, 0, sizeof *c);
    memcpy(c->subject, m->subject, TV_NODE_ID_BYTES);
    memcpy(c->issuer, m->issuer, TV_NODE_ID_BYTES);
    c->role = m->role;
    memcpy(c->unit, m->unit, sizeof c->unit);
    c->scope_len = m->scope_len;
    memcpy(c->scope, m->scope, m->scope_len * sizeof c->scope[0]);
    c->flags = m->flags;
    c->not_before_ms = m->not_before_ms;
    c->not_after_ms = m->not_after_ms;
    return 1;
}

static void memo_put(store_txn *t, uint64_t gen, const crdt_cert *c)
{
    store *s = t->s;
    if (t->certs_written) return;                      /* it may still be aborted */
    if (s->cmemo_gen != gen) store_cert_memo_free_(s); /* certificates changed since */
    s->cmemo_gen = gen;
    if (2 * (s->cmemo_n + 1) > s->cmemo_cap) {
        size_t cap = s->cmemo_cap ? 2 * s->cmemo_cap : 64;
        cert_memo **grown = calloc(cap, sizeof *grown);
        if (!grown) return; /* a cache: going without is fine */
        cert_memo **old = s->cmemo;
        size_t oldcap = s->cmemo_cap;
        s->cmemo = grown;
        s->cmemo_cap = cap;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i]) s->cmemo[memo_index(s, old[i]->subject)] = old[i];
        free(old);
    }
    size_t i = memo_index(s, c->subject);
    if (s->cmemo[i]) return;
    cert_memo *m = malloc(sizeof *m + c->scope_len * sizeof m->scope[0]);
    if (!m) return;
    memcpy(m->subject, c->subject, TV_NODE_ID_BYTES);
    memcpy(m->issuer, c->issuer, TV_NODE_ID_BYTES);
    m->role = c->role;
    m->flags = c->flags;
    m->scope_len = c->scope_len;
    memcpy(m->unit, c->unit, sizeof m->unit);
    m->not_before_ms = c->not_before_ms;
    m->not_after_ms = c->not_after_ms;
    memcpy(m->scope, c->scope, c->scope_len * sizeof m->scope[0]);
    s->cmemo[i] = m;
    s->cmemo_n++;
}

int store_cert_get(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES], crdt_cert *c,
                   const uint8_t **raw, size_t *raw_len)
{
    uint64_t gen = c ? cert_writes(t) : 0;
    if (c && !raw && !raw_len && memo_get(t, subject, gen, c)) return TV_OK;
    MDB_val v;
    int rc = store_get_(t, T_CERTS, subject, TV_NODE_ID_BYTES, &v);
    if (rc) return rc;
    if (v.mv_size <= 8) return TV_ECORRUPT;
    const uint8_t *p = (const uint8_t *)v.mv_data + 8;
    size_t n = v.mv_size - 8;
    /* installed certificates were verified on the way in (`verify` checks the logs that
     * carry them); reading one back costs no signature check */
    if (c && crdt_cert_decode(c, p, n)) return TV_ECORRUPT;
    if (c) memo_put(t, gen, c);
    if (raw) *raw = p;
    if (raw_len) *raw_len = n;
    return TV_OK;
}

int store_revoked(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES])
{
    MDB_val v;
    int rc = store_get_(t, T_REVOKED, subject, TV_NODE_ID_BYTES, &v);
    if (rc == TV_ENOTFOUND) return 0;
    return rc ? rc : 1;
}

/* Stores c (already checked) unless a certificate of the subject with a later not_before
 * is installed. A new certificate lifts a fork freeze: re-certification is how an operator
 * vouches for the node again. */
static int cert_store(store_txn *t, const crdt_cert *c, const uint8_t *raw, size_t len)
{
    crdt_cert *old = malloc(sizeof *old);
    if (!old) return TV_ENOMEM;
    int rc = store_cert_get(t, c->subject, old, NULL, NULL);
    int keep_old = rc == TV_OK && old->not_before_ms > c->not_before_ms;
    int same = rc == TV_OK && old->not_before_ms == c->not_before_ms;
    free(old);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (keep_old || same) return TV_OK;
    uint8_t *v = malloc(8 + len);
    if (!v) return TV_ENOMEM;
    store_be64_(v, (uint64_t)c->not_before_ms);
    memcpy(v + 8, raw, len);
    rc = store_put_(t, T_CERTS, c->subject, TV_NODE_ID_BYTES, v, 8 + len);
    free(v);
    if (rc) return rc;
    t->certs_written = 1;
    if ((rc = store_count_add_(t, COUNT_CERT_WRITES, 1))) return rc;
    /* lift a freeze (forks.c) */
    return store_fork_lift_(t, c->subject);
}

/* Checks that child may stand: the root's self-signed certificate, or issued by a node
 * whose installed certificate it narrows, whose key is not revoked. */
static int cert_check(store_txn *t, const crdt_cert *child)
{
    uint8_t root[TV_NODE_ID_BYTES];
    int rc = store_root_get(t, root);
    if (rc) return rc == TV_ENOTFOUND ? TV_EUNTRUSTED : rc;
    if (crdt_cert_is_root(child))
        return memcmp(child->subject, root, TV_NODE_ID_BYTES) == 0 ? TV_OK : TV_EUNTRUSTED;
    if ((rc = store_revoked(t, child->issuer)) != 0) return rc < 0 ? rc : TV_EREVOKED;
    crdt_cert *parent = malloc(sizeof *parent);
    if (!parent) return TV_ENOMEM;
    rc = store_cert_get(t, child->issuer, parent, NULL, NULL);
    if (rc == TV_ENOTFOUND) rc = TV_EUNTRUSTED;
    if (rc == TV_OK) rc = crdt_cert_narrows(parent, child);
    free(parent);
    return rc;
}

int store_cert_install(store_txn *t, const uint8_t *cert, size_t len)
{
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    /* the same bytes as installed already (every HELLO carries the sender's chain): no
     * signature to check again */
    int rc = crdt_cert_decode(c, cert, len);
    const uint8_t *held;
    size_t held_len;
    if (rc == TV_OK && store_cert_get(t, c->subject, NULL, &held, &held_len) == TV_OK &&
        held_len == len && memcmp(held, cert, len) == 0 && store_revoked(t, c->subject) == 0) {
        free(c);
        return TV_OK;
    }
    rc = crdt_cert_open(c, cert, len);
    if (rc == TV_OK) rc = cert_check(t, c);
    if (rc == TV_OK) rc = store_revoked(t, c->subject) ? TV_EREVOKED : TV_OK;
    if (rc == TV_OK) rc = cert_store(t, c, cert, len);
    free(c);
    return rc;
}

int store_cert_foreach(store_txn *t, store_cert_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_CERTS], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k, v;
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (v.mv_size <= 8) continue;
        if ((out = fn((const uint8_t *)v.mv_data + 8, v.mv_size - 8, ctx))) break;
    }
    mdb_cursor_close(cur);
    if (out) return out;
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

/* Checks one event of a trusted origin against its certificate. */
static int event_in_scope(store_txn *t, const crdt_cert *oc, const crdt_event *ev,
                          const uint8_t *root)
{
    if (!ev->known) return TV_OK; /* a newer node's event: stored and relayed, not judged */
    switch (ev->type) {
    case CRDT_EV_SCAN:
        return crdt_cert_covers(oc, ev->u.scan.unit.p, ev->u.scan.unit.n) ? TV_OK : TV_ESCOPE;
    case CRDT_EV_CONTROLLER_ADD:
    case CRDT_EV_CONTROLLER_REMOVE:
        return crdt_cert_covers(oc, ev->u.controller.unit.p, ev->u.controller.unit.n) ? TV_OK
                                                                                      : TV_ESCOPE;
    case CRDT_EV_VENUE_REMINDER:
        return crdt_cert_covers(oc, ev->u.reminder.unit.p, ev->u.reminder.unit.n) ? TV_OK
                                                                                  : TV_ESCOPE;
    case CRDT_EV_PERSON:
        return crdt_cert_covers(oc, ev->u.person.unit.p, ev->u.person.unit.n) ? TV_OK : TV_ESCOPE;
    case CRDT_EV_CASE_STATUS:
        return crdt_cert_health_covers(oc, ev->u.cstatus.unit.p, ev->u.cstatus.unit.n) ? TV_OK
                                                                                       : TV_ESCOPE;
    case CRDT_EV_RISK_LEVEL:
        return crdt_cert_health_covers(oc, ev->u.risk.unit.p, ev->u.risk.unit.n) ? TV_OK
                                                                                 : TV_ESCOPE;
    case CRDT_EV_UNIT:
        /* a unit under one of the author's (a village of its commune, a commune it places
         * in a district), or the author's own (a district naming itself) */
        return crdt_cert_names_unit(oc, ev->u.unit.code.p, ev->u.unit.code.n) ? TV_OK : TV_ESCOPE;
    case CRDT_EV_REVEAL:
        /* only a node that can read sealed details shows them, and says so */
        return (oc->flags & CRDT_CERT_F_HEALTH) ? TV_OK : TV_ESCOPE;
    case CRDT_EV_VENUE_UPSERT:
        /* every upsert names its unit, so acceptance does not depend on arrival order */
        if (!(ev->u.venue.fields & CRDT_VENUE_F_UNIT)) return TV_ESCOPE;
        return crdt_cert_covers(oc, ev->u.venue.unit.p, ev->u.venue.unit.n) ? TV_OK : TV_ESCOPE;
    case CRDT_EV_CERT: {
        crdt_cert *c = malloc(sizeof *c);
        if (!c) return TV_ENOMEM;
        int rc = crdt_cert_open(c, ev->u.cert.cert, ev->u.cert.len);
        if (rc == TV_OK)
            rc = crdt_cert_is_root(c) ? (memcmp(c->subject, oc->subject, TV_NODE_ID_BYTES) == 0 &&
                                                 memcmp(c->subject, root, TV_NODE_ID_BYTES) == 0
                                             ? TV_OK
                                             : TV_ESCOPE)
                                      : (crdt_cert_narrows(oc, c) ? TV_ESCOPE : TV_OK);
        else
            rc = TV_ESCOPE;
        free(c);
        return rc;
    }
    case CRDT_EV_REVOKE: {
        if (memcmp(oc->subject, root, TV_NODE_ID_BYTES) == 0) return TV_OK;
        crdt_cert *c = malloc(sizeof *c);
        if (!c) return TV_ENOMEM;
        int rc = store_cert_get(t, ev->u.revoke.subject, c, NULL, NULL);
        if (rc == TV_OK)
            rc = memcmp(c->issuer, oc->subject, TV_NODE_ID_BYTES) == 0 ? TV_OK : TV_ESCOPE;
        else if (rc == TV_ENOTFOUND)
            rc = TV_ESCOPE;
        free(c);
        return rc;
    }
    }
    return TV_OK;
}

int store_trust_check_(store_txn *t, const crdt_batch *b, const crdt_event *evs, uint32_t n,
                       int *own)
{
    uint8_t self[TV_NODE_ID_BYTES], root[TV_NODE_ID_BYTES];
    int rc = meta_id(t, "node_id", self);
    if (rc && rc != TV_ENOTFOUND) return rc;
    *own = rc == TV_OK && memcmp(self, b->h.origin, TV_NODE_ID_BYTES) == 0;
    if (*own) return TV_OK;

    if ((rc = store_root_get(t, root))) return rc == TV_ENOTFOUND ? TV_EUNTRUSTED : rc;
    if ((rc = store_revoked(t, b->h.origin)) != 0) return rc < 0 ? rc : TV_EREVOKED;
    crdt_cert *oc = malloc(sizeof *oc);
    if (!oc) return TV_ENOMEM;
    rc = store_cert_get(t, b->h.origin, oc, NULL, NULL);
    if (rc == TV_ENOTFOUND) rc = TV_EUNTRUSTED;
    /* the certificate must cover the time the events were written */
    if (rc == TV_OK && (crdt_cert_valid_at(oc, (int64_t)crdt_hlc_ms(b->h.hlc_min)) ||
                        crdt_cert_valid_at(oc, (int64_t)crdt_hlc_ms(b->h.hlc_max))))
        rc = TV_EUNTRUSTED;
    if (rc) {
        free(oc);
        return rc;
    }
    for (uint32_t i = 0; i < n && rc == 0; i++)
        rc = event_in_scope(t, oc, &evs[i], root);
    free(oc);
    return rc;
}

int store_trust_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES])
{
    if (ev->type == CRDT_EV_REVOKE) {
        uint8_t v[TV_NODE_ID_BYTES + 8];
        memcpy(v, origin, TV_NODE_ID_BYTES);
        store_be64_(v + TV_NODE_ID_BYTES, ev->hlc);
        if (store_revoked(t, ev->u.revoke.subject) == 1) return TV_OK; /* first one stands */
        return store_put_(t, T_REVOKED, ev->u.revoke.subject, TV_NODE_ID_BYTES, v, sizeof v);
    }
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    /* verified before any write (store_trust_check_, or issued by ourselves) */
    int rc = crdt_cert_decode(c, ev->u.cert.cert, ev->u.cert.len);
    if (rc == TV_OK)
        rc = cert_store(t, c, ev->u.cert.cert, ev->u.cert.len);
    else
        rc = TV_ECORRUPT;
    free(c);
    return rc;
}
