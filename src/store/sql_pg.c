/* sql_pg.c: the PostgreSQL driver of sql.h, on libpq.
 *
 * Statements are prepared on a connection the first time they are used there
 * (PQprepare, named by their slot), so a new connection after a reconnect prepares
 * them again by itself. Parameters travel as text (integers printed) and blobs as
 * binary; a step runs PQexecPrepared once and then walks the rows of its result.
 * Results come as text: the store reads few columns per row and mostly small ones,
 * and the text form needs no byte-order work. The SQL is SQLite's dialect, changed
 * once at prepare by sql_pg_translate. */
#include "sql.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "log.h"

#define PG_PARAMS 1024 /* the store's largest statement: the junk filter's token lists */

struct pg_stmt {
	struct sql_stmt head;
	const char *sql; /* identity of the static SQL string */
	int slot;
	int nparams;
	char **val; /* nparams each, in the same allocation (PQexecPrepared's arrays) */
	int *len;
	int *fmt;
	char (*num)[24];
	PGresult *res;
	int row, nrows;
};

struct pg_conn {
	struct sql_conn head;
	PGconn *pg;
	struct pg_stmt **stmts; /* prepared so far, in order (named p0, p1, ...) */
	size_t n, cap;
	struct pg_stmt **index; /* open addressing by the SQL string's address */
	size_t icap;            /* a power of two, at least twice n */
	int64_t changes;
	int last_rc;  /* the class of the last failure (what 25P02 stands for) */
	char err[256];
};

static const struct sql_driver pg_driver;
static void pg_reset(struct sql_stmt *st);

char *sql_pg_translate(const char *sql)
{
	size_t n = strlen(sql);
	/* "$NN" for each '?' and " ON CONFLICT DO NOTHING" at most once */
	char *out = xmalloc(n * 4 + 64);
	size_t o = 0;
	int param = 0;
	bool ignore = false;
	const char *p = sql;
	if (strncmp(p, "INSERT OR IGNORE ", 17) == 0) {
		o += (size_t)sprintf(out, "INSERT ");
		p += 17;
		ignore = true;
	}
	const char *returning = NULL;
	while (*p) {
		if (*p == '\'') { /* a literal: copied as it is */
			const char *e = strchr(p + 1, '\'');
			size_t len = e ? (size_t)(e - p) + 1 : strlen(p);
			memcpy(out + o, p, len);
			o += len;
			p += len;
		} else if (*p == '?' && isdigit((unsigned char)p[1])) {
			/* "?NNN": a numbered parameter (SQLite's syntax), used more than once */
			int k = (int)strtol(p + 1, (char **)&p, 10);
			o += (size_t)sprintf(out + o, "$%d", k);
			param = param > k ? param : k;
		} else if (*p == '?') {
			o += (size_t)sprintf(out + o, "$%d", ++param);
			p++;
		} else if (strncmp(p, " COLLATE NOCASE", 15) == 0) {
			p += 15; /* the PostgreSQL schema declares those columns citext */
		} else if (ignore && returning == NULL && strncmp(p, " RETURNING ", 11) == 0) {
			returning = p;
			o += (size_t)sprintf(out + o, " ON CONFLICT DO NOTHING");
		} else {
			out[o++] = *p++;
		}
	}
	if (ignore && returning == NULL)
		o += (size_t)sprintf(out + o, " ON CONFLICT DO NOTHING");
	out[o] = '\0';
	return out;
}

static int pg_classify(struct pg_conn *c, PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL || PQstatus(c->pg) != CONNECTION_OK)
		return SQL_ETEMP;
	if (strcmp(state, "23505") == 0)
		return SQL_ECONSTRAINT;
	/* 25P02: the transaction failed before (every statement fails until it is rolled
	 * back to a savepoint): the cause is that first failure, kept in last_rc */
	if (strcmp(state, "25P02") == 0)
		return c->last_rc == SQL_ETEMP ? SQL_ETEMP : SQL_ERR;
	/* 08: connection; 40: serialization failure, deadlock; 53: out of resources (disk
	 * full, too many connections); 57: admin shutdown, statement timeout; 55P03: lock */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "40", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    strncmp(state, "57", 2) == 0 || strcmp(state, "55P03") == 0)
		return SQL_ETEMP;
	return SQL_ERR;
}

static int pg_fail(struct pg_conn *c, PGresult *res)
{
	int rc = pg_classify(c, res);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL || strcmp(state, "25P02") != 0) {
		/* the error text of the cause, not "current transaction is aborted" */
		const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(c->pg);
		snprintf(c->err, sizeof(c->err), "%s", msg && *msg ? msg : "connection lost");
		size_t l = strlen(c->err);
		while (l > 0 && (c->err[l - 1] == '\n' || c->err[l - 1] == ' '))
			c->err[--l] = '\0';
	}
	c->last_rc = rc;
	return rc;
}

