/* Bounded msgpack walking and typed accessors (see mp.h for why). */
#include "crdt/mp.h"
#include "crdt/error.h"

#include <string.h>

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* What a msgpack type byte from 0xc0 to 0xdf announces (the fix* ranges below 0xc0 and the
 * negative fixints above 0xdf carry their size in the byte itself). */
enum mp_kind {
    MP_BAD = 0, /* never used (0xc1) */
    MP_NONE,    /* nil, false, true: nothing follows */
    MP_FIXED,   /* a scalar of `size` bytes */
    MP_BYTES,   /* a `size`-byte big-endian length, then (`ext`: a type byte and) the bytes */
    MP_ARRAY,   /* a `size`-byte big-endian count, then that many objects */
    MP_MAP,     /* a `size`-byte big-endian count, then twice that many objects */
};

typedef struct mp_head {
    uint8_t kind; /* enum mp_kind */
    uint8_t size;
    uint8_t ext;
} mp_head;

#define MP_HEAD(b) [(b)-0xc0]
static const mp_head mp_heads[32] = {
    MP_HEAD(0xc0) = {MP_NONE, 0, 0},   /* nil */
    MP_HEAD(0xc2) = {MP_NONE, 0, 0},   /* false */
    MP_HEAD(0xc3) = {MP_NONE, 0, 0},   /* true */
    MP_HEAD(0xc4) = {MP_BYTES, 1, 0},  /* bin 8 */
    MP_HEAD(0xc5) = {MP_BYTES, 2, 0},  /* bin 16 */
    MP_HEAD(0xc6) = {MP_BYTES, 4, 0},  /* bin 32 */
    MP_HEAD(0xc7) = {MP_BYTES, 1, 1},  /* ext 8 */
    MP_HEAD(0xc8) = {MP_BYTES, 2, 1},  /* ext 16 */
    MP_HEAD(0xc9) = {MP_BYTES, 4, 1},  /* ext 32 */
    MP_HEAD(0xca) = {MP_FIXED, 4, 0},  /* float 32 */
    MP_HEAD(0xcb) = {MP_FIXED, 8, 0},  /* float 64 */
    MP_HEAD(0xcc) = {MP_FIXED, 1, 0},  /* uint 8 */
    MP_HEAD(0xcd) = {MP_FIXED, 2, 0},  /* uint 16 */
    MP_HEAD(0xce) = {MP_FIXED, 4, 0},  /* uint 32 */
    MP_HEAD(0xcf) = {MP_FIXED, 8, 0},  /* uint 64 */
    MP_HEAD(0xd0) = {MP_FIXED, 1, 0},  /* int 8 */
    MP_HEAD(0xd1) = {MP_FIXED, 2, 0},  /* int 16 */
    MP_HEAD(0xd2) = {MP_FIXED, 4, 0},  /* int 32 */
    MP_HEAD(0xd3) = {MP_FIXED, 8, 0},  /* int 64 */
    MP_HEAD(0xd4) = {MP_FIXED, 2, 0},  /* fixext 1 (type and data) */
    MP_HEAD(0xd5) = {MP_FIXED, 3, 0},  /* fixext 2 */
    MP_HEAD(0xd6) = {MP_FIXED, 5, 0},  /* fixext 4 */
    MP_HEAD(0xd7) = {MP_FIXED, 9, 0},  /* fixext 8 */
    MP_HEAD(0xd8) = {MP_FIXED, 17, 0}, /* fixext 16 */
    MP_HEAD(0xd9) = {MP_BYTES, 1, 0},  /* str 8 */
    MP_HEAD(0xda) = {MP_BYTES, 2, 0},  /* str 16 */
    MP_HEAD(0xdb) = {MP_BYTES, 4, 0},  /* str 32 */
    MP_HEAD(0xdc) = {MP_ARRAY, 2, 0},  /* array 16 */
    MP_HEAD(0xdd) = {MP_ARRAY, 4, 0},  /* array 32 */
    MP_HEAD(0xde) = {MP_MAP, 2, 0},    /* map 16 */
    MP_HEAD(0xdf) = {MP_MAP, 4, 0},    /* map 32 */
};
#undef MP_HEAD

