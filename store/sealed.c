/* Sealed health events (PROTOCOL.md §2.11, §4): every node indexes them by their audience
 * tag only -- tag, HLC, origin number, seq: nothing of what they say -- so a node that holds
 * an audience's key can find its own among the rest and open them when it needs them, in
 * memory. A node given the health audience's key (a health node) opens the health
 * audience's case statuses, reveals and holds as it applies them and keeps them in the
 * cases, reveals and holds views, as every node kept them before they were sealed. And a health
 * node remembers what it has sealed for each audience, so that nothing is sent twice. */
#include "crdt/sealed.h"
#include "crdt/error.h"
#include "store/internal.h"

#include <sodium.h>
#include <stdlib.h>

#define SEALED_KEY_BYTES (CRDT_SEALED_TAG_BYTES + 8 + 4 + 8)

void store_sealed_key_set(store *s, const uint8_t key[CRDT_SEALED_KEY_BYTES])
{
    if (s->health_key) {
        sodium_free(s->health_key); /* wipes it */
        s->health_key = NULL;
    }
    if (!key) return;
    s->health_key = sodium_malloc(CRDT_SEALED_KEY_BYTES);
    if (s->health_key) memcpy(s->health_key, key, CRDT_SEALED_KEY_BYTES);
}

int store_sealed_key_held(const store *s)
{
    return s->health_key != NULL;
}

/* A health audience's case status, opened: applied as a case_status of its author when the
 * author's certificate covers the unit it names (a health node judges what only it can
 * read as every node judged plain case statuses: S1). Anything else it holds (an exposure,
 * an event that does not open) changes nothing here. */
static int open_health(store_txn *t, const crdt_event *ev, const uint8_t *origin, int own, int copy)
{
    uint8_t inner[CRDT_SEALED_INNER_BYTES_MAX];
    msgpack_unpacked scratch;
    msgpack_unpacked_init(&scratch);
    crdt_event in;
    int rc = crdt_sealed_open_event(&in, &scratch, inner, &ev->u.sealed, t->s->health_key, origin);
    /* an inner event dated after the event that carries it would escape the bound on a
     * clock ahead (C1) and outrank every later one for good */
    if (rc == TV_OK && in.hlc > ev->hlc) {
        rc = TV_OK;
        goto done;
    }
    if (rc == TV_OK && (in.type == CRDT_EV_REVEAL || in.type == CRDT_EV_HOLD)) {
        /* the audit of a full view, a hold: its author has the health flag (S2 on the
         * sealed event), as S1 asked of them when they were plain */
        rc = in.type == CRDT_EV_REVEAL ? store_people_apply_(t, &in, origin, 0, copy)
                                       : store_retention_apply_(t, &in, origin);
        goto done;
    }
    if (rc || in.type != CRDT_EV_CASE_STATUS) {
        rc = TV_OK;
        goto done;
    }
    if (!own) {
        crdt_cert *oc = malloc(sizeof *oc);
        if (!oc) {
            rc = TV_ENOMEM;
            goto done;
        }
        rc = store_cert_get(t, origin, oc, NULL, NULL);
        int covers =
            rc == TV_OK && crdt_cert_health_covers(oc, in.u.cstatus.unit.p, in.u.cstatus.unit.n);
        free(oc);
        if (rc && rc != TV_ENOTFOUND) goto done;
        rc = TV_OK;
        if (!covers) goto done;
    }
    rc = store_health_apply_(t, &in, origin, copy);
done:
    msgpack_unpacked_destroy(&scratch);
    sodium_memzero(inner, sizeof inner);
    return rc;
}

int store_sealed_open_health_(store_txn *t, const crdt_event *ev,
                              const uint8_t origin[TV_NODE_ID_BYTES], crdt_event *in,
                              msgpack_unpacked *scratch, uint8_t *inner)
{
    if (!t->s->health_key) return 0;
    uint8_t tag[CRDT_SEALED_TAG_BYTES];
    crdt_sealed_tag(tag, t->s->health_key);
    if (memcmp(tag, ev->u.sealed.tag, sizeof tag) != 0) return 0;
    return crdt_sealed_open_event(in, scratch, inner, &ev->u.sealed, t->s->health_key, origin) ==
           TV_OK;
}

static void sealed_key(uint8_t k[SEALED_KEY_BYTES], const crdt_event *ev, uint32_t origin_no,
                       uint64_t seq)
{
    memcpy(k, ev->u.sealed.tag, CRDT_SEALED_TAG_BYTES);
    store_be64_(k + CRDT_SEALED_TAG_BYTES, ev->hlc);
    store_be32_(k + CRDT_SEALED_TAG_BYTES + 8, origin_no);
    store_be64_(k + CRDT_SEALED_TAG_BYTES + 12, seq);
}

