/* The console's venue API: the list and search, one venue, its controllers, reminders and
 * suspension (node/logic/venue.h, written by node/render/venue.h as `truyvet venue ...
 * --json` writes it). */
#include "node/web/api.h"

#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/payload.h"
#include "node/format/text.h"
#include "node/logic/category.h"
#include "node/logic/venue.h"
#include "node/logic/venue_input.h"
#include "node/render/json.h"
#include "node/render/venue.h"

#include <stdlib.h>
#include <string.h>

#define DAYS_DEFAULT 7
#define DAYS_MAX 3650
#define MS_PER_DAY INT64_C(86400000)

int tv_api_categories(tv_web *w, tv_req *q, tv_resp *r)
{
    (void)w;
    (void)q;
    FILE *f = tv_resp_json(r, 200);
    if (!f) return 0;
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "categories");
    tv_json_array_begin(&j);
    const tv_category *c;
    for (size_t i = 0; (c = tv_category_at(i)); i++) {
        tv_json_object_begin(&j);
        tv_json_key(&j, "code");
        tv_json_u64(&j, c->code);
        tv_json_key(&j, "slug");
        tv_json_string(&j, c->slug);
        tv_json_key(&j, "name_vi");
        tv_json_string(&j, c->name_vi);
        tv_json_object_end(&j);
    }
    tv_json_array_end(&j);
    tv_json_object_end(&j);
    tv_json_line_end(&j);
    return 0;
}

int tv_api_venue_get(tv_web *w, const tv_req *q, store_venue *v, tv_resp *r)
{
    tv_why why = {0};
    int rc = tv_venue_find(w->n, q->cap[0], v, &why);
    if (rc) tv_resp_why(r, rc, &why);
    return rc != 0;
}

/* The listing's filter: the search text (folded), and for a controller its venues. */
typedef struct list_ctx {
    tv_json *j;
    char fold[TV_TEXT_FOLD_BYTES];
    tv_web *w;
    const char *controller; /* the phone, or NULL */
} list_ctx;

static int matches(list_ctx *c, const store_venue *v)
{
    if (c->controller) {
        uint8_t tag[CRDT_TAG_BYTES]; /* one is enough to know */
        uint32_t ntags = 0;
        int rc = tv_venue_controller_tags(c->w->n, v->id, c->controller, tag, 1, &ntags);
        if (rc != TV_ELIMIT && (rc || ntags == 0)) return 0;
    }
    if (!c->fold[0]) return 1;
    char name[TV_TEXT_FOLD_BYTES], village[TV_TEXT_FOLD_BYTES], code[TV_SHORT_CODE_STR];
    char code_fold[TV_TEXT_FOLD_BYTES], hex[2 * TV_VENUE_ID_BYTES + 1];
    tv_text_fold(v->name, name, sizeof name);
    tv_text_fold(v->village, village, sizeof village);
    tv_short_code(code, v->id);
    tv_text_fold(code, code_fold, sizeof code_fold);
    tv_hex_encode(hex, v->id, sizeof v->id);
    return strstr(name, c->fold) || strstr(village, c->fold) || strstr(code_fold, c->fold) ||
           strncmp(hex, c->fold, strlen(c->fold)) == 0;
}

static int list_one(const store_venue *v, void *arg)
{
    list_ctx *c = arg;
    if (!matches(c, v)) return 0;
    tv_json_object_begin(c->j);
    tv_render_venue_fields_json(c->j, v);
    tv_json_object_end(c->j);
    return 0;
}

static int list_noncompliant(tv_web *w, tv_req *q, list_ctx *c, const tv_venue_scope *s, tv_resp *r)
{
    const char *ds = tv_req_query(q, "days");
    long days = DAYS_DEFAULT;
    if (ds) {
        char *end;
        days = strtol(ds, &end, 10);
        if (ds[0] < '0' || ds[0] > '9' || *end || days < 1 || days > DAYS_MAX) {
            char en[160];
            snprintf(en, sizeof en, "--days takes a whole number of days from 1 to %d, not '%s'.",
                     DAYS_MAX, ds);
            tv_resp_error(r, 400, "days_invalid", en, "Số ngày phải là số nguyên từ 1 đến 3650.");
            return 1;
        }
    }
    tv_venue_nc nc;
    int rc = tv_venue_noncompliant(w->n, s, tv_wall_ms() - days * MS_PER_DAY, &nc);
    for (size_t i = 0; rc == 0 && i < nc.n; i++) {
        if (!matches(c, &nc.rows[i].v)) continue;
        tv_json_object_begin(c->j);
        tv_render_venue_fields_json(c->j, &nc.rows[i].v);
        tv_render_venue_status_json(c->j, &nc.rows[i].st);
        tv_json_object_end(c->j);
    }
    tv_venue_nc_free(&nc);
    return rc;
}

int tv_api_venues(tv_web *w, tv_req *q, tv_resp *r)
{
    list_ctx c = {.w = w};
    const char *text = tv_req_query(q, "q"), *unit = tv_req_query(q, "unit");
    if (text) tv_text_fold(text, c.fold, sizeof c.fold);
    if (strcmp(q->who.role, "controller") == 0) c.controller = q->who.user;
    tv_venue_scope s;
    int rc = tv_venue_scope_init(w->n, unit && unit[0] ? unit : NULL, &s);
    if (rc == TV_ENOTFOUND) {
        tv_resp_error(r, 400, "unit_unknown", "no such unit.", "Không có đơn vị này.");
        return 0;
    }
    if (rc) {
        tv_resp_fail(r, rc, "cannot list the venues", "không liệt kê được địa điểm");
        return 0;
    }
    FILE *f = tv_resp_json(r, 200);
    tv_json j;
    if (f) {
        tv_json_init(&j, f);
        c.j = &j;
        tv_json_object_begin(&j);
        tv_json_key(&j, "venues");
        tv_json_array_begin(&j);
        const char *nc = tv_req_query(q, "noncompliant");
        if (nc && strcmp(nc, "1") == 0)
            rc = list_noncompliant(w, q, &c, &s, r);
        else
            rc = tv_venue_each(w->n, &s, list_one, &c);
        if (rc == 0) {
            tv_json_array_end(&j);
            tv_api_as_of(w, &j);
            tv_json_object_end(&j);
            tv_json_line_end(&j);
        } else if (rc < 0) {
            tv_resp_fail(r, rc, "cannot list the venues", "không liệt kê được địa điểm");
        }
    }
    tv_venue_scope_release(&s);
    return 0;
}

int tv_api_venue_show(tv_web *w, tv_req *q, tv_resp *r)
{
    store_venue v;
    if (tv_api_venue_get(w, q, &v, r)) return 0;
    tv_venue_detail d;
    int rc = tv_venue_detail_get(w->n, v.id, 1, &d);
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (f) rc = tv_render_venue_show_json(f, &v, &d);
    if (rc) tv_resp_fail(r, rc, "cannot read the venue", "không đọc được địa điểm");
    tv_venue_detail_free(&d);
    return 0;
}
