/* A node's network configuration: where it listens, its parents (nearest first) and its
 * optional peers. Kept in the store's metadata so that it changes atomically. */
#ifndef TV_NODE_NETCONF_H
#define TV_NODE_NETCONF_H

#include "crdt/ids.h"
#include "store/store.h"

#include <stdint.h>

#define TV_NET_LINKS_MAX 16     /* parents + peers */
#define TV_NET_ENDPOINT_MAX 200 /* bytes of an endpoint such as tcp://10.0.0.2:7400 */

typedef struct tv_net_link {
    char endpoint[TV_NET_ENDPOINT_MAX + 1];
    int has_key;                   /* the entry was written NODEID@ENDPOINT */
    uint8_t key[TV_NODE_ID_BYTES]; /* the node listening there, when has_key */
    int parent;                    /* 1 parent, 0 peer */
} tv_net_link;

typedef struct tv_netconf {
    char listen[TV_NET_ENDPOINT_MAX + 1]; /* empty: do not listen */
    tv_net_link links[TV_NET_LINKS_MAX];  /* parents first, in order, then peers */
    uint32_t len;
} tv_netconf;

/* Parses "[NODEID@]ENDPOINT" (NODEID: 64 hex digits; ENDPOINT: tcp://HOST:PORT). Returns 0
 * or TV_EINVAL. */
int tv_net_link_parse(const char *text, tv_net_link *out);
/* Formats a link back as text. */
void tv_net_link_format(const tv_net_link *l, char *out, size_t cap);

/* Reads the configuration (empty when none was set). Returns 0 or a store error. */
int tv_netconf_get(store_txn *t, tv_netconf *c);
/* Writes it. Returns 0 or a store error. */
int tv_netconf_put(store_txn *t, const tv_netconf *c);

/* The key of the node at link i: its own when written NODEID@ENDPOINT; otherwise, for the
 * k-th parent, the k-th ancestor in this node's certificate chain (the district, then the
 * province). Returns 0, or TV_ENOTFOUND when no key is known (not enrolled yet). */
int tv_netconf_link_key(store_txn *t, const tv_netconf *c, uint32_t i,
                        const uint8_t self[TV_NODE_ID_BYTES], uint8_t key[TV_NODE_ID_BYTES]);

#endif
