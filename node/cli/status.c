/* `truyvet status`: what the node is and holds. */
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

static int cmd_status(tv_cli *cli, int argc, char **argv);

static const tv_opt status_opts[] = {{.id = TV_O_JSON}, {0}};

const tv_command tv_command_status = {
    .name = "status",
    .summary = "what the node is and holds",
    .usage = "status [--json]",
    .about =
        "The node's identity, its enrolment (the root of trust it follows and its own\n"
        "certificate), what it holds (events by type, batches, origins), the last event held\n"
        "from each origin (the frontier), and the size of its store.\n"
        "\n"
        "With --json, \"root\" is the root's node id or null (not enrolled), \"cert\" this node's\n"
        "certificate or null, \"revoked\" whether this node's key has been revoked.\n"
        "\"forks\" lists each batch kept as evidence of a fork (an origin that wrote two\n"
        "different events at one seq; its scans are tracing data all the same), \"fork_origins\"\n"
        "each such origin with its evidence batches and whether it is frozen. \"resync\" says\n"
        "whether this node's store was restored or copied and waits for a sync before it may\n"
        "record (\"required\", \"since\"), with the lines of DIR/resync.log (\"log\").\n"
        "\"checkpoints_waiting\" lists each origin whose checkpoint (up to \"upto\") has not yet\n"
        "carried the events held here from \"held_seq\" on (rule R2): they are kept meanwhile.\n"
        "\"pseudonym_key\" is the kind of key the node computes person pseudonyms with: \"local\"\n"
        "(not enrolled, or a commune waiting for its key), \"commune\", \"province\" (a health\n"
        "node) or \"none\" (a district without the health flag).\n",
    .opts = status_opts,
    .more = NULL,
    .fn = cmd_status,
    .col = 0,
};

/* --- status ------------------------------------------------------------------------- */

typedef struct status_ctx {
    tv_json *j;
    const uint8_t *self;
} status_ctx;

/* What the node knows of its own enrolment. */
typedef struct enrolment {
    int have_root, have_cert, revoked;
    uint8_t root[TV_NODE_ID_BYTES];
    crdt_cert cert;
} enrolment;

static int enrolment_get(store_txn *t, const uint8_t *self, enrolment *e)
{
    memset(e, 0, sizeof *e);
    int rc = store_root_get(t, e->root);
    if (rc && rc != TV_ENOTFOUND) return rc;
    e->have_root = rc == TV_OK;
    rc = store_cert_get(t, self, &e->cert, NULL, NULL);
    if (rc && rc != TV_ENOTFOUND) return rc;
    e->have_cert = rc == TV_OK;
    rc = store_revoked(t, self);
    if (rc < 0) return rc;
    e->revoked = rc;
    return TV_OK;
}

static void enrolment_json(tv_json *j, const enrolment *e)
{
    tv_json_key(j, "root");
    if (e->have_root)
        tv_json_hex(j, e->root, TV_NODE_ID_BYTES);
    else
        tv_json_null(j);
    tv_json_key(j, "cert");
    if (e->have_cert)
        tv_cli_cert_json(j, &e->cert);
    else
        tv_json_null(j);
    tv_json_key(j, "revoked");
    tv_json_bool(j, e->revoked);
}

static void enrolment_text(const enrolment *e, const uint8_t *self)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    if (e->have_root) {
        tv_hex_encode(hex, e->root, TV_NODE_ID_BYTES);
        printf("root      %s%s\n", hex,
               memcmp(e->root, self, TV_NODE_ID_BYTES) == 0 ? " (this node)" : "");
    } else {
        printf("root      not enrolled (see 'truyvet enroll --help')\n");
    }
    if (e->have_cert) {
        printf("cert      ");
        tv_cli_cert_text(stdout, &e->cert);
        putchar('\n');
    } else {
        printf("cert      none\n");
    }
    if (e->revoked) printf("REVOKED   this node's key has been revoked: others refuse its data\n");
}

