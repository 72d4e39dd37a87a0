/* Bundles: files of signed batches carried between nodes on removable media (sneakernet).
 *
 * A bundle is the 8 bytes "TVBUNDL1", then records, then an end record (PROTOCOL.md,
 * "Bundles", gives every byte). Each record is a 28-byte header -- a marker, a kind, the
 * record's number, the payload length and two CRC-32s (of the payload and of the header)
 * -- followed by the payload; a batch record's payload is one batch, verbatim.
 *
 * The format is meant for a damaged USB stick. The checksums find flipped, zeroed or
 * substituted bytes; the reader then resynchronises by scanning for the next marker whose
 * header checks out, so one bad sector costs the records it touches and no more. The
 * record numbers and the end record tell records lost outright (a vanished stretch, a cut
 * file) from a clean end. The checksums only find accidents: whether a batch may be kept
 * is decided, batch by batch, by its signature and chain on the one apply path. */
#ifndef TV_NODE_BUNDLE_H
#define TV_NODE_BUNDLE_H

#include "crdt/batch.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TV_BUNDLE_MAGIC "TVBUNDL1" /* the first 8 bytes; the last one is the format version */
#define TV_BUNDLE_MAGIC_BYTES 8
#define TV_BUNDLE_MARKER "\x89TVREC\r\n" /* the first 8 bytes of every record header */
#define TV_BUNDLE_MARKER_BYTES 8
#define TV_BUNDLE_HEADER_BYTES 28
#define TV_BUNDLE_PAYLOAD_MAX CRDT_BATCH_BYTES_MAX

/* Record kinds, as stored in byte 8 of a record header. */
enum { TV_BUNDLE_KIND_BATCH = 1, TV_BUNDLE_KIND_END = 2 };

/* CRC-32 as in zlib, gzip and PNG (reflected polynomial 0xEDB88320, initial value and final
 * XOR 0xFFFFFFFF): the CRC of the 9 bytes "123456789" is 0xCBF43926. */
uint32_t tv_bundle_crc32(const uint8_t *p, size_t n);

/* --- writing ------------------------------------------------------------------------ */

/* Writes a bundle to a stream the caller owns. Fields are private. */
typedef struct tv_bundle_writer {
    FILE *fp;
    uint32_t records; /* records written */
    uint64_t bytes;   /* bytes written, the magic included */
} tv_bundle_writer;

/* Starts a bundle on fp by writing the magic. Returns 0 or TV_EIO. */
int tv_bundle_write_begin(tv_bundle_writer *w, FILE *fp);
/* Appends one batch record. The bytes are not checked beyond their length (the receiver
 * verifies them). Returns 0, TV_EINVAL (empty), TV_ELIMIT (over TV_BUNDLE_PAYLOAD_MAX, or
 * more records than a u32 numbers) or TV_EIO. */
int tv_bundle_write_batch(tv_bundle_writer *w, const uint8_t *batch, size_t len);
/* Appends the end record and flushes the stream. Returns 0 or TV_EIO. */
int tv_bundle_write_end(tv_bundle_writer *w);

/* A bundle file written atomically: the bytes go to PATH.tmp, which is fsynced and then
 * renamed over PATH (and the directory fsynced), so PATH is either the old file or the
 * whole new bundle, even if the stick is pulled out halfway. Fields are private. */
typedef struct tv_bundle_file {
    char path[PATH_MAX];
    char tmp[PATH_MAX];
    FILE *fp; /* write the bundle here, e.g. with tv_bundle_write_begin */
} tv_bundle_file;

/* Creates (or truncates) PATH.tmp for writing. Returns 0, TV_EINVAL (path too long) or
 * TV_EIO (see errno). */
int tv_bundle_file_create(tv_bundle_file *f, const char *path);
/* Flushes, fsyncs and closes the temporary file, renames it to PATH and fsyncs the
 * directory. Returns 0, or TV_EIO / TV_ENOSPC (see errno): when writing or renaming failed
 * the temporary file is removed and PATH is untouched; when only the directory's fsync
 * failed, PATH already holds the new bundle but may not be durable. */
int tv_bundle_file_commit(tv_bundle_file *f);
/* Closes and removes the temporary file; PATH is untouched. */
void tv_bundle_file_abort(tv_bundle_file *f);

/* --- reading ------------------------------------------------------------------------ */