static size_t stmt_slot(const struct pg_conn *c, const char *sql)
{
	size_t h = ((uintptr_t)sql >> 3) * 0x9E3779B97F4A7C15u;
	for (size_t i = h & (c->icap - 1);; i = (i + 1) & (c->icap - 1))
		if (c->index[i] == NULL || c->index[i]->sql == sql)
			return i;
}

/* Adds a prepared statement to the list and the index (growing both). */
static void stmt_add(struct pg_conn *c, struct pg_stmt *ps)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->stmts = xrealloc(c->stmts, c->cap * sizeof(*c->stmts));
	}
	c->stmts[c->n++] = ps;
	if (2 * c->n > c->icap) {
		free(c->index);
		c->icap = c->icap ? c->icap * 2 : 128;
		c->index = xcalloc(c->icap, sizeof(*c->index));
		for (size_t i = 0; i < c->n; i++)
			c->index[stmt_slot(c, c->stmts[i]->sql)] = c->stmts[i];
	} else {
		c->index[stmt_slot(c, ps->sql)] = ps;
	}
}

/* Prepares sql on the server as statement p<slot> (slot >= 0) or as the unnamed one
 * (slot -1: a statement used once, replaced by the next unnamed one). */
static struct pg_stmt *pg_new_stmt(struct pg_conn *c, const char *sql, int slot)
{
	char *text = sql_pg_translate(sql);
	char name[16] = "";
	if (slot >= 0)
		snprintf(name, sizeof(name), "p%d", slot);
	PGresult *res = PQprepare(c->pg, name, text, 0, NULL);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok) {
		pg_fail(c, res);
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		/* class 42 (syntax error or access rule violation) is a bug in the store's SQL;
		 * anything else (a transaction already failed: 25P02, a lost connection) is the
		 * failure of this call */
		bool bug = state != NULL && strncmp(state, "42", 2) == 0;
		log_error("event=store_error what=prepare pg=\"%s\" sql=\"%.80s\"", c->err, text);
		PQclear(res);
		free(text);
		if (bug)
			abort(); /* an SQL bug */
		return NULL;
	}
	PQclear(res);
	int params = 0; /* the highest $n (the store's SQL has no '$' of its own) */
	for (const char *p = text; (p = strchr(p, '$')) != NULL; p++)
		params = params > atoi(p + 1) ? params : atoi(p + 1);
	free(text);
	if (params > PG_PARAMS)
		abort(); /* raise PG_PARAMS */
	/* one allocation: the statement, then its parameters' arrays */
	size_t np = params > 0 ? (size_t)params : 1;
	struct pg_stmt *ps = xcalloc(1, sizeof(*ps) + np * (sizeof(char *) + 2 * sizeof(int) + 24));
	ps->val = (char **)(ps + 1);
	ps->num = (char (*)[24])(ps->val + np);
	ps->len = (int *)(ps->num + np);
	ps->fmt = ps->len + np;
	ps->head.drv = &pg_driver;
	ps->head.conn = &c->head;
	ps->sql = sql;
	ps->slot = slot;
	ps->nparams = params;
	return ps;
}

static struct sql_stmt *pg_prepare(struct sql_conn *q, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)q;
	if (c->icap > 0) {
		struct pg_stmt *ps = c->index[stmt_slot(c, sql)];
		if (ps != NULL) {
			pg_reset(&ps->head);
			for (int k = 0; k < ps->nparams; k++)
				ps->val[k] = NULL;
			return &ps->head;
		}
	}
	struct pg_stmt *ps = pg_new_stmt(c, sql, (int)c->n);
	if (ps == NULL)
		return NULL;
	stmt_add(c, ps);
	return &ps->head;
}

static struct sql_stmt *pg_prepare_once(struct sql_conn *q, const char *sql)
{
	struct pg_stmt *ps = pg_new_stmt((struct pg_conn *)q, sql, -1);
	return ps ? &ps->head : NULL;
}

#define PS(x) ((struct pg_stmt *)(x))

static void pg_bind_int64(struct sql_stmt *st, int i, int64_t v)
{
	struct pg_stmt *ps = PS(st);
	snprintf(ps->num[i - 1], sizeof(ps->num[0]), "%" PRId64, v);
	ps->val[i - 1] = ps->num[i - 1];
	ps->len[i - 1] = 0;
	ps->fmt[i - 1] = 0;
}

static void pg_bind_text(struct sql_stmt *st, int i, const char *s)
{
	struct pg_stmt *ps = PS(st);
	ps->val[i - 1] = (char *)s; /* used before the caller's next statement, as SQLite's copy */
	ps->len[i - 1] = 0;
	ps->fmt[i - 1] = 0;
}

static void pg_bind_blob(struct sql_stmt *st, int i, const void *p, size_t n)
{
	struct pg_stmt *ps = PS(st);
	ps->val[i - 1] = (char *)p;
	ps->len[i - 1] = (int)n;
	ps->fmt[i - 1] = 1;
}

