/* Certificates as JSON and as a line of text (cert.h). */
#include "node/render/cert.h"

#include "crdt/ids.h"
#include "node/format/timefmt.h"
#include "node/logic/enroll.h"
#include "node/logic/node.h"

void tv_render_cert_fields_json(tv_json *j, const crdt_cert *c)
{
    char when[40];
    tv_json_key(j, "subject");
    tv_json_hex(j, c->subject, TV_NODE_ID_BYTES);
    tv_json_key(j, "issuer");
    tv_json_hex(j, c->issuer, TV_NODE_ID_BYTES);
    tv_json_key(j, "role");
    tv_json_string(j, tv_role_name((tv_role)c->role));
    tv_json_key(j, "unit");
    tv_json_string(j, c->unit);
    tv_json_key(j, "scope");
    tv_json_array_begin(j);
    for (uint32_t i = 0; i < c->scope_len; i++)
        tv_json_string(j, c->scope[i]);
    tv_json_array_end(j);
    tv_json_key(j, "health");
    tv_json_bool(j, (c->flags & CRDT_CERT_F_HEALTH) != 0);
    tv_json_key(j, "flags");
    tv_json_u64(j, c->flags);
    tv_time_format_vn(when, sizeof when, c->not_before_ms);
    tv_json_key(j, "not_before");
    tv_json_string(j, when);
    tv_json_key(j, "not_after");
    if (c->not_after_ms) {
        tv_time_format_vn(when, sizeof when, c->not_after_ms);
        tv_json_string(j, when);
    } else {
        tv_json_null(j);
    }
}

void tv_render_cert_json(tv_json *j, const crdt_cert *c)
{
    tv_json_object_begin(j);
    tv_render_cert_fields_json(j, c);
    tv_json_key(j, "root");
    tv_json_bool(j, crdt_cert_is_root(c));
    tv_json_object_end(j);
}

void tv_render_cert_text(FILE *f, const crdt_cert *c)
{
    char scope[CRDT_CERT_SCOPE_MAX * (TV_UNIT_CODE_MAX + 1) + 1], from[40], until[40];
    char issuer[2 * TV_NODE_ID_BYTES + 1];
    tv_enroll_scope_format(scope, sizeof scope, c);
    tv_hex_encode(issuer, c->issuer, TV_NODE_ID_BYTES);
    tv_time_format_vn(from, sizeof from, c->not_before_ms);
    if (c->not_after_ms) tv_time_format_vn(until, sizeof until, c->not_after_ms);
    fprintf(f, "%s %s, scope %s%s, %s%s, valid from %s%s%s", tv_role_name((tv_role)c->role),
            c->unit, scope, c->flags & CRDT_CERT_F_HEALTH ? ", health" : "",
            crdt_cert_is_root(c) ? "self-issued (root)" : "issued by ",
            crdt_cert_is_root(c) ? "" : issuer, from,
            c->not_after_ms ? " until " : " with no expiry", c->not_after_ms ? until : "");
}

void tv_render_enroll_accepted_json(tv_json *j, const tv_enroll_accepted *a)
{
    char root[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(root, a->root, TV_NODE_ID_BYTES);
    tv_json_object_begin(j);
    tv_json_key(j, "root");
    tv_json_string(j, root);
    tv_json_key(j, "cert");
    tv_render_cert_json(j, &a->cert);
    tv_json_key(j, "endpoints");
    tv_json_string(j, a->endpoints);
    tv_json_key(j, "tracing_key_changed");
    tv_json_bool(j, a->key_changed);
    tv_json_key(j, "tracing_key_kind");
    tv_json_string(j, tv_key_kind_name(a->key_kind));
    tv_json_key(j, "resealed");
    tv_json_u64(j, a->resealed);
    tv_json_object_end(j);
}
