/* Retention at a node: purge, then rewrite the data file (see retention.h). */
#include "node/retention.h"

#include "crdt/error.h"
#include "node/resync.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef struct purge_ctx {
    int64_t now;
    tv_purge_result *out;
} purge_ctx;

static int purge_fn(store_txn *t, void *arg)
{
    purge_ctx *c = arg;
    store_retention r;
    int rc = store_retention_get(t, &r);
    if (rc) return rc;
    c->out->days = r.days;
    if ((rc = store_purge(t, store_retention_cutoff(&r, c->now), &c->out->st))) return rc;
    uint8_t v[8];
    for (int i = 7, x = 0; i >= 0; i--, x += 8)
        v[i] = (uint8_t)((uint64_t)c->now >> x);
    return store_meta_put(t, "purged", v, sizeof v);
}

typedef struct file_ctx {
    const char *path;
} file_ctx;

/* The rewritten file's identity, recorded in it before it replaces the old one, so that
 * the next open does not take it for a restore (node.c epoch_check). */
static int file_id_fn(store_txn *t, void *arg)
{
    const file_ctx *c = arg;
    uint8_t id[TV_STORE_FILE_ID_BYTES];
    int rc = tv_store_file_id(c->path, id);
    return rc ? rc : store_meta_put(t, "store_file", id, sizeof id);
}

int tv_node_purge(tv_node *n, int64_t now_ms, int compact, tv_purge_result *out)
{
    memset(out, 0, sizeof *out);
    purge_ctx c = {.now = now_ms, .out = out};
    store_size sz;
    int rc = store_size_get(n->st, &sz);
    if (rc) return rc;
    out->bytes_before = out->bytes_after = sz.file_bytes;
    if ((rc = store_write(n->st, purge_fn, &c)) || !compact) return rc;
    char dir[PATH_MAX], file[PATH_MAX + 32];
    if ((size_t)snprintf(dir, sizeof dir, "%s/store", n->dir) >= sizeof dir) return TV_EINVAL;
    snprintf(file, sizeof file, "%s/" STORE_COMPACT_FILE, dir);
    file_ctx f = {file};
    if ((rc = store_compact(n->st, dir, file_id_fn, &f))) return rc;
    if ((rc = store_size_get(n->st, &sz))) return rc;
    out->bytes_after = sz.file_bytes;
    return TV_OK;
}
