/* Province report benchmark: a province store holding the logs of every official commune
 * (3,321) over a year, each commune's daily batch applied through the store's apply path,
 * then the report of all of them for a week, and for the whole period, timed on a warm
 * read snapshot.
 *
 * The store is the province's: its root of trust is the province's key, and each commune's
 * node is certified by it, so every batch passes the same checks as one received in a sync
 * session (signature, chain, certificate, scope). No node process runs: identities,
 * certificates and batches are made here, as the simulator makes them. */
#include "crdt/batch.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/ids.h"
#include "node/logic/report.h"
#include "node/format/timefmt.h"
#include "node/logic/units.h"
#include "store/store.h"

#define BENCH_NAME "report"
#define BENCH_PROGRESS_BREAK "\n" /* a failure leaves the progress line in view */
#include "bench_util.h"
#include "tests/fixture/certtree.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#define PROVINCE_UNIT "56"    /* the root's unit; its scope is every unit */
#define END_DATE "2021-12-31" /* the last day of the data */
#define DAYS_MIN 12           /* from 2021-12-20: the week reported lies within the data */
#define DAY_MS INT64_C(86400000)
#define MIN_MS INT64_C(60000)
#define VENUES_AT_MS (5 * 60 * MIN_MS) /* venues are registered at 05:00 on the first day */
#define OPEN_MS (6 * 60 * MIN_MS)      /* check-ins from 06:00 local time */
#define LAST_IN_MS (20 * 60 * MIN_MS)  /* to 20:00 */
#define STAY_MIN_MS (15 * MIN_MS)      /* a visit lasts 15 to 120 minutes */
#define STAY_MAX_MS (120 * MIN_MS)
#define SYNC_MS (23 * 60 * MIN_MS) /* a commune's day reaches the province at 23:00 */
#define STALE_EVERY 50             /* every 50th commune, in code order, stops syncing */
#define STALE_DAYS 30              /* that many days before the end */
#define PERSONS_PER_COMMUNE 2000   /* the people scanned in one commune */
#define WARMUP_REPORTS 2           /* untimed reports before timing */
#define TARGET_MS 200.0            /* the target: a week's report of the province, p50 */
#define STORE_BYTES_PER_SCAN 300   /* free space wanted: a scan's share, and a batch's */
#define STORE_BYTES_PER_BATCH 700  /* (1.45 GB at the defaults, 600 bytes a scan, measured) */
#define VENUES_MAX 100             /* --venues-per-commune */
#define SCANS_PER_DAY_MAX 900      /* --scans-per-day: a day and the venues fit one batch */
#define MASKED_MAX 16
#define PARAMS_FORMAT 3 /* bump when the generator changes: older stores are not reused */
#define PARAMS_MAX BENCH_PARAMS_MAX
#define PARAMS_FILE_NAME "report.params" /* the parameters of a complete store */

_Static_assert(VENUES_MAX + SCANS_PER_DAY_MAX <= CRDT_BATCH_EVENTS_MAX,
               "a commune's first day fits one batch");

enum { SUB_STORE = BENCH_KEPT_STORE }; /* the store in the working directory */

enum { WEEK, YEAR, PERIODS }; /* the two reports checked */

static const char usage[] =
    "Usage: report [--days N] [--venues-per-commune N] [--scans-per-day N] [--runs N]\n"
    "              [--dir PATH] [--keep] [--reuse] [--seed N]\n"
    "\n"
    "Province report benchmark. Generates the store of a province node that holds the\n"
    "logs of every official commune (node/units/: 3,321 communes of 34 provinces), then\n"
    "times the province report (node/logic/report.h) over all of them.\n"
    "\n"
    "The store: a root of trust (the province's key, scope every unit) and, for each\n"
    "commune, a node certified by it for that commune alone. Each commune registers its\n"
    "venues, then records check-ins between 06:00 and 20:00 (UTC+7), each followed by a\n"
    "check-out 15 to 120 minutes later, every day of the period, which ends on " END_DATE ".\n"
    "Once a day each commune's batch of that day reaches the province and is applied\n"
    "through the store's apply path (signature, chain, certificate and scope checks,\n"
    "indexes, aggregates), one write transaction holding the day's batches of every\n"
    "commune. Every 50th commune (in code order) stops syncing 30 days before the end, so\n"
    "the report finds it stale. The store is opened unsynced while it is generated (no\n"
    "fsync, pages written in place, as the simulator's stores), which only makes\n"
    "generating faster: the timing only reads.\n"
    "\n"
    "Timing: on one read snapshot, after 2 untimed reports, --runs reports of every\n"
    "commune for the last ISO week of the data (Monday to Sunday), each timed from its\n"
    "first tv_report_add to tv_report_free; then one report over the whole period, timed\n"
    "after an untimed one. Each report's figures are checked against what was generated.\n"
    "Generating the data is not timed with them.\n"
    "\n"
    "  --days N                days of data, 12..365, ending " END_DATE " (default 365)\n"
    "  --venues-per-commune N  venues each commune registers, 1..100 (default 5)\n"
    "  --scans-per-day N       scans each commune records a day, 1..900: check-ins and\n"
    "                          their check-outs in turn (default 2)\n"
    "  --runs N                week reports to time (default 20)\n"
    "  --dir PATH              working directory (created if absent); default: a new\n"
    "                          directory under $TMPDIR or /tmp. The store (store/, 1.5 GB\n"
    "                          at the defaults: 600 bytes per scan, most of it the batches'\n"
    "                          own) and report.params are removed at the end unless --keep.\n"
    "  --keep                  keep the generated store and its report.params\n"
    "  --reuse                 if --dir holds a store generated with the same --days,\n"
    "                          --venues-per-commune, --scans-per-day and --seed, report on\n"
    "                          it without generating; else generate one there and keep it\n"
    "                          (needs --dir; implies --keep)\n"
    "  --seed N                seed of the data generator (default 1)\n"
    "  --help                  show this text\n"
    "\n"
    "The last line of output holds the figures as key=value pairs (venues and scans: in\n"
    "all; times in ms; stale: the week report's stale communes; gen_s: the generation's\n"
    "seconds, measured in this run; with a reused store gen_s_reused instead: the seconds\n"
    "the run that generated it measured, read back from report.params, not a figure of\n"
    "this run; store_bytes: the pages in use). Exit status: 0, 1 when a\n"
    "step fails or a report does not match what was generated, 2 for a usage error.\n";

