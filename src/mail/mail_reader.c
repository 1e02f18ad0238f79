/* mail_reader.c: windowed pread of a message range with the transforms of
 * mail_reader.h. The decoders are state machines fed any split of the input: base64
 * keeps the bits of an incomplete quantum; quoted-printable keeps at most "=", "=X",
 * a pending run of whitespace (dropped before a line end) and a CR after a soft break.
 * The unit test tests/unit/mail/test_reader.c checks fixed cases and that every split
 * gives the same bytes. */
#include "mail_reader.h"
#include "textfmt.h"

#include "arena.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum { Q_NORMAL, Q_WS, Q_EQ, Q_EQ_H1, Q_EQ_CR };

int mail_xform_for_encoding(const char *enc)
{
	if (enc == NULL || enc[0] == '\0' || strcasecmp(enc, "7bit") == 0 || strcasecmp(enc, "8bit") == 0 ||
	    strcasecmp(enc, "binary") == 0)
		return MAIL_X_NONE;
	if (strcasecmp(enc, "base64") == 0)
		return MAIL_X_BASE64;
	if (strcasecmp(enc, "quoted-printable") == 0)
		return MAIL_X_QP;
	return -1;
}

void mail_reader_init(struct mail_reader *r, int fd, uint64_t off, uint64_t len, enum mail_xform x,
		      size_t window)
{
	memset(r, 0, sizeof(*r) - sizeof(r->ws));
	r->fd = fd;
	r->off = off;
	r->end = off + len;
	r->x = x;
	r->window = window ? window : MAIL_READER_WINDOW;
	r->left = UINT64_MAX;
	r->qstate = Q_NORMAL;
}

void mail_reader_range(struct mail_reader *r, uint64_t start, uint64_t count)
{
	if (r->x == MAIL_X_NONE || r->x == MAIL_X_NUL80) {
		uint64_t len = r->end - r->off;
		if (start >= len) {
			r->off = r->end;
			return;
		}
		r->off += start;
		if (count < len - start)
			r->end = r->off + count;
		return;
	}
	r->skip = start;
	r->left = count;
}

void mail_reader_free(struct mail_reader *r)
{
	free(r->raw);
	r->raw = NULL;
}

static void b64_decode(struct mail_reader *r, const char *in, size_t n, struct buf *out)
{
	if (r->stopped)
		return;
	buf_reserve(out, n);
	char *o = out->data + out->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=') {
			r->stopped = true;
			break;
		}
		int v = textfmt_base64_digit(c);
		if (v < 0)
			continue;
		r->acc = (r->acc << 6) | (uint32_t)v;
		r->bits += 6;
		if (r->bits >= 8) {
			r->bits -= 8;
			*o++ = (char)((r->acc >> r->bits) & 0xff);
		}
		r->acc &= (1u << r->bits) - 1;
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

static void ws_flush(struct mail_reader *r, struct buf *out)
{
	buf_append(out, r->ws, r->nws);
	r->nws = 0;
}

/* One character of quoted-printable in the NORMAL state. */
static void qp_normal(struct mail_reader *r, char c, struct buf *out)
{
	if (c == '=') {
		r->qstate = Q_EQ;
	} else if (c == ' ' || c == '\t') {
		r->ws[r->nws++] = c;
		r->qstate = Q_WS;
	} else {
		buf_putc(out, c);
	}
}

static void qp_char(struct mail_reader *r, char c, struct buf *out)
{
	bool ws = c == ' ' || c == '\t', eol = c == '\r' || c == '\n';
	switch (r->qstate) {
	case Q_NORMAL:
		qp_normal(r, c, out);
		return;
	case Q_WS:
		if (ws) {
			if (r->nws == sizeof(r->ws))
				ws_flush(r, out); /* the documented bound */
			r->ws[r->nws++] = c;
			return;
		}
		if (eol)
			r->nws = 0; /* trailing whitespace is dropped (RFC 2045 §6.7 (3)) */
		else
			ws_flush(r, out);
		r->qstate = Q_NORMAL;
		qp_normal(r, c, out);
		return;
	case Q_EQ:
		if (ws) {
			if (r->nws == sizeof(r->ws)) {
				buf_putc(out, '=');
				ws_flush(r, out);
				r->ws[r->nws++] = c;
				r->qstate = Q_WS;
				return;
			}
			r->ws[r->nws++] = c;
			return;
		}
		if (eol) { /* soft line break */
			r->nws = 0;
			r->qstate = c == '\r' ? Q_EQ_CR : Q_NORMAL;
			return;
		}
		if (r->nws > 0) {
			buf_putc(out, '=');
			ws_flush(r, out);
			r->qstate = Q_NORMAL;
			qp_normal(r, c, out);
			return;
		}
		if (textfmt_hex_digit((unsigned char)c) >= 0) {
			r->h1 = c;
			r->qstate = Q_EQ_H1;
			return;
		}
		buf_putc(out, '=');
		r->qstate = Q_NORMAL;
		qp_normal(r, c, out);
		return;
	case Q_EQ_H1:
		if (textfmt_hex_digit((unsigned char)c) >= 0) {
			buf_putc(out, (char)(textfmt_hex_digit((unsigned char)r->h1) * 16 + textfmt_hex_digit((unsigned char)c)));
			r->qstate = Q_NORMAL;
			return;
		}
		buf_putc(out, '=');
		buf_putc(out, r->h1);
		r->qstate = Q_NORMAL;
		qp_normal(r, c, out);
		return;
	case Q_EQ_CR:
		r->qstate = Q_NORMAL;
		if (c != '\n')
			qp_normal(r, c, out);
		return;
	}
}

