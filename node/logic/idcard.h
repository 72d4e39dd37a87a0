/* Identity cards as a USB QR reader types them: one line of scanned or typed text turned
 * into one person's identity.
 *
 * Layouts read:
 *   - the chip citizen ID card (CCCD): 7 '|'-separated fields, or 11 on the 2024 card,
 *     whose extra fields are tolerated whatever they hold:
 *       number (12 digits) | old CMND (empty or 9 digits) | name | birth ddmmyyyy |
 *       Nam or Nữ | address | issue date ddmmyyyy
 *   - the health-insurance card (BHYT): '|'-separated parts ending in "|$", 15 parts on the
 *     2018 card and 12 on older ones; name, address and parents' name are hex-encoded
 *     UTF-8. The check string is not validated (its algorithm is not public).
 *   - truyvet's own personal QR, text starting with TV_CARD_TRUYVET_PREFIX: read as a
 *     personal code (payload.h); its signature is the caller's to check.
 *   - anything else is a phone or ID number, typed or read as plain digits, and goes to
 *     tv_person_parse_typed.
 * A line holding '|' is a CCCD when its first field is 12 digits, a BHYT card when its
 * last part is "$" or its first field starts like a card number (two letters, a digit).
 * A line of 7 or 11 fields whose first is other digits is read as a CCCD too, so that the
 * answer says what is wrong with the number; any other line with '|' is refused as an
 * unknown layout.
 *
 * Nothing here does I/O or reads the clock: whether a card has expired is the caller's
 * question. Every input is bounded (TV_CARD_TEXT_MAX) and every byte is validated, so any
 * bytes at all give either a card or a sentence saying what is wrong. */
#ifndef TV_NODE_IDCARD_H
#define TV_NODE_IDCARD_H

#include "node/format/payload.h"
#include "node/logic/person.h"

#include <stddef.h>

/* Longest text accepted once trimmed: a QR code holds at most 2953 bytes. */
#define TV_CARD_TEXT_MAX 4096
#define TV_CARD_NAME_MAX 255         /* bytes of a name, without its NUL */
#define TV_CARD_NAME_MASKED_BYTES 96 /* a masked name with its NUL (longer ones are cut) */
#define TV_CARD_ADDRESS_MAX 511      /* bytes of an address, without its NUL */
/* truyvet's personal QR starts with "TV", a version number and ':' (any letter case);
 * this is the first version. */
#define TV_CARD_TRUYVET_PREFIX "TV1:"

typedef enum tv_card_kind {
    TV_CARD_TYPED = 1,  /* a phone or ID number, typed or read as plain digits */
    TV_CARD_CCCD = 2,   /* chip citizen ID card */
    TV_CARD_BHYT = 3,   /* health-insurance card */
    TV_CARD_TRUYVET = 4 /* truyvet's own personal QR (a personal code, payload.h) */
} tv_card_kind;

typedef struct tv_card {
    tv_card_kind kind;
    /* The identity person_ref is computed from: the CCCD number on a CCCD, the card number
     * (TV_ID_BHYT, masked "*************89") on a BHYT card, whatever was typed otherwise. */
    tv_person_id id;
    char name[TV_CARD_NAME_MAX + 1];             /* UTF-8 as given (not normalised), trimmed */
    char name_masked[TV_CARD_NAME_MASKED_BYTES]; /* tv_name_mask(name), "" without a name */
    char phone[16];                              /* normalised, when a phone was typed */
    char cmnd[10];                               /* the old 9-digit ID number, if known */
    int birth_year;                              /* 0 if unknown */
    char birth[11];                              /* "yyyy-mm-dd", "yyyy" or "" */
    char sex;                                    /* 'M', 'F' or 0 if unknown */
    char address[TV_CARD_ADDRESS_MAX + 1];       /* UTF-8 as given, trimmed; "" if unknown */
    char bhyt_card[16];                          /* the card number on a BHYT card */
    /* TV_CARD_TRUYVET: the personal code: its pseudonym, masked display and signature
     * (checked by the caller, who knows the signing nodes); id is left empty */
    tv_person_card pcard;
    /* A CCCD read by its number although another field is faulty (a name or address that
     * is not UTF-8, a date with a typo, ...): the first defect, a sentence as *why below,
     * with the faulty field left empty; NULL when the card read whole. */
    const char *warning;
} tv_card;

