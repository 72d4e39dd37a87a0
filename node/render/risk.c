/* Risk levels as terminal text and JSON (risk.h). */
#include "node/render/risk.h"

#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/render/json.h"

#include <string.h>

static const char *const level_names[] = {"", "1 low (green)", "2 medium (yellow)",
                                          "3 high (orange)", "4 very high (red)"};

void tv_render_risk_set_text(FILE *f, const crdt_risk *r)
{
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, r->from_ms);
    fprintf(f, "recorded: unit %.*s level %s from %s\n", (int)r->unit.n, r->unit.p,
            level_names[r->level], w);
}

static const char *state_of(const tv_risk_row *row)
{
    return row->in_force ? "in force" : "from then";
}

int tv_render_risk_json(FILE *f, const tv_risk_row *row)
{
    const store_risk *r = &row->r;
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, r->from_ms);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "unit");
    tv_json_string(&j, row->unit);
    tv_json_key(&j, "unit_name");
    tv_json_string(&j, row->unit_name);
    tv_json_key(&j, "state");
    tv_json_string(&j, state_of(row));
    tv_json_key(&j, "level");
    tv_json_u64(&j, r->level);
    tv_json_key(&j, "from");
    tv_json_string(&j, w);
    tv_json_key(&j, "set_for");
    tv_json_string(&j, r->unit);
    tv_json_key(&j, "note");
    tv_json_string(&j, r->note);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_risk_text(FILE *f, const tv_risk_row *row)
{
    const store_risk *r = &row->r;
    char w[TV_TIME_STR_BYTES], label[TV_RISK_UNIT_NAME_BYTES];
    tv_time_format_vn(w, sizeof w, r->from_ms);
    snprintf(label, sizeof label, "%s%s%s", row->unit, row->unit_name[0] ? " " : "",
             tv_text_esc(row->unit_name));
    tv_text_pad(f, label, 34);
    fprintf(f, "  %-9s  level %-18s from %.16s%s%s%s%s\n", state_of(row), level_names[r->level], w,
            strcmp(r->unit, row->unit) ? "  (its commune's)" : "", r->note[0] ? "  \"" : "",
            tv_text_esc(r->note), r->note[0] ? "\"" : "");
}
