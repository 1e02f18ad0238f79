/* store_web.c: the webmail's rows (store_web.h): sessions by token hash, the
 * per-account preferences (identities, settings) as checked JSON text, and the
 * contacts for the address autocomplete. All three are tables of their own, so that
 * older databases get them at the next start without an ALTER or a migration. */
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
	struct websession_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "DELETE FROM web_sessions WHERE account_id = ? AND last_used < ?");
	sqlite3_bind_int64(st, 1, r->ws.account_id);
	sqlite3_bind_int64(st, 2, r->expire_before);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	/* only for an account that exists (it may have been deleted since the login) */
	st = store_db_stmt(c, "INSERT OR REPLACE INTO web_sessions(hash, account_id, address, generation, created,"
			      " last_used) SELECT ?, id, ?, ?, ?, ? FROM accounts WHERE id = ?");
	store_bind_text(st, 1, r->ws.hash);
	store_bind_text(st, 2, r->ws.address);
	sqlite3_bind_int64(st, 3, (int64_t)r->ws.generation);
	sqlite3_bind_int64(st, 4, r->ws.created);
	sqlite3_bind_int64(st, 5, r->ws.last_used);
	sqlite3_bind_int64(st, 6, r->ws.account_id);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	if (sqlite3_changes(c->db) == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such account");
	return 1;
}

static int apply_session_touch(struct store *s, struct store_op *op)
{
	struct websession_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "UPDATE web_sessions SET last_used = MAX(last_used, ?) WHERE hash = ?");
	sqlite3_bind_int64(st, 1, r->ws.last_used);
	store_bind_text(st, 2, r->ws.hash);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

static int apply_session_del(struct store *s, struct store_op *op)
{
	struct websession_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	sqlite3_stmt *st;
	if (r->all) {
		st = store_db_stmt(c, "DELETE FROM web_sessions WHERE account_id = ?");
		sqlite3_bind_int64(st, 1, r->account_id);
	} else {
		st = store_db_stmt(c, "DELETE FROM web_sessions WHERE hash = ?");
		store_bind_text(st, 1, r->ws.hash);
	}
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

/* The request lives in the op's own scratch arena, so that an async op owns it. */
static struct store_op *session_op(op_fn *apply, const struct store_websession *ws, int64_t expire_before,
				   int64_t account_id, const char *hash)
{
	struct store_op *op = store_op_new(NULL, apply, NULL, NULL, NULL);
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

void store_websession_put(struct store *s, const struct store_websession *ws, int64_t expire_before,
			  struct loop *loop, void (*done)(void *arg, int result, const char *error), void *arg)
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
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT account_id, address, generation, created, last_used"
					    " FROM web_sessions WHERE hash = ?");
	store_bind_text(st, 1, hash);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		memset(ws_r, 0, sizeof(*ws_r));
		snprintf(ws_r->hash, sizeof(ws_r->hash), "%s", hash);
		ws_r->account_id = sqlite3_column_int64(st, 0);
		const char *addr = (const char *)sqlite3_column_text(st, 1);
		snprintf(ws_r->address, sizeof(ws_r->address), "%s", addr != NULL ? addr : "");
		ws_r->generation = (uint64_t)sqlite3_column_int64(st, 2);
		ws_r->created = sqlite3_column_int64(st, 3);
		ws_r->last_used = sqlite3_column_int64(st, 4);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = store_db_fail(c, "websession_get", error_r);
	}
	sqlite3_reset(st);
	store_db_put(s, c);
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
	struct webpref_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM accounts WHERE id = ?");
	sqlite3_bind_int64(st, 1, r->account_id);
	bool exists = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (!exists)
		return store_op_fail(op, STORE_ENOTFOUND, "no such account");
	st = store_db_stmt(c, "SELECT state FROM web_prefs WHERE account_id = ? AND kind = ?");
	sqlite3_bind_int64(st, 1, r->account_id);
	sqlite3_bind_int(st, 2, r->kind);
	int64_t cur = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (r->if_state >= 0 && r->if_state != cur)
		return store_op_fail(op, STORE_ENOTALLOWED, "state mismatch");
	st = store_db_stmt(c, "INSERT OR REPLACE INTO web_prefs(account_id, kind, value, state) VALUES(?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, r->account_id);
	sqlite3_bind_int(st, 2, r->kind);
	store_bind_text(st, 3, r->json);
	sqlite3_bind_int64(st, 4, cur + 1);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	r->state = cur + 1;
	return 1;
}

