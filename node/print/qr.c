/* QR codes drawn in a terminal with libqrencode. */
#include "node/print/qr.h"
#include "crdt/error.h"

#include <errno.h>
#include <qrencode.h>
#include <stddef.h>

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
