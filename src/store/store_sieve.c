/* store_sieve.c: each account's Sieve scripts, its out-of-office settings and the
 * duplicate memory (store_sieve.h). Tables: sieve_scripts (one row per script: name,
 * text and compiled form as blobs, the active flag; at most one active row per
 * account, kept so by every write), sieve_state (the account's Sieve state, bumped
 * by every change, for JMAP), sieve_vacation (one row per account that set its
 * out-of-office reply) and sieve_duplicates (key, expiry). Every write is one op on
 * the committer, so the limits, the one-active rule and the duplicate check-and-set
 * hold against concurrent writers. Deleting an account deletes its rows
 * (store_account.c). */
#include "store.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

#define VACATION_TEXT_MAX (64 * 1024)
#define DUP_PRUNE 100

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

/* Bumps the account's Sieve state (inside a write); returns the new value or 0. */
static int64_t next_state(struct db *c, int64_t account)
{
	sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO sieve_state(account_id, modseq) VALUES(?, 1)"
					    " ON CONFLICT(account_id) DO UPDATE SET modseq = modseq + 1"
					    " RETURNING modseq");
	sqlite3_bind_int64(st, 1, account);
	int64_t v = 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* Fills the metadata columns id, name, active, modseq, size (0..4). */
static void read_meta(struct arena *a, sqlite3_stmt *st, struct store_sieve_script *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->id = sqlite3_column_int64(st, 0);
	sc->name = store_col_text(a, st, 1);
	sc->active = sqlite3_column_int(st, 2) != 0;
	sc->modseq = sqlite3_column_int64(st, 3);
	sc->size = (size_t)sqlite3_column_int64(st, 4);
}

int store_sieve_list(struct store *s, struct arena *a, int64_t account, struct store_sieve_script **scripts_r,
		     size_t *n_r, int64_t *state_r, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	int ret = 1;
	size_t n = 0, cap = 8;
	struct store_sieve_script *out = arena_alloc(a, cap * sizeof(*out));
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id, name, active, modseq, length(text) FROM sieve_scripts"
					    " WHERE account_id = ? ORDER BY name");
	sqlite3_bind_int64(st, 1, account);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct store_sieve_script *bigger = arena_alloc(a, 2 * cap * sizeof(*out));
			memcpy(bigger, out, n * sizeof(*out));
			out = bigger;
			cap *= 2;
		}
		read_meta(a, st, &out[n++]);
	}
	if (rc != SQLITE_DONE)
		ret = store_db_fail(c, "sieve_list", error_r);
	sqlite3_reset(st);
	if (ret > 0 && state_r != NULL) {
		*state_r = 0;
		st = store_db_stmt(c, "SELECT modseq FROM sieve_state WHERE account_id = ?");
		sqlite3_bind_int64(st, 1, account);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*state_r = sqlite3_column_int64(st, 0);
		else if (rc != SQLITE_DONE)
			ret = store_db_fail(c, "sieve_list", error_r);
		sqlite3_reset(st);
	}
	store_db_put(s, c);
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
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, sql);
	sqlite3_bind_int64(st, 1, account);
	if (!active && id > 0)
		sqlite3_bind_int64(st, 2, id);
	else if (!active)
		store_bind_text(st, 2, name != NULL ? name : "");
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		read_meta(a, st, sc);
		if (what & STORE_SIEVE_TEXT) {
			const void *t = sqlite3_column_blob(st, 5);
			char *text = arena_alloc(a, sc->size + 1);
			if (sc->size > 0)
				memcpy(text, t, sc->size);
			text[sc->size] = '\0';
			sc->text = text;
		}
		if ((what & STORE_SIEVE_COMPILED) && sqlite3_column_type(st, 6) == SQLITE_BLOB) {
			size_t n = (size_t)sqlite3_column_bytes(st, 6);
			void *b = arena_alloc(a, n + 1);
			if (n > 0)
				memcpy(b, sqlite3_column_blob(st, 6), n);
			sc->compiled = b;
			sc->compiled_len = n;
		}
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = store_db_fail(c, "sieve_get", error_r);
	}
	sqlite3_reset(st);
	store_db_put(s, c);
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
 * Returns the count or <0. */
