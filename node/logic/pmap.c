/* Pseudonym keys after receiving: the health node's map, key grants (see pmap.h). */
#include "node/logic/pmap.h"
#include "crdt/error.h"
#include "node/logic/grant.h"
#include "node/logic/person.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define PMAP_META "pmap_persons" /* person events and evidence batches at the last pass */

/* Fills id from one detail, as the recorder computed the ref from the card: 0 or -1. */
static int id_of(tv_person_id *id, tv_id_kind kind, const char *v)
{
    memset(id, 0, sizeof *id);
    size_t n = strlen(v);
    if (kind == TV_ID_BHYT) { /* the card number; the ref is of its social-insurance part */
        if (n != 15) return -1;
        v += 5;
        n = 10;
    }
    if (n == 0 || n >= sizeof id->norm) return -1;
    id->kind = kind;
    memcpy(id->norm, v, n);
    return 0;
}

int tv_pmap_province_ref(const crdt_person *p, const tv_details *d,
                         const uint8_t kp[TV_TRACING_KEY_BYTES], uint8_t pref[TV_PERSON_REF_BYTES])
{
    char unit[TV_UNIT_CODE_MAX + 1];
    memcpy(unit, p->unit.p, p->unit.n);
    unit[p->unit.n] = '\0';
    uint8_t kc[TV_TRACING_KEY_BYTES], r[TV_PERSON_REF_BYTES];
    tv_commune_key_derive(kp, unit, kc);
    const struct {
        tv_id_kind kind;
        const char *v;
    } ids[] = {{TV_ID_CCCD, d->cccd},
               {TV_ID_CMND, d->cmnd},
               {TV_ID_BHYT, d->bhyt},
               {TV_ID_PHONE, d->phone}};
    int rc = TV_ENOTFOUND;
    /* details bound to their ref (key 9) are the recorder's word for it, whatever key it
     * held (its local key before its K_c arrived): the first identifier, in the order the
     * recorder takes them, gives the province ref; bound to another ref, they are a box
     * copied onto this record, and map nothing. Unbound details map only when an
     * identifier reproduces the ref under K_c of the record's unit. */
    const int bound = d->has_ref;
    if (bound && sodium_memcmp(d->ref, p->person, TV_PERSON_REF_BYTES) != 0) {
        sodium_memzero(pref, TV_PERSON_REF_BYTES);
        sodium_memzero(kc, sizeof kc);
        return TV_ENOTFOUND;
    }
    for (size_t i = 0; i < sizeof ids / sizeof ids[0] && rc == TV_ENOTFOUND; i++) {
        tv_person_id id;
        if (id_of(&id, ids[i].kind, ids[i].v)) continue;
        tv_person_ref(&id, kp, r);
        if (sodium_memcmp(r, p->person, sizeof r) == 0) {
            rc = TV_EEXIST;
        } else if (bound) {
            memcpy(pref, r, sizeof r);
            rc = TV_OK;
        } else {
            memcpy(pref, r, sizeof r);
            tv_person_ref(&id, kc, r);
            if (sodium_memcmp(r, p->person, sizeof r) == 0) rc = TV_OK;
        }
        sodium_memzero(&id, sizeof id);
    }
    if (rc != TV_OK) sodium_memzero(pref, TV_PERSON_REF_BYTES);
    sodium_memzero(kc, sizeof kc);
    return rc;
}

typedef struct pm_row {
    uint8_t ref[TV_PERSON_REF_BYTES], pref[TV_PERSON_REF_BYTES];
    char unit[TV_UNIT_CODE_MAX + 1];
    uint64_t hlc;
    int mapped;
} pm_row;

typedef struct pm_ctx {
    store_txn *t;
    const crdt_identity *self;
    const uint8_t *kp;
    pm_row *rows;
    size_t n, cap;
    uint64_t persons, mapped;
    int rc;
} pm_ctx;

