/* What replication reads and keeps: version vectors, batches by seq, peer records. */
#include "crdt/error.h"
#include "store/internal.h"

#include <string.h>

static int vv_add(const uint8_t *origin, const store_frontier *f, void *arg)
{
    return crdt_vv_advance(arg, origin, f->seq, f->hash);
}

int store_vv_get(store_txn *t, crdt_vv *v)
{
    v->len = 0;
    return store_frontier_foreach(t, vv_add, v);
}

/* The stored batch of origin number origin_no that contains seq. */
static int batch_by_no(store_txn *t, uint32_t origin_no, uint64_t seq, const uint8_t **buf,
                       size_t *len)
{
    uint8_t key[12];
    store_be32_(key, origin_no);
    store_be64_(key + 4, seq);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_BATCHES], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k = {sizeof key, key}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    /* the batch holding seq starts at seq, or is the one before the first key after it */
    if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size != 12 || memcmp(k.mv_data, key, 12) != 0)))
        rc = mdb_cursor_get(cur, &k, &v, rc == MDB_NOTFOUND ? MDB_LAST : MDB_PREV);
    if (rc == 0 && (k.mv_size != 12 || store_get32_(k.mv_data) != origin_no)) rc = MDB_NOTFOUND;
    crdt_batch b; /* a seq in a dropped prefix (a checkpoint's copy) is in no batch */
    if (rc == 0 && crdt_batch_peek(&b, v.mv_data, v.mv_size) == TV_OK &&
        (seq < b.h.first_seq || seq >= b.h.first_seq + b.h.count))
        rc = MDB_NOTFOUND;
    if (rc == 0) {
        *buf = v.mv_data;
        *len = v.mv_size;
    }
    mdb_cursor_close(cur);
    return store_err_(t, rc);
}

int store_batch_at(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], uint64_t seq,
                   const uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    MDB_val k = {TV_NODE_ID_BYTES, (void *)origin}, v;
    int rc = mdb_get(t->txn, t->s->dbi[T_FRONTIER], &k, &v);
    if (rc) return store_err_(t, rc);
    if (v.mv_size != FRONTIER_BYTES) return TV_ECORRUPT;
    const uint8_t *fr = v.mv_data;
    uint64_t held = store_get64_(fr);
    uint32_t origin_no = store_get32_(fr + 24 + TV_HASH_BYTES);
    if (seq == 0 || seq > held) return TV_ENOTFOUND;
    uint64_t base;
    rc = store_base_get(t, origin, &base, NULL);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (seq <= base) seq = base + 1; /* dropped: the log goes on from its checkpoint */
    return batch_by_no(t, origin_no, seq, buf, len);
}

int store_scan_batch(store_txn *t, const store_scan_ref *s, const uint8_t **buf, size_t *len)
{
    *buf = NULL;
    *len = 0;
    return batch_by_no(t, s->origin_no, s->seq, buf, len);
}

int store_peer_get(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES], const uint8_t **buf,
                   size_t *len)
{
    MDB_val k = {TV_NODE_ID_BYTES, (void *)peer}, v;
    int rc = store_err_(t, mdb_get(t->txn, t->s->dbi[T_PEERS], &k, &v));
    *buf = rc ? NULL : v.mv_data;
    *len = rc ? 0 : v.mv_size;
    return rc;
}

int store_peer_put(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES], const uint8_t *buf,
                   size_t len)
{
    MDB_val k = {TV_NODE_ID_BYTES, (void *)peer}, v = {len, (void *)buf};
    return store_err_(t, mdb_put(t->txn, t->s->dbi[T_PEERS], &k, &v, 0));
}

int store_peer_del(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES])
{
    MDB_val k = {TV_NODE_ID_BYTES, (void *)peer};
    int rc = store_err_(t, mdb_del(t->txn, t->s->dbi[T_PEERS], &k, NULL));
    return rc == TV_ENOTFOUND ? TV_OK : rc;
}
