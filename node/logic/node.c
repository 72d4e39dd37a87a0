/* Node directories: creation, opening, and recording own events with group commit. */
#include "node/logic/node.h"
#include "crdt/assert.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/sealed.h"
#include "crdt/mp.h"
#include "net/sync.h"
#include "node/format/fileio.h"
#include "node/logic/person.h"
#include "node/logic/pmap.h"
#include "node/logic/resync.h"
#include "node/logic/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEY_FILE "node.key"
#define TRACING_FILE "tracing.key"
#define STORE_DIR "store"
#define LOCK_FILE "node.lock"
#define KEY_LABEL "truyvet-node-key-v1"
#define TRACING_LABEL "truyvet-tracing-key-v1"
#define KEY_FILE_BYTES_MAX 512 /* the clear key files of earlier versions */

_Static_assert((int)TV_ROLE_COMMUNE == (int)CRDT_ROLE_COMMUNE &&
                   (int)TV_ROLE_DISTRICT == (int)CRDT_ROLE_DISTRICT &&
                   (int)TV_ROLE_PROVINCE == (int)CRDT_ROLE_PROVINCE,
               "node roles are certificate roles");

const char *tv_key_kind_name(tv_key_kind k)
{
    switch (k) {
    case TV_KEY_LOCAL:
        return "local";
    case TV_KEY_COMMUNE:
        return "commune";
    case TV_KEY_PROVINCE:
        return "province";
    case TV_KEY_NONE:
        break;
    }
    return "none";
}

tv_role tv_role_parse(const char *s)
{
    if (strcmp(s, "commune") == 0) return TV_ROLE_COMMUNE;
    if (strcmp(s, "district") == 0) return TV_ROLE_DISTRICT;
    if (strcmp(s, "province") == 0) return TV_ROLE_PROVINCE;
    return 0;
}

const char *tv_role_name(tv_role r)
{
    switch (r) {
    case TV_ROLE_COMMUNE:
        return "commune";
    case TV_ROLE_DISTRICT:
        return "district";
    case TV_ROLE_PROVINCE:
        return "province";
    }
    return "unknown";
}

const char *tv_role_name_vi(tv_role r)
{
    switch (r) {
    case TV_ROLE_COMMUNE:
        return "xã";
    case TV_ROLE_DISTRICT:
        return "huyện";
    case TV_ROLE_PROVINCE:
        return "tỉnh";
    }
    return "không rõ";
}

int64_t tv_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int path_join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);
    return n > 0 && n < PATH_MAX ? TV_OK : TV_EINVAL;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return TV_EIO;
    int rc = fsync(fd) == 0 ? TV_OK : TV_EIO;
    close(fd);
    return rc;
}

/* Reads a clear key file of an earlier version: "label\nHEX\n". */
static int key_read(const char *path, const char *label, uint8_t *key, size_t n)
{
    char text[KEY_FILE_BYTES_MAX];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? TV_ENOTFOUND : TV_EIO;
    ssize_t got = read(fd, text, sizeof text - 1);
    close(fd);
    if (got < 0) return TV_EIO;
    text[got] = '\0';
    size_t ll = strlen(label);
    int rc = TV_ECORRUPT;
    if ((size_t)got == ll + 2 * n + 2 && memcmp(text, label, ll) == 0 && text[ll] == '\n' &&
        text[got - 1] == '\n') {
        text[got - 1] = '\0';
        rc = tv_hex_decode(key, n, text + ll + 1) ? TV_ECORRUPT : TV_OK;
    }
    sodium_memzero(text, sizeof text);
    return rc;
}

int tv_unit_valid_for_role(tv_role role, const char *unit)
{
    size_t want = role == TV_ROLE_PROVINCE ? 2 : role == TV_ROLE_DISTRICT ? 3 : 5;
    if (strlen(unit) != want) return 0;
    for (const char *p = unit; *p; p++)
        if (*p < '0' || *p > '9') return 0;
    return 1;
}

typedef struct create_ctx {
    tv_role role;
    const char *unit, *name;
    const uint8_t *node_id;
    uint8_t epoch[16];
    int64_t now;
} create_ctx;

static int create_meta(store_txn *t, void *arg)
{
    create_ctx *c = arg;
    const char *role = tv_role_name(c->role);
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)c->now);
    int rc;
    if ((rc = store_meta_put(t, "format", TV_NODE_FORMAT, strlen(TV_NODE_FORMAT))) ||
        (rc = store_meta_put(t, "node_id", c->node_id, TV_NODE_ID_BYTES)) ||
        (rc = store_meta_put(t, "role", role, strlen(role))) ||
        (rc = store_meta_put(t, "unit", c->unit, strlen(c->unit))) ||
        (rc = store_meta_put(t, "name", c->name, strlen(c->name))) ||
        (rc = store_meta_put(t, "epoch", c->epoch, sizeof c->epoch)) ||
        (rc = store_meta_put(t, "created_ms", now, strlen(now))))
        return rc;
    return TV_OK;
}

/* Creates the directories above path that are missing (like mkdir -p on its parent). */
static int mkdir_parents(const char *path)
{
    char p[PATH_MAX];
    if (strlen(path) >= sizeof p) return TV_EINVAL;
    strcpy(p, path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) return TV_EIO;
        *s = '/';
    }
    return TV_OK;
}

/* The node's secrets in locked memory (sodium_mlock: kept out of swap and core dumps);
 * tv_node_close unlocks and wipes them (sodium_munlock zeroes first). A failure to lock
 * (RLIMIT_MEMLOCK) leaves them in ordinary memory, still wiped on close. */
static void secrets_mlock(tv_node *n)
{
    (void)sodium_mlock(&n->id, sizeof n->id);
    (void)sodium_mlock(n->tracing_key, sizeof n->tracing_key);
    (void)sodium_mlock(n->file_key, sizeof n->file_key);
}

static void secrets_wipe(tv_node *n)
{
    sodium_munlock(&n->id, sizeof n->id);
    sodium_munlock(n->tracing_key, sizeof n->tracing_key);
    sodium_munlock(n->file_key, sizeof n->file_key);
    sodium_memzero(n->tracing_unit, sizeof n->tracing_unit);
    n->tracing_kind = TV_KEY_NONE;
    n->unlocked = 0;
}

/* Whether DIR holds one of the clear key files of earlier versions. */
static int plain_keys_present(const char *dir)
{
    char path[PATH_MAX];
    struct stat st;
    return (path_join(path, dir, KEY_FILE) == 0 && stat(path, &st) == 0) ||
           (path_join(path, dir, TRACING_FILE) == 0 && stat(path, &st) == 0);
}

/* Writes DIR/node.secret afresh: a new header (salt, limits) for pass, the secrets s. The
 * derived key goes to key_out. */
static int secret_create(const char *dir, const uint8_t node_id[TV_NODE_ID_BYTES], const char *pass,
                         size_t len, tv_kdf_level kdf, const tv_secrets *s, tv_secret_header *h,
                         uint8_t key_out[TV_FILE_KEY_BYTES])
{
    if (len == 0 || len > TV_PASSPHRASE_MAX) return TV_EINVAL;
    tv_secret_header_new(h, node_id, kdf);
    int rc = tv_secret_derive(key_out, pass, len, h);
    if (rc == TV_OK) rc = tv_secret_write(dir, h, key_out, s);
    return rc;
}

