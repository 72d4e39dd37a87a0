/* The replication protocol as a sans-I/O state machine.
 *
 * One sync_peer is one session with one authenticated peer. The driver (net/driver.h, run
 * by the ZeroMQ daemon, the simulator, bench/sync and the tests) hands it every message
 * received from that peer (sync_peer_recv), asks it for messages to send (sync_peer_send),
 * makes received batches durable (sync_peer_flush: one write transaction for all of
 * them), and calls sync_peer_tick when sync_peer_expiry says so. It never touches a
 * socket or reads a clock: `now` (ms) is a parameter everywhere, so the simulator drives
 * exactly this code.
 *
 * The session: both sides send HELLO (version, node id, certificate chain, store epoch,
 * and the digest of what they believe the other already knows of their version vector),
 * then their version vector as a delta against that (VV ... VV_END with the digest of the
 * whole vector; NEED_FULL asks for everything when the base does not match). Each side
 * then asks for what it lacks and should hold (WANT, with a byte window), and the other
 * streams the batches verbatim (BATCH), keeping at most the window in flight; the
 * receiver applies them durably and acknowledges per origin (ACK), or says why it refuses
 * one (REFUSE). Unacknowledged batches are sent again from the store after a timeout. A
 * side that has everything it wants says DONE; both DONE = in step. HAVE announces new
 * events during a live session; PING/PONG keep an idle link alive. PROTOCOL.md §6 gives
 * every byte. */
#ifndef TV_NET_SYNC_H
#define TV_NET_SYNC_H

#include "crdt/identity.h"
#include "crdt/vv.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define SYNC_PROTOCOL_VERSION 1
#define SYNC_MSG_BYTES_MAX (CRDT_BATCH_BYTES_MAX + 1024) /* one batch and its framing */
#define SYNC_EPOCH_BYTES 16
#define SYNC_VV_CHUNK_MAX 2048       /* version vector entries per VV message */
#define SYNC_WANT_CHUNK_MAX 2048     /* origins per WANT message */
#define SYNC_WINDOW_BYTES (4u << 20) /* batch bytes a receiver lets be in flight */
#define SYNC_PENDING_MAX 64          /* received batches held for one group commit */
#define SYNC_OUT_QUEUE_MAX 4096      /* control messages waiting to be sent */
/* The transport's own heartbeats find dead TCP links within seconds; the protocol's PING
 * only keeps an idle session known to be alive, and costs bytes on metered 3G links. */
#define SYNC_PING_MS 60000   /* idle time before a PING */
#define SYNC_DEAD_MS 180000  /* silence after which the peer is taken for dead */
#define SYNC_RESEND_MS 15000 /* unacknowledged batches are sent again after this */
#define SYNC_REFUSED_MAX 64  /* refusals remembered for reports */

/* Origins a peer may name in its version vector (VV, HAVE) that lie outside its partition
 * (PROTOCOL.md 6.5) or whose certificate this node does not hold. A well-behaved node
 * names only logs it holds: its own, its subtree's, the districts', the root's and health
 * nodes', and, before their certificates arrive, logs of nodes newly enrolled below it --
 * at most the nodes of a province, a few thousand. One more ends the session: BYE with
 * TV_ELIMIT and SYNC_FOREIGN_TEXT. */
#define SYNC_PEER_FOREIGN_MAX 8192
#define SYNC_FOREIGN_TEXT "version vector names too many origins outside your partition"

/* What one session may hold at most, whatever the peer sends (work per message is bounded
 * alike: a message is at most SYNC_MSG_BYTES_MAX bytes and names at most 2048 origins, each
 * costing a few store reads and hash lookups):
 * - vectors: peer_vv and the one being rebuilt (incoming) each hold at most the origins of
 *   the peer's partition that we know of plus SYNC_PEER_FOREIGN_MAX, and never more than
 *   CRDT_VV_ORIGINS_MAX; announced, sent_vv and the judged cache at most our own store's
 *   origins. 72 bytes an entry.
 * - want list: one entry (and two index slots) per origin of peer_vv.
 * - serve list and in-flight list: one entry per origin of our store that the peer may
 *   hold (a WANT for any other is answered with REFUSE and not kept); batches in flight
 *   are bounded by the window, at most 64 MiB of the peer's asking.
 * - pending batches: SYNC_PENDING_MAX, each at most CRDT_BATCH_BYTES_MAX bytes.
 * - queued messages: SYNC_OUT_QUEUE_MAX, each at most SYNC_MSG_BYTES_MAX; a peer that
 *   never reads fills the queue and the session ends with TV_ELIMIT (the daemon closes it).
 *   Batches are not queued: they are read from the store when there is room to send. */

_Static_assert(SYNC_VV_CHUNK_MAX * 80 + 64 <= SYNC_MSG_BYTES_MAX, "a VV chunk fits a message");
_Static_assert(SYNC_WINDOW_BYTES >= 4 * CRDT_BATCH_BYTES_MAX, "the window holds batches");
_Static_assert(SYNC_PING_MS < SYNC_DEAD_MS, "pings come before a peer is declared dead");

typedef enum sync_state {
    SYNC_HANDSHAKE = 1, /* exchanging HELLO and version vectors */
    SYNC_TRANSFER,      /* asking and serving batches */
    SYNC_IN_STEP,       /* both sides said DONE and nothing changed since */
    SYNC_CLOSED,        /* the peer said BYE or was refused; see error */
    SYNC_DEAD,          /* no message from the peer for SYNC_DEAD_MS */
} sync_state;

