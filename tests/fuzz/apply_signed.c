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
 * aborted, so no input leaves state for the next.
 *
 * With TV_FUZZ_SEED_OUT=DIR set, the harness writes seeds that fit the tree into DIR and
 * exits (tests/fuzz/make_corpus.sh). */
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

/* Seeds that fit the tree (make_corpus.sh; the binary's own outputs are signed by other
 * keys and name other venues): events with hlc deltas of 1, written into directory `out`. */
static void seed_write(const char *out, const char *name, uint8_t signer,
                       const crdt_batch_builder *b1, const crdt_batch_builder *b2)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", out, name);
    FILE *f = fopen(path, "wb");
    FUZZ_CHECK(f != NULL);
    fputc(signer, f);
    fwrite(b1->events.data, 1, b1->events.size, f);
    if (b2) {
        fputc(0xc0, f); /* nil: the next batch */
        fwrite(b2->events.data, 1, b2->events.size, f);
    }
    FUZZ_CHECK(fclose(f) == 0);
}

static void scans_at(crdt_batch_builder *b, const uint8_t *venue, const char *unit, uint32_t n)
{
    for (uint32_t k = 0; k < n; k++) {
        crdt_scan sc = test_scan(k, FUZZ_T0_MS + k * 60000);
        sc.unit = (crdt_text){unit, (uint32_t)strlen(unit)};
        memcpy(sc.venue, venue, TV_VENUE_ID_BYTES);
        FUZZ_CHECK(crdt_event_pack_scan(&b->pk, 1, &sc) == 0);
        crdt_batch_builder_note(b, b->count + 1);
    }
}

static void seeds(const char *out)
{
    crdt_batch_builder b1, b2;
    crdt_batch_builder_init(&b1);
    crdt_batch_builder_init(&b2);
    scans_at(&b1, tree.venue, "22333", 3); /* C: scans at its registered venue */
    seed_write(out, "tree-c-scans", 0, &b1, NULL);
    crdt_batch_builder_reset(&b1);
    const crdt_identity *who[] = {&tree.c, &tree.c2};
    const char *unit[] = {"22333", "22402"};
    for (int i = 0; i < 2; i++) { /* a new venue registered, then scans there */
        crdt_venue_upsert v;
        test_venue_register(&v, who[i]->pk, 100 + (uint64_t)i, unit[i], "Trường Tiểu học");
        FUZZ_CHECK(crdt_event_pack_venue(&b1.pk, 1, &v) == 0);
        crdt_batch_builder_note(&b1, 1);
        scans_at(&b2, v.venue, unit[i], 4);
        seed_write(out, i ? "tree-c2-venue-scans" : "tree-c-venue-scans", (uint8_t)i, &b1, &b2);
        crdt_batch_builder_reset(&b1);
        crdt_batch_builder_reset(&b2);
    }
    crdt_batch_builder_release(&b1);
    crdt_batch_builder_release(&b2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st) {
        fuzz_tree_init(&tree);
        const char *seed_out = getenv("TV_FUZZ_SEED_OUT");
        if (seed_out) {
            seeds(seed_out);
            _exit(0); /* not exit(): libFuzzer takes that for a fault of the target */
        }
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
