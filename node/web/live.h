/* The web console's live list: GET /api/venues/{id}/live, a stream of Server-Sent Events,
 * one `scan` event for each check-in or check-out at the venue as it is committed (by the
 * console's gate, at once; by `truyvet station` in another process, within a second), the
 * person masked as on the venue owner's list. A comment line keeps the connection open
 * while nothing happens. */
#ifndef TV_NODE_WEB_LIVE_H
#define TV_NODE_WEB_LIVE_H

#include "node/web/http.h"

#define TV_LIVE_POLL_MS 1000  /* the store is read this often for others' commits */
#define TV_LIVE_BEAT_MS 15000 /* a comment is sent after this long without an event */
/* A browser reconnecting with Last-Event-ID is sent what it missed, when that is at most
 * this many events of the node's log ago (else the list starts again from now): a
 * reconnection after a dropped link, read under the node's mutex, so kept short. */
#define TV_LIVE_RESUME_MAX 2000

typedef struct tv_web_live tv_web_live;

int tv_web_live_new(tv_web *w, tv_web_live **out);
/* Wakes every live list: something was committed. */
void tv_web_live_notify(tv_web_live *l);
/* Ends every live list (the server stops). */
void tv_web_live_stop(tv_web_live *l);
void tv_web_live_free(tv_web_live *l);

/* GET /api/venues/{id}/live. */
int tv_web_live_open(tv_web *w, tv_req *q, tv_resp *r);

#endif
