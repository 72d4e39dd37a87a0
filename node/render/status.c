/* The status of a node written out (status.h). */
#include "node/render/status.h"

#include "crdt/hlc.h"
#include "node/render/cert.h"
#include "node/format/text.h"
#include "node/format/timefmt.h"

#include <inttypes.h>
#include <string.h>

static void hlc_time(char *out, size_t cap, uint64_t hlc)
{
    tv_time_format_vn(out, cap, (int64_t)crdt_hlc_ms(hlc));
}

/* --- JSON ----------------------------------------------------------------------------- */

static void enrolment_json(tv_json *j, const tv_status *s)
{
    tv_json_key(j, "root");
    if (s->have_root)
        tv_json_hex(j, s->root, TV_NODE_ID_BYTES);
    else
        tv_json_null(j);
    tv_json_key(j, "cert");
    if (s->cert)
        tv_render_cert_json(j, s->cert);
    else
        tv_json_null(j);
    tv_json_key(j, "revoked");
    tv_json_bool(j, s->revoked);
}

/* The events by type, the batches and the origins. */
static void counts_json(tv_json *j, const store_counts *counts)
{
    tv_json_key(j, "events");
    tv_json_object_begin(j);
    tv_json_key(j, "total");
    tv_json_u64(j, counts->events);
    for (uint32_t i = 1; i < STORE_EVENT_TYPES_MAX; i++) {
        const char *name = crdt_event_type_name(i);
        if (!name && !counts->by_type[i]) continue;
        char other[24];
        snprintf(other, sizeof other, "type_%u", i);
        tv_json_key(j, name ? name : other);
        tv_json_u64(j, counts->by_type[i]);
    }
    tv_json_key(j, "other");
    tv_json_u64(j, counts->by_type[0]);
    tv_json_object_end(j);
    tv_json_key(j, "batches");
    tv_json_u64(j, counts->batches);
    tv_json_key(j, "origins");
    tv_json_u64(j, counts->origins);
}

static void frontier_json(tv_json *j, const tv_status *s)
{
    char when[40], recv[40];
    tv_json_key(j, "frontier");
    tv_json_array_begin(j);
    for (size_t i = 0; i < s->n_frontier; i++) {
        const tv_status_frontier *r = &s->frontier[i];
        hlc_time(when, sizeof when, r->f.hlc_max);
        tv_time_format_vn(recv, sizeof recv, r->f.received_ms);
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_hex(j, r->origin, TV_NODE_ID_BYTES);
        tv_json_key(j, "seq");
        tv_json_u64(j, r->f.seq);
        tv_json_key(j, "hash");
        tv_json_hex(j, r->f.hash, TV_HASH_BYTES);
        tv_json_key(j, "last_event");
        tv_json_string(j, when);
        tv_json_key(j, "received");
        tv_json_string(j, recv);
        tv_json_object_end(j);
    }
    tv_json_array_end(j);
}

static void forks_json(tv_json *j, const tv_status *s)
{
    tv_json_key(j, "forks");
    tv_json_array_begin(j);
    for (size_t i = 0; i < s->n_forks; i++) {
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_hex(j, s->forks[i].origin, TV_NODE_ID_BYTES);
        tv_json_key(j, "seq");
        tv_json_u64(j, s->forks[i].first_seq);
        tv_json_key(j, "evidence_bytes");
        tv_json_u64(j, s->forks[i].bytes);
        tv_json_object_end(j);
    }
    tv_json_array_end(j);
    tv_json_key(j, "fork_origins");
    tv_json_array_begin(j);
    for (size_t i = 0; i < s->n_fork_origins; i++) {
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_hex(j, s->fork_origins[i].origin, TV_NODE_ID_BYTES);
        tv_json_key(j, "evidence");
        tv_json_u64(j, s->fork_origins[i].evidence);
        tv_json_key(j, "frozen");
        tv_json_bool(j, s->fork_origins[i].frozen);
        tv_json_object_end(j);
    }
    tv_json_array_end(j);
}

