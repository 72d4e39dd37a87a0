/* Venues written out: the lines of `truyvet venue list`, one venue's details, its
 * controllers and status, as terminal text or JSON, from the results of
 * node/logic/venue.h. A web console writes the same JSON objects.
 *
 * Stored text (names, villages, notes) reaches a terminal only escaped (tv_text_esc);
 * JSON is escaped by the writer. Times are Vietnam time. The functions taking a FILE*
 * write one JSON Lines record (or text lines) to it; those taking a tv_json write into
 * an object the caller has open. The _json functions that end a record return what
 * tv_json_line_end does (0, TV_EIO or TV_EINVAL). */
#ifndef TV_NODE_RENDER_VENUE_H
#define TV_NODE_RENDER_VENUE_H

#include "node/logic/venue.h"
#include "node/render/json.h"

#include <stdio.h>

/* Formats an HLC timestamp as Vietnam time "YYYY-MM-DDTHH:MM:SS+07:00". */
void tv_render_hlc_time(char *out, size_t cap, uint64_t hlc);

/* The venue's fields: id, short_code, unit, unit_name, name, category, category_name,
 * village, owner_phone, closes (null when none), registered, updated. */
void tv_render_venue_fields_json(tv_json *j, const store_venue *v);
/* A venue's status: reminders, reminders_active, suspended, last_scan, last_reminder,
 * reinstated (each time null when never). */
void tv_render_venue_status_json(tv_json *j, const store_venue_status *st);

/* A line of `venue list`: {fields}; or id, short code, registration day, category, (with
 * with_unit: unit code and name,) name and village. */
int tv_render_venue_line_json(FILE *f, const store_venue *v);
void tv_render_venue_line_text(FILE *f, const store_venue *v, int with_unit);

/* A line of `venue list --noncompliant`: {fields, status}; or id, reminders (active),
 * SUSPENDED or -, last scan day, (unit,) name and village. */
int tv_render_venue_nc_json(FILE *f, const tv_venue_nc_row *r);
void tv_render_venue_nc_text(FILE *f, const tv_venue_nc_row *r, int with_unit);

/* `venue show`: {fields, controllers, status, reminder_history}; or labelled lines. */
int tv_render_venue_show_json(FILE *f, const store_venue *v, const tv_venue_detail *d);
void tv_render_venue_show_text(FILE *f, const store_venue *v, const tv_venue_detail *d);

/* A controller: {phone, added} as a record, or "PHONE  added TIME" as a line. */
int tv_render_venue_ctrl_json(FILE *f, const tv_venue_ctrl *c);
void tv_render_venue_ctrl_text(FILE *f, const tv_venue_ctrl *c);

/* A venue's status as one record: {venue, status}. */
int tv_render_venue_status_line_json(FILE *f, const store_venue *v, const store_venue_status *st);

/* What `venue remind` says after recording a reminder: the counts, and whether the venue
 * is now (was_suspended: still) suspended or how many more reminders suspend it. id is the
 * venue as the clerk typed it. */
void tv_render_venue_reminded_text(FILE *f, const char *id, const store_venue *v,
                                   const store_venue_status *st, int was_suspended);

#endif
