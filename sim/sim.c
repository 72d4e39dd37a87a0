/* truyvet-sim: a deterministic simulation of a truyvet network in one process.
 *
 * A province, its districts and their communes, each a node with a real LMDB store, run
 * the real sync protocol (net/sync.c) and the real apply path (store/) over a virtual
 * network with a virtual clock: communes online a few hours a day (some not at all for
 * days), lossy links that delay, reorder and duplicate messages, districts that go down
 * and make their communes fall back to the province, nodes that crash in the middle of a
 * commit, skewed device clocks, and a forger injecting bad batches. Everything random
 * comes from one seed; the same seed and build print the same output, byte for byte.
 *
 * Invariants, checked as the run goes and at the end: no acknowledged scan is lost; after
 * the last heal every node holds exactly the logs of its partition, with byte-identical
 * venue views and daily figures where they should agree; no forged or out-of-scope batch
 * is ever stored; nothing is applied twice. A violation prints the seed and what broke,
 * and the program exits 1. */
#include "crdt/batch.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "net/sync.h"
#include "store/store.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SIM_NODES_MAX 4096
#define SIM_VENUES_PER_COMMUNE 4
#define SIM_PERSONS 5000
#define DAY_MS ((int64_t)24 * 3600 * 1000)
#define HOUR_MS ((int64_t)3600 * 1000)
#define MINUTE_MS ((int64_t)60 * 1000)
#define SIM_START_MS ((int64_t)1633021200000) /* 2021-10-01T00:00:00+07:00 */
#define SIM_HEAL_MS_MAX (6 * HOUR_MS)         /* convergence must come within this after the heal */
#define SIM_MAP_BYTES ((size_t)4 << 20)

/* --- randomness ---------------------------------------------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t rng_below(rng *r, uint64_t n)
{
    return n ? rng_next(r) % n : 0;
}
static double rng_unit(rng *r)
{
    return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

/* --- options ------------------------------------------------------------------------- */

typedef struct sim_opts {
    uint64_t seed;
    int districts, communes, days;
    uint32_t scans_per_day;
    int64_t commit_ms; /* a commune commits its scans this often */
    double loss, dup;  /* per message */
    int64_t delay_ms, jitter_ms;
    double offline_day;     /* chance a commune stays offline a whole day */
    double district_outage; /* chance a district is down part of a day */
    double crash;           /* chance a commit is cut by a crash (nothing of it lands) */
    int64_t skew_ms_max;    /* device clocks off by up to this much */
    int forger;             /* inject forged and tampered batches */
    int verbose, timing;
    const char *dir;
} sim_opts;

/* --- nodes and links ----------------------------------------------------------------- */

typedef struct snode {
    int idx;
    uint32_t role;
    int parent; /* the district of a commune, the province of a district, -1 */
    char unit[TV_UNIT_CODE_MAX + 1];
    crdt_identity id;
    char dir[PATH_MAX];
    store *st;
    crdt_hlc clock;
    int64_t skew_ms;
    int up; /* 0 while crashed */
    int64_t restart_ms;
    uint64_t acked; /* own events acknowledged: committed */
    int64_t next_commit_ms;
    uint64_t pending_scans;
    uint8_t venue[SIM_VENUES_PER_COMMUNE][TV_VENUE_ID_BYTES];
    int64_t online_from, online_to; /* a commune's link window today */
    int64_t down_from, down_to;     /* a district's outage today */
    uint64_t store_events;          /* events held at the last look */
    crdt_vv vv_last, vv_changed;    /* the vector at the last look, and what it gained */
    int touched;                    /* on the touched list */
} snode;

typedef struct slink {
    int child, parent; /* node indexes */
    int active;
    uint32_t gen;       /* bumped at each (re)opening: messages of older generations are dropped */
    sync_peer *pc, *pp; /* the child's session with the parent, and the parent's */
    int dirty_c, dirty_p;
    int64_t last_t[2]; /* the latest delivery time queued each way: a link keeps order */
    int queued;        /* on this turn's work list */
    uint32_t tver;     /* the version of its entry in the timer heap */
} slink;

/* When a link's sessions next want their timers run (lazily invalidated by tver). */
typedef struct timer {
    int64_t t;
    int link;
    uint32_t ver;
} timer;

typedef struct delivery {
    int64_t t;
    uint64_t order;
    int link;
    uint32_t gen;
    int to_parent;
    uint8_t *buf;
    size_t len;
} delivery;

typedef struct sim {
    sim_opts o;
    rng r;
    int64_t now, end_ms, heal_ms;
    int healed;
    snode *nodes;
    int n;
    slink *links;
    int nlinks;
    int *act; /* indexes of the active links */
    int nact;
    int *work; /* links with something to do this turn */
    int nwork;
    int *touched; /* nodes that applied something this turn */
    int ntouched;
    timer *timers;
    size_t ntimers, timers_cap;
    delivery *heap;
    size_t heap_len, heap_cap;
    uint64_t order;
    uint8_t *buf;
    /* figures */
    uint64_t msgs, bytes, lost_msgs, dup_msgs, crashes, forged, commits, scans_acked;
    int64_t converged_ms;
    int violations;
    char workdir[PATH_MAX];
    uint8_t forger_pk[TV_NODE_ID_BYTES];
    crdt_identity forger;
} sim;

static sim_opts defaults(void)
{
    sim_opts o = {.seed = 1,
                  .districts = 2,
                  .communes = 6,
                  .days = 3,
                  .scans_per_day = 60,
                  .commit_ms = 4 * HOUR_MS,
                  .delay_ms = 150,
                  .jitter_ms = 400,
                  .skew_ms_max = 20 * MINUTE_MS};
    o.loss = o.dup = o.offline_day = o.district_outage = o.crash = -1; /* from the seed */
    o.forger = 1;
    return o;
}

