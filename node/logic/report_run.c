/* Reports for a period, cut by day or week, and their staleness (report_run.h). */
#include "node/logic/report_run.h"

#include "crdt/error.h"
#include "node/format/timefmt.h"

#include <stdio.h>
#include <string.h>

void tv_report_span_this_week(tv_report_span *s, int64_t now_ms)
{
    int32_t today = crdt_day_vn(now_ms);
    s->first = today - (tv_iso_weekday(today) - 1);
    s->last = s->first + 6;
    s->weekly = 1;
}

void tv_report_span_align(tv_report_span *s)
{
    if (s->step != 7) return;
    s->first -= tv_iso_weekday(s->first) - 1;
    s->last += 7 - tv_iso_weekday(s->last);
}

void tv_report_period_label(char out[TV_REPORT_LABEL_BYTES], const tv_report_span *s, int32_t from,
                            int32_t to)
{
    if (s->weekly || s->step == 7) {
        tv_iso_week_format(out, TV_REPORT_LABEL_BYTES, from);
    } else if (from == to) {
        tv_date_format(out, TV_REPORT_LABEL_BYTES, from);
    } else {
        char a[16], b[16];
        tv_date_format(a, sizeof a, from);
        tv_date_format(b, sizeof b, to);
        snprintf(out, TV_REPORT_LABEL_BYTES, "%s..%s", a, b);
    }
}

int tv_report_make(tv_node *n, const char *unit, int32_t from, int32_t to, int64_t now_ms,
                   tv_report *r)
{
    memset(r, 0, sizeof *r);
    r->from_day = from;
    r->to_day = to;
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    if ((rc = tv_report_units(n, t, unit ? unit : n->unit, r)) == 0)
        rc = tv_report_figures(t, r, now_ms);
    store_read_end(t);
    if (rc) tv_report_free(r);
    return rc;
}

void tv_report_stale_add(tv_report_stale *s, const tv_report *r, const char *label)
{
    s->periods++;
    if (!r->total.stale) return;
    if (!s->periods_stale++) snprintf(s->first_stale, sizeof s->first_stale, "%s", label);
    s->stale_last = (uint64_t)r->total.stale;
    s->expected_last = r->expected;
    s->nunits = s->more = 0;
    for (size_t i = 0; i < r->n; i++) {
        const tv_report_row *w = &r->rows[i];
        if (!w->stale || !w->expect) continue;
        if (s->nunits == TV_REPORT_STALE_SHOWN) {
            s->more++;
            continue;
        }
        const tv_unit *u = tv_unit_find(w->code);
        tv_report_stale_unit *su = &s->units[s->nunits++];
        snprintf(su->code, sizeof su->code, "%s", w->code);
        snprintf(su->name, sizeof su->name, "%s", w->name[0] ? w->name : u ? u->name : "");
    }
}

int tv_report_run(tv_node *n, const char *unit, const tv_report_span *s, int64_t now_ms,
                  tv_report_fn fn, void *ctx, tv_report_stale *stale)
{
    memset(stale, 0, sizeof *stale);
    int rc = 0;
    int32_t len = s->last - s->first + 1;
    for (int32_t d = s->first; rc == 0 && d <= s->last; d += s->step ? s->step : len) {
        tv_report r;
        int32_t to = s->step ? d + s->step - 1 : s->last;
        char label[TV_REPORT_LABEL_BYTES];
        tv_report_period_label(label, s, d, to);
        if ((rc = tv_report_make(n, unit, d, to, now_ms, &r))) break;
        rc = fn(&r, label, d == s->first, ctx);
        if (rc == 0) tv_report_stale_add(stale, &r, label);
        tv_report_free(&r);
    }
    return rc;
}
