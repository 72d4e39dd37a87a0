/* Tests of node directories and group commit over a real store. */
#include "crdt/batch.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/sealed.h"
#include "node/logic/downflow.h"
#include "node/logic/node.h"
#include "test_util.h"

#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

static void test_create_open(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/node", dir);
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(path, TV_ROLE_COMMUNE, "22333", "UBND Phường Bắc Nha Trang",
                                    TV_TEST_PASS, id),
                     0);
    assert_int_equal(tv_node_create(path, TV_ROLE_COMMUNE, "22333", "again", TV_TEST_PASS, id),
                     TV_EEXIST);
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "2233", "short code", TV_TEST_PASS, id),
                     TV_EINVAL);
    assert_int_equal(tv_node_create(dir, TV_ROLE_PROVINCE, "56", "", TV_TEST_PASS, id), TV_EINVAL);

    char key[4300];
    snprintf(key, sizeof key, "%s/" TV_SECRET_FILE, path);
    struct stat st;
    assert_int_equal(stat(key, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    tv_node n;
    assert_int_equal(tv_node_open(&n, path, 0), 0);
    assert_memory_equal(n.id.pk, id, TV_NODE_ID_BYTES);
    assert_int_equal(n.role, TV_ROLE_COMMUNE);
    assert_string_equal(n.unit, "22333");
    assert_string_equal(n.name, "UBND Phường Bắc Nha Trang");
    tv_node_close(&n);
    assert_int_equal(tv_node_open(&n, dir, 0), TV_ENOTFOUND);
    test_rmdir(dir);
}

/* Own events committed in groups get consecutive seqs across commits and restarts, and
 * the clock never goes back. */
/* The province (root, health flag) trusted by a node's store. */
static crdt_identity province;

static int province_fn(store_txn *t, void *arg)
{
    (void)arg;
    static crdt_cert c;
    memset(&c, 0, sizeof c);
    memcpy(c.subject, province.pk, TV_NODE_ID_BYTES);
    memcpy(c.issuer, province.pk, TV_NODE_ID_BYTES);
    c.role = CRDT_ROLE_PROVINCE;
    strcpy(c.unit, "56");
    c.scope_len = 1;
    strcpy(c.scope[0], CRDT_SCOPE_ALL);
    c.flags = CRDT_CERT_F_HEALTH;
    uint8_t *raw;
    size_t len;
    int rc = store_root_set(t, province.pk);
    if (rc == 0) rc = crdt_cert_sign(&c, &province, &raw, &len);
    if (rc == 0) {
        rc = store_cert_install(t, raw, len);
        free(raw);
    }
    return rc;
}

typedef struct batch_ctx {
    const uint8_t *buf;
    size_t len;
    int rc;
} batch_ctx;

static int apply_batch_fn(store_txn *t, void *arg)
{
    batch_ctx *c = arg;
    store_apply_result r;
    c->rc = store_apply_batch(t, c->buf, c->len, 1633482000000LL, &r);
    return 0;
}

/* A case status sealed to key kc, its own HLC `ahead` after the sealed event's. */
static void pack_sealed_case(crdt_batch_builder *b, uint64_t hlc, uint64_t ahead, uint8_t status,
                             const uint8_t *person, const uint8_t *kc)
{
    crdt_case c = {.unit = {"22333", 5},
                   .status = status,
                   .onset_ms = CRDT_TIME_NONE,
                   .sampled_ms = CRDT_TIME_NONE,
                   .at_ms = CRDT_TIME_NONE};
    memcpy(c.person, person, TV_PERSON_REF_BYTES);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    assert_int_equal(crdt_event_pack_case(&pk, hlc + ahead, &c), 0);
    uint8_t nonce[CRDT_SEALED_NONCE_BYTES] = {status};
    uint8_t box[CRDT_SEALED_BOX_BYTES_MAX];
    crdt_sealed_event se;
    assert_int_equal(
        crdt_sealed_seal(&se, box, (const uint8_t *)sb.data, sb.size, kc, province.pk, nonce), 0);
    crdt_batch_builder_note(b, hlc);
    assert_int_equal(crdt_event_pack_sealed(&b->pk, hlc, &se), 0);
    msgpack_sbuffer_destroy(&sb);
}

/* A commune opens the statuses sealed to it; one dated after the event that carries it
 * (so past the bound on a clock ahead, C1) would outrank every later status for good, and
 * is ignored. */
static void test_commune_ignores_misdated_status(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    if (!n.unlocked)
        assert_int_equal(tv_node_unlock(&n, TV_TEST_PASS_TEXT, strlen(TV_TEST_PASS_TEXT)), 0);
    const uint8_t kc[TV_TRACING_KEY_BYTES] = {0x4b, 0x43, 1};
    assert_int_equal(tv_node_set_tracing_key(&n, TV_KEY_COMMUNE, "22333", kc), 0);
    test_identity(&province, 0xee);
    assert_int_equal(store_write(n.st, province_fn, NULL), 0);

    const uint8_t person[TV_PERSON_REF_BYTES] = {7, 7, 7};
    const uint64_t hlc = crdt_hlc_make(1633482000000ULL - 3600000, 0);
    crdt_batch_builder b;
    crdt_batch_builder_init(&b);
    pack_sealed_case(&b, hlc, 0, CRDT_CASE_F1, person, kc);
    pack_sealed_case(&b, hlc + 1, crdt_hlc_make(365 * 86400000ULL, 0), CRDT_CASE_CLEARED, person,
                     kc);
    uint8_t *buf, h[TV_HASH_BYTES];
    batch_ctx c = {0};
    assert_int_equal(crdt_batch_seal(&b, &province, 1, NULL, &buf, &c.len, h), 0);
    crdt_batch_builder_release(&b);
    c.buf = buf;
    assert_int_equal(store_write(n.st, apply_batch_fn, &c), 0);
    assert_int_equal(c.rc, 0);
    free(buf);

    store_txn *t;
    tv_opened o = {0};
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(tv_opened_load(&n, t, &o), 0);
    store_read_end(t);
    assert_int_equal(o.ncases, 1);
    assert_int_equal(o.cases[0].status, CRDT_CASE_F1);
    tv_opened_release(&o);
    (void)tv_node_forget_unlocked(&n);
    tv_node_close(&n);
    test_rmdir(dir);
}

/* The note in node.lock (PROTOCOL.md 5): "brief PID" while a server holds the lock for a
 * chore, emptied as it lets go (a later holder that writes none must not look brief, or
 * commands would wait for it), "hold PID" for a program that records. */
static void lock_note_read(const char *dir, char *out, size_t cap)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/node.lock", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    fclose(f);
}

