/* Recording people's scans (see record.h). */
#include "node/logic/record.h"
#include "crdt/error.h"
#include "node/logic/downflow.h"
#include "node/logic/health.h"
#include "node/logic/pmap.h"
#include "node/logic/presence.h"
#include "node/logic/reseal.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tv_recorder_init(tv_recorder *r, tv_node *n)
{
    memset(r, 0, sizeof *r);
    int rc = tv_node_may_record(n); /* a restored store: refused before any input */
    if (rc) return rc;
    r->n = n;
    /* a key granted, or refs to map, since the node last ran */
    if (n->lock_fd >= 0 && tv_node_pending(n) == 0 && (rc = tv_keys_after_receive(n))) return rc;
    if (tv_node_ref_key(n, r->key)) return TV_EPERM;
    r->boxes = malloc((size_t)CRDT_SEALED_MAX * TV_SEALED_BOX_MAX);
    if (!r->boxes) return TV_ENOMEM;
    /* details sealed to this node alone before it knew the health nodes go to them now
     * (after a sync brought their certificates, say); a no-op read otherwise */
    if (n->lock_fd >= 0 && tv_node_pending(n) == 0) {
        rc = tv_reseal_own(n, NULL);
        if (rc) {
            tv_recorder_free(r);
            return rc;
        }
    }
    return TV_OK;
}

void tv_recorder_free(tv_recorder *r)
{
    if (r->rt) store_read_end(r->rt);
    tv_sealer_end(&r->sealer);
    free(r->boxes);
    free(r->fresh);
    free(r->used);
    sodium_memzero(r->key, sizeof r->key);
    memset(r, 0, sizeof *r);
}

static size_t slot_of(const uint8_t *ref, size_t cap)
{
    uint64_t h;
    memcpy(&h, ref, sizeof h); /* a keyed hash already: its bytes are uniform */
    return (size_t)(h & (cap - 1));
}

/* Finds ref in the fresh set: 1 found; 0 not, *at = the free slot for it. */
static int fresh_find(const tv_recorder *r, const uint8_t *ref, size_t *at)
{
    if (!r->cap) return 0;
    for (size_t i = slot_of(ref, r->cap);; i = (i + 1) & (r->cap - 1)) {
        if (!r->used[i]) {
            *at = i;
            return 0;
        }
        if (memcmp(r->fresh[i], ref, TV_PERSON_REF_BYTES) == 0) return 1;
    }
}

static int fresh_add(tv_recorder *r, const uint8_t *ref)
{
    if (2 * (r->nfresh + 1) > r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        uint8_t(*f)[TV_PERSON_REF_BYTES] = calloc(cap, TV_PERSON_REF_BYTES);
        uint8_t *u = calloc(cap, 1);
        if (!f || !u) {
            free(f);
            free(u);
            return TV_ENOMEM;
        }
        for (size_t i = 0; i < r->cap; i++) {
            if (!r->used[i]) continue;
            size_t j = slot_of(r->fresh[i], cap);
            while (u[j])
                j = (j + 1) & (cap - 1);
            memcpy(f[j], r->fresh[i], TV_PERSON_REF_BYTES);
            u[j] = 1;
        }
        free(r->fresh);
        free(r->used);
        r->fresh = f;
        r->used = u;
        r->cap = cap;
    }
    size_t at = 0;
    if (fresh_find(r, ref, &at)) return TV_OK;
    memcpy(r->fresh[at], ref, TV_PERSON_REF_BYTES);
    r->used[at] = 1;
    r->nfresh++;
    return TV_OK;
}

/* Is the person already known here (stored, or pending)? */
static int known(tv_recorder *r, const uint8_t *ref)
{
    size_t at = 0;
    if (fresh_find(r, ref, &at)) return 1;
    if (!r->rt) {
        int rc = store_read_begin(r->n->st, &r->rt);
        if (rc) return rc;
    }
    store_person p;
    int rc = store_person_get(r->rt, ref, &p);
    if (rc == TV_OK) return 1;
    return rc == TV_ENOTFOUND ? 0 : rc;
}

/* Whom new people's details are sealed to. Found again only when a certificate was
 * written or a node revoked since (enrolment, a new health node), checked once per
 * commit group: a commune holds every certificate of its province, and reading them all
 * for each group took most of the time of recording a new person. */
