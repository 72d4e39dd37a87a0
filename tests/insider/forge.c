/* forge: the insider of the attack tests. It holds a node's directory -- its stolen key and
 * store -- and appends to that node's own log one batch the real CLI would refuse to write:
 * certificates for any subject, revocations of anyone, events about another commune's
 * venue, times far in the future. The batch is built with the crdt layer, sealed at the
 * node's next seq and applied to the node's own store, exactly as node/logic/node.c records the
 * node's honest events, by a store patched as an insider would patch it: it judges nothing
 * of its own log (store_own_check_ below); from there sync and bundles carry the batch like
 * any other, and the receivers must refuse or park it.
 *
 * Usage: forge DIR COMMAND [OPTIONS] [--hlc-ms MS]   (prints the batch's first seq)
 *   cert --subject HEX --role commune|district|province --unit U [--scope a,b] [--health]
 *        [--not-before-ms MS] [--days N]
 *   revoke HEX [--reason TEXT]
 *   venue --venue HEX [--unit U] [--name TEXT] [--owner-phone P] [--registers]
 *   scan --venue HEX --unit U --person TEXT [--at TIME] [--out] [--masked TEXT]
 *   person --unit U --person TEXT --masked TEXT [--name TEXT] [--birth-year N]
 *   card --person TEXT --display TEXT [--birth-year N]
 *   reminder --venue HEX --unit U [--note TEXT] [--count N]
 *   controller --venue HEX --unit U --phone P
 *   grant --subject HEX --unit U --key HEX   (a key_grant sealing that key to subject)
 *   checkpoint --out-file FILE [--skip N] [--drop-since TIME]
 *        a checkpoint of the node's log that leaves out its scans (those at or after TIME
 *        with --drop-since) and carries every other event, based N seqs past what the node
 *        holds (with a made-up hash) or, without --skip, at its next seq; written as a
 *        bundle to FILE, and not to the node's store
 * --hlc-ms MS dates the batch's first event at MS (ms since the epoch) instead of the
 * node's clock. scan --masked, person and card write what a node of an older version
 * wrote: a masked display of its choosing, a person event (sealed to the node itself) with
 * a masked name and number and a birth year of its choosing; card prints a personal code
 * signed by the node, with that display and birth year, and appends nothing. */
#include "crdt/batch.h"
#include "crdt/cert.h"
#include "crdt/error.h"
#include "crdt/event.h"
#include "crdt/hlc.h"
#include "node/format/bundle.h"
#include "node/logic/node.h"
#include "node/format/payload.h"
#include "node/logic/person.h"
#include "node/logic/seal.h"
#include "node/format/timefmt.h"

#include <getopt.h>
#include <sodium.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY_MS (86400000LL)

/* The nodes of the tests are unlocked with the passphrase tests/lib.sh gives as a
 * credential ($CREDENTIALS_DIRECTORY/passphrase, first line). */
static int unlock_node(tv_node *n)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    char path[4200], pass[1100];
    if (n->unlocked) return TV_OK;
    if (!dir) return TV_ELOCKED;
    snprintf(path, sizeof path, "%s/passphrase", dir);
    FILE *f = fopen(path, "r");
    if (!f) return TV_ELOCKED;
    int ok = fgets(pass, sizeof pass, f) != NULL;
    fclose(f);
    if (!ok) return TV_ELOCKED;
    pass[strcspn(pass, "\r\n")] = '\0';
    return tv_node_unlock(n, pass, strlen(pass));
}

static const char usage_text[] =
    "Usage: forge DIR COMMAND [OPTIONS] [--hlc-ms MS]\n"
    "  cert --subject HEX --role commune|district|province --unit U [--scope a,b]\n"
    "       [--health] [--not-before-ms MS] [--days N]\n"
    "  revoke HEX [--reason TEXT]\n"
    "  venue --venue HEX [--unit U] [--name TEXT] [--owner-phone P] [--registers]\n"
    "  scan --venue HEX --unit U --person TEXT [--at TIME] [--out] [--masked TEXT]\n"
    "  person --unit U --person TEXT --masked TEXT [--name TEXT] [--birth-year N]\n"
    "  card --person TEXT --display TEXT [--birth-year N]\n"
    "  reminder --venue HEX --unit U [--note TEXT] [--count N]\n"
    "  controller --venue HEX --unit U --phone P\n"
    "  grant --subject HEX --unit U --key HEX\n"
    "  checkpoint --out-file FILE [--skip N] [--drop-since TIME]\n"
    "Appends one batch to the node's own log in DIR, signed with its key, and prints the\n"
    "batch's first seq.\n";

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("forge: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs("\n", stderr);
    va_end(ap);
    fputs(usage_text, stderr);
    return 2;
}

