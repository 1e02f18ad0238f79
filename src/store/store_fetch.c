/* store_fetch.c: reading messages: listings, metadata, bodies, and change queries.
 *
 * Reads run on the calling thread with a pooled connection. Listing a mailbox is one
 * range scan of the messages table, whose primary key is (mailbox_id, uid) in a
 * WITHOUT ROWID table: the rows of a mailbox are contiguous and already in UID order,
 * so SELECT + FETCH 1:* (UID FLAGS) of 100,000 messages reads ~3 MB sequentially.
 * Every query is scoped by account: a mailbox or email id of another account gives
 * "not found", never its data. store_mailbox_snapshot runs several of these reads in one
 * read transaction, so that what SELECT reports comes from one state of the store.
 * The reads go through sql.h and run on both backends; bodies are files under
 * DIR/blobs on SQLite and message_chunks rows on PostgreSQL (store_pg_body.c). The
 * SORT keys (store_msg_sortkeys) are SQLite's only and refuse on PostgreSQL. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MSG_COLS "m.uid, m.flags, m.keywords, m.modseq, m.size, m.internal_date, m.internal_tz," \
	" m.save_date, m.email_id, m.thread_id"

/* Column i's text copied into the arena ("" for NULL). */
static const char *col_str(struct arena *a, struct sql_stmt *st, int i)
{
	return sql_col_null(st, i) ? "" : arena_strdup(a, sql_col_text(st, i));
}

static void msg_row_read(struct arena *a, struct sql_stmt *st, struct store_msg *m)
{
	m->uid = (uint32_t)sql_col_int64(st, 0);
	m->flags = (unsigned int)sql_col_int64(st, 1);
	m->keywords = sql_col_bytes(st, 2) == 0 ? "" : col_str(a, st, 2);
	m->modseq = (uint64_t)sql_col_int64(st, 3);
	m->size = (uint64_t)sql_col_int64(st, 4);
	m->internal_date = sql_col_int64(st, 5);
	m->internal_tz = (int)sql_col_int64(st, 6);
	m->save_date = sql_col_int64(st, 7);
	m->email_id = sql_col_int64(st, 8);
	m->thread_id = sql_col_int64(st, 9);
}

struct vec {
	void *v;
	size_t n, cap, elem;
};

static void *vec_push(struct arena *a, struct vec *v)
{
	if (v->n == v->cap) {
		size_t ncap = v->cap ? v->cap * 2 : 64;
		void *nv = arena_alloc(a, ncap * v->elem);
		if (v->n)
			memcpy(nv, v->v, v->n * v->elem);
		v->v = nv;
		v->cap = ncap;
	}
	return (char *)v->v + v->elem * v->n++;
}

static int check_mailbox(struct sql_conn *q, int64_t account_id, int64_t mailbox_id,
			 const char **error_r)
{
	int r = store_mbox_owned(q, account_id, mailbox_id);
	if (r == 0) {
		*error_r = "no such mailbox";
		return STORE_ENOTFOUND;
	}
	if (r < 0)
		*error_r = "database error";
	return r;
}

/* The messages of a mailbox with MODSEQ > since, ascending by UID (session sync,
 * CHANGEDSINCE 1:*, QRESYNC): a range of the (mailbox_id, modseq) index instead of a
 * scan of every row, so the cost follows the number of changes. */
static const char sql_changed_sqlite[] = "SELECT " MSG_COLS " FROM messages m INDEXED BY messages_modseq"
					 " WHERE m.mailbox_id = ? AND m.modseq > ? ORDER BY m.uid";
static const char sql_changed_pg[] = "SELECT " MSG_COLS " FROM messages m"
				     " WHERE m.mailbox_id = ? AND m.modseq > ? ORDER BY m.uid";

static int changed_read(struct sql_conn *q, struct arena *a, int64_t mailbox_id, uint64_t since, struct vec *v,
			const char **error_r)
{
	struct sql_stmt *st = sql_prepare(q, sql_engine(q) == SQL_SQLITE ? sql_changed_sqlite : sql_changed_pg);
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, "msg_list", error_r);
	sql_bind_int64(st, 1, mailbox_id);
	sql_bind_int64(st, 2, (int64_t)since);
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW)
		msg_row_read(a, st, vec_push(a, v));
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "msg_list", error_r);
	sql_reset(st);
	return ret;
}

