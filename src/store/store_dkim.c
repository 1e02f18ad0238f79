/* store_dkim.c: the DKIM keys in the shared database (store_dkim.h, table dkim_keys of
 * store_pg.c). A key is added and retired in a transaction of its own; a retired key
 * keeps its row (active = 0), so its selector is never handed out again for that
 * domain. The SQLite backend has no such table: its keys are files (dkim_key.h). */
#include "store_int.h"

#include <string.h>

bool store_dkim_shared(const struct store *s)
{
	return s->pg_conninfo != NULL;
}

static int refuse_files(const char **error_r)
{
	*error_r = "this store keeps no DKIM keys (they are files under DIR/dkim)";
	return STORE_EINVAL;
}

int store_dkim_keys(struct store *s, struct arena *a, const char *domain, struct store_dkim_key **keys_r, size_t *n_r,
		    const char **error_r)
{
	*keys_r = NULL;
	*n_r = 0;
	if (!store_dkim_shared(s))
		return refuse_files(error_r);
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT lower(domain), selector, algorithm, private_key, created FROM dkim_keys"
					     " WHERE active = 1 AND (CAST(? AS text) IS NULL OR domain = ?) ORDER BY 1, 2");
	int rc = SQL_ERR;
	size_t n = 0, cap = 8;
	struct store_dkim_key *v = arena_alloc(a, cap * sizeof(*v));
	if (st != NULL) {
		sql_bind_text(st, 1, domain);
		sql_bind_text(st, 2, domain);
		while ((rc = sql_step(st)) == SQL_ROW) {
			if (n == cap) {
				struct store_dkim_key *nv = arena_alloc(a, 2 * cap * sizeof(*v));
				memcpy(nv, v, n * sizeof(*v));
				v = nv;
				cap *= 2;
			}
			v[n++] = (struct store_dkim_key){
				.domain = arena_strdup(a, sql_col_text(st, 0)),
				.selector = arena_strdup(a, sql_col_text(st, 1)),
				.algorithm = arena_strdup(a, sql_col_text(st, 2)),
				.pem = arena_strdup(a, sql_col_text(st, 3)),
				.created = sql_col_int64(st, 4),
			};
		}
		sql_reset(st);
	}
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "dkim_keys", error_r);
	store_sql_put(s, q, db);
	if (ret > 0) {
		*keys_r = v;
		*n_r = n;
	}
	return ret;
}

static int apply_key_add(struct store *s, struct store_op *op)
{
	(void)s;
	const struct store_dkim_key *k = op->req;
	struct sql_stmt *st = sql_prepare(op->q, "INSERT INTO dkim_keys(domain, selector, algorithm, private_key, created)"
						 " VALUES(?, ?, ?, ?, ?)");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "dkim_key_add");
	sql_bind_text(st, 1, k->domain);
	sql_bind_text(st, 2, k->selector);
	sql_bind_text(st, 3, k->algorithm);
	sql_bind_text(st, 4, k->pem);
	sql_bind_int64(st, 5, k->created);
	int rc = sql_step_done(st);
	if (rc == SQL_ECONSTRAINT)
		return store_op_fail(op, STORE_EEXISTS, "%s has a DKIM key %s", k->domain, k->selector);
	return rc < 0 ? store_op_sql_fail(op, rc, "dkim_key_add") : 1;
}

int store_dkim_key_add(struct store *s, const struct store_dkim_key *k, const char **error_r)
{
	if (!store_dkim_shared(s))
		return refuse_files(error_r);
	return store_sql_write(s, store_op_new(NULL, apply_key_add, NULL, (void *)k, NULL), error_r);
}

struct retire_req {
	const char *domain, *selector;
	int found;
};

static int apply_retire(struct store *s, struct store_op *op)
{
	(void)s;
	struct retire_req *r = op->req;
	struct sql_stmt *st =
		sql_prepare(op->q, "UPDATE dkim_keys SET active = 0 WHERE domain = ? AND selector = ? AND active = 1");
	if (st != NULL) {
		sql_bind_text(st, 1, r->domain);
		sql_bind_text(st, 2, r->selector);
	}
	if (store_op_step(op, st, "dkim_key_retire") < 0)
		return op->result;
	r->found = sql_changes(op->q) > 0;
	return 1;
}

int store_dkim_key_retire(struct store *s, const char *domain, const char *selector, const char **error_r)
{
	if (!store_dkim_shared(s))
		return refuse_files(error_r);
	struct retire_req r = { domain, selector, 0 };
	int ret = store_sql_write(s, store_op_new(NULL, apply_retire, NULL, &r, NULL), error_r);
	return ret < 0 ? ret : r.found;
}

int store_dkim_version(struct store *s, uint64_t *version_r, const char **error_r)
{
	*version_r = 0;
	if (!store_dkim_shared(s))
		return refuse_files(error_r);
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st =
		sql_prepare(q, "SELECT COUNT(*), COALESCE(SUM(id), 0), COALESCE(MAX(id), 0) FROM dkim_keys WHERE active = 1");
	int rc = SQL_ERR;
	if (st != NULL) {
		rc = sql_step(st);
		if (rc == SQL_ROW)
			*version_r = (uint64_t)sql_col_int64(st, 0) * 0x9E3779B97F4A7C15ULL ^
				     (uint64_t)sql_col_int64(st, 1) << 20 ^ (uint64_t)sql_col_int64(st, 2);
		sql_reset(st);
	}
	int ret = rc == SQL_ROW ? 1 : store_sql_fail(q, rc, "dkim_version", error_r);
	store_sql_put(s, q, db);
	return ret;
}
