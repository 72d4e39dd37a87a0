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

/* Walks one object starting at buf[*pos]; advances *pos past it. */
static int walk(const uint8_t *buf, size_t len, size_t *pos, int depth)
{
    if (depth > CRDT_MP_DEPTH_MAX) return TV_EDECODE;
    if (*pos >= len) return TV_EDECODE;
    uint8_t b = buf[(*pos)++];
    size_t left = len - *pos;
    uint64_t n = 0;   /* element count (array/map) or byte count (str/bin/ext) */
    int kind = 0;     /* 0 scalar already consumed, 1 bytes, 2 array, 3 map */
    size_t fixed = 0; /* payload bytes of fixed-size scalars */

    if (b <= 0x7f || b >= 0xe0) return TV_OK; /* fixint */
    if ((b & 0xf0) == 0x80) {
        n = b & 0x0f;
        kind = 3;
    } /* fixmap */
    else if ((b & 0xf0) == 0x90) {
        n = b & 0x0f;
        kind = 2;
    } /* fixarray */
    else if ((b & 0xe0) == 0xa0) {
        n = b & 0x1f;
        kind = 1;
    } /* fixstr */
    else {
        switch (b) {
        case 0xc0:
        case 0xc2:
        case 0xc3:
            return TV_OK; /* nil, false, true */
        case 0xc1:
            return TV_EDECODE; /* never used */
        case 0xc4:
        case 0xd9:
            if (left < 1) return TV_EDECODE;
            n = be(buf + *pos, 1);
            *pos += 1;
            kind = 1;
            break;
        case 0xc5:
        case 0xda:
            if (left < 2) return TV_EDECODE;
            n = be(buf + *pos, 2);
            *pos += 2;
            kind = 1;
            break;
        case 0xc6:
        case 0xdb:
            if (left < 4) return TV_EDECODE;
            n = be(buf + *pos, 4);
            *pos += 4;
            kind = 1;
            break;
        case 0xc7:
            if (left < 2) return TV_EDECODE;
            n = be(buf + *pos, 1) + 1;
            *pos += 1;
            kind = 1;
            break;
        case 0xc8:
            if (left < 3) return TV_EDECODE;
            n = be(buf + *pos, 2) + 1;
            *pos += 2;
            kind = 1;
            break;
        case 0xc9:
            if (left < 5) return TV_EDECODE;
            n = be(buf + *pos, 4) + 1;
            *pos += 4;
            kind = 1;
            break;
        case 0xca:
            fixed = 4;
            break;
        case 0xcb:
            fixed = 8;
            break;
        case 0xcc:
        case 0xd0:
            fixed = 1;
            break;
        case 0xcd:
        case 0xd1:
            fixed = 2;
            break;
        case 0xce:
        case 0xd2:
            fixed = 4;
            break;
        case 0xcf:
        case 0xd3:
            fixed = 8;
            break;
        case 0xd4:
            fixed = 2;
            break;
        case 0xd5:
            fixed = 3;
            break;
        case 0xd6:
            fixed = 5;
            break;
        case 0xd7:
            fixed = 9;
            break;
        case 0xd8:
            fixed = 17;
            break;
        case 0xdc:
            if (left < 2) return TV_EDECODE;
            n = be(buf + *pos, 2);
            *pos += 2;
            kind = 2;
            break;
        case 0xdd:
            if (left < 4) return TV_EDECODE;
            n = be(buf + *pos, 4);
            *pos += 4;
            kind = 2;
            break;
        case 0xde:
            if (left < 2) return TV_EDECODE;
            n = be(buf + *pos, 2);
            *pos += 2;
            kind = 3;
            break;
        case 0xdf:
            if (left < 4) return TV_EDECODE;
            n = be(buf + *pos, 4);
            *pos += 4;
            kind = 3;
            break;
        default:
            return TV_EDECODE;
        }
    }
    if (fixed) {
        if (left < fixed) return TV_EDECODE;
        *pos += fixed;
        return TV_OK;
    }
    left = len - *pos;
    if (kind == 1) {
        if (n > left) return TV_EDECODE;
        *pos += (size_t)n;
        return TV_OK;
    }
    if (kind == 3) n *= 2;
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
