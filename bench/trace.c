/* Tracing benchmark: a synthetic province store (people's visits to venues grouped by
 * village, over a month) recorded through a node's own commit path, then F1 and F2 traced
 * from random cases on a warm read snapshot, each trace timed.
 *
 * One commune node registers every venue and records every scan. The tracing engine reads
 * the store's scan indexes (by person, by venue), which hold the same keys whichever node
 * authored the scans, so the figures are those of a province store holding the same scans
 * from many communes. */
#include "crdt/error.h"
#include "node/logic/node.h"
#include "node/format/timefmt.h"
#include "node/logic/trace.h"
#include "store/store.h"

#define BENCH_NAME "trace"
#define BENCH_PROGRESS_BREAK "\n" /* a failure leaves the progress line in view */
#include "bench_util.h"

#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#define UNIT "22333"
#define DAY_MS INT64_C(86400000)
#define MIN_MS INT64_C(60000)
#define START_MS INT64_C(1633021200000) /* 2021-10-01T00:00:00+07:00 */
#define OPEN_MS (6 * 60 * MIN_MS)       /* check-ins from 06:00 local time */
#define CLOSE_MS (22 * 60 * MIN_MS)     /* to 22:00, when every venue closes */
#define CLOSES_2200 (22 * 60 + 1)       /* 22:00 in venue_upsert's encoding */
#define STAY_MIN_MS (15 * MIN_MS)       /* a visit lasts 15 to 180 minutes, */
#define STAY_MAX_MS (180 * MIN_MS)      /* short ones more often */
#define GAP_MS (10 * MIN_MS)            /* at least this between one person's visits */
#define VILLAGE_VENUES 50               /* venues per village, about */
#define HOME_PCT 85                     /* visits in the person's own village */
#define NEAR_PCT 10                     /* in a neighbouring one; the rest anywhere */
#define NO_CHECKOUT_PCT 10              /* visits whose check-out is never scanned */
#define PLACE_TRIES 8                   /* times tried for one visit before another person */
#define PLACE_FAILS_MAX 1000000         /* visits in a row that found no free time */
#define SCANS_PER_PERSON_DAY_MAX 6      /* --scans at the most persons x days x this */
#define WINDOW_DAYS 14                  /* the case's infectious window, ending at the data's end */
#define MIN_OVERLAP_MS (15 * MIN_MS)    /* the default rule of `truyvet trace` */
#define WARMUP_TRACES 5                 /* F2 traces run before timing */
#define CASE_TRIES 1000                 /* draws per case before giving up on finding visits */
#define F1_TARGET_MS 20.0               /* the targets, p50, warm cache */
#define F2_TARGET_MS 300.0
#define STORE_BYTES_PER_SCAN 300 /* free space wanted: bench/ingest measures ~276 */
#define COMMIT_EVENTS ((uint64_t)TV_NODE_PENDING_BATCHES_MAX * CRDT_BATCH_EVENTS_MAX)
#define MASKED_MAX BENCH_MASKED_MAX
#define PARAMS_FORMAT 1 /* bump when the generator changes: older stores are not reused */
#define PARAMS_MAX BENCH_PARAMS_MAX
#define PARAMS_FILE_NAME "trace.params" /* the parameters of a complete store */

enum { SUB_NODE = BENCH_KEPT_STORE }; /* the node in the working directory */

