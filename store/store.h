/* The node's LMDB store: tables, transactions, the one apply path, views and aggregates.
 *
 * One LMDB environment per node. Writes go through store_write(), which runs a caller's
 * function inside one write transaction and returns only after the commit is durable
 * (LMDB's default synchronous commit: MDB_NOSYNC, MDB_NOMETASYNC and MDB_WRITEMAP are never
 * used by a node; only the simulator, whose crashes are simulated, skips the fsync). When the map
 * fills, the transaction is aborted, the map is enlarged and the function runs again; a full disk
 * is reported as TV_ENOSPC with nothing written.
 *
 * Everything read from the store through a transaction is valid until that transaction
 * ends (LMDB's rule) unless the function says it copies. Only this layer includes lmdb.h. */
#ifndef TV_STORE_STORE_H
#define TV_STORE_STORE_H

#include "crdt/batch.h"
#include "crdt/cert.h"
#include "crdt/hll.h"
#include "crdt/ids.h"
#include "crdt/sealed.h"
#include "crdt/vv.h"

#include <stddef.h>
#include <stdint.h>

#define STORE_MAP_BYTES_DEFAULT ((size_t)64 << 20)
#define STORE_MAP_BYTES_MAX ((size_t)1 << 40)
#define STORE_READERS_MAX 126
#define STORE_WRITE_RETRIES_MAX 24 /* map doublings per write before giving up */

typedef struct store store;
typedef struct store_txn store_txn;

typedef struct store_opts {
    size_t map_bytes; /* initial map size; 0 for STORE_MAP_BYTES_DEFAULT */
    int read_only;    /* open without write access (e.g. `verify` on a copy) */
    int unsynced;     /* the simulator only: commits are not fsync'd (MDB_NOSYNC) and pages
                       * are written in place in the map (MDB_WRITEMAP: no write(2) of each
                       * dirty page; the copy-on-write tree is the same, so an aborted
                       * transaction still leaves no trace). A real node never sets this:
                       * its acknowledgements depend on the fsync */
    /* the memo through which the store verifies batch and certificate signatures
     * (crdt/sigmemo.h), or NULL: each verified every time. Borrowed: it must outlive the
     * store. One memo may serve several stores of one thread (the simulator's nodes) */
    crdt_sig_memo *sig_memo;
    /* a crash point, for the simulator and tests only (NULL everywhere else): store_write
     * calls fault(fault_arg, where) just before its commit (STORE_FAULT_BEFORE_COMMIT) and
     * just after the commit returned 0 (STORE_FAULT_AFTER_COMMIT). A non-zero return ends
     * the write as a crash of the process at that point would: before, the transaction is
     * aborted and nothing of it is written (a crash anywhere inside fn, mid-apply, leaves
     * the same); after, it stays committed. Either way store_write returns TV_EIO: a
     * process that died there never learnt the outcome, so it acknowledged nothing. */
    int (*fault)(void *arg, int where);
    void *fault_arg;
} store_opts;
#define STORE_FAULT_BEFORE_COMMIT 1
#define STORE_FAULT_AFTER_COMMIT 2

/* Every process that has written to a store holds dir/STORE_WRITERS_FILE with a shared
 * flock from its first store_write until it closes the store; store_compact takes it
 * exclusively, so that no other process goes on writing to the data file it replaces. */
#define STORE_WRITERS_FILE "writers.lock"

/* Opens (creating if needed) the environment in directory `dir`, which must exist, and
 * clears reader slots left by dead processes. Returns 0, TV_EIO, TV_ENOSPC, TV_EBUSY or
 * TV_ESTORE. */
int store_open(store **out, const char *dir, const store_opts *opts);
void store_close(store *s);

/* Begins a read-only snapshot; end it with store_read_end. Returns 0 or TV_ESTORE. */
int store_read_begin(store *s, store_txn **out);
void store_read_end(store_txn *t);

/* Runs fn(t, ctx) in a write transaction and commits. If fn or the commit fails, nothing
 * is written. fn may be run more than once (after the map grows), so it must not change
 * anything outside the transaction. The first write of s takes STORE_WRITERS_FILE shared
 * (waiting while another process compacts the store) and, if the data file was replaced
 * since s opened it, reopens s on the new one (TV_EBUSY instead while a read transaction of
 * s is open). Returns fn's error, or TV_ENOSPC, TV_ESTORE, TV_EBUSY, TV_EIO, or 0 once the
 * commit is on disk. */
typedef int (*store_write_fn)(store_txn *t, void *ctx);
int store_write(store *s, store_write_fn fn, void *ctx);

/* Rewrites the store's data file without what was deleted from it: every row is copied
 * in key order into a new file (dir/STORE_COMPACT_FILE, on fresh, zeroed pages) and
 * committed, fn(t, ctx) (may be NULL) runs in a second write transaction of the new file
 * -- the file exists at that path by then, with the inode and birth time it keeps -- and
 * the new file is fsync'd and renamed over dir/data.mdb, dir is fsync'd and dir/lock.mdb
 * removed. LMDB keeps the bytes of freed pages
 * and of rows deleted from live pages until they are reused: only a rewrite takes them out
 * of the file. s is reopened on the new file (with no transaction open; dir is the
 * directory s was opened on). Only while no other process that has written to the store has
 * it open (STORE_WRITERS_FILE): else TV_EBUSY, and nothing is done. Other processes that read the
 * store keep reading the old file until they reopen it (store_refresh). Returns 0, TV_EPERM
 * (read-only), TV_EBUSY, fn's error, TV_ENOSPC, TV_EIO or a store error; on failure the old
 * file stays in place. */
