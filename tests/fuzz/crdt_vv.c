/* Version vector bytes (crdt_vv_decode), as a peer sends them; what decodes must encode
 * and decode again to the same vector, and merge and delta with it must hold. */
#include "crdt/error.h"
#include "crdt/vv.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crdt_vv v, w, x;
    crdt_vv_init(&v);
    crdt_vv_init(&w);
    crdt_vv_init(&x);
    int rc = crdt_vv_decode(&v, data, size);
    FUZZ_CHECK(rc == 0 || rc == TV_EDECODE || rc == TV_ELIMIT || rc == TV_ENOMEM);
    if (rc == 0) {
        uint8_t *out;
        size_t len;
        FUZZ_CHECK(crdt_vv_encode(&v, &out, &len) == 0);
        FUZZ_CHECK(crdt_vv_decode(&w, out, len) == 0);
        free(out);
        uint8_t d1[CRDT_VV_DIGEST_BYTES], d2[CRDT_VV_DIGEST_BYTES];
        crdt_vv_digest(&v, d1);
        crdt_vv_digest(&w, d2);
        FUZZ_CHECK(memcmp(d1, d2, sizeof d1) == 0);
        FUZZ_CHECK(crdt_vv_merge(&w, &v) == 0);
        crdt_vv_digest(&w, d2);
        FUZZ_CHECK(memcmp(d1, d2, sizeof d1) == 0);
        FUZZ_CHECK(crdt_vv_delta(&x, &v, &w) == 0);
    }
    crdt_vv_release(&v);
    crdt_vv_release(&w);
    crdt_vv_release(&x);
    return 0;
}
