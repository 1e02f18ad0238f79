/* store_email.c: changes to whole emails (every message row of one email id), in batches.
 *
 * JMAP sees an email where IMAP sees one message row per mailbox. An Email/set update
 * changes its keywords on every row and its set of mailboxes (moves, copies,
 * expunges); store_email_update_batch does all of that for many emails as one store
 * operation: one transaction (so one commit and one fsync), one new MODSEQ for every
 * change (HIGHESTMODSEQ grows once, RFC 7162 allows one value per command) and, after
 * coalescing, one event per mailbox and kind. Each email is all or nothing on its own:
 * it runs inside a SAVEPOINT of its own, and a failure (no such email, a mailbox gone
 * meanwhile, over quota) rolls that email back completely and is reported with it,
 * while the others apply (RFC 8620 §5.3: per-item SetErrors). A full disk or a
 * database error fails the whole operation, so the committer can give up the reserve
 * file and run it again (store_space.c). */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

struct batch_ctx {
	struct store_email_update_batch *b;
	uint64_t modseq; /* allocated on the first change */
};

/* The batch's MODSEQ, allocated on first use. *fresh_r is set when this call made it. */
static uint64_t batch_modseq(struct db *c, struct batch_ctx *bc, bool *fresh_r)
{
	if (bc->modseq == 0) {
		bc->modseq = store_acct_next_modseq(c->sql, bc->b->account_id);
		*fresh_r = true;
	}
	return bc->modseq;
}

/* Every row of the email (malloc'd; keyword strings in a), by mailbox and UID. */
static struct msg_row *email_rows(struct db *c, struct arena *a, int64_t account_id, int64_t email_id,
				  int64_t **mbs_r, size_t *n_r)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT mailbox_id, uid, thread_id, flags, keywords, size,"
				       " internal_date, internal_tz FROM messages"
				       " WHERE email_id = ? AND account_id = ? ORDER BY mailbox_id, uid");
	sqlite3_bind_int64(st, 1, email_id);
	sqlite3_bind_int64(st, 2, account_id);
	size_t n = 0, cap = 4;
	struct msg_row *v = xmalloc(cap * sizeof(*v));
	int64_t *mbs = xmalloc(cap * sizeof(*mbs));
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
			mbs = xrealloc(mbs, cap * sizeof(*mbs));
		}
		mbs[n] = sqlite3_column_int64(st, 0);
		v[n] = (struct msg_row){
			.uid = (uint32_t)sqlite3_column_int64(st, 1),
			.email_id = email_id,
			.thread_id = sqlite3_column_int64(st, 2),
			.flags = (unsigned int)sqlite3_column_int(st, 3),
			.keywords = store_col_text(a, st, 4),
			.size = (uint64_t)sqlite3_column_int64(st, 5),
			.internal_date = sqlite3_column_int64(st, 6),
			.internal_tz = sqlite3_column_int(st, 7),
		};
		n++;
	}
	sqlite3_reset(st);
	*mbs_r = mbs;
	*n_r = n;
	return v;
}

/* The keyword changes of u in stored form; 1 or store_op_fail(STORE_EINVAL). */
static int item_keywords(struct store_op *op, const struct store_email_update *u, const char *kw[3])
{
	const char *const *lists[3] = { u->set_keywords, u->add_keywords, u->del_keywords };
	const char *err;
	for (int i = 0; i < 3; i++) {
		kw[i] = "";
		if (store_keywords_join(op->tmp, lists[i], &kw[i], &err) < 0)
			return store_op_fail(op, STORE_EINVAL, "%s", err);
	}
	return 1;
}

