/* Trust: the root, certificates, revocations, and the checks every batch passes before it
 * is applied (a forked origin's freeze: forks.c). */
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

/* The HLC of subject's latest revocation held, or 0 when none. */
static int revoked_hlc(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES], uint64_t *hlc)
{
    MDB_val v;
    *hlc = 0;
    int rc = store_get_(t, T_REVOKED, subject, TV_NODE_ID_BYTES, &v);
    if (rc == TV_ENOTFOUND) return TV_OK;
    if (rc) return rc;
    if (v.mv_size != TV_NODE_ID_BYTES + 8) return TV_ECORRUPT;
    *hlc = store_get64_((const uint8_t *)v.mv_data + TV_NODE_ID_BYTES);
    return TV_OK;
}

int store_revoked(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES])
{
    uint64_t hlc;
    int rc = revoked_hlc(t, subject, &hlc);
    if (rc || hlc == 0) return rc;
    /* T6: a certificate the root issued after the revocation reinstates the key */
    uint8_t root[TV_NODE_ID_BYTES];
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    rc = store_root_get(t, root);
    int reinstated = rc == TV_OK && store_cert_get(t, subject, c, NULL, NULL) == TV_OK &&
                     memcmp(c->issuer, root, TV_NODE_ID_BYTES) == 0 &&
                     c->not_before_ms > (int64_t)crdt_hlc_ms(hlc);
    free(c);
    if (rc && rc != TV_ENOTFOUND) return rc;
    return !reinstated;
}

/* --- the tree's shape (PROTOCOL.md §3.2, rules T1-T7) --------------------------------- */

/* The issuers above a certified node, as installed here: id[0] is its issuer, id[1] that
 * one's issuer, and so on up to the root or as far as certificates are held. */
typedef struct chain {
    size_t n;
    uint8_t id[CRDT_CERT_CHAIN_MAX][TV_NODE_ID_BYTES];
} chain;

/* Fills ch above subject. scratch is clobbered. Returns 0 or TV_ENOTFOUND (subject has no
 * certificate here), or a store error. */
static int chain_load(store_txn *t, const uint8_t *subject, crdt_cert *scratch, chain *ch)
{
    ch->n = 0;
    int rc = store_cert_get(t, subject, scratch, NULL, NULL);
    if (rc) return rc;
    while (!crdt_cert_is_root(scratch)) {
        if (ch->n == CRDT_CERT_CHAIN_MAX) return TV_OK;
        memcpy(ch->id[ch->n++], scratch->issuer, TV_NODE_ID_BYTES);
        rc = store_cert_get(t, scratch->issuer, scratch, NULL, NULL);
        if (rc) return rc == TV_ENOTFOUND ? TV_OK : rc;
    }
    return TV_OK;
}

/* Position of id in ch (0: the issuer itself), or -1. */
static int chain_find(const chain *ch, const uint8_t *id)
{
    for (size_t i = 0; i < ch->n; i++)
        if (memcmp(ch->id[i], id, TV_NODE_ID_BYTES) == 0) return (int)i;
    return -1;
}

static int is_root_id(store_txn *t, const uint8_t *id)
{
    uint8_t root[TV_NODE_ID_BYTES];
    return store_root_get(t, root) == TV_OK && memcmp(root, id, TV_NODE_ID_BYTES) == 0;
}

int store_chain_check(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES], int64_t at_ms,
                      const char **rule)
{
    uint8_t root[TV_NODE_ID_BYTES], cur[TV_NODE_ID_BYTES];
    const char *why = STORE_RULE_T7;
    int rc = store_root_get(t, root);
    if (rc) {
        if (rule) *rule = why;
        return rc == TV_ENOTFOUND ? TV_EUNTRUSTED : rc;
    }
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    memcpy(cur, subject, TV_NODE_ID_BYTES);
    rc = TV_EUNTRUSTED; /* a chain longer than CRDT_CERT_CHAIN_MAX */
    for (int depth = 0; depth < CRDT_CERT_CHAIN_MAX; depth++) {
        int got = store_cert_get(t, cur, c, NULL, NULL);
        if (got) {
            rc = got == TV_ENOTFOUND ? TV_EUNTRUSTED : got;
            break;
        }
        int rv = store_revoked(t, cur);
        if (rv) {
            rc = rv < 0 ? rv : TV_EREVOKED;
            break;
        }
        if (at_ms != STORE_TIME_ANY && c->not_after_ms && at_ms >= c->not_after_ms) {
            rc = TV_EUNTRUSTED; /* expired */
            break;
        }
        if (crdt_cert_is_root(c)) {
            rc = memcmp(c->subject, root, TV_NODE_ID_BYTES) == 0 ? TV_OK : TV_EUNTRUSTED;
            break;
        }
        memcpy(cur, c->issuer, TV_NODE_ID_BYTES);
    }
    free(c);
    if (rule) *rule = rc ? why : NULL;
    return rc;
}

