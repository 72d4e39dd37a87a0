/* An event's fields as JSON, from the codec's table (event_json.h). */
#include "node/render/event_json.h"

#include "crdt/assert.h"
#include "crdt/error.h"
#include "node/format/timefmt.h"
#include "node/logic/category.h"

#include <stdio.h>

typedef struct fields_ctx {
    tv_json *j;
    const crdt_event *ev;
    crdt_cert *scratch;
    tv_cert_json_fn cert_json;
} fields_ctx;

static void cert_value(fields_ctx *c, const crdt_field_view *f)
{
    int rc = crdt_cert_open(c->scratch, f->p, f->len);
    if (rc == TV_OK) {
        c->cert_json(c->j, c->scratch);
        return;
    }
    tv_json_key(c->j, "error");
    tv_json_string(c->j, tv_strerror(rc));
    tv_json_key(c->j, "cert");
    tv_json_hex(c->j, f->p, f->len);
}

/* The value of one field, its key written. */
static void field_value(fields_ctx *c, const crdt_field_view *f)
{
    tv_json *j = c->j;
    switch (f->show) {
    case CRDT_SHOW_HEX:
        tv_json_hex(j, f->p, f->len);
        break;
    case CRDT_SHOW_HEX_LIST:
        tv_json_array_begin(j);
        for (size_t i = 0; i < f->len; i++)
            tv_json_hex(j, f->p + i * f->unit, f->unit);
        tv_json_array_end(j);
        break;
    case CRDT_SHOW_TEXT:
        tv_json_string_n(j, (const char *)f->p, f->len);
        break;
    case CRDT_SHOW_UINT:
    case CRDT_SHOW_LENGTH:
        tv_json_u64(j, f->u);
        break;
    case CRDT_SHOW_TIME: {
        char w[TV_TIME_STR_BYTES];
        tv_time_format_vn(w, sizeof w, f->ms);
        tv_json_string(j, w);
        break;
    }
    case CRDT_SHOW_NAME:
        if (f->label)
            tv_json_string(j, f->label);
        else /* a value the decoder took but this version has no name for */
            tv_json_u64(j, f->u);
        break;
    case CRDT_SHOW_CATEGORY: {
        const tv_category *cat = f->u <= UINT16_MAX ? tv_category_by_code((unsigned)f->u) : NULL;
        if (cat)
            tv_json_string(j, cat->slug);
        else
            tv_json_u64(j, f->u);
        break;
    }
    case CRDT_SHOW_MINUTE:
        if (f->u == CRDT_CLOSES_NONE) {
            tv_json_null(j);
        } else {
            char hm[8];
            snprintf(hm, sizeof hm, "%02u:%02u", (unsigned)((f->u - 1) / 60 % 100),
                     (unsigned)((f->u - 1) % 60));
            tv_json_string(j, hm);
        }
        break;
    case CRDT_SHOW_RECIPIENTS:
        TV_ASSERT(c->ev->type == CRDT_EV_PERSON && f->u <= CRDT_SEALED_MAX);
        tv_json_array_begin(j);
        for (uint64_t i = 0; i < f->u; i++)
            tv_json_hex(j, c->ev->u.person.sealed[i].to, TV_NODE_ID_BYTES);
        tv_json_array_end(j);
        break;
    case CRDT_SHOW_CERT: /* written as members by cert_value */
        break;
    }
}

static int field_json(const crdt_field_view *f, void *arg)
{
    fields_ctx *c = arg;
    if (f->show == CRDT_SHOW_CERT) { /* the certificate's own fields, not one member */
        cert_value(c, f);
        return 0;
    }
    tv_json_key(c->j, f->name);
    field_value(c, f);
    return 0;
}

void tv_event_fields_json(tv_json *j, const crdt_event *ev, crdt_cert *scratch,
                          tv_cert_json_fn cert_json)
{
    fields_ctx c = {.j = j, .ev = ev, .scratch = scratch, .cert_json = cert_json};
    (void)crdt_event_fields(ev, field_json, &c);
}
