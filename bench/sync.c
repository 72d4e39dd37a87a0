/* Sync benchmark: a commune's log replicated to its district over CurveZMQ, and the bytes of
 * a handshake between up-to-date peers that hold the logs of many origins. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/ids.h"
#include "net/driver.h"
#include "net/sync.h"
#include "net/zmq.h"
#include "store/store.h"

#define BENCH_NAME "sync"
#include "bench_util.h"
#include "tests/fixture/certtree.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define UNIT "22333"
#define DISTRICT_UNIT "568"
#define START_MS 1633021200000LL  /* 2021-10-01T00:00:00+07:00 */
#define SPAN_MS (30 * 86400000LL) /* the scans spread over 30 days */
#define VENUES 2000
#define VENUES_PER_BATCH 1000 /* registrations per batch of the commune's first ones */
#define PERSONS 200000
#define PREFILL_GROUP 16  /* batches per write transaction while pre-filling */
#define ORIGIN_GROUP 2048 /* origins' certificates or batches per write transaction */
#define HOLD_WAIT_MS 10   /* as node/daemon/daemon.c: a message the transport refused waits this */
#define IDLE_WAIT_MS 100  /* longest poll when no timer is due */
#define DEADLINE_S 120.0  /* plus one second per 2,000 events */
#define MSG_TYPES 16

enum { DIR_COMMUNE, DIR_DISTRICT, DIR_HS_COMMUNE, DIR_HS_DISTRICT, DIRS };
_Static_assert(DIRS <= BENCH_SUB_DIRS_MAX, "one sub-directory per node");
static const char *const dir_names[DIRS] = {"commune", "district", "hs-commune", "hs-district"};
/* Message types by their second byte (PROTOCOL.md §6; the first is the array header). */
static const char *const type_names[MSG_TYPES] = {
    "?",   "HELLO",  "VV_BEGIN", "VV",   "VV_END", "NEED_FULL", "WANT", "BATCH",
    "ACK", "REFUSE", "DONE",     "HAVE", "PING",   "PONG",      "BYE",  "?"};

static const char usage[] =
    "Usage: sync [--events N] [--origins K] [--dir PATH]\n"
    "\n"
    "Sync benchmark, in two parts.\n"
    "\n"
    "End to end: a commune (unit " UNIT ") whose store holds N scans in batches of 1,024,\n"
    "sealed and applied before timing starts, after the registrations of its 2,000 venues\n"
    "(which its district holds already), and its district (units " DISTRICT_UNIT " and " UNIT ").\n"
    "The district listens on tcp://127.0.0.1 (CurveZMQ, ZAP admitting the commune's key), the\n"
    "commune connects, and each node runs its sync session in its own thread, driven as the\n"
    "daemon drives it, until the district is in step and holds the N events. Timed from the\n"
    "connect to that moment; every received group of batches is applied durably (fsync).\n"
    "\n"
    "Handshake: two peers that both hold the logs of K origins (one batch of one event each,\n"
    "a venue's registration) run a first session, then a second one, each over its own\n"
    "connection as above; the bytes of the second session (up-to-date peers) are reported.\n"
    "\n"
    "Every connection goes through a relay in this program that copies the TCP bytes both\n"
    "ways and counts them: the wire figures are the bytes on the socket (ZMTP greeting,\n"
    "CurveZMQ handshake with ZAP, framing and encryption of each message, heartbeats),\n"
    "not an estimate. The relay is one more hop on loopback; the timing includes it.\n"
    "\n"
    "  --events N   scans in the commune's log (default 1000000)\n"
    "  --origins K  origins both handshake peers hold (default 10000)\n"
    "  --dir PATH   working directory (created if absent; must not hold commune/, district/,\n"
    "               hs-commune/ or hs-district/); default: a new directory under $TMPDIR or\n"
    "               /tmp. What the benchmark creates there is removed at the end.\n"
    "  --help       show this text\n"
    "\n"
    "The last line of output holds the figures as key=value pairs: wire_bytes and\n"
    "handshake_wire_bytes are TCP payload bytes both ways as measured by the relay (from\n"
    "the connect until the sockets close); proto_bytes and handshake_bytes the protocol's\n"
    "messages alone. Exit status: 0, 1\n"
    "when a step fails or the district does not hold what the commune has, 2 for a usage\n"
    "error.\n";

typedef struct opts {
    uint64_t events, origins;
    const char *dir;
} opts;

/* The wall clock in ms: what the sync layer takes as `now`, as the daemon passes it. */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- options ------------------------------------------------------------------------ */

static void parse_opts(int argc, char **argv, opts *o)
{
    *o = (opts){.events = 1000000, .origins = 10000};
    const bench_opt table[] = {{"events", BENCH_OPT_U64, &o->events, 1, 100000000},
                               {"origins", BENCH_OPT_U64, &o->origins, 1, 1000000},
                               BENCH_OPT_DIR(&o->dir),
                               {0}};
    bench_parse_opts(argc, argv, table, usage);
}

/* The working directory and, in it, one directory for each node. */
static void make_dirs(const opts *o)
{
    bench_work_dir_make(o->dir);
    int i = bench_sub_dirs_set(dir_names, DIRS);
    if (i >= 0) {
        bench_cleanup();
        bench_usage_error("%s already holds %s/; give an empty directory.", bench_work_dir,
                          dir_names[i]);
    }
    for (i = 0; i < DIRS; i++)
        bench_sub_dir_make(i);
}

/* --- nodes and trust ---------------------------------------------------------------- */

typedef struct node {
    const char *name;
    store *st;
    crdt_identity id;
    uint8_t epoch[SYNC_EPOCH_BYTES];
} node;

/* A reproducible identity (tests/fixture/certtree.h). */
static void identity_make(crdt_identity *id, uint8_t tag, uint64_t k)
{
    if (fx_identity(id, tag, k) != 0) bench_die("deriving an identity failed");
}

static int meta_fn(store_txn *t, void *arg)
{
    const node *n = arg;
    int rc = store_meta_put(t, "node_id", n->id.pk, TV_NODE_ID_BYTES);
    if (rc == 0) rc = store_meta_put(t, "epoch", n->epoch, SYNC_EPOCH_BYTES);
    return rc;
}

