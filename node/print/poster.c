/* Printable QR posters (see poster.h). */
#include "node/print/poster.h"
#include "crdt/error.h"
#include "node/format/fileio.h"
#include "node/format/payload.h"
#include "node/logic/category.h"
#include "node/print/qr.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <pango/pangocairo.h>
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
static void qr_draw(cairo_t *cr, const tv_qr *q, double x, double y, double side)
{
    double m = side / q->width;
    cairo_set_source_rgb(cr, 0, 0, 0);
    for (int r = 0; r < q->width; r++) {
        const unsigned char *row = q->modules + (size_t)r * (size_t)q->width;
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
static void draw_page(cairo_t *cr, const tv_poster *p, const tv_qr *q)
{
    const double W = A4_W_MM * PT_PER_MM, margin = 15 * PT_PER_MM, box = W - 2 * margin;
    cairo_set_source_rgb(cr, 0, 0, 0);
    double y = 12 * PT_PER_MM;
    y += text_block(cr, p->header, "DejaVu Sans Bold 20", margin, y, box, 1);
    y += 3 * PT_PER_MM;
    y += text_block(cr, p->title, "DejaVu Sans Bold 24", margin, y, box, 2);
    y += text_block(cr, p->category, "DejaVu Sans 14", margin, y, box, 1);
    y += text_block(cr, p->place, "DejaVu Sans 11", margin, y, box, 2);
    /* the symbol, with its quiet zone of 4 modules clear of any text */
    const double side = TV_POSTER_QR_MM * PT_PER_MM, quiet = 4 * side / q->width;
    const double top = y + quiet;
    qr_draw(cr, q, (W - side) / 2, top, side);
    y = top + side + quiet;
    y += text_block(cr, p->code_line, "DejaVu Sans Mono Bold 20", margin, y, box, 1);
    y += 2 * PT_PER_MM;
    text_block(cr, p->instructions, "DejaVu Sans 10", margin, y, box, 3);
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

/* Draws pages (draw(cr, page, ctx) for page 0..pages-1, on a surface scaled to points)
 * of w_mm x h_mm and writes them to path in its format. PNG and SVG hold one page. */
typedef void (*page_fn)(cairo_t *cr, size_t page, void *ctx);

static int write_pages(const char *path, double w_mm, double h_mm, size_t pages, page_fn draw,
                       void *ctx)
{
    tv_format f = tv_format_of(path);
    if (!f) return TV_EINVAL;
    if (f != TV_FMT_PDF && pages != 1) return TV_ELIMIT;
    membuf m = {0};
    cairo_surface_t *s;
    double scale = 1;
    if (f == TV_FMT_PDF) {
        s = cairo_pdf_surface_create_for_stream(mem_write, &m, w_mm * PT_PER_MM, h_mm * PT_PER_MM);
    } else if (f == TV_FMT_SVG) {
        /* width and height in cm: the surface's units are centimetres, drawing in points */
        s = cairo_svg_surface_create_for_stream(mem_write, &m, w_mm / 10, h_mm / 10);
        cairo_svg_surface_set_document_unit(s, CAIRO_SVG_UNIT_CM);
        scale = 2.54 / 72;
    } else {
        scale = TV_POSTER_DPI / 72.0;
        s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)(w_mm / 25.4 * TV_POSTER_DPI + 0.5),
                                       (int)(h_mm / 25.4 * TV_POSTER_DPI + 0.5));
    }
    cairo_t *cr = cairo_create(s);
    cairo_scale(cr, scale, scale);
    for (size_t i = 0; i < pages; i++) {
        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);
        draw(cr, i, ctx);
        cairo_show_page(cr);
    }
    int ok = cairo_status(cr) == CAIRO_STATUS_SUCCESS;
    cairo_destroy(cr);
    if (ok && f == TV_FMT_PNG)
        ok = cairo_surface_write_to_png_stream(s, mem_write, &m) == CAIRO_STATUS_SUCCESS;
    cairo_surface_finish(s);
    ok = ok && cairo_surface_status(s) == CAIRO_STATUS_SUCCESS && !m.failed;
    cairo_surface_destroy(s);
    int rc = ok ? TV_OK : (m.failed ? TV_ENOMEM : TV_EIO);
    if (rc == TV_OK && f == TV_FMT_PNG) rc = png_set_dpi(&m, TV_POSTER_DPI);
    if (rc == TV_OK) rc = tv_file_write_atomic(path, m.p, m.n, 0644);
    free(m.p);
    return rc;
}

typedef struct poster_ctx {
    const tv_poster *p;
    const tv_qr *q;
} poster_ctx;

static void poster_page(cairo_t *cr, size_t page, void *arg)
{
    (void)page;
    poster_ctx *c = arg;
    draw_page(cr, c->p, c->q);
}

int tv_poster_write(const char *path, const tv_poster *p)
{
    if (!tv_format_of(path)) return TV_EINVAL;
    tv_qr q;
    int rc = tv_qr_encode(&q, p->payload);
    if (rc) return rc;
    poster_ctx c = {p, &q};
    rc = write_pages(path, A4_W_MM, A4_H_MM, 1, poster_page, &c);
    tv_qr_free(&q);
    return rc;
}