#define STORE_COMPACT_FILE "compact.mdb"
int store_compact(store *s, const char *dir, store_write_fn fn, void *ctx);

/* Reopens s on dir/data.mdb when that is no longer the file s has open (another process
 * compacted the store: store_compact), so that a long-running reader sees what is written
 * after. No transaction of s may be open. Returns 1 reopened, 0 the same file, TV_EIO or a
 * store error (then s is unusable: close it). */
int store_refresh(store *s, const char *dir);

/* Current and used sizes of the map, in bytes. */
typedef struct store_size {
    uint64_t map_bytes, used_bytes, file_bytes;
} store_size;
int store_size_get(store *s, store_size *out);

/* --- metadata: small named values --------------------------------------------------- */

/* Copies the value of `key` into buf (cap bytes); *len gets its length. Returns 0,
 * TV_ENOTFOUND, TV_ELIMIT (larger than cap) or TV_ESTORE. */
int store_meta_get(store_txn *t, const char *key, void *buf, size_t cap, size_t *len);
int store_meta_put(store_txn *t, const char *key, const void *val, size_t len);
/* Removes `key` (nothing to do when absent). Returns 0 or TV_ESTORE. */
int store_meta_del(store_txn *t, const char *key);

/* --- logs --------------------------------------------------------------------------- */

/* What a node holds of one origin's log. */
typedef struct store_frontier {
    uint64_t seq;                /* last seq held, 0 when none */
    uint8_t hash[TV_HASH_BYTES]; /* hash of the batch ending at seq */
    uint64_t hlc_max;            /* HLC of the last event */
    int64_t received_ms;         /* local wall time the last batch was applied */
} store_frontier;

/* Returns 0, or TV_ENOTFOUND with *f zeroed when nothing of origin is held. */
int store_frontier_get(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], store_frontier *f);

typedef int (*store_frontier_fn)(const uint8_t origin[TV_NODE_ID_BYTES], const store_frontier *f,
                                 void *ctx);
/* Calls fn for every origin held, in origin order; stops at fn's first non-zero result
 * and returns it. */
int store_frontier_foreach(store_txn *t, store_frontier_fn fn, void *ctx);

typedef struct store_apply_result {
    uint32_t applied; /* events newly applied (0 for a duplicate) */
    int duplicate;    /* 1 when the exact batch was already held */
    crdt_batch_header header;
    uint8_t hash[TV_HASH_BYTES];
    const char *rule;  /* a refusal or parking: the rule (STORE_RULE_*), or NULL */
    uint32_t released; /* parked batches this apply let through (§3.3) */
} store_apply_result;

/* The one apply path, for the node's own batches and for every peer's: verifies the
 * signature and body hash, checks every event (the certificates and revocations of the
 * node's own batches as anyone's), checks that the batch continues its
 * origin's chain, then stores the batch verbatim and updates the frontier, indexes, views,
 * aggregates and counters -- all inside t. A batch already held is a no-op (idempotent on
 * origin and seq). Returns 0 or TV_EDECODE, TV_ELIMIT, TV_EVERSION, TV_ESIG, TV_EHASH,
 * TV_ECHAIN, TV_EGAP, TV_EFORK, TV_EUNTRUSTED, TV_ESCOPE, TV_EREVOKED, TV_EFROZEN,
 * TV_EPARKED (kept to apply later: commit t) or TV_ESTORE; r->rule names the rule of a
 * refusal or a parking (STORE_RULE_*).
 * On error t holds no trace of the batch, except for TV_EFORK: the contradicting batch is
 * kept as evidence (its scans and person records are tracing data, see "Fork evidence"
 * below) and its origin frozen, so the caller should commit t, not abort it. */
int store_apply_batch(store_txn *t, const uint8_t *buf, size_t len, int64_t now_ms,
                      store_apply_result *r) __attribute__((warn_unused_result));

/* Parked batches (PROTOCOL.md §3.3): lawful batches that wait for a venue's registration
 * or for their time. store_apply_batch parks them (returning TV_EPARKED: commit t, as for
 * TV_EFORK) and lets them through when what they wait for arrives; store_parked_release
 * lets through those whose time has come (a daemon calls it now and then). */
typedef struct store_parked {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t first_seq, hlc_max;
    uint32_t count;
    int waits_for_time; /* 1: for due_ms (C1); 0: for a venue's registration (V3) */
    int64_t due_ms;
} store_parked;
typedef int (*store_parked_fn)(const store_parked *p, void *ctx);
int store_parked_foreach(store_txn *t, store_parked_fn fn, void *ctx);
int store_parked_release(store_txn *t, int64_t now_ms, uint32_t *released);

/* Calls fn for every stored batch, origin by origin and in seq order within an origin,
 * with the batch's verbatim bytes (valid during the call). Stops at fn's first non-zero
 * result and returns it. */
