/* `truyvet bundle export|import`: carrying signed batches between nodes on a USB stick. */
#include "crdt/error.h"
#include "crdt/mp.h"
#include "net/sync.h"
#include "node/format/bundle.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/downflow.h"
#include "node/render/json.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Received batches applied together in one durable transaction: enough to make the fsync
 * cheap per batch, small enough that an interrupted import loses little work. */
#define BUNDLE_GROUP_BATCHES 64
#define BUNDLE_GROUP_BYTES ((size_t)8 << 20)
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

typedef struct origin_sel {
    const char *text;
    char hex[2 * TV_NODE_ID_BYTES + 1]; /* lowercase */
    size_t len;
    uint8_t id[TV_NODE_ID_BYTES];
    int matches;
} origin_sel;

typedef struct export_ctx {
    origin_sel *sel;
    size_t nsel;
    tv_bundle_writer w;
    uint64_t batches, events, origins;
    uint8_t last_origin[TV_NODE_ID_BYTES];
    int file_rc; /* the bundle file, not the node, failed: this error */
    int err;     /* and errno then */
    /* --for: the recipient, what we know it holds, and whether the current origin is its */
    int for_peer;
    uint8_t peer[TV_NODE_ID_BYTES];
    crdt_vv known;
    store_txn *t;
    uint8_t judged[TV_NODE_ID_BYTES];
    int judged_ok, holds;
} export_ctx;

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

static int export_resolve(const uint8_t *origin, const store_frontier *f, void *arg)
{
    export_ctx *c = arg;
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, origin, TV_NODE_ID_BYTES);
    for (size_t i = 0; i < c->nsel; i++)
        if (strncmp(hex, c->sel[i].hex, c->sel[i].len) == 0 && c->sel[i].matches++ == 0)
            memcpy(c->sel[i].id, origin, TV_NODE_ID_BYTES);
    return 0;
}

static int export_batch(const uint8_t *buf, size_t len, void *arg)
{
    export_ctx *c = arg;
    crdt_batch b;
    /* the store verified the batch when it applied it; a failure here is damage */
    int rc = crdt_batch_open(&b, buf, len);
    if (rc) return TV_ECORRUPT;
    if (c->nsel) {
        size_t i = 0;
        while (i < c->nsel && memcmp(c->sel[i].id, b.h.origin, TV_NODE_ID_BYTES) != 0)
            i++;
        if (i == c->nsel) return 0;
    }
    if (c->for_peer) {
        if (!c->judged_ok || memcmp(c->judged, b.h.origin, TV_NODE_ID_BYTES) != 0) {
            memcpy(c->judged, b.h.origin, TV_NODE_ID_BYTES);
            c->judged_ok = 1;
            c->holds = sync_partition_holds(c->t, c->peer, b.h.origin) == 1;
        }
        const crdt_vv_entry *e = crdt_vv_get(&c->known, b.h.origin);
        if (!c->holds || (e && b.h.first_seq + b.h.count - 1 <= e->seq)) return 0;
    }
    if (c->batches == 0 || memcmp(c->last_origin, b.h.origin, TV_NODE_ID_BYTES) != 0) {
        memcpy(c->last_origin, b.h.origin, TV_NODE_ID_BYTES);
        c->origins++;
    }
    if ((rc = tv_bundle_write_batch(&c->w, buf, len))) {
        c->file_rc = rc;
        c->err = errno;
        return rc;
    }
    c->batches++;
    c->events += b.h.count;
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

    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) goto free_sel;
    store_txn *t;
    if ((rc = store_read_begin(n.st, &t))) {
        rc = tv_cli_fail(cli, rc, "cannot read the node's batches");
        goto close_node;
    }
    /* one snapshot for the whole export: a consistent set of chains, whatever is being
     * recorded meanwhile */
    crdt_vv_init(&x.known);
    x.t = t;
    if (x.for_peer) {
        if (store_cert_get(t, x.peer, NULL, NULL, NULL) != TV_OK) {
            char hex[2 * TV_NODE_ID_BYTES + 1];
            tv_hex_encode(hex, x.peer, TV_NODE_ID_BYTES);
            tv_cli_error("this node has no certificate of node %.16s...: it cannot tell what "
                         "that node should hold. Export without --for.",
                         hex);
            rc = TV_EXIT_FAIL;
            goto end_read;
        }
        rc = sync_peer_known(t, x.peer, &x.known);
        if (rc && rc != TV_ENOTFOUND) {
            rc = tv_cli_fail(cli, rc, "cannot read what the recipient holds");
            goto end_read;
        }
    }
    if (x.nsel) {
        if ((rc = store_frontier_foreach(t, export_resolve, &x))) {
            rc = tv_cli_fail(cli, rc, "cannot read the node's origins");
            goto end_read;
        }
        for (size_t i = 0; i < x.nsel; i++) {
            if (sel[i].matches == 1) continue;
            if (sel[i].matches == 0)
                tv_cli_error("the node holds nothing from origin %s; 'truyvet status' lists "
                             "the origins it holds.",
                             sel[i].text);
            else
                tv_cli_error("%s is the start of %d origins' ids; give more digits.", sel[i].text,
                             sel[i].matches);
            rc = TV_EXIT_FAIL;
            goto end_read;
        }
    }
    tv_bundle_file f;
    if ((rc = tv_bundle_file_create(&f, out))) {
        rc = export_fail_file(out, rc, errno);
        goto end_read;
    }
    if ((rc = tv_bundle_write_begin(&x.w, f.fp))) {
        x.file_rc = rc;
        x.err = errno;
    } else if ((rc = store_batches_foreach(t, export_batch, &x)) == 0 &&
               (rc = tv_bundle_write_end(&x.w))) {
        x.file_rc = rc;
        x.err = errno;
    }
    if (rc) {
        tv_bundle_file_abort(&f);
        if (x.file_rc)
            rc = export_fail_file(out, x.file_rc, x.err);
        else
            rc = tv_cli_fail(cli, rc, "the bundle was NOT written");
        goto end_read;
    }
    if ((rc = tv_bundle_file_commit(&f))) {
        /* the file may or may not have been renamed into place: say only what is sure */
        tv_cli_error("cannot finish writing the bundle %s: %s. Do not use it; check the disk "
                     "or stick and export again.",
                     out, strerror(errno));
        rc = TV_EXIT_FAIL;
        goto end_read;
    }
    fprintf(stderr,
            "exported %" PRIu64 " batch%s (%" PRIu64 " events from %" PRIu64
            " origin%s) to %s, %" PRIu64 " bytes\n",
            x.batches, x.batches == 1 ? "" : "es", x.events, x.origins, x.origins == 1 ? "" : "s",
            out, x.w.bytes);
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "file");
        tv_json_string(&j, out);
        tv_json_key(&j, "batches");
        tv_json_u64(&j, x.batches);
        tv_json_key(&j, "events");
        tv_json_u64(&j, x.events);
        tv_json_key(&j, "origins");
        tv_json_u64(&j, x.origins);
        tv_json_key(&j, "bytes");
        tv_json_u64(&j, x.w.bytes);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    }
    rc = TV_EXIT_OK;
