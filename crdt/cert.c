/* Certificate encoding, signatures and the rules of issuance. */
#include "crdt/cert.h"
#include "crdt/batch.h"
#include "crdt/error.h"
#include "crdt/event.h"
#include "crdt/mp.h"

#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

_Static_assert(CRDT_CERT_BYTES_MAX == CRDT_CERT_EVENT_BYTES_MAX, "a cert fits a cert event");
_Static_assert(CRDT_CERT_EVENT_BYTES_MAX + 64 <= CRDT_EVENT_BYTES_MAX,
               "a cert event fits an event");
#define BODY_FIELDS 9
_Static_assert(CRDT_CERT_SCOPE_MAX *(TV_UNIT_CODE_MAX + 1) + 256 <= CRDT_CERT_BYTES_MAX,
               "a full scope must fit the certificate size limit");

static int fields_valid(const crdt_cert *c)
{
    if (c->role < CRDT_ROLE_COMMUNE || c->role > CRDT_ROLE_PROVINCE) return 0;
    if (!crdt_unit_code_valid(c->unit, strlen(c->unit))) return 0;
    if (c->scope_len == 0 || c->scope_len > CRDT_CERT_SCOPE_MAX) return 0;
    for (uint32_t i = 0; i < c->scope_len; i++) {
        const char *s = c->scope[i];
        if (strcmp(s, CRDT_SCOPE_ALL) != 0 && !crdt_unit_code_valid(s, strlen(s))) return 0;
    }
    if (c->flags & ~(uint32_t)CRDT_CERT_F_HEALTH) return 0;
    if (c->not_after_ms != 0 && c->not_after_ms <= c->not_before_ms) return 0;
    return 1;
}

static int pack_body(msgpack_packer *pk, const crdt_cert *c)
{
    int e = msgpack_pack_array(pk, BODY_FIELDS) | msgpack_pack_uint32(pk, CRDT_CERT_VERSION) |
            msgpack_pack_bin_with_body(pk, c->subject, TV_NODE_ID_BYTES) |
            msgpack_pack_bin_with_body(pk, c->issuer, TV_NODE_ID_BYTES) |
            msgpack_pack_uint32(pk, c->role) |
            msgpack_pack_str_with_body(pk, c->unit, strlen(c->unit)) |
            msgpack_pack_array(pk, c->scope_len);
    for (uint32_t i = 0; i < c->scope_len; i++)
        e |= msgpack_pack_str_with_body(pk, c->scope[i], strlen(c->scope[i]));
    e |= msgpack_pack_uint32(pk, c->flags) | msgpack_pack_int64(pk, c->not_before_ms) |
         msgpack_pack_int64(pk, c->not_after_ms);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_cert_sign(const crdt_cert *c, const crdt_identity *issuer, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (!fields_valid(c) || memcmp(issuer->pk, c->issuer, TV_NODE_ID_BYTES) != 0) return TV_EINVAL;
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
    int rc = pack_body(&pk, c);
    if (rc) goto done;
    rc = TV_ELIMIT;
    if (body.size + 100 > CRDT_CERT_BYTES_MAX) goto done;
    uint8_t sig[TV_SIG_BYTES];
    if ((rc = crdt_sign(sig, CRDT_CERT_SIGN_CONTEXT, (const uint8_t *)body.data, body.size,
                        issuer->sk)))
        goto done;
    rc = TV_ENOMEM;
    msgpack_sbuffer ob;
    msgpack_sbuffer_init(&ob);
    msgpack_packer op;
    msgpack_packer_init(&op, &ob, msgpack_sbuffer_write);
    if (msgpack_pack_array(&op, 2) | msgpack_pack_bin_with_body(&op, body.data, body.size) |
        msgpack_pack_bin_with_body(&op, sig, sizeof sig)) {
        msgpack_sbuffer_destroy(&ob);
        goto done;
    }
    *out_len = ob.size;
    *out = (uint8_t *)msgpack_sbuffer_release(&ob);
    rc = TV_OK;
done:
    msgpack_sbuffer_destroy(&body);
    return rc;
}

static int copy_str(const msgpack_object *o, char *out, size_t cap)
{
    const char *p;
    size_t n;
    if (crdt_mp_str(o, cap - 1, &p, &n)) return TV_EDECODE;
    memcpy(out, p, n);
    out[n] = '\0';
    return TV_OK;
}

static int decode_body(crdt_cert *c, const uint8_t *buf, size_t len)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = crdt_mp_unpack_exact(&u, buf, len);
    if (rc) goto done;
    rc = TV_EDECODE;
    const msgpack_object *o = &u.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1) goto done;
    const msgpack_object *f = o->via.array.ptr;
    uint64_t version, role, flags;
    const uint8_t *subject, *issuer;
    if (crdt_mp_u64(&f[0], &version)) goto done;
    if (version != CRDT_CERT_VERSION) {
        rc = TV_EVERSION;
        goto done;
    }
    if (o->via.array.size != BODY_FIELDS || crdt_mp_bin_n(&f[1], TV_NODE_ID_BYTES, &subject) ||
        crdt_mp_bin_n(&f[2], TV_NODE_ID_BYTES, &issuer) || crdt_mp_u64(&f[3], &role) ||
        copy_str(&f[4], c->unit, sizeof c->unit) || f[5].type != MSGPACK_OBJECT_ARRAY ||
        crdt_mp_u64(&f[6], &flags) || crdt_mp_i64(&f[7], &c->not_before_ms) ||
        crdt_mp_i64(&f[8], &c->not_after_ms) || role > 255 || flags > UINT32_MAX)
        goto done;
    if (f[5].via.array.size > CRDT_CERT_SCOPE_MAX) {
        rc = TV_ELIMIT;
        goto done;
    }
    c->scope_len = f[5].via.array.size;
    for (uint32_t i = 0; i < c->scope_len; i++)
        if (copy_str(&f[5].via.array.ptr[i], c->scope[i], sizeof c->scope[i])) goto done;
    memcpy(c->subject, subject, TV_NODE_ID_BYTES);
    memcpy(c->issuer, issuer, TV_NODE_ID_BYTES);
    c->role = (uint32_t)role;
    c->flags = (uint32_t)flags;
    rc = fields_valid(c) ? TV_OK : TV_EDECODE;
done:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Splits cert bytes into body and signature and decodes the body into *c. */
static int cert_parse(crdt_cert *c, const uint8_t *buf, size_t len, const uint8_t **body,
                      size_t *body_len, const uint8_t **sig)
{
    memset(c, 0, sizeof *c);
    if (len > CRDT_CERT_BYTES_MAX) return TV_ELIMIT;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = crdt_mp_unpack_exact(&u, buf, len);
    if (rc) goto done;
    rc = TV_EDECODE;
    const msgpack_object *o = &u.data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 2 ||
        crdt_mp_bin(&o->via.array.ptr[0], CRDT_CERT_BYTES_MAX, body, body_len) ||
        crdt_mp_bin_n(&o->via.array.ptr[1], TV_SIG_BYTES, sig))
        goto done;
    rc = decode_body(c, *body, *body_len);
done:
    msgpack_unpacked_destroy(&u);
    if (rc) memset(c, 0, sizeof *c);
    return rc;
}

int crdt_cert_open(crdt_cert *c, const uint8_t *buf, size_t len)
{
    return crdt_cert_open_memo(c, buf, len, NULL);
}

int crdt_cert_open_memo(crdt_cert *c, const uint8_t *buf, size_t len, crdt_sig_memo *m)
{
    const uint8_t *body, *sig;
    size_t body_len;
    int rc = cert_parse(c, buf, len, &body, &body_len, &sig);
    if (rc == TV_OK)
        rc = crdt_verify_memo(m, sig, CRDT_CERT_SIGN_CONTEXT, body, body_len, c->issuer);
    if (rc) memset(c, 0, sizeof *c);
    return rc;
}

