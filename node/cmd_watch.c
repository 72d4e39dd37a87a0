/* `truyvet watch`: follows check-ins and check-outs as they are recorded. */
#include "node/cli.h"

int tv_cmd_watch(tv_cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    return tv_cli_usage("watch", "not available in this build.");
}
