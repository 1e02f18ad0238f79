/* store_web.c: the webmail's rows (store_web.h): sessions by token hash, the
 * per-account preferences (identities, settings) as checked JSON text, and the
 * contacts for the address autocomplete. All three are tables of their own, so that
 * older databases get them at the next start without an ALTER or a migration.
 *
 * Written against sql.h, so the same code runs on SQLite and on PostgreSQL, where
 * these rows are shared by every node (docs/cluster.md): a session made on one node
 * is valid on all. The SQL avoids what only one engine has: no INSERT OR REPLACE (an
 * upsert instead), no two-argument MAX (CASE), no LIMIT -1; the parameters of an
 * INSERT ... SELECT carry a CAST (PostgreSQL cannot infer their types there). */
#include "store_int.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ sessions */

struct websession_req {
	struct store_websession ws;
	int64_t expire_before;
	int64_t account_id;
	bool all; /* del: every session of account_id */
};

static int apply_session_put(struct store *s, struct store_op *op)
{
	(void)s;
	struct websession_req *r = op->req;
	struct sql_stmt *st = sql_prepare(op->q, "DELETE FROM web_sessions WHERE account_id = ? AND last_used < ?");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->ws.account_id);
		sql_bind_int64(st, 2, r->expire_before);
	}
	int ret = store_op_step(op, st, "websession_put");
	if (ret < 0)
		return ret;
	/* only for an account that exists (it may have been deleted since the login) */
	st = sql_prepare(op->q, "INSERT INTO web_sessions(hash, account_id, address, generation, created, last_used)"
				" SELECT CAST(? AS TEXT), id, CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT),"
				" CAST(? AS BIGINT) FROM accounts WHERE id = ? ON CONFLICT(hash) DO UPDATE SET"
				" account_id = excluded.account_id, address = excluded.address,"
				" generation = excluded.generation, created = excluded.created,"
				" last_used = excluded.last_used");
	if (st != NULL) {
		sql_bind_text(st, 1, r->ws.hash);
		sql_bind_text(st, 2, r->ws.address);
		sql_bind_int64(st, 3, (int64_t)r->ws.generation);
		sql_bind_int64(st, 4, r->ws.created);
		sql_bind_int64(st, 5, r->ws.last_used);
		sql_bind_int64(st, 6, r->ws.account_id);
	}
	ret = store_op_step(op, st, "websession_put");
	if (ret < 0)
		return ret;
	if (sql_changes(op->q) == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such account");
	return 1;
}

static int apply_session_touch(struct store *s, struct store_op *op)
{
	(void)s;
	struct websession_req *r = op->req;
	struct sql_stmt *st =
		sql_prepare(op->q, "UPDATE web_sessions SET last_used = ?1 WHERE hash = ?2 AND last_used < ?1");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->ws.last_used);
		sql_bind_text(st, 2, r->ws.hash);
	}
	return store_op_step(op, st, "websession_touch");
}

static int apply_session_del(struct store *s, struct store_op *op)
{
	(void)s;
	struct websession_req *r = op->req;
	struct sql_stmt *st;
	if (r->all) {
		st = sql_prepare(op->q, "DELETE FROM web_sessions WHERE account_id = ?");
		if (st != NULL)
			sql_bind_int64(st, 1, r->account_id);
	} else {
		st = sql_prepare(op->q, "DELETE FROM web_sessions WHERE hash = ?");
		if (st != NULL)
			sql_bind_text(st, 1, r->ws.hash);
	}
	return store_op_step(op, st, "websession_del");
}

/* The request lives in the op's own scratch arena, so that an async op owns it. The
 * applies use only op->q: the op runs on either backend. */
static struct store_op *session_op(op_fn *apply, const struct store_websession *ws, int64_t expire_before,
				   int64_t account_id, const char *hash)
{
	struct store_op *op = store_op_new(NULL, apply, NULL, NULL, NULL);
	op->sql_ready = true;
	struct websession_req *r = arena_alloc(op->tmp, sizeof(*r));
	memset(r, 0, sizeof(*r));
	if (ws != NULL)
		r->ws = *ws;
	if (hash != NULL)
		snprintf(r->ws.hash, sizeof(r->ws.hash), "%s", hash);
	r->expire_before = expire_before;
	r->account_id = account_id;
	r->all = ws == NULL && hash == NULL;
	op->req = r;
	return op;
}

