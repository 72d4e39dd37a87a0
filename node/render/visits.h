/* A venue's visits written out (node/logic/visits.h): the lines of `truyvet venue visits`
 * as terminal text or JSON; a web console writes the same JSON objects. The person is
 * already masked; it reaches a terminal only escaped (tv_text_esc). Times are Vietnam
 * time. */
#ifndef TV_NODE_RENDER_VISITS_H
#define TV_NODE_RENDER_VISITS_H

#include "node/logic/visits.h"
#include "node/render/json.h"

#include <stdio.h>

/* A visit as a JSON object: person, from, to (null while open), end, scans. */
void tv_render_visit_json(tv_json *j, const tv_visit *v);
/* The same as one JSON Lines record. Returns what tv_json_line_end does. */
int tv_render_visit_line_json(FILE *f, const tv_visit *v);
/* A line of text: "08:00-09:30  check-out       2 scans  09******01". */
void tv_render_visit_text(FILE *f, const tv_visit *v);

#endif
