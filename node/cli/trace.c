/* `truyvet trace`: who shared a venue with a person, and where that person was. The
 * command parses its options, finds the case and its window, traces it with
 * node/logic/trace_case.h and writes the result with node/render/trace.h. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/format/timefmt.h"
#include "node/logic/health.h"
#include "node/logic/reveal.h"
#include "node/logic/trace_case.h"
#include "node/render/trace.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static int cmd_trace(tv_cli *cli, int argc, char **argv);

static const tv_opt trace_opts[] = {
    {.id = TV_O_PERSON,
     .help = "what the case's card QR holds, or a phone or ID number\n"
             "(--person is the same)"},
    {.id = TV_O_REF, .help = "the case's pseudonym (32 hex digits)"},
    {"--from, --to TIME", 0, NULL,
     "the infectious window: 'today', a date (2021-10-06, from its\n"
     "midnight, Vietnam time) or a time with its offset. Default:\n"
     "from the case's status ('truyvet case add'), two days before\n"
     "the onset (else the sample) until it was cleared, or now",
     TV_OPT_ARG, 0},
    {"depth", 'd', "1|2", "F1 only, or F1 and F2 (default 1)", 0, 0},
    {"min-overlap", 'm', "DUR",
     "the shortest shared time that counts (default 15m; 90s, 15m,\n"
     "2h)",
     0, 0},
    {"margin", 'M', "DUR", "widen the case's visits by this much on both sides (default 0)", 0, 0},
    {.id = TV_O_FORMAT,
     .help = "table (default), json (one object; --json is the same) or csv\n"
             "(the contact list for a spreadsheet: UTF-8 with a byte order\n"
             "mark, Vietnamese headers, one row per visit of the case and\n"
             "per shared visit; with --reveal also name, ID numbers, date\n"
             "of birth, address and phone)"},
    {.id = TV_O_REVEAL,
     .help = "show the case and every contact in full (name, phone, ID\n"
             "numbers, date of birth, address): only on a node of the\n"
             "health authority. Each full view is recorded in the log\n"
             "before anything is shown ('truyvet audit')"},
    {.id = TV_O_REASON, .help = "why (required with --reveal)"},
    {.name = "person", .id = TV_O_PERSON, .flags = TV_OPT_HIDDEN},
    {"from", 'f', "TIME", NULL, TV_OPT_HIDDEN, 0},
    {"to", 't', "TIME", NULL, TV_OPT_HIDDEN, 0},
    {.id = TV_O_JSON, .flags = TV_OPT_HIDDEN},
    {0}};

const tv_command tv_command_trace = {
    .name = "trace",
    .summary = "who shared a venue with a case (F1, F2), and where they were",
    .usage = "trace (--payload TEXT | --ref HEX) [--from TIME] [--to TIME]\n"
             "                              [--depth 1|2] [--min-overlap DURATION]\n"
             "                              [--margin DURATION] [--format table|json|csv]\n"
             "                              [--reveal --reason TEXT]",
    .about =
        "Trace a case on what this node holds: the venues they visited in the window (where\n"
        "to zone), everyone whose visit overlapped theirs at the same venue by at least\n"
        "--min-overlap (F1), ranked by the time shared, and with --depth 2 everyone who\n"
        "shared a venue with an F1 after that F1's first exposure (F2). Visits are the 'venue\n"
        "visits' view: repeat scans collapsed, missing check-outs inferred. People are shown\n"
        "masked. Then, for each commune the result touches, how fresh this node's copy of its\n"
        "log is, with a warning when it has not synced since the window began: contacts there\n"
        "after that are not seen.\n",
    .opts = trace_opts,
    .more = "Exit status: 0 when the trace ran (also when it found no visit in the window), 1\n"
            "when this node holds no record of the person at all (no person, scan or case\n"
            "status: a mistyped number, or a node below that has not synced) or the trace\n"
            "failed, 2 for a usage error.\n",
    .fn = cmd_trace,
    .col = 19,
};

/* "15m", "90s", "2h", or minutes alone. Returns ms, or -1. */
static int64_t duration_ms(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 0 || v > 24L * 60 * 60) return -1;
    if (*end == '\0' || strcmp(end, "m") == 0) return (int64_t)v * 60000;
    if (strcmp(end, "s") == 0) return (int64_t)v * 1000;
    if (strcmp(end, "h") == 0) return (int64_t)v * 3600000;
    return -1;
}

/* What the command line asks for, checked. */
typedef struct trace_req {
    const char *person, *refhex, *from, *to, *reason;
    int reveal, fmt; /* fmt: 0 table, 1 json, 2 csv */
    tv_trace_opts o;
} trace_req;

/* Opens the node and reads the case's pseudonym. Returns 0 with n open, or an exit status
 * after a message (n closed). */
static int trace_open(tv_cli *cli, const trace_req *q, tv_node *n, uint8_t ref[TV_PERSON_REF_BYTES])
{
    int rc = tv_cli_open(cli, n, q->reveal ? TV_NODE_WRITE : 0);
    if (rc) return rc;
    if (q->reveal && !tv_node_is_health(n)) {
        tv_node_close(n);
        tv_cli_error("this node cannot reveal identities: the details are sealed to the health "
                     "authority's nodes, and this node's certificate does not carry the health "
                     "flag. Nothing was traced.");
        return TV_EXIT_FAIL;
    }
    if ((rc = tv_cli_person_ref("trace", n, q->person, q->refhex, ref))) tv_node_close(n);
    return rc;
}

/* Checks that t knows the case, and sets the window from its status where --from was not
 * given. Returns 0, an exit status after a message, or an error (negative). */
