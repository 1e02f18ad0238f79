/* store_sieve.c: each account's Sieve scripts, its out-of-office settings and the
 * duplicate memory (store_sieve.h). Tables: sieve_scripts (one row per script: name,
 * text and compiled form as blobs, the active flag; at most one active row per
 * account, kept so by every write), sieve_state (the account's Sieve state, bumped
 * by every change, for JMAP), sieve_vacation (one row per account that set its
 * out-of-office reply) and sieve_duplicates (key, expiry); the last two in
 * store_sieve_vacation.c. Every write is one op in
 * a transaction, so the limits, the one-active rule and the duplicate check-and-set
 * hold against concurrent writers: on SQLite the committer is the only writer; on
 * PostgreSQL, where several nodes write, the script writes take the account's Sieve
 * lock (store_sql_lock_account) and the duplicate check-and-set is one upsert.
 * Deleting an account deletes its rows (store_account.c; ON DELETE CASCADE on
 * PostgreSQL).
 *
 * Written against sql.h: the same code on both backends (docs/cluster.md). Blobs
 * are bytea on PostgreSQL, read back in its hex text form (col_blob). */
#include "store.h"
#include "store_int.h"

#include "textfmt.h"

#include <stdlib.h>
#include <string.h>

int store_sieve_name_valid(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;
	size_t len = strlen(name);
	if (len == 0 || len > STORE_SIEVE_NAME_MAX)
		return 0;
	while (*p != '\0') {
		uint32_t cp;
		int n;
		if (p[0] < 0x80) {
			cp = p[0];
			n = 1;
		} else if ((p[0] & 0xe0) == 0xc0) {
			cp = p[0] & 0x1f;
			n = 2;
		} else if ((p[0] & 0xf0) == 0xe0) {
			cp = p[0] & 0x0f;
			n = 3;
		} else if ((p[0] & 0xf8) == 0xf0) {
			cp = p[0] & 0x07;
			n = 4;
		} else {
			return 0;
		}
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
			return 0;
		p += n;
	}
	return 1;
}

/* A blob column as NUL-terminated bytes in the arena (*n_r the length): SQLite hands
 * the bytes; PostgreSQL sends bytea as text, "\x" and two hex digits a byte. NULL
 * when the value is not in that form (never made-up bytes). */
static void *col_blob(struct arena *a, struct sql_stmt *st, int i, size_t *n_r)
{
	const char *t = sql_col_text(st, i);
	size_t n = sql_col_bytes(st, i);
	if (sql_engine(st->conn) == SQL_SQLITE) {
		char *b = arena_alloc(a, n + 1);
		if (n > 0)
			memcpy(b, t, n);
		b[n] = '\0';
		*n_r = n;
		return b;
	}
	if (n < 2 || t[0] != '\\' || t[1] != 'x' || n % 2 != 0)
		return NULL;
	size_t len = (n - 2) / 2;
	char *b = arena_alloc(a, len + 1);
	for (size_t k = 0; k < len; k++) {
		int hi = textfmt_hex_digit((unsigned char)t[2 + 2 * k]);
		int lo = textfmt_hex_digit((unsigned char)t[3 + 2 * k]);
		if (hi < 0 || lo < 0)
			return NULL;
		b[k] = (char)(hi << 4 | lo);
	}
	b[len] = '\0';
	*n_r = len;
	return b;
}

int64_t store_sieve_next_state(struct sql_conn *q, int64_t account)
{
	struct sql_stmt *st = sql_prepare(q, "INSERT INTO sieve_state(account_id, modseq) VALUES(?, 1)"
					     " ON CONFLICT(account_id) DO UPDATE SET modseq = sieve_state.modseq + 1"
					     " RETURNING modseq");
	if (st == NULL)
		return SQL_ERR;
	sql_bind_int64(st, 1, account);
	int rc = sql_step(st);
	int64_t v = rc == SQL_ROW ? sql_col_int64(st, 0) : rc < 0 ? rc : SQL_ERR;
	sql_reset(st);
	return v;
}

