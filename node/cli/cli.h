/* Shared pieces of the `truyvet` command-line interface: options, messages, node access.
 *
 * Conventions of every command: data goes to stdout, messages to stderr; exit status 0
 * on success, 1 when the command failed, 2 for a usage error, 3 when it would record on a
 * node whose store was restored or copied and has not synced since (resync.h), 4 when it
 * needs the node's secrets and the node is locked (secret.h). Messages
 * are written for a commune clerk: what went wrong and what to do. */
#ifndef TV_NODE_CLI_H
#define TV_NODE_CLI_H

#include "crdt/cert.h"
#include "node/render/cert.h"
#include "node/render/json.h"
#include "node/logic/node.h"
#include "node/logic/why.h"
#include "node/format/payload.h"
#include "node/format/text.h"

#include <signal.h>
#include <stdio.h>

enum {
    TV_EXIT_OK = 0,
    TV_EXIT_FAIL = 1,
    TV_EXIT_USAGE = 2,
    TV_EXIT_RESTORED = 3,
    TV_EXIT_LOCKED = 4
};

struct tv_command;
typedef struct tv_cli {
    const char *dir; /* the node directory (-d, $TRUYVET_DIR, or the default) */
    const char *prog;
    const struct tv_command *cmd; /* the command running (command.h) */
    char path[64];                /* its name with its parent's: "case add" */
} tv_cli;

/* A command's handler (command.h): argv[0] is its name. Returns the process exit status. */
typedef int (*tv_cmd_fn)(tv_cli *cli, int argc, char **argv);

/* Ends a command stopped by a signal the way a shell expects: after a SIGINT (Ctrl-C) that
 * the command caught to finish cleanly, it dies of SIGINT itself, so that a script running
 * it stops too rather than going on (a shell that sees a child exit normally takes the
 * interrupt as handled by it). Returns for any other sig (0, SIGTERM: a service's stop). */
void tv_cli_signal_exit(int sig);

/* The signal that stopped a server (serve, sync): 0 until SIGTERM or SIGINT comes, once
 * tv_cli_stop_on_signals has installed the handlers (which also ignore SIGPIPE). */
extern volatile sig_atomic_t tv_cli_stop;
void tv_cli_stop_on_signals(void);

/* Prints "truyvet: <message>" to stderr. */
void tv_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints an error for code rc, after the words `what` (e.g. "cannot record the scan"),
 * explained for the person at the keyboard. Returns TV_EXIT_FAIL, or TV_EXIT_RESTORED for
 * TV_ERESTORED. */
int tv_cli_fail(const tv_cli *cli, int rc, const char *what);
/* For commands that write --out FILE: tv_cli_out_check refuses, before anything is done,
 * a path whose directory is missing or not writable ("cannot write PATH: No such file or
 * directory; nothing was done.") and returns TV_EXIT_FAIL, else 0; tv_cli_fail_out is
 * tv_cli_fail for an error in writing path, which it names with the system's reason
 * (TV_EIO) instead of blaming the node directory. */
int tv_cli_out_check(const char *path);
int tv_cli_fail_out(const tv_cli *cli, int rc, const char *what, const char *path);
/* Prints an enrolment refusal (enroll, revoke): the sentence why if the API gave one, else
 * as tv_cli_fail. Returns the exit status. */
int tv_cli_enroll_fail(const tv_cli *cli, int rc, const char *what, const char *why);
/* Prints a usage error with a hint to --help. Returns TV_EXIT_USAGE. */
int tv_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Text typed on the command line or read from a file, in Unicode NFC (text.h,
 * tv_text_nfc): s itself when it is already NFC or is not valid UTF-8 (tv_cli_text then
 * refuses it), else an NFC copy that lives until the program exits. NULL gives NULL. */
const char *tv_cli_nfc(const char *s);

/* Checks text typed for a field of at most max bytes (what names it: "venue name"), by
 * tv_why_text (why.h): no control character, valid UTF-8. Prints a usage error for
 * command cmd ("the venue name holds a control character (U+001B).") and returns
 * TV_EXIT_USAGE when it may not be recorded; 0 otherwise. */
int tv_cli_text(const char *cmd, const char *what, const char *s, size_t max);

/* Prints the sentence of a refusal (why.h, a logic function's rc and why) as "truyvet:
 * <en>". Returns TV_EXIT_USAGE for TV_EINVAL (malformed input), else TV_EXIT_FAIL. */
int tv_cli_why(int rc, const tv_why *why);

/* Checks that code names a unit of the tree: an official unit (node/units/), a unit
 * that a unit event names in n's store (n may be NULL: the official list only), or a
 * local unit <commune>.<local> whose commune is one of those (a village that its commune
 * may name later with 'unit add'). Prints a usage error for command cmd naming the code,
 * with the official units whose codes are nearest, and returns TV_EXIT_USAGE when it is
 * unknown; 0 otherwise. */
int tv_cli_unit_known(const char *cmd, tv_node *n, const char *code);

/* Reports an option getopt_long (with a leading ':' in its option string) refused: c is
 * ':' for a missing value, else an unknown option. Returns TV_EXIT_USAGE. */
int tv_cli_bad_option(const char *cmd, int c, char **argv);

