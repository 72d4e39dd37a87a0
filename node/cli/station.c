/* `truyvet station`: the gate. Reads one scanned payload per line (what a USB/HID QR
 * reader types), records it, and answers each line with one line a guard reads at a
 * glance.
 *
 * A line is answered only once its scan is durable. Lines that are already waiting when
 * one is read are recorded together in one commit (a reader typing one code at a time
 * gets one commit per code; a pipe of thousands gets a few commits), then answered in
 * order. Bad input never stops the station: it answers KHÔNG ĐỌC ĐƯỢC MÃ and reads on.
 *
 * The answers are the guard's, in Vietnamese. A person the node knows as a confirmed case
 * (F0), a close contact (F1) or under a hold is answered with a stop (TV_GATE_STOP_WORD,
 * then the reason): the scan is still recorded as the gate's direction (a check-in at an
 * entrance), because it is a fact -- the person was at the gate at that time -- and
 * tracing, which keeps the longer exposure when in doubt, counts them there. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/downflow.h"
#include "node/logic/health.h"
#include "node/render/json.h"
#include "node/logic/gate.h"
#include "node/logic/presence.h"
#include "node/logic/record.h"
#include "node/logic/scan_input.h"
#include "node/format/timefmt.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_BYTES TV_CARD_TEXT_MAX
#define GROUP_MAX 4096 /* lines recorded in one commit, at most */
#define READ_CHUNK 65536

static int cmd_station(tv_cli *cli, int argc, char **argv);

static const tv_opt station_opts[] = {
    {.id = TV_O_VENUE, .help = "the venue (or a unique prefix of at least 4 digits)"},
    {"out", 'o', NULL, "the gate records check-outs", 0, 0},
    {"window", 'w', "MIN",
     "scans of one person within this many minutes count as one\n"
     "check-in (default 5)",
     0, 0},
    {"device", 'D', "LABEL", "the gate's name, kept with each scan", 0, 0},
    {.id = TV_O_JSON,
     .help = "one JSON object per input line: line, result (ok, already,\n"
             "unreadable, suspended, failed), id, person, direction, at,\n"
             "status, stop (true: the person is stopped), warning, reason"},
    {0}};

const tv_command tv_command_station = {
    .name = "station",
    .summary = "the gate: record what a QR reader scans, answer each line",
    .usage = "station --venue ID [--out] [--window MIN] [--device LABEL]\n"
             "                               [--json]",
    .about =
        "Record what a QR reader at a venue's gate scans: one payload per line on standard\n"
        "input (a chip ID card's or a health-insurance card's QR, a truyvet personal card,\n"
        "a phone or ID number typed, or a self check-in relayed by a phone: the venue's\n"
        "poster code, a space, then the person's code), and answer each line on standard\n"
        "output, once it is safely on disk, in the guard's words:\n"
        "\n"
        "  OK  ... đã vào 08:00:00   recorded (đã ra with --out); the masked name, and the\n"
        "                            person's colour (VÀNG — F2) when the node knows one\n"
        "  DỪNG — KHÔNG VÀO  ...     recorded, but the person must not come in: a confirmed\n"
        "                            case (ĐỎ — F0), a close contact (CAM — F1) or under a\n"
        "                            hold of the health authority; the reason follows\n"
        "  ĐÃ VÀO RỒI  ...           recorded, but a repeat: the person's previous scan was a\n"
        "                            check-in here within the window (ĐÃ RA RỒI with --out);\n"
        "                            the views count one check-in. A check-out in between\n"
        "                            makes a return a new check-in\n"
        "  (cảnh báo: ...)           after a recorded line: a chip ID card read by its number\n"
        "                            although another field is faulty, and what\n"
        "  KHÔNG ĐỌC ĐƯỢC MÃ (why)   nothing recorded: the payload is not a card or number, or\n"
        "                            a personal card that does not verify under a certificate\n"
        "                            held here (forged, altered, or from an unknown or revoked\n"
        "                            issuer)\n"
        "  ĐIỂM ĐÃ BỊ TẠM DỪNG (why) nothing recorded: the venue has 3 reminders and no scan\n"
        "                            since; the commune reinstates it (venue reinstate)\n"
        "  CHƯA GHI ĐƯỢC (why)       the store failed: ổ đĩa đầy (a full disk) or lỗi ghi dữ\n"
        "                            liệu (another error); the line can be scanned again. After\n"
        "                            an input/output error the station stops (exit status 1)\n"
        "\n"
        "The station runs until the end of input or SIGTERM/SIGINT, and exits 0 then.\n",
    .opts = station_opts,
    .more = NULL,
    .fn = cmd_station,
    .col = 14,
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    stop_flag = sig; /* which one: a SIGINT is passed on (tv_cli_signal_exit) */
}

