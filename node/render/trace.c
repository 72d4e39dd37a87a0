/* A traced case as a table, JSON and CSV, and its warnings (trace.h). */
#include "node/render/trace.h"

#include "node/format/csv.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/logic/reveal.h"
#include "node/render/json.h"

#include <limits.h>
#include <sodium.h>
#include <string.h>

#define STALE_SHOWN_MAX 20 /* other stale communes named in the text forms */

static const char commune_note[] =
    "this is a commune node: it holds the scans of its own venues only, so visits at other "
    "communes' venues are not seen here; trace at the district or the province for them.";

/* "YYYY-MM-DD HH:MM", Vietnam time. */
static void hm(char *out, size_t cap, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, ms);
    snprintf(out, cap, "%.10s %.5s", w, w + 11);
}

static void fresh_time(char *out, size_t cap, int64_t ms)
{
    if (ms < 0)
        snprintf(out, cap, "never");
    else
        hm(out, cap, ms);
}

static void fresh_day(char *out, size_t cap, int32_t day)
{
    if (day == INT32_MIN)
        snprintf(out, cap, "none");
    else
        tv_date_format(out, cap, day);
}

/* --- table ---------------------------------------------------------------------------- */

/* Prints the revealed details of person idx under their line, when there are any. */
static void details_text(FILE *f, const tv_trace_case *c, size_t idx, const char *indent)
{
    const tv_details *d = tv_trace_case_details(c, idx);
    if (!d) return;
    char line[sizeof(tv_details) + 64]; /* every field and its label */
    tv_details_line(line, sizeof line, d);
    fprintf(f, "%s%s\n", indent, tv_text_esc(line));
    sodium_memzero(line, sizeof line);
}

static void visits_text(FILE *f, const tv_trace_case *c)
{
    char a[32], b[32];
    fprintf(f, "visits (where to zone): %zu\n", c->r.nvisits);
    for (size_t i = 0; i < c->r.nvisits; i++) {
        const tv_presence *p = &c->r.visits[i];
        const tv_trace_venue *tv = tv_trace_case_venue(c, p->venue);
        int known = tv && tv->known;
        hm(a, sizeof a, p->from_ms);
        hm(b, sizeof b, p->to_ms);
        fprintf(f, "  %s-%s  %s%s%s (unit %s)\n", a, b + 11,
                known ? tv_text_esc(tv->v.name) : "(a venue not held here)",
                known && tv->v.village[0] ? ", " : "", known ? tv_text_esc(tv->v.village) : "",
                known ? tv->v.unit : "?");
    }
}

static void contact_text(FILE *f, const tv_trace_case *c, size_t i, size_t rank)
{
    char a[32], b[32];
    const tv_contact *ct = &c->r.contacts[i];
    fprintf(f, "  %2zu  %-40s  %4lld min\n", rank, tv_text_esc(c->disp[i + 1]),
            (long long)(ct->total_ms / 60000));
    details_text(f, c, i + 1, "        ");
    for (size_t k = 0; k < ct->nshared; k++) {
        const tv_trace_venue *tv = tv_trace_case_venue(c, ct->shared[k].venue);
        int known = tv && tv->known;
        hm(a, sizeof a, ct->shared[k].from_ms);
        hm(b, sizeof b, ct->shared[k].to_ms);
        fprintf(f, "        %s-%s  %s\n", a, b + 11,
                known ? tv_text_esc(tv->v.name) : "(a venue not held here)");
    }
}

static void completeness_text(FILE *f, const tv_trace_case *c)
{
    const tv_trace_units *u = c->units;
    char a[32], b[32], d[32];
    fprintf(f, "completeness (this node's copy of each commune touched):\n");
    for (size_t i = 0; i < u->touched; i++) {
        fresh_day(a, sizeof a, u->f[i].last_scan_day);
        fresh_time(b, sizeof b, u->f[i].last_event);
        fresh_time(d, sizeof d, u->f[i].received);
        fprintf(f, "  %-8s last scan %s, last event %s, received %s%s\n", u->code[i], a, b, d,
                tv_fresh_stale(&u->f[i], c->from_ms) ? "  NOT SYNCED SINCE THE WINDOW BEGAN" : "");
    }
    if (u->n > u->touched) {
        fprintf(f, "not synced since the window began (no scan held since then):");
        for (size_t i = u->touched; i < u->n && i < u->touched + STALE_SHOWN_MAX; i++) {
            fresh_day(a, sizeof a, u->f[i].last_scan_day);
            fprintf(f, " %s (last scan %s)", u->code[i], a);
        }
        if (u->n - u->touched > STALE_SHOWN_MAX)
            fprintf(f, " and %zu more", u->n - u->touched - STALE_SHOWN_MAX);
        fputc('\n', f);
    }
    if (c->commune_only) fprintf(f, "  (%s)\n", commune_note);
}

