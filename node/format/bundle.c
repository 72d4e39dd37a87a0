/* Bundle files: the writer, the atomic file, and the resynchronising streaming reader. */
#include "node/format/bundle.h"
#include "crdt/error.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

_Static_assert(sizeof TV_BUNDLE_MAGIC - 1 == TV_BUNDLE_MAGIC_BYTES, "the magic is 8 bytes");
_Static_assert(sizeof TV_BUNDLE_MARKER - 1 == TV_BUNDLE_MARKER_BYTES, "the marker is 8 bytes");
_Static_assert(TV_BUNDLE_PAYLOAD_MAX <= UINT32_MAX, "a payload length fits its u32 field");
_Static_assert(TV_BUNDLE_READ_BUF >= TV_BUNDLE_MAGIC_BYTES + 2 * TV_BUNDLE_HEADER_BYTES,
               "the reader looks at the magic and the first header together");

/* Offsets in a record header. */
enum { H_KIND = 8, H_NUMBER = 12, H_LENGTH = 16, H_CRC = 20, H_HCRC = 24 };

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Four bits at a time: a 64-byte table, and fast enough for a USB stick's speed. */
uint32_t tv_bundle_crc32(const uint8_t *p, size_t n)
{
    static const uint32_t t[16] = {0x00000000, 0x1DB71064, 0x3B6E20C8, 0x26D930AC,
                                   0x76DC4190, 0x6B6B51F4, 0x4DB26158, 0x5005713C,
                                   0xEDB88320, 0xF00F9344, 0xD6D6A3E8, 0xCB61B38C,
                                   0x9B64C2B0, 0x86D3D2D4, 0xA00AE278, 0xBDBDF21C};
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c = (c >> 4) ^ t[(c ^ p[i]) & 15];
        c = (c >> 4) ^ t[(c ^ ((uint32_t)p[i] >> 4)) & 15];
    }
    return c ^ 0xFFFFFFFFu;
}

/* --- writing ------------------------------------------------------------------------ */

int tv_bundle_write_begin(tv_bundle_writer *w, FILE *fp)
{
    w->fp = fp;
    w->records = 0;
    w->bytes = 0;
    if (fwrite(TV_BUNDLE_MAGIC, 1, TV_BUNDLE_MAGIC_BYTES, fp) != TV_BUNDLE_MAGIC_BYTES)
        return TV_EIO;
    w->bytes = TV_BUNDLE_MAGIC_BYTES;
    return TV_OK;
}

static int put_record(tv_bundle_writer *w, uint8_t kind, uint32_t number, const uint8_t *payload,
                      size_t len)
{
    uint8_t h[TV_BUNDLE_HEADER_BYTES] = {0};
    memcpy(h, TV_BUNDLE_MARKER, TV_BUNDLE_MARKER_BYTES);
    h[H_KIND] = kind;
    put32(h + H_NUMBER, number);
    put32(h + H_LENGTH, (uint32_t)len);
    put32(h + H_CRC, tv_bundle_crc32(payload, len));
    put32(h + H_HCRC, tv_bundle_crc32(h, H_HCRC));
    if (fwrite(h, 1, sizeof h, w->fp) != sizeof h || (len && fwrite(payload, 1, len, w->fp) != len))
        return TV_EIO;
    w->bytes += sizeof h + len;
    return TV_OK;
}

int tv_bundle_write_batch(tv_bundle_writer *w, const uint8_t *batch, size_t len)
{
    if (len == 0) return TV_EINVAL;
    if (len > TV_BUNDLE_PAYLOAD_MAX || w->records == UINT32_MAX) return TV_ELIMIT;
    int rc = put_record(w, TV_BUNDLE_KIND_BATCH, w->records + 1, batch, len);
    if (rc == TV_OK) w->records++;
    return rc;
}

int tv_bundle_write_end(tv_bundle_writer *w)
{
    int rc = put_record(w, TV_BUNDLE_KIND_END, w->records, NULL, 0);
    if (rc == TV_OK && fflush(w->fp) != 0) rc = TV_EIO;
    return rc;
}

int tv_bundle_file_create(tv_bundle_file *f, const char *path)
{
    f->fp = NULL;
    if (snprintf(f->path, sizeof f->path, "%s", path) >= (int)sizeof f->path ||
        snprintf(f->tmp, sizeof f->tmp, "%s.tmp", path) >= (int)sizeof f->tmp)
        return TV_EINVAL;
    int fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return TV_EIO;
    if (!(f->fp = fdopen(fd, "wb"))) {
        int err = errno;
        close(fd);
        unlink(f->tmp);
        errno = err;
        return TV_EIO;
    }
    return TV_OK;
}

/* Makes a rename in path's directory durable. Some file systems cannot fsync a directory
 * (EINVAL); there the rename is as durable as they make it. */
static int sync_dir(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return TV_EIO;
    int rc = fsync(fd) == 0 || errno == EINVAL ? TV_OK : TV_EIO;
    int err = errno;
    close(fd);
    errno = err;
    return rc;
}

