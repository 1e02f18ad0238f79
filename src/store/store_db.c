/* store_db.c: beneath every other store file: SQLite connections (the pool, the
 * statement cache, the relative-name VFS), the error helpers (the thread's error text,
 * an operation's failure) and the blob path. It calls no other store file, so that
 * store.c (open, close, schema, recovery), store_commit.c (the write pipeline) and
 * store_space.c (the disk reserve), which use it, form no cycle with it. */
#include "store_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Error text of the last failing call on this thread (like errno; see store.h). */
static _Thread_local char tl_error[256];

const char *store_set_error(const char *msg)
{
	snprintf(tl_error, sizeof(tl_error), "%s", msg);
	return tl_error;
}

const char *store_set_errorf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tl_error, sizeof(tl_error), fmt, ap);
	va_end(ap);
	return tl_error;
}


/* ------------------------------------------------------------------ errors */

int store_op_fail(struct store_op *op, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(op->errbuf, sizeof(op->errbuf), fmt, ap);
	va_end(ap);
	op->error = op->errbuf;
	op->result = code;
	return code;
}

void store_op_rolled_back(struct store_op *op, int r)
{
	assert(r < 0);
	op->result = r;
	if (op->error == NULL)
		op->error = "store error";
	op->nevents = 0;
	for (size_t i = 0; i < op->nunlink; i++)
		free(op->unlink[i]);
	op->nunlink = 0;
}

int store_db_fail(struct db *c, const char *what, const char **error_r)
{
	log_error("event=store_error what=%s sqlite=\"%s\"", what, sqlite3_errmsg(c->db));
	*error_r = store_set_errorf("database error (%s)", what);
	return STORE_ERR;
}

/* ------------------------------------------------------------------ connections */

void store_db_close(struct db *c)
{
	for (size_t i = 0; i < c->ncache; i++)
		sqlite3_finalize(c->cache[i].st);
	sql_close(c->sql);
	sqlite3_close_v2(c->db);
	free(c);
}

/* SQLite's unix VFS turns every file name into an absolute path and lstat()s each
 * of its parents, which needs search permission on all of them. A server that
 * entered DIR before dropping privileges (postamt serve) opens "./db/store.sqlite"
 * and must not depend on reaching DIR's parents: for a relative data directory the
 * store opens through this copy of the default VFS, which keeps relative names as
 * they are (the working directory never changes afterwards).
 * SQLite keeps a pointer to a registered VFS for the life of the process, so the VFS
 * must be file-level and registered once (pthread_once: store_open may run more than
 * once, e.g. in tests); after that it is never written. */
#define CWD_VFS_NAME STORE_CWD_VFS
static sqlite3_vfs cwd_vfs;
static pthread_once_t cwd_vfs_once = PTHREAD_ONCE_INIT;

static int cwd_full_pathname(sqlite3_vfs *vfs, const char *name, int nout, char *out)
{
	size_t n = strlen(name);
	if (n + 1 > (size_t)nout)
		return SQLITE_CANTOPEN;
	memcpy(out, name, n + 1);
	return SQLITE_OK;
}

static void cwd_vfs_register(void)
{
	sqlite3_vfs *base = sqlite3_vfs_find(NULL);
	cwd_vfs = *base; /* same methods and data: only the name and xFullPathname differ */
	cwd_vfs.pNext = NULL;
	cwd_vfs.zName = CWD_VFS_NAME;
	cwd_vfs.xFullPathname = cwd_full_pathname;
	sqlite3_vfs_register(&cwd_vfs, 0);
}

