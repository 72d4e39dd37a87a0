/* Why an input was refused, in words for the person who typed it: a stable machine word
 * (code, for programs and tests), the sentence in English (en: what the command line
 * prints after "truyvet: ") and the same meaning in Vietnamese (vi: for a commune clerk at
 * a form; it names no command-line option but says what to do on the form).
 *
 * The logic functions that check what people type (venue_input.h, scan_input.h, the text
 * checks below) fill a tv_why when they refuse, and return a negative TV_E... code:
 * TV_EINVAL for malformed input (a usage error on the command line, 400 on the web),
 * TV_ENOTFOUND for a record that is not there, TV_EPERM for what this node or role may
 * not do, TV_EEXIST for a duplicate, or a store error (code "store"). Nothing is written
 * to the store when they refuse.
 *
 * The command line prints en exactly as it printed its own sentence before the checks
 * moved here; the web console answers {"error": code, "message": en, "message_vi": vi}. */
#ifndef TV_NODE_LOGIC_WHY_H
#define TV_NODE_LOGIC_WHY_H

#include <stddef.h>

/* Room for a code and for each sentence, with the NUL. A sentence can quote two stored
 * fields of 255 bytes, escaped (up to 4 bytes each), and what was typed; a longer one is
 * cut at a whole UTF-8 character. */
#define TV_WHY_CODE_BYTES 32
#define TV_WHY_TEXT_BYTES 2048

typedef struct tv_why {
    char code[TV_WHY_CODE_BYTES]; /* "venue_unknown", "text_control", ... */
    char en[TV_WHY_TEXT_BYTES];
    char vi[TV_WHY_TEXT_BYTES];
} tv_why;

/* Sets why's code and both sentences, formatted from the same arguments (printf formats,
 * both checked by the compiler: vi takes the arguments en takes, in the same order; "%.0s"
 * passes over a string one of them does not say). why may be NULL (nothing is kept). */
void tv_why_set(tv_why *why, const char *code, const char *en, const char *vi, ...)
    __attribute__((format(printf, 3, 5), format(printf, 4, 5)));

/* Sets why for store error rc met while doing what (en) / what_vi: code "store", "what:
 * <the error's sentence>." in both (the error's sentence is English). Returns rc. */
int tv_why_store(tv_why *why, int rc, const char *what, const char *what_vi);

/* Checks text typed for a field of at most max bytes, by tv_text_check (text.h): valid
 * UTF-8, no control character. what names the field in English ("venue name", "village",
 * "device label", "note", "reason", "name", "unit name"); the Vietnamese sentence names it
 * in Vietnamese ("Tên địa điểm"). Returns 0, or TV_EINVAL with why set:
 *   text_too_long  "the venue name is too long (at most 255 bytes)."
 *   text_control   "the venue name holds a control character (U+001B)."
 *   text_utf8      "the venue name is not valid UTF-8 text." */
int tv_why_text(const char *what, const char *s, size_t max, tv_why *why);

/* The Vietnamese name of field what, as tv_why_text names it at the start of a sentence
 * ("Tên địa điểm"); what itself when it has none. */
const char *tv_why_field_vi(const char *what);

#endif
