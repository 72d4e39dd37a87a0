/* Enrolment and revocation: how a node comes to hold a certificate that chains to the
 * province's root of trust, and how that trust is withdrawn.
 *
 * The flow (PROTOCOL.md, "Enrolment files", gives every byte):
 *   1. The province's node is the root: at init it records its self-signed certificate
 *      as a `cert` event in its own log and makes its key the store's root
 *      (tv_enroll_make_root).
 *   2. A new node writes a request: its id, role, unit, name and creation time, signed
 *      with its own key to prove that it holds it (tv_enroll_request_make/_format).
 *   3. The parent's operator checks the request and issues a certificate: it is recorded
 *      as a `cert` event in the parent's log, so it replicates, and written to a
 *      certificate file with the chain from the root down, the root key, and the new
 *      node's pseudonym key sealed to it: K_p for a health node, K_c for a commune when
 *      the issuer holds K_p, else none (tv_enroll_issue; PROTOCOL.md §8.2).
 *   4. The new node checks the file and installs the root, the chain and the tracing key
 *      (tv_enroll_accept).
 * A `revoke` event, recorded by the root or by the issuer of a node's certificate, makes
 * every node that applies it refuse that node's later batches (tv_enroll_revoke).
 *
 * Functions that refuse for a reason a person must read fill `why` (TV_ENROLL_WHY_MAX
 * bytes, may be NULL) with a sentence, without a final full stop. */
#ifndef TV_NODE_ENROLL_H
#define TV_NODE_ENROLL_H

#include "crdt/cert.h"
#include "node/logic/node.h"

#include <stddef.h>
#include <stdint.h>

#define TV_ENROLL_REQUEST_MAGIC "truyvet-enroll-request-v1"
#define TV_ENROLL_CERT_MAGIC "truyvet-enroll-cert-v1"
/* Signature contexts, distinct from those of certificates and batches, so that no
 * signature made for one purpose verifies for another. */
#define TV_ENROLL_REQUEST_SIGN_CONTEXT "truyvet/enroll-request/v1"
#define TV_ENROLL_CERT_SIGN_CONTEXT "truyvet/enroll-cert/v1"

#define TV_ENROLL_WHY_MAX 320
#define TV_ENROLL_REQUEST_BYTES_MAX 2048 /* a request file, CRLF line ends included */
#define TV_ENROLL_ENDPOINTS_MAX 1023     /* bytes of the issuer's endpoint list */
#define TV_ENROLL_SEALED_KEY_BYTES 80    /* crypto_box_SEALBYTES + the tracing key */
#define TV_ENROLL_DAYS_MAX 36500         /* --days: a hundred years is a typo */
/* A certificate file: its fixed lines, the longest endpoint list, and a full chain of the
 * largest certificates in hex; asserted against the line formats in enroll.c. */
#define TV_ENROLL_CERT_FILE_BYTES_MAX                                                              \
    (640 + TV_ENROLL_ENDPOINTS_MAX + CRDT_CERT_CHAIN_MAX * (8 + 2 * CRDT_CERT_BYTES_MAX))

/* --- the root --------------------------------------------------------------------- */

/* Makes a province node its own root of trust: records its self-signed certificate (role
 * province, its unit, scope "*", the health flag if health, valid from now without
 * expiry) as a `cert` event, and sets the store's root and installs the certificate, all
 * in one durable transaction. *seq (may be NULL) gets the event's seq. Returns 0,
 * TV_EPERM (not a province), TV_EEXIST (the node already has a root), TV_ENOSPC or
 * another store error. */
int tv_enroll_make_root(tv_node *n, int health, uint64_t *seq);

/* --- requests ---------------------------------------------------------------------- */

typedef struct tv_enroll_request {
    uint8_t node_id[TV_NODE_ID_BYTES];
    tv_role role;
    char unit[TV_UNIT_CODE_MAX + 1];
    char name[TV_NODE_NAME_MAX + 1];
    int64_t created_ms; /* when the node was created, i.e. when its key was made */
    uint8_t sig[TV_SIG_BYTES];
} tv_enroll_request;

