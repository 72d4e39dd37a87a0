/* The console's accounts, logins with lockout, and the console log (account.h). */
#include "node/logic/account.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "node/logic/person.h"
#include "node/logic/secret.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(crypto_pwhash_STRBYTES == STORE_ACCOUNT_HASH_MAX + 1, "a hash string fits");
_Static_assert(TV_PERSON_NORM_MAX <= TV_ACCOUNT_NAME_MAX, "a phone is a login name");

/* What an unknown name's login is checked against, so that it costs what a known one's
 * does: hashes of a fixed text nobody types, at each level of limits. */
#define DUMMY_HASH_MIN                                                                             \
    "$argon2id$v=19$m=8,t=1,p=1$RCl9I9dvrG8nSBIOIz/1hg$2CcOPS6AvlEhZCP2/"                          \
    "ZaL661cuVqFlEfLlDS+UvwXEkc"
#define DUMMY_HASH_INTERACTIVE                                                                     \
    "$argon2id$v=19$m=65536,t=2,p=1$ewclL5XNB0VgKs6lNLRGtw$4Zl5JZ0iLypOaZ8s9PsS+"                  \
    "b11yN5SEPol8jP0DEC"                                                                           \
    "wGJI"

static const char *const role_names[] = {NULL,     "operator", "clerk",
                                         "health", "guard",    "controller"};

static const char *const kind_names[] = {NULL,
                                         "login",
                                         "login_failed",
                                         "login_locked",
                                         "logout",
                                         "account_added",
                                         "account_removed",
                                         "password_changed",
                                         "account_unlocked",
                                         "account_disabled",
                                         "account_enabled"};

const char *tv_account_role_name(int role)
{
    return role >= TV_ACCOUNT_OPERATOR && role <= TV_ACCOUNT_CONTROLLER ? role_names[role] : "?";
}

int tv_account_role_parse(const char *s, tv_account_role *out)
{
    for (int i = TV_ACCOUNT_OPERATOR; i <= TV_ACCOUNT_CONTROLLER; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (tv_account_role)i;
            return TV_OK;
        }
    return TV_EINVAL;
}

const char *tv_console_kind_name(int kind)
{
    return kind >= TV_CONSOLE_LOGIN && kind <= TV_CONSOLE_ACCOUNT_ENABLED ? kind_names[kind] : "?";
}

int tv_account_may_manage(int by, int role)
{
    if (by == 0 || by == TV_ACCOUNT_OPERATOR) return 1;
    return by == TV_ACCOUNT_CLERK && (role == TV_ACCOUNT_CONTROLLER || role == TV_ACCOUNT_GUARD);
}

/* --- names and passwords -------------------------------------------------------------- */

static int staff_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > TV_ACCOUNT_NAME_MAX || s[0] < 'a' || s[0] > 'z') return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

int tv_account_name_norm(tv_account_role role, const char *text, char out[TV_ACCOUNT_NAME_MAX + 1],
                         const char **why)
{
    out[0] = '\0';
    if (role != TV_ACCOUNT_CONTROLLER) {
        if (!staff_name_ok(text)) {
            *why = "a login name has 1 to 32 characters, small letters a-z, digits, '.', '_' "
                   "or '-', and starts with a letter";
            return TV_EINVAL;
        }
        snprintf(out, TV_ACCOUNT_NAME_MAX + 1, "%s", text);
        return TV_OK;
    }
    tv_person_id pid;
    if (tv_person_parse_typed(text, &pid, why)) return TV_EINVAL;
    if (pid.kind != TV_ID_PHONE) {
        *why = "a controller logs in with a phone number (10 digits starting with 0), not an "
               "ID number";
        return TV_EINVAL;
    }
    snprintf(out, TV_ACCOUNT_NAME_MAX + 1, "%s", pid.norm);
    return TV_OK;
}

