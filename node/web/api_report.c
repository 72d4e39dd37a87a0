/* The console's report: GET /api/report, the figures of `truyvet report` for the period,
 * depth and unit chosen on the page, as JSON, CSV or the report's own HTML page
 * (node/logic/report_run.h, node/render/report.h, node/render/report_html.h). */
#include "node/web/api.h"

#include "crdt/error.h"
#include "node/format/timefmt.h"
#include "node/logic/report_run.h"
#include "node/render/report.h"
#include "node/render/report_html.h"

#include <stdlib.h>
#include <string.h>

/* The report page has no script at all; its styles are inline. */
#define REPORT_CSP                                                                                 \
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; "       \
    "base-uri 'none'; form-action 'none'"

/* The period from week, or from and to, else this week. Returns 0, else 1 after answering
 * 400 with the CLI's sentence. */
static int report_span(const tv_req *q, int64_t now, tv_report_span *s, tv_resp *r)
{
    const char *week = tv_req_query(q, "week"), *from = tv_req_query(q, "from");
    const char *to = tv_req_query(q, "to");
    char en[200];
    if (week && week[0]) {
        if (tv_iso_week_parse(week, &s->first)) {
            snprintf(en, sizeof en, "--week takes an ISO week such as 2021-W40, not '%s'.", week);
            tv_resp_error(r, 400, "week_invalid", en,
                          "Tuần phải có dạng năm-W số tuần, ví dụ 2021-W40.");
            return 1;
        }
        s->last = s->first + 6;
        s->weekly = 1;
    } else if ((from && from[0]) || (to && to[0])) {
        if (!from || !to || tv_date_parse(from, &s->first) || tv_date_parse(to, &s->last)) {
            tv_resp_error(r, 400, "date_invalid", "--from and --to take dates such as 2021-10-06.",
                          "Ngày phải có dạng năm-tháng-ngày, ví dụ 2021-10-06.");
            return 1;
        }
        if (s->last < s->first || s->last - s->first > 3660) {
            tv_resp_error(r, 400, "period_invalid",
                          s->last < s->first ? "--to is before --from."
                                             : "a period of at most ten years, please.",
                          s->last < s->first ? "Ngày cuối trước ngày đầu."
                                             : "Khoảng thời gian tối đa là mười năm.");
            return 1;
        }
    } else {
        tv_report_span_this_week(s, now);
    }
    return 0;
}

/* depth, min_compliance and format. Returns 0, else 1 after answering 400. */
static int report_options(const tv_req *q, tv_report_out *o, tv_resp *r)
{
    const char *d = tv_req_query(q, "depth"), *m = tv_req_query(q, "min_compliance");
    const char *fmt = tv_req_query(q, "format");
    char *end;
    o->depth = 1;
    o->min_compliance = 80;
    if (d && d[0]) {
        long v = strtol(d, &end, 10);
        if (*end || end == d || v < 0 || v > TV_REPORT_LEVELS_MAX) {
            char en[160];
            snprintf(en, sizeof en, "--depth takes a number of levels, 0 to %d, not '%s'.",
                     TV_REPORT_LEVELS_MAX, d);
            tv_resp_error(r, 400, "depth_invalid", en, "Số cấp hiển thị phải từ 0 đến 8.");
            return 1;
        }
        o->depth = (int)v;
    }
    if (m && m[0]) {
        double v = strtod(m, &end);
        if (*end || !(v >= 0 && v <= 100)) {
            tv_resp_error(r, 400, "min_compliance_invalid",
                          "--min-compliance takes a percentage, 0 to 100.",
                          "Ngưỡng tuân thủ là phần trăm từ 0 đến 100.");
            return 1;
        }
        o->min_compliance = v;
    }
    o->fmt = !fmt || strcmp(fmt, "json") == 0 ? TV_REPORT_JSON
             : strcmp(fmt, "csv") == 0        ? TV_REPORT_CSV
             : strcmp(fmt, "html") == 0       ? TV_REPORT_HTML
                                              : -1;
    if (o->fmt < 0) {
        tv_resp_error(r, 400, "format_invalid", "format is json, csv or html.",
                      "Định dạng là json, csv hoặc html.");
        return 1;
    }
    return 0;
}

int tv_api_report(tv_web *w, tv_req *q, tv_resp *r)
{
    tv_report_out o = {.now_ms = tv_wall_ms(), .node_unit = w->n->unit};
    tv_report_span s = {0};
    if (report_options(q, &o, r) || report_span(q, o.now_ms, &s, r)) return 0;
    const char *unit = tv_req_query(q, "unit");
    o.unit = unit && unit[0] ? unit : w->n->unit;
    o.weekly = s.weekly;
    static const char *const types[] = {[TV_REPORT_CSV] = "text/csv; charset=utf-8",
                                        [TV_REPORT_JSON] = "application/json; charset=utf-8",
                                        [TV_REPORT_HTML] = "text/html; charset=utf-8"};
    o.f = tv_resp_open(r, 200, types[o.fmt]);
    if (!o.f) return 0;
    tv_report_stale st = {0};
    int rc = tv_report_run(w->n, o.unit, &s, o.now_ms, tv_render_report_write, &o, &st);
    if (rc) {
        tv_resp_fail(r, rc, "no report", "không lập được báo cáo");
        return 0;
    }
    if (o.fmt == TV_REPORT_HTML) r->csp = REPORT_CSP;
    const char *dl = tv_req_query(q, "download");
    if (dl && strcmp(dl, "1") == 0) {
        char name[80];
        snprintf(name, sizeof name, "bao-cao-%s.%s", o.unit,
                 o.fmt == TV_REPORT_CSV    ? "csv"
                 : o.fmt == TV_REPORT_HTML ? "html"
                                           : "json");
        tv_resp_attachment(r, name);
    }
    return 0;
}
