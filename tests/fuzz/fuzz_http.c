/* fuzz_http.c: libFuzzer target for http_parse_request (src/proto/http).
 *
 * The parser is incremental: it gets all bytes buffered so far. Invariants checked:
 *  - one result: -1 with a status among 400 413 431 501 505 and a text, 0, or 1;
 *  - on success the head ends with an empty line, head_len <= input length, every
 *    view points inside the head, the method and field names are RFC 9110 tokens,
 *    the target has no space or control byte, field values have no CR, LF or other
 *    control byte and no surrounding whitespace, the version is HTTP/1.0 or HTTP/1.1,
 *    framing is never both chunked and Content-Length (RFC 9112 §6.3), and
 *    content_length agrees with every Content-Length field;
 *  - incremental feeding: every prefix returns 0 or the whole input's result (same
 *    status and text, or the same head at the same offsets); with a complete head,
 *    exactly the prefixes shorter than head_len return 0. Each prefix is copied to
 *    the end of an exact-size allocation so that ASan sees any read past its end;
 *  - pipelining: after a complete head (and a Content-Length body), the rest of the
 *    input is parsed as the next request with the same checks. */
#include "fuzz.h"
#include "http_parse.h"

#include <string.h>

struct result {
	int r, status;
	const char *error;
	struct http_request req;
};

static bool tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool token(struct bytes v)
{
	if (v.len == 0)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (!tchar((unsigned char)v.p[i]))
			return false;
	}
	return true;
}

static void check_one(const char *p, size_t len, const struct result *res)
{
	const struct http_request *req = &res->req;
	CHECK(res->r >= -1 && res->r <= 1);
	if (res->r < 0) {
		CHECK(res->status == 400 || res->status == 413 || res->status == 431 || res->status == 501 ||
		      res->status == 505);
		CHECK(res->error != NULL && res->error[0] != '\0');
		return;
	}
	if (res->r == 0)
		return;
	size_t h = req->head_len;
	CHECK(h > 0 && h <= len);
	CHECK(p[h - 1] == '\n');
	CHECK(h >= 2 && (p[h - 2] == '\n' || (p[h - 2] == '\r' && h >= 3 && p[h - 3] == '\n')));
	CHECK(view_inside(req->method, p, h) && view_inside(req->target, p, h) && view_inside(req->version, p, h));
	CHECK(token(req->method));
	CHECK(req->target.len > 0);
	for (size_t i = 0; i < req->target.len; i++) {
		unsigned char c = (unsigned char)req->target.p[i];
		CHECK(c > ' ' && c < 0x7f);
	}
	CHECK((bytes_eq(req->version, "HTTP/1.1") && req->minor == 1) ||
	      (bytes_eq(req->version, "HTTP/1.0") && req->minor == 0));
	CHECK(req->nheaders >= 0 && req->nheaders <= HTTP_MAX_HEADERS);
	bool seen_length = false, seen_chunked = false;
	for (int i = 0; i < req->nheaders; i++) {
		struct bytes name = req->headers[i].name, value = req->headers[i].value;
		CHECK(view_inside(name, p, h) && view_inside(value, p, h));
		CHECK(token(name));
		for (size_t j = 0; j < value.len; j++) {
			unsigned char c = (unsigned char)value.p[j];
			CHECK(c >= ' ' || c == '\t');
			CHECK(c != 0x7f);
		}
		if (value.len > 0) {
			CHECK(value.p[0] != ' ' && value.p[0] != '\t');
			CHECK(value.p[value.len - 1] != ' ' && value.p[value.len - 1] != '\t');
		}
		if (bytes_ieq(name, "Content-Length")) {
			uint64_t n;
			CHECK(buf_parse_uint64(value, UINT64_MAX, &n) > 0 && n == req->content_length);
			seen_length = true;
		}
		if (bytes_ieq(name, "Transfer-Encoding"))
			seen_chunked = seen_chunked || bytes_ieq(value, "chunked");
	}
	CHECK(seen_length == req->has_length);
	CHECK(seen_chunked == req->chunked);
	CHECK(!(req->chunked && req->has_length));
}

/* Parses len bytes of p from an exact-size copy; views are translated back to p. */
static void parse_exact(const char *p, size_t len, struct result *res)
{
	char *copy = malloc(len ? len : 1);
	CHECK(copy != NULL);
	if (len > 0)
		memcpy(copy, p, len);
	memset(res, 0xa5, sizeof(*res));
	res->error = NULL;
	res->r = http_parse_request((struct bytes){ copy, len }, &res->req, &res->status, &res->error);
	if (res->r > 0) {
		struct http_request *req = &res->req;
#define MOVE(v) ((v).p = p + ((v).p - copy))
		MOVE(req->method);
		MOVE(req->target);
		MOVE(req->version);
		for (int i = 0; i < req->nheaders && i < HTTP_MAX_HEADERS; i++) {
			MOVE(req->headers[i].name);
			MOVE(req->headers[i].value);
		}
#undef MOVE
	}
	free(copy);
	check_one(p, len, res);
}

static bool same(const struct result *a, const struct result *b)
{
	if (a->r != b->r)
		return false;
	if (a->r < 0)
		return a->status == b->status && a->error == b->error;
	if (a->r == 0)
		return true;
	return memcmp(&a->req, &b->req, sizeof(a->req)) == 0;
}

static void check_prefixes(const char *p, size_t len, const struct result *whole)
{
	size_t step = len <= 1024 ? 1 : len / 512;
	bool done = false;
	for (size_t k = 0; k < len; k += step) {
		struct result pre;
		parse_exact(p, k, &pre);
		if (pre.r != 0) {
			CHECK(same(&pre, whole));
			done = true;
		} else {
			CHECK(!done); /* once complete or failed, more bytes do not undo it */
		}
		if (whole->r > 0)
			CHECK((pre.r == 0) == (k < whole->req.head_len));
		if (whole->r == 0)
			CHECK(pre.r == 0);
	}
	if (whole->r > 0) {
		struct result at;
		size_t h = whole->req.head_len;
		parse_exact(p, h, &at);
		CHECK(same(&at, whole));
		parse_exact(p, h - 1, &at);
		CHECK(at.r == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct result whole;
	parse_exact(p, size, &whole);
	check_prefixes(p, size, &whole);
	/* pipelined requests */
	size_t off = 0;
	struct result cur = whole;
	for (int n = 0; n < 16 && cur.r > 0; n++) {
		off += cur.req.head_len;
		if (cur.req.has_length) {
			if (cur.req.content_length > size - off)
				break;
			off += cur.req.content_length;
		}
		if (off >= size)
			break;
		parse_exact(p + off, size - off, &cur);
	}
	return 0;
}
