/* store_deliver.c: new messages: SMTP delivery to many accounts, and IMAP APPEND.
 *
 * Both are two-step ops (store_int.h). The prepare step, on a preparer thread,
 * normalises line endings to CRLF, for a delivery puts the envelope sender's
 * Return-Path first (RFC 5321 §4.4, one place for every path that delivers locally),
 * parses the message once (mail_parse), and writes
 * the blob: a new file under DIR/blobs/xx/ with a random name. The committer then
 * fsyncs the batch's blob files and their directories before its transaction, so a
 * blob is durable before any committed row points at it. The apply
 * step, in the committer's group transaction, inserts the email row (the parsed
 * metadata, shared by every copy of the message) and one message row per target
 * mailbox, each in its own SAVEPOINT so that one account over quota does not stop
 * the delivery to the others. A rolled-back or failed op gets its blob unlinked by
 * the committer. */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mail.h"
#include "textfmt.h"

/* ------------------------------------------------------------------ prepare */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Normalises, parses and writes one message. return_path: the envelope sender of a
 * final delivery ("" for the null sender), or NULL for APPEND and import. raw: keep
 * the bytes as they are (an IMAP BINARY literal8, RFC 3516 §4.4: a bare LF in binary
 * content is data); otherwise line ends become CRLF. */
static int prepare_message(struct store *s, struct store_op *op, const char *data, size_t len,
			   const char *return_path, bool raw)
{
	if (data == NULL && len > 0)
		return store_op_fail(op, STORE_EINVAL, "no message data");
	if (data == NULL)
		data = "";
	if (len > s->opt.message_max)
		return store_op_fail(op, STORE_ETOOBIG, "message too large (%zu bytes; the limit is %llu)", len,
			       (unsigned long long)s->opt.message_max);
	const char *err;
	if (store_space_check(s, len, &err) < 0) /* limits.disk_reserve */
		return store_op_fail(op, STORE_ENOSPACE, "%s", err);
	if (raw) {
		op->data = xmalloc(len + 1);
		memcpy(op->data, data, len);
		op->data[len] = '\0';
		op->len = len;
	} else {
		op->len = mail_normalize_crlf(data, len, &op->data);
	}
	if (return_path != NULL) {
		char *with;
		op->len = mail_set_return_path(return_path, op->data, op->len, &with);
		free(op->data);
		op->data = with;
	}
	if (op->len > s->opt.message_max)
		return store_op_fail(op, STORE_ETOOBIG, "message too large");
	op->parsed = mail_parse(op->tmp, op->data, op->len);
	if (s->pg_conninfo != NULL)
		return 1; /* PostgreSQL: the body goes into the apply's transaction (put_chunks) */

	unsigned char rnd[16];
	size_t got = 0;
	while (got < sizeof(rnd)) {
		ssize_t r = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (r < 0 && errno != EINTR)
			return store_op_fail(op, STORE_ERR, "no randomness: %s", strerror(errno));
		if (r > 0)
			got += (size_t)r;
	}
	char name[33];
	textfmt_hex(rnd, sizeof(rnd), name, sizeof(name));
	char *path = store_blob_path(s, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		free(path);
		return store_op_fail(op, store_errno_full(e) ? STORE_ENOSPACE : STORE_ERR, "cannot create a message file: %s",
			       strerror(e));
	}
	op->blob = xstrdup(name); /* from now on a failure unlinks it */
	op->blob_fd = fd;         /* the committer fsyncs it with the rest of its batch */
	if (write_all(fd, op->data, op->len) < 0) {
		int e = errno;
		free(path);
		return store_op_fail(op, store_errno_full(e) ? STORE_ENOSPACE : STORE_ERR, "cannot write a message file: %s",
			       strerror(e));
	}
	free(path);
	char *hex = arena_alloc(op->tmp, 65);
	store_sha256_hex(op->data, op->len, hex);
	op->digest = hex;
	return 1;
}

/* ------------------------------------------------------------------ apply helpers */

/* PostgreSQL: the body as rows of STORE_PG_CHUNK bytes in the apply's transaction, so
 * that a rolled-back op leaves nothing behind. 1 or store_op_fail's code. */
