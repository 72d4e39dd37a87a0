/* Printed codes: venue payloads (the poster's QR), personal codes (TV1:...) and short
 * codes, as the station and `qr verify` read them; what parses formats back to a code
 * that parses to the same thing. */
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"
#include "node/format/payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    const char *why = NULL;
    tv_venue_payload p, q;
    if (tv_venue_payload_parse(text, size, &p, &why) == 0) {
        char out[TV_VENUE_PAYLOAD_MAX];
        tv_venue_payload_format(out, &p);
        FUZZ_CHECK(tv_venue_payload_parse(out, strlen(out), &q, &why) == 0);
        FUZZ_CHECK(memcmp(p.venue, q.venue, sizeof p.venue) == 0 && strcmp(p.unit, q.unit) == 0);
    } else {
        FUZZ_CHECK(why != NULL);
    }
    tv_person_card c;
    why = NULL;
    if (tv_person_card_parse(text, size, &c, &why) == 0) {
        char out[TV_PERSON_CARD_MAX];
        tv_person_card_format(out, &c);
        FUZZ_CHECK(memchr(out, 0, sizeof out) != NULL);
    } else {
        FUZZ_CHECK(why != NULL);
    }
    uint8_t prefix[TV_SHORT_CODE_PREFIX_BYTES];
    why = NULL;
    int rc = tv_short_code_parse(text, prefix, &why);
    FUZZ_CHECK(rc == 0 || (rc == TV_EINVAL && why != NULL));
    free(text);
    return 0;
}
