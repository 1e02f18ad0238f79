/* store_verify.c: `postamt verify [--repair]` (store_verify in store_backup.h).
 *
 * Everything is read in one transaction on a connection of its own (BEGIN IMMEDIATE
 * with repair, so the repairs land in the same one): the message files against the
 * email rows (present, size, SHA-256 recorded at delivery), email rows that no message
 * and no pending junk filter lesson keeps (a lesson keeps its message on purpose,
 * store_lesson.c), files no row names, the mailbox and account counters, and UIDs
 * against UIDNEXT. Repairs never delete mail: orphan files and the files of orphan
 * rows move to DIR/lost+found/ (after the COMMIT), counters are recounted, UIDNEXT is
 * raised. */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct verify {
	struct store *s;
	struct db *c;
	bool repair;
	store_report_fn *fn;
	void *arg;
	struct store_verify_result *r;
	char **move; /* blob names to move to lost+found after the commit (malloc'd) */
	size_t nmove, capmove;
};

static void say(struct verify *v, bool problem, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct verify *v, bool problem, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (problem)
		v->r->problems++;
	v->fn(v->arg, line);
}

static void fixed(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fixed(struct verify *v, const char *fmt, ...)
{
	char line[1024] = "repaired: ";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line + 10, sizeof(line) - 10, fmt, ap);
	va_end(ap);
	v->r->repaired++;
	v->fn(v->arg, line);
}

static void move_later(struct verify *v, const char *blob)
{
	if (v->nmove == v->capmove) {
		v->capmove = v->capmove ? v->capmove * 2 : 16;
		v->move = xrealloc(v->move, v->capmove * sizeof(*v->move));
	}
	v->move[v->nmove++] = xstrdup(blob);
}

/* Where the first message that shows an email is: "addr mailbox UID n". */
static void where(struct verify *v, int64_t email_id, char *out, size_t outlen)
{
	sqlite3_stmt *st = store_db_stmt(v->c, "SELECT a.address, mb.name, m.uid FROM messages m"
					       " JOIN mailboxes mb ON mb.id = m.mailbox_id"
					       " JOIN accounts a ON a.id = m.account_id WHERE m.email_id = ?"
					       " ORDER BY m.mailbox_id, m.uid LIMIT 1");
	sqlite3_bind_int64(st, 1, email_id);
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, outlen, "%s %s UID %lld", sqlite3_column_text(st, 0), sqlite3_column_text(st, 1),
			 (long long)sqlite3_column_int64(st, 2));
	else
		snprintf(out, outlen, "in no mailbox");
	if (st != NULL)
		sqlite3_reset(st);
}