typedef struct opts {
    uint64_t days, venues, scans, runs, seed;
    const char *dir;
    int keep, reuse;
} opts;

/* --- options ------------------------------------------------------------------------ */

static void parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){.days = 365, .venues = 5, .scans = 2, .runs = 20, .seed = 1};
    const bench_opt table[] = {{"days", BENCH_OPT_U64, &o->days, DAYS_MIN, 365},
                               {"venues-per-commune", BENCH_OPT_U64, &o->venues, 1, VENUES_MAX},
                               {"scans-per-day", BENCH_OPT_U64, &o->scans, 1, SCANS_PER_DAY_MAX},
                               {"runs", BENCH_OPT_U64, &o->runs, 1, 100000},
                               BENCH_OPT_DIR(&o->dir),
                               BENCH_OPT_KEEP(&o->keep),
                               BENCH_OPT_REUSE(&o->reuse),
                               BENCH_OPT_SEED(&o->seed),
                               {0}};
    bench_parse_opts(argc, argv, table, usage);
    bench_reuse_check(o->dir, o->reuse, &o->keep);
}

/* --- the province: communes, venues, people ----------------------------------------- */

/* One commune: its node's log as the province holds it, and what the reports must find. */
typedef struct commune {
    char code[TV_UNIT_CODE_MAX + 1]; /* first: communes are sorted and searched by it */
    crdt_identity id;
    crdt_hlc clock;
    uint64_t seq;                /* the last seq of its log, 0 before the first batch */
    uint8_t hash[TV_HASH_BYTES]; /* the hash of its last batch */
    int32_t stop_day;            /* the last day it syncs */
    int32_t last_scan_day;       /* the last day with a scan, INT32_MIN when none */
    uint64_t in[PERIODS], out[PERIODS];
} commune;

/* The venue flags: scanned in the week reported, in the whole period. */
enum { VF_WEEK = 1u << WEEK, VF_YEAR = 1u << YEAR };

typedef struct world {
    const opts *o;
    commune *c; /* sorted by code */
    size_t n;
    uint8_t *vflags;                    /* commune i's venue v: vflags[i * venues + v] */
    uint8_t (*vids)[TV_VENUE_ID_BYTES]; /* commune i's venue v's id, the same way */
    int32_t first_day, last_day, from[PERIODS], to[PERIODS];
    uint64_t stale_made; /* communes made stale */
    uint64_t venues, scans, batches, txns;
} world;

static int commune_cmp(const void *a, const void *b)
{
    return strcmp(((const commune *)a)->code, ((const commune *)b)->code);
}

/* Every official commune: the children of each province ("01".."99"), in code order. */
static void communes_list(world *w)
{
    size_t cap = 0, provinces = 0;
    for (int p = 1; p <= 99; p++) {
        char code[4];
        snprintf(code, sizeof code, "%02d", p);
        const tv_unit *u = tv_unit_find(code);
        if (!u || u->parent[0] != '\0') continue;
        provinces++;
        size_t k;
        const tv_unit *const *kids = tv_unit_children(code, &k);
        for (size_t i = 0; i < k; i++) {
            if (w->n == cap) {
                cap = cap ? 2 * cap : 4096;
                commune *c = realloc(w->c, cap * sizeof *c);
                if (!c) bench_die("out of memory");
                w->c = c;
            }
            memset(&w->c[w->n], 0, sizeof w->c[0]);
            snprintf(w->c[w->n++].code, sizeof w->c[0].code, "%s", kids[i]->code);
        }
    }
    if (w->n == 0 || provinces + w->n != tv_units_count())
        bench_die("the official unit list cannot be read (%zu provinces and %zu communes of %zu "
                  "units)",
                  provinces, w->n, tv_units_count());
    qsort(w->c, w->n, sizeof *w->c, commune_cmp);
}

