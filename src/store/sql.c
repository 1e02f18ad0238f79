/* sql.c: what both SQL drivers share (sql.h): transactions and step-to-done. */
#include "sql.h"

#include <assert.h>

int sql_begin(struct sql_conn *q)
{
	assert(!q->in_tx);
	int r = sql_exec(q, "BEGIN");
	q->in_tx = r > 0;
	return r;
}

int sql_commit(struct sql_conn *q)
{
	assert(q->in_tx);
	int r = sql_exec(q, "COMMIT");
	if (r < 0)
		sql_rollback(q);
	q->in_tx = false;
	return r;
}

void sql_rollback(struct sql_conn *q)
{
	/* SQLite ends a transaction itself on some errors; a second ROLLBACK only fails */
	if (q->in_tx)
		(void)sql_exec(q, "ROLLBACK");
	q->in_tx = false;
}

int sql_step_done(struct sql_stmt *st)
{
	int r = sql_step(st);
	sql_reset(st);
	return r < 0 ? r : SQL_DONE;
}
