/* Presence intervals: where one person was, and from when to when, built from their scans.
 *
 * The log keeps every scan as it was recorded; this module is a view over them. It turns
 * one person's check-ins and check-outs into intervals [from_ms, to_ms) at venues, the
 * unit contact tracing compares. The rules of the specification:
 *   - scans of the same person at the same venue within a window (default 5 minutes)
 *     count as one check-in: the events stay, the view collapses them;
 *   - a person has at most one open presence per venue;
 *   - a missing check-out is inferred as the earliest of: the person's next check-in
 *     elsewhere, the venue category's default stay, the venue's closing time, and the end
 *     of the day.
 * "Day" and "midnight" are Vietnam's (UTC+7 all year, see crdt_day_vn): a presence that
 * starts at 23:59 local time (16:59 UTC) ends at the latest at 00:00 local (17:00 UTC).
 *
 * The precise rules, in the order the scans are read (sorted by at_ms, then tie):
 *
 * Runs. A scan continues a run when the person's previous scan had the same venue and
 * direction and the run's first scan is less than window_ms earlier (at - first <
 * window_ms: a scan window_ms - 1 ms after the first is collapsed, one window_ms after is
 * not). Any other scan in between, at any venue or in either direction, ends the run, so
 * A, B, A within a minute are three check-ins: the person did move. A collapsed scan only
 * adds to its interval's `scans` count; it moves no boundary and closes nothing, so a
 * double scan at 23:58 and 00:01 is one check-in, which ends at midnight.
 *
 * Open presence. A check-in that is not collapsed opens a presence (or extends the open
 * one, below), which stays open until a later scan closes it or its inferred end passes. Since a
 * check-in elsewhere closes it, a person has at most one open presence at a time, which satisfies
 * the one-per-venue rule. Its inferred end E is the earliest of
 *   - the default stay: stay_ms after the presence's latest check-in that was not
 *     collapsed (see extension), when stay_ms > 0;
 *   - the closing time on the local day of from_ms, when it is strictly later than
 *     from_ms; a venue already closed at check-in (22:30 at a venue closing at 22:00, or
 *     22:00 exactly) is taken to be open late, and only the end of day applies. A closing
 *     time of 00:00 (closes = 1) is therefore never later than a check-in: for a bar
 *     closing at midnight the end of day does that job;
 *   - the end of day: the next Vietnam midnight after from_ms.
 * On a tie the reason reported is the more specific one: closing time, then default stay,
 * then end of day. A presence is open at instant t when t < E: at t == E it has ended.
 *
 * Check-in at venue V at time t, not collapsed, with open presence P:
 *   - P at V and t < E: the person is still there. The scan extends P (scans + 1) and
 *     restarts its default stay from t, so that a second scan at the gate an hour later
 *     makes no second presence, and a repeat scan just before or just after the stay ran
 *     out gives the same end;
 *   - P at another venue and t <= E: P ends at t, TV_END_NEXT_CHECKIN (on a tie the
 *     observed check-in is reported rather than the inferred end);
 *   - otherwise P ended at E with its inferred reason;
 * and in the last two cases a new presence opens at V from t.
 *
 * Check-out at venue V at time t, not collapsed:
 *   - with open presence P at V and t before the end of P's day: P ends at t,
 *     TV_END_CHECKOUT, scans + 1. A check-out on the same local day is believed even after
 *     the default stay or the closing time: it is what the person did, the others are
 *     guesses. It is not believed at or after midnight, the limit of every presence;
 *   - otherwise (no open presence at V, or a check-out after P's midnight, when P first
 *     ends at E): a lone check-out. It still shows that the person was at V at t, so it
 *     gives the zero-length interval [t, t], TV_END_CHECKOUT, scans 1. A lone check-out
 *     does not close an open presence elsewhere: only a check-in does in the
 *     specification, and when the evidence conflicts tracing keeps the longer exposure (a
 *     contact counted that did not happen costs a phone call; one missed may cost an
 *     outbreak).
 * A check-out collapsed into a run of check-outs adds to the interval the run's first
 * check-out closed or made; the first check-out is the end.
 *
 * After the last scan. If a presence is still open and E > now_ms, its end is not known
 * yet: the person may still check out or go elsewhere. It ends at now_ms, or at from_ms
 * if now_ms is earlier (a device clock ahead of the caller's), with TV_END_OPEN. If
 * E <= now_ms it ended at E. Only that presence can be open; intervals closed by later
 * scans are left as those scans closed them even when the scans lie after now_ms. Pass
 * INT64_MAX as now_ms to report inferred ends whatever the time.
 *
 * Accounting. Every scan counts in exactly one interval's `scans`, so the counts sum to
 * the number of scans. Intervals are half-open [from_ms, to_ms), except that a
 * zero-length one (from_ms == to_ms: a lone check-out, or a check-in closed at its own
 * instant) stands for the instant from_ms. Two intervals at the same venue never overlap,
 * and two non-empty intervals never overlap at all: a person is in one place at a time.
 *
 * Pure and deterministic: no clock, no I/O, no global state. The output depends only on
 * the set of scans, not on their order in the input: equal (at_ms, tie) pairs are further
 * ordered by venue id bytes, then check-in before check-out, and scans equal in all four
 * are interchangeable. */
#ifndef TV_NODE_PRESENCE_H
#define TV_NODE_PRESENCE_H

#include "crdt/ids.h" /* TV_VENUE_ID_BYTES */

#include <stddef.h>
#include <stdint.h>

