/* Venue payloads and short codes (see payload.h). */
#include "node/format/payload.h"
#include "crdt/error.h"
#include "crdt/event.h"
#include "crdt/mp.h"

#include <string.h>
#include <strings.h>

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";       /* RFC 4648 */
static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; /* Crockford */

#define BODY_BYTES (TV_VENUE_ID_BYTES + TV_KEY_ID_BYTES + TV_SIG_BYTES) /* 80 */
#define BODY_CHARS (BODY_BYTES * 8 / 5)                                 /* 128 */
_Static_assert(BODY_BYTES % 5 == 0, "the body is a whole number of base32 groups");

static int unit_valid(const char *u, size_t n)
{
    if (n < 2 || n > 5) return 0;
    for (size_t i = 0; i < n; i++)
        if (u[i] < '0' || u[i] > '9') return 0;
    return 1;
}

/* Encodes n bytes (a multiple of 5) as n * 8 / 5 characters of alphabet. */
static void base32_encode(char *out, const uint8_t *in, size_t n, const char *alphabet)
{
    for (size_t i = 0; i < n; i += 5) {
        uint64_t v = 0;
        for (int k = 0; k < 5; k++)
            v = v << 8 | in[i + (size_t)k];
        for (int k = 7; k >= 0; k--)
            *out++ = alphabet[(v >> (5 * k)) & 31];
    }
}

static int b32_value(char c)
{
    const char *p = c ? strchr(b32, c) : NULL;
    return p ? (int)(p - b32) : -1;
}

/* Decodes n characters (a multiple of 8) of RFC 4648 base32; returns 0, or -1 on a
 * character outside the alphabet. */
static int base32_decode(uint8_t *out, const char *in, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = 0;
        for (size_t j = 0; j < 8; j++) {
            int d = b32_value(in[i + j]);
            if (d < 0) return -1;
            v = v << 5 | (uint64_t)d;
        }
        for (int b = 0; b < 5; b++)
            out[i / 8 * 5 + (size_t)b] = (uint8_t)(v >> (8 * (4 - b)));
    }
    return 0;
}

static int sign_message(uint8_t *msg, const uint8_t *venue, const char *unit)
{
    size_t n = strlen(unit);
    memcpy(msg, venue, TV_VENUE_ID_BYTES);
    memcpy(msg + TV_VENUE_ID_BYTES, unit, n);
    return (int)(TV_VENUE_ID_BYTES + n);
}

int tv_venue_payload_sign(tv_venue_payload *p, const uint8_t venue[TV_VENUE_ID_BYTES],
                          const char *unit, const crdt_identity *id)
{
    memset(p, 0, sizeof *p);
    if (!unit_valid(unit, strlen(unit))) return TV_EINVAL;
    memcpy(p->venue, venue, TV_VENUE_ID_BYTES);
    strcpy(p->unit, unit);
    memcpy(p->key_id, id->pk, TV_KEY_ID_BYTES);
    uint8_t msg[TV_VENUE_ID_BYTES + TV_UNIT_CODE_MAX];
    int n = sign_message(msg, venue, unit);
    return crdt_sign(p->sig, TV_VENUE_SIGN_CONTEXT, msg, (size_t)n, id->sk);
}

void tv_venue_payload_format(char out[TV_VENUE_PAYLOAD_MAX], const tv_venue_payload *p)
{
    uint8_t body[BODY_BYTES];
    memcpy(body, p->venue, TV_VENUE_ID_BYTES);
    memcpy(body + TV_VENUE_ID_BYTES, p->key_id, TV_KEY_ID_BYTES);
    memcpy(body + TV_VENUE_ID_BYTES + TV_KEY_ID_BYTES, p->sig, TV_SIG_BYTES);
    size_t k = strlen(TV_VENUE_PAYLOAD_PREFIX), u = strlen(p->unit);
    memcpy(out, TV_VENUE_PAYLOAD_PREFIX, k);
    memcpy(out + k, p->unit, u);
    out[k + u] = ':';
    base32_encode(out + k + u + 1, body, BODY_BYTES, b32);
    out[k + u + 1 + BODY_CHARS] = '\0';
}