typedef struct sync_config {
    store *st;                       /* the node's store: read for serving, written on flush */
    const crdt_identity *self;       /* our key: the node id in HELLO */
    uint8_t epoch[SYNC_EPOCH_BYTES]; /* our store's epoch (new when a store is restored) */
    uint32_t window_bytes;           /* 0 for SYNC_WINDOW_BYTES */
} sync_config;

typedef struct sync_refusal {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t seq;
    int code;         /* TV_E... */
    const char *rule; /* the rule broken (STORE_RULE_*, static), or NULL */
    int ours;         /* 1: we refused the peer's batch; 0: the peer refused ours */
} sync_refusal;

typedef struct sync_stats {
    sync_state state;
    int error;              /* why the session closed (TV_E...), 0 if it did not */
    int peer_error;         /* the code the peer sent in BYE, 0 if none */
    const char *error_text; /* what our BYE said (static), NULL if we sent none */
    uint64_t bytes_in, bytes_out, msgs_in, msgs_out;
    uint64_t batches_in, batches_out, events_in, events_out, duplicates_in;
    uint64_t resends;
    uint64_t refused_in;  /* batches we refused */
    uint64_t refused_out; /* batches the peer refused */
    int64_t last_recv_ms, started_ms, in_step_ms;
    uint64_t me_behind;   /* events the peer holds that we want and lack */
    uint64_t peer_behind; /* events we hold that the peer wants and lacks, as far as known */
    uint64_t max_hlc_in;  /* the largest HLC of an applied batch (for the node's clock) */
    int complete;         /* in step with nothing refused either way: each side holds all
                           * of the other's that it should */
    sync_refusal refusals[SYNC_REFUSED_MAX];
    uint32_t refusals_len;
} sync_stats;

typedef struct sync_peer sync_peer;

/* Starts a session with the peer whose key the transport authenticated. The session sends
 * HELLO at once. Returns 0, TV_ENOMEM, or a store error. */
int sync_peer_new(sync_peer **out, const sync_config *cfg, const uint8_t peer_id[TV_NODE_ID_BYTES],
                  int64_t now);
void sync_peer_free(sync_peer *p);

/* Consumes one message from the peer. Returns 0; or TV_EDECODE, TV_EVERSION, TV_EPERM,
 * TV_EUNTRUSTED, TV_EREVOKED for a message or peer that ends the session (it is CLOSED,
 * and a BYE saying why is queued); or a store error. A full pending group is flushed on
 * the way, so recv may write to the store. */
int sync_peer_recv(sync_peer *p, const uint8_t *msg, size_t len, int64_t now);

/* Writes the next message to send into out (cap >= SYNC_MSG_BYTES_MAX) and its length
 * into *len; *len = 0 when there is nothing to send now. Returns 0 or a store error. */
int sync_peer_send(sync_peer *p, uint8_t *out, size_t cap, size_t *len, int64_t now);

/* Makes the received batches durable in one write transaction and queues their
 * acknowledgements. Returns 0 or a store error (then nothing is acknowledged and the
 * batches will be sent again). */
int sync_peer_flush(sync_peer *p, int64_t now);

/* When the session next needs sync_peer_tick (ms, absolute); INT64_MAX for never. */
int64_t sync_peer_expiry(const sync_peer *p);
/* Runs the timers: pings, resends, death. Returns 0 or a store error. */
int sync_peer_tick(sync_peer *p, int64_t now);

/* Tells the session that the local store changed (own events, or batches from another
 * peer): it announces what is new. Returns 0 or a store error. */
int sync_peer_notify(sync_peer *p, int64_t now);

/* The same, cheaper when a node has many sessions and holds many logs: changed holds the
 * frontiers that advanced since the previous round (from sync_store_changes, computed
 * once and given to every session of the store). Every round must reach every open
 * session; a session started after a round needs only the rounds that follow. */
int sync_peer_announce(sync_peer *p, const crdt_vv *changed, int64_t now);

/* Reads the store's version vector, fills changed (emptied first) with its entries beyond
 * *last, and makes *last the vector read. Start with *last read before any session is
 * created (or empty). Returns 0, TV_ENOMEM or a store error; on error *last is unchanged. */
int sync_store_changes(store *st, crdt_vv *last, crdt_vv *changed);

/* Ends the session politely: queues BYE. */
void sync_peer_close(sync_peer *p, int code);

sync_state sync_peer_state(const sync_peer *p);
const uint8_t *sync_peer_id(const sync_peer *p);
void sync_peer_stats(const sync_peer *p, sync_stats *out);
/* Number of received batches waiting for sync_peer_flush. */
size_t sync_peer_pending(const sync_peer *p);

const char *sync_state_name(sync_state s);

/* What this node learned, in its last session with peer, that peer holds (its version
 * vector then). out is emptied first. Returns 0, TV_ENOTFOUND (never in a session with
 * it), TV_ECORRUPT or a store error. */
int sync_peer_known(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES], crdt_vv *out);

/* Whether `node` should hold origin's log (its partition, PROTOCOL.md 6.5: its own log,
 * its subtree, and the logs of every node above commune -- the root, every district --
 * and of health nodes). 1 yes, 0 no, -1 unknown (origin's certificate not held), or a
 * negative error below -1 (TV_ENOTFOUND: node unknown). */
int sync_partition_holds(store_txn *t, const uint8_t node[TV_NODE_ID_BYTES],
                         const uint8_t origin[TV_NODE_ID_BYTES]);

#endif