/* A line reader over read(2) that can tell whether another whole line is already here. */
typedef struct reader {
    int fd;
    char *buf;
    size_t len, off;
    int eof;
    uint64_t line;
} reader;

/* Reads more input; waits only when `wait`. Returns 1 read something, 0 nothing (or end
 * of input, or a stop), -1 error. */
static int fill(reader *r, int wait)
{
    if (r->eof || stop_flag) return 0;
    if (!wait) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0) return 0;
    }
    if (r->off > 0) {
        memmove(r->buf, r->buf + r->off, r->len - r->off);
        r->len -= r->off;
        r->off = 0;
    }
    if (r->len == LINE_MAX_BYTES + READ_CHUNK) return 1; /* full: a long line, handled below */
    ssize_t n = read(r->fd, r->buf + r->len, LINE_MAX_BYTES + READ_CHUNK - r->len);
    if (n < 0) return errno == EINTR ? 0 : -1;
    if (n == 0) r->eof = 1;
    r->len += (size_t)n;
    return n > 0;
}

/* The next whole line (without its end), if one is here: 1 yes (*too_long when it was cut
 * at LINE_MAX_BYTES, the rest skipped), 0 no. At end of input a last unterminated line
 * counts as whole. */
static int next_line(reader *r, char **line, size_t *len, int *too_long)
{
    *too_long = 0;
    char *start = r->buf + r->off;
    size_t avail = r->len - r->off;
    char *nl = memchr(start, '\n', avail);
    if (!nl && avail > LINE_MAX_BYTES) {
        /* too long: answer it now, skip the rest up to its end later */
        *line = start;
        *len = LINE_MAX_BYTES;
        *too_long = 1;
        r->off = r->len; /* drop what is here; skip_rest eats the remainder */
        r->line++;
        return 1;
    }
    if (!nl && !(r->eof && avail > 0)) return 0;
    size_t n = nl ? (size_t)(nl - start) : avail;
    r->off += nl ? n + 1 : n;
    if (n > 0 && start[n - 1] == '\r') n--;
    start[n] = '\0';
    *line = start;
    *len = n;
    r->line++;
    return 1;
}

typedef struct station {
    tv_node n;
    tv_gate_group g; /* the lines read and not yet answered (node/logic/gate.h) */
    store_venue v;
    int out, json;
} station;

/* Prints a line's answer as one JSON object; when and id are set when it was recorded. */
static void print_answer_json(const station *st, const tv_gate_answer *a, uint64_t line,
                              int recorded, const char *when, const char *id)
{
    tv_json j;
    tv_json_init(&j, stdout);
    tv_json_object_begin(&j);
    tv_json_key(&j, "line");
    tv_json_u64(&j, line);
    tv_json_key(&j, "result");
    tv_json_string(&j, tv_gate_result_name(a->res));
    if (recorded) {
        tv_json_key(&j, "id");
        tv_json_string(&j, id);
        tv_json_key(&j, "person");
        tv_json_string(&j, a->masked);
        tv_json_key(&j, "direction");
        tv_json_string(&j, st->out ? "out" : "in");
        tv_json_key(&j, "at");
        tv_json_string(&j, when);
        tv_json_key(&j, "status");
        if (a->mark.status >= 0)
            tv_json_string(&j, crdt_case_status_name((uint32_t)a->mark.status));
        else
            tv_json_null(&j);
        tv_json_key(&j, "stop");
        tv_json_bool(&j, tv_gate_stop(&a->mark));
        tv_json_key(&j, "warning");
        if (a->warning)
            tv_json_string(&j, tv_card_why_vi(a->warning));
        else
            tv_json_null(&j);
    } else {
        tv_json_key(&j, "reason");
        tv_json_string(&j, a->why ? a->why : "");
    }
    tv_json_object_end(&j);
    tv_json_line_end(&j);
}

