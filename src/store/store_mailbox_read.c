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

static void mbox_row(struct arena *a, sqlite3_stmt *st, struct store_mailbox *mb)
{
	mb->id = sqlite3_column_int64(st, 0);
	mb->account_id = sqlite3_column_int64(st, 1);
	mb->name = store_col_text(a, st, 2);
	mb->special_use = (unsigned int)sqlite3_column_int(st, 3);
	mb->subscribed = sqlite3_column_int(st, 4) != 0;
	mb->uidvalidity = (uint32_t)sqlite3_column_int64(st, 5);
	mb->uidnext = (uint32_t)sqlite3_column_int64(st, 6);
	mb->highestmodseq = (uint64_t)sqlite3_column_int64(st, 7);
	mb->messages = (uint32_t)sqlite3_column_int64(st, 8);
	mb->unseen = (uint32_t)sqlite3_column_int64(st, 9);
	mb->deleted = (uint32_t)sqlite3_column_int64(st, 10);
	mb->first_recent_uid = (uint32_t)sqlite3_column_int64(st, 11);
	mb->size = (uint64_t)sqlite3_column_int64(st, 12);
	mb->modseq = (uint64_t)sqlite3_column_int64(st, 13);
	mb->has_children = sqlite3_column_int(st, 14) != 0;
	mb->recent = (uint32_t)sqlite3_column_int64(st, 15);
}

int store_mbox_read(struct db *c, struct arena *a, int64_t account_id, const char *name, int64_t id,
		    struct store_mailbox *mb_r, const char **error_r)
{
	sqlite3_stmt *st;
	if (name != NULL) {
		st = store_db_stmt(c, "SELECT " MBOX_COLS " FROM mailboxes m WHERE m.account_id = ?"
				  " AND m.name = ?");
		store_bind_text(st, 2, name);
	} else {
		st = store_db_stmt(c, "SELECT " MBOX_COLS " FROM mailboxes m WHERE m.account_id = ?"
				  " AND m.id = ?");
		sqlite3_bind_int64(st, 2, id);
	}
	sqlite3_bind_int64(st, 1, account_id);
	int rc = sqlite3_step(st), ret;
	if (rc == SQLITE_ROW) {
		mbox_row(a, st, mb_r);
		ret = 1;
	} else {
		ret = rc == SQLITE_DONE ? 0 : store_db_fail(c, "mailbox_get", error_r);
	}
	sqlite3_reset(st);
	return ret;
}

static int mbox_get(struct store *s, struct arena *a, int64_t account_id, const char *name,
		    int64_t id, struct store_mailbox *mb_r, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	int ret = store_mbox_read(c, a, account_id, name, id, mb_r, error_r);
	store_db_put(s, c);
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
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT " MBOX_COLS " FROM mailboxes m WHERE m.account_id = ?"
				       " ORDER BY m.name != 'INBOX', m.name");
	sqlite3_bind_int64(st, 1, account_id);
	size_t n = 0, cap = 16;
	struct store_mailbox *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			struct store_mailbox *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		mbox_row(a, st, &v[n++]);
	}
	int ret = rc == SQLITE_DONE ? 1 : store_db_fail(c, "mailbox_list", error_r);
	store_db_put(s, c);
	*mbs_r = v;
	*n_r = n;
	return ret;
}

int store_lost_subscriptions(struct store *s, struct arena *a, int64_t account_id, const char ***names_r,
			     size_t *n_r, const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT name FROM lost_subscriptions WHERE account_id = ? ORDER BY name");
	sqlite3_bind_int64(st, 1, account_id);
	size_t n = 0, cap = 8;
	const char **v = arena_alloc(a, (cap + 1) * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			const char **nv = arena_alloc(a, (cap * 2 + 1) * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n++] = arena_strdup(a, (const char *)sqlite3_column_text(st, 0));
	}
	v[n] = NULL;
	int ret = rc == SQLITE_DONE ? 1 : store_db_fail(c, "lost_subscriptions", error_r);
	store_db_put(s, c);
	*names_r = v;
	*n_r = n;
	return ret;
}

int store_mbox_keywords_read(struct db *c, struct arena *a, int64_t account_id, int64_t mailbox_id,
			     const char ***keywords_r, const char **error_r)
{
	sqlite3_stmt *st = store_db_stmt(c, "SELECT keywords FROM mailboxes WHERE id = ? AND account_id = ?");
	sqlite3_bind_int64(st, 1, mailbox_id);
	sqlite3_bind_int64(st, 2, account_id);
	int rc = sqlite3_step(st), ret = 1;
	const char *kw = "";
	if (rc == SQLITE_ROW)
		kw = store_col_text(a, st, 0);
	else if (rc == SQLITE_DONE)
		ret = 0;
	else
		ret = store_db_fail(c, "mailbox_keywords", error_r);
	sqlite3_reset(st);
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
	struct db *c = store_db_get(s);
	int ret = store_mbox_keywords_read(c, a, account_id, mailbox_id, keywords_r, error_r);
	store_db_put(s, c);
	return ret;
}

int store_mailbox_destroyed_since(struct store *s, struct arena *a, int64_t account_id,
				  uint64_t modseq, int64_t **ids_r, size_t *n_r,
				  const char **error_r)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT mailbox_id FROM mailbox_tombstones"
				       " WHERE account_id = ? AND modseq > ? ORDER BY mailbox_id");
	sqlite3_bind_int64(st, 1, account_id);
	sqlite3_bind_int64(st, 2, (int64_t)modseq);
	size_t n = 0, cap = 16;
	int64_t *v = arena_alloc(a, cap * sizeof(*v));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *nv = arena_alloc(a, cap * 2 * sizeof(*v));
			memcpy(nv, v, n * sizeof(*v));
			v = nv;
			cap *= 2;
		}
		v[n++] = sqlite3_column_int64(st, 0);
	}
	int ret = rc == SQLITE_DONE ? 1 : store_db_fail(c, "destroyed_since", error_r);
	store_db_put(s, c);
	*ids_r = v;
	*n_r = n;
	return ret;
}