/* The UIDs of one column query with one bound mailbox id and an optional MODSEQ
 * (sql's second parameter), ascending, into v. */
static int uids_read(struct sql_conn *q, struct arena *a, const char *sql, int64_t mailbox_id, uint64_t modseq,
		     bool with_modseq, struct vec *v, const char *what, const char **error_r)
{
	struct sql_stmt *st = sql_prepare(q, sql);
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, what, error_r);
	sql_bind_int64(st, 1, mailbox_id);
	if (with_modseq)
		sql_bind_int64(st, 2, (int64_t)modseq);
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW)
		*(uint32_t *)vec_push(a, v) = (uint32_t)sql_col_int64(st, 0);
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, what, error_r);
	sql_reset(st);
	return ret;
}

static const char sql_uids[] = "SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid";
static const char sql_vanished[] = "SELECT uid FROM expunged WHERE mailbox_id = ? AND modseq > ? ORDER BY uid";

/* The lowest UID without \Seen: 1 with *uid_r, 0 if none, <0 error. */
static int first_unseen_read(struct sql_conn *q, int64_t mailbox_id, uint32_t *uid_r, const char **error_r)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT uid FROM messages WHERE mailbox_id = ? AND (flags & ?) = 0"
					  " ORDER BY uid LIMIT 1");
	*uid_r = 0;
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, "first_unseen", error_r);
	sql_bind_int64(st, 1, mailbox_id);
	sql_bind_int64(st, 2, STORE_F_SEEN);
	int rc = sql_step(st), ret;
	if (rc == SQL_ROW) {
		*uid_r = (uint32_t)sql_col_int64(st, 0);
		ret = 1;
	} else {
		ret = rc == SQL_DONE ? 0 : store_sql_fail(q, rc, "first_unseen", error_r);
	}
	sql_reset(st);
	return ret;
}


int store_msg_list(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   const struct store_uidset *set, uint64_t changed_since,
		   struct store_msg **msgs_r, size_t *n_r, const char **error_r)
{
	struct vec v = { .elem = sizeof(struct store_msg) };
	*msgs_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = check_mailbox(q, account_id, mailbox_id, error_r);
	if (ret > 0 && set != NULL && set->n > 0 && set->r == NULL) {
		*error_r = "malformed UID set";
		ret = STORE_EINVAL;
	}
	if (ret > 0 && set == NULL && changed_since > 0) {
		ret = changed_read(q, a, mailbox_id, changed_since, &v, error_r);
	} else if (ret > 0) {
		static const struct store_range all = { 1, UINT32_MAX };
		const struct store_range *r = set ? set->r : &all;
		size_t nr = set ? set->n : 1;
		struct sql_stmt *st = sql_prepare(q, "SELECT " MSG_COLS " FROM messages m WHERE m.mailbox_id = ?"
						  " AND m.uid BETWEEN ? AND ? AND m.modseq > ? ORDER BY m.uid");
		if (st == NULL)
			ret = store_sql_fail(q, SQL_ERR, "msg_list", error_r);
		uint32_t last = 0;
		bool sorted = true;
		for (size_t i = 0; ret > 0 && i < nr; i++) {
			sql_bind_int64(st, 1, mailbox_id);
			sql_bind_int64(st, 2, r[i].lo);
			sql_bind_int64(st, 3, r[i].hi);
			sql_bind_int64(st, 4, (int64_t)changed_since);
			int rc;
			while ((rc = sql_step(st)) == SQL_ROW) {
				struct store_msg *m = vec_push(a, &v);
				msg_row_read(a, st, m);
				if (m->uid <= last)
					sorted = false;
				last = m->uid;
			}
			sql_reset(st);
			if (rc != SQL_DONE)
				ret = store_sql_fail(q, rc, "msg_list", error_r);
		}
		if (!sorted) { /* overlapping or unordered ranges: sort, dedupe */
			struct store_msg *m = v.v;
			for (size_t i = 1; i < v.n; i++) {
				struct store_msg x = m[i];
				size_t k = i;
				while (k > 0 && m[k - 1].uid > x.uid) {
					m[k] = m[k - 1];
					k--;
				}
				m[k] = x;
			}
			size_t k = 0;
			for (size_t i = 0; i < v.n; i++) {
				if (k == 0 || m[i].uid != m[k - 1].uid)
					m[k++] = m[i];
			}
			v.n = k;
		}
	}
	store_sql_put(s, q, db);
	*msgs_r = v.v;
	*n_r = v.n;
	return ret;
}

