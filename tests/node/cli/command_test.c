/* The command table (node/cli/command.h): every command answers --help naming each of its
 * options, `truyvet --help` lists every command once, an unknown option names itself and
 * exits 2, and --reveal without --reason is refused with the one message by every command
 * that takes it. The commands run in this process as the program runs them
 * (tv_command_run), on a directory that holds no node: none of these may reach it. */
#define _GNU_SOURCE /* asprintf, open_memstream */
#include "node/cli/command.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_MAX (1 << 16)
#define WORDS_MAX 8

typedef struct run_result {
    int rc;
    char out[OUT_MAX], err[OUT_MAX];
} run_result;

static char tmpdir[] = "/tmp/tv-cli-command-XXXXXX";

/* Reads what fd's file holds, from its start, into buf. */
static void slurp(int fd, char *buf)
{
    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    ssize_t n = read(fd, buf, OUT_MAX - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
}

/* Runs `truyvet -d <no node> words... extra...` through the table, capturing its output. */
static void run(run_result *r, char **words, int nwords, const char *const *extra, int nextra)
{
    char nonode[sizeof tmpdir + 16];
    snprintf(nonode, sizeof nonode, "%s/nonode", tmpdir);
    tv_cli cli = {.dir = nonode, .prog = "truyvet"};
    char *argv[WORDS_MAX + 4];
    int argc = 0;
    for (int i = 0; i < nwords; i++)
        argv[argc++] = words[i];
    for (int i = 0; i < nextra; i++)
        argv[argc++] = (char *)extra[i];
    argv[argc] = NULL;
    char po[sizeof tmpdir + 16], pe[sizeof tmpdir + 16];
    snprintf(po, sizeof po, "%s/out", tmpdir);
    snprintf(pe, sizeof pe, "%s/err", tmpdir);
    int fo = open(po, O_RDWR | O_CREAT | O_TRUNC, 0600),
        fe = open(pe, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fo >= 0 && fe >= 0);
    fflush(stdout);
    fflush(stderr);
    int so = dup(STDOUT_FILENO), se = dup(STDERR_FILENO);
    assert_true(dup2(fo, STDOUT_FILENO) >= 0 && dup2(fe, STDERR_FILENO) >= 0);
    r->rc = tv_command_run(&cli, tv_commands, "", argc, argv);
    fflush(stdout);
    fflush(stderr);
    assert_true(dup2(so, STDOUT_FILENO) >= 0 && dup2(se, STDERR_FILENO) >= 0);
    close(so);
    close(se);
    slurp(fo, r->out);
    slurp(fe, r->err);
    close(fo);
    close(fe);
}

/* Calls fn for every command of the table, top-level and sub, with its words. */
typedef void (*visit_fn)(const tv_command *c, char **words, int nwords, void *arg);

static void walk(const tv_command *const *cmds, char **words, int nwords, visit_fn fn, void *arg)
{
    for (; *cmds; cmds++) {
        assert_true(nwords < WORDS_MAX);
        words[nwords] = (char *)(*cmds)->name;
        fn(*cmds, words, nwords + 1, arg);
        if ((*cmds)->subs) walk((*cmds)->subs, words, nwords + 1, fn, arg);
    }
}

static int count_opts(const tv_command *c)
{
    int n = 0;
    while (c->opts && (c->opts[n].name || c->opts[n].id))
        n++;
    return n;
}

static void path_of(char *out, size_t cap, char **words, int nwords)
{
    out[0] = '\0';
    for (int i = 0; i < nwords; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", words[i]);
}

/* --- every command answers --help, naming each of its options ------------------------- */

static void check_help(const tv_command *c, char **words, int nwords, void *arg)
{
    (void)arg;
    static run_result r;
    static const char *const help[] = {"--help"};
    char path[128];
    path_of(path, sizeof path, words, nwords);
    run(&r, words, nwords, help, 1);
    if (r.rc != 0) fail_msg("truyvet %s --help exits %d: %s", path, r.rc, r.err);
    if (strncmp(r.out, "Usage: truyvet [-d DIR] ", 24) != 0)
        fail_msg("truyvet %s --help begins: %.60s", path, r.out);
    /* each option described on a line of its own below the usage ("  --name ARG  what it
     * does"); another name of an option (hidden) in what the others say */
    const char *body = strstr(r.out, "\n\n");
    if (!body) body = r.out + strlen(r.out); /* the usage alone: no option to describe */
    for (int i = 0; i < count_opts(c); i++) {
        tv_opt o = tv_opt_resolve(&c->opts[i]);
        char line[128];
        if (o.flags & TV_OPT_HIDDEN)
            snprintf(line, sizeof line, "--%s", o.name);
        else if (o.flags & TV_OPT_ARG)
            snprintf(line, sizeof line, "\n  %s ", o.name);
        else
            snprintf(line, sizeof line, "\n  --%s%s%s ", o.name, o.arg ? " " : "",
                     o.arg ? o.arg : "");
        if (!strstr(body, line))
            fail_msg("truyvet %s --help does not describe %s%s", path,
                     o.flags & TV_OPT_ARG ? "" : "--", o.name);
    }
    /* a command with subcommands names each */
    for (const tv_command *const *s = c->subs; s && *s; s++) {
        char sub[160];
        snprintf(sub, sizeof sub, "%s %s", path, (*s)->name);
        if (!strstr(r.out, sub)) fail_msg("truyvet %s --help does not name '%s'", path, sub);
    }
}

static void test_every_help(void **state)
{
    (void)state;
    char *words[WORDS_MAX];
    walk(tv_commands, words, 0, check_help, NULL);
}

/* --- `truyvet --help` lists every command once ---------------------------------------- */

static void test_list_once(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    tv_command_list(f, tv_commands);
    fclose(f);
    for (const tv_command *const *c = tv_commands; *c; c++) {
        char line[64];
        snprintf(line, sizeof line, "\n  %s ", (*c)->name);
        int n = 0;
        char *all = NULL;
        assert_true(asprintf(&all, "\n%s", buf) > 0);
        for (const char *p = all; (p = strstr(p, line)); p++)
            n++;
        free(all);
        if (n != 1) fail_msg("truyvet --help lists %s %d times", (*c)->name, n);
        for (const tv_command *const *d = tv_commands; d < c; d++)
            if (strcmp((*d)->name, (*c)->name) == 0)
                fail_msg("the table holds %s twice", (*c)->name);
    }
    /* and nothing else: one line per command, continuations indented */
    int lines = 0;
    for (const char *p = buf; *p; p = strchr(p, '\n') + 1)
        lines += p[0] == ' ' && p[1] == ' ' && p[2] != ' ';
    int ncmds = 0;
    while (tv_commands[ncmds])
        ncmds++;
    assert_int_equal(lines, ncmds);
    free(buf);
}

/* Every descriptor a command file defines (const tv_command tv_command_<path>) is in the
 * table: a command left out of it is left out of dispatch and of every help. */
static int in_table(const tv_command *const *cmds, const char *ident, size_t off)
{
    for (; *cmds; cmds++) {
        size_t n = strlen((*cmds)->name);
        if (strncmp(ident + off, (*cmds)->name, n) != 0) continue;
        if (ident[off + n] == '\0') return 1;
        if (ident[off + n] == '_' && (*cmds)->subs && in_table((*cmds)->subs, ident, off + n + 1))
            return 1;
    }
    return 0;
}

static void test_defined_in_table(void **state)
{
    (void)state;
    /* this file is tests/node/cli/command_test.c: the sources are three folders up */
    char cmd[4200];
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    if (!slash || file[0] != '/') skip();
    snprintf(cmd, sizeof cmd,
             "grep -ho '^const tv_command tv_command_[a-z_]* = {' %.*s/../../../node/cli/*.c",
             (int)(slash - file), file);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, p)) {
        char ident[128];
        assert_int_equal(sscanf(line, "const tv_command tv_command_%127[a-z_] = {", ident), 1);
        found++;
        if (!in_table(tv_commands, ident, 0))
            fail_msg("tv_command_%s is defined but not in the table (node/cli/commands.c)", ident);
    }
    pclose(p);
    assert_true(found >= 30);
}

