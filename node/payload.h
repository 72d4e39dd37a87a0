/* What a venue's poster carries: a signed QR payload that any node verifies offline, and a
 * short code a person can type when a camera fails.
 *
 * Venue payload, version 1 (text; QR alphanumeric mode, so the symbol stays small):
 *
 *   TV1V:<unit>:<base32 of venue id (8) | signer key id (8) | signature (64)>
 *
 * unit is the venue's administrative unit (2 to 5 digits); base32 is RFC 4648's alphabet
 * without padding (80 bytes: exactly 128 characters). The signer key id is the first 8
 * bytes of the registering node's public key; the signature is Ed25519 by that node over
 * TV_VENUE_SIGN_CONTEXT || venue id || unit. Whole payload: at most 139 characters.
 *
 * Short code: 8 characters of Crockford's base32 for the first 40 bits of the venue id,
 * then a check character (Luhn mod 32 over the same alphabet, which catches every
 * single-character error and most swaps of neighbours), printed as XXXX-XXXX-C. Reading
 * one ignores case, spaces and dashes and takes I and L for 1 and O for 0. */
#ifndef TV_NODE_PAYLOAD_H
#define TV_NODE_PAYLOAD_H

#include "crdt/identity.h"
#include "crdt/ids.h"

#include <stddef.h>
#include <stdint.h>

#define TV_VENUE_PAYLOAD_PREFIX "TV1V:"
#define TV_VENUE_SIGN_CONTEXT "truyvet/venue-poster/v1"
#define TV_KEY_ID_BYTES 8
#define TV_VENUE_PAYLOAD_MAX 160     /* bytes of the text, with its NUL */
#define TV_SHORT_CODE_PREFIX_BYTES 5 /* the venue id bits a short code carries: 40 */
#define TV_SHORT_CODE_STR 12         /* "XXXX-XXXX-C" and its NUL */

typedef struct tv_venue_payload {
    uint8_t venue[TV_VENUE_ID_BYTES];
    char unit[TV_UNIT_CODE_MAX + 1];
    uint8_t key_id[TV_KEY_ID_BYTES];
    uint8_t sig[TV_SIG_BYTES];
} tv_venue_payload;

/* Fills *p for venue of unit, signed by id. Returns 0, TV_EINVAL (unit not 2-5 digits)
 * or TV_ENOMEM. */
int tv_venue_payload_sign(tv_venue_payload *p, const uint8_t venue[TV_VENUE_ID_BYTES],
                          const char *unit, const crdt_identity *id);

/* Writes the payload text into out (TV_VENUE_PAYLOAD_MAX bytes). */
void tv_venue_payload_format(char out[TV_VENUE_PAYLOAD_MAX], const tv_venue_payload *p);

/* Reads a payload text (len bytes; a trailing CR/LF is not allowed: the caller trims).
 * Returns 0, or TV_EINVAL with *why saying what is wrong ("not a truyvet venue code",
 * "the code is cut short or too long", ...). Checks the form only, not the signature. */
int tv_venue_payload_parse(const char *text, size_t len, tv_venue_payload *p, const char **why);

/* Does the payload's signature verify under pk (whose first bytes must be its key id)?
 * Returns 0 or TV_ESIG. */
int tv_venue_payload_verify(const tv_venue_payload *p, const uint8_t pk[TV_NODE_ID_BYTES]);

/* Writes the venue's short code, "XXXX-XXXX-C". */
void tv_short_code(char out[TV_SHORT_CODE_STR], const uint8_t venue[TV_VENUE_ID_BYTES]);

/* Reads a short code into the first 40 bits of a venue id. Returns 0, or TV_EINVAL with
 * *why ("a short code has 9 characters", "the check character does not match: a
 * character is mistyped"). */
int tv_short_code_parse(const char *text, uint8_t prefix[TV_SHORT_CODE_PREFIX_BYTES],
                        const char **why);

#endif
