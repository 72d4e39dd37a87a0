/* The console's view of the node itself: its status (`truyvet status --json`: frontiers,
 * forks, parked batches, retention) and its sync sessions (DIR/peers.json, which the
 * network loop of this same process writes: `truyvet peers`). */
#include "node/web/api.h"

#include "crdt/error.h"
#include "node/format/fileio.h"
#include "node/logic/status.h"
#include "node/render/status.h"

#include <stdlib.h>
#include <string.h>

#define PEERS_FILE_MAX (4 * 1024 * 1024)

int tv_api_status(tv_web *w, tv_req *q, tv_resp *r)
{
    (void)q;
    tv_status s;
    int rc = tv_status_get(w->n, w->n->dir, &s);
    FILE *f = rc ? NULL : tv_resp_json(r, 200);
    if (f) rc = tv_render_status_json(f, w->n, w->n->dir, &s);
    if (rc)
        tv_resp_fail(r, rc, "cannot read the node's status", "không đọc được trạng thái của nút");
    tv_status_free(&s);
    return 0;
}

int tv_api_sync(tv_web *w, tv_req *q, tv_resp *r)
{
    (void)q;
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/peers.json", w->n->dir);
    char *buf = NULL;
    size_t len = 0;
    int rc = tv_file_read(path, PEERS_FILE_MAX, &buf, &len);
    FILE *f = rc == 0 || rc == TV_ENOTFOUND ? tv_resp_json(r, 200) : NULL;
    if (!f) {
        tv_resp_fail(r, rc, "cannot read the sessions", "không đọc được các phiên đồng bộ");
        return 0;
    }
    /* peers.json is the loop's own JSON (written whole, atomically); passed on as is */
    fputs("{\"sessions\":", f);
    if (rc == 0 && len > 0)
        fwrite(buf, 1, len, f);
    else
        fputs("null", f);
    fputs("}\n", f);
    free(buf);
    return 0;
}
