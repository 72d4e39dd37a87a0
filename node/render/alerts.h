/* The windows of confirmed cases at a node's venues written out (node/logic/alerts.h), as
 * `truyvet alerts` shows them: terminal text, or one JSON object a line. A web console
 * writes the same JSON objects.
 *
 * Stored text (venue names, villages, phones) reaches a terminal only escaped; JSON is
 * escaped by the writer. Times are Vietnam time. Write errors are the caller's to check on
 * f (ferror, fflush). */
#ifndef TV_NODE_RENDER_ALERTS_H
#define TV_NODE_RENDER_ALERTS_H

#include "node/logic/alerts.h"

#include <stdio.h>

/* For each case a heading "case N (declared ...; infectious ... .. ...):" (a commune: one
 * heading for all), then a line per window: day, hours, venue name and village, id and
 * owner. Nothing when a holds no window. */
void tv_render_alerts_text(FILE *f, const tv_alerts *a);

/* One record a window: {[case, declared,] venue, venue_name, unit, village, owner_phone,
 * from, to} (case and declared on a health node only). Returns 0 or the first error of
 * tv_json_line_end. */
int tv_render_alerts_json(FILE *f, const tv_alerts *a);

#endif
