/* store_sortkey.c: SORT and THREAD keys stored per message (table msg_keys, schema 3).
 *
 * IMAP SORT, ESORT and THREAD used to read every message's metadata (several KiB:
 * envelope, body structure, ...) and derive the RFC 5256 keys per command: 667 ms for
 * SORT (DATE) over 100,000 messages. The keys are now derived once, when a message
 * row is inserted (store_msg_insert, same transaction), from the decoded header fields
 * of its email: base subject, sent date (the internal date when the Date: header is
 * missing or bad, RFC 5256 §2.2), FROM/TO/CC and DISPLAYFROM/DISPLAYTO keys (already
 * case-folded, so SQLite's BINARY order is the i;ascii-casemap order), size, arrival,
 * and for THREAD REFERENCES the Message-ID and the parent ids. The indexes
 * (mailbox_id, key, uid) hand SORT its order without sorting; uid is the tie-break,
 * which is the sequence-number order RFC 5256 asks for. Triggers on messages remove
 * and move the rows (store.c; on PostgreSQL a foreign key ON DELETE/UPDATE CASCADE,
 * store_pg.c), so expunge, MOVE and mailbox removal need no code here. Written and read
 * through sql.h on either engine.
 * Migration 3 fills the table for messages stored before it (store_migrate.c). */
#include "store_int.h"

#include "imap_thread.h"
#include "mail.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

/* References ids kept per message: the newest ones, as THREAD used before */
#define REFS_MAX 256

/* The space-separated parent ids of RFC 5256 §4 (1A): References, else the first
 * In-Reply-To id; NULL when none. Ids never contain spaces (mail_msgids). */
static const char *parent_ids(struct arena *a, const char *references, const char *in_reply_to)
{
	const char **refs = mail_msgids(a, references, 100000);
	size_t nr = 0;
	while (refs != NULL && refs[nr] != NULL)
		nr++;
	if (nr == 0) {
		refs = mail_msgids(a, in_reply_to, 1);
		while (refs != NULL && refs[nr] != NULL)
			nr++;
	} else if (nr > REFS_MAX) {
		refs += nr - REFS_MAX;
		nr = REFS_MAX;
	}
	if (nr == 0)
		return NULL;
	size_t len = 0;
	for (size_t i = 0; i < nr; i++)
		len += strlen(refs[i]) + 1;
	char *out = arena_alloc(a, len), *p = out;
	for (size_t i = 0; i < nr; i++) {
		size_t n = strlen(refs[i]);
		memcpy(p, refs[i], n);
		p += n;
		*p++ = i + 1 < nr ? ' ' : '\0';
	}
	return out;
}

/* The email's header fields a message's keys are derived from. */
struct key_src {
	int64_t date;
	const char *subject, *from, *to, *cc, *message_id, *in_reply_to, *refs;
};

/* Derives and writes the keys of one message (sql.h: the caller's transaction on
 * either engine). */
static int put_keys(struct sql_conn *q, struct arena *a, int64_t mailbox_id, int64_t uid, int64_t size,
		    int64_t arrival, const struct key_src *e, const char **error_r)
{
	struct imap_sort_keys k;
	imap_sort_keys_of(a, e->subject, e->from, e->to, e->cc, &k);
	const char **id = mail_msgids(a, e->message_id, 1);
	const char *refs = parent_ids(a, e->refs, e->in_reply_to);
	struct sql_stmt *st = sql_prepare(q, "INSERT INTO msg_keys(mailbox_id, uid, sent, arrival, size,"
					  " reply, subject, from_, to_, cc, dfrom, dto, msgid, refs)"
					  " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
					  " ON CONFLICT(mailbox_id, uid) DO UPDATE SET sent = excluded.sent,"
					  " arrival = excluded.arrival, size = excluded.size, reply = excluded.reply,"
					  " subject = excluded.subject, from_ = excluded.from_, to_ = excluded.to_,"
					  " cc = excluded.cc, dfrom = excluded.dfrom, dto = excluded.dto,"
					  " msgid = excluded.msgid, refs = excluded.refs");
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, "sort keys", error_r);
	int i = 1;
	sql_bind_int64(st, i++, mailbox_id);
	sql_bind_int64(st, i++, uid);
	sql_bind_int64(st, i++, e->date != 0 ? e->date : arrival); /* RFC 5256 §2.2 */
	sql_bind_int64(st, i++, arrival);
	sql_bind_int64(st, i++, size);
	sql_bind_int64(st, i++, k.reply);
	sql_bind_text(st, i++, k.subject);
	sql_bind_text(st, i++, k.from);
	sql_bind_text(st, i++, k.to);
	sql_bind_text(st, i++, k.cc);
	sql_bind_text(st, i++, k.display_from);
	sql_bind_text(st, i++, k.display_to);
	sql_bind_text(st, i++, id != NULL && id[0] != NULL ? id[0] : NULL);
	sql_bind_text(st, i++, refs);
	int rc = sql_step_done(st);
	return rc < 0 ? store_sql_fail(q, rc, "sort keys", error_r) : 1;
}

