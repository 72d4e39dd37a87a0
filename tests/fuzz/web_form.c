/* What a browser (or anyone) sends the console: a form body (tv_form_parse) and a listening
 * address (tv_web_addr_parse). Every pair decoded lies inside the body, NUL-terminated,
 * with no NUL before its end; a refused body is refused whole. */
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"
#include "node/web/http.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    size_t len = strlen(text);
    tv_kv kv[TV_REQ_PARAMS_MAX];
    int n = tv_form_parse(text, kv, TV_REQ_PARAMS_MAX);
    FUZZ_CHECK(n >= -1 && n <= TV_REQ_PARAMS_MAX);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(kv[i].key >= text && kv[i].key <= text + len);
        FUZZ_CHECK(kv[i].val >= text && kv[i].val <= text + len);
        FUZZ_CHECK(kv[i].key + strlen(kv[i].key) <= text + len);
        FUZZ_CHECK(kv[i].val + strlen(kv[i].val) <= text + len);
    }
    free(text);
    text = fuzz_strndup(data, size);
    struct sockaddr_storage sa;
    unsigned salen = 0;
    if (tv_web_addr_parse(text, &sa, &salen) == 0)
        FUZZ_CHECK(salen > 0 && salen <= sizeof sa &&
                   (sa.ss_family == AF_INET || sa.ss_family == AF_INET6));
    free(text);
    return 0;
}
