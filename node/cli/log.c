/* `truyvet log`: every event the node holds. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/render/event_json.h"
#include "node/render/json.h"
#include "node/logic/resync.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int cmd_log(tv_cli *cli, int argc, char **argv);

static const tv_opt log_opts[] = {{.id = TV_O_JSON}, {0}};

const tv_command tv_command_log = {
    .name = "log",
    .summary = "every event the node holds",
    .usage = "log [--json]",
    .about =
        "Every event the node holds, origin by origin in log order. With --json, one JSON\n"
        "object per line: id (as printed by scan), origin, seq, type, hlc, time and the\n"
        "event's fields; events of types this version does not know carry their bytes as\n"
        "\"raw\" (hex). A cert event's fields are its certificate's (subject, issuer, role,\n"
        "unit, scope, health, flags, not_before, not_after); a revoke event's are subject and\n"
        "reason.\n",
    .opts = log_opts,
    .more = NULL,
    .fn = cmd_log,
    .col = 0,
};

/* --- log ---------------------------------------------------------------------------- */

typedef struct log_ctx {
    int json;
    int err;
    crdt_cert *cert; /* scratch for decoding cert events (large) */
} log_ctx;

/* The text form of an event about a person (a scan, the person's masked details and
 * sealed ones, a reveal, a case status, a hold); returns 0 for another type. */
static int log_person_text(const crdt_event *ev)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    switch (ev->type) {
    case CRDT_EV_SCAN: {
        const crdt_scan *s = &ev->u.scan;
        tv_hex_encode(hex, s->venue, TV_VENUE_ID_BYTES);
        printf("  %-3s venue %s  %s", s->direction == CRDT_DIR_IN ? "in" : "out", hex,
               tv_text_esc_n(s->masked.p, s->masked.n));
        return 1;
    }
    case CRDT_EV_PERSON: {
        const crdt_person *p = &ev->u.person;
        tv_hex_encode(hex, p->person, TV_PERSON_REF_BYTES);
        printf("  person %.16s  %s  %s", hex, tv_text_esc_n(p->name_masked.p, p->name_masked.n),
               tv_text_esc_n(p->id_masked.p, p->id_masked.n));
        return 1;
    }
    case CRDT_EV_SEALED:
        tv_hex_encode(hex, ev->u.sealed.tag, CRDT_SEALED_TAG_BYTES);
        printf("  for %s  (%u bytes sealed)", hex, ev->u.sealed.len);
        return 1;
    case CRDT_EV_REVEAL:
        tv_hex_encode(hex, ev->u.reveal.person, TV_PERSON_REF_BYTES);
        printf("  person %.16s  %s", hex,
               tv_text_esc_n(ev->u.reveal.reason.p, ev->u.reveal.reason.n));
        return 1;
    case CRDT_EV_CASE_STATUS:
        tv_hex_encode(hex, ev->u.cstatus.person, TV_PERSON_REF_BYTES);
        printf("  person %.16s  %s  unit %.*s", hex, crdt_case_status_name(ev->u.cstatus.status),
               (int)ev->u.cstatus.unit.n, ev->u.cstatus.unit.p);
        return 1;
    case CRDT_EV_HOLD:
        tv_hex_encode(hex, ev->u.hold.person, TV_PERSON_REF_BYTES);
        printf("  person %.16s  %s  %s", hex,
               ev->u.hold.action == CRDT_HOLD_PLACE ? "placed" : "lifted",
               tv_text_esc_n(ev->u.hold.reason.p, ev->u.hold.reason.n));
        return 1;
    }
    return 0;
}

/* The text form of an event about a venue or a unit (a venue, its controllers and
 * reminders, a unit, its risk level); returns 0 for another type. */