/* A text column copied into the arena (NULL for NULL). */
static const char *col_dup(struct arena *a, struct sql_stmt *st, int i)
{
	return sql_col_null(st, i) ? NULL : arena_strdup(a, sql_col_text(st, i));
}

int store_sortkey_add(struct sql_conn *q, struct arena *a, int64_t mailbox_id, uint32_t uid, int64_t email_id,
		      uint64_t size, int64_t internal_date, const char **error_r)
{
	struct sql_stmt *e = sql_prepare(q, "SELECT date, subject, from_, to_, cc, message_id, in_reply_to, refs"
					 " FROM emails WHERE id = ?");
	if (e == NULL)
		return store_sql_fail(q, SQL_ERR, "sort keys", error_r);
	sql_bind_int64(e, 1, email_id);
	int rc = sql_step(e);
	if (rc != SQL_ROW) {
		sql_reset(e);
		if (rc == SQL_DONE) {
			*error_r = store_set_errorf("no email %lld for its sort keys", (long long)email_id);
			return STORE_ERR;
		}
		return store_sql_fail(q, rc, "sort keys", error_r);
	}
	struct key_src src = {
		.date = sql_col_int64(e, 0),	 .subject = col_dup(a, e, 1),	  .from = col_dup(a, e, 2),
		.to = col_dup(a, e, 3),		 .cc = col_dup(a, e, 4),	  .message_id = col_dup(a, e, 5),
		.in_reply_to = col_dup(a, e, 6), .refs = col_dup(a, e, 7),
	};
	sql_reset(e);
	return put_keys(q, a, mailbox_id, uid, (int64_t)size, internal_date, &src, error_r);
}

int store_sortkey_fill(struct db *c, uint64_t *changed_r, const char **error_r)
{
	sqlite3_stmt *sel = NULL;
	if (sqlite3_prepare_v2(c->db,
			       "SELECT m.mailbox_id, m.uid, m.size, m.internal_date, e.date, e.subject, e.from_,"
			       " e.to_, e.cc, e.message_id, e.in_reply_to, e.refs"
			       " FROM messages m JOIN emails e ON e.id = m.email_id WHERE NOT EXISTS"
			       " (SELECT 1 FROM msg_keys k WHERE k.mailbox_id = m.mailbox_id AND k.uid = m.uid)",
			       -1, &sel, NULL) != SQLITE_OK)
		return store_db_fail(c, "sort keys fill", error_r);
	struct arena *a = arena_new();
	int ret = 1, rc;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		arena_clear(a);
		struct key_src src = {
			.date = sqlite3_column_int64(sel, 4),
			.subject = (const char *)sqlite3_column_text(sel, 5),
			.from = (const char *)sqlite3_column_text(sel, 6),
			.to = (const char *)sqlite3_column_text(sel, 7),
			.cc = (const char *)sqlite3_column_text(sel, 8),
			.message_id = (const char *)sqlite3_column_text(sel, 9),
			.in_reply_to = (const char *)sqlite3_column_text(sel, 10),
			.refs = (const char *)sqlite3_column_text(sel, 11),
		};
		if (put_keys(c->sql, a, sqlite3_column_int64(sel, 0), sqlite3_column_int64(sel, 1),
			     sqlite3_column_int64(sel, 2), sqlite3_column_int64(sel, 3), &src, error_r) < 0) {
			ret = STORE_ERR;
			break;
		}
		(*changed_r)++;
	}
	if (ret > 0 && rc != SQLITE_DONE)
		ret = store_db_fail(c, "sort keys fill", error_r);
	sqlite3_finalize(sel);
	arena_free(&a);
	return ret;
}

