/* `truyvet bundle export|import`: carrying signed batches between nodes on a USB stick.
 * Each command parses its options, chooses or applies the batches with
 * node/logic/export.h and import.h, says what happens as it goes, and writes the summary
 * with node/render/bundle.h. */
#include "crdt/error.h"
#include "crdt/ids.h"
#include "node/format/bundle.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/downflow.h"
#include "node/logic/export.h"
#include "node/logic/import.h"
#include "node/render/bundle.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Refused batches reported one by one; the rest are counted. */
#define BUNDLE_REFUSALS_SHOWN 100
/* An origin on the command line: a prefix of its node id at least as long as event ids
 * print, so that what a clerk copies from `log` or `status` is enough. */
#define ORIGIN_PREFIX_MIN TV_EVENT_ID_ORIGIN_HEX

static int cmd_export(tv_cli *cli, int argc, char **argv);

static const tv_opt export_opts[] = {
    {.id = TV_O_OUT, .help = "the bundle to write (replaced if it exists)"},
    {"origin", 'O', "NODEID",
     "only the batches of this origin: its node id (64 hex digits) or a\n"
     "unique prefix of at least 16 digits, as event ids show it; may be\n"
     "given several times",
     0, 0},
    {.id = TV_O_JSON, .help = "print a summary object {file, batches, events, origins, bytes}"},
    {"for", 'f', "NODEID",
     "only what that node should hold (its partition) and lacked when the\n"
     "two last synced (all it should hold if they never did; what was\n"
     "sent during that sync may be included again); NODEID: 64 hex digits",
     0, 0},
    {0}};

static const tv_command bundle_export_cmd = {
    .name = "export",
    .summary = "write the node's batches to a bundle file",
    .usage = "bundle export --out FILE [--origin NODEID]... [--for NODEID]\n"
             "                                      [--json]",
    .about = "Write every batch the node holds (its own and those received from other nodes), or\n"
             "only those of the given origins, to the bundle FILE, origin by origin in log order,\n"
             "so that the receiving node can apply them as it reads. FILE is written as FILE.tmp\n"
             "and renamed when complete and on disk: it is never left half-written. A summary is\n"
             "printed on standard error.\n",
    .opts = export_opts,
    .more = "The importing node recognises batches it already holds and skips them.\n",
    .fn = cmd_export,
    .col = 15,
};

static int cmd_import(tv_cli *cli, int argc, char **argv);

static const tv_opt import_opts[] = {
    {.id = TV_O_JSON,
     .help = "print a summary object {records, accepted, events, duplicates, refused,\n"
             "gaps, damaged, missing_records, complete}"},
    {0}};

static const tv_command bundle_import_cmd = {
    .name = "import",
    .summary = "apply the batches of a bundle file",
    .usage = "bundle import FILE [--json]",
    .about = "Read the bundle FILE (- for standard input) and apply its batches to this node\n"
             "through the same checks as batches received over the network: each batch's\n"
             "signature, body hash and events, and that it continues its origin's log. Batches\n"
             "are made durable in groups of 64 (or 8 MiB); progress is shown when standard error\n"
             "is a terminal.\n"
             "\n"
             "Each record of the file carries a checksum. A damaged record is reported and\n"
             "skipped, and reading resumes at the next intact record; batches that verify are\n"
             "kept whatever else the file holds. A batch whose predecessor in its origin's log\n"
             "was damaged cannot be applied: it is reported as refused after a gap, and a later\n"
             "intact bundle from the same node fills it in.\n"
             "\n"
             "Reported on standard error: batches accepted, batches already held, batches refused\n"
             "(each with its record number, origin, seq and why), and damaged parts of the file.\n",
    .opts = import_opts,
    .more = "Exit status: 0 when every batch in the file was accepted or already held; 1 when\n"
            "part of the file was damaged or a batch was refused (the good batches are kept) or\n"
            "the import stopped; 2 for a usage error.\n",
    .fn = cmd_import,
    .col = 6,
};

