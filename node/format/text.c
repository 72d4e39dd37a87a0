/* Checking typed text and escaping stored text for a terminal (see text.h). */
#include "node/format/text.h"
#include "crdt/error.h"
#include "crdt/event.h"
#include "crdt/mp.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

int tv_text_fault(const char *s, size_t n, uint32_t *cp)
{
    if (crdt_text_valid(s, n)) return 0; /* the rule itself; below only says why not */
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = crdt_utf8_next(u + i, n - i, cp);
        if (k == 0) break;
        if (is_control(*cp)) return TV_TEXT_CONTROL;
        i += k;
    }
    return TV_TEXT_UTF8;
}

int tv_text_check(const char *s, size_t n, char why[TV_TEXT_WHY_BYTES])
{
    uint32_t cp;
    int fault = tv_text_fault(s, n, &cp);
    if (fault == 0) return TV_OK;
    if (fault == TV_TEXT_CONTROL)
        snprintf(why, TV_TEXT_WHY_BYTES, "holds a control character (U+%04X)", (unsigned)cp);
    else
        snprintf(why, TV_TEXT_WHY_BYTES, "is not valid UTF-8 text");
    return TV_EINVAL;
}

/* The piece of s[i..n) that is printed as one: a character (*k bytes), or a control
 * character or a byte that is not UTF-8 (each byte escaped). Returns its printed length. */
static size_t piece(const unsigned char *u, size_t i, size_t n, size_t *k)
{
    uint32_t cp;
    size_t c = crdt_utf8_next(u + i, n - i, &cp);
    if (c && !is_control(cp)) {
        *k = c;
        return c;
    }
    *k = c ? c : 1;
    return 4 * *k;
}

size_t tv_text_escape(char *out, size_t cap, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    static const char cut[] = "...";
    const unsigned char *u = (const unsigned char *)s;
    if (cap == 0) return 0;
    size_t total = 0, k;
    for (size_t i = 0; i < n; i += k)
        total += piece(u, i, n, &k);
    /* when it does not all fit, keep room for the cut mark */
    const size_t room = total < cap ? cap - 1 : cap - 1 >= sizeof cut - 1 ? cap - sizeof cut : 0;
    size_t o = 0, i = 0;
    for (; i < n; i += k) {
        size_t need = piece(u, i, n, &k);
        if (o + need > room) break;
        if (need == k) {
            memcpy(out + o, u + i, k);
            o += k;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[u[i + j] >> 4];
            out[o++] = hex[u[i + j] & 15];
        }
    }
    if (i < n && o + sizeof cut - 1 < cap) {
        memcpy(out + o, cut, sizeof cut - 1);
        o += sizeof cut - 1;
    }
    out[o] = '\0';
    return o;
}

static _Thread_local char slots[TV_TEXT_ESC_SLOTS][TV_TEXT_ESC_BYTES];
static _Thread_local unsigned next_slot;

const char *tv_text_esc_n(const char *s, size_t n)
{
    char *out = slots[next_slot++ % TV_TEXT_ESC_SLOTS];
    tv_text_escape(out, TV_TEXT_ESC_BYTES, s ? s : "", s ? n : 0);
    return out;
}

const char *tv_text_esc(const char *s)
{
    if (!s) return "";
    size_t n = strlen(s);
    return crdt_text_valid(s, n) ? s : tv_text_esc_n(s, n);
}

char *tv_text_nfc(const char *s)
{
    if (!g_utf8_validate(s, -1, NULL)) return NULL;
    gchar *g = g_utf8_normalize(s, -1, G_NORMALIZE_NFC);
    if (!g) return NULL;
    char *out = strdup(g); /* the caller frees with free(), not g_free() */
    g_free(g);
    return out;
}

int tv_text_fold(const char *s, char *out, size_t cap)
{
    out[0] = '\0';
    if (!g_utf8_validate(s, -1, NULL)) return TV_EINVAL;
    gchar *d = g_utf8_normalize(s, -1, G_NORMALIZE_NFD);
    if (!d) return TV_EINVAL;
    size_t len = 0;
    int space = 0;
    for (const gchar *p = d; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_ismark(c)) continue;
        if (g_unichar_isspace(c)) {
            space = len > 0;
            continue;
        }
        if (c == 0x0110 || c == 0x0111) c = 'd'; /* Đ, đ */
        c = g_unichar_tolower(c);
        char buf[8];
        int n = g_unichar_to_utf8(c, buf);
        if (len + (size_t)space + (size_t)n + 1 > cap) break;
        if (space) out[len++] = ' ';
        space = 0;
        memcpy(out + len, buf, (size_t)n);
        len += (size_t)n;
    }
    out[len] = '\0';
    g_free(d);
    return TV_OK;
}

void tv_text_pad(FILE *f, const char *s, size_t width)
{
    size_t chars = 0;
    for (const char *p = s; *p; p++)
        chars += ((unsigned char)*p & 0xC0) != 0x80;
    fputs(s, f);
    for (; chars < width; chars++)
        fputc(' ', f);
}
