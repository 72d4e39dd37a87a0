/* The replication protocol state machine (see sync.h; bytes in PROTOCOL.md §6). */
#include "net/sync.h"
#include "crdt/assert.h"
#include "crdt/error.h"
#include "crdt/mp.h"

#include <assert.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

enum msg_type {
    M_HELLO = 1,
    M_VV_BEGIN = 2,
    M_VV = 3,
    M_VV_END = 4,
    M_NEED_FULL = 5,
    M_WANT = 6,
    M_BATCH = 7,
    M_ACK = 8,
    M_REFUSE = 9,
    M_DONE = 10,
    M_HAVE = 11,
    M_PING = 12,
    M_PONG = 13,
    M_BYE = 14,
};

typedef struct outmsg {
    uint8_t *buf;
    size_t len;
} outmsg;

/* An origin the peer asked us for. */
typedef struct serve {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t next_seq;  /* the next seq to send */
    uint64_t acked_seq; /* the peer holds everything up to here */
    uint64_t rewound;   /* 1 + the held seq we last went back to after a gap, 0 if none */
    uint32_t rank;      /* serving order: ancestors' logs first, so certificates lead */
} serve;

/* A batch sent and not yet acknowledged. */
typedef struct inflight {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t last_seq;
    size_t bytes;
    int64_t sent_ms;
} inflight;

/* An origin we asked the peer for. */
typedef struct want {
    uint8_t origin[TV_NODE_ID_BYTES];
    uint64_t target;           /* the peer's seq when we asked */
    uint64_t from;             /* the first seq asked for */
    int refused;               /* 0, or the code of a refusal of this origin */
    uint64_t refused_at_certs; /* trust events held when refused (retry when it grows) */
} want;

typedef struct pending {
    uint8_t *buf;
    size_t len;
} pending;

/* The issuers above a node: its certificate's issuer, that one's issuer, up to the root.
 * Read once per session (walking it for every origin judged cost more than the rest). */
typedef struct lineage {
    size_t n;
    uint8_t id[CRDT_CERT_CHAIN_MAX][TV_NODE_ID_BYTES];
} lineage;

/* A hash index of origins over an array whose elements start with the origin (want,
 * serve): slots hold index + 1, 0 is free; at most half full. Keyed per session, so a
 * peer cannot choose origins that collide. */
typedef struct oindex {
    uint32_t *slot;
    size_t cap; /* a power of two, or 0 */
} oindex;

struct sync_peer {
    sync_config cfg;
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    oindex wn_idx, sv_idx;
    uint32_t foreign, in_foreign; /* origins of peer_vv / incoming outside the peer's
                                   * partition or not certified to us */
    uint8_t peer[TV_NODE_ID_BYTES];
    sync_stats st;
    int64_t last_send_ms;

    /* handshake */
    int hello_recv;
    int full_requested; /* we sent NEED_FULL: ignore streams on another base */
    crdt_vv incoming;   /* the peer's vector being rebuilt from VV messages */
    int incoming_ok;    /* the current VV stream's base matched */
    uint8_t expect_base[CRDT_VV_DIGEST_BYTES];
    int vv_known;        /* peer_vv is complete */
    uint64_t trust_seen; /* trust events held when the wants were last worked out */
    crdt_vv peer_vv;     /* what the peer holds, as far as we know */
    crdt_vv sent_vv;     /* what the peer knows we hold (from earlier sessions) */
    crdt_vv announced;   /* what we have told the peer in this session */
    /* digests of peer_vv and announced, kept while the vectors do not change (a DONE
     * carries one after every group of batches) */
    uint8_t peer_digest[CRDT_VV_DIGEST_BYTES], announced_digest[CRDT_VV_DIGEST_BYTES];
    int peer_digest_ok, announced_digest_ok;
    uint8_t peer_epoch[SYNC_EPOCH_BYTES];
    int have_record; /* a record of this peer was loaded from the store */
    crdt_cert *my_cert, *peer_cert;
    int peer_known;           /* peer_cert holds the peer's certificate */
    lineage my_lin, peer_lin; /* the issuers above us and above the peer */
    crdt_vv judged; /* origins already judged for the peer's partition: seq 2 holds, 1 not */

    /* control messages to send, FIFO */
    outmsg *q;
    size_t q_head, q_len, q_cap;

    /* serving */
    serve *sv;
    size_t sv_len, sv_cap, sv_pos;
    inflight *fl;
    size_t fl_len, fl_cap, fl_bytes;
    uint32_t peer_window;
    int64_t last_ack_ms;

    /* receiving */
    want *wn;
    size_t wn_len, wn_cap;
    pending pend[SYNC_PENDING_MAX];
    size_t pend_len;
    int done_sent, done_complete, peer_done, peer_complete;
    int64_t have_ms; /* when we announced something the peer has not yet said DONE to */
    uint64_t certs_seen;
};

/* --- small helpers ---------------------------------------------------------------- */

const char *sync_state_name(sync_state s)
{
    switch (s) {
    case SYNC_HANDSHAKE:
        return "handshake";
    case SYNC_TRANSFER:
        return "transfer";
    case SYNC_IN_STEP:
        return "in-step";
    case SYNC_CLOSED:
        return "closed";
    case SYNC_DEAD:
        return "dead";
    }
    return "unknown";
}

static int is_fatal_store(int rc)
{
    return rc == TV_ESTORE || rc == TV_ENOMEM || rc == TV_ENOSPC || rc == TV_ECORRUPT ||
           rc == TV_EIO;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return TV_OK;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p) return TV_ENOMEM;
    *arr = p;
    *cap = n;
    return TV_OK;
}

/* Queues a packed message (takes ownership of the sbuffer's data). */
static int queue(sync_peer *p, msgpack_sbuffer *sb)
{
    if (p->q_len == SYNC_OUT_QUEUE_MAX) {
        /* the peer does not read what it is sent (or asks faster than it reads): the
         * session ends; no BYE fits */
        msgpack_sbuffer_destroy(sb);
        if (p->st.state != SYNC_CLOSED) {
            p->st.state = SYNC_CLOSED;
            p->st.error = TV_ELIMIT;
            p->st.error_text = "the peer does not read what it is sent";
        }
        return TV_ELIMIT;
    }
    if (p->q_len == p->q_cap) {
        size_t n = p->q_cap ? p->q_cap * 2 : 16;
        outmsg *q = malloc(n * sizeof *q);
        if (!q) {
            msgpack_sbuffer_destroy(sb);
            return TV_ENOMEM;
        }
        for (size_t i = 0; i < p->q_len; i++)
            q[i] = p->q[(p->q_head + i) % p->q_cap];
        free(p->q);
        p->q = q;
        p->q_head = 0;
        p->q_cap = n;
    }
    outmsg m = {.len = sb->size};
    m.buf = (uint8_t *)msgpack_sbuffer_release(sb);
    p->q[(p->q_head + p->q_len++) % p->q_cap] = m;
    return TV_OK;
}

typedef struct msgb {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} msgb;

static void msg_begin(msgb *m, enum msg_type type, uint32_t fields)
{
    msgpack_sbuffer_init(&m->sb);
    msgpack_packer_init(&m->pk, &m->sb, msgpack_sbuffer_write);
    msgpack_pack_array(&m->pk, 1 + fields);
    msgpack_pack_uint8(&m->pk, (uint8_t)type);
}

static int msg_end(sync_peer *p, msgb *m)
{
    if (!m->sb.data) return TV_ENOMEM;
    return queue(p, &m->sb);
}

static void pack_id(msgpack_packer *pk, const uint8_t *id)
{
    msgpack_pack_bin_with_body(pk, id, TV_NODE_ID_BYTES);
}

static int send_bye(sync_peer *p, int code, const char *text)
{
    msgb m;
    msg_begin(&m, M_BYE, 2);
    msgpack_pack_int32(&m.pk, code);
    msgpack_pack_str_with_body(&m.pk, text, strlen(text));
    return msg_end(p, &m);
}

/* Ends the session because of the peer: queues BYE and remembers why. */
static int fail(sync_peer *p, int code, const char *text)
{
    if (p->st.state != SYNC_CLOSED) {
        (void)send_bye(p, code, text);
        p->st.state = SYNC_CLOSED;
        p->st.error = code;
        p->st.error_text = text;
    }
    return code;
}

static void note_refusal(sync_peer *p, const uint8_t *origin, uint64_t seq, int code,
                         const char *rule, int ours)
{
    if (p->st.refusals_len == SYNC_REFUSED_MAX) return;
    sync_refusal *r = &p->st.refusals[p->st.refusals_len++];
    memcpy(r->origin, origin, TV_NODE_ID_BYTES);
    r->seq = seq;
    r->code = code;
    r->rule = rule;
    r->ours = ours;
}

static const uint8_t *peer_digest(sync_peer *p)
{
    if (!p->peer_digest_ok) crdt_vv_digest(&p->peer_vv, p->peer_digest);
    p->peer_digest_ok = 1;
    return p->peer_digest;
}

static const uint8_t *announced_digest(sync_peer *p)
{
    if (!p->announced_digest_ok) crdt_vv_digest(&p->announced, p->announced_digest);
    p->announced_digest_ok = 1;
    return p->announced_digest;
}

static size_t oindex_hash(const sync_peer *p, const uint8_t *origin)
{
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, origin, TV_NODE_ID_BYTES, p->hkey);
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)v;
}