static void resync_json(tv_json *j, const tv_status *s)
{
    char when[40];
    tv_time_format_vn(when, sizeof when, s->resync_since_ms);
    tv_json_key(j, "resync");
    tv_json_object_begin(j);
    tv_json_key(j, "required");
    tv_json_bool(j, s->resync_required);
    tv_json_key(j, "since");
    if (s->resync_required)
        tv_json_string(j, when);
    else
        tv_json_null(j);
    tv_json_key(j, "log");
    tv_json_array_begin(j);
    for (size_t i = 0; i < s->n_resync_log; i++) {
        tv_json_object_begin(j);
        tv_json_key(j, "at");
        tv_json_string(j, s->resync_log[i].at);
        tv_json_key(j, "kind");
        tv_json_string(j, s->resync_log[i].kind);
        tv_json_key(j, "detail");
        tv_json_string(j, s->resync_log[i].detail);
        tv_json_object_end(j);
    }
    tv_json_array_end(j);
    tv_json_object_end(j);
}

static void parked_json(tv_json *j, const tv_status *s)
{
    char when[TV_TIME_STR_BYTES];
    tv_json_key(j, "parked");
    tv_json_array_begin(j);
    for (size_t i = 0; i < s->n_parked; i++) {
        const store_parked *p = &s->parked[i];
        tv_time_format_vn(when, sizeof when, p->due_ms);
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_hex(j, p->origin, TV_NODE_ID_BYTES);
        tv_json_key(j, "seq");
        tv_json_u64(j, p->first_seq);
        tv_json_key(j, "events");
        tv_json_u64(j, p->count);
        tv_json_key(j, "waits_for");
        tv_json_string(j, p->waits_for_time ? "time" : "venue registration");
        if (p->waits_for_time) {
            tv_json_key(j, "due");
            tv_json_string(j, when);
        }
        tv_json_object_end(j);
    }
    tv_json_array_end(j);
}

static void ckpt_retention_json(tv_json *j, const tv_status *s)
{
    tv_json_key(j, "checkpoints_waiting");
    tv_json_array_begin(j);
    for (size_t i = 0; i < s->n_ckpt_waiting; i++) {
        tv_json_object_begin(j);
        tv_json_key(j, "origin");
        tv_json_hex(j, s->ckpt_waiting[i].origin, TV_NODE_ID_BYTES);
        tv_json_key(j, "upto");
        tv_json_u64(j, s->ckpt_waiting[i].upto);
        tv_json_key(j, "held_seq");
        tv_json_u64(j, s->ckpt_waiting[i].held_seq);
        tv_json_object_end(j);
    }
    tv_json_array_end(j);
    char w[TV_TIME_STR_BYTES];
    tv_json_key(j, "retention");
    tv_json_object_begin(j);
    tv_json_key(j, "days");
    tv_json_u64(j, s->retention.days);
    tv_json_key(j, "set_by_root");
    tv_json_bool(j, s->retention.set);
    tv_json_key(j, "purged");
    if (s->purged_ms > 0) {
        tv_time_format_vn(w, sizeof w, s->purged_ms);
        tv_json_string(j, w);
    } else {
        tv_json_null(j);
    }
    tv_json_object_end(j);
}

