/* Versioned msgpack codec for log events (layout in PROTOCOL.md). */
#include "crdt/event.h"
#include "crdt/assert.h"
#include "crdt/error.h"
#include "crdt/mp.h"

#include <sodium.h>
#include <string.h>

/* Map keys of the scan event. */
enum {
    SK_VENUE = 1,
    SK_UNIT = 2,
    SK_PERSON = 3,
    SK_MASKED = 4,
    SK_DIR = 5,
    SK_AT = 6,
    SK_METHOD = 7,
    SK_DEVICE = 8
};
/* Map keys of the venue_upsert event. */
enum {
    VK_VENUE = 1,
    VK_UNIT = 2,
    VK_NAME = 3,
    VK_CATEGORY = 4,
    VK_VILLAGE = 5,
    VK_OWNER_PHONE = 6,
    VK_CLOSES = 7,
    VK_NONCE = 8
};
/* Map keys shared by the venue-scoped events (controller_add/remove, venue_reminder). */
enum { CK_VENUE = 1, CK_UNIT = 2, CK_PHONE = 3, CK_TAGS = 4, RK_NOTE = 3, RK_ACTION = 4 };
/* Map keys of the person event. */
enum {
    PK_PERSON = 1,
    PK_UNIT = 2,
    PK_NAME = 3,
    PK_ID = 4,
    PK_BIRTH_YEAR = 5,
    PK_SEALED = 6 /* array of [recipient node id, box] */
};
/* Map keys of the reveal event. */
enum { XK_PERSON = 1, XK_REASON = 2 };
/* Map keys of the risk_level event. */
enum { LK_UNIT = 1, LK_LEVEL = 2, LK_FROM = 3, LK_NOTE = 4 };
/* Map keys of the unit event. */
enum { UK_CODE = 1, UK_NAME = 2, UK_PARENT = 3 };
/* Map keys of the case_status event. */
enum { AK_PERSON = 1, AK_UNIT = 2, AK_STATUS = 3, AK_ONSET = 4, AK_SAMPLED = 5, AK_AT = 6 };
/* Map keys of the sealed event. */
enum { EK_TAG = 1, EK_NONCE = 2, EK_BOX = 3 };
/* Map keys of the exposure event (inner only). */
enum { OK_VENUE = 1, OK_FROM = 2, OK_TO = 3 };

/* Map keys of the retention, checkpoint and hold events. */
enum { NK_DAYS = 1 };
enum { QK_UPTO = 1, QK_HASH = 2, QK_EVENT = 3, QK_SEQ = 4 };
enum { HK_PERSON = 1, HK_REASON = 2, HK_ACTION = 3 };

#define CATEGORY_CODE_MAX 255

const char *crdt_event_type_name(uint32_t type)
{
    switch (type) {
    case CRDT_EV_VENUE_UPSERT:
        return "venue_upsert";
    case CRDT_EV_CONTROLLER_ADD:
        return "controller_add";
    case CRDT_EV_CONTROLLER_REMOVE:
        return "controller_remove";
    case CRDT_EV_VENUE_REMINDER:
        return "venue_reminder";
    case CRDT_EV_SCAN:
        return "scan";
    case CRDT_EV_RISK_LEVEL:
        return "risk_level";
    case CRDT_EV_CASE_STATUS:
        return "case_status";
    case CRDT_EV_UNIT:
        return "unit";
    case CRDT_EV_CERT:
        return "cert";
    case CRDT_EV_REVOKE:
        return "revoke";
    case CRDT_EV_KEY_GRANT:
        return "key_grant";
    case CRDT_EV_PERSON:
        return "person";
    case CRDT_EV_REVEAL:
        return "reveal";
    case CRDT_EV_SEALED:
        return "sealed";
    case CRDT_EV_EXPOSURE:
        return "exposure";
    case CRDT_EV_RETENTION:
        return "retention";
    case CRDT_EV_CHECKPOINT:
        return "checkpoint";
    case CRDT_EV_HOLD:
        return "hold";
    }
    return NULL;
}

const char *crdt_method_name(uint32_t method)
{
    switch (method) {
    case CRDT_METHOD_SELF:
        return "self";
    case CRDT_METHOD_STAFF:
        return "staff";
    case CRDT_METHOD_CCCD:
        return "cccd";
    case CRDT_METHOD_BHYT:
        return "bhyt";
    case CRDT_METHOD_PAPER:
        return "paper";
    case CRDT_METHOD_IMPORT:
        return "import";
    }
    return NULL;
}

