/* Reading a bundle into the node: its batches applied in groups, each group in one durable
 * transaction through the one apply path (tv_node_apply), with what each record came to
 * counted -- accepted, already held, refused, damaged, lost -- and reported as it happens
 * through the caller's hooks, so that `truyvet bundle import` says it on a terminal and a
 * web console in its own way, in the file's order.
 *
 * Errors: 0 or a negative TV_E... code (crdt/error.h). */
#ifndef TV_NODE_LOGIC_IMPORT_H
#define TV_NODE_LOGIC_IMPORT_H

#include "node/format/bundle.h"
#include "node/logic/node.h"

/* Received batches applied together in one durable transaction: enough to make the fsync
 * cheap per batch, small enough that an interrupted import loses little work. */
#define TV_IMPORT_GROUP_BATCHES 64
#define TV_IMPORT_GROUP_BYTES ((size_t)8 << 20)

typedef struct tv_import tv_import;

/* What an import tells as it goes; any hook may be NULL. ctx is the caller's. */
typedef struct tv_import_hooks {
    /* a message may follow (a group was applied, a record is missing, a part is damaged) */
    void (*quiet)(void *ctx, const tv_import *im);
    /* a group was applied and its batches counted */
    void (*progress)(void *ctx, const tv_import *im);
    /* batch `number` of the file was refused: it->rc says why (im->refused counts it) */
    void (*refused)(void *ctx, const tv_import *im, const tv_apply_item *it, uint32_t number);
    /* a damaged part of the file was skipped, or the file has no end mark */
    void (*damaged)(void *ctx, const tv_import *im, const tv_bundle_rec *d);
    /* of records first..last, `lost` vanished with no damaged header to name them by */
    void (*lost)(void *ctx, const tv_import *im, uint32_t first, uint32_t last, uint32_t lost);
    void *ctx;
} tv_import_hooks;

struct tv_import {
    tv_node *n;           /* borrowed, open for writing */
    tv_bundle_reader *rd; /* borrowed, initialised on the file */
    const tv_import_hooks *hooks;
    uint64_t records, accepted, events, duplicates, refused, gaps, damaged, missing, unknown;
    int complete; /* the end record was read */
    /* private */
    tv_apply_item items[TV_IMPORT_GROUP_BATCHES];
    uint32_t numbers[TV_IMPORT_GROUP_BATCHES]; /* each item's record number */
    size_t count;
    uint8_t *arena; /* the group's batch bytes */
    size_t used;
    uint32_t told; /* damaged records reported by number since the last intact record */
};

/* Prepares im to read rd into n, telling hooks. Returns 0 or TV_ENOMEM. Release with
 * tv_import_release. */
int tv_import_init(tv_import *im, tv_node *n, tv_bundle_reader *rd, const tv_import_hooks *hooks);

/* Reads the whole bundle, applying its batches. Returns 0, or the error that stopped the
 * import (TV_EIO when reading failed; the groups applied before stay applied). */
int tv_import_run(tv_import *im);

void tv_import_release(tv_import *im);

/* Reads origin and seqs from a batch that did not verify, without trusting them: only to
 * name it in a message. Returns 0 when they could be read, else TV_EDECODE. */
int tv_import_peek_header(const uint8_t *buf, size_t len, crdt_batch_header *h);

#endif
