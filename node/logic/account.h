/* The accounts of a node's console, their logins with lockout, and the console log.
 *
 * Who may use this node's console: each account has a login name, a role and a password
 * (a controller: a 6-digit PIN) kept only as an Argon2id hash (crypto_pwhash_str). No
 * password is ever stored or logged; the buffers that held one are wiped.
 *
 * Where logins go, and why. The accounts and the console log are node-local tables of the
 * store (store.h, accounts.c): never in an event, a batch, a bundle or a sync. A login is
 * about this node's console -- who opened it, from where, when -- not about health data,
 * and no other node has any use for it: a clerk's account at a commune means nothing at
 * the province. The console log records every login outcome and every account change
 * (tv_console_kind), with who did it (an account name, or "cli" for the command line on
 * the node's machine) and the remote address the caller gives; `truyvet user log` and the
 * console read it. What a logged-in health officer reveals stays a replicated, sealed
 * reveal event (the audit of full views: `truyvet audit`), as from the command line.
 *
 * Logins: a wrong password and an unknown name give the same answer (TV_EPASSPHRASE),
 * after the same Argon2id work (an unknown name is checked against a fixed hash), so the
 * answer's time does not tell which names exist. The TV_ACCOUNT_FAILURES_MAX-th
 * consecutive failure locks the account for TV_ACCOUNT_LOCK_MS; while locked every login
 * is refused (TV_EACCLOCKED), the right password too, and a success resets the count.
 * Failures and locks are written durably, before the answer: a restart resets nothing.
 *
 * Argon2id limits: the interactive ones (crypto_pwhash_OPSLIMIT_INTERACTIVE), or the
 * cheapest when $TRUYVET_KDF is "min" (tests only: tv_kdf_level_default). A hash keeps the
 * limits it was made with.
 *
 * Every function runs in one store transaction, durable on return (store_write). */
#ifndef TV_NODE_ACCOUNT_H
#define TV_NODE_ACCOUNT_H

#include "node/logic/node.h"
#include "store/store.h"

#include <stddef.h>
#include <stdint.h>

typedef enum tv_account_role {
    TV_ACCOUNT_OPERATOR = 1,   /* the node's operator: accounts, enrolment, status */
    TV_ACCOUNT_CLERK = 2,      /* venues, controllers, units, reports */
    TV_ACCOUNT_HEALTH = 3,     /* a health officer: only on a node with the health flag */
    TV_ACCOUNT_GUARD = 4,      /* the gate page only */
    TV_ACCOUNT_CONTROLLER = 5, /* a venue's controller: its phone number and a PIN */
} tv_account_role;

#define TV_ACCOUNT_NAME_MAX STORE_ACCOUNT_NAME_MAX /* a staff name: 1 to 32 of [a-z0-9._-] */
#define TV_ACCOUNT_PASS_MIN 8                      /* a staff password's bytes */
#define TV_ACCOUNT_PASS_MAX 128
#define TV_ACCOUNT_PIN_DIGITS 6 /* a controller's PIN: exactly 6 digits */
#define TV_ACCOUNT_FAILURES_MAX 5
#define TV_ACCOUNT_LOCK_MS (15 * 60 * 1000LL)

/* "operator", "clerk", "health", "guard", "controller"; "?" for anything else. */
const char *tv_account_role_name(int role);
/* Parses a role's name. Returns 0 or TV_EINVAL. */
int tv_account_role_parse(const char *s, tv_account_role *out);

/* Who does something to the accounts, for the console log and for the rule of who may:
 * name is an account's name or "cli" (the command line on the node's machine); role is
 * that account's role, or 0 for the command line, which may do everything. remote is the
 * caller's address ("" for none). */
typedef struct tv_account_actor {
    const char *name;
    int role;
    const char *remote;
} tv_account_actor;

/* The command line on the node's own machine. */
#define TV_ACCOUNT_CLI ((const tv_account_actor){.name = "cli", .role = 0, .remote = ""})

