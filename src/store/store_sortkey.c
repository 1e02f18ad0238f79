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
 * and move the rows (store.c), so expunge, MOVE and mailbox removal need no code here.
 * Migration 3 fills the table for messages stored before it (store_migrate.c). */
#include "store_int.h"

#include "imap_thread.h"
#include "mail.h"

#include <assert.h>
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

/* Derives and writes the keys of one message from its email's columns
 * (date, subject, from_, to_, cc, message_id, in_reply_to, refs at col..col+7). */
static int put_keys(struct db *c, struct arena *a, int64_t mailbox_id, int64_t uid, int64_t size, int64_t arrival,
		    sqlite3_stmt *e, int col, const char **error_r)
{
	int64_t date = sqlite3_column_int64(e, col);
	const char *subject = (const char *)sqlite3_column_text(e, col + 1);
	struct imap_sort_keys k;
	imap_sort_keys_of(a, subject, (const char *)sqlite3_column_text(e, col + 2),
			  (const char *)sqlite3_column_text(e, col + 3), (const char *)sqlite3_column_text(e, col + 4),
			  &k);
	const char **id = mail_msgids(a, (const char *)sqlite3_column_text(e, col + 5), 1);
	const char *refs = parent_ids(a, (const char *)sqlite3_column_text(e, col + 7),
				      (const char *)sqlite3_column_text(e, col + 6));
	sqlite3_stmt *st = store_db_stmt(c, "INSERT OR REPLACE INTO msg_keys(mailbox_id, uid, sent, arrival, size,"
					 " reply, subject, from_, to_, cc, dfrom, dto, msgid, refs)"
					 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	int i = 1;
	sqlite3_bind_int64(st, i++, mailbox_id);
	sqlite3_bind_int64(st, i++, uid);
	sqlite3_bind_int64(st, i++, date != 0 ? date : arrival); /* RFC 5256 §2.2 */
	sqlite3_bind_int64(st, i++, arrival);
	sqlite3_bind_int64(st, i++, size);
	sqlite3_bind_int(st, i++, k.reply);
	store_bind_text(st, i++, k.subject);
	store_bind_text(st, i++, k.from);
	store_bind_text(st, i++, k.to);
	store_bind_text(st, i++, k.cc);
	store_bind_text(st, i++, k.display_from);
	store_bind_text(st, i++, k.display_to);
	store_bind_text(st, i++, id != NULL && id[0] != NULL ? id[0] : NULL);
	store_bind_text(st, i++, refs);
	return store_step_done(c, st, error_r);
}

int store_sortkey_add(struct db *c, struct arena *a, int64_t mailbox_id, uint32_t uid, int64_t email_id,
		      uint64_t size, int64_t internal_date, const char **error_r)
{
	sqlite3_stmt *e = store_db_stmt(c, "SELECT date, subject, from_, to_, cc, message_id, in_reply_to, refs"
				        " FROM emails WHERE id = ?");
	sqlite3_bind_int64(e, 1, email_id);
	int rc = sqlite3_step(e);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(e);
		if (rc == SQLITE_DONE) {
			*error_r = store_set_errorf("no email %lld for its sort keys", (long long)email_id);
			return STORE_ERR;
		}
		return store_db_fail(c, "sort keys", error_r);
	}
	int r = put_keys(c, a, mailbox_id, uid, (int64_t)size, internal_date, e, 0, error_r);
	sqlite3_reset(e);
	return r;
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
		if (put_keys(c, a, sqlite3_column_int64(sel, 0), sqlite3_column_int64(sel, 1),
			     sqlite3_column_int64(sel, 2), sqlite3_column_int64(sel, 3), sel, 4, error_r) < 0) {
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

/* A UID list as a JSON array for json_each: one bound text of any length */
static char *uids_json(struct arena *a, const uint32_t *uids, size_t n)
{
	struct buf b = { 0 };
	buf_putc(&b, '[');
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%u", i ? "," : "", uids[i]);
	buf_putc(&b, ']');
	char *out = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return out;
}

/* With a UID list, SQLite looks each one up by the primary key and sorts what it found;
 * without, it walks the (mailbox_id, key, uid) index of the first key. */
#define ONLY_COND " AND uid IN (SELECT value FROM json_each(?))"

/* The account owns the mailbox (its own query: store_rows.c calls this file, so this
 * file does not call store_rows.c's store_mbox_owned). */
static int check_mailbox(struct db *c, int64_t account_id, int64_t mailbox_id, const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM mailboxes WHERE id = ? AND account_id = ?");
	if (st == NULL) {
		*error_r = "database error";
		return STORE_ERR;
	}
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, account_id);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return store_db_fail(c, "sort keys mailbox", error_r);
	*error_r = "no such mailbox";
	return STORE_ENOTFOUND;
}

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
	struct buf q = { 0 };
	buf_puts(&q, "SELECT uid FROM msg_keys WHERE mailbox_id = ?");
	if (only != NULL)
		buf_puts(&q, ONLY_COND);
	buf_puts(&q, " ORDER BY ");
	for (size_t i = 0; i < ncrit; i++) {
		assert((size_t)crit[i].key < sizeof(cols) / sizeof(cols[0]) && cols[crit[i].key] != NULL);
		buf_printf(&q, "%s%s, ", cols[crit[i].key], crit[i].reverse ? " DESC" : "");
	}
	buf_puts(&q, "uid");
	buf_putc(&q, '\0');
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = NULL;
	int ret = check_mailbox(c, account_id, mailbox_id, error_r);
	if (ret > 0 && sqlite3_prepare_v2(c->db, q.data, -1, &st, NULL) != SQLITE_OK)
		ret = store_db_fail(c, "sort", error_r);
	if (ret > 0) {
		sqlite3_bind_int64(st, 1, mailbox_id);
		if (only != NULL)
			store_bind_text(st, 2, uids_json(a, only, nonly));
		size_t n = 0, cap = 1024;
		uint32_t *v = arena_alloc(a, cap * sizeof(*v));
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				uint32_t *w = arena_alloc(a, 2 * cap * sizeof(*w));
				memcpy(w, v, n * sizeof(*v));
				v = w;
				cap *= 2;
			}
			v[n++] = (uint32_t)sqlite3_column_int64(st, 0);
		}
		if (rc != SQLITE_DONE)
			ret = store_db_fail(c, "sort", error_r);
		*uids_r = v;
		*n_r = n;
	}
	sqlite3_finalize(st);
	store_db_put(s, c);
	buf_free(&q);
	return ret;
}

