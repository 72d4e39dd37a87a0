/* Streaming, bounded CSV reader (RFC 4180) for files a commune clerk exports from a
 * spreadsheet.
 *
 * Accepted input:
 *   - fields separated by ',', rows ended by CRLF, LF or a lone CR (old spreadsheet
 *     exports), the last row with or without a line end;
 *   - quoted fields ("...") holding commas, line ends and "" for one quote; a '"' inside an
 *     unquoted field is kept as a literal character, as spreadsheets and Python do;
 *   - a UTF-8 byte order mark at the very start, which is skipped;
 *   - blank lines (no bytes between two line ends), which are skipped. A row holding one
 *     empty field must therefore be written as "".
 * Bytes are passed through unchanged: UTF-8 is not validated here, and no field is trimmed.
 *
 * Bounds: a field holds at most TV_CSV_FIELD_BYTES_MAX bytes and a row at most
 * TV_CSV_FIELDS_MAX fields, so a reader's memory is fixed when it is opened whatever the
 * file holds. A row that breaks a bound, or is malformed in a way confined to that row, is
 * reported with its line number and skipped; the next call reads the row after it, so one
 * bad line in a register of thousands does not stop the import. */
#ifndef TV_NODE_CSV_H
#define TV_NODE_CSV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TV_CSV_FIELD_BYTES_MAX 4096 /* bytes of one field, without its terminating NUL */
#define TV_CSV_FIELDS_MAX 64        /* fields of one row */

typedef struct tv_csv tv_csv;

/* Allocates a reader over f, which stays owned by the caller and must outlive the reader;
 * the reader reads f from its current position and never seeks or closes it. Nothing is
 * read until the first tv_csv_next. Sets *out, or NULL on failure.
 * Returns 0 or TV_ENOMEM. */
int tv_csv_open(tv_csv **out, FILE *f) __attribute__((warn_unused_result));

/* Makes the reader take ';' as the field separator instead of ',' when the first unquoted
 * ',' or ';' of the input (in its header, in practice) is a ';' (a spreadsheet saved in a locale
 * whose decimal mark is the comma, Vietnamese included, writes "CSV" with semicolons). Call before
 * the first tv_csv_next; the choice then holds for the whole input. */
void tv_csv_detect_separator(tv_csv *c);

/* The field separator in use: ',', or ';' once detected (0 while undecided). */
char tv_csv_separator(const tv_csv *c);

/* Reads the next row. On success returns 1 and sets *fields to an array of *n
 * NUL-terminated fields (n >= 1) and *line to the 1-based physical line on which the row
 * starts (line ends inside quoted fields count). Fields and array belong to the reader and
 * stay valid until the next call to tv_csv_next or tv_csv_free.
 * Returns 0 at the end of the input.
 * On failure *fields is NULL, *n is 0 and *line is still the row's first line, so the
 * caller can say "line 17: ..."; the errors are
 *   TV_ELIMIT   the row has a field longer than TV_CSV_FIELD_BYTES_MAX bytes or more than
 *               TV_CSV_FIELDS_MAX fields; the rest of the row was consumed;
 *   TV_EDECODE  the row has characters after the closing quote of a field ("ab"c) or a
 *               NUL byte (a UTF-16 file, for instance), or a quoted field is still open at
 *               the end of the input (the rest of the input was part of that row);
 *   TV_EIO      reading f failed (see errno and ferror(f)); every later call returns
 *               TV_EIO again.
 * After any error other than TV_EIO the next call continues with the following row (or
 * returns 0 if the input has ended), so bad rows can be reported and good ones kept. */
int tv_csv_next(tv_csv *c, const char *const **fields, size_t *n, uint64_t *line)
    __attribute__((warn_unused_result));

/* Returns the number of bytes of f the parser has consumed so far, byte order mark
 * included, counted from f's position at tv_csv_open; after a row is returned it is the
 * offset just past that row's line end. Compared with the file's size it gives a progress
 * figure (the reader buffers ahead, so ftell(f) would run ahead of the rows). */
uint64_t tv_csv_offset(const tv_csv *c);

/* Frees the reader (not f). Accepts NULL. */
void tv_csv_free(tv_csv *c);

/* Writes one row of n >= 1 cells to f (a NULL cell is written empty), each quoted when it
 * holds a comma, a quote or a line end (quotes doubled), and a row of one empty cell as "",
 * not as a blank line; ended by CRLF as RFC 4180 says: what tv_csv_next reads back the
 * same. */
void tv_csv_write_row(FILE *f, const char *const *cells, size_t n);

#endif
