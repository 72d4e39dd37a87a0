/* Tests of the console's accounts, logins with lockout and the console log
 * (node/logic/account.c) over a real node. */
#include "crdt/error.h"
#include "node/logic/account.h"
#include "node/logic/enroll.h"
#include "node/logic/node.h"
#include "node/logic/venue.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#define T0 1633482000000LL /* 2021-10-06 08:00 Vietnam time */
#define PW "correct horse"
#define PWLEN (sizeof PW - 1)
#define BAD "wrong horse!"
#define BADLEN (sizeof BAD - 1)

static const tv_account_actor *cli(void)
{
    static const tv_account_actor a = {.name = "cli", .role = 0, .remote = ""};
    return &a;
}

/* The console log, kept as "kind actor subject remote detail" lines. */
typedef struct log_lines {
    char lines[64][400];
    int n;
} log_lines;

static int log_row(const store_console_entry *e, void *arg)
{
    log_lines *l = arg;
    if (l->n < 64)
        snprintf(l->lines[l->n++], sizeof l->lines[0], "%s %s %s %s %s",
                 tv_console_kind_name(e->kind), e->actor, e->subject, e->remote, e->detail);
    return 0;
}

static void log_read(tv_node *n, int64_t since, log_lines *l)
{
    memset(l, 0, sizeof *l);
    assert_int_equal(tv_console_log_list(n, since, log_row, l), 0);
}

/* Adds clerk "lan" with PW at T0. */
static void add_lan(tv_node *n)
{
    assert_int_equal(tv_account_add(n, cli(), "lan", TV_ACCOUNT_CLERK, PW, PWLEN, T0, NULL), 0);
}

static void test_add_login_and_log(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    add_lan(n);
    const char *why = NULL;
    assert_int_equal(tv_account_add(n, cli(), "lan", TV_ACCOUNT_GUARD, PW, PWLEN, T0, &why),
                     TV_EEXIST);
    tv_account a;
    assert_int_equal(tv_account_login(n, "10.0.0.5", "lan", PW, PWLEN, T0 + 1, &a), 0);
    assert_string_equal(a.name, "lan");
    assert_int_equal(a.role, TV_ACCOUNT_CLERK);
    assert_int_equal(a.failures, 0);
    assert_int_equal(tv_account_login(n, "10.0.0.5", "lan", BAD, BADLEN, T0 + 2, &a),
                     TV_EPASSPHRASE);
    /* an unknown name: the same answer, and it is logged */
    assert_int_equal(tv_account_login(n, "10.0.0.6", "nobody", PW, PWLEN, T0 + 3, &a),
                     TV_EPASSPHRASE);
    assert_int_equal(tv_account_login(n, "10.0.0.6", "Not A Name!", PW, PWLEN, T0 + 4, &a),
                     TV_EPASSPHRASE);
    assert_int_equal(tv_account_logout(n, "10.0.0.5", "lan", T0 + 5), 0);
    log_lines l;
    log_read(n, 0, &l);
    assert_int_equal(l.n, 6);
    assert_string_equal(l.lines[0], "account_added cli lan  role clerk");
    assert_string_equal(l.lines[1], "login lan lan 10.0.0.5 role clerk");
    assert_string_equal(l.lines[2], "login_failed lan lan 10.0.0.5 failure 1 of 5");
    assert_string_equal(l.lines[3], "login_failed nobody nobody 10.0.0.6 no such account");
    assert_string_equal(l.lines[4],
                        "login_failed (malformed) (malformed) 10.0.0.6 no such account");
    assert_string_equal(l.lines[5], "logout lan lan 10.0.0.5 ");
    log_read(n, T0 + 3, &l); /* since */
    assert_int_equal(l.n, 3);
    /* the password is nowhere in the log */
    log_read(n, 0, &l);
    for (int i = 0; i < l.n; i++)
        assert_null(strstr(l.lines[i], "horse"));
}

/* Five failures lock the account for 15 minutes: the sixth try, with the right password,
 * is refused as locked; the lock survives a restart; unlock clears it. */
