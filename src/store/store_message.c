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

void store_mbox_add_keywords(struct db *c, struct arena *a, int64_t mailbox_id, const char *kws)
{
	if (*kws == '\0')
		return;
	sqlite3_stmt *st = store_db_stmt(c, "SELECT keywords FROM mailboxes WHERE id = ?");
	sqlite3_bind_int64(st, 1, mailbox_id);
	const char *cur = "";
	if (sqlite3_step(st) == SQLITE_ROW)
		cur = store_col_text(a, st, 0);
	sqlite3_reset(st);
	size_t n;
	kw_split(a, cur, 0, &n);
	if (n >= 256)
		return; /* enough; PERMANENTFLAGS still allows \* */
	const char *merged = store_keywords_apply(a, cur, STORE_FLAGS_ADD, kws);
	if (strcmp(merged, cur) == 0)
		return;
	st = store_db_stmt(c, "UPDATE mailboxes SET keywords = ? WHERE id = ?");
	store_bind_text(st, 1, merged);
	sqlite3_bind_int64(st, 2, mailbox_id);
	const char *err;
	store_step_done(c, st, &err);
}

/* ------------------------------------------------------------------ shared helpers */

int store_acct_charge(struct store_op *op, struct db *c, int64_t account_id, int64_t dsize,
		int64_t dmessages, bool check)
{
	if (check && dsize > 0) {
		sqlite3_stmt *st = store_db_stmt(c, "SELECT quota, usage FROM accounts WHERE id = ?");
		sqlite3_bind_int64(st, 1, account_id);
		int rc = sqlite3_step(st);
		int64_t quota = sqlite3_column_int64(st, 0), usage = sqlite3_column_int64(st, 1);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return store_op_fail(op, STORE_ENOTFOUND, "no such account");
		if (quota > 0 && (usage > quota || dsize > quota - usage))
			return store_op_fail(op, STORE_EOVERQUOTA, "quota exceeded (%lld of %lld bytes used)",
				       (long long)usage, (long long)quota);
	}
	sqlite3_stmt *st = store_db_stmt(c, "UPDATE accounts SET usage = usage + ?,"
				       " messages = messages + ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, dsize);
	sqlite3_bind_int64(st, 2, dmessages);
	sqlite3_bind_int64(st, 3, account_id);
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	return 1;
}

int store_msg_insert(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
	       struct msg_row *row, uint64_t modseq)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT uidnext FROM mailboxes WHERE id = ? AND account_id = ?");
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, account_id);
	int rc = sqlite3_step(st);
	int64_t uid = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	if (uid >= (int64_t)STORE_UID_MAX)
		return store_op_fail(op, STORE_ELIMIT, "mailbox UID space exhausted");
	st = store_db_stmt(c, "INSERT INTO messages(mailbox_id, uid, account_id, email_id, thread_id,"
			  " flags, keywords, modseq, size, internal_date, internal_tz, save_date)"
			  " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, account_id);
	sqlite3_bind_int64(st, 4, row->email_id);
	sqlite3_bind_int64(st, 5, row->thread_id);
	sqlite3_bind_int(st, 6, (int)row->flags);
	store_bind_text(st, 7, row->keywords ? row->keywords : "");
	sqlite3_bind_int64(st, 8, (int64_t)modseq);
	sqlite3_bind_int64(st, 9, (int64_t)row->size);
	sqlite3_bind_int64(st, 10, row->internal_date);
	sqlite3_bind_int(st, 11, row->internal_tz);
	sqlite3_bind_int64(st, 12, (int64_t)time(NULL));
	const char *err;
	if (store_step_done(c, st, &err) < 0)
		return store_op_fail(op, STORE_ERR, "%s", err);
	st = store_db_stmt(c, "UPDATE mailboxes SET uidnext = ? WHERE id = ?");
	sqlite3_bind_int64(st, 1, uid + 1);
	sqlite3_bind_int64(st, 2, mailbox_id);
	if (store_step_done(c, st, &err) < 0 ||
	    store_mbox_adjust(c, mailbox_id, 1, !(row->flags & STORE_F_SEEN),
			!!(row->flags & STORE_F_DELETED), (int64_t)row->size, modseq) < 0)
		return store_op_fail(op, STORE_ERR, "database error");
	if (row->keywords && *row->keywords)
		store_mbox_add_keywords(c, op->tmp, mailbox_id, row->keywords);
	row->uid = (uint32_t)uid;
	return 1;
}