/* ------------------------------------------------------------------ reading */

/* A UID list as one bound text of any length: a JSON array for SQLite's json_each,
 * an array literal for PostgreSQL's CAST(? AS bigint[]) */
static char *uids_list(struct arena *a, enum sql_engine eng, const uint32_t *uids, size_t n)
{
	struct buf b = { 0 };
	buf_putc(&b, eng == SQL_PG ? '{' : '[');
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%u", i ? "," : "", uids[i]);
	buf_putc(&b, eng == SQL_PG ? '}' : ']');
	char *out = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return out;
}

/* The account owns the mailbox (its own query: store_rows.c calls this file, so this
 * file does not call store_rows.c's store_mbox_owned). */
static int check_mailbox(struct sql_conn *q, int64_t account_id, int64_t mailbox_id, const char **error_r)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM mailboxes WHERE id = ? AND account_id = ?");
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, "sort keys mailbox", error_r);
	sql_bind_int64(st, 1, mailbox_id);
	sql_bind_int64(st, 2, account_id);
	int rc = sql_step(st);
	sql_reset(st);
	if (rc == SQL_ROW)
		return 1;
	if (rc < 0)
		return store_sql_fail(q, rc, "sort keys mailbox", error_r);
	*error_r = "no such mailbox";
	return STORE_ENOTFOUND;
}

/* The statement reading a mailbox's key rows in UID order, all of them or those of a
 * UID list (bound as 2); the SQL differs only in how the list is read. */
/* The condition that limits a query to the caller's UIDs (the list bound as the next
 * parameter, uids_list's form for the engine). */
static const char *only_cond(struct sql_conn *q)
{
	return sql_engine(q) == SQL_PG ? " AND uid = ANY(CAST(? AS bigint[]))"
				       : " AND uid IN (SELECT value FROM json_each(?))";
}

/* Reads a statement's first column as UIDs into the arena. */
static int read_uids(struct sql_conn *q, struct sql_stmt *st, struct arena *a, uint32_t **uids_r, size_t *n_r,
		     const char **error_r)
{
	size_t n = 0, cap = 1024;
	uint32_t *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW) {
		if (n == cap) {
			uint32_t *w = arena_alloc(a, 2 * cap * sizeof(*w));
			memcpy(w, v, n * sizeof(*v));
			v = w;
			cap *= 2;
		}
		v[n++] = (uint32_t)sql_col_int64(st, 0);
	}
	if (rc < 0)
		return store_sql_fail(q, rc, "sort", error_r);
	*uids_r = v;
	*n_r = n;
	return 1;
}

/* SORT: the database orders the rows, walking the (mailbox_id, key, uid) index of the
 * first criterion, so a mailbox of any size is answered without sorting it here. The
 * ORDER BY follows the client's criteria, so the statement is built per command
 * (sql_prepare_once). Text keys compare bytewise on both engines (SQLite's BINARY,
 * COLLATE "C" on PostgreSQL): they are case-folded already (RFC 5256 i;ascii-casemap). */