int store_webpref_set(struct store *s, int64_t account_id, enum store_webpref kind, const char *json,
		      size_t max_len, int64_t if_state, int64_t *state_r, const char **error_r)
{
	if (json == NULL || (max_len > 0 && strlen(json) > max_len)) {
		*error_r = store_set_errorf("preference over %zu bytes", max_len);
		return STORE_EINVAL;
	}
	struct webpref_req r = { account_id, (int)kind, json, if_state, 0 };
	int ret = store_op_run(s, store_op_new(NULL, apply_webpref_set, NULL, &r, NULL), error_r);
	if (ret > 0)
		*state_r = r.state;
	return ret;
}

int store_webpref_get(struct store *s, struct arena *a, int64_t account_id, enum store_webpref kind,
		      const char **json_r, int64_t *state_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT value, state FROM web_prefs WHERE account_id = ? AND kind = ?");
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int(st, 2, (int)kind);
	int rc = sqlite3_step(st), ret;
	*json_r = NULL;
	*state_r = 0;
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		*json_r = arena_strdup(a, v != NULL ? v : "");
		*state_r = sqlite3_column_int64(st, 1);
		ret = 1;
	} else if (rc == SQLITE_DONE) {
		ret = 0;
	} else {
		ret = store_db_fail(c, "webpref_get", error_r);
	}
	sqlite3_reset(st);
	store_db_put(s, c);
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
	struct contact_req *r = op->req;
	struct db *c = s->wc;
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO contacts(account_id, address, name, uses, last_used)"
					    " VALUES(?, ?, ?, 1, ?) ON CONFLICT(account_id, address) DO UPDATE SET"
					    " uses = uses + 1, last_used = MAX(last_used, excluded.last_used),"
					    " name = COALESCE(excluded.name, name)");
	for (size_t i = 0; i < r->n; i++) {
		const struct store_contact *k = &r->v[i];
		if (k->address == NULL || k->address[0] == '\0' || strlen(k->address) > STORE_ADDRESS_MAX)
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, r->account_id);
		store_bind_text(st, 2, k->address);
		if (k->name != NULL && k->name[0] != '\0')
			store_bind_text(st, 3, k->name);
		else
			sqlite3_bind_null(st, 3);
		sqlite3_bind_int64(st, 4, r->now);
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
	}
	if (r->max > 0) {
		/* the least used (then the oldest) beyond the limit go */
		st = store_db_stmt(c, "DELETE FROM contacts WHERE account_id = ?1 AND address IN (SELECT address"
				      " FROM contacts WHERE account_id = ?1 ORDER BY uses DESC, last_used DESC"
				      " LIMIT -1 OFFSET ?2)");
		sqlite3_bind_int64(st, 1, r->account_id);
		sqlite3_bind_int64(st, 2, (int64_t)r->max);
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
	}
	return 1;
}

int store_contact_use(struct store *s, int64_t account_id, const struct store_contact *v, size_t n, int64_t now,
		      size_t max_per_account, const char **error_r)
{
	if (n == 0)
		return 1;
	struct contact_req r = { account_id, now, v, n, max_per_account };
	return store_op_run(s, store_op_new(NULL, apply_contact_use, NULL, &r, NULL), error_r);
}

/* Personal mail received (store_deliver.c, in the delivery's transaction): one
 * UPSERT, unless the sender is the account itself or the copy went to a folder
 * that is no sign of acquaintance (Junk, Trash, Sent, Drafts). Only a new row costs
 * more: beyond max rows the lowest ranked go. A failure costs a suggestion only. */
