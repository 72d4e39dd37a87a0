/* Versioned msgpack codec for log events (layout in PROTOCOL.md). */
#include "crdt/event.h"
#include "crdt/assert.h"
#include "crdt/error.h"
#include "crdt/mp.h"

#include <sodium.h>
#include <stddef.h>
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
/* Map keys of the key_grant, cert and revoke events. */
enum { GK_SUBJECT = 1, GK_UNIT = 2, GK_BOX = 3 };
enum { TK_CERT = 1, TK_CONSENT = 2 /* [name, created, signature] */ };
enum { RVK_SUBJECT = 1, RVK_REASON = 2 };

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

static int phone_valid(crdt_text t)
{
    if (t.n < 9 || t.n > CRDT_PHONE_BYTES_MAX || !t.p || t.p[0] != '0') return 0;
    for (uint32_t i = 0; i < t.n; i++)
        if (t.p[i] < '0' || t.p[i] > '9') return 0;
    return 1;
}

/* --- the description of each event type ----------------------------------------------
 *
 * An event's fields are a msgpack map from small unsigned keys to values. Each type is
 * described once, as the list of its fields in key order: the key, the kind of value, the
 * bounds of the value, where the value lives in the type's C struct, and when the field is
 * in the map. Encoding, decoding and validation all walk that list; what a type needs
 * beyond its fields one by one (a rule across fields) is its `check`. */

enum field_kind {
    K_UINT,    /* an unsigned integer of `width` bytes, in [min, max] */
    K_TIME,    /* an int64_t time in ms (crdt_time_valid) */
    K_BYTES,   /* a bin of exactly `width` bytes, copied into a uint8_t[width] */
    K_REF,     /* a bin of exactly `max` bytes, borrowed: a const uint8_t * */
    K_BLOB,    /* a bin of min..max units of `unit` bytes, borrowed: a const uint8_t * and
                * its count of units at len_off (len_width bytes) */
    K_TEXT,    /* a str of at most max bytes that is text (crdt_text_valid); min 1: not empty */
    K_UNIT,    /* a str that is a unit code (crdt_unit_code_valid) */
    K_PHONE,   /* a str that is a phone number, 0 and 8 to 14 more digits */
    K_SEALED,  /* person: an array of 1..CRDT_SEALED_MAX [recipient node id, box] */
    K_CONSENT, /* cert: the subject's consent, [name, created, signature] */
};

enum field_when {
    W_ALWAYS, /* required: always encoded; decoding fails without it */
    W_SET,    /* optional: encoded when set (text not empty, integer or count not 0, time not
               * CRDT_TIME_NONE); when absent a time decodes as CRDT_TIME_NONE, others as 0 */
    W_BIT,    /* optional: encoded when `bit` is set in the uint32_t at cond_off, which
               * decoding sets */
    W_FLAG,   /* optional: encoded when the int at cond_off is not 0; decoding sets it to 1 */
    W_NOFLAG, /* optional: encoded when the int at cond_off is 0 */
};

typedef struct field {
    uint8_t key, kind, when;
    uint8_t width, len_width; /* of the value, and of a blob's count */
    uint16_t off, len_off, cond_off;
    uint32_t bit, unit;
    uint64_t min, max;
    /* how the field is shown (crdt_event_fields): its name, and a crdt_show other than
     * the one its kind implies (SHOW_HIDDEN: not at all); label_of names a K_UINT value */
    const char *name;
    uint8_t show, shown_absent; /* shown_absent: shown (empty) when not in the map */
    const char *(*label_of)(uint64_t v);
} field;

typedef struct event_desc {
    const field *f;
    uint32_t n;
    /* rules across fields, or NULL; present holds KEY_BIT of each field in the map */
    int (*check)(uint32_t type, const void *st, uint64_t present);
} event_desc;

/* The bit of a key in a set of keys. */
#define KEY_BIT(k) (UINT64_C(1) << (k))

#define AT(T, m) .off = offsetof(T, m), .width = sizeof(((T *)0)->m)
#define LEN(T, m) .len_off = offsetof(T, m), .len_width = sizeof(((T *)0)->m)
#define F(k, kd, T, m) FN(k, kd, T, m, #m)
#define FN(k, kd, T, m, nm) .key = (k), .kind = (kd), AT(T, m), .name = (nm) /* shown as nm */
#define SHOWN_AS(s) .show = (s)        /* shown otherwise than its kind implies */
#define SHOWN_ABSENT .shown_absent = 1 /* shown, empty, when not in the map */
#define LABELS(fn) .show = CRDT_SHOW_NAME, .label_of = (fn)
#define SHOW_HIDDEN 0xff /* never shown: nonces, boxes, signatures */
#define OPTIONAL .when = W_SET
#define IF_BIT(T, m, b) .when = W_BIT, .cond_off = offsetof(T, m), .bit = (b)
#define IF_FLAG(T, m) .when = W_FLAG, .cond_off = offsetof(T, m)
#define IF_NOT_FLAG(T, m) .when = W_NOFLAG, .cond_off = offsetof(T, m)
#define DESC(fields, chk)                                                                          \
    {                                                                                              \
        (fields), sizeof(fields) / sizeof((fields)[0]), (chk)                                      \
    }

/* The names `log` shows for the values of a field (LABELS). */
static const char *direction_label(uint64_t v)
{
    return v == CRDT_DIR_IN ? "in" : v == CRDT_DIR_OUT ? "out" : NULL;
}