static int log_place_text(const crdt_event *ev)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    switch (ev->type) {
    case CRDT_EV_VENUE_UPSERT:
        tv_hex_encode(hex, ev->u.venue.venue, TV_VENUE_ID_BYTES);
        printf("  venue %s  %s", hex, tv_text_esc_n(ev->u.venue.name.p, ev->u.venue.name.n));
        return 1;
    case CRDT_EV_CONTROLLER_ADD:
    case CRDT_EV_CONTROLLER_REMOVE:
        tv_hex_encode(hex, ev->u.controller.venue, TV_VENUE_ID_BYTES);
        printf("  venue %s  %s", hex,
               tv_text_esc_n(ev->u.controller.phone.p, ev->u.controller.phone.n));
        return 1;
    case CRDT_EV_VENUE_REMINDER: {
        const crdt_reminder *r = &ev->u.reminder;
        tv_hex_encode(hex, r->venue, TV_VENUE_ID_BYTES);
        printf("  venue %s  %s%s%s", hex, r->action == CRDT_REINSTATE ? "reinstate" : "remind",
               r->note.n ? "  " : "", tv_text_esc_n(r->note.p, r->note.n));
        return 1;
    }
    case CRDT_EV_UNIT:
        printf("  unit %.*s \"%s\" under %.*s", (int)ev->u.unit.code.n, ev->u.unit.code.p,
               tv_text_esc_n(ev->u.unit.name.p, ev->u.unit.name.n), (int)ev->u.unit.parent.n,
               ev->u.unit.parent.p);
        return 1;
    case CRDT_EV_RISK_LEVEL: {
        char w[TV_TIME_STR_BYTES];
        tv_time_format_vn(w, sizeof w, ev->u.risk.from_ms);
        printf("  unit %.*s  level %u from %s%s%s", (int)ev->u.risk.unit.n, ev->u.risk.unit.p,
               ev->u.risk.level, w, ev->u.risk.note.n ? "  " : "",
               tv_text_esc_n(ev->u.risk.note.p, ev->u.risk.note.n));
        return 1;
    }
    }
    return 0;
}

/* The text form of an event about the nodes and the log (a certificate, a revocation, a
 * key granted, the retention, a checkpoint); returns 0 for another type. */
static int log_trust_text(log_ctx *c, const crdt_event *ev)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    switch (ev->type) {
    case CRDT_EV_CERT:
        if (crdt_cert_open(c->cert, ev->u.cert.cert, ev->u.cert.len) == TV_OK) {
            tv_hex_encode(hex, c->cert->subject, TV_NODE_ID_BYTES);
            printf("  node %.16s: ", hex);
            tv_render_cert_text(stdout, c->cert);
        } else {
            printf("  (a certificate that does not verify, %zu bytes)", ev->u.cert.len);
        }
        return 1;
    case CRDT_EV_REVOKE:
        tv_hex_encode(hex, ev->u.revoke.subject, TV_NODE_ID_BYTES);
        printf("  node %s%s%s", hex, ev->u.revoke.reason.n ? "  " : "",
               tv_text_esc_n(ev->u.revoke.reason.p, ev->u.revoke.reason.n));
        return 1;
    case CRDT_EV_KEY_GRANT:
        tv_hex_encode(hex, ev->u.grant.subject, TV_NODE_ID_BYTES);
        printf("  key of commune %.*s for node %.16s", (int)ev->u.grant.unit.n, ev->u.grant.unit.p,
               hex);
        return 1;
    case CRDT_EV_RETENTION:
        printf("  %u days", ev->u.retention.days);
        return 1;
    case CRDT_EV_CHECKPOINT:
        if (ev->u.checkpoint.copy) {
            printf("  copy of seq %" PRIu64 " (%zu bytes)", ev->u.checkpoint.seq,
                   ev->u.checkpoint.event_len);
            return 1;
        }
        tv_hex_encode(hex, ev->u.checkpoint.hash, TV_HASH_BYTES);
        printf("  the log before seq %" PRIu64 " is dropped (batch %.16s)",
               ev->u.checkpoint.upto + 1, hex);
        return 1;
    }
    return 0;
}

/* The text form of a known event's fields, after its id, time and type; the size of one
 * this version does not know. */
static void log_fields_text(log_ctx *c, const crdt_event *ev)
{
    if (log_person_text(ev) || log_place_text(ev) || log_trust_text(c, ev)) return;
    printf("  (%zu bytes)", ev->raw_len);
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
        if (ev->known) tv_event_fields_json(&j, ev, c->cert, tv_render_cert_fields_json);
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

static int cmd_log(tv_cli *cli, int argc, char **argv)
{
    log_ctx c = {0};
    int rc = tv_cli_json_only(cli, argc, argv, &c.json);
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