typedef int (*store_batch_fn)(const uint8_t *buf, size_t len, void *ctx);
int store_batches_foreach(store_txn *t, store_batch_fn fn, void *ctx);

/* --- trust ------------------------------------------------------------------------- */
/* Batches of the node's own origin are trusted as they are. A batch of any other origin is
 * applied only when it keeps the rules of PROTOCOL.md §3.2, which the code cites by these
 * names: every certificate from the origin up to the root held, unrevoked and unexpired;
 * each event within the origin's scope; certificates and revocations keeping the tree's
 * shape; events about a venue judged against its registered unit. A lawful batch that
 * cannot apply yet is parked (§3.3). A refusal's rule is one of these sentences. */
#define STORE_RULE_T1 "T1: no certificate names the root but the root's own"
#define STORE_RULE_T2 "T2: a certificate narrows its issuer's, and the issuer's chain holds"
#define STORE_RULE_T3 "T3: no certificate for its issuer or a node above it"
#define STORE_RULE_T4                                                                              \
    "T4: a certified node is re-certified only along its issuer chain, or with its consent"
#define STORE_RULE_T5                                                                              \
    "T5: a revocation comes from a node above the revoked one; the root is never revoked"
#define STORE_RULE_T6 "T6: only the root certifies a revoked key (which reinstates it)"
#define STORE_RULE_T7                                                                              \
    "T7: every certificate from the origin up to the root is held, unrevoked, unexpired"
#define STORE_RULE_S1 "S1: every event lies within its origin's scope"
#define STORE_RULE_S2                                                                              \
    "S2: statuses, reveals and holds travel sealed, only a health node seals (exposures inside)"
#define STORE_RULE_V1 "V1: a venue is registered only by the node its id is derived from"
#define STORE_RULE_V2 "V2: an event about a venue names the venue's registered unit, in scope"
#define STORE_RULE_V3 "V3: an event about a venue waits for the venue's registration"
#define STORE_RULE_R1 "R1: only the root sets the retention period"
#define STORE_RULE_R2 "R2: a checkpoint carries every event of the dropped log that is in force"
#define STORE_RULE_C1 "C1: a batch written over an hour ahead of our clock waits for its time"

/* A time that every certificate is valid at (store_chain_check without expiry). */
#define STORE_TIME_ANY INT64_MIN

/* Checks the chain of subject (T7): its certificate and each issuer's up to the root are
 * installed, unrevoked, and not expired at at_ms (STORE_TIME_ANY: not checked). Sets *rule
 * (may be NULL) on failure. Returns 0, TV_EUNTRUSTED (a certificate is not held, the chain
 * does not end at our root or is longer than CRDT_CERT_CHAIN_MAX, or one has expired),
 * TV_EREVOKED (a node in the chain is revoked) or a store error. */
int store_chain_check(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES], int64_t at_ms,
                      const char **rule);

/* The root of trust (the province's key). Returns 0 or TV_ENOTFOUND. */
int store_root_get(store_txn *t, uint8_t root[TV_NODE_ID_BYTES]);
int store_root_set(store_txn *t, const uint8_t root[TV_NODE_ID_BYTES]);

/* Installs a certificate received out of band (enrolment, a peer's handshake): it must be
 * the root's self-signed certificate, or be issued by a node whose certificate is
 * installed and narrow it. An older certificate of the same subject (by not_before) does
 * not replace a newer one. Returns 0, TV_EUNTRUSTED (issuer unknown), TV_EPERM (does not
 * narrow), TV_EREVOKED, or a decoding error. */
int store_cert_install(store_txn *t, const uint8_t *cert, size_t len);
/* Judges certificate c (signature verified; consented: it carries its subject's verified
 * consent) by the rules of the tree T1-T4 as the store holds it, as every receiver of a
 * cert event does: 0 (lawful: it replaces the subject's
 * installed certificate if newer or from higher up), 1 (lawful, but its issuer is below the
 * subject's installed issuer: it never replaces it), TV_EUNTRUSTED or TV_EREVOKED (the
 * issuer's chain does not hold), TV_EPERM (*rule names the rule broken), a store error. */
int store_cert_judge(store_txn *t, const crdt_cert *c, int consented, const char **rule);
/* The same, setting *rule (may be NULL) to the rule a refused certificate breaks. A
 * certificate from an issuer below the subject's installed issuer is lawful but never
 * replaces it (returns 0). A revoked key takes a certificate from the root only. */
int store_cert_install_rule(store_txn *t, const uint8_t *cert, size_t len, const char **rule);

/* The installed certificate of subject: decoded into *c (may be NULL) and its bytes (may
 * be NULL; valid until the transaction ends). Returns 0 or TV_ENOTFOUND. */
int store_cert_get(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES], crdt_cert *c,
                   const uint8_t **raw, size_t *raw_len);

typedef int (*store_cert_fn)(const uint8_t *raw, size_t len, void *ctx);
/* Calls fn for every installed certificate, in subject order. */
int store_cert_foreach(store_txn *t, store_cert_fn fn, void *ctx);

/* Returns 1 when subject is revoked, 0 when not, or a negative error. */
int store_revoked(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES]);

