/* `truyvet scan`: record one check-in or check-out, durably. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/format/csv.h"
#include "node/logic/downflow.h"
#include "node/logic/intake.h"
#include "node/render/json.h"
#include "node/logic/person.h"
#include "node/logic/presence.h"
#include "node/logic/record.h"
#include "node/logic/scan_input.h"
#include "node/format/timefmt.h"
#include "crdt/mp.h"

#include <errno.h>
#include <sodium.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int cmd_scan(tv_cli *cli, int argc, char **argv);

static const tv_opt scan_opts[] = {
    {.id = TV_O_VENUE},
    {"person", 'p', "TEXT",
     "what was scanned or typed: the QR of a chip ID card (CCCD) or\n"
     "of a health-insurance card (BHYT), a phone number\n"
     "(0912345678, +84912345678) or an ID number (12-digit CCCD,\n"
     "9-digit CMND). Stored: a pseudonym, a masked form\n"
     "(Nguyễn V** A, 09******78), and the details sealed to the\n"
     "health authority, once per person",
     TV_OPT_TEXT, 0},
    {"out", 'o', NULL, "a check-out instead of a check-in", 0, 0},
    {"at", 'a', "TIME",
     "when it happened, ISO 8601 with offset, e.g.\n"
     "2021-10-06T08:30:00+07:00, or day/month/year in Vietnam time,\n"
     "06/10/2021 08:30 (default: now). At most 10 minutes ahead of\n"
     "this node's clock, and not before 2020",
     0, 0},
    {"device", 'D', "LABEL", "the gate or phone that scanned, for the record", 0, 0},
    {.id = TV_O_JSON, .help = "print {\"id\", \"venue\", \"direction\", \"at\", \"person\"}"},
    {0}};

const tv_command tv_command_scan = {
    .name = "scan",
    .summary = "record one check-in or check-out",
    .usage = "scan --venue ID --person TEXT [--out] [--at TIME]\n"
             "                            [--device LABEL] [--json]",
    .about = "Record one check-in (or check-out with --out) at a venue of this commune, and print\n"
             "its event id once it is safely on disk. Nothing is printed if it was not recorded.\n",
    .opts = scan_opts,
    .more = NULL,
    .fn = cmd_scan,
    .col = 14,
};

/* The one scan's acknowledgement (tv_intake_settle). */
typedef struct scan_ack {
    int rc;
    uint64_t seq;
} scan_ack;

static void scan_acked(void *arg, uint64_t tag, int rc, uint64_t seq)
{
    (void)tag;
    scan_ack *a = arg;
    a->rc = rc;
    a->seq = seq;
}

/* Reads --person, --at and --device into a card and a time (tv_scan_input_parse); prints
 * why not and returns TV_EXIT_USAGE, else 0. */
static int scan_read_input(const char *person, const char *at, const char *device, tv_card *card,
                           int64_t *at_ms)
{
    tv_why why;
    if (tv_scan_input_parse(person, at, device, tv_wall_ms(), card, at_ms, &why))
        return tv_cli_usage("scan", "%s", why.en);
    return 0;
}

/* Records the one scan through the intake and waits for its acknowledgement, given only
 * after the commit; on failure the node's pending writes are discarded and the exit
 * status returned after the message. */
static int scan_record(tv_cli *cli, tv_node *n, tv_recorder *rec, const tv_scan_in *in,
                       tv_scan_done *sd, uint64_t *seq)
{
    int rc;
    tv_intake intake;
    scan_ack got = {.rc = TV_EINVAL};
    (void)tv_intake_init(&intake, rec);
    if ((rc = tv_intake_add(&intake, in, 0, sd)) == 0)
        rc = tv_intake_settle(&intake, scan_acked, &got);
    tv_intake_free(&intake);
    if (rc || (rc = got.rc)) {
        tv_node_discard(n);
        return tv_cli_fail(cli, rc, "the scan was NOT recorded");
    }
    *seq = got.seq;
    return 0;
}

/* Prints the recorded scan as --json's one object. */
static void scan_print_json(const tv_node *n, const store_venue *v, int out, const char *when,
                            const tv_scan_done *sd, uint64_t seq)
{
    char id[TV_EVENT_ID_STR_MAX];
    tv_event_id_format(id, n->id.pk, seq);
    tv_json j;
    tv_json_init(&j, stdout);
    tv_json_object_begin(&j);
    tv_json_key(&j, "id");
    tv_json_string(&j, id);
    tv_json_key(&j, "venue");
    tv_json_hex(&j, v->id, sizeof v->id);
    tv_json_key(&j, "direction");
    tv_json_string(&j, out ? "out" : "in");
    tv_json_key(&j, "at");
    tv_json_string(&j, when);
    tv_json_key(&j, "person");
    tv_json_string(&j, sd->masked);
    tv_json_key(&j, "new_person");
    tv_json_bool(&j, sd->new_person);
    tv_json_object_end(&j);
    tv_json_line_end(&j);
}

