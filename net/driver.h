/* The one loop that drives the replication protocol (net/sync.h) for one node.
 *
 * A driver holds the node's sessions, one per peer, and its outbound links (parents and
 * peers it connects to). Each turn (tv_driver_turn) it makes received batches durable
 * (flush), tells every session what the store gained (announce), runs the sessions'
 * timers when due (tick), hands what they have to say to the transport (send), starts
 * closed or dead sessions again (restart), and moves to the next parent when the current
 * one does not answer (parent fallback). It reads no clock and touches no socket: the
 * transport and the clock are callbacks (tv_driver_ops). The daemon runs it over ZeroMQ
 * and the wall clock (node/daemon/daemon.c), the simulator over its virtual network and clock
 * (sim/sim.c), and so do bench/sync.c and tests/net/sync_test.c.
 *
 * Messages come in through tv_driver_deliver (the transport's recv callback, when set,
 * is drained at the start of each turn; a caller may also deliver before the turn).
 *
 * Errors: functions return 0 or a negative TV_E... code (crdt/error.h). */
#ifndef TV_NET_DRIVER_H
#define TV_NET_DRIVER_H

#include "net/sync.h"

#include <stddef.h>
#include <stdint.h>

#define TV_DRIVER_LINKS_MAX 16
#define TV_DRIVER_HOLD_WAIT_MS 100 /* a message the transport refused is offered again after */

/* One session: the peer, its protocol state, and what waits for the transport. */
typedef struct tv_driver_session {
    uint8_t pk[TV_NODE_ID_BYTES];
    sync_peer *s;
    int link;      /* the caller's name for the way to the peer: the daemon's outbound link
                    * (index into the driver's links) or -1 for an inbound peer; the
                    * simulator's link between the two nodes */
    uint8_t *hold; /* a message the transport could not take yet */
    size_t hold_len;
    int64_t closed_ms;        /* when it was seen closed or dead, 0 if alive */
    sync_state reported;      /* for the caller's reports: the state last reported */
    uint32_t refusals_logged; /* for the caller's reports: refusals already written */
} tv_driver_session;

/* An outbound link: where the driver connects to (through ops.connect). */
typedef struct tv_driver_link {
    uint8_t key[TV_NODE_ID_BYTES];
    int has_key;
    int parent;    /* a parent: one at a time, the next when it does not answer */
    int connected; /* ops.connect succeeded and no ops.disconnect since */
    int64_t since; /* when we started trying it */
    int ever_up;   /* tv_driver_link_up was called for it */
} tv_driver_link;

/* A received message, as the transport's recv callback returns it. */
typedef struct tv_driver_msg {
    uint8_t from[TV_NODE_ID_BYTES]; /* the sender, authenticated by the transport */
    int link;                       /* the outbound link it came on, -1 if inbound */
    const uint8_t *data;            /* borrowed until the next recv */
    size_t len;
} tv_driver_msg;

typedef struct tv_driver tv_driver;

/* The transport, the clock and the caller's hooks. send and now_ms are required. */
typedef struct tv_driver_ops {
    void *arg; /* passed to every callback */
    int64_t (*now_ms)(void *arg);
    /* Sends one message to s's peer (buf is copied). Returns 0; TV_EBUSY: not now (the
     * driver holds it and offers it again); TV_ENOTFOUND: the peer is gone (dropped);
     * TV_EPERM: the peer is no longer admitted (dropped, the session is closed as
     * revoked); anything else ends the turn with that error. */
    int (*send)(void *arg, const tv_driver_session *s, const uint8_t *buf, size_t len);
    /* Optional: takes the next received message (and reads the transport's events on the
     * way, calling tv_driver_link_up as links come up). Returns 0, TV_EBUSY when nothing
     * waits, or an error that ends the turn. */
    int (*recv)(void *arg, tv_driver *d, tv_driver_msg *m);
    /* Optional (needed with links): starts connecting link i; disconnect closes it. */
    int (*connect)(void *arg, int link);
    void (*disconnect)(void *arg, int link);
    /* Optional hooks. flushed: batches were made durable (before the store is looked at).
     * changed: the store gained events, before they are announced (may write the store).
     * session: after each session's turn (reports); an error ends the turn.
     * restart: a closed or dead session; returns 1 to start it again now, 0 to wait, or an
     * error. Without it, an outbound session whose link is connected is started again
     * restart_ms after it closed, and an inbound one waits for the peer's next HELLO. */
    int (*flushed)(void *arg);
    int (*changed)(void *arg);
    int (*session)(void *arg, tv_driver_session *s);
    int (*restart)(void *arg, tv_driver_session *s);
    /* Optional notes for the log: parent link i does not answer; link i is tried now. */
    void (*unreachable)(void *arg, int link);
    void (*trying)(void *arg, int link);
} tv_driver_ops;

