/* CLI helpers: messages for people, opening the node, finding venues. */
#include "node/cli/cli.h"
#include "node/cli/command.h"
#include "node/format/payload.h"
#include "node/logic/record.h"
#include "node/format/text.h"
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "node/logic/enroll.h"
#include "node/logic/health_input.h"
#include "node/format/fileio.h"
#include "node/format/timefmt.h"
#include "node/logic/units.h"
#include "node/logic/venue_input.h"
#include "node/logic/why.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void tv_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("truyvet: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int tv_cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("truyvet: ", stderr);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'truyvet %s --help'.\n", cmd);
    va_end(ap);
    return TV_EXIT_USAGE;
}

/* The NFC copies tv_cli_nfc made, freed at exit. */
static char **nfc_kept;
static size_t nfc_n;

static void nfc_free(void)
{
    for (size_t i = 0; i < nfc_n; i++)
        free(nfc_kept[i]);
    free(nfc_kept);
    nfc_kept = NULL;
    nfc_n = 0;
}

const char *tv_cli_nfc(const char *s)
{
    if (!s) return NULL;
    char *c = tv_text_nfc(s);
    if (!c) return s;
    if (strcmp(c, s) == 0) {
        free(c);
        return s;
    }
    char **k = realloc(nfc_kept, (nfc_n + 1) * sizeof *k);
    if (!k) {
        free(c);
        return s;
    }
    if (!nfc_kept) atexit(nfc_free);
    nfc_kept = k;
    nfc_kept[nfc_n++] = c;
    return c;
}

int tv_cli_text(const char *cmd, const char *what, const char *s, size_t max)
{
    tv_why why;
    if (tv_why_text(what, s, max, &why)) return tv_cli_usage(cmd, "%s", why.en);
    return 0;
}

int tv_cli_why(int rc, const tv_why *why)
{
    tv_cli_error("%s", why->en);
    return rc == TV_EINVAL ? TV_EXIT_USAGE : TV_EXIT_FAIL;
}

int tv_cli_unit_known(const char *cmd, tv_node *n, const char *code)
{
    tv_why why;
    if (tv_unit_known_check(n, code, &why)) return tv_cli_usage(cmd, "%s", why.en);
    return 0;
}

int tv_cli_bad_option(const char *cmd, int c, char **argv)
{
    if (c == ':') return tv_cli_usage(cmd, "%s needs a value.", argv[optind - 1]);
    return tv_cli_usage(cmd, "%s is not an option of %s.", argv[optind - 1], cmd);
}

int tv_cli_fail(const tv_cli *cli, int rc, const char *what)
{
    int err = errno;
    switch (rc) {
    case TV_ENOSPC:
        tv_cli_error("%s: the disk is full, so nothing was recorded. Free some disk space "
                     "and try again.",
                     what);
        break;
    case TV_EIO:
        tv_cli_error("%s: cannot read or write the files in %s (%s).", what, cli->dir,
                     strerror(err));
        break;
    case TV_EBUSY:
        tv_cli_error("%s: another truyvet program is recording on the node in %s (a station, "
                     "an import or another command). Wait for it to finish, then try again.",
                     what, cli->dir);
        break;
    case TV_ECORRUPT:
        tv_cli_error("%s: the node's files in %s are damaged (%s). Run 'truyvet verify' and "
                     "restore the node from a backup if it reports faults.",
                     what, cli->dir, tv_strerror(rc));
        break;
    case TV_EVERSION:
        tv_cli_error("%s: the node in %s was written by a newer truyvet; upgrade truyvet.", what,
                     cli->dir);
        break;
    case TV_ENOTFOUND:
        tv_cli_error("%s: no truyvet node in %s. Create one with 'truyvet init' or choose "
                     "another directory with -d DIR.",
                     what, cli->dir);
        break;
    case TV_ELOCKED:
        tv_cli_error("%s: the node's secrets are locked; run 'truyvet unlock' first (it asks "
                     "for the passphrase).",
                     what);
        return TV_EXIT_LOCKED;
    case TV_EPLAINKEY:
        tv_cli_error("%s: the node's keys in %s are stored in clear files (node.key, "
                     "tracing.key) by an earlier truyvet. Run 'truyvet passwd' to encrypt them "
                     "under a passphrase.",
                     what, cli->dir);
        break;
    case TV_EPASSPHRASE:
        tv_cli_error("%s: the kept key or the passphrase does not open %s/" TV_SECRET_FILE
                     "; run 'truyvet unlock'.",
                     what, cli->dir);
        break;
    case TV_ERESTORED:
        tv_cli_error("%s: this node's store was restored or copied: sync once with a parent "
                     "(truyvet sync --once) before recording, or override with 'truyvet resync "
                     "--override --reason TEXT'.",
                     what);
        return TV_EXIT_RESTORED;
    default:
        tv_cli_error("%s: %s.", what, tv_strerror(rc));
        break;
    }
    return TV_EXIT_FAIL;
}

int tv_cli_out_check(const char *path)
{
    if (tv_file_out_check(path) == TV_OK) return 0;
    tv_cli_error("cannot write %s: %s; nothing was done.", tv_text_esc(path), strerror(errno));
    return TV_EXIT_FAIL;
}

