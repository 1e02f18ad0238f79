/* serve.h: `postamt serve`: listeners, worker loops, signals, reload, shutdown. */
#ifndef POSTAMT_SERVE_H
#define POSTAMT_SERVE_H

#include "config.h"

#include <stdio.h>

/* Runs the server until SIGTERM/SIGINT. Takes ownership of cfg. First locks
 * cfg->data_dir (a second serve on it is refused) and makes it the working
 * directory; postamt.conf there is re-read on SIGHUP. conf_path names it in
 * messages. Returns the exit status. */
int serve_run(struct config *cfg, const char *conf_path);
/* Prints the table of client settings (server, port, security, user name). */
void serve_print_client_table(const struct config *cfg, FILE *out);

#endif
