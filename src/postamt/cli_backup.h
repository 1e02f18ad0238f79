/* cli_backup.h: backup, restore, verify and upgrade on the command line
 * (docs/operations.md). Each returns the process exit status (0 ok, 1 error) and
 * prints one-line errors to stderr. */
#ifndef POSTAMT_CLI_BACKUP_H
#define POSTAMT_CLI_BACKUP_H

#include "config.h"

/* backup DEST [--since PREVIOUS] (argv[0] = "backup"): DIR into DEST, which must not
 * exist, written as DEST.incomplete and renamed at the end (cli_backup.c). */
int cli_backup(const struct config *cfg, int argc, char **argv);
/* restore SRC (argv[0] = "restore") into dir, which must not exist or be empty:
 * written as dir.incomplete, every file checked against SRC's manifest, renamed at the
 * end (cli_restore.c). Needs no configuration: dir has none yet. */
int cli_restore(const char *dir, int argc, char **argv);
/* verify [--repair] (cli_verify.c): refuses a DIR a server holds. */
int cli_verify(const struct config *cfg, int argc, char **argv);
/* upgrade [--dry-run] (cli_verify.c). */
int cli_upgrade(const struct config *cfg, int argc, char **argv);

/* cli_backup_files.c: what backup and restore share. */
/* Copies src to dst (created, must not exist, mode 0600) and gives the copy's SHA-256
 * and size. 1, or -1 with errno. */
int backup_copy_file(const char *src, const char *dst, char hex[65], uint64_t *size_r);
/* mkdir -p of dst's parent directories (mode 0700). 1 or -1 with errno. */
int backup_make_parents(const char *dst);
/* rm -r of path (no symlinks followed); best effort. */
void backup_remove_tree(const char *path);
/* Stops the process with SIGSTOP when $POSTAMT_TEST_STOP names `where` (tests kill
 * it there with SIGKILL: the e2e tests of an interrupted backup and restore). */
void backup_test_stop(const char *where);
/* As root, gives path and everything below it to user (the server's `user`): 1, 0
 * when not root or there is no such user, -1 with errno. */
int backup_give_to(const char *path, const char *user);
/* The current time in seconds (CLOCK_MONOTONIC), for the summaries. */
double backup_now(void);

#endif
