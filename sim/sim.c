/* truyvet-sim: a deterministic simulation of a truyvet network in one process.
 *
 * A province, its districts and their communes, each a node with a real LMDB store, run the
 * real sync protocol (net/sync.c), driven by the loop the daemon runs (net/driver.c:
 * tv_driver_turn), and the real apply path (store/) over a virtual network with a virtual
 * clock: communes online a few hours a day (some not at all for days), lossy links that
 * delay, reorder and duplicate messages, districts that go down and make their communes
 * fall back to the province, nodes that crash in the middle of a commit, skewed device
 * clocks, a forger injecting bad batches, and an insider writing with real nodes' keys what
 * the rules of trust forbid (PROTOCOL.md §3.2: certificates for wrong subjects, revocations
 * from the wrong issuer, events about another commune's venue, batches dated hours ahead).
 * Some runs also have the province revoke a district on the way and re-certify its communes
 * later. Everything random comes from one seed; the same seed and build print the same
 * output, byte for byte.
 *
 * Communes record their scans as `truyvet station` does: a tv_node around the commune's
 * store (tv_node_attach), the recorder (node/logic/record.h: person events with sealed details,
 * then the scan), the node's group commit and the acknowledgement path
 * (node/logic/intake.h). A crash cuts a commit before it lands; one seed in four the
 * stores are synced (no MDB_NOSYNC) and crash anywhere -- in a commit before or after it
 * returned (recorded, never acknowledged), in a sync's flush or apply -- through the
 * store's crash point (store_opts.fault): the node's state is dropped and its files
 * reopened later.
 *
 * Invariants, checked as the run goes and at the end: no acknowledged scan is lost (each
 * is looked up in its commune's store after each restart and at the end); after
 * the last heal every node holds exactly the logs of its partition, with byte-identical
 * venue views and daily figures where they should agree; no forged or out-of-scope batch
 * is ever stored, nor anything the insider sent; the root keeps its certificate and
 * health flag and every node its issuer, nobody is revoked but the revoked district; no
 * fabricated scan or reminder is indexed; a revoked district's communes are refused until
 * re-certified, a batch dated ahead is not applied before its time; nothing is applied
 * twice; scans carry commune-scoped pseudonyms (each commune's key derived from the
 * root's province key, PROTOCOL.md §1), under which every node holding a commune's log
 * finds the same scans, at that commune's venues only. A violation prints the seed and what broke,
 * and the program exits 1. */
#include "crdt/batch.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/assert.h"
#include "crdt/hlc.h"
#include "net/driver.h"
#include "net/sync.h"
#include "node/logic/idcard.h"
#include "node/logic/intake.h"
#include "node/logic/node.h"
#include "node/logic/person.h"
#include "node/logic/record.h"
#include "store/store.h"
#include "tests/fixture/certtree.h"
#include "tests/fixture/rng.h"

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
#define SIM_VENUES_PER_COMMUNE 4 /* registered at the start */
#define SIM_VENUES_MAX 6         /* and up to this many in all, more registered on the way */
/* The people a commune's gates see, each a phone number: as many, against its scans, as a
 * real commune sees (5,000 people and some 2,000 scans a day there: each person's first
 * scan, which writes their person event, comes within days, and the rest are repeats);
 * the simulation's 101 scans a day over 500 people keep that ratio. */
#define SIM_PERSONS 500
#define DAY_MS ((int64_t)24 * 3600 * 1000)
#define HOUR_MS ((int64_t)3600 * 1000)
#define MINUTE_MS ((int64_t)60 * 1000)
#define SIM_START_MS ((int64_t)1633021200000) /* 2021-10-01T00:00:00+07:00 */
#define SIM_HEAL_MS_MAX (6 * HOUR_MS)         /* convergence must come within this after the heal */
#define SIM_MAP_BYTES ((size_t)4 << 20)

/* --- randomness ---------------------------------------------------------------------- */

/* The seeded generator of the tests and benchmarks (tests/fixture/rng.h), by its names
 * here. */
typedef fx_rng rng;
#define rng_next fx_rng_next
#define rng_below fx_rng_below
#define rng_unit fx_rng_unit

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
    int forger;             /* inject forged and tampered batches, and an insider's */
    double revoke;          /* chance that the province revokes a district on the way */
    int durable;            /* synced stores that crash anywhere (-1: one seed in four) */
    int retention_days;     /* the period the province sets (0: none set, 28 days in force) */
    int verbose, timing;
    const char *dir;
} sim_opts;

/* --- nodes and links ----------------------------------------------------------------- */

/* A scan a commune acknowledged: it must stay in the commune's store (until retention
 * takes it). */
typedef struct sim_ack {
    uint64_t seq;
    int64_t at_ms;
    uint32_t person; /* simulated person number */
    uint8_t venue;   /* the commune's venue number */
    uint8_t out;
} sim_ack;

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
    uint8_t venue[SIM_VENUES_MAX][TV_VENUE_ID_BYTES];
    int nvenues;                    /* venues registered (and committed) */
    int cut;                        /* a revoked district: unplugged, no link wanted */
    int64_t online_from, online_to; /* a commune's link window today */
    int64_t down_from, down_to;     /* a district's outage today */
    struct sim *sim;
    tv_driver *drv; /* its sessions, driven by the loop every node runs (net/driver.h) */
    int queued;     /* on this turn's work list */
    uint32_t tver;  /* the version of its entry in the timer heap */
    int touched;    /* on the touched list */
    /* the pseudonym key (PROTOCOL.md §1): the root's K_p, a commune's K_c derived from it;
     * a district (no health flag) holds none */
    uint8_t key[TV_TRACING_KEY_BYTES];
    /* a commune records as `truyvet station` does: a node around its store, the recorder
     * and the acknowledgement path (node/logic/intake.h) */
    tv_node *tn;
    tv_recorder rec;
    tv_intake in;
    sim_ack *queued_acks; /* the scans of the group being settled, by intake tag */
    size_t nqueued, queued_cap;
    sim_ack *acks; /* the scans acknowledged */
    size_t nacks, acks_cap;
    size_t acks_found; /* acks[0..acks_found) were found in its store after a restart */
    /* crashes (store_opts.fault): the next commit planned to be cut (STORE_FAULT_*, 0:
     * none); dying once cut, until the node's state is dropped; armed while a durable
     * node may crash at any write (its sessions' flushes and applies) */
    int cut_next, dying, armed;
} snode;

typedef struct slink {
    int child, parent; /* node indexes */
    int active;
    uint32_t gen;      /* bumped at each (re)opening: messages of older generations are dropped */
    int64_t last_t[2]; /* the latest delivery time queued each way: a link keeps order */
    int64_t retry_ms;  /* refused as revoked: not reopened before this */
    int closing;       /* refused as revoked: closed after this turn */
} slink;

/* When a node's sessions next want their timers run (lazily invalidated by tver). */
typedef struct timer {
    int64_t t;
    int node;
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

/* A batch the insider sent to a node, which must never be stored there. */
typedef struct forged {
    int node, signer; /* receiver, and the node whose key signed it */
    uint64_t seq;
    uint8_t hash[crypto_generichash_BYTES];
    const char *what;
} forged;

/* A commune's batch written with its clock hours ahead: no other node may apply it
 * before due (C1). */
typedef struct future {
    int node;
    uint64_t seq;
    int64_t due;
    int done; /* every node that should hold it does */
} future;

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
    int *work; /* nodes with something to do this turn */
    int nwork, work_cap;
    int *closing; /* links to close after this turn (refused as revoked) */
    int nclosing;
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
    /* crashes by where: in a commit, before it returned and after; in a sync's write */
    uint64_t crashes_at[3];
    uint64_t purged_scans, checkpoints, dropped; /* retention: scans purged, logs truncated */
    int64_t converged_ms;
    int violations;
    char workdir[PATH_MAX];
    uint8_t forger_pk[TV_NODE_ID_BYTES];
    crdt_identity forger;
    uint8_t kp[TV_TRACING_KEY_BYTES]; /* the province key, made by the root from the seed */
    /* the insider */
    uint64_t insider, insider_refused, insider_parked;
    forged *fg;
    size_t nfg, fg_cap;
    future fut[64];
    size_t nfut;
    /* the district revoked on the way, and its communes re-certified by the province */
    int rev_d;                 /* -1: none this run */
    int64_t rev_at, recert_at; /* when */
    int rev_done, recert_done; /* done */
    uint64_t *rev_front;       /* [node * n + commune]: its frontier when it saw the
                                * revocation (UINT64_MAX: not yet) */
    /* every batch is applied at its commune, its district and the province, and every node
     * walks every district's certificates, all in this process: the nodes' stores share
     * one memo of verified signatures, so each is verified once (its outcome depends on
     * the bytes alone) */
    crdt_sig_memo memo;
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
    o.revoke = 0.5;
    o.durable = -1;
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
    TV_ASSERT(s->heap_len > 0);
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
    /* the earliest first: nothing left is due before what is delivered now */
    TV_ASSERT(s->heap_len == 0 || !before(&s->heap[0], &top));
    return top;
}

static void mark(sim *s, snode *n)
{
    if (n->queued) return;
    n->queued = 1;
    if (s->nwork == s->work_cap) {
        s->work_cap = s->work_cap ? 2 * s->work_cap : 64;
        if (!(s->work = realloc(s->work, (size_t)s->work_cap * sizeof *s->work)))
            die("out of memory");
    }
    s->work[s->nwork++] = n->idx;
}

/* Both ends of a link have something to do. */
static void mark_link(sim *s, slink *l)
{
    mark(s, &s->nodes[l->child]);
    mark(s, &s->nodes[l->parent]);
}