/* A reproducible identity: k 0 is the root, k i + 1 commune i (as the simulator's). */
static void identity_make(crdt_identity *id, uint64_t seed, uint64_t k)
{
    uint8_t s[TV_SEED_BYTES];
    uint64_t r = seed * 1000003ULL + k;
    for (size_t i = 0; i < sizeof s; i += 8) {
        uint64_t x = fx_splitmix64(&r);
        for (size_t b = 0; b < 8; b++)
            s[i + b] = (uint8_t)(x >> (8 * b));
    }
    if (crdt_identity_from_seed(id, s)) bench_die("deriving an identity failed");
}

/* Venue v of commune i's registration nonce: distinct for distinct (i, v) (splitmix64's
 * mixing is a bijection of its state, which differs for each). */
static void venue_nonce(const world *w, size_t i, uint64_t v, uint8_t nonce[TV_VENUE_NONCE_BYTES])
{
    uint64_t s =
        bench_mix(w->o->seed, 0x76656E7565ULL) + (i * w->o->venues + v) * 0x9E3779B97F4A7C15ULL;
    for (int b = 0; b < TV_VENUE_NONCE_BYTES; b += 8) {
        uint64_t x = fx_splitmix64(&s);
        for (int k = 0; k < 8; k++)
            nonce[b + k] = (uint8_t)(x >> (8 * k));
    }
}

/* The ids of every commune's venues, derived from the commune's key and the venue's
 * nonce as a registration must be (V1): worked out once, scans name them. */
static void venue_ids_make(world *w)
{
    w->vids = malloc(w->n * w->o->venues * sizeof *w->vids);
    if (!w->vids) bench_die("out of memory");
    uint8_t nonce[TV_VENUE_NONCE_BYTES];
    for (size_t i = 0; i < w->n; i++)
        for (uint64_t v = 0; v < w->o->venues; v++) {
            venue_nonce(w, i, v, nonce);
            tv_venue_id_derive(w->vids[i * w->o->venues + v], w->c[i].id.pk, nonce);
        }
}

static void venue_id(const world *w, size_t i, uint64_t v, uint8_t id[TV_VENUE_ID_BYTES])
{
    memcpy(id, w->vids[i * w->o->venues + v], TV_VENUE_ID_BYTES);
}

/* Person p of commune i: a pseudonym that looks random and a masked phone number. */
static void person_make(const world *w, size_t i, uint64_t p, uint8_t ref[TV_PERSON_REF_BYTES],
                        char masked[MASKED_MAX])
{
    uint64_t s = bench_mix(w->o->seed ^ 0x7065727330ULL, i * PERSONS_PER_COMMUNE + p);
    uint64_t a = fx_splitmix64(&s), b = fx_splitmix64(&s), c = fx_splitmix64(&s);
    for (int k = 0; k < 8; k++) {
        ref[k] = (uint8_t)(a >> (8 * k));
        ref[8 + k] = (uint8_t)(b >> (8 * k));
    }
    snprintf(masked, MASKED_MAX, "09******%02u", (unsigned)(c % 100));
}

/* --- generation --------------------------------------------------------------------- */

/* One scan of a commune's day, sorted by time before it is recorded. */
typedef struct day_scan {
    int64_t at_ms;
    uint32_t venue, person;
    uint8_t out, method;
} day_scan;

static int day_scan_cmp(const void *pa, const void *pb)
{
    const day_scan *a = pa, *b = pb;
    if (a->at_ms != b->at_ms) return a->at_ms < b->at_ms ? -1 : 1;
    if (a->out != b->out) return a->out < b->out ? -1 : 1;
    if (a->venue != b->venue) return a->venue < b->venue ? -1 : 1;
    return (a->person > b->person) - (a->person < b->person);
}

/* Commune i's scans of day `day` into ds (sorted); returns how many. Check-ins first, each
 * followed by its check-out while the day's count allows. Depends on the seed, the commune
 * and the day only, so that a reused store's figures are worked out again without it. */
static size_t day_scans(const world *w, size_t i, int32_t day, day_scan *ds)
{
    uint64_t rng = bench_mix(bench_mix(w->o->seed, i), (uint64_t)(uint32_t)day);
    int64_t day0 = tv_date_start_ms(day, TV_TIME_VN_OFFSET_MIN);
    size_t n = 0;
    while (n < w->o->scans) {
        day_scan in = {.venue = (uint32_t)fx_splitmix64_below(&rng, w->o->venues),
                       .person = (uint32_t)fx_splitmix64_below(&rng, PERSONS_PER_COMMUNE)};
        in.at_ms =
            day0 + OPEN_MS + (int64_t)fx_splitmix64_below(&rng, (uint64_t)(LAST_IN_MS - OPEN_MS));
        uint64_t m = fx_splitmix64_below(&rng, 100);
        in.method = m < 70 ? CRDT_METHOD_SELF : m < 90 ? CRDT_METHOD_STAFF : CRDT_METHOD_CCCD;
        day_scan out = in;
        out.at_ms +=
            STAY_MIN_MS + (int64_t)fx_splitmix64_below(&rng, (uint64_t)(STAY_MAX_MS - STAY_MIN_MS));
        out.out = 1;
        ds[n++] = in;
        if (n < w->o->scans) ds[n++] = out;
    }
    qsort(ds, n, sizeof *ds, day_scan_cmp);
    return n;
}

