/* cli_export.c: `postamt export ADDRESS DEST [--mbox --folder NAME]`.
 *
 * Writes the account's mailboxes, read through the store API, as a Maildir tree that
 * Dovecot reads (its default Maildir++ layout): INBOX in DEST/{cur,new,tmp}, every
 * other mailbox in DEST/.Level1.Level2 with each level in modified UTF-7, a message per
 * file in cur/ named "NOW.M<uid, 10 digits>P<pid>.postamt,S=SIZE,W=SIZE:2,FLAGS" (names
 * sort in UID order, which Dovecot keeps) with the file's mtime set to the internal
 * date, and the keywords as letters that each folder's
 * dovecot-keywords file names. With --mbox, one mailbox (--folder, default INBOX) goes
 * to the file DEST in mboxrd format with Status:/X-Status:/X-Keywords: fields. DEST
 * must not exist: nothing is ever overwritten. */
#include "import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "imap_format.h"

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 1;
}

/* The Maildir++ directory name of a mailbox: ".A.B" with levels in mUTF-7. */
static int maildir_dir(struct buf *out, const char *name)
{
	buf_putc(out, '.');
	for (const char *p = name;;) {
		const char *e = strchr(p, '/');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (memchr(p, '.', n) != NULL)
			return -1; /* a "." in a level would split it in Maildir++ */
		if (imap_utf7_encode(out, p, n) < 0)
			return -1;
		if (e == NULL)
			return 1;
		buf_putc(out, '.');
		p = e + 1;
	}
}

static int export_mailbox_maildir(struct store *s, struct arena *a, int64_t account_id, const struct store_mailbox *mb,
				  const char *dir, uint64_t *count_r)
{
	const char *err;
	struct store_msg *msgs;
	size_t n;
	if (store_msg_list(s, a, account_id, mb->id, NULL, 0, &msgs, &n, &err) < 0) {
		fprintf(stderr, "postamt: %s: %s\n", mb->name, err);
		return -1;
	}
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };
	for (size_t i = 0; i < 4; i++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s%s", dir, subs[i]);
		if (mkdir(p, 0700) < 0 && !(i == 0 && errno == EEXIST)) {
			fprintf(stderr, "postamt: %s: %s\n", p, strerror(errno));
			return -1;
		}
	}
	/* keyword letters: the first 26 keywords of the mailbox */
	const char *letters[26];
	size_t nletters = 0;
	struct buf kwfile = { 0 }, name = { 0 };
	int result = 1;
	for (size_t i = 0; i < n && result > 0; i++) {
		const struct store_msg *m = &msgs[i];
		buf_reset(&name);
		/* Dovecot numbers new files in the order of their names (time, then M):
		 * the export's clock and the zero-padded UID keep the store's order */
		buf_printf(&name, "%s/cur/%lld.M%010uP%d.postamt,S=%llu,W=%llu:2,", dir, (long long)time(NULL), m->uid,
			   (int)getpid(), (unsigned long long)m->size, (unsigned long long)m->size);
		if (m->flags & STORE_F_DRAFT)
			buf_putc(&name, 'D');
		if (m->flags & STORE_F_FLAGGED)
			buf_putc(&name, 'F');
		bool passed = false;
		char kwl[27];
		size_t nkwl = 0;
		for (const char *k = m->keywords; *k != '\0';) {
			size_t kl = strcspn(k, " ");
			if (kl == 10 && strncasecmp(k, "$Forwarded", 10) == 0) {
				passed = true;
			} else if (kl > 0) {
				size_t j = 0;
				while (j < nletters && !(strlen(letters[j]) == kl && strncmp(letters[j], k, kl) == 0))
					j++;
				if (j == nletters && nletters < 26) {
					letters[nletters] = arena_strndup(a, k, kl);
					buf_printf(&kwfile, "%zu %s\n", nletters, letters[nletters]);
					nletters++;
				}
				if (j < nletters)
					kwl[nkwl++] = (char)('a' + j);
			}
			k += kl;
			while (*k == ' ')
				k++;
		}
		if (passed)
			buf_putc(&name, 'P');
		if (m->flags & STORE_F_ANSWERED)
			buf_putc(&name, 'R');
		if (m->flags & STORE_F_SEEN)
			buf_putc(&name, 'S');
		if (m->flags & STORE_F_DELETED)
			buf_putc(&name, 'T');
		/* keyword letters in ascending order */
		for (char ch = 'a'; ch <= 'z'; ch++) {
			if (memchr(kwl, ch, nkwl) != NULL)
				buf_putc(&name, ch);
		}
		int fd_in;
		uint64_t size;
		int r = store_msg_open(s, account_id, mb->id, m->uid, &fd_in, &size, &err);
		if (r <= 0)
			continue; /* expunged meanwhile */
		int fd = open(name.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "postamt: %s: %s\n", name.data, strerror(errno));
			close(fd_in);
			result = -1;
			break;
		}
		char chunk[65536];
		ssize_t k;
		while (result > 0 && (k = read(fd_in, chunk, sizeof(chunk))) > 0) {
			if (write_all(fd, chunk, (size_t)k) < 0) {
				fprintf(stderr, "postamt: %s: %s\n", name.data, strerror(errno));
				result = -1;
			}
		}
		close(fd_in);
		if (fsync(fd) < 0 || close(fd) < 0) {
			fprintf(stderr, "postamt: %s: %s\n", name.data, strerror(errno));
			result = -1;
		}
		struct timeval tv[2] = { { (time_t)m->internal_date, 0 }, { (time_t)m->internal_date, 0 } };
		utimes(name.data, tv);
		(*count_r)++;
	}
	if (result > 0 && kwfile.len > 0) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/dovecot-keywords", dir);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 || write_all(fd, kwfile.data, kwfile.len) < 0) {
			fprintf(stderr, "postamt: %s: %s\n", p, strerror(errno));
			result = -1;
		}
		if (fd >= 0)
			close(fd);
	}
	buf_free(&kwfile);
	buf_free(&name);
	return result;
}

