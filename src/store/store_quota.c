/* store_quota.c: an account's usage and limit for the checks before a delivery
 * (SMTP RCPT, the pipeline); on either backend (sql.h). Usage itself is kept by the
 * writes that change it (store_acct_charge, store_rows.c). */
#include "store_int.h"

int store_quota_get(struct store *s, int64_t account_id, uint64_t *usage_r, uint64_t *limit_r,
		    uint64_t *messages_r, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT usage, quota, messages FROM accounts WHERE id = ?");
	int rc = SQL_ERR, ret = 1;
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		rc = sql_step(st);
	}
	if (rc == SQL_ROW) {
		if (usage_r)
			*usage_r = (uint64_t)sql_col_int64(st, 0);
		if (limit_r)
			*limit_r = (uint64_t)sql_col_int64(st, 1);
		if (messages_r)
			*messages_r = (uint64_t)sql_col_int64(st, 2);
	} else if (rc == SQL_DONE) {
		*error_r = "no such account";
		ret = STORE_ENOTFOUND;
	} else {
		ret = store_sql_fail(q, rc, "quota_get", error_r);
	}
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	return ret;
}

int store_quota_check(struct store *s, int64_t account_id, uint64_t size, const char **error_r)
{
	uint64_t usage, limit;
	int r = store_quota_get(s, account_id, &usage, &limit, NULL, error_r);
	if (r < 0)
		return r;
	if (limit == 0)
		return 1;
	if (size == 0 ? usage >= limit : (usage > limit || size > limit - usage)) {
		*error_r = "mailbox is over quota";
		return STORE_EOVERQUOTA;
	}
	return 1;
}
