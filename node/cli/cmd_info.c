/* `truyvet status`, `truyvet log` and `truyvet verify`: what the node holds, and whether
 * it is intact. */
#include "crdt/error.h"
#include "node/logic/category.h"
#include "node/cli/cli.h"
#include "node/render/event_json.h"
#include "node/render/json.h"
#include "node/logic/resync.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char status_help[] =
    "Usage: truyvet [-d DIR] status [--json]\n"
    "\n"
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
    "node) or \"none\" (a district without the health flag).\n";

static const char log_help[] =
    "Usage: truyvet [-d DIR] log [--json]\n"
    "\n"
    "Every event the node holds, origin by origin in log order. With --json, one JSON\n"
    "object per line: id (as printed by scan), origin, seq, type, hlc, time and the\n"
    "event's fields; events of types this version does not know carry their bytes as\n"
    "\"raw\" (hex). A cert event's fields are its certificate's (subject, issuer, role,\n"
    "unit, scope, health, flags, not_before, not_after); a revoke event's are subject and\n"
    "reason.\n";

static const char verify_help[] =
    "Usage: truyvet [-d DIR] verify [--json]\n"
    "\n"
    "Re-check every stored batch: its origin's signature, its body hash, its events, and\n"
    "that each origin's batches form one unbroken hash chain ending at the frontier.\n"
    "Exit status 0 when there is no fault; 1 when there are faults (each one is named).\n";