/* Fills *r with the node's request, signed with its key. Control characters in the name
 * become spaces (a request is a line-based file). Returns 0 or a store error. */
int tv_enroll_request_make(tv_node *n, tv_enroll_request *r);

/* Writes the request's text into out (cap bytes, TV_ENROLL_REQUEST_BYTES_MAX always
 * suffice) with a final NUL. Returns its length without the NUL, or TV_ELIMIT. */
int tv_enroll_request_format(const tv_enroll_request *r, char *out, size_t cap);

/* Parses request text (LF or CRLF line ends) and verifies its signature. Returns 0,
 * TV_EVERSION (not a request of this version), TV_EDECODE (malformed; why says where) or
 * TV_ESIG; *r is zeroed on failure. */
int tv_enroll_request_parse(tv_enroll_request *r, const char *text, size_t len, char *why)
    __attribute__((warn_unused_result));

/* --- certificate files -------------------------------------------------------------- */

typedef struct tv_enroll_cert_file {
    uint8_t node_id[TV_NODE_ID_BYTES]; /* the node the certificate is for */
    uint8_t root[TV_NODE_ID_BYTES];
    uint8_t issuer[TV_NODE_ID_BYTES]; /* signs the file; the last certificate's issuer */
    int64_t issued_ms;
    char endpoints[TV_ENROLL_ENDPOINTS_MAX + 1]; /* the issuer's, comma-separated; "" */
    uint32_t chain_len;                          /* the root's certificate first */
    size_t cert_len[CRDT_CERT_CHAIN_MAX];
    uint8_t cert[CRDT_CERT_CHAIN_MAX][CRDT_CERT_BYTES_MAX];
    int has_key; /* 0: the tracing-key line is empty (the issuer holds no key for node_id) */
    uint8_t sealed_key[TV_ENROLL_SEALED_KEY_BYTES]; /* the pseudonym key, sealed to node_id */
    uint8_t sig[TV_SIG_BYTES];
} tv_enroll_cert_file;

/* Parses a certificate file (LF or CRLF line ends) and checks it whole: the issuer's
 * signature over the file, every certificate's signature, and the chain (the first is the
 * root's self-signed certificate for the file's root key, each one narrows the one before,
 * the last is for node_id and issued by the issuer). It does not look at any node's store
 * nor at the time. The struct is large: allocate it. Returns 0, TV_EVERSION, TV_EDECODE,
 * TV_ESIG (the file or a certificate was altered) or TV_EPERM (the chain does not hold),
 * with why set; *f is zeroed on failure. */
int tv_enroll_cert_file_parse(tv_enroll_cert_file *f, const char *text, size_t len, char *why)
    __attribute__((warn_unused_result));

/* --- issuing and accepting ---------------------------------------------------------- */

typedef struct tv_enroll_issue_opts {
    const char *const *scope; /* units the child may write for; its own is always added */
    uint32_t scope_len;
    uint32_t days;         /* validity from now; 0: as long as the issuer's own */
    int health;            /* grant the health flag (the issuer must hold it) */
    const char *endpoints; /* the issuer's listen endpoints for the file, or NULL */
    int reissue;           /* record a new certificate although this node issued one to
                            * that node that still holds (same or not): a new scope, flag
                            * or validity (--days) */
    int *same;             /* may be NULL: set to 1 when the certificate this node already
                            * issued was given back and nothing was recorded, else 0 */
} tv_enroll_issue_opts;