static const char *method_label(uint64_t v)
{
    return v <= UINT32_MAX ? crdt_method_name((uint32_t)v) : NULL;
}

static const char *reminder_label(uint64_t v)
{
    return v == CRDT_REMIND ? "remind" : v == CRDT_REINSTATE ? "reinstate" : NULL;
}

static const char *status_label(uint64_t v)
{
    return v <= CRDT_CASE_STATUS_MAX ? crdt_case_status_name((uint32_t)v) : NULL;
}

static const char *hold_label(uint64_t v)
{
    return v == CRDT_HOLD_PLACE ? "place" : v == CRDT_HOLD_LIFT ? "lift" : NULL;
}

static const field scan_fields[] = {
    {F(SK_VENUE, K_BYTES, crdt_scan, venue)},
    {F(SK_UNIT, K_UNIT, crdt_scan, unit)},
    {F(SK_PERSON, K_BYTES, crdt_scan, person)},
    {F(SK_MASKED, K_TEXT, crdt_scan, masked), .max = CRDT_MASKED_BYTES_MAX, OPTIONAL, SHOWN_ABSENT},
    {F(SK_DIR, K_UINT, crdt_scan, direction), .min = CRDT_DIR_IN, .max = CRDT_DIR_OUT,
     LABELS(direction_label)},
    {FN(SK_AT, K_TIME, crdt_scan, at_ms, "at")},
    {F(SK_METHOD, K_UINT, crdt_scan, method), .min = 1, .max = CRDT_METHOD_MAX,
     LABELS(method_label)},
    {F(SK_DEVICE, K_TEXT, crdt_scan, device), .max = CRDT_DEVICE_BYTES_MAX, OPTIONAL},
};

static const field venue_fields[] = {
    {F(VK_VENUE, K_BYTES, crdt_venue_upsert, venue)},
    {F(VK_UNIT, K_UNIT, crdt_venue_upsert, unit),
     IF_BIT(crdt_venue_upsert, fields, CRDT_VENUE_F_UNIT)},
    {F(VK_NAME, K_TEXT, crdt_venue_upsert, name), .min = 1, .max = CRDT_TEXT_BYTES_MAX,
     IF_BIT(crdt_venue_upsert, fields, CRDT_VENUE_F_NAME)},
    {F(VK_CATEGORY, K_UINT, crdt_venue_upsert, category), .min = 1, .max = CATEGORY_CODE_MAX,
     IF_BIT(crdt_venue_upsert, fields, CRDT_VENUE_F_CATEGORY), SHOWN_AS(CRDT_SHOW_CATEGORY)},
    {F(VK_VILLAGE, K_TEXT, crdt_venue_upsert, village), .max = CRDT_TEXT_BYTES_MAX,
     IF_BIT(crdt_venue_upsert, fields, CRDT_VENUE_F_VILLAGE)},
    {F(VK_OWNER_PHONE, K_TEXT, crdt_venue_upsert, owner_phone), .max = CRDT_PHONE_BYTES_MAX,
     IF_BIT(crdt_venue_upsert, fields, CRDT_VENUE_F_OWNER_PHONE)},
    {F(VK_CLOSES, K_UINT, crdt_venue_upsert, closes), .max = 1440,
     IF_BIT(crdt_venue_upsert, fields, CRDT_VENUE_F_CLOSES), SHOWN_AS(CRDT_SHOW_MINUTE)},
    {F(VK_NONCE, K_BYTES, crdt_venue_upsert, nonce), IF_FLAG(crdt_venue_upsert, registers),
     SHOWN_AS(SHOW_HIDDEN)},
};

static int venue_check(uint32_t type, const void *st, uint64_t present)
{
    (void)type, (void)present;
    const crdt_venue_upsert *v = st;
    if (v->fields == 0 || v->fields >= (1u << CRDT_VENUE_FIELDS)) return 0;
    return !v->registers || (v->fields & CRDT_VENUE_F_UNIT); /* a registration names it */
}

static const field controller_fields[] = {
    {F(CK_VENUE, K_BYTES, crdt_controller, venue)},
    {F(CK_UNIT, K_UNIT, crdt_controller, unit)},
    {F(CK_PHONE, K_PHONE, crdt_controller, phone)},
    {F(CK_TAGS, K_BLOB, crdt_controller, tags), LEN(crdt_controller, ntags), .unit = CRDT_TAG_BYTES,
     .min = 1, .max = CRDT_TAGS_MAX, OPTIONAL},
};

static int controller_check(uint32_t type, const void *st, uint64_t present)
{
    (void)present;
    const crdt_controller *c = st;
    if (type != CRDT_EV_CONTROLLER_ADD && type != CRDT_EV_CONTROLLER_REMOVE) return 0;
    return type == CRDT_EV_CONTROLLER_REMOVE || c->ntags == 0; /* an add removes nothing */
}

static const field reminder_fields[] = {
    {F(CK_VENUE, K_BYTES, crdt_reminder, venue)},
    {F(CK_UNIT, K_UNIT, crdt_reminder, unit)},
    {F(RK_NOTE, K_TEXT, crdt_reminder, note), .max = CRDT_TEXT_BYTES_MAX, OPTIONAL},
    {F(RK_ACTION, K_UINT, crdt_reminder, action), .min = CRDT_REMIND, .max = CRDT_REINSTATE,
     LABELS(reminder_label)},
};

