/* The audit of full views of people's details, as `truyvet audit` and a web console show
 * it: every reveal this node knows of (its own and those synced from other health nodes),
 * when, by which node (and that node's unit when its certificate is held), whose
 * pseudonym, and why. Nothing here prints or parses options: node/render/audit.h writes
 * the rows as text or JSON.
 *
 * Memory: a tv_audit is the caller's, filled by tv_audit_get and released by
 * tv_audit_free, which may be called on a zeroed or failed result. Rows are copies: they
 * outlive the read transaction and the node.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h); store errors are passed on. */
#ifndef TV_NODE_LOGIC_AUDIT_H
#define TV_NODE_LOGIC_AUDIT_H

#include "crdt/event.h"
#include "crdt/ids.h"
#include "node/logic/node.h"

#include <stddef.h>
#include <stdint.h>

/* One full view of a person's details. */
typedef struct tv_audit_row {
    uint64_t hlc;                        /* when it was recorded */
    uint8_t origin[TV_NODE_ID_BYTES];    /* the node that opened the details */
    uint8_t person[TV_PERSON_REF_BYTES]; /* whose pseudonym */
    char unit[TV_UNIT_CODE_MAX + 1]; /* the origin's unit; "" when its certificate is not held */
    char reason[CRDT_TEXT_BYTES_MAX + 1]; /* as recorded, cut at its first NUL */
} tv_audit_row;

/* The reveals in store order. */
typedef struct tv_audit {
    tv_audit_row *rows;
    size_t n, cap;
} tv_audit;

/* Fills *out with every reveal node n holds, in one read transaction. Returns 0,
 * TV_ENOMEM or a store error. */
int tv_audit_get(tv_node *n, tv_audit *out);
void tv_audit_free(tv_audit *a);

#endif
