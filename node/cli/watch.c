/* `truyvet watch`: follows check-ins and check-outs as they are recorded.
 *
 * The venue owner's live page, in a terminal. Read-only: it takes no writer lock, so it
 * runs beside `serve` or `station` on the same node. It remembers, per origin, the last
 * seq it has shown; when the store changes (inotify on the store directory, with a poll
 * every second as a fallback for file systems that do not report changes) it reads what
 * each origin's frontier gained, in log order, and prints the scans among it. Scans that
 * arrive from peers (a district watching its communes) are shown as they are applied.
 *
 * A repeat scan -- the same person at the same venue in the same direction as their
 * previous scan, within the window (5 minutes) of the run's first -- is one check-in in
 * the views, so it is not shown unless --all is given; then it is marked. The rule is the
 * station's and the views' own (tv_scan_repeat): a check-out in between makes a return a
 * new check-in, at the gate and here alike.
 *
 * Each line shows the person's colour as the gate does (tv_gate_mark_text), and a person
 * the gate stops (F0, F1, under a hold) is marked DỪNG. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/downflow.h"
#include "node/render/json.h"
#include "node/logic/follow.h"
#include "node/logic/record.h"
#include "node/render/scan.h"
#include "node/format/timefmt.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static int cmd_watch(tv_cli *cli, int argc, char **argv);

static const tv_opt watch_opts[] = {
    {.id = TV_O_VENUE, .help = "only this venue (its id, or a unique prefix of at least 4 digits)"},
    {"from", 'f', "TIME",
     "first show the scans held that were made at or after TIME: 'today',\n"
     "a date (2021-10-06, from its midnight, Vietnam time) or a time with\n"
     "its offset (2021-10-06T08:00:00+07:00); without it, only new scans",
     0, 0},
    {"all", 'a', NULL,
     "also show repeat scans (the same person, venue and direction as their\n"
     "previous scan, within 5 minutes of the first of the run), marked\n"
     "'lặp lại'; the views count them as one check-in and they are hidden\n"
     "by default. The station answers such a scan ĐÃ VÀO RỒI",
     0, 0},
    {.id = TV_O_JSON,
     .help = "JSON Lines: id, venue, venue_name, direction (in|out), at, person\n"
             "(masked), method, repeat, status (F0, F1, F2 or null), stop"},
    {0}};

const tv_command tv_command_watch = {
    .name = "watch",
    .summary = "follow check-ins and check-outs as they are recorded",
    .usage = "watch [--venue ID] [--from TIME] [--all] [--json]",
    .about = "Follow check-ins and check-outs as they are recorded on this node (by `station`,\n"
             "`scan` or `import`) or arrive from other nodes, one line each, with the person\n"
             "masked (Nguyễn V** A · 09******78):\n"
             "\n"
             "  2021-10-06 08:00:00  vào  Nguyễn V** A · 09******78  Chợ Vĩnh Hải\n"
             "\n"
             "vào is a check-in, ra a check-out; a person the node knows as a case shows the\n"
             "gate's colour at the end (VÀNG — F2: ...), marked DỪNG: when the gate stops them\n"
             "(F0, F1, under a hold). It only reads: run it beside the station or the server.\n"
             "It runs until Ctrl-C or SIGTERM, then exits 0.\n",
    .opts = watch_opts,
    .more = "A line 'watching ...' on standard error says when the following has begun.\n",
    .fn = cmd_watch,
    .col = 11,
};

#define POLL_MS 1000

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    stop_flag = sig; /* which one: a SIGINT is passed on (tv_cli_signal_exit) */
}

