/* http_parse.c: HTTP/1.1 request heads (see http_parse.h).
 *
 * RFC 9112 §3: request-line = method SP request-target SP HTTP-version CRLF;
 * §5: field-line = field-name ":" OWS field-value OWS. Obsolete line folding is
 * rejected (§5.2 allows that with 400). Leading empty lines are skipped (§2.2). */
#include "http_parse.h"

#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int fail(int *status_r, const char **error_r, int status, const char *msg)
{
	*status_r = status;
	*error_r = msg;
	return -1;
}

struct bytes http_header_get(const struct http_request *req, const char *name)
{
	for (int i = 0; i < req->nheaders; i++) {
		if (bytes_ieq(req->headers[i].name, name))
			return req->headers[i].value;
	}
	return (struct bytes){ "", 0 };
}

/* True when the comma-separated list v contains token tok. */
static bool list_has(struct bytes v, const char *tok)
{
	size_t i = 0;
	while (i < v.len) {
		size_t start = i;
		while (i < v.len && v.p[i] != ',')
			i++;
		if (bytes_ieq(bytes_trim((struct bytes){ v.p + start, i - start }), tok))
			return true;
		i++;
	}
	return false;
}

int http_parse_request(struct bytes in, struct http_request *req_r, int *status_r, const char **error_r)
{
	memset(req_r, 0, sizeof(*req_r));
	if (in.len == 0)
		return 0;
	size_t pos = 0;
	while (pos < in.len && (in.p[pos] == '\r' || in.p[pos] == '\n'))
		pos++;
	size_t eol;
	struct bytes rest = { in.p + pos, in.len - pos };
	ptrdiff_t n = bytes_find_eol(rest, &eol);
	if (n < 0)
		return 0;
	struct bytes line = { rest.p, (size_t)n };
	/* request line */
	const char *sp1 = memchr(line.p, ' ', line.len);
	if (sp1 == NULL)
		return fail(status_r, error_r, 400, "malformed request line");
	req_r->method = (struct bytes){ line.p, (size_t)(sp1 - line.p) };
	const char *sp2 = memchr(sp1 + 1, ' ', line.len - (size_t)(sp1 + 1 - line.p));
	if (sp2 == NULL)
		return fail(status_r, error_r, 400, "malformed request line");
	req_r->target = (struct bytes){ sp1 + 1, (size_t)(sp2 - sp1 - 1) };
	req_r->version = (struct bytes){ sp2 + 1, line.len - (size_t)(sp2 + 1 - line.p) };
	if (req_r->method.len == 0 || req_r->target.len == 0)
		return fail(status_r, error_r, 400, "malformed request line");
	for (size_t i = 0; i < req_r->method.len; i++) {
		if (!is_tchar((unsigned char)req_r->method.p[i]))
			return fail(status_r, error_r, 400, "bad method");
	}
	for (size_t i = 0; i < req_r->target.len; i++) {
		unsigned char c = (unsigned char)req_r->target.p[i];
		if (c <= ' ' || c >= 0x7f)
			return fail(status_r, error_r, 400, "bad request target");
	}
	if (bytes_eq(req_r->version, "HTTP/1.1"))
		req_r->minor = 1;
	else if (bytes_eq(req_r->version, "HTTP/1.0"))
		req_r->minor = 0;
	else if (bytes_iprefix(req_r->version, "HTTP/"))
		return fail(status_r, error_r, 505, "HTTP version not supported");
	else
		return fail(status_r, error_r, 400, "malformed request line");
	req_r->keep_alive = req_r->minor == 1;
	rest.p += (size_t)n + eol;
	rest.len -= (size_t)n + eol;
	/* header fields */
	for (;;) {
		n = bytes_find_eol(rest, &eol);
		if (n < 0)
			return 0;
		line = (struct bytes){ rest.p, (size_t)n };
		rest.p += (size_t)n + eol;
		rest.len -= (size_t)n + eol;
		if (line.len == 0)
			break;
		if (line.p[0] == ' ' || line.p[0] == '\t')
			return fail(status_r, error_r, 400, "obsolete line folding");
		const char *colon = memchr(line.p, ':', line.len);
		if (colon == NULL || colon == line.p)
			return fail(status_r, error_r, 400, "malformed header field");
		struct bytes name = { line.p, (size_t)(colon - line.p) };
		for (size_t i = 0; i < name.len; i++) {
			if (!is_tchar((unsigned char)name.p[i]))
				return fail(status_r, error_r, 400, "malformed header field name");
		}
		struct bytes value = bytes_trim((struct bytes){ colon + 1, line.len - name.len - 1 });
		for (size_t i = 0; i < value.len; i++) {
			unsigned char c = (unsigned char)value.p[i];
			if ((c < ' ' && c != '\t') || c == 0x7f)
				return fail(status_r, error_r, 400, "control character in header field");
		}
		if (req_r->nheaders == HTTP_MAX_HEADERS)
			return fail(status_r, error_r, 431, "too many header fields");
		req_r->headers[req_r->nheaders++] = (struct http_header){ name, value };
		if (bytes_ieq(name, "Content-Length")) {
			uint64_t len;
			if (buf_parse_uint64(value, UINT64_MAX / 2, &len) < 0 ||
			    (req_r->has_length && len != req_r->content_length))
				return fail(status_r, error_r, 400, "bad Content-Length");
			req_r->has_length = true;
			req_r->content_length = len;
		} else if (bytes_ieq(name, "Transfer-Encoding")) {
			if (!bytes_ieq(value, "chunked"))
				return fail(status_r, error_r, 501, "unsupported transfer coding");
			req_r->chunked = true;
		} else if (bytes_ieq(name, "Connection")) {
			if (list_has(value, "close"))
				req_r->keep_alive = false;
			else if (list_has(value, "keep-alive"))
				req_r->keep_alive = true;
		}
	}
	/* RFC 9112 §6.3: both framing headers at once is a smuggling attempt */
	if (req_r->chunked && req_r->has_length)
		return fail(status_r, error_r, 400, "both Content-Length and Transfer-Encoding");
	req_r->head_len = (size_t)(rest.p - in.p);
	return 1;
}