static int status_frontier(const uint8_t *origin, const store_frontier *f, void *arg)
{
    status_ctx *c = arg;
    char when[40], recv[40];
    tv_cli_hlc_time(when, sizeof when, f->hlc_max);
    tv_time_format_vn(recv, sizeof recv, f->received_ms);
    if (c->j) {
        tv_json_object_begin(c->j);
        tv_json_key(c->j, "origin");
        tv_json_hex(c->j, origin, TV_NODE_ID_BYTES);
        tv_json_key(c->j, "seq");
        tv_json_u64(c->j, f->seq);
        tv_json_key(c->j, "hash");
        tv_json_hex(c->j, f->hash, TV_HASH_BYTES);
        tv_json_key(c->j, "last_event");
        tv_json_string(c->j, when);
        tv_json_key(c->j, "received");
        tv_json_string(c->j, recv);
        tv_json_object_end(c->j);
    } else {
        char hex[2 * TV_NODE_ID_BYTES + 1];
        tv_hex_encode(hex, origin, TV_NODE_ID_BYTES);
        hex[16] = '\0';
        printf("  %s%s  seq %" PRIu64 "  last event %s\n", hex,
               memcmp(origin, c->self, TV_NODE_ID_BYTES) == 0 ? " (this node)" : "", f->seq, when);
    }
    return 0;
}

/* Fork evidence: each batch kept because it contradicts its origin's log as held here. */
static int status_fork(const uint8_t *origin, uint64_t first_seq, const uint8_t *buf, size_t len,
                       void *arg)
{
    tv_json *j = arg;
    (void)buf;
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, origin, TV_NODE_ID_BYTES);
    if (j) {
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_string(j, hex);
        tv_json_key(j, "seq");
        tv_json_u64(j, first_seq);
        tv_json_key(j, "evidence_bytes");
        tv_json_u64(j, len);
        tv_json_object_end(j);
    } else {
        printf("FORK      origin %s: the batch from seq %" PRIu64
               " of another branch of its log, kept as evidence\n",
               hex, first_seq);
    }
    return 0;
}

/* Each origin that forked: how much evidence is kept, whether it is frozen. */
static int status_fork_origin(const uint8_t *origin, uint32_t evidence, int frozen, void *arg)
{
    tv_json *j = arg;
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, origin, TV_NODE_ID_BYTES);
    if (j) {
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_string(j, hex);
        tv_json_key(j, "evidence");
        tv_json_u64(j, evidence);
        tv_json_key(j, "frozen");
        tv_json_bool(j, frozen);
        tv_json_object_end(j);
    } else {
        printf("FORKED    origin %s: %" PRIu32 " evidence batch%s kept, %s; the scans of both "
               "branches are traced\n",
               hex, evidence, evidence == 1 ? "" : "es",
               frozen ? "frozen until its issuer certifies it again" : "certified again since");
    }
    return 0;
}

static int status_resync_line(const char *when, const char *kind, const char *detail, void *arg)
{
    tv_json *j = arg;
    if (j) {
        tv_json_object_begin(j);
        tv_json_key(j, "at");
        tv_json_string(j, when);
        tv_json_key(j, "kind");
        tv_json_string(j, kind);
        tv_json_key(j, "detail");
        tv_json_string(j, detail);
        tv_json_object_end(j);
    } else {
        printf("resync    %s  %s: %s\n", when, kind, detail);
    }
    return 0;
}