static const field person_fields[] = {
    {F(PK_PERSON, K_BYTES, crdt_person, person)},
    {F(PK_UNIT, K_UNIT, crdt_person, unit)},
    {F(PK_NAME, K_TEXT, crdt_person, name_masked), .max = CRDT_MASKED_BYTES_MAX, OPTIONAL},
    {F(PK_ID, K_TEXT, crdt_person, id_masked), .min = 1, .max = CRDT_MASKED_BYTES_MAX},
    {F(PK_BIRTH_YEAR, K_UINT, crdt_person, birth_year), .max = 9999, OPTIONAL},
    {FN(PK_SEALED, K_SEALED, crdt_person, sealed, "sealed_to")},
};

static const field reveal_fields[] = {
    {F(XK_PERSON, K_BYTES, crdt_reveal, person)},
    {F(XK_REASON, K_TEXT, crdt_reveal, reason), .min = 1, .max = CRDT_TEXT_BYTES_MAX},
};

static const field risk_fields[] = {
    {F(LK_UNIT, K_UNIT, crdt_risk, unit)},
    {F(LK_LEVEL, K_UINT, crdt_risk, level), .min = 1, .max = CRDT_RISK_LEVEL_MAX},
    {FN(LK_FROM, K_TIME, crdt_risk, from_ms, "from")},
    {F(LK_NOTE, K_TEXT, crdt_risk, note), .max = CRDT_TEXT_BYTES_MAX, OPTIONAL},
};

static const field unit_fields[] = {
    {F(UK_CODE, K_UNIT, crdt_unit, code)},
    {F(UK_NAME, K_TEXT, crdt_unit, name), .min = 1, .max = CRDT_TEXT_BYTES_MAX},
    {F(UK_PARENT, K_UNIT, crdt_unit, parent)},
};

static int unit_check(uint32_t type, const void *st, uint64_t present)
{
    (void)type, (void)present;
    const crdt_unit *u = st; /* not its own parent */
    return !(u->code.n == u->parent.n && memcmp(u->code.p, u->parent.p, u->code.n) == 0);
}

static const field case_fields[] = {
    {F(AK_PERSON, K_BYTES, crdt_case, person)},
    {F(AK_UNIT, K_UNIT, crdt_case, unit)},
    {F(AK_STATUS, K_UINT, crdt_case, status), .max = CRDT_CASE_STATUS_MAX, LABELS(status_label)},
    {FN(AK_ONSET, K_TIME, crdt_case, onset_ms, "onset"), OPTIONAL},
    {FN(AK_SAMPLED, K_TIME, crdt_case, sampled_ms, "sampled"), OPTIONAL},
    {FN(AK_AT, K_TIME, crdt_case, at_ms, "at"), OPTIONAL},
};

static int case_check(uint32_t type, const void *st, uint64_t present)
{
    (void)type, (void)present;
    const crdt_case *c = st; /* an F0's infectious window starts from onset or sample */
    return c->status != CRDT_CASE_F0 || c->onset_ms >= 0 || c->sampled_ms >= 0;
}

static const field sealed_fields[] = {
    {F(EK_TAG, K_BYTES, crdt_sealed_event, tag)},
    {F(EK_NONCE, K_BYTES, crdt_sealed_event, nonce), SHOWN_AS(SHOW_HIDDEN)},
    {FN(EK_BOX, K_BLOB, crdt_sealed_event, box, "box_bytes"), LEN(crdt_sealed_event, len),
     .unit = 1, .min = crypto_aead_xchacha20poly1305_ietf_ABYTES + 1,
     .max = CRDT_SEALED_BOX_BYTES_MAX, SHOWN_AS(CRDT_SHOW_LENGTH)},
};

static const field exposure_fields[] = {
    {F(OK_VENUE, K_BYTES, crdt_exposure, venue)},
    {FN(OK_FROM, K_TIME, crdt_exposure, from_ms, "from")},
    {FN(OK_TO, K_TIME, crdt_exposure, to_ms, "to")},
};

static int exposure_check(uint32_t type, const void *st, uint64_t present)
{
    (void)type, (void)present;
    const crdt_exposure *x = st;
    return x->from_ms < x->to_ms;
}

static const field retention_fields[] = {
    {F(NK_DAYS, K_UINT, crdt_retention, days), .min = CRDT_RETENTION_DAYS_MIN,
     .max = CRDT_RETENTION_DAYS_MAX},
};

static const field checkpoint_fields[] = {
    {F(QK_UPTO, K_UINT, crdt_checkpoint, upto), .min = 1, .max = UINT64_MAX,
     IF_NOT_FLAG(crdt_checkpoint, copy)},
    {F(QK_HASH, K_BYTES, crdt_checkpoint, hash), IF_NOT_FLAG(crdt_checkpoint, copy)},
    {F(QK_EVENT, K_BLOB, crdt_checkpoint, event), LEN(crdt_checkpoint, event_len), .unit = 1,
     .min = 1, .max = CRDT_EVENT_BYTES_MAX, IF_FLAG(crdt_checkpoint, copy)},
    {FN(QK_SEQ, K_UINT, crdt_checkpoint, seq, "copy_of"), .min = 1, .max = UINT64_MAX,
     IF_FLAG(crdt_checkpoint, copy)},
};

static int checkpoint_check(uint32_t type, const void *st, uint64_t present)
{
    (void)type, (void)st;
    const uint64_t base = KEY_BIT(QK_UPTO) | KEY_BIT(QK_HASH),
                   copy = KEY_BIT(QK_EVENT) | KEY_BIT(QK_SEQ);
    present &= base | copy; /* one form or the other, whole, never both */
    return present == base || present == copy;
}

