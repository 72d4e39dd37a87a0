/* Certificate files (tv_enroll_cert_file_parse), as a child reads them at `enroll accept`. */
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"
#include "node/logic/enroll.h"

static tv_enroll_cert_file f; /* large; overwritten by every input */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char why[TV_ENROLL_WHY_MAX] = "";
    int rc = tv_enroll_cert_file_parse(&f, text, size, why);
    FUZZ_CHECK(rc == 0 || rc == TV_EVERSION || rc == TV_EDECODE || rc == TV_ESIG || rc == TV_EPERM);
    FUZZ_CHECK(memchr(why, 0, sizeof why) != NULL);
    if (rc == 0) FUZZ_CHECK(f.chain_len >= 1 && f.chain_len <= CRDT_CERT_CHAIN_MAX);
    free(text);
    return 0;
}
