/* Alerts as terminal text and JSON (alerts.h). */
#include "node/render/alerts.h"

#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/render/json.h"

#include <inttypes.h>
#include <sodium.h>

/* The heading of a case's windows, or of a commune's. */
static void heading_text(FILE *f, const tv_alert *r)
{
    if (!r->case_no) {
        fprintf(f, "a confirmed case was at these venues in its infectious window:\n");
        return;
    }
    char d[TV_TIME_STR_BYTES], wf[TV_TIME_STR_BYTES], wt[TV_TIME_STR_BYTES] = "now";
    tv_time_format_vn(d, sizeof d, r->declared_ms);
    tv_time_format_vn(wf, sizeof wf, r->case_from);
    if (r->case_to != TV_WINDOW_OPEN) tv_time_format_vn(wt, sizeof wt, r->case_to);
    fprintf(f, "case %" PRIu64 " (declared %.16s; infectious %.16s .. %.16s):\n", r->case_no, d, wf,
            wt);
}

void tv_render_alerts_text(FILE *f, const tv_alerts *a)
{
    for (size_t i = 0; i < a->n; i++) {
        const tv_alert *r = &a->rows[i];
        if (i == 0 || (r->case_no && r->case_no != a->rows[i - 1].case_no)) heading_text(f, r);
        const store_venue *v = &r->v;
        char from[TV_TIME_STR_BYTES], to[TV_TIME_STR_BYTES], vid[2 * TV_VENUE_ID_BYTES + 1];
        tv_time_format_vn(from, sizeof from, r->from_ms);
        tv_time_format_vn(to, sizeof to, r->to_ms);
        sodium_bin2hex(vid, sizeof vid, v->id, TV_VENUE_ID_BYTES);
        fprintf(f, "  %.10s %.5s-%.5s  %s%s%s  (%s, owner %s)\n", from, from + 11, to + 11,
                tv_text_esc(v->name), v->village[0] ? ", " : "", tv_text_esc(v->village), vid,
                v->owner_phone[0] ? tv_text_esc(v->owner_phone) : "-");
    }
}

static void string_field(tv_json *j, const char *key, const char *s)
{
    tv_json_key(j, key);
    tv_json_string(j, s);
}

/* One window as a record. */
static int alert_json(FILE *f, const tv_alert *r)
{
    char from[TV_TIME_STR_BYTES], to[TV_TIME_STR_BYTES], vid[2 * TV_VENUE_ID_BYTES + 1];
    tv_time_format_vn(from, sizeof from, r->from_ms);
    tv_time_format_vn(to, sizeof to, r->to_ms);
    sodium_bin2hex(vid, sizeof vid, r->v.id, TV_VENUE_ID_BYTES);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    if (r->case_no) { /* a health node knows the case; a commune only the window */
        tv_json_key(&j, "case");
        tv_json_u64(&j, r->case_no);
        char d[TV_TIME_STR_BYTES];
        tv_time_format_vn(d, sizeof d, r->declared_ms);
        string_field(&j, "declared", d);
    }
    string_field(&j, "venue", vid);
    string_field(&j, "venue_name", r->v.name);
    string_field(&j, "unit", r->v.unit);
    string_field(&j, "village", r->v.village);
    string_field(&j, "owner_phone", r->v.owner_phone);
    string_field(&j, "from", from);
    string_field(&j, "to", to);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

int tv_render_alerts_json(FILE *f, const tv_alerts *a)
{
    int out = 0;
    for (size_t i = 0; i < a->n; i++) {
        int rc = alert_json(f, &a->rows[i]);
        if (rc && !out) out = rc;
    }
    return out;
}