/* Parses [--json] [--help]; returns -1 after printing help, 0 to go on, else an exit. */
static int parse_json_only(const char *cmd, const char *help, int argc, char **argv, int *json)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    *json = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'j')
            *json = 1;
        else if (c == 'h') {
            fputs(help, stdout);
            return -1;
        } else {
            return tv_cli_bad_option(cmd, c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage(cmd, "unexpected argument '%s'.", argv[optind]);
    return 0;
}

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

int tv_cmd_status(tv_cli *cli, int argc, char **argv)
{
    int json, rc = parse_json_only("status", status_help, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_txn *t;
    store_counts counts;
    store_size size;
    store_frontier own;
    if ((rc = store_size_get(n.st, &size)) || (rc = store_read_begin(n.st, &t))) {
        tv_node_close(&n);
        return tv_cli_fail(cli, rc, "cannot read the node's status");
    }
    enrolment *e = malloc(sizeof *e); /* a certificate's scope table is large */
    if (!e) {
        rc = TV_ENOMEM;
        goto out;
    }
    if ((rc = store_counts_get(t, &counts)) || (rc = enrolment_get(t, n.id.pk, e))) goto out;
    rc = store_frontier_get(t, n.id.pk, &own);
    if (rc && rc != TV_ENOTFOUND) goto out;
    status_ctx c = {.self = n.id.pk};
    if (json) {
        tv_json j;
        c.j = &j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "node_id");
        tv_json_hex(&j, n.id.pk, TV_NODE_ID_BYTES);
        tv_json_key(&j, "role");
        tv_json_string(&j, tv_role_name(n.role));
        tv_json_key(&j, "unit");
        tv_json_string(&j, n.unit);
        tv_json_key(&j, "name");
        tv_json_string(&j, n.name);
        tv_json_key(&j, "dir");
        tv_json_string(&j, cli->dir);
        tv_json_key(&j, "own_seq");
        tv_json_u64(&j, own.seq);
        tv_json_key(&j, "pseudonym_key");
        tv_json_string(&j, n.unlocked ? tv_key_kind_name(n.tracing_kind) : "locked");
        enrolment_json(&j, e);
        tv_json_key(&j, "events");
        tv_json_object_begin(&j);
        tv_json_key(&j, "total");
        tv_json_u64(&j, counts.events);
        for (uint32_t i = 1; i < STORE_EVENT_TYPES_MAX; i++) {
            const char *name = crdt_event_type_name(i);
            if (!name && !counts.by_type[i]) continue;
            char other[24];
            snprintf(other, sizeof other, "type_%u", i);
            tv_json_key(&j, name ? name : other);
            tv_json_u64(&j, counts.by_type[i]);
        }
        tv_json_key(&j, "other");
        tv_json_u64(&j, counts.by_type[0]);
        tv_json_object_end(&j);
        tv_json_key(&j, "batches");
        tv_json_u64(&j, counts.batches);
        tv_json_key(&j, "origins");
        tv_json_u64(&j, counts.origins);
        tv_json_key(&j, "frontier");
        tv_json_array_begin(&j);
        rc = store_frontier_foreach(t, status_frontier, &c);
        tv_json_array_end(&j);
        tv_json_key(&j, "forks");
        tv_json_array_begin(&j);
        if (!rc) rc = store_forks_foreach(t, status_fork, &j);
        tv_json_array_end(&j);
        tv_json_key(&j, "fork_origins");
        tv_json_array_begin(&j);
        if (!rc) rc = store_fork_origins_foreach(t, status_fork_origin, &j);
        tv_json_array_end(&j);
        if (!rc) rc = status_resync(t, cli->dir, &j);
        tv_json_key(&j, "parked");
        tv_json_array_begin(&j);
        if (!rc) rc = store_parked_foreach(t, status_parked, &j);
        tv_json_array_end(&j);
        tv_json_key(&j, "checkpoints_waiting");
        tv_json_array_begin(&j);
        if (!rc) rc = store_checkpoints_waiting(t, status_ckpt_wait, &j);
        tv_json_array_end(&j);
        if (!rc) rc = status_retention(t, &j);
        tv_json_key(&j, "store");
        tv_json_object_begin(&j);
        tv_json_key(&j, "file_bytes");
        tv_json_u64(&j, size.file_bytes);
        tv_json_key(&j, "used_bytes");
        tv_json_u64(&j, size.used_bytes);
        tv_json_key(&j, "map_bytes");
        tv_json_u64(&j, size.map_bytes);
        tv_json_object_end(&j);
        tv_json_object_end(&j);
        if (!rc) rc = tv_json_line_end(&j);
    } else {
        char hex[2 * TV_NODE_ID_BYTES + 1];
        tv_hex_encode(hex, n.id.pk, TV_NODE_ID_BYTES);
        printf("node      %s\nrole      %s of unit %s (%s)\ndirectory %s\n", hex,
               tv_role_name(n.role), n.unit, tv_text_esc(n.name), tv_text_esc(cli->dir));
        enrolment_text(e, n.id.pk);
        if (!n.unlocked)
            printf("pseudonyms (locked: run 'truyvet unlock' to see the key)\n");
        else
            printf("pseudonyms %s key%s%s\n", tv_key_kind_name(n.tracing_kind),
                   n.tracing_kind == TV_KEY_COMMUNE ? " of " : "",
                   n.tracing_kind == TV_KEY_COMMUNE ? n.tracing_unit : "");
        printf("events    %" PRIu64 " (", counts.events);
        const char *sep = "";
        for (uint32_t i = 1; i < STORE_EVENT_TYPES_MAX; i++) {
            if (!counts.by_type[i]) continue;
            const char *name = crdt_event_type_name(i);
            printf("%s%" PRIu64 " %s", sep, counts.by_type[i], name ? name : "other");
            sep = ", ";
        }
        printf(")\nbatches   %" PRIu64 " from %" PRIu64 " origin%s\n", counts.batches,
               counts.origins, counts.origins == 1 ? "" : "s");
        if (!rc) rc = status_retention(t, NULL);
        printf("store     %.1f MiB on disk (%.1f MiB used)\nfrontier\n",
               (double)size.file_bytes / (1 << 20), (double)size.used_bytes / (1 << 20));
        rc = store_frontier_foreach(t, status_frontier, &c);
        if (!rc) rc = store_forks_foreach(t, status_fork, NULL);
        if (!rc) rc = store_fork_origins_foreach(t, status_fork_origin, NULL);
        if (!rc) rc = status_resync(t, cli->dir, NULL);
        if (!rc) rc = store_parked_foreach(t, status_parked, NULL);
        if (!rc) rc = store_checkpoints_waiting(t, status_ckpt_wait, NULL);
    }
out:
    free(e);
    store_read_end(t);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot read the node's status") : TV_EXIT_OK;
}

/* --- log ---------------------------------------------------------------------------- */

typedef struct log_ctx {
    int json;
    int err;
    crdt_cert *cert; /* scratch for decoding cert events (large) */
} log_ctx;

/* The text form of a known event's fields, after its id, time and type. */
static void log_fields_text(log_ctx *c, const crdt_event *ev)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    switch (ev->type) {
    case CRDT_EV_SCAN: {
        const crdt_scan *s = &ev->u.scan;
        tv_hex_encode(hex, s->venue, TV_VENUE_ID_BYTES);
        printf("  %-3s venue %s  %s", s->direction == CRDT_DIR_IN ? "in" : "out", hex,
               tv_text_esc_n(s->masked.p, s->masked.n));
        break;
    }
    case CRDT_EV_VENUE_UPSERT:
        tv_hex_encode(hex, ev->u.venue.venue, TV_VENUE_ID_BYTES);
        printf("  venue %s  %s", hex, tv_text_esc_n(ev->u.venue.name.p, ev->u.venue.name.n));
        break;
    case CRDT_EV_CERT:
        if (crdt_cert_open(c->cert, ev->u.cert.cert, ev->u.cert.len) == TV_OK) {
            tv_hex_encode(hex, c->cert->subject, TV_NODE_ID_BYTES);
            printf("  node %.16s: ", hex);
            tv_cli_cert_text(stdout, c->cert);
        } else {
            printf("  (a certificate that does not verify, %zu bytes)", ev->u.cert.len);
        }
        break;
    case CRDT_EV_REVOKE:
        tv_hex_encode(hex, ev->u.revoke.subject, TV_NODE_ID_BYTES);
        printf("  node %s%s%s", hex, ev->u.revoke.reason.n ? "  " : "",
               tv_text_esc_n(ev->u.revoke.reason.p, ev->u.revoke.reason.n));
        break;
    case CRDT_EV_CONTROLLER_ADD:
    case CRDT_EV_CONTROLLER_REMOVE:
        tv_hex_encode(hex, ev->u.controller.venue, TV_VENUE_ID_BYTES);
        printf("  venue %s  %s", hex,
               tv_text_esc_n(ev->u.controller.phone.p, ev->u.controller.phone.n));
        break;
    case CRDT_EV_VENUE_REMINDER: {
        const crdt_reminder *r = &ev->u.reminder;
        tv_hex_encode(hex, r->venue, TV_VENUE_ID_BYTES);
        printf("  venue %s  %s%s%s", hex, r->action == CRDT_REINSTATE ? "reinstate" : "remind",
               r->note.n ? "  " : "", tv_text_esc_n(r->note.p, r->note.n));
        break;
    }
    case CRDT_EV_PERSON: {
        const crdt_person *p = &ev->u.person;
        tv_hex_encode(hex, p->person, TV_PERSON_REF_BYTES);
        printf("  person %.16s  %s  %s", hex, tv_text_esc_n(p->name_masked.p, p->name_masked.n),
               tv_text_esc_n(p->id_masked.p, p->id_masked.n));
        break;
    }
    case CRDT_EV_REVEAL:
        tv_hex_encode(hex, ev->u.reveal.person, TV_PERSON_REF_BYTES);
        printf("  person %.16s  %s", hex,
               tv_text_esc_n(ev->u.reveal.reason.p, ev->u.reveal.reason.n));
        break;
    case CRDT_EV_KEY_GRANT:
        tv_hex_encode(hex, ev->u.grant.subject, TV_NODE_ID_BYTES);
        printf("  key of commune %.*s for node %.16s", (int)ev->u.grant.unit.n, ev->u.grant.unit.p,
               hex);
        break;
    case CRDT_EV_UNIT:
        printf("  unit %.*s \"%s\" under %.*s", (int)ev->u.unit.code.n, ev->u.unit.code.p,
               tv_text_esc_n(ev->u.unit.name.p, ev->u.unit.name.n), (int)ev->u.unit.parent.n,
               ev->u.unit.parent.p);
        break;
    case CRDT_EV_RISK_LEVEL: {
        char w[TV_TIME_STR_BYTES];
        tv_time_format_vn(w, sizeof w, ev->u.risk.from_ms);
        printf("  unit %.*s  level %u from %s%s%s", (int)ev->u.risk.unit.n, ev->u.risk.unit.p,
               ev->u.risk.level, w, ev->u.risk.note.n ? "  " : "",
               tv_text_esc_n(ev->u.risk.note.p, ev->u.risk.note.n));
        break;
    }
    case CRDT_EV_CASE_STATUS:
        tv_hex_encode(hex, ev->u.cstatus.person, TV_PERSON_REF_BYTES);
        printf("  person %.16s  %s  unit %.*s", hex, crdt_case_status_name(ev->u.cstatus.status),
               (int)ev->u.cstatus.unit.n, ev->u.cstatus.unit.p);
        break;
    case CRDT_EV_SEALED:
        tv_hex_encode(hex, ev->u.sealed.tag, CRDT_SEALED_TAG_BYTES);
        printf("  for %s  (%u bytes sealed)", hex, ev->u.sealed.len);
        break;
    case CRDT_EV_RETENTION:
        printf("  %u days", ev->u.retention.days);
        break;
    case CRDT_EV_CHECKPOINT:
        if (ev->u.checkpoint.copy) {
            printf("  copy of seq %" PRIu64 " (%zu bytes)", ev->u.checkpoint.seq,
                   ev->u.checkpoint.event_len);
            break;
        }
        tv_hex_encode(hex, ev->u.checkpoint.hash, TV_HASH_BYTES);
        printf("  the log before seq %" PRIu64 " is dropped (batch %.16s)",
               ev->u.checkpoint.upto + 1, hex);
        break;
    case CRDT_EV_HOLD:
        tv_hex_encode(hex, ev->u.hold.person, TV_PERSON_REF_BYTES);
        printf("  person %.16s  %s  %s", hex,
               ev->u.hold.action == CRDT_HOLD_PLACE ? "placed" : "lifted",
               tv_text_esc_n(ev->u.hold.reason.p, ev->u.hold.reason.n));
        break;
    default:
        printf("  (%zu bytes)", ev->raw_len);
        break;
    }
}