int store_uid_list(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   uint32_t **uids_r, size_t *n_r, const char **error_r)
{
	struct vec v = { .elem = sizeof(uint32_t) };
	*uids_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = check_mailbox(q, account_id, mailbox_id, error_r);
	if (ret > 0)
		ret = uids_read(q, a, sql_uids, mailbox_id, 0, false, &v, "uid_list", error_r);
	store_sql_put(s, q, db);
	*uids_r = v.v;
	*n_r = v.n;
	return ret;
}

int store_first_unseen(struct store *s, int64_t account_id, int64_t mailbox_id, uint32_t *uid_r,
		       const char **error_r)
{
	*uid_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = check_mailbox(q, account_id, mailbox_id, error_r);
	if (ret > 0)
		ret = first_unseen_read(q, mailbox_id, uid_r, error_r);
	store_sql_put(s, q, db);
	return ret;
}

#define META_COLS MSG_COLS ", e.envelope, e.bodystructure, e.body, e.subject, e.from_, e.to_," \
	" e.cc, e.bcc, e.reply_to, e.sender, e.message_id, e.in_reply_to, e.refs, e.date," \
	" e.date_tz, e.preview, e.header_size, e.has_attachment, e.parts, m.mailbox_id"

static void meta_read(struct arena *a, struct sql_stmt *st, struct store_msg_meta *mm)
{
	msg_row_read(a, st, &mm->m);
	int i = 10;
	mm->envelope = col_str(a, st, i++);
	mm->bodystructure = col_str(a, st, i++);
	mm->body = col_str(a, st, i++);
	mm->subject = col_str(a, st, i++);
	mm->from = col_str(a, st, i++);
	mm->to = col_str(a, st, i++);
	mm->cc = col_str(a, st, i++);
	mm->bcc = col_str(a, st, i++);
	mm->reply_to = col_str(a, st, i++);
	mm->sender = col_str(a, st, i++);
	mm->message_id = col_str(a, st, i++);
	mm->in_reply_to = col_str(a, st, i++);
	mm->references = col_str(a, st, i++);
	mm->date = sql_col_int64(st, i++);
	mm->date_tz = (int)sql_col_int64(st, i++);
	mm->preview = col_str(a, st, i++);
	mm->header_size = (uint64_t)sql_col_int64(st, i++);
	mm->has_attachment = sql_col_int64(st, i++) != 0;
	mm->parts = col_str(a, st, i++);
}

/* One row of sql (three bound ids) read by meta_read: 1, 0 if none, <0. mailbox_id_r
 * (may be NULL): its mailbox. */
static int meta_one(struct store *s, struct arena *a, const char *sql, int64_t k1, int64_t k2, int64_t k3,
		    struct store_msg_meta *meta_r, int64_t *mailbox_id_r, const char *what, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, sql);
	int ret;
	if (st == NULL) {
		ret = store_sql_fail(q, SQL_ERR, what, error_r);
	} else {
		sql_bind_int64(st, 1, k1);
		sql_bind_int64(st, 2, k2);
		sql_bind_int64(st, 3, k3);
		int rc = sql_step(st);
		if (rc == SQL_ROW) {
			meta_read(a, st, meta_r);
			if (mailbox_id_r)
				*mailbox_id_r = sql_col_int64(st, 29);
			ret = 1;
		} else {
			ret = rc == SQL_DONE ? 0 : store_sql_fail(q, rc, what, error_r);
		}
		sql_reset(st);
	}
	store_sql_put(s, q, db);
	return ret;
}

int store_msg_meta(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   uint32_t uid, struct store_msg_meta *meta_r, const char **error_r)
{
	return meta_one(s, a, "SELECT " META_COLS " FROM messages m JOIN emails e"
			" ON e.id = m.email_id WHERE m.mailbox_id = ? AND m.uid = ? AND m.account_id = ?",
			mailbox_id, uid, account_id, meta_r, NULL, "msg_meta", error_r);
}

