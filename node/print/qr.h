/* QR codes for the terminal: the one place that includes qrencode.h.
 *
 * Printing posters and cards (PDF, PNG, SVG) comes with the QR issue; this module starts
 * with what enrolment needs: showing a request as a QR code that a phone, or a USB QR
 * reader typing into `truyvet enroll issue -`, can read off the screen. */
#ifndef TV_NODE_QR_H
#define TV_NODE_QR_H

#include <stdio.h>

/* Writes text as a QR code (error correction M, 8-bit mode) drawn with Unicode half blocks,
 * two modules per character row, dark on a light quiet zone of 4 modules. Returns 0,
 * TV_ELIMIT (too long for a QR code), TV_ENOMEM or TV_EIO. */
int tv_qr_print(FILE *f, const char *text);

#endif
