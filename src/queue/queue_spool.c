/* queue_spool.c: the queue's files under DIR/queue (see docs/queue.md).
 *
 * Each message is one data file named by its id: a short text header with the
 * envelope, a blank line, then the message bytes. It is written once, to a temp
 * name, fsynced, renamed and the directory fsynced: after the rename the message
 * exists completely or not at all. What changes (attempts, next attempt, the state
 * and last reply of each recipient) lives in ID.st, replaced the same way. Recovery
 * deletes temp files (writes that never finished, so never acknowledged) and state
 * files without a data file (a removal cut short). Values in both files are escaped
 * (queue_spool_escape) so that each field is one token without spaces. */
#include "queue_int.h"
#include "textfmt.h"

#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#define HEADER_MAGIC "POSTAMT-QUEUE 1\n"
#define STATE_MAGIC "POSTAMT-QUEUE-STATE 1\n"

void queue_msg_free(struct qmsg **mp)
{
	struct qmsg *m = *mp;
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nrcpts; i++) {
		free(m->rcpts[i].address);
		free(m->rcpts[i].orcpt);
		free(m->rcpts[i].diag);
		free(m->rcpts[i].remote_mta);
	}
	free(m->rcpts);
	free(m->sender);
	free(m->envid);
	free(m->auth_user);
	free(m);
	*mp = NULL;
}

void queue_spool_new_id(char id[QUEUE_ID_MAX])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	uint32_t rnd = 0;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		rnd = (uint32_t)getpid() ^ (uint32_t)tv.tv_usec;
	snprintf(id, QUEUE_ID_MAX, "%09llX%05lX%06X", (unsigned long long)tv.tv_sec, (long)tv.tv_usec,
		 rnd & 0xffffffu);
}

/* ---------------------------------------------------------------- escaping */

void queue_spool_escape(const char *s, struct buf *out)
{
	if (s == NULL || *s == '\0') {
		buf_putc(out, '-');
		return;
	}
	if (strcmp(s, "-") == 0) {
		buf_puts(out, "%2D");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= 0x20 || *p == '%' || *p == 0x7f)
			buf_printf(out, "%%%02X", *p);
		else
			buf_putc(out, (char)*p);
	}
}

char *queue_spool_unescape(struct bytes s)
{
	if (s.len == 1 && s.p[0] == '-')
		return xstrdup("");
	char *out = xmalloc(s.len + 1);
	size_t o = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '%' && i + 2 < s.len && textfmt_hex_digit(s.p[i + 1]) >= 0 && textfmt_hex_digit(s.p[i + 2]) >= 0) {
			char c = (char)(textfmt_hex_digit(s.p[i + 1]) * 16 + textfmt_hex_digit(s.p[i + 2]));
			out[o++] = c == '\0' ? '?' : c;
			i += 2;
			continue;
		}
		out[o++] = s.p[i];
	}
	out[o] = '\0';
	return out;
}

/* Splits the next space-separated token off *s. */
static struct bytes next_token(struct bytes *s)
{
	size_t i = 0;
	while (i < s->len && s->p[i] == ' ')
		i++;
	size_t start = i;
	while (i < s->len && s->p[i] != ' ')
		i++;
	struct bytes t = { s->p + start, i - start };
	s->p += i;
	s->len -= i;
	return t;
}

static int token_u64(struct bytes t, uint64_t *v)
{
	return buf_parse_uint64(t, UINT64_MAX, v);
}

/* ---------------------------------------------------------------- header */

void queue_spool_header_encode(const struct qmsg *m, struct buf *out)
{
	buf_puts(out, HEADER_MAGIC);
	buf_printf(out, "created %lld\n", (long long)m->created);
	buf_puts(out, "sender ");
	queue_spool_escape(m->sender, out);
	buf_putc(out, '\n');
	if (m->envid != NULL) {
		buf_puts(out, "envid ");
		queue_spool_escape(m->envid, out);
		buf_putc(out, '\n');
	}
	if (m->ret != SMTP_RET_NONE)
		buf_printf(out, "ret %s\n", m->ret == SMTP_RET_FULL ? "full" : "hdrs");
	if (m->smtputf8)
		buf_puts(out, "smtputf8\n");
	if (m->auth_user != NULL) {
		buf_puts(out, "auth ");
		queue_spool_escape(m->auth_user, out);
		buf_putc(out, '\n');
	}
	for (size_t i = 0; i < m->nrcpts; i++) {
		const struct qrcpt *r = &m->rcpts[i];
		buf_puts(out, "rcpt ");
		queue_spool_escape(r->address, out);
		buf_printf(out, " %u ", r->notify);
		queue_spool_escape(r->orcpt, out);
		buf_putc(out, '\n');
	}
	buf_printf(out, "size %" PRIu64 "\n\n", m->size);
}