/* Walks one object starting at buf[*pos]; advances *pos past it. */
static int walk(const uint8_t *buf, size_t len, size_t *pos, int depth)
{
    if (depth > CRDT_MP_DEPTH_MAX) return TV_EDECODE;
    if (*pos >= len) return TV_EDECODE;
    uint8_t b = buf[(*pos)++];
    size_t left = len - *pos;
    uint64_t n; /* element count (array/map) or byte count (str/bin/ext) */
    int kind;

    if (b <= 0x7f || b >= 0xe0) return TV_OK; /* fixint */
    if ((b & 0xf0) == 0x80) {                 /* fixmap */
        n = b & 0x0f;
        kind = MP_MAP;
    } else if ((b & 0xf0) == 0x90) { /* fixarray */
        n = b & 0x0f;
        kind = MP_ARRAY;
    } else if ((b & 0xe0) == 0xa0) { /* fixstr */
        n = b & 0x1f;
        kind = MP_BYTES;
    } else {
        const mp_head *h = &mp_heads[b - 0xc0];
        if (h->kind == MP_BAD) return TV_EDECODE;
        if (h->kind == MP_NONE) return TV_OK;
        if (h->kind == MP_FIXED) {
            if (left < h->size) return TV_EDECODE;
            *pos += h->size;
            return TV_OK;
        }
        if (left < (size_t)h->size + h->ext) return TV_EDECODE;
        n = be(buf + *pos, h->size) + h->ext;
        *pos += h->size;
        kind = h->kind;
    }
    left = len - *pos;
    if (kind == MP_BYTES) {
        if (n > left) return TV_EDECODE;
        *pos += (size_t)n;
        return TV_OK;
    }
    if (kind == MP_MAP) n *= 2;
    if (n > left) return TV_EDECODE; /* every element takes at least one byte */
    for (uint64_t i = 0; i < n; i++) {
        int rc = walk(buf, len, pos, depth + 1);
        if (rc) return rc;
    }
    return TV_OK;
}

int crdt_mp_check(const uint8_t *buf, size_t len, size_t *size)
{
    size_t pos = 0;
    int rc = walk(buf, len, &pos, 0);
    *size = rc ? 0 : pos;
    return rc;
}

int crdt_mp_unpack_exact(msgpack_unpacked *u, const uint8_t *buf, size_t len)
{
    size_t size, off = 0;
    if (crdt_mp_check(buf, len, &size) || size != len) return TV_EDECODE;
    msgpack_unpack_return r = msgpack_unpack_next(u, (const char *)buf, len, &off);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR) return TV_ENOMEM;
    if (r != MSGPACK_UNPACK_SUCCESS || off != len) return TV_EDECODE;
    return TV_OK;
}

int crdt_mp_u64(const msgpack_object *o, uint64_t *out)
{
    if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER) return TV_EDECODE;
    *out = o->via.u64;
    return TV_OK;
}

int crdt_mp_i64(const msgpack_object *o, int64_t *out)
{
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *out = o->via.i64;
        return TV_OK;
    }
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX) {
        *out = (int64_t)o->via.u64;
        return TV_OK;
    }
    return TV_EDECODE;
}

int crdt_mp_bin(const msgpack_object *o, size_t max, const uint8_t **out, size_t *len)
{
    if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size > max) return TV_EDECODE;
    *out = (const uint8_t *)o->via.bin.ptr;
    *len = o->via.bin.size;
    return TV_OK;
}

int crdt_mp_bin_n(const msgpack_object *o, size_t n, const uint8_t **out)
{
    size_t len;
    if (crdt_mp_bin(o, n, out, &len) || len != n) return TV_EDECODE;
    return TV_OK;
}

int crdt_mp_str(const msgpack_object *o, size_t max, const char **out, size_t *len)
{
    if (o->type != MSGPACK_OBJECT_STR || o->via.str.size > max) return TV_EDECODE;
    if (!crdt_utf8_valid(o->via.str.ptr, o->via.str.size)) return TV_EDECODE;
    *out = o->via.str.ptr;
    *len = o->via.str.size;
    return TV_OK;
}

int crdt_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t k = crdt_utf8_next(s + i, len - i, &cp);
        if (k == 0 || cp == 0) return 0;
        i += k;
    }
    return 1;
}

size_t crdt_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t k;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xe0) == 0xc0) {
        k = 2;
        v = c & 0x1f;
        min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        k = 3;
        v = c & 0x0f;
        min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        k = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    if (n < k) return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return k;
}