/* Fills the metadata columns id, name, active, modseq, size (0..4). */
static void read_meta(struct arena *a, struct sql_stmt *st, struct store_sieve_script *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->id = sql_col_int64(st, 0);
	sc->name = arena_strdup(a, sql_col_text(st, 1));
	sc->active = sql_col_int64(st, 2) != 0;
	sc->modseq = sql_col_int64(st, 3);
	sc->size = (size_t)sql_col_int64(st, 4);
}

int store_sieve_list(struct store *s, struct arena *a, int64_t account, struct store_sieve_script **scripts_r,
		     size_t *n_r, int64_t *state_r, const char **error_r)
{
	size_t n = 0, cap = 8;
	struct store_sieve_script *out = arena_alloc(a, cap * sizeof(*out));
	*scripts_r = out;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT id, name, active, modseq, length(text) FROM sieve_scripts"
					     " WHERE account_id = ? ORDER BY name");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account);
		while ((rc = sql_step(st)) == SQL_ROW) {
			if (n == cap) {
				struct store_sieve_script *bigger = arena_alloc(a, 2 * cap * sizeof(*out));
				memcpy(bigger, out, n * sizeof(*out));
				out = bigger;
				cap *= 2;
			}
			read_meta(a, st, &out[n++]);
		}
		sql_reset(st);
	}
	if (rc == SQL_DONE && state_r != NULL) {
		*state_r = 0;
		st = sql_prepare(q, "SELECT modseq FROM sieve_state WHERE account_id = ?");
		rc = SQL_ERR;
		if (st != NULL) {
			sql_bind_int64(st, 1, account);
			rc = sql_step(st);
			if (rc == SQL_ROW) {
				*state_r = sql_col_int64(st, 0);
				rc = SQL_DONE;
			}
			sql_reset(st);
		}
	}
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "sieve_list", error_r);
	store_sql_put(s, q, db);
	*scripts_r = out;
	*n_r = n;
	return ret;
}

static int get_where(struct store *s, struct arena *a, int64_t account, int64_t id, const char *name, bool active,
		     unsigned int what, struct store_sieve_script *sc, const char **error_r)
{
	const char *sql;
	if (active)
		sql = "SELECT id, name, active, modseq, length(text), text, compiled FROM sieve_scripts"
		      " WHERE account_id = ? AND active = 1";
	else if (id > 0)
		sql = "SELECT id, name, active, modseq, length(text), text, compiled FROM sieve_scripts"
		      " WHERE account_id = ? AND id = ?";
	else
		sql = "SELECT id, name, active, modseq, length(text), text, compiled FROM sieve_scripts"
		      " WHERE account_id = ? AND name = ?";
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, sql);
	int rc = SQL_ERR, ret = 1;
	if (st != NULL) {
		sql_bind_int64(st, 1, account);
		if (!active && id > 0)
			sql_bind_int64(st, 2, id);
		else if (!active)
			sql_bind_text(st, 2, name != NULL ? name : "");
		rc = sql_step(st);
	}
	if (rc == SQL_ROW) {
		read_meta(a, st, sc);
		size_t n = 0;
		if (what & STORE_SIEVE_TEXT) {
			sc->text = col_blob(a, st, 5, &n);
			if (sc->text == NULL || n != sc->size)
				ret = STORE_ERR;
		}
		if ((what & STORE_SIEVE_COMPILED) && !sql_col_null(st, 6)) {
			sc->compiled = col_blob(a, st, 6, &sc->compiled_len);
			if (sc->compiled == NULL)
				ret = STORE_ERR;
		}
		if (ret < 0)
			*error_r = "sieve_get: a blob in an unexpected form (bytea_output must be hex)";
	} else if (rc == SQL_DONE) {
		ret = 0;
	} else {
		ret = store_sql_fail(q, rc, "sieve_get", error_r);
	}
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	return ret;
}

int store_sieve_get(struct store *s, struct arena *a, int64_t account, int64_t id, const char *name, unsigned int what,
		    struct store_sieve_script *script_r, const char **error_r)
{
	return get_where(s, a, account, id, name, false, what, script_r, error_r);
}

int store_sieve_get_active(struct store *s, struct arena *a, int64_t account, struct store_sieve_script *script_r,
			   const char **error_r)
{
	return get_where(s, a, account, 0, NULL, true, STORE_SIEVE_TEXT | STORE_SIEVE_COMPILED, script_r, error_r);
}

