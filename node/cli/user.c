/* `truyvet user`: the accounts of the node's console and the console log. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/logic/account.h"
#include "node/render/account.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static int user_add(tv_cli *cli, int argc, char **argv);
static int user_list(tv_cli *cli, int argc, char **argv);
static int user_passwd(tv_cli *cli, int argc, char **argv);
static int user_change(tv_cli *cli, int argc, char **argv);
static int user_log(tv_cli *cli, int argc, char **argv);

#define PASSWORD_FILE_OPT                                                                          \
    {                                                                                              \
        "password-file", 'P', "FILE",                                                              \
            "the password (a controller's PIN): the first line of FILE\n"                          \
            "('-': standard input); else it is asked twice on the terminal",                       \
            0, 0                                                                                   \
    }

static const tv_command user_add_cmd = {
    .name = "add",
    .summary = "Add an account.",
    .usage = "user add NAME --role ROLE [--password-file FILE]",
    .about = "ROLE is operator, clerk, health (a health officer: only on a node whose certificate\n"
             "carries the health flag), guard (the gate page only) or controller. A staff NAME\n"
             "has 1 to 32 characters, small letters a-z, digits, '.', '_' or '-', starting with\n"
             "a letter, and a password of 8 to 128 bytes. A controller logs in with the phone\n"
             "number 'venue controller add' registered for one of this node's venues, and a PIN\n"
             "of exactly 6 digits.\n",
    .opts =
        (const tv_opt[]){{"role", 'r', "ROLE", "the account's role", 0, 0}, PASSWORD_FILE_OPT, {0}},
    .fn = user_add,
    .col = 20,
};

static const tv_command user_list_cmd = {
    .name = "list",
    .summary = "The accounts, their roles and locks.",
    .usage = "user list [--json]",
    .opts = (const tv_opt[]){{.id = TV_O_JSON,
                              .help = "JSON Lines: name, role, disabled, failures, locked_until,\n"
                                      "created, changed"},
                             {0}},
    .fn = user_list,
};

static const tv_command user_passwd_cmd = {
    .name = "passwd",
    .summary = "Set an account's password (or PIN).",
    .usage = "user passwd NAME [--password-file FILE]",
    .about = "A lock from failed logins stays: 'user unlock' lifts it.\n",
    .opts = (const tv_opt[]){PASSWORD_FILE_OPT, {0}},
    .fn = user_passwd,
    .col = 20,
};

static const tv_command user_remove_cmd = {
    .name = "remove",
    .summary = "Remove an account.",
    .usage = "user remove NAME",
    .fn = user_change,
};

static const tv_command user_unlock_cmd = {
    .name = "unlock",
    .summary = "Lift the lock of failed logins.",
    .usage = "user unlock NAME",
    .fn = user_change,
};

static const tv_command user_disable_cmd = {
    .name = "disable",
    .summary = "Stop an account from logging in, until 'user enable'.",
    .usage = "user disable NAME",
    .fn = user_change,
};

static const tv_command user_enable_cmd = {
    .name = "enable",
    .summary = "Let a disabled account log in again.",
    .usage = "user enable NAME",
    .fn = user_change,
};

static const tv_command user_log_cmd = {
    .name = "log",
    .summary = "The console log: logins and account changes.",
    .usage = "user log [--since WHEN] [--json]",
    .opts =
        (const tv_opt[]){
            {"since", 's', "WHEN", "from then on: 'today', a date or a time", 0, 0},
            {.id = TV_O_JSON, .help = "JSON Lines: time, kind, actor, subject, remote, detail"},
            {0}},
    .fn = user_log,
    .col = 14,
};

const tv_command tv_command_user = {
    .name = "user",
    .summary = "the accounts of the node's web console, and its log",
    .about = "The accounts that may log in to this node's console, and the console log of every\n"
             "login and account change. Both stay on this node: no sync or bundle carries them.\n"
             "Five wrong passwords in a row lock an account for 15 minutes. Passwords are kept\n"
             "only as Argon2id hashes; a forgotten one is replaced with 'user passwd'.\n",
    .subs = (const tv_command *const[]){&user_add_cmd, &user_list_cmd, &user_passwd_cmd,
                                        &user_remove_cmd, &user_unlock_cmd, &user_disable_cmd,
                                        &user_enable_cmd, &user_log_cmd, NULL},
};

/* --- messages --------------------------------------------------------------------------- */