/* Keywords and flags on every row (rows[] is updated to the new values). */
static int item_flags(struct store_op *op, struct db *c, struct batch_ctx *bc,
		      const struct store_email_update *u, const int64_t *mbs, struct msg_row *rows, size_t n,
		      bool *fresh_r)
{
	const char *kw[3];
	if (item_keywords(op, u, kw) < 0)
		return op->result;
	struct arena *t = op->tmp;
	int64_t account_id = bc->b->account_id;
	for (size_t i = 0; i < n; i++) {
		unsigned int f = rows[i].flags, nf = f;
		const char *nk = rows[i].keywords;
		if (u->replace) {
			nf = u->set_flags | (f & STORE_F_DELETED);
			nk = kw[0];
		}
		nf = (nf | u->add_flags) & ~u->del_flags & STORE_F_ALL;
		if (*kw[1] != '\0')
			nk = store_keywords_apply(t, nk, STORE_FLAGS_ADD, kw[1]);
		if (*kw[2] != '\0')
			nk = store_keywords_apply(t, nk, STORE_FLAGS_REMOVE, kw[2]);
		if (store_keywords_count(nk) > STORE_KEYWORDS_PER_MESSAGE)
			return store_op_fail(op, STORE_EINVAL, "too many keywords on a message");
		if (nf == f && strcmp(nk, rows[i].keywords) == 0)
			continue;
		uint64_t modseq = batch_modseq(c, bc, fresh_r);
		sqlite3_stmt *up = store_db_stmt(c, "UPDATE messages SET flags = ?, keywords = ?, modseq = ?"
					       " WHERE mailbox_id = ? AND uid = ?");
		sqlite3_bind_int(up, 1, (int)nf);
		store_bind_text(up, 2, nk);
		sqlite3_bind_int64(up, 3, (int64_t)modseq);
		sqlite3_bind_int64(up, 4, mbs[i]);
		sqlite3_bind_int64(up, 5, rows[i].uid);
		const char *err;
		if (store_step_done(c, up, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		if (store_lesson_keywords(op, account_id, u->email_id, rows[i].keywords, nk) < 0)
			return op->result;
		int64_t dunseen = (int)!(nf & STORE_F_SEEN) - (int)!(f & STORE_F_SEEN);
		int64_t ddeleted = (int)!!(nf & STORE_F_DELETED) - (int)!!(f & STORE_F_DELETED);
		if (store_mbox_adjust(c->sql, mbs[i], 0, dunseen, ddeleted, 0, modseq) < 0)
			return store_op_fail(op, STORE_ERR, "database error");
		if (*nk != '\0')
			store_mbox_add_keywords(c->sql, t, mbs[i], nk);
		store_op_event(op, STORE_EV_FLAGS, account_id, mbs[i], rows[i].uid, rows[i].uid, 1, modseq);
		rows[i].flags = nf;
		rows[i].keywords = nk;
	}
	return 1;
}

static bool in_list(const int64_t *v, size_t n, int64_t x)
{
	for (size_t i = 0; i < n; i++) {
		if (v[i] == x)
			return true;
	}
	return false;
}

/* The email's mailboxes become u->mailbox_ids: moves first (one row that is no longer
 * wanted per new mailbox), then copies (charged to the quota), then expunges. */
static int item_mailboxes(struct store_op *op, struct db *c, struct batch_ctx *bc,
			  const struct store_email_update *u, int64_t *mbs, struct msg_row *rows, size_t n,
			  bool *fresh_r)
{
	int64_t account_id = bc->b->account_id;
	const int64_t *target = u->mailbox_ids;
	size_t ntarget = u->nmailboxes;
	if (ntarget == 0)
		return store_op_fail(op, STORE_EINVAL, "an email must stay in at least one mailbox");
	for (size_t t = 0; t < ntarget; t++) {
		if (!in_list(mbs, n, target[t]) && store_mbox_owned(c->sql, account_id, target[t]) <= 0)
			return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	}
	/* before anything moves: the lesson compares the mailboxes before and after */
	if (store_lesson_mailboxes(op, account_id, u->email_id, mbs, n, target, ntarget) < 0)
		return op->result;
	bool *keep = arena_alloc(op->tmp, n * sizeof(bool));
	bool *gone = arena_alloc(op->tmp, n * sizeof(bool));
	size_t src = n;
	for (size_t i = 0; i < n; i++) {
		keep[i] = in_list(target, ntarget, mbs[i]);
		gone[i] = false;
		if (keep[i] && src == n)
			src = i;
	}
	for (size_t t = 0; t < ntarget; t++) {
		if (in_list(mbs, n, target[t]))
			continue;
		size_t mv = n; /* a row to move away from, if any */
		for (size_t i = 0; i < n && mv == n; i++) {
			if (!keep[i] && !gone[i])
				mv = i;
		}
		size_t from = mv < n ? mv : src;
		uint64_t modseq = batch_modseq(c, bc, fresh_r);
		uint32_t dst;
		if (mv == n && store_acct_charge(op, account_id, (int64_t)rows[from].size, 1, true) < 0)
			return op->result;
		if (store_msg_copy_rows(op, c, account_id, target[t], &rows[from], 1, modseq, &dst) < 0)
			return op->result;
		if (mv == n)
			continue;
		if (store_msg_remove_rows(op, c, account_id, mbs[mv], &rows[mv], 1, modseq, false) < 0)
			return op->result;
		gone[mv] = true;
		if (src == n) {
			/* the moved row is the source of further copies */
			mbs[mv] = target[t];
			rows[mv].uid = dst;
			gone[mv] = false;
			keep[mv] = true;
			src = mv;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (keep[i] || gone[i])
			continue;
		uint64_t modseq = batch_modseq(c, bc, fresh_r);
		if (store_msg_remove_rows(op, c, account_id, mbs[i], &rows[i], 1, modseq, true) < 0)
			return op->result;
	}
	return 1;
}

static int item_apply(struct store_op *op, struct db *c, struct batch_ctx *bc, struct store_email_update *u,
		      bool *fresh_r)
{
	size_t n;
	int64_t *mbs;
	struct msg_row *rows = email_rows(c, op->tmp, bc->b->account_id, u->email_id, &mbs, &n);
	int r = n == 0 ? store_op_fail(op, STORE_ENOTFOUND, "no such email") : 1;
	if (r > 0)
		r = item_flags(op, c, bc, u, mbs, rows, n, fresh_r);
	if (r > 0 && u->mailbox_ids != NULL)
		r = item_mailboxes(op, c, bc, u, mbs, rows, n, fresh_r);
	free(rows);
	free(mbs);
	return r;
}

/* One event per mailbox and kind: the batch gave every change the same MODSEQ. */
static void coalesce_events(struct store_op *op)
{
	size_t k = 0;
	for (size_t i = 0; i < op->nevents; i++) {
		struct store_event *e = &op->events[i];
		size_t j = 0;
		while (j < k && !(op->events[j].kind == e->kind && op->events[j].mailbox_id == e->mailbox_id &&
				  op->events[j].modseq == e->modseq))
			j++;
		if (j == k) {
			op->events[k++] = *e;
			continue;
		}
		struct store_event *m = &op->events[j];
		m->uid = e->uid < m->uid ? e->uid : m->uid;
		m->uid_last = e->uid_last > m->uid_last ? e->uid_last : m->uid_last;
		m->count += e->count;
	}
	op->nevents = k;
}

static int apply_batch(struct store *s, struct store_op *op)
{
	struct store_email_update_batch *b = op->req;
	struct db *c = s->wc;
	struct batch_ctx bc = { .b = b };
	const char *err;
	for (size_t i = 0; i < b->n; i++) {
		/* moving to Trash is how many clients delete: may use the reserve */
		op->may_use_reserve |= b->items[i].mailbox_ids != NULL;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct store_email_update *u = &b->items[i];
		size_t nevents = op->nevents, nunlink = op->nunlink;
		bool fresh = false;
		if (store_db_exec(c, "SAVEPOINT item", &err) < 0)
			return store_op_fail(op, STORE_ERR, "database error");
		int r = item_apply(op, c, &bc, u, &fresh);
		if (r < 0 && (store_db_full(c) || r == STORE_ERR))
			return r; /* the whole operation fails; the committer rolls it back */
		u->result = r < 0 ? r : 1;
		u->error = NULL;
		if (r < 0) {
			/* this email only: nothing of it stays */
			u->error = op->arena ? arena_strdup(op->arena, op->error ? op->error : "store error") : NULL;
			op->result = 0;
			op->error = NULL;
			store_db_exec(c, "ROLLBACK TO item", &err);
			op->nevents = nevents;
			for (size_t k = nunlink; k < op->nunlink; k++)
				free(op->unlink[k]);
			op->nunlink = nunlink;
			if (fresh)
				bc.modseq = 0; /* its allocation was rolled back too */
		}
		if (store_db_exec(c, "RELEASE item", &err) < 0)
			return store_op_fail(op, STORE_ERR, "database error");
	}
	coalesce_events(op);
	b->modseq = bc.modseq;
	return 1;
}

int store_email_update_batch(struct store *s, struct arena *a, struct store_email_update_batch *b,
			     const char **error_r)
{
	b->modseq = 0;
	for (size_t i = 0; i < b->n; i++) {
		b->items[i].result = STORE_ERR;
		b->items[i].error = NULL;
	}
	int r = store_op_run(s, store_op_new(NULL, apply_batch, NULL, b, a), error_r);
	if (r < 0) {
		const char *error = a != NULL ? arena_strdup(a, *error_r) : NULL;
		for (size_t i = 0; i < b->n; i++) {
			b->items[i].result = r;
			b->items[i].error = error;
		}
	}
	return r;
}