int crdt_unit_code_valid(const char *s, size_t n)
{
    if (n == 0 || n > TV_UNIT_CODE_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

size_t crdt_unit_owner_len(const char *s, size_t n)
{
    const char *dot = n ? memchr(s, '.', n) : NULL;
    return dot && dot != s ? (size_t)(dot - s) : n;
}

const char *crdt_case_status_name(uint32_t status)
{
    static const char *const names[] = {"F0", "F1", "F2", "cleared"};
    return status <= CRDT_CASE_STATUS_MAX ? names[status] : NULL;
}

int crdt_text_valid(const char *s, size_t n)
{
    if (!crdt_utf8_valid(s, n)) return 0;
    const uint8_t *b = (const uint8_t *)s;
    for (size_t i = 0; i < n; i++) {
        if (b[i] < 0x20 || b[i] == 0x7f) return 0;
        /* U+0080..U+009F is encoded C2 80..C2 9F; in well-formed UTF-8 a C2 byte always
         * leads a two-byte sequence, so b[i + 1] exists */
        if (b[i] == 0xc2 && b[i + 1] < 0xa0) return 0;
    }
    return 1;
}

static int text_valid(crdt_text t, size_t max, int required)
{
    if (t.n == 0) return !required;
    return t.p != NULL && t.n <= max && crdt_text_valid(t.p, t.n);
}

static int scan_valid(const crdt_scan *s)
{
    return crdt_unit_code_valid(s->unit.p, s->unit.n) &&
           text_valid(s->masked, CRDT_MASKED_BYTES_MAX, 0) &&
           text_valid(s->device, CRDT_DEVICE_BYTES_MAX, 0) &&
           (s->direction == CRDT_DIR_IN || s->direction == CRDT_DIR_OUT) && s->method >= 1 &&
           s->method <= CRDT_METHOD_MAX && crdt_time_valid(s->at_ms);
}

static int venue_valid(const crdt_venue_upsert *v)
{
    if (v->fields == 0 || v->fields >= (1u << CRDT_VENUE_FIELDS)) return 0;
    if (v->registers && !(v->fields & CRDT_VENUE_F_UNIT)) return 0; /* a registration names it */
    if ((v->fields & CRDT_VENUE_F_UNIT) && !crdt_unit_code_valid(v->unit.p, v->unit.n)) return 0;
    if ((v->fields & CRDT_VENUE_F_NAME) && !text_valid(v->name, CRDT_TEXT_BYTES_MAX, 1)) return 0;
    if ((v->fields & CRDT_VENUE_F_VILLAGE) && !text_valid(v->village, CRDT_TEXT_BYTES_MAX, 0))
        return 0;
    if ((v->fields & CRDT_VENUE_F_OWNER_PHONE) &&
        !text_valid(v->owner_phone, CRDT_PHONE_BYTES_MAX, 0))
        return 0;
    if ((v->fields & CRDT_VENUE_F_CATEGORY) &&
        (v->category == 0 || v->category > CATEGORY_CODE_MAX))
        return 0;
    if ((v->fields & CRDT_VENUE_F_CLOSES) && v->closes > 1440) return 0;
    return 1;
}

static int phone_valid(crdt_text t)
{
    if (t.n < 9 || t.n > CRDT_PHONE_BYTES_MAX || !t.p || t.p[0] != '0') return 0;
    for (uint32_t i = 0; i < t.n; i++)
        if (t.p[i] < '0' || t.p[i] > '9') return 0;
    return 1;
}

static int controller_valid(uint32_t type, const crdt_controller *c)
{
    if (type != CRDT_EV_CONTROLLER_ADD && type != CRDT_EV_CONTROLLER_REMOVE) return 0;
    if (type == CRDT_EV_CONTROLLER_ADD && c->ntags) return 0;
    if (c->ntags > CRDT_TAGS_MAX || (c->ntags && !c->tags)) return 0;
    return crdt_unit_code_valid(c->unit.p, c->unit.n) && phone_valid(c->phone);
}

static int reminder_valid(const crdt_reminder *r)
{
    return crdt_unit_code_valid(r->unit.p, r->unit.n) &&
           text_valid(r->note, CRDT_TEXT_BYTES_MAX, 0) &&
           (r->action == CRDT_REMIND || r->action == CRDT_REINSTATE);
}

static int person_valid(const crdt_person *p)
{
    if (!crdt_unit_code_valid(p->unit.p, p->unit.n) ||
        !text_valid(p->name_masked, CRDT_MASKED_BYTES_MAX, 0) ||
        !text_valid(p->id_masked, CRDT_MASKED_BYTES_MAX, 1) || p->birth_year > 9999 ||
        p->nsealed == 0 || p->nsealed > CRDT_SEALED_MAX)
        return 0;
    for (uint32_t i = 0; i < p->nsealed; i++)
        if (!p->sealed[i].box || p->sealed[i].len == 0 || p->sealed[i].len > CRDT_SEALED_BYTES_MAX)
            return 0;
    return 1;
}

static int risk_valid(const crdt_risk *r)
{
    return crdt_unit_code_valid(r->unit.p, r->unit.n) && r->level >= 1 &&
           r->level <= CRDT_RISK_LEVEL_MAX && crdt_time_valid(r->from_ms) &&
           text_valid(r->note, CRDT_TEXT_BYTES_MAX, 0);
}

static int unit_valid(const crdt_unit *u)
{
    return crdt_unit_code_valid(u->code.p, u->code.n) &&
           crdt_unit_code_valid(u->parent.p, u->parent.n) &&
           !(u->code.n == u->parent.n && memcmp(u->code.p, u->parent.p, u->code.n) == 0) &&
           text_valid(u->name, CRDT_TEXT_BYTES_MAX, 1);
}

static int case_valid(const crdt_case *c)
{
    if (!crdt_unit_code_valid(c->unit.p, c->unit.n) || c->status > CRDT_CASE_STATUS_MAX) return 0;
    if ((c->onset_ms != CRDT_TIME_NONE && !crdt_time_valid(c->onset_ms)) ||
        (c->sampled_ms != CRDT_TIME_NONE && !crdt_time_valid(c->sampled_ms)) ||
        (c->at_ms != CRDT_TIME_NONE && !crdt_time_valid(c->at_ms)))
        return 0;
    return c->status != CRDT_CASE_F0 || c->onset_ms >= 0 || c->sampled_ms >= 0;
}

static int sealed_valid(const crdt_sealed_event *s)
{
    return s->box != NULL && s->len > crypto_aead_xchacha20poly1305_ietf_ABYTES &&
           s->len <= CRDT_SEALED_BOX_BYTES_MAX;
}

static int exposure_valid(const crdt_exposure *x)
{
    return crdt_time_valid(x->from_ms) && crdt_time_valid(x->to_ms) && x->from_ms < x->to_ms;
}

static int pack_text(msgpack_packer *pk, crdt_text t)
{
    return msgpack_pack_str_with_body(pk, t.p, t.n);
}

static int pack_bin(msgpack_packer *pk, const uint8_t *p, size_t n)
{
    return msgpack_pack_bin_with_body(pk, p, n);
}

static int pack_scan(msgpack_packer *pk, uint64_t hlc, const crdt_scan *s)
{
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_SCAN) |
            msgpack_pack_uint64(pk, hlc) |
            msgpack_pack_map(pk, 6 + (s->device.n ? 1 : 0) + (s->masked.n ? 1 : 0));
    e |= msgpack_pack_uint8(pk, SK_VENUE) | pack_bin(pk, s->venue, TV_VENUE_ID_BYTES);
    e |= msgpack_pack_uint8(pk, SK_UNIT) | pack_text(pk, s->unit);
    e |= msgpack_pack_uint8(pk, SK_PERSON) | pack_bin(pk, s->person, TV_PERSON_REF_BYTES);
    if (s->masked.n) e |= msgpack_pack_uint8(pk, SK_MASKED) | pack_text(pk, s->masked);
    e |= msgpack_pack_uint8(pk, SK_DIR) | msgpack_pack_uint8(pk, s->direction);
    e |= msgpack_pack_uint8(pk, SK_AT) | msgpack_pack_int64(pk, s->at_ms);
    e |= msgpack_pack_uint8(pk, SK_METHOD) | msgpack_pack_uint8(pk, s->method);
    if (s->device.n) e |= msgpack_pack_uint8(pk, SK_DEVICE) | pack_text(pk, s->device);
    return e ? TV_ENOMEM : TV_OK;
}

#if TV_ASSERT_COSTLY_ON
static int text_eq(crdt_text a, crdt_text b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* Whether a scan encoded alone decodes back to the same event, field by field. */
static int scan_round_trips(uint64_t hlc, const crdt_scan *s)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    int ok = pack_scan(&pk, hlc, s) == TV_OK;
    if (ok) { /* a buffer that could not grow proves nothing about the codec */
        ok = crdt_event_decode(&ev, &u, (const uint8_t *)sb.data, sb.size) == TV_OK &&
             ev.type == CRDT_EV_SCAN && ev.hlc == hlc &&
             memcmp(ev.u.scan.venue, s->venue, TV_VENUE_ID_BYTES) == 0 &&
             memcmp(ev.u.scan.person, s->person, TV_PERSON_REF_BYTES) == 0 &&
             text_eq(ev.u.scan.unit, s->unit) && text_eq(ev.u.scan.masked, s->masked) &&
             text_eq(ev.u.scan.device, s->device) && ev.u.scan.direction == s->direction &&
             ev.u.scan.method == s->method && ev.u.scan.at_ms == s->at_ms;
    } else {
        ok = 1;
    }
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
    return ok;
}
#endif

int crdt_event_pack_scan(msgpack_packer *pk, uint64_t hlc, const crdt_scan *s)
{
    if (!scan_valid(s)) return TV_EINVAL;
    /* paired with the decoder: what is encoded here reads back as the same scan */
    TV_ASSERT_COSTLY(scan_round_trips(hlc, s));
    return pack_scan(pk, hlc, s);
}

int crdt_event_pack_venue(msgpack_packer *pk, uint64_t hlc, const crdt_venue_upsert *v)
{
    if (!venue_valid(v)) return TV_EINVAL;
    uint32_t n = v->registers ? 2 : 1;
    for (uint32_t f = v->fields; f; f &= f - 1)
        n++;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_VENUE_UPSERT) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, n);
    e |= msgpack_pack_uint8(pk, VK_VENUE) | pack_bin(pk, v->venue, TV_VENUE_ID_BYTES);
    if (v->fields & CRDT_VENUE_F_UNIT)
        e |= msgpack_pack_uint8(pk, VK_UNIT) | pack_text(pk, v->unit);
    if (v->fields & CRDT_VENUE_F_NAME)
        e |= msgpack_pack_uint8(pk, VK_NAME) | pack_text(pk, v->name);
    if (v->fields & CRDT_VENUE_F_CATEGORY)
        e |= msgpack_pack_uint8(pk, VK_CATEGORY) | msgpack_pack_uint32(pk, v->category);
    if (v->fields & CRDT_VENUE_F_VILLAGE)
        e |= msgpack_pack_uint8(pk, VK_VILLAGE) | pack_text(pk, v->village);
    if (v->fields & CRDT_VENUE_F_OWNER_PHONE)
        e |= msgpack_pack_uint8(pk, VK_OWNER_PHONE) | pack_text(pk, v->owner_phone);
    if (v->fields & CRDT_VENUE_F_CLOSES)
        e |= msgpack_pack_uint8(pk, VK_CLOSES) | msgpack_pack_uint32(pk, v->closes);
    if (v->registers)
        e |= msgpack_pack_uint8(pk, VK_NONCE) | pack_bin(pk, v->nonce, TV_VENUE_NONCE_BYTES);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_controller(msgpack_packer *pk, uint32_t type, uint64_t hlc,
                               const crdt_controller *c)
{
    if (!controller_valid(type, c)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, type) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, c->ntags ? 4 : 3);
    e |= msgpack_pack_uint8(pk, CK_VENUE) | pack_bin(pk, c->venue, TV_VENUE_ID_BYTES);
    e |= msgpack_pack_uint8(pk, CK_UNIT) | pack_text(pk, c->unit);
    e |= msgpack_pack_uint8(pk, CK_PHONE) | pack_text(pk, c->phone);
    if (c->ntags)
        e |= msgpack_pack_uint8(pk, CK_TAGS) |
             pack_bin(pk, c->tags, (size_t)c->ntags * CRDT_TAG_BYTES);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_reminder(msgpack_packer *pk, uint64_t hlc, const crdt_reminder *r)
{
    if (!reminder_valid(r)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_VENUE_REMINDER) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, r->note.n ? 4 : 3);
    e |= msgpack_pack_uint8(pk, CK_VENUE) | pack_bin(pk, r->venue, TV_VENUE_ID_BYTES);
    e |= msgpack_pack_uint8(pk, CK_UNIT) | pack_text(pk, r->unit);
    if (r->note.n) e |= msgpack_pack_uint8(pk, RK_NOTE) | pack_text(pk, r->note);
    e |= msgpack_pack_uint8(pk, RK_ACTION) | msgpack_pack_uint8(pk, r->action);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_person(msgpack_packer *pk, uint64_t hlc, const crdt_person *p)
{
    if (!person_valid(p)) return TV_EINVAL;
    uint32_t n = 4 + (p->name_masked.n ? 1 : 0) + (p->birth_year ? 1 : 0);
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_PERSON) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, n);
    e |= msgpack_pack_uint8(pk, PK_PERSON) | pack_bin(pk, p->person, TV_PERSON_REF_BYTES);
    e |= msgpack_pack_uint8(pk, PK_UNIT) | pack_text(pk, p->unit);
    if (p->name_masked.n) e |= msgpack_pack_uint8(pk, PK_NAME) | pack_text(pk, p->name_masked);
    e |= msgpack_pack_uint8(pk, PK_ID) | pack_text(pk, p->id_masked);
    if (p->birth_year)
        e |= msgpack_pack_uint8(pk, PK_BIRTH_YEAR) | msgpack_pack_uint32(pk, p->birth_year);
    e |= msgpack_pack_uint8(pk, PK_SEALED) | msgpack_pack_array(pk, p->nsealed);
    for (uint32_t i = 0; i < p->nsealed; i++)
        e |= msgpack_pack_array(pk, 2) | pack_bin(pk, p->sealed[i].to, TV_NODE_ID_BYTES) |
             pack_bin(pk, p->sealed[i].box, p->sealed[i].len);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_reveal(msgpack_packer *pk, uint64_t hlc, const crdt_reveal *r)
{
    if (!text_valid(r->reason, CRDT_TEXT_BYTES_MAX, 1)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_REVEAL) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, 2);
    e |= msgpack_pack_uint8(pk, XK_PERSON) | pack_bin(pk, r->person, TV_PERSON_REF_BYTES);
    e |= msgpack_pack_uint8(pk, XK_REASON) | pack_text(pk, r->reason);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_retention(msgpack_packer *pk, uint64_t hlc, const crdt_retention *r)
{
    if (r->days < CRDT_RETENTION_DAYS_MIN || r->days > CRDT_RETENTION_DAYS_MAX) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_RETENTION) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, 1);
    e |= msgpack_pack_uint8(pk, NK_DAYS) | msgpack_pack_uint32(pk, r->days);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_checkpoint(msgpack_packer *pk, uint64_t hlc, const crdt_checkpoint *c)
{
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_CHECKPOINT) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, 2);
    if (!c->copy) {
        if (c->upto == 0) return TV_EINVAL;
        e |= msgpack_pack_uint8(pk, QK_UPTO) | msgpack_pack_uint64(pk, c->upto);
        e |= msgpack_pack_uint8(pk, QK_HASH) | pack_bin(pk, c->hash, TV_HASH_BYTES);
        return e ? TV_ENOMEM : TV_OK;
    }
    if (c->seq == 0 || c->event_len == 0 || c->event_len > CRDT_EVENT_BYTES_MAX) return TV_EINVAL;
    e |= msgpack_pack_uint8(pk, QK_EVENT) | pack_bin(pk, c->event, c->event_len);
    e |= msgpack_pack_uint8(pk, QK_SEQ) | msgpack_pack_uint64(pk, c->seq);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_copy_open(const crdt_event *copy, crdt_event *inner, msgpack_unpacked *scratch)
{
    memset(inner, 0, sizeof *inner);
    if (!copy->known || copy->type != CRDT_EV_CHECKPOINT || !copy->u.checkpoint.copy)
        return TV_EDECODE;
    int rc =
        crdt_event_decode(inner, scratch, copy->u.checkpoint.event, copy->u.checkpoint.event_len);
    if (rc == TV_OK && (inner->type == CRDT_EV_CHECKPOINT || inner->hlc >= copy->hlc)) {
        memset(inner, 0, sizeof *inner);
        rc = TV_EDECODE;
    }
    return rc == TV_OK ? TV_OK : TV_EDECODE;
}