/* Whether the store waits for a sync before recording, and the audit of it (resync.h). */
static int status_resync(store_txn *t, const char *dir, tv_json *j)
{
    int64_t since = 0;
    int req = tv_resync_required(t, &since);
    if (req < 0) return req;
    char when[40];
    tv_time_format_vn(when, sizeof when, since);
    if (j) {
        tv_json_key(j, "resync");
        tv_json_object_begin(j);
        tv_json_key(j, "required");
        tv_json_bool(j, req);
        tv_json_key(j, "since");
        if (req)
            tv_json_string(j, when);
        else
            tv_json_null(j);
        tv_json_key(j, "log");
        tv_json_array_begin(j);
    } else if (req) {
        printf("RESYNC    the store was restored or copied (seen %s): nothing is recorded until "
               "it has synced with a parent ('truyvet sync --once'), or 'truyvet resync "
               "--override'\n",
               when);
    }
    int rc = tv_resync_log_foreach(dir, status_resync_line, j);
    if (j) {
        tv_json_array_end(j);
        tv_json_object_end(j);
    }
    return rc;
}

/* Checkpoints whose copies have not all come yet (R2): batches of their prefix are kept. */
static int status_ckpt_wait(const uint8_t *origin, uint64_t upto, uint64_t held_seq, void *arg)
{
    tv_json *j = arg;
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, origin, TV_NODE_ID_BYTES);
    if (j) {
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_string(j, hex);
        tv_json_key(j, "upto");
        tv_json_u64(j, upto);
        tv_json_key(j, "held_seq");
        tv_json_u64(j, held_seq);
        tv_json_object_end(j);
    } else {
        printf("CHECKPOINT origin %s: its checkpoint up to seq %" PRIu64
               " has not carried events held here from seq %" PRIu64
               " yet; they are kept until it does (rule R2)\n",
               hex, upto, held_seq);
    }
    return 0;
}

/* Parked batches: lawful, waiting for a venue's registration or for their time. */
static int status_parked(const store_parked *p, void *arg)
{
    tv_json *j = arg;
    char hex[2 * TV_NODE_ID_BYTES + 1], when[TV_TIME_STR_BYTES];
    tv_hex_encode(hex, p->origin, TV_NODE_ID_BYTES);
    tv_time_format_vn(when, sizeof when, p->due_ms);
    if (j) {
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_string(j, hex);
        tv_json_key(j, "seq");
        tv_json_u64(j, p->first_seq);
        tv_json_key(j, "events");
        tv_json_u64(j, p->count);
        tv_json_key(j, "waits_for");
        tv_json_string(j, p->waits_for_time ? "time" : "venue registration");
        if (p->waits_for_time) {
            tv_json_key(j, "due");
            tv_json_string(j, when);
        }
        tv_json_object_end(j);
    } else if (p->waits_for_time) {
        printf("PARKED    origin %s seq %" PRIu64 " (%u events): written over an hour ahead "
               "of this node's clock; applied from %s\n",
               hex, p->first_seq, p->count, when);
    } else {
        printf("PARKED    origin %s seq %" PRIu64 " (%u events): about a venue whose "
               "registration has not arrived; applied when it does\n",
               hex, p->first_seq, p->count);
    }
    return 0;
}

/* The retention period in force, and when this node last purged. */
static int status_retention(store_txn *t, tv_json *j)
{
    store_retention r;
    int rc = store_retention_get(t, &r);
    if (rc) return rc;
    int64_t purged = 0;
    uint8_t v[8];
    size_t len;
    rc = store_meta_get(t, "purged", v, sizeof v, &len);
    if (rc == TV_OK && len == 8)
        for (int i = 0; i < 8; i++)
            purged = (int64_t)((uint64_t)purged << 8 | v[i]);
    else if (rc != TV_ENOTFOUND && rc != TV_OK)
        return rc;
    char w[TV_TIME_STR_BYTES] = "never";
    if (purged > 0) tv_time_format_vn(w, sizeof w, purged);
    if (j) {
        tv_json_key(j, "retention");
        tv_json_object_begin(j);
        tv_json_key(j, "days");
        tv_json_u64(j, r.days);
        tv_json_key(j, "set_by_root");
        tv_json_bool(j, r.set);
        tv_json_key(j, "purged");
        if (purged > 0)
            tv_json_string(j, w);
        else
            tv_json_null(j);
        tv_json_object_end(j);
    } else {
        printf("retention %u days%s; last purge: %s\n", r.days, r.set ? "" : " (the default)", w);
    }
    return TV_OK;
}

