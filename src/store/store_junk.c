/* store_junk.c: the junk filter's model (src/spam/junk.h), kept per account in the
 * store so that it goes with backups and with the account: junk_token (how many
 * learned spam and ham messages held each token), junk_count (how many messages were
 * learned, and the account's on/off switch) and junk_contact (addresses whose mail
 * leans ham). Writes go through the committer, one transaction per lesson; reads
 * look up only the tokens asked for, by primary key. Deleting an account deletes
 * its model (store_account.c). */
#include "store.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

struct junk_learn_req {
	int64_t account;
	const char *const *tokens;
	size_t n;
	int dspam, dham;
};

/* Adds d to a count that never goes below zero. */
#define CLAMP_ADD(col) col " = MAX(0, " col " + ?)"

static int apply_learn(struct store *s, struct store_op *op)
{
	struct junk_learn_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	if (store_acct_exists(c->sql, r->account) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)r->account);
	op->may_use_reserve = r->dspam < 0 || r->dham < 0;
	sqlite3_stmt *st =
		store_db_stmt(c, "INSERT INTO junk_count(account_id, nspam, nham) VALUES(?, MAX(0, ?), MAX(0, ?))"
				 " ON CONFLICT(account_id) DO UPDATE SET " CLAMP_ADD("nspam") ", " CLAMP_ADD("nham"));
	sqlite3_bind_int64(st, 1, r->account);
	sqlite3_bind_int(st, 2, r->dspam);
	sqlite3_bind_int(st, 3, r->dham);
	sqlite3_bind_int(st, 4, r->dspam);
	sqlite3_bind_int(st, 5, r->dham);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	for (size_t i = 0; i < r->n; i++) {
		st = store_db_stmt(
			c, "INSERT INTO junk_token(account_id, token, nspam, nham) VALUES(?, ?, MAX(0, ?), MAX(0, ?))"
			   " ON CONFLICT(account_id, token) DO UPDATE SET " CLAMP_ADD("nspam") ", " CLAMP_ADD("nham"));
		sqlite3_bind_int64(st, 1, r->account);
		store_bind_text(st, 2, r->tokens[i]);
		sqlite3_bind_int(st, 3, r->dspam);
		sqlite3_bind_int(st, 4, r->dham);
		sqlite3_bind_int(st, 5, r->dspam);
		sqlite3_bind_int(st, 6, r->dham);
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		if (r->dspam < 0 || r->dham < 0) {
			st = store_db_stmt(c, "DELETE FROM junk_token WHERE account_id = ? AND token = ?"
					      " AND nspam = 0 AND nham = 0");
			sqlite3_bind_int64(st, 1, r->account);
			store_bind_text(st, 2, r->tokens[i]);
			if (store_step_done(c, st, &err) < 0)
				return store_op_fail(op, STORE_ERR, "%s", err);
		}
	}
	return 1;
}

int store_junk_learn(struct store *s, int64_t account, const char *const *tokens, size_t n, int spam_delta,
		     int ham_delta, const char **error_r)
{
	if (spam_delta < -1 || spam_delta > 1 || ham_delta < -1 || ham_delta > 1) {
		*error_r = "junk lesson: deltas must be -1, 0 or 1";
		return STORE_EINVAL;
	}
	struct junk_learn_req req = {
		.account = account, .tokens = tokens, .n = n, .dspam = spam_delta, .dham = ham_delta
	};
	return store_op_run(s, store_op_new(NULL, apply_learn, NULL, &req, NULL), error_r);
}

int store_junk_read(struct store *s, int64_t account, struct store_junk_token *toks, size_t n,
		    struct store_junk_model *model_r, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	int ret = 1;
	memset(model_r, 0, sizeof(*model_r));
	model_r->enabled = true;
	sqlite3_stmt *st = store_db_stmt(c, "SELECT nspam, nham, off FROM junk_count WHERE account_id = ?");
	sqlite3_bind_int64(st, 1, account);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		model_r->nspam = sqlite3_column_int64(st, 0);
		model_r->nham = sqlite3_column_int64(st, 1);
		model_r->enabled = sqlite3_column_int(st, 2) == 0;
	} else if (rc != SQLITE_DONE) {
		ret = store_db_fail(c, "junk_read", error_r);
	}
	sqlite3_reset(st);
	for (size_t i = 0; ret > 0 && i < n; i++) {
		toks[i].nspam = toks[i].nham = 0;
		if (model_r->nspam == 0 && model_r->nham == 0)
			continue;
		st = store_db_stmt(c, "SELECT nspam, nham FROM junk_token WHERE account_id = ? AND token = ?");
		sqlite3_bind_int64(st, 1, account);
		store_bind_text(st, 2, toks[i].token);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			toks[i].nspam = sqlite3_column_int64(st, 0);
			toks[i].nham = sqlite3_column_int64(st, 1);
		} else if (rc != SQLITE_DONE) {
			ret = store_db_fail(c, "junk_read", error_r);
		}
		sqlite3_reset(st);
	}
	store_db_put(s, c);
	return ret;
}

