/* store_rows.c: the row helpers beneath accounts, mailboxes and messages.
 *
 * The small reads and writes on account, mailbox and message rows that the operations
 * of store_account.c, store_mailbox.c and store_message.c (and store_deliver.c,
 * store_email.c) share: the account's MODSEQ counter and usage (quota), the mailbox
 * counters, keyword lists, inserting, copying and removing message rows. This file
 * calls nothing in those files, so they depend on it and never on each other in a
 * cycle (scripts/store-cycles checks). Writes run on the committer thread inside the
 * group transaction (store.c). Counters never go below zero: a decrement that would
 * is a bookkeeping bug, and asserts. */
#include "store_int.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ accounts */

uint64_t store_acct_next_modseq(struct sql_conn *q, int64_t account_id)
{
	struct sql_stmt *st = sql_prepare(q, "UPDATE accounts SET modseq = modseq + 1 WHERE id = ?"
					  " RETURNING modseq");
	if (st == NULL)
		return 0;
	sql_bind_int64(st, 1, account_id);
	uint64_t m = 0;
	if (sql_step(st) == SQL_ROW)
		m = (uint64_t)sql_col_int64(st, 0);
	sql_reset(st);
	return m;
}

/* Steps a statement that asks whether a row exists: 1, 0, or STORE_ERR. */
static int sql_exists(struct sql_stmt *st)
{
	int rc = sql_step(st);
	sql_reset(st);
	return rc == SQL_ROW ? 1 : rc == SQL_DONE ? 0 : STORE_ERR;
}

int store_acct_exists(struct sql_conn *q, int64_t account_id)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM accounts WHERE id = ?");
	if (st == NULL)
		return STORE_ERR;
	sql_bind_int64(st, 1, account_id);
	return sql_exists(st);
}

/* ------------------------------------------------------------------ mailboxes */

int store_mbox_owned(struct sql_conn *q, int64_t account_id, int64_t mailbox_id)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM mailboxes WHERE id = ? AND account_id = ?");
	if (st == NULL)
		return STORE_ERR;
	sql_bind_int64(st, 1, mailbox_id);
	sql_bind_int64(st, 2, account_id);
	return sql_exists(st);
}

int store_mbox_adjust(struct sql_conn *q, int64_t mailbox_id, int64_t dmessages, int64_t dunseen,
		int64_t ddeleted, int64_t dsize, uint64_t modseq)
{
	/* CASE, not SQLite's scalar MAX (PostgreSQL's GREATEST): the SQL runs on both */
	struct sql_stmt *st = sql_prepare(q, "UPDATE mailboxes SET messages = messages + ?,"
					  " unseen = unseen + ?, deleted = deleted + ?, size = size + ?,"
					  " highestmodseq = CASE WHEN highestmodseq > ?5 THEN highestmodseq ELSE ?5 END"
					  " WHERE id = ?6 RETURNING messages, unseen, deleted, size");
	if (st == NULL)
		return STORE_ERR;
	sql_bind_int64(st, 1, dmessages);
	sql_bind_int64(st, 2, dunseen);
	sql_bind_int64(st, 3, ddeleted);
	sql_bind_int64(st, 4, dsize);
	sql_bind_int64(st, 5, (int64_t)modseq);
	sql_bind_int64(st, 6, mailbox_id);
	int rc = sql_step(st);
	if (rc == SQL_ROW) {
		/* the counters are sums over rows changed in the same transaction: a negative
		 * one is a bookkeeping bug (as in store_acct_charge) */
		for (int i = 0; i < 4; i++)
			assert(sql_col_int64(st, i) >= 0);
		rc = sql_step(st);
	}
	sql_reset(st);
	return rc == SQL_DONE ? 1 : STORE_ERR;
}

/* ------------------------------------------------------------------ keywords and message rows */