int tv_venue_payload_parse(const char *text, size_t len, tv_venue_payload *p, const char **why)
{
    memset(p, 0, sizeof *p);
    size_t k = strlen(TV_VENUE_PAYLOAD_PREFIX);
    if (len < k || memcmp(text, TV_VENUE_PAYLOAD_PREFIX, k) != 0) {
        *why = "not a truyvet venue code (it should start with TV1V:)";
        return TV_EINVAL;
    }
    const char *unit = text + k, *colon = memchr(unit, ':', len - k);
    if (!colon || !unit_valid(unit, (size_t)(colon - unit))) {
        *why = "the venue code's unit is not 2 to 5 digits followed by ':'";
        return TV_EINVAL;
    }
    const char *body = colon + 1;
    size_t n = len - (size_t)(body - text);
    if (n != BODY_CHARS) {
        *why = "the venue code is cut short or too long";
        return TV_EINVAL;
    }
    uint8_t raw[BODY_BYTES];
    if (base32_decode(raw, body, BODY_CHARS)) {
        *why = "the venue code holds a character that is not in its alphabet";
        return TV_EINVAL;
    }
    memcpy(p->venue, raw, TV_VENUE_ID_BYTES);
    memcpy(p->key_id, raw + TV_VENUE_ID_BYTES, TV_KEY_ID_BYTES);
    memcpy(p->sig, raw + TV_VENUE_ID_BYTES + TV_KEY_ID_BYTES, TV_SIG_BYTES);
    memcpy(p->unit, unit, (size_t)(colon - unit));
    return TV_OK;
}

int tv_venue_payload_verify(const tv_venue_payload *p, const uint8_t pk[TV_NODE_ID_BYTES])
{
    if (memcmp(pk, p->key_id, TV_KEY_ID_BYTES) != 0) return TV_ESIG;
    uint8_t msg[TV_VENUE_ID_BYTES + TV_UNIT_CODE_MAX];
    int n = sign_message(msg, p->venue, p->unit);
    return crdt_verify(p->sig, TV_VENUE_SIGN_CONTEXT, msg, (size_t)n, pk) == TV_OK ? TV_OK
                                                                                   : TV_ESIG;
}

/* Luhn mod 32: the check value that makes the weighted sum of the code a multiple of 32. */
static int luhn32(const int *v, size_t n)
{
    int factor = 2, sum = 0;
    for (size_t i = n; i-- > 0;) {
        int a = factor * v[i];
        factor = factor == 2 ? 1 : 2;
        sum += a / 32 + a % 32;
    }
    return (32 - sum % 32) % 32;
}

void tv_short_code(char out[TV_SHORT_CODE_STR], const uint8_t venue[TV_VENUE_ID_BYTES])
{
    char c[8];
    base32_encode(c, venue, TV_SHORT_CODE_PREFIX_BYTES, crockford);
    int v[8];
    for (int i = 0; i < 8; i++)
        v[i] = (int)(strchr(crockford, c[i]) - crockford);
    memcpy(out, c, 4);
    out[4] = '-';
    memcpy(out + 5, c + 4, 4);
    out[9] = '-';
    out[10] = crockford[luhn32(v, 8)];
    out[11] = '\0';
}

static int crockford_value(char c)
{
    if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
    if (c == 'I' || c == 'L') c = '1';
    if (c == 'O') c = '0';
    const char *p = c ? strchr(crockford, c) : NULL;
    return p ? (int)(p - crockford) : -1;
}

int tv_short_code_parse(const char *text, uint8_t prefix[TV_SHORT_CODE_PREFIX_BYTES],
                        const char **why)
{
    int v[9];
    size_t n = 0;
    for (const char *s = text; *s; s++) {
        if (*s == '-' || *s == ' ') continue;
        int d = crockford_value(*s);
        if (d < 0) {
            *why = "a short code has only digits and the letters A-Z but I, L, O and U";
            return TV_EINVAL;
        }
        if (n == 9) {
            *why = "a short code has 9 characters";
            return TV_EINVAL;
        }
        v[n++] = d;
    }
    if (n != 9) {
        *why = "a short code has 9 characters";
        return TV_EINVAL;
    }
    if (luhn32(v, 8) != v[8]) {
        *why = "the check character does not match: a character is mistyped";
        return TV_EINVAL;
    }
    uint64_t bits = 0;
    for (int i = 0; i < 8; i++)
        bits = bits << 5 | (uint64_t)v[i];
    for (int b = 0; b < TV_SHORT_CODE_PREFIX_BYTES; b++)
        prefix[b] = (uint8_t)(bits >> (8 * (4 - b)));
    return TV_OK;
}

/* --- personal codes ---------------------------------------------------------------- */

#define CARD_BODY_BYTES (TV_PERSON_REF_BYTES + 2 + TV_KEY_ID_BYTES + TV_SIG_BYTES) /* 90 */
#define CARD_BODY_CHARS (CARD_BODY_BYTES * 8 / 5)                                  /* 144 */
_Static_assert(CARD_BODY_BYTES % 5 == 0, "the card body is a whole number of base32 groups");