int tv_node_create(const char *dir, tv_role role, const char *unit, const char *name,
                   const char *pass, size_t pass_len, tv_kdf_level kdf,
                   uint8_t node_id[TV_NODE_ID_BYTES])
{
    int rc;
    char secret_path[PATH_MAX], store_path[PATH_MAX], f[PATH_MAX];
    if (!role || !tv_unit_valid_for_role(role, unit)) return TV_EINVAL;
    size_t name_len = strlen(name);
    if (name_len == 0 || name_len > TV_NODE_NAME_MAX || !crdt_text_valid(name, name_len))
        return TV_EINVAL;
    if (!pass || pass_len == 0 || pass_len > TV_PASSPHRASE_MAX) return TV_EINVAL;
    if (sodium_init() < 0) return TV_ENOMEM;
    if (path_join(secret_path, dir, TV_SECRET_FILE) || path_join(store_path, dir, STORE_DIR))
        return TV_EINVAL;
    if ((rc = mkdir_parents(dir))) return rc;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return TV_EIO;
    struct stat st;
    if (stat(secret_path, &st) == 0 || stat(store_path, &st) == 0 || plain_keys_present(dir))
        return TV_EEXIST;
    if (mkdir(store_path, 0700) != 0) return TV_EIO;

    /* the secrets live in sodium_malloc'd memory (guarded, locked, wiped on free) */
    struct {
        tv_secrets s;
        tv_secret_header h;
        uint8_t key[TV_FILE_KEY_BYTES];
        crdt_identity id;
    } *x = sodium_malloc(sizeof *x);
    if (!x) {
        rmdir(store_path);
        return TV_ENOMEM;
    }
    memset(x, 0, sizeof *x);
    randombytes_buf(x->s.seed, sizeof x->s.seed);
    randombytes_buf(x->s.tracing_key, sizeof x->s.tracing_key);
    x->s.tracing_kind = TV_KEY_LOCAL;
    snprintf(x->s.tracing_unit, sizeof x->s.tracing_unit, "%s", unit);
    rc = crdt_identity_from_seed(&x->id, x->s.seed);
    if (rc) goto undo;

    create_ctx c = {
        .role = role, .unit = unit, .name = name, .node_id = x->id.pk, .now = tv_wall_ms()};
    randombytes_buf(c.epoch, sizeof c.epoch);
    store *st_;
    if ((rc = store_open(&st_, store_path, NULL))) goto undo;
    rc = store_write(st_, create_meta, &c);
    store_close(st_);
    if (rc) goto undo;
    /* node.secret is written last: its presence is what makes the directory a node */
    if ((rc = secret_create(dir, x->id.pk, pass, pass_len, kdf, &x->s, &x->h, x->key))) goto undo;
    if ((rc = fsync_dir(dir))) goto undo;
    memcpy(node_id, x->id.pk, TV_NODE_ID_BYTES);
    /* a new node is left unlocked, as `truyvet init` promises; without a usable keyring it
     * stays locked and is unlocked with the passphrase */
    (void)tv_keyring_put(x->id.pk, x->key, 0);
    sodium_free(x);
    return TV_OK;
undo:
    sodium_free(x);
    unlink(secret_path);
    if (path_join(f, store_path, "data.mdb") == 0) unlink(f);
    if (path_join(f, store_path, "lock.mdb") == 0) unlink(f);
    rmdir(store_path);
    return rc;
}

static int meta_str(store_txn *t, const char *key, char *out, size_t cap)
{
    size_t len;
    int rc = store_meta_get(t, key, out, cap - 1, &len);
    if (rc) return rc == TV_ENOTFOUND || rc == TV_ELIMIT ? TV_ECORRUPT : rc;
    out[len] = '\0';
    return TV_OK;
}

static void (*lock_wait_hook)(const char *dir);

void tv_node_on_lock_wait(void (*fn)(const char *dir))
{
    lock_wait_hook = fn;
}

/* The holder's note in the lock file (PROTOCOL.md §5): "brief" while a server holds the
 * lock for one chore (a purge, a console's commit), else "hold". */
static void lock_note(int fd, const char *kind)
{
    char line[48], was[48];
    int len = snprintf(line, sizeof line, "%s %ld\n", kind, (long)getpid());
    /* a server commits often: the same note is left as it is */
    if (pread(fd, was, sizeof was, 0) == len && memcmp(was, line, (size_t)len) == 0) return;
    if (ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)len, 0) == len) return;
    /* a note not written only makes another process wait less: nothing is at stake */
}

