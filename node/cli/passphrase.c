/* Where a passphrase comes from, for init, unlock and passwd: a file (--passphrase-file,
 * '-' for standard input), the service's systemd credential
 * ($CREDENTIALS_DIRECTORY/passphrase), or the terminal, without echo. A console account's
 * password (user, init --operator) comes the same way, but never from the credential,
 * which is the node's passphrase. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/format/fileio.h"
#include "node/logic/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define PASS_FILE_MAX (2 * (TV_PASSPHRASE_MAX + 2))
#define CRED_NAME "passphrase"

/* What is read, as messages name it, and the option that gives it in a file. */
typedef struct pass_kind {
    const char *what, *option;
} pass_kind;
static const pass_kind PASSPHRASE = {"passphrase", "--passphrase-file"};
static const pass_kind PASSWORD = {"password", "--password-file"};

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

static int pass_nomem(const pass_kind *k)
{
    char what[64];
    snprintf(what, sizeof what, "cannot read the %s", k->what);
    return tv_cli_fail(NULL, TV_ENOMEM, what);
}

/* Line `line` (0 first) of text[0..len) into p, without its line end. */
static int pass_line(tv_pass *p, const char *text, size_t len, int line, const char *from,
                     const pass_kind *k)
{
    size_t at = 0;
    for (int i = 0; i < line; i++) {
        const char *nl = memchr(text + at, '\n', len - at);
        if (!nl) {
            tv_cli_error("%s holds no line %d for the %s.", from, line + 1, k->what);
            return TV_EXIT_USAGE;
        }
        at = (size_t)(nl - text) + 1;
    }
    const char *nl = memchr(text + at, '\n', len - at);
    size_t n = nl ? (size_t)(nl - text) - at : len - at;
    if (n && text[at + n - 1] == '\r') n--;
    if (n == 0) {
        tv_cli_error("the %s in %s is empty.", k->what, from);
        return TV_EXIT_USAGE;
    }
    if (n > TV_PASSPHRASE_MAX) {
        tv_cli_error("the %s in %s is longer than %d bytes.", k->what, from, TV_PASSPHRASE_MAX);
        return TV_EXIT_USAGE;
    }
    if (pass_alloc(p)) return pass_nomem(k);
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

static int pass_from_file(tv_pass *p, const char *path, int line, const pass_kind *k)
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
            tv_cli_error("cannot read the %s: %s does not exist.", k->what, from);
            return TV_EXIT_FAIL;
        }
        if (rc == TV_ELIMIT) {
            tv_cli_error("%s is too long to hold a %s.", from, k->what);
            return TV_EXIT_USAGE;
        }
        if (rc) {
            tv_cli_error("cannot read the %s from %s: %s.", k->what, from, strerror(errno));
            return TV_EXIT_FAIL;
        }
        if (strcmp(path, "-") == 0) {
            stdin_text = text;
            stdin_len = len;
            atexit(stdin_wipe);
        }
    }
    int rc = pass_line(p, text, len, line, from, k);
    if (text != stdin_text) {
        sodium_memzero(text, len);
        free(text);
    }
    return rc;
}

/* Asks on the terminal, without echo. Returns 0, or an exit status after a message. */
static int pass_ask(tv_pass *p, const char *prompt, const pass_kind *k)
{
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        tv_cli_error("no terminal to ask for the %s: give it with %s FILE ('-' for standard "
                     "input).",
                     k->what, k->option);
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
    if (rc) return pass_nomem(k);
    p->p[n] = '\0';
    p->len = n;
    if (too_long || n == 0) {
        tv_cli_pass_free(p);
        if (n == 0)
            tv_cli_error("the %s is empty.", k->what);
        else
            tv_cli_error("the %s is longer than %d bytes.", k->what, TV_PASSPHRASE_MAX);
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
    return pass_from_file(p, path, 0, &PASSPHRASE);
}

/* Asks on the terminal, twice when confirm. Returns 0, or an exit status after a message. */
static int pass_ask_twice(tv_pass *out, const char *prompt, int confirm, const pass_kind *k)
{
    int rc = pass_ask(out, prompt, k);
    if (rc || !confirm) return rc;
    tv_pass again;
    if ((rc = pass_ask(&again, "Type it again: ", k))) {
        tv_cli_pass_free(out);
        return rc;
    }
    int same = again.len == out->len && sodium_memcmp(again.p, out->p, out->len) == 0;
    tv_cli_pass_free(&again);
    if (!same) {
        tv_cli_pass_free(out);
        tv_cli_error("the two %ss differ; nothing was changed.", k->what);
        return TV_EXIT_USAGE;
    }
    return 0;
}

int tv_cli_pass_get(const char *file, int line, const char *prompt, int confirm, tv_pass *out)
{
    out->p = NULL;
    out->len = 0;
    if (file) return pass_from_file(out, file, line, &PASSPHRASE);
    int rc = tv_cli_pass_credential(out);
    if (rc != -1) return rc;
    return pass_ask_twice(out, prompt, confirm, &PASSPHRASE);
}

int tv_cli_password_get(const char *file, int line, const char *prompt, int confirm, tv_pass *out)
{
    out->p = NULL;
    out->len = 0;
    if (file) return pass_from_file(out, file, line, &PASSWORD);
    return pass_ask_twice(out, prompt, confirm, &PASSWORD);
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
