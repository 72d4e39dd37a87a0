/* Shared by the libFuzzer harnesses of tests/fuzz/ (one LLVMFuzzerTestOneInput each).
 * A harness keeps no state between inputs except what it sets up once (a store, keys)
 * and resets when needed, so a crash replays from its one input. */
#ifndef TV_TESTS_FUZZ_UTIL_H
#define TV_TESTS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fault the harness detects itself (a broken promise of an API, not a refusal). */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The input as a NUL-terminated string (malloc'd, exactly size bytes long plus the NUL),
 * so ASan sees any read past the text. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s) abort();
    memcpy(s, data, size);
    s[size] = 0;
    return s;
}

#endif
