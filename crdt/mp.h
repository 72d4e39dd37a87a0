/* Bounded reading of untrusted msgpack.
 *
 * msgpack-c's unpacker believes the counts in length headers: the five bytes
 * dd cd dd cd 24 (an array claiming 3,453,861,156 elements) make it try to allocate
 * about 137 GB. Every decoder in truyvet therefore first walks the bytes with
 * crdt_mp_check, which rejects any array, map, str, bin or ext whose count is larger than
 * the bytes that remain (each element needs at least one byte), and nesting deeper than
 * CRDT_MP_DEPTH_MAX. Only then are the bytes handed to msgpack-c, whose allocation is then
 * at most sizeof(msgpack_object) per input byte. */
#ifndef TV_CRDT_MP_H
#define TV_CRDT_MP_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#define CRDT_MP_DEPTH_MAX 8

/* Walks one msgpack object at the start of buf and stores its encoded size in *size.
 * Returns 0, or TV_EDECODE when the object is truncated, malformed, uses a reserved
 * byte, claims more elements or bytes than remain, or nests too deep. */
int crdt_mp_check(const uint8_t *buf, size_t len, size_t *size) __attribute__((warn_unused_result));

/* Checks, then unpacks, exactly one object that must fill buf[0..len) completely.
 * `u` must have been initialised with msgpack_unpacked_init; the object it yields borrows
 * str and bin bytes from buf, so it lives as long as both buf and u.
 * Returns 0 or TV_EDECODE (also for trailing bytes), or TV_ENOMEM. */
int crdt_mp_unpack_exact(msgpack_unpacked *u, const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));

/* Typed accessors for decoded objects; each returns 0 or TV_EDECODE on a type mismatch. */
int crdt_mp_u64(const msgpack_object *o, uint64_t *out);
int crdt_mp_i64(const msgpack_object *o, int64_t *out);
/* A bin of exactly n bytes; *out borrows the object's bytes. */
int crdt_mp_bin_n(const msgpack_object *o, size_t n, const uint8_t **out);
/* A bin of any length up to max; out and len borrow the object's bytes. */
int crdt_mp_bin(const msgpack_object *o, size_t max, const uint8_t **out, size_t *len);
/* A str of at most max bytes that is valid UTF-8 with no NUL; out and len borrow. */
int crdt_mp_str(const msgpack_object *o, size_t max, const char **out, size_t *len);

/* Returns 1 when s[0..len) is well-formed UTF-8 without NUL bytes, else 0. */
int crdt_utf8_valid(const char *s, size_t len);

/* Returns the length of the well-formed UTF-8 sequence starting s[0..n) (n >= 1) and its
 * code point in *cp, or 0 when the bytes there are not one (overlong forms, surrogates and
 * code points above U+10FFFF are not). */
size_t crdt_utf8_next(const unsigned char *s, size_t n, uint32_t *cp);

#endif