const tv_command tv_command_bundle = {
    .name = "bundle",
    .summary = "export batches to a file for a USB stick, or import such a file",
    .about = "Carry the node's signed batches to another node on a USB stick (or any file copy)\n"
             "when there is no network. 'export' writes a bundle file; 'import' reads one and\n"
             "keeps every batch that verifies, exactly as if it had come over the network.\n"
             "A damaged or cut-short file still yields every batch that can be read intact.\n",
    .subs = (const tv_command *const[]){&bundle_export_cmd, &bundle_import_cmd, NULL},
};

/* --- export ------------------------------------------------------------------------- */

typedef tv_export_origin origin_sel;
typedef tv_export export_ctx;

/* Parses a node id or prefix into s; returns 0 or prints a usage error. */
static int origin_parse(origin_sel *s, const char *text)
{
    size_t len = strlen(text);
    s->text = text;
    s->len = len;
    s->matches = 0;
    if (len < ORIGIN_PREFIX_MIN || len > 2 * TV_NODE_ID_BYTES)
        return tv_cli_usage("bundle export",
                            "'%s' is not a node id: give its 64 hex digits or at least the "
                            "first %d.",
                            text, ORIGIN_PREFIX_MIN);
    for (size_t i = 0; i <= len; i++) {
        char c = text[i];
        if (c >= 'A' && c <= 'F') c = (char)(c - 'A' + 'a');
        if (i < len && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return tv_cli_usage("bundle export",
                                "'%s' is not a node id: it should hold only the digits 0-9 "
                                "and letters a-f.",
                                text);
        s->hex[i] = c;
    }
    return 0;
}

static int export_fail_file(const char *path, int rc, int err)
{
    if (rc == TV_EINVAL)
        tv_cli_error("cannot write the bundle %s: the path is too long.", path);
    else if (rc == TV_ELIMIT)
        tv_cli_error("cannot write the bundle %s: the node holds more batches than one bundle "
                     "may carry; export some origins at a time with --origin.",
                     path);
    else
        tv_cli_error("cannot write the bundle %s: %s. Nothing was written to %s.", path,
                     strerror(err), path);
    return TV_EXIT_FAIL;
}

/* Checks the selection against what t holds: the recipient's certificate and what it
 * holds, each origin prefix matching exactly one origin. Returns 0 or an exit status after
 * a message. */
static int export_select(tv_cli *cli, tv_export *x, store_txn *t)
{
    int rc;
    if (x->for_peer) {
        if (!tv_export_peer_certified(t, x->peer)) {
            char hex[2 * TV_NODE_ID_BYTES + 1];
            tv_hex_encode(hex, x->peer, TV_NODE_ID_BYTES);
            tv_cli_error("this node has no certificate of node %.16s...: it cannot tell what "
                         "that node should hold. Export without --for.",
                         hex);
            return TV_EXIT_FAIL;
        }
        if ((rc = tv_export_for(x, t)))
            return tv_cli_fail(cli, rc, "cannot read what the recipient holds");
    }
    if (x->nsel && (rc = tv_export_resolve(x, t)))
        return tv_cli_fail(cli, rc, "cannot read the node's origins");
    for (size_t i = 0; i < x->nsel; i++) {
        if (x->sel[i].matches == 1) continue;
        if (x->sel[i].matches == 0)
            tv_cli_error("the node holds nothing from origin %s; 'truyvet status' lists "
                         "the origins it holds.",
                         x->sel[i].text);
        else
            tv_cli_error("%s is the start of %d origins' ids; give more digits.", x->sel[i].text,
                         x->sel[i].matches);
        return TV_EXIT_FAIL;
    }
    return 0;
}

/* Writes the selected batches of t to the bundle file out, whole or not at all. Returns 0
 * or an exit status after a message. */
static int export_file(tv_cli *cli, tv_export *x, store_txn *t, const char *out)
{
    tv_bundle_file f;
    int rc;
    if ((rc = tv_bundle_file_create(&f, out))) return export_fail_file(out, rc, errno);
    if ((rc = tv_export_write(x, t, f.fp))) {
        tv_bundle_file_abort(&f);
        if (x->file_rc) return export_fail_file(out, x->file_rc, x->err);
        return tv_cli_fail(cli, rc, "the bundle was NOT written");
    }
    if (tv_bundle_file_commit(&f)) {
        /* the file may or may not have been renamed into place: say only what is sure */
        tv_cli_error("cannot finish writing the bundle %s: %s. Do not use it; check the disk "
                     "or stick and export again.",
                     out, strerror(errno));
        return TV_EXIT_FAIL;
    }
    return 0;
}

static int export_run(tv_cli *cli, tv_export *x, const char *out, int json)
{
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t))) {
        rc = tv_cli_fail(cli, rc, "cannot read the node's batches");
    } else {
        /* one snapshot for the whole export: a consistent set of chains, whatever is being
         * recorded meanwhile */
        if ((rc = export_select(cli, x, t)) == 0 && (rc = export_file(cli, x, t, out)) == 0) {
            tv_render_export_text(stderr, x, out);
            if (json) tv_render_export_json(stdout, x, out);
        }
        tv_export_release(x);
        store_read_end(t);
    }
    tv_node_close(&n);
    return rc;
}

