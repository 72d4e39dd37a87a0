/* Events: the entries of each node's log, and their versioned msgpack encoding.
 *
 * An event is encoded as a msgpack array [type, hlc, fields], where fields is a map from
 * small unsigned keys to values (PROTOCOL.md lists them). The origin and seq of an event
 * are not in its bytes: they come from the batch that carries it. Decoders ignore map
 * keys and trailing array elements they do not know, and events of unknown type are kept
 * as their exact bytes, so a node relays what newer nodes write without changing a byte.
 *
 * Decoded views borrow: every pointer in a decoded event points into the bytes it was
 * decoded from and lives as long as those bytes. Pure: no I/O, no clock. */
#ifndef TV_CRDT_EVENT_H
#define TV_CRDT_EVENT_H

#include "crdt/ids.h"

#include <msgpack.h>
#include <stdint.h>

enum crdt_event_type {
    CRDT_EV_VENUE_UPSERT = 1,
    CRDT_EV_CONTROLLER_ADD = 2,
    CRDT_EV_CONTROLLER_REMOVE = 3,
    CRDT_EV_VENUE_REMINDER = 4,
    CRDT_EV_SCAN = 5,
    CRDT_EV_RISK_LEVEL = 6,
    CRDT_EV_CASE_STATUS = 7,
    CRDT_EV_CERT = 8,
    CRDT_EV_REVOKE = 9,
    CRDT_EV_PERSON = 10,     /* a person's masked display and sealed details, once per node */
    CRDT_EV_REVEAL = 11,     /* audit: a health node showed a person's details in full */
    CRDT_EV_UNIT = 12,       /* a local unit's name and place in the unit tree */
    CRDT_EV_KEY_GRANT = 13,  /* a commune's pseudonym key, sealed to it by a health node */
    CRDT_EV_SEALED = 14,     /* a health event sealed to one audience (crdt/sealed.h) */
    CRDT_EV_RETENTION = 15,  /* the root sets the province's retention period */
    CRDT_EV_CHECKPOINT = 16, /* an origin's log starts again here: its prefix is dropped */
    CRDT_EV_HOLD = 17,       /* a health node keeps a person's records past retention */
    /* an exposure window at a venue; only ever inside a sealed event, never in a batch */
    CRDT_EV_EXPOSURE = 18,
};

#define CRDT_EVENT_BYTES_MAX 4096 /* one encoded event, whatever its type */
#define CRDT_TEXT_BYTES_MAX 255   /* a free-text field (names, villages), in UTF-8 bytes */
#define CRDT_MASKED_BYTES_MAX 63  /* a masked display string */
#define CRDT_DEVICE_BYTES_MAX 63  /* a scanning device's label */
#define CRDT_PHONE_BYTES_MAX 15
#define CRDT_CERT_EVENT_BYTES_MAX 3584  /* == CRDT_CERT_BYTES_MAX, asserted in cert.c */
#define CRDT_SEALED_MAX 4               /* recipients of one person's sealed details */
#define CRDT_SEALED_BYTES_MAX 1024      /* one sealed box */
#define CRDT_SEALED_TAG_BYTES 8         /* a sealed event's audience tag */
#define CRDT_SEALED_NONCE_BYTES 24      /* XChaCha20-Poly1305 nonce */
#define CRDT_SEALED_INNER_BYTES_MAX 512 /* a sealed event's inner event */
#define CRDT_SEALED_BOX_BYTES_MAX (CRDT_SEALED_INNER_BYTES_MAX + 16)
#define CRDT_TAGS_MAX 64                      /* add tags one controller_remove may name */
#define CRDT_TAG_BYTES (TV_NODE_ID_BYTES + 8) /* an event id: origin, seq (big-endian) */

/* Scan directions and methods (wire values; never renumber). */
enum { CRDT_DIR_IN = 0, CRDT_DIR_OUT = 1 };
enum crdt_scan_method {
    CRDT_METHOD_SELF = 1,   /* the person scanned the venue's code */
    CRDT_METHOD_STAFF = 2,  /* staff typed or scanned a phone or ID number */
    CRDT_METHOD_CCCD = 3,   /* the chip citizen-ID card's QR */
    CRDT_METHOD_BHYT = 4,   /* the health-insurance card's QR */
    CRDT_METHOD_PAPER = 5,  /* a printed personal code */
    CRDT_METHOD_IMPORT = 6, /* a row of an imported file */
};
#define CRDT_METHOD_MAX 6

