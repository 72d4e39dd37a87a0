/* A followed scan as JSON or a line of text (scan.h). */
#include "node/render/scan.h"

#include "crdt/error.h"
#include "node/format/text.h"
#include "node/render/json.h"

int tv_render_scan_json(FILE *f, const tv_scan_row *r)
{
    char when[TV_TIME_STR_BYTES];
    tv_time_format_vn(when, sizeof when, r->at_ms);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "id");
    tv_json_string(&j, r->id);
    tv_json_key(&j, "venue");
    tv_json_string(&j, r->venue);
    tv_json_key(&j, "venue_name");
    tv_json_string(&j, r->venue_name);
    tv_json_key(&j, "direction");
    tv_json_string(&j, r->out ? "out" : "in");
    tv_json_key(&j, "at");
    tv_json_string(&j, when);
    tv_json_key(&j, "person");
    tv_json_string(&j, r->person);
    tv_json_key(&j, "method");
    tv_json_string(&j, crdt_method_name(r->method));
    tv_json_key(&j, "repeat");
    tv_json_bool(&j, r->repeat);
    tv_json_key(&j, "status");
    if (r->mark.status >= 0)
        tv_json_string(&j, crdt_case_status_name((uint32_t)r->mark.status));
    else
        tv_json_null(&j);
    tv_json_key(&j, "stop");
    tv_json_bool(&j, tv_gate_stop(&r->mark));
    tv_json_object_end(&j);
    return tv_json_status(&j) ? TV_EIO : 0;
}

int tv_render_scan_text(FILE *f, const tv_scan_row *r)
{
    char when[TV_TIME_STR_BYTES];
    tv_time_format_vn(when, sizeof when, r->at_ms);
    when[10] = ' '; /* 2021-10-06 08:00:00 */
    when[19] = '\0';
    const char *mark = tv_gate_mark_text(&r->mark);
    /* fixed columns: "vào"/"ra ", "lặp lại" or as many spaces */
    fprintf(f, "%s  %s  %s%s  %s%s%s%s\n", when, r->out ? "ra " : "vào",
            r->repeat ? "lặp lại  " : "", tv_text_esc(r->person), tv_text_esc(r->venue_name),
            mark ? "  " : "", tv_gate_stop(&r->mark) ? "DỪNG: " : "", mark ? mark : "");
    return ferror(f) ? TV_EIO : 0;
}
