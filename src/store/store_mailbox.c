/* store_mailbox.c: mailboxes: names, create, delete, rename, subscribe, list, status.
 *
 * Names are UTF-8 with "/" as the hierarchy separator; "INBOX" is case-insensitive
 * and stored exactly so. Each mailbox has a stable id (never reused: AUTOINCREMENT), a
 * UIDVALIDITY that never changes while it exists and is never repeated (a global
 * counter, at least the current time), UIDNEXT, HIGHESTMODSEQ and exact counters
 * (messages, unseen, deleted, size) maintained in the same transactions as the
 * messages, so STATUS and LIST-STATUS never scan messages. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

const char *store_special_use_name(unsigned int su)
{
	switch (su) {
	case STORE_SU_DRAFTS: return "\\Drafts";
	case STORE_SU_SENT: return "\\Sent";
	case STORE_SU_TRASH: return "\\Trash";
	case STORE_SU_JUNK: return "\\Junk";
	case STORE_SU_ARCHIVE: return "\\Archive";
	case STORE_SU_ALL: return "\\All";
	case STORE_SU_FLAGGED: return "\\Flagged";
	default: return NULL;
	}
}

unsigned int store_special_use_parse(const char *name)
{
	for (unsigned int bit = 1; bit <= STORE_SU_FLAGGED; bit <<= 1) {
		if (strcasecmp(name, store_special_use_name(bit)) == 0)
			return bit;
	}
	return 0;
}

/* Length of the UTF-8 sequence at p (max n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp >= 0x80 && cp < 0xa0) /* C1 controls */
		return 0;
	return len;
}

int store_mailbox_name_check(struct arena *a, const char *name, const char **out_r,
			     const char **error_r)
{
	if (name == NULL || *name == '\0') {
		*error_r = "empty mailbox name";
		return STORE_EINVAL;
	}
	size_t n = strlen(name);
	if (n > STORE_MAILBOX_NAME_MAX) {
		*error_r = "mailbox name too long";
		return STORE_EINVAL;
	}
	const unsigned char *p = (const unsigned char *)name;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			*error_r = "control character in mailbox name";
			return STORE_EINVAL;
		}
		if (p[i] == '*' || p[i] == '%') {
			*error_r = "mailbox name contains a wildcard (* or %)";
			return STORE_EINVAL;
		}
		size_t l = utf8_seq(p + i, n - i);
		if (l == 0) {
			*error_r = "mailbox name is not valid UTF-8";
			return STORE_EINVAL;
		}
		i += l;
	}
	int levels = 0;
	for (const char *lv = name;;) {
		const char *end = strchr(lv, STORE_SEP);
		size_t ln = end ? (size_t)(end - lv) : strlen(lv);
		if (ln == 0) {
			*error_r = "mailbox name has an empty level (leading, trailing or double /)";
			return STORE_EINVAL;
		}
		if ((ln == 1 && lv[0] == '.') || (ln == 2 && lv[0] == '.' && lv[1] == '.')) {
			*error_r = "mailbox name has a . or .. level";
			return STORE_EINVAL;
		}
		if (++levels > STORE_MAILBOX_DEPTH_MAX) {
			*error_r = "mailbox name is nested too deeply";
			return STORE_EINVAL;
		}
		if (end == NULL)
			break;
		lv = end + 1;
	}
	char *out = arena_strndup(a, name, n);
	if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == STORE_SEP))
		memcpy(out, "INBOX", 5);
	*out_r = out;
	return 1;
}

/* ------------------------------------------------------------------ helpers */

/* The mailbox's id: >0, 0 if the account has none of that name, <0 (sql_rc). */
static int64_t mbox_id(struct sql_conn *q, int64_t account_id, const char *name)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?");
	if (st == NULL)
		return SQL_ERR;
	sql_bind_int64(st, 1, account_id);
	sql_bind_text(st, 2, name);
	int rc = sql_step(st);
	int64_t id = rc == SQL_ROW ? sql_col_int64(st, 0) : rc == SQL_DONE ? 0 : rc;
	sql_reset(st);
	return id;
}

