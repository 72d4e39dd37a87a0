/* `truyvet retention`, `truyvet purge` and `truyvet hold`: the province's retention
 * period, the purge of what is older, and the health authority's holds on people. */
#include "crdt/error.h"
#include "node/cli/cli.h"
#include "node/logic/downflow.h"
#include "node/logic/retention.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char retention_help[] =
    "Usage: truyvet [-d DIR] retention set DAYS\n"
    "       truyvet [-d DIR] retention show [--json]\n"
    "\n"
    "The province's retention period: scans, person records and the audit of full views\n"
    "older than it leave every node's files (`truyvet purge`, and `serve` once a day);\n"
    "the daily figures stay. Only the root (the province) may set it; until it does, the\n"
    "period is 28 days.\n"
    "\n"
    "  DAYS    1 to 3650\n"
    "  --json  one JSON object\n";

static const char purge_help[] =
    "Usage: truyvet [-d DIR] purge [--no-checkpoint] [--no-compact] [--json]\n"
    "\n"
    "Removes what is older than the retention period (`truyvet retention show`) from the\n"
    "indexes and views: scans, the records of people not seen since, the audit of full\n"
    "views; people under hold keep theirs. Then rewrites the store file, so that the\n"
    "removed bytes leave the disk too. The daily figures, and so the reports, stay.\n"
    "What the logs' batches carry leaves with their origin's checkpoint: the node\n"
    "truncates its own log behind one, carrying over what is still in force.\n"
    "\n"
    "  --no-checkpoint  do not truncate the node's own log\n"
    "  --no-compact  do not rewrite the file (the removed bytes stay on disk until then)\n"
    "  --json        one JSON object\n";

static const char hold_help[] =
    "Usage: truyvet [-d DIR] hold add (--payload TEXT | --ref HEX) --reason TEXT\n"
    "       truyvet [-d DIR] hold remove (--payload TEXT | --ref HEX) --reason TEXT\n"
    "       truyvet [-d DIR] hold list [--json]\n"
    "\n"
    "Keeps a person's records past the retention period while a case is investigated.\n"
    "Only a node whose certificate carries the health flag may place or lift a hold; each\n"
    "is an event of its log (who, when, why) sealed so that only health nodes read it.\n"
    "Each commune that recorded the person is told, sealed to it alone and in its own\n"
    "pseudonyms, that they are held (not why), so that its purge keeps their records;\n"
    "`hold list` at a commune lists what it was told.\n"
    "\n"
    "  --payload TEXT  what the person's card QR holds, or a phone or ID number\n"
    "  --ref HEX       the person's pseudonym (32 hex digits, as `trace` shows it)\n"
    "  --reason TEXT   why (required)\n"
    "  --json          one JSON object per line\n";

/* --- retention set / show --------------------------------------------------------------- */

static int retention_set(tv_cli *cli, int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(retention_help, stdout);
        return TV_EXIT_OK;
    }
    if (argc != 2) return tv_cli_usage("retention", "give the period: retention set DAYS.");
    char *end;
    unsigned long days = strtoul(argv[1], &end, 10);
    if (argv[1][0] < '0' || argv[1][0] > '9' || *end || days < CRDT_RETENTION_DAYS_MIN ||
        days > CRDT_RETENTION_DAYS_MAX)
        return tv_cli_usage("retention", "DAYS is a number from %d to %d, not '%s'.",
                            CRDT_RETENTION_DAYS_MIN, CRDT_RETENTION_DAYS_MAX, tv_text_esc(argv[1]));
    tv_node n;
    int rc = tv_cli_open(cli, &n, TV_NODE_WRITE);
    if (rc) return rc;
    crdt_retention r = {.days = (uint32_t)days};
    uint64_t seq;
    if ((rc = tv_node_add_retention(&n, &r, NULL)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        if (rc == TV_EPERM) {
            tv_cli_error("only the root (the province's node) sets the retention period: "
                         "peers would refuse it from this node.");
            rc = TV_EXIT_FAIL;
        } else {
            rc = tv_cli_fail(cli, rc, "nothing was recorded");
        }
    } else {
        printf("retention: %lu days, from now on at every node (event %" PRIu64 ")\n", days, seq);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

static int retention_show(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_opts("retention", retention_help, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("retention", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_txn *t;
    store_retention r;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        rc = store_retention_get(t, &r);
        store_read_end(t);
    }
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "cannot read the retention period");
    char when[TV_TIME_STR_BYTES] = "";
    if (r.set) tv_cli_hlc_time(when, sizeof when, r.hlc);
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "days");
        tv_json_u64(&j, r.days);
        tv_json_key(&j, "set");
        if (r.set)
            tv_json_string(&j, when);
        else
            tv_json_null(&j);
        tv_json_object_end(&j);
        rc = tv_json_line_end(&j);
        return rc ? tv_cli_fail(cli, rc, "cannot write") : TV_EXIT_OK;
    }
    if (r.set)
        printf("%u days, set by the root at %s\n", r.days, when);
    else
        printf("%u days (the default: the root has set none)\n", r.days);
    return TV_EXIT_OK;
}