static void test_lockout(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    add_lan(n);
    tv_account a;
    for (int i = 1; i <= 4; i++) {
        assert_int_equal(tv_account_login(n, "", "lan", BAD, BADLEN, T0 + i, &a), TV_EPASSPHRASE);
        assert_int_equal(tv_account_get(n, "lan", &a), 0);
        assert_int_equal(a.failures, (uint32_t)i);
        assert_int_equal(a.locked_until_ms, 0);
    }
    assert_int_equal(tv_account_login(n, "", "lan", BAD, BADLEN, T0 + 5, &a), TV_EACCLOCKED);
    assert_int_equal(a.locked_until_ms, T0 + 5 + TV_ACCOUNT_LOCK_MS);
    assert_int_equal(tv_account_login(n, "", "lan", PW, PWLEN, T0 + 6, &a), TV_EACCLOCKED);
    assert_int_equal(a.locked_until_ms, T0 + 5 + TV_ACCOUNT_LOCK_MS);

    /* durable: a restart does not lift it */
    tv_node_close(n);
    assert_int_equal(tv_node_open(n, f->dir, TV_NODE_WRITE), 0);
    assert_int_equal(tv_account_login(n, "", "lan", PW, PWLEN, T0 + 7, &a), TV_EACCLOCKED);
    assert_int_equal(tv_account_get(n, "lan", &a), 0);
    assert_int_equal(a.failures, 5);
    assert_int_equal(a.locked_until_ms, T0 + 5 + TV_ACCOUNT_LOCK_MS);

    log_lines l;
    log_read(n, T0 + 5, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.lines[0], "login_locked lan lan  failure 5 of 5: locked for 15 minutes");
    assert_string_equal(l.lines[1], "login_locked lan lan  refused: locked");

    assert_int_equal(tv_account_unlock(n, cli(), "lan", T0 + 8), 0);
    assert_int_equal(tv_account_get(n, "lan", &a), 0);
    assert_int_equal(a.failures, 0);
    assert_int_equal(a.locked_until_ms, 0);
    assert_int_equal(tv_account_login(n, "", "lan", PW, PWLEN, T0 + 9, &a), 0);
    log_read(n, T0 + 8, &l);
    assert_string_equal(l.lines[0], "account_unlocked cli lan  role clerk");
    assert_int_equal(tv_account_unlock(n, cli(), "nobody", T0 + 10), TV_ENOTFOUND);
}

/* A lock runs out after TV_ACCOUNT_LOCK_MS; a success resets the count of failures. */
static void test_lock_expiry_and_reset(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    add_lan(n);
    tv_account a;
    for (int i = 1; i <= 4; i++)
        assert_int_equal(tv_account_login(n, "", "lan", BAD, BADLEN, T0 + i, &a), TV_EPASSPHRASE);
    assert_int_equal(tv_account_login(n, "", "lan", PW, PWLEN, T0 + 5, &a), 0);
    assert_int_equal(a.failures, 0);
    for (int i = 1; i <= 4; i++) /* four more: still not locked, the count started again */
        assert_int_equal(tv_account_login(n, "", "lan", BAD, BADLEN, T0 + 5 + i, &a),
                         TV_EPASSPHRASE);
    assert_int_equal(tv_account_login(n, "", "lan", BAD, BADLEN, T0 + 10, &a), TV_EACCLOCKED);
    int64_t end = T0 + 10 + TV_ACCOUNT_LOCK_MS;
    assert_int_equal(tv_account_login(n, "", "lan", PW, PWLEN, end - 1, &a), TV_EACCLOCKED);
    assert_int_equal(tv_account_login(n, "", "lan", PW, PWLEN, end, &a), 0);
    assert_int_equal(a.failures, 0);
    assert_int_equal(a.locked_until_ms, 0);
}