/* Case statuses (wire values; never renumber). */
enum crdt_case_status {
    CRDT_CASE_F0 = 0,      /* a confirmed case */
    CRDT_CASE_F1 = 1,      /* a close contact of an F0 */
    CRDT_CASE_F2 = 2,      /* a close contact of an F1 */
    CRDT_CASE_CLEARED = 3, /* no longer followed: recovered, tested negative, released */
};
#define CRDT_CASE_STATUS_MAX 3
#define CRDT_RISK_LEVEL_MAX 4 /* Resolution 128/NQ-CP: 1 low .. 4 very high */
#define CRDT_TIME_NONE (-1)   /* an optional time not given */
/* Times carried in event fields (a scan's `at`, a case's onset/sampled/at, a risk level's
 * `from`) lie in [0, CRDT_TIME_MS_MAX): ms since the Unix epoch, before 2200-01-01T00:00Z.
 * Anything outside is malformed, so arithmetic on a decoded time (crdt_day_vn adds 7 hours,
 * windows add days) can never overflow. */
#define CRDT_TIME_MS_MAX INT64_C(7258118400000)

/* A borrowed string: n bytes of UTF-8 at p, not NUL-terminated. Every str field of an
 * event is text in the sense of crdt_text_valid: no control characters. */
typedef struct crdt_text {
    const char *p;
    uint32_t n;
} crdt_text;

typedef struct crdt_scan {
    uint8_t venue[TV_VENUE_ID_BYTES];
    crdt_text unit; /* the venue's administrative unit (commune code) */
    uint8_t person[TV_PERSON_REF_BYTES];
    /* what venue staff may see, e.g. 09******78; optional (n = 0) since person events carry
     * it once per person */
    crdt_text masked;
    uint8_t direction;
    uint8_t method;
    int64_t at_ms;    /* the wall time the scanning device recorded */
    crdt_text device; /* optional (n = 0) */
} crdt_scan;

/* venue_upsert sets the fields whose bit is in `fields`; the others are left as they are
 * (last-writer-wins per field). */
enum {
    CRDT_VENUE_F_UNIT = 1u << 0,
    CRDT_VENUE_F_NAME = 1u << 1,
    CRDT_VENUE_F_CATEGORY = 1u << 2,
    CRDT_VENUE_F_VILLAGE = 1u << 3,
    CRDT_VENUE_F_OWNER_PHONE = 1u << 4,
    CRDT_VENUE_F_CLOSES = 1u << 5,
};
#define CRDT_VENUE_FIELDS 6
#define CRDT_CLOSES_NONE 0 /* closes: no closing time */

typedef struct crdt_venue_upsert {
    uint8_t venue[TV_VENUE_ID_BYTES];
    uint32_t fields;
    /* 1 for the venue's registration: it carries the nonce from which the venue id was
     * derived with its origin's key (tv_venue_id_derive), and names the unit */
    int registers;
    uint8_t nonce[TV_VENUE_NONCE_BYTES];
    crdt_text unit, name, village, owner_phone;
    uint32_t category;
    uint32_t closes; /* closing time, minutes after midnight + 1 (1..1440), or CLOSES_NONE */
} crdt_venue_upsert;

/* controller_add / controller_remove: a venue's authorised controllers (staff phones), an
 * observed-remove set. An add is tagged by its own event id; a remove names the adds it
 * saw, so an add it did not see survives it. */
typedef struct crdt_controller {
    uint8_t venue[TV_VENUE_ID_BYTES];
    crdt_text unit;      /* the venue's unit (scope) */
    crdt_text phone;     /* normalised, 0xxxxxxxxx */
    const uint8_t *tags; /* remove only: ntags ids of CRDT_TAG_BYTES each */
    uint32_t ntags;
} crdt_controller;