static const field hold_fields[] = {
    {F(HK_PERSON, K_BYTES, crdt_hold, person)},
    {F(HK_REASON, K_TEXT, crdt_hold, reason), .min = 1, .max = CRDT_TEXT_BYTES_MAX},
    {F(HK_ACTION, K_UINT, crdt_hold, action), .min = CRDT_HOLD_PLACE, .max = CRDT_HOLD_LIFT,
     LABELS(hold_label)},
};

static const field grant_fields[] = {
    {F(GK_SUBJECT, K_BYTES, crdt_key_grant, subject)},
    {F(GK_UNIT, K_UNIT, crdt_key_grant, unit)},
    {F(GK_BOX, K_REF, crdt_key_grant, box), .max = CRDT_GRANT_BOX_BYTES, SHOWN_AS(SHOW_HIDDEN)},
};

static const field cert_fields[] = {
    {F(TK_CERT, K_BLOB, crdt_cert_event, cert), LEN(crdt_cert_event, len), .unit = 1, .min = 1,
     .max = CRDT_CERT_EVENT_BYTES_MAX, SHOWN_AS(CRDT_SHOW_CERT)},
    {F(TK_CONSENT, K_CONSENT, crdt_cert_event, consent_name), IF_FLAG(crdt_cert_event, consent)},
};

static const field revoke_fields[] = {
    {F(RVK_SUBJECT, K_BYTES, crdt_revoke, subject)},
    {F(RVK_REASON, K_TEXT, crdt_revoke, reason), .max = CRDT_TEXT_BYTES_MAX, OPTIONAL},
};

static const event_desc scan_desc = DESC(scan_fields, NULL);
static const event_desc venue_desc = DESC(venue_fields, venue_check);
static const event_desc controller_desc = DESC(controller_fields, controller_check);
static const event_desc reminder_desc = DESC(reminder_fields, NULL);
static const event_desc person_desc = DESC(person_fields, NULL);
static const event_desc reveal_desc = DESC(reveal_fields, NULL);
static const event_desc risk_desc = DESC(risk_fields, NULL);
static const event_desc unit_desc = DESC(unit_fields, unit_check);
static const event_desc case_desc = DESC(case_fields, case_check);
static const event_desc sealed_desc = DESC(sealed_fields, NULL);
static const event_desc exposure_desc = DESC(exposure_fields, exposure_check);
static const event_desc retention_desc = DESC(retention_fields, NULL);
static const event_desc checkpoint_desc = DESC(checkpoint_fields, checkpoint_check);
static const event_desc hold_desc = DESC(hold_fields, NULL);
static const event_desc grant_desc = DESC(grant_fields, NULL);
static const event_desc cert_desc = DESC(cert_fields, NULL);
static const event_desc revoke_desc = DESC(revoke_fields, NULL);

/* The description of each known type, by type number. */
static const event_desc *const descs[] = {
    [CRDT_EV_VENUE_UPSERT] = &venue_desc,
    [CRDT_EV_CONTROLLER_ADD] = &controller_desc,
    [CRDT_EV_CONTROLLER_REMOVE] = &controller_desc,
    [CRDT_EV_VENUE_REMINDER] = &reminder_desc,
    [CRDT_EV_SCAN] = &scan_desc,
    [CRDT_EV_RISK_LEVEL] = &risk_desc,
    [CRDT_EV_CASE_STATUS] = &case_desc,
    [CRDT_EV_CERT] = &cert_desc,
    [CRDT_EV_REVOKE] = &revoke_desc,
    [CRDT_EV_PERSON] = &person_desc,
    [CRDT_EV_REVEAL] = &reveal_desc,
    [CRDT_EV_UNIT] = &unit_desc,
    [CRDT_EV_KEY_GRANT] = &grant_desc,
    [CRDT_EV_SEALED] = &sealed_desc,
    [CRDT_EV_RETENTION] = &retention_desc,
    [CRDT_EV_CHECKPOINT] = &checkpoint_desc,
    [CRDT_EV_HOLD] = &hold_desc,
    [CRDT_EV_EXPOSURE] = &exposure_desc,
};

static const event_desc *desc_of(uint32_t type)
{
    return type < sizeof descs / sizeof descs[0] ? descs[type] : NULL;
}

/* --- reading and writing one field's value in its struct ------------------------------- */

