/* The `truyvet` command: global options and dispatch to the subcommands. */
#include "node/cli/cli.h"

#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TRUYVET_VERSION
#define TRUYVET_VERSION "0.1.0"
#endif

static const char help[] =
    "Usage: truyvet [-d DIR] COMMAND [OPTIONS]\n"
    "\n"
    "truyvet records QR check-ins at venues into a signed, local log that syncs up the\n"
    "administrative tree (commune -> district -> province) whenever a link allows.\n"
    "\n"
    "Commands:\n"
    "  init      create a node (its keys and store)\n"
    "  venue     register, list, show and edit venues\n"
    "  scan      record one check-in or check-out\n"
    "  station   the gate: record what a QR reader scans, answer each line\n"
    "  watch     follow check-ins and check-outs as they are recorded\n"
    "  person    what the node holds of a person; in full on a health node, audited\n"
    "  audit     every full view of a person's details, who and why\n"
    "  trace     who shared a venue with a case (F1, F2), and where they were\n"
    "  case      confirmed cases and contacts (health nodes add them)\n"
    "  risk      risk levels of units (health nodes set them)\n"
    "  alerts    when confirmed cases were at this commune's venues\n"
    "  report    each commune's figures for a week or a period, and how fresh they are\n"
    "  unit      villages, districts and clusters: the unit tree the reports add up\n"
    "  qr        venue posters, personal cards, the enrolment request as a QR code,\n"
    "            and checking a poster's code offline\n"
    "  import    record check-ins and check-outs from a CSV file\n"
    "  status    what the node is and holds\n"
    "  retention the province's retention period (the root sets it)\n"
    "  purge     remove what is older than the retention period from the node's files\n"
    "  hold      keep a person's records past retention (health nodes)\n"
    "  log       every event the node holds\n"
    "  verify    re-check every signature and hash chain in the store\n"
    "  serve     run on the network: listen, connect to parents, stay in step\n"
    "  sync      one exchange with a parent (sync --once), then exit\n"
    "  peer      where to listen, the parents and neighbouring peers\n"
    "  peers     the state of the running server's sessions\n"
    "  bundle    export batches to a file for a USB stick, or import such a file\n"
    "  enroll    join the province's tree of trust: request, issue, accept certificates\n"
    "  revoke    withdraw a node's certificate\n"
    "  resync    whether a restored or copied node waits for a sync; override that\n"
    "  unlock    ask for the passphrase once; keep the node's secrets available\n"
    "  lock      forget them: commands that need them stop until 'truyvet unlock'\n"
    "  passwd    change the passphrase of the node's secrets\n"
    "\n"
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
    "pseudonym) and the node is locked: run 'truyvet unlock'.\n";

static const struct {
    const char *name;
    tv_cmd_fn fn;
} commands[] = {
    {"init", tv_cmd_init},     {"venue", tv_cmd_venue},         {"scan", tv_cmd_scan},
    {"import", tv_cmd_import}, {"status", tv_cmd_status},       {"log", tv_cmd_log},
    {"verify", tv_cmd_verify}, {"serve", tv_cmd_serve},         {"sync", tv_cmd_sync},
    {"peer", tv_cmd_peer},     {"peers", tv_cmd_peers},         {"bundle", tv_cmd_bundle},
    {"enroll", tv_cmd_enroll}, {"revoke", tv_cmd_revoke},       {"station", tv_cmd_station},
    {"watch", tv_cmd_watch},   {"person", tv_cmd_person},       {"audit", tv_cmd_audit},
    {"qr", tv_cmd_qr},         {"trace", tv_cmd_trace},         {"case", tv_cmd_case},
    {"risk", tv_cmd_risk},     {"alerts", tv_cmd_alerts},       {"report", tv_cmd_report},
    {"unit", tv_cmd_unit},     {"resync", tv_cmd_resync},       {"unlock", tv_cmd_unlock},
    {"lock", tv_cmd_lock},     {"passwd", tv_cmd_passwd},       {"unit", tv_cmd_unit},
    {"resync", tv_cmd_resync}, {"retention", tv_cmd_retention}, {"purge", tv_cmd_purge},
    {"hold", tv_cmd_hold},
};

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
    opterr = 0; /* the commands print their own message for a bad option */
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
            fputs(help, stdout);
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
        fputs(help, stderr);
        return TV_EXIT_USAGE;
    }
    if (!cli.dir) cli.dir = default_dir(dirbuf, sizeof dirbuf);
    if (sodium_init() < 0) {
        fprintf(stderr, "truyvet: the cryptography library failed to start.\n");
        return TV_EXIT_FAIL;
    }
    if (strcmp(argv[i], "help") == 0) {
        fputs(help, stdout);
        return TV_EXIT_OK;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        if (strcmp(argv[i], commands[k].name) != 0) continue;
        int rc = commands[k].fn(&cli, argc - i, argv + i);
        if (fflush(stdout) != 0 || ferror(stdout)) {
            fprintf(stderr, "truyvet: writing the output failed.\n");
            return TV_EXIT_FAIL;
        }
        return rc;
    }
    fprintf(stderr, "truyvet: unknown command '%s'.\nTry 'truyvet --help'.\n", argv[i]);
    return TV_EXIT_USAGE;
}
