/* A truyvet node on disk: its directory, keys, store and clock, and the recording of its
 * own events with group commit.
 *
 * Directory layout:
 *   node.secret  the node's secrets, encrypted under the operator's passphrase (secret.h,
 *                PROTOCOL.md §5.1): the Ed25519 seed and the pseudonym-key record (kind,
 *                unit, key): a local key made at random by tv_node_create; after
 *                enrolment the province key K_p (a health node), its commune's key K_c (a
 *                commune), or none (a district without the health flag)
 *                (tv_node_set_tracing_key). Person refs are computed when a scan is
 *                recorded, so persons recorded before the key changes keep the pseudonyms
 *                of the old key and do not match their later visits. The node id is
 *                readable from the file's header without the passphrase.
 *   store/       the LMDB environment
 * Earlier versions kept the secrets in clear files (node.key, tracing.key): such a node
 * is refused (TV_EPLAINKEY) until tv_node_encrypt_plain has encrypted them.
 *
 * A node opens locked or unlocked. Locked, it holds no secret (id.sk and tracing_key are
 * zero): reading commands work; recording, signing, opening sealed details and computing
 * pseudonyms do not (TV_ELOCKED). It is unlocked by the passphrase (tv_node_unlock) or by
 * the key `truyvet unlock` left in the kernel keyring (looked up by tv_node_open).
 *
 * Own events are collected with tv_node_add_*() and made durable together by
 * tv_node_commit(): one write transaction, one fsync, however many events (group
 * commit). Nothing is acknowledged before tv_node_commit() returns 0. */
#ifndef TV_NODE_NODE_H
#define TV_NODE_NODE_H

#include "crdt/batch.h"
#include "crdt/hlc.h"
#include "crdt/identity.h"
#include "node/logic/secret.h"
#include "store/store.h"

#include <limits.h>
#include <stdint.h>

#define TV_NODE_NAME_MAX 255
#define TV_NODE_PENDING_BATCHES_MAX 64 /* own events waiting for one commit, in batches */
#define TV_NODE_FORMAT "1"

/* The same numbers as crdt_role (asserted in node.c), so certificates carry them as is. */
typedef enum tv_role { TV_ROLE_COMMUNE = 1, TV_ROLE_DISTRICT = 2, TV_ROLE_PROVINCE = 3 } tv_role;

typedef struct tv_node {
    char dir[PATH_MAX];
    crdt_identity id;
    /* read only through tv_node_ref_key, tv_node_province_key, tv_node_commune_key */
    uint8_t tracing_key[TV_TRACING_KEY_BYTES]; /* zero while locked */
    uint8_t tracing_kind;                      /* tv_key_kind */
    char tracing_unit[TV_TRACING_UNIT_BYTES];  /* TV_KEY_COMMUNE: whose key, NUL-padded */
    int unlocked;                              /* the secrets above (and id.sk) are loaded */
    uint8_t file_key[TV_FILE_KEY_BYTES];       /* opens node.secret, while unlocked */
    tv_secret_header secret;                   /* node.secret's header */
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
    /* tv_node_attach's: the clock own events are stamped and committed by (NULL: the
     * wall clock, tv_wall_ms), and whether the store is the caller's */
    int64_t (*now_ms)(void *arg);
    void *now_arg;
    int attached;
} tv_node;

/* "none", "local", "commune" or "province". */
const char *tv_key_kind_name(tv_key_kind k);

/* Parses "commune", "district" or "province". Returns the role or 0. */
tv_role tv_role_parse(const char *s);
const char *tv_role_name(tv_role r);
/* The level's Vietnamese name, as a clerk says it: "xã", "huyện", "tỉnh". */
const char *tv_role_name_vi(tv_role r);

/* Returns 1 when unit is an official code of the right length for role (digits only: 2 for
 * a province, 3 for a district, 5 for a commune), else 0. */
int tv_unit_valid_for_role(tv_role role, const char *unit);

/* Creates a node in directory dir (created if absent; must hold no node yet): a new key
 * pair and tracing key (kind local), encrypted in node.secret under pass (1 to
 * TV_PASSPHRASE_MAX bytes) with Argon2id limits kdf, and a store recording role, unit and
 * name. The new node is left unlocked: its file key goes to the kernel keyring, as
 * `truyvet unlock` would leave it (where the keyring is unavailable it stays locked).
 * Returns 0, TV_EEXIST, TV_EINVAL (bad unit code for the role, bad name, bad passphrase
 * length), TV_ENOMEM, TV_EIO or a store error. On failure nothing is left behind. */
int tv_node_create(const char *dir, tv_role role, const char *unit, const char *name,
                   const char *pass, size_t pass_len, tv_kdf_level kdf,
                   uint8_t node_id[TV_NODE_ID_BYTES]);

