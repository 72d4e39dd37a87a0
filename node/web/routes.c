/* The console's routes (route.h): every page and API call, who may use it, its handler.
 * Adding an API call: its handler in node/web/api_*.c (declared in api.h), its line here,
 * and its entry in static/openapi.json (tests/node/web/openapi_test.sh checks both ways). */
#include "node/web/api.h"
#include "node/web/gate.h"
#include "node/web/live.h"
#include "node/web/page.h"
#include "node/web/route.h"

#include <stddef.h>

#define P TV_RF_PAGE
#define PAGE(path, roles, flags)                                                                   \
    {                                                                                              \
        "GET", path, roles, P | (flags), tv_web_page                                               \
    }

const tv_route tv_routes[] = {
    /* pages (the shell; app.js draws each) */
    {"GET", "/login", TV_R_PUBLIC, P, tv_web_page},
    PAGE("/", TV_R_ANY, 0),
    PAGE("/venues", TV_R_STAFF | TV_R_CONTROLLER, 0),
    PAGE("/venues/new", TV_R_CLERK | TV_R_OPERATOR, TV_RF_COMMUNE),
    PAGE("/venues/{}", TV_R_STAFF | TV_R_CONTROLLER, TV_RF_VENUE),
    PAGE("/venues/{}/live", TV_R_CLERK | TV_R_OPERATOR | TV_R_CONTROLLER, TV_RF_VENUE),
    PAGE("/gate", TV_R_GUARD | TV_R_CLERK | TV_R_OPERATOR, TV_RF_COMMUNE),
    PAGE("/noncompliant", TV_R_STAFF, 0),
    PAGE("/cards", TV_R_STAFF, 0),
    PAGE("/units", TV_R_CLERK | TV_R_OPERATOR, 0),
    PAGE("/health/trace", TV_R_HEALTH, TV_RF_HEALTH),
    PAGE("/health/cases", TV_R_HEALTH, TV_RF_HEALTH),
    PAGE("/health/risk", TV_R_HEALTH, TV_RF_HEALTH),
    PAGE("/health/alerts", TV_R_HEALTH, TV_RF_HEALTH),
    PAGE("/report", TV_R_STAFF, 0),
    PAGE("/sync", TV_R_STAFF, 0),
    PAGE("/users", TV_R_OPERATOR | TV_R_CLERK, 0),
    PAGE("/enroll", TV_R_OPERATOR, 0),
    PAGE("/status", TV_R_STAFF, 0),
    /* files */
    {"GET", "/static/{}", TV_R_PUBLIC, 0, tv_web_static},
    {"GET", "/api/openapi.json", TV_R_PUBLIC, 0, tv_web_openapi},
    /* sessions and accounts */
    {"GET", "/api/session", TV_R_PUBLIC, 0, tv_api_session},
    {"POST", "/api/login", TV_R_PUBLIC, TV_RF_NOLOCK, tv_api_login},
    {"POST", "/api/logout", TV_R_ANY, 0, tv_api_logout},
    {"GET", "/api/users", TV_R_OPERATOR | TV_R_CLERK, 0, tv_api_users},
    {"POST", "/api/users", TV_R_OPERATOR | TV_R_CLERK, 0, tv_api_user_add},
    {"POST", "/api/users/{}/password", TV_R_OPERATOR | TV_R_CLERK, 0, tv_api_user_change},
    {"POST", "/api/users/{}/unlock", TV_R_OPERATOR | TV_R_CLERK, 0, tv_api_user_change},
    {"POST", "/api/users/{}/remove", TV_R_OPERATOR | TV_R_CLERK, 0, tv_api_user_change},
    /* venues */
    {"GET", "/api/categories", TV_R_ANY, 0, tv_api_categories},
    {"GET", "/api/venues", TV_R_STAFF | TV_R_CONTROLLER | TV_R_GUARD, 0, tv_api_venues},
    {"POST", "/api/venues", TV_R_CLERK | TV_R_OPERATOR, TV_RF_COMMUNE, tv_api_venue_add},
    {"GET", "/api/venues/{}", TV_R_STAFF | TV_R_CONTROLLER, TV_RF_VENUE, tv_api_venue_show},
    {"POST", "/api/venues/{}", TV_R_CLERK | TV_R_OPERATOR, TV_RF_COMMUNE, tv_api_venue_edit},
    {"POST", "/api/venues/{}/controllers", TV_R_CLERK | TV_R_OPERATOR, TV_RF_COMMUNE,
     tv_api_controller_add},
    {"POST", "/api/venues/{}/controllers/{}/remove", TV_R_CLERK | TV_R_OPERATOR, TV_RF_COMMUNE,
     tv_api_controller_remove},
    {"POST", "/api/venues/{}/remind", TV_R_CLERK | TV_R_OPERATOR, TV_RF_COMMUNE,
     tv_api_venue_remind},
    {"POST", "/api/venues/{}/reinstate", TV_R_CLERK | TV_R_OPERATOR, TV_RF_COMMUNE,
     tv_api_venue_remind},
    {"GET", "/api/venues/{}/live", TV_R_CLERK | TV_R_OPERATOR | TV_R_CONTROLLER,
     TV_RF_VENUE | TV_RF_NOLOCK, tv_web_live_open},
    {"GET", "/api/venues/{}/poster.pdf", TV_R_CLERK | TV_R_OPERATOR | TV_R_CONTROLLER,
     TV_RF_VENUE | TV_RF_NOLOCK | TV_RF_COMMUNE, tv_api_poster_pdf},
    {"GET", "/api/venues/{}/poster.png", TV_R_CLERK | TV_R_OPERATOR | TV_R_CONTROLLER,
     TV_RF_VENUE | TV_RF_NOLOCK | TV_RF_COMMUNE, tv_api_poster_png},
    {"GET", "/api/venues/{}/visits", TV_R_CLERK | TV_R_OPERATOR | TV_R_CONTROLLER, TV_RF_VENUE,
     tv_api_venue_visits},
    {"POST", "/api/cards", TV_R_STAFF, TV_RF_NOLOCK, tv_api_cards},
    /* units */
    {"GET", "/api/units", TV_R_CLERK | TV_R_OPERATOR, 0, tv_api_units},
    {"POST", "/api/units", TV_R_CLERK | TV_R_OPERATOR, 0, tv_api_unit_add},
    /* the gate */
    {"POST", "/api/scan", TV_R_GUARD | TV_R_CLERK | TV_R_OPERATOR,
     TV_RF_COMMUNE | TV_RF_NOLOCK | TV_RF_GROUP, tv_web_scan},
    /* the node */
    {"GET", "/api/status", TV_R_STAFF, 0, tv_api_status},
    {"GET", "/api/sync", TV_R_STAFF, 0, tv_api_sync},
    /* enrolment and revocation (the operator) */
    {"GET", "/api/enroll/request", TV_R_OPERATOR, 0, tv_api_enroll_request},
    {"POST", "/api/enroll/issue", TV_R_OPERATOR, TV_RF_UPLOAD, tv_api_enroll_issue},
    {"POST", "/api/enroll/accept", TV_R_OPERATOR, TV_RF_UPLOAD, tv_api_enroll_accept},
    {"POST", "/api/revoke", TV_R_OPERATOR, 0, tv_api_revoke},
    /* reports */
    {"GET", "/api/report", TV_R_STAFF, 0, tv_api_report},
    /* health (a health node) */
    {"GET", "/api/trace", TV_R_HEALTH, TV_RF_HEALTH, tv_api_trace},
    {"POST", "/api/reveal", TV_R_HEALTH, TV_RF_HEALTH, tv_api_reveal},
    {"GET", "/api/cases", TV_R_HEALTH, TV_RF_HEALTH, tv_api_cases},
    {"POST", "/api/cases", TV_R_HEALTH, TV_RF_HEALTH, tv_api_case_add},
    {"POST", "/api/risk", TV_R_HEALTH, TV_RF_HEALTH, tv_api_risk_set},
    /* risk levels and alerts as this node knows them (a commune: its own) */
    {"GET", "/api/risk", TV_R_STAFF, 0, tv_api_risk},
    {"GET", "/api/alerts", TV_R_STAFF, 0, tv_api_alerts},
    {NULL, NULL, 0, 0, NULL}};
