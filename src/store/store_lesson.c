/* store_lesson.c: the junk filter's lessons, recorded where the user's actions change the store.
 *
 * A message the user moves or copies into a \Junk mailbox (IMAP COPY/MOVE, JMAP
 * Email/set mailboxIds), APPENDs into one, or marks with the $Junk keyword teaches
 * "spam"; one moved or copied out of \Junk into a mailbox that is not \Trash, or
 * marked $NotJunk, teaches "ham". The store records such a lesson in the same
 * transaction as the change, so every door (IMAP, JMAP, the webmail, tools) is
 * covered without the protocol servers knowing, and a crash never loses one.
 * Delivery by the pipeline (store_deliver) records nothing: the filter's own verdict
 * is no lesson. Clearing $Junk or $NotJunk records nothing either.
 *
 * Two tables. junk_marks keeps the current lesson of each message (account, email
 * id): spam or ham; repeating it does nothing, and a change from spam to ham records
 * the unlearning with the learning (spam -1, ham +1). junk_lessons is the queue the
 * learner drains (src/spam/junk_learner.c): per message at most one pending row,
 * holding the net change not yet applied to the model; a row pins its email (and
 * blob) until the learner has applied it, so that the learner can still read a
 * message expunged right after its move into Junk. The learner subtracts what it
 * applied (store_lessons_done) and the row goes when nothing is left, so a lesson
 * recorded while the learner works on the same message is never lost.
 *
 * Writes run on the committer thread inside the group transaction. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ recording */

static unsigned int mbox_special_use(struct sql_conn *q, int64_t mailbox_id)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT special_use FROM mailboxes WHERE id = ?");
	if (st == NULL)
		return 0;
	sql_bind_int64(st, 1, mailbox_id);
	unsigned int su = sql_step(st) == SQL_ROW ? (unsigned int)sql_col_int64(st, 0) : 0;
	sql_reset(st);
	return su;
}

/* Records that the user's current verdict on the message is `lesson`. */
static int lesson_note(struct store_op *op, int64_t account_id, int64_t email_id, int lesson)
{
	struct sql_conn *q = op->q;
	struct sql_stmt *st = sql_prepare(q, "SELECT class FROM junk_marks WHERE account_id = ? AND email_id = ?");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "lesson");
	sql_bind_int64(st, 1, account_id);
	sql_bind_int64(st, 2, email_id);
	int rc = sql_step(st);
	int cur = rc == SQL_ROW ? (int)sql_col_int64(st, 0) : STORE_LESSON_NONE;
	sql_reset(st);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "lesson");
	if (cur == lesson)
		return 1;
	int spam = (lesson == STORE_LESSON_SPAM) - (cur == STORE_LESSON_SPAM);
	int ham = (lesson == STORE_LESSON_HAM) - (cur == STORE_LESSON_HAM);
	st = sql_prepare(q, "INSERT INTO junk_marks(account_id, email_id, class) VALUES(?, ?, ?)"
			    " ON CONFLICT(account_id, email_id) DO UPDATE SET class = excluded.class");
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		sql_bind_int64(st, 2, email_id);
		sql_bind_int64(st, 3, lesson);
	}
	if (store_op_step(op, st, "lesson") < 0)
		return op->result;
	/* one pending row per message: the net change not yet applied. A row the learner
	 * is working on is updated too (it subtracts what it applied, store_lessons_done);
	 * one that reaches zero stays until the learner sees it, for the same reason. */
	st = sql_prepare(q, "UPDATE junk_lessons SET spam = spam + ?, ham = ham + ?"
			    " WHERE account_id = ? AND email_id = ? RETURNING id");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "lesson");
	sql_bind_int64(st, 1, spam);
	sql_bind_int64(st, 2, ham);
	sql_bind_int64(st, 3, account_id);
	sql_bind_int64(st, 4, email_id);
	rc = sql_step(st);
	bool updated = rc == SQL_ROW; /* at most one row: UNIQUE(email_id, account_id) */
	if (rc == SQL_ROW)
		rc = sql_step(st);
	sql_reset(st);
	if (rc != SQL_DONE)
		return store_op_sql_fail(op, rc, "lesson");
	if (!updated) {
		st = sql_prepare(q, "INSERT INTO junk_lessons(account_id, email_id, spam, ham) VALUES(?, ?, ?, ?)");
		if (st != NULL) {
			sql_bind_int64(st, 1, account_id);
			sql_bind_int64(st, 2, email_id);
			sql_bind_int64(st, 3, spam);
			sql_bind_int64(st, 4, ham);
		}
		if (store_op_step(op, st, "lesson") < 0)
			return op->result;
	}
	op->lessons = true;
	return 1;
}

