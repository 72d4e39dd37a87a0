/* A store with a fixed certificate tree, for the apply and sync harnesses. Built once per
 * process in a fresh directory on tmpfs (/dev/shm, else TMPDIR, else /tmp), removed at exit.
 *
 *   P  province 56, the root (self-signed, scope *, health flag)
 *   D  district 568, certified by P for 22333 and 22402 -- the store's own node
 *   C  commune 22333, certified by D; its log holds one batch (seq 1) registering a venue,
 *      and in C's own store a second (seq 2) of scans there
 *   C2 commune 22402, certified by D; no batches yet
 *
 * fuzz_store_make(dir, self) builds it for node `self` (D, or C for the sync harness's peer).
 * The keys come from fixed seeds, so every run builds the same tree. */
#ifndef TV_TESTS_FUZZ_STORE_H
#define TV_TESTS_FUZZ_STORE_H

#include "crdt/batch.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/event.h"
#include "crdt/identity.h"
#include "fuzz/fuzz_util.h"
#include "store/store.h"
#include "test_util.h"

#include <unistd.h>

#define FUZZ_T0_MS 1633482000000LL /* 2021-10-06T08:00+07:00: the stores' "now" */
#define FUZZ_HLC0 ((uint64_t)FUZZ_T0_MS << 16)

typedef struct fuzz_tree {
    crdt_identity p, d, c, c2;
    uint8_t *cert[4]; /* P, D, C, C2 */
    size_t cert_len[4];
    uint8_t *c_batch1; /* C's first batch: a venue registration */
    size_t c_batch1_len;
    uint8_t c_hash1[TV_HASH_BYTES];
    uint8_t venue[TV_VENUE_ID_BYTES]; /* the venue it registers (unit 22333) */
    uint8_t *c_batch2; /* C's second batch: scans there, held only by C's own store */
    size_t c_batch2_len;
} fuzz_tree;

static crdt_cert fuzz_cert_tmp; /* large: kept off the stack */

static void fuzz_cert(fuzz_tree *tr, int i, const crdt_identity *issuer, const crdt_identity *subj,
                      uint32_t role, const char *unit, const char *const *scope, int scope_len)
{
    crdt_cert *c = &fuzz_cert_tmp;
    memset(c, 0, sizeof *c);
    memcpy(c->subject, subj->pk, TV_NODE_ID_BYTES);
    memcpy(c->issuer, issuer->pk, TV_NODE_ID_BYTES);
    c->role = role;
    strcpy(c->unit, unit);
    c->scope_len = (uint32_t)scope_len;
    for (int k = 0; k < scope_len; k++)
        strcpy(c->scope[k], scope[k]);
    c->flags = role == CRDT_ROLE_PROVINCE ? CRDT_CERT_F_HEALTH : 0;
    FUZZ_CHECK(crdt_cert_sign(c, issuer, &tr->cert[i], &tr->cert_len[i]) == 0);
}

