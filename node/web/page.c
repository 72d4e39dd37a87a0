/* The console's pages and static files. Every page path answers with the one shell
 * (static/index.html), which loads static/app.js; the dispatcher has already refused a
 * page the session may not open (route.h). */
#include "node/web/page.h"

#include "node/web/asset.h"

#include <string.h>

static void send_asset(tv_resp *r, const tv_asset *a, int cacheable)
{
    r->status = 200;
    r->kind = TV_RESP_STATIC;
    r->static_body = a->data;
    r->len = a->len;
    r->cacheable = cacheable;
    snprintf(r->type, sizeof r->type, "%s", tv_asset_type(a->name));
}

int tv_web_page(tv_web *w, tv_req *q, tv_resp *r)
{
    (void)w;
    (void)q;
    const tv_asset *a = tv_asset_find("index.html");
    if (!a) {
        tv_resp_error(r, 500, "internal", "the console's pages are missing from this build.",
                      "Bản cài đặt này thiếu các trang của bảng điều khiển.");
        return 0;
    }
    send_asset(r, a, 0);
    return 0;
}

int tv_web_static(tv_web *w, tv_req *q, tv_resp *r)
{
    (void)w;
    const tv_asset *a = tv_asset_find(q->cap[0]);
    if (!a || strcmp(q->cap[0], "index.html") == 0) {
        tv_resp_error(r, 404, "not_found", "no such file.", "Không có tệp này.");
        return 0;
    }
    send_asset(r, a, 1);
    return 0;
}

int tv_web_openapi(tv_web *w, tv_req *q, tv_resp *r)
{
    (void)q;
    (void)w;
    const tv_asset *a = tv_asset_find("openapi.json");
    if (!a) {
        tv_resp_error(r, 404, "not_found", "no such file.", "Không có tệp này.");
        return 0;
    }
    send_asset(r, a, 0);
    return 0;
}