/* Returns the index of origin in arr (elements of elem bytes), or SIZE_MAX. */
static size_t oindex_find(const sync_peer *p, const oindex *x, const void *arr, size_t elem,
                          const uint8_t *origin)
{
    if (!x->cap) return SIZE_MAX;
    for (size_t i = oindex_hash(p, origin) & (x->cap - 1);; i = (i + 1) & (x->cap - 1)) {
        uint32_t s = x->slot[i];
        if (!s) return SIZE_MAX;
        if (memcmp((const uint8_t *)arr + (size_t)(s - 1) * elem, origin, TV_NODE_ID_BYTES) == 0)
            return s - 1;
    }
}

static void oindex_put(const sync_peer *p, oindex *x, const uint8_t *origin, size_t idx)
{
    size_t i = oindex_hash(p, origin) & (x->cap - 1);
    while (x->slot[i])
        i = (i + 1) & (x->cap - 1);
    x->slot[i] = (uint32_t)(idx + 1);
}

/* Indexes the n elements of arr afresh (after they moved). Returns 0 or TV_ENOMEM. */
static int oindex_rebuild(const sync_peer *p, oindex *x, const void *arr, size_t elem, size_t n)
{
    size_t cap = x->cap ? x->cap : 64;
    while (cap < 2 * n + 2)
        cap *= 2;
    if (cap != x->cap) {
        uint32_t *s = malloc(cap * sizeof *s);
        if (!s) return TV_ENOMEM;
        free(x->slot);
        x->slot = s;
        x->cap = cap;
    }
    memset(x->slot, 0, x->cap * sizeof *x->slot);
    for (size_t i = 0; i < n; i++)
        oindex_put(p, x, (const uint8_t *)arr + i * elem, i);
    return TV_OK;
}

/* Indexes element n - 1, just appended. Returns 0 or TV_ENOMEM. */
static int oindex_add(const sync_peer *p, oindex *x, const void *arr, size_t elem, size_t n)
{
    if (2 * n + 2 > x->cap) return oindex_rebuild(p, x, arr, elem, n);
    oindex_put(p, x, (const uint8_t *)arr + (n - 1) * elem, n - 1);
    return TV_OK;
}

static want *want_find(sync_peer *p, const uint8_t *origin)
{
    size_t i = oindex_find(p, &p->wn_idx, p->wn, sizeof *p->wn, origin);
    return i == SIZE_MAX ? NULL : &p->wn[i];
}

static serve *serve_find(sync_peer *p, const uint8_t *origin)
{
    size_t i = oindex_find(p, &p->sv_idx, p->sv, sizeof *p->sv, origin);
    return i == SIZE_MAX ? NULL : &p->sv[i];
}

/* --- partitions ------------------------------------------------------------------- */

/* Fills l from who's issuer upwards, as far as the store has the certificates. Returns 0
 * or TV_ENOMEM. */
static int lineage_load(store_txn *t, const crdt_cert *who, lineage *l)
{
    l->n = 0;
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    const uint8_t *cur = who->issuer;
    while (l->n < CRDT_CERT_CHAIN_MAX) {
        memcpy(l->id[l->n++], cur, TV_NODE_ID_BYTES);
        if (store_cert_get(t, l->id[l->n - 1], c, NULL, NULL) || crdt_cert_is_root(c)) break;
        cur = c->issuer;
    }
    free(c);
    return TV_OK;
}

static int in_lineage(const lineage *l, const uint8_t *anc)
{
    for (size_t i = 0; i < l->n; i++)
        if (memcmp(l->id[i], anc, TV_NODE_ID_BYTES) == 0) return 1;
    return 0;
}

/* Should the node `who_id` (certificate who) hold origin's log? Up the tree a node holds
 * its subtree; down the tree, the logs of every node above commune (the root and every
 * district: the certificates of the whole province, which a gate checks personal cards
 * against), its ancestors' and the health nodes' logs (the certificates, revocations and
 * health events they write). 1 yes, 0 no, -1 unknown (the origin's certificate has not
 * arrived yet: it is in its issuer's log, an above-commune log this node holds), or a
 * negative store error below -1. */
static int holds(store_txn *t, const crdt_cert *who, const uint8_t *who_id, const lineage *lin,
                 const uint8_t *origin, uint32_t *rank)
{
    if (rank) *rank = 0;
    if (memcmp(origin, who_id, TV_NODE_ID_BYTES) == 0) return 1;
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    int rc = store_cert_get(t, origin, c, NULL, NULL);
    int out;
    if (rc == TV_ENOTFOUND)
        out = -1;
    else if (rc)
        out = rc;
    else {
        if (rank) *rank = (uint32_t)(CRDT_ROLE_PROVINCE + 1 - c->role);
        out = crdt_cert_is_root(c) || c->role > CRDT_ROLE_COMMUNE ||
              (c->flags & CRDT_CERT_F_HEALTH) || crdt_cert_covers(who, c->unit, strlen(c->unit)) ||
              in_lineage(lin, origin);
    }
    free(c);
    return out;
}

/* Keeps in v only the origins the peer should hold (its partition, as far as we know its
 * certificate): a node is told only of logs it would ask for, which keeps a commune's
 * handshake small however many communes the province holds. Without the peer's
 * certificate (a first session), v is left whole. */
static int partition_filter(sync_peer *p, store_txn *t, crdt_vv *v)
{
    static const uint8_t none[TV_HASH_BYTES];
    if (!p->peer_known) return TV_OK;
    size_t keep = 0;
    for (size_t i = 0; i < v->len; i++) {
        const uint8_t *origin = v->entries[i].origin;
        const crdt_vv_entry *j = crdt_vv_get(&p->judged, origin);
        int h;
        if (j) {
            h = j->seq == 2;
        } else {
            /* judged once per session: certificates are read back and decoded to judge */
            h = holds(t, p->peer_cert, p->peer, &p->peer_lin, origin, NULL);
            if (h < -1) return h;
            if (h != -1 && crdt_vv_advance(&p->judged, origin, h == 1 ? 2 : 1, none) == TV_ENOMEM)
                return TV_ENOMEM;
            h = h == 1;
        }
        if (h) v->entries[keep++] = v->entries[i];
    }
    v->len = keep;
    return TV_OK;
}

/* --- handshake -------------------------------------------------------------------- */

/* Packs our certificate chain, from our own certificate up to the root. */
static int pack_chain(sync_peer *p, store_txn *t, msgpack_packer *pk)
{
    const uint8_t *raw[CRDT_CERT_CHAIN_MAX];
    size_t len[CRDT_CERT_CHAIN_MAX], n = 0;
    uint8_t cur[TV_NODE_ID_BYTES];
    memcpy(cur, p->cfg.self->pk, TV_NODE_ID_BYTES);
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    while (n < CRDT_CERT_CHAIN_MAX && store_cert_get(t, cur, c, &raw[n], &len[n]) == 0) {
        n++;
        if (crdt_cert_is_root(c)) break;
        memcpy(cur, c->issuer, TV_NODE_ID_BYTES);
    }
    free(c);
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = n; i-- > 0;)
        msgpack_pack_bin_with_body(pk, raw[i], len[i]); /* root first */
    return TV_OK;
}

static void pack_entries(msgpack_packer *pk, const crdt_vv_entry *e, size_t n)
{
    msgpack_pack_array(pk, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_array(pk, 3);
        pack_id(pk, e[i].origin);
        msgpack_pack_uint64(pk, e[i].seq);
        msgpack_pack_bin_with_body(pk, e[i].hash, TV_HASH_BYTES);
    }
}

/* Sends our version vector as VV_BEGIN, VV chunks, VV_END: the entries of `cur` that
 * differ from `base` (all of them when base is empty). */
static int send_vv(sync_peer *p, const crdt_vv *base, const crdt_vv *cur)
{
    crdt_vv delta;
    crdt_vv_init(&delta);
    int rc = crdt_vv_delta(&delta, cur, base);
    if (rc) goto done;
    uint8_t d[CRDT_VV_DIGEST_BYTES];
    msgb m;
    crdt_vv_digest(base, d);
    msg_begin(&m, M_VV_BEGIN, 1);
    msgpack_pack_bin_with_body(&m.pk, d, sizeof d);
    if ((rc = msg_end(p, &m))) goto done;
    for (size_t i = 0; i < delta.len; i += SYNC_VV_CHUNK_MAX) {
        size_t n = delta.len - i < SYNC_VV_CHUNK_MAX ? delta.len - i : SYNC_VV_CHUNK_MAX;
        msg_begin(&m, M_VV, 1);
        pack_entries(&m.pk, delta.entries + i, n);
        if ((rc = msg_end(p, &m))) goto done;
    }
    crdt_vv_digest(cur, d);
    msg_begin(&m, M_VV_END, 1);
    msgpack_pack_bin_with_body(&m.pk, d, sizeof d);
    rc = msg_end(p, &m);
done:
    crdt_vv_release(&delta);
    return rc;
}

/* The peer record kept between sessions: [epoch, peer_vv, sent_vv]. Returns 1 when it
 * decodes (the vectors filled), 0 when it does not (the vectors emptied). */
