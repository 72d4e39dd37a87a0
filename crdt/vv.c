/* Version vectors: sorted per-origin frontiers, their merge, delta and msgpack form. */
#include "crdt/vv.h"
#include "crdt/assert.h"
#include "crdt/error.h"
#include "crdt/mp.h"

#include <msgpack.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

/* Capacity of the first allocation; vectors usually hold a handful of origins. */
#define VV_CAP_MIN 8

/* Sizes are computed as count * sizeof(entry); the bound keeps that far from SIZE_MAX. */
_Static_assert((uint64_t)CRDT_VV_ORIGINS_MAX * sizeof(crdt_vv_entry) < (uint64_t)1 << 31,
               "a full vector fits comfortably in memory and in size_t");

static int origin_cmp(const uint8_t a[TV_NODE_ID_BYTES], const uint8_t b[TV_NODE_ID_BYTES])
{
    return memcmp(a, b, TV_NODE_ID_BYTES);
}

#if TV_ASSERT_ON
/* Checks the invariants every vector keeps: sorted, no duplicates, no zero seqs, bounded.
 * Used only in assertions, before encoding and after merges and decoding. */
static int vv_valid(const crdt_vv *v)
{
    if (v->len > v->cap || v->len > CRDT_VV_ORIGINS_MAX) return 0;
    if (v->len > 0 && !v->entries) return 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->entries[i].seq == 0) return 0;
        if (i > 0 && origin_cmp(v->entries[i - 1].origin, v->entries[i].origin) >= 0) return 0;
    }
    return 1;
}
#endif

/* Binary search: returns the index of origin, or where it would be inserted; *found says
 * which. */
