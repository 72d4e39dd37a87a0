/* Reading small files whole and replacing them atomically (tmp, fsync, rename, fsync dir). */
#include "node/format/fileio.h"
#include "crdt/error.h"

#include <errno.h>
#include <sodium.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tv_file_read(const char *path, size_t max, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? TV_ENOTFOUND : TV_EIO;
    char *buf = malloc(max + 2); /* one byte more than allowed, to see that it is too long */
    int rc = TV_ENOMEM;
    size_t n = 0;
    if (!buf) goto done;
    rc = TV_OK;
    while (n < max + 1) {
        ssize_t got = read(fd, buf + n, max + 1 - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            rc = TV_EIO;
            break;
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    if (rc == TV_OK && n > max) rc = TV_ELIMIT;
done:
    if (fd != STDIN_FILENO) {
        int err = errno;
        close(fd);
        errno = err;
    }
    if (rc) {
        if (buf) sodium_memzero(buf, n); /* it may hold a passphrase */
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TV_OK;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t put = write(fd, p, len);
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return errno == ENOSPC || errno == EDQUOT ? TV_ENOSPC : TV_EIO;
        p += put;
        len -= (size_t)put;
    }
    return TV_OK;
}

/* Syncs the directory holding path, so that a rename into it survives a power cut. */
static int sync_parent(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return TV_EIO;
    int rc = fsync(fd) == 0 ? TV_OK : TV_EIO;
    close(fd);
    return rc;
}

int tv_file_write_atomic(const char *path, const void *buf, size_t len, mode_t mode)
{
    char tmp[PATH_MAX];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp) return TV_EINVAL;
    /* a unique name: two writers of one path never write into each other's file */
    int fd = mkstemp(tmp);
    if (fd < 0) return errno == ENOSPC ? TV_ENOSPC : TV_EIO;
    int rc = TV_OK;
    if (fchmod(fd, mode) != 0)
        rc = TV_EIO;
    else if ((rc = write_all(fd, buf, len)) == TV_OK && fsync(fd) != 0)
        rc = errno == ENOSPC ? TV_ENOSPC : TV_EIO;
    int err = errno;
    if (close(fd) != 0 && rc == TV_OK) {
        err = errno;
        rc = TV_EIO;
    }
    if (rc == TV_OK && rename(tmp, path) != 0) {
        err = errno;
        rc = TV_EIO;
    }
    if (rc) {
        unlink(tmp);
        errno = err;
        return rc;
    }
    return sync_parent(path);
}

int tv_file_out_check(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    struct stat st;
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == path) {
        snprintf(dir, sizeof dir, "/");
    } else if ((size_t)(slash - path) < sizeof dir) {
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    } else {
        errno = ENAMETOOLONG;
        return TV_EIO;
    }
    if (stat(dir, &st) != 0) return TV_EIO;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return TV_EIO;
    }
    if (access(dir, W_OK) != 0) return TV_EIO;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return TV_EIO;
    }
    return TV_OK;
}
