/* The list of `truyvet`'s commands (command.h). */
#include "node/cli/command.h"

#include <stddef.h>

/* The top-level commands, in the order `truyvet --help` lists them; each is defined in the
 * file of its name (node/cli/<name>.c). Adding a command: its file, and its line here. */
#define TV_COMMANDS(X)                                                                             \
    X(init)                                                                                        \
    X(venue)                                                                                       \
    X(scan)                                                                                        \
    X(station)                                                                                     \
    X(watch)                                                                                       \
    X(person)                                                                                      \
    X(audit)                                                                                       \
    X(trace)                                                                                       \
    X(case)                                                                                        \
    X(risk)                                                                                        \
    X(alerts)                                                                                      \
    X(report)                                                                                      \
    X(unit)                                                                                        \
    X(qr)                                                                                          \
    X(import)                                                                                      \
    X(status)                                                                                      \
    X(retention)                                                                                   \
    X(purge)                                                                                       \
    X(hold)                                                                                        \
    X(log)                                                                                         \
    X(verify)                                                                                      \
    X(serve)                                                                                       \
    X(sync)                                                                                        \
    X(peer)                                                                                        \
    X(peers)                                                                                       \
    X(bundle)                                                                                      \
    X(enroll)                                                                                      \
    X(revoke)                                                                                      \
    X(resync)                                                                                      \
    X(user)                                                                                        \
    X(unlock)                                                                                      \
    X(lock)                                                                                        \
    X(passwd)

#define DECLARE(name) extern const tv_command tv_command_##name;
TV_COMMANDS(DECLARE)
#define ENTRY(name) &tv_command_##name,
const tv_command *const tv_commands[] = {TV_COMMANDS(ENTRY) NULL};