/* What status reads of the node in one read transaction. */
typedef struct status_data {
    const tv_node *n;
    const char *dir;
    store_txn *t;
    const enrolment *e;
    store_counts counts;
    store_size size;
    store_frontier own;
} status_data;

/* Writes the events by type, the batches and the origins as --json's members. */
static void status_json_counts(tv_json *j, const store_counts *counts)
{
    tv_json_key(j, "events");
    tv_json_object_begin(j);
    tv_json_key(j, "total");
    tv_json_u64(j, counts->events);
    for (uint32_t i = 1; i < STORE_EVENT_TYPES_MAX; i++) {
        const char *name = crdt_event_type_name(i);
        if (!name && !counts->by_type[i]) continue;
        char other[24];
        snprintf(other, sizeof other, "type_%u", i);
        tv_json_key(j, name ? name : other);
        tv_json_u64(j, counts->by_type[i]);
    }
    tv_json_key(j, "other");
    tv_json_u64(j, counts->by_type[0]);
    tv_json_object_end(j);
    tv_json_key(j, "batches");
    tv_json_u64(j, counts->batches);
    tv_json_key(j, "origins");
    tv_json_u64(j, counts->origins);
}

/* Writes the frontier, forks, resyncs, parked batches, waiting checkpoints and retention
 * as --json's members; returns 0 or the first error reading them. */
static int status_json_lists(tv_json *j, const status_data *d)
{
    status_ctx c = {.j = j, .self = d->n->id.pk};
    int rc;
    tv_json_key(j, "frontier");
    tv_json_array_begin(j);
    rc = store_frontier_foreach(d->t, status_frontier, &c);
    tv_json_array_end(j);
    tv_json_key(j, "forks");
    tv_json_array_begin(j);
    if (!rc) rc = store_forks_foreach(d->t, status_fork, j);
    tv_json_array_end(j);
    tv_json_key(j, "fork_origins");
    tv_json_array_begin(j);
    if (!rc) rc = store_fork_origins_foreach(d->t, status_fork_origin, j);
    tv_json_array_end(j);
    if (!rc) rc = status_resync(d->t, d->dir, j);
    tv_json_key(j, "parked");
    tv_json_array_begin(j);
    if (!rc) rc = store_parked_foreach(d->t, status_parked, j);
    tv_json_array_end(j);
    tv_json_key(j, "checkpoints_waiting");
    tv_json_array_begin(j);
    if (!rc) rc = store_checkpoints_waiting(d->t, status_ckpt_wait, j);
    tv_json_array_end(j);
    if (!rc) rc = status_retention(d->t, j);
    return rc;
}

/* Prints the status as one JSON object; returns 0 or the first error. */
static int status_json(const status_data *d)
{
    const tv_node *n = d->n;
    tv_json j;
    tv_json_init(&j, stdout);
    tv_json_object_begin(&j);
    tv_json_key(&j, "node_id");
    tv_json_hex(&j, n->id.pk, TV_NODE_ID_BYTES);
    tv_json_key(&j, "role");
    tv_json_string(&j, tv_role_name(n->role));
    tv_json_key(&j, "unit");
    tv_json_string(&j, n->unit);
    tv_json_key(&j, "name");
    tv_json_string(&j, n->name);
    tv_json_key(&j, "dir");
    tv_json_string(&j, d->dir);
    tv_json_key(&j, "own_seq");
    tv_json_u64(&j, d->own.seq);
    tv_json_key(&j, "pseudonym_key");
    tv_json_string(&j, n->unlocked ? tv_key_kind_name(n->tracing_kind) : "locked");
    enrolment_json(&j, d->e);
    status_json_counts(&j, &d->counts);
    int rc = status_json_lists(&j, d);
    tv_json_key(&j, "store");
    tv_json_object_begin(&j);
    tv_json_key(&j, "file_bytes");
    tv_json_u64(&j, d->size.file_bytes);
    tv_json_key(&j, "used_bytes");
    tv_json_u64(&j, d->size.used_bytes);
    tv_json_key(&j, "map_bytes");
    tv_json_u64(&j, d->size.map_bytes);
    tv_json_object_end(&j);
    tv_json_object_end(&j);
    if (!rc) rc = tv_json_line_end(&j);
    return rc;
}

