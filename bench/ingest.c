/* Durable-ingest benchmark: check-ins recorded through a node's full commit path, compared
 * with raw LMDB appends of the same batch bytes, and the latency of single-scan acks. */
#include "crdt/error.h"
#include "node/logic/node.h"
#include "store/store.h"

#define BENCH_NAME "ingest"
#define BENCH_PROGRESS_BREAK "\n" /* a failure leaves the progress line in view */
#include "bench_util.h"

#include <getopt.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT "22333"
#define DAYS 30
#define DAY_MS 86400000LL
#define START_MS 1633021200000LL    /* 2021-10-01T00:00:00+07:00 */
#define OPEN_MS (6 * 3600 * 1000LL) /* scans fall between 06:00 and 22:00 local time */
#define OPEN_SPAN_MS (16 * 3600 * 1000LL)
#define COMMIT_MAX ((uint64_t)TV_NODE_PENDING_BATCHES_MAX * CRDT_BATCH_EVENTS_MAX)
#define MASKED_MAX 16
#define RAW_DONE 1 /* store_batches_foreach stop value: every scan batch was appended */
#define RAW_EMDB (-1000)

enum { SUB_NODE, SUB_RAW, SUB_DIRS }; /* sub-directories of the working directory */

static const char usage[] =
    "Usage: ingest [--scans N] [--commit N] [--venues N] [--persons N] [--acks N]\n"
    "              [--dir PATH] [--seed N]\n"
    "\n"
    "Durable-ingest benchmark. Creates a commune node (unit " UNIT "), registers venues,\n"
    "then records check-ins in time order over 30 days through the node's own commit path\n"
    "(seal, verify, chain, indexes, aggregates, fsync), committing every --commit events.\n"
    "The same batch bytes are then appended to a bare LMDB environment with the same events\n"
    "per commit, and single scans are committed one at a time to time acknowledgements.\n"
    "Only adding and committing are timed, not generating the data.\n"
    "\n"
    "  --scans N    check-ins to record (default 1000000)\n"
    "  --commit N   events per write transaction, 1..65536 (default 8192)\n"
    "  --venues N   venues registered first (default 2000)\n"
    "  --persons N  distinct people scanning (default 200000)\n"
    "  --acks N     single-scan commits to time (default 2000)\n"
    "  --dir PATH   working directory (created if absent; must not hold node/ or raw/);\n"
    "               default: a new directory under $TMPDIR or /tmp. What the benchmark\n"
    "               creates there is removed at the end.\n"
    "  --seed N     seed of the data generator (default 1)\n"
    "  --help       show this text\n"
    "\n"
    "The last line of output holds the figures as key=value pairs. Exit status: 0, 1 when a\n"
    "step fails or the store does not hold what was recorded, 2 for a usage error.\n";

typedef struct opts {
    uint64_t scans, commit, venues, persons, acks, seed;
    const char *dir;
} opts;

/* --- options ------------------------------------------------------------------------ */

static void parse_opts(int argc, char **argv, opts *o)
{
    static const struct option longopts[] = {{"scans", required_argument, 0, 's'},
                                             {"commit", required_argument, 0, 'c'},
                                             {"venues", required_argument, 0, 'v'},
                                             {"persons", required_argument, 0, 'p'},
                                             {"acks", required_argument, 0, 'a'},
                                             {"dir", required_argument, 0, 'd'},
                                             {"seed", required_argument, 0, 'S'},
                                             {"help", no_argument, 0, 'h'},
                                             {0, 0, 0, 0}};
    *o = (opts){.scans = 1000000,
                .commit = 8 * CRDT_BATCH_EVENTS_MAX,
                .venues = 2000,
                .persons = 200000,
                .acks = 2000,
                .seed = 1};
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            o->scans = bench_parse_u64("scans", optarg, 1, 1000000000);
            break;
        case 'c':
            o->commit = bench_parse_u64("commit", optarg, 1, COMMIT_MAX);
            break;
        case 'v':
            o->venues = bench_parse_u64("venues", optarg, 1, 1000000);
            break;
        case 'p':
            o->persons = bench_parse_u64("persons", optarg, 1, 1000000000);
            break;
        case 'a':
            o->acks = bench_parse_u64("acks", optarg, 1, 1000000);
            break;
        case 'd':
            if (optarg[0] == '\0') bench_usage_error("--dir takes a directory path.");
            o->dir = optarg;
            break;
        case 'S':
            o->seed = bench_parse_u64("seed", optarg, 0, UINT64_MAX);
            break;
        default:
            bench_opt_other(c, argv, usage);
        }
    }
    if (optind < argc) bench_usage_error("unexpected argument '%s'.", argv[optind]);
}

