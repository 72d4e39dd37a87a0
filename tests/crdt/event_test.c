/* Tests of the event codec: round trips, unknown types kept byte for byte, hostile bytes. */
#include "crdt/error.h"
#include "crdt/event.h"
#include "crdt/mp.h"
#include "test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void pack(msgpack_sbuffer *sb, msgpack_packer *pk)
{
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
}

static void test_scan_round_trip(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pack(&sb, &pk);
    crdt_scan s = test_scan(42, 1633482000000LL);
    s.device = (crdt_text){"cổng 1", (uint32_t)strlen("cổng 1")};
    assert_int_equal(crdt_event_pack_scan(&pk, 0x123456789ULL, &s), 0);

    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), 0);
    assert_int_equal(ev.type, CRDT_EV_SCAN);
    assert_true(ev.known);
    assert_int_equal(ev.hlc, 0x123456789ULL);
    assert_int_equal(ev.raw_len, sb.size);
    assert_memory_equal(ev.u.scan.venue, s.venue, TV_VENUE_ID_BYTES);
    assert_memory_equal(ev.u.scan.person, s.person, TV_PERSON_REF_BYTES);
    assert_int_equal(ev.u.scan.at_ms, 1633482000000LL);
    assert_int_equal(ev.u.scan.direction, s.direction);
    assert_int_equal(ev.u.scan.method, CRDT_METHOD_STAFF);
    assert_int_equal(ev.u.scan.unit.n, 5);
    assert_memory_equal(ev.u.scan.unit.p, "22333", 5);
    assert_int_equal(ev.u.scan.device.n, strlen("cổng 1"));
    assert_memory_equal(ev.u.scan.device.p, "cổng 1", ev.u.scan.device.n);

    /* re-encoding the decoded event gives the same bytes */
    msgpack_sbuffer sb2;
    msgpack_packer pk2;
    pack(&sb2, &pk2);
    assert_int_equal(crdt_event_pack_scan(&pk2, ev.hlc, &ev.u.scan), 0);
    assert_int_equal(sb2.size, sb.size);
    assert_memory_equal(sb2.data, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb2);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

static void test_venue_round_trip(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pack(&sb, &pk);
    crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME | CRDT_VENUE_F_CATEGORY | CRDT_VENUE_F_UNIT |
                                     CRDT_VENUE_F_VILLAGE,
                           .unit = {"22333", 5},
                           .name = {"Chợ Vĩnh Hải", (uint32_t)strlen("Chợ Vĩnh Hải")},
                           .village = {"Tổ 5", (uint32_t)strlen("Tổ 5")},
                           .category = 18};
    memcpy(v.venue, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_int_equal(crdt_event_pack_venue(&pk, 7, &v), 0);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), 0);
    assert_int_equal(ev.type, CRDT_EV_VENUE_UPSERT);
    assert_int_equal(ev.u.venue.fields, v.fields);
    assert_int_equal(ev.u.venue.category, 18);
    assert_int_equal(ev.u.venue.name.n, v.name.n);
    assert_memory_equal(ev.u.venue.name.p, "Chợ Vĩnh Hải", v.name.n);
    assert_memory_equal(ev.u.venue.venue, v.venue, 8);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

static void test_invalid_fields_refused_on_pack(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pack(&sb, &pk);
    crdt_scan s = test_scan(1, 1000);
    s.direction = 2;
    assert_int_equal(crdt_event_pack_scan(&pk, 1, &s), TV_EINVAL);
    s = test_scan(1, 1000);
    s.unit = (crdt_text){"22 333", 6};
    assert_int_equal(crdt_event_pack_scan(&pk, 1, &s), TV_EINVAL);
    s = test_scan(1, 1000);
    s.masked = (crdt_text){"\xff\xfe", 2}; /* not UTF-8 */
    assert_int_equal(crdt_event_pack_scan(&pk, 1, &s), TV_EINVAL);
    s = test_scan(1, 1000);
    s.method = 0;
    assert_int_equal(crdt_event_pack_scan(&pk, 1, &s), TV_EINVAL);
    crdt_venue_upsert v = {0};
    assert_int_equal(crdt_event_pack_venue(&pk, 1, &v), TV_EINVAL); /* no field */
    assert_int_equal(sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
}

/* An event of a type from a newer version is decoded as unknown, keeping its bytes. */
static void test_unknown_type_kept(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pack(&sb, &pk);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_uint32(&pk, 77);
    msgpack_pack_uint64(&pk, 99);
    msgpack_pack_map(&pk, 1);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "future", 6);
    msgpack_pack_bin_with_body(&pk, "\x00\x01", 2);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), 0);
    assert_int_equal(ev.type, 77);
    assert_false(ev.known);
    assert_ptr_equal(ev.raw, (uint8_t *)sb.data);
    assert_int_equal(ev.raw_len, sb.size);
    assert_null(crdt_event_type_name(77));
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

/* A known event with an extra field from a newer writer still decodes. */
static void test_unknown_field_ignored(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pack(&sb, &pk);
    uint8_t venue[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint32(&pk, CRDT_EV_VENUE_UPSERT);
    msgpack_pack_uint64(&pk, 5);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_bin_with_body(&pk, venue, 8);
    msgpack_pack_uint8(&pk, 3);
    msgpack_pack_str_with_body(&pk, "Quán", strlen("Quán"));
    msgpack_pack_uint8(&pk, 30);
    msgpack_pack_str_with_body(&pk, "new", 3);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), 0);
    assert_int_equal(ev.u.venue.fields, CRDT_VENUE_F_NAME);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

/* Every truncation of a valid event fails, and so does every bit flip that changes a
 * field's type or length; none crashes. */
