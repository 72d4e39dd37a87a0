/* A person's record as a node holds it (their person event, decoded), and on a health
 * node their sealed details opened -- each full view recorded in the log first. */
#ifndef TV_NODE_REVEAL_H
#define TV_NODE_REVEAL_H

#include "node/render/json.h"
#include "node/logic/node.h"
#include "node/logic/seal.h"

#include <stddef.h>

typedef struct tv_person_rec {
    char name_masked[CRDT_MASKED_BYTES_MAX + 1];
    char id_masked[CRDT_MASKED_BYTES_MAX + 1];
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t hlc;
    crdt_person p; /* borrows from raw */
    uint8_t raw[CRDT_EVENT_BYTES_MAX];
} tv_person_rec;

/* Reads and decodes the person record of ref into *r. Returns 0, TV_ENOTFOUND or an
 * error. */
int tv_person_rec_load(tv_node *n, const uint8_t ref[TV_PERSON_REF_BYTES], tv_person_rec *r);

/* Whether this node's installed certificate carries the health flag. */
int tv_node_is_health(tv_node *n);

/* Opens the sealed details of each of the n people refs (TV_PERSON_REF_BYTES each) into
 * d[i], records one reveal event per person opened with the reason, and commits them:
 * only then may the details be shown. ok[i] is 1 for a person opened, else 0 (no record
 * here, or sealed to other health nodes). Returns 0 (also when nobody could be opened),
 * TV_EPERM (not a health node) or an error; on an error nothing may be shown (d is
 * wiped). */
int tv_reveal_many(tv_node *n, const uint8_t *refs, size_t count, const char *reason, tv_details *d,
                   uint8_t *ok);

/* Writes key "details" and the details as an object (name, cccd, cmnd, bhyt, phone,
 * birth, sex, address; "" when unknown) into the open JSON object. */
void tv_details_json(tv_json *j, const tv_details *d);

/* The details on one line, the known ones: "name, phone 09..., CCCD ..., CMND ..., BHYT ...,
 * born ..., address ..." (the address last: it may hold commas). */
void tv_details_line(char *out, size_t cap, const tv_details *d);

#endif