static void test_names_and_passwords(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    const char *why = NULL;
    static const char *const bad_names[] = {
        "", "Lan", "1lan", "lan vo", "lân", "_lan", "a23456789012345678901234567890123", "lan/"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        why = NULL;
        assert_int_equal(
            tv_account_add(n, cli(), bad_names[i], TV_ACCOUNT_CLERK, PW, PWLEN, T0, &why),
            TV_EINVAL);
        assert_string_equal(why, "a login name has 1 to 32 characters, small letters a-z, "
                                 "digits, '.', '_' or '-', and starts with a letter");
    }
    assert_int_equal(tv_account_add(n, cli(), "a2345678901234567890123456789012", TV_ACCOUNT_GUARD,
                                    PW, PWLEN, T0, NULL),
                     0);
    assert_int_equal(tv_account_add(n, cli(), "le.thi_b-2", TV_ACCOUNT_GUARD, PW, PWLEN, T0, NULL),
                     0);
    assert_int_equal(tv_account_add(n, cli(), "lan", TV_ACCOUNT_CLERK, "1234567", 7, T0, &why),
                     TV_EINVAL);
    assert_string_equal(why, "a password has 8 to 128 bytes");
    char long_pw[130];
    memset(long_pw, 'x', sizeof long_pw);
    assert_int_equal(tv_account_add(n, cli(), "lan", TV_ACCOUNT_CLERK, long_pw, 129, T0, &why),
                     TV_EINVAL);
    assert_int_equal(tv_account_add(n, cli(), "lan", TV_ACCOUNT_CLERK, long_pw, 128, T0, NULL), 0);
    tv_account a;
    assert_int_equal(tv_account_login(n, "", "lan", long_pw, 128, T0, &a), 0);
    assert_int_equal(tv_account_get(n, "nobody", &a), TV_ENOTFOUND);
    assert_int_equal(tv_account_add(n, cli(), "x", 9, PW, PWLEN, T0, &why), TV_EINVAL);
}

/* A health officer only where the node's own certificate has the health flag. */
static void test_health_role(void **state)
{
    test_node *f = *state; /* a province, not yet its own root: no certificate */
    tv_node *n = &f->n;
    assert_int_equal(tv_account_add(n, cli(), "bs.an", TV_ACCOUNT_HEALTH, PW, PWLEN, T0, NULL),
                     TV_EPERM);
    assert_int_equal(tv_enroll_make_root(n, 1, NULL), 0);
    assert_int_equal(tv_account_add(n, cli(), "bs.an", TV_ACCOUNT_HEALTH, PW, PWLEN, T0, NULL), 0);
    tv_account a;
    assert_int_equal(tv_account_login(n, "", "bs.an", PW, PWLEN, T0, &a), 0);
    assert_int_equal(a.role, TV_ACCOUNT_HEALTH);
}

static void test_health_role_no_flag(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    assert_int_equal(tv_enroll_make_root(n, 0, NULL), 0); /* a root without the health flag */
    assert_int_equal(tv_account_add(n, cli(), "bs.an", TV_ACCOUNT_HEALTH, PW, PWLEN, T0, NULL),
                     TV_EPERM);
    assert_int_equal(tv_account_add(n, cli(), "lan", TV_ACCOUNT_CLERK, PW, PWLEN, T0, NULL), 0);
    tv_account a;
    assert_int_equal(tv_account_get(n, "bs.an", &a), TV_ENOTFOUND);
}

/* The first venue the store holds, into arg (a store_venue). */
static int first_venue(const store_venue *v, void *arg)
{
    *(store_venue *)arg = *v;
    return 1;
}

static int count_venue(const store_venue *v, void *arg)
{
    (void)v;
    ++*(int *)arg;
    return 0;
}

