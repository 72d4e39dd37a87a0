/* Checking one scan's input (see scan_input.h). */
#include "node/logic/scan_input.h"
#include "crdt/error.h"
#include "crdt/event.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/logic/record.h"
#include "node/logic/venue_input.h"

#include <sodium.h>
#include <string.h>

/* Checks a scan's time against the node's clock now_ms. Returns 0 or TV_EINVAL. */
static int time_check(const char *at, int64_t at_ms, int64_t now_ms, tv_why *why)
{
    char now[TV_TIME_STR_BYTES];
    int r = tv_scan_time_check(at_ms, now_ms);
    tv_time_format_vn(now, sizeof now, now_ms);
    if (r > 0) {
        tv_why_set(why, "time_future",
                   "--at %s is in the future: this node's clock says %s. A scan may be at most "
                   "10 minutes ahead of it; check the date, or the clock.",
                   "Thời điểm %s nằm ở tương lai: đồng hồ của máy này đang là %s. Lượt quét chỉ "
                   "được sớm hơn đồng hồ của máy tối đa 10 phút; hãy kiểm tra lại ngày giờ đã "
                   "nhập, hoặc đồng hồ của máy.",
                   tv_text_esc(at), now);
        return TV_EINVAL;
    }
    if (r < 0) {
        tv_why_set(why, "time_too_early", "--at %s is before 2020; check the date.",
                   "Thời điểm %s là trước năm 2020; hãy kiểm tra lại ngày đã nhập.",
                   tv_text_esc(at));
        return TV_EINVAL;
    }
    return 0;
}

int tv_scan_input_parse(const char *person, const char *at, const char *device, int64_t now_ms,
                        tv_card *card, int64_t *at_ms, tv_why *why)
{
    const char *w;
    if (tv_card_parse(person, strlen(person), card, &w)) {
        tv_why_set(why, "person_invalid", "không đọc được mã '%s' (%s).",
                   "Không đọc được mã '%s' (%s).", tv_text_esc(person), tv_card_why_vi(w));
        return TV_EINVAL;
    }
    int rc = 0;
    *at_ms = 0;
    if (at && ((tv_time_parse(at, at_ms) && tv_time_parse_vn_dmy(at, at_ms)) ||
               !crdt_time_valid(*at_ms))) {
        tv_why_set(why, "time_invalid",
                   "'%s' is not a time before 2200; write it like 2021-10-06T08:30:00+07:00 or "
                   "06/10/2021 08:30 (Vietnam time).",
                   "'%s' không phải là một thời điểm hợp lệ (trước năm 2200); hãy ghi như "
                   "06/10/2021 08:30 (giờ Việt Nam) hoặc 2021-10-06T08:30:00+07:00.",
                   tv_text_esc(at));
        rc = TV_EINVAL;
    }
    if (rc == 0 && at) rc = time_check(at, *at_ms, now_ms, why);
    if (rc == 0 && device) rc = tv_why_text("device label", device, CRDT_DEVICE_BYTES_MAX, why);
    if (rc) sodium_memzero(card, sizeof *card);
    return rc;
}

int tv_scan_direction_parse(const char *s, int *out, tv_why *why)
{
    if (strcmp(s, "in") == 0 || strcmp(s, "vào") == 0) {
        *out = 0;
        return 0;
    }
    if (strcmp(s, "out") == 0 || strcmp(s, "ra") == 0) {
        *out = 1;
        return 0;
    }
    tv_why_set(why, "direction_invalid", "'%s' is not a direction: in or out.",
               "'%s' không phải là chiều quét: chọn vào hoặc ra.", tv_text_esc(s));
    return TV_EINVAL;
}

int tv_scan_node_check(const tv_node *n, tv_why *why)
{
    if (n->role == TV_ROLE_COMMUNE) return 0;
    tv_why_set(why, "not_commune", "scans are recorded at commune nodes; this is a %s node.%.0s",
               "%.0sLượt quét chỉ được ghi tại máy của xã; máy này là máy cấp %s.",
               tv_role_name(n->role), tv_role_name_vi(n->role));
    return TV_EPERM;
}

int tv_scan_venue_check(const tv_node *n, const store_venue *v, const char *text, tv_why *why)
{
    int rc = tv_scan_node_check(n, why);
    if (rc) return rc;
    if (strcmp(v->unit, n->unit) != 0) {
        tv_why_set(why, "venue_not_own", "venue %s is in unit %s, not in this node's unit %s.",
                   "Địa điểm %s thuộc đơn vị %s, không thuộc đơn vị %s của máy này.", text, v->unit,
                   n->unit);
        return TV_EPERM;
    }
    return 0;
}