static int record_decode(const uint8_t *buf, size_t len, uint8_t epoch_out[SYNC_EPOCH_BYTES],
                         crdt_vv *peer_vv, crdt_vv *sent_vv)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int ok = 0;
    if (crdt_mp_unpack_exact(&u, buf, len) == 0 && u.data.type == MSGPACK_OBJECT_ARRAY &&
        u.data.via.array.size == 3) {
        const msgpack_object *a = u.data.via.array.ptr;
        const uint8_t *epoch, *b1, *b2;
        size_t l1, l2;
        if (crdt_mp_bin_n(&a[0], SYNC_EPOCH_BYTES, &epoch) == 0 &&
            crdt_mp_bin(&a[1], SIZE_MAX, &b1, &l1) == 0 &&
            crdt_mp_bin(&a[2], SIZE_MAX, &b2, &l2) == 0 && crdt_vv_decode(peer_vv, b1, l1) == 0 &&
            crdt_vv_decode(sent_vv, b2, l2) == 0) {
            memcpy(epoch_out, epoch, SYNC_EPOCH_BYTES);
            ok = 1;
        }
    }
    msgpack_unpacked_destroy(&u);
    if (!ok) { /* unreadable: start afresh, the digests will ask for everything */
        peer_vv->len = 0;
        sent_vv->len = 0;
    }
    return ok;
}

static int record_load(sync_peer *p, store_txn *t)
{
    const uint8_t *buf;
    size_t len;
    if (store_peer_get(t, p->peer, &buf, &len)) return TV_OK;
    p->have_record = record_decode(buf, len, p->peer_epoch, &p->peer_vv, &p->sent_vv);
    return TV_OK;
}

int sync_peer_known(store_txn *t, const uint8_t peer[TV_NODE_ID_BYTES], crdt_vv *out)
{
    out->len = 0;
    const uint8_t *buf;
    size_t len;
    int rc = store_peer_get(t, peer, &buf, &len);
    if (rc) return rc;
    crdt_vv sent;
    crdt_vv_init(&sent);
    uint8_t epoch[SYNC_EPOCH_BYTES];
    int ok = record_decode(buf, len, epoch, out, &sent);
    crdt_vv_release(&sent);
    return ok ? TV_OK : TV_ECORRUPT;
}

int sync_partition_holds(store_txn *t, const uint8_t node[TV_NODE_ID_BYTES],
                         const uint8_t origin[TV_NODE_ID_BYTES])
{
    crdt_cert *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    lineage *l = malloc(sizeof *l);
    int rc = l ? store_cert_get(t, node, c, NULL, NULL) : TV_ENOMEM;
    if (rc == TV_OK) rc = lineage_load(t, c, l);
    if (rc == TV_OK) rc = holds(t, c, node, l, origin, NULL);
    free(l);
    free(c);
    return rc;
}

typedef struct record_ctx {
    sync_peer *p;
} record_ctx;

static int record_save_fn(store_txn *t, void *arg)
{
    sync_peer *p = ((record_ctx *)arg)->p;
    uint8_t *b1 = NULL, *b2 = NULL;
    size_t l1, l2;
    int rc = crdt_vv_encode(&p->peer_vv, &b1, &l1);
    if (rc == 0) rc = crdt_vv_encode(&p->sent_vv, &b2, &l2);
    if (rc == 0) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_bin_with_body(&pk, p->peer_epoch, SYNC_EPOCH_BYTES);
        msgpack_pack_bin_with_body(&pk, b1, l1);
        msgpack_pack_bin_with_body(&pk, b2, l2);
        rc = sb.data ? store_peer_put(t, p->peer, (uint8_t *)sb.data, sb.size) : TV_ENOMEM;
        msgpack_sbuffer_destroy(&sb);
    }
    free(b1);
    free(b2);
    return rc;
}

static int record_save(sync_peer *p)
{
    record_ctx c = {p};
    return store_write(p->cfg.st, record_save_fn, &c);
}

int sync_peer_new(sync_peer **out, const sync_config *cfg, const uint8_t peer_id[TV_NODE_ID_BYTES],
                  int64_t now)
{
    *out = NULL;
    sync_peer *p = calloc(1, sizeof *p);
    if (!p) return TV_ENOMEM;
    p->cfg = *cfg;
    if (!p->cfg.window_bytes) p->cfg.window_bytes = SYNC_WINDOW_BYTES;
    memcpy(p->peer, peer_id, TV_NODE_ID_BYTES);
    crdt_vv_init(&p->incoming);
    crdt_vv_init(&p->peer_vv);
    crdt_vv_init(&p->sent_vv);
    crdt_vv_init(&p->announced);
    crdt_vv_init(&p->judged);
    randombytes_buf(p->hkey, sizeof p->hkey);
    p->st.state = SYNC_HANDSHAKE;
    p->st.started_ms = p->st.last_recv_ms = p->last_send_ms = p->last_ack_ms = now;
    p->my_cert = malloc(sizeof *p->my_cert);
    p->peer_cert = calloc(1, sizeof *p->peer_cert);
    int rc = p->my_cert && p->peer_cert ? TV_OK : TV_ENOMEM;
    store_txn *t = NULL;
    if (rc == 0) rc = store_read_begin(cfg->st, &t);
    if (rc == 0) rc = store_cert_get(t, cfg->self->pk, p->my_cert, NULL, NULL);
    if (rc == TV_ENOTFOUND) rc = TV_EUNTRUSTED; /* not enrolled: nothing to prove who we are */
    if (rc == 0) rc = lineage_load(t, p->my_cert, &p->my_lin);
    if (rc == 0) rc = record_load(p, t);
    if (rc == 0) {
        int r = store_cert_get(t, peer_id, p->peer_cert, NULL, NULL);
        p->peer_known = r == TV_OK;
        if (r && r != TV_ENOTFOUND) rc = r;
        if (p->peer_known) rc = lineage_load(t, p->peer_cert, &p->peer_lin);
    }
    if (rc == 0) rc = store_vv_get(t, &p->announced);
    if (rc == 0) rc = partition_filter(p, t, &p->announced);
    msgb m;
    if (rc == 0) {
        msg_begin(&m, M_HELLO, 4);
        msgpack_pack_uint32(&m.pk, SYNC_PROTOCOL_VERSION);
        pack_id(&m.pk, cfg->self->pk);
        msgpack_pack_bin_with_body(&m.pk, cfg->epoch, SYNC_EPOCH_BYTES);
        rc = pack_chain(p, t, &m.pk);
        if (rc == 0)
            rc = msg_end(p, &m);
        else
            msgpack_sbuffer_destroy(&m.sb);
    }
    if (t) store_read_end(t);
    if (rc == 0) rc = send_vv(p, &p->sent_vv, &p->announced);
    if (rc) {
        sync_peer_free(p);
        return rc;
    }
    *out = p;
    return TV_OK;
}

void sync_peer_free(sync_peer *p)
{
    if (!p) return;
    for (size_t i = 0; i < p->q_len; i++)
        free(p->q[(p->q_head + i) % p->q_cap].buf);
    free(p->q);
    for (size_t i = 0; i < p->pend_len; i++)
        free(p->pend[i].buf);
    free(p->sv);
    free(p->fl);
    free(p->wn);
    free(p->wn_idx.slot);
    free(p->sv_idx.slot);
    crdt_vv_release(&p->incoming);
    crdt_vv_release(&p->peer_vv);
    crdt_vv_release(&p->sent_vv);
    crdt_vv_release(&p->announced);
    crdt_vv_release(&p->judged);
    free(p->my_cert);
    free(p->peer_cert);
    free(p);
}

typedef struct hello_ctx {
    const msgpack_object *chain;
    int bad; /* a certificate of the chain did not verify */
} hello_ctx;

static int install_chain_fn(store_txn *t, void *arg)
{
    hello_ctx *c = arg;
    for (uint32_t i = 0; i < c->chain->via.array.size; i++) {
        const uint8_t *raw;
        size_t len;
        if (crdt_mp_bin(&c->chain->via.array.ptr[i], CRDT_CERT_BYTES_MAX, &raw, &len)) {
            c->bad = TV_EDECODE;
            continue;
        }
        int rc = store_cert_install(t, raw, len);
        if (is_fatal_store(rc)) return rc;
        if (rc && !c->bad) c->bad = rc;
    }
    return TV_OK;
}

