/* store_mailbox_read.c: mailbox lookups and listings (get, get by id, list with
 * counters and \HasChildren, keywords in use, mailboxes destroyed since a MODSEQ).
 * The writes live in store_mailbox.c. */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ reads */

#define MBOX_COLS "m.id, m.account_id, m.name, m.special_use, m.subscribed, m.uidvalidity," \
	" m.uidnext, m.highestmodseq, m.messages, m.unseen, m.deleted, m.first_recent_uid," \
	" m.size, m.modseq," \
	" EXISTS(SELECT 1 FROM mailboxes c WHERE c.account_id = m.account_id" \
	"  AND c.name > m.name || '/' AND c.name < m.name || '0')," \
	" (SELECT COUNT(*) FROM messages r WHERE r.mailbox_id = m.id AND r.uid >= m.first_recent_uid)"

static void mbox_row(struct arena *a, struct sql_stmt *st, struct store_mailbox *mb)
{
	mb->id = sql_col_int64(st, 0);
	mb->account_id = sql_col_int64(st, 1);
	mb->name = arena_strdup(a, sql_col_text(st, 2));
	mb->special_use = (unsigned int)sql_col_int64(st, 3);
	mb->subscribed = sql_col_int64(st, 4) != 0;
	mb->uidvalidity = (uint32_t)sql_col_int64(st, 5);
	mb->uidnext = (uint32_t)sql_col_int64(st, 6);
	mb->highestmodseq = (uint64_t)sql_col_int64(st, 7);
	mb->messages = (uint32_t)sql_col_int64(st, 8);
	mb->unseen = (uint32_t)sql_col_int64(st, 9);
	mb->deleted = (uint32_t)sql_col_int64(st, 10);
	mb->first_recent_uid = (uint32_t)sql_col_int64(st, 11);
	mb->size = (uint64_t)sql_col_int64(st, 12);
	mb->modseq = (uint64_t)sql_col_int64(st, 13);
	mb->has_children = sql_col_int64(st, 14) != 0;
	mb->recent = (uint32_t)sql_col_int64(st, 15);
}

/* A failed read: the error text for *error_r, STORE_EUNAVAIL or STORE_ERR. */
static int read_fail(struct sql_conn *q, int rc, const char *what, const char **error_r)
{
	return store_sql_fail(q, rc == SQL_DONE || rc == SQL_ROW ? SQL_ERR : rc, what, error_r);
}

int store_mbox_read(struct sql_conn *q, struct arena *a, int64_t account_id, const char *name, int64_t id,
		    struct store_mailbox *mb_r, const char **error_r)
{
	struct sql_stmt *st;
	if (name != NULL) {
		st = sql_prepare(q, "SELECT " MBOX_COLS " FROM mailboxes m WHERE m.account_id = ? AND m.name = ?");
		if (st != NULL)
			sql_bind_text(st, 2, name);
	} else {
		st = sql_prepare(q, "SELECT " MBOX_COLS " FROM mailboxes m WHERE m.account_id = ? AND m.id = ?");
		if (st != NULL)
			sql_bind_int64(st, 2, id);
	}
	if (st == NULL)
		return read_fail(q, SQL_ERR, "mailbox_get", error_r);
	sql_bind_int64(st, 1, account_id);
	int rc = sql_step(st), ret;
	if (rc == SQL_ROW) {
		mbox_row(a, st, mb_r);
		ret = 1;
	} else {
		ret = rc == SQL_DONE ? 0 : read_fail(q, rc, "mailbox_get", error_r);
	}
	sql_reset(st);
	return ret;
}

static int mbox_get(struct store *s, struct arena *a, int64_t account_id, const char *name,
		    int64_t id, struct store_mailbox *mb_r, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = store_mbox_read(q, a, account_id, name, id, mb_r, error_r);
	store_sql_put(s, q, db);
	return ret;
}

int store_mailbox_get(struct store *s, struct arena *a, int64_t account_id, const char *name,
		      struct store_mailbox *mb_r, const char **error_r)
{
	const char *canon;
	if (store_mailbox_name_check(a, name, &canon, error_r) < 0)
		return 0;
	return mbox_get(s, a, account_id, canon, 0, mb_r, error_r);
}

int store_mailbox_get_by_id(struct store *s, struct arena *a, int64_t account_id,
			    int64_t mailbox_id, struct store_mailbox *mb_r, const char **error_r)
{
	return mbox_get(s, a, account_id, NULL, mailbox_id, mb_r, error_r);
}

