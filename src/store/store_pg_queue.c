/* store_pg_queue.c: the outbound queue's rows on PostgreSQL (store_queue.h).
 *
 * Two tables (store_pg.c's schema): queue_messages (envelope, body bytea, the
 * earliest next attempt, lease_owner and lease_until) and queue_recipients (one row
 * per recipient: state, attempts, next attempt, last reply). Leases are measured on
 * the database's clock (clock_timestamp), so nodes whose clocks differ agree on when
 * a lease expired; next attempts are the nodes' own unix times, as the spool's.
 *
 * A claim is one statement: an UPDATE of the rows a sub-select picked with FOR UPDATE
 * SKIP LOCKED, so two nodes claiming at once take disjoint sets and never wait on each
 * other. A save first locks its message row and checks that the lease is still the
 * saver's (a node whose lease expired and was taken over writes nothing), then
 * writes the recipients and ends the lease (or removes the message) in the same
 * transaction. */
#include "store_int.h"
#include "textfmt.h"

#include <stdlib.h>
#include <string.h>

#define DB_NOW "extract(epoch from clock_timestamp())::bigint"

bool store_queue_shared(const struct store *s)
{
	return s->pg_conninfo != NULL;
}

static struct sql_conn *get(struct store *s, const char **error_r)
{
	if (s->pg_conninfo == NULL) {
		*error_r = "the queue's rows are in the store only on PostgreSQL";
		return NULL;
	}
	struct db *db;
	return store_sql_get(s, &db, error_r);
}

static void put(struct store *s, struct sql_conn *q)
{
	store_sql_put(s, q, NULL);
}

/* Ends a transaction: commit when rc is still good, else roll back and report. */
static int finish(struct sql_conn *q, int rc, int ret, const char *what, const char **error_r)
{
	if (rc > 0) {
		rc = sql_commit(q);
		if (rc > 0)
			return ret;
	}
	int r = store_sql_fail(q, rc < 0 ? rc : SQL_ERR, what, error_r);
	sql_rollback(q);
	return r;
}

static const char *col_dup(struct arena *a, struct sql_stmt *st, int i)
{
	return sql_col_null(st, i) ? NULL : arena_strdup(a, sql_col_text(st, i));
}

/* ------------------------------------------------------------------ insert */

int store_queue_insert(struct store *s, const struct store_qmsg *m, const void *body, size_t len,
		       const char *owner, unsigned lease, const char **error_r)
{
	struct sql_conn *q = get(s, error_r);
	if (q == NULL)
		return s->pg_conninfo == NULL ? STORE_ERR : STORE_EUNAVAIL;
	int rc = sql_begin(q);
	struct sql_stmt *st = rc > 0 ? sql_prepare(q, "INSERT INTO queue_messages(id, created, sender, envid, ret,"
							  " smtputf8, auth_user, size, body, next_attempt,"
							  " lease_owner, lease_until)"
							  " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, " DB_NOW " + ?)")
				     : NULL;
	if (st != NULL) {
		sql_bind_text(st, 1, m->id);
		sql_bind_int64(st, 2, m->created);
		sql_bind_text(st, 3, m->sender);
		sql_bind_text(st, 4, m->envid);
		sql_bind_int64(st, 5, m->ret);
		sql_bind_int64(st, 6, m->smtputf8);
		sql_bind_text(st, 7, m->auth_user);
		sql_bind_int64(st, 8, m->size);
		sql_bind_blob(st, 9, body, len);
		sql_bind_text(st, 10, owner);
		sql_bind_int64(st, 11, lease);
		rc = sql_step_done(st);
	} else if (rc > 0) {
		rc = SQL_ERR;
	}
	for (size_t i = 0; rc > 0 && i < m->nrcpts; i++) {
		st = sql_prepare(q, "INSERT INTO queue_recipients(message_id, idx, address, notify, orcpt)"
				    " VALUES(?, ?, ?, ?, ?)");
		if (st == NULL) {
			rc = SQL_ERR;
			break;
		}
		sql_bind_text(st, 1, m->id);
		sql_bind_int64(st, 2, (int64_t)i);
		sql_bind_text(st, 3, m->rcpts[i].address);
		sql_bind_int64(st, 4, m->rcpts[i].notify);
		sql_bind_text(st, 5, m->rcpts[i].orcpt);
		rc = sql_step_done(st);
	}
	int r = finish(q, rc, 1, "queue_insert", error_r);
	put(s, q);
	return r;
}

