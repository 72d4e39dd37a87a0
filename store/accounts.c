/* The console's accounts and its log: two node-local tables (store.h). An account's record:
 *   version(1) = 1, role(1), disabled(1), failures(4), locked_until_ms(8, biased),
 *   created_ms(8, biased), changed_ms(8, biased), hash length(1), hash
 * A console log entry, under at_ms(8, biased) seq(4):
 *   version(1) = 1, kind(1), then actor, subject, remote and detail, each a length (2)
 *   and its bytes
 * Anything else is refused as TV_ECORRUPT: a record is never half-read. */
#include "crdt/error.h"
#include "store/internal.h"

#include <string.h>

#define ACCOUNT_VERSION 1
#define ACCOUNT_FIXED (1 + 1 + 1 + 4 + 8 + 8 + 8 + 1)
#define CONSOLE_VERSION 1
#define CONSOLE_KEY_BYTES 12
#define CONSOLE_VAL_MAX (2 + 4 * 2 + 3 * STORE_CONSOLE_TEXT_MAX + STORE_CONSOLE_DETAIL_MAX)

/* 1 when name may key an account: 1 to STORE_ACCOUNT_NAME_MAX bytes, no NUL inside. */
static int name_ok(const char *name, size_t *len)
{
    *len = strlen(name);
    return *len > 0 && *len <= STORE_ACCOUNT_NAME_MAX;
}