int crdt_event_pack_hold(msgpack_packer *pk, uint64_t hlc, const crdt_hold *h)
{
    if (!text_valid(h->reason, CRDT_TEXT_BYTES_MAX, 1) || h->action > CRDT_HOLD_LIFT)
        return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_HOLD) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, 3);
    e |= msgpack_pack_uint8(pk, HK_PERSON) | pack_bin(pk, h->person, TV_PERSON_REF_BYTES);
    e |= msgpack_pack_uint8(pk, HK_REASON) | pack_text(pk, h->reason);
    e |= msgpack_pack_uint8(pk, HK_ACTION) | msgpack_pack_uint8(pk, h->action);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_risk(msgpack_packer *pk, uint64_t hlc, const crdt_risk *r)
{
    if (!risk_valid(r)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_RISK_LEVEL) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, r->note.n ? 4 : 3);
    e |= msgpack_pack_uint8(pk, LK_UNIT) | pack_text(pk, r->unit);
    e |= msgpack_pack_uint8(pk, LK_LEVEL) | msgpack_pack_uint8(pk, r->level);
    e |= msgpack_pack_uint8(pk, LK_FROM) | msgpack_pack_int64(pk, r->from_ms);
    if (r->note.n) e |= msgpack_pack_uint8(pk, LK_NOTE) | pack_text(pk, r->note);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_unit(msgpack_packer *pk, uint64_t hlc, const crdt_unit *u)
{
    if (!unit_valid(u)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_UNIT) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, 3);
    e |= msgpack_pack_uint8(pk, UK_CODE) | pack_text(pk, u->code);
    e |= msgpack_pack_uint8(pk, UK_NAME) | pack_text(pk, u->name);
    e |= msgpack_pack_uint8(pk, UK_PARENT) | pack_text(pk, u->parent);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_case(msgpack_packer *pk, uint64_t hlc, const crdt_case *c)
{
    if (!case_valid(c)) return TV_EINVAL;
    uint32_t n = 3 + (c->onset_ms >= 0) + (c->sampled_ms >= 0) + (c->at_ms >= 0);
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_CASE_STATUS) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, n);
    e |= msgpack_pack_uint8(pk, AK_PERSON) | pack_bin(pk, c->person, TV_PERSON_REF_BYTES);
    e |= msgpack_pack_uint8(pk, AK_UNIT) | pack_text(pk, c->unit);
    e |= msgpack_pack_uint8(pk, AK_STATUS) | msgpack_pack_uint8(pk, c->status);
    if (c->onset_ms >= 0)
        e |= msgpack_pack_uint8(pk, AK_ONSET) | msgpack_pack_int64(pk, c->onset_ms);
    if (c->sampled_ms >= 0)
        e |= msgpack_pack_uint8(pk, AK_SAMPLED) | msgpack_pack_int64(pk, c->sampled_ms);
    if (c->at_ms >= 0) e |= msgpack_pack_uint8(pk, AK_AT) | msgpack_pack_int64(pk, c->at_ms);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_sealed(msgpack_packer *pk, uint64_t hlc, const crdt_sealed_event *s)
{
    if (!sealed_valid(s)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_SEALED) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, 3);
    e |= msgpack_pack_uint8(pk, EK_TAG) | pack_bin(pk, s->tag, CRDT_SEALED_TAG_BYTES);
    e |= msgpack_pack_uint8(pk, EK_NONCE) | pack_bin(pk, s->nonce, CRDT_SEALED_NONCE_BYTES);
    e |= msgpack_pack_uint8(pk, EK_BOX) | pack_bin(pk, s->box, s->len);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_exposure(msgpack_packer *pk, uint64_t hlc, const crdt_exposure *x)
{
    if (!exposure_valid(x)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_EXPOSURE) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, 3);
    e |= msgpack_pack_uint8(pk, OK_VENUE) | pack_bin(pk, x->venue, TV_VENUE_ID_BYTES);
    e |= msgpack_pack_uint8(pk, OK_FROM) | msgpack_pack_int64(pk, x->from_ms);
    e |= msgpack_pack_uint8(pk, OK_TO) | msgpack_pack_int64(pk, x->to_ms);
    return e ? TV_ENOMEM : TV_OK;
}

