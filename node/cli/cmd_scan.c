/* `truyvet scan` and `truyvet import`: recording check-ins and check-outs durably. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/format/csv.h"
#include "node/logic/downflow.h"
#include "node/render/json.h"
#include "node/logic/person.h"
#include "node/logic/presence.h"
#include "node/logic/record.h"
#include "node/format/timefmt.h"
#include "crdt/mp.h"

#include <errno.h>
#include <sodium.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Rows made durable together by one commit during an import. */
#define IMPORT_COMMIT_ROWS 16384
/* Bad rows reported one by one; the rest are counted. */
#define IMPORT_ERRORS_SHOWN 100
/* each row is a scan, and a person event the first time the node meets the person */
_Static_assert(2 * IMPORT_COMMIT_ROWS <=
                   (uint64_t)TV_NODE_PENDING_BATCHES_MAX * CRDT_BATCH_EVENTS_MAX,
               "an import commit must fit the node's pending group");

static int cmd_scan(tv_cli *cli, int argc, char **argv);

static const tv_opt scan_opts[] = {
    {"venue", 'v', "ID", "the venue id (or a unique prefix of at least 4 digits)", 0, 0},
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

static int cmd_import(tv_cli *cli, int argc, char **argv);

static const tv_opt import_opts[] = {
    {"csv", 'c', "FILE", "the file to read (- for standard input)", 0, 0},
    {"ids", 'i', NULL, "print \"LINE<TAB>EVENT-ID\" for every row once it is on disk", 0, 0},
    {.id = TV_O_JSON, .help = "print a summary object at the end"},
    {0}};

const tv_command tv_command_import = {
    .name = "import",
    .summary = "record check-ins and check-outs from a CSV file",
    .usage = "import --csv FILE [--ids] [--json]",
    .about =
        "Record many check-ins and check-outs from a CSV file (UTF-8, comma- or semicolon-\n"
        "separated, as a spreadsheet saves it in a Vietnamese locale, BOM and CRLF too) whose\n"
        "header names the columns venue, person, direction, time (in any order; more columns\n"
        "may follow and are ignored):\n"
        "\n"
        "  venue,person,direction,time\n"
        "  3f2a9c0d11e4b7a8,0912345678,in,2021-10-06T08:30:00+07:00\n"
        "\n"
        "person is what a gate would read: a phone or ID number, or the text of a chip ID\n"
        "card's (CCCD) or health-insurance card's (BHYT) QR code (in double quotes when it\n"
        "holds commas). Details beyond the masked display are sealed to the health nodes,\n"
        "as at the gate. direction is in or out (vao/ra also accepted); time is ISO 8601\n"
        "with an offset, or day/month/year in Vietnam time (07/10/2021 08:00). A time more\n"
        "than 10 minutes ahead of this node's clock, or before 2020, is refused.\n"
        "Rows that cannot be recorded are reported with their line numbers and skipped; the\n"
        "others are kept. Rows are made durable in groups of 16,384; progress is shown when\n"
        "stderr is a terminal.\n",
    .opts = import_opts,
    .more = "Exit status: 0 when every row was recorded, 1 when some rows were rejected (the\n"
            "good ones are recorded) or the import stopped, 2 for a usage error.\n",
    .fn = cmd_import,
    .col = 10,
};

static void print_event_id(const tv_node *n, uint64_t seq)
{
    char id[TV_EVENT_ID_STR_MAX];
    tv_event_id_format(id, n->id.pk, seq);
    fputs(id, stdout);
}

/* Checks that this node records scans; prints why not. Checked before the venue is looked
 * up, so that a district or province node says so instead of "no venue with id". */
static int node_scans(const tv_node *n)
{
    if (n->role != TV_ROLE_COMMUNE) {
        tv_cli_error("scans are recorded at commune nodes; this is a %s node.",
                     tv_role_name(n->role));
        return TV_EXIT_FAIL;
    }
    return 0;
}

/* Checks that a venue may be scanned at this node; prints why not. */
static int venue_scannable(const tv_node *n, const store_venue *v, const char *text)
{
    if (node_scans(n)) return TV_EXIT_FAIL;
    if (strcmp(v->unit, n->unit) != 0) {
        tv_cli_error("venue %s is in unit %s, not in this node's unit %s.", text, v->unit, n->unit);
        return TV_EXIT_FAIL;
    }
    return 0;
}

/* Refuses --at TIME outside tv_scan_time_check's bounds; returns 0 or TV_EXIT_USAGE. */
static int scan_time_usage(const char *at, int64_t at_ms)
{
    char now[TV_TIME_STR_BYTES];
    int64_t now_ms = tv_wall_ms();
    int r = tv_scan_time_check(at_ms, now_ms);
    tv_time_format_vn(now, sizeof now, now_ms);
    if (r > 0)
        return tv_cli_usage("scan",
                            "--at %s is in the future: this node's clock says %s. A scan may "
                            "be at most 10 minutes ahead of it; check the date, or the clock.",
                            tv_text_esc(at), now);
    if (r < 0)
        return tv_cli_usage("scan", "--at %s is before 2020; check the date.", tv_text_esc(at));
    return 0;
}

static int cmd_scan(tv_cli *cli, int argc, char **argv)
{
    const char *venue = NULL, *person = NULL, *at = NULL, *device = NULL;
    int out = 0, json = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'v':
            venue = optarg;
            break;
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
    json = ta.o.json;
    if (optind < argc) return tv_cli_usage("scan", "unexpected argument '%s'.", argv[optind]);
    if (!venue || !person) return tv_cli_usage("scan", "scan needs --venue and --person.");
    tv_card card;
    const char *why;
    if (tv_card_parse(person, strlen(person), &card, &why))
        return tv_cli_usage("scan", "không đọc được mã '%s' (%s).", tv_text_esc(person),
                            tv_card_why_vi(why));
    const char *warning = card.warning; /* static */
    int64_t at_ms = 0;
    if (at && ((tv_time_parse(at, &at_ms) && tv_time_parse_vn_dmy(at, &at_ms)) ||
               !crdt_time_valid(at_ms)))
        return tv_cli_usage("scan",
                            "'%s' is not a time before 2200; write it like "
                            "2021-10-06T08:30:00+07:00 or 06/10/2021 08:30 (Vietnam time).",
                            tv_text_esc(at));
    int rc;
    if (at && (rc = scan_time_usage(at, at_ms))) return rc;
    if (device && (rc = tv_cli_text("scan", "device label", device, CRDT_DEVICE_BYTES_MAX)))
        return rc;

    tv_node n;
    rc = tv_cli_open(cli, &n, TV_NODE_WRITE);
    if (rc) return rc;
    tv_recorder rec;
    int have_rec = 0;
    store_venue v;
    if ((rc = node_scans(&n)) || (rc = tv_cli_venue_find(&n, venue, &v)) ||
        (rc = venue_scannable(&n, &v, venue)))
        goto done;
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
    uint64_t seq;
    if ((rc = tv_recorder_add(&rec, &in, &sd)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        rc = tv_cli_fail(cli, rc, "the scan was NOT recorded");
        goto done;
    }
    seq += sd.new_person; /* the person event comes first */
    sodium_memzero(&card, sizeof card);
    char when[40];
    tv_time_format_vn(when, sizeof when, in.at_ms);
    if (json) {
        char id[TV_EVENT_ID_STR_MAX];
        tv_event_id_format(id, n.id.pk, seq);
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "id");
        tv_json_string(&j, id);
        tv_json_key(&j, "venue");
        tv_json_hex(&j, v.id, sizeof v.id);
        tv_json_key(&j, "direction");
        tv_json_string(&j, out ? "out" : "in");
        tv_json_key(&j, "at");
        tv_json_string(&j, when);
        tv_json_key(&j, "person");
        tv_json_string(&j, sd.masked);
        tv_json_key(&j, "new_person");
        tv_json_bool(&j, sd.new_person);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    } else {
        print_event_id(&n, seq);
        putchar('\n');
        /* the clerk's confirmation, in the gate's words (cmd_station.c) */
        tv_gate_mark m = {.status = -1};
        tv_opened op = {0};
        store_txn *t;
        int again = 0; /* a repeat by the station's and the views' rule: counted once */
        if (store_read_begin(n.st, &t) == 0) {
            tv_gate_mark_get(&n, t, &op, sd.ref, &m);
            tv_scan_key k = {.person = sd.ref,
                             .venue = v.id,
                             .out = out,
                             .at_ms = in.at_ms,
                             .stored = 1,
                             .seq = seq};
            again = tv_scan_repeat(t, &k, TV_DEDUPE_WINDOW_MS_DEFAULT, NULL) == 1;
            store_read_end(t);
        }
        tv_opened_release(&op);
        const char *mark = tv_gate_mark_text(&m);
        if (tv_gate_stop(&m))
            fprintf(stderr, TV_GATE_STOP_WORD "  %s  %s  (đã ghi: %s tại %s, %s)\n",
                    tv_text_esc(sd.masked), mark, out ? "ra" : "vào", tv_text_esc(v.name), when);
        else
            fprintf(stderr, "%s  %s  tại %s, %s%s%s\n",
                    again ? (out ? "ĐÃ RA RỒI (lặp lại, tính một lượt)"
                                 : "ĐÃ VÀO RỒI (lặp lại, tính một lượt)")
                          : (out ? "đã ra" : "đã vào"),
                    tv_text_esc(sd.masked), tv_text_esc(v.name), when, mark ? "  " : "",
                    mark ? mark : "");
        if (warning) fprintf(stderr, "cảnh báo: %s\n", tv_card_why_vi(warning));
    }
done:
    if (have_rec) tv_recorder_free(&rec);
    tv_node_close(&n);
    return rc;
}

/* --- import ------------------------------------------------------------------------- */

enum { COL_VENUE, COL_PERSON, COL_DIRECTION, COL_TIME, COLS };
static const char *const col_names[COLS] = {"venue", "person", "direction", "time"};

/* Venues already looked up in this import (a small cache: a file names few venues). */
#define VENUE_CACHE_MAX 4096
typedef struct venue_cache {
    uint8_t id[VENUE_CACHE_MAX][TV_VENUE_ID_BYTES];
    uint8_t ok[VENUE_CACHE_MAX];
    size_t n;
} venue_cache;

typedef struct import_state {
    tv_cli *cli;
    tv_node n;
    venue_cache *cache;
    tv_recorder rec;
    uint64_t lines[IMPORT_COMMIT_ROWS];  /* line of each pending row */
    uint32_t events[IMPORT_COMMIT_ROWS]; /* its scan's place in the pending group */
    size_t pending;
    uint64_t recorded, rejected, warned;
    int ids, progress;
    long long file_bytes;
    int64_t now_ms; /* the node's clock when the import started */
} import_state;

static void reject(import_state *s, uint64_t line, const char *fmt, const char *arg)
{
    if (s->rejected++ < IMPORT_ERRORS_SHOWN) {
        fprintf(stderr, "truyvet: line %llu: ", (unsigned long long)line);
        fprintf(stderr, fmt, tv_text_esc(arg)); /* the file's text: escaped */
        fputc('\n', stderr);
    }
}

/* Looks a venue up (through the cache); returns 1 when it may be scanned here. */
static int venue_ok(import_state *s, const char *text, uint64_t line)
{
    uint8_t id[TV_VENUE_ID_BYTES];
    if (tv_hex_decode(id, sizeof id, text)) {
        reject(s, line, "'%s' is not a venue id (16 hex digits)", text);
        return 0;
    }
    venue_cache *c = s->cache;
    for (size_t i = 0; i < c->n; i++)
        if (memcmp(c->id[i], id, sizeof id) == 0) {
            if (!c->ok[i]) reject(s, line, "venue %s is not registered at this commune", text);
            return c->ok[i];
        }
    store_txn *t;
    store_venue v;
    int ok = 0;
    if (store_read_begin(s->n.st, &t) == 0) {
        ok = store_venue_get(t, id, &v) == 0 && strcmp(v.unit, s->n.unit) == 0;
        store_read_end(t);
    }
    if (c->n < VENUE_CACHE_MAX) {
        memcpy(c->id[c->n], id, sizeof id);
        c->ok[c->n++] = (uint8_t)ok;
    }
    if (!ok) reject(s, line, "venue %s is not registered at this commune", text);
    return ok;
}

static int parse_direction(const char *d)
{
    if (strcasecmp(d, "in") == 0 || strcasecmp(d, "vao") == 0 || strcmp(d, "vào") == 0 ||
        strcmp(d, "Vào") == 0)
        return CRDT_DIR_IN;
    if (strcasecmp(d, "out") == 0 || strcasecmp(d, "ra") == 0) return CRDT_DIR_OUT;
    return -1;
}

static int flush(import_state *s)
{
    if (s->pending == 0) return 0;
    uint64_t seq;
    int rc = tv_node_commit(&s->n, &seq);
    if (rc) { /* the pending group was emptied */
        (void)tv_recorder_discarded(&s->rec);
        return rc;
    }
    if ((rc = tv_recorder_committed(&s->rec))) return rc;
    if (s->ids) {
        for (size_t i = 0; i < s->pending; i++) {
            printf("%llu\t", (unsigned long long)s->lines[i]);
            print_event_id(&s->n, seq + s->events[i]);
            putchar('\n');
        }
        if (fflush(stdout) != 0) return TV_EIO;
    }
    s->recorded += s->pending;
    s->pending = 0;
    return 0;
}

static void show_progress(import_state *s, const tv_csv *csv, int final)
{
    if (!s->progress) return;
    if (s->file_bytes > 0) {
        double pct = 100.0 * (double)tv_csv_offset(csv) / (double)s->file_bytes;
        fprintf(stderr, "\rimporting: %llu recorded, %llu rejected, %.0f%%",
                (unsigned long long)s->recorded, (unsigned long long)s->rejected,
                pct > 100 ? 100 : pct);
    } else {
        fprintf(stderr, "\rimporting: %llu recorded, %llu rejected",
                (unsigned long long)s->recorded, (unsigned long long)s->rejected);
    }
    if (final) fputc('\n', stderr);
}

/* Maps header names to column positions; returns 0 or prints why not. */
static int read_header(tv_csv *csv, size_t col[COLS])
{
    const char *const *f;
    size_t nf;
    uint64_t line;
    int rc = tv_csv_next(csv, &f, &nf, &line);
    if (rc != 1) {
        tv_cli_error("the file is empty or its first line cannot be read; it must start with "
                     "the header venue,person,direction,time.");
        return TV_EXIT_FAIL;
    }
    for (int k = 0; k < COLS; k++) {
        col[k] = SIZE_MAX;
        for (size_t i = 0; i < nf; i++) {
            const char *name = f[i];
            while (*name == ' ')
                name++;
            if (strncasecmp(name, col_names[k], strlen(col_names[k])) == 0 &&
                name[strlen(col_names[k])] == '\0')
                col[k] = i;
        }
        if (col[k] == SIZE_MAX) {
            tv_cli_error("the header (line %llu) has no column '%s'; it must name the columns "
                         "venue,person,direction,time.",
                         (unsigned long long)line, col_names[k]);
            return TV_EXIT_FAIL;
        }
    }
    return 0;
}

static int import_row(import_state *s, const char *const *f, size_t nf, const size_t col[COLS],
                      uint64_t line)
{
    for (int k = 0; k < COLS; k++)
        if (col[k] >= nf || f[col[k]][0] == '\0') {
            reject(s, line, "the %s column is empty", col_names[k]);
            return 0;
        }
    if (!venue_ok(s, f[col[COL_VENUE]], line)) return 0;
    int dir = parse_direction(f[col[COL_DIRECTION]]);
    if (dir < 0) {
        reject(s, line, "direction '%s' is neither in nor out", f[col[COL_DIRECTION]]);
        return 0;
    }
    int64_t at;
    if ((tv_time_parse(f[col[COL_TIME]], &at) && tv_time_parse_vn_dmy(f[col[COL_TIME]], &at)) ||
        !crdt_time_valid(at)) {
        reject(s, line,
               "'%s' is not a time such as 2021-10-06T08:30:00+07:00 or 06/10/2021 08:30 "
               "(day/month/year, Vietnam time)",
               f[col[COL_TIME]]);
        return 0;
    }
    int when = tv_scan_time_check(at, s->now_ms);
    if (when) {
        reject(s, line,
               when > 0 ? "the time '%s' is in the future (more than 10 minutes after this "
                          "node's clock)"
                        : "the time '%s' is before 2020",
               f[col[COL_TIME]]);
        return 0;
    }
    const char *person = f[col[COL_PERSON]], *why;
    int ascii = 1; /* phone and ID numbers: nothing to compose */
    for (const char *p = person; *p && ascii; p++)
        ascii = (unsigned char)*p < 0x80;
    char *nfc = ascii ? NULL : tv_text_nfc(person); /* a name in a card's text, decomposed */
    tv_card card;
    int bad = tv_card_parse(nfc ? nfc : person, strlen(nfc ? nfc : person), &card, &why);
    if (nfc) {
        sodium_memzero(nfc, strlen(nfc));
        free(nfc);
    }
    if (bad) {
        reject(s, line, "the person cannot be read: %s", why);
        return 0;
    }
    if (card.warning && s->warned++ < IMPORT_ERRORS_SHOWN) /* the rest is faulty, left out */
        fprintf(stderr, "truyvet: line %llu: the card is read by its number alone: %s\n",
                (unsigned long long)line, card.warning);
    store_venue v = {0}; /* the recorder needs only the id */
    (void)tv_hex_decode(v.id, sizeof v.id, f[col[COL_VENUE]]);
    tv_scan_in in = {.venue = &v,
                     .card = &card,
                     .out = dir == CRDT_DIR_OUT,
                     .at_ms = at,
                     .method = CRDT_METHOD_IMPORT};
    tv_scan_done sd;
    int rc = tv_recorder_add(&s->rec, &in, &sd);
    sodium_memzero(&card, sizeof card);
    if (rc) {
        reject(s, line, "the scan is not valid (%s)", tv_strerror(rc));
        return 0;
    }
    s->lines[s->pending] = line;
    s->events[s->pending++] = (uint32_t)(tv_node_pending(&s->n) - 1);
    return 0;
}

static int cmd_import(tv_cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    int ids = 0, json = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'i':
            ids = 1;
            break;
        }
    }
    if (c < 0) return ta.status;
    json = ta.o.json;
    if (optind < argc) return tv_cli_usage("import", "unexpected argument '%s'.", argv[optind]);
    if (!path) return tv_cli_usage("import", "import needs --csv FILE.");
    FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!fp) {
        tv_cli_error("cannot open %s: %s.", path, strerror(errno));
        return TV_EXIT_FAIL;
    }
    import_state *s = calloc(1, sizeof *s);
    venue_cache *cache = calloc(1, sizeof *cache);
    tv_csv *csv = NULL;
    int rc = TV_EXIT_FAIL;
    if (!s || !cache || tv_csv_open(&csv, fp)) {
        tv_cli_error("out of memory.");
        goto close_file;
    }
    tv_csv_detect_separator(csv); /* ';' from a spreadsheet in a Vietnamese locale */
    s->cli = cli;
    s->cache = cache;
    s->ids = ids;
    s->progress = isatty(STDERR_FILENO);
    s->now_ms = tv_wall_ms();
    if (fp != stdin) {
        fseek(fp, 0, SEEK_END);
        s->file_bytes = ftell(fp);
        fseek(fp, 0, SEEK_SET);
    }
    if ((rc = tv_cli_open(cli, &s->n, TV_NODE_WRITE))) goto close_file;
    if ((rc = tv_recorder_init(&s->rec, &s->n))) {
        rc = tv_cli_fail(cli, rc, "the import did not start");
        goto close_node;
    }
    if (s->n.role != TV_ROLE_COMMUNE) {
        tv_cli_error("scans are recorded at commune nodes; this is a %s node.",
                     tv_role_name(s->n.role));
        rc = TV_EXIT_FAIL;
        goto close_node;
    }
    size_t col[COLS];
    if ((rc = read_header(csv, col))) goto close_node;
    const char *const *f;
    size_t nf;
    uint64_t line;
    int r, failed = 0;
    while ((r = tv_csv_next(csv, &f, &nf, &line)) != 0) {
        if (r < 0) {
            if (r == TV_ELIMIT) {
                reject(s, line, "%s",
                       "the row is too long (a field over 4096 bytes or over "
                       "64 fields)");
                continue;
            }
            if (r == TV_EIO) break; /* reported below, from ferror(fp) */
            /* TV_EDECODE is confined to its row (text after a closing quote, a NUL byte),
             * or, for a quote never closed, the row took the rest of the file and the
             * next call ends the loop; either way the rows after it are still read. */
            reject(s, line, "%s",
                   "the row is not valid CSV: text after a closing quote, a NUL byte, or "
                   "a quote that is never closed (then the rest of the file is part of "
                   "this row)");
            continue;
        }
        import_row(s, f, nf, col, line);
        if (s->pending == IMPORT_COMMIT_ROWS) {
            if ((r = flush(s))) {
                failed = r;
                break;
            }
            show_progress(s, csv, 0);
        }
    }
    if (!failed && (r = flush(s))) failed = r;
    show_progress(s, csv, 1);
    if (ferror(fp)) {
        tv_cli_error("reading %s failed: %s; the rows read before were recorded.", path,
                     strerror(errno));
        failed = failed ? failed : TV_EIO;
    }
    if (s->rejected > IMPORT_ERRORS_SHOWN)
        tv_cli_error("... and %llu more rejected rows.",
                     (unsigned long long)(s->rejected - IMPORT_ERRORS_SHOWN));
    if (failed) {
        char what[128];
        snprintf(what, sizeof what, "the import stopped after %llu recorded rows",
                 (unsigned long long)s->recorded);
        rc = tv_cli_fail(cli, failed, what);
    } else {
        rc = s->rejected ? TV_EXIT_FAIL : TV_EXIT_OK;
    }
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "recorded");
        tv_json_u64(&j, s->recorded);
        tv_json_key(&j, "rejected");
        tv_json_u64(&j, s->rejected);
        tv_json_key(&j, "complete");
        tv_json_bool(&j, !failed);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    }
    fprintf(stderr, "recorded %llu scan%s from %s; %llu row%s rejected\n",
            (unsigned long long)s->recorded, s->recorded == 1 ? "" : "s", path,
            (unsigned long long)s->rejected, s->rejected == 1 ? "" : "s");
close_node:
    tv_recorder_free(&s->rec);
    tv_node_close(&s->n);
close_file:
    tv_csv_free(csv);
    if (fp != stdin) fclose(fp);
    free(cache);
    free(s);
    return rc;
}