/* Judges certificate c (its signature verified) against the rules of the tree as the
 * store holds it: T1 the root, T2 an issuer whose chain holds and whose certificate c
 * narrows, T3 no certificate for the issuer or a node above it, T4 a certified node is
 * re-certified only along its own issuer chain. Returns 0 (c may be installed), 1 (c is
 * lawful but its issuer is below the subject's installed issuer: it never replaces it),
 * TV_EUNTRUSTED (the issuer's chain is not held yet), TV_EREVOKED (an issuer in it is
 * revoked), TV_EPERM (a rule is broken: *rule says which) or a store error. */
int store_cert_judge(store_txn *t, const crdt_cert *c, int consented, const char **rule)
{
    uint8_t root[TV_NODE_ID_BYTES];
    *rule = STORE_RULE_T1;
    int rc = store_root_get(t, root);
    if (rc) return rc == TV_ENOTFOUND ? TV_EUNTRUSTED : rc;
    if (crdt_cert_is_root(c))
        return memcmp(c->subject, root, TV_NODE_ID_BYTES) == 0 ? TV_OK : TV_EPERM;
    if (memcmp(c->subject, root, TV_NODE_ID_BYTES) == 0) return TV_EPERM;
    *rule = STORE_RULE_T2;
    if ((rc = store_chain_check(t, c->issuer, STORE_TIME_ANY, NULL))) return rc;
    crdt_cert *parent = malloc(sizeof *parent);
    chain *ch = malloc(sizeof *ch);
    if (!parent || !ch) {
        free(parent);
        free(ch);
        return TV_ENOMEM;
    }
    rc = store_cert_get(t, c->issuer, parent, NULL, NULL);
    if (rc == TV_OK && crdt_cert_narrows(parent, c)) rc = TV_EPERM;
    if (rc == TV_OK) rc = chain_load(t, c->issuer, parent, ch);
    if (rc == TV_OK && chain_find(ch, c->subject) >= 0) {
        *rule = STORE_RULE_T3;
        rc = TV_EPERM;
    }
    /* T4: the subject's installed certificate, if any, binds it to its issuer chain */
    if (rc == TV_OK && store_cert_get(t, c->subject, parent, NULL, NULL) == TV_OK &&
        memcmp(parent->issuer, c->issuer, TV_NODE_ID_BYTES) != 0) {
        uint8_t held_issuer[TV_NODE_ID_BYTES];
        memcpy(held_issuer, parent->issuer, TV_NODE_ID_BYTES);
        if (chain_find(ch, held_issuer) >= 0) {
            rc = 1; /* c's issuer is below the subject's: lawful, never replaces */
        } else {
            rc = chain_load(t, c->subject, parent, ch);
            /* from outside the subject's chain only with the subject's consent (its signed
             * request): a district cannot take another's commune, nor pre-empt its key */
            if (rc == TV_OK && chain_find(ch, c->issuer) < 0 && !consented) {
                *rule = STORE_RULE_T4;
                rc = TV_EPERM;
            }
        }
    }
    free(parent);
    free(ch);
    if (rc == TV_OK || rc == 1) *rule = NULL;
    return rc;
}

/* Stores c (already judged) when it replaces what is installed for its subject: nothing
 * is, or c's issuer is the installed one's and c is newer (by not_before), or c's issuer
 * is above the installed one's in its chain (T4). So the installed certificate is a
 * function of the set of lawful certificates held, whatever their order of arrival. A new
 * certificate lifts a fork freeze: re-certification is how an operator vouches for the
 * node again. */