#define TV_NODE_WRITE 1  /* tv_node_open flag: this process will record events */
#define TV_NODE_SECRET 2 /* tv_node_open flag: fail with TV_ELOCKED unless unlocked */

/* How long tv_node_open(TV_NODE_WRITE) waits for a server that holds the writer lock for
 * one chore (its daily purge rewrites the data file; its console commits a scan), and for
 * the note any holder writes just after it takes the lock. */
#define TV_NODE_LOCK_WAIT_MS (10 * 60 * 1000)
#define TV_NODE_LOCK_GRACE_MS 250

/* Opens the node in dir, unlocked when the kernel keyring keeps its file key, else locked.
 * With TV_NODE_WRITE, takes the node's writer lock (one recording process at a time),
 * waiting while a server holds it for a chore (calling the hook set with
 * tv_node_on_lock_wait once, to say so), not while a station, an import or a command does.
 * Returns 0, TV_ENOTFOUND (no node there), TV_EPLAINKEY (its keys are in clear files of
 * an earlier version), TV_ELOCKED (TV_NODE_SECRET and locked), TV_EBUSY (another process
 * is recording), TV_ECORRUPT (keys or metadata do not match), TV_EVERSION, TV_EIO or a
 * store error. */
int tv_node_open(tv_node *n, const char *dir, int flags);
/* Called once by tv_node_open when it starts waiting for a server's chore (NULL: none). */
void tv_node_on_lock_wait(void (*fn)(const char *dir));
/* Wipes the secrets from memory too. */
void tv_node_close(tv_node *n);

/* Makes n a node over a store and identity the caller already holds, with no directory,
 * secret file or writer lock (the simulator runs its nodes so, in one process): role and
 * unit as its metadata would say, unlocked with id's keys and the pseudonym key of the
 * given kind (unit: the commune of a TV_KEY_COMMUNE key), its clock read through
 * now_ms(arg) (NULL: tv_wall_ms) and started from the store's frontier of id. Recording
 * (tv_node_add_*, tv_node_commit, the recorder) works as on an opened node; what needs
 * the directory (tv_node_passwd, tv_node_set_tracing_key, re-sealing) does not. The
 * store's metadata must name id's key as its node_id, as tv_node_create writes it: the
 * apply path knows the node's own batches by it. n keeps
 * pointers to st (borrowed: it must outlive n) and copies id. End it with
 * tv_node_detach, which leaves st open. Returns 0 or a store error. */
int tv_node_attach(tv_node *n, store *st, const crdt_identity *id, tv_role role, const char *unit,
                   tv_key_kind kind, const uint8_t key[TV_TRACING_KEY_BYTES],
                   int64_t (*now_ms)(void *arg), void *arg);
/* Drops what n holds (pending events too, unrecorded) and wipes its secrets; the store
 * stays open. */
void tv_node_detach(tv_node *n);

/* Unlocks an open node with its passphrase (Argon2id with the file's limits: about as
 * slow as they say). Returns 0, TV_EPASSPHRASE (wrong passphrase), TV_ECORRUPT,
 * TV_ENOMEM or TV_EIO. */
int tv_node_unlock(tv_node *n, const char *pass, size_t len);
/* Keeps an unlocked node unlocked for this uid's later commands: its file key (not the
 * passphrase, not the secrets) goes to the kernel keyring as "truyvet:<node id hex>", for
 * timeout_s seconds (0: until tv_node_forget_unlocked or power-off). Returns 0,
 * TV_ELOCKED or TV_EIO (no keyring; errno says why). */
int tv_node_keep_unlocked(const tv_node *n, unsigned timeout_s);
/* Removes the node's keyring entry. Returns 0, TV_ENOTFOUND (there was none) or TV_EIO. */
int tv_node_forget_unlocked(const tv_node *n);
/* Encrypts the secrets under a new passphrase (new salt, limits kdf), atomically. n must
 * be unlocked and opened with TV_NODE_WRITE. A keyring entry of the old key no longer
 * opens the file: keep the node unlocked again (tv_node_keep_unlocked) if it was.
 * Returns 0, TV_EINVAL, TV_ELOCKED, TV_ENOMEM, TV_ENOSPC or TV_EIO. */
int tv_node_passwd(tv_node *n, const char *pass, size_t len, tv_kdf_level kdf);
/* Converts the clear key files of an earlier version in dir (node.key, tracing.key) into
 * node.secret under pass, then overwrites them with zeros and removes them; the node is
 * left unlocked (keyring). The tracing key's kind is province when the node holds its own
 * certificate (enrolment installed the province's key), else local. Returns 0,
 * TV_ENOTFOUND (no clear files), TV_EBUSY, TV_ECORRUPT, TV_ENOMEM, TV_ENOSPC or TV_EIO. */