static int recipients(tv_recorder *r)
{
    if (r->have_to && r->to_checked) return TV_OK;
    if (!r->rt) {
        int rc = store_read_begin(r->n->st, &r->rt);
        if (rc) return rc;
    }
    store_counts c;
    int rc = store_counts_get(r->rt, &c);
    if (rc) return rc;
    const uint64_t trust = c.cert_writes + c.by_type[CRDT_EV_REVOKE];
    r->to_checked = 1;
    if (r->have_to && trust == r->to_trust) return TV_OK;
    r->have_to = 0;
    rc = tv_seal_recipients(r->rt, r->n->unit, r->to, &r->nto);
    if (rc == TV_ENOTFOUND) {
        /* no health node known (not enrolled yet): sealed to this node itself, and
         * re-sealed to the health nodes once it knows them (reseal.h) */
        if ((rc = tv_reseal_mark(r->n, r->rt))) return rc;
        memcpy(r->to[0], r->n->id.pk, TV_NODE_ID_BYTES);
        r->nto = 1;
    } else if (rc) {
        return rc;
    }
    r->have_to = 1;
    r->to_trust = trust;
    return TV_OK;
}

static uint8_t method_of(tv_card_kind k)
{
    switch (k) {
    case TV_CARD_CCCD:
        return CRDT_METHOD_CCCD;
    case TV_CARD_BHYT:
        return CRDT_METHOD_BHYT;
    case TV_CARD_TRUYVET:
        return CRDT_METHOD_PAPER;
    default:
        return CRDT_METHOD_STAFF;
    }
}

static void details_of(const tv_card *c, tv_details *d)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", c->name);
    if (c->id.kind == TV_ID_CCCD) snprintf(d->cccd, sizeof d->cccd, "%.12s", c->id.norm);
    snprintf(d->cmnd, sizeof d->cmnd, "%s", c->cmnd);
    snprintf(d->bhyt, sizeof d->bhyt, "%s", c->bhyt_card);
    snprintf(d->phone, sizeof d->phone, "%s", c->phone);
    snprintf(d->birth, sizeof d->birth, "%s", c->birth);
    snprintf(d->sex, sizeof d->sex, "%s", c->sex == 'M' ? "Nam" : c->sex == 'F' ? "Nữ" : "");
    snprintf(d->address, sizeof d->address, "%s", c->address);
}

void tv_person_display(char *out, size_t cap, const char *name_masked, const char *id_masked)
{
    if (name_masked && *name_masked)
        snprintf(out, cap, "%s · %s", name_masked, id_masked);
    else
        snprintf(out, cap, "%s", id_masked);
    tv_masked_narrow(out);
}

int tv_person_display_get(store_txn *t, const uint8_t ref[TV_PERSON_REF_BYTES],
                          crdt_text scan_masked, char *out, size_t cap)
{
    store_person sp;
    int rc = store_person_get(t, ref, &sp);
    if (rc == TV_OK) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        crdt_event ev;
        rc = crdt_event_decode(&ev, &u, sp.raw, sp.raw_len);
        if (rc == TV_OK && ev.known && ev.type == CRDT_EV_PERSON) {
            const crdt_person *p = &ev.u.person;
            char name[CRDT_MASKED_BYTES_MAX + 1], id[CRDT_MASKED_BYTES_MAX + 1];
            snprintf(name, sizeof name, "%.*s", (int)p->name_masked.n,
                     p->name_masked.n ? p->name_masked.p : "");
            snprintf(id, sizeof id, "%.*s", (int)p->id_masked.n,
                     p->id_masked.n ? p->id_masked.p : "");
            tv_person_display(out, cap, name, id);
        } else {
            rc = TV_ECORRUPT; /* the store checked it on the way in */
        }
        msgpack_unpacked_destroy(&u);
        return rc;
    }
    if (rc != TV_ENOTFOUND) return rc;
    if (scan_masked.n) {
        snprintf(out, cap, "%.*s", (int)scan_masked.n, scan_masked.p);
        tv_masked_narrow(out);
    } else
        snprintf(out, cap, "?");
    return TV_OK;
}

int tv_scan_time_check(int64_t at_ms, int64_t now_ms)
{
    if (at_ms < TV_SCAN_EARLIEST_MS) return -1;
    if (at_ms > now_ms && at_ms - now_ms > TV_SCAN_FUTURE_SKEW_MS) return 1;
    return 0;
}

