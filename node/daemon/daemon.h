/* The node's network loop: listens for children and peers, connects to its parents
 * (falling back to the next when one is unreachable), and runs one sync session per
 * authenticated peer over ZeroMQ. The loop itself is net/driver.c's (tv_driver_turn); this
 * module gives it the ZeroMQ transport, the wall clock and the node's chores (the status
 * file, parked batches, retention, pseudonym keys, notices for the communes). `truyvet
 * serve` runs it until stopped; `truyvet sync --once` runs it until one session is in
 * step. */
#ifndef TV_NODE_DAEMON_H
#define TV_NODE_DAEMON_H

#include "node/daemon/netconf.h"
#include "node/logic/node.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#define TV_DAEMON_SESSIONS_MAX 256
#define TV_DAEMON_FALLBACK_MS 8000 /* a parent not reached in this time: try the next */
#define TV_DAEMON_LOOP_MS_MAX 500  /* the loop looks at the store and the stop flag this often */
#define TV_DAEMON_STATUS_MS 2000   /* peers.json is rewritten at most this often */
#define TV_DAEMON_PARK_MS 60000    /* parked batches are offered their time this often */
#define TV_DAEMON_PURGE_RETRY_MS 60000 /* a purge deferred (another program records) */

/* The state of a server's retention chore (tv_daemon_purge_chore); starts zeroed. */
typedef struct tv_purge_chore {
    int64_t last_ms; /* the last purge, or the time that makes the next try due; 0: none */
    int deferred;    /* the last try was deferred (said once) */
} tv_purge_chore;

typedef struct tv_daemon_opts {
    int once;                    /* stop when a session with a parent (or --peer) is in step */
    const char *peer;            /* [NODEID@]ENDPOINT: sync with this one instead of parents */
    int64_t timeout_ms;          /* once: give up after this long (0: no limit) */
    int listen;                  /* accept connections on the configured endpoint */
    int verbose;                 /* log each session's progress on stderr */
    volatile sig_atomic_t *stop; /* set by a signal handler: stop cleanly */
    pthread_mutex_t *mu;         /* held while the loop uses the node (NULL: none); others
                                  * (the web console) share the node under it */
    tv_purge_chore *purge;       /* the retention chore's state, kept by a caller that runs
                                  * the loop more than once (NULL: the loop's own) */
} tv_daemon_opts;

typedef struct tv_daemon_result {
    int in_step; /* once: the session reached in step */
    int error;   /* why it stopped, if it failed (TV_E...) */
    char peer_endpoint[TV_NET_ENDPOINT_MAX + 1];
    uint64_t events_in, events_out, refused;
} tv_daemon_result;

/* Runs the loop on node n (opened without the writer lock: the daemon records no events of
 * its own, it applies its peers'). Returns 0, or TV_EUNTRUSTED (not enrolled), TV_EINVAL
 * (nothing to connect to), TV_EIO (cannot listen), or a store error. */
int tv_daemon_run(tv_node *n, const tv_daemon_opts *o, tv_daemon_result *r);

/* A server's retention chore: purges n (tv_node_purge, with a checkpoint and the file
 * rewritten) at the first call and then once a day (TV_PURGE_INTERVAL_MS), saying on
 * stderr what it removed. While another program records (the writer lock) or has the
 * store open to write (store_compact), it defers, says so once, and tries again after
 * TV_DAEMON_PURGE_RETRY_MS. tv_daemon_run calls it between turns; a server that serves
 * the console alone calls it too. The caller holds n's mutex, with no read transaction of
 * n open. */
void tv_daemon_purge_chore(tv_node *n, tv_purge_chore *c, int64_t now_ms);

#endif