static void node_open(node *n, const char *name, int dir, const crdt_identity *id)
{
    memset(n, 0, sizeof *n);
    n->name = name;
    n->id = *id;
    randombytes_buf(n->epoch, sizeof n->epoch);
    int rc = store_open(&n->st, bench_sub_dir[dir], NULL);
    if (rc)
        bench_die("opening the %s's store in %s: %s", name, bench_sub_dir[dir], tv_strerror(rc));
    if ((rc = store_write(n->st, meta_fn, n))) bench_die("writing meta: %s", tv_strerror(rc));
}

static void node_close(node *n)
{
    store_close(n->st);
    n->st = NULL;
    crdt_identity_wipe(&n->id);
}

static void install(node *n, const uint8_t *root, uint8_t *const *raw, const size_t *len,
                    size_t count)
{
    int rc = fx_certs_install_store(n->st, root, raw, len, count);
    if (rc) bench_die("installing certificates in the %s's store: %s", n->name, tv_strerror(rc));
}

/* The three-level tree (tests/fixture/certtree.h): root, district (568, 22333) certified
 * by the root, commune (22333) certified by the district. Every store gets the root and
 * the three certificates. */
enum { CH_ROOT, CH_DISTRICT, CH_COMMUNE };

static void chain_make(fx_tree *t)
{
    crdt_identity id;
    fx_tree_init(t, 0);
    identity_make(&id, 0x50, 0);
    int rc = fx_tree_add(t, &id, CRDT_ROLE_PROVINCE, -1, "56");
    identity_make(&id, 0x44, 0);
    if (rc >= 0) rc = fx_tree_add(t, &id, CRDT_ROLE_DISTRICT, CH_ROOT, DISTRICT_UNIT);
    identity_make(&id, 0x43, 0);
    if (rc >= 0) rc = fx_tree_add(t, &id, CRDT_ROLE_COMMUNE, CH_DISTRICT, UNIT);
    crdt_identity_wipe(&id);
    if (rc >= 0) rc = fx_tree_sign(t);
    if (rc < 0) bench_die("making the certificate tree: %s", tv_strerror(rc));
}

static void chain_install(node *n, const fx_tree *t)
{
    int rc = fx_tree_install(t, n->st, -1);
    if (rc) bench_die("installing certificates in the %s's store: %s", n->name, tv_strerror(rc));
}

/* Applies sealed batches in one write transaction. */
typedef struct apply_ctx {
    uint8_t *const *buf;
    const size_t *len;
    size_t n;
} apply_ctx;

static int apply_fn(store_txn *t, void *arg)
{
    const apply_ctx *c = arg;
    for (size_t i = 0; i < c->n; i++) {
        store_apply_result r;
        int rc = store_apply_batch(t, c->buf[i], c->len[i], START_MS, &r);
        if (rc) return rc;
        if (r.duplicate) return TV_ECORRUPT;
    }
    return TV_OK;
}

static void apply(node *n, uint8_t *const *buf, const size_t *len, size_t count)
{
    apply_ctx c = {buf, len, count};
    int rc = store_write(n->st, apply_fn, &c);
    if (rc) bench_die("applying batches to the %s's store: %s", n->name, tv_strerror(rc));
}

/* --- scans -------------------------------------------------------------------------- */

typedef struct gen {
    uint64_t rng;
    uint8_t venues[VENUES][TV_VENUE_ID_BYTES];
    uint8_t nonces[VENUES][TV_VENUE_NONCE_BYTES];
    char masked[16];
    uint64_t hlc;
} gen;

/* The venues' ids are derived from their registrar's key (V1): the commune's. */
static void gen_init(gen *g, uint64_t seed, const uint8_t registrar[TV_NODE_ID_BYTES])
{
    memset(g, 0, sizeof *g);
    g->rng = seed;
    for (int i = 0; i < VENUES; i++) {
        for (int b = 0; b < TV_VENUE_NONCE_BYTES; b += 8) {
            uint64_t v = fx_splitmix64(&g->rng);
            memcpy(g->nonces[i] + b, &v, 8);
        }
        tv_venue_id_derive(g->venues[i], registrar, g->nonces[i]);
    }
}

/* The registration of venue v by its registrar, a day before the scans start. */
static uint64_t gen_venue(gen *g, uint64_t v, crdt_venue_upsert *u, char *name, size_t cap)
{
    memset(u, 0, sizeof *u);
    memcpy(u->venue, g->venues[v], TV_VENUE_ID_BYTES);
    memcpy(u->nonce, g->nonces[v], TV_VENUE_NONCE_BYTES);
    u->registers = 1;
    snprintf(name, cap, "Địa điểm %" PRIu64, v + 1);
    u->fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY;
    u->unit = (crdt_text){UNIT, sizeof UNIT - 1};
    u->name = (crdt_text){name, (uint32_t)strlen(name)};
    u->category = 1 + (uint32_t)(v % 25);
    uint64_t h = crdt_hlc_make((uint64_t)(START_MS - 86400000LL) + v, 0);
    g->hlc = h > g->hlc ? h : g->hlc + 1;
    return g->hlc;
}

/* Scan i of n: a venue of the commune, one of PERSONS people (a pseudonym and a masked
 * phone or CCCD number), times rising over 30 days; returns its HLC. */
static uint64_t gen_scan(gen *g, uint64_t i, uint64_t n, crdt_scan *s)
{
    static const char *const devices[] = {"gate-1", "gate-2", "counter", "tablet-a"};
    memset(s, 0, sizeof *s);
    uint64_t v = fx_splitmix64(&g->rng) % VENUES;
    memcpy(s->venue, g->venues[v], TV_VENUE_ID_BYTES);
    s->unit = (crdt_text){UNIT, sizeof UNIT - 1};
    uint64_t ps = (fx_splitmix64(&g->rng) % PERSONS) * 0xD1B54A32D192ED03ULL;
    uint64_t a = fx_splitmix64(&ps), b = fx_splitmix64(&ps), c = fx_splitmix64(&ps);
    memcpy(s->person, &a, 8);
    memcpy(s->person + 8, &b, 8);
    if (c % 100 < 85)
        snprintf(g->masked, sizeof g->masked, "09******%02u", (unsigned)((c >> 16) % 100));
    else
        snprintf(g->masked, sizeof g->masked, "**********%02u", (unsigned)((c >> 16) % 100));
    s->masked = (crdt_text){g->masked, (uint32_t)strlen(g->masked)};
    uint64_t r = fx_splitmix64(&g->rng);
    s->direction = r % 100 < 58 ? CRDT_DIR_IN : CRDT_DIR_OUT;
    uint64_t m = (r >> 8) % 100;
    s->method = m < 70 ? CRDT_METHOD_SELF : m < 85 ? CRDT_METHOD_STAFF : CRDT_METHOD_CCCD;
    if (s->method != CRDT_METHOD_SELF) {
        const char *d = devices[v % 4];
        s->device = (crdt_text){d, (uint32_t)strlen(d)};
    }
    s->at_ms = START_MS + (int64_t)((double)i * (double)SPAN_MS / (double)n);
    uint64_t h = crdt_hlc_make((uint64_t)s->at_ms, 0);
    g->hlc = h > g->hlc ? h : g->hlc + 1;
    return g->hlc;
}