/* Whether subject's installed certificate came with its consent (the top bit of the
 * first 8 bytes of its record). */
static int installed_consented(store_txn *t, const uint8_t *subject)
{
    MDB_val v;
    return store_get_(t, T_CERTS, subject, TV_NODE_ID_BYTES, &v) == TV_OK && v.mv_size > 8 &&
           (((const uint8_t *)v.mv_data)[0] & 0x80);
}

static int cert_store(store_txn *t, const crdt_cert *c, int consented, const uint8_t *raw,
                      size_t len)
{
    crdt_cert *old = malloc(sizeof *old);
    chain *ch = malloc(sizeof *ch);
    if (!old || !ch) {
        free(old);
        free(ch);
        return TV_ENOMEM;
    }
    int rc = store_cert_get(t, c->subject, old, NULL, NULL);
    int replace = rc == TV_ENOTFOUND;
    if (rc == TV_OK) {
        /* what decides is read before chain_load, which reuses old as its scratch */
        int old_consented = installed_consented(t, c->subject);
        int same = memcmp(old->issuer, c->issuer, TV_NODE_ID_BYTES) == 0;
        int64_t old_nb = old->not_before_ms;
        int issuer_cmp = memcmp(c->issuer, old->issuer, TV_NODE_ID_BYTES);
        uint8_t old_issuer[TV_NODE_ID_BYTES];
        memcpy(old_issuer, old->issuer, TV_NODE_ID_BYTES);
        int above = 0, below = 0;
        if (!same && (rc = chain_load(t, c->subject, old, ch)) == TV_OK)
            above = chain_find(ch, c->issuer) > 0;
        if (!same && !above && rc == TV_OK && (rc = chain_load(t, c->issuer, old, ch)) == TV_OK)
            below = chain_find(ch, old_issuer) >= 0;
        if (same)
            replace = c->not_before_ms > old_nb ||
                      (c->not_before_ms == old_nb && consented && !old_consented);
        else if (above)
            replace = 1; /* T4: from above the installed one's issuer */
        else if (below)
            replace = 0; /* T4: from below it, never, consent or not */
        else if (consented && !old_consented)
            replace = 1; /* the subject's consent outranks a certificate without it */
        else if (consented && old_consented) /* two requests of the subject: the later */
            replace = c->not_before_ms > old_nb || (c->not_before_ms == old_nb && issuer_cmp > 0);
    }
    free(old);
    free(ch);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (!replace) return TV_OK;
    uint8_t *v = malloc(8 + len);
    if (!v) return TV_ENOMEM;
    store_be64_(v, (uint64_t)c->not_before_ms);
    if (consented) v[0] |= 0x80; /* not_before is a positive time: its top bit is free */
    memcpy(v + 8, raw, len);
    rc = store_put_(t, T_CERTS, c->subject, TV_NODE_ID_BYTES, v, 8 + len);
    free(v);
    if (rc) return rc;
    t->certs_written = 1;
    if ((rc = store_count_add_(t, COUNT_CERT_WRITES, 1))) return rc;
    /* lift a freeze (forks.c) */
    return store_fork_lift_(t, c->subject);
}

int store_cert_install_rule(store_txn *t, const uint8_t *cert, size_t len, const char **rule)
{
    const char *why = NULL;
    if (rule) *rule = NULL;
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
    rc = crdt_cert_open_memo(c, cert, len, t->s->sig_memo);
    if (rc == TV_OK) rc = store_cert_judge(t, c, 0, &why);
    /* a revoked key takes a certificate from the root only: that reinstates it (T6) */
    if (rc == TV_OK && !is_root_id(t, c->issuer) && store_revoked(t, c->subject)) {
        why = STORE_RULE_T6;
        rc = TV_EREVOKED;
    }
    if (rc == TV_OK) rc = cert_store(t, c, 0, cert, len);
    if (rc == 1) rc = TV_OK; /* lawful, not installed: the subject's issuer is above */
    free(c);
    if (rule) *rule = why;
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

/* --- venues: who registered them, where (rules V1-V3) ------------------------------- */

int store_venue_reg_get_(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES],
                         uint8_t registrar[TV_NODE_ID_BYTES], char unit[UNIT_KEY_BYTES])
{
    MDB_val v;
    int rc = store_get_(t, T_VENUE_REG, venue, TV_VENUE_ID_BYTES, &v);
    if (rc) return rc;
    if (v.mv_size != TV_NODE_ID_BYTES + UNIT_KEY_BYTES) return TV_ECORRUPT;
    if (registrar) memcpy(registrar, v.mv_data, TV_NODE_ID_BYTES);
    if (unit) {
        memcpy(unit, (const uint8_t *)v.mv_data + TV_NODE_ID_BYTES, UNIT_KEY_BYTES);
        unit[UNIT_KEY_BYTES - 1] = '\0';
    }
    return TV_OK;
}