void tv_card_ref(const tv_card *c, const uint8_t key[TV_TRACING_KEY_BYTES],
                 uint8_t ref[TV_PERSON_REF_BYTES])
{
    if (c->kind == TV_CARD_TRUYVET)
        memcpy(ref, c->pcard.ref, TV_PERSON_REF_BYTES);
    else
        tv_person_ref(&c->id, key, ref);
}

typedef struct signer_ctx {
    const uint8_t *key_id;
    tv_sig_check_fn check;
    const void *arg;
    crdt_cert *cert;
    int candidates, found;
} signer_ctx;

static int signer_one(const uint8_t *raw, size_t len, void *arg)
{
    signer_ctx *s = arg;
    if (crdt_cert_decode(s->cert, raw, len)) return 0;
    if (memcmp(s->cert->subject, s->key_id, TV_KEY_ID_BYTES) != 0) return 0;
    s->candidates++;
    s->found = s->check(s->cert->subject, s->arg) == TV_OK;
    return s->found;
}

int tv_signer_find(store_txn *t, const uint8_t key_id[TV_KEY_ID_BYTES], tv_sig_check_fn check,
                   const void *arg, crdt_cert *cert, int *candidates)
{
    signer_ctx s = {.key_id = key_id, .check = check, .arg = arg, .cert = cert};
    int rc = store_cert_foreach(t, signer_one, &s);
    *candidates = s.candidates;
    return rc < 0 ? rc : s.found;
}

static int card_check_fn(const uint8_t *pk, const void *arg)
{
    return tv_person_card_verify(arg, pk);
}

static int venue_check_fn(const uint8_t *pk, const void *arg)
{
    return tv_venue_payload_verify(arg, pk);
}

int tv_venue_code_check(store_txn *t, const tv_node *n, const tv_venue_payload *p, crdt_cert *cert,
                        tv_code_verdict *verdict)
{
    int candidates, found = tv_signer_find(t, p->key_id, venue_check_fn, p, cert, &candidates);
    if (found < 0) return found;
    if (!found && memcmp(n->id.pk, p->key_id, TV_KEY_ID_BYTES) == 0 &&
        tv_venue_payload_verify(p, n->id.pk) == TV_OK && strcmp(p->unit, n->unit) == 0)
        *verdict = TV_CODE_OWN;
    else if (!found)
        *verdict = candidates ? TV_CODE_FORGED : TV_CODE_UNKNOWN;
    else if (store_revoked(t, cert->subject) > 0)
        *verdict = TV_CODE_REVOKED;
    else if (!crdt_cert_covers(cert, p->unit, strlen(p->unit)) || cert->role != CRDT_ROLE_COMMUNE)
        *verdict = TV_CODE_OUT_OF_SCOPE;
    else
        *verdict = TV_CODE_GENUINE;
    return TV_OK;
}

int tv_card_check(store_txn *t, const tv_node *n, const tv_person_card *pc)
{
    if (memcmp(n->id.pk, pc->key_id, TV_KEY_ID_BYTES) == 0 &&
        tv_person_card_verify(pc, n->id.pk) == TV_OK)
        return TV_OK;
    crdt_cert *cert = malloc(sizeof *cert);
    if (!cert) return TV_ENOMEM;
    int candidates, rc = tv_signer_find(t, pc->key_id, card_check_fn, pc, cert, &candidates);
    if (rc == 1) /* the issuer's whole chain, as for a batch (T7); expiry as now */
        rc = store_chain_check(t, cert->subject, tv_wall_ms(), NULL);
    else if (rc == 0) /* a known key that does not verify it, or an issuer unknown here */
        rc = candidates ? TV_ESIG : TV_EUNTRUSTED;
    free(cert);
    return rc;
}

/* The person part of a scan: the pseudonym and display, the code's signature, and the
 * person event when the person is new here and can be sealed. *scan_masked gets what the
 * scan itself must carry for display (empty when a person event carries it). */