static void test_truncations_and_flips(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pack(&sb, &pk);
    crdt_scan s = test_scan(3, 1633482000000LL);
    assert_int_equal(crdt_event_pack_scan(&pk, 5, &s), 0);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    for (size_t n = 0; n < sb.size; n++)
        assert_int_not_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, n), 0);
    uint8_t *copy = malloc(sb.size);
    for (size_t i = 0; i < sb.size * 8; i++) {
        memcpy(copy, sb.data, sb.size);
        copy[i / 8] ^= (uint8_t)(1u << (i % 8));
        int rc = crdt_event_decode(&ev, &u, copy, sb.size); /* must not crash or leak */
        (void)rc;
    }
    free(copy);
    msgpack_unpacked_destroy(&u);
    msgpack_sbuffer_destroy(&sb);
}

/* Packs with fn, decodes, checks the decoded event re-encodes to the same bytes, and that
 * every truncation is refused and every bit flip is survived. */
typedef int (*repack_fn)(msgpack_packer *pk, const crdt_event *ev);

static void round_trip(msgpack_sbuffer *sb, uint32_t type, crdt_event *ev, msgpack_unpacked *u,
                       repack_fn repack)
{
    assert_int_equal(crdt_event_decode(ev, u, (uint8_t *)sb->data, sb->size), 0);
    assert_int_equal(ev->type, type);
    assert_true(ev->known);
    assert_non_null(crdt_event_type_name(type));
    msgpack_sbuffer sb2;
    msgpack_packer pk2;
    pack(&sb2, &pk2);
    assert_int_equal(repack(&pk2, ev), 0);
    assert_int_equal(sb2.size, sb->size);
    assert_memory_equal(sb2.data, sb->data, sb->size);
    msgpack_sbuffer_destroy(&sb2);
    msgpack_unpacked u2;
    msgpack_unpacked_init(&u2);
    crdt_event e2;
    for (size_t n = 0; n < sb->size; n++)
        assert_int_not_equal(crdt_event_decode(&e2, &u2, (uint8_t *)sb->data, n), 0);
    uint8_t *copy = malloc(sb->size);
    for (size_t i = 0; i < sb->size * 8; i++) {
        memcpy(copy, sb->data, sb->size);
        copy[i / 8] ^= (uint8_t)(1u << (i % 8));
        int rc = crdt_event_decode(&e2, &u2, copy, sb->size); /* must not crash or leak */
        (void)rc;
    }
    free(copy);
    msgpack_unpacked_destroy(&u2);
}

static int repack_controller(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_controller(pk, ev->type, ev->hlc, &ev->u.controller);
}
static int repack_reminder(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_reminder(pk, ev->hlc, &ev->u.reminder);
}
static int repack_person(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_person(pk, ev->hlc, &ev->u.person);
}
static int repack_reveal(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_reveal(pk, ev->hlc, &ev->u.reveal);
}

static void test_people_events(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    uint8_t tags[2 * CRDT_TAG_BYTES];
    memset(tags, 0xab, sizeof tags);
    crdt_controller c = {
        .venue = {1, 2, 3, 4, 5, 6, 7, 8}, .unit = {"22333", 5}, .phone = {"0912345678", 10}};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_controller(&pk, CRDT_EV_CONTROLLER_ADD, 7, &c), 0);
    round_trip(&sb, CRDT_EV_CONTROLLER_ADD, &ev, &u, repack_controller);
    assert_int_equal(ev.u.controller.ntags, 0);
    msgpack_sbuffer_destroy(&sb);
    c.tags = tags;
    c.ntags = 2;
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_controller(&pk, CRDT_EV_CONTROLLER_REMOVE, 8, &c), 0);
    round_trip(&sb, CRDT_EV_CONTROLLER_REMOVE, &ev, &u, repack_controller);
    assert_int_equal(ev.u.controller.ntags, 2);
    assert_memory_equal(ev.u.controller.tags, tags, sizeof tags);
    msgpack_sbuffer_destroy(&sb);
    /* an add carries no tags; a phone is digits starting with 0 */
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_controller(&pk, CRDT_EV_CONTROLLER_ADD, 8, &c), TV_EINVAL);
    c.ntags = 0;
    c.phone = (crdt_text){"912345678x", 10};
    assert_int_equal(crdt_event_pack_controller(&pk, CRDT_EV_CONTROLLER_ADD, 8, &c), TV_EINVAL);
    msgpack_sbuffer_destroy(&sb);

    crdt_reminder r = {.venue = {8}, .unit = {"22333", 5}, .note = {"nhắc lần 1", 12}};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_reminder(&pk, 9, &r), 0);
    round_trip(&sb, CRDT_EV_VENUE_REMINDER, &ev, &u, repack_reminder);
    assert_int_equal(ev.u.reminder.action, CRDT_REMIND);
    assert_int_equal(ev.u.reminder.note.n, 12);
    r.action = 7;
    assert_int_equal(crdt_event_pack_reminder(&pk, 9, &r), TV_EINVAL);
    msgpack_sbuffer_destroy(&sb);

    uint8_t box1[80], box2[90];
    memset(box1, 1, sizeof box1);
    memset(box2, 2, sizeof box2);
    crdt_person p = {.person = {5},
                     .unit = {"22333", 5},
                     .name_masked = {"Nguyễn V** A", (uint32_t)strlen("Nguyễn V** A")},
                     .id_masked = {"09******78", 10},
                     .birth_year = 1999,
                     .nsealed = 2};
    p.sealed[0] = (crdt_sealed){.to = {1}, .box = box1, .len = sizeof box1};
    p.sealed[1] = (crdt_sealed){.to = {2}, .box = box2, .len = sizeof box2};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_person(&pk, 10, &p), 0);
    round_trip(&sb, CRDT_EV_PERSON, &ev, &u, repack_person);
    assert_int_equal(ev.u.person.nsealed, 2);
    assert_int_equal(ev.u.person.sealed[1].len, sizeof box2);
    assert_memory_equal(ev.u.person.sealed[1].box, box2, sizeof box2);
    assert_int_equal(ev.u.person.birth_year, 1999);
    p.nsealed = 0; /* nothing sealed: nothing personal may be recorded */
    assert_int_equal(crdt_event_pack_person(&pk, 10, &p), TV_EINVAL);
    msgpack_sbuffer_destroy(&sb);

    crdt_reveal x = {.person = {5}, .reason = {"truy vết F1", (uint32_t)strlen("truy vết F1")}};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_reveal(&pk, 11, &x), 0);
    round_trip(&sb, CRDT_EV_REVEAL, &ev, &u, repack_reveal);
    x.reason.n = 0; /* a reveal always says why */
    assert_int_equal(crdt_event_pack_reveal(&pk, 11, &x), TV_EINVAL);
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&u);
}