static int pg_step(struct sql_stmt *st)
{
	struct pg_stmt *ps = PS(st);
	struct pg_conn *c = (struct pg_conn *)st->conn;
	if (ps->res == NULL) {
		char name[16] = "";
		if (ps->slot >= 0)
			snprintf(name, sizeof(name), "p%d", ps->slot);
		ps->res = PQexecPrepared(c->pg, name, ps->nparams, (const char *const *)ps->val, ps->len,
					 ps->fmt, 0);
		ExecStatusType es = PQresultStatus(ps->res);
		if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
			int rc = pg_fail(c, ps->res);
			PQclear(ps->res);
			ps->res = NULL;
			return rc;
		}
		const char *t = PQcmdTuples(ps->res);
		c->changes = t && *t ? strtoll(t, NULL, 10) : 0;
		ps->nrows = PQntuples(ps->res);
		ps->row = -1;
	}
	if (ps->row + 1 < ps->nrows) {
		ps->row++;
		return SQL_ROW;
	}
	ps->row = ps->nrows;
	return SQL_DONE;
}

static void pg_reset(struct sql_stmt *st)
{
	struct pg_stmt *ps = PS(st);
	PQclear(ps->res);
	ps->res = NULL;
}

static bool pg_col_null(struct sql_stmt *st, int i)
{
	return PQgetisnull(PS(st)->res, PS(st)->row, i);
}

static int64_t pg_col_int64(struct sql_stmt *st, int i)
{
	const char *v = PQgetvalue(PS(st)->res, PS(st)->row, i);
	if (v[0] == 't' || v[0] == 'f') /* a boolean expression (EXISTS, comparisons) */
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct sql_stmt *st, int i)
{
	return PQgetvalue(PS(st)->res, PS(st)->row, i);
}

static size_t pg_col_bytes(struct sql_stmt *st, int i)
{
	return (size_t)PQgetlength(PS(st)->res, PS(st)->row, i);
}

static int pg_exec(struct sql_conn *q, const char *sql)
{
	struct pg_conn *c = (struct pg_conn *)q;
	PGresult *res = PQexec(c->pg, sql);
	ExecStatusType es = PQresultStatus(res);
	int rc = es == PGRES_COMMAND_OK || es == PGRES_TUPLES_OK ? SQL_DONE : pg_fail(c, res);
	PQclear(res);
	return rc;
}

static int64_t pg_changes(struct sql_conn *q)
{
	return ((struct pg_conn *)q)->changes;
}

static void pg_reset_all(struct sql_conn *q)
{
	struct pg_conn *c = (struct pg_conn *)q;
	for (size_t i = 0; i < c->n; i++)
		pg_reset(&c->stmts[i]->head);
}

static bool pg_broken(struct sql_conn *q)
{
	return PQstatus(((struct pg_conn *)q)->pg) != CONNECTION_OK;
}

static const char *pg_errmsg(struct sql_conn *q)
{
	return ((struct pg_conn *)q)->err;
}

static void pg_finalize(struct sql_stmt *st)
{
	struct pg_stmt *ps = PS(st);
	assert(ps->slot < 0); /* a cached statement lives as long as its connection */
	PQclear(ps->res);
	free(ps);
}

static void pg_close(struct sql_conn *q)
{
	struct pg_conn *c = (struct pg_conn *)q;
	for (size_t i = 0; i < c->n; i++) {
		PQclear(c->stmts[i]->res);
		free(c->stmts[i]);
	}
	free(c->stmts);
	free(c->index);
	PQfinish(c->pg);
	free(c);
}

static const struct sql_driver pg_driver = {
	.engine = SQL_PG, .name = "postgresql",
	.prepare = pg_prepare, .prepare_once = pg_prepare_once, .finalize = pg_finalize, .bind_int64 = pg_bind_int64, .bind_text = pg_bind_text,
	.bind_blob = pg_bind_blob, .step = pg_step, .reset = pg_reset, .col_null = pg_col_null,
	.col_int64 = pg_col_int64, .col_text = pg_col_text, .col_bytes = pg_col_bytes,
	.exec = pg_exec, .changes = pg_changes, .reset_all = pg_reset_all, .broken = pg_broken, .errmsg = pg_errmsg, .close = pg_close,
};

static void pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* "relation already exists, skipping" and the like: not for the log */
}

struct sql_conn *sql_pg_connect(const char *conninfo, char **error_r)
{
	PGconn *pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		const char *m = PQerrorMessage(pg);
		size_t l = strlen(m);
		while (l > 0 && (m[l - 1] == '\n' || m[l - 1] == ' '))
			l--;
		*error_r = xasprintf("cannot connect to PostgreSQL: %.*s", (int)l, m);
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, pg_notice, NULL);
	struct pg_conn *c = xcalloc(1, sizeof(*c));
	c->head.drv = &pg_driver;
	c->pg = pg;
	return &c->head;
}

bool sql_pg_ok(struct sql_conn *q)
{
	return PQstatus(((struct pg_conn *)q)->pg) == CONNECTION_OK &&
	       PQtransactionStatus(((struct pg_conn *)q)->pg) == PQTRANS_IDLE;
}
