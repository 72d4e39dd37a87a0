/* Shared internals of the store module: the LMDB handles and key layouts. */
#ifndef TV_STORE_INTERNAL_H
#define TV_STORE_INTERNAL_H

#include "crdt/error.h"
#include "store/store.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

/* The tables. Keys are big-endian so LMDB's byte order is numeric order. */
enum store_table {
    T_META,        /* name -> value */
    T_FRONTIER,    /* origin(32) -> frontier record (FRONTIER_BYTES) */
    T_BATCHES,     /* origin_no(4) first_seq(8) -> batch bytes, verbatim (origin_no at or above
                    * STORE_FORK_NO_BASE: an evidence batch of a fork, see forks.c) */
    T_COUNTS,      /* counter id(4) -> u64 */
    T_VENUES,      /* venue(8) -> view record (msgpack, see store_views.c) */
    T_SCAN_VENUE,  /* day(4) venue(8) at(8) origin_no(4) seq(8) -> person(16) dir(1) */
    T_SCAN_PERSON, /* day(4) person(16) at(8) origin_no(4) seq(8) -> venue(8) dir(1) */
    T_AGG,         /* unit(16, NUL-padded) day(4, biased) -> AGG_BYTES (AGG_BYTES_V1 too) */
    T_VENUE_DAY,   /* venue(8) day(4, biased) -> u64 scans that day, latest at_ms (biased) */
    T_CERTS,       /* subject(32) -> hlc(8) cert bytes: the newest certificate of each node */
    T_REVOKED,     /* subject(32) -> revoker(32) hlc(8) */
    T_FORKS,       /* origin(32) [first_seq(8) hash(32)] -> forks and their evidence (forks.c) */
    T_PEERS,       /* peer(32) -> the sync protocol's record of that peer */
    T_PERSONS,     /* person(16) -> hlc(8) origin(32) seq(8) person event, verbatim */
    T_CTRL_ADDS,   /* venue(8) phone(16, NUL-padded) tag(40) -> hlc(8): controller adds */
    T_CTRL_GONE,   /* tag(40) -> nothing: controller adds removed (observed-remove set) */
    T_REMINDERS,   /* venue(8) hlc(8) origin(32) -> action(1) note */
    T_REVEALS,     /* hlc(8) origin(32) -> person(16) reason: the audit of full views */
    T_CASES,       /* person(16) hlc(8) origin(32) -> status(1) onset sampled at(8 each) unit */
    T_RISKS,       /* unit(16, NUL-padded) from(8, biased) -> hlc(8) origin(32) level(1) note */
    T_UNITS,       /* unit(16, NUL-padded) -> hlc(8) origin(32) parent(16, NUL-padded) name */
    T_VENUE_REG,   /* venue(8) -> registrar(32) unit(16, NUL-padded): who registered it, where */
    T_PARKED,      /* origin(32) -> reason(1) due_ms(8) batch: a batch that waits (§3.3) */
    T_SEALED,      /* tag(8) hlc(8) origin_no(4) seq(8) -> nothing: sealed events by audience */
    T_SEALED_SENT, /* digest(16) -> nothing: what this health node has sealed already */
    T_HOLDS,       /* person(16) -> hlc(8) origin(32) action(1) reason: holds (retention.c) */
    T_BASES,       /* origin(32) -> upto(8) hash(32): where a truncated log starts again */
    T_PMAP,        /* ref(16) -> province ref(16) unit(16) hlc(8): pmap.c (local, derived) */
    T_PMAP_BY,     /* province ref(16) ref(16) -> unit(16): the same rows, by province ref */
    T_GRANTS,      /* subject(32) origin(32) -> hlc(8) unit(16) box(80): key grants */
    T_ACCOUNTS,    /* login name -> account record (accounts.c): node-local, never sent */
    T_CONSOLE,     /* at_ms(8, biased) seq(4) -> console log entry (accounts.c): node-local */
    T_COUNT_
};

#define FRONTIER_BYTES (8 + TV_HASH_BYTES + 8 + 8 + 4)
/* scans in, out, venues active, reminders, F0, F1 (8 each), then the visitors' sketch */
#define AGG_BYTES (6 * 8 + CRDT_HLL_REGS)
#define AGG_BYTES_V1 (3 * 8) /* the first layout: scans and venues only */
#define VENUE_DAY_BYTES 16
#define UNIT_KEY_BYTES (TV_UNIT_CODE_MAX + 1)