void tv_render_trace_text(FILE *f, const tv_trace_case *c)
{
    fprintf(f, "case  %s\n", tv_text_esc(c->disp[0]));
    details_text(f, c, 0, "      ");
    visits_text(f, c);
    for (int level = 1; level <= 2; level++) {
        size_t count = 0;
        for (size_t i = 0; i < c->r.ncontacts; i++)
            count += c->r.contacts[i].level == level;
        if (level == 2 && count == 0) continue;
        fprintf(f, "F%d: %zu\n", level, count);
        for (size_t i = 0, rank = 0; i < c->r.ncontacts; i++)
            if (c->r.contacts[i].level == level) contact_text(f, c, i, ++rank);
    }
    completeness_text(f, c);
}

/* --- JSON ----------------------------------------------------------------------------- */

/* Writes key and ms as Vietnam time, or null when ms < 0. */
static void time_json(tv_json *j, const char *key, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    tv_json_key(j, key);
    if (ms < 0) {
        tv_json_null(j);
        return;
    }
    tv_time_format_vn(w, sizeof w, ms);
    tv_json_string(j, w);
}

static void visit_json(tv_json *j, const tv_trace_case *c, const uint8_t *venue, int64_t from,
                       int64_t to)
{
    char when[TV_TIME_STR_BYTES];
    const tv_trace_venue *tv = tv_trace_case_venue(c, venue);
    int known = tv && tv->known;
    tv_json_object_begin(j);
    tv_json_key(j, "venue");
    tv_json_hex(j, venue, TV_VENUE_ID_BYTES);
    tv_json_key(j, "venue_name");
    if (known)
        tv_json_string(j, tv->v.name);
    else
        tv_json_null(j);
    tv_json_key(j, "unit");
    if (known)
        tv_json_string(j, tv->v.unit);
    else
        tv_json_null(j);
    tv_json_key(j, "village");
    tv_json_string(j, known ? tv->v.village : "");
    tv_json_key(j, "from");
    tv_time_format_vn(when, sizeof when, from);
    tv_json_string(j, when);
    tv_json_key(j, "to");
    tv_time_format_vn(when, sizeof when, to);
    tv_json_string(j, when);
    tv_json_key(j, "minutes");
    tv_json_u64(j, (uint64_t)((to - from) / 60000));
    tv_json_object_end(j);
}

static void contact_json(tv_json *j, const tv_trace_case *c, size_t i)
{
    const tv_contact *ct = &c->r.contacts[i];
    tv_json_object_begin(j);
    tv_json_key(j, "level");
    tv_json_string(j, ct->level == 1 ? "F1" : "F2");
    tv_json_key(j, "ref");
    tv_json_hex(j, ct->ref, TV_PERSON_REF_BYTES);
    tv_json_key(j, "person");
    tv_json_string(j, c->disp[i + 1]);
    if (tv_trace_case_details(c, i + 1)) tv_details_json(j, tv_trace_case_details(c, i + 1));
    tv_json_key(j, "via");
    tv_json_hex(j, ct->via, TV_PERSON_REF_BYTES);
    tv_json_key(j, "shared_minutes");
    tv_json_u64(j, (uint64_t)(ct->total_ms / 60000));
    tv_json_key(j, "shared");
    tv_json_array_begin(j);
    for (size_t k = 0; k < ct->nshared; k++)
        visit_json(j, c, ct->shared[k].venue, ct->shared[k].from_ms, ct->shared[k].to_ms);
    tv_json_array_end(j);
    tv_json_object_end(j);
}

static void unit_json(tv_json *j, const tv_trace_case *c, size_t i)
{
    const tv_trace_units *u = c->units;
    char d[16];
    tv_json_object_begin(j);
    tv_json_key(j, "unit");
    tv_json_string(j, u->code[i]);
    tv_json_key(j, "touched");
    tv_json_bool(j, i < u->touched);
    tv_json_key(j, "last_scan_day");
    if (u->f[i].last_scan_day == INT32_MIN) {
        tv_json_null(j);
    } else {
        tv_date_format(d, sizeof d, u->f[i].last_scan_day);
        tv_json_string(j, d);
    }
    if (i < u->touched) { /* the logs of its nodes: only for the communes touched */
        tv_json_key(j, "nodes");
        tv_json_u64(j, (uint64_t)u->f[i].nodes);
        tv_json_key(j, "held");
        tv_json_u64(j, (uint64_t)u->f[i].held);
        time_json(j, "last_event", u->f[i].last_event);
        time_json(j, "received", u->f[i].received);
    }
    tv_json_key(j, "stale");
    tv_json_bool(j, tv_fresh_stale(&u->f[i], c->from_ms));
    tv_json_object_end(j);
}

