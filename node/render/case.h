/* Case statuses written out (node/logic/case.h): what `truyvet case add` says of a status
 * set, and the lines of `truyvet case list` as terminal text or JSON Lines. A web console writes
 * the same JSON objects.
 *
 * Stored text (the masked display, unit names) reaches a terminal only escaped; JSON is
 * escaped by the writer. Times are Vietnam time. Write errors are the caller's to check
 * on f (ferror, fflush). */
#ifndef TV_NODE_RENDER_CASE_H
#define TV_NODE_RENDER_CASE_H

#include "node/logic/case.h"

#include <stdio.h>

/* One record: {ref, person, status, unit, unit_name, onset, sampled, set_at, window_from,
 * window_to}, each time null when not given (window_to also while the window is open).
 * Returns what tv_json_line_end does. */
int tv_render_case_json(FILE *f, const tv_case_row *r);

/* One line: status, ref, display, "unit" and its label, onset, sample and set days, and
 * the infectious window ("..now" while open) when there is one. */
void tv_render_case_text(FILE *f, const tv_case_row *r);

/* "recorded: STATUS REF  DISPLAY, under unit CODE NAME (WHY)" and a line end. */
void tv_render_case_added_text(FILE *f, const tv_case_added *a, const tv_case_unit *u);

#endif
