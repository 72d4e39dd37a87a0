/* The status of a node written out, as `truyvet status` shows it: labelled text lines or
 * one JSON Lines record, from the result of node/logic/status.h. A web console's node
 * page writes the same JSON object.
 *
 * Stored text (the node's name and directory) reaches a terminal only escaped
 * (tv_text_esc); JSON is escaped by the writer. Times are Vietnam time. */
#ifndef TV_NODE_RENDER_STATUS_H
#define TV_NODE_RENDER_STATUS_H

#include "node/logic/node.h"
#include "node/logic/status.h"
#include "node/render/json.h"

#include <stdio.h>

/* The status of node n (directory dir) as one JSON object on one line: node_id, role, unit,
 * name, dir, own_seq, pseudonym_key, root, cert, revoked, events, batches, origins,
 * frontier, forks, fork_origins, resync, parked, checkpoints_waiting, retention, store.
 * Returns what tv_json_line_end does (0, TV_EIO or TV_EINVAL). */
int tv_render_status_json(FILE *f, const tv_node *n, const char *dir, const tv_status *s);

/* The same as labelled lines (node, role, directory, root, cert, pseudonyms, events,
 * batches, retention, store, frontier, then a line for each fork, resync, parked batch or
 * waiting checkpoint). */
void tv_render_status_text(FILE *f, const tv_node *n, const char *dir, const tv_status *s);

#endif