/* The session of node `side` (the link's child or parent) with the other end. */
static tv_driver_session *link_session(sim *s, const slink *l, int child_side)
{
    snode *me = &s->nodes[child_side ? l->child : l->parent];
    snode *other = &s->nodes[child_side ? l->parent : l->child];
    return me->drv ? tv_driver_find(me->drv, other->id.pk) : NULL;
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

static crdt_cert cert_chk;                         /* large: kept off the stack */
static uint8_t forged_person[TV_PERSON_REF_BYTES]; /* the person of every fabricated scan */

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

static int64_t sim_now(void *arg);
static int sim_send(void *arg, const tv_driver_session *ds, const uint8_t *buf, size_t len);
static int sim_flushed(void *arg);
static int sim_restart(void *arg, tv_driver_session *ds);

/* The clock of a node's own events: a commune's node's, or the simulator's own. */
static crdt_hlc *clock_of(snode *n)
{
    return n->tn ? &n->tn->clock : &n->clock;
}

/* A node's wall clock (tv_node_attach): virtual time, skewed as its device is. */
static int64_t node_now_ms(void *arg)
{
    const snode *n = arg;
    return n->sim->now + n->skew_ms;
}

/* The crash point of a node's store (store_opts.fault): a commit planned to be cut, or,
 * on a durable store, any write of its sessions now and then; a node cut once writes
 * nothing more until its state is dropped (node_crash). */
static int sim_fault(void *arg, int where)
{
    snode *n = arg;
    sim *s = n->sim;
    if (n->dying) return 1;
    if (n->cut_next == where) {
        n->cut_next = 0;
        n->dying = 1;
        s->crashes_at[where == STORE_FAULT_BEFORE_COMMIT ? 0 : 1]++;
        return 1;
    }
    if (n->armed && rng_unit(&s->r) < s->o.crash / 4) {
        n->dying = 1;
        s->crashes_at[2]++;
        return 1;
    }
    return 0;
}

static void check_acks(sim *s, snode *n, const char *when, int all);

static void node_open(sim *s, snode *n)
{
    store_opts so = {.map_bytes = SIM_MAP_BYTES,
                     .unsynced = !s->o.durable,
                     .sig_memo = &s->memo,
                     .fault = sim_fault,
                     .fault_arg = n};
    int rc = store_open(&n->st, n->dir, &so);
    if (rc) die("cannot open the store in %s: %s", n->dir, tv_strerror(rc));
    n->sim = s;
    store_txn *t;
    store_frontier f = {0};
    if (store_read_begin(n->st, &t) == 0) {
        (void)store_frontier_get(t, n->id.pk, &f);
        store_read_end(t);
    }
    crdt_hlc_init(&n->clock, f.hlc_max);
    if (n->role == CRDT_ROLE_COMMUNE) {
        if (!n->tn && !(n->tn = malloc(sizeof *n->tn))) die("out of memory");
        if ((rc = tv_node_attach(n->tn, n->st, &n->id, TV_ROLE_COMMUNE, n->unit, TV_KEY_COMMUNE,
                                 n->key, node_now_ms, n)) ||
            (rc = tv_recorder_init(&n->rec, n->tn)) || (rc = tv_intake_init(&n->in, &n->rec)))
            die("node %d cannot record: %s", n->idx, tv_strerror(rc));
        if (s->crashes) check_acks(s, n, "after its restart", 0);
    }
    /* sessions start from the store as it is now; later rounds announce what it gains */
    tv_driver_config cfg = {.st = n->st, .self = &n->id, .sessions_max = (uint32_t)s->n};
    memset(cfg.epoch, n->idx + 1, SYNC_EPOCH_BYTES);
    tv_driver_ops ops = {.arg = n,
                         .now_ms = sim_now,
                         .send = sim_send,
                         .flushed = sim_flushed,
                         .restart = sim_restart};
    if ((rc = tv_driver_new(&n->drv, &cfg, &ops)))
        die("node %d cannot start its sessions: %s", n->idx, tv_strerror(rc));
}

/* The certificate tree: node i of the simulation is node i of the tree. */
static fx_tree sim_tree;

/* Signs a certificate of subject by issuer into a fresh buffer: subject's role and unit,
 * as the tree describes them (certtree.h). */
static void make_cert(const snode *issuer, const snode *subject, uint8_t **raw, size_t *len,
                      const sim *s)
{
    (void)s;
    if (fx_tree_cert(&sim_tree, issuer->idx, subject->idx, raw, len))
        die("cannot sign a certificate");
}

/* --- recording own events ------------------------------------------------------------ */

typedef struct commit_ctx {
    snode *n;
    crdt_batch_builder *b;
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
    return rc;
}

/* Plans a crash in node n's next commit, with the chance --crash gives: before the
 * commit reaches the disk or, on a durable store, as likely just after it returned
 * (recorded, never acknowledged). */
static void plan_cut(sim *s, snode *n)
{
    if (rng_unit(&s->r) >= s->o.crash) return;
    n->cut_next =
        s->o.durable && rng_below(&s->r, 2) ? STORE_FAULT_AFTER_COMMIT : STORE_FAULT_BEFORE_COMMIT;
}

static void node_crash(sim *s, snode *n);

/* Seals and commits the builder as the node's next batch; acknowledges only on success. */
static int commit(sim *s, snode *n, crdt_batch_builder *b, int may_crash)
{
    if (b->count == 0) return 0;
    commit_ctx c = {.n = n, .b = b};
    if (may_crash) plan_cut(s, n);
    int rc = store_write(n->st, commit_fn, &c);
    n->cut_next = 0;
    uint32_t count = b->count;
    crdt_batch_builder_reset(b);
    if (rc == TV_EIO && n->dying) {
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
    crdt_cert_event ce = {.cert = raw, .len = len};
    uint64_t hlc = crdt_hlc_now(clock_of(n), (uint64_t)(s->now + n->skew_ms));
    if (crdt_event_pack_cert(&b->pk, hlc, &ce)) die("cannot pack a certificate event");
    crdt_batch_builder_note(b, hlc);
}

/* Packs commune n's registration of its venue number v, whose id is derived from the
 * commune's key and a nonce (V1). */
static void pack_registration(sim *s, snode *n, int v, crdt_batch_builder *b)
{
    uint8_t nonce[TV_VENUE_NONCE_BYTES];
    for (size_t k = 0; k < sizeof nonce; k++)
        nonce[k] = (uint8_t)rng_next(&s->r);
    tv_venue_id_derive(n->venue[v], n->id.pk, nonce);
    char name[32];
    snprintf(name, sizeof name, "Địa điểm %d-%d", n->idx, v);
    crdt_venue_upsert u = {.fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY,
                           .unit = {n->unit, (uint32_t)strlen(n->unit)},
                           .name = {name, (uint32_t)strlen(name)},
                           .category = 1 + (uint32_t)rng_below(&s->r, 25),
                           .registers = 1};
    memcpy(u.nonce, nonce, sizeof nonce);
    memcpy(u.venue, n->venue[v], TV_VENUE_ID_BYTES);
    uint64_t hlc = crdt_hlc_now(clock_of(n), (uint64_t)(s->now + n->skew_ms));
    if (crdt_event_pack_venue(&b->pk, hlc, &u)) die("cannot pack a venue");
    crdt_batch_builder_note(b, hlc);
}

/* The pseudonym of simulated person k (phone 09 followed by k in 8 digits) at commune n:
 * keyed with n's K_c, as a commune node computes it. */
static void person_ref(const snode *n, uint64_t k, uint8_t ref[TV_PERSON_REF_BYTES])
{
    tv_person_id id = {.kind = TV_ID_PHONE};
    snprintf(id.norm, sizeof id.norm, "09%08llu", (unsigned long long)(k % 100000000));
    tv_person_ref(&id, n->key, ref);
}

/* The acknowledgement of a scan of the group (tv_intake_settle): kept, to be found in
 * the commune's store after every crash and at the end. */
static void sim_ack_fn(void *arg, uint64_t tag, int rc, uint64_t seq)
{
    snode *n = arg;
    if (rc) return; /* not recorded: the scan is to be taken again, not lost */
    if (n->nacks == n->acks_cap) {
        n->acks_cap = n->acks_cap ? 2 * n->acks_cap : 256;
        if (!(n->acks = realloc(n->acks, n->acks_cap * sizeof *n->acks))) die("out of memory");
    }
    TV_ASSERT(tag < n->nqueued && seq > 0);
    /* acknowledged in the order of the log: a later scan has a later event */
    TV_ASSERT(n->nacks == 0 || seq > n->acks[n->nacks - 1].seq);
    sim_ack *a = &n->acks[n->nacks++];
    *a = n->queued_acks[tag];
    a->seq = seq;
    if (seq > n->acked) n->acked = seq;
    n->sim->scans_acked++;
}

/* Makes the commune's group durable through the acknowledgement path, with a crash
 * planned in it now and then; a node cut there crashes. Returns 1 when it stays up. */
static int settle(sim *s, snode *n)
{
    if (tv_intake_queued(&n->in) == 0) return 1;
    plan_cut(s, n);
    int rc = tv_intake_settle(&n->in, sim_ack_fn, n);
    n->cut_next = 0;
    n->nqueued = 0;
    if (rc == TV_EIO && n->dying) {
        node_crash(s, n);
        return 0;
    }
    if (rc) die("node %d cannot commit: %s", n->idx, tv_strerror(rc));
    touch(s, n);
    s->commits++;
    return 1;
}

/* A commune's scans since its last commit, recorded as the gate records them: persons
 * from a pool (a phone number each), at its venues, in and out; device times spread over
 * the interval, on the device's (skewed) clock. */
static void record_scans(sim *s, snode *n, int64_t from, int64_t to)
{
    uint64_t k = (uint64_t)((double)s->o.scans_per_day * (double)(to - from) / (double)DAY_MS);
    k += rng_below(&s->r, 3);
    store_venue v;
    memset(&v, 0, sizeof v);
    for (uint64_t i = 0; i < k; i++) {
        sim_ack a = {.out = (uint8_t)rng_below(&s->r, 2),
                     .at_ms = from + (to - from) * (int64_t)i / (int64_t)(k + 1) + n->skew_ms};
        a.venue = (uint8_t)rng_below(&s->r, (uint64_t)n->nvenues);
        a.person = (uint32_t)rng_below(&s->r, SIM_PERSONS);
        char phone[16];
        snprintf(phone, sizeof phone, "09%08u", a.person);
        tv_card card;
        const char *why;
        if (tv_card_parse(phone, strlen(phone), &card, &why)) die("%s: %s", phone, why);
        memcpy(v.id, n->venue[a.venue], TV_VENUE_ID_BYTES);
        tv_scan_in in = {.venue = &v,
                         .card = &card,
                         .out = a.out,
                         .at_ms = a.at_ms,
                         .method = CRDT_METHOD_STAFF};
        if (n->nqueued == n->queued_cap) {
            n->queued_cap = n->queued_cap ? 2 * n->queued_cap : 64;
            n->queued_acks = realloc(n->queued_acks, n->queued_cap * sizeof *n->queued_acks);
            if (!n->queued_acks) die("out of memory");
        }
        n->queued_acks[n->nqueued] = a;
        tv_scan_done done;
        int rc = tv_intake_add(&n->in, &in, n->nqueued, &done);
        if (rc == TV_ELIMIT) { /* the pending group is full: commit it first */
            if (!settle(s, n)) return;
            n->queued_acks[0] = a;
            rc = tv_intake_add(&n->in, &in, 0, &done);
        }
        if (rc) die("node %d cannot record a scan: %s", n->idx, tv_strerror(rc));
        n->nqueued++;
    }
    settle(s, n);
}

/* --- retention ------------------------------------------------------------------------ */

typedef struct purge_ctx {
    int64_t now;
    store_purge_stats st;
} purge_ctx;

static int purge_fn(store_txn *t, void *arg)
{
    purge_ctx *c = arg;
    store_retention r;
    int rc = store_retention_get(t, &r);
    return rc ? rc : store_purge(t, store_retention_cutoff(&r, c->now), &c->st);
}

/* A node's daily retention, as `serve` does it: a purge with the period its store holds,
 * then a checkpoint of its own log when the log holds events no longer in force (written
 * in one batch here: the simulated logs are small; a commit cut by a crash lands nothing of
 * it). The store file is not rewritten: the simulator's stores are not searched. */
static void expire(sim *s, snode *n)
{
    purge_ctx c = {.now = s->now + n->skew_ms};
    if (store_write(n->st, purge_fn, &c)) die("node %d cannot purge", n->idx);
    s->purged_scans += c.st.scans;
    store_txn *t;
    store_retention r;
    store_checkpoint_plan p;
    if (store_read_begin(n->st, &t)) die("read");
    int rc = store_retention_get(t, &r);
    if (rc == 0)
        rc = store_checkpoint_plan_make(t, n->id.pk, store_retention_cutoff(&r, c.now), &p);
    store_read_end(t);
    if (rc) die("node %d cannot plan a checkpoint: %s", n->idx, tv_strerror(rc));
    if (p.dropped && p.n < CRDT_BATCH_EVENTS_MAX) {
        crdt_batch_builder b;
        crdt_batch_builder_init(&b);
        crdt_checkpoint base = {.upto = p.upto};
        memcpy(base.hash, p.hash, TV_HASH_BYTES);
        uint64_t hlc = crdt_hlc_now(clock_of(n), (uint64_t)(s->now + n->skew_ms));
        if (crdt_event_pack_checkpoint(&b.pk, hlc, &base)) die("cannot pack a checkpoint");
        crdt_batch_builder_note(&b, hlc);
        for (size_t i = 0; i < p.n; i++) {
            crdt_checkpoint cp = {.copy = 1,
                                  .event = p.copies[i].raw,
                                  .event_len = p.copies[i].len,
                                  .seq = p.copies[i].seq};
            hlc = crdt_hlc_now(clock_of(n), (uint64_t)(s->now + n->skew_ms));
            if (crdt_event_pack_checkpoint(&b.pk, hlc, &cp)) die("cannot pack a copy");
            crdt_batch_builder_note(&b, hlc);
        }
        if (commit(s, n, &b, 1)) {
            s->checkpoints++;
            s->dropped += p.dropped;
        }
        crdt_batch_builder_release(&b);
    }
    store_checkpoint_plan_release(&p);
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
    snode *c = &s->nodes[l->child], *p = &s->nodes[l->parent];
    if (c->drv) tv_driver_drop(c->drv, p->id.pk);
    if (p->drv) tv_driver_drop(p->drv, c->id.pk);
    l->active = 0;
    l->gen++;
}

static void link_open(sim *s, slink *l)
{
    if (l->active) return;
    snode *c = &s->nodes[l->child], *p = &s->nodes[l->parent];
    int me = (int)(l - s->links);
    if (!tv_driver_open(c->drv, p->id.pk, me) || !tv_driver_open(p->drv, c->id.pk, me))
        die("cannot start a session between nodes %d and %d", l->child, l->parent);
    l->active = 1;
    l->gen++;
    s->act[s->nact++] = me;
    mark_link(s, l);
}

static void node_crash(sim *s, snode *n)
{
    for (int i = 0; i < s->nlinks; i++)
        if (s->links[i].child == n->idx || s->links[i].parent == n->idx)
            link_close(s, &s->links[i]);
    tv_driver_free(n->drv);
    n->drv = NULL;
    if (n->tn) { /* the process dies: what was pending is gone, nothing else is told */
        tv_intake_free(&n->in);
        tv_recorder_free(&n->rec);
        tv_node_detach(n->tn);
        n->nqueued = 0;
    }
    store_close(n->st);
    n->st = NULL;
    n->dying = n->armed = n->cut_next = 0;
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
    if (!c->up || !p->up || c->cut || p->cut || s->now < l->retry_ms) return 0;
    if (s->healed) {
        /* after the heal: the tree as configured, the province link of a commune unused
         * unless its district was revoked */
        return c->role == CRDT_ROLE_DISTRICT || p->role == CRDT_ROLE_DISTRICT ||
               s->nodes[c->parent].cut;
    }
    int64_t t = s->now;
    if (c->role == CRDT_ROLE_DISTRICT) return !(t >= c->down_from && t < c->down_to);
    int online = t >= c->online_from && t < c->online_to;
    if (!online) return 0;
    const snode *d = &s->nodes[c->parent];
    int district_reachable = d->up && !d->cut && !(t >= d->down_from && t < d->down_to);
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

/* The virtual network, the transport of every node's driver: a message is delayed,
 * sometimes lost or duplicated, reordered by the jitter. */
static int sim_send(void *arg, const tv_driver_session *ds, const uint8_t *buf, size_t len)
{
    snode *n = arg;
    sim *s = n->sim;
    slink *l = &s->links[ds->link];
    int from_child = l->child == n->idx;
    s->msgs++;
    s->bytes += len;
    double loss = s->healed ? 0 : s->o.loss;
    if (rng_unit(&s->r) < loss) {
        s->lost_msgs++;
        return TV_OK;
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
        memcpy(d.buf, buf, len);
        heap_push(s, d);
    }
    return TV_OK;
}

static int64_t sim_now(void *arg)
{
    return ((snode *)arg)->sim->now;
}

static void deliver_on(sim *s, slink *l, int to_parent, const uint8_t *buf, size_t len);

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
                    .masked = {"09******00", 10},
                    .method = CRDT_METHOD_STAFF,
                    .at_ms = s->now};
    if (kind == 2) sc.unit = (crdt_text){"99999", 5}; /* outside the commune's scope */
    memcpy(sc.venue, c->venue[0], TV_VENUE_ID_BYTES);
    memcpy(sc.person, forged_person, sizeof sc.person);
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
    /* delivered to the parent's session, as if the commune had sent it */
    deliver_on(s, l, 1, buf, len);
    free(buf);
    s->forged++;
}

/* --- the insider ----------------------------------------------------------------------- */

/* The insider holds a simulated node's real signing key (stolen, or its operator gone bad)
 * and writes what the rules forbid (PROTOCOL.md §3.2), validly signed and at the next
 * place in that node's log as the receiver holds it, so that only the rules stop it:
 * certificates for wrong subjects (T1-T4), revocations from the wrong issuer (T5), batches
 * of a revoked district and of its communes (T7), events about another commune's venue
 * (V1-V3), and batches written hours ahead (C1). A batch sent into a session is noted and
 * looked for at the end; one applied straight to a store (as a session's flush or a bundle
 * import would) is judged at once. None may ever be stored where it was sent. */

static void forged_note(sim *s, int node, int signer, uint64_t seq, const uint8_t *buf, size_t len,
                        const char *what)
{
    if (s->nfg == s->fg_cap) {
        s->fg_cap = s->fg_cap ? 2 * s->fg_cap : 64;
        s->fg = realloc(s->fg, s->fg_cap * sizeof *s->fg);
        if (!s->fg) die("out of memory");
    }
    forged *f = &s->fg[s->nfg++];
    f->node = node;
    f->signer = signer;
    f->seq = seq;
    f->what = what;
    crypto_generichash(f->hash, sizeof f->hash, buf, len, NULL, 0);
}

/* Queues batch bytes on link l as a BATCH message (PROTOCOL.md §6: fixarray, type 7,
 * bin32), to its parent's session or its child's, after what the link carries already. */
static void deliver_on(sim *s, slink *l, int to_parent, const uint8_t *buf, size_t len)
{
    size_t mlen = 7 + len;
    uint8_t *m = malloc(mlen);
    if (!m) die("out of memory");
    m[0] = 0x92;
    m[1] = 7;
    m[2] = 0xc6;
    for (int i = 0; i < 4; i++)
        m[3 + i] = (uint8_t)(len >> (24 - 8 * i));
    memcpy(m + 7, buf, len);
    int64_t when = s->now + 1 > l->last_t[to_parent] ? s->now + 1 : l->last_t[to_parent];
    l->last_t[to_parent] = when;
    delivery d = {.t = when,
                  .order = s->order++,
                  .link = (int)(l - s->links),
                  .gen = l->gen,
                  .to_parent = to_parent,
                  .buf = m,
                  .len = mlen};
    heap_push(s, d);
}

/* Delivers a batch to node recv as if a peer had sent it: on its session with node `from`
 * if that one is up, else on any of its sessions. Returns 0 when recv has none up. */
static int push_batch(sim *s, int recv, int from, const uint8_t *buf, size_t len)
{
    for (int pass = 0; pass < 2; pass++)
        for (int a = 0; a < s->nact; a++) {
            slink *l = &s->links[s->act[a]];
            int other = l->parent == recv ? l->child : l->child == recv ? l->parent : -1;
            if (other < 0 || (pass == 0 && other != from)) continue;
            deliver_on(s, l, l->parent == recv, buf, len);
            return 1;
        }
    return 0;
}

/* One unlawful event. */
typedef struct insider_ev {
    uint32_t type; /* CRDT_EV_* */
    const uint8_t *cert;
    size_t cert_len;
    uint8_t subject[TV_NODE_ID_BYTES]; /* revoke */
    crdt_venue_upsert venue;
    crdt_scan scan;
    crdt_reminder reminder;
} insider_ev;

/* Seals e as signer's next batch after what t holds of signer's log, dated just after
 * that (and not before now); *seq is its place. */
static int insider_seal(sim *s, store_txn *t, int signer, const insider_ev *e, uint8_t **buf,
                        size_t *len, uint64_t *seq)
{
    const snode *g = &s->nodes[signer];
    store_frontier f;
    memset(&f, 0, sizeof f);
    int rc = store_frontier_get(t, g->id.pk, &f);
    if (rc == TV_ENOTFOUND)
        memset(&f, 0, sizeof f);
    else if (rc)
        return rc;
    uint64_t ms = crdt_hlc_ms(f.hlc_max) + 1;
    if (ms < (uint64_t)s->now) ms = (uint64_t)s->now;
    uint64_t hlc = crdt_hlc_make(ms, 0);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    switch (e->type) {
    case CRDT_EV_CERT: {
        crdt_cert_event ce = {.cert = e->cert, .len = e->cert_len};
        rc = crdt_event_pack_cert(&b.pk, hlc, &ce);
        break;
    }
    case CRDT_EV_REVOKE: {
        crdt_revoke r;
        memset(&r, 0, sizeof r);
        memcpy(r.subject, e->subject, TV_NODE_ID_BYTES);
        rc = crdt_event_pack_revoke(&b.pk, hlc, &r);
        break;
    }
    case CRDT_EV_SCAN:
        rc = crdt_event_pack_scan(&b.pk, hlc, &e->scan);
        break;
    case CRDT_EV_VENUE_UPSERT:
        rc = crdt_event_pack_venue(&b.pk, hlc, &e->venue);
        break;
    default:
        rc = crdt_event_pack_reminder(&b.pk, hlc, &e->reminder);
        break;
    }
    if (rc) die("cannot pack the insider's event: %s", tv_strerror(rc));
    crdt_batch_builder_note(&b, hlc);
    rc = crdt_batch_seal(&b, &g->id, f.seq + 1, f.seq ? f.hash : NULL, buf, len, NULL);
    crdt_batch_builder_release(&b);
    *seq = f.seq + 1;
    return rc;
}

/* Sends e, signed with signer's key, into one of recv's sessions; only when recv holds
 * a certificate of `needs` (NULL: none needed) from a district, as T4 judges a certificate
 * for it from another district: without one, or with the root's (after a
 * re-certification), e would be lawful there, though never installed. */
static void insider_send(sim *s, int signer, int recv, const insider_ev *e, const uint8_t *needs,
                         const char *what)
{
    snode *r = &s->nodes[recv];
    if (!r->up || signer == recv) return;
    store_txn *t;
    if (store_read_begin(r->st, &t)) die("read");
    if (needs && (store_cert_get(t, needs, &cert_chk, NULL, NULL) ||
                  memcmp(cert_chk.issuer, s->nodes[0].id.pk, TV_NODE_ID_BYTES) == 0)) {
        store_read_end(t);
        return;
    }
    uint8_t *buf;
    size_t len;
    uint64_t seq;
    int rc = insider_seal(s, t, signer, e, &buf, &len, &seq);
    store_read_end(t);
    if (rc) die("cannot seal the insider's batch: %s", tv_strerror(rc));
    if (push_batch(s, recv, signer, buf, len)) {
        forged_note(s, recv, signer, seq, buf, len, what);
        s->insider++;
    }
    free(buf);
}

typedef struct direct_ctx {
    sim *s;
    int signer;
    const insider_ev *e;
    uint8_t *buf;
    size_t len;
    uint64_t seq;
    int rc;
    store_apply_result r;
} direct_ctx;

static int direct_fn(store_txn *t, void *arg)
{
    direct_ctx *c = arg;
    free(c->buf); /* from an attempt the store retried (its map grown) */
    c->buf = NULL;
    int rc = insider_seal(c->s, t, c->signer, c->e, &c->buf, &c->len, &c->seq);
    if (rc) return rc;
    c->rc = store_apply_batch(t, c->buf, c->len, c->s->now, &c->r);
    /* a refusal leaves no trace, a parked batch is kept: commit either way */
    if (c->rc == TV_ESTORE || c->rc == TV_ENOMEM || c->rc == TV_ENOSPC || c->rc == TV_EIO ||
        c->rc == TV_ECORRUPT)
        return c->rc;
    return TV_OK;
}

/* Applies e, signed with signer's key, to recv's store as its sessions would: it must be
 * refused, or parked (and refused when what it waits for comes). */
static void insider_apply(sim *s, int signer, int recv, const insider_ev *e, const char *what)
{
    snode *r = &s->nodes[recv];
    if (!r->up || signer == recv) return;
    direct_ctx c = {.s = s, .signer = signer, .e = e};
    int rc = store_write(r->st, direct_fn, &c);
    if (rc) die("node %d cannot take the insider's batch: %s", recv, tv_strerror(rc));
    s->insider++;
    forged_note(s, recv, signer, c.seq, c.buf, c.len, what);
    free(c.buf);
    if (c.rc == TV_EPARKED) {
        s->insider_parked++;
    } else if (c.rc) {
        s->insider_refused++;
    } else {
        violation(s, "node %d accepted %s, signed with node %d's key", recv, what, signer);
        touch(s, r);
    }
}

/* A random commune of district d (any commune when d < 0) other than skip, or -1. */
static int pick_commune(sim *s, int d, int skip)
{
    int k = 0, pick = -1;
    for (int i = 0; i < s->n; i++) {
        const snode *c = &s->nodes[i];
        if (c->role != CRDT_ROLE_COMMUNE || i == skip || (d >= 0 && c->parent != d)) continue;
        if (rng_below(&s->r, (uint64_t)++k) == 0) pick = i; /* reservoir: each equally */
    }
    return pick;
}

/* A certificate of subject by issuer, narrowed to one commune's unit as a valid one would
 * be (so that the rules of the tree's shape are what stops it). */
static void narrow_cert(const snode *issuer, const uint8_t *subject, const char *unit,
                        uint8_t **raw, size_t *len)
{
    fx_cert_spec spec = {.subject = subject,
                         .role = CRDT_ROLE_COMMUNE,
                         .unit = unit,
                         .scope = &unit,
                         .scope_len = 1,
                         .not_before_ms = SIM_START_MS - DAY_MS};
    if (fx_cert_sign(&issuer->id, &spec, raw, len)) die("cannot sign a certificate");
}

/* Whether node x shows venue v of commune b: its registration has been applied there. */
static int venue_held(sim *s, int x, int b, int v)
{
    store_txn *t;
    if (!s->nodes[x].up || store_read_begin(s->nodes[x].st, &t)) return 0;
    store_venue w;
    int held = store_venue_get(t, s->nodes[b].venue[v], &w) == 0;
    store_read_end(t);
    return held;
}

/* The insider writes about commune b's venue v with signer's key: renames it or moves it
 * into another unit, records a scan there, sends it a reminder, or claims its id as a
 * registration of its own (V1, V2). A commune's key writes naming its own unit or b's, and
 * is judged by the province and by the district that holds both, where they show the venue
 * already; b's district's key writes naming the district's own unit, at the province,
 * before b's registration has reached it: it waits (V3), then is refused (V2). (A batch
 * that waits while its signer's real log goes on past it would be evidence of a fork: so
 * only a district's key, whose node writes nothing of its own after the start, sends
 * one.) */
enum { HIJACK_ANY = -1, HIJACK_CLAIM = 4 };
static void hijack(sim *s, int signer, int b, int v, int kind)
{
    static const char moved[] = "Chiếm bởi nơi khác", note[] = "Nhắc nhở giả";
    snode *A = &s->nodes[signer], *B = &s->nodes[b];
    int district = A->role == CRDT_ROLE_DISTRICT;
    crdt_text ua = {A->unit, (uint32_t)strlen(A->unit)}, ub = {B->unit, (uint32_t)strlen(B->unit)};
    crdt_text unit = district || rng_below(&s->r, 2) ? ua : ub;
    insider_ev e;
    memset(&e, 0, sizeof e);
    const char *what;
    if (kind == HIJACK_ANY) kind = (int)rng_below(&s->r, district ? 4 : 5);
    switch (kind) {
    case 0:
    case 1:
        e.type = CRDT_EV_VENUE_UPSERT;
        memcpy(e.venue.venue, B->venue[v], TV_VENUE_ID_BYTES);
        e.venue.fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME;
        e.venue.unit = unit;
        e.venue.name = (crdt_text){moved, sizeof moved - 1};
        what = "an upsert renaming or moving another commune's venue";
        break;
    case 2:
        e.type = CRDT_EV_SCAN;
        memcpy(e.scan.venue, B->venue[v], TV_VENUE_ID_BYTES);
        memcpy(e.scan.person, forged_person, sizeof forged_person);
        e.scan.unit = unit;
        e.scan.masked = (crdt_text){"09******99", 10};
        e.scan.method = CRDT_METHOD_STAFF;
        e.scan.at_ms = s->now;
        what = "a scan at another commune's venue";
        break;
    case 3:
        e.type = CRDT_EV_VENUE_REMINDER;
        memcpy(e.reminder.venue, B->venue[v], TV_VENUE_ID_BYTES);
        e.reminder.unit = unit;
        e.reminder.note = (crdt_text){note, sizeof note - 1};
        e.reminder.action = CRDT_REMIND;
        what = "a reminder to another commune's venue";
        break;
    default:
        e.type = CRDT_EV_VENUE_UPSERT;
        memcpy(e.venue.venue, B->venue[v], TV_VENUE_ID_BYTES);
        e.venue.registers = 1;
        for (size_t k = 0; k < TV_VENUE_NONCE_BYTES; k++)
            e.venue.nonce[k] = (uint8_t)rng_next(&s->r);
        e.venue.fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME;
        e.venue.unit = ua;
        e.venue.name = (crdt_text){moved, sizeof moved - 1};
        what = "a registration of another commune's venue id";
        break;
    }
    if (district) {
        /* only past the district's whole log at the province: a batch waiting at a place
         * the district's own log still has to fill would be evidence of a fork */
        store_txn *t;
        store_frontier f = {0}, own = {0};
        if (!s->nodes[0].up || store_read_begin(s->nodes[0].st, &t)) return;
        (void)store_frontier_get(t, A->id.pk, &f);
        store_read_end(t);
        if (A->up && store_read_begin(A->st, &t) == 0) {
            (void)store_frontier_get(t, A->id.pk, &own);
            store_read_end(t);
        }
        if (A->up && f.seq >= own.seq) insider_apply(s, signer, 0, &e, what);
        return;
    }
    /* a claim is refused whatever the receiver holds (V1): sent before the registration */
    if (kind == HIJACK_CLAIM || venue_held(s, 0, b, v)) insider_apply(s, signer, 0, &e, what);
    if (A->parent == B->parent && !s->nodes[A->parent].cut && venue_held(s, A->parent, b, v))
        insider_apply(s, signer, A->parent, &e, what);
}

/* One of the insider's attacks on the tree of trust or on venues, with a district's or a
 * commune's key. */
/* long: one case per attack (T1-T5, V1-V3), a few lines each: clearer as one switch */
static void insider(sim *s)
{
    int d = 1 + (int)rng_below(&s->r, (uint64_t)s->o.districts);
    int d2 = s->o.districts > 1 ? 1 + (int)rng_below(&s->r, (uint64_t)s->o.districts - 1) : -1;
    if (d2 >= d) d2++;
    int c = pick_commune(s, d, -1);
    int c2 = d2 > 0 ? pick_commune(s, d2, -1) : -1;
    snode *D = &s->nodes[d];
    insider_ev e;
    memset(&e, 0, sizeof e);
    uint8_t *raw = NULL;
    size_t len = 0;
    const char *what;
    int signer = d;
    const uint8_t *needs = NULL;
    switch (rng_below(&s->r, 10)) {
    case 0: /* T1: the district certifies the root's key, as the root */
        make_cert(D, &s->nodes[0], &raw, &len, s);
        what = "a district's certificate for the root";
        break;
    case 1: /* T1 (and T3): the root's key, narrowed as a valid certificate would be */
        narrow_cert(D, s->nodes[0].id.pk, s->nodes[c].unit, &raw, &len);
        what = "a district's narrow certificate for the root";
        break;
    case 2: /* T1: a second root, the district signing for itself */
        narrow_cert(D, D->id.pk, s->nodes[c].unit, &raw, &len);
        what = "a district's self-signed certificate";
        break;
    case 3: /* T2: another district, with that district's role and scope */
        if (d2 < 0) return;
        make_cert(D, &s->nodes[d2], &raw, &len, s);
        what = "a district's certificate for another district";
        break;
    case 4: /* T4: a commune of another district, narrowed to one of its own communes; sent
             * where that commune's certificate is held (elsewhere it would be lawful) */
        if (c2 < 0) return;
        narrow_cert(D, s->nodes[c2].id.pk, s->nodes[c].unit, &raw, &len);
        what = "a district's certificate for another district's commune";
        needs = s->nodes[c2].id.pk;
        break;
    case 5: /* T5: the district revokes the root */
        e.type = CRDT_EV_REVOKE;
        memcpy(e.subject, s->nodes[0].id.pk, TV_NODE_ID_BYTES);
        what = "a district's revocation of the root";
        break;
    case 6: /* T5: the district revokes another district */
        if (d2 < 0) return;
        e.type = CRDT_EV_REVOKE;
        memcpy(e.subject, s->nodes[d2].id.pk, TV_NODE_ID_BYTES);
        what = "a district's revocation of another district";
        break;
    case 7: { /* T5: a commune revokes its district, the root, another district or a
               * sibling commune */
        int victim[4] = {d, 0, d2, pick_commune(s, d, c)};
        int k = (int)rng_below(&s->r, 4);
        if (victim[k] < 0) k = 0;
        e.type = CRDT_EV_REVOKE;
        memcpy(e.subject, s->nodes[victim[k]].id.pk, TV_NODE_ID_BYTES);
        what = "a commune's revocation of a node it did not certify";
        signer = c;
        break;
    }
    default: { /* V1-V3: a commune writes about another commune's venue */
        int b = pick_commune(s, rng_below(&s->r, 2) ? s->nodes[c].parent : -1, c);
        if (b >= 0 && s->nodes[b].nvenues)
            hijack(s, c, b, (int)rng_below(&s->r, (uint64_t)s->nodes[b].nvenues), HIJACK_ANY);
        return;
    }
    }
    if (raw) {
        e.type = CRDT_EV_CERT;
        e.cert = raw;
        e.cert_len = len;
    }
    /* to the province, and to a node below the signer that holds its log */
    insider_send(s, signer, 0, &e, needs, what);
    insider_send(s, signer, signer == d ? c : d, &e, needs, what);
    free(raw);
}

/* Commune n writes a batch with its clock hours ahead (set wrong, or on purpose): a
 * rename of one of its venues, which must not win anywhere before its time (C1). Only
 * when that time comes well before the end of the run, so that it can converge. */
static void future_commit(sim *s, snode *n)
{
    int64_t ahead = 90 * MINUTE_MS + (int64_t)rng_below(&s->r, 240) * MINUTE_MS;
    int64_t at = s->now + n->skew_ms + ahead;
    if (s->nfut == sizeof s->fut / sizeof s->fut[0] ||
        at - (int64_t)CRDT_HLC_AHEAD_MAX_MS > s->end_ms - 3 * HOUR_MS)
        return;
    int v = (int)rng_below(&s->r, (uint64_t)n->nvenues);
    char name[48];
    snprintf(name, sizeof name, "Tên mới %d-%d (đặt trước)", n->idx, v);
    crdt_venue_upsert u = {.fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME,
                           .unit = {n->unit, (uint32_t)strlen(n->unit)},
                           .name = {name, (uint32_t)strlen(name)}};
    memcpy(u.venue, n->venue[v], TV_VENUE_ID_BYTES);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    uint64_t hlc = crdt_hlc_now(clock_of(n), (uint64_t)at);
    if (crdt_event_pack_venue(&b.pk, hlc, &u)) die("cannot pack a venue");
    crdt_batch_builder_note(&b, hlc);
    commit(s, n, &b, 0);
    crdt_batch_builder_release(&b);
    store_txn *t;
    store_frontier own = {0};
    if (store_read_begin(n->st, &t) || store_frontier_get(t, n->id.pk, &own)) die("read");
    store_read_end(t);
    future *f = &s->fut[s->nfut++];
    f->node = n->idx;
    f->seq = own.seq;
    f->due = (int64_t)crdt_hlc_ms(hlc) - (int64_t)CRDT_HLC_AHEAD_MAX_MS;
    f->done = 0;
}

/* A commune registers one more venue; the insider writes about it at once, before the
 * registration has reached the province: with the commune's district's key (it waits,
 * V3), and claiming its id with another commune's key (V1). */
static void register_more(sim *s, snode *n)
{
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    int v = n->nvenues;
    pack_registration(s, n, v, &b);
    int ok = commit(s, n, &b, 1);
    crdt_batch_builder_release(&b);
    if (!ok) return;
    n->nvenues++;
    if (!s->o.forger) return;
    if (!s->nodes[n->parent].cut) hijack(s, n->parent, n->idx, v, HIJACK_ANY);
    int a = pick_commune(s, -1, n->idx);
    if (a >= 0) hijack(s, a, n->idx, v, HIJACK_CLAIM);
}

/* --- a district revoked on the way ------------------------------------------------------ */

/* The province revokes district rev_d (its key stolen, say): the district is unplugged,
 * its communes fall back to the province, whose sessions and stores refuse them (T7)
 * until it re-certifies them itself. */
static void revoke_district(sim *s)
{
    snode *p = &s->nodes[0], *d = &s->nodes[s->rev_d];
    if (!p->up) return; /* when the province is back */
    crdt_revoke r = {.reason = {"khóa bị lộ", (uint32_t)strlen("khóa bị lộ")}};
    memcpy(r.subject, d->id.pk, TV_NODE_ID_BYTES);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    uint64_t hlc = crdt_hlc_now(&p->clock, (uint64_t)(s->now + p->skew_ms));
    if (crdt_event_pack_revoke(&b.pk, hlc, &r)) die("cannot pack a revocation");
    crdt_batch_builder_note(&b, hlc);
    commit(s, p, &b, 0);
    crdt_batch_builder_release(&b);
    d->cut = 1;
    s->rev_done = 1;
    /* what the province held of the district's communes when it revoked the district */
    store_txn *t;
    if (store_read_begin(p->st, &t)) die("read");
    for (int c = 1; c < s->n; c++) {
        store_frontier f = {0};
        if (s->nodes[c].parent != s->rev_d || s->nodes[c].role != CRDT_ROLE_COMMUNE) continue;
        if (store_frontier_get(t, s->nodes[c].id.pk, &f)) f.seq = 0;
        s->rev_front[c] = f.seq;
    }
    store_read_end(t);
    if (s->o.verbose)
        printf("t=%" PRId64 " the province revokes district %d\n", s->now - SIM_START_MS, d->idx);
}

/* The province certifies the revoked district's communes itself (T4: an issuer above the
 * installed one replaces it). */
static void recertify(sim *s)
{
    snode *p = &s->nodes[0];
    if (!p->up) return;
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    for (int i = 1; i < s->n; i++) {
        if (s->nodes[i].role != CRDT_ROLE_COMMUNE || s->nodes[i].parent != s->rev_d) continue;
        uint8_t *raw;
        size_t len;
        make_cert(p, &s->nodes[i], &raw, &len, s);
        add_cert_event(s, p, &b, raw, len);
        free(raw);
    }
    commit(s, p, &b, 0);
    crdt_batch_builder_release(&b);
    s->recert_done = 1;
    if (s->o.verbose)
        printf("t=%" PRId64 " the province re-certifies district %d's communes\n",
               s->now - SIM_START_MS, s->rev_d);
}

/* While the district is revoked: a commune's next batch, as it holds it, relayed to the
 * province by whoever is connected (T7 must refuse it until the re-certification), and a
 * batch the revoked district's key goes on writing (refused for good). */
static void revoked_inject(sim *s)
{
    int c = pick_commune(s, s->rev_d, -1);
    snode *p = &s->nodes[0], *C = &s->nodes[c];
    if (!p->up || !C->up) return;
    if (!s->recert_done) {
        store_txn *t;
        store_frontier f = {0};
        if (store_read_begin(p->st, &t)) die("read");
        int rc = store_frontier_get(t, C->id.pk, &f);
        store_read_end(t);
        if (rc == TV_ENOTFOUND) f.seq = 0;
        const uint8_t *buf;
        size_t len;
        if (store_read_begin(C->st, &t)) die("read");
        if (store_batch_at(t, C->id.pk, f.seq + 1, &buf, &len) == 0)
            s->insider += (uint64_t)push_batch(s, 0, c, buf, len);
        store_read_end(t);
    }
    insider_ev e;
    memset(&e, 0, sizeof e);
    e.type = CRDT_EV_SCAN;
    memcpy(e.scan.venue, C->venue[0], TV_VENUE_ID_BYTES);
    memcpy(e.scan.person, forged_person, sizeof forged_person);
    e.scan.unit = (crdt_text){C->unit, (uint32_t)strlen(C->unit)};
    e.scan.masked = (crdt_text){"09******99", 10};
    e.scan.method = CRDT_METHOD_STAFF;
    e.scan.at_ms = s->now;
    insider_send(s, s->rev_d, 0, &e, NULL, "a revoked district's batch");
}

/* Checks, at a node that just applied something: no batch of a commune of the revoked
 * district taken while the node holds the revocation and not yet the commune's new
 * certificate (T7); no batch written hours ahead applied before its time (C1). */
static void watch(sim *s, snode *x)
{
    if (!s->rev_done && s->nfut == 0) return;
    store_txn *t;
    if (store_read_begin(x->st, &t)) die("read");
    if (s->rev_done && x->idx != s->rev_d && store_revoked(t, s->nodes[s->rev_d].id.pk) == 1) {
        for (int c = 1; c < s->n; c++) {
            const snode *C = &s->nodes[c];
            if (c == x->idx || C->role != CRDT_ROLE_COMMUNE || C->parent != s->rev_d) continue;
            if (store_cert_get(t, C->id.pk, &cert_chk, NULL, NULL) ||
                memcmp(cert_chk.issuer, s->nodes[s->rev_d].id.pk, TV_NODE_ID_BYTES) != 0)
                continue; /* re-certified here (or never certified) */
            store_frontier f = {0};
            if (store_frontier_get(t, C->id.pk, &f)) f.seq = 0;
            uint64_t *seen = &s->rev_front[(size_t)x->idx * (size_t)s->n + (size_t)c];
            if (*seen != UINT64_MAX && f.seq > *seen)
                violation(s,
                          "node %d took commune %d's events up to %" PRIu64 " (from %" PRIu64
                          ") while it holds the revocation of its district %d, before the "
                          "province re-certified it",
                          x->idx, c, f.seq, *seen, s->rev_d);
            *seen = f.seq;
        }
    }
    for (size_t i = 0; i < s->nfut; i++) {
        future *u = &s->fut[i];
        if (u->node == x->idx || s->now >= u->due) continue;
        store_frontier f = {0};
        if (store_frontier_get(t, s->nodes[u->node].id.pk, &f) == 0 && f.seq >= u->seq) {
            violation(s,
                      "node %d applied commune %d's batch %" PRIu64 " %" PRId64
                      " min before its time (written over an hour ahead)",
                      x->idx, u->node, u->seq, (u->due - s->now) / MINUTE_MS);
            u->due = s->now; /* once */
        }
    }
    store_read_end(t);
}

static int release_fn(store_txn *t, void *arg)
{
    uint32_t released;
    return store_parked_release(t, *(const int64_t *)arg, &released);
}

static int should_hold(sim *s, int a, int b);

/* As a daemon does now and then: a node that should hold a batch written ahead, and whose
 * time has come, lets it through if it parked it (store_parked_release). */
static void release_due(sim *s)
{
    for (size_t i = 0; i < s->nfut; i++) {
        future *u = &s->fut[i];
        if (u->done || s->now < u->due) continue;
        int missing = 0;
        for (int x = 0; x < s->n; x++) {
            snode *X = &s->nodes[x];
            if (x == u->node || X->cut || !should_hold(s, x, u->node)) continue;
            if (!X->up) {
                missing = 1;
                continue;
            }
            store_txn *t;
            store_frontier f = {0};
            if (store_read_begin(X->st, &t)) die("read");
            int rc = store_frontier_get(t, s->nodes[u->node].id.pk, &f);
            store_read_end(t);
            if (rc == 0 && f.seq >= u->seq) continue;
            missing = 1;
            if (store_write(X->st, release_fn, &s->now)) die("node %d cannot release", x);
            touch(s, X);
        }
        u->done = !missing;
    }
}

/* --- the run ------------------------------------------------------------------------- */

static void watch(sim *s, snode *x);

/* After a node made received batches durable: the checks of what it applied. */
static int sim_flushed(void *arg)
{
    snode *n = arg;
    watch(n->sim, n);
    return TV_OK;
}

/* A session that closed or died (a long silence) is started again, with its peer's, as a
 * reconnect would; one refused as revoked (T7) is tried again later, as a daemon backs
 * off. */
static int sim_restart(void *arg, tv_driver_session *ds)
{
    snode *n = arg;
    sim *s = n->sim;
    slink *l = &s->links[ds->link];
    if (l->closing) return 0;
    tv_driver_session *x = link_session(s, l, 1), *y = link_session(s, l, 0);
    sync_stats xs, ys;
    sync_peer_stats(x->s, &xs);
    sync_peer_stats(y->s, &ys);
    if (s->o.verbose)
        printf("t=%" PRId64 " link %d-%d restarts: %s/%s (%s, %s)\n", s->now - SIM_START_MS,
               l->child, l->parent, sync_state_name(xs.state), sync_state_name(ys.state),
               tv_strerror(xs.error ? xs.error : xs.peer_error),
               tv_strerror(ys.error ? ys.error : ys.peer_error));
    if (xs.error == TV_EREVOKED || xs.peer_error == TV_EREVOKED || ys.error == TV_EREVOKED ||
        ys.peer_error == TV_EREVOKED) {
        l->closing = 1;
        s->closing[s->nclosing++] = (int)(l - s->links);
        return 0;
    }
    /* both ends afresh; what is on the way belongs to the old sessions */
    l->gen++;
    snode *other = &s->nodes[n->idx == l->child ? l->parent : l->child];
    if (tv_driver_restart(other->drv, n->idx == l->child ? y : x))
        die("cannot start a session between nodes %d and %d", l->child, l->parent);
    mark_link(s, l);
    return 1;
}

/* Runs the driver's turn at every node with something to do: messages delivered, a
 * timer due, its own new data. */
static void step_sessions(sim *s)
{
    while (s->ntimers && s->timers[0].t <= s->now) {
        timer t = timer_pop(s);
        snode *n = &s->nodes[t.node];
        if (n->drv && n->tver == t.ver) mark(s, n);
    }
    /* a node that applied something outside its sessions tells them */
    for (int k = 0; k < s->ntouched; k++) {
        snode *n = &s->nodes[s->touched[k]];
        n->touched = 0;
        if (!n->up) continue;
        watch(s, n);
        tv_driver_notify(n->drv);
        mark(s, n);
    }
    s->ntouched = 0;
    for (int w = 0; w < s->nwork; w++) {
        snode *n = &s->nodes[s->work[w]];
        n->queued = 0;
        if (!n->drv) continue;
        n->armed = s->o.durable && !s->healed; /* a durable node may die in any write */
        int rc = tv_driver_turn(n->drv);
        n->armed = 0;
        if (n->dying) { /* cut mid-flush or mid-apply: its state is dropped */
            node_crash(s, n);
            continue;
        }
        if (rc) die("node %d: %s", n->idx, tv_strerror(rc));
        int64_t e = tv_driver_wake(n->drv, s->now, INT64_MAX);
        if (e < INT64_MAX) timer_push(s, (timer){e, n->idx, ++n->tver});
    }
    s->nwork = 0;
    for (int k = 0; k < s->nclosing; k++) {
        slink *l = &s->links[s->closing[k]];
        l->closing = 0;
        link_close(s, l);
        l->retry_ms = s->now + 20 * MINUTE_MS;
    }
    s->nclosing = 0;
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
        tv_driver_session *x = link_session(s, l, 1), *y = link_session(s, l, 0);
        if (!x || !y || sync_peer_state(x->s) != SYNC_IN_STEP ||
            sync_peer_state(y->s) != SYNC_IN_STEP)
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
            snode *to = &s->nodes[d.to_parent ? l->parent : l->child];
            snode *from = &s->nodes[d.to_parent ? l->child : l->parent];
            /* refusals end sessions: fine */
            to->armed = s->o.durable && !s->healed;
            (void)tv_driver_deliver(to->drv, from->id.pk, d.link, d.buf, d.len);
            to->armed = 0;
            if (to->dying)
                node_crash(s, to);
            else
                mark(s, to);
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

/* long: the virtual clock's loop, each minute's chores in the order they happen; reshaped
 * when communes record through production's recorder (issue 17) */
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
            /* a re-certification the province's crash held back is done now */
            if (s->rev_done && !s->recert_done) recertify(s);
            for (int k = 0; k < s->nlinks; k++) {
                link_close(s, &s->links[k]);
                s->links[k].retry_ms = 0;
            }
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
                for (int i = 0; i < s->n && s->o.retention_days && d > 0; i++)
                    if (s->nodes[i].up && !s->nodes[i].cut) expire(s, &s->nodes[i]);
            }
            for (int i = 0; i < s->n && !s->healed; i++) {
                snode *n = &s->nodes[i];
                if (!n->up && s->now >= n->restart_ms) {
                    node_open(s, n);
                    n->up = 1;
                }
                if (n->up && n->role == CRDT_ROLE_COMMUNE && s->now >= n->next_commit_ms) {
                    /* now and then: a new venue; the insider's clock set hours ahead */
                    if (n->nvenues < SIM_VENUES_MAX && rng_below(&s->r, 12) == 0)
                        register_more(s, n);
                    if (n->up && s->o.forger && rng_below(&s->r, 30) == 0) future_commit(s, n);
                    if (n->up)
                        record_scans(s, n, n->next_commit_ms - s->o.commit_ms, n->next_commit_ms);
                    n->next_commit_ms += s->o.commit_ms;
                }
            }
            /* the district revoked on the way, its communes re-certified later */
            if (s->rev_d > 0 && !s->healed) {
                if (!s->rev_done && s->now >= s->rev_at) revoke_district(s);
                if (s->rev_done && !s->recert_done && s->now >= s->recert_at) recertify(s);
                if (s->rev_done && s->o.forger && rng_below(&s->r, 20) == 0) revoked_inject(s);
            }
            if (s->o.forger && !s->healed && rng_below(&s->r, 90) == 0) insider(s);
            if ((minute - SIM_START_MS) / MINUTE_MS % 10 == 0) release_due(s);
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
        int64_t was = s->now;
        s->now = next_wake(s, minute);
        TV_ASSERT(s->now > was); /* virtual time only moves on */
    }
    violation(s, "no convergence within %lld hours of the heal",
              (long long)(SIM_HEAL_MS_MAX / HOUR_MS));
}