static int meta_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct store_msg_meta *)a)->m.uid, y = ((const struct store_msg_meta *)b)->m.uid;
	return x < y ? -1 : x > y;
}

int store_msg_meta_list(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
			const struct store_uidset *set, struct store_msg_meta **metas_r, size_t *n_r,
			const char **error_r)
{
	struct vec v = { .elem = sizeof(struct store_msg_meta) };
	*metas_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = check_mailbox(q, account_id, mailbox_id, error_r);
	if (ret > 0 && set != NULL && set->n > 0 && set->r == NULL) {
		*error_r = "malformed UID set";
		ret = STORE_EINVAL;
	}
	if (ret > 0) {
		static const struct store_range all = { 1, UINT32_MAX };
		const struct store_range *r = set ? set->r : &all;
		size_t nr = set ? set->n : 1;
		struct sql_stmt *st = sql_prepare(q, "SELECT " META_COLS " FROM messages m JOIN emails e"
						  " ON e.id = m.email_id WHERE m.mailbox_id = ?"
						  " AND m.uid BETWEEN ? AND ? ORDER BY m.uid");
		if (st == NULL)
			ret = store_sql_fail(q, SQL_ERR, "msg_meta_list", error_r);
		bool sorted = true;
		for (size_t i = 0; i < nr && ret > 0; i++) {
			sql_bind_int64(st, 1, mailbox_id);
			sql_bind_int64(st, 2, r[i].lo);
			sql_bind_int64(st, 3, r[i].hi);
			int rc;
			while ((rc = sql_step(st)) == SQL_ROW) {
				struct store_msg_meta *mm = vec_push(a, &v);
				meta_read(a, st, mm);
				if (v.n > 1 && mm->m.uid <= mm[-1].m.uid)
					sorted = false;
			}
			sql_reset(st);
			if (rc != SQL_DONE)
				ret = store_sql_fail(q, rc, "msg_meta_list", error_r);
		}
		if (!sorted) { /* unordered or overlapping ranges: sort, dedupe */
			struct store_msg_meta *m = v.v;
			qsort(m, v.n, sizeof(*m), meta_cmp);
			size_t k = 0;
			for (size_t i = 0; i < v.n; i++) {
				if (k == 0 || m[i].m.uid != m[k - 1].m.uid)
					m[k++] = m[i];
			}
			v.n = k;
		}
	}
	store_sql_put(s, q, db);
	*metas_r = v.v;
	*n_r = v.n;
	return ret;
}

int store_msg_sortkeys(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		       const struct store_uidset *set, struct store_msg_sortkey **keys_r, size_t *n_r,
		       const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	struct vec v = { .elem = sizeof(struct store_msg_sortkey) };
	int ret = check_mailbox(c->sql, account_id, mailbox_id, error_r);
	if (ret > 0 && set != NULL && set->n > 0 && set->r == NULL) {
		*error_r = "malformed UID set";
		ret = STORE_EINVAL;
	}
	if (ret > 0) {
		static const struct store_range all = { 1, UINT32_MAX };
		const struct store_range *r = set ? set->r : &all;
		size_t nr = set ? set->n : 1;
		/* the keys stored for SORT (store_sortkey.c): RFC 8621 §4.4.2 sorts by the base
		 * subject and the first address's name, else its email, as SORT's SUBJECT and
		 * DISPLAYFROM/DISPLAYTO do; the decoded fields for a message without them */
		sqlite3_stmt *st = store_db_stmt(c, "SELECT m.uid, e.has_attachment, e.date, coalesce(k.subject, e.subject),"
					       " coalesce(k.dfrom, e.from_), coalesce(k.dto, e.to_)"
					       " FROM messages m JOIN emails e ON e.id = m.email_id LEFT JOIN msg_keys k"
					       " ON k.mailbox_id = m.mailbox_id AND k.uid = m.uid"
					       " WHERE m.mailbox_id = ? AND m.uid BETWEEN ? AND ? ORDER BY m.uid");
		int rc = SQLITE_DONE;
		for (size_t i = 0; i < nr && rc == SQLITE_DONE; i++) {
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, mailbox_id);
			sqlite3_bind_int64(st, 2, r[i].lo);
			sqlite3_bind_int64(st, 3, r[i].hi);
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				struct store_msg_sortkey *k = vec_push(a, &v);
				k->uid = (uint32_t)sqlite3_column_int64(st, 0);
				k->has_attachment = sqlite3_column_int(st, 1) != 0;
				k->date = sqlite3_column_int64(st, 2);
				k->subject = store_col_text(a, st, 3);
				k->from = store_col_text(a, st, 4);
				k->to = store_col_text(a, st, 5);
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			ret = store_db_fail(c, "msg_sortkeys", error_r);
	}
	store_db_put(s, c);
	*keys_r = v.v;
	*n_r = v.n;
	return ret;
}