int tv_render_status_json(FILE *f, const tv_node *n, const char *dir, const tv_status *s)
{
    tv_json j;
    tv_json_init(&j, f);
    tv_json_object_begin(&j);
    tv_json_key(&j, "node_id");
    tv_json_hex(&j, n->id.pk, TV_NODE_ID_BYTES);
    tv_json_key(&j, "role");
    tv_json_string(&j, tv_role_name(n->role));
    tv_json_key(&j, "unit");
    tv_json_string(&j, n->unit);
    tv_json_key(&j, "name");
    tv_json_string(&j, n->name);
    tv_json_key(&j, "dir");
    tv_json_string(&j, dir);
    tv_json_key(&j, "own_seq");
    tv_json_u64(&j, s->own.seq);
    tv_json_key(&j, "pseudonym_key");
    tv_json_string(&j, n->unlocked ? tv_key_kind_name(n->tracing_kind) : "locked");
    enrolment_json(&j, s);
    counts_json(&j, &s->counts);
    frontier_json(&j, s);
    forks_json(&j, s);
    resync_json(&j, s);
    parked_json(&j, s);
    ckpt_retention_json(&j, s);
    tv_json_key(&j, "store");
    tv_json_object_begin(&j);
    tv_json_key(&j, "file_bytes");
    tv_json_u64(&j, s->size.file_bytes);
    tv_json_key(&j, "used_bytes");
    tv_json_u64(&j, s->size.used_bytes);
    tv_json_key(&j, "map_bytes");
    tv_json_u64(&j, s->size.map_bytes);
    tv_json_object_end(&j);
    tv_json_object_end(&j);
    return tv_json_line_end(&j);
}

/* --- text ----------------------------------------------------------------------------- */

static void enrolment_text(FILE *f, const tv_status *s, const uint8_t *self)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    if (s->have_root) {
        tv_hex_encode(hex, s->root, TV_NODE_ID_BYTES);
        fprintf(f, "root      %s%s\n", hex,
                memcmp(s->root, self, TV_NODE_ID_BYTES) == 0 ? " (this node)" : "");
    } else {
        fprintf(f, "root      not enrolled (see 'truyvet enroll --help')\n");
    }
    if (s->cert) {
        fprintf(f, "cert      ");
        tv_render_cert_text(f, s->cert);
        fputc('\n', f);
    } else {
        fprintf(f, "cert      none\n");
    }
    if (s->revoked)
        fprintf(f, "REVOKED   this node's key has been revoked: others refuse its data\n");
}

/* The pseudonym key, the events by type, the batches and origins, the retention (when
 * this node has written events) and the store's size. */
static void held_text(FILE *f, const tv_node *n, const tv_status *s)
{
    const store_counts *counts = &s->counts;
    if (!n->unlocked)
        fprintf(f, "pseudonyms (locked: run 'truyvet unlock' to see the key)\n");
    else
        fprintf(f, "pseudonyms %s key%s%s\n", tv_key_kind_name(n->tracing_kind),
                n->tracing_kind == TV_KEY_COMMUNE ? " of " : "",
                n->tracing_kind == TV_KEY_COMMUNE ? n->tracing_unit : "");
    fprintf(f, "events    %" PRIu64 " (", counts->events);
    const char *sep = "";
    for (uint32_t i = 1; i < STORE_EVENT_TYPES_MAX; i++) {
        if (!counts->by_type[i]) continue;
        const char *name = crdt_event_type_name(i);
        fprintf(f, "%s%" PRIu64 " %s", sep, counts->by_type[i], name ? name : "other");
        sep = ", ";
    }
    fprintf(f, ")\nbatches   %" PRIu64 " from %" PRIu64 " origin%s\n", counts->batches,
            counts->origins, counts->origins == 1 ? "" : "s");
    if (s->have_own) {
        char w[TV_TIME_STR_BYTES] = "never";
        if (s->purged_ms > 0) tv_time_format_vn(w, sizeof w, s->purged_ms);
        fprintf(f, "retention %u days%s; last purge: %s\n", s->retention.days,
                s->retention.set ? "" : " (the default)", w);
    }
    fprintf(f, "store     %.1f MiB on disk (%.1f MiB used)\nfrontier\n",
            (double)s->size.file_bytes / (1 << 20), (double)s->size.used_bytes / (1 << 20));
}

static void frontier_text(FILE *f, const tv_status *s, const uint8_t *self)
{
    char when[40], hex[2 * TV_NODE_ID_BYTES + 1];
    for (size_t i = 0; i < s->n_frontier; i++) {
        const tv_status_frontier *r = &s->frontier[i];
        hlc_time(when, sizeof when, r->f.hlc_max);
        tv_hex_encode(hex, r->origin, TV_NODE_ID_BYTES);
        hex[16] = '\0';
        fprintf(f, "  %s%s  seq %" PRIu64 "  last event %s\n", hex,
                memcmp(r->origin, self, TV_NODE_ID_BYTES) == 0 ? " (this node)" : "", r->f.seq,
                when);
    }
}

