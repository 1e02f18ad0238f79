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

static unsigned int mbox_special_use(struct db *c, int64_t mailbox_id)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT special_use FROM mailboxes WHERE id = ?");
	sqlite3_bind_int64(st, 1, mailbox_id);
	unsigned int su = sqlite3_step(st) == SQLITE_ROW ? (unsigned int)sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	return su;
}

/* Records that the user's current verdict on the message is `lesson`. */
static int lesson_note(struct store_op *op, struct db *c, int64_t account_id, int64_t email_id, int lesson)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT class FROM junk_marks WHERE account_id = ? AND email_id = ?");
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, email_id);
	int cur = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : STORE_LESSON_NONE;
	sqlite3_reset(st);
	if (cur == lesson)
		return 1;
	int spam = (lesson == STORE_LESSON_SPAM) - (cur == STORE_LESSON_SPAM);
	int ham = (lesson == STORE_LESSON_HAM) - (cur == STORE_LESSON_HAM);
	const char *err;
	st = store_db_stmt(c, "INSERT OR REPLACE INTO junk_marks(account_id, email_id, class) VALUES(?, ?, ?)");
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, email_id);
	sqlite3_bind_int(st, 3, lesson);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	/* one pending row per message: the net change not yet applied. A row the learner
	 * is working on is updated too (it subtracts what it applied, store_lessons_done);
	 * one that reaches zero stays until the learner sees it, for the same reason. */
	st = store_db_stmt(c, "UPDATE junk_lessons SET spam = spam + ?, ham = ham + ?"
			      " WHERE account_id = ? AND email_id = ? RETURNING id");
	sqlite3_bind_int(st, 1, spam);
	sqlite3_bind_int(st, 2, ham);
	sqlite3_bind_int64(st, 3, account_id);
	sqlite3_bind_int64(st, 4, email_id);
	int rc = sqlite3_step(st);
	bool updated = rc == SQLITE_ROW; /* at most one row: UNIQUE(email_id, account_id) */
	if (rc == SQLITE_ROW)
		rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_op_fail(op, STORE_ERR, "database error");
	if (!updated) {
		st = store_db_stmt(c, "INSERT INTO junk_lessons(account_id, email_id, spam, ham) VALUES(?, ?, ?, ?)");
		sqlite3_bind_int64(st, 1, account_id);
		sqlite3_bind_int64(st, 2, email_id);
		sqlite3_bind_int(st, 3, spam);
		sqlite3_bind_int(st, 4, ham);
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
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

int store_lesson_copy(struct store_op *op, struct db *c, int64_t account_id, int64_t src_mailbox_id,
		      int64_t dst_mailbox_id, const struct msg_row *rows, size_t n)
{
	int lesson = move_lesson(mbox_special_use(c, src_mailbox_id), mbox_special_use(c, dst_mailbox_id));
	for (size_t i = 0; i < n && lesson != STORE_LESSON_NONE; i++) {
		if (lesson_note(op, c, account_id, rows[i].email_id, lesson) < 0)
			return op->result;
	}
	return 1;
}

int store_lesson_mailboxes(struct store_op *op, struct db *c, int64_t account_id, int64_t email_id,
			   const int64_t *before, size_t nbefore, const int64_t *after, size_t nafter)
{
	unsigned int was = 0, is = 0;
	bool kept_out_of_trash = false;
	for (size_t i = 0; i < nbefore; i++)
		was |= mbox_special_use(c, before[i]);
	for (size_t i = 0; i < nafter; i++) {
		unsigned int su = mbox_special_use(c, after[i]);
		is |= su;
		kept_out_of_trash |= !(su & (STORE_SU_TRASH | STORE_SU_JUNK));
	}
	int lesson = STORE_LESSON_NONE;
	if (!(was & STORE_SU_JUNK) && (is & STORE_SU_JUNK))
		lesson = STORE_LESSON_SPAM;
	else if ((was & STORE_SU_JUNK) && !(is & STORE_SU_JUNK) && kept_out_of_trash)
		lesson = STORE_LESSON_HAM;
	return lesson == STORE_LESSON_NONE ? 1 : lesson_note(op, c, account_id, email_id, lesson);
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

int store_lesson_keywords(struct store_op *op, struct db *c, int64_t account_id, int64_t email_id, const char *old_kws,
			  const char *new_kws)
{
	bool set_junk = !has_keyword(old_kws, "$Junk") && has_keyword(new_kws, "$Junk");
	bool set_notjunk = !has_keyword(old_kws, "$NotJunk") && has_keyword(new_kws, "$NotJunk");
	if (set_junk == set_notjunk) /* neither, or both at once: no verdict */
		return 1;
	return lesson_note(op, c, account_id, email_id, set_junk ? STORE_LESSON_SPAM : STORE_LESSON_HAM);
}

int store_lesson_append(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id, int64_t email_id,
			const char *kws)
{
	if (mbox_special_use(c, mailbox_id) & STORE_SU_JUNK)
		return lesson_note(op, c, account_id, email_id, STORE_LESSON_SPAM);
	return store_lesson_keywords(op, c, account_id, email_id, "", kws);
}

int store_lesson_forget_account(struct store_op *op, struct db *c, int64_t account_id)
{
	const char *err;
	sqlite3_stmt *st = store_db_stmt(c, "DELETE FROM junk_marks WHERE account_id = ?");
	sqlite3_bind_int64(st, 1, account_id);
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	/* pending lessons go, and the messages only they kept (expunged before the
	 * learner came) with them */
	st = store_db_stmt(c, "DELETE FROM junk_lessons WHERE account_id = ? RETURNING email_id");
	sqlite3_bind_int64(st, 1, account_id);
	size_t n = 0, cap = 16;
	int64_t *ids = xmalloc(cap * sizeof(*ids));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap)
			ids = xrealloc(ids, (cap *= 2) * sizeof(*ids));
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	int ret = rc == SQLITE_DONE ? 1 : store_op_fail(op, STORE_ERR, "database error");
	for (size_t i = 0; i < n && ret > 0; i++)
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
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id, account_id, email_id, spam, ham FROM junk_lessons"
					    " ORDER BY id LIMIT ?");
	sqlite3_bind_int64(st, 1, (int64_t)max);
	struct store_lesson *v = arena_alloc(a, (max + 1) * sizeof(*v));
	size_t n = 0;
	int rc;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		v[n++] = (struct store_lesson){
			.id = sqlite3_column_int64(st, 0),
			.account_id = sqlite3_column_int64(st, 1),
			.email_id = sqlite3_column_int64(st, 2),
			.spam = sqlite3_column_int(st, 3),
			.ham = sqlite3_column_int(st, 4),
		};
	}
	int ret = 1;
	if (n < max && rc != SQLITE_DONE)
		ret = store_db_fail(c, "lessons_next", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	if (ret > 0) {
		*lessons_r = v;
		*n_r = n;
	}
	return ret;
}

