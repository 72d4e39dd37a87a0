/* ZeroMQ transport: moves whole messages between authenticated nodes over CurveZMQ.
 *
 * This layer knows nothing of the sync protocol. It owns the ZeroMQ context, a ZAP handler
 * that admits only the Ed25519 keys the caller allows, one listening ROUTER socket and any
 * number of DEALER connections, and it tells the caller which node (by Ed25519 public key)
 * sent each message. zmq.h is included by net/zmq.c alone; callers see only these types.
 *
 * Threads: every function here must be called from the one thread that drives the node's
 * loop, except tvz_allow, tvz_deny, tvz_admit_set and tvz_ctx_stats, which may be called
 * from any thread. The admit callback runs on the ZAP thread.
 *
 * Errors: functions return 0 or a negative TV_E... code (crdt/error.h). ZeroMQ's errno
 * values map onto the existing codes as follows, and each comment lists which apply:
 *   EAGAIN, EINTR           -> TV_EBUSY     nothing to receive, or the peer's queue is full or
 *                                           its link is not up: try again after tvz_poll
 *   EHOSTUNREACH            -> TV_ENOTFOUND the peer is not connected (any more)
 *   ENOMEM                  -> TV_ENOMEM
 *   EINVAL, EPROTONOSUPPORT -> TV_EINVAL    a malformed endpoint
 *   anything else           -> TV_EIO       errno keeps ZeroMQ's value (EADDRINUSE, ...)
 *
 * What the sync layer must know about libzmq 4.3.4 (each point was checked on loopback):
 * - With no ZAP handler bound, a CURVE server admits every client key. The context binds its
 *   handler before creating any other socket and keeps it bound until the context is freed.
 * - ZAP runs once per connection, at the handshake. tvz_deny cannot cut an established
 *   connection; tvz_listener_recv therefore drops messages from keys no longer allowed,
 *   and tvz_listener_send_to refuses to send to them.
 * - ZMQ_MAXMSGSIZE counts the encrypted frame, TVZ_CURVE_OVERHEAD_BYTES more than the
 *   payload; the socket option is set to msg_bytes_max plus that overhead. A peer that sends
 *   more is disconnected without a word: the sender sees its link go down, nothing arrives.
 * - With ZMQ_IMMEDIATE a DEALER queues nothing while its link is down (send gives
 *   TV_EBUSY); messages already queued when a link dies are lost. The protocol must resume
 *   from its acknowledgements after every reconnect.
 * - A client the server refuses (ZAP status 400) is never retried by libzmq: the refusal
 *   arrives as a protocol error, which ends that DEALER's connecting for good. Such a
 *   connection reports TVZ_EVENT_REFUSED and stays `stalled` until tvz_conn_reset; the
 *   caller decides when to try again (say, after enrolment, with its own backoff). Other
 *   failures (wrong server key, dropped links) are retried by libzmq with backoff.
 * - DOWN is reported before libzmq detaches the link, so a send just after DOWN may still be
 *   accepted, and is lost.
 * - A monitor socket nobody reads stalls the context's I/O thread (every connection); the
 *   monitor readers here are connected before the monitored socket connects and drained
 *   by tvz_poll and the tvz_conn_ calls. */
#ifndef TV_NET_ZMQ_H
#define TV_NET_ZMQ_H

#include "crdt/identity.h"
#include "crdt/ids.h"

#include <stddef.h>
#include <stdint.h>

/* Largest message payload: a full batch (256 KiB) plus room for the protocol's framing. */
#define TVZ_MSG_BYTES_MAX (256 * 1024 + 4 * 1024)
/* CurveZMQ MESSAGE command around a payload: "\x07MESSAGE", 8-byte nonce, 16-byte MAC and
 * a flags byte. ZMQ_MAXMSGSIZE applies to the command, not to the payload. */
