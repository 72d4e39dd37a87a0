/* Reports as a table, CSV and JSON Lines, and the staleness warning (report.h). */
#include "node/render/report.h"
#include "node/render/report_html.h"

#include "node/format/csv.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/render/json.h"

#include <inttypes.h>
#include <limits.h>
#include <string.h>

/* --- table ---------------------------------------------------------------------------- */

/* Columns on a terminal: UTF-8 code points, combining marks taking none. */
static size_t display_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp = *p;
        int len = cp < 0x80 ? 1 : cp < 0xe0 ? 2 : cp < 0xf0 ? 3 : 4;
        if (len == 2 && p[1]) cp = (uint32_t)(p[0] & 0x1f) << 6 | (p[1] & 0x3f);
        if (len == 3 && p[1] && p[2])
            cp = (uint32_t)(p[0] & 0x0f) << 12 | (uint32_t)(p[1] & 0x3f) << 6 | (p[2] & 0x3f);
        if (!(cp >= 0x300 && cp < 0x370)) w++;
        for (int i = 0; i < len && *p; i++)
            p++;
    }
    return w;
}

/* Prints s escaped (unit names come from unit events of any node), padded to width. */
static void pad(FILE *f, const char *s, size_t width)
{
    s = tv_text_esc(s);
    fputs(s, f);
    for (size_t w = display_width(s); w < width; w++)
        fputc(' ', f);
}