typedef struct cert_memo cert_memo;

struct store {
    MDB_env *env;
    MDB_dbi dbi[T_COUNT_];
    /* a table a store made by an earlier version lacks, opened read-only (where it cannot
     * be created): read as empty (only the node-local tables added since may be absent) */
    uint8_t absent[T_COUNT_];
    int read_only;
    /* STORE_WRITERS_FILE (-1 until the first write), held shared from the first write on
     * (writers_held): store_compact replaces the data file only when it alone holds it */
    int writers_fd;
    atomic_int writers_held;
    pthread_mutex_t writers_mu;         /* the first write's taking of it, between threads */
    char *dir;                          /* the directory it was opened on (read-write only) */
    atomic_int reads_open;              /* read transactions open, in any thread */
    crdt_sig_memo *sig_memo;            /* store_opts.sig_memo: borrowed, or NULL */
    int (*fault)(void *arg, int where); /* store_opts.fault: off (NULL) but in the simulator */
    void *fault_arg;
    /* decoded certificates, by subject, valid for one value of the certificate counter
     * (COUNT_CERT_WRITES): see store_cert_get */
    cert_memo **cmemo;
    size_t cmemo_cap, cmemo_n;
    uint64_t cmemo_gen;
    void *apply_scratch; /* per-batch accumulators of apply.c, reused */
    crdt_event *events;  /* a batch's decoded events (CRDT_BATCH_EVENTS_MAX + 1), reused */
    uint8_t inert[CRDT_BATCH_EVENTS_MAX + 1]; /* per event: kept as bytes only (trust.c) */
    /* the health audience's key (store_sealed_key_set), in locked memory; NULL: none */
    uint8_t *health_key;
    /* people held by what the node opened in memory (store_held_extra_set), sorted; a
     * commune's held refs, never stored */
    uint8_t (*held_extra)[TV_PERSON_REF_BYTES];
    size_t nheld_extra;
    /* a batch's events as they apply: a checkpoint's copy stands for the event it carries
     * (copied[i] set, seq[i] the seq it names); reused like events */
    crdt_event *eff;
    uint64_t *seq;
    uint8_t copied[CRDT_BATCH_EVENTS_MAX + 1];
};

struct store_txn {
    store *s;
    MDB_txn *txn;
    int map_full;      /* an operation hit MDB_MAP_FULL: store_write grows the map and retries */
    int certs_written; /* this transaction wrote a certificate (not yet committed) */
};

/* Whether rc is a failure of the store itself (abort the transaction), not a refusal of
 * the data. */
static inline int store_fatal_(int rc)
{
    return rc == TV_ESTORE || rc == TV_ENOMEM || rc == TV_ENOSPC || rc == TV_ECORRUPT ||
           rc == TV_EIO;
}

/* Maps an LMDB result to a TV code, noting MDB_MAP_FULL in t. */
int store_err_(store_txn *t, int mdb_rc);

static inline int store_put_(store_txn *t, int table, const void *k, size_t klen, const void *v,
                             size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    return store_err_(t, mdb_put(t->txn, t->s->dbi[table], &key, &val, 0));
}

static inline int store_get_(store_txn *t, int table, const void *k, size_t klen, MDB_val *val)
{
    MDB_val key = {klen, (void *)k};
    return store_err_(t, mdb_get(t->txn, t->s->dbi[table], &key, val));
}