typedef struct tv_driver_config {
    store *st;                       /* the node's store */
    const crdt_identity *self;       /* the node's key */
    uint8_t epoch[SYNC_EPOCH_BYTES]; /* the store's epoch */
    uint32_t sessions_max;           /* sessions held at most; HELLOs beyond are ignored */
    int64_t restart_ms;              /* default restart rule's pause (see ops.restart) */
    int64_t fallback_ms;             /* a parent never up after this is given up; 0 never */
    int poll_store;     /* look at the store every turn (other processes write it); else only
                         * after a flush or tv_driver_notify */
    int once;           /* each parent gets one chance; closed sessions are not restarted */
    int hello_restarts; /* a HELLO on a session that already heard from its peer starts it
                         * afresh (a peer that reconnected); off where the network
                         * duplicates messages (the simulator) */
} tv_driver_config;

/* Creates a driver (no session, no link yet). Reads the store's version vector as the
 * base of the first announcement. Returns 0, TV_EINVAL, TV_ENOMEM or a store error. */
int tv_driver_new(tv_driver **out, const tv_driver_config *cfg, const tv_driver_ops *ops);
/* Frees the sessions and the driver (links are the caller's: disconnect them first). */
void tv_driver_free(tv_driver *d);

/* Adds an outbound link (not connected yet); returns its index or TV_ELIMIT. */
int tv_driver_link_add(tv_driver *d, const uint8_t key[TV_NODE_ID_BYTES], int has_key, int parent);
/* Connects the first parent with a known key and every peer link. */
void tv_driver_links_start(tv_driver *d);
/* The transport saw link i come up: its session is created, or started afresh when it
 * existed (messages may have been lost across the reconnect). */
int tv_driver_link_up(tv_driver *d, int link);
/* Link i, the parent being tried (-1: none); the number of links. */
int tv_driver_active_parent(const tv_driver *d);
const tv_driver_link *tv_driver_link_get(const tv_driver *d, int link);
uint32_t tv_driver_nlinks(const tv_driver *d);
/* 1 once every parent was given up on (with once, each had its chance). */
int tv_driver_gave_up(const tv_driver *d);

/* Hands a received message to the session of its sender, creating the session (or
 * starting it afresh on a new HELLO). A message that ends the session is not an error.
 * Returns 0 or a store error. */
int tv_driver_deliver(tv_driver *d, const uint8_t from[TV_NODE_ID_BYTES], int link,
                      const uint8_t *msg, size_t len);
/* Opens (or finds) the session with peer on link; NULL when full or out of memory. */
tv_driver_session *tv_driver_open(tv_driver *d, const uint8_t pk[TV_NODE_ID_BYTES], int link);
/* Starts s afresh (a new sync_peer, nothing held). Returns 0 or an error. */
int tv_driver_restart(tv_driver *d, tv_driver_session *s);
/* Frees the session with peer (if any). */
void tv_driver_drop(tv_driver *d, const uint8_t pk[TV_NODE_ID_BYTES]);
tv_driver_session *tv_driver_find(tv_driver *d, const uint8_t pk[TV_NODE_ID_BYTES]);
tv_driver_session *tv_driver_sessions(tv_driver *d, uint32_t *n);

/* The store changed (the node's own events): announce at the next turn. */
void tv_driver_notify(tv_driver *d);

/* The loop's one pass: drain recv, flush, announce, tick, send, restart, parent
 * fallback. Returns 0 or the first error. */
int tv_driver_turn(tv_driver *d);
/* When the next turn is due (ms, absolute): the earliest session timer, soon when a
 * message waits for the transport, never later than `latest`. */
int64_t tv_driver_wake(const tv_driver *d, int64_t now, int64_t latest);
/* Says goodbye on every session and offers the BYEs to the transport once. */
void tv_driver_close_all(tv_driver *d);

#endif