int tv_account_pass_check(tv_account_role role, const char *pass, size_t len, const char **why)
{
    if (role == TV_ACCOUNT_CONTROLLER) {
        for (size_t i = 0; i < len; i++)
            if (pass[i] < '0' || pass[i] > '9') len = 0;
        if (len != TV_ACCOUNT_PIN_DIGITS) {
            *why = "a controller's PIN is exactly 6 digits";
            return TV_EINVAL;
        }
        return TV_OK;
    }
    if (len < TV_ACCOUNT_PASS_MIN || len > TV_ACCOUNT_PASS_MAX) {
        *why = "a password has 8 to 128 bytes";
        return TV_EINVAL;
    }
    return TV_OK;
}

/* The name a login or a look-up means: a phone as typed becomes its normal form; a staff
 * name stays. 0, or TV_EINVAL when it is neither. */
static int lookup_name(const char *text, char out[TV_ACCOUNT_NAME_MAX + 1])
{
    const char *why;
    if (tv_account_name_norm(TV_ACCOUNT_CLERK, text, out, &why) == TV_OK) return TV_OK;
    return tv_account_name_norm(TV_ACCOUNT_CONTROLLER, text, out, &why);
}

/* --- hashing -------------------------------------------------------------------------- */

static int kdf_min(void)
{
    int bad;
    return tv_kdf_level_default(&bad) == TV_KDF_MIN;
}

static int pw_hash(char out[STORE_ACCOUNT_HASH_MAX + 1], const char *pass, size_t len)
{
    int min = kdf_min();
    unsigned long long ops = min ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = min ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    return crypto_pwhash_str(out, pass, len, ops, mem) == 0 ? TV_OK : TV_ENOMEM;
}

/* 1 when pass matches hash (NULL: the dummy hash, which nothing matches), else 0. */
static int pw_verify(const char *hash, const char *pass, size_t len)
{
    static const char dummy_min[crypto_pwhash_STRBYTES] = DUMMY_HASH_MIN;
    static const char dummy_interactive[crypto_pwhash_STRBYTES] = DUMMY_HASH_INTERACTIVE;
    int known = hash != NULL; /* else the same work, whatever it answers */
    if (!known) hash = kdf_min() ? dummy_min : dummy_interactive;
    int ok = crypto_pwhash_str_verify(hash, pass, len) == 0;
    return known && ok;
}

/* --- the console log ------------------------------------------------------------------ */

/* Appends an entry; detail is a printf format. */
static int console_put(store_txn *t, int kind, const char *actor, const char *subject,
                       const char *remote, int64_t now_ms, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static int console_put(store_txn *t, int kind, const char *actor, const char *subject,
                       const char *remote, int64_t now_ms, const char *fmt, ...)
{
    store_console_entry e;
    memset(&e, 0, sizeof e);
    e.at_ms = now_ms;
    e.kind = (uint8_t)kind;
    snprintf(e.actor, sizeof e.actor, "%s", actor ? actor : "");
    snprintf(e.subject, sizeof e.subject, "%s", subject ? subject : "");
    snprintf(e.remote, sizeof e.remote, "%s", remote ? remote : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.detail, sizeof e.detail, fmt, ap);
    va_end(ap);
    return store_console_append(t, &e);
}

int tv_console_log_list(tv_node *n, int64_t since_ms, store_console_fn fn, void *ctx)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_console_foreach(t, since_ms, fn, ctx);
    store_read_end(t);
    return rc;
}

/* --- reading -------------------------------------------------------------------------- */

static void account_out(const store_account *a, tv_account *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", a->name);
    out->role = (tv_account_role)a->role;
    out->disabled = a->disabled;
    out->failures = a->failures;
    out->locked_until_ms = a->locked_until_ms;
    out->created_ms = a->created_ms;
    out->changed_ms = a->changed_ms;
}

/* The stored account named name, in a read transaction of its own. */
static int account_read(tv_node *n, const char *name, store_account *a)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = store_account_get(t, name, a);
    store_read_end(t);
    return rc;
}