/* Notes what the reports must find of a scan of commune i on `day` at venue v. */
static void expect_scan(world *w, size_t i, int32_t day, uint32_t v, int out)
{
    commune *c = &w->c[i];
    for (int p = 0; p < PERIODS; p++) {
        if (day < w->from[p] || day > w->to[p]) continue;
        if (out)
            c->out[p]++;
        else
            c->in[p]++;
        w->vflags[i * w->o->venues + v] |= (uint8_t)(1u << p);
    }
    if (day > c->last_scan_day) c->last_scan_day = day;
    w->scans++;
}

static void pack_venue(const world *w, size_t i, uint64_t v, crdt_batch_builder *b)
{
    commune *c = &w->c[i];
    char name[64];
    crdt_venue_upsert u;
    memset(&u, 0, sizeof u);
    venue_id(w, i, v, u.venue);
    venue_nonce(w, i, v, u.nonce);
    u.registers = 1; /* the commune registers it: its id is derived from the commune's key */
    snprintf(name, sizeof name, "Địa điểm %s-%" PRIu64, c->code, v + 1);
    u.fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY;
    u.unit = (crdt_text){c->code, (uint32_t)strlen(c->code)};
    u.name = (crdt_text){name, (uint32_t)strlen(name)};
    u.category = 1 + (uint32_t)(v % 25); /* node/logic/category.h: codes 1..25 */
    int64_t at = tv_date_start_ms(w->first_day, TV_TIME_VN_OFFSET_MIN) + VENUES_AT_MS;
    uint64_t hlc = crdt_hlc_now(&c->clock, (uint64_t)at + v);
    int rc = crdt_event_pack_venue(&b->pk, hlc, &u);
    if (rc) bench_die("packing a venue: %s", tv_strerror(rc));
    crdt_batch_builder_note(b, hlc);
}

static void pack_scan(const world *w, size_t i, const day_scan *d, crdt_batch_builder *b)
{
    commune *c = &w->c[i];
    char masked[MASKED_MAX];
    crdt_scan s;
    memset(&s, 0, sizeof s);
    venue_id(w, i, d->venue, s.venue);
    s.unit = (crdt_text){c->code, (uint32_t)strlen(c->code)};
    person_make(w, i, d->person, s.person, masked);
    s.masked = (crdt_text){masked, (uint32_t)strlen(masked)};
    s.direction = d->out ? CRDT_DIR_OUT : CRDT_DIR_IN;
    s.method = d->method;
    s.at_ms = d->at_ms;
    if (s.method != CRDT_METHOD_SELF) s.device = (crdt_text){"counter", 7};
    uint64_t hlc = crdt_hlc_now(&c->clock, (uint64_t)d->at_ms);
    int rc = crdt_event_pack_scan(&b->pk, hlc, &s);
    if (rc) bench_die("packing a scan: %s", tv_strerror(rc));
    crdt_batch_builder_note(b, hlc);
}

/* Applies one day's batches of every commune in one write transaction. */
typedef struct apply_ctx {
    uint8_t *const *buf;
    const size_t *len;
    size_t n;
    int64_t now_ms;
} apply_ctx;

static int apply_fn(store_txn *t, void *arg)
{
    const apply_ctx *c = arg;
    for (size_t i = 0; i < c->n; i++) {
        store_apply_result r;
        int rc = store_apply_batch(t, c->buf[i], c->len[i], c->now_ms, &r);
        if (rc) return rc;
        if (r.duplicate || r.applied != r.header.count) return TV_ECORRUPT;
    }
    return TV_OK;
}

/* Generates every commune's log day by day and, when st is not NULL, seals each commune's
 * day as one batch and applies each day's batches to st. With st NULL only the figures
 * the reports must find are worked out (a reused store). */
