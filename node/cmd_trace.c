/* `truyvet trace`: who shared a venue with a person, and where that person was. */
#include "crdt/error.h"
#include "node/cli.h"
#include "node/json.h"
#include "node/record.h"
#include "node/timefmt.h"
#include "node/trace.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const char trace_help[] =
    "Usage: truyvet [-d DIR] trace (--person TEXT | --ref HEX) --from TIME [--to TIME]\n"
    "                              [--depth 1|2] [--min-overlap DURATION]\n"
    "                              [--margin DURATION] [--json]\n"
    "\n"
    "Trace a person (the case) on what this node holds: the venues they visited in the\n"
    "window (where to zone), everyone whose visit overlapped theirs at the same venue by\n"
    "at least --min-overlap (F1), ranked by the time shared, and with --depth 2 everyone\n"
    "who shared a venue with an F1 after that F1's first exposure (F2). Visits are the\n"
    "'venue visits' view: repeat scans collapsed, missing check-outs inferred. People are\n"
    "shown masked.\n"
    "\n"
    "  --person TEXT        what the case's card QR holds, or a phone or ID number\n"
    "  --ref HEX            the case's pseudonym (32 hex digits)\n"
    "  --from, --to TIME    the infectious window: 'today', a date (2021-10-06, from its\n"
    "                       midnight, Vietnam time) or a time with its offset; --to\n"
    "                       defaults to now\n"
    "  --depth 1|2          F1 only, or F1 and F2 (default 1)\n"
    "  --min-overlap DUR    the shortest shared time that counts (default 15m; 90s, 15m,\n"
    "                       2h)\n"
    "  --margin DUR         widen the case's visits by this much on both sides (default 0)\n"
    "  --json               one JSON object\n";

/* "15m", "90s", "2h", or minutes alone. Returns ms, or -1. */
static int64_t duration_ms(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 0 || v > 24L * 60 * 60) return -1;
    if (*end == '\0' || strcmp(end, "m") == 0) return (int64_t)v * 60000;
    if (strcmp(end, "s") == 0) return (int64_t)v * 1000;
    if (strcmp(end, "h") == 0) return (int64_t)v * 3600000;
    return -1;
}

static void person_of(store_txn *t, const uint8_t *ref, char *out, size_t cap)
{
    if (tv_person_display_get(t, ref, (crdt_text){0}, out, cap)) snprintf(out, cap, "?");
}

static void hm(char *out, size_t cap, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, ms);
    snprintf(out, cap, "%.10s %.5s", w, w + 11);
}

static void visit_json(tv_json *j, store_txn *t, const uint8_t *venue, int64_t from, int64_t to)
{
    char when[TV_TIME_STR_BYTES];
    store_venue v;
    int known = store_venue_get(t, venue, &v) == 0;
    tv_json_object_begin(j);
    tv_json_key(j, "venue");
    tv_json_hex(j, venue, TV_VENUE_ID_BYTES);
    tv_json_key(j, "venue_name");
    if (known)
        tv_json_string(j, v.name);
    else
        tv_json_null(j);
    tv_json_key(j, "unit");
    if (known)
        tv_json_string(j, v.unit);
    else
        tv_json_null(j);
    tv_json_key(j, "village");
    tv_json_string(j, known ? v.village : "");
    tv_json_key(j, "from");
    tv_time_format_vn(when, sizeof when, from);
    tv_json_string(j, when);
    tv_json_key(j, "to");
    tv_time_format_vn(when, sizeof when, to);
    tv_json_string(j, when);
    tv_json_key(j, "minutes");
    tv_json_u64(j, (uint64_t)((to - from) / 60000));
    tv_json_object_end(j);
}

static void print_json(store_txn *t, const uint8_t *ref, const tv_trace_result *r)
{
    char disp[2 * CRDT_MASKED_BYTES_MAX + 8];
    tv_json j;
    tv_json_init(&j, stdout);
    tv_json_object_begin(&j);
    tv_json_key(&j, "case");
    tv_json_object_begin(&j);
    tv_json_key(&j, "ref");
    tv_json_hex(&j, ref, TV_PERSON_REF_BYTES);
    person_of(t, ref, disp, sizeof disp);
    tv_json_key(&j, "person");
    tv_json_string(&j, disp);
    tv_json_object_end(&j);
    tv_json_key(&j, "visits");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < r->nvisits; i++)
        visit_json(&j, t, r->visits[i].venue, r->visits[i].from_ms, r->visits[i].to_ms);
    tv_json_array_end(&j);
    tv_json_key(&j, "contacts");
    tv_json_array_begin(&j);
    for (size_t i = 0; i < r->ncontacts; i++) {
        const tv_contact *c = &r->contacts[i];
        tv_json_object_begin(&j);
        tv_json_key(&j, "level");
        tv_json_string(&j, c->level == 1 ? "F1" : "F2");
        tv_json_key(&j, "ref");
        tv_json_hex(&j, c->ref, TV_PERSON_REF_BYTES);
        person_of(t, c->ref, disp, sizeof disp);
        tv_json_key(&j, "person");
        tv_json_string(&j, disp);
        tv_json_key(&j, "via");
        tv_json_hex(&j, c->via, TV_PERSON_REF_BYTES);
        tv_json_key(&j, "shared_minutes");
        tv_json_u64(&j, (uint64_t)(c->total_ms / 60000));
        tv_json_key(&j, "shared");
        tv_json_array_begin(&j);
        for (size_t k = 0; k < c->nshared; k++)
            visit_json(&j, t, c->shared[k].venue, c->shared[k].from_ms, c->shared[k].to_ms);
        tv_json_array_end(&j);
        tv_json_object_end(&j);
    }
    tv_json_array_end(&j);
    tv_json_object_end(&j);
    tv_json_line_end(&j);
}