int tv_account_get(tv_node *n, const char *name, tv_account *out)
{
    char norm[TV_ACCOUNT_NAME_MAX + 1];
    if (lookup_name(name, norm)) return TV_ENOTFOUND;
    store_account a;
    int rc = account_read(n, norm, &a);
    if (rc == TV_OK) account_out(&a, out);
    sodium_memzero(a.hash, sizeof a.hash);
    return rc;
}

typedef struct list_ctx {
    tv_account_fn fn;
    void *ctx;
} list_ctx;

static int list_row(const store_account *a, void *arg)
{
    list_ctx *c = arg;
    tv_account out;
    account_out(a, &out);
    return c->fn(&out, c->ctx);
}

int tv_account_list(tv_node *n, tv_account_fn fn, void *ctx)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    list_ctx c = {fn, ctx};
    rc = store_accounts_foreach(t, list_row, &c);
    store_read_end(t);
    return rc;
}

typedef struct venues_ctx {
    store_txn *t;
    const char *phone;
    store_venue_fn fn;
    void *ctx;
} venues_ctx;

static int venue_row(const store_venue *v, void *arg)
{
    venues_ctx *c = arg;
    uint8_t tag[CRDT_TAG_BYTES];
    uint32_t have = 0;
    int rc = store_controller_tags(c->t, v->id, c->phone, tag, 1, &have);
    if (rc && rc != TV_ELIMIT) return rc;
    return have > 0 || rc == TV_ELIMIT ? c->fn(v, c->ctx) : TV_OK;
}

int tv_account_controller_venues(tv_node *n, const char *phone, store_venue_fn fn, void *ctx)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    venues_ctx c = {t, phone, fn, ctx};
    rc = store_venue_foreach(t, venue_row, &c);
    store_read_end(t);
    return rc;
}

/* --- adding --------------------------------------------------------------------------- */

static int one_venue(const store_venue *v, void *ctx)
{
    (void)v;
    (void)ctx;
    return 1;
}

int tv_account_role_check(tv_node *n, tv_account_role role, const char *name)
{
    if (role == TV_ACCOUNT_CONTROLLER) {
        int rc = tv_account_controller_venues(n, name, one_venue, NULL);
        return rc == 1 ? TV_OK : rc ? rc : TV_ENOTFOUND;
    }
    if (role != TV_ACCOUNT_HEALTH) return TV_OK;
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    crdt_cert *own = malloc(sizeof *own);
    rc = own ? store_cert_get(t, n->id.pk, own, NULL, NULL) : TV_ENOMEM;
    if (rc == TV_ENOTFOUND || (rc == TV_OK && !(own->flags & CRDT_CERT_F_HEALTH))) rc = TV_EPERM;
    free(own);
    store_read_end(t);
    return rc;
}

typedef struct add_ctx {
    const tv_account_actor *by;
    store_account a;
} add_ctx;

static int add_fn(store_txn *t, void *arg)
{
    add_ctx *c = arg;
    store_account held;
    int rc = store_account_get(t, c->a.name, &held);
    sodium_memzero(held.hash, sizeof held.hash);
    if (rc == TV_OK) return TV_EEXIST;
    if (rc != TV_ENOTFOUND) return rc;
    if ((rc = store_account_put(t, &c->a))) return rc;
    return console_put(t, TV_CONSOLE_ACCOUNT_ADDED, c->by->name, c->a.name, c->by->remote,
                       c->a.created_ms, "role %s", tv_account_role_name(c->a.role));
}

