/* Recording people's scans: the one pipeline behind `scan`, `import` and `station`.
 *
 * For each scan: the person's pseudonym (person_ref) from their identity; the first time
 * this node sees the person, a person event with the masked display and the details
 * sealed to the health nodes (see seal.h); then the scan itself, which carries only the
 * pseudonym. Sealing is done once per person, not per scan, and all the people new in one
 * commit group share one ephemeral key (a crypto_box_seal each would cost ~60 µs). A node
 * that knows no health node yet (not enrolled) seals the details to its own key instead,
 * and re-seals them to the health nodes once it knows them (reseal.h).
 *
 * Events go to the node's pending group; the caller commits (tv_node_commit) and then
 * calls tv_recorder_committed, or tv_recorder_discarded if the commit failed. */
#ifndef TV_NODE_RECORD_H
#define TV_NODE_RECORD_H

#include "node/logic/idcard.h"
#include "node/logic/node.h"
#include "node/logic/seal.h"

typedef struct tv_recorder {
    tv_node *n;
    uint8_t key[TV_TRACING_KEY_BYTES]; /* tv_node_ref_key: the key of this node's refs */
    store_txn *rt;                     /* a read snapshot for "is this person known here?" */
    int have_to;                       /* `to` holds the recipients, found when the store had */
    uint64_t to_trust;                 /* to_trust certificate writes and revocations */
    int to_checked;                    /* ... and that was checked in this commit group */
    uint32_t nto;
    uint8_t to[CRDT_SEALED_MAX][TV_NODE_ID_BYTES];
    tv_sealer sealer; /* one ephemeral key per commit group (sealer.n == 0: none yet) */
    uint8_t *boxes;
    /* people given a person event in the pending group (open addressing on the ref) */
    uint8_t (*fresh)[TV_PERSON_REF_BYTES];
    uint8_t *used;
    size_t nfresh, cap;
} tv_recorder;

typedef struct tv_scan_in {
    const store_venue *venue;
    const tv_card *card;
    int out;            /* 1 for a check-out */
    int64_t at_ms;      /* device time */
    const char *device; /* may be NULL */
    uint8_t method;     /* CRDT_METHOD_*; 0: from the card's kind */
} tv_scan_in;

typedef struct tv_scan_done {
    uint8_t ref[TV_PERSON_REF_BYTES];
    int new_person; /* a person event was written with this scan */
    uint64_t hlc;
    char masked[TV_CARD_NAME_MASKED_BYTES + TV_PERSON_MASKED_MAX + 8]; /* for display */
} tv_scan_done;

/* When a scan may have happened, by the recording node's clock: at most
 * TV_SCAN_FUTURE_SKEW_MS after now (a gate's or phone's clock a little ahead of the
 * node's), and not before TV_SCAN_EARLIEST_MS, 2020-01-01T00:00:00+07:00 (no venue
 * check-in in Vietnam before COVID-19: an earlier date is a typo or a clock reset). `scan
 * --at` and `import` refuse other times; the station records at the node's own clock. */
#define TV_SCAN_FUTURE_SKEW_MS (10 * 60 * 1000)
#define TV_SCAN_EARLIEST_MS INT64_C(1577811600000)
/* Returns 0 when a scan at at_ms may be recorded at now_ms, 1 when it is more than
 * TV_SCAN_FUTURE_SKEW_MS in the future, -1 when it is before TV_SCAN_EARLIEST_MS. */
int tv_scan_time_check(int64_t at_ms, int64_t now_ms);

/* The pseudonym of a card: computed from its identity with the tracing key, or, for a
 * truyvet personal code, the one the code carries. */
void tv_card_ref(const tv_card *c, const uint8_t key[TV_TRACING_KEY_BYTES],
                 uint8_t ref[TV_PERSON_REF_BYTES]);

/* Finds the node that signed something: an installed certificate whose subject starts
 * with key_id and for which check(subject, arg) returns 0 (the signature verifies under
 * it). Returns 1 with the certificate in *cert, 0 when none (*candidates: how many
 * certificates had that key id), or a store error. */
typedef int (*tv_sig_check_fn)(const uint8_t pk[TV_NODE_ID_BYTES], const void *arg);
int tv_signer_find(store_txn *t, const uint8_t key_id[TV_KEY_ID_BYTES], tv_sig_check_fn check,
                   const void *arg, crdt_cert *cert, int *candidates);

/* What the nodes t knows say of a venue payload (payload.h). */
typedef enum tv_code_verdict {
    TV_CODE_GENUINE = 0, /* signed by a commune node covering its unit (in *cert) */
    TV_CODE_OWN,         /* signed by this node itself, for its own unit */
    TV_CODE_FORGED,      /* a known node's key does not verify it */
    TV_CODE_UNKNOWN,     /* no certificate of its signer here */
    TV_CODE_REVOKED,     /* its signer (in *cert) is revoked */
    TV_CODE_OUT_OF_SCOPE /* its signer (in *cert) may not register venues in that unit */
} tv_code_verdict;

/* Judges payload p by what t holds; *cert (caller's, large) gets the signer's
 * certificate when one verifies it. Returns 0 with *verdict set, or a store error. */