void mail_reader_decode(struct mail_reader *r, const char *in, size_t n, struct buf *out)
{
	if (r->x == MAIL_X_BASE64) {
		b64_decode(r, in, n, out);
		return;
	}
	if (r->x == MAIL_X_QP) {
		for (size_t i = 0; i < n; i++) {
			/* the common case without a state: copy the run up to the next special byte */
			if (r->qstate == Q_NORMAL) {
				size_t j = i;
				while (j < n && in[j] != '=' && in[j] != ' ' && in[j] != '\t')
					j++;
				if (j > i) {
					buf_append(out, in + i, j - i);
					i = j;
					if (i == n)
						break;
				}
			}
			qp_char(r, in[i], out);
		}
		return;
	}
	size_t mark = out->len;
	buf_append(out, in, n);
	if (r->x == MAIL_X_NUL80) {
		char *p = out->data + mark, *e = out->data + out->len;
		while ((p = memchr(p, '\0', (size_t)(e - p))) != NULL)
			*p++ = (char)0x80;
	}
}

void mail_reader_decode_end(struct mail_reader *r, struct buf *out)
{
	r->ended = true;
	if (r->x != MAIL_X_QP)
		return;
	/* at the end: "=" and whitespace after it, or trailing whitespace, are dropped;
	 * "=X" stays as it is */
	if (r->qstate == Q_EQ_H1) {
		buf_putc(out, '=');
		buf_putc(out, r->h1);
	}
	r->nws = 0;
	r->qstate = Q_NORMAL;
}

/* Reads up to n bytes at r->off into p. Returns the count, or -1. */
static ssize_t read_at(struct mail_reader *r, char *p, size_t n)
{
	for (;;) {
		ssize_t k = pread(r->fd, p, n, (off_t)r->off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0) {
			errno = EIO; /* the file is shorter than its recorded size */
			return -1;
		}
		if (k > 0)
			r->off += (uint64_t)k;
		return k;
	}
}

int mail_reader_next(struct mail_reader *r, struct buf *out)
{
	if (r->x == MAIL_X_NONE || r->x == MAIL_X_NUL80) {
		if (r->off >= r->end)
			return 0;
		size_t want = r->end - r->off < r->window ? (size_t)(r->end - r->off) : r->window;
		buf_reserve(out, want);
		ssize_t k = read_at(r, out->data + out->len, want);
		if (k < 0) {
			out->data[out->len] = '\0';
			return -1;
		}
		size_t mark = out->len;
		out->len += (size_t)k;
		out->data[out->len] = '\0';
		if (r->x == MAIL_X_NUL80) {
			char *p = out->data + mark, *e = out->data + out->len;
			while ((p = memchr(p, '\0', (size_t)(e - p))) != NULL)
				*p++ = (char)0x80;
		}
		return 1;
	}
	/* decoders: decode windows until some output is due or the input ends */
	for (;;) {
		if (r->left == 0 || r->ended)
			return 0;
		size_t mark = out->len;
		if (r->off >= r->end || r->stopped) {
			mail_reader_decode_end(r, out);
		} else {
			if (r->raw == NULL)
				r->raw = xmalloc(r->window);
			size_t want = r->end - r->off < r->window ? (size_t)(r->end - r->off) : r->window;
			ssize_t k = read_at(r, r->raw, want);
			if (k < 0)
				return -1;
			mail_reader_decode(r, r->raw, (size_t)k, out);
		}
		size_t got = out->len - mark;
		if (r->skip > 0 && got > 0) { /* out->data may be NULL when nothing came */
			size_t s = r->skip < got ? (size_t)r->skip : got;
			memmove(out->data + mark, out->data + mark + s, got - s);
			got -= s;
			r->skip -= s;
		}
		if (got > r->left)
			got = (size_t)r->left;
		r->left -= got;
		out->len = mark + got;
		if (out->data != NULL)
			out->data[out->len] = '\0';
		if (got > 0)
			return 1;
	}
}

int mail_reader_measure(int fd, uint64_t off, uint64_t len, enum mail_xform x, uint64_t start, uint64_t count,
			uint64_t *size_r, bool *has_nul_r)
{
	struct mail_reader r;
	struct buf b = { 0 };
	uint64_t size = 0;
	bool nul = false;
	int ret;
	mail_reader_init(&r, fd, off, len, x, 0);
	mail_reader_range(&r, start, count);
	while ((ret = mail_reader_next(&r, &b)) > 0) {
		size += b.len;
		nul = nul || memchr(b.data, '\0', b.len) != NULL;
		buf_reset(&b);
	}
	mail_reader_free(&r);
	buf_free(&b);
	if (ret < 0)
		return -1;
	*size_r = size;
	*has_nul_r = nul;
	return 1;
}

void mail_decode(enum mail_xform x, const char *in, size_t n, struct buf *out)
{
	if (x != MAIL_X_BASE64 && x != MAIL_X_QP) {
		buf_append(out, in, n);
		return;
	}
	struct mail_reader r;
	mail_reader_init(&r, -1, 0, 0, x, 0);
	mail_reader_decode(&r, in, n, out);
	mail_reader_decode_end(&r, out);
	mail_reader_free(&r);
}