void store_websession_put(struct store *s, const struct store_websession *ws, int64_t expire_before, struct loop *loop,
			  void (*done)(void *arg, int result, const char *error), void *arg)
{
	store_op_submit_async(s, session_op(apply_session_put, ws, expire_before, ws->account_id, NULL), loop, done,
			      arg);
}

int store_websession_put_sync(struct store *s, const struct store_websession *ws, int64_t expire_before,
			      const char **error_r)
{
	return store_op_run(s, session_op(apply_session_put, ws, expire_before, ws->account_id, NULL), error_r);
}

void store_websession_touch(struct store *s, const char *hash, int64_t last_used)
{
	struct store_websession ws = { .last_used = last_used };
	snprintf(ws.hash, sizeof(ws.hash), "%s", hash);
	store_op_submit_async(s, session_op(apply_session_touch, &ws, 0, 0, NULL), NULL, NULL, NULL);
}

void store_websession_del(struct store *s, int64_t account_id, const char *hash, struct loop *loop,
			  void (*done)(void *arg, int result, const char *error), void *arg)
{
	store_op_submit_async(s, session_op(apply_session_del, NULL, 0, account_id, hash), loop, done, arg);
}

int store_websession_del_sync(struct store *s, int64_t account_id, const char *hash, const char **error_r)
{
	return store_op_run(s, session_op(apply_session_del, NULL, 0, account_id, hash), error_r);
}

int store_websession_get(struct store *s, const char *hash, int64_t expire_before, struct store_websession *ws_r,
			 const char **error_r)
{
	if (strlen(hash) != STORE_WEBSESSION_HASH_LEN)
		return 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT account_id, address, generation, created, last_used"
					     " FROM web_sessions WHERE hash = ?");
	int rc = SQL_ERR, ret;
	if (st != NULL) {
		sql_bind_text(st, 1, hash);
		rc = sql_step(st);
	}
	if (rc == SQL_ROW) {
		memset(ws_r, 0, sizeof(*ws_r));
		snprintf(ws_r->hash, sizeof(ws_r->hash), "%s", hash);
		ws_r->account_id = sql_col_int64(st, 0);
		snprintf(ws_r->address, sizeof(ws_r->address), "%s", sql_col_text(st, 1));
		ws_r->generation = (uint64_t)sql_col_int64(st, 2);
		ws_r->created = sql_col_int64(st, 3);
		ws_r->last_used = sql_col_int64(st, 4);
		ret = 1;
	} else if (rc == SQL_DONE) {
		ret = 0;
	} else {
		ret = store_sql_fail(q, rc, "websession_get", error_r);
	}
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	if (ret > 0 && ws_r->last_used < expire_before) {
		store_websession_del(s, ws_r->account_id, hash, NULL, NULL, NULL);
		ret = 0;
	}
	return ret;
}

/* ------------------------------------------------------------------ preferences */

struct webpref_req {
	int64_t account_id;
	int kind;
	const char *json;
	int64_t if_state;
	int64_t state; /* out */
};

static int apply_webpref_set(struct store *s, struct store_op *op)
{
	(void)s;
	struct webpref_req *r = op->req;
	/* two nodes setting at once: the second waits here, then sees the first's state */
	int rc = store_sql_lock_account(op->q, STORE_LOCK_WEBPREFS, r->account_id);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "webpref_set");
	int x = store_acct_exists(op->q, r->account_id);
	if (x < 0)
		return store_op_sql_fail(op, SQL_ERR, "webpref_set");
	if (x == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such account");
	struct sql_stmt *st = sql_prepare(op->q, "SELECT state FROM web_prefs WHERE account_id = ? AND kind = ?");
	rc = SQL_ERR;
	int64_t cur = 0;
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account_id);
		sql_bind_int64(st, 2, r->kind);
		rc = sql_step(st);
		if (rc == SQL_ROW)
			cur = sql_col_int64(st, 0);
		sql_reset(st);
	}
	if (rc < 0)
		return store_op_sql_fail(op, rc, "webpref_set");
	if (r->if_state >= 0 && r->if_state != cur)
		return store_op_fail(op, STORE_ENOTALLOWED, "state mismatch");
	st = sql_prepare(op->q, "INSERT INTO web_prefs(account_id, kind, value, state) VALUES(?, ?, ?, ?)"
				" ON CONFLICT(account_id, kind) DO UPDATE SET value = excluded.value,"
				" state = excluded.state");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account_id);
		sql_bind_int64(st, 2, r->kind);
		sql_bind_text(st, 3, r->json);
		sql_bind_int64(st, 4, cur + 1);
	}
	int ret = store_op_step(op, st, "webpref_set");
	if (ret < 0)
		return ret;
	r->state = cur + 1;
	return 1;
}

