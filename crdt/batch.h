/* Signed, hash-chained batches: the unit in which logs are stored and replicated.
 *
 * A batch is the msgpack array [header, signature, body]:
 *   header    bin: the msgpack array [version, origin, first_seq, count, prev_hash,
 *             body_hash, hlc_min, hlc_max] (PROTOCOL.md gives every field);
 *   signature bin 64: Ed25519 by origin over CRDT_BATCH_SIGN_CONTEXT || header bytes;
 *   body      bin: the msgpack array of the `count` encoded events.
 * The batch's hash is BLAKE2b-256 of the header bytes (which commit to the body through
 * body_hash); each batch names its predecessor's hash, so each origin's log is a chain.
 * Batches are stored and relayed verbatim. Pure: no I/O, no clock. */
#ifndef TV_CRDT_BATCH_H
#define TV_CRDT_BATCH_H

#include "crdt/event.h"
#include "crdt/identity.h"
#include "crdt/ids.h"
#include "crdt/sigmemo.h"

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define CRDT_BATCH_VERSION 1
#define CRDT_BATCH_EVENTS_MAX 1024
#define CRDT_BATCH_BYTES_MAX (256 * 1024) /* one batch fits one transfer message */
#define CRDT_BATCH_HEADER_BYTES_MAX 192
#define CRDT_BATCH_SIGN_CONTEXT "truyvet/batch/v1"

_Static_assert(CRDT_BATCH_EVENTS_MAX * 16 < CRDT_BATCH_BYTES_MAX,
               "a batch of minimal events must fit the byte limit");
_Static_assert(CRDT_EVENT_BYTES_MAX * 8 <= CRDT_BATCH_BYTES_MAX,
               "several of the largest events must fit one batch");

typedef struct crdt_batch_header {
    uint32_t version;
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t first_seq;               /* >= 1 */
    uint32_t count;                   /* 1..CRDT_BATCH_EVENTS_MAX */
    uint8_t prev_hash[TV_HASH_BYTES]; /* all zero when first_seq == 1 */
    uint8_t body_hash[TV_HASH_BYTES];
    uint64_t hlc_min, hlc_max; /* the first and last event's HLC */
} crdt_batch_header;

/* A verified batch: a view over the bytes it was opened from (lives as long as they do). */
typedef struct crdt_batch {
    crdt_batch_header h;
    uint8_t hash[TV_HASH_BYTES];
    const uint8_t *body; /* the msgpack array of events */
    size_t body_len;
} crdt_batch;

/* Accumulates encoded events and seals them into a batch. Caller owns the struct. */
typedef struct crdt_batch_builder {
    msgpack_sbuffer events; /* concatenated encoded events */
    msgpack_packer pk;      /* packs into `events`; pass it to crdt_event_pack_* */
    uint32_t count;
    uint64_t hlc_min, hlc_max;
} crdt_batch_builder;

void crdt_batch_builder_init(crdt_batch_builder *b);
void crdt_batch_builder_release(crdt_batch_builder *b);
void crdt_batch_builder_reset(crdt_batch_builder *b);
/* Records that one event with timestamp hlc was just packed into b->pk. HLCs must rise
 * strictly within a batch (asserted). */
void crdt_batch_builder_note(crdt_batch_builder *b, uint64_t hlc);

/* Seals the builder's events as the batch of `id`'s log that starts at first_seq and
 * follows the batch whose hash is prev_hash (NULL for the first batch). *out is malloc'd
 * (caller frees); *hash_out (may be NULL) receives the new batch's hash.
 * Returns 0, TV_EINVAL (no events, or first_seq/prev_hash inconsistent), TV_ELIMIT (too
 * many events or bytes), or TV_ENOMEM. */
int crdt_batch_seal(const crdt_batch_builder *b, const crdt_identity *id, uint64_t first_seq,
                    const uint8_t *prev_hash, uint8_t **out, size_t *out_len, uint8_t *hash_out);

/* Parses untrusted batch bytes, checks the header, the origin's signature and the body
 * hash. It does not look at the events (crdt_batch_iter does) nor at the chain (the store
 * does). Returns 0, TV_EDECODE, TV_ELIMIT, TV_EVERSION, TV_ESIG or TV_EHASH; *b is zeroed
 * on failure. */
int crdt_batch_open(crdt_batch *b, const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));

/* Parses batch bytes and checks their header like crdt_batch_open, but without checking
 * the signature or the body hash: only for bytes verified before (read back from the
 * store), or to recognise a batch before deciding whether it needs verifying. Returns
 * 0, TV_EDECODE, TV_ELIMIT or TV_EVERSION; *b is zeroed on failure. */
int crdt_batch_peek(crdt_batch *b, const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));

/* crdt_batch_open, verifying the signature through the memo m (crdt/sigmemo.h; NULL: none). */
int crdt_batch_open_memo(crdt_batch *b, const uint8_t *buf, size_t len, crdt_sig_memo *m)
    __attribute__((warn_unused_result));

/* Walks the events of an opened batch. Caller owns the struct. */
typedef struct crdt_batch_iter {
    const crdt_batch *b;
    size_t pos;     /* offset in b->body of the next event */
    uint32_t index; /* events returned so far */
    uint64_t prev_hlc;
    msgpack_unpacked scratch;
} crdt_batch_iter;

void crdt_batch_iter_init(crdt_batch_iter *it, const crdt_batch *b);
void crdt_batch_iter_release(crdt_batch_iter *it);
/* Decodes the next event into *ev (borrowing from the batch's bytes; valid until the next
 * call). Returns 1 for an event, 0 after the last one, or TV_EDECODE / TV_ELIMIT when the
 * body is malformed: wrong count, trailing bytes, HLCs not rising strictly or outside the
 * header's range, a known event type with invalid fields. */
int crdt_batch_iter_next(crdt_batch_iter *it, crdt_event *ev) __attribute__((warn_unused_result));

/* Checks every event of an opened batch (see crdt_batch_iter_next). Returns 0 or an error. */
int crdt_batch_check_events(const crdt_batch *b) __attribute__((warn_unused_result));

#endif