static int put_chunks(struct store_op *op, int64_t email_id)
{
	struct sql_stmt *st = sql_prepare(op->q, "INSERT INTO message_chunks(email_id, seq, data) VALUES(?, ?, ?)");
	for (size_t off = 0, seq = 0; off < op->len; off += STORE_PG_CHUNK, seq++) {
		size_t n = op->len - off < STORE_PG_CHUNK ? op->len - off : STORE_PG_CHUNK;
		if (st != NULL) {
			sql_bind_int64(st, 1, email_id);
			sql_bind_int64(st, 2, (int64_t)seq);
			sql_bind_blob(st, 3, op->data + off, n);
		}
		if (store_op_step(op, st, "insert chunk") < 0)
			return op->result;
	}
	return 1;
}

/* The email row (and on PostgreSQL its body); c: the SQLite committer's connection for
 * what only SQLite has (the full-text index's queue, the digests), NULL on PostgreSQL. */
static int64_t insert_email(struct store_op *op, struct db *c)
{
	const struct mail_info *mi = op->parsed;
	struct sql_stmt *st = sql_prepare(op->q, "INSERT INTO emails(blob, size, header_size, date, date_tz,"
					  " subject, from_, to_, cc, bcc, reply_to, sender, message_id,"
					  " in_reply_to, refs, envelope, bodystructure, body, parts, preview,"
					  " has_attachment) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id");
	if (st == NULL) {
		store_op_sql_fail(op, SQL_ERR, "insert email");
		return -1;
	}
	int i = 1;
	sql_bind_text(st, i++, op->blob);
	sql_bind_int64(st, i++, (int64_t)mi->size);
	sql_bind_int64(st, i++, (int64_t)mi->header_len);
	sql_bind_int64(st, i++, mi->date);
	sql_bind_int64(st, i++, mi->date_tz);
	sql_bind_text(st, i++, mi->subject);
	sql_bind_text(st, i++, mi->from);
	sql_bind_text(st, i++, mi->to);
	sql_bind_text(st, i++, mi->cc);
	sql_bind_text(st, i++, mi->bcc);
	sql_bind_text(st, i++, mi->reply_to);
	sql_bind_text(st, i++, mi->sender);
	sql_bind_text(st, i++, mi->message_id);
	sql_bind_text(st, i++, mi->in_reply_to);
	sql_bind_text(st, i++, mi->references);
	sql_bind_text(st, i++, mi->envelope);
	sql_bind_text(st, i++, mi->bodystructure);
	sql_bind_text(st, i++, mi->body);
	sql_bind_text(st, i++, mail_parts_encode(op->tmp, mi->parts, mi->nparts));
	sql_bind_text(st, i++, mi->preview);
	sql_bind_int64(st, i++, mi->has_attachment);
	int rc = sql_step(st);
	int64_t id = rc == SQL_ROW ? sql_col_int64(st, 0) : 0;
	if (rc == SQL_ROW)
		rc = sql_step(st);
	sql_reset(st);
	if (rc < 0) {
		store_op_sql_fail(op, rc, "insert email");
		return -1;
	}
	if (c == NULL)
		return put_chunks(op, id) < 0 ? -1 : id;
	if (store_index_defer(op, c, id) < 0) /* same transaction: searched from its file until indexed */
		return -1;
	if (op->digest != NULL) { /* for postamt verify and backups (store_backup.h) */
		st = sql_prepare(op->q, "INSERT INTO email_digests(email_id, sha256) VALUES(?, ?)");
		if (st != NULL) {
			sql_bind_int64(st, 1, id);
			sql_bind_text(st, 2, op->digest);
		}
		if (store_op_step(op, st, "insert digest") < 0)
			return -1;
	}
	return id;
}

/* The thread of a new message in an account: that of any message it references (or
 * that shares its Message-ID), else a new thread named after the email. Records the
 * ids so later replies find the thread. */