int store_venue_reg_put_(store_txn *t, const crdt_venue_upsert *v,
                         const uint8_t origin[TV_NODE_ID_BYTES])
{
    int rc = store_venue_reg_get_(t, v->venue, NULL, NULL);
    if (rc != TV_ENOTFOUND) return rc; /* the first registration in its log stands */
    uint8_t val[TV_NODE_ID_BYTES + UNIT_KEY_BYTES];
    memcpy(val, origin, TV_NODE_ID_BYTES);
    store_unit_key_(val + TV_NODE_ID_BYTES, v->unit.p, v->unit.n);
    return store_put_(t, T_VENUE_REG, v->venue, TV_VENUE_ID_BYTES, val, sizeof val);
}

/* What a batch registers as it goes: venues registered by earlier events of the batch
 * count for its later events. */
typedef struct batch_regs {
    uint32_t n;
    struct {
        uint8_t venue[TV_VENUE_ID_BYTES];
        char unit[UNIT_KEY_BYTES];
    } r[CRDT_BATCH_EVENTS_MAX];
} batch_regs;

static int text_is(const crdt_text *x, const char *s)
{
    return x->n == strlen(s) && memcmp(x->p, s, x->n) == 0;
}

/* Whether this node shows a venue of unit: its own scope covers it (V3). A store without
 * a certificate of its own (a tool's, a test's: an unenrolled node takes no other origin's
 * batch at all, having no root) shows every unit. */
static int shown_here(const crdt_cert *mine, const char *unit, size_t n)
{
    return !mine || crdt_cert_covers(mine, unit, n);
}

/* Judges an event about venue `venue` that names `unit`, from an origin with certificate
 * oc, against the venue's registration (V2). What happens to it here depends only on the
 * unit and this node's own scope (mine, NULL when it has none), never on what arrived
 * before: a venue of a unit outside it is kept as bytes only (*inert = 1: this node shows
 * nothing of it); inside it, an event about a venue not registered yet waits (V3). */
static int venue_event(store_txn *t, const crdt_cert *oc, const crdt_cert *mine,
                       const batch_regs *regs, const uint8_t *venue, const crdt_text *unit,
                       const char **rule, int *inert)
{
    /* every event about a venue names its unit, so that it is judged the same whatever
     * arrived before it */
    *rule = STORE_RULE_V2;
    if (unit->n == 0) return TV_ESCOPE;
    int rc = TV_ENOTFOUND;
    char reg_unit[UNIT_KEY_BYTES];
    if (shown_here(mine, unit->p, unit->n)) {
        rc = store_venue_reg_get_(t, venue, NULL, reg_unit);
        for (uint32_t i = regs->n; rc == TV_ENOTFOUND && i-- > 0;)
            if (memcmp(regs->r[i].venue, venue, TV_VENUE_ID_BYTES) == 0) {
                memcpy(reg_unit, regs->r[i].unit, UNIT_KEY_BYTES);
                rc = TV_OK;
            }
        if (rc == TV_OK) /* V2: the registered unit, which the origin must cover */
            return text_is(unit, reg_unit) && crdt_cert_covers(oc, reg_unit, strlen(reg_unit))
                       ? TV_OK
                       : TV_ESCOPE;
        if (rc != TV_ENOTFOUND) return rc;
    }
    *rule = STORE_RULE_S1;
    if (!crdt_cert_covers(oc, unit->p, unit->n)) return TV_ESCOPE;
    if (!shown_here(mine, unit->p, unit->n)) {
        *inert = 1;
        return TV_OK;
    }
    *rule = STORE_RULE_V3;
    return TV_EPARKED;
}