static void fuzz_tree_init(fuzz_tree *tr)
{
    memset(tr, 0, sizeof *tr);
    test_identity(&tr->p, 0x50);
    test_identity(&tr->d, 0x44);
    test_identity(&tr->c, 0x43);
    test_identity(&tr->c2, 0x32);
    static const char *const all[] = {"*"}, *const dist[] = {"22333", "22402"},
                             *const c1[] = {"22333"}, *const c2[] = {"22402"};
    fuzz_cert(tr, 0, &tr->p, &tr->p, CRDT_ROLE_PROVINCE, "56", all, 1);
    fuzz_cert(tr, 1, &tr->p, &tr->d, CRDT_ROLE_DISTRICT, "568", dist, 2);
    fuzz_cert(tr, 2, &tr->d, &tr->c, CRDT_ROLE_COMMUNE, "22333", c1, 1);
    fuzz_cert(tr, 3, &tr->d, &tr->c2, CRDT_ROLE_COMMUNE, "22402", c2, 1);
    crdt_venue_upsert v;
    test_venue_register(&v, tr->c.pk, 7, "22333", "Chợ Bắc Nha Trang");
    memcpy(tr->venue, v.venue, TV_VENUE_ID_BYTES);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    FUZZ_CHECK(crdt_event_pack_venue(&b.pk, FUZZ_HLC0, &v) == 0);
    crdt_batch_builder_note(&b, FUZZ_HLC0);
    FUZZ_CHECK(
        crdt_batch_seal(&b, &tr->c, 1, NULL, &tr->c_batch1, &tr->c_batch1_len, tr->c_hash1) == 0);
    crdt_batch_builder_reset(&b);
    for (uint32_t k = 0; k < 3; k++) {
        crdt_scan sc = test_scan(k, FUZZ_T0_MS + k * 60000);
        sc.unit = (crdt_text){"22333", 5};
        memcpy(sc.venue, tr->venue, TV_VENUE_ID_BYTES);
        FUZZ_CHECK(crdt_event_pack_scan(&b.pk, FUZZ_HLC0 + 10 + k, &sc) == 0);
        crdt_batch_builder_note(&b, FUZZ_HLC0 + 10 + k);
    }
    FUZZ_CHECK(
        crdt_batch_seal(&b, &tr->c, 2, tr->c_hash1, &tr->c_batch2, &tr->c_batch2_len, NULL) == 0);
    crdt_batch_builder_release(&b);
}

typedef struct fuzz_make_ctx {
    const fuzz_tree *tr;
    const crdt_identity *self;
} fuzz_make_ctx;

static int fuzz_make_fn(store_txn *t, void *arg)
{
    const fuzz_make_ctx *m = arg;
    const fuzz_tree *tr = m->tr;
    int rc = store_meta_put(t, "node_id", m->self->pk, TV_NODE_ID_BYTES);
    if (!rc) rc = store_root_set(t, tr->p.pk);
    for (int i = 0; rc == 0 && i < 4; i++)
        rc = store_cert_install(t, tr->cert[i], tr->cert_len[i]);
    store_apply_result r;
    if (!rc) rc = store_apply_batch(t, tr->c_batch1, tr->c_batch1_len, FUZZ_T0_MS, &r);
    if (!rc && m->self == &tr->c)
        rc = store_apply_batch(t, tr->c_batch2, tr->c_batch2_len, FUZZ_T0_MS, &r);
    return rc;
}

/* A new directory on tmpfs holding the tree's store for node self; returns its path. */
static char *fuzz_store_make(const fuzz_tree *tr, const crdt_identity *self)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    char *path = malloc(4096);
    FUZZ_CHECK(path != NULL);
    snprintf(path, 4096, "%s/truyvet-fuzz-XXXXXX", base && *base ? base : "/tmp");
    FUZZ_CHECK(mkdtemp(path) != NULL);
    store *st;
    FUZZ_CHECK(store_open(&st, path, NULL) == 0);
    fuzz_make_ctx m = {tr, self};
    int rc = store_write(st, fuzz_make_fn, &m);
    if (rc) {
        fprintf(stderr, "fuzz store: %s\n", tv_strerror(rc));
        abort();
    }
    store_close(st);
    return path;
}

static void fuzz_rmdir(const char *path)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", path);
}

/* Every code store_apply_batch documents (store/store.h). */
static inline int fuzz_apply_rc_ok(int rc)
{
    switch (rc) {
    case 0:
    case TV_EDECODE:
    case TV_ELIMIT:
    case TV_EVERSION:
    case TV_ESIG:
    case TV_EHASH:
    case TV_ECHAIN:
    case TV_EGAP:
    case TV_EFORK:
    case TV_EUNTRUSTED:
    case TV_ESCOPE:
    case TV_EREVOKED:
    case TV_EFROZEN:
    case TV_EPARKED:
    case TV_ENOMEM:
        return 1;
    default:
        return 0;
    }
}

#endif