/* venue_reminder: a reminder to a venue (action REMIND, with a note), or its reinstatement
 * after a suspension (action REINSTATE). */
enum { CRDT_REMIND = 0, CRDT_REINSTATE = 1 };
typedef struct crdt_reminder {
    uint8_t venue[TV_VENUE_ID_BYTES];
    crdt_text unit;
    crdt_text note; /* optional */
    uint8_t action;
} crdt_reminder;

/* A person's details sealed to one health node (crypto_box_seal to its X25519 key). */
typedef struct crdt_sealed {
    uint8_t to[TV_NODE_ID_BYTES];
    const uint8_t *box;
    uint32_t len;
} crdt_sealed;

/* person: what a commune learnt of a person the first time it scanned them: the masked
 * display staff may see, and the details in full, sealed to the health nodes. */
typedef struct crdt_person {
    uint8_t person[TV_PERSON_REF_BYTES];
    crdt_text unit;        /* the commune that recorded it (scope) */
    crdt_text name_masked; /* e.g. Nguyễn V** A; optional */
    crdt_text id_masked;   /* e.g. 09******78 or **********45 */
    uint32_t birth_year;   /* 0 when unknown; no longer written, read from older nodes */
    uint32_t nsealed;      /* 1..CRDT_SEALED_MAX */
    crdt_sealed sealed[CRDT_SEALED_MAX];
} crdt_person;

/* reveal: a health node showed a person's details in full; who is the event's origin and
 * when its HLC. */
typedef struct crdt_reveal {
    uint8_t person[TV_PERSON_REF_BYTES];
    crdt_text reason; /* required */
} crdt_reveal;

/* retention: the province's retention period, in days. Only the root authors it; the
 * period in force is that of the retention event with the largest (HLC, origin). */
#define CRDT_RETENTION_DAYS_MIN 1
#define CRDT_RETENTION_DAYS_MAX 3650
#define CRDT_RETENTION_DAYS_DEFAULT 28 /* when the root set none */
typedef struct crdt_retention {
    uint32_t days;
} crdt_retention;

/* checkpoint: an origin truncates its own log's prefix. Two forms share the type:
 * - a base (copy = 0), the first event of a batch only: the origin's log before this batch
 *   is dropped; `upto` is the batch's first_seq - 1 and `hash` its prev_hash;
 * - a copy (copy = 1): an event of the dropped prefix still in force, its encoded bytes
 *   verbatim (its own type and HLC inside) and its seq in the log, so that views keyed or
 *   ranked by (HLC, origin, seq) take it as the same event. A copy's HLC (the wrapper's)
 *   rises with the batch; the copied event's is older. */
#define CRDT_COPY_OVERHEAD_MAX 32 /* a copy's bytes beyond the event it carries */
typedef struct crdt_checkpoint {
    int copy;
    uint64_t upto;               /* base: the last seq of the dropped prefix (>= 1) */
    uint8_t hash[TV_HASH_BYTES]; /* base: the hash of the batch ending at upto */
    const uint8_t *event;        /* copy: the copied event's bytes */
    size_t event_len;
    uint64_t seq; /* copy: the copied event's seq (>= 1) */
} crdt_checkpoint;

/* hold: a health node places a person's records under hold while a case is investigated
 * (retention keeps them), or lifts it. A person's hold is their hold event with the
 * largest (HLC, origin). The event is its own audit: who (origin), when (HLC), why. */
enum { CRDT_HOLD_PLACE = 0, CRDT_HOLD_LIFT = 1 };
typedef struct crdt_hold {
    uint8_t person[TV_PERSON_REF_BYTES];
    crdt_text reason; /* required */
    uint8_t action;   /* CRDT_HOLD_* */
} crdt_hold;

/* risk_level: a unit's risk level from a time on. The level in force at a time is that of
 * the unit's entry with the latest `from` not after it; entries with the same unit and
 * `from` are last-writer-wins by (HLC, origin). */
typedef struct crdt_risk {
    crdt_text unit;  /* any unit code; a local unit (a village) is <commune>.<local> */
    uint8_t level;   /* 1..CRDT_RISK_LEVEL_MAX */
    int64_t from_ms; /* when it takes effect, >= 0 */
    crdt_text note;  /* optional */
} crdt_risk;