int tv_bundle_file_commit(tv_bundle_file *f)
{
    int rc = TV_OK;
    if (fflush(f->fp) != 0 || fsync(fileno(f->fp)) != 0) rc = errno == ENOSPC ? TV_ENOSPC : TV_EIO;
    int err = errno;
    if (fclose(f->fp) != 0 && rc == TV_OK) {
        err = errno;
        rc = err == ENOSPC ? TV_ENOSPC : TV_EIO;
    }
    f->fp = NULL;
    if (rc == TV_OK && rename(f->tmp, f->path) != 0) {
        err = errno;
        rc = TV_EIO;
    }
    if (rc != TV_OK) {
        unlink(f->tmp);
        errno = err;
        return rc;
    }
    return sync_dir(f->path);
}

void tv_bundle_file_abort(tv_bundle_file *f)
{
    int err = errno; /* keep the caller's reason for giving up */
    if (f->fp) fclose(f->fp);
    f->fp = NULL;
    unlink(f->tmp);
    errno = err;
}

/* --- reading ------------------------------------------------------------------------ */

static int header_ok(const uint8_t *h)
{
    return memcmp(h, TV_BUNDLE_MARKER, TV_BUNDLE_MARKER_BYTES) == 0 &&
           tv_bundle_crc32(h, H_HCRC) == get32(h + H_HCRC);
}

/* Makes `need` bytes available at buf[start] unless the file ends first; returns how many
 * are. Reads in large pieces, and moves the unread bytes to the front only when a record
 * would not fit behind them. */
static size_t fill(tv_bundle_reader *r, size_t need)
{
    assert(need <= sizeof r->buf);
    if (r->end - r->start >= need || r->eof) return r->end - r->start;
    if (r->start + need > sizeof r->buf) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->base += r->start;
        r->end -= r->start;
        r->start = 0;
    }
    while (r->end - r->start < need && !r->eof) {
        size_t n = fread(r->buf + r->end, 1, sizeof r->buf - r->end, r->fp);
        r->end += n;
        if (n == 0) {
            r->eof = 1;
            if (ferror(r->fp)) r->err = TV_EIO;
        }
    }
    return r->end - r->start;
}

int tv_bundle_reader_init(tv_bundle_reader *r, FILE *fp)
{
    memset(r, 0, offsetof(tv_bundle_reader, buf));
    r->fp = fp;
    size_t have = fill(r, TV_BUNDLE_MAGIC_BYTES + TV_BUNDLE_HEADER_BYTES);
    if (r->err) return r->err;
    if (have >= TV_BUNDLE_MAGIC_BYTES &&
        memcmp(r->buf, TV_BUNDLE_MAGIC, TV_BUNDLE_MAGIC_BYTES) == 0) {
        r->start = TV_BUNDLE_MAGIC_BYTES;
        return TV_OK;
    }
    /* An intact v1 record header right behind says the magic itself was damaged; a later
     * format version would change the records too, or it would not need a new version. */
    if (have >= TV_BUNDLE_MAGIC_BYTES + TV_BUNDLE_HEADER_BYTES &&
        header_ok(r->buf + TV_BUNDLE_MAGIC_BYTES)) {
        r->dmg = 1;
        r->pend = (tv_bundle_rec){.what = TV_BUNDLE_DAMAGED,
                                  .damage = TV_BUNDLE_DMG_GARBAGE,
                                  .skipped = TV_BUNDLE_MAGIC_BYTES};
        r->start = TV_BUNDLE_MAGIC_BYTES;
        return TV_OK;
    }
    if (have >= TV_BUNDLE_MAGIC_BYTES &&
        memcmp(r->buf, TV_BUNDLE_MAGIC, TV_BUNDLE_MAGIC_BYTES - 1) == 0)
        return TV_EVERSION;
    return TV_EDECODE;
}

uint64_t tv_bundle_reader_offset(const tv_bundle_reader *r)
{
    return r->base + r->start;
}

static void damage_begin(tv_bundle_reader *r, tv_bundle_damage d, uint32_t number)
{
    r->dmg = 1;
    r->pend = (tv_bundle_rec){.what = TV_BUNDLE_DAMAGED,
                              .offset = tv_bundle_reader_offset(r),
                              .damage = d,
                              .number = number};
}

static void skip(tv_bundle_reader *r, size_t n)
{
    r->start += n;
    if (r->dmg) r->pend.skipped += n;
}

/* Ends the damaged stretch being skipped, handing it to the caller. */
static int damage_end(tv_bundle_reader *r, tv_bundle_rec *rec)
{
    *rec = r->pend;
    r->dmg = 0;
    return 1;
}

/* Whether a header's length is one the format allows for its kind. */
static int length_ok(uint8_t kind, uint32_t len)
{
    if (kind == TV_BUNDLE_KIND_END) return len == 0;
    if (kind == TV_BUNDLE_KIND_BATCH) return len >= 1 && len <= TV_BUNDLE_PAYLOAD_MAX;
    return len <= TV_BUNDLE_PAYLOAD_MAX;
}