static int repack_risk(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_risk(pk, ev->hlc, &ev->u.risk);
}
static int repack_case(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_case(pk, ev->hlc, &ev->u.cstatus);
}

static void test_health_events(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;

    crdt_risk r = {.unit = {"22333.03", 8}, .level = 3, .from_ms = 1633021200000};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_risk(&pk, 12, &r), 0);
    round_trip(&sb, CRDT_EV_RISK_LEVEL, &ev, &u, repack_risk);
    assert_int_equal(ev.u.risk.level, 3);
    assert_int_equal(ev.u.risk.from_ms, 1633021200000);
    assert_int_equal(ev.u.risk.note.n, 0);
    msgpack_sbuffer_destroy(&sb);
    r.note = (crdt_text){"ổ dịch chợ", (uint32_t)strlen("ổ dịch chợ")};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_risk(&pk, 12, &r), 0);
    round_trip(&sb, CRDT_EV_RISK_LEVEL, &ev, &u, repack_risk);
    assert_int_equal(ev.u.risk.note.n, r.note.n);
    r.level = 0; /* levels are 1..4 */
    assert_int_equal(crdt_event_pack_risk(&pk, 12, &r), TV_EINVAL);
    r.level = 5;
    assert_int_equal(crdt_event_pack_risk(&pk, 12, &r), TV_EINVAL);
    r.level = 4;
    r.unit = (crdt_text){"22 333", 6};
    assert_int_equal(crdt_event_pack_risk(&pk, 12, &r), TV_EINVAL);
    msgpack_sbuffer_destroy(&sb);

    crdt_case c = {.person = {9, 9},
                   .unit = {"56", 2},
                   .status = CRDT_CASE_F0,
                   .onset_ms = 1633021200000,
                   .sampled_ms = CRDT_TIME_NONE,
                   .at_ms = CRDT_TIME_NONE};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_case(&pk, 13, &c), 0);
    round_trip(&sb, CRDT_EV_CASE_STATUS, &ev, &u, repack_case);
    assert_int_equal(ev.u.cstatus.status, CRDT_CASE_F0);
    assert_int_equal(ev.u.cstatus.onset_ms, 1633021200000);
    assert_int_equal(ev.u.cstatus.sampled_ms, CRDT_TIME_NONE);
    msgpack_sbuffer_destroy(&sb);
    /* asymptomatic: the sample alone */
    c.onset_ms = CRDT_TIME_NONE;
    c.sampled_ms = 1633107600000;
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_case(&pk, 14, &c), 0);
    round_trip(&sb, CRDT_EV_CASE_STATUS, &ev, &u, repack_case);
    assert_int_equal(ev.u.cstatus.onset_ms, CRDT_TIME_NONE);
    assert_int_equal(ev.u.cstatus.sampled_ms, 1633107600000);
    /* an F0 without either has no infectious window */
    c.sampled_ms = CRDT_TIME_NONE;
    assert_int_equal(crdt_event_pack_case(&pk, 14, &c), TV_EINVAL);
    c.status = CRDT_CASE_CLEARED; /* a clearing needs neither, and may say when */
    c.at_ms = 1634230800000;
    msgpack_sbuffer_destroy(&sb);
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_case(&pk, 14, &c), 0);
    round_trip(&sb, CRDT_EV_CASE_STATUS, &ev, &u, repack_case);
    assert_int_equal(ev.u.cstatus.at_ms, 1634230800000);
    c.status = CRDT_CASE_STATUS_MAX + 1;
    assert_int_equal(crdt_event_pack_case(&pk, 14, &c), TV_EINVAL);
    msgpack_sbuffer_destroy(&sb);
    assert_string_equal(crdt_case_status_name(CRDT_CASE_F1), "F1");
    assert_string_equal(crdt_case_status_name(CRDT_CASE_CLEARED), "cleared");
    assert_null(crdt_case_status_name(4));
    /* a local unit is judged by its commune's scope */
    assert_int_equal(crdt_unit_owner_len("22333.03", 8), 5);
    assert_int_equal(crdt_unit_owner_len("22333", 5), 5);
    assert_int_equal(crdt_unit_owner_len(".x", 2), 2);

    /* a hand-built F0 without onset or sample is refused on decode too */
    pack(&sb, &pk);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint32(&pk, CRDT_EV_CASE_STATUS);
    msgpack_pack_uint64(&pk, 15);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_bin_with_body(&pk, c.person, TV_PERSON_REF_BYTES);
    msgpack_pack_uint8(&pk, 2);
    msgpack_pack_str_with_body(&pk, "56", 2);
    msgpack_pack_uint8(&pk, 3);
    msgpack_pack_uint8(&pk, CRDT_CASE_F0);
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), TV_EDECODE);
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&u);
}

static int repack_unit(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_unit(pk, ev->hlc, &ev->u.unit);
}

/* unit: code, name and parent round trip; a unit is never its own parent, and a name and
 * valid codes are required, on packing and on decoding. */
