/* Venues as terminal text and JSON (venue.h). */
#include "node/render/venue.h"

#include "crdt/hlc.h"
#include "crdt/ids.h"
#include "node/format/payload.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/logic/category.h"
#include "node/logic/units.h"

#include <string.h>

void tv_render_hlc_time(char *out, size_t cap, uint64_t hlc)
{
    tv_time_format_vn(out, cap, (int64_t)crdt_hlc_ms(hlc));
}

/* Writes ms as Vietnam time, or null for INT64_MIN (never). */
static void time_or_null(tv_json *j, int64_t ms)
{
    if (ms == INT64_MIN) {
        tv_json_null(j);
        return;
    }
    char when[TV_TIME_STR_BYTES];
    tv_time_format_vn(when, sizeof when, ms);
    tv_json_string(j, when);
}

/* The fields of the venue's registration that are not its text. */
static void venue_kind_json(tv_json *j, const store_venue *v)
{
    const tv_category *c = tv_category_by_code(v->category);
    tv_json_key(j, "category");
    if (c)
        tv_json_string(j, c->slug);
    else
        tv_json_u64(j, v->category);
    tv_json_key(j, "category_name");
    tv_json_string(j, c ? c->name_vi : "");
}

void tv_render_venue_fields_json(tv_json *j, const store_venue *v)
{
    char when[40];
    const tv_unit *u = tv_unit_find(v->unit);
    char code[TV_SHORT_CODE_STR];
    tv_short_code(code, v->id);
    tv_json_key(j, "id");
    tv_json_hex(j, v->id, sizeof v->id);
    tv_json_key(j, "short_code");
    tv_json_string(j, code);
    tv_json_key(j, "unit");
    tv_json_string(j, v->unit);
    tv_json_key(j, "unit_name");
    tv_json_string(j, u ? u->name : "");
    tv_json_key(j, "name");
    tv_json_string(j, v->name);
    venue_kind_json(j, v);
    tv_json_key(j, "village");
    tv_json_string(j, v->village);
    tv_json_key(j, "owner_phone");
    tv_json_string(j, v->owner_phone);
    tv_json_key(j, "closes");
    if (v->closes != CRDT_CLOSES_NONE) {
        char hm[8];
        tv_venue_closes_format(hm, v->closes);
        tv_json_string(j, hm);
    } else {
        tv_json_null(j);
    }
    tv_render_hlc_time(when, sizeof when, v->created_hlc);
    tv_json_key(j, "registered");
    tv_json_string(j, when);
    tv_render_hlc_time(when, sizeof when, v->updated_hlc);
    tv_json_key(j, "updated");
    tv_json_string(j, when);
}

void tv_render_venue_status_json(tv_json *j, const store_venue_status *st)
{
    tv_json_key(j, "reminders");
    tv_json_u64(j, st->reminders);
    tv_json_key(j, "reminders_active");
    tv_json_u64(j, st->reminders_active);
    tv_json_key(j, "suspended");
    tv_json_bool(j, st->suspended != 0);
    tv_json_key(j, "last_scan");
    time_or_null(j, st->last_scan_ms);
    tv_json_key(j, "last_reminder");
    time_or_null(j, st->last_reminder_ms);
    tv_json_key(j, "reinstated");
    time_or_null(j, st->reinstated_ms);
}

/* The end of a list line: (the commune,) name and village. */
static void unit_name_tail(FILE *f, const store_venue *v, int with_unit)
{
    if (with_unit) {
        const tv_unit *u = tv_unit_find(v->unit);
        fprintf(f, "%s %s  ", v->unit, u ? u->name : "?");
    }
    fprintf(f, "%s%s%s\n", tv_text_esc(v->name), v->village[0] ? " — " : "",
            tv_text_esc(v->village));
}