/* At end of file: the last damaged stretch, then a missing end record, then nothing. */
static int at_eof(tv_bundle_reader *r, tv_bundle_rec *rec, size_t have)
{
    if (have) {
        const uint8_t *p = r->buf + r->start;
        if (!r->dmg)
            damage_begin(r,
                         memcmp(p, TV_BUNDLE_MARKER, have < 8 ? have : 8) == 0
                             ? TV_BUNDLE_DMG_TRUNCATED
                             : TV_BUNDLE_DMG_GARBAGE,
                         0);
        skip(r, have);
    }
    if (r->dmg) return damage_end(r, rec);
    if (!r->end_seen && !r->no_end_told) {
        r->no_end_told = 1;
        *rec = (tv_bundle_rec){.what = TV_BUNDLE_DAMAGED,
                               .offset = tv_bundle_reader_offset(r),
                               .damage = TV_BUNDLE_DMG_NO_END,
                               .number = r->last,
                               .missing = r->seen > r->last ? r->seen - r->last : 0};
        return 1;
    }
    return 0;
}

/* Tells the sound record at p (its header read: kind, number, len; at offset pos) in rec,
 * with how many records before it are missing; an end record ends the bundle, for now. */
static void record_tell(tv_bundle_reader *r, tv_bundle_rec *rec, const uint8_t *p, uint8_t kind,
                        uint32_t number, uint32_t len, uint64_t pos)
{
    rec->offset = pos;
    rec->number = number;
    if (kind == TV_BUNDLE_KIND_END) {
        rec->what = TV_BUNDLE_END;
        rec->missing = number > r->last ? number - r->last : 0;
        r->end_seen = 1;
    } else {
        rec->missing = (uint64_t)number > (uint64_t)r->last + 1 ? number - r->last - 1 : 0;
        r->last = r->seen = number;
        r->end_seen = 0; /* records after an end record need an end of their own */
        if (kind == TV_BUNDLE_KIND_BATCH) {
            rec->what = TV_BUNDLE_BATCH;
            rec->data = p + TV_BUNDLE_HEADER_BYTES;
            rec->len = len;
        } else {
            rec->what = TV_BUNDLE_UNKNOWN;
            rec->kind = kind;
        }
    }
}

int tv_bundle_next(tv_bundle_reader *r, tv_bundle_rec *rec)
{
    memset(rec, 0, sizeof *rec);
    for (;;) {
        size_t have = fill(r, TV_BUNDLE_HEADER_BYTES);
        if (r->err) return r->err;
        if (have < TV_BUNDLE_HEADER_BYTES) return at_eof(r, rec, have);
        const uint8_t *p = r->buf + r->start;
        uint64_t pos = tv_bundle_reader_offset(r);

        if (r->end_seen && !r->dmg && memcmp(p, TV_BUNDLE_MAGIC, TV_BUNDLE_MAGIC_BYTES) == 0) {
            /* the next of concatenated bundles */
            r->start += TV_BUNDLE_MAGIC_BYTES;
            r->end_seen = 0;
            r->last = r->seen = 0;
            continue;
        }
        if (!header_ok(p)) {
            /* no record starts here: skip to the next byte that may start a marker */
            if (!r->dmg) damage_begin(r, TV_BUNDLE_DMG_GARBAGE, 0);
            const uint8_t *q = memchr(p + 1, TV_BUNDLE_MARKER[0], have - 1);
            skip(r, q ? (size_t)(q - p) : have);
            continue;
        }

        uint8_t kind = p[H_KIND];
        uint32_t number = get32(p + H_NUMBER), len = get32(p + H_LENGTH);
        if (!length_ok(kind, len)) {
            /* never trusted: the header is intact, so this comes from a broken writer */
            if (r->dmg) return damage_end(r, rec);
            damage_begin(r, TV_BUNDLE_DMG_LENGTH, number);
            r->pend.claimed = len;
            skip(r, 1);
            continue;
        }
        if (number > r->seen) r->seen = number;
        size_t total = TV_BUNDLE_HEADER_BYTES + len;
        if (r->ok_at != pos + 1) {
            have = fill(r, total);
            if (r->err) return r->err;
            p = r->buf + r->start; /* fill may have moved the bytes */
            tv_bundle_damage d = 0;
            if (have < total)
                d = TV_BUNDLE_DMG_TRUNCATED;
            else if (tv_bundle_crc32(p + TV_BUNDLE_HEADER_BYTES, len) != get32(p + H_CRC))
                d = TV_BUNDLE_DMG_CHECKSUM;
            if (d) {
                if (r->dmg) return damage_end(r, rec);
                /* resume scanning inside the payload, not after it: if bytes were lost
                 * rather than changed, the next record starts within the claimed length */
                damage_begin(r, d, number);
                skip(r, 1);
                continue;
            }
            r->ok_at = pos + 1; /* checked once, even if a damaged stretch is told first */
        }
        if (r->dmg) return damage_end(r, rec);
        r->ok_at = 0;

        record_tell(r, rec, p, kind, number, len, pos);
        r->start += total;
        return 1;
    }
}
