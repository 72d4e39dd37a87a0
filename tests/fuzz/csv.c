/* CSV files as `truyvet import --csv` reads them (tv_csv_next over a FILE), and each good
 * row written back with tv_csv_write_row and read again: the same cells must come back. */
#include "crdt/error.h"
#include "fuzz/fuzz_util.h"
#include "node/format/csv.h"

static void roundtrip(const char *const *cells, size_t n)
{
    char *out = NULL;
    size_t out_len = 0;
    FILE *w = open_memstream(&out, &out_len);
    FUZZ_CHECK(w != NULL);
    tv_csv_write_row(w, cells, n);
    FUZZ_CHECK(fclose(w) == 0);
    FILE *r = fmemopen(out, out_len, "r");
    FUZZ_CHECK(r != NULL);
    tv_csv *c;
    FUZZ_CHECK(tv_csv_open(&c, r) == 0);
    const char *const *again;
    size_t m;
    uint64_t line;
    int rc = tv_csv_next(c, &again, &m, &line);
    FUZZ_CHECK(rc == 1 && m == n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(strcmp(cells[i], again[i]) == 0);
    tv_csv_free(c);
    fclose(r);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "r");
    FUZZ_CHECK(f != NULL);
    tv_csv *c;
    FUZZ_CHECK(tv_csv_open(&c, f) == 0);
    for (;;) {
        const char *const *fields;
        size_t n;
        uint64_t line;
        int rc = tv_csv_next(c, &fields, &n, &line);
        if (rc == 0) break;
        FUZZ_CHECK(rc == 1 || rc == TV_ELIMIT || rc == TV_EDECODE);
        FUZZ_CHECK(tv_csv_offset(c) <= size);
        if (rc == 1) {
            FUZZ_CHECK(n >= 1);
            roundtrip(fields, n);
        }
    }
    tv_csv_free(c);
    fclose(f);
    return 0;
}