static int no_account(const char *name)
{
    tv_cli_error("there is no account named '%s'; 'truyvet user list' shows them.", name);
    return TV_EXIT_FAIL;
}

/* Prints why an account was not added (tv_account_add's rc). Returns the exit status. */
int tv_cli_account_add_fail(tv_cli *cli, int rc, const char *name, int role, const char *why)
{
    if (rc == TV_EINVAL) return tv_cli_usage(cli->path, "%s.", why);
    if (rc == TV_EEXIST) {
        tv_cli_error("an account named '%s' exists already; nothing was changed.", name);
    } else if (rc == TV_EPERM && role == TV_ACCOUNT_HEALTH) {
        tv_cli_error("this node cannot have health officers: its certificate does not carry "
                     "the health flag.");
    } else if (rc == TV_ENOTFOUND && role == TV_ACCOUNT_CONTROLLER) {
        tv_cli_error("%s is not a controller of any venue this node holds; add it first with "
                     "'truyvet venue controller add ID PHONE'.",
                     name);
    } else {
        return tv_cli_fail(cli, rc, "cannot add the account");
    }
    return TV_EXIT_FAIL;
}

/* --- user add / passwd ------------------------------------------------------------------ */

/* Reads the password for account name of role (from file, or asked twice). */
static int read_password(const char *file, int line, tv_account_role role, const char *name,
                         tv_pass *p)
{
    char prompt[80];
    snprintf(prompt, sizeof prompt,
             "%s for %s: ", role == TV_ACCOUNT_CONTROLLER ? "PIN" : "Password", name);
    return tv_cli_password_get(file, line, prompt, 1, p);
}

static int user_add(tv_cli *cli, int argc, char **argv)
{
    const char *role_s = NULL, *file = NULL;
    int c, rc;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0)
        if (c == 'r')
            role_s = optarg;
        else if (c == 'P')
            file = optarg;
    if (c < 0) return ta.status;
    if (optind + 1 != argc || !role_s)
        return tv_cli_usage(cli->path, "give the account's NAME and --role ROLE.");
    tv_account_role role;
    if (tv_account_role_parse(role_s, &role))
        return tv_cli_usage(cli->path,
                            "role '%s' is not one of operator, clerk, health, guard, controller.",
                            role_s);
    char name[TV_ACCOUNT_NAME_MAX + 1];
    const char *why = NULL;
    if (tv_account_name_norm(role, argv[optind], name, &why))
        return tv_cli_usage(cli->path, "cannot add '%s': %s.", argv[optind], why);
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    tv_pass p;
    /* what the node refuses whatever the password, before it is asked for */
    if ((rc = tv_account_role_check(&n, role, name))) {
        rc = tv_cli_account_add_fail(cli, rc, name, role, why);
    } else if ((rc = read_password(file, 0, role, name, &p)) == 0) {
        rc = tv_account_add(&n, &TV_ACCOUNT_CLI, name, role, p.p, p.len, tv_wall_ms(), &why);
        tv_cli_pass_free(&p);
        if (rc)
            rc = tv_cli_account_add_fail(cli, rc, name, role, why);
        else
            printf("added: %s (%s)\n", name, tv_account_role_name(role));
    }
    tv_node_close(&n);
    return rc;
}

