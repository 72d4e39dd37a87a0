/* Text people type, and text printed back to them.
 *
 * Every str field of an event is text without control characters (crdt_text_valid:
 * well-formed UTF-8, no C0, DEL or C1). Text from the command line, a file or a scanned
 * card is checked with tv_text_check before anything is recorded, so the clerk hears what
 * is wrong instead of the store refusing the event.
 *
 * Whatever the store holds -- written before the rule, or by a newer or hostile node -- is
 * printed to a terminal only through tv_text_esc, so no stored byte can move the cursor,
 * clear the screen or retitle the window of the person reading it: each byte of a control
 * character (C0 U+0000-U+001F, DEL U+007F, C1 U+0080-U+009F) and each byte that is not
 * part of well-formed UTF-8 is printed as the four characters \xNN (lowercase hex), e.g.
 * ESC as \x1b and U+009B as \xc2\x9b. Everything else, Vietnamese included, is printed as
 * it is. (JSON output escapes the same characters as \u00NN, see json.h.) */
#ifndef TV_NODE_TEXT_H
#define TV_NODE_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Room for tv_text_check's sentence, with its NUL. */
#define TV_TEXT_WHY_BYTES 64

/* Checks that s[0..n) may be recorded as text. Returns 0, or TV_EINVAL with a sentence
 * fragment in why (TV_TEXT_WHY_BYTES) that follows "the <field> ": "is not valid UTF-8
 * text" or "holds a control character (U+001B)" naming the first one. */
int tv_text_check(const char *s, size_t n, char why[TV_TEXT_WHY_BYTES]);

/* What tv_text_check refuses in s[0..n), for a caller that words it itself: 0 when it may
 * be recorded, TV_TEXT_CONTROL with the first control character in *cp, or TV_TEXT_UTF8
 * when it is not well-formed UTF-8. */
enum { TV_TEXT_CONTROL = 1, TV_TEXT_UTF8 = 2 };
int tv_text_fault(const char *s, size_t n, uint32_t *cp);

/* Writes s[0..n), escaped as above, into out (cap bytes, NUL-terminated; cap >= 1). What
 * does not fit is cut at a whole character or escape, and the cut is marked with "...".
 * Returns the length written. Bytes are never split: out is valid UTF-8 with no control
 * character whatever s holds. */
size_t tv_text_escape(char *out, size_t cap, const char *s, size_t n);

/* The NUL-terminated s ready for a terminal: s itself when it needs no escape, else its
 * escaped form (tv_text_escape) in one of TV_TEXT_ESC_SLOTS per-thread buffers of
 * TV_TEXT_ESC_BYTES, reused in turn, so up to that many calls may appear in one printf.
 * NULL gives "". */
#define TV_TEXT_ESC_SLOTS 8
#define TV_TEXT_ESC_BYTES 2048
const char *tv_text_esc(const char *s);
/* Writes s to f left-justified in width characters (UTF-8 code points, not bytes). */
void tv_text_pad(FILE *f, const char *s, size_t width);
/* The same for s[0..n), which need not be NUL-terminated (always copied). */
const char *tv_text_esc_n(const char *s, size_t n);

/* Text people type is kept in Unicode normalisation form C (NFC, composed): "Nguyễn"
 * typed with combining marks (NFD, as some keyboards and macOS file names give it) is
 * stored as the same bytes as "Nguyễn" typed composed, so names look and compare alike.
 * Returns a malloc'd NFC copy of s (caller frees), or NULL when s is not valid UTF-8 or
 * memory is short. */
char *tv_text_nfc(const char *s);

/* Room for tv_text_fold's key: at most this many bytes are kept. */
#define TV_TEXT_FOLD_BYTES 512

/* A key for comparing names as a clerk reads them: marks dropped (Vietnamese tones and
 * vowel marks: "Chợ" and "cho" alike), đ/Đ read as d, lower case, leading and trailing
 * spaces dropped and runs of spaces read as one. Writes it into out (cap bytes, NUL-
 * terminated, cut at a whole character). Returns 0, or TV_EINVAL when s is not valid
 * UTF-8 (out is then ""). */
int tv_text_fold(const char *s, char *out, size_t cap);

#endif