int tv_cmd_retention(tv_cli *cli, int argc, char **argv)
{
    static const tv_subcmd subs[] = {{"set", retention_set}, {"show", retention_show}};
    return tv_cli_dispatch(cli, "retention", retention_help, subs, 2, argc, argv);
}

/* --- purge ------------------------------------------------------------------------------ */

int tv_cmd_purge(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"no-compact", no_argument, 0, 'n'},
                                         {"no-checkpoint", no_argument, 0, 'c'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int compact = 1, checkpoint = 1, json = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'n':
            compact = 0;
            break;
        case 'c':
            checkpoint = 0;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(purge_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("purge", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("purge", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, TV_NODE_WRITE);
    if (rc) return rc;
    tv_purge_result r;
    rc = tv_node_purge(&n, tv_wall_ms(), checkpoint ? 2 : 0, compact, &r);
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "the purge did not finish");
    char cut[TV_TIME_STR_BYTES];
    tv_time_format_vn(cut, sizeof cut, r.st.cutoff_ms);
    if (json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "days");
        tv_json_u64(&j, r.days);
        tv_json_key(&j, "before");
        tv_json_string(&j, cut);
        tv_json_key(&j, "scans");
        tv_json_u64(&j, r.st.scans);
        tv_json_key(&j, "persons");
        tv_json_u64(&j, r.st.persons);
        tv_json_key(&j, "reveals");
        tv_json_u64(&j, r.st.reveals);
        tv_json_key(&j, "holds_lifted");
        tv_json_u64(&j, r.st.holds);
        tv_json_key(&j, "checkpoint");
        if (r.cp.written) {
            tv_json_object_begin(&j);
            tv_json_key(&j, "upto");
            tv_json_u64(&j, r.cp.upto);
            tv_json_key(&j, "copies");
            tv_json_u64(&j, r.cp.copies);
            tv_json_key(&j, "dropped");
            tv_json_u64(&j, r.cp.dropped);
            tv_json_object_end(&j);
        } else {
            tv_json_null(&j);
        }
        tv_json_key(&j, "compacted");
        tv_json_bool(&j, compact);
        tv_json_key(&j, "file_bytes_before");
        tv_json_u64(&j, r.bytes_before);
        tv_json_key(&j, "file_bytes");
        tv_json_u64(&j, r.bytes_after);
        tv_json_object_end(&j);
        rc = tv_json_line_end(&j);
        return rc ? tv_cli_fail(cli, rc, "cannot write") : TV_EXIT_OK;
    }
    printf("purged before %s (retention %u days): %" PRIu64 " scans, %" PRIu64
           " person records, %" PRIu64 " audit rows\n",
           cut, r.days, r.st.scans, r.st.persons, r.st.reveals);
    if (r.cp.written)
        printf("own log truncated before seq %" PRIu64 ": %" PRIu64 " events left behind, %" PRIu64
               " carried into the checkpoint\n",
               r.cp.upto + 1, r.cp.dropped, r.cp.copies);
    if (compact)
        printf("store file rewritten: %.1f MiB -> %.1f MiB\n", (double)r.bytes_before / (1 << 20),
               (double)r.bytes_after / (1 << 20));
    return TV_EXIT_OK;
}

/* --- hold add / remove / list ----------------------------------------------------------- */