/* Counts the account's scripts other than `name` (NULL: all) and other than id.
 * Returns the count or a negative sql_rc. */
static int64_t count_others(struct sql_conn *q, int64_t account, const char *name, int64_t id)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT COUNT(*) FROM sieve_scripts WHERE account_id = ?1"
					     " AND (CAST(?2 AS TEXT) IS NULL OR name != ?2) AND id != ?3");
	if (st == NULL)
		return SQL_ERR;
	sql_bind_int64(st, 1, account);
	sql_bind_text(st, 2, name);
	sql_bind_int64(st, 3, id);
	int rc = sql_step(st);
	int64_t n = rc == SQL_ROW ? sql_col_int64(st, 0) : rc < 0 ? rc : SQL_ERR;
	sql_reset(st);
	return n;
}

static int check_space(struct sql_conn *q, int64_t account, const char *name, int64_t id, size_t size,
		       const struct store_sieve_limits *l, bool is_new, const char **error_r)
{
	if (l == NULL)
		return 1;
	if (l->max_script_size > 0 && size > l->max_script_size) {
		*error_r = store_set_errorf("script of %zu bytes is over the limit of %zu", size, l->max_script_size);
		return STORE_ETOOBIG;
	}
	if (l->max_scripts > 0 && is_new) {
		int64_t n = count_others(q, account, name, id);
		if (n < 0)
			return store_sql_fail(q, (int)n, "sieve_space", error_r);
		if ((uint64_t)n >= l->max_scripts) {
			*error_r = store_set_errorf("at most %zu scripts per account", l->max_scripts);
			return STORE_ELIMIT;
		}
	}
	return 1;
}

int store_sieve_havespace(struct store *s, int64_t account, const char *name, size_t size,
			  const struct store_sieve_limits *limits, const char **error_r)
{
	if (!store_sieve_name_valid(name)) {
		*error_r = "invalid script name";
		return STORE_EINVAL;
	}
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account);
		sql_bind_text(st, 2, name);
		rc = sql_step(st);
		sql_reset(st);
	}
	int ret;
	if (rc != SQL_ROW && rc != SQL_DONE)
		ret = store_sql_fail(q, rc, "sieve_havespace", error_r);
	else
		ret = check_space(q, account, name, 0, size, limits, rc == SQL_DONE, error_r);
	store_sql_put(s, q, db);
	return ret;
}

struct put_req {
	int64_t account;
	const struct store_sieve_put *p;
	const struct store_sieve_limits *limits;
	int64_t id;
};

static int deactivate_all(struct store_op *op, int64_t account, int64_t state)
{
	struct sql_stmt *st = sql_prepare(op->q, "UPDATE sieve_scripts SET active = 0, modseq = ?"
						 " WHERE account_id = ? AND active = 1");
	if (st != NULL) {
		sql_bind_int64(st, 1, state);
		sql_bind_int64(st, 2, account);
	}
	return store_op_step(op, st, "sieve_activate");
}

static int set_active(struct store_op *op, int64_t account, int64_t id, int64_t state)
{
	int r = deactivate_all(op, account, state);
	if (r < 0)
		return r;
	struct sql_stmt *st = sql_prepare(op->q, "UPDATE sieve_scripts SET active = 1, modseq = ? WHERE id = ?");
	if (st != NULL) {
		sql_bind_int64(st, 1, state);
		sql_bind_int64(st, 2, id);
	}
	return store_op_step(op, st, "sieve_activate");
}

/* The id of the account's script `name`: >0, 0 none, or a negative sql_rc. */
static int64_t id_of(struct sql_conn *q, int64_t account, const char *name)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT id FROM sieve_scripts WHERE account_id = ? AND name = ?");
	if (st == NULL)
		return SQL_ERR;
	sql_bind_int64(st, 1, account);
	sql_bind_text(st, 2, name);
	int rc = sql_step(st);
	int64_t id = rc == SQL_ROW ? sql_col_int64(st, 0) : rc == SQL_DONE ? 0 : rc;
	sql_reset(st);
	return id;
}