/* case_status: a person's status as a health node set it; a person's status is their
 * case_status event with the largest (HLC, origin). */
typedef struct crdt_case {
    uint8_t person[TV_PERSON_REF_BYTES];
    crdt_text unit;     /* the unit that manages the case (scope) */
    uint8_t status;     /* CRDT_CASE_* */
    int64_t onset_ms;   /* symptom onset (F0) or exposure (F1, F2); CRDT_TIME_NONE if not given */
    int64_t sampled_ms; /* the positive sample; CRDT_TIME_NONE if not given. An F0 has at
                         * least one of the two: its infectious window starts from it */
    int64_t at_ms;      /* when the status took effect (a clearing: the release), if not
                         * when it was recorded; CRDT_TIME_NONE if not given */
} crdt_case;

/* sealed: an event for one audience only -- the health nodes, or one commune -- encrypted
 * under the audience's key (crdt/sealed.h, PROTOCOL.md §2.11). Anyone can see the tag, which
 * names the audience to those who hold its key, and nothing else. */
typedef struct crdt_sealed_event {
    uint8_t tag[CRDT_SEALED_TAG_BYTES];
    uint8_t nonce[CRDT_SEALED_NONCE_BYTES];
    const uint8_t *box; /* the inner event's bytes encrypted, with their 16-byte MAC */
    uint32_t len;       /* 17..CRDT_SEALED_BOX_BYTES_MAX */
} crdt_sealed_event;

/* exposure: a confirmed case was at a venue from from_ms to to_ms, within its infectious
 * window; who is not said. Found only inside a sealed event for the venue's commune. */
typedef struct crdt_exposure {
    uint8_t venue[TV_VENUE_ID_BYTES];
    int64_t from_ms, to_ms; /* from_ms < to_ms */
} crdt_exposure;

/* unit: a unit that is not in the official list -- a village (<commune>.<local>), or a
 * district or cluster used to add communes up -- with its name and its parent in the unit
 * tree. Last-writer-wins per code by (HLC, origin). The tree is data: any depth. */
typedef struct crdt_unit {
    crdt_text code;   /* the unit */
    crdt_text name;   /* required */
    crdt_text parent; /* the unit above it */
} crdt_unit;

/* cert: a certificate issued by the event's origin (bytes as crdt_cert_sign made them),
 * with its subject's consent when the subject asked for it: the name and creation time of
 * the subject's enrolment request and the subject's signature of that request, from which
 * the request is rebuilt with the certificate's subject, role and unit (PROTOCOL.md §2.3,
 * §8.1). A certificate with consent outranks one without (rule T4). */
typedef struct crdt_cert_event {
    const uint8_t *cert;
    size_t len;
    int consent;                /* 1 when the three fields below are set */
    crdt_text consent_name;     /* the request's name */
    int64_t consent_created_ms; /* the request's created */
    const uint8_t *consent_sig; /* TV_SIG_BYTES: the request's signature */
} crdt_cert_event;

/* key_grant: the pseudonym key K_c of commune unit, sealed (crypto_box_seal) to the node
 * subject, by a health node whose scope covers unit (PROTOCOL.md §2.14). */
#define CRDT_GRANT_BOX_BYTES 80 /* crypto_box_SEALBYTES + a 32-byte key */
typedef struct crdt_key_grant {
    uint8_t subject[TV_NODE_ID_BYTES];
    crdt_text unit;
    const uint8_t *box; /* CRDT_GRANT_BOX_BYTES */
} crdt_key_grant;

/* revoke: the subject's key is no longer trusted, from this event on, everywhere. */
typedef struct crdt_revoke {
    uint8_t subject[TV_NODE_ID_BYTES];
    crdt_text reason; /* optional (n = 0) */
} crdt_revoke;