static int hold_set(tv_cli *cli, int argc, char **argv, uint8_t action)
{
    static const struct option opts[] = {
        {"payload", required_argument, 0, 'p'}, {"person", required_argument, 0, 'p'},
        {"ref", required_argument, 0, 'r'},     {"reason", required_argument, 0, 'R'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *person = NULL, *refhex = NULL, *reason = NULL;
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            person = tv_cli_nfc(optarg);
            break;
        case 'r':
            refhex = optarg;
            break;
        case 'R':
            reason = tv_cli_nfc(optarg);
            break;
        case 'h':
            fputs(hold_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("hold", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("hold", "unexpected argument '%s'.", argv[optind]);
    if (!person == !refhex) return tv_cli_usage("hold", "give the person: --payload or --ref.");
    if (!reason || !*reason) return tv_cli_usage("hold", "give the reason: --reason TEXT.");
    if ((rc = tv_cli_text("hold", "reason", reason, CRDT_TEXT_BYTES_MAX))) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    crdt_hold h = {.action = action, .reason = {reason, (uint32_t)strlen(reason)}};
    if ((rc = tv_cli_person_ref("hold", &n, person, refhex, h.person))) {
        tv_node_close(&n);
        return rc;
    }
    uint64_t seq;
    if ((rc = tv_node_add_hold(&n, &h, NULL)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        if (rc == TV_EPERM) {
            tv_cli_error("this node cannot place or lift holds: only a node whose certificate "
                         "carries the health flag may, and peers would refuse it.");
            rc = TV_EXIT_FAIL;
        } else {
            rc = tv_cli_fail(cli, rc, "nothing was recorded");
        }
    } else if ((rc = tv_downflow_run(&n, tv_wall_ms(), NULL))) {
        /* the hold stands at the health nodes; the communes are told at the next pass */
        rc = tv_cli_fail(cli, rc, "the hold is recorded, but its notices to the communes are not");
    } else {
        char ref[2 * TV_PERSON_REF_BYTES + 1];
        sodium_bin2hex(ref, sizeof ref, h.person, TV_PERSON_REF_BYTES);
        printf("%s: %s\n", action == CRDT_HOLD_PLACE ? "held" : "hold lifted", ref);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

static int hold_add(tv_cli *cli, int argc, char **argv)
{
    return hold_set(cli, argc, argv, CRDT_HOLD_PLACE);
}

static int hold_remove(tv_cli *cli, int argc, char **argv)
{
    return hold_set(cli, argc, argv, CRDT_HOLD_LIFT);
}

static int hold_row(const store_hold *h, void *arg)
{
    tv_json *j = arg;
    char ref[2 * TV_PERSON_REF_BYTES + 1], when[TV_TIME_STR_BYTES], origin[17];
    sodium_bin2hex(ref, sizeof ref, h->person, TV_PERSON_REF_BYTES);
    tv_cli_hlc_time(when, sizeof when, h->hlc);
    sodium_bin2hex(origin, sizeof origin, h->origin, 8);
    if (!j) {
        printf("%s  %-6s  %s  by %s  %s\n", ref, h->held ? "held" : "lifted", when, origin,
               tv_text_esc(h->reason));
        return 0;
    }
    tv_json_object_begin(j);
    tv_json_key(j, "person");
    tv_json_string(j, ref);
    tv_json_key(j, "held");
    tv_json_bool(j, h->held);
    tv_json_key(j, "time");
    tv_json_string(j, when);
    tv_json_key(j, "by");
    tv_json_hex(j, h->origin, TV_NODE_ID_BYTES);
    tv_json_key(j, "reason");
    tv_json_string(j, h->reason);
    tv_json_object_end(j);
    return tv_json_line_end(j);
}

static int hold_list(tv_cli *cli, int argc, char **argv)
{
    int json, rc = tv_cli_json_opts("hold", hold_help, argc, argv, &json);
    if (rc) return rc < 0 ? TV_EXIT_OK : rc;
    if (optind < argc) return tv_cli_usage("hold", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    store_txn *t;
    tv_json j;
    tv_json_init(&j, stdout);
    tv_opened o = {0};
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        if (tv_node_opens_health(&n)) {
            rc = store_holds_foreach(t, hold_row, json ? &j : NULL);
        } else if ((rc = tv_opened_load(&n, t, &o)) == 0) {
            /* a commune's hold notices, opened in memory: the latest of each person's */
            for (size_t i = 0; rc == 0 && i < o.nholds; i++) {
                const tv_hold_notice *x = &o.holds[i];
                if (i + 1 < o.nholds &&
                    memcmp(x->person, o.holds[i + 1].person, TV_PERSON_REF_BYTES) == 0)
                    continue;
                store_hold h = {.hlc = x->hlc, .held = x->held};
                memcpy(h.person, x->person, TV_PERSON_REF_BYTES);
                memcpy(h.origin, x->origin, TV_NODE_ID_BYTES);
                rc = hold_row(&h, json ? &j : NULL);
                sodium_memzero(&h, sizeof h);
            }
        }
        store_read_end(t);
    }
    tv_opened_release(&o);
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "cannot read the holds") : TV_EXIT_OK;
}

int tv_cmd_hold(tv_cli *cli, int argc, char **argv)
{
    static const tv_subcmd subs[] = {
        {"add", hold_add}, {"remove", hold_remove}, {"list", hold_list}};
    return tv_cli_dispatch(cli, "hold", hold_help, subs, 3, argc, argv);
}