/* A controller: a phone that now controls a venue of this node, and a 6-digit PIN. */
static void test_controller(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    const char *why = NULL;
    assert_int_equal(
        tv_account_add(n, cli(), "0912 345 678", TV_ACCOUNT_CONTROLLER, "123456", 6, T0, &why),
        TV_ENOTFOUND);
    assert_int_equal(test_market_add(n, "Chợ Vĩnh Hải"), 0);
    store_venue v;
    store_txn *t;
    assert_int_equal(store_read_begin(n->st, &t), 0);
    assert_int_equal(store_venue_foreach(t, first_venue, &v), 1);
    store_read_end(t);
    /* a venue, but the phone is not its controller yet */
    assert_int_equal(
        tv_account_add(n, cli(), "0912345678", TV_ACCOUNT_CONTROLLER, "123456", 6, T0, &why),
        TV_ENOTFOUND);
    assert_int_equal(tv_venue_controller_add(n, v.id, "0912345678"), 0);
    static const char *const bad_pins[] = {"12345", "1234567", "12345a", "abcdef"};
    for (size_t i = 0; i < sizeof bad_pins / sizeof *bad_pins; i++) {
        why = NULL;
        assert_int_equal(tv_account_add(n, cli(), "0912345678", TV_ACCOUNT_CONTROLLER, bad_pins[i],
                                        strlen(bad_pins[i]), T0, &why),
                         TV_EINVAL);
        assert_string_equal(why, "a controller's PIN is exactly 6 digits");
    }
    assert_int_equal(
        tv_account_add(n, cli(), "001234567890", TV_ACCOUNT_CONTROLLER, "123456", 6, T0, &why),
        TV_EINVAL); /* an ID number, not a phone */
    assert_int_equal(
        tv_account_add(n, cli(), "0912 345 678", TV_ACCOUNT_CONTROLLER, "123456", 6, T0, &why), 0);
    tv_account a;
    assert_int_equal(tv_account_login(n, "", "+84912345678", "123456", 6, T0, &a), 0);
    assert_string_equal(a.name, "0912345678");
    assert_int_equal(a.role, TV_ACCOUNT_CONTROLLER);
    int count = 0;
    assert_int_equal(tv_account_controller_venues(n, a.name, count_venue, &count), 0);
    assert_int_equal(count, 1);
    count = 0;
    assert_int_equal(tv_account_controller_venues(n, "0987654321", count_venue, &count), 0);
    assert_int_equal(count, 0);
    /* removed from its venue, the phone logs in no more (with the right PIN: said so and
     * logged; a wrong one is still a failure) */
    uint8_t tags[CRDT_TAGS_MAX * CRDT_TAG_BYTES];
    uint32_t ntags = 0;
    assert_int_equal(tv_venue_controller_tags(n, v.id, "0912345678", tags, CRDT_TAGS_MAX, &ntags),
                     0);
    assert_int_equal(tv_venue_controller_remove(n, v.id, "0912345678", tags, ntags), 0);
    assert_int_equal(tv_account_login(n, "10.0.0.7", "0912345678", "123456", 6, T0 + 2, &a),
                     TV_ESCOPE);
    assert_int_equal(tv_account_login(n, "10.0.0.7", "0912345678", "654321", 6, T0 + 3, &a),
                     TV_EPASSPHRASE);
    log_lines l;
    log_read(n, T0 + 2, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.lines[0],
                        "login_failed 0912345678 0912345678 10.0.0.7 refused: controls no venue");
    assert_string_equal(l.lines[1], "login_failed 0912345678 0912345678 10.0.0.7 failure 1 of 5");
    /* and back at a venue, it logs in again */
    assert_int_equal(tv_venue_controller_add(n, v.id, "0912345678"), 0);
    assert_int_equal(tv_account_login(n, "", "0912345678", "123456", 6, T0 + 4, &a), 0);
    assert_int_equal(tv_account_remove(n, cli(), "0912.345.678", T0 + 5), 0);
    assert_int_equal(tv_account_get(n, "0912345678", &a), TV_ENOTFOUND);
}

/* Who may manage whom: a clerk its controllers and guards, nobody else; anyone their own
 * password; nobody removes or disables their own account. */
