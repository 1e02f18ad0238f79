/* store_admin.c: what the administration needs of the store beyond accounts and
 * aliases: the admin flag of an account, and removing a domain.
 *
 * The flag lives in a table of its own (`admins`, one row per admin account), so
 * that databases made before it need no ALTER; no row means "not an admin". Servers
 * read it on every admin request (a primary-key read), so a change takes effect at
 * once, for open sessions too. Each account's last login (`last_logins`) is a table
 * of its own for the same reason; the server writes it at most hourly per account. A domain is removed only when nothing uses it any
 * more: no account and no alias (catch-all included) in it. Everything here speaks
 * sql.h, so it runs on either backend (docs/architecture.md "Store backends"). */
#include "store_int.h"

#include <string.h>

struct admin_req {
	const char *address; /* normalized account address, or a domain name */
	bool on;
};

/* One int64 of the first row of a statement with one text or int parameter:
 * >= 0 (0 when no row), or a negative sql_rc. */
static int64_t one_int(struct sql_conn *q, const char *sql, const char *text, int64_t num)
{
	struct sql_stmt *st = sql_prepare(q, sql);
	if (st == NULL)
		return SQL_ERR;
	if (text != NULL)
		sql_bind_text(st, 1, text);
	else
		sql_bind_int64(st, 1, num);
	int rc = sql_step(st);
	int64_t v = rc == SQL_ROW ? sql_col_int64(st, 0) : rc < 0 ? rc : 0;
	sql_reset(st);
	return v;
}

static int op_fail_sql(struct store_op *op, int64_t rc, const char *what)
{
	const char *err = NULL;
	int code = store_sql_fail(op->q, (int)rc, what, &err);
	return store_op_fail(op, code, "%s", err);
}

static int apply_set_admin(struct store *s, struct store_op *op)
{
	(void)s;
	struct admin_req *r = op->req;
	int64_t id = one_int(op->q, "SELECT id FROM accounts WHERE address = ?", r->address, 0);
	if (id < 0)
		return op_fail_sql(op, id, "set_admin");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %s", r->address);
	struct sql_stmt *st = sql_prepare(op->q, r->on ? "INSERT OR IGNORE INTO admins(account_id) VALUES(?)"
						       : "DELETE FROM admins WHERE account_id = ?");
	if (st == NULL)
		return op_fail_sql(op, SQL_ERR, "set_admin");
	sql_bind_int64(st, 1, id);
	int rc = sql_step_done(st);
	return rc < 0 ? op_fail_sql(op, rc, "set_admin") : 1;
}

