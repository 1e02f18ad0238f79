/* store_admin.c: what the administration needs of the store beyond accounts and
 * aliases: the admin flag of an account, and removing a domain.
 *
 * The flag lives in a table of its own (`admins`, one row per admin account), so
 * that databases made before it need no ALTER; no row means "not an admin". Servers
 * read it on every admin request (a primary-key read), so a change takes effect at
 * once, for open sessions too. Each account's last login (`last_logins`) is a table
 * of its own for the same reason; the server writes it at most hourly per account. A domain is removed only when nothing uses it any
 * more: no account and no alias (catch-all included) in it. */
#include "store_int.h"

#include <string.h>

struct admin_req {
	const char *address; /* normalized account address, or a domain name */
	bool on;
};

static int apply_set_admin(struct store *s, struct store_op *op)
{
	struct admin_req *r = op->req;
	struct db *c = s->wc;
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id FROM accounts WHERE address = ?");
	store_bind_text(st, 1, r->address);
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (id <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %s", r->address);
	st = store_db_stmt(c, r->on ? "INSERT OR IGNORE INTO admins(account_id) VALUES(?)"
				    : "DELETE FROM admins WHERE account_id = ?");
	sqlite3_bind_int64(st, 1, id);
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_account_set_admin(struct store *s, const char *address, bool on, const char **error_r)
{
	struct arena *a = arena_new();
	struct admin_req req = { .on = on };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_op_run(s, store_op_new(NULL, apply_set_admin, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

int store_account_is_admin(struct store *s, int64_t account_id, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM admins d JOIN accounts a ON a.id = d.account_id"
					    " WHERE d.account_id = ?");
	sqlite3_bind_int64(st, 1, account_id);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW)
		ret = 1;
	else if (rc == SQLITE_DONE)
		ret = 0;
	else
		ret = store_db_fail(c, "account_is_admin", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	return ret;
}

int store_admin_list(struct store *s, struct arena *a, int64_t **ids_r, size_t *n_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT account_id FROM admins ORDER BY account_id");
	size_t n = 0, cap = 8;
	int64_t *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n++] = sqlite3_column_int64(st, 0);
	}
	int ret = rc == SQLITE_DONE ? 1 : store_db_fail(c, "admin_list", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	*ids_r = v;
	*n_r = n;
	return ret;
}

static int apply_domain_del(struct store *s, struct store_op *op)
{
	struct admin_req *r = op->req;
	struct db *c = s->wc;
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id FROM domains WHERE name = ?");
	store_bind_text(st, 1, r->address);
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (id <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no domain %s", r->address);
	st = store_db_stmt(c, "SELECT count(*) FROM accounts WHERE domain_id = ?");
	sqlite3_bind_int64(st, 1, id);
	int64_t accounts = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	/* aliases name their domain only in the address: "x@d" or the catch-all "@d" */
	st = store_db_stmt(c, "SELECT count(*) FROM aliases WHERE address LIKE '%@' || ? ESCAPE '\\'");
	char esc[STORE_ADDRESS_MAX * 2 + 1];
	size_t k = 0;
	for (const char *p = r->address; *p != '\0' && k + 2 < sizeof(esc); p++) {
		if (*p == '%' || *p == '_' || *p == '\\')
			esc[k++] = '\\';
		esc[k++] = *p;
	}
	esc[k] = '\0';
	store_bind_text(st, 1, esc);
	int64_t aliases = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (accounts > 0 || aliases > 0)
		return store_op_fail(op, STORE_ENOTALLOWED,
				     "domain %s still has %lld accounts and %lld aliases: remove them first",
				     r->address, (long long)accounts, (long long)aliases);
	st = store_db_stmt(c, "DELETE FROM domains WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
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
		r = store_op_run(s, store_op_new(NULL, apply_domain_del, NULL, &req, NULL), error_r);
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
	struct last_login_req *r = op->req;
	struct db *c = s->wc;
	sqlite3_stmt *st = store_db_stmt(c, "INSERT OR REPLACE INTO last_logins(account_id, at, proto, ip)"
					    " SELECT id, ?, ?, ? FROM accounts WHERE id = ?");
	sqlite3_bind_int64(st, 1, r->at);
	store_bind_text(st, 2, r->proto);
	store_bind_text(st, 3, r->ip);
	sqlite3_bind_int64(st, 4, r->account_id);
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_last_login_set(struct store *s, int64_t account_id, int64_t at, const char *proto, const char *ip,
			 const char **error_r)
{
	struct last_login_req req = { account_id, at, proto, ip };
	return store_op_run(s, store_op_new(NULL, apply_last_login, NULL, &req, NULL), error_r);
}

int store_last_login_list(struct store *s, struct arena *a, struct store_last_login **v_r, size_t *n_r,
			  const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT account_id, at, proto, ip FROM last_logins ORDER BY account_id");
	size_t n = 0, cap = 8;
	struct store_last_login *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct store_last_login *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n].account_id = sqlite3_column_int64(st, 0);
		v[n].at = sqlite3_column_int64(st, 1);
		v[n].proto = arena_strdup(a, (const char *)sqlite3_column_text(st, 2));
		v[n].ip = arena_strdup(a, (const char *)sqlite3_column_text(st, 3));
		n++;
	}
	int ret = rc == SQLITE_DONE ? 1 : store_db_fail(c, "last_login_list", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	*v_r = v;
	*n_r = n;
	return ret;
}