/* ------------------------------------------------------------------ reading */

/* The recipients of m (by m->id) into a. */
static int read_rcpts(struct sql_conn *q, struct arena *a, struct store_qmsg *m)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT address, notify, orcpt, state, attempts, next_attempt, code,"
					     " enh, last_error, remote_mta FROM queue_recipients"
					     " WHERE message_id = ? ORDER BY idx");
	if (st == NULL)
		return SQL_ERR;
	sql_bind_text(st, 1, m->id);
	size_t cap = 4;
	m->rcpts = arena_alloc(a, cap * sizeof(*m->rcpts));
	m->nrcpts = 0;
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW) {
		if (m->nrcpts == cap) {
			struct store_qrcpt *v = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(v, m->rcpts, cap * sizeof(*v));
			m->rcpts = v;
			cap *= 2;
		}
		struct store_qrcpt *r = &m->rcpts[m->nrcpts++];
		r->address = arena_strdup(a, sql_col_text(st, 0));
		r->notify = (unsigned)sql_col_int64(st, 1);
		r->orcpt = col_dup(a, st, 2);
		r->state = (enum store_qstate)sql_col_int64(st, 3);
		r->attempts = (unsigned)sql_col_int64(st, 4);
		r->next = sql_col_int64(st, 5);
		r->code = (int)sql_col_int64(st, 6);
		r->enh = arena_strdup(a, sql_col_text(st, 7));
		r->diag = col_dup(a, st, 8);
		r->remote_mta = col_dup(a, st, 9);
	}
	sql_reset(st);
	return rc < 0 ? rc : SQL_DONE;
}

/* One message row of the column order below into m (no recipients). */
#define MSG_COLS "id, created, sender, envid, ret, smtputf8, auth_user, size, next_attempt, lease_owner, lease_until"
static void read_msg(struct sql_stmt *st, struct arena *a, struct store_qmsg *m)
{
	memset(m, 0, sizeof(*m));
	m->id = arena_strdup(a, sql_col_text(st, 0));
	m->created = sql_col_int64(st, 1);
	m->sender = arena_strdup(a, sql_col_text(st, 2));
	m->envid = col_dup(a, st, 3);
	m->ret = (int)sql_col_int64(st, 4);
	m->smtputf8 = sql_col_int64(st, 5) != 0;
	m->auth_user = col_dup(a, st, 6);
	m->size = sql_col_int64(st, 7);
	m->next = sql_col_int64(st, 8);
	m->lease_owner = col_dup(a, st, 9);
	m->lease_until = sql_col_int64(st, 10);
}

/* Reads the rows of a stepped statement into a growing array, then each message's
 * recipients. */
static int read_msgs(struct sql_conn *q, struct sql_stmt *st, struct arena *a, struct store_qmsg **v_r,
		     size_t *n_r)
{
	size_t n = 0, cap = 8;
	struct store_qmsg *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW) {
		if (n == cap) {
			struct store_qmsg *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, cap * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		read_msg(st, a, &v[n++]);
	}
	sql_reset(st);
	for (size_t i = 0; rc > 0 && i < n; i++)
		rc = read_rcpts(q, a, &v[i]);
	*v_r = v;
	*n_r = rc > 0 ? n : 0;
	return rc < 0 ? rc : SQL_DONE;
}

