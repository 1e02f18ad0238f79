/* store_backup.h: the store's part of backup, restore, verify and upgrades
 * (docs/operations.md). Everything that reads or changes the database for them is
 * here, so the command line (src/postamt/cli_backup.c, cli_verify.c) never touches
 * SQLite or the blob layout by itself, and a future backend can answer the same calls.
 *
 * Schema versions: meta('schema') in the database. A new database gets
 * STORE_SCHEMA_VERSION. An older one is migrated forward by store_open when
 * store_options.migrate is set (the server, `postamt upgrade`): first an automatic
 * copy of the database file (DIR/db/store.sqlite.schema-N-TIME), then every numbered
 * migration in one transaction. Without migrate, store_open refuses an older
 * database; it always refuses a newer one (made by a later release). */
#ifndef POSTAMT_STORE_BACKUP_H
#define POSTAMT_STORE_BACKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* The schema this code writes. 1: the first release; 2: email_digests (the SHA-256
 * of every message file). */
#define STORE_SCHEMA_VERSION 3

/* Writes a consistent copy of the database (one read transaction, SQLite's online
 * backup API) to path, which must not exist; writers go on meanwhile. Returns 1, or
 * <0 with *error_r (thread's error text). */
int store_snapshot(struct store *s, const char *path, const char **error_r);

/* One message file referenced by a database (store_snapshot_blobs). Strings are
 * valid during the callback only. */
struct store_blob_info {
	const char *relpath; /* relative to DIR: "blobs/xx/NAME" */
	uint64_t size;       /* the size the database records */
	const char *sha256;  /* lower-case hex the database records, NULL if none */
};
/* Returns <0 to stop the walk (that value is returned). */
typedef int store_blob_fn(void *arg, const struct store_blob_info *b);

/* The counts a manifest records. */
struct store_counts {
	int64_t schema;
	uint64_t accounts, mailboxes, messages, emails;
};

/* Calls fn (may be NULL) for every message file the database at db_path (a
 * snapshot, or a data directory's db/store.sqlite with no server on it) references,
 * in name order, and fills *counts_r (may be NULL). Read only. Returns 1, fn's negative value, or <0 with *error_r. */
int store_snapshot_blobs(const char *db_path, store_blob_fn *fn, void *arg, struct store_counts *counts_r,
			 const char **error_r);

/* The schema version of the database at db_path without opening a store: 1 with
 * *version_r, <0 with *error_r. */
int store_schema_version(const char *db_path, int64_t *version_r, const char **error_r);

/* The SHA-256 of a file as lower-case hex: 1 with hex and *size_r, 0 when the file
 * does not exist, <0 with errno on another failure. */
int store_file_sha256(const char *path, char hex[65], uint64_t *size_r);

/* Reports one problem (verify) or one step (upgrade): a line of text without LF. */
typedef void store_report_fn(void *arg, const char *line);

struct store_verify_result {
	unsigned int problems; /* found */
	unsigned int repaired; /* of them, fixed by --repair */
};

/* Checks a data directory with no server on it (the caller holds DIR's lock): every
 * message's file present with its size and SHA-256, mailbox and account counters
 * (messages, unseen, deleted, size; usage), UIDs below UIDNEXT, message sizes equal
 * to their file's, no email row without a message (one pinned by a pending junk
 * filter lesson is not an orphan), no file without an email row. Each problem is one
 * line to fn. With repair, in one transaction: counters are recounted, UIDNEXT is
 * raised, orphan rows go and orphan files (theirs too) move to DIR/lost+found/;
 * missing or damaged files stay reported. Returns 1 with *r, <0 with *error_r. */
int store_verify(struct store *s, bool repair, store_report_fn *fn, void *arg, struct store_verify_result *r,
		 const char **error_r);

/* `postamt upgrade`: with dry_run, copies the database to a temporary file next to
 * it, runs the migrations there and deletes it; otherwise migrates data_dir's
 * database in place (after the automatic copy). fn gets one line per migration
 * (what it changes and how many rows). Returns 1 (nothing to do: *ran_r = 0),
 * <0 with *error_r. */
int store_upgrade(const char *data_dir, bool dry_run, store_report_fn *fn, void *arg, int *ran_r, const char **error_r);

#endif
