/* Certificate bytes: crdt_cert_decode and crdt_cert_open, then the scope predicates on
 * what decoded. */
#include "crdt/cert.h"
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"

static crdt_cert c, d; /* large; overwritten by every input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) abort();
    memcpy(buf, data, size);
    if (crdt_cert_decode(&c, buf, size) == 0) {
        FUZZ_CHECK(c.scope_len <= CRDT_CERT_SCOPE_MAX);
        (void)crdt_cert_covers(&c, "22333", 5);
        (void)crdt_cert_health_covers(&c, "56", 2);
        (void)crdt_cert_names_unit(&c, "568", 3);
        (void)crdt_cert_narrows(&c, &c);
        (void)crdt_cert_valid_at(&c, 1633482000000LL);
        (void)crdt_cert_is_root(&c);
    }
    int rc = crdt_cert_open(&d, buf, size);
    FUZZ_CHECK(rc == 0 || rc == TV_EDECODE || rc == TV_EVERSION || rc == TV_ELIMIT ||
               rc == TV_ESIG);
    free(buf);
    return 0;
}
