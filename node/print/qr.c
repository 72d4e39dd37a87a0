/* QR symbols with libqrencode: for print, and drawn in a terminal (qr.h). */
#include "node/print/qr.h"
#include "crdt/error.h"

#include <errno.h>
#include <qrencode.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define QUIET 4 /* modules of light border around the symbol, as the standard asks */

/* Is module (x, y) dark? Coordinates outside the symbol are the quiet zone. */
static int dark(const QRcode *q, int x, int y)
{
    if (x < 0 || y < 0 || x >= q->width || y >= q->width) return 0;
    return q->data[(size_t)y * (size_t)q->width + (size_t)x] & 1;
}

int tv_qr_print(FILE *f, const char *text)
{
    errno = 0;
    QRcode *q = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
    if (!q) return errno == ERANGE ? TV_ELIMIT : errno == ENOMEM ? TV_ENOMEM : TV_EINVAL;
    /* each character cell shows two rows: upper and lower halves, light drawn as block
     * (most terminals are dark on light or light on dark; readers accept inverted codes,
     * but light-as-block keeps the quiet zone visible on a dark terminal) */
    static const char *const cell[4] = {"\u2588", "\u2580", "\u2584", " "};
    int n = q->width;
    for (int y = -QUIET; y < n + QUIET; y += 2) {
        for (int x = -QUIET; x < n + QUIET; x++) {
            int top = dark(q, x, y), bottom = dark(q, x, y + 1);
            fputs(cell[top * 2 + bottom], f);
        }
        fputc('\n', f);
    }
    QRcode_free(q);
    return ferror(f) ? TV_EIO : TV_OK;
}

/* QR alphanumeric mode's characters. */
static int is_an(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || strchr(" $%*+-./:", c);
}

static QRcode *encode_for_print(const char *text)
{
    size_t n = strlen(text), an = 0;
    int ascii = 1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)text[i] >= 0x80) ascii = 0;
    if (ascii) return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    while (an < n && (unsigned char)text[an] && is_an((unsigned char)text[an]))
        an++;
    QRinput *in = QRinput_new2(0, QR_ECLEVEL_M);
    if (!in) return NULL;
    QRcode *q = NULL;
    if (QRinput_appendECIheader(in, 26) == 0 &&
        (an == 0 || QRinput_append(in, QR_MODE_AN, (int)an, (const unsigned char *)text) == 0) &&
        QRinput_append(in, QR_MODE_8, (int)(n - an), (const unsigned char *)text + an) == 0)
        q = QRcode_encodeInput(in);
    QRinput_free(in);
    return q;
}

int tv_qr_encode(tv_qr *q, const char *text)
{
    QRcode *code = encode_for_print(text);
    if (!code) {
        *q = (tv_qr){0};
        return TV_ELIMIT;
    }
    *q = (tv_qr){.width = code->width, .modules = code->data, .code = code};
    return TV_OK;
}

void tv_qr_free(tv_qr *q)
{
    if (q->code) QRcode_free(q->code);
    *q = (tv_qr){0};
}
