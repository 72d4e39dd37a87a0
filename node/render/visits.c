/* A venue's visits as text or JSON (visits.h). */
#include "node/render/visits.h"

#include "node/format/text.h"
#include "node/format/timefmt.h"

void tv_render_visit_json(tv_json *j, const tv_visit *v)
{
    char from[TV_TIME_STR_BYTES], to[TV_TIME_STR_BYTES];
    tv_time_format_vn(from, sizeof from, v->p.from_ms);
    tv_time_format_vn(to, sizeof to, v->p.to_ms);
    tv_json_object_begin(j);
    tv_json_key(j, "person");
    tv_json_string(j, v->person);
    tv_json_key(j, "from");
    tv_json_string(j, from);
    tv_json_key(j, "to");
    if (v->p.end == TV_END_OPEN)
        tv_json_null(j);
    else
        tv_json_string(j, to);
    tv_json_key(j, "end");
    tv_json_string(j, tv_end_reason_name(v->p.end));
    tv_json_key(j, "scans");
    tv_json_u64(j, v->p.scans);
    tv_json_object_end(j);
}

int tv_render_visit_line_json(FILE *f, const tv_visit *v)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_render_visit_json(&j, v);
    return tv_json_line_end(&j);
}

void tv_render_visit_text(FILE *f, const tv_visit *v)
{
    char from[TV_TIME_STR_BYTES], to[TV_TIME_STR_BYTES];
    tv_time_format_vn(from, sizeof from, v->p.from_ms);
    tv_time_format_vn(to, sizeof to, v->p.to_ms);
    int open = v->p.end == TV_END_OPEN;
    /* 08:00-09:30: the hours and minutes of the two times */
    fprintf(f, "%.5s-%.5s  %-13s %3u scan%s  %s\n", from + 11, open ? "now  " : to + 11,
            tv_end_reason_name(v->p.end), v->p.scans, v->p.scans == 1 ? " " : "s",
            tv_text_esc(v->person));
}
