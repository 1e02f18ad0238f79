/* acme_http.c: the pure HTTP side of the ACME client: https URLs and the CA's
 * HTTP/1.1 responses (RFC 9112), parsed from the bytes read so far.
 *
 * The parser is re-run on the whole buffer as bytes arrive (answers are small and
 * size-limited), so it keeps no state: need-more, done or error. It reads the fields
 * ACME uses (Replay-Nonce, Location, Retry-After, Content-Type) and frames the body
 * by Content-Length, chunked coding or the end of the connection. */
#include "acme_int.h"

#include "arena.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int acme_url_parse(const char *url, struct acme_url *u, const char **error_r)
{
	if (strncasecmp(url, "https://", 8) != 0) {
		*error_r = "not an https URL";
		return -1;
	}
	if (strlen(url) > ACME_URL_MAX) {
		*error_r = "URL too long";
		return -1;
	}
	for (const char *c = url; *c; c++) {
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
			*error_r = "URL has a space or control character";
			return -1;
		}
	}
	const char *h = url + 8;
	const char *end = h + strcspn(h, "/?#");
	if (memchr(h, '@', (size_t)(end - h)) != NULL) {
		*error_r = "URL has user information";
		return -1;
	}
	const char *host = h, *hend, *port = NULL;
	if (*h == '[') {
		host = h + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		if (hend == NULL) {
			*error_r = "URL has a bad IPv6 address";
			return -1;
		}
		if (hend + 1 < end) {
			if (hend[1] != ':') {
				*error_r = "URL has a bad port";
				return -1;
			}
			port = hend + 2;
		}
	} else {
		hend = memchr(host, ':', (size_t)(end - host));
		if (hend != NULL)
			port = hend + 1;
		else
			hend = end;
	}
	size_t hl = (size_t)(hend - host);
	if (hl == 0 || hl > ACME_HOST_MAX) {
		*error_r = "URL has no host";
		return -1;
	}
	memcpy(u->host, host, hl);
	u->host[hl] = '\0';
	if (port != NULL) {
		size_t pl = (size_t)(end - port);
		long p = 0;
		for (size_t i = 0; i < pl; i++) {
			if (!isdigit((unsigned char)port[i]) || (p = p * 10 + (port[i] - '0')) > 65535) {
				*error_r = "URL has a bad port";
				return -1;
			}
		}
		if (pl == 0 || p == 0) {
			*error_r = "URL has a bad port";
			return -1;
		}
		snprintf(u->port, sizeof(u->port), "%u", (unsigned)p & 0xffffu); /* pl may be > 5: leading zeros */
	} else {
		strcpy(u->port, "443");
	}
	const char *path = end;
	size_t plen = strcspn(path, "#");
	if (plen == 0 || path[0] != '/') {
		u->path[0] = '/';
		memcpy(u->path + 1, path, plen);
		u->path[plen + 1] = '\0';
	} else {
		memcpy(u->path, path, plen);
		u->path[plen] = '\0';
	}
	return 1;
}

