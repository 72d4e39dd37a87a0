/* QR symbols: the one place that includes qrencode.h. A symbol for print (posters and
 * cards, poster.h, which draws its modules), and one drawn in a terminal: an enrolment
 * request shown as a QR code that a phone, or a USB QR reader typing into `truyvet enroll
 * issue -`, can read off the screen. */
#ifndef TV_NODE_QR_H
#define TV_NODE_QR_H

#include <stdio.h>

/* A symbol of width x width modules, row by row: module (x, y) is dark when bit 0 of
 * modules[y * width + x] is set. The quiet zone around it is the caller's to leave. */
typedef struct tv_qr {
    int width;
    const unsigned char *modules;
    void *code; /* private: libqrencode's symbol */
} tv_qr;

/* Encodes text for print, at error correction M. ASCII text goes through libqrencode's
 * own choice of modes; text with UTF-8 in it is a run in alphanumeric mode (the longest
 * such start: a personal code's base32 part), then the rest in 8-bit mode after an ECI
 * designator for UTF-8 (26), so that readers decode the Vietnamese as UTF-8 and not as
 * Shift JIS. Returns 0 (free *q with tv_qr_free) or TV_ELIMIT (too long for a QR code, or
 * libqrencode failed); *q is then empty. */
int tv_qr_encode(tv_qr *q, const char *text);

/* Frees what tv_qr_encode made; an empty (zeroed) symbol is left as it is. */
void tv_qr_free(tv_qr *q);

/* Writes text as a QR code (error correction M, 8-bit mode) drawn with Unicode half blocks,
 * two modules per character row, dark on a light quiet zone of 4 modules. Returns 0,
 * TV_ELIMIT (too long for a QR code), TV_ENOMEM or TV_EIO. */
int tv_qr_print(FILE *f, const char *text);

#endif