int store_sieve_begin_write(struct store_op *op, int64_t account, const char *what)
{
	int rc = store_sql_lock_account(op->q, STORE_LOCK_SIEVE, account);
	if (rc < 0)
		return store_op_sql_fail(op, rc, what);
	int x = store_acct_exists(op->q, account);
	if (x < 0)
		return store_op_sql_fail(op, SQL_ERR, what);
	return x > 0 ? 1 : store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)account);
}

static int apply_put(struct store *s, struct store_op *op)
{
	(void)s;
	struct put_req *r = op->req;
	const struct store_sieve_put *p = r->p;
	struct sql_conn *q = op->q;
	int ret = store_sieve_begin_write(op, r->account, "sieve_put");
	if (ret < 0)
		return ret;
	int64_t id = p->id;
	if (id > 0) {
		struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM sieve_scripts WHERE account_id = ? AND id = ?");
		int rc = SQL_ERR;
		if (st != NULL) {
			sql_bind_int64(st, 1, r->account);
			sql_bind_int64(st, 2, id);
			rc = sql_step(st);
			sql_reset(st);
		}
		if (rc < 0)
			return store_op_sql_fail(op, rc, "sieve_put");
		if (rc != SQL_ROW)
			return store_op_fail(op, STORE_ENOTFOUND, "no such script");
		if (p->name != NULL) {
			int64_t other = id_of(q, r->account, p->name);
			if (other < 0)
				return store_op_sql_fail(op, (int)other, "sieve_put");
			if (other > 0 && other != id)
				return store_op_fail(op, STORE_EEXISTS, "a script of that name exists");
		}
	} else {
		id = id_of(q, r->account, p->name);
		if (id < 0)
			return store_op_sql_fail(op, (int)id, "sieve_put");
	}
	if (p->text != NULL) {
		const char *e = NULL;
		ret = check_space(q, r->account, NULL, id, p->text_len, r->limits, id == 0, &e);
		if (ret < 0)
			return store_op_fail(op, ret, "%s", e);
	}
	int64_t state = store_sieve_next_state(q, r->account);
	if (state < 0)
		return store_op_sql_fail(op, (int)state, "sieve_put");
	struct sql_stmt *st;
	if (id == 0) {
		st = sql_prepare(q, "INSERT INTO sieve_scripts(account_id, name, text, compiled, active, modseq)"
				    " VALUES(?, ?, ?, ?, 0, ?) RETURNING id");
		int rc = SQL_ERR;
		if (st != NULL) {
			sql_bind_int64(st, 1, r->account);
			sql_bind_text(st, 2, p->name);
			sql_bind_blob(st, 3, p->text_len > 0 ? p->text : "", p->text_len);
			if (p->compiled != NULL)
				sql_bind_blob(st, 4, p->compiled, p->compiled_len);
			else
				sql_bind_text(st, 4, NULL);
			sql_bind_int64(st, 5, state);
			rc = sql_step(st);
			if (rc == SQL_ROW)
				id = sql_col_int64(st, 0);
			sql_reset(st);
		}
		if (rc < 0)
			return store_op_sql_fail(op, rc, "sieve_put");
		if (id <= 0)
			return store_op_fail(op, STORE_ERR, "cannot add the script");
	} else {
		if (p->name != NULL) {
			st = sql_prepare(q, "UPDATE sieve_scripts SET name = ?, modseq = ? WHERE id = ?");
			if (st != NULL) {
				sql_bind_text(st, 1, p->name);
				sql_bind_int64(st, 2, state);
				sql_bind_int64(st, 3, id);
			}
			if ((ret = store_op_step(op, st, "sieve_put")) < 0)
				return ret;
		}
		if (p->text != NULL) {
			st = sql_prepare(q, "UPDATE sieve_scripts SET text = ?, compiled = ?, modseq = ? WHERE id = ?");
			if (st != NULL) {
				sql_bind_blob(st, 1, p->text_len > 0 ? p->text : "", p->text_len);
				if (p->compiled != NULL)
					sql_bind_blob(st, 2, p->compiled, p->compiled_len);
				else
					sql_bind_text(st, 2, NULL);
				sql_bind_int64(st, 3, state);
				sql_bind_int64(st, 4, id);
			}
			if ((ret = store_op_step(op, st, "sieve_put")) < 0)
				return ret;
		}
	}
	if (p->activate && (ret = set_active(op, r->account, id, state)) < 0)
		return ret;
	r->id = id;
	return 1;
}