/* Parses text[0..len), one scanned or typed line; it need not be NUL-terminated. Spaces,
 * tabs, CR and LF around the line, and around each '|'-separated field, are ignored.
 *
 * Checked on a CCCD: 7 or 11 fields; the number 12 digits; the old CMND empty or 9
 * digits; the name non-empty; both dates real calendar dates (29 February only in leap
 * years) from 1900 on; the sex "Nam" or "Nữ" in any letter case, "Nu" without diacritics
 * or "Nữ" decomposed. Only the field count and the number refuse a CCCD: a line whose
 * number is intact is read by it, and a defect of the other fields (the first one) is
 * given in out->warning, the faulty field left empty (name, address, birth, sex, cmnd).
 * On a BHYT card: the final "$"; 15 or 12 parts; the card number 2
 * letters, a benefit level 1-5 and 12 digits (letters may be lowercase: a reader whose
 * host has Caps Lock on flips them; the number is stored uppercase); name, address and
 * parents' name an even number of hex digits decoding to UTF-8; the name non-empty; the
 * date of birth dd/mm/yyyy or yyyy; the sex 1 (Nam) or 2 (Nữ). On every layout, names
 * and addresses hold no control characters (C0, DEL, C1) and fit the fields of tv_card.
 *
 * Returns 0 with *out filled, or TV_EINVAL with *why (may be NULL) set to a static
 * sentence without a final full stop ("BHYT name field is not hex", "CCCD date of birth
 * is not ddmmyyyy", "unknown QR layout: 9 fields separated by |"; for typed text, those of
 * tv_person_parse_typed, which speak of "it": "it is empty") and *out cleared except
 * out->kind, which names the layout the text was read as (0 when none was recognised).
 * Text starting with "TV<version>:" is a truyvet personal code (kind TV_CARD_TRUYVET):
 * version 1 is read into out->pcard (tv_person_card_parse says what is wrong with a bad
 * one); other versions are refused as such. */
int tv_card_parse(const char *text, size_t len, tv_card *out, const char **why)
    __attribute__((warn_unused_result));

/* The Vietnamese of a sentence tv_card_parse gives (in *why or out->warning), for the
 * guard at the gate: "họ tên trên CCCD bị lỗi dấu (...)". A sentence it does not know is
 * returned as it is; NULL gives NULL. */
const char *tv_card_why_vi(const char *why);

/* Masks a UTF-8 full name for display to venue owners and commune staff, as the source
 * documents require ("Nguyễn V** A"): the first word (the family name) is kept whole,
 * each middle word becomes its first character followed by "**", and the last word its
 * first character alone; a one-word name becomes its first character followed by "**".
 * Words are separated by runs of spaces or tabs and joined by one space:
 *   "Nguyễn Văn An" -> "Nguyễn V** A"      "Trần Thị Bích Ngọc" -> "Trần T** B** N"
 *   "Lê An" -> "Lê A"                       "An" -> "A**"
 * A character is a whole UTF-8 sequence with the combining marks that follow it, so a
 * decomposed "Ánh" keeps its accent. Bytes that are not UTF-8 become '?'. Output that does
 * not fit cap bytes (with its NUL) stops after the last whole character, "**" or space
 * that fits, so it is always valid UTF-8; cap 0 writes nothing, a NULL name "".
 * The family name stays whole: a dozen family names are borne by nine people in ten
 * (Nguyễn alone by about four in ten), so it tells a guard at least as much as it tells
 * anyone else, and a name is no input to the pseudonym, so no form of it narrows a brute
 * force of one; the given name, which tells people apart, shows only its initial. */
void tv_name_mask(const char *name, char *out, size_t cap);

#endif
