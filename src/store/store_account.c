/* store_account.c: domains, accounts, aliases and recipient resolution.
 *
 * Addresses (store_address.c) are stored with the domain in lower case and compared
 * case-insensitively (COLLATE NOCASE), as every mail client and most servers do. An account owns its
 * mailboxes and message rows; deleting it removes them and frees unreferenced blobs.
 * Aliases map an address (or "@domain", a catch-all) to targets that may be local or
 * remote; store_resolve() expands them for SMTP with a depth limit and loop cut.
 * Everything here speaks sql.h and so runs on either backend; what only SQLite has
 * yet (mailboxes, messages) is reached under sql_engine() == SQL_SQLITE. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ helpers */

/* The id of a row found by one text key: >0, 0 when there is none, <0 (sql_rc). */
static int64_t id_by(struct sql_conn *q, const char *sql, const char *key)
{
	struct sql_stmt *st = sql_prepare(q, sql);
	if (st == NULL)
		return SQL_ERR;
	sql_bind_text(st, 1, key);
	int rc = sql_step(st);
	int64_t id = rc == SQL_ROW ? sql_col_int64(st, 0) : rc < 0 ? rc : 0;
	sql_reset(st);
	return id;
}

static int64_t domain_id(struct sql_conn *q, const char *domain)
{
	return id_by(q, "SELECT id FROM domains WHERE name = ?", domain);
}

static int64_t account_id_of(struct sql_conn *q, const char *address)
{
	return id_by(q, "SELECT id FROM accounts WHERE address = ?", address);
}

static int64_t alias_exists(struct sql_conn *q, const char *address)
{
	return id_by(q, "SELECT 1 FROM aliases WHERE address = ? LIMIT 1", address);
}

/* An op's failure from a negative sql_rc (a lookup that failed). */
static int op_sql_fail(struct store_op *op, int64_t rc, const char *what)
{
	const char *err = NULL;
	int code = store_sql_fail(op->q, (int)rc, what, &err);
	return store_op_fail(op, code, "%s", err);
}

/* Steps a write statement; 1 or the op's failure. */
static int op_step(struct store_op *op, struct sql_stmt *st, const char *what)
{
	int rc = st ? sql_step_done(st) : SQL_ERR;
	return rc < 0 ? op_sql_fail(op, rc, what) : 1;
}

/* ------------------------------------------------------------------ domains */

struct domain_req {
	const char *name;
};

static int apply_domain_add(struct store *s, struct store_op *op)
{
	(void)s;
	struct domain_req *r = op->req;
	int64_t id = domain_id(op->q, r->name);
	if (id < 0)
		return op_sql_fail(op, id, "domain_add");
	if (id > 0)
		return store_op_fail(op, STORE_EEXISTS, "domain %s already exists", r->name);
	struct sql_stmt *st = sql_prepare(op->q, "INSERT INTO domains(name) VALUES(?)");
	if (st != NULL)
		sql_bind_text(st, 1, r->name);
	return op_step(op, st, "domain_add");
}