/* Whether an account of role by may add, remove, unlock, enable or change the password of
 * an account of role: the operator any; a clerk a controller's or a guard's; nobody else
 * (an account may change its own password: tv_account_passwd). 1 or 0. */
int tv_account_may_manage(int by, int role);

/* An account as the console shows it (never its hash). */
typedef struct tv_account {
    char name[TV_ACCOUNT_NAME_MAX + 1];
    tv_account_role role;
    int disabled;
    uint32_t failures;       /* consecutive failed logins */
    int64_t locked_until_ms; /* the lock's end; 0 or past: not locked */
    int64_t created_ms, changed_ms;
} tv_account;

/* The login name for role from what was typed: a staff name as it is (checked), a
 * controller's phone normalised as `venue controller add` does (0912 345 678 ->
 * 0912345678). Returns 0 with out set, or TV_EINVAL with *why a sentence saying what is
 * wrong. */
int tv_account_name_norm(tv_account_role role, const char *text, char out[TV_ACCOUNT_NAME_MAX + 1],
                         const char **why);
/* Checks a password for role: 8 to 128 bytes for staff, exactly 6 digits for a controller.
 * Returns 0, or TV_EINVAL with *why set. */
int tv_account_pass_check(tv_account_role role, const char *pass, size_t len, const char **why);

/* Whether this node may have an account of role named name (normalised): a health officer
 * only where the node's own certificate has the health flag (TV_EPERM), a controller only
 * for a phone that now controls a venue this node holds (TV_ENOTFOUND); 0 otherwise, or a
 * store error. tv_account_add checks it; a caller may too, before it asks for a password. */
int tv_account_role_check(tv_node *n, tv_account_role role, const char *name);

/* Adds an account. name is normalised as tv_account_name_norm does. Returns 0, TV_EINVAL
 * (*why says why: the name or password), TV_EEXIST, TV_EPERM (by may not add role, or role
 * health on a node whose own certificate lacks the health flag), TV_ENOTFOUND (a controller
 * whose phone is not now a controller of a venue this node holds), TV_ENOMEM or a store
 * error. The console log records it (account_added). */
int tv_account_add(tv_node *n, const tv_account_actor *by, const char *name, tv_account_role role,
                   const char *pass, size_t len, int64_t now_ms, const char **why);
/* Sets an account's password (its failures and lock are left as they are: unlock them
 * apart). by may be the account itself. Returns 0, TV_EINVAL (*why set), TV_ENOTFOUND,
 * TV_EPERM, TV_ENOMEM or a store error. Logged (password_changed). */
int tv_account_passwd(tv_node *n, const tv_account_actor *by, const char *name, const char *pass,
                      size_t len, int64_t now_ms, const char **why);
/* Removes an account. Returns 0, TV_ENOTFOUND, TV_EPERM (by may not; nobody removes
 * their own account) or a store error. Logged (account_removed). */
int tv_account_remove(tv_node *n, const tv_account_actor *by, const char *name, int64_t now_ms);
/* Clears an account's failures and lock. Returns 0, TV_ENOTFOUND, TV_EPERM or a store
 * error. Logged (account_unlocked). */
int tv_account_unlock(tv_node *n, const tv_account_actor *by, const char *name, int64_t now_ms);
/* Disables (disabled 1: it may not log in) or enables an account. Returns 0, TV_ENOTFOUND,
 * TV_EPERM or a store error. Logged (account_disabled, account_enabled). */
int tv_account_disable(tv_node *n, const tv_account_actor *by, const char *name, int disabled,
                       int64_t now_ms);

/* The account named name (a controller's phone may be typed as tv_account_name_norm
 * takes it). Returns 0, TV_ENOTFOUND, TV_ECORRUPT or a store error. */
int tv_account_get(tv_node *n, const char *name, tv_account *out);
/* Calls fn for every account, in name order; stops at fn's first non-zero result and
 * returns it. */