int store_account_set_admin(struct store *s, const char *address, bool on, const char **error_r)
{
	struct arena *a = arena_new();
	struct admin_req req = { .on = on };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_sql_write(s, store_op_new(NULL, apply_set_admin, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

int store_account_is_admin(struct store *s, int64_t account_id, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int64_t v = one_int(q, "SELECT 1 FROM admins d JOIN accounts a ON a.id = d.account_id"
			       " WHERE d.account_id = ?", NULL, account_id);
	int ret = v < 0 ? store_sql_fail(q, (int)v, "account_is_admin", error_r) : v > 0;
	store_sql_put(s, q, db);
	return ret;
}

int store_admin_list(struct store *s, struct arena *a, int64_t **ids_r, size_t *n_r, const char **error_r)
{
	size_t n = 0, cap = 8;
	int64_t *v = arena_alloc(a, cap * sizeof(*v));
	*ids_r = v;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT account_id FROM admins ORDER BY account_id");
	int rc = st ? SQL_ROW : SQL_ERR;
	while (st != NULL && (rc = sql_step(st)) == SQL_ROW) {
		if (n == cap) {
			int64_t *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n++] = sql_col_int64(st, 0);
	}
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "admin_list", error_r);
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	*ids_r = v;
	*n_r = n;
	return ret;
}

static int apply_domain_del(struct store *s, struct store_op *op)
{
	(void)s;
	struct admin_req *r = op->req;
	int64_t id = one_int(op->q, "SELECT id FROM domains WHERE name = ?", r->address, 0);
	if (id < 0)
		return op_fail_sql(op, id, "domain_del");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no domain %s", r->address);
	int64_t accounts = one_int(op->q, "SELECT count(*) FROM accounts WHERE domain_id = ?", NULL, id);
	/* aliases name their domain only in the address: "x@d" or the catch-all "@d" */
	char esc[STORE_ADDRESS_MAX * 2 + 1];
	size_t k = 0;
	for (const char *p = r->address; *p != '\0' && k + 2 < sizeof(esc); p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			esc[k++] = '\\';
		esc[k++] = *p;
	}
	esc[k] = '\0';
	int64_t aliases = one_int(op->q, "SELECT count(*) FROM aliases WHERE address LIKE '%@' || ? ESCAPE '\\'",
				  esc, 0);
	if (accounts < 0 || aliases < 0)
		return op_fail_sql(op, accounts < 0 ? accounts : aliases, "domain_del");
	if (accounts > 0 || aliases > 0)
		return store_op_fail(op, STORE_ENOTALLOWED,
				     "domain %s still has %lld accounts and %lld aliases: remove them first",
				     r->address, (long long)accounts, (long long)aliases);
	struct sql_stmt *st = sql_prepare(op->q, "DELETE FROM domains WHERE id = ?");
	if (st == NULL)
		return op_fail_sql(op, SQL_ERR, "domain_del");
	sql_bind_int64(st, 1, id);
	int rc = sql_step_done(st);
	return rc < 0 ? op_fail_sql(op, rc, "domain_del") : 1;
}

int store_domain_del(struct store *s, const char *domain, const char **error_r)
{
	struct arena *a = arena_new();
	struct admin_req req = { 0 };
	const char *norm;
	int r = store_address_normalize(a, domain != NULL ? arena_printf(a, "x@%s", domain) : "", &norm, error_r);
	if (r < 0) {
		*error_r = "invalid domain name";
	} else {
		req.address = strchr(norm, '@') + 1;
		r = store_sql_write(s, store_op_new(NULL, apply_domain_del, NULL, &req, NULL), error_r);
	}
	arena_free(&a);
	return r;
}

struct last_login_req {
	int64_t account_id, at;
	const char *proto, *ip;
};

static int apply_last_login(struct store *s, struct store_op *op)
{
	(void)s;
	struct last_login_req *r = op->req;
	struct sql_stmt *st = sql_prepare(op->q, "INSERT INTO last_logins(account_id, at, proto, ip)"
					  " SELECT id, ?, ?, ? FROM accounts WHERE id = ?"
					  " ON CONFLICT(account_id) DO UPDATE SET at = excluded.at,"
					  " proto = excluded.proto, ip = excluded.ip");
	if (st == NULL)
		return op_fail_sql(op, SQL_ERR, "last_login");
	sql_bind_int64(st, 1, r->at);
	sql_bind_text(st, 2, r->proto);
	sql_bind_text(st, 3, r->ip);
	sql_bind_int64(st, 4, r->account_id);
	int rc = sql_step_done(st);
	return rc < 0 ? op_fail_sql(op, rc, "last_login") : 1;
}

int store_last_login_set(struct store *s, int64_t account_id, int64_t at, const char *proto, const char *ip,
			 const char **error_r)
{
	struct last_login_req req = { account_id, at, proto, ip };
	return store_sql_write(s, store_op_new(NULL, apply_last_login, NULL, &req, NULL), error_r);
}

int store_last_login_list(struct store *s, struct arena *a, struct store_last_login **v_r, size_t *n_r,
			  const char **error_r)
{
	size_t n = 0, cap = 8;
	struct store_last_login *v = arena_alloc(a, cap * sizeof(*v));
	*v_r = v;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT account_id, at, proto, ip FROM last_logins ORDER BY account_id");
	int rc = st ? SQL_ROW : SQL_ERR;
	while (st != NULL && (rc = sql_step(st)) == SQL_ROW) {
		if (n == cap) {
			struct store_last_login *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n].account_id = sql_col_int64(st, 0);
		v[n].at = sql_col_int64(st, 1);
		v[n].proto = arena_strdup(a, sql_col_text(st, 2));
		v[n].ip = arena_strdup(a, sql_col_text(st, 3));
		n++;
	}
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "last_login_list", error_r);
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	*v_r = v;
	*n_r = n;
	return ret;
}