int store_email_release(struct store_op *op, struct db *c, int64_t email_id)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM messages WHERE email_id = ? LIMIT 1");
	sqlite3_bind_int64(st, 1, email_id);
	bool used = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (used)
		return 1;
	st = store_db_stmt(c, "DELETE FROM emails WHERE id = ? RETURNING blob");
	sqlite3_bind_int64(st, 1, email_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		store_op_unlink_blob(op, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return 1;
}

struct msg_row *store_msg_select_rows(struct db *c, struct arena *a, int64_t mailbox_id,
				const struct store_uidset *set, bool only_deleted, size_t *n_r)
{
	static const struct store_range all = { 1, UINT32_MAX };
	const struct store_range *r = set ? set->r : &all;
	size_t nr = set ? set->n : 1;
	size_t n = 0, cap = 64;
	struct msg_row *v = xmalloc(cap * sizeof(*v));
	sqlite3_stmt *st = store_db_stmt(c, "SELECT uid, email_id, thread_id, flags, keywords, size,"
				       " internal_date, internal_tz FROM messages"
				       " WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid");
	for (size_t i = 0; i < nr; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, mailbox_id);
		sqlite3_bind_int64(st, 2, r[i].lo);
		sqlite3_bind_int64(st, 3, r[i].hi);
		while (sqlite3_step(st) == SQLITE_ROW) {
			unsigned int flags = (unsigned int)sqlite3_column_int(st, 3);
			if (only_deleted && !(flags & STORE_F_DELETED))
				continue;
			if (n == cap)
				v = xrealloc(v, (cap *= 2) * sizeof(*v));
			v[n].uid = (uint32_t)sqlite3_column_int64(st, 0);
			v[n].email_id = sqlite3_column_int64(st, 1);
			v[n].thread_id = sqlite3_column_int64(st, 2);
			v[n].flags = flags;
			v[n].keywords = store_col_text(a, st, 4);
			v[n].size = (uint64_t)sqlite3_column_int64(st, 5);
			v[n].internal_date = sqlite3_column_int64(st, 6);
			v[n].internal_tz = sqlite3_column_int(st, 7);
			n++;
		}
	}
	sqlite3_reset(st);
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

int store_msg_remove_rows(struct store_op *op, struct db *c, int64_t account_id, int64_t mailbox_id,
		    const struct msg_row *rows, size_t n, uint64_t modseq, bool release)
{
	sqlite3_stmt *del = store_db_stmt(c, "DELETE FROM messages WHERE mailbox_id = ? AND uid = ?");
	sqlite3_stmt *ex = store_db_stmt(c, "INSERT OR REPLACE INTO expunged(mailbox_id, uid, account_id,"
				       " email_id, modseq) VALUES(?, ?, ?, ?, ?)");
	int64_t unseen = 0, deleted = 0, size = 0;
	const char *err;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(del);
		sqlite3_bind_int64(del, 1, mailbox_id);
		sqlite3_bind_int64(del, 2, rows[i].uid);
		sqlite3_reset(ex);
		sqlite3_bind_int64(ex, 1, mailbox_id);
		sqlite3_bind_int64(ex, 2, rows[i].uid);
		sqlite3_bind_int64(ex, 3, account_id);
		sqlite3_bind_int64(ex, 4, rows[i].email_id);
		sqlite3_bind_int64(ex, 5, (int64_t)modseq);
		if (store_step_done(c, del, &err) < 0 || store_step_done(c, ex, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
		unseen += !(rows[i].flags & STORE_F_SEEN);
		deleted += !!(rows[i].flags & STORE_F_DELETED);
		size += (int64_t)rows[i].size;
	}
	if (store_mbox_adjust(c, mailbox_id, -(int64_t)n, -unseen, -deleted, -size, modseq) < 0)
		return store_op_fail(op, STORE_ERR, "database error");
	if (release) {
		if (store_acct_charge(op, c, account_id, -size, -(int64_t)n, false) < 0)
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
	struct msg_row *rows = store_msg_select_rows(c, op->tmp, mailbox_id, NULL, false, &n);
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
	struct msg_row *rows = store_msg_select_rows(c, op->tmp, mailbox_id, &set, false, &n);
	int r = n == 0 ? 0 : store_msg_remove_rows(op, c, account_id, mailbox_id, rows, n, modseq, true);
	free(rows);
	return r;
}

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
	struct db *c = s->wc;
	op->may_use_reserve = true; /* it frees space: works on a full disk (store_space.c) */
	if (r->uids != NULL && r->uids->n > 0 && r->uids->r == NULL)
		return store_op_fail(op, STORE_EINVAL, "malformed UID set");
	if (store_mbox_owned(c, r->account_id, r->mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	size_t n;
	struct msg_row *rows = store_msg_select_rows(c, op->tmp, r->mailbox_id, r->uids,
					   r->uids == NULL || r->only_deleted, &n);
	int ret = 1;
	if (n > 0) {
		uint64_t modseq = store_acct_next_modseq(c, r->account_id);
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
	struct db *c = s->wc;
	struct arena *t = op->tmp;
	/* setting \Deleted is the first step of an IMAP deletion: on a full disk it may use
	 * the reserve (store_space.c) */
	op->may_use_reserve = fc->op != STORE_FLAGS_REMOVE && (fc->flags & STORE_F_DELETED);
	if (fc->uids.n > 0 && fc->uids.r == NULL)
		return store_op_fail(op, STORE_EINVAL, "malformed UID set");
	if (store_mbox_owned(c, fc->account_id, fc->mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	const char *change = "";
	const char *err;
	if (store_keywords_join(t, fc->keywords, &change, &err) < 0)
		return store_op_fail(op, STORE_EINVAL, "%s", err);
	size_t n;
	struct msg_row *rows = store_msg_select_rows(c, t, fc->mailbox_id, &fc->uids, false, &n);
	/* modseq of each row for the guard */
	sqlite3_stmt *ms = store_db_stmt(c, "SELECT modseq FROM messages WHERE mailbox_id = ? AND uid = ?");
	uint32_t *changed = xmalloc((n + 1) * sizeof(*changed));
	uint64_t *prev = xmalloc((n + 1) * sizeof(*prev));
	uint32_t *modified = xmalloc((n + 1) * sizeof(*modified));
	const char **newkw = xmalloc((n + 1) * sizeof(*newkw));
	unsigned int *newflags = xmalloc((n + 1) * sizeof(*newflags));
	size_t nch = 0, nmod = 0;
	int64_t dunseen = 0, ddeleted = 0;
	int ret = 1;
	for (size_t i = 0; i < n; i++) {
		if (fc->unchanged_since > 0) {
			sqlite3_reset(ms);
			sqlite3_bind_int64(ms, 1, fc->mailbox_id);
			sqlite3_bind_int64(ms, 2, rows[i].uid);
			uint64_t m = sqlite3_step(ms) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(ms, 0) : 0;
			sqlite3_reset(ms);
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
		size_t cnt;
		kw_split(t, nk, 0, &cnt);
		if (cnt > STORE_KEYWORDS_PER_MESSAGE) {
			ret = store_op_fail(op, STORE_EINVAL, "too many keywords on a message");
			goto out;
		}
		if (nf == f && strcmp(nk, rows[i].keywords) == 0)
			continue;
		dunseen += (int)!(nf & STORE_F_SEEN) - (int)!(f & STORE_F_SEEN);
		ddeleted += (int)!!(nf & STORE_F_DELETED) - (int)!!(f & STORE_F_DELETED);
		newflags[nch] = nf;
		newkw[nch] = nk;
		/* the MODSEQ before: a session tells from it whether its client saw that state */
		sqlite3_reset(ms);
		sqlite3_bind_int64(ms, 1, fc->mailbox_id);
		sqlite3_bind_int64(ms, 2, rows[i].uid);
		prev[nch] = sqlite3_step(ms) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(ms, 0) : 0;
		sqlite3_reset(ms);
		changed[nch++] = rows[i].uid;
	}
	fc->modseq = 0;
	if (nch > 0) {
		uint64_t modseq = store_acct_next_modseq(c, fc->account_id);
		sqlite3_stmt *up = store_db_stmt(c, "UPDATE messages SET flags = ?, keywords = ?, modseq = ?"
					       " WHERE mailbox_id = ? AND uid = ?");
		for (size_t i = 0; i < nch; i++) {
			sqlite3_reset(up);
			sqlite3_bind_int(up, 1, (int)newflags[i]);
			store_bind_text(up, 2, newkw[i]);
			sqlite3_bind_int64(up, 3, (int64_t)modseq);
			sqlite3_bind_int64(up, 4, fc->mailbox_id);
			sqlite3_bind_int64(up, 5, changed[i]);
			if (store_step_done(c, up, &err) < 0) {
				ret = store_op_fail(op, STORE_ERR, "%s", err);
				goto out;
			}
		}
		if (store_mbox_adjust(c, fc->mailbox_id, 0, dunseen, ddeleted, 0, modseq) < 0) {
			ret = store_op_fail(op, STORE_ERR, "database error");
			goto out;
		}
		if (fc->op != STORE_FLAGS_REMOVE)
			store_mbox_add_keywords(c, t, fc->mailbox_id, change);
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
	return ret;
}

int store_flags(struct store *s, struct arena *a, struct store_flag_change *fc,
		const char **error_r)
{
	return store_op_run(s, store_op_new(NULL, apply_flags, NULL, fc, a), error_r);
}

void store_flags_async(struct store *s, struct arena *a, struct store_flag_change *fc,
		       struct loop *loop, store_done_fn *done, void *arg)
{
	store_op_submit_async(s, store_op_new(NULL, apply_flags, NULL, fc, a), loop, done, arg);
}

/* ------------------------------------------------------------------ copy / move */

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

static int apply_copy(struct store *s, struct store_op *op)
{
	struct store_copy *cp = op->req;
	struct db *c = s->wc;
	op->may_use_reserve = cp->move; /* a move to Trash is how many clients delete */
	if (cp->uids.n > 0 && cp->uids.r == NULL)
		return store_op_fail(op, STORE_EINVAL, "malformed UID set");
	if (store_mbox_owned(c, cp->account_id, cp->src_mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such source mailbox");
	if (store_mbox_owned(c, cp->account_id, cp->dst_mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such target mailbox");
	size_t n;
	struct msg_row *rows = store_msg_select_rows(c, op->tmp, cp->src_mailbox_id, &cp->uids, false, &n);
	int ret = 1;
	uint32_t *src = xmalloc((n + 1) * sizeof(*src)), *dst = xmalloc((n + 1) * sizeof(*dst));
	if (n > 0) {
		int64_t total = 0;
		for (size_t i = 0; i < n; i++)
			total += (int64_t)rows[i].size;
		if (!cp->move && store_acct_charge(op, c, cp->account_id, total, (int64_t)n, true) < 0) {
			ret = op->result;
			goto out;
		}
		uint64_t modseq = store_acct_next_modseq(c, cp->account_id);
		for (size_t i = 0; i < n; i++)
			src[i] = rows[i].uid;
		if (store_msg_copy_rows(op, c, cp->account_id, cp->dst_mailbox_id, rows, n, modseq, dst) < 0) {
			ret = op->result;
			goto out;
		}
		if (cp->move &&
		    store_msg_remove_rows(op, c, cp->account_id, cp->src_mailbox_id, rows, n, modseq, false) < 0) {
			ret = op->result;
			goto out;
		}
	}
	sqlite3_stmt *st = store_db_stmt(c, "SELECT uidvalidity FROM mailboxes WHERE id = ?");
	sqlite3_bind_int64(st, 1, cp->dst_mailbox_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		cp->dst_uidvalidity = (uint32_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
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

int store_copy(struct store *s, struct arena *a, struct store_copy *c, const char **error_r)
{
	return store_op_run(s, store_op_new(NULL, apply_copy, NULL, c, a), error_r);
}

void store_copy_async(struct store *s, struct arena *a, struct store_copy *c, struct loop *loop,
		      store_done_fn *done, void *arg)
{
	store_op_submit_async(s, store_op_new(NULL, apply_copy, NULL, c, a), loop, done, arg);
}
