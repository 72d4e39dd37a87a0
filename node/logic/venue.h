/* Venues of a node as the commands and a web console see them: the list (optionally the
 * venues of one unit and the units under it), those with no recent scan, one venue's
 * details (controllers, reminders, status), registration and changes, controllers and
 * reminders. Nothing here prints or parses options: node/render/venue.h writes the
 * results as text or JSON, and the caller says what an error means to its reader.
 *
 * Memory: each result struct is the caller's (usually on the stack), filled by one call
 * and released by its _free, which may be called on a zeroed or failed result. Rows are
 * copies: they outlive the read transaction and the node.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_VENUE_H
#define TV_NODE_LOGIC_VENUE_H

#include "node/logic/category.h"
#include "node/logic/node.h"
#include "node/logic/units.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

/* Controllers or reminders read for one venue, at most. */
#define TV_VENUE_ITEMS_MAX 4096
/* Live add tags of one phone a removal reads; more than one remove event is written when
 * they exceed CRDT_TAGS_MAX. Only concurrent adds of the same phone make more than one. */
#define TV_VENUE_REMOVE_TAGS_MAX (CRDT_TAGS_MAX * 8)
_Static_assert(TV_VENUE_REMOVE_TAGS_MAX / CRDT_TAGS_MAX <= TV_NODE_PENDING_BATCHES_MAX,
               "the remove events of one phone must fit one pending group");

/* --- values --------------------------------------------------------------------------- */

/* A category by its slug, Vietnamese name or a part of it (tv_category_find), or its
 * number (1 to 255). NULL when none matches. */
const tv_category *tv_venue_category_parse(const char *s);

/* Parses a closing time "HH:MM" (or "H:MM", "22h00", "22h") into the encoding of
 * venue_upsert: minutes after midnight + 1; "none" gives CRDT_CLOSES_NONE. Returns 0 or
 * TV_EINVAL (closes untouched). */
int tv_venue_closes_parse(const char *s, uint32_t *closes);

/* Writes a closing time (not CRDT_CLOSES_NONE) as "HH:MM". */
void tv_venue_closes_format(char out[8], uint32_t closes);

/* --- reading -------------------------------------------------------------------------- */

/* Which venues a listing keeps: all, or those of unit `under` and of the units below it
 * in the node's unit tree. */
typedef struct tv_venue_scope {
    const char *under; /* borrowed from the caller; NULL: every venue */
    tv_tree tr;        /* loaded when under is set */
    int loaded;
} tv_venue_scope;

/* Prepares scope s for unit under (NULL: all venues). Returns 0, TV_ENOTFOUND when under
 * is neither an official unit nor one added on this node (s needs no release then), or a
 * store error. Release with tv_venue_scope_release. */
int tv_venue_scope_init(tv_node *n, const char *under, tv_venue_scope *s);
void tv_venue_scope_release(tv_venue_scope *s);
/* Is unit within s? */
int tv_venue_scope_has(const tv_venue_scope *s, const char *unit);

/* Venues in store order (by id). */
typedef struct tv_venue_list {
    store_venue *v;
    size_t n, cap;
} tv_venue_list;

/* Calls fn for every venue of n within scope s (NULL: all), in id order, in one read
 * transaction; v is valid during the call only. Stops at fn's first non-zero result, which
 * is returned; else 0 or a store error. For a node that holds too many venues to copy. */
typedef int (*tv_venue_fn)(const store_venue *v, void *ctx);
int tv_venue_each(tv_node *n, const tv_venue_scope *s, tv_venue_fn fn, void *ctx);

/* Every venue of n within scope s (NULL: all), copied. Returns 0, TV_ENOMEM or a store
 * error. */
int tv_venue_list_get(tv_node *n, const tv_venue_scope *s, tv_venue_list *out);
void tv_venue_list_free(tv_venue_list *l);

/* A venue and its compliance status. */
typedef struct tv_venue_nc_row {
    store_venue v;
    store_venue_status st;
} tv_venue_nc_row;

/* Venues suspended or with no scan since a time, most reminders first, then the oldest
 * last scan (never scanned first), then by id. */
