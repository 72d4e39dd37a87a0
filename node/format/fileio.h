/* Whole small files: reading one with a size limit, and replacing one atomically.
 *
 * Enrolment requests, certificate files and key files are small and must never be seen
 * half written: a reader finds either the old file or the whole new one, even after a
 * power cut, because the new bytes go to a temporary file in the same directory that is
 * synced and then renamed over the target, and the directory is synced after the rename. */
#ifndef TV_NODE_FILEIO_H
#define TV_NODE_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Reads the whole file at path ("-" for standard input) into a malloc'd buffer (caller
 * frees) with a NUL after the last byte, which *len does not count. Returns 0,
 * TV_ENOTFOUND (no such file), TV_ELIMIT (more than max bytes), TV_ENOMEM or TV_EIO (errno
 * says why). *out is NULL on failure. */
int tv_file_read(const char *path, size_t max, char **out, size_t *len);

/* Replaces (or creates) the file at path with len bytes of buf and the given mode, as
 * described above. On failure the old file, if any, is untouched and no temporary file is
 * left. Returns 0, TV_EINVAL (path too long), TV_ENOSPC or TV_EIO (errno says why). */
int tv_file_write_atomic(const char *path, const void *buf, size_t len, mode_t mode);

/* Checks, before any work is done, that a file may be written at path: its directory
 * exists and this process may write there, and path is not a directory. Returns 0, or
 * TV_EIO with errno saying why (ENOENT, ENOTDIR, EACCES, EISDIR...). */
int tv_file_out_check(const char *path);

#endif