typedef struct crdt_event {
    uint32_t type;
    uint64_t hlc;
    const uint8_t *raw; /* the event's exact encoded bytes */
    size_t raw_len;
    int known; /* 1 when type is understood and u holds its fields */
    union {
        crdt_scan scan;
        crdt_venue_upsert venue;
        crdt_cert_event cert;
        crdt_revoke revoke;
        crdt_controller controller;
        crdt_reminder reminder;
        crdt_person person;
        crdt_reveal reveal;
        crdt_risk risk;
        crdt_case cstatus;
        crdt_unit unit;
        crdt_sealed_event sealed;
        crdt_exposure exposure;
        crdt_retention retention;
        crdt_checkpoint checkpoint;
        crdt_hold hold;
        crdt_key_grant grant;
    } u;
} crdt_event;

/* Returns the event type's name ("scan", ...) or NULL for a type this build does not know. */
const char *crdt_event_type_name(uint32_t type);

/* Returns the scan method's name ("staff", ...) or NULL for an unknown one. */
const char *crdt_method_name(uint32_t method);

/* Returns 1 when s is a valid administrative unit code (1..TV_UNIT_CODE_MAX characters of
 * [0-9A-Za-z._-]), else 0. */
int crdt_unit_code_valid(const char *s, size_t n);

/* The length of the unit whose scope covers unit code s: a local unit <commune>.<local>
 * belongs to its commune (the part before the first '.'); any other code to itself. */
size_t crdt_unit_owner_len(const char *s, size_t n);

/* Returns 1 when s[0..n) is text an event may carry: well-formed UTF-8 (crdt_utf8_valid)
 * without control characters -- no C0 (U+0000-U+001F, so no NUL, tab or newline), no DEL
 * (U+007F), no C1 (U+0080-U+009F) -- else 0. An empty string is text. */
int crdt_text_valid(const char *s, size_t n);

/* Returns 1 when t is a time an event field may carry: 0 <= t < CRDT_TIME_MS_MAX. */
static inline int crdt_time_valid(int64_t t)
{
    return t >= 0 && t < CRDT_TIME_MS_MAX;
}

/* Returns the case status's name ("F0", "F1", "F2", "cleared") or NULL. */
const char *crdt_case_status_name(uint32_t status);

/* Appends one encoded event to the packer. The fields are validated first (the same checks
 * as decoding). Returns 0, TV_EINVAL (invalid field) or TV_ENOMEM. */
int crdt_event_pack_scan(msgpack_packer *pk, uint64_t hlc, const crdt_scan *s);
int crdt_event_pack_venue(msgpack_packer *pk, uint64_t hlc, const crdt_venue_upsert *v);
int crdt_event_pack_cert(msgpack_packer *pk, uint64_t hlc, const crdt_cert_event *c);
int crdt_event_pack_revoke(msgpack_packer *pk, uint64_t hlc, const crdt_revoke *r);
/* type is CRDT_EV_CONTROLLER_ADD (tags must be empty) or CRDT_EV_CONTROLLER_REMOVE. */
int crdt_event_pack_controller(msgpack_packer *pk, uint32_t type, uint64_t hlc,
                               const crdt_controller *c);
int crdt_event_pack_reminder(msgpack_packer *pk, uint64_t hlc, const crdt_reminder *r);
int crdt_event_pack_person(msgpack_packer *pk, uint64_t hlc, const crdt_person *p);
int crdt_event_pack_reveal(msgpack_packer *pk, uint64_t hlc, const crdt_reveal *r);
int crdt_event_pack_risk(msgpack_packer *pk, uint64_t hlc, const crdt_risk *r);
int crdt_event_pack_unit(msgpack_packer *pk, uint64_t hlc, const crdt_unit *u);
int crdt_event_pack_case(msgpack_packer *pk, uint64_t hlc, const crdt_case *c);
int crdt_event_pack_sealed(msgpack_packer *pk, uint64_t hlc, const crdt_sealed_event *s);
int crdt_event_pack_exposure(msgpack_packer *pk, uint64_t hlc, const crdt_exposure *x);
int crdt_event_pack_retention(msgpack_packer *pk, uint64_t hlc, const crdt_retention *r);
/* A base (c->copy = 0) or a copy (c->copy = 1: event bytes of at most CRDT_EVENT_BYTES_MAX,
 * which must decode as an event other than a checkpoint, with an HLC below hlc). */