int tv_render_venue_line_json(FILE *f, const store_venue *v)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_render_venue_fields_json(&j, v);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_venue_line_text(FILE *f, const store_venue *v, int with_unit)
{
    char hex[2 * TV_VENUE_ID_BYTES + 1], when[40], code[TV_SHORT_CODE_STR];
    const tv_category *c = tv_category_by_code(v->category);
    tv_hex_encode(hex, v->id, sizeof v->id);
    tv_short_code(code, v->id);
    tv_render_hlc_time(when, sizeof when, v->created_hlc);
    when[10] = '\0';
    fprintf(f, "%s  %s  %s  %-16s  ", hex, code, when, c ? c->slug : "?");
    unit_name_tail(f, v, with_unit);
}

int tv_render_venue_nc_json(FILE *f, const tv_venue_nc_row *r)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_render_venue_fields_json(&j, &r->v);
    tv_render_venue_status_json(&j, &r->st);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_venue_nc_text(FILE *f, const tv_venue_nc_row *r, int with_unit)
{
    char hex[2 * TV_VENUE_ID_BYTES + 1], last[TV_TIME_STR_BYTES] = "never";
    tv_hex_encode(hex, r->v.id, sizeof r->v.id);
    if (r->st.last_scan_ms != INT64_MIN) {
        tv_time_format_vn(last, sizeof last, r->st.last_scan_ms);
        last[10] = '\0';
    }
    fprintf(f, "%s  reminders %3llu (%llu active)  %-9s  last scan %-10s  ", hex,
            (unsigned long long)r->st.reminders, (unsigned long long)r->st.reminders_active,
            r->st.suspended ? "SUSPENDED" : "-", last);
    unit_name_tail(f, &r->v, with_unit);
}

static void ctrl_json(tv_json *j, const tv_venue_ctrl *c)
{
    char when[40];
    tv_json_object_begin(j);
    tv_json_key(j, "phone");
    tv_json_string(j, c->phone);
    tv_render_hlc_time(when, sizeof when, c->hlc);
    tv_json_key(j, "added");
    tv_json_string(j, when);
    tv_json_object_end(j);
}

static void reminders_json(tv_json *j, const tv_venue_detail *d)
{
    char when[40];
    tv_json_key(j, "reminder_history");
    tv_json_array_begin(j);
    for (size_t i = 0; i < d->nrem; i++) {
        tv_json_object_begin(j);
        tv_render_hlc_time(when, sizeof when, d->rem[i].hlc);
        tv_json_key(j, "time");
        tv_json_string(j, when);
        tv_json_key(j, "action");
        tv_json_string(j, d->rem[i].action == CRDT_REINSTATE ? "reinstate" : "remind");
        tv_json_key(j, "note");
        tv_json_string(j, d->rem[i].note);
        tv_json_object_end(j);
    }
    tv_json_array_end(j);
}

int tv_render_venue_show_json(FILE *f, const store_venue *v, const tv_venue_detail *d)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_render_venue_fields_json(&j, v);
    tv_json_key(&j, "controllers");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < d->nctrl; i++)
        ctrl_json(&j, &d->ctrl[i]);
    tv_json_array_end(&j);
    tv_render_venue_status_json(&j, &d->st);
    reminders_json(&j, d);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

/* The registration lines of `venue show`: id to updated. */
static void show_registration(FILE *f, const store_venue *v)
{
    char hex[2 * TV_VENUE_ID_BYTES + 1], reg[40], upd[40], closes[8] = "none";
    const tv_category *c = tv_category_by_code(v->category);
    tv_hex_encode(hex, v->id, sizeof v->id);
    tv_render_hlc_time(reg, sizeof reg, v->created_hlc);
    tv_render_hlc_time(upd, sizeof upd, v->updated_hlc);
    if (v->closes != CRDT_CLOSES_NONE) tv_venue_closes_format(closes, v->closes);
    char code[TV_SHORT_CODE_STR];
    const tv_unit *u = tv_unit_find(v->unit);
    tv_short_code(code, v->id);
    fprintf(f,
            "id:          %s\nshort code:  %s\nname:        %s\ncategory:    %s (%s)\n"
            "unit:        %s%s%s\nvillage:     %s\nowner phone: %s\ncloses:      %s\n"
            "registered:  %s\nupdated:     %s\n",
            hex, code, tv_text_esc(v->name), c ? c->slug : "unknown", c ? c->name_vi : "?", v->unit,
            u ? " " : "", u ? u->name : "", tv_text_esc(v->village), tv_text_esc(v->owner_phone),
            closes, reg, upd);
}

