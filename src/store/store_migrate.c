/* store_migrate.c: the schema version and the numbered migrations (store_backup.h).
 *
 * meta('schema') says which schema a database has. store_open reads it first: a
 * newer one is refused (a later release wrote it: running on would risk its data), an
 * older one is migrated when allowed. A migration moves a database from schema N-1
 * to N; they run in order, all in one transaction with the schema list's CREATE
 * statements, after an automatic copy of the database file, so a failure leaves the
 * database as it was and the copy is there in any case. Adding one: append to
 * `migrations`, raise STORE_SCHEMA_VERSION, and keep tests/fixtures/schema1.tar.gz
 * (test_upgrade.py migrates it through every step). */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct migration {
	int64_t to;
	const char *what;
	/* runs inside the transaction; *changed_r: rows it changed, *note_r: more to say
	 * (static or NULL). 1 or <0 with *error_r. */
	int (*run)(struct store *s, struct db *c, uint64_t *changed_r, const char **note_r, const char **error_r);
};

/* 1 -> 2: record the SHA-256 of every message file, so that verify and backups can
 * tell a damaged file (email_digests; new messages get theirs at delivery). */
static int to_digests(struct store *s, struct db *c, uint64_t *changed_r, const char **note_r, const char **error_r)
{
	sqlite3_stmt *sel = NULL;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT e.id, e.blob FROM emails e WHERE NOT EXISTS"
			       " (SELECT 1 FROM email_digests d WHERE d.email_id = e.id)",
			       -1, &sel, NULL) != SQLITE_OK)
		return store_db_fail(c, "migration 2", error_r);
	sqlite3_stmt *ins = store_db_stmt(c, "INSERT INTO email_digests(email_id, sha256) VALUES(?, ?)");
	uint64_t missing = 0;
	int ret = 1;
	while (sqlite3_step(sel) == SQLITE_ROW) {
		const char *blob = (const char *)sqlite3_column_text(sel, 1);
		char *path = store_blob_path(s, blob != NULL ? blob : "??");
		char hex[65];
		uint64_t size;
		int r = store_file_sha256(path, hex, &size);
		free(path);
		if (r <= 0) { /* missing or unreadable: verify reports it; no digest to record */
			missing++;
			continue;
		}
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, sqlite3_column_int64(sel, 0));
		sqlite3_bind_text(ins, 2, hex, -1, SQLITE_TRANSIENT);
		if (store_step_done(c, ins, error_r) < 0) {
			ret = STORE_ERR;
			break;
		}
		(*changed_r)++;
	}
	sqlite3_finalize(sel);
	if (missing > 0)
		*note_r = store_set_errorf("%llu message files missing or unreadable (postamt verify lists them)",
					   (unsigned long long)missing);
	return ret;
}

/* 2 -> 3: the SORT and THREAD keys of every message (table msg_keys, store_sortkey.c),
 * derived from the header fields the emails table already has: no message file is
 * read (100,000 messages in a few seconds). */
static int to_sortkeys(struct store *s, struct db *c, uint64_t *changed_r, const char **note_r, const char **error_r)
{
	(void)s;
	(void)note_r;
	return store_sortkey_fill(c, changed_r, error_r);
}

static const struct migration migrations[] = {
	{ 2, "record the SHA-256 of every message file (table email_digests)", to_digests },
	{ 3, "store the SORT and THREAD keys of every message (table msg_keys)", to_sortkeys },
};

int store_schema_read(struct db *c, int64_t *version_r, const char **error_r)
{
	sqlite3_stmt *st = NULL;
	*version_r = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'", -1,
			       &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return store_db_fail(c, "schema version", error_r);
	}
	bool have_meta = sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	if (!have_meta)
		return 1;
	if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return store_db_fail(c, "schema version", error_r);
	}
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_r = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_db_fail(c, "schema version", error_r);
	if (rc == SQLITE_DONE) /* tables but no version: the first release wrote it with 1 */
		*version_r = 1;
	return 1;
}

/* The automatic copy before a migration: DIR/db/store.sqlite.schema-N-UNIXTIME. */
static int copy_before(struct store *s, struct db *c, int64_t from, const char **error_r)
{
	char *path = xasprintf("%s.schema-%lld-%lld", s->dbpath, (long long)from, (long long)time(NULL));
	sqlite3 *dst = NULL;
	int ret = 1;
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    s->dbpath[0] == '/' ? NULL : STORE_CWD_VFS) != SQLITE_OK) {
		*error_r = store_set_errorf("cannot create %s: %s", path, dst ? sqlite3_errmsg(dst) : "?");
		ret = STORE_ERR;
	} else {
		sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
		int rc = b != NULL ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
		if (b != NULL)
			sqlite3_backup_finish(b);
		if (rc != SQLITE_DONE) {
			*error_r = store_set_errorf("cannot copy the database to %s before migrating it: %s", path,
						    sqlite3_errmsg(dst));
			ret = STORE_ERR;
		}
	}
	if (sqlite3_close_v2(dst) != SQLITE_OK && ret > 0) {
		*error_r = store_set_errorf("cannot close %s", path);
		ret = STORE_ERR;
	}
	if (ret > 0)
		log_info("event=store_migrate_copy path=%s schema=%lld", path, (long long)from);
	else
		unlink(path);
	free(path);
	return ret;
}