static void pct(char *out, size_t cap, const tv_report_fig *f)
{
    double c = tv_report_compliance(f);
    if (c < 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%.0f%%", c);
}

/* The change of compliance against the period before, in percentage points. */
static void trend_pt(char *out, size_t cap, const tv_report_row *w)
{
    double a = tv_report_compliance(&w->now), b = tv_report_compliance(&w->prev);
    if (a < 0 || b < 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%+.0f", a - b);
}

/* The change of a count against the period before, in percent. */
static void trend_pct(char *out, size_t cap, uint64_t now, uint64_t prev)
{
    if (prev == 0)
        snprintf(out, cap, now ? "new" : "-");
    else
        snprintf(out, cap, "%+.0f%%", 100.0 * ((double)now - (double)prev) / (double)prev);
}

static void day_str(char *out, size_t cap, int32_t day)
{
    if (day == INT32_MIN)
        snprintf(out, cap, "never");
    else
        tv_date_format(out, cap, day);
}

void tv_render_report_table(FILE *f, const tv_report *r, const tv_report_view *o)
{
    char a[16], b[16];
    tv_date_format(a, sizeof a, r->from_day);
    tv_date_format(b, sizeof b, r->to_day);
    const tv_unit *u = tv_unit_find(o->unit);
    fprintf(f, "%sreport of %s%s%s, %s to %s (Vietnam time)\n", o->first ? "" : "\n", o->unit,
            u ? " " : "", u ? u->name : "", a, b);
    size_t namew = 4;
    for (size_t i = 0; o->depth > 0 && i < r->n; i++) {
        size_t w = display_width(tv_text_esc(r->rows[i].name)) + 2 * (size_t)(r->rows[i].level - 1);
        if (r->rows[i].level <= o->depth && w > namew) namew = w;
    }
    size_t codew = 8;
    for (size_t i = 0; o->depth > 0 && i < r->n; i++)
        if (r->rows[i].level <= o->depth && strlen(r->rows[i].code) + 1 > codew)
            codew = strlen(r->rows[i].code) + 1;
    pad(f, "unit", codew);
    pad(f, "name", namew + 2);
    fprintf(f, "%7s %7s %6s %5s %9s %6s %9s %9s %6s %4s %4s %4s %4s  %-10s\n", "venues", "scanned",
            "compl", "trend", "check-in", "trend", "check-out", "visitors", "remind", "susp", "F0",
            "F1", "risk", "last scan");
    for (size_t i = o->depth > 0 ? 0 : r->n; i < r->n + 1; i++) {
        if (i < r->n && r->rows[i].level > o->depth) continue;
        const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
        char c[16], d[16], tp[16], ti[16];
        pct(c, sizeof c, &w->now);
        trend_pt(tp, sizeof tp, w);
        trend_pct(ti, sizeof ti, w->now.in, w->prev.in);
        if (i < r->n) {
            day_str(d, sizeof d, w->f.last_scan_day);
            char name[sizeof w->name + 2 * 8];
            snprintf(name, sizeof name, "%*s%s", 2 * (w->level - 1), "",
                     w->name[0] ? w->name : "(not in the official list)");
            pad(f, w->code, codew);
            pad(f, name, namew + 2);
        } else {
            snprintf(d, sizeof d, "%" PRIu64 " stale", (uint64_t)w->stale);
            pad(f, o->depth > 0 ? "total" : o->unit, codew);
            pad(f, o->depth > 0 || !u ? "" : u->name, namew + 2);
        }
        fprintf(f,
                "%7" PRIu64 " %7" PRIu64 " %6s %5s %9" PRIu64 " %6s %9" PRIu64 " %8" PRIu64
                "~ %6" PRIu64 " %4" PRIu64 " %4" PRIu64 " %4" PRIu64,
                w->now.venues, w->now.active, c, tp, w->now.in, ti, w->now.out, w->now.visitors,
                w->now.reminders, w->suspended, w->now.f0, w->now.f1);
        if (i < r->n && w->risk)
            fprintf(f, " %4d", w->risk);
        else
            fprintf(f, " %4s", "-");
        fprintf(f, "  %s%s\n", d, i < r->n && w->stale ? "  STALE" : "");
    }
    if (o->first)
        fputs("trend: against the period before, of the same length; visitors: distinct people "
              "checked in, an estimate (~9 %)\n",
              f);
}
/* --- CSV ------------------------------------------------------------------------------ */

static void u64s(char *out, size_t cap, uint64_t v)
{
    snprintf(out, cap, "%" PRIu64, v);
}

static void csv_head(FILE *f)
{
    fputs("\xEF\xBB\xBF", f); /* a byte order mark: Excel then reads UTF-8 */
    const char *head[] = {"period",
                          "unit",
                          "name",
                          "level",
                          "parent",
                          "venues",
                          "venues_scanned",
                          "compliance",
                          "check_ins",
                          "check_outs",
                          "visitors_estimate",
                          "reminders",
                          "f0",
                          "f1",
                          "suspended",
                          "risk_level",
                          "last_scan_day",
                          "last_received",
                          "stale",
                          "prev_venues_scanned",
                          "prev_compliance",
                          "prev_check_ins",
                          "prev_check_outs"};
    tv_csv_write_row(f, head, sizeof head / sizeof head[0]);
}

/* Row i of r (r->n: the total). */
static void csv_row(FILE *f, const tv_report *r, const tv_report_view *o, size_t i)
{
    const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
    char v[13][24], c[16] = "", pc[16] = "", d[16] = "", rec[TV_TIME_STR_BYTES] = "";
    char risk[8] = "";
    const uint64_t nums[13] = {w->now.venues,   w->now.active,      w->now.in,      w->now.out,
                               w->now.visitors, w->now.reminders,   w->now.f0,      w->now.f1,
                               w->suspended,    (uint64_t)w->stale, w->prev.active, w->prev.in,
                               w->prev.out};
    for (int k = 0; k < 13; k++)
        u64s(v[k], sizeof v[k], nums[k]);
    if (w->now.venues) snprintf(c, sizeof c, "%.1f", tv_report_compliance(&w->now));
    if (w->prev.venues) snprintf(pc, sizeof pc, "%.1f", tv_report_compliance(&w->prev));
    if (i < r->n && w->f.last_scan_day != INT32_MIN)
        tv_date_format(d, sizeof d, w->f.last_scan_day);
    if (i < r->n && w->f.received >= 0) tv_time_format_vn(rec, sizeof rec, w->f.received);
    if (i < r->n && w->risk) snprintf(risk, sizeof risk, "%d", w->risk);
    const tv_unit *u = tv_unit_find(o->unit);
    char lv[8] = "0";
    if (i < r->n) snprintf(lv, sizeof lv, "%d", w->level);
    const char *parent = i >= r->n ? "" : w->parent >= 0 ? r->rows[w->parent].code : o->unit;
    const char *code = i < r->n ? w->code : o->depth > 0 ? "total" : o->unit;
    const char *name = i < r->n ? tv_text_esc(w->name) : o->depth > 0 || !u ? "" : u->name;
    const char *cells[] = {o->period, code, name, lv,    parent, v[0],  v[1], c,
                           v[2],      v[3], v[4], v[5],  v[6],   v[7],  v[8], risk,
                           d,         rec,  v[9], v[10], pc,     v[11], v[12]};
    tv_csv_write_row(f, cells, sizeof cells / sizeof cells[0]);
}

void tv_render_report_csv(FILE *f, const tv_report *r, const tv_report_view *o)
{
    if (o->first) csv_head(f);
    for (size_t i = o->depth > 0 ? 0 : r->n; i < r->n + 1; i++)
        if (i == r->n || r->rows[i].level <= o->depth) csv_row(f, r, o, i);
}

/* --- JSON ----------------------------------------------------------------------------- */

static void json_fig(tv_json *j, const tv_report_fig *g, int prev)
{
    tv_json_key(j, "venues");
    tv_json_u64(j, g->venues);
    tv_json_key(j, "venues_scanned");
    tv_json_u64(j, g->active);
    tv_json_key(j, "check_ins");
    tv_json_u64(j, g->in);
    tv_json_key(j, "check_outs");
    tv_json_u64(j, g->out);
    if (!prev) {
        tv_json_key(j, "visitors_estimate");
        tv_json_u64(j, g->visitors);
    }
    tv_json_key(j, "reminders");
    tv_json_u64(j, g->reminders);
    tv_json_key(j, "f0");
    tv_json_u64(j, g->f0);
    tv_json_key(j, "f1");
    tv_json_u64(j, g->f1);
}

/* A row's staleness, risk and freshness, after its "stale" key. */
static void json_row_fresh(tv_json *j, const tv_report_row *w)
{
    char d[16], rec[TV_TIME_STR_BYTES];
    tv_json_bool(j, w->stale);
    tv_json_key(j, "risk_level");
    if (w->risk)
        tv_json_u64(j, (uint64_t)w->risk);
    else
        tv_json_null(j);
    tv_json_key(j, "last_scan_day");
    if (w->f.last_scan_day == INT32_MIN) {
        tv_json_null(j);
    } else {
        tv_date_format(d, sizeof d, w->f.last_scan_day);
        tv_json_string(j, d);
    }
    tv_json_key(j, "last_received");
    if (w->f.received < 0) {
        tv_json_null(j);
    } else {
        tv_time_format_vn(rec, sizeof rec, w->f.received);
        tv_json_string(j, rec);
    }
}

/* Row i of r (r->n: the total) as one line. */
static void json_row(FILE *f, const tv_report *r, const tv_report_view *o, size_t i)
{
    const tv_report_row *w = i < r->n ? &r->rows[i] : &r->total;
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "period");
    tv_json_string(&j, o->period);
    tv_json_key(&j, "unit");
    tv_json_string(&j, i < r->n ? w->code : o->depth > 0 ? "total" : o->unit);
    tv_json_key(&j, "name");
    const tv_unit *u = tv_unit_find(o->unit);
    tv_json_string(&j, i < r->n ? w->name : o->depth > 0 || !u ? "" : u->name);
    if (i < r->n) {
        tv_json_key(&j, "level");
        tv_json_u64(&j, (uint64_t)w->level);
        tv_json_key(&j, "parent");
        tv_json_string(&j, w->parent >= 0 ? r->rows[w->parent].code : o->unit);
    }
    json_fig(&j, &w->now, 0);
    tv_json_key(&j, "suspended");
    tv_json_u64(&j, w->suspended);
    tv_json_key(&j, "previous");
    tv_json_object_begin(&j);
    json_fig(&j, &w->prev, 1);
    tv_json_object_end(&j);
    tv_json_key(&j, "stale");
    if (i < r->n) {
        json_row_fresh(&j, w);
    } else {
        tv_json_u64(&j, (uint64_t)w->stale); /* the total: how many units are stale */
        tv_json_key(&j, "expected_units");
        tv_json_u64(&j, (uint64_t)r->expected);
    }
    tv_json_object_end(&j);
    tv_json_line_end(&j);
}

void tv_render_report_json(FILE *f, const tv_report *r, const tv_report_view *o)
{
    for (size_t i = o->depth > 0 ? 0 : r->n; i < r->n + 1; i++)
        if (i == r->n || r->rows[i].level <= o->depth) json_row(f, r, o, i);
}

/* --- the staleness warning ------------------------------------------------------------ */

/* The stale units, one line each ("  CODE NAME"), then how many more, into buf; where it
 * is full, cut at a whole line with no count. */
static void stale_units(char *buf, size_t cap, const tv_report_stale *s)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->nunits; i++) {
        const tv_report_stale_unit *u = &s->units[i];
        int k = snprintf(buf + len, cap - len, "  %s%s%s\n", u->code, u->name[0] ? " " : "",
                         tv_text_esc(u->name));
        if (k < 0 || (size_t)k >= cap - len) return; /* full: no count of the others */
        len += (size_t)k;
    }
    if (s->more && len < cap) snprintf(buf + len, cap - len, "  and %zu more\n", s->more);
}

