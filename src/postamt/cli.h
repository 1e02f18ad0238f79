/* cli.h: the sub-commands of the postamt command line (DESIGN.md §1).
 *
 * Each takes the already-loaded configuration and the arguments after its own name
 * (argv[0] is the sub-command word, e.g. "add"), prints results to stdout, one-line
 * errors to stderr, and returns the process exit status (0 ok, 1 error). */
#ifndef POSTAMT_CLI_H
#define POSTAMT_CLI_H

#include "config.h"

#include <stdbool.h>

/* user add ADDRESS [--quota SIZE] [--admin] | passwd ADDRESS | del ADDRESS | list | quota ADDRESS SIZE |
 * junk ADDRESS [--on|--off] | admin ADDRESS on|off */
int cli_user(const struct config *cfg, int argc, char **argv);
/* domain add D | domain del D | domain list */
int cli_domain(const struct config *cfg, int argc, char **argv);
/* alias add ADDRESS TARGET... | alias del ADDRESS | alias list */
int cli_alias(const struct config *cfg, int argc, char **argv);
/* Creates the database for a new DIR with its first domain (called by init). */
int cli_init_store(const struct config *cfg, const char *domain);
/* dkim rotate D | dkim retire D SELECTOR | dkim list D (cli_dkim.c) */
int cli_dkim(const struct config *cfg, int argc, char **argv);
/* `tls status` (cli_tls.c): the certificate and ACME state. Returns the exit status. */
int cli_tls(struct config *cfg, int argc, char **argv);
/* Makes domain's first (or next) DKIM key pair under DIR/dkim; unless quiet, prints
 * their TXT records to publish and when each starts signing (dkim.publish_delay). Returns the exit status. */
int cli_dkim_generate(const struct config *cfg, const char *domain, bool quiet);
/* sieve check FILE | sieve test FILE MESSAGE [options] (cli_sieve.c); needs no
 * configuration: argv[0] is "check" or "test". */
int cli_sieve(int argc, char **argv);

/* index rebuild [ADDRESS] | index status (cli_index.c) */
int cli_index(const struct config *cfg, int argc, char **argv);

#endif