/* Every email row: its file, and whether anything keeps it. */
static int check_emails(struct verify *v)
{
	sqlite3_stmt *st = store_db_stmt(v->c, "SELECT e.id, e.blob, e.size, d.sha256,"
					       " EXISTS(SELECT 1 FROM messages m WHERE m.email_id = e.id),"
					       " EXISTS(SELECT 1 FROM junk_lessons l WHERE l.email_id = e.id)"
					       " FROM emails e LEFT JOIN email_digests d ON d.email_id = e.id"
					       " ORDER BY e.id");
	if (st == NULL)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *blob = (const char *)sqlite3_column_text(st, 1);
		uint64_t size = (uint64_t)sqlite3_column_int64(st, 2);
		const char *want = (const char *)sqlite3_column_text(st, 3);
		bool shown = sqlite3_column_int(st, 4) != 0, pinned = sqlite3_column_int(st, 5) != 0;
		char *path = store_blob_path(v->s, blob);
		char hex[65], at[512];
		uint64_t got;
		int r = store_file_sha256(path, hex, &got);
		free(path);
		where(v, id, at, sizeof(at));
		char rel[64];
		snprintf(rel, sizeof(rel), "blobs/%.2s/%s", blob, blob + 2);
		if (r == 0)
			say(v, true, "missing message file %s (%s)", rel, at);
		else if (r < 0)
			say(v, true, "cannot read message file %s (%s): %s", rel, at, strerror(errno));
		else if (got != size)
			say(v, true, "message file %s has %llu bytes, the database says %llu (%s)", rel,
			    (unsigned long long)got, (unsigned long long)size, at);
		else if (want != NULL && strcmp(want, hex) != 0)
			say(v, true,
			    "message file %s is damaged: its SHA-256 differs from the one recorded at delivery (%s)",
			    rel, at);
		if (!shown && !pinned) {
			say(v, true, "orphan message: email %lld (file %s) is in no mailbox", (long long)id, rel);
			if (v->repair) {
				static const char *const del[] = { "DELETE FROM email_digests WHERE email_id = ?",
								   "DELETE FROM junk_marks WHERE email_id = ?",
								   "DELETE FROM emails WHERE id = ?" };
				for (size_t i = 0; i < 3; i++) {
					sqlite3_stmt *d = store_db_stmt(v->c, del[i]);
					const char *err;
					sqlite3_bind_int64(d, 1, id);
					if (store_step_done(v->c, d, &err) < 0) {
						sqlite3_reset(st);
						return -1;
					}
				}
				if (r > 0)
					move_later(v, blob);
				fixed(v, "email %lld removed from the database%s", (long long)id,
				      r > 0 ? "; its file goes to lost+found" : "");
			}
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 1 : -1;
}

/* True when blob is on its way to lost+found already (the file of an orphan row
 * that --repair removed a moment ago: one problem, not two). */
static bool moving(const struct verify *v, const char *blob)
{
	for (size_t i = 0; i < v->nmove; i++)
		if (strcmp(v->move[i], blob) == 0)
			return true;
	return false;
}

/* Files under DIR/blobs that no email row names. */
static int check_files(struct verify *v)
{
	sqlite3_stmt *st = store_db_stmt(v->c, "SELECT 1 FROM emails WHERE blob = ?");
	if (st == NULL)
		return -1;
	for (int i = 0; i < 256; i++) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/%02x", v->s->blobdir, i);
		DIR *d = opendir(dir);
		if (d == NULL)
			continue;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			char name[300];
			snprintf(name, sizeof(name), "%02x%s", i, de->d_name);
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW || moving(v, name))
				continue;
			say(v, true, "orphan file blobs/%02x/%s: no message refers to it", i, de->d_name);
			if (v->repair) {
				move_later(v, name);
				fixed(v, "blobs/%02x/%s goes to lost+found", i, de->d_name);
			}
		}
		closedir(d);
	}
	sqlite3_reset(st);
	return 1;
}

static int exec_bind2(struct verify *v, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *st = store_db_stmt(v->c, sql);
	const char *err;
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	return store_step_done(v->c, st, &err);
}