int store_sort_uids(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		    const uint32_t *only, size_t nonly, const struct store_sort_crit *crit, size_t ncrit, uint32_t **uids_r,
		    size_t *n_r, const char **error_r)
{
	static const char *const cols[] = {
		[STORE_SORT_ARRIVAL] = "arrival", [STORE_SORT_CC] = "cc",	  [STORE_SORT_DATE] = "sent",
		[STORE_SORT_FROM] = "from_",	  [STORE_SORT_SIZE] = "size",	  [STORE_SORT_SUBJECT] = "subject",
		[STORE_SORT_TO] = "to_",	  [STORE_SORT_DISPLAYFROM] = "dfrom", [STORE_SORT_DISPLAYTO] = "dto",
	};
	*uids_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct buf sql = { 0 };
	buf_puts(&sql, "SELECT uid FROM msg_keys WHERE mailbox_id = ?");
	if (only != NULL)
		buf_puts(&sql, only_cond(q));
	buf_puts(&sql, " ORDER BY ");
	for (size_t i = 0; i < ncrit; i++) {
		assert((size_t)crit[i].key < sizeof(cols) / sizeof(cols[0]) && cols[crit[i].key] != NULL);
		buf_printf(&sql, "%s%s, ", cols[crit[i].key], crit[i].reverse ? " DESC" : "");
	}
	buf_puts(&sql, "uid");
	int ret = check_mailbox(q, account_id, mailbox_id, error_r);
	struct sql_stmt *st = ret > 0 ? sql_prepare_once(q, buf_str(&sql)) : NULL;
	if (ret > 0 && st == NULL)
		ret = store_sql_fail(q, SQL_ERR, "sort", error_r);
	if (ret > 0) {
		sql_bind_int64(st, 1, mailbox_id);
		if (only != NULL)
			sql_bind_text(st, 2, uids_list(a, sql_engine(q), only, nonly));
		ret = read_uids(q, st, a, uids_r, n_r, error_r);
	}
	sql_finalize(st);
	store_sql_put(s, q, db);
	buf_free(&sql);
	return ret;
}

/* THREAD: the keys it needs of each message, in UID order. */
int store_thread_keys(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		      const uint32_t *only, size_t nonly, struct store_thread_key **keys_r, size_t *n_r, const char **error_r)
{
	*keys_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = check_mailbox(q, account_id, mailbox_id, error_r);
	struct sql_stmt *st = NULL;
	if (ret > 0) {
#define THREAD_SELECT "SELECT uid, sent, reply, subject, msgid, refs FROM msg_keys WHERE mailbox_id = ?"
		if (only == NULL)
			st = sql_prepare(q, THREAD_SELECT " ORDER BY uid");
		else if (sql_engine(q) == SQL_PG)
			st = sql_prepare(q, THREAD_SELECT " AND uid = ANY(CAST(? AS bigint[])) ORDER BY uid");
		else
			st = sql_prepare(q, THREAD_SELECT " AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid");
#undef THREAD_SELECT
		if (st == NULL)
			ret = store_sql_fail(q, SQL_ERR, "thread keys", error_r);
	}
	if (ret > 0) {
		sql_bind_int64(st, 1, mailbox_id);
		if (only != NULL)
			sql_bind_text(st, 2, uids_list(a, sql_engine(q), only, nonly));
		size_t n = 0, cap = 1024;
		struct store_thread_key *v = arena_alloc(a, cap * sizeof(*v));
		int rc;
		while ((rc = sql_step(st)) == SQL_ROW) {
			if (n == cap) {
				struct store_thread_key *w = arena_alloc(a, 2 * cap * sizeof(*w));
				memcpy(w, v, n * sizeof(*v));
				v = w;
				cap *= 2;
			}
			struct store_thread_key *k = &v[n++];
			k->uid = (uint32_t)sql_col_int64(st, 0);
			k->sent = sql_col_int64(st, 1);
			k->reply = sql_col_int64(st, 2) != 0;
			k->subject = arena_strdup(a, sql_col_text(st, 3));
			k->msgid = col_dup(a, st, 4);
			k->refs = col_dup(a, st, 5);
		}
		sql_reset(st);
		if (rc < 0)
			ret = store_sql_fail(q, rc, "thread keys", error_r);
		*keys_r = v;
		*n_r = n;
	}
	store_sql_put(s, q, db);
	return ret;
}