static void generate(world *w, store *st)
{
    const opts *o = w->o;
    day_scan *ds = malloc((size_t)o->scans * sizeof *ds);
    uint8_t **bufs = malloc(w->n * sizeof *bufs);
    size_t *lens = malloc(w->n * sizeof *lens);
    if (!ds || !bufs || !lens) bench_die("out of memory");
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    for (int32_t day = w->first_day; day <= w->last_day; day++) {
        size_t nb = 0;
        for (size_t i = 0; i < w->n; i++) {
            commune *c = &w->c[i];
            int first = day == w->first_day, scans = day <= c->stop_day;
            if (!first && !scans) continue;
            crdt_batch_builder_reset(&b);
            if (first) {
                w->venues += o->venues;
                for (uint64_t v = 0; st && v < o->venues; v++)
                    pack_venue(w, i, v, &b);
            }
            size_t k = scans ? day_scans(w, i, day, ds) : 0;
            for (size_t j = 0; j < k; j++) {
                expect_scan(w, i, day, ds[j].venue, ds[j].out);
                if (st) pack_scan(w, i, &ds[j], &b);
            }
            w->batches++;
            if (!st) continue;
            int rc = crdt_batch_seal(&b, &c->id, c->seq + 1, c->seq ? c->hash : NULL, &bufs[nb],
                                     &lens[nb], c->hash);
            if (rc) bench_die("sealing commune %s's batch: %s", c->code, tv_strerror(rc));
            c->seq += b.count;
            nb++;
        }
        if (st) {
            apply_ctx a = {bufs, lens, nb, tv_date_start_ms(day, TV_TIME_VN_OFFSET_MIN) + SYNC_MS};
            int rc = store_write(st, apply_fn, &a);
            if (rc) bench_die("applying the batches of a day: %s", tv_strerror(rc));
            for (size_t k = 0; k < nb; k++)
                free(bufs[k]);
            w->txns++;
            bench_progress("days", (uint64_t)(day - w->first_day) + 1, o->days);
            bench_check_interrupt();
        }
    }
    bench_progress_end();
    crdt_batch_builder_release(&b);
    free(ds);
    free(bufs);
    free(lens);
}

/* --- trust: the root and every commune's certificate -------------------------------- */

/* The store is the province node's: its id is the root's, and it holds the root's
 * certificate, then each commune's (tests/fixture/certtree.h: the root certifies every
 * commune itself). */
static int install_fn(store_txn *t, void *arg)
{
    const fx_tree *tree = arg;
    int rc = store_meta_put(t, "node_id", tree->nodes[0].id.pk, TV_NODE_ID_BYTES);
    return rc ? rc : fx_tree_install_txn(tree, t, -1);
}

static void enrol(world *w, store *st)
{
    crdt_identity root;
    identity_make(&root, w->o->seed, 0);
    fx_tree tree;
    fx_tree_init(&tree, tv_date_start_ms(w->first_day - 1, TV_TIME_VN_OFFSET_MIN));
    int rc = fx_tree_add(&tree, &root, CRDT_ROLE_PROVINCE, -1, PROVINCE_UNIT);
    for (size_t i = 0; rc >= 0 && i < w->n; i++)
        rc = fx_tree_add(&tree, &w->c[i].id, CRDT_ROLE_COMMUNE, 0, w->c[i].code);
    if (rc >= 0) rc = fx_tree_sign(&tree);
    if (rc < 0) bench_die("signing the certificates: %s", tv_strerror(rc));
    if ((rc = store_write(st, install_fn, &tree)))
        bench_die("installing the certificates: %s", tv_strerror(rc));
    fx_tree_free(&tree);
    crdt_identity_wipe(&root);
}

/* Checks that the store holds what was generated: by the counters. */
static void check_store(store *st, const world *w)
{
    store_txn *t;
    store_counts c;
    int rc = store_read_begin(st, &t);
    if (rc) bench_die("read transaction: %s", tv_strerror(rc));
    rc = store_counts_get(t, &c);
    store_read_end(t);
    if (rc) bench_die("reading counters: %s", tv_strerror(rc));
    if (c.events != w->venues + w->scans || c.by_type[CRDT_EV_SCAN] != w->scans ||
        c.by_type[CRDT_EV_VENUE_UPSERT] != w->venues || c.batches != w->batches ||
        c.origins != w->n)
        bench_die("the store does not hold what was generated: events %" PRIu64
                  " (expected %" PRIu64 "), scans %" PRIu64 " (%" PRIu64 "), venues %" PRIu64
                  " (%" PRIu64 "), batches %" PRIu64 " (%" PRIu64 "), origins %" PRIu64 " (%zu)",
                  c.events, w->venues + w->scans, c.by_type[CRDT_EV_SCAN], w->scans,
                  c.by_type[CRDT_EV_VENUE_UPSERT], w->venues, c.batches, w->batches, c.origins,
                  w->n);
}

/* --- the working directory and report.params ---------------------------------------- */

/* The first line of report.params: what the store was generated from. */
static void params_line(const opts *o, size_t communes, char *out, size_t cap)
{
    snprintf(out, cap,
             "bench=report format=%d communes=%zu days=%" PRIu64 " venues_per_commune=%" PRIu64
             " scans_per_day=%" PRIu64 " seed=%" PRIu64 "\n",
             PARAMS_FORMAT, communes, o->days, o->venues, o->scans, o->seed);
}

/* Writes report.params once the store is complete. */
static void params_write(const opts *o, size_t communes, double gen_s)
{
    char line[PARAMS_MAX];
    params_line(o, communes, line, sizeof line);
    bench_params_write(line, gen_s);
}

/* The working directory; returns 1 when it holds a store to reuse (its generation's
 * seconds in *gen_s), 0 when one is to be generated (store/ made). */
