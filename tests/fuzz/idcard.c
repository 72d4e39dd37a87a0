/* Lines a QR reader types into `truyvet station` (tv_card_parse: CCCD, BHYT, typed
 * numbers, truyvet personal codes), and the name masking applied to what they name. */
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"
#include "node/logic/idcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    tv_card card;
    const char *why = NULL;
    int rc = tv_card_parse(text, size, &card, &why);
    FUZZ_CHECK(rc == 0 || rc == TV_EINVAL);
    FUZZ_CHECK(rc == 0 || why != NULL);
    char masked[TV_CARD_NAME_MASKED_BYTES];
    tv_name_mask(text, masked, sizeof masked);
    FUZZ_CHECK(memchr(masked, 0, sizeof masked) != NULL);
    free(text);
    return 0;
}
