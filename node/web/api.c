/* What the API's handlers share (api.h). */
#include "node/web/api.h"

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
