/* `truyvet retention`: the province's retention period (the root sets it). */
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

static int retention_set(tv_cli *cli, int argc, char **argv);
static int retention_show(tv_cli *cli, int argc, char **argv);

static const tv_command retention_set_cmd = {
    .name = "set",
    .summary = "Set the period (the root only).",
    .usage = "retention set DAYS",
    .opts = (const tv_opt[]){{"DAYS", 0, NULL, "1 to 3650", TV_OPT_ARG, 0}, {0}},
    .fn = retention_set,
};

static const tv_command retention_show_cmd = {
    .name = "show",
    .summary = "The period in force, and when the root set it.",
    .usage = "retention show [--json]",
    .opts = (const tv_opt[]){{.id = TV_O_JSON, .help = "one JSON object"}, {0}},
    .fn = retention_show,
};

const tv_command tv_command_retention = {
    .name = "retention",
    .summary = "the province's retention period (the root sets it)",
    .about = "The province's retention period: scans, person records and the audit of full views\n"
             "older than it leave every node's files (`truyvet purge`, and `serve` once a day);\n"
             "the daily figures stay. Only the root (the province) may set it; until it does, the\n"
             "period is 28 days.\n",
    .subs = (const tv_command *const[]){&retention_set_cmd, &retention_show_cmd, NULL},
};

/* --- retention set / show --------------------------------------------------------------- */

static int retention_set(tv_cli *cli, int argc, char **argv)
{
    tv_args ta;
    if (tv_args_only(&ta, cli, argc, argv)) return ta.status;
    if (argc != 2) return tv_cli_usage("retention", "give the period: retention set DAYS.");
    char *end;
    unsigned long days = strtoul(argv[1], &end, 10);
    if (argv[1][0] < '0' || argv[1][0] > '9' || *end || days < CRDT_RETENTION_DAYS_MIN ||
        days > CRDT_RETENTION_DAYS_MAX)
        return tv_cli_usage("retention", "DAYS is a number from %d to %d, not '%s'.",
                            CRDT_RETENTION_DAYS_MIN, CRDT_RETENTION_DAYS_MAX, tv_text_esc(argv[1]));
    tv_node n;
    int rc = tv_cli_open(cli, &n, TV_NODE_WRITE);
    if (rc) return rc;
    crdt_retention r = {.days = (uint32_t)days};
    uint64_t seq;
    if ((rc = tv_node_add_retention(&n, &r, NULL)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        if (rc == TV_EPERM) {
            tv_cli_error("only the root (the province's node) sets the retention period: "
                         "peers would refuse it from this node.");
            rc = TV_EXIT_FAIL;
        } else {
            rc = tv_cli_fail(cli, rc, "nothing was recorded");
        }
    } else {
        printf("retention: %lu days, from now on at every node (event %" PRIu64 ")\n", days, seq);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

static int retention_show(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_only(cli, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_txn *t;
    store_retention r;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = store_retention_get(t, &r);
        store_read_end(t);
    }
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "cannot read the retention period");
    char when[TV_TIME_STR_BYTES] = "";
    if (r.set) tv_cli_hlc_time(when, sizeof when, r.hlc);
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "days");
        tv_json_u64(&j, r.days);
        tv_json_key(&j, "set");
        if (r.set)
            tv_json_string(&j, when);
        else
            tv_json_null(&j);
        tv_json_object_end(&j);
        rc = tv_json_line_end(&j);
        return rc ? tv_cli_fail(cli, rc, "cannot write") : TV_EXIT_OK;
    }
    if (r.set)
        printf("%u days, set by the root at %s\n", r.days, when);
    else
        printf("%u days (the default: the root has set none)\n", r.days);
    return TV_EXIT_OK;
}