static void test_lock_notes(void **state)
{
    (void)state;
    char *dir = test_tmpdir(), note[64], want[64];
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    tv_node server, writer, other;
    assert_int_equal(tv_node_open(&server, dir, 0), 0);
    assert_int_equal(tv_node_lock_try(&server), 1);
    lock_note_read(dir, note, sizeof note);
    snprintf(want, sizeof want, "brief %ld\n", (long)getpid());
    assert_string_equal(note, want);
    tv_node_lock_release(&server);
    lock_note_read(dir, note, sizeof note);
    assert_string_equal(note, "");
    assert_int_equal(tv_node_open(&writer, dir, TV_NODE_WRITE), 0);
    lock_note_read(dir, note, sizeof note);
    snprintf(want, sizeof want, "hold %ld\n", (long)getpid());
    assert_string_equal(note, want);
    assert_int_equal(tv_node_open(&other, dir, TV_NODE_WRITE), TV_EBUSY); /* not waited for */
    assert_int_equal(tv_node_lock_try(&server), TV_EBUSY);
    tv_node_close(&writer);
    tv_node_close(&server);
    test_rmdir(dir);
}

static void test_group_commit_and_restart(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    uint8_t id[TV_NODE_ID_BYTES];
    assert_int_equal(tv_node_create(dir, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    /* more than one batch's worth in one commit */
    uint64_t last_hlc = 0, hlc, seq;
    for (uint32_t i = 0; i < CRDT_BATCH_EVENTS_MAX + 10; i++) {
        crdt_scan s = test_scan(i, 1633482000000LL + i);
        assert_int_equal(tv_node_add_scan(&n, &s, &hlc), 0);
        assert_true(hlc > last_hlc);
        last_hlc = hlc;
    }
    assert_int_equal(tv_node_pending(&n), CRDT_BATCH_EVENTS_MAX + 10);
    assert_int_equal(tv_node_commit(&n, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(tv_node_pending(&n), 0);
    crdt_scan s = test_scan(1, 5);
    assert_int_equal(tv_node_add_scan(&n, &s, NULL), 0);
    assert_int_equal(tv_node_commit(&n, &seq), 0);
    assert_int_equal(seq, CRDT_BATCH_EVENTS_MAX + 11);

    /* a second writer is refused while the first holds the node */
    tv_node other;
    assert_int_equal(tv_node_open(&other, dir, TV_NODE_WRITE), TV_EBUSY);
    tv_node_close(&n);

    /* after a restart the log continues, and the clock resumes above the last event */
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    assert_true(n.clock.last >= last_hlc);
    assert_int_equal(tv_node_add_scan(&n, &s, &hlc), 0);
    assert_true(hlc > last_hlc);
    assert_int_equal(tv_node_commit(&n, &seq), 0);
    assert_int_equal(seq, CRDT_BATCH_EVENTS_MAX + 12);

    /* an invalid event is refused before it reaches the pending group */
    s.direction = 7;
    assert_int_equal(tv_node_add_scan(&n, &s, NULL), TV_EINVAL);
    assert_int_equal(tv_node_pending(&n), 0);
    store_txn *t;
    store_counts c;
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);
    assert_int_equal(c.events, CRDT_BATCH_EVENTS_MAX + 12);
    assert_int_equal(c.batches, 4);

    /* locked (the kept key forgotten), the node records nothing: no key to sign with */
    assert_int_equal(tv_node_forget_unlocked(&n), 0);
    tv_node_close(&n);
    assert_int_equal(tv_node_open(&n, dir, TV_NODE_WRITE), 0);
    assert_false(n.unlocked);
    s.direction = 1;
    assert_int_equal(tv_node_add_scan(&n, &s, NULL), 0);
    assert_int_equal(tv_node_commit(&n, &seq), TV_ELOCKED);
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(store_counts_get(t, &c), 0);
    store_read_end(t);
    assert_int_equal(c.events, CRDT_BATCH_EVENTS_MAX + 12);
    tv_node_close(&n);
    test_rmdir(dir);
}

static void epoch_of(const char *dir, uint8_t out[16])
{
    tv_node n;
    assert_int_equal(tv_node_open(&n, dir, 0), 0);
    store_txn *t;
    size_t len;
    assert_int_equal(store_read_begin(n.st, &t), 0);
    assert_int_equal(store_meta_get(t, "epoch", out, 16, &len), 0);
    store_read_end(t);
    assert_int_equal(len, 16);
    tv_node_close(&n);
}

/* A copied (or restored) store gets a new epoch; reopening the same store does not. */
static void test_copy_gets_new_epoch(void **state)
{
    (void)state;
    char *dir = test_tmpdir();
    char a[4200], b[4200], cmd[8500];
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    uint8_t id[TV_NODE_ID_BYTES], e1[16], e2[16], e3[16];
    assert_int_equal(tv_node_create(a, TV_ROLE_COMMUNE, "22333", "xa", TV_TEST_PASS, id), 0);
    epoch_of(a, e1);
    epoch_of(a, e2);
    assert_memory_equal(e1, e2, 16);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", a, b);
    assert_int_equal(system(cmd), 0);
    epoch_of(b, e3);
    assert_memory_not_equal(e1, e3, 16);
    epoch_of(a, e2);
    assert_memory_equal(e1, e2, 16); /* the original keeps its epoch */
    test_rmdir(dir);
}

int main(void)
{
    if (sodium_init() < 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_open),
        cmocka_unit_test(test_group_commit_and_restart),
        cmocka_unit_test(test_lock_notes),
        cmocka_unit_test(test_commune_ignores_misdated_status),
        cmocka_unit_test(test_copy_gets_new_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