bool store_keyword_valid(const char *kw)
{
	size_t n = kw ? strlen(kw) : 0;
	if (n == 0 || n > STORE_KEYWORD_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)kw[i];
		/* IMAP atom-char minus "\" and "]" (RFC 9051 flag-keyword) */
		if (c <= ' ' || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

static int kwcmp(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

/* Splits a stored keyword string into an array (arena, NULL-terminated). */
static const char **kw_split(struct arena *a, const char *s, size_t extra, size_t *n_r)
{
	size_t n = 0;
	for (const char *p = s; *p; p++)
		n += *p == ' ';
	const char **v = arena_alloc(a, (n + 2 + extra) * sizeof(*v));
	size_t k = 0;
	char *copy = arena_strdup(a, s);
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		v[k++] = t;
	v[k] = NULL;
	*n_r = k;
	return v;
}

static const char *kw_join_sorted(struct arena *a, const char **v, size_t n)
{
	qsort(v, n, sizeof(*v), kwcmp);
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	char *out = arena_alloc(a, len), *p = out;
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcasecmp(v[i], v[i - 1]) == 0)
			continue;
		if (p != out)
			*p++ = ' ';
		size_t l = strlen(v[i]);
		memcpy(p, v[i], l);
		p += l;
	}
	*p = '\0';
	return out;
}

int store_keywords_join(struct arena *a, const char *const *kws, const char **out_r,
		  const char **error_r)
{
	size_t n = 0;
	while (kws != NULL && kws[n] != NULL) {
		if (!store_keyword_valid(kws[n])) {
			*error_r = "invalid keyword";
			return STORE_EINVAL;
		}
		n++;
	}
	if (n > STORE_KEYWORDS_PER_MESSAGE) {
		*error_r = "too many keywords";
		return STORE_EINVAL;
	}
	const char **v = arena_alloc(a, (n + 1) * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = kws[i];
	*out_r = kw_join_sorted(a, v, n);
	return 1;
}

const char *store_keywords_apply(struct arena *a, const char *cur, enum store_flag_op op,
			   const char *change)
{
	if (op == STORE_FLAGS_REPLACE)
		return change;
	size_t ncur, nch;
	const char **ch = kw_split(a, change, 0, &nch);
	const char **v = kw_split(a, cur, nch, &ncur);
	if (op == STORE_FLAGS_ADD) {
		for (size_t i = 0; i < nch; i++)
			v[ncur++] = ch[i];
	} else {
		size_t k = 0;
		for (size_t i = 0; i < ncur; i++) {
			bool drop = false;
			for (size_t j = 0; j < nch; j++)
				drop |= strcasecmp(v[i], ch[j]) == 0;
			if (!drop)
				v[k++] = v[i];
		}
		ncur = k;
	}
	return kw_join_sorted(a, v, ncur);
}

size_t store_keywords_count(const char *s)
{
	size_t n = 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p != ' ' && (p == s || p[-1] == ' '))
			n++;
	}
	return n;
}

void store_mbox_add_keywords(struct sql_conn *q, struct arena *a, int64_t mailbox_id, const char *kws)
{
	if (*kws == '\0')
		return;
	struct sql_stmt *st = sql_prepare(q, "SELECT keywords FROM mailboxes WHERE id = ?");
	if (st == NULL)
		return;
	sql_bind_int64(st, 1, mailbox_id);
	const char *cur = "";
	if (sql_step(st) == SQL_ROW && !sql_col_null(st, 0))
		cur = arena_strdup(a, sql_col_text(st, 0));
	sql_reset(st);
	size_t n;
	kw_split(a, cur, 0, &n);
	if (n >= 256)
		return; /* enough; PERMANENTFLAGS still allows \* */
	const char *merged = store_keywords_apply(a, cur, STORE_FLAGS_ADD, kws);
	if (strcmp(merged, cur) == 0)
		return;
	st = sql_prepare(q, "UPDATE mailboxes SET keywords = ? WHERE id = ?");
	if (st == NULL)
		return;
	sql_bind_text(st, 1, merged);
	sql_bind_int64(st, 2, mailbox_id);
	sql_step_done(st);
}

