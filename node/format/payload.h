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

/* --- personal codes ----------------------------------------------------------------
 *
 * A personal code, version 1, printed on a card for someone without a phone:
 *
 *   TV1:<base32 of person ref (16) | birth year (2, 0 unknown) | key id (8) | sig (64)>:<display>
 *
 * display is the masked form staff may see ("Nguyễn V** A · **********45", UTF-8, at most
 * TV_PERSON_DISPLAY_BYTES - 1 bytes); the signature is Ed25519 by the issuing node over
 * TV_PERSON_SIGN_CONTEXT || ref || birth year || display. No personal data in clear.
 * truyvet issues cards with birth year 0: beside a masked CCCD a year gives away digits. */
#define TV_PERSON_CARD_PREFIX "TV1:"
#define TV_PERSON_SIGN_CONTEXT "truyvet/person-card/v1"
#define TV_PERSON_DISPLAY_BYTES 64 /* with its NUL: what a scan's masked field holds */
#define TV_PERSON_CARD_MAX 224     /* bytes of the text, with its NUL */

typedef struct tv_person_card {
    uint8_t ref[TV_PERSON_REF_BYTES];
    uint16_t birth_year;
    uint8_t key_id[TV_KEY_ID_BYTES];
    uint8_t sig[TV_SIG_BYTES];
    char display[TV_PERSON_DISPLAY_BYTES];
} tv_person_card;

/* Fills *c, signed by id. Returns 0, TV_EINVAL (display empty, too long, or not text:
 * crdt_text_valid, so no control character; ':' is allowed) or TV_ENOMEM. */
int tv_person_card_sign(tv_person_card *c, const uint8_t ref[TV_PERSON_REF_BYTES], int birth_year,
                        const char *display, const crdt_identity *id);
void tv_person_card_format(char out[TV_PERSON_CARD_MAX], const tv_person_card *c);
/* Reads a personal code; the form only (a display that is not text, crdt_text_valid, is
 * refused). Returns 0 or TV_EINVAL with *why. */
int tv_person_card_parse(const char *text, size_t len, tv_person_card *c, const char **why);
/* Returns 0 when the signature verifies under pk (whose first bytes are the key id), else
 * TV_ESIG. */
int tv_person_card_verify(const tv_person_card *c, const uint8_t pk[TV_NODE_ID_BYTES]);

#endif