static int lock_note_brief(int fd)
{
    char buf[8] = {0};
    return pread(fd, buf, 6, 0) == 6 && memcmp(buf, "brief ", 6) == 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes the node's writer lock: one process at a time appends to a node's own log, so
 * that its HLC and seq follow on from what the previous writer committed. With wait, a
 * holder that says it holds it for a moment (a server's purge or console commit) is
 * waited for, up to TV_NODE_LOCK_WAIT_MS; any other holder (a station, an import, a
 * command) is not, beyond TV_NODE_LOCK_GRACE_MS for the note a holder writes just after
 * it takes the lock. */
static int lock_take(tv_node *n, int wait, const char *kind)
{
    char path[PATH_MAX];
    int rc = path_join(path, n->dir, LOCK_FILE);
    if (rc) return rc;
    n->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (n->lock_fd < 0) return TV_EIO;
    int64_t start = mono_ms();
    int told = 0;
    while (flock(n->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) return TV_EIO;
        int64_t waited = mono_ms() - start;
        int brief = lock_note_brief(n->lock_fd);
        if (!wait || waited >= TV_NODE_LOCK_WAIT_MS || (!brief && waited >= TV_NODE_LOCK_GRACE_MS))
            return TV_EBUSY;
        if (brief && !told && lock_wait_hook) {
            lock_wait_hook(n->dir);
            told = 1;
        }
        struct timespec step = {0, 10 * 1000000L};
        nanosleep(&step, NULL);
    }
    lock_note(n->lock_fd, kind);
    return TV_OK;
}

typedef struct epoch_ctx {
    uint8_t file_id[TV_STORE_FILE_ID_BYTES];
    int renew; /* the store file is not the one the epoch was made for */
    int64_t now;
} epoch_ctx;

static int epoch_fn(store_txn *t, void *arg)
{
    epoch_ctx *c = arg;
    int rc = store_meta_put(t, "store_file", c->file_id, sizeof c->file_id);
    if (rc || !c->renew) return rc;
    uint8_t epoch[16];
    randombytes_buf(epoch, sizeof epoch);
    if ((rc = store_meta_put(t, "epoch", epoch, sizeof epoch))) return rc;
    return tv_resync_mark(t, c->now); /* no recording before a sync (resync.h) */
}

/* A store restored from a backup or copied to another directory may hold less than its
 * peers remember of it, or go on to write what they already hold from the original: it
 * gets a new epoch, which tells peers to forget what they remembered of it, and records
 * nothing until it has synced with a parent (resync.h). The data file is recognised by
 * its identity (tv_store_file_id: device, inode and birth time), which a copy or a
 * restore does not keep. */
static int epoch_check(tv_node *n)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/" STORE_DIR "/data.mdb", n->dir);
    epoch_ctx c = {0};
    int rc = tv_store_file_id(path, c.file_id);
    if (rc) return rc;
    store_txn *t;
    if ((rc = store_read_begin(n->st, &t))) return rc;
    uint8_t seen[TV_STORE_FILE_ID_BYTES];
    size_t len = 0;
    rc = store_meta_get(t, "store_file", seen, sizeof seen, &len);
    store_read_end(t);
    if (rc == TV_ELIMIT) rc = TV_OK, len = 0; /* a layout of a newer version: made anew */
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (rc == TV_OK && len == sizeof seen && memcmp(seen, c.file_id, sizeof seen) == 0)
        return TV_OK;
    /* recorded before, for another file: a copy or a restore. The first layout (16 bytes,
     * without the birth time) is taken over when device and inode match. */
    c.renew = rc == TV_OK && !(len == 16 && memcmp(seen, c.file_id, 16) == 0);
    c.now = tv_wall_ms();
    if ((rc = store_write(n->st, epoch_fn, &c)) || !c.renew) return rc;
    (void)tv_resync_log(n->dir, c.now, "restored",
                        "the store file is not the one last opened here (a restore or a "
                        "copy): recording waits for a sync with a parent");
    return TV_OK;
}

/* A health node opens the health audience's sealed events as it applies them: once
 * unlocked, its store gets the province key (store_sealed_key_set, locked memory). */
static void sealed_key_install(tv_node *n)
{
    store_txn *t;
    int health = 0;
    crdt_cert *own = malloc(sizeof *own);
    if (own && store_read_begin(n->st, &t) == TV_OK) {
        health = store_cert_get(t, n->id.pk, own, NULL, NULL) == TV_OK &&
                 (own->flags & CRDT_CERT_F_HEALTH) != 0;
        store_read_end(t);
    }
    free(own);
    if (!health) return;
    uint8_t kp[TV_TRACING_KEY_BYTES];
    if (tv_node_province_key(n, kp) == TV_OK) store_sealed_key_set(n->st, kp);
    sodium_memzero(kp, sizeof kp);
}

/* Loads the secrets s (opened with key) into n. */
static int secrets_install(tv_node *n, const tv_secrets *s, const uint8_t key[TV_FILE_KEY_BYTES])
{
    int rc = crdt_identity_from_seed(&n->id, s->seed);
    if (rc || memcmp(n->id.pk, n->secret.node_id, TV_NODE_ID_BYTES) != 0) {
        crdt_identity_wipe(&n->id);
        memcpy(n->id.pk, n->secret.node_id, TV_NODE_ID_BYTES);
        return TV_ECORRUPT;
    }
    n->tracing_kind = s->tracing_kind;
    memcpy(n->tracing_unit, s->tracing_unit, sizeof n->tracing_unit);
    memcpy(n->tracing_key, s->tracing_key, sizeof n->tracing_key);
    memcpy(n->file_key, key, sizeof n->file_key);
    n->unlocked = 1;
    if (n->st) sealed_key_install(n);
    return TV_OK;
}

/* Opens node.secret with key and loads what it holds. */
static int unlock_with_key(tv_node *n, const uint8_t key[TV_FILE_KEY_BYTES])
{
    uint8_t ct[TV_SECRET_FILE_BYTES - TV_SECRET_HEADER_BYTES];
    tv_secret_header h;
    int rc = tv_secret_read(n->dir, &h, ct);
    if (rc) return rc;
    if (memcmp(h.node_id, n->secret.node_id, TV_NODE_ID_BYTES) != 0) return TV_ECORRUPT;
    n->secret = h;
    tv_secrets *s = sodium_malloc(sizeof *s);
    if (!s) return TV_ENOMEM;
    rc = tv_secret_open(&h, ct, key, s);
    if (rc == TV_OK) rc = secrets_install(n, s, key);
    sodium_free(s);
    return rc;
}

int tv_node_unlock(tv_node *n, const char *pass, size_t len)
{
    if (len == 0 || len > TV_PASSPHRASE_MAX) return TV_EPASSPHRASE;
    uint8_t *key = sodium_malloc(TV_FILE_KEY_BYTES);
    if (!key) return TV_ENOMEM;
    int rc = tv_secret_derive(key, pass, len, &n->secret);
    if (rc == TV_OK) rc = unlock_with_key(n, key);
    sodium_free(key);
    return rc;
}

int tv_node_keep_unlocked(const tv_node *n, unsigned timeout_s)
{
    if (!n->unlocked) return TV_ELOCKED;
    return tv_keyring_put(n->id.pk, n->file_key, timeout_s);
}

int tv_node_forget_unlocked(const tv_node *n)
{
    return tv_keyring_forget(n->id.pk);
}

int tv_node_open(tv_node *n, const char *dir, int flags)
{
    memset(n, 0, sizeof *n);
    if (sodium_init() < 0) return TV_ENOMEM; /* sodium_malloc needs it; idempotent */
    n->lock_fd = -1;
    char path[PATH_MAX];
    if (strlen(dir) >= sizeof n->dir) return TV_EINVAL;
    strcpy(n->dir, dir);
    secrets_mlock(n);
    int rc;
    uint8_t ct[TV_SECRET_FILE_BYTES - TV_SECRET_HEADER_BYTES];
    rc = tv_secret_read(dir, &n->secret, ct);
    if (rc == TV_ENOTFOUND && plain_keys_present(dir)) rc = TV_EPLAINKEY;
    if (rc == TV_OK && plain_keys_present(dir)) rc = TV_EPLAINKEY; /* a conversion cut short */
    if (rc) goto fail;
    memcpy(n->id.pk, n->secret.node_id, TV_NODE_ID_BYTES);
    if ((flags & TV_NODE_WRITE) && (rc = lock_take(n, 1, "hold"))) goto fail;
    if ((rc = path_join(path, dir, STORE_DIR)) || (rc = store_open(&n->st, path, NULL))) goto fail;

    store_txn *t;
    if ((rc = store_read_begin(n->st, &t))) goto fail;
    char role[16], format[8];
    uint8_t node_id[TV_NODE_ID_BYTES];
    size_t len;
    store_frontier f;
    if ((rc = meta_str(t, "format", format, sizeof format)) ||
        (rc = meta_str(t, "role", role, sizeof role)) ||
        (rc = meta_str(t, "unit", n->unit, sizeof n->unit)) ||
        (rc = meta_str(t, "name", n->name, sizeof n->name)) ||
        (rc = store_meta_get(t, "node_id", node_id, sizeof node_id, &len))) {
        store_read_end(t);
        goto fail;
    }
    rc = store_frontier_get(t, n->id.pk, &f);
    store_read_end(t);
    if (rc && rc != TV_ENOTFOUND) goto fail;
    rc = TV_ECORRUPT;
    if (strcmp(format, TV_NODE_FORMAT) != 0) {
        rc = TV_EVERSION;
        goto fail;
    }
    n->role = tv_role_parse(role);
    if (!n->role || len != TV_NODE_ID_BYTES || memcmp(node_id, n->id.pk, len) != 0) goto fail;
    /* unlocked by `truyvet unlock` (or init) in the kernel keyring? A kept key that no
     * longer opens the file (the passphrase changed since) leaves the node locked. */
    uint8_t *key = sodium_malloc(TV_FILE_KEY_BYTES);
    if (!key) {
        rc = TV_ENOMEM;
        goto fail;
    }
    if (tv_keyring_get(n->id.pk, key) == TV_OK) (void)unlock_with_key(n, key);
    sodium_free(key);
    if ((flags & TV_NODE_SECRET) && !n->unlocked) {
        rc = TV_ELOCKED;
        goto fail;
    }
    if ((rc = epoch_check(n))) goto fail;
    crdt_hlc_init(&n->clock, f.hlc_max);
    for (int i = 0; i < TV_NODE_PENDING_BATCHES_MAX; i++)
        crdt_batch_builder_init(&n->pending[i]);
    n->pending_batches = 1;
    return TV_OK;
fail:
    store_close(n->st);
    if (n->lock_fd >= 0) close(n->lock_fd);
    secrets_wipe(n);
    memset(n, 0, sizeof *n);
    return rc;
}

int tv_node_attach(tv_node *n, store *st, const crdt_identity *id, tv_role role, const char *unit,
                   tv_key_kind kind, const uint8_t key[TV_TRACING_KEY_BYTES],
                   int64_t (*now_ms)(void *arg), void *arg)
{
    memset(n, 0, sizeof *n);
    if (strlen(unit) >= sizeof n->unit ||
        (kind == TV_KEY_COMMUNE && strlen(unit) >= sizeof n->tracing_unit))
        return TV_EINVAL;
    store_txn *t;
    store_frontier f = {0};
    int rc = store_read_begin(st, &t);
    if (rc) return rc;
    rc = store_frontier_get(t, id->pk, &f);
    store_read_end(t);
    if (rc && rc != TV_ENOTFOUND) return rc;
    n->lock_fd = -1;
    n->st = st;
    n->id = *id;
    n->role = role;
    strcpy(n->unit, unit);
    n->tracing_kind = (uint8_t)kind;
    if (kind == TV_KEY_COMMUNE) memcpy(n->tracing_unit, unit, strlen(unit));
    if (kind != TV_KEY_NONE) memcpy(n->tracing_key, key, TV_TRACING_KEY_BYTES);
    n->unlocked = 1;
    n->now_ms = now_ms;
    n->now_arg = arg;
    n->attached = 1;
    crdt_hlc_init(&n->clock, f.hlc_max);
    for (int i = 0; i < TV_NODE_PENDING_BATCHES_MAX; i++)
        crdt_batch_builder_init(&n->pending[i]);
    n->pending_batches = 1;
    return TV_OK;
}

void tv_node_detach(tv_node *n)
{
    TV_ASSERT(n->attached);
    for (int i = 0; i < TV_NODE_PENDING_BATCHES_MAX; i++)
        crdt_batch_builder_release(&n->pending[i]);
    sodium_memzero(n, sizeof *n);
}

void tv_node_close(tv_node *n)
{
    if (!n->st) return;
    for (int i = 0; i < TV_NODE_PENDING_BATCHES_MAX; i++)
        crdt_batch_builder_release(&n->pending[i]);
    store_close(n->st);
    if (n->lock_fd >= 0) close(n->lock_fd);
    secrets_wipe(n);
    memset(n, 0, sizeof *n);
}

/* The secrets of n as the file holds them. */
static void secrets_of(const tv_node *n, tv_secrets *s)
{
    crypto_sign_ed25519_sk_to_seed(s->seed, n->id.sk);
    s->tracing_kind = n->tracing_kind;
    memcpy(s->tracing_unit, n->tracing_unit, sizeof s->tracing_unit);
    memcpy(s->tracing_key, n->tracing_key, sizeof s->tracing_key);
}

int tv_node_passwd(tv_node *n, const char *pass, size_t len, tv_kdf_level kdf)
{
    if (n->lock_fd < 0) return TV_EINVAL;
    if (!n->unlocked) return TV_ELOCKED;
    struct {
        tv_secrets s;
        tv_secret_header h;
        uint8_t key[TV_FILE_KEY_BYTES];
    } *x = sodium_malloc(sizeof *x);
    if (!x) return TV_ENOMEM;
    secrets_of(n, &x->s);
    int rc = secret_create(n->dir, n->id.pk, pass, len, kdf, &x->s, &x->h, x->key);
    if (rc == TV_OK) {
        n->secret = x->h;
        memcpy(n->file_key, x->key, sizeof n->file_key);
    }
    sodium_free(x);
    return rc;
}

/* Overwrites a clear key file with zeros, syncs it and removes it. */
static int shred(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? TV_OK : TV_EIO;
    struct stat st;
    int rc = fstat(fd, &st) == 0 ? TV_OK : TV_EIO;
    uint8_t zero[KEY_FILE_BYTES_MAX] = {0};
    if (rc == TV_OK && st.st_size > 0 && (size_t)st.st_size <= sizeof zero &&
        (pwrite(fd, zero, (size_t)st.st_size, 0) != st.st_size || fsync(fd) != 0))
        rc = TV_EIO;
    if (close(fd) != 0 && rc == TV_OK) rc = TV_EIO;
    if (rc == TV_OK && unlink(path) != 0) rc = TV_EIO;
    return rc;
}

/* The kind of the tracing key of a node whose keys are still in clear files (s holds the
 * key read from them): the store says whether it is still the node's own (not enrolled) or
 * the one enrolment installed (the province's). An earlier version gave every enrolled node
 * the province key: only a health node keeps it; a commune keeps its own commune's key,
 * derived from it (s's key becomes that); a district without the health flag keeps none. */
static int plain_tracing_kind(const char *store_path, const uint8_t pk[TV_NODE_ID_BYTES],
                              tv_secrets *s)
{
    store *st_ = NULL;
    int rc = store_open(&st_, store_path, NULL);
    if (rc) return rc;
    store_txn *t;
    uint8_t meta_id[TV_NODE_ID_BYTES];
    size_t mlen = 0;
    char unit[TV_UNIT_CODE_MAX + 1];
    size_t ulen = 0;
    if ((rc = store_read_begin(st_, &t)) == TV_OK) {
        rc = store_meta_get(t, "node_id", meta_id, sizeof meta_id, &mlen);
        if (rc == TV_OK) rc = store_meta_get(t, "unit", unit, sizeof unit - 1, &ulen);
        if (rc == TV_OK && (mlen != TV_NODE_ID_BYTES || memcmp(meta_id, pk, TV_NODE_ID_BYTES) != 0))
            rc = TV_ECORRUPT;
        crdt_cert *own = rc == TV_OK ? malloc(sizeof *own) : NULL;
        if (rc == TV_OK && !own) rc = TV_ENOMEM;
        if (rc == TV_OK) {
            int enrolled = store_cert_get(t, pk, own, NULL, NULL) == TV_OK;
            unit[ulen] = '\0';
            if (!enrolled) {
                s->tracing_kind = TV_KEY_LOCAL;
            } else if (own->flags & CRDT_CERT_F_HEALTH) {
                s->tracing_kind = TV_KEY_PROVINCE;
            } else if (own->role == CRDT_ROLE_COMMUNE) {
                s->tracing_kind = TV_KEY_COMMUNE;
                memcpy(s->tracing_unit, unit, ulen);
                uint8_t kc[TV_TRACING_KEY_BYTES];
                tv_commune_key_derive(s->tracing_key, unit, kc);
                memcpy(s->tracing_key, kc, sizeof kc);
                sodium_memzero(kc, sizeof kc);
            } else {
                s->tracing_kind = TV_KEY_NONE;
                sodium_memzero(s->tracing_key, sizeof s->tracing_key);
            }
        }
        free(own);
        store_read_end(t);
    }
    store_close(st_);
    return rc;
}

int tv_node_encrypt_plain(const char *dir, const char *pass, size_t len, tv_kdf_level kdf,
                          uint8_t node_id[TV_NODE_ID_BYTES])
{
    char key_path[PATH_MAX], tracing_path[PATH_MAX], store_path[PATH_MAX], lock_path[PATH_MAX];
    if (path_join(key_path, dir, KEY_FILE) || path_join(tracing_path, dir, TRACING_FILE) ||
        path_join(store_path, dir, STORE_DIR) || path_join(lock_path, dir, LOCK_FILE))
        return TV_EINVAL;
    if (!plain_keys_present(dir)) return TV_ENOTFOUND;
    /* the writer lock: no other truyvet may use the node meanwhile */
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return TV_EIO;
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        close(lock_fd);
        return busy ? TV_EBUSY : TV_EIO;
    }
    lock_note(lock_fd, "hold");
    struct {
        uint8_t sk[TV_SECRET_KEY_BYTES];
        tv_secrets s;
        tv_secret_header h;
        uint8_t key[TV_FILE_KEY_BYTES];
        crdt_identity id;
    } *x = sodium_malloc(sizeof *x);
    int rc = x ? TV_OK : TV_ENOMEM;
    if (rc == TV_OK) {
        memset(x, 0, sizeof *x);
        rc = key_read(key_path, KEY_LABEL, x->sk, sizeof x->sk);
    }
    if (rc == TV_OK) rc = crdt_identity_from_secret(&x->id, x->sk);
    if (rc == TV_OK)
        rc = key_read(tracing_path, TRACING_LABEL, x->s.tracing_key, sizeof x->s.tracing_key);
    if (rc == TV_OK) rc = plain_tracing_kind(store_path, x->id.pk, &x->s);
    if (rc == TV_OK) {
        crypto_sign_ed25519_sk_to_seed(x->s.seed, x->id.sk);
        rc = secret_create(dir, x->id.pk, pass, len, kdf, &x->s, &x->h, x->key);
    }
    /* node.secret is on disk and synced: the clear files go, tracing.key first, since
     * node.key is what an older truyvet looks for */
    if (rc == TV_OK) rc = shred(tracing_path);
    if (rc == TV_OK) rc = shred(key_path);
    if (rc == TV_OK) rc = fsync_dir(dir);
    if (rc == TV_OK) {
        memcpy(node_id, x->id.pk, TV_NODE_ID_BYTES);
        (void)tv_keyring_put(x->id.pk, x->key, 0);
    }
    sodium_free(x);
    close(lock_fd);
    return rc;
}

