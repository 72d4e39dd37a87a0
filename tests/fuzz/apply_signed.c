/* Validly signed batches of fuzzed events, applied to the store of fuzz_store.h, so the
 * fuzzer gets past the signature and hash checks into the scope, chain, trust, parking and
 * view code of store_apply_batch.
 *
 * Input: the first byte picks the signer (C, which continues its log at seq 2; C2 or the
 * root P, at seq 1; or a key no one certified); the rest is read as a sequence of msgpack
 * objects. Each object [type, n, map] becomes the event [type, hlc, map] with hlc =
 * previous hlc + 1 + (n mod 2^40); other objects go into the body as they are. A top-level
 * nil ends a batch: each batch is sealed at the next seq after the one before (whether it
 * was applied or not). All batches are applied in one write transaction that is then
 * aborted, so no input leaves state for the next. */
#include "crdt/mp.h"
#include "fuzz/fuzz_store.h"

#define BATCHES_MAX 4

static fuzz_tree tree;
static crdt_identity stranger;
static char *dir;
static store *st;

static void done(void)
{
    store_close(st);
    fuzz_rmdir(dir);
}

typedef struct in {
    uint8_t *batch[BATCHES_MAX];
    size_t len[BATCHES_MAX];
    int n;
} in;

static int apply_fn(store_txn *t, void *arg)
{
    const in *x = arg;
    for (int i = 0; i < x->n; i++) {
        store_apply_result r;
        int rc = store_apply_batch(t, x->batch[i], x->len[i], FUZZ_T0_MS + 3600000, &r);
        if (!fuzz_apply_rc_ok(rc)) {
            fprintf(stderr, "store_apply_batch (batch %d): unexpected %s\n", i, tv_strerror(rc));
            abort();
        }
    }
    return TV_EEXIST; /* abort the transaction */
}

static void pack_event(crdt_batch_builder *b, const msgpack_object *o, uint64_t *hlc)
{
    if (o->type == MSGPACK_OBJECT_ARRAY && o->via.array.size == 3 &&
        o->via.array.ptr[1].type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        *hlc += 1 + (o->via.array.ptr[1].via.u64 & ((1ull << 40) - 1));
        msgpack_pack_array(&b->pk, 3);
        msgpack_pack_object(&b->pk, o->via.array.ptr[0]);
        msgpack_pack_uint64(&b->pk, *hlc);
        msgpack_pack_object(&b->pk, o->via.array.ptr[2]);
    } else {
        *hlc += 1;
        msgpack_pack_object(&b->pk, *o);
    }
    crdt_batch_builder_note(b, *hlc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st) {
        fuzz_tree_init(&tree);
        test_identity(&stranger, 0x58);
        dir = fuzz_store_make(&tree, &tree.d);
        FUZZ_CHECK(store_open(&st, dir, NULL) == 0);
        atexit(done);
    }
    if (size < 1) return 0;
    const crdt_identity *signer[] = {&tree.c, &tree.c2, &tree.p, &stranger};
    const crdt_identity *id = signer[data[0] % 4];
    uint64_t seq = id == &tree.c ? 2 : 1;
    uint8_t prev[TV_HASH_BYTES];
    memcpy(prev, tree.c_hash1, sizeof prev);

    in x = {.n = 0};
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    uint64_t hlc = FUZZ_HLC0 + 1000;
    size_t off = 1;
    for (;;) {
        /* crdt_mp_check first: msgpack-c believes length headers (crdt/mp.h) */
        size_t n = 0;
        int more = off < size && crdt_mp_check(data + off, size - off, &n) == 0 &&
                   crdt_mp_unpack_exact(&u, data + off, n) == 0;
        off += n;
        int cut = !more || u.data.type == MSGPACK_OBJECT_NIL || b.count == CRDT_BATCH_EVENTS_MAX;
        if (cut && b.count && x.n < BATCHES_MAX) {
            int rc = crdt_batch_seal(&b, id, seq, seq == 1 ? NULL : prev, &x.batch[x.n],
                                     &x.len[x.n], prev);
            if (rc == 0) {
                seq += b.count;
                x.n++;
            } else {
                FUZZ_CHECK(rc == TV_ELIMIT);
            }
            crdt_batch_builder_reset(&b);
        }
        if (!more || x.n == BATCHES_MAX) break;
        if (u.data.type != MSGPACK_OBJECT_NIL) pack_event(&b, &u.data, &hlc);
    }
    msgpack_unpacked_destroy(&u);
    crdt_batch_builder_release(&b);
    if (x.n) FUZZ_CHECK(store_write(st, apply_fn, &x) == TV_EEXIST);
    for (int i = 0; i < x.n; i++)
        free(x.batch[i]);
    return 0;
}