static size_t vv_find(const crdt_vv *v, const uint8_t origin[TV_NODE_ID_BYTES], int *found)
{
    size_t lo = 0, hi = v->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = origin_cmp(v->entries[mid].origin, origin);
        if (cmp == 0) {
            *found = 1;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

/* Makes room for at least need entries, growing geometrically up to CRDT_VV_ORIGINS_MAX.
 * On failure v is unchanged. */
static int vv_reserve(crdt_vv *v, size_t need)
{
    if (need > CRDT_VV_ORIGINS_MAX) return TV_ELIMIT;
    if (need <= v->cap) return TV_OK;
    size_t cap = v->cap < VV_CAP_MIN ? VV_CAP_MIN : v->cap * 2;
    if (cap < need) cap = need;
    if (cap > CRDT_VV_ORIGINS_MAX) cap = CRDT_VV_ORIGINS_MAX;
    crdt_vv_entry *e = realloc(v->entries, cap * sizeof(*e));
    if (!e) return TV_ENOMEM;
    v->entries = e;
    v->cap = cap;
    return TV_OK;
}

void crdt_vv_init(crdt_vv *v)
{
    v->entries = NULL;
    v->len = 0;
    v->cap = 0;
}

void crdt_vv_release(crdt_vv *v)
{
    free(v->entries);
    crdt_vv_init(v);
}

const crdt_vv_entry *crdt_vv_get(const crdt_vv *v, const uint8_t origin[TV_NODE_ID_BYTES])
{
    int found;
    size_t i = vv_find(v, origin, &found);
    return found ? &v->entries[i] : NULL;
}

int crdt_vv_advance(crdt_vv *v, const uint8_t origin[TV_NODE_ID_BYTES], uint64_t seq,
                    const uint8_t hash[TV_HASH_BYTES])
{
    TV_ASSERT(origin && hash);
    int found = 0;
    /* vectors are mostly filled in origin order (from the store's frontier table): after
     * the last entry is the common place, found without a search */
    size_t i = v->len;
    if (v->len && origin_cmp(v->entries[v->len - 1].origin, origin) >= 0)
        i = vv_find(v, origin, &found);
    if (found) {
        if (seq > v->entries[i].seq) {
            v->entries[i].seq = seq;
            memcpy(v->entries[i].hash, hash, TV_HASH_BYTES);
        }
        TV_ASSERT(v->entries[i].seq >= seq); /* a frontier never goes backwards */
        return TV_OK;
    }
    /* An absent origin holds seq 0, so seq 0 is never greater and never stored. */
    if (seq == 0) return TV_OK;
    int rc = vv_reserve(v, v->len + 1);
    if (rc) return rc;
    memmove(&v->entries[i + 1], &v->entries[i], (v->len - i) * sizeof(v->entries[0]));
    memcpy(v->entries[i].origin, origin, TV_NODE_ID_BYTES);
    v->entries[i].seq = seq;
    memcpy(v->entries[i].hash, hash, TV_HASH_BYTES);
    v->len++;
    /* Only the neighbours can be out of order; a full check here would make filling a
     * vector quadratic in builds with assertions. */
    TV_ASSERT(i == 0 || origin_cmp(v->entries[i - 1].origin, origin) < 0);
    TV_ASSERT(i + 1 == v->len || origin_cmp(origin, v->entries[i + 1].origin) < 0);
    return TV_OK;
}

/* Counts the distinct origins of two sorted vectors. */
static size_t vv_union_len(const crdt_vv *a, const crdt_vv *b)
{
    size_t i = 0, j = 0, n = 0;
    while (i < a->len && j < b->len) {
        int cmp = origin_cmp(a->entries[i].origin, b->entries[j].origin);
        i += cmp <= 0;
        j += cmp >= 0;
        n++;
    }
    return n + (a->len - i) + (b->len - j);
}

/* Merges in place from the back, as in merging two sorted arrays into the larger one:
 * one pass, no temporary array, and dst is unchanged when the limit or memory fails. */
int crdt_vv_merge(crdt_vv *dst, const crdt_vv *src)
{
    TV_ASSERT(vv_valid(dst) && vv_valid(src));
    if (dst == src || src->len == 0) return TV_OK;
    size_t n = vv_union_len(dst, src);
    int rc = vv_reserve(dst, n);
    if (rc) return rc;

    size_t i = dst->len, j = src->len, k = n;
    while (j > 0) {
        const crdt_vv_entry *s = &src->entries[j - 1];
        int cmp = i > 0 ? origin_cmp(dst->entries[i - 1].origin, s->origin) : -1;
        if (cmp > 0) {
            dst->entries[--k] = dst->entries[--i];
        } else if (cmp < 0) {
            dst->entries[--k] = *s;
            j--;
        } else {
            dst->entries[--k] = s->seq > dst->entries[i - 1].seq ? *s : dst->entries[i - 1];
            i--;
            j--;
        }
    }
    /* Once src is used up, dst's remaining prefix is already in place. */
    TV_ASSERT(k == i);
    dst->len = n;
    TV_ASSERT(vv_valid(dst));
    return TV_OK;
}

/* By origin, then by seq from the greatest: the first of a run of one origin is kept. */
static int entry_cmp(const void *a, const void *b)
{
    const crdt_vv_entry *x = a, *y = b;
    int cmp = origin_cmp(x->origin, y->origin);
    if (cmp) return cmp;
    return x->seq > y->seq ? -1 : x->seq < y->seq;
}

int crdt_vv_advance_all(crdt_vv *v, crdt_vv_entry *e, size_t n)
{
    TV_ASSERT(n == 0 || e);
    if (n == 0) return TV_OK;
    qsort(e, n, sizeof *e, entry_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].seq == 0) continue;
        if (k > 0 && origin_cmp(e[k - 1].origin, e[i].origin) == 0) continue;
        e[k++] = e[i];
    }
    crdt_vv src = {e, k, n};
    return crdt_vv_merge(v, &src);
}

int crdt_vv_delta(crdt_vv *out, const crdt_vv *cur, const crdt_vv *base)
{
    TV_ASSERT(out != cur && out != base);
    TV_ASSERT(vv_valid(cur) && vv_valid(base));
    out->len = 0;
    /* Both inputs are sorted, so one walk finds what cur holds beyond base. Sizing for
     * the worst case (all of cur) keeps the loop free of allocation failures. */
    int rc = vv_reserve(out, cur->len);
    if (rc) return rc;
    size_t j = 0;
    for (size_t i = 0; i < cur->len; i++) {
        const crdt_vv_entry *e = &cur->entries[i];
        while (j < base->len && origin_cmp(base->entries[j].origin, e->origin) < 0)
            j++;
        if (j < base->len && origin_cmp(base->entries[j].origin, e->origin) == 0 &&
            base->entries[j].seq >= e->seq)
            continue;
        out->entries[out->len++] = *e;
    }
    TV_ASSERT(vv_valid(out));
    return TV_OK;
}