/* Map keys of the key_grant event. */
enum { GK_SUBJECT = 1, GK_UNIT = 2, GK_BOX = 3 };

static int grant_valid(const crdt_key_grant *g)
{
    return crdt_unit_code_valid(g->unit.p, g->unit.n) && g->box != NULL;
}

int crdt_event_pack_grant(msgpack_packer *pk, uint64_t hlc, const crdt_key_grant *g)
{
    if (!grant_valid(g)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_KEY_GRANT) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, 3);
    e |= msgpack_pack_uint8(pk, GK_SUBJECT) | pack_bin(pk, g->subject, TV_NODE_ID_BYTES);
    e |= msgpack_pack_uint8(pk, GK_UNIT) | pack_text(pk, g->unit);
    e |= msgpack_pack_uint8(pk, GK_BOX) | pack_bin(pk, g->box, CRDT_GRANT_BOX_BYTES);
    return e ? TV_ENOMEM : TV_OK;
}

static int consent_valid(const crdt_cert_event *c)
{
    return !c->consent || (text_valid(c->consent_name, CRDT_TEXT_BYTES_MAX, 1) &&
                           c->consent_created_ms >= 0 && c->consent_sig != NULL);
}

int crdt_event_pack_cert(msgpack_packer *pk, uint64_t hlc, const crdt_cert_event *c)
{
    if (c->len == 0 || c->len > CRDT_CERT_EVENT_BYTES_MAX || !consent_valid(c)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_CERT) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, c->consent ? 2 : 1) |
            msgpack_pack_uint8(pk, 1) | pack_bin(pk, c->cert, c->len);
    if (c->consent)
        e |= msgpack_pack_uint8(pk, 2) | msgpack_pack_array(pk, 3) |
             pack_text(pk, c->consent_name) | msgpack_pack_int64(pk, c->consent_created_ms) |
             pack_bin(pk, c->consent_sig, TV_SIG_BYTES);
    return e ? TV_ENOMEM : TV_OK;
}

