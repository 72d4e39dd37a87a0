/* The web console's gate: check-ins and check-outs posted by the gate page (a USB QR reader
 * typing into a browser) or by any client of POST /api/scan, answered only once durable.
 *
 * One writer thread records for every request: a request queues its line and waits; the
 * writer takes every line queued, records them as one group (node/logic/gate.h: the
 * station's answers) in one commit, under the node's mutex and writer lock, then wakes
 * each request with its answer. While one group is being made durable the next one
 * gathers, so many gates (or clients) share each fsync: a request reaches the queue
 * without the node's mutex (route.h, TV_RF_GROUP), and the writer, holding it, checks
 * that each request's account is still current before it records the line. */
#ifndef TV_NODE_WEB_GATE_H
#define TV_NODE_WEB_GATE_H

#include "node/web/http.h"

#define TV_WEB_GATE_GROUP_MAX 1024 /* lines in one commit, at most */
#define TV_WEB_VENUE_TEXT_MAX 32   /* a venue as given: its id, a prefix or its short code */

typedef struct tv_web_gate tv_web_gate;

/* Starts the writer of server w. Returns 0, TV_ENOMEM or TV_EIO (no thread). */
int tv_web_gate_new(tv_web *w, tv_web_gate **out);
/* Stops the writer (lines still queued are answered first). NULL is fine. */
void tv_web_gate_free(tv_web_gate *g);

/* POST /api/scan: venue, line, direction (in|out; vào|ra), at (optional: when it was
 * scanned, as `truyvet scan --at` takes it). */
int tv_web_scan(tv_web *w, tv_req *q, tv_resp *r);

#endif