static int64_t thread_for(struct store_op *op, int64_t account_id, int64_t email_id)
{
	const struct mail_info *mi = op->parsed;
	const char **own = mail_msgids(op->tmp, mi->message_id, 1);
	const char **irt = mail_msgids(op->tmp, mi->in_reply_to, 4);
	const char **refs = mail_msgids(op->tmp, mi->references, 64);
	const char **lists[3] = { irt, refs, own };
	int64_t thread = 0;
	struct sql_stmt *st = sql_prepare(op->q, "SELECT thread_id FROM msgids WHERE account_id = ? AND msgid = ?");
	for (int l = 0; st != NULL && l < 3 && thread == 0; l++) {
		for (size_t i = 0; lists[l][i] != NULL && thread == 0; i++) {
			sql_bind_int64(st, 1, account_id);
			sql_bind_text(st, 2, lists[l][i]);
			if (sql_step(st) == SQL_ROW)
				thread = sql_col_int64(st, 0);
			sql_reset(st);
		}
	}
	if (thread == 0)
		thread = email_id;
	struct sql_stmt *ins = sql_prepare(op->q, "INSERT OR IGNORE INTO msgids(account_id, msgid, thread_id)"
					   " VALUES(?, ?, ?)");
	for (int l = 0; ins != NULL && l < 3; l++) {
		for (size_t i = 0; lists[l][i] != NULL; i++) {
			sql_bind_int64(ins, 1, account_id);
			sql_bind_text(ins, 2, lists[l][i]);
			sql_bind_int64(ins, 3, thread);
			sql_step_done(ins);
		}
	}
	return thread;
}

/* Inserts one message row for an account into a mailbox; charges quota. */
static int add_to_mailbox(struct store_op *op, struct db *c, int64_t account_id,
			  int64_t mailbox_id, int64_t email_id, unsigned int flags,
			  const char *keywords, int64_t idate, int itz, uint32_t *uid_r)
{
	if (store_acct_charge(op, account_id, (int64_t)op->len, 1, true) < 0)
		return op->result;
	uint64_t modseq = store_acct_next_modseq(op->q, account_id);
	struct msg_row row = {
		.email_id = email_id, .thread_id = thread_for(op, account_id, email_id),
		.flags = flags & STORE_F_ALL, .keywords = keywords, .size = op->len,
		.internal_date = idate ? idate : (int64_t)time(NULL), .internal_tz = itz,
	};
	if (store_msg_insert(op, c, account_id, mailbox_id, &row, modseq) < 0)
		return op->result;
	store_op_event(op, STORE_EV_NEW, account_id, mailbox_id, row.uid, row.uid, 1, modseq);
	*uid_r = row.uid;
	return 1;
}

static int64_t mailbox_for(struct sql_conn *q, int64_t account_id, const char *name)
{
	struct sql_stmt *st = sql_prepare(q, "SELECT id FROM mailboxes WHERE account_id = ? AND name = ?");
	int64_t id = 0;
	for (int i = 0; st != NULL && i < 2 && id == 0; i++) {
		const char *n = i == 0 ? name : "INBOX";
		if (n == NULL)
			continue;
		sql_bind_int64(st, 1, account_id);
		sql_bind_text(st, 2, n);
		if (sql_step(st) == SQL_ROW)
			id = sql_col_int64(st, 0);
		sql_reset(st);
	}
	return id;
}

/* The SQLite committer's connection for an apply (what only SQLite has: sort keys,
 * the index, lessons, contacts), NULL when op->q is PostgreSQL. */
static struct db *sqlite_only(struct store *s, struct store_op *op)
{
	return sql_engine(op->q) == SQL_SQLITE ? s->wc : NULL;
}

/* ------------------------------------------------------------------ deliver */

static bool has_junk_keyword(const char *const *keywords)
{
	for (size_t i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		if (strcasecmp(keywords[i], "$Junk") == 0)
			return true;
	}
	return false;
}

static int prepare_deliver(struct store *s, struct store_op *op)
{
	struct store_delivery *d = op->req;
	if (d->naccounts == 0 || d->accounts == NULL)
		return store_op_fail(op, STORE_EINVAL, "no recipients");
	/* RFC 5321 §4.4: this is the final delivery, whatever path the message took
	 * (port 25, submission, JMAP, a bounce): it gets the one Return-Path */
	int r = prepare_message(s, op, d->data, d->len, d->return_path, false);
	/* who personal mail is from, for the contacts: found here, off the committer,
	 * which then has one UPSERT per recipient (a bounce, with the null sender, is
	 * nobody's contact) */
	if (r > 0 && d->return_path != NULL && d->return_path[0] != '\0' && !has_junk_keyword(d->keywords) &&
	    mail_personal_sender(op->tmp, op->data, op->len, &op->sender, &op->sender_name) <= 0)
		op->sender = op->sender_name = NULL;
	return r;
}

