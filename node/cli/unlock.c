/* `truyvet unlock`: ask for the passphrase once; keep the node's secrets available. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/secret.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

/* --for DURATION: N followed by s, m, h or d; at most 366 days. */
static int parse_duration(const char *s, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || s[0] == '-' || v == 0) return -1;
    unsigned long mult = 0;
    if (strcmp(end, "s") == 0)
        mult = 1;
    else if (strcmp(end, "m") == 0)
        mult = 60;
    else if (strcmp(end, "h") == 0)
        mult = 3600;
    else if (strcmp(end, "d") == 0)
        mult = 86400;
    else
        return -1;
    if (v > 366ul * 86400 / mult) return -1;
    *out = (unsigned)(v * mult);
    return 0;
}

static int cmd_unlock(tv_cli *cli, int argc, char **argv);

static const tv_opt unlock_opts[] = {
    {"for", 'f', "DURATION", "forget it after DURATION: a number and s, m, h or d (8h)", 0, 0},
    {.id = TV_O_PASSFILE,
     .help = "read the passphrase from the first line of FILE ('-':\n"
             "standard input) instead of asking on the terminal"},
    {0}};

const tv_command tv_command_unlock = {
    .name = "unlock",
    .summary = "ask for the passphrase once; keep the node's secrets available",
    .usage = "unlock [--for DURATION] [--passphrase-file FILE]",
    .about = "Ask once for the node's passphrase and keep its secrets available to this user's\n"
             "later truyvet commands on this node, until 'truyvet lock', the end of DURATION, or\n"
             "the machine is switched off. What is kept is the key that opens DIR/node.secret, in\n"
             "the kernel's user keyring as 'truyvet:<node id>', readable by this user only; never\n"
             "on disk.\n",
    .opts = unlock_opts,
    .more = "Without --passphrase-file, a systemd credential named 'passphrase'\n"
            "($CREDENTIALS_DIRECTORY/passphrase) is used when there is one. Commands that need\n"
            "the secrets while the node is locked stop with exit status 4.\n",
    .fn = cmd_unlock,
    .col = 20,
};

static int cmd_unlock(tv_cli *cli, int argc, char **argv)
{
    const char *file = NULL, *dur = NULL;
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0) {
        if (c == 'f') dur = optarg;
    }
    if (c < 0) return ta.status;
    file = ta.o.passphrase_file;
    if (optind < argc) return tv_cli_usage("unlock", "unexpected argument '%s'.", argv[optind]);
    unsigned timeout = 0;
    if (dur && parse_duration(dur, &timeout))
        return tv_cli_usage("unlock", "'%s' is not a duration like 30m, 8h or 2d.", dur);
    tv_node n;
    int rc = tv_node_open(&n, cli->dir, 0);
    if (rc) return tv_cli_fail(cli, rc, "cannot open the node");
    tv_pass p;
    if ((rc = tv_cli_pass_get(file, 0, "Passphrase of the node: ", 0, &p))) {
        tv_node_close(&n);
        return rc;
    }
    rc = tv_node_unlock(&n, p.p, p.len);
    tv_cli_pass_free(&p);
    if (rc == TV_EPASSPHRASE) {
        tv_node_close(&n);
        return tv_cli_wrong_passphrase();
    }
    if (rc == TV_OK) rc = tv_node_keep_unlocked(&n, timeout);
    tv_node_close(&n);
    if (rc == TV_EIO) {
        tv_cli_error("cannot keep the node unlocked: the kernel keyring refused (%s).",
                     strerror(errno));
        return TV_EXIT_FAIL;
    }
    if (rc) return tv_cli_fail(cli, rc, "cannot unlock the node");
    if (dur)
        fprintf(stderr, "unlocked for %s, or until 'truyvet lock'\n", dur);
    else
        fprintf(stderr, "unlocked until 'truyvet lock' or the machine is switched off\n");
    return TV_EXIT_OK;
}