int store_webpref_set(struct store *s, int64_t account_id, enum store_webpref kind, const char *json, size_t max_len,
		      int64_t if_state, int64_t *state_r, const char **error_r)
{
	if (json == NULL || (max_len > 0 && strlen(json) > max_len)) {
		*error_r = store_set_errorf("preference over %zu bytes", max_len);
		return STORE_EINVAL;
	}
	struct webpref_req r = { account_id, (int)kind, json, if_state, 0 };
	int ret = store_sql_write(s, store_op_new(NULL, apply_webpref_set, NULL, &r, NULL), error_r);
	if (ret > 0)
		*state_r = r.state;
	return ret;
}

int store_webpref_get(struct store *s, struct arena *a, int64_t account_id, enum store_webpref kind,
		      const char **json_r, int64_t *state_r, const char **error_r)
{
	*json_r = NULL;
	*state_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT value, state FROM web_prefs WHERE account_id = ? AND kind = ?");
	int rc = SQL_ERR, ret;
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		sql_bind_int64(st, 2, (int)kind);
		rc = sql_step(st);
	}
	if (rc == SQL_ROW) {
		*json_r = arena_strdup(a, sql_col_text(st, 0));
		*state_r = sql_col_int64(st, 1);
		ret = 1;
	} else if (rc == SQL_DONE) {
		ret = 0;
	} else {
		ret = store_sql_fail(q, rc, "webpref_get", error_r);
	}
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	return ret;
}

/* ------------------------------------------------------------------ contacts */

struct contact_req {
	int64_t account_id, now;
	const struct store_contact *v;
	size_t n, max;
};

static int apply_contact_use(struct store *s, struct store_op *op)
{
	(void)s;
	struct contact_req *r = op->req;
	for (size_t i = 0; i < r->n; i++) {
		const struct store_contact *k = &r->v[i];
		if (k->address == NULL || k->address[0] == '\0' || strlen(k->address) > STORE_ADDRESS_MAX)
			continue;
		struct sql_stmt *st = sql_prepare(
			op->q, "INSERT INTO contacts(account_id, address, name, uses, last_used) VALUES(?, ?, ?, 1, ?)"
			       " ON CONFLICT(account_id, address) DO UPDATE SET uses = contacts.uses + 1,"
			       " last_used = CASE WHEN excluded.last_used > contacts.last_used"
			       " THEN excluded.last_used ELSE contacts.last_used END,"
			       " name = COALESCE(excluded.name, contacts.name)");
		if (st != NULL) {
			sql_bind_int64(st, 1, r->account_id);
			sql_bind_text(st, 2, k->address);
			sql_bind_text(st, 3, k->name != NULL && k->name[0] != '\0' ? k->name : NULL);
			sql_bind_int64(st, 4, r->now);
		}
		int ret = store_op_step(op, st, "contact_use");
		if (ret < 0)
			return ret;
	}
	if (r->max == 0)
		return 1;
	/* the least used (then the oldest) beyond the limit go */
	struct sql_stmt *st = sql_prepare(op->q, "DELETE FROM contacts WHERE account_id = ?1 AND address NOT IN"
						 " (SELECT address FROM contacts WHERE account_id = ?1"
						 " ORDER BY uses DESC, last_used DESC LIMIT ?2)");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account_id);
		sql_bind_int64(st, 2, (int64_t)r->max);
	}
	return store_op_step(op, st, "contact_use");
}

int store_contact_use(struct store *s, int64_t account_id, const struct store_contact *v, size_t n, int64_t now,
		      size_t max_per_account, const char **error_r)
{
	if (n == 0)
		return 1;
	struct contact_req r = { account_id, now, v, n, max_per_account };
	struct store_op *op = store_op_new(NULL, apply_contact_use, NULL, &r, NULL);
	op->sql_ready = true;
	return store_op_run(s, op, error_r);
}