int store_acct_charge(struct store_op *op, int64_t account_id, int64_t dsize, int64_t dmessages, bool check)
{
	struct sql_conn *q = op->q;
	bool limit = check && dsize > 0;
	/* the check and the charge are one statement: the row's lock makes the limit
	 * exact between nodes (PostgreSQL evaluates the condition again on a row another
	 * transaction changed meanwhile) */
	struct sql_stmt *st = sql_prepare(q, limit ? "UPDATE accounts SET usage = usage + ?1, messages = messages + ?2"
						     " WHERE id = ?3 AND (quota <= 0 OR (usage <= quota AND ?1 <= quota - usage))"
						     " RETURNING usage, messages"
						   : "UPDATE accounts SET usage = usage + ?1, messages = messages + ?2"
						     " WHERE id = ?3 RETURNING usage, messages");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "charge");
	sql_bind_int64(st, 1, dsize);
	sql_bind_int64(st, 2, dmessages);
	sql_bind_int64(st, 3, account_id);
	int rc = sql_step(st);
	bool charged = rc == SQL_ROW;
	while (rc == SQL_ROW) {
		/* the counters are sums over rows changed in the same transaction: a
		 * negative one is a bookkeeping bug, not a client error */
		assert(sql_col_int64(st, 0) >= 0 && sql_col_int64(st, 1) >= 0);
		rc = sql_step(st);
	}
	sql_reset(st);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "charge");
	if (charged || !limit)
		return 1;
	st = sql_prepare(q, "SELECT quota, usage FROM accounts WHERE id = ?");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "charge");
	sql_bind_int64(st, 1, account_id);
	rc = sql_step(st);
	int64_t quota = rc == SQL_ROW ? sql_col_int64(st, 0) : 0, usage = rc == SQL_ROW ? sql_col_int64(st, 1) : 0;
	sql_reset(st);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "charge");
	if (rc != SQL_ROW)
		return store_op_fail(op, STORE_ENOTFOUND, "no such account");
	return store_op_fail(op, STORE_EOVERQUOTA, "quota exceeded (%lld of %lld bytes used)", (long long)usage,
			     (long long)quota);
}

