/* Tests of terminal QR codes: the drawing reads back as a QR symbol with its finder
 * patterns where the standard puts them, inside a light quiet zone. */
#include "crdt/error.h"
#include "node/print/qr.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define GRID_MAX 200

/* Reads the half-block drawing back into modules: 1 dark, 0 light. Returns the side. */
static int read_back(FILE *f, unsigned char grid[GRID_MAX][GRID_MAX])
{
    char line[GRID_MAX * 4 + 8];
    int y = 0, side = -1;
    while (fgets(line, sizeof line, f)) {
        int x = 0;
        for (const char *p = line; *p && *p != '\n'; x++) {
            int top = 0, bottom = 0;
            if (strncmp(p, "\u2588", 3) == 0)
                top = 0, bottom = 0, p += 3;
            else if (strncmp(p, "\u2580", 3) == 0)
                top = 0, bottom = 1, p += 3;
            else if (strncmp(p, "\u2584", 3) == 0)
                top = 1, bottom = 0, p += 3;
            else if (*p == ' ')
                top = 1, bottom = 1, p += 1;
            else
                fail_msg("unexpected byte 0x%02x in the drawing", (unsigned char)*p);
            assert_true(x < GRID_MAX && y + 1 < GRID_MAX);
            grid[y][x] = (unsigned char)top;
            grid[y + 1][x] = (unsigned char)bottom;
        }
        if (side < 0) side = x;
        assert_int_equal(x, side); /* every row as wide */
        y += 2;
    }
    assert_true(y >= side); /* the last half row may pad */
    return side;
}

/* A finder pattern: a dark 7x7 ring, a light ring, a dark 3x3 centre. */
static void expect_finder(unsigned char grid[GRID_MAX][GRID_MAX], int x0, int y0)
{
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 7; x++) {
            int ring = x == 0 || y == 0 || x == 6 || y == 6;
            int centre = x >= 2 && x <= 4 && y >= 2 && y <= 4;
            if (grid[y0 + y][x0 + x] != (ring || centre))
                fail_msg("finder at (%d,%d): module (%d,%d) is wrong", x0, y0, x, y);
        }
}

static void test_draws_a_readable_symbol(void **state)
{
    (void)state;
    static unsigned char grid[GRID_MAX][GRID_MAX];
    FILE *f = tmpfile();
    assert_non_null(f);
    const char *text = "truyvet-enroll-request-v1\nnode: 00112233\nname: UBND Phường Bắc Nha Trang";
    assert_int_equal(tv_qr_print(f, text), 0);
    rewind(f);
    int side = read_back(f, grid);
    fclose(f);
    int n = side - 8;                          /* the symbol inside a quiet zone of 4 modules */
    assert_true(n >= 21 && (n - 21) % 4 == 0); /* QR sides are 21, 25, 29, ... */
    for (int i = 0; i < side; i++)             /* the quiet zone is light */
        for (int k = 0; k < 4; k++) {
            assert_int_equal(grid[k][i], 0);
            assert_int_equal(grid[i][k], 0);
            assert_int_equal(grid[side - 1 - k][i], 0);
            assert_int_equal(grid[i][side - 1 - k], 0);
        }
    expect_finder(grid, 4, 4);
    expect_finder(grid, 4 + n - 7, 4);
    expect_finder(grid, 4, 4 + n - 7);
    /* and not at the fourth corner */
    int bottom_right_dark = 0;
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 7; x++)
            bottom_right_dark += grid[4 + n - 7 + y][4 + n - 7 + x];
    assert_true(bottom_right_dark < 49);
}

static void test_too_long_refused(void **state)
{
    (void)state;
    size_t len = 8000; /* beyond the largest symbol's capacity */
    char *text = malloc(len + 1);
    memset(text, 'x', len);
    text[len] = '\0';
    FILE *f = tmpfile();
    assert_int_not_equal(tv_qr_print(f, text), 0);
    fclose(f);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_draws_a_readable_symbol),
        cmocka_unit_test(test_too_long_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