/* Prints a line's answer for the guard, in the gate's words; when is set when it was
 * recorded. */
static void print_answer_text(const station *st, const tv_gate_answer *a, char *when)
{
    const char *mark = tv_gate_mark_text(&a->mark);
    const char *dir = st->out ? "đã ra" : "đã vào";
    switch (a->res) {
    case TV_GATE_OK:
    case TV_GATE_ALREADY:
        when[19] = '\0'; /* the time of day, 08:00:00, without its offset */
        if (tv_gate_stop(&a->mark))
            printf(TV_GATE_STOP_WORD "  %s  %s  (đã ghi: %s %s)", tv_text_esc(a->masked), mark,
                   st->out ? "ra" : "vào", when + 11);
        else if (a->res == TV_GATE_OK)
            printf("OK  %s  %s %s%s%s", tv_text_esc(a->masked), dir, when + 11, mark ? "  " : "",
                   mark ? mark : "");
        else
            printf("%s  %s%s%s", st->out ? "ĐÃ RA RỒI" : "ĐÃ VÀO RỒI", tv_text_esc(a->masked),
                   mark ? "  " : "", mark ? mark : "");
        if (a->warning) printf("  (cảnh báo: %s)", tv_card_why_vi(a->warning));
        putchar('\n');
        break;
    case TV_GATE_UNREADABLE:
        printf("KHÔNG ĐỌC ĐƯỢC MÃ (%s)\n", a->why);
        break;
    case TV_GATE_SUSPENDED:
        printf("ĐIỂM ĐÃ BỊ TẠM DỪNG (%s)\n", a->why);
        break;
    case TV_GATE_FAILED:
        printf("CHƯA GHI ĐƯỢC (%s)\n", a->why);
        break;
    }
}

static void print_answer(station *st, const tv_gate_answer *a)
{
    char when[40] = "", id[TV_EVENT_ID_STR_MAX] = "";
    int recorded = a->res == TV_GATE_OK || a->res == TV_GATE_ALREADY;
    if (recorded) {
        tv_time_format_vn(when, sizeof when, a->at_ms);
        tv_event_id_format(id, st->n.id.pk, a->seq);
    }
    if (st->json)
        print_answer_json(st, a, a->tag, recorded, when, id);
    else
        print_answer_text(st, a, when);
}

/* Commits the group, then answers every line of it. Returns 0, or a store error after
 * the lines were answered NOT RECORDED. */
static int settle(station *st)
{
    if (st->g.nans == 0) return 0;
    int rc = tv_gate_settle(&st->g);
    for (size_t i = 0; i < st->g.nans; i++)
        print_answer(st, &st->g.ans[i]);
    tv_gate_reset(&st->g);
    if (fflush(stdout) != 0) return TV_EIO;
    return rc == TV_ENOSPC || rc == TV_ESTORE ? 0 : rc; /* a full disk: answered, go on */
}

/* Reads --window MINUTES; returns 0, or TV_EXIT_USAGE after a message. */
static int window_option(const char *arg, long *window_min)
{
    char *end;
    errno = 0;
    *window_min = strtol(arg, &end, 10);
    if (errno || *end || *window_min < 0 || *window_min > 24 * 60)
        return tv_cli_usage("station", "--window takes minutes, 0 to 1440.");
    return 0;
}

/* Checks that this node records scans and that the venue is one of its unit's; prints
 * why not and returns the exit status, else 0 with st->v read. */
static int station_venue(station *st, const char *venue)
{
    tv_why why;
    int rc;
    if ((rc = tv_scan_node_check(&st->n, &why))) return tv_cli_why(rc, &why);
    if ((rc = tv_cli_venue_find(&st->n, venue, &st->v))) return rc;
    if ((rc = tv_scan_venue_check(&st->n, &st->v, venue, &why))) return tv_cli_why(rc, &why);
    return 0;
}

