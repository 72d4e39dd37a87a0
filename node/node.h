/* A truyvet node on disk: its directory, keys, store and clock, and the recording of its
 * own events with group commit.
 *
 * Directory layout:
 *   node.key     the Ed25519 secret key (mode 0600)
 *   tracing.key  the node's pseudonym key and its kind (mode 0600, PROTOCOL.md §5): a
 *                local key made at random by tv_node_create; after enrolment the
 *                province key K_p (a health node), its commune's key K_c (a commune), or
 *                none (a district without the health flag) (tv_node_set_tracing_key).
 *                Person refs are computed when a scan is recorded, so persons recorded
 *                before the key changes keep the pseudonyms of the old key and do not
 *                match their later visits.
 *   store/       the LMDB environment
 * Own events are collected with tv_node_add_*() and made durable together by
 * tv_node_commit(): one write transaction, one fsync, however many events (group
 * commit). Nothing is acknowledged before tv_node_commit() returns 0. */
#ifndef TV_NODE_NODE_H
#define TV_NODE_NODE_H

#include "crdt/batch.h"
#include "crdt/hlc.h"
#include "crdt/identity.h"
#include "store/store.h"

#include <limits.h>
#include <stdint.h>

#define TV_NODE_NAME_MAX 255
#define TV_NODE_PENDING_BATCHES_MAX 64 /* own events waiting for one commit, in batches */
#define TV_NODE_FORMAT "1"

/* The same numbers as crdt_role (asserted in node.c), so certificates carry them as is. */
typedef enum tv_role { TV_ROLE_COMMUNE = 1, TV_ROLE_DISTRICT = 2, TV_ROLE_PROVINCE = 3 } tv_role;

/* What the node's pseudonym key is (PROTOCOL.md §1). */
typedef enum tv_key_kind {
    TV_KEY_NONE = 0,     /* no key: a district without the health flag */
    TV_KEY_LOCAL = 1,    /* random, made at creation: pseudonyms of this node alone */
    TV_KEY_COMMUNE = 2,  /* K_c of tracing_unit, derived by the health authority */
    TV_KEY_PROVINCE = 3, /* K_p, the province-wide key: health nodes only */
} tv_key_kind;

typedef struct tv_node {
    char dir[PATH_MAX];
    crdt_identity id;
    /* read only through tv_node_ref_key, tv_node_province_key, tv_node_commune_key */
    uint8_t tracing_key[TV_TRACING_KEY_BYTES];
    tv_key_kind tracing_kind;
    char tracing_unit[TV_UNIT_CODE_MAX + 1]; /* TV_KEY_COMMUNE: whose key; else "" */
    store *st;
    crdt_hlc clock;
    int lock_fd; /* holds the writer lock when opened with TV_NODE_WRITE, else -1 */
    tv_role role;
    char unit[TV_UNIT_CODE_MAX + 1];
    char name[TV_NODE_NAME_MAX + 1];
    /* own events waiting for tv_node_commit */
    crdt_batch_builder pending[TV_NODE_PENDING_BATCHES_MAX];
    uint32_t pending_batches; /* builders in use; the last one is being filled */
    uint64_t pending_events;
} tv_node;

/* "none", "local", "commune" or "province". */
const char *tv_key_kind_name(tv_key_kind k);

/* Parses "commune", "district" or "province". Returns the role or 0. */
tv_role tv_role_parse(const char *s);
const char *tv_role_name(tv_role r);

/* Returns 1 when unit is an official code of the right length for role (digits only: 2 for
 * a province, 3 for a district, 5 for a commune), else 0. */
int tv_unit_valid_for_role(tv_role role, const char *unit);

/* Creates a node in directory dir (created if absent; must hold no node yet): a new key
 * pair and tracing key, and a store recording role, unit and name. Returns 0, TV_EEXIST,
 * TV_EINVAL (bad unit code for the role, bad name), TV_EIO or a store error. On failure
 * nothing is left behind. */
int tv_node_create(const char *dir, tv_role role, const char *unit, const char *name,
                   uint8_t node_id[TV_NODE_ID_BYTES]);

#define TV_NODE_WRITE 1 /* tv_node_open flag: this process will record events */

