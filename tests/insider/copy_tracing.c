/* An insider who holds the pseudonym key of one node installs it in a node of their own,
 * for tests/insider/05_forged_cards.sh (the keys are encrypted at rest, so a file copy
 * no longer does it).
 *
 *   insider_copy_tracing FROM TO
 *       Opens both nodes with the tests' passphrase ($CREDENTIALS_DIRECTORY/passphrase,
 *       as tests/lib.sh gives it) and writes FROM's pseudonym-key record into TO's
 *       node.secret.
 * Exits 0, or 1 with a message. */
#include "tests/node_unlock.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: insider_copy_tracing FROM TO\n");
        return 2;
    }
    if (sodium_init() < 0) return 1;
    tv_node *from = calloc(1, sizeof *from), *to = calloc(1, sizeof *to);
    int rc = from && to ? TV_OK : TV_ENOMEM;
    if (rc == TV_OK && (rc = test_node_open_unlocked(from, argv[1], 0)) == TV_OK) {
        if ((rc = test_node_open_unlocked(to, argv[2], TV_NODE_WRITE)) == TV_OK) {
            rc = tv_node_set_tracing_key(to, (tv_key_kind)from->tracing_kind, from->tracing_unit,
                                         from->tracing_key);
            tv_node_close(to);
        }
        tv_node_close(from);
    }
    free(from);
    free(to);
    if (rc) fprintf(stderr, "insider_copy_tracing: %s\n", tv_strerror(rc));
    return rc ? 1 : 0;
}
