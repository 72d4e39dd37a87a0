/* The gate's answers: one scanned line (what a USB QR reader types, a relayed self
 * check-in, a typed number) becomes a queued scan or a refusal, and once the group is
 * durable, an answer a guard reads at a glance. `truyvet station` and the web console's
 * gate page (node/web/gate.c) both answer through here, so a line gets the same answer
 * from either.
 *
 * A group collects lines, possibly for several venues and both directions (the web gate
 * takes the lines of every gate of the commune into one commit); tv_gate_settle makes the
 * group durable (node/logic/intake.h: nothing is acknowledged before its commit) and
 * fixes each answer. The answers stay readable until tv_gate_reset.
 *
 * The answers (results):
 *   ok          recorded; the person's colour (mark) when the node knows one
 *   already     recorded, but a repeat: the person's previous scan was in the same
 *               direction at that venue within the window (tv_presence_repeat)
 *   unreadable  nothing recorded: not a card or number, or a personal card or venue code
 *               that does not verify here
 *   suspended   nothing recorded: the venue has 3 reminders and no scan since
 *   failed      the store failed; the line can be scanned again
 * A person the node knows as F0, F1 or under a hold is recorded, with a stop
 * (tv_gate_stop on the mark): the scan is a fact, tracing counts it. */
#ifndef TV_NODE_LOGIC_GATE_H
#define TV_NODE_LOGIC_GATE_H

#include "node/logic/downflow.h"
#include "node/logic/intake.h"
#include "node/logic/record.h"

#include <stddef.h>
#include <stdint.h>

typedef enum tv_gate_result {
    TV_GATE_OK,
    TV_GATE_ALREADY,
    TV_GATE_UNREADABLE,
    TV_GATE_SUSPENDED,
    TV_GATE_FAILED
} tv_gate_result;

/* "ok", "already", "unreadable", "suspended", "failed". */
const char *tv_gate_result_name(tv_gate_result r);

typedef struct tv_gate_answer {
    uint64_t tag; /* the caller's */
    tv_gate_result res;
    const char *why; /* static, Vietnamese: why not recorded (or the store's failure) */
    char masked[sizeof(((tv_scan_done *)0)->masked)];
    int64_t at_ms;
    uint64_t seq;        /* its event, once acknowledged */
    tv_gate_mark mark;   /* the person's status and hold as this node knows them */
    const char *warning; /* static, English (tv_card_why_vi says it in Vietnamese) */
    int out;             /* the direction recorded */
    uint8_t venue[TV_VENUE_ID_BYTES];
} tv_gate_answer;

typedef struct tv_gate_seen {
    uint8_t ref[TV_PERSON_REF_BYTES];
    uint8_t venue[TV_VENUE_ID_BYTES];
    int64_t run_first; /* the first scan of the person's run (tv_presence_repeat) */
    uint8_t out, used;
} tv_gate_seen;

typedef struct tv_gate_group {
    tv_node *n;       /* borrowed */
    tv_opened opened; /* the statuses sealed for this commune, opened in memory only */
    tv_recorder rec;
    tv_intake in;
    int64_t window_ms;  /* scans of one person within it count as one check-in */
    const char *device; /* kept with each scan (borrowed; NULL: none) */
    tv_gate_answer *ans;
    size_t nans, cap;
    tv_gate_seen *seen; /* 2 * cap slots: the people of this group, by (ref, venue, out) */
} tv_gate_group;

/* Starts a group of at most cap lines on node n (unlocked, nothing pending). Returns 0,
 * TV_ENOMEM or what tv_recorder_init returns. */
int tv_gate_group_init(tv_gate_group *g, tv_node *n, size_t cap, int64_t window_ms,
                       const char *device);
void tv_gate_group_free(tv_gate_group *g);

/* Is the group full (in lines or in the node's pending events)? */
int tv_gate_full(const tv_gate_group *g);

/* Takes one line (text, len bytes; too_long: it was cut) scanned at venue v (one of the
 * node's unit's) in direction out at now_ms, with the caller's tag: queues its scan, or
 * fixes its answer when nothing is to be recorded. Returns its answer (final only after
 * tv_gate_settle). The group must not be full. */
tv_gate_answer *tv_gate_take(tv_gate_group *g, const store_venue *v, int out, const char *text,
                             size_t len, int too_long, uint64_t tag, int64_t now_ms);

/* Commits the group's scans, then fixes every answer (a failed commit makes its lines
 * failed). Returns 0 or the commit's error. */
int tv_gate_settle(tv_gate_group *g);

/* Forgets the answers, for the next group. */
void tv_gate_reset(tv_gate_group *g);

#endif