/* --- checks -------------------------------------------------------------------------- */

typedef struct parked_find {
    const uint8_t *origin;
    const store_parked *found;
    store_parked p;
} parked_find;

static int parked_fn(const store_parked *p, void *ctx)
{
    parked_find *f = ctx;
    if (memcmp(p->origin, f->origin, TV_NODE_ID_BYTES)) return 0;
    f->p = *p;
    f->found = &f->p;
    return 1;
}

/* Why a node lacks part of an origin's log, as its store says. */
static const char *why_behind(store_txn *t, const uint8_t *origin)
{
    static char why[128];
    parked_find f = {.origin = origin};
    (void)store_parked_foreach(t, parked_fn, &f);
    if (store_frozen(t, origin) == 1) return " (its log forked: frozen)";
    if (store_revoked(t, origin) == 1) return " (revoked)";
    if (store_chain_check(t, origin, STORE_TIME_ANY, NULL) == TV_EREVOKED)
        return " (a key above it revoked: not re-certified here)";
    if (!f.found) return "";
    snprintf(why, sizeof why, " (batch %" PRIu64 " parked, waiting for %s)", f.p.first_seq,
             f.p.waits_for_time ? "its time" : "a venue's registration");
    return why;
}

static int count_scan(const store_scan_ref *x, void *ctx)
{
    (void)x;
    ++*(uint64_t *)ctx;
    return 0;
}
static int count_reminder(uint64_t hlc, const uint8_t *origin, uint8_t action, const char *note,
                          size_t note_len, void *ctx)
{
    (void)hlc, (void)origin, (void)action, (void)note, (void)note_len;
    ++*(uint64_t *)ctx;
    return 0;
}