end_read:
    crdt_vv_release(&x.known);
    store_read_end(t);
close_node:
    tv_node_close(&n);
free_sel:
    free(sel);
    return rc;
}

/* --- import ------------------------------------------------------------------------- */

typedef struct import_ctx {
    tv_cli *cli;
    const char *path;
    tv_node n;
    tv_bundle_reader *rd;
    tv_apply_item items[BUNDLE_GROUP_BATCHES];
    uint32_t numbers[BUNDLE_GROUP_BATCHES]; /* each item's record number */
    size_t count;
    uint8_t *arena; /* the group's batch bytes */
    size_t used;
    uint64_t records, accepted, events, duplicates, refused, gaps, damaged, missing, unknown;
    uint32_t told; /* damaged records reported by number since the last intact record */
    int complete;  /* the end record was read */
    int progress;
    uint64_t file_bytes; /* 0 when unknown (a pipe) */
} import_ctx;

/* Reads origin and seqs from a batch that did not verify, without trusting them: only to
 * name it in a message. Returns 0 when they could be read. */
static int peek_header(const uint8_t *buf, size_t len, crdt_batch_header *h)
{
    msgpack_unpacked u, uh;
    msgpack_unpacked_init(&u);
    msgpack_unpacked_init(&uh);
    int rc = TV_EDECODE;
    const uint8_t *hb, *origin;
    size_t hlen;
    uint64_t first_seq, count;
    if (crdt_mp_unpack_exact(&u, buf, len) || u.data.type != MSGPACK_OBJECT_ARRAY ||
        u.data.via.array.size != 3 ||
        crdt_mp_bin(&u.data.via.array.ptr[0], CRDT_BATCH_HEADER_BYTES_MAX, &hb, &hlen) ||
        crdt_mp_unpack_exact(&uh, hb, hlen) || uh.data.type != MSGPACK_OBJECT_ARRAY ||
        uh.data.via.array.size < 4 ||
        crdt_mp_bin_n(&uh.data.via.array.ptr[1], TV_NODE_ID_BYTES, &origin) ||
        crdt_mp_u64(&uh.data.via.array.ptr[2], &first_seq) ||
        crdt_mp_u64(&uh.data.via.array.ptr[3], &count) || first_seq == 0 || count == 0 ||
        count > CRDT_BATCH_EVENTS_MAX || first_seq > UINT64_MAX - count)
        goto done;
    memcpy(h->origin, origin, TV_NODE_ID_BYTES);
    h->first_seq = first_seq;
    h->count = (uint32_t)count;
    rc = TV_OK;
done:
    msgpack_unpacked_destroy(&uh);
    msgpack_unpacked_destroy(&u);
    return rc;
}