/* The next UIDVALIDITY: one more than the last, and at least the current time, so
 * that a database made again never repeats one. 0 on error, with *rc_r the sql_rc
 * (SQL_ETEMP for a deadlock or a lost connection: a temporary failure). */
static uint32_t next_uidvalidity(struct sql_conn *q, int *rc_r)
{
	struct sql_stmt *st = sql_prepare(q, "UPDATE meta SET value = CASE WHEN value + 1 > ?1 THEN value + 1"
					  " ELSE ?1 END WHERE key = 'uidvalidity' RETURNING value");
	*rc_r = SQL_ERR;
	if (st == NULL)
		return 0;
	sql_bind_int64(st, 1, (int64_t)time(NULL));
	uint32_t v = 0;
	int rc = sql_step(st);
	if (rc == SQL_ROW)
		v = (uint32_t)sql_col_int64(st, 0);
	else if (rc < 0)
		*rc_r = rc;
	sql_reset(st);
	return v;
}

static int insert_mailbox(struct store_op *op, struct sql_conn *q, int64_t account_id,
			  const char *name, unsigned int su, bool subscribed, int64_t *id_r)
{
	uint64_t modseq = store_acct_next_modseq(q, account_id);
	if (modseq == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such account");
	/* a subscription the name kept after its mailbox was deleted applies again */
	struct sql_stmt *st = sql_prepare(q, "DELETE FROM lost_subscriptions WHERE account_id = ? AND name = ?");
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		sql_bind_text(st, 2, name);
	}
	if (store_op_step(op, st, "mailbox_create") < 0)
		return op->result;
	if (sql_changes(q) > 0)
		subscribed = true;
	int vrc;
	uint32_t uidvalidity = next_uidvalidity(q, &vrc);
	if (uidvalidity == 0)
		return store_op_sql_fail(op, vrc, "uidvalidity");
	st = sql_prepare(q, "INSERT INTO mailboxes(account_id, name, special_use, subscribed, uidvalidity,"
			 " modseq, highestmodseq) VALUES(?, ?, ?, ?, ?, ?, ?) RETURNING id");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "mailbox_create");
	sql_bind_int64(st, 1, account_id);
	sql_bind_text(st, 2, name);
	sql_bind_int64(st, 3, (int64_t)su);
	sql_bind_int64(st, 4, subscribed);
	sql_bind_int64(st, 5, uidvalidity);
	sql_bind_int64(st, 6, (int64_t)modseq);
	sql_bind_int64(st, 7, (int64_t)modseq);
	int rc = sql_step(st);
	int64_t id = rc == SQL_ROW ? sql_col_int64(st, 0) : 0;
	sql_reset(st);
	if (rc == SQL_ECONSTRAINT) /* another node made it since mbox_id looked */
		return store_op_fail(op, STORE_EEXISTS, "mailbox %s already exists", name);
	if (rc != SQL_ROW)
		return store_op_sql_fail(op, rc == SQL_DONE ? SQL_ERR : rc, "mailbox_create");
	if (id_r)
		*id_r = id;
	store_op_event(op, STORE_EV_MAILBOX_CREATED, account_id, id, 0, 0, 0, modseq);
	return 1;
}

/* Creates the missing parents of name (not subscribed, no special use). */
static int create_parents(struct store_op *op, struct sql_conn *q, int64_t account_id, const char *name)
{
	char buf[STORE_MAILBOX_NAME_MAX + 1];
	snprintf(buf, sizeof(buf), "%s", name);
	for (char *p = strchr(buf, STORE_SEP); p != NULL; p = strchr(p + 1, STORE_SEP)) {
		*p = '\0';
		int64_t id = mbox_id(q, account_id, buf);
		if (id < 0)
			return store_op_sql_fail(op, (int)id, "mailbox_create");
		if (id == 0) {
			int r = insert_mailbox(op, q, account_id, buf, 0, false, NULL);
			if (r < 0)
				return r;
		}
		*p = STORE_SEP;
	}
	return 1;
}

