/* Case statuses as `truyvet case list` and a web console see them: each person with a
 * status this node may read (a health node: every case it holds; a commune: the statuses
 * sealed for it, of people it recorded), with their masked display, the unit the status
 * counts under and its name, and the infectious window. Nothing here prints or parses
 * options: node/render/case.h writes the rows as text or JSON.
 *
 * Memory: a tv_case_list is the caller's; tv_case_list_run fills it and tv_case_list_free
 * releases it, also after a failed run or on a zeroed struct. Rows are copies: they outlive
 * the read transaction and the node.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_CASE_H
#define TV_NODE_LOGIC_CASE_H

#include "node/format/text.h"
#include "node/logic/health.h"
#include "node/logic/node.h"

#include <stddef.h>
#include <stdint.h>

#define TV_CASE_DISP_BYTES (2 * CRDT_MASKED_BYTES_MAX + 8) /* a person's masked display */
#define TV_CASE_UNIT_NAME_BYTES (TV_UNIT_CODE_MAX + 2 + TV_TEXT_ESC_BYTES)

/* One person's case. */
typedef struct tv_case_row {
    uint8_t ref[TV_PERSON_REF_BYTES];
    char disp[TV_CASE_DISP_BYTES];           /* as tv_person_display_get, else
                                              * "(not recorded here)" */
    tv_case cs;                              /* cs.current: the status in force */
    char unit_name[TV_CASE_UNIT_NAME_BYTES]; /* of cs.current.unit: official, else its unit
                                              * event's, else "" */
} tv_case_row;

typedef struct tv_case_list {
    tv_case_row *rows; /* in pseudonym order */
    size_t n, cap;
} tv_case_list;

/* The people with a status on node n, of status filter only (a CRDT_CASE_* value, or -1:
 * every status), into out. Returns 0, TV_ELOCKED (a commune holding sealed statuses, locked),
 * TV_ENOMEM or a store error. */
int tv_case_list_run(tv_node *n, int filter, tv_case_list *out) __attribute__((warn_unused_result));
void tv_case_list_free(tv_case_list *l);

#endif
