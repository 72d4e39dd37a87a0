/* Presence intervals from one person's scans (see presence.h). */
#include "node/logic/presence.h"
#include "crdt/error.h"
#include "crdt/event.h" /* crdt_day_vn */
#include "node/format/timefmt.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_MIN INT64_C(60000)
#define MS_PER_DAY INT64_C(86400000)
#define VN_OFFSET_MS (INT64_C(7) * 3600 * 1000) /* crdt_day_vn's UTC+7 */
#define NO_CLOSING INT64_MAX

/* One venue's rules, asked for once and looked up by venue id. */
typedef struct venue_rule {
    uint8_t venue[TV_VENUE_ID_BYTES];
    tv_venue_rules r;
} venue_rule;

/* An interval being built, with the rank of the scan that began it, so that the final
 * sort is total without relying on qsort being stable. */
typedef struct item {
    tv_presence p;
    size_t seq;
} item;

/* The open presence: what its inferred end depends on. */
typedef struct open_state {
    int active;
    size_t idx;      /* into the items */
    int64_t anchor;  /* its latest check-in that was not collapsed: the stay runs from it */
    int64_t stay;    /* 0 = none */
    int64_t closing; /* NO_CLOSING when the venue has none or was already closed */
    int64_t day_end; /* the Vietnam midnight after from_ms */
} open_state;

static int cmp_scan(const void *a, const void *b)
{
    const tv_pscan *x = a, *y = b;
    if (x->at_ms != y->at_ms) return x->at_ms < y->at_ms ? -1 : 1;
    if (x->tie != y->tie) return x->tie < y->tie ? -1 : 1;
    /* Only for duplicated ties: without these the input order would leak through. */
    int c = memcmp(x->venue, y->venue, TV_VENUE_ID_BYTES);
    if (c) return c;
    return (int)x->out - (int)y->out;
}

static int cmp_venue(const void *a, const void *b)
{
    return memcmp(((const venue_rule *)a)->venue, ((const venue_rule *)b)->venue,
                  TV_VENUE_ID_BYTES);
}

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->p.from_ms != y->p.from_ms) return x->p.from_ms < y->p.from_ms ? -1 : 1;
    int c = memcmp(x->p.venue, y->p.venue, TV_VENUE_ID_BYTES);
    if (c) return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int same_venue(const uint8_t *a, const uint8_t *b)
{
    return memcmp(a, b, TV_VENUE_ID_BYTES) == 0;
}

/* Asks for the rules of every venue with a check-in, once each, in venue order, so that
 * the calls do not depend on the order of the scans. Sets *out (malloc'd) and *nout. */
static int load_rules(const tv_pscan *s, size_t n, tv_rules_fn rules, void *ctx, venue_rule **out,
                      size_t *nout)
{
    *out = NULL;
    *nout = 0;
    venue_rule *v = malloc(n * sizeof *v);
    if (!v) return TV_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].out) continue;
        memset(&v[k], 0, sizeof v[k]);
        memcpy(v[k].venue, s[i].venue, TV_VENUE_ID_BYTES);
        k++;
    }
    qsort(v, k, sizeof *v, cmp_venue);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || !same_venue(v[u - 1].venue, v[i].venue)) v[u++] = v[i];
    for (size_t i = 0; i < u && rules; i++) {
        int rc = rules(v[i].venue, &v[i].r, ctx);
        if (rc == 0 && (v[i].r.stay_ms < 0 || v[i].r.closes > TV_CLOSES_MAX)) rc = TV_EINVAL;
        if (rc) {
            free(v);
            return rc;
        }
    }
    *out = v;
    *nout = u;
    return 0;
}

/* The earliest of the open presence's default stay, closing time and midnight; on a tie
 * the more specific reason (closing, then stay). */
static int64_t inferred_end(const open_state *o, tv_end_reason *why)
{
    int64_t e = o->day_end;
    *why = TV_END_DAY;
    /* anchor < day_end, so the subtraction cannot overflow where anchor + stay could */
    if (o->stay > 0 && o->stay <= e - o->anchor) {
        e = o->anchor + o->stay;
        *why = TV_END_STAY;
    }
    if (o->closing <= e) {
        e = o->closing;
        *why = TV_END_CLOSING;
    }
    return e;
}