int store_migrate_in(struct store *s, struct db *c, int64_t from, const char *const *schema, size_t nschema, bool copy,
		     store_report_fn *fn, void *arg, const char **error_r)
{
	_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == STORE_SCHEMA_VERSION - 1,
		       "one migration per schema version after 1");
	if (copy && copy_before(s, c, from, error_r) < 0)
		return STORE_ERR;
	if (store_db_exec(c, "BEGIN IMMEDIATE", error_r) < 0)
		return STORE_ERR;
	for (size_t i = 0; i < nschema; i++) {
		if (store_db_exec(c, schema[i], error_r) < 0)
			goto fail;
	}
	for (size_t i = 0; i < sizeof(migrations) / sizeof(migrations[0]); i++) {
		const struct migration *m = &migrations[i];
		if (m->to <= from)
			continue;
		uint64_t changed = 0;
		const char *note = NULL;
		if (m->run(s, c, &changed, &note, error_r) < 0)
			goto fail;
		char line[512];
		snprintf(line, sizeof(line), "schema %lld -> %lld: %s: %llu rows%s%s", (long long)m->to - 1,
			 (long long)m->to, m->what, (unsigned long long)changed, note ? "; " : "", note ? note : "");
		log_info("event=store_migrate schema=%lld rows=%llu", (long long)m->to, (unsigned long long)changed);
		if (fn != NULL)
			fn(arg, line);
	}
	sqlite3_stmt *st = store_db_stmt(c, "UPDATE meta SET value = ? WHERE key = 'schema'");
	sqlite3_bind_int64(st, 1, STORE_SCHEMA_VERSION);
	if (store_step_done(c, st, error_r) < 0 || store_db_exec(c, "COMMIT", error_r) < 0)
		goto fail;
	return 1;
fail:;
	const char *ignored;
	store_db_exec(c, "ROLLBACK", &ignored);
	return STORE_ERR;
}

int store_upgrade(const char *data_dir, bool dry_run, store_report_fn *fn, void *arg, int *ran_r, const char **error_r)
{
	*ran_r = 0;
	struct store tmp = { 0 }; /* enough of a store for store_db_open and the blob paths */
	tmp.dir = (char *)data_dir;
	tmp.dbpath = xasprintf("%s/db/store.sqlite", data_dir);
	tmp.blobdir = xasprintf("%s/blobs", data_dir);
	char *copy = NULL;
	int ret = 1;
	struct db *c = NULL;
	struct stat sb;
	if (stat(tmp.dbpath, &sb) < 0) {
		*error_r = store_set_errorf("no database at %s: %s", tmp.dbpath, strerror(errno));
		ret = STORE_ENOTFOUND;
		goto out;
	}
	if (dry_run) { /* work on a copy; the blobs are only read */
		copy = xasprintf("%s.dry-run-%ld", tmp.dbpath, (long)getpid());
		c = store_db_open(&tmp, error_r);
		if (c == NULL) {
			ret = STORE_ERR;
			goto out;
		}
		sqlite3 *dst = NULL;
		int rc = sqlite3_open_v2(copy, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
		sqlite3_backup *b = rc == SQLITE_OK ? sqlite3_backup_init(dst, "main", c->db, "main") : NULL;
		rc = b != NULL ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
		if (b != NULL)
			sqlite3_backup_finish(b);
		sqlite3_close_v2(dst);
		store_db_close(c);
		c = NULL;
		if (rc != SQLITE_DONE) {
			*error_r = store_set_errorf("cannot copy the database to %s", copy);
			ret = STORE_ERR;
			goto out;
		}
		free(tmp.dbpath);
		tmp.dbpath = xstrdup(copy);
	}
	c = store_db_open(&tmp, error_r);
	if (c == NULL) {
		ret = STORE_ERR;
		goto out;
	}
	int64_t version;
	if (store_schema_read(c, &version, error_r) < 0) {
		ret = STORE_ERR;
		goto out;
	}
	if (version == 0) {
		*error_r = store_set_errorf("%s is not a postamt database", tmp.dbpath);
		ret = STORE_ERR;
	} else if (version > STORE_SCHEMA_VERSION) {
		*error_r = store_set_errorf("the database has schema %lld, newer than this postamt's (%d): use the"
					    " release that wrote it",
					    (long long)version, STORE_SCHEMA_VERSION);
		ret = STORE_ERR;
	} else if (version < STORE_SCHEMA_VERSION) {
		ret = store_migrate_in(&tmp, c, version, store_schema, store_nschema, !dry_run, fn, arg, error_r);
		if (ret > 0)
			*ran_r = (int)(STORE_SCHEMA_VERSION - version);
	}
out:
	if (c != NULL)
		store_db_close(c);
	if (copy != NULL) {
		const char *suffix[] = { "", "-wal", "-shm", "-journal" };
		for (size_t i = 0; i < 4; i++) {
			char *p = xasprintf("%s%s", copy, suffix[i]);
			unlink(p);
			free(p);
		}
		free(copy);
	}
	free(tmp.dbpath);
	free(tmp.blobdir);
	return ret;
}