static int64_t count_others(struct db *c, int64_t account, const char *name, int64_t id)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT COUNT(*) FROM sieve_scripts WHERE account_id = ?"
					    " AND name IS NOT ? AND id != ?");
	sqlite3_bind_int64(st, 1, account);
	store_bind_text(st, 2, name);
	sqlite3_bind_int64(st, 3, id);
	int64_t n = -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

static int check_space(struct db *c, int64_t account, const char *name, int64_t id, size_t size,
		       const struct store_sieve_limits *l, bool is_new, const char **error_r)
{
	if (l == NULL)
		return 1;
	if (l->max_script_size > 0 && size > l->max_script_size) {
		*error_r = store_set_errorf("script of %zu bytes is over the limit of %zu", size, l->max_script_size);
		return STORE_ETOOBIG;
	}
	if (l->max_scripts > 0 && is_new) {
		int64_t n = count_others(c, account, name, id);
		if (n < 0) {
			*error_r = "database error";
			return STORE_ERR;
		}
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
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM sieve_scripts WHERE account_id = ? AND name = ?");
	sqlite3_bind_int64(st, 1, account);
	store_bind_text(st, 2, name);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	int ret;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_db_fail(c, "sieve_havespace", error_r);
	else
		ret = check_space(c, account, name, 0, size, limits, rc == SQLITE_DONE, error_r);
	store_db_put(s, c);
	return ret;
}

struct put_req {
	int64_t account;
	const struct store_sieve_put *p;
	const struct store_sieve_limits *limits;
	int64_t id;
};

static int deactivate_all(struct store_op *op, struct db *c, int64_t account, int64_t state)
{
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "UPDATE sieve_scripts SET active = 0, modseq = ?"
					    " WHERE account_id = ? AND active = 1");
	sqlite3_bind_int64(st, 1, state);
	sqlite3_bind_int64(st, 2, account);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

static int set_active(struct store_op *op, struct db *c, int64_t account, int64_t id, int64_t state)
{
	if (deactivate_all(op, c, account, state) < 0)
		return op->result;
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "UPDATE sieve_scripts SET active = 1, modseq = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, state);
	sqlite3_bind_int64(st, 2, id);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

/* The id of the account's script `name`: >0, 0 none, <0 error. */
static int64_t id_of(struct db *c, int64_t account, const char *name)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id FROM sieve_scripts WHERE account_id = ? AND name = ?");
	sqlite3_bind_int64(st, 1, account);
	store_bind_text(st, 2, name);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : rc == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st);
	return id;
}