int tv_node_encrypt_plain(const char *dir, const char *pass, size_t len, tv_kdf_level kdf,
                          uint8_t node_id[TV_NODE_ID_BYTES]);

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
/* The audit of a full view, sealed for the health audience (K_p, PROTOCOL.md §2.7): only
 * a node with the health flag and the province key may (TV_EPERM otherwise; TV_ELOCKED
 * while its secrets are locked), else as tv_node_add_sealed. */
int tv_node_add_reveal(tv_node *n, const crdt_reveal *r, uint64_t *hlc_out);
/* Health events: only a node whose certificate has the health flag and covers the unit may
 * author them (TV_EPERM: no health flag or not enrolled; TV_ESCOPE: the unit is outside
 * its scope). */
int tv_node_add_risk(tv_node *n, const crdt_risk *r, uint64_t *hlc_out);
/* Adds a sealed event (PROTOCOL.md §2.11): the inner event of type (CRDT_EV_CASE_STATUS: a
 * crdt_case, which this node must be allowed to set as above; CRDT_EV_EXPOSURE: a
 * crdt_exposure) stamped inner_hlc (0: the sealed event's own HLC), sealed with a fresh
 * random nonce for the audience of key (the province's pseudonym key for the health nodes,
 * a commune's for that commune). Peers refuse sealed events from a node without the health
 * flag. Returns 0, TV_EINVAL, TV_EPERM, TV_ESCOPE, TV_ELIMIT or TV_ENOMEM. */
int tv_node_add_sealed(tv_node *n, const uint8_t key[TV_TRACING_KEY_BYTES], uint32_t type,
                       const void *inner, uint64_t inner_hlc, uint64_t *hlc_out);
/* A key grant (PROTOCOL.md §2.14): the same authorship rule as the health events. */
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
/* Sets the province's retention period: only the root may (rule R1; TV_EPERM otherwise),
 * else as add_event. */
int tv_node_add_retention(tv_node *n, const crdt_retention *r, uint64_t *hlc_out);
/* Adds a checkpoint's base (the first event of the group: TV_EINVAL otherwise) or a copy
 * (retention.h, tv_node_checkpoint, writes them). */
int tv_node_add_checkpoint(tv_node *n, const crdt_checkpoint *c);
/* Places a person under hold, or lifts it, sealed for the health audience (K_p) under the
 * province ref (h->person, or the province ref the pseudonym map gives it): only a node
 * with the health flag and the province key may (TV_EPERM otherwise; TV_ELOCKED while
 * locked), else as tv_node_add_sealed. The notices to the communes that recorded the
 * person are tv_downflow_run's (PROTOCOL.md §2.13). */
int tv_node_add_hold(tv_node *n, const crdt_hold *h, uint64_t *hlc_out);

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
 * pending group is emptied. Returns 0, TV_ELOCKED (nothing to sign with), TV_ERESTORED
 * (the store was restored or copied and has not synced with a parent since: see
 * resync.h), TV_ENOSPC or another store error. */
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

/* Replaces the pseudonym-key record in node.secret with key of the given kind (unit: the
 * commune of a TV_KEY_COMMUNE key, else ignored; key ignored for TV_KEY_NONE, which
 * stores none), atomically (the file is rewritten under the same passphrase and renamed
 * over the old one), and n's fields with it. Pseudonyms already recorded are not
 * recomputed. n must have been opened with TV_NODE_WRITE and be unlocked. Returns 0,
 * TV_EINVAL (not opened for writing, a bad kind or unit), TV_ELOCKED, TV_ENOSPC or TV_EIO. */
int tv_node_set_tracing_key(tv_node *n, tv_key_kind kind, const char *unit,
                            const uint8_t key[TV_TRACING_KEY_BYTES]);

/* 1 when this node is a health node (its certificate carries the health flag) holding the
 * province key: its store opens the health audience's sealed events; else 0. */
int tv_node_opens_health(const tv_node *n);

/* The province-wide tracing key K_p, into out: 0, TV_ELOCKED, or TV_ENOTFOUND when this
 * node does not hold it (only a health node does). */
int tv_node_province_key(const tv_node *n, uint8_t out[TV_TRACING_KEY_BYTES]);
/* The pseudonym key K_c of commune unit, into out: derived from the province key where
 * this node holds it, else this node's own commune key when unit is its unit. Returns 0,
 * TV_ELOCKED or TV_ENOTFOUND. */
int tv_node_commune_key(const tv_node *n, const char *unit, uint8_t out[TV_TRACING_KEY_BYTES]);
/* The key this node computes the person refs of its own records with (scans, person
 * events, personal cards, --person): before enrolment its local key; a commune its K_c
 * (derived from K_p on a health commune); any other node K_p. Returns 0, TV_ELOCKED, or
 * TV_ENOTFOUND when it holds none of these (a district without the health flag; a commune enrolled
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