static int on_hello(sync_peer *p, const msgpack_object *a, uint32_t n)
{
    uint64_t version;
    const uint8_t *id, *epoch;
    if (n < 5 || crdt_mp_u64(&a[1], &version)) return fail(p, TV_EDECODE, "bad HELLO");
    if (version != SYNC_PROTOCOL_VERSION)
        return fail(p, TV_EVERSION, "unsupported protocol version");
    if (crdt_mp_bin_n(&a[2], TV_NODE_ID_BYTES, &id) ||
        crdt_mp_bin_n(&a[3], SYNC_EPOCH_BYTES, &epoch) || a[4].type != MSGPACK_OBJECT_ARRAY ||
        a[4].via.array.size > CRDT_CERT_CHAIN_MAX)
        return fail(p, TV_EDECODE, "bad HELLO");
    if (memcmp(id, p->peer, TV_NODE_ID_BYTES) != 0)
        return fail(p, TV_EPERM, "HELLO names another node than the transport authenticated");
    hello_ctx hc = {.chain = &a[4]};
    int rc = store_write(p->cfg.st, install_chain_fn, &hc);
    if (rc) return rc;
    store_txn *t;
    if ((rc = store_read_begin(p->cfg.st, &t))) return rc;
    /* T7: the peer's whole chain, up to the root, held and unrevoked */
    int chain = store_chain_check(t, p->peer, STORE_TIME_ANY, NULL);
    rc = store_cert_get(t, p->peer, p->peer_cert, NULL, NULL);
    p->peer_known = rc == TV_OK;
    /* the chain just installed: the peer's issuers, up to the root */
    if (p->peer_known) rc = lineage_load(t, p->peer_cert, &p->peer_lin);
    store_read_end(t);
    if (rc && rc != TV_ENOTFOUND) return rc;
    if (chain == TV_EREVOKED)
        return fail(p, TV_EREVOKED, "your key, or a key above it, is revoked");
    if (chain == TV_EUNTRUSTED || rc == TV_ENOTFOUND)
        return fail(p, TV_EUNTRUSTED, "your certificate does not chain to our root");
    if (chain) return chain;
    /* a peer whose store epoch changed was restored from a copy: what we remember of it
     * no longer holds */
    if (!p->have_record || memcmp(epoch, p->peer_epoch, SYNC_EPOCH_BYTES) != 0) {
        p->peer_vv.len = 0;
        p->foreign = 0;
        p->peer_digest_ok = 0;
        memcpy(p->peer_epoch, epoch, SYNC_EPOCH_BYTES);
    }
    memcpy(p->expect_base, peer_digest(p), CRDT_VV_DIGEST_BYTES);
    p->hello_recv = 1;
    return TV_OK;
}

static int decode_entry(const msgpack_object *o, const uint8_t **origin, uint64_t *seq,
                        const uint8_t **hash)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != 3) return TV_EDECODE;
    const msgpack_object *e = o->via.array.ptr;
    if (crdt_mp_bin_n(&e[0], TV_NODE_ID_BYTES, origin) || crdt_mp_u64(&e[1], seq) || *seq == 0 ||
        crdt_mp_bin_n(&e[2], TV_HASH_BYTES, hash))
        return TV_EDECODE;
    return TV_OK;
}

/* --- wanting ---------------------------------------------------------------------- */

static int send_done(sync_peer *p);

/* Certificates and revocations held: what decides which origins a node may hold. */
/* Grows when what an untrusted or parked batch waits for may have arrived: certificates,
 * revocations, or parked batches let through (which move their origin's frontier). */
static uint64_t trust_events(const store_counts *c)
{
    return c->by_type[CRDT_EV_CERT] + c->by_type[CRDT_EV_REVOKE] + c->parks_released;
}

/* A new want of origin, empty, into *w. */
static int want_add(sync_peer *p, const uint8_t *origin, want **w)
{
    int rc = grow((void **)&p->wn, &p->wn_cap, p->wn_len + 1, sizeof *p->wn);
    if (rc) return rc;
    *w = &p->wn[p->wn_len++];
    memset(*w, 0, sizeof **w);
    memcpy((*w)->origin, origin, TV_NODE_ID_BYTES);
    if ((rc = oindex_add(p, &p->wn_idx, p->wn, sizeof *p->wn, p->wn_len))) p->wn_len--;
    return rc;
}

/* Asks for the wants p->wn[asked[0..n_asked)], from what we hold, in WANTs of at most
 * SYNC_WANT_CHUNK_MAX origins. */
static int send_wants(sync_peer *p, const size_t *asked, size_t n_asked)
{
    for (size_t i = 0; i < n_asked; i += SYNC_WANT_CHUNK_MAX) {
        size_t n = n_asked - i < SYNC_WANT_CHUNK_MAX ? n_asked - i : SYNC_WANT_CHUNK_MAX;
        msgb m;
        msg_begin(&m, M_WANT, 2);
        msgpack_pack_uint32(&m.pk, p->cfg.window_bytes);
        msgpack_pack_array(&m.pk, (uint32_t)n);
        for (size_t k = i; k < i + n; k++) {
            msgpack_pack_array(&m.pk, 2);
            pack_id(&m.pk, p->wn[asked[k]].origin);
            msgpack_pack_uint64(&m.pk, p->wn[asked[k]].from);
        }
        int rc = msg_end(p, &m);
        if (rc) return rc;
        p->done_sent = 0;
    }
    return TV_OK;
}

/* Works out which origins we lack and should hold, and asks for them: of the peer's whole
 * vector (only == NULL), or only of the n origins in `only` (what a HAVE announced, when
 * nothing else can have changed). Each origin costs a frontier read, a certificate read
 * and a hash lookup in the want list. */
static int compute_wants(sync_peer *p, const crdt_vv_entry *only, size_t n_only)
{
    store_txn *t;
    int rc = store_read_begin(p->cfg.st, &t);
    if (rc) return rc;
    store_counts counts;
    size_t *asked = NULL, n_asked = 0;
    size_t n_all = only ? n_only : p->peer_vv.len;
    if ((rc = store_counts_get(t, &counts))) goto done;
    if (n_all && !(asked = malloc(n_all * sizeof *asked))) {
        rc = TV_ENOMEM;
        goto done;
    }
    p->trust_seen = trust_events(&counts);
    int peer_is_below =
        crdt_cert_covers(p->my_cert, p->peer_cert->unit, strlen(p->peer_cert->unit)) &&
        p->peer_cert->role < p->my_cert->role;
    for (size_t i = 0; i < n_all; i++) {
        const crdt_vv_entry *e =
            only ? crdt_vv_get(&p->peer_vv, only[i].origin) : &p->peer_vv.entries[i];
        if (!e) continue;
        store_frontier f;
        rc = store_frontier_get(t, e->origin, &f);
        if (rc && rc != TV_ENOTFOUND) goto done;
        rc = 0;
        uint64_t have = f.seq;
        /* the same seq with another hash: the peer holds a different log of this origin.
         * Ask for its last batch, which our store will keep as evidence of the fork. (A
         * peer further behind on a diverged log finds out itself, from the chain.) */
        int diverged = have && e->seq == have && memcmp(e->hash, f.hash, TV_HASH_BYTES) != 0;
        if (e->seq <= have && !diverged) continue;
        int h = holds(t, p->my_cert, p->cfg.self->pk, &p->my_lin, e->origin, NULL);
        if (h < -1) {
            rc = h;
            goto done;
        }
        /* an origin not yet certified to us is worth asking a peer below us for: its
         * issuer's log, which carries the certificate, comes first */
        if (h == 0 || (h == -1 && !peer_is_below)) continue;
        want *w = want_find(p, e->origin);
        if (w) {
            int retry = (w->refused == TV_EUNTRUSTED || w->refused == TV_EPARKED) &&
                        trust_events(&counts) > w->refused_at_certs;
            if (w->refused && !retry) continue;
            if (!w->refused && w->target >= e->seq) continue; /* already asked */
            w->refused = 0;
        } else if ((rc = want_add(p, e->origin, &w))) {
            goto done;
        }
        /* a diverged origin's want cannot be met: the refusal of the batch settles it */
        w->target = diverged ? have + 1 : e->seq;
        w->from = diverged ? have : have + 1;
        asked[n_asked++] = (size_t)(w - p->wn); /* once: its target is now e->seq */
    }
    rc = send_wants(p, asked, n_asked);
done:
    free(asked);
    store_read_end(t);
    if (rc == 0 && p->st.state == SYNC_HANDSHAKE && p->vv_known) p->st.state = SYNC_TRANSFER;
    if (rc == 0) rc = send_done(p);
    return rc;
}

