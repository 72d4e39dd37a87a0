/* The failure path of TV_ASSERT (see assert.h): the only output of crdt/, and only on the
 * way to abort. */
#include "crdt/assert.h"

#include <stdio.h>
#include <stdlib.h>

void tv_assert_fail(const char *cond, const char *file, int line, const char *func)
{
    fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, cond);
    fflush(stderr);
    abort();
}
