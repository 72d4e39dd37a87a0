/* A unit typed by a person (`truyvet unit add`, the console's units page): the checks of
 * what was typed, and its recording, each refusal with its code and sentences (why.h). */
#ifndef TV_NODE_LOGIC_UNIT_INPUT_H
#define TV_NODE_LOGIC_UNIT_INPUT_H

#include "crdt/event.h"
#include "node/logic/node.h"
#include "node/logic/why.h"

/* Checks a unit to add: code (a village is <commune>.<local>), name (NULL: an official
 * unit's own name, else required), parent (NULL: the default parent; either way written
 * into parent_buf). Fills *u pointing into the strings given. Returns 0, or
 * TV_EINVAL with why: unit_invalid, name_missing, text_too_long / text_control /
 * text_utf8, parent_missing, parent_invalid. */
int tv_unit_input(const char *code, const char *name, const char *parent,
                  char parent_buf[TV_UNIT_CODE_MAX + 1], crdt_unit *u, tv_why *why);

/* Records u as one of n's events and commits it (nothing is kept when it fails). Returns
 * 0; with why, TV_EPERM (not_enrolled) or TV_ESCOPE (unit_scope); else a store error
 * (why's code "store"). */
int tv_unit_record(tv_node *n, const crdt_unit *u, tv_why *why);

#endif
