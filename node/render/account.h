/* The console's accounts and its log written out (node/logic/account.h): the lines of
 * `truyvet user list` and `truyvet user log` as terminal text or JSON Lines. A web console
 * writes the same JSON objects.
 *
 * Stored text reaches a terminal only escaped; JSON is escaped by the writer. Times are
 * Vietnam time. Write errors are the caller's to check on f (ferror, fflush). */
#ifndef TV_NODE_RENDER_ACCOUNT_H
#define TV_NODE_RENDER_ACCOUNT_H

#include "node/logic/account.h"

#include <stdint.h>
#include <stdio.h>

/* One account: {name, role, disabled, failures, locked_until (null unless locked at
 * now_ms), created, changed}. Never its hash. Returns what tv_json_line_end does. */
int tv_render_account_json(FILE *f, const tv_account *a, int64_t now_ms);
/* One line: name, role, state ("active", "disabled", "locked until TIME"), failures,
 * creation time. */
void tv_render_account_text(FILE *f, const tv_account *a, int64_t now_ms);

/* One entry of the console log: {time, kind, actor, subject, remote, detail}. Returns what
 * tv_json_line_end does. */
int tv_render_console_json(FILE *f, const store_console_entry *e);
/* One line: time, kind, actor, subject, remote ("-" for none), detail. */
void tv_render_console_text(FILE *f, const store_console_entry *e);

#endif