int store_sealed_unindex_(store_txn *t, const crdt_event *ev, uint32_t origin_no, uint64_t seq)
{
    uint8_t k[SEALED_KEY_BYTES];
    sealed_key(k, ev, origin_no, seq);
    MDB_val key = {sizeof k, k};
    int rc = mdb_del(t->txn, t->s->dbi[T_SEALED], &key, NULL);
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

int store_sealed_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES],
                        uint32_t origin_no, uint64_t seq, int own, int copy)
{
    uint8_t k[SEALED_KEY_BYTES];
    sealed_key(k, ev, origin_no, seq);
    int rc = store_put_(t, T_SEALED, k, sizeof k, "", 0);
    if (rc || !t->s->health_key) return rc;
    uint8_t tag[CRDT_SEALED_TAG_BYTES];
    crdt_sealed_tag(tag, t->s->health_key);
    if (memcmp(tag, ev->u.sealed.tag, sizeof tag) != 0) return TV_OK;
    return open_health(t, ev, origin, own, copy);
}

typedef struct each_ctx {
    store_txn *t;
    store_sealed_fn fn;
    void *ctx;
} each_ctx;

/* One index row: the event it names, found in its batch. */
static int sealed_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    each_ctx *c = arg;
    if (k->mv_size != SEALED_KEY_BYTES) return TV_ECORRUPT;
    const uint8_t *p = k->mv_data;
    store_scan_ref ref = {.origin_no = store_get32_(p + CRDT_SEALED_TAG_BYTES + 8),
                          .seq = store_get64_(p + CRDT_SEALED_TAG_BYTES + 12)};
    const uint8_t *buf;
    size_t len;
    int rc = store_scan_batch(c->t, &ref, &buf, &len);
    if (rc) return rc == TV_ENOTFOUND ? TV_ECORRUPT : rc;
    crdt_batch b;
    if (crdt_batch_peek(&b, buf, len) || ref.seq < b.h.first_seq ||
        ref.seq - b.h.first_seq >= b.h.count)
        return TV_ECORRUPT;
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    crdt_event ev, inner;
    msgpack_unpacked scratch;
    msgpack_unpacked_init(&scratch);
    int more;
    uint64_t want = ref.seq - b.h.first_seq, seq = ref.seq;
    for (uint64_t i = 0; (more = crdt_batch_iter_next(&it, &ev)) == 1 && i < want; i++)
        ;
    /* a checkpoint's copy stands for the event it carries, at the seq it names */
    if (more == 1 && ev.known && ev.type == CRDT_EV_CHECKPOINT && ev.u.checkpoint.copy) {
        seq = ev.u.checkpoint.seq;
        if (crdt_event_copy_open(&ev, &inner, &scratch))
            more = 0;
        else
            ev = inner;
    }
    if (more == 1 && ev.known && ev.type == CRDT_EV_SEALED) {
        store_sealed s = {.seq = seq, .hlc = ev.hlc, .ev = ev.u.sealed};
        memcpy(s.origin, b.h.origin, TV_NODE_ID_BYTES);
        rc = c->fn(&s, c->ctx);
    } else {
        rc = TV_ECORRUPT;
    }
    msgpack_unpacked_destroy(&scratch);
    crdt_batch_iter_release(&it);
    return rc;
}

int store_sealed_foreach(store_txn *t, const uint8_t tag[CRDT_SEALED_TAG_BYTES], store_sealed_fn fn,
                         void *ctx)
{
    each_ctx c = {t, fn, ctx};
    return store_prefix_foreach_(t, T_SEALED, tag, CRDT_SEALED_TAG_BYTES, sealed_row, &c);
}

int store_sealed_sent(store_txn *t, const uint8_t digest[STORE_SENT_DIGEST_BYTES])
{
    MDB_val v;
    int rc = store_get_(t, T_SEALED_SENT, digest, STORE_SENT_DIGEST_BYTES, &v);
    return rc == TV_OK ? 1 : rc == TV_ENOTFOUND ? 0 : rc;
}

int store_sealed_sent_put(store_txn *t, const uint8_t digest[STORE_SENT_DIGEST_BYTES])
{
    return store_put_(t, T_SEALED_SENT, digest, STORE_SENT_DIGEST_BYTES, "", 0);
}
