/* The administrative units: the official list (34 provinces, 3,321 communes after the
 * reform of 1 July 2025; node/units/, embedded in the program) as a tree of any depth.
 * A province's code has 2 digits, a commune's 5; a local unit (a village) is written
 * <commune code>.<local code> and belongs to its commune. */
#ifndef TV_NODE_UNITS_H
#define TV_NODE_UNITS_H

#include "crdt/event.h"
#include "crdt/ids.h"

#include <stddef.h>

#define TV_UNIT_NAME_MAX 96 /* bytes of a unit's full name */

struct store_txn;

typedef struct tv_unit {
    char code[TV_UNIT_CODE_MAX + 1];
    char name[TV_UNIT_NAME_MAX];       /* "Phường Bắc Nha Trang", "Tỉnh Khánh Hoà" */
    char parent[TV_UNIT_CODE_MAX + 1]; /* "" for a province */
} tv_unit;

/* The official unit of code, or NULL. The list is read once, on first use. */
const tv_unit *tv_unit_find(const char *code);
/* The name of code into out: the official one, else its unit event's in t (t may be NULL:
 * none), else "". */
void tv_unit_name_get(struct store_txn *t, const char *code, char *out, size_t cap);

/* The official units directly under code (a province's communes), in code order; *n set.
 * NULL when none. */
const tv_unit *const *tv_unit_children(const char *code, size_t *n);

/* The parent of a unit code: a local unit's commune, an official commune's province; ""
 * for a province or an unknown code. */
void tv_unit_parent(const char *code, char out[TV_UNIT_CODE_MAX + 1]);

/* How many official units there are (provinces + communes); 0 if the list cannot be
 * read. */
size_t tv_units_count(void);
/* Official unit number i (0 <= i < tv_units_count()), in code order. */
const tv_unit *tv_unit_at(size_t i);

/* The unit tree as a node knows it: the official units, and the units that unit events
 * name (villages, districts, clusters) or place elsewhere (a commune in a district). An
 * event's parent overrides the official one; an official unit keeps its official name. */
typedef struct tv_tree_unit {
    char code[TV_UNIT_CODE_MAX + 1];
    char name[CRDT_TEXT_BYTES_MAX + 1];
    char parent[TV_UNIT_CODE_MAX + 1]; /* "" for a root */
    int official;                      /* in the official list */
} tv_tree_unit;

typedef struct tv_tree {
    tv_tree_unit *u; /* by code */
    size_t n;
    tv_tree_unit **kids; /* by (parent, code) */
} tv_tree;

/* Loads the tree: the official list and the unit events held in t. Returns 0 or an
 * error. */
int tv_tree_load(struct store_txn *t, tv_tree *tr);
void tv_tree_free(tv_tree *tr);
/* The unit of code, or NULL. */
const tv_tree_unit *tv_tree_find(const tv_tree *tr, const char *code);
/* The units whose parent is code, in code order; *n set. NULL when none. */
tv_tree_unit *const *tv_tree_children(const tv_tree *tr, const char *code, size_t *n);

#endif