/* The int64 column 0 of every row of sql with two bound ids, into v. 1 or <0. */
static int ids_read(struct sql_conn *q, struct arena *a, const char *sql, int64_t k1, int64_t k2, struct vec *v,
		    const char *what, const char **error_r)
{
	struct sql_stmt *st = sql_prepare(q, sql);
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, what, error_r);
	sql_bind_int64(st, 1, k1);
	sql_bind_int64(st, 2, k2);
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW)
		*(int64_t *)vec_push(a, v) = sql_col_int64(st, 0);
	sql_reset(st);
	return rc == SQL_DONE ? 1 : store_sql_fail(q, rc, what, error_r);
}

int store_thread_emails(struct store *s, struct arena *a, int64_t account_id, int64_t thread_id,
			int64_t **email_ids_r, size_t *n_r, const char **error_r)
{
	struct vec v = { .elem = sizeof(int64_t) };
	*email_ids_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = ids_read(q, a, "SELECT DISTINCT m.email_id FROM messages m"
			   " WHERE m.account_id = ? AND m.thread_id = ? ORDER BY m.email_id",
			   account_id, thread_id, &v, "thread_emails", error_r);
	store_sql_put(s, q, db);
	*email_ids_r = v.v;
	*n_r = v.n;
	return ret;
}

int store_email_meta(struct store *s, struct arena *a, int64_t account_id, int64_t email_id,
		     struct store_msg_meta *meta_r, int64_t *mailbox_id_r, const char **error_r)
{
	return meta_one(s, a, "SELECT " META_COLS " FROM messages m JOIN emails e"
			" ON e.id = m.email_id WHERE m.email_id = ?1 AND m.account_id = ?2 AND ?3 = ?3"
			" ORDER BY m.mailbox_id, m.uid LIMIT 1",
			email_id, account_id, 0, meta_r, mailbox_id_r, "email_meta", error_r);
}

int store_email_mailboxes(struct store *s, struct arena *a, int64_t account_id,
			  int64_t email_id, int64_t **mailbox_ids_r, uint32_t **uids_r,
			  size_t *n_r, const char **error_r)
{
	struct vec vm = { .elem = sizeof(int64_t) }, vu = { .elem = sizeof(uint32_t) };
	*mailbox_ids_r = NULL;
	*uids_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT mailbox_id, uid FROM messages WHERE email_id = ?"
					  " AND account_id = ? ORDER BY mailbox_id, uid");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, email_id);
		sql_bind_int64(st, 2, account_id);
		while ((rc = sql_step(st)) == SQL_ROW) {
			*(int64_t *)vec_push(a, &vm) = sql_col_int64(st, 0);
			*(uint32_t *)vec_push(a, &vu) = (uint32_t)sql_col_int64(st, 1);
		}
		sql_reset(st);
	}
	int ret = rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "email_mailboxes", error_r);
	store_sql_put(s, q, db);
	*mailbox_ids_r = vm.v;
	*uids_r = vu.v;
	*n_r = vm.n;
	return ret;
}

/* ------------------------------------------------------------------ bodies */

static int open_blob(struct store *s, const char *blob, int *fd_r, uint64_t *size_r,
		     const char **error_r)
{
	char *path = store_blob_path(s, blob);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		log_error("event=store_error what=open_blob blob=%s errno=%d", blob, errno);
		*error_r = "message file is missing";
		return STORE_ERR;
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		*error_r = "cannot stat message file";
		return STORE_ERR;
	}
	*fd_r = fd;
	*size_r = (uint64_t)sb.st_size;
	return 1;
}

/* Where a message's body is: its file (blob_r, SQLite) or its email id and size
 * (PostgreSQL, whose blob column is NULL). sql: three bound ids, columns blob, id,
 * size. 1, 0 if no such message, <0. */