/* Fork evidence: validly signed batches that contradict an origin's log as held here (a
 * copy of its key wrote another event at the same seq). Each is kept, and its scans and
 * person records are tracing data like the accepted log's (scan indexes, person view); the
 * rest of it, and the daily figures, are not applied. The origin is frozen: its later
 * batches are refused (TV_EFROZEN), except those that continue a branch held as evidence,
 * which are kept as evidence too, up to STORE_FORK_EVIDENCE_MAX per origin. A new
 * certificate for the origin lifts the freeze; the evidence stays. */
#define STORE_FORK_EVIDENCE_MAX 256
typedef int (*store_fork_fn)(const uint8_t origin[TV_NODE_ID_BYTES], uint64_t first_seq,
                             const uint8_t *buf, size_t len, void *ctx);
/* Calls fn for every evidence batch, by origin then first seq. */
int store_forks_foreach(store_txn *t, store_fork_fn fn, void *ctx);
typedef int (*store_fork_origin_fn)(const uint8_t origin[TV_NODE_ID_BYTES], uint32_t evidence,
                                    int frozen, void *ctx);
/* Calls fn for every origin that forked: its evidence batches held, whether it is frozen. */
int store_fork_origins_foreach(store_txn *t, store_fork_origin_fn fn, void *ctx);
/* Returns 1 when origin is frozen (it forked and was not certified again since), 0 when
 * not, or a store error. */
int store_frozen(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES]);

/* --- replication ------------------------------------------------------------------ */

/* Fills v (initialised by the caller, emptied first) with what the store holds of every
 * origin. Returns 0, TV_ENOMEM, TV_ELIMIT or a store error. */
int store_vv_get(store_txn *t, crdt_vv *v);

/* The stored batch of origin that contains seq: its verbatim bytes (valid until the
 * transaction ends). A seq in a prefix dropped by a checkpoint gives the checkpoint's
 * batch, where the log starts again. Returns 0 or TV_ENOTFOUND. */
int store_batch_at(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], uint64_t seq,
                   const uint8_t **buf, size_t *len);

/* Where origin's log starts again after a checkpoint (PROTOCOL.md §3.4): the last seq of
 * the dropped prefix and the hash of the batch that ended it (hash may be NULL). Returns
 * 0, or TV_ENOTFOUND (*upto = 0) when the log was never truncated here. */
int store_base_get(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], uint64_t *upto,
                   uint8_t hash[TV_HASH_BYTES]);
/* Each origin whose checkpoint (up to upto) waits here for copies of events held of the
 * prefix it drops (rule R2, PROTOCOL.md §3.4): held batches of the prefix, the first at
 * held_seq, are kept until the checkpoint's next batches carry them or end without them. */
typedef int (*store_ckpt_wait_fn)(const uint8_t origin[TV_NODE_ID_BYTES], uint64_t upto,
                                  uint64_t held_seq, void *ctx);
int store_checkpoints_waiting(store_txn *t, store_ckpt_wait_fn fn, void *ctx);

/* What a checkpoint of node self's own log would carry (PROTOCOL.md §3.4), read in t: the
 * whole log up to its frontier (upto, hash) is dropped but for copies of the events still
 * in force at cutoff_ms, in log order, each the event's bytes (copied: owned by the plan)
 * and seq; dropped counts the events left behind. The caller writes the base and the
 * copies as its next events. */
typedef struct store_copy {
    uint8_t *raw;
    size_t len;
    uint64_t seq;
} store_copy;
typedef struct store_checkpoint_plan {
    uint64_t upto;
    uint8_t hash[TV_HASH_BYTES];
    store_copy *copies;
    size_t n;
    uint64_t dropped;
} store_checkpoint_plan;
/* Returns 0 (an empty log: nothing dropped), TV_ENOMEM or a store error; on failure the
 * plan holds nothing. Release it with store_checkpoint_plan_release. */
int store_checkpoint_plan_make(store_txn *t, const uint8_t self[TV_NODE_ID_BYTES],
                               int64_t cutoff_ms, store_checkpoint_plan *p);
void store_checkpoint_plan_release(store_checkpoint_plan *p);

/* What the sync protocol remembers of a peer between sessions: an opaque record. */
int store_peer_get(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES], const uint8_t **buf,
                   size_t *len);
int store_peer_put(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES], const uint8_t *buf,
                   size_t len);
int store_peer_del(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES]);

/* --- counters ----------------------------------------------------------------------- */

#define STORE_EVENT_TYPES_MAX 32 /* types counted one by one; others count as "other" */
typedef struct store_counts {
    uint64_t events, batches, origins;
    uint64_t parks_released;                 /* parked batches applied later (§3.3) */
    uint64_t evidence;                       /* evidence batches of forks numbered, ever */
    uint64_t cert_writes;                    /* certificates written (applied or installed), ever */
    uint64_t by_type[STORE_EVENT_TYPES_MAX]; /* index = event type; [0] = other types */
} store_counts;
int store_counts_get(store_txn *t, store_counts *c);

/* --- views ---------------------------------------------------------------------------- */

