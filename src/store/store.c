/* store.c: opening the store, the schema, connections, and the write pipeline.
 *
 * Durability and group commit are in store_commit.c.
 *
 * Crash safety: a crash before COMMIT leaves a blob without a row; the recovery pass
 * (store_options.recover, once at server start) deletes such blobs. Expunged blobs are
 * unlinked after the COMMIT that removed their last row; a crash in between leaves an
 * orphan that the same pass removes. */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


const char *const store_schema[] = {
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS domains(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE COLLATE NOCASE)",
	"CREATE TABLE IF NOT EXISTS accounts(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" address TEXT NOT NULL UNIQUE COLLATE NOCASE, domain_id INTEGER NOT NULL,"
	" password TEXT NOT NULL, quota INTEGER NOT NULL DEFAULT 0,"
	" usage INTEGER NOT NULL DEFAULT 0, messages INTEGER NOT NULL DEFAULT 0,"
	" modseq INTEGER NOT NULL DEFAULT 1)",
	"CREATE TABLE IF NOT EXISTS aliases(address TEXT NOT NULL COLLATE NOCASE,"
	" target TEXT NOT NULL COLLATE NOCASE, PRIMARY KEY(address, target)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS mailboxes(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account_id INTEGER NOT NULL, name TEXT NOT NULL, special_use INTEGER NOT NULL DEFAULT 0,"
	" subscribed INTEGER NOT NULL DEFAULT 0, uidvalidity INTEGER NOT NULL,"
	" uidnext INTEGER NOT NULL DEFAULT 1, highestmodseq INTEGER NOT NULL DEFAULT 1,"
	" modseq INTEGER NOT NULL DEFAULT 1, messages INTEGER NOT NULL DEFAULT 0,"
	" unseen INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,"
	" size INTEGER NOT NULL DEFAULT 0, first_recent_uid INTEGER NOT NULL DEFAULT 1,"
	" keywords TEXT NOT NULL DEFAULT '', UNIQUE(account_id, name))",
	/* subscriptions of names that have no mailbox (RFC 9051 §6.3.7: DELETE keeps them) */
	"CREATE TABLE IF NOT EXISTS lost_subscriptions(account_id INTEGER NOT NULL,"
	" name TEXT NOT NULL, PRIMARY KEY(account_id, name)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS mailbox_tombstones(account_id INTEGER NOT NULL,"
	" mailbox_id INTEGER NOT NULL, modseq INTEGER NOT NULL,"
	" PRIMARY KEY(account_id, mailbox_id)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS emails(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" blob TEXT NOT NULL UNIQUE, size INTEGER NOT NULL, header_size INTEGER NOT NULL,"
	" date INTEGER NOT NULL, date_tz INTEGER NOT NULL, subject TEXT, from_ TEXT, to_ TEXT,"
	" cc TEXT, bcc TEXT, reply_to TEXT, sender TEXT, message_id TEXT, in_reply_to TEXT,"
	" refs TEXT, envelope TEXT, bodystructure TEXT, body TEXT, parts TEXT, preview TEXT,"
	" has_attachment INTEGER NOT NULL DEFAULT 0)",
	"CREATE TABLE IF NOT EXISTS messages(mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" account_id INTEGER NOT NULL, email_id INTEGER NOT NULL, thread_id INTEGER NOT NULL,"
	" flags INTEGER NOT NULL, keywords TEXT NOT NULL DEFAULT '', modseq INTEGER NOT NULL,"
	" size INTEGER NOT NULL, internal_date INTEGER NOT NULL, internal_tz INTEGER NOT NULL,"
	" save_date INTEGER NOT NULL, PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS messages_modseq ON messages(mailbox_id, modseq)",
	"CREATE INDEX IF NOT EXISTS messages_email ON messages(email_id, account_id)",
	"CREATE INDEX IF NOT EXISTS messages_account ON messages(account_id, modseq)",
	"CREATE INDEX IF NOT EXISTS messages_thread ON messages(account_id, thread_id)",
	/* JMAP Email/query by receivedAt (store_window.c); flags make it covering for
	 * the $seen/$flagged/... conditions */
	"CREATE INDEX IF NOT EXISTS messages_received ON messages(mailbox_id, internal_date,"
	" email_id, flags)",
	"CREATE TABLE IF NOT EXISTS expunged(mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" account_id INTEGER NOT NULL, email_id INTEGER NOT NULL, modseq INTEGER NOT NULL,"
	" PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS expunged_modseq ON expunged(mailbox_id, modseq)",
	"CREATE INDEX IF NOT EXISTS expunged_account ON expunged(account_id, modseq)",
	"CREATE TABLE IF NOT EXISTS msgids(account_id INTEGER NOT NULL, msgid TEXT NOT NULL,"
	" thread_id INTEGER NOT NULL, PRIMARY KEY(account_id, msgid)) WITHOUT ROWID",
	/* the session generation of an account (store_account_session_gen): a table of its
	 * own, so that databases made before it need no ALTER; no row means 0 */
	"CREATE TABLE IF NOT EXISTS session_generations(account_id INTEGER PRIMARY KEY,"
	" generation INTEGER NOT NULL)",
	/* an account's SCRAM-SHA-256 secret (auth/scram.h), made when its password is set
	 * or first seen at a login: a table of its own, so that older databases need no
	 * ALTER; no row means the account cannot use SCRAM yet */
	"CREATE TABLE IF NOT EXISTS scram_secrets(account_id INTEGER PRIMARY KEY, secret TEXT NOT NULL)",
	/* the junk filter's lessons (store_lesson.c): tables of their own, so that older
	 * databases need no ALTER. junk_marks: the current lesson per message (1 spam,
	 * 2 ham); junk_lessons: what the learner has still to apply, one row per message */
	"CREATE TABLE IF NOT EXISTS junk_marks(account_id INTEGER NOT NULL, email_id INTEGER NOT NULL,"
	" class INTEGER NOT NULL, PRIMARY KEY(account_id, email_id)) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS junk_marks_email ON junk_marks(email_id)",
	"CREATE TABLE IF NOT EXISTS junk_lessons(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account_id INTEGER NOT NULL, email_id INTEGER NOT NULL, spam INTEGER NOT NULL, ham INTEGER NOT NULL)",
	"CREATE UNIQUE INDEX IF NOT EXISTS junk_lessons_email ON junk_lessons(email_id, account_id)",
	/* the junk filter's model (store_junk.c): tables of their own, so older databases
	 * get them at the next start without any ALTER */
	"CREATE TABLE IF NOT EXISTS junk_count(account_id INTEGER PRIMARY KEY, nspam INTEGER NOT NULL,"
	" nham INTEGER NOT NULL, off INTEGER NOT NULL DEFAULT 0)",
	"CREATE TABLE IF NOT EXISTS junk_token(account_id INTEGER NOT NULL, token TEXT NOT NULL,"
	" nspam INTEGER NOT NULL, nham INTEGER NOT NULL, PRIMARY KEY(account_id, token)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS junk_contact(account_id INTEGER NOT NULL, address TEXT NOT NULL,"
	" PRIMARY KEY(account_id, address)) WITHOUT ROWID",
	/* the full-text index (store_index.c) */
	"CREATE VIRTUAL TABLE IF NOT EXISTS email_text USING fts5(hdr, body, tokenize='trigram')",
	"CREATE TABLE IF NOT EXISTS email_unindexed(email_id INTEGER PRIMARY KEY, reason INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS email_text_stale(email_id INTEGER PRIMARY KEY)",
	/* Sieve (store_sieve.c): scripts (at most one active per account), the account's
	 * Sieve state for JMAP, the out-of-office settings, the duplicate memory */
	"CREATE TABLE IF NOT EXISTS sieve_scripts(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" account_id INTEGER NOT NULL, name TEXT NOT NULL, text BLOB NOT NULL, compiled BLOB,"
	" active INTEGER NOT NULL DEFAULT 0, modseq INTEGER NOT NULL, UNIQUE(account_id, name))",
	"CREATE TABLE IF NOT EXISTS sieve_state(account_id INTEGER PRIMARY KEY, modseq INTEGER NOT NULL)",
	"CREATE TABLE IF NOT EXISTS sieve_vacation(account_id INTEGER PRIMARY KEY, enabled INTEGER NOT NULL,"
	" from_date INTEGER NOT NULL, to_date INTEGER NOT NULL, subject TEXT, text_body TEXT, html_body TEXT)",
	"CREATE TABLE IF NOT EXISTS sieve_duplicates(account_id INTEGER NOT NULL, key TEXT NOT NULL,"
	" expires INTEGER NOT NULL, PRIMARY KEY(account_id, key))",
	"CREATE INDEX IF NOT EXISTS sieve_duplicates_expires ON sieve_duplicates(account_id, expires)",
	/* the admin flag (store_admin.c): a table of its own, so that older databases need
	 * no ALTER; an account is an admin when it has a row */
	"CREATE TABLE IF NOT EXISTS admins(account_id INTEGER PRIMARY KEY)",
	/* each account's last login (store_admin.c), written at most hourly per account */
	"CREATE TABLE IF NOT EXISTS last_logins(account_id INTEGER PRIMARY KEY, at INTEGER NOT NULL,"
	" proto TEXT NOT NULL, ip TEXT NOT NULL)",
	/* `postamt import` (store_import.c): the keys of what was imported, per target mailbox */
	"CREATE TABLE IF NOT EXISTS import_keys(account_id INTEGER NOT NULL, scope TEXT NOT NULL,"
	" key TEXT NOT NULL, PRIMARY KEY(account_id, scope, key)) WITHOUT ROWID",
	/* change events another process (the CLI) announced for the server (store_import.c) */
	"CREATE TABLE IF NOT EXISTS announced_events(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" at INTEGER NOT NULL, kind INTEGER NOT NULL, account_id INTEGER NOT NULL,"
	" mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL, uid_last INTEGER NOT NULL,"
	" count INTEGER NOT NULL, modseq INTEGER NOT NULL)",
	/* the SHA-256 of each message file (store_backup.h; schema 2) */
	"CREATE TABLE IF NOT EXISTS email_digests(email_id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL)",
	/* SORT and THREAD keys per message (store_sortkey.c; schema 3), one index per
	 * key that `make bench` measures; the others are sorted by SQLite from the table.
	 * The triggers keep the rows with their message through expunge, MOVE, mailbox
	 * removal and the INBOX rename. */
	"CREATE TABLE IF NOT EXISTS msg_keys(mailbox_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" sent INTEGER NOT NULL, arrival INTEGER NOT NULL, size INTEGER NOT NULL, reply INTEGER NOT NULL,"
	" subject TEXT NOT NULL, from_ TEXT NOT NULL, to_ TEXT NOT NULL, cc TEXT NOT NULL,"
	" dfrom TEXT NOT NULL, dto TEXT NOT NULL, msgid TEXT, refs TEXT,"
	" PRIMARY KEY(mailbox_id, uid)) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS msg_keys_sent ON msg_keys(mailbox_id, sent, uid)",
	"CREATE INDEX IF NOT EXISTS msg_keys_subject ON msg_keys(mailbox_id, subject, uid)",
	"CREATE INDEX IF NOT EXISTS msg_keys_from ON msg_keys(mailbox_id, from_, uid)",
	"CREATE INDEX IF NOT EXISTS msg_keys_arrival ON msg_keys(mailbox_id, arrival, uid)",
	"CREATE INDEX IF NOT EXISTS msg_keys_size ON msg_keys(mailbox_id, size, uid)",
	"CREATE TRIGGER IF NOT EXISTS msg_keys_delete AFTER DELETE ON messages BEGIN"
	" DELETE FROM msg_keys WHERE mailbox_id = old.mailbox_id AND uid = old.uid; END",
	"CREATE TRIGGER IF NOT EXISTS msg_keys_move AFTER UPDATE OF mailbox_id, uid ON messages BEGIN"
	" UPDATE msg_keys SET mailbox_id = new.mailbox_id, uid = new.uid"
	" WHERE mailbox_id = old.mailbox_id AND uid = old.uid; END",
	/* the webmail (store_web.c): sessions by token hash, preferences (identities,
	 * settings) as JSON text, contacts for the autocomplete; tables of their own, so
	 * that older databases get them without an ALTER */
	"CREATE TABLE IF NOT EXISTS web_sessions(hash TEXT PRIMARY KEY, account_id INTEGER NOT NULL,"
	" address TEXT NOT NULL, generation INTEGER NOT NULL, created INTEGER NOT NULL,"
	" last_used INTEGER NOT NULL) WITHOUT ROWID",
	"CREATE INDEX IF NOT EXISTS web_sessions_account ON web_sessions(account_id, last_used)",
	"CREATE TABLE IF NOT EXISTS web_prefs(account_id INTEGER NOT NULL, kind INTEGER NOT NULL,"
	" value TEXT NOT NULL, state INTEGER NOT NULL, PRIMARY KEY(account_id, kind)) WITHOUT ROWID",
	"CREATE TABLE IF NOT EXISTS contacts(account_id INTEGER NOT NULL, address TEXT NOT NULL COLLATE NOCASE,"
	" name TEXT, uses INTEGER NOT NULL, last_used INTEGER NOT NULL, PRIMARY KEY(account_id, address))"
	" WITHOUT ROWID",
	/* the senders of personal mail the account received (store_contact_received):
	 * ranked below the addresses it wrote to, and no sign that it knows them */
	"CREATE TABLE IF NOT EXISTS contacts_received(account_id INTEGER NOT NULL,"
	" address TEXT NOT NULL COLLATE NOCASE, name TEXT, received INTEGER NOT NULL,"
	" last_received INTEGER NOT NULL, PRIMARY KEY(account_id, address)) WITHOUT ROWID",
	/* a new database gets the current schema; an older one keeps its row until
	 * store_migrate_in raises it (store_migrate.c) */
	"INSERT OR IGNORE INTO meta(key, value) VALUES('schema', " SCHEMA_STR(STORE_SCHEMA_VERSION) "),"
	" ('uidvalidity', 0)",
};
const size_t store_nschema = sizeof(store_schema) / sizeof(store_schema[0]);