int store_junk_is_contact(struct store *s, int64_t account, const char *address, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM junk_contact WHERE account_id = ? AND address = ?");
	sqlite3_bind_int64(st, 1, account);
	store_bind_text(st, 2, address);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW)
		ret = 1;
	else if (rc == SQLITE_DONE)
		ret = 0;
	else
		ret = store_db_fail(c, "junk_is_contact", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	return ret;
}

struct junk_contact_req {
	int64_t account;
	const char *const *addrs;
	size_t n;
};

static int apply_contacts(struct store *s, struct store_op *op)
{
	struct junk_contact_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	if (store_acct_exists(c->sql, r->account) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)r->account);
	for (size_t i = 0; i < r->n; i++) {
		sqlite3_stmt *st =
			store_db_stmt(c, "INSERT OR IGNORE INTO junk_contact(account_id, address) VALUES(?, ?)");
		sqlite3_bind_int64(st, 1, r->account);
		store_bind_text(st, 2, r->addrs[i]);
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
	}
	return 1;
}

int store_junk_contacts_add(struct store *s, int64_t account, const char *const *addresses, size_t n,
			    const char **error_r)
{
	struct junk_contact_req req = { .account = account, .addrs = addresses, .n = n };
	return store_op_run(s, store_op_new(NULL, apply_contacts, NULL, &req, NULL), error_r);
}

struct junk_switch_req {
	int64_t account;
	bool on;
};

static int apply_switch(struct store *s, struct store_op *op)
{
	struct junk_switch_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	if (store_acct_exists(c->sql, r->account) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)r->account);
	sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO junk_count(account_id, nspam, nham, off) VALUES(?, 0, 0, ?)"
					    " ON CONFLICT(account_id) DO UPDATE SET off = excluded.off");
	sqlite3_bind_int64(st, 1, r->account);
	sqlite3_bind_int(st, 2, r->on ? 0 : 1);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_junk_set_enabled(struct store *s, int64_t account, bool on, const char **error_r)
{
	struct junk_switch_req req = { .account = account, .on = on };
	return store_op_run(s, store_op_new(NULL, apply_switch, NULL, &req, NULL), error_r);
}

/* Reads the top tokens ordered by sql into out (arena). */
static int top_tokens(struct db *c, struct arena *a, const char *sql, int64_t account, size_t max,
		      struct store_junk_token **out_r, size_t *n_r, const char **error_r)
{
	struct store_junk_token *out = arena_alloc(a, (max + 1) * sizeof(*out));
	size_t n = 0;
	sqlite3_stmt *st = store_db_stmt(c, sql);
	sqlite3_bind_int64(st, 1, account);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		out[n].token = store_col_text(a, st, 0);
		out[n].nspam = sqlite3_column_int64(st, 1);
		out[n].nham = sqlite3_column_int64(st, 2);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_db_fail(c, "junk_stats", error_r);
	*out_r = out;
	*n_r = n;
	return 1;
}

int store_junk_stats(struct store *s, struct arena *a, int64_t account, size_t top, struct store_junk_stats *st_r,
		     const char **error_r)
{
	memset(st_r, 0, sizeof(*st_r));
	struct store_junk_token none;
	int ret = store_junk_read(s, account, &none, 0, &st_r->model, error_r);
	if (ret < 0)
		return ret;
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	static const char *const counts[] = {
		"SELECT COUNT(*) FROM junk_token WHERE account_id = ?",
		"SELECT COUNT(*) FROM junk_contact WHERE account_id = ?",
	};
	int64_t v[2] = { 0, 0 };
	for (size_t i = 0; ret > 0 && i < 2; i++) {
		sqlite3_stmt *st = store_db_stmt(c, counts[i]);
		sqlite3_bind_int64(st, 1, account);
		if (sqlite3_step(st) == SQLITE_ROW)
			v[i] = sqlite3_column_int64(st, 0);
		else
			ret = store_db_fail(c, "junk_stats", error_r);
		sqlite3_reset(st);
	}
	st_r->ntokens = v[0];
	st_r->ncontacts = v[1];
	if (ret > 0)
		ret = top_tokens(c, a,
				 "SELECT token, nspam, nham FROM junk_token WHERE account_id = ? AND nspam > nham"
				 " ORDER BY nspam - nham DESC, token LIMIT ?",
				 account, top, &st_r->top_spam, &st_r->ntop_spam, error_r);
	if (ret > 0)
		ret = top_tokens(c, a,
				 "SELECT token, nspam, nham FROM junk_token WHERE account_id = ? AND nham > nspam"
				 " ORDER BY nham - nspam DESC, token LIMIT ?",
				 account, top, &st_r->top_ham, &st_r->ntop_ham, error_r);
	store_db_put(s, c);
	return ret;
}
