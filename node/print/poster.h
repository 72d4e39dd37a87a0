/* Printable QR posters: a venue's check-in poster on A4, as PDF, PNG or SVG.
 *
 * The symbol comes from libqrencode (error correction M); pages are drawn with cairo, and
 * text with pango, so Vietnamese diacritics are shaped and rendered as they should be
 * (DejaVu Sans, Debian's fonts-dejavu-core). Sizes are physical: the poster's QR symbol
 * (without its quiet zone) is TV_POSTER_QR_MM wide, as the 2021 letters ask (at least
 * 15 x 15 cm); a PNG is 300 dpi with its resolution in the file's pHYs chunk; an SVG
 * gives its width and height in cm. Personal cards (tv_cards_write) are drawn the same
 * way. */
#ifndef TV_NODE_POSTER_H
#define TV_NODE_POSTER_H

#include "store/store.h"

#include <stddef.h>

#define TV_POSTER_QR_MM 152.0 /* the printed symbol, quiet zone not included */
#define TV_POSTER_DPI 300

typedef enum { TV_FMT_PDF = 1, TV_FMT_PNG, TV_FMT_SVG } tv_format;

/* The format a file name asks for by its extension (.pdf, .png, .svg; any case), or 0. */
tv_format tv_format_of(const char *path);

typedef struct tv_poster {
    const char *payload;      /* what the QR code holds */
    const char *header;       /* the line at the top, e.g. "QUÉT MÃ QR ĐỂ KHAI BÁO Y TẾ" */
    const char *title;        /* the venue's name */
    const char *category;     /* its category, in Vietnamese */
    const char *place;        /* village, commune and unit */
    const char *code_line;    /* under the symbol, e.g. "Mã địa điểm: XXXX-XXXX-C" */
    const char *instructions; /* at the bottom */
} tv_poster;

/* Room for tv_poster_of_venue's own lines. */
#define TV_POSTER_TEXT_BYTES 800

/* Fills po with the check-in poster of venue v (registered at the commune called
 * commune_name), its QR code holding payload (the signed venue payload's text): the
 * strings point into v, commune_name, payload and text. The CLI and the web console print
 * the same poster through it. */
void tv_poster_of_venue(tv_poster *po, const store_venue *v, const char *commune_name,
                        const char *payload, char text[TV_POSTER_TEXT_BYTES]);

/* Draws the poster and writes it to path (atomically: a file that is there is whole), in
 * the format of its extension. Returns 0, TV_EINVAL (unknown extension), TV_ELIMIT (the
 * payload does not fit a QR code), TV_ENOMEM or TV_EIO. */
int tv_poster_write(const char *path, const tv_poster *p);

/* Personal cards for people without a phone: 6 x 9 cm, the QR symbol TV_CARD_QR_MM wide
 * (the letters ask for at least 5 x 5 cm), the masked name under it. */
#define TV_CARD_QR_MM 50.0

typedef struct tv_card_face {
    const char *payload; /* the personal code */
    const char *display; /* the masked name and id */
    const char *line2;   /* e.g. the issuing commune */
} tv_card_face;

/* Writes n cards to path, in the format of its extension: one card per page, the page the
 * card's size (n > 1 only in a PDF), or with `sheet` nine to an A4 page with cut lines
 * (more than nine only in a PDF). Returns 0, TV_EINVAL (unknown extension, n = 0),
 * TV_ELIMIT (a payload too long for a QR code, or more pages than the format holds),
 * TV_ENOMEM or TV_EIO. */
int tv_cards_write(const char *path, const tv_card_face *cards, size_t n, int sheet);

#endif
