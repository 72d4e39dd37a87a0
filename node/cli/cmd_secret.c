/* `truyvet unlock`, `truyvet lock`, `truyvet passwd`, and where a passphrase comes from:
 * a file (--passphrase-file, '-' for standard input), the service's systemd credential
 * ($CREDENTIALS_DIRECTORY/passphrase), or the terminal, without echo. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/format/fileio.h"
#include "node/logic/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASS_FILE_MAX (2 * (TV_PASSPHRASE_MAX + 2))
#define CRED_NAME "passphrase"

void tv_cli_pass_free(tv_pass *p)
{
    if (p->p) sodium_free(p->p);
    p->p = NULL;
    p->len = 0;
}

static int pass_alloc(tv_pass *p)
{
    p->p = sodium_malloc(TV_PASSPHRASE_MAX + 2);
    p->len = 0;
    return p->p ? TV_OK : TV_ENOMEM;
}

/* Line `line` (0 first) of text[0..len) into p, without its line end. */
static int pass_line(tv_pass *p, const char *text, size_t len, int line, const char *from)
{
    size_t at = 0;
    for (int i = 0; i < line; i++) {
        const char *nl = memchr(text + at, '\n', len - at);
        if (!nl) {
            tv_cli_error("%s holds no line %d for the passphrase.", from, line + 1);
            return TV_EXIT_USAGE;
        }
        at = (size_t)(nl - text) + 1;
    }
    const char *nl = memchr(text + at, '\n', len - at);
    size_t n = nl ? (size_t)(nl - text) - at : len - at;
    if (n && text[at + n - 1] == '\r') n--;
    if (n == 0) {
        tv_cli_error("the passphrase in %s is empty.", from);
        return TV_EXIT_USAGE;
    }
    if (n > TV_PASSPHRASE_MAX) {
        tv_cli_error("the passphrase in %s is longer than %d bytes.", from, TV_PASSPHRASE_MAX);
        return TV_EXIT_USAGE;
    }
    if (pass_alloc(p)) return tv_cli_fail(NULL, TV_ENOMEM, "cannot read the passphrase");
    memcpy(p->p, text + at, n);
    p->p[n] = '\0';
    p->len = n;
    return 0;
}

/* Standard input is read once: passwd may take the old and the new passphrase from it. */
static char *stdin_text;
static size_t stdin_len;

static void stdin_wipe(void)
{
    if (stdin_text) {
        sodium_memzero(stdin_text, stdin_len);
        free(stdin_text);
        stdin_text = NULL;
    }
}

static int pass_from_file(tv_pass *p, const char *path, int line)
{
    char *text;
    size_t len;
    const char *from = strcmp(path, "-") == 0 ? "standard input" : path;
    if (strcmp(path, "-") == 0 && stdin_text) {
        text = stdin_text;
        len = stdin_len;
    } else {
        int rc = tv_file_read(path, PASS_FILE_MAX, &text, &len);
        if (rc == TV_ENOTFOUND) {
            tv_cli_error("cannot read the passphrase: %s does not exist.", from);
            return TV_EXIT_FAIL;
        }
        if (rc == TV_ELIMIT) {
            tv_cli_error("%s is too long to hold a passphrase.", from);
            return TV_EXIT_USAGE;
        }
        if (rc) {
            tv_cli_error("cannot read the passphrase from %s: %s.", from, strerror(errno));
            return TV_EXIT_FAIL;
        }
        if (strcmp(path, "-") == 0) {
            stdin_text = text;
            stdin_len = len;
            atexit(stdin_wipe);
        }
    }
    int rc = pass_line(p, text, len, line, from);
    if (text != stdin_text) {
        sodium_memzero(text, len);
        free(text);
    }
    return rc;
}