static int apply_deliver(struct store *s, struct store_op *op)
{
	struct store_delivery *d = op->req;
	struct db *c = sqlite_only(s, op);
	int64_t email_id = insert_email(op, c);
	if (email_id < 0)
		return op->result;
	size_t ok = 0;
	int first_err = 0;
	const char *err, *kw = "";
	char first_msg[sizeof(op->errbuf)] = "";
	if (d->keywords != NULL && store_keywords_join(op->tmp, d->keywords, &kw, &err) < 0)
		return store_op_fail(op, STORE_EINVAL, "%s", err);
	for (size_t i = 0; i < d->naccounts; i++) {
		int r;
		uint32_t uid = 0;
		size_t nev = op->nevents;
		sql_exec(op->q, "SAVEPOINT rcpt");
		int64_t mb = mailbox_for(op->q, d->accounts[i], d->mailbox);
		if (mb <= 0)
			r = store_op_fail(op, STORE_ENOTFOUND, "no such account");
		else
			r = add_to_mailbox(op, c, d->accounts[i], mb, email_id, d->flags & STORE_F_ALL, kw,
					   d->internal_date,
					   0, &uid);
		if (r < 0) {
			sql_exec(op->q, "ROLLBACK TO rcpt");
			op->nevents = nev;
			if (first_err == 0) {
				first_err = r;
				snprintf(first_msg, sizeof(first_msg), "%s", op->error ? op->error : "error");
			}
		} else {
			ok++;
			/* the sender becomes a contact in the same transaction; a failure
			 * costs a suggestion, never the message */
			if (op->sender != NULL)
				store_contact_received(op->q, d->accounts[i], mb, op->sender, op->sender_name, (int64_t)time(NULL),
						       s->opt.contacts_received_max);
		}
		sql_exec(op->q, "RELEASE rcpt");
		if (d->results)
			d->results[i] = r < 0 ? r : 1;
		if (d->uids)
			d->uids[i] = uid;
	}
	if (ok == 0) {
		return store_op_fail(op, first_err ? first_err : STORE_ERR, "%s", first_msg);
	}
	op->error = NULL;
	return ok == d->naccounts ? 1 : 0;
}

int store_deliver_ready(const struct store *s, const char **error_r)
{
	(void)s;
	(void)error_r;
	return 0; /* both backends store messages */
}

static struct store_op *deliver_op(struct store_delivery *d)
{
	struct store_op *op = store_op_new(prepare_deliver, apply_deliver, NULL, d, NULL);
	op->sql_ready = true; /* the apply uses op->q (and SQLite's extras only there) */
	for (size_t i = 0; d->accounts != NULL && i < d->naccounts; i++) {
		if (d->accounts[i] > 0)
			store_op_lock(op, d->accounts[i]);
	}
	return op;
}

int store_deliver(struct store *s, struct store_delivery *d, const char **error_r)
{
	return store_op_run(s, deliver_op(d), error_r);
}

void store_deliver_async(struct store *s, struct store_delivery *d, struct loop *loop,
			 store_done_fn *done, void *arg)
{
	store_op_submit_async(s, deliver_op(d), loop, done, arg);
}

/* ------------------------------------------------------------------ append */

static int prepare_append(struct store *s, struct store_op *op)
{
	struct store_append *ap = op->req;
	const char *kw, *err;
	if (store_keywords_join(op->tmp, ap->keywords, &kw, &err) < 0)
		return store_op_fail(op, STORE_EINVAL, "%s", err);
	if ((ap->flags & ~(unsigned)STORE_F_ALL) != 0)
		return store_op_fail(op, STORE_EINVAL, "invalid flags");
	if (ap->internal_tz < -24 * 60 || ap->internal_tz > 24 * 60)
		return store_op_fail(op, STORE_EINVAL, "invalid time zone");
	return prepare_message(s, op, ap->data, ap->len, NULL, ap->raw);
}

