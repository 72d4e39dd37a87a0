/* The weekly report as one HTML page (see report_html.h): what a district sends to the
 * province. It is in Vietnamese, for the people who read it; it holds no external file
 * (styles inline, charts drawn as SVG), reads on a phone (the table scrolls sideways only
 * when narrower than its figures), fits 1200 px and prints on A4 with every column.
 * Figures carry data- attributes so that a program can read them back. */
#include "crdt/error.h"
#include "node/render/report_html.h"
#include "node/format/timefmt.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHART_UNITS_MAX 40 /* units drawn in the compliance chart: the lowest first */

static const char style[] =
    "*{box-sizing:border-box}"
    "body{font-family:'DejaVu Sans',Arial,sans-serif;margin:0 auto;max-width:1100px;"
    "padding:12px;color:#1b1f24;font-size:14px;line-height:1.4}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:20px 0 8px;"
    "border-bottom:2px solid #0b5394;padding-bottom:2px}"
    ".sub{margin:0;color:#444}.meta{margin:2px 0 0;color:#666;font-size:12px}"
    ".cards{display:flex;flex-wrap:wrap;gap:8px;margin-top:12px}"
    ".card{flex:1 1 150px;border:1px solid #c9d3df;border-radius:6px;padding:8px 10px}"
    ".card b{display:block;font-size:22px}.card span{color:#555;font-size:12px}"
    ".up{color:#1a7f37}.down{color:#c62828}"
    ".warn{background:#fff4e5;border:1px solid #f0a030;border-radius:6px;padding:8px 10px;"
    "margin-top:12px}"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}"
    "figure{flex:1 1 480px;margin:0;border:1px solid #dde3ea;border-radius:6px;padding:8px}"
    "figcaption{font-weight:bold;margin-bottom:4px}svg{width:100%;height:auto;display:block}"
    /* the compliance chart, one row a unit, takes the whole width and is never drawn
     * smaller than its labels can be read: on a phone it scrolls sideways like the table */
    "figure{min-width:0}figure.wide{flex-basis:100%}.wide svg{min-width:600px;max-width:760px}"
    "#chart-daily{max-width:760px}"
    /* the table fits the page: headers and names wrap, figures do not; it scrolls sideways
     * only on a screen narrower than its figures (a phone) */
    ".scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:13px}"
    "th,td{border:1px solid #d0d7de;padding:3px 5px;text-align:right;white-space:nowrap}"
    "th{background:#eef3f8;white-space:normal;vertical-align:bottom;font-size:12px;"
    "hyphens:manual}td.l,th.l{text-align:left}td.n{white-space:normal;min-width:9em}"
    "tr.stale td{background:#fdecea}tr.total td{font-weight:bold;background:#f6f8fa}"
    "footer{margin-top:20px;color:#555;font-size:12px}"
    "@page{size:A4;margin:10mm}"
    "@media print{body{max-width:none;padding:0;font-size:9pt}.scroll{overflow:visible}"
    "table{font-size:6.5pt;width:100%}th{font-size:6.5pt}"
    "th,td{padding:1px 2px;white-space:normal}td.n{min-width:0}"
    "figure{flex-basis:100%}figure,.card,tr{break-inside:avoid}h2{break-after:avoid}}";