/* Parses the options of a command that takes only --json (and --help) and no argument,
 * by its descriptor (command.h). Returns 0 to go on, -1 after --help, or an exit status. */
int tv_cli_json_only(tv_cli *cli, int argc, char **argv, int *json);

/* Opens the CLI's node (flags as tv_node_open), printing a clear message on failure.
 * A node the keyring does not keep unlocked is unlocked with the systemd credential
 * $CREDENTIALS_DIRECTORY/passphrase when there is one. TV_NODE_WRITE implies
 * TV_NODE_SECRET: recording signs, and a health node's store opens sealed events with its
 * key as it applies them. Returns 0, TV_EXIT_LOCKED (with the message naming 'truyvet
 * unlock') or TV_EXIT_FAIL. */
int tv_cli_open(tv_cli *cli, tv_node *n, int flags);

/* A passphrase in guarded memory (sodium_malloc), NUL-terminated; len bytes. */
typedef struct tv_pass {
    char *p;
    size_t len;
} tv_pass;
/* Reads a passphrase (passphrase.c): from file when given ('-': standard input, read once;
 * line 0 is its first line), else from the systemd credential
 * $CREDENTIALS_DIRECTORY/passphrase when there is one, else from the terminal without echo
 * after prompt (asked twice when confirm). Returns 0, or an exit status after a message. */
int tv_cli_pass_get(const char *file, int line, const char *prompt, int confirm, tv_pass *out);
/* A console account's password (user, init --operator): as tv_cli_pass_get, but never
 * from the systemd credential (the node's passphrase), and named a password in messages
 * (--password-file). */
int tv_cli_password_get(const char *file, int line, const char *prompt, int confirm, tv_pass *out);
/* Prints why account name of role (tv_account_role) was not added: rc and why as
 * tv_account_add returned them (user.c). Returns the exit status. */
int tv_cli_account_add_fail(tv_cli *cli, int rc, const char *name, int role, const char *why);
/* The systemd credential only: 0 (read), -1 (there is none), or an exit status. */
int tv_cli_pass_credential(tv_pass *out);
void tv_cli_pass_free(tv_pass *p);
/* The Argon2id cost of --kdf arg (NULL: $TRUYVET_KDF, else moderate). Returns 0 or
 * TV_EXIT_USAGE after a message. */
int tv_cli_kdf_option(const char *cmd, const char *arg, tv_kdf_level *out);
/* Prints that the passphrase is wrong. Returns TV_EXIT_FAIL. */
int tv_cli_wrong_passphrase(void);

/* Finds a venue by its full id (16 hex digits), a unique prefix of at least 4 digits, or
 * the short code on its poster (XXXX-XXXX-C, see payload.h), by tv_venue_find
 * (venue_input.h). Prints a message and returns TV_EXIT_FAIL or TV_EXIT_USAGE when there
 * is none or the prefix is ambiguous; 0 on success. */
int tv_cli_venue_find(tv_node *n, const char *text, store_venue *out);

/* Finds the venue named by text (tv_cli_venue_find) and signs its poster's payload p: only
 * the commune node that registered it may. Prints why not; returns 0 or an exit status. */
int tv_cli_own_payload(tv_node *n, const char *text, store_venue *v, tv_venue_payload *p);

/* The pseudonym of the person given by --person TEXT (a card's QR text, or a number read
 * with the province key where the node holds it, else with its own pseudonym key:
 * tv_node_ref_key) or --ref HEX (exactly one is non-NULL). Prints a usage error for
 * command cmd and returns TV_EXIT_USAGE when it cannot be read, TV_EXIT_LOCKED when
 * --person needs the key of a locked node, TV_EXIT_FAIL (saying why) when the node holds
 * no pseudonym key; 0 otherwise. */
int tv_cli_person_ref(const char *cmd, const tv_node *n, const char *person, const char *refhex,
                      uint8_t ref[TV_PERSON_REF_BYTES]);

/* Reads an instant given on the command line: 'today' or a date (2021-10-06), meaning its
 * midnight in Vietnam, or a time with its offset (2021-10-06T08:00:00+07:00). Returns 0,
 * or TV_EINVAL. */
int tv_cli_when(const char *s, int64_t *ms);

/* Prints the id of this node's event seq (<16 hex>-<seq>, as scan and import print it) to
 * stdout, with no line end. */
void tv_cli_print_event_id(const tv_node *n, uint64_t seq);

/* Formats an HLC timestamp as Vietnam local time "YYYY-MM-DDTHH:MM:SS+07:00". */
void tv_cli_hlc_time(char *out, size_t cap, uint64_t hlc);

/* The shared pieces of case, risk and alerts. */
#define TV_CLI_UNIT_LABEL_BYTES (TV_UNIT_CODE_MAX + 2 + TV_TEXT_ESC_BYTES)
/* Reports a refused health event (case status, risk level: what) for unit: not a health
 * node, or outside its scope; else as tv_cli_fail. Returns the exit status. */
int tv_cli_health_refused(tv_cli *cli, int rc, const char *what, const char *unit);
/* Reads the time option name (--at) of command cmd, as tv_cli_when, before 2200. Returns 0
 * or TV_EXIT_USAGE after a message. */
int tv_cli_when_opt(const char *cmd, const char *name, const char *v, int64_t *ms);

#endif