/* Seals the commune's registrations of its VENUES venues, then n scans, in batches of at
 * most CRDT_BATCH_EVENTS_MAX, and applies them to its store; the registrations also to the
 * district's, which holds the venues before the scans come. Returns the number of the
 * scans' batches and their total bytes, and those of the registrations'. */
static void prefill(node *c, node *d, uint64_t n, uint64_t *batches, uint64_t *bytes,
                    uint64_t *reg_batches, uint64_t *reg_bytes)
{
    gen *g = malloc(sizeof *g);
    if (!g) bench_die("out of memory");
    gen_init(g, 1, c->id.pk);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    uint8_t prev[TV_HASH_BYTES], hash[TV_HASH_BYTES];
    uint8_t *bufs[PREFILL_GROUP];
    size_t lens[PREFILL_GROUP], nb = 0;
    uint64_t seq = 1;
    *batches = *bytes = *reg_batches = *reg_bytes = 0;
    char name[64];
    for (uint64_t v = 0; v < VENUES; v++) {
        crdt_venue_upsert u;
        uint64_t hlc = gen_venue(g, v, &u, name, sizeof name);
        int rc = crdt_event_pack_venue(&b.pk, hlc, &u);
        if (rc) bench_die("packing a venue: %s", tv_strerror(rc));
        crdt_batch_builder_note(&b, hlc);
        if (b.count < VENUES_PER_BATCH && v + 1 < VENUES) continue;
        rc = crdt_batch_seal(&b, &c->id, seq, seq > 1 ? prev : NULL, &bufs[nb], &lens[nb], hash);
        if (rc) bench_die("sealing a batch: %s", tv_strerror(rc));
        memcpy(prev, hash, sizeof prev);
        seq += b.count;
        *reg_bytes += lens[nb];
        ++*reg_batches;
        nb++;
        crdt_batch_builder_reset(&b);
    }
    apply(c, bufs, lens, nb);
    apply(d, bufs, lens, nb);
    for (size_t k = 0; k < nb; k++)
        free(bufs[k]);
    nb = 0;
    for (uint64_t i = 0; i < n; i++) {
        crdt_scan s;
        uint64_t hlc = gen_scan(g, i, n, &s);
        int rc = crdt_event_pack_scan(&b.pk, hlc, &s);
        if (rc) bench_die("packing a scan: %s", tv_strerror(rc));
        crdt_batch_builder_note(&b, hlc);
        if (b.count < CRDT_BATCH_EVENTS_MAX && i + 1 < n) continue;
        rc = crdt_batch_seal(&b, &c->id, seq, seq > 1 ? prev : NULL, &bufs[nb], &lens[nb], hash);
        if (rc) bench_die("sealing a batch: %s", tv_strerror(rc));
        memcpy(prev, hash, sizeof prev);
        seq += b.count;
        *bytes += lens[nb];
        ++*batches;
        nb++;
        crdt_batch_builder_reset(&b);
        if (nb == PREFILL_GROUP || i + 1 == n) {
            apply(c, bufs, lens, nb);
            for (size_t k = 0; k < nb; k++)
                free(bufs[k]);
            nb = 0;
            bench_progress("pre-filling the commune", i + 1, n);
            bench_check_interrupt();
        }
    }
    bench_progress_end();
    crdt_batch_builder_release(&b);
    free(g);
}

/* --- a counting TCP relay ------------------------------------------------------------ */

/* Listens on 127.0.0.1, and for each connection accepted connects to the target port and
 * copies bytes both ways, counting them: what the two ZeroMQ sockets exchange, on real
 * TCP. One thread; a write blocks until the receiving side's kernel buffer takes it, which
 * libzmq's I/O threads always drain. */
#define RELAY_PAIRS_MAX 8
#define RELAY_BUF_BYTES (256 * 1024)

typedef struct relay {
    int lfd, wake[2];
    uint16_t target_port;
    char endpoint[TVZ_ENDPOINT_MAX];
    int fd[RELAY_PAIRS_MAX][2]; /* [0] the connecting side (commune), [1] the target */
    _Atomic uint64_t up, down;  /* bytes commune -> district, district -> commune */
    _Atomic uint64_t accepted;
    pthread_t th;
    char error[256];
    uint8_t *buf;
} relay;

static void relay_close_pair(relay *x, int i)
{
    for (int k = 0; k < 2; k++)
        if (x->fd[i][k] >= 0) close(x->fd[i][k]);
    x->fd[i][0] = x->fd[i][1] = -1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void relay_accept(relay *x)
{
    int a = accept(x->lfd, NULL, NULL);
    if (a < 0) return;
    int slot = -1;
    for (int i = 0; i < RELAY_PAIRS_MAX && slot < 0; i++)
        if (x->fd[i][0] < 0) slot = i;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(x->target_port)};
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int b = slot < 0 ? -1 : socket(AF_INET, SOCK_STREAM, 0);
    if (b < 0 || connect(b, (struct sockaddr *)&to, sizeof to) != 0) {
        snprintf(x->error, sizeof x->error, "the relay cannot reach the district: %s",
                 slot < 0 ? "too many connections" : strerror(errno));
        if (b >= 0) close(b);
        close(a);
        return;
    }
    x->fd[slot][0] = a;
    x->fd[slot][1] = b;
    atomic_fetch_add(&x->accepted, 1);
}

