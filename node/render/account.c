/* The console's accounts and its log written out (account.h). */
#include "node/render/account.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/render/json.h"

static void state_text(const tv_account *a, int64_t now_ms, char *out, size_t cap)
{
    char until[TV_TIME_STR_BYTES];
    if (a->disabled) {
        snprintf(out, cap, "disabled");
    } else if (a->locked_until_ms > now_ms) {
        tv_time_format_vn(until, sizeof until, a->locked_until_ms);
        snprintf(out, cap, "locked until %s", until);
    } else {
        snprintf(out, cap, "active");
    }
}

int tv_render_account_json(FILE *f, const tv_account *a, int64_t now_ms)
{
    char created[TV_TIME_STR_BYTES], changed[TV_TIME_STR_BYTES], until[TV_TIME_STR_BYTES];
    tv_time_format_vn(created, sizeof created, a->created_ms);
    tv_time_format_vn(changed, sizeof changed, a->changed_ms);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "name");
    tv_json_string(&j, a->name);
    tv_json_key(&j, "role");
    tv_json_string(&j, tv_account_role_name(a->role));
    tv_json_key(&j, "disabled");
    tv_json_bool(&j, a->disabled);
    tv_json_key(&j, "failures");
    tv_json_u64(&j, a->failures);
    tv_json_key(&j, "locked_until");
    if (a->locked_until_ms > now_ms) {
        tv_time_format_vn(until, sizeof until, a->locked_until_ms);
        tv_json_string(&j, until);
    } else {
        tv_json_null(&j);
    }
    tv_json_key(&j, "created");
    tv_json_string(&j, created);
    tv_json_key(&j, "changed");
    tv_json_string(&j, changed);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_account_text(FILE *f, const tv_account *a, int64_t now_ms)
{
    char created[TV_TIME_STR_BYTES], state[80];
    tv_time_format_vn(created, sizeof created, a->created_ms);
    state_text(a, now_ms, state, sizeof state);
    fprintf(f, "%-32s  %-10s  %-40s  %u failures  created %s\n", tv_text_esc(a->name),
            tv_account_role_name(a->role), state, (unsigned)a->failures, created);
}

int tv_render_console_json(FILE *f, const store_console_entry *e)
{
    char when[TV_TIME_STR_BYTES];
    tv_time_format_vn(when, sizeof when, e->at_ms);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "time");
    tv_json_string(&j, when);
    tv_json_key(&j, "kind");
    tv_json_string(&j, tv_console_kind_name(e->kind));
    tv_json_key(&j, "actor");
    tv_json_string(&j, e->actor);
    tv_json_key(&j, "subject");
    tv_json_string(&j, e->subject);
    tv_json_key(&j, "remote");
    tv_json_string(&j, e->remote);
    tv_json_key(&j, "detail");
    tv_json_string(&j, e->detail);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_console_text(FILE *f, const store_console_entry *e)
{
    char when[TV_TIME_STR_BYTES];
    tv_time_format_vn(when, sizeof when, e->at_ms);
    fprintf(f, "%s  %-16s  %-16s  %-16s  %-15s  %s\n", when, tv_console_kind_name(e->kind),
            tv_text_esc(e->actor), tv_text_esc(e->subject),
            e->remote[0] ? tv_text_esc(e->remote) : "-", tv_text_esc(e->detail));
}