/* One message as mboxrd: LF line ends, ">" before every ">*From " line. */
static void mbox_put(struct buf *out, const struct store_msg *m, const char *data, size_t len)
{
	char date[64];
	time_t t = (time_t)m->internal_date;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	buf_printf(out, "From MAILER-DAEMON %s\n", date);
	if (m->flags & STORE_F_SEEN)
		buf_puts(out, "Status: RO\n");
	else
		buf_puts(out, "Status: O\n");
	if (m->flags & (STORE_F_ANSWERED | STORE_F_FLAGGED | STORE_F_DRAFT | STORE_F_DELETED)) {
		buf_puts(out, "X-Status: ");
		if (m->flags & STORE_F_ANSWERED)
			buf_putc(out, 'A');
		if (m->flags & STORE_F_FLAGGED)
			buf_putc(out, 'F');
		if (m->flags & STORE_F_DRAFT)
			buf_putc(out, 'T');
		if (m->flags & STORE_F_DELETED)
			buf_putc(out, 'D');
		buf_putc(out, '\n');
	}
	if (m->keywords[0] != '\0')
		buf_printf(out, "X-Keywords: %s\n", m->keywords);
	size_t pos = 0;
	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t e = nl != NULL ? (size_t)(nl - data) : len;
		size_t le = e > pos && data[e - 1] == '\r' ? e - 1 : e;
		size_t k = pos;
		while (k < le && data[k] == '>')
			k++;
		if (le - k >= 5 && memcmp(data + k, "From ", 5) == 0)
			buf_putc(out, '>');
		buf_append(out, data + pos, le - pos);
		buf_putc(out, '\n');
		pos = e + 1;
	}
	buf_putc(out, '\n');
}

static int export_mbox(struct store *s, struct arena *a, int64_t account_id, const struct store_mailbox *mb,
		       const char *dest, uint64_t *count_r)
{
	const char *err;
	struct store_msg *msgs;
	size_t n;
	if (store_msg_list(s, a, account_id, mb->id, NULL, 0, &msgs, &n, &err) < 0) {
		fprintf(stderr, "postamt: %s: %s\n", mb->name, err);
		return -1;
	}
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		fprintf(stderr, "postamt: %s: %s\n", dest, strerror(errno));
		return -1;
	}
	struct arena *ma = arena_new();
	struct buf out = { 0 };
	int result = 1;
	for (size_t i = 0; i < n && result > 0; i++) {
		const char *data;
		size_t len;
		arena_clear(ma);
		if (store_msg_read(s, ma, account_id, mb->id, msgs[i].uid, &data, &len, &err) <= 0)
			continue;
		buf_reset(&out);
		mbox_put(&out, &msgs[i], data, len);
		if (write_all(fd, out.data, out.len) < 0) {
			fprintf(stderr, "postamt: %s: %s\n", dest, strerror(errno));
			result = -1;
		}
		(*count_r)++;
	}
	if (fsync(fd) < 0)
		result = -1;
	close(fd);
	buf_free(&out);
	arena_free(&ma);
	return result;
}

