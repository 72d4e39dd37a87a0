/* Reading a bundle into the node (import.h). */
#include "node/logic/import.h"

#include "crdt/error.h"
#include "crdt/mp.h"

#include <stdlib.h>
#include <string.h>

#define HOOK(im, name, ...)                                                                        \
    do {                                                                                           \
        if ((im)->hooks && (im)->hooks->name) (im)->hooks->name((im)->hooks->ctx, __VA_ARGS__);    \
    } while (0)

int tv_import_init(tv_import *im, tv_node *n, tv_bundle_reader *rd, const tv_import_hooks *hooks)
{
    memset(im, 0, sizeof *im);
    im->n = n;
    im->rd = rd;
    im->hooks = hooks;
    im->arena = malloc(TV_IMPORT_GROUP_BYTES);
    return im->arena ? 0 : TV_ENOMEM;
}

void tv_import_release(tv_import *im)
{
    free(im->arena);
    im->arena = NULL;
}

int tv_import_peek_header(const uint8_t *buf, size_t len, crdt_batch_header *h)
{
    msgpack_unpacked u, uh;
    msgpack_unpacked_init(&u);
    msgpack_unpacked_init(&uh);
    int rc = TV_EDECODE;
    const uint8_t *hb, *origin;
    size_t hlen;
    uint64_t first_seq, count;
    if (crdt_mp_unpack_exact(&u, buf, len) || u.data.type != MSGPACK_OBJECT_ARRAY ||
        u.data.via.array.size != 3 ||
        crdt_mp_bin(&u.data.via.array.ptr[0], CRDT_BATCH_HEADER_BYTES_MAX, &hb, &hlen) ||
        crdt_mp_unpack_exact(&uh, hb, hlen) || uh.data.type != MSGPACK_OBJECT_ARRAY ||
        uh.data.via.array.size < 4 ||
        crdt_mp_bin_n(&uh.data.via.array.ptr[1], TV_NODE_ID_BYTES, &origin) ||
        crdt_mp_u64(&uh.data.via.array.ptr[2], &first_seq) ||
        crdt_mp_u64(&uh.data.via.array.ptr[3], &count) || first_seq == 0 || count == 0 ||
        count > CRDT_BATCH_EVENTS_MAX || first_seq > UINT64_MAX - count)
        goto done;
    memcpy(h->origin, origin, TV_NODE_ID_BYTES);
    h->first_seq = first_seq;
    h->count = (uint32_t)count;
    rc = TV_OK;
done:
    msgpack_unpacked_destroy(&uh);
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Applies the group in one durable transaction and counts each batch's fate. */
static int flush(tv_import *im)
{
    if (im->count == 0) return 0;
    int rc = tv_node_apply(im->n, im->items, im->count);
    if (rc) return rc;
    HOOK(im, quiet, im);
    for (size_t i = 0; i < im->count; i++) {
        const tv_apply_item *it = &im->items[i];
        if (it->rc == TV_OK && it->r.duplicate) {
            im->duplicates++;
        } else if (it->rc == TV_OK) {
            im->accepted++;
            im->events += it->r.applied;
        } else {
            im->refused++;
            if (it->rc == TV_EGAP) im->gaps++;
            HOOK(im, refused, im, it, im->numbers[i]);
        }
    }
    im->count = 0;
    im->used = 0;
    HOOK(im, progress, im);
    return 0;
}

/* Counts the records an intact record's number says were skipped, and tells of those that
 * vanished without a damaged header to report them by. */
static void note_missing(tv_import *im, const tv_bundle_rec *r)
{
    uint32_t told = im->told;
    im->told = 0;
    if (!r->missing) return;
    im->missing += r->missing;
    if (r->missing <= told) return;
    uint32_t last = r->what == TV_BUNDLE_END ? r->number : r->number - 1;
    HOOK(im, lost, im, last - r->missing + 1, last, r->missing - told);
}

/* Adds batch record r to the group, applying the group first when it is full. */
static int add_batch(tv_import *im, const tv_bundle_rec *r)
{
    int rc;
    im->records++;
    if (im->count == TV_IMPORT_GROUP_BATCHES || im->used + r->len > TV_IMPORT_GROUP_BYTES)
        if ((rc = flush(im))) return rc;
    if (r->missing) HOOK(im, quiet, im);
    note_missing(im, r);
    memcpy(im->arena + im->used, r->data, r->len);
    im->items[im->count] = (tv_apply_item){.buf = im->arena + im->used, .len = r->len};
    im->numbers[im->count++] = r->number;
    im->used += r->len;
    return 0;
}

/* A damaged part: what came before is applied first, so that the reports follow the
 * file's order. */
static int damaged(tv_import *im, const tv_bundle_rec *r)
{
    int rc = flush(im);
    if (rc) return rc;
    HOOK(im, quiet, im);
    if (r->damage == TV_BUNDLE_DMG_NO_END) {
        im->complete = 0;
        im->missing += r->missing;
    } else {
        im->damaged++;
        if (r->number) im->told++;
    }
    HOOK(im, damaged, im, r);
    return 0;
}

int tv_import_run(tv_import *im)
{
    tv_bundle_rec r;
    int rc;
    while ((rc = tv_bundle_next(im->rd, &r)) == 1) {
        int step = 0;
        switch (r.what) {
        case TV_BUNDLE_BATCH:
            step = add_batch(im, &r);
            break;
        case TV_BUNDLE_END:
            if ((step = flush(im)) == 0) {
                note_missing(im, &r);
                im->complete = 1;
            }
            break;
        case TV_BUNDLE_UNKNOWN:
            im->records++;
            im->unknown++;
            note_missing(im, &r);
            break;
        case TV_BUNDLE_DAMAGED:
            step = damaged(im, &r);
            break;
        }
        if (step) return step;
    }
    if (rc < 0) return rc;
    return flush(im);
}
