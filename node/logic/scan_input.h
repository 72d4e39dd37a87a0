/* What is typed or scanned for one check-in, checked before it is recorded, by `truyvet
 * scan`, the station and the web console's gate page alike: the person's code, the time
 * and direction of the scan, the device label, and whether this node records scans at the
 * venue. Each refusal fills a tv_why (why.h); nothing here writes to the store or prints.
 *
 * Codes: person_invalid, time_invalid, time_future, time_too_early, direction_invalid,
 * text_too_long, text_control, text_utf8 (the device label) (TV_EINVAL); not_commune,
 * venue_not_own (TV_EPERM). */
#ifndef TV_NODE_LOGIC_SCAN_INPUT_H
#define TV_NODE_LOGIC_SCAN_INPUT_H

#include "node/logic/idcard.h"
#include "node/logic/node.h"
#include "node/logic/why.h"
#include "store/store.h"

#include <stdint.h>

/* Reads one scan's input: person (the QR text of a card, a phone or an ID number; required)
 * into *card, at (NULL: now; ISO 8601 with offset, or day/month/year in Vietnam time, as
 * `scan --at` takes it) into *at_ms (0 for NULL), and checks device (NULL: none) as a
 * device label. A time must be before 2200, at most TV_SCAN_FUTURE_SKEW_MS after now_ms
 * and not before 2020 (tv_scan_time_check). Checked in that order. Returns 0, or
 * TV_EINVAL with why set and *card wiped. */
int tv_scan_input_parse(const char *person, const char *at, const char *device, int64_t now_ms,
                        tv_card *card, int64_t *at_ms, tv_why *why);

/* Reads a direction: "in" or "vào" (0), "out" or "ra" (1) into *out. Returns 0, or
 * TV_EINVAL with why set (direction_invalid). */
int tv_scan_direction_parse(const char *s, int *out, tv_why *why);

/* Refuses a node that is not a commune's: scans are recorded there. Checked before the
 * venue is looked up, so that a district or province says so rather than "no venue".
 * Returns 0, or TV_EPERM with why set (not_commune). */
int tv_scan_node_check(const tv_node *n, tv_why *why);

/* Refuses a venue this node may not record scans for (not a commune node, or a venue of
 * another unit); text names the venue as it was given. Returns 0, or TV_EPERM with why
 * set (not_commune, venue_not_own). */
int tv_scan_venue_check(const tv_node *n, const store_venue *v, const char *text, tv_why *why);

#endif