/* Prints the recorded scan's event id, and the clerk's confirmation in the gate's words
 * (station.c): a stop, a repeat counted once, or the scan, and the card's warning. */
static void scan_print_gate(tv_node *n, const store_venue *v, const tv_scan_in *in,
                            const tv_scan_done *sd, uint64_t seq, const char *when,
                            const char *warning)
{
    int out = in->out;
    tv_cli_print_event_id(n, seq);
    putchar('\n');
    tv_gate_mark m = {.status = -1};
    tv_opened op = {0};
    store_txn *t;
    int again = 0; /* a repeat by the station's and the views' rule: counted once */
    if (store_read_begin(n->st, &t) == 0) {
        tv_gate_mark_get(n, t, &op, sd->ref, &m);
        tv_scan_key k = {.person = sd->ref,
                         .venue = v->id,
                         .out = out,
                         .at_ms = in->at_ms,
                         .stored = 1,
                         .seq = seq};
        again = tv_scan_repeat(t, &k, TV_DEDUPE_WINDOW_MS_DEFAULT, NULL) == 1;
        store_read_end(t);
    }
    tv_opened_release(&op);
    const char *mark = tv_gate_mark_text(&m);
    if (tv_gate_stop(&m))
        fprintf(stderr, TV_GATE_STOP_WORD "  %s  %s  (đã ghi: %s tại %s, %s)\n",
                tv_text_esc(sd->masked), mark, out ? "ra" : "vào", tv_text_esc(v->name), when);
    else
        fprintf(stderr, "%s  %s  tại %s, %s%s%s\n",
                again ? (out ? "ĐÃ RA RỒI (lặp lại, tính một lượt)"
                             : "ĐÃ VÀO RỒI (lặp lại, tính một lượt)")
                      : (out ? "đã ra" : "đã vào"),
                tv_text_esc(sd->masked), tv_text_esc(v->name), when, mark ? "  " : "",
                mark ? mark : "");
    if (warning) fprintf(stderr, "cảnh báo: %s\n", tv_card_why_vi(warning));
}

static int cmd_scan(tv_cli *cli, int argc, char **argv)
{
    const char *venue = NULL, *person = NULL, *at = NULL, *device = NULL;
    int out = 0, json = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'p':
            person = optarg;
            break;
        case 'o':
            out = 1;
            break;
        case 'a':
            at = optarg;
            break;
        case 'D':
            device = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    venue = ta.o.venue;
    json = ta.o.json;
    if (optind < argc) return tv_cli_usage("scan", "unexpected argument '%s'.", argv[optind]);
    if (!venue || !person) return tv_cli_usage("scan", "scan needs --venue and --person.");
    tv_card card;
    int64_t at_ms;
    int rc;
    if ((rc = scan_read_input(person, at, device, &card, &at_ms))) return rc;
    const char *warning = card.warning; /* static */

    tv_node n;
    rc = tv_cli_open(cli, &n, TV_NODE_WRITE);
    if (rc) return rc;
    tv_recorder rec;
    int have_rec = 0;
    store_venue v;
    tv_why why;
    if ((rc = tv_scan_node_check(&n, &why)) || (rc = tv_cli_venue_find(&n, venue, &v)) ||
        (rc = tv_scan_venue_check(&n, &v, venue, &why))) {
        if (rc < 0) rc = tv_cli_why(rc, &why); /* else tv_cli_venue_find said why */
        goto done;
    }
    if ((rc = tv_recorder_init(&rec, &n))) {
        rc = tv_cli_fail(cli, rc, "the scan was NOT recorded");
        goto done;
    }
    have_rec = 1;
    tv_scan_in in = {.venue = &v,
                     .card = &card,
                     .out = out,
                     .at_ms = at ? at_ms : tv_wall_ms(),
                     .device = device};
    tv_scan_done sd;
    uint64_t seq = 0;
    if ((rc = scan_record(cli, &n, &rec, &in, &sd, &seq))) goto done;
    sodium_memzero(&card, sizeof card);
    char when[40];
    tv_time_format_vn(when, sizeof when, in.at_ms);
    if (json)
        scan_print_json(&n, &v, out, when, &sd, seq);
    else
        scan_print_gate(&n, &v, &in, &sd, seq, when, warning);
done:
    if (have_rec) tv_recorder_free(&rec);
    tv_node_close(&n);
    return rc;
}