/* What tv_bundle_next found. */
typedef enum tv_bundle_what {
    TV_BUNDLE_BATCH = 1, /* an intact batch record: data/len hold the batch */
    TV_BUNDLE_END,       /* the end record: the bundle is complete up to here */
    TV_BUNDLE_DAMAGED,   /* a stretch of bytes that holds no intact record, skipped */
    TV_BUNDLE_UNKNOWN,   /* an intact record of a kind this version does not know, skipped */
} tv_bundle_what;

/* Why a stretch was skipped (TV_BUNDLE_DAMAGED). */
typedef enum tv_bundle_damage {
    TV_BUNDLE_DMG_CHECKSUM = 1, /* an intact header, but the payload fails its CRC */
    TV_BUNDLE_DMG_TRUNCATED,    /* an intact header, but the file ends inside the payload */
    TV_BUNDLE_DMG_LENGTH,       /* an intact header claiming a length the format forbids */
    TV_BUNDLE_DMG_GARBAGE,      /* bytes where no intact record header starts */
    TV_BUNDLE_DMG_NO_END,       /* the file ends without its end record (skipped = 0) */
} tv_bundle_damage;

typedef struct tv_bundle_rec {
    tv_bundle_what what;
    uint64_t offset; /* file offset of the record, or of the skipped stretch */
    /* BATCH, UNKNOWN, and DAMAGED with an intact header: the record's number (records are
     * numbered 1, 2, ... in the order written). END: the number of records before it. */
    uint32_t number;
    /* BATCH, UNKNOWN and END: records numbered between the previous intact record and this one,
     * which were damaged or are missing. DMG_NO_END: records after the last intact one
     * whose damaged headers were seen (more may have been lost without a trace). */
    uint32_t missing;
    const uint8_t *data; /* BATCH: the batch bytes, valid until the next call */
    size_t len;          /* BATCH: their length */
    uint8_t kind;        /* UNKNOWN: the kind byte */
    tv_bundle_damage damage;
    uint64_t skipped; /* DAMAGED: bytes skipped */
    uint32_t claimed; /* DMG_LENGTH: the length the header claims */
} tv_bundle_rec;

/* Bytes of the reader's buffer: one whole record, and room to read ahead. */
#define TV_BUNDLE_READ_BUF (TV_BUNDLE_HEADER_BYTES + TV_BUNDLE_PAYLOAD_MAX + 64 * 1024)

/* A streaming bundle reader. It allocates nothing: its buffer is part of the struct, so
 * no length read from the file can make it allocate (put the struct on the heap or in
 * static storage: it is ~ 320 KiB). Fields are private. */
typedef struct tv_bundle_reader {
    FILE *fp;
    uint64_t base;     /* file offset of buf[0] */
    size_t start, end; /* unread bytes: buf[start..end) */
    int eof, err;
    int end_seen;       /* an end record was read (and nothing intact since) */
    int no_end_told;    /* DMG_NO_END was reported */
    uint32_t last;      /* number of the last intact record, 0 before the first */
    uint32_t seen;      /* highest number in an intact header since then, damaged or not */
    int dmg;            /* a damaged stretch is being skipped */
    tv_bundle_rec pend; /* ... and what it is so far */
    uint64_t ok_at;     /* offset + 1 of a record already found intact, else 0 */
    uint8_t buf[TV_BUNDLE_READ_BUF];
} tv_bundle_reader;

/* Starts reading a bundle from fp (owned by the caller, positioned at the bundle's first
 * byte) and checks the magic. A damaged magic followed by an intact record header is
 * accepted (the next call reports the 8 bytes as damaged). Returns 0, TV_EDECODE (not a
 * bundle), TV_EVERSION (a bundle of another format version) or TV_EIO. */
int tv_bundle_reader_init(tv_bundle_reader *r, FILE *fp);

/* Reads the next record or damaged stretch into *rec. Returns 1, 0 when the file has been
 * read to its end, or TV_EIO when reading the file failed (what was returned before
 * stands). Bundles may be concatenated: a magic right after an end record starts the next
 * bundle. */
int tv_bundle_next(tv_bundle_reader *r, tv_bundle_rec *rec) __attribute__((warn_unused_result));

/* File offset of the next byte the reader will look at (for progress). */
uint64_t tv_bundle_reader_offset(const tv_bundle_reader *r);

#endif
