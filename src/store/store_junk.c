/* store_junk.c: the junk filter's model (src/spam/junk.h), kept per account in the
 * store so that it goes with backups and with the account: junk_token (how many
 * learned spam and ham messages held each token), junk_count (how many messages were
 * learned, and the account's on/off switch) and junk_contact (addresses whose mail
 * leans ham). Deleting an account deletes its model (store_account.c; on PostgreSQL
 * the tables' ON DELETE CASCADE).
 *
 * Everything here speaks sql.h, so the model is in the node's SQLite database or in
 * the PostgreSQL database all nodes share (docs/cluster.md): a lesson learned through
 * one node is used by every node's next classification. Writes are one transaction
 * per lesson (the committer's on SQLite). Tokens go by lists of JUNK_CHUNK in one
 * statement each (`token IN (...)`, unused places bound to NULL), not one statement
 * per token: a message has up to 1,000 tokens, and on PostgreSQL every statement is a
 * round trip. So a classification reads the account's totals and the counts of its
 * tokens, and whether the sender is a contact, in ceil(n / JUNK_CHUNK) statements (one
 * for most mail), and a lesson writes them in two per list. */
#include "store.h"
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

/* Tokens per statement, and their `?` places. */
#define JUNK_CHUNK 256
#define Q4 "?,?,?,?"
#define Q16 Q4 "," Q4 "," Q4 "," Q4
#define Q64 Q16 "," Q16 "," Q16 "," Q16
#define Q256 Q64 "," Q64 "," Q64 "," Q64
#define V4 "(?),(?),(?),(?)"
#define V16 V4 "," V4 "," V4 "," V4
#define V64 V16 "," V16 "," V16 "," V16
#define V256 V64 "," V64 "," V64 "," V64

/* The numbered parameter ?N, or 0 when it is negative (a new row's count). */
#define NOT_BELOW_0(n) "CASE WHEN CAST(?" n " AS bigint) < 0 THEN 0 ELSE CAST(?" n " AS bigint) END"
/* A count that never goes below zero: "col = col + d" clamped at 0 (CASE: SQLite's
 * MAX(a, b) is PostgreSQL's GREATEST). d is the numbered parameter ?N. */
#define CLAMP_ADD(table, col, n) \
	col " = CASE WHEN " table "." col " + CAST(?" n " AS bigint) < 0 THEN 0 ELSE " table "." col " + CAST(?" n " AS bigint) END"

/* Binds tokens[off, off + JUNK_CHUNK) from parameter `first` on, NULL past n. */
static void bind_chunk(struct sql_stmt *st, int first, const char *const *tokens, size_t n, size_t off)
{
	for (size_t k = 0; k < JUNK_CHUNK; k++)
		sql_bind_text(st, first + (int)k, off + k < n ? tokens[off + k] : NULL);
}

struct junk_learn_req {
	int64_t account;
	const char *const *tokens;
	size_t n;
	int dspam, dham;
};