int tv_render_trace_json(FILE *f, const tv_trace_case *c)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "case");
    tv_json_object_begin(&j);
    tv_json_key(&j, "ref");
    tv_json_hex(&j, c->ref, TV_PERSON_REF_BYTES);
    tv_json_key(&j, "person");
    tv_json_string(&j, c->disp[0]);
    if (tv_trace_case_details(c, 0)) tv_details_json(&j, tv_trace_case_details(c, 0));
    tv_json_object_end(&j);
    time_json(&j, "from", c->from_ms);
    time_json(&j, "to", c->to_ms);
    tv_json_key(&j, "visits");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < c->r.nvisits; i++)
        visit_json(&j, c, c->r.visits[i].venue, c->r.visits[i].from_ms, c->r.visits[i].to_ms);
    tv_json_array_end(&j);
    tv_json_key(&j, "contacts");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < c->r.ncontacts; i++)
        contact_json(&j, c, i);
    tv_json_array_end(&j);
    tv_json_key(&j, "completeness");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < c->units->n; i++)
        unit_json(&j, c, i);
    tv_json_array_end(&j);
    tv_json_key(&j, "commune_only");
    tv_json_bool(&j, c->commune_only);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

/* --- CSV ------------------------------------------------------------------------------ */

/* Without reveal the person columns (name to phone) are left out and the person is only
 * the masked display. */
enum {
    CSV_LEVEL,
    CSV_PERSON,
    CSV_NAME,
    CSV_CCCD,
    CSV_CMND,
    CSV_BIRTH,
    CSV_ADDRESS,
    CSV_PHONE,
    CSV_VENUE,
    CSV_VILLAGE,
    CSV_UNIT,
    CSV_FROM,
    CSV_TO,
    CSV_MINUTES,
    CSV_VENUE_ID,
    CSV_REF,
    CSV_VIA,
    CSV_COLS
};
static const char *const csv_head[CSV_COLS] = {"Mức (F0/F1/F2)",
                                               "Người (che)",
                                               "Họ và tên",
                                               "Số CCCD",
                                               "Số CMND",
                                               "Ngày sinh",
                                               "Địa chỉ",
                                               "Số điện thoại",
                                               "Nơi tiếp xúc",
                                               "Thôn/tổ dân phố",
                                               "Đơn vị",
                                               "Thời gian từ",
                                               "Thời gian đến",
                                               "Số phút",
                                               "Mã địa điểm",
                                               "Mã người",
                                               "Tiếp xúc qua (mã người)"};

static int csv_revealed_col(int i)
{
    return i >= CSV_NAME && i <= CSV_PHONE;
}

/* A cell of stored text: escaped (a CSV on standard output may reach a terminal), and
 * one that a spreadsheet would take for a formula (=, +, -, @ first) gets a leading
 * apostrophe, so that a name or a venue typed as a formula stays text. */
static void csv_text(char *out, size_t cap, const char *s)
{
    size_t off = 0;
    if (s[0] && strchr("=+-@", s[0])) {
        out[0] = '\'';
        off = 1;
    }
    tv_text_escape(out + off, cap - off, s, strlen(s));
}

/* One visit of person idx (0 the case, i + 1 contact i). */
typedef struct csv_visit {
    const char *level;
    size_t idx;
    const uint8_t *ref, *via, *venue;
    int64_t from, to;
} csv_visit;

static void csv_person(char (*cell)[TV_TEXT_ESC_BYTES], const tv_trace_case *c, size_t idx)
{
    csv_text(cell[CSV_PERSON], TV_TEXT_ESC_BYTES, c->disp[idx]);
    const tv_details *d = tv_trace_case_details(c, idx);
    if (!d) return;
    csv_text(cell[CSV_NAME], TV_TEXT_ESC_BYTES, d->name);
    csv_text(cell[CSV_CCCD], TV_TEXT_ESC_BYTES, d->cccd);
    csv_text(cell[CSV_CMND], TV_TEXT_ESC_BYTES, d->cmnd);
    csv_text(cell[CSV_BIRTH], TV_TEXT_ESC_BYTES, d->birth);
    csv_text(cell[CSV_ADDRESS], TV_TEXT_ESC_BYTES, d->address);
    csv_text(cell[CSV_PHONE], TV_TEXT_ESC_BYTES, d->phone);
}

