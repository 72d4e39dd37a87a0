/* Case statuses as `truyvet case` and a web console set and see them. Setting one (a health
 * node): the unit it counts under when none is given, and the status recorded, committed
 * and what the communes need of it sealed; then what to tell the reader of it. Listing:
 * each person with a
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

/* Why a case counts under its unit. */
typedef enum tv_case_unit_why {
    TV_CASE_UNIT_GIVEN,      /* as given */
    TV_CASE_UNIT_RECORDED,   /* where the person was recorded */
    TV_CASE_UNIT_OUTSIDE,    /* this node's own: recorded under a unit outside its scope */
    TV_CASE_UNIT_UNRECORDED, /* this node's own: the person has no record here */
} tv_case_unit_why;

/* The unit a new status counts under, and why. */
typedef struct tv_case_unit {
    char code[TV_UNIT_CODE_MAX + 1];
    tv_case_unit_why why;
    char recorded[TV_UNIT_CODE_MAX + 1]; /* with TV_CASE_UNIT_OUTSIDE: the person's unit */
} tv_case_unit;

/* The default unit of a case of person: where the person was recorded (the unit of their
 * standing person record, the latest when several communes recorded them) when this node's
 * certificate covers it, so that the case counts in that commune's figures; else, or for a
 * person with no record here, this node's own unit. Returns 0, TV_ENOMEM or the error
 * reading the person's record (u is then not set). */
int tv_case_default_unit(tv_node *n, const uint8_t person[TV_PERSON_REF_BYTES], tv_case_unit *u)
    __attribute__((warn_unused_result));

/* Records status cs on health node n (cs->unit set), commits it, then seals and commits
 * what the communes need of it (tv_downflow_run at now_ms). Returns 0; TV_EPERM (not a
 * health node holding the province key), TV_ESCOPE or an error of recording, with nothing
 * recorded and *recorded 0; or the error of the second step with *recorded 1 (the status
 * stands; the next serve or import sends what the communes need). */
int tv_case_add(tv_node *n, const crdt_case *cs, int64_t now_ms, int *recorded)
    __attribute__((warn_unused_result));

/* What a reader is told of a status set: the person's masked display and the name of its
 * unit. */
typedef struct tv_case_added {
    uint8_t status;
    uint8_t ref[TV_PERSON_REF_BYTES];
    char disp[TV_CASE_DISP_BYTES]; /* as tv_person_display_get, "(not recorded here)", or
                                    * "?" when the store could not be read */
    char unit[TV_UNIT_CODE_MAX + 1];
    char unit_name[TV_CASE_UNIT_NAME_BYTES]; /* official, else its unit event's, else "" */
} tv_case_added;

/* Fills out for status cs (its person, status and unit) as node n holds it now. */
void tv_case_added_read(tv_node *n, const crdt_case *cs, tv_case_added *out);

#endif