static int pm_one(const uint8_t ref[TV_PERSON_REF_BYTES], const store_person *sp, void *arg)
{
    pm_ctx *c = arg;
    uint64_t hlc = 0;
    int m = store_pmap_get(c->t, ref, NULL, NULL, &hlc);
    if (m == 1 || (m == 0 && hlc == sp->hlc)) return 0; /* mapped, or examined as it is */
    if (m < 0 && m != TV_ENOTFOUND) return m;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    int rc = crdt_event_decode(&ev, &u, sp->raw, sp->raw_len);
    if (rc || !ev.known || ev.type != CRDT_EV_PERSON) {
        msgpack_unpacked_destroy(&u);
        return rc == TV_ENOMEM ? rc : TV_ECORRUPT; /* the store checked it on the way in */
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        pm_row *r = realloc(c->rows, cap * sizeof *r);
        if (!r) {
            msgpack_unpacked_destroy(&u);
            return TV_ENOMEM;
        }
        c->rows = r;
        c->cap = cap;
    }
    pm_row *row = &c->rows[c->n++];
    memset(row, 0, sizeof *row);
    memcpy(row->ref, ref, TV_PERSON_REF_BYTES);
    memcpy(row->unit, ev.u.person.unit.p, ev.u.person.unit.n);
    row->hlc = sp->hlc;
    tv_details *d = malloc(sizeof *d);
    if (!d) {
        msgpack_unpacked_destroy(&u);
        return TV_ENOMEM;
    }
    if (tv_unseal_details(&ev.u.person, c->self, d) == TV_OK)
        row->mapped = tv_pmap_province_ref(&ev.u.person, d, c->kp, row->pref) == TV_OK;
    sodium_memzero(d, sizeof *d);
    free(d);
    msgpack_unpacked_destroy(&u);
    return 0;
}

static int pm_write(store_txn *t, void *arg)
{
    pm_ctx *c = arg;
    c->mapped = 0;
    for (size_t i = 0; i < c->n; i++) {
        const pm_row *r = &c->rows[i];
        int rc = store_pmap_put(t, r->ref, r->mapped ? r->pref : NULL, r->unit, r->hlc);
        if (rc == TV_EEXIST) continue;
        if (rc) return rc;
        c->mapped += (uint64_t)r->mapped;
    }
    return store_meta_put(t, PMAP_META, &c->persons, sizeof c->persons);
}

int tv_pmap_pass_store(store *st, const crdt_identity *self, const uint8_t kp[TV_TRACING_KEY_BYTES],
                       uint64_t *mapped)
{
    if (mapped) *mapped = 0;
    pm_ctx c = {.self = self, .kp = kp};
    int rc = store_read_begin(st, &c.t);
    if (rc) return rc;
    store_counts k;
    uint64_t seen = 0;
    size_t len = 0;
    if ((rc = store_counts_get(c.t, &k)) == TV_OK) {
        /* person events of accepted logs, and of fork evidence (tracing data too) */
        c.persons = k.by_type[CRDT_EV_PERSON] + k.evidence;
        int m = store_meta_get(c.t, PMAP_META, &seen, sizeof seen, &len);
        if (m == TV_OK && len == sizeof seen && seen == c.persons) {
            store_read_end(c.t);
            return TV_OK; /* no person event since the last pass */
        }
        rc = store_persons_foreach(c.t, pm_one, &c);
    }
    store_read_end(c.t);
    if (rc == TV_OK) rc = store_write(st, pm_write, &c);
    if (rc == TV_OK && mapped) *mapped = c.mapped;
    free(c.rows);
    return rc;
}

int tv_keys_after_receive(tv_node *n)
{
    uint8_t kp[TV_TRACING_KEY_BYTES];
    int rc = TV_OK;
    if (tv_node_province_key(n, kp) == TV_OK) {
        rc = tv_pmap_pass_store(n->st, &n->id, kp, NULL);
        sodium_memzero(kp, sizeof kp);
    }
    int g = tv_grant_pass(n);
    return rc ? rc : g;
}