static int user_passwd(tv_cli *cli, int argc, char **argv)
{
    const char *file = NULL;
    int c, rc;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0)
        if (c == 'P') file = optarg;
    if (c < 0) return ta.status;
    if (optind + 1 != argc) return tv_cli_usage(cli->path, "give the account's NAME.");
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    tv_account a;
    tv_pass p;
    const char *why = NULL;
    if ((rc = tv_account_get(&n, argv[optind], &a))) {
        rc = rc == TV_ENOTFOUND ? no_account(argv[optind])
                                : tv_cli_fail(cli, rc, "cannot read the account");
    } else if ((rc = read_password(file, 0, a.role, a.name, &p)) == 0) {
        rc = tv_account_passwd(&n, &TV_ACCOUNT_CLI, a.name, p.p, p.len, tv_wall_ms(), &why);
        tv_cli_pass_free(&p);
        if (rc == TV_EINVAL)
            rc = tv_cli_usage(cli->path, "%s; nothing was changed.", why);
        else if (rc)
            rc = tv_cli_fail(cli, rc, "cannot change the password");
        else
            printf("%s changed: %s\n", a.role == TV_ACCOUNT_CONTROLLER ? "PIN" : "password",
                   a.name);
    }
    tv_node_close(&n);
    return rc;
}

/* --- user remove / unlock / disable / enable -------------------------------------------- */

static int user_change(tv_cli *cli, int argc, char **argv)
{
    tv_args ta;
    if (tv_args_only(&ta, cli, argc, argv)) return ta.status;
    if (optind + 1 != argc) return tv_cli_usage(cli->path, "give the account's NAME.");
    const char *verb = argv[0];
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    tv_account a;
    int64_t now = tv_wall_ms();
    if ((rc = tv_account_get(&n, argv[optind], &a)) == 0) {
        if (strcmp(verb, "remove") == 0)
            rc = tv_account_remove(&n, &TV_ACCOUNT_CLI, a.name, now);
        else if (strcmp(verb, "unlock") == 0)
            rc = tv_account_unlock(&n, &TV_ACCOUNT_CLI, a.name, now);
        else
            rc = tv_account_disable(&n, &TV_ACCOUNT_CLI, a.name, strcmp(verb, "disable") == 0, now);
    }
    tv_node_close(&n);
    if (rc == TV_ENOTFOUND) return no_account(argv[optind]);
    char what[64];
    snprintf(what, sizeof what, "cannot %s the account", verb);
    if (rc) return tv_cli_fail(cli, rc, what);
    printf("%s%s: %s (%s)\n", verb, verb[strlen(verb) - 1] == 'e' ? "d" : "ed", a.name,
           tv_account_role_name(a.role));
    return TV_EXIT_OK;
}

/* --- user list -------------------------------------------------------------------------- */

typedef struct list_ctx {
    int json;
    int64_t now_ms;
    int n;
} list_ctx;

static int list_row(const tv_account *a, void *arg)
{
    list_ctx *c = arg;
    c->n++;
    if (c->json) return tv_render_account_json(stdout, a, c->now_ms);
    tv_render_account_text(stdout, a, c->now_ms);
    return 0;
}

static int user_list(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_only(cli, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    list_ctx c = {json, tv_wall_ms(), 0};
    rc = tv_account_list(&n, list_row, &c);
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "cannot read the accounts");
    if (c.n == 0 && !json)
        fprintf(stderr, "no accounts yet; add one with 'truyvet user add NAME --role operator'\n");
    return TV_EXIT_OK;
}

/* --- user log --------------------------------------------------------------------------- */

static int log_row(const store_console_entry *e, void *arg)
{
    const list_ctx *c = arg;
    if (c->json) return tv_render_console_json(stdout, e);
    tv_render_console_text(stdout, e);
    return 0;
}

static int user_log(tv_cli *cli, int argc, char **argv)
{
    int64_t since = INT64_MIN;
    int c, rc;
    tv_args ta;
    tv_args_begin(&ta, cli, argc, argv);
    while ((c = tv_args_next(&ta)) > 0)
        if (c == 's' && tv_cli_when(optarg, &since))
            return tv_cli_usage(cli->path,
                                "--since takes 'today', a date (2021-10-06) or a time "
                                "(2021-10-06T08:00:00+07:00), not '%s'.",
                                optarg);
    if (c < 0) return ta.status;
    if (optind < argc) return tv_cli_usage(cli->path, "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    list_ctx lc = {ta.o.json, 0, 0};
    rc = tv_console_log_list(&n, since, log_row, &lc);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot read the console log") : TV_EXIT_OK;
}