int store_thread_keys(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		      const uint32_t *only, size_t nonly, struct store_thread_key **keys_r, size_t *n_r, const char **error_r)
{
	*keys_r = NULL;
	*n_r = 0;
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	int ret = check_mailbox(c, account_id, mailbox_id, error_r);
	if (ret > 0) {
		sqlite3_stmt *st = only != NULL ? store_db_stmt(c, "SELECT uid, sent, reply, subject, msgid, refs FROM msg_keys"
								   " WHERE mailbox_id = ?" ONLY_COND " ORDER BY uid")
					       : store_db_stmt(c, "SELECT uid, sent, reply, subject, msgid, refs FROM msg_keys"
								   " WHERE mailbox_id = ? ORDER BY uid");
		sqlite3_bind_int64(st, 1, mailbox_id);
		if (only != NULL)
			store_bind_text(st, 2, uids_json(a, only, nonly));
		size_t n = 0, cap = 1024;
		struct store_thread_key *v = arena_alloc(a, cap * sizeof(*v));
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (n == cap) {
				struct store_thread_key *w = arena_alloc(a, 2 * cap * sizeof(*w));
				memcpy(w, v, n * sizeof(*v));
				v = w;
				cap *= 2;
			}
			struct store_thread_key *k = &v[n++];
			k->uid = (uint32_t)sqlite3_column_int64(st, 0);
			k->sent = sqlite3_column_int64(st, 1);
			k->reply = sqlite3_column_int(st, 2) != 0;
			k->subject = store_col_text(a, st, 3);
			k->msgid = sqlite3_column_type(st, 4) == SQLITE_NULL ? NULL : store_col_text(a, st, 4);
			k->refs = sqlite3_column_type(st, 5) == SQLITE_NULL ? NULL : store_col_text(a, st, 5);
		}
		if (rc != SQLITE_DONE)
			ret = store_db_fail(c, "thread keys", error_r);
		sqlite3_reset(st);
		*keys_r = v;
		*n_r = n;
	}
	store_db_put(s, c);
	return ret;
}
