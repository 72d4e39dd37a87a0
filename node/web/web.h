/* The node's web console: a local HTTP server (libmicrohttpd) with the console's pages and
 * a JSON API over the same product logic as the CLI (node/logic/). `truyvet serve --http
 * ADDR` runs it beside the network loop, in the same process: both use the one tv_node
 * under one mutex (the daemon holds it while it works on the store, each request while it
 * does), so the store is never used by two threads at once.
 *
 * The API is described in node/web/openapi.json (served at /api/openapi.json) and the
 * routes are listed in node/web/routes.c. Who may call what: accounts and roles
 * (node/logic/account.h), sessions and CSRF tokens (node/web/session.h), checked by the
 * dispatcher (node/web/route.c) before any handler runs. */
#ifndef TV_NODE_WEB_WEB_H
#define TV_NODE_WEB_WEB_H

#include "node/logic/node.h"

#include <pthread.h>
#include <sys/socket.h>
#include <stdint.h>

#define TV_WEB_ADDR_DEFAULT "127.0.0.1:8080"
#define TV_WEB_URL_MAX 80

typedef struct tv_web tv_web;

typedef struct tv_web_opts {
    const char *addr;    /* HOST:PORT ("127.0.0.1:8080", "0.0.0.0:80", "[::1]:8080"); port 0:
                          * any free port (tv_web_url says which) */
    pthread_mutex_t *mu; /* held around every use of the node */
    int verbose;         /* log each request on stderr */
} tv_web_opts;

/* Parses "HOST:PORT" (an IPv4 or a bracketed IPv6 address and a port from 0 to 65535).
 * Returns 0 or TV_EINVAL. */
int tv_web_addr_parse(const char *addr, struct sockaddr_storage *out, unsigned *len);

/* Starts the console on node n (which must outlive it), serving from its own threads.
 * Writes its URL to DIR/console.url (removed by tv_web_stop). Returns 0, TV_EINVAL (a bad address),
 * TV_EIO (cannot listen there: errno says why) or TV_ENOMEM. */
int tv_web_start(tv_node *n, const tv_web_opts *o, tv_web **out);
/* The URL it listens on: "http://127.0.0.1:8080/". */
const char *tv_web_url(const tv_web *w);
/* Stops serving (open live lists are ended), then frees w. NULL is fine. */
void tv_web_stop(tv_web *w);

#endif
