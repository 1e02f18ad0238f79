/* store_message.c: message rows: flags and keywords, expunge, copy and move.
 *
 * Every write here runs on the committer thread inside the group transaction (see
 * store.c). Each operation takes one new MODSEQ from the account's counter for all the
 * messages it changes (RFC 7162 allows one value per command), updates the mailbox
 * counters and the account's usage in the same transaction, so quota usage is exact
 * after any crash, and emits one event per mailbox and kind. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ------------------------------------------------------------------ flags */

const char *store_flag_name(unsigned int flag)
{
	switch (flag) {
	case STORE_F_SEEN: return "\\Seen";
	case STORE_F_ANSWERED: return "\\Answered";
	case STORE_F_FLAGGED: return "\\Flagged";
	case STORE_F_DELETED: return "\\Deleted";
	case STORE_F_DRAFT: return "\\Draft";
	default: return NULL;
	}
}

unsigned int store_flag_parse(const char *name)
{
	for (unsigned int f = 1; f <= STORE_F_DRAFT; f <<= 1) {
		if (strcasecmp(name, store_flag_name(f)) == 0)
			return f;
	}
	return 0;
}

/* ------------------------------------------------------------------ shared helpers */

/* ------------------------------------------------------------------ expunge */

struct expunge_req {
	int64_t account_id, mailbox_id;
	const struct store_uidset *uids;
	bool only_deleted;
	uint32_t **out;
	size_t *n_out;
};

