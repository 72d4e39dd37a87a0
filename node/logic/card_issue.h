/* Personal QR cards for people without a phone, as `truyvet person card` and the web
 * console issue them: what the clerk typed (a card's QR text, or a phone number and a
 * name) checked into a tv_card, then each person recorded (their person event, the first
 * time) and their personal code signed by this node, all committed together. Drawing the
 * cards is node/print/poster.h's (tv_cards_write). Nothing here prints. */
#ifndef TV_NODE_LOGIC_CARD_ISSUE_H
#define TV_NODE_LOGIC_CARD_ISSUE_H

#include "node/format/payload.h"
#include "node/logic/idcard.h"
#include "node/logic/node.h"
#include "node/logic/why.h"

#include <stddef.h>

#define TV_CARDS_MAX 90 /* cards issued at a time, at most */

/* Reads what one card is for: text (a card's QR text, a phone or an ID number) and the
 * name that goes with a phone (NULL: none) into card. Returns 0, or TV_EINVAL with why set:
 *   person_invalid  "'TEXT' cannot be read as a person: WHY."
 *   card_again      "'TEXT...' is already a personal code."
 *   name_misplaced  "--name goes with a phone number, briefly."
 *   text_*          the name's text (tv_why_text "name"). */
int tv_card_input(const char *text, const char *name, tv_card *card, tv_why *why);

/* One issued card. */
typedef struct tv_card_issued {
    tv_person_card pc;             /* signed */
    char code[TV_PERSON_CARD_MAX]; /* its text, what the QR code holds */
} tv_card_issued;

/* Records the count people of cards (their person events where new) and signs their
 * personal codes into out[0..count), committed once for all. After a failure nothing is
 * committed. Returns 0, TV_EPERM (the node holds no pseudonym key: a district without the
 * health flag), TV_ELOCKED, or what recording and committing return. */
int tv_cards_issue(tv_node *n, const tv_card *cards, size_t count, tv_card_issued *out);

#endif