static inline void store_be64_(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}
static inline uint64_t store_get64_(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}
static inline void store_be32_(uint8_t *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}
static inline uint32_t store_get32_(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
/* Signed values are biased so that big-endian byte order is numeric order. */
static inline uint64_t store_bias64_(int64_t v)
{
    return (uint64_t)v ^ (1ULL << 63);
}
static inline uint32_t store_bias32_(int32_t v)
{
    return (uint32_t)v ^ (1U << 31);
}

/* Counter ids in T_COUNTS. */
enum {
    COUNT_EVENTS = 1,
    COUNT_BATCHES = 2,
    COUNT_ORIGINS = 3,
    COUNT_CERT_WRITES = 4,   /* certificates written, ever: the decoded-certificate cache's key */
    COUNT_PARK_RELEASED = 5, /* parked batches applied later, ever */
    COUNT_FORK_NOS = 6,      /* local numbers given to evidence batches of forks (forks.c) */
    COUNT_TYPE_BASE = 100
};
/* Frees the store's cache of decoded certificates (trust.c). */
void store_cert_memo_free_(store *s);

/* Applies one venue_upsert to the venue view (last-writer-wins per field). */
int store_venue_apply_(store_txn *t, const crdt_venue_upsert *v, uint64_t hlc,
                       const uint8_t origin[TV_NODE_ID_BYTES]);
/* Judges a cert event in origin's log: its certificate opens (signature verified), was
 * issued by the origin, carries a consent that verifies if it claims one (T4), and fits
 * the tree as held (store_cert_judge). The same for every origin, this node's own
 * included. Returns 0, TV_ESCOPE (*rule says which rule) or a store error. */
int store_cert_event_check_(store_txn *t, const uint8_t *origin, const crdt_cert_event *ce,
                            const char **rule);
/* Judges a revocation in origin's log (T5): never of the root; by the root, or by a node
 * in the subject's issuer chain. root is NULL when this node holds none (no revocation
 * is lawful then). Returns 0, TV_ESCOPE, TV_EUNTRUSTED (the subject's certificate is not
 * held yet) or a store error. */
int store_revoke_event_check_(store_txn *t, const uint8_t *origin, const crdt_revoke *rv,
                              const uint8_t *root, const char **rule);
/* The checks of a batch of this node's own log (self), store/own.c: no chain, scope or
 * parking (it records before it is enrolled: its first certificate covers its log from
 * seq 1), but its certificates and revocations are judged as anyone's. Returns 0 or a
 * refusal as store_trust_check_ does (*rule set), or a store error. Its own file, so that
 * the insider tests' forge (tests/insider/forge.c) can link a store that judges nothing of
 * its own log, as a patched node would. */
int store_own_check_(store_txn *t, const uint8_t *self, const crdt_event *evs, uint32_t n,
                     const char **rule);
/* Trust checks of a batch, and their effects (store/trust.c). Sets *own for the node's
 * own batches (no chain, scope or parking: their certificates and revocations only are
 * judged, as anyone's), inert[i] for events kept as bytes only
 * (about a venue of a unit this node does not hold), and *rule to the rule a refusal or a
 * parking cites, and wait_venue to the first venue a parked batch waits for the
 * registration of (zeros otherwise). Returns 0, TV_EPARKED (lawful, but it waits: §3.3),
 * or a refusal. */
int store_trust_check_(store_txn *t, const crdt_batch *b, const crdt_event *evs, uint32_t n,
                       int64_t now_ms, int *own, uint8_t *inert, const char **rule,
                       uint8_t wait_venue[TV_VENUE_ID_BYTES]);
/* A venue's registration: registrar and unit (NUL-terminated; either may be NULL).
 * Returns 0, TV_ENOTFOUND or a store error. */
int store_venue_reg_get_(store_txn *t, const uint8_t venue[TV_VENUE_ID_BYTES],
                         uint8_t registrar[TV_NODE_ID_BYTES], char unit[UNIT_KEY_BYTES]);
/* Records v's registration by origin unless the venue is registered already. */
int store_venue_reg_put_(store_txn *t, const crdt_venue_upsert *v,
                         const uint8_t origin[TV_NODE_ID_BYTES]);
int store_trust_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES]);
/* Applies a retention or hold event (retention.c); other types: 0. */
int store_retention_apply_(store_txn *t, const crdt_event *ev,
                           const uint8_t origin[TV_NODE_ID_BYTES]);
/* Applies a key_grant event (pmap.c). */
int store_grant_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES]);
/* Applies a unit event (units.c). */
int store_unit_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES]);
/* Indexes a sealed event by its tag, and at a node holding the health audience's key
 * applies the case status it carries when the tag is that audience's (sealed.c). seq is
 * where the event lies in its origin's log: for a checkpoint's copy, the copy's own seq
 * (the index row must find it after the original batch is dropped); copy as for
 * store_health_apply_. */
int store_sealed_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES],
                        uint32_t origin_no, uint64_t seq, int own, int copy);