static int check_counters(struct verify *v)
{
	/* mailboxes: counters and UIDNEXT */
	sqlite3_stmt *st = store_db_stmt(
		v->c, "SELECT mb.id, a.address, mb.name, mb.messages, mb.unseen, mb.deleted, mb.size, mb.uidnext,"
		      " COUNT(m.uid), COALESCE(SUM((m.flags & 1) = 0), 0), COALESCE(SUM((m.flags & 8) != 0), 0),"
		      " COALESCE(SUM(m.size), 0), COALESCE(MAX(m.uid), 0)"
		      " FROM mailboxes mb JOIN accounts a ON a.id = mb.account_id"
		      " LEFT JOIN messages m ON m.mailbox_id = mb.id GROUP BY mb.id ORDER BY mb.id");
	if (st == NULL)
		return -1;
	static const char *const names[] = { "messages", "unseen", "deleted", "size" };
	static const char *const fix[] = { "UPDATE mailboxes SET messages = ? WHERE id = ?",
					   "UPDATE mailboxes SET unseen = ? WHERE id = ?",
					   "UPDATE mailboxes SET deleted = ? WHERE id = ?",
					   "UPDATE mailboxes SET size = ? WHERE id = ?" };
	struct fixrow {
		int64_t id, value;
		int what; /* 0..3 a counter, 4 uidnext */
	} *fixes = NULL;
	size_t nfix = 0, capfix = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *addr = (const char *)sqlite3_column_text(st, 1);
		const char *name = (const char *)sqlite3_column_text(st, 2);
		for (int k = 0; k < 5; k++) {
			int64_t have = sqlite3_column_int64(st, 3 + (k < 4 ? k : 4));
			int64_t want = k < 4 ? sqlite3_column_int64(st, 8 + k) : sqlite3_column_int64(st, 12);
			if (k < 4 && have != want)
				say(v, true, "mailbox %s %s: %s counter is %lld, the messages add up to %lld", addr,
				    name, names[k], (long long)have, (long long)want);
			else if (k == 4 && want >= have)
				say(v, true, "mailbox %s %s: UID %lld is not below UIDNEXT %lld", addr, name,
				    (long long)want, (long long)have);
			else
				continue;
			if (v->repair) {
				if (nfix == capfix) {
					capfix = capfix ? capfix * 2 : 16;
					fixes = xrealloc(fixes, capfix * sizeof(*fixes));
				}
				fixes[nfix++] = (struct fixrow){ id, k < 4 ? want : want + 1, k };
				if (k < 4)
					fixed(v, "mailbox %s %s: %s set to %lld", addr, name, names[k],
					      (long long)want);
				else
					fixed(v, "mailbox %s %s: UIDNEXT raised to %lld", addr, name,
					      (long long)want + 1);
			}
		}
	}
	sqlite3_reset(st);
	int ret = rc == SQLITE_DONE ? 1 : -1;
	for (size_t i = 0; i < nfix && ret > 0; i++)
		ret = exec_bind2(
			v, fixes[i].what < 4 ? fix[fixes[i].what] : "UPDATE mailboxes SET uidnext = ? WHERE id = ?",
			fixes[i].value, fixes[i].id);
	free(fixes);
	if (ret < 0)
		return -1;

	/* a message's size is its email's */
	st = store_db_stmt(v->c, "SELECT a.address, mb.name, m.uid, m.size, e.size FROM messages m"
				 " JOIN emails e ON e.id = m.email_id JOIN mailboxes mb ON mb.id = m.mailbox_id"
				 " JOIN accounts a ON a.id = m.account_id WHERE m.size != e.size");
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		say(v, true, "%s %s UID %lld: size %lld differs from its message's %lld", sqlite3_column_text(st, 0),
		    sqlite3_column_text(st, 1), (long long)sqlite3_column_int64(st, 2),
		    (long long)sqlite3_column_int64(st, 3), (long long)sqlite3_column_int64(st, 4));
	if (st != NULL)
		sqlite3_reset(st);
	st = store_db_stmt(v->c, "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS"
				 " (SELECT 1 FROM emails e WHERE e.id = m.email_id)");
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		say(v, true, "%lld messages refer to no email row", (long long)sqlite3_column_int64(st, 0));
	if (st != NULL)
		sqlite3_reset(st);

	/* accounts: usage (the quota's measure) and messages */
	st = store_db_stmt(v->c,
			   "SELECT a.id, a.address, a.usage, a.messages, COALESCE(SUM(m.size), 0), COUNT(m.uid)"
			   " FROM accounts a LEFT JOIN messages m ON m.account_id = a.id GROUP BY a.id ORDER BY a.id");
	if (st == NULL)
		return -1;
	struct acct {
		int64_t id, usage, messages;
	} *acc = NULL;
	size_t nacc = 0, capacc = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 1);
		int64_t usage = sqlite3_column_int64(st, 2), msgs = sqlite3_column_int64(st, 3);
		int64_t sum = sqlite3_column_int64(st, 4), count = sqlite3_column_int64(st, 5);
		if (usage == sum && msgs == count)
			continue;
		if (usage != sum)
			say(v, true, "account %s: usage is %lld bytes, its messages add up to %lld", addr,
			    (long long)usage, (long long)sum);
		if (msgs != count)
			say(v, true, "account %s: message count is %lld, it has %lld", addr, (long long)msgs,
			    (long long)count);
		if (v->repair) {
			if (nacc == capacc) {
				capacc = capacc ? capacc * 2 : 16;
				acc = xrealloc(acc, capacc * sizeof(*acc));
			}
			acc[nacc++] = (struct acct){ sqlite3_column_int64(st, 0), sum, count };
			if (usage != sum)
				fixed(v, "account %s: usage set to %lld bytes", addr, (long long)sum);
			if (msgs != count)
				fixed(v, "account %s: message count set to %lld", addr, (long long)count);
		}
	}
	sqlite3_reset(st);
	ret = rc == SQLITE_DONE ? 1 : -1;
	for (size_t i = 0; i < nacc && ret > 0; i++) {
		ret = exec_bind2(v, "UPDATE accounts SET usage = ? WHERE id = ?", acc[i].usage, acc[i].id);
		if (ret > 0)
			ret = exec_bind2(v, "UPDATE accounts SET messages = ? WHERE id = ?", acc[i].messages,
					 acc[i].id);
	}
	free(acc);
	return ret;
}

