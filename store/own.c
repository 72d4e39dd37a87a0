/* The checks of the node's own batches (PROTOCOL.md §3.1 step 5). */
#include "crdt/error.h"
#include "store/internal.h"

/* No chain is asked of this node's own log and nothing of it is parked, but what it says
 * about trust is judged as anyone's: its certificates open and fit the tree, its
 * revocations keep to T5. Without a root, no certificate fits (T1) and no revocation is
 * lawful (T5): the province sets its root before it writes its own certificate. */
int store_own_check_(store_txn *t, const uint8_t *self, const crdt_event *evs, uint32_t n,
                     const char **rule)
{
    uint8_t root[TV_NODE_ID_BYTES];
    *rule = NULL;
    int rc = store_root_get(t, root);
    if (rc && rc != TV_ENOTFOUND) return rc;
    const uint8_t *r = rc == TV_OK ? root : NULL;
    rc = TV_OK;
    for (uint32_t i = 0; i < n && rc == TV_OK; i++) {
        if (!evs[i].known) continue; /* a newer node's event: not judged, as anyone's */
        if (evs[i].type == CRDT_EV_CASE_STATUS || evs[i].type == CRDT_EV_EXPOSURE ||
            evs[i].type == CRDT_EV_REVEAL || evs[i].type == CRDT_EV_HOLD) {
            *rule = STORE_RULE_S2; /* plain, it would tell every node: refused as anyone's */
            return TV_ESCOPE;
        }
        if (evs[i].type == CRDT_EV_CERT)
            rc = store_cert_event_check_(t, self, &evs[i].u.cert, rule);
        else if (evs[i].type == CRDT_EV_REVOKE)
            rc = store_revoke_event_check_(t, self, &evs[i].u.revoke, r, rule);
    }
    if (rc == TV_OK) *rule = NULL;
    return rc;
}
