/* The mark of a restored or copied store, and its audit log (see resync.h). */
#define _GNU_SOURCE /* statx */
#include "node/logic/resync.h"
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/format/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define LINE_MAX_BYTES 1024

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

int tv_store_file_id(const char *path, uint8_t out[TV_STORE_FILE_ID_BYTES])
{
    memset(out, 0, TV_STORE_FILE_ID_BYTES);
    struct statx sx;
    if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_BTIME, &sx) == 0) {
        put64(out, (uint64_t)makedev(sx.stx_dev_major, sx.stx_dev_minor));
        put64(out + 8, sx.stx_ino);
        if (sx.stx_mask & STATX_BTIME) {
            put64(out + 16, (uint64_t)sx.stx_btime.tv_sec);
            put64(out + 24, sx.stx_btime.tv_nsec);
        }
        return TV_OK;
    }
    struct stat st; /* a kernel without statx */
    if (stat(path, &st) != 0) return TV_EIO;
    put64(out, (uint64_t)st.st_dev);
    put64(out + 8, (uint64_t)st.st_ino);
    return TV_OK;
}

int tv_resync_required(store_txn *t, int64_t *since_ms)
{
    uint8_t v[8];
    size_t len;
    int rc = store_meta_get(t, TV_RESYNC_META, v, sizeof v, &len);
    if (rc == TV_ENOTFOUND) return 0;
    if (rc) return rc == TV_ELIMIT ? TV_ECORRUPT : rc;
    if (len != sizeof v) return TV_ECORRUPT;
    if (since_ms) {
        uint64_t ms = 0;
        for (int i = 0; i < 8; i++)
            ms = ms << 8 | v[i];
        *since_ms = (int64_t)ms;
    }
    return 1;
}

int tv_resync_mark(store_txn *t, int64_t now_ms)
{
    uint8_t v[8];
    put64(v, (uint64_t)now_ms);
    return store_meta_put(t, TV_RESYNC_META, v, sizeof v);
}

/* Text an audit line may carry: no control character (C0, DEL, C1), so no tab or line
 * end either. */
static int text_ok(const char *s)
{
    size_t n = strlen(s);
    if (!crdt_utf8_valid(s, n)) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) return 0;
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f)
            return 0; /* U+0080..U+009F */
    }
    return 1;
}

int tv_resync_reason_check(const char *reason)
{
    size_t n = strlen(reason);
    return n >= 1 && n <= TV_RESYNC_REASON_MAX && text_ok(reason) ? TV_OK : TV_EINVAL;
}

int tv_resync_log(const char *dir, int64_t now_ms, const char *kind, const char *detail)
{
    if (!text_ok(kind) || !text_ok(detail)) return TV_EINVAL;
    char path[PATH_MAX], when[40], line[LINE_MAX_BYTES];
    if (snprintf(path, sizeof path, "%s/" TV_RESYNC_LOG, dir) >= (int)sizeof path) return TV_EINVAL;
    tv_time_format_vn(when, sizeof when, now_ms);
    int len = snprintf(line, sizeof line, "%s\t%s\t%s\n", when, kind, detail);
    if (len < 0 || len >= (int)sizeof line) return TV_EINVAL;
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return TV_EIO;
    int rc = TV_OK;
    if (write(fd, line, (size_t)len) != len)
        rc = errno == ENOSPC ? TV_ENOSPC : TV_EIO;
    else if (fsync(fd) != 0)
        rc = TV_EIO;
    if (close(fd) != 0 && rc == TV_OK) rc = TV_EIO;
    return rc;
}

static int clear_fn(store_txn *t, void *arg)
{
    int *had = arg;
    int rc = tv_resync_required(t, NULL);
    if (rc < 0) return rc;
    *had = rc;
    return rc ? store_meta_del(t, TV_RESYNC_META) : TV_OK;
}

/* The own log's last seq, for the audit line. */
static uint64_t own_seq(tv_node *n)
{
    store_txn *t;
    store_frontier f = {0};
    if (store_read_begin(n->st, &t) == 0) {
        (void)store_frontier_get(t, n->id.pk, &f);
        store_read_end(t);
    }
    return f.seq;
}

int tv_resync_synced(tv_node *n, const char *detail)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = tv_resync_required(t, NULL);
    store_read_end(t);
    if (rc <= 0) return rc;
    int had = 0;
    if ((rc = store_write(n->st, clear_fn, &had))) return rc;
    if (!had) return 0;
    char text[LINE_MAX_BYTES / 2];
    snprintf(text, sizeof text, "with %s; own log now at seq %" PRIu64, detail, own_seq(n));
    (void)tv_resync_log(n->dir, tv_wall_ms(), "synced", text_ok(text) ? text : "with a parent");
    return 1;
}

int tv_resync_override(tv_node *n, const char *reason)
{
    if (tv_resync_reason_check(reason)) return TV_EINVAL;
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = tv_resync_required(t, NULL);
    store_read_end(t);
    if (rc < 0) return rc;
    if (rc == 0) return TV_ENOTFOUND;
    /* the audit line first: an override is never without its record */
    char text[LINE_MAX_BYTES / 2];
    snprintf(text, sizeof text, "%s (own log at seq %" PRIu64 ")", reason, own_seq(n));
    if ((rc = tv_resync_log(n->dir, tv_wall_ms(), "override", text))) return rc;
    int had = 0;
    return store_write(n->st, clear_fn, &had);
}

int tv_resync_log_foreach(const char *dir, tv_resync_line_fn fn, void *ctx)
{
    char path[PATH_MAX], line[LINE_MAX_BYTES];
    if (snprintf(path, sizeof path, "%s/" TV_RESYNC_LOG, dir) >= (int)sizeof path) return TV_EINVAL;
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? TV_OK : TV_EIO;
    int rc = TV_OK;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *kind = strchr(line, '\t');
        if (!kind) continue;
        *kind++ = '\0';
        char *detail = strchr(kind, '\t');
        if (!detail) continue;
        *detail++ = '\0';
        rc = fn(line, kind, detail, ctx);
    }
    if (rc == 0 && ferror(f)) rc = TV_EIO;
    fclose(f);
    return rc;
}