/* Writes s with &, <, >, " and ' escaped. */
static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\'':
            fputs("&#39;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

/* A day as Vietnamese readers write it: 04/10/2021. */
static void vn_date(char *out, size_t cap, int32_t day)
{
    char d[16];
    tv_date_format(d, sizeof d, day);
    snprintf(out, cap, "%.2s/%.2s/%.4s", d + 8, d + 5, d);
}

static const char *const weekday_vn[] = {"", "T2", "T3", "T4", "T5", "T6", "T7", "CN"};

/* "+12 %" in green, "−5 %" in red, against the period before. */
static void trend(FILE *f, uint64_t now, uint64_t prev)
{
    if (prev == 0) {
        fputs(now ? "<span class=\"up\">mới</span>" : "–", f);
        return;
    }
    double d = 100.0 * ((double)now - (double)prev) / (double)prev;
    fprintf(f, "<span class=\"%s\">%+.0f %%</span>", d >= 0 ? "up" : "down", d);
}

static void trend_pt(FILE *f, const tv_report_fig *now, const tv_report_fig *prev)
{
    double a = tv_report_compliance(now), b = tv_report_compliance(prev);
    if (a < 0 || b < 0) {
        fputs("–", f);
        return;
    }
    fprintf(f, "<span class=\"%s\">%+.0f điểm</span>", a >= b ? "up" : "down", a - b);
}

static void compliance(FILE *f, const tv_report_fig *g)
{
    double c = tv_report_compliance(g);
    if (c < 0)
        fputs("–", f);
    else
        fprintf(f, "%.0f %%", c);
}

static void card(FILE *f, const char *id, const char *label, uint64_t v, const char *unit_note)
{
    fprintf(f, "<div class=\"card\" id=\"%s\"><b data-value=\"%" PRIu64 "\">%s%" PRIu64 "</b>", id,
            v, unit_note, v);
    fprintf(f, "<span>%s</span></div>\n", label);
}

static void summary(FILE *f, const tv_report *r, const tv_report_page *p)
{
    const tv_report_row *t = &r->total;
    const char *prev = p->weekly ? "tuần trước" : "kỳ trước";
    fputs("<section class=\"cards\">\n", f);
    card(f, "sum-venues", "địa điểm đã tạo mã QR", t->now.venues, "");
    fprintf(f,
            "<div class=\"card\" id=\"sum-compliance\"><b>%" PRIu64 "</b><span>có lượt quét "
            "trong kỳ (",
            t->now.active);
    compliance(f, &t->now);
    fprintf(f, "; so với %s: ", prev);
    trend_pt(f, &t->now, &t->prev);
    fputs(")</span></div>\n", f);
    fprintf(f,
            "<div class=\"card\" id=\"sum-in\"><b data-value=\"%" PRIu64 "\">%" PRIu64
            "</b><span>lượt vào (so với %s: ",
            t->now.in, t->now.in, prev);
    trend(f, t->now.in, t->prev.in);
    fputs(")</span></div>\n", f);
    card(f, "sum-visitors", "người đến quét (ước tính)", t->now.visitors, "≈");
    card(f, "sum-f0", "F0 mới ghi nhận", t->now.f0, "");
    card(f, "sum-f1", "F1 mới ghi nhận", t->now.f1, "");
    card(f, "sum-stale", "đơn vị chưa đồng bộ", (uint64_t)t->stale, "");
    fputs("</section>\n", f);
}

static int cmp_compliance(const void *pa, const void *pb)
{
    const tv_report_row *a = *(const tv_report_row *const *)pa;
    const tv_report_row *b = *(const tv_report_row *const *)pb;
    if (a->stale != b->stale) return a->stale ? 1 : -1; /* units with figures first */
    double ca = tv_report_compliance(&a->now), cb = tv_report_compliance(&b->now);
    if (ca != cb) return ca < cb ? -1 : 1;
    return strcmp(a->code, b->code);
}

/* A unit's label at the left of its bar (baseline y): its code and its name, cut on a
 * character boundary to fit. */
static void chart_unit_label(FILE *f, const tv_report_row *w, int y)
{
    fprintf(f, "<text x=\"0\" y=\"%d\" font-size=\"12\">", y);
    esc(f, w->code);
    fputc(' ', f);
    char name[40];
    size_t k = 0;
    for (const unsigned char *s = (const unsigned char *)w->name; *s && k < sizeof name - 4;) {
        size_t len = *s < 0x80 ? 1 : *s < 0xe0 ? 2 : *s < 0xf0 ? 3 : 4;
        if (k + len > sizeof name - 4) break;
        memcpy(name + k, s, len);
        k += len;
        s += len;
    }
    name[k] = '\0';
    esc(f, name);
    if (strlen(w->name) > k) fputs("…", f);
    fputs("</text>\n", f);
}

/* Compliance per unit: a bar each, stale units hatched and named so. */
static int chart_compliance(FILE *f, const tv_report *r, const tv_report_page *p)
{
    const tv_report_row **rows = malloc((r->n ? r->n : 1) * sizeof *rows);
    if (!rows) return TV_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) /* units with venues: the others have nothing to show */
        if (r->rows[i].now.venues && r->rows[i].level == 1) rows[n++] = &r->rows[i];
    size_t shown = n;
    if (n > CHART_UNITS_MAX) { /* the lowest, which need attention, then stale ones */
        qsort(rows, n, sizeof *rows, cmp_compliance);
        shown = CHART_UNITS_MAX;
    }
    /* the name on the left (cut to fit), the bar, then the figure and its note on the right,
     * all within the drawing's width */
    const int row_h = 22, top = 8, label_w = 270, bar_w = 320, width = 760;
    int h = top + (int)shown * row_h + 26;
    fputs("<figure class=\"wide\"><figcaption>Tỉ lệ địa điểm có lượt quét, theo đơn vị", f);
    if (shown < n) fprintf(f, " (%zu đơn vị thấp nhất trong %zu)", shown, n);
    fprintf(f,
            "</figcaption>\n<div class=\"scroll\"><svg id=\"chart-compliance\" viewBox=\"0 0 %d "
            "%d\" role=\"img\" "
            "aria-label=\"Tỉ lệ tuân thủ theo đơn vị\" xmlns=\"http://www.w3.org/2000/svg\">\n"
            "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
            "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#f5f5f5\"/>"
            "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#b0b0b0\" stroke-width=\"3\"/>"
            "</pattern></defs>\n",
            width, h);
    for (size_t i = 0; i < shown; i++) {
        const tv_report_row *w = rows[i];
        int y = top + (int)i * row_h;
        double c = tv_report_compliance(&w->now);
        chart_unit_label(f, w, y + 14);
        if (w->stale && (w->expect || (!w->now.active && !w->now.in))) {
            fprintf(f,
                    "<rect class=\"bar stale\" data-unit=\"%s\" data-stale=\"1\" x=\"%d\" "
                    "y=\"%d\" width=\"%d\" height=\"%d\" fill=\"url(#hatch)\"/>"
                    "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#8a1c1c\">chưa đồng bộ"
                    "</text>\n",
                    w->code, label_w, y + 2, bar_w, row_h - 6, label_w + 6, y + 14);
            continue;
        }
        int bw = (int)(c / 100.0 * bar_w + 0.5);
        const char *colour = c >= p->min_compliance ? "#2e7d32" : c >= 50 ? "#f9a825" : "#c62828";
        fprintf(f,
                "<rect class=\"bar\" data-unit=\"%s\" data-value=\"%.1f\" x=\"%d\" y=\"%d\" "
                "width=\"%d\" height=\"%d\" fill=\"%s\"/>"
                "<text x=\"%d\" y=\"%d\" font-size=\"12\">%.0f %%%s</text>\n",
                w->code, c, label_w, y + 2, bw, row_h - 6, colour, label_w + bw + 4, y + 14, c,
                w->stale ? " (thiếu số liệu)" : "");
    }
    int gx = label_w + (int)(p->min_compliance / 100.0 * bar_w + 0.5);
    fprintf(
        f,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#0b5394\" "
        "stroke-dasharray=\"4 3\"/><text x=\"%d\" y=\"%d\" font-size=\"11\" "
        "fill=\"#0b5394\" text-anchor=\"middle\">mục tiêu %.0f %%</text>\n</svg></div></figure>\n",
        gx, top, gx, h - 20, gx, h - 6, p->min_compliance);
    free(rows);
    return TV_OK;
}