static uint64_t get_uint(const void *st, size_t off, unsigned width)
{
    const char *p = (const char *)st + off;
    switch (width) {
    case 1:
        return *(const uint8_t *)p;
    case 2: {
        uint16_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
}

static void set_uint(void *st, size_t off, unsigned width, uint64_t x)
{
    char *p = (char *)st + off;
    switch (width) {
    case 1:
        *(uint8_t *)p = (uint8_t)x;
        break;
    case 2: {
        uint16_t v = (uint16_t)x;
        memcpy(p, &v, sizeof v);
        break;
    }
    case 4: {
        uint32_t v = (uint32_t)x;
        memcpy(p, &v, sizeof v);
        break;
    }
    default:
        memcpy(p, &x, sizeof x);
        break;
    }
}

/* A borrowed pointer to bytes, as the struct holds it. */
typedef const uint8_t *bytes_ref;

#define AT_PTR(st, off, T) ((T *)(void *)((char *)(st) + (off)))
#define AT_CPTR(st, off, T) ((const T *)(const void *)((const char *)(st) + (off)))

static int get_int(const void *st, size_t off)
{
    return *AT_CPTR(st, off, int);
}

/* Whether the field is in the map of the event st describes. */
static int field_present(const field *f, const void *st)
{
    switch (f->when) {
    case W_ALWAYS:
        return 1;
    case W_BIT:
        return (get_uint(st, f->cond_off, 4) & f->bit) != 0;
    case W_FLAG:
        return get_int(st, f->cond_off) != 0;
    case W_NOFLAG:
        return get_int(st, f->cond_off) == 0;
    }
    switch (f->kind) { /* W_SET */
    case K_TIME:
        return *AT_CPTR(st, f->off, int64_t) != CRDT_TIME_NONE;
    case K_TEXT:
    case K_UNIT:
    case K_PHONE:
        return AT_CPTR(st, f->off, crdt_text)->n != 0;
    case K_BLOB:
        return get_uint(st, f->len_off, f->len_width) != 0;
    default:
        return get_uint(st, f->off, f->width) != 0;
    }
}

/* --- validation: the same rules for what is encoded and what is decoded ---------------- */

static int sealed_list_valid(const crdt_person *p)
{
    if (p->nsealed == 0 || p->nsealed > CRDT_SEALED_MAX) return 0;
    for (uint32_t i = 0; i < p->nsealed; i++)
        if (!p->sealed[i].box || p->sealed[i].len == 0 || p->sealed[i].len > CRDT_SEALED_BYTES_MAX)
            return 0;
    return 1;
}

static int consent_valid(const crdt_cert_event *c)
{
    return text_valid(c->consent_name, CRDT_TEXT_BYTES_MAX, 1) && c->consent_created_ms >= 0 &&
           c->consent_sig != NULL;
}

static int field_valid(const field *f, const void *st)
{
    switch (f->kind) {
    case K_UINT: {
        uint64_t v = get_uint(st, f->off, f->width);
        return v >= f->min && v <= f->max;
    }
    case K_TIME:
        return crdt_time_valid(*AT_CPTR(st, f->off, int64_t));
    case K_BYTES:
        return 1;
    case K_REF:
        return *AT_CPTR(st, f->off, bytes_ref) != NULL;
    case K_BLOB: {
        uint64_t n = get_uint(st, f->len_off, f->len_width);
        return n >= f->min && n <= f->max && *AT_CPTR(st, f->off, bytes_ref) != NULL;
    }
    case K_TEXT:
        return text_valid(*AT_CPTR(st, f->off, crdt_text), f->max, f->min != 0);
    case K_UNIT: {
        const crdt_text *t = AT_CPTR(st, f->off, crdt_text);
        return crdt_unit_code_valid(t->p, t->n);
    }
    case K_PHONE:
        return phone_valid(*AT_CPTR(st, f->off, crdt_text));
    case K_SEALED:
        return sealed_list_valid(AT_CPTR(st, f->off - offsetof(crdt_person, sealed), crdt_person));
    case K_CONSENT:
        return consent_valid(
            AT_CPTR(st, f->off - offsetof(crdt_cert_event, consent_name), crdt_cert_event));
    }
    return 0;
}

/* Whether each field in the map of the event st is valid; stores the set of their keys in
 * *present. */
static int fields_valid(const event_desc *d, const void *st, uint64_t *present)
{
    uint64_t in = 0;
    for (uint32_t i = 0; i < d->n; i++) {
        const field *f = &d->f[i];
        if (!field_present(f, st)) continue;
        in |= KEY_BIT(f->key);
        if (!field_valid(f, st)) return 0;
    }
    *present = in;
    return 1;
}

/* Whether the event st is valid as type, its map holding the keys in `keys`. */
static int event_valid(const event_desc *d, uint32_t type, const void *st, uint64_t *present,
                       const uint64_t *keys)
{
    if (!fields_valid(d, st, present)) return 0;
    return !d->check || d->check(type, st, keys ? *keys : *present);
}

/* --- encoding ------------------------------------------------------------------------- */

static int pack_text(msgpack_packer *pk, crdt_text t)
{
    return msgpack_pack_str_with_body(pk, t.p, t.n);
}

static int pack_bin(msgpack_packer *pk, const uint8_t *p, size_t n)
{
    return msgpack_pack_bin_with_body(pk, p, n);
}

static int pack_field(msgpack_packer *pk, const field *f, const void *st)
{
    int e = msgpack_pack_uint8(pk, f->key);
    switch (f->kind) {
    case K_UINT: /* msgpack-c writes the shortest form whatever the C type */
        return e | msgpack_pack_uint64(pk, get_uint(st, f->off, f->width));
    case K_TIME:
        return e | msgpack_pack_int64(pk, *AT_CPTR(st, f->off, int64_t));
    case K_BYTES:
        return e | pack_bin(pk, AT_CPTR(st, f->off, uint8_t), f->width);
    case K_REF:
        return e | pack_bin(pk, *AT_CPTR(st, f->off, bytes_ref), f->max);
    case K_BLOB:
        return e | pack_bin(pk, *AT_CPTR(st, f->off, bytes_ref),
                            get_uint(st, f->len_off, f->len_width) * f->unit);
    case K_TEXT:
    case K_UNIT:
    case K_PHONE:
        return e | pack_text(pk, *AT_CPTR(st, f->off, crdt_text));
    case K_SEALED: {
        const crdt_person *p = AT_CPTR(st, f->off - offsetof(crdt_person, sealed), crdt_person);
        e |= msgpack_pack_array(pk, p->nsealed);
        for (uint32_t i = 0; i < p->nsealed; i++)
            e |= msgpack_pack_array(pk, 2) | pack_bin(pk, p->sealed[i].to, TV_NODE_ID_BYTES) |
                 pack_bin(pk, p->sealed[i].box, p->sealed[i].len);
        return e;
    }
    case K_CONSENT: {
        const crdt_cert_event *c =
            AT_CPTR(st, f->off - offsetof(crdt_cert_event, consent_name), crdt_cert_event);
        return e | msgpack_pack_array(pk, 3) | pack_text(pk, c->consent_name) |
               msgpack_pack_int64(pk, c->consent_created_ms) |
               pack_bin(pk, c->consent_sig, TV_SIG_BYTES);
    }
    }
    return -1;
}

/* Appends [type, hlc, {fields}] for an event already validated; present is its set of keys. */
static int pack_valid(msgpack_packer *pk, const event_desc *d, uint32_t type, uint64_t hlc,
                      const void *st, uint64_t present)
{
    int e = msgpack_pack_array(pk, 3) | msgpack_pack_uint32(pk, type) |
            msgpack_pack_uint64(pk, hlc) |
            msgpack_pack_map(pk, (uint32_t)__builtin_popcountll(present));
    for (uint32_t i = 0; i < d->n; i++)
        if (present & KEY_BIT(d->f[i].key)) e |= pack_field(pk, &d->f[i], st);
    return e ? TV_ENOMEM : TV_OK;
}

#if TV_ASSERT_COSTLY_ON
/* Whether the event encoded alone decodes to a view that encodes back to the same bytes:
 * every field encoded reads back as it was written. */
static int round_trips(const event_desc *d, uint32_t type, uint64_t hlc, const void *st,
                       uint64_t present)
{
    msgpack_sbuffer a, b;
    msgpack_packer pa, pb;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    msgpack_packer_init(&pa, &a, msgpack_sbuffer_write);
    msgpack_packer_init(&pb, &b, msgpack_sbuffer_write);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    uint64_t again;
    int ok = 1; /* a buffer that could not grow proves nothing about the codec */
    if (pack_valid(&pa, d, type, hlc, st, present) == TV_OK) {
        ok = crdt_event_decode(&ev, &u, (const uint8_t *)a.data, a.size) == TV_OK && ev.known &&
             ev.type == type && ev.hlc == hlc && event_valid(d, type, &ev.u, &again, NULL) &&
             again == present;
        if (ok && pack_valid(&pb, d, type, hlc, &ev.u, again) == TV_OK)
            ok = a.size == b.size && memcmp(a.data, b.data, a.size) == 0;
    }
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
    return ok;
}
#endif

/* Validates, then appends one event of the type d describes. */
static int pack_event(msgpack_packer *pk, const event_desc *d, uint32_t type, uint64_t hlc,
                      const void *st)
{
    uint64_t present;
    if (!event_valid(d, type, st, &present, NULL)) return TV_EINVAL;
    /* paired with the decoder: what is encoded here reads back as the same event */
    TV_ASSERT_COSTLY(round_trips(d, type, hlc, st, present));
    return pack_valid(pk, d, type, hlc, st, present);
}

int crdt_event_pack_scan(msgpack_packer *pk, uint64_t hlc, const crdt_scan *s)
{
    return pack_event(pk, &scan_desc, CRDT_EV_SCAN, hlc, s);
}

int crdt_event_pack_venue(msgpack_packer *pk, uint64_t hlc, const crdt_venue_upsert *v)
{
    return pack_event(pk, &venue_desc, CRDT_EV_VENUE_UPSERT, hlc, v);
}

int crdt_event_pack_controller(msgpack_packer *pk, uint32_t type, uint64_t hlc,
                               const crdt_controller *c)
{
    return pack_event(pk, &controller_desc, type, hlc, c);
}

int crdt_event_pack_reminder(msgpack_packer *pk, uint64_t hlc, const crdt_reminder *r)
{
    return pack_event(pk, &reminder_desc, CRDT_EV_VENUE_REMINDER, hlc, r);
}

int crdt_event_pack_person(msgpack_packer *pk, uint64_t hlc, const crdt_person *p)
{
    return pack_event(pk, &person_desc, CRDT_EV_PERSON, hlc, p);
}

int crdt_event_pack_reveal(msgpack_packer *pk, uint64_t hlc, const crdt_reveal *r)
{
    return pack_event(pk, &reveal_desc, CRDT_EV_REVEAL, hlc, r);
}

int crdt_event_pack_retention(msgpack_packer *pk, uint64_t hlc, const crdt_retention *r)
{
    return pack_event(pk, &retention_desc, CRDT_EV_RETENTION, hlc, r);
}

int crdt_event_pack_checkpoint(msgpack_packer *pk, uint64_t hlc, const crdt_checkpoint *c)
{
    return pack_event(pk, &checkpoint_desc, CRDT_EV_CHECKPOINT, hlc, c);
}

int crdt_event_pack_hold(msgpack_packer *pk, uint64_t hlc, const crdt_hold *h)
{
    return pack_event(pk, &hold_desc, CRDT_EV_HOLD, hlc, h);
}

int crdt_event_pack_risk(msgpack_packer *pk, uint64_t hlc, const crdt_risk *r)
{
    return pack_event(pk, &risk_desc, CRDT_EV_RISK_LEVEL, hlc, r);
}

int crdt_event_pack_unit(msgpack_packer *pk, uint64_t hlc, const crdt_unit *u)
{
    return pack_event(pk, &unit_desc, CRDT_EV_UNIT, hlc, u);
}

int crdt_event_pack_case(msgpack_packer *pk, uint64_t hlc, const crdt_case *c)
{
    return pack_event(pk, &case_desc, CRDT_EV_CASE_STATUS, hlc, c);
}

int crdt_event_pack_sealed(msgpack_packer *pk, uint64_t hlc, const crdt_sealed_event *s)
{
    return pack_event(pk, &sealed_desc, CRDT_EV_SEALED, hlc, s);
}

int crdt_event_pack_exposure(msgpack_packer *pk, uint64_t hlc, const crdt_exposure *x)
{
    return pack_event(pk, &exposure_desc, CRDT_EV_EXPOSURE, hlc, x);
}

int crdt_event_pack_grant(msgpack_packer *pk, uint64_t hlc, const crdt_key_grant *g)
{
    return pack_event(pk, &grant_desc, CRDT_EV_KEY_GRANT, hlc, g);
}

int crdt_event_pack_cert(msgpack_packer *pk, uint64_t hlc, const crdt_cert_event *c)
{
    return pack_event(pk, &cert_desc, CRDT_EV_CERT, hlc, c);
}

int crdt_event_pack_revoke(msgpack_packer *pk, uint64_t hlc, const crdt_revoke *r)
{
    return pack_event(pk, &revoke_desc, CRDT_EV_REVOKE, hlc, r);
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

/* --- decoding ------------------------------------------------------------------------- */

static int get_text(const msgpack_object *o, size_t max, crdt_text *t)
{
    const char *p;
    size_t n;
    if (crdt_mp_str(o, max, &p, &n)) return TV_EDECODE;
    t->p = p;
    t->n = (uint32_t)n;
    return TV_OK;
}

static int decode_sealed_list(crdt_person *p, const msgpack_object *o)
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

static int decode_consent(crdt_cert_event *c, const msgpack_object *v)
{
    if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size != 3 ||
        get_text(&v->via.array.ptr[0], CRDT_TEXT_BYTES_MAX, &c->consent_name) ||
        crdt_mp_i64(&v->via.array.ptr[1], &c->consent_created_ms) ||
        crdt_mp_bin_n(&v->via.array.ptr[2], TV_SIG_BYTES, &c->consent_sig))
        return TV_EDECODE;
    return TV_OK;
}

/* Reads one field's value into st, checking its msgpack type and the bounds it carries on
 * the wire (lengths, integer ranges, times); the rest is left to event_valid. */
static int decode_value(const field *f, void *st, const msgpack_object *o)
{
    switch (f->kind) {
    case K_UINT: {
        uint64_t x;
        if (crdt_mp_u64(o, &x) || x > f->max) return TV_EDECODE;
        set_uint(st, f->off, f->width, x);
        return TV_OK;
    }
    case K_TIME: {
        int64_t *t = AT_PTR(st, f->off, int64_t);
        return crdt_mp_i64(o, t) || !crdt_time_valid(*t) ? TV_EDECODE : TV_OK;
    }
    case K_BYTES: {
        const uint8_t *b;
        if (crdt_mp_bin_n(o, f->width, &b)) return TV_EDECODE;
        memcpy(AT_PTR(st, f->off, uint8_t), b, f->width);
        return TV_OK;
    }
    case K_REF:
        return crdt_mp_bin_n(o, f->max, AT_PTR(st, f->off, bytes_ref)) ? TV_EDECODE : TV_OK;
    case K_BLOB: {
        const uint8_t *b;
        size_t n;
        if (crdt_mp_bin(o, f->max * f->unit, &b, &n) || n < f->min * f->unit || n % f->unit)
            return TV_EDECODE;
        *AT_PTR(st, f->off, bytes_ref) = b;
        set_uint(st, f->len_off, f->len_width, n / f->unit);
        return TV_OK;
    }
    case K_TEXT:
        return get_text(o, f->max, AT_PTR(st, f->off, crdt_text));
    case K_UNIT:
        return get_text(o, TV_UNIT_CODE_MAX, AT_PTR(st, f->off, crdt_text));
    case K_PHONE:
        return get_text(o, CRDT_PHONE_BYTES_MAX, AT_PTR(st, f->off, crdt_text));
    case K_SEALED:
        return decode_sealed_list(AT_PTR(st, f->off - offsetof(crdt_person, sealed), crdt_person),
                                  o);
    case K_CONSENT:
        return decode_consent(
            AT_PTR(st, f->off - offsetof(crdt_cert_event, consent_name), crdt_cert_event), o);
    }
    return TV_EDECODE;
}

/* Keys below KEYS_TRACKED are checked for duplicates: every key a known event has, with
 * room for newer writers' fields. A duplicate of a larger (unknown, ignored) key is not
 * detected, the same way on every platform. */
#define KEYS_TRACKED 64

/* Marks key as seen; 1 when it was seen before (a duplicate key is malformed). */
static int seen_twice(uint64_t *seen, uint64_t key)
{
    if (key >= KEYS_TRACKED) return 0;
    const uint64_t bit = KEY_BIT(key);
    if (*seen & bit) return 1;
    *seen |= bit;
    return 0;
}

/* The field of key k, or NULL: a newer writer's field, kept in the bytes, ignored here. */
static const field *field_of(const event_desc *d, uint64_t k)
{
    if (k >= 1 && k <= d->n && d->f[k - 1].key == k) return &d->f[k - 1]; /* keys 1..n */
    for (uint32_t i = 0; i < d->n; i++)
        if (d->f[i].key == k) return &d->f[i];
    return NULL;
}

/* Decodes the fields of an event of the type d describes into st (zeroed by the caller). */
static int decode_fields(const event_desc *d, uint32_t type, void *st, const msgpack_object_map *m)
{
    uint64_t required = 0; /* the keys of the fields always in the map */
    for (uint32_t i = 0; i < d->n; i++) {
        const field *f = &d->f[i];
        if (f->when == W_ALWAYS)
            required |= KEY_BIT(f->key);
        else if (f->kind == K_TIME) /* an optional time not given */
            *AT_PTR(st, f->off, int64_t) = CRDT_TIME_NONE;
    }
    uint64_t seen = 0;
    for (uint32_t i = 0; i < m->size; i++) {
        uint64_t key;
        if (crdt_mp_u64(&m->ptr[i].key, &key) || seen_twice(&seen, key)) return TV_EDECODE;
        const field *f = field_of(d, key);
        if (!f) continue;
        if (decode_value(f, st, &m->ptr[i].val)) return TV_EDECODE;
        if (f->when == W_BIT)
            set_uint(st, f->cond_off, 4, get_uint(st, f->cond_off, 4) | f->bit);
        else if (f->when == W_FLAG)
            *AT_PTR(st, f->cond_off, int) = 1;
    }
    uint64_t present; /* the type's rules see the keys of the map as it came */
    if ((seen & required) != required || !event_valid(d, type, st, &present, &seen))
        return TV_EDECODE;
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
    const event_desc *d = desc_of((uint32_t)type);
    if (d) {
        if (o->via.array.size < 3 || o->via.array.ptr[2].type != MSGPACK_OBJECT_MAP)
            return TV_EDECODE;
        /* straight into *ev (zeroed above), zeroed again if the fields are refused */
        if ((rc = decode_fields(d, (uint32_t)type, &ev->u, &o->via.array.ptr[2].via.map))) {
            memset(ev, 0, sizeof *ev);
            return rc;
        }
        ev->known = 1;
    }
    ev->type = (uint32_t)type;
    ev->hlc = hlc;
    ev->raw = buf;
    ev->raw_len = len;
    return TV_OK;
}

/* --- an event's fields for display ------------------------------------------------------ */

static crdt_show show_of(const field *f)
{
    if (f->show) return (crdt_show)f->show;
    switch (f->kind) {
    case K_UINT:
        return CRDT_SHOW_UINT;
    case K_TIME:
        return CRDT_SHOW_TIME;
    case K_BLOB:
        return f->unit == 1 ? CRDT_SHOW_HEX : CRDT_SHOW_HEX_LIST;
    case K_TEXT:
    case K_UNIT:
    case K_PHONE:
        return CRDT_SHOW_TEXT;
    case K_SEALED:
        return CRDT_SHOW_RECIPIENTS;
    case K_CONSENT:
        return (crdt_show)SHOW_HIDDEN;
    default: /* K_BYTES, K_REF */
        return CRDT_SHOW_HEX;
    }
}

static void view_of(const field *f, const void *st, crdt_field_view *v)
{
    *v = (crdt_field_view){.name = f->name, .show = show_of(f)};
    switch (f->kind) {
    case K_UINT:
        v->u = get_uint(st, f->off, f->width);
        if (f->label_of) v->label = f->label_of(v->u);
        break;
    case K_TIME:
        v->ms = *AT_CPTR(st, f->off, int64_t);
        break;
    case K_BYTES:
        v->p = (const uint8_t *)st + f->off;
        v->len = f->width;
        break;
    case K_REF:
        v->p = *AT_CPTR(st, f->off, bytes_ref);
        v->len = (size_t)f->max;
        break;
    case K_BLOB:
        v->p = *AT_CPTR(st, f->off, bytes_ref);
        v->unit = f->unit;
        v->len = (size_t)get_uint(st, f->len_off, f->len_width);
        v->u = v->len * f->unit; /* CRDT_SHOW_LENGTH */
        if (f->unit == 1) v->unit = 0;
        break;
    case K_TEXT:
    case K_UNIT:
    case K_PHONE: {
        const crdt_text *t = AT_CPTR(st, f->off, crdt_text);
        v->p = (const uint8_t *)t->p;
        v->len = t->n;
        break;
    }
    case K_SEALED:
        v->u = AT_CPTR(st, f->off - offsetof(crdt_person, sealed), crdt_person)->nsealed;
        break;
    }
}

int crdt_event_fields(const crdt_event *ev, crdt_field_fn fn, void *ctx)
{
    const event_desc *d = ev->known ? desc_of(ev->type) : NULL;
    if (!d) return 0;
    const void *st = &ev->u;
    for (uint32_t i = 0; i < d->n; i++) {
        const field *f = &d->f[i];
        if (show_of(f) == (crdt_show)SHOW_HIDDEN || (!field_present(f, st) && !f->shown_absent))
            continue;
        crdt_field_view v;
        view_of(f, st, &v);
        TV_ASSERT(v.name && v.show != (crdt_show)SHOW_HIDDEN);
        TV_ASSERT(v.show != CRDT_SHOW_NAME || f->label_of);
        int rc = fn(&v, ctx);
        if (rc) return rc;
    }
    return 0;
}
