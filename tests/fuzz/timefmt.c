/* Times and dates as operators type them (--at, --from, CSV time cells): tv_time_parse
 * and tv_date_parse; what parses formats back and parses to the same value (to the
 * second). */
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"
#include "node/format/timefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    int64_t ms, again;
    if (tv_time_parse(text, &ms) == 0) {
        char out[TV_TIME_STR_BYTES];
        tv_time_format_vn(out, sizeof out, ms);
        FUZZ_CHECK(tv_time_parse(out, &again) == 0);
        FUZZ_CHECK(again == ms - (((ms % 1000) + 1000) % 1000));
        (void)tv_time_day(ms, 420);
    } else {
        FUZZ_CHECK(ms == 0);
    }
    int32_t day, day2;
    if (tv_date_parse(text, &day) == 0) {
        char out[TV_DATE_STR_BYTES];
        tv_date_format(out, sizeof out, day);
        FUZZ_CHECK(tv_date_parse(out, &day2) == 0 && day2 == day);
        (void)tv_date_start_ms(day, 420);
    } else {
        FUZZ_CHECK(day == 0);
    }
    free(text);
    return 0;
}