int tv_account_add(tv_node *n, const tv_account_actor *by, const char *name, tv_account_role role,
                   const char *pass, size_t len, int64_t now_ms, const char **why)
{
    const char *w = NULL;
    if (!why) why = &w;
    if (role < TV_ACCOUNT_OPERATOR || role > TV_ACCOUNT_CONTROLLER) {
        *why = "the role is not one of operator, clerk, health, guard, controller";
        return TV_EINVAL;
    }
    add_ctx c = {.by = by,
                 .a = {.role = (uint8_t)role, .created_ms = now_ms, .changed_ms = now_ms}};
    int rc = tv_account_name_norm(role, name, c.a.name, why);
    if (rc == TV_OK) rc = tv_account_pass_check(role, pass, len, why);
    if (rc) return rc;
    if (!tv_account_may_manage(by->role, role)) return TV_EPERM;
    if ((rc = tv_account_role_check(n, role, c.a.name))) return rc;
    if ((rc = pw_hash(c.a.hash, pass, len))) return rc;
    rc = store_write(n->st, add_fn, &c);
    sodium_memzero(c.a.hash, sizeof c.a.hash);
    return rc;
}

/* --- changing ------------------------------------------------------------------------- */

typedef struct change_ctx {
    const tv_account_actor *by;
    char name[TV_ACCOUNT_NAME_MAX + 1];
    int kind; /* what is done, as the console log names it */
    int64_t now_ms;
    char hash[STORE_ACCOUNT_HASH_MAX + 1]; /* a new password's */
} change_ctx;

/* Whether by may do kind to account a. */
static int change_allowed(const change_ctx *c, const store_account *a)
{
    int self = c->by->role != 0 && strcmp(c->by->name, a->name) == 0;
    if (c->kind == TV_CONSOLE_PASSWORD_CHANGED && self) return 1;
    if (self && c->kind != TV_CONSOLE_ACCOUNT_ENABLED) return 0; /* nobody locks themselves out */
    return tv_account_may_manage(c->by->role, a->role);
}

static int change_fn(store_txn *t, void *arg)
{
    change_ctx *c = arg;
    store_account a;
    int rc = store_account_get(t, c->name, &a);
    if (rc == TV_OK && !change_allowed(c, &a)) rc = TV_EPERM;
    if (rc == TV_OK && c->kind == TV_CONSOLE_ACCOUNT_REMOVED) {
        rc = store_account_del(t, c->name);
    } else if (rc == TV_OK) {
        if (c->kind == TV_CONSOLE_ACCOUNT_UNLOCKED) {
            a.failures = 0;
            a.locked_until_ms = 0;
        } else if (c->kind == TV_CONSOLE_PASSWORD_CHANGED) {
            memcpy(a.hash, c->hash, sizeof a.hash);
        } else {
            a.disabled = c->kind == TV_CONSOLE_ACCOUNT_DISABLED;
        }
        a.changed_ms = c->now_ms;
        rc = store_account_put(t, &a);
    }
    if (rc == TV_OK)
        rc = console_put(t, c->kind, c->by->name, c->name, c->by->remote, c->now_ms, "role %s",
                         tv_account_role_name(a.role));
    sodium_memzero(a.hash, sizeof a.hash);
    return rc;
}

static int change(tv_node *n, const tv_account_actor *by, const char *name, int kind,
                  int64_t now_ms)
{
    change_ctx c = {.by = by, .kind = kind, .now_ms = now_ms};
    if (lookup_name(name, c.name)) return TV_ENOTFOUND;
    return store_write(n->st, change_fn, &c);
}

int tv_account_remove(tv_node *n, const tv_account_actor *by, const char *name, int64_t now_ms)
{
    return change(n, by, name, TV_CONSOLE_ACCOUNT_REMOVED, now_ms);
}

int tv_account_unlock(tv_node *n, const tv_account_actor *by, const char *name, int64_t now_ms)
{
    return change(n, by, name, TV_CONSOLE_ACCOUNT_UNLOCKED, now_ms);
}

int tv_account_disable(tv_node *n, const tv_account_actor *by, const char *name, int disabled,
                       int64_t now_ms)
{
    return change(n, by, name, disabled ? TV_CONSOLE_ACCOUNT_DISABLED : TV_CONSOLE_ACCOUNT_ENABLED,
                  now_ms);
}