int crdt_cert_decode(crdt_cert *c, const uint8_t *buf, size_t len)
{
    const uint8_t *body, *sig;
    size_t body_len;
    return cert_parse(c, buf, len, &body, &body_len, &sig);
}

int crdt_cert_covers(const crdt_cert *c, const char *unit, size_t unit_len)
{
    for (uint32_t i = 0; i < c->scope_len; i++) {
        const char *s = c->scope[i];
        if (strcmp(s, CRDT_SCOPE_ALL) == 0) return 1;
        if (strlen(s) == unit_len && memcmp(s, unit, unit_len) == 0) return 1;
    }
    return 0;
}

int crdt_cert_health_covers(const crdt_cert *c, const char *unit, size_t unit_len)
{
    return (c->flags & CRDT_CERT_F_HEALTH) &&
           crdt_cert_covers(c, unit, crdt_unit_owner_len(unit, unit_len));
}

int crdt_cert_names_unit(const crdt_cert *c, const char *unit, size_t unit_len)
{
    if (strlen(c->unit) == unit_len && memcmp(c->unit, unit, unit_len) == 0) return 1;
    return crdt_cert_covers(c, unit, crdt_unit_owner_len(unit, unit_len));
}

int crdt_cert_narrows(const crdt_cert *parent, const crdt_cert *child)
{
    if (memcmp(child->issuer, parent->subject, TV_NODE_ID_BYTES) != 0) return TV_EPERM;
    if (child->role >= parent->role) return TV_EPERM;
    if ((child->flags & CRDT_CERT_F_HEALTH) && !(parent->flags & CRDT_CERT_F_HEALTH))
        return TV_EPERM;
    for (uint32_t i = 0; i < child->scope_len; i++) {
        const char *s = child->scope[i];
        if (strcmp(s, CRDT_SCOPE_ALL) == 0) {
            if (!crdt_cert_covers(parent, CRDT_SCOPE_ALL, 1) ||
                strcmp(parent->scope[0], CRDT_SCOPE_ALL) != 0)
                return TV_EPERM;
        } else if (!crdt_cert_covers(parent, s, strlen(s))) {
            return TV_EPERM;
        }
    }
    if (!crdt_cert_covers(parent, child->unit, strlen(child->unit))) return TV_EPERM;
    if (child->not_before_ms < parent->not_before_ms) return TV_EPERM;
    if (parent->not_after_ms &&
        (child->not_after_ms == 0 || child->not_after_ms > parent->not_after_ms))
        return TV_EPERM;
    return TV_OK;
}

int crdt_cert_valid_at(const crdt_cert *c, int64_t now_ms)
{
    if (now_ms < c->not_before_ms) return TV_EPERM;
    if (c->not_after_ms && now_ms >= c->not_after_ms) return TV_EPERM;
    return TV_OK;
}

int crdt_cert_is_root(const crdt_cert *c)
{
    return memcmp(c->subject, c->issuer, TV_NODE_ID_BYTES) == 0;
}

int crdt_cert_consent_verify(const crdt_cert *c, const char *name, size_t name_len,
                             int64_t created_ms, const uint8_t sig[TV_SIG_BYTES])
{
    static const char *const roles[] = {NULL, "commune", "district", "province"};
    if (c->role < CRDT_ROLE_COMMUNE || c->role > CRDT_ROLE_PROVINCE) return TV_EINVAL;
    char hex[2 * TV_NODE_ID_BYTES + 1], text[1024];
    tv_hex_encode(hex, c->subject, TV_NODE_ID_BYTES);
    int n = snprintf(text, sizeof text,
                     CRDT_CERT_REQUEST_MAGIC
                     "\nnode: %s\nrole: %s\nunit: %s\nname: %.*s\ncreated: %" PRId64 "\n",
                     hex, roles[c->role], c->unit, (int)name_len, name, created_ms);
    if (n < 0 || (size_t)n >= sizeof text) return TV_ELIMIT;
    return crdt_verify(sig, CRDT_CERT_REQUEST_CONTEXT, (const uint8_t *)text, (size_t)n,
                       c->subject);
}