int crdt_event_pack_revoke(msgpack_packer *pk, uint64_t hlc, const crdt_revoke *r)
{
    if (!text_valid(r->reason, CRDT_TEXT_BYTES_MAX, 0)) return TV_EINVAL;
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, CRDT_EV_REVOKE) |
            msgpack_pack_uint64(pk, hlc) | msgpack_pack_map(pk, r->reason.n ? 2 : 1) |
            msgpack_pack_uint8(pk, 1) | pack_bin(pk, r->subject, TV_NODE_ID_BYTES);
    if (r->reason.n) e |= msgpack_pack_uint8(pk, 2) | pack_text(pk, r->reason);
    return e ? TV_ENOMEM : TV_OK;
}

static int get_text(const msgpack_object *o, size_t max, crdt_text *t)
{
    const char *p;
    size_t n;
    if (crdt_mp_str(o, max, &p, &n)) return TV_EDECODE;
    t->p = p;
    t->n = (uint32_t)n;
    return TV_OK;
}

static int get_small(const msgpack_object *o, uint64_t max, uint64_t *v)
{
    if (crdt_mp_u64(o, v) || *v > max) return TV_EDECODE;
    return TV_OK;
}

/* Keys below KEYS_TRACKED are checked for duplicates: every key a known event has, with
 * room for newer writers' fields. A duplicate of a larger (unknown, ignored) key is not
 * detected, the same way on every platform. */
#define KEYS_TRACKED 64

/* Marks key as seen; 1 when it was seen before (a duplicate key is malformed). */
static int seen_twice(uint64_t *seen, uint64_t key)
{
    if (key >= KEYS_TRACKED) return 0;
    const uint64_t bit = UINT64_C(1) << key;
    if (*seen & bit) return 1;
    *seen |= bit;
    return 0;
}

/* The bit of a known key in a decoder's `seen` set. */
#define KEY_BIT(k) (UINT64_C(1) << (k))

static int decode_scan(crdt_scan *s, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        uint64_t key, x;
        const uint8_t *b;
        if (crdt_mp_u64(k, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case SK_VENUE:
            if (crdt_mp_bin_n(v, TV_VENUE_ID_BYTES, &b)) return TV_EDECODE;
            memcpy(s->venue, b, TV_VENUE_ID_BYTES);
            break;
        case SK_UNIT:
            if (get_text(v, TV_UNIT_CODE_MAX, &s->unit)) return TV_EDECODE;
            break;
        case SK_PERSON:
            if (crdt_mp_bin_n(v, TV_PERSON_REF_BYTES, &b)) return TV_EDECODE;
            memcpy(s->person, b, TV_PERSON_REF_BYTES);
            break;
        case SK_MASKED:
            if (get_text(v, CRDT_MASKED_BYTES_MAX, &s->masked)) return TV_EDECODE;
            break;
        case SK_DIR:
            if (get_small(v, 1, &x)) return TV_EDECODE;
            s->direction = (uint8_t)x;
            break;
        case SK_AT:
            if (crdt_mp_i64(v, &s->at_ms)) return TV_EDECODE;
            break;
        case SK_METHOD:
            if (get_small(v, 255, &x)) return TV_EDECODE;
            s->method = (uint8_t)x;
            break;
        case SK_DEVICE:
            if (get_text(v, CRDT_DEVICE_BYTES_MAX, &s->device)) return TV_EDECODE;
            break;
        default:
            break; /* a newer writer's field: kept in the bytes, ignored here */
        }
    }
    const uint64_t required = KEY_BIT(SK_VENUE) | KEY_BIT(SK_UNIT) | KEY_BIT(SK_PERSON) |
                              KEY_BIT(SK_DIR) | KEY_BIT(SK_AT) | KEY_BIT(SK_METHOD);
    if ((seen & required) != required || !scan_valid(s)) return TV_EDECODE;
    return TV_OK;
}

static int decode_venue(crdt_venue_upsert *v, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *o = &m->ptr[i].val;
        uint64_t key, x;
        const uint8_t *b;
        if (crdt_mp_u64(k, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case VK_VENUE:
            if (crdt_mp_bin_n(o, TV_VENUE_ID_BYTES, &b)) return TV_EDECODE;
            memcpy(v->venue, b, TV_VENUE_ID_BYTES);
            break;
        case VK_UNIT:
            if (get_text(o, TV_UNIT_CODE_MAX, &v->unit)) return TV_EDECODE;
            v->fields |= CRDT_VENUE_F_UNIT;
            break;
        case VK_NAME:
            if (get_text(o, CRDT_TEXT_BYTES_MAX, &v->name)) return TV_EDECODE;
            v->fields |= CRDT_VENUE_F_NAME;
            break;
        case VK_CATEGORY:
            if (get_small(o, CATEGORY_CODE_MAX, &x)) return TV_EDECODE;
            v->category = (uint32_t)x;
            v->fields |= CRDT_VENUE_F_CATEGORY;
            break;
        case VK_VILLAGE:
            if (get_text(o, CRDT_TEXT_BYTES_MAX, &v->village)) return TV_EDECODE;
            v->fields |= CRDT_VENUE_F_VILLAGE;
            break;
        case VK_OWNER_PHONE:
            if (get_text(o, CRDT_PHONE_BYTES_MAX, &v->owner_phone)) return TV_EDECODE;
            v->fields |= CRDT_VENUE_F_OWNER_PHONE;
            break;
        case VK_CLOSES:
            if (get_small(o, 1440, &x)) return TV_EDECODE;
            v->closes = (uint32_t)x;
            v->fields |= CRDT_VENUE_F_CLOSES;
            break;
        case VK_NONCE:
            if (crdt_mp_bin_n(o, TV_VENUE_NONCE_BYTES, &b)) return TV_EDECODE;
            memcpy(v->nonce, b, TV_VENUE_NONCE_BYTES);
            v->registers = 1;
            break;
        default:
            break;
        }
    }
    if (!(seen & KEY_BIT(VK_VENUE)) || !venue_valid(v)) return TV_EDECODE;
    return TV_OK;
}

