/* Re-sealing to the health nodes what was sealed to this node alone (see reseal.h). */
#include "node/logic/reseal.h"
#include "crdt/error.h"
#include "node/logic/person.h"
#include "node/logic/seal.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESEAL_META "reseal"

static int mark_fn(store_txn *t, void *arg)
{
    (void)arg;
    static const uint8_t one = 1;
    return store_meta_put(t, RESEAL_META, &one, sizeof one);
}

static int clear_fn(store_txn *t, void *arg)
{
    (void)arg;
    return store_meta_del(t, RESEAL_META);
}

static int marked(store_txn *t)
{
    uint8_t v;
    size_t len;
    int rc = store_meta_get(t, RESEAL_META, &v, sizeof v, &len);
    return rc == TV_ENOTFOUND ? 0 : rc == TV_OK ? 1 : rc;
}

int tv_reseal_mark(tv_node *n, store_txn *t)
{
    int m = marked(t);
    if (m) return m < 0 ? m : TV_OK;
    return store_write(n->st, mark_fn, NULL);
}

typedef struct reseal_ctx {
    tv_node *n;
    uint8_t to[CRDT_SEALED_MAX][TV_NODE_ID_BYTES];
    uint32_t nto;
    tv_sealer sealer; /* one ephemeral key per commit */
    uint8_t *boxes;
    uint64_t count;
} reseal_ctx;

/* Is p sealed to self, and not to every current recipient? */
static int needs_reseal(const reseal_ctx *c, const crdt_person *p)
{
    int self = 0;
    for (uint32_t i = 0; i < p->nsealed; i++)
        self |= memcmp(p->sealed[i].to, c->n->id.pk, TV_NODE_ID_BYTES) == 0;
    if (!self) return 0; /* sealed to health nodes from the start: not ours to open */
    for (uint32_t j = 0; j < c->nto; j++) {
        int held = 0;
        for (uint32_t i = 0; i < p->nsealed && !held; i++)
            held = memcmp(p->sealed[i].to, c->to[j], TV_NODE_ID_BYTES) == 0;
        if (!held) return 1;
    }
    return 0;
}

/* Seals d to the recipients into np and adds it to the pending group; when that is full,
 * makes it durable and goes on with a new group and a new ephemeral key (the flag stays
 * set until the last commit). */
static int seal_add(reseal_ctx *c, const tv_details *d, crdt_person *np)
{
    for (int tries = 0;; tries++) {
        int rc = TV_OK;
        if (c->sealer.n == 0) rc = tv_sealer_begin(&c->sealer, c->to, c->nto);
        if (rc == TV_OK) rc = tv_seal_details(&c->sealer, d, np, c->boxes);
        if (rc == TV_OK) rc = tv_node_add_person(c->n, np, NULL);
        if (rc != TV_ELIMIT || tries) return rc;
        tv_sealer_end(&c->sealer);
        uint64_t seq;
        if ((rc = tv_node_commit(c->n, &seq))) return rc;
    }
}

static int reseal_one(const uint8_t ref[TV_PERSON_REF_BYTES], const store_person *sp, void *arg)
{
    reseal_ctx *c = arg;
    if (memcmp(sp->origin, c->n->id.pk, TV_NODE_ID_BYTES) != 0) return TV_OK;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    int rc = crdt_event_decode(&ev, &u, sp->raw, sp->raw_len);
    if (rc == TV_OK && (!ev.known || ev.type != CRDT_EV_PERSON)) rc = TV_ECORRUPT;
    if (rc) {
        msgpack_unpacked_destroy(&u);
        return rc == TV_EDECODE ? TV_ECORRUPT : rc;
    }
    const crdt_person *old = &ev.u.person;
    if (!needs_reseal(c, old)) {
        msgpack_unpacked_destroy(&u);
        return TV_OK;
    }
    tv_details d;
    rc = tv_unseal_details(old, &c->n->id, &d);
    if (rc) rc = TV_ECORRUPT; /* this node sealed it to itself: it must open */
    /* the masked number narrowed to the current masks and no birth year, should the old
     * event have been written under older ones */
    char id[CRDT_MASKED_BYTES_MAX + 1];
    snprintf(id, sizeof id, "%.*s", (int)old->id_masked.n,
             old->id_masked.n ? old->id_masked.p : "");
    tv_masked_narrow(id);
    crdt_person np = {.unit = old->unit,
                      .name_masked = old->name_masked,
                      .id_masked = {id, (uint32_t)strlen(id)}};
    memcpy(np.person, ref, TV_PERSON_REF_BYTES);
    if (rc == TV_OK) rc = seal_add(c, &d, &np);
    sodium_memzero(&d, sizeof d);
    msgpack_unpacked_destroy(&u);
    if (rc == TV_OK) c->count++;
    return rc;
}

int tv_reseal_own(tv_node *n, uint64_t *count)
{
    if (count) *count = 0;
    if (n->lock_fd < 0 || tv_node_pending(n)) return TV_EINVAL;
    reseal_ctx *c = calloc(1, sizeof *c);
    if (!c) return TV_ENOMEM;
    c->n = n;
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) {
        free(c);
        return rc;
    }
    int m = marked(t);
    if (m <= 0) {
        rc = m; /* nothing was ever sealed to this node alone, or a store error */
        goto done;
    }
    rc = tv_seal_recipients(t, n->unit, c->to, &c->nto);
    if (rc == TV_ENOTFOUND) {
        rc = TV_OK; /* still nobody to seal to: later */
        goto done;
    }
    if (rc) goto done;
    if (!(c->boxes = malloc((size_t)CRDT_SEALED_MAX * TV_SEALED_BOX_MAX))) {
        rc = TV_ENOMEM;
        goto done;
    }
    rc = store_persons_foreach(t, reseal_one, c);
    uint64_t seq;
    /* the last events and the flag's end in one commit: all re-sealed, or the flag stays */
    if (rc == TV_OK) rc = tv_node_commit_with(n, clear_fn, NULL, &seq);
done:
    if (rc) tv_node_discard(n);
    store_read_end(t);
    tv_sealer_end(&c->sealer);
    if (rc == TV_OK && count) *count = c->count;
    free(c->boxes);
    free(c);
    return rc;
}
