/* For test helper programs: opening a node with the tests' passphrase, as a service finds
 * it ($CREDENTIALS_DIRECTORY/passphrase, which tests/lib.sh writes). */
#ifndef TV_TESTS_NODE_UNLOCK_H
#define TV_TESTS_NODE_UNLOCK_H

#include "crdt/error.h"
#include "node/logic/node.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* tv_node_open, then tv_node_unlock with the passphrase's first line when the keyring kept
 * nothing. Returns what they return (TV_ELOCKED without a passphrase file); on failure n
 * is closed. */
static inline int test_node_open_unlocked(tv_node *n, const char *dir, int flags)
{
    int rc = tv_node_open(n, dir, flags);
    if (rc || n->unlocked) return rc;
    const char *cred = getenv("CREDENTIALS_DIRECTORY");
    char path[4200], pass[1100];
    snprintf(path, sizeof path, "%s/passphrase", cred ? cred : ".");
    FILE *f = fopen(path, "r");
    int ok = f && fgets(pass, sizeof pass, f) != NULL;
    if (f) fclose(f);
    pass[ok ? strcspn(pass, "\r\n") : 0] = '\0';
    rc = ok ? tv_node_unlock(n, pass, strlen(pass)) : TV_ELOCKED;
    sodium_memzero(pass, sizeof pass);
    if (rc) tv_node_close(n);
    return rc;
}

#endif
