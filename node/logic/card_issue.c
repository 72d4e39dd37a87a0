/* Personal QR cards (card_issue.h): moved here from `truyvet person card`, so the web
 * console issues the same cards with the same refusals. */
#include "node/logic/card_issue.h"

#include "crdt/error.h"
#include "node/logic/person.h"
#include "node/logic/record.h"

#include <string.h>

/* Copies s into out (cap bytes), cut short at a character boundary when it is longer. */
static void copy_utf8(char *out, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--; /* s[n] would start the next character: cut before it */
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

int tv_card_input(const char *text, const char *name, tv_card *card, tv_why *why)
{
    const char *w;
    if (tv_card_parse(text, strlen(text), card, &w)) {
        tv_why_set(why, "person_invalid", "'%s' cannot be read as a person: %s.%.0s",
                   "Không đọc được '%s' là thông tin một người: %.0s%s.", text, w,
                   tv_card_why_vi(w));
        return TV_EINVAL;
    }
    if (card->kind == TV_CARD_TRUYVET) {
        tv_why_set(why, "card_again", "'%.20s...' is already a personal code.",
                   "'%.20s...' đã là mã cá nhân rồi, không cần cấp thẻ nữa.", text);
        return TV_EINVAL;
    }
    if (!name) return 0;
    if (card->name[0] || strlen(name) >= sizeof card->name) {
        tv_why_set(why, "name_misplaced", "--name goes with a phone number, briefly.%s",
                   "Họ tên chỉ ghi kèm số điện thoại, và ngắn gọn.%s", "");
        return TV_EINVAL;
    }
    int rc = tv_why_text("name", name, TV_CARD_NAME_MAX, why);
    if (rc) return rc;
    strcpy(card->name, name);
    tv_name_mask(card->name, card->name_masked, sizeof card->name_masked);
    return 0;
}

/* Records the person of card through rec and signs their personal code. */
static int card_one(tv_recorder *rec, tv_node *n, const tv_card *card, tv_card_issued *out)
{
    tv_scan_done d;
    int rc = tv_recorder_person(rec, card, &d);
    if (rc) return rc;
    char display[TV_PERSON_DISPLAY_BYTES];
    copy_utf8(display, sizeof display, d.masked);
    /* birth year 0 (unknown): beside the masked number it would give away digits of a
     * CCCD, in the code and on every gate that records it */
    if ((rc = tv_person_card_sign(&out->pc, d.ref, 0, display, &n->id))) return rc;
    tv_person_card_format(out->code, &out->pc);
    return 0;
}

int tv_cards_issue(tv_node *n, const tv_card *cards, size_t count, tv_card_issued *out)
{
    tv_recorder rec;
    int rc = tv_recorder_init(&rec, n);
    if (rc) return rc;
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = card_one(&rec, n, &cards[i], &out[i]);
    uint64_t seq;
    if (rc == 0 && tv_node_pending(n) && (rc = tv_node_commit(n, &seq)) == 0)
        rc = tv_recorder_committed(&rec);
    if (rc) tv_node_discard(n);
    tv_recorder_free(&rec);
    return rc;
}