int store_sieve_put(struct store *s, int64_t account, const struct store_sieve_put *p,
		    const struct store_sieve_limits *limits, int64_t *id_r, const char **error_r)
{
	if (p->name != NULL && !store_sieve_name_valid(p->name)) {
		*error_r = "invalid script name";
		return STORE_EINVAL;
	}
	if ((p->id <= 0 && (p->name == NULL || p->text == NULL)) || p->text_len > INT32_MAX ||
	    p->compiled_len > INT32_MAX) {
		*error_r = "a new script needs a name and a text";
		return STORE_EINVAL;
	}
	struct put_req req = { .account = account, .p = p, .limits = limits };
	int ret = store_sql_write(s, store_op_new(NULL, apply_put, NULL, &req, NULL), error_r);
	if (ret > 0 && id_r != NULL)
		*id_r = req.id;
	return ret;
}

struct simple_req {
	int64_t account, id;
	const char *name, *name2;
	const void *bytes;
	size_t len;
};

static int apply_compiled(struct store *s, struct store_op *op)
{
	(void)s;
	struct simple_req *r = op->req;
	struct sql_stmt *st =
		sql_prepare(op->q, "UPDATE sieve_scripts SET compiled = ? WHERE account_id = ? AND id = ?");
	if (st != NULL) {
		if (r->bytes != NULL)
			sql_bind_blob(st, 1, r->bytes, r->len);
		else
			sql_bind_text(st, 1, NULL);
		sql_bind_int64(st, 2, r->account);
		sql_bind_int64(st, 3, r->id);
	}
	int ret = store_op_step(op, st, "sieve_compiled");
	if (ret < 0)
		return ret;
	if (sql_changes(op->q) == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such script");
	return 1;
}

int store_sieve_set_compiled(struct store *s, int64_t account, int64_t id, const void *compiled, size_t len,
			     const char **error_r)
{
	if (len > INT32_MAX) {
		*error_r = "compiled form too large";
		return STORE_EINVAL;
	}
	struct simple_req req = { .account = account, .id = id, .bytes = compiled, .len = len };
	return store_sql_write(s, store_op_new(NULL, apply_compiled, NULL, &req, NULL), error_r);
}

static int apply_rename(struct store *s, struct store_op *op)
{
	(void)s;
	struct simple_req *r = op->req;
	int rc = store_sql_lock_account(op->q, STORE_LOCK_SIEVE, r->account);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "sieve_rename");
	int64_t id = id_of(op->q, r->account, r->name);
	if (id < 0)
		return store_op_sql_fail(op, (int)id, "sieve_rename");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such script");
	int64_t other = id_of(op->q, r->account, r->name2);
	if (other < 0)
		return store_op_sql_fail(op, (int)other, "sieve_rename");
	if (other > 0 && other != id)
		return store_op_fail(op, STORE_EEXISTS, "a script of that name exists");
	int64_t state = store_sieve_next_state(op->q, r->account);
	if (state < 0)
		return store_op_sql_fail(op, (int)state, "sieve_rename");
	struct sql_stmt *st = sql_prepare(op->q, "UPDATE sieve_scripts SET name = ?, modseq = ? WHERE id = ?");
	if (st != NULL) {
		sql_bind_text(st, 1, r->name2);
		sql_bind_int64(st, 2, state);
		sql_bind_int64(st, 3, id);
	}
	return store_op_step(op, st, "sieve_rename");
}

int store_sieve_rename(struct store *s, int64_t account, const char *from, const char *to, const char **error_r)
{
	if (!store_sieve_name_valid(to)) {
		*error_r = "invalid script name";
		return STORE_EINVAL;
	}
	struct simple_req req = { .account = account, .name = from, .name2 = to };
	return store_sql_write(s, store_op_new(NULL, apply_rename, NULL, &req, NULL), error_r);
}

