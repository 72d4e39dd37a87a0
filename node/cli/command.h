/* The command table: each command of `truyvet` and its options, declared as data.
 *
 * A command's file defines its descriptor (tv_command); commands.c holds only the list of
 * the top-level ones. From the descriptors follow dispatch (tv_command_run), every help text
 * (`truyvet --help`, `truyvet CMD --help`, `truyvet CMD SUB --help`), the messages for an
 * unknown command or option, and each command's getopt_long option array (tv_args_next).
 *
 * The options several commands share (--json, --format, --out, --reveal with --reason,
 * --payload/--person and --ref naming a person, --venue, --passphrase-file, --kdf, --help)
 * are declared once, in command.c; a command names the ones it takes in its own
 * list ({.id = TV_O_JSON}, with a help line of its own when it says more) and finds their
 * values in tv_args.o after parsing. The rule "--reveal needs --reason" is checked there.
 *
 * Adding a command takes two edits: its file node/cli/<name>.c, defining
 * `const tv_command tv_command_<name>` (its subcommands, options and handler beside it),
 * and its line in commands.c. tests/node/cli/command_test.c checks the table. */
#ifndef TV_NODE_CLI_COMMAND_H
#define TV_NODE_CLI_COMMAND_H

#include "node/cli/cli.h"

#include <getopt.h> /* optarg, optind: a command reads its options' values there */
#include <stdio.h>

/* Ids of the shared options (a command's own options use their letter or a value below
 * TV_O_SHARED). */
enum {
    TV_O_SHARED = 0x1000,
    TV_O_JSON = TV_O_SHARED,
    TV_O_FORMAT,
    TV_O_OUT,
    TV_O_REVEAL,
    TV_O_REASON,
    TV_O_PERSON,   /* --payload TEXT (or --person): a person, as tv_cli_person_ref reads it */
    TV_O_REF,      /* --ref HEX: a person's pseudonym */
    TV_O_VENUE,    /* --venue ID: a venue, as tv_cli_venue_find finds it */
    TV_O_PASSFILE, /* --passphrase-file FILE */
    TV_O_KDF,      /* --kdf LEVEL */
    TV_O_HELP,
    TV_O_END
};

enum {
    TV_OPT_ARG = 1u << 0,    /* a positional argument, only described (name as shown: "ID") */
    TV_OPT_HIDDEN = 1u << 1, /* accepted but not described (another name of an option) */
    TV_OPT_TEXT = 1u << 2,   /* its value is text a person typed: given in NFC (tv_cli_nfc) */
};

/* An option of a command. A shared option is named by id alone (name, arg and help come
 * from its declaration unless given). */
typedef struct tv_opt {
    const char *name; /* the long name, without "--" */
    int id;           /* what tv_args_next returns for it */
    const char *arg;  /* the name of its value ("FILE"), NULL when it takes none */
    const char *help; /* what it does; '\n' starts a continuation line */
    unsigned flags;   /* TV_OPT_... */
    char letter;      /* its short form (-x), or 0 */
} tv_opt;

typedef struct tv_command tv_command;
struct tv_command {
    const char *name;              /* one word: "venue", "add" */
    const char *summary;           /* one line for the list of commands ('\n' continues it) */
    const char *usage;             /* after "Usage: truyvet [-d DIR] "; '\n' starts a line, a
                                    * line starting with a space continues the one above.
                                    * NULL: its subcommands' usages */
    const char *about;             /* the paragraphs between the usage and the options */
    const tv_opt *opts;            /* its options and arguments, ended by {0}; may be NULL */
    const char *more;              /* paragraphs after the options; may be NULL */
    const tv_command *const *subs; /* its subcommands, ended by NULL; NULL: none */
    tv_cmd_fn fn;                  /* its handler (a command with subs may have none) */
    unsigned col;                  /* the width of the options' names in its help (0: the
                                    * widest's; a longer one is followed by two spaces) */
};

/* The values of the shared options, once parsed. */
typedef struct tv_shared_opts {
    int json;
    const char *format;
    const char *out;
    int reveal;
    const char *reason; /* in NFC */
    const char *person; /* in NFC */
    const char *ref;
    const char *venue;
    const char *passphrase_file;
    const char *kdf;
} tv_shared_opts;

/* The parser of one command's options. */
typedef struct tv_args {
    const tv_command *cmd;
    const char *path; /* "case add": in messages */
    int argc;
    char **argv;
    tv_shared_opts o;
    int status; /* the exit status after tv_args_next returned TV_ARGS_STOP */
    struct option *longopts;
    char shorts[64];
} tv_args;

#define TV_ARGS_STOP (-1)

/* Starts parsing argv (argv[0] the command's name) for the command cli->cmd runs. */
void tv_args_begin(tv_args *a, const tv_cli *cli, int argc, char **argv);
/* Returns the id of the next own option of the command, its value in optarg (in NFC when
 * the option is TV_OPT_TEXT); 0 when the options end (optind at the first argument, the
 * shared options checked: --reveal needs --reason); TV_ARGS_STOP after --help (printed,
 * status 0) or a usage error (printed, status TV_EXIT_USAGE). */
int tv_args_next(tv_args *a);
/* Parses a command that takes only shared options (its arguments are left from optind on).
 * Returns 0 to go on, else TV_ARGS_STOP with a->status set. */
int tv_args_only(tv_args *a, const tv_cli *cli, int argc, char **argv);

/* The top-level commands, ended by NULL (commands.c). */
extern const tv_command *const tv_commands[];

/* o with what its shared declaration gives it (name, arg, help, flags) when it names a
 * shared option by id alone. */
tv_opt tv_opt_resolve(const tv_opt *o);

/* Prints the help of command c, named path ("venue add"), to f. */
void tv_command_help(FILE *f, const tv_command *c, const char *path);
/* Prints the list of commands (name and summary), as `truyvet --help` shows it. */
void tv_command_list(FILE *f, const tv_command *const *cmds);
/* Runs the command argv[0] of cmds (argv[0] is its name), or its subcommand, by the
 * table: --help prints the help; an unknown (sub)command is a usage error naming the
 * ones there are. prefix is the path of the parent ("" at the top). */
int tv_command_run(tv_cli *cli, const tv_command *const *cmds, const char *prefix, int argc,
                   char **argv);
/* The command of cmds named name, or NULL. */
const tv_command *tv_command_find(const tv_command *const *cmds, const char *name);

#endif