static int apply_expunge(struct store *s, struct store_op *op)
{
	struct expunge_req *r = op->req;
	struct sql_conn *q = op->q;
	struct db *c = sql_engine(q) == SQL_SQLITE ? s->wc : NULL; /* SQLite's extras (store_email_release) */
	op->may_use_reserve = true; /* it frees space: works on a full disk (store_space.c) */
	if (r->uids != NULL && r->uids->n > 0 && r->uids->r == NULL)
		return store_op_fail(op, STORE_EINVAL, "malformed UID set");
	if (store_mbox_owned(q, r->account_id, r->mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	size_t n;
	struct msg_row *rows = store_msg_select_rows(q, op->tmp, r->mailbox_id, r->uids,
					   r->uids == NULL || r->only_deleted, &n);
	int ret = 1;
	if (n > 0) {
		uint64_t modseq = store_acct_next_modseq(q, r->account_id);
		ret = store_msg_remove_rows(op, c, r->account_id, r->mailbox_id, rows, n, modseq, true);
	}
	if (ret > 0 && r->out != NULL && op->arena != NULL) {
		uint32_t *v = arena_alloc(op->arena, (n + 1) * sizeof(*v));
		for (size_t i = 0; i < n; i++)
			v[i] = rows[i].uid;
		*r->out = v;
	}
	if (ret > 0 && r->n_out != NULL)
		*r->n_out = n;
	free(rows);
	return ret;
}

static struct store_op *expunge_op(struct arena *a, int64_t account_id, int64_t mailbox_id,
				   const struct store_uidset *uids, bool only_deleted,
				   uint32_t **expunged_r, size_t *n_r)
{
	struct store_op *op = store_op_new(NULL, apply_expunge, NULL, NULL, a);
	op->sql_ready = true; /* op->q, and SQLite's extras only there */
	if (account_id > 0)
		store_op_lock(op, account_id);
	struct expunge_req *r = arena_alloc(op->tmp, sizeof(*r));
	*r = (struct expunge_req){ account_id, mailbox_id, uids, only_deleted,
				   a ? expunged_r : NULL, n_r };
	op->req = r;
	if (expunged_r)
		*expunged_r = NULL;
	if (n_r)
		*n_r = 0;
	return op;
}

int store_expunge(struct store *s, struct arena *a, int64_t account_id, int64_t mailbox_id,
		  const struct store_uidset *uids, bool only_deleted, uint32_t **expunged_r,
		  size_t *n_r, const char **error_r)
{
	return store_op_run(s, expunge_op(a, account_id, mailbox_id, uids, only_deleted, expunged_r, n_r),
		      error_r);
}

void store_expunge_async(struct store *s, struct arena *a, int64_t account_id,
			 int64_t mailbox_id, const struct store_uidset *uids, bool only_deleted,
			 uint32_t **expunged_r, size_t *n_r, struct loop *loop, store_done_fn *done,
			 void *arg)
{
	store_op_submit_async(s, expunge_op(a, account_id, mailbox_id, uids, only_deleted, expunged_r, n_r),
			loop, done, arg);
}

/* ------------------------------------------------------------------ store flags */

static int apply_flags(struct store *s, struct store_op *op)
{
	struct store_flag_change *fc = op->req;
	struct sql_conn *q = op->q;
	struct arena *t = op->tmp;
	/* setting \Deleted is the first step of an IMAP deletion: on a full disk it may use
	 * the reserve (store_space.c) */
	op->may_use_reserve = fc->op != STORE_FLAGS_REMOVE && (fc->flags & STORE_F_DELETED);
	if (fc->uids.n > 0 && fc->uids.r == NULL)
		return store_op_fail(op, STORE_EINVAL, "malformed UID set");
	if (store_mbox_owned(q, fc->account_id, fc->mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	const char *change = "";
	const char *err;
	if (store_keywords_join(t, fc->keywords, &change, &err) < 0)
		return store_op_fail(op, STORE_EINVAL, "%s", err);
	size_t n;
	struct msg_row *rows = store_msg_select_rows(q, t, fc->mailbox_id, &fc->uids, false, &n);
	/* modseq of each row for the guard */
	struct sql_stmt *ms = sql_prepare(q, "SELECT modseq FROM messages WHERE mailbox_id = ? AND uid = ?");
	if (ms == NULL) {
		free(rows);
		return store_op_sql_fail(op, SQL_ERR, "flags");
	}
	uint32_t *changed = xmalloc((n + 1) * sizeof(*changed));
	uint64_t *prev = xmalloc((n + 1) * sizeof(*prev));
	uint32_t *modified = xmalloc((n + 1) * sizeof(*modified));
	const char **newkw = xmalloc((n + 1) * sizeof(*newkw));
	unsigned int *newflags = xmalloc((n + 1) * sizeof(*newflags));
	size_t *rowof = xmalloc((n + 1) * sizeof(*rowof));
	size_t nch = 0, nmod = 0;
	int64_t dunseen = 0, ddeleted = 0;
	int ret = 1;
	for (size_t i = 0; i < n; i++) {
		if (fc->unchanged_since > 0) {
			sql_bind_int64(ms, 1, fc->mailbox_id);
			sql_bind_int64(ms, 2, rows[i].uid);
			uint64_t m = sql_step(ms) == SQL_ROW ? (uint64_t)sql_col_int64(ms, 0) : 0;
			sql_reset(ms);
			if (m > fc->unchanged_since) {
				modified[nmod++] = rows[i].uid;
				continue;
			}
		}
		unsigned int f = rows[i].flags;
		unsigned int nf = fc->op == STORE_FLAGS_ADD ? (f | fc->flags) :
				  fc->op == STORE_FLAGS_REMOVE ? (f & ~fc->flags) : fc->flags;
		nf &= STORE_F_ALL;
		const char *nk = store_keywords_apply(t, rows[i].keywords, fc->op, change);
		if (store_keywords_count(nk) > STORE_KEYWORDS_PER_MESSAGE) {
			ret = store_op_fail(op, STORE_EINVAL, "too many keywords on a message");
			goto out;
		}
		if (nf == f && strcmp(nk, rows[i].keywords) == 0)
			continue;
		dunseen += (int)!(nf & STORE_F_SEEN) - (int)!(f & STORE_F_SEEN);
		ddeleted += (int)!!(nf & STORE_F_DELETED) - (int)!!(f & STORE_F_DELETED);
		newflags[nch] = nf;
		newkw[nch] = nk;
		rowof[nch] = i;
		/* the MODSEQ before: a session tells from it whether its client saw that state */
		sql_bind_int64(ms, 1, fc->mailbox_id);
		sql_bind_int64(ms, 2, rows[i].uid);
		prev[nch] = sql_step(ms) == SQL_ROW ? (uint64_t)sql_col_int64(ms, 0) : 0;
		sql_reset(ms);
		changed[nch++] = rows[i].uid;
	}
	fc->modseq = 0;
	if (nch > 0) {
		uint64_t modseq = store_acct_next_modseq(q, fc->account_id);
		struct sql_stmt *up = sql_prepare(q, "UPDATE messages SET flags = ?, keywords = ?, modseq = ?"
						  " WHERE mailbox_id = ? AND uid = ?");
		for (size_t i = 0; i < nch; i++) {
			if (up != NULL) {
				sql_bind_int64(up, 1, (int64_t)newflags[i]);
				sql_bind_text(up, 2, newkw[i]);
				sql_bind_int64(up, 3, (int64_t)modseq);
				sql_bind_int64(up, 4, fc->mailbox_id);
				sql_bind_int64(up, 5, changed[i]);
			}
			if (store_op_step(op, up, "flags") < 0) {
				ret = op->result;
				goto out;
			}
			const struct msg_row *row = &rows[rowof[i]];
			if (store_lesson_keywords(op, fc->account_id, row->email_id, row->keywords, newkw[i]) < 0) {
				ret = op->result;
				goto out;
			}
		}
		if (store_mbox_adjust(q, fc->mailbox_id, 0, dunseen, ddeleted, 0, modseq) < 0) {
			ret = store_op_fail(op, STORE_ERR, "database error");
			goto out;
		}
		if (fc->op != STORE_FLAGS_REMOVE)
			store_mbox_add_keywords(q, t, fc->mailbox_id, change);
		fc->modseq = modseq;
		store_op_event(op, STORE_EV_FLAGS, fc->account_id, fc->mailbox_id, changed[0],
			 changed[nch - 1], (uint32_t)nch, modseq);
	}
	fc->changed = fc->modified = NULL;
	fc->changed_prev = NULL;
	if (op->arena != NULL) {
		fc->changed = arena_alloc(op->arena, (nch + 1) * sizeof(uint32_t));
		memcpy(fc->changed, changed, nch * sizeof(uint32_t));
		fc->changed_prev = arena_alloc(op->arena, (nch + 1) * sizeof(uint64_t));
		memcpy(fc->changed_prev, prev, nch * sizeof(uint64_t));
		fc->modified = arena_alloc(op->arena, (nmod + 1) * sizeof(uint32_t));
		memcpy(fc->modified, modified, nmod * sizeof(uint32_t));
	}
	fc->nchanged = nch;
	fc->nmodified = nmod;
out:
	free(rows);
	free(changed);
	free(prev);
	free(modified);
	free(newkw);
	free(newflags);
	free(rowof);
	return ret;
}

static struct store_op *flags_op(struct arena *a, struct store_flag_change *fc)
{
	struct store_op *op = store_op_new(NULL, apply_flags, NULL, fc, a);
	op->sql_ready = true; /* op->q, and SQLite's lessons only there */
	if (fc->account_id > 0)
		store_op_lock(op, fc->account_id);
	return op;
}

int store_flags(struct store *s, struct arena *a, struct store_flag_change *fc,
		const char **error_r)
{
	return store_op_run(s, flags_op(a, fc), error_r);
}

void store_flags_async(struct store *s, struct arena *a, struct store_flag_change *fc,
		       struct loop *loop, store_done_fn *done, void *arg)
{
	store_op_submit_async(s, flags_op(a, fc), loop, done, arg);
}

/* ------------------------------------------------------------------ copy / move */

static int apply_copy(struct store *s, struct store_op *op)
{
	struct store_copy *cp = op->req;
	struct sql_conn *q = op->q;
	struct db *c = sql_engine(q) == SQL_SQLITE ? s->wc : NULL; /* SQLite's extras: sort keys */
	op->may_use_reserve = cp->move; /* a move to Trash is how many clients delete */
	if (cp->uids.n > 0 && cp->uids.r == NULL)
		return store_op_fail(op, STORE_EINVAL, "malformed UID set");
	if (store_mbox_owned(q, cp->account_id, cp->src_mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such source mailbox");
	if (store_mbox_owned(q, cp->account_id, cp->dst_mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such target mailbox");
	size_t n;
	struct msg_row *rows = store_msg_select_rows(q, op->tmp, cp->src_mailbox_id, &cp->uids, false, &n);
	int ret = 1;
	uint32_t *src = xmalloc((n + 1) * sizeof(*src)), *dst = xmalloc((n + 1) * sizeof(*dst));
	if (n > 0) {
		int64_t total = 0;
		for (size_t i = 0; i < n; i++)
			total += (int64_t)rows[i].size;
		if (!cp->move && store_acct_charge(op, cp->account_id, total, (int64_t)n, true) < 0) {
			ret = op->result;
			goto out;
		}
		uint64_t modseq = store_acct_next_modseq(q, cp->account_id);
		for (size_t i = 0; i < n; i++)
			src[i] = rows[i].uid;
		if (store_msg_copy_rows(op, c, cp->account_id, cp->dst_mailbox_id, rows, n, modseq, dst) < 0) {
			ret = op->result;
			goto out;
		}
		if (store_lesson_copy(op, cp->account_id, cp->src_mailbox_id, cp->dst_mailbox_id, rows, n) < 0) {
			ret = op->result;
			goto out;
		}
		if (cp->move &&
		    store_msg_remove_rows(op, c, cp->account_id, cp->src_mailbox_id, rows, n, modseq, false) < 0) {
			ret = op->result;
			goto out;
		}
	}
	struct sql_stmt *st = sql_prepare(q, "SELECT uidvalidity FROM mailboxes WHERE id = ?");
	if (st != NULL) {
		sql_bind_int64(st, 1, cp->dst_mailbox_id);
		if (sql_step(st) == SQL_ROW)
			cp->dst_uidvalidity = (uint32_t)sql_col_int64(st, 0);
		sql_reset(st);
	}
	cp->src_uids = cp->dst_uids = NULL;
	if (op->arena != NULL) {
		cp->src_uids = arena_alloc(op->arena, (n + 1) * sizeof(uint32_t));
		cp->dst_uids = arena_alloc(op->arena, (n + 1) * sizeof(uint32_t));
		memcpy(cp->src_uids, src, n * sizeof(uint32_t));
		memcpy(cp->dst_uids, dst, n * sizeof(uint32_t));
	}
	cp->n = n;
out:
	free(rows);
	free(src);
	free(dst);
	return ret;
}

static struct store_op *copy_op(struct arena *a, struct store_copy *c)
{
	struct store_op *op = store_op_new(NULL, apply_copy, NULL, c, a);
	op->sql_ready = true; /* op->q, and SQLite's extras only there */
	if (c->account_id > 0)
		store_op_lock(op, c->account_id);
	return op;
}

int store_copy(struct store *s, struct arena *a, struct store_copy *c, const char **error_r)
{
	return store_op_run(s, copy_op(a, c), error_r);
}

void store_copy_async(struct store *s, struct arena *a, struct store_copy *c, struct loop *loop,
		      store_done_fn *done, void *arg)
{
	store_op_submit_async(s, copy_op(a, c), loop, done, arg);
}

/* ------------------------------------------------------------------ account removal */

/* SQLite: the account's mailboxes, messages and the tables only SQLite has yet. */
static int account_del_mail(struct store_op *op, struct db *c, int64_t id)
{
	uint64_t modseq = store_acct_next_modseq(c->sql, id);
	/* first, so that pending lessons no longer keep its messages */
	if (store_lesson_forget_account(op, c, id) < 0)
		return op->result;
	sqlite3_stmt *st = store_db_stmt(c, "SELECT id FROM mailboxes WHERE account_id = ?");
	sqlite3_bind_int64(st, 1, id);
	int64_t ids[4096];
	size_t n = 0;
	/* Collect first: store_msg_remove_all uses other statements on this connection. */
	for (;;) {
		n = 0;
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, id);
		while (n < 4096 && sqlite3_step(st) == SQLITE_ROW)
			ids[n++] = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			if (store_msg_remove_all(op, c, id, ids[i], modseq) < 0)
				return op->result;
			sqlite3_stmt *d = store_db_stmt(c, "DELETE FROM mailboxes WHERE id = ?");
			sqlite3_bind_int64(d, 1, ids[i]);
			const char *err;
			if (store_step_done(c, d, &err) < 0)
				return store_op_fail(op, STORE_ERR, "%s", err);
			store_op_event(op, STORE_EV_MAILBOX_DELETED, id, ids[i], 0, 0, 0, modseq);
		}
	}
	static const char *const cleanup[] = {
		"DELETE FROM expunged WHERE account_id = ?",
		"DELETE FROM mailbox_tombstones WHERE account_id = ?",
		"DELETE FROM lost_subscriptions WHERE account_id = ?",
		"DELETE FROM msgids WHERE account_id = ?",
		"DELETE FROM junk_token WHERE account_id = ?",
		"DELETE FROM junk_count WHERE account_id = ?",
		"DELETE FROM junk_contact WHERE account_id = ?",
		"DELETE FROM sieve_scripts WHERE account_id = ?",
		"DELETE FROM sieve_state WHERE account_id = ?",
		"DELETE FROM sieve_vacation WHERE account_id = ?",
		"DELETE FROM sieve_duplicates WHERE account_id = ?",
		"DELETE FROM web_sessions WHERE account_id = ?",
		"DELETE FROM web_prefs WHERE account_id = ?",
		"DELETE FROM contacts WHERE account_id = ?",
		"DELETE FROM contacts_received WHERE account_id = ?",
	};
	for (size_t i = 0; i < sizeof(cleanup) / sizeof(cleanup[0]); i++) {
		sqlite3_stmt *d = store_db_stmt(c, cleanup[i]);
		sqlite3_bind_int64(d, 1, id);
		const char *err;
		if (store_step_done(c, d, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
	}
	return 1;
}

/* PostgreSQL: the account's messages, and the emails (with their chunks) that only
 * they used; its mailboxes' rows would go with it (ON DELETE CASCADE), but emails
 * are shared between accounts and are released here. */
static int account_del_mail_pg(struct store_op *op, int64_t id)
{
	/* first, so that pending lessons no longer keep its messages */
	if (store_lesson_forget_account(op, NULL, id) < 0)
		return op->result;
	uint64_t modseq = store_acct_next_modseq(op->q, id);
	struct sql_stmt *st = sql_prepare(op->q, "SELECT id FROM mailboxes WHERE account_id = ? ORDER BY id");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "account_del");
	sql_bind_int64(st, 1, id);
	size_t n = 0, cap = 16;
	int64_t *ids = xmalloc(cap * sizeof(*ids));
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW) {
		if (n == cap)
			ids = xrealloc(ids, (cap *= 2) * sizeof(*ids));
		ids[n++] = sql_col_int64(st, 0);
	}
	sql_reset(st);
	int r = rc < 0 ? store_op_sql_fail(op, rc, "account_del") : 1;
	for (size_t i = 0; r > 0 && i < n; i++)
		r = store_msg_remove_all(op, NULL, id, ids[i], modseq) < 0 ? op->result : 1;
	free(ids);
	return r;
}

int store_account_remove_mail(struct store_op *op, struct db *c, int64_t id)
{
	return c != NULL ? account_del_mail(op, c, id) : account_del_mail_pg(op, id);
}
