/* The gate's answers (gate.h): moved here from `truyvet station` so that the web console's
 * gate answers a line exactly as the station does. */
#include "node/logic/gate.h"

#include "crdt/assert.h"
#include "crdt/error.h"
#include "node/logic/presence.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The events of one group, at most: within the node's pending group (a new person adds one
 * to a scan). */
#define GROUP_EVENTS_MAX 8000

const char *tv_gate_result_name(tv_gate_result r)
{
    static const char *const names[] = {"ok", "already", "unreadable", "suspended", "failed"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

int tv_gate_group_init(tv_gate_group *g, tv_node *n, size_t cap, int64_t window_ms,
                       const char *device)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->cap = cap;
    g->window_ms = window_ms;
    g->device = device;
    g->ans = calloc(cap, sizeof *g->ans);
    g->seen = calloc(2 * cap, sizeof *g->seen);
    int rc = g->ans && g->seen ? tv_recorder_init(&g->rec, n) : TV_ENOMEM;
    if (rc) {
        free(g->ans);
        free(g->seen);
        memset(g, 0, sizeof *g);
        return rc;
    }
    (void)tv_intake_init(&g->in, &g->rec);
    return TV_OK;
}

void tv_gate_group_free(tv_gate_group *g)
{
    if (!g->ans) return;
    tv_intake_free(&g->in);
    tv_recorder_free(&g->rec);
    tv_opened_release(&g->opened);
    free(g->ans);
    free(g->seen);
    memset(g, 0, sizeof *g);
}

int tv_gate_full(const tv_gate_group *g)
{
    return g->nans >= g->cap || tv_node_pending(g->n) >= GROUP_EVENTS_MAX;
}

/* The slot of (ref, venue, out) in the group's table: where it is, or the free one it
 * would take. */
static size_t seen_slot(tv_gate_group *g, const uint8_t *ref, const uint8_t *venue, int out)
{
    uint64_t h;
    memcpy(&h, ref, sizeof h); /* a keyed hash: uniform bytes */
    size_t cap = 2 * g->cap;
    size_t i = (size_t)(h % cap);
    while (g->seen[i].used &&
           (memcmp(g->seen[i].ref, ref, TV_PERSON_REF_BYTES) != 0 ||
            memcmp(g->seen[i].venue, venue, TV_VENUE_ID_BYTES) != 0 || g->seen[i].out != out))
        i = (i + 1) % cap;
    return i;
}

/* Is this scan of the person a repeat (tv_presence_repeat, the rule the views and `watch`
 * follow)? A person met earlier in the group at that venue in that direction continues
 * that run; else the store says. *run_first gets the time of the run's first scan. */
static int is_repeat(tv_gate_group *g, const uint8_t *ref, const store_venue *v, int out,
                     int64_t at_ms, int64_t *run_first)
{
    size_t k = seen_slot(g, ref, v->id, out);
    if (g->seen[k].used) {
        int repeat = g->window_ms > 0 && at_ms - g->seen[k].run_first < g->window_ms;
        *run_first = repeat ? g->seen[k].run_first : at_ms;
        return repeat;
    }
    *run_first = at_ms;
    store_txn *t;
    if (store_read_begin(g->n->st, &t)) return 0;
    tv_scan_key key = {.person = ref, .venue = v->id, .out = out, .at_ms = at_ms};
    int rc = tv_scan_repeat(t, &key, g->window_ms, run_first);
    store_read_end(t);
    if (rc < 0) *run_first = at_ms;
    return rc == 1;
}

static int suspended(tv_gate_group *g, const store_venue *v)
{
    store_txn *t;
    store_venue_status vs;
    int rc = store_read_begin(g->n->st, &t);
    if (rc) return 0;
    rc = store_venue_status_get(t, v->id, &vs);
    store_read_end(t);
    return rc == 0 && vs.suspended;
}

/* Why a relayed self check-in (the venue's code, then a space and the person's) may not be
 * recorded here, or NULL when it may: the venue's code must be genuine, and this gate's. */
static const char *self_checkin_why(tv_gate_group *g, const store_venue *v, const char *text,
                                    size_t len, size_t rest)
{
    tv_venue_payload p;
    const char *why;
    if (tv_venue_payload_parse(text, len, &p, &why)) return tv_card_why_vi(why);
    if (rest == 0) return "chỉ có mã của điểm: phải kèm mã hoặc số của người";
    if (memcmp(p.venue, v->id, TV_VENUE_ID_BYTES) != 0 || strcmp(p.unit, v->unit) != 0)
        return "mã của điểm khác";
    store_txn *t;
    crdt_cert *cert = malloc(sizeof *cert);
    tv_code_verdict verdict = TV_CODE_FORGED;
    int rc = cert ? store_read_begin(g->n->st, &t) : TV_ENOMEM;
    if (rc == 0) {
        rc = tv_venue_code_check(t, g->n, &p, cert, &verdict);
        store_read_end(t);
    }
    free(cert);
    if (rc) return "không kiểm tra được mã điểm (lỗi dữ liệu)";
    switch (verdict) {
    case TV_CODE_GENUINE:
    case TV_CODE_OWN:
        return NULL;
    case TV_CODE_REVOKED:
        return "mã điểm do một nút đã bị thu hồi ký";
    default:
        return "mã điểm giả: chữ ký không hợp lệ";
    }
}

/* The person's status and hold as this node knows them: the gate shows them. */
static void gate_mark(tv_gate_group *g, const uint8_t *ref, tv_gate_mark *m)
{
    store_txn *t;
    m->status = -1;
    m->held = 0;
    if (store_read_begin(g->n->st, &t) == 0) {
        tv_gate_mark_get(g->n, t, &g->opened, ref, m);
        store_read_end(t);
    }
}

/* Why a line was not recorded, for the guard: the store's error, in brief and in
 * Vietnamese only (the store's own English wording is for the operator). */
static void failed_why(tv_gate_answer *a, int rc)
{
    a->why = rc == TV_ENOSPC ? "ổ đĩa đầy; quét lại" : "lỗi ghi dữ liệu; quét lại";
}

/* Why tv_card_check refused a personal card, for the guard; NULL when rc is no such
 * refusal. */
static const char *card_refused_why(int rc)
{
    switch (rc) {
    case TV_ESIG:
        return "chữ ký thẻ không hợp lệ: thẻ giả hoặc đã bị sửa";
    case TV_EUNTRUSTED:
        return "thẻ không rõ nơi cấp: nút này chưa có chứng chỉ của nơi cấp thẻ";
    case TV_EREVOKED:
        return "nơi cấp thẻ đã bị thu hồi khóa";
    }
    return NULL;
}

/* A self check-in relayed by a phone: the venue's code, a space, the person's. Leaves
 * *text and *len at the person's code and sets *method when the line is one; returns why
 * it cannot be taken, or NULL. */
static const char *self_checkin_strip(tv_gate_group *g, const store_venue *v, const char **text,
                                      size_t *len, uint8_t *method)
{
    if (*len < strlen(TV_VENUE_PAYLOAD_PREFIX) ||
        memcmp(*text, TV_VENUE_PAYLOAD_PREFIX, strlen(TV_VENUE_PAYLOAD_PREFIX)) != 0)
        return NULL;
    const char *sp = memchr(*text, ' ', *len);
    size_t vlen = sp ? (size_t)(sp - *text) : *len, rest = sp ? *len - vlen - 1 : 0;
    const char *why = self_checkin_why(g, v, *text, vlen, rest);
    if (why) return why;
    *text = sp + 1;
    *len = rest;
    *method = CRDT_METHOD_SELF;
    return NULL;
}

/* Queues the scan of a parsed card into the group and fixes what is known before the
 * commit. */
static void take_card(tv_gate_group *g, tv_gate_answer *a, const store_venue *v, tv_card *card,
                      uint8_t method)
{
    a->warning = card->warning;
    tv_scan_in in = {.venue = v,
                     .card = card,
                     .out = a->out,
                     .at_ms = a->at_ms,
                     .device = g->device,
                     .method = method};
    tv_scan_done sd;
    uint8_t ref[TV_PERSON_REF_BYTES];
    tv_card_ref(card, g->rec.key, ref);
    int64_t run_first;
    int again = is_repeat(g, ref, v, a->out, a->at_ms, &run_first);
    int rc = tv_intake_add(&g->in, &in, (uint64_t)(a - g->ans), &sd);
    if ((a->why = card_refused_why(rc))) { /* a personal card refused: the guard reads why */
        a->res = TV_GATE_UNREADABLE;
        return;
    }
    if (rc) {
        a->res = TV_GATE_FAILED;
        failed_why(a, rc);
        return;
    }
    a->res = again ? TV_GATE_ALREADY : TV_GATE_OK;
    gate_mark(g, ref, &a->mark);
    size_t k = seen_slot(g, ref, v->id, a->out);
    memcpy(g->seen[k].ref, ref, sizeof ref);
    memcpy(g->seen[k].venue, v->id, TV_VENUE_ID_BYTES);
    g->seen[k].out = (uint8_t)a->out;
    g->seen[k].run_first = run_first;
    g->seen[k].used = 1;
    memcpy(a->masked, sd.masked, sizeof a->masked);
}

tv_gate_answer *tv_gate_take(tv_gate_group *g, const store_venue *v, int out, const char *text,
                             size_t len, int too_long, uint64_t tag, int64_t now_ms)
{
    TV_ASSERT(g->nans < g->cap);
    tv_gate_answer *a = &g->ans[g->nans++];
    memset(a, 0, sizeof *a);
    a->tag = tag;
    a->mark.status = -1;
    a->at_ms = now_ms;
    a->out = out;
    memcpy(a->venue, v->id, TV_VENUE_ID_BYTES);
    if (too_long) {
        a->res = TV_GATE_UNREADABLE;
        a->why = "dòng quét dài hơn mọi mã QR";
        return a;
    }
    if (suspended(g, v)) {
        a->res = TV_GATE_SUSPENDED;
        a->why = "đã nhắc 3 lần mà không có lượt quét nào; xã/phường mở lại điểm";
        return a;
    }
    uint8_t method = 0;
    if ((a->why = self_checkin_strip(g, v, &text, &len, &method))) {
        a->res = TV_GATE_UNREADABLE;
        return a;
    }
    tv_card card;
    const char *why;
    if (tv_card_parse(text, len, &card, &why)) {
        a->res = TV_GATE_UNREADABLE;
        a->why = tv_card_why_vi(why);
        return a;
    }
    take_card(g, a, v, &card, method);
    sodium_memzero(&card, sizeof card);
    return a;
}

/* The acknowledgement of a recorded line (tv_intake_settle): its event, or why not. */
static void gate_ack(void *arg, uint64_t tag, int rc, uint64_t seq)
{
    tv_gate_group *g = arg;
    TV_ASSERT(tag < g->nans);
    tv_gate_answer *a = &g->ans[tag];
    if (rc == 0) {
        a->seq = seq;
    } else {
        a->res = TV_GATE_FAILED;
        failed_why(a, rc);
    }
}

int tv_gate_settle(tv_gate_group *g)
{
    if (g->nans == 0) return TV_OK;
    return tv_intake_settle(&g->in, gate_ack, g);
}

void tv_gate_reset(tv_gate_group *g)
{
    g->nans = 0;
    memset(g->seen, 0, 2 * g->cap * sizeof *g->seen);
}
