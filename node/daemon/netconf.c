/* Network configuration in the store's metadata. */
#include "node/daemon/netconf.h"
#include "crdt/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_KEY "netconf"
#define NETCONF_BYTES_MAX (TV_NET_LINKS_MAX * (TV_NET_ENDPOINT_MAX + 80) + 512)

static int endpoint_valid(const char *e)
{
    size_t n = strlen(e);
    if (n == 0 || n > TV_NET_ENDPOINT_MAX) return 0;
    if (strncmp(e, "tcp://", 6) != 0 && strncmp(e, "ipc://", 6) != 0) return 0;
    for (const char *p = e; *p; p++)
        if (*p <= ' ' || *p == '@' || (unsigned char)*p >= 0x7f) return 0;
    if (strncmp(e, "tcp://", 6) == 0) {
        const char *colon = strrchr(e + 6, ':');
        if (!colon || colon == e + 6 || colon[1] == '\0') return 0;
    }
    return 1;
}

int tv_net_link_parse(const char *text, tv_net_link *out)
{
    memset(out, 0, sizeof *out);
    const char *at = strchr(text, '@');
    const char *ep = text;
    if (at) {
        char hex[2 * TV_NODE_ID_BYTES + 1];
        size_t n = (size_t)(at - text);
        if (n != 2 * TV_NODE_ID_BYTES) return TV_EINVAL;
        memcpy(hex, text, n);
        hex[n] = '\0';
        if (tv_hex_decode(out->key, TV_NODE_ID_BYTES, hex)) return TV_EINVAL;
        out->has_key = 1;
        ep = at + 1;
    }
    if (!endpoint_valid(ep)) return TV_EINVAL;
    strcpy(out->endpoint, ep);
    return TV_OK;
}

void tv_net_link_format(const tv_net_link *l, char *out, size_t cap)
{
    if (l->has_key) {
        char hex[2 * TV_NODE_ID_BYTES + 1];
        tv_hex_encode(hex, l->key, TV_NODE_ID_BYTES);
        snprintf(out, cap, "%s@%s", hex, l->endpoint);
    } else {
        snprintf(out, cap, "%s", l->endpoint);
    }
}

/* Stored as text lines: "listen ENDPOINT", "parent LINK", "peer LINK". */
int tv_netconf_get(store_txn *t, tv_netconf *c)
{
    memset(c, 0, sizeof *c);
    char *buf = malloc(NETCONF_BYTES_MAX + 1);
    if (!buf) return TV_ENOMEM;
    size_t len;
    int rc = store_meta_get(t, META_KEY, buf, NETCONF_BYTES_MAX, &len);
    if (rc == TV_ENOTFOUND) {
        free(buf);
        return TV_OK;
    }
    if (rc) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    char *save = NULL;
    for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "listen ", 7) == 0 && endpoint_valid(line + 7)) {
            strcpy(c->listen, line + 7);
        } else if (c->len < TV_NET_LINKS_MAX) {
            int parent = strncmp(line, "parent ", 7) == 0;
            if (!parent && strncmp(line, "peer ", 5) != 0) continue;
            if (tv_net_link_parse(line + (parent ? 7 : 5), &c->links[c->len]) == 0)
                c->links[c->len++].parent = parent;
        }
    }
    free(buf);
    return TV_OK;
}

int tv_netconf_put(store_txn *t, const tv_netconf *c)
{
    char *buf = malloc(NETCONF_BYTES_MAX);
    if (!buf) return TV_ENOMEM;
    size_t n = 0;
    if (c->listen[0])
        n += (size_t)snprintf(buf + n, NETCONF_BYTES_MAX - n, "listen %s\n", c->listen);
    for (int parent = 1; parent >= 0; parent--)
        for (uint32_t i = 0; i < c->len; i++) {
            if (c->links[i].parent != parent) continue;
            char link[TV_NET_ENDPOINT_MAX + 2 * TV_NODE_ID_BYTES + 2];
            tv_net_link_format(&c->links[i], link, sizeof link);
            n += (size_t)snprintf(buf + n, NETCONF_BYTES_MAX - n, "%s %s\n",
                                  parent ? "parent" : "peer", link);
        }
    int rc = store_meta_put(t, META_KEY, buf, n);
    free(buf);
    return rc;
}

int tv_netconf_link_key(store_txn *t, const tv_netconf *c, uint32_t i,
                        const uint8_t self[TV_NODE_ID_BYTES], uint8_t key[TV_NODE_ID_BYTES])
{
    const tv_net_link *l = &c->links[i];
    if (l->has_key) {
        memcpy(key, l->key, TV_NODE_ID_BYTES);
        return TV_OK;
    }
    if (!l->parent) return TV_ENOTFOUND;
    uint32_t k = 0; /* which parent this is: 0 the nearest */
    for (uint32_t j = 0; j < i; j++)
        k += c->links[j].parent;
    crdt_cert *cert = malloc(sizeof *cert);
    if (!cert) return TV_ENOMEM;
    uint8_t cur[TV_NODE_ID_BYTES];
    memcpy(cur, self, TV_NODE_ID_BYTES);
    int rc = TV_OK;
    for (uint32_t up = 0; up <= k; up++) {
        if ((rc = store_cert_get(t, cur, cert, NULL, NULL))) break;
        if (crdt_cert_is_root(cert)) {
            rc = up == 0 ? TV_ENOTFOUND : TV_OK; /* past the root: stay at the root */
            if (up == 0) break;
            break;
        }
        memcpy(cur, cert->issuer, TV_NODE_ID_BYTES);
    }
    free(cert);
    if (rc) return rc == TV_ENOTFOUND ? TV_ENOTFOUND : rc;
    memcpy(key, cur, TV_NODE_ID_BYTES);
    return TV_OK;
}
