/* store_backup.c: the database side of `postamt backup` and `restore`
 * (store_backup.h): a consistent copy of the database while the server writes, the
 * list of message files a copy references, and SHA-256 helpers shared with verify
 * and the migrations. Copying and linking the files is the command line's job
 * (src/postamt/cli_backup.c); what to copy comes from here. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "textfmt.h"

void store_sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	textfmt_hex(md, sizeof(md), hex, 65);
}

int store_file_sha256(const char *path, char hex[65], uint64_t *size_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	char buf[65536];
	uint64_t total = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			EVP_MD_CTX_free(ctx);
			close(fd);
			errno = e;
			return -1;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	unsigned char md[32];
	unsigned int len = 0;
	EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	textfmt_hex(md, sizeof(md), hex, 65);
	*size_r = total;
	return 1;
}

int store_snapshot(struct store *s, const char *path, const char **error_r)
{
	struct stat sb;
	if (lstat(path, &sb) == 0) {
		*error_r = store_set_errorf("%s exists", path);
		return STORE_ERR;
	}
	sqlite3 *dst = NULL;
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		*error_r = store_set_errorf("cannot create %s: %s", path, dst ? sqlite3_errmsg(dst) : "out of memory");
		sqlite3_close_v2(dst);
		return STORE_ERR;
	}
	/* a connection of our own: the read pool's statements stay untouched, and the
	 * whole copy is one step, so it sees one transaction (WAL lets writers go on) */
	struct db *c = store_db_open(s, error_r);
	if (c == NULL) {
		sqlite3_close_v2(dst);
		unlink(path);
		return STORE_ERR;
	}
	int ret = 1;
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", c->db, "main");
	if (b == NULL) {
		*error_r = store_set_errorf("cannot copy the database: %s", sqlite3_errmsg(dst));
		ret = STORE_ERR;
	} else {
		int rc;
		while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(20);
		sqlite3_backup_finish(b);
		if (rc != SQLITE_DONE) {
			*error_r = store_set_errorf("cannot copy the database: %s", sqlite3_errstr(rc));
			ret = STORE_ERR;
		}
	}
	/* a single file: the copy needs no WAL of its own */
	if (ret > 0 && sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		*error_r = store_set_errorf("cannot finish the copy: %s", sqlite3_errmsg(dst));
		ret = STORE_ERR;
	}
	store_db_close(c);
	if (sqlite3_close_v2(dst) != SQLITE_OK && ret > 0) {
		*error_r = store_set_errorf("cannot close %s", path);
		ret = STORE_ERR;
	}
	if (ret < 0)
		unlink(path);
	return ret;
}

/* Opens a database file read only (a snapshot or a stopped server's). */
static sqlite3 *open_ro(const char *db_path, const char **error_r)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*error_r = store_set_errorf("cannot open %s: %s", db_path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close_v2(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static int64_t count_of(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int store_schema_version(const char *db_path, int64_t *version_r, const char **error_r)
{
	struct stat sb;
	if (stat(db_path, &sb) < 0) {
		*error_r = store_set_errorf("%s: %s", db_path, strerror(errno));
		return STORE_ERR;
	}
	sqlite3 *db = open_ro(db_path, error_r);
	if (db == NULL)
		return STORE_ERR;
	int64_t v = count_of(db, "SELECT value FROM meta WHERE key = 'schema'");
	sqlite3_close_v2(db);
	if (v < 0) {
		*error_r = store_set_errorf("%s has no schema version: not a postamt database", db_path);
		return STORE_ERR;
	}
	*version_r = v;
	return 1;
}

int store_snapshot_blobs(const char *db_path, store_blob_fn *fn, void *arg, struct store_counts *counts_r,
			 const char **error_r)
{
	sqlite3 *db = open_ro(db_path, error_r);
	if (db == NULL)
		return STORE_ERR;
	int ret = 1;
	/* one read transaction for the counts and the walk */
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (counts_r != NULL) {
		counts_r->schema = count_of(db, "SELECT value FROM meta WHERE key = 'schema'");
		counts_r->accounts = (uint64_t)count_of(db, "SELECT COUNT(*) FROM accounts");
		counts_r->mailboxes = (uint64_t)count_of(db, "SELECT COUNT(*) FROM mailboxes");
		counts_r->messages = (uint64_t)count_of(db, "SELECT COUNT(*) FROM messages");
		counts_r->emails = (uint64_t)count_of(db, "SELECT COUNT(*) FROM emails");
		if (counts_r->schema < 0) {
			*error_r = store_set_errorf("%s has no schema version: not a postamt database", db_path);
			ret = STORE_ERR;
		}
	}
	/* the digest table exists from schema 2 on */
	bool digests = count_of(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
				    " AND name = 'email_digests'") > 0;
	sqlite3_stmt *st = NULL;
	const char *sql = digests ? "SELECT e.blob, e.size, d.sha256 FROM emails e"
				    " LEFT JOIN email_digests d ON d.email_id = e.id ORDER BY e.blob"
				  : "SELECT blob, size, NULL FROM emails ORDER BY blob";
	if (ret > 0 && fn != NULL && sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		*error_r = store_set_errorf("cannot read %s: %s", db_path, sqlite3_errmsg(db));
		ret = STORE_ERR;
	}
	int rc = SQLITE_DONE;
	while (ret > 0 && fn != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *blob = (const char *)sqlite3_column_text(st, 0);
		if (blob == NULL || strlen(blob) < 3 || strchr(blob, '/') != NULL || blob[0] == '.') {
			*error_r = store_set_errorf("%s: a message file name is malformed", db_path);
			ret = STORE_ERR;
			break;
		}
		char rel[300];
		snprintf(rel, sizeof(rel), "blobs/%.2s/%s", blob, blob + 2);
		struct store_blob_info b = { .relpath = rel,
					     .size = (uint64_t)sqlite3_column_int64(st, 1),
					     .sha256 = (const char *)sqlite3_column_text(st, 2) };
		int r = fn(arg, &b);
		if (r < 0)
			ret = r;
	}
	if (ret > 0 && rc != SQLITE_DONE) {
		*error_r = store_set_errorf("cannot read %s: %s", db_path, sqlite3_errmsg(db));
		ret = STORE_ERR;
	}
	sqlite3_finalize(st);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close_v2(db);
	return ret;
}