/* --- data --------------------------------------------------------------------------- */

static uint64_t below(uint64_t *s, uint64_t n)
{
    return bench_splitmix64(s) % n;
}

typedef struct gen {
    uint64_t rng, person_seed;
    uint64_t persons, nvenues;
    uint8_t (*venues)[TV_VENUE_ID_BYTES];
    uint64_t in, out; /* directions generated by gen_scan */
} gen;

/* One scan's fields and the bytes its text fields point to. */
typedef struct scan_slot {
    crdt_scan s;
    char masked[MASKED_MAX];
} scan_slot;

static const char *const devices[] = {"gate-1", "gate-2", "counter", "tablet-a"};

/* Person i: a pseudonym that looks random and a masked phone (85%) or CCCD number, both
 * derived from the seed so that nothing per person is kept in memory. */
static void person_make(const gen *g, uint64_t i, uint8_t ref[TV_PERSON_REF_BYTES],
                        char masked[MASKED_MAX])
{
    static const char *const prefix[] = {"03", "05", "07", "08", "09"};
    uint64_t s = g->person_seed ^ (i * 0xD1B54A32D192ED03ULL);
    uint64_t a = bench_splitmix64(&s), b = bench_splitmix64(&s), c = bench_splitmix64(&s);
    for (int k = 0; k < 8; k++) {
        ref[k] = (uint8_t)(a >> (8 * k));
        ref[8 + k] = (uint8_t)(b >> (8 * k));
    }
    if (c % 100 < 85)
        snprintf(masked, MASKED_MAX, "%s******%02u", prefix[(c >> 8) % 5],
                 (unsigned)((c >> 16) % 100));
    else
        snprintf(masked, MASKED_MAX, "**********%02u", (unsigned)((c >> 16) % 100));
}

/* The wall time of scan i of n: days in order, each day's scans spread over opening
 * hours, so the run is time-ordered like real arrivals. */
static int64_t scan_time(gen *g, uint64_t i, uint64_t n)
{
    uint64_t per_day = (n + DAYS - 1) / DAYS;
    uint64_t day = i / per_day, j = i % per_day;
    uint64_t slot = (uint64_t)OPEN_SPAN_MS / per_day;
    int64_t t = START_MS + (int64_t)day * DAY_MS + OPEN_MS +
                (int64_t)(j * (uint64_t)OPEN_SPAN_MS / per_day);
    return t + (slot ? (int64_t)below(&g->rng, slot) : 0);
}

static void gen_scan(gen *g, int64_t at_ms, scan_slot *out)
{
    crdt_scan *s = &out->s;
    memset(s, 0, sizeof *s);
    uint64_t v = below(&g->rng, g->nvenues);
    memcpy(s->venue, g->venues[v], TV_VENUE_ID_BYTES);
    s->unit = (crdt_text){UNIT, sizeof UNIT - 1};
    person_make(g, below(&g->rng, g->persons), s->person, out->masked);
    s->masked = (crdt_text){out->masked, (uint32_t)strlen(out->masked)};
    s->direction = below(&g->rng, 100) < 58 ? CRDT_DIR_IN : CRDT_DIR_OUT;
    if (s->direction == CRDT_DIR_IN)
        g->in++;
    else
        g->out++;
    uint64_t m = below(&g->rng, 100);
    s->method = m < 70   ? CRDT_METHOD_SELF
                : m < 85 ? CRDT_METHOD_STAFF
                : m < 95 ? CRDT_METHOD_CCCD
                : m < 98 ? CRDT_METHOD_BHYT
                         : CRDT_METHOD_PAPER;
    s->at_ms = at_ms;
    if (s->method != CRDT_METHOD_SELF) {
        const char *d = devices[v % (sizeof devices / sizeof devices[0])];
        s->device = (crdt_text){d, (uint32_t)strlen(d)};
    }
}