/* The lesson of a copy or move from a mailbox with special use `from` to one with `to`. */
static int move_lesson(unsigned int from, unsigned int to)
{
	bool from_junk = (from & STORE_SU_JUNK) != 0, to_junk = (to & STORE_SU_JUNK) != 0;
	if (!from_junk && to_junk)
		return STORE_LESSON_SPAM;
	if (from_junk && !to_junk && !(to & STORE_SU_TRASH))
		return STORE_LESSON_HAM;
	return STORE_LESSON_NONE;
}

int store_lesson_copy(struct store_op *op, int64_t account_id, int64_t src_mailbox_id, int64_t dst_mailbox_id,
		      const struct msg_row *rows, size_t n)
{
	int lesson = move_lesson(mbox_special_use(op->q, src_mailbox_id), mbox_special_use(op->q, dst_mailbox_id));
	for (size_t i = 0; i < n && lesson != STORE_LESSON_NONE; i++) {
		if (lesson_note(op, account_id, rows[i].email_id, lesson) < 0)
			return op->result;
	}
	return 1;
}

int store_lesson_mailboxes(struct store_op *op, int64_t account_id, int64_t email_id, const int64_t *before,
			   size_t nbefore, const int64_t *after, size_t nafter)
{
	unsigned int was = 0, is = 0;
	bool kept_out_of_trash = false;
	for (size_t i = 0; i < nbefore; i++)
		was |= mbox_special_use(op->q, before[i]);
	for (size_t i = 0; i < nafter; i++) {
		unsigned int su = mbox_special_use(op->q, after[i]);
		is |= su;
		kept_out_of_trash |= !(su & (STORE_SU_TRASH | STORE_SU_JUNK));
	}
	int lesson = STORE_LESSON_NONE;
	if (!(was & STORE_SU_JUNK) && (is & STORE_SU_JUNK))
		lesson = STORE_LESSON_SPAM;
	else if ((was & STORE_SU_JUNK) && !(is & STORE_SU_JUNK) && kept_out_of_trash)
		lesson = STORE_LESSON_HAM;
	return lesson == STORE_LESSON_NONE ? 1 : lesson_note(op, account_id, email_id, lesson);
}

/* True when the stored keyword string kws holds kw (case-insensitive). */
static bool has_keyword(const char *kws, const char *kw)
{
	size_t n = strlen(kw);
	for (const char *p = kws; *p != '\0';) {
		const char *e = strchr(p, ' ');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len == n && strncasecmp(p, kw, n) == 0)
			return true;
		p += len;
		while (*p == ' ')
			p++;
	}
	return false;
}

int store_lesson_keywords(struct store_op *op, int64_t account_id, int64_t email_id, const char *old_kws,
			  const char *new_kws)
{
	bool set_junk = !has_keyword(old_kws, "$Junk") && has_keyword(new_kws, "$Junk");
	bool set_notjunk = !has_keyword(old_kws, "$NotJunk") && has_keyword(new_kws, "$NotJunk");
	if (set_junk == set_notjunk) /* neither, or both at once: no verdict */
		return 1;
	return lesson_note(op, account_id, email_id, set_junk ? STORE_LESSON_SPAM : STORE_LESSON_HAM);
}