static void rcpt_set_address(struct qrcpt *r, char *address)
{
	r->address = address;
	const char *at = strrchr(address, '@');
	r->domain = at != NULL ? at + 1 : address + strlen(address);
}

int queue_spool_header_decode(const char *id, struct bytes data, struct qmsg **m_r, const char **error_r)
{
	size_t ml = strlen(HEADER_MAGIC);
	if (data.len < ml)
		return memcmp(data.p, HEADER_MAGIC, data.len) == 0 ? 0 : (*error_r = "not a queue file", -1);
	if (memcmp(data.p, HEADER_MAGIC, ml) != 0) {
		*error_r = "not a queue file";
		return -1;
	}
	struct qmsg *m = xcalloc(1, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	size_t cap = 0;
	bool have_size = false, have_sender = false;
	size_t pos = ml;
	for (;;) {
		const char *nl = memchr(data.p + pos, '\n', data.len - pos);
		if (nl == NULL) {
			queue_msg_free(&m);
			return 0;
		}
		struct bytes line = { data.p + pos, (size_t)(nl - (data.p + pos)) };
		pos += line.len + 1;
		if (line.len == 0)
			break;
		struct bytes key = next_token(&line);
		uint64_t v;
		if (bytes_eq(key, "created") && token_u64(next_token(&line), &v) > 0) {
			m->created = (time_t)v;
		} else if (bytes_eq(key, "sender")) {
			free(m->sender);
			m->sender = queue_spool_unescape(next_token(&line));
			have_sender = true;
		} else if (bytes_eq(key, "envid")) {
			free(m->envid);
			m->envid = queue_spool_unescape(next_token(&line));
		} else if (bytes_eq(key, "ret")) {
			struct bytes t = next_token(&line);
			m->ret = bytes_eq(t, "full") ? SMTP_RET_FULL : SMTP_RET_HDRS;
		} else if (bytes_eq(key, "smtputf8")) {
			m->smtputf8 = true;
		} else if (bytes_eq(key, "auth")) {
			free(m->auth_user);
			m->auth_user = queue_spool_unescape(next_token(&line));
		} else if (bytes_eq(key, "rcpt")) {
			struct bytes a = next_token(&line), n = next_token(&line), o = next_token(&line);
			if (a.len == 0 || token_u64(n, &v) <= 0 || v > 15)
				goto bad;
			if (m->nrcpts == cap) {
				cap = cap == 0 ? 4 : cap * 2;
				m->rcpts = xrealloc(m->rcpts, cap * sizeof(*m->rcpts));
			}
			struct qrcpt *r = &m->rcpts[m->nrcpts++];
			memset(r, 0, sizeof(*r));
			rcpt_set_address(r, queue_spool_unescape(a));
			r->notify = (unsigned)v;
			char *orcpt = o.len > 0 ? queue_spool_unescape(o) : NULL;
			if (orcpt != NULL && *orcpt == '\0') {
				free(orcpt);
				orcpt = NULL;
			}
			r->orcpt = orcpt;
		} else if (bytes_eq(key, "size") && token_u64(next_token(&line), &v) > 0) {
			m->size = v;
			have_size = true;
		}
		/* unknown keys: written by a newer version; ignored */
	}
	if (!have_size || !have_sender || m->nrcpts == 0)
		goto bad;
	m->offset = pos;
	*m_r = m;
	return 1;
bad:
	queue_msg_free(&m);
	*error_r = "malformed queue file header";
	return -1;
}

/* ---------------------------------------------------------------- state */

static const char *state_names[] = { "pending", "delivered", "failed" };

void queue_spool_state_encode(const struct qmsg *m, struct buf *out)
{
	buf_puts(out, STATE_MAGIC);
	for (size_t i = 0; i < m->nrcpts; i++) {
		const struct qrcpt *r = &m->rcpts[i];
		buf_printf(out, "r %zu %s %u %lld %d ", i, r->reported ? "bounced" : state_names[r->state], r->attempts,
			   (long long)r->next,
			   r->code);
		queue_spool_escape(r->enh, out);
		buf_putc(out, ' ');
		queue_spool_escape(r->remote_mta, out);
		buf_putc(out, ' ');
		queue_spool_escape(r->diag, out);
		buf_putc(out, '\n');
	}
}

int queue_spool_state_decode(struct qmsg *m, struct bytes data, const char **error_r)
{
	size_t ml = strlen(STATE_MAGIC);
	if (data.len < ml || memcmp(data.p, STATE_MAGIC, ml) != 0) {
		*error_r = "not a queue state file";
		return -1;
	}
	struct bytes rest = { data.p + ml, data.len - ml };
	while (rest.len > 0) {
		const char *nl = memchr(rest.p, '\n', rest.len);
		if (nl == NULL)
			break; /* cannot happen with atomic writes; ignore a partial line */
		struct bytes line = { rest.p, (size_t)(nl - rest.p) };
		rest.p = nl + 1;
		rest.len -= line.len + 1;
		struct bytes key = next_token(&line);
		uint64_t v;
		if (bytes_eq(key, "r")) {
			struct bytes idx = next_token(&line), st = next_token(&line), att = next_token(&line);
			struct bytes nxt = next_token(&line), code = next_token(&line);
			struct bytes enh = next_token(&line), mta = next_token(&line), diag = next_token(&line);
			uint64_t c, a, t;
			if (token_u64(idx, &v) <= 0 || v >= m->nrcpts || token_u64(code, &c) <= 0 || c > 999 ||
			    token_u64(att, &a) <= 0 || token_u64(nxt, &t) <= 0) {
				*error_r = "malformed queue state line";
				return -1;
			}
			struct qrcpt *r = &m->rcpts[v];
			if (bytes_eq(st, "delivered"))
				r->state = QUEUE_RCPT_DELIVERED;
			else if (bytes_eq(st, "failed") || bytes_eq(st, "bounced"))
				r->state = QUEUE_RCPT_FAILED;
			else
				r->state = QUEUE_RCPT_PENDING;
			r->reported = bytes_eq(st, "bounced");
			r->code = (int)c;
			r->attempts = (unsigned)a;
			r->next = (time_t)t;
			char *e = queue_spool_unescape(enh);
			snprintf(r->enh, sizeof(r->enh), "%s", e);
			free(e);
			free(r->remote_mta);
			r->remote_mta = queue_spool_unescape(mta);
			if (*r->remote_mta == '\0') {
				free(r->remote_mta);
				r->remote_mta = NULL;
			}
			free(r->diag);
			r->diag = queue_spool_unescape(diag);
			if (*r->diag == '\0') {
				free(r->diag);
				r->diag = NULL;
			}
		}
	}
	queue_msg_summarize(m);
	return 1;
}

size_t queue_msg_summarize(struct qmsg *m)
{
	size_t pending = 0;
	m->attempts = 0;
	m->next = 0;
	for (size_t i = 0; i < m->nrcpts; i++) {
		const struct qrcpt *r = &m->rcpts[i];
		if (r->attempts > m->attempts)
			m->attempts = r->attempts;
		if (r->state != QUEUE_RCPT_PENDING)
			continue;
		if (pending == 0 || r->next < m->next)
			m->next = r->next;
		pending++;
	}
	return pending;
}

/* ---------------------------------------------------------------- files */

static int fsync_dir(const char *dir, const char **error_r)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		*error_r = "cannot fsync the queue directory";
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 1;
}