/* Asks on the terminal, without echo. Returns 0, or an exit status after a message. */
static int pass_ask(tv_pass *p, const char *prompt)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        tv_cli_error("no terminal to ask for the passphrase: give it with --passphrase-file "
                     "FILE ('-' for standard input).");
        return TV_EXIT_USAGE;
    }
    struct termios old, quiet;
    int have_tty = tcgetattr(fd, &old) == 0;
    if (have_tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        quiet.c_lflag |= ICANON;
        (void)tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    if (write(fd, prompt, strlen(prompt)) < 0) { /* the answer is read all the same */
    }
    int rc = pass_alloc(p);
    size_t n = 0;
    char c;
    ssize_t r;
    int too_long = 0;
    while (rc == 0 && (r = read(fd, &c, 1)) != 0) {
        if (r < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (c == '\n' || c == '\r') break;
        if (n < TV_PASSPHRASE_MAX)
            p->p[n++] = c;
        else
            too_long = 1;
    }
    c = 0;
    if (have_tty) (void)tcsetattr(fd, TCSAFLUSH, &old);
    if (write(fd, "\n", 1) < 0) {
    }
    close(fd);
    if (rc) return tv_cli_fail(NULL, TV_ENOMEM, "cannot read the passphrase");
    p->p[n] = '\0';
    p->len = n;
    if (too_long || n == 0) {
        tv_cli_pass_free(p);
        tv_cli_error(n == 0 ? "the passphrase is empty."
                            : "the passphrase is longer than %d bytes.",
                     TV_PASSPHRASE_MAX);
        return TV_EXIT_USAGE;
    }
    return 0;
}

int tv_cli_pass_credential(tv_pass *p)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir) return -1;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/" CRED_NAME, dir) >= (int)sizeof path) return -1;
    if (access(path, R_OK) != 0) return -1;
    return pass_from_file(p, path, 0);
}

int tv_cli_pass_get(const char *file, int line, const char *prompt, int confirm, tv_pass *out)
{
    out->p = NULL;
    out->len = 0;
    if (file) return pass_from_file(out, file, line);
    int rc = tv_cli_pass_credential(out);
    if (rc != -1) return rc;
    if ((rc = pass_ask(out, prompt))) return rc;
    if (!confirm) return 0;
    tv_pass again;
    if ((rc = pass_ask(&again, "Type it again: "))) {
        tv_cli_pass_free(out);
        return rc;
    }
    int same = again.len == out->len && sodium_memcmp(again.p, out->p, out->len) == 0;
    tv_cli_pass_free(&again);
    if (!same) {
        tv_cli_pass_free(out);
        tv_cli_error("the two passphrases differ; nothing was changed.");
        return TV_EXIT_USAGE;
    }
    return 0;
}

int tv_cli_kdf_option(const char *cmd, const char *arg, tv_kdf_level *out)
{
    if (arg) {
        if (tv_kdf_level_parse(arg, out))
            return tv_cli_usage(
                cmd, "--kdf takes moderate, interactive, sensitive or min, not '%s'.", arg);
        return 0;
    }
    int bad;
    *out = tv_kdf_level_default(&bad);
    if (bad)
        return tv_cli_usage(cmd,
                            "TRUYVET_KDF is not one of moderate, interactive, sensitive, min.");
    return 0;
}

int tv_cli_wrong_passphrase(void)
{
    tv_cli_error("wrong passphrase: the node's secrets stay locked.");
    return TV_EXIT_FAIL;
}

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

static const char unlock_help[] =
    "Usage: truyvet [-d DIR] unlock [--for DURATION] [--passphrase-file FILE]\n"
    "\n"
    "Ask once for the node's passphrase and keep its secrets available to this user's\n"
    "later truyvet commands on this node, until 'truyvet lock', the end of DURATION, or\n"
    "the machine is switched off. What is kept is the key that opens DIR/node.secret, in\n"
    "the kernel's user keyring as 'truyvet:<node id>', readable by this user only; never\n"
    "on disk.\n"
    "\n"
    "  --for DURATION        forget it after DURATION: a number and s, m, h or d (8h)\n"
    "  --passphrase-file FILE  read the passphrase from the first line of FILE ('-':\n"
    "                        standard input) instead of asking on the terminal\n"
    "\n"
    "Without --passphrase-file, a systemd credential named 'passphrase'\n"
    "($CREDENTIALS_DIRECTORY/passphrase) is used when there is one. Commands that need\n"
    "the secrets while the node is locked stop with exit status 4.\n";