int crdt_vv_encode(const crdt_vv *v, uint8_t **out, size_t *out_len)
{
    TV_ASSERT(vv_valid(v));
    *out = NULL;
    *out_len = 0;

    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);

    /* The packer only fails when the buffer cannot grow. */
    int err = msgpack_pack_array(&pk, v->len);
    for (size_t i = 0; i < v->len && !err; i++) {
        const crdt_vv_entry *e = &v->entries[i];
        err = msgpack_pack_array(&pk, 3) || msgpack_pack_bin(&pk, TV_NODE_ID_BYTES) ||
              msgpack_pack_bin_body(&pk, e->origin, TV_NODE_ID_BYTES) ||
              msgpack_pack_uint64(&pk, e->seq) || msgpack_pack_bin(&pk, TV_HASH_BYTES) ||
              msgpack_pack_bin_body(&pk, e->hash, TV_HASH_BYTES);
    }
    if (err) {
        msgpack_sbuffer_destroy(&sb);
        return TV_ENOMEM;
    }

    size_t len = sb.size;
    uint8_t *data = (uint8_t *)msgpack_sbuffer_release(&sb);
    /* The buffer starts at 8 KiB; hand back only what is used. A failed shrink keeps the
     * larger block, which is still correct. */
    uint8_t *fit = realloc(data, len);
    *out = fit ? fit : data;
    *out_len = len;
    return TV_OK;
}

/* Reads one [origin, seq, hash] entry; the caller checks order against the previous one. */
static int vv_entry_decode(const msgpack_object *o, crdt_vv_entry *e)
{
    const uint8_t *origin, *hash;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3) return TV_EDECODE;
    const msgpack_object *f = o->via.array.ptr;
    if (crdt_mp_bin_n(&f[0], TV_NODE_ID_BYTES, &origin) || crdt_mp_u64(&f[1], &e->seq) ||
        crdt_mp_bin_n(&f[2], TV_HASH_BYTES, &hash))
        return TV_EDECODE;
    if (e->seq == 0) return TV_EDECODE;
    memcpy(e->origin, origin, TV_NODE_ID_BYTES);
    memcpy(e->hash, hash, TV_HASH_BYTES);
    return TV_OK;
}

int crdt_vv_decode(crdt_vv *v, const uint8_t *buf, size_t len)
{
    crdt_vv_release(v);

    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    /* crdt_mp_unpack_exact refuses counts larger than the bytes that remain before
     * msgpack-c allocates anything, so a header claiming 2^32-1 entries fails here. */
    int rc = crdt_mp_unpack_exact(&u, buf, len);
    if (rc) goto out;

    const msgpack_object *root = &u.data;
    if (root->type != MSGPACK_OBJECT_ARRAY) {
        rc = TV_EDECODE;
        goto out;
    }
    size_t n = root->via.array.size;
    rc = vv_reserve(v, n);
    if (rc) goto out;
    for (size_t i = 0; i < n; i++) {
        crdt_vv_entry *e = &v->entries[i];
        rc = vv_entry_decode(&root->via.array.ptr[i], e);
        if (rc) goto out;
        /* Strictly increasing origins: sorted, and no origin twice. */
        if (i > 0 && origin_cmp(v->entries[i - 1].origin, e->origin) >= 0) {
            rc = TV_EDECODE;
            goto out;
        }
        v->len = i + 1;
    }
    TV_ASSERT(vv_valid(v));

out:
    msgpack_unpacked_destroy(&u);
    if (rc) crdt_vv_release(v);
    return rc;
}

void crdt_vv_digest(const crdt_vv *v, uint8_t out[CRDT_VV_DIGEST_BYTES])
{
    /* the hash of origin || seq (big-endian) || hash of each entry in order, fed in blocks:
     * at a province the vector has an entry per node, and three tiny updates an entry cost
     * more than the hashing itself */
    enum { ENTRY = TV_NODE_ID_BYTES + 8 + TV_HASH_BYTES, PER_BLOCK = 64 };
    uint8_t buf[ENTRY * PER_BLOCK];
    size_t used = 0;
    crypto_generichash_state st;
    crypto_generichash_init(&st, (const uint8_t *)"truyvet/vv/v1", 13, CRDT_VV_DIGEST_BYTES);
    for (size_t i = 0; i < v->len; i++) {
        uint8_t *e = buf + used;
        memcpy(e, v->entries[i].origin, TV_NODE_ID_BYTES);
        for (int k = 0; k < 8; k++)
            e[TV_NODE_ID_BYTES + k] = (uint8_t)(v->entries[i].seq >> (56 - 8 * k));
        memcpy(e + TV_NODE_ID_BYTES + 8, v->entries[i].hash, TV_HASH_BYTES);
        used += ENTRY;
        if (used == sizeof buf) {
            crypto_generichash_update(&st, buf, used);
            used = 0;
        }
    }
    if (used) crypto_generichash_update(&st, buf, used);
    crypto_generichash_final(&st, out, CRDT_VV_DIGEST_BYTES);
}