static const char usage[] =
    "Usage: trace [--scans N] [--persons N] [--venues N] [--days N] [--cases N]\n"
    "             [--dir PATH] [--keep] [--reuse] [--seed N]\n"
    "\n"
    "Tracing benchmark. Generates a synthetic province store, then times F1 and F2\n"
    "tracing (node/logic/trace.h) for random cases.\n"
    "\n"
    "The store: venues grouped into villages of about 50, the first ones of each the\n"
    "busiest (market, school, health station...: visits by rank follow a Zipf law);\n"
    "each person lives in a village and visits it mostly (85%), a neighbouring village\n"
    "sometimes (10%), anywhere else rarely, some people more often than others. A visit\n"
    "is a check-in between 06:00 and 22:00 (UTC+7) and a check-out 15 to 180 minutes\n"
    "later, short visits more often; one in ten check-outs is never scanned, so tracing\n"
    "infers those ends. A person's visits of one day do not overlap. Every scan is\n"
    "recorded through the node's own commit path (sign, verify, chain, indexes,\n"
    "aggregates, fsync'd commits of 65,536 events). One commune node (unit " UNIT ")\n"
    "holds all venues and scans: tracing reads the store's scan indexes, which are the\n"
    "same whichever node authored the scans.\n"
    "\n"
    "Timing: on one read snapshot, after reading the store file once (warm cache) and 5\n"
    "untimed traces, each case (a random person with visits in the window) is traced at\n"
    "depth 1 (F1) and at depth 2 (F1 and F2), each timed alone, over a 14-day window\n"
    "ending at the end of the data, with the default rule of `truyvet trace` (shared\n"
    "time at least 15 minutes, margin 0). Generating the data is not timed with them.\n"
    "\n"
    "  --scans N    scans to record (default 10000000)\n"
    "  --persons N  people (default 200000)\n"
    "  --venues N   venues (default 5000)\n"
    "  --days N     days the scans spread over, 1..365 (default 30)\n"
    "  --cases N    cases to trace (default 200)\n"
    "  --dir PATH   working directory (created if absent); default: a new directory\n"
    "               under $TMPDIR or /tmp. The store (node/, about 300 bytes per scan)\n"
    "               and trace.params are removed at the end unless --keep.\n"
    "  --keep       keep the generated store and its trace.params\n"
    "  --reuse      if --dir holds a store generated with the same --scans, --persons,\n"
    "               --venues, --days and --seed, trace on it without generating; else\n"
    "               generate one there and keep it (needs --dir; implies --keep)\n"
    "  --seed N     seed of the data generator (default 1)\n"
    "  --help       show this text\n"
    "\n"
    "The last line of output holds the figures as key=value pairs (times in ms; f1_mean\n"
    "and f2_mean: contacts found per case; gen_s: the generation's seconds, measured in\n"
    "this run; with a reused store gen_s_reused instead: the seconds the run that\n"
    "generated it measured, read back from trace.params, not a figure of this run).\n"
    "Exit status: 0, 1 when a step fails or the store does not hold what was\n"
    "recorded, 2 for a usage error.\n";

typedef struct opts {
    uint64_t scans, persons, venues, days, cases, seed;
    const char *dir;
    int keep, reuse;
} opts;

/* --- options ------------------------------------------------------------------------ */

static void parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){
        .scans = 10000000, .persons = 200000, .venues = 5000, .days = 30, .cases = 200, .seed = 1};
    const bench_opt table[] = {{"scans", BENCH_OPT_U64, &o->scans, 1, 1000000000},
                               {"persons", BENCH_OPT_U64, &o->persons, 1, 10000000},
                               {"venues", BENCH_OPT_U64, &o->venues, 1, 1000000},
                               {"days", BENCH_OPT_U64, &o->days, 1, 365},
                               {"cases", BENCH_OPT_U64, &o->cases, 1, 100000},
                               BENCH_OPT_DIR(&o->dir),
                               BENCH_OPT_KEEP(&o->keep),
                               BENCH_OPT_REUSE(&o->reuse),
                               BENCH_OPT_SEED(&o->seed),
                               {0}};
    bench_parse_opts(argc, argv, table, usage);
    bench_reuse_check(o->dir, o->reuse, &o->keep);
    uint64_t max = o->persons * o->days * SCANS_PER_PERSON_DAY_MAX;
    if (o->scans > max)
        bench_usage_error("--scans %" PRIu64 " is more than %d a person a day: at the most %" PRIu64
                          " for %" PRIu64 " persons over %" PRIu64 " days.",
                          o->scans, SCANS_PER_PERSON_DAY_MAX, max, o->persons, o->days);
}

/* --- the world: villages, venues, people -------------------------------------------- */

typedef struct world {
    uint64_t rng, person_seed;
    uint64_t persons, nvenues, nvillages;
    uint8_t (*venues)[TV_VENUE_ID_BYTES];
    double *zipf; /* cumulative weights of ranks 0..village_max - 1 in a village */
    uint64_t village_max;
} world;

/* Village v holds venues first..first + size - 1. */
static uint64_t village_first(const world *w, uint64_t v)
{
    return v * w->nvenues / w->nvillages;
}

static uint64_t village_size(const world *w, uint64_t v)
{
    return village_first(w, v + 1) - village_first(w, v);
}

static uint64_t person_village(const world *w, uint64_t p)
{
    return bench_mix(p, 0x686F6D65ULL) % w->nvillages;
}

/* How often person p goes out: 1, 2 or 3 (the mean is 2). */
static uint64_t person_activity(uint64_t p)
{
    return 1 + bench_mix(p, 0x61637476ULL) % 3;
}