int store_queue_claim(struct store *s, const char *owner, unsigned lease, size_t max, int64_t now,
		      struct arena *a, struct store_qmsg **v_r, size_t *n_r, const char **error_r)
{
	*n_r = 0;
	struct sql_conn *q = get(s, error_r);
	if (q == NULL)
		return s->pg_conninfo == NULL ? STORE_ERR : STORE_EUNAVAIL;
	int rc = sql_begin(q);
	/* IS DISTINCT FROM owner: a message this node still holds in memory after its own
	 * lease lapsed (the database was away) is not taken a second time */
	struct sql_stmt *st =
		rc > 0 ? sql_prepare(q, "UPDATE queue_messages SET lease_owner = ?, lease_until = " DB_NOW " + ?"
					" WHERE id IN (SELECT id FROM queue_messages WHERE next_attempt <= ?"
					"  AND (lease_owner IS NULL OR (lease_until < " DB_NOW
					"   AND lease_owner IS DISTINCT FROM ?))"
					"  ORDER BY next_attempt, created LIMIT ? FOR UPDATE SKIP LOCKED)"
					" RETURNING " MSG_COLS)
		       : NULL;
	if (st != NULL) {
		sql_bind_text(st, 1, owner);
		sql_bind_int64(st, 2, lease);
		sql_bind_int64(st, 3, now);
		sql_bind_text(st, 4, owner);
		sql_bind_int64(st, 5, (int64_t)max);
		rc = read_msgs(q, st, a, v_r, n_r);
	} else if (rc > 0) {
		rc = SQL_ERR;
	}
	int r = finish(q, rc, 1, "queue_claim", error_r);
	if (r < 0)
		*n_r = 0;
	put(s, q);
	return r;
}

int store_queue_heartbeat(struct store *s, const char *owner, unsigned lease, const char **error_r)
{
	struct sql_conn *q = get(s, error_r);
	if (q == NULL)
		return s->pg_conninfo == NULL ? STORE_ERR : STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "UPDATE queue_messages SET lease_until = " DB_NOW " + ?"
					     " WHERE lease_owner = ?");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, lease);
		sql_bind_text(st, 2, owner);
		rc = sql_step_done(st);
	}
	int r = rc > 0 ? (int)sql_changes(q) : store_sql_fail(q, rc, "queue_heartbeat", error_r);
	put(s, q);
	return r;
}

/* ------------------------------------------------------------------ saving */

static int save_rcpts(struct sql_conn *q, const struct store_qmsg *m)
{
	int rc = SQL_DONE;
	for (size_t i = 0; rc > 0 && i < m->nrcpts; i++) {
		const struct store_qrcpt *r = &m->rcpts[i];
		struct sql_stmt *st = sql_prepare(q, "UPDATE queue_recipients SET state = ?, attempts = ?,"
						     " next_attempt = ?, code = ?, enh = ?, last_error = ?,"
						     " remote_mta = ? WHERE message_id = ? AND idx = ?");
		if (st == NULL)
			return SQL_ERR;
		sql_bind_int64(st, 1, r->state);
		sql_bind_int64(st, 2, r->attempts);
		sql_bind_int64(st, 3, r->next);
		sql_bind_int64(st, 4, r->code);
		sql_bind_text(st, 5, r->enh != NULL ? r->enh : "");
		sql_bind_text(st, 6, r->diag);
		sql_bind_text(st, 7, r->remote_mta);
		sql_bind_text(st, 8, m->id);
		sql_bind_int64(st, 9, (int64_t)i);
		rc = sql_step_done(st);
	}
	return rc;
}