/* Personal mail received (store_deliver.c, in the delivery's transaction): one
 * UPSERT, unless the sender is the account itself or the copy went to a folder
 * that is no sign of acquaintance (Junk, Trash, Sent, Drafts). Only a new row costs
 * more: beyond max rows the lowest ranked go. A failure costs a suggestion only. */
static int contact_received(struct sql_conn *q, int64_t account_id, int64_t mailbox_id, const char *address,
			    const char *name, int64_t now, size_t max)
{
	assert(address != NULL);
	if (strlen(address) > STORE_ADDRESS_MAX)
		return 0;
	struct sql_stmt *st = sql_prepare(
		q,
		"INSERT INTO contacts_received(account_id, address, name, received, last_received)"
		" SELECT CAST(?1 AS BIGINT), CAST(?2 AS TEXT), CAST(?3 AS TEXT), 1, CAST(?4 AS BIGINT) WHERE NOT EXISTS"
		" (SELECT 1 FROM accounts WHERE id = ?1 AND address = ?2) AND NOT EXISTS"
		" (SELECT 1 FROM mailboxes WHERE id = ?5 AND special_use & ?6 != 0)"
		" ON CONFLICT(account_id, address) DO UPDATE SET received = contacts_received.received + 1,"
		" last_received = CASE WHEN excluded.last_received > contacts_received.last_received"
		" THEN excluded.last_received ELSE contacts_received.last_received END,"
		" name = COALESCE(excluded.name, contacts_received.name) RETURNING received");
	if (st == NULL)
		return -1;
	sql_bind_int64(st, 1, account_id);
	sql_bind_text(st, 2, address);
	sql_bind_text(st, 3, name);
	sql_bind_int64(st, 4, now);
	sql_bind_int64(st, 5, mailbox_id);
	sql_bind_int64(st, 6, STORE_SU_JUNK | STORE_SU_TRASH | STORE_SU_SENT | STORE_SU_DRAFTS);
	int rc = sql_step(st);
	bool fresh = rc == SQL_ROW && sql_col_int64(st, 0) == 1;
	while (rc == SQL_ROW)
		rc = sql_step(st);
	sql_reset(st);
	if (rc != SQL_DONE)
		return -1;
	if (!fresh || max == 0)
		return 1;
	st = sql_prepare(q, "SELECT count(*) FROM contacts_received WHERE account_id = ?");
	if (st == NULL)
		return -1;
	sql_bind_int64(st, 1, account_id);
	int64_t n = sql_step(st) == SQL_ROW ? sql_col_int64(st, 0) : 0;
	sql_reset(st);
	if (n <= (int64_t)max)
		return 1;
	/* the least received, then the longest unheard of, go */
	st = sql_prepare(q, "DELETE FROM contacts_received WHERE account_id = ?1 AND address NOT IN (SELECT address"
			    " FROM contacts_received WHERE account_id = ?1 ORDER BY received DESC, last_received DESC"
			    " LIMIT ?2)");
	if (st == NULL)
		return -1;
	sql_bind_int64(st, 1, account_id);
	sql_bind_int64(st, 2, (int64_t)max);
	return sql_step_done(st) < 0 ? -1 : 1;
}

int store_contact_received(struct sql_conn *q, int64_t account_id, int64_t mailbox_id, const char *address,
			   const char *name, int64_t now, size_t max)
{
	/* a failed statement ends a PostgreSQL transaction unless rolled back to a
	 * savepoint; SQLite's goes on */
	bool pg = sql_engine(q) == SQL_PG;
	if (pg && sql_exec(q, "SAVEPOINT contact_received") < 0)
		return -1;
	int r = contact_received(q, account_id, mailbox_id, address, name, now, max);
	if (pg && sql_exec(q, r < 0 ? "ROLLBACK TO SAVEPOINT contact_received; RELEASE SAVEPOINT contact_received"
				    : "RELEASE SAVEPOINT contact_received") < 0)
		return -1;
	return r;
}

/* The contacts of both tables matching `where` (?1 the account, ?2 the pattern),
 * merged by address: sent counts the account's uses, received the mail it got; the
 * name it wrote to wins over the one a sender gave. Ranked by
 * (4 x sent + received) / (30 + days since last seen): a use weighs four received
 * messages, and a month without one halves a contact's rank. ?3 the limit, ?4 now.
 * (COLLATE NOCASE is dropped on PostgreSQL, where the address columns are citext.) */
