/* An event's fields as one JSON object's members, for `log --json`: what crdt/event.c's
 * table of each type's fields says is shown (crdt_event_fields), under the names it gives,
 * in its order, each value as its crdt_show says -- bytes in hex, text as strings, times
 * as Vietnam time (2026-12-05T08:00:00+07:00), values with names (a scan's direction, a
 * case's status) by name, a venue's category by its slug, a closing time as HH:MM (null:
 * none), a sealed box by its length only, a person's sealed boxes by the ids they are
 * sealed to. A field absent from the event's map is not written. */
#ifndef TV_NODE_EVENT_JSON_H
#define TV_NODE_EVENT_JSON_H

#include "crdt/cert.h"
#include "crdt/event.h"
#include "node/render/json.h"

/* Writes a certificate's fields as members of the object open in j. */
typedef void (*tv_cert_json_fn)(tv_json *j, const crdt_cert *c);

/* Writes the fields of the known event ev as members of the object open in j (keys and
 * values; the caller opens and closes the object). A certificate event's certificate is
 * opened into *scratch (large: the caller's) and written by cert_json, or, should it not
 * open, written as "error" (its reason) and "cert" (its bytes in hex). */
void tv_event_fields_json(tv_json *j, const crdt_event *ev, crdt_cert *scratch,
                          tv_cert_json_fn cert_json);

#endif