int store_queue_save(struct store *s, const char *owner, const struct store_qmsg *m, bool release, bool done,
		     const char **error_r)
{
	struct sql_conn *q = get(s, error_r);
	if (q == NULL)
		return s->pg_conninfo == NULL ? STORE_ERR : STORE_EUNAVAIL;
	int rc = sql_begin(q);
	bool mine = false;
	struct sql_stmt *st = rc > 0 ? sql_prepare(q, "SELECT lease_owner = ? FROM queue_messages"
						      " WHERE id = ? FOR UPDATE")
				     : NULL;
	if (st != NULL) {
		sql_bind_text(st, 1, owner);
		sql_bind_text(st, 2, m->id);
		rc = sql_step(st);
		mine = rc == SQL_ROW && !sql_col_null(st, 0) && sql_col_int64(st, 0) != 0;
		sql_reset(st);
		rc = rc < 0 ? rc : SQL_DONE;
	} else if (rc > 0) {
		rc = SQL_ERR;
	}
	if (rc > 0 && mine && done) {
		st = sql_prepare(q, "DELETE FROM queue_messages WHERE id = ?");
		rc = st != NULL ? (sql_bind_text(st, 1, m->id), sql_step_done(st)) : SQL_ERR;
	} else if (rc > 0 && mine) {
		rc = save_rcpts(q, m);
		st = rc > 0 ? sql_prepare(q, release ? "UPDATE queue_messages SET next_attempt = ?,"
							" lease_owner = NULL, lease_until = 0 WHERE id = ?"
						      : "UPDATE queue_messages SET next_attempt = ? WHERE id = ?")
			    : NULL;
		if (st != NULL) {
			sql_bind_int64(st, 1, m->next);
			sql_bind_text(st, 2, m->id);
			rc = sql_step_done(st);
		} else if (rc > 0) {
			rc = SQL_ERR;
		}
	}
	int r = finish(q, rc, mine ? 1 : 0, "queue_save", error_r);
	put(s, q);
	return r;
}

/* ------------------------------------------------------------------ body */

int store_queue_body(struct store *s, const char *id, char **data_r, size_t *len_r, const char **error_r)
{
	struct sql_conn *q = get(s, error_r);
	if (q == NULL)
		return s->pg_conninfo == NULL ? STORE_ERR : STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT body FROM queue_messages WHERE id = ?");
	int rc = SQL_ERR, ret = 0;
	if (st != NULL) {
		sql_bind_text(st, 1, id);
		rc = sql_step(st);
		if (rc == SQL_ROW) {
			/* results come as text: bytea in PostgreSQL's hex form, "\x" then 2 digits a byte */
			const char *t = sql_col_text(st, 0);
			size_t n = sql_col_bytes(st, 0);
			if (n < 2 || t[0] != '\\' || t[1] != 'x' || n % 2 != 0) {
				sql_reset(st);
				put(s, q);
				*error_r = "queue body: unexpected bytea format (bytea_output must be hex)";
				return STORE_ERR;
			}
			size_t len = (n - 2) / 2;
			char *d = xmalloc(len + 1);
			bool bad = false;
			for (size_t i = 0; i < len; i++) {
				int hi = textfmt_hex_digit((unsigned char)t[2 + 2 * i]);
				int lo = textfmt_hex_digit((unsigned char)t[3 + 2 * i]);
				bad |= hi < 0 || lo < 0;
				d[i] = bad ? 0 : (char)(hi << 4 | lo);
			}
			if (bad) { /* never a body with made-up bytes */
				free(d);
				sql_reset(st);
				put(s, q);
				*error_r = "queue body: a bytea value that is not hex";
				return STORE_ERR;
			}
			d[len] = '\0';
			*data_r = d;
			*len_r = len;
			ret = 1;
		}
		sql_reset(st);
	}
	int r = rc > 0 ? ret : store_sql_fail(q, rc, "queue_body", error_r);
	put(s, q);
	return r;
}

/* ------------------------------------------------------------------ admin */

