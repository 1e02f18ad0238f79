/* store_import.c: import keys and announced changes (see store_import.h).
 *
 * import_keys rows are written by apply_append_many (store_deliver.c) through
 * store_import_record, inside the op's savepoint, so they commit or roll back with the
 * messages they describe. announced_events rows are written by run_txn
 * (store_commit.c) after an op of an announcing store applied, inside the same
 * savepoint; the watching store's committer reads them (store_watch_run) between
 * batches with its own connection, so no other thread touches the statements. */
#include "store_int.h"

#include <string.h>
#include <time.h>

#define ANNOUNCED_KEEP_S 3600 /* announced events older than this are deleted */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bind_key(sqlite3_stmt *st, int i, const char *key)
{
	size_t n = strlen(key);
	if (n > STORE_IMPORT_KEY_MAX)
		n = STORE_IMPORT_KEY_MAX;
	sqlite3_bind_text(st, i, key, (int)n, SQLITE_TRANSIENT);
}

int store_import_known(struct store *s, int64_t account_id, const char *scope, const char *key, const char **error_r)
{
	STORE_PG_REFUSE(s, error_r);
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM import_keys WHERE account_id = ? AND scope = ? AND key = ?");
	if (st == NULL) {
		int r = store_db_fail(c, "import key", error_r);
		store_db_put(s, c);
		return r;
	}
	sqlite3_bind_int64(st, 1, account_id);
	store_bind_text(st, 2, scope);
	bind_key(st, 3, key);
	int rc = sqlite3_step(st);
	int r = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : store_db_fail(c, "import key", error_r);
	sqlite3_reset(st);
	store_db_put(s, c);
	return r;
}

int store_import_record(struct store_op *op, struct db *c, int64_t account_id, const char *scope,
			const char *const *keys)
{
	for (size_t i = 0; keys != NULL && keys[i] != NULL; i++) {
		sqlite3_stmt *st =
			store_db_stmt(c, "INSERT OR IGNORE INTO import_keys(account_id, scope, key) VALUES(?, ?, ?)");
		if (st == NULL)
			return store_op_fail(op, STORE_ERR, "database error");
		sqlite3_bind_int64(st, 1, account_id);
		store_bind_text(st, 2, scope);
		bind_key(st, 3, keys[i]);
		const char *err;
		if (store_step_done(c, st, &err) < 0)
			return store_op_fail(op, STORE_ERR, "%s", err);
	}
	return 1;
}

int store_announce_events(struct store_op *op, struct db *c)
{
	for (size_t i = 0; i < op->nevents; i++) {
		const struct store_event *ev = &op->events[i];
		sqlite3_stmt *st = store_db_stmt(c, "INSERT INTO announced_events(at, kind, account_id, mailbox_id,"
						    " uid, uid_last, count, modseq) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
		if (st == NULL)
			return STORE_ERR;
		sqlite3_bind_int64(st, 1, (int64_t)time(NULL));
		sqlite3_bind_int(st, 2, (int)ev->kind);
		sqlite3_bind_int64(st, 3, ev->account_id);
		sqlite3_bind_int64(st, 4, ev->mailbox_id);
		sqlite3_bind_int64(st, 5, ev->uid);
		sqlite3_bind_int64(st, 6, ev->uid_last);
		sqlite3_bind_int64(st, 7, ev->count);
		sqlite3_bind_int64(st, 8, (int64_t)ev->modseq);
		const char *err;
		if (store_step_done(c, st, &err) < 0)
			return STORE_ERR;
	}
	return 1;
}

void store_watch_init(struct store *s)
{
	s->watch_last = 0;
	s->watch_at = now_ms();
	sqlite3_stmt *st = store_db_stmt(s->wc, "SELECT COALESCE(MAX(id), 0) FROM announced_events");
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		s->watch_last = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
}

int64_t store_watch_due(struct store *s)
{
	if (s->opt.watch_ms <= 0)
		return -1;
	int64_t left = s->watch_at + s->opt.watch_ms - now_ms();
	return left > 0 ? left : 0;
}

void store_watch_run(struct store *s)
{
	struct db *c = s->wc;
	s->watch_at = now_ms();
	struct store_event evs[64];
	for (;;) {
		size_t n = 0;
		sqlite3_stmt *st = store_db_stmt(c, "SELECT id, kind, account_id, mailbox_id, uid, uid_last, count,"
						    " modseq FROM announced_events WHERE id > ? ORDER BY id LIMIT 64");
		if (st == NULL)
			return;
		sqlite3_bind_int64(st, 1, s->watch_last);
		while (n < 64 && sqlite3_step(st) == SQLITE_ROW) {
			s->watch_last = sqlite3_column_int64(st, 0);
			int kind = sqlite3_column_int(st, 1);
			if (kind < STORE_EV_NEW || kind > STORE_EV_MAILBOX_CHANGED)
				continue;
			evs[n++] = (struct store_event){
				.kind = (enum store_event_kind)kind,
				.account_id = sqlite3_column_int64(st, 2),
				.mailbox_id = sqlite3_column_int64(st, 3),
				.uid = (uint32_t)sqlite3_column_int64(st, 4),
				.uid_last = (uint32_t)sqlite3_column_int64(st, 5),
				.count = (uint32_t)sqlite3_column_int64(st, 6),
				.modseq = (uint64_t)sqlite3_column_int64(st, 7),
			};
		}
		sqlite3_reset(st);
		if (n > 0)
			store_events_publish(s, evs, n);
		if (n < 64)
			break;
	}
	/* once a minute, forget what every server has long seen */
	if (s->watch_at - s->watch_cleaned < 60 * 1000)
		return;
	s->watch_cleaned = s->watch_at;
	sqlite3_stmt *st = store_db_stmt(c, "DELETE FROM announced_events WHERE at < ?");
	if (st == NULL)
		return;
	sqlite3_bind_int64(st, 1, (int64_t)time(NULL) - ANNOUNCED_KEEP_S);
	const char *err;
	store_step_done(c, st, &err);
}