/* 1 when the hash string is printable ASCII of 1 to STORE_ACCOUNT_HASH_MAX bytes. */
static int hash_ok(const char *h, size_t n)
{
    if (n == 0 || n > STORE_ACCOUNT_HASH_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (h[i] < 0x21 || h[i] > 0x7e) return 0;
    return 1;
}

static int account_decode(const MDB_val *k, const MDB_val *v, store_account *a)
{
    const uint8_t *p = v->mv_data;
    memset(a, 0, sizeof *a);
    if (k->mv_size == 0 || k->mv_size > STORE_ACCOUNT_NAME_MAX ||
        memchr(k->mv_data, '\0', k->mv_size) || v->mv_size < ACCOUNT_FIXED ||
        p[0] != ACCOUNT_VERSION || p[2] > 1)
        return TV_ECORRUPT;
    size_t hlen = p[ACCOUNT_FIXED - 1];
    if (v->mv_size != ACCOUNT_FIXED + hlen || !hash_ok((const char *)p + ACCOUNT_FIXED, hlen))
        return TV_ECORRUPT;
    memcpy(a->name, k->mv_data, k->mv_size);
    a->role = p[1];
    a->disabled = p[2];
    a->failures = store_get32_(p + 3);
    a->locked_until_ms = (int64_t)(store_get64_(p + 7) ^ (1ULL << 63));
    a->created_ms = (int64_t)(store_get64_(p + 15) ^ (1ULL << 63));
    a->changed_ms = (int64_t)(store_get64_(p + 23) ^ (1ULL << 63));
    memcpy(a->hash, p + ACCOUNT_FIXED, hlen);
    return TV_OK;
}

int store_account_get(store_txn *t, const char *name, store_account *a)
{
    size_t n;
    if (!name_ok(name, &n)) return TV_ENOTFOUND;
    if (t->s->absent[T_ACCOUNTS]) return TV_ENOTFOUND;
    MDB_val key = {n, (void *)name}, val;
    int rc = store_get_(t, T_ACCOUNTS, name, n, &val);
    return rc ? rc : account_decode(&key, &val, a);
}

int store_account_put(store_txn *t, const store_account *a)
{
    size_t n, hlen = strnlen(a->hash, sizeof a->hash);
    if (!name_ok(a->name, &n) || !hash_ok(a->hash, hlen) || a->disabled > 1) return TV_EINVAL;
    uint8_t v[ACCOUNT_FIXED + STORE_ACCOUNT_HASH_MAX];
    v[0] = ACCOUNT_VERSION;
    v[1] = a->role;
    v[2] = a->disabled;
    store_be32_(v + 3, a->failures);
    store_be64_(v + 7, store_bias64_(a->locked_until_ms));
    store_be64_(v + 15, store_bias64_(a->created_ms));
    store_be64_(v + 23, store_bias64_(a->changed_ms));
    v[ACCOUNT_FIXED - 1] = (uint8_t)hlen;
    memcpy(v + ACCOUNT_FIXED, a->hash, hlen);
    return store_put_(t, T_ACCOUNTS, a->name, n, v, ACCOUNT_FIXED + hlen);
}

int store_account_del(store_txn *t, const char *name)
{
    size_t n;
    if (!name_ok(name, &n) || t->s->absent[T_ACCOUNTS]) return TV_ENOTFOUND;
    MDB_val key = {n, (void *)name};
    return store_err_(t, mdb_del(t->txn, t->s->dbi[T_ACCOUNTS], &key, NULL));
}

typedef struct account_each {
    store_account_fn fn;
    void *ctx;
} account_each;

static int account_row(const MDB_val *k, const MDB_val *v, void *arg)
{
    account_each *c = arg;
    store_account a;
    int rc = account_decode(k, v, &a);
    return rc ? rc : c->fn(&a, c->ctx);
}

int store_accounts_foreach(store_txn *t, store_account_fn fn, void *ctx)
{
    if (t->s->absent[T_ACCOUNTS]) return TV_OK;
    account_each c = {fn, ctx};
    return store_prefix_foreach_(t, T_ACCOUNTS, NULL, 0, account_row, &c);
}

/* --- the console log ------------------------------------------------------------------ */

static uint8_t *put_text(uint8_t *p, const char *s, size_t n)
{
    p[0] = (uint8_t)(n >> 8);
    p[1] = (uint8_t)n;
    memcpy(p + 2, s, n);
    return p + 2 + n;
}

/* The next text of an entry into out (cap bytes with its NUL); NULL when it does not fit. */
static const uint8_t *get_text(const uint8_t *p, const uint8_t *end, char *out, size_t cap)
{
    if (end - p < 2) return NULL;
    size_t n = (size_t)p[0] << 8 | p[1];
    if (n >= cap || (size_t)(end - p - 2) < n || memchr(p + 2, '\0', n)) return NULL;
    memcpy(out, p + 2, n);
    out[n] = '\0';
    return p + 2 + n;
}

int store_console_append(store_txn *t, store_console_entry *e)
{
    const char *texts[4] = {e->actor, e->subject, e->remote, e->detail};
    size_t lens[4];
    for (int i = 0; i < 4; i++) {
        lens[i] = strnlen(texts[i], i == 3 ? sizeof e->detail : sizeof e->actor);
        if (lens[i] > (i == 3 ? STORE_CONSOLE_DETAIL_MAX : STORE_CONSOLE_TEXT_MAX))
            return TV_EINVAL;
    }
    uint8_t k[CONSOLE_KEY_BYTES], v[CONSOLE_VAL_MAX];
    store_be64_(k, store_bias64_(e->at_ms));
    store_be32_(k + 8, UINT32_MAX);
    MDB_val lk, lv;
    int rc = store_last_at_most_(t, T_CONSOLE, k, sizeof k, 8, &lk, &lv);
    if (rc == TV_OK) {
        if (lk.mv_size != CONSOLE_KEY_BYTES) return TV_ECORRUPT;
        uint32_t last = store_get32_((const uint8_t *)lk.mv_data + 8);
        if (last == UINT32_MAX) return TV_ELIMIT;
        e->seq = last + 1;
    } else if (rc == TV_ENOTFOUND) {
        e->seq = 0;
    } else {
        return rc;
    }
    store_be32_(k + 8, e->seq);
    uint8_t *p = v;
    *p++ = CONSOLE_VERSION;
    *p++ = e->kind;
    for (int i = 0; i < 4; i++)
        p = put_text(p, texts[i], lens[i]);
    return store_put_(t, T_CONSOLE, k, sizeof k, v, (size_t)(p - v));
}

static int console_decode(const MDB_val *k, const MDB_val *v, store_console_entry *e)
{
    const uint8_t *p = v->mv_data, *end = p + v->mv_size;
    memset(e, 0, sizeof *e);
    if (k->mv_size != CONSOLE_KEY_BYTES || v->mv_size < 2 || p[0] != CONSOLE_VERSION)
        return TV_ECORRUPT;
    e->at_ms = (int64_t)(store_get64_(k->mv_data) ^ (1ULL << 63));
    e->seq = store_get32_((const uint8_t *)k->mv_data + 8);
    e->kind = p[1];
    p += 2;
    if (!(p = get_text(p, end, e->actor, sizeof e->actor)) ||
        !(p = get_text(p, end, e->subject, sizeof e->subject)) ||
        !(p = get_text(p, end, e->remote, sizeof e->remote)) ||
        !(p = get_text(p, end, e->detail, sizeof e->detail)) || p != end)
        return TV_ECORRUPT;
    return TV_OK;
}

int store_console_foreach(store_txn *t, int64_t since_ms, store_console_fn fn, void *ctx)
{
    if (t->s->absent[T_CONSOLE]) return TV_OK;
    uint8_t k[CONSOLE_KEY_BYTES];
    store_be64_(k, store_bias64_(since_ms));
    store_be32_(k + 8, 0);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(t->txn, t->s->dbi[T_CONSOLE], &cur);
    if (rc) return store_err_(t, rc);
    MDB_val key = {sizeof k, k}, val;
    int out = TV_OK;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        store_console_entry e;
        out = console_decode(&key, &val, &e);
        if (out == TV_OK) out = fn(&e, ctx);
        if (out) break;
    }
    mdb_cursor_close(cur);
    if (out == TV_OK && rc != MDB_NOTFOUND) out = store_err_(t, rc);
    return out;
}
