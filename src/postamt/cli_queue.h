/* cli_queue.h: `postamt queue list | queue flush` (DESIGN.md §1).
 *
 * Like the other sub-commands (cli.h): the loaded configuration, the arguments after
 * "queue" (argv[0] is "list" or "flush"), results on stdout, one-line errors on
 * stderr, the exit status as return value. */
#ifndef POSTAMT_CLI_QUEUE_H
#define POSTAMT_CLI_QUEUE_H

#include "config.h"

/* queue list: every queued message (id, age, size, sender) and its recipients with
 * their state, attempts, next attempt and last error.
 * queue flush: asks the running server (or the next one started) to retry every
 * queued message now. */
int cli_queue(const struct config *cfg, int argc, char **argv);

#endif