/* Opens the node in dir. With TV_NODE_WRITE, takes the node's writer lock (one recording
 * process at a time). Returns 0, TV_ENOTFOUND (no node there), TV_EBUSY (another process
 * is recording), TV_ECORRUPT (keys or metadata do not match), TV_EVERSION, TV_EIO or a
 * store error. */
int tv_node_open(tv_node *n, const char *dir, int flags);
void tv_node_close(tv_node *n);

/* Wall-clock time in ms since the Unix epoch (the one place nodes read the clock). */
int64_t tv_wall_ms(void);

/* Adds one own event to the pending group, timestamping it with the node's clock; the
 * event's fields are validated, and an event that names a unit (a venue upsert must) must
 * name this node's. *hlc_out (may be NULL) gets its timestamp. Returns 0, TV_EINVAL,
 * TV_ESCOPE (another unit, or an upsert without one: peers would refuse it, and every
 * event after it) or TV_ELIMIT (the pending group is full: commit first). */
int tv_node_add_scan(tv_node *n, const crdt_scan *s, uint64_t *hlc_out);
int tv_node_add_venue(tv_node *n, const crdt_venue_upsert *v, uint64_t *hlc_out);
/* type: CRDT_EV_CONTROLLER_ADD or CRDT_EV_CONTROLLER_REMOVE. */
int tv_node_add_controller(tv_node *n, uint32_t type, const crdt_controller *c, uint64_t *hlc_out);
int tv_node_add_reminder(tv_node *n, const crdt_reminder *r, uint64_t *hlc_out);
int tv_node_add_person(tv_node *n, const crdt_person *p, uint64_t *hlc_out);
int tv_node_add_reveal(tv_node *n, const crdt_reveal *r, uint64_t *hlc_out);
/* Health events: only a node whose certificate has the health flag and covers the unit may
 * author them (TV_EPERM: no health flag or not enrolled; TV_ESCOPE: the unit is outside
 * its scope). */
int tv_node_add_case(tv_node *n, const crdt_case *c, uint64_t *hlc_out);
int tv_node_add_risk(tv_node *n, const crdt_risk *r, uint64_t *hlc_out);
/* A key grant (PROTOCOL.md §2.12): the same authorship rule as the health events. */
int tv_node_add_grant(tv_node *n, const crdt_key_grant *g, uint64_t *hlc_out);

/* Takes the node's writer lock for a while when it was opened without it (a server that
 * records now and then): 1 taken (release it with tv_node_lock_release), 0 held already,
 * TV_EBUSY (another process records now) or TV_EIO. */
int tv_node_lock_try(tv_node *n);
void tv_node_lock_release(tv_node *n);

/* Names a unit and places it in the unit tree: a unit under this node's scope (a village
 * <commune>.<local>, or a commune placed in a district) or this node's own unit. Returns
 * TV_EPERM when not enrolled, TV_ESCOPE outside its scope, else as add_event. */
int tv_node_add_unit(tv_node *n, const crdt_unit *u, uint64_t *hlc_out);

/* Adds a certificate issued by this node (bytes as crdt_cert_sign made them) to the
 * pending group. Other nodes trust a node's own log as a whole, so a certificate they
 * would refuse would stop them from taking anything this node records after it; it is
 * checked here against the store as it is now: the certificate must verify and be issued
 * by this node, and be either this node's own root certificate (when the node has no
 * root, or is the root) or narrow this node's installed certificate (crdt_cert_narrows).
 * Returns 0, TV_EINVAL (undecodable or bad signature), TV_EPERM (not this node's to
 * issue), TV_ELIMIT (commit first) or a store error. */
int tv_node_add_cert(tv_node *n, const crdt_cert_event *c, uint64_t *hlc_out);

/* Adds a revocation of r->subject to the pending group. Checked as tv_node_add_cert is:
 * only the root, or the node that issued the subject's installed certificate, may revoke
 * it. Returns 0, TV_EINVAL (this node's own key, or an invalid reason), TV_EPERM, TV_ELIMIT
 * or a store error. */
int tv_node_add_revoke(tv_node *n, const crdt_revoke *r, uint64_t *hlc_out);

