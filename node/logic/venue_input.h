/* What a clerk types about a venue, checked before anything is recorded, by the command
 * line and the web console alike: a venue's fields (venue add, venue edit), the venue
 * named by its id, a prefix of it or its short code, whether this node may change it, and
 * whether it is registered already. Each refusal fills a tv_why (why.h) with its code and
 * sentences; nothing here writes to the store or prints.
 *
 * Codes: field_missing, text_empty, text_too_long, text_control, text_utf8 (why.h),
 * category_unknown, phone_invalid, phone_is_id, closes_invalid (TV_EINVAL); venue_malformed,
 * venue_ambiguous (TV_EINVAL), venue_unknown, controller_unknown (TV_ENOTFOUND); not_commune,
 * venue_not_own (TV_EPERM); venue_duplicate, venue_not_suspended (TV_EEXIST); store (a store
 * error, passed on). */
#ifndef TV_NODE_LOGIC_VENUE_INPUT_H
#define TV_NODE_LOGIC_VENUE_INPUT_H

#include "node/format/payload.h"
#include "node/logic/node.h"
#include "node/logic/person.h"
#include "node/logic/why.h"
#include "store/store.h"

/* A venue's fields as typed; NULL: not given (unchanged by an edit). The strings are
 * borrowed. tv_venue_input_parse keeps here the NFC copies (text.h, tv_text_nfc) that the
 * upsert's name and village point to: "Nguyễn" typed with combining marks is stored as the
 * same bytes as typed composed. Release with tv_venue_input_free once the upsert is
 * recorded; a zeroed input needs no release. */
typedef struct tv_venue_input {
    const char *name, *category, *village, *owner_phone, *closes;
    char *kept[3]; /* the NFC copies of name, category, village that differ from them */
} tv_venue_input;

/* Checks the fields given in in and fills v's (fields, name, category, village,
 * owner_phone, closes: v's other members are untouched; v's texts point into in and
 * phone, which must outlive v). In this order: name empty (text_empty "the venue name is
 * empty."), the name's text (tv_why_text "venue name"), category_unknown, the village's
 * text, phone_invalid, closes_invalid ("none" gives CRDT_CLOSES_NONE). Returns 0, or
 * TV_EINVAL with why set (v and phone then hold nothing to use). */
int tv_venue_input_parse(tv_venue_input *in, crdt_venue_upsert *v, char phone[TV_PERSON_NORM_MAX],
                         tv_why *why);
void tv_venue_input_free(tv_venue_input *in);

/* tv_venue_input_parse for a new venue (venue add): a name and a category are needed
 * first (field_missing), and closes "none" is no field (a new venue has none). */
int tv_venue_input_new(tv_venue_input *in, crdt_venue_upsert *v, char phone[TV_PERSON_NORM_MAX],
                       tv_why *why);
/* tv_venue_input_parse for a change (venue edit): then at least one field must be given
 * (field_missing). */
int tv_venue_input_edit(tv_venue_input *in, crdt_venue_upsert *v, char phone[TV_PERSON_NORM_MAX],
                        tv_why *why);

/* Finds a venue by its full id (16 hex digits), a unique prefix of at least 4 digits, or
 * the short code on its poster (XXXX-XXXX-C, payload.h). Returns 0 with *out set, or with
 * why set: TV_EINVAL (venue_malformed, venue_ambiguous), TV_ENOTFOUND (venue_unknown), or
 * a store error (store). The sentences name text as given. */
int tv_venue_find(tv_node *n, const char *text, store_venue *out, tv_why *why);

/* Refuses a node that is not a commune's: venues are registered and changed there.
 * Returns 0, or TV_EPERM with why set (not_commune). */
int tv_venue_require_commune(const tv_node *n, tv_why *why);

/* Finds the venue named by text for a change: this must be a commune node
 * (tv_venue_require_commune) and the venue (tv_venue_find) one of its unit's, else
 * TV_EPERM (venue_not_own). Returns 0 or an error with why set. */
int tv_venue_own(tv_node *n, const char *text, store_venue *sv, tv_why *why);

/* Refuses a new venue of n's unit that looks registered already: same name, village and
 * category, case, marks and spaces aside (tv_venue_duplicate). Returns 0, TV_EEXIST with
 * *found and why set (venue_duplicate, naming it; the English sentence is the one the
 * command line has always printed, in Vietnamese with its --force hint), or a store
 * error with why set (store). */
int tv_venue_duplicate_check(tv_node *n, const crdt_venue_upsert *v, store_venue *found,
                             tv_why *why);

/* Finds the venue named by text (tv_venue_find) and signs its poster's payload p: only the
 * commune node that registered it may (TV_EPERM, venue_not_own). Returns 0 or an error
 * with why set (a signing failure: code "sign"). */
int tv_venue_payload_own(tv_node *n, const char *text, store_venue *v, tv_venue_payload *p,
                         tv_why *why);

/* Refuses to reinstate venue sv (named text as given), whose status is st, when it is not
 * suspended. Returns 0, or TV_EEXIST (it is already as asked) with why set
 * (venue_not_suspended). */
int tv_venue_reinstate_check(const store_venue *sv, const char *text, const store_venue_status *st,
                             tv_why *why);

/* Refuses to remove phone from the controllers of venue sv (named text) when it holds no
 * add of it (ntags, tv_venue_controller_tags). Returns 0, or TV_ENOTFOUND with why set
 * (controller_unknown). */
int tv_venue_controller_held(const store_venue *sv, const char *text, const char *phone,
                             uint32_t ntags, tv_why *why);

/* Reads the phone of a venue's controller (a staff member who scans for it) into pid.
 * Returns 0, or TV_EINVAL with why set: phone_invalid (what tv_person_parse_typed says),
 * phone_is_id (an ID number was given). */
int tv_venue_controller_phone(const char *text, tv_person_id *pid, tv_why *why);

#endif
