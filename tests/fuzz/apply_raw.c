/* Raw bytes offered to store_apply_batch, as from a peer or a bundle, against a store that
 * holds the fixed certificate tree of fuzz_store.h. Every input runs in a write
 * transaction that is then aborted, so no input leaves state for the next. */
#include "fuzz/fuzz_store.h"

static fuzz_tree tree;
static char *dir;
static store *st;

static void done(void)
{
    store_close(st);
    fuzz_rmdir(dir);
}

typedef struct in {
    const uint8_t *buf;
    size_t len;
} in;

static int apply_fn(store_txn *t, void *arg)
{
    const in *x = arg;
    store_apply_result r;
    int rc = store_apply_batch(t, x->buf, x->len, FUZZ_T0_MS + 3600000, &r);
    if (!fuzz_apply_rc_ok(rc)) {
        fprintf(stderr, "store_apply_batch: unexpected %s\n", tv_strerror(rc));
        abort();
    }
    return TV_EEXIST; /* abort the transaction: the next input sees the same store */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!st) {
        fuzz_tree_init(&tree);
        dir = fuzz_store_make(&tree, &tree.d);
        FUZZ_CHECK(store_open(&st, dir, NULL) == 0);
        atexit(done);
    }
    uint8_t *buf = malloc(size ? size : 1);
    FUZZ_CHECK(buf != NULL);
    memcpy(buf, data, size);
    in x = {buf, size};
    FUZZ_CHECK(store_write(st, apply_fn, &x) == TV_EEXIST);
    free(buf);
    return 0;
}