static void csv_row(FILE *f, const tv_trace_case *c, const csv_visit *w)
{
    char cell[CSV_COLS][TV_TEXT_ESC_BYTES];
    size_t cap = sizeof cell[0];
    for (int i = 0; i < CSV_COLS; i++)
        cell[i][0] = '\0';
    snprintf(cell[CSV_LEVEL], cap, "%s", w->level);
    csv_person(cell, c, w->idx);
    const tv_trace_venue *tv = tv_trace_case_venue(c, w->venue);
    if (tv && tv->known) {
        csv_text(cell[CSV_VENUE], cap, tv->v.name);
        csv_text(cell[CSV_VILLAGE], cap, tv->v.village);
        const tv_unit *u = tv_unit_find(tv->v.unit);
        snprintf(cell[CSV_UNIT], cap, "%s%s%s", tv->v.unit, u ? " " : "", u ? u->name : "");
    } else {
        snprintf(cell[CSV_VENUE], cap, "(địa điểm không có ở nút này)");
    }
    hm(cell[CSV_FROM], cap, w->from); /* Vietnam time, as a spreadsheet reads it */
    hm(cell[CSV_TO], cap, w->to);
    snprintf(cell[CSV_MINUTES], cap, "%lld", (long long)((w->to - w->from) / 60000));
    sodium_bin2hex(cell[CSV_VENUE_ID], cap, w->venue, TV_VENUE_ID_BYTES);
    sodium_bin2hex(cell[CSV_REF], cap, w->ref, TV_PERSON_REF_BYTES);
    if (w->via) sodium_bin2hex(cell[CSV_VIA], cap, w->via, TV_PERSON_REF_BYTES);
    const char *cells[CSV_COLS];
    size_t n = 0;
    for (int i = 0; i < CSV_COLS; i++)
        if (c->reveal || !csv_revealed_col(i)) cells[n++] = cell[i];
    tv_csv_write_row(f, cells, n);
    sodium_memzero(cell, sizeof cell);
}

void tv_render_trace_csv(FILE *f, const tv_trace_case *c)
{
    const char *head[CSV_COLS];
    size_t n = 0;
    for (int i = 0; i < CSV_COLS; i++)
        if (c->reveal || !csv_revealed_col(i)) head[n++] = csv_head[i];
    fputs("\xEF\xBB\xBF", f); /* a byte order mark: Excel then reads UTF-8 */
    tv_csv_write_row(f, head, n);
    for (size_t i = 0; i < c->r.nvisits; i++) {
        const tv_presence *p = &c->r.visits[i];
        csv_row(f, c, &(csv_visit){"F0", 0, c->ref, NULL, p->venue, p->from_ms, p->to_ms});
    }
    for (size_t i = 0; i < c->r.ncontacts; i++) {
        const tv_contact *ct = &c->r.contacts[i];
        for (size_t k = 0; k < ct->nshared; k++)
            csv_row(f, c,
                    &(csv_visit){ct->level == 1 ? "F1" : "F2", i + 1, ct->ref, ct->via,
                                 ct->shared[k].venue, ct->shared[k].from_ms, ct->shared[k].to_ms});
    }
}

/* --- warnings ------------------------------------------------------------------------- */

static void others_warn(FILE *f, const tv_trace_units *u, size_t others)
{
    fprintf(f,
            "warning: %zu other commune%s of this node's scope ha%s no scan held since the "
            "window began (not synced, or nothing recorded); visits there are not seen:",
            others, others == 1 ? "" : "s", others == 1 ? "s" : "ve");
    for (size_t i = u->touched; i < u->n && i < u->touched + STALE_SHOWN_MAX; i++)
        fprintf(f, " %s", u->code[i]);
    fprintf(f, others > STALE_SHOWN_MAX ? " ...\n" : ".\n");
}

void tv_render_trace_warnings(FILE *f, const tv_trace_case *c)
{
    const tv_trace_units *u = c->units;
    char a[32], b[32];
    size_t others = 0;
    for (size_t i = 0; i < u->n; i++) {
        if (!tv_fresh_stale(&u->f[i], c->from_ms)) continue;
        if (i >= u->touched) {
            others++;
            continue;
        }
        fresh_day(a, sizeof a, u->f[i].last_scan_day);
        fresh_time(b, sizeof b, u->f[i].received);
        fprintf(f,
                "warning: commune %s has not synced since the window began: the last scan held "
                "from it is of %s (its log last reached this node %s); visits there after that "
                "are missing.\n",
                u->code[i], a, b);
    }
    if (others) others_warn(f, u, others);
    if (u->more)
        fprintf(f, "warning: over %d communes; the rest not checked.\n", TV_TRACE_UNITS_MAX);
    if (c->commune_only) fprintf(f, "note: %s\n", commune_note);
}
