/* What the API's handlers share (api.h). */
#include "node/web/api.h"

#include "crdt/error.h"

#include "node/format/timefmt.h"

#include <string.h>

typedef struct newest {
    const uint8_t *self;
    int64_t ms;
} newest;

static int newest_one(const uint8_t origin[TV_NODE_ID_BYTES], const store_frontier *f, void *ctx)
{
    newest *n = ctx;
    if (memcmp(origin, n->self, TV_NODE_ID_BYTES) != 0 && f->received_ms > n->ms)
        n->ms = f->received_ms;
    return 0;
}

void tv_api_as_of(tv_web *w, tv_json *j)
{
    newest n = {w->n->id.pk, 0};
    store_txn *t;
    if (store_read_begin(w->n->st, &t) == 0) {
        (void)store_frontier_foreach(t, newest_one, &n);
        store_read_end(t);
    }
    char when[TV_TIME_STR_BYTES];
    tv_json_key(j, "as_of");
    if (n.ms > 0) {
        tv_time_format_vn(when, sizeof when, n.ms);
        tv_json_string(j, when);
    } else {
        tv_json_null(j);
    }
    tv_time_format_vn(when, sizeof when, tv_wall_ms());
    tv_json_key(j, "now");
    tv_json_string(j, when);
}

void tv_resp_why(tv_resp *r, int rc, const tv_why *why)
{
    int status = rc == TV_EINVAL      ? 400
                 : rc == TV_ENOTFOUND ? 404
                 : rc == TV_EPERM     ? 403
                 : rc == TV_EEXIST    ? 409
                                      : 0;
    if (status)
        tv_resp_error(r, status, why->code, why->en, why->vi);
    else
        tv_resp_fail(r, rc, why->en[0] ? why->en : "refused", why->vi[0] ? why->vi : "bị từ chối");
}

int tv_api_write_begin(tv_web *w, tv_resp *r)
{
    int took = tv_node_lock_try(w->n);
    if (took < 0) tv_resp_fail(r, took, "nothing was recorded", "chưa ghi được gì");
    return took;
}

void tv_api_write_end(tv_web *w, int took)
{
    if (took == 1) tv_node_lock_release(w->n);
}