#define TVZ_CURVE_OVERHEAD_BYTES 33
/* ZeroMQ routing ids are 1 to 255 bytes. */
#define TVZ_RID_BYTES_MAX 255
/* Keys the ZAP handler may admit: every node of a province's subtree, with room to spare. */
#define TVZ_ALLOW_MAX 65536
/* Peers whose last routing id the listener remembers for tvz_listener_send_to. */
#define TVZ_ROUTES_MAX 1024
/* Objects one tvz_poll call waits on. */
#define TVZ_POLL_ITEMS_MAX 64
/* Connection events kept until the caller reads them; older ones are dropped first. */
#define TVZ_EVENTS_QUEUED_MAX 32
/* Longest endpoint string, with its NUL ("tcp://[v6 address]:port" fits easily). */
#define TVZ_ENDPOINT_MAX 256
/* ZAP domain of every listener; the handler refuses requests from any other domain. */
#define TVZ_ZAP_DOMAIN "truyvet"

/* Defaults of tvz_config. Heartbeats detect dead links within the timeout; the TTL asks
 * the remote side to do the same (libzmq sends it in deciseconds, at most 6553.5 s). */
#define TVZ_HEARTBEAT_IVL_MS 5000
#define TVZ_HEARTBEAT_TIMEOUT_MS 15000
#define TVZ_HEARTBEAT_TTL_MS 15000
#define TVZ_HEARTBEAT_TTL_MS_MAX 6553500
#define TVZ_RECONNECT_IVL_MS 500
#define TVZ_RECONNECT_IVL_MAX_MS 60000
#define TVZ_HANDSHAKE_MS 10000
#define TVZ_LINGER_MS 1000
#define TVZ_LINGER_MS_MAX 10000
/* How long tvz_listener_free waits for libzmq to release the listening port. */
#define TVZ_UNBIND_WAIT_MS 2000
/* Messages queued per peer and direction: bounds memory to about 33 MiB per peer. The
 * protocol's credit window must stay below it. */
#define TVZ_QUEUE_MSGS 128
#define TVZ_QUEUE_MSGS_MAX 1024

_Static_assert(TVZ_HEARTBEAT_TIMEOUT_MS > TVZ_HEARTBEAT_IVL_MS,
               "a heartbeat timeout shorter than the interval drops healthy links");
_Static_assert(TVZ_HEARTBEAT_TTL_MS % 100 == 0 && TVZ_HEARTBEAT_TTL_MS <= TVZ_HEARTBEAT_TTL_MS_MAX,
               "libzmq carries the heartbeat TTL in deciseconds, in 16 bits");
_Static_assert(TVZ_RECONNECT_IVL_MAX_MS >= TVZ_RECONNECT_IVL_MS, "backoff must not shrink");
_Static_assert(TVZ_LINGER_MS <= TVZ_LINGER_MS_MAX, "linger must stay bounded");
_Static_assert(TVZ_QUEUE_MSGS <= TVZ_QUEUE_MSGS_MAX, "queue default within its bound");
_Static_assert(TVZ_MSG_BYTES_MAX + TVZ_CURVE_OVERHEAD_BYTES < INT32_MAX,
               "the wire limit must fit libzmq's size fields");
_Static_assert(TV_NODE_ID_BYTES == 32, "CurveZMQ keys are 32 bytes, as Ed25519 keys are");

typedef struct tvz_ctx tvz_ctx;
typedef struct tvz_listener tvz_listener;
typedef struct tvz_conn tvz_conn;

/* Tunables of a context; tvz_config_default fills in the TVZ_ defaults above. Tests
 * shorten the reconnect intervals and lower msg_bytes_max. */
typedef struct tvz_config {
    size_t msg_bytes_max;     /* largest payload sent or accepted, <= TVZ_MSG_BYTES_MAX */
    int heartbeat_ivl_ms;     /* > 0 */
    int heartbeat_timeout_ms; /* > heartbeat_ivl_ms */
    int heartbeat_ttl_ms;     /* multiple of 100, <= TVZ_HEARTBEAT_TTL_MS_MAX */
    int reconnect_ivl_ms;     /* > 0: first retry of a DEALER */
    int reconnect_ivl_max_ms; /* >= reconnect_ivl_ms: libzmq doubles up to here */
    int handshake_ms;         /* > 0: a handshake (ZAP included) must finish in this time */
    int linger_ms;            /* 0..TVZ_LINGER_MS_MAX: how long close flushes queued sends */
    int queue_msgs;           /* 1..TVZ_QUEUE_MSGS_MAX: ZMQ_SNDHWM and ZMQ_RCVHWM */
} tvz_config;

