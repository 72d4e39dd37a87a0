/* LMDB environment, transactions with map growth, metadata and counters. */
#include "store/internal.h"
#include "crdt/assert.h"
#include "crdt/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const table_names[T_COUNT_] = {
    [T_META] = "meta",
    [T_FRONTIER] = "frontier",
    [T_BATCHES] = "batches",
    [T_COUNTS] = "counts",
    [T_VENUES] = "venues",
    [T_SCAN_VENUE] = "scans_by_venue",
    [T_SCAN_PERSON] = "scans_by_person",
    [T_AGG] = "agg_daily",
    [T_VENUE_DAY] = "venue_day",
    [T_CERTS] = "certs",
    [T_REVOKED] = "revoked",
    [T_FORKS] = "forks",
    [T_PEERS] = "peers",
    [T_PERSONS] = "persons",
    [T_CTRL_ADDS] = "controller_adds",
    [T_CTRL_GONE] = "controller_removed",
    [T_REMINDERS] = "reminders",
    [T_REVEALS] = "reveals",
    [T_CASES] = "cases",
    [T_RISKS] = "risks",
    [T_UNITS] = "units",
    [T_VENUE_REG] = "venue_registrations",
    [T_PARKED] = "parked",
    [T_SEALED] = "sealed",
    [T_SEALED_SENT] = "sealed_sent",
    [T_HOLDS] = "holds",
    [T_BASES] = "bases",
    [T_PMAP] = "pseudonym_map",
    [T_PMAP_BY] = "pseudonym_map_by_province",
    [T_GRANTS] = "key_grants",
    [T_ACCOUNTS] = "accounts",
    [T_CONSOLE] = "console_log",
};

/* The tables added after stores were in use: a store made before lacks them until it is
 * opened for writing (which creates them, empty); opened read-only, they read as empty. */
static int table_optional(int i)
{
    return i == T_ACCOUNTS || i == T_CONSOLE;
}

int store_err_(store_txn *t, int rc)
{
    switch (rc) {
    case MDB_SUCCESS:
        return TV_OK;
    case MDB_NOTFOUND:
        return TV_ENOTFOUND;
    case MDB_MAP_FULL:
        if (t) t->map_full = 1;
        return TV_ESTORE;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
        return TV_ECORRUPT;
    case ENOSPC:
        return TV_ENOSPC;
    case ENOMEM:
        return TV_ENOMEM;
    case EDQUOT:
        return TV_ENOSPC;
    case EACCES:
    case EIO:
    case EFBIG:
    case EROFS:
        errno = rc; /* the system's reason, for the message that names the files */
        return TV_EIO;
    case EBUSY:
    case EAGAIN:
        return TV_EBUSY;
    default:
        return TV_ESTORE;
    }
}

/* Takes fd's flock as op, through signals. */
static int flock_intr(int fd, int op)
{
    int rc;
    while ((rc = flock(fd, op)) != 0 && errno == EINTR) {
    }
    return rc;
}

int store_open(store **out, const char *dir, const store_opts *opts)
{
    *out = NULL;
    store *s = calloc(1, sizeof *s);
    if (!s) return TV_ENOMEM;
    s->writers_fd = -1;
    pthread_mutex_init(&s->writers_mu, NULL);
    s->read_only = opts && opts->read_only;
    if (!s->read_only && !(s->dir = strdup(dir))) {
        free(s);
        return TV_ENOMEM;
    }
    s->sig_memo = opts ? opts->sig_memo : NULL;
    s->fault = opts ? opts->fault : NULL;
    s->fault_arg = opts ? opts->fault_arg : NULL;
    size_t map = opts && opts->map_bytes ? opts->map_bytes : STORE_MAP_BYTES_DEFAULT;
    int rc = mdb_env_create(&s->env);
    if (rc) goto fail;
    if ((rc = mdb_env_set_maxdbs(s->env, T_COUNT_)) || (rc = mdb_env_set_mapsize(s->env, map)) ||
        (rc = mdb_env_set_maxreaders(s->env, STORE_READERS_MAX)))
        goto fail;
    /* MDB_NOTLS: read transactions are not tied to threads, so a daemon can hand them
     * around; durability flags are left at LMDB's safe defaults on purpose (the
     * simulator's unsynced stores excepted, see store.h). */
    unsigned flags = MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0) |
                     (opts && opts->unsynced ? MDB_NOSYNC | MDB_WRITEMAP : 0);
    if ((rc = mdb_env_open(s->env, dir, flags, 0600))) goto fail;
    int dead = 0;
    mdb_reader_check(s->env, &dead);

    MDB_txn *txn;
    if ((rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn))) goto fail;
    for (int i = 0; i < T_COUNT_; i++) {
        rc = mdb_dbi_open(txn, table_names[i], s->read_only ? 0 : MDB_CREATE, &s->dbi[i]);
        if (rc == MDB_NOTFOUND && s->read_only && table_optional(i)) {
            s->absent[i] = 1;
            rc = 0;
        }
        if (rc) {
            mdb_txn_abort(txn);
            goto fail;
        }
    }
    if ((rc = mdb_txn_commit(txn))) goto fail;
    *out = s;
    return TV_OK;