static int decode_cert(crdt_cert_event *c, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        uint64_t key;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        const msgpack_object *v = &m->ptr[i].val;
        if (key == 2) { /* the subject's consent: [name, created, signature] */
            if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size != 3 ||
                get_text(&v->via.array.ptr[0], CRDT_TEXT_BYTES_MAX, &c->consent_name) ||
                crdt_mp_i64(&v->via.array.ptr[1], &c->consent_created_ms) ||
                crdt_mp_bin_n(&v->via.array.ptr[2], TV_SIG_BYTES, &c->consent_sig))
                return TV_EDECODE;
            c->consent = 1;
            continue;
        }
        if (key != 1) continue;
        if (crdt_mp_bin(v, CRDT_CERT_EVENT_BYTES_MAX, &c->cert, &c->len) || c->len == 0)
            return TV_EDECODE;
    }
    if (!consent_valid(c)) return TV_EDECODE;
    return seen & KEY_BIT(1) ? TV_OK : TV_EDECODE;
}

static int decode_revoke(crdt_revoke *r, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        uint64_t key;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        if (key == 1) {
            if (crdt_mp_bin_n(&m->ptr[i].val, TV_NODE_ID_BYTES, &b)) return TV_EDECODE;
            memcpy(r->subject, b, TV_NODE_ID_BYTES);
        } else if (key == 2 && get_text(&m->ptr[i].val, CRDT_TEXT_BYTES_MAX, &r->reason)) {
            return TV_EDECODE;
        }
    }
    return (seen & KEY_BIT(1)) && text_valid(r->reason, CRDT_TEXT_BYTES_MAX, 0) ? TV_OK
                                                                                : TV_EDECODE;
}

static int decode_controller(uint32_t type, crdt_controller *c, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key;
        const uint8_t *b;
        size_t n;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case CK_VENUE:
            if (crdt_mp_bin_n(o, TV_VENUE_ID_BYTES, &b)) return TV_EDECODE;
            memcpy(c->venue, b, TV_VENUE_ID_BYTES);
            break;
        case CK_UNIT:
            if (get_text(o, TV_UNIT_CODE_MAX, &c->unit)) return TV_EDECODE;
            break;
        case CK_PHONE:
            if (get_text(o, CRDT_PHONE_BYTES_MAX, &c->phone)) return TV_EDECODE;
            break;
        case CK_TAGS:
            if (crdt_mp_bin(o, (size_t)CRDT_TAGS_MAX * CRDT_TAG_BYTES, &b, &n) || n == 0 ||
                n % CRDT_TAG_BYTES)
                return TV_EDECODE;
            c->tags = b;
            c->ntags = (uint32_t)(n / CRDT_TAG_BYTES);
            break;
        default:
            break;
        }
    }
    const uint64_t required = KEY_BIT(CK_VENUE) | KEY_BIT(CK_UNIT) | KEY_BIT(CK_PHONE);
    if ((seen & required) != required || !controller_valid(type, c)) return TV_EDECODE;
    return TV_OK;
}

static int decode_reminder(crdt_reminder *r, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key, x;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case CK_VENUE:
            if (crdt_mp_bin_n(o, TV_VENUE_ID_BYTES, &b)) return TV_EDECODE;
            memcpy(r->venue, b, TV_VENUE_ID_BYTES);
            break;
        case CK_UNIT:
            if (get_text(o, TV_UNIT_CODE_MAX, &r->unit)) return TV_EDECODE;
            break;
        case RK_NOTE:
            if (get_text(o, CRDT_TEXT_BYTES_MAX, &r->note)) return TV_EDECODE;
            break;
        case RK_ACTION:
            if (get_small(o, 255, &x)) return TV_EDECODE;
            r->action = (uint8_t)x;
            break;
        default:
            break;
        }
    }
    const uint64_t required = KEY_BIT(CK_VENUE) | KEY_BIT(CK_UNIT) | KEY_BIT(RK_ACTION);
    if ((seen & required) != required || !reminder_valid(r)) return TV_EDECODE;
    return TV_OK;
}

static int decode_sealed(crdt_person *p, const msgpack_object *o)
{
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size == 0 ||
        o->via.array.size > CRDT_SEALED_MAX)
        return TV_EDECODE;
    p->nsealed = o->via.array.size;
    for (uint32_t i = 0; i < p->nsealed; i++) {
        const msgpack_object *e = &o->via.array.ptr[i];
        const uint8_t *to;
        size_t n;
        if (e->type != MSGPACK_OBJECT_ARRAY || e->via.array.size < 2 ||
            crdt_mp_bin_n(&e->via.array.ptr[0], TV_NODE_ID_BYTES, &to) ||
            crdt_mp_bin(&e->via.array.ptr[1], CRDT_SEALED_BYTES_MAX, &p->sealed[i].box, &n))
            return TV_EDECODE;
        memcpy(p->sealed[i].to, to, TV_NODE_ID_BYTES);
        p->sealed[i].len = (uint32_t)n;
    }
    return TV_OK;
}

static int decode_person(crdt_person *p, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key, x;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case PK_PERSON:
            if (crdt_mp_bin_n(o, TV_PERSON_REF_BYTES, &b)) return TV_EDECODE;
            memcpy(p->person, b, TV_PERSON_REF_BYTES);
            break;
        case PK_UNIT:
            if (get_text(o, TV_UNIT_CODE_MAX, &p->unit)) return TV_EDECODE;
            break;
        case PK_NAME:
            if (get_text(o, CRDT_MASKED_BYTES_MAX, &p->name_masked)) return TV_EDECODE;
            break;
        case PK_ID:
            if (get_text(o, CRDT_MASKED_BYTES_MAX, &p->id_masked)) return TV_EDECODE;
            break;
        case PK_BIRTH_YEAR:
            if (get_small(o, 9999, &x)) return TV_EDECODE;
            p->birth_year = (uint32_t)x;
            break;
        case PK_SEALED:
            if (decode_sealed(p, o)) return TV_EDECODE;
            break;
        default:
            break;
        }
    }
    const uint64_t required =
        KEY_BIT(PK_PERSON) | KEY_BIT(PK_UNIT) | KEY_BIT(PK_ID) | KEY_BIT(PK_SEALED);
    if ((seen & required) != required || !person_valid(p)) return TV_EDECODE;
    return TV_OK;
}

