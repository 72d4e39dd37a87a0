/* Enrolment: the root's certificate, request and certificate files, issuing, accepting and
 * revoking certificates. */
#include "node/logic/enroll.h"
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/logic/pmap.h"
#include "node/logic/reseal.h"
#include "node/format/timefmt.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)
#define SHORT_HEX 16 /* hex digits of a node id in messages, as in event ids */

_Static_assert(TV_ENROLL_SEALED_KEY_BYTES == crypto_box_SEALBYTES + TV_TRACING_KEY_BYTES,
               "a sealed tracing key");
/* Line lengths, line ends included: "key: " + value + LF. */
#define LINE_ID (6 + 2 * TV_NODE_ID_BYTES + 1)                /* node:, root: */
#define LINE_MS (8 + 19 + 1)                                  /* issued:, created: */
#define LINE_SIG (11 + 2 * TV_SIG_BYTES + 1)                  /* signature: */
#define LINE_SEALED (13 + 2 * TV_ENROLL_SEALED_KEY_BYTES + 1) /* tracing-key: */
_Static_assert(sizeof TV_ENROLL_CERT_MAGIC + 3 * (LINE_ID + 2) + LINE_MS + 12 + LINE_SEALED +
                       LINE_SIG <=
                   640,
               "the fixed lines of a certificate file fit its size limit");
_Static_assert(6 + 2 * CRDT_CERT_BYTES_MAX + 1 <= 8 + 2 * CRDT_CERT_BYTES_MAX,
               "a cert: line fits its share of the size limit");
_Static_assert(sizeof TV_ENROLL_REQUEST_MAGIC + LINE_ID + 16 + 7 + TV_UNIT_CODE_MAX + 7 +
                       TV_NODE_NAME_MAX + LINE_MS + LINE_SIG <=
                   TV_ENROLL_REQUEST_BYTES_MAX,
               "the longest request fits its size limit");

static void say(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(char *why, const char *fmt, ...)
{
    if (!why) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, TV_ENROLL_WHY_MAX, fmt, ap);
    va_end(ap);
}

/* The first SHORT_HEX hex digits of a node id, for messages. */
static void short_hex(char out[SHORT_HEX + 1], const uint8_t id[TV_NODE_ID_BYTES])
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, id, TV_NODE_ID_BYTES);
    memcpy(out, hex, SHORT_HEX);
    out[SHORT_HEX] = '\0';
}

void tv_enroll_scope_format(char *out, size_t cap, const crdt_cert *c)
{
    size_t used = 0;
    if (cap) out[0] = '\0';
    for (uint32_t i = 0; i < c->scope_len && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? "," : "", c->scope[i]);
        if (w < 0) break;
        used += (size_t)w;
    }
}

/* --- text building ------------------------------------------------------------------ */

/* A bounded text buffer; `over` records that something did not fit. */
typedef struct text {
    char *p;
    size_t len, cap;
    int over;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...)
{
    if (t->over) return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= t->cap - t->len)
        t->over = 1;
    else
        t->len += (size_t)w;
}

/* Appends "key: HEX\n". */
static void put_hex(text *t, const char *key, const uint8_t *b, size_t n)
{
    put(t, "%s: ", key);
    if (t->over || t->len + 2 * n + 2 > t->cap) {
        t->over = 1;
        return;
    }
    tv_hex_encode(t->p + t->len, b, n);
    t->len += 2 * n;
    put(t, "\n");
}

static int sign_text(uint8_t sig[TV_SIG_BYTES], const char *context, const char *body, size_t len,
                     const uint8_t sk[TV_SECRET_KEY_BYTES])
{
    return crdt_sign(sig, context, (const uint8_t *)body, len, sk);
}

static int verify_text(const uint8_t sig[TV_SIG_BYTES], const char *context, const char *body,
                       size_t len, const uint8_t pk[TV_NODE_ID_BYTES])
{
    return crdt_verify(sig, context, (const uint8_t *)body, len, pk);
}

/* --- text parsing ------------------------------------------------------------------- */

typedef struct lines {
    const char *p, *end;
    int no; /* number of the line last read, from 1 */
} lines;

/* Reads the next line, without its LF or CRLF. Returns 1, or 0 at the end of the text. */
static int line_next(lines *l, const char **s, size_t *n)
{
    if (l->p >= l->end) return 0;
    const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
    const char *e = nl ? nl : l->end;
    *s = l->p;
    *n = (size_t)(e - l->p);
    if (*n && (*s)[*n - 1] == '\r') (*n)--;
    l->p = nl ? nl + 1 : l->end;
    l->no++;
    return 1;
}

/* Returns 1 when the next line starts with "key:" (without reading it). */
static int line_has_key(const lines *l, const char *key)
{
    size_t kl = strlen(key);
    return (size_t)(l->end - l->p) > kl && memcmp(l->p, key, kl) == 0 && l->p[kl] == ':';
}

/* Reads the next line as "key: value" ("key:" alone for an empty value). */
static int field(lines *l, const char *key, const char **v, size_t *vn, char *why)
{
    const char *s;
    size_t n, kl = strlen(key);
    if (!line_next(l, &s, &n)) {
        say(why, "the file ends before its '%s:' line", key);
        return TV_EDECODE;
    }
    if (n < kl + 1 || memcmp(s, key, kl) != 0 || s[kl] != ':' || (n > kl + 1 && s[kl + 1] != ' ')) {
        say(why, "line %d should be '%s: ...'", l->no, key);
        return TV_EDECODE;
    }
    *v = n > kl + 1 ? s + kl + 2 : s + n;
    *vn = n > kl + 1 ? n - kl - 2 : 0;
    return TV_OK;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1; /* upper case too: the files are written in lower case, and read exactly */
}