static int add_person(tv_recorder *r, const tv_card *c, tv_scan_done *done,
                      const char **scan_masked)
{
    memset(done, 0, sizeof *done);
    tv_card_ref(c, r->key, done->ref);
    int card = c->kind == TV_CARD_TRUYVET;
    if (card) { /* a card issued under the older, wider masks shows and is kept narrowed */
        snprintf(done->masked, sizeof done->masked, "%s", c->pcard.display);
        tv_masked_narrow(done->masked);
    } else
        tv_person_display(done->masked, sizeof done->masked, c->name_masked, c->id.masked);
    int rc;
    if (card) {
        if (!r->rt && (rc = store_read_begin(r->n->st, &r->rt))) return rc;
        if ((rc = tv_card_check(r->rt, r->n, &c->pcard))) return rc;
    }
    int k = known(r, done->ref);
    if (k < 0) return k;
    rc = k ? TV_OK : recipients(r);
    if (rc) return rc;
    /* a personal code carries no details to seal: its issuer recorded the person */
    int with_person = !k && r->nto > 0 && !card;
    if (with_person) {
        crdt_person p = {.unit = {r->n->unit, (uint32_t)strlen(r->n->unit)},
                         .name_masked = {c->name_masked, (uint32_t)strlen(c->name_masked)},
                         .id_masked = {c->id.masked, (uint32_t)strlen(c->id.masked)}};
        /* no birth year: beside a masked CCCD it gives away three more digits */
        memcpy(p.person, done->ref, TV_PERSON_REF_BYTES);
        tv_details d;
        details_of(c, &d);
        if (r->sealer.n == 0) rc = tv_sealer_begin(&r->sealer, r->to, r->nto);
        if (rc == 0) rc = tv_seal_details(&r->sealer, &d, &p, r->boxes);
        sodium_memzero(&d, sizeof d);
        if (rc == 0) rc = tv_node_add_person(r->n, &p, NULL);
        if (rc == 0) rc = fresh_add(r, done->ref);
        if (rc) return rc;
        done->new_person = 1;
    }
    *scan_masked = (k || with_person) ? "" : card ? done->masked : c->id.masked;
    return TV_OK;
}

int tv_recorder_person(tv_recorder *r, const tv_card *c, tv_scan_done *done)
{
    const char *m;
    return add_person(r, c, done, &m);
}

int tv_recorder_add(tv_recorder *r, const tv_scan_in *in, tv_scan_done *done)
{
    const tv_card *c = in->card;
    const char *m;
    int rc = add_person(r, c, done, &m);
    if (rc) return rc;
    crdt_scan s = {.direction = in->out ? CRDT_DIR_OUT : CRDT_DIR_IN,
                   .method = in->method ? in->method : method_of(c->kind),
                   .at_ms = in->at_ms,
                   .unit = {r->n->unit, (uint32_t)strlen(r->n->unit)},
                   .masked = {m, (uint32_t)strlen(m)},
                   .device = {in->device, in->device ? (uint32_t)strlen(in->device) : 0}};
    memcpy(s.venue, in->venue->id, TV_VENUE_ID_BYTES);
    memcpy(s.person, done->ref, TV_PERSON_REF_BYTES);
    return tv_node_add_scan(r->n, &s, &done->hlc);
}

static int renew(tv_recorder *r)
{
    if (r->rt) store_read_end(r->rt);
    r->rt = NULL;
    r->to_checked = 0; /* `to` stays unless certificates or revocations came in since */
    tv_sealer_end(&r->sealer);
    if (r->used) memset(r->used, 0, r->cap);
    r->nfresh = 0;
    return TV_OK;
}

int tv_recorder_committed(tv_recorder *r)
{
    return renew(r);
}

int tv_recorder_discarded(tv_recorder *r)
{
    return renew(r);
}

/* --- the gate's answer ----------------------------------------------------------------- */

#define REPEAT_LOOKBACK_MAX_MS (INT64_C(24) * 3600 * 1000)

typedef struct repeat_ctx {
    const tv_scan_key *k;
    tv_pscan *s;
    size_t n, cap;
    int done; /* met the scan itself */
    int err;
} repeat_ctx;