static int decode_reveal(crdt_reveal *r, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        if (key == XK_PERSON) {
            if (crdt_mp_bin_n(o, TV_PERSON_REF_BYTES, &b)) return TV_EDECODE;
            memcpy(r->person, b, TV_PERSON_REF_BYTES);
        } else if (key == XK_REASON && get_text(o, CRDT_TEXT_BYTES_MAX, &r->reason)) {
            return TV_EDECODE;
        }
    }
    const uint64_t required = KEY_BIT(XK_PERSON) | KEY_BIT(XK_REASON);
    if ((seen & required) != required || !text_valid(r->reason, CRDT_TEXT_BYTES_MAX, 1))
        return TV_EDECODE;
    return TV_OK;
}

static int decode_retention(crdt_retention *r, const msgpack_object_map *m)
{
    uint64_t seen = 0, v = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        uint64_t key;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        if (key == NK_DAYS && get_small(&m->ptr[i].val, CRDT_RETENTION_DAYS_MAX, &v))
            return TV_EDECODE;
    }
    if (!(seen & KEY_BIT(NK_DAYS)) || v < CRDT_RETENTION_DAYS_MIN) return TV_EDECODE;
    r->days = (uint32_t)v;
    return TV_OK;
}

static int decode_checkpoint(crdt_checkpoint *c, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        if (key == QK_UPTO) {
            if (crdt_mp_u64(o, &c->upto)) return TV_EDECODE;
        } else if (key == QK_HASH) {
            if (crdt_mp_bin_n(o, TV_HASH_BYTES, &b)) return TV_EDECODE;
            memcpy(c->hash, b, TV_HASH_BYTES);
        } else if (key == QK_EVENT) {
            if (o->type != MSGPACK_OBJECT_BIN || o->via.bin.size == 0 ||
                o->via.bin.size > CRDT_EVENT_BYTES_MAX)
                return TV_EDECODE;
            c->event = (const uint8_t *)o->via.bin.ptr;
            c->event_len = o->via.bin.size;
        } else if (key == QK_SEQ) {
            if (crdt_mp_u64(o, &c->seq)) return TV_EDECODE;
        }
    }
    const uint64_t base = KEY_BIT(QK_UPTO) | KEY_BIT(QK_HASH),
                   copy = KEY_BIT(QK_EVENT) | KEY_BIT(QK_SEQ);
    /* one form or the other, never both */
    if ((seen & (base | copy)) == base && c->upto != 0) return TV_OK;
    if ((seen & (base | copy)) == copy && c->seq != 0) {
        c->copy = 1;
        return TV_OK;
    }
    return TV_EDECODE;
}

static int decode_hold(crdt_hold *h, const msgpack_object_map *m)
{
    uint64_t seen = 0, action = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        if (key == HK_PERSON) {
            if (crdt_mp_bin_n(o, TV_PERSON_REF_BYTES, &b)) return TV_EDECODE;
            memcpy(h->person, b, TV_PERSON_REF_BYTES);
        } else if (key == HK_REASON) {
            if (get_text(o, CRDT_TEXT_BYTES_MAX, &h->reason)) return TV_EDECODE;
        } else if (key == HK_ACTION && get_small(o, CRDT_HOLD_LIFT, &action)) {
            return TV_EDECODE;
        }
    }
    const uint64_t required = KEY_BIT(HK_PERSON) | KEY_BIT(HK_REASON) | KEY_BIT(HK_ACTION);
    if ((seen & required) != required || !text_valid(h->reason, CRDT_TEXT_BYTES_MAX, 1))
        return TV_EDECODE;
    h->action = (uint8_t)action;
    return TV_OK;
}

static int decode_risk(crdt_risk *r, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key, x;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case LK_UNIT:
            if (get_text(o, TV_UNIT_CODE_MAX, &r->unit)) return TV_EDECODE;
            break;
        case LK_LEVEL:
            if (get_small(o, CRDT_RISK_LEVEL_MAX, &x)) return TV_EDECODE;
            r->level = (uint8_t)x;
            break;
        case LK_FROM:
            if (crdt_mp_i64(o, &r->from_ms)) return TV_EDECODE;
            break;
        case LK_NOTE:
            if (get_text(o, CRDT_TEXT_BYTES_MAX, &r->note)) return TV_EDECODE;
            break;
        default:
            break;
        }
    }
    const uint64_t required = KEY_BIT(LK_UNIT) | KEY_BIT(LK_LEVEL) | KEY_BIT(LK_FROM);
    if ((seen & required) != required || !risk_valid(r)) return TV_EDECODE;
    return TV_OK;
}

static int decode_unit(crdt_unit *u, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        if ((key == UK_CODE && get_text(o, TV_UNIT_CODE_MAX, &u->code)) ||
            (key == UK_NAME && get_text(o, CRDT_TEXT_BYTES_MAX, &u->name)) ||
            (key == UK_PARENT && get_text(o, TV_UNIT_CODE_MAX, &u->parent)))
            return TV_EDECODE;
    }
    const uint64_t required = KEY_BIT(UK_CODE) | KEY_BIT(UK_NAME) | KEY_BIT(UK_PARENT);
    if ((seen & required) != required || !unit_valid(u)) return TV_EDECODE;
    return TV_OK;
}

static int decode_case(crdt_case *c, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    c->onset_ms = c->sampled_ms = c->at_ms = CRDT_TIME_NONE;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key, x;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case AK_PERSON:
            if (crdt_mp_bin_n(o, TV_PERSON_REF_BYTES, &b)) return TV_EDECODE;
            memcpy(c->person, b, TV_PERSON_REF_BYTES);
            break;
        case AK_UNIT:
            if (get_text(o, TV_UNIT_CODE_MAX, &c->unit)) return TV_EDECODE;
            break;
        case AK_STATUS:
            if (get_small(o, CRDT_CASE_STATUS_MAX, &x)) return TV_EDECODE;
            c->status = (uint8_t)x;
            break;
        case AK_ONSET:
            if (crdt_mp_i64(o, &c->onset_ms) || !crdt_time_valid(c->onset_ms)) return TV_EDECODE;
            break;
        case AK_SAMPLED:
            if (crdt_mp_i64(o, &c->sampled_ms) || !crdt_time_valid(c->sampled_ms))
                return TV_EDECODE;
            break;
        case AK_AT:
            if (crdt_mp_i64(o, &c->at_ms) || !crdt_time_valid(c->at_ms)) return TV_EDECODE;
            break;
        default:
            break;
        }
    }
    const uint64_t required = KEY_BIT(AK_PERSON) | KEY_BIT(AK_UNIT) | KEY_BIT(AK_STATUS);
    if ((seen & required) != required || !case_valid(c)) return TV_EDECODE;
    return TV_OK;
}

