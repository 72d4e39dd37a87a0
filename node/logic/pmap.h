/* What a node does with pseudonym keys after it receives batches (PROTOCOL.md §2.6,
 * §2.14): a health node maps the commune refs of the person records it can open to
 * province refs (the store re-keys their scans), and grants their keys to the communes
 * enrolled without one; a commune installs the key granted to it.
 *
 * Mapping: for each person record not examined yet (or newer than when it was), the
 * health node opens the details sealed to it, and for each identifier among them (CCCD,
 * CMND, BHYT, phone) computes its ref under the recording commune's K_c (derived from K_p)
 * and under K_p; the identifier whose ref is the record's own gives the province ref
 * (keyed BLAKE2b of the same identity under K_p). A record whose ref no identifier gives
 * (recorded before its commune had its key, or a forged one) is left unmapped: its
 * pseudonym then matches only itself, as before enrolment. The pass runs only when the
 * store holds person events it has not seen (a counter in meta "pmap_persons"). */
#ifndef TV_NODE_PMAP_H
#define TV_NODE_PMAP_H

#include "crdt/event.h"
#include "node/logic/node.h"
#include "node/logic/seal.h"

#include <stdint.h>

/* The province ref of the person of record p, from its opened details d: 0 with pref set
 * when an identifier in d gives p's ref under K_c of p's unit; TV_EEXIST when p's ref is
 * the province ref already (a health node's own record); TV_ENOTFOUND otherwise. */
int tv_pmap_province_ref(const crdt_person *p, const tv_details *d,
                         const uint8_t kp[TV_TRACING_KEY_BYTES], uint8_t pref[TV_PERSON_REF_BYTES]);

/* The mapping pass over store st of a node whose identity is self, holding K_p kp.
 * *mapped (may be NULL) gets the number of refs newly mapped. Returns 0 or a store error. */
int tv_pmap_pass_store(store *st, const crdt_identity *self, const uint8_t kp[TV_TRACING_KEY_BYTES],
                       uint64_t *mapped);

/* After batches were received and committed: the mapping pass when n holds K_p; the key
 * grants a health node owes (when n is opened for writing or can take its writer lock
 * now); the installing of a key granted to n. Failures are left for the next call (what
 * was received is durable already). Returns 0 or the first error met. */
int tv_keys_after_receive(tv_node *n);

#endif