/* Fills cfg with the TVZ_ defaults. */
void tvz_config_default(tvz_config *cfg);

/* Optional admission callback: returns nonzero to admit the key. */
typedef int (*tvz_admit_fn)(const uint8_t ed25519_pk[TV_NODE_ID_BYTES], void *arg);

/* What the ZAP handler has decided since the context was created. */
typedef struct tvz_zap_stats {
    uint64_t admitted;
    uint64_t refused;
} tvz_zap_stats;

/* A ZeroMQ routing id: names one connection on the listener. */
typedef struct tvz_rid {
    uint8_t len;
    uint8_t bytes[TVZ_RID_BYTES_MAX];
} tvz_rid;

/* A received message. `data` is borrowed: it stays valid until the next recv on the same
 * listener or connection, or until that object is freed. `rid` is zeroed for messages
 * received on a connection, whose sender is always its server. */
typedef struct tvz_msg {
    uint8_t from[TV_NODE_ID_BYTES]; /* the sender's Ed25519 public key, authenticated */
    tvz_rid rid;
    const uint8_t *data;
    size_t len;
} tvz_msg;

/* Creates a context for node `id`: checks libzmq (>= 4.3.3, with CURVE), derives the
 * X25519 transport keys from the Ed25519 pair (the secret is copied, not kept by
 * reference), and binds the ZAP handler before any other socket exists. Nobody is admitted
 * until tvz_allow is called. cfg may be NULL for the defaults. On success *out is owned by
 * the caller (tvz_ctx_free). Calls sodium_init.
 * Returns 0, TV_EINVAL (bad cfg or key), TV_EVERSION (libzmq too old or without CURVE),
 * TV_ENOMEM or TV_EIO. */
int tvz_ctx_new(const crdt_identity *id, const tvz_config *cfg, tvz_ctx **out)
    __attribute__((warn_unused_result));

/* Stops the ZAP handler, terminates the ZeroMQ context and wipes the keys. Every listener
 * and connection of ctx must have been freed first (asserted). NULL is a no-op. */
void tvz_ctx_free(tvz_ctx *ctx);

/* Allows the node with Ed25519 key `ed25519_pk` to connect to this context's listener:
 * records its X25519 key so that the ZAP handler can map a handshake back to it.
 * Idempotent. Returns 0, TV_EINVAL (not a valid Ed25519 public key), TV_ELIMIT (already
 * TVZ_ALLOW_MAX keys) or TV_ENOMEM. */
int tvz_allow(tvz_ctx *ctx, const uint8_t ed25519_pk[TV_NODE_ID_BYTES]);

/* Revokes a key: new handshakes by it are refused, and the listener drops its messages
 * from now on, also on connections it already has. Returns 0 or TV_ENOTFOUND. */
int tvz_deny(tvz_ctx *ctx, const uint8_t ed25519_pk[TV_NODE_ID_BYTES]);

/* Sets (or, with fn NULL, clears) a callback the ZAP handler consults for every handshake
 * by an allowed key; the key is admitted only if fn returns nonzero. fn runs on the ZAP
 * thread, must be thread-safe and quick (it delays every handshake), and must not call
 * tvz_ functions other than tvz_allow, tvz_deny and tvz_ctx_stats. The callback cannot
 * admit keys that were never allowed: ZAP reports X25519 keys, which only the allow table
 * maps back to Ed25519 keys. arg is borrowed until the context is freed (a handshake may
 * still be using the previous callback while it is replaced). */
void tvz_admit_set(tvz_ctx *ctx, tvz_admit_fn fn, void *arg);

/* Copies the ZAP handler's counters into *out. */
void tvz_ctx_stats(tvz_ctx *ctx, tvz_zap_stats *out);