int store_lesson_append(struct store_op *op, int64_t account_id, int64_t mailbox_id, int64_t email_id,
			const char *kws)
{
	if (mbox_special_use(op->q, mailbox_id) & STORE_SU_JUNK)
		return lesson_note(op, account_id, email_id, STORE_LESSON_SPAM);
	return store_lesson_keywords(op, account_id, email_id, "", kws);
}

int store_lesson_forget_account(struct store_op *op, struct db *c, int64_t account_id)
{
	struct sql_stmt *st = sql_prepare(op->q, "DELETE FROM junk_marks WHERE account_id = ?");
	if (st != NULL)
		sql_bind_int64(st, 1, account_id);
	if (store_op_step(op, st, "lesson_forget") < 0)
		return op->result;
	/* pending lessons go, and the messages only they kept (expunged before the
	 * learner came) with them */
	st = sql_prepare(op->q, "DELETE FROM junk_lessons WHERE account_id = ? RETURNING email_id");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "lesson_forget");
	sql_bind_int64(st, 1, account_id);
	size_t n = 0, cap = 16;
	int64_t *ids = xmalloc(cap * sizeof(*ids));
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW) {
		if (n == cap)
			ids = xrealloc(ids, (cap *= 2) * sizeof(*ids));
		ids[n++] = sql_col_int64(st, 0);
	}
	sql_reset(st);
	int ret = rc == SQL_DONE ? 1 : store_op_sql_fail(op, rc, "lesson_forget");
	for (size_t i = 0; i < n && ret > 0 && c != NULL; i++)
		ret = store_email_release(op, c, ids[i]);
	free(ids);
	return ret;
}

/* ------------------------------------------------------------------ the learner's side */

int store_lessons_next(struct store *s, struct arena *a, size_t max, struct store_lesson **lessons_r, size_t *n_r,
		       const char **error_r)
{
	*lessons_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT id, account_id, email_id, spam, ham FROM junk_lessons"
					     " ORDER BY id LIMIT ?");
	struct store_lesson *v = arena_alloc(a, (max + 1) * sizeof(*v));
	size_t n = 0;
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, (int64_t)max);
		while (n < max && (rc = sql_step(st)) == SQL_ROW) {
			v[n++] = (struct store_lesson){
				.id = sql_col_int64(st, 0),
				.account_id = sql_col_int64(st, 1),
				.email_id = sql_col_int64(st, 2),
				.spam = (int)sql_col_int64(st, 3),
				.ham = (int)sql_col_int64(st, 4),
			};
		}
		sql_reset(st);
	}
	int ret = 1;
	if (n < max && rc != SQL_DONE)
		ret = store_sql_fail(q, rc, "lessons_next", error_r);
	store_sql_put(s, q, db);
	if (ret > 0) {
		*lessons_r = v;
		*n_r = n;
	}
	return ret;
}

/* PostgreSQL: the first max bytes (0: all) of the email's body from its chunks. */
static int lesson_read_pg(struct store *s, struct arena *a, int64_t email_id, size_t max, const char **data_r,
			  size_t *len_r, const char **error_r)
{
	struct sql_conn *q = store_pg_get(s, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT size FROM emails WHERE id = ?");
	int rc = SQL_ERR;
	uint64_t size = 0;
	if (st != NULL) {
		sql_bind_int64(st, 1, email_id);
		rc = sql_step(st);
		if (rc == SQL_ROW)
			size = (uint64_t)sql_col_int64(st, 0);
		sql_reset(st);
	}
	int ret = rc == SQL_ROW ? 1 : rc == SQL_DONE ? 0 : store_sql_fail(q, rc, "lesson_read", error_r);
	if (ret > 0) {
		if (max > 0 && size > max)
			size = max;
		char *buf = arena_alloc(a, size + 1);
		uint64_t got = 0;
		ret = store_pg_body_read(q, email_id, 0, size, buf, &got, error_r);
		if (ret > 0 && got < size) {
			*error_r = "the message body is incomplete";
			ret = STORE_ERR;
		}
		buf[size] = '\0';
		*data_r = buf;
		*len_r = size;
	}
	store_pg_put(s, q);
	return ret;
}

int store_lesson_read(struct store *s, struct arena *a, int64_t email_id, size_t max, const char **data_r,
		      size_t *len_r, const char **error_r)
{
	if (s->pg_conninfo != NULL)
		return lesson_read_pg(s, a, email_id, max, data_r, len_r, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT blob FROM emails WHERE id = ?");
	sqlite3_bind_int64(st, 1, email_id);
	char *blob = sqlite3_step(st) == SQLITE_ROW ? xstrdup((const char *)sqlite3_column_text(st, 0)) : NULL;
	sqlite3_reset(st);
	store_db_put(s, c);
	if (blob == NULL)
		return 0;
	char *path = store_blob_path(s, blob);
	free(blob);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		*error_r = "message file is missing";
		return STORE_ERR;
	}
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		close(fd);
		*error_r = "cannot stat message file";
		return STORE_ERR;
	}
	size_t size = (size_t)sb.st_size;
	if (max > 0 && size > max)
		size = max;
	char *buf = arena_alloc(a, size + 1);
	size_t got = 0;
	while (got < size) {
		ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got < size) {
		*error_r = "cannot read message file";
		return STORE_ERR;
	}
	buf[size] = '\0';
	*data_r = buf;
	*len_r = size;
	return 1;
}

