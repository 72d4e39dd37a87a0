/* Printable QR posters (see poster.h). */
#include "node/poster.h"
#include "crdt/error.h"
#include "node/fileio.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
#include <qrencode.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PT_PER_MM (72.0 / 25.4)
#define A4_W_MM 210.0
#define A4_H_MM 297.0

tv_format tv_format_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/')) return 0;
    if (strcasecmp(dot, ".pdf") == 0) return TV_FMT_PDF;
    if (strcasecmp(dot, ".png") == 0) return TV_FMT_PNG;
    if (strcasecmp(dot, ".svg") == 0) return TV_FMT_SVG;
    return 0;
}

/* --- output into memory --------------------------------------------------------------- */

typedef struct membuf {
    unsigned char *p;
    size_t n, cap;
    int failed;
} membuf;

static cairo_status_t mem_write(void *arg, const unsigned char *data, unsigned int len)
{
    membuf *m = arg;
    if (m->n + len > m->cap) {
        size_t cap = m->cap ? m->cap : 1 << 16;
        while (cap < m->n + len)
            cap *= 2;
        unsigned char *p = realloc(m->p, cap);
        if (!p) {
            m->failed = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->n, data, len);
    m->n += len;
    return CAIRO_STATUS_SUCCESS;
}

/* --- drawing ---------------------------------------------------------------------------- */

/* Draws text centred in the box [x, x + w] from y down (points); returns its height. */
static double text_block(cairo_t *cr, const char *text, const char *font, double x, double y,
                         double w, int lines)
{
    PangoLayout *l = pango_cairo_create_layout(cr);
    PangoFontDescription *fd = pango_font_description_from_string(font);
    pango_layout_set_font_description(l, fd);
    pango_layout_set_width(l, (int)(w * PANGO_SCALE));
    pango_layout_set_wrap(l, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_height(l, -lines); /* at most this many lines, then "..." */
    pango_layout_set_ellipsize(l, PANGO_ELLIPSIZE_END);
    pango_layout_set_alignment(l, PANGO_ALIGN_CENTER);
    pango_layout_set_text(l, text, -1);
    int pw, ph;
    pango_layout_get_size(l, &pw, &ph);
    cairo_move_to(cr, x, y);
    pango_cairo_show_layout(cr, l);
    pango_font_description_free(fd);
    g_object_unref(l);
    return (double)ph / PANGO_SCALE;
}

/* Draws the symbol with its top-left corner at (x, y), side `side` points (quiet zone
 * outside it, left white by the page). */
static void qr_draw(cairo_t *cr, const QRcode *q, double x, double y, double side)
{
    double m = side / q->width;
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int r = 0; r < q->width; r++) {
        const unsigned char *row = q->data + (size_t)r * (size_t)q->width;
        for (int c = 0; c < q->width;) {
            if (!(row[c] & 1)) {
                c++;
                continue;
            }
            int run = c;
            while (run < q->width && (row[run] & 1))
                run++;
            cairo_rectangle(cr, x + c * m, y + r * m, (run - c) * m, m);
            c = run;
        }
    }
    cairo_fill(cr);
}

/* The whole page, in points, on an A4 surface already scaled to points. */
static void draw_page(cairo_t *cr, const tv_poster *p, const QRcode *q)
{
    const double W = A4_W_MM * PT_PER_MM, margin = 15 * PT_PER_MM, box = W - 2 * margin;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    double y = 12 * PT_PER_MM;
    y += text_block(cr, "QUÉT MÃ QR ĐỂ KHAI BÁO Y TẾ", "DejaVu Sans Bold 20", margin, y, box, 1);
    y += 3 * PT_PER_MM;
    y += text_block(cr, p->title, "DejaVu Sans Bold 24", margin, y, box, 2);
    y += text_block(cr, p->category, "DejaVu Sans 14", margin, y, box, 1);
    y += text_block(cr, p->place, "DejaVu Sans 11", margin, y, box, 2);
    /* the symbol, with its quiet zone of 4 modules clear of any text */
    const double side = TV_POSTER_QR_MM * PT_PER_MM, quiet = 4 * side / q->width;
    const double top = y + quiet;
    qr_draw(cr, q, (W - side) / 2, top, side);
    y = top + side + quiet;
    char line[64];
    snprintf(line, sizeof line, "Mã địa điểm: %s", p->short_code);
    y += text_block(cr, line, "DejaVu Sans Mono Bold 20", margin, y, box, 1);
    y += 2 * PT_PER_MM;
    text_block(cr,
               "Quét mã bằng camera điện thoại hoặc ứng dụng khai báo y tế. Nếu không quét "
               "được, nhập mã địa điểm ở trên. Người không có điện thoại: xuất trình CCCD "
               "hoặc thẻ BHYT cho nhân viên tại cửa.",
               "DejaVu Sans 10", margin, y, box, 3);
}

/* --- PNG resolution ----------------------------------------------------------------- */

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Inserts a pHYs chunk (dpi, in pixels per metre) after the IHDR chunk of a PNG. */
static int png_set_dpi(membuf *m, int dpi)
{
    const size_t at = 8 + 8 + 13 + 4; /* signature, then IHDR: length, type, data, CRC */
    if (m->n < at || memcmp(m->p + 12, "IHDR", 4) != 0) return TV_EIO;
    unsigned char chunk[4 + 4 + 9 + 4];
    uint32_t ppm = (uint32_t)(dpi / 0.0254 + 0.5);
    be32(chunk, 9);
    memcpy(chunk + 4, "pHYs", 4);
    be32(chunk + 8, ppm);
    be32(chunk + 12, ppm);
    chunk[16] = 1; /* the unit is the metre */
    be32(chunk + 17, crc32_of(chunk + 4, 4 + 9));
    if (mem_write(m, chunk, sizeof chunk) != CAIRO_STATUS_SUCCESS) return TV_ENOMEM;
    memmove(m->p + at + sizeof chunk, m->p + at, m->n - sizeof chunk - at);
    memcpy(m->p + at, chunk, sizeof chunk);
    return TV_OK;
}

int tv_poster_write(const char *path, const tv_poster *p)
{
    tv_format f = tv_format_of(path);
    if (!f) return TV_EINVAL;
    QRcode *q = QRcode_encodeString(p->payload, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!q) return TV_ELIMIT;
    const double W = A4_W_MM * PT_PER_MM, H = A4_H_MM * PT_PER_MM;
    membuf m = {0};
    cairo_surface_t *s;
    double scale = 1;
    if (f == TV_FMT_PDF) {
        s = cairo_pdf_surface_create_for_stream(mem_write, &m, W, H);
    } else if (f == TV_FMT_SVG) {
        /* width and height in cm: the surface's units are centimetres, drawing in points */
        s = cairo_svg_surface_create_for_stream(mem_write, &m, A4_W_MM / 10, A4_H_MM / 10);
        cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_CM);
        scale = 2.54 / 72;
    } else {
        scale = TV_POSTER_DPI / 72.0;
        s = cairo_image_surface_create(CAIRO_FORMAT_RGB24,
                                       (int)(A4_W_MM / 25.4 * TV_POSTER_DPI + 0.5),
                                       (int)(A4_H_MM / 25.4 * TV_POSTER_DPI + 0.5));
    }
    cairo_t *cr = cairo_create(s);
    cairo_scale(cr, scale, scale);
    draw_page(cr, p, q);
    cairo_show_page(cr);
    int ok = cairo_status(cr) == CAIRO_STATUS_SUCCESS;
    cairo_destroy(cr);
    if (ok && f == TV_FMT_PNG)
        ok = cairo_surface_write_to_png_stream(s, mem_write, &m) == CAIRO_STATUS_SUCCESS;
    cairo_surface_finish(s);
    ok = ok && cairo_surface_status(s) == CAIRO_STATUS_SUCCESS && !m.failed;
    cairo_surface_destroy(s);
    QRcode_free(q);
    /* drop the font caches fontconfig, pango and cairo keep for the life of the process: a
     * command draws once, and a leak checker would take them for leaks */
    pango_cairo_font_map_set_default(NULL);
    cairo_debug_reset_static_data();
    FcFini();
    int rc = ok ? TV_OK : (m.failed ? TV_ENOMEM : TV_EIO);
    if (rc == TV_OK && f == TV_FMT_PNG) rc = png_set_dpi(&m, TV_POSTER_DPI);
    if (rc == TV_OK) rc = tv_file_write_atomic(path, m.p, m.n, 0644);
    free(m.p);
    return rc;
}