static void violation(sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(sim *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("VIOLATION at t=%" PRId64 " ms (seed=%" PRIu64 "): ", s->now - SIM_START_MS, s->o.seed);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
    s->violations++;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("truyvet-sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* --- the delivery heap --------------------------------------------------------------- */

static int before(const delivery *a, const delivery *b)
{
    return a->t < b->t || (a->t == b->t && a->order < b->order);
}

static void heap_push(sim *s, delivery d)
{
    if (s->heap_len == s->heap_cap) {
        s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 1024;
        s->heap = realloc(s->heap, s->heap_cap * sizeof *s->heap);
        if (!s->heap) die("out of memory");
    }
    size_t i = s->heap_len++;
    s->heap[i] = d;
    while (i && before(&s->heap[i], &s->heap[(i - 1) / 2])) {
        delivery t = s->heap[i];
        s->heap[i] = s->heap[(i - 1) / 2];
        s->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static delivery heap_pop(sim *s)
{
    delivery top = s->heap[0];
    s->heap[0] = s->heap[--s->heap_len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->heap_len && before(&s->heap[l], &s->heap[m])) m = l;
        if (r < s->heap_len && before(&s->heap[r], &s->heap[m])) m = r;
        if (m == i) break;
        delivery t = s->heap[i];
        s->heap[i] = s->heap[m];
        s->heap[m] = t;
        i = m;
    }
    return top;
}

static void mark(sim *s, slink *l)
{
    if (l->queued) return;
    l->queued = 1;
    s->work[s->nwork++] = (int)(l - s->links);
}

static void touch(sim *s, snode *n)
{
    if (n->touched) return;
    n->touched = 1;
    s->touched[s->ntouched++] = n->idx;
}

static void timer_push(sim *s, timer t)
{
    if (s->ntimers == s->timers_cap) {
        s->timers_cap = s->timers_cap ? s->timers_cap * 2 : 1024;
        s->timers = realloc(s->timers, s->timers_cap * sizeof *s->timers);
        if (!s->timers) die("out of memory");
    }
    size_t i = s->ntimers++;
    s->timers[i] = t;
    while (i && s->timers[i].t < s->timers[(i - 1) / 2].t) {
        timer x = s->timers[i];
        s->timers[i] = s->timers[(i - 1) / 2];
        s->timers[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
}

static timer timer_pop(sim *s)
{
    timer top = s->timers[0];
    s->timers[0] = s->timers[--s->ntimers];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->ntimers && s->timers[l].t < s->timers[m].t) m = l;
        if (r < s->ntimers && s->timers[r].t < s->timers[m].t) m = r;
        if (m == i) break;
        timer x = s->timers[i];
        s->timers[i] = s->timers[m];
        s->timers[m] = x;
        i = m;
    }
    return top;
}

/* --- set-up: identities, certificates, stores ---------------------------------------- */

static crdt_cert cert_tmp;

static void seed_identity(sim *s, crdt_identity *id, uint64_t k)
{
    uint8_t seed[TV_SEED_BYTES];
    rng r = {s->o.seed * 1000003ULL + k};
    for (size_t i = 0; i < sizeof seed; i++)
        seed[i] = (uint8_t)rng_next(&r);
    if (crdt_identity_from_seed(id, seed)) die("bad seed");
}

static int meta_fn(store_txn *t, void *arg)
{
    snode *n = arg;
    return store_meta_put(t, "node_id", n->id.pk, TV_NODE_ID_BYTES);
}

static void node_open(sim *s, snode *n)
{
    store_opts so = {.map_bytes = SIM_MAP_BYTES, .unsynced = 1};
    int rc = store_open(&n->st, n->dir, &so);
    if (rc) die("cannot open the store in %s: %s", n->dir, tv_strerror(rc));
    store_txn *t;
    store_frontier f = {0};
    if (store_read_begin(n->st, &t) == 0) {
        (void)store_frontier_get(t, n->id.pk, &f);
        store_counts c;
        if (store_counts_get(t, &c) == 0) n->store_events = c.events;
        store_read_end(t);
    }
    crdt_hlc_init(&n->clock, f.hlc_max);
    /* sessions start from the store as it is now; later rounds announce what it gains */
    crdt_vv_release(&n->vv_last);
    if (sync_store_changes(n->st, &n->vv_last, &n->vv_changed)) die("cannot read the vector");
    (void)s;
}

/* Signs a certificate of subject by issuer into a fresh buffer. */
static void make_cert(const snode *issuer, const snode *subject, uint8_t **raw, size_t *len,
                      const sim *s)
{
    memset(&cert_tmp, 0, sizeof cert_tmp);
    memcpy(cert_tmp.subject, subject->id.pk, TV_NODE_ID_BYTES);
    memcpy(cert_tmp.issuer, issuer->id.pk, TV_NODE_ID_BYTES);
    cert_tmp.role = subject->role;
    strcpy(cert_tmp.unit, subject->unit);
    cert_tmp.not_before_ms = SIM_START_MS - DAY_MS;
    if (subject->role == CRDT_ROLE_PROVINCE) {
        cert_tmp.scope_len = 1;
        strcpy(cert_tmp.scope[0], CRDT_SCOPE_ALL);
        cert_tmp.flags = CRDT_CERT_F_HEALTH;
    } else {
        cert_tmp.scope[cert_tmp.scope_len++][0] = 0;
        strcpy(cert_tmp.scope[0], subject->unit);
        for (int i = 0; subject->role == CRDT_ROLE_DISTRICT && i < s->n; i++)
            if (s->nodes[i].parent == subject->idx && cert_tmp.scope_len < CRDT_CERT_SCOPE_MAX)
                strcpy(cert_tmp.scope[cert_tmp.scope_len++], s->nodes[i].unit);
    }
    if (crdt_cert_sign(&cert_tmp, &issuer->id, raw, len)) die("cannot sign a certificate");
}

typedef struct install_ctx {
    const uint8_t *root;
    uint8_t *raw[3];
    size_t len[3];
    int n;
} install_ctx;

static int install_fn(store_txn *t, void *arg)
{
    install_ctx *c = arg;
    int rc = store_root_set(t, c->root);
    for (int i = 0; rc == 0 && i < c->n; i++)
        rc = store_cert_install(t, c->raw[i], c->len[i]);
    return rc;
}

/* --- recording own events ------------------------------------------------------------ */

typedef struct commit_ctx {
    snode *n;
    crdt_batch_builder *b;
    int crash; /* cut the commit: the transaction never reaches the disk */
} commit_ctx;

static int commit_fn(store_txn *t, void *arg)
{
    commit_ctx *c = arg;
    store_frontier f;
    int rc = store_frontier_get(t, c->n->id.pk, &f);
    if (rc && rc != TV_ENOTFOUND) return rc;
    uint8_t *buf;
    size_t len;
    if ((rc = crdt_batch_seal(c->b, &c->n->id, f.seq + 1, f.seq ? f.hash : NULL, &buf, &len, NULL)))
        return rc;
    store_apply_result r;
    rc = store_apply_batch(t, buf, len, 0, &r);
    free(buf);
    if (rc == 0 && c->crash) rc = TV_EIO; /* power lost before the commit */
    return rc;
}

static void node_crash(sim *s, snode *n);

/* Seals and commits the builder as the node's next batch; acknowledges only on success. */
static int commit(sim *s, snode *n, crdt_batch_builder *b, int may_crash)
{
    if (b->count == 0) return 0;
    commit_ctx c = {.n = n, .b = b, .crash = may_crash && rng_unit(&s->r) < s->o.crash};
    int rc = store_write(n->st, commit_fn, &c);
    uint32_t count = b->count;
    crdt_batch_builder_reset(b);
    if (rc == TV_EIO && c.crash) {
        node_crash(s, n);
        return 0;
    }
    if (rc) die("node %d cannot commit: %s", n->idx, tv_strerror(rc));
    n->acked += count; /* durable: the only moment a scan counts as acknowledged */
    touch(s, n);
    s->commits++;
    return 1;
}

static void add_cert_event(sim *s, snode *n, crdt_batch_builder *b, const uint8_t *raw, size_t len)
{
    crdt_cert_event ce = {raw, len};
    uint64_t hlc = crdt_hlc_now(&n->clock, (uint64_t)(s->now + n->skew_ms));
    if (crdt_event_pack_cert(&b->pk, hlc, &ce)) die("cannot pack a certificate event");
    crdt_batch_builder_note(b, hlc);
}

/* A commune's scans since its last commit: persons from a pool, at its venues, in and out;
 * device times spread over the interval, on the device's (skewed) clock. */
static void record_scans(sim *s, snode *n, int64_t from, int64_t to)
{
    uint64_t k = (uint64_t)((double)s->o.scans_per_day * (double)(to - from) / (double)DAY_MS);
    k += rng_below(&s->r, 3);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    char masked[16];
    for (uint64_t i = 0; i < k; i++) {
        crdt_scan sc = {.unit = {n->unit, (uint32_t)strlen(n->unit)},
                        .direction = (uint8_t)rng_below(&s->r, 2),
                        .method = CRDT_METHOD_STAFF,
                        .at_ms = from + (to - from) * (int64_t)i / (int64_t)(k + 1) + n->skew_ms};
        memcpy(sc.venue, n->venue[rng_below(&s->r, SIM_VENUES_PER_COMMUNE)], TV_VENUE_ID_BYTES);
        uint64_t person = rng_below(&s->r, SIM_PERSONS);
        memset(sc.person, 0, sizeof sc.person);
        memcpy(sc.person, &person, sizeof person);
        snprintf(masked, sizeof masked, "09****%04u", (unsigned)(person % 10000));
        sc.masked = (crdt_text){masked, (uint32_t)strlen(masked)};
        uint64_t hlc = crdt_hlc_now(&n->clock, (uint64_t)(s->now + n->skew_ms));
        if (crdt_event_pack_scan(&b.pk, hlc, &sc)) die("cannot pack a scan");
        crdt_batch_builder_note(&b, hlc);
        if (b.count == CRDT_BATCH_EVENTS_MAX && !commit(s, n, &b, 1)) break;
    }
    if (n->up) commit(s, n, &b, 1);
    crdt_batch_builder_release(&b);
}

/* --- links and sessions -------------------------------------------------------------- */

static void link_close(sim *s, slink *l)
{
    if (!l->active) return;
    int me = (int)(l - s->links);
    for (int i = 0; i < s->nact; i++)
        if (s->act[i] == me) {
            s->act[i] = s->act[--s->nact];
            break;
        }
    sync_peer_free(l->pc);
    sync_peer_free(l->pp);
    l->pc = l->pp = NULL;
    l->active = 0;
    l->gen++;
}

static void link_open(sim *s, slink *l)
{
    if (l->active) return;
    snode *c = &s->nodes[l->child], *p = &s->nodes[l->parent];
    sync_config cc = {.st = c->st, .self = &c->id}, cp = {.st = p->st, .self = &p->id};
    memset(cc.epoch, l->child + 1, SYNC_EPOCH_BYTES);
    memset(cp.epoch, l->parent + 1, SYNC_EPOCH_BYTES);
    int rc = sync_peer_new(&l->pc, &cc, p->id.pk, s->now);
    if (rc == 0) rc = sync_peer_new(&l->pp, &cp, c->id.pk, s->now);
    if (rc) die("cannot start a session: %s", tv_strerror(rc));
    l->active = 1;
    l->gen++;
    l->dirty_c = l->dirty_p = 1;
    s->act[s->nact++] = (int)(l - s->links);
    mark(s, l);
}

static void node_crash(sim *s, snode *n)
{
    for (int i = 0; i < s->nlinks; i++)
        if (s->links[i].child == n->idx || s->links[i].parent == n->idx)
            link_close(s, &s->links[i]);
    store_close(n->st);
    n->st = NULL;
    n->up = 0;
    n->restart_ms = s->now + MINUTE_MS * (int64_t)(5 + rng_below(&s->r, 240));
    s->crashes++;
    if (s->o.verbose) printf("t=%" PRId64 " node %d crashed\n", s->now - SIM_START_MS, n->idx);
}

/* Which links should be up now: a commune online reaches its district if the district is
 * up, else the province; districts reach the province unless in an outage. */
static int link_wanted(sim *s, const slink *l)
{
    const snode *c = &s->nodes[l->child], *p = &s->nodes[l->parent];
    if (!c->up || !p->up) return 0;
    if (s->healed) {
        /* after the heal: the tree as configured, the province link of a commune unused */
        return c->role == CRDT_ROLE_DISTRICT || p->role == CRDT_ROLE_DISTRICT;
    }
    int64_t t = s->now;
    if (c->role == CRDT_ROLE_DISTRICT) return !(t >= c->down_from && t < c->down_to);
    int online = t >= c->online_from && t < c->online_to;
    if (!online) return 0;
    const snode *d = &s->nodes[c->parent];
    int district_reachable = d->up && !(t >= d->down_from && t < d->down_to);
    return p->role == CRDT_ROLE_DISTRICT ? district_reachable : !district_reachable;
}

static void plan_day(sim *s, int64_t day_start)
{
    for (int i = 0; i < s->n; i++) {
        snode *n = &s->nodes[i];
        if (n->role == CRDT_ROLE_COMMUNE) {
            if (rng_unit(&s->r) < s->o.offline_day) {
                n->online_from = n->online_to = 0;
            } else {
                n->online_from = day_start + (int64_t)rng_below(&s->r, 20) * HOUR_MS +
                                 (int64_t)rng_below(&s->r, 60) * MINUTE_MS;
                n->online_to = n->online_from + HOUR_MS * (int64_t)(1 + rng_below(&s->r, 3));
            }
        } else if (n->role == CRDT_ROLE_DISTRICT) {
            if (rng_unit(&s->r) < s->o.district_outage) {
                n->down_from = day_start + (int64_t)rng_below(&s->r, 20) * HOUR_MS;
                n->down_to = n->down_from + HOUR_MS * (int64_t)(1 + rng_below(&s->r, 8));
            } else {
                n->down_from = n->down_to = 0;
            }
        }
    }
}

/* Sends a session's messages onto the virtual network: delayed, sometimes lost or
 * duplicated, reordered by the jitter. */
static void pump(sim *s, slink *l, int from_child)
{
    sync_peer *p = from_child ? l->pc : l->pp;
    for (;;) {
        size_t len;
        int rc = sync_peer_send(p, s->buf, SYNC_MSG_BYTES_MAX, &len, s->now);
        if (rc) die("send: %s", tv_strerror(rc));
        if (len == 0) break;
        s->msgs++;
        s->bytes += len;
        double loss = s->healed ? 0 : s->o.loss;
        if (rng_unit(&s->r) < loss) {
            s->lost_msgs++;
            continue;
        }
        int copies = !s->healed && rng_unit(&s->r) < s->o.dup ? 2 : 1;
        s->dup_msgs += (uint64_t)(copies - 1);
        for (int k = 0; k < copies; k++) {
            /* like a ZeroMQ connection: delayed and jittered, but never reordered */
            int64_t t =
                s->now + s->o.delay_ms + (int64_t)rng_below(&s->r, (uint64_t)s->o.jitter_ms + 1);
            if (t < l->last_t[from_child]) t = l->last_t[from_child];
            l->last_t[from_child] = t;
            delivery d = {.t = t,
                          .order = s->order++,
                          .link = (int)(l - s->links),
                          .gen = l->gen,
                          .to_parent = from_child,
                          .len = len};
            if (!(d.buf = malloc(len))) die("out of memory");
            memcpy(d.buf, s->buf, len);
            heap_push(s, d);
        }
    }
}

/* The forger: a batch by a key nobody enrolled, a genuine batch with one bit flipped, and a
 * commune's validly signed scan for another commune's unit; each pushed into a session as
 * if it came from the peer. None may ever be stored. */
static void forge(sim *s, slink *l)
{
    snode *c = &s->nodes[l->child];
    /* 0: a key nobody enrolled; 1: a genuine batch with one bit flipped; 2: the commune's
     * own key writing for another unit; 3: the forger's key claiming to be the commune */
    int kind = (int)rng_below(&s->r, 4);
    crdt_identity impostor = c->id;
    memcpy(impostor.sk, s->forger.sk, TV_SECRET_KEY_BYTES);
    const crdt_identity *signer = kind == 0 ? &s->forger : kind == 3 ? &impostor : &c->id;
    /* the next place in the signer's log as the receiving parent holds it, so that only
     * the checks can stop the batch */
    store_txn *t;
    store_frontier f = {0};
    if (store_read_begin(s->nodes[l->parent].st, &t) == 0) {
        (void)store_frontier_get(t, signer->pk, &f);
        store_read_end(t);
    }
    uint64_t hlc = crdt_hlc_make(crdt_hlc_ms(f.hlc_max) + 1, 0);
    crdt_scan sc = {.unit = {c->unit, (uint32_t)strlen(c->unit)},
                    .masked = {"09****0000", 10},
                    .method = CRDT_METHOD_STAFF,
                    .at_ms = s->now};
    if (kind == 2) sc.unit = (crdt_text){"99999", 5}; /* outside the commune's scope */
    memcpy(sc.venue, c->venue[0], TV_VENUE_ID_BYTES);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    if (crdt_event_pack_scan(&b.pk, hlc, &sc)) die("cannot pack");
    crdt_batch_builder_note(&b, hlc);
    uint8_t *buf;
    size_t len;
    if (crdt_batch_seal(&b, signer, f.seq + 1, f.seq ? f.hash : NULL, &buf, &len, NULL))
        die("cannot seal");
    crdt_batch_builder_release(&b);
    if (kind == 1) buf[rng_below(&s->r, len)] ^= (uint8_t)(1u << rng_below(&s->r, 8));
    /* as a BATCH message (PROTOCOL.md §6): fixarray, type 7, bin32 */
    size_t mlen = 7 + len;
    uint8_t *m = malloc(mlen);
    if (!m) die("out of memory");
    m[0] = 0x92;
    m[1] = 7;
    m[2] = 0xc6;
    for (int i = 0; i < 4; i++)
        m[3 + i] = (uint8_t)(len >> (24 - 8 * i));
    memcpy(m + 7, buf, len);
    free(buf);
    /* delivered to the parent's session, as if the commune had sent it */
    int64_t when = s->now + 1 > l->last_t[1] ? s->now + 1 : l->last_t[1];
    l->last_t[1] = when;
    delivery d = {.t = when,
                  .order = s->order++,
                  .link = (int)(l - s->links),
                  .gen = l->gen,
                  .to_parent = 1,
                  .buf = m,
                  .len = mlen};
    heap_push(s, d);
    s->forged++;
}

/* --- the run ------------------------------------------------------------------------- */

static uint64_t events_held(snode *n)
{
    store_txn *t;
    store_counts c = {0};
    if (n->st && store_read_begin(n->st, &t) == 0) {
        (void)store_counts_get(t, &c);
        store_read_end(t);
    }
    return c.events;
}

/* After new data at node i: every session of that node has something to tell. */
static void node_changed(sim *s, int i)
{
    snode *n = &s->nodes[i];
    if (sync_store_changes(n->st, &n->vv_last, &n->vv_changed)) die("cannot read the vector");
    for (int a = 0; a < s->nact; a++) {
        slink *l = &s->links[s->act[a]];
        if (l->child == i) {
            if (sync_peer_announce(l->pc, &n->vv_changed, s->now)) die("notify");
            l->dirty_c = 1;
            mark(s, l);
        } else if (l->parent == i) {
            if (sync_peer_announce(l->pp, &n->vv_changed, s->now)) die("notify");
            l->dirty_p = 1;
            mark(s, l);
        }
    }
}

static void step_sessions(sim *s)
{
    while (s->ntimers && s->timers[0].t <= s->now) {
        timer t = timer_pop(s);
        slink *l = &s->links[t.link];
        if (l->active && l->tver == t.ver) mark(s, l);
    }
    /* received batches made durable, timers run */
    for (int w = 0; w < s->nwork; w++) {
        slink *l = &s->links[s->work[w]];
        if (!l->active) continue;
        for (int side = 0; side < 2; side++) {
            sync_peer *p = side ? l->pp : l->pc;
            int hit = 0;
            if (sync_peer_pending(p)) {
                if (sync_peer_flush(p, s->now)) die("flush");
                touch(s, &s->nodes[side ? l->parent : l->child]);
                hit = 1;
            }
            if (sync_peer_expiry(p) <= s->now) {
                if (sync_peer_tick(p, s->now)) die("tick");
                hit = 1;
            }
            if (hit && side)
                l->dirty_p = 1;
            else if (hit)
                l->dirty_c = 1;
        }
    }
    /* a node that applied something tells its other sessions */
    for (int k = 0; k < s->ntouched; k++) {
        snode *n = &s->nodes[s->touched[k]];
        n->touched = 0;
        if (!n->up) continue;
        uint64_t ev = events_held(n);
        if (ev != n->store_events) {
            n->store_events = ev;
            node_changed(s, n->idx);
        }
    }
    s->ntouched = 0;
    for (int w = 0; w < s->nwork; w++) {
        slink *l = &s->links[s->work[w]];
        l->queued = 0;
        if (!l->active) continue;
        if (l->dirty_c) pump(s, l, 1);
        if (l->dirty_p) pump(s, l, 0);
        l->dirty_c = l->dirty_p = 0;
        /* a session that died (a long silence) is started again, as a reconnect would */
        if (sync_peer_state(l->pc) == SYNC_DEAD || sync_peer_state(l->pp) == SYNC_DEAD ||
            sync_peer_state(l->pc) == SYNC_CLOSED || sync_peer_state(l->pp) == SYNC_CLOSED) {
            if (s->o.verbose) {
                sync_stats x, y;
                sync_peer_stats(l->pc, &x);
                sync_peer_stats(l->pp, &y);
                printf("t=%" PRId64 " link %d-%d restarts: %s/%s (%s, %s)\n", s->now - SIM_START_MS,
                       l->child, l->parent, sync_state_name(x.state), sync_state_name(y.state),
                       tv_strerror(x.error ? x.error : x.peer_error),
                       tv_strerror(y.error ? y.error : y.peer_error));
            }
            link_close(s, l);
            l->queued = 0;
            link_open(s, l); /* queued again: pumped later in this pass */
            continue;
        }
        int64_t e = sync_peer_expiry(l->pc), f = sync_peer_expiry(l->pp);
        if (f < e) e = f;
        if (e < INT64_MAX) timer_push(s, (timer){e, s->work[w], ++l->tver});
    }
    s->nwork = 0;
}

static void update_links(sim *s)
{
    for (int k = 0; k < s->nlinks; k++) {
        slink *l = &s->links[k];
        int want = link_wanted(s, l);
        if (want && !l->active)
            link_open(s, l);
        else if (!want && l->active)
            link_close(s, l);
    }
}

static int all_in_step(sim *s)
{
    for (int a = 0; a < s->nact; a++) {
        slink *l = &s->links[s->act[a]];
        if (sync_peer_state(l->pc) != SYNC_IN_STEP || sync_peer_state(l->pp) != SYNC_IN_STEP)
            return 0;
    }
    return s->heap_len == 0;
}

static void deliver_due(sim *s)
{
    while (s->heap_len && s->heap[0].t <= s->now) {
        delivery d = heap_pop(s);
        slink *l = &s->links[d.link];
        if (l->active && l->gen == d.gen) {
            sync_peer *p = d.to_parent ? l->pp : l->pc;
            (void)sync_peer_recv(p, d.buf, d.len, s->now); /* refusals end sessions: fine */
            if (d.to_parent)
                l->dirty_p = 1;
            else
                l->dirty_c = 1;
            mark(s, l);
        }
        free(d.buf);
    }
}

static int64_t next_wake(sim *s, int64_t minute)
{
    int64_t t = minute;
    if (s->heap_len && s->heap[0].t < t) t = s->heap[0].t;
    if (s->ntimers && s->timers[0].t < t) t = s->timers[0].t;
    return t > s->now ? t : s->now + 1;
}

static void run(sim *s)
{
    int64_t day = -1;
    int64_t minute = s->now;
    int64_t stop = s->end_ms + SIM_HEAL_MS_MAX;
    while (s->now < stop) {
        if (!s->healed && s->now >= s->end_ms) {
            /* the heal: every node up, every link of the tree up, no more loss */
            s->healed = 1;
            s->heal_ms = s->now;
            for (int i = 0; i < s->n; i++)
                if (!s->nodes[i].up) {
                    node_open(s, &s->nodes[i]);
                    s->nodes[i].up = 1;
                }
            for (int k = 0; k < s->nlinks; k++)
                link_close(s, &s->links[k]);
            update_links(s);
            if (s->o.verbose) printf("t=%" PRId64 " heal\n", s->now - SIM_START_MS);
        }
        if (s->now >= minute) {
            minute += MINUTE_MS;
            int64_t d = (s->now - SIM_START_MS) / DAY_MS;
            if (d != day && !s->healed) {
                day = d;
                plan_day(s, SIM_START_MS + d * DAY_MS);
                if (s->o.verbose) printf("day %" PRId64 "\n", d);
            }
            for (int i = 0; i < s->n && !s->healed; i++) {
                snode *n = &s->nodes[i];
                if (!n->up && s->now >= n->restart_ms) {
                    node_open(s, n);
                    n->up = 1;
                }
                if (n->up && n->role == CRDT_ROLE_COMMUNE && s->now >= n->next_commit_ms) {
                    record_scans(s, n, n->next_commit_ms - s->o.commit_ms, n->next_commit_ms);
                    n->next_commit_ms += s->o.commit_ms;
                }
            }
            update_links(s);
            for (int k = 0; s->o.forger && !s->healed && k < s->nlinks; k++)
                if (s->links[k].active && s->nodes[s->links[k].child].role == CRDT_ROLE_COMMUNE &&
                    rng_below(&s->r, 60) == 0)
                    forge(s, &s->links[k]);
        }
        deliver_due(s);
        step_sessions(s);
        if (s->healed && all_in_step(s)) {
            s->converged_ms = s->now - s->heal_ms;
            return;
        }
        s->now = next_wake(s, minute);
    }
    violation(s, "no convergence within %lld hours of the heal",
              (long long)(SIM_HEAL_MS_MAX / HOUR_MS));
}

/* --- checks -------------------------------------------------------------------------- */

/* Should node a hold origin b's log? (The partition, from the tree: every node holds the
 * province's and every district's log; a district holds its communes' too.) */
static int should_hold(sim *s, int a, int b)
{
    const snode *x = &s->nodes[a], *y = &s->nodes[b];
    if (a == b || y->role != CRDT_ROLE_COMMUNE || x->role == CRDT_ROLE_PROVINCE) return 1;
    if (x->role == CRDT_ROLE_DISTRICT) return y->parent == a; /* its communes */
    return 0;                                                 /* a commune: no other commune's */
}

static void check(sim *s)
{
    /* every node's view of every origin, against the origin's own log */
    store_txn **tx = calloc((size_t)s->n, sizeof *tx);
    store_frontier *own = calloc((size_t)s->n, sizeof *own);
    if (!tx || !own) die("out of memory");
    for (int i = 0; i < s->n; i++) {
        if (store_read_begin(s->nodes[i].st, &tx[i])) die("read");
        if (store_frontier_get(tx[i], s->nodes[i].id.pk, &own[i]) && s->nodes[i].acked)
            violation(s, "node %d lost its own log", i);
        if (own[i].seq < s->nodes[i].acked)
            violation(s, "node %d holds %" PRIu64 " of its own events but acknowledged %" PRIu64, i,
                      own[i].seq, s->nodes[i].acked);
    }
    for (int a = 0; a < s->n; a++) {
        uint64_t sum = 0;
        for (int b = 0; b < s->n; b++) {
            store_frontier f;
            int held = store_frontier_get(tx[a], s->nodes[b].id.pk, &f) == 0;
            if (held) sum += f.seq;
            if (should_hold(s, a, b)) {
                if (!held || f.seq != own[b].seq || memcmp(f.hash, own[b].hash, TV_HASH_BYTES))
                    violation(s, "node %d holds %" PRIu64 " of node %d's %" PRIu64 " events", a,
                              held ? f.seq : 0, b, own[b].seq);
            } else if (held) {
                violation(s, "node %d holds node %d's log, outside its partition", a, b);
            }
        }
        store_frontier ff;
        if (store_frontier_get(tx[a], s->forger_pk, &ff) == 0)
            violation(s, "node %d accepted the forger's batches", a);
        store_counts c;
        if (store_counts_get(tx[a], &c) == 0 && c.events != sum)
            violation(s,
                      "node %d counts %" PRIu64 " events but its logs hold %" PRIu64
                      " (applied twice?)",
                      a, c.events, sum);
    }
    /* views and daily figures agree wherever the same logs are held */
    for (int c = 0; c < s->n; c++) {
        snode *n = &s->nodes[c];
        if (n->role != CRDT_ROLE_COMMUNE) continue;
        int holders[3] = {c, n->parent, 0};
        for (int v = 0; v < SIM_VENUES_PER_COMMUNE; v++) {
            const uint8_t *ref = NULL, *raw;
            size_t ref_len = 0, len;
            for (int h = 0; h < 3; h++) {
                if (store_venue_raw(tx[holders[h]], n->venue[v], &raw, &len)) {
                    violation(s, "node %d lacks venue %d of commune %d", holders[h], v, c);
                    continue;
                }
                if (!ref) {
                    ref = raw;
                    ref_len = len;
                } else if (len != ref_len || memcmp(raw, ref, len)) {
                    violation(s, "node %d's view of venue %d of commune %d differs", holders[h], v,
                              c);
                }
            }
        }
        for (int d = -1; d <= s->o.days; d++) {
            int32_t day = crdt_day_vn(SIM_START_MS) + d;
            store_agg ref, a;
            (void)store_agg_get(tx[c], n->unit, day, &ref);
            for (int h = 1; h < 3; h++) {
                (void)store_agg_get(tx[holders[h]], n->unit, day, &a);
                if (memcmp(&a, &ref, sizeof a))
                    violation(s, "node %d's figures of unit %s on day %d differ", holders[h],
                              n->unit, d);
            }
        }
    }
    for (int i = 0; i < s->n; i++)
        store_read_end(tx[i]);
    free(tx);
    free(own);
}

/* --- main ---------------------------------------------------------------------------- */

static const char help[] =
    "Usage: truyvet-sim [--seed N] [--districts N] [--communes N] [--days N]\n"
    "                   [--scans-per-day N] [--commit-hours H] [--loss P] [--dup P]\n"
    "                   [--offline-day P] [--district-outage P] [--crash P] [--skew-min M]\n"
    "                   [--no-forger] [--dir DIR] [--verbose] [--timing]\n"
    "\n"
    "Simulates a province, its districts and communes with the real sync protocol and\n"
    "stores, a virtual clock and a faulty virtual network, then heals every fault and\n"
    "checks that every node converged: no acknowledged scan lost, every node holding\n"
    "exactly its partition, identical views, no forged batch stored, nothing applied\n"
    "twice. Fault rates not given are drawn from the seed. The first line printed is\n"
    "seed=N; the same seed reproduces the run exactly. Exit status 0 when every check\n"
    "holds, 1 on a violation, 2 for a usage error. --timing adds wall-clock figures to\n"
    "the last line (which then differs between runs).\n";

static double parse_p(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end || v < 0 || v > 1) die("a probability is a number from 0 to 1: %s", s);
    return v;
}

static long parse_n(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end || errno || v < lo || v > hi)
        die("'%s' is not a number from %ld to %ld", s, lo, hi);
    return v;
}

static void parse_args(sim_opts *o, int argc, char **argv)
{
    static const struct option opts[] = {{"seed", required_argument, 0, 's'},
                                         {"districts", required_argument, 0, 'D'},
                                         {"communes", required_argument, 0, 'C'},
                                         {"days", required_argument, 0, 'd'},
                                         {"scans-per-day", required_argument, 0, 'S'},
                                         {"commit-hours", required_argument, 0, 'H'},
                                         {"loss", required_argument, 0, 'l'},
                                         {"dup", required_argument, 0, 'u'},
                                         {"offline-day", required_argument, 0, 'o'},
                                         {"district-outage", required_argument, 0, 'O'},
                                         {"crash", required_argument, 0, 'c'},
                                         {"skew-min", required_argument, 0, 'k'},
                                         {"no-forger", no_argument, 0, 'F'},
                                         {"dir", required_argument, 0, 'r'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"timing", no_argument, 0, 't'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o->seed = (uint64_t)parse_n(optarg, 0, LONG_MAX);
            break;
        case 'D':
            o->districts = (int)parse_n(optarg, 1, 100);
            break;
        case 'C':
            o->communes = (int)parse_n(optarg, 1, SIM_NODES_MAX - 200);
            break;
        case 'd':
            o->days = (int)parse_n(optarg, 1, 366);
            break;
        case 'S':
            o->scans_per_day = (uint32_t)parse_n(optarg, 0, 1000000);
            break;
        case 'H':
            o->commit_ms = parse_n(optarg, 1, 48) * HOUR_MS;
            break;
        case 'l':
            o->loss = parse_p(optarg);
            break;
        case 'u':
            o->dup = parse_p(optarg);
            break;
        case 'o':
            o->offline_day = parse_p(optarg);
            break;
        case 'O':
            o->district_outage = parse_p(optarg);
            break;
        case 'c':
            o->crash = parse_p(optarg);
            break;
        case 'k':
            o->skew_ms_max = parse_n(optarg, 0, 7 * 24 * 60) * MINUTE_MS;
            break;
        case 'F':
            o->forger = 0;
            break;
        case 'r':
            o->dir = optarg;
            break;
        case 'v':
            o->verbose = 1;
            break;
        case 't':
            o->timing = 1;
            break;
        case 'h':
            fputs(help, stdout);
            exit(0);
        default:
            fputs(help, stderr);
            exit(2);
        }
    }
    if (optind < argc) die("unexpected argument '%s'", argv[optind]);
    if (o->communes < o->districts) die("there must be at least as many communes as districts");
}

static void rm_rf(const char *path)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "truyvet-sim: could not remove %s\n", path);
}