/* The venue an event is about and the unit it names; 0 for other events. */
static int venue_of(const crdt_event *ev, const uint8_t **venue, const crdt_text **unit)
{
    switch (ev->known ? ev->type : 0) {
    case CRDT_EV_SCAN:
        *venue = ev->u.scan.venue;
        *unit = &ev->u.scan.unit;
        return 1;
    case CRDT_EV_CONTROLLER_ADD:
    case CRDT_EV_CONTROLLER_REMOVE:
        *venue = ev->u.controller.venue;
        *unit = &ev->u.controller.unit;
        return 1;
    case CRDT_EV_VENUE_REMINDER:
        *venue = ev->u.reminder.venue;
        *unit = &ev->u.reminder.unit;
        return 1;
    case CRDT_EV_VENUE_UPSERT:
        *venue = ev->u.venue.venue;
        *unit = &ev->u.venue.unit; /* n = 0 when the upsert leaves the unit alone */
        return 1;
    }
    return 0;
}

int store_cert_event_check_(store_txn *t, const uint8_t *origin, const crdt_cert_event *ce,
                            const char **rule)
{
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    *rule = STORE_RULE_T2;
    int rc = crdt_cert_open_memo(c, ce->cert, ce->len, t->s->sig_memo);
    /* a cert event carries certificates its origin issued */
    if (rc == TV_OK && memcmp(c->issuer, origin, TV_NODE_ID_BYTES) != 0) rc = TV_EPERM;
    if (rc == TV_OK && ce->consent) { /* a consent that does not verify is a forgery */
        *rule = STORE_RULE_T4;
        if (crdt_cert_consent_verify(c, ce->consent_name.p, ce->consent_name.n,
                                     ce->consent_created_ms, ce->consent_sig))
            rc = TV_EPERM;
    }
    if (rc == TV_OK) rc = store_cert_judge(t, c, ce->consent, rule);
    free(c);
    if (rc == 1 || rc == TV_OK) return TV_OK;
    return store_fatal_(rc) ? rc : TV_ESCOPE;
}

int store_revoke_event_check_(store_txn *t, const uint8_t *origin, const crdt_revoke *rv,
                              const uint8_t *root, const char **rule)
{
    *rule = STORE_RULE_T5;
    const uint8_t *subject = rv->subject;
    if (!root || memcmp(subject, root, TV_NODE_ID_BYTES) == 0) return TV_ESCOPE;
    if (memcmp(origin, root, TV_NODE_ID_BYTES) == 0) return TV_OK;
    crdt_cert *c = malloc(sizeof *c);
    chain *ch = malloc(sizeof *ch);
    int rc = c && ch ? chain_load(t, subject, c, ch) : TV_ENOMEM;
    if (rc == TV_OK) rc = chain_find(ch, origin) >= 0 ? TV_OK : TV_ESCOPE;
    /* the subject's certificate not held yet (it travels in its issuer's log): judged
     * again when certificates arrive */
    if (rc == TV_ENOTFOUND) rc = TV_EUNTRUSTED;
    free(c);
    free(ch);
    return rc;
}

/* A venue's registration by oc's subject (V1: its id derives from the registrar's key and
 * the nonce; S1: in the registrar's scope; V2: registered again only in the same unit, here
 * or earlier in the batch, whose registrations regs collects). A venue of a unit this node
 * does not show is *inert (V3). */