/* SIGTERM and SIGINT end the watch (stop_flag) after the catch-up under way. */
static void catch_signals(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

typedef struct seen {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t seq; /* the last seq read of this origin */
} seen;

typedef struct watcher {
    tv_node n;
    int json, all, has_venue;
    uint8_t venue[TV_VENUE_ID_BYTES];
    int64_t from_ms; /* scans made earlier are not shown */
    seen *seen;
    size_t nseen, cap;
    store_txn *t;     /* the snapshot being read */
    tv_opened opened; /* this commune's sealed statuses, for the gate's colours */
    int err;
} watcher;

/* The entry of origin, added (with seq 0) when absent; NULL when memory ran out. Kept in
 * origin order, as store_frontier_foreach reports origins. */
static seen *seen_of(watcher *w, const uint8_t *origin)
{
    size_t lo = 0, hi = w->nseen;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(w->seen[mid].origin, origin, TV_NODE_ID_BYTES);
        if (c == 0) return &w->seen[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (w->nseen == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        seen *s = realloc(w->seen, cap * sizeof *s);
        if (!s) return NULL;
        w->seen = s;
        w->cap = cap;
    }
    memmove(&w->seen[lo + 1], &w->seen[lo], (w->nseen - lo) * sizeof *w->seen);
    w->nseen++;
    memcpy(w->seen[lo].origin, origin, TV_NODE_ID_BYTES);
    w->seen[lo].seq = 0;
    return &w->seen[lo];
}

/* tv_follow_origin: prints a scan, when the watch shows it. */
static int show_scan(void *arg, const uint8_t *origin, uint64_t seq, const crdt_scan *s)
{
    watcher *w = arg;
    if (w->has_venue && memcmp(s->venue, w->venue, TV_VENUE_ID_BYTES) != 0) return 0;
    if (s->at_ms < w->from_ms) return 0;
    tv_scan_row row;
    int rc = tv_scan_row_fill(&w->n, w->t, &w->opened, origin, seq, s, &row);
    if (rc) return rc;
    if (row.repeat && !w->all) return 0;
    if (w->json) {
        if ((rc = tv_render_scan_json(stdout, &row))) return rc;
        putchar('\n');
    } else if ((rc = tv_render_scan_text(stdout, &row))) {
        return rc;
    }
    return fflush(stdout) == 0 ? 0 : TV_EIO;
}

/* store_frontier_foreach: shows what the origin gained (with `skip`, only takes note). */
typedef struct catch_up {
    watcher *w;
    int skip;
} catch_up;

static int frontier_one(const uint8_t *origin, const store_frontier *f, void *arg)
{
    catch_up *c = arg;
    seen *e = seen_of(c->w, origin);
    if (!e) return TV_ENOMEM;
    if (c->skip) {
        e->seq = f->seq;
        return 0;
    }
    return f->seq > e->seq ? tv_follow_origin(c->w->t, e->origin, &e->seq, f->seq, show_scan, c->w)
                           : 0;
}

static int catch_up_now(watcher *w, int skip)
{
    int rc = store_read_begin(w->n.st, &w->t);
    if (rc) return rc;
    catch_up c = {w, skip};
    rc = store_frontier_foreach(w->t, frontier_one, &c);
    store_read_end(w->t);
    w->t = NULL;
    return rc;
}

/* The inotify descriptor watching dir for commits, or -1 (the watch then polls). */
static int watch_dir(const char *dir)
{
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in >= 0 && inotify_add_watch(in, dir, IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
        close(in);
        in = -1;
    }
    return in;
}

/* Shows what the store (in dir) gains, woken by the inotify descriptor in (or every
 * POLL_MS without one), until a signal stops it. Returns 0 or an error. */
static int watch_loop(watcher *w, int in, const char *dir)
{
    while (!stop_flag) {
        struct pollfd p = {.fd = in, .events = POLLIN};
        int got = poll(&p, in >= 0 ? 1 : 0, POLL_MS);
        if (got < 0 && errno != EINTR) return TV_EIO;
        if (stop_flag) break;
        if (got > 0) {
            char ev[4096];
            while (read(in, ev, sizeof ev) > 0) {
            } /* drain: one catch-up covers every change so far */
        }
        /* a purge may have rewritten the store's file (store_compact): read the new one */
        int rc = store_refresh(w->n.st, dir);
        if (rc < 0) return rc;
        if ((rc = catch_up_now(w, 0))) return rc;
    }
    return 0;
}

static int cmd_watch(tv_cli *cli, int argc, char **argv)
{
    const char *venue = NULL, *from = NULL;
    int json = 0, all = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 'a':
            all = 1;
            break;
        }
    }
    if (c < 0) return ta.status;
    venue = ta.o.venue;
    json = ta.o.json;
    if (optind < argc) return tv_cli_usage("watch", "unexpected argument '%s'.", argv[optind]);
    watcher *w = calloc(1, sizeof *w);
    if (!w) return tv_cli_fail(cli, TV_ENOMEM, "cannot watch");
    w->json = json;
    w->all = all;
    w->from_ms = INT64_MIN;
    if (from && tv_cli_when(from, &w->from_ms)) {
        free(w);
        return tv_cli_usage("watch",
                            "--from takes 'today', a date (2021-10-06) or a time with its "
                            "offset (2021-10-06T08:00:00+07:00), not '%s'.",
                            from);
    }
    int rc = tv_cli_open(cli, &w->n, 0);
    if (rc) {
        free(w);
        return rc;
    }
    store_venue v;
    if (venue) {
        if ((rc = tv_cli_venue_find(&w->n, venue, &v))) goto out;
        memcpy(w->venue, v.id, TV_VENUE_ID_BYTES);
        w->has_venue = 1;
    }

    /* the watch is set before the first read, so no commit falls between the two */
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof dir, "%s/store", w->n.dir) >= (int)sizeof dir) {
        rc = TV_EINVAL;
        goto out;
    }
    int in = watch_dir(dir);
    catch_signals();
    if ((rc = catch_up_now(w, from == NULL))) goto fail;
    if (venue)
        fprintf(stderr, "watching %s (%s); Ctrl-C stops.\n", tv_text_esc(v.name), venue);
    else
        fprintf(stderr, "watching every venue of node %s; Ctrl-C stops.\n", tv_text_esc(w->n.name));

    rc = watch_loop(w, in, dir);
fail:
    if (in >= 0) close(in);
    if (rc) rc = tv_cli_fail(cli, rc, "the watch stopped");
out:
    tv_opened_release(&w->opened);
    tv_node_close(&w->n);
    free(w->seen);
    free(w);
    tv_cli_signal_exit(stop_flag);
    return rc;
}