/* A venue as its events make it: each field is the last written (by HLC, then origin). */
typedef struct store_venue {
    uint8_t id[TV_VENUE_ID_BYTES];
    uint32_t fields; /* CRDT_VENUE_F_* bits of the fields ever set */
    char unit[TV_UNIT_CODE_MAX + 1];
    char name[CRDT_TEXT_BYTES_MAX + 1];
    char village[CRDT_TEXT_BYTES_MAX + 1];
    char owner_phone[CRDT_PHONE_BYTES_MAX + 1];
    uint32_t category;
    uint32_t closes; /* closing time, minutes after midnight + 1, or CRDT_CLOSES_NONE */
    uint64_t created_hlc, updated_hlc; /* smallest and largest HLC of its upserts */
} store_venue;

/* Copies the venue into *v. Returns 0, TV_ENOTFOUND or TV_ECORRUPT. */
int store_venue_get(store_txn *t, const uint8_t id[TV_VENUE_ID_BYTES], store_venue *v);
/* Calls fn for every venue in id order; stops at fn's first non-zero result. */
typedef int (*store_venue_fn)(const store_venue *v, void *ctx);
int store_venue_foreach(store_txn *t, store_venue_fn fn, void *ctx);
/* The stored bytes of a venue's view, for comparing views across nodes. */
int store_venue_raw(store_txn *t, const uint8_t id[TV_VENUE_ID_BYTES], const uint8_t **buf,
                    size_t *len);

/* --- indexes and aggregates -------------------------------------------------------- */

/* One scan as the indexes hold it. */
typedef struct store_scan_ref {
    uint8_t venue[TV_VENUE_ID_BYTES];
    uint8_t person[TV_PERSON_REF_BYTES];
    int64_t at_ms;
    uint8_t direction;
    uint32_t origin_no; /* local number of the origin (store-internal) */
    uint64_t seq;
} store_scan_ref;

typedef int (*store_scan_fn)(const store_scan_ref *s, void *ctx);
/* Scans at one venue with from_ms <= at_ms < to_ms, in time order. */
int store_scans_by_venue(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], int64_t from_ms,
                         int64_t to_ms, store_scan_fn fn, void *ctx);
/* The stored batch that holds scan s (its event is number s->seq - first_seq in it):
 * verbatim bytes, valid until the transaction ends. Returns 0 or TV_ENOTFOUND. */
int store_scan_batch(store_txn *t, const store_scan_ref *s, const uint8_t **buf, size_t *len);
/* Scans of one person with from_ms <= at_ms < to_ms, in time order. At a health node, a
 * ref mapped to a province ref finds the scans of that province ref (its own and every
 * other commune's of the same person): s->person is the province ref. */
int store_scans_by_person(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES], int64_t from_ms,
                          int64_t to_ms, store_scan_fn fn, void *ctx);

/* Daily figures of one unit (Vietnam calendar day, see crdt_day_vn). */
typedef struct store_agg {
    uint64_t scans_in, scans_out;
    uint64_t venues_active; /* distinct venues with at least one scan that day */
    uint64_t reminders;     /* reminders sent to the unit's venues (by the reminder's HLC) */
    /* people first recorded F0 (F1) that day, by the unit of that record: of a person's
     * case_status events with a status, the one with the smallest (hlc, origin) counts */
    uint64_t f0, f1;
    uint8_t visitors[CRDT_HLL_REGS]; /* the people scanned in: crdt_hll_estimate */
} store_agg;
/* Returns 0 (zeroes when nothing was recorded) or TV_ESTORE. */
int store_agg_get(store_txn *t, const char *unit, int32_t day, store_agg *a);
/* The daily figures of unit summed over from_day..to_day (both included; venues_active is
 * the sum of each day's, the visitors' sketches merged). One range read. Returns 0 or a store
 * error. */
int store_agg_sum(store_txn *t, const char *unit, int32_t from_day, int32_t to_day, store_agg *a);
/* Calls fn for each day from from_day to to_day (both included) with figures of unit, in
 * day order (days with nothing recorded are skipped). One range read. Returns 0, fn's
 * first non-zero result, or a store error. */
typedef int (*store_agg_day_fn)(int32_t day, const store_agg *a, void *ctx);
int store_agg_days(store_txn *t, const char *unit, int32_t from_day, int32_t to_day,
                   store_agg_day_fn fn, void *ctx);
/* Whether a scan was recorded at venue on a day from from_day to to_day (both included).
 * Returns 1, 0 or a store error (< 0). */
int store_venue_active(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], int32_t from_day,
                       int32_t to_day);
/* The last day with a scan recorded at one of unit's venues. Returns 0, TV_ENOTFOUND or a
 * store error. */
int store_agg_last_day(store_txn *t, const char *unit, int32_t *day);

/* --- people and venue compliance (people.c) ---------------------------------------- */

/* The person event that stands for a person: of all person events for the ref, the one
 * with the largest (hlc, origin); for a province ref with no record of its own (a health
 * node's pseudonym map), the one with the largest (hlc, origin) of the refs mapped to it. raw (its
 * encoded bytes, for crdt_event_decode) lives as long as the transaction. Returns 0, TV_ENOTFOUND
 * or a store error. */
typedef struct store_person {
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t seq;
    const uint8_t *raw;
    size_t raw_len;
} store_person;
int store_person_get(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], store_person *p);
/* Every person's standing record, as store_person_get gives it, in ref order. Stops at
 * fn's first non-zero result and returns it. */