static void setup(sim *s)
{
    /* one process holds every node's environment open: two descriptors each */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    const char *base = s->o.dir ? s->o.dir : getenv("TMPDIR");
    snprintf(s->workdir, sizeof s->workdir, "%s/truyvet-sim.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(s->workdir)) die("cannot create a directory under %s: %s", base, strerror(errno));

    s->n = 1 + s->o.districts + s->o.communes;
    s->nodes = calloc((size_t)s->n, sizeof *s->nodes);
    s->buf = malloc(SYNC_MSG_BYTES_MAX);
    s->work = calloc((size_t)(4 * s->n), sizeof *s->work);
    s->touched = calloc((size_t)s->n, sizeof *s->touched);
    if (!s->nodes || !s->buf || !s->work || !s->touched) die("out of memory");
    for (int i = 0; i < s->n; i++) {
        snode *n = &s->nodes[i];
        n->idx = i;
        n->up = 1;
        if (i == 0) {
            n->role = CRDT_ROLE_PROVINCE;
            n->parent = -1;
            strcpy(n->unit, "56");
        } else if (i <= s->o.districts) {
            n->role = CRDT_ROLE_DISTRICT;
            n->parent = 0;
            snprintf(n->unit, sizeof n->unit, "%03d", 500 + i);
        } else {
            n->role = CRDT_ROLE_COMMUNE;
            n->parent = 1 + (i - 1 - s->o.districts) % s->o.districts;
            snprintf(n->unit, sizeof n->unit, "%05d", 20000 + i);
            n->skew_ms =
                (int64_t)rng_below(&s->r, (uint64_t)(2 * s->o.skew_ms_max + 1)) - s->o.skew_ms_max;
            n->next_commit_ms = SIM_START_MS + s->o.commit_ms;
        }
        seed_identity(s, &n->id, (uint64_t)i + 1);
        if (snprintf(n->dir, sizeof n->dir, "%.*s/n%d", PATH_MAX - 16, s->workdir, i) < 0)
            die("bad path");
        if (mkdir(n->dir, 0700)) die("mkdir %s: %s", n->dir, strerror(errno));
        node_open(s, n);
        if (store_write(n->st, meta_fn, n)) die("cannot write metadata");
    }
    seed_identity(s, &s->forger, 999999);
    memcpy(s->forger_pk, s->forger.pk, TV_NODE_ID_BYTES);

    /* certificates: the province's log carries the districts', each district's its
     * communes'; each node installs its own chain, as enrolment does */
    s->now = SIM_START_MS;
    uint8_t *root_raw;
    size_t root_len;
    make_cert(&s->nodes[0], &s->nodes[0], &root_raw, &root_len, s);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    add_cert_event(s, &s->nodes[0], &b, root_raw, root_len);
    uint8_t **draw = calloc((size_t)s->n, sizeof *draw);
    size_t *dlen = calloc((size_t)s->n, sizeof *dlen);
    for (int i = 1; i < s->n; i++) {
        snode *n = &s->nodes[i];
        make_cert(&s->nodes[n->parent], n, &draw[i], &dlen[i], s);
        if (n->role == CRDT_ROLE_DISTRICT) add_cert_event(s, &s->nodes[0], &b, draw[i], dlen[i]);
    }
    install_ctx ic = {.root = s->nodes[0].id.pk, .raw = {root_raw}, .len = {root_len}, .n = 1};
    if (store_write(s->nodes[0].st, install_fn, &ic)) die("install at the province");
    commit(s, &s->nodes[0], &b, 0);
    for (int i = 1; i < s->n; i++) {
        snode *n = &s->nodes[i];
        install_ctx c = {.root = s->nodes[0].id.pk, .raw = {root_raw}, .len = {root_len}, .n = 1};
        if (n->role == CRDT_ROLE_COMMUNE) {
            c.raw[c.n] = draw[n->parent];
            c.len[c.n++] = dlen[n->parent];
        }
        c.raw[c.n] = draw[i];
        c.len[c.n++] = dlen[i];
        int rc = store_write(n->st, install_fn, &c);
        if (rc) die("install at node %d: %s", i, tv_strerror(rc));
        if (n->role == CRDT_ROLE_DISTRICT) {
            for (int k = 1; k < s->n; k++)
                if (s->nodes[k].parent == i) add_cert_event(s, n, &b, draw[k], dlen[k]);
            commit(s, n, &b, 0);
        }
    }
    /* each commune registers its venues */
    for (int i = 1; i < s->n; i++) {
        snode *n = &s->nodes[i];
        if (n->role != CRDT_ROLE_COMMUNE) continue;
        for (int v = 0; v < SIM_VENUES_PER_COMMUNE; v++) {
            uint64_t id = rng_next(&s->r);
            memcpy(n->venue[v], &id, TV_VENUE_ID_BYTES);
            char name[32];
            snprintf(name, sizeof name, "Địa điểm %d-%d", i, v);
            crdt_venue_upsert u = {.fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME |
                                             CRDT_VENUE_F_CATEGORY,
                                   .unit = {n->unit, (uint32_t)strlen(n->unit)},
                                   .name = {name, (uint32_t)strlen(name)},
                                   .category = 1 + (uint32_t)rng_below(&s->r, 25)};
            memcpy(u.venue, n->venue[v], TV_VENUE_ID_BYTES);
            uint64_t hlc = crdt_hlc_now(&n->clock, (uint64_t)(s->now + n->skew_ms));
            if (crdt_event_pack_venue(&b.pk, hlc, &u)) die("cannot pack a venue");
            crdt_batch_builder_note(&b, hlc);
        }
        commit(s, n, &b, 0);
    }
    crdt_batch_builder_release(&b);
    free(root_raw);
    for (int i = 0; i < s->n; i++)
        free(draw[i]);
    free(draw);
    free(dlen);

    /* links: each commune to its district and to the province; each district upward */
    s->links = calloc((size_t)(2 * s->n), sizeof *s->links);
    s->act = calloc((size_t)(2 * s->n), sizeof *s->act);
    if (!s->links || !s->act) die("out of memory");
    for (int i = 1; i < s->n; i++) {
        snode *n = &s->nodes[i];
        s->links[s->nlinks++] = (slink){.child = i, .parent = n->parent};
        if (n->role == CRDT_ROLE_COMMUNE) s->links[s->nlinks++] = (slink){.child = i, .parent = 0};
    }
    s->end_ms = SIM_START_MS + (int64_t)s->o.days * DAY_MS;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) die("libsodium failed to start");
    /* every batch is applied at its commune, its district and the province, all in this
     * process: verify each signature once (the outcome depends on the bytes alone) */
    if (crdt_batch_memo_enable(20)) die("out of memory");
    /* nodes crash and restart by the thousand, and each LMDB environment opened callocs
     * megabytes of bookkeeping: taken straight from the kernel (zeroed, untouched until
     * used) rather than cleared out of the heap on every open, 1,000 nodes over 10 days
     * run 5-7 % faster */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    sim s;
    memset(&s, 0, sizeof s);
    s.o = defaults();
    parse_args(&s.o, argc, argv);
    printf("seed=%" PRIu64 "\n", s.o.seed);
    s.r.s = s.o.seed;
    /* fault rates not given: drawn from the seed, so many seeds explore many mixes */
    if (s.o.loss < 0) s.o.loss = rng_unit(&s.r) * 0.2;
    if (s.o.dup < 0) s.o.dup = rng_unit(&s.r) * 0.05;
    if (s.o.offline_day < 0) s.o.offline_day = rng_unit(&s.r) * 0.3;
    if (s.o.district_outage < 0) s.o.district_outage = rng_unit(&s.r) * 0.3;
    if (s.o.crash < 0) s.o.crash = rng_unit(&s.r) * 0.05;
    printf("config districts=%d communes=%d days=%d scans_per_day=%u loss=%.3f dup=%.3f "
           "offline_day=%.3f district_outage=%.3f crash=%.3f skew_min=%" PRId64 " forger=%d\n",
           s.o.districts, s.o.communes, s.o.days, s.o.scans_per_day, s.o.loss, s.o.dup,
           s.o.offline_day, s.o.district_outage, s.o.crash, s.o.skew_ms_max / MINUTE_MS,
           s.o.forger);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    setup(&s);
    run(&s);
    check(&s);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    uint64_t events = 0;
    for (int i = 0; i < s.n; i++)
        events += s.nodes[i].acked;
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("events=%" PRIu64 " commits=%" PRIu64 " crashes=%" PRIu64 " forged=%" PRIu64
           " messages=%" PRIu64 " lost=%" PRIu64 " duplicated=%" PRIu64 "\n",
           events, s.commits, s.crashes, s.forged, s.msgs, s.lost_msgs, s.dup_msgs);
    printf("converged %.1f s (virtual) after the heal; %.1f bytes and %.3f messages per event\n",
           (double)s.converged_ms / 1000.0, events ? (double)s.bytes / (double)events : 0.0,
           events ? (double)s.msgs / (double)events : 0.0);
    printf("%s\n", s.violations ? "FAILED" : "all invariants hold");
    printf("sim=truyvet seed=%" PRIu64 " nodes=%d days=%d events=%" PRIu64 " converge_ms=%" PRId64
           " bytes_per_event=%.1f msgs_per_event=%.3f violations=%d",
           s.o.seed, s.n, s.o.days, events, s.converged_ms,
           events ? (double)s.bytes / (double)events : 0.0,
           events ? (double)s.msgs / (double)events : 0.0, s.violations);
    if (s.o.timing)
        printf(" wall_s=%.2f events_per_s=%.0f", wall, wall > 0 ? (double)events / wall : 0.0);
    putchar('\n');

    for (int i = 0; i < s.nlinks; i++)
        link_close(&s, &s.links[i]);
    while (s.heap_len)
        free(heap_pop(&s).buf);
    for (int i = 0; i < s.n; i++) {
        if (s.nodes[i].st) store_close(s.nodes[i].st);
        crdt_vv_release(&s.nodes[i].vv_last);
        crdt_vv_release(&s.nodes[i].vv_changed);
    }
    rm_rf(s.workdir);
    free(s.heap);
    free(s.links);
    free(s.act);
    free(s.work);
    free(s.touched);
    free(s.timers);
    free(s.nodes);
    free(s.buf);
    return s.violations ? 1 : 0;
}
