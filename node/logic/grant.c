/* Key grants: written by health nodes, installed by communes (see grant.h). */
#include "node/logic/grant.h"
#include "crdt/cert.h"
#include "crdt/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef struct owed {
    uint8_t subject[TV_NODE_ID_BYTES];
    char unit[TV_UNIT_CODE_MAX + 1];
} owed;

typedef struct scan_ctx {
    store_txn *t;
    const tv_node *n;
    crdt_cert *own, *c;
    owed *list;
    size_t len, cap;
} scan_ctx;

static int owed_one(const uint8_t *raw, size_t len, void *arg)
{
    scan_ctx *s = arg;
    if (crdt_cert_decode(s->c, raw, len)) return 0;
    const crdt_cert *c = s->c;
    if (c->role != CRDT_ROLE_COMMUNE || memcmp(c->issuer, s->n->id.pk, TV_NODE_ID_BYTES) == 0 ||
        !crdt_cert_health_covers(s->own, c->unit, strlen(c->unit)))
        return 0;
    int rc = store_revoked(s->t, c->subject);
    if (rc) return rc < 0 ? rc : 0;
    /* a health issuer sealed the commune's key into its certificate file already */
    crdt_cert *issuer = malloc(sizeof *issuer);
    if (!issuer) return TV_ENOMEM;
    rc = store_cert_get(s->t, c->issuer, issuer, NULL, NULL);
    int health_issuer = rc == TV_OK && (issuer->flags & CRDT_CERT_F_HEALTH) != 0;
    free(issuer);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (health_issuer) return 0;
    if ((rc = store_grant_held(s->t, c->subject, s->n->id.pk))) return rc < 0 ? rc : 0;
    if (s->len == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        owed *l = realloc(s->list, cap * sizeof *l);
        if (!l) return TV_ENOMEM;
        s->list = l;
        s->cap = cap;
    }
    memcpy(s->list[s->len].subject, c->subject, TV_NODE_ID_BYTES);
    strcpy(s->list[s->len].unit, c->unit);
    s->len++;
    return 0;
}

typedef struct mine_ctx {
    const tv_node *n;
    uint8_t key[TV_TRACING_KEY_BYTES];
    int found;
} mine_ctx;

static int mine_one(const store_grant *g, void *arg)
{
    mine_ctx *m = arg;
    if (strcmp(g->unit, m->n->unit) != 0) return 0;
    uint8_t xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
    int ok = crypto_sign_ed25519_sk_to_curve25519(xsk, m->n->id.sk) == 0 &&
             crypto_sign_ed25519_pk_to_curve25519(xpk, m->n->id.pk) == 0 &&
             crypto_box_seal_open(m->key, g->box, CRDT_GRANT_BOX_BYTES, xpk, xsk) == 0;
    sodium_memzero(xsk, sizeof xsk);
    m->found = ok;
    return ok;
}

/* Reads what there is to do: the grants owed (health node), or the key granted to n. */
static int survey(tv_node *n, int health, scan_ctx *s, mine_ctx *m)
{
    int rc = store_read_begin(n->st, &s->t);
    if (rc) return rc;
    if (health) {
        s->own = malloc(sizeof *s->own);
        s->c = malloc(sizeof *s->c);
        rc = !s->own || !s->c ? TV_ENOMEM : store_cert_get(s->t, n->id.pk, s->own, NULL, NULL);
        if (rc == TV_OK && (s->own->flags & CRDT_CERT_F_HEALTH))
            rc = store_cert_foreach(s->t, owed_one, s);
        if (rc == TV_ENOTFOUND) rc = TV_OK; /* not enrolled: nothing to grant */
        free(s->own);
        free(s->c);
    } else {
        rc = store_grants_of(s->t, n->id.pk, mine_one, m);
        if (rc == 1) rc = TV_OK;
    }
    store_read_end(s->t);
    return rc;
}

static int author(tv_node *n, const owed *list, size_t len, uint64_t *authored)
{
    uint8_t kc[TV_TRACING_KEY_BYTES], box[CRDT_GRANT_BOX_BYTES];
    int rc = TV_OK;
    for (size_t i = 0; i < len && rc == TV_OK; i++) {
        uint8_t xpk[crypto_box_PUBLICKEYBYTES];
        if (crypto_sign_ed25519_pk_to_curve25519(xpk, list[i].subject) != 0) continue;
        if (tv_node_commune_key(n, list[i].unit, kc)) continue;
        crypto_box_seal(box, kc, sizeof kc, xpk);
        crdt_key_grant g = {.unit = {list[i].unit, (uint32_t)strlen(list[i].unit)}, .box = box};
        memcpy(g.subject, list[i].subject, TV_NODE_ID_BYTES);
        rc = tv_node_add_grant(n, &g, NULL);
        if (rc == TV_ELIMIT) {
            uint64_t seq;
            if ((rc = tv_node_commit(n, &seq)) == TV_OK) rc = tv_node_add_grant(n, &g, NULL);
        }
        if (rc == TV_EPERM || rc == TV_ESCOPE) { /* not ours to grant after all */
            rc = TV_OK;
            continue;
        }
        if (rc == TV_OK) ++*authored;
    }
    sodium_memzero(kc, sizeof kc);
    uint64_t seq;
    if (rc == TV_OK && tv_node_pending(n)) rc = tv_node_commit(n, &seq);
    if (rc) tv_node_discard(n);
    return rc;
}

int tv_grant_pass_counts(tv_node *n, uint64_t *authored, int *installed)
{
    uint64_t a = 0;
    int inst = 0;
    if (authored) *authored = 0;
    if (installed) *installed = 0;
    uint8_t kp[TV_TRACING_KEY_BYTES];
    int health = tv_node_province_key(n, kp) == TV_OK;
    sodium_memzero(kp, sizeof kp);
    int wants = n->role == TV_ROLE_COMMUNE && n->tracing_kind != TV_KEY_COMMUNE &&
                n->tracing_kind != TV_KEY_PROVINCE;
    if ((!health && !wants) || tv_node_pending(n)) return TV_OK;
    scan_ctx s = {.n = n};
    mine_ctx m = {.n = n};
    int rc = survey(n, health, &s, &m);
    if (rc == TV_OK && (s.len || m.found)) {
        int took = tv_node_lock_try(n);
        if (took == TV_EBUSY) {
            rc = TV_OK; /* another process records now: the next pass */
        } else if (took < 0) {
            rc = took;
        } else {
            if (tv_node_may_record(n) == TV_OK) {
                if (s.len) rc = author(n, s.list, s.len, &a);
                if (rc == TV_OK && m.found) {
                    rc = tv_node_set_tracing_key(n, TV_KEY_COMMUNE, n->unit, m.key);
                    inst = rc == TV_OK;
                }
            }
            if (took == 1) tv_node_lock_release(n);
        }
    }
    sodium_memzero(m.key, sizeof m.key);
    free(s.list);
    if (authored) *authored = a;
    if (installed) *installed = inst;
    return rc;
}

int tv_grant_pass(tv_node *n)
{
    return tv_grant_pass_counts(n, NULL, NULL);
}