void tv_cli_signal_exit(int sig)
{
    if (sig != SIGINT) return;
    fflush(stdout);
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
}

int tv_cli_fail_out(const tv_cli *cli, int rc, const char *what, const char *path)
{
    if (rc != TV_EIO) return tv_cli_fail(cli, rc, what);
    tv_cli_error("%s: cannot write %s (%s).", what, tv_text_esc(path), strerror(errno));
    return TV_EXIT_FAIL;
}

int tv_cli_open(tv_cli *cli, tv_node *n, int flags)
{
    int need = flags & (TV_NODE_SECRET | TV_NODE_WRITE);
    int rc = tv_node_open(n, cli->dir, flags & TV_NODE_WRITE);
    if (rc) return tv_cli_fail(cli, rc, "cannot open the node");
    if (!n->unlocked) {
        /* a service's credential (LoadCredentialEncrypted=) */
        tv_pass p;
        rc = tv_cli_pass_credential(&p);
        if (rc == 0) {
            rc = tv_node_unlock(n, p.p, p.len);
            tv_cli_pass_free(&p);
            if (rc == TV_EPASSPHRASE)
                tv_cli_error("the passphrase in $CREDENTIALS_DIRECTORY/passphrase does not "
                             "open the node's secrets.");
            else if (rc)
                tv_cli_fail(cli, rc, "cannot open the node's secrets");
        } else if (rc > 0) {
            tv_node_close(n);
            return rc;
        }
    }
    if (need && !n->unlocked) {
        tv_node_close(n);
        return tv_cli_fail(cli, TV_ELOCKED, "cannot open the node");
    }
    return TV_OK;
}

int tv_cli_venue_find(tv_node *n, const char *text, store_venue *out)
{
    tv_why why;
    int rc = tv_venue_find(n, text, out, &why);
    return rc ? tv_cli_why(rc, &why) : TV_OK;
}

void tv_cli_hlc_time(char *out, size_t cap, uint64_t hlc)
{
    tv_time_format_vn(out, cap, (int64_t)crdt_hlc_ms(hlc));
}

int tv_cli_json_only(tv_cli *cli, int argc, char **argv, int *json)
{
    tv_args ta;
    *json = 0;
    if (tv_args_only(&ta, cli, argc, argv)) return ta.status == TV_EXIT_OK ? -1 : ta.status;
    if (optind < argc) return tv_cli_usage(cli->path, "unexpected argument '%s'.", argv[optind]);
    *json = ta.o.json;
    return 0;
}

int tv_cli_when(const char *s, int64_t *ms)
{
    return tv_when_parse(s, tv_wall_ms(), ms);
}

int tv_cli_person_ref(const char *cmd, const tv_node *n, const char *person, const char *refhex,
                      uint8_t ref[TV_PERSON_REF_BYTES])
{
    tv_why why;
    int rc = tv_health_person_ref(n, person, refhex, ref, &why);
    if (rc == TV_EINVAL) return tv_cli_usage(cmd, "%s", why.en);
    if (rc == TV_ELOCKED) return tv_cli_fail(NULL, TV_ELOCKED, why.en);
    if (rc) {
        tv_cli_error("%s: %s", cmd, why.en);
        return TV_EXIT_FAIL;
    }
    return 0;
}

/* "code name": the official name, else the name a unit event gave it (a village, a
 * district), else the code alone. */
int tv_cli_health_refused(tv_cli *cli, int rc, const char *what, const char *unit)
{
    tv_why why;
    if (rc != TV_EPERM && rc != TV_ESCOPE) return tv_cli_fail(cli, rc, "nothing was recorded");
    (void)tv_health_refused(rc, what, what, unit, &why);
    tv_cli_error("%s", why.en);
    return TV_EXIT_FAIL;
}

int tv_cli_when_opt(const char *cmd, const char *name, const char *v, int64_t *ms)
{
    tv_why why;
    if (tv_when_check(name, name, v, tv_wall_ms(), ms, &why))
        return tv_cli_usage(cmd, "%s", why.en);
    return 0;
}

volatile sig_atomic_t tv_cli_stop;

static void on_stop_signal(int sig)
{
    tv_cli_stop = sig; /* which one: a SIGINT is passed on (tv_cli_signal_exit) */
}

void tv_cli_stop_on_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Prints an enrolment refusal: the sentence why if the API gave one, else the code's. */
int tv_cli_enroll_fail(const tv_cli *cli, int rc, const char *what, const char *why)
{
    if (why[0]) {
        tv_cli_error("%s: %s.", what, why);
        return TV_EXIT_FAIL;
    }
    return tv_cli_fail(cli, rc, what);
}

/* The venue named by text, signed by this node: the commune that registered it. */
int tv_cli_own_payload(tv_node *n, const char *text, store_venue *v, tv_venue_payload *p)
{
    tv_why why;
    int rc = tv_venue_payload_own(n, text, v, p, &why);
    if (rc == 0) return 0;
    if (strcmp(why.code, "sign") == 0) rc = TV_EPERM; /* a failure, whatever its code */
    return tv_cli_why(rc, &why);
}

void tv_cli_print_event_id(const tv_node *n, uint64_t seq)
{
    char id[TV_EVENT_ID_STR_MAX];
    tv_event_id_format(id, n->id.pk, seq);
    fputs(id, stdout);
}
