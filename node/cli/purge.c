/* `truyvet purge`: remove what is older than the retention period from the node's files. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/downflow.h"
#include "node/logic/retention.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static int cmd_purge(tv_cli *cli, int argc, char **argv);

static const tv_opt purge_opts[] = {
    {"no-checkpoint", 'c', NULL, "do not truncate the node's own log", 0, 0},
    {"no-compact", 'n', NULL, "do not rewrite the file (the removed bytes stay on disk until then)",
     0, 0},
    {.id = TV_O_JSON, .help = "one JSON object"},
    {0}};

const tv_command tv_command_purge = {
    .name = "purge",
    .summary = "remove what is older than the retention period from the node's files",
    .usage = "purge [--no-checkpoint] [--no-compact] [--json]",
    .about = "Removes what is older than the retention period (`truyvet retention show`) from the\n"
             "indexes and views: scans, the records of people not seen since, the audit of full\n"
             "views; people under hold keep theirs. Then rewrites the store file, so that the\n"
             "removed bytes leave the disk too. The daily figures, and so the reports, stay.\n"
             "What the logs' batches carry leaves with their origin's checkpoint: the node\n"
             "truncates its own log behind one, carrying over what is still in force.\n",
    .opts = purge_opts,
    .fn = cmd_purge,
    .col = 12,
};

/* --- purge ------------------------------------------------------------------------------ */

/* Writes what the purge removed as one JSON object on standard output. Returns 0 or the
 * error of writing it. */
static int purge_json(const tv_purge_result *r, const char *cut, int compact)
{
    tv_json j;
    tv_json_init(&j, stdout);
    tv_json_object_begin(&j);
    tv_json_key(&j, "days");
    tv_json_u64(&j, r->days);
    tv_json_key(&j, "before");
    tv_json_string(&j, cut);
    tv_json_key(&j, "scans");
    tv_json_u64(&j, r->st.scans);
    tv_json_key(&j, "persons");
    tv_json_u64(&j, r->st.persons);
    tv_json_key(&j, "reveals");
    tv_json_u64(&j, r->st.reveals);
    tv_json_key(&j, "holds_lifted");
    tv_json_u64(&j, r->st.holds);
    tv_json_key(&j, "checkpoint");
    if (r->cp.written) {
        tv_json_object_begin(&j);
        tv_json_key(&j, "upto");
        tv_json_u64(&j, r->cp.upto);
        tv_json_key(&j, "copies");
        tv_json_u64(&j, r->cp.copies);
        tv_json_key(&j, "dropped");
        tv_json_u64(&j, r->cp.dropped);
        tv_json_object_end(&j);
    } else {
        tv_json_null(&j);
    }
    tv_json_key(&j, "compacted");
    tv_json_bool(&j, compact);
    tv_json_key(&j, "file_bytes_before");
    tv_json_u64(&j, r->bytes_before);
    tv_json_key(&j, "file_bytes");
    tv_json_u64(&j, r->bytes_after);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

static int cmd_purge(tv_cli *cli, int argc, char **argv)
{
    int compact = 1, checkpoint = 1, json = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        switch (c) {
        case 'n':
            compact = 0;
            break;
        case 'c':
            checkpoint = 0;
            break;
        }
    }
    if (c < 0) return ta.status;
    json = ta.o.json;
    if (optind < argc) return tv_cli_usage("purge", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, TV_NODE_WRITE);
    if (rc) return rc;
    tv_purge_result r;
    rc = tv_node_purge(&n, tv_wall_ms(), checkpoint ? 2 : 0, compact, &r);
    tv_node_close(&n);
    if (rc == TV_EBUSY) { /* the removal is committed; the rewrite waits for the others */
        tv_cli_error("the purge removed what is older than the retention period, but did not "
                     "rewrite the store file: another truyvet program has the node in %s open "
                     "to write (the server, or a command that writes). Stop it, then run "
                     "'truyvet purge' again.",
                     cli->dir);
        return TV_EXIT_FAIL;
    }
    if (rc) return tv_cli_fail(cli, rc, "the purge did not finish");
    char cut[TV_TIME_STR_BYTES];
    tv_time_format_vn(cut, sizeof cut, r.st.cutoff_ms);
    if (json) {
        rc = purge_json(&r, cut, compact);
        return rc ? tv_cli_fail(cli, rc, "cannot write") : TV_EXIT_OK;
    }
    printf("purged before %s (retention %u days): %" PRIu64 " scans, %" PRIu64
           " person records, %" PRIu64 " audit rows\n",
           cut, r.days, r.st.scans, r.st.persons, r.st.reveals);
    if (r.cp.written)
        printf("own log truncated before seq %" PRIu64 ": %" PRIu64 " events left behind, %" PRIu64
               " carried into the checkpoint\n",
               r.cp.upto + 1, r.cp.dropped, r.cp.copies);
    if (compact)
        printf("store file rewritten: %.1f MiB -> %.1f MiB\n", (double)r.bytes_before / (1 << 20),
               (double)r.bytes_after / (1 << 20));
    return TV_EXIT_OK;
}