/* Scans of one person under one commune's pseudonym: how many, and whether any is at a
 * venue that is not that commune's. */
typedef struct person_found {
    const snode *n;
    uint64_t count;
    int elsewhere;
} person_found;

static int count_person_scan(const store_scan_ref *x, void *ctx)
{
    person_found *f = ctx;
    f->count++;
    int mine = 0;
    for (int v = 0; v < f->n->nvenues && !mine; v++)
        mine = memcmp(x->venue, f->n->venue[v], TV_VENUE_ID_BYTES) == 0;
    f->elsewhere |= !mine;
    return 0;
}

/* The tree of trust as node a holds it, whatever the insider sent: the root's own
 * certificate with its health flag, every other node's from its issuer (a district's from
 * the root, a commune's from its district, or from the root once re-certified), nobody
 * revoked but the district the province revoked; and no fabricated scan or reminder. */
static void check_trust(sim *s, store_txn *t, int a)
{
    for (int y = 0; y < s->n; y++) {
        const snode *Y = &s->nodes[y];
        int rc = store_cert_get(t, Y->id.pk, &cert_chk, NULL, NULL);
        if (rc == TV_ENOTFOUND && y != 0) continue;
        if (rc) {
            violation(s, "node %d lacks the root's certificate", a);
            continue;
        }
        const uint8_t *issuer = s->nodes[Y->role == CRDT_ROLE_COMMUNE ? Y->parent : 0].id.pk;
        int recert = Y->role == CRDT_ROLE_COMMUNE && Y->parent == s->rev_d && s->recert_done &&
                     memcmp(cert_chk.issuer, s->nodes[0].id.pk, TV_NODE_ID_BYTES) == 0;
        if (memcmp(cert_chk.issuer, issuer, TV_NODE_ID_BYTES) != 0 && !recert)
            violation(s, "node %d holds node %d's certificate from another issuer", a, y);
        if (y == 0 && !(cert_chk.flags & CRDT_CERT_F_HEALTH))
            violation(s, "node %d holds the root's certificate without its health flag", a);
        int rv = store_revoked(t, Y->id.pk);
        if (rv == 1 && !(s->rev_done && y == s->rev_d))
            violation(s, "node %d holds node %d revoked", a, y);
    }
    uint64_t k = 0;
    (void)store_scans_by_person(t, forged_person, INT64_MIN, INT64_MAX, count_scan, &k);
    if (k) violation(s, "node %d indexes %" PRIu64 " fabricated scans", a, k);
    for (int c = 0; c < s->n; c++)
        for (int v = 0; v < s->nodes[c].nvenues; v++) {
            k = 0;
            (void)store_reminders_foreach(t, s->nodes[c].venue[v], count_reminder, &k);
            if (k)
                violation(s, "node %d holds %" PRIu64 " reminders to venue %d of commune %d", a, k,
                          v, c);
        }
}

