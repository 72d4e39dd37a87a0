/* `truyvet case`, `truyvet risk` and `truyvet alerts`: the health authority's statuses and
 * risk levels, and what a commune learns of them for its own venues. */
#include "crdt/error.h"
#include "crdt/hlc.h"
#include "crdt/mp.h"
#include "node/cli/cli.h"
#include "node/logic/downflow.h"
#include "node/logic/health.h"
#include "node/render/json.h"
#include "node/logic/record.h"
#include "node/logic/reveal.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"
#include "node/logic/units.h"
#include "node/logic/visits.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "code name": the official name, else the name a unit event gave it (a village, a
 * district), else the code alone. */
static void unit_label(store_txn *t, const char *code, char *out, size_t cap)
{
    const tv_unit *u = tv_unit_find(code);
    store_unit su;
    const char *name = u ? u->name : t && store_unit_get(t, code, &su) == 0 ? su.name : "";
    snprintf(out, cap, "%s%s%s", code, name[0] ? " " : "", tv_text_esc(name));
}

/* The official name of code, else its unit event's, else "". */
static void unit_name(store_txn *t, const char *code, char *out, size_t cap)
{
    const tv_unit *u = tv_unit_find(code);
    store_unit su;
    snprintf(out, cap, "%s", u ? u->name : t && store_unit_get(t, code, &su) == 0 ? su.name : "");
}