static int make_dirs(const opts *o, size_t communes, double *gen_s)
{
    char want[PARAMS_MAX];
    params_line(o, communes, want, sizeof want);
    return bench_kept_dirs(o->dir, "store", PARAMS_FILE_NAME, o->reuse, want, 1, gen_s);
}

/* Stops with a clear message when the file system cannot hold the store; returns the map
 * size to start with (room for the whole store, so that the map seldom grows). */
static size_t check_space(const opts *o, size_t communes)
{
    double batches = (double)communes * (double)o->days, scans = batches * (double)o->scans;
    double need = scans * STORE_BYTES_PER_SCAN + batches * STORE_BYTES_PER_BATCH +
                  (double)((uint64_t)64 << 20);
    struct statvfs sv;
    if (statvfs(bench_work_dir, &sv) == 0) {
        double have = (double)sv.f_bavail * (double)sv.f_frsize;
        if (have < need)
            bench_die("%s has %.2f GB free; the store needs about %.2f GB (give fewer --days or "
                      "--scans-per-day, or another --dir)",
                      bench_work_dir, have / 1e9, need / 1e9);
    }
    return (size_t)need;
}

/* --- reports ------------------------------------------------------------------------ */

/* What one report found, for the output. */
typedef struct found {
    uint64_t in, out, active, venues, stale;
} found;

/* Checks a report of period p against what was generated: every row, then the total. */
static void check_report(const world *w, const tv_report *r, int p, found *fd)
{
    static const char *const what[PERIODS] = {"week", "period"};
    if (r->n != w->n) bench_die("the %s report has %zu rows, not %zu", what[p], r->n, w->n);
    found want = {0};
    for (size_t k = 0; k < r->n; k++) {
        const tv_report_row *row = &r->rows[k];
        const commune *c = bsearch(row->code, w->c, w->n, sizeof *w->c, commune_cmp);
        if (!c) bench_die("the %s report has a row for %s, not a commune", what[p], row->code);
        size_t i = (size_t)(c - w->c);
        uint64_t active = 0;
        for (uint64_t v = 0; v < w->o->venues; v++)
            active += (w->vflags[i * w->o->venues + v] >> p) & 1u;
        int stale = c->last_scan_day < w->from[p];
        if (row->now.in != c->in[p] || row->now.out != c->out[p] ||
            row->now.venues != w->o->venues || row->now.active != active || row->stale != stale ||
            row->suspended || row->risk || row->f.nodes != 1 || row->f.held != 1 ||
            row->f.last_scan_day != c->last_scan_day || row->name[0] == '\0')
            bench_die("the %s report's row of %s does not match what was generated: in %" PRIu64
                      " (expected %" PRIu64 "), out %" PRIu64 " (%" PRIu64 "), venues %" PRIu64
                      " (%" PRIu64 "), active %" PRIu64 " (%" PRIu64 "), stale %d (%d), nodes "
                      "%d/%d held (1/1), last scan day %" PRId32 " (%" PRId32 ")",
                      what[p], row->code, row->now.in, c->in[p], row->now.out, c->out[p],
                      row->now.venues, w->o->venues, row->now.active, active, row->stale, stale,
                      row->f.nodes, row->f.held, row->f.last_scan_day, c->last_scan_day);
        if (k > 0) { /* stale rows first, then by code */
            const tv_report_row *prev = &r->rows[k - 1];
            if (prev->stale < row->stale ||
                (prev->stale == row->stale && strcmp(prev->code, row->code) >= 0))
                bench_die("the %s report's rows are out of order at %s", what[p], row->code);
        }
        want.in += c->in[p];
        want.out += c->out[p];
        want.active += active;
        want.venues += w->o->venues;
        want.stale += (uint64_t)stale;
    }
    const tv_report_row *tot = &r->total;
    if (tot->now.in != want.in || tot->now.out != want.out || tot->now.active != want.active ||
        tot->now.venues != want.venues || tot->stale != (int)want.stale)
        bench_die("the %s report's total does not match what was generated: in %" PRIu64
                  " (expected %" PRIu64 "), out %" PRIu64 " (%" PRIu64 "), active %" PRIu64
                  " (%" PRIu64 "), venues %" PRIu64 " (%" PRIu64 "), stale %d (%" PRIu64 ")",
                  what[p], tot->now.in, want.in, tot->now.out, want.out, tot->now.active,
                  want.active, tot->now.venues, want.venues, tot->stale, want.stale);
    *fd = want;
}

/* One report of every commune for period p; returns its time in ms (adding the rows,
 * figures and freeing, not the check) and, in *add_ms when not NULL, adding the rows. */
static double report_once(store_txn *t, const world *w, int p, int64_t now_ms, found *fd,
                          double *add_ms)
{
    tv_report r = {.from_day = w->from[p], .to_day = w->to[p]};
    double a = bench_now_s();
    int rc = 0;
    for (size_t i = 0; i < w->n && rc == 0; i++)
        rc = tv_report_add(&r, w->c[i].code);
    double b = bench_now_s();
    if (rc == 0) rc = tv_report_figures(t, &r, now_ms);
    double c = bench_now_s();
    if (rc) bench_die("reporting: %s", tv_strerror(rc));
    check_report(w, &r, p, fd);
    double d = bench_now_s();
    tv_report_free(&r);
    double e = bench_now_s();
    if (add_ms) *add_ms = (b - a) * 1e3;
    return ((c - a) + (e - d)) * 1e3;
}