/* Prints the status as text; returns 0 or the first error. rc is what reading the node's
 * own frontier returned: TV_ENOTFOUND (none yet) leaves the retention line out. */
static int status_text(const status_data *d, int rc)
{
    const tv_node *n = d->n;
    const store_counts *counts = &d->counts;
    status_ctx c = {.self = n->id.pk};
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, n->id.pk, TV_NODE_ID_BYTES);
    printf("node      %s\nrole      %s of unit %s (%s)\ndirectory %s\n", hex, tv_role_name(n->role),
           n->unit, tv_text_esc(n->name), tv_text_esc(d->dir));
    enrolment_text(d->e, n->id.pk);
    if (!n->unlocked)
        printf("pseudonyms (locked: run 'truyvet unlock' to see the key)\n");
    else
        printf("pseudonyms %s key%s%s\n", tv_key_kind_name(n->tracing_kind),
               n->tracing_kind == TV_KEY_COMMUNE ? " of " : "",
               n->tracing_kind == TV_KEY_COMMUNE ? n->tracing_unit : "");
    printf("events    %" PRIu64 " (", counts->events);
    const char *sep = "";
    for (uint32_t i = 1; i < STORE_EVENT_TYPES_MAX; i++) {
        if (!counts->by_type[i]) continue;
        const char *name = crdt_event_type_name(i);
        printf("%s%" PRIu64 " %s", sep, counts->by_type[i], name ? name : "other");
        sep = ", ";
    }
    printf(")\nbatches   %" PRIu64 " from %" PRIu64 " origin%s\n", counts->batches, counts->origins,
           counts->origins == 1 ? "" : "s");
    if (!rc) rc = status_retention(d->t, NULL);
    printf("store     %.1f MiB on disk (%.1f MiB used)\nfrontier\n",
           (double)d->size.file_bytes / (1 << 20), (double)d->size.used_bytes / (1 << 20));
    rc = store_frontier_foreach(d->t, status_frontier, &c);
    if (!rc) rc = store_forks_foreach(d->t, status_fork, NULL);
    if (!rc) rc = store_fork_origins_foreach(d->t, status_fork_origin, NULL);
    if (!rc) rc = status_resync(d->t, d->dir, NULL);
    if (!rc) rc = store_parked_foreach(d->t, status_parked, NULL);
    if (!rc) rc = store_checkpoints_waiting(d->t, status_ckpt_wait, NULL);
    return rc;
}

static int cmd_status(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_only(cli, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    status_data d = {.n = &n, .dir = cli->dir};
    if ((rc = store_size_get(n.st, &d.size)) || (rc = store_read_begin(n.st, &d.t))) {
        tv_node_close(&n);
        return tv_cli_fail(cli, rc, "cannot read the node's status");
    }
    enrolment *e = malloc(sizeof *e); /* a certificate's scope table is large */
    if (!e) {
        rc = TV_ENOMEM;
        goto out;
    }
    d.e = e;
    if ((rc = store_counts_get(d.t, &d.counts)) || (rc = enrolment_get(d.t, n.id.pk, e))) goto out;
    rc = store_frontier_get(d.t, n.id.pk, &d.own);
    if (rc && rc != TV_ENOTFOUND) goto out;
    rc = json ? status_json(&d) : status_text(&d, rc);
out:
    free(e);
    store_read_end(d.t);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot read the node's status") : TV_EXIT_OK;
}
