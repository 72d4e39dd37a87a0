/* Key grants (PROTOCOL.md §2.14): a commune enrolled by a node that holds no province key
 * (a district without the health flag) gets its pseudonym key K_c from a health node, in
 * a `key_grant` event sealed to it.
 *
 * A health node (one holding K_p) grants K_c to every installed, unrevoked commune
 * certificate that its health scope covers, whose issuer has no health flag (a health
 * issuer, itself included, sealed the key into that certificate file), and that holds no
 * grant from it yet; it runs after it
 * receives batches (bundle import, every round of `serve`/`sync` that brought events) and
 * when it starts recording. Receivers refuse a grant from a node without the health flag
 * or whose health scope does not cover the unit (S1). A commune without its K_c installs
 * the first grant to it, for its own unit, that opens with its key; the grant carries no
 * proof that the key is K_c of its unit beyond its health author's signature. */
#ifndef TV_NODE_GRANT_H
#define TV_NODE_GRANT_H

#include "node/logic/node.h"

/* The grants n owes, or the grant n waits for (see above). Needs n's writer lock: held,
 * or taken for the while (tv_node_lock_try); when another process records now, nothing is
 * done and 0 returned (the next pass does it). *authored and *installed (may be NULL) get
 * the grants written and whether a key was installed. Returns 0 or an error. */
int tv_grant_pass_counts(tv_node *n, uint64_t *authored, int *installed);
int tv_grant_pass(tv_node *n);

#endif
