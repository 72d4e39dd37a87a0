/* The console's units (a clerk's villages) and a venue's visits of a day: the unit tree
 * under this node as `truyvet unit list --json` gives it, a unit added as `truyvet unit
 * add` adds it (node/logic/unit_input.h: the same checks and sentences), and the visits
 * as `truyvet venue visits --json` lists them (node/logic/visits.h). */
#include "node/web/api.h"

#include "crdt/error.h"
#include "node/format/timefmt.h"
#include "node/logic/unit_input.h"
#include "node/logic/units.h"
#include "node/logic/visits.h"
#include "node/render/units.h"
#include "node/render/visits.h"

#include <string.h>

static void units_under(tv_json *j, const tv_tree *tr, const char *code, int depth)
{
    size_t nk;
    tv_tree_unit *const *kids = tv_tree_children(tr, code, &nk);
    for (size_t i = 0; i < nk && depth < 8; i++) {
        tv_render_unit_json(j, kids[i]);
        units_under(j, tr, kids[i]->code, depth + 1);
    }
}

/* GET /api/units?under=CODE -> {"under", "name", "units": [...], "as_of", "now"} */
int tv_api_units(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *under = tv_req_query(q, "under");
    if (!under || !under[0]) under = w->n->unit;
    if (!crdt_unit_code_valid(under, strlen(under))) {
        tv_why why;
        tv_why_set(&why, "unit_invalid", "'%s' is not a unit code.", "'%s' không phải mã đơn vị.",
                   under);
        tv_resp_why(r, TV_EINVAL, &why);
        return 0;
    }
    store_txn *t;
    tv_tree tr;
    int rc = store_read_begin(w->n->st, &t);
    if (rc == 0) {
        rc = tv_tree_load(t, &tr);
        store_read_end(t);
    }
    if (rc) {
        tv_resp_fail(r, rc, "no list", "không đọc được danh sách đơn vị");
        return 0;
    }
    FILE *f = tv_resp_json(r, 200);
    if (f) {
        const tv_tree_unit *self = tv_tree_find(&tr, under);
        tv_json j;
        tv_json_init(&j, f);
        tv_json_object_begin(&j);
        tv_json_key(&j, "under");
        tv_json_string(&j, under);
        tv_json_key(&j, "name");
        tv_json_string(&j, self ? self->name : "");
        tv_json_key(&j, "units");
        tv_json_array_begin(&j);
        units_under(&j, &tr, under, 0);
        tv_json_array_end(&j);
        tv_api_as_of(w, &j);
        tv_json_object_end(&j);
    }
    tv_tree_free(&tr);
    return 0;
}

/* The field name of q, NULL when empty. */
static const char *field(const tv_req *q, const char *name)
{
    const char *v = tv_req_arg(q, name);
    return v && v[0] ? v : NULL;
}

/* POST /api/units code,name,parent -> 201 {"code","name","parent"} */
int tv_api_unit_add(tv_web *w, tv_req *q, tv_resp *r)
{
    const char *code = field(q, "code");
    char parent[TV_UNIT_CODE_MAX + 1];
    crdt_unit u;
    tv_why why = {0};
    int rc =
        tv_unit_input(code ? code : "", field(q, "name"), field(q, "parent"), parent, &u, &why);
    if (rc) {
        tv_resp_why(r, rc, &why);
        return 0;
    }
    int took = tv_api_write_begin(w, r);
    if (took < 0) return 0;
    rc = tv_unit_record(w->n, &u, &why);
    tv_api_write_end(w, took);
    if (rc == TV_EPERM || rc == TV_ESCOPE) {
        tv_resp_error(r, 403, why.code, why.en, why.vi);
        return 0;
    }
    if (rc) {
        tv_resp_fail(r, rc, "nothing was recorded", "chưa ghi được gì");
        return 0;
    }
    FILE *f = tv_resp_json(r, 201);
    if (!f) return 0;
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "code");
    tv_json_string_n(&j, u.code.p, u.code.n);
    tv_json_key(&j, "name");
    tv_json_string_n(&j, u.name.p, u.name.n);
    tv_json_key(&j, "parent");
    tv_json_string(&j, parent);
    tv_json_object_end(&j);
    return 0;
}

/* The day of query parameter day (YYYY-MM-DD or "today", the default): 0, else 1 after
 * answering 400 with the CLI's sentence. */
static int day_arg(const tv_req *q, int64_t now_ms, int32_t *day, tv_resp *r)
{
    const char *d = tv_req_query(q, "day");
    if (!d || !d[0] || strcmp(d, "today") == 0) {
        *day = crdt_day_vn(now_ms);
        return 0;
    }
    if (tv_date_parse(d, day) == 0) return 0;
    tv_why why;
    tv_why_set(&why, "day_invalid", "--date takes YYYY-MM-DD or 'today', not '%s'.",
               "Ngày phải viết dạng NNNN-TT-NN (ví dụ 2021-10-06), không phải '%s'.", d);
    tv_resp_why(r, TV_EINVAL, &why);
    return 1;
}

/* GET /api/venues/{id}/visits?day=D -> {"venue","day","visits":[...],"people","as_of"} */
int tv_api_venue_visits(tv_web *w, tv_req *q, tv_resp *r)
{
    int64_t now = tv_wall_ms();
    int32_t day;
    store_venue v;
    if (day_arg(q, now, &day, r) || tv_api_venue_get(w, q, &v, r)) return 0;
    tv_venue_day d = {0};
    store_txn *t;
    int rc = store_read_begin(w->n->st, &t);
    if (rc == 0) {
        rc = tv_venue_day_get(t, v.id, day, now, &d);
        store_read_end(t);
    }
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (rc) tv_resp_fail(r, rc, "cannot read the venue's visits", "không đọc được lượt ghé");
    if (f) {
        char ds[TV_DATE_STR_BYTES];
        tv_date_format(ds, sizeof ds, day);
        tv_json j;
        tv_json_init(&j, f);
        tv_json_object_begin(&j);
        tv_json_key(&j, "venue");
        tv_json_string(&j, q->cap[0]);
        tv_json_key(&j, "day");
        tv_json_string(&j, ds);
        tv_json_key(&j, "visits");
        tv_json_array_begin(&j);
        for (size_t i = 0; i < d.nrows; i++)
            tv_render_visit_json(&j, &d.rows[i]);
        tv_json_array_end(&j);
        tv_json_key(&j, "people");
        tv_json_u64(&j, d.people);
        tv_api_as_of(w, &j);
        tv_json_object_end(&j);
    }
    tv_venue_day_free(&d);
    return 0;
}