typedef int (*store_person_fn)(const uint8_t ref[TV_PERSON_REF_BYTES], const store_person *p,
                               void *ctx);
int store_persons_foreach(store_txn *t, store_person_fn fn, void *ctx);

/* A venue's controllers: each phone with at least one add not seen by a remove, in phone
 * order, once each (hlc: of one of its live adds). */
typedef int (*store_controller_fn)(const char *phone, uint64_t hlc, void *ctx);
int store_controllers_foreach(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES],
                              store_controller_fn fn, void *ctx);
/* The live add tags (CRDT_TAG_BYTES each) of one phone at a venue: what a remove must
 * name. Returns 0, TV_ELIMIT when more than cap, or a store error. */
int store_controller_tags(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES], const char *phone,
                          uint8_t *tags, uint32_t cap, uint32_t *n);

/* Reminders (and reinstatements) of a venue in (hlc, origin) order. */
typedef int (*store_reminder_fn)(uint64_t hlc, const uint8_t origin[TV_NODE_ID_BYTES],
                                 uint8_t action, const char *note, size_t note_len, void *ctx);
int store_reminders_foreach(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES],
                            store_reminder_fn fn, void *ctx);

/* A venue is suspended by this many reminders with no scan recorded and no reinstatement
 * after them. */
#define STORE_SUSPEND_REMINDERS 3
typedef struct store_venue_status {
    uint64_t reminders;        /* all reminders ever */
    uint64_t reminders_active; /* reminders after the last scan and the last reinstatement */
    int suspended;
    int64_t last_scan_ms; /* the latest scan's device time; INT64_MIN when none */
    int64_t last_reminder_ms, reinstated_ms; /* INT64_MIN when none */
} store_venue_status;
int store_venue_status_get(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES],
                           store_venue_status *st);

/* --- health: case statuses and risk levels (health.c) ---------------------------------- */

/* One case_status event. A person's status is their event with the largest (hlc, origin):
 * the last one store_cases_foreach gives for that person. */
typedef struct store_case {
    uint8_t person[TV_PERSON_REF_BYTES];
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
    uint8_t status;                      /* CRDT_CASE_* */
    int64_t onset_ms, sampled_ms, at_ms; /* CRDT_TIME_NONE when not given */
    char unit[TV_UNIT_CODE_MAX + 1];
} store_case;
typedef int (*store_case_fn)(const store_case *c, void *ctx);
/* Every case_status event held, by person, then in (hlc, origin) order; person NULL: of
 * every person. Stops at fn's first non-zero result and returns it. */
int store_cases_foreach(store_txn *t, const uint8_t *person, store_case_fn fn, void *ctx);

/* A risk level in force for a unit from from_ms on: for each (unit, from) the event with the
 * largest (hlc, origin). */
typedef struct store_risk {
    char unit[TV_UNIT_CODE_MAX + 1];
    int64_t from_ms;
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
    uint8_t level;
    char note[CRDT_TEXT_BYTES_MAX + 1];
} store_risk;
typedef int (*store_risk_fn)(const store_risk *r, void *ctx);
/* The risk levels held, by unit then from; unit NULL: of every unit. */
int store_risks_foreach(store_txn *t, const char *unit, store_risk_fn fn, void *ctx);
/* The level in force for unit at at_ms: its entry with the latest from not after at_ms, or
 * for a local unit (<commune>.<local>) without one, its commune's. Returns 0 (*out set),
 * TV_ENOTFOUND or a store error. */
int store_risk_at(store_txn *t, const char *unit, int64_t at_ms, store_risk *out);

/* --- sealed health events (sealed.c) ------------------------------------------------------ */

/* Gives the store the health audience's key (the province's pseudonym key: a health node
 * only), kept in locked memory and wiped when replaced, removed (key NULL) or the store is
 * closed. With it, the apply path opens each sealed event of that audience and applies the
 * case status inside to the cases view; without it, sealed events are only indexed by tag.
 * Set it before applying anything. */
void store_sealed_key_set(store *s, const uint8_t key[32]);
/* Whether the store holds the health audience's key. */
int store_sealed_key_held(const store *s);

/* One sealed event held: its event id, its HLC and its fields, which borrow from the
 * stored batch (valid until the transaction ends). */
typedef struct store_sealed {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t seq, hlc;
    crdt_sealed_event ev;
} store_sealed;
typedef int (*store_sealed_fn)(const store_sealed *s, void *ctx);
/* Every sealed event with audience tag `tag`, in (HLC, origin) order. Stops at fn's first
 * non-zero result and returns it; TV_ECORRUPT when the index names an event not held. */
int store_sealed_foreach(store_txn *t, const uint8_t tag[CRDT_SEALED_TAG_BYTES], store_sealed_fn fn,
                         void *ctx);

/* What a health node has sealed already, each named by a digest of the audience and what
 * was said (node/logic/downflow.c): 1 when digest is recorded, 0 when not, or a store error. */
#define STORE_SENT_DIGEST_BYTES 16
int store_sealed_sent(store_txn *t, const uint8_t digest[STORE_SENT_DIGEST_BYTES]);
int store_sealed_sent_put(store_txn *t, const uint8_t digest[STORE_SENT_DIGEST_BYTES]);

/* --- local units (units.c) ------------------------------------------------------------ */

