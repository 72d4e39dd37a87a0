/* Typed phone and ID numbers: normalisation, pseudonyms, masking. */
#include "node/logic/person.h"
#include "crdt/error.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void mask(char *out, const char *digits, size_t keep_head, size_t keep_tail)
{
    size_t n = strlen(digits);
    for (size_t i = 0; i < n; i++)
        out[i] = (i < keep_head || i >= n - keep_tail) ? digits[i] : '*';
    out[n] = '\0';
}

int tv_person_parse_typed(const char *text, tv_person_id *out, const char **why)
{
    memset(out, 0, sizeof *out);
    char d[TV_PERSON_NORM_MAX];
    size_t n = 0;
    int plus = 0;
    for (const char *p = text; *p; p++) {
        if (*p == ' ' || *p == '.' || *p == '-' || *p == '(' || *p == ')') continue;
        if (*p == '+' && n == 0 && !plus) {
            plus = 1;
            continue;
        }
        if (*p < '0' || *p > '9') {
            *why = "it should contain only digits (a phone number or an ID number)";
            return TV_EINVAL;
        }
        if (n + 2 >= sizeof d) {
            *why = "it is too long for a phone number or an ID number";
            return TV_EINVAL;
        }
        d[n++] = *p;
    }
    d[n] = '\0';
    if (n == 0) {
        *why = "it is empty";
        return TV_EINVAL;
    }
    if (plus || (n == 11 && d[0] == '8' && d[1] == '4')) {
        /* international form: +84 912345678 -> 0912345678 */
        if (n < 4 || d[0] != '8' || d[1] != '4') {
            *why = "only Vietnamese phone numbers (+84) are accepted";
            return TV_EINVAL;
        }
        memmove(d + 1, d + 2, n - 1);
        d[0] = '0';
        n--;
    }
    if (n == 12) {
        out->kind = TV_ID_CCCD;
        memcpy(out->norm, d, n + 1);
        mask(out->masked, d, 0, 2);
    } else if (n == 9) {
        out->kind = TV_ID_CMND;
        memcpy(out->norm, d, n + 1);
        mask(out->masked, d, 0, 2);
    } else if ((n == 10 || n == 11) && d[0] == '0') {
        out->kind = TV_ID_PHONE;
        memcpy(out->norm, d, n + 1);
        mask(out->masked, d, 2, 2);
    } else {
        *why = "a phone number has 10 digits starting with 0, a CCCD number 12 digits, "
               "a CMND number 9 digits";
        return TV_EINVAL;
    }
    return TV_OK;
}

void tv_person_ref(const tv_person_id *id, const uint8_t key[TV_TRACING_KEY_BYTES],
                   uint8_t ref[TV_PERSON_REF_BYTES])
{
    static const char *const prefix[] = {[TV_ID_PHONE] = "phone:",
                                         [TV_ID_CCCD] = "cccd:",
                                         [TV_ID_CMND] = "cmnd:",
                                         [TV_ID_BHYT] = "bhyt:"};
    char msg[8 + TV_PERSON_NORM_MAX];
    int len = snprintf(msg, sizeof msg, "%s%s", prefix[id->kind], id->norm);
    crypto_generichash(ref, TV_PERSON_REF_BYTES, (const uint8_t *)msg, (size_t)len, key,
                       TV_TRACING_KEY_BYTES);
}

void tv_commune_key_derive(const uint8_t province_key[TV_TRACING_KEY_BYTES], const char *unit,
                           uint8_t out[TV_TRACING_KEY_BYTES])
{
    static const char context[] = "truyvet/commune-key/v1";
    crypto_generichash_state h;
    crypto_generichash_init(&h, province_key, TV_TRACING_KEY_BYTES, TV_TRACING_KEY_BYTES);
    crypto_generichash_update(&h, (const uint8_t *)context, sizeof context); /* with its NUL */
    crypto_generichash_update(&h, (const uint8_t *)unit, strlen(unit));
    crypto_generichash_final(&h, out, TV_TRACING_KEY_BYTES);
    sodium_memzero(&h, sizeof h);
}

static int number_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '*';
}

void tv_masked_narrow(char *s)
{
    static const char sep[] = " · ";
    char *num = s;
    for (char *p = s; (p = strstr(p, sep)) != NULL; p++)
        num = p + sizeof sep - 1;
    size_t n = strlen(num), stars = 0;
    if (n < 9 || n > 15) return;
    for (size_t i = 0; i < n; i++) {
        if (!number_char(num[i])) return;
        stars += num[i] == '*';
    }
    if (!stars) return;
    size_t head = (n == 10 || n == 11) && num[0] == '0' && num[1] >= '0' && num[1] <= '9' ? 2 : 0;
    for (size_t i = head; i < n - 2; i++)
        num[i] = '*';
}