/* Should node a hold origin b's log? (The partition, from the tree: every node holds the
 * province's and every district's log; a district holds its communes' too.) */
static int should_hold(sim *s, int a, int b)
{
    const snode *x = &s->nodes[a], *y = &s->nodes[b];
    if (a == b || y->role != CRDT_ROLE_COMMUNE || x->role == CRDT_ROLE_PROVINCE) return 1;
    if (x->role == CRDT_ROLE_DISTRICT) return y->parent == a; /* its communes */
    return 0;                                                 /* a commune: no other commune's */
}

typedef struct old_scan {
    int64_t before;
    uint64_t n;
} old_scan;

static int count_old(const store_scan_ref *x, void *ctx)
{
    old_scan *o = ctx;
    if (x->at_ms < o->before) o->n++;
    return 0;
}

/* With a retention period: a last purge on every node, after which no node indexes a scan
 * older than its cutoff, whatever arrived after its previous purge. */
static void check_expired(sim *s)
{
    for (int a = 0; a < s->n; a++) {
        purge_ctx c = {.now = s->now};
        if (store_write(s->nodes[a].st, purge_fn, &c)) die("node %d cannot purge", a);
        store_txn *t;
        if (store_read_begin(s->nodes[a].st, &t)) die("read");
        old_scan o = {.before = c.st.cutoff_ms};
        for (int k = 0; k < s->n; k++)
            for (int v = 0; v < s->nodes[k].nvenues; v++)
                (void)store_scans_by_venue(t, s->nodes[k].venue[v], INT64_MIN, INT64_MAX, count_old,
                                           &o);
        store_read_end(t);
        if (o.n) violation(s, "node %d indexes %" PRIu64 " scans older than its cutoff", a, o.n);
    }
}