/* Decodes vn lowercase hex digits into out (at most cap bytes); *n gets the byte count. */
static int hex_value(const char *v, size_t vn, uint8_t *out, size_t cap, size_t *n)
{
    if (vn % 2 || vn / 2 > cap) return TV_EDECODE;
    for (size_t i = 0; i < vn / 2; i++) {
        int hi = hex_digit(v[2 * i]), lo = hex_digit(v[2 * i + 1]);
        if (hi < 0 || lo < 0) return TV_EDECODE;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *n = vn / 2;
    return TV_OK;
}

static int hex_field(lines *l, const char *key, uint8_t *out, size_t want, char *why)
{
    const char *v;
    size_t vn, n;
    int rc = field(l, key, &v, &vn, why);
    if (rc) return rc;
    if (hex_value(v, vn, out, want, &n) || n != want) {
        say(why, "line %d: '%s' should be %zu lowercase hex digits", l->no, key, 2 * want);
        return TV_EDECODE;
    }
    return TV_OK;
}

/* A decimal count of ms: digits only, no sign, no leading zero, within int64_t. */
static int ms_field(lines *l, const char *key, int64_t *out, char *why)
{
    const char *v;
    size_t vn;
    int rc = field(l, key, &v, &vn, why);
    if (rc) return rc;
    uint64_t x = 0;
    int ok = vn >= 1 && vn <= 19 && !(vn > 1 && v[0] == '0');
    for (size_t i = 0; ok && i < vn; i++) {
        ok = v[i] >= '0' && v[i] <= '9';
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    if (!ok || x > (uint64_t)INT64_MAX) {
        say(why, "line %d: '%s' should be a time in milliseconds", l->no, key);
        return TV_EDECODE;
    }
    *out = (int64_t)x;
    return TV_OK;
}

/* Copies a text field into out (cap bytes with the NUL) if it is 1..cap-1 bytes of UTF-8
 * without control characters (min 0 allows an empty value). */
static int text_value(const char *v, size_t vn, size_t min, char *out, size_t cap)
{
    if (vn < min || vn >= cap || !crdt_utf8_valid(v, vn)) return TV_EDECODE;
    for (size_t i = 0; i < vn; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) return TV_EDECODE;
    memcpy(out, v, vn);
    out[vn] = '\0';
    return TV_OK;
}

static int at_end(lines *l, char *why)
{
    const char *s;
    size_t n;
    while (line_next(l, &s, &n))
        if (n) {
            say(why, "line %d: nothing should follow the signature", l->no);
            return TV_EDECODE;
        }
    return TV_OK;
}

static int magic_line(lines *l, const char *magic, const char *prefix, char *why)
{
    const char *s;
    size_t n;
    if (!line_next(l, &s, &n)) {
        say(why, "the file is empty");
        return TV_EDECODE;
    }
    if (n == strlen(magic) && memcmp(s, magic, n) == 0) return TV_OK;
    if (n > strlen(prefix) && memcmp(s, prefix, strlen(prefix)) == 0) {
        say(why, "it is '%.*s', a version this truyvet does not read; upgrade truyvet",
            (int)(n > 60 ? 60 : n), s);
        return TV_EVERSION;
    }
    say(why, "its first line is not '%s'", magic);
    return TV_EDECODE;
}

/* --- requests ----------------------------------------------------------------------- */

/* Writes the signed part of a request: every line before "signature:". */
static void request_body(text *t, const tv_enroll_request *r)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, r->node_id, TV_NODE_ID_BYTES);
    put(t, "%s\nnode: %s\nrole: %s\nunit: %s\nname: %s\ncreated: %" PRId64 "\n",
        TV_ENROLL_REQUEST_MAGIC, hex, tv_role_name(r->role), r->unit, r->name, r->created_ms);
}

static int request_verify(const tv_enroll_request *r)
{
    char buf[TV_ENROLL_REQUEST_BYTES_MAX];
    text t = {.p = buf, .cap = sizeof buf};
    request_body(&t, r);
    if (t.over) return TV_ELIMIT;
    return verify_text(r->sig, TV_ENROLL_REQUEST_SIGN_CONTEXT, buf, t.len, r->node_id);
}