typedef int (*tv_account_fn)(const tv_account *a, void *ctx);
int tv_account_list(tv_node *n, tv_account_fn fn, void *ctx);

/* Logs in: 0 and the account in *out. TV_EPASSPHRASE: a wrong password, or no such
 * account (the same answer, after the same work). TV_EACCLOCKED: the account is locked,
 * whatever the password, or this wrong password was the failure that locked it
 * (out->locked_until_ms says until when). TV_EPERM: the password
 * is right but the account is disabled. TV_ESCOPE: the password is right but the account
 * is a controller's whose phone controls no venue here now (removed from its venues).
 * Else TV_ENOMEM or a store error. Every outcome is
 * in the console log (login, login_failed, login_locked) with remote, before the answer. */
int tv_account_login(tv_node *n, const char *remote, const char *name, const char *pass, size_t len,
                     int64_t now_ms, tv_account *out);
/* tv_account_login in three steps, so that a server holding a lock around its use of the
 * node need not hold it through the Argon2id work: _begin reads the account (the node),
 * _check compares the password with what was read (no node, no store: slow, about as the
 * hash's limits say), _end writes the outcome and answers as tv_account_login does (the
 * node; a hash changed in between counts as a wrong password). _begin returns 0 or a store
 * error; l is the caller's and wiped by _end. */
typedef struct tv_login {
    char name[TV_ACCOUNT_NAME_MAX + 1]; /* normalised, or "(malformed)" */
    int found, match;
    store_account a;
} tv_login;
int tv_account_login_begin(tv_node *n, const char *name, tv_login *l);
void tv_account_login_check(tv_login *l, const char *pass, size_t len);
int tv_account_login_end(tv_node *n, tv_login *l, const char *remote, int64_t now_ms,
                         tv_account *out);

/* Records that the session of account name ended (logout). Returns 0 or a store error. */
int tv_account_logout(tv_node *n, const char *remote, const char *name, int64_t now_ms);

/* Calls fn for every venue this node holds of which phone (normalised) is now a controller,
 * in id order; stops at fn's first non-zero result and returns it. What a controller's
 * session may see is read so at each request: a phone removed from a venue sees it no more. */
int tv_account_controller_venues(tv_node *n, const char *phone, store_venue_fn fn, void *ctx);

/* --- the console log ------------------------------------------------------------------ */

typedef enum tv_console_kind {
    TV_CONSOLE_LOGIN = 1,        /* a successful login */
    TV_CONSOLE_LOGIN_FAILED,     /* a wrong password or an unknown name */
    TV_CONSOLE_LOGIN_LOCKED,     /* the failure that locked the account, or a login refused
                                  * while it is locked */
    TV_CONSOLE_LOGOUT,           /* a session ended */
    TV_CONSOLE_ACCOUNT_ADDED,    /* detail: the role */
    TV_CONSOLE_ACCOUNT_REMOVED,  /* detail: the role */
    TV_CONSOLE_PASSWORD_CHANGED, /* (never the password) */
    TV_CONSOLE_ACCOUNT_UNLOCKED,
    TV_CONSOLE_ACCOUNT_DISABLED,
    TV_CONSOLE_ACCOUNT_ENABLED,
} tv_console_kind;

/* "login", "login_failed", "login_locked", "logout", "account_added", "account_removed",
 * "password_changed", "account_unlocked", "account_disabled", "account_enabled"; "?". */
const char *tv_console_kind_name(int kind);

/* Calls fn for every entry of the console log at or after since_ms, oldest first; stops
 * at fn's first non-zero result and returns it. An unknown name tried at a login is kept
 * as the subject only when it is a well-formed name (it might be a password typed in the
 * wrong field): "(malformed)" otherwise. */
int tv_console_log_list(tv_node *n, int64_t since_ms, store_console_fn fn, void *ctx);

#endif