/* Returns the builder the next event goes into, opening a new one when the current one
 * is full (by events or by bytes). NULL when every builder is full. */
static crdt_batch_builder *open_builder(tv_node *n)
{
    crdt_batch_builder *b = &n->pending[n->pending_batches - 1];
    const size_t room = CRDT_BATCH_BYTES_MAX - CRDT_BATCH_HEADER_BYTES_MAX - 256;
    if (b->count < CRDT_BATCH_EVENTS_MAX &&
        b->events.size + CRDT_EVENT_BYTES_MAX + CRDT_COPY_OVERHEAD_MAX <= room)
        return b;
    if (n->pending_batches == TV_NODE_PENDING_BATCHES_MAX) return NULL;
    return &n->pending[n->pending_batches++];
}

/* Is t this node's unit? Events that name a unit must name the node's own: peers judge
 * them by the node's certificate, and one they refuse would hold up the rest of the log
 * behind it for good (the node's own store takes its own events unjudged). */
static int own_unit(const tv_node *n, crdt_text t)
{
    return t.n == strlen(n->unit) && memcmp(t.p, n->unit, t.n) == 0;
}

static int unit_ok(const tv_node *n, uint32_t type, const void *ev)
{
    switch (type) {
    case CRDT_EV_SCAN:
        return own_unit(n, ((const crdt_scan *)ev)->unit);
    case CRDT_EV_VENUE_UPSERT: {
        const crdt_venue_upsert *v = ev;
        return (v->fields & CRDT_VENUE_F_UNIT) && own_unit(n, v->unit);
    }
    case CRDT_EV_CONTROLLER_ADD:
    case CRDT_EV_CONTROLLER_REMOVE:
        return own_unit(n, ((const crdt_controller *)ev)->unit);
    case CRDT_EV_VENUE_REMINDER:
        return own_unit(n, ((const crdt_reminder *)ev)->unit);
    case CRDT_EV_PERSON:
        return own_unit(n, ((const crdt_person *)ev)->unit);
    default:
        return 1;
    }
}