/* Says DONE when every origin we asked for is held up to what the peer had, or refused. */
static int send_done(sync_peer *p)
{
    if (!p->vv_known || p->done_sent || p->pend_len) return TV_OK;
    store_txn *t;
    int rc = store_read_begin(p->cfg.st, &t);
    if (rc) return rc;
    int complete = 1, waiting = 0;
    uint64_t behind = 0;
    for (size_t i = 0; i < p->wn_len && !waiting; i++) {
        store_frontier f;
        rc = store_frontier_get(t, p->wn[i].origin, &f);
        if (rc && rc != TV_ENOTFOUND) break;
        rc = 0;
        if (f.seq >= p->wn[i].target) continue;
        behind += p->wn[i].target - f.seq;
        if (p->wn[i].refused)
            complete = 0;
        else
            waiting = 1;
    }
    store_read_end(t);
    p->st.me_behind = behind;
    if (rc || waiting) return rc;
    msgb m;
    msg_begin(&m, M_DONE, 2);
    msgpack_pack_uint8(&m.pk, (uint8_t)complete);
    msgpack_pack_bin_with_body(&m.pk, peer_digest(p), CRDT_VV_DIGEST_BYTES);
    if ((rc = msg_end(p, &m))) return rc;
    p->done_sent = 1;
    p->done_complete = complete;
    if (p->peer_done && p->st.state != SYNC_CLOSED) {
        p->st.state = SYNC_IN_STEP;
        p->st.in_step_ms = p->st.last_recv_ms;
    }
    return TV_OK;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* --- serving ---------------------------------------------------------------------- */

/* Refuses a WANT of origin from seq `from`: not the peer's to hold (TV_EPERM). */
static int refuse_want(sync_peer *p, const uint8_t *origin, uint64_t from)
{
    msgb m;
    msg_begin(&m, M_REFUSE, 4);
    pack_id(&m.pk, origin);
    msgpack_pack_uint64(&m.pk, from);
    msgpack_pack_int32(&m.pk, TV_EPERM);
    msgpack_pack_uint64(&m.pk, from - 1);
    return msg_end(p, &m);
}

/* A new origin to serve, empty, into *s. */
static int serve_add(sync_peer *p, const uint8_t *origin, serve **s)
{
    int rc = grow((void **)&p->sv, &p->sv_cap, p->sv_len + 1, sizeof *p->sv);
    if (rc) return rc;
    *s = &p->sv[p->sv_len++];
    memset(*s, 0, sizeof **s);
    memcpy((*s)->origin, origin, TV_NODE_ID_BYTES);
    if ((rc = oindex_add(p, &p->sv_idx, p->sv, sizeof *p->sv, p->sv_len))) p->sv_len--;
    return rc;
}

static int on_want(sync_peer *p, const msgpack_object *a, uint32_t n)
{
    uint64_t window;
    if (n < 3 || crdt_mp_u64(&a[1], &window) || a[2].type != MSGPACK_OBJECT_ARRAY)
        return fail(p, TV_EDECODE, "bad WANT");
    if (a[2].via.array.size > SYNC_WANT_CHUNK_MAX)
        return fail(p, TV_ELIMIT, "WANT names more than 2048 origins");
    p->peer_window = window < CRDT_BATCH_BYTES_MAX ? CRDT_BATCH_BYTES_MAX
                     : window > (64u << 20)        ? (64u << 20)
                                                   : (uint32_t)window;
    TV_ASSERT(p->peer_window >= CRDT_BATCH_BYTES_MAX && p->peer_window <= (64u << 20));
    store_txn *t;
    int rc = store_read_begin(p->cfg.st, &t);
    if (rc) return rc;
    for (uint32_t i = 0; i < a[2].via.array.size && rc == 0; i++) {
        const msgpack_object *e = &a[2].via.array.ptr[i];
        const uint8_t *origin;
        uint64_t from;
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
            crdt_mp_bin_n(&e->via.array.ptr[0], TV_NODE_ID_BYTES, &origin) ||
            crdt_mp_u64(&e->via.array.ptr[1], &from) || from == 0) {
            rc = fail(p, TV_EDECODE, "bad WANT entry");
            break;
        }
        uint32_t rank;
        int h = holds(t, p->peer_cert, p->peer, &p->peer_lin, origin, &rank);
        if (h < -1) {
            rc = h;
            break;
        }
        if (h != 1) { /* not the peer's to hold: say so, so it stops waiting */
            rc = refuse_want(p, origin, from);
            continue;
        }
        serve *s = serve_find(p, origin);
        if (!s && (rc = serve_add(p, origin, &s))) break;
        s->next_seq = from;
        s->acked_seq = from - 1;
        s->rank = rank;
    }
    store_read_end(t);
    /* ancestors' logs first (province, then district, then communes): a stable sort by
     * rank (a handful of values), counted, then the index follows the moves */
    int moved = 0;
    for (size_t i = 1; i < p->sv_len && !moved; i++)
        moved = p->sv[i - 1].rank > p->sv[i].rank;
    if (moved) {
        serve *sorted = malloc(p->sv_len * sizeof *sorted);
        uint64_t *key = malloc(p->sv_len * sizeof *key);
        if (!sorted || !key) {
            free(sorted);
            free(key);
            return rc ? rc : TV_ENOMEM;
        }
        for (size_t i = 0; i < p->sv_len; i++)
            key[i] = (uint64_t)p->sv[i].rank << 32 | i; /* the place breaks ties: stable */
        qsort(key, p->sv_len, sizeof *key, u64_cmp);
        for (size_t i = 0; i < p->sv_len; i++)
            sorted[i] = p->sv[(uint32_t)key[i]];
        memcpy(p->sv, sorted, p->sv_len * sizeof *sorted);
        free(sorted);
        free(key);
        int r2 = oindex_rebuild(p, &p->sv_idx, p->sv, sizeof *p->sv, p->sv_len);
        if (!rc) rc = r2;
    }
    p->sv_pos = 0;
    if (p->st.state == SYNC_IN_STEP) p->st.state = SYNC_TRANSFER;
    return rc;
}

/* Drops in-flight entries of origin up to seq. */
static void inflight_ack(sync_peer *p, const uint8_t *origin, uint64_t seq)
{
    size_t w = 0;
    for (size_t i = 0; i < p->fl_len; i++) {
        if (memcmp(p->fl[i].origin, origin, TV_NODE_ID_BYTES) == 0 && p->fl[i].last_seq <= seq) {
            TV_ASSERT(p->fl_bytes >= p->fl[i].bytes); /* the window counts what is in flight */
            p->fl_bytes -= p->fl[i].bytes;
            continue;
        }
        p->fl[w++] = p->fl[i];
    }
    p->fl_len = w;
    TV_ASSERT(p->fl_len > 0 || p->fl_bytes == 0);
}

static int on_ack(sync_peer *p, const msgpack_object *a, uint32_t n)
{
    if (n < 2 || a[1].type != MSGPACK_OBJECT_ARRAY) return fail(p, TV_EDECODE, "bad ACK");
    for (uint32_t i = 0; i < a[1].via.array.size; i++) {
        const msgpack_object *e = &a[1].via.array.ptr[i];
        const uint8_t *origin;
        uint64_t seq;
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size != 2 ||
            crdt_mp_bin_n(&e->via.array.ptr[0], TV_NODE_ID_BYTES, &origin) ||
            crdt_mp_u64(&e->via.array.ptr[1], &seq))
            return fail(p, TV_EDECODE, "bad ACK entry");
        serve *s = serve_find(p, origin);
        if (s && seq > s->acked_seq) s->acked_seq = seq;
        inflight_ack(p, origin, seq);
    }
    p->last_ack_ms = p->st.last_recv_ms;
    return TV_OK;
}

static int on_refuse(sync_peer *p, const msgpack_object *a, uint32_t n)
{
    const uint8_t *origin;
    uint64_t seq, held;
    int64_t code;
    if (n < 5 || crdt_mp_bin_n(&a[1], TV_NODE_ID_BYTES, &origin) || crdt_mp_u64(&a[2], &seq) ||
        crdt_mp_i64(&a[3], &code) || crdt_mp_u64(&a[4], &held))
        return fail(p, TV_EDECODE, "bad REFUSE");
    serve *s = serve_find(p, origin);
    if (code == TV_EGAP && s) {
        /* it lacks an earlier batch (lost on the way): go back to what it holds, once for
         * all the refusals of the same burst */
        if (s->rewound != held + 1) {
            inflight_ack(p, origin, UINT64_MAX);
            if (held > s->acked_seq) s->acked_seq = held;
            s->next_seq = held + 1;
            s->rewound = held + 1;
            p->sv_pos = 0;
            p->st.resends++;
        }
        return TV_OK;
    }
    want *w = want_find(p, origin);
    if (w && !s) { /* the peer refuses to serve us this origin */
        w->refused = (int)code;
        note_refusal(p, origin, seq, (int)code, NULL, 0);
        return send_done(p);
    }
    p->st.refused_out++;
    note_refusal(p, origin, seq, (int)code, NULL, 0);
    if (s) { /* the peer refuses our batches of this origin: stop serving it */
        inflight_ack(p, origin, UINT64_MAX);
        *s = p->sv[--p->sv_len];
        return oindex_rebuild(p, &p->sv_idx, p->sv, sizeof *p->sv, p->sv_len);
    }
    return TV_OK;
}

/* Produces the next BATCH, if the window and the store allow. */
static int next_batch(sync_peer *p, uint8_t *out, size_t cap, size_t *len, int64_t now)
{
    /* (served to the end of the list: nothing to read, as a driver asks every turn) */
    if (p->sv_pos >= p->sv_len || p->st.state == SYNC_CLOSED || p->st.state == SYNC_DEAD)
        return TV_OK;
    store_txn *t;
    int rc = store_read_begin(p->cfg.st, &t);
    if (rc) return rc;
    while (p->sv_pos < p->sv_len) {
        serve *s = &p->sv[p->sv_pos];
        const uint8_t *buf;
        size_t blen;
        rc = store_batch_at(t, s->origin, s->next_seq, &buf, &blen);
        if (rc == TV_ENOTFOUND) { /* served all we have of it */
            rc = 0;
            p->sv_pos++;
            continue;
        }
        if (rc) break;
        if (p->fl_len && p->fl_bytes + blen > p->peer_window) break; /* window full */
        crdt_batch b;
        if (crdt_batch_peek(&b, buf, blen)) { /* verified when it was stored */
            rc = TV_ECORRUPT;
            break;
        }
        /* BATCH: fixarray(2), type, bin32 header + bytes: written by hand to avoid a copy */
        size_t need = 1 + 1 + 5 + blen;
        if (need > cap) {
            rc = TV_ELIMIT;
            break;
        }
        out[0] = 0x92;
        out[1] = M_BATCH;
        out[2] = 0xc6;
        out[3] = (uint8_t)(blen >> 24);
        out[4] = (uint8_t)(blen >> 16);
        out[5] = (uint8_t)(blen >> 8);
        out[6] = (uint8_t)blen;
        memcpy(out + 7, buf, blen);
        *len = need;
        uint64_t last = b.h.first_seq + b.h.count - 1;
        /* the batch holds the seq asked for (or starts the log again after it) */
        TV_ASSERT(b.h.count > 0 && last >= s->next_seq);
        if ((rc = grow((void **)&p->fl, &p->fl_cap, p->fl_len + 1, sizeof *p->fl))) break;
        inflight *f = &p->fl[p->fl_len++];
        memcpy(f->origin, s->origin, TV_NODE_ID_BYTES);
        f->last_seq = last;
        f->bytes = blen;
        f->sent_ms = now;
        p->fl_bytes += blen;
        /* the window is exceeded only by a single batch larger than it */
        TV_ASSERT(p->fl_len == 1 || p->fl_bytes <= p->peer_window);
        s->next_seq = last + 1;
        p->st.batches_out++;
        p->st.events_out += b.h.count;
        break;
    }
    store_read_end(t);
    return rc;
}