/* Number of own events waiting for commit. */
static inline uint64_t tv_node_pending(const tv_node *n)
{
    return n->pending_events;
}

/* Seals the pending events into batches of the node's log, applies them through the one
 * apply path, and commits durably. On success *first_seq gets the seq of the first
 * pending event (they follow in order); on failure nothing is recorded. Either way the
 * pending group is emptied. Returns 0, TV_ERESTORED (the store was restored or copied and
 * has not synced with a parent since: see resync.h), TV_ENOSPC or another store error. */
int tv_node_commit(tv_node *n, uint64_t *first_seq);

/* Whether the node may record now, so that a command refuses before it asks for input:
 * 0, TV_ERESTORED (as tv_node_commit would return) or a store error. */
int tv_node_may_record(tv_node *n);

/* tv_node_commit that also runs fn(t, ctx) in the same write transaction, after the
 * pending events are applied, so that both are recorded or neither is. fn may run more
 * than once (see store_write). Returns what tv_node_commit does, or fn's error. */
int tv_node_commit_with(tv_node *n, store_write_fn fn, void *ctx, uint64_t *first_seq);
/* tv_node_commit_with, but fn runs before the pending events are applied, in the same
 * transaction: for what the apply path must find already (the province's root, before
 * its own certificate is judged). */
int tv_node_commit_after(tv_node *n, store_write_fn fn, void *ctx, uint64_t *first_seq);

/* Replaces DIR/tracing.key with key of the given kind (unit: the commune of a
 * TV_KEY_COMMUNE key, else ignored; key ignored for TV_KEY_NONE, which stores none),
 * atomically (a new file of mode 0600 is synced and renamed over the old one, then the
 * directory is synced), and the node's key with it. Pseudonyms already recorded are not
 * recomputed. n must have been opened with TV_NODE_WRITE. Returns 0, TV_EINVAL (not
 * opened for writing, a bad kind or unit), TV_ENOSPC or TV_EIO. */
int tv_node_set_tracing_key(tv_node *n, tv_key_kind kind, const char *unit,
                            const uint8_t key[TV_TRACING_KEY_BYTES]);

/* The province-wide tracing key K_p, into out: 0, or TV_ENOTFOUND when this node does not
 * hold it (only a health node does). */
int tv_node_province_key(const tv_node *n, uint8_t out[TV_TRACING_KEY_BYTES]);
/* The pseudonym key K_c of commune unit, into out: derived from the province key where
 * this node holds it, else this node's own commune key when unit is its unit. Returns 0
 * or TV_ENOTFOUND. */
int tv_node_commune_key(const tv_node *n, const char *unit, uint8_t out[TV_TRACING_KEY_BYTES]);
/* The key this node computes the person refs of its own records with (scans, person
 * events, personal cards, --person): before enrolment its local key; a commune its K_c
 * (derived from K_p on a health commune); any other node K_p. Returns 0, or TV_ENOTFOUND
 * when it holds none of these (a district without the health flag; a commune enrolled
 * without its key, until a key_grant brings it, keeps its local key). */
int tv_node_ref_key(const tv_node *n, uint8_t out[TV_TRACING_KEY_BYTES]);

/* A batch received from elsewhere (a peer, a bundle), and what became of it. */
typedef struct tv_apply_item {
    const uint8_t *buf; /* the batch bytes, verbatim; borrowed */
    size_t len;
    int rc; /* 0 accepted (see r.duplicate), or why it was refused */
    store_apply_result r;
} tv_apply_item;

/* Applies received batches through the one apply path, all in one durable write
 * transaction (group commit); each item's rc says whether it was accepted. A batch of an
 * origin this node should not hold (not in its partition, sync_partition_holds() == 0)
 * is refused with TV_EPERM, as sync refuses it. A refused batch leaves no trace and does
 * not stop the others. Returns 0 once the transaction is on disk (only then may the
 * accepted batches be acknowledged), or a store error, in which case nothing was
 * recorded. Then, with nothing pending, does the key work what arrived calls for
 * (tv_keys_after_receive: the pseudonym map, key grants). */
int tv_node_apply(tv_node *n, tv_apply_item *items, size_t count);

/* Drops the pending events without recording them. */
void tv_node_discard(tv_node *n);

#endif
