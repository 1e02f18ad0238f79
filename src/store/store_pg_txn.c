/* store_pg_txn.c: running write ops on the PostgreSQL backend (docs/cluster.md).
 *
 * Two ways, as on SQLite: store_pg_write runs one op in a transaction of its own on
 * the calling thread (store_sql_write: accounts, domains, aliases), store_pg_txn runs
 * a batch the committer took from its queue (mailboxes and what store_commit.c
 * queues) in one transaction with a SAVEPOINT per op, so that one op's failure never
 * undoes another's and a batch costs one commit. Only ops whose apply uses nothing but
 * op->q (sql.h) get here: op_submit refuses the others. */
#include "store_int.h"

#include <stdlib.h>

int store_op_sql_fail(struct store_op *op, int rc, const char *what)
{
	const char *err = NULL;
	int code = store_sql_fail(op->q, rc, what, &err);
	return store_op_fail(op, code, "%s", err);
}

int store_op_step(struct store_op *op, struct sql_stmt *st, const char *what)
{
	int rc = st ? sql_step_done(st) : SQL_ERR;
	return rc < 0 ? store_op_sql_fail(op, rc, what) : 1;
}

int store_pg_write(struct store *s, struct store_op *op, const char **error_r)
{
	struct sql_conn *q = store_pg_get(s, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	op->q = q;
	op->result = 0;
	int rc = sql_begin(q);
	int r = rc < 0 ? store_sql_fail(q, rc, "begin", error_r) : op->apply(s, op);
	if (rc > 0 && r >= 0 && (rc = store_pg_notify(s, q, op)) < 0)
		r = store_sql_fail(q, rc, "notify", error_r);
	if (rc > 0 && r >= 0) {
		rc = sql_commit(q);
		if (rc < 0)
			r = store_sql_fail(q, rc, "commit", error_r);
		else
			store_events_publish(s, op->events, op->nevents);
	} else if (rc > 0) {
		sql_rollback(q);
		*error_r = store_set_error(op->error ? op->error : "store error");
	}
	store_pg_put(s, q);
	return r;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Locks the rows of every account the batch's ops named (store_op_lock), in id order:
 * two nodes' batches then take their common accounts in the same order and one waits
 * for the other, where taking them op by op could deadlock (PostgreSQL would abort one
 * after deadlock_timeout, a second). SQL_DONE or a negative sql_rc. */
static int lock_accounts(struct sql_conn *q, struct store_op *batch)
{
	size_t n = 0;
	for (struct store_op *op = batch; op != NULL; op = op->next)
		n += op->result < 0 ? 0 : op->nlocks;
	if (n == 0)
		return SQL_DONE;
	int64_t *ids = xmalloc(n * sizeof(*ids));
	n = 0;
	for (struct store_op *op = batch; op != NULL; op = op->next)
		for (size_t i = 0; op->result >= 0 && i < op->nlocks; i++)
			ids[n++] = op->locks[i];
	qsort(ids, n, sizeof(*ids), cmp_id);
	struct buf list = { 0 };
	buf_putc(&list, '{');
	for (size_t i = 0; i < n; i++)
		if (i == 0 || ids[i] != ids[i - 1])
			buf_printf(&list, "%s%lld", i ? "," : "", (long long)ids[i]);
	buf_putc(&list, '}');
	free(ids);
	struct sql_stmt *st = sql_prepare(q, "SELECT id FROM accounts WHERE id = ANY(CAST(? AS bigint[]))"
					  " ORDER BY id FOR UPDATE");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_text(st, 1, buf_str(&list));
		while ((rc = sql_step(st)) == SQL_ROW)
			;
		sql_reset(st);
	}
	buf_free(&list);
	return rc;
}

void store_pg_txn(struct store *s, struct store_op *batch)
{
	const char *err = NULL;
	struct sql_conn *q = store_pg_get(s, &err);
	int rc = q != NULL ? sql_begin(q) : SQL_ETEMP;
	int code = 0; /* a failure of the transaction itself: every op left fails with it */
	if (rc < 0)
		code = q != NULL ? store_sql_fail(q, rc, "begin", &err) : STORE_EUNAVAIL;
	if (code == 0 && (rc = lock_accounts(q, batch)) < 0)
		code = store_sql_fail(q, rc, "lock", &err);
	size_t applied = 0;
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		if (op->result < 0) /* prepare failed */
			continue;
		if (code == 0 && (rc = sql_exec(q, "SAVEPOINT op")) < 0)
			code = store_sql_fail(q, rc, "savepoint", &err);
		if (code != 0) {
			store_op_fail(op, code, "%s", err);
			continue;
		}
		op->result = 0;
		op->error = NULL;
		op->q = q;
		int r = op->apply(s, op);
		sql_reset_all(q);
		op->result = r;
		if (r < 0) {
			store_op_rolled_back(op, r);
			if ((rc = sql_exec(q, "ROLLBACK TO SAVEPOINT op")) < 0)
				code = store_sql_fail(q, rc, "rollback", &err);
		} else {
			applied++;
		}
		if (code == 0 && (rc = sql_exec(q, "RELEASE SAVEPOINT op")) < 0)
			code = store_sql_fail(q, rc, "release", &err);
	}
	/* the other nodes hear of the changes when (and only if) they commit */
	if (code == 0 && (rc = store_pg_notify(s, q, batch)) < 0)
		code = store_sql_fail(q, rc, "notify", &err);
	bool committed = false;
	if (code == 0) {
		rc = sql_commit(q);
		committed = rc > 0;
		if (!committed)
			code = store_sql_fail(q, rc, "commit", &err);
		atomic_fetch_add(&s->st_commits, 1);
	}
	atomic_fetch_add(&s->st_ops, applied);
	for (struct store_op *op = batch; op != NULL; op = op->next) {
		if (!committed && op->result >= 0)
			store_op_fail(op, code, "%s", err);
		op->committed = committed && op->result >= 0;
	}
	if (q != NULL)
		store_pg_put(s, q);
}

int store_sql_lock_account(struct sql_conn *q, enum store_lock what, int64_t account_id)
{
	if (sql_engine(q) != SQL_PG)
		return SQL_DONE;
	/* the two-key form: (7342000 + what, the account folded into 31 bits); a
	 * collision only serializes two accounts' writes */
	struct sql_stmt *st = sql_prepare(q, "SELECT pg_advisory_xact_lock(CAST(? AS INTEGER), CAST(? AS INTEGER))");
	if (st == NULL)
		return SQL_ERR;
	sql_bind_int64(st, 1, 7342000 + (int64_t)what);
	sql_bind_int64(st, 2, (int64_t)((uint64_t)account_id % 2147483647u));
	return sql_step_done(st);
}