fail:
    if (s->env) mdb_env_close(s->env);
    free(s->dir);
    pthread_mutex_destroy(&s->writers_mu);
    free(s);
    return rc == MDB_NOTFOUND ? TV_ECORRUPT : store_err_(NULL, rc);
}

void store_close(store *s)
{
    if (!s) return;
    if (s->env) mdb_env_close(s->env); /* NULL after a failed compaction */
    if (s->writers_fd >= 0) close(s->writers_fd);
    free(s->dir);
    pthread_mutex_destroy(&s->writers_mu);
    store_cert_memo_free_(s);
    store_sealed_key_set(s, NULL);
    (void)store_held_extra_set(s, NULL, 0);
    free(s->apply_scratch);
    free(s->events);
    free(s->eff);
    free(s->seq);
    free(s);
}

static int txn_begin(store *s, unsigned flags, MDB_txn **txn)
{
    int rc = mdb_txn_begin(s->env, NULL, flags, txn);
    if (rc == MDB_MAP_RESIZED) {
        /* another process grew the map: adopt its size */
        if ((rc = mdb_env_set_mapsize(s->env, 0)) == 0)
            rc = mdb_txn_begin(s->env, NULL, flags, txn);
    }
    return rc;
}

int store_read_begin(store *s, store_txn **out)
{
    *out = NULL;
    store_txn *t = calloc(1, sizeof *t);
    if (!t) return TV_ENOMEM;
    t->s = s;
    int rc = txn_begin(s, MDB_RDONLY, &t->txn);
    if (rc) {
        free(t);
        return store_err_(NULL, rc);
    }
    atomic_fetch_add(&s->reads_open, 1);
    *out = t;
    return TV_OK;
}

void store_read_end(store_txn *t)
{
    if (!t) return;
    mdb_txn_abort(t->txn);
    TV_ASSERT(atomic_load(&t->s->reads_open) > 0);
    atomic_fetch_sub(&t->s->reads_open, 1);
    free(t);
}

static int refresh_(store *s, const char *dir);
static int same_file(store *s, const char *dir);

/* Takes STORE_WRITERS_FILE shared before the first write of s (a compaction holds it
 * exclusively while it copies: this waits for it), then makes sure s writes to the data
 * file in place. */
static int writers_hold_locked(store *s);

static int writers_hold(store *s)
{
    if (atomic_load(&s->writers_held)) return TV_OK;
    pthread_mutex_lock(&s->writers_mu); /* two threads' first writes: one takes it */
    int rc = atomic_load(&s->writers_held) ? TV_OK : writers_hold_locked(s);
    pthread_mutex_unlock(&s->writers_mu);
    return rc;
}

static int writers_hold_locked(store *s)
{
    if (s->writers_fd < 0) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/" STORE_WRITERS_FILE, s->dir) >= sizeof path)
            return TV_EINVAL;
        s->writers_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (s->writers_fd < 0) return errno == ENOSPC ? TV_ENOSPC : TV_EIO;
    }
    if (flock_intr(s->writers_fd, LOCK_SH) != 0) return TV_EIO;
    /* another process may have compacted the store since s opened it */
    int rc = atomic_load(&s->reads_open) == 0 ? refresh_(s, s->dir) : same_file(s, s->dir);
    if (rc < 0 || rc == 2) {
        flock_intr(s->writers_fd, LOCK_UN);
        return rc < 0 ? rc : TV_EBUSY;
    }
    atomic_store(&s->writers_held, 1);
    return TV_OK;
}