static void report_refused(import_ctx *c, const tv_apply_item *it, uint32_t number)
{
    if (c->refused > BUNDLE_REFUSALS_SHOWN) return;
    crdt_batch_header h = it->r.header;
    const char *claims = "";
    if (h.count == 0) {
        claims = "claims ";
        if (peek_header(it->buf, it->len, &h)) h.count = 0;
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
static void clear_progress(const import_ctx *c)
{
    if (c->progress) fputs("\r\033[K", stderr);
}

static void show_progress(import_ctx *c, int final)
{
    if (!c->progress) return;
    fprintf(stderr,
            "\rimporting: %" PRIu64 " accepted, %" PRIu64 " already held, %" PRIu64
            " refused, %" PRIu64 " damaged",
            c->accepted, c->duplicates, c->refused, c->damaged);
    if (c->file_bytes) {
        double pct = 100.0 * (double)tv_bundle_reader_offset(c->rd) / (double)c->file_bytes;
        fprintf(stderr, ", %.0f%%", pct > 100 ? 100 : pct);
    }
    if (final) fputc('\n', stderr);
}

/* Applies the group in one durable transaction and reports each batch's fate. */
static int import_flush(import_ctx *c)
{
    if (c->count == 0) return 0;
    int rc = tv_node_apply(&c->n, c->items, c->count);
    if (rc) return rc;
    clear_progress(c);
    for (size_t i = 0; i < c->count; i++) {
        const tv_apply_item *it = &c->items[i];
        if (it->rc == TV_OK && it->r.duplicate) {
            c->duplicates++;
        } else if (it->rc == TV_OK) {
            c->accepted++;
            c->events += it->r.applied;
        } else {
            c->refused++;
            if (it->rc == TV_EGAP) c->gaps++;
            report_refused(c, it, c->numbers[i]);
        }
    }
    c->count = 0;
    c->used = 0;
    show_progress(c, 0);
    return 0;
}

static void report_damage(import_ctx *c, const tv_bundle_rec *d)
{
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

/* Counts the records an intact record's number says were skipped, and names those that
 * vanished without a damaged header to report them by. */
static void note_missing(import_ctx *c, const tv_bundle_rec *r)
{
    uint32_t told = c->told;
    c->told = 0;
    if (!r->missing) return;
    c->missing += r->missing;
    if (r->missing <= told) return;
    uint32_t last = r->what == TV_BUNDLE_END ? r->number : r->number - 1;
    uint32_t first = last - r->missing + 1;
    uint32_t lost = r->missing - told;
    tv_cli_error("%s: of records %" PRIu32 "-%" PRIu32 ", %" PRIu32 " %s lost without a trace "
                 "(nothing of them could be read); %s not imported.",
                 c->path, first, last, lost, lost == 1 ? "was" : "were",
                 lost == 1 ? "its batch was" : "their batches were");
}

/* Reads the whole bundle; returns 0, or the error that stopped the import. */
static int import_loop(import_ctx *c)
{
    tv_bundle_rec r;
    int rc;
    while ((rc = tv_bundle_next(c->rd, &r)) == 1) {
        switch (r.what) {
        case TV_BUNDLE_BATCH:
            c->records++;
            if (c->count == BUNDLE_GROUP_BATCHES || c->used + r.len > BUNDLE_GROUP_BYTES)
                if ((rc = import_flush(c))) return rc;
            if (r.missing) clear_progress(c);
            note_missing(c, &r);
            memcpy(c->arena + c->used, r.data, r.len);
            c->items[c->count] = (tv_apply_item){.buf = c->arena + c->used, .len = r.len};
            c->numbers[c->count++] = r.number;
            c->used += r.len;
            break;
        case TV_BUNDLE_END:
            if ((rc = import_flush(c))) return rc;
            note_missing(c, &r);
            c->complete = 1;
            break;
        case TV_BUNDLE_UNKNOWN:
            c->records++;
            c->unknown++;
            note_missing(c, &r);
            break;
        case TV_BUNDLE_DAMAGED:
            /* apply what came before first, so that the messages follow the file's order */
            if ((rc = import_flush(c))) return rc;
            clear_progress(c);
            if (r.damage == TV_BUNDLE_DMG_NO_END) {
                c->complete = 0;
                c->missing += r.missing;
            } else {
                c->damaged++;
                if (r.number) c->told++;
            }
            report_damage(c, &r);
            break;
        }
    }
    if (rc < 0) return rc;
    return import_flush(c);
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

    int from_stdin = strcmp(path, "-") == 0;
    FILE *fp = from_stdin ? stdin : fopen(path, "rb");
    if (!fp) {
        tv_cli_error("cannot open %s: %s.", path, strerror(errno));
        return TV_EXIT_FAIL;
    }
    import_ctx *x = calloc(1, sizeof *x);
    tv_bundle_reader *rd = malloc(sizeof *rd);
    uint8_t *arena = malloc(BUNDLE_GROUP_BYTES);
    int rc = TV_EXIT_FAIL;
    if (!x || !rd || !arena) {
        tv_cli_error("out of memory.");
        goto close_file;
    }
    x->cli = cli;
    x->path = from_stdin ? "standard input" : path;
    x->rd = rd;
    x->arena = arena;
    x->progress = isatty(STDERR_FILENO);
    struct stat st;
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) x->file_bytes = (uint64_t)st.st_size;

    int r = tv_bundle_reader_init(rd, fp);
    if (r == TV_EDECODE) {
        tv_cli_error("%s is not a truyvet bundle: it does not start with %s. 'truyvet bundle "
                     "export' writes bundles.",
                     x->path, TV_BUNDLE_MAGIC);
        goto close_file;
    }
    if (r == TV_EVERSION) {
        tv_cli_error("%s is a bundle of another format version; it was written by a newer "
                     "truyvet. Upgrade truyvet to import it.",
                     x->path);
        goto close_file;
    }
    if (r) {
        tv_cli_error("cannot read %s: %s.", x->path, strerror(errno));
        goto close_file;
    }
    if ((rc = tv_cli_open(cli, &x->n, TV_NODE_WRITE))) goto close_file;

    int failed = import_loop(x);
    show_progress(x, 1);
    int dfrc = x->accepted ? tv_downflow_run(&x->n, tv_wall_ms(), NULL) : TV_OK;
    if (dfrc) /* the batches are in; the next import or 'serve' seals what they change */
        tv_cli_error("the batches were imported, but what the communes need of the cases they "
                     "change could not be sealed: %s.",
                     tv_strerror(dfrc));
    if (failed == TV_EIO && ferror(fp)) {
        tv_cli_error("reading %s failed at byte %" PRIu64 ": %s. The batches read before were "
                     "imported; copy the file to a healthy disk and import it again.",
                     x->path, tv_bundle_reader_offset(rd), strerror(errno));
    } else if (failed) {
        char what[128];
        snprintf(what, sizeof what, "the import stopped after %" PRIu64 " accepted batches",
                 x->accepted);
        tv_cli_fail(cli, failed, what);
    }
    if (x->refused > BUNDLE_REFUSALS_SHOWN)
        tv_cli_error("... and %" PRIu64 " more refused batches.",
                     x->refused - BUNDLE_REFUSALS_SHOWN);
    fprintf(stderr,
            "%s: %" PRIu64 " batch%s accepted (%" PRIu64 " events), %" PRIu64
            " already held, %" PRIu64 " refused (%" PRIu64 " after a gap); %" PRIu64
            " damaged part%s of the file skipped, %" PRIu64 " record%s unread%s\n",
            x->path, x->accepted, x->accepted == 1 ? "" : "es", x->events, x->duplicates,
            x->refused, x->gaps, x->damaged, x->damaged == 1 ? "" : "s", x->missing,
            x->missing == 1 ? "" : "s", x->complete ? "" : "; the end of the file is missing");
    if (x->unknown)
        fprintf(stderr,
                "%s: %" PRIu64 " record%s of a kind this version does not know were skipped\n",
                x->path, x->unknown, x->unknown == 1 ? "" : "s");
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "records");
        tv_json_u64(&j, x->records);
        tv_json_key(&j, "accepted");
        tv_json_u64(&j, x->accepted);
        tv_json_key(&j, "events");
        tv_json_u64(&j, x->events);
        tv_json_key(&j, "duplicates");
        tv_json_u64(&j, x->duplicates);
        tv_json_key(&j, "refused");
        tv_json_u64(&j, x->refused);
        tv_json_key(&j, "gaps");
        tv_json_u64(&j, x->gaps);
        tv_json_key(&j, "damaged");
        tv_json_u64(&j, x->damaged);
        tv_json_key(&j, "missing_records");
        tv_json_u64(&j, x->missing);
        tv_json_key(&j, "complete");
        tv_json_bool(&j, !failed && x->complete);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
    }
    rc = failed || x->refused || x->damaged || x->missing || !x->complete ? TV_EXIT_FAIL
                                                                          : TV_EXIT_OK;
    tv_node_close(&x->n);
close_file:
    if (!from_stdin) fclose(fp);
    free(arena);
    free(rd);
    free(x);
    return rc;
}