static int venue_register(store_txn *t, const crdt_cert *oc, const crdt_cert *mine,
                          batch_regs *regs, const crdt_venue_upsert *v, const char **rule,
                          int *inert)
{
    uint8_t id[TV_VENUE_ID_BYTES];
    tv_venue_id_derive(id, oc->subject, v->nonce);
    *rule = STORE_RULE_V1;
    if (memcmp(id, v->venue, TV_VENUE_ID_BYTES) != 0) return TV_ESCOPE;
    *rule = STORE_RULE_S1;
    if (!crdt_cert_covers(oc, v->unit.p, v->unit.n)) return TV_ESCOPE;
    if (!shown_here(mine, v->unit.p, v->unit.n)) {
        *inert = 1; /* a venue of a unit this node does not show (V3) */
        return TV_OK;
    }
    char held[UNIT_KEY_BYTES];
    int rc = store_venue_reg_get_(t, v->venue, NULL, held);
    if (rc == TV_OK) {
        *rule = STORE_RULE_V2; /* registered again: in the same unit only */
        return text_is(&v->unit, held) ? TV_OK : TV_ESCOPE;
    }
    if (rc != TV_ENOTFOUND) return rc;
    for (uint32_t i = 0; i < regs->n; i++)
        if (memcmp(regs->r[i].venue, v->venue, TV_VENUE_ID_BYTES) == 0) {
            *rule = STORE_RULE_V2;
            return text_is(&v->unit, regs->r[i].unit) ? TV_OK : TV_ESCOPE;
        }
    memcpy(regs->r[regs->n].venue, v->venue, TV_VENUE_ID_BYTES);
    store_unit_key_((uint8_t *)regs->r[regs->n].unit, v->unit.p, v->unit.n);
    regs->n++;
    return TV_OK;
}

/* Checks one event of a trusted origin against its certificate and the rules. */
static int event_in_scope(store_txn *t, const crdt_cert *oc, const crdt_cert *mine,
                          batch_regs *regs, const crdt_event *ev, const uint8_t *root,
                          const char **rule, int *inert)
{
    *rule = STORE_RULE_S1;
    *inert = 0;
    if (!ev->known) return TV_OK; /* a newer node's event: stored and relayed, not judged */
    const uint8_t *venue;
    const crdt_text *unit;
    if (ev->type == CRDT_EV_VENUE_UPSERT && ev->u.venue.registers)
        return venue_register(t, oc, mine, regs, &ev->u.venue, rule, inert);
    if (venue_of(ev, &venue, &unit))
        return venue_event(t, oc, mine, regs, venue, unit, rule, inert);
    switch (ev->type) {
    case CRDT_EV_PERSON:
        return crdt_cert_covers(oc, ev->u.person.unit.p, ev->u.person.unit.n) ? TV_OK : TV_ESCOPE;
    case CRDT_EV_CASE_STATUS:
    case CRDT_EV_EXPOSURE:
    case CRDT_EV_REVEAL: /* it names the person to every node holding the log */
    case CRDT_EV_HOLD:
        *rule = STORE_RULE_S2; /* only ever inside a sealed event */
        return TV_ESCOPE;
    case CRDT_EV_SEALED:
        /* only a health node writes what only health nodes and one commune may read */
        *rule = STORE_RULE_S2;
        return (oc->flags & CRDT_CERT_F_HEALTH) ? TV_OK : TV_ESCOPE;
    case CRDT_EV_RISK_LEVEL:
        return crdt_cert_health_covers(oc, ev->u.risk.unit.p, ev->u.risk.unit.n) ? TV_OK
                                                                                 : TV_ESCOPE;
    case CRDT_EV_UNIT:
        /* a unit under one of the author's (a village of its commune, a commune it places
         * in a district), or the author's own (a district naming itself) */
        return crdt_cert_names_unit(oc, ev->u.unit.code.p, ev->u.unit.code.n) ? TV_OK : TV_ESCOPE;
    case CRDT_EV_KEY_GRANT:
        /* only a health node holds K_p, and grants only within its health scope */
        return crdt_cert_health_covers(oc, ev->u.grant.unit.p, ev->u.grant.unit.n) ? TV_OK
                                                                                   : TV_ESCOPE;
    case CRDT_EV_RETENTION:
        *rule = STORE_RULE_R1;
        return memcmp(oc->subject, root, TV_NODE_ID_BYTES) == 0 ? TV_OK : TV_ESCOPE;
    case CRDT_EV_CERT:
        return store_cert_event_check_(t, oc->subject, &ev->u.cert, rule);
    case CRDT_EV_REVOKE:
        return store_revoke_event_check_(t, oc->subject, &ev->u.revoke, root, rule);
    }
    return TV_OK;
}

