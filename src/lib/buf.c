/* buf.c: growable buffers and byte-view helpers (see buf.h). */
#include "buf.h"

#include <assert.h>

#include "arena.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

void buf_reserve(struct buf *b, size_t n)
{
	if (b->cap - b->len > n && b->data != NULL)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap - b->len <= n) {
		if (cap > SIZE_MAX / 2)
			cap = SIZE_MAX;
		else
			cap *= 2;
	}
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	buf_append(b, &c, 1);
}

void buf_put_utf8(struct buf *b, uint32_t cp)
{
	assert(cp <= 0x10ffff);
	char u[4];
	size_t n;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf_append(b, u, n);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	if (n > 0) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *buf_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

bool bytes_eq(struct bytes a, const char *s)
{
	size_t n = strlen(s);
	return a.len == n && memcmp(a.p, s, n) == 0;
}

bool bytes_ieq(struct bytes a, const char *s)
{
	size_t n = strlen(s);
	return a.len == n && strncasecmp(a.p, s, n) == 0;
}

bool bytes_iprefix(struct bytes a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && strncasecmp(a.p, prefix, n) == 0;
}

struct bytes bytes_trim(struct bytes a)
{
	while (a.len > 0 && (a.p[0] == ' ' || a.p[0] == '\t')) {
		a.p++;
		a.len--;
	}
	while (a.len > 0 && (a.p[a.len - 1] == ' ' || a.p[a.len - 1] == '\t'))
		a.len--;
	return a;
}

ptrdiff_t bytes_find_eol(struct bytes a, size_t *eol_len_r)
{
	const char *nl = a.len ? memchr(a.p, '\n', a.len) : NULL;
	if (nl == NULL)
		return -1;
	ptrdiff_t i = nl - a.p;
	if (i > 0 && a.p[i - 1] == '\r') {
		*eol_len_r = 2;
		return i - 1;
	}
	*eol_len_r = 1;
	return i;
}

int buf_parse_uint64(struct bytes a, uint64_t max, uint64_t *out_r)
{
	if (a.len == 0)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < a.len; i++) {
		unsigned char c = (unsigned char)a.p[i];
		if (c < '0' || c > '9')
			return -1;
		if ((uint64_t)(c - '0') > max || v > (max - (c - '0')) / 10)
			return -1;
		v = v * 10 + (c - '0');
	}
	*out_r = v;
	return 1;
}

int buf_parse_size(const char *s, uint64_t *out_r, const char **error_r)
{
	size_t n = strlen(s);
	uint64_t mult = 1;
	if (n > 0) {
		switch (s[n - 1]) {
		case 'k': case 'K': mult = 1024ULL; n--; break;
		case 'm': case 'M': mult = 1024ULL * 1024; n--; break;
		case 'g': case 'G': mult = 1024ULL * 1024 * 1024; n--; break;
		case 't': case 'T': mult = 1024ULL * 1024 * 1024 * 1024; n--; break;
		default: break;
		}
	}
	uint64_t v;
	if (buf_parse_uint64((struct bytes){ s, n }, UINT64_MAX / mult, &v) < 0) {
		*error_r = "invalid size (expected digits with an optional K, M or G suffix)";
		return -1;
	}
	*out_r = v * mult;
	return 1;
}

void buf_format_size(uint64_t size, char *out, size_t outlen)
{
	static const char suffix[] = "KMGT";
	int i = -1;
	while (size != 0 && size % 1024 == 0 && i < 3) {
		size /= 1024;
		i++;
	}
	if (i < 0)
		snprintf(out, outlen, "%" PRIu64, size);
	else
		snprintf(out, outlen, "%" PRIu64 "%c", size, suffix[i]);
}