int tv_cmd_unlock(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"for", required_argument, 0, 'f'},
                                         {"passphrase-file", required_argument, 0, 'p'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *file = NULL, *dur = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'f')
            dur = optarg;
        else if (c == 'p')
            file = optarg;
        else if (c == 'h') {
            fputs(unlock_help, stdout);
            return TV_EXIT_OK;
        } else
            return tv_cli_bad_option("unlock", c, argv);
    }
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

static const char lock_help[] =
    "Usage: truyvet [-d DIR] lock\n"
    "\n"
    "Forget the key 'truyvet unlock' kept: the node's later commands that need its\n"
    "secrets stop with exit status 4 until it is unlocked again. A server already\n"
    "running keeps its secrets until it stops.\n";

int tv_cmd_lock(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_opts("lock", lock_help, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("lock", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    if ((rc = tv_node_open(&n, cli->dir, 0))) return tv_cli_fail(cli, rc, "cannot open the node");
    rc = tv_node_forget_unlocked(&n);
    tv_node_close(&n);
    if (rc == TV_EIO) {
        tv_cli_error("cannot lock the node: the kernel keyring refused (%s).", strerror(errno));
        return TV_EXIT_FAIL;
    }
    fprintf(stderr, rc == TV_ENOTFOUND ? "the node was not unlocked\n" : "locked\n");
    return TV_EXIT_OK;
}

static const char passwd_help[] =
    "Usage: truyvet [-d DIR] passwd [--passphrase-file FILE] [--new-passphrase-file FILE]\n"
    "                              [--kdf LEVEL]\n"
    "\n"
    "Change the passphrase of the node's secrets (DIR/node.secret): asks for the old one,\n"
    "then twice for the new one. The server must be stopped. A node kept unlocked stays\n"
    "unlocked; a systemd credential must be made again with the new passphrase.\n"
    "\n"
    "A node made by an earlier truyvet keeps its keys in clear files (node.key,\n"
    "tracing.key) and is refused until 'truyvet passwd' has encrypted them: it asks only\n"
    "for the new passphrase, writes node.secret, then overwrites and removes the clear\n"
    "files (copies of them elsewhere, in backups, stay as they were).\n"
    "\n"
    "  --passphrase-file FILE      the old passphrase, first line of FILE ('-': stdin)\n"
    "  --new-passphrase-file FILE  the new one, first line of FILE ('-': stdin, its\n"
    "                              second line when the old one is read from stdin too)\n"
    "  --kdf LEVEL   the cost of deriving the key from the passphrase (Argon2id):\n"
    "                moderate (the default, about 0.5 s and 256 MiB), interactive (0.1 s,\n"
    "                64 MiB), sensitive (several seconds, 1 GiB); min is for tests only.\n"
    "                $TRUYVET_KDF sets the default.\n";

int tv_cmd_passwd(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"passphrase-file", required_argument, 0, 'p'},
                                         {"new-passphrase-file", required_argument, 0, 'n'},
                                         {"kdf", required_argument, 0, 'k'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *old_file = NULL, *new_file = NULL, *kdf_s = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'p')
            old_file = optarg;
        else if (c == 'n')
            new_file = optarg;
        else if (c == 'k')
            kdf_s = optarg;
        else if (c == 'h') {
            fputs(passwd_help, stdout);
            return TV_EXIT_OK;
        } else
            return tv_cli_bad_option("passwd", c, argv);
    }
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