/* Writes the parts to qdir/name through a temp file; fsyncs file and directory. */
static int write_atomic(const char *qdir, const char *name, const struct iovec *iov, int niov, bool fsync_on,
			const char **error_r)
{
	char id[QUEUE_ID_MAX];
	queue_spool_new_id(id);
	char *tmp = xasprintf("%s/tmp.%s.%s", qdir, name, id);
	char *final = xasprintf("%s/%s", qdir, name);
	int ret = -1;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*error_r = "cannot create a queue file";
		log_error("event=queue_write_failed file=%s error=%s", tmp, strerror(errno));
		goto out;
	}
	struct iovec v[4];
	memcpy(v, iov, (size_t)niov * sizeof(*v));
	int i = 0;
	while (i < niov) {
		ssize_t w = writev(fd, v + i, niov - i);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		size_t left = (size_t)w;
		while (i < niov && left >= v[i].iov_len) {
			left -= v[i].iov_len;
			i++;
		}
		if (i < niov) {
			v[i].iov_base = (char *)v[i].iov_base + left;
			v[i].iov_len -= left;
		}
	}
	if (i < niov || (fsync_on && fdatasync(fd) < 0)) {
		*error_r = "cannot write a queue file";
		log_error("event=queue_write_failed file=%s error=%s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, final) < 0) {
		*error_r = "cannot rename a queue file";
		unlink(tmp);
		goto out;
	}
	if (fsync_on && fsync_dir(qdir, error_r) < 0)
		goto out;
	ret = 1;
out:
	free(tmp);
	free(final);
	return ret;
}

int queue_spool_write_msg(const char *qdir, struct qmsg *m, struct bytes data, bool fsync_on, const char **error_r)
{
	struct buf h = { 0 };
	queue_spool_header_encode(m, &h);
	m->offset = h.len;
	struct iovec iov[2] = { { h.data, h.len }, { (void *)data.p, data.len } };
	int r = write_atomic(qdir, m->id, iov, 2, fsync_on, error_r);
	buf_free(&h);
	return r;
}

