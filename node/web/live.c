/* The web console's live list (live.h). Each open list has its own thread (the
 * connection's) waiting here; a commit of the console's gate wakes them all at once, and
 * each reads what its venue gained in the node's own log since it last looked. */
#include "node/web/live.h"

#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/logic/follow.h"
#include "node/render/scan.h"
#include "node/web/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tv_web_live {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t gen; /* commits seen */
    int stopping;
};

/* One open list. */
typedef struct stream {
    tv_web *w;
    uint8_t venue[TV_VENUE_ID_BYTES];
    uint64_t seq; /* the last seq of the node's own log read */
    uint64_t gen;
    tv_opened opened; /* the commune's sealed statuses, for the colours */
    char *out;        /* what waits to be sent */
    size_t len, off;
    FILE *f;      /* collects events while reading */
    store_txn *t; /* the snapshot being read */
    int64_t quiet_ms;
} stream;

int tv_web_live_new(tv_web *w, tv_web_live **out)
{
    (void)w;
    tv_web_live *l = calloc(1, sizeof *l);
    if (!l) return TV_ENOMEM;
    pthread_mutex_init(&l->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->cv, &ca);
    pthread_condattr_destroy(&ca);
    *out = l;
    return TV_OK;
}

void tv_web_live_notify(tv_web_live *l)
{
    pthread_mutex_lock(&l->mu);
    l->gen++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void tv_web_live_stop(tv_web_live *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->mu);
    l->stopping = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void tv_web_live_free(tv_web_live *l)
{
    if (!l) return;
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* tv_follow_origin: one event for a scan at the stream's venue. */
static int send_scan(void *arg, const uint8_t *origin, uint64_t seq, const crdt_scan *s)
{
    stream *st = arg;
    if (memcmp(s->venue, st->venue, TV_VENUE_ID_BYTES) != 0) return 0;
    tv_scan_row row;
    int rc = tv_scan_row_fill(st->w->n, st->t, &st->opened, origin, seq, s, &row);
    if (rc) return rc;
    fprintf(st->f, "event: scan\nid: %s\ndata: ", row.id);
    if ((rc = tv_render_scan_json(st->f, &row))) return rc;
    fputs("\n\n", st->f);
    return 0;
}

/* Reads what the node's own log gained since st->seq into st->out (events). Holds the
 * node's mutex while it reads. Returns 0 or an error. */
static int catch_up(stream *st)
{
    tv_web *w = st->w;
    pthread_mutex_lock(w->mu);
    int rc = store_read_begin(w->n->st, &st->t);
    if (rc == 0) {
        store_frontier fr = {0};
        rc = store_frontier_get(st->t, w->n->id.pk, &fr);
        if (rc == TV_ENOTFOUND) rc = 0;
        if (rc == 0 && fr.seq > st->seq) {
            char *buf = NULL;
            size_t len = 0;
            st->f = open_memstream(&buf, &len);
            if (!st->f) {
                rc = TV_ENOMEM;
            } else {
                rc = tv_follow_origin(st->t, w->n->id.pk, &st->seq, fr.seq, send_scan, st);
                if (fclose(st->f) && rc == 0) rc = TV_ENOMEM;
                st->f = NULL;
                free(st->out);
                st->out = buf;
                st->len = len;
                st->off = 0;
            }
        }
        store_read_end(st->t);
        st->t = NULL;
    }
    pthread_mutex_unlock(w->mu);
    return rc;
}

/* Waits until a commit is announced, ms pass or the server stops. Returns 1 when it
 * stops. */
static int wait_change(stream *st, int64_t ms)
{
    tv_web_live *l = st->w->live;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&l->mu);
    int rc = 0;
    while (l->gen == st->gen && !l->stopping && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&l->cv, &l->mu, &until);
    st->gen = l->gen;
    int stopping = l->stopping;
    pthread_mutex_unlock(&l->mu);
    return stopping;
}

/* The stream's producer (http.h): blocks until it has something to send. */
static long produce(void *arg, char *buf, size_t max)
{
    stream *st = arg;
    for (;;) {
        if (st->off < st->len) {
            size_t n = st->len - st->off < max ? st->len - st->off : max;
            memcpy(buf, st->out + st->off, n);
            st->off += n;
            st->quiet_ms = 0;
            return (long)n;
        }
        if (st->quiet_ms >= TV_LIVE_BEAT_MS) {
            static const char beat[] = ": vẫn kết nối\n\n";
            st->quiet_ms = 0;
            if (max < sizeof beat - 1) return -1;
            memcpy(buf, beat, sizeof beat - 1);
            return (long)(sizeof beat - 1);
        }
        if (wait_change(st, TV_LIVE_POLL_MS)) return -1;
        st->quiet_ms += TV_LIVE_POLL_MS; /* about: a commit wakes it early */
        if (catch_up(st)) return -1;
    }
}

/* The seq of this node's own log a reconnecting browser last received (its Last-Event-ID,
 * an event id of the list: tv_event_id_format), when it is one and the gap since is at
 * most TV_LIVE_RESUME_MAX events; else from (what is recorded from now on). */
static uint64_t resume_seq(const tv_web *w, const char *last, uint64_t from)
{
    char own[TV_EVENT_ID_STR_MAX];
    tv_event_id_format(own, w->n->id.pk, 0);
    if (!last || strncmp(last, own, TV_EVENT_ID_ORIGIN_HEX + 1) != 0) return from;
    const char *digits = last + TV_EVENT_ID_ORIGIN_HEX + 1;
    if (*digits < '0' || *digits > '9') return from;
    errno = 0;
    char *end;
    unsigned long long seq = strtoull(digits, &end, 10);
    if (errno || *end || seq > from || from - seq > TV_LIVE_RESUME_MAX) return from;
    return (uint64_t)seq;
}

static void stream_free(void *arg)
{
    stream *st = arg;
    pthread_mutex_lock(st->w->mu);
    tv_opened_release(&st->opened);
    pthread_mutex_unlock(st->w->mu);
    free(st->out);
    free(st);
}

int tv_web_live_open(tv_web *w, tv_req *q, tv_resp *r)
{
    stream *st = calloc(1, sizeof *st);
    if (!st) {
        tv_resp_fail(r, TV_ENOMEM, "cannot follow the venue", "không theo dõi được địa điểm");
        return 0;
    }
    st->w = w;
    store_venue v;
    store_frontier fr = {0};
    store_txn *t;
    pthread_mutex_lock(w->mu);
    int refused = tv_api_venue_get(w, q, &v, r), rc = 0;
    if (!refused && (rc = store_read_begin(w->n->st, &t)) == 0) {
        rc = store_frontier_get(t, w->n->id.pk, &fr);
        if (rc == TV_ENOTFOUND) rc = 0;
        store_read_end(t);
    }
    pthread_mutex_unlock(w->mu);
    if (refused || rc) {
        free(st);
        if (rc) tv_resp_fail(r, rc, "cannot follow the venue", "không theo dõi được địa điểm");
        return 0;
    }
    memcpy(st->venue, v.id, TV_VENUE_ID_BYTES);
    /* what is recorded from now on, or since what a reconnecting browser last received */
    st->seq = resume_seq(w, q->last_event_id, fr.seq);
    pthread_mutex_lock(&w->live->mu);
    st->gen = w->live->gen;
    pthread_mutex_unlock(&w->live->mu);
    /* the first bytes tell the browser the list is open */
    st->out = strdup(": đang theo dõi\n\n");
    st->len = st->out ? strlen(st->out) : 0;
    r->status = 200;
    r->kind = TV_RESP_STREAM;
    snprintf(r->type, sizeof r->type, "text/event-stream; charset=utf-8");
    r->stream = produce;
    r->stream_arg = st;
    r->stream_free = stream_free;
    return 0;
}
