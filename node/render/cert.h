/* Certificates as the commands and pages show them: the fields of one as JSON, and one
 * line of text ("district 568, scope 568,22333, health, issued by ..., valid from ..."). */
#ifndef TV_NODE_RENDER_CERT_H
#define TV_NODE_RENDER_CERT_H

#include "crdt/cert.h"
#include "node/logic/enroll.h"
#include "node/render/json.h"

#include <stdio.h>

/* Writes a certificate's fields into the open JSON object: subject, issuer, role, unit,
 * scope (array), health, flags, not_before, not_after (null when it never expires). */
void tv_render_cert_fields_json(tv_json *j, const crdt_cert *c);
/* Writes a certificate as a JSON object: its fields and root (whether it is self-issued). */
void tv_render_cert_json(tv_json *j, const crdt_cert *c);

/* Prints a certificate as "role unit, scope S[, health], issued by ISSUER, valid from T
 * until T|with no expiry" (no line end). */
void tv_render_cert_text(FILE *f, const crdt_cert *c);

/* What a node installed on accepting its certificate file (`enroll accept --json`, the
 * console's accept), as a JSON object: root, cert, endpoints, tracing_key_changed,
 * tracing_key_kind, resealed. */
void tv_render_enroll_accepted_json(tv_json *j, const tv_enroll_accepted *a);

#endif