static int apply_append(struct store *s, struct store_op *op)
{
	struct store_append *ap = op->req;
	struct db *c = sqlite_only(s, op);
	if (store_mbox_owned(op->q, ap->account_id, ap->mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	const char *kw, *err;
	if (store_keywords_join(op->tmp, ap->keywords, &kw, &err) < 0)
		return store_op_fail(op, STORE_EINVAL, "%s", err);
	int64_t email_id = insert_email(op, c);
	if (email_id < 0)
		return op->result;
	uint32_t uid;
	int r = add_to_mailbox(op, c, ap->account_id, ap->mailbox_id, email_id, ap->flags, kw,
			       ap->internal_date, ap->internal_tz, &uid);
	if (r < 0)
		return r;
	if (store_lesson_append(op, ap->account_id, ap->mailbox_id, email_id, kw) < 0)
		return op->result;
	ap->uid = uid;
	ap->email_id = email_id;
	struct sql_stmt *st = sql_prepare(op->q, "SELECT uidvalidity FROM mailboxes WHERE id = ?");
	if (st != NULL) {
		sql_bind_int64(st, 1, ap->mailbox_id);
		if (sql_step(st) == SQL_ROW)
			ap->uidvalidity = (uint32_t)sql_col_int64(st, 0);
		sql_reset(st);
	}
	return 1;
}

static struct store_op *append_op(struct store_append *ap)
{
	struct store_op *op = store_op_new(prepare_append, apply_append, NULL, ap, NULL);
	op->sql_ready = true;
	if (ap->account_id > 0)
		store_op_lock(op, ap->account_id);
	return op;
}

int store_append(struct store *s, struct store_append *ap, const char **error_r)
{
	return store_op_run(s, append_op(ap), error_r);
}

void store_append_async(struct store *s, struct store_append *ap, struct loop *loop,
			store_done_fn *done, void *arg)
{
	store_op_submit_async(s, append_op(ap), loop, done, arg);
}

/* ------------------------------------------------------------------ append many */

/* What prepare_message produced for one message of an append-many op (in op->tmp);
 * the blob names are op->blobs[i]. */
struct many_prep {
	char *data;    /* malloc'd, freed by finish_append_many */
	size_t len;
	void *parsed;
	const char *digest;
};

static int prepare_append_many(struct store *s, struct store_op *op)
{
	struct store_append_many *am = op->req;
	if (am->n == 0 || am->msgs == NULL)
		return store_op_fail(op, STORE_EINVAL, "no messages");
	struct many_prep *mp = arena_alloc(op->tmp, am->n * sizeof(*mp));
	memset(mp, 0, am->n * sizeof(*mp));
	op->parsed = mp; /* finish_append_many frees the data through it */
	op->blobs = xcalloc(am->n, sizeof(*op->blobs));
	int keep_fd = -1; /* one written file is enough for the batch's syncfs */
	int r = 1;
	for (size_t i = 0; i < am->n && r > 0; i++) {
		const struct store_append *ap = &am->msgs[i];
		const char *kw, *err;
		if (store_keywords_join(op->tmp, ap->keywords, &kw, &err) < 0)
			r = store_op_fail(op, STORE_EINVAL, "%s", err);
		else if ((ap->flags & ~(unsigned)STORE_F_ALL) != 0)
			r = store_op_fail(op, STORE_EINVAL, "invalid flags");
		else if (ap->internal_tz < -24 * 60 || ap->internal_tz > 24 * 60)
			r = store_op_fail(op, STORE_EINVAL, "invalid time zone");
		else
			r = prepare_message(s, op, ap->data, ap->len, NULL, ap->raw);
		mp[i] = (struct many_prep){ op->data, op->len, op->parsed, op->digest };
		op->data = NULL;
		op->digest = NULL;
		op->parsed = mp;
		if (op->blob != NULL) {
			op->blobs[op->nblobs++] = op->blob;
			op->blob = NULL;
		}
		if (op->blob_fd >= 0) {
			if (keep_fd < 0)
				keep_fd = op->blob_fd;
			else
				close(op->blob_fd); /* written; syncfs of keep_fd's file system covers it */
			op->blob_fd = -1;
		}
	}
	op->blob_fd = keep_fd;
	return r;
}

static int apply_append_many(struct store *s, struct store_op *op)
{
	struct store_append_many *am = op->req;
	struct many_prep *mp = op->parsed;
	/* NULL on PostgreSQL, where imports are refused (append_many_op) */
	struct db *c = sqlite_only(s, op);
	if (store_mbox_owned(op->q, am->account_id, am->mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	if (am->expunge_uid != 0 && store_mbox_owned(op->q, am->account_id, am->expunge_mailbox_id) <= 0)
		return store_op_fail(op, STORE_ENOTFOUND, "no such mailbox");
	if (am->expunge_uid != 0) {
		/* first, so that its quota is free for the replacement */
		uint64_t modseq = store_acct_next_modseq(op->q, am->account_id);
		int r = store_msg_expunge_uid(op, c, am->account_id, am->expunge_mailbox_id, am->expunge_uid, modseq);
		if (r < 0)
			return r;
		if (r == 0)
			return store_op_fail(op, STORE_ENOTFOUND, "no such message");
	}
	size_t nev = op->nevents;
	for (size_t i = 0; i < am->n; i++) {
		struct store_append *ap = &am->msgs[i];
		const char *kw, *err;
		if (store_keywords_join(op->tmp, ap->keywords, &kw, &err) < 0)
			return store_op_fail(op, STORE_EINVAL, "%s", err);
		op->parsed = mp[i].parsed;
		op->data = mp[i].data; /* PostgreSQL's chunks; still mp's to free */
		op->len = mp[i].len;
		op->blob = op->blobs[i];
		op->digest = mp[i].digest;
		int64_t email_id = insert_email(op, c);
		uint32_t uid = 0;
		int r = email_id < 0 ? op->result
				     : add_to_mailbox(op, c, am->account_id, am->mailbox_id, email_id, ap->flags, kw,
						      ap->internal_date, ap->internal_tz, &uid);
		op->parsed = mp;
		op->data = NULL;
		op->blob = NULL;
		op->digest = NULL;
		if (r < 0)
			return r;
		if (store_lesson_append(op, am->account_id, am->mailbox_id, email_id, kw) < 0)
			return op->result;
		if (am->import_keys != NULL &&
		    store_import_record(op, c, am->account_id, am->import_scope, am->import_keys[i]) < 0)
			return op->result;
		ap->uid = uid;
		ap->email_id = email_id;
		am->modseq = op->events[op->nevents - 1].modseq;
	}
	/* one event for the batch: subscribers sync once */
	op->nevents = nev;
	store_op_event(op, STORE_EV_NEW, am->account_id, am->mailbox_id, am->msgs[0].uid, am->msgs[am->n - 1].uid,
		 (uint32_t)am->n, am->modseq);
	struct sql_stmt *st = sql_prepare(op->q, "SELECT uidvalidity FROM mailboxes WHERE id = ?");
	if (st != NULL) {
		sql_bind_int64(st, 1, am->mailbox_id);
		if (sql_step(st) == SQL_ROW)
			am->uidvalidity = (uint32_t)sql_col_int64(st, 0);
		sql_reset(st);
	}
	for (size_t i = 0; i < am->n; i++)
		am->msgs[i].uidvalidity = am->uidvalidity;
	return 1;
}

static void finish_append_many(struct store *s, struct store_op *op)
{
	(void)s;
	struct store_append_many *am = op->req;
	struct many_prep *mp = op->parsed;
	for (size_t i = 0; mp != NULL && i < am->n; i++)
		free(mp[i].data);
	op->parsed = NULL;
}

static struct store_op *append_many_op(struct store_append_many *am)
{
	struct store_op *op = store_op_new(prepare_append_many, apply_append_many, finish_append_many, am, NULL);
	/* an import's keys are SQLite's only for now */
	op->sql_ready = am->import_keys == NULL;
	if (am->account_id > 0)
		store_op_lock(op, am->account_id);
	return op;
}

int store_append_many(struct store *s, struct store_append_many *am, const char **error_r)
{
	return store_op_run(s, append_many_op(am), error_r);
}

void store_append_many_async(struct store *s, struct store_append_many *am, struct loop *loop,
			     store_done_fn *done, void *arg)
{
	store_op_submit_async(s, append_many_op(am), loop, done, arg);
}
