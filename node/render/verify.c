/* A store's check written out (verify.h). */
#include "node/render/verify.h"

#include "node/render/json.h"

#include <inttypes.h>

int tv_render_verify_fault_json(FILE *f, const tv_verify_fault *x)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, x->origin, TV_NODE_ID_BYTES);
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "fault");
    tv_json_string(&j, x->what);
    tv_json_key(&j, "origin");
    tv_json_string(&j, hex);
    tv_json_key(&j, "seq");
    tv_json_u64(&j, x->seq);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_verify_fault_text(FILE *f, const tv_verify_fault *x)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, x->origin, TV_NODE_ID_BYTES);
    fprintf(f, "FAULT origin %s batch at seq %" PRIu64 ": %s\n", hex, x->seq, x->what);
}

int tv_render_verify_summary_json(FILE *f, const tv_verify *v)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "batches");
    tv_json_u64(&j, v->batches);
    tv_json_key(&j, "events");
    tv_json_u64(&j, v->events);
    tv_json_key(&j, "origins");
    tv_json_u64(&j, v->origins);
    tv_json_key(&j, "faults");
    tv_json_u64(&j, v->n_faults);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

void tv_render_verify_summary_text(FILE *f, const tv_verify *v)
{
    fprintf(f, "verified %" PRIu64 " batches, %" PRIu64 " events from %" PRIu64 " origin%s: %s\n",
            v->batches, v->events, v->origins, v->origins == 1 ? "" : "s",
            v->n_faults ? "FAULTS FOUND" : "no fault");
}