int store_trust_check_(store_txn *t, const crdt_batch *b, const crdt_event *evs, uint32_t n,
                       int64_t now_ms, int *own, uint8_t *inert, const char **rule,
                       uint8_t wait_venue[TV_VENUE_ID_BYTES])
{
    memset(wait_venue, 0, TV_VENUE_ID_BYTES);
    uint8_t self[TV_NODE_ID_BYTES], root[TV_NODE_ID_BYTES];
    *rule = NULL;
    int rc = meta_id(t, "node_id", self);
    if (rc && rc != TV_ENOTFOUND) return rc;
    *own = rc == TV_OK && memcmp(self, b->h.origin, TV_NODE_ID_BYTES) == 0;
    if (*own) return store_own_check_(t, self, evs, n, rule);

    *rule = STORE_RULE_T7;
    if ((rc = store_root_get(t, root))) return rc == TV_ENOTFOUND ? TV_EUNTRUSTED : rc;
    /* T7: every certificate from the origin up to the root is held, unrevoked, and not
     * expired when the batch was written. A node's certificate covers its log from seq 1,
     * whenever it was issued: what a commune recorded before its enrolment is accepted. */
    if ((rc = store_chain_check(t, b->h.origin, (int64_t)crdt_hlc_ms(b->h.hlc_max), rule)))
        return rc;
    crdt_cert *oc = malloc(sizeof *oc), *mine = malloc(sizeof *mine);
    batch_regs *regs = malloc(sizeof *regs);
    if (!oc || !mine || !regs) {
        rc = TV_ENOMEM;
        goto done;
    }
    regs->n = 0;
    if ((rc = store_cert_get(t, b->h.origin, oc, NULL, NULL))) goto done;
    int have_mine = store_cert_get(t, self, mine, NULL, NULL) == TV_OK;
    int parked = 0;
    const char *park_rule = NULL;
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        int in = 0;
        rc = event_in_scope(t, oc, have_mine ? mine : NULL, regs, &evs[i], root, rule, &in);
        inert[i] = (uint8_t)in;
        if (rc == TV_EPARKED) { /* the rest may still break a rule: judge it all */
            const uint8_t *venue;
            const crdt_text *unit;
            if (!parked && venue_of(&evs[i], &venue, &unit)) /* the first one it waits for */
                memcpy(wait_venue, venue, TV_VENUE_ID_BYTES);
            parked = 1;
            park_rule = *rule;
            rc = TV_OK;
        }
    }
    if (rc == 0) *rule = NULL;
    /* C1: written further ahead of our clock than a clock may be wrong by: it waits */
    if (rc == 0 && now_ms > 0 &&
        (int64_t)crdt_hlc_ms(b->h.hlc_max) > now_ms + (int64_t)CRDT_HLC_AHEAD_MAX_MS) {
        rc = TV_EPARKED;
        *rule = STORE_RULE_C1;
    } else if (rc == 0 && parked) {
        rc = TV_EPARKED;
        *rule = park_rule;
    }
done:
    free(oc);
    free(mine);
    free(regs);
    return rc;
}

int store_trust_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES])
{
    if (ev->type == CRDT_EV_REVOKE) {
        /* the latest revocation stands (a certificate from the root after it reinstates) */
        uint64_t held;
        int rc = revoked_hlc(t, ev->u.revoke.subject, &held);
        if (rc || held >= ev->hlc) return rc;
        uint8_t v[TV_NODE_ID_BYTES + 8];
        memcpy(v, origin, TV_NODE_ID_BYTES);
        store_be64_(v + TV_NODE_ID_BYTES, ev->hlc);
        return store_put_(t, T_REVOKED, ev->u.revoke.subject, TV_NODE_ID_BYTES, v, sizeof v);
    }
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    /* opened and judged before any write (store_trust_check_, own batches too) */
    int rc = crdt_cert_decode(c, ev->u.cert.cert, ev->u.cert.len);
    const crdt_cert_event *ce = &ev->u.cert;
    if (rc == TV_OK) {
        /* judged before: the consent verified once more here only decides the ranking (T4) */
        int consented = ce->consent &&
                        crdt_cert_consent_verify(c, ce->consent_name.p, ce->consent_name.n,
                                                 ce->consent_created_ms, ce->consent_sig) == TV_OK;
        rc = cert_store(t, c, consented, ce->cert, ce->len);
    } else {
        rc = TV_ECORRUPT;
    }
    free(c);
    return rc;
}

int store_cert_install(store_txn *t, const uint8_t *cert, size_t len)
{
    return store_cert_install_rule(t, cert, len, NULL);
}