/* --- receiving -------------------------------------------------------------------- */

typedef struct flush_ctx {
    sync_peer *p;
    int rc[SYNC_PENDING_MAX];
    store_apply_result r[SYNC_PENDING_MAX];
    int64_t now;
} flush_ctx;

static int flush_fn(store_txn *t, void *arg)
{
    flush_ctx *c = arg;
    for (size_t i = 0; i < c->p->pend_len; i++) {
        const uint8_t *buf = c->p->pend[i].buf;
        size_t len = c->p->pend[i].len;
        /* a batch of a log this node should not hold is refused, asked for or not (§6.5):
         * a peer cannot push what the partition keeps out */
        crdt_batch b;
        memset(&c->r[i], 0, sizeof c->r[i]);
        if (crdt_batch_peek(&b, buf, len) == 0) {
            int h = holds(t, c->p->my_cert, c->p->cfg.self->pk, &c->p->my_lin, b.h.origin, NULL);
            if (h < -1) return h;
            if (h == 0 && crdt_batch_open(&b, buf, len) == 0) {
                c->r[i].header = b.h;
                c->rc[i] = TV_EPERM;
                continue;
            }
        }
        c->rc[i] = store_apply_batch(t, buf, len, c->now, &c->r[i]);
        if (is_fatal_store(c->rc[i])) return c->rc[i];
    }
    return TV_OK;
}

/* Whether certificates or revocations arrived since the wants were last worked out. */
static int trust_moved(sync_peer *p, int *rc)
{
    store_txn *t;
    store_counts c;
    if ((*rc = store_read_begin(p->cfg.st, &t))) return 0;
    *rc = store_counts_get(t, &c);
    store_read_end(t);
    return *rc == 0 && trust_events(&c) != p->trust_seen;
}

/* Packs into m (an ACK) one entry per origin: the last seq of its batches applied in this
 * group. Returns how many. */
static uint32_t pack_acks(const sync_peer *p, const flush_ctx *c, msgb *m)
{
    size_t last_of[SYNC_PENDING_MAX];
    uint32_t acks = 0;
    for (size_t i = 0; i < p->pend_len; i++) {
        if (c->rc[i] != 0) continue;
        const crdt_batch_header *h = &c->r[i].header;
        size_t k = 0;
        while (k < acks && memcmp(c->r[last_of[k]].header.origin, h->origin, TV_NODE_ID_BYTES) != 0)
            k++;
        if (k == acks)
            last_of[acks++] = i;
        else if (h->first_seq > c->r[last_of[k]].header.first_seq)
            last_of[k] = i;
    }
    msgpack_pack_array(&m->pk, acks);
    for (uint32_t k = 0; k < acks; k++) {
        const crdt_batch_header *h = &c->r[last_of[k]].header;
        msgpack_pack_array(&m->pk, 2);
        pack_id(&m->pk, h->origin);
        msgpack_pack_uint64(&m->pk, h->first_seq + h->count - 1);
    }
    return acks;
}

/* Counts what the group applied, and refuses what was refused: a REFUSE naming our
 * frontier of the origin, and the want marked refused (but after a gap, which the sender
 * fills). */
static void refuse_batches(sync_peer *p, const flush_ctx *c)
{
    store_txn *t = NULL;
    for (size_t i = 0; i < p->pend_len; i++) {
        const crdt_batch_header *h = &c->r[i].header;
        if (c->rc[i] == 0) {
            if (c->r[i].duplicate) p->st.duplicates_in++;
            p->st.events_in += c->r[i].applied;
            if (h->hlc_max > p->st.max_hlc_in) p->st.max_hlc_in = h->hlc_max;
            continue;
        }
        /* a batch we could not even read has no origin to name; the sender will
         * resend it after the timeout, and count it as refused */
        p->st.refused_in++;
        if (c->rc[i] == TV_EDECODE || c->rc[i] == TV_ESIG || c->rc[i] == TV_EHASH ||
            c->rc[i] == TV_ELIMIT || c->rc[i] == TV_EVERSION) {
            static const uint8_t none[TV_NODE_ID_BYTES];
            note_refusal(p, none, 0, c->rc[i], NULL, 1);
            continue;
        }
        note_refusal(p, h->origin, h->first_seq, c->rc[i], c->r[i].rule, 1);
        store_frontier f = {0};
        if (!t && store_read_begin(p->cfg.st, &t)) t = NULL;
        if (t) (void)store_frontier_get(t, h->origin, &f);
        msgb r;
        msg_begin(&r, M_REFUSE, 4);
        pack_id(&r.pk, h->origin);
        msgpack_pack_uint64(&r.pk, h->first_seq);
        msgpack_pack_int32(&r.pk, c->rc[i]);
        msgpack_pack_uint64(&r.pk, f.seq);
        (void)msg_end(p, &r);
        if (c->rc[i] != TV_EGAP) {
            want *w = want_find(p, h->origin);
            if (w) {
                w->refused = c->rc[i];
                store_counts cnt;
                if (t && store_counts_get(t, &cnt) == 0) w->refused_at_certs = trust_events(&cnt);
            }
        }
    }
    if (t) store_read_end(t);
}

int sync_peer_flush(sync_peer *p, int64_t now)
{
    if (p->pend_len == 0) return TV_OK;
    flush_ctx *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    c->p = p;
    c->now = now;
    int rc = store_write(p->cfg.st, flush_fn, c);
    if (rc == 0) {
        /* acknowledge per origin; refuse what was refused */
        msgb m;
        msg_begin(&m, M_ACK, 1);
        uint32_t acks = pack_acks(p, c, &m);
        refuse_batches(p, c);
        rc = acks ? msg_end(p, &m) : (msgpack_sbuffer_destroy(&m.sb), TV_OK);
        for (size_t i = 0; i < p->pend_len; i++)
            free(p->pend[i].buf);
        p->pend_len = 0;
        /* new certificates (from this peer or any other) may make more origins ours, or
         * let refused ones in; otherwise the wants stand and only DONE may be due. Working
         * them out reads the whole vector, which at a province is every commune's entry. */
        if (rc == 0 && p->vv_known) {
            int moved = trust_moved(p, &rc);
            if (rc == 0) rc = moved ? compute_wants(p, NULL, 0) : send_done(p);
        }
    }
    free(c);
    return rc;
}

static int on_batch(sync_peer *p, const msgpack_object *a, uint32_t n, int64_t now)
{
    const uint8_t *buf;
    size_t len;
    if (n < 2 || crdt_mp_bin(&a[1], CRDT_BATCH_BYTES_MAX, &buf, &len))
        return fail(p, TV_EDECODE, "bad BATCH");
    if (p->pend_len == SYNC_PENDING_MAX) {
        int rc = sync_peer_flush(p, now);
        if (rc) return rc;
    }
    uint8_t *copy = malloc(len);
    if (!copy) return TV_ENOMEM;
    memcpy(copy, buf, len);
    p->pend[p->pend_len++] = (pending){copy, len};
    p->st.batches_in++;
    return TV_OK;
}

