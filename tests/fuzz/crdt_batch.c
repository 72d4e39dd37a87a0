/* Batch bytes: crdt_batch_peek (header only), crdt_batch_open (signature, body hash) and
 * the event iterator over the body. The iterator runs on peeked batches too, so the fuzzer
 * reaches the event decoder without having to forge a signature. */
#include "crdt/batch.h"
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"

static void walk(const crdt_batch *b)
{
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, b);
    crdt_event ev;
    uint32_t n = 0;
    int rc;
    while ((rc = crdt_batch_iter_next(&it, &ev)) == 1)
        n++;
    FUZZ_CHECK(rc == 0 || rc == TV_EDECODE || rc == TV_ELIMIT || rc == TV_ENOMEM);
    FUZZ_CHECK(rc != 0 || n == b->h.count);
    crdt_batch_iter_release(&it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) abort();
    memcpy(buf, data, size);
    crdt_batch b;
    if (crdt_batch_peek(&b, buf, size) == 0) {
        FUZZ_CHECK(b.h.count >= 1 && b.h.count <= CRDT_BATCH_EVENTS_MAX && b.h.first_seq >= 1);
        FUZZ_CHECK(b.body >= buf && b.body + b.body_len <= buf + size);
        walk(&b);
    }
    if (crdt_batch_open(&b, buf, size) == 0) {
        int rc = crdt_batch_check_events(&b);
        FUZZ_CHECK(rc == 0 || rc == TV_EDECODE || rc == TV_ELIMIT || rc == TV_ENOMEM);
    }
    free(buf);
    return 0;
}
