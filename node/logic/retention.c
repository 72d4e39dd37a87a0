/* Retention at a node: purge, then rewrite the data file (see retention.h). */
#include "node/logic/retention.h"

#include "crdt/error.h"
#include "node/logic/downflow.h"
#include "node/logic/resync.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

typedef struct purge_ctx {
    int64_t now;
    int compact;
    tv_purge_result *out;
} purge_ctx;

static int purged_put(store_txn *t, int64_t now);

static int purge_fn(store_txn *t, void *arg)
{
    purge_ctx *c = arg;
    store_retention r;
    int rc = store_retention_get(t, &r);
    if (rc) return rc;
    c->out->days = r.days;
    if ((rc = store_purge(t, store_retention_cutoff(&r, c->now), &c->out->st))) return rc;
    return c->compact ? TV_OK : purged_put(t, c->now); /* else once the file is rewritten */
}

/* When the node last purged (status shows it): recorded when the purge is complete. */
static int purged_put(store_txn *t, int64_t now)
{
    uint8_t v[8];
    for (int i = 7, x = 0; i >= 0; i--, x += 8)
        v[i] = (uint8_t)((uint64_t)now >> x);
    return store_meta_put(t, "purged", v, sizeof v);
}

typedef struct file_ctx {
    const char *path;
    int64_t now;
} file_ctx;

/* The rewritten file's identity, recorded in it before it replaces the old one, so that
 * the next open does not take it for a restore (node.c epoch_check). */
static int file_id_fn(store_txn *t, void *arg)
{
    const file_ctx *c = arg;
    uint8_t id[TV_STORE_FILE_ID_BYTES];
    int rc = tv_store_file_id(c->path, id);
    if (rc || (rc = store_meta_put(t, "store_file", id, sizeof id))) return rc;
    return purged_put(t, c->now);
}

/* --- checkpoint --------------------------------------------------------------------- */

int tv_node_checkpoint(tv_node *n, int64_t now_ms, int eager, tv_checkpoint_result *out)
{
    memset(out, 0, sizeof *out);
    int rc = tv_node_may_record(n);
    if (rc) return rc;
    store_txn *t;
    store_retention r;
    store_checkpoint_plan p;
    memset(&p, 0, sizeof p);
    if ((rc = store_read_begin(n->st, &t))) return rc;
    rc = store_retention_get(t, &r);
    if (rc == 0)
        rc = store_checkpoint_plan_make(t, n->id.pk, store_retention_cutoff(&r, now_ms), &p);
    store_read_end(t);
    /* nothing to leave behind; or, unless asked, too little for what it would resend */
    if (rc || p.dropped == 0 || (!eager && p.dropped < p.n)) goto out;
    crdt_checkpoint cp = {.upto = p.upto};
    memcpy(cp.hash, p.hash, TV_HASH_BYTES);
    rc = tv_node_add_checkpoint(n, &cp);
    for (size_t i = 0; i < p.n && rc == 0; i++) {
        crdt_checkpoint c = {.copy = 1,
                             .event = p.copies[i].raw,
                             .event_len = p.copies[i].len,
                             .seq = p.copies[i].seq};
        rc = tv_node_add_checkpoint(n, &c);
    }
    uint64_t first;
    if (rc == 0) rc = tv_node_commit(n, &first);
    if (rc) {
        tv_node_discard(n);
        goto out;
    }
    out->written = 1;
    out->upto = p.upto;
    out->copies = p.n;
    out->dropped = p.dropped;
out:
    store_checkpoint_plan_release(&p);
    return rc;
}

/* --- purge ----------------------------------------------------------------------------- */

/* A commune learns who is held from its hold notices (PROTOCOL.md §2.13), opened with its
 * K_c in memory and handed to the store for this purge and checkpoint only. A health node
 * holds the holds view itself. Returns 0, TV_ELOCKED (notices held and the secrets locked:
 * a purge then could remove a held person's records) or an error. */
static int held_load(tv_node *n)
{
    if (tv_node_opens_health(n)) return TV_OK;
    tv_opened o = {0};
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    rc = tv_opened_load(n, t, &o);
    store_read_end(t);
    uint8_t(*refs)[TV_PERSON_REF_BYTES] = NULL;
    if (rc == TV_OK && o.nholds && !(refs = sodium_allocarray(o.nholds, TV_PERSON_REF_BYTES)))
        rc = TV_ENOMEM;
    if (rc == TV_OK) rc = store_held_extra_set(n->st, refs, refs ? tv_opened_held(&o, refs) : 0);
    if (refs) sodium_free(refs);
    tv_opened_release(&o);
    return rc;
}

int tv_node_purge(tv_node *n, int64_t now_ms, int checkpoint, int compact, tv_purge_result *out)
{
    memset(out, 0, sizeof *out);
    purge_ctx c = {.now = now_ms, .compact = compact, .out = out};
    store_size sz;
    int rc = store_size_get(n->st, &sz);
    if (rc) return rc;
    out->bytes_before = out->bytes_after = sz.file_bytes;
    if ((rc = held_load(n))) return rc;
    rc = store_write(n->st, purge_fn, &c);
    if (rc == TV_OK && checkpoint &&
        (rc = tv_node_checkpoint(n, now_ms, checkpoint > 1, &out->cp)) == TV_ERESTORED)
        rc = TV_OK;
    (void)store_held_extra_set(n->st, NULL, 0);
    if (rc) return rc;
    if (!compact) return TV_OK;
    char dir[PATH_MAX], file[PATH_MAX + 32];
    if ((size_t)snprintf(dir, sizeof dir, "%s/store", n->dir) >= sizeof dir) return TV_EINVAL;
    snprintf(file, sizeof file, "%s/" STORE_COMPACT_FILE, dir);
    file_ctx f = {file, now_ms};
    if ((rc = store_compact(n->st, dir, file_id_fn, &f))) return rc;
    if ((rc = store_size_get(n->st, &sz))) return rc;
    out->bytes_after = sz.file_bytes;
    return TV_OK;
}