/* Counters of messages the listener received but did not deliver. */
typedef struct tvz_listener_stats {
    uint64_t delivered;
    uint64_t dropped_unauthenticated; /* no or malformed User-Id (should never happen) */
    uint64_t dropped_revoked;         /* the sender's key is no longer allowed */
    uint64_t dropped_malformed;       /* multipart, or longer than msg_bytes_max */
} tvz_listener_stats;

/* Binds a ROUTER socket (CURVE server, ZAP domain TVZ_ZAP_DOMAIN, ZMQ_ROUTER_MANDATORY,
 * heartbeats, bounded message size and queues) on `endpoint`, e.g. "tcp://0.0.0.0:7400"
 * or "tcp://127.0.0.1:*" for a free port (see tvz_listener_endpoint). On success *out is
 * owned by the caller (tvz_listener_free). Returns 0, TV_EINVAL (malformed endpoint),
 * TV_ENOMEM or TV_EIO (errno EADDRINUSE and the like; or the ZAP handler has stopped). */
int tvz_listener_new(tvz_ctx *ctx, const char *endpoint, tvz_listener **out)
    __attribute__((warn_unused_result));

/* Unbinds, waits (at most TVZ_UNBIND_WAIT_MS) until libzmq has closed the listening
 * socket, so that the endpoint can be bound again at once, then closes every connection.
 * NULL is a no-op. */
void tvz_listener_free(tvz_listener *l);

/* The endpoint actually bound, with any wildcard port resolved ("tcp://127.0.0.1:40123").
 * Owned by the listener. */
const char *tvz_listener_endpoint(const tvz_listener *l);

/* Receives one message without waiting. On success *msg holds the sender's key, routing id
 * and payload (borrowed, see tvz_msg), and the sender's routing id is remembered for
 * tvz_listener_send_to. Messages that cannot be attributed, from revoked keys, multipart or
 * too long are dropped and counted (tvz_listener_stats). Returns 0 or TV_EBUSY (nothing
 * waiting; drain after each tvz_poll until TV_EBUSY), TV_ENOMEM, TV_EIO. */
int tvz_listener_recv(tvz_listener *l, tvz_msg *msg);

/* Sends buf[0..len) to the connection named `rid`, without waiting. buf is copied.
 * Returns 0, TV_ELIMIT (len > msg_bytes_max), TV_EINVAL (empty rid), TV_ENOTFOUND (no such
 * connection), TV_EBUSY (its queue is full), TV_ENOMEM or TV_EIO. */
int tvz_listener_send(tvz_listener *l, const tvz_rid *rid, const uint8_t *buf, size_t len);

/* Sends to the connection on which `pk` last sent a message. Returns what tvz_listener_send
 * returns, and TV_ENOTFOUND when pk has sent nothing yet or its connection is gone (the
 * route is then forgotten), TV_EPERM when pk is not allowed. */
int tvz_listener_send_to(tvz_listener *l, const uint8_t pk[TV_NODE_ID_BYTES], const uint8_t *buf,
                         size_t len);

/* Copies the listener's drop counters into *out. */
void tvz_listener_stats_get(const tvz_listener *l, tvz_listener_stats *out);

/* Link events of a connection, read from its socket monitor. */
typedef enum tvz_event_kind {
    TVZ_EVENT_UP = 1,  /* a handshake succeeded: messages can flow */
    TVZ_EVENT_DOWN,    /* the link closed; libzmq reconnects after reconnect_ivl_ms */
    TVZ_EVENT_REFUSED, /* the server refused our key (value: ZAP status code, e.g. 400) */
    TVZ_EVENT_FAILED,  /* a handshake failed otherwise, e.g. the server has another key */
} tvz_event_kind;

typedef struct tvz_event {
    tvz_event_kind kind;
    uint32_t value;
} tvz_event;