/* --- an unknown option names itself and exits 2 ---------------------------------------- */

static void check_unknown(const tv_command *c, char **words, int nwords, void *arg)
{
    (void)arg;
    if (c->subs && !c->fn) return; /* names a subcommand first: 'venue --frobnicate' */
    static run_result r;
    static const char *const bad[] = {"--frobnicate"};
    char path[128], want[512];
    path_of(path, sizeof path, words, nwords);
    run(&r, words, nwords, bad, 1);
    snprintf(want, sizeof want,
             "truyvet: --frobnicate is not an option of %s.\nTry 'truyvet %s --help'.\n", path,
             path);
    if (r.rc != 2 || strcmp(r.err, want) != 0)
        fail_msg("truyvet %s --frobnicate exits %d, says: %s", path, r.rc, r.err);
    assert_string_equal(r.out, "");
}

static void test_unknown_option(void **state)
{
    (void)state;
    char *words[WORDS_MAX];
    walk(tv_commands, words, 0, check_unknown, NULL);
    /* an unknown subcommand or command is named too */
    static run_result r;
    char *venue[] = {"venue", "frobnicate"};
    run(&r, venue, 2, NULL, 0);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "'frobnicate'"));
    char *top[] = {"frobnicate"};
    run(&r, top, 1, NULL, 0);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.err, "truyvet: unknown command 'frobnicate'.\nTry 'truyvet --help'.\n");
}

/* --- --reveal needs --reason, said once for every command that takes --reveal ---------- */

static void check_reveal(const tv_command *c, char **words, int nwords, void *arg)
{
    int *seen = arg;
    int takes = 0;
    for (int i = 0; i < count_opts(c); i++)
        takes |= c->opts[i].id == TV_O_REVEAL;
    if (!takes) return;
    (*seen)++;
    static run_result r;
    char path[128], want[512];
    path_of(path, sizeof path, words, nwords);
    snprintf(want, sizeof want,
             "truyvet: --reveal needs --reason: say why the details are needed.\n"
             "Try 'truyvet %s --help'.\n",
             path);
    static const char *const alone[] = {"--ref", "00112233445566778899aabbccddeeff", "--reveal"};
    static const char *const empty[] = {"--ref", "00112233445566778899aabbccddeeff", "--reveal",
                                        "--reason", ""};
    run(&r, words, nwords, alone, 3);
    if (r.rc != 2 || strcmp(r.err, want) != 0)
        fail_msg("truyvet %s --reveal exits %d, says: %s", path, r.rc, r.err);
    run(&r, words, nwords, empty, 5);
    if (r.rc != 2 || strcmp(r.err, want) != 0)
        fail_msg("truyvet %s --reveal --reason '' exits %d, says: %s", path, r.rc, r.err);
}

static void test_reveal_needs_reason(void **state)
{
    (void)state;
    char *words[WORDS_MAX];
    int seen = 0;
    walk(tv_commands, words, 0, check_reveal, &seen);
    assert_int_equal(seen, 2); /* person show, trace */
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[sizeof tmpdir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_help),          cmocka_unit_test(test_list_once),
        cmocka_unit_test(test_defined_in_table),    cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_reveal_needs_reason),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