/* Check-ins and check-outs per day, side by side. */
static void chart_daily(FILE *f, const tv_report *r)
{
    int days = r->to_day - r->from_day + 1;
    uint64_t most = 0;
    for (int i = 0; i < days; i++) {
        if (r->day_in[i] > most) most = r->day_in[i];
        if (r->day_out[i] > most) most = r->day_out[i];
    }
    /* the scale: four steps of 1, 2 or 5 times a power of ten */
    uint64_t step = 1;
    for (uint64_t p = 1;; p *= 10) {
        if (4 * p >= most) {
            step = p;
            break;
        }
        if (8 * p >= most) {
            step = 2 * p;
            break;
        }
        if (20 * p >= most) {
            step = 5 * p;
            break;
        }
    }
    uint64_t max = 4 * step;
    const int left = 50, right = 630, top = 10, base = 200;
    double slot = (double)(right - left) / days, bw = slot * 0.4;
    fputs("<figure><figcaption>Lượt quét theo ngày <span style=\"color:#0b5394\">■ vào</span> "
          "<span style=\"color:#7fa7d6\">■ ra</span></figcaption>\n"
          "<svg id=\"chart-daily\" viewBox=\"0 0 640 240\" role=\"img\" "
          "aria-label=\"Lượt quét theo ngày\" xmlns=\"http://www.w3.org/2000/svg\">\n",
          f);
    for (int g = 0; g <= 4; g++) { /* the scale: five lines */
        int y = base - (base - top) * g / 4;
        fprintf(f,
                "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#e1e4e8\"/>"
                "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%" PRIu64 "</text>\n",
                left, y, right, y, left - 4, y + 4, step * (uint64_t)g);
    }
    int every = days <= 14 ? 1 : days <= 62 ? 7 : 30;
    for (int i = 0; i < days; i++) {
        double x = left + i * slot + slot * 0.1;
        double hi = (double)(base - top) * (double)r->day_in[i] / (double)max;
        double ho = (double)(base - top) * (double)r->day_out[i] / (double)max;
        char d[16];
        tv_date_format(d, sizeof d, r->from_day + i);
        fprintf(f,
                "<rect class=\"day\" data-day=\"%s\" data-in=\"%" PRIu64 "\" data-out=\"%" PRIu64
                "\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#0b5394\"/>"
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#7fa7d6\"/>\n",
                d, r->day_in[i], r->day_out[i], x, base - hi, bw, hi, x + bw, base - ho, bw, ho);
        if (i % every == 0) {
            char vd[16];
            vn_date(vd, sizeof vd, r->from_day + i);
            fprintf(f,
                    "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s"
                    "</text><text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\" "
                    "fill=\"#666\">%.5s</text>\n",
                    x + bw, base + 14, weekday_vn[tv_iso_weekday(r->from_day + i)], x + bw,
                    base + 27, vd);
        }
    }
    fputs("</svg></figure>\n", f);
}