/* Adds an event stamped hlc (from the node's clock, rising). */
static int add_event_at(tv_node *n, uint32_t type, const void *ev, uint64_t hlc, uint64_t *hlc_out)
{
    if (!unit_ok(n, type, ev)) return TV_ESCOPE;
    crdt_batch_builder *b = open_builder(n);
    if (!b) return TV_ELIMIT;
    size_t before = b->events.size;
    int rc = TV_EINVAL;
    switch (type) {
    case CRDT_EV_SCAN:
        rc = crdt_event_pack_scan(&b->pk, hlc, ev);
        break;
    case CRDT_EV_VENUE_UPSERT:
        rc = crdt_event_pack_venue(&b->pk, hlc, ev);
        break;
    case CRDT_EV_CERT:
        rc = crdt_event_pack_cert(&b->pk, hlc, ev);
        break;
    case CRDT_EV_REVOKE:
        rc = crdt_event_pack_revoke(&b->pk, hlc, ev);
        break;
    case CRDT_EV_CONTROLLER_ADD:
    case CRDT_EV_CONTROLLER_REMOVE:
        rc = crdt_event_pack_controller(&b->pk, type, hlc, ev);
        break;
    case CRDT_EV_VENUE_REMINDER:
        rc = crdt_event_pack_reminder(&b->pk, hlc, ev);
        break;
    case CRDT_EV_PERSON:
        rc = crdt_event_pack_person(&b->pk, hlc, ev);
        break;
    case CRDT_EV_REVEAL:
        rc = crdt_event_pack_reveal(&b->pk, hlc, ev);
        break;
    case CRDT_EV_RISK_LEVEL:
        rc = crdt_event_pack_risk(&b->pk, hlc, ev);
        break;
    case CRDT_EV_SEALED:
        rc = crdt_event_pack_sealed(&b->pk, hlc, ev);
        break;
    case CRDT_EV_UNIT:
        rc = crdt_event_pack_unit(&b->pk, hlc, ev);
        break;
    case CRDT_EV_RETENTION:
        rc = crdt_event_pack_retention(&b->pk, hlc, ev);
        break;
    case CRDT_EV_HOLD:
        rc = crdt_event_pack_hold(&b->pk, hlc, ev);
        break;
    case CRDT_EV_KEY_GRANT:
        rc = crdt_event_pack_grant(&b->pk, hlc, ev);
        break;
    case CRDT_EV_CHECKPOINT:
        rc = crdt_event_pack_checkpoint(&b->pk, hlc, ev);
        break;
    }
    if (rc) {
        b->events.size = before; /* drop a partly packed event */
        return rc;
    }
    crdt_batch_builder_note(b, hlc);
    n->pending_events++;
    TV_ASSERT(b->count <= CRDT_BATCH_EVENTS_MAX &&
              n->pending_batches <= TV_NODE_PENDING_BATCHES_MAX);
    if (hlc_out) *hlc_out = hlc;
    return TV_OK;
}

/* The time by the node's clock: the wall clock, or an attached node's own. */
static int64_t node_now(const tv_node *n)
{
    return n->now_ms ? n->now_ms(n->now_arg) : tv_wall_ms();
}

static int add_event(tv_node *n, uint32_t type, const void *ev, uint64_t *hlc_out)
{
    if (!unit_ok(n, type, ev)) return TV_ESCOPE;
    if (!open_builder(n)) return TV_ELIMIT;
    return add_event_at(n, type, ev, crdt_hlc_now(&n->clock, (uint64_t)node_now(n)), hlc_out);
}

int tv_node_add_scan(tv_node *n, const crdt_scan *s, uint64_t *hlc_out)
{
    return add_event(n, CRDT_EV_SCAN, s, hlc_out);
}

int tv_node_add_venue(tv_node *n, const crdt_venue_upsert *v, uint64_t *hlc_out)
{
    return add_event(n, CRDT_EV_VENUE_UPSERT, v, hlc_out);
}

int tv_node_add_controller(tv_node *n, uint32_t type, const crdt_controller *c, uint64_t *hlc_out)
{
    if (type != CRDT_EV_CONTROLLER_ADD && type != CRDT_EV_CONTROLLER_REMOVE) return TV_EINVAL;
    return add_event(n, type, c, hlc_out);
}