int tv_account_passwd(tv_node *n, const tv_account_actor *by, const char *name, const char *pass,
                      size_t len, int64_t now_ms, const char **why)
{
    const char *w = NULL;
    if (!why) why = &w;
    change_ctx c = {.by = by, .kind = TV_CONSOLE_PASSWORD_CHANGED, .now_ms = now_ms};
    if (lookup_name(name, c.name)) return TV_ENOTFOUND;
    store_account a;
    int rc = account_read(n, c.name, &a);
    sodium_memzero(a.hash, sizeof a.hash);
    if (rc == TV_OK) rc = tv_account_pass_check((tv_account_role)a.role, pass, len, why);
    if (rc == TV_OK && !change_allowed(&c, &a)) rc = TV_EPERM;
    if (rc == TV_OK) rc = pw_hash(c.hash, pass, len);
    if (rc == TV_OK) rc = store_write(n->st, change_fn, &c);
    sodium_memzero(c.hash, sizeof c.hash);
    return rc;
}

/* --- logging in ----------------------------------------------------------------------- */

typedef struct login_ctx {
    const char *remote;
    const char *name; /* normalised, or "(malformed)" */
    int found;        /* the account was there when the password was checked */
    int match;        /* the password matched its hash then */
    int no_venue;     /* a controller's phone controls no venue here now */
    int64_t now_ms;
    store_account a; /* as written */
} login_ctx;

/* The outcome of a login by an account found in t: its failures and lock written, the
 * console log told. Returns the login's answer. */
static int login_outcome(store_txn *t, login_ctx *c)
{
    store_account *a = &c->a;
    int64_t now = c->now_ms;
    if (a->locked_until_ms > now) {
        int rc = console_put(t, TV_CONSOLE_LOGIN_LOCKED, c->name, c->name, c->remote, now,
                             "refused: locked");
        return rc ? rc : TV_EACCLOCKED;
    }
    if (a->locked_until_ms) { /* a lock that has run out: the count starts again */
        a->locked_until_ms = 0;
        a->failures = 0;
    }
    int rc, out;
    if (c->match && a->disabled) {
        rc = console_put(t, TV_CONSOLE_LOGIN_FAILED, c->name, c->name, c->remote, now,
                         "refused: disabled");
        out = TV_EPERM;
    } else if (c->match && a->role == TV_ACCOUNT_CONTROLLER && c->no_venue) {
        /* a phone removed from its venues: no session that could only show nothing */
        a->failures = 0;
        rc = console_put(t, TV_CONSOLE_LOGIN_FAILED, c->name, c->name, c->remote, now,
                         "refused: controls no venue");
        out = TV_ESCOPE;
    } else if (c->match) {
        a->failures = 0;
        rc = console_put(t, TV_CONSOLE_LOGIN, c->name, c->name, c->remote, now, "role %s",
                         tv_account_role_name(a->role));
        out = TV_OK;
    } else if (++a->failures >= TV_ACCOUNT_FAILURES_MAX) {
        a->locked_until_ms = now + TV_ACCOUNT_LOCK_MS;
        a->changed_ms = now;
        rc = console_put(t, TV_CONSOLE_LOGIN_LOCKED, c->name, c->name, c->remote, now,
                         "failure %u of %d: locked for %lld minutes", (unsigned)a->failures,
                         TV_ACCOUNT_FAILURES_MAX, TV_ACCOUNT_LOCK_MS / 60000);
        out = TV_EACCLOCKED;
    } else {
        rc = console_put(t, TV_CONSOLE_LOGIN_FAILED, c->name, c->name, c->remote, now,
                         "failure %u of %d", (unsigned)a->failures, TV_ACCOUNT_FAILURES_MAX);
        out = TV_EPASSPHRASE;
    }
    if (rc == TV_OK) rc = store_account_put(t, a);
    return rc ? rc : out;
}