/* A unit as the unit events set it: the event with the largest (hlc, origin) per code. */
typedef struct store_unit {
    char code[TV_UNIT_CODE_MAX + 1];
    char parent[TV_UNIT_CODE_MAX + 1];
    char name[CRDT_TEXT_BYTES_MAX + 1];
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
} store_unit;
/* Returns 0 (*u set), TV_ENOTFOUND or a store error. */
int store_unit_get(store_txn *t, const char *code, store_unit *u);
/* Every unit held, in code order. */
typedef int (*store_unit_fn)(const store_unit *u, void *ctx);
int store_units_foreach(store_txn *t, store_unit_fn fn, void *ctx);

/* --- the pseudonym map of a health node (pmap.c) ----------------------------------------
 * A commune computes person refs under its own key K_c, so one person has one ref per
 * commune. A health node, which can open the details sealed in a commune's person event
 * and holds the province key K_p, maps the commune's ref to the province-wide ref
 * (PROTOCOL.md §2.6): the store indexes that person's scans (scans_by_person,
 * scans_by_venue values) under the province ref, and store_person_get finds the
 * commune's person record by the province ref. The map is local and derived: never
 * replicated, and nothing the store holds can compute it (no key is stored); node/logic/pmap.c
 * fills it. The daily figures keep the ref each scan carries, so nodes holding the same
 * events hold the same figures. */

/* Maps commune ref ref, of a person event of commune unit whose HLC is hlc, to province
 * ref pref, and re-keys the scans already indexed under ref to pref, in t. pref NULL
 * records that the person record of that hlc was examined and cannot be mapped (sealed
 * to others, or to no identifier that gives ref), so that it is not examined again until
 * a newer record of ref arrives. A ref mapped already keeps its mapping (TV_EEXIST).
 * Returns 0, TV_EEXIST, TV_EINVAL (ref == pref, bad unit) or a store error. */
int store_pmap_put(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES], const uint8_t *pref,
                   const char *unit, uint64_t hlc);
/* What the map says of ref: 1 mapped (pref, unit (TV_UNIT_CODE_MAX + 1 bytes) and hlc
 * set; either may be NULL), 0 examined and unmappable (*hlc: the record examined), or
 * TV_ENOTFOUND (never examined), or a store error. */
int store_pmap_get(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES],
                   uint8_t pref[TV_PERSON_REF_BYTES], char *unit, uint64_t *hlc);
/* The refs mapped to province ref pref, with the unit of the commune that recorded each,
 * in ref order. Stops at fn's first non-zero result and returns it. */
typedef int (*store_pmap_fn)(const uint8_t ref[TV_PERSON_REF_BYTES], const char *unit, void *ctx);
int store_pmap_refs_of(store_txn *t, const uint8_t pref[TV_PERSON_REF_BYTES], store_pmap_fn fn,
                       void *ctx);

/* Key grants (PROTOCOL.md §2.14): the key_grant events held, one per (subject, origin),
 * the latest by HLC. */
typedef struct store_grant {
    uint8_t subject[TV_NODE_ID_BYTES], origin[TV_NODE_ID_BYTES];
    uint64_t hlc;
    char unit[TV_UNIT_CODE_MAX + 1];
    uint8_t box[CRDT_GRANT_BOX_BYTES];
} store_grant;
typedef int (*store_grant_fn)(const store_grant *g, void *ctx);
/* The grants to subject, by origin. Stops at fn's first non-zero result and returns it. */
int store_grants_of(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES], store_grant_fn fn,
                    void *ctx);
/* Whether origin granted subject a key: 1, 0 or a store error. */
int store_grant_held(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES],
                     const uint8_t origin[TV_NODE_ID_BYTES]);

/* The audit of full views of people, in (hlc, origin) order. */
typedef int (*store_reveal_fn)(uint64_t hlc, const uint8_t origin[TV_NODE_ID_BYTES],
                               const uint8_t person[TV_PERSON_REF_BYTES], const char *reason,
                               size_t reason_len, void *ctx);
int store_reveals_foreach(store_txn *t, store_reveal_fn fn, void *ctx);

/* --- console accounts and the console log (accounts.c) --------------------------------- */
/* Node-local tables: the accounts of this node's console and the log of its logins and
 * account changes. They are about this node's console only: no event, batch, bundle or
 * sync carries them, and a purge leaves them (they hold no health data). A store made
 * before them gains them, empty, when it is next opened for writing. */

#define STORE_ACCOUNT_NAME_MAX 32  /* bytes of a login name */
#define STORE_ACCOUNT_HASH_MAX 127 /* bytes of a crypto_pwhash_str string */

typedef struct store_account {
    char name[STORE_ACCOUNT_NAME_MAX + 1];
    uint8_t role;                          /* the console's role (node/logic/account.h) */
    uint8_t disabled;                      /* 1: may not log in */
    uint32_t failures;                     /* consecutive failed logins */
    int64_t locked_until_ms;               /* 0: not locked */
    int64_t created_ms, changed_ms;        /* changed: its password, lock or state */
    char hash[STORE_ACCOUNT_HASH_MAX + 1]; /* the Argon2id hash string, NUL-terminated */
} store_account;