int tv_node_add_reminder(tv_node *n, const crdt_reminder *r, uint64_t *hlc_out)
{
    return add_event(n, CRDT_EV_VENUE_REMINDER, r, hlc_out);
}

int tv_node_add_person(tv_node *n, const crdt_person *p, uint64_t *hlc_out)
{
    return add_event(n, CRDT_EV_PERSON, p, hlc_out);
}

/* Whether this node's certificate lets it author an event about unit: health statuses
 * (health), or a unit event. Peers judge the event by it, and one they refuse would hold
 * up the rest of the log behind it. Returns 0, TV_EPERM (not enrolled, or no health flag),
 * TV_ESCOPE or a store error. */
static int cert_allows(tv_node *n, crdt_text unit, int health)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    crdt_cert *own = malloc(sizeof *own);
    if (!own) rc = TV_ENOMEM;
    if (rc == 0) rc = store_cert_get(t, n->id.pk, own, NULL, NULL);
    if (rc == TV_ENOTFOUND) rc = TV_EPERM; /* not enrolled */
    if (rc == 0 && health && !(own->flags & CRDT_CERT_F_HEALTH)) rc = TV_EPERM;
    if (rc == 0 && !(health ? crdt_cert_health_covers(own, unit.p, unit.n)
                            : crdt_cert_names_unit(own, unit.p, unit.n)))
        rc = TV_ESCOPE;
    free(own);
    store_read_end(t);
    return rc;
}

/* Whether this node's certificate has the health flag: 0, TV_EPERM (not enrolled, or no
 * health flag) or a store error. */
static int health_only(tv_node *n)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    crdt_cert *own = malloc(sizeof *own);
    if (!own) rc = TV_ENOMEM;
    if (rc == 0) rc = store_cert_get(t, n->id.pk, own, NULL, NULL);
    if (rc == TV_ENOTFOUND || (rc == 0 && !(own->flags & CRDT_CERT_F_HEALTH))) rc = TV_EPERM;
    free(own);
    store_read_end(t);
    return rc;
}

int tv_node_add_sealed(tv_node *n, const uint8_t key[TV_TRACING_KEY_BYTES], uint32_t type,
                       const void *inner, uint64_t inner_hlc, uint64_t *hlc_out)
{
    if (type != CRDT_EV_CASE_STATUS && type != CRDT_EV_EXPOSURE && type != CRDT_EV_REVEAL &&
        type != CRDT_EV_HOLD)
        return TV_EINVAL;
    int rc = TV_OK;
    crdt_text own = {n->unit, (uint32_t)strlen(n->unit)};
    if (type == CRDT_EV_REVEAL || type == CRDT_EV_HOLD)
        rc = health_only(n);
    else
        rc =
            cert_allows(n, type == CRDT_EV_CASE_STATUS ? ((const crdt_case *)inner)->unit : own, 1);
    if (rc) return rc;
    if (!open_builder(n)) return TV_ELIMIT;
    uint64_t hlc = crdt_hlc_now(&n->clock, (uint64_t)node_now(n));
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    uint64_t ih = inner_hlc ? inner_hlc : hlc;
    switch (type) {
    case CRDT_EV_CASE_STATUS:
        rc = crdt_event_pack_case(&pk, ih, inner);
        break;
    case CRDT_EV_EXPOSURE:
        rc = crdt_event_pack_exposure(&pk, ih, inner);
        break;
    case CRDT_EV_REVEAL:
        rc = crdt_event_pack_reveal(&pk, ih, inner);
        break;
    default:
        rc = crdt_event_pack_hold(&pk, ih, inner);
        break;
    }
    uint8_t nonce[CRDT_SEALED_NONCE_BYTES], box[CRDT_SEALED_BOX_BYTES_MAX];
    crdt_sealed_event se;
    randombytes_buf(nonce, sizeof nonce);
    if (rc == TV_OK)
        rc = crdt_sealed_seal(&se, box, (const uint8_t *)sb.data, sb.size, key, n->id.pk, nonce);
    if (sb.data) sodium_memzero(sb.data, sb.alloc);
    msgpack_sbuffer_destroy(&sb);
    if (rc == TV_OK) rc = add_event_at(n, CRDT_EV_SEALED, &se, hlc, hlc_out);
    return rc;
}

int tv_node_add_risk(tv_node *n, const crdt_risk *r, uint64_t *hlc_out)
{
    int rc = cert_allows(n, r->unit, 1);
    return rc ? rc : add_event(n, CRDT_EV_RISK_LEVEL, r, hlc_out);
}

int tv_node_add_grant(tv_node *n, const crdt_key_grant *g, uint64_t *hlc_out)
{
    int rc = cert_allows(n, g->unit, 1);
    return rc ? rc : add_event(n, CRDT_EV_KEY_GRANT, g, hlc_out);
}

int tv_node_lock_try(tv_node *n)
{
    if (n->lock_fd >= 0) return 0;
    int rc = lock_take(n, 0, "brief");
    if (rc) {
        if (n->lock_fd >= 0) close(n->lock_fd);
        n->lock_fd = -1;
        return rc;
    }
    /* another process may have recorded since this one opened: follow on from it */
    store_txn *t;
    store_frontier f;
    if ((rc = store_read_begin(n->st, &t)) == TV_OK) {
        rc = store_frontier_get(t, n->id.pk, &f);
        store_read_end(t);
        if (rc == TV_OK)
            (void)crdt_hlc_observe(&n->clock, f.hlc_max, (uint64_t)tv_wall_ms(),
                                   CRDT_HLC_DRIFT_MAX_MS);
        if (rc == TV_ENOTFOUND) rc = TV_OK;
    }
    if (rc) {
        tv_node_lock_release(n);
        return rc;
    }
    return 1;
}

void tv_node_lock_release(tv_node *n)
{
    /* a note left saying "brief" would make a later holder that writes none look brief */
    if (n->lock_fd >= 0 && ftruncate(n->lock_fd, 0) != 0) {
        /* then a waiter waits longer than it needs: nothing is at stake */
    }
    if (n->lock_fd >= 0) close(n->lock_fd);
    n->lock_fd = -1;
}

int tv_node_add_unit(tv_node *n, const crdt_unit *u, uint64_t *hlc_out)
{
    int rc = cert_allows(n, u->code, 0);
    return rc ? rc : add_event(n, CRDT_EV_UNIT, u, hlc_out);
}

int tv_node_add_retention(tv_node *n, const crdt_retention *r, uint64_t *hlc_out)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    uint8_t root[TV_NODE_ID_BYTES];
    rc = store_root_get(t, root);
    store_read_end(t);
    if (rc == TV_ENOTFOUND || (rc == 0 && memcmp(root, n->id.pk, TV_NODE_ID_BYTES) != 0))
        return TV_EPERM; /* R1: peers would refuse it, and the rest of the log behind it */
    return rc ? rc : add_event(n, CRDT_EV_RETENTION, r, hlc_out);
}

int tv_node_add_checkpoint(tv_node *n, const crdt_checkpoint *c)
{
    /* a base opens the first batch of the group, and names the log as it stands */
    if (!c->copy && n->pending_events) return TV_EINVAL;
    return add_event(n, CRDT_EV_CHECKPOINT, c, NULL);
}

int tv_node_add_reveal(tv_node *n, const crdt_reveal *r, uint64_t *hlc_out)
{
    int rc = health_only(n);
    if (rc) return rc;
    uint8_t kp[TV_TRACING_KEY_BYTES];
    if ((rc = tv_node_province_key(n, kp)) == TV_OK)
        rc = tv_node_add_sealed(n, kp, CRDT_EV_REVEAL, r, 0, hlc_out);
    sodium_memzero(kp, sizeof kp);
    return rc == TV_ENOTFOUND ? TV_EPERM : rc;
}