/* --- personal cards ----------------------------------------------------------------- */

#define CARD_W_MM 60.0
#define CARD_H_MM 90.0
#define SHEET_COLS 3
#define SHEET_ROWS 3

typedef struct cards_ctx {
    const tv_card_face *cards;
    size_t n;
    tv_qr *q;
    int sheet;
} cards_ctx;

/* One card with its top-left corner at (x, y) points. */
static void card_draw(cairo_t *cr, const tv_card_face *c, const tv_qr *q, double x, double y)
{
    const double W = CARD_W_MM * PT_PER_MM, side = TV_CARD_QR_MM * PT_PER_MM;
    const double quiet = 4 * side / q->width, pad = 3 * PT_PER_MM;
    cairo_set_source_rgb(cr, 0, 0, 0);
    double ty = y + pad;
    ty += text_block(cr, "MÃ QR CÁ NHÂN", "DejaVu Sans Bold 9", x + pad, ty, W - 2 * pad, 1);
    qr_draw(cr, q, x + (W - side) / 2, ty + quiet, side);
    ty += quiet + side + quiet;
    ty += text_block(cr, c->display, "DejaVu Sans Bold 9", x + pad, ty, W - 2 * pad, 2);
    text_block(cr, c->line2, "DejaVu Sans 7", x + pad, ty, W - 2 * pad, 2);
}

static void cards_page(cairo_t *cr, size_t page, void *arg)
{
    cards_ctx *c = arg;
    if (!c->sheet) {
        card_draw(cr, &c->cards[page], &c->q[page], 0, 0);
        return;
    }
    const double W = CARD_W_MM * PT_PER_MM, H = CARD_H_MM * PT_PER_MM;
    const double x0 = (A4_W_MM * PT_PER_MM - SHEET_COLS * W) / 2;
    const double y0 = (A4_H_MM * PT_PER_MM - SHEET_ROWS * H) / 2;
    for (size_t k = 0; k < SHEET_COLS * SHEET_ROWS; k++) {
        size_t i = page * SHEET_COLS * SHEET_ROWS + k;
        if (i >= c->n) break;
        double x = x0 + (double)(k % SHEET_COLS) * W, y = y0 + (double)(k / SHEET_COLS) * H;
        cairo_set_source_rgb(cr, 0.75, 0.75, 0.75); /* where to cut */
        cairo_set_line_width(cr, 0.5);
        cairo_rectangle(cr, x, y, W, H);
        cairo_stroke(cr);
        card_draw(cr, &c->cards[i], &c->q[i], x, y);
    }
}

int tv_cards_write(const char *path, const tv_card_face *cards, size_t n, int sheet)
{
    if (!tv_format_of(path) || n == 0) return TV_EINVAL;
    size_t per = sheet ? SHEET_COLS * SHEET_ROWS : 1;
    size_t pages = (n + per - 1) / per;
    if (tv_format_of(path) != TV_FMT_PDF && pages > 1) return TV_ELIMIT;
    cards_ctx c = {cards, n, calloc(n, sizeof(tv_qr)), sheet};
    if (!c.q) return TV_ENOMEM;
    int rc = TV_OK;
    for (size_t i = 0; i < n && rc == TV_OK; i++)
        rc = tv_qr_encode(&c.q[i], cards[i].payload);
    if (rc == TV_OK)
        rc = sheet ? write_pages(path, A4_W_MM, A4_H_MM, pages, cards_page, &c)
                   : write_pages(path, CARD_W_MM, CARD_H_MM, pages, cards_page, &c);
    for (size_t i = 0; i < n; i++)
        tv_qr_free(&c.q[i]);
    free(c.q);
    return rc;
}

void tv_poster_of_venue(tv_poster *po, const store_venue *v, const char *commune_name,
                        const char *payload, char text[TV_POSTER_TEXT_BYTES])
{
    char code[TV_SHORT_CODE_STR];
    tv_short_code(code, v->id);
    const tv_category *cat = tv_category_by_code(v->category);
    char *place = text, *line = text + TV_POSTER_TEXT_BYTES - 64;
    snprintf(place, TV_POSTER_TEXT_BYTES - 64, "%s%s%s (mã đơn vị %s)", v->village,
             v->village[0] ? ", " : "", commune_name, v->unit);
    snprintf(line, 64, "Mã địa điểm: %s", code);
    *po = (tv_poster){.payload = payload,
                      .header = "QUÉT MÃ QR ĐỂ KHAI BÁO Y TẾ",
                      .title = v->name,
                      .category = cat ? cat->name_vi : "",
                      .place = place,
                      .code_line = line,
                      .instructions = "Quét mã bằng camera điện thoại hoặc ứng dụng khai báo "
                                      "y tế. Nếu không quét được, nhập mã địa điểm ở trên. "
                                      "Người không có điện thoại: xuất trình CCCD hoặc thẻ "
                                      "BHYT cho nhân viên tại cửa."};
}