static int grow_map(store *s)
{
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    size_t cur = info.me_mapsize, next = cur * 2;
    if (cur >= STORE_MAP_BYTES_MAX) return TV_ENOSPC;
    if (next > STORE_MAP_BYTES_MAX) next = STORE_MAP_BYTES_MAX;
    return mdb_env_set_mapsize(s->env, next) ? TV_ESTORE : TV_OK;
}

int store_write(store *s, store_write_fn fn, void *ctx)
{
    if (s->read_only) return TV_EPERM;
    int held = writers_hold(s);
    if (held) return held;
    for (int attempt = 0; attempt <= STORE_WRITE_RETRIES_MAX; attempt++) {
        store_txn t = {.s = s};
        int rc = txn_begin(s, 0, &t.txn);
        if (rc) return store_err_(NULL, rc);
        rc = fn(&t, ctx);
        if (rc == TV_OK && !t.map_full && s->fault &&
            s->fault(s->fault_arg, STORE_FAULT_BEFORE_COMMIT)) {
            mdb_txn_abort(t.txn);
            return TV_EIO; /* a crash before the commit: nothing written */
        }
        if (rc == TV_OK && !t.map_full) {
            rc = store_err_(&t, mdb_txn_commit(t.txn)); /* the commit frees the txn */
            if (rc == TV_OK && s->fault && s->fault(s->fault_arg, STORE_FAULT_AFTER_COMMIT))
                return TV_EIO; /* a crash after it: written, but nobody learnt so */
            if (!t.map_full) return rc;
        } else {
            mdb_txn_abort(t.txn);
        }
        if (!t.map_full) return rc;
        if ((rc = grow_map(s))) return rc;
    }
    return TV_ENOSPC;
}

int store_size_get(store *s, store_size *out)
{
    MDB_envinfo info;
    MDB_stat st;
    memset(out, 0, sizeof *out);
    if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st)) return TV_ESTORE;
    out->map_bytes = info.me_mapsize;
    out->used_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
    const char *path;
    struct stat fs;
    char file[4096];
    if (mdb_env_get_path(s->env, &path) == 0 &&
        (size_t)snprintf(file, sizeof file, "%s/data.mdb", path) < sizeof file &&
        stat(file, &fs) == 0)
        out->file_bytes = (uint64_t)fs.st_size;
    return TV_OK;
}

int store_meta_get(store_txn *t, const char *key, void *buf, size_t cap, size_t *len)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(t->txn, t->s->dbi[T_META], &k, &v);
    if (rc) return store_err_(t, rc);
    if (len) *len = v.mv_size;
    if (v.mv_size > cap) return TV_ELIMIT;
    memcpy(buf, v.mv_data, v.mv_size);
    return TV_OK;
}

int store_meta_put(store_txn *t, const char *key, const void *val, size_t len)
{
    MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)val};
    return store_err_(t, mdb_put(t->txn, t->s->dbi[T_META], &k, &v, 0));
}

int store_meta_del(store_txn *t, const char *key)
{
    MDB_val k = {strlen(key), (void *)key};
    int rc = mdb_del(t->txn, t->s->dbi[T_META], &k, NULL);
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

int store_counts_get(store_txn *t, store_counts *c)
{
    memset(c, 0, sizeof *c);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_COUNTS], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 4 || v.mv_size != 8) continue;
        uint32_t id = store_get32_(k.mv_data);
        uint64_t n = store_get64_(v.mv_data);
        if (id == COUNT_EVENTS)
            c->events = n;
        else if (id == COUNT_BATCHES)
            c->batches = n;
        else if (id == COUNT_ORIGINS)
            c->origins = n;
        else if (id == COUNT_PARK_RELEASED)
            c->parks_released = n;
        else if (id == COUNT_FORK_NOS)
            c->evidence = n;
        else if (id == COUNT_CERT_WRITES)
            c->cert_writes = n;
        else if (id >= COUNT_TYPE_BASE && id < COUNT_TYPE_BASE + STORE_EVENT_TYPES_MAX)
            c->by_type[id - COUNT_TYPE_BASE] = n;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? TV_OK : store_err_(t, rc);
}