static int apply_learn(struct store *s, struct store_op *op)
{
	(void)s;
	struct junk_learn_req *r = op->req;
	int x = store_acct_exists(op->q, r->account);
	if (x <= 0)
		return x < 0 ? store_op_sql_fail(op, SQL_ERR, "junk_learn")
			     : store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)r->account);
	op->may_use_reserve = r->dspam < 0 || r->dham < 0;
	struct sql_stmt *st =
		sql_prepare(op->q, "INSERT INTO junk_count(account_id, nspam, nham) VALUES(?1, ?2, ?3)"
				   " ON CONFLICT(account_id) DO UPDATE SET " CLAMP_ADD("junk_count", "nspam", "4") ", "
				   CLAMP_ADD("junk_count", "nham", "5"));
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account);
		sql_bind_int64(st, 2, r->dspam > 0 ? r->dspam : 0);
		sql_bind_int64(st, 3, r->dham > 0 ? r->dham : 0);
		sql_bind_int64(st, 4, r->dspam);
		sql_bind_int64(st, 5, r->dham);
	}
	if (store_op_step(op, st, "junk_learn") < 0)
		return op->result;
	for (size_t off = 0; off < r->n; off += JUNK_CHUNK) {
		/* DISTINCT: PostgreSQL refuses an upsert that meets one row twice; the WHERE
		 * drops the unused places (and settles SQLite's upsert-after-SELECT parse).
		 * Only numbered parameters before the list: a plain `?` takes the number after
		 * the highest so far, so the list is ?4 to ?259 on both engines. */
		st = sql_prepare(op->q, "INSERT INTO junk_token(account_id, token, nspam, nham)"
					" SELECT DISTINCT CAST(?1 AS bigint), v.column1, " NOT_BELOW_0("2") ", " NOT_BELOW_0("3")
					" FROM (VALUES " V256 ") AS v WHERE v.column1 IS NOT NULL"
					" ON CONFLICT(account_id, token) DO UPDATE SET "
					CLAMP_ADD("junk_token", "nspam", "2") ", " CLAMP_ADD("junk_token", "nham", "3"));
		if (st != NULL) {
			sql_bind_int64(st, 1, r->account);
			sql_bind_int64(st, 2, r->dspam);
			sql_bind_int64(st, 3, r->dham);
			bind_chunk(st, 4, r->tokens, r->n, off);
		}
		if (store_op_step(op, st, "junk_learn") < 0)
			return op->result;
		if (r->dspam >= 0 && r->dham >= 0)
			continue;
		st = sql_prepare(op->q, "DELETE FROM junk_token WHERE account_id = ?1 AND nspam = 0 AND nham = 0"
					" AND token IN (" Q256 ")");
		if (st != NULL) {
			sql_bind_int64(st, 1, r->account);
			bind_chunk(st, 2, r->tokens, r->n, off);
		}
		if (store_op_step(op, st, "junk_learn") < 0)
			return op->result;
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
	return store_sql_write(s, store_op_new(NULL, apply_learn, NULL, &req, NULL), error_r);
}

/* Orders indexes into a token array by token text (qsort_r's comparison). */
static int cmp_tok(const void *x, const void *y, void *arg)
{
	const struct store_junk_token *toks = arg;
	return strcmp(toks[*(const size_t *)x].token, toks[*(const size_t *)y].token);
}

/* Sets the counts of every token in toks (indexes sorted by text in ord) named tok. */
static void put_counts(struct store_junk_token *toks, const size_t *ord, size_t n, const char *tok, int64_t nspam,
		       int64_t nham)
{
	size_t lo = 0, hi = n;
	while (lo < hi) { /* the first whose text is >= tok */
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(toks[ord[mid]].token, tok) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < n && strcmp(toks[ord[lo]].token, tok) == 0; lo++) {
		toks[ord[lo]].nspam = nspam;
		toks[ord[lo]].nham = nham;
	}
}

int store_junk_read(struct store *s, int64_t account, struct store_junk_token *toks, size_t n,
		    struct store_junk_model *model_r, const char **error_r)
{
	return store_junk_read_with(s, account, toks, n, NULL, model_r, NULL, error_r);
}