static void test_unit_event(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    const char *name = "Tổ dân phố 3";
    crdt_unit x = {
        .code = {"22333.03", 8}, .name = {name, (uint32_t)strlen(name)}, .parent = {"22333", 5}};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_unit(&pk, 21, &x), 0);
    round_trip(&sb, CRDT_EV_UNIT, &ev, &u, repack_unit);
    assert_string_equal(crdt_event_type_name(CRDT_EV_UNIT), "unit");
    assert_int_equal(ev.u.unit.parent.n, 5);
    assert_memory_equal(ev.u.unit.name.p, name, strlen(name));
    msgpack_sbuffer_destroy(&sb);
    crdt_unit bad = x;
    bad.parent = bad.code;
    assert_int_equal(crdt_event_pack_unit(&pk, 21, &bad), TV_EINVAL);
    bad = x;
    bad.name.n = 0;
    assert_int_equal(crdt_event_pack_unit(&pk, 21, &bad), TV_EINVAL);
    bad = x;
    bad.parent = (crdt_text){"a b", 3};
    assert_int_equal(crdt_event_pack_unit(&pk, 21, &bad), TV_EINVAL);
    /* a hand-built event without its parent is refused on decode */
    pack(&sb, &pk);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint32(&pk, CRDT_EV_UNIT);
    msgpack_pack_uint64(&pk, 22);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_str_with_body(&pk, "22333.03", 8);
    msgpack_pack_uint8(&pk, 2);
    msgpack_pack_str_with_body(&pk, "x", 1);
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), TV_EDECODE);
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked_destroy(&u);
}

static int repack_retention(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_retention(pk, ev->hlc, &ev->u.retention);
}
static int repack_hold(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_hold(pk, ev->hlc, &ev->u.hold);
}
static int repack_checkpoint(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_checkpoint(pk, ev->hlc, &ev->u.checkpoint);
}

/* retention, hold and both forms of checkpoint round-trip; a checkpoint with keys of both
 * forms, or a copy of a checkpoint or of a later event, is malformed; a copy may carry an
 * event of the largest size. */
static void test_retention_events(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev, inner;

    crdt_retention r = {.days = 14};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_retention(&pk, 30, &r), 0);
    round_trip(&sb, CRDT_EV_RETENTION, &ev, &u, repack_retention);
    assert_int_equal(ev.u.retention.days, 14);
    msgpack_sbuffer_destroy(&sb);

    crdt_hold h = {.person = {1, 2, 3}, .reason = {"ca F0 số 12", 13}, .action = CRDT_HOLD_LIFT};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_hold(&pk, 31, &h), 0);
    round_trip(&sb, CRDT_EV_HOLD, &ev, &u, repack_hold);
    assert_int_equal(ev.u.hold.action, CRDT_HOLD_LIFT);
    assert_int_equal(ev.u.hold.person[2], 3);
    msgpack_sbuffer_destroy(&sb);
    h.reason.n = 0; /* a hold says why */
    assert_int_equal(crdt_event_pack_hold(&pk, 31, &h), TV_EINVAL);

    crdt_checkpoint base = {.upto = 41, .hash = {9, 9}};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_checkpoint(&pk, 40, &base), 0);
    round_trip(&sb, CRDT_EV_CHECKPOINT, &ev, &u, repack_checkpoint);
    assert_false(ev.u.checkpoint.copy);
    assert_int_equal(ev.u.checkpoint.upto, 41);
    msgpack_sbuffer_destroy(&sb);

    /* a copy of the retention event above, and of the largest event there may be */
    msgpack_sbuffer in;
    msgpack_packer ipk;
    pack(&in, &ipk);
    assert_int_equal(crdt_event_pack_retention(&ipk, 30, &r), 0);
    crdt_checkpoint copy = {.copy = 1, .event = (uint8_t *)in.data, .event_len = in.size, .seq = 3};
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_checkpoint(&pk, 40, &copy), 0);
    round_trip(&sb, CRDT_EV_CHECKPOINT, &ev, &u, repack_checkpoint);
    assert_true(ev.u.checkpoint.copy);
    assert_int_equal(ev.u.checkpoint.seq, 3);
    msgpack_unpacked u2;
    msgpack_unpacked_init(&u2);
    assert_int_equal(crdt_event_copy_open(&ev, &inner, &u2), 0);
    assert_int_equal(inner.type, CRDT_EV_RETENTION);
    assert_int_equal(inner.u.retention.days, 14);
    /* not below the copy's own HLC: malformed */
    crdt_event late = ev;
    late.hlc = 30;
    assert_int_equal(crdt_event_copy_open(&late, &inner, &u2), TV_EDECODE);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&in);
    /* a copy of a checkpoint: malformed */
    pack(&in, &ipk);
    assert_int_equal(crdt_event_pack_checkpoint(&ipk, 30, &base), 0);
    copy.event = (uint8_t *)in.data;
    copy.event_len = in.size;
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_checkpoint(&pk, 40, &copy), 0);
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), 0);
    assert_int_equal(crdt_event_copy_open(&ev, &inner, &u2), TV_EDECODE);
    msgpack_sbuffer_destroy(&sb);
    msgpack_sbuffer_destroy(&in);
    /* the largest event: an unknown type of 4,096 bytes, carried whole */
    static uint8_t big[CRDT_EVENT_BYTES_MAX];
    memset(big, 0, sizeof big);
    big[0] = 0x93;
    big[1] = 0x3f; /* type 63 */
    big[2] = 0x01;
    big[3] = 0xc5; /* bin 16: the rest */
    big[4] = (uint8_t)((sizeof big - 6) >> 8);
    big[5] = (uint8_t)(sizeof big - 6);
    assert_int_equal(crdt_event_decode(&inner, &u2, big, sizeof big), 0);
    copy.event = big;
    copy.event_len = sizeof big;
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_checkpoint(&pk, 40, &copy), 0);
    assert_true(sb.size > CRDT_EVENT_BYTES_MAX);
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), 0);
    assert_int_equal(crdt_event_copy_open(&ev, &inner, &u2), 0);
    msgpack_sbuffer_destroy(&sb);
    /* keys of both forms: malformed */
    pack(&sb, &pk);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint32(&pk, CRDT_EV_CHECKPOINT);
    msgpack_pack_uint64(&pk, 40);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_uint8(&pk, 5);
    msgpack_pack_uint8(&pk, 2);
    msgpack_pack_bin_with_body(&pk, base.hash, TV_HASH_BYTES);
    msgpack_pack_uint8(&pk, 3);
    msgpack_pack_bin_with_body(&pk, big, 8);
    msgpack_pack_uint8(&pk, 4);
    msgpack_pack_uint8(&pk, 2);
    assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), TV_EDECODE);
    msgpack_sbuffer_destroy(&sb);
    /* any other event over 4,096 bytes is still refused */
    static uint8_t over[CRDT_EVENT_BYTES_MAX + 8];
    memcpy(over, big, 6);
    over[4] = (uint8_t)((sizeof over - 6) >> 8);
    over[5] = (uint8_t)(sizeof over - 6);
    assert_int_equal(crdt_event_decode(&ev, &u, over, sizeof over), TV_ELIMIT);
    msgpack_unpacked_destroy(&u2);
    msgpack_unpacked_destroy(&u);
}