struct done_req {
	const struct store_lesson *v;
	size_t n;
};

static int apply_lessons_done(struct store *s, struct store_op *op)
{
	struct done_req *r = op->req;
	op->may_use_reserve = true; /* it may free message files */
	for (size_t i = 0; i < r->n; i++) {
		struct sql_stmt *st = sql_prepare(op->q, "UPDATE junk_lessons SET spam = spam - ?, ham = ham - ?"
							 " WHERE id = ? RETURNING email_id, spam, ham");
		if (st == NULL)
			return store_op_sql_fail(op, SQL_ERR, "lessons_done");
		sql_bind_int64(st, 1, r->v[i].spam);
		sql_bind_int64(st, 2, r->v[i].ham);
		sql_bind_int64(st, 3, r->v[i].id);
		bool gone = false;
		int64_t email_id = 0;
		int rc = sql_step(st);
		if (rc == SQL_ROW) {
			email_id = sql_col_int64(st, 0);
			gone = sql_col_int64(st, 1) == 0 && sql_col_int64(st, 2) == 0;
			rc = sql_step(st);
		}
		sql_reset(st);
		if (rc != SQL_DONE)
			return store_op_sql_fail(op, rc, "lessons_done");
		if (!gone)
			continue; /* removed meanwhile (account deleted), or a newer lesson is left */
		st = sql_prepare(op->q, "DELETE FROM junk_lessons WHERE id = ?");
		if (st != NULL)
			sql_bind_int64(st, 1, r->v[i].id);
		if (store_op_step(op, st, "lessons_done") < 0)
			return op->result;
		/* the message may have been expunged meanwhile: its email is free now (the
		 * emails of the PostgreSQL backend are not stored yet) */
		if (sql_engine(op->q) == SQL_SQLITE)
			store_email_release(op, s->wc, email_id);
	}
	return 1;
}

int store_lessons_done(struct store *s, const struct store_lesson *lessons, size_t n, const char **error_r)
{
	struct done_req r = { lessons, n };
	return store_sql_write(s, store_op_new(NULL, apply_lessons_done, NULL, &r, NULL), error_r);
}

int store_lesson_get(struct store *s, int64_t account_id, int64_t email_id, int *class_r, const char **error_r)
{
	*class_r = STORE_LESSON_NONE;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT class FROM junk_marks WHERE account_id = ? AND email_id = ?");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		sql_bind_int64(st, 2, email_id);
		rc = sql_step(st);
		if (rc == SQL_ROW)
			*class_r = (int)sql_col_int64(st, 0);
		sql_reset(st);
	}
	int ret = rc == SQL_ROW || rc == SQL_DONE ? 1 : store_sql_fail(q, rc, "lesson_get", error_r);
	store_sql_put(s, q, db);
	return ret;
}