static int body_of(struct sql_conn *q, struct arena *a, const char *sql, int64_t k1, int64_t k2, int64_t k3,
		   const char **blob_r, int64_t *email_id_r, uint64_t *size_r, const char **error_r)
{
	struct sql_stmt *st = sql_prepare(q, sql);
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, "blob_of", error_r);
	sql_bind_int64(st, 1, k1);
	sql_bind_int64(st, 2, k2);
	sql_bind_int64(st, 3, k3);
	int rc = sql_step(st), ret;
	if (rc == SQL_ROW) {
		*blob_r = sql_col_null(st, 0) ? NULL : arena_strdup(a, sql_col_text(st, 0));
		*email_id_r = sql_col_int64(st, 1);
		*size_r = (uint64_t)sql_col_int64(st, 2);
		ret = 1;
	} else {
		ret = rc == SQL_DONE ? 0 : store_sql_fail(q, rc, "blob_of", error_r);
	}
	sql_reset(st);
	return ret;
}

static const char sql_msg_blob[] =
	"SELECT e.blob, e.id, m.size FROM messages m JOIN emails e ON e.id = m.email_id"
	" WHERE m.mailbox_id = ? AND m.uid = ? AND m.account_id = ?";
static const char sql_email_blob[] =
	"SELECT e.blob, e.id, e.size FROM emails e WHERE e.id = ?1 AND EXISTS(SELECT 1 FROM messages m"
	" WHERE m.email_id = ?1 AND m.account_id = ?2) AND ?3 = ?3";

/* The body's file; on PostgreSQL one holding at least the bytes [off, off + len). */
static int body_open(struct store *s, const char *sql, int64_t k1, int64_t k2, int64_t k3, uint64_t off, uint64_t len,
		     int *fd_r, uint64_t *size_r, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct arena *a = arena_new();
	const char *blob = NULL;
	int64_t email_id = 0;
	uint64_t size = 0;
	int r = body_of(q, a, sql, k1, k2, k3, &blob, &email_id, &size, error_r);
	if (r > 0 && blob != NULL) {
		store_sql_put(s, q, db); /* a file needs no connection */
		q = NULL;
		r = open_blob(s, blob, fd_r, size_r, error_r);
	} else if (r > 0) {
		r = store_pg_body_open(q, email_id, size, off, len, fd_r, error_r);
		*size_r = size;
	}
	if (q != NULL)
		store_sql_put(s, q, db);
	arena_free(&a);
	return r;
}

int store_msg_open(struct store *s, int64_t account_id, int64_t mailbox_id, uint32_t uid,
		   int *fd_r, uint64_t *size_r, const char **error_r)
{
	return body_open(s, sql_msg_blob, mailbox_id, uid, account_id, 0, UINT64_MAX, fd_r, size_r, error_r);
}

int store_msg_open_range(struct store *s, int64_t account_id, int64_t mailbox_id, uint32_t uid, uint64_t off,
			 uint64_t len, int *fd_r, uint64_t *size_r, const char **error_r)
{
	return body_open(s, sql_msg_blob, mailbox_id, uid, account_id, off, len, fd_r, size_r, error_r);
}

int store_email_open(struct store *s, int64_t account_id, int64_t email_id, int *fd_r,
		     uint64_t *size_r, const char **error_r)
{
	return body_open(s, sql_email_blob, email_id, account_id, 0, 0, UINT64_MAX, fd_r, size_r, error_r);
}

int store_msg_read(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   uint32_t uid, const char **data_r, size_t *len_r, const char **error_r)
{
	int fd;
	uint64_t size;
	int r = store_msg_open(s, account_id, mailbox_id, uid, &fd, &size, error_r);
	if (r <= 0)
		return r;
	char *buf = arena_alloc(a, size + 1);
	size_t got = 0;
	while (got < size) {
		ssize_t n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			*error_r = "cannot read message file";
			return STORE_ERR;
		}
		got += (size_t)n;
	}
	close(fd);
	buf[size] = '\0';
	*data_r = buf;
	*len_r = size;
	return 1;
}

/* ------------------------------------------------------------------ changes */

