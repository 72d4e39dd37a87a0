/* One event's bytes, as found inside a batch body (crdt_event_decode). */
#include "crdt/error.h"
#include "crdt/event.h"
#include "fuzz/fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a copy of exactly size bytes: the event borrows from it */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) abort();
    memcpy(buf, data, size);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    int rc = crdt_event_decode(&ev, &u, buf, size);
    FUZZ_CHECK(rc == 0 || rc == TV_EDECODE || rc == TV_ELIMIT || rc == TV_ENOMEM);
    if (rc == 0) (void)crdt_event_type_name(ev.type);
    msgpack_unpacked_destroy(&u);
    free(buf);
    return 0;
}