static int login_fn(store_txn *t, void *arg)
{
    login_ctx *c = arg;
    store_account held;
    int rc = c->found ? store_account_get(t, c->name, &held) : TV_ENOTFOUND;
    /* the hash checked must still be the account's: else the password was not checked */
    if (rc == TV_OK && strcmp(held.hash, c->a.hash) != 0) c->match = 0;
    if (rc == TV_OK) c->a = held;
    sodium_memzero(held.hash, sizeof held.hash);
    if (rc == TV_OK) return login_outcome(t, c);
    if (rc != TV_ENOTFOUND) return rc;
    rc = console_put(t, TV_CONSOLE_LOGIN_FAILED, c->name, c->name, c->remote, c->now_ms,
                     "no such account");
    return rc ? rc : TV_EPASSPHRASE;
}

/* store_write for a login: its refusals are answers, written like a success. */
typedef struct login_write {
    login_ctx *c;
    int answer;
} login_write;

static int login_write_fn(store_txn *t, void *arg)
{
    login_write *w = arg;
    login_ctx c = *w->c; /* the function may run again: from the same start */
    int rc = login_fn(t, &c);
    if (rc == TV_OK || rc == TV_EPASSPHRASE || rc == TV_EACCLOCKED || rc == TV_EPERM ||
        rc == TV_ESCOPE) {
        w->answer = rc;
        w->c->a = c.a;
        rc = TV_OK;
    }
    sodium_memzero(c.a.hash, sizeof c.a.hash);
    return rc;
}

int tv_account_login_begin(tv_node *n, const char *name, tv_login *l)
{
    memset(l, 0, sizeof *l);
    int rc = TV_ENOTFOUND;
    if (lookup_name(name, l->name))
        snprintf(l->name, sizeof l->name, "(malformed)");
    else
        rc = account_read(n, l->name, &l->a);
    if (rc && rc != TV_ENOTFOUND) return rc;
    l->found = rc == TV_OK;
    return TV_OK;
}

void tv_account_login_check(tv_login *l, const char *pass, size_t len)
{
    l->match = pw_verify(l->found ? l->a.hash : NULL, pass, len);
}

int tv_account_login_end(tv_node *n, tv_login *l, const char *remote, int64_t now_ms,
                         tv_account *out)
{
    login_ctx c = {.remote = remote,
                   .name = l->name,
                   .found = l->found,
                   .match = l->match,
                   .now_ms = now_ms,
                   .a = l->a};
    memset(out, 0, sizeof *out);
    if (l->match && l->a.role == TV_ACCOUNT_CONTROLLER) {
        int have = tv_account_controller_venues(n, l->name, one_venue, NULL);
        if (have < 0) {
            sodium_memzero(l, sizeof *l);
            return have;
        }
        c.no_venue = have == 0;
    }
    login_write w = {&c, TV_EPASSPHRASE};
    int rc = store_write(n->st, login_write_fn, &w);
    if (rc == TV_OK && w.answer != TV_EPASSPHRASE) account_out(&c.a, out);
    sodium_memzero(c.a.hash, sizeof c.a.hash);
    sodium_memzero(l, sizeof *l);
    return rc ? rc : w.answer;
}

int tv_account_login(tv_node *n, const char *remote, const char *name, const char *pass, size_t len,
                     int64_t now_ms, tv_account *out)
{
    tv_login l;
    int rc = tv_account_login_begin(n, name, &l);
    if (rc) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    tv_account_login_check(&l, pass, len);
    return tv_account_login_end(n, &l, remote, now_ms, out);
}

typedef struct logout_ctx {
    const char *remote, *name;
    int64_t now_ms;
} logout_ctx;

static int logout_fn(store_txn *t, void *arg)
{
    logout_ctx *c = arg;
    return console_put(t, TV_CONSOLE_LOGOUT, c->name, c->name, c->remote, c->now_ms, "%s", "");
}

int tv_account_logout(tv_node *n, const char *remote, const char *name, int64_t now_ms)
{
    logout_ctx c = {remote, name, now_ms};
    return store_write(n->st, logout_fn, &c);
}
