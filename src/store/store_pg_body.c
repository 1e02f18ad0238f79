/* store_pg_body.c: message bodies on the PostgreSQL backend (docs/cluster.md).
 *
 * A body is rows of message_chunks(email_id, seq, data bytea), STORE_PG_CHUNK bytes
 * each but the last, written in the delivery's transaction (store_deliver.c). A read
 * asks only for the chunks that cover the wanted range, so a partial fetch of a
 * large message moves only those. Results come as text: bytea in PostgreSQL's hex
 * form ("\x", then two digits a byte). */
#include "store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "textfmt.h"

/* Decodes a bytea value in hex form into out (room for its bytes): the length, or -1. */
static ssize_t bytea_decode(const char *t, size_t tn, char *out)
{
	if (tn < 2 || t[0] != '\\' || t[1] != 'x' || (tn - 2) % 2 != 0)
		return -1;
	size_t n = (tn - 2) / 2;
	for (size_t i = 0; i < n; i++) {
		int hi = textfmt_hex_digit((unsigned char)t[2 + 2 * i]);
		int lo = textfmt_hex_digit((unsigned char)t[3 + 2 * i]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (char)(hi << 4 | lo);
	}
	return (ssize_t)n;
}

typedef int chunk_fn(void *arg, uint64_t at, const char *p, size_t n);

/* Calls fn for each chunk of the email that overlaps [off, off + len) in order, with
 * its offset in the body. 1, or <0 with *error_r. */
static int chunks_each(struct sql_conn *q, int64_t email_id, uint64_t off, uint64_t len, chunk_fn *fn, void *arg,
		       const char **error_r)
{
	if (len == 0)
		return 1;
	struct sql_stmt *st = sql_prepare(q, "SELECT seq, data FROM message_chunks WHERE email_id = ?"
					  " AND seq BETWEEN ? AND ? ORDER BY seq");
	if (st == NULL)
		return store_sql_fail(q, SQL_ERR, "body", error_r);
	sql_bind_int64(st, 1, email_id);
	sql_bind_int64(st, 2, (int64_t)(off / STORE_PG_CHUNK));
	sql_bind_int64(st, 3, (int64_t)((off + len - 1) / STORE_PG_CHUNK));
	char *buf = xmalloc(STORE_PG_CHUNK);
	int rc, ret = 1;
	while (ret > 0 && (rc = sql_step(st)) == SQL_ROW) {
		uint64_t at = (uint64_t)sql_col_int64(st, 0) * STORE_PG_CHUNK;
		size_t tn = sql_col_bytes(st, 1);
		ssize_t n = tn <= 2 + 2 * (size_t)STORE_PG_CHUNK ? bytea_decode(sql_col_text(st, 1), tn, buf) : -1;
		if (n < 0) {
			*error_r = "message body: a chunk that is not hex bytea";
			ret = STORE_ERR;
		} else {
			ret = fn(arg, at, buf, (size_t)n);
			if (ret < 0)
				*error_r = "cannot buffer the message body";
		}
	}
	if (ret > 0 && rc < 0)
		ret = store_sql_fail(q, rc, "body", error_r);
	sql_reset(st);
	free(buf);
	return ret;
}

struct range_dst {
	uint64_t off, len;
	char *dst;
	uint64_t got;
};

static int to_range(void *arg, uint64_t at, const char *p, size_t n)
{
	struct range_dst *r = arg;
	uint64_t lo = at > r->off ? at : r->off, hi = at + n < r->off + r->len ? at + n : r->off + r->len;
	if (hi > lo) {
		memcpy(r->dst + (lo - r->off), p + (lo - at), hi - lo);
		r->got = hi - r->off > r->got ? hi - r->off : r->got;
	}
	return 1;
}

int store_pg_body_read(struct sql_conn *q, int64_t email_id, uint64_t off, uint64_t len, char *dst, uint64_t *got_r,
		       const char **error_r)
{
	struct range_dst r = { off, len, dst, 0 };
	int ret = chunks_each(q, email_id, off, len, to_range, &r, error_r);
	*got_r = r.got;
	return ret;
}

struct fd_dst {
	int fd;
	uint64_t written;
};

static int to_fd(void *arg, uint64_t at, const char *p, size_t n)
{
	struct fd_dst *d = arg;
	size_t done = 0;
	while (done < n) {
		ssize_t w = pwrite(d->fd, p + done, n - done, (off_t)(at + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return STORE_ERR;
		done += (size_t)w;
	}
	d->written += n;
	return 1;
}

int store_pg_body_open(struct sql_conn *q, int64_t email_id, uint64_t size, uint64_t off, uint64_t len, int *fd_r,
		       const char **error_r)
{
	if (off > size)
		off = size;
	if (len > size - off)
		len = size - off;
	int fd = memfd_create("postamt-message", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		*error_r = store_set_errorf("cannot buffer the message body: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return STORE_ERR;
	}
	struct fd_dst d = { fd, 0 };
	int ret = chunks_each(q, email_id, off, len, to_fd, &d, error_r);
	/* every chunk of the range came: from the first's start to the last's end */
	uint64_t first = off / STORE_PG_CHUNK * STORE_PG_CHUNK;
	uint64_t end = len == 0 ? first : ((off + len - 1) / STORE_PG_CHUNK + 1) * STORE_PG_CHUNK;
	uint64_t want = (end < size ? end : size) - first;
	if (ret > 0 && len > 0 && d.written != want) {
		log_error("event=store_error what=body email=%lld error=\"chunks missing\"", (long long)email_id);
		*error_r = "the message body is incomplete";
		ret = STORE_ERR;
	}
	if (ret < 0) {
		close(fd);
		return ret;
	}
	*fd_r = fd;
	return 1;
}