static int apply_put(struct store *s, struct store_op *op)
{
	struct put_req *r = op->req;
	const struct store_sieve_put *p = r->p;
	struct db *c = s->wc;
	const char *err;
	if (store_acct_exists(c->sql, r->account) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)r->account);
	int64_t id = p->id;
	if (id > 0) {
		sqlite3_stmt *st =
			store_db_stmt(c, "SELECT length(text) FROM sieve_scripts WHERE account_id = ? AND id = ?");
		sqlite3_bind_int64(st, 1, r->account);
		sqlite3_bind_int64(st, 2, id);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return store_op_fail(op, STORE_ENOTFOUND, "no such script");
		if (p->name != NULL) {
			int64_t other = id_of(c, r->account, p->name);
			if (other < 0)
				return store_op_fail(op, STORE_ERR, "database error");
			if (other > 0 && other != id)
				return store_op_fail(op, STORE_EEXISTS, "a script of that name exists");
		}
	} else {
		id = id_of(c, r->account, p->name);
		if (id < 0)
			return store_op_fail(op, STORE_ERR, "database error");
	}
	if (p->text != NULL) {
		const char *e = NULL;
		int ret = check_space(c, r->account, NULL, id, p->text_len, r->limits, id == 0, &e);
		if (ret < 0)
			return store_op_fail(op, ret, "%s", e);
	}
	int64_t state = next_state(c, r->account);
	if (state <= 0)
		return store_op_fail(op, STORE_ERR, "database error");
	sqlite3_stmt *st;
	if (id == 0) {
		st = store_db_stmt(c, "INSERT INTO sieve_scripts(account_id, name, text, compiled, active, modseq)"
				      " VALUES(?, ?, ?, ?, 0, ?) RETURNING id");
		sqlite3_bind_int64(st, 1, r->account);
		store_bind_text(st, 2, p->name);
		sqlite3_bind_blob(st, 3, p->text_len > 0 ? p->text : "", (int)p->text_len, SQLITE_STATIC);
		if (p->compiled != NULL)
			sqlite3_bind_blob(st, 4, p->compiled, (int)p->compiled_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, state);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (id <= 0)
			return store_op_fail(op, STORE_ERR, "cannot add the script");
	} else {
		if (p->name != NULL) {
			st = store_db_stmt(c, "UPDATE sieve_scripts SET name = ?, modseq = ? WHERE id = ?");
			store_bind_text(st, 1, p->name);
			sqlite3_bind_int64(st, 2, state);
			sqlite3_bind_int64(st, 3, id);
			if (store_step_done(c, st, &err) < 0)
				return store_op_fail(op, STORE_ERR, "%s", err);
		}
		if (p->text != NULL) {
			st = store_db_stmt(c,
					   "UPDATE sieve_scripts SET text = ?, compiled = ?, modseq = ? WHERE id = ?");
			sqlite3_bind_blob(st, 1, p->text_len > 0 ? p->text : "", (int)p->text_len, SQLITE_STATIC);
			if (p->compiled != NULL)
				sqlite3_bind_blob(st, 2, p->compiled, (int)p->compiled_len, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, 2);
			sqlite3_bind_int64(st, 3, state);
			sqlite3_bind_int64(st, 4, id);
			if (store_step_done(c, st, &err) < 0)
				return store_op_fail(op, STORE_ERR, "%s", err);
		}
	}
	if (p->activate && set_active(op, c, r->account, id, state) < 0)
		return op->result;
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
	int ret = store_op_run(s, store_op_new(NULL, apply_put, NULL, &req, NULL), error_r);
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
	struct simple_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "UPDATE sieve_scripts SET compiled = ? WHERE account_id = ? AND id = ?");
	if (r->bytes != NULL)
		sqlite3_bind_blob(st, 1, r->bytes, (int)r->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, r->account);
	sqlite3_bind_int64(st, 3, r->id);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	if (sqlite3_changes(c->db) == 0)
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
	return store_op_run(s, store_op_new(NULL, apply_compiled, NULL, &req, NULL), error_r);
}