int store_mbox_create_in(struct store_op *op, struct sql_conn *q, int64_t account_id, const char *name,
		   unsigned int special_use, bool subscribed, int64_t *id_r)
{
	int64_t id = mbox_id(q, account_id, name);
	if (id < 0)
		return store_op_sql_fail(op, (int)id, "mailbox_create");
	if (id > 0)
		return store_op_fail(op, STORE_EEXISTS, "mailbox %s already exists", name);
	int r = create_parents(op, q, account_id, name);
	if (r < 0)
		return r;
	return insert_mailbox(op, q, account_id, name, special_use, subscribed, id_r);
}

/* ------------------------------------------------------------------ writes */

struct mbox_req {
	int64_t account_id;
	const char *name, *newname;
	unsigned int su;
	bool on;
	int64_t id;
	uint32_t uid;
	/* async forms: where to put the results, and a validation error to report */
	int64_t *id_out;
	uint32_t *uid_out;
	int fail_code;
	const char *fail_msg;
};

/* Completion of an async mailbox op: copy the results out (committer thread, before
 * done runs on the caller's loop). */
static void mbox_finish(struct store *s, struct store_op *op)
{
	(void)s;
	struct mbox_req *r = op->req;
	if (op->result > 0 && r->id_out != NULL)
		*r->id_out = r->id;
	if (op->result > 0 && r->uid_out != NULL)
		*r->uid_out = r->uid;
}

static int apply_fail(struct store *s, struct store_op *op)
{
	(void)s;
	struct mbox_req *r = op->req;
	return store_op_fail(op, r->fail_code, "%s", r->fail_msg);
}

/* Builds an async op whose request (and canonical names) live in the op's arena. */
static struct store_op *mbox_async_op(op_fn *apply, int64_t account_id, const char *name,
				      const char *newname, struct mbox_req **req_r)
{
	struct store_op *op = store_op_new(NULL, apply, mbox_finish, NULL, NULL);
	op->sql_ready = true; /* the applies use only op->q */
	struct mbox_req *r = arena_alloc(op->tmp, sizeof(*r));
	r->account_id = account_id;
	op->req = r;
	if (account_id > 0)
		store_op_lock(op, account_id);
	const char *err;
	int code;
	if (name != NULL && (code = store_mailbox_name_check(op->tmp, name, &r->name, &err)) < 0) {
		r->fail_code = code;
		r->fail_msg = err;
		op->apply = apply_fail;
	} else if (newname != NULL &&
		   (code = store_mailbox_name_check(op->tmp, newname, &r->newname, &err)) < 0) {
		r->fail_code = code;
		r->fail_msg = err;
		op->apply = apply_fail;
	}
	*req_r = r;
	return op;
}

static int apply_create(struct store *s, struct store_op *op)
{
	(void)s;
	struct mbox_req *r = op->req;
	int x = store_acct_exists(op->q, r->account_id);
	if (x <= 0)
		return x < 0 ? store_op_sql_fail(op, SQL_ERR, "mailbox_create")
			     : store_op_fail(op, STORE_ENOTFOUND, "no such account");
	return store_mbox_create_in(op, op->q, r->account_id, r->name, r->su, true, &r->id);
}

/* A synchronous mailbox op: its apply uses only op->q, so it runs on either backend. */
static int mbox_run(struct store *s, op_fn *apply, struct mbox_req *req, const char **error_r)
{
	struct store_op *op = store_op_new(NULL, apply, NULL, req, NULL);
	op->sql_ready = true;
	if (req->account_id > 0)
		store_op_lock(op, req->account_id);
	return store_op_run(s, op, error_r);
}

int store_mailbox_create(struct store *s, int64_t account_id, const char *name,
			 unsigned int special_use, int64_t *id_r, const char **error_r)
{
	struct arena *a = arena_new();
	struct mbox_req req = { .account_id = account_id, .su = special_use };
	int r = store_mailbox_name_check(a, name, &req.name, error_r);
	if (r > 0 && special_use > STORE_SU_FLAGGED * 2 - 1) {
		*error_r = "invalid special-use";
		r = STORE_EINVAL;
	}
	if (r > 0)
		r = mbox_run(s, apply_create, &req, error_r);
	if (r > 0 && id_r)
		*id_r = req.id;
	arena_free(&a);
	return r;
}

