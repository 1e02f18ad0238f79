/* dkim_canon.c: the canonicalizations of RFC 6376 §3.4 and the header split they
 * work on. Pure: bytes in, canonical bytes out into a digest or a buffer.
 *
 * A line end is CRLF or a lone LF (a message handed in with LF line ends is treated as
 * if it had CRLF, which is what it will have on the wire). The body canonicalizers
 * walk the body line by line and hold back empty lines until a non-empty line
 * follows, so the empty lines at the end are dropped without a second pass; the
 * output stops at the sink's limit (the signature's l=). */
#include "dkim_int.h"

#include <string.h>
#include <strings.h>

void dkim_sink_put(struct dkim_sink *s, const char *p, size_t n)
{
	if (s->written >= s->limit)
		return;
	if (n > s->limit - s->written)
		n = (size_t)(s->limit - s->written);
	if (n == 0)
		return;
	if (s->md != NULL)
		EVP_DigestUpdate(s->md, p, n);
	if (s->out != NULL)
		buf_append(s->out, p, n);
	s->written += n;
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

size_t dkim_fields_split(const char *msg, size_t len, struct arena *a, struct dkim_field **f_r, size_t *n_r,
			 size_t *cap_r, bool *has_body_r)
{
	size_t i = 0;
	*has_body_r = false;
	while (i < len) {
		/* a blank line ends the header */
		if (msg[i] == '\n') {
			*has_body_r = true;
			return i + 1;
		}
		if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n') {
			*has_body_r = true;
			return i + 2;
		}
		size_t start = i, end;
		for (;;) {
			const char *nl = memchr(msg + i, '\n', len - i);
			if (nl == NULL) {
				end = i = len;
				break;
			}
			size_t lf = (size_t)(nl - msg);
			end = lf > start && msg[lf - 1] == '\r' ? lf - 1 : lf;
			i = lf + 1;
			if (i >= len || !is_wsp(msg[i]))
				break; /* the next line is not a continuation */
		}
		const char *colon = memchr(msg + start, ':', end - start);
		if (colon == NULL || colon == msg + start)
			continue;
		size_t nl = (size_t)(colon - (msg + start));
		while (nl > 0 && is_wsp(msg[start + nl - 1]))
			nl--;
		if (*n_r == *cap_r) {
			size_t cap = *cap_r ? *cap_r * 2 : 32;
			struct dkim_field *f = arena_alloc(a, cap * sizeof(*f));
			if (*n_r > 0)
				memcpy(f, *f_r, *n_r * sizeof(*f));
			*f_r = f;
			*cap_r = cap;
		}
		(*f_r)[(*n_r)++] = (struct dkim_field){ msg + start, end - start, nl };
	}
	return len;
}

bool dkim_field_is(const struct dkim_field *f, const char *name, size_t name_len)
{
	return f->name_len == name_len && strncasecmp(f->p, name, name_len) == 0;
}

void dkim_canon_header_to(const char *field, size_t len, bool relaxed, struct dkim_sink *s)
{
	if (!relaxed) {
		/* simple: as is, with every line end CRLF */
		size_t i = 0;
		while (i < len) {
			const char *nl = memchr(field + i, '\n', len - i);
			if (nl == NULL) {
				dkim_sink_put(s, field + i, len - i);
				break;
			}
			size_t lf = (size_t)(nl - field);
			size_t e = lf > i && field[lf - 1] == '\r' ? lf - 1 : lf;
			dkim_sink_put(s, field + i, e - i);
			dkim_sink_put(s, "\r\n", 2);
			i = lf + 1;
		}
		return;
	}
	const char *colon = memchr(field, ':', len);
	if (colon == NULL)
		return;
	size_t nl = (size_t)(colon - field);
	while (nl > 0 && (is_wsp(field[nl - 1]) || field[nl - 1] == '\r' || field[nl - 1] == '\n'))
		nl--;
	char name[128];
	for (size_t i = 0; i < nl; i += sizeof(name)) {
		size_t k = nl - i < sizeof(name) ? nl - i : sizeof(name);
		for (size_t j = 0; j < k; j++) {
			char c = field[i + j];
			name[j] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		dkim_sink_put(s, name, k);
	}
	dkim_sink_put(s, ":", 1);
	/* the value: unfolded, WSP runs made one SP, none at the start or the end */
	size_t i = (size_t)(colon - field) + 1;
	bool pending_sp = false, started = false;
	while (i < len) {
		char c = field[i];
		if (is_wsp(c) || c == '\r' || c == '\n') {
			pending_sp = started;
			i++;
			continue;
		}
		size_t j = i;
		while (j < len && !is_wsp(field[j]) && field[j] != '\r' && field[j] != '\n')
			j++;
		if (pending_sp)
			dkim_sink_put(s, " ", 1);
		dkim_sink_put(s, field + i, j - i);
		pending_sp = false;
		started = true;
		i = j;
	}
}

/* One canonical body line (without its line end) into s. */
static void body_line(const char *p, size_t n, bool relaxed, struct dkim_sink *s)
{
	if (!relaxed) {
		dkim_sink_put(s, p, n);
		return;
	}
	size_t i = 0;
	bool pending_sp = false;
	while (i < n) {
		if (is_wsp(p[i])) {
			pending_sp = true;
			i++;
			continue;
		}
		size_t j = i;
		while (j < n && !is_wsp(p[j]))
			j++;
		if (pending_sp)
			dkim_sink_put(s, " ", 1);
		dkim_sink_put(s, p + i, j - i);
		pending_sp = false;
		i = j;
	}
}

/* Whether a line is empty once canonicalized. */
static bool line_empty(const char *p, size_t n, bool relaxed)
{
	if (!relaxed)
		return n == 0;
	for (size_t i = 0; i < n; i++)
		if (!is_wsp(p[i]))
			return false;
	return true;
}

void dkim_canon_body_to(const char *body, size_t len, bool relaxed, struct dkim_sink *s)
{
	size_t i = 0, empty = 0;
	bool any = false;
	while (i < len && s->written < s->limit) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t e, next;
		if (nl == NULL) {
			e = next = len; /* a last line without a line end gets one */
		} else {
			size_t lf = (size_t)(nl - body);
			e = lf > i && body[lf - 1] == '\r' ? lf - 1 : lf;
			next = lf + 1;
		}
		if (line_empty(body + i, e - i, relaxed)) {
			empty++;
		} else {
			for (; empty > 0; empty--)
				dkim_sink_put(s, "\r\n", 2);
			body_line(body + i, e - i, relaxed, s);
			dkim_sink_put(s, "\r\n", 2);
			any = true;
		}
		i = next;
	}
	if (!any && !relaxed)
		dkim_sink_put(s, "\r\n", 2); /* §3.4.3: an empty body is one CRLF */
}

char *dkim_canon_header_relaxed(const char *field, size_t len, struct arena *a, size_t *out_len_r)
{
	struct buf b = { 0 };
	struct dkim_sink s = { NULL, &b, ~0ULL, 0 };
	dkim_canon_header_to(field, len, true, &s);
	char *r = arena_strndup(a, b.data ? b.data : "", b.len);
	*out_len_r = b.len;
	buf_free(&b);
	return r;
}

char *dkim_canon_body(const char *body, size_t len, bool relaxed, struct arena *a, size_t *out_len_r)
{
	struct buf b = { 0 };
	struct dkim_sink s = { NULL, &b, ~0ULL, 0 };
	dkim_canon_body_to(body, len, relaxed, &s);
	char *r = arena_strndup(a, b.data ? b.data : "", b.len);
	*out_len_r = b.len;
	buf_free(&b);
	return r;
}