/* The account named name (1 to STORE_ACCOUNT_NAME_MAX bytes). Returns 0, TV_ENOTFOUND,
 * TV_ECORRUPT (its record does not decode) or a store error. */
int store_account_get(store_txn *t, const char *name, store_account *a);
/* Writes a's record under a->name, replacing any. Returns 0, TV_EINVAL (a name or hash
 * out of bounds) or a store error. */
int store_account_put(store_txn *t, const store_account *a);
/* Removes the account. Returns 0, TV_ENOTFOUND or a store error. */
int store_account_del(store_txn *t, const char *name);
/* Calls fn for every account, in name order; stops at fn's first non-zero result and
 * returns it (TV_ECORRUPT for a record that does not decode). */
typedef int (*store_account_fn)(const store_account *a, void *ctx);
int store_accounts_foreach(store_txn *t, store_account_fn fn, void *ctx);

#define STORE_CONSOLE_TEXT_MAX 64    /* bytes of an entry's actor, subject or remote address */
#define STORE_CONSOLE_DETAIL_MAX 200 /* bytes of an entry's detail */

/* One entry of the console log, keyed by (at_ms, seq): seq orders entries of the same
 * millisecond. Texts are NUL-terminated. */
typedef struct store_console_entry {
    int64_t at_ms;
    uint32_t seq;
    uint8_t kind; /* tv_console_kind (node/logic/account.h) */
    char actor[STORE_CONSOLE_TEXT_MAX + 1];
    char subject[STORE_CONSOLE_TEXT_MAX + 1];
    char remote[STORE_CONSOLE_TEXT_MAX + 1];
    char detail[STORE_CONSOLE_DETAIL_MAX + 1];
} store_console_entry;

/* Appends e at e->at_ms after the entries of that millisecond (e->seq is set). Texts
 * longer than their bounds are refused (TV_EINVAL). Returns 0 or a store error. */
int store_console_append(store_txn *t, store_console_entry *e);
/* Calls fn for every entry at or after since_ms, in (at_ms, seq) order; stops at fn's first
 * non-zero result and returns it (TV_ECORRUPT for an entry that does not decode). */
typedef int (*store_console_fn)(const store_console_entry *e, void *ctx);
int store_console_foreach(store_txn *t, int64_t since_ms, store_console_fn fn, void *ctx);

/* --- retention (retention.c) ------------------------------------------------------------ */

/* The retention period in force: the root's retention event with the largest (hlc,
 * origin), else CRDT_RETENTION_DAYS_DEFAULT (set = 0). */
typedef struct store_retention {
    uint32_t days;
    int set; /* 1 when a retention event set it */
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
} store_retention;
/* Returns 0 (*r set, the default when none) or a store error. */
int store_retention_get(store_txn *t, store_retention *r);
/* The time before which personal data is gone at now_ms: now_ms - days. */
int64_t store_retention_cutoff(const store_retention *r, int64_t now_ms);

/* A person's hold: their hold event with the largest (hlc, origin). */
typedef struct store_hold {
    uint8_t person[TV_PERSON_REF_BYTES];
    int held; /* 1: placed; 0: lifted */
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
    char reason[CRDT_TEXT_BYTES_MAX + 1];
} store_hold;
/* Returns 0, TV_ENOTFOUND (never held) or a store error. */
int store_hold_get(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES], store_hold *h);
/* 1 when person is held now, 0 when not, or a store error (< 0): by the holds view (at a
 * health node, under the person's ref or the province ref the pseudonym map gives it), or
 * by the refs given to store_held_extra_set. */
int store_held(store_txn *t, const uint8_t person[TV_PERSON_REF_BYTES]);
/* Sets the people held by what the caller opened in memory (a commune's hold notices,
 * PROTOCOL.md §2.13), for the purges and checkpoints that follow, until set again; n = 0
 * clears. The refs are copied to locked memory, wiped when cleared and never stored.
 * Returns 0 or TV_ENOMEM. */
int store_held_extra_set(store *s, const uint8_t (*refs)[TV_PERSON_REF_BYTES], size_t n);
typedef int (*store_hold_fn)(const store_hold *h, void *ctx);
/* Every person ever held (placed or lifted), in ref order. */
int store_holds_foreach(store_txn *t, store_hold_fn fn, void *ctx);

/* What one purge removed. */
typedef struct store_purge_stats {
    int64_t cutoff_ms;
    uint64_t scans;   /* scans removed from the indexes (scans_by_venue rows) */
    uint64_t persons; /* person records removed */
    uint64_t reveals; /* rows of the audit of full views removed */
    uint64_t holds;   /* holds lifted before the cutoff, forgotten */
} store_purge_stats;
/* Removes, inside t, personal data older than cutoff_ms from the indexes and views: the
 * scan index rows of scans recorded (device time) before it; the person records of people
 * with no scan kept; the rows of the reveal audit written before it; holds lifted before
 * it. A held person's rows all stay. agg_daily, venue_day, case statuses, the
 * logs' batches and fork evidence are not touched (batches leave by checkpoints). The
 * freed pages keep their bytes until the file is compacted (store_compact). Returns 0,
 * TV_ENOMEM or a store error. */
int store_purge(store_txn *t, int64_t cutoff_ms, store_purge_stats *st);

#endif