/* 1 if the mailbox name has children, 0 if not, <0 (sql_rc). */
static int has_children(struct sql_conn *q, int64_t account_id, const char *name)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT 1 FROM mailboxes WHERE account_id = ?1"
					  " AND name > ?2 || '/' AND name < ?2 || '0' LIMIT 1");
	if (st == NULL)
		return SQL_ERR;
	sql_bind_int64(st, 1, account_id);
	sql_bind_text(st, 2, name);
	int rc = sql_step(st);
	sql_reset(st);
	return rc == SQL_ROW ? 1 : rc == SQL_DONE ? 0 : rc;
}

/* Removes the mailbox's messages (SQLite's extras, such as their files, through its
 * committer's connection; on PostgreSQL the chunks go with their emails). */
static int remove_messages(struct store *s, struct store_op *op, int64_t account_id, int64_t id,
			   uint64_t modseq)
{
	struct db *c = sql_engine(op->q) == SQL_SQLITE ? s->wc : NULL;
	return store_msg_remove_all(op, c, account_id, id, modseq) < 0 ? op->result : 1;
}

static int apply_delete(struct store *s, struct store_op *op)
{
	struct mbox_req *r = op->req;
	struct sql_conn *q = op->q;
	op->may_use_reserve = true; /* it frees space: works on a full disk (store_space.c) */
	if (strcmp(r->name, "INBOX") == 0)
		return store_op_fail(op, STORE_ENOTALLOWED, "INBOX cannot be deleted");
	int64_t id = mbox_id(q, r->account_id, r->name);
	if (id < 0)
		return store_op_sql_fail(op, (int)id, "mailbox_delete");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "mailbox %s does not exist", r->name);
	int x = has_children(q, r->account_id, r->name);
	if (x < 0)
		return store_op_sql_fail(op, x, "mailbox_delete");
	if (x > 0)
		return store_op_fail(op, STORE_ENOTALLOWED, "mailbox %s has children; delete them first",
			       r->name);
	uint64_t modseq = store_acct_next_modseq(q, r->account_id);
	if (modseq == 0)
		return store_op_sql_fail(op, SQL_ERR, "mailbox_delete");
	if (remove_messages(s, op, r->account_id, id, modseq) < 0)
		return op->result;
	/* The expunged rows stay: JMAP Email/changes reports the emails as destroyed. */
	/* RFC 3501 §6.3.4 / RFC 9051 §6.3.7: the subscription outlives the mailbox */
	struct sql_stmt *st = sql_prepare(q, "INSERT OR IGNORE INTO lost_subscriptions(account_id, name)"
					  " SELECT account_id, name FROM mailboxes WHERE id = ? AND subscribed <> 0");
	if (st != NULL)
		sql_bind_int64(st, 1, id);
	if (store_op_step(op, st, "mailbox_delete") < 0)
		return op->result;
	st = sql_prepare(q, "DELETE FROM mailboxes WHERE id = ?");
	if (st != NULL)
		sql_bind_int64(st, 1, id);
	if (store_op_step(op, st, "mailbox_delete") < 0)
		return op->result;
	st = sql_prepare(q, "INSERT INTO mailbox_tombstones(account_id, mailbox_id, modseq) VALUES(?, ?, ?)"
			 " ON CONFLICT(account_id, mailbox_id) DO UPDATE SET modseq = excluded.modseq");
	if (st != NULL) {
		sql_bind_int64(st, 1, r->account_id);
		sql_bind_int64(st, 2, id);
		sql_bind_int64(st, 3, (int64_t)modseq);
	}
	if (store_op_step(op, st, "mailbox_delete") < 0)
		return op->result;
	store_op_event(op, STORE_EV_MAILBOX_DELETED, r->account_id, id, 0, 0, 0, modseq);
	return 1;
}

