/* Which batches a bundle carries, written (export.h). */
#include "node/logic/export.h"

#include "crdt/batch.h"
#include "crdt/error.h"
#include "crdt/ids.h"
#include "net/sync.h"

#include <errno.h>
#include <string.h>

int tv_export_peer_certified(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES])
{
    return store_cert_get(t, peer, NULL, NULL, NULL) == TV_OK;
}

int tv_export_for(tv_export *x, store_txn *t)
{
    if (!x->known_init) {
        crdt_vv_init(&x->known);
        x->known_init = 1;
    }
    int rc = sync_peer_known(t, x->peer, &x->known);
    return rc == TV_ENOTFOUND ? 0 : rc;
}

static int resolve_one(const uint8_t *origin, const store_frontier *f, void *arg)
{
    (void)f;
    tv_export *x = arg;
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, origin, TV_NODE_ID_BYTES);
    for (size_t i = 0; i < x->nsel; i++)
        if (strncmp(hex, x->sel[i].hex, x->sel[i].len) == 0 && x->sel[i].matches++ == 0)
            memcpy(x->sel[i].id, origin, TV_NODE_ID_BYTES);
    return 0;
}

int tv_export_resolve(tv_export *x, store_txn *t)
{
    for (size_t i = 0; i < x->nsel; i++)
        x->sel[i].matches = 0;
    return store_frontier_foreach(t, resolve_one, x);
}

/* Is batch h one the selection carries? */
static int selected(tv_export *x, const crdt_batch_header *h)
{
    if (x->nsel) {
        size_t i = 0;
        while (i < x->nsel && memcmp(x->sel[i].id, h->origin, TV_NODE_ID_BYTES) != 0)
            i++;
        if (i == x->nsel) return 0;
    }
    if (x->for_peer) {
        if (!x->judged_ok || memcmp(x->judged, h->origin, TV_NODE_ID_BYTES) != 0) {
            memcpy(x->judged, h->origin, TV_NODE_ID_BYTES);
            x->judged_ok = 1;
            x->holds = sync_partition_holds(x->t, x->peer, h->origin) == 1;
        }
        const crdt_vv_entry *e = crdt_vv_get(&x->known, h->origin);
        if (!x->holds || (e && h->first_seq + h->count - 1 <= e->seq)) return 0;
    }
    return 1;
}

static int export_batch(const uint8_t *buf, size_t len, void *arg)
{
    tv_export *x = arg;
    crdt_batch b;
    /* the store verified the batch when it applied it; a failure here is damage */
    int rc = crdt_batch_open(&b, buf, len);
    if (rc) return TV_ECORRUPT;
    if (!selected(x, &b.h)) return 0;
    if (x->batches == 0 || memcmp(x->last_origin, b.h.origin, TV_NODE_ID_BYTES) != 0) {
        memcpy(x->last_origin, b.h.origin, TV_NODE_ID_BYTES);
        x->origins++;
    }
    if ((rc = tv_bundle_write_batch(&x->w, buf, len))) {
        x->file_rc = rc;
        x->err = errno;
        return rc;
    }
    x->batches++;
    x->events += b.h.count;
    return 0;
}

int tv_export_write(tv_export *x, store_txn *t, FILE *fp)
{
    if (!x->known_init) {
        crdt_vv_init(&x->known);
        x->known_init = 1;
    }
    x->t = t;
    int rc;
    if ((rc = tv_bundle_write_begin(&x->w, fp))) {
        x->file_rc = rc;
        x->err = errno;
    } else if ((rc = store_batches_foreach(t, export_batch, x)) == 0 &&
               (rc = tv_bundle_write_end(&x->w))) {
        x->file_rc = rc;
        x->err = errno;
    }
    return rc;
}

void tv_export_release(tv_export *x)
{
    if (x->known_init) crdt_vv_release(&x->known);
    x->known_init = 0;
}