static void table_row(FILE *f, const tv_report_row *w, const char *code, int total)
{
    fprintf(f, "<tr class=\"%s\" data-unit=\"%s\"><td class=\"l\">",
            total      ? "total"
            : w->stale ? "stale"
                       : "",
            code);
    esc(f, code);
    fprintf(f, "</td><td class=\"l n\" style=\"padding-left:%dpx\">", 6 + 16 * (w->level - 1));
    esc(f, w->name);
    if (!total && w->stale)
        fputs(w->expect ? " <b>(chưa đồng bộ)</b>" : " <b>(thiếu số liệu)</b>", f);
    fprintf(f,
            "</td><td data-k=\"venues\">%" PRIu64 "</td><td data-k=\"venues_scanned\">%" PRIu64
            "</td><td>",
            w->now.venues, w->now.active);
    compliance(f, &w->now);
    fputs("</td><td>", f);
    trend_pt(f, &w->now, &w->prev);
    fprintf(f, "</td><td data-k=\"check_ins\">%" PRIu64 "</td><td>", w->now.in);
    trend(f, w->now.in, w->prev.in);
    fprintf(f,
            "</td><td data-k=\"check_outs\">%" PRIu64 "</td><td data-k=\"visitors\">≈%" PRIu64
            "</td><td data-k=\"reminders\">%" PRIu64 "</td><td data-k=\"suspended\">%" PRIu64
            "</td><td data-k=\"f0\">%" PRIu64 "</td><td data-k=\"f1\">%" PRIu64 "</td><td>",
            w->now.out, w->now.visitors, w->now.reminders, w->suspended, w->now.f0, w->now.f1);
    if (!total && w->risk)
        fprintf(f, "%d", w->risk);
    else
        fputs("–", f);
    fputs("</td><td class=\"l\">", f);
    if (total) {
        fprintf(f, "%d chưa đồng bộ", w->stale);
    } else if (w->f.last_scan_day == INT32_MIN) {
        fputs("chưa có", f);
    } else {
        char d[16];
        vn_date(d, sizeof d, w->f.last_scan_day);
        fputs(d, f);
    }
    fputs("</td><td class=\"l\">", f);
    if (!total && w->f.received >= 0) {
        char t[TV_TIME_STR_BYTES];
        tv_time_format_vn(t, sizeof t, w->f.received);
        fprintf(f, "%.10s %.5s", t, t + 11);
    } else if (!total) {
        fputs("chưa nhận", f);
    }
    fputs("</td></tr>\n", f);
}