static int cmd_export(tv_cli *cli, int argc, char **argv)
{
    const char *out = NULL;
    int json = 0, c, rc;
    export_ctx x = {0};
    /* at most one selection per argument */
    origin_sel *sel = calloc((size_t)argc, sizeof *sel);
    if (!sel) {
        tv_cli_error("out of memory.");
        return TV_EXIT_FAIL;
    }
    x.sel = sel;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'O':
            if ((rc = origin_parse(&sel[x.nsel], optarg))) goto free_sel;
            x.nsel++;
            break;
        case 'f':
            if (tv_hex_decode(x.peer, sizeof x.peer, optarg)) {
                rc = tv_cli_usage("bundle export",
                                  "--for takes a node id of 64 hex digits ('truyvet status' of "
                                  "that node prints it).");
                goto free_sel;
            }
            x.for_peer = 1;
            break;
        }
    }
    if (c < 0) {
        rc = ta.status;
        goto free_sel;
    }
    out = ta.o.out;
    json = ta.o.json;
    if (optind < argc) {
        rc = tv_cli_usage("bundle export", "unexpected argument '%s'.", argv[optind]);
        goto free_sel;
    }
    if (!out || !*out) {
        rc = tv_cli_usage("bundle export", "bundle export needs --out FILE.");
        goto free_sel;
    }
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = tv_cli_usage("bundle export", "%s is a directory; --out names the bundle file.", out);
        goto free_sel;
    }

    rc = export_run(cli, &x, out, json);
free_sel:
    free(sel);
    return rc;
}

/* --- import ------------------------------------------------------------------------- */

/* What the messages of an import on a terminal need. */
typedef struct import_term {
    const char *path;    /* the bundle as named in messages */
    int progress;        /* a progress line on standard error (a terminal) */
    uint64_t file_bytes; /* 0 when unknown (a pipe) */
    const tv_bundle_reader *rd;
} import_term;

static void report_refused(void *ctx, const tv_import *im, const tv_apply_item *it, uint32_t number)
{
    const import_term *c = ctx;
    if (im->refused > BUNDLE_REFUSALS_SHOWN) return;
    crdt_batch_header h = it->r.header;
    const char *claims = "";
    if (h.count == 0) {
        claims = "claims ";
        if (tv_import_peek_header(it->buf, it->len, &h)) h.count = 0;
    }
    char where[96] = "";
    if (h.count) {
        char hex[2 * TV_NODE_ID_BYTES + 1];
        tv_hex_encode(hex, h.origin, TV_NODE_ID_BYTES);
        hex[TV_EVENT_ID_ORIGIN_HEX] = '\0';
        snprintf(where, sizeof where, " (%sorigin %s, seq %" PRIu64 "-%" PRIu64 ")", claims, hex,
                 h.first_seq, h.first_seq + h.count - 1);
    }
    const char *hint = "";
    if (it->rc == TV_EGAP)
        hint = ": an earlier batch of its origin is missing here (it was in a damaged part of "
               "the file, or this node never received it)";
    else if (it->rc == TV_ESIG || it->rc == TV_EHASH)
        hint = ": the batch is not authentic or was altered";
    else if (it->rc == TV_EDECODE)
        hint = ": the batch, or an event in it, breaks the format (PROTOCOL.md sections 2-3: "
               "a duplicated key, a control character in a text, a value out of range)";
    else if (it->rc == TV_EPERM) /* PROTOCOL.md 6.4, -19 */
        hint = ": a node keeps only the logs of its partition (its own subtree's and those "
               "of the nodes above commune), as sync does";
    else if (it->rc == TV_EUNTRUSTED)
        hint = ": its certificate is not here yet (it comes in its issuer's log); import the "
               "bundle again once that log has arrived";
    tv_cli_error("%s: record %" PRIu32 "%s refused: %s%s%s%s.", c->path, number, where,
                 it->rc == TV_EPERM ? "not this node's to hold" : tv_strerror(it->rc), hint,
                 it->r.rule ? "; rule " : "", it->r.rule ? it->r.rule : "");
}