/* Stops on SIGTERM and SIGINT between reads, and greets the clerk at a terminal. */
static void station_greet(const station *st)
{
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: read returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "Trạm quét tại %s (ghi lượt %s): quét từng mã; Ctrl-D để kết thúc.\n",
                tv_text_esc(st->v.name), st->out ? "ra" : "vào");
}

/* Takes lines until the input ends or a signal stops it, making each group durable and
 * answering it when it is full or nothing more is at hand. Returns 0, an exit status
 * after a message, or a store error. */
static int station_loop(station *st, reader *r)
{
    int rc = 0;
    int skipping = 0; /* inside a too-long line: drop input up to its end */
    while (!stop_flag) {
        char *line;
        size_t len;
        int too_long;
        int got = next_line(r, &line, &len, &too_long);
        if (got && skipping) { /* the tail of a long line */
            if (!too_long) skipping = 0;
            r->line--;
            continue;
        }
        if (got) {
            if (too_long) skipping = 1;
            if (len == 0 && !too_long) continue; /* an empty line: nothing scanned */
            tv_gate_take(&st->g, &st->v, st->out, line, len, too_long, r->line, tv_wall_ms());
            if (!tv_gate_full(&st->g)) continue;
        } else if (fill(r, 0) > 0) {
            continue; /* more lines at hand: they join the group */
        }
        /* the group is full, or nothing more is at hand: make it durable, answer, wait */
        if ((rc = settle(st))) break;
        if (r->eof && r->off >= r->len) break;
        if (r->off < r->len && memchr(r->buf + r->off, '\n', r->len - r->off)) continue;
        int more = fill(r, 1);
        if (more < 0) {
            tv_cli_error("reading standard input failed: %s.", strerror(errno));
            rc = TV_EXIT_FAIL;
            break;
        }
    }
    return rc;
}

static int cmd_station(tv_cli *cli, int argc, char **argv)
{
    const char *venue = NULL, *device = NULL;
    long window_min = 5;
    int out = 0, json = 0, c, rc;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'o':
            out = 1;
            break;
        case 'w':
            if ((rc = window_option(optarg, &window_min))) return rc;
            break;
        case 'D':
            device = optarg;
            break;
        }
    }
    if (c < 0) return ta.status;
    venue = ta.o.venue;
    json = ta.o.json;
    if (optind < argc) return tv_cli_usage("station", "unexpected argument '%s'.", argv[optind]);
    if (!venue) return tv_cli_usage("station", "station needs --venue.");
    if (device && (rc = tv_cli_text("station", "device label", device, CRDT_DEVICE_BYTES_MAX)))
        return rc;

    station *st = calloc(1, sizeof *st);
    reader r = {.fd = STDIN_FILENO, .buf = malloc(LINE_MAX_BYTES + READ_CHUNK + 1)};
    if (!st || !r.buf) {
        free(st);
        free(r.buf);
        return tv_cli_fail(cli, TV_ENOMEM, "the station did not start");
    }
    st->out = out;
    st->json = json;
    rc = tv_cli_open(cli, &st->n, TV_NODE_WRITE);
    if (rc) goto free_only;
    if ((rc = station_venue(st, venue))) goto close;
    if ((rc = tv_gate_group_init(&st->g, &st->n, GROUP_MAX, window_min * 60 * 1000, device))) {
        rc = tv_cli_fail(cli, rc, "the station did not start");
        goto close;
    }
    station_greet(st);
    rc = station_loop(st, &r);
    if (rc == 0) rc = settle(st); /* a stop in the middle: what was read is answered */
    if (rc > 0) rc = TV_EXIT_FAIL;
    if (rc < 0) rc = tv_cli_fail(cli, rc, "the station stopped");
    tv_gate_group_free(&st->g);
close:
    tv_node_close(&st->n);
free_only:
    free(r.buf);
    free(st);
    tv_cli_signal_exit(stop_flag);
    return rc;
}