int store_mailbox_delete(struct store *s, int64_t account_id, const char *name,
			 const char **error_r)
{
	struct arena *a = arena_new();
	struct mbox_req req = { .account_id = account_id };
	int r = store_mailbox_name_check(a, name, &req.name, error_r);
	if (r > 0)
		r = mbox_run(s, apply_delete, &req, error_r);
	arena_free(&a);
	return r;
}

/* RFC 9051 §6.3.6: renaming INBOX moves its messages to a new mailbox and leaves
 * INBOX (empty) in place; its children are not renamed. */
static int rename_inbox(struct store_op *op, int64_t inbox)
{
	struct mbox_req *r = op->req;
	struct sql_conn *q = op->q;
	int64_t dst;
	int x = store_mbox_create_in(op, q, r->account_id, r->newname, 0, true, &dst);
	if (x < 0)
		return x;
	uint64_t modseq = store_acct_next_modseq(q, r->account_id);
	if (modseq == 0)
		return store_op_sql_fail(op, SQL_ERR, "mailbox_rename");
	/* Collect the UIDs first (ascending), then move each row. */
	struct sql_stmt *st = sql_prepare(q, "SELECT uid, flags, size FROM messages WHERE mailbox_id = ?"
					  " ORDER BY uid");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "mailbox_rename");
	sql_bind_int64(st, 1, inbox);
	size_t n = 0, cap = 256;
	uint32_t *uids = xmalloc(cap * sizeof(*uids));
	int64_t unseen = 0, deleted = 0, size = 0;
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW) {
		if (n == cap)
			uids = xrealloc(uids, (cap *= 2) * sizeof(*uids));
		uids[n++] = (uint32_t)sql_col_int64(st, 0);
		int64_t f = sql_col_int64(st, 1);
		unseen += !(f & STORE_F_SEEN);
		deleted += !!(f & STORE_F_DELETED);
		size += sql_col_int64(st, 2);
	}
	sql_reset(st);
	if (rc < 0) {
		free(uids);
		return store_op_sql_fail(op, rc, "mailbox_rename");
	}
	for (size_t i = 0; i < n; i++) {
		struct sql_stmt *mv = sql_prepare(q, "UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ?"
						  " WHERE mailbox_id = ? AND uid = ?");
		if (mv != NULL) {
			sql_bind_int64(mv, 1, dst);
			sql_bind_int64(mv, 2, (int64_t)(i + 1));
			sql_bind_int64(mv, 3, (int64_t)modseq);
			sql_bind_int64(mv, 4, inbox);
			sql_bind_int64(mv, 5, uids[i]);
		}
		if (store_op_step(op, mv, "mailbox_rename") < 0) {
			free(uids);
			return op->result;
		}
		struct sql_stmt *ex = sql_prepare(q, "INSERT INTO expunged(mailbox_id, uid, account_id, email_id,"
						  " modseq) VALUES(?, ?, ?, 0, ?) ON CONFLICT(mailbox_id, uid)"
						  " DO UPDATE SET account_id = excluded.account_id,"
						  " email_id = excluded.email_id, modseq = excluded.modseq");
		if (ex != NULL) {
			sql_bind_int64(ex, 1, inbox);
			sql_bind_int64(ex, 2, uids[i]);
			sql_bind_int64(ex, 3, r->account_id);
			sql_bind_int64(ex, 4, (int64_t)modseq);
		}
		if (store_op_step(op, ex, "mailbox_rename") < 0) {
			free(uids);
			return op->result;
		}
	}
	struct sql_stmt *un = sql_prepare(q, "UPDATE mailboxes SET uidnext = ? WHERE id = ?");
	if (un != NULL) {
		sql_bind_int64(un, 1, (int64_t)n + 1);
		sql_bind_int64(un, 2, dst);
	}
	if (store_op_step(op, un, "mailbox_rename") < 0 ||
	    store_mbox_adjust(q, inbox, -(int64_t)n, -unseen, -deleted, -size, modseq) < 0 ||
	    store_mbox_adjust(q, dst, (int64_t)n, unseen, deleted, size, modseq) < 0) {
		free(uids);
		return op->result < 0 ? op->result : store_op_sql_fail(op, SQL_ERR, "mailbox_rename");
	}
	if (n > 0) {
		store_op_event(op, STORE_EV_EXPUNGE, r->account_id, inbox, uids[0], uids[n - 1],
			 (uint32_t)n, modseq);
		store_op_event(op, STORE_EV_NEW, r->account_id, dst, 1, (uint32_t)n, (uint32_t)n, modseq);
	}
	free(uids);
	return 1;
}

