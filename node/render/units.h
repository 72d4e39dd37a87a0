/* Units written out (node/logic/units.h): the JSON object of `truyvet unit list --json`,
 * which the web console writes too. */
#ifndef TV_NODE_RENDER_UNITS_H
#define TV_NODE_RENDER_UNITS_H

#include "node/logic/units.h"
#include "node/render/json.h"

/* A unit of the tree as a JSON object: code, name, parent, official. */
void tv_render_unit_json(tv_json *j, const tv_tree_unit *u);

#endif