int tv_enroll_request_make(tv_node *n, tv_enroll_request *r)
{
    memset(r, 0, sizeof *r);
    char created[24];
    size_t len;
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_meta_get(t, "created_ms", created, sizeof created - 1, &len);
    store_read_end(t);
    if (rc) return rc == TV_ENOTFOUND || rc == TV_ELIMIT ? TV_ECORRUPT : rc;
    created[len] = '\0';
    memcpy(r->node_id, n->id.pk, TV_NODE_ID_BYTES);
    r->role = n->role;
    strcpy(r->unit, n->unit);
    strcpy(r->name, n->name);
    for (char *p = r->name; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
    r->created_ms = strtoll(created, NULL, 10);
    char buf[TV_ENROLL_REQUEST_BYTES_MAX];
    text b = {.p = buf, .cap = sizeof buf};
    request_body(&b, r);
    if (b.over) return TV_ELIMIT;
    return sign_text(r->sig, TV_ENROLL_REQUEST_SIGN_CONTEXT, buf, b.len, n->id.sk);
}

int tv_enroll_request_format(const tv_enroll_request *r, char *out, size_t cap)
{
    text t = {.p = out, .cap = cap};
    request_body(&t, r);
    put_hex(&t, "signature", r->sig, TV_SIG_BYTES);
    return t.over ? TV_ELIMIT : (int)t.len;
}

int tv_enroll_request_parse(tv_enroll_request *r, const char *s, size_t len, char *why)
{
    memset(r, 0, sizeof *r);
    lines l = {.p = s, .end = s + len};
    const char *v;
    size_t vn;
    char role[16];
    int rc;
    if ((rc = magic_line(&l, TV_ENROLL_REQUEST_MAGIC, "truyvet-enroll-request-", why)) ||
        (rc = hex_field(&l, "node", r->node_id, TV_NODE_ID_BYTES, why)))
        goto fail;
    if ((rc = field(&l, "role", &v, &vn, why))) goto fail;
    rc = TV_EDECODE;
    if (text_value(v, vn, 1, role, sizeof role) || !(r->role = tv_role_parse(role))) {
        say(why, "line %d: the role is not commune, district or province", l.no);
        goto fail;
    }
    if ((rc = field(&l, "unit", &v, &vn, why))) goto fail;
    rc = TV_EDECODE;
    if (text_value(v, vn, 1, r->unit, sizeof r->unit) ||
        !tv_unit_valid_for_role(r->role, r->unit)) {
        say(why, "line %d: not the unit code of a %s", l.no, tv_role_name(r->role));
        goto fail;
    }
    if ((rc = field(&l, "name", &v, &vn, why))) goto fail;
    rc = TV_EDECODE;
    if (text_value(v, vn, 1, r->name, sizeof r->name)) {
        say(why, "line %d: the name is empty, too long or not UTF-8 text", l.no);
        goto fail;
    }
    if ((rc = ms_field(&l, "created", &r->created_ms, why)) ||
        (rc = hex_field(&l, "signature", r->sig, TV_SIG_BYTES, why)) || (rc = at_end(&l, why)))
        goto fail;
    if ((rc = request_verify(r))) {
        if (rc == TV_ESIG)
            say(why, "its signature does not match its content: the file was changed or "
                     "damaged after the node wrote it");
        goto fail;
    }
    return TV_OK;
fail:
    memset(r, 0, sizeof *r);
    return rc;
}

/* --- certificate files -------------------------------------------------------------- */

/* Writes the signed part of a certificate file: every line before "signature:". */
static void cert_file_body(text *t, const tv_enroll_cert_file *f)
{
    put(t, "%s\n", TV_ENROLL_CERT_MAGIC);
    put_hex(t, "node", f->node_id, TV_NODE_ID_BYTES);
    put_hex(t, "root", f->root, TV_NODE_ID_BYTES);
    put_hex(t, "issuer", f->issuer, TV_NODE_ID_BYTES);
    put(t, "issued: %" PRId64 "\n", f->issued_ms);
    put(t, f->endpoints[0] ? "endpoints: %s\n" : "endpoints:%s\n", f->endpoints);
    for (uint32_t i = 0; i < f->chain_len; i++)
        put_hex(t, "cert", f->cert[i], f->cert_len[i]);
    if (f->has_key)
        put_hex(t, "tracing-key", f->sealed_key, sizeof f->sealed_key);
    else
        put(t, "tracing-key:\n"); /* the issuer holds no key for the subject */
}

static int cert_file_verify(const tv_enroll_cert_file *f)
{
    char *buf = malloc(TV_ENROLL_CERT_FILE_BYTES_MAX);
    if (!buf) return TV_ENOMEM;
    text t = {.p = buf, .cap = TV_ENROLL_CERT_FILE_BYTES_MAX};
    cert_file_body(&t, f);
    int rc = t.over ? TV_ELIMIT
                    : verify_text(f->sig, TV_ENROLL_CERT_SIGN_CONTEXT, buf, t.len, f->issuer);
    free(buf);
    return rc;
}

/* Checks the chain of a parsed file (see tv_enroll_cert_file_parse). */
static int chain_check(const tv_enroll_cert_file *f, char *why)
{
    crdt_cert *prev = malloc(sizeof *prev), *cur = malloc(sizeof *cur);
    int rc = TV_ENOMEM;
    if (!prev || !cur) goto done;
    rc = TV_EPERM;
    if (f->chain_len < 2) {
        say(why, "it holds no certificate issued to a node, only the root's own");
        goto done;
    }
    for (uint32_t i = 0; i < f->chain_len; i++) {
        if ((rc = crdt_cert_open(cur, f->cert[i], f->cert_len[i]))) {
            say(why, "certificate %u of the chain %s", i + 1,
                rc == TV_ESIG ? "does not carry its issuer's valid signature" : "cannot be read");
            if (rc != TV_ESIG && rc != TV_ENOMEM) rc = TV_EDECODE;
            goto done;
        }
        rc = TV_EPERM;
        if (i == 0 &&
            (!crdt_cert_is_root(cur) || memcmp(cur->subject, f->root, TV_NODE_ID_BYTES) != 0)) {
            say(why, "the chain does not start with the root's own certificate");
            goto done;
        }
        if (i > 0 && crdt_cert_narrows(prev, cur)) {
            say(why,
                "certificate %u of the chain gives more than certificate %u allows "
                "(role, scope, health or validity)",
                i + 1, i);
            goto done;
        }
        crdt_cert *swap = prev;
        prev = cur;
        cur = swap;
    }
    if (memcmp(prev->subject, f->node_id, TV_NODE_ID_BYTES) != 0 ||
        memcmp(prev->issuer, f->issuer, TV_NODE_ID_BYTES) != 0) {
        say(why, "the last certificate is not the one the file says it carries");
        goto done;
    }
    rc = TV_OK;
done:
    free(prev);
    free(cur);
    return rc;
}

int tv_enroll_cert_file_parse(tv_enroll_cert_file *f, const char *s, size_t len, char *why)
{
    memset(f, 0, sizeof *f);
    lines l = {.p = s, .end = s + len};
    const char *v;
    size_t vn, n;
    int rc = TV_ELIMIT;
    if (len > TV_ENROLL_CERT_FILE_BYTES_MAX + 2048) { /* CRLF ends make a file longer */
        say(why, "it is larger than any certificate file");
        goto fail;
    }
    if ((rc = magic_line(&l, TV_ENROLL_CERT_MAGIC, "truyvet-enroll-cert-", why)) ||
        (rc = hex_field(&l, "node", f->node_id, TV_NODE_ID_BYTES, why)) ||
        (rc = hex_field(&l, "root", f->root, TV_NODE_ID_BYTES, why)) ||
        (rc = hex_field(&l, "issuer", f->issuer, TV_NODE_ID_BYTES, why)) ||
        (rc = ms_field(&l, "issued", &f->issued_ms, why)) ||
        (rc = field(&l, "endpoints", &v, &vn, why)))
        goto fail;
    rc = TV_EDECODE;
    if (text_value(v, vn, 0, f->endpoints, sizeof f->endpoints) || memchr(v, ' ', vn)) {
        say(why, "line %d: the endpoints are not a comma-separated list", l.no);
        goto fail;
    }
    while (line_has_key(&l, "cert")) {
        if (f->chain_len == CRDT_CERT_CHAIN_MAX) {
            say(why, "the chain has more than %d certificates", CRDT_CERT_CHAIN_MAX);
            goto fail;
        }
        if ((rc = field(&l, "cert", &v, &vn, why))) goto fail;
        rc = TV_EDECODE;
        if (vn == 0 || hex_value(v, vn, f->cert[f->chain_len], CRDT_CERT_BYTES_MAX, &n)) {
            say(why, "line %d: a certificate should be lowercase hex digits", l.no);
            goto fail;
        }
        f->cert_len[f->chain_len++] = n;
    }
    if ((rc = field(&l, "tracing-key", &v, &vn, why))) goto fail;
    rc = TV_EDECODE;
    if (vn &&
        (hex_value(v, vn, f->sealed_key, sizeof f->sealed_key, &n) || n != sizeof f->sealed_key)) {
        say(why, "line %d: tracing-key should be empty or %zu lowercase hex digits", l.no,
            2 * sizeof f->sealed_key);
        goto fail;
    }
    f->has_key = vn != 0;
    if ((rc = hex_field(&l, "signature", f->sig, TV_SIG_BYTES, why)) || (rc = at_end(&l, why)))
        goto fail;
    if ((rc = cert_file_verify(f))) {
        if (rc == TV_ESIG)
            say(why, "its signature does not match its content: the file was changed or "
                     "damaged after it was issued");
        goto fail;
    }
    if ((rc = chain_check(f, why))) goto fail;
    return TV_OK;
fail:
    memset(f, 0, sizeof *f);
    return rc;
}

/* --- the root ----------------------------------------------------------------------- */

typedef struct root_ctx {
    const uint8_t *pk;
    const uint8_t *cert;
    size_t len;
} root_ctx;

static int root_install(store_txn *t, void *arg)
{
    root_ctx *c = arg;
    int rc = store_root_set(t, c->pk);
    return rc ? rc : store_cert_install(t, c->cert, c->len);
}

int tv_enroll_make_root(tv_node *n, int health, uint64_t *seq)
{
    if (seq) *seq = 0;
    if (n->role != TV_ROLE_PROVINCE) return TV_EPERM;
    uint8_t root[TV_NODE_ID_BYTES];
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_root_get(t, root);
    store_read_end(t);
    if (rc == TV_OK) return TV_EEXIST;
    if (rc != TV_ENOTFOUND) return rc;

    crdt_cert *c = calloc(1, sizeof *c);
    if (!c) return TV_ENOMEM;
    memcpy(c->subject, n->id.pk, TV_NODE_ID_BYTES);
    memcpy(c->issuer, n->id.pk, TV_NODE_ID_BYTES);
    c->role = CRDT_ROLE_PROVINCE;
    strcpy(c->unit, n->unit);
    c->scope_len = 1;
    strcpy(c->scope[0], CRDT_SCOPE_ALL);
    c->flags = health ? CRDT_CERT_F_HEALTH : 0;
    /* read before the event's HLC is taken, so the certificate covers its own event */
    c->not_before_ms = tv_wall_ms();
    uint8_t *raw = NULL;
    size_t len;
    rc = crdt_cert_sign(c, &n->id, &raw, &len);
    free(c);
    if (rc) return rc;
    crdt_cert_event ev = {.cert = raw, .len = len};
    uint64_t first = 0;
    if ((rc = tv_node_add_cert(n, &ev, NULL)) == TV_OK) {
        root_ctx rctx = {.pk = n->id.pk, .cert = raw, .len = len};
        /* the root first: the apply path judges the certificate event by it (T1), as
         * every node does */
        rc = tv_node_commit_after(n, root_install, &rctx, &first);
    }
    free(raw);
    /* the root makes the province key: a health root keeps its local key as K_p (what it
     * recorded before keeps matching); a root without the health flag holds no key */
    uint8_t key[TV_TRACING_KEY_BYTES];
    if (tv_node_ref_key(n, key)) randombytes_buf(key, sizeof key);
    if (rc == TV_OK)
        rc = tv_node_set_tracing_key(n, health ? TV_KEY_PROVINCE : TV_KEY_NONE, "", key);
    sodium_memzero(key, sizeof key);
    if (rc == TV_OK && seq) *seq = first;
    return rc;
}

/* --- issuing ------------------------------------------------------------------------ */

static int scope_has(const crdt_cert *c, const char *unit)
{
    for (uint32_t i = 0; i < c->scope_len; i++)
        if (strcmp(c->scope[i], unit) == 0) return 1;
    return 0;
}

/* Adds unit to the child's scope after checking it against the issuer's. */
static int scope_add(crdt_cert *child, const crdt_cert *own, const char *unit, char *why)
{
    char own_scope[120];
    size_t ul = strlen(unit);
    int all = strcmp(unit, CRDT_SCOPE_ALL) == 0;
    if (!all && !crdt_unit_code_valid(unit, ul)) {
        say(why, "'%s' is not a unit code", unit);
        return TV_EINVAL;
    }
    if (scope_has(child, unit)) return TV_OK;
    if (all ? strcmp(own->scope[0], CRDT_SCOPE_ALL) != 0 : !crdt_cert_covers(own, unit, ul)) {
        tv_enroll_scope_format(own_scope, sizeof own_scope, own);
        say(why, "unit %s is not within this node's own scope (%s)", unit, own_scope);
        return TV_EPERM;
    }
    if (child->scope_len == CRDT_CERT_SCOPE_MAX) {
        say(why, "a scope holds at most %d units", CRDT_CERT_SCOPE_MAX);
        return TV_ELIMIT;
    }
    strcpy(child->scope[child->scope_len++], unit);
    return TV_OK;
}

/* What issuing reads from the store in one snapshot. */
typedef struct issue_state {
    crdt_cert own, old;
    int have_old, old_revoked;
    size_t old_len;
    uint8_t old_raw[CRDT_CERT_BYTES_MAX]; /* old, as signed */
    uint32_t above; /* certificates from this node's up to the root's, in ancestors[] */
    size_t anc_len[CRDT_CERT_CHAIN_MAX];
    uint8_t ancestors[CRDT_CERT_CHAIN_MAX][CRDT_CERT_BYTES_MAX]; /* this node's first */
    uint8_t root[TV_NODE_ID_BYTES];
} issue_state;

static int issue_read(tv_node *n, const tv_enroll_request *req, issue_state *s, char *why)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    crdt_cert *up = malloc(sizeof *up);
    if (!up) {
        rc = TV_ENOMEM;
        goto done;
    }
    rc = store_root_get(t, s->root);
    if (rc == TV_OK) rc = store_cert_get(t, n->id.pk, &s->own, NULL, NULL);
    if (rc == TV_ENOTFOUND) {
        say(why, "this node has no certificate of its own: it must be enrolled (enroll "
                 "request / accept) before it can enrol others");
        rc = TV_EPERM;
    }
    if (rc) goto done;
    if ((rc = store_revoked(t, n->id.pk)) != 0) {
        say(why, "this node's own key has been revoked");
        rc = rc < 0 ? rc : TV_EPERM;
        goto done;
    }
    /* a revoked key is certified again only by the root, which reinstates it (T6) */
    if ((rc = store_revoked(t, req->node_id)) != 0 &&
        (rc < 0 || memcmp(s->root, n->id.pk, TV_NODE_ID_BYTES) != 0)) {
        say(why, "that node's key has been revoked; only the province (the root) can "
                 "reinstate it, or the node needs a new key to be enrolled again");
        rc = rc < 0 ? rc : TV_EPERM;
        goto done;
    }
    s->old_revoked = rc > 0;
    const uint8_t *old_raw;
    rc = store_cert_get(t, req->node_id, &s->old, &old_raw, &s->old_len);
    s->have_old = rc == TV_OK && s->old_len <= sizeof s->old_raw;
    if (s->have_old) memcpy(s->old_raw, old_raw, s->old_len);
    if (rc && rc != TV_ENOTFOUND) goto done;
    /* the chain above: this node's certificate, its issuer's, ... up to the root's */
    uint8_t subject[TV_NODE_ID_BYTES];
    memcpy(subject, n->id.pk, TV_NODE_ID_BYTES);
    for (s->above = 0;;) {
        const uint8_t *raw;
        size_t len;
        if (s->above == CRDT_CERT_CHAIN_MAX - 1) {
            say(why, "the chain above this node is longer than %d certificates",
                CRDT_CERT_CHAIN_MAX - 1);
            rc = TV_ELIMIT;
            goto done;
        }
        rc = store_cert_get(t, subject, up, &raw, &len);
        if (rc == TV_ENOTFOUND) {
            say(why, "a certificate above this node's is missing from its store");
            rc = TV_EPERM;
        }
        if (rc) goto done;
        memcpy(s->ancestors[s->above], raw, len);
        s->anc_len[s->above++] = len;
        if (crdt_cert_is_root(up)) break;
        memcpy(subject, up->issuer, TV_NODE_ID_BYTES);
    }
    if (memcmp(up->subject, s->root, TV_NODE_ID_BYTES) != 0) {
        say(why, "this node's certificate does not lead to the root it trusts");
        rc = TV_EPERM;
    }
done:
    free(up);
    store_read_end(t);
    return rc;
}