static int apply_rename(struct store *s, struct store_op *op)
{
	(void)s;
	struct mbox_req *r = op->req;
	struct sql_conn *q = op->q;
	int64_t id = mbox_id(q, r->account_id, r->name);
	if (id < 0)
		return store_op_sql_fail(op, (int)id, "mailbox_rename");
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "mailbox %s does not exist", r->name);
	int64_t other = mbox_id(q, r->account_id, r->newname);
	if (other < 0)
		return store_op_sql_fail(op, (int)other, "mailbox_rename");
	if (other > 0)
		return store_op_fail(op, STORE_EEXISTS, "mailbox %s already exists", r->newname);
	size_t ol = strlen(r->name);
	if (strncmp(r->newname, r->name, ol) == 0 && r->newname[ol] == STORE_SEP)
		return store_op_fail(op, STORE_EINVAL, "cannot move a mailbox into itself");
	if (strcmp(r->name, "INBOX") == 0)
		return rename_inbox(op, id);
	/* The mailbox and its children, as (id, name). */
	struct sql_stmt *st = sql_prepare(q, "SELECT id, name FROM mailboxes WHERE account_id = ?1 AND"
					  " (name = ?2 OR (name > ?2 || '/' AND name < ?2 || '0'))");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "mailbox_rename");
	sql_bind_int64(st, 1, r->account_id);
	sql_bind_text(st, 2, r->name);
	struct arena *a = op->tmp;
	size_t n = 0, cap = 16;
	int64_t *ids = arena_alloc(a, cap * sizeof(*ids));
	const char **names = arena_alloc(a, cap * sizeof(*names));
	int rc;
	while ((rc = sql_step(st)) == SQL_ROW) {
		if (n == cap) {
			int64_t *ni = arena_alloc(a, cap * 2 * sizeof(*ni));
			const char **nn = arena_alloc(a, cap * 2 * sizeof(*nn));
			memcpy(ni, ids, n * sizeof(*ni));
			memcpy(nn, names, n * sizeof(*nn));
			ids = ni;
			names = nn;
			cap *= 2;
		}
		ids[n] = sql_col_int64(st, 0);
		const char *old = sql_col_text(st, 1);
		names[n] = arena_printf(a, "%s%s", r->newname, old + ol);
		if (strlen(names[n]) > STORE_MAILBOX_NAME_MAX) {
			sql_reset(st);
			return store_op_fail(op, STORE_EINVAL, "new name too long for a child mailbox");
		}
		n++;
	}
	sql_reset(st);
	if (rc < 0)
		return store_op_sql_fail(op, rc, "mailbox_rename");
	for (size_t i = 0; i < n; i++) {
		int64_t taken = mbox_id(q, r->account_id, names[i]);
		if (taken < 0)
			return store_op_sql_fail(op, (int)taken, "mailbox_rename");
		if (taken > 0)
			return store_op_fail(op, STORE_EEXISTS, "mailbox %s already exists", names[i]);
	}
	int x = create_parents(op, q, r->account_id, r->newname);
	if (x < 0)
		return x;
	uint64_t modseq = store_acct_next_modseq(q, r->account_id);
	if (modseq == 0)
		return store_op_sql_fail(op, SQL_ERR, "mailbox_rename");
	for (size_t i = 0; i < n; i++) {
		struct sql_stmt *up = sql_prepare(q, "UPDATE mailboxes SET name = ?, modseq = ? WHERE id = ?");
		int rc2 = SQL_ERR;
		if (up != NULL) {
			sql_bind_text(up, 1, names[i]);
			sql_bind_int64(up, 2, (int64_t)modseq);
			sql_bind_int64(up, 3, ids[i]);
			rc2 = sql_step_done(up);
		}
		if (rc2 == SQL_ECONSTRAINT) /* another node made that name since the check */
			return store_op_fail(op, STORE_EEXISTS, "mailbox %s already exists", names[i]);
		if (rc2 < 0)
			return store_op_sql_fail(op, rc2, "mailbox_rename");
		store_op_event(op, STORE_EV_MAILBOX_RENAMED, r->account_id, ids[i], 0, 0, 0, modseq);
	}
	return 1;
}