static void gen_venue(gen *g, uint64_t i, crdt_venue_upsert *v, char *name, size_t name_cap,
                      char *village, size_t village_cap, char *phone, size_t phone_cap)
{
    static const struct {
        const char *prefix;
        uint32_t category;
    } kinds[] = {{"Quán cà phê", 5}, {"Nhà hàng", 4},   {"Tạp hóa", 19},   {"Trường", 14},
                 {"Chợ", 18},        {"Trạm y tế", 12}, {"Karaoke", 8},    {"Nhà văn hóa", 11},
                 {"Siêu thị", 17},   {"Nhà nghỉ", 24},  {"Phòng tập", 10}, {"Chùa", 23}};
    uint64_t k = below(&g->rng, sizeof kinds / sizeof kinds[0]);
    memset(v, 0, sizeof *v);
    uint64_t id = bench_splitmix64(&g->rng);
    for (int b = 0; b < TV_VENUE_ID_BYTES; b++)
        v->venue[b] = (uint8_t)(id >> (8 * b));
    memcpy(g->venues[i], v->venue, TV_VENUE_ID_BYTES);
    snprintf(name, name_cap, "%s số %" PRIu64, kinds[k].prefix, i + 1);
    snprintf(village, village_cap, "Thôn %u", (unsigned)(1 + below(&g->rng, 12)));
    snprintf(phone, phone_cap, "09%08u", (unsigned)below(&g->rng, 100000000));
    v->fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY |
                CRDT_VENUE_F_VILLAGE | CRDT_VENUE_F_OWNER_PHONE;
    v->unit = (crdt_text){UNIT, sizeof UNIT - 1};
    v->name = (crdt_text){name, (uint32_t)strlen(name)};
    v->village = (crdt_text){village, (uint32_t)strlen(village)};
    v->owner_phone = (crdt_text){phone, (uint32_t)strlen(phone)};
    v->category = kinds[k].category;
}

/* --- the full path ------------------------------------------------------------------ */