/* A person drawn in proportion to their activity. */
static uint64_t pick_person(world *w)
{
    for (;;) {
        uint64_t p = fx_splitmix64_below(&w->rng, w->persons);
        if (fx_splitmix64_below(&w->rng, 3) < person_activity(p)) return p;
    }
}

/* The venue of a visit by person p: a village (home, a neighbour, anywhere), then a venue
 * in it by its rank's Zipf weight. */
static uint64_t pick_venue(world *w, uint64_t p)
{
    uint64_t home = person_village(w, p), v = home, r = fx_splitmix64_below(&w->rng, 100);
    if (r >= HOME_PCT + NEAR_PCT)
        v = fx_splitmix64_below(&w->rng, w->nvillages);
    else if (r >= HOME_PCT)
        v = (home + (fx_splitmix64_below(&w->rng, 2) ? 1 : w->nvillages - 1)) % w->nvillages;
    uint64_t size = village_size(w, v), lo = 0, hi = size - 1;
    double u = fx_splitmix64_unit(&w->rng) * w->zipf[size - 1];
    while (lo < hi) { /* the first rank whose cumulative weight passes u */
        uint64_t mid = lo + (hi - lo) / 2;
        if (w->zipf[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return village_first(w, v) + lo;
}

/* Venue i, rank `rank` in village `village`: the busiest ones are the places everyone
 * goes, the others shops, cafés and the like. */
static void gen_venue(world *w, uint64_t i, uint64_t village, uint64_t rank, crdt_venue_upsert *v,
                      char *name, size_t name_cap, char *vname, size_t vname_cap, char *phone,
                      size_t phone_cap)
{
    typedef struct kind {
        const char *prefix;
        uint32_t category;
    } kind;
    static const kind busiest[] = {{"Chợ", 18},      {"Trường", 14}, {"Trạm y tế", 12},
                                   {"Siêu thị", 17}, {"Chùa", 23},   {"Nhà văn hóa", 11}};
    static const kind others[] = {{"Quán cà phê", 5}, {"Nhà hàng", 4},   {"Tạp hóa", 19},
                                  {"Karaoke", 8},     {"Phòng tập", 10}, {"Nhà nghỉ", 24}};
    const size_t nbusiest = sizeof busiest / sizeof busiest[0];
    const kind *k = rank < nbusiest
                        ? &busiest[rank]
                        : &others[fx_splitmix64_below(&w->rng, sizeof others / sizeof others[0])];
    memset(v, 0, sizeof *v);
    uint64_t id = fx_splitmix64(&w->rng), id2 = fx_splitmix64(&w->rng);
    for (int b = 0; b < TV_VENUE_ID_BYTES; b++)
        v->venue[b] = (uint8_t)((b < 8 ? id : id2) >> (8 * (b % 8)));
    memcpy(w->venues[i], v->venue, TV_VENUE_ID_BYTES);
    snprintf(name, name_cap, "%s số %" PRIu64, k->prefix, i + 1);
    snprintf(vname, vname_cap, "Thôn %" PRIu64, village + 1);
    snprintf(phone, phone_cap, "09%08u", (unsigned)fx_splitmix64_below(&w->rng, 100000000));
    v->fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY |
                CRDT_VENUE_F_VILLAGE | CRDT_VENUE_F_OWNER_PHONE | CRDT_VENUE_F_CLOSES;
    v->unit = (crdt_text){UNIT, sizeof UNIT - 1};
    v->name = (crdt_text){name, (uint32_t)strlen(name)};
    v->village = (crdt_text){vname, (uint32_t)strlen(vname)};
    v->owner_phone = (crdt_text){phone, (uint32_t)strlen(phone)};
    v->category = k->category;
    v->closes = CLOSES_2200;
}

/* --- generation --------------------------------------------------------------------- */

/* One visit of one day; a person's visits of the day are chained by next. */
typedef struct visit {
    int64_t in_ms, out_ms; /* out_ms: when the person left, scanned or not */
    uint32_t person, venue;
    uint32_t next; /* index + 1 of the person's next visit of the day; 0 ends */
} visit;

/* One scan of the day, sorted by time before it is recorded. */
typedef struct day_scan {
    int64_t at_ms;
    uint32_t person, venue;
    uint8_t out;
} day_scan;

static int day_scan_cmp(const void *pa, const void *pb)
{
    const day_scan *a = pa, *b = pb;
    if (a->at_ms != b->at_ms) return a->at_ms < b->at_ms ? -1 : 1;
    if (a->person != b->person) return a->person < b->person ? -1 : 1;
    if (a->out != b->out) return a->out < b->out ? -1 : 1;
    return (a->venue > b->venue) - (a->venue < b->venue);
}

/* Does [in, out) keep GAP_MS away from every visit in the chain starting at head? */
static int time_free(const visit *vs, uint32_t head, int64_t in, int64_t out)
{
    for (uint32_t i = head; i; i = vs[i - 1].next)
        if (in < vs[i - 1].out_ms + GAP_MS && vs[i - 1].in_ms < out + GAP_MS) return 0;
    return 1;
}

typedef struct gen_stats {
    uint64_t visits, no_checkout, commits;
} gen_stats;

static const char *const devices[] = {"gate-1", "gate-2", "counter", "tablet-a"};

static void commit_or_die(tv_node *n, gen_stats *gs)
{
    uint64_t first_seq;
    int rc = tv_node_commit(n, &first_seq);
    if (rc) bench_die("commit failed: %s", tv_strerror(rc));
    gs->commits++;
}

/* Records one scan, committing whenever COMMIT_EVENTS are pending. */
static void record_scan(tv_node *n, world *w, const day_scan *d, gen_stats *gs)
{
    char masked[MASKED_MAX];
    crdt_scan s;
    memset(&s, 0, sizeof s);
    memcpy(s.venue, w->venues[d->venue], TV_VENUE_ID_BYTES);
    s.unit = (crdt_text){UNIT, sizeof UNIT - 1};
    bench_person_make(w->person_seed, d->person, s.person, masked);
    s.masked = (crdt_text){masked, (uint32_t)strlen(masked)};
    s.direction = d->out ? CRDT_DIR_OUT : CRDT_DIR_IN;
    uint64_t m = fx_splitmix64_below(&w->rng, 100);
    s.method = m < 70   ? CRDT_METHOD_SELF
               : m < 85 ? CRDT_METHOD_STAFF
               : m < 95 ? CRDT_METHOD_CCCD
               : m < 98 ? CRDT_METHOD_BHYT
                        : CRDT_METHOD_PAPER;
    s.at_ms = d->at_ms;
    if (s.method != CRDT_METHOD_SELF) {
        const char *dev = devices[d->venue % (sizeof devices / sizeof devices[0])];
        s.device = (crdt_text){dev, (uint32_t)strlen(dev)};
    }
    int rc = tv_node_add_scan(n, &s, NULL);
    if (rc) bench_die("adding a scan: %s", tv_strerror(rc));
    if (tv_node_pending(n) == COMMIT_EVENTS) commit_or_die(n, gs);
}

/* Generates and records the venues, then every day's visits as scans in time order. */
static void generate(tv_node *n, world *w, const opts *o, gen_stats *gs)
{
    int rc;
    for (uint64_t v = 0; v < w->nvillages; v++)
        for (uint64_t r = 0, first = village_first(w, v); r < village_size(w, v); r++) {
            crdt_venue_upsert u;
            char name[64], vname[32], phone[16];
            gen_venue(w, first + r, v, r, &u, name, sizeof name, vname, sizeof vname, phone,
                      sizeof phone);
            if ((rc = tv_node_add_venue(n, &u, NULL)))
                bench_die("adding a venue: %s", tv_strerror(rc));
            if (tv_node_pending(n) == COMMIT_EVENTS) commit_or_die(n, gs);
        }
    if (tv_node_pending(n)) commit_or_die(n, gs);

    uint64_t day_max = (o->scans + o->days - 1) / o->days, done = 0;
    visit *vs = malloc((size_t)day_max * sizeof *vs);
    day_scan *ds = malloc((size_t)day_max * sizeof *ds);
    uint32_t *head = malloc((size_t)o->persons * sizeof *head);
    if (!vs || !ds || !head) bench_die("out of memory");
    for (uint64_t d = 0; d < o->days; d++) {
        uint64_t budget = o->scans * (d + 1) / o->days - o->scans * d / o->days;
        int64_t day0 = START_MS + (int64_t)d * DAY_MS;
        uint64_t nvis = 0, nscans = 0, fails = 0;
        memset(head, 0, (size_t)o->persons * sizeof *head);
        while (nscans < budget) {
            uint64_t p = pick_person(w), venue = pick_venue(w, p);
            int64_t in = 0, out = 0;
            int placed = 0;
            for (int k = 0; k < PLACE_TRIES && !placed; k++) {
                in = OPEN_MS + (int64_t)fx_splitmix64_below(
                                   &w->rng, (uint64_t)(CLOSE_MS - OPEN_MS - STAY_MIN_MS));
                double u = fx_splitmix64_unit(&w->rng);
                out = in + STAY_MIN_MS + (int64_t)((double)(STAY_MAX_MS - STAY_MIN_MS) * u * u);
                if (out > CLOSE_MS) out = CLOSE_MS;
                placed = time_free(vs, head[p], day0 + in, day0 + out);
            }
            if (!placed) {
                if (++fails == PLACE_FAILS_MAX)
                    bench_die("no free time left for visits on day %" PRIu64
                              ": give fewer scans or more persons",
                              d + 1);
                continue;
            }
            fails = 0;
            int checkout =
                nscans + 2 <= budget && fx_splitmix64_below(&w->rng, 100) >= NO_CHECKOUT_PCT;
            vs[nvis] = (visit){.in_ms = day0 + in,
                               .out_ms = day0 + out,
                               .person = (uint32_t)p,
                               .venue = (uint32_t)venue,
                               .next = head[p]};
            head[p] = (uint32_t)++nvis;
            ds[nscans++] = (day_scan){day0 + in, (uint32_t)p, (uint32_t)venue, 0};
            if (checkout)
                ds[nscans++] = (day_scan){day0 + out, (uint32_t)p, (uint32_t)venue, 1};
            else
                gs->no_checkout++;
        }
        gs->visits += nvis;
        qsort(ds, (size_t)nscans, sizeof *ds, day_scan_cmp);
        for (uint64_t i = 0; i < nscans; i++) {
            record_scan(n, w, &ds[i], gs);
            if ((done + i + 1) % 16384 == 0) {
                bench_progress("scans", done + i + 1, o->scans);
                bench_check_interrupt();
            }
        }
        done += nscans;
    }
    if (tv_node_pending(n)) commit_or_die(n, gs);
    bench_progress_end();
    free(vs);
    free(ds);
    free(head);
}

/* Checks that the store holds the venues and scans: by the counters, and the origin's
 * frontier. */
static void check_store(tv_node *n, const opts *o)
{
    store_txn *t;
    store_counts c;
    int rc = store_read_begin(n->st, &t);
    if (rc) bench_die("read transaction: %s", tv_strerror(rc));
    rc = store_counts_get(t, &c);
    store_read_end(t);
    if (rc) bench_die("reading counters: %s", tv_strerror(rc));
    if (c.events != o->venues + o->scans || c.by_type[CRDT_EV_SCAN] != o->scans ||
        c.by_type[CRDT_EV_VENUE_UPSERT] != o->venues)
        bench_die("the store does not hold what was recorded: events %" PRIu64 " (expected %" PRIu64
                  "), scans %" PRIu64 " (%" PRIu64 "), venues %" PRIu64 " (%" PRIu64 ")",
                  c.events, o->venues + o->scans, c.by_type[CRDT_EV_SCAN], o->scans,
                  c.by_type[CRDT_EV_VENUE_UPSERT], o->venues);
}

/* --- the working directory and trace.params ----------------------------------------- */

/* The first line of trace.params: what the store was generated from. */
static void params_line(const opts *o, char *out, size_t cap)
{
    snprintf(out, cap,
             "bench=trace format=%d scans=%" PRIu64 " persons=%" PRIu64 " venues=%" PRIu64
             " days=%" PRIu64 " seed=%" PRIu64 "\n",
             PARAMS_FORMAT, o->scans, o->persons, o->venues, o->days, o->seed);
}

/* Writes trace.params once the store is complete. */
static void params_write(const opts *o, double gen_s)
{
    char line[PARAMS_MAX];
    params_line(o, line, sizeof line);
    bench_params_write(line, gen_s);
}

/* The working directory; returns 1 when it holds a store to reuse (its generation's
 * seconds in *gen_s), 0 when one is to be generated (tv_node_create makes node/). */
static int make_dirs(const opts *o, double *gen_s)
{
    char want[PARAMS_MAX];
    params_line(o, want, sizeof want);
    return bench_kept_dirs(o->dir, "node", PARAMS_FILE_NAME, o->reuse, want, 0, gen_s);
}

/* Stops with a clear message when the file system cannot hold the store. */
static void check_space(const opts *o)
{
    struct statvfs sv;
    if (statvfs(bench_work_dir, &sv) != 0) return;
    double have = (double)sv.f_bavail * (double)sv.f_frsize;
    double need = (double)o->scans * STORE_BYTES_PER_SCAN + (double)((uint64_t)64 << 20);
    if (have < need)
        bench_die("%s has %.2f GB free; the store needs about %.2f GB (give fewer --scans or "
                  "another --dir)",
                  bench_work_dir, have / 1e9, need / 1e9);
}

/* Reads the store's data file once, so the page cache holds it. Returns the bytes read. */
static uint64_t warm_file(const char *node_dir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/store/data.mdb", node_dir);
    int fd = open(path, O_RDONLY);
    if (fd < 0) bench_die("cannot open %s: %s", path, strerror(errno));
    struct stat st;
    uint64_t size = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0, got = 0;
    size_t cap = (size_t)1 << 20;
    char *buf = malloc(cap);
    if (!buf) bench_die("out of memory");
    for (;;) {
        ssize_t r = read(fd, buf, cap);
        if (r < 0 && errno == EINTR) {
            bench_check_interrupt();
            continue;
        }
        if (r < 0) bench_die("reading %s: %s", path, strerror(errno));
        if (r == 0) break;
        got += (uint64_t)r;
        if (size && got % ((uint64_t)64 << 20) == 0)
            bench_progress("cache (MB)", got >> 20, size >> 20);
        bench_check_interrupt();
    }
    bench_progress_end();
    free(buf);
    close(fd);
    return got;
}

/* --- tracing ------------------------------------------------------------------------ */

static int any_scan(const store_scan_ref *s, void *arg)
{
    (void)s;
    (void)arg;
    return 1;
}

/* A random person with at least one scan in the window. */
static void pick_case(store_txn *t, world *w, uint64_t *rng, const tv_trace_opts *o,
                      uint8_t ref[TV_PERSON_REF_BYTES])
{
    char masked[MASKED_MAX];
    for (int k = 0; k < CASE_TRIES; k++) {
        bench_person_make(w->person_seed, fx_splitmix64_below(rng, w->persons), ref, masked);
        int rc = store_scans_by_person(t, ref, o->from_ms, o->to_ms, any_scan, NULL);
        if (rc == 1) return;
        if (rc) bench_die("reading a person's scans: %s", tv_strerror(rc));
    }
    bench_die("no person with scans in the window after %d draws", CASE_TRIES);
}

static void trace_or_die(store_txn *t, const uint8_t *ref, const tv_trace_opts *o,
                         tv_trace_result *r)
{
    int rc = tv_trace(t, ref, o, r);
    if (rc) bench_die("tracing a case: %s", tv_strerror(rc));
}

typedef struct trace_stats {
    double *f1_ms, *f2_ms;
    uint64_t f1_sum, f2_sum, f1_max, f2_max, visits_sum;
} trace_stats;

/* Traces o->cases random cases at depth 1 and at depth 2, timing each trace alone. */
static void run_cases(store_txn *t, world *w, const opts *o, const tv_trace_opts *base,
                      trace_stats *ts)
{
    uint64_t rng = o->seed ^ 0x6361736573ULL;
    fx_splitmix64(&rng);
    uint8_t ref[TV_PERSON_REF_BYTES];
    tv_trace_result r;
    tv_trace_opts o1 = *base, o2 = *base;
    o1.depth = 1;
    o2.depth = 2;
    for (int i = 0; i < WARMUP_TRACES; i++) {
        pick_case(t, w, &rng, base, ref);
        trace_or_die(t, ref, &o2, &r);
        tv_trace_free(&r);
        bench_progress("warm-up traces", (uint64_t)i + 1, WARMUP_TRACES);
        bench_check_interrupt();
    }
    bench_progress_end();
    for (uint64_t i = 0; i < o->cases; i++) {
        pick_case(t, w, &rng, base, ref);
        double a = bench_now_s();
        trace_or_die(t, ref, &o1, &r);
        ts->f1_ms[i] = (bench_now_s() - a) * 1e3;
        size_t nf1 = r.nf1;
        ts->f1_sum += nf1;
        ts->visits_sum += r.nvisits;
        if (nf1 > ts->f1_max) ts->f1_max = nf1;
        tv_trace_free(&r);
        a = bench_now_s();
        trace_or_die(t, ref, &o2, &r);
        ts->f2_ms[i] = (bench_now_s() - a) * 1e3;
        if (r.nf1 != nf1)
            bench_die("depth 1 found %zu F1 and depth 2 %zu for the same case", nf1, r.nf1);
        uint64_t nf2 = r.ncontacts - r.nf1;
        ts->f2_sum += nf2;
        if (nf2 > ts->f2_max) ts->f2_max = nf2;
        tv_trace_free(&r);
        bench_progress("cases", i + 1, o->cases);
        bench_check_interrupt();
    }
    bench_progress_end();
}

/* --- main --------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    opts o;
    parse_opts(argc, argv, &o);
    bench_start();
    double gen_s = 0;
    int reused = make_dirs(&o, &gen_s);

    world w = {.rng = o.seed,
               .person_seed = o.seed ^ 0x7065727330ULL,
               .persons = o.persons,
               .nvenues = o.venues,
               .nvillages = (o.venues + VILLAGE_VENUES / 2) / VILLAGE_VENUES};
    fx_splitmix64(&w.rng);
    if (w.nvillages == 0) w.nvillages = 1;
    w.village_max = (o.venues + w.nvillages - 1) / w.nvillages;
    w.venues = malloc((size_t)o.venues * sizeof *w.venues);
    w.zipf = malloc((size_t)w.village_max * sizeof *w.zipf);
    trace_stats ts = {.f1_ms = malloc((size_t)o.cases * sizeof(double)),
                      .f2_ms = malloc((size_t)o.cases * sizeof(double))};
    if (!w.venues || !w.zipf || !ts.f1_ms || !ts.f2_ms) bench_die("out of memory");
    for (uint64_t r = 0; r < w.village_max; r++)
        w.zipf[r] = (r ? w.zipf[r - 1] : 0) + 1.0 / (double)(r + 1);

    printf("trace: dir=%s fs=%s scans=%" PRIu64 " persons=%" PRIu64 " venues=%" PRIu64
           " villages=%" PRIu64 " days=%" PRIu64 " cases=%" PRIu64 " seed=%" PRIu64 "\n",
           bench_work_dir, bench_fs_name(bench_work_dir), o.scans, o.persons, o.venues, w.nvillages,
           o.days, o.cases, o.seed);
    fflush(stdout);

    tv_node n;
    int rc;
    if (reused) {
        if ((rc = tv_node_open(&n, bench_sub_dir[SUB_NODE], 0)) ||
            (!n.unlocked && (rc = tv_node_unlock(&n, BENCH_PASS_TEXT, strlen(BENCH_PASS_TEXT)))))
            bench_die("opening the node in %s: %s", bench_sub_dir[SUB_NODE], tv_strerror(rc));
        check_store(&n, &o);
        printf("reused: the store in %s (generated by an earlier run, which took %.1f s)\n",
               bench_sub_dir[SUB_NODE], gen_s);
    } else {
        check_space(&o);
        uint8_t node_id[TV_NODE_ID_BYTES];
        rc = tv_node_create(bench_sub_dir[SUB_NODE], TV_ROLE_COMMUNE, UNIT, "Xã Bench", BENCH_PASS,
                            node_id);
        if (rc) bench_die("creating the node in %s: %s", bench_sub_dir[SUB_NODE], tv_strerror(rc));
        if ((rc = tv_node_open(&n, bench_sub_dir[SUB_NODE], TV_NODE_WRITE)))
            bench_die("opening the node: %s", tv_strerror(rc));
        gen_stats gs = {0};
        double t0 = bench_now_s();
        generate(&n, &w, &o, &gs);
        gen_s = bench_now_s() - t0;
        check_store(&n, &o);
        params_write(&o, gen_s);
        printf("generated: %" PRIu64 " venues in %" PRIu64 " villages, %" PRIu64 " visits (%" PRIu64
               " without a check-out), %" PRIu64 " scans in %" PRIu64
               " commits, %.1f s (%.0f scans/s)\n",
               o.venues, w.nvillages, gs.visits, gs.no_checkout, o.scans, gs.commits, gen_s,
               (double)o.scans / gen_s);
        if (o.keep) { /* complete: kept from here on, whatever happens */
            memset(bench_sub_made, 0, sizeof bench_sub_made);
            bench_work_made = 0;
        }
    }
    store_size sz;
    if ((rc = store_size_get(n.st, &sz))) bench_die("store size: %s", tv_strerror(rc));
    printf("store: file %" PRIu64 " bytes (used %" PRIu64 "), %.1f bytes/scan\n", sz.file_bytes,
           sz.used_bytes, (double)sz.file_bytes / (double)o.scans);
    fflush(stdout);

    double c0 = bench_now_s();
    uint64_t cached = warm_file(bench_sub_dir[SUB_NODE]);
    printf("cache: read the store file, %" PRIu64 " bytes in %.1f s\n", cached, bench_now_s() - c0);

    tv_trace_opts base = {.to_ms = START_MS + (int64_t)o.days * DAY_MS,
                          .min_overlap_ms = MIN_OVERLAP_MS,
                          .margin_ms = 0};
    base.from_ms = base.to_ms - WINDOW_DAYS * DAY_MS;
    if (base.from_ms < START_MS) base.from_ms = START_MS;
    base.now_ms = base.to_ms;
    char from_s[TV_TIME_STR_BYTES], to_s[TV_TIME_STR_BYTES];
    tv_time_format_vn(from_s, sizeof from_s, base.from_ms);
    tv_time_format_vn(to_s, sizeof to_s, base.to_ms);
    printf("window: %s to %s (%" PRId64 " days), min overlap %" PRId64 " min, margin %" PRId64
           " min; %d warm-up traces\n",
           from_s, to_s, (base.to_ms - base.from_ms) / DAY_MS, base.min_overlap_ms / MIN_MS,
           base.margin_ms / MIN_MS, WARMUP_TRACES);
    fflush(stdout);

    store_txn *t;
    if ((rc = store_read_begin(n.st, &t))) bench_die("read transaction: %s", tv_strerror(rc));
    run_cases(t, &w, &o, &base, &ts);
    store_read_end(t);
    tv_node_close(&n);

    size_t nc = (size_t)o.cases;
    qsort(ts.f1_ms, nc, sizeof *ts.f1_ms, bench_cmp_double);
    qsort(ts.f2_ms, nc, sizeof *ts.f2_ms, bench_cmp_double);
    double f1_p50 = bench_percentile(ts.f1_ms, nc, 50), f1_p99 = bench_percentile(ts.f1_ms, nc, 99);
    double f2_p50 = bench_percentile(ts.f2_ms, nc, 50), f2_p99 = bench_percentile(ts.f2_ms, nc, 99);
    double f1_mean = (double)ts.f1_sum / (double)nc, f2_mean = (double)ts.f2_sum / (double)nc;
    printf("cases: %" PRIu64 ", %.1f visits each in the window on average\n", o.cases,
           (double)ts.visits_sum / (double)nc);
    printf("F1 (depth 1) ms: p50 %.2f p90 %.2f p99 %.2f max %.2f; F1 per case: mean %.1f max "
           "%" PRIu64 "\n",
           f1_p50, bench_percentile(ts.f1_ms, nc, 90), f1_p99, ts.f1_ms[nc - 1], f1_mean,
           ts.f1_max);
    printf("F2 (depth 2) ms: p50 %.2f p90 %.2f p99 %.2f max %.2f; F2 per case: mean %.1f max "
           "%" PRIu64 "\n",
           f2_p50, bench_percentile(ts.f2_ms, nc, 90), f2_p99, ts.f2_ms[nc - 1], f2_mean,
           ts.f2_max);
    printf("targets: F1 p50 <= %.0f ms: %s; F2 p50 <= %.0f ms: %s\n", F1_TARGET_MS,
           f1_p50 <= F1_TARGET_MS ? "met" : "missed", F2_TARGET_MS,
           f2_p50 <= F2_TARGET_MS ? "met" : "missed");
    if (o.keep)
        printf("kept: %s (trace it again with --dir %s --reuse)\n", bench_work_dir, bench_work_dir);
    printf("bench=trace scans=%" PRIu64 " persons=%" PRIu64 " venues=%" PRIu64 " days=%" PRIu64
           " cases=%" PRIu64 " f1_p50_ms=%.2f f1_p99_ms=%.2f f2_p50_ms=%.2f f2_p99_ms=%.2f "
           "f1_mean=%.1f f2_mean=%.1f %s=%.1f store_bytes=%" PRIu64 " seed=%" PRIu64 " reused=%d\n",
           o.scans, o.persons, o.venues, o.days, o.cases, f1_p50, f1_p99, f2_p50, f2_p99, f1_mean,
           f2_mean, reused ? "gen_s_reused" : "gen_s", gen_s, sz.file_bytes, o.seed, reused);

    free(ts.f1_ms);
    free(ts.f2_ms);
    free(w.venues);
    free(w.zipf);
    bench_cleanup();
    return 0;
}