int store_queue_list(struct store *s, struct arena *a, struct store_qmsg **v_r, size_t *n_r,
		     const char **error_r)
{
	*n_r = 0;
	struct sql_conn *q = get(s, error_r);
	if (q == NULL)
		return s->pg_conninfo == NULL ? STORE_ERR : STORE_EUNAVAIL;
	int rc = sql_begin(q); /* one snapshot for the messages and their recipients */
	struct sql_stmt *st = rc > 0 ? sql_prepare(q, "SELECT " MSG_COLS " FROM queue_messages ORDER BY created, id")
				     : NULL;
	if (st != NULL)
		rc = read_msgs(q, st, a, v_r, n_r);
	else if (rc > 0)
		rc = SQL_ERR;
	int r = finish(q, rc, 1, "queue_list", error_r);
	put(s, q);
	return r;
}

int store_queue_flush(struct store *s, const char **error_r)
{
	struct sql_conn *q = get(s, error_r);
	if (q == NULL)
		return s->pg_conninfo == NULL ? STORE_ERR : STORE_EUNAVAIL;
	int rc = sql_begin(q);
	struct sql_stmt *st = rc > 0 ? sql_prepare(q, "UPDATE queue_recipients SET next_attempt = 0 WHERE state = 0")
				     : NULL;
	rc = st != NULL ? sql_step_done(st) : (rc > 0 ? SQL_ERR : rc);
	st = rc > 0 ? sql_prepare(q, "UPDATE queue_messages SET next_attempt = 0") : NULL;
	rc = st != NULL ? sql_step_done(st) : (rc > 0 ? SQL_ERR : rc);
	int n = rc > 0 ? (int)sql_changes(q) : 0;
	int r = finish(q, rc, n, "queue_flush", error_r);
	put(s, q);
	return r;
}

int store_queue_act(struct store *s, const char *id, enum store_qaction act, const char **error_r)
{
	struct sql_conn *q = get(s, error_r);
	if (q == NULL)
		return s->pg_conninfo == NULL ? STORE_ERR : STORE_EUNAVAIL;
	int rc = sql_begin(q);
	int found = 0;
	bool leased = false;
	struct sql_stmt *st = rc > 0 ? sql_prepare(q, "SELECT lease_owner IS NOT NULL AND lease_until >= " DB_NOW
						      " FROM queue_messages WHERE id = ? FOR UPDATE")
				     : NULL;
	if (st != NULL) {
		sql_bind_text(st, 1, id);
		rc = sql_step(st);
		found = rc == SQL_ROW;
		leased = found && sql_col_int64(st, 0) != 0;
		sql_reset(st);
		rc = rc < 0 ? rc : SQL_DONE;
	} else if (rc > 0) {
		rc = SQL_ERR;
	}
	if (rc > 0 && found && leased) {
		sql_rollback(q);
		put(s, q);
		*error_r = "the message is being delivered right now; try again in a moment";
		return STORE_ENOTALLOWED;
	}
	static const char *const sqls[][2] = {
		[STORE_QACT_RETRY] = { "UPDATE queue_recipients SET next_attempt = 0 WHERE message_id = ? AND state = 0",
				       "UPDATE queue_messages SET next_attempt = 0 WHERE id = ?" },
		[STORE_QACT_DELETE] = { "DELETE FROM queue_recipients WHERE message_id = ?",
					"DELETE FROM queue_messages WHERE id = ?" },
		[STORE_QACT_BOUNCE] = { "UPDATE queue_recipients SET state = 2, code = 550, enh = '5.0.0',"
					" last_error = 'delivery cancelled by the administrator'"
					" WHERE message_id = ? AND state = 0",
					"UPDATE queue_messages SET next_attempt = 0 WHERE id = ?" },
	};
	for (int k = 0; rc > 0 && found && k < 2; k++) {
		st = sql_prepare(q, sqls[act][k]);
		rc = st != NULL ? (sql_bind_text(st, 1, id), sql_step_done(st)) : SQL_ERR;
	}
	int r = finish(q, rc, found, "queue_act", error_r);
	put(s, q);
	return r;
}