static void forks_resync_text(FILE *f, const tv_status *s)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    for (size_t i = 0; i < s->n_forks; i++) {
        tv_hex_encode(hex, s->forks[i].origin, TV_NODE_ID_BYTES);
        fprintf(f,
                "FORK      origin %s: the batch from seq %" PRIu64
                " of another branch of its log, kept as evidence\n",
                hex, s->forks[i].first_seq);
    }
    for (size_t i = 0; i < s->n_fork_origins; i++) {
        const tv_status_fork_origin *o = &s->fork_origins[i];
        tv_hex_encode(hex, o->origin, TV_NODE_ID_BYTES);
        fprintf(f,
                "FORKED    origin %s: %" PRIu32 " evidence batch%s kept, %s; the scans of both "
                "branches are traced\n",
                hex, o->evidence, o->evidence == 1 ? "" : "es",
                o->frozen ? "frozen until its issuer certifies it again" : "certified again since");
    }
    if (s->resync_required) {
        char when[40];
        tv_time_format_vn(when, sizeof when, s->resync_since_ms);
        fprintf(f,
                "RESYNC    the store was restored or copied (seen %s): nothing is recorded until "
                "it has synced with a parent ('truyvet sync --once'), or 'truyvet resync "
                "--override'\n",
                when);
    }
    for (size_t i = 0; i < s->n_resync_log; i++)
        fprintf(f, "resync    %s  %s: %s\n", s->resync_log[i].at, s->resync_log[i].kind,
                s->resync_log[i].detail);
}

static void waiting_text(FILE *f, const tv_status *s)
{
    char hex[2 * TV_NODE_ID_BYTES + 1], when[TV_TIME_STR_BYTES];
    for (size_t i = 0; i < s->n_parked; i++) {
        const store_parked *p = &s->parked[i];
        tv_hex_encode(hex, p->origin, TV_NODE_ID_BYTES);
        tv_time_format_vn(when, sizeof when, p->due_ms);
        if (p->waits_for_time)
            fprintf(f,
                    "PARKED    origin %s seq %" PRIu64 " (%u events): written over an hour ahead "
                    "of this node's clock; applied from %s\n",
                    hex, p->first_seq, p->count, when);
        else
            fprintf(f,
                    "PARKED    origin %s seq %" PRIu64 " (%u events): about a venue whose "
                    "registration has not arrived; applied when it does\n",
                    hex, p->first_seq, p->count);
    }
    for (size_t i = 0; i < s->n_ckpt_waiting; i++) {
        tv_hex_encode(hex, s->ckpt_waiting[i].origin, TV_NODE_ID_BYTES);
        fprintf(f,
                "CHECKPOINT origin %s: its checkpoint up to seq %" PRIu64
                " has not carried events held here from seq %" PRIu64
                " yet; they are kept until it does (rule R2)\n",
                hex, s->ckpt_waiting[i].upto, s->ckpt_waiting[i].held_seq);
    }
}

void tv_render_status_text(FILE *f, const tv_node *n, const char *dir, const tv_status *s)
{
    char hex[2 * TV_NODE_ID_BYTES + 1];
    tv_hex_encode(hex, n->id.pk, TV_NODE_ID_BYTES);
    fprintf(f, "node      %s\nrole      %s of unit %s (%s)\n", hex, tv_role_name(n->role), n->unit,
            tv_text_esc(n->name));
    fprintf(f, "directory %s\n", tv_text_esc(dir));
    enrolment_text(f, s, n->id.pk);
    held_text(f, n, s);
    frontier_text(f, s, n->id.pk);
    forks_resync_text(f, s);
    waiting_text(f, s);
}
