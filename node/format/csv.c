/* Streaming, bounded CSV reader (see csv.h for the accepted input and its bounds). */
#include "node/format/csv.h"
#include "crdt/error.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* One fread per 64 KiB keeps the cost per byte to a compare and a store. */
#define CSV_READ_BYTES (64 * 1024)
/* Every field of a full row fits with its NUL, so a store needs no check beyond the field's
 * own length. */
#define CSV_ROW_BYTES (TV_CSV_FIELDS_MAX * (TV_CSV_FIELD_BYTES_MAX + 1))

struct tv_csv {
    FILE *f;
    size_t pos;    /* next unread byte in buf */
    size_t len;    /* bytes held in buf */
    uint64_t base; /* offset of buf[0] from where f stood at open */
    uint64_t line; /* physical line of the next unread byte */
    int err;       /* TV_EIO once a read failed; sticky */
    int eof;       /* f has reported its end; do not ask again (a terminal would block) */
    int started;   /* the byte order mark has been looked for */
    char sep;      /* the field separator; 0: the first unquoted ',' or ';' decides */
    const char *fields[TV_CSV_FIELDS_MAX];
    char row[CSV_ROW_BYTES];
    unsigned char buf[CSV_READ_BYTES];
};

enum csv_state {
    CSV_FIELD_START, /* nothing of the current field read yet */
    CSV_UNQUOTED,
    CSV_QUOTED,
    CSV_QUOTE_SEEN, /* a '"' inside a quoted field: either "" or the closing quote */
};

enum csv_action {
    CSV_APPEND,
    CSV_SKIP,
    CSV_FIELD_END,
    CSV_ROW_END,
    CSV_UNTERMINATED, /* the input ended inside a quoted field */
};

int tv_csv_open(tv_csv **out, FILE *f)
{
    assert(out && f);
    *out = NULL;
    tv_csv *c = malloc(sizeof *c);
    if (!c) return TV_ENOMEM;
    c->f = f;
    c->pos = c->len = 0;
    c->base = 0;
    c->line = 1;
    c->err = c->eof = c->started = 0;
    c->sep = ',';
    *out = c;
    return TV_OK;
}

void tv_csv_detect_separator(tv_csv *c)
{
    if (!c->started) c->sep = 0;
}

char tv_csv_separator(const tv_csv *c)
{
    return c->sep;
}

/* Is ch the field separator? While undecided, the first ',' or ';' met decides. */
static inline int csv_is_sep(tv_csv *c, int ch)
{
    if (c->sep && ch == c->sep) return 1;
    if (c->sep == 0 && (ch == ',' || ch == ';')) {
        c->sep = (char)ch;
        return 1;
    }
    return 0;
}

void tv_csv_free(tv_csv *c)
{
    free(c);
}

uint64_t tv_csv_offset(const tv_csv *c)
{
    return c->base + c->pos;
}

/* Reads more input into buf, which the caller has used up. Returns 0 at the end of the
 * input or after a read error (recorded in c->err). */
static int csv_fill(tv_csv *c)
{
    if (c->eof || c->err) return 0;
    c->base += c->len;
    c->pos = 0;
    c->len = fread(c->buf, 1, sizeof c->buf, c->f);
    if (c->len > 0) return 1;
    if (ferror(c->f))
        c->err = TV_EIO;
    else
        c->eof = 1;
    return 0;
}

static inline int csv_get(tv_csv *c)
{
    if (c->pos == c->len && !csv_fill(c)) return EOF;
    return c->buf[c->pos++];
}

static inline int csv_peek(tv_csv *c)
{
    if (c->pos == c->len && !csv_fill(c)) return EOF;
    return c->buf[c->pos];
}

/* Finishes a line end whose '\r' was just read: a following '\n' belongs to it. */
static void csv_after_cr(tv_csv *c)
{
    c->line++;
    if (csv_peek(c) == '\n') c->pos++;
}

/* Skips a UTF-8 byte order mark at the start of the input, after reading at least three
 * bytes (or all there are) so that the mark is seen whole. */
static void csv_skip_bom(tv_csv *c)
{
    c->started = 1;
    while (c->len < 3) {
        size_t got = fread(c->buf + c->len, 1, sizeof c->buf - c->len, c->f);
        if (got == 0) {
            if (ferror(c->f))
                c->err = TV_EIO;
            else
                c->eof = 1;
            break;
        }
        c->len += got;
    }
    if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0) c->pos = 3;
}

/* Skips blank lines, counting them; returns the first character after them, or EOF. */
static int csv_skip_blank(tv_csv *c)
{
    for (;;) {
        int ch = csv_get(c);
        if (ch == '\n')
            c->line++;
        else if (ch == '\r')
            csv_after_cr(c);
        else
            return ch;
    }
}