/* A connection's link state, updated whenever its events are read from libzmq. */
typedef struct tvz_conn_status {
    int up;           /* 1 between TVZ_EVENT_UP and the next TVZ_EVENT_DOWN */
    uint64_t ups;     /* handshakes that succeeded */
    uint64_t downs;   /* links that closed after coming up */
    uint64_t refused; /* handshakes the server refused (ZAP) */
    uint64_t failed;  /* other failed handshakes */
    uint64_t retries; /* reconnect attempts libzmq has scheduled */
    uint64_t resets;  /* tvz_conn_reset calls */
    uint64_t events_dropped;
    uint32_t last_refusal; /* ZAP status code of the last refusal, 0 if none */
    int stalled;           /* refused: libzmq will not retry; only tvz_conn_reset does */
} tvz_conn_status;

/* Creates a DEALER connecting to `endpoint`, where the node with Ed25519 key `server_pk`
 * listens: CURVE client of that key (a server with another key fails the handshake),
 * ZMQ_IMMEDIATE, heartbeats, reconnects with backoff, a socket monitor. Connecting happens
 * in the background: wait for TVZ_EVENT_UP (tvz_poll, tvz_conn_event_next) before relying on
 * the link. On success *out is owned by the caller (tvz_conn_free). Returns 0, TV_EINVAL
 * (malformed endpoint or key), TV_ENOMEM or TV_EIO. */
int tvz_conn_new(tvz_ctx *ctx, const char *endpoint, const uint8_t server_pk[TV_NODE_ID_BYTES],
                 tvz_conn **out) __attribute__((warn_unused_result));

/* Closes the connection (queued messages get linger_ms to leave). NULL is a no-op. */
void tvz_conn_free(tvz_conn *c);

/* Replaces the DEALER by a new one to the same endpoint and key: for a stalled (refused)
 * connection, which libzmq never retries, or a link that stays down although libzmq keeps
 * retrying. Queued messages are dropped; the status counters are kept, with up and stalled
 * cleared. A borrowed message from tvz_conn_recv stays valid. Returns 0,
 * TV_ENOMEM or TV_EIO (the connection is then unusable except for tvz_conn_free and
 * further resets). */
int tvz_conn_reset(tvz_conn *c);

/* Receives one message from the server without waiting; msg->from is the server's key
 * (CURVE proved it), msg->rid is empty. Multipart and overlong messages are dropped.
 * Returns 0, TV_EBUSY (nothing waiting), TV_ENOMEM or TV_EIO. */
int tvz_conn_recv(tvz_conn *c, tvz_msg *msg);

/* Queues buf[0..len) for the server without waiting; buf is copied. Returns 0, TV_ELIMIT
 * (len > msg_bytes_max), TV_EBUSY (link not up, or queue full), TV_ENOMEM or TV_EIO. */
int tvz_conn_send(tvz_conn *c, const uint8_t *buf, size_t len);

/* Takes the oldest unread link event. Returns 0 or TV_EBUSY (none). */
int tvz_conn_event_next(tvz_conn *c, tvz_event *ev);

/* Copies the connection's link state into *out (after reading pending events). */
void tvz_conn_status_get(tvz_conn *c, tvz_conn_status *out);

/* The server key this connection authenticates. */
const uint8_t *tvz_conn_server_pk(const tvz_conn *c);

/* Readiness bits reported by tvz_poll. */
enum {
    TVZ_READY_MSG = 1,   /* a message can be received */
    TVZ_READY_EVENT = 2, /* a link event can be read (connections) */
    TVZ_READY_FD = 4,    /* the file descriptor is readable */
};

/* One object to wait on: a listener, else a connection, else (both NULL) a plain file
 * descriptor such as a signal pipe's read end. `ready` is an output. */
typedef struct tvz_poll_item {
    tvz_listener *listener;
    tvz_conn *conn;
    int fd;
    unsigned ready;
} tvz_poll_item;

/* Waits up to timeout_ms (-1: no limit, 0: just look) until one of items[0..n) is ready,
 * and sets each item's `ready`. Reads pending link events of connections on the way.
 * Returns the number of ready items (0 on timeout or when a signal interrupted the wait),
 * TV_EINVAL (n > TVZ_POLL_ITEMS_MAX) or TV_EIO. */
int tvz_poll(tvz_poll_item *items, size_t n, long timeout_ms);

#endif