static int die(const char *what, int rc)
{
    fprintf(stderr, "forge: %s: %s\n", what, tv_strerror(rc));
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-') return -1;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end) return -1;
    *out = v;
    return 0;
}

static crdt_text text_of(const char *s)
{
    return (crdt_text){s, s ? (uint32_t)strlen(s) : 0};
}

/* Everything the options may say. */
typedef struct opts {
    const char *subject, *role, *unit, *scope, *reason, *venue, *name, *owner_phone, *person, *at,
        *note, *phone, *masked, *display, *key, *out_file, *drop_since;
    int health, registers, out;
    uint64_t hlc_ms, not_before_ms, days, count, birth_year, skip;
    int have_hlc, have_not_before;
} opts;

/* The insider's patch: this definition replaces store/own.c's, whose object file the
 * linker then never takes from the static library (nothing else is in it), so the store
 * takes whatever this node's own log says about trust. The prototype is
 * store/internal.h's. */
int store_own_check_(store_txn *t, const uint8_t *self, const crdt_event *evs, uint32_t n,
                     const char **rule);
int store_own_check_(store_txn *t, const uint8_t *self, const crdt_event *evs, uint32_t n,
                     const char **rule)
{
    (void)t, (void)self, (void)evs, (void)n;
    *rule = NULL;
    return TV_OK;
}

typedef struct forge_ctx {
    tv_node *n;
    crdt_batch_builder *b;
    int64_t now;
    uint64_t first_seq;
} forge_ctx;

/* Seals the builder at the node's next seq and applies it, as commit_fn in node.c does. */
static int seal_fn(store_txn *t, void *arg)
{
    forge_ctx *c = arg;
    store_frontier f;
    int rc = store_frontier_get(t, c->n->id.pk, &f);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (f.seq && c->b->hlc_min <= f.hlc_max) return TV_ECLOCK; /* an origin's HLC only rises */
    uint8_t *buf, hash[TV_HASH_BYTES];
    size_t len;
    if ((rc = crdt_batch_seal(c->b, &c->n->id, f.seq + 1, f.seq ? f.hash : NULL, &buf, &len, hash)))
        return rc;
    store_apply_result r;
    rc = store_apply_batch(t, buf, len, c->now, &r);
    free(buf);
    c->first_seq = f.seq + 1;
    return rc;
}

