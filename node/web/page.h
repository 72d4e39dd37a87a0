/* The console's pages, static files and API description (page.c). */
#ifndef TV_NODE_WEB_PAGE_H
#define TV_NODE_WEB_PAGE_H

#include "node/web/http.h"

/* A page: the shell (static/index.html). */
int tv_web_page(tv_web *w, tv_req *q, tv_resp *r);
/* GET /static/{name}. */
int tv_web_static(tv_web *w, tv_req *q, tv_resp *r);
/* GET /api/openapi.json. */
int tv_web_openapi(tv_web *w, tv_req *q, tv_resp *r);

#endif