static size_t card_message(uint8_t *msg, const tv_person_card *c)
{
    size_t n = strlen(c->display);
    memcpy(msg, c->ref, TV_PERSON_REF_BYTES);
    msg[TV_PERSON_REF_BYTES] = (uint8_t)(c->birth_year >> 8);
    msg[TV_PERSON_REF_BYTES + 1] = (uint8_t)c->birth_year;
    memcpy(msg + TV_PERSON_REF_BYTES + 2, c->display, n);
    return TV_PERSON_REF_BYTES + 2 + n;
}

static int display_ok(const char *d, size_t n)
{
    return n > 0 && n < TV_PERSON_DISPLAY_BYTES && crdt_text_valid(d, n);
}

int tv_person_card_sign(tv_person_card *c, const uint8_t ref[TV_PERSON_REF_BYTES], int birth_year,
                        const char *display, const crdt_identity *id)
{
    memset(c, 0, sizeof *c);
    size_t n = strlen(display);
    if (!display_ok(display, n) || birth_year < 0 || birth_year > 9999) return TV_EINVAL;
    memcpy(c->ref, ref, TV_PERSON_REF_BYTES);
    c->birth_year = (uint16_t)birth_year;
    memcpy(c->key_id, id->pk, TV_KEY_ID_BYTES);
    memcpy(c->display, display, n + 1);
    uint8_t msg[TV_PERSON_REF_BYTES + 2 + TV_PERSON_DISPLAY_BYTES];
    return crdt_sign(c->sig, TV_PERSON_SIGN_CONTEXT, msg, card_message(msg, c), id->sk);
}

void tv_person_card_format(char out[TV_PERSON_CARD_MAX], const tv_person_card *c)
{
    uint8_t body[CARD_BODY_BYTES];
    memcpy(body, c->ref, TV_PERSON_REF_BYTES);
    body[TV_PERSON_REF_BYTES] = (uint8_t)(c->birth_year >> 8);
    body[TV_PERSON_REF_BYTES + 1] = (uint8_t)c->birth_year;
    memcpy(body + TV_PERSON_REF_BYTES + 2, c->key_id, TV_KEY_ID_BYTES);
    memcpy(body + TV_PERSON_REF_BYTES + 2 + TV_KEY_ID_BYTES, c->sig, TV_SIG_BYTES);
    size_t k = strlen(TV_PERSON_CARD_PREFIX);
    memcpy(out, TV_PERSON_CARD_PREFIX, k);
    base32_encode(out + k, body, CARD_BODY_BYTES, b32);
    out[k + CARD_BODY_CHARS] = ':';
    strcpy(out + k + CARD_BODY_CHARS + 1, c->display);
}

int tv_person_card_parse(const char *text, size_t len, tv_person_card *c, const char **why)
{
    memset(c, 0, sizeof *c);
    size_t k = strlen(TV_PERSON_CARD_PREFIX);
    if (len < k || strncasecmp(text, TV_PERSON_CARD_PREFIX, k) != 0) {
        *why = "not a truyvet personal code of version 1 (it should start with TV1:)";
        return TV_EINVAL;
    }
    if (len < k + CARD_BODY_CHARS + 1 || text[k + CARD_BODY_CHARS] != ':') {
        *why = "the personal code is cut short or too long";
        return TV_EINVAL;
    }
    uint8_t body[CARD_BODY_BYTES];
    if (base32_decode(body, text + k, CARD_BODY_CHARS)) {
        *why = "the personal code holds a character that is not in its alphabet";
        return TV_EINVAL;
    }
    const char *d = text + k + CARD_BODY_CHARS + 1;
    size_t n = len - (size_t)(d - text);
    if (!display_ok(d, n) || memchr(d, '\0', n)) {
        *why = "the personal code's name is missing, too long, not UTF-8 or holds a control "
               "character";
        return TV_EINVAL;
    }
    memcpy(c->ref, body, TV_PERSON_REF_BYTES);
    c->birth_year = (uint16_t)(body[TV_PERSON_REF_BYTES] << 8 | body[TV_PERSON_REF_BYTES + 1]);
    memcpy(c->key_id, body + TV_PERSON_REF_BYTES + 2, TV_KEY_ID_BYTES);
    memcpy(c->sig, body + TV_PERSON_REF_BYTES + 2 + TV_KEY_ID_BYTES, TV_SIG_BYTES);
    memcpy(c->display, d, n);
    c->display[n] = '\0';
    return TV_OK;
}

int tv_person_card_verify(const tv_person_card *c, const uint8_t pk[TV_NODE_ID_BYTES])
{
    if (memcmp(pk, c->key_id, TV_KEY_ID_BYTES) != 0) return TV_ESIG;
    uint8_t msg[TV_PERSON_REF_BYTES + 2 + TV_PERSON_DISPLAY_BYTES];
    return crdt_verify(c->sig, TV_PERSON_SIGN_CONTEXT, msg, card_message(msg, c), pk) == TV_OK
               ? TV_OK
               : TV_ESIG;
}
