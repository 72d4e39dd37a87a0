/* `truyvet passwd`: change the passphrase of the node's secrets. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/secret.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int cmd_passwd(tv_cli *cli, int argc, char **argv);

static const tv_opt passwd_opts[] = {
    {.id = TV_O_PASSFILE, .help = "the old passphrase, first line of FILE ('-': stdin)"},
    {"new-passphrase-file", 'n', "FILE",
     "the new one, first line of FILE ('-': stdin, its\n"
     "second line when the old one is read from stdin too)",
     0, 0},
    {.id = TV_O_KDF,
     .help = "the cost of deriving the key from the passphrase (Argon2id):\n"
             "moderate (the default, about 0.5 s and 256 MiB), interactive (0.1 s,\n"
             "64 MiB), sensitive (several seconds, 1 GiB); min is for tests only.\n"
             "$TRUYVET_KDF sets the default."},
    {0}};

const tv_command tv_command_passwd = {
    .name = "passwd",
    .summary = "change the passphrase of the node's secrets",
    .usage = "passwd [--passphrase-file FILE] [--new-passphrase-file FILE]\n"
             "                              [--kdf LEVEL]",
    .about =
        "Change the passphrase of the node's secrets (DIR/node.secret): asks for the old one,\n"
        "then twice for the new one. The server must be stopped. A node kept unlocked stays\n"
        "unlocked; a systemd credential must be made again with the new passphrase.\n"
        "\n"
        "A node made by an earlier truyvet keeps its keys in clear files (node.key,\n"
        "tracing.key) and is refused until 'truyvet passwd' has encrypted them: it asks only\n"
        "for the new passphrase, writes node.secret, then overwrites and removes the clear\n"
        "files (copies of them elsewhere, in backups, stay as they were).\n",
    .opts = passwd_opts,
    .more = NULL,
    .fn = cmd_passwd,
    .col = 12,
};

static int cmd_passwd(tv_cli *cli, int argc, char **argv)
{
    const char *old_file = NULL, *new_file = NULL, *kdf_s = NULL;
    int c;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0)
        if (c == 'n') new_file = optarg;
    if (c < 0) return ta.status;
    old_file = ta.o.passphrase_file;
    kdf_s = ta.o.kdf;
    if (optind < argc) return tv_cli_usage("passwd", "unexpected argument '%s'.", argv[optind]);
    tv_kdf_level kdf;
    int rc = tv_cli_kdf_option("passwd", kdf_s, &kdf);
    if (rc) return rc;
    int new_line = old_file && new_file && strcmp(old_file, "-") == 0 && strcmp(new_file, "-") == 0;
    tv_node n;
    rc = tv_node_open(&n, cli->dir, TV_NODE_WRITE);
    tv_pass np;
    if (rc == TV_EPLAINKEY) {
        /* an earlier version's clear files: only the new passphrase */
        if ((rc = tv_cli_pass_get(new_file, 0, "New passphrase: ", 1, &np))) return rc;
        uint8_t id[TV_NODE_ID_BYTES];
        rc = tv_node_encrypt_plain(cli->dir, np.p, np.len, kdf, id);
        tv_cli_pass_free(&np);
        if (rc) return tv_cli_fail(cli, rc, "cannot encrypt the node's keys");
        fprintf(stderr,
                "the node's keys are now in %s/" TV_SECRET_FILE ", encrypted under the "
                "passphrase; node.key and tracing.key were overwritten and removed\n",
                cli->dir);
        return TV_EXIT_OK;
    }
    if (rc) return tv_cli_fail(cli, rc, "cannot open the node");
    int kept = n.unlocked; /* the keyring keeps it unlocked */
    tv_pass op;
    if ((rc = tv_cli_pass_get(old_file, 0, "Current passphrase: ", 0, &op))) goto out;
    /* the old passphrase is asked even when the node is unlocked; a wrong one changes
     * nothing in n */
    rc = tv_node_unlock(&n, op.p, op.len);
    tv_cli_pass_free(&op);
    if (rc == TV_EPASSPHRASE) {
        rc = tv_cli_wrong_passphrase();
        goto out;
    }
    if (rc) {
        rc = tv_cli_fail(cli, rc, "cannot open the node's secrets");
        goto out;
    }
    if ((rc = tv_cli_pass_get(new_file, new_line, "New passphrase: ", 1, &np))) goto out;
    rc = tv_node_passwd(&n, np.p, np.len, kdf);
    tv_cli_pass_free(&np);
    if (rc) {
        rc = tv_cli_fail(cli, rc, "cannot change the passphrase");
        goto out;
    }
    if (kept && tv_node_keep_unlocked(&n, 0) != TV_OK)
        tv_cli_error("the passphrase was changed, but the node could not be kept unlocked: "
                     "run 'truyvet unlock'.");
    fprintf(stderr, "the passphrase was changed\n");
    rc = TV_EXIT_OK;
out:
    tv_node_close(&n);
    return rc;
}
