/* Certificates: who a node is, what it may write, and who vouches for it.
 *
 * A certificate binds a node's public key (the subject) to a role, a unit and a scope
 * (the units whose events it may author), and is signed by its issuer. The province's key
 * is the root of trust: its certificate is self-signed, and every other certificate is
 * issued by a node whose own certificate chains to the root, with a scope no wider than
 * the issuer's and a role below it. Encoding (PROTOCOL.md §2.3):
 *
 *   cert = [body: bin, signature: bin 64]
 *   body = [version, subject: bin 32, issuer: bin 32, role, unit: str, scope: [str...],
 *           flags, not_before_ms, not_after_ms]
 *   signature = Ed25519 by issuer over CRDT_CERT_SIGN_CONTEXT || body
 *
 * Pure: no I/O; time is a parameter. Decoded certificates borrow from their bytes. */
#ifndef TV_CRDT_CERT_H
#define TV_CRDT_CERT_H

#include "crdt/identity.h"
#include "crdt/ids.h"
#include "crdt/sigmemo.h"

#include <stddef.h>
#include <stdint.h>

#define CRDT_CERT_VERSION 1
#define CRDT_CERT_SIGN_CONTEXT "truyvet/cert/v1"
#define CRDT_CERT_SCOPE_MAX 200  /* units in one scope: more than any district has communes */
#define CRDT_CERT_BYTES_MAX 3584 /* fits one event; checked against the scope in cert.c */
#define CRDT_CERT_CHAIN_MAX 8    /* certificates from the root down to a node */
#define CRDT_SCOPE_ALL "*"       /* a scope entry meaning every unit (the root's) */

/* Roles, ordered: a certificate may only be issued to a role below the issuer's. */
enum crdt_role { CRDT_ROLE_COMMUNE = 1, CRDT_ROLE_DISTRICT = 2, CRDT_ROLE_PROVINCE = 3 };
enum { CRDT_CERT_F_HEALTH = 1u << 0 }; /* may author risk levels and case statuses */

typedef struct crdt_cert {
    uint8_t subject[TV_NODE_ID_BYTES];
    uint8_t issuer[TV_NODE_ID_BYTES];
    uint32_t role;
    char unit[TV_UNIT_CODE_MAX + 1];
    uint32_t scope_len;
    char scope[CRDT_CERT_SCOPE_MAX][TV_UNIT_CODE_MAX + 1];
    uint32_t flags;
    int64_t not_before_ms, not_after_ms; /* not_after 0: no expiry */
} crdt_cert;

/* Encodes and signs c with the issuer's identity (whose pk must equal c->issuer). *out is
 * malloc'd (caller frees). Returns 0, TV_EINVAL (invalid fields, wrong signer), TV_ELIMIT
 * or TV_ENOMEM. */
int crdt_cert_sign(const crdt_cert *c, const crdt_identity *issuer, uint8_t **out, size_t *out_len);

/* Decodes untrusted bytes and checks the issuer's signature (not the chain). The
 * certificate struct is large (scope table): callers keep it off small stacks.
 * Returns 0, TV_EDECODE, TV_EVERSION, TV_ELIMIT or TV_ESIG; *c is zeroed on failure. */
int crdt_cert_open(crdt_cert *c, const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));
/* crdt_cert_open, verifying the signature through the memo m (crdt/sigmemo.h; NULL: none). */
int crdt_cert_open_memo(crdt_cert *c, const uint8_t *buf, size_t len, crdt_sig_memo *m)
    __attribute__((warn_unused_result));

/* Decodes a certificate that was verified when it was stored (crdt_cert_open then), without
 * verifying the signature again: for a store reading back its own installed certificates.
 * Returns 0, TV_EDECODE, TV_EVERSION or TV_ELIMIT; *c is zeroed on failure. */
int crdt_cert_decode(crdt_cert *c, const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));

/* Returns 1 when unit is within c's scope. */
int crdt_cert_covers(const crdt_cert *c, const char *unit, size_t unit_len);

/* Whether c may set case statuses and risk levels for unit: it has the health flag and its
 * scope covers the unit (a local unit <commune>.<local> through its commune). */
int crdt_cert_health_covers(const crdt_cert *c, const char *unit, size_t unit_len);

/* Whether c may author a unit event for unit: its scope covers the unit's owner (the code
 * before the first '.', or the code itself), or the unit is c's own. */
int crdt_cert_names_unit(const crdt_cert *c, const char *unit, size_t unit_len);

/* Checks that child may be issued by parent: child->issuer is parent->subject, the role is
 * lower, the scope is no wider, the validity lies within the parent's, and only a health
 * parent grants the health flag. Returns 0 or TV_EPERM. */
int crdt_cert_narrows(const crdt_cert *parent, const crdt_cert *child);

/* Checks that c is valid at now_ms. Returns 0 or TV_EPERM. */
int crdt_cert_valid_at(const crdt_cert *c, int64_t now_ms);

/* Checks the subject's consent to c: sig is the subject's Ed25519 signature of the
 * enrolment request (PROTOCOL.md §8.1) rebuilt from c's subject, role and unit and the
 * request's name and created time. Returns 0, TV_ESIG, TV_ELIMIT or TV_EINVAL (a role with
 * no request). */
#define CRDT_CERT_REQUEST_MAGIC "truyvet-enroll-request-v1"
#define CRDT_CERT_REQUEST_CONTEXT "truyvet/enroll-request/v1"
int crdt_cert_consent_verify(const crdt_cert *c, const char *name, size_t name_len,
                             int64_t created_ms, const uint8_t sig[TV_SIG_BYTES])
    __attribute__((warn_unused_result));

/* Returns 1 when c is a root certificate (self-issued). */
int crdt_cert_is_root(const crdt_cert *c);

#endif