/* The id of script id/name in the account (id checked), 0 none, or a negative
 * sql_rc; *active_r. */
static int64_t find(struct sql_conn *q, int64_t account, int64_t id, const char *name, bool *active_r)
{
	struct sql_stmt *st;
	*active_r = false;
	if (id > 0) {
		st = sql_prepare(q, "SELECT id, active FROM sieve_scripts WHERE account_id = ? AND id = ?");
		if (st != NULL)
			sql_bind_int64(st, 2, id);
	} else {
		st = sql_prepare(q, "SELECT id, active FROM sieve_scripts WHERE account_id = ? AND name = ?");
		if (st != NULL)
			sql_bind_text(st, 2, name != NULL ? name : "");
	}
	if (st == NULL)
		return SQL_ERR;
	sql_bind_int64(st, 1, account);
	int rc = sql_step(st);
	int64_t found = rc == SQL_DONE ? 0 : rc;
	if (rc == SQL_ROW) {
		found = sql_col_int64(st, 0);
		*active_r = sql_col_int64(st, 1) != 0;
	}
	sql_reset(st);
	return found;
}

static int apply_delete(struct store *s, struct store_op *op)
{
	(void)s;
	struct simple_req *r = op->req;
	int rc = store_sql_lock_account(op->q, STORE_LOCK_SIEVE, r->account);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "sieve_delete");
	bool active;
	int64_t id = find(op->q, r->account, r->id, r->name, &active);
	if (id < 0)
		return store_op_sql_fail(op, (int)id, "sieve_delete");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such script");
	if (active)
		return store_op_fail(op, STORE_ENOTALLOWED, "the active script cannot be deleted");
	op->may_use_reserve = true;
	struct sql_stmt *st = sql_prepare(op->q, "DELETE FROM sieve_scripts WHERE id = ?");
	if (st != NULL)
		sql_bind_int64(st, 1, id);
	int ret = store_op_step(op, st, "sieve_delete");
	if (ret < 0)
		return ret;
	int64_t state = store_sieve_next_state(op->q, r->account);
	return state < 0 ? store_op_sql_fail(op, (int)state, "sieve_delete") : 1;
}

int store_sieve_delete(struct store *s, int64_t account, int64_t id, const char *name, const char **error_r)
{
	struct simple_req req = { .account = account, .id = id, .name = name };
	return store_sql_write(s, store_op_new(NULL, apply_delete, NULL, &req, NULL), error_r);
}

static int apply_activate(struct store *s, struct store_op *op)
{
	(void)s;
	struct simple_req *r = op->req;
	int rc = store_sql_lock_account(op->q, STORE_LOCK_SIEVE, r->account);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "sieve_activate");
	int64_t id = 0;
	if (r->id > 0 || (r->name != NULL && r->name[0] != '\0')) {
		bool active;
		id = find(op->q, r->account, r->id, r->name, &active);
		if (id < 0)
			return store_op_sql_fail(op, (int)id, "sieve_activate");
		if (id == 0)
			return store_op_fail(op, STORE_ENOTFOUND, "no such script");
		if (active)
			return 1;
	}
	int64_t state = store_sieve_next_state(op->q, r->account);
	if (state < 0)
		return store_op_sql_fail(op, (int)state, "sieve_activate");
	if (id == 0)
		return deactivate_all(op, r->account, state);
	return set_active(op, r->account, id, state);
}

int store_sieve_activate(struct store *s, int64_t account, int64_t id, const char *name, const char **error_r)
{
	struct simple_req req = { .account = account, .id = id, .name = name };
	return store_sql_write(s, store_op_new(NULL, apply_activate, NULL, &req, NULL), error_r);
}

int store_sieve_state(struct store *s, int64_t account, int64_t *state_r, const char **error_r)
{
	*state_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT modseq FROM sieve_state WHERE account_id = ?");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account);
		rc = sql_step(st);
		if (rc == SQL_ROW)
			*state_r = sql_col_int64(st, 0);
		sql_reset(st);
	}
	int ret = rc == SQL_ROW || rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "sieve_state", error_r);
	store_sql_put(s, q, db);
	return ret;
}
