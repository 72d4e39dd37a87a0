/* `truyvet import`: record check-ins and check-outs from a CSV file, durably. */
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

/* --- import ------------------------------------------------------------------------- */

/* the name flush() calls it by (cli.c) */
static void print_event_id(const tv_node *n, uint64_t seq)
{
    tv_cli_print_event_id(n, seq);
}

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
    tv_intake in;     /* the pending rows, tagged with their lines */
    uint64_t settled; /* rows of the last commit acknowledged */
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

/* The acknowledgement of a pending row (tv_intake_settle): its id, once on disk. */
static void import_ack(void *arg, uint64_t line, int rc, uint64_t seq)
{
    import_state *s = arg;
    if (rc) return; /* the commit failed: flush says so */
    s->settled++;
    if (s->ids) {
        printf("%llu\t", (unsigned long long)line);
        print_event_id(&s->n, seq);
        putchar('\n');
    }
}

static int flush(import_state *s)
{
    if (tv_intake_queued(&s->in) == 0) return 0;
    s->settled = 0;
    int rc = tv_intake_settle(&s->in, import_ack, s);
    if (rc) return rc;
    if (s->ids && fflush(stdout) != 0) return TV_EIO;
    s->recorded += s->settled;
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
    int rc = tv_intake_add(&s->in, &in, line, &sd);
    sodium_memzero(&card, sizeof card);
    if (rc) reject(s, line, "the scan is not valid (%s)", tv_strerror(rc));
    return 0;
}

/* Sets up the state of an import reading fp: the file's size for progress, the clock. */
static void import_begin(import_state *s, tv_cli *cli, venue_cache *cache, FILE *fp, int ids)
{
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
}

/* Reads the rows after the header, each taken or rejected, committing them in groups of
 * IMPORT_COMMIT_ROWS; returns 0, or the error that stopped the import. */
static int import_rows(import_state *s, tv_csv *csv, const size_t col[COLS])
{
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
        if (tv_intake_queued(&s->in) == IMPORT_COMMIT_ROWS) {
            if ((r = flush(s))) {
                failed = r;
                break;
            }
            show_progress(s, csv, 0);
        }
    }
    if (!failed && (r = flush(s))) failed = r;
    return failed;
}

/* Tells how the import ended: a read error, the rejected rows not shown, the error that
 * stopped it, --json's summary and the counts. Returns the exit status. */
static int import_end(import_state *s, tv_csv *csv, FILE *fp, const char *path, int failed,
                      int json)
{
    int rc;
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
        rc = tv_cli_fail(s->cli, failed, what);
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
    return rc;
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
    import_begin(s, cli, cache, fp, ids);
    if ((rc = tv_cli_open(cli, &s->n, TV_NODE_WRITE))) goto close_file;
    if ((rc = tv_recorder_init(&s->rec, &s->n))) {
        rc = tv_cli_fail(cli, rc, "the import did not start");
        goto close_node;
    }
    (void)tv_intake_init(&s->in, &s->rec);
    if (s->n.role != TV_ROLE_COMMUNE) {
        tv_cli_error("scans are recorded at commune nodes; this is a %s node.",
                     tv_role_name(s->n.role));
        rc = TV_EXIT_FAIL;
        goto close_node;
    }
    size_t col[COLS];
    if ((rc = read_header(csv, col))) goto close_node;
    int failed = import_rows(s, csv, col);
    rc = import_end(s, csv, fp, path, failed, json);
close_node:
    tv_intake_free(&s->in);
    tv_recorder_free(&s->rec);
    tv_node_close(&s->n);
close_file:
    tv_csv_free(csv);
    if (fp != stdin) fclose(fp);
    free(cache);
    free(s);
    return rc;
}