static void log_event(log_ctx *c, const crdt_batch *b, uint64_t seq, const crdt_event *ev)
{
    char id[TV_EVENT_ID_STR_MAX], when[40];
    tv_event_id_format(id, b->h.origin, seq);
    tv_cli_hlc_time(when, sizeof when, ev->hlc);
    const char *type = crdt_event_type_name(ev->type);
    if (c->json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "id");
        tv_json_string(&j, id);
        tv_json_key(&j, "origin");
        tv_json_hex(&j, b->h.origin, TV_NODE_ID_BYTES);
        tv_json_key(&j, "seq");
        tv_json_u64(&j, seq);
        tv_json_key(&j, "type");
        if (type)
            tv_json_string(&j, type);
        else
            tv_json_u64(&j, ev->type);
        char hlc[24]; /* a string: HLCs exceed the 2^53 that JSON readers hold exactly */
        snprintf(hlc, sizeof hlc, "%" PRIu64, ev->hlc);
        tv_json_key(&j, "hlc");
        tv_json_string(&j, hlc);
        tv_json_key(&j, "time");
        tv_json_string(&j, when);
        tv_json_key(&j, "fields");
        tv_json_object_begin(&j);
        if (ev->known) tv_event_fields_json(&j, ev, c->cert, tv_cli_cert_fields_json);
        tv_json_object_end(&j);
        if (!ev->known) {
            tv_json_key(&j, "raw");
            tv_json_hex(&j, ev->raw, ev->raw_len);
        }
        tv_json_object_end(&j);
        if (tv_json_line_end(&j)) c->err = TV_EIO;
        return;
    }
    printf("%s  %s  %-12s", id, when, type ? type : "unknown");
    if (ev->known)
        log_fields_text(c, ev);
    else
        printf("  (type %u, %zu bytes)", ev->type, ev->raw_len);
    putchar('\n');
}