int store_contact_received(struct db *c, int64_t account_id, int64_t mailbox_id, const char *address,
			   const char *name, int64_t now, size_t max)
{
	assert(address != NULL);
	if (strlen(address) > STORE_ADDRESS_MAX)
		return 0;
	sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO contacts_received(account_id, address, name, received,"
					    " last_received) SELECT ?1, ?2, ?3, 1, ?4 WHERE NOT EXISTS"
					    " (SELECT 1 FROM accounts WHERE id = ?1 AND address = ?2) AND NOT EXISTS"
					    " (SELECT 1 FROM mailboxes WHERE id = ?5 AND special_use & ?6 != 0)"
					    " ON CONFLICT(account_id, address) DO UPDATE SET received = received + 1,"
					    " last_received = MAX(last_received, excluded.last_received),"
					    " name = COALESCE(excluded.name, name) RETURNING received");
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, address);
	if (name != NULL)
		store_bind_text(st, 3, name);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, mailbox_id);
	sqlite3_bind_int64(st, 6, STORE_SU_JUNK | STORE_SU_TRASH | STORE_SU_SENT | STORE_SU_DRAFTS);
	int rc = sqlite3_step(st);
	bool fresh = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == 1;
	while (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -1;
	if (!fresh || max == 0)
		return 1;
	st = store_db_stmt(c, "SELECT count(*) FROM contacts_received WHERE account_id = ?");
	sqlite3_bind_int64(st, 1, account_id);
	int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (n <= (int64_t)max)
		return 1;
	/* the least received, then the longest unheard of, go */
	st = store_db_stmt(c, "DELETE FROM contacts_received WHERE account_id = ?1 AND address IN (SELECT address"
			      " FROM contacts_received WHERE account_id = ?1 ORDER BY received DESC, last_received DESC"
			      " LIMIT -1 OFFSET ?2)");
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, (int64_t)max);
	const char *err;
	return store_step_done(c, st, &err) < 0 ? -1 : 1;
}

/* The contacts of both tables matching `where` (?1 the account, ?2 the pattern),
 * merged by address: sent counts the account's uses, received the mail it got; the
 * name it wrote to wins over the one a sender gave. Ranked by
 * (4 x sent + received) / (30 + days since last seen): a use weighs four received
 * messages, and a month without one halves a contact's rank. ?3 the limit, ?4 now. */
#define CONTACT_SELECT(where)                                                                                  \
	"SELECT MIN(address), COALESCE(MAX(CASE WHEN sent > 0 THEN name END), MAX(name)), SUM(sent),"            \
	" SUM(recv), MAX(last) FROM (SELECT address, name, uses AS sent, 0 AS recv, last_used AS last"            \
	" FROM contacts WHERE account_id = ?1 AND " where " UNION ALL SELECT address, name, 0, received,"          \
	" last_received FROM contacts_received WHERE account_id = ?1 AND " where ")"                              \
	" GROUP BY address COLLATE NOCASE ORDER BY (4.0 * SUM(sent) + SUM(recv)) /"                                \
	" (30.0 + MAX(0, ?4 - MAX(last)) / 86400.0) DESC, MIN(address) LIMIT ?3"

static int contacts_read(struct store *s, struct arena *a, sqlite3_stmt *st, struct db *c, size_t limit,
			 struct store_contact **v_r, size_t *n_r, const char **error_r)
{
	size_t n = 0;
	struct store_contact *v = arena_alloc(a, (limit > 0 ? limit : 1) * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < limit) {
		v[n].address = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
		const char *name = (const char *)sqlite3_column_text(st, 1);
		v[n].name = name != NULL ? arena_strdup(a, name) : NULL;
		v[n].uses = sqlite3_column_int64(st, 2);
		v[n].received = sqlite3_column_int64(st, 3);
		v[n].last_used = sqlite3_column_int64(st, 4);
		n++;
	}
	int ret = rc == SQLITE_DONE || rc == SQLITE_ROW ? 1 : store_db_fail(c, "contact_query", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	*v_r = v;
	*n_r = n;
	return ret;
}

int store_contact_get(struct store *s, struct arena *a, int64_t account_id, const char *address, int64_t now,
		      struct store_contact *out, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, CONTACT_SELECT("address = ?2"));
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, address);
	sqlite3_bind_int64(st, 3, 1);
	sqlite3_bind_int64(st, 4, now);
	struct store_contact *v;
	size_t n;
	int r = contacts_read(s, a, st, c, 1, &v, &n, error_r);
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
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, CONTACT_SELECT("(address LIKE ?2 || '%' ESCAPE '\\'"
							   " OR (' ' || COALESCE(name, '')) LIKE '% ' || ?2 || '%' ESCAPE '\\')"));
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, esc);
	sqlite3_bind_int64(st, 3, (int64_t)limit);
	sqlite3_bind_int64(st, 4, now);
	return contacts_read(s, a, st, c, limit, v_r, n_r, error_r);
}