static size_t add_item(item *it, size_t *count, const uint8_t *venue, int64_t at)
{
    size_t i = (*count)++;
    memset(&it[i], 0, sizeof it[i]);
    memcpy(it[i].p.venue, venue, TV_VENUE_ID_BYTES);
    it[i].p.from_ms = it[i].p.to_ms = at;
    it[i].p.end = TV_END_CHECKOUT;
    it[i].p.scans = 1;
    it[i].seq = i;
    return i;
}

/* Opens a presence at s's venue from s's time. */
static void open_presence(open_state *o, item *it, size_t *count, const tv_pscan *s,
                          const venue_rule *vr, size_t nvr)
{
    venue_rule key;
    memcpy(key.venue, s->venue, TV_VENUE_ID_BYTES);
    const venue_rule *r = bsearch(&key, vr, nvr, sizeof *vr, cmp_venue);
    assert(r); /* every venue with a check-in was loaded */

    const int64_t day_start = (int64_t)crdt_day_vn(s->at_ms) * MS_PER_DAY - VN_OFFSET_MS;
    o->active = 1;
    o->idx = add_item(it, count, s->venue, s->at_ms);
    o->anchor = s->at_ms;
    o->stay = r->r.stay_ms;
    o->day_end = day_start + MS_PER_DAY;
    o->closing = NO_CLOSING;
    if (r->r.closes) {
        const int64_t c = day_start + (int64_t)(r->r.closes - 1) * MS_PER_MIN;
        if (c > s->at_ms) o->closing = c;
    }
}

/* Closes the open presence at its inferred end. */
static void end_inferred(open_state *o, item *it)
{
    tv_end_reason why;
    it[o->idx].p.to_ms = inferred_end(o, &why);
    it[o->idx].p.end = why;
    o->active = 0;
}

/* A check-in c: the open presence goes on when c is at its venue before its end (its stay
 * counted afresh), else ends (at c when c is elsewhere before its end, else at its inferred
 * end) and a presence opens at c. Returns the item c's run falls to. */
static size_t check_in(open_state *o, item *it, size_t *count, const tv_pscan *c,
                       const venue_rule *vr, size_t nvr)
{
    const int64_t t = c->at_ms;
    if (o->active) {
        tv_end_reason why;
        const int64_t e = inferred_end(o, &why);
        tv_presence *p = &it[o->idx].p;
        const int here = same_venue(p->venue, c->venue);
        if (here && t < e) {
            p->scans++;
            o->anchor = t;
            return o->idx;
        }
        if (!here && t <= e) {
            p->to_ms = t;
            p->end = TV_END_NEXT_CHECKIN;
            o->active = 0;
        } else {
            end_inferred(o, it);
        }
    }
    open_presence(o, it, count, c, vr, nvr);
    return o->idx;
}

/* A check-out c: it closes the open presence at its venue before that one's midnight; past
 * it, the presence ended before and c, like a check-out elsewhere or with nothing open,
 * stands alone. Returns the item c's run falls to. */
static size_t check_out(open_state *o, item *it, size_t *count, const tv_pscan *c)
{
    const int64_t t = c->at_ms;
    if (o->active && same_venue(it[o->idx].p.venue, c->venue)) {
        if (t < o->day_end) {
            it[o->idx].p.to_ms = t;
            it[o->idx].p.end = TV_END_CHECKOUT;
            it[o->idx].p.scans++;
            o->active = 0;
            return o->idx;
        }
        end_inferred(o, it);
    }
    return add_item(it, count, c->venue, t);
}

/* The presence still open after the last scan: open now if its inferred end is still to
 * come, else ended then. */
static void end_last(open_state *o, item *it, int64_t now_ms)
{
    tv_end_reason why;
    const int64_t e = inferred_end(o, &why);
    tv_presence *p = &it[o->idx].p;
    if (e > now_ms) {
        p->to_ms = now_ms > p->from_ms ? now_ms : p->from_ms;
        p->end = TV_END_OPEN;
    } else {
        p->to_ms = e;
        p->end = why;
    }
}