/* Fills the child's certificate from the request and the options, checking each against
 * the issuer's own certificate so that a refusal names what is wrong. */
static int issue_cert(tv_node *n, const tv_enroll_request *req, const tv_enroll_issue_opts *o,
                      const issue_state *s, int64_t now, crdt_cert *c, char *why)
{
    const crdt_cert *own = &s->own;
    char when[40];
    memset(c, 0, sizeof *c);
    if (crdt_cert_valid_at(own, now)) {
        tv_time_format_vn(when, sizeof when,
                          now < own->not_before_ms ? own->not_before_ms : own->not_after_ms);
        say(why, "this node's own certificate is not valid now (%s %s)",
            now < own->not_before_ms ? "valid from" : "expired on", when);
        return TV_EPERM;
    }
    if ((uint32_t)req->role >= own->role) {
        say(why,
            "a %s cannot enrol a %s: only nodes of a lower level (province > district > "
            "commune)",
            tv_role_name((tv_role)own->role), tv_role_name(req->role));
        return TV_EPERM;
    }
    if (o->health && !(own->flags & CRDT_CERT_F_HEALTH)) {
        say(why, "this node does not hold the health flag, so it cannot grant it");
        return TV_EPERM;
    }
    memcpy(c->subject, req->node_id, TV_NODE_ID_BYTES);
    memcpy(c->issuer, n->id.pk, TV_NODE_ID_BYTES);
    c->role = (uint32_t)req->role;
    strcpy(c->unit, req->unit);
    c->flags = o->health ? CRDT_CERT_F_HEALTH : 0;
    int rc = scope_add(c, own, req->unit, why);
    for (uint32_t i = 0; rc == TV_OK && i < o->scope_len; i++)
        rc = scope_add(c, own, o->scope[i], why);
    if (rc) return rc;
    /* from the requester's creation, within the issuer's validity; after any certificate
     * it already has, so this one replaces it everywhere (not_before only orders a node's
     * certificates: its whole log is taken under each, PROTOCOL.md §2.3) */
    int64_t nb = req->created_ms;
    if (nb > now) nb = now;
    if (nb < own->not_before_ms) nb = own->not_before_ms;
    if (s->have_old && nb <= s->old.not_before_ms) nb = s->old.not_before_ms + 1;
    c->not_before_ms = nb;
    c->not_after_ms = o->days ? now + (int64_t)o->days * DAY_MS : own->not_after_ms;
    if (own->not_after_ms && c->not_after_ms > own->not_after_ms) {
        tv_time_format_vn(when, sizeof when, own->not_after_ms);
        say(why,
            "the certificate would outlast this node's own, which expires on %s; give "
            "fewer --days",
            when);
        return TV_EPERM;
    }
    if (c->not_after_ms && c->not_after_ms <= c->not_before_ms) {
        say(why, "the certificate would expire before it starts");
        return TV_EINVAL;
    }
    if (crdt_cert_narrows(own, c)) {
        say(why, "the certificate would give more than this node's own allows");
        return TV_EPERM;
    }
    return TV_OK;
}