/* Every holder of commune c's log holds each of its venues, alike. */
static void check_venues(sim *s, store_txn **tx, int c, const int *holders, int nh)
{
    const snode *n = &s->nodes[c];
    for (int v = 0; v < n->nvenues; v++) {
        const uint8_t *ref = NULL, *raw;
        size_t ref_len = 0, len;
        for (int h = 0; h < nh; h++) {
            if (store_venue_raw(tx[holders[h]], n->venue[v], &raw, &len)) {
                violation(s, "node %d lacks venue %d of commune %d", holders[h], v, c);
                continue;
            }
            if (!ref) {
                ref = raw;
                ref_len = len;
            } else if (len != ref_len || memcmp(raw, ref, len)) {
                violation(s, "node %d's view of venue %d of commune %d differs", holders[h], v, c);
            }
        }
    }
}

/* Tracing by pseudonym: a few people's scans under commune c's pseudonym are the same
 * wherever its log is held, all at its own venues; no other commune's pseudonym of them is
 * this one (nobody links communes without the health map). With a retention period, only
 * the days still in force must agree: a batch that arrives after the holder's last daily
 * purge brings scans past its cutoff, which stay until its next purge (check_expired looks
 * at those). */
static void check_pseudonyms(sim *s, store_txn **tx, int c, const int *holders, int nh)
{
    const snode *n = &s->nodes[c];
    int64_t from = s->o.retention_days ? s->end_ms - (int64_t)s->o.retention_days * DAY_MS : 0;
    for (uint64_t k = 0; k < 3; k++) {
        uint8_t pr[TV_PERSON_REF_BYTES], other[TV_PERSON_REF_BYTES];
        person_ref(n, k, pr);
        person_found pf0 = {.n = n};
        (void)store_scans_by_person(tx[c], pr, from, CRDT_TIME_MS_MAX, count_person_scan, &pf0);
        if (pf0.elsewhere)
            violation(s, "commune %d indexes person %" PRIu64 " at another's venue", c, k);
        for (int h = 1; h < nh; h++) {
            person_found pf = {.n = n};
            (void)store_scans_by_person(tx[holders[h]], pr, from, CRDT_TIME_MS_MAX,
                                        count_person_scan, &pf);
            if (pf.count != pf0.count || pf.elsewhere)
                violation(s,
                          "node %d finds %" PRIu64 " scans of person %" PRIu64
                          " under commune %d's pseudonym, the commune %" PRIu64,
                          holders[h], pf.count, k, c, pf0.count);
        }
        const snode *o = &s->nodes[c + 1 < s->n ? c + 1 : 1 + s->o.districts];
        person_ref(o, k, other);
        if (o != n && memcmp(other, pr, sizeof pr) == 0)
            violation(s, "communes %d and %d share a pseudonym", c, o->idx);
    }
}

