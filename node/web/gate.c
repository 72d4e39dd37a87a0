/* The web console's gate (gate.h): one writer thread, group commit. */
#include "node/web/gate.h"

#include "crdt/assert.h"
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/timefmt.h"
#include "node/logic/gate.h"
#include "node/logic/idcard.h"
#include "node/logic/presence.h"
#include "node/logic/scan_input.h"
#include "node/logic/venue_input.h"
#include "node/web/api.h"
#include "node/render/json.h"
#include "node/web/live.h"

#include <errno.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define DEVICE "web"

/* One line waiting for its answer. */
typedef struct item {
    char venue[TV_WEB_VENUE_TEXT_MAX + 1]; /* as given: an id, a prefix or a short code */
    int out, too_long;
    char line[TV_CARD_TEXT_MAX + 1];
    size_t len;
    int64_t at_ms;
    tv_req *q;   /* its request (the account's session), whose thread waits for the answer */
    sem_t ready; /* posted by the writer once the answer is in (only that thread wakes) */
    /* the answer */
    int done, err; /* err: not taken at all (why says why, or TV_EBUSY, ...) */
    int gone;      /* not taken: the account was removed, disabled, locked or re-roled */
    tv_why why;
    tv_gate_answer ans;
    struct item *next;
} item;

struct tv_web_gate {
    tv_web *w;
    pthread_mutex_t mu;
    pthread_cond_t work;
    item *head, *tail;
    int stopping, started;
    pthread_t th;
    tv_gate_group g; /* made at the first line (the node must be unlocked) */
    int ready;
};

/* Looks up the venue of it, one this node records scans for (the CLI's checks and
 * sentences). Returns 0 with *v, else the error with it->why set. */
static int venue_of(tv_web *w, item *it, store_venue *v)
{
    int rc = tv_scan_node_check(w->n, &it->why);
    if (rc == 0) rc = tv_venue_find(w->n, it->venue, v, &it->why);
    if (rc == 0) rc = tv_scan_venue_check(w->n, v, it->venue, &it->why);
    return rc;
}

/* Records the items of [from, to) that fit one group; returns the first item not taken. */
static item *record_group(tv_web_gate *g, item *from)
{
    item *taken[TV_WEB_GATE_GROUP_MAX];
    size_t nt = 0;
    item *it = from;
    for (; it && !tv_gate_full(&g->g); it = it->next) {
        store_venue v;
        if ((it->gone = tv_web_account_current(g->w, it->q))) continue;
        if ((it->err = venue_of(g->w, it, &v))) continue;
        tv_gate_take(&g->g, &v, it->out, it->line, it->len, it->too_long, nt, it->at_ms);
        taken[nt++] = it;
        sodium_memzero(it->line, it->len);
    }
    (void)tv_gate_settle(&g->g); /* a failed commit fails its answers, which say so */
    TV_ASSERT(g->g.nans == nt);
    for (size_t i = 0; i < nt; i++)
        taken[i]->ans = g->g.ans[i];
    tv_gate_reset(&g->g);
    return it;
}

/* Records a batch of queued items, under the node's mutex and writer lock. */
static void record(tv_web_gate *g, item *list)
{
    tv_web *w = g->w;
    pthread_mutex_lock(w->mu);
    int rc = 0, took = 0;
    if (!g->ready) {
        rc = tv_gate_group_init(&g->g, w->n, TV_WEB_GATE_GROUP_MAX, TV_DEDUPE_WINDOW_MS_DEFAULT,
                                DEVICE);
        g->ready = rc == 0;
    }
    if (rc == 0) {
        took = tv_node_lock_try(w->n);
        if (took < 0) rc = took;
    }
    if (rc) {
        for (item *it = list; it; it = it->next)
            it->err = rc;
    } else {
        for (item *it = list; it;)
            it = record_group(g, it);
    }
    if (took == 1) tv_node_lock_release(w->n);
    pthread_mutex_unlock(w->mu);
    tv_web_live_notify(w->live);
}