/* Do a and b grant the same: role, unit, health flag and scope (as sets)? */
static int cert_same_grant(const crdt_cert *a, const crdt_cert *b)
{
    if (a->role != b->role || strcmp(a->unit, b->unit) != 0 ||
        (a->flags & CRDT_CERT_F_HEALTH) != (b->flags & CRDT_CERT_F_HEALTH) ||
        a->scope_len != b->scope_len)
        return 0;
    for (uint32_t i = 0; i < a->scope_len; i++) {
        uint32_t k = 0;
        while (k < b->scope_len && strcmp(a->scope[i], b->scope[k]) != 0)
            k++;
        if (k == b->scope_len) return 0;
    }
    return 1;
}

/* The refusals that need nothing but the request and the node: a commune enrols no one, the
 * validity asked is bounded, the request is signed by its node, and no node enrols itself. */
/* Checks what needs no store; *xpk: the requester's key to seal to. */
static int issue_precheck(const tv_node *n, const tv_enroll_request *req,
                          const tv_enroll_issue_opts *o, uint8_t xpk[crypto_box_PUBLICKEYBYTES],
                          char *why)
{
    if (n->role == TV_ROLE_COMMUNE) {
        say(why, "a commune node cannot enrol other nodes; its district or province does");
        return TV_EPERM;
    }
    if (o->days > TV_ENROLL_DAYS_MAX) {
        say(why, "--days must be at most %d", TV_ENROLL_DAYS_MAX);
        return TV_EINVAL;
    }
    int rc = request_verify(req);
    if (rc) {
        say(why, "the request's signature does not match its content");
        return rc;
    }
    if (memcmp(req->node_id, n->id.pk, TV_NODE_ID_BYTES) == 0) {
        say(why, "the request is this node's own: a node cannot enrol itself");
        return TV_EPERM;
    }
    /* a key with a small-order part can sign, but nothing can be sealed to it (the
     * certificate file seals the pseudonym key to the node) */
    if (crypto_sign_ed25519_pk_to_curve25519(xpk, req->node_id) != 0) {
        say(why, "the request's node id is not a usable public key");
        return TV_EINVAL;
    }
    return TV_OK;
}

