/* The command table: help, dispatch and option parsing generated from the descriptors. */
#include "node/cli/command.h"
#include "node/format/text.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shared options, declared once. */
static const tv_opt shared[TV_O_END - TV_O_SHARED] = {
    [TV_O_JSON - TV_O_SHARED] = {"json", TV_O_JSON, NULL, "one JSON object per line", 0, 0},
    [TV_O_FORMAT - TV_O_SHARED] = {"format", TV_O_FORMAT, "FORMAT", "the output's format", 0, 0},
    [TV_O_OUT -
        TV_O_SHARED] = {"out", TV_O_OUT, "FILE", "write to FILE, not standard output", 0, 0},
    [TV_O_REVEAL - TV_O_SHARED] = {"reveal", TV_O_REVEAL, NULL,
                                   "show the person's details in full (recorded in the\n"
                                   "audit log); needs --reason",
                                   0, 0},
    [TV_O_REASON - TV_O_SHARED] = {"reason", TV_O_REASON, "TEXT", "why", TV_OPT_TEXT, 0},
    [TV_O_PERSON - TV_O_SHARED] = {"payload", TV_O_PERSON, "TEXT",
                                   "what the person's card QR holds, or a phone or ID number",
                                   TV_OPT_TEXT, 0},
    [TV_O_REF - TV_O_SHARED] = {"ref", TV_O_REF, "HEX",
                                "the person's pseudonym (32 hex digits, as `trace` shows it)", 0,
                                0},
    [TV_O_VENUE - TV_O_SHARED] = {"venue", TV_O_VENUE, "ID",
                                  "the venue id (or a unique prefix of at least 4 digits)", 0, 0},
    [TV_O_PASSFILE - TV_O_SHARED] = {"passphrase-file", TV_O_PASSFILE, "FILE",
                                     "the passphrase: the first line of FILE ('-': stdin)", 0, 0},
    [TV_O_KDF - TV_O_SHARED] = {"kdf", TV_O_KDF, "LEVEL",
                                "the cost of deriving the key from the passphrase: moderate (the\n"
                                "default), interactive, sensitive ('truyvet passwd --help')",
                                0, 0},
    [TV_O_HELP - TV_O_SHARED] = {"help", TV_O_HELP, NULL, "this text", 0, 'h'},
};

tv_opt tv_opt_resolve(const tv_opt *o)
{
    tv_opt r = *o;
    if (o->id >= TV_O_SHARED && o->id < TV_O_END) {
        const tv_opt *s = &shared[o->id - TV_O_SHARED];
        if (!r.name) r.name = s->name;
        if (!r.arg) r.arg = s->arg;
        if (!r.help) r.help = s->help;
        if (!r.letter) r.letter = s->letter;
        r.flags |= s->flags;
    }
    return r;
}

static size_t opts_count(const tv_opt *opts)
{
    size_t n = 0;
    while (opts && (opts[n].name || opts[n].id))
        n++;
    return n;
}

/* Writes text, each line after the first indented by indent spaces. */
static void put_indented(FILE *f, const char *text, size_t indent)
{
    for (const char *p = text; *p; p++) {
        fputc(*p, f);
        if (*p == '\n' && p[1]) fprintf(f, "%*s", (int)indent, "");
    }
}