static int repeat_one(const store_scan_ref *r, void *arg)
{
    repeat_ctx *c = arg;
    const tv_scan_key *k = c->k;
    if (k->stored && r->at_ms == k->at_ms && r->seq == k->seq &&
        r->direction == (k->out ? CRDT_DIR_OUT : CRDT_DIR_IN) &&
        memcmp(r->venue, k->venue, TV_VENUE_ID_BYTES) == 0) {
        c->done = 1;
        return 1; /* the scan itself: what came before it is known */
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 32;
        tv_pscan *s = realloc(c->s, cap * sizeof *s);
        if (!s) {
            c->err = TV_ENOMEM;
            return 1;
        }
        c->s = s;
        c->cap = cap;
    }
    tv_pscan *p = &c->s[c->n];
    memcpy(p->venue, r->venue, TV_VENUE_ID_BYTES);
    p->at_ms = r->at_ms;
    p->out = r->direction == CRDT_DIR_OUT;
    p->tie = c->n; /* the index's order, (at_ms, origin, seq) */
    c->n++;
    return 0;
}

int tv_scan_repeat(store_txn *t, const tv_scan_key *k, int64_t window_ms, int64_t *run_first)
{
    if (run_first) *run_first = k->at_ms;
    if (window_ms <= 0) return 0;
    repeat_ctx c = {.k = k};
    int64_t back = window_ms;
    int rc = 0;
    for (;;) {
        c.n = 0;
        c.done = 0;
        rc = store_scans_by_person(t, k->person, k->at_ms - back, k->at_ms + 1, repeat_one, &c);
        if (c.err) rc = c.err;
        if (rc < 0) break;
        rc = 0;
        /* does the run reach back past what was read? Only when every scan read is like
         * this one and the earliest lies within the window of the range's start */
        size_t like = 0;
        while (like < c.n && c.s[c.n - 1 - like].out == (k->out != 0) &&
               memcmp(c.s[c.n - 1 - like].venue, k->venue, TV_VENUE_ID_BYTES) == 0)
            like++;
        if (like == 0 || like < c.n || c.s[0].at_ms - (k->at_ms - back) >= window_ms ||
            back >= REPEAT_LOOKBACK_MAX_MS)
            break;
        back *= 2;
    }
    if (rc == 0) {
        if (c.n == c.cap) {
            tv_pscan *s = realloc(c.s, (c.cap + 1) * sizeof *s);
            if (!s)
                rc = TV_ENOMEM;
            else {
                c.s = s;
                c.cap++;
            }
        }
    }
    if (rc == 0) {
        tv_pscan *p = &c.s[c.n];
        memcpy(p->venue, k->venue, TV_VENUE_ID_BYTES);
        p->at_ms = k->at_ms;
        p->out = k->out != 0;
        p->tie = c.n;
        rc = tv_presence_repeat(c.s, c.n + 1, window_ms, run_first);
    }
    free(c.s);
    return rc;
}

static int held_in(const tv_opened *o, const uint8_t ref[TV_PERSON_REF_BYTES])
{
    int held = 0;
    /* by person, then (hlc, origin): the person's last notice is the one in force */
    for (size_t i = 0; i < o->nholds; i++)
        if (memcmp(o->holds[i].person, ref, TV_PERSON_REF_BYTES) == 0) held = o->holds[i].held;
    return held;
}

void tv_gate_mark_get(tv_node *n, store_txn *t, tv_opened *o,
                      const uint8_t ref[TV_PERSON_REF_BYTES], tv_gate_mark *m)
{
    m->status = -1;
    m->held = 0;
    tv_case c;
    if (tv_case_lookup(n, t, o, ref, &c) == 0 && c.current.status != CRDT_CASE_CLEARED)
        m->status = c.current.status;
    if (o->loaded) m->held = held_in(o, ref);
}

int tv_gate_stop(const tv_gate_mark *m)
{
    return m->status == CRDT_CASE_F0 || m->status == CRDT_CASE_F1 || m->held;
}

const char *tv_gate_mark_text(const tv_gate_mark *m)
{
    switch (m->status) {
    case CRDT_CASE_F0:
        return "ĐỎ — F0: ca bệnh, liên hệ trạm y tế";
    case CRDT_CASE_F1:
        return "CAM — F1: tiếp xúc gần ca bệnh, phải cách ly, liên hệ trạm y tế";
    case CRDT_CASE_F2:
        if (!m->held) return "VÀNG — F2: tiếp xúc với F1, theo dõi sức khỏe";
        break;
    default:
        break;
    }
    return m->held ? "đang trong diện truy vết của cơ quan y tế, liên hệ trạm y tế" : NULL;
}