/* This node's certificate for that node, still standing: *same when c grants what it does
 * (it is given back), refused (TV_EEXIST) when c differs unless asked to reissue. */
static int issue_standing(const tv_node *n, const tv_enroll_issue_opts *o, const issue_state *s,
                          const crdt_cert *c, int64_t now, int *same, char *why)
{
    *same = 0;
    if (!s->have_old || s->old_revoked || memcmp(s->old.issuer, n->id.pk, TV_NODE_ID_BYTES) != 0 ||
        crdt_cert_valid_at(&s->old, now) != TV_OK)
        return TV_OK;
    *same = !o->reissue && cert_same_grant(&s->old, c);
    if (*same || o->reissue) return TV_OK;
    char was[CRDT_CERT_SCOPE_MAX * (TV_UNIT_CODE_MAX + 1) + 1];
    char asked[sizeof was];
    tv_enroll_scope_format(was, sizeof was, &s->old);
    tv_enroll_scope_format(asked, sizeof asked, c);
    say(why,
        "that node already holds a certificate from this node (%s %s, scope %s%s); "
        "give --reissue to record a new one (%s %s, scope %s%s) in its place",
        tv_role_name((tv_role)s->old.role), s->old.unit, was,
        s->old.flags & CRDT_CERT_F_HEALTH ? ", health" : "", tv_role_name((tv_role)c->role),
        c->unit, asked, c->flags & CRDT_CERT_F_HEALTH ? ", health" : "");
    return TV_EEXIST;
}

/* The certificate's signed bytes (*raw, malloc'd): the standing one's when same (and *c
 * becomes it), else c signed by this node. */
static int issue_raw(const tv_node *n, const issue_state *s, int same, crdt_cert *c, uint8_t **raw,
                     size_t *raw_len, char *why)
{
    if (same) {
        *c = s->old;
        if (!(*raw = malloc(s->old_len))) return TV_ENOMEM;
        memcpy(*raw, s->old_raw, s->old_len);
        *raw_len = s->old_len;
        return TV_OK;
    }
    int rc = crdt_cert_sign(c, &n->id, raw, raw_len);
    if (rc) say(why, "the certificate is too large (too many units in its scope)");
    return rc;
}

/* The file's fields but its key: who it is for, the root, the issuer, the endpoints, and the
 * chain from the root down to this node's certificate, then the new one. */
static int issue_file_fill(const tv_node *n, const tv_enroll_request *req,
                           const tv_enroll_issue_opts *o, const issue_state *s, const uint8_t *raw,
                           size_t raw_len, int64_t now, tv_enroll_cert_file *f, char *why)
{
    memcpy(f->node_id, req->node_id, TV_NODE_ID_BYTES);
    memcpy(f->root, s->root, TV_NODE_ID_BYTES);
    memcpy(f->issuer, n->id.pk, TV_NODE_ID_BYTES);
    f->issued_ms = now;
    const char *ep = o->endpoints ? o->endpoints : "";
    if (text_value(ep, strlen(ep), 0, f->endpoints, sizeof f->endpoints) || strchr(ep, ' ')) {
        say(why, "the endpoint list is too long or holds spaces or control characters");
        return TV_EINVAL;
    }
    for (uint32_t i = 0; i < s->above; i++) {
        memcpy(f->cert[i], s->ancestors[s->above - 1 - i], s->anc_len[s->above - 1 - i]);
        f->cert_len[i] = s->anc_len[s->above - 1 - i];
    }
    memcpy(f->cert[s->above], raw, raw_len);
    f->cert_len[s->above] = raw_len;
    f->chain_len = s->above + 1;
    return TV_OK;
}

/* Seals the subject's key into f (PROTOCOL.md §8.2: K_p to a health node, its K_c to a
 * commune; none when this node cannot give it, as it holds no K_p), then writes the file's
 * text into t and signs it. */
static int issue_file_write(tv_node *n, const crdt_cert *c,
                            const uint8_t xpk[crypto_box_PUBLICKEYBYTES], tv_enroll_cert_file *f,
                            text *t)
{
    uint8_t key[TV_TRACING_KEY_BYTES];
    int kr = (c->flags & CRDT_CERT_F_HEALTH) ? tv_node_province_key(n, key)
             : c->role == CRDT_ROLE_COMMUNE  ? tv_node_commune_key(n, c->unit, key)
                                             : TV_ENOTFOUND;
    f->has_key = kr == TV_OK;
    if (f->has_key) crypto_box_seal(f->sealed_key, key, TV_TRACING_KEY_BYTES, xpk);
    sodium_memzero(key, sizeof key);
    cert_file_body(t, f);
    if (t->over) return TV_ELIMIT;
    int rc = sign_text(f->sig, TV_ENROLL_CERT_SIGN_CONTEXT, t->p, t->len, n->id.sk);
    if (rc) return rc;
    put_hex(t, "signature", f->sig, TV_SIG_BYTES);
    return t->over ? TV_ELIMIT : TV_OK;
}

/* Records the new certificate in this node's log with the subject's consent (its signed
 * request, rule T4), and commits. Done before the file is handed out: the parent's log is
 * what makes the child's batches acceptable up the tree. */