int cli_export(const struct config *cfg, int argc, char **argv)
{
	const char *address = NULL, *dest = NULL, *folder = NULL;
	bool mbox = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--folder") == 0 && i + 1 < argc)
			folder = argv[++i];
		else if (strcmp(argv[i], "--mbox") == 0)
			mbox = true;
		else if (argv[i][0] == '-' && argv[i][1] == '-')
			address = dest = NULL, i = argc;
		else if (address == NULL)
			address = argv[i];
		else if (dest == NULL)
			dest = argv[i];
		else
			address = dest = NULL, i = argc;
	}
	if (address == NULL || dest == NULL || (folder != NULL && !mbox)) {
		fprintf(stderr, "postamt: usage: postamt export ADDRESS DEST [--mbox [--folder NAME]]\n");
		return 1;
	}
	if (config_store_pg(cfg) != NULL) { /* messages are not on PostgreSQL yet */
		fprintf(stderr, "postamt: export: %s\n", STORE_PG_MISSING);
		return 1;
	}
	struct stat sb;
	if (lstat(dest, &sb) == 0) {
		fprintf(stderr, "postamt: %s exists: export writes a new Maildir or mbox file, never over one\n", dest);
		return 1;
	}
	struct store_options opt = { 0 };
	struct store *s;
	const char *err;
	struct arena *a = arena_new();
	dest = import_abs_path(a, dest);
	/* the store's threads read its files as the service user; this thread writes DEST
	 * as the caller */
	if (import_store_open(cfg, &opt, &s, &err) < 0) {
		fprintf(stderr, "postamt: cannot open the store in %s: %s\n", cfg->data_dir, err);
		arena_free(&a);
		return 1;
	}
	struct store_account acct;
	int status = 1;
	uint64_t count = 0;
	size_t nboxes = 0;
	int r = store_account_get(s, a, address, &acct, &err);
	if (r <= 0) {
		fprintf(stderr, "postamt: %s: %s\n", address, r == 0 ? "no such user" : err);
		goto out;
	}
	if (mbox) {
		struct store_mailbox mb;
		const char *canon;
		if (store_mailbox_name_check(a, folder != NULL ? folder : "INBOX", &canon, &err) < 0 ||
		    (r = store_mailbox_get(s, a, acct.id, canon, &mb, &err)) <= 0) {
			fprintf(stderr, "postamt: %s: no such folder\n", folder != NULL ? folder : "INBOX");
			goto out;
		}
		if (export_mbox(s, a, acct.id, &mb, dest, &count) < 0)
			goto out;
		nboxes = 1;
	} else {
		struct store_mailbox *mbs;
		size_t n;
		if (store_mailbox_list(s, a, acct.id, &mbs, &n, &err) < 0) {
			fprintf(stderr, "postamt: %s\n", err);
			goto out;
		}
		if (mkdir(dest, 0700) < 0) {
			fprintf(stderr, "postamt: %s: %s\n", dest, strerror(errno));
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			struct buf dir = { 0 };
			buf_puts(&dir, dest);
			if (strcmp(mbs[i].name, "INBOX") != 0) {
				buf_putc(&dir, '/');
				if (maildir_dir(&dir, mbs[i].name) < 0) {
					fprintf(stderr,
						"postamt: folder \"%s\" left out: a \".\" in its name has no "
						"Maildir++ form\n",
						mbs[i].name);
					buf_free(&dir);
					continue;
				}
			}
			r = export_mailbox_maildir(s, a, acct.id, &mbs[i], dir.data, &count);
			buf_free(&dir);
			if (r < 0)
				goto out;
			nboxes++;
		}
		/* the subscriptions, as Dovecot keeps them */
		struct buf sub = { 0 };
		for (size_t i = 0; i < n; i++) {
			if (mbs[i].subscribed && strcmp(mbs[i].name, "INBOX") != 0) {
				imap_utf7_encode(&sub, mbs[i].name, strlen(mbs[i].name));
				buf_putc(&sub, '\n');
			}
		}
		char p[4096];
		snprintf(p, sizeof(p), "%s/subscriptions", dest);
		int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			if (sub.len > 0)
				write_all(fd, sub.data, sub.len);
			close(fd);
		}
		buf_free(&sub);
	}
	printf("exported %llu messages in %zu folders of %s to %s\n", (unsigned long long)count, nboxes, acct.address,
	       dest);
	status = 0;
out:
	arena_free(&a);
	store_close(&s);
	return status;
}
