/* What a health officer types to set a case status (`truyvet case add`) or a risk level
 * (`truyvet risk set`), checked before anything is recorded, by the command line and the
 * web console alike: the person (a card's QR text, a number, or a pseudonym), the status
 * and its times, the unit, the level, its note and start; and the sentences of a health
 * event this node may not set. Each refusal fills a tv_why (why.h) with its code and both
 * sentences (en: what the command line prints after "truyvet: "); nothing here writes to
 * the store or prints.
 *
 * Codes: person_missing, status_missing, status_invalid, time_invalid, onset_missing,
 * unit_invalid, ref_invalid, person_invalid, field_missing, level_invalid, unit_unknown,
 * text_too_long, text_control, text_utf8 (the note) (TV_EINVAL); locked (TV_ELOCKED: the
 * node's keys are locked); no_pseudonym_key, not_health, unit_out_of_scope (TV_EPERM). */
#ifndef TV_NODE_LOGIC_HEALTH_INPUT_H
#define TV_NODE_LOGIC_HEALTH_INPUT_H

#include "crdt/event.h"
#include "node/logic/node.h"
#include "node/logic/why.h"

#include <stdint.h>

/* Reads time v given for field name ("--onset"; name_vi: "Ngày khởi phát") by
 * tv_when_parse (timefmt.h: 'today' at now_ms, a date, or a time with its offset), before
 * 2200 (crdt_time_valid), into *ms. Returns 0, or TV_EINVAL with why set (time_invalid:
 * "--onset takes 'today', a date or a time with its offset (before 2200), not 'x'."). */
int tv_when_check(const char *name, const char *name_vi, const char *v, int64_t now_ms, int64_t *ms,
                  tv_why *why);

/* A case status as typed (NULL: not given; the strings are borrowed). */
typedef struct tv_case_input {
    const char *person;               /* a card's QR text, a phone or an ID number */
    const char *ref;                  /* or the pseudonym, 32 hex digits */
    const char *status;               /* F0, F1, F2 or cleared */
    const char *onset, *sampled, *at; /* times, as tv_when_check reads them */
    const char *unit;                 /* the unit it counts under (NULL: the default) */
} tv_case_input;

/* Checks in, in the order `case add` does: exactly one of person and ref
 * (person_missing), the status (status_missing, status_invalid), onset, sampled and at
 * (time_invalid), an F0 without onset or sampled (onset_missing), the unit's code
 * (unit_invalid). Sets cs's status and times (CRDT_TIME_NONE when not given); its person
 * and unit are left to the caller (tv_health_person_ref, tv_case_default_unit). Returns 0,
 * or TV_EINVAL with why set. */
int tv_case_input_parse(const tv_case_input *in, int64_t now_ms, crdt_case *cs, tv_why *why);

/* The pseudonym of the person given by person (a card's QR text, or a number read with the
 * province key where n holds it, else with its own pseudonym key: tv_node_ref_key) or by
 * refhex (32 hex digits; exactly one is non-NULL). Returns 0, TV_EINVAL (ref_invalid,
 * person_invalid), TV_ELOCKED (locked: a person needs the key of a locked node) or
 * TV_EPERM (no_pseudonym_key: a node holding no pseudonym key) with why set; for locked,
 * en and vi say only what could not be done (the caller adds why: tv_resp_fail,
 * tv_cli_fail). */
int tv_health_person_ref(const tv_node *n, const char *person, const char *refhex,
                         uint8_t ref[TV_PERSON_REF_BYTES], tv_why *why);

/* A risk level as typed (NULL: not given; the strings are borrowed). */
typedef struct tv_risk_input {
    const char *unit;  /* a unit code; a village is <commune>.<village> */
    const char *level; /* 1..4 */
    const char *from;  /* when it takes effect, as tv_when_check reads it */
    const char *note;  /* optional */
} tv_risk_input;

/* Checks in, in the order `risk set` does: unit, level and from given (field_missing),
 * the unit's code (unit_invalid), the level (level_invalid), the note (tv_why_text
 * "note"), from (time_invalid). Fills r (its texts point into in). Returns 0, or
 * TV_EINVAL with why set. Whether the unit is known is tv_unit_known_check's. */
int tv_risk_input_parse(const tv_risk_input *in, int64_t now_ms, crdt_risk *r, tv_why *why);

/* Checks that code names a unit of the tree: an official unit (node/units/), a unit that a
 * unit event names in n's store (n may be NULL: the official list only), or a local unit
 * <commune>.<local> whose commune is one of those. Returns 0, or TV_EINVAL with why set
 * (unit_unknown, naming the official units whose codes are nearest). */
int tv_unit_known_check(tv_node *n, const char *code, tv_why *why);

/* The sentence of a health event (what: "case statuses", what_vi: "tình trạng ca bệnh")
 * for unit that tv_case_add or tv_risk_set refused with rc: TV_EPERM (not_health: this
 * node is no health node) or TV_ESCOPE (unit_out_of_scope). Returns TV_EPERM with why
 * set for those, else rc with why set as tv_why_store does ("nothing was recorded"). */
int tv_health_refused(int rc, const char *what, const char *what_vi, const char *unit, tv_why *why);

#endif