static int mkdir_sync(const char *path, bool *created_r)
{
	*created_r = false;
	if (mkdir(path, 0700) == 0) {
		*created_r = true;
		return 1;
	}
	return errno == EEXIST ? 1 : -1;
}

static int make_dirs(struct store *s, const char **error_r)
{
	bool created, any = false;
	char *dbdir = xasprintf("%s/db", s->dir);
	const char *paths[] = { dbdir, s->blobdir };
	for (size_t i = 0; i < 2; i++) {
		if (mkdir_sync(paths[i], &created) < 0) {
			*error_r = store_set_errorf("cannot create %.150s: %s", paths[i],
				 strerror(errno));
			free(dbdir);
			return STORE_ERR;
		}
		any |= created;
	}
	free(dbdir);
	bool sub_created = false;
	for (int i = 0; i < 256; i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%02x", s->blobdir, i);
		if (mkdir_sync(p, &created) < 0) {
			*error_r = store_set_errorf("cannot create %.150s: %s", p, strerror(errno));
			return STORE_ERR;
		}
		sub_created |= created;
	}
	if ((any || sub_created) && !s->opt.no_fsync) {
		store_fsync_path(s->blobdir);
		store_fsync_path(s->dir);
	}
	return 1;
}

/* Deletes blob files no email row references, and leftover temporary files. */
static void recover_blobs(struct store *s)
{
	struct db *c = store_db_get(s);
	sqlite3_stmt *st = store_db_stmt(c, "SELECT 1 FROM emails WHERE blob = ?");
	for (int i = 0; i < 256 && st != NULL; i++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/%02x", s->blobdir, i);
		DIR *d = opendir(dir);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char name[300];
			snprintf(name, sizeof(name), "%02x%s", i, de->d_name);
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW)
				continue;
			char path[4400];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (unlink(path) == 0) {
				atomic_fetch_add(&s->st_recovered, 1);
				log_info("event=store_recover blob=%s", name);
			}
		}
		closedir(d);
	}
	store_db_put(s, c);
}

