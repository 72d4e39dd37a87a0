/* Personal details recorded before a node had anyone to seal them to.
 *
 * A node that knows no health node covering its unit (one not enrolled yet, typically: a
 * commune records for days while its certificate travels) still writes each new person's
 * `person` event, with the details sealed to its own node key (PROTOCOL.md §2.6). Once it
 * knows health recipients, it re-seals them: for each person record of its own that is
 * sealed to itself but not to every current recipient, it opens its own box and writes a
 * new `person` event for the same person ref (same masked fields) sealed to the health
 * nodes. That event is later by HLC, so it becomes the person's record everywhere and the
 * health authority can reveal the person like any other.
 *
 * A meta flag ("reseal") says that self-sealed records may exist. The recorder sets it
 * durably before its first self-sealed record is committed; a pass that leaves nothing to
 * re-seal clears it, in the commit of its last events. So checking costs one read while
 * there is nothing to do. */
#ifndef TV_NODE_RESEAL_H
#define TV_NODE_RESEAL_H

#include "node/logic/node.h"

#include <stdint.h>

/* Marks that self-sealed person records are about to be written (t: a read snapshot of
 * n's store, to see whether the flag is set already). Returns 0 or a store error. */
int tv_reseal_mark(tv_node *n, store_txn *t);

/* Re-seals to the health recipients covering n's unit every own person record sealed to
 * n but not to all of them, in one durable commit (several when they are more than the
 * pending group holds; a pass stopped half-way is finished by the next one). n must be
 * opened with TV_NODE_WRITE and have nothing pending. *count (may be NULL) gets the
 * number re-sealed. Returns 0 (also when there is nobody to seal to yet), TV_EINVAL (not
 * opened for writing, or events pending), TV_ECORRUPT (an own box does not open) or a
 * store error. */
int tv_reseal_own(tv_node *n, uint64_t *count);

#endif
