/* A followed scan (node/logic/follow.h) as `truyvet watch` prints it and as the web
 * console's live list sends it. */
#ifndef TV_NODE_RENDER_SCAN_H
#define TV_NODE_RENDER_SCAN_H

#include "node/logic/follow.h"

#include <stdio.h>

/* One JSON object (no line end): id, venue, venue_name, direction (in|out), at, person
 * (masked), method, repeat, status (F0, F1, F2 or null), stop. Returns 0 or TV_EIO. */
int tv_render_scan_json(FILE *f, const tv_scan_row *r);

/* One line: "2021-10-06 08:00:00  vào  Nguyễn V** A · 09******78  Chợ Vĩnh Hải", the
 * repeat and the gate's colour marked. Returns 0 or TV_EIO. */
int tv_render_scan_text(FILE *f, const tv_scan_row *r);

#endif