/* ------------------------------------------------------------------ open/close */

int store_open(const char *data_dir, const struct store_options *opt, struct store **store_r,
	       const char **error_r)
{
	int fail_code = STORE_ERR;
	struct store_options defaults = { 0 };
	if (opt == NULL)
		opt = &defaults;
	struct stat sb;
	if (stat(data_dir, &sb) < 0) { /* say why: permission denied is not "missing" */
		*error_r = store_set_errorf("%s: %s", data_dir, strerror(errno));
		return STORE_ENOTFOUND;
	}
	if (!S_ISDIR(sb.st_mode)) {
		*error_r = store_set_errorf("%s is not a directory", data_dir);
		return STORE_ENOTFOUND;
	}
	struct store *s = xcalloc(1, sizeof(*s));
	s->opt = *opt;
	if (s->opt.message_max == 0)
		s->opt.message_max = 50u * 1024 * 1024;
	if (s->opt.contacts_received_max == 0)
		s->opt.contacts_received_max = STORE_CONTACTS_RECEIVED_MAX;
	s->dir = xstrdup(data_dir);
	s->dbpath = xasprintf("%s/db/store.sqlite", data_dir);
	s->blobdir = xasprintf("%s/blobs", data_dir);
	pthread_mutex_init(&s->rd_mu, NULL);
	pthread_cond_init(&s->rd_cond, NULL);
	pthread_mutex_init(&s->q_mu, NULL);
	pthread_cond_init(&s->prep_cond, NULL);
	pthread_cond_init(&s->commit_cond, NULL);
	pthread_mutex_init(&s->sub_mu, NULL);
	pthread_mutex_init(&s->wt_mu, NULL);
	store_space_init(s);

	if (!opt->create && stat(s->dbpath, &sb) < 0) {
		*error_r = store_set_errorf("no database at %s (run postamt init)", s->dbpath);
		goto fail;
	}
	if (make_dirs(s, error_r) < 0)
		goto fail;
	s->wc = store_db_open(s, error_r);
	if (s->wc == NULL)
		goto fail;
	int64_t version;
	if (store_schema_read(s->wc, &version, error_r) < 0)
		goto fail;
	if (version > STORE_SCHEMA_VERSION) {
		*error_r = store_set_errorf("the database %s has schema %lld, newer than this postamt's (%d): it was"
					    " written by a later release; run that release (or restore a backup)",
					    s->dbpath, (long long)version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (version != 0 && version < STORE_SCHEMA_VERSION) {
		if (!opt->migrate) {
			*error_r = store_set_errorf("the database has schema %lld and this postamt needs %d: run"
						    " 'postamt upgrade' (or start 'postamt serve', which migrates it)",
						    (long long)version, STORE_SCHEMA_VERSION);
			goto fail;
		}
		log_info("event=store_migrate from=%lld to=%d", (long long)version, STORE_SCHEMA_VERSION);
		if (store_migrate_in(s, s->wc, version, store_schema, store_nschema, true, NULL, NULL, error_r) < 0)
			goto fail;
	} else {
		for (size_t i = 0; i < store_nschema; i++) {
			if (store_db_exec(s->wc, store_schema[i], error_r) < 0)
				goto fail;
		}
	}
	if (store_index_setup(s->wc, error_r) < 0)
		goto fail;
	/* the read pool, opened now so that reads never depend on opening files later */
	for (int i = 0; i < (s->opt.read_conns > 0 ? s->opt.read_conns : 8); i++) {
		struct db *c = store_db_open(s, error_r);
		if (c == NULL)
			goto fail;
		c->next = s->rd_free;
		s->rd_free = c;
		s->rd_count++;
	}
	int pr = opt->postgresql != NULL ? store_pg_open(s, opt->postgresql, error_r) : 1;
	if (pr < 0) {
		fail_code = pr;
		goto fail;
	}
	if (opt->recover)
		recover_blobs(s);
	if (s->opt.watch_ms > 0)
		store_watch_init(s);
	store_reserve_make(s); /* on a full disk the committer tries again later */
	s->npreparers = 2;
	for (int i = 0; i < s->npreparers; i++)
		pthread_create(&s->preparers[i], NULL, store_preparer_main, s);
	pthread_create(&s->committer, NULL, store_committer_main, s);
	*store_r = s;
	return 1;
fail:
	store_pg_close(s);
	if (s->wc != NULL)
		store_db_close(s->wc);
	while (s->rd_free != NULL) {
		struct db *c = s->rd_free;
		s->rd_free = c->next;
		store_db_close(c);
	}
	store_space_destroy(s);
	free(s->dir);
	free(s->dbpath);
	free(s->blobdir);
	free(s);
	return fail_code;
}

void store_close(struct store **sp)
{
	struct store *s = *sp;
	if (s == NULL)
		return;
	*sp = NULL;
	pthread_mutex_lock(&s->q_mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->prep_cond);
	pthread_cond_broadcast(&s->commit_cond);
	pthread_mutex_unlock(&s->q_mu);
	for (int i = 0; i < s->npreparers; i++)
		pthread_join(s->preparers[i], NULL);
	pthread_mutex_lock(&s->q_mu);
	pthread_cond_broadcast(&s->commit_cond);
	pthread_mutex_unlock(&s->q_mu);
	pthread_join(s->committer, NULL);
	store_pg_close(s);
	sqlite3_exec(s->wc->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	store_db_close(s->wc);
	while (s->rd_free != NULL) {
		struct db *c = s->rd_free;
		s->rd_free = c->next;
		store_db_close(c);
	}
	for (int i = 0; i < SUB_BUCKETS; i++) {
		if (s->subs[i].head != NULL)
			log_warn("event=store_close problem=subscriptions_left");
	}
	pthread_mutex_destroy(&s->rd_mu);
	pthread_cond_destroy(&s->rd_cond);
	pthread_mutex_destroy(&s->q_mu);
	pthread_cond_destroy(&s->prep_cond);
	pthread_cond_destroy(&s->commit_cond);
	pthread_mutex_destroy(&s->sub_mu);
	pthread_mutex_destroy(&s->wt_mu);
	store_space_destroy(s);
	free(s->dir);
	free(s->dbpath);
	free(s->blobdir);
	free(s);
}

/* ------------------------------------------------------------------ ids, stats */

static void id_format(char kind, int64_t id, char out[24])
{
	static const char digits[] = "abcdefghijklmnopqrstuvwxyz234567";
	char tmp[16];
	int n = 0;
	uint64_t v = (uint64_t)id;
	do {
		tmp[n++] = digits[v & 31];
		v >>= 5;
	} while (v != 0 && n < 15);
	out[0] = kind;
	for (int i = 0; i < n; i++)
		out[1 + i] = tmp[n - 1 - i];
	out[1 + n] = '\0';
}

void store_id_mailbox(int64_t id, char out[24])
{
	id_format('M', id, out);
}

void store_id_email(int64_t id, char out[24])
{
	id_format('E', id, out);
}

void store_id_thread(int64_t id, char out[24])
{
	id_format('T', id, out);
}

int store_id_parse(const char *s, char kind, int64_t *id_r)
{
	if (s == NULL || s[0] != kind || s[1] == '\0' || strlen(s) > 14)
		return 0;
	uint64_t v = 0;
	for (const char *p = s + 1; *p != '\0'; p++) {
		int d;
		if (*p >= 'a' && *p <= 'z')
			d = *p - 'a';
		else if (*p >= '2' && *p <= '7')
			d = *p - '2' + 26;
		else
			return 0;
		v = (v << 5) | (uint64_t)d;
	}
	if (v == 0 || v > INT64_MAX || (s[1] == 'a' && s[2] != '\0'))
		return 0;
	*id_r = (int64_t)v;
	return 1;
}

void store_get_stats(struct store *s, struct store_stats *st_r)
{
	st_r->commits = atomic_load(&s->st_commits);
	st_r->ops = atomic_load(&s->st_ops);
	st_r->fsyncs = atomic_load(&s->st_fsyncs);
	st_r->blobs_recovered = atomic_load(&s->st_recovered);
}

int store_check(struct store *s, const char **error_r)
{
	struct db *c = store_db_get(s);
	int ret = 1;
	sqlite3_stmt *st = store_db_stmt(c, "PRAGMA integrity_check");
	if (st == NULL || sqlite3_step(st) != SQLITE_ROW) {
		ret = store_db_fail(c, "integrity_check", error_r);
		goto out;
	}
	const char *res = (const char *)sqlite3_column_text(st, 0);
	if (res == NULL || strcmp(res, "ok") != 0) {
		*error_r = store_set_errorf("integrity_check: %s", res ? res : "?");
		ret = -1;
		goto out;
	}
	st = store_db_stmt(c, "SELECT a.address, a.usage, a.messages,"
			  " (SELECT COALESCE(SUM(size),0) FROM messages m WHERE m.account_id = a.id),"
			  " (SELECT COUNT(*) FROM messages m WHERE m.account_id = a.id)"
			  " FROM accounts a");
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 1) != sqlite3_column_int64(st, 3) ||
		    sqlite3_column_int64(st, 2) != sqlite3_column_int64(st, 4)) {
			*error_r = store_set_errorf("usage of %s is %lld, messages sum %lld",
				 sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
				 (long long)sqlite3_column_int64(st, 3));
			ret = -1;
			goto out;
		}
	}
	st = store_db_stmt(c, "SELECT mb.name, mb.messages, mb.unseen, mb.size,"
			  " (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mb.id),"
			  " (SELECT COUNT(*) FROM messages m WHERE m.mailbox_id = mb.id AND (m.flags & 1) = 0),"
			  " (SELECT COALESCE(SUM(size),0) FROM messages m WHERE m.mailbox_id = mb.id)"
			  " FROM mailboxes mb");
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 1) != sqlite3_column_int64(st, 4) ||
		    sqlite3_column_int64(st, 2) != sqlite3_column_int64(st, 5) ||
		    sqlite3_column_int64(st, 3) != sqlite3_column_int64(st, 6)) {
			*error_r = store_set_errorf("counters of mailbox %s are wrong",
				 sqlite3_column_text(st, 0));
			ret = -1;
			goto out;
		}
	}
out:
	store_db_put(s, c);
	return ret;
}
