/* A traced case written out (node/logic/trace_case.h): the table a clerk reads, one JSON
 * object for a program or a web console, and the CSV contact list an epidemiologist opens
 * in a spreadsheet; and the warnings a stale commune calls for, whatever the format.
 *
 * People are their masked display unless the case was revealed, then their details are
 * shown too. Stored text reaches a terminal or a spreadsheet only escaped. Times are
 * Vietnam time. Write errors are the caller's to check on f (ferror, fflush). */
#ifndef TV_NODE_RENDER_TRACE_H
#define TV_NODE_RENDER_TRACE_H

#include "node/logic/trace_case.h"

#include <stdio.h>

/* The table: the case, its visits (where to zone), the F1s (and F2s) ranked with their
 * shared visits, then the completeness of each commune touched. */
void tv_render_trace_text(FILE *f, const tv_trace_case *c);

/* One JSON object and a line end: case {ref, person[, details]}, from, to, visits,
 * contacts [{level, ref, person[, details], via, shared_minutes, shared}], completeness
 * [{unit, touched, last_scan_day[, nodes, held, last_event, received], stale}],
 * commune_only. Returns what tv_json_line_end does. */
int tv_render_trace_json(FILE *f, const tv_trace_case *c);

/* The contact list: a byte order mark, Vietnamese headers, one row per visit of the case
 * (F0) and per shared visit of a contact; with c->reveal also name to phone. */
void tv_render_trace_csv(FILE *f, const tv_trace_case *c);

/* The warnings: each stale commune touched, the other stale communes of the node's scope,
 * communes left unchecked, and at a commune node that other communes are not seen. */
void tv_render_trace_warnings(FILE *f, const tv_trace_case *c);

#endif
