/* Typed personal identifiers: normalising a phone or ID number, its pseudonym and its
 * masked display.
 *
 * A masked number keeps what a guard needs to tell two people apart and no more: its last
 * two characters, and a phone's first two (09******78, **********45 for a CCCD,
 * *******89 for a CMND, *************89 for a BHYT card). Each digit more would divide
 * the candidates a brute force of the pseudonym must try by ten (bench/masks.c).
 *
 * The pseudonym (person_ref) is keyed BLAKE2b-128 of the normalised identity with the
 * tracing key, so every level can match one person's visits without storing who it is. */
#ifndef TV_NODE_PERSON_H
#define TV_NODE_PERSON_H

#include "crdt/ids.h"

#include <stdint.h>

typedef enum tv_id_kind {
    TV_ID_PHONE = 1, /* Vietnamese phone number, 0xxxxxxxxx */
    TV_ID_CCCD = 2,  /* 12-digit citizen identity number */
    TV_ID_CMND = 3,  /* 9-digit old identity card number */
    TV_ID_BHYT = 4,  /* 15-character health-insurance card number, read from its QR code */
} tv_id_kind;

#define TV_PERSON_NORM_MAX 24
#define TV_PERSON_MASKED_MAX 24

typedef struct tv_person_id {
    tv_id_kind kind;
    char norm[TV_PERSON_NORM_MAX];     /* digits only, phone with leading 0; BHYT: its 10-digit
                                          social-insurance number */
    char masked[TV_PERSON_MASKED_MAX]; /* e.g. 09******78, **********45 */
} tv_person_id;

/* Parses a phone number (0912 345 678, +84912345678, 84-912-345-678) or an ID number
 * (12-digit CCCD, 9-digit CMND) as typed. Spaces, dots and dashes are ignored. Returns 0,
 * or TV_EINVAL with *why set to a sentence saying what is wrong. */
int tv_person_parse_typed(const char *text, tv_person_id *out, const char **why);

/* Computes the pseudonym of id under the tracing key. */
void tv_person_ref(const tv_person_id *id, const uint8_t key[TV_TRACING_KEY_BYTES],
                   uint8_t ref[TV_PERSON_REF_BYTES]);

/* The pseudonym key of commune unit, derived from the province-wide tracing key: keyed
 * BLAKE2b-256 of "truyvet/commune-key/v1", a NUL byte and the unit code, under the
 * province key. Only a node holding the province key (a health node) can derive it. */
void tv_commune_key_derive(const uint8_t province_key[TV_TRACING_KEY_BYTES], const char *unit,
                           uint8_t out[TV_TRACING_KEY_BYTES]);

/* Re-masks, in place, a masked number written under an older, wider rule (09****5678,
 * 001*******45, HS***********89), or the number after the last " · " of a display
 * ("Nguyễn V** A · 001*******45"), to the rule above: characters become '*' and the length
 * stays. A number is a run of 9 to 15 ASCII letters, digits and '*' holding at least one
 * '*'; a phone is one of 10 or 11 starting with '0' and a digit. Anything else, and a
 * number already masked so, is left as it is. */
void tv_masked_narrow(char *s);

#endif