/* Every holder of commune c's log has the same daily figures of its unit. With a retention
 * period, a node that took a log from its base lacks the figures of what the checkpoint left
 * behind: only the days still in force must agree. */
static void check_figures(sim *s, store_txn **tx, int c, const int *holders, int nh)
{
    const snode *n = &s->nodes[c];
    int first = -1;
    if (s->o.retention_days) {
        int64_t kept = s->end_ms - (int64_t)s->o.retention_days * DAY_MS;
        first = (int)(crdt_day_vn(kept) - crdt_day_vn(SIM_START_MS)) + 1;
    }
    for (int d = first; d <= s->o.days; d++) {
        int32_t day = crdt_day_vn(SIM_START_MS) + d;
        store_agg ref, a;
        (void)store_agg_get(tx[c], n->unit, day, &ref);
        for (int h = 1; h < nh; h++) {
            (void)store_agg_get(tx[holders[h]], n->unit, day, &a);
            if (memcmp(&a, &ref, sizeof a))
                violation(s, "node %d's figures of unit %s on day %d differ", holders[h], n->unit,
                          d);
        }
    }
}

/* What the holders of commune c's log (c, its district unless revoked, the province) must
 * agree on: its venues, its people's scans under its pseudonyms, its daily figures. */
static void check_commune(sim *s, store_txn **tx, int c)
{
    const snode *n = &s->nodes[c];
    /* a revoked district is unplugged: its communes' logs are held by the province */
    int holders[3] = {c, n->parent, 0}, nh = 3;
    if (s->nodes[n->parent].cut) holders[1] = holders[--nh];
    check_venues(s, tx, c, holders, nh);
    check_pseudonyms(s, tx, c, holders, nh);
    check_figures(s, tx, c, holders, nh);
}

/* Nothing the insider sent is stored where it was sent. */
static void check_insider_stored(sim *s, store_txn **tx)
{
    for (size_t i = 0; i < s->nfg; i++) {
        const forged *g = &s->fg[i];
        const uint8_t *buf;
        size_t len;
        uint8_t h[crypto_generichash_BYTES];
        if (store_batch_at(tx[g->node], s->nodes[g->signer].id.pk, g->seq, &buf, &len)) continue;
        crypto_generichash(h, sizeof h, buf, len, NULL, 0);
        if (memcmp(h, g->hash, sizeof h) == 0)
            violation(s, "node %d stored %s (node %d's key, seq %" PRIu64 ")", g->node, g->what,
                      g->signer, g->seq);
    }
}

typedef struct ack_find {
    const sim_ack *a;
    const uint8_t *venue;
    int found;
} ack_find;

static int ack_find_fn(const store_scan_ref *x, void *ctx)
{
    ack_find *f = ctx;
    if (x->seq == f->a->seq && x->direction == (f->a->out ? CRDT_DIR_OUT : CRDT_DIR_IN) &&
        memcmp(x->venue, f->venue, TV_VENUE_ID_BYTES) == 0)
        f->found = 1;
    return 0;
}

/* Every scan commune n acknowledged is in its store (but those retention took since):
 * after a restart, those acknowledged since the last restart (a lost acknowledgement is
 * one the crash took; earlier ones were found then); at the end (all), every one. */
