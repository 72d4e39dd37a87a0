/* Bundle files (tv_bundle_reader over a FILE), as `bundle import` reads them from a USB
 * stick; every batch record found is peeked as a batch. */
#include "crdt/batch.h"
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"
#include "node/format/bundle.h"

static tv_bundle_reader r; /* ~320 KiB; initialised for every input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "r");
    FUZZ_CHECK(f != NULL);
    if (tv_bundle_reader_init(&r, f) == 0) {
        tv_bundle_rec rec;
        int rc;
        uint64_t last = 0;
        while ((rc = tv_bundle_next(&r, &rec)) == 1) {
            FUZZ_CHECK(tv_bundle_reader_offset(&r) <= size);
            FUZZ_CHECK(tv_bundle_reader_offset(&r) >= last);
            last = tv_bundle_reader_offset(&r);
            if (rec.what == TV_BUNDLE_BATCH) {
                FUZZ_CHECK(rec.len <= TV_BUNDLE_PAYLOAD_MAX);
                crdt_batch b;
                (void)crdt_batch_peek(&b, rec.data, rec.len);
            }
        }
        FUZZ_CHECK(rc == 0);
    }
    fclose(f);
    return 0;
}