/* Moves the collected files to DIR/lost+found/NAME (after the commit). */
static void move_files(struct verify *v)
{
	if (v->nmove == 0)
		return;
	char *lf = xasprintf("%s/lost+found", v->s->dir);
	if (mkdir(lf, 0700) < 0 && errno != EEXIST)
		say(v, true, "cannot create %s: %s", lf, strerror(errno));
	for (size_t i = 0; i < v->nmove; i++) {
		char *from = store_blob_path(v->s, v->move[i]);
		char *to = xasprintf("%s/%s", lf, v->move[i]);
		if (rename(from, to) < 0)
			say(v, true, "cannot move %s to %s: %s", from, to, strerror(errno));
		free(from);
		free(to);
		free(v->move[i]);
	}
	store_fsync_path(lf);
	store_fsync_path(v->s->blobdir);
	free(lf);
	v->nmove = 0;
}

int store_verify(struct store *s, bool repair, store_report_fn *fn, void *arg, struct store_verify_result *r,
		 const char **error_r)
{
	memset(r, 0, sizeof(*r));
	struct verify v = { .s = s, .repair = repair, .fn = fn, .arg = arg, .r = r };
	v.c = store_db_open(s, error_r);
	if (v.c == NULL)
		return STORE_ERR;
	int ret = STORE_ERR;
	if (store_db_exec(v.c, repair ? "BEGIN IMMEDIATE" : "BEGIN", error_r) < 0)
		goto out;
	sqlite3_stmt *st = store_db_stmt(v.c, "PRAGMA integrity_check");
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		const char *res = (const char *)sqlite3_column_text(st, 0);
		if (res == NULL || strcmp(res, "ok") != 0)
			say(&v, true, "database: %s", res != NULL ? res : "integrity check failed");
	}
	if (st != NULL)
		sqlite3_reset(st);
	if (check_emails(&v) < 0 || check_files(&v) < 0 || check_counters(&v) < 0) {
		store_db_fail(v.c, "verify", error_r);
		const char *ignored;
		store_db_exec(v.c, "ROLLBACK", &ignored);
		goto out;
	}
	if (store_db_exec(v.c, "COMMIT", error_r) < 0)
		goto out;
	move_files(&v);
	ret = 1;
out:
	for (size_t i = 0; i < v.nmove; i++)
		free(v.move[i]);
	free(v.move);
	store_db_close(v.c);
	return ret;
}