int tv_node_add_hold(tv_node *n, const crdt_hold *h, uint64_t *hlc_out)
{
    int rc = health_only(n);
    if (rc) return rc;
    /* the health audience holds the person under the province ref: a commune's ref (a
     * health commune's own) is mapped to it */
    crdt_hold ph = *h;
    store_txn *t;
    if ((rc = store_read_begin(n->st, &t))) return rc;
    uint8_t pref[TV_PERSON_REF_BYTES];
    if (store_pmap_get(t, h->person, pref, NULL, NULL) == 1)
        memcpy(ph.person, pref, TV_PERSON_REF_BYTES);
    store_read_end(t);
    uint8_t kp[TV_TRACING_KEY_BYTES];
    if ((rc = tv_node_province_key(n, kp)) == TV_OK)
        rc = tv_node_add_sealed(n, kp, CRDT_EV_HOLD, &ph, 0, hlc_out);
    sodium_memzero(kp, sizeof kp);
    return rc == TV_ENOTFOUND ? TV_EPERM : rc;
}

/* Checks that this node may issue c now (see tv_node_add_cert). */
static int cert_issuable(tv_node *n, store_txn *t, const crdt_cert *c, int consented)
{
    if (memcmp(c->issuer, n->id.pk, TV_NODE_ID_BYTES) != 0) return TV_EPERM;
    uint8_t root[TV_NODE_ID_BYTES];
    int rc = store_root_get(t, root);
    if (rc && rc != TV_ENOTFOUND) return rc;
    int have_root = rc == TV_OK;
    if (crdt_cert_is_root(c))
        return !have_root || memcmp(root, n->id.pk, TV_NODE_ID_BYTES) == 0 ? TV_OK : TV_EPERM;
    crdt_cert *own = malloc(sizeof *own);
    if (!own) return TV_ENOMEM;
    rc = store_cert_get(t, n->id.pk, own, NULL, NULL);
    if (rc == TV_ENOTFOUND) rc = TV_EPERM;
    if (rc == TV_OK) rc = crdt_cert_narrows(own, c);
    /* refuse at the source what every receiver would refuse (T1-T4) */
    const char *rule = NULL;
    if (rc == TV_OK && store_cert_judge(t, c, consented, &rule) == TV_EPERM) rc = TV_EPERM;
    free(own);
    return rc;
}

int tv_node_add_cert(tv_node *n, const crdt_cert_event *c, uint64_t *hlc_out)
{
    crdt_cert *cert = malloc(sizeof *cert);
    if (!cert) return TV_ENOMEM;
    int rc = crdt_cert_open(cert, c->cert, c->len);
    if (rc == TV_ENOMEM) goto done;
    if (rc) {
        rc = TV_EINVAL;
        goto done;
    }
    store_txn *t;
    if ((rc = store_read_begin(n->st, &t))) goto done;
    /* a consent that does not verify would make every receiver refuse the batch */
    int consented =
        c->consent && crdt_cert_consent_verify(cert, c->consent_name.p, c->consent_name.n,
                                               c->consent_created_ms, c->consent_sig) == TV_OK;
    if (c->consent && !consented) rc = TV_EINVAL;
    if (rc == TV_OK) rc = cert_issuable(n, t, cert, consented);
    store_read_end(t);
    if (rc == TV_OK) rc = add_event(n, CRDT_EV_CERT, c, hlc_out);
done:
    free(cert);
    return rc;
}

int tv_node_add_revoke(tv_node *n, const crdt_revoke *r, uint64_t *hlc_out)
{
    if (memcmp(r->subject, n->id.pk, TV_NODE_ID_BYTES) == 0) return TV_EINVAL;
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) goto done;
    uint8_t root[TV_NODE_ID_BYTES];
    rc = store_root_get(t, root);
    if (rc == TV_OK && memcmp(root, n->id.pk, TV_NODE_ID_BYTES) != 0) {
        /* not the root: only a node in the subject's issuer chain, as receivers check (T5) */
        rc = TV_EPERM;
        uint8_t cur[TV_NODE_ID_BYTES];
        memcpy(cur, r->subject, TV_NODE_ID_BYTES);
        for (int depth = 0; depth < CRDT_CERT_CHAIN_MAX; depth++) {
            if (store_cert_get(t, cur, c, NULL, NULL) || crdt_cert_is_root(c)) break;
            if (memcmp(c->issuer, n->id.pk, TV_NODE_ID_BYTES) == 0) {
                rc = TV_OK;
                break;
            }
            memcpy(cur, c->issuer, TV_NODE_ID_BYTES);
        }
    } else if (rc == TV_ENOTFOUND) {
        rc = TV_EPERM; /* not enrolled: nobody would take it */
    }
    store_read_end(t);
    if (rc == TV_OK) rc = add_event(n, CRDT_EV_REVOKE, r, hlc_out);
done:
    free(c);
    return rc;
}

void tv_node_discard(tv_node *n)
{
    for (uint32_t i = 0; i < n->pending_batches; i++)
        crdt_batch_builder_reset(&n->pending[i]);
    n->pending_batches = 1;
    n->pending_events = 0;
}

int tv_node_may_record(tv_node *n)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = tv_resync_required(t, NULL);
    store_read_end(t);
    return rc ? (rc < 0 ? rc : TV_ERESTORED) : TV_OK;
}

typedef struct commit_ctx {
    tv_node *n;
    int64_t now;
    uint64_t first_seq;
    store_write_fn also; /* tv_node_commit_with's function, or NULL */
    void *also_ctx;
    int also_first; /* run it before the pending events are applied (tv_node_commit_after) */
} commit_ctx;

/* Seals and applies every pending builder. Deterministic (Ed25519 signatures are), so it
 * can run again after the store grows its map. */
static int commit_fn(store_txn *t, void *arg)
{
    commit_ctx *c = arg;
    tv_node *n = c->n;
    if (n->pending_events && !n->unlocked) return TV_ELOCKED; /* nothing to sign with */
    /* a restored or copied store would write at seqs its parents may hold already */
    int rc = n->pending_events ? tv_resync_required(t, NULL) : 0;
    if (rc) return rc < 0 ? rc : TV_ERESTORED;
    if (c->also && c->also_first && (rc = c->also(t, c->also_ctx))) return rc;
    store_frontier f;
    rc = store_frontier_get(t, n->id.pk, &f);
    if (rc && rc != TV_ENOTFOUND) return rc;
    c->first_seq = f.seq + 1;
    uint64_t sealed = 0; /* events sealed so far: all the pending ones at the end */
    for (uint32_t i = 0; i < n->pending_batches; i++) {
        crdt_batch_builder *b = &n->pending[i];
        if (b->count == 0) continue;
        uint8_t *buf, hash[TV_HASH_BYTES];
        size_t len;
        if ((rc = crdt_batch_seal(b, &n->id, f.seq + 1, f.seq ? f.hash : NULL, &buf, &len, hash)))
            return rc;
        store_apply_result r;
        rc = store_apply_batch(t, buf, len, c->now, &r);
        free(buf);
        if (rc) return rc;
        /* the node's own batch, new at the head of its log: applied whole, where sealed */
        TV_ASSERT(!r.duplicate && r.rule == NULL && r.applied == b->count);
        TV_ASSERT(r.header.first_seq == f.seq + 1 && r.header.count == b->count);
        TV_ASSERT(memcmp(r.hash, hash, TV_HASH_BYTES) == 0);
        f.seq += b->count;
        sealed += b->count;
        memcpy(f.hash, hash, TV_HASH_BYTES);
    }
    TV_ASSERT(sealed == n->pending_events);
#if TV_ASSERT_ON
    if (sealed) { /* the store's frontier is where the group commit ends */
        store_frontier g;
        TV_ASSERT(store_frontier_get(t, n->id.pk, &g) == TV_OK && g.seq == f.seq &&
                  memcmp(g.hash, f.hash, TV_HASH_BYTES) == 0);
    }
#endif
    return c->also && !c->also_first ? c->also(t, c->also_ctx) : TV_OK;
}