void tv_render_venue_show_text(FILE *f, const store_venue *v, const tv_venue_detail *d)
{
    char last[40] = "never";
    show_registration(f, v);
    if (d->st.last_scan_ms != INT64_MIN) tv_time_format_vn(last, sizeof last, d->st.last_scan_ms);
    fprintf(f, "controllers:");
    if (d->nctrl == 0) fprintf(f, " none");
    for (size_t i = 0; i < d->nctrl; i++)
        fprintf(f, "%s %s", i ? "," : "", d->ctrl[i].phone);
    fprintf(f, "\nlast scan:   %s\n", last);
    fprintf(f, "reminders:   %llu (%llu since the last scan or reinstatement)\n",
            (unsigned long long)d->st.reminders, (unsigned long long)d->st.reminders_active);
    for (size_t i = 0; i < d->nrem; i++) {
        char when[40];
        tv_render_hlc_time(when, sizeof when, d->rem[i].hlc);
        fprintf(f, "  %s  %s%s%s\n", when,
                d->rem[i].action == CRDT_REINSTATE ? "reinstated" : "reminder",
                d->rem[i].note[0] ? ": " : "", tv_text_esc(d->rem[i].note));
    }
    if (d->st.suspended) {
        char hex[2 * TV_VENUE_ID_BYTES + 1];
        tv_hex_encode(hex, v->id, sizeof v->id);
        fprintf(f,
                "suspended:   yes: the station refuses its scans until a scan is recorded "
                "another way or 'truyvet venue reinstate %s'\n",
                hex);
    } else {
        fprintf(f, "suspended:   no\n");
    }
}

int tv_render_venue_ctrl_json(FILE *f, const tv_venue_ctrl *c)
{
    tv_json j;
    tv_json_init(&j, f);
    ctrl_json(&j, c);
    return tv_json_line_end(&j);
}

void tv_render_venue_ctrl_text(FILE *f, const tv_venue_ctrl *c)
{
    char when[40];
    tv_render_hlc_time(when, sizeof when, c->hlc);
    fprintf(f, "%s  added %s\n", c->phone, when);
}

int tv_render_venue_status_line_json(FILE *f, const store_venue *v, const store_venue_status *st)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "venue");
    tv_json_hex(&j, v->id, sizeof v->id);
    tv_render_venue_status_json(&j, st);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_venue_reminded_text(FILE *f, const char *id, const store_venue *v,
                                   const store_venue_status *st, int was_suspended)
{
    fprintf(f,
            "reminder recorded for venue %s (%s): %llu reminder%s in all, %llu since its last "
            "scan or reinstatement.\n",
            id, tv_text_esc(v->name), (unsigned long long)st->reminders,
            st->reminders == 1 ? "" : "s", (unsigned long long)st->reminders_active);
    if (st->suspended) {
        fprintf(f,
                "The venue is %s SUSPENDED: its station refuses scans until a scan is "
                "recorded another way ('truyvet scan', an import) or the commune reinstates "
                "it ('truyvet venue reinstate %s').\n",
                was_suspended ? "still" : "now", id);
    } else {
        uint64_t left = STORE_SUSPEND_REMINDERS - st->reminders_active;
        fprintf(f, "%llu more reminder%s with no scan suspend%s it.\n", (unsigned long long)left,
                left == 1 ? "" : "s", left == 1 ? "s" : "");
    }
}
