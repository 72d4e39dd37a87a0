/* Risk levels written out (node/logic/risk.h): what `truyvet risk set` says of a level set,
 * and the rows of `truyvet risk show` as terminal text or JSON Lines. A web console writes
 * the same JSON objects.
 *
 * Stored text (unit names, notes) reaches a terminal only escaped; JSON is escaped by the
 * writer. Times are Vietnam time. Write errors are the caller's to check on f. */
#ifndef TV_NODE_RENDER_RISK_H
#define TV_NODE_RENDER_RISK_H

#include "node/logic/risk.h"

#include <stdio.h>

/* "recorded: unit CODE level N NAME (COLOUR) from TIME" and a line end. */
void tv_render_risk_set_text(FILE *f, const crdt_risk *r);

/* One record: {unit, unit_name, state ("in force" or "from then"), level, from, set_for,
 * note}. Returns what tv_json_line_end does. */
int tv_render_risk_json(FILE *f, const tv_risk_row *row);

/* One line: the unit's label, the state, the level, from when, "(its commune's)" when set
 * for the commune, and the note in quotes. */
void tv_render_risk_text(FILE *f, const tv_risk_row *row);

#endif