static void *writer(void *arg)
{
    tv_web_gate *g = arg;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->head && !g->stopping)
            pthread_cond_wait(&g->work, &g->mu);
        if (!g->head) break;
        item *list = g->head;
        g->head = g->tail = NULL;
        pthread_mutex_unlock(&g->mu);
        record(g, list);
        for (item *it = list, *next; it; it = next) {
            next = it->next; /* it is its thread's once posted */
            it->done = 1;
            sem_post(&it->ready);
        }
        pthread_mutex_lock(&g->mu);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

int tv_web_gate_new(tv_web *w, tv_web_gate **out)
{
    tv_web_gate *g = calloc(1, sizeof *g);
    if (!g) return TV_ENOMEM;
    g->w = w;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->work, NULL);
    if (pthread_create(&g->th, NULL, writer, g)) {
        tv_web_gate_free(g);
        return TV_EIO;
    }
    g->started = 1;
    *out = g;
    return TV_OK;
}

void tv_web_gate_free(tv_web_gate *g)
{
    if (!g) return;
    if (g->started) {
        pthread_mutex_lock(&g->mu);
        g->stopping = 1;
        pthread_cond_broadcast(&g->work);
        pthread_mutex_unlock(&g->mu);
        pthread_join(g->th, NULL);
    }
    if (g->ready) {
        pthread_mutex_lock(g->w->mu);
        tv_gate_group_free(&g->g);
        pthread_mutex_unlock(g->w->mu);
    }
    pthread_cond_destroy(&g->work);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

/* Queues it and waits for its answer. */
static void submit(tv_web_gate *g, item *it)
{
    if (sem_init(&it->ready, 0, 0) != 0) {
        it->err = TV_EIO; /* not queued: answered as a scan not recorded */
        return;
    }
    pthread_mutex_lock(&g->mu);
    if (g->tail)
        g->tail->next = it;
    else
        g->head = it;
    g->tail = it;
    pthread_cond_signal(&g->work);
    pthread_mutex_unlock(&g->mu);
    while (sem_wait(&it->ready) != 0)
        TV_ASSERT(errno == EINTR);
    TV_ASSERT(it->done);
    sem_destroy(&it->ready);
}

/* The answer in the guard's words: the large text, its colour and the reason. */
static void answer_words(const item *it, const char **text, const char **color, const char **reason)
{
    const tv_gate_answer *a = &it->ans;
    const char *mark = tv_gate_mark_text(&a->mark);
    *reason = a->why ? a->why : mark ? mark : "";
    switch (a->res) {
    case TV_GATE_OK:
    case TV_GATE_ALREADY:
        if (tv_gate_stop(&a->mark)) {
            *text = TV_GATE_STOP_WORD;
            *color = "red";
        } else if (a->res == TV_GATE_OK) {
            *text = it->out ? "ĐÃ RA" : "ĐÃ VÀO";
            *color = "green";
        } else {
            *text = it->out ? "ĐÃ RA RỒI" : "ĐÃ VÀO RỒI";
            *color = "amber";
        }
        break;
    case TV_GATE_SUSPENDED:
        *text = "ĐIỂM ĐÃ BỊ TẠM DỪNG";
        *color = "red";
        break;
    case TV_GATE_UNREADABLE:
        *text = "KHÔNG ĐỌC ĐƯỢC MÃ";
        *color = "grey";
        break;
    default:
        *text = "CHƯA GHI ĐƯỢC";
        *color = "grey";
        break;
    }
}

static void write_answer(tv_web *w, const item *it, tv_resp *r)
{
    const tv_gate_answer *a = &it->ans;
    const char *text, *color, *reason;
    answer_words(it, &text, &color, &reason);
    int recorded = a->res == TV_GATE_OK || a->res == TV_GATE_ALREADY;
    FILE *f = tv_resp_json(r, 200);
    if (!f) return;
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "result");
    tv_json_string(&j, tv_gate_result_name(a->res));
    tv_json_key(&j, "color");
    tv_json_string(&j, color);
    tv_json_key(&j, "text");
    tv_json_string(&j, text);
    tv_json_key(&j, "reason");
    tv_json_string(&j, reason);
    tv_json_key(&j, "direction");
    tv_json_string(&j, it->out ? "out" : "in");
    tv_json_key(&j, "stop");
    tv_json_bool(&j, recorded && tv_gate_stop(&a->mark));
    if (recorded) {
        char when[TV_TIME_STR_BYTES], id[TV_EVENT_ID_STR_MAX];
        tv_time_format_vn(when, sizeof when, a->at_ms);
        tv_event_id_format(id, w->n->id.pk, a->seq);
        tv_json_key(&j, "person");
        tv_json_string(&j, a->masked);
        tv_json_key(&j, "at");
        tv_json_string(&j, when);
        tv_json_key(&j, "id");
        tv_json_string(&j, id);
        tv_json_key(&j, "status");
        if (a->mark.status >= 0)
            tv_json_string(&j, crdt_case_status_name((uint32_t)a->mark.status));
        else
            tv_json_null(&j);
        tv_json_key(&j, "warning");
        if (a->warning)
            tv_json_string(&j, tv_card_why_vi(a->warning));
        else
            tv_json_null(&j);
    }
    tv_json_object_end(&j);
    tv_json_line_end(&j);
}

