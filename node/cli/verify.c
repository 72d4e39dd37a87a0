/* `truyvet verify`: whether the store is intact: every signature and hash chain. */
#include "crdt/error.h"
#include "node/logic/category.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/render/json.h"
#include "node/logic/resync.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int cmd_verify(tv_cli *cli, int argc, char **argv);

static const tv_opt verify_opts[] = {{.id = TV_O_JSON}, {0}};

const tv_command tv_command_verify = {
    .name = "verify",
    .summary = "re-check every signature and hash chain in the store",
    .usage = "verify [--json]",
    .about = "Re-check every stored batch: its origin's signature, its body hash, its events, and\n"
             "that each origin's batches form one unbroken hash chain ending at the frontier.\n"
             "Exit status 0 when there is no fault; 1 when there are faults (each one is named).\n",
    .opts = verify_opts,
    .more = NULL,
    .fn = cmd_verify,
    .col = 0,
};

/* --- verify ------------------------------------------------------------------------- */

typedef struct verify_ctx {
    store_txn *t;
    int json;
    uint8_t origin[TV_NODE_ID_BYTES]; /* the origin whose chain is being walked */
    int have_origin;
    uint64_t seq;                /* last seq of that chain so far */
    uint8_t hash[TV_HASH_BYTES]; /* and its last batch hash */
    uint64_t hlc_max;
    uint64_t batches, events, faults, origins;
} verify_ctx;

static void fault(verify_ctx *c, const uint8_t *origin, uint64_t seq, const char *what)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, origin, TV_NODE_ID_BYTES);
    c->faults++;
    if (c->json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "fault");
        tv_json_string(&j, what);
        tv_json_key(&j, "origin");
        tv_json_string(&j, hex);
        tv_json_key(&j, "seq");
        tv_json_u64(&j, seq);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    } else {
        printf("FAULT origin %s batch at seq %" PRIu64 ": %s\n", hex, seq, what);
    }
}

/* Checks that the chain just walked ends where the frontier says. */
static void verify_chain_end(verify_ctx *c)
{
    if (!c->have_origin) return;
    store_frontier f;
    int rc = store_frontier_get(c->t, c->origin, &f);
    if (rc)
        fault(c, c->origin, c->seq, "the origin has batches but no frontier");
    else if (f.seq != c->seq || memcmp(f.hash, c->hash, TV_HASH_BYTES) != 0)
        fault(c, c->origin, c->seq, "the chain does not end at the recorded frontier");
}

static int verify_batch(const uint8_t *buf, size_t len, void *arg)
{
    verify_ctx *c = arg;
    crdt_batch b;
    int rc = crdt_batch_open(&b, buf, len);
    if (rc) {
        /* the bytes cannot be trusted to name their origin: report against the current */
        static const uint8_t unknown[TV_NODE_ID_BYTES];
        fault(c, c->have_origin ? c->origin : unknown, c->seq + 1, tv_strerror(rc));
        return 0;
    }
    if (!c->have_origin || memcmp(b.h.origin, c->origin, TV_NODE_ID_BYTES) != 0) {
        verify_chain_end(c);
        memcpy(c->origin, b.h.origin, TV_NODE_ID_BYTES);
        c->have_origin = 1;
        c->seq = 0;
        c->hlc_max = 0;
        memset(c->hash, 0, sizeof c->hash);
        c->origins++;
        /* a log truncated by a checkpoint starts again at its base (PROTOCOL.md §3.4) */
        rc = store_base_get(c->t, c->origin, &c->seq, c->hash);
        if (rc && rc != TV_ENOTFOUND) fault(c, b.h.origin, b.h.first_seq, tv_strerror(rc));
    }
    c->batches++;
    if ((rc = crdt_batch_check_events(&b))) fault(c, b.h.origin, b.h.first_seq, tv_strerror(rc));
    if (b.h.first_seq != c->seq + 1)
        fault(c, b.h.origin, b.h.first_seq, "a gap or overlap in the log's seq numbers");
    else if (memcmp(b.h.prev_hash, c->hash, TV_HASH_BYTES) != 0)
        fault(c, b.h.origin, b.h.first_seq, "does not continue the hash chain");
    else if (c->seq && b.h.hlc_min <= c->hlc_max)
        fault(c, b.h.origin, b.h.first_seq, "its clock goes backwards from the previous batch");
    c->seq = b.h.first_seq + b.h.count - 1;
    c->hlc_max = b.h.hlc_max;
    memcpy(c->hash, b.hash, TV_HASH_BYTES);
    c->events += b.h.count;
    return 0;
}

static int cmd_verify(tv_cli *cli, int argc, char **argv)
{
    verify_ctx c = {0};
    int rc = tv_cli_json_only(cli, argc, argv, &c.json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_counts counts;
    if ((rc = store_read_begin(n.st, &c.t)) == 0) {
        rc = store_batches_foreach(c.t, verify_batch, &c);
        if (rc == 0) verify_chain_end(&c);
        if (rc == 0 && (rc = store_counts_get(c.t, &counts)) == 0 &&
            (counts.events != c.events || counts.batches != c.batches))
            fault(&c, n.id.pk, 0, "the event counters do not match the stored batches");
        store_read_end(c.t);
    }
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "cannot read the store");
    if (c.json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "batches");
        tv_json_u64(&j, c.batches);
        tv_json_key(&j, "events");
        tv_json_u64(&j, c.events);
        tv_json_key(&j, "origins");
        tv_json_u64(&j, c.origins);
        tv_json_key(&j, "faults");
        tv_json_u64(&j, c.faults);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    } else {
        printf("verified %" PRIu64 " batches, %" PRIu64 " events from %" PRIu64 " origin%s: %s\n",
               c.batches, c.events, c.origins, c.origins == 1 ? "" : "s",
               c.faults ? "FAULTS FOUND" : "no fault");
    }
    if (c.faults) {
        tv_cli_error("%" PRIu64 " fault%s found in the store of %s.", c.faults,
                     c.faults == 1 ? "" : "s", cli->dir);
        return TV_EXIT_FAIL;
    }
    return TV_EXIT_OK;
}