static const unsigned char *find_crlf(const unsigned char *p, const unsigned char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

/* The field value with surrounding blanks removed, in a. */
static char *field_value(struct arena *a, const unsigned char *v, const unsigned char *end)
{
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return arena_strndup(a, (const char *)v, (size_t)(end - v));
}

static bool all_digits(const char *s)
{
	if (*s == '\0' || strlen(s) > 18)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Dechunks data[0..len) (RFC 9112 §7.1). Returns 1 with the body, 0 need more, -1. */
static int dechunk(const unsigned char *p, const unsigned char *end, size_t body_max, struct arena *a,
		   unsigned char **body_r, size_t *len_r, const char **error_r)
{
	size_t total = 0;
	/* first pass: sizes and completeness; second: copy */
	for (int pass = 0; pass < 2; pass++) {
		unsigned char *out = pass == 1 ? arena_alloc(a, total + 1) : NULL;
		size_t at = 0;
		const unsigned char *q = p;
		for (;;) {
			const unsigned char *eol = find_crlf(q, end);
			if (eol == NULL) {
				if (end - q > 64) {
					*error_r = "chunk size line too long";
					return -1;
				}
				return 0;
			}
			size_t size = 0;
			const unsigned char *s = q;
			if (s == eol || !isxdigit(*s)) {
				*error_r = "bad chunk size";
				return -1;
			}
			for (; s < eol && isxdigit(*s); s++) {
				int d = isdigit(*s) ? *s - '0' : (tolower(*s) - 'a' + 10);
				size = size * 16 + (size_t)d;
				if (size > body_max) {
					*error_r = "response body too large";
					return -1;
				}
			}
			if (s < eol && *s != ';' && *s != ' ' && *s != '\t') {
				*error_r = "bad chunk size";
				return -1;
			}
			q = eol + 2;
			if (size == 0) {
				/* trailer fields, then an empty line */
				for (;;) {
					const unsigned char *t = find_crlf(q, end);
					if (t == NULL)
						return 0;
					if (t == q)
						break;
					q = t + 2;
				}
				if (pass == 1) {
					out[at] = '\0';
					*body_r = out;
					*len_r = at;
				}
				break;
			}
			if ((size_t)(end - q) < size + 2)
				return 0;
			if (q[size] != '\r' || q[size + 1] != '\n') {
				*error_r = "chunk not followed by CRLF";
				return -1;
			}
			if (pass == 0) {
				total += size;
				if (total > body_max) {
					*error_r = "response body too large";
					return -1;
				}
			} else {
				memcpy(out + at, q, size);
				at += size;
			}
			q += size + 2;
		}
	}
	return 1;
}

int acme_http_response_parse(const unsigned char *data, size_t len, bool eof, size_t body_max, struct arena *a,
			     struct acme_http_response *r, const char **error_r)
{
	const unsigned char *end = data + len;
	*r = (struct acme_http_response){ .retry_after = -1 };
	/* the head: status line and fields up to the empty line */
	const unsigned char *head_end = NULL;
	for (const unsigned char *p = data; p + 3 < end; p++) {
		if (memcmp(p, "\r\n\r\n", 4) == 0) {
			head_end = p;
			break;
		}
	}
	if (head_end == NULL) {
		if (len > ACME_HTTP_HEAD_MAX) {
			*error_r = "response head too long";
			return -1;
		}
		if (eof) {
			*error_r = "connection closed before the response head ended";
			return -1;
		}
		return 0;
	}
	if (head_end - data > ACME_HTTP_HEAD_MAX) {
		*error_r = "response head too long";
		return -1;
	}
	const unsigned char *eol = find_crlf(data, head_end + 2);
	if (eol - data < 12 || memcmp(data, "HTTP/1.", 7) != 0 || (data[7] != '0' && data[7] != '1') ||
	    data[8] != ' ' || !isdigit(data[9]) || !isdigit(data[10]) || !isdigit(data[11]) ||
	    (eol - data > 12 && data[12] != ' ')) {
		*error_r = "bad HTTP status line";
		return -1;
	}
	r->status = (data[9] - '0') * 100 + (data[10] - '0') * 10 + (data[11] - '0');
	if (r->status < 100) {
		*error_r = "bad HTTP status code";
		return -1;
	}
	bool chunked = false;
	long long clen = -1;
	for (const unsigned char *p = eol + 2; p < head_end + 2;) {
		const unsigned char *e = find_crlf(p, head_end + 2);
		const unsigned char *colon = memchr(p, ':', (size_t)(e - p));
		if (colon == NULL || colon == p) {
			*error_r = "bad header field";
			return -1;
		}
		for (const unsigned char *c = p; c < colon; c++) {
			if (*c <= 0x20 || *c >= 0x7f) {
				*error_r = "bad header field name";
				return -1;
			}
		}
		for (const unsigned char *c = colon + 1; c < e; c++) {
			if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
				*error_r = "control character in a header field";
				return -1;
			}
		}
		size_t nl = (size_t)(colon - p);
		const char *name = (const char *)p;
#define IS(f) (nl == sizeof(f) - 1 && strncasecmp(name, f, nl) == 0)
		if (IS("Replay-Nonce")) {
			r->nonce = field_value(a, colon + 1, e);
		} else if (IS("Location")) {
			r->location = field_value(a, colon + 1, e);
		} else if (IS("Retry-After")) {
			char *v = field_value(a, colon + 1, e);
			r->retry_after = all_digits(v) ? strtol(v, NULL, 10) : -1;
		} else if (IS("Content-Type")) {
			char *v = field_value(a, colon + 1, e);
			v[strcspn(v, "; \t")] = '\0';
			for (char *c = v; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			r->ctype = v;
		} else if (IS("Content-Length")) {
			char *v = field_value(a, colon + 1, e);
			if (!all_digits(v) || (clen >= 0 && clen != strtoll(v, NULL, 10))) {
				*error_r = "bad Content-Length";
				return -1;
			}
			clen = strtoll(v, NULL, 10);
		} else if (IS("Transfer-Encoding")) {
			char *v = field_value(a, colon + 1, e);
			if (strcasecmp(v, "chunked") != 0) {
				*error_r = "unsupported Transfer-Encoding";
				return -1;
			}
			chunked = true;
		}
#undef IS
		p = e + 2;
	}
	const unsigned char *body = head_end + 4;
	size_t have = (size_t)(end - body);
	unsigned char *out;
	if (chunked) {
		int k = dechunk(body, end, body_max, a, &out, &r->body_len, error_r);
		if (k == 0 && eof) {
			*error_r = "connection closed inside a chunked body";
			return -1;
		}
		if (k <= 0)
			return k;
		r->body = out;
		return 1;
	}
	if (clen >= 0) {
		if ((unsigned long long)clen > body_max) {
			*error_r = "response body too large";
			return -1;
		}
		if (have < (size_t)clen) {
			if (eof) {
				*error_r = "connection closed before the body ended";
				return -1;
			}
			return 0;
		}
		have = (size_t)clen;
	} else if (r->status == 204 || r->status == 304 || r->status < 200) {
		have = 0;
	} else {
		if (have > body_max) {
			*error_r = "response body too large";
			return -1;
		}
		if (!eof)
			return 0;
	}
	out = arena_alloc(a, have + 1);
	memcpy(out, body, have);
	out[have] = '\0';
	r->body = out;
	r->body_len = have;
	return 1;
}
