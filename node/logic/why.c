/* Refusals in two languages (see why.h). */
#include "node/logic/why.h"
#include "crdt/error.h"
#include "node/format/text.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Cuts out[] back to a whole UTF-8 character when vsnprintf filled it. */
static void cut_whole(char *out, size_t cap, int wanted)
{
    if (wanted < 0) {
        out[0] = '\0';
        return;
    }
    if ((size_t)wanted < cap) return;
    const unsigned char *u = (const unsigned char *)out;
    size_t end = cap - 1, i = end; /* out[0..end) was written */
    while (i > 0 && (u[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0) return;
    i--; /* the last character's first byte */
    size_t need = u[i] < 0x80 ? 1 : u[i] < 0xE0 ? 2 : u[i] < 0xF0 ? 3 : 4;
    if (i + need > end) out[i] = '\0';
}

void tv_why_set(tv_why *why, const char *code, const char *en, const char *vi, ...)
{
    if (!why) return;
    va_list ap;
    snprintf(why->code, sizeof why->code, "%s", code);
    va_start(ap, vi);
    cut_whole(why->en, sizeof why->en, vsnprintf(why->en, sizeof why->en, en, ap));
    va_end(ap);
    va_start(ap, vi);
    cut_whole(why->vi, sizeof why->vi, vsnprintf(why->vi, sizeof why->vi, vi, ap));
    va_end(ap);
}

int tv_why_store(tv_why *why, int rc, const char *what, const char *what_vi)
{
    const char *s = tv_strerror(rc);
    if (why) {
        snprintf(why->code, sizeof why->code, "store");
        snprintf(why->en, sizeof why->en, "%s: %s.", what, s);
        snprintf(why->vi, sizeof why->vi, "%s: %s.", what_vi, s);
    }
    return rc;
}

/* The fields the commands and the console check, named in Vietnamese. */
static const char *const field_vi[][2] = {
    {"venue name", "Tên địa điểm"},
    {"village", "Thôn, tổ dân phố"},
    {"device label", "Tên thiết bị quét"},
    {"note", "Ghi chú"},
    {"reason", "Lý do"},
    {"name", "Tên"},
    {"unit name", "Tên đơn vị"},
};

const char *tv_why_field_vi(const char *what)
{
    for (size_t i = 0; i < sizeof field_vi / sizeof field_vi[0]; i++)
        if (strcmp(what, field_vi[i][0]) == 0) return field_vi[i][1];
    return what;
}

int tv_why_text(const char *what, const char *s, size_t max, tv_why *why)
{
    /* Both sentences take both names; each prints its own and skips the other (%.0s). */
    const char *vi = tv_why_field_vi(what);
    size_t n = strlen(s);
    uint32_t cp;
    if (n > max) {
        tv_why_set(why, "text_too_long", "the %s%.0s is too long (at most %zu bytes).",
                   "%.0s%s quá dài (tối đa %zu byte); hãy viết ngắn lại.", what, vi, max);
        return TV_EINVAL;
    }
    int fault = tv_text_fault(s, n, &cp);
    if (fault == TV_TEXT_CONTROL) {
        tv_why_set(why, "text_control", "the %s%.0s holds a control character (U+%04X).",
                   "%.0s%s chứa một ký tự điều khiển (U+%04X), không in ra được; hãy xoá ký tự "
                   "đó rồi nhập lại.",
                   what, vi, (unsigned)cp);
        return TV_EINVAL;
    }
    if (fault == TV_TEXT_UTF8) {
        tv_why_set(why, "text_utf8", "the %s%.0s is not valid UTF-8 text.",
                   "%.0s%s không phải là văn bản UTF-8 hợp lệ; hãy gõ lại bằng bàn phím tiếng "
                   "Việt.",
                   what, vi);
        return TV_EINVAL;
    }
    return 0;
}