/* --- compaction ----------------------------------------------------------------------- */

/* Copies every table of the open environment src (read in rt) into the empty environment
 * dst, row by row in key order, through fresh pages: nothing deleted in src -- neither its
 * free pages nor the stale bytes a deletion leaves inside a live page -- reaches dst. */
static int copy_tables(MDB_txn *rt, const store *src, MDB_txn *wt, MDB_dbi *dbi)
{
    for (int i = 0; i < T_COUNT_; i++) {
        int rc = mdb_dbi_open(wt, table_names[i], MDB_CREATE, &dbi[i]);
        if (rc) return rc;
        MDB_cursor *cur;
        if ((rc = mdb_cursor_open(rt, src->dbi[i], &cur))) return rc;
        MDB_val k, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            int prc = mdb_put(wt, dbi[i], &k, &v, MDB_APPEND);
            if (prc) {
                rc = prc;
                break;
            }
        }
        mdb_cursor_close(cur);
        if (rc != MDB_NOTFOUND) return rc;
    }
    return 0;
}

static int open_env(store *s, const char *dir, size_t map)
{
    int rc = mdb_env_create(&s->env);
    if (rc) return rc;
    if ((rc = mdb_env_set_maxdbs(s->env, T_COUNT_)) || (rc = mdb_env_set_mapsize(s->env, map)) ||
        (rc = mdb_env_set_maxreaders(s->env, STORE_READERS_MAX)) ||
        (rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600))) {
        mdb_env_close(s->env);
        s->env = NULL;
        return rc;
    }
    MDB_txn *txn;
    if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn))) return rc;
    for (int i = 0; i < T_COUNT_ && rc == 0; i++)
        rc = mdb_dbi_open(txn, table_names[i], MDB_CREATE, &s->dbi[i]);
    if (rc) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* 0: s has dir/data.mdb open; 2: that path names another file now; or an error */
static int same_file(store *s, const char *dir)
{
    char data[4096];
    if ((size_t)snprintf(data, sizeof data, "%s/data.mdb", dir) >= sizeof data) return TV_EINVAL;
    int fd;
    struct stat open_st, path_st;
    if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &open_st) != 0) return TV_EIO;
    if (stat(data, &path_st) != 0) return errno == ENOENT ? TV_OK : TV_EIO; /* mid-rename */
    return open_st.st_dev == path_st.st_dev && open_st.st_ino == path_st.st_ino ? 0 : 2;
}

static int refresh_(store *s, const char *dir)
{
    int rc = same_file(s, dir);
    if (rc != 2) return rc;
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info)) return TV_ESTORE;
    mdb_env_close(s->env);
    s->env = NULL;
    rc = open_env(s, dir, info.me_mapsize);
    if (rc) return store_err_(NULL, rc);
    store_cert_memo_free_(s);
    return 1;
}

int store_refresh(store *s, const char *dir)
{
    return refresh_(s, dir);
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return TV_EIO;
    int rc = fsync(fd) == 0 ? TV_OK : TV_EIO;
    close(fd);
    return rc;
}

static int compact_locked(store *s, const char *dir, store_write_fn fn, void *ctx);