static void table(FILE *f, const tv_report *r, const tv_report_page *p)
{
    const char *prev = p->weekly ? "tuần trước" : "kỳ trước";
    fprintf(f,
            "<h2>Số liệu theo đơn vị</h2>\n<div class=\"scroll\"><table id=\"units\">\n"
            "<thead><tr><th class=\"l\">Mã</th><th class=\"l\">Đơn vị</th><th>Địa điểm có "
            "mã QR</th><th>Có lượt quét</th><th>Tỉ lệ</th><th>So với %s</th><th>Lượt vào</th>"
            "<th>So với %s</th><th>Lượt ra</th><th>Số người (ước tính)</th><th>Nhắc nhở</th>"
            "<th>Tạm dừng</th><th>F0</th><th>F1</th><th>Cấp độ dịch</th>"
            "<th class=\"l\">Quét gần nhất</th><th class=\"l\">Nhận dữ liệu lúc</th></tr>"
            "</thead>\n<tbody>\n",
            prev, prev);
    for (size_t i = 0; p->depth > 0 && i < r->n; i++)
        if (r->rows[i].level <= p->depth) table_row(f, &r->rows[i], r->rows[i].code, 0);
    tv_report_row total = r->total;
    const tv_unit *u = tv_unit_find(p->unit);
    snprintf(total.name, sizeof total.name, "%s", u ? u->name : "");
    total.level = 1;
    table_row(f, &total, p->unit, 1);
    fputs("</tbody></table></div>\n", f);
}

static void lists(FILE *f, const tv_report *r, const tv_report_page *p)
{
    fprintf(f, "<h2>Đơn vị chưa đạt (dưới %.0f %% địa điểm có lượt quét)</h2>\n",
            p->min_compliance);
    size_t below = 0;
    for (size_t i = 0; i < r->n; i++) {
        const tv_report_row *w = &r->rows[i];
        double c = tv_report_compliance(&w->now);
        if (w->level > p->depth || w->stale || c < 0 || c >= p->min_compliance) continue;
        if (below++ == 0) fputs("<ul id=\"units-below\">\n", f);
        fprintf(f, "<li data-unit=\"%s\">", w->code);
        esc(f, w->code);
        fputc(' ', f);
        esc(f, w->name);
        fprintf(f, ": %.0f %% (%" PRIu64 "/%" PRIu64 " địa điểm)</li>\n", c, w->now.active,
                w->now.venues);
    }
    fputs(below ? "</ul>\n" : "<p id=\"units-below\">Không có.</p>\n", f);
    if (r->total.stale) { /* the units expected to report, whatever the depth shown */
        fputs("<p>Đơn vị chưa đồng bộ trong kỳ (không tính là 0):</p>\n<ul id=\"units-stale\">\n",
              f);
        for (size_t i = 0; i < r->n; i++) {
            const tv_report_row *w = &r->rows[i];
            if (!w->stale || !w->expect) continue;
            const tv_unit *u = tv_unit_find(w->code);
            const char *name = w->name[0] ? w->name : u ? u->name : "";
            fprintf(f, "<li data-unit=\"%s\">", w->code);
            esc(f, w->code);
            if (name[0]) fputc(' ', f);
            esc(f, name);
            fputs("</li>\n", f);
        }
        fputs("</ul>\n", f);
    }
    fprintf(f, "<h2>Địa điểm không có lượt quét trong kỳ (%zu)</h2>\n", r->idle_total);
    if (!r->idle_total) {
        fputs("<p id=\"idle\">Không có.</p>\n", f);
        return;
    }
    fputs("<div class=\"scroll\"><table id=\"idle\"><thead><tr><th class=\"l\">Đơn vị</th>"
          "<th class=\"l\">Địa điểm</th><th class=\"l\">Quét gần nhất</th><th>Nhắc nhở chưa "
          "khắc phục</th><th class=\"l\">Tình trạng</th></tr></thead>\n<tbody>\n",
          f);
    for (size_t i = 0; i < r->idle_n; i++) {
        const tv_report_venue *v = &r->idle[i];
        char d[16] = "chưa có";
        if (v->last_scan_day != INT32_MIN) vn_date(d, sizeof d, v->last_scan_day);
        fputs("<tr><td class=\"l\">", f);
        esc(f, v->unit);
        fputs("</td><td class=\"l\">", f);
        esc(f, v->name[0] ? v->name : "(chưa đặt tên)");
        fprintf(f, "</td><td class=\"l\">%s</td><td>%" PRIu64 "</td><td class=\"l\">%s</td></tr>\n",
                d, v->reminders, v->suspended ? "tạm dừng" : "");
    }
    fputs("</tbody></table></div>\n", f);
    if (r->idle_total > r->idle_n)
        fprintf(f, "<p>… và %zu địa điểm khác.</p>\n", r->idle_total - r->idle_n);
}

