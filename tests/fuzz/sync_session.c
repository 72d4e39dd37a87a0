/* A sync session after a valid handshake: the district D (fuzz_store.h) opens a session
 * with its commune C, receives C's real HELLO and version vector, then receives the
 * fuzzer's messages as if from C (sync_peer_recv), answering each (sync_peer_send), with
 * the timers run and the received batches flushed at the end.
 *
 * Input: a sequence of messages, each a 2-byte big-endian length and that many bytes.
 * D's store is restored from a pristine copy before every input, so no input leaves state
 * for the next.
 *
 * With TV_FUZZ_SEED_OUT=FILE set, the harness instead runs a real session between C and D
 * and writes what C sent after its handshake (WANT, BATCH, ACK, DONE, ...) to FILE in the
 * input format, as a seed (tests/fuzz/make_corpus.sh). */
#include "fuzz/fuzz_store.h"
#include "net/sync.h"

#define HANDSHAKE_MAX 16

static fuzz_tree tree;
static char *dir_d, *dir_c;
static char pristine[4200], live[4200];
static uint8_t msg[SYNC_MSG_BYTES_MAX];
static uint8_t *hs[HANDSHAKE_MAX]; /* C's messages before it hears from D */
static size_t hs_len[HANDSHAKE_MAX];
static int hs_n;

static void done(void)
{
    fuzz_rmdir(dir_d);
    fuzz_rmdir(dir_c);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    FUZZ_CHECK(in && out);
    size_t n;
    while ((n = fread(msg, 1, sizeof msg, in)) > 0)
        FUZZ_CHECK(fwrite(msg, 1, n, out) == n);
    fclose(in);
    FUZZ_CHECK(fclose(out) == 0);
}

static sync_peer *session(store *st, const crdt_identity *self, const crdt_identity *peer,
                          uint8_t epoch)
{
    sync_config cfg = {.st = st, .self = self};
    memset(cfg.epoch, epoch, SYNC_EPOCH_BYTES);
    sync_peer *p;
    FUZZ_CHECK(sync_peer_new(&p, &cfg, peer->pk, FUZZ_T0_MS) == 0);
    return p;
}

/* Drains p's output; with out set, appends each message to it in the input format. */
static void drain(sync_peer *p, sync_peer *to, FILE *out, int64_t now)
{
    for (;;) {
        size_t len;
        FUZZ_CHECK(sync_peer_send(p, msg, sizeof msg, &len, now) == 0);
        if (len == 0) break;
        FUZZ_CHECK(len <= SYNC_MSG_BYTES_MAX);
        if (out) {
            FUZZ_CHECK(len <= 0xffff);
            uint8_t h[2] = {(uint8_t)(len >> 8), (uint8_t)len};
            fwrite(h, 1, 2, out);
            fwrite(msg, 1, len, out);
        }
        if (to) (void)sync_peer_recv(to, msg, len, now);
    }
    if (to) FUZZ_CHECK(sync_peer_flush(to, now) == 0);
}

static void write_seed(const char *path)
{
    store *sd, *sc;
    FUZZ_CHECK(store_open(&sd, dir_d, NULL) == 0);
    FUZZ_CHECK(store_open(&sc, dir_c, NULL) == 0);
    sync_peer *pd = session(sd, &tree.d, &tree.c, 1), *pc = session(sc, &tree.c, &tree.d, 2);
    drain(pc, pd, NULL, FUZZ_T0_MS); /* the handshake the harness replays */
    FILE *out = fopen(path, "wb");
    FUZZ_CHECK(out != NULL);
    for (int round = 0; round < 20; round++) {
        drain(pd, pc, NULL, FUZZ_T0_MS);
        drain(pc, pd, out, FUZZ_T0_MS);
    }
    FUZZ_CHECK(fclose(out) == 0);
    sync_peer_free(pd);
    sync_peer_free(pc);
    store_close(sd);
    store_close(sc);
    done();
    _exit(0); /* not exit(): libFuzzer takes that for a fault of the target */
}

static void setup(void)
{
    fuzz_tree_init(&tree);
    dir_d = fuzz_store_make(&tree, &tree.d);
    dir_c = fuzz_store_make(&tree, &tree.c);
    atexit(done);
    snprintf(live, sizeof live, "%s/data.mdb", dir_d);
    snprintf(pristine, sizeof pristine, "%s/pristine.mdb", dir_c); /* beside C's store */
    copy_file(live, pristine);
    const char *seed_out = getenv("TV_FUZZ_SEED_OUT");
    if (seed_out) write_seed(seed_out);
    store *sc;
    FUZZ_CHECK(store_open(&sc, dir_c, NULL) == 0);
    sync_peer *pc = session(sc, &tree.c, &tree.d, 2);
    for (;;) {
        size_t len;
        FUZZ_CHECK(sync_peer_send(pc, msg, sizeof msg, &len, FUZZ_T0_MS) == 0);
        if (len == 0) break;
        FUZZ_CHECK(hs_n < HANDSHAKE_MAX);
        hs[hs_n] = malloc(len);
        FUZZ_CHECK(hs[hs_n] != NULL);
        memcpy(hs[hs_n], msg, len);
        hs_len[hs_n++] = len;
    }
    sync_peer_free(pc);
    store_close(sc);
}

/* The codes sync_peer_recv may return (net/sync.h): a session-ending refusal, or an error
 * the peer's bytes may cause. A corrupt or failing store is a fault. */
static int recv_rc_ok(int rc)
{
    return rc != TV_ECORRUPT && rc != TV_ESTORE && rc != TV_EINVAL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!hs_n) setup();
    copy_file(pristine, live);
    store *st;
    FUZZ_CHECK(store_open(&st, dir_d, NULL) == 0);
    sync_peer *p = session(st, &tree.d, &tree.c, 1);
    int64_t now = FUZZ_T0_MS;
    for (int i = 0; i < hs_n; i++)
        FUZZ_CHECK(sync_peer_recv(p, hs[i], hs_len[i], now) == 0);
    drain(p, NULL, NULL, now);
    size_t off = 0;
    while (off + 2 <= size && sync_peer_state(p) != SYNC_CLOSED) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off) len = size - off;
        uint8_t *m = malloc(len ? len : 1); /* exactly len bytes, for ASan */
        FUZZ_CHECK(m != NULL);
        memcpy(m, data + off, len);
        off += len;
        int rc = sync_peer_recv(p, m, len, now);
        free(m);
        if (!recv_rc_ok(rc)) {
            fprintf(stderr, "sync_peer_recv: unexpected %s\n", tv_strerror(rc));
            abort();
        }
        drain(p, NULL, NULL, now);
        now += 1000;
    }
    int rc = sync_peer_flush(p, now);
    FUZZ_CHECK(rc == 0);
    drain(p, NULL, NULL, now);
    FUZZ_CHECK(sync_peer_tick(p, now + SYNC_RESEND_MS) == 0);
    drain(p, NULL, NULL, now + SYNC_RESEND_MS);
    sync_peer_free(p);
    store_close(st);
    return 0;
}
