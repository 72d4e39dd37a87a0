/* A person's details sealed to the health nodes, and opened again by one of them.
 *
 * The details (name, ID numbers, phone, date of birth, sex, address) are packed as a small
 * msgpack map and sealed with crypto_box_seal to each recipient: every certified,
 * unrevoked node with the health flag whose scope covers the recording commune (the
 * province root, usually). A recipient's sealing key is its node key converted to X25519,
 * the same conversion CurveZMQ uses, so a health node needs no second key pair: its node
 * secret key opens what was sealed to it. Nothing else can: a stolen commune laptop holds
 * only sealed boxes, pseudonyms and masked displays. */
#ifndef TV_NODE_SEAL_H
#define TV_NODE_SEAL_H

#include "crdt/event.h"
#include "crdt/identity.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

#define TV_DETAIL_TEXT_MAX 512 /* one field, in bytes */

/* The details of a person, as read from a card or typed. Empty strings for unknown. */
typedef struct tv_details {
    char name[256];
    char cccd[16];  /* 12-digit citizen ID */
    char cmnd[16];  /* old 9-digit ID */
    char bhyt[16];  /* health-insurance card number */
    char phone[16]; /* 0xxxxxxxxx */
    char birth[16]; /* yyyy-mm-dd or yyyy */
    char sex[8];    /* "Nam", "Nữ" or empty */
    char address[TV_DETAIL_TEXT_MAX];
    /* the person ref the details were sealed for (key 9), so that a box copied onto another
     * ref gives itself away; has_ref 0: a box of a version that did not write it */
    uint8_t ref[TV_PERSON_REF_BYTES];
    int has_ref;
} tv_details;

/* Finds the recipients for a commune: up to CRDT_SEALED_MAX health nodes covering unit, in
 * id order. Returns 0 (with *n >= 1), TV_ENOTFOUND (no health node is known here: nothing
 * can be sealed, so nothing personal may be recorded), or a store error. */
int tv_seal_recipients(store_txn *t, const char *unit, uint8_t to[][TV_NODE_ID_BYTES], uint32_t *n);

/* Sealing many people's details at once: one ephemeral X25519 key per sealer (a commit
 * group, typically), its shared key with each recipient computed once (crypto_box_beforenm),
 * then each person's details boxed with a random nonce (crypto_box_easy_afternm, ~1 µs
 * instead of ~60 µs for a crypto_box_seal per person). A box is: version (1 byte), the
 * ephemeral public key (32), the nonce (24), the ciphertext and its tag. The ephemeral secret
 * lives only in the sealer and is wiped by tv_sealer_end: the sealing node cannot open what
 * it sealed. */
#define TV_SEALED_BOX_MAX 1024
typedef struct tv_sealer {
    uint32_t n;
    uint8_t to[CRDT_SEALED_MAX][TV_NODE_ID_BYTES];
    uint8_t epk[32];
    uint8_t shared[CRDT_SEALED_MAX][32];
} tv_sealer;

/* Starts a sealer for the n recipients. Returns 0 or TV_EINVAL (n out of range, or a
 * recipient key that is not a valid point). */
int tv_sealer_begin(tv_sealer *s, const uint8_t to[][TV_NODE_ID_BYTES], uint32_t n);
/* Wipes the sealer's keys. */
void tv_sealer_end(tv_sealer *s);

/* Seals d to each of the sealer's recipients into p->sealed (boxes written into buf,
 * which must hold n * TV_SEALED_BOX_MAX bytes and outlive p). Returns 0 or TV_ELIMIT. */
int tv_seal_details(tv_sealer *s, const tv_details *d, crdt_person *p, uint8_t *buf);

/* Opens the box of p sealed to self. Returns 0, TV_ENOTFOUND (nothing was sealed to this
 * node), TV_ESIG (the box does not open: damaged, or not for this key) or TV_EDECODE. */
int tv_unseal_details(const crdt_person *p, const crdt_identity *self, tv_details *d);

#endif