int store_mailbox_rename(struct store *s, int64_t account_id, const char *oldname,
			 const char *newname, const char **error_r)
{
	struct arena *a = arena_new();
	struct mbox_req req = { .account_id = account_id };
	int r = store_mailbox_name_check(a, oldname, &req.name, error_r);
	if (r > 0)
		r = store_mailbox_name_check(a, newname, &req.newname, error_r);
	if (r > 0 && strcmp(req.newname, "INBOX") == 0) {
		*error_r = "mailbox INBOX already exists";
		r = STORE_EEXISTS;
	}
	if (r > 0)
		r = mbox_run(s, apply_rename, &req, error_r);
	arena_free(&a);
	return r;
}

static int apply_set(struct store *s, struct store_op *op)
{
	(void)s;
	struct mbox_req *r = op->req;
	struct sql_conn *q = op->q;
	int64_t id = mbox_id(q, r->account_id, r->name);
	if (id < 0)
		return store_op_sql_fail(op, (int)id, "mailbox_set");
	if (id == 0 && r->newname == NULL && !r->on) {
		/* UNSUBSCRIBE of a name whose mailbox was deleted */
		struct sql_stmt *d = sql_prepare(q, "DELETE FROM lost_subscriptions WHERE account_id = ? AND name = ?");
		if (d != NULL) {
			sql_bind_int64(d, 1, r->account_id);
			sql_bind_text(d, 2, r->name);
		}
		if (store_op_step(op, d, "mailbox_set") < 0)
			return op->result;
		if (sql_changes(q) > 0)
			return 1;
	}
	if (id == 0)
		return store_op_fail(op, STORE_ENOTFOUND, "mailbox %s does not exist", r->name);
	uint64_t modseq = store_acct_next_modseq(q, r->account_id);
	if (modseq == 0)
		return store_op_sql_fail(op, SQL_ERR, "mailbox_set");
	struct sql_stmt *st;
	if (r->newname != NULL) { /* marker: special-use */
		st = sql_prepare(q, "UPDATE mailboxes SET special_use = ?, modseq = ? WHERE id = ?");
		if (st != NULL)
			sql_bind_int64(st, 1, (int64_t)r->su);
	} else {
		st = sql_prepare(q, "UPDATE mailboxes SET subscribed = ?, modseq = ? WHERE id = ?");
		if (st != NULL)
			sql_bind_int64(st, 1, r->on);
	}
	if (st != NULL) {
		sql_bind_int64(st, 2, (int64_t)modseq);
		sql_bind_int64(st, 3, id);
	}
	if (store_op_step(op, st, "mailbox_set") < 0)
		return op->result;
	store_op_event(op, STORE_EV_MAILBOX_CHANGED, r->account_id, id, 0, 0, 0, modseq);
	return 1;
}

int store_mailbox_subscribe(struct store *s, int64_t account_id, const char *name, bool on,
			    const char **error_r)
{
	struct arena *a = arena_new();
	struct mbox_req req = { .account_id = account_id, .on = on };
	int r = store_mailbox_name_check(a, name, &req.name, error_r);
	if (r > 0)
		r = mbox_run(s, apply_set, &req, error_r);
	arena_free(&a);
	return r;
}

int store_mailbox_set_special_use(struct store *s, int64_t account_id, const char *name,
				  unsigned int special_use, const char **error_r)
{
	struct arena *a = arena_new();
	struct mbox_req req = { .account_id = account_id, .su = special_use, .newname = "" };
	int r = store_mailbox_name_check(a, name, &req.name, error_r);
	if (r > 0 && special_use > STORE_SU_FLAGGED * 2 - 1) {
		*error_r = "invalid special-use";
		r = STORE_EINVAL;
	}
	if (r > 0)
		r = mbox_run(s, apply_set, &req, error_r);
	arena_free(&a);
	return r;
}