int store_domain_add(struct store *s, const char *domain, const char **error_r)
{
	struct arena *a = arena_new();
	const char *norm;
	int r = store_addr_normalize(a, domain ? arena_printf(a, "x@%s", domain) : NULL, false, &norm, error_r);
	if (r < 0) {
		*error_r = "invalid domain name";
		arena_free(&a);
		return STORE_EINVAL;
	}
	struct domain_req req = { store_domain_of(norm) };
	r = store_sql_write(s, store_op_new(NULL, apply_domain_add, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

int store_domain_list(struct store *s, struct arena *a, const char ***domains_r,
		      const char **error_r)
{
	size_t n = 0, cap = 8;
	const char **v = arena_alloc(a, cap * sizeof(*v));
	v[0] = NULL;
	*domains_r = v;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT name FROM domains ORDER BY name");
	int rc = st ? SQL_ROW : SQL_ERR;
	while (st != NULL && (rc = sql_step(st)) == SQL_ROW) {
		if (n + 1 >= cap) {
			const char **nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n++] = arena_strdup(a, sql_col_text(st, 0));
	}
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "domain_list", error_r);
	if (st != NULL)
		sql_reset(st);
	v[n] = NULL;
	*domains_r = v;
	store_sql_put(s, q, db);
	return ret;
}

int store_domain_exists(struct store *s, const char *domain, const char **error_r)
{
	if (domain == NULL || *domain == '\0')
		return 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int64_t id = domain_id(q, domain);
	int ret = id < 0 ? store_sql_fail(q, (int)id, "domain_exists", error_r) : id > 0;
	store_sql_put(s, q, db);
	return ret;
}

/* ------------------------------------------------------------------ accounts */

struct account_req {
	const char *address;
	const char *hash;
	const char *scram; /* store_account_set_scram */
	uint64_t quota;
	bool end_sessions; /* store_account_end_sessions */
	int64_t id;
};

static const struct {
	const char *name;
	unsigned int su;
} default_mailboxes[] = {
	{ "INBOX", 0 }, { "Drafts", STORE_SU_DRAFTS }, { "Sent", STORE_SU_SENT },
	{ "Trash", STORE_SU_TRASH }, { "Junk", STORE_SU_JUNK }, { "Archive", STORE_SU_ARCHIVE },
};

static int apply_account_add(struct store *s, struct store_op *op)
{
	struct account_req *r = op->req;
	struct sql_conn *q = op->q;
	int64_t did = domain_id(q, store_domain_of(r->address)), x;
	if (did < 0)
		return op_sql_fail(op, did, "account_add");
	if (did == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "unknown domain %s", store_domain_of(r->address));
	if ((x = account_id_of(q, r->address)) != 0)
		return x < 0 ? op_sql_fail(op, x, "account_add")
			     : store_op_fail(op, STORE_EEXISTS, "account %s already exists", r->address);
	if ((x = alias_exists(q, r->address)) != 0)
		return x < 0 ? op_sql_fail(op, x, "account_add")
			     : store_op_fail(op, STORE_EEXISTS, "%s is an alias", r->address);
	struct sql_stmt *st = sql_prepare(q, "INSERT INTO accounts(address, domain_id, password, quota)"
					  " VALUES(?, ?, ?, ?) RETURNING id");
	if (st == NULL)
		return op_sql_fail(op, SQL_ERR, "account_add");
	sql_bind_text(st, 1, r->address);
	sql_bind_int64(st, 2, did);
	sql_bind_text(st, 3, r->hash);
	sql_bind_int64(st, 4, (int64_t)r->quota);
	int rc = sql_step(st);
	r->id = rc == SQL_ROW ? sql_col_int64(st, 0) : 0;
	sql_reset(st);
	if (rc != SQL_ROW)
		return op_sql_fail(op, rc == SQL_DONE ? SQL_ERR : rc, "account_add");
	for (size_t i = 0; i < sizeof(default_mailboxes) / sizeof(default_mailboxes[0]); i++) {
		int y = store_mbox_create_in(op, q, r->id, default_mailboxes[i].name,
					     default_mailboxes[i].su, true, NULL);
		if (y < 0)
			return y;
	}
	return 1;
}

int store_account_add(struct store *s, const char *address, const char *password_hash,
		      uint64_t quota, int64_t *id_r, const char **error_r)
{
	struct arena *a = arena_new();
	struct account_req req = { .hash = password_hash, .quota = quota };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0 && (password_hash == NULL || *password_hash == '\0')) {
		*error_r = "no password hash";
		r = STORE_EINVAL;
	}
	if (r > 0 && quota > INT64_MAX) {
		*error_r = "quota too large";
		r = STORE_EINVAL;
	}
	if (r > 0)
		r = store_sql_write(s, store_op_new(NULL, apply_account_add, NULL, &req, NULL), error_r);
	if (r > 0 && id_r != NULL)
		*id_r = req.id;
	arena_free(&a);
	return r;
}

static int apply_account_del(struct store *s, struct store_op *op)
{
	struct account_req *r = op->req;
	op->may_use_reserve = true; /* it frees space: works on a full disk (store_space.c) */
	int64_t id = account_id_of(op->q, r->address);
	if (id < 0)
		return op_sql_fail(op, id, "account_del");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %s", r->address);
	if (store_account_remove_mail(op, sql_engine(op->q) == SQL_SQLITE ? s->wc : NULL, id) < 0)
		return op->result;
	/* the tables of the part both backends have (sql.h) */
	static const char *const cleanup[] = {
		"DELETE FROM session_generations WHERE account_id = ?",
		"DELETE FROM scram_secrets WHERE account_id = ?",
		"DELETE FROM admins WHERE account_id = ?",
		"DELETE FROM last_logins WHERE account_id = ?",
		"DELETE FROM accounts WHERE id = ?",
	};
	for (size_t i = 0; i < sizeof(cleanup) / sizeof(cleanup[0]); i++) {
		struct sql_stmt *d = sql_prepare(op->q, cleanup[i]);
		if (d != NULL)
			sql_bind_int64(d, 1, id);
		if (op_step(op, d, "account_del") < 0)
			return op->result;
	}
	return 1;
}

int store_account_del(struct store *s, const char *address, const char **error_r)
{
	struct arena *a = arena_new();
	struct account_req req = { 0 };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_sql_write(s, store_op_new(NULL, apply_account_del, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

/* Raises the session generation of account id (in the write transaction). */
static int bump_session_gen(struct store_op *op, int64_t id)
{
	struct sql_stmt *st = sql_prepare(op->q, "INSERT INTO session_generations(account_id, generation) VALUES(?, 1)"
					  " ON CONFLICT(account_id) DO UPDATE SET generation ="
					  " session_generations.generation + 1");
	if (st != NULL)
		sql_bind_int64(st, 1, id);
	return op_step(op, st, "session_gen");
}

static int apply_account_update(struct store *s, struct store_op *op)
{
	(void)s;
	struct account_req *r = op->req;
	int64_t id = account_id_of(op->q, r->address);
	if (id < 0)
		return op_sql_fail(op, id, "account_update");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %s", r->address);
	struct sql_stmt *st;
	if (r->end_sessions)
		return bump_session_gen(op, id);
	if (r->hash != NULL) {
		/* a new password ends the sessions made with the old one */
		if (bump_session_gen(op, id) < 0)
			return op->result;
		/* the SCRAM secret of the old password goes with it */
		st = sql_prepare(op->q, "DELETE FROM scram_secrets WHERE account_id = ?");
		if (st != NULL)
			sql_bind_int64(st, 1, id);
		if (op_step(op, st, "account_update") < 0)
			return op->result;
		st = sql_prepare(op->q, "UPDATE accounts SET password = ? WHERE id = ?");
		if (st != NULL)
			sql_bind_text(st, 1, r->hash);
	} else {
		st = sql_prepare(op->q, "UPDATE accounts SET quota = ? WHERE id = ?");
		if (st != NULL)
			sql_bind_int64(st, 1, (int64_t)r->quota);
	}
	if (st != NULL)
		sql_bind_int64(st, 2, id);
	return op_step(op, st, "account_update");
}

int store_account_end_sessions(struct store *s, const char *address, const char **error_r)
{
	struct arena *a = arena_new();
	struct account_req req = { .end_sessions = true };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_sql_write(s, store_op_new(NULL, apply_account_update, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

int store_account_session_gen(struct store *s, int64_t id, uint64_t *gen_r, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT COALESCE(g.generation, 0) FROM accounts a"
					  " LEFT JOIN session_generations g ON g.account_id = a.id WHERE a.id = ?");
	int rc = SQL_ERR, ret;
	if (st != NULL) {
		sql_bind_int64(st, 1, id);
		rc = sql_step(st);
	}
	if (rc == SQL_ROW) {
		*gen_r = (uint64_t)sql_col_int64(st, 0);
		ret = 1;
	} else if (rc == SQL_DONE) {
		ret = 0;
	} else {
		ret = store_sql_fail(q, rc, "account_session_gen", error_r);
	}
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	return ret;
}

int store_account_set_password(struct store *s, const char *address, const char *password_hash,
			       const char **error_r)
{
	if (password_hash == NULL || *password_hash == '\0') {
		*error_r = "no password hash";
		return STORE_EINVAL;
	}
	struct arena *a = arena_new();
	struct account_req req = { .hash = password_hash };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_sql_write(s, store_op_new(NULL, apply_account_update, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

static int apply_account_scram(struct store *s, struct store_op *op)
{
	(void)s;
	struct account_req *r = op->req;
	struct sql_stmt *st = sql_prepare(op->q, "INSERT INTO scram_secrets(account_id, secret)"
					  " SELECT id, ? FROM accounts WHERE id = ? AND password = ?"
					  " ON CONFLICT(account_id) DO UPDATE SET secret = excluded.secret");
	if (st != NULL) {
		sql_bind_text(st, 1, r->scram);
		sql_bind_int64(st, 2, r->id);
		sql_bind_text(st, 3, r->hash);
	}
	if (op_step(op, st, "account_scram") < 0)
		return op->result;
	return sql_changes(op->q) > 0 ? 1 : 0;
}

int store_account_set_scram(struct store *s, int64_t account_id, const char *password_hash, const char *secret,
			    const char **error_r)
{
	if (password_hash == NULL || secret == NULL || *secret == '\0') {
		*error_r = "no password hash or SCRAM secret";
		return STORE_EINVAL;
	}
	struct account_req req = { .id = account_id, .hash = password_hash, .scram = secret };
	return store_sql_write(s, store_op_new(NULL, apply_account_scram, NULL, &req, NULL), error_r);
}

int store_account_set_quota(struct store *s, const char *address, uint64_t quota,
			    const char **error_r)
{
	if (quota > INT64_MAX) {
		*error_r = "quota too large";
		return STORE_EINVAL;
	}
	struct arena *a = arena_new();
	struct account_req req = { .quota = quota };
	int r = store_address_normalize(a, address, &req.address, error_r);
	if (r > 0)
		r = store_sql_write(s, store_op_new(NULL, apply_account_update, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

#define ACCOUNT_COLS                                                                                    \
	"a.id, a.address, a.password, a.quota, a.usage, a.messages, a.modseq, k.secret FROM accounts a"    \
	" LEFT JOIN scram_secrets k ON k.account_id = a.id"

static void account_row(struct arena *a, struct sql_stmt *st, struct store_account *acct)
{
	acct->id = sql_col_int64(st, 0);
	acct->address = arena_strdup(a, sql_col_text(st, 1));
	acct->password_hash = arena_strdup(a, sql_col_text(st, 2));
	acct->quota = (uint64_t)sql_col_int64(st, 3);
	acct->usage = (uint64_t)sql_col_int64(st, 4);
	acct->messages = (uint64_t)sql_col_int64(st, 5);
	acct->modseq = (uint64_t)sql_col_int64(st, 6);
	acct->scram = sql_col_null(st, 7) ? NULL : arena_strdup(a, sql_col_text(st, 7));
}

static int account_get(struct store *s, struct arena *a, const char *address, int64_t id,
		       struct store_account *acct_r, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st;
	if (address != NULL) {
		st = sql_prepare(q, "SELECT " ACCOUNT_COLS " WHERE a.address = ?");
		if (st != NULL)
			sql_bind_text(st, 1, address);
	} else {
		st = sql_prepare(q, "SELECT " ACCOUNT_COLS " WHERE a.id = ?");
		if (st != NULL)
			sql_bind_int64(st, 1, id);
	}
	int rc = st ? sql_step(st) : SQL_ERR, ret;
	if (rc == SQL_ROW) {
		account_row(a, st, acct_r);
		ret = 1;
	} else if (rc == SQL_DONE) {
		ret = 0;
	} else {
		ret = store_sql_fail(q, rc, "account_get", error_r);
	}
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	return ret;
}

int store_account_get(struct store *s, struct arena *a, const char *address,
		      struct store_account *acct_r, const char **error_r)
{
	const char *norm;
	if (store_address_normalize(a, address, &norm, error_r) < 0)
		return 0; /* an invalid address is simply not an account */
	return account_get(s, a, norm, 0, acct_r, error_r);
}

int store_account_get_by_id(struct store *s, struct arena *a, int64_t id,
			    struct store_account *acct_r, const char **error_r)
{
	return account_get(s, a, NULL, id, acct_r, error_r);
}

int store_account_list(struct store *s, struct arena *a, struct store_account **accts_r,
		       size_t *n_r, const char **error_r)
{
	size_t n = 0, cap = 16;
	struct store_account *v = arena_alloc(a, cap * sizeof(*v));
	*accts_r = v;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT " ACCOUNT_COLS " ORDER BY a.address");
	int rc = st ? SQL_ROW : SQL_ERR;
	while (st != NULL && (rc = sql_step(st)) == SQL_ROW) {
		if (n == cap) {
			struct store_account *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		account_row(a, st, &v[n++]);
	}
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "account_list", error_r);
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	*accts_r = v;
	*n_r = n;
	return ret;
}

/* ------------------------------------------------------------------ aliases */

struct alias_req {
	const char *address;
	const char **targets;
	size_t n;
};

static int apply_alias_add(struct store *s, struct store_op *op)
{
	(void)s;
	struct alias_req *r = op->req;
	int64_t x = domain_id(op->q, store_domain_of(r->address));
	if (x <= 0)
		return x < 0 ? op_sql_fail(op, x, "alias_add")
			     : store_op_fail(op, STORE_ENOTFOUND, "unknown domain %s", store_domain_of(r->address));
	if (r->address[0] != '@' && (x = account_id_of(op->q, r->address)) != 0)
		return x < 0 ? op_sql_fail(op, x, "alias_add")
			     : store_op_fail(op, STORE_EEXISTS, "%s is an account", r->address);
	for (size_t i = 0; i < r->n; i++) {
		if (strcasecmp(r->targets[i], r->address) == 0)
			return store_op_fail(op, STORE_EINVAL, "alias %s points to itself", r->address);
		struct sql_stmt *st = sql_prepare(op->q, "INSERT OR IGNORE INTO aliases(address, target) VALUES(?, ?)");
		if (st != NULL) {
			sql_bind_text(st, 1, r->address);
			sql_bind_text(st, 2, r->targets[i]);
		}
		if (op_step(op, st, "alias_add") < 0)
			return op->result;
	}
	return 1;
}

int store_alias_add(struct store *s, const char *address, const char *const *targets,
		    size_t ntargets, const char **error_r)
{
	if (ntargets == 0) {
		*error_r = "an alias needs at least one target";
		return STORE_EINVAL;
	}
	struct arena *a = arena_new();
	struct alias_req req = { .n = ntargets };
	int r = store_addr_normalize(a, address, true, &req.address, error_r);
	req.targets = arena_alloc(a, ntargets * sizeof(*req.targets));
	for (size_t i = 0; r > 0 && i < ntargets; i++) {
		r = store_address_normalize(a, targets[i], &req.targets[i], error_r);
		if (r < 0)
			*error_r = "invalid alias target address";
	}
	if (r > 0)
		r = store_sql_write(s, store_op_new(NULL, apply_alias_add, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

static int apply_alias_del(struct store *s, struct store_op *op)
{
	(void)s;
	struct alias_req *r = op->req;
	int64_t x = alias_exists(op->q, r->address);
	if (x <= 0)
		return x < 0 ? op_sql_fail(op, x, "alias_del")
			     : store_op_fail(op, STORE_ENOTFOUND, "no alias %s", r->address);
	struct sql_stmt *st = sql_prepare(op->q, "DELETE FROM aliases WHERE address = ?");
	if (st != NULL)
		sql_bind_text(st, 1, r->address);
	return op_step(op, st, "alias_del");
}

int store_alias_del(struct store *s, const char *address, const char **error_r)
{
	struct arena *a = arena_new();
	struct alias_req req = { 0 };
	int r = store_addr_normalize(a, address, true, &req.address, error_r);
	if (r > 0)
		r = store_sql_write(s, store_op_new(NULL, apply_alias_del, NULL, &req, NULL), error_r);
	arena_free(&a);
	return r;
}

int store_alias_list(struct store *s, struct arena *a, struct store_alias **aliases_r,
		     size_t *n_r, const char **error_r)
{
	size_t n = 0, cap = 16;
	struct store_alias *v = arena_alloc(a, cap * sizeof(*v));
	*aliases_r = v;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT address, target FROM aliases ORDER BY address, target");
	int rc = st ? SQL_ROW : SQL_ERR;
	while (st != NULL && (rc = sql_step(st)) == SQL_ROW) {
		if (n == cap) {
			struct store_alias *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n].address = arena_strdup(a, sql_col_text(st, 0));
		v[n].target = arena_strdup(a, sql_col_text(st, 1));
		n++;
	}
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "alias_list", error_r);
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	*aliases_r = v;
	*n_r = n;
	return ret;
}

/* ------------------------------------------------------------------ resolution */

#define RESOLVE_MAX 256

int store_resolve(struct store *s, struct arena *a, const char *address,
		  struct store_rcpt *rcpt_r, const char **error_r)
{
	memset(rcpt_r, 0, sizeof(*rcpt_r));
	const char *norm;
	int r = store_address_normalize(a, address, &norm, error_r);
	if (r < 0)
		return r;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = 1;
	int64_t x = domain_id(q, store_domain_of(norm));
	if (x <= 0) {
		if (x < 0)
			ret = store_sql_fail(q, (int)x, "resolve", error_r);
		else
			*error_r = "domain is not local";
		ret = x < 0 ? ret : STORE_ENOTFOUND;
		goto out;
	}
	/* Breadth-first over (address, depth); `seen` cuts loops. */
	const char *queue[RESOLVE_MAX];
	int depth[RESOLVE_MAX];
	size_t qn = 0;
	queue[qn] = norm;
	depth[qn++] = 0;
	rcpt_r->accounts = arena_alloc(a, RESOLVE_MAX * sizeof(int64_t));
	rcpt_r->remote = arena_alloc(a, RESOLVE_MAX * sizeof(char *));
	for (size_t qi = 0; qi < qn; qi++) {
		const char *cur = queue[qi];
		if ((x = domain_id(q, store_domain_of(cur))) <= 0) {
			if (x < 0)
				goto fail;
			bool dup = false;
			for (size_t i = 0; i < rcpt_r->nremote; i++)
				dup |= strcasecmp(rcpt_r->remote[i], cur) == 0;
			if (!dup && rcpt_r->nremote < RESOLVE_MAX)
				rcpt_r->remote[rcpt_r->nremote++] = cur;
			continue;
		}
		int64_t id = account_id_of(q, cur);
		if (id < 0) {
			x = id;
			goto fail;
		}
		if (id > 0) {
			bool dup = false;
			for (size_t i = 0; i < rcpt_r->naccounts; i++)
				dup |= rcpt_r->accounts[i] == id;
			if (!dup)
				rcpt_r->accounts[rcpt_r->naccounts++] = id;
			continue;
		}
		if (depth[qi] >= STORE_ALIAS_DEPTH)
			continue;
		const char *keys[2] = { cur, arena_printf(a, "@%s", store_domain_of(cur)) };
		for (int k = 0; k < 2; k++) {
			bool found = false;
			struct sql_stmt *st = sql_prepare(q, "SELECT target FROM aliases WHERE address = ? ORDER BY target");
			if (st == NULL) {
				x = SQL_ERR;
				goto fail;
			}
			sql_bind_text(st, 1, keys[k]);
			int rc;
			while ((rc = sql_step(st)) == SQL_ROW) {
				found = true;
				const char *t = arena_strdup(a, sql_col_text(st, 0));
				bool seen = false;
				for (size_t i = 0; i < qn; i++)
					seen |= strcasecmp(queue[i], t) == 0;
				if (!seen && qn < RESOLVE_MAX) {
					queue[qn] = t;
					depth[qn++] = depth[qi] + 1;
				}
			}
			sql_reset(st);
			if (rc < 0) {
				x = rc;
				goto fail;
			}
			if (found)
				break; /* an exact alias hides the catch-all */
		}
	}
	ret = rcpt_r->naccounts + rcpt_r->nremote > 0 ? 1 : 0;
	if (ret == 0)
		*error_r = "no such user";
out:
	store_sql_put(s, q, db);
	return ret;
fail:
	ret = store_sql_fail(q, (int)x, "resolve", error_r);
	goto out;
}