int store_vanished(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		   uint64_t modseq, uint32_t **uids_r, size_t *n_r, const char **error_r)
{
	struct vec v = { .elem = sizeof(uint32_t) };
	*uids_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = check_mailbox(q, account_id, mailbox_id, error_r);
	if (ret > 0)
		ret = uids_read(q, a, sql_vanished, mailbox_id, modseq, true, &v, "vanished", error_r);
	store_sql_put(s, q, db);
	*uids_r = v.v;
	*n_r = v.n;
	return ret;
}

int store_mailbox_snapshot(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
			   bool changes, uint64_t changed_since, struct store_mailbox_snapshot *snap_r,
			   const char **error_r)
{
	memset(snap_r, 0, sizeof(*snap_r));
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct vec uids = { .elem = sizeof(uint32_t) }, changed = { .elem = sizeof(struct store_msg) },
		   vanished = { .elem = sizeof(uint32_t) };
	/* one read transaction: on SQLite a deferred one, whose first SELECT fixes the WAL
	 * snapshot; on PostgreSQL REPEATABLE READ, whose first statement fixes it. Every
	 * later statement reads that state, whatever is committed meanwhile */
	int rc = sql_begin(q);
	if (rc > 0 && sql_engine(q) == SQL_PG)
		rc = sql_exec(q, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	int ret = rc > 0 ? 1 : store_sql_fail(q, rc, "snapshot", error_r);
	if (ret > 0)
		ret = store_mbox_read(q, a, account_id, NULL, mailbox_id, &snap_r->mb, error_r);
	if (ret > 0)
		ret = uids_read(q, a, sql_uids, mailbox_id, 0, false, &uids, "uid_list", error_r);
	if (ret > 0 && s->opt.snapshot_hook != NULL)
		s->opt.snapshot_hook(s->opt.snapshot_hook_arg);
	if (ret > 0)
		ret = store_mbox_keywords_read(q, a, account_id, mailbox_id, &snap_r->keywords, error_r);
	if (ret > 0 && snap_r->mb.unseen > 0)
		ret = first_unseen_read(q, mailbox_id, &snap_r->first_unseen, error_r) < 0 ? STORE_ERR : 1;
	if (ret > 0 && changes)
		ret = changed_read(q, a, mailbox_id, changed_since, &changed, error_r);
	if (ret > 0 && changes)
		ret = uids_read(q, a, sql_vanished, mailbox_id, changed_since, true, &vanished, "vanished", error_r);
	if (ret > 0 && (rc = sql_commit(q)) < 0)
		ret = store_sql_fail(q, rc, "snapshot", error_r);
	sql_rollback(q); /* a transaction left open by an error */
	store_sql_put(s, q, db);
	if (ret <= 0) {
		memset(snap_r, 0, sizeof(*snap_r));
		return ret;
	}
	snap_r->uids = uids.v;
	snap_r->nuids = uids.n;
	snap_r->changes = changes;
	snap_r->changed = changed.v;
	snap_r->nchanged = changed.n;
	snap_r->vanished = vanished.v;
	snap_r->nvanished = vanished.n;
	return 1;
}

int store_email_changes(struct store *s, struct arena *a, int64_t account_id, uint64_t modseq,
			int64_t **changed_r, size_t *nchanged_r, int64_t **removed_r,
			size_t *nremoved_r, const char **error_r)
{
	struct vec ch = { .elem = sizeof(int64_t) }, rm = { .elem = sizeof(int64_t) };
	*changed_r = *removed_r = NULL;
	*nchanged_r = *nremoved_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = ids_read(q, a, "SELECT DISTINCT email_id FROM messages WHERE account_id = ?"
			   " AND modseq > ? ORDER BY email_id", account_id, (int64_t)modseq, &ch, "email_changes", error_r);
	if (ret > 0)
		ret = ids_read(q, a, "SELECT DISTINCT x.email_id FROM expunged x WHERE x.account_id = ?1"
			       " AND x.modseq > ?2 AND x.email_id > 0 AND NOT EXISTS(SELECT 1 FROM messages m"
			       " WHERE m.email_id = x.email_id AND m.account_id = ?1) ORDER BY x.email_id",
			       account_id, (int64_t)modseq, &rm, "email_changes", error_r);
	store_sql_put(s, q, db);
	*changed_r = ch.v;
	*nchanged_r = ch.n;
	*removed_r = rm.v;
	*nremoved_r = rm.n;
	return ret;
}
