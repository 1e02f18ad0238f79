/* sql.h: the store's SQL driver layer (never included outside src/store).
 *
 * One small interface over two engines: SQLite (the embedded default, on the
 * connections store_db.c opens) and PostgreSQL through libpq (sql_pg.c). Store code
 * written against it runs on both: statements are prepared once per connection by
 * their text (the pointer of a static string is the cache key, as store_db_stmt's),
 * parameters are `?` (or `?NNN`, numbered, to use one twice) and bound by position
 * from 1, columns are read by position
 * from 0. The SQL is SQLite's dialect; the PostgreSQL driver translates the few
 * differences the store uses in one place (sql_pg_translate): `?` becomes `$n`,
 * `INSERT OR IGNORE` becomes `INSERT ... ON CONFLICT DO NOTHING`, `COLLATE NOCASE`
 * is dropped (those columns are citext there). The schema itself is one list per
 * engine (store.c, store_pg.c): DDL differs too much to translate.
 *
 * One error convention: every call that can fail returns a negative enum sql_rc and
 * leaves the text in sql_errmsg(conn). SQL_ETEMP is a failure that may pass by
 * itself (the server restarted or went away, a statement timeout, a serialization
 * failure, "database is locked"): the store turns it into STORE_EUNAVAIL, which the
 * protocols answer with a temporary error (SMTP 451, IMAP NO [UNAVAILABLE]). */
#ifndef POSTAMT_SQL_H
#define POSTAMT_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sql_rc {
	SQL_ROW = 2,
	SQL_DONE = 1,
	SQL_ERR = -1,        /* a bug or a permanent failure */
	SQL_ETEMP = -2,      /* may succeed when tried again later */
	SQL_ECONSTRAINT = -3 /* a UNIQUE or PRIMARY KEY constraint refused the row */
};

enum sql_engine { SQL_SQLITE, SQL_PG };

struct sql_conn;
struct sql_stmt;

/* Bound text and blobs must stay valid until the statement's next sql_step (SQLite
 * copies them, libpq reads them when the step sends the statement): bind, then step.
 *
 * The driver's entry points (one table per engine). Calls go through the
 * connection's table; the inline wrappers below add nothing but the indirect call. */
struct sql_driver {
	enum sql_engine engine;
	const char *name;
	struct sql_stmt *(*prepare)(struct sql_conn *q, const char *sql);
	struct sql_stmt *(*prepare_once)(struct sql_conn *q, const char *sql);
	void (*finalize)(struct sql_stmt *st);
	void (*bind_int64)(struct sql_stmt *st, int i, int64_t v);
	void (*bind_text)(struct sql_stmt *st, int i, const char *s); /* NULL binds NULL */
	void (*bind_blob)(struct sql_stmt *st, int i, const void *p, size_t n);
	int (*step)(struct sql_stmt *st);
	void (*reset)(struct sql_stmt *st);
	bool (*col_null)(struct sql_stmt *st, int i);
	int64_t (*col_int64)(struct sql_stmt *st, int i);
	const char *(*col_text)(struct sql_stmt *st, int i); /* valid until the next step/reset */
	size_t (*col_bytes)(struct sql_stmt *st, int i);
	int (*exec)(struct sql_conn *q, const char *sql);
	int64_t (*changes)(struct sql_conn *q);
	void (*reset_all)(struct sql_conn *q); /* every cached statement (a pool's put) */
	bool (*broken)(struct sql_conn *q);    /* the link to the server is gone */
	const char *(*errmsg)(struct sql_conn *q);
	void (*close)(struct sql_conn *q);
};

/* The common head of every connection and statement (drivers extend them). */
struct sql_conn {
	const struct sql_driver *drv;
	bool in_tx;
};
struct sql_stmt {
	const struct sql_driver *drv;
	struct sql_conn *conn;
};

/* sql_sqlite.c: a connection over an open sqlite3 handle that the caller keeps
 * owning (store_db.c's struct db); its own statement cache. */
