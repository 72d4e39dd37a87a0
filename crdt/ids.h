/* Identifier sizes and small fixed-size identifier types used across truyvet. */
#ifndef TV_CRDT_IDS_H
#define TV_CRDT_IDS_H

#include <stddef.h>
#include <stdint.h>

#define TV_NODE_ID_BYTES 32    /* an Ed25519 public key */
#define TV_SECRET_KEY_BYTES 64 /* an Ed25519 secret key (seed || public key) */
#define TV_SEED_BYTES 32
#define TV_SIG_BYTES 64
#define TV_HASH_BYTES 32 /* BLAKE2b-256 */
#define TV_VENUE_ID_BYTES 8
#define TV_PERSON_REF_BYTES 16 /* keyed BLAKE2b-128 of a normalised identity */
#define TV_TRACING_KEY_BYTES 32
#define TV_UNIT_CODE_MAX 15 /* characters of an administrative unit code */
/* Printed event id: first 16 hex digits of the origin, '-', decimal seq. */
#define TV_EVENT_ID_ORIGIN_HEX 16
#define TV_EVENT_ID_STR_MAX (TV_EVENT_ID_ORIGIN_HEX + 1 + 20 + 1)

/* Writes 2*len lowercase hex digits and a NUL into out (which holds 2*len+1 bytes). */
void tv_hex_encode(char *out, const uint8_t *in, size_t len);
/* Decodes exactly 2*len hex digits (either case) from a NUL-terminated string. Returns 0,
 * or TV_EINVAL when the string has another length or a non-hex character. */
int tv_hex_decode(uint8_t *out, size_t len, const char *hex);

/* A venue's id is derived from the node that registers it and a random nonce, so that
 * exactly one node can write the registration of a given id (PROTOCOL.md §2.2, rule V1):
 * the first 8 bytes of BLAKE2b-256 over "truyvet/venue-id/v1" || registrar || nonce. */
#define TV_VENUE_NONCE_BYTES 16
void tv_venue_id_derive(uint8_t out[TV_VENUE_ID_BYTES], const uint8_t registrar[TV_NODE_ID_BYTES],
                        const uint8_t nonce[TV_VENUE_NONCE_BYTES]);

/* Formats the id of event (origin, seq) into out (TV_EVENT_ID_STR_MAX bytes). */
void tv_event_id_format(char *out, const uint8_t origin[TV_NODE_ID_BYTES], uint64_t seq);

#endif