static int issue_record(tv_node *n, const tv_enroll_request *req, const uint8_t *raw,
                        size_t raw_len, char *why)
{
    crdt_cert_event ev = {.cert = raw,
                          .len = raw_len,
                          .consent = 1,
                          .consent_name = {req->name, (uint32_t)strlen(req->name)},
                          .consent_created_ms = req->created_ms,
                          .consent_sig = req->sig};
    uint64_t seq;
    int rc = tv_node_add_cert(n, &ev, NULL);
    if (rc) {
        say(why, "this node may not issue that certificate (%s)",
            rc == TV_EPERM ? "that node is certified by another issuer that is neither this "
                             "node nor above it (rule T4), or the certificate does not narrow "
                             "this node's own"
                           : tv_strerror(rc));
        return rc;
    }
    return tv_node_commit(n, &seq);
}

int tv_enroll_issue(tv_node *n, const tv_enroll_request *req, const tv_enroll_issue_opts *o,
                    char **file, size_t *file_len, crdt_cert *issued, char *why)
{
    *file = NULL;
    *file_len = 0;
    uint8_t xpk[crypto_box_PUBLICKEYBYTES];
    int rc = issue_precheck(n, req, o, xpk, why);
    if (rc) return rc;
    issue_state *s = malloc(sizeof *s);
    crdt_cert *c = malloc(sizeof *c);
    tv_enroll_cert_file *f = calloc(1, sizeof *f);
    char *out = malloc(TV_ENROLL_CERT_FILE_BYTES_MAX);
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    rc = TV_ENOMEM;
    if (!s || !c || !f || !out) goto done;
    if ((rc = issue_read(n, req, s, why))) goto done;
    int64_t now = tv_wall_ms();
    if ((rc = issue_cert(n, req, o, s, now, c, why))) goto done;
    int same;
    if ((rc = issue_standing(n, o, s, c, now, &same, why))) goto done;
    if (o->same) *o->same = same;
    if ((rc = issue_raw(n, s, same, c, &raw, &raw_len, why))) goto done;
    if ((rc = issue_file_fill(n, req, o, s, raw, raw_len, now, f, why))) goto done;
    text t = {.p = out, .cap = TV_ENROLL_CERT_FILE_BYTES_MAX};
    if ((rc = issue_file_write(n, c, xpk, f, &t))) goto done;
    if (!same && (rc = issue_record(n, req, raw, raw_len, why))) goto done;
    *file = out;
    *file_len = t.len;
    out = NULL;
    if (issued) *issued = *c;
done:
    free(out);
    free(raw);
    free(f);
    free(c);
    free(s);
    return rc;
}

/* --- accepting ---------------------------------------------------------------------- */

typedef struct accept_ctx {
    tv_node *n;
    const tv_enroll_cert_file *f;
    tv_enroll_accepted *out;
    char *why;
} accept_ctx;

static int accept_install(store_txn *t, void *arg)
{
    accept_ctx *c = arg;
    uint8_t root[TV_NODE_ID_BYTES];
    char hex[SHORT_HEX + 1];
    int rc = store_root_get(t, root);
    if (rc == TV_OK && memcmp(root, c->f->root, TV_NODE_ID_BYTES) != 0) {
        short_hex(hex, root);
        say(c->why,
            "this node already trusts another root (%s...); a node belongs to one "
            "province's tree",
            hex);
        return TV_EPERM;
    }
    if (rc && rc != TV_ENOTFOUND) return rc;
    if ((rc = store_root_set(t, c->f->root))) return rc;
    for (uint32_t i = 0; i < c->f->chain_len; i++) {
        rc = store_cert_install(t, c->f->cert[i], c->f->cert_len[i]);
        if (rc == TV_EREVOKED) {
            say(c->why,
                "certificate %u of the chain is for a key, or was issued by a key, "
                "that has been revoked",
                i + 1);
            return rc;
        }
        if (rc == TV_EPERM || rc == TV_EUNTRUSTED) {
            say(c->why,
                "certificate %u of the chain does not fit the certificates this node "
                "already holds",
                i + 1);
            return TV_EPERM;
        }
        if (rc) return rc;
    }
    memcpy(c->out->root, c->f->root, TV_NODE_ID_BYTES);
    return store_cert_get(t, c->n->id.pk, &c->out->cert, NULL, NULL);
}

/* Is the file's certificate this node's: for its key, its role and unit, not expired? The
 * chain was checked, so the last certificate opens (into last). */
static int accept_check(const tv_node *n, const tv_enroll_cert_file *f, crdt_cert *last, char *why)
{
    char a[SHORT_HEX + 1], b[SHORT_HEX + 1], when[40];
    if (memcmp(f->node_id, n->id.pk, TV_NODE_ID_BYTES) != 0) {
        short_hex(a, f->node_id);
        short_hex(b, n->id.pk);
        say(why, "the certificate is for node %s..., not for this node (%s...)", a, b);
        return TV_EPERM;
    }
    int rc = crdt_cert_open(last, f->cert[f->chain_len - 1], f->cert_len[f->chain_len - 1]);
    if (rc) return rc;
    if (last->role != (uint32_t)n->role || strcmp(last->unit, n->unit) != 0) {
        say(why, "the certificate is for a %s of unit %s, but this node is a %s of unit %s",
            tv_role_name((tv_role)last->role), last->unit, tv_role_name(n->role), n->unit);
        return TV_EPERM;
    }
    if (last->not_after_ms && tv_wall_ms() >= last->not_after_ms) {
        tv_time_format_vn(when, sizeof when, last->not_after_ms);
        say(why, "the certificate expired on %s", when);
        return TV_EPERM;
    }
    return TV_OK;
}

/* Opens the tracing key sealed in the file to this node, when it holds one. */
static int accept_open_key(const tv_node *n, const tv_enroll_cert_file *f,
                           uint8_t key[TV_TRACING_KEY_BYTES], char *why)
{
    if (!f->has_key) return TV_OK;
    uint8_t xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
    int rc = TV_EDECODE;
    if (crypto_sign_ed25519_sk_to_curve25519(xsk, n->id.sk) == 0 &&
        crypto_sign_ed25519_pk_to_curve25519(xpk, n->id.pk) == 0 &&
        crypto_box_seal_open(key, f->sealed_key, sizeof f->sealed_key, xpk, xsk) == 0)
        rc = TV_OK;
    sodium_memzero(xsk, sizeof xsk);
    if (rc) say(why, "the tracing key in the file cannot be opened with this node's key");
    return rc;
}