/* Fills it from the request; returns 0, or 1 after answering r with the refusal. */
static int read_scan(const tv_req *q, item *it, tv_resp *r)
{
    const char *venue = tv_req_arg(q, "venue"), *line = tv_req_arg(q, "line");
    const char *dir = tv_req_arg(q, "direction"), *at = tv_req_arg(q, "at");
    tv_why why = {0};
    if (!venue || !venue[0] || strlen(venue) > TV_WEB_VENUE_TEXT_MAX) {
        tv_resp_error(r, 400, "venue_invalid", "give the venue: its id or short code.",
                      "Chưa chọn địa điểm.");
        return 1;
    }
    snprintf(it->venue, sizeof it->venue, "%s", venue);
    int rc = dir && dir[0] ? tv_scan_direction_parse(dir, &it->out, &why) : 0;
    size_t len = line ? strlen(line) : 0;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    if (rc == 0 && len == 0) {
        tv_resp_error(r, 400, "line_empty", "nothing was scanned.", "Chưa quét được gì.");
        return 1;
    }
    it->at_ms = tv_wall_ms();
    if (rc == 0 && at && at[0]) {
        /* a time given (a scan recorded later): the CLI's checks, the person left to the gate */
        tv_card card;
        int64_t at_ms = 0;
        rc = tv_scan_input_parse(line, at, NULL, it->at_ms, &card, &at_ms, &why);
        sodium_memzero(&card, sizeof card);
        if (rc && strncmp(why.code, "time", 4) != 0) rc = 0;
        if (rc == 0 && at_ms) it->at_ms = at_ms;
    }
    if (rc) {
        tv_resp_why(r, rc, &why);
        return 1;
    }
    it->too_long = len > TV_CARD_TEXT_MAX;
    it->len = it->too_long ? TV_CARD_TEXT_MAX : len;
    memcpy(it->line, line, it->len);
    it->line[it->len] = '\0';
    return 0;
}

int tv_web_scan(tv_web *w, tv_req *q, tv_resp *r)
{
    item *it = calloc(1, sizeof *it);
    if (!it) {
        tv_resp_fail(r, TV_ENOMEM, "cannot record the scan", "chưa ghi được lượt quét");
        return 0;
    }
    it->q = q;
    if (read_scan(q, it, r) == 0) {
        submit(w->gate, it);
        if (it->gone) /* as the dispatcher answers a request without a session */
            tv_resp_error(r, 401, "login_required", "log in first.", "Hãy đăng nhập trước.");
        else if (it->err && it->why.code[0])
            tv_resp_why(r, it->err, &it->why);
        else if (it->err)
            tv_resp_fail(r, it->err, "cannot record the scan", "chưa ghi được lượt quét");
        else
            write_answer(w, it, r);
    }
    sodium_memzero(it, sizeof *it);
    free(it);
    return 0;
}