static void test_who_may(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    assert_int_equal(tv_account_add(n, cli(), "op", TV_ACCOUNT_OPERATOR, PW, PWLEN, T0, NULL), 0);
    const tv_account_actor op = {"op", TV_ACCOUNT_OPERATOR, "10.0.0.1"};
    const tv_account_actor lan = {"lan", TV_ACCOUNT_CLERK, "10.0.0.2"};
    const tv_account_actor gate = {"gate", TV_ACCOUNT_GUARD, "10.0.0.3"};
    assert_int_equal(tv_account_add(n, &op, "lan", TV_ACCOUNT_CLERK, PW, PWLEN, T0, NULL), 0);
    assert_int_equal(tv_account_add(n, &lan, "lan2", TV_ACCOUNT_CLERK, PW, PWLEN, T0, NULL),
                     TV_EPERM);
    assert_int_equal(tv_account_add(n, &lan, "gate", TV_ACCOUNT_GUARD, PW, PWLEN, T0, NULL), 0);
    assert_int_equal(tv_account_add(n, &gate, "gate2", TV_ACCOUNT_GUARD, PW, PWLEN, T0, NULL),
                     TV_EPERM);
    assert_int_equal(tv_account_unlock(n, &lan, "op", T0), TV_EPERM);
    assert_int_equal(tv_account_passwd(n, &lan, "op", "new password", 12, T0, NULL), TV_EPERM);
    assert_int_equal(tv_account_passwd(n, &gate, "gate", "new password", 12, T0 + 1, NULL), 0);
    assert_int_equal(tv_account_remove(n, &op, "op", T0), TV_EPERM);
    assert_int_equal(tv_account_disable(n, &op, "op", 1, T0), TV_EPERM);
    tv_account a;
    assert_int_equal(tv_account_login(n, "", "gate", PW, PWLEN, T0 + 2, &a), TV_EPASSPHRASE);
    assert_int_equal(tv_account_login(n, "", "gate", "new password", 12, T0 + 3, &a), 0);
    /* a disabled account: the right password is refused, and it can be enabled again */
    assert_int_equal(tv_account_disable(n, &lan, "gate", 1, T0 + 4), 0);
    assert_int_equal(tv_account_login(n, "", "gate", "new password", 12, T0 + 5, &a), TV_EPERM);
    assert_int_equal(tv_account_disable(n, &op, "gate", 0, T0 + 6), 0);
    assert_int_equal(tv_account_login(n, "", "gate", "new password", 12, T0 + 7, &a), 0);
    log_lines l;
    log_read(n, T0 + 1, &l);
    assert_string_equal(l.lines[0], "password_changed gate gate 10.0.0.3 role guard");
    assert_string_equal(l.lines[3], "account_disabled lan gate 10.0.0.2 role guard");
    assert_string_equal(l.lines[4], "login_failed gate gate  refused: disabled");
    assert_string_equal(l.lines[5], "account_enabled op gate 10.0.0.1 role guard");
    assert_int_equal(tv_account_remove(n, &op, "lan", T0 + 8), 0);
    log_read(n, T0 + 8, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.lines[0], "account_removed op lan 10.0.0.1 role clerk");
}

typedef struct names {
    char s[8][40];
    int n;
} names;

static int list_row(const tv_account *a, void *arg)
{
    names *l = arg;
    snprintf(l->s[l->n++], sizeof l->s[0], "%s %s", a->name, tv_account_role_name(a->role));
    return 0;
}

static void test_list(void **state)
{
    test_node *f = *state;
    tv_node *n = &f->n;
    names l = {0};
    assert_int_equal(tv_account_list(n, list_row, &l), 0);
    assert_int_equal(l.n, 0);
    assert_int_equal(tv_account_add(n, cli(), "vu", TV_ACCOUNT_GUARD, PW, PWLEN, T0, NULL), 0);
    assert_int_equal(tv_account_add(n, cli(), "an", TV_ACCOUNT_OPERATOR, PW, PWLEN, T0, NULL), 0);
    assert_int_equal(tv_account_list(n, list_row, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.s[0], "an operator");
    assert_string_equal(l.s[1], "vu guard");
    tv_account_role r;
    assert_int_equal(tv_account_role_parse("health", &r), 0);
    assert_int_equal(r, TV_ACCOUNT_HEALTH);
    assert_int_equal(tv_account_role_parse("admin", &r), TV_EINVAL);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_add_login_and_log, test_commune_setup, test_node_teardown),
    cmocka_unit_test_setup_teardown(test_lockout, test_commune_setup, test_node_teardown),
    cmocka_unit_test_setup_teardown(test_lock_expiry_and_reset, test_commune_setup,
                                    test_node_teardown),
    cmocka_unit_test_setup_teardown(test_names_and_passwords, test_commune_setup,
                                    test_node_teardown),
    cmocka_unit_test_setup_teardown(test_health_role, test_province_setup, test_node_teardown),
    cmocka_unit_test_setup_teardown(test_health_role_no_flag, test_province_setup,
                                    test_node_teardown),
    cmocka_unit_test_setup_teardown(test_controller, test_commune_setup, test_node_teardown),
    cmocka_unit_test_setup_teardown(test_who_may, test_commune_setup, test_node_teardown),
    cmocka_unit_test_setup_teardown(test_list, test_commune_setup, test_node_teardown),
};

int main(void)
{
    setenv("TRUYVET_KDF", "min", 1); /* the cheapest Argon2id: tests only */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
