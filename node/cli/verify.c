/* `truyvet verify`: whether the store is intact: every signature and hash chain. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/verify.h"
#include "node/render/verify.h"

#include <stddef.h>

static int cmd_verify(tv_cli *cli, int argc, char **argv);

static const tv_opt verify_opts[] = {{.id = TV_O_JSON}, {0}};

const tv_command tv_command_verify = {
    .name = "verify",
    .summary = "re-check every signature and hash chain in the store",
    .usage = "verify [--json]",
    .about = "Re-check every stored batch: its origin's signature, its body hash, its events, and\n"
             "that each origin's batches form one unbroken hash chain ending at the frontier.\n"
             "Exit status 0 when there is no fault; 1 when there are faults (each one is named).\n",
    .opts = verify_opts,
    .more = NULL,
    .fn = cmd_verify,
    .col = 0,
};

/* --- verify ------------------------------------------------------------------------- */

static int cmd_verify(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_only(cli, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    tv_verify v;
    rc = tv_verify_store(&n, &v);
    tv_node_close(&n);
    if (rc) {
        tv_verify_free(&v);
        return tv_cli_fail(cli, rc, "cannot read the store");
    }
    for (size_t i = 0; i < v.n_faults; i++) {
        if (json)
            (void)tv_render_verify_fault_json(stdout, &v.faults[i]);
        else
            tv_render_verify_fault_text(stdout, &v.faults[i]);
    }
    if (json)
        (void)tv_render_verify_summary_json(stdout, &v);
    else
        tv_render_verify_summary_text(stdout, &v);
    size_t faults = v.n_faults;
    tv_verify_free(&v);
    if (faults) {
        tv_cli_error("%zu fault%s found in the store of %s.", faults, faults == 1 ? "" : "s",
                     cli->dir);
        return TV_EXIT_FAIL;
    }
    return TV_EXIT_OK;
}