int tv_report_html(FILE *f, const tv_report *r, const tv_report_page *p)
{
    const tv_unit *u = tv_unit_find(p->unit);
    char a[16], b[16], made[TV_TIME_STR_BYTES];
    vn_date(a, sizeof a, r->from_day);
    vn_date(b, sizeof b, r->to_day);
    tv_time_format_vn(made, sizeof made, p->now_ms);
    const char *title = p->weekly ? "Báo cáo tuần" : "Báo cáo";
    fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          f);
    fprintf(f, "%s %s – ", title, p->period);
    esc(f, p->unit);
    if (u) {
        fputc(' ', f);
        esc(f, u->name);
    }
    fprintf(f, "</title>\n<style>%s</style></head>\n<body>\n<header><h1>%s %s</h1>\n", style, title,
            p->period);
    fputs("<p class=\"sub\" id=\"unit\">Đơn vị: <b>", f);
    esc(f, p->unit);
    if (u) {
        fputc(' ', f);
        esc(f, u->name);
    }
    fprintf(f, "</b> · từ %s đến %s (giờ Việt Nam)</p>\n", a, b);
    fprintf(f, "<p class=\"meta\">Lập lúc %.10s %.5s tại nút ", made, made + 11);
    esc(f, p->node_unit);
    fputs(", từ số liệu tổng hợp theo ngày mà nút này nhận được.</p></header>\n", f);
    summary(f, r, p);
    if (r->total.stale)
        fprintf(f,
                "<p class=\"warn\" id=\"stale-warning\"><b>%d/%zu đơn vị chưa đồng bộ</b> "
                "trong kỳ: nút này chưa nhận được lượt quét nào của các đơn vị đó từ đầu kỳ. "
                "Số liệu của họ là <b>thiếu</b>, không phải bằng 0.</p>\n",
                r->total.stale, r->expected);
    fputs("<section class=\"charts\">\n", f);
    int rc = p->depth > 0 ? chart_compliance(f, r, p) : TV_OK;
    chart_daily(f, r);
    fputs("</section>\n", f);
    table(f, r, p);
    lists(f, r, p);
    fputs("<footer><p>Tỉ lệ: số địa điểm có ít nhất một lượt quét trong kỳ trên số địa điểm "
          "đã tạo mã QR đến cuối kỳ. Số người là ước tính (sai số khoảng 9 %), mỗi người chỉ "
          "tính một lần trong kỳ. F0, F1: số người được ghi nhận lần đầu trong kỳ. Tạm dừng, "
          "cấp độ dịch: tình trạng hiện tại. Đơn vị chưa đồng bộ được xếp lên đầu.</p>"
          "<p>truyvet</p></footer>\n</body></html>\n",
          f);
    if (rc) return rc;
    return ferror(f) ? TV_EIO : TV_OK;
}