static int entry_cmp(const void *a, const void *b)
{
    const crdt_vv_entry *x = a, *y = b;
    int cmp = memcmp(x->origin, y->origin, TV_NODE_ID_BYTES);
    if (cmp) return cmp;
    return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* Takes the entries of a VV (set = 1: none may go backwards) or HAVE message into `into`,
 * in one sort and one merge. Every origin new to `into` is judged against the peer's
 * partition; past SYNC_PEER_FOREIGN_MAX origins outside it or not certified to us
 * (*foreign counts them), the session ends. On success *out holds the message's origins,
 * sorted, one each (the caller frees it), and *n_out their number. */
static int take_entries(sync_peer *p, const msgpack_object *arr, crdt_vv *into, uint32_t *foreign,
                        int set, crdt_vv_entry **out, size_t *n_out)
{
    const char *bad = set ? "bad VV entry" : "bad HAVE entry";
    *out = NULL;
    *n_out = 0;
    size_t n = arr->via.array.size;
    if (n > SYNC_VV_CHUNK_MAX)
        return fail(p, TV_ELIMIT,
                    set ? "VV has more than 2048 entries" : "HAVE has more than 2048 entries");
    if (n == 0) return TV_OK;
    crdt_vv_entry *e = malloc(n * sizeof *e);
    if (!e) return TV_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *origin, *hash;
        if (decode_entry(&arr->via.array.ptr[i], &origin, &e[i].seq, &hash)) {
            free(e);
            return fail(p, TV_EDECODE, bad);
        }
        memcpy(e[i].origin, origin, TV_NODE_ID_BYTES);
        memcpy(e[i].hash, hash, TV_HASH_BYTES);
    }
    qsort(e, n, sizeof *e, entry_cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || memcmp(e[k - 1].origin, e[i].origin, TV_NODE_ID_BYTES) != 0) e[k++] = e[i];
    store_txn *t = NULL;
    int rc = store_read_begin(p->cfg.st, &t);
    int opened = rc == 0;
    for (size_t i = 0; rc == 0 && i < k; i++) {
        const crdt_vv_entry *cur = crdt_vv_get(into, e[i].origin);
        /* set, not raise: a delta replaces the entry */
        if (set && cur && cur->seq > e[i].seq) {
            rc = fail(p, TV_EDECODE, "VV entry goes backwards");
            break;
        }
        if (cur) continue;
        int h = holds(t, p->peer_cert, p->peer, &p->peer_lin, e[i].origin, NULL);
        if (h < -1) {
            rc = h;
            break;
        }
        if (h != 1 && ++*foreign > SYNC_PEER_FOREIGN_MAX)
            rc = fail(p, TV_ELIMIT, SYNC_FOREIGN_TEXT);
    }
    if (opened) store_read_end(t);
    if (rc == 0) {
        /* advance_all sorts its input: a copy keeps the sorted list for the caller */
        crdt_vv_entry *c = malloc(k * sizeof *c);
        if (!c) rc = TV_ENOMEM;
        if (c) {
            memcpy(c, e, k * sizeof *c);
            rc = crdt_vv_advance_all(into, c, k);
            free(c);
            if (rc == TV_ELIMIT) rc = fail(p, rc, "version vector too large");
        }
    }
    if (rc) {
        free(e);
        return rc;
    }
    *out = e;
    *n_out = k;
    return TV_OK;
}

static int on_vv(sync_peer *p, enum msg_type type, const msgpack_object *a, uint32_t n)
{
    if (!p->hello_recv) return fail(p, TV_EDECODE, "version vector before HELLO");
    if (type == M_VV_BEGIN) {
        const uint8_t *base;
        if (n < 2 || crdt_mp_bin_n(&a[1], CRDT_VV_DIGEST_BYTES, &base))
            return fail(p, TV_EDECODE, "bad VV_BEGIN");
        uint8_t empty_digest[CRDT_VV_DIGEST_BYTES];
        crdt_vv none = {0};
        crdt_vv_digest(&none, empty_digest);
        int full = memcmp(base, empty_digest, CRDT_VV_DIGEST_BYTES) == 0;
        /* a full vector needs no base; a delta applies to what we remember of the peer */
        p->incoming_ok = full || memcmp(base, p->expect_base, CRDT_VV_DIGEST_BYTES) == 0;
        int rc = 0;
        if (p->incoming_ok) {
            p->incoming.len = 0;
            p->in_foreign = 0;
            if (!full && !p->full_requested) {
                rc = crdt_vv_merge(&p->incoming, &p->peer_vv);
                p->in_foreign = p->foreign;
            }
        } else if (!p->full_requested) {
            /* it sent a delta against a vector we do not have: ask for all of it */
            p->full_requested = 1;
            crdt_vv empty = {0};
            crdt_vv_digest(&empty, p->expect_base);
            msgb m;
            msg_begin(&m, M_NEED_FULL, 0);
            rc = msg_end(p, &m);
        }
        return rc;
    }
    if (!p->incoming_ok) return TV_OK; /* a stream on the wrong base: ignored */
    if (type == M_VV) {
        if (n < 2 || a[1].type != MSGPACK_OBJECT_ARRAY) return fail(p, TV_EDECODE, "bad VV");
        crdt_vv_entry *e;
        size_t k;
        int rc = take_entries(p, &a[1], &p->incoming, &p->in_foreign, 1, &e, &k);
        free(e);
        return rc;
    }
    const uint8_t *digest;
    if (n < 2 || crdt_mp_bin_n(&a[1], CRDT_VV_DIGEST_BYTES, &digest))
        return fail(p, TV_EDECODE, "bad VV_END");
    uint8_t d[CRDT_VV_DIGEST_BYTES];
    crdt_vv_digest(&p->incoming, d);
    p->incoming_ok = 0;
    if (memcmp(d, digest, sizeof d) != 0) {
        if (p->full_requested) return fail(p, TV_EDECODE, "version vector digest mismatch");
        p->full_requested = 1;
        crdt_vv empty = {0};
        crdt_vv_digest(&empty, p->expect_base);
        msgb m;
        msg_begin(&m, M_NEED_FULL, 0);
        return msg_end(p, &m);
    }
    p->peer_vv.len = 0;
    p->peer_digest_ok = 0;
    int rc = crdt_vv_merge(&p->peer_vv, &p->incoming);
    if (rc) return rc;
    p->foreign = p->in_foreign;
    p->vv_known = 1;
    p->full_requested = 0;
    p->done_sent = 0; /* DONE again, with the digest of the vector as now rebuilt */
    if ((rc = record_save(p))) return rc;
    return compute_wants(p, NULL, 0);
}

static int on_have(sync_peer *p, const msgpack_object *a, uint32_t n)
{
    if (n < 2 || a[1].type != MSGPACK_OBJECT_ARRAY) return fail(p, TV_EDECODE, "bad HAVE");
    crdt_vv_entry *e;
    size_t k;
    int rc = take_entries(p, &a[1], &p->peer_vv, &p->foreign, 0, &e, &k);
    if (rc) return rc;
    p->peer_digest_ok = 0;
    /* we may want some of it: work it out, and say DONE again once we hold it (the peer
     * waits for that after every HAVE). Only the origins announced need looking at,
     * unless certificates or revocations arrived since the wants were last worked out. */
    p->done_sent = 0;
    if (p->st.state == SYNC_IN_STEP) p->st.state = SYNC_TRANSFER;
    if (p->vv_known) {
        int moved = trust_moved(p, &rc);
        if (rc == 0) rc = moved ? compute_wants(p, NULL, 0) : compute_wants(p, e, k);
    }
    free(e);
    return rc;
}

static int on_done(sync_peer *p, const msgpack_object *a, uint32_t n)
{
    uint64_t complete;
    const uint8_t *digest;
    if (n < 3 || crdt_mp_u64(&a[1], &complete) ||
        crdt_mp_bin_n(&a[2], CRDT_VV_DIGEST_BYTES, &digest))
        return fail(p, TV_EDECODE, "bad DONE");
    p->peer_done = 1;
    p->peer_complete = complete == 1;
    /* the peer now knows our vector as announced: remember that for the next delta */
    if (memcmp(announced_digest(p), digest, CRDT_VV_DIGEST_BYTES) != 0 && p->vv_known) {
        /* the peer's copy of our vector is not what we announced: an announcement is on
         * its way, or was lost. Not in step yet; if no matching DONE comes, the timer
         * announces the whole vector again */
        p->peer_done = 0;
        if (!p->have_ms) p->have_ms = p->st.last_recv_ms;
        return TV_OK;
    }
    if (memcmp(announced_digest(p), digest, CRDT_VV_DIGEST_BYTES) == 0) {
        p->have_ms = 0;
        p->sent_vv.len = 0;
        int rc = crdt_vv_merge(&p->sent_vv, &p->announced);
        if (rc == 0) rc = record_save(p);
        if (rc) return rc;
    }
    if (p->done_sent && p->st.state != SYNC_CLOSED) {
        p->st.state = SYNC_IN_STEP;
        p->st.in_step_ms = p->st.last_recv_ms;
    }
    return TV_OK;
}

/* Hands a message (a: its n fields, a[0] its type) to its handler; a newer peer's message
 * type is ignored. */
static int recv_dispatch(sync_peer *p, uint64_t type, const msgpack_object *a, uint32_t n,
                         int64_t now)
{
    int rc = TV_OK;
    switch (type) {
    case M_HELLO:
        rc = on_hello(p, a, n);
        break;
    case M_VV_BEGIN:
    case M_VV:
    case M_VV_END:
        rc = on_vv(p, (enum msg_type)type, a, n);
        break;
    case M_NEED_FULL: {
        crdt_vv empty = {0};
        rc = send_vv(p, &empty, &p->announced);
        break;
    }
    case M_WANT:
        rc = on_want(p, a, n);
        break;
    case M_BATCH:
        rc = on_batch(p, a, n, now);
        break;
    case M_ACK:
        rc = on_ack(p, a, n);
        break;
    case M_REFUSE:
        rc = on_refuse(p, a, n);
        break;
    case M_DONE:
        rc = on_done(p, a, n);
        break;
    case M_HAVE:
        rc = on_have(p, a, n);
        break;
    case M_PING: {
        msgb m;
        msg_begin(&m, M_PONG, 0);
        rc = msg_end(p, &m);
        break;
    }
    case M_PONG:
        break;
    case M_BYE: {
        int64_t code = 0;
        if (n >= 2) (void)crdt_mp_i64(&a[1], &code);
        p->st.peer_error = (int)code;
        p->st.state = SYNC_CLOSED;
        break;
    }
    default:
        break; /* a newer peer's message: ignored */
    }
    return rc;
}