#define CONTACT_SELECT(where)                                                                             \
	"SELECT MIN(address), COALESCE(MAX(CASE WHEN sent > 0 THEN name END), MAX(name)), SUM(sent),"     \
	" SUM(recv), MAX(last) FROM (SELECT address, name, uses AS sent, 0 AS recv, last_used AS last"    \
	" FROM contacts WHERE account_id = ?1 AND " where " UNION ALL SELECT address, name, 0, received," \
	" last_received FROM contacts_received WHERE account_id = ?1 AND " where ") AS u"                 \
	" GROUP BY address COLLATE NOCASE ORDER BY (4.0 * SUM(sent) + SUM(recv)) /"                       \
	" (30.0 + CASE WHEN ?4 > MAX(last) THEN ?4 - MAX(last) ELSE 0 END / 86400.0) DESC, MIN(address)"  \
	" LIMIT ?3"

static int contacts_read(struct store *s, struct arena *a, struct sql_conn *q, struct db *db, struct sql_stmt *st,
			 size_t limit, struct store_contact **v_r, size_t *n_r, const char **error_r)
{
	size_t n = 0;
	struct store_contact *v = arena_alloc(a, (limit > 0 ? limit : 1) * sizeof(*v));
	int rc = st != NULL ? SQL_ROW : SQL_ERR;
	while (st != NULL && (rc = sql_step(st)) == SQL_ROW && n < limit) {
		v[n].address = arena_strdup(a, sql_col_text(st, 0));
		v[n].name = sql_col_null(st, 1) ? NULL : arena_strdup(a, sql_col_text(st, 1));
		v[n].uses = sql_col_int64(st, 2);
		v[n].received = sql_col_int64(st, 3);
		v[n].last_used = sql_col_int64(st, 4);
		n++;
	}
	int ret = rc == SQL_DONE || rc == SQL_ROW ? 1 : store_sql_fail(q, rc, "contact_query", error_r);
	if (st != NULL)
		sql_reset(st);
	store_sql_put(s, q, db);
	*v_r = v;
	*n_r = n;
	return ret;
}

int store_contact_get(struct store *s, struct arena *a, int64_t account_id, const char *address, int64_t now,
		      struct store_contact *out, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, CONTACT_SELECT("address = ?2"));
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		sql_bind_text(st, 2, address);
		sql_bind_int64(st, 3, 1);
		sql_bind_int64(st, 4, now);
	}
	struct store_contact *v;
	size_t n;
	int r = contacts_read(s, a, q, db, st, 1, &v, &n, error_r);
	if (r < 0)
		return r;
	if (n == 0)
		return 0;
	*out = v[0];
	return 1;
}

int store_contact_query(struct store *s, struct arena *a, int64_t account_id, const char *prefix, int64_t now,
			size_t limit, struct store_contact **v_r, size_t *n_r, const char **error_r)
{
	/* LIKE patterns: "p%" for the address, "% p%" for any word of " " || name */
	size_t pl = strlen(prefix);
	char *esc = arena_alloc(a, 2 * pl + 1);
	size_t k = 0;
	for (size_t i = 0; i < pl; i++) {
		if (prefix[i] == '%' || prefix[i] == '_' || prefix[i] == '\\')
			esc[k++] = '\\';
		esc[k++] = prefix[i];
	}
	esc[k] = '\0';
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	/* SQLite's LIKE folds ASCII case; lower() makes PostgreSQL's name match do so too
	 * (its address columns are citext, whose LIKE folds case) */
	struct sql_stmt *st = sql_prepare(q, CONTACT_SELECT("(address LIKE CAST(?2 AS TEXT) || '%' ESCAPE '\\'"
							    " OR lower(' ' || COALESCE(name, '')) LIKE"
							    " '% ' || lower(?2) || '%' ESCAPE '\\')"));
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		sql_bind_text(st, 2, esc);
		sql_bind_int64(st, 3, (int64_t)limit);
		sql_bind_int64(st, 4, now);
	}
	return contacts_read(s, a, q, db, st, limit, v_r, n_r, error_r);
}
