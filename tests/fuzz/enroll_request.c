/* Enrolment request files (tv_enroll_request_parse), as a parent reads them. */
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"
#include "node/logic/enroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    char why[TV_ENROLL_WHY_MAX] = "";
    tv_enroll_request r;
    int rc = tv_enroll_request_parse(&r, text, size, why);
    FUZZ_CHECK(rc == 0 || rc == TV_EVERSION || rc == TV_EDECODE || rc == TV_ESIG);
    FUZZ_CHECK(memchr(why, 0, sizeof why) != NULL);
    if (rc == 0) {
        char out[TV_ENROLL_REQUEST_BYTES_MAX];
        FUZZ_CHECK(tv_enroll_request_format(&r, out, sizeof out) > 0);
    }
    free(text);
    return 0;
}
