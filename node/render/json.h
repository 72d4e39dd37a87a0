/* Small streaming JSON writer (RFC 8259) for the CLI's machine-readable output.
 *
 * Output is compact, with no whitespace, so that one top-level value fills one line of a
 * JSON Lines stream; the caller ends each line (tv_json_line_end does it after checking
 * the value is complete). Commas and the key/value alternation are tracked on a small
 * stack, bounded at TV_JSON_DEPTH_MAX open containers.
 *
 * Strings are escaped as RFC 8259 requires: '"' and '\' with a backslash, \b \f \n \r \t
 * by name, the other control characters -- C0 below 0x20, and also DEL (0x7f) and C1
 * (U+0080..U+009F) -- as \u00XX, so no control byte of stored text reaches a terminal that
 * shows the output. Other valid UTF-8 (Vietnamese names) is written as is; each maximal
 * ill-formed subsequence (a stray continuation byte, a truncated sequence, an overlong
 * form, a surrogate, anything above U+10FFFF) becomes one U+FFFD, as Unicode recommends,
 * so the output is always valid UTF-8 whatever a CSV import carried in.
 *
 * Errors: calling in the wrong order (a value where a key is due, closing what is not
 * open, nesting deeper than TV_JSON_DEPTH_MAX) is a bug in the caller and is asserted;
 * where assertions are compiled out, the calls that would leave the stack record TV_EINVAL
 * instead. Write errors are remembered as TV_EIO. Either is returned by tv_json_line_end
 * and tv_json_status, so the value-writing calls need not be checked one by one. Errors
 * that stdio reports only when its buffer is flushed are the caller's to check with
 * fflush or fclose. */
#ifndef TV_NODE_JSON_H
#define TV_NODE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TV_JSON_DEPTH_MAX 32 /* open objects and arrays; our records nest three deep */

/* Writer state; the caller owns it (usually on the stack). Fields are private. */
typedef struct tv_json {
    FILE *f;
    int depth;                             /* open containers */
    int err;                               /* 0, or the first error (sticky) */
    bool key_done;                         /* in an object: a key was written, value due */
    bool is_object[TV_JSON_DEPTH_MAX];     /* per open container: object, else array */
    bool has_items[TV_JSON_DEPTH_MAX + 1]; /* per level: something written, comma due */
} tv_json;

/* Starts writing to f, which the caller owns and keeps open while j is used. */
void tv_json_init(tv_json *j, FILE *f);

void tv_json_object_begin(tv_json *j);
void tv_json_object_end(tv_json *j);
void tv_json_array_begin(tv_json *j);
void tv_json_array_end(tv_json *j);

/* Writes an object key (escaped like a string); a value must follow. */
void tv_json_key(tv_json *j, const char *key);

/* Writes a NUL-terminated string. */
void tv_json_string(tv_json *j, const char *s);
/* Writes len bytes of s as a string; NUL bytes inside become \u0000. s may be NULL when
 * len is 0. */
void tv_json_string_n(tv_json *j, const char *s, size_t len);
/* Writes integers as JSON numbers. Readers that hold numbers in doubles (JavaScript)
 * lose precision above 2^53; values that may be that large (HLC timestamps) are better
 * written as strings. */
void tv_json_i64(tv_json *j, int64_t v);
void tv_json_u64(tv_json *j, uint64_t v);
void tv_json_bool(tv_json *j, bool v);
void tv_json_null(tv_json *j);
/* Writes len bytes as a string of 2*len lowercase hex digits (ids, hashes, keys). */
void tv_json_hex(tv_json *j, const uint8_t *b, size_t len);

/* Ends a JSON Lines record: asserts that no container is open and writes '\n'.
 * Returns 0, or the first error since tv_json_init (TV_EIO, TV_EINVAL). */
int tv_json_line_end(tv_json *j);

/* Returns 0, or the first error since tv_json_init (TV_EIO, TV_EINVAL). */
int tv_json_status(const tv_json *j);

#endif