/* The width of "--name ARG" (or "ARG" of a positional argument) in characters. */
static size_t opt_label(const tv_opt *o, char *buf, size_t cap)
{
    if (o->flags & TV_OPT_ARG)
        snprintf(buf, cap, "%s", o->name);
    else
        snprintf(buf, cap, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    size_t chars = 0;
    for (const char *p = buf; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    return chars;
}

/* Prints the usage lines u (command.h), the first after "Usage: " when first. */
static void put_usage(FILE *f, const char *u, int *first)
{
    while (*u) {
        size_t len = strcspn(u, "\n");
        if (*u == ' ')
            fprintf(f, "%.*s\n", (int)len, u); /* a continuation of the line above */
        else
            fprintf(f, "%struyvet [-d DIR] %.*s\n", *first ? "Usage: " : "       ", (int)len, u);
        *first = 0;
        u += len + (u[len] == '\n');
    }
}

void tv_command_help(FILE *f, const tv_command *c, const char *path)
{
    int first = 1;
    if (c->usage)
        put_usage(f, c->usage, &first);
    else
        fprintf(f, "Usage: truyvet [-d DIR] %s%s\n", path, c->subs ? " COMMAND ..." : "");
    if (c->about) fprintf(f, "\n%s", c->about);
    size_t n = opts_count(c->opts), width = c->col, any = 0;
    char label[128];
    for (size_t i = 0; i < n && !c->col; i++) {
        tv_opt o = tv_opt_resolve(&c->opts[i]);
        if (o.flags & TV_OPT_HIDDEN || !o.help) continue;
        size_t w = opt_label(&o, label, sizeof label);
        if (w > width) width = w;
    }
    for (size_t i = 0; i < n; i++) {
        tv_opt o = tv_opt_resolve(&c->opts[i]);
        if (o.flags & TV_OPT_HIDDEN || !o.help) continue;
        if (!any++) fputc('\n', f);
        size_t w = opt_label(&o, label, sizeof label);
        fprintf(f, "  %s%*s", label, (int)(w < width ? width + 2 - w : 2), "");
        put_indented(f, o.help, width + 4);
        fputc('\n', f);
    }
    if (c->subs) {
        /* each subcommand's usage lines, then what it does */
        fputc('\n', f);
        for (const tv_command *const *s = c->subs; *s; s++) {
            const char *u = (*s)->usage;
            while (u && *u) {
                size_t len = strcspn(u, "\n"), skip = 0;
                if (*u == ' ') /* aligned under "Usage: truyvet [-d DIR] " */
                    while (skip < len && skip < sizeof "Usage: truyvet [-d DIR] " - 1 &&
                           u[skip] == ' ')
                        skip++;
                fprintf(f, "  %.*s\n", (int)(len - skip), u + skip);
                u += len + (u[len] == '\n');
            }
            if (!(*s)->usage) fprintf(f, "  %s %s COMMAND ...\n", path, (*s)->name);
            if ((*s)->summary) {
                fputs("      ", f);
                put_indented(f, (*s)->summary, 6);
                fputc('\n', f);
            }
        }
    }
    if (c->more) fprintf(f, "\n%s", c->more);
    if (c->subs)
        fprintf(f, "\n'truyvet %s COMMAND --help' explains each command and its options.\n", path);
}

void tv_command_list(FILE *f, const tv_command *const *cmds)
{
    size_t width = 0;
    for (const tv_command *const *c = cmds; *c; c++)
        if (strlen((*c)->name) > width) width = strlen((*c)->name);
    for (const tv_command *const *c = cmds; *c; c++) {
        fprintf(f, "  %-*s ", (int)width, (*c)->name);
        put_indented(f, (*c)->summary, width + 3);
        fputc('\n', f);
    }
}

const tv_command *tv_command_find(const tv_command *const *cmds, const char *name)
{
    for (; *cmds; cmds++)
        if (strcmp((*cmds)->name, name) == 0) return *cmds;
    return NULL;
}

static int is_help(const char *s)
{
    return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

int tv_command_run(tv_cli *cli, const tv_command *const *cmds, const char *prefix, int argc,
                   char **argv)
{
    const tv_command *c = tv_command_find(cmds, argv[0]);
    char path[sizeof cli->path];
    if (!c) {
        if (!*prefix) {
            fprintf(stderr, "truyvet: unknown command '%s'.\nTry 'truyvet --help'.\n",
                    tv_text_esc(argv[0]));
            return TV_EXIT_USAGE;
        }
        return tv_cli_usage(prefix, "unknown %s command '%s'.", prefix, tv_text_esc(argv[0]));
    }
    snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? " " : "", c->name);
    memcpy(cli->path, path, sizeof path);
    cli->cmd = c;
    if (c->subs) {
        if (argc >= 2 && is_help(argv[1])) {
            tv_command_help(stdout, c, path);
            return TV_EXIT_OK;
        }
        if (argc >= 2 && tv_command_find(c->subs, argv[1]))
            return tv_command_run(cli, c->subs, path, argc - 1, argv + 1);
        if (!c->fn) {
            char names[512] = "";
            size_t n = 0, k = 0;
            while (c->subs[n])
                n++;
            for (; k < n; k++)
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s'%s %s'",
                         k == 0       ? ""
                         : k + 1 == n ? " or "
                                      : ", ",
                         path, c->subs[k]->name);
            if (argc >= 2 && argv[1][0] != '-')
                return tv_cli_usage(path, "unknown %s command '%s': use %s.", path,
                                    tv_text_esc(argv[1]), names);
            return tv_cli_usage(path, "use %s.", names);
        }
    }
    return c->fn(cli, argc, argv);
}

/* --- options ---------------------------------------------------------------------------- */

void tv_args_begin(tv_args *a, const tv_cli *cli, int argc, char **argv)
{
    static struct option longopts[64];
    memset(a, 0, sizeof *a);
    a->cmd = cli->cmd;
    a->path = cli->path;
    a->argc = argc;
    a->argv = argv;
    a->longopts = longopts;
    size_t k = 0, s = 0;
    a->shorts[s++] = ':';
    size_t n = opts_count(a->cmd->opts);
    for (size_t i = 0; i <= n && k + 1 < sizeof longopts / sizeof longopts[0]; i++) {
        tv_opt o = i < n ? tv_opt_resolve(&a->cmd->opts[i]) : shared[TV_O_HELP - TV_O_SHARED];
        if (o.flags & TV_OPT_ARG) continue;
        longopts[k++] = (struct option){o.name, o.arg ? required_argument : no_argument, 0, o.id};
        if (o.letter && s + 2 < sizeof a->shorts) {
            a->shorts[s++] = o.letter;
            if (o.arg) a->shorts[s++] = ':';
        }
    }
    longopts[k] = (struct option){0, 0, 0, 0};
    a->shorts[s] = '\0';
    opterr = 0; /* tv_args_next prints its own message for a bad option */
    optind = 0;
}

/* The option of a's command with short letter ch, as its id. */
static int short_id(const tv_args *a, int ch)
{
    if (ch == 'h') return TV_O_HELP;
    size_t n = opts_count(a->cmd->opts);
    for (size_t i = 0; i < n; i++) {
        tv_opt o = tv_opt_resolve(&a->cmd->opts[i]);
        if (o.letter == ch) return o.id;
    }
    return ch;
}

static int stop(tv_args *a, int status)
{
    a->status = status;
    return TV_ARGS_STOP;
}

int tv_args_next(tv_args *a)
{
    for (;;) {
        int c = getopt_long(a->argc, a->argv, a->shorts, a->longopts, NULL);
        if (c == -1) break;
        if (c == ':' || c == '?') return stop(a, tv_cli_bad_option(a->path, c, a->argv));
        if (c < 256) c = short_id(a, c);
        const tv_opt *own = NULL;
        size_t n = opts_count(a->cmd->opts);
        for (size_t i = 0; i < n; i++)
            if (a->cmd->opts[i].id == c && !(a->cmd->opts[i].flags & TV_OPT_ARG))
                own = &a->cmd->opts[i];
        tv_opt o = own ? tv_opt_resolve(own) : shared[TV_O_HELP - TV_O_SHARED];
        if (o.flags & TV_OPT_TEXT) optarg = (char *)tv_cli_nfc(optarg);
        switch (c) {
        case TV_O_HELP:
            tv_command_help(stdout, a->cmd, a->path);
            return stop(a, TV_EXIT_OK);
        case TV_O_JSON:
            a->o.json = 1;
            break;
        case TV_O_FORMAT:
            a->o.format = optarg;
            a->o.json = 0; /* where a command takes both, the later one stands */
            break;
        case TV_O_OUT:
            a->o.out = optarg;
            break;
        case TV_O_REVEAL:
            a->o.reveal = 1;
            break;
        case TV_O_REASON:
            a->o.reason = optarg;
            break;
        case TV_O_PERSON:
            a->o.person = optarg;
            break;
        case TV_O_REF:
            a->o.ref = optarg;
            break;
        case TV_O_VENUE:
            a->o.venue = optarg;
            break;
        case TV_O_PASSFILE:
            a->o.passphrase_file = optarg;
            break;
        case TV_O_KDF:
            a->o.kdf = optarg;
            break;
        default:
            return c;
        }
    }
    if (a->o.reveal && (!a->o.reason || !*a->o.reason))
        return stop(
            a, tv_cli_usage(a->path, "--reveal needs --reason: say why the details are needed."));
    return 0;
}

int tv_args_only(tv_args *a, const tv_cli *cli, int argc, char **argv)
{
    tv_args_begin(a, cli, argc, argv);
    int c = tv_args_next(a);
    if (c == TV_ARGS_STOP) return c;
    if (c > 0) /* an own option: the command parses with tv_args_next instead */
        return stop(a, tv_cli_usage(a->path, "%s is not handled here.", argv[optind - 1]));
    return 0;
}