int store_compact(store *s, const char *dir, store_write_fn fn, void *ctx)
{
    if (s->read_only) return TV_EPERM;
    int out = writers_hold(s);
    if (out) return out;
    TV_ASSERT(s->writers_fd >= 0 && s->writers_held);
    if (flock(s->writers_fd, LOCK_EX | LOCK_NB) != 0)
        out = errno == EWOULDBLOCK || errno == EINTR ? TV_EBUSY : TV_EIO;
    else
        out = compact_locked(s, dir, fn, ctx);
    /* back to shared. Neither change is atomic (flock(2)): another process may have
     * compacted meanwhile, and this one must then write to the new file */
    if (flock_intr(s->writers_fd, LOCK_SH) != 0) {
        atomic_store(&s->writers_held, 0); /* the next write takes it again, or fails */
        return out ? out : TV_EIO;
    }
    int rc = !s->env                            ? TV_OK
             : atomic_load(&s->reads_open) == 0 ? refresh_(s, dir)
             : same_file(s, dir) == 2           ? TV_EBUSY
                                                : TV_OK;
    if (rc < 0) { /* still on a replaced file: the next write looks again before it writes */
        flock_intr(s->writers_fd, LOCK_UN);
        atomic_store(&s->writers_held, 0);
    }
    return out ? out : rc < 0 ? rc : TV_OK;
}

static int compact_locked(store *s, const char *dir, store_write_fn fn, void *ctx)
{
    /* the environment is closed and opened again on the new file */
    TV_ASSERT(atomic_load(&s->reads_open) == 0);
    char tmp[4096], lock[4096 + 8], data[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/" STORE_COMPACT_FILE, dir) >= sizeof tmp ||
        (size_t)snprintf(data, sizeof data, "%s/data.mdb", dir) >= sizeof data)
        return TV_EINVAL;
    snprintf(lock, sizeof lock, "%s-lock", tmp);
    unlink(tmp); /* a compaction cut short before: its file was never renamed */
    unlink(lock);
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info)) return TV_ESTORE;

    store d = {0};
    MDB_txn *rt = NULL, *wt = NULL;
    int rc = mdb_env_create(&d.env);
    if (rc == 0) rc = mdb_env_set_maxdbs(d.env, T_COUNT_);
    if (rc == 0) rc = mdb_env_set_mapsize(d.env, info.me_mapsize);
    if (rc == 0) rc = mdb_env_open(d.env, tmp, MDB_NOSUBDIR | MDB_NOTLS, 0600);
    if (rc == 0) rc = txn_begin(s, MDB_RDONLY, &rt);
    if (rc == 0) rc = mdb_txn_begin(d.env, NULL, 0, &wt);
    if (rc == 0) rc = copy_tables(rt, s, wt, d.dbi);
    if (rt) mdb_txn_abort(rt);
    /* two commits, so that both meta pages of the new file name a complete copy (a reader
     * that opened the old lock file may pick either) */
    if (rc == 0) rc = mdb_txn_commit(wt);
    wt = NULL;
    if (rc == 0) rc = mdb_txn_begin(d.env, NULL, 0, &wt);
    int out = store_err_(NULL, rc);
    if (rc == 0) { /* the caller's last word in the new file, before it takes over */
        store_txn t = {.s = &d, .txn = wt};
        out = fn ? fn(&t, ctx) : TV_OK;
        if (out == TV_OK && t.map_full) out = TV_ENOSPC;
    }
    if (out == TV_OK) {
        rc = mdb_txn_commit(wt);
        wt = NULL;
        if (rc == 0) rc = mdb_env_sync(d.env, 1);
        out = store_err_(NULL, rc);
    }
    if (wt) mdb_txn_abort(wt);
    if (d.env) mdb_env_close(d.env);
    unlink(lock);
    if (out == TV_OK) out = fsync_path(tmp);
    if (out) {
        unlink(tmp);
        return out;
    }
    /* the new file takes the old one's place: closed first, so that no reader of this
     * process holds the old map, then renamed over it and the directory synced */
    mdb_env_close(s->env);
    s->env = NULL;
    if (rename(tmp, data) != 0) out = TV_EIO;
    if (out == TV_OK) out = fsync_path(dir);
    if (out) unlink(tmp);
    /* a new lock file: the old one records the old file's transaction ids (a writer takes
     * its next id from it), and a reader still on the old file keeps the old lock file */
    char lk[4096 + 16];
    if (out == TV_OK && (size_t)snprintf(lk, sizeof lk, "%s/lock.mdb", dir) < sizeof lk) unlink(lk);
    rc = open_env(s, dir, info.me_mapsize);
    if (rc) return out ? out : store_err_(NULL, rc);
    store_cert_memo_free_(s);
    return out;
}