static int apply_claim_recent(struct store *s, struct store_op *op)
{
	(void)s;
	struct mbox_req *r = op->req;
	struct sql_conn *q = op->q;
	struct sql_stmt *st = sql_prepare(q, "SELECT first_recent_uid FROM mailboxes WHERE id = ? AND account_id = ?");
	if (st == NULL)
		return store_op_sql_fail(op, SQL_ERR, "claim_recent");
	sql_bind_int64(st, 1, r->id);
	sql_bind_int64(st, 2, r->account_id);
	int rc = sql_step(st);
	if (rc == SQL_ROW)
		r->uid = (uint32_t)sql_col_int64(st, 0);
	sql_reset(st);
	if (rc == SQL_DONE)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	if (rc != SQL_ROW)
		return store_op_sql_fail(op, rc, "claim_recent");
	st = sql_prepare(q, "UPDATE mailboxes SET first_recent_uid = uidnext WHERE id = ?");
	if (st != NULL)
		sql_bind_int64(st, 1, r->id);
	return store_op_step(op, st, "claim_recent");
}

int store_mailbox_claim_recent(struct store *s, int64_t account_id, int64_t mailbox_id,
			       uint32_t *first_recent_uid_r, const char **error_r)
{
	struct mbox_req req = { .account_id = account_id, .id = mailbox_id };
	int r = mbox_run(s, apply_claim_recent, &req, error_r);
	if (r > 0)
		*first_recent_uid_r = req.uid;
	return r;
}

/* ------------------------------------------------------------------ async forms */

void store_mailbox_create_async(struct store *s, int64_t account_id, const char *name,
				unsigned int special_use, int64_t *id_r, struct loop *loop,
				store_done_fn *done, void *arg)
{
	struct mbox_req *r;
	struct store_op *op = mbox_async_op(apply_create, account_id, name, NULL, &r);
	r->su = special_use;
	r->id_out = id_r;
	store_op_submit_async(s, op, loop, done, arg);
}

void store_mailbox_delete_async(struct store *s, int64_t account_id, const char *name,
				struct loop *loop, store_done_fn *done, void *arg)
{
	struct mbox_req *r;
	store_op_submit_async(s, mbox_async_op(apply_delete, account_id, name, NULL, &r), loop, done, arg);
}

void store_mailbox_rename_async(struct store *s, int64_t account_id, const char *oldname,
				const char *newname, struct loop *loop, store_done_fn *done,
				void *arg)
{
	struct mbox_req *r;
	struct store_op *op = mbox_async_op(apply_rename, account_id, oldname, newname, &r);
	if (op->apply != apply_fail && strcmp(r->newname, "INBOX") == 0) {
		r->fail_code = STORE_EEXISTS;
		r->fail_msg = "mailbox INBOX already exists";
		op->apply = apply_fail;
	}
	store_op_submit_async(s, op, loop, done, arg);
}

void store_mailbox_subscribe_async(struct store *s, int64_t account_id, const char *name, bool on,
				   struct loop *loop, store_done_fn *done, void *arg)
{
	struct mbox_req *r;
	struct store_op *op = mbox_async_op(apply_set, account_id, name, NULL, &r);
	r->on = on;
	store_op_submit_async(s, op, loop, done, arg);
}

void store_mailbox_claim_recent_async(struct store *s, int64_t account_id, int64_t mailbox_id,
				      uint32_t *first_recent_uid_r, struct loop *loop,
				      store_done_fn *done, void *arg)
{
	struct mbox_req *r;
	struct store_op *op = mbox_async_op(apply_claim_recent, account_id, NULL, NULL, &r);
	r->id = mailbox_id;
	r->uid_out = first_recent_uid_r;
	store_op_submit_async(s, op, loop, done, arg);
}