int store_junk_read_with(struct store *s, int64_t account, struct store_junk_token *toks, size_t n,
			 const char *contact, struct store_junk_model *model_r, bool *is_contact_r,
			 const char **error_r)
{
	memset(model_r, 0, sizeof(*model_r));
	model_r->enabled = true;
	if (is_contact_r != NULL)
		*is_contact_r = false;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	size_t *ord = n > 0 ? xmalloc(n * sizeof(*ord)) : NULL;
	const char **texts = n > 0 ? xmalloc(n * sizeof(*texts)) : NULL;
	for (size_t i = 0; i < n; i++) {
		ord[i] = i;
		texts[i] = toks[i].token;
		toks[i].nspam = toks[i].nham = 0;
	}
	if (n > 1)
		qsort_r(ord, n, sizeof(*ord), cmp_tok, toks);
	int ret = 1;
	/* the totals and switch (kind 0), whether contact is a contact (kind 1) and the
	 * counts of each list of tokens (kind 2) in one statement, so that most
	 * classifications cost one round trip here */
	for (size_t off = 0; ret > 0 && (off < n || off == 0); off += JUNK_CHUNK) {
		struct sql_stmt *st =
			sql_prepare(q, "SELECT 0, NULL, nspam, nham, off FROM junk_count WHERE account_id = ?1"
				       " UNION ALL SELECT 1, NULL, 0, 0, 0 FROM junk_contact WHERE account_id = ?1"
				       " AND address = ?2"
				       " UNION ALL SELECT 2, token, nspam, nham, 0 FROM junk_token WHERE account_id = ?1"
				       " AND token IN (" Q256 ")");
		if (st == NULL) {
			ret = store_sql_fail(q, SQL_ERR, "junk_read", error_r);
			break;
		}
		sql_bind_int64(st, 1, account);
		sql_bind_text(st, 2, off == 0 ? contact : NULL);
		bind_chunk(st, 3, texts, n, off);
		int rc;
		while ((rc = sql_step(st)) == SQL_ROW) {
			int64_t kind = sql_col_int64(st, 0);
			if (kind == 0) {
				model_r->nspam = sql_col_int64(st, 2);
				model_r->nham = sql_col_int64(st, 3);
				model_r->enabled = sql_col_int64(st, 4) == 0;
			} else if (kind == 1) {
				if (is_contact_r != NULL)
					*is_contact_r = true;
			} else {
				put_counts(toks, ord, n, sql_col_text(st, 1), sql_col_int64(st, 2), sql_col_int64(st, 3));
			}
		}
		sql_reset(st);
		if (rc != SQL_DONE)
			ret = store_sql_fail(q, rc, "junk_read", error_r);
	}
	store_sql_put(s, q, db);
	if (model_r->nspam == 0 && model_r->nham == 0) /* nothing learned: no token counts */
		for (size_t i = 0; i < n; i++)
			toks[i].nspam = toks[i].nham = 0;
	free(ord);
	free(texts);
	return ret;
}

int store_junk_is_contact(struct store *s, int64_t account, const char *address, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM junk_contact WHERE account_id = ? AND address = ?");
	int rc = SQL_ERR, ret;
	if (st != NULL) {
		sql_bind_int64(st, 1, account);
		sql_bind_text(st, 2, address);
		rc = sql_step(st);
		sql_reset(st);
	}
	if (rc == SQL_ROW)
		ret = 1;
	else if (rc == SQL_DONE)
		ret = 0;
	else
		ret = store_sql_fail(q, rc, "junk_is_contact", error_r);
	store_sql_put(s, q, db);
	return ret;
}

struct junk_contact_req {
	int64_t account;
	const char *const *addrs;
	size_t n;
};

static int apply_contacts(struct store *s, struct store_op *op)
{
	(void)s;
	struct junk_contact_req *r = op->req;
	int x = store_acct_exists(op->q, r->account);
	if (x <= 0)
		return x < 0 ? store_op_sql_fail(op, SQL_ERR, "junk_contacts")
			     : store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)r->account);
	for (size_t i = 0; i < r->n; i++) {
		struct sql_stmt *st =
			sql_prepare(op->q, "INSERT OR IGNORE INTO junk_contact(account_id, address) VALUES(?, ?)");
		if (st != NULL) {
			sql_bind_int64(st, 1, r->account);
			sql_bind_text(st, 2, r->addrs[i]);
		}
		if (store_op_step(op, st, "junk_contacts") < 0)
			return op->result;
	}
	return 1;
}

