/* The audit of full views written out, one line per view, as `truyvet audit` shows it:
 * text or JSON Lines, from the rows of node/logic/audit.h. A web console writes the same
 * JSON objects. The reason, stored text, reaches a terminal only escaped (tv_text_esc).
 * Times are Vietnam time. */
#ifndef TV_NODE_RENDER_AUDIT_H
#define TV_NODE_RENDER_AUDIT_H

#include "node/logic/audit.h"

#include <stdio.h>

/* {at, node, unit, ref, reason} on one line. Returns what tv_json_line_end does (0,
 * TV_EIO or TV_EINVAL). */
int tv_render_audit_row_json(FILE *f, const tv_audit_row *r);
/* "AT  node ID16 (unit UNIT or ?)  person REF  reason: REASON". */
void tv_render_audit_row_text(FILE *f, const tv_audit_row *r);

#endif
