/* The handlers of the console's JSON API (node/web/api_*.c), listed with who may call
 * them in routes.c and described in static/openapi.json. Each runs holding the node's
 * mutex unless its route says otherwise, and answers through http.h. */
#ifndef TV_NODE_WEB_API_H
#define TV_NODE_WEB_API_H

#include "node/logic/why.h"
#include "node/render/json.h"
#include "node/web/http.h"
#include "store/store.h"

/* Adds "as_of" to an open JSON object: when this node last received data from any other
 * node (ISO time, null when never), and "now". */
void tv_api_as_of(tv_web *w, tv_json *j);

/* The venue of route segment cap[0] (its id, a prefix or its short code, as the CLI takes
 * it: tv_venue_find): 0 with *v, else 1 after answering r with the CLI's sentence. */
int tv_api_venue_get(tv_web *w, const tv_req *q, store_venue *v, tv_resp *r);

/* An error of the input checks (node/logic/why.h): 400 (TV_EINVAL), 404 (TV_ENOTFOUND),
 * 403 (TV_EPERM), 409 (TV_EEXIST), else as tv_resp_fail. */
void tv_resp_why(tv_resp *r, int rc, const tv_why *why);
/* Takes the node's writer lock for a change: 1 taken (give it back with tv_api_write_end),
 * 0 held already, or a negative error after answering r (409 busy: another program
 * records). */
int tv_api_write_begin(tv_web *w, tv_resp *r);
void tv_api_write_end(tv_web *w, int took);

/* api_venue_edit.c */
int tv_api_venue_add(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_venue_edit(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_controller_add(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_controller_remove(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_venue_remind(tv_web *w, tv_req *q, tv_resp *r);

/* api_venue.c */
int tv_api_categories(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_venues(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_venue_show(tv_web *w, tv_req *q, tv_resp *r);

/* api_auth.c */
int tv_api_session(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_login(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_logout(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_users(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_user_add(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_user_change(tv_web *w, tv_req *q, tv_resp *r);
/* Checks that the session's account still is as it was when it logged in (not removed,
 * disabled or locked, the same role); else ends its sessions and clears q->who. Returns 1
 * when it did. */
int tv_web_account_current(tv_web *w, tv_req *q);

/* api_node.c */
int tv_api_status(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_sync(tv_web *w, tv_req *q, tv_resp *r);

/* api_print.c */
int tv_api_poster_pdf(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_poster_png(tv_web *w, tv_req *q, tv_resp *r);
/* POST /api/cards: personal QR cards for people without a phone, as a PDF. */
int tv_api_cards(tv_web *w, tv_req *q, tv_resp *r);

/* api_report.c */
int tv_api_report(tv_web *w, tv_req *q, tv_resp *r);

/* api_health.c */
int tv_api_trace(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_reveal(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_cases(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_risk(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_alerts(tv_web *w, tv_req *q, tv_resp *r);
/* POST /api/cases (case add) and POST /api/risk (risk set), checked by node/logic/
 * health_input.h with the CLI's sentences; nothing is written when refused. */
int tv_api_case_add(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_risk_set(tv_web *w, tv_req *q, tv_resp *r);

/* api_enroll.c */
int tv_api_enroll_request(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_enroll_issue(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_enroll_accept(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_revoke(tv_web *w, tv_req *q, tv_resp *r);

/* api_units.c */
int tv_api_units(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_unit_add(tv_web *w, tv_req *q, tv_resp *r);
int tv_api_venue_visits(tv_web *w, tv_req *q, tv_resp *r);

#endif