/* One character ch (or EOF) of a row in state *st: the next state, and what to do with ch.
 * A broken quote ("ab"c) sets *bad, if not set yet. */
static enum csv_action csv_step(tv_csv *c, enum csv_state *st, int ch, int *bad)
{
    enum csv_action act = CSV_APPEND;
    switch (*st) {
    case CSV_FIELD_START:
        if (ch == '"') {
            *st = CSV_QUOTED;
            act = CSV_SKIP;
            break;
        }
        *st = CSV_UNQUOTED;
        /* fallthrough */
    case CSV_UNQUOTED:
        if (ch != EOF && csv_is_sep(c, ch))
            act = CSV_FIELD_END;
        else if (ch == '\n' || ch == '\r' || ch == EOF)
            act = CSV_ROW_END;
        break;
    case CSV_QUOTED:
        if (ch == '"') {
            *st = CSV_QUOTE_SEEN;
            act = CSV_SKIP;
        } else if (ch == EOF) {
            act = CSV_UNTERMINATED;
        } else if (ch == '\n') {
            c->line++;
        } else if (ch == '\r' && csv_peek(c) != '\n') {
            c->line++; /* a lone CR; in CRLF the LF counts the line */
        }
        break;
    case CSV_QUOTE_SEEN:
        if (ch == '"') {
            *st = CSV_QUOTED; /* "" stands for one quote */
        } else if (ch != EOF && csv_is_sep(c, ch)) {
            act = CSV_FIELD_END;
        } else if (ch == '\n' || ch == '\r' || ch == EOF) {
            act = CSV_ROW_END;
        } else {
            /* "ab"c: the quoting is broken, so any reading of the row is a guess. */
            if (!*bad) *bad = TV_EDECODE;
            *st = CSV_UNQUOTED;
        }
        break;
    }
    return act;
}

int tv_csv_next(tv_csv *c, const char *const **fields, size_t *n, uint64_t *line)
{
    assert(c && fields && n && line);
    *fields = NULL;
    *n = 0;
    *line = c->line;
    if (c->err) return c->err;
    if (!c->started) csv_skip_bom(c);

    int ch = csv_skip_blank(c);
    if (ch == EOF) return c->err;
    *line = c->line;

    char *w = c->row;
    size_t flen = 0; /* bytes in the current field */
    size_t nf = 1;   /* fields in the row, the current one included */
    int bad = 0;     /* the first error found in this row */
    enum csv_state st = CSV_FIELD_START;
    c->fields[0] = w;
    for (;; ch = csv_get(c)) {
        enum csv_action act = csv_step(c, &st, ch, &bad);
        if (act == CSV_UNTERMINATED)
            /* The open quote swallowed the rest of the input: report the row where it
             * opened, which is where the clerk has to look. */
            return c->err ? c->err : TV_EDECODE;
        if (act == CSV_APPEND) {
            if (ch == '\0') {
                if (!bad) bad = TV_EDECODE; /* it would cut the NUL-terminated field short */
            } else if (flen == TV_CSV_FIELD_BYTES_MAX) {
                if (!bad) bad = TV_ELIMIT;
            } else {
                *w++ = (char)ch;
                flen++;
            }
        } else if (act == CSV_FIELD_END) {
            st = CSV_FIELD_START;
            flen = 0;
            if (nf == TV_CSV_FIELDS_MAX) {
                /* Keep reading to find the row's end; reuse the last field as scratch. */
                if (!bad) bad = TV_ELIMIT;
                w = (char *)c->fields[nf - 1];
            } else {
                *w++ = '\0';
                c->fields[nf++] = w;
            }
        } else if (act == CSV_ROW_END) {
            *w = '\0';
            if (ch == '\n')
                c->line++;
            else if (ch == '\r')
                csv_after_cr(c);
            else if (c->err)
                return c->err;
            if (bad) return bad;
            assert(w < c->row + sizeof c->row);
            *fields = c->fields;
            *n = nf;
            return 1;
        }
    }
}

void tv_csv_write_row(FILE *f, const char *const *cells, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *c = cells[i] ? cells[i] : "";
        if (i) fputc(',', f);
        /* a row of one empty cell, left bare, would be a blank line, which readers skip;
         * a first cell starting with a byte order mark, left bare, would lose it to the
         * reader at the start of a file */
        int bom = i == 0 && strncmp(c, "\xef\xbb\xbf", 3) == 0;
        if (!c[strcspn(c, ",\"\r\n")] && (n > 1 || *c) && !bom) {
            fputs(c, f);
            continue;
        }
        fputc('"', f);
        for (; *c; c++) {
            if (*c == '"') fputc('"', f);
            fputc(*c, f);
        }
        fputc('"', f);
    }
    fputs("\r\n", f);
}