int queue_spool_write_state(const char *qdir, const struct qmsg *m, bool fsync_on, const char **error_r)
{
	struct buf b = { 0 };
	queue_spool_state_encode(m, &b);
	char name[QUEUE_ID_MAX + 4];
	snprintf(name, sizeof(name), "%s.st", m->id);
	struct iovec iov[1] = { { b.data, b.len } };
	int r = write_atomic(qdir, name, iov, 1, fsync_on, error_r);
	buf_free(&b);
	return r;
}

int queue_spool_remove(const char *qdir, const char *id, bool fsync_on, const char **error_r)
{
	char *st = xasprintf("%s/%s.st", qdir, id), *data = xasprintf("%s/%s", qdir, id);
	/* the data file first: a state file without one is removed by recovery */
	int r = 1;
	if (unlink(data) < 0 && errno != ENOENT) {
		*error_r = "cannot remove a queue file";
		r = -1;
	}
	if (r > 0)
		unlink(st);
	free(st);
	free(data);
	if (r > 0 && fsync_on)
		r = fsync_dir(qdir, error_r);
	return r;
}

static int read_file(const char *path, struct buf *out, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	for (;;) {
		if (max != 0 && out->len >= max)
			break;
		buf_reserve(out, 65536);
		ssize_t n = read(fd, out->data + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
	close(fd);
	return 1;
}

int queue_spool_read_data(const char *qdir, const struct qmsg *m, struct buf *out, const char **error_r)
{
	char *path = xasprintf("%s/%s", qdir, m->id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		*error_r = "cannot open the queued message";
		return -1;
	}
	buf_reserve(out, m->size + 1);
	size_t got = 0;
	while (got < m->size) {
		ssize_t n = pread(fd, out->data + out->len + got, m->size - got, (off_t)(m->offset + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got < m->size) {
		*error_r = "queued message is truncated";
		return -1;
	}
	out->len += got;
	out->data[out->len] = '\0';
	return 1;
}

/* ---------------------------------------------------------------- loading */

static bool is_id(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= QUEUE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'A' && name[i] <= 'Z')))
			return false;
	return true;
}

static struct qmsg *load_one(const char *qdir, const char *id)
{
	char *path = xasprintf("%s/%s", qdir, id);
	struct buf b = { 0 };
	struct qmsg *m = NULL;
	const char *err = "cannot read";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		goto out;
	/* read until the header is complete */
	for (;;) {
		buf_reserve(&b, 65536);
		ssize_t n = read(fd, b.data + b.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		b.len += (size_t)n;
		b.data[b.len] = '\0';
		int r = queue_spool_header_decode(id, (struct bytes){ b.data, b.len }, &m, &err);
		if (r < 0)
			goto out;
		if (r > 0)
			break;
		if (n == 0) {
			err = "truncated header";
			goto out;
		}
	}
	if ((uint64_t)st.st_size != m->offset + m->size) {
		err = "size does not match the header";
		queue_msg_free(&m);
		goto out;
	}
	char *stpath = xasprintf("%s.st", path);
	buf_reset(&b);
	int r = read_file(stpath, &b, 0);
	free(stpath);
	if (r > 0 && queue_spool_state_decode(m, (struct bytes){ b.data, b.len }, &err) < 0)
		queue_msg_free(&m);
	else if (r < 0)
		queue_msg_free(&m);
out:
	if (m == NULL)
		log_error("event=queue_file_unreadable id=%s error=\"%s\"", id, err);
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	free(path);
	return m;
}

static int cmp_msg(const void *a, const void *b)
{
	const struct qmsg *x = *(struct qmsg *const *)a, *y = *(struct qmsg *const *)b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return strcmp(x->id, y->id);
}

int queue_spool_load(const char *qdir, bool recover, spool_load_fn *fn, void *arg, const char **error_r)
{
	DIR *d = opendir(qdir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = "cannot read the queue directory";
		return -1;
	}
	struct qmsg **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (name[0] == '.')
			continue;
		if (strncmp(name, "tmp.", 4) == 0) {
			if (recover) {
				char *p = xasprintf("%s/%s", qdir, name);
				unlink(p);
				log_info("event=queue_recover removed=%s", name);
				free(p);
			}
			continue;
		}
		size_t len = strlen(name);
		if (len > 3 && strcmp(name + len - 3, ".st") == 0) {
			char *data = xasprintf("%s/%.*s", qdir, (int)(len - 3), name);
			if (recover && access(data, F_OK) < 0 && errno == ENOENT) {
				char *p = xasprintf("%s/%s", qdir, name);
				unlink(p);
				free(p);
			}
			free(data);
			continue;
		}
		if (!is_id(name))
			continue;
		struct qmsg *m = load_one(qdir, name);
		if (m == NULL)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = m;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof(*v), cmp_msg);
	for (size_t i = 0; i < n; i++)
		fn(arg, v[i]);
	free(v);
	return (int)n;
}