static void commit_or_die(tv_node *n)
{
    uint64_t first_seq;
    int rc = tv_node_commit(n, &first_seq);
    if (rc) bench_die("commit failed: %s", tv_strerror(rc));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile p (1..100) of n sorted samples. */
static double percentile(const double *v, size_t n, unsigned p)
{
    size_t rank = (p * n + 99) / 100;
    return v[rank ? rank - 1 : 0];
}

typedef struct expect {
    uint64_t venues, scans, in, out, batches;
    int64_t first_ms, last_ms;
} expect;

/* Checks that the store holds exactly what was recorded: counters, frontier and the
 * commune's daily aggregates. */
static void check_store(tv_node *n, const expect *e)
{
    store_txn *t;
    store_counts c;
    store_frontier f;
    int rc = store_read_begin(n->st, &t);
    if (rc) bench_die("read transaction: %s", tv_strerror(rc));
    if ((rc = store_counts_get(t, &c)) || (rc = store_frontier_get(t, n->id.pk, &f)))
        bench_die("reading counters: %s", tv_strerror(rc));
    uint64_t events = e->venues + e->scans, in = 0, out = 0;
    for (int32_t d = crdt_day_vn(e->first_ms); d <= crdt_day_vn(e->last_ms); d++) {
        store_agg a;
        if ((rc = store_agg_get(t, UNIT, d, &a)))
            bench_die("reading aggregates: %s", tv_strerror(rc));
        in += a.scans_in;
        out += a.scans_out;
    }
    store_read_end(t);
    if (c.events != events || c.by_type[CRDT_EV_SCAN] != e->scans ||
        c.by_type[CRDT_EV_VENUE_UPSERT] != e->venues || c.batches != e->batches || c.origins != 1 ||
        f.seq != events || in != e->in || out != e->out)
        bench_die(
            "the store does not hold what was recorded: events %" PRIu64 " (expected %" PRIu64
            "), scans %" PRIu64 " (%" PRIu64 "), venues %" PRIu64 " (%" PRIu64 "), batches %" PRIu64
            " (%" PRIu64 "), origins %" PRIu64 " (1), seq %" PRIu64 " (%" PRIu64
            "), aggregated in/out %" PRIu64 "/%" PRIu64 " (%" PRIu64 "/%" PRIu64 ")",
            c.events, events, c.by_type[CRDT_EV_SCAN], e->scans, c.by_type[CRDT_EV_VENUE_UPSERT],
            e->venues, c.batches, e->batches, c.origins, f.seq, events, in, out, e->in, e->out);
}

/* --- the raw baseline --------------------------------------------------------------- */

typedef struct raw_ctx {
    MDB_env *env;
    MDB_dbi dbi;
    uint64_t skip;                  /* batches before the first scan batch */
    const uint32_t *commit_batches; /* batches of each scan commit, in order */
    size_t commits, ci;
    uint8_t *buf; /* the current commit's batches, back to back */
    size_t len, cap;
    size_t *lens; /* their lengths */
    uint32_t nb;
    uint64_t key, batches, bytes;
    double secs;
    int mdb_rc;
} raw_ctx;

static int raw_flush(raw_ctx *r)
{
    MDB_txn *txn;
    double t0 = bench_now_s();
    int rc = mdb_txn_begin(r->env, NULL, 0, &txn);
    if (rc) goto fail;
    size_t off = 0;
    for (uint32_t i = 0; i < r->nb; i++) {
        uint8_t k[8];
        uint64_t key = ++r->key;
        for (int b = 7; b >= 0; b--, key >>= 8)
            k[b] = (uint8_t)key;
        MDB_val kv = {sizeof k, k}, vv = {r->lens[i], r->buf + off};
        if ((rc = mdb_put(txn, r->dbi, &kv, &vv, MDB_APPEND))) {
            mdb_txn_abort(txn);
            goto fail;
        }
        off += r->lens[i];
    }
    if ((rc = mdb_txn_commit(txn))) goto fail;
    r->secs += bench_now_s() - t0;
    r->len = 0;
    r->nb = 0;
    return 0;
fail:
    r->mdb_rc = rc;
    return RAW_EMDB;
}

static int raw_batch(const uint8_t *buf, size_t len, void *arg)
{
    raw_ctx *r = arg;
    if (r->skip) {
        r->skip--;
        return 0;
    }
    if (r->ci == r->commits) return RAW_DONE;
    if (r->len + len > r->cap) {
        size_t cap = r->cap ? r->cap : (size_t)1 << 20;
        while (cap < r->len + len)
            cap *= 2;
        uint8_t *p = realloc(r->buf, cap);
        if (!p) return TV_ENOMEM;
        r->buf = p;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, buf, len);
    r->len += len;
    r->lens[r->nb++] = len;
    r->batches++;
    r->bytes += len;
    if (r->nb < r->commit_batches[r->ci]) return 0;
    r->ci++;
    if (bench_interrupted) return TV_EINVAL;
    bench_progress("raw", r->ci, r->commits);
    return raw_flush(r);
}

static void raw_open(raw_ctx *r, size_t map_bytes)
{
    MDB_txn *txn;
    int rc = mdb_env_create(&r->env);
    if (rc == 0) rc = mdb_env_set_mapsize(r->env, map_bytes);
    if (rc == 0) rc = mdb_env_open(r->env, bench_sub_dir[SUB_RAW], 0, 0600);
    if (rc == 0) rc = mdb_txn_begin(r->env, NULL, 0, &txn);
    if (rc == 0 && (rc = mdb_dbi_open(txn, NULL, 0, &r->dbi)) != 0) mdb_txn_abort(txn);
    if (rc == 0) rc = mdb_txn_commit(txn);
    if (rc) bench_die("raw environment: %s", mdb_strerror(rc));
}

/* --- main --------------------------------------------------------------------------- */

/* The working directory and, in it, the node's directory and the raw environment's. */
static void make_dirs(const opts *o)
{
    static const char *const names[SUB_DIRS] = {"node", "raw"};
    bench_work_dir_make(o->dir);
    if (bench_sub_dirs_set(names, SUB_DIRS) >= 0) {
        bench_cleanup();
        bench_usage_error("%s already holds node/ or raw/; give an empty directory.",
                          bench_work_dir);
    }
    bench_sub_dir_make(SUB_RAW);
    bench_sub_made[SUB_NODE] = 1; /* tv_node_create makes it; remove whatever it leaves */
}

int main(int argc, char **argv)
{
    opts o;
    parse_opts(argc, argv, &o);
    bench_start();
    make_dirs(&o);

    gen g = {.rng = o.seed,
             .person_seed = o.seed ^ 0x7065727330ULL,
             .persons = o.persons,
             .nvenues = o.venues};
    bench_splitmix64(&g.rng);
    size_t commits = (size_t)((o.scans + o.commit - 1) / o.commit);
    scan_slot *slots = malloc((size_t)o.commit * sizeof *slots);
    uint32_t *commit_batches = malloc(commits * sizeof *commit_batches);
    double *commit_ms = malloc(commits * sizeof *commit_ms);
    double *ack_ms = malloc((size_t)o.acks * sizeof *ack_ms);
    g.venues = malloc((size_t)o.venues * sizeof *g.venues);
    if (!slots || !commit_batches || !commit_ms || !ack_ms || !g.venues) bench_die("out of memory");

    uint8_t node_id[TV_NODE_ID_BYTES];
    int rc = tv_node_create(bench_sub_dir[SUB_NODE], TV_ROLE_COMMUNE, UNIT, "Xã Bench", BENCH_PASS,
                            node_id);
    if (rc) bench_die("creating the node in %s: %s", bench_sub_dir[SUB_NODE], tv_strerror(rc));
    tv_node n;
    if ((rc = tv_node_open(&n, bench_sub_dir[SUB_NODE], TV_NODE_WRITE)))
        bench_die("opening the node: %s", tv_strerror(rc));
    printf("ingest: dir=%s fs=%s scans=%" PRIu64 " commit=%" PRIu64 " venues=%" PRIu64
           " persons=%" PRIu64 " acks=%" PRIu64 " seed=%" PRIu64 "\n",
           bench_work_dir, bench_fs_name(bench_work_dir), o.scans, o.commit, o.venues, o.persons,
           o.acks, o.seed);
    fflush(stdout);

    /* Venues first, committed o.commit at a time. */
    expect e = {0};
    double t0 = bench_now_s();
    for (uint64_t i = 0; i < o.venues; i++) {
        crdt_venue_upsert v;
        char name[64], village[32], phone[16];
        gen_venue(&g, i, &v, name, sizeof name, village, sizeof village, phone, sizeof phone);
        if ((rc = tv_node_add_venue(&n, &v, NULL)))
            bench_die("adding a venue: %s", tv_strerror(rc));
        if (tv_node_pending(&n) == o.commit || i + 1 == o.venues) {
            e.batches += n.pending_batches;
            commit_or_die(&n);
            bench_check_interrupt();
        }
    }
    double venues_s = bench_now_s() - t0;
    e.venues = o.venues;
    uint64_t venue_batches = e.batches;

    /* Scans: generate one commit's worth (untimed), then add and commit them (timed). */
    double add_s = 0, commit_s = 0;
    int64_t at_ms = START_MS;
    e.first_ms = INT64_MAX;
    for (uint64_t done = 0, ci = 0; done < o.scans; ci++) {
        uint64_t k = o.scans - done < o.commit ? o.scans - done : o.commit;
        for (uint64_t j = 0; j < k; j++) {
            at_ms = scan_time(&g, done + j, o.scans);
            gen_scan(&g, at_ms, &slots[j]);
        }
        if (e.first_ms == INT64_MAX) e.first_ms = slots[0].s.at_ms;
        double a = bench_now_s();
        for (uint64_t j = 0; j < k; j++)
            if ((rc = tv_node_add_scan(&n, &slots[j].s, NULL)))
                bench_die("adding a scan: %s", tv_strerror(rc));
        double b = bench_now_s();
        commit_batches[ci] = n.pending_batches;
        commit_or_die(&n);
        double c = bench_now_s();
        add_s += b - a;
        commit_s += c - b;
        commit_ms[ci] = (c - b) * 1e3;
        e.batches += commit_batches[ci];
        done += k;
        bench_progress("scans", done, o.scans);
        bench_check_interrupt();
    }
    bench_progress_end();
    double full_s = add_s + commit_s;
    e.scans = o.scans;
    e.in = g.in;
    e.out = g.out;
    e.last_ms = at_ms;
    check_store(&n, &e);
    store_size sz;
    if ((rc = store_size_get(n.st, &sz))) bench_die("store size: %s", tv_strerror(rc));

    /* Acknowledgement latency: one scan, one commit, each timed until it is durable. */
    for (uint64_t i = 0; i < o.acks; i++) {
        at_ms += 1000 + (int64_t)below(&g.rng, 60000);
        gen_scan(&g, at_ms, &slots[0]);
        double a = bench_now_s();
        if ((rc = tv_node_add_scan(&n, &slots[0].s, NULL)))
            bench_die("adding a scan: %s", tv_strerror(rc));
        commit_or_die(&n);
        ack_ms[i] = (bench_now_s() - a) * 1e3;
        bench_progress("acks", i + 1, o.acks);
        bench_check_interrupt();
    }
    bench_progress_end();
    e.scans += o.acks;
    e.in = g.in;
    e.out = g.out;
    e.batches += o.acks;
    e.last_ms = at_ms;
    check_store(&n, &e);

    /* Raw baseline: the scan batches just stored, appended to a bare environment with the
     * same batches per commit. */
    raw_ctx r = {.skip = venue_batches, .commit_batches = commit_batches, .commits = commits};
    r.lens = malloc(TV_NODE_PENDING_BATCHES_MAX * sizeof *r.lens);
    if (!r.lens) bench_die("out of memory");
    raw_open(&r, (size_t)sz.file_bytes + ((size_t)256 << 20));
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t))) bench_die("read transaction: %s", tv_strerror(rc));
    rc = store_batches_foreach(t, raw_batch, &r);
    store_read_end(t);
    bench_progress_end();
    bench_check_interrupt();
    if (rc == RAW_EMDB) bench_die("raw append: %s", mdb_strerror(r.mdb_rc));
    if (rc != RAW_DONE && rc != 0) bench_die("reading batches: %s", tv_strerror(rc));
    if (r.ci != commits || r.nb != 0)
        bench_die("raw baseline appended %zu of %zu commits", r.ci, commits);
    MDB_envinfo ri;
    MDB_stat rs;
    mdb_env_info(r.env, &ri);
    mdb_env_stat(r.env, &rs);
    uint64_t raw_used = (uint64_t)(ri.me_last_pgno + 1) * rs.ms_psize;
    mdb_env_close(r.env);
    tv_node_close(&n);

    /* Figures. */
    qsort(commit_ms, commits, sizeof *commit_ms, cmp_double);
    qsort(ack_ms, (size_t)o.acks, sizeof *ack_ms, cmp_double);
    double scans_per_s = (double)o.scans / full_s;
    double raw_per_s = (double)o.scans / r.secs;
    double ack_p50 = percentile(ack_ms, (size_t)o.acks, 50),
           ack_p99 = percentile(ack_ms, (size_t)o.acks, 99);
    double bytes_per_scan = (double)sz.file_bytes / (double)o.scans;
    double batch_bytes_per_event = (double)r.bytes / (double)o.scans;

    printf("venues: %" PRIu64 " in %" PRIu64 " batches, %.3f s\n", o.venues, venue_batches,
           venues_s);
    printf("full: %" PRIu64 " scans in %zu commits (%" PRIu64 " batches), %.3f s: add %.3f s, "
           "commit %.3f s; %.0f scans/s\n",
           o.scans, commits, r.batches, full_s, add_s, commit_s, scans_per_s);
    printf("full commit ms: p50 %.2f p99 %.2f max %.2f\n", percentile(commit_ms, commits, 50),
           percentile(commit_ms, commits, 99), commit_ms[commits - 1]);
    printf("raw: %" PRIu64 " events in %zu commits of the same %" PRIu64 " batches, %.3f s; "
           "%.0f events/s; full path is %.1fx slower\n",
           o.scans, commits, r.batches, r.secs, raw_per_s, raw_per_s / scans_per_s);
    printf("ack: %" PRIu64 " single-scan commits: p50 %.3f ms p90 %.3f ms p99 %.3f ms max %.3f "
           "ms\n",
           o.acks, ack_p50, percentile(ack_ms, (size_t)o.acks, 90), ack_p99, ack_ms[o.acks - 1]);
    printf("size: store file %" PRIu64 " bytes (used %" PRIu64 ", map %" PRIu64
           "), %.1f bytes/scan; batches %.1f bytes/event; raw env used %" PRIu64 " bytes\n",
           sz.file_bytes, sz.used_bytes, sz.map_bytes, bytes_per_scan, batch_bytes_per_event,
           raw_used);
    printf("check: store holds %" PRIu64 " venues, %" PRIu64 " scans (%" PRIu64 " in, %" PRIu64
           " out), %" PRIu64 " batches: ok\n",
           e.venues, e.scans, e.in, e.out, e.batches);
    printf("bench=ingest scans=%" PRIu64 " commit_events=%" PRIu64 " scans_per_s=%.0f "
           "raw_appends_per_s=%.0f ratio=%.2f ack_p50_ms=%.3f ack_p99_ms=%.3f "
           "bytes_per_scan=%.1f batch_bytes_per_event=%.1f venues=%" PRIu64 " persons=%" PRIu64
           " acks=%" PRIu64 " seed=%" PRIu64 "\n",
           o.scans, o.commit, scans_per_s, raw_per_s, raw_per_s / scans_per_s, ack_p50, ack_p99,
           bytes_per_scan, batch_bytes_per_event, o.venues, o.persons, o.acks, o.seed);

    free(r.buf);
    free(r.lens);
    free(slots);
    free(commit_batches);
    free(commit_ms);
    free(ack_ms);
    free(g.venues);
    bench_cleanup();
    return 0;
}