void tv_render_report_stale(FILE *f, const tv_report_stale *s, int step)
{
    if (!s->periods_stale) return;
    if (!step)
        fprintf(f,
                "warning: %" PRIu64 " of %zu units expected to report have no scan held here "
                "since the period began (not synced, or nothing recorded): their figures, and "
                "those of the units above them, are missing, not zero.\n",
                s->stale_last, s->expected_last);
    else
        fprintf(f,
                "warning: from %s on (%zu of %zu %s), %" PRIu64 " of %zu units expected to "
                "report have no scan held here since the %s began (not synced, or nothing "
                "recorded): their figures, and those of the units above them, are missing, "
                "not zero.\n",
                s->first_stale, s->periods_stale, s->periods, step == 1 ? "days" : "weeks",
                s->stale_last, s->expected_last, step == 1 ? "day" : "week");
    char buf[2048]; /* a line per unit, as many as fit */
    stale_units(buf, sizeof buf, s);
    fputs(buf, f);
}

int tv_render_report_write(const tv_report *r, const char *label, int first, void *ctx)
{
    const tv_report_out *o = ctx;
    tv_report_view v = {o->unit, label, o->depth, first};
    if (o->fmt == TV_REPORT_TABLE)
        tv_render_report_table(o->f, r, &v);
    else if (o->fmt == TV_REPORT_CSV)
        tv_render_report_csv(o->f, r, &v);
    else if (o->fmt == TV_REPORT_JSON)
        tv_render_report_json(o->f, r, &v);
    else
        return tv_report_html(o->f, r,
                              &(tv_report_page){.unit = o->unit,
                                                .period = label,
                                                .weekly = o->weekly,
                                                .depth = o->depth,
                                                .min_compliance = o->min_compliance,
                                                .node_unit = o->node_unit,
                                                .now_ms = o->now_ms});
    return 0;
}