/* Deletes the index row store_sealed_apply_ made for ev at seq (a dropped batch's). */
/* Opens ev, a sealed event of origin, when it is the health audience's and the store holds
 * its key: 1 with the inner event in *in (borrowing from scratch and inner, of
 * CRDT_SEALED_INNER_BYTES_MAX bytes, which the caller wipes), else 0. */
int store_sealed_open_health_(store_txn *t, const crdt_event *ev,
                              const uint8_t origin[TV_NODE_ID_BYTES], crdt_event *in,
                              msgpack_unpacked *scratch, uint8_t *inner);
int store_sealed_unindex_(store_txn *t, const crdt_event *ev, uint32_t origin_no, uint64_t seq);
/* Applies a case_status or risk_level event (health.c); other types: 0. copy: a
 * checkpoint's copy (a case row already held is left alone, and none is counted). */
int store_health_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES],
                        int copy);
/* A unit code as a fixed-width key: NUL-padded to UNIT_KEY_BYTES. */
static inline void store_unit_key_(uint8_t out[UNIT_KEY_BYTES], const char *p, size_t n)
{
    memset(out, 0, UNIT_KEY_BYTES);
    memcpy(out, p, n < TV_UNIT_CODE_MAX ? n : TV_UNIT_CODE_MAX);
}
/* Calls fn(key, val, ctx) for the keys of table that start with prefix (plen 0: all), in
 * key order; stops at fn's first non-zero result and returns it. */
typedef int (*store_prefix_fn)(const MDB_val *k, const MDB_val *v, void *ctx);
int store_prefix_foreach_(store_txn *t, int table, const uint8_t *prefix, size_t plen,
                          store_prefix_fn fn, void *ctx);
/* The last row of table whose key is at most key (klen bytes) and starts with its first
 * plen bytes: k and v are set (valid until the transaction ends). Returns 0, TV_ENOTFOUND
 * or a store error. */
int store_last_at_most_(store_txn *t, int table, const uint8_t *key, size_t klen, size_t plen,
                        MDB_val *k, MDB_val *v);
/* Applies a person, controller, reminder or reveal event (people.c); other types: 0. copy:
 * a checkpoint's copy (a reminder is not counted in the daily figures again). */
int store_people_apply_(store_txn *t, const crdt_event *ev, const uint8_t origin[TV_NODE_ID_BYTES],
                        uint64_t seq, int copy);

/* --- forks (forks.c) --- */
/* Local numbers of evidence batches start here: in T_BATCHES and in the scan indexes they
 * stand where an origin's number stands for its accepted log (origins are numbered from 1
 * up, far below), so a fork's event at the same seq as an accepted one has its own key. */
#define STORE_FORK_NO_BASE 0x80000000u
/* b (verified, trusted, its n events decoded in evs; inert[i] set for those kept as bytes
 * only) contradicts its origin's log as held
 * here: keeps it as evidence, makes its scans and person records tracing data, freezes the
 * origin. Returns TV_EFORK (the caller commits) or a store error. */
int store_fork_record_(store_txn *t, const crdt_batch *b, const uint8_t *buf, size_t len,
                       const crdt_event *evs, const uint8_t *inert, uint32_t n);
/* b is a frozen origin's: kept as store_fork_record_ does when it continues a branch held as
 * evidence (TV_EFORK), else TV_EFROZEN with nothing written; or a store error. */
int store_fork_frozen_(store_txn *t, const crdt_batch *b, const uint8_t *buf, size_t len,
                       const crdt_event *evs, const uint8_t *inert, uint32_t n);
/* Lifts subject's freeze (it was certified again); its evidence stays tracing data. */
int store_fork_lift_(store_txn *t, const uint8_t subject[TV_NODE_ID_BYTES]);
/* Writes the two scan index rows of s, event seq of the log numbered origin_no (apply.c),
 * under the province ref its person ref is mapped to when it is (pmap.c). */
int store_scan_index_(store_txn *t, const crdt_scan *s, uint32_t origin_no, uint64_t seq);
/* Deletes them (absent rows are no error). */
int store_scan_unindex_(store_txn *t, const crdt_scan *s, uint32_t origin_no, uint64_t seq);

/* --- checkpoints (checkpoint.c) --- */
/* What rule R2 (PROTOCOL.md §3.4) lets go of the batches held of a dropped prefix: the
 * first seqs of those whose every event in force is carried by a copy of the checkpoint. */