static int build_cert(tv_node *n, const opts *o, uint8_t **raw, size_t *raw_len)
{
    crdt_cert *c = calloc(1, sizeof *c);
    if (!c) return TV_ENOMEM;
    int rc = TV_EINVAL;
    if (tv_hex_decode(c->subject, TV_NODE_ID_BYTES, o->subject)) {
        usage("--subject takes a node id of 64 hex digits");
        goto done;
    }
    memcpy(c->issuer, n->id.pk, TV_NODE_ID_BYTES);
    tv_role role = tv_role_parse(o->role);
    if (!role) {
        usage("--role takes commune, district or province");
        goto done;
    }
    c->role = (uint32_t)role;
    if (!crdt_unit_code_valid(o->unit, strlen(o->unit)) || strlen(o->unit) > TV_UNIT_CODE_MAX) {
        usage("--unit '%s' is not a unit code", o->unit);
        goto done;
    }
    strcpy(c->unit, o->unit);
    strcpy(c->scope[c->scope_len++], o->unit);
    if (o->scope) {
        char *copy = strdup(o->scope), *save = NULL;
        if (!copy) {
            rc = TV_ENOMEM;
            goto done;
        }
        for (char *u = strtok_r(copy, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
            if (strcmp(u, c->unit) == 0) continue;
            if (c->scope_len == CRDT_CERT_SCOPE_MAX || strlen(u) > TV_UNIT_CODE_MAX ||
                (strcmp(u, CRDT_SCOPE_ALL) != 0 && !crdt_unit_code_valid(u, strlen(u)))) {
                free(copy);
                usage("--scope holds a bad unit code '%s' or too many", u);
                goto done;
            }
            strcpy(c->scope[c->scope_len++], u);
        }
        free(copy);
    }
    c->flags = o->health ? CRDT_CERT_F_HEALTH : 0;
    c->not_before_ms = o->have_not_before ? (int64_t)o->not_before_ms : tv_wall_ms();
    c->not_after_ms = o->days ? c->not_before_ms + (int64_t)o->days * DAY_MS : 0;
    rc = crdt_cert_sign(c, &n->id, raw, raw_len);
    if (rc) die("cannot sign the certificate", rc);
done:
    free(c);
    return rc;
}

static int need(const char *v, const char *opt, const char *cmd)
{
    if (v) return 0;
    usage("%s needs %s", cmd, opt);
    return -1;
}

static int venue_id(const char *hex, uint8_t id[TV_VENUE_ID_BYTES])
{
    if (tv_hex_decode(id, TV_VENUE_ID_BYTES, hex) == 0) return 0;
    usage("--venue takes a venue id of 16 hex digits");
    return -1;
}

/* Packs the command's events into b. Returns 0, 2 (usage) or 1 (failure). */
static int pack(tv_node *n, const char *cmd, const opts *o, const char *arg, crdt_batch_builder *b,
                uint64_t hlc)
{
    int rc;
    if (strcmp(cmd, "cert") == 0) {
        if (need(o->subject, "--subject", cmd) || need(o->role, "--role", cmd) ||
            need(o->unit, "--unit", cmd))
            return 2;
        uint8_t *raw;
        size_t len;
        if ((rc = build_cert(n, o, &raw, &len))) return rc == TV_EINVAL ? 2 : 1;
        crdt_cert_event ev = {.cert = raw, .len = len};
        rc = crdt_event_pack_cert(&b->pk, hlc, &ev);
        free(raw);
        if (rc) return die("cannot pack the certificate", rc);
        crdt_batch_builder_note(b, hlc);
        return 0;
    }
    if (strcmp(cmd, "revoke") == 0) {
        crdt_revoke r = {.reason = text_of(o->reason)};
        if (!arg || tv_hex_decode(r.subject, TV_NODE_ID_BYTES, arg))
            return usage("revoke takes the subject's node id (64 hex digits)");
        if ((rc = crdt_event_pack_revoke(&b->pk, hlc, &r)))
            return die("cannot pack the revocation", rc);
        crdt_batch_builder_note(b, hlc);
        return 0;
    }
    if (strcmp(cmd, "person") == 0) {
        if (need(o->unit, "--unit", cmd) || need(o->person, "--person", cmd) ||
            need(o->masked, "--masked", cmd))
            return 2;
        tv_person_id id;
        const char *why;
        if (tv_person_parse_typed(o->person, &id, &why))
            return usage("--person '%s': %s", o->person, why);
        crdt_person p = {.unit = text_of(o->unit),
                         .name_masked = text_of(o->name),
                         .id_masked = text_of(o->masked),
                         .birth_year = (uint32_t)o->birth_year};
        uint8_t rkey[TV_TRACING_KEY_BYTES];
        if ((rc = tv_node_ref_key(n, rkey))) return die("no pseudonym key", rc);
        tv_person_ref(&id, rkey, p.person);
        sodium_memzero(rkey, sizeof rkey);
        tv_details d = {0};
        memcpy(id.kind == TV_ID_PHONE ? d.phone : d.cccd, id.norm, 13); /* 10 to 12 digits */
        static uint8_t boxes[CRDT_SEALED_MAX * TV_SEALED_BOX_MAX];
        tv_sealer sealer;
        if ((rc = tv_sealer_begin(&sealer, (const uint8_t(*)[TV_NODE_ID_BYTES])n->id.pk, 1)) ||
            (rc = tv_seal_details(&sealer, &d, &p, boxes)))
            return die("cannot seal", rc);
        tv_sealer_end(&sealer);
        if ((rc = crdt_event_pack_person(&b->pk, hlc, &p)))
            return rc == TV_EINVAL ? usage("person: a field is not valid") : die("cannot pack", rc);
        crdt_batch_builder_note(b, hlc);
        return 0;
    }
    if (strcmp(cmd, "grant") == 0) {
        uint8_t key[TV_TRACING_KEY_BYTES], xpk[crypto_box_PUBLICKEYBYTES],
            box[CRDT_GRANT_BOX_BYTES];
        crdt_key_grant g = {.unit = text_of(o->unit), .box = box};
        if (!o->subject || tv_hex_decode(g.subject, TV_NODE_ID_BYTES, o->subject) || !o->unit ||
            !o->key || tv_hex_decode(key, sizeof key, o->key) ||
            crypto_sign_ed25519_pk_to_curve25519(xpk, g.subject))
            return usage("grant takes --subject HEX, --unit U and --key HEX (64 digits)");
        crypto_box_seal(box, key, sizeof key, xpk);
        if ((rc = crdt_event_pack_grant(&b->pk, hlc, &g))) return die("cannot pack the grant", rc);
        crdt_batch_builder_note(b, hlc);
        return 0;
    }
    if (need(o->venue, "--venue", cmd)) return 2;
    uint8_t venue[TV_VENUE_ID_BYTES];
    if (venue_id(o->venue, venue)) return 2;
    if (strcmp(cmd, "venue") == 0) {
        crdt_venue_upsert v = {0};
        memcpy(v.venue, venue, sizeof venue);
        if (o->unit) v.fields |= CRDT_VENUE_F_UNIT, v.unit = text_of(o->unit);
        if (o->name) v.fields |= CRDT_VENUE_F_NAME, v.name = text_of(o->name);
        if (o->owner_phone)
            v.fields |= CRDT_VENUE_F_OWNER_PHONE, v.owner_phone = text_of(o->owner_phone);
        if (o->registers) {
            /* a registration of an id that is not derived from this key (V1) */
            v.registers = 1;
            randombytes_buf(v.nonce, sizeof v.nonce);
        }
        if (!v.fields) return usage("venue needs at least one of --unit, --name, --owner-phone");
        if ((rc = crdt_event_pack_venue(&b->pk, hlc, &v)))
            return rc == TV_EINVAL ? usage("venue: a field is not valid") : die("cannot pack", rc);
        crdt_batch_builder_note(b, hlc);
        return 0;
    }
    if (need(o->unit, "--unit", cmd)) return 2;
    if (strcmp(cmd, "scan") == 0) {
        if (need(o->person, "--person", cmd)) return 2;
        tv_person_id id;
        const char *why;
        if (tv_person_parse_typed(o->person, &id, &why))
            return usage("--person '%s': %s", o->person, why);
        crdt_scan s = {.unit = text_of(o->unit),
                       .masked = text_of(o->masked ? o->masked : id.masked),
                       .direction = o->out ? CRDT_DIR_OUT : CRDT_DIR_IN,
                       .method = CRDT_METHOD_STAFF,
                       .at_ms = tv_wall_ms()};
        memcpy(s.venue, venue, sizeof venue);
        /* the pseudonym the CLI computes (record.c tv_card_ref for a typed number) */
        uint8_t key[TV_TRACING_KEY_BYTES];
        if (tv_node_ref_key(n, key)) return usage("this node holds no pseudonym key");
        tv_person_ref(&id, key, s.person);
        sodium_memzero(key, sizeof key);
        if (o->at && tv_time_parse(o->at, &s.at_ms))
            return usage("--at '%s' is not a time like 2021-10-06T08:30:00+07:00", o->at);
        if ((rc = crdt_event_pack_scan(&b->pk, hlc, &s)))
            return rc == TV_EINVAL ? usage("scan: a field is not valid") : die("cannot pack", rc);
        crdt_batch_builder_note(b, hlc);
        return 0;
    }
    if (strcmp(cmd, "reminder") == 0) {
        uint64_t count = o->count ? o->count : 1;
        if (count > 100) return usage("--count takes 1 to 100");
        for (uint64_t i = 0; i < count; i++) {
            crdt_reminder r = {
                .unit = text_of(o->unit), .note = text_of(o->note), .action = CRDT_REMIND};
            memcpy(r.venue, venue, sizeof venue);
            if ((rc = crdt_event_pack_reminder(&b->pk, hlc + i, &r)))
                return rc == TV_EINVAL ? usage("reminder: a field is not valid")
                                       : die("cannot pack", rc);
            crdt_batch_builder_note(b, hlc + i);
        }
        return 0;
    }
    if (strcmp(cmd, "controller") == 0) {
        if (need(o->phone, "--phone", cmd)) return 2;
        crdt_controller c = {.unit = text_of(o->unit), .phone = text_of(o->phone)};
        memcpy(c.venue, venue, sizeof venue);
        if ((rc = crdt_event_pack_controller(&b->pk, CRDT_EV_CONTROLLER_ADD, hlc, &c)))
            return rc == TV_EINVAL ? usage("controller: a field is not valid")
                                   : die("cannot pack", rc);
        crdt_batch_builder_note(b, hlc);
        return 0;
    }
    return usage("unknown command '%s'", cmd);
}

/* --- checkpoint: a thief's truncation of the node's log ---------------------------- */

typedef struct ckpt_ctx {
    crdt_batch_builder *b;
    uint64_t hlc;
    int64_t drop_since; /* scans at or after it are left out; INT64_MIN: every scan */
    uint32_t copied, left_out;
} ckpt_ctx;

/* Adds a copy of every event of one batch of the log but the scans left out. */
static int ckpt_batch(ckpt_ctx *c, const uint8_t *buf, size_t len)
{
    crdt_batch b;
    int rc = crdt_batch_peek(&b, buf, len);
    if (rc) return rc;
    crdt_batch_iter it;
    crdt_batch_iter_init(&it, &b);
    crdt_event ev, inner;
    msgpack_unpacked scratch;
    msgpack_unpacked_init(&scratch);
    for (uint64_t seq = b.h.first_seq; (rc = crdt_batch_iter_next(&it, &ev)) == 1; seq++) {
        const crdt_event *e = &ev;
        crdt_checkpoint cp = {.copy = 1, .event = ev.raw, .event_len = ev.raw_len, .seq = seq};
        if (ev.known && ev.type == CRDT_EV_CHECKPOINT) {
            if (!ev.u.checkpoint.copy) continue; /* an earlier base */
            if ((rc = crdt_event_copy_open(&ev, &inner, &scratch))) break;
            e = &inner;
            cp.event = ev.u.checkpoint.event;
            cp.event_len = ev.u.checkpoint.event_len;
            cp.seq = ev.u.checkpoint.seq;
        }
        if (e->known && e->type == CRDT_EV_SCAN && e->u.scan.at_ms >= c->drop_since) {
            c->left_out++;
            continue;
        }
        if (c->b->count + 1 >= CRDT_BATCH_EVENTS_MAX) {
            rc = TV_ELIMIT;
            break;
        }
        if ((rc = crdt_event_pack_checkpoint(&c->b->pk, ++c->hlc, &cp))) break;
        crdt_batch_builder_note(c->b, c->hlc);
        c->copied++;
    }
    msgpack_unpacked_destroy(&scratch);
    crdt_batch_iter_release(&it);
    return rc < 0 ? rc : 0;
}

/* Writes the forged checkpoint's batch to o->out_file as a bundle. Returns 0, 2 or 1. */
static int checkpoint(tv_node *n, const opts *o, crdt_batch_builder *b, uint64_t hlc)
{
    if (need(o->out_file, "--out-file", "checkpoint")) return 2;
    ckpt_ctx c = {.b = b, .hlc = hlc, .drop_since = INT64_MIN};
    if (o->drop_since && tv_time_parse(o->drop_since, &c.drop_since))
        return usage("--drop-since '%s' is not a time like 2021-10-06T08:30:00+07:00",
                     o->drop_since);
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return die("cannot read the store", rc);
    store_frontier f;
    uint64_t base = 0;
    if ((rc = store_frontier_get(t, n->id.pk, &f)) == 0 &&
        (rc = store_base_get(t, n->id.pk, &base, NULL)) == TV_ENOTFOUND)
        rc = 0;
    crdt_checkpoint cp = {.upto = f.seq + o->skip};
    memcpy(cp.hash, f.hash, TV_HASH_BYTES);
    if (o->skip) randombytes_buf(cp.hash, sizeof cp.hash); /* a log it never held */
    if (rc == 0 && (rc = crdt_event_pack_checkpoint(&b->pk, c.hlc, &cp)) == 0)
        crdt_batch_builder_note(b, c.hlc);
    for (uint64_t seq = base + 1; rc == 0 && seq <= f.seq;) {
        const uint8_t *buf;
        size_t len;
        crdt_batch hb;
        if ((rc = store_batch_at(t, n->id.pk, seq, &buf, &len)) ||
            (rc = crdt_batch_peek(&hb, buf, len)) || (rc = ckpt_batch(&c, buf, len)))
            break;
        seq = hb.h.first_seq + hb.h.count;
    }
    store_read_end(t);
    if (rc) return die("cannot build the checkpoint", rc);
    uint8_t *batch, hash[TV_HASH_BYTES];
    size_t len;
    if ((rc = crdt_batch_seal(b, &n->id, cp.upto + 1, cp.hash, &batch, &len, hash)))
        return die("cannot seal the checkpoint", rc);
    tv_bundle_file bf;
    tv_bundle_writer w;
    if ((rc = tv_bundle_file_create(&bf, o->out_file)) == 0) {
        if ((rc = tv_bundle_write_begin(&w, bf.fp)) ||
            (rc = tv_bundle_write_batch(&w, batch, len)) || (rc = tv_bundle_write_end(&w)))
            tv_bundle_file_abort(&bf);
        else
            rc = tv_bundle_file_commit(&bf);
    }
    free(batch);
    if (rc) return die(o->out_file, rc);
    printf("%" PRIu64 "\n", cp.upto + 1);
    fprintf(stderr, "forge: checkpoint up to %" PRIu64 ": %u copies, %u scans left out\n", cp.upto,
            c.copied, c.left_out);
    return 0;
}

/* Prints a personal code for o->person signed by the node, with o->display and
 * o->birth_year. Returns 0, 2 (usage) or 1 (failure). */
static int card(tv_node *n, const opts *o)
{
    if (need(o->person, "--person", "card") || need(o->display, "--display", "card")) return 2;
    tv_person_id id;
    const char *why;
    if (tv_person_parse_typed(o->person, &id, &why))
        return usage("--person '%s': %s", o->person, why);
    uint8_t ref[TV_PERSON_REF_BYTES], key[TV_TRACING_KEY_BYTES];
    int rc = tv_node_ref_key(n, key);
    if (rc) return die("no pseudonym key", rc);
    tv_person_ref(&id, key, ref);
    sodium_memzero(key, sizeof key);
    tv_person_card pc;
    rc = tv_person_card_sign(&pc, ref, (int)o->birth_year, o->display, &n->id);
    if (rc) return rc == TV_EINVAL ? usage("card: the display is not valid") : die("sign", rc);
    char code[TV_PERSON_CARD_MAX];
    tv_person_card_format(code, &pc);
    puts(code);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {{"subject", required_argument, 0, 1},
                                          {"role", required_argument, 0, 2},
                                          {"unit", required_argument, 0, 3},
                                          {"scope", required_argument, 0, 4},
                                          {"health", no_argument, 0, 5},
                                          {"not-before-ms", required_argument, 0, 6},
                                          {"days", required_argument, 0, 7},
                                          {"reason", required_argument, 0, 8},
                                          {"venue", required_argument, 0, 9},
                                          {"name", required_argument, 0, 10},
                                          {"owner-phone", required_argument, 0, 11},
                                          {"registers", no_argument, 0, 12},
                                          {"person", required_argument, 0, 13},
                                          {"person-cccd", required_argument, 0, 13},
                                          {"at", required_argument, 0, 14},
                                          {"out", no_argument, 0, 15},
                                          {"note", required_argument, 0, 16},
                                          {"count", required_argument, 0, 17},
                                          {"phone", required_argument, 0, 18},
                                          {"hlc-ms", required_argument, 0, 19},
                                          {"masked", required_argument, 0, 20},
                                          {"display", required_argument, 0, 21},
                                          {"birth-year", required_argument, 0, 22},
                                          {"key", required_argument, 0, 23},
                                          {"out-file", required_argument, 0, 24},
                                          {"skip", required_argument, 0, 25},
                                          {"drop-since", required_argument, 0, 26},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (argc < 3) return usage("give a node directory and a command");
    const char *dir = argv[1], *cmd = argv[2];
    opts o = {0};
    optind = 3;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        switch (c) {
        case 1:
            o.subject = optarg;
            break;
        case 2:
            o.role = optarg;
            break;
        case 3:
            o.unit = optarg;
            break;
        case 4:
            o.scope = optarg;
            break;
        case 5:
            o.health = 1;
            break;
        case 6:
            if (parse_u64(optarg, &o.not_before_ms)) return usage("--not-before-ms takes ms");
            o.have_not_before = 1;
            break;
        case 7:
            if (parse_u64(optarg, &o.days) || o.days == 0) return usage("--days takes a count");
            break;
        case 8:
            o.reason = optarg;
            break;
        case 9:
            o.venue = optarg;
            break;
        case 10:
            o.name = optarg;
            break;
        case 11:
            o.owner_phone = optarg;
            break;
        case 12:
            o.registers = 1;
            break;
        case 13:
            o.person = optarg;
            break;
        case 14:
            o.at = optarg;
            break;
        case 15:
            o.out = 1;
            break;
        case 16:
            o.note = optarg;
            break;
        case 17:
            if (parse_u64(optarg, &o.count) || o.count == 0) return usage("--count takes 1 to 100");
            break;
        case 18:
            o.phone = optarg;
            break;
        case 19:
            if (parse_u64(optarg, &o.hlc_ms) || o.hlc_ms == 0 || o.hlc_ms >= (1ULL << 47))
                return usage("--hlc-ms takes milliseconds since the epoch");
            o.have_hlc = 1;
            break;
        case 20:
            o.masked = optarg;
            break;
        case 21:
            o.display = optarg;
            break;
        case 22:
            if (parse_u64(optarg, &o.birth_year) || o.birth_year > 9999)
                return usage("--birth-year takes a year");
            break;
        case 23:
            o.key = optarg;
            break;
        case 24:
            o.out_file = optarg;
            break;
        case 25:
            if (parse_u64(optarg, &o.skip) || o.skip > (1ULL << 40))
                return usage("--skip takes a count of seqs");
            break;
        case 26:
            o.drop_since = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case ':':
            return usage("%s needs a value", argv[optind - 1]);
        default:
            return usage("%s is not an option", argv[optind - 1]);
        }
    }
    const char *arg = optind < argc ? argv[optind++] : NULL;
    if (optind < argc) return usage("unexpected argument '%s'", argv[optind]);
    if (arg && strcmp(cmd, "revoke") != 0) return usage("unexpected argument '%s'", arg);

    tv_node *n = calloc(1, sizeof *n);
    crdt_batch_builder *b = calloc(1, sizeof *b);
    if (!n || !b) return die("out of memory", TV_ENOMEM);
    int rc = tv_node_open(n, dir, TV_NODE_WRITE);
    if (rc == 0 && (rc = unlock_node(n))) tv_node_close(n);
    if (rc) {
        free(n);
        free(b);
        return die(dir, rc);
    }
    if (strcmp(cmd, "card") == 0) { /* a personal code: printed, nothing appended */
        int status = card(n, &o);
        tv_node_close(n);
        free(b);
        free(n);
        return status;
    }
    crdt_batch_builder_init(b);
    uint64_t hlc =
        o.have_hlc ? crdt_hlc_make(o.hlc_ms, 0) : crdt_hlc_now(&n->clock, (uint64_t)tv_wall_ms());
    const int ckpt = strcmp(cmd, "checkpoint") == 0; /* a bundle: nothing appended */
    int status = ckpt ? checkpoint(n, &o, b, hlc) : pack(n, cmd, &o, arg, b, hlc);
    if (status == 0 && !ckpt) {
        forge_ctx ctx = {.n = n, .b = b, .now = tv_wall_ms()};
        rc = store_write(n->st, seal_fn, &ctx);
        if (rc == TV_ECLOCK)
            status = usage("--hlc-ms is not after the last event of the node's log");
        else if (rc)
            status = die("cannot record the batch", rc);
        else
            printf("%" PRIu64 "\n", ctx.first_seq);
    }
    crdt_batch_builder_release(b);
    tv_node_close(n);
    free(b);
    free(n);
    return status;
}
