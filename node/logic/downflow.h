/* Health data flows down only where it is needed (PROTOCOL.md §2.11).
 *
 * A health node seals every case status it sets for the health audience (the province's
 * pseudonym key), and then, for what it holds, tells each commune only what that commune
 * needs, sealed under the commune's key: the status of a person the commune has recorded
 * (in the commune's own pseudonym space), and the windows during which a confirmed case was
 * at the commune's venues (no person named). It remembers what it has sealed (the store's
 * sealed_sent table), so the pass can run whenever something may have changed -- a status
 * set, batches received, a daemon's tick -- and sends each thing once.
 *
 * It also tells each commune that recorded a person it holds (PROTOCOL.md §2.13) that the
 * person is held, or no longer, in the commune's pseudonym space.
 *
 * A node that is not a health node opens, in memory only, the sealed events of its own
 * commune: what its gate shows, `alerts` lists and its purge keeps (the people held).
 * Nothing opened is written anywhere. */
#ifndef TV_NODE_DOWNFLOW_H
#define TV_NODE_DOWNFLOW_H

#include "node/logic/health.h"
#include "node/logic/node.h"

/* How far before the time a status refers to (its infectious window, its onset, else when
 * it was set) a person's scans are looked at to find the communes that recorded them. */
#define TV_DOWNFLOW_LOOKBACK_MS ((int64_t)28 * 86400000)
#define TV_DOWNFLOW_COMMUNES_MAX 64 /* communes one person is looked up in */
#define TV_DOWNFLOW_ITEMS_MAX 1024  /* sealed events one commit of the pass writes */

/* The communes where the person with province-wide pseudonym province_ref is already
 * recorded, and their pseudonym of the person there: fn(unit, ref, ctx) once per commune
 * and ref. This is the one place that maps the province's pseudonym space to the
 * communes'. A person is recorded where a venue of the commune scanned them from from_ms
 * to to_ms, or where a person record of theirs was written. The refs come from the
 * health node's pseudonym map (store_pmap_refs_of): a commune is told the refs whose
 * person record it wrote; one that recorded the person without a record of its own (a
 * personal card issued by another commune, shown at its gate) is told the refs of the
 * communes that did; a person the map knows nothing of keeps province_ref (a health
 * node's own record). Returns 0, fn's first non-zero result or a store error. */
typedef int (*tv_commune_ref_fn)(const char *unit, const uint8_t ref[TV_PERSON_REF_BYTES],
                                 void *ctx);
int tv_person_communes(store_txn *t, const uint8_t province_ref[TV_PERSON_REF_BYTES],
                       int64_t from_ms, int64_t to_ms, tv_commune_ref_fn fn, void *ctx);

/* Adds the sealed case status c (c->person: the province-wide pseudonym) for the health
 * audience to the pending group. Returns what tv_node_add_sealed does, or TV_ENOTFOUND
 * when this node holds no province key. */
int tv_downflow_status(tv_node *n, const crdt_case *c, uint64_t *hlc_out);

/* The pass of a health node (a no-op elsewhere): for each person whose status in force
 * this node set, seals what each commune needs and has not been sent yet, and commits it
 * with the record of what was sent. *sent (may be NULL) gets the number of sealed events
 * written. Returns 0, TV_ERESTORED or another error of tv_node_commit, or a store error. */
int tv_downflow_run(tv_node *n, int64_t now_ms, uint64_t *sent);

/* An exposure window opened from a commune's sealed events. */
typedef struct tv_exposure {
    uint8_t venue[TV_VENUE_ID_BYTES];
    int64_t from_ms, to_ms;
    uint64_t hlc; /* when it was sealed */
} tv_exposure;

/* A hold notice opened from a commune's sealed events: a person of the commune's records
 * (in its pseudonym space) held, or the hold lifted, at hlc by origin. */
typedef struct tv_hold_notice {
    uint8_t person[TV_PERSON_REF_BYTES];
    uint64_t hlc;
    uint8_t origin[TV_NODE_ID_BYTES];
    int held;
} tv_hold_notice;

/* What a commune holds sealed for itself, opened in memory (wiped by tv_opened_release). */
typedef struct tv_opened {
    store_case *cases; /* by person, then (hlc, origin) */
    size_t ncases;
    tv_exposure *exposures; /* by venue, then from, then to */
    size_t nexposures;
    tv_hold_notice *holds; /* by person, then (hlc, origin) */
    size_t nholds;
    uint64_t sealed_seen; /* sealed events held when loaded (a reload is due when it grows) */
    int loaded;
} tv_opened;

/* Opens the sealed events of this node's own commune (none for a node that holds no key
 * of its unit) into o, replacing what o held; a no-op when o is loaded and no sealed event
 * arrived since. Events that do not open are skipped. Returns 0, TV_ELOCKED (the node
 * holds sealed events and is locked), TV_ENOMEM or a store error. */
int tv_opened_load(tv_node *n, store_txn *t, tv_opened *o);
void tv_opened_release(tv_opened *o);
/* The people held now by o's hold notices (each person's latest notice, by (hlc, origin),
 * places a hold), into out (room for o->nholds refs). Returns how many. */
size_t tv_opened_held(const tv_opened *o, uint8_t (*out)[TV_PERSON_REF_BYTES]);
/* The case of person ref (in this commune's pseudonym space) from o, as tv_case_get gives
 * it. Returns 0 or TV_ENOTFOUND. */
int tv_opened_case(const tv_opened *o, const uint8_t ref[TV_PERSON_REF_BYTES], tv_case *out);

/* The case of ref as this node may know it: a health node's cases view, else its commune's
 * sealed statuses (o, loaded here when needed). Returns 0, TV_ENOTFOUND or an error. */
int tv_case_lookup(tv_node *n, store_txn *t, tv_opened *o, const uint8_t ref[TV_PERSON_REF_BYTES],
                   tv_case *out);

#endif