int tv_presence_build(const tv_pscan *scans, size_t n, int64_t window_ms, int64_t now_ms,
                      tv_rules_fn rules, void *ctx, tv_presence **out, size_t *nout)
{
    if (out) *out = NULL;
    if (nout) *nout = 0;
    if (!out || !nout || (!scans && n) || window_ms < 0) return TV_EINVAL;
    if (n == 0) return 0;
    if ((uint64_t)n > UINT32_MAX) return TV_ELIMIT;
    for (size_t i = 0; i < n; i++)
        if (scans[i].out > 1 || scans[i].at_ms < TV_TIME_MS_MIN || scans[i].at_ms > TV_TIME_MS_MAX)
            return TV_EINVAL;
    /* n <= UINT32_MAX, so these products only overflow on a 32-bit size_t, where the
     * allocation would fail anyway */
    if (n > SIZE_MAX / sizeof(item)) return TV_ENOMEM;

    int rc = TV_ENOMEM;
    venue_rule *vr = NULL;
    size_t nvr = 0;
    item *it = NULL;
    tv_presence *res = NULL;
    tv_pscan *s = malloc(n * sizeof *s);
    if (!s) goto done;
    memcpy(s, scans, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_scan);

    if ((rc = load_rules(s, n, rules, ctx, &vr, &nvr))) goto done;
    rc = TV_ENOMEM;
    if (!(it = malloc(n * sizeof *it))) goto done;

    size_t count = 0;
    open_state o = {0};
    size_t run_idx = 0;    /* the interval the current run's scans fall to */
    int64_t run_first = 0; /* the time of the run's first scan */
    for (size_t i = 0; i < n; i++) {
        const tv_pscan *c = &s[i];
        const int64_t t = c->at_ms;

        if (i > 0 && s[i - 1].out == c->out && same_venue(s[i - 1].venue, c->venue) &&
            t - run_first < window_ms) {
            /* a repeat of the run's first scan: counted, nothing moves */
            assert(c->out || (o.active && o.idx == run_idx));
            it[run_idx].p.scans++;
            continue;
        }
        run_first = t;

        run_idx = c->out ? check_out(&o, it, &count, c) : check_in(&o, it, &count, c, vr, nvr);
    }
    if (o.active) end_last(&o, it, now_ms);

    qsort(it, count, sizeof *it, cmp_item);
    if (!(res = malloc(count * sizeof *res))) goto done;
    for (size_t i = 0; i < count; i++)
        res[i] = it[i].p;
    *out = res;
    *nout = count;
    rc = 0;

done:
    free(it);
    free(vr);
    free(s);
    return rc;
}

int tv_presence_repeat(const tv_pscan *scans, size_t n, int64_t window_ms, int64_t *run_first)
{
    if (n == 0) {
        if (run_first) *run_first = 0;
        return 0;
    }
    const tv_pscan *last = &scans[n - 1];
    /* the run can only begin within the block of scans like the last (same venue and
     * direction, none in between) */
    size_t k = n - 1;
    while (k > 0 && scans[k - 1].out == last->out && same_venue(scans[k - 1].venue, last->venue))
        k--;
    /* the same walk as tv_presence_build's: a scan window_ms or more after its run's first
     * begins a new run */
    int64_t first = scans[k].at_ms;
    int repeat = 0;
    for (size_t i = k + 1; i < n; i++) {
        repeat = window_ms > 0 && scans[i].at_ms - first < window_ms;
        if (!repeat) first = scans[i].at_ms;
    }
    if (run_first) *run_first = first;
    return repeat;
}

const char *tv_end_reason_name(tv_end_reason r)
{
    switch (r) {
    case TV_END_CHECKOUT:
        return "check-out";
    case TV_END_NEXT_CHECKIN:
        return "next check-in";
    case TV_END_STAY:
        return "default stay";
    case TV_END_CLOSING:
        return "closing time";
    case TV_END_DAY:
        return "end of day";
    case TV_END_OPEN:
        return "open";
    }
    return NULL;
}