/* Clears the progress line, so that a message does not mix with it. */
static void clear_progress(void *ctx, const tv_import *im)
{
    (void)im;
    const import_term *c = ctx;
    if (c->progress) fputs("\r\033[K", stderr);
}

static void show_progress(const import_term *c, const tv_import *im, int final)
{
    if (!c->progress) return;
    fprintf(stderr,
            "\rimporting: %" PRIu64 " accepted, %" PRIu64 " already held, %" PRIu64
            " refused, %" PRIu64 " damaged",
            im->accepted, im->duplicates, im->refused, im->damaged);
    if (c->file_bytes) {
        double pct = 100.0 * (double)tv_bundle_reader_offset(c->rd) / (double)c->file_bytes;
        fprintf(stderr, ", %.0f%%", pct > 100 ? 100 : pct);
    }
    if (final) fputc('\n', stderr);
}

static void progress(void *ctx, const tv_import *im)
{
    show_progress(ctx, im, 0);
}

static void report_damage(void *ctx, const tv_import *im, const tv_bundle_rec *d)
{
    (void)im;
    const import_term *c = ctx;
    unsigned long long from = d->offset, to = d->offset + d->skipped;
    switch (d->damage) {
    case TV_BUNDLE_DMG_CHECKSUM:
        tv_cli_error("%s: record %" PRIu32 " is damaged (its checksum does not match); bytes "
                     "%llu-%llu skipped.",
                     c->path, d->number, from, to);
        break;
    case TV_BUNDLE_DMG_TRUNCATED:
        if (d->number)
            tv_cli_error("%s: the file ends inside record %" PRIu32 " (from byte %llu): it was "
                         "cut short; the record is skipped.",
                         c->path, d->number, from);
        else
            tv_cli_error("%s: the file ends inside a record header (byte %llu): it was cut "
                         "short.",
                         c->path, from);
        break;
    case TV_BUNDLE_DMG_LENGTH:
        tv_cli_error("%s: record %" PRIu32 " (byte %llu) claims a length of %" PRIu32
                     " bytes, which no record may have; skipped.",
                     c->path, d->number, from, d->claimed);
        break;
    case TV_BUNDLE_DMG_GARBAGE:
        tv_cli_error("%s: bytes %llu-%llu (%llu bytes) are not part of any intact record; "
                     "skipped.",
                     c->path, from, to, to - from);
        break;
    case TV_BUNDLE_DMG_NO_END:
        tv_cli_error("%s: the file ends without its end mark: it was cut short or not "
                     "completely copied, so records after record %" PRIu32 " may be missing.",
                     c->path, d->number);
        break;
    }
}

static void report_lost(void *ctx, const tv_import *im, uint32_t first, uint32_t last,
                        uint32_t lost)
{
    (void)im;
    const import_term *c = ctx;
    tv_cli_error("%s: of records %" PRIu32 "-%" PRIu32 ", %" PRIu32 " %s lost without a trace "
                 "(nothing of them could be read); %s not imported.",
                 c->path, first, last, lost, lost == 1 ? "was" : "were",
                 lost == 1 ? "its batch was" : "their batches were");
}

