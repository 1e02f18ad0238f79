/* authres_read.c: the Authentication-Results reader (authres.h; RFC 8601 §2.2, §5).
 *
 * Only the authserv-id matters here: a border MTA removes the fields that claim its
 * own (§5), so that nothing downstream trusts a result someone else wrote in our
 * name. The value begins with CFWS, then the authserv-id (an RFC 2045 token or a
 * quoted string), then optionally CFWS and a version, then ";" (or "none"). The
 * header fields come from a scan of the header block that knows folding (a line
 * that begins with a space or a tab continues the field) and ends at the first
 * empty line. Pure; every byte may be hostile. */
#include "authres.h"

#include <string.h>
#include <strings.h>

#define FIELD "Authentication-Results"

static bool is_tspecial(unsigned char c)
{
	return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

static bool is_token_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && !is_tspecial(c);
}

/* Skips whitespace, line ends and comments (nested, with quoted pairs) from *i.
 * Returns -1 on an unterminated comment. */
static int skip_cfws(const char *v, size_t len, size_t *i)
{
	while (*i < len) {
		char c = v[*i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			(*i)++;
			continue;
		}
		if (c != '(')
			return 0;
		unsigned depth = 0;
		do {
			c = v[*i];
			if (c == '\\') {
				(*i)++;
				if (*i >= len)
					return -1;
			} else if (c == '(') {
				depth++;
			} else if (c == ')') {
				depth--;
			}
			(*i)++;
		} while (depth > 0 && *i < len);
		if (depth > 0)
			return -1;
	}
	return 0;
}

int authres_parse_id(const char *v, size_t len, struct arena *a, const char **id_r)
{
	size_t i = 0;
	if (skip_cfws(v, len, &i) < 0 || i >= len)
		return -1;
	struct buf id = { 0 };
	if (v[i] == '"') {
		i++;
		for (;; i++) {
			if (i >= len) {
				buf_free(&id);
				return -1;
			}
			char c = v[i];
			if (c == '"')
				break;
			if (c == '\\') {
				if (++i >= len) {
					buf_free(&id);
					return -1;
				}
				c = v[i];
			} else if (c == '\r' || c == '\n') {
				continue; /* folding inside the quoted string */
			}
			buf_putc(&id, c);
		}
		i++;
	} else {
		size_t s = i;
		while (i < len && is_token_char((unsigned char)v[i]))
			i++;
		buf_append(&id, v + s, i - s);
	}
	if (id.len == 0) {
		buf_free(&id);
		return -1;
	}
	/* what may follow: CFWS, a version (digits), CFWS, then ";" or the end ("none"
	 * with no result comes after CFWS too) */
	bool ok = true;
	if (skip_cfws(v, len, &i) < 0)
		ok = false;
	if (ok && i < len && v[i] >= '0' && v[i] <= '9') {
		while (i < len && v[i] >= '0' && v[i] <= '9')
			i++;
		ok = skip_cfws(v, len, &i) == 0;
	}
	if (ok && i < len && v[i] != ';' && !(len - i >= 4 && strncasecmp(v + i, "none", 4) == 0))
		ok = false;
	if (ok)
		*id_r = arena_strndup(a, buf_str(&id), id.len);
	buf_free(&id);
	return ok ? 1 : -1;
}

/* The end of the line that starts at i: the index after its line end, and in
 * *content_end the index of the line end itself. */
static size_t line_end(const char *msg, size_t len, size_t i, size_t *content_end)
{
	const char *nl = memchr(msg + i, '\n', len - i);
	if (nl == NULL) {
		*content_end = len;
		return len;
	}
	size_t e = (size_t)(nl - msg);
	*content_end = e > i && msg[e - 1] == '\r' ? e - 1 : e;
	return e + 1;
}

size_t authres_find(const char *msg, size_t len, const char *id, struct arena *a, struct authres_span **spans_r)
{
	size_t n = 0, cap = 4;
	struct authres_span *spans = arena_alloc(a, cap * sizeof(*spans));
	size_t i = 0;
	while (i < len) {
		size_t ce;
		size_t next = line_end(msg, len, i, &ce);
		if (ce == i)
			break; /* the empty line: end of the header */
		size_t start = i;
		/* the field's continuation lines */
		while (next < len && (msg[next] == ' ' || msg[next] == '\t'))
			next = line_end(msg, len, next, &ce);
		i = next;
		const size_t fl = sizeof(FIELD) - 1;
		if (next - start <= fl || strncasecmp(msg + start, FIELD, fl) != 0)
			continue;
		size_t k = start + fl;
		while (k < next && (msg[k] == ' ' || msg[k] == '\t'))
			k++;
		if (k >= next || msg[k] != ':')
			continue;
		const char *found;
		bool ours = authres_parse_id(msg + k + 1, next - k - 1, a, &found) > 0 && strcasecmp(found, id) == 0;
		if (!ours)
			continue;
		if (n == cap) {
			struct authres_span *bigger = arena_alloc(a, 2 * cap * sizeof(*spans));
			memcpy(bigger, spans, n * sizeof(*spans));
			spans = bigger;
			cap *= 2;
		}
		spans[n++] = (struct authres_span){ start, next - start };
	}
	*spans_r = spans;
	return n;
}