#define TV_DEDUPE_WINDOW_MS_DEFAULT (5 * 60 * 1000)
#define TV_CLOSES_MAX 1440 /* tv_venue_rules.closes: 23:59, the last minute of the day */

/* One scan of ONE person, as stored. */
typedef struct tv_pscan {
    uint8_t venue[TV_VENUE_ID_BYTES];
    int64_t at_ms; /* device wall time, TV_TIME_MS_MIN..TV_TIME_MS_MAX (node/format/timefmt.h) */
    uint8_t out;   /* 0 check-in, 1 check-out (CRDT_DIR_IN, CRDT_DIR_OUT) */
    /* a stable tie-break for equal times, e.g. origin number << 40 | seq: scans at the same
     * millisecond are read in increasing tie */
    uint64_t tie;
} tv_pscan;

/* What the caller knows of a venue. */
typedef struct tv_venue_rules {
    int64_t stay_ms; /* the category's default stay; 0 = none; never negative */
    /* closing time in minutes after local midnight + 1 (1..TV_CLOSES_MAX: 1 is 00:00,
     * 1321 is 22:00), 0 = none (CRDT_CLOSES_NONE); the encoding of venue_upsert */
    uint32_t closes;
} tv_venue_rules;

/* Fills *out with the rules of venue (already zeroed: leaving it means no stay and no
 * closing time). Returns 0, or an error code (negative), which aborts the build and is
 * returned by tv_presence_build. */
typedef int (*tv_rules_fn)(const uint8_t venue[TV_VENUE_ID_BYTES], tv_venue_rules *out, void *ctx);

/* Why an interval ends. Never 0, so a zeroed interval is recognisably unset. */
typedef enum tv_end_reason {
    TV_END_CHECKOUT = 1, /* an explicit check-out (also a lone one) */
    TV_END_NEXT_CHECKIN, /* the person's next check-in, at another venue */
    TV_END_STAY,         /* the venue category's default stay ran out */
    TV_END_CLOSING,      /* the venue's closing time */
    TV_END_DAY,          /* midnight, Vietnam time */
    TV_END_OPEN,         /* still open at now_ms: to_ms is now_ms, not an end */
} tv_end_reason;

typedef struct tv_presence {
    uint8_t venue[TV_VENUE_ID_BYTES];
    int64_t from_ms, to_ms; /* from_ms <= to_ms */
    tv_end_reason end;
    /* scans that fall to this interval: the check-ins that opened, repeated or extended
     * it, and its check-out(s); a lone check-out's interval counts its run of check-outs */
    uint32_t scans;
} tv_presence;

/* Builds one person's presence intervals from their n scans, by the rules above. The
 * scans may come in any order (a sorted copy is used; `scans` is not changed).
 *
 * window_ms >= 0 is the collapse window (TV_DEDUPE_WINDOW_MS_DEFAULT; 0 collapses
 * nothing). now_ms is the caller's present, any value (see "After the last scan").
 * rules is called exactly once for every distinct venue that has at least one check-in,
 * in increasing byte order of venue ids, before anything else is done with the scans; a
 * venue with check-outs only is not asked about. rules may be NULL: no venue then has a
 * default stay or a closing time.
 *
 * On success stores a malloc'd array in *out (the caller frees it; NULL when there are no
 * intervals) and its length in *nout, sorted by from_ms, then venue id bytes, then the
 * order of the scans that began them, and returns 0. n = 0 gives *out = NULL, *nout = 0.
 * Returns, with *out = NULL and *nout = 0:
 *   TV_EINVAL  out or nout NULL, scans NULL with n > 0, window_ms < 0, a scan with at_ms
 *              outside TV_TIME_MS_MIN..TV_TIME_MS_MAX or out > 1, or rules that gave a
 *              negative stay_ms or closes > TV_CLOSES_MAX;
 *   TV_ELIMIT  n > UINT32_MAX, more than an interval's `scans` could count;
 *   TV_ENOMEM  an allocation failed;
 *   any error the rules callback returned.
 *
 * Returns 0 or a code rather than the number of intervals: the count is a size_t in
 * *nout, which an int could not always hold, and every other function here returns a
 * code. */
int tv_presence_build(const tv_pscan *scans, size_t n, int64_t window_ms, int64_t now_ms,
                      tv_rules_fn rules, void *ctx, tv_presence **out, size_t *nout)
    __attribute__((warn_unused_result));

/* The run rule above, for one scan: is the last of scans[0..n) a repeat, collapsed into
 * the run of check-ins or check-outs before it? scans are one person's, in the order
 * tv_presence_build reads them (by at_ms, then tie), ending with the scan asked about; a
 * caller may pass only the scans from the start of the run, or from any earlier scan that
 * lies window_ms or more before the next one (a gap that long always starts a new run).
 * This is the one rule behind the gate's "already in" answer, `watch`'s repeat mark and
 * the views' collapse: a check-out in between ends the run, so a return after a check-out
 * is a new check-in however soon it comes.
 * Returns 1 (a repeat) or 0, and stores the time of the run's first scan in *run_first
 * when it is not NULL (the last scan's own time when it begins a run). n = 0 or
 * window_ms <= 0 gives 0. */
int tv_presence_repeat(const tv_pscan *scans, size_t n, int64_t window_ms, int64_t *run_first);

/* Returns "check-out", "next check-in", "default stay", "closing time", "end of day" or
 * "open", or NULL for a value that is not a tv_end_reason. */
const char *tv_end_reason_name(tv_end_reason r);

#endif
