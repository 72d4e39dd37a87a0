/* The `truyvet` command: its global options, then the command named (commands.c). */
#include "node/cli/command.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TRUYVET_VERSION
#define TRUYVET_VERSION "0.1.0"
#endif

static void help(FILE *f)
{
    fputs("Usage: truyvet [-d DIR] COMMAND [OPTIONS]\n"
          "\n"
          "truyvet records QR check-ins at venues into a signed, local log that syncs up the\n"
          "administrative tree (commune -> district -> province) whenever a link allows.\n"
          "\n"
          "Commands:\n",
          f);
    tv_command_list(f, tv_commands);
    fputs("\n"
          "Options:\n"
          "  -d DIR     the node's directory (default: $TRUYVET_DIR, else\n"
          "             ~/.local/share/truyvet)\n"
          "  --help     this text; 'truyvet COMMAND --help' for a command's own\n"
          "  --version  the program's version\n"
          "\n"
          "Data is printed on standard output, messages on standard error. Exit status: 0 on\n"
          "success, 1 when the command failed, 2 when it was used wrongly, 3 when it would\n"
          "record on a node restored or copied that has not synced with a parent since, 4 when\n"
          "it needs the node's secrets (to record, sign, open sealed details or compute a\n"
          "pseudonym) and the node is locked: run 'truyvet unlock'.\n",
          f);
}

/* a server is purging or committing a console's scan on the node: say why we wait */
static void lock_wait(const char *dir)
{
    fprintf(stderr,
            "truyvet: waiting for another truyvet program on the node in %s to finish a short "
            "task (a server's purge or commit)...\n",
            dir);
}

static const char *default_dir(char *buf, size_t cap)
{
    const char *env = getenv("TRUYVET_DIR");
    if (env && *env) return env;
    const char *home = getenv("HOME");
    if (!home || !*home) return "truyvet-node";
    snprintf(buf, cap, "%s/.local/share/truyvet", home);
    return buf;
}

int main(int argc, char **argv)
{
    tv_cli cli = {.prog = "truyvet"};
    char dirbuf[4096];
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        if (strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--dir") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                fprintf(stderr, "truyvet: -d needs a directory.\nTry 'truyvet --help'.\n");
                return TV_EXIT_USAGE;
            }
            cli.dir = argv[i + 1];
            i += 2;
        } else if (strncmp(argv[i], "-d", 2) == 0) {
            cli.dir = argv[i] + 2;
            i++;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            help(stdout);
            return TV_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            puts("truyvet " TRUYVET_VERSION);
            return TV_EXIT_OK;
        } else {
            fprintf(stderr, "truyvet: unknown option '%s'.\nTry 'truyvet --help'.\n", argv[i]);
            return TV_EXIT_USAGE;
        }
    }
    if (i >= argc) {
        help(stderr);
        return TV_EXIT_USAGE;
    }
    if (!cli.dir) cli.dir = default_dir(dirbuf, sizeof dirbuf);
    if (sodium_init() < 0) {
        fprintf(stderr, "truyvet: the cryptography library failed to start.\n");
        return TV_EXIT_FAIL;
    }
    tv_node_on_lock_wait(lock_wait);
    if (strcmp(argv[i], "help") == 0) {
        help(stdout);
        return TV_EXIT_OK;
    }
    int rc = tv_command_run(&cli, tv_commands, "", argc - i, argv + i);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "truyvet: writing the output failed.\n");
        return TV_EXIT_FAIL;
    }
    return rc;
}