/* Issues a certificate to the node of req (whose signature is checked again): role and
 * unit from the request, scope [unit] plus o->scope, valid from the requester's creation,
 * but not before the issuer's own certificate nor after now, and not before one already
 * installed for that node (so the new one replaces it everywhere). Receivers take the
 * node's whole log under it, events recorded before enrolment included: not_before only
 * orders a node's certificates (PROTOCOL.md §2.3). Records it as a `cert` event in n's
 * log (with any pending events) and, once that is durable, returns the certificate file's
 * text in *file (malloc'd, caller frees) and the certificate in *issued (may be NULL).
 * Refuses, with why set: TV_EPERM when n has no certificate, is a commune, or is revoked
 * or expired; when the requester's role is not below n's, its unit or a scope code is not
 * in n's scope, the health flag is asked of a non-health issuer, the validity would
 * outlast n's own, or the requester is revoked; TV_EINVAL for an invalid scope code or
 * days, or a requester's key nothing can be sealed to (one with a small-order part);
 * TV_ESIG for a bad request signature. Else 0, TV_ELIMIT, TV_ENOMEM or a store error. */
/* Issuing twice: when the node of req already holds a certificate issued by n that is
 * valid now and not revoked, with the same role, unit, scope and health flag as the one
 * asked for, nothing is recorded: the file is made again around that certificate (its
 * validity unchanged), so repeating the command after a lost file gives the same
 * certificate rather than a second one. When that certificate differs from the one
 * asked for, TV_EEXIST (why names both scopes). o->reissue records a new one in either
 * case. */
int tv_enroll_issue(tv_node *n, const tv_enroll_request *req, const tv_enroll_issue_opts *o,
                    char **file, size_t *file_len, crdt_cert *issued, char *why);

/* What tv_enroll_accept installed. */
typedef struct tv_enroll_accepted {
    uint8_t root[TV_NODE_ID_BYTES];
    crdt_cert cert;       /* this node's certificate as now installed */
    int key_changed;      /* the pseudonym key or its kind differs from the node's before */
    tv_key_kind key_kind; /* the node's pseudonym key now */
    uint64_t resealed;    /* people recorded before, now re-sealed to the health nodes */
    char endpoints[TV_ENROLL_ENDPOINTS_MAX + 1];
} tv_enroll_accepted;

/* Accepts a certificate file at the node it is for: checks it (tv_enroll_cert_file_parse),
 * that it is for this node's key, role and unit and not expired, and that the node has no
 * other root; then in one durable transaction sets the root and installs every
 * certificate of the chain in order; then sets the pseudonym key by the certificate
 * (tv_node_set_tracing_key: persons recorded before keep their old pseudonyms): the
 * sealed K_p for a health node, the sealed K_c for a commune (a commune's file without a
 * key leaves its key as it is, until a key_grant), none for any other node; then does the
 * key work of what it holds (tv_keys_after_receive) and re-seals to the health nodes the
 * details it sealed to itself before (tv_reseal_own).
 * Accepting the same file again changes nothing. n must be opened with TV_NODE_WRITE, with
 * nothing pending. *out (large: allocate it) says what was installed. Returns 0; with why
 * set, TV_EVERSION, TV_EDECODE, TV_ESIG, TV_EPERM (chain, another node's file, another
 * root, expired), TV_EREVOKED; else TV_ENOMEM, TV_EIO, TV_ENOSPC, TV_ECORRUPT or a store
 * error. If the tracing key cannot be written or the details re-sealed after the commit,
 * accepting the file again completes it. */
int tv_enroll_accept(tv_node *n, const char *text, size_t len, tv_enroll_accepted *out, char *why);

/* --- revocation --------------------------------------------------------------------- */

/* Records a `revoke` event for subject with an optional reason (UTF-8, at most
 * CRDT_TEXT_BYTES_MAX bytes; NULL or "" for none) and commits it; *seq (may be NULL) gets
 * its seq. Only the root, or the issuer of the subject's installed certificate, may: the
 * others would refuse it. Returns 0; with why set, TV_EPERM (not allowed, or not
 * enrolled), TV_EEXIST (already revoked), TV_EINVAL (this node's own key, or a bad
 * reason); else TV_ENOSPC or another store error. */
int tv_enroll_revoke(tv_node *n, const uint8_t subject[TV_NODE_ID_BYTES], const char *reason,
                     uint64_t *seq, char *why);

/* Writes scope as "a,b,c" into out (cap bytes, truncated like snprintf). */
void tv_enroll_scope_format(char *out, size_t cap, const crdt_cert *c);

#endif
