/* Loading a person's record and revealing their details, audited. */
#include "node/logic/reveal.h"
#include "crdt/error.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static void copy_text(char *out, size_t cap, crdt_text t)
{
    size_t n = t.n < cap - 1 ? t.n : cap - 1;
    if (n) memcpy(out, t.p, n);
    out[n] = '\0';
}

int tv_person_rec_load(tv_node *n, const uint8_t ref[TV_PERSON_REF_BYTES], tv_person_rec *r)
{
    store_txn *t;
    int rc = store_read_begin(n->st, &t);
    if (rc) return rc;
    store_person sp;
    rc = store_person_get(t, ref, &sp);
    if (rc == 0 && sp.raw_len > sizeof r->raw) rc = TV_ECORRUPT;
    if (rc == 0) {
        memcpy(r->raw, sp.raw, sp.raw_len);
        memcpy(r->origin, sp.origin, TV_NODE_ID_BYTES);
        r->hlc = sp.hlc;
    }
    store_read_end(t);
    if (rc) return rc;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    rc = crdt_event_decode(&ev, &u, r->raw, sp.raw_len);
    msgpack_unpacked_destroy(&u);
    if (rc == 0 && (!ev.known || ev.type != CRDT_EV_PERSON)) rc = TV_ECORRUPT;
    if (rc) return rc == TV_EDECODE ? TV_ECORRUPT : rc;
    r->p = ev.u.person;
    copy_text(r->name_masked, sizeof r->name_masked, r->p.name_masked);
    copy_text(r->id_masked, sizeof r->id_masked, r->p.id_masked);
    return TV_OK;
}

int tv_node_is_health(tv_node *n)
{
    store_txn *t;
    crdt_cert *c = malloc(sizeof *c);
    int out = 0;
    if (c && store_read_begin(n->st, &t) == 0) {
        out = store_cert_get(t, n->id.pk, c, NULL, NULL) == 0 && (c->flags & CRDT_CERT_F_HEALTH);
        store_read_end(t);
    }
    free(c);
    return out;
}

int tv_reveal_many(tv_node *n, const uint8_t *refs, size_t count, const char *reason, tv_details *d,
                   uint8_t *ok)
{
    if (!tv_node_is_health(n)) return TV_EPERM;
    tv_person_rec *r = malloc(sizeof *r);
    if (!r) return TV_ENOMEM;
    int rc = TV_OK;
    crdt_reveal x = {.reason = {reason, (uint32_t)strlen(reason)}};
    for (size_t i = 0; i < count && rc == 0; i++) {
        const uint8_t *ref = refs + i * TV_PERSON_REF_BYTES;
        ok[i] = 0;
        int lrc = tv_person_rec_load(n, ref, r);
        if (lrc == TV_ENOTFOUND) continue;
        if (lrc) {
            rc = lrc;
            break;
        }
        lrc = tv_unseal_details(&r->p, &n->id, &d[i]);
        if (lrc == TV_ENOTFOUND) continue; /* sealed to other health nodes */
        if (lrc) {
            rc = lrc;
            break;
        }
        memcpy(x.person, ref, TV_PERSON_REF_BYTES);
        rc = tv_node_add_reveal(n, &x, NULL);
        if (rc == TV_ELIMIT) { /* the pending group is full: commit it, go on */
            uint64_t seq;
            if ((rc = tv_node_commit(n, &seq)) == 0) rc = tv_node_add_reveal(n, &x, NULL);
        }
        ok[i] = rc == 0;
    }
    free(r);
    /* the audit first: nothing is shown unless every reveal is on disk */
    uint64_t seq;
    if (rc == 0 && tv_node_pending(n) && (rc = tv_node_commit(n, &seq)) != 0) tv_node_discard(n);
    if (rc) {
        tv_node_discard(n);
        sodium_memzero(d, count * sizeof *d);
        memset(ok, 0, count);
    }
    return rc;
}

void tv_details_json(tv_json *j, const tv_details *d)
{
    const char *keys[] = {"name", "cccd", "cmnd", "bhyt", "phone", "birth", "sex", "address"};
    const char *vals[] = {d->name,  d->cccd,  d->cmnd, d->bhyt,
                          d->phone, d->birth, d->sex,  d->address};
    tv_json_key(j, "details");
    tv_json_object_begin(j);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        tv_json_key(j, keys[i]);
        tv_json_string(j, vals[i]);
    }
    tv_json_object_end(j);
}

void tv_details_line(char *out, size_t cap, const tv_details *d)
{
    const char *labels[] = {"", "phone ", "CCCD ", "CMND ", "BHYT ", "born ", "address "};
    const char *vals[] = {d->name, d->phone, d->cccd, d->cmnd, d->bhyt, d->birth, d->address};
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof vals / sizeof vals[0] && len < cap; i++) {
        if (!vals[i][0]) continue;
        int w = snprintf(out + len, cap - len, "%s%s%s", len ? ", " : "", labels[i], vals[i]);
        if (w < 0) break;
        len += (size_t)w;
    }
}
