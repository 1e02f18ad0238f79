/* store_sieve_vacation.c: the out-of-office settings (sieve_vacation, JMAP
 * VacationResponse) and the duplicate memory (sieve_duplicates) that the vacation
 * action and the duplicate test share (store_sieve.h). On sql.h, as store_sieve.c:
 * the same code on SQLite and PostgreSQL. The duplicate check-and-set is one upsert
 * that changes nothing while an entry is unexpired, so two nodes delivering at once
 * never both see "new". */
#include "store.h"
#include "store_int.h"

#include <string.h>

#define VACATION_TEXT_MAX (64 * 1024)
#define DUP_PRUNE 100

static const char *col_text_or_null(struct arena *a, struct sql_stmt *st, int i)
{
	return sql_col_null(st, i) ? NULL : arena_strdup(a, sql_col_text(st, i));
}

int store_sieve_vacation_get(struct store *s, struct arena *a, int64_t account, struct store_sieve_vacation *v_r,
			     const char **error_r)
{
	memset(v_r, 0, sizeof(*v_r));
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT enabled, from_date, to_date, subject, text_body, html_body"
					     " FROM sieve_vacation WHERE account_id = ?");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account);
		rc = sql_step(st);
		if (rc == SQL_ROW) {
			v_r->enabled = sql_col_int64(st, 0) != 0;
			v_r->from_date = sql_col_int64(st, 1);
			v_r->to_date = sql_col_int64(st, 2);
			v_r->subject = col_text_or_null(a, st, 3);
			v_r->text_body = col_text_or_null(a, st, 4);
			v_r->html_body = col_text_or_null(a, st, 5);
		}
		sql_reset(st);
	}
	int ret = rc == SQL_ROW || rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "sieve_vacation_get", error_r);
	store_sql_put(s, q, db);
	return ret;
}

struct vacation_req {
	int64_t account;
	const struct store_sieve_vacation *v;
};

static int apply_vacation(struct store *s, struct store_op *op)
{
	(void)s;
	struct vacation_req *r = op->req;
	int ret = store_sieve_begin_write(op, r->account, "sieve_vacation");
	if (ret < 0)
		return ret;
	struct sql_stmt *st = sql_prepare(
		op->q, "INSERT INTO sieve_vacation(account_id, enabled, from_date, to_date, subject, text_body,"
		       " html_body) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(account_id) DO UPDATE SET"
		       " enabled = excluded.enabled, from_date = excluded.from_date, to_date = excluded.to_date,"
		       " subject = excluded.subject, text_body = excluded.text_body, html_body = excluded.html_body");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account);
		sql_bind_int64(st, 2, r->v->enabled ? 1 : 0);
		sql_bind_int64(st, 3, r->v->from_date);
		sql_bind_int64(st, 4, r->v->to_date);
		sql_bind_text(st, 5, r->v->subject);
		sql_bind_text(st, 6, r->v->text_body);
		sql_bind_text(st, 7, r->v->html_body);
	}
	if ((ret = store_op_step(op, st, "sieve_vacation")) < 0)
		return ret;
	int64_t state = store_sieve_next_state(op->q, r->account);
	return state < 0 ? store_op_sql_fail(op, (int)state, "sieve_vacation") : 1;
}

int store_sieve_vacation_set(struct store *s, int64_t account, const struct store_sieve_vacation *v,
			     const char **error_r)
{
	const char *texts[] = { v->subject, v->text_body, v->html_body };
	for (size_t i = 0; i < 3; i++) {
		if (texts[i] != NULL && strlen(texts[i]) > VACATION_TEXT_MAX) {
			*error_r = "vacation text over 64 KiB";
			return STORE_EINVAL;
		}
	}
	if (v->from_date > 0 && v->to_date > 0 && v->to_date < v->from_date) {
		*error_r = "vacation ends before it begins";
		return STORE_EINVAL;
	}
	struct vacation_req req = { .account = account, .v = v };
	return store_sql_write(s, store_op_new(NULL, apply_vacation, NULL, &req, NULL), error_r);
}

struct dup_req {
	int64_t account;
	const char *key;
	int64_t now, seconds;
};

static int apply_duplicate(struct store *s, struct store_op *op)
{
	(void)s;
	struct dup_req *r = op->req;
	struct sql_stmt *st = sql_prepare(op->q, "DELETE FROM sieve_duplicates WHERE account_id = ?1 AND key IN"
						 " (SELECT key FROM sieve_duplicates WHERE account_id = ?1"
						 " AND expires <= ?2 AND key != ?3 LIMIT ?4)");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account);
		sql_bind_int64(st, 2, r->now);
		sql_bind_text(st, 3, r->key);
		sql_bind_int64(st, 4, DUP_PRUNE);
	}
	int ret = store_op_step(op, st, "sieve_duplicate");
	if (ret < 0)
		return ret;
	/* check and set in one statement: an entry that has not expired stays and
	 * changes nothing (0 rows), so two nodes delivering at once never both get 1 */
	st = sql_prepare(op->q, "INSERT INTO sieve_duplicates(account_id, key, expires) VALUES(?1, ?2, ?3)"
				" ON CONFLICT(account_id, key) DO UPDATE SET expires = excluded.expires"
				" WHERE sieve_duplicates.expires <= ?4");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account);
		sql_bind_text(st, 2, r->key);
		sql_bind_int64(st, 3, r->now + r->seconds);
		sql_bind_int64(st, 4, r->now);
	}
	if ((ret = store_op_step(op, st, "sieve_duplicate")) < 0)
		return ret;
	return sql_changes(op->q) > 0 ? 1 : 0;
}

int store_sieve_duplicate(struct store *s, int64_t account, const char *key, time_t now, int64_t seconds,
			  const char **error_r)
{
	if (seconds < 0) {
		*error_r = "negative period";
		return STORE_EINVAL;
	}
	struct dup_req req = { .account = account, .key = key, .now = (int64_t)now, .seconds = seconds };
	return store_sql_write(s, store_op_new(NULL, apply_duplicate, NULL, &req, NULL), error_r);
}

int store_sieve_duplicate_seen(struct store *s, int64_t account, const char *key, time_t now, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM sieve_duplicates WHERE account_id = ? AND key = ?"
					     " AND expires > ?");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account);
		sql_bind_text(st, 2, key);
		sql_bind_int64(st, 3, (int64_t)now);
		rc = sql_step(st);
		sql_reset(st);
	}
	int ret = rc == SQL_ROW ? 1 : rc == SQL_DONE ? 0 : store_sql_fail(q, rc, "sieve_duplicate_seen", error_r);
	store_sql_put(s, q, db);
	return ret;
}