int store_lesson_read(struct store *s, struct arena *a, int64_t email_id, size_t max, const char **data_r,
		      size_t *len_r, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
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
	struct db *c = s->wc;
	op->may_use_reserve = true; /* it may free message files */
	const char *err;
	for (size_t i = 0; i < r->n; i++) {
		sqlite3_stmt *st = store_db_stmt(c, "UPDATE junk_lessons SET spam = spam - ?, ham = ham - ?"
						    " WHERE id = ? RETURNING email_id, spam, ham");
		sqlite3_bind_int(st, 1, r->v[i].spam);
		sqlite3_bind_int(st, 2, r->v[i].ham);
		sqlite3_bind_int64(st, 3, r->v[i].id);
		bool gone = false;
		int64_t email_id = 0;
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			email_id = sqlite3_column_int64(st, 0);
			gone = sqlite3_column_int(st, 1) == 0 && sqlite3_column_int(st, 2) == 0;
			rc = sqlite3_step(st);
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return store_op_fail(op, STORE_ERR, "database error");
		if (!gone)
			continue; /* removed meanwhile (account deleted), or a newer lesson is left */
		st = store_db_stmt(c, "DELETE FROM junk_lessons WHERE id = ?");
		sqlite3_bind_int64(st, 1, r->v[i].id);
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		/* the message may have been expunged meanwhile: its email is free now */
		store_email_release(op, c, email_id);
	}
	return 1;
}

int store_lessons_done(struct store *s, const struct store_lesson *lessons, size_t n, const char **error_r)
{
	struct done_req r = { lessons, n };
	return store_op_run(s, store_op_new(NULL, apply_lessons_done, NULL, &r, NULL), error_r);
}

int store_lesson_get(struct store *s, int64_t account_id, int64_t email_id, int *class_r, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT class FROM junk_marks WHERE account_id = ? AND email_id = ?");
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, email_id);
	int rc = sqlite3_step(st);
	int ret = 1;
	*class_r = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : STORE_LESSON_NONE;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = store_db_fail(c, "lesson_get", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	return ret;
}