/* "2021-W51": the ISO week of monday, checked by parsing it back. */
static void week_label(int32_t monday, char *out, size_t cap)
{
    char date[TV_DATE_STR_BYTES];
    tv_date_format(date, sizeof date, monday + 3); /* the Thursday gives the ISO year */
    int year = atoi(date), week = 0;
    char jan4[16];
    snprintf(jan4, sizeof jan4, "%04d-01-04", year);
    int32_t d;
    if (tv_date_parse(jan4, &d) == 0) week = (monday - (d - (tv_iso_weekday(d) - 1))) / 7 + 1;
    snprintf(out, cap, "%04d-W%02d", year, week);
    int32_t back;
    if (tv_iso_week_parse(out, &back) != 0 || back != monday)
        bench_die("the ISO week of the report (%s) does not parse back to its Monday", out);
}

/* --- main --------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    opts o;
    parse_opts(argc, argv, &o);
    if (sodium_init() < 0) {
        fputs("report: libsodium cannot start\n", stderr);
        return 1;
    }
    bench_start();

    world w = {.o = &o};
    communes_list(&w);
    if (tv_date_parse(END_DATE, &w.last_day)) bench_die("bad end date " END_DATE);
    w.first_day = w.last_day - (int32_t)o.days + 1;
    int32_t sunday = w.last_day - tv_iso_weekday(w.last_day) % 7; /* on or before the end */
    w.from[WEEK] = sunday - 6;
    w.to[WEEK] = sunday;
    w.from[YEAR] = w.first_day;
    w.to[YEAR] = w.last_day;
    if (w.from[WEEK] < w.first_day) bench_die("the week reported begins before the data");
    int32_t stale_stop = w.last_day - STALE_DAYS;
    if (stale_stop >= w.from[WEEK]) stale_stop = w.from[WEEK] - 1;
    for (size_t i = 0; i < w.n; i++) {
        commune *c = &w.c[i];
        int stale = i % STALE_EVERY == STALE_EVERY - 1;
        c->stop_day = stale ? stale_stop : w.last_day;
        c->last_scan_day = INT32_MIN;
        w.stale_made += (uint64_t)stale;
    }
    w.vflags = calloc(w.n * o.venues, 1);
    double *week_ms = malloc((size_t)o.runs * sizeof *week_ms);
    double *add_ms = malloc((size_t)o.runs * sizeof *add_ms);
    if (!w.vflags || !week_ms || !add_ms) bench_die("out of memory");

    double gen_s = 0;
    int reused = make_dirs(&o, w.n, &gen_s);
    char first_s[TV_DATE_STR_BYTES], stop_s[TV_DATE_STR_BYTES];
    tv_date_format(first_s, sizeof first_s, w.first_day);
    tv_date_format(stop_s, sizeof stop_s, stale_stop);
    printf("report: dir=%s fs=%s communes=%zu days=%" PRIu64 " (%s to " END_DATE
           ") venues_per_commune=%" PRIu64 " scans_per_day=%" PRIu64 " runs=%" PRIu64
           " seed=%" PRIu64 "\n",
           bench_work_dir, bench_fs_name(bench_work_dir), w.n, o.days, first_s, o.venues, o.scans,
           o.runs, o.seed);
    fflush(stdout);

    store *st;
    int rc;
    if (reused) {
        generate(&w, NULL); /* the figures only */
        printf("reused: the store in %s (generated by an earlier run, which took %.1f s)\n",
               bench_sub_dir[SUB_STORE], gen_s);
    } else {
        size_t map = check_space(&o, w.n);
        store_opts so = {.map_bytes = map, .unsynced = 1};
        if ((rc = store_open(&st, bench_sub_dir[SUB_STORE], &so)))
            bench_die("opening the store in %s: %s", bench_sub_dir[SUB_STORE], tv_strerror(rc));
        double t0 = bench_now_s();
        for (size_t i = 0; i < w.n; i++)
            identity_make(&w.c[i].id, o.seed, i + 1);
        venue_ids_make(&w);
        enrol(&w, st);
        generate(&w, st);
        gen_s = bench_now_s() - t0;
        store_close(st);
        for (size_t i = 0; i < w.n; i++)
            crdt_identity_wipe(&w.c[i].id);
        printf("generated: %zu communes (%" PRIu64 " of them stale: no data after %s), %" PRIu64
               " venues, %" PRIu64 " scans in %" PRIu64
               " batches (a commune's day each) and %" PRIu64
               " write transactions, %.1f s (%.0f scans/s)\n",
               w.n, w.stale_made, stop_s, w.venues, w.scans, w.batches, w.txns, gen_s,
               (double)w.scans / gen_s);
    }
    /* reopened as a node opens its store, for the report as for a reused store */
    if ((rc = store_open(&st, bench_sub_dir[SUB_STORE], NULL)))
        bench_die("opening the store in %s: %s", bench_sub_dir[SUB_STORE], tv_strerror(rc));
    check_store(st, &w);
    if (!reused) {
        params_write(&o, w.n, gen_s);
        if (o.keep) { /* complete: kept from here on, whatever happens */
            memset(bench_sub_made, 0, sizeof bench_sub_made);
            bench_work_made = 0;
        }
    }
    store_size sz;
    if ((rc = store_size_get(st, &sz))) bench_die("store size: %s", tv_strerror(rc));
    printf("store: used %" PRIu64 " bytes (file %" PRIu64 "), %.1f bytes/scan\n", sz.used_bytes,
           sz.file_bytes, (double)sz.used_bytes / (double)w.scans);

    char week_s[32], mon_s[TV_DATE_STR_BYTES], sun_s[TV_DATE_STR_BYTES];
    week_label(w.from[WEEK], week_s, sizeof week_s);
    tv_date_format(mon_s, sizeof mon_s, w.from[WEEK]);
    tv_date_format(sun_s, sizeof sun_s, w.to[WEEK]);
    printf("week: %s, %s to %s; %d warm-up reports (and 1 of the period before its own)\n", week_s,
           mon_s, sun_s, WARMUP_REPORTS);
    fflush(stdout);

    int64_t now_ms = tv_date_start_ms(w.last_day + 1, TV_TIME_VN_OFFSET_MIN);
    store_txn *t;
    if ((rc = store_read_begin(st, &t))) bench_die("read transaction: %s", tv_strerror(rc));
    found wk, yr;
    for (int i = 0; i < WARMUP_REPORTS; i++) {
        report_once(t, &w, WEEK, now_ms, &wk, NULL);
        bench_progress("warm-up reports", (uint64_t)i + 1, WARMUP_REPORTS);
        bench_check_interrupt();
    }
    bench_progress_end();
    for (uint64_t i = 0; i < o.runs; i++) {
        week_ms[i] = report_once(t, &w, WEEK, now_ms, &wk, &add_ms[i]);
        bench_progress("week reports", i + 1, o.runs);
        bench_check_interrupt();
    }
    bench_progress_end();
    report_once(t, &w, YEAR, now_ms, &yr, NULL); /* untimed: maps the rest of the aggregates */
    bench_check_interrupt();
    double year_ms = report_once(t, &w, YEAR, now_ms, &yr, NULL);
    store_read_end(t);
    store_close(st);

    size_t nr = (size_t)o.runs;
    qsort(week_ms, nr, sizeof *week_ms, bench_cmp_double);
    qsort(add_ms, nr, sizeof *add_ms, bench_cmp_double);
    double p50 = bench_percentile(week_ms, nr, 50), p99 = bench_percentile(week_ms, nr, 99);
    if (wk.stale != w.stale_made)
        bench_die("the week report finds %" PRIu64 " communes stale, not the %" PRIu64
                  " made stale",
                  wk.stale, w.stale_made);
    printf("week report ms: p50 %.2f p90 %.2f p99 %.2f max %.2f (adding the rows: p50 %.2f); "
           "%zu rows, %" PRIu64 " stale, %" PRIu64 " check-ins, %" PRIu64 " check-outs, %" PRIu64
           " of %" PRIu64 " venues active\n",
           p50, bench_percentile(week_ms, nr, 90), p99, week_ms[nr - 1],
           bench_percentile(add_ms, nr, 50), w.n, wk.stale, wk.in, wk.out, wk.active, wk.venues);
    printf("period report ms: %.2f (%s to " END_DATE "); %" PRIu64 " stale, %" PRIu64
           " check-ins, %" PRIu64 " check-outs, %" PRIu64 " venues active\n",
           year_ms, first_s, yr.stale, yr.in, yr.out, yr.active);
    printf("check: every row and total of every report as generated: ok\n");
    printf("target: week report p50 <= %.0f ms: %s\n", TARGET_MS,
           p50 <= TARGET_MS ? "met" : "missed");
    if (o.keep)
        printf("kept: %s (report on it again with --dir %s --reuse)\n", bench_work_dir,
               bench_work_dir);
    printf("bench=report communes=%zu days=%" PRIu64 " venues=%" PRIu64 " scans=%" PRIu64
           " runs=%" PRIu64 " week_p50_ms=%.2f week_p99_ms=%.2f year_ms=%.2f stale=%" PRIu64
           " %s=%.1f store_bytes=%" PRIu64 " seed=%" PRIu64 " reused=%d\n",
           w.n, o.days, w.venues, w.scans, o.runs, p50, p99, year_ms, wk.stale,
           reused ? "gen_s_reused" : "gen_s", gen_s, sz.used_bytes, o.seed, reused);

    free(week_ms);
    free(add_ms);
    free(w.vflags);
    free(w.vids);
    free(w.c);
    bench_cleanup();
    return 0;
}