int crdt_event_pack_checkpoint(msgpack_packer *pk, uint64_t hlc, const crdt_checkpoint *c);
/* Decodes the event a copy carries into *inner (borrowing from the copy's bytes), with
 * scratch as crdt_event_decode. Returns 0, or TV_EDECODE when it is not an event, is
 * itself a checkpoint, or its HLC is not below the copy's. */
int crdt_event_copy_open(const crdt_event *copy, crdt_event *inner, msgpack_unpacked *scratch)
    __attribute__((warn_unused_result));
int crdt_event_pack_hold(msgpack_packer *pk, uint64_t hlc, const crdt_hold *h);
int crdt_event_pack_grant(msgpack_packer *pk, uint64_t hlc, const crdt_key_grant *g);

/* Decodes the single event that fills buf[0..len). `scratch` (msgpack_unpacked_init'd by
 * the caller, reusable across calls) holds msgpack-c's objects; the event borrows from buf.
 * Returns 0, TV_EDECODE (malformed, or a known type with invalid fields: among them a
 * duplicated map key below 64, a str field that is not text (crdt_text_valid), a time
 * field outside [0, CRDT_TIME_MS_MAX)), TV_ELIMIT (larger than CRDT_EVENT_BYTES_MAX) or
 * TV_ENOMEM; *ev is zeroed on failure. */
int crdt_event_decode(crdt_event *ev, msgpack_unpacked *scratch, const uint8_t *buf, size_t len)
    __attribute__((warn_unused_result));

/* Vietnam's calendar day (UTC+7, no daylight saving) of a Unix time in ms, as days since
 * 1970-01-01. Aggregates are kept per unit and per such day. */
static inline int32_t crdt_day_vn(int64_t ms)
{
    int64_t t = ms + 7 * 3600 * 1000LL;
    int64_t d = t / 86400000LL;
    if (t % 86400000LL < 0) d--;
    return (int32_t)d;
}

/* --- an event's fields one by one, for display ---------------------------------------- */

/* How a field is shown; crdt_field_view says which of its members hold the value. */
typedef enum crdt_show {
    CRDT_SHOW_HEX = 1,    /* p[0..len): bytes, shown in hex */
    CRDT_SHOW_HEX_LIST,   /* len items of `unit` bytes each at p, each in hex */
    CRDT_SHOW_TEXT,       /* p[0..len): valid text (crdt_text_valid) */
    CRDT_SHOW_UINT,       /* u */
    CRDT_SHOW_TIME,       /* ms: a time (crdt_time_valid) */
    CRDT_SHOW_NAME,       /* u, and label its name ("in", "F0", "place", ...) */
    CRDT_SHOW_LENGTH,     /* u: the byte length of a value whose bytes are not shown */
    CRDT_SHOW_CATEGORY,   /* u: a venue category code, named by the node's list */
    CRDT_SHOW_MINUTE,     /* u: a minute of the day plus one, or CRDT_CLOSES_NONE */
    CRDT_SHOW_CERT,       /* p[0..len): an encoded certificate (crdt_cert_open) */
    CRDT_SHOW_RECIPIENTS, /* u: a person event's count of sealed boxes: the ids they are
                           * sealed to are ev->u.person.sealed[0..u).to */
} crdt_show;

typedef struct crdt_field_view {
    const char *name; /* the field's name in `log --json` ("venue", "at", "copy_of", ...) */
    crdt_show show;
    const uint8_t *p;
    size_t len, unit;
    uint64_t u;
    int64_t ms;
    const char *label;
} crdt_field_view;

/* Calls fn for each field in the map of a known event, in the order of its type's
 * description in event.c (the one table encoding and decoding follow), skipping the
 * fields absent from the map (except a scan's masked display, shown empty) and those
 * never shown (nonces, boxes, a certificate's consent). A non-zero return from fn stops the walk
 * and is returned. An event of a type this version does not know (ev->known == 0) has no fields:
 * returns 0. */
typedef int (*crdt_field_fn)(const crdt_field_view *f, void *ctx);
int crdt_event_fields(const crdt_event *ev, crdt_field_fn fn, void *ctx);

#endif
