/* The audit of full views written out (audit.h). */
#include "node/render/audit.h"

#include "crdt/hlc.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/render/json.h"

#include <sodium.h>

int tv_render_audit_row_json(FILE *f, const tv_audit_row *r)
{
    char when[40], whose[2 * TV_PERSON_REF_BYTES + 1];
    tv_time_format_vn(when, sizeof when, (int64_t)crdt_hlc_ms(r->hlc));
    sodium_bin2hex(whose, sizeof whose, r->person, TV_PERSON_REF_BYTES);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "at");
    tv_json_string(&j, when);
    tv_json_key(&j, "node");
    tv_json_hex(&j, r->origin, TV_NODE_ID_BYTES);
    tv_json_key(&j, "unit");
    tv_json_string(&j, r->unit);
    tv_json_key(&j, "ref");
    tv_json_string(&j, whose);
    tv_json_key(&j, "reason");
    tv_json_string(&j, r->reason);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_audit_row_text(FILE *f, const tv_audit_row *r)
{
    char when[40], who[17], whose[2 * TV_PERSON_REF_BYTES + 1];
    tv_time_format_vn(when, sizeof when, (int64_t)crdt_hlc_ms(r->hlc));
    sodium_bin2hex(who, sizeof who, r->origin, 8);
    sodium_bin2hex(whose, sizeof whose, r->person, TV_PERSON_REF_BYTES);
    fprintf(f, "%s  node %s (unit %s)  person %s  reason: %s\n", when, who,
            *r->unit ? r->unit : "?", whose, tv_text_esc(r->reason));
}
