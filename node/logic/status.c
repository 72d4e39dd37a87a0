/* What a node is and holds (status.h). */
#include "node/logic/status.h"

#include "crdt/error.h"
#include "node/logic/resync.h"

#include <stdlib.h>
#include <string.h>

/* Makes room for one more element of size sz in *p (n held, *cap allocated). */
static int grow(void **p, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap) return TV_OK;
    size_t c = *cap ? *cap * 2 : 16;
    void *q = realloc(*p, c * sz);
    if (!q) return TV_ENOMEM;
    *p = q;
    *cap = c;
    return TV_OK;
}

/* A status being filled, with the capacity of each list. */
typedef struct fill {
    tv_status *s;
    size_t cap_frontier, cap_forks, cap_fork_origins, cap_resync, cap_parked, cap_ckpt;
} fill;

static int on_frontier(const uint8_t *origin, const store_frontier *f, void *arg)
{
    fill *x = arg;
    tv_status *s = x->s;
    int rc = grow((void **)&s->frontier, s->n_frontier, &x->cap_frontier, sizeof *s->frontier);
    if (rc) return rc;
    tv_status_frontier *r = &s->frontier[s->n_frontier++];
    memcpy(r->origin, origin, TV_NODE_ID_BYTES);
    r->f = *f;
    return 0;
}

static int on_fork(const uint8_t *origin, uint64_t first_seq, const uint8_t *buf, size_t len,
                   void *arg)
{
    fill *x = arg;
    tv_status *s = x->s;
    (void)buf;
    int rc = grow((void **)&s->forks, s->n_forks, &x->cap_forks, sizeof *s->forks);
    if (rc) return rc;
    tv_status_fork *r = &s->forks[s->n_forks++];
    memcpy(r->origin, origin, TV_NODE_ID_BYTES);
    r->first_seq = first_seq;
    r->bytes = len;
    return 0;
}

static int on_fork_origin(const uint8_t *origin, uint32_t evidence, int frozen, void *arg)
{
    fill *x = arg;
    tv_status *s = x->s;
    int rc = grow((void **)&s->fork_origins, s->n_fork_origins, &x->cap_fork_origins,
                  sizeof *s->fork_origins);
    if (rc) return rc;
    tv_status_fork_origin *r = &s->fork_origins[s->n_fork_origins++];
    memcpy(r->origin, origin, TV_NODE_ID_BYTES);
    r->evidence = evidence;
    r->frozen = frozen;
    return 0;
}

static int on_resync_line(const char *when, const char *kind, const char *detail, void *arg)
{
    fill *x = arg;
    tv_status *s = x->s;
    int rc = grow((void **)&s->resync_log, s->n_resync_log, &x->cap_resync, sizeof *s->resync_log);
    if (rc) return rc;
    tv_status_resync_line *r = &s->resync_log[s->n_resync_log];
    r->at = strdup(when);
    r->kind = strdup(kind);
    r->detail = strdup(detail);
    s->n_resync_log++; /* freed by tv_status_free even when a copy failed */
    return r->at && r->kind && r->detail ? 0 : TV_ENOMEM;
}

static int on_parked(const store_parked *p, void *arg)
{
    fill *x = arg;
    tv_status *s = x->s;
    int rc = grow((void **)&s->parked, s->n_parked, &x->cap_parked, sizeof *s->parked);
    if (rc) return rc;
    s->parked[s->n_parked++] = *p;
    return 0;
}

static int on_ckpt_wait(const uint8_t *origin, uint64_t upto, uint64_t held_seq, void *arg)
{
    fill *x = arg;
    tv_status *s = x->s;
    int rc =
        grow((void **)&s->ckpt_waiting, s->n_ckpt_waiting, &x->cap_ckpt, sizeof *s->ckpt_waiting);
    if (rc) return rc;
    tv_status_ckpt *r = &s->ckpt_waiting[s->n_ckpt_waiting++];
    memcpy(r->origin, origin, TV_NODE_ID_BYTES);
    r->upto = upto;
    r->held_seq = held_seq;
    return 0;
}

/* The root followed, this node's certificate and whether its key is revoked. */
static int enrolment_get(store_txn *t, const uint8_t *self, tv_status *s)
{
    int rc = store_root_get(t, s->root);
    if (rc && rc != TV_ENOTFOUND) return rc;
    s->have_root = rc == TV_OK;
    if (!(s->cert = malloc(sizeof *s->cert))) return TV_ENOMEM;
    rc = store_cert_get(t, self, s->cert, NULL, NULL);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (rc == TV_ENOTFOUND) {
        free(s->cert);
        s->cert = NULL;
    }
    rc = store_revoked(t, self);
    if (rc < 0) return rc;
    s->revoked = rc;
    return TV_OK;
}

/* The retention period in force, and when this node last purged. */
static int retention_get(store_txn *t, tv_status *s)
{
    int rc = store_retention_get(t, &s->retention);
    if (rc) return rc;
    uint8_t v[8];
    size_t len;
    rc = store_meta_get(t, "purged", v, sizeof v, &len);
    if (rc == TV_OK && len == 8)
        for (int i = 0; i < 8; i++)
            s->purged_ms = (int64_t)((uint64_t)s->purged_ms << 8 | v[i]);
    else if (rc != TV_ENOTFOUND && rc != TV_OK)
        return rc;
    return TV_OK;
}

/* Everything read in read transaction t, in the order status shows it. */
static int status_read(tv_node *n, const char *dir, store_txn *t, tv_status *s)
{
    fill x = {.s = s};
    int rc = store_counts_get(t, &s->counts);
    if (!rc) rc = enrolment_get(t, n->id.pk, s);
    if (!rc) {
        rc = store_frontier_get(t, n->id.pk, &s->own);
        s->have_own = rc == TV_OK;
        if (rc == TV_ENOTFOUND) rc = TV_OK;
    }
    if (!rc) rc = retention_get(t, s);
    if (!rc) rc = store_frontier_foreach(t, on_frontier, &x);
    if (!rc) rc = store_forks_foreach(t, on_fork, &x);
    if (!rc) rc = store_fork_origins_foreach(t, on_fork_origin, &x);
    if (!rc) rc = tv_resync_required(t, &s->resync_since_ms);
    if (rc > 0) {
        s->resync_required = 1;
        rc = TV_OK;
    }
    if (!rc) rc = tv_resync_log_foreach(dir, on_resync_line, &x);
    if (!rc) rc = store_parked_foreach(t, on_parked, &x);
    if (!rc) rc = store_checkpoints_waiting(t, on_ckpt_wait, &x);
    return rc;
}

int tv_status_get(tv_node *n, const char *dir, tv_status *out)
{
    memset(out, 0, sizeof *out);
    int rc = store_size_get(n->st, &out->size);
    if (rc) return rc;
    store_txn *t;
    if ((rc = store_read_begin(n->st, &t))) return rc;
    rc = status_read(n, dir, t, out);
    store_read_end(t);
    return rc;
}

void tv_status_free(tv_status *s)
{
    free(s->cert);
    free(s->frontier);
    free(s->forks);
    free(s->fork_origins);
    for (size_t i = 0; i < s->n_resync_log; i++) {
        free(s->resync_log[i].at);
        free(s->resync_log[i].kind);
        free(s->resync_log[i].detail);
    }
    free(s->resync_log);
    free(s->parked);
    free(s->ckpt_waiting);
    memset(s, 0, sizeof *s);
}