typedef struct tv_venue_nc {
    const char *unit; /* the unit whose venues were read (a commune node's own, borrowed
                       * from the node), or NULL when every venue held was */
    tv_venue_nc_row *rows;
    size_t n, cap;
} tv_venue_nc;

/* The venues within s (NULL: all) that are suspended or have no scan at or after
 * since_ms; at a commune node only its own unit's. Returns 0, TV_ENOMEM or a store
 * error. */
int tv_venue_noncompliant(tv_node *n, const tv_venue_scope *s, int64_t since_ms, tv_venue_nc *out);
void tv_venue_nc_free(tv_venue_nc *c);

typedef struct tv_venue_ctrl {
    char phone[CRDT_PHONE_BYTES_MAX + 1];
    uint64_t hlc; /* when it was added */
} tv_venue_ctrl;

typedef struct tv_venue_rem {
    uint64_t hlc;
    uint8_t action; /* CRDT_REMIND or CRDT_REINSTATE */
    char note[CRDT_TEXT_BYTES_MAX + 1];
} tv_venue_rem;

/* One venue besides its registration: controllers, and with `all` its reminders and
 * status (else those are zero). */
typedef struct tv_venue_detail {
    store_venue_status st;
    tv_venue_ctrl *ctrl;
    size_t nctrl, capctrl;
    tv_venue_rem *rem;
    size_t nrem, caprem;
} tv_venue_detail;

/* Reads the details of venue id (found with store_venue_get or tv_cli_venue_find).
 * Returns 0, TV_ELIMIT (over TV_VENUE_ITEMS_MAX), TV_ENOMEM or a store error. */
int tv_venue_detail_get(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], int all,
                        tv_venue_detail *d);
void tv_venue_detail_free(tv_venue_detail *d);

/* The compliance status of venue id. Returns 0 or a store error. */
int tv_venue_status_get(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], store_venue_status *st);

/* --- changes (a commune node, its own venues; the caller checks both) -------------------- */

/* Looks for a venue of n's unit registered under the same name, village and category as
 * v, compared case, marks and spaces aside (tv_text_fold). Returns 1 with *found set, 0,
 * TV_ENOMEM or a store error. */
int tv_venue_duplicate(tv_node *n, const crdt_venue_upsert *v, store_venue *found);

/* Registers v as a new venue of n's unit: draws its nonce, derives its id from the node's
 * key (no other node can write its registration) into v->venue, records and commits it.
 * Returns 0 once it is on disk, or what tv_node_add_venue or tv_node_commit return. */
int tv_venue_register(tv_node *n, crdt_venue_upsert *v);

/* Records and commits the fields of v for venue id (v->venue and its unit are set here).
 * Returns 0 or what tv_node_add_venue or tv_node_commit return. */
int tv_venue_edit(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], crdt_venue_upsert *v);

/* The live add tags of phone at venue id, at most cap. Returns 0, TV_ELIMIT when there
 * are more, or a store error. */
int tv_venue_controller_tags(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], const char *phone,
                             uint8_t *tags, uint32_t cap, uint32_t *ntags);

/* Authorises phone (normalised) to scan for venue id, committed. Returns 0 or what
 * tv_node_add_controller or tv_node_commit return. */
int tv_venue_controller_add(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], const char *phone);

/* Withdraws phone's authorisation: removes its ntags live add tags (from
 * tv_venue_controller_tags), in events of at most CRDT_TAGS_MAX, committed together.
 * Returns 0 or what tv_node_add_controller or tv_node_commit return. */
int tv_venue_controller_remove(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], const char *phone,
                               const uint8_t *tags, uint32_t ntags);

/* Records a reminder (CRDT_REMIND) or a reinstatement (CRDT_REINSTATE) of venue id with
 * note (NULL: none), committed. Returns 0 or what tv_node_add_reminder or tv_node_commit
 * return. */
int tv_venue_remind(tv_node *n, const uint8_t id[TV_VENUE_ID_BYTES], uint8_t action,
                    const char *note);

#endif