int store_junk_contacts_add(struct store *s, int64_t account, const char *const *addresses, size_t n,
			    const char **error_r)
{
	struct junk_contact_req req = { .account = account, .addrs = addresses, .n = n };
	return store_sql_write(s, store_op_new(NULL, apply_contacts, NULL, &req, NULL), error_r);
}

struct junk_switch_req {
	int64_t account;
	bool on;
};

static int apply_switch(struct store *s, struct store_op *op)
{
	(void)s;
	struct junk_switch_req *r = op->req;
	int x = store_acct_exists(op->q, r->account);
	if (x <= 0)
		return x < 0 ? store_op_sql_fail(op, SQL_ERR, "junk_switch")
			     : store_op_fail(op, STORE_ENOTFOUND, "no account %lld", (long long)r->account);
	struct sql_stmt *st = sql_prepare(op->q, "INSERT INTO junk_count(account_id, nspam, nham, off) VALUES(?, 0, 0, ?)"
						 " ON CONFLICT(account_id) DO UPDATE SET off = excluded.off");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account);
		sql_bind_int64(st, 2, r->on ? 0 : 1);
	}
	return store_op_step(op, st, "junk_switch");
}

int store_junk_set_enabled(struct store *s, int64_t account, bool on, const char **error_r)
{
	struct junk_switch_req req = { .account = account, .on = on };
	return store_sql_write(s, store_op_new(NULL, apply_switch, NULL, &req, NULL), error_r);
}

/* Reads the top tokens ordered by sql into out (arena). */
static int top_tokens(struct sql_conn *q, struct arena *a, const char *sql, int64_t account, size_t max,
		      struct store_junk_token **out_r, size_t *n_r, const char **error_r)
{
	struct store_junk_token *out = arena_alloc(a, (max + 1) * sizeof(*out));
	size_t n = 0;
	struct sql_stmt *st = sql_prepare(q, sql);
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, "junk_stats", error_r);
	sql_bind_int64(st, 1, account);
	sql_bind_int64(st, 2, (int64_t)max);
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW && n < max) {
		out[n].token = arena_strdup(a, sql_col_text(st, 0));
		out[n].nspam = sql_col_int64(st, 1);
		out[n].nham = sql_col_int64(st, 2);
		n++;
	}
	sql_reset(st);
	if (rc != SQL_DONE && rc != SQL_ROW)
		return store_sql_fail(q, rc, "junk_stats", error_r);
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
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	static const char *const counts[] = {
		"SELECT COUNT(*) FROM junk_token WHERE account_id = ?",
		"SELECT COUNT(*) FROM junk_contact WHERE account_id = ?",
	};
	int64_t v[2] = { 0, 0 };
	for (size_t i = 0; ret > 0 && i < 2; i++) {
		struct sql_stmt *st = sql_prepare(q, counts[i]);
		int rc = SQL_ERR;
		if (st != NULL) {
			sql_bind_int64(st, 1, account);
			rc = sql_step(st);
			if (rc == SQL_ROW)
				v[i] = sql_col_int64(st, 0);
			sql_reset(st);
		}
		if (rc != SQL_ROW)
			ret = store_sql_fail(q, rc, "junk_stats", error_r);
	}
	st_r->ntokens = v[0];
	st_r->ncontacts = v[1];
	if (ret > 0)
		ret = top_tokens(q, a,
				 "SELECT token, nspam, nham FROM junk_token WHERE account_id = ? AND nspam > nham"
				 " ORDER BY nspam - nham DESC, token LIMIT ?",
				 account, top, &st_r->top_spam, &st_r->ntop_spam, error_r);
	if (ret > 0)
		ret = top_tokens(q, a,
				 "SELECT token, nspam, nham FROM junk_token WHERE account_id = ? AND nham > nspam"
				 " ORDER BY nham - nspam DESC, token LIMIT ?",
				 account, top, &st_r->top_ham, &st_r->ntop_ham, error_r);
	store_sql_put(s, q, db);
	return ret;
}