typedef struct store_r2 {
    uint64_t *drop;
    size_t n, cap;
} store_r2;
/* Rule R2 for batch b of a log numbered origin_no (held up to frontier) whose prefix up to
 * upto is dropped (by b's own base when base is set, else by the base held): every scan
 * of a batch held here up to upto whose device time is within the retention period, less
 * one day, as of b's HLC, must be one of the checkpoint's copies (the same seq, the same
 * bytes) -- in b or in a batch of the checkpoint held already (seq upto + 1 on). One not
 * carried yet waits while the copies may go on (b ends with a copy and the missing seq is
 * past the last copied one). evs are b's n events as written (copies not opened). Fills
 * out with the held batches that may go (store_r2_release frees it). Returns 0, TV_EFORK
 * (R2 broken: an event in force is not carried), or a store error. Writes nothing. */
int store_r2_check_(store_txn *t, const crdt_batch *b, uint32_t origin_no, uint64_t frontier,
                    uint64_t upto, int base, const crdt_event *evs, uint32_t n, store_r2 *out);
void store_r2_release(store_r2 *r);
/* 1 when a batch of the log numbered origin_no is held at or below upto (a checkpoint up
 * to upto has not been carried through yet, R2), 0 when none is, or a store error. */
int store_r2_pending_(store_txn *t, uint32_t origin_no, uint64_t upto);
/* 1 while the node's store is marked as restored or copied and waits to be brought back
 * from a parent (meta "resync", node/logic/resync.h), else 0. */
int store_restored_(store_txn *t);
/* Drops the held batches r names (origin numbered origin_no) and the scan index rows of
 * their scans; with base, records (upto, hash) as the base of the origin's log. */
int store_checkpoint_drop_(store_txn *t, const uint8_t origin[TV_NODE_ID_BYTES], uint32_t origin_no,
                           const store_r2 *r, int base, uint64_t upto,
                           const uint8_t hash[TV_HASH_BYTES]);

/* The daily figures as stored, and back (a value of the first layout reads with the
 * later figures zero). Returns 0 or TV_ECORRUPT. */
int store_agg_decode_(const MDB_val *v, store_agg *a);
void store_agg_encode_(uint8_t out[AGG_BYTES], const store_agg *a);
/* a += d: counters added (modulo 2^64), sketches merged. */
void store_agg_merge_(store_agg *a, const store_agg *d);
/* Adds to a unit's figures of one day, outside the per-batch accumulators: d's counters
 * are added (modulo 2^64, so a count can be moved back), its sketch merged. */
int store_agg_add_(store_txn *t, const char *unit, size_t unit_len, int32_t day,
                   const store_agg *d);

/* Parking (park.c, PROTOCOL.md §3.3). store_park_ keeps batch b (lawful, the next of its
 * origin's log) until what it waits for arrives, one per origin and at most
 * STORE_PARKED_MAX in all; returns TV_EPARKED (also when the table is full: it is then
 * not kept, and its sender offers it again later) or a store error. store_park_release_
 * applies, with `apply`, each parked batch whose time has come or, when `woke`, each whose
 * awaited venue is registered now; those that still wait are parked again. */
#define STORE_PARKED_MAX 1024
typedef int (*store_apply_one_fn)(store_txn *t, const uint8_t *buf, size_t len, int64_t now_ms,
                                  store_apply_result *r, int *woke);
int store_park_(store_txn *t, const crdt_batch *b, const uint8_t *buf, size_t len, const char *rule,
                const uint8_t wait_venue[TV_VENUE_ID_BYTES]);
int store_park_release_(store_txn *t, int64_t now_ms, int woke, store_apply_one_fn apply,
                        uint32_t *released);

/* The province ref that ref is mapped to (pmap.c), into pref: 0 or TV_ENOTFOUND (not
 * mapped, or examined and found unmappable), or a store error. */
int store_pmap_lookup_(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES],
                       uint8_t pref[TV_PERSON_REF_BYTES]);

/* Deletes the map's rows of ref (pmap.c), when the purge has taken its person record: 0 or
 * a store error. */
int store_pmap_forget_(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES]);

/* Adds delta to counter id. */
int store_count_add_(store_txn *t, uint32_t id, uint64_t delta);

#endif
