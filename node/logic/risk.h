/* Risk levels of units as `truyvet risk` and a web console set and see them: a level set on
 * a health node and committed; and for one unit, or every unit with a level, the level in
 * force at a time and the changes announced after it. Nothing here prints or parses
 * options: node/render/risk.h writes the rows as text or JSON.
 *
 * Memory: a tv_risk_view is the caller's; tv_risk_view_run fills it and tv_risk_view_free
 * releases it, also after a failed run or on a zeroed struct. Rows are copies: they outlive
 * the read transaction and the node.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_RISK_H
#define TV_NODE_LOGIC_RISK_H

#include "node/format/text.h"
#include "node/logic/node.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define TV_RISK_UNIT_NAME_BYTES (TV_UNIT_CODE_MAX + 2 + TV_TEXT_ESC_BYTES)

/* Records level r on health node n and commits it. Returns 0; TV_EPERM (no health flag or
 * not enrolled), TV_ESCOPE (the unit outside its scope) or an error, with nothing
 * recorded. */
int tv_risk_set(tv_node *n, const crdt_risk *r) __attribute__((warn_unused_result));

/* A level of a unit: in force at the time asked, or set for later. */
typedef struct tv_risk_row {
    char unit[TV_UNIT_CODE_MAX + 1];         /* the unit shown */
    char unit_name[TV_RISK_UNIT_NAME_BYTES]; /* official, else its unit event's, else "" */
    int in_force;                            /* 0: from then (r.from_ms after the time) */
    store_risk r; /* r.unit: the unit it was set for (a village's commune, in force for it) */
} tv_risk_row;

typedef struct tv_risk_view {
    tv_risk_row *rows; /* by unit; each unit's level in force, then those for later */
    size_t n, cap;
    size_t units; /* units looked at (one when a unit was asked), with a row or not */
} tv_risk_view;

/* The levels of unit (NULL: of every unit with a level of its own, each once, in code
 * order) at at_ms into out. Returns 0, TV_ENOMEM or a store error. */
int tv_risk_view_run(tv_node *n, const char *unit, int64_t at_ms, tv_risk_view *out)
    __attribute__((warn_unused_result));
void tv_risk_view_free(tv_risk_view *v);

#endif
