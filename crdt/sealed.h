/* Sealed health events (PROTOCOL.md §2.11): a case status, an exposure window, a reveal's
 * audit or a hold encrypted for one audience, so that it flows down every log without telling
 * anyone else anything.
 *
 * An audience is named by its 32-byte key K_a: the province's pseudonym key for the health
 * nodes, or a commune's pseudonym key for that commune. From K_a come the tag every copy
 * carries in clear (the first CRDT_SEALED_TAG_BYTES of keyed BLAKE2b-256 of
 * "truyvet/sealed-tag/v1") and the encryption key (keyed BLAKE2b-256 of
 * "truyvet/sealed-key/v1"). The box is XChaCha20-Poly1305 (IETF) of the inner event's
 * msgpack bytes, with the author's node id and the tag as additional data, so a box cannot
 * be replayed under another author or audience. Pure: the caller supplies the nonce. */
#ifndef TV_CRDT_SEALED_H
#define TV_CRDT_SEALED_H

#include "crdt/event.h"

#include <stddef.h>
#include <stdint.h>

#define CRDT_SEALED_KEY_BYTES 32

/* The audience tag of key k. */
void crdt_sealed_tag(uint8_t tag[CRDT_SEALED_TAG_BYTES], const uint8_t k[CRDT_SEALED_KEY_BYTES]);

/* Seals inner[0..len) (an encoded event, at most CRDT_SEALED_INNER_BYTES_MAX bytes) for the
 * audience of key k, as written by author, with the caller's random nonce: fills out (its
 * box points into box_buf, CRDT_SEALED_BOX_BYTES_MAX bytes owned by the caller). Returns 0
 * or TV_EINVAL (inner too long or empty). */
int crdt_sealed_seal(crdt_sealed_event *out, uint8_t *box_buf, const uint8_t *inner, size_t len,
                     const uint8_t k[CRDT_SEALED_KEY_BYTES], const uint8_t author[TV_NODE_ID_BYTES],
                     const uint8_t nonce[CRDT_SEALED_NONCE_BYTES]);

/* Opens s, written by author, with the audience key k: the inner event's bytes go to
 * inner (CRDT_SEALED_INNER_BYTES_MAX bytes), their length to *len. Returns 0, TV_EINVAL (the
 * tag is not k's) or TV_ESIG (the box does not open: not sealed under k by author, or
 * altered); inner is wiped on failure. */
int crdt_sealed_open(uint8_t *inner, size_t *len, const crdt_sealed_event *s,
                     const uint8_t k[CRDT_SEALED_KEY_BYTES], const uint8_t author[TV_NODE_ID_BYTES])
    __attribute__((warn_unused_result));

/* Opens s as crdt_sealed_open does and decodes the inner event into *ev, which borrows from
 * inner (the caller's buffer of CRDT_SEALED_INNER_BYTES_MAX bytes). The inner event must be
 * a valid case_status, exposure, reveal or hold. Returns 0, TV_EINVAL, TV_ESIG or TV_EDECODE
 * (opened, but not a valid inner event). */
int crdt_sealed_open_event(crdt_event *ev, msgpack_unpacked *scratch, uint8_t *inner,
                           const crdt_sealed_event *s, const uint8_t k[CRDT_SEALED_KEY_BYTES],
                           const uint8_t author[TV_NODE_ID_BYTES])
    __attribute__((warn_unused_result));

#endif