int store_msg_insert(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
	       struct msg_row *row, uint64_t modseq)
{
	struct sql_conn *q = op->q;
	/* the UID is taken with the mailbox row's lock: two nodes delivering into one
	 * mailbox at once get one each */
	struct sql_stmt *st = sql_prepare(q, "UPDATE mailboxes SET uidnext = uidnext + 1 WHERE id = ? AND account_id = ?"
					  " RETURNING uidnext - 1");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "uidnext");
	sql_bind_int64(st, 1, mailbox_id);
	sql_bind_int64(st, 2, account_id);
	int rc = sql_step(st);
	int64_t uid = rc == SQL_ROW ? sql_col_int64(st, 0) : 0;
	if (rc == SQL_ROW)
		rc = sql_step(st);
	sql_reset(st);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "uidnext");
	if (uid == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	if (uid >= (int64_t)STORE_UID_MAX)
		return store_op_fail(op, STORE_ELIMIT, "mailbox UID space exhausted");
	st = sql_prepare(q, "INSERT INTO messages(mailbox_id, uid, account_id, email_id, thread_id,"
			    " flags, keywords, modseq, size, internal_date, internal_tz, save_date)"
			    " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st != NULL) {
		sql_bind_int64(st, 1, mailbox_id);
		sql_bind_int64(st, 2, uid);
		sql_bind_int64(st, 3, account_id);
		sql_bind_int64(st, 4, row->email_id);
		sql_bind_int64(st, 5, row->thread_id);
		sql_bind_int64(st, 6, (int64_t)row->flags);
		sql_bind_text(st, 7, row->keywords ? row->keywords : "");
		sql_bind_int64(st, 8, (int64_t)modseq);
		sql_bind_int64(st, 9, (int64_t)row->size);
		sql_bind_int64(st, 10, row->internal_date);
		sql_bind_int64(st, 11, row->internal_tz);
		sql_bind_int64(st, 12, (int64_t)time(NULL));
	}
	if (store_op_step(op, st, "insert message") < 0)
		return op->result;
	const char *err;
	/* SORT and THREAD read these instead of the message's metadata (store_sortkey.c) */
	if (store_sortkey_add(q, op->tmp, mailbox_id, (uint32_t)uid, row->email_id, row->size,
					   row->internal_date, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	if (store_mbox_adjust(q, mailbox_id, 1, !(row->flags & STORE_F_SEEN), !!(row->flags & STORE_F_DELETED),
			      (int64_t)row->size, modseq) < 0)
		return store_op_fail(op, STORE_ERR, "database error");
	if (row->keywords && *row->keywords)
		store_mbox_add_keywords(q, op->tmp, mailbox_id, row->keywords);
	row->uid = (uint32_t)uid;
	return 1;
}

int store_email_release(struct store_op *op, struct db *c, int64_t email_id)
{
	struct sql_conn *q = op->q;
	struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM messages WHERE email_id = ? LIMIT 1");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "release");
	sql_bind_int64(st, 1, email_id);
	int rc = sql_step(st);
	sql_reset(st);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "release");
	if (rc == SQL_ROW)
		return 1;
	/* a pending junk filter lesson keeps the message for the learner (store_lesson.c) */
	st = sql_prepare(q, "SELECT 1 FROM junk_lessons WHERE email_id = ? LIMIT 1");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "release");
	sql_bind_int64(st, 1, email_id);
	rc = sql_step(st);
	sql_reset(st);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "release");
	if (rc == SQL_ROW)
		return 1;
	st = sql_prepare(q, "DELETE FROM junk_marks WHERE email_id = ?");
	if (st != NULL)
		sql_bind_int64(st, 1, email_id);
	if (store_op_step(op, st, "release") < 0)
		return op->result;
	const char *err;
	if (c != NULL) { /* what only SQLite has: the index, the digests */
		if (store_index_remove(op, c, email_id, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		sqlite3_stmt *lt = store_db_stmt(c, "DELETE FROM email_digests WHERE email_id = ?");
		sqlite3_bind_int64(lt, 1, email_id);
		if (store_step_done(c, lt, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
	}
	/* SQLite: the file goes after the commit; PostgreSQL: the chunks go with the row
	 * (ON DELETE CASCADE), and blob is NULL */
	st = sql_prepare(q, "DELETE FROM emails WHERE id = ? RETURNING blob");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "release");
	sql_bind_int64(st, 1, email_id);
	while ((rc = sql_step(st)) == SQL_ROW) {
		if (!sql_col_null(st, 0))
			store_op_unlink_blob(op, sql_col_text(st, 0));
	}
	sql_reset(st);
	return rc < 0 ? store_op_sql_fail(op, rc, "release") : 1;
}

#define SELECT_ROWS "SELECT uid, email_id, thread_id, flags, keywords, size, internal_date, internal_tz" \
	" FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid"
static const char sql_select_rows[] = SELECT_ROWS;
static const char sql_select_rows_locked[] = SELECT_ROWS " FOR UPDATE";

struct msg_row *store_msg_select_rows(struct sql_conn *q, struct arena *a, int64_t mailbox_id,
				const struct store_uidset *set, bool only_deleted, size_t *n_r)
{
	static const struct store_range all = { 1, UINT32_MAX };
	const struct store_range *r = set ? set->r : &all;
	size_t nr = set ? set->n : 1;
	size_t n = 0, cap = 64;
	struct msg_row *v = xmalloc(cap * sizeof(*v));
	/* PostgreSQL: the rows are locked until the transaction ends, so that another
	 * node's change to the same messages waits instead of being overwritten */
	struct sql_stmt *st = sql_prepare(q, sql_engine(q) == SQL_SQLITE ? sql_select_rows : sql_select_rows_locked);
	for (size_t i = 0; st != NULL && i < nr; i++) {
		sql_bind_int64(st, 1, mailbox_id);
		sql_bind_int64(st, 2, r[i].lo);
		sql_bind_int64(st, 3, r[i].hi);
		while (sql_step(st) == SQL_ROW) {
			unsigned int flags = (unsigned int)sql_col_int64(st, 3);
			if (only_deleted && !(flags & STORE_F_DELETED))
				continue;
			if (n == cap)
				v = xrealloc(v, (cap *= 2) * sizeof(*v));
			v[n].uid = (uint32_t)sql_col_int64(st, 0);
			v[n].email_id = sql_col_int64(st, 1);
			v[n].thread_id = sql_col_int64(st, 2);
			v[n].flags = flags;
			v[n].keywords = sql_col_null(st, 4) ? "" : arena_strdup(a, sql_col_text(st, 4));
			v[n].size = (uint64_t)sql_col_int64(st, 5);
			v[n].internal_date = sql_col_int64(st, 6);
			v[n].internal_tz = (int)sql_col_int64(st, 7);
			n++;
		}
		sql_reset(st);
	}
	/* Overlapping ranges could repeat a UID: sort and dedupe. */
	for (size_t i = 1; i < n; i++) {
		if (v[i].uid <= v[i - 1].uid) {
			/* rare: insertion sort + dedupe */
			for (size_t j = 1; j < n; j++) {
				struct msg_row x = v[j];
				size_t k = j;
				while (k > 0 && v[k - 1].uid > x.uid) {
					v[k] = v[k - 1];
					k--;
				}
				v[k] = x;
			}
			size_t k = 0;
			for (size_t j = 0; j < n; j++) {
				if (k == 0 || v[j].uid != v[k - 1].uid)
					v[k++] = v[j];
			}
			n = k;
			break;
		}
	}
	*n_r = n;
	return v;
}

static const char sql_expunged_sqlite[] = "INSERT OR REPLACE INTO expunged(mailbox_id, uid, account_id,"
					  " email_id, modseq) VALUES(?, ?, ?, ?, ?)";
static const char sql_expunged_pg[] = "INSERT INTO expunged(mailbox_id, uid, account_id, email_id, modseq)"
				      " VALUES(?, ?, ?, ?, ?) ON CONFLICT(mailbox_id, uid) DO UPDATE SET"
				      " account_id = excluded.account_id, email_id = excluded.email_id,"
				      " modseq = excluded.modseq";

int store_msg_remove_rows(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
		    const struct msg_row *rows, size_t n, uint64_t modseq, bool release)
{
	struct sql_conn *q = op->q;
	struct sql_stmt *del = sql_prepare(q, "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
	struct sql_stmt *ex = sql_prepare(q, sql_engine(q) == SQL_SQLITE ? sql_expunged_sqlite : sql_expunged_pg);
	if (del == NULL || ex == NULL)
		return store_op_sql_fail(op, SQL_ERR, "expunge");
	int64_t unseen = 0, deleted = 0, size = 0;
	for (size_t i = 0; i < n; i++) {
		sql_bind_int64(del, 1, mailbox_id);
		sql_bind_int64(del, 2, rows[i].uid);
		if (store_op_step(op, del, "expunge") < 0)
			return op->result;
		sql_bind_int64(ex, 1, mailbox_id);
		sql_bind_int64(ex, 2, rows[i].uid);
		sql_bind_int64(ex, 3, account_id);
		sql_bind_int64(ex, 4, rows[i].email_id);
		sql_bind_int64(ex, 5, (int64_t)modseq);
		if (store_op_step(op, ex, "expunge") < 0)
			return op->result;
		unseen += !(rows[i].flags & STORE_F_SEEN);
		deleted += !!(rows[i].flags & STORE_F_DELETED);
		size += (int64_t)rows[i].size;
	}
	if (store_mbox_adjust(q, mailbox_id, -(int64_t)n, -unseen, -deleted, -size, modseq) < 0)
		return store_op_fail(op, STORE_ERR, "database error");
	if (release) {
		if (store_acct_charge(op, account_id, -size, -(int64_t)n, false) < 0)
			return op->result;
		for (size_t i = 0; i < n; i++)
			store_email_release(op, c, rows[i].email_id);
	}
	if (n > 0)
		store_op_event(op, STORE_EV_EXPUNGE, account_id, mailbox_id, rows[0].uid, rows[n - 1].uid,
			 (uint32_t)n, modseq);
	return 1;
}

int store_msg_remove_all(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
		   uint64_t modseq)
{
	size_t n;
	struct msg_row *rows = store_msg_select_rows(op->q, op->tmp, mailbox_id, NULL, false, &n);
	int r = store_msg_remove_rows(op, c, account_id, mailbox_id, rows, n, modseq, true);
	free(rows);
	return r;
}

int store_msg_expunge_uid(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
		    uint32_t uid, uint64_t modseq)
{
	struct store_range one = { uid, uid };
	struct store_uidset set = { &one, 1 };
	size_t n;
	struct msg_row *rows = store_msg_select_rows(op->q, op->tmp, mailbox_id, &set, false, &n);
	int r = n == 0 ? 0 : store_msg_remove_rows(op, c, account_id, mailbox_id, rows, n, modseq, true);
	free(rows);
	return r;
}

int store_msg_copy_rows(struct store_op *op, struct db *c, int64_t account_id, int64_t dst_mailbox_id,
		  const struct msg_row *rows, size_t n, uint64_t modseq, uint32_t *dst_uids)
{
	for (size_t i = 0; i < n; i++) {
		struct msg_row row = rows[i];
		if (store_msg_insert(op, c, account_id, dst_mailbox_id, &row, modseq) < 0)
			return op->result;
		dst_uids[i] = row.uid;
	}
	if (n > 0)
		store_op_event(op, STORE_EV_NEW, account_id, dst_mailbox_id, dst_uids[0], dst_uids[n - 1],
			 (uint32_t)n, modseq);
	return 1;
}