struct db *store_db_open(struct store *s, const char **error_r)
{
	sqlite3 *db = NULL;
	const char *vfs = NULL;
	if (s->dbpath[0] != '/') {
		pthread_once(&cwd_vfs_once, cwd_vfs_register);
		vfs = CWD_VFS_NAME;
	}
	int rc = sqlite3_open_v2(s->dbpath, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, vfs);
	if (rc != SQLITE_OK) {
		*error_r = store_set_errorf("cannot open %s: %s", s->dbpath,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close_v2(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 10000);
	sqlite3_extended_result_codes(db, 1);
	struct db *c = xcalloc(1, sizeof(*c));
	c->db = db;
	c->sql = sql_sqlite_wrap(db);
	const char *pragmas = s->opt.no_fsync ?
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF;"
		" PRAGMA cache_size=-8000; PRAGMA temp_store=MEMORY" :
		"PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
		" PRAGMA cache_size=-8000; PRAGMA temp_store=MEMORY";
	char *msg = NULL;
	if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(tl_error, sizeof(tl_error), "cannot set up %s: %s", s->dbpath,
			 msg ? msg : "?");
		sqlite3_free(msg);
		*error_r = tl_error;
		store_db_close(c);
		return NULL;
	}
	return c;
}

/* A pooled connection. All are opened up front (store_open); when every one is busy
 * a new one is opened, and if that fails (e.g. out of file descriptors under a
 * connection flood) the caller waits for one to come back instead of failing. */
struct db *store_db_get(struct store *s)
{
	pthread_mutex_lock(&s->rd_mu);
	for (;;) {
		struct db *c = s->rd_free;
		if (c != NULL) {
			s->rd_free = c->next;
			pthread_mutex_unlock(&s->rd_mu);
			return c;
		}
		pthread_mutex_unlock(&s->rd_mu);
		const char *err;
		c = store_db_open(s, &err);
		pthread_mutex_lock(&s->rd_mu);
		if (c != NULL) {
			s->rd_count++;
			pthread_mutex_unlock(&s->rd_mu);
			return c;
		}
		log_warn("event=store_conn_wait error=\"%s\"", err);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->rd_cond, &s->rd_mu, &ts);
	}
}

void store_db_put(struct store *s, struct db *c)
{
	for (size_t i = 0; i < c->ncache; i++)
		sqlite3_reset(c->cache[i].st);
	sql_reset_all(c->sql);
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	int keep = s->opt.read_conns > 0 ? s->opt.read_conns : 8;
	pthread_mutex_lock(&s->rd_mu);
	int count = 0;
	for (struct db *x = s->rd_free; x != NULL; x = x->next)
		count++;
	if (count < keep) {
		c->next = s->rd_free;
		s->rd_free = c;
		c = NULL;
		pthread_cond_signal(&s->rd_cond);
	} else {
		assert(s->rd_count > 0);
		s->rd_count--;
	}
	pthread_mutex_unlock(&s->rd_mu);
	if (c != NULL)
		store_db_close(c);
}

sqlite3_stmt *store_db_stmt(struct db *c, const char *sql)
{
	for (size_t i = 0; i < c->ncache; i++) {
		if (c->cache[i].sql == sql) {
			sqlite3_stmt *st = c->cache[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("event=store_error what=prepare sqlite=\"%s\" sql=\"%.80s\"",
			  sqlite3_errmsg(c->db), sql);
		if (rc == SQLITE_ERROR)
			abort(); /* an SQL bug */
		return NULL;
	}
	if (c->ncache < STMT_CACHE) {
		c->cache[c->ncache].sql = sql;
		c->cache[c->ncache].st = st;
		c->ncache++;
	} else {
		abort(); /* raise STMT_CACHE */
	}
	return st;
}

int store_db_exec(struct db *c, const char *sql, const char **error_r)
{
	char *msg = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("event=store_error what=exec sqlite=\"%s\" sql=\"%.60s\"", msg ? msg : "?", sql);
		sqlite3_free(msg);
		*error_r = store_set_errorf("database error");
		return STORE_ERR;
	}
	return 1;
}

void store_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

const char *store_col_text(struct arena *a, sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	if (t == NULL)
		return arena_strndup(a, "", 0);
	return arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
}

int store_step_done(struct db *c, sqlite3_stmt *st, const char **error_r)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
		sqlite3_reset(st);
		return 1;
	}
	int r = store_db_fail(c, "step", error_r);
	sqlite3_reset(st);
	return r;
}

/* ------------------------------------------------------------------ blobs */

char *store_blob_path(struct store *s, const char *blob)
{
	return xasprintf("%s/%.2s/%s", s->blobdir, blob, blob + 2);
}

void store_stat_fsync(struct store *s)
{
	atomic_fetch_add(&s->st_fsyncs, 1);
}


int store_fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}
