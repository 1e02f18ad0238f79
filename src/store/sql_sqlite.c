/* sql_sqlite.c: the SQLite driver of sql.h. A thin layer over the sqlite3 calls
 * (each entry point is one sqlite3_* call) on a handle store_db.c opened and owns;
 * statements are cached per connection by the address of their SQL text. */
#include "sql.h"

#include <assert.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "arena.h"

#define SQLITE_STMTS 256

struct lite_stmt {
	struct sql_stmt head;
	const char *sql; /* identity of the static SQL string */
	sqlite3_stmt *st;
};

struct lite_conn {
	struct sql_conn head;
	sqlite3 *db;
	struct lite_stmt stmts[SQLITE_STMTS];
	size_t n;
};

static const struct sql_driver lite_driver;

static int lite_rc(sqlite3 *db, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_ROW: return SQL_ROW;
	case SQLITE_DONE: case SQLITE_OK: return SQL_DONE;
	case SQLITE_BUSY: case SQLITE_LOCKED: return SQL_ETEMP;
	case SQLITE_CONSTRAINT:
		return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) ? SQL_ECONSTRAINT
											      : SQL_ERR;
	default: (void)db; return SQL_ERR;
	}
}

static struct sql_stmt *lite_prepare(struct sql_conn *q, const char *sql)
{
	struct lite_conn *c = (struct lite_conn *)q;
	for (size_t i = 0; i < c->n; i++) {
		if (c->stmts[i].sql == sql) {
			sqlite3_reset(c->stmts[i].st);
			sqlite3_clear_bindings(c->stmts[i].st);
			return &c->stmts[i].head;
		}
	}
	if (c->n == SQLITE_STMTS)
		abort(); /* raise SQLITE_STMTS */
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("event=store_error what=prepare sqlite=\"%s\" sql=\"%.80s\"", sqlite3_errmsg(c->db), sql);
		if (rc == SQLITE_ERROR)
			abort(); /* an SQL bug */
		return NULL;
	}
	struct lite_stmt *ls = &c->stmts[c->n++];
	ls->head.drv = &lite_driver;
	ls->head.conn = q;
	ls->sql = sql;
	ls->st = st;
	return &ls->head;
}

static struct sql_stmt *lite_prepare_once(struct sql_conn *q, const char *sql)
{
	struct lite_conn *c = (struct lite_conn *)q;
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		log_error("event=store_error what=prepare sqlite=\"%s\" sql=\"%.80s\"", sqlite3_errmsg(c->db), sql);
		if (rc == SQLITE_ERROR)
			abort(); /* an SQL bug */
		return NULL;
	}
	struct lite_stmt *ls = xcalloc(1, sizeof(*ls));
	ls->head.drv = &lite_driver;
	ls->head.conn = q;
	ls->st = st; /* sql NULL: not in the cache */
	return &ls->head;
}

static void lite_finalize(struct sql_stmt *st)
{
	struct lite_stmt *ls = (struct lite_stmt *)st;
	assert(ls->sql == NULL); /* a cached statement lives as long as its connection */
	sqlite3_finalize(ls->st);
	free(ls);
}

#define ST(x) (((struct lite_stmt *)(x))->st)

static void lite_bind_int64(struct sql_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(ST(st), i, v);
}

static void lite_bind_text(struct sql_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(ST(st), i);
	else
		sqlite3_bind_text(ST(st), i, s, -1, SQLITE_TRANSIENT);
}

static void lite_bind_blob(struct sql_stmt *st, int i, const void *p, size_t n)
{
	sqlite3_bind_blob64(ST(st), i, p, n, SQLITE_TRANSIENT);
}

static int lite_step(struct sql_stmt *st)
{
	struct lite_conn *c = (struct lite_conn *)st->conn;
	return lite_rc(c->db, sqlite3_step(ST(st)));
}

static void lite_reset(struct sql_stmt *st)
{
	sqlite3_reset(ST(st));
}

static bool lite_col_null(struct sql_stmt *st, int i)
{
	return sqlite3_column_type(ST(st), i) == SQLITE_NULL;
}

static int64_t lite_col_int64(struct sql_stmt *st, int i)
{
	return sqlite3_column_int64(ST(st), i);
}

static const char *lite_col_text(struct sql_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(ST(st), i);
	return t ? (const char *)t : "";
}

static size_t lite_col_bytes(struct sql_stmt *st, int i)
{
	return (size_t)sqlite3_column_bytes(ST(st), i);
}

static int lite_exec(struct sql_conn *q, const char *sql)
{
	struct lite_conn *c = (struct lite_conn *)q;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? SQL_DONE : lite_rc(c->db, sqlite3_extended_errcode(c->db));
}

static int64_t lite_changes(struct sql_conn *q)
{
	return sqlite3_changes64(((struct lite_conn *)q)->db);
}

static void lite_reset_all(struct sql_conn *q)
{
	struct lite_conn *c = (struct lite_conn *)q;
	for (size_t i = 0; i < c->n; i++)
		sqlite3_reset(c->stmts[i].st);
}

static bool lite_broken(struct sql_conn *q)
{
	(void)q;
	return false; /* a file: there is no link to lose */
}

static const char *lite_errmsg(struct sql_conn *q)
{
	return sqlite3_errmsg(((struct lite_conn *)q)->db);
}

static void lite_close(struct sql_conn *q)
{
	struct lite_conn *c = (struct lite_conn *)q;
	for (size_t i = 0; i < c->n; i++)
		sqlite3_finalize(c->stmts[i].st);
	free(c); /* the handle belongs to the caller */
}

static const struct sql_driver lite_driver = {
	.engine = SQL_SQLITE, .name = "sqlite",
	.prepare = lite_prepare, .prepare_once = lite_prepare_once, .finalize = lite_finalize, .bind_int64 = lite_bind_int64, .bind_text = lite_bind_text,
	.bind_blob = lite_bind_blob, .step = lite_step, .reset = lite_reset, .col_null = lite_col_null,
	.col_int64 = lite_col_int64, .col_text = lite_col_text, .col_bytes = lite_col_bytes,
	.exec = lite_exec, .changes = lite_changes, .reset_all = lite_reset_all, .broken = lite_broken, .errmsg = lite_errmsg, .close = lite_close,
};

struct sql_conn *sql_sqlite_wrap(struct sqlite3 *db)
{
	struct lite_conn *c = xcalloc(1, sizeof(*c));
	c->head.drv = &lite_driver;
	c->db = db;
	return &c->head;
}