static int apply_rename(struct store *s, struct store_op *op)
{
	struct simple_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	int64_t id = id_of(c, r->account, r->name);
	if (id < 0)
		return store_op_fail(op, STORE_ERR, "database error");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such script");
	int64_t other = id_of(c, r->account, r->name2);
	if (other < 0)
		return store_op_fail(op, STORE_ERR, "database error");
	if (other > 0 && other != id)
		return store_op_fail(op, STORE_EEXISTS, "a script of that name exists");
	int64_t state = next_state(c, r->account);
	sqlite3_stmt *st = store_db_stmt(c, "UPDATE sieve_scripts SET name = ?, modseq = ? WHERE id = ?");
	store_bind_text(st, 1, r->name2);
	sqlite3_bind_int64(st, 2, state);
	sqlite3_bind_int64(st, 3, id);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_sieve_rename(struct store *s, int64_t account, const char *from, const char *to, const char **error_r)
{
	if (!store_sieve_name_valid(to)) {
		*error_r = "invalid script name";
		return STORE_EINVAL;
	}
	struct simple_req req = { .account = account, .name = from, .name2 = to };
	return store_op_run(s, store_op_new(NULL, apply_rename, NULL, &req, NULL), error_r);
}

/* The id of script id/name in the account (id checked), 0 none, <0 error; *active_r. */
static int64_t find(struct db *c, int64_t account, int64_t id, const char *name, bool *active_r)
{
	sqlite3_stmt *st;
	if (id > 0) {
		st = store_db_stmt(c, "SELECT id, active FROM sieve_scripts WHERE account_id = ? AND id = ?");
		sqlite3_bind_int64(st, 2, id);
	} else {
		st = store_db_stmt(c, "SELECT id, active FROM sieve_scripts WHERE account_id = ? AND name = ?");
		store_bind_text(st, 2, name != NULL ? name : "");
	}
	sqlite3_bind_int64(st, 1, account);
	int rc = sqlite3_step(st);
	int64_t found = 0;
	*active_r = false;
	if (rc == SQLITE_ROW) {
		found = sqlite3_column_int64(st, 0);
		*active_r = sqlite3_column_int(st, 1) != 0;
	} else if (rc != SQLITE_DONE) {
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

static int apply_delete(struct store *s, struct store_op *op)
{
	struct simple_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	bool active;
	int64_t id = find(c, r->account, r->id, r->name, &active);
	if (id < 0)
		return store_op_fail(op, STORE_ERR, "database error");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such script");
	if (active)
		return store_op_fail(op, STORE_ENOTALLOWED, "the active script cannot be deleted");
	op->may_use_reserve = true;
	sqlite3_stmt *st = store_db_stmt(c, "DELETE FROM sieve_scripts WHERE id = ?");
	sqlite3_bind_int64(st, 1, id);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	if (next_state(c, r->account) <= 0)
		return store_op_fail(op, STORE_ERR, "database error");
	return 1;
}

int store_sieve_delete(struct store *s, int64_t account, int64_t id, const char *name, const char **error_r)
{
	struct simple_req req = { .account = account, .id = id, .name = name };
	return store_op_run(s, store_op_new(NULL, apply_delete, NULL, &req, NULL), error_r);
}

static int apply_activate(struct store *s, struct store_op *op)
{
	struct simple_req *r = op->req;
	struct db *c = s->wc;
	int64_t id = 0;
	if (r->id > 0 || (r->name != NULL && r->name[0] != '\0')) {
		bool active;
		id = find(c, r->account, r->id, r->name, &active);
		if (id < 0)
			return store_op_fail(op, STORE_ERR, "database error");
		if (id == 0)
			return store_op_fail(op, STORE_ENOTFOUND, "no such script");
		if (active)
			return 1;
	}
	int64_t state = next_state(c, r->account);
	if (state <= 0)
		return store_op_fail(op, STORE_ERR, "database error");
	if (id == 0)
		return deactivate_all(op, c, r->account, state);
	return set_active(op, c, r->account, id, state);
}

int store_sieve_activate(struct store *s, int64_t account, int64_t id, const char *name, const char **error_r)
{
	struct simple_req req = { .account = account, .id = id, .name = name };
	return store_op_run(s, store_op_new(NULL, apply_activate, NULL, &req, NULL), error_r);
}

int store_sieve_state(struct store *s, int64_t account, int64_t *state_r, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT modseq FROM sieve_state WHERE account_id = ?");
	sqlite3_bind_int64(st, 1, account);
	int rc = sqlite3_step(st), ret = 1;
	*state_r = 0;
	if (rc == SQLITE_ROW)
		*state_r = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		ret = store_db_fail(c, "sieve_state", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	return ret;
}

static const char *col_text_or_null(struct arena *a, sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NULL : store_col_text(a, st, i);
}

int store_sieve_vacation_get(struct store *s, struct arena *a, int64_t account, struct store_sieve_vacation *v_r,
			     const char **error_r)
{
	memset(v_r, 0, sizeof(*v_r));
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT enabled, from_date, to_date, subject, text_body, html_body"
					    " FROM sieve_vacation WHERE account_id = ?");
	sqlite3_bind_int64(st, 1, account);
	int rc = sqlite3_step(st), ret = 1;
	if (rc == SQLITE_ROW) {
		v_r->enabled = sqlite3_column_int(st, 0) != 0;
		v_r->from_date = sqlite3_column_int64(st, 1);
		v_r->to_date = sqlite3_column_int64(st, 2);
		v_r->subject = col_text_or_null(a, st, 3);
		v_r->text_body = col_text_or_null(a, st, 4);
		v_r->html_body = col_text_or_null(a, st, 5);
	} else if (rc != SQLITE_DONE) {
		ret = store_db_fail(c, "sieve_vacation_get", error_r);
	}
	sqlite3_reset(st);
	store_db_put(s, c);
	return ret;
}

struct vacation_req {
	int64_t account;
	const struct store_sieve_vacation *v;
};

static int apply_vacation(struct store *s, struct store_op *op)
{
	struct vacation_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	if (store_acct_exists(c->sql, r->account) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)r->account);
	sqlite3_stmt *st = store_db_stmt(
		c, "INSERT OR REPLACE INTO sieve_vacation(account_id, enabled, from_date, to_date, subject,"
		   " text_body, html_body) VALUES(?, ?, ?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, r->account);
	sqlite3_bind_int(st, 2, r->v->enabled ? 1 : 0);
	sqlite3_bind_int64(st, 3, r->v->from_date);
	sqlite3_bind_int64(st, 4, r->v->to_date);
	store_bind_text(st, 5, r->v->subject);
	store_bind_text(st, 6, r->v->text_body);
	store_bind_text(st, 7, r->v->html_body);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	if (next_state(c, r->account) <= 0)
		return store_op_fail(op, STORE_ERR, "database error");
	return 1;
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
	return store_op_run(s, store_op_new(NULL, apply_vacation, NULL, &req, NULL), error_r);
}

struct dup_req {
	int64_t account;
	const char *key;
	int64_t now, seconds;
};

static int apply_duplicate(struct store *s, struct store_op *op)
{
	struct dup_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "DELETE FROM sieve_duplicates WHERE rowid IN (SELECT rowid FROM"
					    " sieve_duplicates WHERE account_id = ? AND expires <= ? LIMIT ?)");
	sqlite3_bind_int64(st, 1, r->account);
	sqlite3_bind_int64(st, 2, r->now);
	sqlite3_bind_int(st, 3, DUP_PRUNE);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	st = store_db_stmt(c, "SELECT expires FROM sieve_duplicates WHERE account_id = ? AND key = ?");
	sqlite3_bind_int64(st, 1, r->account);
	store_bind_text(st, 2, r->key);
	int rc = sqlite3_step(st);
	int64_t expires = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_op_fail(op, STORE_ERR, "database error");
	if (rc == SQLITE_ROW && expires > r->now)
		return 0;
	st = store_db_stmt(c, "INSERT OR REPLACE INTO sieve_duplicates(account_id, key, expires) VALUES(?, ?, ?)");
	sqlite3_bind_int64(st, 1, r->account);
	store_bind_text(st, 2, r->key);
	sqlite3_bind_int64(st, 3, r->now + r->seconds);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_sieve_duplicate(struct store *s, int64_t account, const char *key, time_t now, int64_t seconds,
			  const char **error_r)
{
	if (seconds < 0) {
		*error_r = "negative period";
		return STORE_EINVAL;
	}
	struct dup_req req = { .account = account, .key = key, .now = (int64_t)now, .seconds = seconds };
	return store_op_run(s, store_op_new(NULL, apply_duplicate, NULL, &req, NULL), error_r);
}

int store_sieve_duplicate_seen(struct store *s, int64_t account, const char *key, time_t now, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM sieve_duplicates WHERE account_id = ? AND key = ?"
					    " AND expires > ?");
	sqlite3_bind_int64(st, 1, account);
	store_bind_text(st, 2, key);
	sqlite3_bind_int64(st, 3, (int64_t)now);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW)
		ret = 1;
	else if (rc == SQLITE_DONE)
		ret = 0;
	else
		ret = store_db_fail(c, "sieve_duplicate_seen", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	return ret;
}
