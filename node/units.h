/* The administrative units: the official list (34 provinces, 3,321 communes after the
 * reform of 1 July 2025; node/units/, embedded in the program) as a tree of any depth.
 * A province's code has 2 digits, a commune's 5; a local unit (a village) is written
 * <commune code>.<local code> and belongs to its commune. */
#ifndef TV_NODE_UNITS_H
#define TV_NODE_UNITS_H

#include "crdt/ids.h"

#include <stddef.h>

#define TV_UNIT_NAME_MAX 96 /* bytes of a unit's full name */

typedef struct tv_unit {
    char code[TV_UNIT_CODE_MAX + 1];
    char name[TV_UNIT_NAME_MAX];       /* "Phường Bắc Nha Trang", "Tỉnh Khánh Hoà" */
    char parent[TV_UNIT_CODE_MAX + 1]; /* "" for a province */
} tv_unit;

/* The official unit of code, or NULL. The list is read once, on first use. */
const tv_unit *tv_unit_find(const char *code);

/* The official units directly under code (a province's communes), in code order; *n set.
 * NULL when none. */
const tv_unit *const *tv_unit_children(const char *code, size_t *n);

/* The parent of a unit code: a local unit's commune, an official commune's province; ""
 * for a province or an unknown code. */
void tv_unit_parent(const char *code, char out[TV_UNIT_CODE_MAX + 1]);

/* How many official units there are (provinces + communes); 0 if the list cannot be
 * read. */
size_t tv_units_count(void);

#endif
