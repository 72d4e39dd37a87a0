/* What a node's secrets are, for the tests that search files for them
 * (tests/privacy/stolen_laptop.sh, tests/cli/secrets_test.sh).
 *
 *   privacy_keys DIR
 *       Opens the node in DIR with the tests' passphrase ($CREDENTIALS_DIRECTORY/
 *       passphrase, as tests/lib.sh gives it) and prints "seed HEX", "tracing HEX",
 *       "kind N" and "unit TEXT", one a line.
 * Exits 0, or 1 with a message. */
#include "tests/node_unlock.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: privacy_keys DIR\n");
        return 2;
    }
    if (sodium_init() < 0) return 1;
    tv_node *n = calloc(1, sizeof *n);
    if (!n) return 1;
    int rc = test_node_open_unlocked(n, argv[1], 0);
    if (rc) {
        fprintf(stderr, "privacy_keys: %s: %s\n", argv[1], tv_strerror(rc));
        free(n);
        return 1;
    }
    char seed[2 * TV_SEED_BYTES + 1], key[2 * TV_TRACING_KEY_BYTES + 1];
    sodium_bin2hex(seed, sizeof seed, n->id.sk, TV_SEED_BYTES); /* sk = seed || pk */
    sodium_bin2hex(key, sizeof key, n->tracing_key, TV_TRACING_KEY_BYTES);
    printf("seed %s\ntracing %s\nkind %u\nunit %s\n", seed, key, n->tracing_kind, n->tracing_unit);
    tv_node_close(n);
    free(n);
    return 0;
}