int sync_peer_recv(sync_peer *p, const uint8_t *msg, size_t len, int64_t now)
{
    if (p->st.state == SYNC_CLOSED) return TV_OK;
    p->st.bytes_in += len;
    p->st.msgs_in++;
    p->st.last_recv_ms = now;
    if (p->st.state == SYNC_DEAD) p->st.state = p->vv_known ? SYNC_TRANSFER : SYNC_HANDSHAKE;
    if (len > SYNC_MSG_BYTES_MAX) return fail(p, TV_ELIMIT, "message too large");
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int rc = crdt_mp_unpack_exact(&u, msg, len);
    if (rc) {
        msgpack_unpacked_destroy(&u);
        return rc == TV_ENOMEM ? rc : fail(p, TV_EDECODE, "malformed message");
    }
    const msgpack_object *o = &u.data;
    uint64_t type;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1 ||
        crdt_mp_u64(&o->via.array.ptr[0], &type)) {
        msgpack_unpacked_destroy(&u);
        return fail(p, TV_EDECODE, "malformed message");
    }
    const msgpack_object *a = o->via.array.ptr;
    uint32_t n = o->via.array.size;
    if (type != M_HELLO && type != M_BYE && type != M_PING && type != M_PONG && !p->hello_recv) {
        msgpack_unpacked_destroy(&u);
        return fail(p, TV_EDECODE, "expected HELLO first");
    }
    rc = recv_dispatch(p, type, a, n, now);
    msgpack_unpacked_destroy(&u);
    return rc;
}

int sync_peer_send(sync_peer *p, uint8_t *out, size_t cap, size_t *len, int64_t now)
{
    *len = 0;
    int rc = TV_OK;
    if (p->q_len) {
        outmsg m = p->q[p->q_head];
        if (m.len > cap) return TV_ELIMIT;
        memcpy(out, m.buf, m.len);
        *len = m.len;
        free(m.buf);
        p->q_head = (p->q_head + 1) % p->q_cap;
        p->q_len--;
    } else if (p->st.state != SYNC_CLOSED) {
        rc = next_batch(p, out, cap, len, now);
    }
    if (*len) {
        p->st.bytes_out += *len;
        p->st.msgs_out++;
        p->last_send_ms = now;
    }
    return rc;
}

/* Announces delta (entries of our vector the peer was not told of): keeps what the peer's
 * partition holds and it does not already have, and sends it as HAVE. */
static int announce(sync_peer *p, store_txn *t, crdt_vv *delta, int64_t now)
{
    int rc = partition_filter(p, t, delta);
    /* what the peer told us it holds needs no announcing (its own log coming back, for
     * one); leaving it out of `announced` too keeps the DONE digests in agreement */
    size_t keep = 0;
    for (size_t i = 0; rc == 0 && i < delta->len; i++) {
        const crdt_vv_entry *e = crdt_vv_get(&p->peer_vv, delta->entries[i].origin);
        if (e && e->seq >= delta->entries[i].seq) continue;
        delta->entries[keep++] = delta->entries[i];
    }
    delta->len = keep;
    for (size_t i = 0; rc == 0 && i < delta->len; i += SYNC_VV_CHUNK_MAX) {
        size_t n = delta->len - i < SYNC_VV_CHUNK_MAX ? delta->len - i : SYNC_VV_CHUNK_MAX;
        msgb m;
        msg_begin(&m, M_HAVE, 1);
        pack_entries(&m.pk, delta->entries + i, n);
        rc = msg_end(p, &m);
    }
    if (rc == 0 && delta->len) {
        rc = crdt_vv_merge(&p->announced, delta);
        p->announced_digest_ok = 0;
        p->have_ms = now;
        p->peer_done = 0; /* until the peer says DONE again, knowing this */
        /* the served origins may have grown: serve from the start of the list again */
        p->sv_pos = 0;
        if (p->st.state == SYNC_IN_STEP) p->st.state = SYNC_TRANSFER;
    }
    return rc;
}

int sync_peer_notify(sync_peer *p, int64_t now)
{
    if (p->st.state == SYNC_CLOSED) return TV_OK;
    store_txn *t;
    int rc = store_read_begin(p->cfg.st, &t);
    if (rc) return rc;
    crdt_vv mine, delta;
    crdt_vv_init(&mine);
    crdt_vv_init(&delta);
    if ((rc = store_vv_get(t, &mine)) == 0) rc = crdt_vv_delta(&delta, &mine, &p->announced);
    if (rc == 0) rc = announce(p, t, &delta, now);
    store_read_end(t);
    crdt_vv_release(&mine);
    crdt_vv_release(&delta);
    return rc;
}

int sync_peer_announce(sync_peer *p, const crdt_vv *changed, int64_t now)
{
    if (p->st.state == SYNC_CLOSED || changed->len == 0) return TV_OK;
    crdt_vv delta;
    crdt_vv_init(&delta);
    int rc = TV_OK;
    for (size_t i = 0; rc == 0 && i < changed->len; i++) {
        const crdt_vv_entry *c = &changed->entries[i];
        const crdt_vv_entry *a = crdt_vv_get(&p->announced, c->origin);
        if (!a || a->seq < c->seq) rc = crdt_vv_advance(&delta, c->origin, c->seq, c->hash);
    }
    if (rc == 0 && delta.len) {
        store_txn *t;
        if ((rc = store_read_begin(p->cfg.st, &t)) == 0) {
            rc = announce(p, t, &delta, now);
            store_read_end(t);
        }
    }
    crdt_vv_release(&delta);
    return rc;
}

int sync_store_changes(store *st, crdt_vv *last, crdt_vv *changed)
{
    crdt_vv mine;
    crdt_vv_init(&mine);
    store_txn *t;
    int rc = store_read_begin(st, &t);
    if (rc) return rc;
    rc = store_vv_get(t, &mine);
    store_read_end(t);
    if (rc == 0) rc = crdt_vv_delta(changed, &mine, last);
    if (rc == 0) {
        crdt_vv_release(last);
        *last = mine; /* takes the entries over */
    } else {
        crdt_vv_release(&mine);
    }
    return rc;
}

int64_t sync_peer_expiry(const sync_peer *p)
{
    if (p->st.state == SYNC_CLOSED || p->st.state == SYNC_DEAD) return INT64_MAX;
    int64_t e = p->st.last_recv_ms + SYNC_DEAD_MS;
    /* a PING only when nothing waits to be sent (what waits will show we are alive) */
    int64_t ping = p->last_send_ms + SYNC_PING_MS;
    if (p->q_len == 0 && ping < e) e = ping;
    if (p->fl_len) {
        int64_t r = p->last_ack_ms + SYNC_RESEND_MS;
        if (r < e) e = r;
    }
    /* (only once the handshake is over: before that, the tick has nothing to resend) */
    if (p->have_ms && p->vv_known && p->have_ms + SYNC_RESEND_MS < e)
        e = p->have_ms + SYNC_RESEND_MS;
    return e;
}

int sync_peer_tick(sync_peer *p, int64_t now)
{
    if (p->st.state == SYNC_CLOSED || p->st.state == SYNC_DEAD) return TV_OK;
    if (now - p->st.last_recv_ms >= SYNC_DEAD_MS) {
        p->st.state = SYNC_DEAD;
        return TV_OK;
    }
    if (p->fl_len && now - p->last_ack_ms >= SYNC_RESEND_MS) {
        /* nothing acknowledged for too long: messages were lost; start again from what the
         * peer acknowledged, reading the batches from the store */
        for (size_t i = 0; i < p->sv_len; i++)
            p->sv[i].next_seq = p->sv[i].acked_seq + 1;
        p->fl_len = 0;
        p->fl_bytes = 0;
        p->sv_pos = 0;
        p->last_ack_ms = now;
        p->st.resends++;
    }
    if (p->have_ms && p->vv_known && now - p->have_ms >= SYNC_RESEND_MS) {
        /* an announcement the peer never answered may have been lost: announce all again */
        crdt_vv empty = {0};
        p->have_ms = now;
        p->st.resends++;
        return send_vv(p, &empty, &p->announced);
    }
    if (now - p->last_send_ms >= SYNC_PING_MS && p->q_len == 0) {
        msgb m;
        msg_begin(&m, M_PING, 0);
        return msg_end(p, &m);
    }
    return TV_OK;
}

void sync_peer_close(sync_peer *p, int code)
{
    if (p->st.state == SYNC_CLOSED) return;
    (void)send_bye(p, code, code ? tv_strerror(code) : "goodbye");
    p->st.state = SYNC_CLOSED;
}

sync_state sync_peer_state(const sync_peer *p)
{
    return p->st.state;
}
const uint8_t *sync_peer_id(const sync_peer *p)
{
    return p->peer;
}
size_t sync_peer_pending(const sync_peer *p)
{
    return p->pend_len;
}

void sync_peer_stats(const sync_peer *p, sync_stats *out)
{
    *out = p->st;
    /* what the peer lacks of what it asked for, as far as our serving state knows */
    uint64_t behind = 0;
    store_txn *t;
    if (store_read_begin(p->cfg.st, &t) == 0) {
        for (size_t i = 0; i < p->sv_len; i++) {
            store_frontier f;
            if (store_frontier_get(t, p->sv[i].origin, &f) == 0 && f.seq > p->sv[i].acked_seq)
                behind += f.seq - p->sv[i].acked_seq;
        }
        store_read_end(t);
    }
    out->peer_behind = behind;
    out->complete = p->st.state == SYNC_IN_STEP && p->done_complete && p->peer_complete &&
                    p->st.refused_in == 0 && p->st.refused_out == 0;
}