static void *relay_main(void *arg)
{
    relay *x = arg;
    for (;;) {
        struct pollfd p[2 + 2 * RELAY_PAIRS_MAX];
        int n = 0;
        p[n++] = (struct pollfd){.fd = x->wake[0], .events = POLLIN};
        p[n++] = (struct pollfd){.fd = x->lfd, .events = POLLIN};
        for (int i = 0; i < RELAY_PAIRS_MAX; i++)
            for (int k = 0; k < 2; k++)
                p[n++] = (struct pollfd){.fd = x->fd[i][k], .events = POLLIN};
        if (poll(p, (nfds_t)n, -1) < 0) {
            if (errno == EINTR) continue;
            snprintf(x->error, sizeof x->error, "the relay cannot poll: %s", strerror(errno));
            break;
        }
        if (p[1].revents & POLLIN) relay_accept(x);
        for (int i = 0; i < RELAY_PAIRS_MAX; i++)
            for (int k = 0; k < 2; k++) {
                if (x->fd[i][k] < 0 || !(p[2 + 2 * i + k].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                ssize_t r = recv(x->fd[i][k], x->buf, RELAY_BUF_BYTES, 0);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0 || write_all(x->fd[i][1 - k], x->buf, (size_t)r) != 0) {
                    relay_close_pair(x, i); /* one side closed: close the other */
                    break;
                }
                atomic_fetch_add(k == 0 ? &x->up : &x->down, (uint64_t)r);
            }
        /* stop once asked and every connection has closed: all bytes are counted */
        if (p[0].revents & POLLIN) {
            int open = 0;
            for (int i = 0; i < RELAY_PAIRS_MAX; i++)
                open |= x->fd[i][0] >= 0;
            if (!open) break;
        }
    }
    return NULL;
}

/* Starts a relay to the district's endpoint (tcp://127.0.0.1:PORT). */
static void relay_start(relay *x, const char *target)
{
    memset(x, 0, sizeof *x);
    for (int i = 0; i < RELAY_PAIRS_MAX; i++)
        x->fd[i][0] = x->fd[i][1] = -1;
    const char *colon = strrchr(target, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 0;
    if (strncmp(target, "tcp://127.0.0.1:", 16) != 0 || port <= 0 || port > 65535)
        bench_die("the relay needs a tcp://127.0.0.1 endpoint, not %s", target);
    x->target_port = (uint16_t)port;
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (!(x->buf = malloc(RELAY_BUF_BYTES)) || pipe(x->wake) != 0 ||
        (x->lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
        bind(x->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(x->lfd, 4) != 0 ||
        getsockname(x->lfd, (struct sockaddr *)&a, &len) != 0)
        bench_die("the relay cannot listen: %s", strerror(errno));
    snprintf(x->endpoint, sizeof x->endpoint, "tcp://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    if (pthread_create(&x->th, NULL, relay_main, x) != 0) bench_die("cannot start a thread");
}

/* Waits until both nodes have closed their sockets, then stops the relay. */
static void relay_stop(relay *x)
{
    if (write(x->wake[1], "x", 1) != 1) bench_die("cannot wake the relay: %s", strerror(errno));
    pthread_join(x->th, NULL);
    for (int i = 0; i < RELAY_PAIRS_MAX; i++)
        relay_close_pair(x, i);
    close(x->lfd);
    close(x->wake[0]);
    close(x->wake[1]);
    free(x->buf);
    if (x->error[0]) bench_die("%s", x->error);
}

/* --- end to end: two nodes, two threads, real sockets ------------------------------- */

typedef struct run run;

/* One node's side: its transport, its session and what its loop measured. */
typedef struct side {
    run *r;
    node *self, *peer;
    int listens; /* the district listens, the commune connects */
    tvz_ctx *ctx;
    tvz_listener *lis;
    tvz_conn *conn;
    tv_driver *drv;     /* the node's loop (net/driver.h) */
    atomic_int in_step; /* set once this side saw its session in step with nothing held */
    sync_stats st;      /* the session's figures at the end */
    double t_wait, t_transport, t_recv, t_flush, t_notify, t_send;
    double mark;                    /* where the current phase of the driver's turn began */
    int first, delivering, sending; /* within a turn: events not read yet; a message is
                                     * being applied; messages are being sent */
    uint64_t loops, flushes, held, lost;
    uint64_t type_msgs[MSG_TYPES], type_bytes[MSG_TYPES];
} side;

struct run {
    side c, d;
    uint64_t events;   /* to replicate */
    uint64_t log_last; /* the last seq of the commune's log: registrations, then the events */
    pthread_barrier_t ready;
    char endpoint[TVZ_ENDPOINT_MAX];
    pthread_mutex_t lock;
    atomic_int failed;
    char error[512];
    double t0, t1, deadline;
    relay rl; /* between the commune and the district: counts the bytes on the socket */
    int relayed;
};

static void run_fail(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_fail(run *r, const char *fmt, ...)
{
    pthread_mutex_lock(&r->lock);
    if (!atomic_load(&r->failed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
        atomic_store(&r->failed, 1);
    }
    pthread_mutex_unlock(&r->lock);
}

/* The session with the peer, or NULL before it starts. */
static tv_driver_session *side_session(side *sd)
{
    return tv_driver_find(sd->drv, sd->peer->id.pk);
}

/* The driver's transport and hooks. They also time the phases of its turn: receiving
 * (transport, then protocol), flushing, announcing and ticking (`notify`), sending. */

static int64_t side_clock(void *arg)
{
    (void)arg;
    return wall_ms();
}

static int side_send(void *arg, const tv_driver_session *s, const uint8_t *buf, size_t len)
{
    side *sd = arg;
    (void)s;
    if (!sd->sending) {
        double now = bench_now_s();
        sd->t_notify += now - sd->mark;
        sd->mark = now;
        sd->sending = 1;
    }
    int rc = sd->listens ? tvz_listener_send_to(sd->lis, sd->peer->id.pk, buf, len)
                         : tvz_conn_send(sd->conn, buf, len);
    if (rc == TV_EBUSY) { /* the driver offers it again on the next turn */
        sd->held++;
        return rc;
    }
    unsigned type = len > 1 && buf[1] < MSG_TYPES ? buf[1] : 0;
    sd->type_msgs[type]++;
    sd->type_bytes[type] += len;
    if (rc == TV_ENOTFOUND) sd->lost++; /* the peer's connection is gone: the session resends */
    return rc;
}

/* Link events of the commune's connection: the session starts when the link is up. */
static int side_events(side *sd)
{
    run *r = sd->r;
    tvz_event ev;
    while (tvz_conn_event_next(sd->conn, &ev) == 0) {
        if (ev.kind == TVZ_EVENT_UP) {
            if (!tv_driver_open(sd->drv, sd->peer->id.pk, -1)) {
                run_fail(r, "the %s cannot start a session", sd->self->name);
                return TV_EIO;
            }
        } else if (ev.kind == TVZ_EVENT_DOWN) {
            if (!atomic_load(&r->d.in_step)) {
                run_fail(r, "the link to the district went down");
                return TV_EIO;
            }
        } else {
            run_fail(r, "the district refused the commune's handshake (%s, value %u)",
                     ev.kind == TVZ_EVENT_REFUSED ? "refused" : "failed", ev.value);
            return TV_EIO;
        }
    }
    return TV_OK;
}

/* Takes the next message from the peer waiting on the transport. */
static int side_recv(void *arg, tv_driver *drv, tv_driver_msg *out)
{
    side *sd = arg;
    (void)drv;
    double a = bench_now_s();
    if (sd->delivering) sd->t_recv += a - sd->mark;
    sd->delivering = 0;
    if (sd->first) {
        sd->first = 0;
        if (!sd->listens && side_events(sd)) return TV_EIO;
    }
    for (;;) {
        tvz_msg m;
        int rc = sd->listens ? tvz_listener_recv(sd->lis, &m) : tvz_conn_recv(sd->conn, &m);
        double b = bench_now_s();
        sd->t_transport += b - a;
        sd->mark = a = b;
        if (rc == TV_EBUSY) return rc;
        if (rc) {
            run_fail(sd->r, "the %s cannot receive: %s", sd->self->name, tv_strerror(rc));
            return rc;
        }
        if (memcmp(m.from, sd->peer->id.pk, TV_NODE_ID_BYTES) != 0) continue;
        memcpy(out->from, m.from, TV_NODE_ID_BYTES);
        out->link = -1;
        out->data = m.data;
        out->len = m.len;
        sd->delivering = 1;
        return TV_OK;
    }
}

static int side_flushed(void *arg)
{
    side *sd = arg;
    double now = bench_now_s();
    sd->t_flush += now - sd->mark;
    sd->mark = now;
    sd->flushes++;
    return TV_OK;
}

static int side_turned(void *arg, tv_driver_session *s)
{
    side *sd = arg;
    (void)s;
    double now = bench_now_s();
    if (sd->sending)
        sd->t_send += now - sd->mark;
    else
        sd->t_notify += now - sd->mark;
    sd->mark = now;
    sd->sending = 0;
    return TV_OK;
}

/* Is the district's session in step, holding all of the commune's events? */
static int district_complete(side *sd)
{
    store_txn *t;
    store_frontier f;
    if (store_read_begin(sd->self->st, &t)) return 0;
    int rc = store_frontier_get(t, sd->peer->id.pk, &f);
    store_read_end(t);
    return sd->r->log_last == 0 || (rc == 0 && f.seq == sd->r->log_last);
}

/* One node's loop: wait for traffic, then the driver's turn (receive, make durable,
 * announce, run the timers, send). Ends when both sides are in step. */
static void side_loop(side *sd)
{
    run *r = sd->r;
    side *other = sd == &r->c ? &r->d : &r->c;
    double next_progress = 0;
    while (!atomic_load(&r->failed)) {
        if (bench_interrupted) {
            run_fail(r, "interrupted");
            break;
        }
        double m0 = bench_now_s();
        if (m0 > r->deadline) {
            run_fail(r, "the %s was not in step within %.0f s", sd->self->name,
                     r->deadline - r->t0);
            break;
        }
        sd->loops++;
        int64_t now = wall_ms();
        int64_t e = tv_driver_wake(sd->drv, now, now + IDLE_WAIT_MS);
        long wait = e > now ? (long)(e - now) : 0;
        tv_driver_session *s = side_session(sd);
        if (((s && s->hold) || atomic_load(&sd->in_step)) && wait > HOLD_WAIT_MS)
            wait = HOLD_WAIT_MS;
        tvz_poll_item it =
            sd->listens ? (tvz_poll_item){.listener = sd->lis} : (tvz_poll_item){.conn = sd->conn};
        if (tvz_poll(&it, 1, wait) < 0) {
            run_fail(r, "the %s cannot poll: %s", sd->self->name, strerror(errno));
            break;
        }
        sd->t_wait += bench_now_s() - m0;
        sd->first = 1;
        sd->delivering = sd->sending = 0;
        int rc = tv_driver_turn(sd->drv);
        if (rc) {
            run_fail(r, "the %s's session failed: %s", sd->self->name, tv_strerror(rc));
            break;
        }
        if (!(s = side_session(sd))) continue;

        sync_state st = sync_peer_state(s->s);
        if (st == SYNC_CLOSED || st == SYNC_DEAD) {
            sync_stats ss;
            sync_peer_stats(s->s, &ss);
            run_fail(r, "the %s's session ended (%s): %s%s", sd->self->name, sync_state_name(st),
                     ss.error ? tv_strerror(ss.error) : "the peer said: ",
                     ss.error ? "" : tv_strerror(ss.peer_error));
            break;
        }
        double c = bench_now_s();
        if (st == SYNC_IN_STEP && !s->hold && !atomic_load(&sd->in_step) &&
            (!sd->listens || district_complete(sd))) {
            if (sd->listens) r->t1 = c;
            atomic_store(&sd->in_step, 1);
        }
        if (sd->listens && bench_progress_on && c >= next_progress) {
            sync_stats ss;
            sync_peer_stats(s->s, &ss);
            bench_progress("events replicated", ss.events_in, r->events);
            next_progress = c + 0.25;
        }
        if (atomic_load(&sd->in_step) && atomic_load(&other->in_step)) break;
    }
}

static void *side_main(void *arg)
{
    side *sd = arg;
    run *r = sd->r;
    int rc = tvz_ctx_new(&sd->self->id, NULL, &sd->ctx);
    if (rc) run_fail(r, "the %s's transport: %s", sd->self->name, tv_strerror(rc));
    if (rc == 0 && sd->listens) {
        if ((rc = tvz_allow(sd->ctx, sd->peer->id.pk)) ||
            (rc = tvz_listener_new(sd->ctx, "tcp://127.0.0.1:*", &sd->lis)))
            run_fail(r, "the district cannot listen: %s", tv_strerror(rc));
        else
            snprintf(r->endpoint, sizeof r->endpoint, "%s", tvz_listener_endpoint(sd->lis));
    }
    pthread_barrier_wait(&r->ready);
    if (rc == 0 && !atomic_load(&r->failed)) {
        if (!sd->listens) {
            relay_start(&r->rl, r->endpoint);
            r->relayed = 1;
            r->t0 = bench_now_s();
            if ((rc = tvz_conn_new(sd->ctx, r->rl.endpoint, sd->peer->id.pk, &sd->conn)))
                run_fail(r, "the commune cannot connect to %s: %s", r->rl.endpoint,
                         tv_strerror(rc));
        }
        if (rc == 0) side_loop(sd);
    }
    tv_driver_session *s = side_session(sd);
    if (s) sync_peer_stats(s->s, &sd->st);
    tv_driver_free(sd->drv);
    sd->drv = NULL;
    tvz_conn_free(sd->conn);
    tvz_listener_free(sd->lis);
    tvz_ctx_free(sd->ctx);
    return NULL;
}

static void side_init(side *sd, run *r, node *self, node *peer, int listens)
{
    sd->r = r;
    sd->self = self;
    sd->peer = peer;
    sd->listens = listens;
    atomic_init(&sd->in_step, 0);
    tv_driver_config cfg = {
        .st = self->st, .self = &self->id, .sessions_max = 1, .poll_store = 1, .hello_restarts = 1};
    memcpy(cfg.epoch, self->epoch, SYNC_EPOCH_BYTES);
    tv_driver_ops ops = {.arg = sd,
                         .now_ms = side_clock,
                         .send = side_send,
                         .recv = side_recv,
                         .flushed = side_flushed,
                         .session = side_turned};
    int rc = tv_driver_new(&sd->drv, &cfg, &ops);
    if (rc) bench_die("the %s cannot start its loop: %s", self->name, tv_strerror(rc));
}

/* One connection between the two nodes, through the relay, until both are in step: events
 * to replicate, log_last the last seq of the commune's log the district must hold (0: the
 * commune has no log of its own). */
static void end_to_end(run *r, node *commune, node *district, uint64_t events, uint64_t log_last)
{
    memset(r, 0, sizeof *r);
    r->events = events;
    r->log_last = log_last;
    atomic_init(&r->failed, 0);
    pthread_mutex_init(&r->lock, NULL);
    pthread_barrier_init(&r->ready, NULL, 2);
    side_init(&r->c, r, commune, district, 0);
    side_init(&r->d, r, district, commune, 1);
    r->t0 = bench_now_s();
    r->deadline = r->t0 + DEADLINE_S + (double)events / 2000.0;
    pthread_t tc, td;
    if (pthread_create(&td, NULL, side_main, &r->d) != 0) bench_die("cannot start a thread");
    if (pthread_create(&tc, NULL, side_main, &r->c) != 0) bench_die("cannot start a thread");
    pthread_join(tc, NULL);
    pthread_join(td, NULL);
    if (r->relayed) relay_stop(&r->rl); /* both sockets are closed: every byte counted */
    bench_progress_end();
    pthread_barrier_destroy(&r->ready);
    pthread_mutex_destroy(&r->lock);
    bench_check_interrupt();
    if (atomic_load(&r->failed)) bench_die("end to end: %s", r->error);
}

typedef struct sum_ctx {
    uint64_t batches, bytes;
} sum_ctx;

static int sum_fn(const uint8_t *buf, size_t len, void *arg)
{
    (void)buf;
    sum_ctx *s = arg;
    s->batches++;
    s->bytes += len;
    return 0;
}

/* Checks that the district holds the commune's whole log: frontier, counters, batch bytes.
 * events, batches and batch_bytes count the whole log, registrations with the scans. */
static void check_district(node *commune, node *district, uint64_t events, uint64_t scans,
                           uint64_t batches, uint64_t batch_bytes)
{
    store_txn *t;
    store_counts cc, dc;
    store_frontier f;
    sum_ctx sum = {0};
    int rc = store_read_begin(commune->st, &t);
    if (rc == 0) {
        rc = store_counts_get(t, &cc);
        store_read_end(t);
    }
    if (rc) bench_die("reading the commune's counters: %s", tv_strerror(rc));
    if ((rc = store_read_begin(district->st, &t)))
        bench_die("read transaction: %s", tv_strerror(rc));
    if ((rc = store_frontier_get(t, commune->id.pk, &f)) || (rc = store_counts_get(t, &dc)) ||
        (rc = store_batches_foreach(t, sum_fn, &sum)))
        bench_die("reading the district's store: %s", tv_strerror(rc));
    store_read_end(t);
    if (f.seq != events || dc.events != events || dc.by_type[CRDT_EV_SCAN] != scans ||
        dc.batches != batches || dc.events != cc.events || dc.batches != cc.batches ||
        dc.by_type[CRDT_EV_SCAN] != cc.by_type[CRDT_EV_SCAN] || dc.origins != cc.origins ||
        sum.batches != batches || sum.bytes != batch_bytes)
        bench_die(
            "the district does not hold the commune's log: frontier %" PRIu64 " (expected %" PRIu64
            "), events %" PRIu64 " (commune %" PRIu64 "), scans %" PRIu64 " (%" PRIu64
            "), batches %" PRIu64 " (%" PRIu64 "), origins %" PRIu64 " (%" PRIu64
            "), stored batch bytes %" PRIu64 " (%" PRIu64 ")",
            f.seq, events, dc.events, cc.events, dc.by_type[CRDT_EV_SCAN], cc.by_type[CRDT_EV_SCAN],
            dc.batches, cc.batches, dc.origins, cc.origins, sum.bytes, batch_bytes);
}

/* --- handshake: many origins ----------------------------------------------------------- */

/* K origins, each certified by the district and with one batch of one event (the
 * registration of a venue), held by both
 * peers: certificates installed and batches applied directly, not over the network. */
static void origins_fill(node *a, node *b, const fx_tree *ch, uint64_t k)
{
    static const char *const scope[] = {UNIT};
    fx_cert_spec spec = {.role = CRDT_ROLE_COMMUNE, .unit = UNIT, .scope = scope, .scope_len = 1};
    const uint8_t *root = ch->nodes[CH_ROOT].id.pk;
    uint8_t **raw = malloc(ORIGIN_GROUP * sizeof *raw), **bat = malloc(ORIGIN_GROUP * sizeof *bat);
    size_t *rlen = malloc(ORIGIN_GROUP * sizeof *rlen), *blen = malloc(ORIGIN_GROUP * sizeof *blen);
    if (!raw || !bat || !rlen || !blen) bench_die("out of memory");
    uint64_t rng = 2;
    char name[64];
    crdt_batch_builder bb;
    crdt_batch_builder_init(&bb);
    for (uint64_t done = 0; done < k;) {
        size_t n = k - done < ORIGIN_GROUP ? (size_t)(k - done) : ORIGIN_GROUP;
        for (size_t i = 0; i < n; i++) {
            crdt_identity o;
            identity_make(&o, 0x4F, done + i);
            spec.subject = o.pk;
            int rc = fx_cert_sign(&ch->nodes[CH_DISTRICT].id, &spec, &raw[i], &rlen[i]);
            if (rc) bench_die("signing a certificate: %s", tv_strerror(rc));
            /* its one event: the registration of a venue, whose id it derives (V1) */
            crdt_venue_upsert u;
            memset(&u, 0, sizeof u);
            for (int q = 0; q < TV_VENUE_NONCE_BYTES; q += 8) {
                uint64_t x = fx_splitmix64(&rng);
                memcpy(u.nonce + q, &x, 8);
            }
            tv_venue_id_derive(u.venue, o.pk, u.nonce);
            u.registers = 1;
            snprintf(name, sizeof name, "Địa điểm %" PRIu64, done + i + 1);
            u.fields = CRDT_VENUE_F_UNIT | CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY;
            u.unit = (crdt_text){UNIT, sizeof UNIT - 1};
            u.name = (crdt_text){name, (uint32_t)strlen(name)};
            u.category = 1 + (uint32_t)((done + i) % 25);
            uint64_t hlc = crdt_hlc_make((uint64_t)START_MS + done + i, 0);
            rc = crdt_event_pack_venue(&bb.pk, hlc, &u);
            crdt_batch_builder_note(&bb, hlc);
            if (rc == 0) rc = crdt_batch_seal(&bb, &o, 1, NULL, &bat[i], &blen[i], NULL);
            if (rc) bench_die("sealing an origin's batch: %s", tv_strerror(rc));
            crdt_batch_builder_reset(&bb);
            crdt_identity_wipe(&o);
        }
        install(a, root, raw, rlen, n);
        install(b, root, raw, rlen, n);
        apply(a, bat, blen, n);
        apply(b, bat, blen, n);
        for (size_t i = 0; i < n; i++) {
            free(raw[i]);
            free(bat[i]);
        }
        done += n;
        bench_progress("origins", done, k);
        bench_check_interrupt();
    }
    bench_progress_end();
    crdt_batch_builder_release(&bb);
    free(raw);
    free(bat);
    free(rlen);
    free(blen);
}

static void print_types(const char *what, const uint64_t *msgs, const uint64_t *bytes)
{
    printf("%s:", what);
    for (int i = 0; i < MSG_TYPES; i++)
        if (msgs[i]) printf(" %s %" PRIu64 "/%" PRIu64 "B", type_names[i], msgs[i], bytes[i]);
    putchar('\n');
}

/* --- main --------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
    opts o;
    parse_opts(argc, argv, &o);
    if (sodium_init() < 0) {
        fputs("sync: libsodium cannot start\n", stderr);
        return 1;
    }
    bench_start();
    make_dirs(&o);
    printf("sync: dir=%s fs=%s events=%" PRIu64 " origins=%" PRIu64 "\n", bench_work_dir,
           bench_fs_name(bench_work_dir), o.events, o.origins);
    fflush(stdout);

    fx_tree ch;
    chain_make(&ch);

    /* End to end. The commune's log is sealed and stored first, untimed. */
    node commune, district;
    node_open(&commune, "commune", DIR_COMMUNE, &ch.nodes[CH_COMMUNE].id);
    node_open(&district, "district", DIR_DISTRICT, &ch.nodes[CH_DISTRICT].id);
    chain_install(&commune, &ch);
    chain_install(&district, &ch);
    uint64_t batches, batch_bytes, reg_batches, reg_bytes;
    double p0 = bench_now_s();
    prefill(&commune, &district, o.events, &batches, &batch_bytes, &reg_batches, &reg_bytes);
    double prefill_s = bench_now_s() - p0;
    printf("prefill: %" PRIu64 " scans in %" PRIu64 " batches, %" PRIu64
           " bytes (%.1f bytes/event), %.1f s (untimed)\n",
           o.events, batches, batch_bytes, (double)batch_bytes / (double)o.events, prefill_s);
    printf("prefill: before them, %d venues registered in %" PRIu64 " batches (%" PRIu64
           " bytes), held by the district already (untimed)\n",
           VENUES, reg_batches, reg_bytes);
    fflush(stdout);

    static run r;
    end_to_end(&r, &commune, &district, o.events, VENUES + o.events);
    double secs = r.t1 - r.t0;
    check_district(&commune, &district, VENUES + o.events, o.events, reg_batches + batches,
                   reg_bytes + batch_bytes);
    const sync_stats *sc = &r.c.st, *sd = &r.d.st;
    uint64_t msgs = sc->msgs_out + sd->msgs_out;
    uint64_t proto_bytes = sc->bytes_out + sd->bytes_out;
    uint64_t wire_up = atomic_load(&r.rl.up), wire_down = atomic_load(&r.rl.down);
    uint64_t wire_bytes = wire_up + wire_down;
    double events_per_s = (double)o.events / secs;
    double wire_ratio = (double)wire_bytes / (double)batch_bytes;
    printf("end to end: %" PRIu64 " events over %s (CurveZMQ, ZAP; through the counting relay "
           "%s), one thread per node: %.3f s from connect to in step, %.0f events/s, %.1f MB/s "
           "of batches\n",
           o.events, r.endpoint, r.rl.endpoint, secs, events_per_s,
           (double)batch_bytes / secs / 1e6);
    printf("wire: %" PRIu64 " bytes on the socket (commune to district %" PRIu64 ", back %" PRIu64
           ", %" PRIu64 " connection%s) for %" PRIu64 " protocol bytes in %" PRIu64
           " messages (commune sent %" PRIu64 " in %" PRIu64 ", district %" PRIu64 " in %" PRIu64
           "); batches %" PRIu64 " bytes; ratio %.4f\n",
           wire_bytes, wire_up, wire_down, (uint64_t)atomic_load(&r.rl.accepted),
           atomic_load(&r.rl.accepted) == 1 ? "" : "s", proto_bytes, msgs, sc->bytes_out,
           sc->msgs_out, sd->bytes_out, sd->msgs_out, batch_bytes, wire_ratio);
    print_types("commune sent", r.c.type_msgs, r.c.type_bytes);
    print_types("district sent", r.d.type_msgs, r.d.type_bytes);
    printf("commune loop: %" PRIu64 " turns, wait %.3f s, transport recv %.3f s, protocol recv "
           "%.3f s, send %.3f s; %" PRIu64 " sends refused by the transport (queue full)\n",
           r.c.loops, r.c.t_wait, r.c.t_transport, r.c.t_recv, r.c.t_send, r.c.held);
    printf("district loop: %" PRIu64 " turns, wait %.3f s, transport recv %.3f s, protocol recv "
           "(with group commits of %d) %.3f s, flush %.3f s in %" PRIu64
           " calls, notify %.3f s, send %.3f s\n",
           r.d.loops, r.d.t_wait, r.d.t_transport, SYNC_PENDING_MAX, r.d.t_recv, r.d.t_flush,
           r.d.flushes, r.d.t_notify, r.d.t_send);
    printf("check: district holds %" PRIu64 " events of the commune in %" PRIu64
           " batches (%" PRIu64 " bytes), counters match; resends %" PRIu64 ", refused %" PRIu64
           ", duplicates %" PRIu64 ": ok\n",
           o.events, batches, batch_bytes, sc->resends, sd->refused_in, sd->duplicates_in);
    fflush(stdout);
    if (sd->events_in != o.events || sd->refused_in || sc->events_out != o.events)
        bench_die("the sessions moved %" PRIu64 " events out and %" PRIu64 " in, refused %" PRIu64
                  " (expected %" PRIu64 ", 0 refused)",
                  sc->events_out, sd->events_in, sd->refused_in, o.events);
    uint64_t resends = sc->resends;
    node_close(&commune);
    node_close(&district);
    bench_sub_dir_remove(DIR_COMMUNE);
    bench_sub_dir_remove(DIR_DISTRICT);

    /* Handshake between up-to-date peers holding K origins: a first session, then a second
     * one, each over its own connection through the relay. */
    node hc, hd;
    node_open(&hc, "commune", DIR_HS_COMMUNE, &ch.nodes[CH_COMMUNE].id);
    node_open(&hd, "district", DIR_HS_DISTRICT, &ch.nodes[CH_DISTRICT].id);
    chain_install(&hc, &ch);
    chain_install(&hd, &ch);
    double h0 = bench_now_s();
    origins_fill(&hc, &hd, &ch, o.origins);
    double fill_s = bench_now_s() - h0;
    static run first, second;
    end_to_end(&first, &hc, &hd, 0, 0);
    end_to_end(&second, &hc, &hd, 0, 0);
    uint64_t first_bytes = first.c.st.bytes_out + first.d.st.bytes_out;
    uint64_t first_wire = atomic_load(&first.rl.up) + atomic_load(&first.rl.down);
    uint64_t hs_bytes = second.c.st.bytes_out + second.d.st.bytes_out;
    uint64_t hs_msgs = second.c.st.msgs_out + second.d.st.msgs_out;
    uint64_t hs_batches = second.c.st.batches_out + second.d.st.batches_out;
    uint64_t hs_up = atomic_load(&second.rl.up), hs_down = atomic_load(&second.rl.down);
    uint64_t hs_wire = hs_up + hs_down;
    printf("handshake: %" PRIu64 " origins held by both peers (set up in %.1f s); each session "
           "over its own connection, through the relay\n",
           o.origins, fill_s);
    printf("first session: %" PRIu64 " protocol bytes in %" PRIu64 " messages, %" PRIu64
           " batches; %" PRIu64 " bytes on the socket\n",
           first_bytes, first.c.st.msgs_out + first.d.st.msgs_out,
           first.c.st.batches_out + first.d.st.batches_out, first_wire);
    printf("second session: %" PRIu64 " protocol bytes in %" PRIu64 " messages, %" PRIu64
           " batches, until both in step; %" PRIu64
           " bytes on the socket (commune to district %" PRIu64 ", back %" PRIu64
           "; with the ZMTP greeting and the CurveZMQ handshake)\n",
           hs_bytes, hs_msgs, hs_batches, hs_wire, hs_up, hs_down);
    print_types("second session, commune sent", second.c.type_msgs, second.c.type_bytes);
    print_types("second session, district sent", second.d.type_msgs, second.d.type_bytes);
    if (hs_batches) bench_die("the second session moved %" PRIu64 " batches", hs_batches);
    node_close(&hc);
    node_close(&hd);
    fx_tree_free(&ch);

    printf("bench=sync events=%" PRIu64 " seconds=%.3f events_per_s=%.0f wire_bytes=%" PRIu64
           " proto_bytes=%" PRIu64 " batch_bytes=%" PRIu64 " wire_ratio=%.4f msgs=%" PRIu64
           " batches=%" PRIu64 " resends=%" PRIu64 " handshake_bytes=%" PRIu64
           " handshake_msgs=%" PRIu64 " handshake_wire_bytes=%" PRIu64
           " first_session_bytes=%" PRIu64 " first_session_wire_bytes=%" PRIu64 " origins=%" PRIu64
           "\n",
           o.events, secs, events_per_s, wire_bytes, proto_bytes, batch_bytes, wire_ratio, msgs,
           batches, resends, hs_bytes, hs_msgs, hs_wire, first_bytes, first_wire, o.origins);
    bench_cleanup();
    return 0;
}