/* The key kind follows the installed certificate: a health node holds K_p, a commune its K_c
 * (or, enrolled without it, keeps its local key until a key_grant brings it), any other
 * node none. Writes the key when it changed (out->key_changed). */
static int accept_key(tv_node *n, const tv_enroll_cert_file *f, uint8_t key[TV_TRACING_KEY_BYTES],
                      tv_enroll_accepted *out, char *why)
{
    tv_key_kind kind = n->tracing_kind;
    if (out->cert.flags & CRDT_CERT_F_HEALTH)
        kind = f->has_key ? TV_KEY_PROVINCE : kind;
    else if (out->cert.role == CRDT_ROLE_COMMUNE)
        kind = f->has_key ? TV_KEY_COMMUNE : kind;
    else
        kind = TV_KEY_NONE;
    uint8_t cur[TV_TRACING_KEY_BYTES] = {0};
    int have = tv_node_ref_key(n, cur) == TV_OK;
    if (!f->has_key) memcpy(key, cur, TV_TRACING_KEY_BYTES);
    out->key_changed = kind != n->tracing_kind ||
                       (kind != TV_KEY_NONE && (!have || sodium_memcmp(key, cur, sizeof cur)));
    sodium_memzero(cur, sizeof cur);
    int rc = TV_OK;
    if (out->key_changed && (rc = tv_node_set_tracing_key(n, kind, n->unit, key)))
        say(why, "the certificate was installed but the tracing key could not be written; "
                 "accept the file again");
    return rc;
}

int tv_enroll_accept(tv_node *n, const char *s, size_t len, tv_enroll_accepted *out, char *why)
{
    memset(out, 0, sizeof *out);
    if (n->lock_fd < 0) return TV_EINVAL;
    tv_enroll_cert_file *f = malloc(sizeof *f);
    crdt_cert *last = malloc(sizeof *last);
    uint8_t key[TV_TRACING_KEY_BYTES];
    int rc = TV_ENOMEM;
    if (!f || !last) goto done;
    if ((rc = tv_enroll_cert_file_parse(f, s, len, why))) goto done;
    if ((rc = accept_check(n, f, last, why))) goto done;
    if ((rc = accept_open_key(n, f, key, why))) goto done;
    accept_ctx ctx = {.n = n, .f = f, .out = out, .why = why};
    if ((rc = store_write(n->st, accept_install, &ctx))) goto done;
    strcpy(out->endpoints, f->endpoints);
    if ((rc = accept_key(n, f, key, out, why))) goto done;
    out->key_kind = n->tracing_kind;
    /* what it recorded before, sealed to itself, now goes to the health nodes; a health
     * node maps and grants what it holds already, a commune takes a key granted to it */
    (void)tv_keys_after_receive(n);
    out->key_kind = n->tracing_kind;
    if ((rc = tv_reseal_own(n, &out->resealed)))
        say(why, "the certificate was installed but the details of people recorded before "
                 "could not be re-sealed to the health nodes; accept the file again");
done:
    sodium_memzero(key, sizeof key);
    free(last);
    free(f);
    return rc;
}

/* --- revoking ----------------------------------------------------------------------- */

static int revoke_check(tv_node *n, const uint8_t subject[TV_NODE_ID_BYTES], char *why)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    crdt_cert *c = malloc(sizeof *c);
    char a[SHORT_HEX + 1], b[SHORT_HEX + 1];
    uint8_t root[TV_NODE_ID_BYTES];
    short_hex(a, subject);
    if (!c) {
        rc = TV_ENOMEM;
        goto done;
    }
    if ((rc = store_root_get(t, root)) == TV_ENOTFOUND) {
        say(why, "this node is not enrolled, so nobody would take a revocation from it");
        rc = TV_EPERM;
    }
    if (rc) goto done;
    if ((rc = store_revoked(t, subject)) != 0) {
        say(why, "node %s... is already revoked", a);
        rc = rc < 0 ? rc : TV_EEXIST;
        goto done;
    }
    if (memcmp(root, n->id.pk, TV_NODE_ID_BYTES) == 0) goto done; /* the root may revoke any */
    rc = store_cert_get(t, subject, c, NULL, NULL);
    if (rc == TV_ENOTFOUND) {
        say(why,
            "no certificate of node %s... is known here; only the node that issued it, "
            "or the province (the root), can revoke it",
            a);
        rc = TV_EPERM;
    } else if (rc == TV_OK && memcmp(c->issuer, n->id.pk, TV_NODE_ID_BYTES) != 0) {
        short_hex(b, c->issuer);
        say(why,
            "node %s...'s certificate was issued by node %s...; only that node or the "
            "province (the root) can revoke it",
            a, b);
        rc = TV_EPERM;
    }
done:
    free(c);
    store_read_end(t);
    return rc;
}

int tv_enroll_revoke(tv_node *n, const uint8_t subject[TV_NODE_ID_BYTES], const char *reason,
                     uint64_t *seq, char *why)
{
    uint64_t first = 0;
    if (seq) *seq = 0;
    if (memcmp(subject, n->id.pk, TV_NODE_ID_BYTES) == 0) {
        say(why, "a node cannot revoke its own key; the node that enrolled it can");
        return TV_EINVAL;
    }
    crdt_revoke r = {.reason = {reason ? reason : "", reason ? (uint32_t)strlen(reason) : 0}};
    memcpy(r.subject, subject, TV_NODE_ID_BYTES);
    if (reason && (strlen(reason) > CRDT_TEXT_BYTES_MAX || !crdt_text_valid(reason, r.reason.n))) {
        say(why, "the reason must be text of at most %d bytes, without control characters",
            CRDT_TEXT_BYTES_MAX);
        return TV_EINVAL;
    }
    int rc = revoke_check(n, subject, why);
    if (rc) return rc;
    if ((rc = tv_node_add_revoke(n, &r, NULL))) {
        if (rc == TV_EINVAL) say(why, "the reason is not valid text");
        if (rc == TV_EPERM) say(why, "this node may not revoke that node");
        return rc;
    }
    if ((rc = tv_node_commit(n, &first))) return rc;
    if (seq) *seq = first;
    return TV_OK;
}