static void print_text(store_txn *t, const uint8_t *ref, const tv_trace_result *r)
{
    char disp[2 * CRDT_MASKED_BYTES_MAX + 8], a[32], b[32];
    person_of(t, ref, disp, sizeof disp);
    printf("case  %s\n", disp);
    printf("visits (where to zone): %zu\n", r->nvisits);
    for (size_t i = 0; i < r->nvisits; i++) {
        store_venue v;
        int known = store_venue_get(t, r->visits[i].venue, &v) == 0;
        hm(a, sizeof a, r->visits[i].from_ms);
        hm(b, sizeof b, r->visits[i].to_ms);
        printf("  %s-%s  %s%s%s (unit %s)\n", a, b + 11, known ? v.name : "(a venue not held here)",
               known && v.village[0] ? ", " : "", known ? v.village : "", known ? v.unit : "?");
    }
    for (int level = 1; level <= 2; level++) {
        size_t count = 0;
        for (size_t i = 0; i < r->ncontacts; i++)
            count += r->contacts[i].level == level;
        if (level == 2 && count == 0) continue;
        printf("F%d: %zu\n", level, count);
        for (size_t i = 0, rank = 0; i < r->ncontacts; i++) {
            const tv_contact *c = &r->contacts[i];
            if (c->level != level) continue;
            person_of(t, c->ref, disp, sizeof disp);
            printf("  %2zu  %-40s  %4lld min\n", ++rank, disp, (long long)(c->total_ms / 60000));
            for (size_t k = 0; k < c->nshared; k++) {
                store_venue v;
                int known = store_venue_get(t, c->shared[k].venue, &v) == 0;
                hm(a, sizeof a, c->shared[k].from_ms);
                hm(b, sizeof b, c->shared[k].to_ms);
                printf("        %s-%s  %s\n", a, b + 11,
                       known ? v.name : "(a venue not held here)");
            }
        }
    }
}

int tv_cmd_trace(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"person", required_argument, 0, 'p'}, {"ref", required_argument, 0, 'r'},
        {"from", required_argument, 0, 'f'},   {"to", required_argument, 0, 't'},
        {"depth", required_argument, 0, 'd'},  {"min-overlap", required_argument, 0, 'm'},
        {"margin", required_argument, 0, 'M'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0}};
    const char *person = NULL, *refhex = NULL, *from = NULL, *to = NULL;
    const char *depth = "1", *minov = "15m", *margin = "0";
    int json = 0, c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            person = optarg;
            break;
        case 'r':
            refhex = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 't':
            to = optarg;
            break;
        case 'd':
            depth = optarg;
            break;
        case 'm':
            minov = optarg;
            break;
        case 'M':
            margin = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            fputs(trace_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("trace", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("trace", "unexpected argument '%s'.", argv[optind]);
    if (!person == !refhex) return tv_cli_usage("trace", "give the case: --person or --ref.");
    if (!from) return tv_cli_usage("trace", "give the infectious window: --from DATE.");
    tv_trace_opts o = {.now_ms = tv_wall_ms()};
    if (tv_cli_when(from, &o.from_ms))
        return tv_cli_usage(
            "trace", "--from takes 'today', a date or a time with its offset, not '%s'.", from);
    o.to_ms = o.now_ms;
    if (to && tv_cli_when(to, &o.to_ms))
        return tv_cli_usage("trace",
                            "--to takes 'today', a date or a time with its offset, not '%s'.", to);
    if (o.to_ms <= o.from_ms) return tv_cli_usage("trace", "--to must come after --from.");
    if (strcmp(depth, "1") && strcmp(depth, "2"))
        return tv_cli_usage("trace", "--depth is 1 (F1) or 2 (F1 and F2), not '%s'.", depth);
    o.depth = depth[0] - '0';
    if ((o.min_overlap_ms = duration_ms(minov)) <= 0)
        return tv_cli_usage("trace", "--min-overlap takes a duration such as 15m, not '%s'.",
                            minov);
    if ((o.margin_ms = duration_ms(margin)) < 0)
        return tv_cli_usage("trace", "--margin takes a duration such as 5m, not '%s'.", margin);

    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    uint8_t ref[TV_PERSON_REF_BYTES];
    if ((rc = tv_cli_person_ref("trace", &n, person, refhex, ref))) {
        tv_node_close(&n);
        return rc;
    }
    store_txn *t;
    tv_trace_result r;
    if ((rc = store_read_begin(n.st, &t)) == 0) {
        if ((rc = tv_trace(t, ref, &o, &r)) == 0) {
            if (json)
                print_json(t, ref, &r);
            else
                print_text(t, ref, &r);
            if (r.nvisits == 0)
                fprintf(stderr, "this node holds no visit of this person in the window: a "
                                "node below may not have synced yet, or the person was not "
                                "scanned here.\n");
            tv_trace_free(&r);
        }
        store_read_end(t);
    }
    tv_node_close(&n);
    return rc ? tv_cli_fail(cli, rc, "the trace failed") : TV_EXIT_OK;
}