static int decode_sealed_event(crdt_sealed_event *s, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key;
        const uint8_t *b;
        size_t n;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case EK_TAG:
            if (crdt_mp_bin_n(o, CRDT_SEALED_TAG_BYTES, &b)) return TV_EDECODE;
            memcpy(s->tag, b, CRDT_SEALED_TAG_BYTES);
            break;
        case EK_NONCE:
            if (crdt_mp_bin_n(o, CRDT_SEALED_NONCE_BYTES, &b)) return TV_EDECODE;
            memcpy(s->nonce, b, CRDT_SEALED_NONCE_BYTES);
            break;
        case EK_BOX:
            if (crdt_mp_bin(o, CRDT_SEALED_BOX_BYTES_MAX, &s->box, &n)) return TV_EDECODE;
            s->len = (uint32_t)n;
            break;
        default:
            break;
        }
    }
    const uint64_t required = KEY_BIT(EK_TAG) | KEY_BIT(EK_NONCE) | KEY_BIT(EK_BOX);
    if ((seen & required) != required || !sealed_valid(s)) return TV_EDECODE;
    return TV_OK;
}

static int decode_exposure(crdt_exposure *x, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        switch (key) {
        case OK_VENUE:
            if (crdt_mp_bin_n(o, TV_VENUE_ID_BYTES, &b)) return TV_EDECODE;
            memcpy(x->venue, b, TV_VENUE_ID_BYTES);
            break;
        case OK_FROM:
            if (crdt_mp_i64(o, &x->from_ms)) return TV_EDECODE;
            break;
        case OK_TO:
            if (crdt_mp_i64(o, &x->to_ms)) return TV_EDECODE;
            break;
        default:
            break;
        }
    }
    const uint64_t required = KEY_BIT(OK_VENUE) | KEY_BIT(OK_FROM) | KEY_BIT(OK_TO);
    if ((seen & required) != required || !exposure_valid(x)) return TV_EDECODE;
    return TV_OK;
}

static int decode_grant(crdt_key_grant *g, const msgpack_object_map *m)
{
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *o = &m->ptr[i].val;
        uint64_t key;
        const uint8_t *b;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        if (key == GK_SUBJECT) {
            if (crdt_mp_bin_n(o, TV_NODE_ID_BYTES, &b)) return TV_EDECODE;
            memcpy(g->subject, b, TV_NODE_ID_BYTES);
        } else if (key == GK_UNIT) {
            if (get_text(o, TV_UNIT_CODE_MAX, &g->unit)) return TV_EDECODE;
        } else if (key == GK_BOX) {
            if (crdt_mp_bin_n(o, CRDT_GRANT_BOX_BYTES, &g->box)) return TV_EDECODE;
        }
    }
    const uint64_t required = KEY_BIT(GK_SUBJECT) | KEY_BIT(GK_UNIT) | KEY_BIT(GK_BOX);
    if ((seen & required) != required || !grant_valid(g)) return TV_EDECODE;
    return TV_OK;
}

int crdt_event_decode(crdt_event *ev, msgpack_unpacked *scratch, const uint8_t *buf, size_t len)
{
    memset(ev, 0, sizeof *ev);
    /* a checkpoint's copy carries an event of up to CRDT_EVENT_BYTES_MAX (checked below) */
    if (len > CRDT_EVENT_BYTES_MAX + CRDT_COPY_OVERHEAD_MAX) return TV_ELIMIT;
    int rc = crdt_mp_unpack_exact(scratch, buf, len);
    if (rc) return rc;
    const msgpack_object *o = &scratch->data;
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 2) return TV_EDECODE;
    uint64_t type, hlc;
    if (crdt_mp_u64(&o->via.array.ptr[0], &type) || type == 0 || type > UINT32_MAX ||
        crdt_mp_u64(&o->via.array.ptr[1], &hlc))
        return TV_EDECODE;
    if (len > CRDT_EVENT_BYTES_MAX && type != CRDT_EV_CHECKPOINT) return TV_ELIMIT;
    crdt_event e = {.type = (uint32_t)type, .hlc = hlc, .raw = buf, .raw_len = len};
    if (crdt_event_type_name((uint32_t)type)) {
        if (o->via.array.size < 3 || o->via.array.ptr[2].type != MSGPACK_OBJECT_MAP)
            return TV_EDECODE;
        const msgpack_object_map *m = &o->via.array.ptr[2].via.map;
        switch (type) {
        case CRDT_EV_SCAN:
            rc = decode_scan(&e.u.scan, m);
            break;
        case CRDT_EV_VENUE_UPSERT:
            rc = decode_venue(&e.u.venue, m);
            break;
        case CRDT_EV_CERT:
            rc = decode_cert(&e.u.cert, m);
            break;
        case CRDT_EV_REVOKE:
            rc = decode_revoke(&e.u.revoke, m);
            break;
        case CRDT_EV_CONTROLLER_ADD:
        case CRDT_EV_CONTROLLER_REMOVE:
            rc = decode_controller((uint32_t)type, &e.u.controller, m);
            break;
        case CRDT_EV_VENUE_REMINDER:
            rc = decode_reminder(&e.u.reminder, m);
            break;
        case CRDT_EV_PERSON:
            rc = decode_person(&e.u.person, m);
            break;
        case CRDT_EV_RISK_LEVEL:
            rc = decode_risk(&e.u.risk, m);
            break;
        case CRDT_EV_CASE_STATUS:
            rc = decode_case(&e.u.cstatus, m);
            break;
        case CRDT_EV_UNIT:
            rc = decode_unit(&e.u.unit, m);
            break;
        case CRDT_EV_KEY_GRANT:
            rc = decode_grant(&e.u.grant, m);
            break;
        case CRDT_EV_SEALED:
            rc = decode_sealed_event(&e.u.sealed, m);
            break;
        case CRDT_EV_EXPOSURE:
            rc = decode_exposure(&e.u.exposure, m);
            break;
        case CRDT_EV_RETENTION:
            rc = decode_retention(&e.u.retention, m);
            break;
        case CRDT_EV_CHECKPOINT:
            rc = decode_checkpoint(&e.u.checkpoint, m);
            break;
        case CRDT_EV_HOLD:
            rc = decode_hold(&e.u.hold, m);
            break;
        default:
            rc = decode_reveal(&e.u.reveal, m);
            break;
        }
        if (rc) return rc;
        e.known = 1;
    }
    *ev = e;
    return TV_OK;
}