/* s left-justified in width characters (UTF-8 code points, not bytes). */
static void print_padded(const char *s, size_t width)
{
    size_t chars = 0;
    for (const char *p = s; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    fputs(s, stdout);
    for (; chars < width; chars++)
        putchar(' ');
}

#define UNIT_LABEL_BYTES (TV_UNIT_CODE_MAX + 2 + TV_TEXT_ESC_BYTES)

static const char case_help[] =
    "Usage: truyvet [-d DIR] case add (--payload TEXT | --ref HEX) --status STATUS\n"
    "                                 [--onset DATE] [--sampled DATE] [--at DATE]\n"
    "                                 [--unit CODE]\n"
    "       truyvet [-d DIR] case list [--status STATUS] [--json]\n"
    "\n"
    "Confirmed cases and contacts, as the health authority sets them. Only a node whose\n"
    "certificate carries the health flag (the province's) may add a status. It travels\n"
    "sealed: health nodes read it; each commune that recorded the person gets the status\n"
    "(its gate shows the colour), and each commune the windows the case spent at its\n"
    "venues (`truyvet alerts`), nothing else. A person's status is the last one set.\n"
    "\n"
    "  --payload TEXT   what the person's card QR holds, or a phone or ID number\n"
    "  --ref HEX        the person's pseudonym (32 hex digits, as `trace` shows it)\n"
    "  --status STATUS  F0 (confirmed), F1, F2 (contacts) or cleared\n"
    "  --onset DATE     symptom onset (F0) or exposure (F1, F2): a date or a time with\n"
    "                   its offset. An F0 needs --onset or --sampled: its infectious\n"
    "                   window starts two days before the onset (else the sample)\n"
    "  --sampled DATE   the positive sample\n"
    "  --at DATE        when the status took effect, if not now (a clearing: the day the\n"
    "                   person was released; it closes the infectious window)\n"
    "  --unit CODE      the unit the case counts under (its F0/F1 figures). Default:\n"
    "                   the commune where the person was recorded (of several, the\n"
    "                   latest record's), else this node's own unit\n"
    "  --json           one JSON object per line\n";

static const char risk_help[] =
    "Usage: truyvet [-d DIR] risk set --unit CODE --level 1..4 --from DATE [--note TEXT]\n"
    "                                 [--unlisted]\n"
    "       truyvet [-d DIR] risk show [--unit CODE] [--at DATE] [--json]\n"
    "\n"
    "Risk levels of units (Resolution 128/NQ-CP: 1 low/green, 2 medium/yellow, 3 high/\n"
    "orange, 4 very high/red). Only a health node may set them; a level takes effect at\n"
    "--from as given (announce a raise 48 hours ahead) and flows down to every node. A\n"
    "village is a local unit written <commune code>.<village> (22333.03); one without a\n"
    "level of its own has its commune's.\n"
    "\n"
    "  --unit CODE    the unit (a commune, the province, or a village): an official\n"
    "                 unit, one this node knows from 'unit add', or a village of one\n"
    "  --unlisted     take a code that is none of these\n"
    "  --level N      1..4\n"
    "  --from DATE    when it takes effect: 'today', a date, or a time with its offset\n"
    "  --note TEXT    why (shown with the level)\n"
    "  --at DATE      show the levels in force then (default: now)\n"
    "  --json         one JSON object per line\n";

static const char alerts_help[] =
    "Usage: truyvet [-d DIR] alerts [--all] [--json]\n"
    "\n"
    "For each confirmed case (F0) this node holds, the windows during which the case was\n"
    "at this node's own venues within the infectious window: what to tell venue owners\n"
    "and the people who were there. The case's identity is not shown. A commune holds no\n"
    "case list: it lists the windows the health authority sealed for its venues.\n"
    "\n"
    "  --all    every venue this node holds, not only its own unit's\n"
    "  --json   one JSON object per line\n";

static const char *const level_names[] = {"", "1 low (green)", "2 medium (yellow)",
                                          "3 high (orange)", "4 very high (red)"};

/* --- case add / list -------------------------------------------------------------------- */

static int health_refused(tv_cli *cli, int rc, const char *what, const char *unit)
{
    if (rc == TV_EPERM) {
        tv_cli_error("this node cannot set %s: only a node whose certificate carries the health "
                     "flag (the province's) may, and peers would refuse it.",
                     what);
        return TV_EXIT_FAIL;
    }
    if (rc == TV_ESCOPE) {
        tv_cli_error("unit %s is outside this node's scope: peers would refuse %s for it.", unit,
                     what);
        return TV_EXIT_FAIL;
    }
    return tv_cli_fail(cli, rc, "nothing was recorded");
}

/* Whether this node's certificate lets it set a case status under unit. */
static int health_covers(tv_node *n, const char *unit)
{
    store_txn *t;
    crdt_cert *own = malloc(sizeof *own);
    int out = 0;
    if (own && store_read_begin(n->st, &t) == 0) {
        out = store_cert_get(t, n->id.pk, own, NULL, NULL) == 0 &&
              crdt_cert_health_covers(own, unit, strlen(unit));
        store_read_end(t);
    }
    free(own);
    return out;
}

static int when_opt(const char *cmd, const char *name, const char *v, int64_t *ms)
{
    if (tv_cli_when(v, ms) == 0 && crdt_time_valid(*ms)) return 0;
    return tv_cli_usage(cmd,
                        "%s takes 'today', a date or a time with its offset (before 2200), "
                        "not '%s'.",
                        name, tv_text_esc(v));
}

static int case_add(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {
        {"payload", required_argument, 0, 'p'}, {"person", required_argument, 0, 'p'},
        {"ref", required_argument, 0, 'r'},     {"status", required_argument, 0, 's'},
        {"onset", required_argument, 0, 'o'},   {"sampled", required_argument, 0, 'S'},
        {"unit", required_argument, 0, 'u'},    {"at", required_argument, 0, 'a'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    const char *person = NULL, *refhex = NULL, *status = NULL, *onset = NULL, *sampled = NULL;
    const char *unit = NULL, *at = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            person = tv_cli_nfc(optarg);
            break;
        case 'r':
            refhex = optarg;
            break;
        case 's':
            status = optarg;
            break;
        case 'o':
            onset = optarg;
            break;
        case 'S':
            sampled = optarg;
            break;
        case 'u':
            unit = optarg;
            break;
        case 'a':
            at = optarg;
            break;
        case 'h':
            fputs(case_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("case", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("case", "unexpected argument '%s'.", argv[optind]);
    if (!person == !refhex) return tv_cli_usage("case", "give the person: --payload or --ref.");
    if (!status) return tv_cli_usage("case", "give the status: --status F0|F1|F2|cleared.");
    int st = tv_case_status_parse(status);
    if (st < 0) return tv_cli_usage("case", "--status is F0, F1, F2 or cleared, not '%s'.", status);
    crdt_case cs = {.status = (uint8_t)st,
                    .onset_ms = CRDT_TIME_NONE,
                    .sampled_ms = CRDT_TIME_NONE,
                    .at_ms = CRDT_TIME_NONE};
    int rc;
    if (onset && (rc = when_opt("case", "--onset", onset, &cs.onset_ms))) return rc;
    if (sampled && (rc = when_opt("case", "--sampled", sampled, &cs.sampled_ms))) return rc;
    if (at && (rc = when_opt("case", "--at", at, &cs.at_ms))) return rc;
    if (st == CRDT_CASE_F0 && !onset && !sampled)
        return tv_cli_usage("case", "an F0 needs --onset (symptoms) or --sampled (the positive "
                                    "sample): the infectious window starts from it.");
    if (unit && !crdt_unit_code_valid(unit, strlen(unit)))
        return tv_cli_usage("case", "'%s' is not a unit code.", unit);

    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    if ((rc = tv_cli_person_ref("case", &n, person, refhex, cs.person))) {
        tv_node_close(&n);
        return rc;
    }
    /* the default unit: where the person was recorded (the unit of their standing person
     * record, the latest when several communes recorded them), so that the case counts in
     * that commune's figures; a person with no record here: this node's own unit */
    char recorded[TV_UNIT_CODE_MAX + 1], whybuf[128 + TV_UNIT_CODE_MAX];
    const char *why = "as given";
    if (!unit) {
        tv_person_rec *pr = malloc(sizeof *pr);
        int lrc = pr ? tv_person_rec_load(&n, cs.person, pr) : TV_ENOMEM;
        if (lrc == 0 && pr->p.unit.n > 0 && pr->p.unit.n <= TV_UNIT_CODE_MAX &&
            crdt_unit_code_valid(pr->p.unit.p, pr->p.unit.n)) {
            snprintf(recorded, sizeof recorded, "%.*s", (int)pr->p.unit.n, pr->p.unit.p);
            if (health_covers(&n, recorded)) {
                unit = recorded;
                why = "where the person was recorded";
            } else { /* peers would refuse the status under that unit */
                unit = n.unit;
                snprintf(whybuf, sizeof whybuf,
                         "this node's own: the person was recorded under unit %s, outside "
                         "this node's scope",
                         recorded);
                why = whybuf;
            }
        } else if (lrc == 0 || lrc == TV_ENOTFOUND) {
            unit = n.unit;
            why = "this node's own: the person has no record here";
        }
        free(pr);
        if (!unit) {
            tv_node_close(&n);
            return tv_cli_fail(cli, lrc, "the person's record could not be read");
        }
    }
    cs.unit = (crdt_text){unit, (uint32_t)strlen(unit)};
    uint64_t hlc, seq, sent = 0;
    if (!tv_node_opens_health(&n)) rc = TV_EPERM; /* a health node holding the province key */
    if (rc || (rc = tv_downflow_status(&n, &cs, &hlc)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        rc = health_refused(cli, rc, "case statuses", unit);
    } else if ((rc = tv_downflow_run(&n, tv_wall_ms(), &sent))) {
        rc = tv_cli_fail(cli, rc,
                         "the status was recorded, but what the communes need of it "
                         "was not (the next 'serve' or import sends it)");
    } else {
        char ref[2 * TV_PERSON_REF_BYTES + 1], disp[2 * CRDT_MASKED_BYTES_MAX + 8];
        sodium_bin2hex(ref, sizeof ref, cs.person, TV_PERSON_REF_BYTES);
        char label[UNIT_LABEL_BYTES];
        store_txn *t;
        if (store_read_begin(n.st, &t) == 0) {
            if (tv_person_display_get(t, cs.person, (crdt_text){0}, disp, sizeof disp))
                snprintf(disp, sizeof disp, "(not recorded here)");
            unit_label(t, unit, label, sizeof label);
            store_read_end(t);
        } else {
            snprintf(disp, sizeof disp, "?");
            unit_label(NULL, unit, label, sizeof label);
        }
        printf("recorded: %s %s  %s, under unit %s (%s)\n", crdt_case_status_name(cs.status), ref,
               tv_text_esc(disp), label, why);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

typedef struct list_ctx {
    tv_node *n;
    tv_opened *o; /* a commune's own sealed statuses */
    store_txn *t;
    int filter; /* a status, or -1 */
    int json;
    uint64_t shown;
} list_ctx;

static void time_or_null(tv_json *j, const char *key, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    tv_json_key(j, key);
    if (ms < 0 || ms == TV_WINDOW_OPEN) {
        tv_json_null(j);
        return;
    }
    tv_time_format_vn(w, sizeof w, ms);
    tv_json_string(j, w);
}

static void date_of(char *out, size_t cap, int64_t ms)
{
    char w[TV_TIME_STR_BYTES];
    if (ms < 0) {
        snprintf(out, cap, "-");
        return;
    }
    tv_time_format_vn(w, sizeof w, ms);
    snprintf(out, cap, "%.10s", w);
}

/* Shows one person's case. */
static int list_person(const uint8_t *ref, void *arg)
{
    list_ctx *l = arg;
    tv_case cs;
    int rc = tv_case_lookup(l->n, l->t, l->o, ref, &cs);
    if (rc) return rc;
    if (l->filter >= 0 && cs.current.status != l->filter) return TV_OK;
    char hex[2 * TV_PERSON_REF_BYTES + 1], disp[2 * CRDT_MASKED_BYTES_MAX + 8];
    sodium_bin2hex(hex, sizeof hex, ref, TV_PERSON_REF_BYTES);
    if (tv_person_display_get(l->t, ref, (crdt_text){0}, disp, sizeof disp))
        snprintf(disp, sizeof disp, "(not recorded here)");
    char set[TV_TIME_STR_BYTES];
    tv_cli_hlc_time(set, sizeof set, cs.current.hlc);
    l->shown++;
    if (l->json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "ref");
        tv_json_string(&j, hex);
        tv_json_key(&j, "person");
        tv_json_string(&j, disp);
        tv_json_key(&j, "status");
        tv_json_string(&j, crdt_case_status_name(cs.current.status));
        tv_json_key(&j, "unit");
        tv_json_string(&j, cs.current.unit);
        char name[UNIT_LABEL_BYTES];
        unit_name(l->t, cs.current.unit, name, sizeof name);
        tv_json_key(&j, "unit_name");
        tv_json_string(&j, name);
        time_or_null(&j, "onset", cs.current.onset_ms);
        time_or_null(&j, "sampled", cs.current.sampled_ms);
        tv_json_key(&j, "set_at");
        tv_json_string(&j, set);
        time_or_null(&j, "window_from", cs.has_window ? cs.window_from : -1);
        time_or_null(&j, "window_to", cs.has_window ? cs.window_to : -1);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
        return TV_OK;
    }
    char on[16], sa[16], wf[16], wt[16];
    date_of(on, sizeof on, cs.current.onset_ms);
    date_of(sa, sizeof sa, cs.current.sampled_ms);
    char label[UNIT_LABEL_BYTES];
    unit_label(l->t, cs.current.unit, label, sizeof label);
    printf("%-7s  %s  %-28s  unit ", crdt_case_status_name(cs.current.status), hex,
           tv_text_esc(disp));
    print_padded(label, 30);
    printf("  onset %s  sampled %s  set %.16s", on, sa, set);
    if (cs.has_window) {
        date_of(wf, sizeof wf, cs.window_from);
        if (cs.window_to == TV_WINDOW_OPEN)
            snprintf(wt, sizeof wt, "now");
        else
            date_of(wt, sizeof wt, cs.window_to);
        printf("  infectious %s..%s", wf, wt);
    }
    putchar('\n');
    return TV_OK;
}

static int case_list(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"status", required_argument, 0, 's'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    list_ctx l = {.filter = -1};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            if ((l.filter = tv_case_status_parse(optarg)) < 0)
                return tv_cli_usage("case", "--status is F0, F1, F2 or cleared, not '%s'.", optarg);
            break;
        case 'j':
            l.json = 1;
            break;
        case 'h':
            fputs(case_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("case", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("case", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    tv_opened o = {0};
    l.n = &n;
    l.o = &o;
    if ((rc = store_read_begin(n.st, &l.t)) == 0) {
        if (tv_node_opens_health(&n)) {
            rc = tv_cases_each_person(l.t, list_person, &l);
        } else if ((rc = tv_opened_load(&n, l.t, &o)) == 0) {
            /* a commune: the statuses sealed for it, of people it recorded */
            for (size_t i = 0; rc == 0 && i < o.ncases; i++)
                if (i + 1 == o.ncases ||
                    memcmp(o.cases[i].person, o.cases[i + 1].person, TV_PERSON_REF_BYTES) != 0)
                    rc = list_person(o.cases[i].person, &l);
        }
        store_read_end(l.t);
    }
    tv_opened_release(&o);
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "the cases could not be read");
    if (!l.json && l.shown == 0) fprintf(stderr, "this node holds no case status.\n");
    return TV_EXIT_OK;
}

int tv_cmd_case(tv_cli *cli, int argc, char **argv)
{
    static const tv_subcmd subs[] = {{"add", case_add}, {"list", case_list}};
    return tv_cli_dispatch(cli, "case", case_help, subs, 2, argc, argv);
}

/* --- risk set / show -------------------------------------------------------------------- */

static int risk_set(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"unit", required_argument, 0, 'u'},
                                         {"level", required_argument, 0, 'l'},
                                         {"from", required_argument, 0, 'f'},
                                         {"note", required_argument, 0, 'n'},
                                         {"unlisted", no_argument, 0, 'U'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *unit = NULL, *level = NULL, *from = NULL, *note = NULL;
    int c, unlisted = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            unit = optarg;
            break;
        case 'l':
            level = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 'n':
            note = tv_cli_nfc(optarg);
            break;
        case 'U':
            unlisted = 1;
            break;
        case 'h':
            fputs(risk_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("risk", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("risk", "unexpected argument '%s'.", argv[optind]);
    if (!unit || !level || !from) return tv_cli_usage("risk", "give --unit, --level and --from.");
    if (!crdt_unit_code_valid(unit, strlen(unit)))
        return tv_cli_usage("risk", "'%s' is not a unit code (a village is <commune>.<village>).",
                            unit);
    if (strlen(level) != 1 || level[0] < '1' || level[0] > '0' + CRDT_RISK_LEVEL_MAX)
        return tv_cli_usage("risk", "--level is 1, 2, 3 or 4, not '%s'.", level);
    int rc;
    if (note && (rc = tv_cli_text("risk", "note", note, CRDT_TEXT_BYTES_MAX))) return rc;
    crdt_risk r = {.unit = {unit, (uint32_t)strlen(unit)},
                   .level = (uint8_t)(level[0] - '0'),
                   .note = {note, note ? (uint32_t)strlen(note) : 0}};
    rc = when_opt("risk", "--from", from, &r.from_ms);
    if (rc) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, TV_NODE_WRITE))) return rc;
    /* a level spreads to every node: a mistyped code must not */
    if (!unlisted && (rc = tv_cli_unit_known("risk", &n, unit))) {
        tv_node_close(&n);
        return rc;
    }
    uint64_t seq;
    if ((rc = tv_node_add_risk(&n, &r, NULL)) || (rc = tv_node_commit(&n, &seq))) {
        tv_node_discard(&n);
        rc = health_refused(cli, rc, "risk levels", unit);
    } else {
        char w[TV_TIME_STR_BYTES];
        tv_time_format_vn(w, sizeof w, r.from_ms);
        printf("recorded: unit %s level %s from %s\n", unit, level_names[r.level], w);
        rc = TV_EXIT_OK;
    }
    tv_node_close(&n);
    return rc;
}

typedef struct show_ctx {
    store_txn *t;
    int64_t at_ms;
    int json;
    char unit[TV_UNIT_CODE_MAX + 1]; /* the unit being gathered */
    uint64_t shown;
} show_ctx;

static void risk_print(const show_ctx *s, const char *unit, const store_risk *r, const char *what)
{
    char w[TV_TIME_STR_BYTES];
    tv_time_format_vn(w, sizeof w, r->from_ms);
    if (s->json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        tv_json_key(&j, "unit");
        tv_json_string(&j, unit);
        char name[UNIT_LABEL_BYTES];
        unit_name(s->t, unit, name, sizeof name);
        tv_json_key(&j, "unit_name");
        tv_json_string(&j, name);
        tv_json_key(&j, "state");
        tv_json_string(&j, what);
        tv_json_key(&j, "level");
        tv_json_u64(&j, r->level);
        tv_json_key(&j, "from");
        tv_json_string(&j, w);
        tv_json_key(&j, "set_for");
        tv_json_string(&j, r->unit);
        tv_json_key(&j, "note");
        tv_json_string(&j, r->note);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
        return;
    }
    char label[UNIT_LABEL_BYTES];
    unit_label(s->t, unit, label, sizeof label);
    print_padded(label, 34);
    printf("  %-9s  level %-18s from %.16s%s%s%s%s\n", what, level_names[r->level], w,
           strcmp(r->unit, unit) ? "  (its commune's)" : "", r->note[0] ? "  \"" : "",
           tv_text_esc(r->note), r->note[0] ? "\"" : "");
}

/* The level in force for one unit, then the changes set for later. */
static int show_unit(show_ctx *s, const char *unit);

static int later_row(const store_risk *r, void *arg)
{
    show_ctx *s = arg;
    if (r->from_ms > s->at_ms) risk_print(s, s->unit, r, "from then");
    return TV_OK;
}

static int show_unit(show_ctx *s, const char *unit)
{
    store_risk r;
    int rc = store_risk_at(s->t, unit, s->at_ms, &r);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (rc == 0) risk_print(s, unit, &r, "in force");
    snprintf(s->unit, sizeof s->unit, "%s", unit);
    s->shown++;
    return store_risks_foreach(s->t, unit, later_row, s);
}

static int unit_row(const store_risk *r, void *arg)
{
    show_ctx *s = arg;
    if (strcmp(r->unit, s->unit) == 0) return TV_OK; /* shown with its first row */
    return show_unit(s, r->unit);
}

static int risk_show(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"unit", required_argument, 0, 'u'},
                                         {"at", required_argument, 0, 'a'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *unit = NULL, *at = NULL;
    show_ctx s = {.at_ms = tv_wall_ms()};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            unit = optarg;
            break;
        case 'a':
            at = optarg;
            break;
        case 'j':
            s.json = 1;
            break;
        case 'h':
            fputs(risk_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("risk", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("risk", "unexpected argument '%s'.", argv[optind]);
    if (unit && !crdt_unit_code_valid(unit, strlen(unit)))
        return tv_cli_usage("risk", "'%s' is not a unit code.", unit);
    int rc;
    if (at && (rc = when_opt("risk", "--at", at, &s.at_ms))) return rc;
    tv_node n;
    if ((rc = tv_cli_open(cli, &n, 0))) return rc;
    if ((rc = store_read_begin(n.st, &s.t)) == 0) {
        if (unit) {
            rc = show_unit(&s, unit);
        } else {
            /* every unit with a level, each once (rows come by unit, then from) */
            rc = store_risks_foreach(s.t, NULL, unit_row, &s);
        }
        store_read_end(s.t);
    }
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "the risk levels could not be read");
    if (!s.json && s.shown == 0) fprintf(stderr, "this node holds no risk level.\n");
    return TV_EXIT_OK;
}

int tv_cmd_risk(tv_cli *cli, int argc, char **argv)
{
    static const tv_subcmd subs[] = {{"set", risk_set}, {"show", risk_show}};
    return tv_cli_dispatch(cli, "risk", risk_help, subs, 2, argc, argv);
}

/* --- alerts ----------------------------------------------------------------------------- */

typedef struct alert_ctx {
    tv_node *n;
    store_txn *t;
    int all, json;
    int64_t now_ms;
    uint64_t cases, windows;
} alert_ctx;

static void alert_print(alert_ctx *a, uint64_t case_no, const tv_case *cs, const store_venue *v,
                        int64_t from, int64_t to)
{
    char f[TV_TIME_STR_BYTES], t[TV_TIME_STR_BYTES], vid[2 * TV_VENUE_ID_BYTES + 1];
    tv_time_format_vn(f, sizeof f, from);
    tv_time_format_vn(t, sizeof t, to);
    sodium_bin2hex(vid, sizeof vid, v->id, TV_VENUE_ID_BYTES);
    if (a->json) {
        tv_json j;
        tv_json_init(&j, stdout);
        tv_json_object_begin(&j);
        if (cs) { /* a health node knows the case; a commune only the window */
            tv_json_key(&j, "case");
            tv_json_u64(&j, case_no);
            tv_json_key(&j, "declared");
            char d[TV_TIME_STR_BYTES];
            tv_time_format_vn(d, sizeof d, cs->declared_ms);
            tv_json_string(&j, d);
        }
        tv_json_key(&j, "venue");
        tv_json_string(&j, vid);
        tv_json_key(&j, "venue_name");
        tv_json_string(&j, v->name);
        tv_json_key(&j, "unit");
        tv_json_string(&j, v->unit);
        tv_json_key(&j, "village");
        tv_json_string(&j, v->village);
        tv_json_key(&j, "owner_phone");
        tv_json_string(&j, v->owner_phone);
        tv_json_key(&j, "from");
        tv_json_string(&j, f);
        tv_json_key(&j, "to");
        tv_json_string(&j, t);
        tv_json_object_end(&j);
        tv_json_line_end(&j);
        return;
    }
    printf("  %.10s %.5s-%.5s  %s%s%s  (%s, owner %s)\n", f, f + 11, t + 11, tv_text_esc(v->name),
           v->village[0] ? ", " : "", tv_text_esc(v->village), vid,
           v->owner_phone[0] ? tv_text_esc(v->owner_phone) : "-");
}

/* One person: if an F0 was declared, their presences at our venues in the window. */
static int alert_person(const uint8_t *ref, void *arg)
{
    alert_ctx *a = arg;
    tv_case cs;
    int rc = tv_case_get(a->t, ref, &cs);
    if (rc || !cs.has_window) return rc;
    int64_t to = cs.window_to == TV_WINDOW_OPEN ? a->now_ms : cs.window_to;
    tv_presence *p = NULL;
    size_t np = 0;
    rc = tv_person_presence(a->t, ref, cs.window_from, to, TV_DEDUPE_WINDOW_MS_DEFAULT, a->now_ms,
                            &p, &np);
    if (rc) return rc;
    uint64_t case_no = ++a->cases, shown = 0;
    for (size_t i = 0; i < np; i++) {
        int64_t from = p[i].from_ms > cs.window_from ? p[i].from_ms : cs.window_from;
        int64_t end = p[i].to_ms < to ? p[i].to_ms : to;
        if (end <= from) continue;
        store_venue v;
        if (store_venue_get(a->t, p[i].venue, &v)) continue; /* not a venue held here */
        if (!a->all && strcmp(v.unit, a->n->unit) != 0) continue;
        if (shown++ == 0 && !a->json) {
            char d[TV_TIME_STR_BYTES], wf[TV_TIME_STR_BYTES], wt[TV_TIME_STR_BYTES] = "now";
            tv_time_format_vn(d, sizeof d, cs.declared_ms);
            tv_time_format_vn(wf, sizeof wf, cs.window_from);
            if (cs.window_to != TV_WINDOW_OPEN) tv_time_format_vn(wt, sizeof wt, cs.window_to);
            printf("case %" PRIu64 " (declared %.16s; infectious %.16s .. %.16s):\n", case_no, d,
                   wf, wt);
        }
        alert_print(a, case_no, &cs, &v, from, end);
        a->windows++;
    }
    free(p);
    return TV_OK;
}

/* A commune: the exposure windows sealed for it, at its venues (or, with --all, at any
 * venue it holds); a window sealed again with a later end counts once, with that end. */
static int alert_exposures(alert_ctx *a, const tv_opened *o)
{
    for (size_t i = 0; i < o->nexposures; i++) {
        const tv_exposure *x = &o->exposures[i];
        if (i + 1 < o->nexposures &&
            memcmp(x->venue, o->exposures[i + 1].venue, TV_VENUE_ID_BYTES) == 0 &&
            x->from_ms == o->exposures[i + 1].from_ms)
            continue; /* the same window, sealed again later with a later end */
        store_venue v;
        int rc = store_venue_get(a->t, x->venue, &v);
        if (rc == TV_ENOTFOUND) continue;
        if (rc) return rc;
        if (!a->all && strcmp(v.unit, a->n->unit) != 0) continue;
        if (a->windows == 0 && !a->json)
            printf("a confirmed case was at these venues in its infectious window:\n");
        alert_print(a, 0, NULL, &v, x->from_ms, x->to_ms);
        a->windows++;
    }
    return TV_OK;
}

int tv_cmd_alerts(tv_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, 0, 'a'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    alert_ctx a = {.now_ms = tv_wall_ms()};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            a.all = 1;
            break;
        case 'j':
            a.json = 1;
            break;
        case 'h':
            fputs(alerts_help, stdout);
            return TV_EXIT_OK;
        default:
            return tv_cli_bad_option("alerts", c, argv);
        }
    }
    if (optind < argc) return tv_cli_usage("alerts", "unexpected argument '%s'.", argv[optind]);
    tv_node n;
    int rc = tv_cli_open(cli, &n, 0);
    if (rc) return rc;
    a.n = &n;
    tv_opened o = {0};
    if ((rc = store_read_begin(n.st, &a.t)) == 0) {
        if (tv_node_opens_health(&n))
            rc = tv_cases_each_person(a.t, alert_person, &a);
        else if ((rc = tv_opened_load(&n, a.t, &o)) == 0)
            rc = alert_exposures(&a, &o);
        store_read_end(a.t);
    }
    tv_opened_release(&o);
    tv_node_close(&n);
    if (rc) return tv_cli_fail(cli, rc, "the alerts could not be worked out");
    if (!a.json && a.windows == 0)
        fprintf(stderr,
                "no confirmed case was at %s in its infectious window (as far as this "
                "node holds).\n",
                a.all ? "a venue held here" : "this unit's venues");
    return TV_EXIT_OK;
}