static void check_acks(sim *s, snode *n, const char *when, int all)
{
    store_txn *t;
    if (store_read_begin(n->st, &t)) die("read");
    int64_t cutoff = INT64_MIN;
    store_retention r;
    if (s->o.retention_days && store_retention_get(t, &r) == 0)
        cutoff = store_retention_cutoff(&r, s->now + n->skew_ms);
    TV_ASSERT(n->acks_found <= n->nacks);
    for (size_t i = all ? 0 : n->acks_found; i < n->nacks; i++) {
        const sim_ack *a = &n->acks[i];
        if (a->at_ms < cutoff) continue;
        uint8_t ref[TV_PERSON_REF_BYTES];
        person_ref(n, a->person, ref);
        ack_find f = {.a = a, .venue = n->venue[a->venue]};
        if (store_scans_by_person(t, ref, a->at_ms, a->at_ms + 1, ack_find_fn, &f)) die("read");
        if (!f.found)
            violation(s,
                      "node %d lost a scan it acknowledged (%s): event %" PRIu64
                      " of its log, person 09%08u, %s at venue %d, at %" PRId64
                      " ms of its device's clock",
                      n->idx, when, a->seq, a->person, a->out ? "check-out" : "check-in", a->venue,
                      a->at_ms - SIM_START_MS);
    }
    n->acks_found = n->nacks;
    store_read_end(t);
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
        if (s->nodes[i].tn) check_acks(s, &s->nodes[i], "at the end", 1);
    }
    for (int a = 0; a < s->n; a++) {
        uint64_t sum = 0;
        for (int b = 0; b < s->n; b++) {
            store_frontier f;
            uint64_t base = 0;
            int held = store_frontier_get(tx[a], s->nodes[b].id.pk, &f) == 0;
            /* what a log holds: from its base, after a checkpoint */
            if (held && store_base_get(tx[a], s->nodes[b].id.pk, &base, NULL) == TV_ENOTFOUND)
                base = 0;
            if (held) sum += f.seq - base;
            int cut = s->nodes[a].cut || s->nodes[b].cut;
            if (cut && should_hold(s, a, b)) {
                /* the revoked district, unplugged, and its log: a prefix, whatever was held */
                if (held && f.seq > own[b].seq)
                    violation(s, "node %d holds %" PRIu64 " of node %d's %" PRIu64 " events", a,
                              f.seq, b, own[b].seq);
            } else if (should_hold(s, a, b)) {
                if (!held || f.seq != own[b].seq || memcmp(f.hash, own[b].hash, TV_HASH_BYTES))
                    violation(s, "node %d holds %" PRIu64 " of node %d's %" PRIu64 " events%s", a,
                              held ? f.seq : 0, b, own[b].seq,
                              why_behind(tx[a], s->nodes[b].id.pk));
                /* and from the same base: every checkpoint of the log applied here too */
                uint64_t own_base = 0;
                if (store_base_get(tx[b], s->nodes[b].id.pk, &own_base, NULL) == TV_ENOTFOUND)
                    own_base = 0;
                if (held && base != own_base)
                    violation(s, "node %d holds node %d's log from seq %" PRIu64 ", not %" PRIu64,
                              a, b, base + 1, own_base + 1);
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
        check_trust(s, tx[a], a);
    }
    check_insider_stored(s, tx);
    /* views and daily figures agree wherever the same logs are held */
    for (int c = 0; c < s->n; c++)
        if (s->nodes[c].role == CRDT_ROLE_COMMUNE) check_commune(s, tx, c);
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
    "                   [--revoke P] [--retention-days N] [--durable 0|1] [--no-forger]\n"
    "                   [--dir DIR] [--verbose] [--timing]\n"
    "\n"
    "Simulates a province, its districts and communes with the real sync protocol and\n"
    "stores, a virtual clock and a faulty virtual network, then heals every fault and\n"
    "checks that every node converged: no acknowledged scan lost, every node holding\n"
    "exactly its partition, identical views, no forged batch stored, nothing applied\n"
    "twice. The forger also plays an insider with real nodes' keys: certificates for\n"
    "wrong subjects, revocations from the wrong issuer, events about another commune's\n"
    "venue, batches written hours ahead; none may be stored, none may change a view.\n"
    "--revoke P is the chance (default 0.5) that the province revokes a district on the\n"
    "way and re-certifies its communes later: refused everywhere in between, converged\n"
    "after. --retention-days N: the province sets that retention period, and every node\n"
    "purges and truncates its own log behind a checkpoint once a (virtual) day; the\n"
    "checks then hold of what is in force. Communes record through the product's\n"
    "recorder, group commit and acknowledgement path; every scan acknowledged must be\n"
    "in its commune's store after each crash and at the end. --durable 1: synced stores\n"
    "that crash anywhere (in a commit, before or after it returned, in a sync's flush or\n"
    "apply) and are reopened from their files (default: one seed in four). Fault rates\n"
    "not given are drawn from the seed. The first line printed is seed=N; the same seed\n"
    "reproduces the run exactly. Exit status 0 when every check holds, 1 on a violation,\n"
    "2 for a usage error. --timing adds wall-clock figures to the last line (which then\n"
    "differs between runs).\n";

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

/* long: one case per option, beside the option table: clearer whole */
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
                                         {"revoke", required_argument, 0, 'R'},
                                         {"retention-days", required_argument, 0, 'E'},
                                         {"durable", required_argument, 0, 'Y'},
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
        case 'E':
            o->retention_days = (int)parse_n(optarg, 0, CRDT_RETENTION_DAYS_MAX);
            break;
        case 'Y':
            o->durable = (int)parse_n(optarg, 0, 1);
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
        case 'R':
            o->revoke = parse_p(optarg);
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

/* long: the network built in the order enrolment builds it (nodes, certificates, venues,
 * links); its certificate tree moves to the shared fixture (issue 17) */
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
    s->touched = calloc((size_t)s->n, sizeof *s->touched);
    if (!s->nodes || !s->buf || !s->touched) die("out of memory");
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
        if (i == 0) { /* the root, with the health flag, makes the province key */
            rng kr = {s->o.seed * 1000003ULL + 777777};
            for (size_t k = 0; k < sizeof s->kp; k++)
                s->kp[k] = (uint8_t)rng_next(&kr);
            memcpy(n->key, s->kp, sizeof n->key);
        } else if (n->role == CRDT_ROLE_COMMUNE) {
            tv_commune_key_derive(s->kp, n->unit, n->key);
        }
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
    fx_tree_init(&sim_tree, SIM_START_MS - DAY_MS);
    for (int i = 0; i < s->n; i++) {
        snode *n = &s->nodes[i];
        if (fx_tree_add(&sim_tree, &n->id, n->role, n->parent, n->unit) != i) die("out of memory");
    }
    if (fx_tree_sign(&sim_tree)) die("cannot sign a certificate");
    const fx_tree_node *tn = sim_tree.nodes;
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    add_cert_event(s, &s->nodes[0], &b, tn[0].raw, tn[0].len);
    for (int i = 1; i < s->n; i++)
        if (tn[i].role == CRDT_ROLE_DISTRICT)
            add_cert_event(s, &s->nodes[0], &b, tn[i].raw, tn[i].len);
    if (s->o.retention_days) { /* the root's period, which every node learns from its log */
        crdt_retention rt = {.days = (uint32_t)s->o.retention_days};
        uint64_t hlc = crdt_hlc_now(&s->nodes[0].clock, (uint64_t)s->now);
        if (crdt_event_pack_retention(&b.pk, hlc, &rt)) die("cannot pack the retention period");
        crdt_batch_builder_note(&b, hlc);
    }
    if (fx_tree_install(&sim_tree, s->nodes[0].st, 0)) die("install at the province");
    commit(s, &s->nodes[0], &b, 0);
    for (int i = 1; i < s->n; i++) {
        snode *n = &s->nodes[i];
        int rc = fx_tree_install(&sim_tree, n->st, i); /* the root's, its issuers', its own */
        if (rc) die("install at node %d: %s", i, tv_strerror(rc));
        if (n->role == CRDT_ROLE_DISTRICT) {
            for (int k = 1; k < s->n; k++)
                if (s->nodes[k].parent == i) add_cert_event(s, n, &b, tn[k].raw, tn[k].len);
            commit(s, n, &b, 0);
        }
    }
    /* each commune registers its venues */
    for (int i = 1; i < s->n; i++) {
        snode *n = &s->nodes[i];
        if (n->role != CRDT_ROLE_COMMUNE) continue;
        for (int v = 0; v < SIM_VENUES_PER_COMMUNE; v++)
            pack_registration(s, n, v, &b);
        commit(s, n, &b, 0);
        n->nvenues = SIM_VENUES_PER_COMMUNE;
    }
    crdt_batch_builder_release(&b);

    /* links: each commune to its district and to the province; each district upward */
    s->links = calloc((size_t)(2 * s->n), sizeof *s->links);
    s->act = calloc((size_t)(2 * s->n), sizeof *s->act);
    s->closing = calloc((size_t)(2 * s->n), sizeof *s->closing);
    if (!s->links || !s->act || !s->closing) die("out of memory");
    for (int i = 1; i < s->n; i++) {
        snode *n = &s->nodes[i];
        s->links[s->nlinks++] = (slink){.child = i, .parent = n->parent};
        if (n->role == CRDT_ROLE_COMMUNE) s->links[s->nlinks++] = (slink){.child = i, .parent = 0};
    }
    s->end_ms = SIM_START_MS + (int64_t)s->o.days * DAY_MS;
}

/* The faults of the run: the rates not given drawn from the seed, and the district revoked on
 * the way, if any. */
static void draw_faults(sim *s)
{
    /* fault rates not given: drawn from the seed, so many seeds explore many mixes */
    if (s->o.loss < 0) s->o.loss = rng_unit(&s->r) * 0.2;
    if (s->o.dup < 0) s->o.dup = rng_unit(&s->r) * 0.05;
    if (s->o.offline_day < 0) s->o.offline_day = rng_unit(&s->r) * 0.3;
    if (s->o.district_outage < 0) s->o.district_outage = rng_unit(&s->r) * 0.3;
    if (s->o.crash < 0) s->o.crash = rng_unit(&s->r) * 0.05;
    /* the district revoked on the way, if any: when, and when its communes are re-certified
     * (early enough for the run to converge after) */
    s->rev_d = -1;
    if (rng_unit(&s->r) < s->o.revoke) {
        int64_t span = (int64_t)s->o.days * DAY_MS;
        s->rev_d = 1 + (int)rng_below(&s->r, (uint64_t)s->o.districts);
        s->rev_at = SIM_START_MS + span / 8 + (int64_t)(rng_unit(&s->r) * (double)(span / 3));
        s->recert_at = s->rev_at + 2 * HOUR_MS + (int64_t)(rng_unit(&s->r) * (double)(span / 5));
    }
    if (s->o.durable < 0) s->o.durable = rng_below(&s->r, 4) == 0;
}

/* The run's figures: what happened, how fast it converged, and the one line benchmarks and
 * seeds.sh read (sim=truyvet ...). */
static void print_summary(const sim *s, uint64_t events, double wall)
{
    printf("events=%" PRIu64 " commits=%" PRIu64 " crashes=%" PRIu64 " forged=%" PRIu64
           " insider=%" PRIu64 " (refused at once %" PRIu64 ", parked %" PRIu64
           ") future_dated=%zu messages=%" PRIu64 " lost=%" PRIu64 " duplicated=%" PRIu64 "\n",
           events, s->commits, s->crashes, s->forged, s->insider, s->insider_refused,
           s->insider_parked, s->nfut, s->msgs, s->lost_msgs, s->dup_msgs);
    printf("scans acknowledged=%" PRIu64 "; crashes in a commit before it returned %" PRIu64
           ", after %" PRIu64 ", in a sync's write %" PRIu64 "\n",
           s->scans_acked, s->crashes_at[0], s->crashes_at[1], s->crashes_at[2]);
    if (s->o.retention_days)
        printf("retention: %" PRIu64 " scans purged, %" PRIu64 " checkpoints leaving %" PRIu64
               " events behind\n",
               s->purged_scans, s->checkpoints, s->dropped);
    printf("converged %.1f s (virtual) after the heal; %.1f bytes and %.3f messages per event\n",
           (double)s->converged_ms / 1000.0, events ? (double)s->bytes / (double)events : 0.0,
           events ? (double)s->msgs / (double)events : 0.0);
    printf("%s\n", s->violations ? "FAILED" : "all invariants hold");
    printf("sim=truyvet seed=%" PRIu64 " nodes=%d days=%d events=%" PRIu64 " converge_ms=%" PRId64
           " bytes_per_event=%.1f msgs_per_event=%.3f violations=%d",
           s->o.seed, s->n, s->o.days, events, s->converged_ms,
           events ? (double)s->bytes / (double)events : 0.0,
           events ? (double)s->msgs / (double)events : 0.0, s->violations);
    if (s->o.timing)
        printf(" wall_s=%.2f events_per_s=%.0f", wall, wall > 0 ? (double)events / wall : 0.0);
    putchar('\n');
}

/* Everything the run holds, closed and freed, its files removed. */
static void free_all(sim *s)
{
    for (int i = 0; i < s->nlinks; i++)
        link_close(s, &s->links[i]);
    while (s->heap_len)
        free(heap_pop(s).buf);
    for (int i = 0; i < s->n; i++) {
        snode *n = &s->nodes[i];
        tv_driver_free(n->drv);
        if (n->tn && n->st) {
            tv_intake_free(&n->in);
            tv_recorder_free(&n->rec);
            tv_node_detach(n->tn);
        }
        free(n->tn);
        free(n->acks);
        free(n->queued_acks);
        if (n->st) store_close(n->st);
    }
    rm_rf(s->workdir);
    crdt_sig_memo_release(&s->memo);
    fx_tree_free(&sim_tree);
    free(s->heap);
    free(s->links);
    free(s->act);
    free(s->work);
    free(s->closing);
    free(s->touched);
    free(s->timers);
    free(s->fg);
    free(s->rev_front);
    free(s->nodes);
    free(s->buf);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) die("libsodium failed to start");
    /* nodes crash and restart by the thousand, and each LMDB environment opened callocs
     * megabytes of bookkeeping: taken straight from the kernel (zeroed, untouched until
     * used) rather than cleared out of the heap on every open, 1,000 nodes over 10 days
     * run 5-7 % faster */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    sim s;
    memset(&s, 0, sizeof s);
    s.o = defaults();
    if (crdt_sig_memo_init(&s.memo, 20)) die("out of memory");
    parse_args(&s.o, argc, argv);
    printf("seed=%" PRIu64 "\n", s.o.seed);
    s.r.s = s.o.seed;
    draw_faults(&s);
    memset(forged_person, 0xEE, sizeof forged_person);
    printf("config districts=%d communes=%d days=%d scans_per_day=%u loss=%.3f dup=%.3f "
           "offline_day=%.3f district_outage=%.3f crash=%.3f skew_min=%" PRId64
           " forger=%d revoked_district=%d retention_days=%d durable=%d\n",
           s.o.districts, s.o.communes, s.o.days, s.o.scans_per_day, s.o.loss, s.o.dup,
           s.o.offline_day, s.o.district_outage, s.o.crash, s.o.skew_ms_max / MINUTE_MS, s.o.forger,
           s.rev_d > 0 ? s.rev_d : 0, s.o.retention_days, s.o.durable);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    setup(&s);
    if (s.rev_d > 0) {
        s.rev_front = malloc((size_t)s.n * (size_t)s.n * sizeof *s.rev_front);
        if (!s.rev_front) die("out of memory");
        for (size_t i = 0; i < (size_t)s.n * (size_t)s.n; i++)
            s.rev_front[i] = UINT64_MAX;
    }
    run(&s);
    check(&s);
    if (s.o.retention_days) check_expired(&s);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    uint64_t events = 0;
    for (int i = 0; i < s.n; i++)
        events += s.nodes[i].acked;
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_summary(&s, events, wall);

    free_all(&s);
    return s.violations ? 1 : 0;
}