int store_mailbox_list(struct store *s, struct arena *a, int64_t account_id,
		       struct store_mailbox **mbs_r, size_t *n_r, const char **error_r)
{
	*mbs_r = NULL;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT " MBOX_COLS " FROM mailboxes m WHERE m.account_id = ?"
					  " ORDER BY m.name <> 'INBOX', m.name");
	size_t n = 0, cap = 16;
	struct store_mailbox *v = arena_alloc(a, cap * sizeof(*v));
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		while ((rc = sql_step(st)) == SQL_ROW) {
			if (n == cap) {
				struct store_mailbox *nv = arena_alloc(a, cap * 2 * sizeof(*v));
				memcpy(nv, v, n * sizeof(*v));
				v = nv;
				cap *= 2;
			}
			mbox_row(a, st, &v[n++]);
		}
		sql_reset(st);
	}
	int ret = rc == SQL_DONE ? 1 : read_fail(q, rc, "mailbox_list", error_r);
	store_sql_put(s, q, db);
	*mbs_r = v;
	*n_r = n;
	return ret;
}

int store_lost_subscriptions(struct store *s, struct arena *a, int64_t account_id, const char ***names_r,
			     size_t *n_r, const char **error_r)
{
	struct db *db;
	size_t n = 0, cap = 8;
	const char **v = arena_alloc(a, (cap + 1) * sizeof(*v));
	v[0] = NULL;
	*names_r = v;
	*n_r = 0;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT name FROM lost_subscriptions WHERE account_id = ? ORDER BY name");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		while ((rc = sql_step(st)) == SQL_ROW) {
			if (n == cap) {
				const char **nv = arena_alloc(a, (cap * 2 + 1) * sizeof(*v));
				memcpy(nv, v, n * sizeof(*v));
				v = nv;
				cap *= 2;
			}
			v[n++] = arena_strdup(a, sql_col_text(st, 0));
		}
		sql_reset(st);
	}
	v[n] = NULL;
	int ret = rc == SQL_DONE ? 1 : read_fail(q, rc, "lost_subscriptions", error_r);
	store_sql_put(s, q, db);
	*names_r = v;
	*n_r = n;
	return ret;
}

int store_mbox_keywords_read(struct sql_conn *q, struct arena *a, int64_t account_id, int64_t mailbox_id,
			     const char ***keywords_r, const char **error_r)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT keywords FROM mailboxes WHERE id = ? AND account_id = ?");
	int rc = SQL_ERR, ret = 1;
	const char *kw = "";
	if (st != NULL) {
		sql_bind_int64(st, 1, mailbox_id);
		sql_bind_int64(st, 2, account_id);
		rc = sql_step(st);
		if (rc == SQL_ROW)
			kw = arena_strdup(a, sql_col_null(st, 0) ? "" : sql_col_text(st, 0));
		sql_reset(st);
	}
	if (rc == SQL_DONE)
		ret = 0;
	else if (rc != SQL_ROW)
		ret = read_fail(q, rc, "mailbox_keywords", error_r);
	size_t n = 1;
	for (const char *p = kw; *p; p++)
		n += *p == ' ';
	const char **v = arena_alloc(a, (n + 1) * sizeof(*v));
	size_t k = 0;
	char *copy = arena_strdup(a, kw);
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		v[k++] = t;
	v[k] = NULL;
	*keywords_r = v;
	return ret;
}

int store_mailbox_keywords(struct store *s, struct arena *a, int64_t account_id,
			   int64_t mailbox_id, const char ***keywords_r, const char **error_r)
{
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	int ret = store_mbox_keywords_read(q, a, account_id, mailbox_id, keywords_r, error_r);
	store_sql_put(s, q, db);
	return ret;
}

int store_mailbox_destroyed_since(struct store *s, struct arena *a, int64_t account_id,
				  uint64_t modseq, int64_t **ids_r, size_t *n_r,
				  const char **error_r)
{
	size_t n = 0, cap = 16;
	int64_t *v = arena_alloc(a, cap * sizeof(*v));
	*ids_r = v;
	*n_r = 0;
	struct db *db;
	struct sql_conn *q = store_sql_get(s, &db, error_r);
	if (q == NULL)
		return STORE_EUNAVAIL;
	struct sql_stmt *st = sql_prepare(q, "SELECT mailbox_id FROM mailbox_tombstones"
					  " WHERE account_id = ? AND modseq > ? ORDER BY mailbox_id");
	int rc = SQL_ERR;
	if (st != NULL) {
		sql_bind_int64(st, 1, account_id);
		sql_bind_int64(st, 2, (int64_t)modseq);
		while ((rc = sql_step(st)) == SQL_ROW) {
			if (n == cap) {
				int64_t *nv = arena_alloc(a, cap * 2 * sizeof(*v));
				memcpy(nv, v, n * sizeof(*v));
				v = nv;
				cap *= 2;
			}
			v[n++] = sql_col_int64(st, 0);
		}
		sql_reset(st);
	}
	int ret = rc == SQL_DONE ? 1 : read_fail(q, rc, "destroyed_since", error_r);
	store_sql_put(s, q, db);
	*ids_r = v;
	*n_r = n;
	return ret;
}
