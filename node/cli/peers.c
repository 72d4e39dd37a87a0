/* `truyvet peers`: the state of the running server's sessions. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/daemon/daemon.h"
#include "node/render/json.h"
#include "node/daemon/netconf.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_peers(tv_cli *cli, int argc, char **argv);

const tv_command tv_command_peers = {
    .name = "peers",
    .summary = "the state of the running server's sessions",
    .usage = "peers [--json]",
    .about = "The sessions of the running server (from DIR/peers.json): per peer its state, last\n"
             "contact, bytes and events each way, and how far behind each side is.\n",
    .opts = (const tv_opt[]){{.id = TV_O_JSON, .help = "the server's JSON as it wrote it"}, {0}},
    .fn = cmd_peers,
};

static int cmd_peers(tv_cli *cli, int argc, char **argv)
{
    int json = 0, c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
    }
    if (c < 0) return ta.status;
    json = ta.o.json;
    char path[4200];
    snprintf(path, sizeof path, "%s/peers.json", cli->dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        tv_cli_error("no session state in %s: is 'truyvet serve' running (or has it ever "
                     "run) on this node?",
                     cli->dir);
        return TV_EXIT_FAIL;
    }
    char buf[65536];
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[got] = '\0';
    if (json) {
        fputs(buf, stdout);
        return TV_EXIT_OK;
    }
    /* a plain listing: one line per peer from the JSON written by the server */
    const char *p = buf;
    int count = 0;
    while ((p = strstr(p, "\"node_id\":\""))) {
        char id[17] = {0}, state[16] = {0}, contact[40] = {0};
        sscanf(p, "\"node_id\":\"%16[0-9a-f]", id);
        const char *s = strstr(p, "\"state\":\"");
        const char *l = strstr(p, "\"last_contact\":\"");
        if (s) sscanf(s, "\"state\":\"%15[a-z-]", state);
        if (l) sscanf(l, "\"last_contact\":\"%39[^\"]", contact);
        printf("%s  %-10s last contact %s\n", id, state, contact);
        count++;
        p++;
    }
    if (!count) printf("no sessions\n");
    const char *forks = strstr(buf, "\"forks\":[{");
    if (forks)
        printf("FORKS: some origins wrote conflicting logs and are frozen; see "
               "'truyvet status'\n");
    return TV_EXIT_OK;
}