static int trace_window(tv_node *n, store_txn *t, const uint8_t *ref, trace_req *q)
{
    int known = tv_trace_person_known(n, t, ref);
    if (known < 0) return known;
    if (known == 0) {
        char hex[2 * TV_PERSON_REF_BYTES + 1];
        tv_hex_encode(hex, ref, TV_PERSON_REF_BYTES);
        tv_cli_error("no record of this person (pseudonym %s) at this node: no check-in, no "
                     "person record and no case status. Check the number, or sync with the "
                     "nodes below first. Nothing was traced.",
                     hex);
        return TV_EXIT_FAIL;
    }
    if (!q->from) { /* the case's infectious window */
        int64_t from, to;
        int rc = tv_trace_case_window(n, t, ref, &from, &to);
        if (rc == TV_ENOTFOUND)
            return tv_cli_usage("trace", "this node holds no F0 status of this person to take the "
                                         "infectious window from: give --from, or add the case "
                                         "('truyvet case add').");
        if (rc) return rc;
        q->o.from_ms = from;
        if (!q->to && to != TV_WINDOW_OPEN) q->o.to_ms = to;
    }
    if (q->o.to_ms <= q->o.from_ms) return tv_cli_usage("trace", "--to must come after --from.");
    return 0;
}

/* Traces the case, reveals it when asked (recorded before anything is shown), and writes
 * it in the format asked with its warnings. Returns 0 or an error (negative). */
static int trace_show(tv_node *n, store_txn *t, const uint8_t *ref, const trace_req *q)
{
    tv_trace_case c;
    int rc = tv_trace_case_run(n, t, ref, &q->o, &c);
    if (rc == 0 && q->reveal && (rc = tv_trace_case_reveal(n, &c, q->reason)) == 0 && c.unrevealed)
        fprintf(stderr,
                "note: %zu of the %zu people could not be revealed here (no record, or "
                "sealed to other health nodes); they are shown masked.\n",
                c.unrevealed, c.r.ncontacts + 1);
    if (rc == 0) {
        if (q->fmt == 1)
            tv_render_trace_json(stdout, &c);
        else if (q->fmt == 2)
            tv_render_trace_csv(stdout, &c);
        else
            tv_render_trace_text(stdout, &c);
        tv_render_trace_warnings(stderr, &c);
        if (c.r.nvisits == 0)
            fprintf(stderr, "this node holds no visit of this person in the window: a "
                            "node below may not have synced yet, or the person was not "
                            "scanned here.\n");
    }
    tv_trace_case_free(&c);
    return rc;
}

static int trace_run(tv_cli *cli, trace_req *q)
{
    tv_node n;
    uint8_t ref[TV_PERSON_REF_BYTES];
    int rc = trace_open(cli, q, &n, ref);
    if (rc) return rc;
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        if ((rc = trace_window(&n, t, ref, q)) == 0) rc = trace_show(&n, t, ref, q);
        store_read_end(t);
    }
    tv_node_close(&n);
    return rc < 0 ? tv_cli_fail(cli, rc, "the trace failed") : rc;
}

static int cmd_trace(tv_cli *cli, int argc, char **argv)
{
    const char *person = NULL, *refhex = NULL, *from = NULL, *to = NULL, *reason = NULL;
    const char *depth = "1", *minov = "15m", *margin = "0", *format = "table";
    int c, reveal = 0;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'd':
            depth = optarg;
            break;
        case 'm':
            minov = optarg;
            break;
        case 'M':
            margin = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    person = ta.o.person;
    refhex = ta.o.ref;
    reveal = ta.o.reveal; /* with its --reason (command.c) */
    reason = ta.o.reason;
    if (ta.o.json)
        format = "json"; /* --format json (the later of the two stands) */
    else if (ta.o.format)
        format = ta.o.format;
    if (optind < argc) return tv_cli_usage("trace", "unexpected argument '%s'.", argv[optind]);
    if (!person == !refhex) return tv_cli_usage("trace", "give the case: --payload or --ref.");
    int fmt = strcmp(format, "table") == 0  ? 0
              : strcmp(format, "json") == 0 ? 1
              : strcmp(format, "csv") == 0  ? 2
                                            : -1;
    if (fmt < 0) return tv_cli_usage("trace", "--format is table, json or csv, not '%s'.", format);
    tv_trace_opts o = {.now_ms = tv_wall_ms()};
    if (from && tv_cli_when(from, &o.from_ms))
        return tv_cli_usage(
            "trace", "--from takes 'today', a date or a time with its offset, not '%s'.", from);
    o.to_ms = o.now_ms;
    if (to && tv_cli_when(to, &o.to_ms))
        return tv_cli_usage("trace",
                            "--to takes 'today', a date or a time with its offset, not '%s'.", to);
    if (strcmp(depth, "1") && strcmp(depth, "2"))
        return tv_cli_usage("trace", "--depth is 1 (F1) or 2 (F1 and F2), not '%s'.", depth);
    o.depth = depth[0] - '0';
    if ((o.min_overlap_ms = duration_ms(minov)) <= 0)
        return tv_cli_usage("trace", "--min-overlap takes a duration such as 15m, not '%s'.",
                            minov);
    if ((o.margin_ms = duration_ms(margin)) < 0)
        return tv_cli_usage("trace", "--margin takes a duration such as 5m, not '%s'.", margin);

    if (!reveal && reason) return tv_cli_usage("trace", "--reason goes with --reveal.");
    int rc;
    if (reason && (rc = tv_cli_text("trace", "reason", reason, CRDT_TEXT_BYTES_MAX))) return rc;

    trace_req q = {person, refhex, from, to, reason, reveal, fmt, o};
    return trace_run(cli, &q);
}