int tv_venue_code_check(store_txn *t, const tv_node *n, const tv_venue_payload *p, crdt_cert *cert,
                        tv_code_verdict *verdict);

/* Checks a personal code against the certificates t holds (every node holds those of its
 * whole province, PROTOCOL.md 6.5): 0 when this node signed it, or when it verifies under
 * an installed certificate whose chain up to the root is installed and unrevoked;
 * TV_ESIG when a known node's key does not verify it (forged, or its display altered);
 * TV_EUNTRUSTED when no certificate of its issuer is held, or the issuer's chain does not
 * reach the root; TV_EREVOKED when its issuer or one above it is revoked; or a store
 * error. */
int tv_card_check(store_txn *t, const tv_node *n, const tv_person_card *pc);

/* Starts recording on n. When n is opened for writing with nothing pending, first
 * re-seals details it sealed to itself to the health nodes it now knows (tv_reseal_own),
 * committed at once. Returns 0, TV_ERESTORED (the node may not record: see
 * tv_node_may_record), TV_EPERM (the node holds no pseudonym key: a district without the
 * health flag, tv_node_ref_key), TV_ENOMEM or what tv_reseal_own does. */
int tv_recorder_init(tv_recorder *r, tv_node *n);
void tv_recorder_free(tv_recorder *r);

/* Adds the scan (and the person event when needed) to the pending group. Returns 0,
 * TV_ELIMIT (the pending group is full: commit first), TV_EINVAL, TV_ESIG, TV_EUNTRUSTED
 * or TV_EREVOKED (a personal code that fails tv_card_check) or a store error; on error
 * nothing of this scan is pending. */
int tv_recorder_add(tv_recorder *r, const tv_scan_in *in, tv_scan_done *done);

/* Adds only the person part to the pending group: the person event with the sealed
 * details when the person is new here (issuing a personal card). done->ref and
 * done->masked are filled. Returns as tv_recorder_add. */
int tv_recorder_person(tv_recorder *r, const tv_card *c, tv_scan_done *done);

/* After a successful commit / after a failed one (the pending group was emptied). */
int tv_recorder_committed(tv_recorder *r);
int tv_recorder_discarded(tv_recorder *r);

/* The display of a person for staff: "Nguyễn V** A · 09******78", or the masked id alone.
 * A masked number stored under the older, wider masks shows narrowed (tv_masked_narrow). */
void tv_person_display(char *out, size_t cap, const char *name_masked, const char *id_masked);

/* The display of the person a stored scan names, from what t holds: the person event's
 * masked name and id when there is one, else scan_masked (what the scan itself carries,
 * empty when a person event was meant to), else "?"; narrowed as tv_person_display.
 * Returns 0 or a store error. */
int tv_person_display_get(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES],
                          crdt_text scan_masked, char *out, size_t cap);

/* --- the gate's answer ----------------------------------------------------------------- */

/* The scan asked about by tv_scan_repeat: a person's scan at venue, at at_ms, in a
 * direction. Stored already (the walk stops at it: seq is its seq), or not yet (stored =
 * 0: it is taken to come after every stored scan of its millisecond). */
typedef struct tv_scan_key {
    const uint8_t *person; /* TV_PERSON_REF_BYTES */
    const uint8_t *venue;  /* TV_VENUE_ID_BYTES */
    int out;
    int64_t at_ms;
    int stored;
    uint64_t seq;
} tv_scan_key;

/* Is scan k a repeat by the views' rule (tv_presence_repeat, window_ms), judged on the
 * person's scans t holds? The station's "đã vào rồi" and `watch`'s repeat mark both ask
 * this, so they never disagree. *run_first (may be NULL) gets the time of the run's first
 * scan. The walk looks back as far as the run reaches, at most a day. Returns 1, 0, or a
 * store error (negative). */
int tv_scan_repeat(store_txn *t, const tv_scan_key *k, int64_t window_ms, int64_t *run_first);

/* What the gate shows of a person: the case status in force as this node knows it (a
 * health node's cases, a commune's sealed statuses) and whether the health authority
 * keeps them under a hold (told to this commune, sealed). */
typedef struct tv_gate_mark {
    int status; /* CRDT_CASE_*, or -1: no status held (or cleared, which shows nothing) */
    int held;
} tv_gate_mark;

struct tv_opened;
/* Fills *m for person ref (o: this commune's sealed statuses, loaded when needed; a node
 * that cannot open them, locked or without its commune's key, shows no status). */
void tv_gate_mark_get(tv_node *n, store_txn *t, struct tv_opened *o,
                      const uint8_t ref[TV_PERSON_REF_BYTES], tv_gate_mark *m);
/* 1 when the gate must stop the person: a confirmed case (F0), a close contact (F1, who
 * is to be isolated) or a person under a hold. F2 is shown, and let in. */
int tv_gate_stop(const tv_gate_mark *m);
/* The colour and reason a guard reads, in Vietnamese ("ĐỎ — F0: ca bệnh, liên hệ trạm y
 * tế"), or NULL when there is nothing to show. Static. */
const char *tv_gate_mark_text(const tv_gate_mark *m);
/* The stop word that begins a stopped person's answer line. */
#define TV_GATE_STOP_WORD "DỪNG — KHÔNG VÀO"

#endif