struct sqlite3;
struct sql_conn *sql_sqlite_wrap(struct sqlite3 *db);

/* sql_pg.c: connects (libpq conninfo or postgresql:// URI). NULL with *error_r
 * (malloc'd, the caller frees). */
struct sql_conn *sql_pg_connect(const char *conninfo, char **error_r);
/* True while the connection to the server is usable (a pool drops broken ones). */
bool sql_pg_ok(struct sql_conn *q);
/* The translation into PostgreSQL's dialect (malloc'd), exported for the unit test. */
char *sql_pg_translate(const char *sql);

/* Returns a reset statement for a static SQL string, prepared on first use on this
 * connection; NULL on failure (sql_errmsg). */
static inline struct sql_stmt *sql_prepare(struct sql_conn *q, const char *sql)
{
	return q->drv->prepare(q, sql);
}
/* A statement built at run time (e.g. an ORDER BY chosen by the client's SORT): not
 * cached, used once, then given to sql_finalize. At most one per connection at a time
 * (PostgreSQL's unnamed statement). NULL on failure (sql_errmsg). */
static inline struct sql_stmt *sql_prepare_once(struct sql_conn *q, const char *sql)
{
	return q->drv->prepare_once(q, sql);
}
static inline void sql_finalize(struct sql_stmt *st)
{
	if (st != NULL)
		st->drv->finalize(st);
}
static inline void sql_bind_int64(struct sql_stmt *st, int i, int64_t v)
{
	st->drv->bind_int64(st, i, v);
}
static inline void sql_bind_text(struct sql_stmt *st, int i, const char *s)
{
	st->drv->bind_text(st, i, s);
}
static inline void sql_bind_blob(struct sql_stmt *st, int i, const void *p, size_t n)
{
	st->drv->bind_blob(st, i, p, n);
}
/* SQL_ROW, SQL_DONE or a negative sql_rc. */
static inline int sql_step(struct sql_stmt *st)
{
	return st->drv->step(st);
}
static inline void sql_reset(struct sql_stmt *st)
{
	st->drv->reset(st);
}
static inline bool sql_col_null(struct sql_stmt *st, int i)
{
	return st->drv->col_null(st, i);
}
static inline int64_t sql_col_int64(struct sql_stmt *st, int i)
{
	return st->drv->col_int64(st, i);
}
static inline const char *sql_col_text(struct sql_stmt *st, int i)
{
	return st->drv->col_text(st, i);
}
static inline size_t sql_col_bytes(struct sql_stmt *st, int i)
{
	return st->drv->col_bytes(st, i);
}
/* Runs SQL without parameters or result rows (several statements allowed). */
static inline int sql_exec(struct sql_conn *q, const char *sql)
{
	return q->drv->exec(q, sql);
}
/* Rows changed by the last INSERT/UPDATE/DELETE stepped on the connection. */
static inline int64_t sql_changes(struct sql_conn *q)
{
	return q->drv->changes(q);
}
static inline void sql_reset_all(struct sql_conn *q)
{
	q->drv->reset_all(q);
}
/* True when the connection is lost: any failure on it is then temporary (SQL_ETEMP). */
static inline bool sql_broken(struct sql_conn *q)
{
	return q->drv->broken(q);
}
static inline const char *sql_errmsg(struct sql_conn *q)
{
	return q->drv->errmsg(q);
}
static inline enum sql_engine sql_engine(struct sql_conn *q)
{
	return q->drv->engine;
}
static inline void sql_close(struct sql_conn *q)
{
	if (q != NULL)
		q->drv->close(q);
}

/* sql.c: transactions (BEGIN / COMMIT / ROLLBACK on either engine). */
int sql_begin(struct sql_conn *q);
int sql_commit(struct sql_conn *q);
void sql_rollback(struct sql_conn *q);
/* Steps a statement expected to produce no rows (or whose rows are ignored) and
 * resets it: SQL_DONE or a negative sql_rc. */
int sql_step_done(struct sql_stmt *st);

#endif
