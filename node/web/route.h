/* The console's routes: each path and method, who may call it, and its handler. The table
 * is data (routes.c); the dispatcher checks, in order, before any handler runs:
 *   1. the route (404, 405);
 *   2. for every method but GET and HEAD: the Origin (and Sec-Fetch-Site) is this server's
 *      own, and X-CSRF-Token is the session's token (before login: the tv_csrf cookie's)
 *      (403 csrf), before anything else is looked at;
 *   3. a body larger than a form on a route that takes no file (413 too_large);
 *   4. the session, its account read again (API: 401 login_required; page: 303 to
 *      /login?next=PATH);
 *   5. the role (403 forbidden), the node's kind (a health route on a node without the
 *      health key, a commune route elsewhere: 403), and for a venue's routes, that a
 *      controller controls that venue (403).
 * Then the handler runs, holding the node's mutex unless the route says it takes it
 * itself (a check-in's account is read again by the gate's writer: TV_RF_GROUP).
 * node/web/static/openapi.json describes every API route; tests keep the two in step. */
#ifndef TV_NODE_WEB_ROUTE_H
#define TV_NODE_WEB_ROUTE_H

#include "node/web/http.h"

/* Roles (a route lists those that may call it). */
enum {
    TV_R_OPERATOR = 1 << 0,
    TV_R_CLERK = 1 << 1,
    TV_R_HEALTH = 1 << 2,
    TV_R_GUARD = 1 << 3,
    TV_R_CONTROLLER = 1 << 4,
    TV_R_STAFF = TV_R_OPERATOR | TV_R_CLERK | TV_R_HEALTH, /* the node's own office */
    TV_R_ANY = TV_R_STAFF | TV_R_GUARD | TV_R_CONTROLLER,
    TV_R_PUBLIC = 1 << 8 /* no login needed */
};

/* Route flags. */
enum {
    TV_RF_PAGE = 1 << 0,    /* an HTML page: HTML answers, 303 to /login without a session */
    TV_RF_NOLOCK = 1 << 1,  /* the handler takes the node's mutex itself */
    TV_RF_UPLOAD = 1 << 2,  /* the body is a file (up to TV_REQ_FILE_MAX); any other route's
                             * body is refused beyond TV_REQ_FORM_MAX (413) */
    TV_RF_HEALTH = 1 << 3,  /* only on a node holding the health key */
    TV_RF_COMMUNE = 1 << 4, /* only on a commune node */
    TV_RF_VENUE = 1 << 5,   /* cap[0] is a venue id: a controller must control it */
    TV_RF_GROUP = 1 << 6    /* with TV_RF_NOLOCK: the handler hands the request to a writer
                             * that holds the node's mutex for a group of them (gate.c), and
                             * that writer checks the account is still current
                             * (tv_web_account_current); the dispatcher checks the rest
                             * without the mutex, so the request does not wait for the
                             * commit under way (not with TV_RF_HEALTH or TV_RF_VENUE,
                             * whose checks read the store) */
};

typedef int (*tv_route_fn)(tv_web *w, tv_req *q, tv_resp *r);

typedef struct tv_route {
    const char *method;  /* "GET", "POST" */
    const char *pattern; /* "/api/venues/{}/live": {} matches one segment */
    unsigned roles, flags;
    tv_route_fn fn;
} tv_route;

/* Every route, then one with method NULL (routes.c). */
extern const tv_route tv_routes[];

/* The role's bit for its name ("clerk"), or 0. */
unsigned tv_web_role_bit(const char *role);

/* Answers request q into r: checks as above, then the handler. */
void tv_web_dispatch(tv_web *w, tv_req *q, tv_resp *r);

/* Is the node's certificate a health one (the health key held)? 1 or 0. Takes no lock. */
int tv_web_health_node(tv_web *w);

#endif