static int log_batch(const uint8_t *buf, size_t len, void *arg)
{
    log_ctx *c = arg;
    crdt_batch b;
    /* the store verified this batch on apply; `verify` re-checks signatures */
    int rc = crdt_batch_open(&b, buf, len);
    if (rc) return rc == TV_ESIG || rc == TV_EHASH ? TV_ECORRUPT : rc;
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    crdt_event ev;
    uint64_t seq = b.h.first_seq;
    while ((rc = crdt_batch_iter_next(&it, &ev)) == 1 && !c->err)
        log_event(c, &b, seq++, &ev);
    crdt_batch_iter_release(&it);
    if (c->err) return c->err;
    return rc < 0 ? TV_ECORRUPT : 0;
}

int tv_cmd_log(tv_cli *cli, int argc, char **argv)
{
    log_ctx c = {0};
    int rc = parse_json_only("log", log_help, argc, argv, &c.json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_txn *t;
    if (!(c.cert = malloc(sizeof *c.cert)))
        rc = TV_ENOMEM;
    else if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = store_batches_foreach(t, log_batch, &c);
        store_read_end(t);
    }
    free(c.cert);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot read the log") : TV_EXIT_OK;
}

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

int tv_cmd_verify(tv_cli *cli, int argc, char **argv)
{
    verify_ctx c = {0};
    int rc = parse_json_only("verify", verify_help, argc, argv, &c.json);
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