/* Starts reading the bundle on fp, saying why it cannot be. Returns 0 or TV_EXIT_FAIL. */
static int import_reader(tv_bundle_reader *rd, FILE *fp, const char *name)
{
    int r = tv_bundle_reader_init(rd, fp);
    if (r == TV_EDECODE)
        tv_cli_error("%s is not a truyvet bundle: it does not start with %s. 'truyvet bundle "
                     "export' writes bundles.",
                     name, TV_BUNDLE_MAGIC);
    else if (r == TV_EVERSION)
        tv_cli_error("%s is a bundle of another format version; it was written by a newer "
                     "truyvet. Upgrade truyvet to import it.",
                     name);
    else if (r)
        tv_cli_error("cannot read %s: %s.", name, strerror(errno));
    return r ? TV_EXIT_FAIL : 0;
}

/* Runs the import and says what it came to. Returns the exit status. */
static int import_report(tv_cli *cli, tv_import *im, const import_term *term, FILE *fp, int json)
{
    int failed = tv_import_run(im);
    show_progress(term, im, 1);
    int dfrc = im->accepted ? tv_downflow_run(im->n, tv_wall_ms(), NULL) : TV_OK;
    if (dfrc) /* the batches are in; the next import or 'serve' seals what they change */
        tv_cli_error("the batches were imported, but what the communes need of the cases they "
                     "change could not be sealed: %s.",
                     tv_strerror(dfrc));
    if (failed == TV_EIO && ferror(fp)) {
        tv_cli_error("reading %s failed at byte %" PRIu64 ": %s. The batches read before were "
                     "imported; copy the file to a healthy disk and import it again.",
                     term->path, tv_bundle_reader_offset(term->rd), strerror(errno));
    } else if (failed) {
        char what[128];
        snprintf(what, sizeof what, "the import stopped after %" PRIu64 " accepted batches",
                 im->accepted);
        tv_cli_fail(cli, failed, what);
    }
    if (im->refused > BUNDLE_REFUSALS_SHOWN)
        tv_cli_error("... and %" PRIu64 " more refused batches.",
                     im->refused - BUNDLE_REFUSALS_SHOWN);
    tv_render_import_text(stderr, im, term->path);
    if (json) tv_render_import_json(stdout, im, failed);
    return failed || im->refused || im->damaged || im->missing || !im->complete ? TV_EXIT_FAIL
                                                                                : TV_EXIT_OK;
}

static int import_file(tv_cli *cli, const char *path, int json)
{
    int from_stdin = strcmp(path, "-") == 0;
    FILE *fp = from_stdin ? stdin : fopen(path, "rb");
    if (!fp) {
        tv_cli_error("cannot open %s: %s.", path, strerror(errno));
        return TV_EXIT_FAIL;
    }
    tv_bundle_reader *rd = malloc(sizeof *rd);
    tv_import *im = calloc(1, sizeof *im);
    import_term term = {
        .path = from_stdin ? "standard input" : path, .progress = isatty(STDERR_FILENO), .rd = rd};
    const tv_import_hooks hooks = {clear_progress, progress,    report_refused,
                                   report_damage,  report_lost, &term};
    tv_node n;
    int rc = TV_EXIT_FAIL;
    if (!rd || !im || tv_import_init(im, &n, rd, &hooks)) {
        tv_cli_error("out of memory.");
        goto out;
    }
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) term.file_bytes = (uint64_t)st.st_size;
    if ((rc = import_reader(rd, fp, term.path)) || (rc = tv_cli_open(cli, &n, TV_NODE_WRITE)))
        goto out;
    rc = import_report(cli, im, &term, fp, json);
    tv_node_close(&n);
out:
    if (!from_stdin) fclose(fp);
    if (im) tv_import_release(im);
    free(im);
    free(rd);
    return rc;
}

static int cmd_import(tv_cli *cli, int argc, char **argv)
{
    int json = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        }
    }
    if (c < 0) return ta.status;
    json = ta.o.json;
    if (optind >= argc) return tv_cli_usage("bundle import", "bundle import needs a FILE.");
    if (optind + 1 < argc)
        return tv_cli_usage("bundle import", "unexpected argument '%s'.", argv[optind + 1]);
    const char *path = argv[optind];
    return import_file(cli, path, json);
}
