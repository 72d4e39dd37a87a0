/* Case statuses as terminal text and JSON (case.h). */
#include "node/render/case.h"

#include "crdt/hlc.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/render/json.h"

#include <sodium.h>
#include <string.h>

static void time_or_null(tv_json *j, const char *key, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    tv_json_key(j, key);
    if (ms < 0 || ms == TV_WINDOW_OPEN) {
        tv_json_null(j);
        return;
    }
    tv_time_format_vn(w, sizeof w, ms);
    tv_json_string(j, w);
}

static void date_of(char *out, size_t cap, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    if (ms < 0) {
        snprintf(out, cap, "-");
        return;
    }
    tv_time_format_vn(w, sizeof w, ms);
    snprintf(out, cap, "%.10s", w);
}

/* "code name", the name escaped, or the code alone. */
static void unit_label(char *out, size_t cap, const char *code, const char *name)
{
    snprintf(out, cap, "%s%s%s", code, name[0] ? " " : "", tv_text_esc(name));
}

void tv_render_case_added_text(FILE *f, const tv_case_added *a, const tv_case_unit *u)
{
    char ref[2 * TV_PERSON_REF_BYTES + 1], label[TV_CASE_UNIT_NAME_BYTES];
    char why[128 + TV_UNIT_CODE_MAX];
    sodium_bin2hex(ref, sizeof ref, a->ref, TV_PERSON_REF_BYTES);
    unit_label(label, sizeof label, a->unit, a->unit_name);
    switch (u->why) {
    case TV_CASE_UNIT_RECORDED:
        snprintf(why, sizeof why, "where the person was recorded");
        break;
    case TV_CASE_UNIT_OUTSIDE:
        snprintf(why, sizeof why,
                 "this node's own: the person was recorded under unit %s, outside "
                 "this node's scope",
                 u->recorded);
        break;
    case TV_CASE_UNIT_UNRECORDED:
        snprintf(why, sizeof why, "this node's own: the person has no record here");
        break;
    default:
        snprintf(why, sizeof why, "as given");
    }
    fprintf(f, "recorded: %s %s  %s, under unit %s (%s)\n", crdt_case_status_name(a->status), ref,
            tv_text_esc(a->disp), label, why);
}

int tv_render_case_json(FILE *f, const tv_case_row *r)
{
    const tv_case *cs = &r->cs;
    char hex[2 * TV_PERSON_REF_BYTES + 1], set[TV_TIME_STR_BYTES];
    sodium_bin2hex(hex, sizeof hex, r->ref, TV_PERSON_REF_BYTES);
    tv_time_format_vn(set, sizeof set, (int64_t)crdt_hlc_ms(cs->current.hlc));
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "ref");
    tv_json_string(&j, hex);
    tv_json_key(&j, "person");
    tv_json_string(&j, r->disp);
    tv_json_key(&j, "status");
    tv_json_string(&j, crdt_case_status_name(cs->current.status));
    tv_json_key(&j, "unit");
    tv_json_string(&j, cs->current.unit);
    tv_json_key(&j, "unit_name");
    tv_json_string(&j, r->unit_name);
    time_or_null(&j, "onset", cs->current.onset_ms);
    time_or_null(&j, "sampled", cs->current.sampled_ms);
    tv_json_key(&j, "set_at");
    tv_json_string(&j, set);
    time_or_null(&j, "window_from", cs->has_window ? cs->window_from : -1);
    time_or_null(&j, "window_to", cs->has_window ? cs->window_to : -1);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_case_text(FILE *f, const tv_case_row *r)
{
    const tv_case *cs = &r->cs;
    char hex[2 * TV_PERSON_REF_BYTES + 1], set[TV_TIME_STR_BYTES];
    sodium_bin2hex(hex, sizeof hex, r->ref, TV_PERSON_REF_BYTES);
    tv_time_format_vn(set, sizeof set, (int64_t)crdt_hlc_ms(cs->current.hlc));
    char on[16], sa[16], wf[16], wt[16];
    date_of(on, sizeof on, cs->current.onset_ms);
    date_of(sa, sizeof sa, cs->current.sampled_ms);
    char label[TV_CASE_UNIT_NAME_BYTES];
    unit_label(label, sizeof label, cs->current.unit, r->unit_name);
    fprintf(f, "%-7s  %s  %-28s  unit ", crdt_case_status_name(cs->current.status), hex,
            tv_text_esc(r->disp));
    tv_text_pad(f, label, 30);
    fprintf(f, "  onset %s  sampled %s  set %.16s", on, sa, set);
    if (cs->has_window) {
        date_of(wf, sizeof wf, cs->window_from);
        if (cs->window_to == TV_WINDOW_OPEN)
            snprintf(wt, sizeof wt, "now");
        else
            date_of(wt, sizeof wt, cs->window_to);
        fprintf(f, "  infectious %s..%s", wf, wt);
    }
    fputc('\n', f);
}
