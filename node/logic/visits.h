/* Visits: the presence view (presence.h) over what a node's store holds.
 *
 * The rules of a venue come from the store: its closing time from the venue record, and
 * its category's default stay from this node's setting (`venue categories --set`) or, when
 * none is set, the built-in value of category.h. The setting is local to the node: the
 * health authority that traces sets it where it traces. */
#ifndef TV_NODE_VISITS_H
#define TV_NODE_VISITS_H

#include "node/logic/presence.h"
#include "store/store.h"

#define TV_STAY_MIN_MAX (24 * 60) /* a default stay longer than a day means nothing */

/* The default stay of category code, in minutes: this node's setting, else the built-in
 * one (0 for a code this build does not know). *is_set (may be NULL) tells which. Returns
 * 0 or a store error. */
int tv_stay_get(store_txn *t, unsigned code, uint32_t *minutes, int *is_set);

/* Sets (minutes 1..TV_STAY_MIN_MAX) or, with minutes < 0, removes this node's setting for
 * a category code, inside t. Returns 0, TV_EINVAL or a store error. */
int tv_stay_set(store_txn *t, unsigned code, int32_t minutes);

/* The presence rules of a venue (a tv_rules_fn; ctx is the store_txn). A venue this node
 * does not hold gets no default stay and no closing time. */
int tv_venue_rules_get(const uint8_t venue[TV_VENUE_ID_BYTES], tv_venue_rules *out, void *ctx);

/* One person's presence intervals from their scans on the Vietnam days that [from_ms,
 * to_ms) touches (every presence ends by midnight, so no earlier scan changes them), built
 * with the window and now_ms of tv_presence_build. *out is malloc'd (NULL when none).
 * Returns 0 or an error of tv_presence_build or the store. */
int tv_person_presence(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES], int64_t from_ms,
                       int64_t to_ms, int64_t window_ms, int64_t now_ms, tv_presence **out,
                       size_t *nout) __attribute__((warn_unused_result));

/* The same with the venue rules given by rules(ctx) (tv_venue_rules_get and the txn for
 * tv_person_presence): a caller building many people's presences may cache them. */
int tv_person_presence_rules(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES],
                             int64_t from_ms, int64_t to_ms, int64_t window_ms, int64_t now_ms,
                             tv_rules_fn rules, void *ctx, tv_presence **out, size_t *nout)
    __attribute__((warn_unused_result));

/* The display of the person a stored scan names (see tv_person_display_get): the person
 * event's masked name and id, else the masked id the scan carries. Returns 0 or an error. */
int tv_scan_display(store_txn *t, const store_scan_ref *s, char *out, size_t cap);

/* --- a venue's day (`venue visits`, the console's visits) ---------------------------- */

/* One visit at a venue: the presence and the person as shown (masked). */
typedef struct tv_visit {
    tv_presence p;
    char person[2 * CRDT_MASKED_BYTES_MAX + 8];
} tv_visit;

/* The visits that begin at a venue on one Vietnam day. */
typedef struct tv_venue_day {
    tv_visit *rows; /* malloc'd; by start, then person */
    size_t nrows;
    size_t people; /* the people who scanned at the venue that day */
} tv_venue_day;

/* Fills *out with the visits that begin at venue on day (days since 1970-01-01, Vietnam
 * time), each built from the person's scans with the venue rules of the store and
 * TV_DEDUPE_WINDOW_MS_DEFAULT; a visit under way at now_ms is open. Free it with
 * tv_venue_day_free (also after an error). Returns 0 or an error. */
int tv_venue_day_get(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], int32_t day,
                     int64_t now_ms, tv_venue_day *out) __attribute__((warn_unused_result));
void tv_venue_day_free(tv_venue_day *d);

#endif