/* Length headers that claim more than the bytes that remain are refused before msgpack-c
 * sees them (it would try to allocate ~137 GB for the first one). */
static void test_hostile_lengths(void **state)
{
    (void)state;
    static const uint8_t huge_array[] = {0xdd, 0xcd, 0xdd, 0xcd, 0x24};
    static const uint8_t huge_map[] = {0xdf, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t huge_str[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
    static const uint8_t huge_bin[] = {0xc6, 0x7f, 0xff, 0xff, 0xff, 0x00};
    static const uint8_t huge_ext[] = {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
    static const uint8_t nested[] = {0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
                                     0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
                                     0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91,
                                     0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x91, 0x01};
    static const uint8_t reserved[] = {0xc1};
    const struct {
        const uint8_t *p;
        size_t n;
    } cases[] = {{huge_array, sizeof huge_array}, {huge_map, sizeof huge_map},
                 {huge_str, sizeof huge_str},     {huge_bin, sizeof huge_bin},
                 {huge_ext, sizeof huge_ext},     {nested, sizeof nested},
                 {reserved, sizeof reserved}};
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size;
        assert_int_equal(crdt_mp_check(cases[i].p, cases[i].n, &size), TV_EDECODE);
        crdt_event ev;
        assert_int_equal(crdt_event_decode(&ev, &u, cases[i].p, cases[i].n), TV_EDECODE);
    }
    msgpack_unpacked_destroy(&u);
}

static void test_utf8(void **state)
{
    (void)state;
    assert_true(crdt_utf8_valid("Nguyễn Văn An", strlen("Nguyễn Văn An")));
    assert_true(crdt_utf8_valid("\xf0\x9f\x98\x80", 4));
    assert_false(crdt_utf8_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(crdt_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(crdt_utf8_valid("\xe1\xbb", 2));         /* truncated */
    assert_false(crdt_utf8_valid("a\0b", 3));             /* NUL */
    assert_false(crdt_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

/* Packs a scan event field by field, as a hostile writer could: `at` and `device` as given
 * (device omitted when NULL), then `extra` copies of the unknown key `extra_key`. */
static void pack_raw_scan(msgpack_sbuffer *sb, int64_t at, const char *device, uint64_t extra_key,
                          int extra)
{
    msgpack_packer pk;
    pack(sb, &pk);
    uint8_t venue[TV_VENUE_ID_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8}, person[TV_PERSON_REF_BYTES] = {9};
    msgpack_pack_array(&pk, 3);
    msgpack_pack_uint32(&pk, CRDT_EV_SCAN);
    msgpack_pack_uint64(&pk, 5);
    msgpack_pack_map(&pk, 6 + (device != NULL) + (uint32_t)extra);
    msgpack_pack_uint8(&pk, 1);
    msgpack_pack_bin_with_body(&pk, venue, sizeof venue);
    msgpack_pack_uint8(&pk, 2);
    msgpack_pack_str_with_body(&pk, "22333", 5);
    msgpack_pack_uint8(&pk, 3);
    msgpack_pack_bin_with_body(&pk, person, sizeof person);
    msgpack_pack_uint8(&pk, 5);
    msgpack_pack_uint8(&pk, CRDT_DIR_IN);
    msgpack_pack_uint8(&pk, 6);
    msgpack_pack_int64(&pk, at);
    msgpack_pack_uint8(&pk, 7);
    msgpack_pack_uint8(&pk, CRDT_METHOD_STAFF);
    if (device) {
        msgpack_pack_uint8(&pk, 8);
        msgpack_pack_str_with_body(&pk, device, strlen(device));
    }
    for (int i = 0; i < extra; i++) {
        msgpack_pack_uint64(&pk, extra_key);
        msgpack_pack_uint8(&pk, (uint8_t)i);
    }
}

static int decode_sb(const msgpack_sbuffer *sb)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    int rc = crdt_event_decode(&ev, &u, (const uint8_t *)sb->data, sb->size);
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Map key 32 was tracked as `1u << 32` (undefined behaviour; x86 and ARM disagree), so one
 * batch could be valid on one node and malformed on another. A duplicated key below 64 is
 * malformed everywhere; a single unknown key, or duplicates of keys from 64 on, are
 * ignored. Also inside a signed batch, as a peer would send it. */
static void test_duplicate_keys(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    const uint64_t keys[] = {0, 9, 31, 32, 33, 63};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        pack_raw_scan(&sb, 1633482000000LL, NULL, keys[i], 1);
        assert_int_equal(decode_sb(&sb), 0);
        msgpack_sbuffer_destroy(&sb);
        pack_raw_scan(&sb, 1633482000000LL, NULL, keys[i], 2);
        assert_int_equal(decode_sb(&sb), TV_EDECODE);
        msgpack_sbuffer_destroy(&sb);
    }
    pack_raw_scan(&sb, 1633482000000LL, NULL, 64, 2);
    assert_int_equal(decode_sb(&sb), 0);
    msgpack_sbuffer_destroy(&sb);
    pack_raw_scan(&sb, 1633482000000LL, NULL, UINT64_MAX, 2);
    assert_int_equal(decode_sb(&sb), 0);
    msgpack_sbuffer_destroy(&sb);

    /* the venue decoder had the same shift; and every other decoder shares the rule */
    uint8_t venue[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    for (int twice = 0; twice <= 1; twice++) {
        msgpack_packer pk;
        pack(&sb, &pk);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint32(&pk, CRDT_EV_VENUE_UPSERT);
        msgpack_pack_uint64(&pk, 5);
        msgpack_pack_map(&pk, 3 + (uint32_t)twice);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_bin_with_body(&pk, venue, 8);
        msgpack_pack_uint8(&pk, 3);
        msgpack_pack_str_with_body(&pk, "Quán", strlen("Quán"));
        for (int k = 0; k <= twice; k++) {
            msgpack_pack_uint8(&pk, 32);
            msgpack_pack_str_with_body(&pk, "new", 3);
        }
        assert_int_equal(decode_sb(&sb), twice ? TV_EDECODE : 0);
        msgpack_sbuffer_destroy(&sb);

        pack(&sb, &pk);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint32(&pk, CRDT_EV_RISK_LEVEL);
        msgpack_pack_uint64(&pk, 5);
        msgpack_pack_map(&pk, 4 + (uint32_t)twice);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_str_with_body(&pk, "22333", 5);
        msgpack_pack_uint8(&pk, 2);
        msgpack_pack_uint8(&pk, 3);
        msgpack_pack_uint8(&pk, 3);
        msgpack_pack_int64(&pk, 1633482000000LL);
        for (int k = 0; k <= twice; k++) {
            msgpack_pack_uint8(&pk, 32);
            msgpack_pack_nil(&pk);
        }
        assert_int_equal(decode_sb(&sb), twice ? TV_EDECODE : 0);
        msgpack_sbuffer_destroy(&sb);
    }

    /* a signed batch whose one event has key 32 twice is refused when its events are read */
    crdt_identity id;
    test_identity(&id, 7);
    for (int twice = 0; twice <= 1; twice++) {
        pack_raw_scan(&sb, 1633482000000LL, NULL, 32, 1 + twice);
        crdt_batch_builder b;
        crdt_batch_builder_init(&b);
        msgpack_sbuffer_write(&b.events, sb.data, sb.size);
        crdt_batch_builder_note(&b, 5);
        uint8_t *out;
        size_t len;
        assert_int_equal(crdt_batch_seal(&b, &id, 1, NULL, &out, &len, NULL), 0);
        crdt_batch batch;
        assert_int_equal(crdt_batch_open(&batch, out, len), 0);
        assert_int_equal(crdt_batch_check_events(&batch), twice ? TV_EDECODE : 0);
        free(out);
        crdt_batch_builder_release(&b);
        msgpack_sbuffer_destroy(&sb);
    }
}

/* Times in event fields lie in [0, CRDT_TIME_MS_MAX): crdt_day_vn of any decoded time, and
 * windows of days around it, cannot overflow. */
static void test_time_bounds(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    const struct {
        int64_t at;
        int rc;
    } cases[] = {{0, 0},
                 {CRDT_TIME_MS_MAX - 1, 0},
                 {CRDT_TIME_MS_MAX, TV_EDECODE},
                 {INT64_MAX, TV_EDECODE},
                 {-1, TV_EDECODE},
                 {INT64_MIN, TV_EDECODE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        pack_raw_scan(&sb, cases[i].at, NULL, 0, 0);
        assert_int_equal(decode_sb(&sb), cases[i].rc);
        msgpack_sbuffer_destroy(&sb);
    }
    assert_int_equal(crdt_day_vn(CRDT_TIME_MS_MAX - 1), 84006); /* 2200-01-01 in Vietnam */

    msgpack_packer pk;
    pack(&sb, &pk);
    crdt_scan s = test_scan(1, INT64_MAX);
    assert_int_equal(crdt_event_pack_scan(&pk, 5, &s), TV_EINVAL);
    crdt_risk r = {.unit = {"22333", 5}, .level = 2, .from_ms = INT64_MAX};
    assert_int_equal(crdt_event_pack_risk(&pk, 5, &r), TV_EINVAL);
    r.from_ms = CRDT_TIME_MS_MAX - 1;
    assert_int_equal(crdt_event_pack_risk(&pk, 5, &r), 0);
    crdt_case c = {.unit = {"22333", 5},
                   .status = CRDT_CASE_F0,
                   .onset_ms = 1633482000000LL,
                   .sampled_ms = CRDT_TIME_NONE,
                   .at_ms = CRDT_TIME_NONE};
    c.at_ms = INT64_MAX;
    assert_int_equal(crdt_event_pack_case(&pk, 5, &c), TV_EINVAL);
    c.at_ms = CRDT_TIME_NONE;
    c.sampled_ms = CRDT_TIME_MS_MAX;
    assert_int_equal(crdt_event_pack_case(&pk, 5, &c), TV_EINVAL);
    msgpack_sbuffer_destroy(&sb);

    /* on decode: a case's onset, sampled and at, a risk level's from */
    for (int key = 4; key <= 6; key++) {
        for (int bad = 0; bad <= 1; bad++) {
            pack(&sb, &pk);
            uint8_t person[TV_PERSON_REF_BYTES] = {3};
            msgpack_pack_array(&pk, 3);
            msgpack_pack_uint32(&pk, CRDT_EV_CASE_STATUS);
            msgpack_pack_uint64(&pk, 5);
            msgpack_pack_map(&pk, 4);
            msgpack_pack_uint8(&pk, 1);
            msgpack_pack_bin_with_body(&pk, person, sizeof person);
            msgpack_pack_uint8(&pk, 2);
            msgpack_pack_str_with_body(&pk, "22333", 5);
            msgpack_pack_uint8(&pk, 3);
            msgpack_pack_uint8(&pk, CRDT_CASE_F1);
            msgpack_pack_uint8(&pk, (uint8_t)key);
            msgpack_pack_int64(&pk, bad ? INT64_MAX : 1633482000000LL);
            assert_int_equal(decode_sb(&sb), bad ? TV_EDECODE : 0);
            msgpack_sbuffer_destroy(&sb);
        }
    }
    for (int bad = 0; bad <= 1; bad++) {
        pack(&sb, &pk);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint32(&pk, CRDT_EV_RISK_LEVEL);
        msgpack_pack_uint64(&pk, 5);
        msgpack_pack_map(&pk, 3);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_str_with_body(&pk, "22333", 5);
        msgpack_pack_uint8(&pk, 2);
        msgpack_pack_uint8(&pk, 3);
        msgpack_pack_uint8(&pk, 3);
        msgpack_pack_int64(&pk, bad ? CRDT_TIME_MS_MAX : CRDT_TIME_MS_MAX - 1);
        assert_int_equal(decode_sb(&sb), bad ? TV_EDECODE : 0);
        msgpack_sbuffer_destroy(&sb);
    }
}

static void test_text_valid(void **state)
{
    (void)state;
    assert_true(crdt_text_valid("", 0));
    assert_true(crdt_text_valid("Nguyễn Văn An", strlen("Nguyễn Văn An")));
    assert_true(crdt_text_valid("~ \xc2\xa0 \xc2\xbf \xe2\x80\x8b", 11)); /* NBSP, ¿, ZWSP */
    assert_true(crdt_text_valid("\xf0\x9f\x98\x80", 4));
    static const char *const bad[] = {
        "\x1b[2J",
        "a\x07",
        "\tb",
        "c\n",
        "\r",
        "\x1f",
        "d\x7f",
        "\xc2\x80",
        "\xc2\x9b"
        "31m",
        "e\xc2\x9f",
        "\xc0\xaf" /* not UTF-8 */,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(crdt_text_valid(bad[i], strlen(bad[i])));
    assert_false(crdt_text_valid("a\0b", 3));
}

/* A str field carrying a control character is malformed: refused when packing, and a
 * received event with one is refused by the decoder (so the whole batch is invalid). */
static void test_control_chars_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"g\x1b[2Jx", "g\x07", "g\x7f",
                                      "g\xc2\x9b"
                                      "2J"};
    msgpack_sbuffer sb;
    msgpack_packer pk;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const crdt_text t = {bad[i], (uint32_t)strlen(bad[i])};
        pack_raw_scan(&sb, 1633482000000LL, bad[i], 0, 0);
        assert_int_equal(decode_sb(&sb), TV_EDECODE);
        msgpack_sbuffer_destroy(&sb);

        pack(&sb, &pk);
        crdt_scan s = test_scan(1, 1633482000000LL);
        s.device = t;
        assert_int_equal(crdt_event_pack_scan(&pk, 5, &s), TV_EINVAL);
        s.device = (crdt_text){0};
        s.masked = t;
        assert_int_equal(crdt_event_pack_scan(&pk, 5, &s), TV_EINVAL);
        crdt_venue_upsert v = {.fields = CRDT_VENUE_F_NAME, .name = t};
        assert_int_equal(crdt_event_pack_venue(&pk, 5, &v), TV_EINVAL);
        v = (crdt_venue_upsert){.fields = CRDT_VENUE_F_VILLAGE, .village = t};
        assert_int_equal(crdt_event_pack_venue(&pk, 5, &v), TV_EINVAL);
        v = (crdt_venue_upsert){.fields = CRDT_VENUE_F_OWNER_PHONE, .owner_phone = t};
        assert_int_equal(crdt_event_pack_venue(&pk, 5, &v), TV_EINVAL);
        crdt_reminder rm = {.unit = {"22333", 5}, .note = t};
        assert_int_equal(crdt_event_pack_reminder(&pk, 5, &rm), TV_EINVAL);
        crdt_person p = {.unit = {"22333", 5}, .id_masked = {"09******78", 10}, .nsealed = 1};
        static const uint8_t box[8] = {1};
        p.sealed[0] = (crdt_sealed){.box = box, .len = sizeof box};
        assert_int_equal(crdt_event_pack_person(&pk, 5, &p), 0);
        p.name_masked = t;
        assert_int_equal(crdt_event_pack_person(&pk, 5, &p), TV_EINVAL);
        p.name_masked = (crdt_text){0};
        p.id_masked = t;
        assert_int_equal(crdt_event_pack_person(&pk, 5, &p), TV_EINVAL);
        crdt_reveal x = {.reason = t};
        assert_int_equal(crdt_event_pack_reveal(&pk, 5, &x), TV_EINVAL);
        crdt_risk r = {.unit = {"22333", 5}, .level = 2, .from_ms = 0, .note = t};
        assert_int_equal(crdt_event_pack_risk(&pk, 5, &r), TV_EINVAL);
        crdt_unit un = {.code = {"22333.t1", 8}, .name = t, .parent = {"22333", 5}};
        assert_int_equal(crdt_event_pack_unit(&pk, 5, &un), TV_EINVAL);
        crdt_revoke rv = {.reason = t};
        assert_int_equal(crdt_event_pack_revoke(&pk, 5, &rv), TV_EINVAL);
        msgpack_sbuffer_destroy(&sb);

        /* a revoke's reason, which the decoder checked for UTF-8 only */
        pack(&sb, &pk);
        uint8_t subject[TV_NODE_ID_BYTES] = {4};
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint32(&pk, CRDT_EV_REVOKE);
        msgpack_pack_uint64(&pk, 5);
        msgpack_pack_map(&pk, 2);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_bin_with_body(&pk, subject, sizeof subject);
        msgpack_pack_uint8(&pk, 2);
        msgpack_pack_str_with_body(&pk, t.p, t.n);
        assert_int_equal(decode_sb(&sb), TV_EDECODE);
        msgpack_sbuffer_destroy(&sb);

        /* a venue's name */
        pack(&sb, &pk);
        uint8_t venue[8] = {9};
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint32(&pk, CRDT_EV_VENUE_UPSERT);
        msgpack_pack_uint64(&pk, 5);
        msgpack_pack_map(&pk, 2);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_bin_with_body(&pk, venue, 8);
        msgpack_pack_uint8(&pk, 3);
        msgpack_pack_str_with_body(&pk, t.p, t.n);
        assert_int_equal(decode_sb(&sb), TV_EDECODE);
        msgpack_sbuffer_destroy(&sb);
    }
    /* the same event without the control character decodes */
    pack_raw_scan(&sb, 1633482000000LL, "cổng 1 [2J", 0, 0);
    assert_int_equal(decode_sb(&sb), 0);
    msgpack_sbuffer_destroy(&sb);
}

static void test_day_vn(void **state)
{
    (void)state;
    /* 2021-10-06T00:00:00+07:00 is 2021-10-05T17:00:00Z; day 18906 is 2021-10-06 */
    assert_int_equal(crdt_day_vn(1633453200000LL), 18906);
    assert_int_equal(crdt_day_vn(1633453200000LL - 1), 18905);
    assert_int_equal(crdt_day_vn(0), 0);
    assert_int_equal(crdt_day_vn(-7 * 3600 * 1000LL - 1), -1);
}

static int repack_grant(msgpack_packer *pk, const crdt_event *ev)
{
    return crdt_event_pack_grant(pk, ev->hlc, &ev->u.grant);
}

/* key_grant: subject, unit and an 80-byte box round trip; a box of another length, a bad
 * unit or a missing field is refused. */
static void test_key_grant_event(void **state)
{
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    crdt_event ev;
    uint8_t box[CRDT_GRANT_BOX_BYTES + 1];
    memset(box, 0xb0, sizeof box);
    crdt_key_grant g = {.unit = {"22333", 5}, .box = box};
    memset(g.subject, 0x51, sizeof g.subject);
    pack(&sb, &pk);
    assert_int_equal(crdt_event_pack_grant(&pk, 23, &g), 0);
    round_trip(&sb, CRDT_EV_KEY_GRANT, &ev, &u, repack_grant);
    assert_string_equal(crdt_event_type_name(CRDT_EV_KEY_GRANT), "key_grant");
    assert_memory_equal(ev.u.grant.subject, g.subject, TV_NODE_ID_BYTES);
    assert_memory_equal(ev.u.grant.box, box, CRDT_GRANT_BOX_BYTES);
    msgpack_sbuffer_destroy(&sb);
    crdt_key_grant bad = g;
    bad.unit = (crdt_text){"a b", 3};
    assert_int_equal(crdt_event_pack_grant(&pk, 23, &bad), TV_EINVAL);
    for (int n = 0; n < 3; n++) { /* a box one byte short, one long; no box */
        pack(&sb, &pk);
        msgpack_pack_array(&pk, 3);
        msgpack_pack_uint32(&pk, CRDT_EV_KEY_GRANT);
        msgpack_pack_uint64(&pk, 24);
        msgpack_pack_map(&pk, n < 2 ? 3 : 2);
        msgpack_pack_uint8(&pk, 1);
        msgpack_pack_bin_with_body(&pk, g.subject, TV_NODE_ID_BYTES);
        msgpack_pack_uint8(&pk, 2);
        msgpack_pack_str_with_body(&pk, "22333", 5);
        if (n < 2) {
            msgpack_pack_uint8(&pk, 3);
            msgpack_pack_bin_with_body(&pk, box, CRDT_GRANT_BOX_BYTES + (n ? 1 : -1));
        }
        assert_int_equal(crdt_event_decode(&ev, &u, (uint8_t *)sb.data, sb.size), TV_EDECODE);
        msgpack_sbuffer_destroy(&sb);
    }
    msgpack_unpacked_destroy(&u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan_round_trip),
        cmocka_unit_test(test_venue_round_trip),
        cmocka_unit_test(test_invalid_fields_refused_on_pack),
        cmocka_unit_test(test_unknown_type_kept),
        cmocka_unit_test(test_unknown_field_ignored),
        cmocka_unit_test(test_truncations_and_flips),
        cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_day_vn),
        cmocka_unit_test(test_duplicate_keys),
        cmocka_unit_test(test_time_bounds),
        cmocka_unit_test(test_text_valid),
        cmocka_unit_test(test_control_chars_refused),
        cmocka_unit_test(test_people_events),
        cmocka_unit_test(test_health_events),
        cmocka_unit_test(test_unit_event),
        cmocka_unit_test(test_retention_events),
        cmocka_unit_test(test_key_grant_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