static int commit_around(tv_node *n, store_write_fn fn, void *ctx, int first, uint64_t *first_seq)
{
    *first_seq = 0;
    if (n->pending_events == 0 && !fn) return TV_OK;
    commit_ctx c = {.n = n, .now = node_now(n), .also = fn, .also_ctx = ctx, .also_first = first};
    int rc = store_write(n->st, commit_fn, &c);
    if (rc == TV_OK && n->pending_events) *first_seq = c.first_seq;
    tv_node_discard(n);
    return rc;
}

int tv_node_commit_with(tv_node *n, store_write_fn fn, void *ctx, uint64_t *first_seq)
{
    return commit_around(n, fn, ctx, 0, first_seq);
}

int tv_node_commit_after(tv_node *n, store_write_fn fn, void *ctx, uint64_t *first_seq)
{
    return commit_around(n, fn, ctx, 1, first_seq);
}

int tv_node_commit(tv_node *n, uint64_t *first_seq)
{
    return tv_node_commit_with(n, NULL, NULL, first_seq);
}

int tv_node_set_tracing_key(tv_node *n, tv_key_kind kind, const char *unit,
                            const uint8_t key[TV_TRACING_KEY_BYTES])
{
    if (n->lock_fd < 0 || kind < TV_KEY_NONE || kind > TV_KEY_PROVINCE) return TV_EINVAL;
    if (kind == TV_KEY_COMMUNE && (!unit || !tv_unit_valid_for_role(TV_ROLE_COMMUNE, unit)))
        return TV_EINVAL;
    if (!n->unlocked) return TV_ELOCKED;
    tv_secrets *s = sodium_malloc(sizeof *s);
    if (!s) return TV_ENOMEM;
    secrets_of(n, s);
    s->tracing_kind = (uint8_t)kind;
    memset(s->tracing_unit, 0, sizeof s->tracing_unit);
    if (kind == TV_KEY_COMMUNE) memcpy(s->tracing_unit, unit, strlen(unit));
    if (kind == TV_KEY_NONE)
        memset(s->tracing_key, 0, TV_TRACING_KEY_BYTES);
    else
        memcpy(s->tracing_key, key, TV_TRACING_KEY_BYTES);
    tv_secret_header h = n->secret;
    int rc = tv_secret_write(n->dir, &h, n->file_key, s);
    if (rc == TV_OK) {
        n->secret = h;
        n->tracing_kind = s->tracing_kind;
        memcpy(n->tracing_unit, s->tracing_unit, sizeof n->tracing_unit);
        memcpy(n->tracing_key, s->tracing_key, TV_TRACING_KEY_BYTES);
    }
    sodium_free(s);
    return rc;
}

int tv_node_opens_health(const tv_node *n)
{
    return store_sealed_key_held(n->st);
}

int tv_node_province_key(const tv_node *n, uint8_t out[TV_TRACING_KEY_BYTES])
{
    if (!n->unlocked) return TV_ELOCKED;
    if (n->tracing_kind != TV_KEY_PROVINCE) return TV_ENOTFOUND;
    memcpy(out, n->tracing_key, TV_TRACING_KEY_BYTES);
    return TV_OK;
}

int tv_node_commune_key(const tv_node *n, const char *unit, uint8_t out[TV_TRACING_KEY_BYTES])
{
    if (!n->unlocked) return TV_ELOCKED;
    if (n->tracing_kind == TV_KEY_COMMUNE && strcmp(unit, n->tracing_unit) == 0) {
        memcpy(out, n->tracing_key, TV_TRACING_KEY_BYTES);
        return TV_OK;
    }
    uint8_t province[TV_TRACING_KEY_BYTES];
    int rc = tv_node_province_key(n, province);
    if (rc) return rc;
    tv_commune_key_derive(province, unit, out);
    sodium_memzero(province, sizeof province);
    return TV_OK;
}

int tv_node_ref_key(const tv_node *n, uint8_t out[TV_TRACING_KEY_BYTES])
{
    if (!n->unlocked) return TV_ELOCKED;
    if (n->tracing_kind == TV_KEY_LOCAL) {
        memcpy(out, n->tracing_key, TV_TRACING_KEY_BYTES);
        return TV_OK;
    }
    if (n->role == TV_ROLE_COMMUNE) return tv_node_commune_key(n, n->unit, out);
    return tv_node_province_key(n, out);
}

typedef struct apply_ctx {
    const uint8_t *self;
    tv_apply_item *items;
    size_t count;
    int64_t now;
} apply_ctx;

/* The partition rule of sync (PROTOCOL.md 6.5), judged in the apply transaction so that a
 * certificate applied earlier in the same group counts: TV_EPERM for an authentic batch
 * of an origin this node should not hold (it->r.header then names it), 0 to let the apply
 * path judge the batch (one of ours; one that does not verify, which it refuses for that;
 * one whose origin's certificate has not arrived, which it refuses as untrusted, to be
 * supplied again later, as sync asks again), or a store error. A node without a
 * certificate of its own has no partition yet: its batches go to the apply path, which
 * refuses what does not chain to its root. */
static int partition_check(store_txn *t, const uint8_t *self, tv_apply_item *it)
{
    crdt_batch b;
    if (crdt_batch_peek(&b, it->buf, it->len)) return TV_OK;
    int h = sync_partition_holds(t, self, b.h.origin);
    if (h == TV_ENOTFOUND || h == 1 || h == -1) return TV_OK;
    if (h < -1) return h;
    int rc = crdt_batch_open(&b, it->buf, it->len); /* name only an authentic origin */
    if (rc) return rc;
    it->r.header = b.h;
    return TV_EPERM;
}

static int apply_fn(store_txn *t, void *arg)
{
    apply_ctx *c = arg;
    for (size_t i = 0; i < c->count; i++) {
        tv_apply_item *it = &c->items[i];
        memset(&it->r, 0, sizeof it->r);
        it->rc = partition_check(t, c->self, it);
        if (it->rc == TV_OK) it->rc = store_apply_batch(t, it->buf, it->len, c->now, &it->r);
        /* a store error (not a refusal of the batch) aborts the whole transaction */
        if (it->rc == TV_ESTORE || it->rc == TV_ENOMEM || it->rc == TV_ENOSPC ||
            it->rc == TV_ECORRUPT || it->rc == TV_EIO)
            return it->rc;
    }
    return TV_OK;
}

int tv_node_apply(tv_node *n, tv_apply_item *items, size_t count)
{
    if (count == 0) return TV_OK;
    apply_ctx c = {.self = n->id.pk, .items = items, .count = count, .now = node_now(n)};
    int rc = store_write(n->st, apply_fn, &c);
    if (rc == TV_OK) {
        /* keep our clock ahead of everything we hold, as the HLC receive rule says */
        for (size_t i = 0; i < count; i++)
            if (items[i].rc == TV_OK)
                (void)crdt_hlc_observe(&n->clock, items[i].r.header.hlc_max, (uint64_t)c.now,
                                       CRDT_HLC_DRIFT_MAX_MS);
        /* what arrived is durable; the key work it calls for is done again next time if
         * it fails now */
        if (tv_node_pending(n) == 0) (void)tv_keys_after_receive(n);
    }
    return rc;
}
